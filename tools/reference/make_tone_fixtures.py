#!/usr/bin/env python3
"""Generate colour / skin-tone reference fixtures (sRGB -> linear RGB -> XYZ
-> CIE L*a*b* D65/2deg, and ITA).

Writes tests/fixtures/reference/tone.json.

Run from the repo root inside the reference venv:
    /work/venv-ref/bin/python tools/reference/make_tone_fixtures.py
"""
from __future__ import annotations

import math

import numpy as np
from skimage.color import rgb2lab, rgb2xyz, xyz_tristimulus_values
from skimage.color.colorconv import xyz_from_rgb

from _refcommon import FIXTURE_DIR, log, provenance, write_json

COLOURS = [
    ("black", (0, 0, 0)),
    ("white", (255, 255, 255)),
    ("grey128", (128, 128, 128)),
    ("red", (255, 0, 0)),
    ("green", (0, 255, 0)),
    ("blue", (0, 0, 255)),
    ("skin_very_light", (255, 224, 196)),
    ("skin_light", (241, 194, 125)),
    ("skin_intermediate", (224, 172, 105)),
    ("skin_tan", (198, 134, 66)),
    ("skin_brown", (141, 85, 36)),
    ("skin_dark", (92, 51, 23)),
    ("dark_grey10", (10, 10, 10)),  # below the 0.04045 sRGB linear-segment threshold
]

NEUTRAL_NAMES = {"black", "white", "grey128", "dark_grey10"}


def srgb_to_linear(v8: np.ndarray) -> np.ndarray:
    v = v8.astype(np.float64) / 255.0
    return np.where(v > 0.04045, ((v + 0.055) / 1.055) ** 2.4, v / 12.92)


def np_lab(rgb8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lin = srgb_to_linear(np.asarray(rgb8))
    xyz = xyz_from_rgb @ lin
    white = np.array([0.95047, 1.0, 1.08883])
    t = xyz / white
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16.0 / 116.0)
    L = 116.0 * f[1] - 16.0
    a = 500.0 * (f[0] - f[1])
    b = 200.0 * (f[1] - f[2])
    return lin, xyz, np.array([L, a, b])


DEFINITIONS = {
    "input": "8-bit sRGB triplets (R, G, B) in 0..255; skimage converts uint8 to float by v/255.",
    "linear_rgb": "sRGB inverse transfer (IEC 61966-2-1 as coded in skimage.color.rgb2xyz): u = v/255; "
    "lin = ((u + 0.055)/1.055)^2.4 if u > 0.04045 else u/12.92.",
    "xyz": "XYZ = M @ lin, with skimage's M = [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], "
    "[0.019334, 0.119193, 0.950227]] (skimage.color.colorconv.xyz_from_rgb; note these are the older "
    "4-decimal-ish coefficients, not the IEC 0.4124/0.3576/0.1805 set).",
    "lab": "skimage.color.rgb2lab(rgb, illuminant='D65', observer='2'): white (Xn, Yn, Zn) = "
    "(0.95047, 1.0, 1.08883); t = XYZ/white; f(t) = cbrt(t) if t > 0.008856 else 7.787*t + 16/116; "
    "L* = 116 f(Y) - 16; a* = 500 (f(X) - f(Y)); b* = 200 (f(Y) - f(Z)). The thresholds are the rounded "
    "0.008856 / 7.787 (not the exact CIE 216/24389 and 841/108), so Rust must use these constants "
    "to match within 1e-6.",
    "neutral_artifact": "Because the row sums of M (0.950456, 1.0, 1.088754) differ slightly from the D65 white "
    "used (0.95047, 1.0, 1.08883), neutral greys and white get tiny non-zero a*, b* (|b*| ~ 1e-2 or less) "
    "from skimage. Those are reproduced here as-is.",
    "ITA": "ITA (individual typology angle, degrees) = atan((L* - 50)/b*) * 180/pi, computed only if |b*| > 1e-6 "
    "(otherwise null). This is plain atan, NOT atan2, so it lies in (-90, 90). For neutral colours (flagged "
    "'neutral': true) b* is only a rounding artefact and the ITA is meaningless.",
    "numpy_crosscheck": "make_tone_fixtures.py recomputes linear RGB, XYZ and Lab with the formulas above in "
    "plain numpy and asserts agreement with skimage to 1e-12.",
}


def main():
    white = xyz_tristimulus_values(illuminant="D65", observer="2")
    result = {
        "provenance": provenance(__file__, ["numpy", "scikit-image"]),
        "definitions": DEFINITIONS,
        "illuminant": "D65",
        "observer": "2",
        "white_xyz": white,
        "xyz_from_linear_rgb": xyz_from_rgb,
        "colours": [],
    }
    worst = 0.0
    for name, rgb in COLOURS:
        arr = np.array([[rgb]], dtype=np.uint8)  # 1x1 image
        lab = rgb2lab(arr)[0, 0].astype(np.float64)
        xyz = rgb2xyz(arr)[0, 0].astype(np.float64)
        lin, xyz_np, lab_np = np_lab(rgb)
        worst = max(worst, float(np.max(np.abs(lab - lab_np))), float(np.max(np.abs(xyz - xyz_np))))
        L, a, b = (float(v) for v in lab)
        ita = math.atan((L - 50.0) / b) * 180.0 / math.pi if abs(b) > 1e-6 else None
        result["colours"].append(
            {
                "name": name,
                "srgb8": list(rgb),
                "linear_rgb": lin,
                "xyz": xyz,
                "lab": [L, a, b],
                "ita_deg": ita,
                "neutral": name in NEUTRAL_NAMES,
            }
        )
        log(f"{name:18s} rgb={rgb} Lab=({L:.4f}, {a:.4f}, {b:.6f}) ITA={ita}")
    assert worst < 1e-12, worst
    result["numpy_vs_skimage_max_abs_diff"] = worst
    out = FIXTURE_DIR / "tone.json"
    write_json(out, result)
    log("wrote", out)


if __name__ == "__main__":
    main()
