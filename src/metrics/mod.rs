//! Metrics stage: one module per family, each declaring its columns once.
//!
//! A family receives one zone and returns one [`MetricValue`] per declared column, in
//! declaration order. A value that cannot be computed is [`Missing`] with a reason, never a
//! made-up number. Families that work in millimetres (roughness, lines, scars) need a calibrated
//! image; without one their columns are empty with the reason `uncalibrated`.

pub mod height;
pub mod lines;
pub mod roughness;
pub mod scars;
pub mod tone;

use crate::config::Config;
use crate::input::colour::ColourPlanes;
use crate::segment::Zone;

pub use lines::LineRecord;
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
}

/// All metric columns of all families, in output order.
pub fn metric_columns() -> Vec<ColumnSpec> {
    [
        roughness::COLUMNS,
        lines::COLUMNS,
        scars::COLUMNS,
        tone::COLUMNS,
    ]
    .concat()
}

const UNCALIBRATED: &str = "uncalibrated: needs px_per_mm";

/// Measure every family on one zone.
pub fn measure_zone(input: &ZoneInput<'_>) -> ZoneMeasurement {
    let config = input.config;
    let mut out = ZoneMeasurement::default();
    let relief_families = roughness::COLUMNS.len() + lines::COLUMNS.len() + scars::COLUMNS.len();
    match input.px_per_mm {
        Some(px_per_mm) if px_per_mm >= config.height.min_px_per_mm => {
            let height =
                height::pseudo_height(input.planes, input.zone, px_per_mm, config.height.cutoff_mm);
            out.values
                .extend(roughness::measure(&height, &config.roughness));
            let (values, lines) = lines::measure(&height, &config.lines);
            out.values.extend(values);
            out.lines = lines;
            let (values, scars) = scars::measure(input.planes, input.zone, &height, &config.scars);
            out.values.extend(values);
            out.scars = scars;
        }
        Some(px_per_mm) => {
            let reason = format!(
                "resolution {px_per_mm:.3} px/mm is below height.min_px_per_mm ({})",
                config.height.min_px_per_mm
            );
            out.values.extend(all_missing(relief_families, &reason));
        }
        None => out
            .values
            .extend(all_missing(relief_families, UNCALIBRATED)),
    }
    out.values
        .extend(tone::measure(input.planes, input.zone, &config.tone));
    debug_assert_eq!(out.values.len(), metric_columns().len());
    out
}
