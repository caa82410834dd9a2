//! `run.json`: how a run's outputs were produced.

use serde::Serialize;

use crate::config::Config;
use crate::segment::RoiMode;

/// A model file used by the run.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ModelRecord {
    pub name: String,
    pub file: String,
    pub sha256: String,
}

/// Counts of analysed images.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct ImageCounts {
    pub total: usize,
    pub ok: usize,
    pub error: usize,
}

/// The provenance record written as `run.json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub skintex_version: &'static str,
    pub command_line: Vec<String>,
    /// ISO 8601 UTC.
    pub started_at: String,
    /// ISO 8601 UTC.
    pub finished_at: String,
    pub inputs: Vec<String>,
    pub manifest: Option<String>,
    pub roi: RoiMode,
    pub px_per_mm_override: Option<f64>,
    pub jobs: usize,
    /// Engine that ran the face models (`embedded` or `onnxruntime`), when they were used.
    pub runtime: Option<String>,
    /// The full resolved configuration, defaults included.
    pub config: Config,
    pub models: Vec<ModelRecord>,
    pub images: ImageCounts,
    /// Images whose results were taken from earlier records (`--resume`, `skintex merge`).
    pub images_resumed: usize,
    /// The part of the inputs this run analysed (`--shard K/N`).
    pub shard: Option<crate::output::store::Shard>,
    /// The output folders joined by `skintex merge`.
    pub merged_from: Vec<String>,
    pub outputs: Vec<String>,
}

impl RunRecord {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// The current time as ISO 8601 UTC with second precision.
pub fn now_iso8601() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
