//! Fine lines: multi-scale Hessian detection of dark valleys in the pseudo-height.
//!
//! A fine line (wrinkle) is a long, narrow valley of the pseudo-height z (see
//! [`super::height`]; depressions are darker, so z < 0 along the valley floor). Across the line,
//! z is concave up, so the larger-magnitude eigenvalue λ2 of the Hessian is positive and the
//! smaller one λ1 (along the line) is near 0. Round depressions (pores, scars) have λ1 ≈ λ2 and
//! are suppressed by Frangi's blobness term.
//!
//! ```text
//! H_σ     = σ² · [∂xx ∂xy; ∂xy ∂yy] (G_σ ∗ z)            σ²-normalised Hessian, σ in px
//! λ1, λ2  eigenvalues of H_σ with |λ1| ≤ |λ2|
//! R_B     = λ1 / λ2                                      blobness ratio (0 line, 1 disc)
//! d±      = L(p ± 2σ·n) − L(p),  L = G_σ ∗ z             rise of the two sides (n: normal)
//! Q       = max(0, min(d₊, d₋)) / max(d₊, d₋)            two-sided symmetry (1 valley, 0 edge)
//! S_σ(p)  = λ2 · exp(−R_B² / (2β²)) · Q / κ    if λ2 > 0, else 0
//! κ       = 2 / (3√3) = 0.3849                           σ²·λ2 of a unit-depth line at σ*
//! S₀(p)   = max_σ S_σ(p),   σ*(p) = argmax_σ S_σ(p)      (refined by a parabola in ln σ)
//! S(p)    = (1/(2K+1)) Σ_{t=−K..K} S₀(p + t·e_p) · max(0, cos 2(θ_{p+t·e} − θ_p))
//! width   = 2·sqrt(ln 2) · σ* = 1.6651 · σ*                FWHM of a Gaussian valley
//! ```
//! θ_p is the line direction (eigenvector of λ1 at σ*), e_p the unit vector along it, and
//! K = max(`line_support_mm`/2 in px, `line_support_widths`/2 · 1.6651·σ*(p)): S is S₀
//! averaged along the line over `line_support_mm` (or that many line widths, if longer),
//! counting only samples that run in the same direction.
//!
//! **Scale relation.** For a Gaussian valley `z(u) = −A·exp(−u²/(2s²))` (u across the line,
//! full width at half depth `w = 2.3548·s`), the blurred profile has curvature
//! `A·s/(s² + σ²)^{3/2}` at its centre, so `σ²·λ2 = A·σ²·s/(s² + σ²)^{3/2}`. This is largest at
//! `σ* = √2·s = w / 1.6651` (Lindeberg's scale selection, doi:10.1023/A:1008045108935), where
//! it equals `κ·A` with `κ = 2/(3√3)` whatever the width. Dividing by κ makes S an estimate of
//! the valley depth A in z units (fractions of the local luminance), so the hysteresis
//! thresholds are contrasts (0.05 = a valley 5 % darker than its sides), and wide lines are
//! detected as readily as narrow ones. scikit-image's `frangi` since 0.19.3 drops the σ²
//! factor (issue 7711), which biases detection toward the smallest scale; skintex keeps it.
//! Scales are spaced geometrically, `scales_per_octave` per octave, from `min_width_mm` to
//! `max_width_mm` with `σ = width / 1.6651`. Frangi's third factor `1 − exp(−S²/(2c²))` with
//! c from the image's own Hessian norm is not used: it would make thresholds image-dependent.
//!
//! **What is not a line.** Pores and round scars have R_B ≈ 1 (blobness factor e⁻² ≈ 0.14 at
//! β = 0.5) and are short; the rim of a flat pigmented spot is one-sided (Q ≈ 0); the
//! polygonal furrow network (≈ 0.05 mm wide) is narrower than the smallest scale and shallow,
//! and its short cells are attenuated by the along-line average; the mask edge is ignored
//! (responses within 2σ of a pixel outside the zone mask are set to 0 at that scale; the
//! bounding-box border is reflected, not an edge).
//!
//! **Speed.** Scales with σ ≥ 4 px are computed on a decimated copy of z (Gaussian pyramid:
//! blur and subsample by 2, accumulated blur 1 coarse px per level) at the level where σ is 2
//! to 4 coarse px; the Hessian there uses the remaining blur `sqrt((σ/2^L)² − 1)` coarse px, so
//! the total blur is still σ, and S_σ is upsampled bilinearly. Each scale is blurred once (the
//! same G_σ ∗ z gives the Hessian and the two-sided test). Detection runs on a grid of step
//! 2^W image px ([`detection_step`]: the coarsest level on which the smallest σ is still ≥ 1
//! grid px; W = 0, i.e. full resolution, at the default widths and 20 px/mm): finer scales are
//! max-pooled onto it, coarser ones upsampled, and lengths, widths and skeleton coordinates are
//! converted back to image px. Gaussian blur and Hessian conventions are those of
//! [`crate::imgops`].
//!
//! Each scale is one pass per row: the Hessian terms of the row (vectorised), the unit normal from
//! the half-angle formulas (no trigonometry; the arctangent only for the direction), the two side
//! samples (bilinear; AVX2 gathers where available, the same bits as the scalar code), then the
//! strength. Every row of the detection grid merges all scales in ascending σ into a row-sized
//! running maximum, so no per-scale plane is kept at the detection resolution. The scales computed
//! on the detection grid are blurred band by band (`BAND_ROWS` = 128 rows plus a halo covering the
//! Hessian and the side samples; exactly the rows of the whole blur); the coarser ones too, on
//! their own small levels, a band of level rows at a time as the upsampling asks for them
//! (`LevelRows`). Side-sample coordinates are relative to the band (the results agree with a
//! single band to f32 rounding), and every band starts at a fixed row whatever row is asked for
//! first, so the grid can be made in parts, in parallel when the batch leaves threads idle
//! ([`crate::metrics::SpareThreads`]), with the same bits; the along-line mean too. The along-line
//! mean quantises directions to `DIRECTION_BINS` = 1024 bins so sample offsets and direction
//! agreements are table look-ups. Memory: the detection-grid strength S (f32) and direction bin
//! (u16); σ* and θ only for the samples where a line can be (S ≥ `strength_low`, 5-12 % of the grid
//! on phantoms and the demo photos; [`LineSamples`]); a skeleton pixel outside them (in a filled
//! hole) takes its bin's centre direction and no σ*. Regions are flood-filled one at a time
//! (hysteresis, hole filling, labels), so no label plane is held; a region's label is kept only at
//! its skeleton pixels.
//!
//! **Detection.** Hysteresis (Canny 1986): pixels with `S ≥ strength_low` 8-connected to a
//! pixel with `S ≥ strength_high` form line regions; holes under 1 mm² are filled, each region
//! is thinned to a 1-px skeleton (Guo-Hall), spurs (end-to-junction branches shorter than the
//! local width or 0.5 mm) are pruned in two passes, and hooked ends are trimmed: where the
//! skeleton of a wide line turns back at its end (into a weak side response that the hysteresis
//! joined to the line end), it is cut at the tip, the point of the last 4 line widths of skeleton
//! farthest along the line direction (`trim_end_hooks`). Pieces of one faint line that the
//! hysteresis leaves apart are then bridged: two skeleton end points of different regions are
//! joined when they are at most `bridge_gap_mm` apart, both outward end directions (from the
//! last `max(bridge_gap, 0.5 mm)` of skeleton) lie within 30° of the gap, and the mean valley
//! strength along the straight gap is at least `bridge_strength_fraction · strength_low`;
//! pairs are taken shortest first, each end point once, never closing a loop. Joined regions
//! are one line, and the gap (centre-to-centre distance − 1 px) adds to its length. Lines
//! whose total length or end-to-end span (the distance between the two farthest skeleton points,
//! found by a double sweep) is shorter than `min_length_mm`, or whose span is shorter than
//! `min_aspect_ratio` times their mean width (stubby valleys, e.g. between two pigmented spots;
//! stars and rings of short branches over a pitted scar), are removed. Default
//! thresholds were
//! chosen on phantoms seeds 1-10 and checked on held-out seeds 11-20 (see
//! `tests/validation_lines.rs`).
//!
//! **Per line.** Length: each skeleton pixel counts `1 / max(|cos θ|, |sin θ|)` px, the length
//! of line a digital straight line at angle θ has per pixel (1 px at 0° and 90°, √2 px at
//! 45°). This agrees with the chain code (axial 1, diagonal √2) along axes and diagonals and,
//! unlike it, is unbiased at other angles (the chain code is ≈ 8 % long at 22.5°). Width: the
//! length-weighted mean of `1.6651·σ*` on the skeleton. Depth: the mean over the skeleton of
//! `(z(p + w·n) + z(p − w·n))/2 − z(p)`, the valley contrast against both sides one width w
//! away (unitless, > 0 for dark lines; sides outside the zone are skipped). Orientation: the
//! doubled-angle mean of θ, degrees in [0, 180), 0 = horizontal, counter-clockwise as seen on
//! screen.
//!
//! References: Frangi, Niessen, Vincken & Viergever, "Multiscale vessel enhancement
//! filtering", MICCAI 1998, doi:10.1007/BFb0056195 (β = 0.5 blobness); Lindeberg, "Edge
//! detection and ridge detection with automatic scale selection", IJCV 30(2), 1998,
//! doi:10.1023/A:1008045108935 (σ² normalisation); Ng, Yap, Costen & Li, "Automatic wrinkle
//! detection using hybrid Hessian filter", ACCV 2014 (Hessian wrinkle detection on faces);
//! Canny, doi:10.1109/TPAMI.1986.4767851 (hysteresis).

use ndarray::{Array2, ArrayView2, s};
use rayon::prelude::*;

use super::height::PseudoHeight;
use super::{ColumnSpec, MetricValue, Missing, SpareThreads, all_missing, finite_or};
use crate::config::LinesParams;
use crate::imgops::components::{
    Connectivity, NEIGHBOURS_8, drain_components, hysteresis, label_components,
};
use crate::imgops::gaussian::reflect_index;
use crate::imgops::gaussian::{gaussian_blur_exact_decimated, gaussian_blur_exact_rows};
use crate::imgops::simd::{fast_atan2, fast_exp, widest_simd};
use crate::imgops::thinning::thin;

use super::spec;

/// The columns of the lines family, in output order.
pub const COLUMNS: &[ColumnSpec] = &[
    spec(
        "lines_count",
        "1",
        "Number of detected fine lines: 8-connected regions of the multi-scale Hessian valley \
         strength (sigma^2-normalised, Frangi blobness beta = lines.blob_beta, two-sided valley \
         test, averaged along the line over max(lines.line_support_mm, lines.line_support_widths \
         x line width); widths lines.min_width_mm to \
         lines.max_width_mm; hysteresis lines.strength_low / lines.strength_high in \
         pseudo-height contrast units), thinned to 1-px skeletons with spurs pruned and ends that \
         turn back along the line trimmed at their tip; pieces \
         whose end points face each other across at most lines.bridge_gap_mm (directions \
         within 30 degrees, mean strength on the gap >= lines.bridge_strength_fraction x \
         lines.strength_low) are joined into one line; lines whose skeleton length or end-to-end span is shorter \
         than lines.min_length_mm, or whose span is shorter than lines.min_aspect_ratio x their \
         mean width, are dropped. 0 when none is found.",
    ),
    spec(
        "lines_length_mm",
        "mm",
        "Total skeleton length of the detected lines, mm: each skeleton pixel counts \
         1/max(|cos t|, |sin t|) px for the local line direction t (1 px along the axes, \
         sqrt(2) px along diagonals, unbiased in between), plus the straight length of bridged \
         gaps. 0 when none is found.",
    ),
    spec(
        "lines_density_mm_per_cm2",
        "mm/cm2",
        "lines_length_mm divided by the zone area (zone-mask pixels / px_per_mm^2 / 100), \
         mm per cm2.",
    ),
    spec(
        "lines_mean_width_mm",
        "mm",
        "Length-weighted mean line width along the skeletons: 1.6651 x the scale sigma that \
         maximises the sigma^2-normalised Hessian response (= full width at half depth of a \
         Gaussian valley). Empty when no line is detected.",
    ),
    spec(
        "lines_mean_depth",
        "1",
        "Length-weighted mean valley contrast in pseudo-height units: mean of the two sides \
         one line width away across the line minus z on the skeleton (0.02 = 2 % darker than \
         the surround). Empty when no line is detected.",
    ),
    spec(
        "lines_area_fraction",
        "1",
        "Pixels of the detected line regions (hysteresis regions, not skeletons) divided by \
         the zone pixels, 0-1.",
    ),
    spec(
        "lines_orientation_deg",
        "deg",
        "Dominant line direction: length-weighted doubled-angle circular mean of the local \
         skeleton direction, degrees in [0, 180), 0 = horizontal, counter-clockwise as seen on \
         screen. Empty when no line is detected.",
    ),
    spec(
        "lines_anisotropy",
        "1",
        "Resultant length of the doubled-angle mean of the line directions: 0 = isotropic, \
         1 = all lines parallel. Empty when no line is detected.",
    ),
];

/// One detected line, for `lines.csv` and the QC picture.
#[derive(Debug, Clone, PartialEq)]
pub struct LineRecord {
    /// Skeleton length, mm.
    pub length_mm: f64,
    /// Mean width, mm.
    pub width_mm: f64,
    /// Mean valley contrast relative to the surround (unitless).
    pub depth: f64,
    /// Orientation, degrees in [0, 180), 0 = horizontal.
    pub orientation_deg: f64,
    /// Skeleton pixels in image coordinates (x, y).
    pub skeleton: Vec<(u32, u32)>,
}

/// Response `σ²·λ2` of a unit-depth Gaussian valley at its best scale: 2/(3√3).
pub const GAUSSIAN_PEAK_RESPONSE: f64 = 0.384_900_179;

/// Line width (FWHM of a Gaussian valley) per unit of best scale: `2·sqrt(ln 2)`.
pub const WIDTH_PER_SIGMA: f64 = 1.665_109_222;

/// Responses are ignored closer than this many σ to the zone-mask edge.
const EDGE_SIGMAS: f32 = 2.0;

/// Distance, in σ, at which the two sides of a valley are compared (symmetry factor Q).
const SIDE_SIGMAS: f32 = 2.0;

/// Spurs shorter than this (mm) or than the local line width are pruned from the skeletons.
const SPUR_MIN_MM: f64 = 0.5;

/// Holes of line regions smaller than this (mm²) are filled before thinning.
const HOLE_MAX_MM2: f64 = 1.0;

/// Number of spur-pruning passes (a second pass removes spurs left on spurs).
const PRUNE_PASSES: usize = 2;

/// The symmetry factor Q is `min(1, SYMMETRY_FULL_CREDIT·d_min/d_max)`: with 1, Q = d_min/d_max
/// (full credit only when both sides of the valley rise equally; 2 was tried on the phantoms and
/// admitted more false lines).
const SYMMETRY_FULL_CREDIT: f32 = 1.0;

/// The along-line mean is capped at this multiple of the pixel's own strength, so that the
/// average does not carry a line beyond its end.
const OWN_STRENGTH_FACTOR: f32 = 1.0;

/// Smallest total blur σ/2^L, in pixels of pyramid level L, of a scale computed on level L ≥ 1.
const MIN_LEVEL_SIGMA: f64 = 2.0;

/// Smallest σ, in detection-grid px, of the smallest scale (see [`detection_step`]).
const MIN_GRID_SIGMA: f64 = 1.0;

