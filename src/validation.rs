//! Validation of the relief families (lines, scars, pores) on realistic randomised phantoms,
//! scored against their ground truth and reported per stratum of the nuisances.
//!
//! Not a pipeline stage: the yardstick the metrics are judged by. `skintex validate` runs the
//! fixed set below and writes `docs/VALIDATION.md`; `tests/validation_randomised.rs` runs it and
//! fails when any stratum misses its regression floor.
//!
//! # The set
//! [`randomised_set`]: 48 phantoms with wrinkles and scars and 16 clean ones (pores, furrows,
//! hairs and pigment, no wrinkle or scar), every nuisance drawn from the realistic preset's
//! ranges ([`crate::phantom::nuisance`]) with fixed seeds. Light (ring flash, oblique 45-70°,
//! oblique 20-45°) and skin tone (Fitzpatrick I-II, III-IV, V-VI) rotate so that each stratum
//! holds a third of the phantoms; the clean phantoms carry at least two terminal hairs each, and
//! half of them a deep furrow network (0.025-0.04 mm).
//!
//! # Scores
//! ```text
//! scars:  a detection matches a true scar when their centres are within r_true + 0.5 mm,
//!         one-to-one (optimal assignment, crate::matching);
//!         F1 = 2·TP / (2·TP + FP + FN);  type accuracy = correctly typed TP / TP
//!         detectable F1: FN counts only the missed true scars the photo shows above the
//!         detector's limit (crate::metrics::scars::detectability ≥ 1); reported beside the
//!         F1, not a floor
//! lines:  length error = Σ detected length / Σ true wrinkle length − 1 (per phantom);
//!         count error  = detected count − true count
//!         hair as line = detected skeleton length within a hair's band (half width + 2 px) and
//!                        outside every wrinkle's band / total hair length
//! clean:  false scars per 10 cm²; false line length per cm² (everything detected is false)
//! pores:  a detection matches a true pore within max(d_true, 3 px), one-to-one (optimal
//!         assignment per connected group of candidate pairs); recall = matched / true,
//!         precision = matched / detected; size error = Σ matched detected diameter
//!         / Σ matched true diameter − 1, over true pores ≥ 0.15 mm
//! ```
//! A stratum meets [`Floors::TARGET`] (issue 14) when its pooled scar F1 ≥ 0.9 and type
//! accuracy ≥ 0.8, its median |length error| ≤ 10 %, ≥ 80 % of its phantoms have the line count
//! within ±1, hair detected as line ≤ 5 % of hair length, (clean phantoms) ≤ 1 false scar per
//! 10 cm² and ≤ 2 mm of false line per cm², and pores are sized within 20 %.
//! [`Floors::REGRESSION`] is what the methods reach today, with a margin; the tests hold it.

use std::fmt::Write as _;

use image::DynamicImage;
use rayon::prelude::*;

use crate::config::Config;
use crate::imgops::cells::CellGrid;
use crate::input::colour::colour_planes;
use crate::matching::{optimal_matches_sparse, scar_matches};
use crate::metrics::scars::ScarKind;
use crate::metrics::{ZoneInput, measure_zone, metric_columns};
use crate::phantom::{
    GroundTruth, Nuisance, NuisanceRanges, PhantomSpec, polyline_band_mask, render_phantom,
};
use crate::segment::full_image_zones;

/// Extra match distance of a detected scar beyond the true scar's radius, mm.
pub const SCAR_MATCH_MM: f64 = 0.5;
/// True pores at least this wide are scored for size, mm (issue 14: diameter within 20 % from
/// 0.15 mm up; smaller pores are blurred to a camera-limited width).
pub const PORE_SIZING_MIN_MM: f64 = 0.15;
/// A detected pore matches a true one within max(d_true, this many px).
const PORE_MATCH_MIN_PX: f64 = 3.0;
/// Hair and wrinkle bands extend this many px beyond their half width.
const BAND_MARGIN_PX: f64 = 2.0;

/// What a stratum must meet: a lower bound on the "higher is better" scores and an upper bound
/// on the error rates.
#[derive(Debug, Clone, Copy)]
pub struct Floors {
    pub scars_f1: f64,
    pub scars_type_accuracy: f64,
    pub lines_median_abs_length_error: f64,
    pub lines_count_within_one: f64,
    pub hair_as_line: f64,
    pub clean_false_scars_per_10cm2: f64,
    pub clean_false_lines_mm_per_cm2: f64,
    /// Bound on |pore size error| (matched pores of at least [`PORE_SIZING_MIN_MM`]).
    pub pores_abs_size_error: f64,
    /// Share of the true pores found (matched), at least.
    pub pores_recall: f64,
    /// Share of the detected pores that match a true one, at least.
    pub pores_precision: f64,
}

impl Floors {
    /// The acceptance floors of issue 14 ("Measurements that hold on skin they were not tuned
    /// to"); pores: size within 20 %, and half of the true pores found with three in four
    /// detections true (the issue's density criterion is a sweep: `tests/validation_pores.rs`).
    pub const TARGET: Floors = Floors {
        scars_f1: 0.9,
        scars_type_accuracy: 0.8,
        lines_median_abs_length_error: 0.10,
        lines_count_within_one: 0.8,
        hair_as_line: 0.05,
        clean_false_scars_per_10cm2: 1.0,
        clean_false_lines_mm_per_cm2: 2.0,
        pores_abs_size_error: 0.2,
        pores_recall: 0.5,
        pores_precision: 0.75,
    };
    /// What the methods reach today on the validation set in every stratum, with a margin:
    /// `tests/validation_randomised.rs` fails when a change makes any stratum worse than this.
    /// Raise it as the methods improve; the gap to [`Floors::TARGET`] is in docs/VALIDATION.md.
    pub const REGRESSION: Floors = Floors {
        scars_f1: 0.6,
        scars_type_accuracy: 0.8,
        lines_median_abs_length_error: 0.35,
        lines_count_within_one: 0.55,
        hair_as_line: 0.05,
        clean_false_scars_per_10cm2: 1.5,
        clean_false_lines_mm_per_cm2: 2.0,
        pores_abs_size_error: 0.4,
        pores_recall: 0.06,
        pores_precision: 0.4,
    };
}

/// One phantom of a validation set.
#[derive(Debug, Clone)]
pub struct Case {
    pub seed: u64,
    pub spec: PhantomSpec,
    /// No wrinkle and no scar: everything detected is false.
    pub clean: bool,
}

