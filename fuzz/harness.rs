//! The one function the `decode_analyze` fuzz target and `tests/fuzz_regressions.rs` both run,
//! so a saved crash input replays exactly the code path that crashed.

use skintex::config::Config;
use skintex::input::colour::colour_planes;
use skintex::input::decode::decode_bytes;
use skintex::metrics::{ZoneInput, measure_zone};
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
