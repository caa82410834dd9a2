//! Atrophic scars: multi-scale detection of round depressions in the shading signal.

use super::height::PseudoHeight;
use super::{ColumnSpec, MetricValue, all_missing};
use crate::config::ScarsParams;
use crate::input::colour::ColourPlanes;
use crate::segment::Zone;

const fn spec(name: &'static str, unit: &'static str, description: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        unit,
        description,
    }
}

/// The columns of the scars family, in output order.
pub const COLUMNS: &[ColumnSpec] = &[
    spec("scars_count", "1", "Number of detected atrophic scars."),
    spec("scars_density_per_cm2", "1/cm2", "Scars per cm2 of zone."),
    spec(
        "scars_area_fraction",
        "1",
        "Fraction of the zone covered by scars.",
    ),
    spec(
        "scars_mean_diameter_mm",
        "mm",
        "Mean equivalent diameter of the scars.",
    ),
    spec(
        "scars_icepick",
        "1",
        "Number of icepick scars (< 2 mm, deep, V-shaped).",
    ),
    spec(
        "scars_boxcar",
        "1",
        "Number of boxcar scars (1.5-4 mm, steep walls, flat floor).",
    ),
    spec(
        "scars_rolling",
        "1",
        "Number of rolling scars (> 4 mm, shallow, smooth).",
    ),
    spec(
        "scars_mean_depth",
        "1",
        "Mean depression contrast relative to the surround.",
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
    /// Centre in image coordinates, px.
    pub x_px: f64,
    pub y_px: f64,
    /// Equivalent diameter, mm.
    pub diameter_mm: f64,
    /// Area, mm2.
    pub area_mm2: f64,
    pub kind: ScarKind,
    /// Depression contrast relative to the surround (unitless).
    pub depth: f64,
}

/// Measure the scars family; values align with [`COLUMNS`].
pub fn measure(
    _planes: &ColourPlanes,
    _zone: &Zone,
    _height: &PseudoHeight,
    _params: &ScarsParams,
) -> (Vec<MetricValue>, Vec<ScarRecord>) {
    (all_missing(COLUMNS.len(), "not implemented"), Vec::new())
}