/// The scales σ (px) looked for: geometric from `min_width_mm` to `max_width_mm`.
pub fn line_scales_px(params: &LinesParams, px_per_mm: f64) -> Vec<f64> {
    let lo = params.min_width_mm.min(params.max_width_mm) * px_per_mm / WIDTH_PER_SIGMA;
    let hi = params.min_width_mm.max(params.max_width_mm) * px_per_mm / WIDTH_PER_SIGMA;
    let per_octave = f64::from(params.scales_per_octave.max(1));
    let steps = ((hi / lo).log2() * per_octave).ceil().max(0.0) as usize;
    if steps == 0 {
        return vec![lo];
    }
    let ratio = (hi / lo).powf(1.0 / steps as f64);
    (0..=steps).map(|k| lo * ratio.powi(k as i32)).collect()
}

/// Multi-scale valley strength and its best scale and direction on the detection grid.
pub struct ValleyStrength {
    /// S = max over σ of the normalised valley strength (z units), 0 where not a valley.
    pub strength: Array2<f32>,
    /// σ* and θ of the samples whose strength before the along-line mean is at least the
    /// `min_strength` of [`valley_strength`] (only those can belong to a line).
    pub samples: LineSamples,
    /// Line direction of every sample quantised to `DIRECTION_BINS` (1024) bins over [0, π)
    /// (nearest bin centre; bin 0 where S = 0).
    pub direction_bins: Array2<u16>,
    /// Spacing of the detection grid in image px: grid sample (i, j) is pixel
    /// (step·i, step·j) of the input (see [`detection_step`]).
    pub step: usize,
}

impl ValleyStrength {
    /// Best scale σ* (image px) at grid sample `(r, c)`, refined by a parabola in ln σ; NaN
    /// where it is not one of the [`ValleyStrength::samples`].
    pub fn sigma_px(&self, (r, c): (usize, usize)) -> f32 {
        self.samples
            .position(r * self.strength.ncols() + c)
            .map_or(f32::NAN, |k| self.samples.sigma_px[k])
    }

    /// Line direction at σ* at grid sample `(r, c)` (radians in [0, π), 0 = +x,
    /// counter-clockwise on screen): exact for the [`ValleyStrength::samples`], the centre of
    /// its direction bin elsewhere.
    pub fn direction(&self, (r, c): (usize, usize)) -> f32 {
        let i = r * self.strength.ncols() + c;
        self.samples.position(i).map_or_else(
            || {
                f32::from(self.direction_bins[(r, c)])
                    * (std::f32::consts::PI / DIRECTION_BINS as f32)
            },
            |k| self.samples.direction[k],
        )
    }
}

/// The detection-grid samples where a line can be, in raster order, with their best scale
/// σ* (image px) and line direction θ (radians in [0, π)): a few per cent of the grid, so a
/// table of them takes far less memory than two full planes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineSamples {
    /// Row-major grid index, ascending.
    pub index: Vec<u32>,
    pub sigma_px: Vec<f32>,
    pub direction: Vec<f32>,
}

impl LineSamples {
    /// Position of grid index `i` in the table.
    pub fn position(&self, i: usize) -> Option<usize> {
        u32::try_from(i)
            .ok()
            .and_then(|i| self.index.binary_search(&i).ok())
    }
}

/// Spacing (image px, a power of 2) of the grid on which lines are detected: the coarsest
/// pyramid level on which the smallest scale is still at least `MIN_GRID_SIGMA` grid px, so
/// the narrowest line looked for is at least `1.6651·MIN_GRID_SIGMA` ≈ 0.83 grid px wide.
pub fn detection_step(sigmas_px: &[f64]) -> usize {
    let lo = sigmas_px.iter().copied().fold(f64::INFINITY, f64::min);
    let mut level = 0;
    while lo.is_finite() && lo / f64::from(1u32 << (level + 1)) >= MIN_GRID_SIGMA && level < 8 {
        level += 1;
    }
    1 << level
}

/// Compute the multi-scale valley strength of `z` inside `mask` at the scales `sigmas_px`,
/// on the detection grid of [`detection_step`]. `support_half_px` (image px) is the half-length
/// of the along-line mean; `min_strength` the lowest strength the caller thresholds at.
///
/// See the module documentation for the formula. Each scale is one pass over its blurred map
/// that computes the Hessian, its eigen-decomposition and the two-sided test per pixel and
/// merges the result into the running maximum row by row, so no per-scale plane is stored at
/// the detection resolution.
pub fn valley_strength(
    z: ArrayView2<f32>,
    mask: ArrayView2<bool>,
    sigmas_px: &[f64],
    beta: f64,
    support_half_px: usize,
    support_half_per_sigma: f64,
    min_strength: f32,
) -> ValleyStrength {
    valley_strength_in_bands(
        z,
        mask,
        sigmas_px,
        beta,
        (support_half_px, support_half_per_sigma),
        min_strength,
        (BAND_ROWS, 1),
    )
}

/// [`valley_strength`] with `band_rows` rows of the detection grid per band, the grid rows
/// split in `chunks` parts made in parallel (1: on the calling thread). The values depend on
/// `band_rows` (through the band-relative side-sample coordinates) but not on `chunks`.
fn valley_strength_in_bands(
    z: ArrayView2<f32>,
    mask: ArrayView2<bool>,
    sigmas_px: &[f64],
    beta: f64,
    (support_half_px, support_half_per_sigma): (usize, f64),
    min_strength: f32,
    (band_rows, chunks): (usize, usize),
) -> ValleyStrength {
    let band_rows = band_rows.max(1);
    let (rows, cols) = z.dim();
    let step = detection_step(sigmas_px);
    let grid_level = step.trailing_zeros() as usize;
    let (grows, gcols) = (rows.div_ceil(step), cols.div_ceil(step));
    // The mask on the detection grid (the mask itself when the grid is the image's).
    let grid_mask = (step > 1)
        .then(|| Array2::from_shape_fn((grows, gcols), |(r, c)| mask[(r * step, c * step)]));
    let edge_dist = match &grid_mask {
        Some(m) => mask_edge_distance(m.view()),
        None => mask_edge_distance(mask.view()),
    };
    drop(grid_mask);
    let inv_two_beta2 = (1.0 / (2.0 * beta * beta)) as f32;

    // Pyramid of z: `coarse[L − 1]` is level L ≥ 1, accumulated blur 2^L image px (1 level
    // px), sample j at 2^L·j; level 0 is z itself.
    let levels: Vec<usize> = sigmas_px.iter().map(|&s| decimation_level(s)).collect();
    let mut coarse: Vec<Array2<f32>> = Vec::new();
    while coarse.len() < levels.iter().copied().max().unwrap_or(0) {
        let next = match coarse.last() {
            None => gaussian_blur_exact_decimated(z, 2.0),
            Some(prev_level) => gaussian_blur_exact_decimated(prev_level.view(), 3f32.sqrt()),
        };
        coarse.push(next);
    }
    let specs: Vec<ScaleSpec> = sigmas_px
        .iter()
        .zip(&levels)
        .enumerate()
        .map(|(k, (&sigma, &level))| ScaleSpec::new(k, sigma, level, step, inv_two_beta2))
        .collect();
    assert!(
        u32::try_from(grows * gcols).is_ok(),
        "detection grid of {grows} x {gcols} samples is too large"
    );
    let grid = StrengthGrid {
        z: z.view(),
        coarse: &coarse,
        specs: &specs,
        grid_level,
        grows,
        gcols,
        edge_dist: edge_dist.as_ref(),
        band_rows,
        sigmas_px,
        min_strength,
    };
    let mut strength = Array2::<f32>::zeros((grows, gcols));
    let mut direction_bins = Array2::<u16>::zeros((grows, gcols));
    // Chunks of whole bands, so every band is the one a single pass makes.
    let chunk_rows = grows.div_ceil(chunks.max(1)).div_ceil(band_rows).max(1) * band_rows;
    let parts = strength
        .as_slice_mut()
        .expect("fresh array")
        .chunks_mut((chunk_rows * gcols).max(1))
        .zip(
            direction_bins
                .as_slice_mut()
                .expect("fresh array")
                .chunks_mut((chunk_rows * gcols).max(1)),
        )
        .enumerate();
    let run = |(i, (s, d)): (usize, (&mut [f32], &mut [u16]))| grid.rows(i * chunk_rows, s, d);
    let parts: Vec<LineSamples> = if chunks > 1 {
        parts.collect::<Vec<_>>().into_par_iter().map(run).collect()
    } else {
        parts.map(run).collect()
    };
    let mut samples = LineSamples::default();
    for part in parts {
        samples.index.extend(part.index);
        samples.sigma_px.extend(part.sigma_px);
        samples.direction.extend(part.direction);
    }
    drop((coarse, edge_dist));
    let half_grid = (support_half_px as f64 / step as f64).round() as usize;
    let strength = along_line_mean(
        strength,
        &direction_bins,
        &samples,
        (support_half_per_sigma / step as f64) as f32,
        half_grid,
        chunks > 1,
    );

    ValleyStrength {
        strength,
        samples,
        direction_bins,
        step,
    }
}

/// What every row of the detection grid is made from (see [`valley_strength_in_bands`]).
struct StrengthGrid<'a> {
    z: ArrayView2<'a, f32>,
    /// Pyramid levels 1, 2, … of z.
    coarse: &'a [Array2<f32>],
    specs: &'a [ScaleSpec],
    grid_level: usize,
    /// Size of the detection grid.
    grows: usize,
    gcols: usize,
    /// Saturating distance to the mask edge (detection-grid px), `None` when the mask is full.
    edge_dist: Option<&'a Array2<u16>>,
    band_rows: usize,
    sigmas_px: &'a [f64],
    min_strength: f32,
}

impl<'a> StrengthGrid<'a> {
    /// Pyramid level `level` of z (0 = z itself).
    fn source(&self, level: usize) -> ArrayView2<'a, f32> {
        if level == 0 {
            self.z
        } else {
            self.coarse[level - 1].view()
        }
    }

    /// Grid rows from `first` (a multiple of `band_rows`) into `strength` and `bins` (whole
    /// rows); returns their [`LineSamples`] (grid indices of the whole grid).
    fn rows(&self, first: usize, strength: &mut [f32], bins: &mut [u16]) -> LineSamples {
        let gcols = self.gcols;
        let end = first + strength.len() / gcols;
        let band_rows = self.band_rows;
        // Scales on another level than the detection grid's: strength and direction on their
        // own level, computed band by band as the resampling to the detection grid asks for
        // rows.
        let mut resampled: Vec<Option<Resampled>> = self
            .specs
            .iter()
            .map(|spec| {
                (spec.level != self.grid_level).then(|| {
                    let level = LevelRows::new(spec, self.source(spec.level), band_rows);
                    if spec.level > self.grid_level {
                        Resampled::Up(Upsampler::new(level, spec.level - self.grid_level, gcols))
                    } else {
                        Resampled::Pool(level, 1 << (self.grid_level - spec.level))
                    }
                })
            })
            .collect();
        // Scales on the detection grid are blurred band by band (with a halo that covers the
        // Hessian and the side samples), so only a band of each blurred map is held; every
        // row merges all scales in ascending order into a row-sized running maximum.
        let direct: Vec<&ScaleSpec> = self
            .specs
            .iter()
            .filter(|s| s.level == self.grid_level)
            .collect();
        let halo = direct
            .iter()
            .map(|s| s.side_px.ceil() as usize + 2)
            .max()
            .unwrap_or(0);
        let mut band_smooth: Vec<Vec<f32>> = vec![Vec::new(); direct.len()];
        let mut horizontal = Vec::new();
        let mut edge_buf = vec![0f32; gcols];
        let mut merge = RowMerge::new(gcols, self.sigmas_px);
        let mut s_row = vec![0f32; gcols];
        let mut t_row = vec![0f32; gcols];
        let mut scratch = RowScratch::default();
        let mut samples = LineSamples::default();
        for b0 in (first..end).step_by(band_rows) {
            let b1 = (b0 + band_rows).min(end);
            let (g0, g1) = (b0.saturating_sub(halo), (b1 + halo).min(self.grows));
            for (spec, buf) in direct.iter().zip(band_smooth.iter_mut()) {
                gaussian_blur_exact_rows(
                    self.source(spec.level),
                    spec.sigma_level,
                    g0..g1,
                    &mut horizontal,
                    buf,
                );
            }
            let strengths: Vec<ScaleStrength> = direct
                .iter()
                .zip(&band_smooth)
                .map(|(spec, buf)| spec.strength(buf, g0, (g1 - g0, gcols), self.grows))
                .collect();
            for r in b0..b1 {
                merge.reset();
                let edge = self.edge_dist.map(|d| {
                    for (e, &v) in edge_buf.iter_mut().zip(d.row(r)) {
                        *e = f32::from(v) / 3.0;
                    }
                    &edge_buf[..]
                });
                let mut next_direct = strengths.iter();
                for (spec, rows) in self.specs.iter().zip(resampled.iter_mut()) {
                    match rows {
                        None => next_direct.next().expect("one band per direct scale").row(
                            r,
                            &mut scratch,
                            &mut s_row,
                            &mut t_row,
                        ),
                        Some(Resampled::Up(up)) => up.row(r, &mut s_row, &mut t_row),
                        Some(Resampled::Pool(level, f)) => {
                            pool_max_row(level, *f, r, &mut s_row, &mut t_row)
                        }
                    }
                    merge.merge(spec.k, &s_row, &t_row, edge, spec.margin);
                }
                let k = (r - first) * gcols;
                merge.finish_row(
                    self.min_strength,
                    r * gcols,
                    &mut strength[k..k + gcols],
                    &mut bins[k..k + gcols],
                    &mut samples,
                );
            }
        }
        samples
    }
}

/// Rows of the detection grid per band: the scales computed on the detection grid are
/// blurred one band (plus a halo) at a time.
const BAND_ROWS: usize = 128;

/// One scale of the valley strength: where and how it is computed.
struct ScaleSpec {
    /// Index in the scale list (ascending σ).
    k: usize,
    /// Pyramid level it is computed on.
    level: usize,
    /// Remaining blur on that level, level px: `sqrt(σ² − pre_blur²) / 2^L`.
    sigma_level: f32,
    /// Responses closer than this to the mask edge (detection-grid px) count as 0.
    margin: f32,
    /// σ_level² (Hessian normalisation), `SIDE_SIGMAS·σ_level`, and the factor that
    /// re-normalises from (σ_level·2^L)² to σ² and divides by the unit-depth response.
    norm: f32,
    side_px: f32,
    renorm: f32,
    inv_two_beta2: f32,
}

impl ScaleSpec {
    fn new(k: usize, sigma: f64, level: usize, step: usize, inv_two_beta2: f32) -> Self {
        let factor = f64::from(1u32 << level);
        let pre_blur = if level == 0 { 0.0 } else { factor };
        let sigma_level = ((sigma * sigma - pre_blur * pre_blur).max(0.0)).sqrt() / factor;
        ScaleSpec {
            k,
            level,
            sigma_level: sigma_level as f32,
            margin: EDGE_SIGMAS * sigma as f32 / step as f32,
            norm: (sigma_level * sigma_level) as f32,
            side_px: SIDE_SIGMAS * sigma_level as f32,
            renorm: ((sigma * sigma / (sigma_level * factor).powi(2)) / GAUSSIAN_PEAK_RESPONSE)
                as f32,
            inv_two_beta2,
        }
    }

    /// The strength pass of this scale over `smooth`: rows `row0..row0 + dim.0` of its
    /// blurred level, which has `level_rows` rows.
    fn strength<'a>(
        &self,
        smooth: &'a [f32],
        row0: usize,
        dim: (usize, usize),
        level_rows: usize,
    ) -> ScaleStrength<'a> {
        ScaleStrength {
            smooth,
            rows: dim.0,
            cols: dim.1,
            row0,
            level_rows,
            norm: self.norm,
            side_px: self.side_px,
            renorm: self.renorm,
            inv_two_beta2: self.inv_two_beta2,
        }
    }
}

