//! Metrics stage: one module per family, each declaring its columns once.
//!
//! A family receives one zone and returns one [`MetricValue`] per declared column, in
//! declaration order. A value that cannot be computed is [`Missing`] with a reason, never a
//! made-up number. Families that work in millimetres (roughness, lines, scars, pores) need a
//! calibrated image; without one their columns are empty with the reason `uncalibrated`.
//!
//! [`FAMILIES`] lists the families in output order with what each needs. Within a zone the
//! relief families measure the pseudo-height ([`height`]): pores come before scars (a scar is
//! told from a pore by the zone's own pore population), lines beside them, tone on the colour
//! planes.
//!
//! # Adding a family
//! 1. `src/metrics/<family>.rs` (or a folder): `COLUMNS` (names `<family>_<feature>_<unit>`),
//!    a `measure` function, the method, formulas, units and references in the module doc.
//! 2. A parameter section in `src/config.rs` (`param_section!`), added to `Config` and its
//!    `validate` and `commented_toml`.
//! 3. An entry in [`FAMILIES`] (with its module, whose documentation `docs/METRICS.md`
//!    carries) and its call in `measure_zone_with` / [`measure_zones`] and `assemble`.
//! 4. If it has per-detection records: a field of [`ZoneMeasurement`], a table in
//!    `src/output/tables.rs` (`table_bytes`, columns), `src/output/dictionary.rs`, the QC picture
//!    (`src/output/qc.rs`), and a bump of `STORE_FORMAT` (`src/output/store.rs`).
//! 5. The data dictionary snapshot (`tests/snapshots/`), the README's output table, and
//!    validation on phantoms (`src/validation.rs`, `tests/validation_*.rs`).

pub mod capture;
pub mod height;
pub mod lines;
pub mod pores;
pub mod roughness;
pub mod scars;
pub mod tone;

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::config::Config;
use crate::input::colour::{ColourCorrection, ColourPlanes};
use crate::segment::Zone;
use height::PseudoHeight;

pub use lines::LineRecord;
pub use pores::PoreRecord;
pub use scars::ScarRecord;

/// One output column: name, unit and meaning, as written to the data dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: &'static str,
    /// Unit, or `1` for unitless numbers, or empty for text.
    pub unit: &'static str,
    pub description: &'static str,
}

/// A [`ColumnSpec`] in a `const` table.
pub const fn spec(name: &'static str, unit: &'static str, description: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        unit,
        description,
    }
}

/// Why a value is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing(pub String);

impl Missing {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

/// A metric's value or the reason it has none.
pub type MetricValue = Result<f64, Missing>;

/// A finite value, or `Missing` with `reason` for NaN and infinities.
pub fn finite_or(value: f64, reason: &str) -> MetricValue {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Missing::new(reason))
    }
}

/// Median of `v` (reordered: sorted), the mean of the two middle values when `v.len()` is
/// even; `None` when empty.
pub(crate) fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(0.5 * (v[(n - 1) / 2] + v[n / 2]))
}

/// `n` copies of the same missing value.
pub fn all_missing(n: usize, reason: &str) -> Vec<MetricValue> {
    vec![Err(Missing::new(reason)); n]
}

/// What a family needs to measure one zone.
pub struct ZoneInput<'a> {
    pub planes: &'a ColourPlanes,
    pub zone: &'a Zone,
    /// Pixels per millimetre, when the image is calibrated.
    pub px_per_mm: Option<f64>,
    pub config: &'a Config,
}

/// Everything measured on one zone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZoneMeasurement {
    /// Aligned with [`metric_columns`].
    pub values: Vec<MetricValue>,
    /// Each detected fine line, for `lines.csv` and the QC picture.
    pub lines: Vec<LineRecord>,
    /// Each detected scar, for `scars.csv` and the QC picture.
    pub scars: Vec<ScarRecord>,
    /// Each detected pore, for `pores.csv` and the QC picture.
    pub pores: Vec<PoreRecord>,
}

/// What a family measures on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The pseudo-height of a calibrated zone (lengths in mm).
    Relief,
    /// The colour planes (no calibration needed).
    Colour,
}

