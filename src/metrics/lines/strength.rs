//! Multi-scale valley strength, each scale measured against the skin's own texture at that scale.
//!
//! ```text
//! H_σ      = σ²·[∂xx ∂xy; ∂xy ∂yy](G_σ ∗ z),  λ1, λ2 its eigenvalues, |λ1| ≤ |λ2|
//! Q        = max(0, min(d₊, d₋)) / max(d₊, d₋),  d± = L(p ± 2σ·n) − L(p),  L = G_σ ∗ z
//! R_σ(p)   = λ2/κ · exp(−(λ1/λ2)²/(2β²)) · Q   where λ2 > 0, else 0;   κ = 2/(3√3)
//! b_σ      = max(floor, factor · Q_q(R_σ | R_σ > 0))   over the zone at scale σ
//! SNR(p)   = max_σ (R_σ(p)/b_σ) / b_max,  σ*(p), θ(p) of the scale that gives it
//! ```
//! R_σ estimates the depth (in pseudo-height units, fractions of the local luminance) of a
//! Gaussian valley at its best scale σ = √2·s (s the valley's standard width; Lindeberg 1998,
//! doi:10.1023/A:1008045108935), attenuated for round depressions (Frangi's blobness, β) and
//! for one-sided edges (Q, two-sided test at 2σ along the normal n). b_σ is a constant
//! false-alarm-rate level: the texture of the skin itself (furrow network, pores, noise) sets the
//! distribution of R_σ at every scale; a robust upper level of that distribution (a multiple of
//! the median of the positive responses, about the 90th percentile of all responses on skin
//! without lines, and robust to the lines themselves) is what a line must exceed. The texture is strong at the narrow scales of the
//! furrows and weak at the scales of a wide wrinkle, so normalising each scale by its own level
//! before taking the maximum lets a wide faint wrinkle stand out in a strong fine texture. The
//! maximum over scales is then divided by its own level b_max (the same estimator, at least 1),
//! since the maximum of several ratios exceeds 1 more often than any one of them.
//!
//! Scales are computed on a Gaussian pyramid (blur by 2 px and keep every second sample, then
//! blur by √3 level px per further level: accumulated blur 1 level px) at the level L where
//! σ/2^L ≥ 2 level px, with the remaining blur `sqrt((σ/2^L)² − 1)`, and brought to the
//! detection grid (every `step`-th image pixel; see [`detection_step`]) by bilinear
//! interpolation, or by the maximum over the block when finer. Responses within 2σ of a pixel
//! outside the zone are 0. θ is the direction along the line (eigenvector of λ1) in [0, π),
//! counter-clockwise from +x as displayed.

use ndarray::{Array2, ArrayView2, s};
use rayon::prelude::*;

use crate::imgops::gaussian::{
    BlurredBand, for_each_blurred_band, gaussian_blur_exact_decimated, reflect_index,
};
use crate::imgops::hessian::{eigen2, hessian_row, symmetric_mu};
use crate::imgops::simd::{fast_exp, widest_simd};

/// Response `σ²·λ2` of a unit-depth Gaussian valley at its best scale: 2/(3√3).
pub const GAUSSIAN_PEAK_RESPONSE: f64 = 0.384_900_179;

/// Line width (FWHM of a Gaussian valley) per unit of best scale: `2·sqrt(ln 2)`.
pub const WIDTH_PER_SIGMA: f64 = 1.665_109_222;

/// Smallest blur, in level px, at which a scale is computed on a pyramid level L ≥ 1.
const MIN_LEVEL_SIGMA: f64 = 2.0;
/// Smallest σ, in detection-grid px, of the smallest scale.
const MIN_GRID_SIGMA: f64 = 1.0;
/// The maximum over the scales is spread wider than any one scale: on skin without lines, its
/// 90th percentile is 1.5-1.75 times its scaled positive median (phantoms of every stratum), against
/// 1.3-2.0 for one scale, so its level takes this extra factor.
const MERGED_LEVEL_FACTOR: f64 = 1.65;
/// Below this share of positive responses a zone counts as untextured at a scale (see
/// `texture_level`).
const MIN_POSITIVE_SHARE: f64 = 0.15;
/// Distance of the two side samples of the symmetry test, in σ.
const SIDE_SIGMAS: f64 = 2.0;
/// Responses closer than this many σ to the zone edge are ignored.
const EDGE_SIGMAS: f64 = 2.0;

