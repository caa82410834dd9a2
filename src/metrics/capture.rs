//! Capture quality: how a photo was taken, measured on its skin, so that a follow-up can be
//! judged comparable with its baseline (`skintex study`) and a bad photo is flagged at once.
//!
//! One value per photo (not per zone), written to `images.csv` (`capture_*` columns) with the
//! checks that failed in `capture_flags`. Every measurement is cheap: the colour statistics use
//! a decimated sample of the skin pixels (at most [`MAX_SAMPLES`], every `s`-th row and column),
//! the band-pass energies at most [`MAX_TILES`] tiles of skin; the tiles and samples are chosen
//! on a fixed grid, so the values do not depend on the thread count.
//!
//! # Definitions
//! Skin is the measured region: the `face` zone (union of the face zones, eyes, brows, lips,
//! nostrils and non-skin excluded) or the whole image (`--roi full`). Y is the relative
//! luminance 0.2126 R + 0.7152 G + 0.0722 B of linear RGB; L*, a*, b* CIE (D65).
//! ```text
//! sharpness        E(σf) / E(σc),  E(σ) = mean over tile interiors of (σ² ∇²(G_σ * y))²
//!                  y = Y / mean(Y of the tile) − 1 (contrast; exposure cancels), ∇² the
//!                  5-point Laplacian, G_σ a Gaussian; σf = max(capture.sharpness_scale_mm ·
//!                  px_per_mm, 0.7 px), σc = 4 σf (0.05 and 0.2 mm by default). A Gaussian
//!                  defocus of σb widens both band-passes to sqrt(σ² + σb²), which removes
//!                  much more of the fine band's energy than of the coarse band's: on rendered
//!                  close-ups a further 0.08 mm lowers the ratio 3.6-5.7 times.
//!                  Tiles: squares of 24 σc (at least 64 px) on a grid over the skin's box,
//!                  those at least 90 % skin, at most [`MAX_TILES`] evenly spread; interiors
//!                  3 σc + 1 px from the tile border.
//! l_median         median L* of skin
//! clipped_dark     share of skin pixels with a channel at the low end (sRGB code ≤ 1)
//! clipped_bright   share of skin pixels with a channel at the high end (sRGB code ≥ 254)
//! wb_hue_deg       atan2(median b*, median a*) of skin, deg (the skin's hue angle h_ab)
//! wb_r_over_g      mean linear R / mean linear G of skin (a cast's gain ratio, exposure-free)
//! wb_b_over_g      mean linear B / mean linear G of skin
//! light_gradient   least-squares plane ln Y = c + gx·x + gy·y over the skin samples (px):
//!   _pct           100 · |g| · R, R = RMS distance of the samples from their centroid (the
//!                  luminance change from the skin's centre to a typical skin point, %)
//!   _deg           direction of increasing luminance, counter-clockwise from +x as displayed
//! light_relief     the axis of the relief's shading: structure tensor of ∇(G_σc * y) on the
//!   _deg           tiles, J = Σ (gx² − gy², 2 gx gy') with gy' = −gy (y up), θ = ½ atan2,
//!   _coherence     0-180 deg (an oblique light shades slopes along its azimuth, so the gradients
//!                  line up with it; axial: light from θ and θ + 180 are not told apart);
//!                  coherence |J| / Σ (gx² + gy²), 0 (diffuse light or isotropic) to 1
//! light_lr_ratio   face: median Y of cheek_left / median Y of cheek_right (subject's own)
//! light_tb_ratio   face: median Y of forehead / median Y of chin
//! specular_share   share of skin samples brighter than median L* + face.skin_k_glare · robust
//!                  SD(L*) with chroma C* below face.skin_glare_chroma_ratio · median C* (the
//!                  glare test of the skin model; on faces that model already removed the
//!                  strongest glare from the zones, so this is the glare left on the skin)
//! face (MediaPipe mesh landmarks [x, y, z], z depth in px, larger = farther):
//!   yaw_deg        atan2(Δz, |Δxy|) of the cheek edges 234 → 454 (subject's right → left);
//!                  > 0: the subject's left cheek is farther (head turned to their left)
//!   pitch_deg      atan2(Δz, |Δxy|) of forehead top 10 → chin 152; > 0: chin farther
//!                  (head tilted down). A frontal neutral face is not 0 (the forehead slopes
//!                  back), so only its change between visits is used
//!   roll_deg       angle of the line from the right to the left eye centre (eye corners
//!                  33/133 and 362/263), counter-clockwise as displayed
//!   mouth_open     inner lip gap |13 − 14| / mouth width |61 − 291|
//!   smile          mouth width |61 − 291| / inter-ocular distance (eye centres)
//!   brows_raised   mean distance of the brows' upper middle (105, 334) from their eye centre
//!                  / inter-ocular distance
//!   eye_opening    mean of the eyes' lid gap / eye width: |159 − 145| / |33 − 133| and
//!                  |386 − 374| / |362 − 263| (eye aspect ratio, Soukupová & Čech 2016)
//!   face_size_px   forehead top 10 to chin 152, px
//! ```
//! A value that cannot be measured is missing with its reason (close-ups have no face values;
//! sharpness needs a calibration and enough skin tiles), never 0.
//!
//! White balance: without a colour chart the skin's own hue angle is the estimate
//! (`capture_wb_source` = `skin`). It moves with a colour cast of the light or camera (a warm
//! cast raises b* more than a*) and also with a true change of skin colour (erythema lowers the
//! hue angle), so the study's limit on its change is wider than the hue change of erythema
//! after microneedling. A chart, when one is found, is the better source (`chart`): its six
//! neutral patches (the bottom row, white to black; patches with a channel clipped at either end
//! left out) give
//!
//! ```text
//! g_c          = Σ m_c / Σ r_c       m the patches' mean linear RGB as photographed (src/chart/),
//!                                    r the published linear sRGB of the same patches
//! wb_r_over_g  = g_R / g_G           1 for a neutral capture of the chart
//! wb_b_over_g  = g_B / g_G           a warm cast lowers it
//! wb_hue_deg   = atan2(b*, a*) of the neutrals' mean RGB as photographed (noisy when the
//!                capture is neutral: a* and b* are then near 0)
//! ```
//!
//! and `colour_cast` is flagged when sqrt(ln² wb_r_over_g + ln² wb_b_over_g) exceeds
//! `capture.max_neutral_cast` (the skin hue range does not apply to a grey patch). The study
//! compares white balance only between photos with the same source (`src/study/comparability.rs`).

