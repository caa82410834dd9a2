#!/usr/bin/env python3
"""Reference Python pipeline for the skintex throughput comparison (benches/compare/).

What a researcher would write with numpy / scipy / scikit-image to measure, per close-up photo
(`skintex analyze --roi full`: the whole image is one zone at a known px_per_mm), the same four
families as skintex with skintex's default parameters (src/config.rs):

  decode       PIL -> uint8 RGB
  colour       img_as_float, sRGB -> linear RGB, Y = 0.2126 R + 0.7152 G + 0.0722 B (linear),
               CIE L*a*b* D65 by skimage.color.rgb2lab
  height       z = Y / G_sigma(Y) - 1, sigma = 0.187390625 x 8 mm x px_per_mm (ISO 16610-61,
               height.cutoff_mm = 8), skimage.filters.gaussian(mode='reflect')
  roughness    ISO 25178-2 on mean-centred z: Sa Sq Ssk Sku Sp Sv Sz, Sdq (forward differences),
               Sdr (triangulated area, both diagonals averaged)
  acf          Sal / Str (s = 0.2) from the FFT autocorrelation (scipy.fft, zero padded, overlap
               normalised) of the top-left <= 1024 x 1024 px window, lags <= 4 mm
  glcm         z clipped to mean +- 3 SD, 32 equal bins; skimage graycomatrix at distance
               round(0.1 mm x px_per_mm) px, angles 0/45/90/135 deg, symmetric, normed;
               graycoprops contrast, homogeneity, energy, correlation, entropy, mean over angles
  lines        Frangi-style valley strength over the skintex line scales (widths 0.1-1.5 mm,
               2 per octave, sigma = width / 1.6651): skimage.feature.hessian_matrix +
               hessian_matrix_eigvals, sigma^2 lambda2 exp(-(lambda1/lambda2)^2 / (2 x 0.5^2))
               where lambda2 > 0 (or `--ridge sato`: skimage.filters.sato(black_ridges=True)),
               divided by kappa = 2/(3 sqrt 3) so it is a valley depth;
               apply_hysteresis_threshold(0.03, 0.05);
               remove_small_holes (<= 1 mm^2); remove_small_objects; skeletonize; skeleton pieces
               shorter than 3 mm dropped
  scars        Y box-averaged by 2 (the smallest scar sigma needs no finer grid, as in skintex),
               z_b = Y / G(Y; 0.1874 x 20 mm) - 1, skimage.feature.blob_log(-z_b) over the skintex
               scar scales (diameters 0.5-6 mm, sigma = d / (2 sqrt 2), 3 per octave, threshold =
               scars.min_response 0.012), then a depth test per blob (ring median - disk mean >=
               scars.min_depth 0.085)
  tone         mean L*, SD L*, mean a*, mean b*, ITA, erythema / melanin indices

`--roi face` (the ONNX face models through onnxruntime) is not implemented: the benchmark photos
are close-up phantoms without a face, analysed with skintex `--roi full`.

Usage: baseline.py [--px-per-mm 20] [--dtype float64|float32] [--ridge frangi|sato]
                   [--json OUT.json] IMAGE [IMAGE ...]
Prints per-stage timings (seconds) and the measured values per image.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time

import numpy as np
import scipy
import scipy.fft
import scipy.ndimage as ndi
import skimage
from PIL import Image
from skimage.color import rgb2lab
from skimage.feature import blob_log, graycomatrix, graycoprops, hessian_matrix, hessian_matrix_eigvals
from skimage.filters import apply_hysteresis_threshold, gaussian, sato
from skimage.measure import label
from skimage.morphology import remove_small_holes, remove_small_objects, skeletonize
from skimage.transform import downscale_local_mean
from skimage.util import img_as_float, img_as_float32

# skintex defaults (src/config.rs)
ISO_SIGMA_PER_CUTOFF = 0.187390625  # ISO 16610-61: sqrt(ln 2 / (2 pi^2))
HEIGHT_CUTOFF_MM = 8.0
ACF_THRESHOLD = 0.2
ACF_MAX_LAG_MM = 4.0
ACF_WINDOW_PX = 1024
GLCM_DISTANCE_MM = 0.1
GLCM_LEVELS = 32
GLCM_CLIP_SD = 3.0
LINES_MIN_WIDTH_MM = 0.1
LINES_MAX_WIDTH_MM = 1.5
LINES_SCALES_PER_OCTAVE = 2
LINES_MIN_LENGTH_MM = 3.0
LINES_STRENGTH_LOW = 0.03
LINES_STRENGTH_HIGH = 0.05
LINES_HOLE_MM2 = 1.0
LINES_BLOB_BETA = 0.5
WIDTH_PER_SIGMA = 2.0 * math.sqrt(math.log(2.0))  # FWHM of a Gaussian valley / sigma*
KAPPA = 2.0 / (3.0 * math.sqrt(3.0))  # sigma^2 lambda2 of a unit-depth valley at sigma*
SCARS_MIN_DIAMETER_MM = 0.5
SCARS_MAX_DIAMETER_MM = 6.0
SCARS_BACKGROUND_CUTOFF_MM = 20.0
SCARS_MIN_RESPONSE = 0.012
SCARS_MIN_DEPTH = 0.085
SCARS_SCALES_PER_OCTAVE = 3
ITA_MIN_ABS_B = 0.5


class Timer:
    """Accumulates wall-clock and process CPU seconds per named stage."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._name = None
        self._t0 = 0.0
        self._c0 = 0.0

    def __call__(self, name: str) -> "Timer":
        self._name = name
        return self

    def __enter__(self) -> None:
        self._t0 = time.perf_counter()
        self._c0 = time.process_time()

    def __exit__(self, *exc) -> None:
        self.stages[self._name] = self.stages.get(self._name, 0.0) + time.perf_counter() - self._t0
        self.cpu[self._name] = self.cpu.get(self._name, 0.0) + time.process_time() - self._c0


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def areal_parameters(z: np.ndarray, step_mm: float) -> dict:
    """ISO 25178-2 height and hybrid parameters of a full (unmasked) height map."""
    zc = z - z.mean()
    sq = float(np.sqrt(np.mean(zc**2)))
    out = {
        "sa": float(np.mean(np.abs(zc))),
        "sq": sq,
        "ssk": float(np.mean(zc**3) / sq**3),
        "sku": float(np.mean(zc**4) / sq**4),
        "sp": float(zc.max()),
        "sv": float(-zc.min()),
    }
    out["sz"] = out["sp"] + out["sv"]
    dx = np.diff(z, axis=1) / step_mm
    dy = np.diff(z, axis=0) / step_mm
    out["sdq"] = float(np.sqrt(np.mean(dx**2) + np.mean(dy**2)))
    # Sdr: each cell split into two triangles, along both diagonals, areas averaged.
    h = step_mm
    z00, z01, z10, z11 = z[:-1, :-1], z[:-1, 1:], z[1:, :-1], z[1:, 1:]

    def tri(za, zb, zc_):
        # triangle (0,0,za) (h,0,zb) (0,h,zc_) in a right-angle corner: |u x v| / 2
        return 0.5 * np.sqrt((h * (zb - za)) ** 2 + (h * (zc_ - za)) ** 2 + h**4)

    area_a = tri(z00, z01, z10) + tri(z11, z10, z01)
    area_b = tri(z01, z00, z11) + tri(z10, z11, z00)
    out["sdr"] = float((np.mean(0.5 * (area_a + area_b)) / h**2 - 1.0) * 100.0)
    return out


