//! Phantoms: synthetic close-up skin photos rendered from a height map in mm, with ground truth.
//!
//! Not a pipeline stage: a generator of test images with known wrinkles, scars and relief, used
//! by the validation tests and by researchers to learn what their resolution can resolve.
//!
//! # Coordinates
//! Pixel (col, row) has its centre at (x, y) = (col, row) px; y points down. Angles
//! (`orientation_deg`, `angle_deg`) are counter-clockwise from +x *as displayed* (y up), so
//! 0° is horizontal and 90° vertical. Lengths in the ground truth are in mm unless the field
//! name ends in `_px`.
//!
//! # Rendering model
//! 1. **Height map** h(x, y), mm, negative in depressions (`height.rs`):
//!    * fractal microrelief: octaves of C² B-spline value noise (random lattice rotated by a
//!      random angle, periodic with 512 lattice cells) at nominal wavelengths 3, 1.5, 0.75, 0.375,
//!      0.19 mm (octaves shorter than 3 px are dropped), amplitude ∝ wavelength^1.3 (a 1/f-type
//!      spectrum), then scaled to zero mean and RMS `relief_sq_mm`;
//!    * furrow network (`furrows`): V-grooves 0.05 mm wide at half depth (at least 1.5 px, the
//!      depth then scaled to keep the cross-section area), 0.015 mm deep on average with a
//!      per-edge factor 0.5–1.5, along the edges of the Voronoi tessellation of a jittered grid
//!      of 0.6 mm (cells about 0.3–1 mm);
//!    * pores (`pores`): 0.5 per mm², diameter 0.06–0.22 mm, depth 0.01–0.03 mm, profile
//!      `depth·(1 − ρ²)²`;
//!    * scars after Jacob et al. 2001 (J Am Acad Dermatol 45:109–117,
//!      doi:10.1067/mjd.2001.113451), ρ = r/R with R the rim radius:
//!      ```text
//!      icepick  diameter 0.5–1.8 mm, depth spec.icepick_depth_mm (0.3–0.6): cone  1 − ρ
//!      boxcar   diameter 1.5–4 mm, depth spec.boxcar_depth_mm (0.1–0.5): flat floor,
//!               wall over the outer 20 % of R: smoothstep((1 − ρ)/0.2); oval, aspect 0.7–1
//!               (diameter = equal-area diameter 2·sqrt(a·b))
//!      rolling  diameter 4–6 mm, depth spec.rolling_depth_mm (0.1–0.3): ½(1 + cos πρ)
//!      ```
//!    * wrinkles: centre lines 5–25 mm long sampled every ≤ 0.25 mm, heading
//!      `θ + bend·(t − ½) + wiggle·sin(2πt + φ)` (bend ±0.35 rad, wiggle ±0.08 rad), cross-section
//!      Gaussian (cut at 3σ) or V; `width_mm` is the full width at half depth for both; the
//!      depth tapers to 0 over `taper_mm` = min(0.1·length, 1 mm) at each end (raised cosine).
//!
//!    Scars keep their rim ≥ 1 mm inside the image and ≥ 1 mm from each other; wrinkles keep
//!    their reach (3σ or the V half-width at the surface) ≥ 1 mm from the border, from scar rims
//!    and from other wrinkles; pigmented spots keep the same 1 mm gap from everything.
//!    Placement is rejection sampling (600 attempts per feature); a feature that does not fit is
//!    left out, so the ground truth may hold fewer features than the spec asks for.
//! 2. **Shading** (`camera.rs`): normals from central differences of h (px size 1/px_per_mm mm),
//!    light from the upper left at 55° elevation, plus cavity darkening:
//!    ```text
//!    I_lin(c) = A_c · S · O · G
//!    S = 0.4 + 0.6 · max(0, n·l) / l_z                    (Lambert, flat skin S = 1)
//!    O = exp(−1.5 mm⁻¹ · max(0, B(h) − h))                 (cavity / ambient-occlusion proxy)
//!    B = blur of h by three box passes of combined σ = 1.5 mm
//!    ```
//!    O darkens depressions equally in all channels whatever their orientation: a wrinkle of
//!    0.05 mm depth darkens its centre line by about 7 %, a 0.3 mm boxcar floor by 20–30 %.
//! 3. **Albedo** A: sRGB (210, 160, 140) linearised, times a slow lightness variation (RMS 2.5 %,
//!    wavelength ~8 mm) and redness variation (RMS 2 % on G, 1.4 % on B); inside pigmented spots
//!    (diameter 2–6 mm, soft edge ±0.15 mm, *no height change*) linear RGB × (0.85, 0.75, 0.6).
//! 4. **Camera** (`camera_effects`): illumination G = linear gradient of 4–10 % across half the
//!    image in a random direction × vignetting (−6 % at the corners); Gaussian blur σ = 0.5 px;
//!    sensor noise with variance 0.001² + 3·10⁻⁵·I_lin (Irwin–Hall, from a per-pixel hash of
//!    `noise_seed`, else of the capture seed);
//!    8-bit sRGB encoding by exact thresholds; optional JPEG round trip (`jpeg_quality`).
//!
//! # Determinism
//! All randomness comes from SplitMix64 streams derived from the seed (one stream per
//! component, so switching e.g. pores off does not move the wrinkles); transcendental functions
//! come from the pure-Rust `libm` crate, and every reduction runs in a fixed order, so the same
//! spec and seed give the same bytes on every platform, run and thread count (the JPEG round
//! trip relies on the `image` crate's codecs and is only checked on the build platform).