impl Case {
    /// A clean realistic phantom (pores, furrows, hairs, pigment; no wrinkle or scar) with its
    /// nuisances drawn from `nuisance`.
    pub fn clean(seed: u64, nuisance: NuisanceRanges) -> Self {
        Case {
            seed,
            spec: PhantomSpec {
                wrinkles: 0,
                icepick: 0,
                boxcar: 0,
                rolling: 0,
                nuisance,
                ..PhantomSpec::realistic()
            },
            clean: true,
        }
    }
}

/// Light strata, as ranges of the realistic preset.
const LIGHTS: [(f64, [f64; 2]); 3] = [
    (1.0, [20.0, 70.0]),
    (0.0, [45.0, 70.0]),
    (0.0, [20.0, 45.0]),
];
/// Skin-tone strata (Fitzpatrick types).
const TONES: [[u8; 2]; 3] = [[1, 2], [3, 4], [5, 6]];

/// The fixed randomised validation set (see the module doc): seeds 1001-1048 and 2001-2016.
pub fn randomised_set() -> Vec<Case> {
    randomised_cases(1001, 2001)
}

/// The set the methods' parameters were chosen on: the same recipe with seeds 5001-5048 and
/// 6001-6016, kept apart from the validation set so that the reported numbers are not the
/// numbers the parameters were tuned to.
pub fn training_set() -> Vec<Case> {
    randomised_cases(5001, 6001)
}

/// 48 phantoms with features from `feature_seed` on and 16 clean ones from `clean_seed` on.
fn randomised_cases(feature_seed: u64, clean_seed: u64) -> Vec<Case> {
    let mut cases = Vec::new();
    for i in 0..48u64 {
        let seed = feature_seed + i;
        let (diffuse, elevation) = LIGHTS[(i % 3) as usize];
        let nuisance = NuisanceRanges {
            diffuse_light_probability: diffuse,
            light_elevation_deg: elevation,
            fitzpatrick: TONES[((i / 3) % 3) as usize],
            ..NuisanceRanges::default()
        };
        // Feature counts vary with the seed: 1-4 wrinkles, 1-6 scars of every type.
        let k = crate::phantom::mix_seed(seed);
        cases.push(Case {
            seed,
            spec: PhantomSpec {
                wrinkles: 1 + (k % 4) as u32,
                icepick: ((k >> 8) % 4) as u32,
                boxcar: ((k >> 16) % 3) as u32,
                rolling: ((k >> 24) % 2) as u32 + u32::from((k >> 8).is_multiple_of(4)),
                nuisance,
                ..PhantomSpec::realistic()
            },
            clean: false,
        });
    }
    for i in 0..16u64 {
        let seed = clean_seed + i;
        let (diffuse, elevation) = LIGHTS[(i % 3) as usize];
        let mut nuisance = NuisanceRanges {
            diffuse_light_probability: diffuse,
            light_elevation_deg: elevation,
            fitzpatrick: TONES[((i / 3) % 3) as usize],
            terminal_hairs: [2, 8],
            ..NuisanceRanges::default()
        };
        if i % 2 == 0 {
            nuisance.furrow_depth_mm = [0.025, 0.04];
        }
        cases.push(Case::clean(seed, nuisance));
    }
    cases
}

/// Spearman rank correlation of `x` and `y` (Pearson correlation of their ranks, average
/// ranks for ties; as `scipy.stats.spearmanr`). NaN when either is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            for &k in &idx[i..=j] {
                r[k] = avg;
            }
            i = j + 1;
        }
        r
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

/// True scars of one type and how many of them a detection matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScarKindCount {
    pub truth: usize,
    pub found: usize,
    /// True scars standing above the detection limit in the photo
    /// ([`crate::metrics::scars::detectability`] ≥ 1), and how many of them were found.
    pub detectable: usize,
    pub detectable_found: usize,
}

/// How a wrinkle lies to the light: the rows of the "Wrinkles by light" table.
pub const WRINKLE_LIGHT_CLASSES: [&str; 5] = [
    "ring flash, depth/width < 0.25 (gently sloped walls)",
    "ring flash, depth/width ≥ 0.25",
    "oblique, wrinkle within 30° of the light's azimuth",
    "oblique, 30-60° from it",
    "oblique, 60-90° from it (across the light)",
];

/// A wrinkle is missed when less than this share of its length lies within a detected line's
/// band.
pub const WRINKLE_MISSED_BELOW: f64 = 0.3;

/// Depth/width of a wrinkle below which its walls count as gently sloped: a Gaussian valley's
/// steepest slope is 1.43 depth/width, so 0.25 is a slope of 0.36, which on-axis light darkens
/// by about s²/2 = 6 %.
pub const GENTLE_WRINKLE_DEPTH_PER_WIDTH: f64 = 0.25;

/// The row of [`WRINKLE_LIGHT_CLASSES`] of a wrinkle running at `orientation_deg` (counter-
/// clockwise from +x as displayed, as the light's azimuth) with `depth_per_width` (depth over
/// width at half depth): under the ring flash by the steepness of its walls, under an oblique
/// light by the angle between the wrinkle and the light's azimuth (0-90°) in three bins.
pub fn wrinkle_light_class(
    nuisance: &Nuisance,
    orientation_deg: f64,
    depth_per_width: f64,
) -> usize {
    if nuisance.diffuse_light {
        return usize::from(depth_per_width >= GENTLE_WRINKLE_DEPTH_PER_WIDTH);
    }
    let d = (orientation_deg - nuisance.light_azimuth_deg).rem_euclid(180.0);
    let angle = d.min(180.0 - d);
    2 + usize::from(angle > 30.0) + usize::from(angle > 60.0)
}

/// One true wrinkle: how it lies to the light and how much of it the lines cover.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WrinkleCover {
    /// Row of [`WRINKLE_LIGHT_CLASSES`].
    pub light_class: usize,
    /// Length of the centre line, mm.
    pub true_mm: f64,
    /// Length of the centre line within one wrinkle width + 2 px of a detected line's
    /// skeleton (the band of the false-line score), mm.
    pub found_mm: f64,
}

