#!/usr/bin/env python3
"""Generate grey-level co-occurrence matrix (GLCM) reference fixtures.

Writes, under tests/fixtures/reference/:
  glcm_random16.csv, glcm_gradient16.csv   40x40 integer images, levels 0..15
  glcm.json                                provenance, definitions, values

Run from the repo root inside the reference venv:
    /work/venv-ref/bin/python tools/reference/make_glcm_fixtures.py
"""
from __future__ import annotations

import math

import numpy as np
from skimage.feature import graycomatrix, graycoprops

from _refcommon import FIXTURE_DIR, log, provenance, sha256_file, write_csv_int, write_json

LEVELS = 16
DISTANCES = [1, 2]
ANGLES = [0.0, np.pi / 4, np.pi / 2, 3 * np.pi / 4]
ANGLE_NAMES = ["0", "pi/4", "pi/2", "3pi/4"]
PROPS = ["contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM", "entropy"]


def make_images() -> dict[str, dict]:
    imgs = {}
    imgs["random16"] = {
        "img": np.random.default_rng(42).integers(0, 16, size=(40, 40)).astype(np.uint8),
        "recipe": "np.random.default_rng(42).integers(0, 16, size=(40, 40)); 40 rows x 40 cols",
    }
    r, c = np.mgrid[0:40, 0:40].astype(np.float64)
    base = (r + c) / 78.0 * 15.0  # 0 at top-left, 15 at bottom-right
    noise = np.random.default_rng(43).normal(0.0, 1.0, size=(40, 40))
    q = np.clip(np.rint(base + noise), 0, 15).astype(np.uint8)
    imgs["gradient16"] = {
        "img": q,
        "recipe": "r, c = np.mgrid[0:40, 0:40]; v = (r + c)/78*15 + np.random.default_rng(43).normal(0, 1, (40, 40)); "
        "img = clip(rint(v), 0, 15) (rint = round half to even); 40 rows x 40 cols",
    }
    return imgs


