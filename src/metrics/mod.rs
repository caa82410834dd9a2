//! Metrics stage: one module per family, each declaring its columns once.
//!
//! A family receives the colour planes, one zone and the calibration, and returns one
//! [`MetricValue`] per declared column, in declaration order. A value that cannot be computed is
//! [`Missing`] with a reason, never a made-up number.

pub mod tone;

use crate::config::Config;
use crate::input::colour::ColourPlanes;
use crate::segment::Zone;

/// One output column: name, unit and meaning, as written to the data dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: &'static str,
    /// Unit, or `1` for unitless numbers, or empty for text.
    pub unit: &'static str,
    pub description: &'static str,
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

/// What a family needs to measure one zone.
pub struct ZoneInput<'a> {
    pub planes: &'a ColourPlanes,
    pub zone: &'a Zone,
    /// Pixels per millimetre, when the image is calibrated.
    pub px_per_mm: Option<f64>,
    pub config: &'a Config,
}

/// All metric columns of all families, in output order.
pub fn metric_columns() -> Vec<ColumnSpec> {
    tone::COLUMNS.to_vec()
}

/// Measure every family on one zone; values align with [`metric_columns`].
pub fn measure_zone(input: &ZoneInput<'_>) -> Vec<MetricValue> {
    let values = tone::measure(input.planes, input.zone, &input.config.tone);
    debug_assert_eq!(values.len(), tone::COLUMNS.len());
    values.to_vec()
}
