#!/usr/bin/env python3
"""Generate ISO 25178 areal-roughness reference fixtures for skintex.

Writes, under tests/fixtures/reference/:
  gauss_rand.csv, sines.csv, skewed.csv, flat_plane.csv, plane45.csv
      height maps, one image row per CSV line, no header, float64 repr()
  roughness.json
      provenance, exact definitions, and per map the values from
      surfalize and from an independent numpy implementation.

Run from the repo root inside the reference venv (see tools/reference/README.md):
    /work/venv-ref/bin/python tools/reference/make_roughness_fixtures.py

Units: the step (pixel size) is 0.05 mm in x and y, and the heights are taken
to be in the same length unit (mm), so Sdq is dimensionless and Sdr is a
percentage of a physically consistent area.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.ndimage as ndi
from scipy.signal import fftconvolve

from _refcommon import FIXTURE_DIR, log, provenance, rel_diff, sha256_file, write_csv_float, write_json

STEP = 0.05  # mm, both directions
S_THRESHOLD = 0.2  # Sal/Str threshold s (ISO 25178-3 default)

try:
    from surfalize import Surface  # noqa: E402

    HAVE_SURFALIZE = True
except Exception as exc:  # pragma: no cover - documented fallback
    log("surfalize import failed:", exc)
    HAVE_SURFALIZE = False


# --------------------------------------------------------------------------
# Height maps
# --------------------------------------------------------------------------
def make_maps() -> dict[str, dict]:
    maps = {}

    # (a) gauss_rand: default_rng(12345).normal(size=(48, 64)) -> 48 rows x 64
    # cols, then gaussian_filter(sigma=1.5) with scipy defaults
    # (mode='reflect', truncate=4.0, order=0).
    z = np.random.default_rng(12345).normal(size=(48, 64))
    z = ndi.gaussian_filter(z, sigma=1.5)
    maps["gauss_rand"] = {
        "z": z,
        "recipe": "scipy.ndimage.gaussian_filter(np.random.default_rng(12345).normal(size=(48, 64)), sigma=1.5) "
        "(mode='reflect', truncate=4.0); shape (rows=48, cols=64)",
    }

    # (b) sines: 40 rows x 50 cols; x = column index, y = row index (pixels).
    y, x = np.mgrid[0:40, 0:50].astype(np.float64)
    z = np.sin(2 * np.pi * x / 13) + 0.5 * np.cos(2 * np.pi * y / 7) + 0.1 * x / 50
    maps["sines"] = {
        "z": z,
        "recipe": "y, x = np.mgrid[0:40, 0:50] (x = column index, y = row index, in pixels); "
        "z = sin(2*pi*x/13) + 0.5*cos(2*pi*y/7) + 0.1*x/50; shape (rows=40, cols=50)",
    }

    # (c) skewed: exponential noise, 32 x 32.
    z = np.random.default_rng(7).exponential(size=(32, 32))
    maps["skewed"] = {
        "z": z,
        "recipe": "np.random.default_rng(7).exponential(size=(32, 32)); shape (rows=32, cols=32)",
    }

    # Test vectors.
    maps["flat_plane"] = {
        "z": np.full((20, 30), 1.25),
        "recipe": "np.full((20, 30), 1.25): constant plane, expected Sdq = 0, Sdr = 0",
        "test_vector": True,
    }
    y, x = np.mgrid[0:20, 0:30].astype(np.float64)
    maps["plane45"] = {
        "z": x * STEP,
        "recipe": "z[r, c] = c * 0.05 (z = x in mm with step 0.05 mm): 45-degree plane, "
        "expected Sdq = 1, Sdr = (sqrt(2) - 1) * 100 = 41.42135623730951 %",
        "test_vector": True,
        "expected": {"Sdq": 1.0, "Sdr": (math.sqrt(2.0) - 1.0) * 100.0},
    }
    return maps


# --------------------------------------------------------------------------
# Independent numpy implementation (same conventions as surfalize 0.19.2,
# which are also the ISO 25178-2:2021 discrete definitions)
# --------------------------------------------------------------------------
def np_height(z: np.ndarray) -> dict:
    c = z - z.mean()
    n = c.size
    sq = math.sqrt(np.sum(c**2) / n)
    out = {
        "Sa": np.sum(np.abs(c)) / n,
        "Sq": sq,
        "Sp": c.max(),
        "Sv": -c.min(),
        "Sz": c.max() - c.min(),
    }
    if sq > 0:
        out["Ssk"] = np.sum(c**3) / n / sq**3
        out["Sku"] = np.sum(c**4) / n / sq**4
    else:
        out["Ssk"] = float("nan")
        out["Sku"] = float("nan")
    return out


def np_sdq(z: np.ndarray, dx: float, dy: float) -> float:
    gx = np.diff(z, axis=1) / dx  # ny x (nx-1) forward differences along columns
    gy = np.diff(z, axis=0) / dy  # (ny-1) x nx forward differences along rows
    return math.sqrt(np.mean(gx**2) + np.mean(gy**2))


def np_surface_area_d15(z: np.ndarray, dx: float, dy: float) -> float:
    """ISO 25178-2:2021 eq. (D.15): every grid cell (i,j)-(i+1,j+1) is split
    into two triangles along each diagonal and the two triangulation areas are
    averaged, i.e. the cell area is half the sum of the 4 corner triangles."""
    a = z[:-1, :-1]  # (r, c)
    b = z[:-1, 1:]  # (r, c+1)
    c = z[1:, 1:]  # (r+1, c+1)
    d = z[1:, :-1]  # (r+1, c)

    def tri(ex_dz, ey_dz):
        # triangle spanned by x-edge (dx, 0, ex_dz) and y-edge (0, dy, ey_dz)
        return 0.5 * np.sqrt((dy * ex_dz) ** 2 + (dx * ey_dz) ** 2 + (dx * dy) ** 2)

    # corner at a: x-edge a->b (bottom), y-edge a->d (left)
    t_a = tri(b - a, d - a)
    # corner at b: x-edge a->b (bottom), y-edge b->c (right)
    t_b = tri(b - a, c - b)
    # corner at c: x-edge d->c (top), y-edge b->c (right)
    t_c = tri(c - d, c - b)
    # corner at d: x-edge d->c (top), y-edge a->d (left)
    t_d = tri(c - d, d - a)
    return float(np.sum(0.5 * (t_a + t_b + t_c + t_d)))


def np_sdr(z: np.ndarray, dx: float, dy: float) -> float:
    ny, nx = z.shape
    projected = (nx - 1) * dx * (ny - 1) * dy
    return (np_surface_area_d15(z, dx, dy) / projected - 1.0) * 100.0


def np_sdr_legacy_projected(z: np.ndarray, dx: float, dy: float) -> float:
    """For information only: the *wrong* convention of older surfalize
    releases (projected area nx*dx * ny*dy against a surface area summed over
    (nx-1)*(ny-1) cells), which gives Sdr < 0 for a flat plane."""
    ny, nx = z.shape
    return (np_surface_area_d15(z, dx, dy) / (nx * dx * ny * dy) - 1.0) * 100.0


def np_level(z: np.ndarray) -> np.ndarray:
    """Least-squares plane z ~ c0 + c1*col + c2*row subtracted (same plane as
    surfalize.Surface.level(), which fits on coordinates normalised to [-1, 1];
    the normalisation does not change the fitted plane)."""
    ny, nx = z.shape
    r, c = np.mgrid[0:ny, 0:nx].astype(np.float64)
    A = np.column_stack([np.ones(z.size), c.ravel(), r.ravel()])
    coef, *_ = np.linalg.lstsq(A, z.ravel(), rcond=None)
    return z - (A @ coef).reshape(z.shape)


def np_acf_unbiased(z: np.ndarray) -> np.ndarray:
    c = z - z.mean()
    ny, nx = c.shape
    raw = fftconvolve(c, c[::-1, ::-1], mode="full")
    lag_y = np.abs(np.arange(-(ny - 1), ny))
    lag_x = np.abs(np.arange(-(nx - 1), nx))
    return raw / np.outer(ny - lag_y, nx - lag_x)


def np_acf_unbiased_direct(z: np.ndarray) -> np.ndarray:
    """Direct O(N^2) evaluation of the same unbiased linear ACF, to show the
    FFT result is exactly the plain sum a Rust implementation would do."""
    c = z - z.mean()
    ny, nx = c.shape
    out = np.zeros((2 * ny - 1, 2 * nx - 1))
    for ty in range(-(ny - 1), ny):
        for tx in range(-(nx - 1), nx):
            a = c[max(0, ty) : ny + min(0, ty), max(0, tx) : nx + min(0, tx)]
            b = c[max(0, -ty) : ny + min(0, -ty), max(0, -tx) : nx + min(0, -tx)]
            out[ty + ny - 1, tx + nx - 1] = np.sum(a * b) / a.size
    return out


def np_sal_str(z_levelled: np.ndarray, dx: float, dy: float, s: float) -> dict:
    """Re-implementation of surfalize 0.19.2 AutocorrelationFunction
    ._calculate_decay_lengths, plus interpolation-free diagnostics."""
    acf = np_acf_unbiased(z_levelled)
    center = np.array(acf.shape) // 2  # == (ny-1, nx-1), the zero lag
    thr = s * acf[center[0], center[1]]
    mask = acf > thr
    labels, _ = ndi.label(mask)  # default structure: 4-connectivity
    region = labels == labels[center[0], center[1]]
    edge = region ^ ndi.binary_dilation(region, iterations=1)  # 4-connected outer boundary
    idx = np.argwhere(edge)
    touches = bool(region[0, :].any() or region[-1, :].any() or region[:, 0].any() or region[:, -1].any())
    step = np.array([dy, dx])
    dist = np.linalg.norm((idx - center) * step, axis=1)
    t = np.linspace(0, 1, 1000)
    rows = center[0] + (idx[:, 0] - center[0])[:, None] * t[None, :]
    cols = center[1] + (idx[:, 1] - center[1])[:, None] * t[None, :]
    prof = ndi.map_coordinates(acf, np.array([rows.ravel(), cols.ravel()]), order=3).reshape(len(idx), 1000)
    crossing = np.argmin(np.abs(prof - thr), axis=1)
    decay = dist * t[crossing]
    sal = decay.min()
    longest = decay.max()
    return {
        "Sal": sal,
        "Str": (sal / longest) if not touches else float("nan"),
        "Str_bound_if_undefined": sal / longest,
        "acf_zero_lag": acf[center[0], center[1]],
        "acf_threshold": thr,
        "acf_region_touches_border": touches,
        "acf_edge_pixel_count": int(len(idx)),
        "acf_edge_pixel_min_distance": dist.min(),
        "acf_edge_pixel_max_distance": dist.max(),
    }


def surfalize_values(z: np.ndarray) -> dict:
    s = Surface(z.copy(), STEP, STEP)
    out = {}
    for p in ("Sa", "Sq", "Ssk", "Sku", "Sp", "Sv", "Sz", "Sdq", "Sdr"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[p] = float(getattr(s, p)())
    out["surface_area"] = float(s.surface_area())
    out["projected_area"] = float(s.projected_area())
    return out


def surfalize_spatial(z: np.ndarray) -> dict:
    lev = Surface(z.copy(), STEP, STEP).level()
    out = {}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        # Pass s explicitly to both; never rely on defaults.
        out["Sal"] = float(lev.Sal(s=S_THRESHOLD))
        out["Str"] = float(lev.Str(s=S_THRESHOLD))
        out["warnings"] = [str(x.message) for x in w]
    out["levelled_Sq"] = float(lev.Sq())
    return out, np.asarray(lev.data)


DEFINITIONS = {
    "reference_implementation": "surfalize 0.19.2 (Surface(z, step_x, step_y), no levelling, no filtering, "
    "no mask) and an independent numpy implementation in make_roughness_fixtures.py",
    "axes": "z[row, col]; x = column index * step_x, y = row index * step_y; step_x = step_y = 0.05 mm; "
    "heights in the same unit (mm). nx = number of columns, ny = number of rows, N = nx*ny.",
    "height_parameters": "c = z - mean(z) over all N points. Sa = sum|c|/N. Sq = sqrt(sum c^2 / N). "
    "Ssk = (sum c^3 / N) / Sq^3. Sku = (sum c^4 / N) / Sq^4 (population moments: divide by N, not N-1; "
    "Sku is NOT excess kurtosis, Gaussian ~ 3). Sp = max(c). Sv = |min(c)| = -min(c). Sz = Sp + Sv. "
    "Source: surfalize/surface.py Surface.height_parameters.",
    "Sdq": "Forward differences, no edge padding, each direction averaged over its own count: "
    "gx = diff(z, axis=cols)/step_x has ny*(nx-1) values, gy = diff(z, axis=rows)/step_y has (ny-1)*nx "
    "values; Sdq = sqrt(mean(gx^2) + mean(gy^2)). NOT np.gradient, NOT central differences, "
    "NOT a common (nx-1)*(ny-1) cell grid. Source: surfalize/surface.py Surface.Sdq.",
    "Sdr": "ISO 25178-2:2021 eq. (D.15). For each of the (nx-1)*(ny-1) grid cells with corners "
    "A=(r,c), B=(r,c+1), C=(r+1,c+1), D=(r+1,c): both diagonal triangulations (ABC+ACD and ABD+BCD) "
    "are formed and averaged; equivalently cell_area = 0.5 * (T_A + T_B + T_C + T_D) where T_P is the "
    "area of the right triangle at corner P spanned by the cell's x-edge and y-edge meeting at P: "
    "T = 0.5*sqrt((step_y*dz_x)^2 + (step_x*dz_y)^2 + (step_x*step_y)^2), with dz_x the height "
    "difference along that x-edge and dz_y along that y-edge. surface_area = sum of cell areas. "
    "projected_area = (nx-1)*step_x * (ny-1)*step_y (the area covered by the same cells). "
    "Sdr = (surface_area/projected_area - 1) * 100, in percent. "
    "Source: surfalize/surface.py Surface.surface_area / projected_area / Sdr; width_um = "
    "(nx-1)*step_x and height_um = (ny-1)*step_y are set in the Surface.data setter.",
    "Sdr_flat_plane_bug": "Not present in surfalize 0.19.2: projected area uses (n-1)*step, consistent "
    "with the (n-1)^2 cells summed, so a flat plane gives Sdr = 0 exactly (see flat_plane). Older "
    "releases used n*step for the projected area, which gives a negative Sdr on a flat plane; "
    "'Sdr_legacy_projected_n_step' in the numpy values shows that wrong convention, for information only. "
    "The Rust code must match 'Sdr' (the (n-1)*step convention), which surfalize and numpy agree on.",
    "levelling_for_spatial": "Sal/Str are computed on the least-squares-plane-levelled surface "
    "(Surface.level() = detrend_polynomial(degree=1): plane c0 + c1*x + c2*y fitted by lstsq on "
    "coordinates normalised to [-1,1]; same plane as an unnormalised fit).",
    "ACF": "Unbiased LINEAR (non-circular) autocorrelation: data centred by its mean, "
    "raw = scipy.signal.fftconvolve(c, c[::-1, ::-1], mode='full') (shape (2ny-1, 2nx-1), zero lag at "
    "index (ny-1, nx-1)), then each lag (ty, tx) divided by its overlap count (ny-|ty|)*(nx-|tx|). "
    "Equivalently ACF(ty,tx) = mean over overlapping pixels of c[r,q]*c[r+ty,q+tx]. Not FFT-circular, "
    "not correlate 'same', not normalised to 1. Source: surfalize/autocorrelation.py "
    "AutocorrelationFunction.calculate_autocorrelation.",
    "Sal": "threshold = s * ACF(0,0) (zero lag, not global max), s = 0.2. mask = ACF > threshold; region = "
    "4-connected component (scipy.ndimage.label default structure) containing the zero lag; edge = "
    "region XOR binary_dilation(region) (4-connected outer boundary pixels). For every edge pixel e: "
    "sample the ACF along the straight ray centre->e at 1000 points t = linspace(0,1,1000) with "
    "scipy.ndimage.map_coordinates(order=3, mode='constant', cval=0, prefilter=True: cubic B-spline), "
    "take t* = argmin_t |ACF_ray(t) - threshold| (first index on ties), decay_length(e) = "
    "|(e - centre)*(step_y, step_x)| * t*. Sal = min over edge pixels of decay_length. Lengths in mm. "
    "Source: surfalize/autocorrelation.py _calculate_decay_lengths.",
    "Str": "Str = min(decay_length)/max(decay_length) over the same edge-pixel set (so Str <= 1), with the "
    "same s. If the thresholded region touches the border of the ACF array, Str is undefined and "
    "surfalize returns NaN (stored as null) with a RuntimeWarning; 'Str_bound_if_undefined' is the ratio "
    "anyway. surfalize 0.19.2 passes s through Surface.Str(s) -> AutocorrelationFunction.Str(s) -> "
    "_calculate_decay_lengths(s): no hidden default-s Sal() call in this version; s=0.2 is used everywhere "
    "here regardless.",
    "Sal_Str_tolerance_note": "Sal/Str depend on cubic-spline interpolation and a 1000-sample argmin, so a "
    "Rust port will generally not reproduce them to 1e-6 unless it replicates map_coordinates(order=3) "
    "exactly; the interpolation-free diagnostics (acf_zero_lag, acf_threshold, acf_edge_pixel_count, "
    "acf_edge_pixel_min/max_distance, acf_region_touches_border) are exact and should match to 1e-9. "
    "Sal lies in [0, acf_edge_pixel_min_distance] and is typically within one pixel step of it.",
    "nan_policy": "NaN / undefined values are written as JSON null (e.g. Ssk/Sku of a flat plane, 0/0 in "
    "surfalize; Str when undefined).",
    "comparison_tolerance": "Rust should match 'surfalize' (== 'numpy', they agree to ~1e-14) within 1e-6 "
    "relative; for reference values with |v| < 1e-9 (e.g. Sdr of flat_plane = 2.2e-14 from rounding, Ssk of "
    "plane45 ~ 6e-16) use an absolute tolerance of 1e-9 instead.",
}


def main():
    maps = make_maps()
    result = {
        "provenance": provenance(__file__, ["numpy", "scipy", "scikit-image", "surfalize"]),
        "definitions": DEFINITIONS,
        "step_x_mm": STEP,
        "step_y_mm": STEP,
        "s_threshold": S_THRESHOLD,
        "surfalize_available": HAVE_SURFALIZE,
        "maps": {},
    }
    worst = 0.0
    for name, m in maps.items():
        z = m["z"].astype(np.float64)
        csv = FIXTURE_DIR / f"{name}.csv"
        write_csv_float(csv, z)
        # read back to guarantee the CSV round-trips bit-exactly
        back = np.loadtxt(csv, delimiter=",", ndmin=2)
        assert back.shape == z.shape and np.array_equal(back, z), name
        ny, nx = z.shape

        npv = np_height(z)
        npv["Sdq"] = np_sdq(z, STEP, STEP)
        npv["Sdr"] = np_sdr(z, STEP, STEP)
        npv["surface_area"] = np_surface_area_d15(z, STEP, STEP)
        npv["projected_area"] = (nx - 1) * STEP * (ny - 1) * STEP
        npv["Sdr_legacy_projected_n_step"] = np_sdr_legacy_projected(z, STEP, STEP)

        entry = {
            "csv": f"tests/fixtures/reference/{name}.csv",
            "csv_sha256": sha256_file(csv),
            "rows": ny,
            "cols": nx,
            "recipe": m["recipe"],
            "numpy": npv,
        }
        if "expected" in m:
            entry["expected_analytic"] = m["expected"]

        if HAVE_SURFALIZE:
            sv = surfalize_values(z)
            entry["surfalize"] = sv
            diffs = {}
            for k, v in sv.items():
                a, b = v, npv[k]
                if math.isnan(a) and math.isnan(b):
                    diffs[k] = 0.0
                else:
                    diffs[k] = rel_diff(a, b) if abs(a) > 1e-12 or abs(b) > 1e-12 else abs(a - b)
            entry["surfalize_vs_numpy_max_rel_diff"] = max(diffs.values())
            worst = max(worst, entry["surfalize_vs_numpy_max_rel_diff"])

        if not m.get("test_vector"):
            lev_np = np_level(z)
            entry["numpy_spatial"] = np_sal_str(lev_np, STEP, STEP, S_THRESHOLD)
            # sanity: FFT ACF == direct sum
            acf_fft = np_acf_unbiased(lev_np)
            acf_dir = np_acf_unbiased_direct(lev_np)
            entry["acf_fft_vs_direct_max_abs_diff"] = float(np.max(np.abs(acf_fft - acf_dir)))
            if HAVE_SURFALIZE:
                sp, lev_sf = surfalize_spatial(z)
                entry["surfalize_spatial"] = sp
                entry["levelled_surfalize_vs_numpy_max_abs_diff"] = float(np.max(np.abs(lev_sf - lev_np)))
        result["maps"][name] = entry
        log(f"{name}: surfalize vs numpy max rel diff = {entry.get('surfalize_vs_numpy_max_rel_diff')}")

    assert worst < 1e-9, f"surfalize and numpy disagree: {worst}"
    result["surfalize_vs_numpy_worst_rel_diff"] = worst
    out = FIXTURE_DIR / "roughness.json"
    write_json(out, result)
    log("wrote", out)


if __name__ == "__main__":
    main()