use ndarray::Array2;

use crate::chart::reference::reference_linear_rgb;
use crate::chart::{FIRST_NEUTRAL, NEUTRALS};
use crate::config::{CaptureParams, FaceParams};
use crate::imgops::gaussian::gaussian_blur;
use crate::input::colour::{ColourPlanes, linear_rgb_to_lab};
use crate::metrics::{ColumnSpec, MetricValue, Missing, median, spec};
use crate::segment::{Mask, Zone};

/// Most skin pixels sampled for the colour statistics.
pub const MAX_SAMPLES: usize = 200_000;
/// Most skin tiles of the band-pass energies.
pub const MAX_TILES: usize = 64;
/// Coarse scale of the sharpness ratio, in units of the fine scale.
pub const COARSE_OVER_FINE: f64 = 4.0;
/// Smallest fine scale, px (a Laplacian of a narrower Gaussian is the pixel grid's).
pub const MIN_FINE_SIGMA_PX: f64 = 0.7;
/// A channel is clipped at the low end at or below this linear value (sRGB code 1 of 255).
pub const CLIP_LOW_LINEAR: f32 = 0.000_31;
/// A channel is clipped at the high end at or above this linear value (sRGB code 254 of 255).
pub const CLIP_HIGH_LINEAR: f32 = 0.991;

