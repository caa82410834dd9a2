//! Fine lines: long, continuous valleys of the pseudo-height that stand out from the skin's own
//! texture, excluding the furrow network and hairs.
//!
//! A fine line (wrinkle) is a valley of the pseudo-height z (see [`super::height`]; depressions
//! are darker, z < 0 on the valley floor) 0.15-1.5 mm wide and several mm long. Skin also has
//! a polygonal network of furrows (cells 0.3-1 mm, 10-40 µm deep), pores and hairs; each of these
//! gives valley responses pixel by pixel. What sets a wrinkle apart is physical: it is wider
//! than the furrows, continuous over millimetres in one smoothly turning direction (the network
//! turns at every cell), and it is relief, not a dark fibre lying on the skin.
//!
//! # Method
//! 0. **One working resolution** (`lines.working_px_per_mm`, 12 px/mm): a photo sampled more
//!    finely is area-averaged to it first (`crate::imgops::resample`), and steps 1-5 run on
//!    that grid, so that what the detector sees as the skin's texture, how far a path may turn
//!    per mm and how the thinning and end trimming cut do not depend on the camera. 12 px/mm
//!    keeps the narrowest wrinkle (0.15 mm at half depth, σ = 0.09 mm) at a scale of at least
//!    one grid pixel. The cross-sections of step 4 (width, hair test) are measured on the
//!    photo's own pixels: a 0.05 mm hair would lose half its contrast on the coarser grid.
//!    Lines come back as skeletons in the photo's pixels.
//! 1. **Valley strength against texture** ([`strength`]): the σ²-normalised Hessian valley
//!    response at scales from `min_width_mm` to `max_width_mm`, with Frangi's blobness and a
//!    two-sided test, each scale divided by the texture level of the zone at that scale
//!    (`texture_factor` × its `texture_quantile`, at least `texture_floor`): a signal-to-texture
//!    ratio SNR, its best scale σ* and direction θ.
//! 2. **Path evidence** ([`crate::imgops::paths`]): the excess SNR collected along the best
//!    smooth path through each pixel (Page's CUSUM over paths that turn by at most 11.25° per
//!    step, `path_turn_penalty_mm` per turn, SNR capped at `path_strength_cap`), in mm. A pixel
//!    belongs to a line only where it is at least `min_path_evidence_mm`: the furrow network,
//!    short pieces and spurs collect little, a wrinkle collects all along its length.
//! 3. **Regions and skeletons**: hysteresis on the SNR of those pixels (`snr_low`/`snr_high`,
//!    Canny 1986), each region trimmed where its SNR falls below `line_end_fraction` of its
//!    own level there (the 90th percentile of the region's SNR within 1.5-3 mm, so that a hair
//!    lying across a wrinkle does not set the wrinkle's level; its ends, not a weaker section
//!    between two pieces that are lines on their own), holes under 1 mm² filled, Guo-Hall
//!    thinning, spurs shorter than the local width or 0.5 mm pruned, hooked ends trimmed;
//!    pieces whose ends face each other across at most `bridge_gap_mm` (directions within
//!    30°, mean SNR on the gap ≥ `bridge_strength_fraction · snr_low`) joined (`skeleton.rs`).
//! 4. **Lines**: skeletons whose length and end-to-end span reach `min_length_mm`, and whose
//!    span is at least `min_aspect_ratio` widths, measured across (`profile.rs`): width (FWHM)
//!    and contrast of the cross-section. Narrow, dark lines are hairs, not fine lines.
//! 5. **One valley, counted once** (`skeleton.rs`): a wide wrinkle under coaxial
//!    light shows both its walls as dark lines, its floor lit between them. A line that runs,
//!    for most of its pixels, beside a longer one (within the sum of their widths, across it,
//!    directions within 20°) is that valley's other wall and is not counted. A line that only
//!    touches another over part of its length (a crossing, a piece continuing it) is kept.
//!    Two lines that continue one valley, in line or with a sideways step (an end of each,
//!    outward directions opposite within 30°, at most `bridge_gap_mm` apart along the line,
//!    overlapping or not, and at most the sum of their widths across it: the skeleton passing
//!    from one wall to the other, or a wrinkle cut where a hair crossing it was taken out, where
//!    the gap bridging of step 3 does not join them) are one line, their lengths added. Here
//!    a line's ends are found by its geometry, not its skeleton's topology: the tips farthest
//!    along its principal axis, each with the direction of the skeleton 1-3 mm behind it
//!    (`2·bridge_gap_mm`), so that a tip hooked along a crossing hair for a few pixels, or
//!    closing a small loop with no end point, does not hide the continuation. On the
//!    validation set this made line counts within ±1 77.1 -> 83.3 % (1036, 1039, 1042: a
//!    wrinkle in 2-3 pieces cut at hair crossings, one line fewer each), training 85.4 % unchanged
//!    (5030 and 5044 one line fewer each), lengths unchanged.
//! 6. **Hairs by their colour** ([`LineDetection::drop_coloured_hairs`], on the photo's
//!    colour): a line at most twice `hair_max_width_mm` wide that darkens red more than blue
//!    (median `OD_B / OD_R` below `hair_max_chroma_ratio`) is a pigmented fibre lying on the
//!    skin, not relief (`profile.rs`, Hair by its colour). Camera blur widens a hair past the
//!    width test of step 4 (0.24 mm measured on blurred phantoms). Measured 2026-12-08: training
//!    median |length error| 19.7 -> 16.9 %, count within ±1 85.4 -> 87.5 %, hair taken for a
//!    line 2.3 -> 1.0 %, false lines on clean skin 0.34 -> 0.14 mm/cm²; validation 12.9 ->
//!    12.0 %, 83.3 -> 87.5 %, 2.0 -> 1.1 %, 0.20 -> 0.12 mm/cm². A hair lying along a wrinkle
//!    takes the wrinkle's piece under it (validation 1039: 3.9 mm), and where hairs stood in
//!    for missed wrinkle length the error grows (training 5021, 5027). Wider lines are not
//!    tested: under coaxial light subsurface scattering carries a wide valley's shaded walls'
//!    lack of red into its lit floor (a 1.2 mm wrinkle measured 0.8).
//! 7. **Pit walls** ([`LineDetection::drop_pit_walls`], once the zone's scars are known): a
//!    line with most of its skeleton within a detected scar's radius plus half the line's
//!    width is the pit's wall (a steep wall under oblique light is a dark crescent), not a
//!    wrinkle. A wrinkle passing by or through a scar keeps its whole length.
//!
//! ```text
//! length   = Σ over skeleton pixels 1/max(|cos θ|, |sin θ|) px (+ bridged gaps)
//! width    = median cross-section FWHM                     [mm]
//! depth    = mean over the skeleton of (z(p + w·n) + z(p − w·n))/2 − z(p),  w = 1.6651·σ*
//! orientation, anisotropy = doubled-angle mean of θ (length-weighted), its resultant length
//! ```
//! Each skeleton pixel counts `1 / max(|cos θ|, |sin θ|)` px, the length a digital straight line
//! at angle θ has per pixel, unbiased at every angle (the chain code is ≈ 8 % long at 22.5°).
//!
//! **Why one working resolution.** Tried on the same 24 training phantoms rendered at 12, 20
//! and 36 px/mm, the lines measured at the photo's own resolution differed between 20 and
//! 36 px/mm by a median 11.8 % of the true length (mean 19.7 %); on the 12 px/mm grid by
//! 2.3 % (mean 16.4 %: below 12 px/mm the photos themselves hold less, noise and JPEG blocks
//! included). On the training set (48 + 16 phantoms, 8-40 px/mm) the false line length fell
//! from 308 to 227 mm for the same on-wrinkle length (1106 of 1453 mm), hair taken for a line
//! 2.9 % -> 2.5 %, count within ±1 75 % -> 83 %; re-takes of 12 realistic skins (20 px/mm)
//! repeat better (CV of `lines_length_mm` 10.1 % -> 7.0 %, ICC 0.937 -> 0.963). Grids of
//! 8-24 px/mm were tried (training false length 163-310 mm, falling with the grid; on-wrinkle
//! length 1106-1133 mm from 10 px/mm up, 1083 mm at 8): 12 is the coarsest grid that keeps the
//! narrowest wrinkle at one pixel σ, not the best of the tries (10 px/mm: 218 mm false,
//! re-take CV 9.9 %). Lowering the thresholds on the 12 px/mm grid to spend the false length
//! saved buys little: `snr_high` 2.2 adds 3 mm on wrinkles for 21 mm false, `texture_factor`
//! 1.5 15 mm for 101 mm, `min_path_evidence_mm` 5 7 mm for 23 mm; the wrinkle length missed
//! is not near a threshold.
//!
//! # Alternatives measured and not used
//! - **Oriented, elongated valley filters** (the second derivative across 12 directions,
//!   averaged along each over a Gaussian 3σ long, sheared 1-D filter of Geusebroek et al. 2003,
//!   doi:10.1109/TIP.2003.812429) instead of the isotropic Hessian in step 1. Pixel by pixel they
//!   lift a long valley further above the texture (on the training phantoms 51 % of wrinkle
//!   points above the clean skin's 99th percentile, against 36 %), but the lines gain nothing:
//!   path evidence (step 2) already integrates the SNR along the line. At the texture factor
//!   that keeps today's false line length on clean training skin (2.2), the validation set's
//!   false line length fell 37 % and its true length 3 %, the same trade as raising `snr_high`
//!   to 3.0 (false −27 %, true −4 %), which repeats better on re-takes (12 realistic skins:
//!   within-subject SD of `lines_length_mm` 2.2 mm against 2.6 mm, today 3.5 mm), and they
//!   cost more (the training validation run: 311 s of CPU against 233 s). Lowering its
//!   threshold (factor 1.9) added 1 mm of true length per 5 mm of false (training set).
//! - **Rescuing shorter pieces at the end trimming** (step 3): joining trimmed runs to kept
//!   pieces of half `min_length_mm` instead of `min_length_mm` wins back a little more of
//!   wrinkles whose contrast varies (training set: on-wrinkle length 1112 -> 1124 mm) but joins
//!   texture fragments into lines that come and go between re-takes (false length 335 ->
//!   355 mm; re-takes of 12 realistic skins: CV of `lines_length_mm` 10.9 % -> 14.4 %).
//! - **Lines on a shading plane** instead of the luminance: the optical density split into a
//!   grey part and melanin (`OD_R = g + 0.353 m`, `OD_B = g + m`, as the scars' pigment test
//!   does) and `z = exp(−g) − 1`, so that pigment mottling does not raise the texture level
//!   at the scales of wide wrinkles. On one re-take skin with dark mottling it finds all three
//!   wrinkles (28.1 of 30.0 mm, today 8.3 mm), but on the training set, with every other
//!   parameter as tuned for the luminance, false line length rose from 335 to 1191 mm (hair
//!   as line 2.9 % -> 15.8 %, clean skin 0.32 -> 1.78 mm/cm²) for 85 mm more on wrinkles: the
//!   plane is about twice as noisy (`g = 1.55 OD_R − 0.55 OD_B`), and subsurface scattering
//!   blurs red more than blue, which rings around fine structures. It needs its own texture
//!   calibration and hair test before it can replace the luminance. Used only for the
//!   scales of widths from 0.4 mm up (σ ≥ 0.24 mm, where noise averages out and the
//!   0.025-0.1 mm scattering lengths do not matter; the smaller scales stay on the
//!   luminance, 2026-12-07): on a re-take skin whose wide wrinkles hide among dark melanin
//!   mottling (skin 1502, OD_B/OD_R 2.2-2.6 in the blotches, 1.25 on the wrinkle) the
//!   wrinkles stand out and the blotches fade, but on the training set the median length
//!   error falls only 19.7 -> 16.8 % for count within ±1 85.4 -> 83.3 %, hair as line
//!   2.3 -> 3.9 % and clean-skin false lines 0.34 -> 0.60 mm/cm² (from 0.7 mm up: 22.6 %),
//!   and on the validation set everything is worse (median error 12.9 -> 13.2 %, count
//!   83.3 -> 79.2 %, hair as line 2.0 -> 5.4 %): a hair is grey, and with the mottling gone
//!   the texture level it is compared with falls.
//!
//! - **Removing only the pixels of a line that lie beside a longer one** (step 5), keeping
//!   the rest when it still spans `min_length_mm`: also removes the overlap of pieces that
//!   continue a wrinkle with a sideways offset, so that the continuation falls below the
//!   minimum length and is lost (training phantom 5037: a 12.8 mm wrinkle measured 7.9 mm
//!   instead of 12.6 mm; training median length error 24.2 % against 25.8 %). Re-takes
//!   repeat a little better with it (CV of `lines_length_mm` 9.9 % against 10.1 %), not
//!   enough for the loss. A fixed reach of `max_width_mm` instead of the sum of the two
//!   widths changes nothing on the training set and the re-take CV by 0.1 point.
//! - **A lit wall as evidence of relief in the hair test** (step 4): a narrow dark valley with
//!   a level above its sides within half the profile reach (a wall facing oblique light) kept
//!   as a line even when hair-like. Without any hair test the training wrinkles gain 59 of
//!   1452 mm; with the lit wall at least half the valley's contrast they gain 4 mm (false
//!   length 335 -> 333 mm), at 0.15 of it 13 mm for 65 mm more false length and hair as line
//!   2.9 % -> 4.0 %: the furrows' lit walls and pores beside a hair make the test as likely
//!   on hairs as on wrinkles.
//! - **Filling long thin holes of a line region** (step 3; holes no wider than `max_width_mm`
//!   by 2·area/edge, whatever their area), so that the lit floor between a wide valley's
//!   two walls does not thin into a loop: nothing changes on the training set, and re-takes
//!   repeat worse (CV of `lines_length_mm` 10.2 % -> 11.3 %).
//! - **A texture level per direction** (step 1): under an oblique light the skin's texture
//!   shades most across the light and least along it, and a stretched furrow network is
//!   anisotropic whatever the light, so each scale's level was also taken per line direction
//!   (8 bins of θ, `texture_factor` × the median of the bin's positive responses, linear
//!   between bin centres, at least the zone's level). Measured 2026-12-07: validation set false
//!   line length 172 -> 124 mm for 1270 -> 1257 mm on wrinkles, median |length error| 16.2 ->
//!   15.2 %, but lines counted within ±1 under the ring flash 81 -> 62 % (an isotropic light:
//!   the bins' medians move lines by their own sampling noise); training set false 227 ->
//!   197 mm, on wrinkles 1106 -> 1091 mm, median error 22.9 -> 23.7 %. Letting a bin's level
//!   fall to half the zone's: false 172 -> 111 mm on the validation set, on wrinkles unchanged,
//!   median error 14.7 %, but the re-take test's CV of `lines_length_mm` 6.3 -> 9.3 %. Neither
//!   finds the wrinkles the length error is made of (below).
//!
//! # Limits: which wrinkles are missed
//! The median length error is made of wrinkles missed whole, not of short or broken lines.
//! `skintex validate` counts a wrinkle's centre line as found where a line's skeleton lies
//! within one wrinkle width + 2 px of it, and tabulates it by light ("Wrinkles by light" in
//! docs/VALIDATION.md). On the training set (125 wrinkles, 2026-12-07) 17 have less than 30 %
//! of their length found; 80 % of all wrinkle length is found, 67 % within 0.5 mm of an end
//! (the tapered ends). Under an oblique light, 10 of the 25 wrinkles running within 30° of the
//! light's azimuth are missed against 2 of the 52 others (validation set: 4 of 26 against 3 of
//! 50): a groove lit along its length has no lit and shaded wall, only the second-order
//! darkening of its tilted walls and its cavity (training phantom 5026: 0.30 mm deep, 1.2 mm
//! wide, 4° from the azimuth at 53° elevation, hard to see by eye). Under the ring flash the
//! shallow, gently sloped ones are missed (depth/width under 0.25: training 4 of 12, validation
//! 6 of 15 and 45 % of their length found, against 89-91 % for the steeper ones): on-axis light
//! darkens a wall by about s²/2 for slope s, 2 % at s = 0.2, under the skin's own texture. A
//! single photo cannot show these; cross-lit pairs or a second light direction would.
//!
//! References: Frangi, Niessen, Vincken & Viergever, MICCAI 1998, doi:10.1007/BFb0056195
//! (blobness); Lindeberg, IJCV 30(2), 1998, doi:10.1023/A:1008045108935 (σ² normalisation);
//! Page, Biometrika 41 (1954), doi:10.1093/biomet/41.1-2.100 (CUSUM); Canny 1986,
//! doi:10.1109/TPAMI.1986.4767851 (hysteresis); Ng, Yap, Costen & Li, ACCV 2014 (Hessian
//! wrinkle detection on faces).

