//! Atrophic scars: multi-scale detection of round depressions in the shading signal.
//!
//! Under clinical lighting an atrophic depression is darker than its surround (shadowed walls,
//! cavity darkening). Scars are found as dark blobs of the relative luminance, segmented,
//! filtered and classified by type (Jacob et al. 2001).
//!
//! # Signal
//! ```text
//! z(x, y) = Y(x, y) / Ȳ_b(x, y) − 1          relative luminance (unitless, depressions < 0)
//! Ȳ_b     = masked local mean of Y, ISO 16610-61 Gaussian, σ_b = 0.1874 · scars.background_cutoff_mm
//! ```
//! Y is linear luminance. The work is done on a base grid decimated by `f0 = 2^L0` (box average)
//! where `L0` is the largest integer with `σ_min / 2^L0 ≥ 1.6 px`, since the smallest scar scale
//! needs no finer sampling; z is 0 outside the zone mask.
//!
//! # Detection (Lindeberg 1998)
//! ```text
//! R(x, y; σ) = σ² · (∂²/∂x² + ∂²/∂y²)(G_σ ∗ z)      scale-normalised Laplacian of Gaussian
//! σ_k = σ_min · (σ_max / σ_min)^(k / (n − 1)),   σ = d / (2√2),   d ∈ [min, max]_diameter_mm
//! n   = ⌈3 · log2(σ_max / σ_min)⌉ + 1               (3 scales per octave)
//! ```
//! A dark disk of diameter d and contrast c gives, at its centre, `R = c · t · exp(−t/2)` with
//! `t = d² / (4σ²)`, largest (0.736 c) at `σ = d / (2√2)`. Each σ is computed on the pyramid
//! level where `σ / 2^m ∈ [1.6, 3.2)` level pixels (pyramid: blur to 1 px accumulated σ, keep
//! every second sample), derivatives by central differences. Candidates are local maxima of R over
//! the 3 × 3 neighbourhood and the two neighbouring scales with `R ≥ scars.min_response` and
//! Hessian roundness `λ_small / λ_large ≥ scars.min_roundness` (λ eigenvalues of σ²·H; a line has
//! λ_small ≈ 0). Non-maximum suppression across space and scale: candidates in decreasing R; a
//! candidate is dropped when an accepted one lies within `max(r_a, r_b)`, `r = √2·σ`.
//!
//! # Segment and profile
//! In a window of radius `3r` around a candidate, `z_s = G_{0.2 r} ∗ z`:
//! ```text
//! S  = median of z_s over the ring 1.5 r ≤ ρ ≤ 2.5 r             surround level
//! F  = min of z_s within ρ ≤ 0.5 r                                floor
//! D  = S − F                                                      peak contrast
//! segment = 4-connected component of { z_s < S − D/2 } holding the floor pixel (half depth)
//! depth   = S − mean_segment(z_s)                                 mean depression contrast
//! flatness  = |{ z_s ≤ F + D/4 } ∩ segment| / |segment|            floor flatness (reported)
//! steepness = mean_rim |∇z_s| · sqrt(|segment| / π) / D            wall steepness
//! P(ρ) = mean of z over the ring of radius ρ about the segment centroid (bins of 0.5 px)
//! R_rim = smallest ρ with P(ρ) ≥ S − 0.15 D (linear interpolation between bins)
//! d = 2 · R_rim   [mm]                                            rim diameter
//! OD_c = ln(mean_ring(c) / mean_segment(c)), c ∈ {R, B} linear     optical density
//! ```
//! The half-depth segment of a V (cone) or a raised-cosine profile is only half the rim width,
//! so the reported diameter is the rim of the angular-mean profile (where it is back within
//! 15 % of the depth from the surround): a cone gives 0.85 of its rim diameter, a raised cosine
//! 0.75, a flat-floored pit ≈ 1 (before camera blur, which widens). A cone gives steepness 0.5,
//! a raised-cosine bowl 0.6, a flat-floored pit with sharp walls > 1.5.
//!
//! Rejected: `depth < scars.min_depth`; steepness < 0.3 (noise specks); a profile that never
//! returns to the surround; `d < 0.8 · min_diameter_mm` (pores, < 0.3 mm) or
//! `d > 1.25 · max_diameter_mm`; a segment touching its window or with axis ratio
//! `sqrt(μ_major / μ_minor) > scars.max_elongation` (second central moments; fine lines);
//! chromatic darkening `OD_B > scars.max_chroma_ratio · OD_R`: melanin absorbs blue several
//! times more than red (a pigmented spot rendered as linear RGB × (0.85, 0.75, 0.6) has
//! OD_B / OD_R = 3.1), while shading darkens every channel by the same factor (OD_B = OD_R).
//! Candidates are segmented strongest first; one whose centre falls inside an accepted scar's
//! rim disk is a duplicate.
//!
//! # Type (Jacob et al. 2001)
//! ```text
//! rolling  d > boxcar_max (5 mm)
//! icepick  d < boxcar_min (1.5 mm)
//! boxcar   otherwise, when steepness ≥ min_boxcar_steepness (steep walls, flat floor)
//! icepick  otherwise, when d < icepick_max (2 mm)       (sloped walls: V profile)
//! rolling  otherwise                                     (sloped walls, wide: smooth bowl)
//! ```
//! Profile shape resolves the overlapping size ranges (1.5-2 mm: icepick or boxcar; 4-5 mm:
//! boxcar or rolling).
//!
//! # Zone values
//! ```text
//! count = N;  density = N / A_zone[cm²];  area_fraction = |∪ rim disks ∩ zone| / |zone|
//! mean_diameter = mean d [mm];  mean_depth = mean depth (unitless, > 0)
//! ```
//! With no scar, counts and area fraction are measured zeros; mean diameter and depth are
//! missing. An empty zone makes every value missing.
//!
//! References: T. Lindeberg, "Feature detection with automatic scale selection", IJCV 30 (1998)
//! 79-116, doi:10.1023/A:1008045108935. C. I. Jacob, J. S. Dover, M. S. Kaminer, "Acne scarring:
//! a classification system and review of treatment options", J Am Acad Dermatol 45 (2001) 109-117,
//! doi:10.1067/mjd.2001.113451.

