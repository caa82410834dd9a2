//! The committed documentation that is generated from code stays in step with the code.
//! Regenerate with `REGENERATE=1 cargo test --release --test docs`.

use std::path::Path;

fn check_generated(relative: &str, generated: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    if std::env::var_os("REGENERATE").is_some() {
        std::fs::write(&path, generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{relative} is out of date; run `REGENERATE=1 cargo test --release --test docs`"
    );
}

#[test]
fn data_dictionary_is_current() {
    check_generated(
        "docs/DATA_DICTIONARY.md",
        &skintex::output::dictionary::data_dictionary_markdown(&[]),
    );
}

#[test]
fn default_config_is_current() {
    check_generated(
        "docs/default-config.toml",
        &skintex::config::Config::default().commented_toml(),
    );
}

#[test]
fn every_metric_column_is_documented_with_a_unit() {
    for c in skintex::metrics::metric_columns() {
        assert!(!c.unit.is_empty(), "{} has no unit", c.name);
        assert!(c.description.len() > 20, "{} is not described", c.name);
    }
}
