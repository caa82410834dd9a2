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
    /// The colour chart's patch area from the manifest's `chart_box` column (the chart is then
    /// not searched for).
    pub chart_box: Option<ChartBox>,
    /// A problem found before decoding (bad manifest row, duplicate id, path outside the tree).
    /// The image is reported as an error with this reason.
    pub problem: Option<String>,
}

/// A box in image pixels (after the EXIF orientation): left column `x`, top row `y`, width
/// `w` and height `h`, as written in a manifest's `chart_box` cell (`x,y,w,h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartBox {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl ChartBox {
    /// Parse `x,y,w,h` (whole pixels, `w` and `h` at least 1; spaces allowed around each
    /// number); `None` when the text is not that.
    pub fn parse(text: &str) -> Option<Self> {
        let numbers: Vec<u32> = text
            .split(',')
            .map(|part| part.trim().parse::<u32>().ok())
            .collect::<Option<_>>()?;
        match numbers[..] {
            [x, y, w, h] if w > 0 && h > 0 => Some(Self { x, y, w, h }),
            _ => None,
        }
    }
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