def offsets():
    """(dy, dx) actually used by skimage 0.26: row offset = round(sin(a)*d),
    col offset = round(cos(a)*d); the neighbour of (r, c) is (r+dy, c+dx).
    Determined empirically below (not just from the formula)."""
    out = {}
    img = np.arange(49, dtype=np.uint8).reshape(7, 7)  # every pixel unique
    P = graycomatrix(img, [1, 2, 3], ANGLES, levels=49)
    for di, d in enumerate([1, 2, 3]):
        for ai, name in enumerate(ANGLE_NAMES):
            ii, jj = np.nonzero(P[:, :, di, ai])
            offs = {(int(j // 7 - i // 7), int(j % 7 - i % 7)) for i, j in zip(ii, jj)}
            assert len(offs) == 1, offs
            (dy, dx), = offs
            # C round(): half away from zero
            a = ANGLES[ai]
            assert dy == int(math.copysign(math.floor(abs(math.sin(a) * d) + 0.5), math.sin(a) * d)), (d, name)
            assert dx == int(math.copysign(math.floor(abs(math.cos(a) * d) + 0.5), math.cos(a) * d)), (d, name)
            out[f"d={d},angle={name}"] = {"dy": dy, "dx": dx}
    return out


def np_glcm(img: np.ndarray, dy: int, dx: int, levels: int) -> np.ndarray:
    """Independent count matrix: P[i, j] += 1 for i = img[r, c], j = img[r+dy, c+dx]."""
    ny, nx = img.shape
    P = np.zeros((levels, levels), dtype=np.int64)
    r0, r1 = max(0, -dy), min(ny, ny - dy)
    c0, c1 = max(0, -dx), min(nx, nx - dx)
    a = img[r0:r1, c0:c1].ravel()
    b = img[r0 + dy : r1 + dy, c0 + dx : c1 + dx].ravel()
    np.add.at(P, (a, b), 1)
    return P


def np_props(P: np.ndarray) -> dict:
    p = P / P.sum()
    n = p.shape[0]
    i, j = np.mgrid[0:n, 0:n].astype(np.float64)
    mu_i = np.sum(i * p)
    mu_j = np.sum(j * p)
    sd_i = math.sqrt(np.sum(p * (i - mu_i) ** 2))
    sd_j = math.sqrt(np.sum(p * (j - mu_j) ** 2))
    cov = np.sum(p * (i - mu_i) * (j - mu_j))
    asm = np.sum(p**2)
    nz = p[p > 0]
    return {
        "contrast": np.sum(p * (i - j) ** 2),
        "dissimilarity": np.sum(p * np.abs(i - j)),
        "homogeneity": np.sum(p / (1.0 + (i - j) ** 2)),
        "energy": math.sqrt(asm),
        "correlation": 1.0 if (sd_i < 1e-15 or sd_j < 1e-15) else cov / (sd_i * sd_j),
        "ASM": asm,
        "entropy": -np.sum(nz * np.log(nz)),
    }


DEFINITIONS = {
    "call": "P = skimage.feature.graycomatrix(img, distances=[1, 2], angles=[0, pi/4, pi/2, 3*pi/4], levels=16, "
    "symmetric=True, normed=True); skimage.feature.graycoprops(P, prop) for each prop. Arrays are indexed "
    "[distance_index][angle_index] in the order of 'distances' and 'angles'.",
    "offsets": "skimage 0.26 (Cython _glcm_loop): for angle a and distance d, offset_row dy = round(sin(a)*d), "
    "offset_col dx = round(cos(a)*d) (C round, half away from zero). For every pixel (r, c) whose neighbour "
    "(r+dy, c+dx) is inside the image (pairs running off the edge are skipped, no padding), "
    "P[img[r,c], img[r+dy,c+dx]] += 1. So, in ARRAY coordinates (row index grows downwards): angle 0 -> (0,+d) "
    "right neighbour; pi/2 -> (+d, 0), i.e. the pixel BELOW in row-index terms (skimage's docstring calls it "
    "'the pixel above', thinking of a y-up axis; with symmetric=True the two are identical); pi/4 -> (+k,+k) "
    "and 3pi/4 -> (+k,-k) with k = round(d*sqrt(2)/2): for d=1 k=1, for d=2 k=1 (NOT 2: 2*0.7071=1.414 "
    "rounds to 1), for d=3 k=2. The exact offsets used are listed in 'offsets_used', measured empirically on "
    "an image with all-unique values.",
    "symmetric": "P_sym = P + P^T (counts of both orders), so the sign of the offset does not matter.",
    "normed": "each (d, angle) matrix divided by its own sum (sum = 2 * number of in-bounds pairs).",
    "props": "p = normalised matrix, i = row level, j = column level (0..levels-1). contrast = sum p*(i-j)^2; "
    "dissimilarity = sum p*|i-j|; homogeneity = sum p/(1+(i-j)^2); ASM = sum p^2; energy = sqrt(ASM); "
    "correlation = sum p*(i-mu_i)*(j-mu_j)/(sd_i*sd_j) with mu_i = sum i*p, sd_i = sqrt(sum p*(i-mu_i)^2) "
    "(population, over p), defined as 1 if sd_i or sd_j < 1e-15; entropy = -sum p*ln(p) over p > 0 "
    "(natural log, nats).",
    "mean_over_angles": "arithmetic mean of the 4 per-angle property values for each distance (not the property "
    "of an averaged matrix).",
    "numpy_crosscheck": "make_glcm_fixtures.py recomputes every matrix and property with an independent numpy "
    "implementation and asserts agreement to 1e-12.",
}


def main():
    imgs = make_images()
    offs = offsets()
    result = {
        "provenance": provenance(__file__, ["numpy", "scikit-image"]),
        "definitions": DEFINITIONS,
        "levels": LEVELS,
        "distances": DISTANCES,
        "angles_rad": ANGLES,
        "angle_names": ANGLE_NAMES,
        "offsets_used": offs,
        "properties": PROPS,
        "images": {},
    }
    entropy_from_skimage = True
    for name, m in imgs.items():
        img = m["img"]
        assert img.min() >= 0 and img.max() < LEVELS
        csv = FIXTURE_DIR / f"glcm_{name}.csv"
        write_csv_int(csv, img)
        back = np.loadtxt(csv, delimiter=",", dtype=np.int64, ndmin=2)
        assert np.array_equal(back, img)

        P = graycomatrix(img, distances=DISTANCES, angles=ANGLES, levels=LEVELS, symmetric=True, normed=True)
        Pc = graycomatrix(img, distances=DISTANCES, angles=ANGLES, levels=LEVELS, symmetric=True, normed=False)
        per = {}
        for prop in PROPS:
            try:
                v = graycoprops(P, prop)
            except ValueError:
                # entropy was added to graycoprops in skimage 0.25; compute it ourselves otherwise
                entropy_from_skimage = False
                v = np.array([[np_props(Pc[:, :, di, ai])["entropy"] for ai in range(len(ANGLES))]
                              for di in range(len(DISTANCES))])
            per[prop] = v
        # cross-check with independent numpy implementation
        worst = 0.0
        counts = {}
        for di, d in enumerate(DISTANCES):
            for ai, an in enumerate(ANGLE_NAMES):
                o = offs[f"d={d},angle={an}"]
                Pn = np_glcm(img.astype(np.int64), o["dy"], o["dx"], LEVELS)
                Pn = Pn + Pn.T
                assert np.array_equal(Pn, Pc[:, :, di, ai].astype(np.int64)), (name, d, an)
                counts[f"d={d},angle={an}"] = Pn
                npp = np_props(Pn)
                for prop in PROPS:
                    worst = max(worst, abs(npp[prop] - per[prop][di, ai]))
        assert worst < 1e-12, worst
        entry = {
            "csv": f"tests/fixtures/reference/glcm_{name}.csv",
            "csv_sha256": sha256_file(csv),
            "rows": int(img.shape[0]),
            "cols": int(img.shape[1]),
            "recipe": m["recipe"],
            "per_distance_angle": {prop: per[prop] for prop in PROPS},
            "mean_over_angles": {prop: per[prop].mean(axis=1) for prop in PROPS},
            "symmetric_counts": counts,
            "numpy_vs_skimage_max_abs_diff": worst,
        }
        result["images"][name] = entry
        log(f"{name}: numpy vs skimage max abs diff {worst:.3g}")
    result["entropy_source"] = "skimage.feature.graycoprops(P, 'entropy')" if entropy_from_skimage else \
        "numpy -sum p ln p (skimage graycoprops had no 'entropy')"
    out = FIXTURE_DIR / "glcm.json"
    write_json(out, result)
    log("wrote", out)


if __name__ == "__main__":
    main()
