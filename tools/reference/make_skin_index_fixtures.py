#!/usr/bin/env python3
"""Generate reference values of the erythema and melanin indices (src/metrics/tone.rs).

Writes tests/fixtures/reference/skin_indices.json: a few fixed 8-bit sRGB patches (seeded
synthetic skin, an erythematous blotch under a disc-shaped zone mask, very dark skin in the
linear segment of the sRGB curve, and a crop of the demo image data/demo/phantom-001.png),
each with its zone mask, the mean linear-light R and G over the mask, and the indices.

The formula is taken from the literature the Rust doc comment cites, and implemented here on
its own (not from skintex's code): Diffey BL, Oliver RI, Farr PM, "A portable instrument for
quantifying erythema induced by ultraviolet radiation", Br J Dermatol 1984;111:663-672,
doi:10.1111/j.1365-2133.1984.tb14149.x, define, from the reflectances R_red and R_green,

    erythema index E = 100 [log10(1/R_green) - log10(1/R_red)]
    melanin index  M = 100 log10(1/R_red)

applied to camera RGB (linear light, relative to the camera white 1.0) as in Yamamoto T et al.,
Skin Res Technol 2008;14:26-34, doi:10.1111/j.1600-0846.2007.00256.x; the reflectances of a
zone are the mean linear R and G over its pixels. sRGB decoding: IEC 61966-2-1
(u = v/255; lin = ((u + 0.055)/1.055)^2.4 if u > 0.04045 else u/12.92), cross-checked against
scikit-image's rgb2xyz followed by the inverse of its RGB->XYZ matrix.

Run from the repo root inside the reference venv:
    /work/venv-ref/bin/python tools/reference/make_skin_index_fixtures.py
"""
from __future__ import annotations

import math

import numpy as np
from skimage import io
from skimage.color import rgb2xyz
from skimage.color.colorconv import xyz_from_rgb

from _refcommon import FIXTURE_DIR, REPO_ROOT, log, provenance, sha256_file, write_json

DEMO_IMAGE = "data/demo/phantom-001.png"
DEMO_CROP = (200, 248, 300, 364)  # rows r0:r1, cols c0:c1


def srgb_to_linear(v8: np.ndarray) -> np.ndarray:
    u = v8.astype(np.float64) / 255.0
    return np.where(u > 0.04045, ((u + 0.055) / 1.055) ** 2.4, u / 12.92)


