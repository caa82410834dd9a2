//! Image calibration: how many pixels make a millimetre, and where that number came from.

use serde::Serialize;

/// Where an image's pixels-per-millimetre came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CalibrationSource {
    /// `--px-per-mm` on the command line.
    Cli,
    /// The manifest's `px_per_mm` column.
    Manifest,
    /// Estimated from the iris diameter (11.7 mm) found by the face models.
    Iris,
    /// Uncalibrated: lengths and areas in mm are left empty.
    None,
}

impl CalibrationSource {
    /// The label written to the `calibration` column.
    pub fn label(self) -> &'static str {
        match self {
            Self::Cli => "cli",
            Self::Manifest => "manifest",
            Self::Iris => "iris",
            Self::None => "none",
        }
    }
}

/// An image's scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Pixels per millimetre, when known.
    pub px_per_mm: Option<f64>,
    pub source: CalibrationSource,
}

impl Calibration {
    /// Resolve by precedence: command line, then manifest, else uncalibrated.
    pub fn resolve(cli: Option<f64>, manifest: Option<f64>) -> Self {
        match (cli, manifest) {
            (Some(v), _) => Self {
                px_per_mm: Some(v),
                source: CalibrationSource::Cli,
            },
            (None, Some(v)) => Self {
                px_per_mm: Some(v),
                source: CalibrationSource::Manifest,
            },
            (None, None) => Self {
                px_per_mm: None,
                source: CalibrationSource::None,
            },
        }
    }
}