/// The numeric capture columns of `images.csv`, in order (then `capture_wb_source`,
/// `capture_flags` and `capture_missing_reasons`).
pub const COLUMNS: &[ColumnSpec] = &[
    spec(
        "capture_sharpness",
        "1",
        "Sharpness of the skin: band-pass energy at capture.sharpness_scale_mm (at least 0.7 px) over that at 4 times the scale, E(σf)/E(σc), E = mean (σ² × Laplacian of the Gaussian-smoothed contrast)² on up to 36 skin tiles (src/metrics/capture.rs). Falls with defocus; flag `blurred` below capture.min_sharpness.",
    ),
    spec(
        "capture_l_median",
        "L*",
        "Exposure: median L* of the skin; flags `underexposed` / `overexposed` outside capture.min_l_median ..= capture.max_l_median.",
    ),
    spec(
        "capture_clipped_dark",
        "1",
        "Share of skin pixels with a channel clipped at the low end (sRGB code <= 1).",
    ),
    spec(
        "capture_clipped_bright",
        "1",
        "Share of skin pixels with a channel clipped at the high end (sRGB code >= 254); flag `clipped` when the two shares sum above capture.max_clipped_share.",
    ),
    spec(
        "capture_wb_hue_deg",
        "deg",
        "White balance estimate, by capture_wb_source: `skin`: hue angle atan2(b*, a*) of the skin's median a*, b*, flag `colour_cast` outside capture.min_skin_hue_deg ..= capture.max_skin_hue_deg; `chart`: the hue angle of the chart's neutral patches as photographed (near 0 chroma when neutral, so noisy), `colour_cast` from their channel gains (capture.max_neutral_cast).",
    ),
    spec(
        "capture_wb_r_over_g",
        "1",
        "White balance estimate, exposure-free: `skin`: mean linear R / mean linear G of the skin (a colour cast of the light or camera multiplies it by the cast's R/G gain); `chart`: the R/G gain of the chart's neutral patches against their published colour (1 = neutral capture). The study compares it with the baseline's when both have the same capture_wb_source.",
    ),
    spec(
        "capture_wb_b_over_g",
        "1",
        "Mean linear B / mean linear G of the skin, or the B/G gain of the chart's neutral patches (capture_wb_source `chart`); a warm cast lowers it.",
    ),
    spec(
        "capture_light_gradient_pct",
        "%",
        "Light uniformity: 100 x |gradient of the least-squares plane of ln Y| x the RMS distance of the skin from its centroid (the luminance change from the skin's centre to a typical skin point); flag `uneven_light` above capture.max_light_gradient_pct.",
    ),
    spec(
        "capture_light_gradient_deg",
        "deg",
        "Direction in which that plane brightens, counter-clockwise from +x as displayed (0-360).",
    ),
    spec(
        "capture_light_relief_deg",
        "deg",
        "Light direction from the relief's shading: axis (0-180, counter-clockwise from +x as displayed) of the structure tensor of the band-passed luminance gradients (an oblique light shades slopes along its azimuth; light from the opposite side gives the same axis).",
    ),
    spec(
        "capture_light_relief_coherence",
        "1",
        "Strength of that axis, 0 (diffuse light, isotropic shading) to 1.",
    ),
    spec(
        "capture_light_lr_ratio",
        "1",
        "Face: median luminance of the subject's left cheek over the right; flag `uneven_light` when beyond capture.max_light_ratio either way.",
    ),
    spec(
        "capture_light_tb_ratio",
        "1",
        "Face: median luminance of the forehead over the chin; flag `uneven_light` when beyond capture.max_light_ratio either way.",
    ),
    spec(
        "capture_specular_share",
        "1",
        "Share of skin samples that are glare (brighter than median L* + face.skin_k_glare robust SDs and chroma below face.skin_glare_chroma_ratio x the median); flag `specular` above capture.max_specular_share.",
    ),
    spec(
        "capture_yaw_deg",
        "deg",
        "Face: head yaw from the mesh (cheek edges' depth difference); > 0 head turned to the subject's left; flag `head_turned` beyond capture.max_yaw_deg.",
    ),
    spec(
        "capture_pitch_deg",
        "deg",
        "Face: head pitch from the mesh (forehead top to chin depth difference); > 0 chin farther (tilted down). Not 0 on a frontal face (the forehead slopes back): compared between visits only.",
    ),
    spec(
        "capture_roll_deg",
        "deg",
        "Face: in-plane tilt of the line between the eye centres, counter-clockwise as displayed; flag `head_rolled` beyond capture.max_roll_deg.",
    ),
    spec(
        "capture_mouth_open",
        "1",
        "Face: inner lip gap / mouth width; flag `mouth_open` above capture.max_mouth_open.",
    ),
    spec(
        "capture_smile",
        "1",
        "Face: mouth width / inter-ocular distance; flag `smiling` above capture.max_smile.",
    ),
    spec(
        "capture_brows_raised",
        "1",
        "Face: mean brow-to-eye-centre distance / inter-ocular distance; flag `brows_raised` above capture.max_brows_raised.",
    ),
    spec(
        "capture_eye_opening",
        "1",
        "Face: mean eye aspect ratio (lid gap / eye width); flag `eyes_closed` below capture.min_eye_opening.",
    ),
    spec(
        "capture_face_size_px",
        "px",
        "Face: forehead top to chin (mesh landmarks 10 and 152); flag `small_face` below capture.min_face_size_px.",
    ),
];

/// Text columns after [`COLUMNS`].
pub const TEXT_COLUMNS: &[ColumnSpec] = &[
    spec(
        "capture_wb_source",
        "",
        "Source of the white balance estimate: `skin` (the skin's colour, no chart); `chart` (the colour chart's neutral patches, when a chart is found or given by chart_box).",
    ),
    spec(
        "capture_flags",
        "",
        "Capture checks that failed, `;`-separated (blurred, underexposed, overexposed, clipped, colour_cast, uneven_light, specular, head_turned, head_rolled, mouth_open, smiling, brows_raised, eyes_closed, small_face); empty when every measured check passes. A check whose value is missing is not made (see capture_missing_reasons).",
    ),
    spec(
        "capture_missing_reasons",
        "",
        "For every empty capture_* cell: `column: reason`, separated by `; `.",
    ),
];