/// Rows of a scale computed on another level than the detection grid's.
enum Resampled<'a> {
    /// Coarser level: bilinear upsampling.
    Up(Upsampler<'a>),
    /// Finer level (rows, step): max-pooling.
    Pool(LevelRows<'a>, usize),
}

/// Strength and direction of one scale on its own pyramid level, computed a band of level
/// rows at a time (the blur of the band plus a halo, [`gaussian_blur_exact_rows`]) as the
/// resampling asks for rows in increasing order, so only one band of the level is held. The
/// values are those of the whole level ([`ScaleStrength::row`] on the whole blurred level).
struct LevelRows<'a> {
    spec: &'a ScaleSpec,
    source: ArrayView2<'a, f32>,
    band_rows: usize,
    /// Level rows the side samples and the Hessian read beyond a row, either way.
    halo: usize,
    /// Level rows `first..first + s.len() / cols` held.
    first: usize,
    s: Vec<f32>,
    t: Vec<f32>,
    smooth: Vec<f32>,
    horizontal: Vec<f32>,
    scratch: RowScratch,
}

impl<'a> LevelRows<'a> {
    fn new(spec: &'a ScaleSpec, source: ArrayView2<'a, f32>, band_rows: usize) -> Self {
        LevelRows {
            spec,
            source,
            band_rows: band_rows.max(1),
            halo: spec.side_px.ceil() as usize + 2,
            first: 0,
            s: Vec::new(),
            t: Vec::new(),
            smooth: Vec::new(),
            horizontal: Vec::new(),
            scratch: RowScratch::default(),
        }
    }

    fn rows(&self) -> usize {
        self.source.nrows()
    }

    fn cols(&self) -> usize {
        self.source.ncols()
    }

    /// Make level rows `lo..=hi` (clamped to the level) available. They come from the band
    /// that starts at the multiple of `band_rows − 1` at or below `lo` (consecutive bands
    /// share a row, so rows i and i + 1 are always in one band), whatever was asked before:
    /// the values of a row depend on its band's first row (the side-sample coordinates are
    /// relative to it), so they do not depend on where the caller started. The detection
    /// grid can be made in parts, each with its own `LevelRows`, and give the same bits.
    fn ensure(&mut self, lo: usize, hi: usize) {
        let (rows, cols) = self.source.dim();
        let hi = hi.min(rows - 1);
        let stride = (self.band_rows - 1).max(1);
        let lo = lo / stride * stride;
        let held = self.s.len() / cols;
        if lo == self.first && hi < self.first + held {
            return;
        }
        let end = (hi + 1).max(lo + self.band_rows).min(rows);
        let (g0, g1) = (lo.saturating_sub(self.halo), (end + self.halo).min(rows));
        gaussian_blur_exact_rows(
            self.source,
            self.spec.sigma_level,
            g0..g1,
            &mut self.horizontal,
            &mut self.smooth,
        );
        let strength = self.spec.strength(&self.smooth, g0, (g1 - g0, cols), rows);
        self.s.resize((end - lo) * cols, 0.0);
        self.t.resize((end - lo) * cols, 0.0);
        for (i, (s_row, t_row)) in self
            .s
            .chunks_exact_mut(cols)
            .zip(self.t.chunks_exact_mut(cols))
            .enumerate()
        {
            strength.row(lo + i, &mut self.scratch, s_row, t_row);
        }
        self.first = lo;
    }

    /// Strength and direction of level row `i` (held: see [`LevelRows::ensure`]).
    fn row(&self, i: usize) -> (&[f32], &[f32]) {
        let cols = self.cols();
        let k = (i - self.first) * cols;
        (&self.s[k..k + cols], &self.t[k..k + cols])
    }
}

/// Running maximum over the scales of one row of the detection grid, with what the scale
/// refinement needs: the index of the best scale and the strengths of its two neighbours.
struct RowMerge {
    /// max_σ S_σ so far (0 where no scale responded).
    best: Vec<f32>,
    /// Index of the best scale, `u8::MAX` where none.
    best_k: Vec<u8>,
    /// S at the scale below the best (NaN when the best is the first scale).
    below: Vec<f32>,
    /// S at the scale above the best (NaN until that scale is merged).
    above: Vec<f32>,
    /// S of the last merged scale.
    prev: Vec<f32>,
    /// Line direction at the best scale, radians in [0, π).
    direction: Vec<f32>,
    /// +∞ edge distances, for zones whose mask is full.
    no_edge: Vec<f32>,
    /// σ_k (px) by scale index; NaN for "no scale" (`u8::MAX`).
    sigma_of_k: [f32; 256],
    /// ln(σ_{k+1}/σ_k), the scale step of the refinement (0 for a single scale).
    ln_ratio: f32,
}

impl RowMerge {
    /// State for rows of `cols` samples merging the scales `sigmas_px` (at most 255).
    fn new(cols: usize, sigmas_px: &[f64]) -> Self {
        let mut sigma_of_k = [f32::NAN; 256];
        for (t, &s) in sigma_of_k.iter_mut().zip(sigmas_px) {
            *t = s as f32;
        }
        RowMerge {
            sigma_of_k,
            ln_ratio: if sigmas_px.len() > 1 {
                (sigmas_px[1] / sigmas_px[0]).ln() as f32
            } else {
                0.0
            },
            best: vec![0.0; cols],
            best_k: vec![u8::MAX; cols],
            below: vec![f32::NAN; cols],
            above: vec![f32::NAN; cols],
            prev: vec![0.0; cols],
            direction: vec![0.0; cols],
            no_edge: vec![f32::INFINITY; cols],
        }
    }

    /// Start a new row.
    fn reset(&mut self) {
        self.best.fill(0.0);
        self.best_k.fill(u8::MAX);
        self.below.fill(f32::NAN);
        self.above.fill(f32::NAN);
        self.prev.fill(0.0);
        self.direction.fill(0.0);
    }

    /// Merge scale `k` (strengths `s`, directions `theta`); scales come in ascending order.
    /// Samples closer than `margin` to the mask edge (`edge`: distance to the nearest pixel
    /// outside the mask, `None` when the mask is full) count as 0.
    fn merge(&mut self, k: usize, s: &[f32], theta: &[f32], edge: Option<&[f32]>, margin: f32) {
        let edge = edge.unwrap_or(&self.no_edge);
        merge_scale_row(
            k,
            s,
            theta,
            edge,
            margin,
            &mut self.best,
            &mut self.best_k,
            &mut self.below,
            &mut self.above,
            &mut self.prev,
            &mut self.direction,
        );
    }

    /// The row's strength and direction bins ([`direction_bin`]), and, for the samples whose
    /// strength is at least `min_strength` (only those can end up in a line), appended to
    /// `samples` with grid index `row_start + column`: the best scale σ* (px), refined by a
    /// parabola through the strengths of the best scale and its two neighbours in ln σ, and
    /// the direction.
    fn finish_row(
        &self,
        min_strength: f32,
        row_start: usize,
        strength: &mut [f32],
        bins: &mut [u16],
        samples: &mut LineSamples,
    ) {
        strength.copy_from_slice(&self.best);
        for (bin, &t) in bins.iter_mut().zip(&self.direction) {
            *bin = direction_bin(t);
        }
        for (c, ((&b, &k), (&lo, &hi))) in self
            .best
            .iter()
            .zip(&self.best_k)
            .zip(self.below.iter().zip(&self.above))
            .enumerate()
        {
            if !(b >= min_strength && b > 0.0) {
                continue;
            }
            let denom = lo - 2.0 * b + hi;
            // NaN neighbours (first/last scale) make denom NaN: no refinement.
            let offset = if denom < 0.0 {
                (0.5 * (lo - hi) / denom).clamp(-0.5, 0.5)
            } else {
                0.0
            };
            samples.index.push((row_start + c) as u32);
            samples
                .sigma_px
                .push(self.sigma_of_k[k as usize] * fast_exp(offset * self.ln_ratio));
            samples.direction.push(self.direction[c]);
        }
    }
}

widest_simd! {
    /// Merge one row of scale `k` into the running maximum (see [`RowMerge::merge`]):
    /// [`merge_chunk`] over chunks of [`MERGE_LANES`] samples, then one sample at a time for
    /// the rest.
    fn merge_scale_row(
        k: usize,
        s: &[f32],
        theta: &[f32],
        edge: &[f32],
        margin: f32,
        best: &mut [f32],
        best_k: &mut [u8],
        below: &mut [f32],
        above: &mut [f32],
        prev: &mut [f32],
        direction: &mut [f32],
    ) {
        let n = s.len();
        let full = n - n % MERGE_LANES;
        let scale = MergeScale::new(k, margin);
        let mut c = 0;
        while c < n {
            let w = if c < full { MERGE_LANES } else { 1 };
            let span = c..c + w;
            macro_rules! chunk {
                ($w:literal) => {
                    merge_chunk::<$w>(
                        &scale,
                        s[span.clone()].try_into().expect("chunk"),
                        theta[span.clone()].try_into().expect("chunk"),
                        edge[span.clone()].try_into().expect("chunk"),
                        (&mut best[span.clone()]).try_into().expect("chunk"),
                        (&mut best_k[span.clone()]).try_into().expect("chunk"),
                        (&mut below[span.clone()]).try_into().expect("chunk"),
                        (&mut above[span.clone()]).try_into().expect("chunk"),
                        (&mut prev[span.clone()]).try_into().expect("chunk"),
                        (&mut direction[span.clone()]).try_into().expect("chunk"),
                    )
                };
            }
            if w == MERGE_LANES {
                chunk!(16);
            } else {
                chunk!(1);
            }
            c += w;
        }
    }
}

/// Samples merged at a time: fixed-size chunks that the compiler turns into vector code.
const MERGE_LANES: usize = 16;

/// The constants of one scale's merge.
struct MergeScale {
    k: u8,
    /// Best-scale index for which this scale is the one above (none for k = 0).
    after: u8,
    first: bool,
    margin: f32,
}

impl MergeScale {
    fn new(k: usize, margin: f32) -> Self {
        let k8 = k as u8;
        MergeScale {
            k: k8,
            after: if k == 0 { u8::MAX - 1 } else { k8 - 1 },
            first: k == 0,
            margin,
        }
    }
}

/// Merge `N` samples of one scale into the running maximum:
///
/// ```text
/// v = 0 if closer than margin to the mask edge, else S_k
/// v > best:                  best = v, k* = k, below = S_{k−1} (NaN for k = 0), above = NaN
/// otherwise, if k* = k − 1:  above = v
/// ```
/// All loads first, selects, then all stores, so the chunk compiles to vector code.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn merge_chunk<const N: usize>(
    scale: &MergeScale,
    s: &[f32; N],
    theta: &[f32; N],
    edge: &[f32; N],
    best: &mut [f32; N],
    best_k: &mut [u8; N],
    below: &mut [f32; N],
    above: &mut [f32; N],
    prev: &mut [f32; N],
    direction: &mut [f32; N],
) {
    let (b0, k0, lo0, hi0, p0, d0) = (*best, *best_k, *below, *above, *prev, *direction);
    let mut v = [0f32; N];
    for i in 0..N {
        v[i] = if edge[i] < scale.margin { 0.0 } else { s[i] };
    }
    for i in 0..N {
        let better = v[i] > b0[i];
        let is_above = !better && k0[i] == scale.after && !scale.first;
        let below_better = if scale.first { f32::NAN } else { p0[i] };
        below[i] = if better { below_better } else { lo0[i] };
        above[i] = if better {
            f32::NAN
        } else if is_above {
            v[i]
        } else {
            hi0[i]
        };
        best[i] = if better { v[i] } else { b0[i] };
        best_k[i] = if better { scale.k } else { k0[i] };
        direction[i] = if better { theta[i] } else { d0[i] };
        prev[i] = v[i];
    }
}

/// One scale's blurred map `L = G_σ ∗ z` (at its pyramid level) and the constants of
/// `S_σ = λ2·exp(−(λ1/λ2)²/(2β²))·Q·renorm` (see [`ScaleStrength::row`]).
struct ScaleStrength<'a> {
    /// Rows `row0..row0 + rows` of L, row-major `rows × cols`: the whole level, or a band of
    /// it with a halo wide enough for the rows asked for (see [`valley_strength`]).
    smooth: &'a [f32],
    rows: usize,
    cols: usize,
    row0: usize,
    /// Rows of the whole level (where the Hessian reflects).
    level_rows: usize,
    /// σ² in level px (Hessian normalisation).
    norm: f32,
    /// Distance of the two-sided test, `SIDE_SIGMAS·σ` level px.
    side_px: f32,
    renorm: f32,
    inv_two_beta2: f32,
}

impl ScaleStrength<'_> {
    /// Strength S_σ and line direction (radians in [0, π), 0 where S = 0) of row `r`:
    ///
    /// ```text
    /// [a b; b c] = σ²·[Lxx Lxy; Lxy Lyy]     central differences, reflected at the border
    /// m = (a + c)/2,  h = (a − c)/2,  ρ = sqrt(h² + b²)
    /// λ2 = m + ρ, λ1 = m − ρ                  (m ≥ 0; m < 0 means λ2 < 0: not a valley)
    /// n  = (cos φ, sin φ), 2φ = atan2(b, h)   unit normal (eigenvector of λ2), half-angle form
    /// d± = L(p ± 2σ·n) − L(p),   Q = max(0, min(d₊, d₋)) / max(d₊, d₋)
    /// ```
    /// The normal comes from `cos 2φ = h/ρ` by the half-angle formulas, so the arctangent is
    /// evaluated only where S > 0 (for the direction, φ + π/2 displayed counter-clockwise).
    fn row(&self, r: usize, scratch: &mut RowScratch, s_out: &mut [f32], dir_out: &mut [f32]) {
        valley_row(self, r, scratch, s_out, dir_out);
    }
}

/// Per-row Hessian terms of [`ScaleStrength::row`], reused from row to row.
#[derive(Default)]
struct RowScratch {
    mean: Vec<f32>,
    half_diff: Vec<f32>,
    cross: Vec<f32>,
    root: Vec<f32>,
    off_c: Vec<f32>,
    off_r: Vec<f32>,
    plus: Vec<f32>,
    minus: Vec<f32>,
}

impl RowScratch {
    fn resize(&mut self, n: usize) {
        for v in [
            &mut self.mean,
            &mut self.half_diff,
            &mut self.cross,
            &mut self.root,
            &mut self.off_c,
            &mut self.off_r,
            &mut self.plus,
            &mut self.minus,
        ] {
            v.resize(n, 0.0);
        }
    }
}

/// A level for bilinear sampling with coordinates clamped to it, indices in u32.
#[derive(Clone, Copy)]
struct ClampedLevel<'a> {
    data: &'a [f32],
    cols: u32,
    last_row: u32,
    last_col: u32,
    rmax: f32,
    cmax: f32,
}

impl<'a> ClampedLevel<'a> {
    fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        ClampedLevel {
            data,
            cols: cols as u32,
            last_row: (rows - 1) as u32,
            last_col: (cols - 1) as u32,
            rmax: (rows - 1) as f32,
            cmax: (cols - 1) as f32,
        }
    }

    /// Bilinear sample at (row, col), both clamped to the level (branch-free).
    #[inline(always)]
    fn bilinear(&self, row: f32, col: f32) -> f32 {
        let (y, x) = (row.max(0.0).min(self.rmax), col.max(0.0).min(self.cmax));
        let (r0, c0) = (y as u32, x as u32);
        let (u, t) = (y - r0 as f32, x - c0 as f32);
        let i00 = r0 * self.cols + c0;
        let down = if r0 < self.last_row { self.cols } else { 0 };
        let right = u32::from(c0 < self.last_col);
        let last = self.data.len() - 1;
        let at = |i: u32| self.data[(i as usize).min(last)];
        let (a, b) = (at(i00), at(i00 + right));
        let (c, d) = (at(i00 + down), at(i00 + down + right));
        let top = a + t * (b - a);
        let bottom = c + t * (d - c);
        top + u * (bottom - top)
    }
}