def sal_str(z: np.ndarray, step_mm: float) -> dict:
    """Sal, Str from the FFT autocorrelation of the top-left <= 1024 px window."""
    w = z[:ACF_WINDOW_PX, :ACF_WINDOW_PX]
    w = w - w.mean()
    ny, nx = w.shape
    lag = max(1, round(ACF_MAX_LAG_MM / step_mm))
    shape = (scipy.fft.next_fast_len(ny + lag, real=True), scipy.fft.next_fast_len(nx + lag, real=True))
    f = scipy.fft.rfft2(w, shape)
    acf = scipy.fft.irfft2(f * np.conj(f), shape)
    acf = np.fft.fftshift(acf)
    cy, cx = shape[0] // 2, shape[1] // 2
    acf = acf[cy - lag : cy + lag + 1, cx - lag : cx + lag + 1]
    ty = np.arange(-lag, lag + 1)
    overlap = np.outer(ny - np.abs(ty), nx - np.abs(ty))  # pairs per lag (zero padded, linear)
    acf = acf / overlap
    acf /= acf[lag, lag]
    above = acf > ACF_THRESHOLD
    labels, _ = ndi.label(above)  # 4-connected
    region = labels == labels[lag, lag]
    # boundary: pixels below threshold 4-adjacent to the central region
    edge = ndi.binary_dilation(region) & ~region
    yy, xx = np.mgrid[-lag : lag + 1, -lag : lag + 1]
    dist = np.hypot(yy, xx)[edge] * step_mm
    if dist.size == 0:
        return {"sal_mm": math.nan, "str": math.nan}
    sal = float(dist.min())
    touches = region[0, :].any() or region[-1, :].any() or region[:, 0].any() or region[:, -1].any()
    return {"sal_mm": sal, "str": math.nan if touches else float(sal / dist.max())}