/// Index of a column of [`COLUMNS`] by name.
///
/// # Panics
/// When `name` is not a capture column (a programming error).
pub fn column_index(name: &str) -> usize {
    COLUMNS
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no capture column {name}"))
}

/// The face geometry the pose and expression are measured on.
#[derive(Debug, Clone, Copy)]
pub struct FaceGeometry<'a> {
    /// The 468 mesh landmarks `[x, y, z]`, px, z larger = farther.
    pub landmarks: &'a [[f64; 3]],
}

/// What the capture quality is measured on.
pub struct CaptureInput<'a> {
    pub planes: &'a ColourPlanes,
    /// The measured skin (the `face` zone or the whole image).
    pub skin: &'a Mask,
    /// Every zone of the image (the face zones for the left/right and top/bottom ratios).
    pub zones: &'a [Zone],
    pub face: Option<FaceGeometry<'a>>,
    pub px_per_mm: Option<f64>,
    pub params: &'a CaptureParams,
    pub face_params: &'a FaceParams,
    /// Mean linear RGB of a colour chart's neutral patches, white to black, when the photo has
    /// a chart (`crate::chart::ChartFit::neutrals`): the white balance then comes from them.
    pub chart_neutrals: Option<[[f64; 3]; NEUTRALS]>,
}

/// `capture_wb_source` when the white balance comes from the skin.
pub const WB_SOURCE_SKIN: &str = "skin";
/// `capture_wb_source` when the white balance comes from a colour chart's neutral patches.
pub const WB_SOURCE_CHART: &str = "chart";

/// White balance from a colour chart's neutral patches (see the module doc):
/// `[hue_deg, r_over_g, b_over_g]`. Patches with a channel clipped at either end are left out.
///
/// # Errors
/// Missing when every neutral patch is clipped.
pub fn neutral_white_balance(neutrals: &[[f64; 3]; NEUTRALS]) -> Result<[f64; 3], Missing> {
    let reference = reference_linear_rgb();
    let (mut measured, mut published) = ([0.0f64; 3], [0.0f64; 3]);
    let mut n = 0usize;
    for (k, patch) in neutrals.iter().enumerate() {
        let clipped = patch.iter().any(|&v| {
            v <= f64::from(CLIP_LOW_LINEAR) || v >= f64::from(CLIP_HIGH_LINEAR) || !v.is_finite()
        });
        if clipped {
            continue;
        }
        for c in 0..3 {
            measured[c] += patch[c];
            published[c] += reference[FIRST_NEUTRAL + k][c];
        }
        n += 1;
    }
    if n == 0 {
        return Err(Missing::new("every neutral patch of the chart is clipped"));
    }
    let gain: [f64; 3] = std::array::from_fn(|c| measured[c] / published[c]);
    let lab = linear_rgb_to_lab(measured.map(|v| v / n as f64));
    Ok([
        lab[2].atan2(lab[1]).to_degrees(),
        gain[0] / gain[1],
        gain[2] / gain[1],
    ])
}

/// The capture quality of one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureQuality {
    /// Aligned with [`COLUMNS`].
    pub values: Vec<MetricValue>,
    /// `capture_wb_source`.
    pub wb_source: String,
    /// The failed checks.
    pub flags: Vec<String>,
}

impl CaptureQuality {
    /// The value of a column of [`COLUMNS`], when measured.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values
            .get(column_index(name))
            .and_then(|v| v.as_ref().ok().copied())
    }
}

/// One decimated skin sample.
struct Sample {
    x: f64,
    y: f64,
    lum: f32,
    lab: [f32; 3],
    rgb: [f32; 3],
    clipped_low: bool,
    clipped_high: bool,
}

/// Every `stride`-th pixel of `mask` in both directions, stride chosen so that at most
/// [`MAX_SAMPLES`] are taken.
fn skin_samples(planes: &ColourPlanes, mask: &Mask) -> Vec<Sample> {
    let area = mask.area_px();
    if area == 0 {
        return Vec::new();
    }
    let stride = ((area as f64 / MAX_SAMPLES as f64).sqrt().ceil() as usize).max(1);
    let cols = mask.width();
    let [mut l, mut a, mut b] = std::array::from_fn(|_| vec![0f32; cols]);
    let [mut r, mut g, mut bl] = std::array::from_fn(|_| vec![0f32; cols]);
    let mut out = Vec::with_capacity(area / (stride * stride) + 1);
    for row in (0..mask.height()).step_by(stride) {
        let y = mask.y0 + row;
        planes.lab_row(y, mask.x0, cols, &mut l, &mut a, &mut b);
        planes.linear_row(y, mask.x0, &mut r, &mut g, &mut bl);
        for col in (0..cols).step_by(stride) {
            if !mask.bits[[row, col]] {
                continue;
            }
            let rgb = [r[col], g[col], bl[col]];
            out.push(Sample {
                x: (mask.x0 + col) as f64,
                y: y as f64,
                lum: 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2],
                lab: [l[col], a[col], b[col]],
                rgb,
                clipped_low: rgb.iter().any(|&c| c <= CLIP_LOW_LINEAR),
                clipped_high: rgb.iter().any(|&c| c >= CLIP_HIGH_LINEAR),
            });
        }
    }
    out
}