/// The two side samples of the valley test for one row:
/// `plus[c] = L(r + off_r[c], c + off_c[c]) − mid[c]` and `minus[c] = L(r − off_r[c],
/// c − off_c[c]) − mid[c]`, bilinear with coordinates clamped to the level. Eight columns at
/// a time with AVX2 gathers when the CPU has them (the same IEEE operations in the same
/// order as [`ClampedLevel::bilinear`], so the same bits), otherwise one at a time.
fn side_samples(
    level: &ClampedLevel<'_>,
    r: usize,
    off_c: &[f32],
    off_r: &[f32],
    mid: &[f32],
    plus: &mut [f32],
    minus: &mut [f32],
) {
    let n = off_c.len();
    let (off_r, mid, plus, minus) = (&off_r[..n], &mid[..n], &mut plus[..n], &mut minus[..n]);
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && level.data.len() <= i32::MAX as usize {
        // SAFETY: the CPU supports AVX2 (checked just above); the level has fewer than 2³¹
        // samples, so its indices fit the gathers' i32 lanes.
        done = unsafe { side_samples_avx2(level, r, off_c, off_r, mid, plus, minus) };
    }
    let rf = r as f32;
    for c in done..n {
        let (cf, dc, dr) = (c as f32, off_c[c], off_r[c]);
        plus[c] = level.bilinear(rf + dr, cf + dc) - mid[c];
        minus[c] = level.bilinear(rf - dr, cf - dc) - mid[c];
    }
}

/// [`side_samples`] for whole groups of 8 columns; returns the number of columns done. All
/// slices have the length of `off_c`; `level.data` has fewer than 2³¹ samples.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn side_samples_avx2(
    level: &ClampedLevel<'_>,
    r: usize,
    off_c: &[f32],
    off_r: &[f32],
    mid: &[f32],
    plus: &mut [f32],
    minus: &mut [f32],
) -> usize {
    use std::arch::x86_64::*;
    let n = off_c.len();
    let full = n - n % 8;
    let zero = _mm256_setzero_ps();
    let rmax = _mm256_set1_ps(level.rmax);
    let cmax = _mm256_set1_ps(level.cmax);
    let cols = _mm256_set1_epi32(level.cols as i32);
    let last_row = _mm256_set1_epi32(level.last_row as i32);
    let last_col = _mm256_set1_epi32(level.last_col as i32);
    let one = _mm256_set1_epi32(1);
    let rf = _mm256_set1_ps(r as f32);
    let iota = _mm256_setr_ps(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
    let base = level.data.as_ptr();
    // Bilinear sample at (y, x) per lane, as ClampedLevel::bilinear.
    let sample = |y: __m256, x: __m256| {
        let y = _mm256_min_ps(_mm256_max_ps(y, zero), rmax);
        let x = _mm256_min_ps(_mm256_max_ps(x, zero), cmax);
        let (r0, c0) = (_mm256_cvttps_epi32(y), _mm256_cvttps_epi32(x));
        let u = _mm256_sub_ps(y, _mm256_cvtepi32_ps(r0));
        let t = _mm256_sub_ps(x, _mm256_cvtepi32_ps(c0));
        let i00 = _mm256_add_epi32(_mm256_mullo_epi32(r0, cols), c0);
        let down = _mm256_and_si256(_mm256_cmpgt_epi32(last_row, r0), cols);
        let right = _mm256_and_si256(_mm256_cmpgt_epi32(last_col, c0), one);
        let i10 = _mm256_add_epi32(i00, down);
        // SAFETY: 0 ≤ r0 ≤ last_row and 0 ≤ c0 ≤ last_col (clamped above), and `down`/`right`
        // step only from rows/columns below the last, so every index is inside the level.
        let (a, b, c, d) = unsafe {
            (
                _mm256_i32gather_ps::<4>(base, i00),
                _mm256_i32gather_ps::<4>(base, _mm256_add_epi32(i00, right)),
                _mm256_i32gather_ps::<4>(base, i10),
                _mm256_i32gather_ps::<4>(base, _mm256_add_epi32(i10, right)),
            )
        };
        let top = _mm256_add_ps(a, _mm256_mul_ps(t, _mm256_sub_ps(b, a)));
        let bottom = _mm256_add_ps(c, _mm256_mul_ps(t, _mm256_sub_ps(d, c)));
        _mm256_add_ps(top, _mm256_mul_ps(u, _mm256_sub_ps(bottom, top)))
    };
    let mut c = 0;
    while c < full {
        // SAFETY: c + 8 ≤ full ≤ n, the length of every slice.
        unsafe {
            let dc = _mm256_loadu_ps(off_c.as_ptr().add(c));
            let dr = _mm256_loadu_ps(off_r.as_ptr().add(c));
            let m = _mm256_loadu_ps(mid.as_ptr().add(c));
            let cf = _mm256_add_ps(_mm256_set1_ps(c as f32), iota);
            let p = sample(_mm256_add_ps(rf, dr), _mm256_add_ps(cf, dc));
            let q = sample(_mm256_sub_ps(rf, dr), _mm256_sub_ps(cf, dc));
            _mm256_storeu_ps(plus.as_mut_ptr().add(c), _mm256_sub_ps(p, m));
            _mm256_storeu_ps(minus.as_mut_ptr().add(c), _mm256_sub_ps(q, m));
        }
        c += 8;
    }
    full
}

widest_simd! {
    /// [`ScaleStrength::row`], compiled for the widest vector unit: the Hessian terms of the
    /// row, then S_σ and the direction for every column, branch-free (values where S = 0 are
    /// computed and discarded), with the two side samples read by bilinear interpolation with
    /// coordinates clamped to the level. Indices are computed in u32, so a level must have
    /// fewer than 2³² samples.
    fn valley_row(
        scale: &ScaleStrength<'_>,
        r: usize,
        scratch: &mut RowScratch,
        s_out: &mut [f32],
        dir_out: &mut [f32],
    ) {
        let (rows, cols) = (scale.rows, scale.cols);
        let smooth = scale.smooth;
        // Global level row → row of the band held in `smooth`.
        let line = |k: usize| {
            let k = k - scale.row0;
            &smooth[k * cols..(k + 1) * cols]
        };
        let up = line(reflect_index(r as isize - 1, scale.level_rows));
        let mid = line(r);
        let down = line(reflect_index(r as isize + 1, scale.level_rows));
        scratch.resize(cols);
        let RowScratch {
            mean,
            half_diff,
            cross,
            root,
            off_c,
            off_r,
            plus,
            minus,
        } = scratch;
        let norm = scale.norm;
        let mut hessian = |c: usize, jl: usize, jr: usize| {
            let centre = mid[c];
            let lxx = mid[jr] - 2.0 * centre + mid[jl];
            let lyy = down[c] - 2.0 * centre + up[c];
            let lxy = 0.25 * (down[jr] - down[jl] - up[jr] + up[jl]);
            let (a, b, cc) = (norm * lxx, norm * lxy, norm * lyy);
            let hd = 0.5 * (a - cc);
            mean[c] = 0.5 * (a + cc);
            half_diff[c] = hd;
            cross[c] = b;
            root[c] = (hd * hd + b * b).sqrt();
        };
        if cols <= 2 {
            for c in 0..cols {
                hessian(c, c.saturating_sub(1), (c + 1).min(cols - 1));
            }
        } else {
            // Reflection at the ends: index −1 → 0 and cols → cols − 1.
            hessian(0, 0, 1);
            hessian(cols - 1, cols - 2, cols - 1);
            let n = cols - 2;
            let (ul, uc, ur) = (&up[..n], &up[1..n + 1], &up[2..n + 2]);
            let (ml, mc, mr) = (&mid[..n], &mid[1..n + 1], &mid[2..n + 2]);
            let (dl, dc, dr) = (&down[..n], &down[1..n + 1], &down[2..n + 2]);
            let (om, oh, ob, or) = (
                &mut mean[1..n + 1],
                &mut half_diff[1..n + 1],
                &mut cross[1..n + 1],
                &mut root[1..n + 1],
            );
            for k in 0..n {
                let lxx = mr[k] - 2.0 * mc[k] + ml[k];
                let lyy = dc[k] - 2.0 * mc[k] + uc[k];
                let lxy = 0.25 * (dr[k] - dl[k] - ur[k] + ul[k]);
                let (a, b, cc) = (norm * lxx, norm * lxy, norm * lyy);
                let hd = 0.5 * (a - cc);
                om[k] = 0.5 * (a + cc);
                oh[k] = hd;
                ob[k] = b;
                or[k] = (hd * hd + b * b).sqrt();
            }
        }

        // Offsets of the two side samples: ±2σ along the unit normal n = (cos φ, sin φ).
        let n = cols;
        let (mean, half_diff, cross, root) = (&mean[..n], &half_diff[..n], &cross[..n], &root[..n]);
        let (off_c, off_r) = (&mut off_c[..n], &mut off_r[..n]);
        for c in 0..n {
            let (hd, b, rt) = (half_diff[c], cross[c], root[c]);
            let cos2 = if rt > 0.0 { hd / rt } else { 1.0 };
            off_c[c] = scale.side_px * (0.5 * (1.0 + cos2)).max(0.0).sqrt();
            off_r[c] = scale.side_px * (0.5 * (1.0 - cos2)).max(0.0).sqrt().copysign(b);
        }
        // The side samples (gathers), in the band's coordinates: the halo keeps them inside the
        // band except at the level's own borders, where the band ends too and clamps the same.
        let level = ClampedLevel::new(smooth, rows, cols);
        let (plus, minus) = (&mut plus[..n], &mut minus[..n]);
        side_samples(&level, r - scale.row0, off_c, off_r, &mid[..n], plus, minus);
        let (s_out, dir_out) = (&mut s_out[..n], &mut dir_out[..n]);
        for c in 0..n {
            let (m, hd, b, rt) = (mean[c], half_diff[c], cross[c], root[c]);
            let (p, q) = (plus[c], minus[c]);
            let l2 = m + rt;
            let lo = p.min(q);
            let q = (SYMMETRY_FULL_CREDIT * lo / p.max(q)).min(1.0);
            let rb = (m - rt) / l2;
            let value = l2 * fast_exp(-rb * rb * scale.inv_two_beta2) * q * scale.renorm;
            // Line direction: the normal's angle φ (2φ = atan2(b, h)) plus π/2, displayed
            // counter-clockwise (y down → negate), in [0, π).
            let phi = 0.5 * fast_atan2(b, hd);
            let d = -(phi + std::f32::consts::FRAC_PI_2);
            let d = if d < 0.0 { d + std::f32::consts::PI } else { d };
            let d = if d >= std::f32::consts::PI { 0.0 } else { d };
            let valley = m >= 0.0 && l2 > 0.0 && lo > 0.0;
            s_out[c] = if valley { value } else { 0.0 };
            dir_out[c] = if valley { d } else { 0.0 };
        }
    }
}

/// Upsampling by `2^shift` of one scale's strength (bilinear) and direction (nearest sample)
/// from its level to the detection grid, one output row at a time. Each level row is
/// interpolated along the columns once and kept for the output rows that use it.
struct Upsampler<'a> {
    level: LevelRows<'a>,
    shift: usize,
    /// Per output column: the two level columns and the weight of the second.
    cols: Vec<(usize, usize, f32)>,
    /// Level rows (i, i + 1) interpolated along the columns, for the `i` in `pair`.
    pair: Option<usize>,
    top: Vec<f32>,
    bottom: Vec<f32>,
    /// The direction row expanded to the output columns, for the level row in `nearest`.
    nearest: Option<usize>,
    theta: Vec<f32>,
}

impl<'a> Upsampler<'a> {
    fn new(level: LevelRows<'a>, shift: usize, out_cols: usize) -> Self {
        let factor = 1usize << shift;
        let level_cols = level.cols();
        let inv = 1.0 / factor as f32;
        let cols = (0..out_cols)
            .map(|c| {
                let j0 = (c / factor).min(level_cols - 1);
                let j1 = (j0 + 1).min(level_cols - 1);
                let t = ((c - j0 * factor) as f32 * inv).min(1.0);
                (j0, j1, t)
            })
            .collect();
        Upsampler {
            level,
            shift,
            cols,
            pair: None,
            top: vec![0.0; out_cols],
            bottom: vec![0.0; out_cols],
            nearest: None,
            theta: vec![0.0; out_cols],
        }
    }

    /// Output row `r`: strength into `s_out` (bilinear between level rows i0 = r/2^shift and
    /// i0 + 1, both clamped), direction into `t_out` (nearest level sample).
    fn row(&mut self, r: usize, s_out: &mut [f32], t_out: &mut [f32]) {
        let factor = 1usize << self.shift;
        let rows = self.level.rows();
        let i0 = (r / factor).min(rows - 1);
        let i = nearest_coarse(r, self.shift, rows);
        // The nearest level row of r is i0 or i0 + 1.
        self.level.ensure(i0, i0 + 1);
        if self.pair != Some(i0) {
            let i1 = (i0 + 1).min(rows - 1);
            let (a, b) = (self.level.row(i0).0, self.level.row(i1).0);
            for ((top, bottom), &(j0, j1, t)) in self
                .top
                .iter_mut()
                .zip(self.bottom.iter_mut())
                .zip(&self.cols)
            {
                *top = a[j0] + t * (a[j1] - a[j0]);
                *bottom = b[j0] + t * (b[j1] - b[j0]);
            }
            self.pair = Some(i0);
        }
        let u = ((r - i0 * factor) as f32 / factor as f32).min(1.0);
        for ((o, &top), &bottom) in s_out.iter_mut().zip(&self.top).zip(&self.bottom) {
            *o = top + u * (bottom - top);
        }
        if self.nearest != Some(i) {
            let level_row = self.level.row(i).1;
            let n = level_row.len();
            for (c, t) in self.theta.iter_mut().enumerate() {
                *t = level_row[nearest_coarse(c, self.shift, n)];
            }
            self.nearest = Some(i);
        }
        t_out.copy_from_slice(&self.theta);
    }
}

/// Index of the level-`shift` sample nearest to full-resolution index `i` (level length `n`).
fn nearest_coarse(i: usize, shift: usize, n: usize) -> usize {
    ((i + (1usize << shift) / 2) >> shift).min(n - 1)
}

/// Row `i` of the max of `s` over the `(f+1)×(f+1)` window centred on sample `f·i` (clipped to
/// the array), on the grid of step `f`, with the direction of the maximum (first in raster
/// order).
fn pool_max_row(
    level: &mut LevelRows<'_>,
    f: usize,
    i: usize,
    out: &mut [f32],
    out_theta: &mut [f32],
) {
    let (rows, cols) = (level.rows(), level.cols());
    let half = f / 2;
    let r0 = (i * f).saturating_sub(half);
    let r1 = (i * f + half).min(rows - 1);
    level.ensure(r0, r1);
    for (j, (o, ot)) in out.iter_mut().zip(out_theta.iter_mut()).enumerate() {
        let c0 = (j * f).saturating_sub(half);
        let c1 = (j * f + half).min(cols - 1);
        let mut m = f32::NEG_INFINITY;
        let mut t = 0.0;
        for r in r0..=r1 {
            let (row, theta) = level.row(r);
            for c in c0..=c1 {
                if row[c] > m {
                    m = row[c];
                    t = theta[c];
                }
            }
        }
        *o = m;
        *ot = t;
    }
}