use ndarray::{Array2, ArrayView2, s};

use crate::imgops::simd::widest_simd;

use super::height::{ISO_GAUSSIAN_SIGMA_PER_CUTOFF, PseudoHeight, masked_local_mean};
use super::{ColumnSpec, MetricValue, Missing, all_missing};
use crate::config::ScarsParams;
use crate::imgops::gaussian::{
    gaussian_blur, gaussian_blur_exact, gaussian_blur_exact_decimated, reflect_index,
};
use crate::input::colour::ColourPlanes;
use crate::segment::Zone;

use super::spec;

/// The columns of the scars family, in output order.
pub const COLUMNS: &[ColumnSpec] = &[
    spec(
        "scars_count",
        "1",
        "Number of detected atrophic scars: round dark depressions of the relative luminance \
         (scale-normalised Laplacian-of-Gaussian blobs over diameters scars.min_diameter_mm to \
         scars.max_diameter_mm, default 0.5-6 mm), after rejecting pores (< 0.8 x min diameter), \
         elongated shapes (fine lines) and chromatic darkening (pigmented spots).",
    ),
    spec(
        "scars_density_per_cm2",
        "1/cm2",
        "scars_count divided by the zone area in cm2.",
    ),
    spec(
        "scars_area_fraction",
        "1",
        "Fraction of the zone covered by scars (union of the disks of rim diameter), 0-1.",
    ),
    spec(
        "scars_mean_diameter_mm",
        "mm",
        "Mean scar rim diameter: twice the radius at which the angular-mean radial profile of \
         relative luminance returns to within 15 % of the depth from the surround. Empty when no \
         scar is detected.",
    ),
    spec(
        "scars_icepick",
        "1",
        "Number of icepick scars (Jacob 2001): rim diameter < 1.5 mm, or < 2 mm with sloped \
         (V-shaped) walls (wall steepness < scars.min_boxcar_steepness).",
    ),
    spec(
        "scars_boxcar",
        "1",
        "Number of boxcar scars (Jacob 2001): rim diameter 1.5-5 mm with steep walls (wall \
         steepness >= scars.min_boxcar_steepness, default 1.1).",
    ),
    spec(
        "scars_rolling",
        "1",
        "Number of rolling scars (Jacob 2001): rim diameter > 5 mm, or >= 2 mm with sloped, \
         smooth walls (wall steepness < scars.min_boxcar_steepness).",
    ),
    spec(
        "scars_mean_depth",
        "1",
        "Mean over scars of the depression contrast: surround relative luminance (median over a \
         ring at 1.5-2.5 radii) minus the mean relative luminance inside the segment; unitless \
         fraction of the local mean luminance, positive. A shading proxy, not a depth in mm. \
         Empty when no scar is detected.",
    ),
];

/// Jacob et al. (2001) atrophic scar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScarKind {
    Icepick,
    Boxcar,
    Rolling,
}

impl ScarKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Icepick => "icepick",
            Self::Boxcar => "boxcar",
            Self::Rolling => "rolling",
        }
    }
}

/// One detected scar, for `scars.csv` and the QC picture.
#[derive(Debug, Clone, PartialEq)]
pub struct ScarRecord {
    /// Centre (half-depth segment centroid) in image coordinates (zone bounding-box origin
    /// added), px.
    pub x_px: f64,
    pub y_px: f64,
    /// Rim diameter (see the module doc), mm.
    pub diameter_mm: f64,
    /// Area of the rim disk π·d²/4, mm2.
    pub area_mm2: f64,
    pub kind: ScarKind,
    /// Depression contrast relative to the surround (unitless, positive): surround minus mean
    /// relative luminance inside the segment.
    pub depth: f64,
    /// Floor flatness: fraction of the segment within 25 % of the depth from the minimum.
    pub flatness: f64,
    /// Wall steepness: mean rim gradient × equivalent radius / peak depth.
    pub steepness: f64,
}

/// Smallest blur, in level pixels, at which a scale is computed on a pyramid level.
const MIN_LEVEL_SIGMA: f64 = 1.6;
/// Scales per octave of σ.
const SCALES_PER_OCTAVE: f64 = 3.0;
/// Measured diameters below this fraction of `min_diameter_mm` are pores, not scars.
const PORE_FRACTION: f64 = 0.8;
/// Segments with a wall steepness below this are noise specks or shallow line pieces (a cone,
/// the least steep scar profile, gives 0.5).
const MIN_STEEPNESS: f64 = 0.3;
/// Radial-profile bin width, base px.
const PROFILE_BIN_PX: f64 = 0.5;
/// The rim is where the radial profile is back within this fraction of the depth from the
/// surround.
const RIM_FRACTION: f64 = 0.15;
/// Measured diameters above this multiple of `max_diameter_mm` are not scars.
const OVERSIZE_FACTOR: f64 = 1.25;