/// Median luminance of `mask`'s decimated pixels.
fn median_luminance(planes: &ColourPlanes, mask: &Mask) -> Option<f64> {
    let mut v: Vec<f64> = skin_samples(planes, mask)
        .iter()
        .map(|s| f64::from(s.lum))
        .collect();
    median(&mut v)
}

/// Least-squares plane of ln Y: (percent change to a typical point, direction deg).
fn light_gradient(samples: &[Sample]) -> Option<(f64, f64)> {
    let pts: Vec<(f64, f64, f64)> = samples
        .iter()
        .filter(|s| s.lum > 0.0)
        .map(|s| (s.x, s.y, f64::from(s.lum).ln()))
        .collect();
    if pts.len() < 100 {
        return None;
    }
    let n = pts.len() as f64;
    let (mx, my, mz) = pts.iter().fold((0.0, 0.0, 0.0), |(a, b, c), p| {
        (a + p.0 / n, b + p.1 / n, c + p.2 / n)
    });
    let (mut sxx, mut syy, mut sxy, mut sxz, mut syz) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(x, y, z) in &pts {
        let (dx, dy, dz) = (x - mx, y - my, z - mz);
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
        sxz += dx * dz;
        syz += dy * dz;
    }
    let det = sxx * syy - sxy * sxy;
    if det.abs() <= f64::EPSILON * sxx * syy || sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let gx = (sxz * syy - syz * sxy) / det;
    let gy = (syz * sxx - sxz * sxy) / det;
    let radius = ((sxx + syy) / n).sqrt();
    let deg = (-gy).atan2(gx).to_degrees().rem_euclid(360.0);
    Some((100.0 * gx.hypot(gy) * radius, deg))
}

/// The square skin tiles (top-left corners) of side `side` px: a grid over the mask's box,
/// keeping tiles with at least 90 % skin, at most [`MAX_TILES`] evenly spread.
fn skin_tiles(mask: &Mask, side: usize) -> Vec<(usize, usize)> {
    let (h, w) = (mask.height(), mask.width());
    if h < side || w < side {
        return Vec::new();
    }
    let mut tiles = Vec::new();
    let (ox, oy) = ((w % side) / 2, (h % side) / 2);
    for r in (oy..=h - side).step_by(side) {
        for c in (ox..=w - side).step_by(side) {
            let inside = mask
                .bits
                .slice(ndarray::s![r..r + side, c..c + side])
                .iter()
                .filter(|&&b| b)
                .count();
            if inside * 100 >= 90 * side * side {
                tiles.push((mask.x0 + c, mask.y0 + r));
            }
        }
    }
    if tiles.len() > MAX_TILES {
        let n = tiles.len();
        tiles = (0..MAX_TILES).map(|i| tiles[i * n / MAX_TILES]).collect();
    }
    tiles
}

/// Luminance contrast of a tile: Y / mean − 1 (`None` for a black tile).
fn tile_contrast(planes: &ColourPlanes, x0: usize, y0: usize, side: usize) -> Option<Array2<f32>> {
    let mut t = Array2::<f32>::zeros((side, side));
    for (i, mut row) in t.outer_iter_mut().enumerate() {
        planes.luminance_row(
            y0 + i,
            x0,
            row.as_slice_mut().expect("fresh standard-layout array"),
        );
    }
    let mean = t.iter().map(|&v| f64::from(v)).sum::<f64>() / t.len() as f64;
    if mean <= 0.0 {
        return None;
    }
    let inv = (1.0 / mean) as f32;
    t.mapv_inplace(|v| v * inv - 1.0);
    Some(t)
}