/// What one phantom scored.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub seed: u64,
    pub clean: bool,
    pub nuisance: Nuisance,
    pub area_cm2: f64,
    pub scars_true: usize,
    pub scars_found: usize,
    pub scars_tp: usize,
    pub scars_type_correct: usize,
    /// Per true scar type ([`ScarKind::ALL`] order): true scars and how many were found.
    pub scars_by_kind: [ScarKindCount; 3],
    /// Per detected type ([`ScarKind::ALL`] order): detections matching no true scar.
    pub scars_unmatched_by_kind: [usize; 3],
    pub lines_true_count: usize,
    pub lines_true_mm: f64,
    pub lines_found_count: usize,
    pub lines_found_mm: f64,
    pub hair_mm: f64,
    pub hair_as_line_mm: f64,
    /// Detected line length away from every wrinkle, mm.
    pub lines_false_mm: f64,
    /// Every true wrinkle's cover by the detected lines.
    pub wrinkles: Vec<WrinkleCover>,
    pub pores_true: usize,
    pub pores_found: usize,
    pub pores_tp: usize,
    /// Over matched true pores of at least [`PORE_SIZING_MIN_MM`]: Σ detected diameter and
    /// Σ true diameter, mm.
    pub pores_sized_found_mm: f64,
    pub pores_sized_true_mm: f64,
}

impl CaseResult {
    /// Relative total-length error (None without true wrinkles).
    pub fn length_error(&self) -> Option<f64> {
        (self.lines_true_mm > 0.0).then(|| self.lines_found_mm / self.lines_true_mm - 1.0)
    }
}

/// Render and measure one phantom (full-image zone, calibration from the truth).
pub fn measure_case(
    case: &Case,
    config: &Config,
) -> (GroundTruth, crate::metrics::ZoneMeasurement) {
    let (truth, m, _) = render_and_measure(case, config, false);
    (truth, m)
}

/// [`measure_case`], and with `detectability` each true scar's
/// [`crate::metrics::scars::detectability`] in the photo (empty without).
fn render_and_measure(
    case: &Case,
    config: &Config,
    detectability: bool,
) -> (GroundTruth, crate::metrics::ZoneMeasurement, Vec<f64>) {
    let phantom = render_phantom(&case.spec, case.seed);
    let truth = phantom.truth;
    let (w, h) = phantom.image.dimensions();
    let planes = colour_planes(&DynamicImage::ImageRgb8(phantom.image));
    let zones = full_image_zones(w as usize, h as usize);
    let m = measure_zone(&ZoneInput {
        planes: &planes,
        zone: &zones[0],
        px_per_mm: Some(truth.px_per_mm),
        config,
    });
    let levels = if detectability && !truth.scars.is_empty() {
        let height = crate::metrics::height::pseudo_height(
            &planes,
            &zones[0],
            truth.px_per_mm,
            config.height.cutoff_mm,
        );
        let at: Vec<([f64; 2], f64)> = truth
            .scars
            .iter()
            .map(|s| ([s.x_px, s.y_px], s.diameter_mm))
            .collect();
        crate::metrics::scars::detectability(&planes, &zones[0], &height, &config.scars, &at)
    } else {
        Vec::new()
    };
    (truth, m, levels)
}

/// Render, measure ([`measure_case`]) and score one phantom, with the true scars above the
/// detection limit counted apart.
pub fn evaluate(case: &Case, config: &Config) -> CaseResult {
    let (truth, m, levels) = render_and_measure(case, config, true);
    score(case, &truth, &m, &levels)
}

/// The value of metric column `name` in `m`, NaN when missing.
pub fn column(m: &crate::metrics::ZoneMeasurement, name: &str) -> f64 {
    let i = metric_columns()
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    m.values[i].clone().unwrap_or(f64::NAN)
}

/// Score a measurement against its truth; `detectability` holds each true scar's
/// [`crate::metrics::scars::detectability`] (empty: none counts as detectable).
pub fn score(
    case: &Case,
    truth: &GroundTruth,
    m: &crate::metrics::ZoneMeasurement,
    detectability: &[f64],
) -> CaseResult {
    let ppm = truth.px_per_mm;
    let size = truth.size_px as usize;
    let area_cm2 = (size as f64 / ppm).powi(2) / 100.0;

    // Scars.
    let pairs = scar_matches(
        &m.scars.iter().map(|s| [s.x_px, s.y_px]).collect::<Vec<_>>(),
        &truth
            .scars
            .iter()
            .map(|s| ([s.x_px, s.y_px], Some(s.diameter_mm)))
            .collect::<Vec<_>>(),
        ppm,
        SCAR_MATCH_MM,
    );
    let scars_type_correct = pairs
        .iter()
        .filter(|&&(d, t)| m.scars[d].kind.label() == truth.scars[t].kind)
        .count();
    let kind_index = |label: &str| ScarKind::ALL.iter().position(|k| k.label() == label);
    let mut scars_by_kind = [ScarKindCount::default(); 3];
    for (t, scar) in truth.scars.iter().enumerate() {
        if let Some(k) = kind_index(&scar.kind) {
            let found = usize::from(pairs.iter().any(|p| p.1 == t));
            let count = &mut scars_by_kind[k];
            count.truth += 1;
            count.found += found;
            if detectability.get(t).is_some_and(|&l| l >= 1.0) {
                count.detectable += 1;
                count.detectable_found += found;
            }
        }
    }
    let mut scars_unmatched_by_kind = [0; 3];
    for (d, scar) in m.scars.iter().enumerate() {
        if let Some(k) = kind_index(scar.kind.label())
            && !pairs.iter().any(|p| p.0 == d)
        {
            scars_unmatched_by_kind[k] += 1;
        }
    }

    // Lines: where the skeleton lies.
    let wrinkle_band = polyline_band_mask(
        &truth
            .wrinkles
            .iter()
            .map(|w| (w.polyline_px.as_slice(), w.width_mm * ppm + BAND_MARGIN_PX))
            .collect::<Vec<_>>(),
        size,
    );
    let hair_band = polyline_band_mask(
        &truth
            .hairs
            .iter()
            .map(|h| {
                (
                    h.polyline_px.as_slice(),
                    0.5 * h.width_mm * ppm + BAND_MARGIN_PX,
                )
            })
            .collect::<Vec<_>>(),
        size,
    );
    let (mut hair_as_line_mm, mut lines_false_mm) = (0.0, 0.0);
    for line in &m.lines {
        if line.skeleton.is_empty() {
            continue;
        }
        let per_px = line.length_mm / line.skeleton.len() as f64;
        for &(x, y) in &line.skeleton {
            let i = y as usize * size + x as usize;
            if i >= wrinkle_band.len() || wrinkle_band[i] {
                continue;
            }
            lines_false_mm += per_px;
            if hair_band[i] {
                hair_as_line_mm += per_px;
            }
        }
    }
    let nuisance = truth
        .nuisance
        .clone()
        .unwrap_or_else(|| NuisanceRanges::default().draw(case.seed, case.seed));
    let wrinkles = wrinkle_covers(truth, m, &nuisance);
    // Pores.
    let pore_pairs = {
        // Candidate pairs through a grid of cells as wide as the largest match radius.
        let reach = |t: &crate::phantom::PoreTruth| (t.diameter_mm * ppm).max(PORE_MATCH_MIN_PX);
        let cell = truth
            .pores
            .iter()
            .map(reach)
            .fold(PORE_MATCH_MIN_PX, f64::max);
        let mut grid: std::collections::HashMap<(i64, i64), Vec<usize>> =
            std::collections::HashMap::new();
        for (t, p) in truth.pores.iter().enumerate() {
            let key = (
                (p.x_px / cell).floor() as i64,
                (p.y_px / cell).floor() as i64,
            );
            grid.entry(key).or_default().push(t);
        }
        let mut pairs = Vec::new();
        for (d, dp) in m.pores.iter().enumerate() {
            let (gx, gy) = (
                (dp.x_px / cell).floor() as i64,
                (dp.y_px / cell).floor() as i64,
            );
            for key in (gx - 1..=gx + 1).flat_map(|x| (gy - 1..=gy + 1).map(move |y| (x, y))) {
                for &t in grid.get(&key).map_or(&[][..], Vec::as_slice) {
                    let tp = &truth.pores[t];
                    let dist = (dp.x_px - tp.x_px).hypot(dp.y_px - tp.y_px);
                    if dist <= reach(tp) {
                        pairs.push((d, t, dist));
                    }
                }
            }
        }
        optimal_matches_sparse(m.pores.len(), truth.pores.len(), &pairs)
    };
    let (mut pores_sized_found_mm, mut pores_sized_true_mm) = (0.0, 0.0);
    for &(d, t) in &pore_pairs {
        if truth.pores[t].diameter_mm >= PORE_SIZING_MIN_MM {
            pores_sized_found_mm += m.pores[d].diameter_mm;
            pores_sized_true_mm += truth.pores[t].diameter_mm;
        }
    }
    CaseResult {
        seed: case.seed,
        clean: case.clean,
        nuisance,
        area_cm2,
        scars_true: truth.scars.len(),
        scars_found: m.scars.len(),
        scars_tp: pairs.len(),
        scars_type_correct,
        scars_by_kind,
        scars_unmatched_by_kind,
        lines_true_count: truth.wrinkles.len(),
        lines_true_mm: truth.total_wrinkle_length_mm,
        lines_found_count: column(m, "lines_count") as usize,
        lines_found_mm: column(m, "lines_length_mm"),
        hair_mm: truth.hairs.iter().map(|h| h.length_mm).sum(),
        hair_as_line_mm,
        lines_false_mm,
        wrinkles,
        pores_true: truth.pores.len(),
        pores_found: m.pores.len(),
        pores_tp: pore_pairs.len(),
        pores_sized_found_mm,
        pores_sized_true_mm,
    }
}