/// Measure the scars family; values align with [`COLUMNS`].
pub fn measure(
    planes: &ColourPlanes,
    zone: &Zone,
    height: &PseudoHeight,
    params: &ScarsParams,
) -> (Vec<MetricValue>, Vec<ScarRecord>) {
    let zone_px = height.area_px();
    if zone_px == 0 {
        return (all_missing(COLUMNS.len(), "empty zone"), Vec::new());
    }
    let (scars, covered_px) = detect_scars(planes, zone, height, params);
    let px_per_mm = height.px_per_mm;
    let zone_cm2 = zone_px as f64 / (px_per_mm * px_per_mm) / 100.0;
    let n = scars.len() as f64;
    let count_of = |k: ScarKind| scars.iter().filter(|s| s.kind == k).count() as f64;
    let none = || Err(Missing::new("no scars detected"));
    let mean = |f: fn(&ScarRecord) -> f64| {
        if scars.is_empty() {
            none()
        } else {
            Ok(scars.iter().map(f).sum::<f64>() / n)
        }
    };
    let values = vec![
        Ok(n),
        Ok(n / zone_cm2),
        Ok(covered_px / zone_px as f64),
        mean(|s| s.diameter_mm),
        Ok(count_of(ScarKind::Icepick)),
        Ok(count_of(ScarKind::Boxcar)),
        Ok(count_of(ScarKind::Rolling)),
        mean(|s| s.depth),
    ];
    (values, scars)
}

/// A blob candidate on the base grid.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// Base-grid position (col, row).
    x: usize,
    y: usize,
    /// Scale in base pixels.
    sigma: f64,
    response: f32,
}