/// Band-pass energy sums on one tile: (Σ fine², Σ coarse², structure tensor (Σ gx² − gy',
/// Σ 2 gx gy', Σ gx² + gy²), interior pixels).
fn tile_energies(t: &Array2<f32>, fine: f64, coarse: f64) -> ([f64; 2], [f64; 3], usize) {
    let margin = (3.0 * coarse).ceil() as usize + 1;
    let side = t.nrows();
    let gf = gaussian_blur(t.view(), fine as f32);
    let gc = gaussian_blur(t.view(), coarse as f32);
    let lap = |g: &Array2<f32>, r: usize, c: usize| {
        f64::from(g[[r - 1, c]] + g[[r + 1, c]] + g[[r, c - 1]] + g[[r, c + 1]] - 4.0 * g[[r, c]])
    };
    let (sf, sc) = (fine * fine, coarse * coarse);
    let mut e = [0.0; 2];
    let mut j = [0.0; 3];
    let mut n = 0;
    for r in margin..side.saturating_sub(margin) {
        for c in margin..side.saturating_sub(margin) {
            e[0] += (sf * lap(&gf, r, c)).powi(2);
            e[1] += (sc * lap(&gc, r, c)).powi(2);
            let gx = 0.5 * f64::from(gc[[r, c + 1]] - gc[[r, c - 1]]);
            // y up, as displayed.
            let gy = -0.5 * f64::from(gc[[r + 1, c]] - gc[[r - 1, c]]);
            j[0] += gx * gx - gy * gy;
            j[1] += 2.0 * gx * gy;
            j[2] += gx * gx + gy * gy;
            n += 1;
        }
    }
    (e, j, n)
}

/// Sharpness and the relief's light axis, from the skin tiles.
fn relief_measures(input: &CaptureInput<'_>) -> [MetricValue; 3] {
    let Some(ppm) = input.px_per_mm else {
        return std::array::from_fn(|_| Err(Missing::new("uncalibrated")));
    };
    let fine = (input.params.sharpness_scale_mm * ppm).max(MIN_FINE_SIGMA_PX);
    let coarse = COARSE_OVER_FINE * fine;
    let side = ((24.0 * coarse).ceil() as usize).max(64);
    let tiles = skin_tiles(input.skin, side);
    if tiles.is_empty() {
        let reason = format!("no skin tile of {side} x {side} px (24 x the coarse scale)");
        return std::array::from_fn(|_| Err(Missing::new(reason.clone())));
    }
    let mut e = [0.0; 2];
    let mut j = [0.0; 3];
    for &(x0, y0) in &tiles {
        let Some(t) = tile_contrast(input.planes, x0, y0, side) else {
            continue;
        };
        let (te, tj, _) = tile_energies(&t, fine, coarse);
        e[0] += te[0];
        e[1] += te[1];
        j.iter_mut().zip(tj).for_each(|(a, b)| *a += b);
    }
    let sharp = if e[1] > 0.0 {
        Ok(e[0] / e[1])
    } else {
        Err(Missing::new("no contrast on the skin"))
    };
    let (deg, coh) = if j[2] > 0.0 {
        (
            Ok((0.5 * j[1].atan2(j[0]).to_degrees()).rem_euclid(180.0)),
            Ok(j[0].hypot(j[1]) / j[2]),
        )
    } else {
        let m = || Err(Missing::new("no contrast on the skin"));
        (m(), m())
    };
    [sharp, deg, coh]
}

fn dist(p: [f64; 3], q: [f64; 3]) -> f64 {
    (p[0] - q[0]).hypot(p[1] - q[1])
}

fn mid(p: [f64; 3], q: [f64; 3]) -> [f64; 3] {
    [
        0.5 * (p[0] + q[0]),
        0.5 * (p[1] + q[1]),
        0.5 * (p[2] + q[2]),
    ]
}

/// Angle of the depth change along `p → q` against the image plane, deg.
fn depth_angle(p: [f64; 3], q: [f64; 3]) -> f64 {
    (q[2] - p[2]).atan2(dist(p, q)).to_degrees()
}

/// Pose and expression from the mesh landmarks, in [`COLUMNS`] order from `capture_yaw_deg`
/// to `capture_face_size_px`.
pub fn face_measures(lm: &[[f64; 3]]) -> Option<[f64; 8]> {
    if lm.len() < 468 {
        return None;
    }
    let right_eye = mid(lm[33], lm[133]);
    let left_eye = mid(lm[362], lm[263]);
    let iod = dist(right_eye, left_eye);
    let mouth = dist(lm[61], lm[291]);
    if iod <= 0.0 || mouth <= 0.0 {
        return None;
    }
    let yaw = depth_angle(lm[234], lm[454]);
    let pitch = depth_angle(lm[10], lm[152]);
    let roll = (-(left_eye[1] - right_eye[1]))
        .atan2(left_eye[0] - right_eye[0])
        .to_degrees();
    let mouth_open = dist(lm[13], lm[14]) / mouth;
    let smile = mouth / iod;
    let brows = 0.5 * (dist(lm[105], right_eye) + dist(lm[334], left_eye)) / iod;
    let ear = |up: usize, down: usize, a: usize, b: usize| {
        let w = dist(lm[a], lm[b]);
        if w > 0.0 {
            dist(lm[up], lm[down]) / w
        } else {
            0.0
        }
    };
    let eyes = 0.5 * (ear(159, 145, 33, 133) + ear(386, 374, 362, 263));
    let size = dist(lm[10], lm[152]);
    Some([yaw, pitch, roll, mouth_open, smile, brows, eyes, size])
}