/// Half-length in px of the along-line averaging segment, `line_support_mm / 2`.
pub fn support_half_px(params: &LinesParams, px_per_mm: f64) -> usize {
    (0.5 * params.line_support_mm * px_per_mm).round().max(0.0) as usize
}

/// Half-length of the along-line averaging segment per px of σ*:
/// `line_support_widths / 2 · 1.6651` (the segment spans `line_support_widths` line widths).
pub fn support_half_per_sigma(params: &LinesParams) -> f64 {
    0.5 * params.line_support_widths.max(0.0) * WIDTH_PER_SIGMA
}

/// Line directions are quantised to this many bins over [0, π) for the along-line mean
/// (0.18° per bin: at the longest segments, ≈ 50 px, the sample positions move < 0.1 px).
/// A power of 2 (bins wrap by masking).
const DIRECTION_BINS: usize = 1024;

/// Mean of `s` over the segment of `2·h + 1` samples centred on each pixel and aligned with its
/// line direction, `h = max(half_px, round(half_per_sigma·σ*))` (nearest-neighbour samples,
/// samples outside the array skipped), each sample weighted by its direction agreement
/// `max(0, cos 2(θq − θp))`. The mean is capped at `OWN_STRENGTH_FACTOR·s(p)`, so a line does
/// not extend past its end. It is computed only at the `samples` (where `s ≥ min_strength`,
/// the half-length from their σ*); elsewhere `s` is returned unchanged (it is below
/// `min_strength` either way, so detection with threshold `min_strength` is unaffected).
///
/// Directions are binned ([`DIRECTION_BINS`]) so that the sample offsets of each direction
/// and the agreement of two directions are table look-ups. With `parallel`, the samples are
/// shared among the thread pool (each mean is computed alone: the same bits).
fn along_line_mean(
    mut s: Array2<f32>,
    bins: &Array2<u16>,
    samples: &LineSamples,
    half_per_sigma: f32,
    half_px: usize,
    parallel: bool,
) -> Array2<f32> {
    if half_px == 0 && half_per_sigma <= 0.0 {
        return s;
    }
    let (rows, cols) = s.dim();
    let half_at = |sig: f32| {
        if sig.is_finite() {
            half_px.max((half_per_sigma * sig).round().max(0.0) as usize)
        } else {
            half_px
        }
    };
    let sv = s.as_slice().expect("fresh array");
    // Each sample's grid index and half-length.
    let centre = |(&i, &sig): (&u32, &f32)| (i as usize, half_at(sig));
    let centres = || samples.index.iter().zip(&samples.sigma_px).map(centre);
    let h_max = centres().fold(half_px, |m, (_, h)| m.max(h));
    let bin_width = std::f32::consts::PI / DIRECTION_BINS as f32;
    // agreement[d] = max(0, cos 2Δθ) for a bin difference d (mod DIRECTION_BINS).
    let agreement: Vec<f32> = (0..DIRECTION_BINS)
        .map(|d| (2.0 * d as f32 * bin_width).cos().max(0.0))
        .collect();
    // offsets[b·h_max + t − 1] = (row, col) step of sample t ≥ 1 along bin b's direction.
    let offsets: Vec<(isize, isize)> = (0..DIRECTION_BINS)
        .flat_map(|b| {
            let theta = b as f32 * bin_width;
            let (dc, dr) = (theta.cos(), -theta.sin());
            (1..=h_max).map(move |t| {
                (
                    (t as f32 * dr).round() as isize,
                    (t as f32 * dc).round() as isize,
                )
            })
        })
        .collect();
    // The same offsets as steps in the row-major buffer, for samples known to be inside.
    let linear: Vec<isize> = offsets
        .iter()
        .map(|&(dr, dc)| dr * cols as isize + dc)
        .collect();
    let bv = bins.as_slice().expect("fresh array");
    let (rows_i, cols_i) = (rows as isize, cols as isize);
    let agree = |q: usize, bp: usize| {
        sv[q] * agreement[(bv[q] as usize + DIRECTION_BINS - bp) % DIRECTION_BINS]
    };
    let mean_at = |(i, h): (usize, usize)| {
        let own = sv[i];
        let (r, c) = ((i / cols) as isize, (i % cols) as isize);
        let bp = bv[i] as usize;
        let base = bp * h_max;
        let hi = h as isize;
        let mut sum = 0.0f32;
        let mut n = 0u32;
        // t = −h..=h in this order (the f32 sum is not reordered).
        if r >= hi && c >= hi && r + hi < rows_i && c + hi < cols_i {
            // The whole segment is inside: no bounds tests.
            let steps = &linear[base..base + h];
            for &d in steps.iter().rev() {
                sum += agree((i as isize - d) as usize, bp);
            }
            sum += agree(i, bp);
            for &d in steps {
                sum += agree((i as isize + d) as usize, bp);
            }
            n = 2 * h as u32 + 1;
        } else {
            let steps = &offsets[base..base + h];
            let inside = |(dr, dc): (isize, isize)| {
                (0..rows_i).contains(&(r + dr)) && (0..cols_i).contains(&(c + dc))
            };
            let at = |(dr, dc): (isize, isize)| ((r + dr) * cols_i + c + dc) as usize;
            for &(dr, dc) in steps.iter().rev() {
                if inside((-dr, -dc)) {
                    sum += agree(at((-dr, -dc)), bp);
                    n += 1;
                }
            }
            sum += agree(i, bp);
            n += 1;
            for &step in steps {
                if inside(step) {
                    sum += agree(at(step), bp);
                    n += 1;
                }
            }
        }
        (sum / n as f32).min(OWN_STRENGTH_FACTOR * own)
    };
    let means: Vec<f32> = if parallel {
        (samples.index.par_iter().zip(&samples.sigma_px))
            .map(|sample| mean_at(centre(sample)))
            .collect()
    } else {
        centres().map(mean_at).collect()
    };
    let out = s.as_slice_mut().expect("fresh array");
    for (&i, m) in samples.index.iter().zip(means) {
        out[i as usize] = m;
    }
    s
}

/// A line direction (radians in [0, π)) quantised to [`DIRECTION_BINS`] bins, nearest bin
/// centre, π wrapping to bin 0 (branch-free).
#[inline(always)]
fn direction_bin(theta: f32) -> u16 {
    let per_radian = DIRECTION_BINS as f32 / std::f32::consts::PI;
    (((theta * per_radian + 0.5) as u32) & (DIRECTION_BINS as u32 - 1)) as u16
}

/// Pyramid level on which scale `sigma_px` is computed: the coarsest L with
/// σ/2^L ≥ `MIN_LEVEL_SIGMA` level px (0 for small σ).
fn decimation_level(sigma_px: f64) -> usize {
    let mut level = 0;
    while sigma_px / f64::from(1u32 << (level + 1)) >= MIN_LEVEL_SIGMA && level < 16 {
        level += 1;
    }
    level
}

/// Chamfer (3-4) distance from each pixel to the nearest pixel outside the mask, in thirds of
/// a px (u16, saturating at 65 535: 21 845 px, far beyond any margin), or `None` when the mask
/// fills its bounding box (the image border is reflected, not an edge).
fn mask_edge_distance(mask: ArrayView2<bool>) -> Option<Array2<u16>> {
    if mask.iter().all(|&m| m) {
        return None;
    }
    let (rows, cols) = mask.dim();
    const BIG: u16 = u16::MAX;
    let mut d = Array2::<u16>::from_elem((rows, cols), BIG);
    for ((r, c), &m) in mask.indexed_iter() {
        if !m {
            d[(r, c)] = 0;
        }
    }
    for r in 0..rows {
        for c in 0..cols {
            let mut v = d[(r, c)];
            if v == 0 {
                continue;
            }
            if c > 0 {
                v = v.min(d[(r, c - 1)].saturating_add(3));
            }
            if r > 0 {
                v = v.min(d[(r - 1, c)].saturating_add(3));
                if c > 0 {
                    v = v.min(d[(r - 1, c - 1)].saturating_add(4));
                }
                if c + 1 < cols {
                    v = v.min(d[(r - 1, c + 1)].saturating_add(4));
                }
            }
            d[(r, c)] = v;
        }
    }
    for r in (0..rows).rev() {
        for c in (0..cols).rev() {
            let mut v = d[(r, c)];
            if v == 0 {
                continue;
            }
            if c + 1 < cols {
                v = v.min(d[(r, c + 1)].saturating_add(3));
            }
            if r + 1 < rows {
                v = v.min(d[(r + 1, c)].saturating_add(3));
                if c + 1 < cols {
                    v = v.min(d[(r + 1, c + 1)].saturating_add(4));
                }
                if c > 0 {
                    v = v.min(d[(r + 1, c - 1)].saturating_add(4));
                }
            }
            d[(r, c)] = v;
        }
    }
    Some(d)
}

/// Fill the holes of `region` (4-connected background components that do not touch the
/// array border) smaller than `max_px` pixels, so that thinning does not turn them into loops.
///
/// A hole is enclosed by one 8-connected region, so it lies inside that region's bounding box:
/// each region's box, grown by 1 px (clipped to the array), is searched on its own, and a
/// background component of the box that does not touch the box's border is a whole hole of
/// the array (it cannot leave the box without crossing its border). The work is the area of
/// the boxes, not of the array.
fn fill_small_holes(region: &mut Array2<bool>, max_px: f64) {
    let (rows, cols) = region.dim();
    // Bounding boxes (r0, r1, c0, c1), inclusive, of the 8-connected regions.
    let mut boxes = Vec::new();
    let mut unvisited = region.as_slice().expect("fresh array").to_vec();
    drain_components(&mut unvisited, cols, Connectivity::Eight, |pixels| {
        let b = pixels
            .iter()
            .fold((usize::MAX, 0usize, usize::MAX, 0usize), |b, &i| {
                let (r, c) = (i as usize / cols, i as usize % cols);
                (b.0.min(r), b.1.max(r), b.2.min(c), b.3.max(c))
            });
        boxes.push(b);
    });
    drop(unvisited);
    for &(r0, r1, c0, c1) in &boxes {
        let (r0, c0) = (r0.saturating_sub(1), c0.saturating_sub(1));
        let (r1, c1) = ((r1 + 1).min(rows - 1), (c1 + 1).min(cols - 1));
        if r1 < r0 + 2 || c1 < c0 + 2 {
            continue;
        }
        let window = s![r0..=r1, c0..=c1];
        let background = region.slice(window).mapv(|v| !v);
        let (bg, n) = label_components(&background, Connectivity::Four);
        let mut area = vec![0usize; n + 1];
        let mut touches = vec![false; n + 1];
        let (h, w) = bg.dim();
        for ((r, c), &l) in bg.indexed_iter() {
            area[l as usize] += 1;
            if r == 0 || c == 0 || r + 1 == h || c + 1 == w {
                touches[l as usize] = true;
            }
        }
        let mut view = region.slice_mut(window);
        for (v, &l) in view.iter_mut().zip(bg.iter()) {
            if l != 0 && !touches[l as usize] && (area[l as usize] as f64) < max_px {
                *v = true;
            }
        }
    }
}

/// Skeleton neighbours of (r, c).
fn skeleton_neighbours(
    sk: &Array2<bool>,
    r: usize,
    c: usize,
) -> impl Iterator<Item = (usize, usize)> + '_ {
    let (rows, cols) = sk.dim();
    NEIGHBOURS_8.iter().filter_map(move |&(dr, dc)| {
        let (rr, cc) = (r as isize + dr, c as isize + dc);
        (rr >= 0
            && cc >= 0
            && (rr as usize) < rows
            && (cc as usize) < cols
            && sk[(rr as usize, cc as usize)])
            .then_some((rr as usize, cc as usize))
    })
}

/// Remove spurs: branches that run from an end point to a junction (≥ 3 neighbours) and are
/// shorter than the local line width `1.6651·σ*` at the junction or `min_px`, whichever is
/// larger (lengths in grid px; `sigma_px(p)` is σ* in image px, `step_px` image px per grid px). Isolated
/// segments (end point to end point) are kept whole. End points are visited in
/// raster order, so the result is deterministic.
fn prune_spurs(
    sk: &mut Array2<bool>,
    sigma_px: impl Fn((usize, usize)) -> f32,
    step_px: f64,
    min_px: f64,
) {
    let ends: Vec<(usize, usize)> = sk
        .indexed_iter()
        .filter(|&((r, c), &on)| on && skeleton_neighbours(sk, r, c).count() == 1)
        .map(|(p, _)| p)
        .collect();
    for start in ends {
        if !sk[start] {
            continue;
        }
        let mut path = vec![start];
        let mut prev = start;
        let mut cur = start;
        let junction = loop {
            let next: Vec<(usize, usize)> = skeleton_neighbours(sk, cur.0, cur.1)
                .filter(|&q| q != prev && !path.contains(&q))
                .collect();
            if next.len() != 1 {
                // Another end point (isolated segment) or a junction at `cur`.
                break (next.len() > 1 && cur != start).then_some(cur);
            }
            let q = next[0];
            if skeleton_neighbours(sk, q.0, q.1).count() >= 3 {
                break Some(q);
            }
            prev = cur;
            cur = q;
            path.push(cur);
            if path.len() as f64 > 4.0 * min_px.max(1.0) + 64.0 {
                break None;
            }
        };
        let Some(j) = junction else { continue };
        if j == cur && path.last() == Some(&cur) && cur != start {
            path.pop();
        }
        let width = f64::from(sigma_px(j)) * WIDTH_PER_SIGMA / step_px;
        let limit = if width.is_finite() {
            width.max(min_px)
        } else {
            min_px
        };
        if (path.len() as f64) < limit {
            for p in path {
                sk[p] = false;
            }
        }
    }
}

/// Length, in line widths, of the skeleton traced back from an end point to find where the
/// line really ends (see [`trim_end_hooks`]).
const HOOK_TRACE_WIDTHS: f64 = 4.0;

