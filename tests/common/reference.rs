//! The reference fixtures of `tests/fixtures/reference/` (made by the scripts of
//! `tools/reference/`, provenance inside each file or in `tools/reference/README.md`).

use std::path::PathBuf;

use serde_json::Value;

/// Path of the reference fixture `name`.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reference")
        .join(name)
}

/// The JSON reference fixture `name`.
pub fn json(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(path(name)).unwrap()).unwrap()
}

/// A JSON array of numbers.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}