pub mod annotations;
mod camera;
mod chart;
mod hair;
mod height;
mod layout;
pub mod nuisance;
mod optics;
mod realistic;
pub mod retake;
pub(crate) mod rng;
pub mod study;

use std::path::Path;

use anyhow::{Context, bail};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::cli::PhantomArgs;

pub use camera::{SKIN_SRGB, SPOT_FACTOR};
pub use layout::{BOXCAR_DIAMETER_MM, ICEPICK_DIAMETER_MM, ROLLING_DIAMETER_MM, SPOT_DIAMETER_MM};
pub use layout::{point_segment_distance, polyline_band_mask};
pub use nuisance::{Nuisance, NuisanceRanges};

/// A well-mixed 64-bit hash of a seed (SplitMix64's finaliser), for deriving per-seed choices.
pub fn mix_seed(seed: u64) -> u64 {
    rng::mix64(seed)
}

/// Which skin and camera model renders a phantom.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// The original generator (fixed light, faint pores and furrows, no hair): the phantoms of
    /// skintex 0.1's fixtures and demo data, kept so they regenerate byte for byte.
    #[default]
    Classic,
    /// Every nuisance of real skin and real photographs drawn per phantom from documented ranges
    /// ([`nuisance`]): pores, furrow network, hairs, freckles and naevi, shine, any light, any
    /// skin tone, blur, noise, JPEG, 8-40 px/mm.
    Realistic,
}

impl Preset {
    fn is_classic(&self) -> bool {
        *self == Preset::Classic
    }
}