/// Measure the capture quality of one photo and make its checks.
pub fn measure_capture(input: &CaptureInput<'_>) -> CaptureQuality {
    let mut values: Vec<MetricValue> = vec![Err(Missing::new("not measured")); COLUMNS.len()];
    let mut set = |name: &str, v: MetricValue| values[column_index(name)] = v;
    let samples = skin_samples(input.planes, input.skin);
    let no_skin = || Err(Missing::new("no skin pixels"));
    if samples.is_empty() {
        for name in [
            "capture_l_median",
            "capture_clipped_dark",
            "capture_clipped_bright",
            "capture_wb_hue_deg",
            "capture_wb_r_over_g",
            "capture_wb_b_over_g",
            "capture_specular_share",
        ] {
            set(name, no_skin());
        }
    } else {
        let n = samples.len() as f64;
        let mut l: Vec<f64> = samples.iter().map(|s| f64::from(s.lab[0])).collect();
        let mut a: Vec<f64> = samples.iter().map(|s| f64::from(s.lab[1])).collect();
        let mut b: Vec<f64> = samples.iter().map(|s| f64::from(s.lab[2])).collect();
        let mut c: Vec<f64> = samples
            .iter()
            .map(|s| f64::from(s.lab[1]).hypot(f64::from(s.lab[2])))
            .collect();
        let ml = median(&mut l).unwrap_or(f64::NAN);
        let ma = median(&mut a).unwrap_or(f64::NAN);
        let mb = median(&mut b).unwrap_or(f64::NAN);
        let mc = median(&mut c).unwrap_or(f64::NAN);
        let mut dev: Vec<f64> = l.iter().map(|v| (v - ml).abs()).collect();
        let sd_l = 1.4826 * median(&mut dev).unwrap_or(0.0);
        let share =
            |f: &dyn Fn(&Sample) -> bool| samples.iter().filter(|s| f(s)).count() as f64 / n;
        set("capture_l_median", Ok(ml));
        set("capture_clipped_dark", Ok(share(&|s| s.clipped_low)));
        set("capture_clipped_bright", Ok(share(&|s| s.clipped_high)));
        set("capture_wb_hue_deg", Ok(mb.atan2(ma).to_degrees()));
        let chan = |k: usize| samples.iter().map(|s| f64::from(s.rgb[k])).sum::<f64>() / n;
        let (mr, mg, mbl) = (chan(0), chan(1), chan(2));
        let over_g = |x: f64| {
            if mg > 0.0 {
                Ok(x / mg)
            } else {
                Err(Missing::new("skin green mean is 0"))
            }
        };
        set("capture_wb_r_over_g", over_g(mr));
        set("capture_wb_b_over_g", over_g(mbl));
        let fp = input.face_params;
        set(
            "capture_specular_share",
            Ok(share(&|s| {
                f64::from(s.lab[0]) > ml + fp.skin_k_glare * sd_l
                    && f64::from(s.lab[1]).hypot(f64::from(s.lab[2]))
                        < fp.skin_glare_chroma_ratio * mc
            })),
        );
    }
    match light_gradient(&samples) {
        Some((pct, deg)) => {
            set("capture_light_gradient_pct", Ok(pct));
            set("capture_light_gradient_deg", Ok(deg));
        }
        None => {
            let r = || Err(Missing::new("fewer than 100 skin samples"));
            set("capture_light_gradient_pct", r());
            set("capture_light_gradient_deg", r());
        }
    }
    let [sharp, relief_deg, relief_coh] = relief_measures(input);
    set("capture_sharpness", sharp);
    set("capture_light_relief_deg", relief_deg);
    set("capture_light_relief_coherence", relief_coh);
    let zone_lum = |name: &str| {
        input
            .zones
            .iter()
            .find(|z| z.name == name)
            .and_then(|z| median_luminance(input.planes, &z.mask))
    };
    let ratio = |num: &str, den: &str| -> MetricValue {
        if input.face.is_none() {
            return Err(Missing::new("no face (close-up)"));
        }
        match (zone_lum(num), zone_lum(den)) {
            (Some(p), Some(q)) if q > 0.0 => Ok(p / q),
            _ => Err(Missing::new(format!("zone {num} or {den} empty"))),
        }
    };
    set("capture_light_lr_ratio", ratio("cheek_left", "cheek_right"));
    set("capture_light_tb_ratio", ratio("forehead", "chin"));
    const FACE: [&str; 8] = [
        "capture_yaw_deg",
        "capture_pitch_deg",
        "capture_roll_deg",
        "capture_mouth_open",
        "capture_smile",
        "capture_brows_raised",
        "capture_eye_opening",
        "capture_face_size_px",
    ];
    match input.face.map(|f| face_measures(f.landmarks)) {
        Some(Some(v)) => FACE.iter().zip(v).for_each(|(n, x)| set(n, Ok(x))),
        Some(None) => FACE
            .iter()
            .for_each(|n| set(n, Err(Missing::new("face landmarks degenerate")))),
        None => FACE
            .iter()
            .for_each(|n| set(n, Err(Missing::new("no face (close-up)")))),
    }
    let wb_source = match &input.chart_neutrals {
        Some(neutrals) => {
            let wb = neutral_white_balance(neutrals);
            let names = [
                "capture_wb_hue_deg",
                "capture_wb_r_over_g",
                "capture_wb_b_over_g",
            ];
            for (k, name) in names.iter().enumerate() {
                set(name, wb.as_ref().map(|v| v[k]).map_err(Clone::clone));
            }
            WB_SOURCE_CHART
        }
        None => WB_SOURCE_SKIN,
    };
    let values: Vec<MetricValue> = values
        .into_iter()
        .map(|v| match v {
            Ok(x) if !x.is_finite() => Err(Missing::new("not a finite number")),
            v => v,
        })
        .collect();
    let mut quality = CaptureQuality {
        values,
        wb_source: wb_source.to_owned(),
        flags: Vec::new(),
    };
    quality.flags = capture_flags(&quality, input.params);
    quality
}

