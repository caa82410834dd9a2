//! Input stage: find the photos (folders or a manifest), decode them under limits, apply the EXIF
//! orientation and convert to linear-light RGB and CIE L*a*b* planes.

pub mod colour;
pub mod decode;
pub mod discover;
pub mod manifest;

use std::path::PathBuf;

/// One photo to analyse, with what is known about it before decoding.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageInput {
    /// Stable identifier, unique among the valid inputs of a run.
    pub image_id: String,
    /// Where to read the file.
    pub path: PathBuf,
    /// The path as written to the CSV outputs.
    pub display_path: String,
    /// Values of the manifest's carried columns, aligned with [`InputSet::carried_columns`].
    pub carried: Vec<String>,
    /// Calibration from the manifest's `px_per_mm` column.
    pub manifest_px_per_mm: Option<f64>,
    /// Region of interest from the manifest's `roi` column (overrides `--roi`).
    pub roi: Option<crate::segment::RoiMode>,
    /// A problem found before decoding (bad manifest row, duplicate id, path outside the tree).
    /// The image is reported as an error with this reason.
    pub problem: Option<String>,
}

/// All inputs of a run, in output order.
#[derive(Debug, Clone, PartialEq)]
pub struct InputSet {
    pub images: Vec<ImageInput>,
    /// Manifest columns carried through to every output table (empty without a manifest).
    pub carried_columns: Vec<String>,
}

/// A problem with the inputs as a whole (not with one image): reported as a usage error.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {reason}")]
    Unusable { path: String, reason: String },
    #[error("manifest {path}: {reason}")]
    Manifest { path: String, reason: String },
}
