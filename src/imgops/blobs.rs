//! Dark blobs: scale-normalised Laplacian-of-Gaussian candidates over a range of scales, with
//! Hessian roundness and non-maximum suppression across space and scale (Lindeberg 1998,
//! doi:10.1023/A:1008045108935). Used by the pores and scars families.
//!
//! ```text
//! R(x, y; σ) = σ² · (∂²/∂x² + ∂²/∂y²)(G_σ ∗ z)      dark blob > 0
//! ```
//! A dark disk of diameter d and contrast c gives, at its centre, `R = c · t · exp(−t/2)` with
//! `t = d² / (4σ²)`, largest (0.736 c) at `σ = d / (2√2)`; a Gaussian pit of standard width s
//! peaks at σ = s with R = c/2. Each σ is computed on the pyramid level where `σ / 2^m ∈
//! [1.6, 3.2)` level pixels (blur to 1 px accumulated σ, keep every second sample). Candidates
//! are local maxima of R over the 3 × 3 neighbourhood and the two neighbouring scales with
//! `R ≥ max(min_response, min_snr · σ_R)` (σ_R: the robust standard deviation, 1.4826 × MAD, of
//! that scale's R over the mask; `min_snr` 0 leaves it out) and Hessian roundness
//! `λ_small / λ_large ≥ min_roundness`; then, in decreasing R, a candidate is dropped when an
//! accepted one lies within `max(r_a, r_b)`, `r = √2·σ`. The limit `min_snr` may depend on σ.
//!
//! # False alarms across scales
//! A limit of k robust SDs is the 3-sigma limit of one measurement (Currie 1968); a search
//! tests every position at every scale, and a zone holds about `A / σ²` independent positions
//! at scale σ, so a fixed k lets through many more texture blobs at small scales than at large
//! ones. For a smooth Gaussian random field the expected number of local maxima above `u`
//! standard deviations per unit area is its Euler-characteristic density,
//! `ρ(u) ∝ λ · u · exp(−u²/2)` with `λ` (the variance of the field's gradient over its
//! variance) ∝ 1/σ² for a field filtered at scale σ (Adler 1981; Worsley et al. 1996, with
//! `λ = 4 ln 2 / FWHM²`). Holding `ρ` at every scale to its value for `k` at the largest scale
//! σ_max gives [`equal_false_alarm_snr`](crate::imgops::blobs::equal_false_alarm_snr):
//! ```text
//! u(σ)² − 2 ln u(σ) = k² − 2 ln k + 4 ln(σ_max / σ)
//! ```
//! (k = 3: u = 3.47 one octave below σ_max, 3.88 two octaves, 4.24 three).

use super::cells::CellGrid;
use ndarray::{Array2, ArrayView2};

use crate::imgops::gaussian::{
    for_each_blurred_band, gaussian_blur_exact_decimated, reflect_index,
};
use crate::imgops::hessian::{hessian_row, symmetric_mu};
use crate::imgops::simd::widest_simd;

/// Smallest blur, in level pixels, at which a scale is computed on a pyramid level (scars also
/// decimate their base grid by it).
pub const MIN_LEVEL_SIGMA: f64 = 1.6;

/// A blob candidate.
#[derive(Debug, Clone, Copy)]
pub struct Blob {
    /// Base-grid position (col, row).
    pub x: usize,
    pub y: usize,
    /// Scale in base pixels.
    pub sigma: f64,
    pub response: f32,
}

/// Blur to an accumulated σ of 1 px of the next level and keep every second sample (the exact
/// FIR, which [`crate::imgops::gaussian::gaussian_blur`] also uses at these σ, evaluated at
/// the kept samples only).
fn pyramid_down(src: ArrayView2<f32>, first: bool) -> Array2<f32> {
    // Accumulated blur goes from 0 (base) or 1 (level px) to 2 level px = 1 next-level px.
    let sigma = if first { 2.0f32 } else { 3.0f32.sqrt() };
    gaussian_blur_exact_decimated(src, sigma)
}