/// What to render. Every length in mm; ranges are `[min, max)` for uniform draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhantomSpec {
    /// Image side, px (square image), 64..=20000.
    pub size_px: u32,
    /// Resolution, px per mm (> 0).
    pub px_per_mm: f64,
    /// Number of wrinkles requested.
    pub wrinkles: u32,
    /// Number of icepick scars requested.
    pub icepick: u32,
    /// Number of boxcar scars requested.
    pub boxcar: u32,
    /// Number of rolling scars requested.
    pub rolling: u32,
    /// RMS height of the fractal microrelief, mm (≥ 0).
    pub relief_sq_mm: f64,
    /// Render the polygonal furrow network.
    pub furrows: bool,
    /// Render pores.
    pub pores: bool,
    /// Number of flat pigmented spots requested.
    pub pigmented_spots: u32,
    /// JPEG round trip at this quality (1..=100); `None` keeps the lossless image.
    pub jpeg_quality: Option<u8>,
    /// Wrinkle centre-line length range, mm (default 5–25).
    pub wrinkle_length_mm: [f64; 2],
    /// Wrinkle full width at half depth range, mm (default 0.15–1.2).
    pub wrinkle_width_mm: [f64; 2],
    /// Wrinkle maximum depth range, mm (default 0.03–0.15).
    pub wrinkle_depth_mm: [f64; 2],
    /// Icepick depth range, mm (default 0.3–0.6).
    pub icepick_depth_mm: [f64; 2],
    /// Boxcar depth range, mm (default 0.1–0.5).
    pub boxcar_depth_mm: [f64; 2],
    /// Rolling scar depth range, mm (default 0.1–0.3).
    pub rolling_depth_mm: [f64; 2],
    /// Camera effects: illumination gradient, vignetting, blur and sensor noise.
    pub camera_effects: bool,
    /// Seed of the photograph (albedo variation, lighting, noise) when it differs from the skin's
    /// seed: the same skin photographed again, e.g. at another study visit.
    #[serde(default)]
    pub capture_seed: Option<u64>,
    /// Seed of the sensor noise alone when it differs from the capture's: the same photograph
    /// taken again a moment later (a replicate), same light and camera, new noise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_seed: Option<u64>,
    /// Keep only this central fraction (0-1] of every wrinkle's length after placement (a
    /// treatment effect on the same skin: positions unchanged).
    #[serde(default = "one")]
    pub wrinkle_length_scale: f64,
    /// Depth-to-width ratio range of the wrinkles: when set, each wrinkle's depth is its width
    /// times a ratio drawn from this range, clipped to `wrinkle_depth_mm` (real fine lines and
    /// wrinkles are 0.15-0.5 times as deep as they are wide); when absent, depth and width are
    /// drawn independently (classic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrinkle_aspect: Option<[f64; 2]>,
    /// Skin and camera model. With `realistic`, `size_px`, `px_per_mm`, `relief_sq_mm`,
    /// `pigmented_spots` and `jpeg_quality` are drawn from `nuisance` instead (a `jpeg_quality`
    /// given here still forces that quality), and `furrows`/`pores`/`camera_effects` switch
    /// their components off when false.
    #[serde(default, skip_serializing_if = "Preset::is_classic")]
    pub preset: Preset,
    /// The ranges of the realistic preset's nuisances.
    #[serde(default, skip_serializing_if = "is_default_ranges")]
    pub nuisance: NuisanceRanges,
    /// Draw a ColorChecker Classic in the bottom-right corner, lit and photographed like the
    /// skin (classic preset; see `src/phantom/chart.rs`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chart: bool,
}

fn is_default_ranges(r: &NuisanceRanges) -> bool {
    *r == NuisanceRanges::default()
}

fn one() -> f64 {
    1.0
}

impl Default for PhantomSpec {
    fn default() -> Self {
        Self {
            size_px: 1000,
            px_per_mm: 20.0,
            wrinkles: 3,
            icepick: 2,
            boxcar: 2,
            rolling: 1,
            relief_sq_mm: 0.02,
            furrows: true,
            pores: true,
            pigmented_spots: 2,
            jpeg_quality: None,
            wrinkle_length_mm: [5.0, 25.0],
            wrinkle_width_mm: [0.15, 1.2],
            wrinkle_depth_mm: [0.03, 0.15],
            icepick_depth_mm: [0.3, 0.6],
            boxcar_depth_mm: [0.1, 0.5],
            rolling_depth_mm: [0.1, 0.3],
            camera_effects: true,
            capture_seed: None,
            noise_seed: None,
            wrinkle_length_scale: 1.0,
            wrinkle_aspect: None,
            preset: Preset::Classic,
            nuisance: NuisanceRanges::default(),
            chart: false,
        }
    }
}

impl PhantomSpec {
    /// This spec with the feature counts of `other`.
    fn with_counts(self, other: &PhantomSpec) -> Self {
        Self {
            wrinkles: other.wrinkles,
            icepick: other.icepick,
            boxcar: other.boxcar,
            rolling: other.rolling,
            ..self
        }
    }

    /// The realistic preset with its default ranges and the classic feature counts (3 wrinkles,
    /// 2 icepick, 2 boxcar and 1 rolling scar).
    pub fn realistic() -> Self {
        Self {
            preset: Preset::Realistic,
            wrinkle_depth_mm: [0.04, 0.3],
            wrinkle_aspect: Some([0.15, 0.5]),
            ..Self::default()
        }
    }
}