/// How the texture level of each scale is estimated.
#[derive(Debug, Clone, Copy)]
pub struct TextureLevel {
    /// The level is this quantile of the zone's positive responses at the scale...
    pub quantile: f64,
    /// ... times this factor...
    pub factor: f64,
    /// ... and at least this, pseudo-height units.
    pub floor: f64,
}

/// The multi-scale valley strength of one zone on the detection grid.
pub struct ValleyStrength {
    /// Signal-to-texture ratio: max over σ of R_σ / b_σ (0 where no scale sees a valley).
    pub snr: Array2<f32>,
    /// R_σ* (pseudo-height units) at the best scale.
    pub strength: Array2<f32>,
    /// Best scale σ*, image px (NaN where snr is 0).
    pub sigma_px: Array2<f32>,
    /// Line direction at σ*, radians in [0, π).
    pub direction: Array2<f32>,
    /// Texture level b_σ of every scale (pseudo-height units), in the order of the scales.
    pub levels: Vec<f64>,
    /// Image px per grid px.
    pub step: usize,
}

/// Spacing (image px, a power of 2) of the grid on which lines are detected: the coarsest
/// pyramid level on which the smallest scale is still at least 1 grid px.
pub fn detection_step(sigmas_px: &[f64]) -> usize {
    let lo = sigmas_px.iter().copied().fold(f64::INFINITY, f64::min);
    let mut level = 0;
    while lo.is_finite() && lo / f64::from(1u32 << (level + 1)) >= MIN_GRID_SIGMA && level < 8 {
        level += 1;
    }
    1 << level
}

/// Pyramid level of scale `sigma_px`: the largest L with σ/2^L ≥ MIN_LEVEL_SIGMA (0 below).
fn pyramid_level(sigma_px: f64) -> usize {
    let mut level = 0;
    while sigma_px / f64::from(1u32 << (level + 1)) >= MIN_LEVEL_SIGMA && level < 12 {
        level += 1;
    }
    level
}

/// Bilinear weights of position `p` on an axis of `n` samples, clamped to it: the two samples
/// and the fraction towards the second.
#[inline]
fn axis_weights(p: f64, n: usize) -> (usize, usize, f32) {
    let p = p.clamp(0.0, (n - 1) as f64);
    // Non-negative after the clamp: truncation is the floor.
    let p0 = p as usize;
    (p0, (p0 + 1).min(n - 1), (p - p0 as f64) as f32)
}

/// Bilinear sample of the row-major `data` (`cols` wide) at the row and column weights.
#[inline]
fn bilinear_from(
    data: &[f32],
    cols: usize,
    (r0, r1, fr): (usize, usize, f32),
    cw: (usize, usize, f32),
) -> f32 {
    bilinear_rows(
        &data[r0 * cols..][..cols],
        &data[r1 * cols..][..cols],
        fr,
        cw,
    )
}

/// Bilinear sample between two rows at the row fraction `fr` and the column weights.
#[inline]
fn bilinear_rows(
    top_row: &[f32],
    bottom_row: &[f32],
    fr: f32,
    (c0, c1, fc): (usize, usize, f32),
) -> f32 {
    let top = top_row[c0] + fc * (top_row[c1] - top_row[c0]);
    let bottom = bottom_row[c0] + fc * (bottom_row[c1] - bottom_row[c0]);
    top + fr * (bottom - top)
}