/// The detection limit at scale `sigma` that keeps the expected number of false blobs per unit
/// area what `snr_at_largest` allows at the largest scale `sigma_max` (module doc, "False
/// alarms across scales"): the `u ≥ snr_at_largest` solving
/// `u² − 2 ln u = k² − 2 ln k + 4 ln(σ_max / σ)`, `k` = `snr_at_largest`. A `k` of 0 or less
/// (no limit) is returned as it is.
pub fn equal_false_alarm_snr(snr_at_largest: f64, sigma: f64, sigma_max: f64) -> f64 {
    let k = snr_at_largest;
    if k <= 0.0 || sigma >= sigma_max {
        return k;
    }
    let c = k * k - 2.0 * k.ln() + 4.0 * (sigma_max / sigma).ln();
    // u = sqrt(c + 2 ln u) is a contraction for u ≥ 1 (derivative 1 / (u · sqrt(...)) < 1/u²).
    let mut u = c.sqrt().max(k);
    for _ in 0..50 {
        let next = (c + 2.0 * u.ln()).sqrt();
        if (next - u).abs() < 1e-12 {
            return next;
        }
        u = next;
    }
    u
}

/// The detection statistic at one scale about one point: the detector's own scale-normalised
/// LoG response `R = σ² ∇²(G_σ ∗ z)` (`log_response`, on the base grid), its largest value
/// within `radius` px of `(cx, cy)`, in robust standard deviations of `R` over `mask` (the
/// limit [`log_blobs`] compares with). None when the mask holds too few samples or `R` has no
/// spread. For scoring against a ground truth: the detector itself computes `R` on pyramid
/// levels.
pub fn log_snr_near(
    z: &Array2<f32>,
    mask: &Array2<bool>,
    sigma: f64,
    (cx, cy): (f64, f64),
    radius: f64,
) -> Option<f64> {
    let (r, _) = log_response(z.view(), sigma, 0.0, 0.0, BAND_ROWS);
    let (h, w) = r.dim();
    // Also None for an empty plane: `robust_sd` needs at least 64 samples.
    let sd = robust_sd(r.view(), mask, 1);
    if sd <= 0.0 {
        return None;
    }
    let radius = radius.max(1.0);
    let rows =
        ((cy - radius).floor().max(0.0) as usize)..((cy + radius).ceil() as usize + 1).min(h);
    let cols =
        ((cx - radius).floor().max(0.0) as usize)..((cx + radius).ceil() as usize + 1).min(w);
    let mut best = f32::NEG_INFINITY;
    for i in rows {
        for j in cols.clone() {
            let inside = (i as f64 - cy).powi(2) + (j as f64 - cx).powi(2) <= radius * radius;
            if inside && mask[[i, j]] {
                best = best.max(r[[i, j]]);
            }
        }
    }
    best.is_finite().then(|| f64::from(best / sd))
}

/// Geometric scales from `s_min` to `s_max` (both included) with at least `per_octave` per
/// doubling of σ; one scale when the two are within 0.01 %.
pub fn log_scales(s_min: f64, s_max: f64, per_octave: f64) -> Vec<f64> {
    let n = if s_max > s_min * 1.0001 {
        ((s_max / s_min).log2() * per_octave).ceil() as usize + 1
    } else {
        1
    };
    (0..n)
        .map(|k| {
            if n == 1 {
                s_min
            } else {
                s_min * (s_max / s_min).powf(k as f64 / (n - 1) as f64)
            }
        })
        .collect()
}