impl PhantomSpec {
    /// Check the spec.
    ///
    /// # Errors
    /// A message naming the first bad field.
    pub fn validate(&self) -> Result<(), String> {
        if !(64..=20_000).contains(&self.size_px) {
            return Err(format!("size {} px is outside 64..=20000", self.size_px));
        }
        if !(self.px_per_mm.is_finite() && self.px_per_mm > 0.0) {
            return Err(format!("px_per_mm must be > 0, got {}", self.px_per_mm));
        }
        if !(self.relief_sq_mm.is_finite() && self.relief_sq_mm >= 0.0) {
            return Err(format!(
                "relief_sq must be >= 0 mm, got {}",
                self.relief_sq_mm
            ));
        }
        if let Some(q) = self.jpeg_quality
            && !(1..=100).contains(&q)
        {
            return Err(format!("jpeg_quality must be 1..=100, got {q}"));
        }
        if !(self.wrinkle_length_scale > 0.0 && self.wrinkle_length_scale <= 1.0) {
            return Err(format!(
                "wrinkle_length_scale must be in (0, 1], got {}",
                self.wrinkle_length_scale
            ));
        }
        for (name, r) in [
            ("wrinkle_length_mm", self.wrinkle_length_mm),
            ("wrinkle_width_mm", self.wrinkle_width_mm),
            ("wrinkle_depth_mm", self.wrinkle_depth_mm),
            ("icepick_depth_mm", self.icepick_depth_mm),
            ("boxcar_depth_mm", self.boxcar_depth_mm),
            ("rolling_depth_mm", self.rolling_depth_mm),
            ("wrinkle_aspect", self.wrinkle_aspect.unwrap_or([1.0, 1.0])),
        ] {
            if !(r[0].is_finite() && r[1].is_finite() && r[0] > 0.0 && r[0] <= r[1]) {
                return Err(format!("{name} must be 0 < min <= max, got {r:?}"));
            }
        }
        if self.preset == Preset::Realistic {
            self.nuisance.validate()?;
            if self.chart {
                return Err("chart is drawn only with the classic preset".into());
            }
        }
        Ok(())
    }
}

/// A rendered phantom.
#[derive(Debug, Clone)]
pub struct Phantom {
    /// 8-bit sRGB image.
    pub image: RgbImage,
    /// What was rendered.
    pub truth: GroundTruth,
}

/// Ground truth of one phantom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Seed the phantom was rendered with.
    pub seed: u64,
    /// Resolution, px per mm.
    pub px_per_mm: f64,
    /// Image side, px.
    pub size_px: u32,
    /// Wrinkles actually placed.
    pub wrinkles: Vec<WrinkleTruth>,
    /// Scars actually placed (rolling first, then boxcar, then icepick).
    pub scars: Vec<ScarTruth>,
    /// Pigmented spots actually placed.
    pub spots: Vec<SpotTruth>,
    /// RMS of the fractal microrelief component alone, mm (furrows, pores, wrinkles and scars
    /// come on top).
    pub relief_sq_mm: f64,
    /// Sum of `length_mm` over the wrinkles.
    pub total_wrinkle_length_mm: f64,
    /// The preset that rendered it.
    #[serde(default, skip_serializing_if = "Preset::is_classic")]
    pub preset: Preset,
    /// The realistic preset's nuisance draws.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nuisance: Option<Nuisance>,
    /// Every pore (realistic preset).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pores: Vec<PoreTruth>,
    /// Every hair (realistic preset).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hairs: Vec<HairTruth>,
    /// The box around the drawn colour chart's 24 patches, `[x, y, w, h]` px (`--chart`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart_box_px: Option<[u32; 4]>,
}

/// One pore (realistic preset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoreTruth {
    /// Centre, image px.
    pub x_px: f64,
    pub y_px: f64,
    /// Full width at half depth, mm.
    pub diameter_mm: f64,
    /// Depth, mm.
    pub depth_mm: f64,
}

/// One hair lying on the skin (realistic preset): an occluder without relief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HairTruth {
    /// Centre line (x, y) in image px.
    pub polyline_px: Vec<[f64; 2]>,
    /// Length of the centre line, mm.
    pub length_mm: f64,
    /// Width, mm.
    pub width_mm: f64,
    /// `terminal`, `vellus` or `stubble`.
    pub kind: String,
    /// Colour, linear RGB.
    pub colour: [f64; 3],
    /// Opacity at the centre, 0-1.
    pub opacity: f64,
}