/// Each true wrinkle's cover: a piece of its centre line (segments ≤ 0.25 mm) counts as found
/// when a detected line's skeleton pixel lies within the wrinkle's width + [`BAND_MARGIN_PX`]
/// of the piece's midpoint.
fn wrinkle_covers(
    truth: &GroundTruth,
    m: &crate::metrics::ZoneMeasurement,
    nuisance: &Nuisance,
) -> Vec<WrinkleCover> {
    let (ppm, size) = (truth.px_per_mm, truth.size_px as usize);
    let reach = |w: &crate::phantom::WrinkleTruth| w.width_mm * ppm + BAND_MARGIN_PX;
    // Skeleton pixels in cells as wide as the widest reach.
    let cell = truth.wrinkles.iter().map(reach).fold(1.0, f64::max);
    let mut skeleton: CellGrid<(f64, f64)> = CellGrid::new((size, size), cell);
    for line in &m.lines {
        for &(x, y) in &line.skeleton {
            let p = (f64::from(x), f64::from(y));
            skeleton.insert(p, p);
        }
    }
    let near = |c: [f64; 2], r: f64| {
        skeleton.any_near((c[0], c[1]), |&(x, y)| {
            (x - c[0]).powi(2) + (y - c[1]).powi(2) <= r * r
        })
    };
    truth
        .wrinkles
        .iter()
        .map(|w| {
            let r = reach(w);
            let (mut true_px, mut found_px) = (0.0, 0.0);
            for seg in w.polyline_px.windows(2) {
                let (a, b) = (seg[0], seg[1]);
                let len = (b[0] - a[0]).hypot(b[1] - a[1]);
                true_px += len;
                if near([0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])], r) {
                    found_px += len;
                }
            }
            WrinkleCover {
                light_class: wrinkle_light_class(
                    nuisance,
                    w.orientation_deg,
                    w.depth_mm / w.width_mm,
                ),
                true_mm: true_px / ppm,
                found_mm: found_px / ppm,
            }
        })
        .collect()
}

/// Evaluate every case (in parallel; results in case order).
pub fn evaluate_all(cases: &[Case], config: &Config) -> Vec<CaseResult> {
    cases.par_iter().map(|c| evaluate(c, config)).collect()
}

/// A named subset of results.
pub struct Stratum<'a> {
    pub dimension: &'static str,
    pub label: String,
    pub results: Vec<&'a CaseResult>,
}

