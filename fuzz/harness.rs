//! The functions the fuzz targets (`decode_analyze`, `manifest`) and
//! `tests/fuzz_regressions.rs` both run, so a saved input replays exactly the code path it once
//! crashed.

use std::collections::HashSet;
use std::path::Path;

use skintex::config::Config;
use skintex::input::colour::colour_planes;
use skintex::input::decode::decode_bytes;
use skintex::input::manifest::parse_manifest;
use skintex::metrics::{ZoneInput, measure_zone};
use skintex::output::tables::reserved_column_names;
use skintex::segment::full_image_zones;

/// Decode cap, MP: small, so each execution stays fast.
pub const MAX_MEGAPIXELS: f64 = 4.0;
/// `measure_zone` runs only on images at most this many pixels on each side.
pub const MAX_MEASURE_SIDE: usize = 300;

/// Bytes -> decode -> colour planes -> full-image zone -> metrics. Errors are fine; panics,
/// aborts, hangs and out-of-memory are the bugs. Returns whether the metrics stage ran.
pub fn decode_analyze(bytes: &[u8]) -> bool {
    let Ok(decoded) = decode_bytes(bytes, MAX_MEGAPIXELS) else {
        return false;
    };
    let planes = colour_planes(&decoded.image);
    let (w, h) = (
        decoded.image.width() as usize,
        decoded.image.height() as usize,
    );
    let zones = full_image_zones(w, h);
    if w > MAX_MEASURE_SIDE || h > MAX_MEASURE_SIDE {
        return false;
    }
    let config = Config::default();
    for zone in &zones {
        let measured = measure_zone(&ZoneInput {
            planes: &planes,
            zone,
            px_per_mm: Some(20.0),
            config: &config,
        });
        for v in measured.values.iter().flatten() {
            assert!(v.is_finite(), "non-finite metric value {v}");
        }
    }
    true
}

/// Bytes as a manifest (`fuzz/manifest.csv`; nothing is read from disk) -> the inputs of a run.
/// Errors are fine; panics are the bugs, and so is a row without an id or two valid rows with
/// the same id. Returns whether the bytes were read as a manifest.
pub fn manifest(bytes: &[u8]) -> bool {
    let Ok(inputs) = parse_manifest(
        bytes,
        Path::new("fuzz/manifest.csv"),
        &reserved_column_names(),
    ) else {
        return false;
    };
    let mut ids = HashSet::new();
    for image in &inputs.images {
        assert!(!image.image_id.is_empty(), "a row without an image_id");
        assert_eq!(image.carried.len(), inputs.carried_columns.len());
        if image.problem.is_none() {
            assert!(
                ids.insert(&image.image_id),
                "duplicate id {}",
                image.image_id
            );
        }
    }
    true
}