/// Trim hooked ends: where a skeleton end turns back along the line (a U-turn into a weak
/// parallel side response that the hysteresis joined to the line's end), cut it at the tip.
/// From each end point p₀ the skeleton is traced back over at most
/// `L = max(HOOK_TRACE_WIDTHS · 1.6651·σ*(p₀), min_px)` grid px, stopping at a junction
/// (p₀ … p_n). With u the line direction θ at p_n, oriented towards the traced points
/// (`u · (p̄ − p_n) > 0`, p̄ their mean), the tip is
///
/// ```text
/// k* = argmax_k u · p_k        (first maximum)
/// ```
/// and p₀ … p_{k*−1}, which run back from the tip, are removed. On a straight or gently curved
/// end k* = 0 and nothing changes. Ends traced back less than 3 px are left alone. End points
/// are visited in raster order (deterministic).
fn trim_end_hooks(
    sk: &mut Array2<bool>,
    sigma_px: impl Fn((usize, usize)) -> f32,
    direction: impl Fn((usize, usize)) -> f32,
    step_px: f64,
    min_px: f64,
) {
    let ends: Vec<(usize, usize)> = sk
        .indexed_iter()
        .filter(|&((r, c), &on)| on && skeleton_neighbours(sk, r, c).count() == 1)
        .map(|(p, _)| p)
        .collect();
    for start in ends {
        if !sk[start] || skeleton_neighbours(sk, start.0, start.1).count() != 1 {
            continue;
        }
        let sigma = f64::from(sigma_px(start));
        let limit = if sigma.is_finite() {
            (HOOK_TRACE_WIDTHS * WIDTH_PER_SIGMA * sigma / step_px).max(min_px)
        } else {
            min_px
        }
        .ceil() as usize;
        let mut path = vec![start];
        let mut prev = start;
        let mut cur = start;
        while path.len() <= limit {
            let next: Vec<(usize, usize)> = skeleton_neighbours(sk, cur.0, cur.1)
                .filter(|&q| q != prev && q != cur)
                .collect();
            if next.len() != 1 || skeleton_neighbours(sk, next[0].0, next[0].1).count() > 2 {
                break;
            }
            prev = cur;
            cur = next[0];
            path.push(cur);
        }
        if path.len() < 4 {
            continue;
        }
        let last = path[path.len() - 1];
        let theta = f64::from(direction(last));
        // Line direction as (row, col): rows grow downward, θ counter-clockwise on screen.
        let (mut ur, mut uc) = (-theta.sin(), theta.cos());
        let n = path.len() as f64;
        let mean_r = path.iter().map(|p| p.0 as f64).sum::<f64>() / n;
        let mean_c = path.iter().map(|p| p.1 as f64).sum::<f64>() / n;
        if ur * (mean_r - last.0 as f64) + uc * (mean_c - last.1 as f64) < 0.0 {
            (ur, uc) = (-ur, -uc);
        }
        let proj = |p: &(usize, usize)| ur * p.0 as f64 + uc * p.1 as f64;
        let mut k_best = 0;
        for (k, p) in path.iter().enumerate() {
            if proj(p) > proj(&path[k_best]) + 1e-9 {
                k_best = k;
            }
        }
        for p in &path[..k_best] {
            sk[*p] = false;
        }
    }
}

/// A gap joined between the skeleton end points of two lines.
struct Bridge {
    a: usize,
    b: usize,
    length_px: f64,
    theta: f64,
    pixels: Vec<(usize, usize)>,
}

/// A skeleton end point: pixel (row, col), region label, outward unit direction (row, col).
type LineEnd = ((usize, usize), usize, (f64, f64));

/// Root of `i` in a union-find forest (with path halving).
fn find_root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Skeleton pixels traced back from the end point `start`, up to `max_steps` steps.
fn trace_from_end(sk: &Array2<bool>, start: (usize, usize), max_steps: usize) -> (usize, usize) {
    let mut prev = start;
    let mut cur = start;
    for _ in 0..max_steps {
        let next = skeleton_neighbours(sk, cur.0, cur.1).find(|&q| q != prev && q != cur);
        let Some(q) = next else { break };
        if skeleton_neighbours(sk, q.0, q.1).count() > 2 {
            break;
        }
        prev = cur;
        cur = q;
    }
    cur
}

/// Gap bridging along the local line direction. Each skeleton end point gets an outward
/// direction from the skeleton traced back over `max(max_gap_px, 10)` px (at most to a
/// junction); end points traced back less than 3 px have no direction and are not bridged.
/// Two end points of different lines are joined when
///
/// ```text
/// |g| ≤ max_gap_px,   u_a · ĝ ≥ cos 30°,   u_b · (−ĝ) ≥ cos 30°,   mean S on the gap ≥ s_min
/// ```
/// with g the vector from end a to end b, u the outward unit directions, and S the valley
/// strength sampled along the straight gap. Candidate pairs are taken shortest first, each end
/// point at most once and never closing a loop (deterministic: ties broken by pixel order).
fn bridge_gaps(
    sk: &Array2<bool>,
    label_at: impl Fn((usize, usize)) -> usize,
    n_labels: usize,
    strength: &Array2<f32>,
    max_gap_px: f64,
    min_strength: f32,
) -> Vec<Bridge> {
    if max_gap_px < 1.0 {
        return Vec::new();
    }
    let trace = max_gap_px.max(10.0).round() as usize;
    let ends: Vec<LineEnd> = sk
        .indexed_iter()
        .filter(|&((r, c), &on)| {
            on && label_at((r, c)) > 0 && skeleton_neighbours(sk, r, c).count() == 1
        })
        .filter_map(|((r, c), _)| {
            let back = trace_from_end(sk, (r, c), trace);
            let (dr, dc) = (r as f64 - back.0 as f64, c as f64 - back.1 as f64);
            let n = dr.hypot(dc);
            (n >= 3.0).then(|| ((r, c), label_at((r, c)), (dr / n, dc / n)))
        })
        .collect();
    let cos_max = 30f64.to_radians().cos();
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (i, &(pa, la, ua)) in ends.iter().enumerate() {
        for (j, &(pb, lb, ub)) in ends.iter().enumerate().skip(i + 1) {
            if la == lb {
                continue;
            }
            let (gr, gc) = (pb.0 as f64 - pa.0 as f64, pb.1 as f64 - pa.1 as f64);
            let d = gr.hypot(gc);
            if d > max_gap_px || d < 1.0 {
                continue;
            }
            let (gr, gc) = (gr / d, gc / d);
            if ua.0 * gr + ua.1 * gc < cos_max || -(ub.0 * gr + ub.1 * gc) < cos_max {
                continue;
            }
            candidates.push((d, i, j));
        }
    }
    candidates.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut used = vec![false; ends.len()];
    let mut parent: Vec<usize> = (0..=n_labels).collect();
    let mut out = Vec::new();
    for (d, i, j) in candidates {
        if used[i] || used[j] {
            continue;
        }
        let (pa, la, _) = ends[i];
        let (pb, lb, _) = ends[j];
        let (ra, rb) = (find_root(&mut parent, la), find_root(&mut parent, lb));
        if ra == rb {
            continue;
        }
        let steps = d.ceil() as usize;
        let mut pixels = Vec::with_capacity(steps);
        let mut sum = 0.0f32;
        for t in 1..steps {
            let f = t as f64 / steps as f64;
            let r = (pa.0 as f64 + f * (pb.0 as f64 - pa.0 as f64)).round() as usize;
            let c = (pa.1 as f64 + f * (pb.1 as f64 - pa.1 as f64)).round() as usize;
            sum += strength[(r, c)];
            pixels.push((r, c));
        }
        if !pixels.is_empty() && sum / (pixels.len() as f32) < min_strength {
            continue;
        }
        used[i] = true;
        used[j] = true;
        parent[ra.max(rb)] = ra.min(rb);
        let (gr, gc) = (pb.0 as f64 - pa.0 as f64, pb.1 as f64 - pa.1 as f64);
        // Direction counter-clockwise on screen (rows grow downward), in [0, π).
        let theta = (-gr).atan2(gc).rem_euclid(std::f64::consts::PI);
        out.push(Bridge {
            a: la,
            b: lb,
            length_px: (d - 1.0).max(0.0),
            theta,
            pixels,
        });
    }
    out
}

/// Bilinear sample of `z` at (row, col), only from pixels inside `mask`; None outside.
fn sample_inside(z: &Array2<f32>, mask: &Array2<bool>, row: f64, col: f64) -> Option<f64> {
    let (rows, cols) = z.dim();
    if row < 0.0 || col < 0.0 || row > (rows - 1) as f64 || col > (cols - 1) as f64 {
        return None;
    }
    let r0 = row.floor() as usize;
    let c0 = col.floor() as usize;
    let r1 = (r0 + 1).min(rows - 1);
    let c1 = (c0 + 1).min(cols - 1);
    let (u, t) = (row - r0 as f64, col - c0 as f64);
    let mut acc = 0.0;
    let mut wsum = 0.0;
    for (r, c, w) in [
        (r0, c0, (1.0 - u) * (1.0 - t)),
        (r0, c1, (1.0 - u) * t),
        (r1, c0, u * (1.0 - t)),
        (r1, c1, u * t),
    ] {
        if mask[(r, c)] && w > 0.0 {
            acc += w * f64::from(z[(r, c)]);
            wsum += w;
        }
    }
    (wsum > 0.25).then(|| acc / wsum)
}

/// Per-line accumulators.
#[derive(Default, Clone)]
struct LineAcc {
    length_px: f64,
    width_px: f64,
    width_weight: f64,
    depth: f64,
    depth_weight: f64,
    cos2: f64,
    sin2: f64,
    region_px: usize,
    skeleton: Vec<(u32, u32)>,
    /// Cross-section full width at half depth (image px) and contrast at skeleton pixels.
    profiles: Vec<(f64, f64)>,
}