/// Each dimension's label for a phantom.
fn labels(n: &Nuisance) -> [(&'static str, String); 6] {
    let light = if n.diffuse_light {
        "ring flash".to_owned()
    } else if n.light_elevation_deg >= 45.0 {
        "oblique 45-70°".to_owned()
    } else {
        "oblique 20-45°".to_owned()
    };
    let tone = match n.fitzpatrick {
        1 | 2 => "Fitzpatrick I-II",
        3 | 4 => "Fitzpatrick III-IV",
        _ => "Fitzpatrick V-VI",
    };
    let hairs = match n.terminal_hairs {
        0 => "no terminal hair",
        1..=3 => "1-3 terminal hairs",
        _ => "4+ terminal hairs",
    };
    let res = if n.px_per_mm < 16.0 {
        "8-16 px/mm"
    } else if n.px_per_mm < 28.0 {
        "16-28 px/mm"
    } else {
        "28-40 px/mm"
    };
    [
        ("all", "all".to_owned()),
        ("light", light),
        ("skin tone", tone.to_owned()),
        (
            "pore depth",
            if n.pore_depth_mm < 0.04 {
                "pores < 0.04 mm deep"
            } else {
                "pores >= 0.04 mm deep"
            }
            .to_owned(),
        ),
        (
            "furrow depth",
            if n.furrow_depth_mm < 0.025 {
                "furrows < 0.025 mm deep"
            } else {
                "furrows >= 0.025 mm deep"
            }
            .to_owned(),
        ),
        ("hair / resolution", format!("{hairs}; {res}")),
    ]
}

/// The strata of a result set: every dimension's labels, in first-seen order per dimension.
pub fn strata(results: &[CaseResult]) -> Vec<Stratum<'_>> {
    let mut out: Vec<Stratum<'_>> = Vec::new();
    for r in results {
        let mut ls = labels(&r.nuisance).to_vec();
        // The last dimension packs two; split it.
        let (hair, res) = {
            let s = ls.pop().expect("six labels").1;
            let (a, b) = s.split_once("; ").expect("two parts");
            (a.to_owned(), b.to_owned())
        };
        ls.push(("hairs", hair));
        ls.push(("resolution", res));
        for (dim, label) in ls {
            match out
                .iter_mut()
                .find(|s| s.dimension == dim && s.label == label)
            {
                Some(s) => s.results.push(r),
                None => out.push(Stratum {
                    dimension: dim,
                    label,
                    results: vec![r],
                }),
            }
        }
    }
    let order = [
        "all",
        "light",
        "skin tone",
        "pore depth",
        "furrow depth",
        "hairs",
        "resolution",
    ];
    out.sort_by_key(|s| order.iter().position(|d| *d == s.dimension));
    out
}

/// The scores of one stratum (None where the stratum has nothing to score).
#[derive(Debug, Clone, Default)]
pub struct StratumScores {
    pub phantoms: usize,
    pub clean: usize,
    pub scars_f1: Option<f64>,
    /// F1 with only the true scars above the detection limit missed counting as misses (a
    /// detection of one below it still counts as found).
    pub scars_f1_detectable: Option<f64>,
    pub scars_type_accuracy: Option<f64>,
    pub lines_median_abs_length_error: Option<f64>,
    pub lines_count_within_one: Option<f64>,
    pub hair_as_line: Option<f64>,
    pub clean_false_scars_per_10cm2: Option<f64>,
    pub clean_false_lines_mm_per_cm2: Option<f64>,
    /// Matched pores / true pores.
    pub pores_recall: Option<f64>,
    /// Matched pores / detected pores.
    pub pores_precision: Option<f64>,
    /// Σ detected / Σ true diameter − 1 over matched true pores ≥ [`PORE_SIZING_MIN_MM`].
    pub pores_size_error: Option<f64>,
}

/// Σ numerators / Σ denominators (None when the denominators sum to 0).
fn ratio(pairs: impl Iterator<Item = (usize, usize)>) -> Option<f64> {
    let (a, b) = pairs.fold((0usize, 0usize), |acc, (x, y)| (acc.0 + x, acc.1 + y));
    (b > 0).then(|| a as f64 / b as f64)
}

impl StratumScores {
    pub fn of(results: &[&CaseResult]) -> Self {
        let feat: Vec<&&CaseResult> = results.iter().filter(|r| !r.clean).collect();
        let clean: Vec<&&CaseResult> = results.iter().filter(|r| r.clean).collect();
        let (tp, found, truth, typed) = feat.iter().fold((0, 0, 0, 0), |a, r| {
            (
                a.0 + r.scars_tp,
                a.1 + r.scars_found,
                a.2 + r.scars_true,
                a.3 + r.scars_type_correct,
            )
        });
        let scars_f1 = (found + truth > 0).then(|| 2.0 * tp as f64 / (found + truth) as f64);
        let missed_detectable: usize = feat
            .iter()
            .flat_map(|r| r.scars_by_kind.iter())
            .map(|k| k.detectable - k.detectable_found)
            .sum();
        // 2·TP / (2·TP + FP + FN), FP = found − TP.
        let scars_f1_detectable = (found + tp + missed_detectable > 0)
            .then(|| 2.0 * tp as f64 / (found + tp + missed_detectable) as f64);
        let scars_type_accuracy = (tp > 0).then(|| typed as f64 / tp as f64);
        let mut errors: Vec<f64> = feat
            .iter()
            .filter_map(|r| r.length_error().map(f64::abs))
            .collect();
        let within = feat
            .iter()
            .filter(|r| (r.lines_found_count as i64 - r.lines_true_count as i64).abs() <= 1)
            .count();
        let hair_mm: f64 = results.iter().map(|r| r.hair_mm).sum();
        let hair_line: f64 = results.iter().map(|r| r.hair_as_line_mm).sum();
        let clean_area: f64 = clean.iter().map(|r| r.area_cm2).sum();
        Self {
            phantoms: results.len(),
            clean: clean.len(),
            scars_f1,
            scars_f1_detectable,
            scars_type_accuracy,
            lines_median_abs_length_error: crate::metrics::median(&mut errors),
            lines_count_within_one: (!feat.is_empty()).then(|| within as f64 / feat.len() as f64),
            hair_as_line: (hair_mm > 0.0).then(|| hair_line / hair_mm),
            clean_false_scars_per_10cm2: (clean_area > 0.0).then(|| {
                10.0 * clean.iter().map(|r| r.scars_found).sum::<usize>() as f64 / clean_area
            }),
            clean_false_lines_mm_per_cm2: (clean_area > 0.0)
                .then(|| clean.iter().map(|r| r.lines_found_mm).sum::<f64>() / clean_area),
            pores_recall: ratio(results.iter().map(|r| (r.pores_tp, r.pores_true))),
            pores_precision: ratio(results.iter().map(|r| (r.pores_tp, r.pores_found))),
            pores_size_error: {
                let (f, t) = results.iter().fold((0.0, 0.0), |a, r| {
                    (a.0 + r.pores_sized_found_mm, a.1 + r.pores_sized_true_mm)
                });
                (t > 0.0).then(|| f / t - 1.0)
            },
        }
    }