mod profile;
mod skeleton;
pub mod strength;

use ndarray::Array2;

use super::height::PseudoHeight;
use super::{ColumnSpec, MetricValue, Missing, SpareThreads, all_missing, finite_or, spec};
use crate::config::LinesParams;
use crate::imgops::components::{Connectivity, drain_components, hysteresis};
use crate::imgops::paths::{PathParams, path_evidence};
use crate::imgops::resample::{area_downsample, fine_position};
use crate::imgops::thinning::thin;
use crate::input::colour::ColourPlanes;
use profile::{chroma_ratio, cross_profile, median_profile, sample_inside};
use skeleton::{
    ContLine, TwinLine, bridge_gaps, continuations, end_extensions, fill_small_holes, find_root,
    other_walls, prune_spurs, skeleton_span_px, trim_end_hooks,
};
pub use strength::{GAUSSIAN_PEAK_RESPONSE, TextureLevel, WIDTH_PER_SIGMA, detection_step};

/// The columns of the lines family, in output order.
pub const COLUMNS: &[ColumnSpec] = &[
    spec(
        "lines_count",
        "1",
        "Number of detected fine lines: valleys of the pseudo-height 0.15-1.5 mm wide \
         (lines.min_width_mm to lines.max_width_mm) whose multi-scale Hessian strength, divided \
         by the zone's own texture level at each scale, is collected over at least \
         lines.min_path_evidence_mm along a smooth path (excluding the furrow network and \
         short pieces), thinned to skeletons at least lines.min_length_mm long; narrow dark \
         lines (hairs: at most lines.hair_max_width_mm wide at half depth and at least \
         lines.hair_min_contrast deep, or at most twice that wide and darker in red than in \
         blue: median OD_B / OD_R across it below lines.hair_max_chroma_ratio) are not \
         counted, nor is a line lying beside a longer \
         one all along (the other wall of one wide valley) or mostly inside a detected scar \
         (the scar's wall). Photos finer than lines.working_px_per_mm (12) are analysed on \
         that grid (area mean), their hair test on the photo's own pixels. 0 when none is \
         found.",
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
        "Length-weighted mean line width: the median full width at half depth of the line's \
         cross-sections of the pseudo-height, measured along the normal at every skeleton \
         pixel. Empty when no line is detected.",
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
        "Area of the detected lines (length x width, summed over lines) divided by the zone \
         area, 0-1.",
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
    /// Width (median cross-section FWHM), mm.
    pub width_mm: f64,
    /// Mean valley contrast relative to the surround (unitless).
    pub depth: f64,
    /// Orientation, degrees in [0, 180), 0 = horizontal.
    pub orientation_deg: f64,
    /// Skeleton pixels in image coordinates (x, y).
    pub skeleton: Vec<(u32, u32)>,
}

/// Spurs shorter than this (mm) or than the local line width are pruned from the skeletons.
const SPUR_MIN_MM: f64 = 0.5;
/// Holes of line regions smaller than this (mm²) are filled before thinning.
const HOLE_MAX_MM2: f64 = 1.0;
/// Number of spur-pruning passes (a second pass removes spurs left on spurs).
const PRUNE_PASSES: usize = 2;

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

/// Per-line accumulators.
#[derive(Default, Clone)]
struct LineAcc {
    length_px: f64,
    depth: f64,
    depth_weight: f64,
    cos2: f64,
    sin2: f64,
    skeleton: Vec<(u32, u32)>,
    /// Scale-space width (image px) at skeleton pixels.
    scale_widths: Vec<f64>,
    /// Cross-section FWHM (image px) and contrast at skeleton pixels that are not hair-like.
    profiles: Vec<(f64, f64)>,
}

impl LineAcc {
    fn absorb(&mut self, other: LineAcc) {
        self.length_px += other.length_px;
        self.depth += other.depth;
        self.depth_weight += other.depth_weight;
        self.cos2 += other.cos2;
        self.sin2 += other.sin2;
        self.skeleton.extend(other.skeleton);
        self.scale_widths.extend(other.scale_widths);
        self.profiles.extend(other.profiles);
    }
}

/// Doubled-angle circular mean (degrees in [0, 180)) and resultant length of weighted
/// (cos 2θ, sin 2θ) sums.
fn doubled_angle_mean(cos2: f64, sin2: f64, weight: f64) -> (f64, f64) {
    let deg = (0.5 * sin2.atan2(cos2)).to_degrees().rem_euclid(180.0);
    let deg = if deg >= 180.0 { 0.0 } else { deg };
    (deg, cos2.hypot(sin2) / weight)
}

/// Widest line, in units of `lines.hair_max_width_mm`, that the colour test may take for a
/// hair: blur widens a hair (at most 0.2 mm, a beard's) to about 0.3 mm at half depth, while a
/// wide valley under coaxial light has its lit floor between two shaded walls, and subsurface
/// scattering carries the walls' lack of red light into that floor (it darkens red more there,
/// as a hair does: a 1.2 mm wrinkle measured 0.8 on a phantom).
const HAIR_COLOUR_WIDTH_FACTOR: f64 = 2.0;

/// Detected lines of one zone, before conversion to columns.
pub struct LineDetection {
    /// Lines kept, in raster order of their first pixel, each with the length-weighted
    /// doubled-angle sums over its skeleton pixels, (Σ w cos 2θ, Σ w sin 2θ), px (one entry,
    /// so that dropping a line drops its sums).
    lines: Vec<(LineRecord, (f64, f64))>,
    /// Skeleton pixels taken for hairs (image coordinates; not counted).
    pub hair_skeleton: Vec<(u32, u32)>,
}

impl LineDetection {
    /// The kept lines, in raster order of their first pixel.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = &LineRecord> {
        self.lines.iter().map(|(line, _)| line)
    }

    /// Area of the kept lines, Σ length × width, px².
    pub fn area_px(&self, px_per_mm: f64) -> f64 {
        self.lines()
            .map(|l| l.length_mm * l.width_mm * px_per_mm * px_per_mm)
            .sum()
    }

    /// The two tips of every kept line (the skeleton pixels farthest along its principal axis
    /// either way) with the line's half width: (x, y, half width), image px.
    pub fn tips(&self, px_per_mm: f64) -> Vec<(f64, f64, f64)> {
        self.lines()
            .flat_map(|l| {
                let half = 0.5 * l.width_mm * px_per_mm;
                skeleton::line_tips(&l.skeleton)
                    .into_iter()
                    .map(move |(x, y)| (x, y, half))
            })
            .collect()
    }

    /// Drop the lines that are the wall of a detected pit, not a wrinkle: a line with most of
    /// its skeleton within a pit's radius plus half the line's width (its band reaches into the
    /// pit) is the pit's rim seen as a valley (an oblique steep wall is a dark crescent), not a
    /// fine line. A wrinkle passing by or through a pit keeps its whole length. `pits`: centre
    /// (image px) and radius (px) of each.
    pub fn drop_pit_walls(&mut self, pits: &[(f64, f64, f64)], px_per_mm: f64) {
        if pits.is_empty() {
            return;
        }
        let inside = |line: &LineRecord| {
            let reach = 0.5 * line.width_mm * px_per_mm;
            let n = line
                .skeleton
                .iter()
                .filter(|&&(x, y)| {
                    pits.iter().any(|&(px, py, r)| {
                        (f64::from(x) - px).hypot(f64::from(y) - py) <= r + reach
                    })
                })
                .count();
            2 * n > line.skeleton.len()
        };
        self.lines.retain(|(line, _)| !inside(line));
    }

    /// Drop the lines whose colour is a hair's (see `profile`, Hair by its colour): at most
    /// `HAIR_COLOUR_WIDTH_FACTOR` × `params.hair_max_width_mm` wide, with a median
    /// `OD_B / OD_R` across the line below `params.hair_max_chroma_ratio` (0 turns the test
    /// off). Their skeletons join the hairs'. `planes`: the photo's colour, in image px as the
    /// skeletons.
    pub fn drop_coloured_hairs(
        &mut self,
        planes: &ColourPlanes,
        px_per_mm: f64,
        params: &LinesParams,
    ) {
        let max_ratio = params.hair_max_chroma_ratio;
        if max_ratio <= 0.0 {
            return;
        }
        let max_width_mm = HAIR_COLOUR_WIDTH_FACTOR * params.hair_max_width_mm;
        let (w, h) = (planes.width() as i64, planes.height() as i64);
        let linear_rb = |x: i64, y: i64| {
            (x >= 0 && y >= 0 && x < w && y < h).then(|| {
                let [r, _, b] = planes.linear_at(y as usize, x as usize);
                (f64::from(r), f64::from(b))
            })
        };
        let mut hairs = Vec::new();
        self.lines.retain(|(line, _)| {
            let hair = line.width_mm <= max_width_mm
                && chroma_ratio(&line.skeleton, line.width_mm * px_per_mm, linear_rb)
                    .is_some_and(|r| r < max_ratio);
            if hair {
                hairs.extend_from_slice(&line.skeleton);
            }
            !hair
        });
        if !hairs.is_empty() {
            self.hair_skeleton.extend(hairs);
            self.hair_skeleton.sort_unstable_by_key(|&(x, y)| (y, x));
            self.hair_skeleton.dedup();
        }
    }
}