def glcm_features(z: np.ndarray, px_per_mm: float) -> dict:
    mu, sd = z.mean(), z.std()
    lo, hi = mu - GLCM_CLIP_SD * sd, mu + GLCM_CLIP_SD * sd
    q = np.floor((np.clip(z, lo, hi) - lo) / (hi - lo) * GLCM_LEVELS)
    q = np.minimum(q, GLCM_LEVELS - 1).astype(np.uint8)
    d = max(1, round(GLCM_DISTANCE_MM * px_per_mm))
    p = graycomatrix(
        q, [d], [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4], levels=GLCM_LEVELS, symmetric=True, normed=True
    )
    props = ["contrast", "homogeneity", "energy", "correlation", "entropy"]
    return {f"glcm_{k}": float(graycoprops(p, k).mean()) for k in props}


def line_sigmas_px(px_per_mm: float) -> list[float]:
    lo = LINES_MIN_WIDTH_MM * px_per_mm / WIDTH_PER_SIGMA
    hi = LINES_MAX_WIDTH_MM * px_per_mm / WIDTH_PER_SIGMA
    steps = math.ceil(math.log2(hi / lo) * LINES_SCALES_PER_OCTAVE)
    return [lo * (hi / lo) ** (k / steps) for k in range(steps + 1)]


def frangi_valleys(z: np.ndarray, sigmas: list[float]) -> np.ndarray:
    """Frangi-style dark-valley strength with the sigma^2 normalisation and no structuredness term.

    V = max over sigma of sigma^2 lambda2 exp(-(lambda1/lambda2)^2 / (2 beta^2)) where lambda2 > 0,
    |lambda1| <= |lambda2|, beta = 0.5 (skimage's frangi drops sigma^2 and scales its third factor
    by the image's own Hessian norm, so its output has no fixed threshold; see METHODS.md).
    """
    out = np.zeros_like(z)
    for sigma in sigmas:
        h = hessian_matrix(z, sigma, mode="reflect", use_gaussian_derivatives=True)
        e1, e2 = hessian_matrix_eigvals(h)  # e1 >= e2
        swap = np.abs(e2) > np.abs(e1)
        l2 = np.where(swap, e2, e1)
        l1 = np.where(swap, e1, e2)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = sigma**2 * l2 * np.exp(-((l1 / l2) ** 2) / (2 * LINES_BLOB_BETA**2))
        np.maximum(out, np.where(l2 > 0, v, 0.0), out=out)
    return out


