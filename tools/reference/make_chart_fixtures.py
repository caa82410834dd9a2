#!/usr/bin/env python3
"""Generate colour-chart reference fixtures: CIEDE2000 on Sharma's test data and the
ColorChecker Classic reference colours adapted to D65.

Writes tests/fixtures/reference/chart.json.

Run from the repo root inside the reference venv (needs colour-science as well):
    /work/venv-ref/bin/pip install colour-science==0.4.7
    /work/venv-ref/bin/python tools/reference/make_chart_fixtures.py

Sources:
- The 34 CIEDE2000 test pairs and their published differences (4 decimals) are those of
  Sharma G, Wu W, Dalal EN, "The CIEDE2000 color-difference formula: implementation notes,
  supplementary test data, and mathematical observations", Color Res Appl 2005;30:21-30
  (doi:10.1002/col.20070), Table 1, as typed in colour-science's test suite
  (colour/difference/tests/test_delta_e.py, which leaves out pair 14; it is added here from
  the paper: (50, -0.0010, 2.4900) vs (50, 0.0010, -2.4900), 4.8045). Each pair is also
  computed by scikit-image's `deltaE_ciede2000` and colour-science's `delta_E_CIE2000`.
- The ColorChecker Classic values are X-Rite's post-November-2014 CIE L*a*b* (D50, 2 deg)
  as shipped by colour-science (`DATA_COLORCHECKER24_AFTER_NOV2014_CIE_LAB`). They are
  converted to XYZ (ICC D50 white), adapted to D65 (skintex's white 0.95047, 1, 1.08883) with
  colour-science's Bradford `chromatic_adaptation_VonKries`, then to L*a*b* D65
  (`XYZ_to_Lab`) and linear sRGB with scikit-image's `rgb_from_xyz` matrix.
"""
from __future__ import annotations

import numpy as np
import colour
from colour.characterisation.datasets.colour_checkers import chromaticity_coordinates as cc
from skimage.color import deltaE_ciede2000
from skimage.color.colorconv import rgb_from_xyz

from _refcommon import FIXTURE_DIR, log, provenance, write_json

