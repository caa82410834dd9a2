//! Fine lines: multi-scale Hessian detection of dark valleys.

use super::height::PseudoHeight;
use super::{ColumnSpec, MetricValue, all_missing};
use crate::config::LinesParams;

const fn spec(name: &'static str, unit: &'static str, description: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        unit,
        description,
    }
}

/// The columns of the lines family, in output order.
pub const COLUMNS: &[ColumnSpec] = &[
    spec("lines_count", "1", "Number of detected fine lines."),
    spec(
        "lines_length_mm",
        "mm",
        "Total skeleton length of the detected lines.",
    ),
    spec(
        "lines_density_mm_per_cm2",
        "mm/cm2",
        "Line length per cm2 of zone.",
    ),
    spec("lines_mean_width_mm", "mm", "Mean line width."),
    spec(
        "lines_mean_depth",
        "1",
        "Mean valley contrast relative to its surround.",
    ),
    spec(
        "lines_area_fraction",
        "1",
        "Fraction of the zone covered by lines.",
    ),
    spec(
        "lines_orientation_deg",
        "deg",
        "Dominant line orientation, 0 = horizontal.",
    ),
    spec(
        "lines_anisotropy",
        "1",
        "Strength of the dominant orientation, 0-1.",
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

/// Measure the lines family; values align with [`COLUMNS`].
pub fn measure(
    _height: &PseudoHeight,
    _params: &LinesParams,
) -> (Vec<MetricValue>, Vec<LineRecord>) {
    (all_missing(COLUMNS.len(), "not implemented"), Vec::new())
}