def detect_lines(z: np.ndarray, px_per_mm: float, t: Timer, ridge: str) -> dict:
    with t("lines_ridge"):
        if ridge == "sato":
            strength = sato(z, sigmas=line_sigmas_px(px_per_mm), black_ridges=True, mode="reflect")
        else:
            strength = frangi_valleys(z, line_sigmas_px(px_per_mm))
        strength /= KAPPA
    with t("lines_post"):
        region = apply_hysteresis_threshold(strength, LINES_STRENGTH_LOW, LINES_STRENGTH_HIGH)
        region = remove_small_holes(region, max_size=int(LINES_HOLE_MM2 * px_per_mm**2))
        min_width_px = max(1, round(LINES_MIN_WIDTH_MM * px_per_mm))
        min_len_px = LINES_MIN_LENGTH_MM * px_per_mm
        region = remove_small_objects(region, max_size=int(min_len_px * min_width_px), connectivity=2)
        skel = skeletonize(region)
        lab = label(skel, connectivity=2)
        sizes = np.bincount(lab.ravel())[1:]
        keep = sizes >= min_len_px
        length_px = float(sizes[keep].sum())
        area_cm2 = z.size / px_per_mm**2 / 100.0
    return {
        "lines_count": int(keep.sum()),
        "lines_length_mm": length_px / px_per_mm,
        "lines_density_mm_per_cm2": length_px / px_per_mm / area_cm2,
        "lines_area_fraction": float(region.mean()),
    }


def detect_scars(y: np.ndarray, px_per_mm: float, t: Timer) -> dict:
    sigma_of = lambda d_mm: d_mm / (2.0 * math.sqrt(2.0)) * px_per_mm  # noqa: E731
    s_min, s_max = sigma_of(SCARS_MIN_DIAMETER_MM), sigma_of(SCARS_MAX_DIAMETER_MM)
    f0 = 2 ** max(0, math.floor(math.log2(s_min / 1.6)))
    with t("scars_signal"):
        yb = downscale_local_mean(y, (f0, f0))
        sigma_bg = ISO_SIGMA_PER_CUTOFF * SCARS_BACKGROUND_CUTOFF_MM * px_per_mm / f0
        zb = yb / gaussian(yb, sigma_bg, mode="reflect", preserve_range=True) - 1.0
    n_sigma = math.ceil(math.log2(s_max / s_min) * SCARS_SCALES_PER_OCTAVE) + 1
    with t("scars_blob_log"):
        blobs = blob_log(
            -zb,
            min_sigma=s_min / f0,
            max_sigma=s_max / f0,
            num_sigma=n_sigma,
            threshold=SCARS_MIN_RESPONSE,
            overlap=0.5,
            log_scale=True,
        )
    with t("scars_filter"):
        depths, diams = [], []
        for r0, c0, s in blobs:
            r = math.sqrt(2.0) * s
            R = int(math.ceil(2.5 * r)) + 1
            r0, c0 = int(r0), int(c0)
            win = zb[max(0, r0 - R) : r0 + R + 1, max(0, c0 - R) : c0 + R + 1]
            yy, xx = np.ogrid[max(0, r0 - R) - r0 : win.shape[0] + max(0, r0 - R) - r0,
                              max(0, c0 - R) - c0 : win.shape[1] + max(0, c0 - R) - c0]
            rho = np.hypot(yy, xx)
            ring = win[(rho >= 1.5 * r) & (rho <= 2.5 * r)]
            disk = win[rho <= r]
            if ring.size == 0 or disk.size == 0:
                continue
            depth = float(np.median(ring) - disk.mean())
            if depth >= SCARS_MIN_DEPTH:
                depths.append(depth)
                diams.append(2.0 * r * f0 / px_per_mm)
    area_cm2 = y.size / px_per_mm**2 / 100.0
    return {
        "scars_candidates": int(len(blobs)),
        "scars_count": len(depths),
        "scars_density_per_cm2": len(depths) / area_cm2,
        "scars_mean_diameter_mm": float(np.mean(diams)) if diams else math.nan,
        "scars_mean_depth": float(np.mean(depths)) if depths else math.nan,
    }