/// Distance (level px) from each pixel to the nearest pixel outside `mask` (Euclidean, exact
/// within 1 px by two chamfer passes), or None when the mask is full.
fn edge_distance(mask: &Array2<bool>) -> Option<Array2<f32>> {
    if mask.iter().all(|&m| m) {
        return None;
    }
    let (rows, cols) = mask.dim();
    let big = (rows + cols) as f32;
    let mut d = mask.mapv(|m| if m { big } else { 0.0 });
    let (a, b) = (1.0f32, std::f32::consts::SQRT_2);
    for r in 0..rows {
        for c in 0..cols {
            let mut v = d[(r, c)];
            if c > 0 {
                v = v.min(d[(r, c - 1)] + a);
            }
            if r > 0 {
                v = v.min(d[(r - 1, c)] + a);
                if c > 0 {
                    v = v.min(d[(r - 1, c - 1)] + b);
                }
                if c + 1 < cols {
                    v = v.min(d[(r - 1, c + 1)] + b);
                }
            }
            d[(r, c)] = v;
        }
    }
    for r in (0..rows).rev() {
        for c in (0..cols).rev() {
            let mut v = d[(r, c)];
            if c + 1 < cols {
                v = v.min(d[(r, c + 1)] + a);
            }
            if r + 1 < rows {
                v = v.min(d[(r + 1, c)] + a);
                if c + 1 < cols {
                    v = v.min(d[(r + 1, c + 1)] + b);
                }
                if c > 0 {
                    v = v.min(d[(r + 1, c - 1)] + b);
                }
            }
            d[(r, c)] = v;
        }
    }
    Some(d)
}

/// R_σ and θ of one scale on its pyramid level (see the module doc), row by row: the Hessian of
/// the blurred level, then for every valley pixel the two-sided test along its normal (the
/// eigenvector of λ2, from the matrix itself: no angle needed for the samples) and θ only where
/// the response is positive.
fn scale_response(
    level: &Array2<f32>,
    edge: Option<&Array2<f32>>,
    sigma_level: f64,
    acc_blur: f64,
    beta: f64,
    band_rows: usize,
) -> (Array2<f32>, Array2<f32>) {
    let remaining = (sigma_level * sigma_level - acc_blur * acc_blur)
        .max(0.0)
        .sqrt();
    let (rows, cols) = level.dim();
    let norm = {
        let s = sigma_level as f32;
        s * s
    };
    let params = (
        (1.0 / GAUSSIAN_PEAK_RESPONSE) as f32,
        (1.0 / (2.0 * beta * beta)) as f32,
    );
    let side = SIDE_SIGMAS * sigma_level;
    let edge_min = (EDGE_SIGMAS * sigma_level) as f32;
    let mut response = Array2::<f32>::zeros((rows, cols));
    let mut theta = Array2::<f32>::zeros((rows, cols));
    if rows == 0 || cols == 0 {
        return (response, theta);
    }
    // The blur band by band (the same bits as blurring the whole level), each band with the
    // rows the side samples and the second differences reach: memory for a band, not for a
    // blurred copy of the level.
    let halo = side.ceil() as usize + 2;
    let (rs, ts) = (
        response.as_slice_mut().expect("fresh array"),
        theta.as_slice_mut().expect("fresh array"),
    );
    let edge = edge.map(|e| e.as_slice().expect("fresh standard-layout array"));
    for_each_blurred_band(
        level.view(),
        remaining as f32,
        band_rows,
        halo,
        |rows_in, band| {
            // Bilinear sample at image position (r, c), read from the band.
            #[inline(always)]
            fn at(band: &BlurredBand<'_>, (rows, cols): (usize, usize), r: f64, c: f64) -> f32 {
                let (r0, r1, fr) = axis_weights(r, rows);
                let first = band.first;
                bilinear_from(
                    band.data,
                    cols,
                    (r0 - first, r1 - first, fr),
                    axis_weights(c, cols),
                )
            }
            let span = rows_in.start * cols..rows_in.end * cols;
            rs[span.clone()]
                .par_chunks_mut(cols)
                .zip(ts[span].par_chunks_mut(cols))
                .enumerate()
                .for_each_init(
                    || -> [Vec<f32>; 7] { std::array::from_fn(|_| vec![0.0; cols]) },
                    |planes, (i, (rrow, trow))| {
                        let r = rows_in.start + i;
                        let up = band.row(reflect_index(r as isize - 1, rows));
                        let down = band.row(reflect_index(r as isize + 1, rows));
                        let mid = band.row(r);
                        // Hessian components, valley weight and unit normal of the row.
                        let [hxx, hxy, hyy, weight, nr, nc, th] = planes;
                        hessian_row(up, mid, down, norm, (hxx, hxy, hyy));
                        valley_row((hxx, hxy, hyy), params, (weight, nr, nc, th));
                        let edge_row = edge.map(|e| &e[r * cols..][..cols]);
                        for c in 0..cols {
                            let w = weight[c];
                            if w <= 0.0 {
                                continue;
                            }
                            if let Some(e) = edge_row
                                && e[c] < edge_min
                            {
                                continue;
                            }
                            let (dr, dc) = (side * f64::from(nr[c]), side * f64::from(nc[c]));
                            let centre = mid[c];
                            let (rf, cf) = (r as f64, c as f64);
                            let dp = at(band, (rows, cols), rf + dr, cf + dc) - centre;
                            let dm = at(band, (rows, cols), rf - dr, cf - dc) - centre;
                            let (lo, hi) = (dp.min(dm), dp.max(dm));
                            if lo <= 0.0 || hi <= 0.0 {
                                continue;
                            }
                            rrow[c] = w * (lo / hi);
                            trow[c] = th[c];
                        }
                    },
                );
        },
    );
    (response, theta)
}