    /// The floors of `f` this stratum misses, as messages.
    pub fn misses(&self, f: &Floors) -> Vec<String> {
        let mut out = Vec::new();
        let mut low = |name: &str, v: Option<f64>, floor: f64| {
            if let Some(v) = v
                && v < floor
            {
                out.push(format!("{name} {v:.3} < {floor}"));
            }
        };
        low("scars F1", self.scars_f1, f.scars_f1);
        low(
            "scar type accuracy",
            self.scars_type_accuracy,
            f.scars_type_accuracy,
        );
        low(
            "line count within +-1",
            self.lines_count_within_one,
            f.lines_count_within_one,
        );
        low("pore recall", self.pores_recall, f.pores_recall);
        low("pore precision", self.pores_precision, f.pores_precision);
        let mut high = |name: &str, v: Option<f64>, ceiling: f64| {
            if let Some(v) = v
                && v > ceiling
            {
                out.push(format!("{name} {v:.3} > {ceiling}"));
            }
        };
        high(
            "median |line length error|",
            self.lines_median_abs_length_error,
            f.lines_median_abs_length_error,
        );
        high("hair detected as line", self.hair_as_line, f.hair_as_line);
        high(
            "false scars per 10 cm2 (clean)",
            self.clean_false_scars_per_10cm2,
            f.clean_false_scars_per_10cm2,
        );
        high(
            "false lines mm per cm2 (clean)",
            self.clean_false_lines_mm_per_cm2,
            f.clean_false_lines_mm_per_cm2,
        );
        high(
            "|pore size error|",
            self.pores_size_error.map(f64::abs),
            f.pores_abs_size_error,
        );
        out
    }
}

fn cell(v: Option<f64>, pct: bool) -> String {
    match v {
        None => "–".to_owned(),
        // `+ 0.0` turns a -0 into 0.
        Some(v) if pct => format!("{:.1} %", 100.0 * v + 0.0),
        Some(v) => format!("{:.2}", if v.abs() < 0.005 { 0.0 } else { v }),
    }
}

/// The per-stratum table as Markdown, with a pass/fail column.
pub fn strata_table(results: &[CaseResult]) -> String {
    let mut s = String::from(
        "| dimension | stratum | phantoms (clean) | scars F1 | scar type accuracy | median \\|line length error\\| | line count ±1 | hair as line | false scars / 10 cm² (clean) | false lines mm/cm² (clean) | pore recall | pore precision | pore size error (≥ 0.15 mm) | target floors |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for st in strata(results) {
        let sc = StratumScores::of(&st.results);
        let fails = sc.misses(&Floors::TARGET);
        let _ = writeln!(
            s,
            "| {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            st.dimension,
            st.label,
            sc.phantoms,
            sc.clean,
            cell(sc.scars_f1, false),
            cell(sc.scars_type_accuracy, true),
            cell(sc.lines_median_abs_length_error, true),
            cell(sc.lines_count_within_one, true),
            cell(sc.hair_as_line, true),
            cell(sc.clean_false_scars_per_10cm2, false),
            cell(sc.clean_false_lines_mm_per_cm2, false),
            cell(sc.pores_recall, true),
            cell(sc.pores_precision, true),
            cell(sc.pores_size_error, true),
            if fails.is_empty() {
                "pass".to_owned()
            } else {
                format!("**miss**: {}", fails.join("; "))
            }
        );
    }
    s
}

/// Scar detection per true type (recall: found of true, the match rule of the scar F1) and the
/// detections matching no true scar per detected type, in every stratum, as Markdown.
pub fn scar_kind_table(results: &[CaseResult]) -> String {
    let mut s = String::from(
        "| dimension | stratum | icepick found | boxcar found | rolling found | unmatched detections (icepick / boxcar / rolling) | scars F1 | scars F1, detectable misses only |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for st in strata(results) {
        let mut by_kind = [ScarKindCount::default(); 3];
        let mut unmatched = [0usize; 3];
        for r in &st.results {
            for k in 0..3 {
                let c = r.scars_by_kind[k];
                by_kind[k].truth += c.truth;
                by_kind[k].found += c.found;
                by_kind[k].detectable += c.detectable;
                by_kind[k].detectable_found += c.detectable_found;
                unmatched[k] += r.scars_unmatched_by_kind[k];
            }
        }
        let found = |c: ScarKindCount| {
            if c.truth == 0 {
                "–".to_owned()
            } else {
                format!(
                    "{}/{} ({:.0} %); {}/{} detectable",
                    c.found,
                    c.truth,
                    100.0 * c.found as f64 / c.truth as f64,
                    c.detectable_found,
                    c.detectable,
                )
            }
        };
        let scores = StratumScores::of(&st.results);
        let f1 = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.3}"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} / {} / {} | {} | {} |",
            st.dimension,
            st.label,
            found(by_kind[0]),
            found(by_kind[1]),
            found(by_kind[2]),
            unmatched[0],
            unmatched[1],
            unmatched[2],
            f1(scores.scars_f1),
            f1(scores.scars_f1_detectable),
        );
    }
    s
}

/// True wrinkles by how they lie to the light: how many, their length, the share of it the
/// lines cover and how many are missed (less than [`WRINKLE_MISSED_BELOW`] of their length
/// covered), as Markdown.
pub fn wrinkle_light_table(results: &[CaseResult]) -> String {
    let mut s = String::from(
        "| light and wrinkle | wrinkles | true length | length found | wrinkles missed |\n\
         |---|---|---|---|---|\n",
    );
    for (class, label) in WRINKLE_LIGHT_CLASSES.iter().enumerate() {
        let covers: Vec<&WrinkleCover> = results
            .iter()
            .flat_map(|r| &r.wrinkles)
            .filter(|w| w.light_class == class)
            .collect();
        // Folded from +0 (an empty f64 sum is −0, which would print "-0 mm").
        let true_mm = covers.iter().fold(0.0, |a, w| a + w.true_mm);
        let found_mm = covers.iter().fold(0.0, |a, w| a + w.found_mm);
        let missed = covers
            .iter()
            .filter(|w| w.found_mm < WRINKLE_MISSED_BELOW * w.true_mm)
            .count();
        let share = if true_mm > 0.0 {
            format!("{:.0} %", 100.0 * found_mm / true_mm)
        } else {
            "–".to_owned()
        };
        let _ = writeln!(
            s,
            "| {label} | {} | {true_mm:.0} mm | {share} | {missed} |",
            covers.len()
        );
    }
    s
}