/// One wrinkle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WrinkleTruth {
    /// Centre line (x, y) in image px, vertices ≤ 0.25 mm apart.
    pub polyline_px: Vec<[f64; 2]>,
    /// Length of the centre line, mm (tapered ends included).
    pub length_mm: f64,
    /// Full width at half depth, mm.
    pub width_mm: f64,
    /// Maximum depth, mm (reached away from the tapered ends).
    pub depth_mm: f64,
    /// Direction of the chord from first to last vertex, degrees in [0, 180), 0 = horizontal,
    /// counter-clockwise as displayed.
    pub orientation_deg: f64,
    /// Cross-section: `gaussian` (cut at 3σ) or `v`.
    pub profile: String,
    /// Length of the raised-cosine taper at each end, mm (depth is half at `taper_mm / 2`).
    pub taper_mm: f64,
}

/// One atrophic scar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScarTruth {
    /// Centre, image px.
    pub x_px: f64,
    /// Centre, image px.
    pub y_px: f64,
    /// Rim diameter (equal-area diameter for oval boxcars), mm.
    pub diameter_mm: f64,
    /// Maximum depth, mm.
    pub depth_mm: f64,
    /// `icepick`, `boxcar` or `rolling`.
    pub kind: String,
    /// Minor/major axis ratio (1 = round; only boxcars are oval).
    pub aspect: f64,
    /// Major-axis direction, degrees counter-clockwise from horizontal as displayed.
    pub angle_deg: f64,
}

/// One flat pigmented spot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpotTruth {
    /// Centre, image px.
    pub x_px: f64,
    /// Centre, image px.
    pub y_px: f64,
    /// Diameter at the middle of the soft edge, mm.
    pub diameter_mm: f64,
    /// `freckle`, `lentigo` or `naevus` (realistic preset; empty for the classic spots).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Peak melanin optical density in blue (realistic preset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optical_density: Option<f64>,
}

/// Render one phantom. Deterministic in (`spec`, `seed`).
///
/// # Panics
/// If `spec.validate()` fails.
pub fn render_phantom(spec: &PhantomSpec, seed: u64) -> Phantom {
    if let Err(e) = spec.validate() {
        panic!("invalid phantom spec: {e}");
    }
    if spec.preset == Preset::Realistic {
        return realistic::render(spec, seed);
    }
    let layout = layout::layout(spec, seed);
    let h = height::height_map(spec, seed, &layout);
    let mut image = camera::capture(spec, spec.capture_seed.unwrap_or(seed), &layout, &h);
    if let Some(q) = spec.jpeg_quality {
        image = jpeg_round_trip(&image, q);
    }
    let total_wrinkle_length_mm = layout.wrinkles.iter().map(|w| w.length_mm).sum();
    Phantom {
        image,
        truth: GroundTruth {
            seed,
            px_per_mm: spec.px_per_mm,
            size_px: spec.size_px,
            wrinkles: layout.wrinkles,
            scars: layout.scars,
            spots: layout.spots,
            relief_sq_mm: spec.relief_sq_mm,
            total_wrinkle_length_mm,
            preset: Preset::Classic,
            nuisance: None,
            pores: Vec::new(),
            hairs: Vec::new(),
            chart_box_px: spec
                .chart
                .then(|| chart::ChartLayout::new(spec.size_px as usize).patch_box()),
        },
    }
}

pub(crate) fn jpeg_round_trip(image: &RgbImage, quality: u8) -> RgbImage {
    let mut buf = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, quality)
        .encode_image(image)
        .expect("JPEG encoding into memory cannot fail");
    image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg)
        .expect("decoding our own JPEG")
        .to_rgb8()
}

/// Scar counts parsed from `icepick=N,boxcar=N,rolling=N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScarCounts {
    pub icepick: u32,
    pub boxcar: u32,
    pub rolling: u32,
}