/// A module's source: its path in the repository and its text (for its module documentation:
/// method, formulas, references, which `docs/METRICS.md` carries).
#[derive(Debug, Clone, Copy)]
pub struct ModuleSource {
    pub path: &'static str,
    pub text: &'static str,
}

/// The [`ModuleSource`] of a file of `src/metrics/`.
macro_rules! module_source {
    ($file:literal) => {
        ModuleSource {
            path: concat!("src/metrics/", $file),
            text: include_str!($file),
        }
    };
}

/// The pseudo-height's module, which the relief families measure on.
pub const HEIGHT_MODULE: ModuleSource = module_source!("height.rs");

/// One metric family.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    pub name: &'static str,
    pub columns: &'static [ColumnSpec],
    pub input: Input,
    /// The module that documents the family's method.
    pub module: ModuleSource,
}

/// The metric families in output order.
pub const FAMILIES: &[Family] = &[
    Family {
        name: "roughness",
        columns: roughness::COLUMNS,
        input: Input::Relief,
        module: module_source!("roughness/mod.rs"),
    },
    Family {
        name: "lines",
        columns: lines::COLUMNS,
        input: Input::Relief,
        module: module_source!("lines/mod.rs"),
    },
    Family {
        name: "scars",
        columns: scars::COLUMNS,
        input: Input::Relief,
        module: module_source!("scars/mod.rs"),
    },
    Family {
        name: "pores",
        columns: pores::COLUMNS,
        input: Input::Relief,
        module: module_source!("pores.rs"),
    },
    Family {
        name: "tone",
        columns: tone::COLUMNS,
        input: Input::Colour,
        module: module_source!("tone.rs"),
    },
];

/// All metric columns of all families, in output order.
pub fn metric_columns() -> Vec<ColumnSpec> {
    FAMILIES
        .iter()
        .flat_map(|f| f.columns.iter().copied())
        .collect()
}

const UNCALIBRATED: &str = "uncalibrated: needs px_per_mm";

/// Whether the work of one image may be spread over the thread pool's idle threads. The
/// pipeline says yes while fewer images are being analysed than the pool has threads (a
/// single photo, the end of a batch), so a run never holds the memory of more images at once
/// than it has threads. The values do not depend on it: the same functions run either way.
#[derive(Debug, Clone, Copy)]
pub struct SpareThreads<'a> {
    in_flight: Option<&'a AtomicUsize>,
    threads: usize,
}

impl<'a> SpareThreads<'a> {
    /// Everything on the calling thread.
    pub const NONE: SpareThreads<'static> = SpareThreads {
        in_flight: None,
        threads: 1,
    };

    /// Spare threads exist while `in_flight` (images being analysed) is below `threads`.
    pub fn new(in_flight: &'a AtomicUsize, threads: usize) -> Self {
        Self {
            in_flight: Some(in_flight),
            threads,
        }
    }

    /// Asked anew at each split point, so the end of a batch uses the freed threads.
    pub fn available(&self) -> bool {
        self.in_flight
            .is_some_and(|n| n.load(Ordering::Relaxed) < self.threads)
    }

    /// How many parts to split a long computation in: a few per thread when
    /// [`SpareThreads::available`] (so the parts balance), else 1.
    pub fn parts(&self) -> usize {
        if self.available() {
            2 * self.threads
        } else {
            1
        }
    }

    /// `(a(), b())`, the two on different threads when [`SpareThreads::available`].
    fn join<RA: Send, RB: Send>(
        &self,
        a: impl FnOnce() -> RA + Send,
        b: impl FnOnce() -> RB + Send,
    ) -> (RA, RB) {
        if self.available() {
            rayon::join(a, b)
        } else {
            (a(), b())
        }
    }
}

/// Measure every family on one zone, on the calling thread.
pub fn measure_zone(input: &ZoneInput<'_>) -> ZoneMeasurement {
    measure_zone_with(
        input.planes,
        input.planes,
        input.zone,
        input.px_per_mm,
        input.config,
        SpareThreads::NONE,
    )
}