def tone(lab: np.ndarray, linear: np.ndarray) -> dict:
    l_mean, a_mean, b_mean = (float(lab[..., k].mean()) for k in range(3))
    r_mean, g_mean = float(linear[..., 0].mean()), float(linear[..., 1].mean())
    ita = math.degrees(math.atan((l_mean - 50.0) / b_mean)) if abs(b_mean) >= ITA_MIN_ABS_B else math.nan
    return {
        "tone_l_mean": l_mean,
        "tone_l_sd": float(lab[..., 0].std()),
        "tone_a_mean": a_mean,
        "tone_b_mean": b_mean,
        "tone_ita_deg": ita,
        "tone_erythema_index": 100.0 * math.log10(r_mean / g_mean),
        "tone_melanin_index": 100.0 * math.log10(1.0 / r_mean),
    }


def analyse(path: str, px_per_mm: float, ridge: str, dtype: str) -> tuple[dict, dict]:
    t = Timer()
    with t("decode"):
        rgb8 = np.asarray(Image.open(path).convert("RGB"))
    with t("colour"):
        rgb = img_as_float(rgb8) if dtype == "float64" else img_as_float32(rgb8)
        linear = srgb_to_linear(rgb)
        y = linear @ np.array([0.2126, 0.7152, 0.0722], dtype=rgb.dtype)
        lab = rgb2lab(rgb)
    with t("height"):
        sigma = ISO_SIGMA_PER_CUTOFF * HEIGHT_CUTOFF_MM * px_per_mm
        z = y / gaussian(y, sigma, mode="reflect", preserve_range=True) - 1.0
    step_mm = 1.0 / px_per_mm
    values: dict = {}
    with t("roughness_areal"):
        values.update(areal_parameters(z, step_mm))
    with t("roughness_acf"):
        values.update(sal_str(z, step_mm))
    with t("roughness_glcm"):
        values.update(glcm_features(z, px_per_mm))
    values.update(detect_lines(z, px_per_mm, t, ridge))
    values.update(detect_scars(y, px_per_mm, t))
    with t("tone"):
        values.update(tone(lab, linear))
    return t, values


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("images", nargs="+")
    ap.add_argument("--px-per-mm", type=float, default=20.0)
    ap.add_argument(
        "--ridge",
        choices=["frangi", "sato"],
        default="frangi",
        help="line filter: sigma^2-normalised Frangi valleys (default, skintex's blobness) or skimage sato",
    )
    ap.add_argument(
        "--dtype",
        choices=["float64", "float32"],
        default="float64",
        help="working precision: float64 (what skimage.util.img_as_float gives, default) or float32 "
        "(skintex's precision; scikit-image keeps float32 through these functions)",
    )
    ap.add_argument("--json", help="write timings and values to this file")
    args = ap.parse_args()
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-image": skimage.__version__,
        "pillow": Image.__version__,
    }
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()), flush=True)
    results = []
    for path in args.images:
        t0, c0 = time.perf_counter(), time.process_time()
        timer, values = analyse(path, args.px_per_mm, args.ridge, args.dtype)
        total, total_cpu = time.perf_counter() - t0, time.process_time() - c0
        results.append(
            {
                "image": path,
                "total_s": total,
                "total_cpu_s": total_cpu,
                "stages_s": timer.stages,
                "stages_cpu_s": timer.cpu,
                "values": values,
            }
        )
        print(f"{path}: total {total:.2f} s wall, {total_cpu:.2f} s CPU")
        for k, v in timer.stages.items():
            print(f"  {k:<16} {v:8.3f} s wall {timer.cpu[k]:8.3f} s CPU")
        print("  values: " + ", ".join(f"{k}={v:.6g}" for k, v in values.items()), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "versions": versions,
                    "px_per_mm": args.px_per_mm,
                    "ridge": args.ridge,
                    "dtype": args.dtype,
                    "results": results,
                },
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