/// Scale-normalised LoG candidates over `sigmas` (base px), strongest first, after
/// non-maximum suppression across space and scale between candidates whose σ differ by at
/// most `nms_scale_ratio` (∞: every pair; 2: within one octave, so that a broad weak blob is
/// not suppressed by a small strong one inside it, e.g. a pore inside a rolling scar).
pub fn log_blobs(
    z: &Array2<f32>,
    mask: &Array2<bool>,
    sigmas: &[f64],
    min_response: f32,
    min_roundness: f32,
    min_snr: &(dyn Fn(f64) -> f32 + Sync),
    nms_scale_ratio: f64,
) -> Vec<Blob> {
    let level_of = |sigma: f64| (sigma / MIN_LEVEL_SIGMA).log2().floor().max(0.0) as usize;
    let max_level = sigmas.iter().map(|&s| level_of(s)).max().unwrap_or(0);
    // Pyramid levels 1, 2, ...; level 0 is `z` itself (not copied).
    let mut coarser: Vec<Array2<f32>> = Vec::new();
    for m in 1..=max_level {
        let next = pyramid_down(coarser.last().map_or(z.view(), |l| l.view()), m == 1);
        if next.nrows() < 3 || next.ncols() < 3 {
            break;
        }
        coarser.push(next);
    }
    let n_levels = coarser.len() + 1;
    let level_view = |m: usize| {
        if m == 0 {
            z.view()
        } else {
            coarser[m - 1].view()
        }
    };
    // Response and roundness maps per scale, on each scale's level. Scale k is compared with
    // its neighbours k ± 1 only: its candidates are found while scale k − 1 is held and
    // checked against scale k + 1 once that is made, after k − 1 is dropped, so at most two
    // maps are held at a time.
    struct ScaleMap {
        level: usize,
        response: Array2<f32>,
        /// Roundness ≥ `min_roundness`.
        round_enough: RowBits,
    }
    impl ScaleMap {
        /// Whether `v` at base position (by, bx) is at least this scale's response there.
        fn beaten_by(&self, v: f32, (by, bx): (usize, usize)) -> bool {
            let st = 1usize << self.level;
            let (oh, ow) = self.response.dim();
            let oi = ((by + st / 2) / st).min(oh - 1);
            let oj = ((bx + st / 2) / st).min(ow - 1);
            v >= self.response[[oi, oj]]
        }
    }
    let make_map = |sigma: f64| {
        let level = level_of(sigma).min(n_levels - 1);
        let sl = sigma / (1u64 << level) as f64;
        let acc = if level == 0 { 0.0 } else { 1.0 };
        let (response, round_enough) =
            log_response(level_view(level), sl, acc, min_roundness, BAND_ROWS);
        ScaleMap {
            level,
            response,
            round_enough,
        }
    };
    // Spatial maxima of scale k at or above its threshold, round enough, inside the mask and
    // not below scale k − 1 there.
    let local_maxima = |k: usize, map: &ScaleMap, below: Option<&ScaleMap>| -> Vec<Blob> {
        let r = &map.response;
        let (h, w) = r.dim();
        let step = 1usize << map.level;
        let snr = min_snr(sigmas[k]);
        let min_r = if snr > 0.0 {
            min_response.max(snr * robust_sd(r.view(), mask, step))
        } else {
            min_response
        };
        fn row(a: &Array2<f32>, i: usize) -> &[f32] {
            let cols = a.ncols();
            &a.as_slice().expect("fresh standard-layout array")[i * cols..(i + 1) * cols]
        }
        let mut found = Vec::new();
        for i in 1..h.saturating_sub(1) {
            let (up, mid, down) = (row(r, i - 1), row(r, i), row(r, i + 1));
            let round = map.round_enough.row(i);
            for j in 1..w.saturating_sub(1) {
                // Cheap rejections first: most pixels are below the response threshold.
                let v = mid[j];
                if v < min_r || !RowBits::get(round, j) {
                    continue;
                }
                let (by, bx) = (i * step, j * step);
                if by >= mask.nrows() || bx >= mask.ncols() || !mask[[by, bx]] {
                    continue;
                }
                // Ties: the earlier pixel in raster order wins.
                let is_max = !(up[j - 1] >= v
                    || up[j] >= v
                    || up[j + 1] >= v
                    || mid[j - 1] >= v
                    || mid[j + 1] > v
                    || down[j - 1] > v
                    || down[j] > v
                    || down[j + 1] > v);
                if !is_max || below.is_some_and(|m| !m.beaten_by(v, (by, bx))) {
                    continue;
                }
                found.push(Blob {
                    x: bx,
                    y: by,
                    sigma: sigmas[k],
                    response: v,
                });
            }
        }
        found
    };

    let mut cands = Vec::new();
    let (mut below, mut map): (Option<ScaleMap>, Option<ScaleMap>) =
        (None, sigmas.first().map(|&s| make_map(s)));
    for k in 0..sigmas.len() {
        let current = map.take().expect("made before its turn");
        let found = local_maxima(k, &current, below.take().as_ref());
        let above = sigmas.get(k + 1).map(|&s| make_map(s));
        cands.extend(found.into_iter().filter(|b| {
            above
                .as_ref()
                .is_none_or(|m| m.beaten_by(b.response, (b.y, b.x)))
        }));
        (below, map) = (Some(current), above);
    }
    cands.sort_by(|a, b| {
        b.response
            .total_cmp(&a.response)
            .then((a.y, a.x).cmp(&(b.y, b.x)))
    });
    suppress_non_maxima(cands, mask.dim(), nms_scale_ratio)
}