/// Rows per band of [`scale_response`]'s blur (any number gives the same bits).
const BAND_ROWS: usize = 256;

widest_simd! {
    /// For every pixel of a row from its σ²-normalised Hessian `(Hxx, Hxy, Hyy)`: the valley
    /// weight `λ2/κ · exp(−(λ1/λ2)²/(2β²))` where λ2 > 0 (else 0), `params` = (1/κ, 1/(2β²)), and
    /// the unit eigenvector of μ+ (the normal to the line where λ2 = μ+ > 0) as (row, column)
    /// components, (0, 1) where the two eigenvalues are equal, and the line direction θ in
    /// [0, π) ([`eigen2`]'s θ, wrapped). Branch-free (selects), so it vectorises; the eigenvalues
    /// and θ are [`eigen2`]'s to the bit.
    fn valley_row(
        hessian: (&[f32], &[f32], &[f32]),
        params: (f32, f32),
        out: (&mut [f32], &mut [f32], &mut [f32], &mut [f32]),
    ) {
        let ((hxx, hxy, hyy), (weight, nr, nc, theta)) = (hessian, out);
        let n = hxx.len();
        let (hxy, hyy, weight, nr, nc, theta) = (
            &hxy[..n],
            &hyy[..n],
            &mut weight[..n],
            &mut nr[..n],
            &mut nc[..n],
            &mut theta[..n],
        );
        let (inv_kappa, inv_two_beta2) = params;
        for j in 0..n {
            let (a, b, c) = (hxx[j], hxy[j], hyy[j]);
            let (mean, _, plus, minus) = symmetric_mu(a, b, c);
            // λ2 = μ+ and λ1 = μ− where the mean curvature is a valley's; else λ2 ≤ 0.
            let valley = mean >= 0.0 && plus > 0.0;
            let rb = minus / plus;
            let w = plus * inv_kappa * fast_exp(-(rb * rb) * inv_two_beta2);
            weight[j] = if valley { w } else { 0.0 };
            // (A − μ+ I) v = 0: v = (b, μ+ − a) or (μ+ − c, b) in (x, y), the better conditioned.
            let (x1, y1, x2, y2) = (b, plus - a, plus - c, b);
            let (n1, n2) = (x1 * x1 + y1 * y1, x2 * x2 + y2 * y2);
            let first = n1 >= n2;
            let (vx, vy, nn) = if first { (x1, y1, n1) } else { (x2, y2, n2) };
            let inv = 1.0 / nn.sqrt();
            let degenerate = nn <= 0.0;
            nc[j] = if degenerate { 1.0 } else { vx * inv };
            nr[j] = if degenerate { 0.0 } else { vy * inv };
            // θ ∈ (−π/2, π/2] into [0, π): `rem_euclid(π)` in f64, which for |θ| < π is θ, plus
            // π when negative (written out: `%` is a library call that stops vectorisation).
            let t = f64::from(eigen2(a, b, c).2);
            theta[j] = (if t < 0.0 { t + std::f64::consts::PI } else { t }) as f32;
        }
    }
}