/// The checks of [`CaptureParams`] that `q` fails, in a fixed order.
pub fn capture_flags(q: &CaptureQuality, p: &CaptureParams) -> Vec<String> {
    let v = |name: &str| q.get(name);
    let above = |name: &str, max: f64| v(name).is_some_and(|x| x > max);
    let below = |name: &str, min: f64| v(name).is_some_and(|x| x < min);
    let beyond_ratio = |name: &str| v(name).is_some_and(|x| x.ln().abs() > p.max_light_ratio.ln());
    let clipped =
        v("capture_clipped_dark").unwrap_or(0.0) + v("capture_clipped_bright").unwrap_or(0.0);
    let colour_cast = if q.wb_source == WB_SOURCE_CHART {
        match (v("capture_wb_r_over_g"), v("capture_wb_b_over_g")) {
            (Some(r), Some(b)) if r > 0.0 && b > 0.0 => r.ln().hypot(b.ln()) > p.max_neutral_cast,
            _ => false,
        }
    } else {
        below("capture_wb_hue_deg", p.min_skin_hue_deg)
            || above("capture_wb_hue_deg", p.max_skin_hue_deg)
    };
    let checks: [(&str, bool); 14] = [
        ("blurred", below("capture_sharpness", p.min_sharpness)),
        ("underexposed", below("capture_l_median", p.min_l_median)),
        ("overexposed", above("capture_l_median", p.max_l_median)),
        ("clipped", clipped > p.max_clipped_share),
        ("colour_cast", colour_cast),
        (
            "uneven_light",
            above("capture_light_gradient_pct", p.max_light_gradient_pct)
                || beyond_ratio("capture_light_lr_ratio")
                || beyond_ratio("capture_light_tb_ratio"),
        ),
        (
            "specular",
            above("capture_specular_share", p.max_specular_share),
        ),
        (
            "head_turned",
            v("capture_yaw_deg").is_some_and(|x| x.abs() > p.max_yaw_deg),
        ),
        (
            "head_rolled",
            v("capture_roll_deg").is_some_and(|x| x.abs() > p.max_roll_deg),
        ),
        ("mouth_open", above("capture_mouth_open", p.max_mouth_open)),
        ("smiling", above("capture_smile", p.max_smile)),
        (
            "brows_raised",
            above("capture_brows_raised", p.max_brows_raised),
        ),
        (
            "eyes_closed",
            below("capture_eye_opening", p.min_eye_opening),
        ),
        (
            "small_face",
            below("capture_face_size_px", p.min_face_size_px),
        ),
    ];
    checks
        .into_iter()
        .filter(|(_, failed)| *failed)
        .map(|(name, _)| name.to_owned())
        .collect()
}