/// The detection grid's zone mask: grid sample (r, c) is image pixel (r·step, c·step).
fn grid_mask(mask: &Array2<bool>, step: usize, dim: (usize, usize)) -> Array2<bool> {
    Array2::from_shape_fn(dim, |(r, c)| {
        mask[(
            (r * step).min(mask.nrows() - 1),
            (c * step).min(mask.ncols() - 1),
        )]
    })
}

/// Cells in which a line's own level is taken, as a fraction of the shortest line counted (see
/// [`trim_below_own_level`]): the level of a pixel is that of the region within one to two
/// cells of it, 1.5-3 mm for `lines.min_length_mm` = 3 mm. Measured 2026-12-07 against one
/// level per region: training median |length error| 22.9 -> 17.4 %, lines counted within ±1
/// 83.3 % both; validation 14.3 -> 12.9 % and 83.3 -> 79.2 % (two phantoms with hairs where a
/// weaker piece joined to a hair or a wrinkle is now a line of its own); hair taken for a line
/// 2.5 -> 2.3 % and 2.0 -> 2.0 %. Cells of a whole shortest line gave 21.3 % on the training
/// set, of two 23.1 % (chosen there).
const LEVEL_CELL_FRACTION: f64 = 0.5;

/// Remove from each 8-connected region the pixels whose SNR is below `fraction` of the
/// region's own level there: the 90th percentile of the SNR of the region's pixels in the 3 × 3
/// square cells of side `LEVEL_CELL_FRACTION · min_piece_px` around the pixel's cell (the level
/// of its centre line within 1.5-3 mm for a shortest line of 3 mm). A line ends where its
/// valley has faded to that fraction of its own depth, not where it reaches the texture level
/// (a deep line would otherwise run on through the blur of its tapered end). The level is
/// local because one region can hold more than one structure: a hair lying across a wrinkle
/// (dark and narrow, an SNR several times the wrinkle's) joins the two into one region, and a
/// level taken over the whole region trimmed the wrinkle away as if it were the hair's faded
/// end (validation phantom 1019: a 7.4 mm wrinkle 0.3 mm deep, plainly visible, not found).
///
/// Lines are trimmed at their ends, not cut in two: a weaker section between two stronger ones
/// is still the line (a wrinkle along the edge of a darker patch of skin is a one-sided valley
/// there; its shading changes with its direction under oblique light), not two faded ends. So
/// the centre line of the untrimmed region (its thinning) is put back wherever a run of it that
/// was trimmed joins two kept pieces that each span at least `min_piece_px` (the shortest line
/// counted, `lines.min_length_mm`): two lines become one, and no line is made of fragments
/// that would not count on their own. Runs that touch one such piece only (ends, side
/// branches) and the flanks of the region stay trimmed.
fn trim_below_own_level(
    region: &mut Array2<bool>,
    snr: &Array2<f32>,
    fraction: f32,
    min_piece_px: f64,
) {
    if fraction <= 0.0 {
        return;
    }
    let centre_line = thin(region);
    let cols = region.ncols();
    let mut unvisited = region.as_slice().expect("fresh array").to_vec();
    let values = snr.as_slice().expect("fresh array");
    let out = region.as_slice_mut().expect("fresh array");
    let cell = (LEVEL_CELL_FRACTION * min_piece_px).max(1.0) as usize;
    drain_components(&mut unvisited, cols, Connectivity::Eight, |pixels| {
        // The region's pixels by cell (row-major cell index, then pixel order).
        let cell_of = |i: u32| {
            let (r, c) = (i as usize / cols, i as usize % cols);
            (r / cell, c / cell)
        };
        let mut by_cell: Vec<((usize, usize), u32)> =
            pixels.iter().map(|&i| (cell_of(i), i)).collect();
        by_cell.sort_unstable();
        let cells: Vec<(usize, usize)> = {
            let mut c: Vec<(usize, usize)> = by_cell.iter().map(|p| p.0).collect();
            c.dedup();
            c
        };
        let range_of = |key: (usize, usize)| {
            let lo = by_cell.partition_point(|p| p.0 < key);
            let hi = by_cell.partition_point(|p| p.0 <= key);
            lo..hi
        };
        let mut v: Vec<f32> = Vec::new();
        for &(cr, cc) in &cells {
            v.clear();
            for nr in cr.saturating_sub(1)..=cr + 1 {
                for nc in cc.saturating_sub(1)..=cc + 1 {
                    v.extend(
                        by_cell[range_of((nr, nc))]
                            .iter()
                            .map(|p| values[p.1 as usize]),
                    );
                }
            }
            let k = (v.len() - 1) * 9 / 10;
            let level = *v.select_nth_unstable_by(k, f32::total_cmp).1;
            for &(_, i) in &by_cell[range_of((cr, cc))] {
                if values[i as usize] < fraction * level {
                    out[i as usize] = false;
                }
            }
        }
    });
    // Label the kept pieces, then restore the trimmed runs of the centre line that join two.
    let mut piece = vec![0u32; out.len()];
    let mut unvisited = out.to_vec();
    let mut n = 0u32;
    drain_components(&mut unvisited, cols, Connectivity::Eight, |pixels| {
        let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
        for &i in pixels {
            let (r, c) = (i as usize / cols, i as usize % cols);
            (r0, r1, c0, c1) = (r0.min(r), r1.max(r), c0.min(c), c1.max(c));
        }
        if ((r1 - r0) as f64).hypot((c1 - c0) as f64) < min_piece_px {
            return;
        }
        n += 1;
        for &i in pixels {
            piece[i as usize] = n;
        }
    });
    let rows = out.len() / cols;
    let mut runs: Vec<bool> = centre_line
        .iter()
        .zip(out.iter())
        .map(|(&c, &kept)| c && !kept)
        .collect();
    drain_components(&mut runs, cols, Connectivity::Eight, |pixels| {
        let mut touched: Option<u32> = None;
        let joins = pixels.iter().any(|&i| {
            let (r, c) = (i as usize / cols, i as usize % cols);
            (r.saturating_sub(1)..=(r + 1).min(rows - 1)).any(|rr| {
                (c.saturating_sub(1)..=(c + 1).min(cols - 1)).any(|cc| {
                    let p = piece[rr * cols + cc];
                    p > 0 && *touched.get_or_insert(p) != p
                })
            })
        });
        if joins {
            for &i in pixels {
                out[i as usize] = true;
            }
        }
    });
}