/// The texture level of a scale: `max(floor, factor · median(R | R > 0))` over `mask`. About half
/// of the responses are 0 (no valley there); the median of the others is robust to the lines
/// themselves, which are a minority of the valley pixels even where they are many (a plain high
/// quantile is not: four wide wrinkles can fill a tenth of a zone at their scale).
///
/// Where fewer than [`MIN_POSITIVE_SHARE`] of the zone's responses are positive, the zone has
/// no texture at this scale (a smoothed or synthetic image) and the positives are mostly the
/// lines themselves; the missing responses then count as zeros, so a lone line in a smooth zone
/// is measured against the floor and not against itself. (On the training phantoms, textured at
/// every scale, a share of 0.15 leaves every level unchanged; 0.25 already lowers some.)
fn texture_level(response: &Array2<f32>, mask: &Array2<bool>, level: TextureLevel) -> f64 {
    let mut n_mask = 0usize;
    let mut v: Vec<f32> = response
        .iter()
        .zip(mask.iter())
        .filter_map(|(&x, &m)| {
            n_mask += usize::from(m);
            (m && x > 0.0).then_some(x)
        })
        .collect();
    if v.is_empty() {
        return level.floor;
    }
    let padded = v
        .len()
        .max((MIN_POSITIVE_SHARE * n_mask as f64).ceil() as usize);
    let zeros = padded - v.len();
    let k = ((padded - 1) as f64 * level.quantile.clamp(0.0, 1.0)).round() as usize;
    if k < zeros {
        return level.floor;
    }
    let q = *v.select_nth_unstable_by(k - zeros, f32::total_cmp).1;
    (level.factor * f64::from(q)).max(level.floor)
}