/// One line per phantom (for the log and the appendix of the report).
pub fn case_lines(results: &[CaseResult]) -> String {
    let mut s = String::new();
    for r in results {
        let n = &r.nuisance;
        let _ = writeln!(
            s,
            "seed {:5} {} {:4.1} px/mm FT{} {} el {:3.0} pore {:.3} furrow {:.3} hairs {}/{} | \
             scars {}/{} found {} typed {} | lines {} {:.1} mm -> {} {:.1} mm ({}) false {:.1} mm, \
             hair {:.1}/{:.1} mm | pores {}/{} found {}",
            r.seed,
            if r.clean { "clean" } else { "feat " },
            n.px_per_mm,
            n.fitzpatrick,
            if n.diffuse_light { "ring" } else { "obl " },
            n.light_elevation_deg,
            n.pore_depth_mm,
            n.furrow_depth_mm,
            n.terminal_hairs,
            n.vellus_hairs,
            r.scars_tp,
            r.scars_true,
            r.scars_found,
            r.scars_type_correct,
            r.lines_true_count,
            r.lines_true_mm,
            r.lines_found_count,
            r.lines_found_mm,
            r.length_error()
                .map_or("–".to_owned(), |e| format!("{:+.0} %", 100.0 * e)),
            r.lines_false_mm,
            r.hair_as_line_mm,
            r.hair_mm,
            r.pores_tp,
            r.pores_true,
            r.pores_found,
        );
    }
    s
}

/// `skintex validate`: run [`randomised_set`], print or write the report. `Ok(false)` when a
/// stratum misses a floor.
///
/// # Errors
/// An unreadable configuration or an unwritable report.
pub fn run_validate_command(args: &crate::cli::ValidateArgs) -> anyhow::Result<bool> {
    let config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    let mut cases = if args.training {
        training_set()
    } else {
        randomised_set()
    };
    if !args.seeds.is_empty() {
        cases.retain(|c| args.seeds.contains(&c.seed));
    }
    if let Some(dir) = &args.dump {
        dump_cases(&cases, dir)?;
    }
    let results = evaluate_all(&cases, &config);
    if args.verbose {
        eprint!("{}", case_lines(&results));
    }
    let table = strata_table(&results);
    let pass = strata(&results).iter().all(|s| {
        StratumScores::of(&s.results)
            .misses(&Floors::TARGET)
            .is_empty()
    });
    match &args.out {
        Some(path) => {
            crate::output::write_atomic(path, report_markdown(&results).as_bytes())?;
            println!("skintex validate: report written to {}", path.display());
        }
        None => print!("{table}"),
    }
    Ok(pass)
}

/// Write each case's phantom (`phantom-SEED.png`, `.json`) and `manifest.csv` (path,
/// image_id, px_per_mm, roi) into `dir`.
fn dump_cases(cases: &[Case], dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut manifest = String::from("path,image_id,px_per_mm,roi\n");
    for case in cases {
        let phantom = render_phantom(&case.spec, case.seed);
        let name = format!("phantom-{}", case.seed);
        let mut png = Vec::new();
        phantom
            .image
            .write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))?;
        crate::output::write_atomic(&dir.join(format!("{name}.png")), &png)?;
        let mut json = serde_json::to_vec_pretty(&phantom.truth)?;
        json.push(b'\n');
        crate::output::write_atomic(&dir.join(format!("{name}.json")), &json)?;
        let _ = writeln!(
            manifest,
            "{name}.png,{name},{},full",
            phantom.truth.px_per_mm
        );
    }
    crate::output::write_atomic(&dir.join("manifest.csv"), manifest.as_bytes())?;
    Ok(())
}