/// Measure every zone of one image, consuming its colour planes; values equal
/// [`measure_zone`]'s (with tone on the planes read through `tone_correction`, when given:
/// a colour chart's, see [`crate::chart`]; the relief families always measure the planes as
/// they are). On one thread, zones are measured in turn; the fine lines, which hold the most
/// memory, come last in each zone (they need the pseudo-height, and the planes only for the
/// colour of their hair test: 3 bytes per pixel of an 8-bit photo, kept beside them). With
/// spare threads, zones and the independent families of a zone (tone beside the pseudo-height;
/// the lines beside roughness and scars) run in parallel.
pub fn measure_zones(
    planes: ColourPlanes,
    zones: &[Zone],
    px_per_mm: Option<f64>,
    config: &Config,
    tone_correction: Option<&ColourCorrection>,
    spare: SpareThreads<'_>,
) -> Vec<ZoneMeasurement> {
    // A view of the same samples (nothing copied).
    let corrected = tone_correction.map(|c| planes.corrected(c));
    let tone_planes = corrected.as_ref().unwrap_or(&planes);
    if zones.len() > 1 && spare.available() {
        return zones
            .par_iter()
            .map(|zone| measure_zone_with(&planes, tone_planes, zone, px_per_mm, config, spare))
            .collect();
    }
    let mut out = Vec::with_capacity(zones.len());
    let Some((last, rest)) = zones.split_last() else {
        return out;
    };
    for zone in rest {
        out.push(measure_zone_with(
            &planes,
            tone_planes,
            zone,
            px_per_mm,
            config,
            spare,
        ));
    }
    if spare.available() {
        out.push(measure_zone_with(
            &planes,
            tone_planes,
            last,
            px_per_mm,
            config,
            spare,
        ));
    } else {
        let (tone, height) = prepare(
            &planes,
            tone_planes,
            last,
            px_per_mm,
            config,
            SpareThreads::NONE,
        );
        let (roughness, blobs) =
            relief_but_lines(&planes, last, &height, config, SpareThreads::NONE);
        drop(corrected);
        let lines = lines_of(&height, config);
        out.push(assemble(
            &planes, &height, config, roughness, lines, blobs, tone,
        ));
    }
    out
}

/// One zone, its independent parts on spare threads when there are some.
fn measure_zone_with(
    planes: &ColourPlanes,
    tone_planes: &ColourPlanes,
    zone: &Zone,
    px_per_mm: Option<f64>,
    config: &Config,
    spare: SpareThreads<'_>,
) -> ZoneMeasurement {
    let (tone, height) = prepare(planes, tone_planes, zone, px_per_mm, config, spare);
    // On one thread the lines come last, as in `measure_zones`.
    let ((roughness, blobs), lines) = spare.join(
        || relief_but_lines(planes, zone, &height, config, spare),
        || lines_of(&height, config),
    );
    assemble(planes, &height, config, roughness, lines, blobs, tone)
}

/// The pseudo-height every relief family measures on, or why they are all missing.
type Height<'z> = Result<PseudoHeight<'z>, String>;

/// Tone (on `tone_planes`) and the pseudo-height (on `planes`) of one zone (the pseudo-height
/// borrows the zone's mask, not the planes, so the planes can go before the lines are measured).
fn prepare<'z>(
    planes: &ColourPlanes,
    tone_planes: &ColourPlanes,
    zone: &'z Zone,
    px_per_mm: Option<f64>,
    config: &Config,
    spare: SpareThreads<'_>,
) -> ([MetricValue; 8], Height<'z>) {
    spare.join(
        || tone::measure(tone_planes, zone, &config.tone),
        || match px_per_mm {
            Some(px_per_mm) if px_per_mm >= config.height.min_px_per_mm => Ok(
                height::pseudo_height(planes, zone, px_per_mm, config.height.cutoff_mm),
            ),
            Some(px_per_mm) => Err(format!(
                "resolution {px_per_mm:.3} px/mm is below height.min_px_per_mm ({})",
                config.height.min_px_per_mm
            )),
            None => Err(UNCALIBRATED.to_string()),
        },
    )
}