/// Parse `icepick=N,boxcar=N,rolling=N` (any order, any subset; missing kinds are 0; `none` or
/// an empty string means no scars).
///
/// # Errors
/// Unknown kind, repeated kind, or a count that is not a non-negative integer.
pub fn parse_scar_counts(spec: &str) -> anyhow::Result<ScarCounts> {
    let mut counts = ScarCounts::default();
    let trimmed = spec.trim();
    if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("none") {
        return Ok(counts);
    }
    let mut seen = [false; 3];
    for part in trimmed.split(',') {
        let Some((kind, n)) = part.split_once('=') else {
            bail!(
                "bad --scars item `{part}`: expected KIND=N, e.g. `icepick=2,boxcar=1,rolling=1`"
            );
        };
        let n: u32 = n.trim().parse().with_context(|| {
            format!(
                "bad --scars count `{}` for `{}`: expected a non-negative integer",
                n.trim(),
                kind.trim()
            )
        })?;
        let (slot, idx) = match kind.trim() {
            "icepick" => (&mut counts.icepick, 0),
            "boxcar" => (&mut counts.boxcar, 1),
            "rolling" => (&mut counts.rolling, 2),
            other => {
                bail!("unknown scar kind `{other}` in --scars: use icepick, boxcar or rolling")
            }
        };
        if seen[idx] {
            bail!("scar kind `{}` given twice in --scars", kind.trim());
        }
        seen[idx] = true;
        *slot = n;
    }
    Ok(counts)
}

/// Contents of `phantom-NNN.json`.
#[derive(Serialize)]
struct PhantomFile<'a> {
    skintex_version: &'static str,
    image: String,
    spec: &'a PhantomSpec,
    #[serde(flatten)]
    truth: &'a GroundTruth,
}

/// The spec that `skintex phantom` renders with these arguments.
fn spec_of_args(args: &PhantomArgs, scars: ScarCounts) -> PhantomSpec {
    let base = PhantomSpec {
        wrinkles: args.wrinkles,
        chart: args.chart,
        icepick: scars.icepick,
        boxcar: scars.boxcar,
        rolling: scars.rolling,
        preset: args.preset,
        ..PhantomSpec::default()
    };
    match args.preset {
        Preset::Classic => PhantomSpec {
            size_px: args.size.unwrap_or(base.size_px),
            px_per_mm: args.px_per_mm.unwrap_or(base.px_per_mm),
            relief_sq_mm: args.relief_sq.unwrap_or(base.relief_sq_mm),
            ..base
        },
        Preset::Realistic => {
            let mut nuisance = NuisanceRanges {
                stubble: args.stubble,
                ..NuisanceRanges::default()
            };
            if let Some(p) = args.px_per_mm {
                nuisance.px_per_mm = [p, p];
            }
            if let Some(f) = args.fov_mm {
                nuisance.fov_mm = f;
            }
            if let Some(r) = args.relief_sq {
                nuisance.relief_sq_mm = [r, r];
            }
            if args.cross_polarised {
                nuisance.cross_polarised_probability = 1.0;
            }
            PhantomSpec {
                nuisance,
                ..PhantomSpec::realistic()
            }
            .with_counts(&base)
        }
    }
}