/// Robust standard deviation (1.4826 × median absolute deviation from the median) of a level's
/// response over the pixels whose base-grid position is in `mask`, on every
/// [`ROBUST_SD_STRIDE`]-th row and column; 0 when fewer than 64 pixels are sampled.
fn robust_sd(r: ArrayView2<f32>, mask: &Array2<bool>, step: usize) -> f32 {
    let mut v: Vec<f32> = Vec::with_capacity(
        r.nrows().div_ceil(ROBUST_SD_STRIDE) * r.ncols().div_ceil(ROBUST_SD_STRIDE),
    );
    for i in (0..r.nrows()).step_by(ROBUST_SD_STRIDE) {
        for j in (0..r.ncols()).step_by(ROBUST_SD_STRIDE) {
            let (by, bx) = (i * step, j * step);
            if by < mask.nrows() && bx < mask.ncols() && mask[[by, bx]] {
                v.push(r[[i, j]]);
            }
        }
    }
    if v.len() < 64 {
        return 0.0;
    }
    let mid = v.len() / 2;
    let med = *v.select_nth_unstable_by(mid, f32::total_cmp).1;
    for x in &mut v {
        *x = (*x - med).abs();
    }
    1.4826 * *v.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// Row and column stride of the samples [`robust_sd`] takes.
const ROBUST_SD_STRIDE: usize = 2;

/// Greedy non-maximum suppression of `cands` (already in decreasing response): a candidate is
/// dropped when an accepted one whose σ is within a factor `scale_ratio` of its own lies within
/// `max(r_a, r_b)`, `r = √2·σ`, base px.
///
/// Accepted candidates are bucketed on a grid of cells as large as the largest radius, so each
/// candidate is compared with the accepted ones of its 3 × 3 cells only (O(N) instead of
/// O(N·K)); distances are compared squared ([`sqrt_below`]), with the same decisions as
/// `sqrt(d²) < r`.
fn suppress_non_maxima(cands: Vec<Blob>, (h, w): (usize, usize), scale_ratio: f64) -> Vec<Blob> {
    let radius = |c: &Blob| std::f64::consts::SQRT_2 * c.sigma;
    let r_max = cands.iter().map(radius).fold(1.0, f64::max);
    let cell = r_max.ceil();
    let mut grid: CellGrid<u32> = CellGrid::new((h, w), cell);
    let mut kept: Vec<Blob> = Vec::new();
    for c in cands {
        let r_c = radius(&c);
        let at = (c.x as f64, c.y as f64);
        let suppressed = grid.any_near(at, |&i| {
            let k = &kept[i as usize];
            if c.sigma.max(k.sigma) > scale_ratio * c.sigma.min(k.sigma) {
                return false;
            }
            let dx = c.x as f64 - k.x as f64;
            let dy = c.y as f64 - k.y as f64;
            sqrt_below(dx * dx + dy * dy, r_c.max(radius(k)))
        });
        if !suppressed {
            grid.insert(at, kept.len() as u32);
            kept.push(c);
        }
    }
    kept
}

/// A distance bound compared with squared distances, with the same decisions as comparing
/// `d2.sqrt()` with the bound: the f64 square root is correctly rounded, so outside a relative
/// band of 1e-9 about `bound²` the squared comparison gives the same answer, and inside it the
/// root is taken.
#[derive(Clone, Copy)]
pub struct SqrtBound {
    bound: f64,
    /// `bound² (1 − 1e-9)` and `bound² (1 + 1e-9)`.
    lo: f64,
    hi: f64,
}

impl SqrtBound {
    pub fn new(bound: f64) -> Self {
        let b2 = bound * bound;
        Self {
            bound,
            lo: b2 * (1.0 - 1e-9),
            hi: b2 * (1.0 + 1e-9),
        }
    }

    /// `d2.sqrt() < bound` for `d2 ≥ 0`.
    #[inline]
    pub fn closer(&self, d2: f64) -> bool {
        if d2 < self.lo {
            true
        } else if d2 > self.hi {
            false
        } else {
            d2.sqrt() < self.bound
        }
    }

    /// `d2.sqrt() <= bound` for `d2 ≥ 0`.
    #[inline]
    pub fn within(&self, d2: f64) -> bool {
        if d2 < self.lo {
            true
        } else if d2 > self.hi {
            false
        } else {
            d2.sqrt() <= self.bound
        }
    }
}

/// `d2.sqrt() < bound` for `d2 ≥ 0` (see [`SqrtBound`]).
#[inline]
fn sqrt_below(d2: f64, bound: f64) -> bool {
    SqrtBound::new(bound).closer(d2)
}

/// σ²-normalised Laplacian (dark-blob positive) and Hessian roundness λ_small/λ_large (0 unless
/// the blob is dark in both directions) of `level` at total scale `sigma` level px, of which
/// `acc` px are already in the level's own blur.
///
/// The Hessian is [`hessian_eigenvalues`](crate::imgops::hessian::hessian_eigenvalues)'s
/// (exact FIR blur of `residual` px, central second differences, half-sample reflection at the
/// borders, σ_r²-normalised, eigenvalues ordered by magnitude), computed here row by row without
/// the line orientation, which blobs do not need. The roundness is kept only as whether it
/// reaches `min_roundness` (a byte per pixel instead of an f32).
fn log_response(
    level: ArrayView2<f32>,
    sigma: f64,
    acc: f64,
    min_roundness: f32,
    band_rows: usize,
) -> (Array2<f32>, RowBits) {
    let residual = (sigma * sigma - acc * acc).max(0.25).sqrt();
    let norm = (residual * residual) as f32;
    // The blob scale is the total σ.
    let gain = (sigma * sigma / (residual * residual)) as f32;
    let (rows, cols) = level.dim();
    let mut resp = Array2::<f32>::zeros((rows, cols));
    let mut round = RowBits::new(rows, cols);
    if rows == 0 || cols == 0 {
        return (resp, round);
    }
    let rs = resp.as_slice_mut().expect("fresh array");
    let mut round_row = vec![false; cols];
    // The blur band by band (the same bits as blurring the whole level), each band with the
    // row above and below it that the second differences need: memory for a band, not for a
    // second copy of the level.
    let mut hessian: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; cols]);
    // Rows −1 and `rows` reflect to 0 and rows − 1, which are then in the band.
    for_each_blurred_band(level, residual as f32, band_rows, 1, |rows_in, band| {
        for i in rows_in {
            let up = band.row(reflect_index(i as isize - 1, rows));
            let down = band.row(reflect_index(i as isize + 1, rows));
            let [hxx, hxy, hyy] = &mut hessian;
            hessian_row(up, band.row(i), down, norm, (hxx, hxy, hyy));
            blob_row(
                (hxx, hxy, hyy),
                (gain, min_roundness),
                &mut rs[i * cols..(i + 1) * cols],
                &mut round_row,
            );
            round.set_row(i, &round_row);
        }
    });
    (resp, round)
}