/// Detect the fine lines of one zone (see the module documentation) on `height`. The
/// cross-sections (width, hair test) are measured on `native` when given: the same zone at
/// `factor` times finer sampling (the photo's own pixels), so that a hair keeps its contrast.
fn detect_lines(
    height: &PseudoHeight,
    native: Option<(&PseudoHeight, f64)>,
    params: &LinesParams,
) -> LineDetection {
    let px_per_mm = height.px_per_mm;
    let (profile_z, factor) = native.unwrap_or((height, 1.0));
    // Detection-grid pixel (row, col) of `height` → position in `profile_z`'s pixels.
    let to_profile = |r: f64, c: f64| (fine_position(r, factor), fine_position(c, factor));
    let sigmas = line_scales_px(params, px_per_mm);
    let vs = strength::valley_strength(
        height.z.view(),
        height.mask.view(),
        &sigmas,
        params.blob_beta,
        TextureLevel {
            quantile: params.texture_quantile,
            factor: params.texture_factor,
            floor: params.texture_floor,
        },
    );
    let step = vs.step;
    let stepf = step as f64;
    let grid_per_mm = px_per_mm / stepf;
    let gmask = grid_mask(&height.mask, step, vs.snr.dim());
    let evidence = path_evidence(
        vs.snr.view(),
        vs.direction.view(),
        gmask.view(),
        PathParams {
            bias: 1.0,
            turn_penalty: params.path_turn_penalty_mm as f32,
            length_per_px: (1.0 / grid_per_mm) as f32,
            strength_cap: params.path_strength_cap as f32,
        },
    )
    .evidence;
    let min_ev = params.min_path_evidence_mm as f32;
    let supported = ndarray::Zip::from(&vs.snr)
        .and(&evidence)
        .map_collect(|&s, &e| if e >= min_ev { s } else { 0.0 });
    drop(evidence);
    let low = params.snr_low.min(params.snr_high) as f32;
    let high = params.snr_high as f32;
    let mut region = hysteresis(&supported, low, high);
    trim_below_own_level(
        &mut region,
        &supported,
        params.line_end_fraction as f32,
        params.min_length_mm * grid_per_mm,
    );
    drop(supported);
    fill_small_holes(&mut region, HOLE_MAX_MM2 * grid_per_mm * grid_per_mm);
    let mut skeleton = thin(&region);
    let sigma_at = |p: (usize, usize)| vs.sigma_px[p];
    for _ in 0..PRUNE_PASSES {
        prune_spurs(&mut skeleton, sigma_at, stepf, SPUR_MIN_MM * grid_per_mm);
    }
    trim_end_hooks(
        &mut skeleton,
        sigma_at,
        |p| vs.direction[p],
        stepf,
        SPUR_MIN_MM * grid_per_mm,
    );
    let (grows, gcols) = skeleton.dim();
    let extensions = end_extensions(&skeleton, &region);
    // Cross-sections at every skeleton pixel, and which of them look like a hair.
    let native_per_mm = px_per_mm * factor;
    let along_px = params.profile_along_mm * native_per_mm;
    let profiles: Vec<(usize, Option<(f64, f64)>)> = skeleton
        .indexed_iter()
        .filter(|&(_, &on)| on)
        .map(|((r, c), _)| {
            let sigma = f64::from(vs.sigma_px[(r, c)]);
            let theta = f64::from(vs.direction[(r, c)]);
            let width = if sigma.is_finite() {
                WIDTH_PER_SIGMA * sigma
            } else {
                0.0
            };
            let reach = (params.profile_reach_mm * native_per_mm).max(2.0 * width * factor);
            let p = cross_profile(
                &profile_z.z,
                &profile_z.mask,
                to_profile((r * step) as f64, (c * step) as f64),
                theta,
                reach,
                along_px,
            );
            (r * gcols + c, p)
        })
        .collect();
    // Width in detection-grid pixels, and contrast.
    let profile_at = |i: usize| -> Option<(f64, f64)> {
        profiles
            .binary_search_by_key(&i, |p| p.0)
            .ok()
            .and_then(|k| profiles[k].1)
            .map(|(fwhm, contrast)| (fwhm / factor, contrast))
    };
    // A line cannot look narrower than about two pixels, however thin it is.
    let hair_max_px = (params.hair_max_width_mm * native_per_mm).max(params.hair_max_width_px);
    let hair_like = |p: Option<(f64, f64)>| {
        p.is_some_and(|(fwhm, contrast)| {
            fwhm <= hair_max_px && contrast >= params.hair_min_contrast
        })
    };

    // Hair-like skeleton pixels are taken out (kept apart for the hairs), so a hair crossing a
    // wrinkle does not join it or count; the rest is split into its 8-connected pieces, labelled
    // 1, 2, … in raster order of their first pixel.
    let mut hair_skeleton = Vec::new();
    for (i, p) in &profiles {
        if hair_like(*p) {
            let (r, c) = (i / gcols, i % gcols);
            skeleton[(r, c)] = false;
            hair_skeleton.push(((c * step + height.x0) as u32, (r * step + height.y0) as u32));
        }
    }
    let mut acc = vec![LineAcc::default()];
    let mut skeleton_labels: Vec<(u32, u32)> = Vec::new();
    {
        let mut unvisited = skeleton.as_slice().expect("fresh array").to_vec();
        drain_components(&mut unvisited, gcols, Connectivity::Eight, |pixels| {
            let label = acc.len() as u32;
            acc.push(LineAcc::default());
            skeleton_labels.extend(pixels.iter().map(|&i| (i, label)));
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
    for &((r, c), ext) in &extensions {
        let l = label_at((r, c));
        if l > 0 {
            let theta = f64::from(vs.direction[(r, c)]);
            let a = &mut acc[l];
            a.length_px += ext * stepf;
            a.cos2 += ext * stepf * (2.0 * theta).cos();
            a.sin2 += ext * stepf * (2.0 * theta).sin();
        }
    }
    for &(i, l) in &skeleton_labels {
        let (r, c) = (i as usize / gcols, i as usize % gcols);
        let a = &mut acc[l as usize];
        let sigma = f64::from(vs.sigma_px[(r, c)]);
        let theta = f64::from(vs.direction[(r, c)]);
        // A digital line at angle θ has one skeleton pixel per step along its major axis.
        let w = stepf / theta.cos().abs().max(theta.sin().abs());
        let (ri, ci) = (r * step, c * step);
        if let Some(p) = profile_at(i as usize) {
            a.profiles.push(p);
        }
        a.length_px += w;
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
            a.scale_widths.push(width);
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
    // Bridge gaps: join lines whose skeleton end points face each other across a short gap.
    let bridges = bridge_gaps(
        &skeleton,
        label_at,
        n_labels,
        &vs.snr,
        params.bridge_gap_mm * grid_per_mm,
        (params.bridge_strength_fraction * params.snr_low.min(params.snr_high)) as f32,
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
            acc[root].absorb(moved);
        }
    }
    let min_length_px = params.min_length_mm * px_per_mm;
    let mut out = LineDetection {
        lines: Vec::new(),
        hair_skeleton,
    };
    // Lines that pass on their own, with their width (image px).
    let mut candidates: Vec<(LineAcc, f64)> = Vec::new();
    for mut a in acc.into_iter().skip(1) {
        if a.length_px < min_length_px || a.length_px <= 0.0 {
            continue;
        }
        // End to end, not only along the skeleton: a star of short branches over a pit is as
        // long as a wrinkle in total but spans only the pit.
        let span = skeleton_span_px(&a.skeleton);
        if span < min_length_px {
            continue;
        }
        let (fwhm_px, _) = median_profile(&a.profiles);
        let width_px = if fwhm_px.is_finite() {
            fwhm_px
        } else {
            median_profile(&a.scale_widths.iter().map(|&w| (w, 0.0)).collect::<Vec<_>>()).0
        };
        if width_px.is_finite() && span < params.min_aspect_ratio * width_px {
            continue;
        }
        a.skeleton.sort_unstable_by_key(|&(x, y)| (y, x));
        a.skeleton.dedup();
        candidates.push((a, width_px));
    }
    // The walls of one valley, counted once: longest lines first (ties in raster order).
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&i, &j| {
        candidates[j]
            .0
            .length_px
            .total_cmp(&candidates[i].0.length_px)
    });
    let thetas: Vec<Vec<f64>> = order
        .iter()
        .map(|&i| {
            candidates[i]
                .0
                .skeleton
                .iter()
                .map(|&(x, y)| {
                    let r = ((y as usize - height.y0) / step).min(grows - 1);
                    let c = ((x as usize - height.x0) / step).min(gcols - 1);
                    f64::from(vs.direction[(r, c)])
                })
                .collect()
        })
        .collect();
    let twins: Vec<TwinLine> = order
        .iter()
        .zip(&thetas)
        .map(|(&i, theta)| TwinLine {
            pixels: &candidates[i].0.skeleton,
            theta,
            width_px: if candidates[i].1.is_finite() {
                candidates[i].1
            } else {
                0.0
            },
        })
        .collect();
    let mut keep = vec![false; candidates.len()];
    for (&i, k) in order.iter().zip(other_walls(&twins)) {
        keep[i] = k;
    }
    drop(twins);
    let mut candidates: Vec<(LineAcc, f64)> = candidates
        .into_iter()
        .zip(keep)
        .filter_map(|(c, k)| k.then_some(c))
        .collect();
    // Pieces that continue one valley with a sideways step are one line.
    let conts: Vec<ContLine> = candidates
        .iter()
        .map(|(a, w)| ContLine {
            pixels: &a.skeleton,
            width_px: if w.is_finite() { *w } else { 0.0 },
        })
        .collect();
    let pairs = continuations(&conts, params.bridge_gap_mm * px_per_mm);
    drop(conts);
    let mut parent: Vec<usize> = (0..candidates.len()).collect();
    for (i, j) in pairs {
        let (ri, rj) = (find_root(&mut parent, i), find_root(&mut parent, j));
        if ri != rj {
            parent[ri.max(rj)] = ri.min(rj);
        }
    }
    let mut absorbed = vec![false; candidates.len()];
    for l in (0..candidates.len()).rev() {
        let root = find_root(&mut parent, l);
        if root != l {
            let moved = std::mem::take(&mut candidates[l].0);
            let (a, w) = &mut candidates[root];
            a.absorb(moved);
            a.skeleton.sort_unstable_by_key(|&(x, y)| (y, x));
            a.skeleton.dedup();
            let (fwhm, _) = median_profile(&a.profiles);
            if fwhm.is_finite() {
                *w = fwhm;
            }
            absorbed[l] = true;
        }
    }
    let mut absorbed = absorbed.into_iter();
    candidates.retain(|_| !absorbed.next().unwrap_or(false));
    for (a, width_px) in candidates {
        let (orientation_deg, _) = doubled_angle_mean(a.cos2, a.sin2, a.length_px);
        let record = LineRecord {
            length_mm: a.length_px / px_per_mm,
            width_mm: width_px / px_per_mm,
            depth: if a.depth_weight > 0.0 {
                a.depth / a.depth_weight
            } else {
                f64::NAN
            },
            orientation_deg,
            skeleton: a.skeleton,
        };
        out.lines.push((record, (a.cos2, a.sin2)));
    }
    out
}

/// Measure the lines family; values align with [`COLUMNS`]. (`spare` is accepted for the
/// families' common signature; the steps run on the pool's threads whatever it says.)
pub fn measure(
    height: &PseudoHeight,
    params: &LinesParams,
    _spare: SpareThreads<'_>,
) -> (Vec<MetricValue>, Vec<LineRecord>) {
    summarise(height, detect(height, params))
}

/// The lines of a zone, or why they cannot be measured (an empty zone, no calibration).
pub fn detect(height: &PseudoHeight, params: &LinesParams) -> Result<LineDetection, Missing> {
    // Whether the zone has any pixel (`summarise` counts them; no need to count twice).
    if !height.mask.iter().any(|&m| m) || height.px_per_mm.is_nan() || height.px_per_mm <= 0.0 {
        return Err(Missing::new("empty zone"));
    }
    let factor = height.px_per_mm / params.working_px_per_mm;
    if params.working_px_per_mm <= 0.0 || factor <= 1.0 + 1e-9 {
        return Ok(detect_lines(height, None, params));
    }
    let (z, mask) = area_downsample(height.z.view(), height.mask.view(), factor);
    let coarse = PseudoHeight {
        z,
        mask: std::borrow::Cow::Owned(mask),
        x0: 0,
        y0: 0,
        px_per_mm: height.px_per_mm / factor,
    };
    let mut det = detect_lines(&coarse, Some((height, factor)), params);
    drop(coarse);
    let to_image = |pixels: &[(u32, u32)]| {
        coarse_to_image(pixels, factor, (height.x0, height.y0), height.mask.dim())
    };
    // Orientation sums are length-weighted in pixels of the grid they were measured on.
    for (line, sums) in &mut det.lines {
        line.skeleton = to_image(&line.skeleton);
        *sums = (sums.0 * factor, sums.1 * factor);
    }
    det.hair_skeleton = to_image(&det.hair_skeleton);
    Ok(det)
}

/// Skeleton pixels of the coarse grid (`factor` image px each, origin 0) as image pixels: each
/// at its box centre, joined to its 8-neighbours of the skeleton by straight runs, so that the
/// drawn skeleton stays connected. Sorted by (y, x), without repeats.
fn coarse_to_image(
    pixels: &[(u32, u32)],
    factor: f64,
    origin: (usize, usize),
    dim: (usize, usize),
) -> Vec<(u32, u32)> {
    let (rows, cols) = dim;
    let centre = |v: u32, n: usize| {
        (fine_position(f64::from(v), factor).round().max(0.0) as usize).min(n - 1)
    };
    let map = |(x, y): (u32, u32)| (centre(x, cols), centre(y, rows));
    let mut sorted = pixels.to_vec();
    sorted.sort_unstable_by_key(|&(x, y)| (y, x));
    sorted.dedup();
    let on = |p: (u32, u32)| {
        sorted
            .binary_search_by_key(&(p.1, p.0), |&(x, y)| (y, x))
            .is_ok()
    };
    let mut out = Vec::with_capacity(pixels.len() * (factor.ceil() as usize + 1));
    for &(x, y) in &sorted {
        let (ax, ay) = map((x, y));
        out.push((ax, ay));
        for (dx, dy) in [(1i64, 0i64), (-1, 1), (0, 1), (1, 1)] {
            let (nx, ny) = (i64::from(x) + dx, i64::from(y) + dy);
            if nx < 0 || !on((nx as u32, ny as u32)) {
                continue;
            }
            let (bx, by) = map((nx as u32, ny as u32));
            let steps = ax.abs_diff(bx).max(ay.abs_diff(by));
            for t in 1..steps {
                let f = t as f64 / steps as f64;
                let px = ax as f64 + f * (bx as f64 - ax as f64);
                let py = ay as f64 + f * (by as f64 - ay as f64);
                out.push((px.round() as usize, py.round() as usize));
            }
        }
    }
    let mut out: Vec<(u32, u32)> = out
        .into_iter()
        .map(|(x, y)| ((x + origin.0) as u32, (y + origin.1) as u32))
        .collect();
    out.sort_unstable_by_key(|&(x, y)| (y, x));
    out.dedup();
    out
}

/// The lines family's values (aligned with [`COLUMNS`]) and records of a detection.
pub fn summarise(
    height: &PseudoHeight,
    detection: Result<LineDetection, Missing>,
) -> (Vec<MetricValue>, Vec<LineRecord>) {
    let det = match detection {
        Ok(det) => det,
        Err(missing) => return (all_missing(COLUMNS.len(), &missing.0), Vec::new()),
    };
    let area_px = height.area_px();
    let area_cm2 = area_px as f64 / (height.px_per_mm * height.px_per_mm) / 100.0;
    let length_mm: f64 = det.lines().map(|l| l.length_mm).sum();
    let count = Ok(det.lines.len() as f64);
    let length = Ok(length_mm);
    let density = finite_or(length_mm / area_cm2, "zero zone area");
    let area_fraction = Ok((det.area_px(height.px_per_mm) / area_px as f64).min(1.0));
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
    let width = det.lines().map(|l| l.length_mm * l.width_mm).sum::<f64>() / length_mm;
    let (depth_sum, depth_w) = det
        .lines()
        .filter(|l| l.depth.is_finite())
        .fold((0.0, 0.0), |(s, w), l| {
            (s + l.length_mm * l.depth, w + l.length_mm)
        });
    let length_px = length_mm * height.px_per_mm;
    let (cos2, sin2) = det
        .lines
        .iter()
        .fold((0.0, 0.0), |(c, s), (_, (a, b))| (c + a, s + b));
    let (orientation, anisotropy) = doubled_angle_mean(cos2, sin2, length_px);
    values.push(finite_or(width, "no line width measured"));
    values.push(if depth_w > 0.0 {
        finite_or(depth_sum / depth_w, "no depth samples")
    } else {
        Err(Missing::new("no depth samples inside the zone"))
    });
    values.push(area_fraction);
    values.push(Ok(orientation));
    values.push(Ok(anisotropy.clamp(0.0, 1.0)));
    (
        values,
        det.lines.into_iter().map(|(line, _)| line).collect(),
    )
}

#[cfg(test)]
mod tests;