/// Compute the valley strength of `z` inside `mask` at the scales `sigmas_px` (image px).
pub fn valley_strength(
    z: ArrayView2<f32>,
    mask: ArrayView2<bool>,
    sigmas_px: &[f64],
    beta: f64,
    texture: TextureLevel,
) -> ValleyStrength {
    let (rows, cols) = z.dim();
    let step = detection_step(sigmas_px);
    let (grows, gcols) = (rows.div_ceil(step), cols.div_ceil(step));
    let levels: Vec<usize> = sigmas_px.iter().map(|&s| pyramid_level(s)).collect();
    let top = levels.iter().copied().max().unwrap_or(0);
    // Pyramid of z and of the mask (a level pixel is inside when its sample is).
    let mut pyramid: Vec<Array2<f32>> = vec![z.to_owned()];
    let mut masks: Vec<Array2<bool>> = vec![mask.to_owned()];
    for l in 1..=top {
        let sigma = if l == 1 { 2.0 } else { 3f32.sqrt() };
        let next = gaussian_blur_exact_decimated(pyramid[l - 1].view(), sigma);
        let m = masks[l - 1].slice(s![..;2, ..;2]).to_owned();
        pyramid.push(next);
        masks.push(m);
    }
    let edges: Vec<Option<Array2<f32>>> = masks.iter().map(edge_distance).collect();

    let mut snr = Array2::<f32>::zeros((grows, gcols));
    let mut strength = Array2::<f32>::zeros((grows, gcols));
    let mut sigma_best = Array2::<f32>::from_elem((grows, gcols), f32::NAN);
    let mut direction = Array2::<f32>::zeros((grows, gcols));
    let mut texture_levels = Vec::with_capacity(sigmas_px.len());
    for (&sigma, &l) in sigmas_px.iter().zip(&levels) {
        let scale = f64::from(1u32 << l);
        let acc = if l == 0 { 0.0 } else { 1.0 };
        let (response, theta) = scale_response(
            &pyramid[l],
            edges[l].as_ref(),
            sigma / scale,
            acc,
            beta,
            BAND_ROWS,
        );
        let b = texture_level(&response, &masks[l], texture);
        texture_levels.push(b);
        let inv_b = (1.0 / b) as f32;
        // Bring to the detection grid: grid px (gr, gc) is image px (gr·step, gc·step), level
        // px (gr·step/2^l, gc·step/2^l).
        let ratio = step as f64 / scale;
        let (lrows, lcols) = response.dim();
        // Coarser than the grid: the bilinear weights and nearest level pixel of every grid row
        // and column, computed once (the same numbers `bilinear` computes per sample).
        let axis = |n_grid: usize, n_level: usize| -> Vec<((usize, usize, f32), usize)> {
            if ratio >= 1.0 {
                return Vec::new();
            }
            (0..n_grid)
                .map(|g| {
                    let p = g as f64 * ratio;
                    (
                        axis_weights(p, n_level),
                        (p.round() as usize).min(n_level - 1),
                    )
                })
                .collect()
        };
        let (row_axis, col_axis) = (axis(grows, lrows), axis(gcols, lcols));
        let (response_data, theta_data) = (
            response.as_slice().expect("fresh array"),
            theta.as_slice().expect("fresh array"),
        );
        // One grid row at this scale: the level's response and direction sampled at every
        // grid column, kept where its ratio to the level beats the scales before.
        let merge_row = |gr: usize,
                         srow: &mut [f32],
                         strow: &mut [f32],
                         sgrow: &mut [f32],
                         drow: &mut [f32]| {
            let mut keep = |gc: usize, v: f32, t: f32| {
                let x = v * inv_b;
                if x > srow[gc] {
                    srow[gc] = x;
                    strow[gc] = v;
                    sgrow[gc] = sigma as f32;
                    drow[gc] = t;
                }
            };
            if ratio == 1.0 {
                // The grid's own level (responses are never negative: a 0 is never kept).
                let at = gr * lcols;
                let cols_here = if gr < lrows { gcols.min(lcols) } else { 0 };
                for gc in 0..cols_here {
                    keep(gc, response_data[at + gc], theta_data[at + gc]);
                }
            } else if ratio > 1.0 {
                // Finer than the grid: maximum over the block.
                let k = ratio as usize;
                let r0 = gr * k;
                for gc in 0..gcols {
                    let c0 = gc * k;
                    let mut best = (0.0f32, 0.0f32);
                    for r in r0..(r0 + k).min(lrows) {
                        let (rrow, trow) = (
                            &response_data[r * lcols..][..lcols],
                            &theta_data[r * lcols..][..lcols],
                        );
                        for c in c0..(c0 + k).min(lcols) {
                            if rrow[c] > best.0 {
                                best = (rrow[c], trow[c]);
                            }
                        }
                    }
                    keep(gc, best.0, best.1);
                }
            } else {
                let ((r0, r1, fr), rn) = row_axis[gr];
                let (top, bottom, trow) = (
                    &response_data[r0 * lcols..][..lcols],
                    &response_data[r1 * lcols..][..lcols],
                    &theta_data[rn * lcols..][..lcols],
                );
                for (gc, &(cw, cn)) in col_axis.iter().enumerate() {
                    keep(gc, bilinear_rows(top, bottom, fr, cw), trow[cn]);
                }
            }
        };
        snr.as_slice_mut()
            .expect("fresh array")
            .par_chunks_mut(gcols)
            .zip(
                strength
                    .as_slice_mut()
                    .expect("fresh array")
                    .par_chunks_mut(gcols),
            )
            .zip(
                sigma_best
                    .as_slice_mut()
                    .expect("fresh array")
                    .par_chunks_mut(gcols),
            )
            .zip(
                direction
                    .as_slice_mut()
                    .expect("fresh array")
                    .par_chunks_mut(gcols),
            )
            .enumerate()
            .for_each(|(gr, (((srow, strow), sgrow), drow))| {
                merge_row(gr, srow, strow, sgrow, drow);
            });
    }
    // The maximum over several scales of ratios each at its texture level exceeds 1 far more
    // often than one scale does: bring the merged ratio back so that the same quantile of the
    // zone is 1.
    let gmask = Array2::from_shape_fn((grows, gcols), |(r, c)| {
        mask[((r * step).min(rows - 1), (c * step).min(cols - 1))]
    });
    let merged = texture_level(
        &snr,
        &gmask,
        TextureLevel {
            floor: 1.0,
            factor: texture.factor * MERGED_LEVEL_FACTOR,
            ..texture
        },
    ) as f32;
    snr.mapv_inplace(|v| v / merged);
    ValleyStrength {
        snr,
        strength,
        sigma_px: sigma_best,
        direction,
        levels: texture_levels,
        step,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The valley response computed band by band (bands of 1-16 rows) has the bits of the
    /// whole level's, near the zone's edge and the image's borders included.
    #[test]
    fn bands_give_the_bits_of_the_whole_level() {
        let mut rng = crate::phantom::rng::SplitMix64::new(11);
        let (rows, cols) = (67, 41);
        let level = Array2::from_shape_fn((rows, cols), |(r, c)| {
            let x = (r as f64 * 0.31).sin() + (c as f64 * 0.17).cos();
            (0.05 * x + 0.01 * rng.range(-1.0, 1.0)) as f32
        });
        let mask = Array2::from_shape_fn((rows, cols), |(r, c)| r + c > 6);
        let edge = edge_distance(&mask);
        for sigma in [1.2, 2.5, 3.9] {
            let whole = scale_response(&level, edge.as_ref(), sigma, 0.0, 0.5, usize::MAX);
            assert!(whole.0.iter().any(|&v| v > 0.0));
            for band in [1, 2, 5, 16] {
                let banded = scale_response(&level, edge.as_ref(), sigma, 0.0, 0.5, band);
                // Response and direction planes.
                for (a, b) in [(&whole.0, &banded.0), (&whole.1, &banded.1)] {
                    let same = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(same, "sigma {sigma}, bands of {band}");
                }
            }
        }
    }

    /// The vectorised valley row against the per-pixel formulas: λ1, λ2 and θ of `eigen2` (the
    /// Hessian module's decomposition; θ wrapped into [0, π) bit for bit), the weight
    /// λ2/κ·exp(−(λ1/λ2)²/(2β²)) in f64, and the normal (cos θ, sin θ) (row, column) of a valley,
    /// up to its sign; on random matrices and the degenerate ones (equal eigenvalues, a zero
    /// off-diagonal, a ridge, zero).
    #[test]
    fn valley_row_matches_the_eigen_decomposition() {
        let mut rng = crate::phantom::rng::SplitMix64::new(7);
        let mut cases: Vec<(f32, f32, f32)> = vec![
            (0.0, 0.0, 0.0),
            (0.3, 0.0, 0.3),
            (0.5, 0.0, 0.1),
            (0.1, 0.0, 0.5),
            (-0.4, 0.1, -0.2),
            (0.2, 0.2, 0.2),
            (1e-6, 0.0, -1e-6),
        ];
        for _ in 0..5000 {
            let mut v = || (rng.range(-1.0, 1.0) * 10f64.powf(rng.range(-4.0, 0.0))) as f32;
            cases.push((v(), v(), v()));
        }
        let n = cases.len();
        let (a, b, c): (Vec<f32>, Vec<f32>, Vec<f32>) = (
            cases.iter().map(|t| t.0).collect(),
            cases.iter().map(|t| t.1).collect(),
            cases.iter().map(|t| t.2).collect(),
        );
        let (mut w, mut nr, mut nc, mut theta) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let beta = 0.5;
        let params = (
            (1.0 / GAUSSIAN_PEAK_RESPONSE) as f32,
            (1.0 / (2.0 * beta * beta)) as f32,
        );
        valley_row((&a, &b, &c), params, (&mut w, &mut nr, &mut nc, &mut theta));
        for k in 0..n {
            let (l1, l2, th) = eigen2(a[k], b[k], c[k]);
            let wrapped = f64::from(th).rem_euclid(std::f64::consts::PI) as f32;
            assert_eq!(theta[k].to_bits(), wrapped.to_bits(), "{:?}", cases[k]);
            if l2 > 0.0 {
                let rb = f64::from(l1) / f64::from(l2);
                let expect = f64::from(l2) / GAUSSIAN_PEAK_RESPONSE
                    * (-(rb * rb) / (2.0 * beta * beta)).exp();
                let got = f64::from(w[k]);
                assert!(
                    (got - expect).abs() <= 1e-6 * expect,
                    "{:?}: {got} {expect}",
                    cases[k]
                );
            } else {
                assert_eq!(w[k], 0.0, "{:?}", cases[k]);
            }
            let norm = f64::from(nr[k]).hypot(f64::from(nc[k]));
            assert!((norm - 1.0).abs() < 1e-6, "{:?}: |n| = {norm}", cases[k]);
            // Same axis as (cos θ, sin θ): |cross product| small (θ itself is within 1e-6 rad).
            let cross =
                f64::from(nr[k]) * f64::from(th).sin() - f64::from(nc[k]) * f64::from(th).cos();
            let distinct = f64::from(l2 - l1).abs() > 1e-3 * f64::from(l2.abs().max(l1.abs()));
            if distinct && l2 > 0.0 {
                assert!(
                    cross.abs() < 1e-3,
                    "{:?}: normal {} {} theta {th}",
                    cases[k],
                    nr[k],
                    nc[k]
                );
            }
        }
    }

    /// A Gaussian valley of depth A: the strength at its centre is ≈ A (the κ normalisation), its
    /// best scale √2·s and its direction the line's; the texture level of a flat zone is the floor.
    #[test]
    fn gaussian_valley_depth_scale_and_direction() {
        let (n, s_px, depth) = (160usize, 3.0f64, 0.1f64);
        for deg in [0.0f64, 30.0, 90.0, 135.0] {
            let th = deg.to_radians();
            let z = Array2::from_shape_fn((n, n), |(r, c)| {
                let (x, y) = (c as f64 - 80.0, r as f64 - 80.0);
                // Distance from the line through the centre at angle θ (y down).
                let d = x * th.sin() + y * th.cos();
                (-depth * (-(d * d) / (2.0 * s_px * s_px)).exp()) as f32
            });
            let mask = Array2::from_elem((n, n), true);
            let sigmas: Vec<f64> = (0..9).map(|k| 1.5 * 2f64.powf(k as f64 / 2.0)).collect();
            let vs = valley_strength(
                z.view(),
                mask.view(),
                &sigmas,
                0.5,
                TextureLevel {
                    quantile: 0.5,
                    factor: 1.7,
                    floor: 0.01,
                },
            );
            let p = (80 / vs.step, 80 / vs.step);
            let st = f64::from(vs.strength[p]);
            assert!((st - depth).abs() < 0.15 * depth, "{deg}: strength {st}");
            let best = f64::from(vs.sigma_px[p]);
            let expect = std::f64::consts::SQRT_2 * s_px;
            assert!((best / expect - 1.0).abs() < 0.3, "{deg}: sigma {best}");
            let d = f64::from(vs.direction[p]);
            let err = (d - th.rem_euclid(std::f64::consts::PI)).abs();
            assert!(err.min(std::f64::consts::PI - err) < 0.05, "{deg}: {d}");
            // The texture is empty, so the level is the floor at every scale up to the
            // valley's: there the valley covers less than 15 % of the zone.
            for (&sigma, &b) in sigmas.iter().zip(&vs.levels) {
                if sigma <= 1.01 * expect {
                    assert!((b - 0.01).abs() < 1e-9, "{deg}: level {b} at sigma {sigma}");
                }
            }
        }
    }

    /// A one-sided edge (a step) is not a valley: Q = 0.
    #[test]
    fn edge_is_not_a_valley() {
        let n = 80;
        let z = Array2::from_shape_fn((n, n), |(_, c)| if c < 40 { -0.1f32 } else { 0.0 });
        let mask = Array2::from_elem((n, n), true);
        let vs = valley_strength(
            z.view(),
            mask.view(),
            &[2.0, 3.0, 4.0],
            0.5,
            TextureLevel {
                quantile: 0.5,
                factor: 1.7,
                floor: 0.01,
            },
        );
        let max = vs.snr.iter().copied().fold(0.0f32, f32::max);
        assert!(max < 0.5, "{max}");
    }

    #[test]
    fn scales_go_to_the_level_where_they_are_at_least_two_px() {
        assert_eq!(pyramid_level(1.5), 0);
        assert_eq!(pyramid_level(3.9), 0);
        assert_eq!(pyramid_level(4.0), 1);
        assert_eq!(pyramid_level(8.0), 2);
        assert_eq!(detection_step(&[1.2, 5.0]), 1);
        assert_eq!(detection_step(&[2.4, 5.0]), 2);
    }
}