/// `skintex phantom`: render `args.count` phantoms into `args.out`.
///
/// Phantom `phantom-NNN` (NNN = 001, 002, ...) uses seed `args.seed + NNN − 1` (wrapping), so
/// `phantom-001` is rendered with `--seed` itself and any phantom can be rebuilt alone. Each
/// image is written as `phantom-NNN.png` with its ground truth `phantom-NNN.json` (the
/// [`GroundTruth`] fields at the top level, plus `spec`, `image` and `skintex_version`). With
/// `--annotations DIR`, the truth is also written as annotations ([`annotations`]).
///
/// # Errors
/// Bad arguments or an unwritable output folder.
pub fn run_phantom_command(args: &PhantomArgs) -> anyhow::Result<()> {
    let scars = parse_scar_counts(&args.scars)?;
    if args.count < 1 {
        bail!("--count must be at least 1");
    }
    if args.preset == Preset::Realistic && args.size.is_some() {
        bail!(
            "--size applies to --preset classic; a realistic phantom's size is --fov-mm times \
             its px/mm (--px-per-mm, else drawn from the realistic range)"
        );
    }
    if args.preset == Preset::Realistic && args.chart {
        bail!("--chart applies to --preset classic");
    }
    let spec = spec_of_args(args, scars);
    spec.validate()
        .map_err(|e| anyhow::anyhow!("bad phantom arguments: {e}"))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let digits = if args.count > 999 {
        args.count.to_string().len()
    } else {
        3
    };
    let mut truths: Vec<(String, GroundTruth)> = Vec::new();
    for i in 1..=args.count {
        let seed = args.seed.wrapping_add(u64::from(i - 1));
        let name = format!("phantom-{i:0digits$}");
        let phantom = render_phantom(&spec, seed);
        warn_if_incomplete(&name, &spec, &phantom.truth);
        let mut png = Vec::new();
        phantom
            .image
            .write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
            .context("encoding PNG")?;
        write_file(&args.out.join(format!("{name}.png")), &png)?;
        let file = PhantomFile {
            skintex_version: env!("CARGO_PKG_VERSION"),
            image: format!("{name}.png"),
            spec: &spec,
            truth: &phantom.truth,
        };
        let mut json = serde_json::to_vec_pretty(&file).context("serialising ground truth")?;
        json.push(b'\n');
        write_file(&args.out.join(format!("{name}.json")), &json)?;
        if args.annotations.is_some() {
            truths.push((name, phantom.truth));
        }
    }
    if let Some(dir) = &args.annotations {
        let refs: Vec<(String, &GroundTruth)> =
            truths.iter().map(|(n, t)| (n.clone(), t)).collect();
        annotations::write_annotations(dir, &refs)?;
    }
    let last = args.seed.wrapping_add(u64::from(args.count - 1));
    let scale = match spec.preset {
        Preset::Classic => format!(
            "{}x{} px at {} px/mm",
            spec.size_px, spec.size_px, spec.px_per_mm
        ),
        Preset::Realistic => format!(
            "{} mm square at {}-{} px/mm (realistic)",
            spec.nuisance.fov_mm, spec.nuisance.px_per_mm[0], spec.nuisance.px_per_mm[1]
        ),
    };
    println!(
        "skintex phantom: wrote {} phantom(s) of {scale} (seeds {}..={}) to {}",
        args.count,
        args.seed,
        last,
        args.out.display()
    );
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::output::write_atomic(path, bytes)?;
    Ok(())
}

fn warn_if_incomplete(name: &str, spec: &PhantomSpec, truth: &GroundTruth) {
    let count = |kind: &str| truth.scars.iter().filter(|s| s.kind == kind).count() as u32;
    for (what, asked, got) in [
        ("wrinkles", spec.wrinkles, truth.wrinkles.len() as u32),
        ("icepick scars", spec.icepick, count("icepick")),
        ("boxcar scars", spec.boxcar, count("boxcar")),
        ("rolling scars", spec.rolling, count("rolling")),
        (
            "pigmented spots",
            spec.pigmented_spots,
            truth.spots.len() as u32,
        ),
    ] {
        if got < asked {
            eprintln!(
                "skintex: warning: {name}: placed {got} of {asked} {what} (image too small or too crowded)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scar_counts_parse_any_order_and_subset() {
        let c = parse_scar_counts("rolling=1, icepick=3").unwrap();
        assert_eq!(
            c,
            ScarCounts {
                icepick: 3,
                boxcar: 0,
                rolling: 1
            }
        );
        assert_eq!(parse_scar_counts("none").unwrap(), ScarCounts::default());
        assert_eq!(parse_scar_counts("").unwrap(), ScarCounts::default());
    }

    #[test]
    fn scar_counts_reject_bad_items() {
        for bad in [
            "icepick",
            "icepick=-1",
            "icepick=x",
            "keloid=2",
            "boxcar=1,boxcar=2",
        ] {
            assert!(parse_scar_counts(bad).is_err(), "{bad} should fail");
        }
        let msg = format!("{:#}", parse_scar_counts("keloid=2").unwrap_err());
        assert!(msg.contains("keloid"), "{msg}");
    }

    #[test]
    fn spec_validation_names_the_bad_field() {
        let ok = PhantomSpec::default();
        assert!(ok.validate().is_ok());
        let bad = PhantomSpec {
            px_per_mm: 0.0,
            ..ok.clone()
        };
        assert!(bad.validate().unwrap_err().contains("px_per_mm"));
        let bad = PhantomSpec {
            size_px: 63,
            ..ok.clone()
        };
        assert!(bad.validate().unwrap_err().contains("size"));
        let bad = PhantomSpec {
            wrinkle_depth_mm: [0.2, 0.1],
            ..ok
        };
        assert!(bad.validate().unwrap_err().contains("wrinkle_depth_mm"));
    }
}
