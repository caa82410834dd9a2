//! Roughness: ISO 25178-2 areal parameters and GLCM texture on the pseudo-height map.

use super::height::PseudoHeight;
use super::{ColumnSpec, MetricValue, all_missing};
use crate::config::RoughnessParams;

const fn spec(name: &'static str, unit: &'static str, description: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        unit,
        description,
    }
}

/// The columns of the roughness family, in output order.
pub const COLUMNS: &[ColumnSpec] = &[
    spec(
        "rough_sa",
        "1",
        "Arithmetic mean height of the pseudo-height (ISO 25178-2 Sa).",
    ),
    spec(
        "rough_sq",
        "1",
        "Root-mean-square height of the pseudo-height (ISO 25178-2 Sq).",
    ),
    spec("rough_ssk", "1", "Skewness (ISO 25178-2 Ssk)."),
    spec(
        "rough_sku",
        "1",
        "Kurtosis (ISO 25178-2 Sku; 3 for a Gaussian surface).",
    ),
    spec("rough_sp", "1", "Maximum peak height (ISO 25178-2 Sp)."),
    spec("rough_sv", "1", "Maximum pit depth (ISO 25178-2 Sv)."),
    spec("rough_sz", "1", "Maximum height Sp + Sv (ISO 25178-2 Sz)."),
    spec(
        "rough_sdq",
        "1/mm",
        "Root-mean-square gradient (ISO 25178-2 Sdq).",
    ),
    spec(
        "rough_sdr",
        "%",
        "Developed interfacial area ratio (ISO 25178-2 Sdr).",
    ),
    spec(
        "rough_sal_mm",
        "mm",
        "Autocorrelation length (ISO 25178-2 Sal).",
    ),
    spec("rough_str", "1", "Texture aspect ratio (ISO 25178-2 Str)."),
    spec("rough_glcm_contrast", "1", "GLCM contrast."),
    spec("rough_glcm_homogeneity", "1", "GLCM homogeneity."),
    spec("rough_glcm_energy", "1", "GLCM energy."),
    spec("rough_glcm_correlation", "1", "GLCM correlation."),
    spec("rough_glcm_entropy", "nat", "GLCM entropy."),
];

/// Measure the roughness family; values align with [`COLUMNS`].
pub fn measure(_height: &PseudoHeight, _params: &RoughnessParams) -> Vec<MetricValue> {
    all_missing(COLUMNS.len(), "not implemented")
}