/// Values and records of the round depressions of a zone: scars and pores.
struct Blobs {
    /// The scars before the lines are known (see [`assemble`]).
    scars: Result<scars::ScarDetection, Missing>,
    pores: (Vec<MetricValue>, Vec<PoreRecord>),
}

/// Roughness beside the pores then scars of one zone, on `spare` threads.
fn relief_but_lines(
    planes: &ColourPlanes,
    zone: &Zone,
    height: &Height<'_>,
    config: &Config,
    spare: SpareThreads<'_>,
) -> (Vec<MetricValue>, Blobs) {
    match height {
        Ok(height) => spare.join(
            || roughness::measure(height, &config.roughness),
            || {
                let pores = pores::measure(height, &config.pores);
                let scars = scars::detect(planes, zone, height, &pores.1, &config.scars);
                Blobs { scars, pores }
            },
        ),
        Err(reason) => (
            all_missing(roughness::COLUMNS.len(), reason),
            Blobs {
                scars: Err(Missing::new(reason.as_str())),
                pores: (all_missing(pores::COLUMNS.len(), reason), Vec::new()),
            },
        ),
    }
}

/// The fine lines of one zone, before the pits are known, or why they are all missing.
fn lines_of(height: &Height<'_>, config: &Config) -> Result<lines::LineDetection, Missing> {
    match height {
        Ok(height) => lines::detect(height, &config.lines),
        Err(reason) => Err(Missing::new(reason.as_str())),
    }
}