/// The full report (docs/VALIDATION.md).
pub fn report_markdown(results: &[CaseResult]) -> String {
    let mut s = String::from(
        "# Validation on realistic randomised phantoms\n\n\
         Generated by `skintex validate --out docs/VALIDATION.md` (do not edit by hand). \
         Method, scores and floors: `src/validation.rs`; phantom ranges and their sources: \
         `src/phantom/nuisance.rs`.\n\n\
         The phantoms: 48 with 1-4 wrinkles and 1-6 scars, 16 clean ones (pores, furrow \
         network, at least two terminal hairs, pigment), every nuisance drawn from the realistic \
         preset's ranges with fixed seeds the methods were not tuned on (the training set is \
         `skintex validate --training`). The last column lists the floors of issue 14 a stratum \
         misses; `tests/validation_randomised.rs` holds lower regression floors \
         (`Floors::REGRESSION`, today's level with a margin) so that no change makes a stratum \
         worse. Pore recall and precision count every true pore, including those below the \
         detection limit (2 px across, or shallower than `pores.min_contrast`).\n\n",
    );
    s.push_str(&strata_table(results));
    s.push_str(
        "\n## Scars by type\n\n\
         True scars found per type (a detection within the scar's radius + 0.5 mm, as for the \
         F1 above) and the detections that match no true scar, by the type they were given. \
         Broad, shallow (rolling) scars are the hard ones: under diffuse light a shallow bowl \
         barely shades. A steep-walled (boxcar) pit whose floor is lit like the skin shows as a \
         dark ring (coaxial light) or a dark and a lit crescent (oblique light), not as a dark \
         disk; those are found by their closed wall, and a wall weak in one sector is what is \
         still missed (see the rims and the limits in `src/metrics/scars/mod.rs`).\n\n\
         A true scar is *detectable* when the photo shows it above the detector's own limit: \
         the scale-normalised LoG of the relative luminance at the scar's scale (σ = d / 2√2), \
         largest within a quarter diameter of its true centre, is at least the limit u(σ) \
         robust SDs of the zone's response at that scale (`scars::detectability`). Below it \
         the scar shades less than the skin's own texture (pores, furrows, relief) at its scale \
         and no threshold on that signal can find it without finding the texture too. A \
         steep-walled pit is also found by its wall (rims), which this statistic does not see, \
         so for boxcars it undercounts what the photo shows. The last \
         column counts only the detectable scars missed as misses (issue 14's floor, 0.9, is on \
         the F1 before it, which counts every true scar).\n\n",
    );
    s.push_str(&scar_kind_table(results));
    s.push_str(
        "\n## Wrinkles by light\n\n\
         Every true wrinkle by how it lies to the light, with the share of its length that lies \
         within one wrinkle width + 2 px of a detected line (the band of the false-line score) \
         and the wrinkles missed (less than 30 % of their length found). Under an oblique light \
         a wrinkle running along the light's azimuth has no lit and shaded wall, only the slight \
         darkening of its tilted walls and of its floor; under the ring flash a shallow, gently \
         sloped wrinkle darkens its walls by about s²/2 for slope s (see the limits in \
         `src/metrics/lines/mod.rs`). These are the wrinkles the median length error is made \
         of.\n\n",
    );
    s.push_str(&wrinkle_light_table(results));
    s.push_str("\n## Per phantom\n\n```text\n");
    s.push_str(&case_lines(results));
    s.push_str("```\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scored phantom with the given per-type (true, found) counts and unmatched detections.
    fn result(
        diffuse_light: bool,
        by_kind: [(usize, usize); 3],
        unmatched: [usize; 3],
    ) -> CaseResult {
        let mut nuisance = NuisanceRanges::default().draw(1, 1);
        nuisance.diffuse_light = diffuse_light;
        nuisance.light_elevation_deg = if diffuse_light { 90.0 } else { 30.0 };
        let scars_by_kind = by_kind.map(|(truth, found)| ScarKindCount {
            truth,
            found,
            detectable: truth,
            detectable_found: found,
        });
        CaseResult {
            seed: 1,
            clean: false,
            nuisance,
            area_cm2: 10.0,
            scars_true: by_kind.iter().map(|k| k.0).sum(),
            scars_found: by_kind.iter().map(|k| k.1).sum::<usize>()
                + unmatched.iter().sum::<usize>(),
            scars_tp: by_kind.iter().map(|k| k.1).sum(),
            scars_type_correct: 0,
            scars_by_kind,
            scars_unmatched_by_kind: unmatched,
            lines_true_count: 0,
            lines_true_mm: 0.0,
            lines_found_count: 0,
            lines_found_mm: 0.0,
            hair_mm: 0.0,
            hair_as_line_mm: 0.0,
            lines_false_mm: 0.0,
            wrinkles: Vec::new(),
            pores_true: 0,
            pores_found: 0,
            pores_tp: 0,
            pores_sized_found_mm: 0.0,
            pores_sized_true_mm: 0.0,
        }
    }

    /// The light class of a wrinkle: under the ring flash by its walls' steepness, under an
    /// oblique light by its angle to the light's azimuth, whichever way either runs.
    #[test]
    fn wrinkle_light_class_bins_the_angle_to_the_light() {
        let mut n = NuisanceRanges::default().draw(1, 1);
        n.diffuse_light = true;
        assert_eq!(wrinkle_light_class(&n, 10.0, 0.2), 0);
        assert_eq!(wrinkle_light_class(&n, 10.0, 0.25), 1);
        n.diffuse_light = false;
        n.light_azimuth_deg = 200.0;
        // 15°, 30°, 31°, 60°, 61° and 90° from the azimuth, on either side and either way round.
        for (orientation, class) in [
            (5.0, 2),
            (35.0, 2),
            (170.0, 2),
            (51.0, 3),
            (140.0, 3),
            (81.0, 4),
            (110.0, 4),
        ] {
            assert_eq!(
                wrinkle_light_class(&n, orientation, 0.1),
                class,
                "orientation {orientation}"
            );
        }
    }

    /// The wrinkle table sums each class over the phantoms: count, length, share found and
    /// the wrinkles with less than 30 % found.
    #[test]
    fn wrinkle_light_table_sums_each_class() {
        let mut a = result(true, [(0, 0); 3], [0; 3]);
        let mut b = result(false, [(0, 0); 3], [0; 3]);
        let cover = |light_class, true_mm, found_mm| WrinkleCover {
            light_class,
            true_mm,
            found_mm,
        };
        a.wrinkles = vec![cover(0, 10.0, 2.0), cover(0, 30.0, 30.0)];
        b.wrinkles = vec![cover(4, 20.0, 5.0), cover(2, 5.0, 1.4)];
        let table = wrinkle_light_table(&[a, b]);
        let rows: Vec<&str> = table.lines().skip(2).collect();
        assert_eq!(rows.len(), WRINKLE_LIGHT_CLASSES.len());
        assert_eq!(
            rows[0],
            "| ring flash, depth/width < 0.25 (gently sloped walls) | 2 | 40 mm | 80 % | 1 |"
        );
        assert_eq!(
            rows[1],
            "| ring flash, depth/width ≥ 0.25 | 0 | 0 mm | – | 0 |"
        );
        assert_eq!(
            rows[2],
            "| oblique, wrinkle within 30° of the light's azimuth | 1 | 5 mm | 28 % | 1 |"
        );
        assert_eq!(
            rows[4],
            "| oblique, 60-90° from it (across the light) | 1 | 20 mm | 25 % | 1 |"
        );
    }

    /// The per-type table sums the phantoms of each stratum: found of true per type (a dash
    /// for a type the stratum does not hold) and the unmatched detections per detected type.
    #[test]
    fn scar_kind_table_sums_each_stratum() {
        let results = [
            result(true, [(2, 2), (1, 0), (0, 0)], [1, 0, 0]),
            result(false, [(1, 1), (3, 2), (4, 1)], [0, 2, 1]),
        ];
        let table = scar_kind_table(&results);
        let row = |label: &str| {
            table
                .lines()
                .find(|l| l.split('|').nth(2).is_some_and(|c| c.trim() == label))
                .unwrap_or_else(|| panic!("no row {label} in\n{table}"))
                .to_owned()
        };
        // all: TP 6, found 10, true 11: F1 12 / 21; every true scar detectable here.
        assert_eq!(
            row("all"),
            "| all | all | 3/3 (100 %); 3/3 detectable | 2/4 (50 %); 2/4 detectable | \
             1/4 (25 %); 1/4 detectable | 1 / 2 / 1 | 0.571 | 0.571 |"
        );
        assert_eq!(
            row("ring flash"),
            "| light | ring flash | 2/2 (100 %); 2/2 detectable | 0/1 (0 %); 0/1 detectable | – \
             | 1 / 0 / 0 | 0.667 | 0.667 |"
        );
        assert_eq!(
            row("oblique 20-45°"),
            "| light | oblique 20-45° | 1/1 (100 %); 1/1 detectable | 2/3 (67 %); 2/3 detectable \
             | 1/4 (25 %); 1/4 detectable | 0 / 2 / 1 | 0.533 | 0.533 |"
        );
    }

    /// A true scar below the detection limit that was missed is left out of the F1's misses,
    /// one above it is not; a detection stays a detection either way.
    #[test]
    fn detectable_f1_counts_only_detectable_misses() {
        let mut r = result(false, [(2, 1), (0, 0), (2, 0)], [1, 0, 0]);
        // One rolling scar missed below the limit, the other above; the icepick missed above.
        r.scars_by_kind[2].detectable = 1;
        let scores = StratumScores::of(&[&r]);
        // TP 1, FP 1, FN 3 of which 2 detectable.
        assert!((scores.scars_f1.unwrap() - 2.0 / 6.0).abs() < 1e-12);
        assert!((scores.scars_f1_detectable.unwrap() - 2.0 / 5.0).abs() < 1e-12);
    }
}