def noisy_patch(rows, cols, base, sd, seed):
    rng = np.random.default_rng(seed)
    img = np.array(base, dtype=np.float64) + rng.normal(0.0, sd, size=(rows, cols, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def patches():
    out = []
    out.append(
        (
            "skin_light_noisy",
            "20x24 px, sRGB (224, 172, 140) + N(0, 12) per channel, default_rng(1601), rounded and clipped",
            noisy_patch(20, 24, (224, 172, 140), 12.0, 1601),
            None,
        )
    )
    rows, cols = 24, 24
    blotch = noisy_patch(rows, cols, (205, 150, 130), 6.0, 1602).astype(np.float64)
    rr, cc = np.mgrid[0:rows, 0:cols]
    g = np.exp(-((rr - 11.5) ** 2 + (cc - 12.5) ** 2) / (2 * 5.0**2))
    blotch += g[..., None] * np.array([30.0, -25.0, -20.0])
    blotch = np.clip(np.rint(blotch), 0, 255).astype(np.uint8)
    disc = ((rr - 11.5) ** 2 + (cc - 12.5) ** 2) <= 9.0**2
    out.append(
        (
            "erythema_blotch_disc",
            "24x24 px, sRGB (205, 150, 130) + N(0, 6), default_rng(1602), plus a Gaussian blotch "
            "(sigma 5 px at row 11.5, col 12.5) adding (+30, -25, -20); zone: the disc of radius 9 px "
            "about the blotch",
            blotch,
            disc,
        )
    )
    out.append(
        (
            "skin_dark",
            "16x20 px, sRGB (110, 72, 50) + N(0, 8), default_rng(1603)",
            noisy_patch(16, 20, (110, 72, 50), 8.0, 1603),
            None,
        )
    )
    out.append(
        (
            "very_dark_linear_segment",
            "12x12 px, sRGB (20, 9, 6) + N(0, 3), default_rng(1604): many values <= 10, in the "
            "linear segment of the sRGB curve",
            noisy_patch(12, 12, (20, 9, 6), 3.0, 1604),
            None,
        )
    )
    demo = io.imread(REPO_ROOT / DEMO_IMAGE)
    assert demo.dtype == np.uint8 and demo.ndim == 3, (demo.dtype, demo.shape)
    r0, r1, c0, c1 = DEMO_CROP
    out.append(
        (
            "demo_phantom_crop",
            f"{DEMO_IMAGE} rows {r0}:{r1}, cols {c0}:{c1} (RGB channels), read with skimage.io.imread",
            np.ascontiguousarray(demo[r0:r1, c0:c1, :3]),
            None,
        )
    )
    return out


def main():
    result = {
        "provenance": provenance(__file__, ["numpy", "scikit-image", "imageio"]),
        "definitions": {
            "reference": "Diffey BL, Oliver RI, Farr PM. Br J Dermatol 1984;111:663-672, "
            "doi:10.1111/j.1365-2133.1984.tb14149.x (indices from red and green reflectance); "
            "Yamamoto T et al. Skin Res Technol 2008;14:26-34, doi:10.1111/j.1600-0846.2007.00256.x "
            "(camera RGB).",
            "linear": "IEC 61966-2-1 sRGB decoding of each 8-bit channel: u = v/255; "
            "lin = ((u + 0.055)/1.055)^2.4 if u > 0.04045 else u/12.92.",
            "mean_linear_r_g": "R = mean of linear red, G = mean of linear green over the pixels "
            "whose mask is 1 (the zone).",
            "erythema_index": "100 * (log10(1/G) - log10(1/R)) = 100 * log10(R/G)",
            "melanin_index": "100 * log10(1/R)",
            "srgb8": "one string per row: R,G,B,R,G,B,... of the row's pixels, integers 0..255",
            "mask": "one string per row: one character per pixel, 1 = in the zone, 0 = not",
        },
        "demo_image": {"path": DEMO_IMAGE, "sha256": sha256_file(REPO_ROOT / DEMO_IMAGE), "crop_rows_cols": DEMO_CROP},
        "patches": [],
    }
    worst = 0.0
    for name, recipe, rgb8, mask in patches():
        rows, cols, _ = rgb8.shape
        if mask is None:
            mask = np.ones((rows, cols), dtype=bool)
        lin = srgb_to_linear(rgb8)
        # Cross-check the decoding against scikit-image: XYZ back to linear RGB.
        lin_sk = rgb2xyz(rgb8) @ np.linalg.inv(xyz_from_rgb).T
        worst = max(worst, float(np.max(np.abs(lin - lin_sk))))
        r_mean = float(lin[..., 0][mask].mean())
        g_mean = float(lin[..., 1][mask].mean())
        ei = 100.0 * (math.log10(1.0 / g_mean) - math.log10(1.0 / r_mean))
        ei_ratio = 100.0 * math.log10(r_mean / g_mean)
        assert abs(ei - ei_ratio) < 1e-9, (name, ei, ei_ratio)
        mi = 100.0 * math.log10(1.0 / r_mean)
        result["patches"].append(
            {
                "name": name,
                "recipe": recipe,
                "rows": rows,
                "cols": cols,
                "srgb8": [",".join(str(int(v)) for v in row.reshape(-1)) for row in rgb8],
                "mask": ["".join("1" if m else "0" for m in row) for row in mask],
                "pixels_in_zone": int(mask.sum()),
                "mean_linear_r": r_mean,
                "mean_linear_g": g_mean,
                "erythema_index": ei,
                "melanin_index": mi,
            }
        )
        log(f"{name}: R {r_mean:.6f} G {g_mean:.6f} EI {ei:.6f} MI {mi:.6f}")
    if worst > 1e-12:
        raise SystemExit(f"numpy sRGB decoding disagrees with scikit-image by {worst}")
    result["numpy_vs_skimage_linear_max_abs_diff"] = worst
    write_json(FIXTURE_DIR / "skin_indices.json", result)
    log(f"wrote {FIXTURE_DIR / 'skin_indices.json'} (numpy vs skimage linear: {worst:.1e})")


if __name__ == "__main__":
    main()