/// A boolean per pixel, a bit each (a level of 24 MP: 3 MB instead of 24).
struct RowBits {
    words_per_row: usize,
    words: Vec<u64>,
}

impl RowBits {
    fn new(rows: usize, cols: usize) -> Self {
        let words_per_row = cols.div_ceil(64);
        Self {
            words_per_row,
            words: vec![0; rows * words_per_row],
        }
    }

    fn set_row(&mut self, i: usize, values: &[bool]) {
        let row = &mut self.words[i * self.words_per_row..(i + 1) * self.words_per_row];
        for (word, chunk) in row.iter_mut().zip(values.chunks(64)) {
            *word = chunk
                .iter()
                .enumerate()
                .fold(0u64, |w, (b, &v)| w | (u64::from(v) << b));
        }
    }

    /// The words of row `i`, for [`RowBits::get`].
    fn row(&self, i: usize) -> &[u64] {
        &self.words[i * self.words_per_row..(i + 1) * self.words_per_row]
    }

    fn get(row: &[u64], j: usize) -> bool {
        (row[j / 64] >> (j % 64)) & 1 == 1
    }
}

/// Rows per band of [`log_response`]'s blur (any number gives the same bits).
const BAND_ROWS: usize = 256;

widest_simd! {
    /// Response, and whether the roundness reaches `min_roundness`, of one row from its
    /// σ²-normalised Hessian `(Hxx, Hxy, Hyy)`, `params` = (gain, min_roundness); compiled for
    /// the widest vector unit (only exactly rounded IEEE operations and selects: every variant
    /// gives the same bits).
    fn blob_row(
        hessian: (&[f32], &[f32], &[f32]),
        params: (f32, f32),
        resp: &mut [f32],
        round: &mut [bool],
    ) {
        let (hxx, hxy, hyy) = hessian;
        let n = resp.len();
        let (hxx, hxy, hyy, round) = (&hxx[..n], &hxy[..n], &hyy[..n], &mut round[..n]);
        let (gain, min_roundness) = params;
        for j in 0..n {
            let (response, roundness) = blob_of_hessian(hxx[j], hxy[j], hyy[j], gain);
            resp[j] = response;
            // Never NaN (0 unless both eigenvalues are positive), so this is `!(r < min)`.
            round[j] = roundness >= min_roundness;
        }
    }
}