# Sharma 2005 Table 1 (pair 14 from the paper, the rest as in colour-science's tests).
LAB1 = [
    [50.0000, 2.6772, -79.7751], [50.0000, 3.1571, -77.2803], [50.0000, 2.8361, -74.0200],
    [50.0000, -1.3802, -84.2814], [50.0000, -1.1848, -84.8006], [50.0000, -0.9009, -85.5211],
    [50.0000, 0.0000, 0.0000], [50.0000, -1.0000, 2.0000], [50.0000, 2.4900, -0.0010],
    [50.0000, 2.4900, -0.0010], [50.0000, 2.4900, -0.0010], [50.0000, 2.4900, -0.0010],
    [50.0000, -0.0010, 2.4900], [50.0000, -0.0010, 2.4900], [50.0000, -0.0010, 2.4900],
    [50.0000, 2.5000, 0.0000], [50.0000, 2.5000, 0.0000], [50.0000, 2.5000, 0.0000],
    [50.0000, 2.5000, 0.0000], [50.0000, 2.5000, 0.0000], [50.0000, 2.5000, 0.0000],
    [50.0000, 2.5000, 0.0000], [50.0000, 2.5000, 0.0000], [50.0000, 2.5000, 0.0000],
    [60.2574, -34.0099, 36.2677], [63.0109, -31.0961, -5.8663], [61.2901, 3.7196, -5.3901],
    [35.0831, -44.1164, 3.7933], [22.7233, 20.0904, -46.6940], [36.4612, 47.8580, 18.3852],
    [90.8027, -2.0831, 1.4410], [90.9257, -0.5406, -0.9208], [6.7747, -0.2908, -2.4247],
    [2.0776, 0.0795, -1.1350],
]
LAB2 = [
    [50.0000, 0.0000, -82.7485], [50.0000, 0.0000, -82.7485], [50.0000, 0.0000, -82.7485],
    [50.0000, 0.0000, -82.7485], [50.0000, 0.0000, -82.7485], [50.0000, 0.0000, -82.7485],
    [50.0000, -1.0000, 2.0000], [50.0000, 0.0000, 0.0000], [50.0000, -2.4900, 0.0009],
    [50.0000, -2.4900, 0.0010], [50.0000, -2.4900, 0.0011], [50.0000, -2.4900, 0.0012],
    [50.0000, 0.0009, -2.4900], [50.0000, 0.0010, -2.4900], [50.0000, 0.0011, -2.4900],
    [50.0000, 0.0000, -2.5000], [73.0000, 25.0000, -18.0000], [61.0000, -5.0000, 29.0000],
    [56.0000, -27.0000, -3.0000], [58.0000, 24.0000, 15.0000], [50.0000, 3.1736, 0.5854],
    [50.0000, 3.2972, 0.0000], [50.0000, 1.8634, 0.5757], [50.0000, 3.2592, 0.3350],
    [60.4626, -34.1751, 39.4387], [62.8187, -29.7946, -4.0864], [61.4292, 2.2480, -4.9620],
    [35.0232, -40.0716, 1.5901], [23.0331, 14.9730, -42.5619], [36.2715, 50.5065, 21.2231],
    [91.1528, -1.6435, 0.0447], [88.6381, -0.8985, -0.7239], [5.8714, -0.0985, -2.2286],
    [0.9033, -0.0636, -0.5514],
]
PUBLISHED = [
    2.0425, 2.8615, 3.4412, 1.0000, 1.0000, 1.0000, 2.3669, 2.3669, 7.1792, 7.1792, 7.2195,
    7.2195, 4.8045, 4.8045, 4.7461, 4.3065, 27.1492, 22.8977, 31.9030, 19.4535, 1.0000,
    1.0000, 1.0000, 1.0000, 1.2644, 1.2630, 1.8731, 1.8645, 2.0373, 1.4146, 1.4441, 1.5381,
    0.6377, 0.9082,
]

D65 = np.array([0.95047, 1.0, 1.08883])


def main() -> None:
    lab1, lab2 = np.array(LAB1), np.array(LAB2)
    sk = deltaE_ciede2000(lab1, lab2)
    co = colour.delta_E(lab1, lab2, method="CIE 2000")
    worst = np.max(np.abs(sk - np.array(PUBLISHED)))
    log(f"max |skimage - published| = {worst:.2e}")
    assert worst < 1e-4 + 5e-5, worst
    pairs = [
        {"lab1": a, "lab2": b, "published": p, "skimage": float(s), "colour": float(c)}
        for a, b, p, s, c in zip(LAB1, LAB2, PUBLISHED, sk, co)
    ]

    d50_xy = cc.CCS_ILLUMINANT_COLORCHECKER24_AFTER_NOV2014
    d50 = colour.xyY_to_XYZ(np.array([d50_xy[0], d50_xy[1], 1.0]))
    patches = []
    for name, lab in cc.DATA_COLORCHECKER24_AFTER_NOV2014_CIE_LAB.items():
        lab = np.asarray(lab, dtype=float)
        xyz50 = colour.Lab_to_XYZ(lab, d50_xy)
        xyz65 = colour.adaptation.chromatic_adaptation_VonKries(xyz50, d50, D65, transform="Bradford")
        lab65 = colour.XYZ_to_Lab(xyz65, colour.XYZ_to_xy(D65))
        rgb = rgb_from_xyz @ xyz65
        patches.append({
            "name": name, "lab_d50": lab, "xyz_d50": xyz50, "xyz_d65": xyz65,
            "lab_d65": lab65, "linear_srgb": rgb,
        })
    write_json(FIXTURE_DIR / "chart.json", {
        "provenance": provenance(__file__, ["numpy", "scikit-image", "colour-science"]),
        "d50_white_xyz": d50,
        "d65_white_xyz": D65,
        "sharma_2005": pairs,
        "colorchecker24_after_nov2014": patches,
    })
    log("wrote chart.json")


if __name__ == "__main__":
    main()