/// The families' values in the order of [`FAMILIES`], with the detection records. Once both
/// are known, the lines that are the walls of detected scars are dropped, then the scars at
/// the end of a remaining line (its end cap; [`scars::ScarDetection::drop_line_ends`]).
fn assemble(
    planes: &ColourPlanes,
    height: &Height<'_>,
    config: &Config,
    roughness: Vec<MetricValue>,
    lines: Result<lines::LineDetection, Missing>,
    blobs: Blobs,
    tone: [MetricValue; 8],
) -> ZoneMeasurement {
    let Blobs {
        scars: mut scar_detection,
        pores: (pore_values, pores),
    } = blobs;
    let ((line_values, lines), (scar_values, scars)) = match height {
        Ok(height) => {
            let ppm = height.px_per_mm;
            let pits: Vec<(f64, f64, f64)> = scar_detection.as_ref().map_or(Vec::new(), |det| {
                det.scars()
                    .map(|s| (s.x_px, s.y_px, 0.5 * s.diameter_mm * ppm))
                    .collect()
            });
            let lines = lines.map(|mut det| {
                det.drop_coloured_hairs(planes, ppm, &config.lines);
                det.drop_pit_walls(&pits, ppm);
                det
            });
            if let (Ok(scar_det), Ok(line_det)) = (&mut scar_detection, &lines) {
                scar_det.drop_line_ends(&line_det.tips(ppm), ppm);
            }
            (
                lines::summarise(height, lines),
                scars::summarise(height, scar_detection),
            )
        }
        Err(reason) => (
            (all_missing(lines::COLUMNS.len(), reason), Vec::new()),
            (all_missing(scars::COLUMNS.len(), reason), Vec::new()),
        ),
    };
    let values = [
        roughness,
        line_values,
        scar_values,
        pore_values,
        tone.to_vec(),
    ]
    .concat();
    debug_assert_eq!(values.len(), metric_columns().len());
    ZoneMeasurement {
        values,
        lines,
        scars,
        pores,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::colour::colour_planes;
    use crate::phantom::{PhantomSpec, render_phantom};
    use crate::segment::{Mask, full_image_zones};
    use image::DynamicImage;

    /// A tone correction changes tone only: its values are tone's on the corrected planes, and
    /// every relief family's values and records are those without the correction.
    #[test]
    fn tone_correction_reaches_tone_only() {
        use crate::input::colour::ColourCorrection;
        let phantom = render_phantom(
            &PhantomSpec {
                size_px: 200,
                ..PhantomSpec::default()
            },
            5,
        );
        let image = DynamicImage::ImageRgb8(phantom.image);
        let zones = full_image_zones(200, 200);
        let config = Config::default();
        let warm =
            ColourCorrection::new(1, vec![[1.2, 0.0, 0.0], [0.0, 0.9, 0.0], [0.0, 0.0, 0.6]]);
        let plain = measure_zones(
            colour_planes(&image),
            &zones,
            Some(20.0),
            &config,
            None,
            SpareThreads::NONE,
        );
        let corrected = measure_zones(
            colour_planes(&image),
            &zones,
            Some(20.0),
            &config,
            Some(&warm),
            SpareThreads::NONE,
        );
        let tone_at = metric_columns()
            .iter()
            .position(|c| c.name.starts_with("tone_"))
            .unwrap();
        let want = tone::measure(
            &colour_planes(&image).corrected(&warm),
            &zones[0],
            &config.tone,
        );
        assert_eq!(corrected[0].values[tone_at..], want[..]);
        assert_ne!(corrected[0].values[tone_at..], plain[0].values[tone_at..]);
        assert_eq!(corrected[0].values[..tone_at], plain[0].values[..tone_at]);
        assert_eq!(
            (
                &corrected[0].lines,
                &corrected[0].scars,
                &corrected[0].pores
            ),
            (&plain[0].lines, &plain[0].scars, &plain[0].pores)
        );
    }

    /// Spare threads exist exactly while fewer images are in flight than threads.
    #[test]
    fn spare_threads_while_fewer_images_than_threads() {
        let in_flight = AtomicUsize::new(0);
        let spare = SpareThreads::new(&in_flight, 2);
        for (n, expected) in [(0, true), (1, true), (2, false), (3, false)] {
            in_flight.store(n, Ordering::Relaxed);
            assert_eq!(spare.available(), expected, "{n} in flight");
            assert_eq!(spare.parts() > 1, expected, "{n} in flight");
        }
        assert!(!SpareThreads::NONE.available());
        assert_eq!(SpareThreads::NONE.parts(), 1);
    }

    /// Measuring all zones at once gives each zone exactly what measuring it alone gives,
    /// calibrated or not: on one thread (planes dropped before the last zone's lines), and
    /// with spare threads (zones and families in parallel on a two-thread pool), for several
    /// zones and for one.
    #[test]
    fn measure_zones_equals_measure_zone_per_zone() {
        let phantom = render_phantom(&PhantomSpec::default(), 3);
        let image = DynamicImage::ImageRgb8(phantom.image);
        let (w, h) = (image.width() as usize, image.height() as usize);
        let mut zones = full_image_zones(w, h);
        let disc = ndarray::Array2::from_shape_fn((h, w), |(r, c)| {
            (r as f64 - h as f64 / 2.0).hypot(c as f64 - w as f64 / 3.0) < h as f64 / 4.0
        });
        zones.push(Zone {
            name: "disc".into(),
            mask: Mask::tight(disc.view(), 0, 0),
        });
        let config = Config::default();
        for px_per_mm in [Some(20.0), None] {
            let planes = colour_planes(&image);
            let alone: Vec<ZoneMeasurement> = zones
                .iter()
                .map(|zone| {
                    measure_zone(&ZoneInput {
                        planes: &planes,
                        zone,
                        px_per_mm,
                        config: &config,
                    })
                })
                .collect();
            assert_eq!(alone[0].values.len(), metric_columns().len());
            let idle = AtomicUsize::new(0);
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            for spare in [SpareThreads::NONE, SpareThreads::new(&idle, 2)] {
                let together = pool.install(|| {
                    measure_zones(
                        colour_planes(&image),
                        &zones,
                        px_per_mm,
                        &config,
                        None,
                        spare,
                    )
                });
                assert_eq!(together, alone);
                let one = pool.install(|| {
                    measure_zones(
                        colour_planes(&image),
                        &zones[1..2],
                        px_per_mm,
                        &config,
                        None,
                        spare,
                    )
                });
                assert_eq!(one[..], alone[1..2]);
            }
        }
    }
}