/// `(gain·(λ1 + λ2), roundness)` of the symmetric 2×2 matrix [[a, b], [b, c]], λ ordered by
/// magnitude as in `hessian_eigenvalues`; roundness = λ_small/λ_large when both are positive
/// (a dark blob), else 0.
#[inline(always)]
fn blob_of_hessian(a: f32, b: f32, c: f32, gain: f32) -> (f32, f32) {
    let (mean, _, plus, minus) = symmetric_mu(a, b, c);
    let dark = mean >= 0.0;
    let small = if dark { minus } else { plus };
    let big = if dark { plus } else { minus };
    // The ratio is computed everywhere and selected (branch-free).
    let ratio = small / big;
    let roundness = if small > 0.0 && big > 0.0 { ratio } else { 0.0 };
    (gain * (small + big), roundness)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `log_snr_near` measures what `log_blobs` thresholds: on a textured plane (hash noise,
    /// SD 0.05) with a dark Gaussian blob of σ 4 px and depth 1.0 and one of depth 0.02, the
    /// deep blob stands many robust SDs above the texture at its scale and is the blob
    /// `log_blobs` finds at a limit of 3 SDs; the shallow one stands below that limit and is
    /// not found.
    #[test]
    fn log_snr_near_is_the_statistic_log_blobs_thresholds() {
        let n = 160;
        let noise = |i: usize, j: usize| {
            let mut h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ (j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
            h ^= h >> 31;
            h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
            h ^= h >> 29;
            ((h >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.05 * 12f64.sqrt()
        };
        let blob = |i: usize, j: usize, (ci, cj): (f64, f64), depth: f64| {
            let r2 = (i as f64 - ci).powi(2) + (j as f64 - cj).powi(2);
            -depth * (-r2 / 32.0).exp()
        };
        let (deep, shallow) = ((50.0, 50.0), (110.0, 110.0));
        let z = Array2::from_shape_fn((n, n), |(i, j)| {
            (noise(i, j) + blob(i, j, deep, 1.0) + blob(i, j, shallow, 0.02)) as f32
        });
        let mask = Array2::from_elem((n, n), true);
        let snr = |(ci, cj): (f64, f64)| log_snr_near(&z, &mask, 4.0, (cj, ci), 2.0).unwrap();
        assert!(snr(deep) > 10.0, "deep blob {}", snr(deep));
        assert!(snr(shallow) < 3.0, "shallow blob {}", snr(shallow));
        let found = log_blobs(&z, &mask, &[4.0], 0.0, 0.0, &|_| 3.0, 1.5);
        assert!(
            found
                .iter()
                .any(|b| (b.x as f64 - deep.1).hypot(b.y as f64 - deep.0) <= 2.0),
            "{found:?}"
        );
        assert!(
            !found
                .iter()
                .any(|b| (b.x as f64 - shallow.1).hypot(b.y as f64 - shallow.0) <= 4.0),
            "{found:?}"
        );
    }

    /// The limit is `k` at the largest scale, solves its equation below it, rises by the
    /// documented amounts per octave (one independent position becomes four) and leaves "no
    /// limit" alone.
    #[test]
    fn false_alarm_limit_holds_the_rate_per_area() {
        let k = 3.0;
        assert_eq!(equal_false_alarm_snr(k, 8.0, 8.0), k);
        assert_eq!(equal_false_alarm_snr(k, 9.0, 8.0), k);
        assert_eq!(equal_false_alarm_snr(0.0, 1.0, 8.0), 0.0);
        let mut last = k;
        for (octaves, expected) in [(1, 3.474), (2, 3.881), (3, 4.244), (4, 4.575)] {
            let ratio = f64::from(1u32 << octaves);
            let u = equal_false_alarm_snr(k, 8.0 / ratio, 8.0);
            // Euler-characteristic density per area, ∝ u·exp(−u²/2) / σ², as at σ_max.
            let density = |u: f64, sigma: f64| u * (-0.5 * u * u).exp() / (sigma * sigma);
            let rel = density(u, 8.0 / ratio) / density(k, 8.0) - 1.0;
            assert!(rel.abs() < 1e-9, "{octaves} octaves: density off by {rel}");
            assert!((u - expected).abs() < 1e-3, "{octaves} octaves: {u}");
            assert!(u > last);
            last = u;
        }
    }

    #[test]
    fn bands_and_bits_give_the_whole_level() {
        let (rows, cols) = (53, 70);
        let level = Array2::from_shape_fn((rows, cols), |(r, c)| {
            ((r as f32 * 0.7).sin() * (c as f32 * 0.45).cos()) * 0.03
        });
        let (whole, round) = log_response(level.view(), 1.3, 0.0, 0.3, usize::MAX);
        let trues = (0..rows)
            .flat_map(|i| (0..cols).map(move |j| (i, j)))
            .filter(|&(i, j)| RowBits::get(round.row(i), j))
            .count();
        assert!(trues > 0 && trues < rows * cols, "{trues}");
        for band in [1, 3, 8] {
            let (r, q) = log_response(level.view(), 1.3, 0.0, 0.3, band);
            assert!(
                whole
                    .iter()
                    .zip(&r)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{band}"
            );
            assert_eq!(round.words, q.words, "{band}");
        }
        // The bits are the booleans they were set from.
        let mut bits = RowBits::new(2, 130);
        let values: Vec<bool> = (0..130).map(|j| j % 3 == 0 || j == 129).collect();
        bits.set_row(1, &values);
        for (j, &v) in values.iter().enumerate() {
            assert_eq!(RowBits::get(bits.row(1), j), v, "{j}");
            assert!(!RowBits::get(bits.row(0), j));
        }
    }

    /// The grid-bucketed suppression against the naive all-pairs loop with square roots, on
    /// clustered pseudo-random candidates of mixed scales (many near-boundary distances).
    #[test]
    fn grid_suppression_matches_all_pairs() {
        let mut state = 0x2545_f491_u64;
        let mut next = move |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 33) % n
        };
        let (h, w) = (157, 211);
        let mut cands: Vec<Blob> = (0..3000)
            .map(|_| Blob {
                x: next(w as u64) as usize,
                y: next(h as u64) as usize,
                sigma: [1.6, 2.0, 2.52, 3.17, 4.0, 7.5, 12.0][next(7) as usize],
                response: next(50) as f32 * 0.01,
            })
            .collect();
        cands.sort_by(|a, b| {
            b.response
                .total_cmp(&a.response)
                .then((a.y, a.x).cmp(&(b.y, b.x)))
        });
        for ratio in [f64::INFINITY, 2.0] {
            let mut naive: Vec<Blob> = Vec::new();
            for c in &cands {
                let r_c = std::f64::consts::SQRT_2 * c.sigma;
                let suppressed = naive.iter().any(|k| {
                    let r_k = std::f64::consts::SQRT_2 * k.sigma;
                    let (dx, dy) = (c.x as f64 - k.x as f64, c.y as f64 - k.y as f64);
                    c.sigma.max(k.sigma) <= ratio * c.sigma.min(k.sigma)
                        && (dx * dx + dy * dy).sqrt() < r_c.max(r_k)
                });
                if !suppressed {
                    naive.push(*c);
                }
            }
            let fast = suppress_non_maxima(cands.clone(), (h, w), ratio);
            assert!(naive.len() > 50, "{}", naive.len());
            let key = |c: &Blob| (c.x, c.y, c.sigma.to_bits(), c.response.to_bits());
            assert_eq!(
                fast.iter().map(key).collect::<Vec<_>>(),
                naive.iter().map(key).collect::<Vec<_>>(),
                "scale ratio {ratio}"
            );
        }
    }

    /// A strong small blob inside a broad weak one (a pore inside a rolling scar) suppresses it
    /// when every scale competes, and not when only scales within one octave do.
    #[test]
    fn small_strong_blob_keeps_a_broad_one_beyond_an_octave() {
        let pore = Blob {
            x: 50,
            y: 50,
            sigma: 1.6,
            response: 0.4,
        };
        let scar = Blob {
            x: 52,
            y: 49,
            sigma: 12.0,
            response: 0.1,
        };
        let near_scale = Blob {
            x: 51,
            y: 50,
            sigma: 3.0,
            response: 0.2,
        };
        let all = suppress_non_maxima(vec![pore, near_scale, scar], (100, 100), f64::INFINITY);
        assert_eq!(all.len(), 1);
        let octave = suppress_non_maxima(vec![pore, near_scale, scar], (100, 100), 2.0);
        let sigmas: Vec<f64> = octave.iter().map(|b| b.sigma).collect();
        assert_eq!(sigmas, vec![1.6, 12.0]);
    }

    #[test]
    fn sqrt_comparisons_on_squares_match_roots() {
        for d2 in 0..5000u32 {
            let d2 = f64::from(d2);
            for bound in [
                0.5,
                1.0,
                2.0,
                2.2627,
                3.0,
                5.0 * std::f64::consts::SQRT_2,
                50.0,
            ] {
                assert_eq!(sqrt_below(d2, bound), d2.sqrt() < bound, "{d2} {bound}");
                let b = SqrtBound::new(bound);
                assert_eq!(b.closer(d2), d2.sqrt() < bound, "{d2} {bound}");
                assert_eq!(b.within(d2), d2.sqrt() <= bound, "{d2} {bound}");
            }
        }
    }
}