/// Cross-section of a line at image pixel `(row, col)` with line direction `theta`: the full width
/// at half depth (px) and the contrast (side level minus the lowest z near the centre, z units)
/// of z sampled every ½ px along the normal out to `reach` px. The side level is the mean over
/// the outer fifth of the reach on both sides. `None` when too little of it is inside the zone.
fn cross_profile(
    z: &Array2<f32>,
    mask: &Array2<bool>,
    (row, col): (f64, f64),
    theta: f64,
    reach: f64,
) -> Option<(f64, f64)> {
    let (nr, nc) = (-theta.cos(), -theta.sin());
    let n = (2.0 * reach).ceil() as i64;
    let samples: Vec<Option<f64>> = (-n..=n)
        .map(|i| {
            let t = i as f64 * 0.5;
            sample_inside(z, mask, row + t * nr, col + t * nc)
        })
        .collect();
    let outer = (0.8 * reach * 2.0) as i64;
    let sides: Vec<f64> = (-n..=n)
        .filter(|i| i.abs() >= outer)
        .filter_map(|i| samples[(i + n) as usize])
        .collect();
    if sides.len() < 2 {
        return None;
    }
    let side = sides.iter().sum::<f64>() / sides.len() as f64;
    let half_reach = n / 2;
    let (imin, vmin) = (-half_reach..=half_reach)
        .filter_map(|i| samples[(i + n) as usize].map(|v| (i, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    let contrast = side - vmin;
    if contrast <= 0.0 {
        return None;
    }
    let level = side - 0.5 * contrast;
    // Walk out from the minimum to the half-depth crossings (linear interpolation).
    let crossing = |dir: i64| -> Option<f64> {
        let mut i = imin;
        let mut prev = vmin;
        loop {
            let j = i + dir;
            if j.abs() > n {
                return None;
            }
            let v = samples[(j + n) as usize]?;
            if v >= level {
                let f = (level - prev) / (v - prev);
                return Some((i as f64 + dir as f64 * f) * 0.5);
            }
            prev = v;
            i = j;
        }
    };
    let (left, right) = (crossing(-1)?, crossing(1)?);
    Some((right - left, contrast))
}

/// Median full width at half depth (px) and median contrast of a line's cross-sections (NaN
/// without any).
fn median_profile(profiles: &[(f64, f64)]) -> (f64, f64) {
    if profiles.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (
        med(profiles.iter().map(|p| p.0).collect()),
        med(profiles.iter().map(|p| p.1).collect()),
    )
}

/// Doubled-angle circular mean (degrees in [0, 180)) and resultant length of weighted
/// (cos 2θ, sin 2θ) sums.
fn doubled_angle_mean(cos2: f64, sin2: f64, weight: f64) -> (f64, f64) {
    let deg = (0.5 * sin2.atan2(cos2)).to_degrees().rem_euclid(180.0);
    let deg = if deg >= 180.0 { 0.0 } else { deg };
    (deg, cos2.hypot(sin2) / weight)
}

/// Detected lines of one zone, before conversion to columns.
pub struct LineDetection {
    /// Lines kept (skeleton ≥ `min_length_mm`), in raster order of their first pixel.
    pub lines: Vec<LineRecord>,
    /// Pixels of the kept line regions.
    pub region_px: usize,
    /// Length-weighted doubled-angle sums over all kept skeleton pixels.
    cos2: f64,
    sin2: f64,
}

/// Detect the fine lines of one zone (see the module documentation); the valley strength in
/// parallel parts when there are `spare` threads (same values).
pub fn detect_lines(
    height: &PseudoHeight,
    params: &LinesParams,
    spare: SpareThreads<'_>,
) -> LineDetection {
    let sigmas = line_scales_px(params, height.px_per_mm);
    let vs = valley_strength_in_bands(
        height.z.view(),
        height.mask.view(),
        &sigmas,
        params.blob_beta,
        (
            support_half_px(params, height.px_per_mm),
            support_half_per_sigma(params),
        ),
        params.strength_low.min(params.strength_high) as f32,
        (BAND_ROWS, spare.parts()),
    );
    lines_from_strength(height, &vs, params)
}

/// The path evidence bias of a zone: `max(path_bias_min, path_bias_factor · Q_q(S))` with `Q_q`
/// the `path_bias_quantile` of the valley strength over the zone's grid samples.
fn path_bias(strength: &Array2<f32>, mask: &Array2<bool>, params: &LinesParams) -> f32 {
    let mut v: Vec<f32> = strength
        .iter()
        .zip(mask.iter())
        .filter_map(|(&s, &m)| m.then_some(s))
        .collect();
    let q = if v.is_empty() {
        0.0
    } else {
        let k = ((v.len() - 1) as f64 * params.path_bias_quantile).round() as usize;
        *v.select_nth_unstable_by(k, f32::total_cmp).1
    };
    (params.path_bias_factor as f32 * q).max(params.path_bias_min as f32)
}

/// Threshold, thin and measure a precomputed valley strength (the second half of
/// [`detect_lines`]; `params` supplies the thresholds and `min_length_mm`).
pub fn lines_from_strength(
    height: &PseudoHeight,
    vs: &ValleyStrength,
    params: &LinesParams,
) -> LineDetection {
    let px_per_mm = height.px_per_mm;
    let step = vs.step;
    let stepf = step as f64;
    // Grid px per mm: the detection grid samples every `step`-th image pixel.
    let grid_per_mm = px_per_mm / stepf;
    let low = params.strength_low.min(params.strength_high) as f32;
    let high = params.strength_high as f32;
    let (grows0, gcols0) = vs.strength.dim();
    let direction = Array2::from_shape_fn((grows0, gcols0), |p| vs.direction(p));
    let grid_mask = Array2::from_shape_fn((grows0, gcols0), |(r, c)| {
        let (y, x) = ((r * step).min(height.mask.nrows() - 1), (c * step).min(height.mask.ncols() - 1));
        height.mask[(y, x)]
    });
    let bias = path_bias(&vs.strength, &grid_mask, params);
    let normalised = vs.strength.mapv(|v| v / bias);
    let ev = crate::imgops::paths::path_evidence(
        normalised.view(),
        direction.view(),
        grid_mask.view(),
        crate::imgops::paths::PathParams {
            bias: 1.0,
            turn_penalty: params.path_turn_penalty_mm as f32,
            length_per_px: (1.0 / grid_per_mm) as f32,
            strength_cap: params.path_strength_cap as f32,
        },
    );
    drop(normalised);
    let min_ev = params.min_path_evidence_mm as f32;
    let supported = ndarray::Zip::from(&vs.strength)
        .and(&ev.evidence)
        .map_collect(|&s, &e| if e >= min_ev { s } else { 0.0 });
    let (low, high) = (low.max(bias), high.max(bias));
    let mut region = hysteresis(&supported, low, high);
    fill_small_holes(&mut region, HOLE_MAX_MM2 * grid_per_mm * grid_per_mm);
    let mut skeleton = thin(&region);
    for _ in 0..PRUNE_PASSES {
        prune_spurs(
            &mut skeleton,
            |p| vs.sigma_px(p),
            stepf,
            SPUR_MIN_MM * grid_per_mm,
        );
    }
    trim_end_hooks(
        &mut skeleton,
        |p| vs.sigma_px(p),
        |p| vs.direction(p),
        stepf,
        SPUR_MIN_MM * grid_per_mm,
    );
    let (grows, gcols) = skeleton.dim();

    // The regions are labelled 1, 2, … in raster order of their first pixel; a label is kept
    // only for the skeleton pixels (every skeleton pixel lies in its region), as sorted
    // (grid index, label) pairs, not as a label plane.
    let mut acc = vec![LineAcc::default()];
    let mut skeleton_labels: Vec<(u32, u32)> = Vec::new();
    {
        let skeleton_v = skeleton.as_slice().expect("fresh array");
        let region_v = region.as_slice_mut().expect("fresh array");
        drain_components(region_v, gcols, Connectivity::Eight, |pixels| {
            let label = acc.len() as u32;
            acc.push(LineAcc {
                region_px: pixels.len() * step * step,
                ..LineAcc::default()
            });
            let on_skeleton = pixels.iter().filter(|&&i| skeleton_v[i as usize]);
            skeleton_labels.extend(on_skeleton.map(|&i| (i, label)));
        });
    }
    drop(region);
    skeleton_labels.sort_unstable();
    let n_labels = acc.len() - 1;
    let label_at = |(r, c): (usize, usize)| -> usize {
        let i = (r * gcols + c) as u32;
        skeleton_labels
            .binary_search_by_key(&i, |&(j, _)| j)
            .map_or(0, |k| skeleton_labels[k].1 as usize)
    };
    for &(i, l) in &skeleton_labels {
        let (r, c) = (i as usize / gcols, i as usize % gcols);
        let a = &mut acc[l as usize];
        let sigma = f64::from(vs.sigma_px((r, c)));
        let theta = f64::from(vs.direction((r, c)));
        // A digital line at angle θ has one skeleton pixel per step along its major axis.
        let w = stepf / theta.cos().abs().max(theta.sin().abs());
        a.length_px += w;
        let (ri, ci) = (r * step, c * step);
        a.skeleton
            .push(((ci + height.x0) as u32, (ri + height.y0) as u32));
        // On a coarse grid, also the image pixels between this sample and its forward
        // skeleton neighbours (E, SW, S, SE), so that the drawn skeleton is connected.
        if step > 1 {
            for (dr, dc) in [(0isize, 1isize), (1, -1), (1, 0), (1, 1)] {
                let (rr, cc) = (r as isize + dr, c as isize + dc);
                if rr < 0 || cc < 0 || rr as usize >= grows || cc as usize >= gcols {
                    continue;
                }
                if !skeleton[(rr as usize, cc as usize)] {
                    continue;
                }
                for t in 1..step as isize {
                    let y = ri as isize + dr * t;
                    let x = ci as isize + dc * t;
                    a.skeleton.push((
                        (x as usize + height.x0) as u32,
                        (y as usize + height.y0) as u32,
                    ));
                }
            }
        }
        if sigma.is_finite() {
            let width = WIDTH_PER_SIGMA * sigma;
            let reach = (params.profile_reach_mm * px_per_mm).max(2.0 * width);
            if let Some(p) =
                cross_profile(&height.z, &height.mask, (ri as f64, ci as f64), theta, reach)
            {
                a.profiles.push(p);
            }
            a.width_px += w * width;
            a.width_weight += w;
            // Normal to the line direction θ (counter-clockwise on screen: rows grow downward).
            let (nr, nc) = (-theta.cos(), -theta.sin());
            let (rf, cf) = (ri as f64, ci as f64);
            let centre = f64::from(height.z[(ri, ci)]);
            let sides: Vec<f64> = [1.0, -1.0]
                .iter()
                .filter_map(|&s| {
                    sample_inside(
                        &height.z,
                        &height.mask,
                        rf + s * width * nr,
                        cf + s * width * nc,
                    )
                })
                .collect();
            if !sides.is_empty() {
                let side = sides.iter().sum::<f64>() / sides.len() as f64;
                a.depth += w * (side - centre);
                a.depth_weight += w;
            }
        }
        a.cos2 += w * (2.0 * theta).cos();
        a.sin2 += w * (2.0 * theta).sin();
    }
    // Bridge gaps: join lines whose skeleton end points face each other across a short,
    // still valley-like gap (see `bridge_gaps`), and merge their accumulators.
    let bridges = bridge_gaps(
        &skeleton,
        label_at,
        n_labels,
        &vs.strength,
        params.bridge_gap_mm * grid_per_mm,
        (params.bridge_strength_fraction * params.strength_low.min(params.strength_high)) as f32,
    );
    let mut parent: Vec<usize> = (0..=n_labels).collect();
    for b in &bridges {
        let (ra, rb) = (find_root(&mut parent, b.a), find_root(&mut parent, b.b));
        let (keep, gone) = (ra.min(rb), ra.max(rb));
        parent[gone] = keep;
        let g = &mut acc[keep];
        let gap_px = b.length_px * stepf;
        g.length_px += gap_px;
        g.cos2 += gap_px * (2.0 * b.theta).cos();
        g.sin2 += gap_px * (2.0 * b.theta).sin();
        g.skeleton.extend(
            b.pixels
                .iter()
                .map(|&(r, c)| ((c * step + height.x0) as u32, (r * step + height.y0) as u32)),
        );
    }
    for l in (1..=n_labels).rev() {
        let root = find_root(&mut parent, l);
        if root != l {
            let moved = std::mem::take(&mut acc[l]);
            let g = &mut acc[root];
            g.length_px += moved.length_px;
            g.width_px += moved.width_px;
            g.width_weight += moved.width_weight;
            g.depth += moved.depth;
            g.depth_weight += moved.depth_weight;
            g.cos2 += moved.cos2;
            g.sin2 += moved.sin2;
            g.region_px += moved.region_px;
            g.skeleton.extend(moved.skeleton);
            g.profiles.extend(moved.profiles);
        }
    }
    let min_length_px = params.min_length_mm * px_per_mm;
    let mut out = LineDetection {
        lines: Vec::new(),
        region_px: 0,
        cos2: 0.0,
        sin2: 0.0,
    };
    for a in acc.into_iter().skip(1) {
        if a.length_px < min_length_px || a.length_px <= 0.0 {
            continue;
        }
        // End to end, not only along the skeleton: a star of short branches over a pit is as
        // long as a wrinkle in total but spans only the pit.
        let span = skeleton_span_px(&a.skeleton);
        if span < min_length_px {
            continue;
        }
        if a.width_weight > 0.0 && span < params.min_aspect_ratio * a.width_px / a.width_weight {
            continue;
        }
        let (fwhm_px, contrast) = median_profile(&a.profiles);
        if fwhm_px <= params.hair_max_width_mm * px_per_mm && contrast >= params.hair_min_contrast {
            continue;
        }
        out.region_px += a.region_px;
        out.cos2 += a.cos2;
        out.sin2 += a.sin2;
        let (orientation_deg, _) = doubled_angle_mean(a.cos2, a.sin2, a.length_px);
        let mut skeleton = a.skeleton;
        skeleton.sort_unstable_by_key(|&(x, y)| (y, x));
        skeleton.dedup();
        out.lines.push(LineRecord {
            length_mm: a.length_px / px_per_mm,
            width_mm: a.width_px / a.width_weight / px_per_mm,
            depth: if a.depth_weight > 0.0 {
                a.depth / a.depth_weight
            } else {
                f64::NAN
            },
            orientation_deg,
            skeleton,
        });
    }
    out
}

/// End-to-end extent of a skeleton, px: the distance between the two points found by a
/// double sweep (the point farthest from the first pixel, then the point farthest from that
/// one). Exact for a straight or gently curved line, never more than the true diameter.
fn skeleton_span_px(points: &[(u32, u32)]) -> f64 {
    let farthest = |from: (u32, u32)| {
        let d2 = |p: &(u32, u32)| {
            let (dx, dy) = (
                f64::from(p.0) - f64::from(from.0),
                f64::from(p.1) - f64::from(from.1),
            );
            dx * dx + dy * dy
        };
        points.iter().copied().fold((from, 0.0), |(best, bd), p| {
            let d = d2(&p);
            if d > bd { (p, d) } else { (best, bd) }
        })
    };
    let Some(&first) = points.first() else {
        return 0.0;
    };
    let (a, _) = farthest(first);
    let (_, d2) = farthest(a);
    d2.sqrt()
}

/// Measure the lines family; values align with [`COLUMNS`]. Parts of it run on `spare`
/// threads when there are some (same values).
pub fn measure(
    height: &PseudoHeight,
    params: &LinesParams,
    spare: SpareThreads<'_>,
) -> (Vec<MetricValue>, Vec<LineRecord>) {
    let area_px = height.area_px();
    if area_px == 0 || height.px_per_mm.is_nan() || height.px_per_mm <= 0.0 {
        return (all_missing(COLUMNS.len(), "empty zone"), Vec::new());
    }
    let det = detect_lines(height, params, spare);
    let area_cm2 = area_px as f64 / (height.px_per_mm * height.px_per_mm) / 100.0;
    let length_mm: f64 = det.lines.iter().map(|l| l.length_mm).sum();
    let count = Ok(det.lines.len() as f64);
    let length = Ok(length_mm);
    let density = finite_or(length_mm / area_cm2, "zero zone area");
    let area_fraction = Ok(det.region_px as f64 / area_px as f64);
    if det.lines.is_empty() {
        let none = || Err(Missing::new("no lines detected"));
        let values = vec![
            count,
            length,
            density,
            none(),
            none(),
            area_fraction,
            none(),
            none(),
        ];
        return (values, Vec::new());
    }
    let mut values = vec![count, length, density];
    let width = det
        .lines
        .iter()
        .map(|l| l.length_mm * l.width_mm)
        .sum::<f64>()
        / length_mm;
    let (depth_sum, depth_w) = det
        .lines
        .iter()
        .filter(|l| l.depth.is_finite())
        .fold((0.0, 0.0), |(s, w), l| {
            (s + l.length_mm * l.depth, w + l.length_mm)
        });
    let length_px = length_mm * height.px_per_mm;
    let (orientation, anisotropy) = doubled_angle_mean(det.cos2, det.sin2, length_px);
    values.push(finite_or(width, "no lines detected"));
    values.push(if depth_w > 0.0 {
        finite_or(depth_sum / depth_w, "no depth samples")
    } else {
        Err(Missing::new("no depth samples inside the zone"))
    });
    values.push(area_fraction);
    values.push(Ok(orientation));
    values.push(Ok(anisotropy.clamp(0.0, 1.0)));
    (values, det.lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fused per-scale pass computes the Hessian of `crate::imgops::hessian`: where it
    /// reports a valley, λ2 > 0 there, the direction is the reference's line direction, and
    /// S = λ2·exp(−(λ1/λ2)²/(2β²))·Q with 0 < Q ≤ 1.
    #[test]
    fn fused_scale_pass_matches_the_reference_hessian() {
        use crate::imgops::gaussian::gaussian_blur_exact;
        use crate::imgops::hessian::hessian_eigen_of_blurred;
        let (rows, cols) = (40, 53);
        let raw = Array2::from_shape_fn((rows, cols), |(r, c)| {
            (((r * 7919 + c * 104_729) % 1009) as f32 / 1009.0 - 0.5) * 0.1
        });
        let sigma = 2.0f32;
        let smooth = gaussian_blur_exact(raw.view(), sigma);
        let reference = hessian_eigen_of_blurred(&smooth, sigma);
        let inv_two_beta2 = 2.0f32;
        let scale = ScaleStrength {
            smooth: smooth.as_slice().unwrap(),
            rows,
            cols,
            row0: 0,
            level_rows: rows,
            norm: sigma * sigma,
            side_px: SIDE_SIGMAS * sigma,
            renorm: 1.0,
            inv_two_beta2,
        };
        let mut scratch = RowScratch::default();
        let (mut s_row, mut t_row) = (vec![0f32; cols], vec![0f32; cols]);
        let mut valleys = 0;
        for r in 0..rows {
            scale.row(r, &mut scratch, &mut s_row, &mut t_row);
            for c in 0..cols {
                let (l1, l2) = (reference.l1[(r, c)], reference.l2[(r, c)]);
                if s_row[c] == 0.0 {
                    continue;
                }
                valleys += 1;
                assert!(l2 > 0.0, "({r}, {c})");
                let bound = l2 * (-(l1 / l2).powi(2) * inv_two_beta2).exp();
                assert!(
                    s_row[c] <= bound * (1.0 + 1e-5),
                    "({r}, {c}) {} > {bound}",
                    s_row[c]
                );
                let want = reference.theta[(r, c)].rem_euclid(std::f32::consts::PI);
                let diff = (t_row[c] - want).abs();
                assert!(diff.min(std::f32::consts::PI - diff) < 1e-5, "({r}, {c})");
            }
        }
        assert!(valleys > rows * cols / 10, "{valleys}");
    }

    /// Blurring band by band does not change the valley strength: bands of 7 rows (so that
    /// lines cross many band edges, with halos clipped at the image borders; on the detection
    /// grid and on the coarser levels of the large scales, [`LevelRows`]) against one band for
    /// the whole image, on a zone with a partial mask. Side-sample coordinates are
    /// relative to the band, so values agree to f32 rounding, not bit for bit. Splitting the
    /// grid in parts made in parallel changes no bit.
    #[test]
    fn valley_strength_does_not_depend_on_the_bands() {
        let mut z = line_height(120, 4.0, 0.3, DEPTH, 30.0).z;
        z.zip_mut_with(&line_height(120, 4.0, 0.8, DEPTH, 100.0).z, |a, &b| {
            *a = a.min(b)
        });
        let mask = Array2::from_shape_fn(z.raw_dim(), |(r, c)| r + c > 20);
        let params = LinesParams::default();
        let sigmas = line_scales_px(&params, PX_PER_MM);
        let run = |band_rows| {
            valley_strength_in_bands(
                z.view(),
                mask.view(),
                &sigmas,
                params.blob_beta,
                (
                    support_half_px(&params, PX_PER_MM),
                    support_half_per_sigma(&params),
                ),
                params.strength_low as f32,
                band_rows,
            )
        };
        assert!(
            sigmas.iter().any(|&s| decimation_level(s) > 0),
            "some scales are computed on coarser levels"
        );
        let (banded, whole) = (run((7, 1)), run((10_000, 1)));
        // Made in parts (on a two-thread pool): the same bits as in one pass.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for chunks in [2, 5, 40] {
            let parts = pool.install(|| run((7, chunks)));
            assert_eq!(parts.strength, banded.strength, "{chunks} parts");
            assert_eq!(parts.samples, banded.samples, "{chunks} parts");
            assert_eq!(
                parts.direction_bins, banded.direction_bins,
                "{chunks} parts"
            );
        }
        let peak = whole.strength.iter().fold(0f32, |m, &v| m.max(v));
        assert!(peak > 0.05, "{peak}");
        for (a, b) in banded.strength.iter().zip(&whole.strength) {
            assert!((a - b).abs() <= 1e-4 * peak, "{a} vs {b}");
        }
        // The samples (where S before the along-line mean reaches min_strength) may differ
        // only where S is within rounding of the threshold; where both have one, σ* and θ agree.
        let (mut both, mut one) = (0usize, 0usize);
        for r in 0..z.nrows() {
            for c in 0..z.ncols() {
                let (a, b) = (banded.sigma_px((r, c)), whole.sigma_px((r, c)));
                if a.is_nan() != b.is_nan() {
                    one += 1;
                    continue;
                }
                if a.is_nan() {
                    continue;
                }
                both += 1;
                assert!((a - b).abs() <= 1e-3 * b, "sigma {a} vs {b}");
                let (ta, tb) = (banded.direction((r, c)), whole.direction((r, c)));
                let d = (ta - tb).abs();
                assert!(d.min(std::f32::consts::PI - d) < 1e-3, "{ta} vs {tb}");
            }
        }
        assert!(
            both > 500 && one * 1000 <= both,
            "{both} common samples, {one} in one only"
        );
        let same_bins = banded
            .direction_bins
            .iter()
            .zip(&whole.direction_bins)
            .filter(|(a, b)| a == b)
            .count();
        assert!(
            same_bins * 1000 >= 999 * z.len(),
            "{same_bins} of {} bins",
            z.len()
        );
    }

    /// The vector side samples give the same bits as the scalar bilinear, including
    /// coordinates clamped at every border and rows/columns of length not a multiple of 8.
    #[test]
    fn side_samples_match_scalar_bilinear() {
        let (rows, cols) = (23, 37);
        let data: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 7919) % 1013) as f32 / 1013.0 - 0.3)
            .collect();
        let level = ClampedLevel::new(&data, rows, cols);
        for r in [0, 1, 11, rows - 2, rows - 1] {
            let off_c: Vec<f32> = (0..cols)
                .map(|c| ((c * 37) % 19) as f32 * 0.61 - 5.2)
                .collect();
            let off_r: Vec<f32> = (0..cols)
                .map(|c| ((c * 53) % 23) as f32 * 0.47 - 4.9)
                .collect();
            let mid: Vec<f32> = (0..cols).map(|c| data[r * cols + c]).collect();
            let (mut plus, mut minus) = (vec![0f32; cols], vec![0f32; cols]);
            side_samples(&level, r, &off_c, &off_r, &mid, &mut plus, &mut minus);
            for c in 0..cols {
                let (rf, cf) = (r as f32, c as f32);
                let want_plus = level.bilinear(rf + off_r[c], cf + off_c[c]) - mid[c];
                let want_minus = level.bilinear(rf - off_r[c], cf - off_c[c]) - mid[c];
                assert_eq!(plus[c].to_bits(), want_plus.to_bits(), "plus r {r} c {c}");
                assert_eq!(
                    minus[c].to_bits(),
                    want_minus.to_bits(),
                    "minus r {r} c {c}"
                );
            }
        }
        // Clamping: a sample far outside reads the nearest corner.
        assert_eq!(level.bilinear(-9.0, -9.0), data[0]);
        assert_eq!(level.bilinear(99.0, 99.0), data[rows * cols - 1]);
    }

    const PX_PER_MM: f64 = 20.0;
    /// Valley depth of the synthetic lines (z units), well above the default thresholds.
    const DEPTH: f64 = 0.15;

    /// Pseudo-height with a Gaussian valley of depth `depth` and full width at half depth
    /// `width_mm` along the segment of `length_mm` centred in the image, rising at `angle_deg`
    /// counter-clockwise on screen. Like the phantom's wrinkles, the depth tapers to 0 at both
    /// ends over `TAPER_MM` (raised cosine), so the valley ends at the segment ends.
    fn line_height(
        size: usize,
        length_mm: f64,
        width_mm: f64,
        depth: f64,
        angle_deg: f64,
    ) -> PseudoHeight<'static> {
        const TAPER_MM: f64 = 0.5;
        let s = width_mm * PX_PER_MM / 2.354_82;
        let half = 0.5 * length_mm * PX_PER_MM;
        let taper = TAPER_MM.min(0.5 * length_mm) * PX_PER_MM;
        let (dx, dy) = (angle_deg.to_radians().cos(), -angle_deg.to_radians().sin());
        let c = size as f64 / 2.0;
        let z = Array2::from_shape_fn((size, size), |(r, col)| {
            let (x, y) = (col as f64 - c, r as f64 - c);
            let t = x * dx + y * dy;
            let end = half - t.abs();
            if end <= 0.0 {
                return 0.0;
            }
            let f = if end < taper {
                0.5 * (1.0 - (std::f64::consts::PI * end / taper).cos())
            } else {
                1.0
            };
            let d2 = (x - t * dx).powi(2) + (y - t * dy).powi(2);
            (-depth * f * (-d2 / (2.0 * s * s)).exp()) as f32
        });
        height_from(z)
    }

    fn height_from(z: Array2<f32>) -> PseudoHeight<'static> {
        let mask = Array2::from_elem(z.raw_dim(), true);
        PseudoHeight {
            z,
            mask: std::borrow::Cow::Owned(mask),
            x0: 7,
            y0: 3,
            px_per_mm: PX_PER_MM,
        }
    }

    fn value(values: &[MetricValue], name: &str) -> MetricValue {
        let i = COLUMNS.iter().position(|c| c.name == name).unwrap();
        values[i].clone()
    }

    #[test]
    fn scales_cover_the_width_range() {
        let p = LinesParams::default();
        let sig = line_scales_px(&p, PX_PER_MM);
        let w_lo = sig[0] * WIDTH_PER_SIGMA / PX_PER_MM;
        let w_hi = sig[sig.len() - 1] * WIDTH_PER_SIGMA / PX_PER_MM;
        assert!((w_lo - p.min_width_mm).abs() < 1e-9 && (w_hi - p.max_width_mm).abs() < 1e-9);
        for pair in sig.windows(2) {
            let octave = (pair[1] / pair[0]).log2();
            assert!(
                octave <= 1.0 / f64::from(p.scales_per_octave) + 1e-9,
                "{octave}"
            );
        }
    }

    #[test]
    fn straight_line_length_width_orientation() {
        for (width_mm, angle) in [(0.2, 30.0), (0.6, 120.0), (1.2, 0.0), (0.4, 90.0)] {
            let h = line_height(400, 12.0, width_mm, DEPTH, angle);
            let (values, lines) = measure(&h, &LinesParams::default(), SpareThreads::NONE);
            let length = value(&values, "lines_length_mm").unwrap();
            let width = value(&values, "lines_mean_width_mm").unwrap();
            let orient = value(&values, "lines_orientation_deg").unwrap();
            let depth = value(&values, "lines_mean_depth").unwrap();
            let aniso = value(&values, "lines_anisotropy").unwrap();
            eprintln!(
                "line w={width_mm} angle={angle}: length {length:.2} width {width:.3} \
                 orient {orient:.2} depth {depth:.4} aniso {aniso:.3}"
            );
            assert_eq!(value(&values, "lines_count"), Ok(1.0));
            assert_eq!(lines.len(), 1);
            assert!((length / 12.0 - 1.0).abs() <= 0.05, "length {length}");
            assert!((width / width_mm - 1.0).abs() <= 0.25, "width {width}");
            let d_angle = ((orient - angle + 90.0).rem_euclid(180.0) - 90.0).abs();
            assert!(d_angle <= 3.0, "orientation {orient}");
            assert!((depth / DEPTH - 1.0).abs() <= 0.3, "depth {depth}");
            assert!(aniso > 0.95, "{aniso}");
            // Skeleton pixels are in image coordinates (offset by x0, y0).
            assert!(lines[0].skeleton.iter().all(|&(x, y)| x >= 7 && y >= 3));
        }
    }

    #[test]
    fn blob_is_not_a_line() {
        // Round depressions of 0.3 to 3 mm FWHM, 20 % deep: pores and scars, not lines.
        for fwhm_mm in [0.3, 1.0, 3.0] {
            let s = fwhm_mm * PX_PER_MM / 2.354_82;
            let z = Array2::from_shape_fn((300, 300), |(r, c)| {
                let d2 = (r as f64 - 150.0).powi(2) + (c as f64 - 150.0).powi(2);
                (-0.2 * (-d2 / (2.0 * s * s)).exp()) as f32
            });
            let (values, lines) =
                measure(&height_from(z), &LinesParams::default(), SpareThreads::NONE);
            assert_eq!(value(&values, "lines_count"), Ok(0.0), "blob {fwhm_mm} mm");
            assert!(lines.is_empty());
            assert_eq!(value(&values, "lines_length_mm"), Ok(0.0));
            assert!(value(&values, "lines_mean_width_mm").is_err());
            assert!(value(&values, "lines_orientation_deg").is_err());
        }
    }

    #[test]
    fn flat_zone_has_measured_zero_and_missing_shape() {
        let (values, lines) = measure(
            &height_from(Array2::zeros((120, 150))),
            &LinesParams::default(),
            SpareThreads::NONE,
        );
        assert!(lines.is_empty());
        assert_eq!(value(&values, "lines_count"), Ok(0.0));
        assert_eq!(value(&values, "lines_density_mm_per_cm2"), Ok(0.0));
        assert_eq!(value(&values, "lines_area_fraction"), Ok(0.0));
        for name in [
            "lines_mean_width_mm",
            "lines_mean_depth",
            "lines_orientation_deg",
            "lines_anisotropy",
        ] {
            assert_eq!(
                value(&values, name),
                Err(Missing::new("no lines detected")),
                "{name}"
            );
        }
    }

    #[test]
    fn mask_edge_is_not_a_line() {
        // A disc-shaped zone on a flat bright z with a darker outside: no line at the edge.
        let mut h = height_from(Array2::zeros((300, 300)));
        h.mask = std::borrow::Cow::Owned(Array2::from_shape_fn((300, 300), |(r, c)| {
            (r as f64 - 150.0).hypot(c as f64 - 150.0) < 120.0
        }));
        h.z = Array2::from_shape_fn((300, 300), |(r, c)| if h.mask[(r, c)] { 0.0 } else { -0.3 });
        let (values, _) = measure(&h, &LinesParams::default(), SpareThreads::NONE);
        assert_eq!(value(&values, "lines_count"), Ok(0.0));
    }

    #[test]
    fn broken_line_is_bridged_into_one() {
        // A 14 mm line, 0.4 mm wide, with its valley removed over 1 mm in the middle (a gap
        // the hysteresis cannot cross): bridging joins the halves and counts the gap.
        let mut h = line_height(400, 14.0, 0.4, DEPTH, 20.0);
        let (dx, dy) = (20f64.to_radians().cos(), -20f64.to_radians().sin());
        for ((r, c), v) in h.z.indexed_iter_mut() {
            let t = (c as f64 - 200.0) * dx + (r as f64 - 200.0) * dy;
            if t.abs() < 0.5 * PX_PER_MM {
                *v = 0.0;
            }
        }
        let (values, lines) = measure(&h, &LinesParams::default(), SpareThreads::NONE);
        let length = value(&values, "lines_length_mm").unwrap();
        assert_eq!(value(&values, "lines_count"), Ok(1.0), "length {length}");
        assert_eq!(lines.len(), 1);
        assert!((length / 14.0 - 1.0).abs() <= 0.08, "length {length}");
        // Without bridging the halves are two lines and the gap is not counted.
        let no_bridge = LinesParams {
            bridge_gap_mm: 0.0,
            ..LinesParams::default()
        };
        let (values, _) = measure(&h, &no_bridge, SpareThreads::NONE);
        assert_eq!(value(&values, "lines_count"), Ok(2.0));
        assert!(value(&values, "lines_length_mm").unwrap() < length - 0.5);
    }

    #[test]
    fn short_lines_are_removed_and_two_lines_counted() {
        let long = line_height(400, 10.0, 0.3, DEPTH, 10.0);
        let mut short = line_height(400, 2.0, 0.3, DEPTH, 100.0);
        // Move the short line 5 mm down, 4 mm clear of the long one.
        let shift = 100;
        let mut z = long.z.clone();
        for ((r, c), v) in short.z.indexed_iter_mut() {
            if r + shift < 400 {
                z[(r + shift, c)] = z[(r + shift, c)].min(*v);
            }
        }
        short.z = z.clone();
        let (values, _) = measure(
            &height_from(z.clone()),
            &LinesParams::default(),
            SpareThreads::NONE,
        );
        assert_eq!(value(&values, "lines_count"), Ok(1.0));
        let params = LinesParams {
            min_length_mm: 0.5,
            ..LinesParams::default()
        };
        let (values, lines) = measure(&height_from(z), &params, SpareThreads::NONE);
        assert_eq!(value(&values, "lines_count"), Ok(2.0));
        let short_mm = lines.iter().map(|l| l.length_mm).fold(f64::MAX, f64::min);
        assert!(short_mm > 0.5 && short_mm < 3.0, "{short_mm}");
    }

    /// A "V" of two 2 mm valleys meeting at 40° (a fold of skin over a pit, or two spokes of
    /// a star) has 4 mm of skeleton but spans only 1.4 mm: not a line at the default
    /// `min_length_mm` 3; with `min_length_mm` 1 it is.
    #[test]
    fn v_that_spans_less_than_the_minimum_length_is_not_a_line() {
        let (n, s) = (300usize, 0.3 * PX_PER_MM / 2.354_82);
        let arm = 2.0 * PX_PER_MM;
        let c = n as f64 / 2.0;
        // Distance from (x, y) to the segment from the apex along angle a (radians).
        let dist = |x: f64, y: f64, a: f64| {
            let (ux, uy) = (a.cos(), -a.sin());
            let t = (x * ux + y * uy).clamp(0.0, arm);
            (x - t * ux).hypot(y - t * uy)
        };
        let z = Array2::from_shape_fn((n, n), |(r, col)| {
            let (x, y) = (col as f64 - c + arm / 2.0, r as f64 - c);
            let d = dist(x, y, 20f64.to_radians()).min(dist(x, y, -20f64.to_radians()));
            (-DEPTH * (-d * d / (2.0 * s * s)).exp()) as f32
        });
        let (values, _) = measure(
            &height_from(z.clone()),
            &LinesParams::default(),
            SpareThreads::NONE,
        );
        assert_eq!(value(&values, "lines_count"), Ok(0.0));
        let params = LinesParams {
            min_length_mm: 1.0,
            ..LinesParams::default()
        };
        let (values, _) = measure(&height_from(z), &params, SpareThreads::NONE);
        assert!(value(&values, "lines_count").unwrap() >= 1.0);
    }

    #[test]
    fn span_of_straight_and_bent_skeletons() {
        let straight: Vec<(u32, u32)> = (0..=40).map(|x| (x, 7)).collect();
        assert!((skeleton_span_px(&straight) - 40.0).abs() < 1e-9);
        // An L of two 30 px legs spans the hypotenuse.
        let mut l: Vec<(u32, u32)> = (0..=30).map(|x| (x, 0)).collect();
        l.extend((1..=30).map(|y| (30, y)));
        assert!((skeleton_span_px(&l) - 30.0 * 2f64.sqrt()).abs() < 1e-9);
        assert_eq!(skeleton_span_px(&[]), 0.0);
    }

    #[test]
    fn hooked_end_is_trimmed_at_its_tip() {
        // A horizontal skeleton (row 50, columns 10-80) whose right end turns back along the
        // line: (49, 81), then row 48 from column 80 back to 74 (7 px of return leg).
        let mut sk = Array2::from_elem((100, 100), false);
        for c in 10..=80 {
            sk[(50, c)] = true;
        }
        sk[(49, 81)] = true;
        for c in 74..=80 {
            sk[(48, c)] = true;
        }
        let sigma = Array2::from_elem((100, 100), 2.0f32);
        let direction = Array2::zeros((100, 100));
        let before = sk.iter().filter(|&&v| v).count();
        trim_end_hooks(&mut sk, |p| sigma[p], |p| direction[p], 1.0, 10.0);
        // The return leg goes; the line, its far end and the tip stay.
        assert_eq!(before - sk.iter().filter(|&&v| v).count(), 7);
        assert!((74..=80).all(|c| !sk[(48, c)]));
        assert!((10..=80).all(|c| sk[(50, c)]) && sk[(49, 81)]);
        // A straight end is left alone.
        let mut straight = Array2::from_elem((100, 100), false);
        for c in 10..=80 {
            straight[(50, c)] = true;
        }
        let copy = straight.clone();
        trim_end_hooks(&mut straight, |p| sigma[p], |p| direction[p], 1.0, 10.0);
        assert_eq!(straight, copy);
    }
}