/// Detect, segment, filter and classify the scars of one zone. Returns the scars (image
/// coordinates) and the covered area in full-resolution pixels (union of segments, in the mask).
pub fn detect_scars(
    planes: &ColourPlanes,
    zone: &Zone,
    height: &PseudoHeight,
    params: &ScarsParams,
) -> (Vec<ScarRecord>, f64) {
    let ppm = height.px_per_mm;
    let sigma_of = |d_mm: f64| d_mm / (2.0 * std::f64::consts::SQRT_2) * ppm;
    let sigma_min_px = sigma_of(params.min_diameter_mm);
    let sigma_max_px = sigma_of(params.max_diameter_mm).max(sigma_min_px);
    let l0 = (sigma_min_px / MIN_LEVEL_SIGMA).log2().floor().max(0.0) as u32;
    let f0 = 1usize << l0;

    let (lum, mask) = box_decimate(planes, height, f0);
    let sigma_bg =
        (ISO_GAUSSIAN_SIGMA_PER_CUTOFF * params.background_cutoff_mm * ppm / f0 as f64) as f32;
    let local = masked_local_mean(&lum, &mask, sigma_bg);
    let mut z = Array2::<f32>::zeros(lum.raw_dim());
    ndarray::Zip::from(&mut z)
        .and(&lum)
        .and(&local)
        .and(&mask)
        .for_each(|z, &y, &m, &inside| {
            *z = if inside && m > 1e-6 { y / m - 1.0 } else { 0.0 };
        });
    // Only z is used from here on.
    drop((lum, local));

    let s_min = sigma_min_px / f0 as f64;
    let s_max = sigma_max_px / f0 as f64;
    let n_scales = if s_max > s_min * 1.0001 {
        ((s_max / s_min).log2() * SCALES_PER_OCTAVE).ceil() as usize + 1
    } else {
        1
    };
    let sigmas: Vec<f64> = (0..n_scales)
        .map(|k| {
            if n_scales == 1 {
                s_min
            } else {
                s_min * (s_max / s_min).powf(k as f64 / (n_scales - 1) as f64)
            }
        })
        .collect();
    let candidates = blob_candidates(&z, &mask, &sigmas, params);

    // Segment each candidate, strongest first; a candidate whose centre falls inside an
    // accepted segment is a duplicate.
    let mut covered = Array2::<bool>::from_elem(z.raw_dim(), false);
    let mut scars = Vec::new();
    let base_mm = f0 as f64 / ppm;
    for c in &candidates {
        if covered[[c.y, c.x]] {
            continue;
        }
        let Some(seg) = segment_candidate(&z, &mask, c, params, base_mm) else {
            continue;
        };
        if !shading_not_pigment(planes, zone, f0, &seg, params.max_chroma_ratio) {
            continue;
        }
        paint_disk(&mut covered, seg.cx, seg.cy, seg.rim_px);
        let d = seg.diameter_mm;
        let kind = classify(d, seg.steepness, params);
        let half = (f0 as f64 - 1.0) / 2.0;
        scars.push(ScarRecord {
            x_px: (zone.mask.x0 as f64) + seg.cx * f0 as f64 + half,
            y_px: (zone.mask.y0 as f64) + seg.cy * f0 as f64 + half,
            diameter_mm: d,
            area_mm2: std::f64::consts::FRAC_PI_4 * d * d,
            kind,
            depth: seg.depth,
            flatness: seg.flatness,
            steepness: seg.steepness,
        });
    }
    // Covered full-resolution pixels inside the zone mask.
    let mut covered_px = 0usize;
    let (h, w) = height.mask.dim();
    for (r, row) in covered.outer_iter().enumerate() {
        for (col, &cov) in row.iter().enumerate() {
            if !cov {
                continue;
            }
            for y in r * f0..((r + 1) * f0).min(h) {
                for x in col * f0..((col + 1) * f0).min(w) {
                    covered_px += usize::from(height.mask[[y, x]]);
                }
            }
        }
    }
    scars.sort_by(|a, b| {
        (a.y_px, a.x_px)
            .partial_cmp(&(b.y_px, b.x_px))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    (scars, covered_px as f64)
}

/// Set the base-grid pixels whose centre lies within `radius` of `(cx, cy)`.
fn paint_disk(covered: &mut Array2<bool>, cx: f64, cy: f64, radius: f64) {
    let (h, w) = covered.dim();
    let r0 = (cy - radius).floor().max(0.0) as usize;
    let r1 = ((cy + radius).ceil() as usize + 1).min(h);
    let c0 = (cx - radius).floor().max(0.0) as usize;
    let c1 = ((cx + radius).ceil() as usize + 1).min(w);
    for i in r0..r1 {
        for j in c0..c1 {
            if (i as f64 - cy).powi(2) + (j as f64 - cx).powi(2) <= radius * radius {
                covered[[i, j]] = true;
            }
        }
    }
}

/// Type of a scar from its diameter and profile (rules in the module doc).
pub fn classify(diameter_mm: f64, steepness: f64, params: &ScarsParams) -> ScarKind {
    let steep = steepness >= params.min_boxcar_steepness;
    if diameter_mm > params.boxcar_max_diameter_mm {
        ScarKind::Rolling
    } else if diameter_mm < params.boxcar_min_diameter_mm {
        ScarKind::Icepick
    } else if steep {
        ScarKind::Boxcar
    } else if diameter_mm < params.icepick_max_diameter_mm {
        ScarKind::Icepick
    } else {
        ScarKind::Rolling
    }
}

/// Box-average the linear luminance `Y = 0.2126 R + 0.7152 G + 0.0722 B` of the pseudo-height's
/// bounding box (inside-mask pixels only) and majority-vote its mask over `f × f` blocks.
///
/// Y is computed one image row at a time from `planes`, so no full-resolution luminance plane
/// is held (the same f32 expression as [`super::height::pseudo_height`]).
fn box_decimate(
    planes: &ColourPlanes,
    height: &PseudoHeight,
    f: usize,
) -> (Array2<f32>, Array2<bool>) {
    let mask = &height.mask;
    let (h, w) = mask.dim();
    let luminance_row = |y: usize, out: &mut [f32]| {
        planes.luminance_row(height.y0 + y, height.x0, &mut out[..w]);
    };
    if f == 1 {
        let mut out = Array2::<f32>::zeros((h, w));
        for (y, mut row) in out.outer_iter_mut().enumerate() {
            luminance_row(y, row.as_slice_mut().expect("fresh standard-layout array"));
        }
        return (out, Array2::clone(mask));
    }
    let (hb, wb) = (h.div_ceil(f), w.div_ceil(f));
    let mut out = Array2::<f32>::zeros((hb, wb));
    let mut out_mask = Array2::<bool>::from_elem((hb, wb), false);
    // Per block row: sums in the same order as a raster scan (row by row, left to right).
    let (mut sum, mut inside) = (vec![0f32; wb], vec![0u32; wb]);
    let mut vrow = vec![0f32; w];
    for rb in 0..hb {
        sum.iter_mut().for_each(|v| *v = 0.0);
        inside.iter_mut().for_each(|v| *v = 0);
        let rows = rb * f..((rb + 1) * f).min(h);
        let block_rows = rows.len();
        for y in rows {
            luminance_row(y, &mut vrow);
            let mrow = mask.row(y);
            let mrow = mrow
                .as_slice()
                .map_or_else(|| mrow.to_vec().into(), std::borrow::Cow::Borrowed);
            let blocks = vrow.chunks(f).zip(mrow.chunks(f));
            for (((vs, ms), s), n) in blocks.zip(&mut sum).zip(&mut inside) {
                for (&v, &m) in vs.iter().zip(ms) {
                    if m {
                        *s += v;
                        *n += 1;
                    }
                }
            }
        }
        for cb in 0..wb {
            let n = inside[cb];
            let total = (block_rows * (((cb + 1) * f).min(w) - cb * f)) as u32;
            if n > 0 {
                out[[rb, cb]] = sum[cb] / n as f32;
            }
            out_mask[[rb, cb]] = 2 * n >= total && n > 0;
        }
    }
    (out, out_mask)
}

/// Blur to an accumulated σ of 1 px of the next level and keep every second sample (the exact
/// FIR, which [`gaussian_blur`] also uses at these σ, evaluated at the kept samples only).
fn pyramid_down(src: ArrayView2<f32>, first: bool) -> Array2<f32> {
    // Accumulated blur goes from 0 (base) or 1 (level px) to 2 level px = 1 next-level px.
    let sigma = if first { 2.0f32 } else { 3.0f32.sqrt() };
    gaussian_blur_exact_decimated(src, sigma)
}

/// Scale-normalised LoG candidates over `sigmas` (base px), strongest first, after
/// non-maximum suppression across space and scale.
fn blob_candidates(
    z: &Array2<f32>,
    mask: &Array2<bool>,
    sigmas: &[f64],
    params: &ScarsParams,
) -> Vec<Candidate> {
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
    // its neighbours k ± 1 only, so at most three maps are held at a time.
    struct ScaleMap {
        level: usize,
        response: Array2<f32>,
        /// Roundness ≥ `min_roundness`.
        round_enough: Array2<bool>,
    }
    let make_map = |sigma: f64| {
        let level = level_of(sigma).min(n_levels - 1);
        let sl = sigma / (1u64 << level) as f64;
        let acc = if level == 0 { 0.0 } else { 1.0 };
        let (response, round_enough) =
            log_response(level_view(level), sl, acc, params.min_roundness as f32);
        ScaleMap {
            level,
            response,
            round_enough,
        }
    };
    let mut maps: Vec<Option<ScaleMap>> = sigmas.iter().map(|_| None).collect();

    let min_r = params.min_response as f32;
    let mut cands = Vec::new();
    for k in 0..sigmas.len() {
        for m in k..(k + 2).min(sigmas.len()) {
            if maps[m].is_none() {
                maps[m] = Some(make_map(sigmas[m]));
            }
        }
        if k >= 2 {
            maps[k - 2] = None;
        }
        let map = maps[k].as_ref().expect("made above");
        let (below, above) = (
            k.checked_sub(1).and_then(|m| maps[m].as_ref()),
            maps.get(k + 1).and_then(Option::as_ref),
        );
        let r = &map.response;
        let (h, w) = r.dim();
        let step = 1usize << map.level;
        fn row(a: &Array2<f32>, i: usize) -> &[f32] {
            let cols = a.ncols();
            &a.as_slice().expect("fresh standard-layout array")[i * cols..(i + 1) * cols]
        }
        for i in 1..h.saturating_sub(1) {
            let (up, mid, down) = (row(r, i - 1), row(r, i), row(r, i + 1));
            let round = map.round_enough.row(i);
            let round = round.as_slice().expect("fresh standard-layout array");
            for j in 1..w.saturating_sub(1) {
                // Cheap rejections first: most pixels are below the response threshold.
                let v = mid[j];
                if v < min_r || !round[j] {
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
                if !is_max {
                    continue;
                }
                let beats = |other: &ScaleMap| {
                    let st = 1usize << other.level;
                    let (oh, ow) = other.response.dim();
                    let oi = ((by + st / 2) / st).min(oh - 1);
                    let oj = ((bx + st / 2) / st).min(ow - 1);
                    v >= other.response[[oi, oj]]
                };
                if below.is_some_and(|m| !beats(m)) || above.is_some_and(|m| !beats(m)) {
                    continue;
                }
                cands.push(Candidate {
                    x: bx,
                    y: by,
                    sigma: sigmas[k],
                    response: v,
                });
            }
        }
    }
    cands.sort_by(|a, b| {
        b.response
            .total_cmp(&a.response)
            .then((a.y, a.x).cmp(&(b.y, b.x)))
    });
    suppress_non_maxima(cands, mask.dim())
}

/// Greedy non-maximum suppression of `cands` (already in decreasing response): a candidate is
/// dropped when an accepted one lies within `max(r_a, r_b)`, `r = √2·σ`, base px.
///
/// Accepted candidates are bucketed on a grid of cells as large as the largest radius, so each
/// candidate is compared with the accepted ones of its 3 × 3 cells only (O(N) instead of
/// O(N·K)); distances are compared squared ([`sqrt_below`]), with the same decisions as
/// `sqrt(d²) < r`.
fn suppress_non_maxima(cands: Vec<Candidate>, (h, w): (usize, usize)) -> Vec<Candidate> {
    let radius = |c: &Candidate| std::f64::consts::SQRT_2 * c.sigma;
    let r_max = cands.iter().map(radius).fold(1.0, f64::max);
    let cell = r_max.ceil() as usize;
    let (gh, gw) = (h / cell + 1, w / cell + 1);
    let mut grid: Vec<Vec<u32>> = vec![Vec::new(); gh * gw];
    let mut kept: Vec<Candidate> = Vec::new();
    for c in cands {
        let r_c = radius(&c);
        let (gy, gx) = ((c.y / cell).min(gh - 1), (c.x / cell).min(gw - 1));
        let suppressed = (gy.saturating_sub(1)..(gy + 2).min(gh)).any(|y| {
            (gx.saturating_sub(1)..(gx + 2).min(gw)).any(|x| {
                grid[y * gw + x].iter().any(|&i| {
                    let k = &kept[i as usize];
                    let dx = c.x as f64 - k.x as f64;
                    let dy = c.y as f64 - k.y as f64;
                    sqrt_below(dx * dx + dy * dy, r_c.max(radius(k)))
                })
            })
        });
        if !suppressed {
            grid[gy * gw + gx].push(kept.len() as u32);
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
struct SqrtBound {
    bound: f64,
    /// `bound² (1 − 1e-9)` and `bound² (1 + 1e-9)`.
    lo: f64,
    hi: f64,
}

impl SqrtBound {
    fn new(bound: f64) -> Self {
        let b2 = bound * bound;
        Self {
            bound,
            lo: b2 * (1.0 - 1e-9),
            hi: b2 * (1.0 + 1e-9),
        }
    }

    /// `d2.sqrt() < bound` for `d2 ≥ 0`.
    #[inline]
    fn closer(&self, d2: f64) -> bool {
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
    fn within(&self, d2: f64) -> bool {
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
) -> (Array2<f32>, Array2<bool>) {
    let residual = (sigma * sigma - acc * acc).max(0.25).sqrt();
    let smooth = gaussian_blur_exact(level, residual as f32);
    let norm = (residual * residual) as f32;
    // The blob scale is the total σ.
    let gain = (sigma * sigma / (residual * residual)) as f32;
    let (rows, cols) = smooth.dim();
    let mut resp = Array2::<f32>::zeros((rows, cols));
    let mut round = Array2::<bool>::from_elem((rows, cols), false);
    if rows == 0 || cols == 0 {
        return (resp, round);
    }
    let data = smooth.as_slice().expect("fresh standard-layout array");
    let row = |k: usize| &data[k * cols..(k + 1) * cols];
    let (rs, ns) = (
        resp.as_slice_mut().expect("fresh array"),
        round.as_slice_mut().expect("fresh array"),
    );
    for (i, (o1, o2)) in rs.chunks_mut(cols).zip(ns.chunks_mut(cols)).enumerate() {
        let up = row(reflect_index(i as isize - 1, rows));
        let down = row(reflect_index(i as isize + 1, rows));
        blob_row(up, row(i), down, (norm, gain, min_roundness), o1, o2);
    }
    (resp, round)
}

widest_simd! {
    /// Response, and whether the roundness reaches `min_roundness`, of one row from the
    /// blurred rows above, at and below (columns reflected at the ends), compiled for the
    /// widest vector unit (only exactly rounded IEEE operations and selects: every variant
    /// gives the same bits).
    fn blob_row(
        up: &[f32],
        mid: &[f32],
        down: &[f32],
        params: (f32, f32, f32),
        resp: &mut [f32],
        round: &mut [bool],
    ) {
        let n = mid.len();
        let (up, down, resp, round) = (&up[..n], &down[..n], &mut resp[..n], &mut round[..n]);
        // Column j with its left and right neighbours jl, jr (reflected at the ends).
        let edge = |j: usize, jl: usize, jr: usize| {
            blob_at(
                [up[jl], up[j], up[jr]],
                [mid[jl], mid[j], mid[jr]],
                [down[jl], down[j], down[jr]],
                params,
            )
        };
        if n < 3 {
            for j in 0..n {
                (resp[j], round[j]) = edge(j, j.saturating_sub(1), (j + 1).min(n - 1));
            }
            return;
        }
        (resp[0], round[0]) = edge(0, 0, 1);
        (resp[n - 1], round[n - 1]) = edge(n - 1, n - 2, n - 1);
        // Interior columns on shifted slices (left, centre, right), so the loop vectorises.
        let m = n - 2;
        let (ml, mc, mr) = (&mid[..m], &mid[1..=m], &mid[2..]);
        let (ul, uc, ur) = (&up[..m], &up[1..=m], &up[2..]);
        let (dl, dc, dr) = (&down[..m], &down[1..=m], &down[2..]);
        let (ro, qo) = (&mut resp[1..=m], &mut round[1..=m]);
        for j in 0..m {
            (ro[j], qo[j]) = blob_at(
                [ul[j], uc[j], ur[j]],
                [ml[j], mc[j], mr[j]],
                [dl[j], dc[j], dr[j]],
                params,
            );
        }
    }
}

/// Response, and whether the roundness reaches `min_roundness`, at the centre of a 3×3
/// neighbourhood (rows above, at and below; columns left, centre, right) with `params` =
/// (norm, gain, min_roundness).
#[inline(always)]
fn blob_at(up: [f32; 3], mid: [f32; 3], down: [f32; 3], params: (f32, f32, f32)) -> (f32, bool) {
    let (norm, gain, min_roundness) = params;
    let centre = mid[1];
    let lxx = mid[2] - 2.0 * centre + mid[0];
    let lyy = down[1] - 2.0 * centre + up[1];
    let lxy = 0.25 * (down[2] - down[0] - up[2] + up[0]);
    let (response, roundness) = blob_of_hessian(norm * lxx, norm * lxy, norm * lyy, gain);
    // Never NaN (0 unless both eigenvalues are positive), so this is `!(r < min)`.
    (response, roundness >= min_roundness)
}

/// `(gain·(λ1 + λ2), roundness)` of the symmetric 2×2 matrix [[a, b], [b, c]], λ ordered by
/// magnitude as in `hessian_eigenvalues`; roundness = λ_small/λ_large when both are positive
/// (a dark blob), else 0.
#[inline(always)]
fn blob_of_hessian(a: f32, b: f32, c: f32, gain: f32) -> (f32, f32) {
    let mean = 0.5 * (a + c);
    let half_diff = 0.5 * (a - c);
    let root = (half_diff * half_diff + b * b).sqrt();
    let (plus, minus) = (mean + root, mean - root);
    let dark = mean >= 0.0;
    let small = if dark { minus } else { plus };
    let big = if dark { plus } else { minus };
    // The ratio is computed everywhere and selected (branch-free).
    let ratio = small / big;
    let roundness = if small > 0.0 && big > 0.0 { ratio } else { 0.0 };
    (gain * (small + big), roundness)
}

/// One scar's segment on the base grid.
struct Segment {
    /// (row, col) base-grid pixels.
    pixels: Vec<(usize, usize)>,
    /// Ring pixels used for the surround.
    ring: Vec<(usize, usize)>,
    /// Centroid, base px.
    cx: f64,
    cy: f64,
    /// Rim radius, base px.
    rim_px: f64,
    diameter_mm: f64,
    depth: f64,
    flatness: f64,
    steepness: f64,
}

/// Segment a candidate at half depth and apply the shape tests; `None` when rejected.
fn segment_candidate(
    z: &Array2<f32>,
    mask: &Array2<bool>,
    c: &Candidate,
    params: &ScarsParams,
    base_mm: f64,
) -> Option<Segment> {
    let (h, w) = z.dim();
    let r = std::f64::consts::SQRT_2 * c.sigma;
    let half_win = (3.0 * r).ceil() as usize + 2;
    let (r0, r1) = (c.y.saturating_sub(half_win), (c.y + half_win + 1).min(h));
    let (c0, c1) = (c.x.saturating_sub(half_win), (c.x + half_win + 1).min(w));
    let win = z.slice(s![r0..r1, c0..c1]);
    let zs = gaussian_blur(win, (0.2 * r).max(0.5) as f32);
    let wmask = mask.slice(s![r0..r1, c0..c1]);
    let (cy, cx) = ((c.y - r0) as f64, (c.x - c0) as f64);
    // Squared distance to the candidate, compared with radii by `SqrtBound`
    // (same decisions as comparing its square root).
    let dist_sq = |i: usize, j: usize| {
        let (dy, dx) = (i as f64 - cy, j as f64 - cx);
        dy * dy + dx * dx
    };
    let (ring_in, ring_out, floor_r) = (
        SqrtBound::new(1.5 * r),
        SqrtBound::new(2.5 * r),
        SqrtBound::new(0.5 * r.max(1.0)),
    );

    let mut ring_vals = Vec::new();
    let mut ring = Vec::new();
    let mut floor = (f32::INFINITY, 0usize, 0usize);
    for ((i, j), &v) in zs.indexed_iter() {
        if !wmask[[i, j]] {
            continue;
        }
        let d2 = dist_sq(i, j);
        if !ring_in.closer(d2) && ring_out.within(d2) {
            ring_vals.push(v);
            ring.push((i + r0, j + c0));
        }
        if v < floor.0 && floor_r.within(d2) {
            floor = (v, i, j);
        }
    }
    if ring_vals.len() < 8 || !floor.0.is_finite() {
        return None;
    }
    let mid = ring_vals.len() / 2;
    let (_, &mut surround, _) = ring_vals.select_nth_unstable_by(mid, f32::total_cmp);
    let depth_peak = surround - floor.0;
    if depth_peak <= 0.0 || f64::from(depth_peak) < params.min_depth {
        return None;
    }
    let level = surround - 0.5 * depth_peak;

    // 4-connected region grow from the floor pixel.
    let (wh, ww) = zs.dim();
    let mut inside = Array2::<bool>::from_elem((wh, ww), false);
    let mut stack = vec![(floor.1, floor.2)];
    inside[[floor.1, floor.2]] = true;
    let mut pixels = Vec::new();
    let mut touches_border = false;
    while let Some((i, j)) = stack.pop() {
        pixels.push((i, j));
        if i == 0 || j == 0 || i + 1 == wh || j + 1 == ww {
            touches_border = true;
        }
        let nbrs = [
            (i.wrapping_sub(1), j),
            (i + 1, j),
            (i, j.wrapping_sub(1)),
            (i, j + 1),
        ];
        for (a, b) in nbrs {
            if a < wh && b < ww && !inside[[a, b]] && wmask[[a, b]] && zs[[a, b]] < level {
                inside[[a, b]] = true;
                stack.push((a, b));
            }
        }
    }
    if touches_border {
        return None;
    }
    let n = pixels.len() as f64;
    // Second central moments -> axis ratio.
    let (mut sy, mut sx) = (0.0, 0.0);
    for &(i, j) in &pixels {
        sy += i as f64;
        sx += j as f64;
    }
    let (my, mx) = (sy / n, sx / n);
    let (mut cyy, mut cxx, mut cxy) = (0.0, 0.0, 0.0);
    for &(i, j) in &pixels {
        let (dy, dx) = (i as f64 - my, j as f64 - mx);
        cyy += dy * dy;
        cxx += dx * dx;
        cxy += dx * dy;
    }
    // + 1/12: variance of a unit pixel, so that tiny segments are not called elongated.
    let (cyy, cxx, cxy) = (cyy / n + 1.0 / 12.0, cxx / n + 1.0 / 12.0, cxy / n);
    let disc = (0.25 * (cxx - cyy).powi(2) + cxy * cxy).sqrt();
    let major = 0.5 * (cxx + cyy) + disc;
    let minor = (0.5 * (cxx + cyy) - disc).max(1e-9);
    if (major / minor).sqrt() > params.max_elongation {
        return None;
    }

    let mean_inside = pixels
        .iter()
        .map(|&(i, j)| f64::from(zs[[i, j]]))
        .sum::<f64>()
        / n;
    let depth = f64::from(surround) - mean_inside;
    if depth < params.min_depth {
        return None;
    }
    let flat_level = floor.0 + 0.25 * depth_peak;
    let flatness = pixels
        .iter()
        .filter(|&&(i, j)| zs[[i, j]] <= flat_level)
        .count() as f64
        / n;
    // Rim: segment pixels with a 4-neighbour outside the segment.
    let (mut grad_sum, mut rim_n) = (0.0f64, 0usize);
    for &(i, j) in &pixels {
        let rim = !inside[[i - 1, j]]
            || !inside[[i + 1, j]]
            || !inside[[i, j - 1]]
            || !inside[[i, j + 1]];
        if rim {
            let gx = 0.5 * (zs[[i, j + 1]] - zs[[i, j - 1]]);
            let gy = 0.5 * (zs[[i + 1, j]] - zs[[i - 1, j]]);
            grad_sum += f64::from((gx * gx + gy * gy).sqrt());
            rim_n += 1;
        }
    }
    let radius_px = (n / std::f64::consts::PI).sqrt();
    let steepness = grad_sum / rim_n.max(1) as f64 * radius_px / f64::from(depth_peak);

    if steepness < MIN_STEEPNESS {
        return None;
    }
    // Rim: where the mean radial profile about the centroid rises back to within RIM_FRACTION
    // of the depth from the surround.
    let (wy, wx) = (my, mx);
    let max_rho = wy
        .min(wx)
        .min(wh as f64 - 1.0 - wy)
        .min(ww as f64 - 1.0 - wx);
    let nbins = (max_rho / PROFILE_BIN_PX).floor().max(1.0) as usize;
    let mut sums = vec![(0.0f64, 0usize); nbins];
    // The unsmoothed map: angular averaging removes the noise without widening the profile.
    for ((i, j), &v) in win.indexed_iter() {
        if !wmask[[i, j]] {
            continue;
        }
        let rho = ((i as f64 - wy).powi(2) + (j as f64 - wx).powi(2)).sqrt();
        let k = (rho / PROFILE_BIN_PX) as usize;
        if k < nbins {
            sums[k].0 += f64::from(v);
            sums[k].1 += 1;
        }
    }
    let rim_level = f64::from(surround) - RIM_FRACTION * f64::from(depth_peak);
    let mut rim_px = None;
    let mut prev: Option<(f64, f64)> = None;
    for (k, &(sum, cnt)) in sums.iter().enumerate() {
        if cnt == 0 {
            continue;
        }
        let rho = (k as f64 + 0.5) * PROFILE_BIN_PX;
        let v = sum / cnt as f64;
        if v >= rim_level {
            rim_px = Some(match prev {
                Some((r_prev, v_prev)) if v > v_prev => {
                    r_prev + (rho - r_prev) * (rim_level - v_prev) / (v - v_prev)
                }
                _ => rho,
            });
            break;
        }
        prev = Some((rho, v));
    }
    // A profile that never comes back up is not a closed depression.
    let rim_px = rim_px?;
    let rim_diameter_mm = 2.0 * rim_px * base_mm;
    if rim_diameter_mm < PORE_FRACTION * params.min_diameter_mm
        || rim_diameter_mm > OVERSIZE_FACTOR * params.max_diameter_mm
    {
        return None;
    }
    Some(Segment {
        pixels: pixels.into_iter().map(|(i, j)| (i + r0, j + c0)).collect(),
        ring,
        cx: mx + c0 as f64,
        cy: my + r0 as f64,
        rim_px,
        diameter_mm: rim_diameter_mm,
        depth,
        flatness,
        steepness,
    })
}

/// True when the darkening of `seg` is achromatic enough to be shading:
/// `OD_B ≤ max_ratio · OD_R` with `OD_c = ln(mean_ring(c) / mean_segment(c))` on linear R, B.
fn shading_not_pigment(
    planes: &ColourPlanes,
    zone: &Zone,
    f0: usize,
    seg: &Segment,
    max_ratio: f64,
) -> bool {
    let (h, w) = (planes.height(), planes.width());
    let mean_rb = |pix: &[(usize, usize)]| {
        let (mut sr, mut sb, mut n) = (0.0f64, 0.0f64, 0usize);
        for &(i, j) in pix {
            let y_start = zone.mask.y0 + i * f0;
            let x_start = zone.mask.x0 + j * f0;
            for y in y_start..(y_start + f0).min(h) {
                for x in x_start..(x_start + f0).min(w) {
                    let [red, _, blue] = planes.linear_at(y, x);
                    sr += f64::from(red);
                    sb += f64::from(blue);
                    n += 1;
                }
            }
        }
        (sr / n.max(1) as f64, sb / n.max(1) as f64)
    };
    let (r_in, b_in) = mean_rb(&seg.pixels);
    let (r_out, b_out) = mean_rb(&seg.ring);
    if r_in <= 0.0 || b_in <= 0.0 || r_out <= 0.0 || b_out <= 0.0 {
        return true;
    }
    let od_r = (r_out / r_in).ln();
    let od_b = (b_out / b_in).ln();
    od_b <= max_ratio * od_r.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut cands: Vec<Candidate> = (0..3000)
            .map(|_| Candidate {
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
        let mut naive: Vec<Candidate> = Vec::new();
        for c in &cands {
            let r_c = std::f64::consts::SQRT_2 * c.sigma;
            let suppressed = naive.iter().any(|k| {
                let r_k = std::f64::consts::SQRT_2 * k.sigma;
                let (dx, dy) = (c.x as f64 - k.x as f64, c.y as f64 - k.y as f64);
                (dx * dx + dy * dy).sqrt() < r_c.max(r_k)
            });
            if !suppressed {
                naive.push(*c);
            }
        }
        let fast = suppress_non_maxima(cands, (h, w));
        assert!(naive.len() > 50, "{}", naive.len());
        let key = |c: &Candidate| (c.x, c.y, c.sigma.to_bits(), c.response.to_bits());
        assert_eq!(
            fast.iter().map(key).collect::<Vec<_>>(),
            naive.iter().map(key).collect::<Vec<_>>()
        );
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

    #[test]
    fn classification_rules() {
        let p = ScarsParams::default();
        assert_eq!(classify(1.0, 5.0, &p), ScarKind::Icepick);
        assert_eq!(classify(1.8, 0.6, &p), ScarKind::Icepick);
        assert_eq!(classify(1.8, 2.0, &p), ScarKind::Boxcar);
        assert_eq!(classify(4.5, 2.0, &p), ScarKind::Boxcar);
        assert_eq!(classify(3.0, 0.6, &p), ScarKind::Rolling);
        assert_eq!(classify(5.5, 2.0, &p), ScarKind::Rolling);
    }
}
