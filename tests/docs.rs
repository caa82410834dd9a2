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

#[test]
fn demo_files_match_the_sha256_recorded_in_data_readme() {
    use sha2::{Digest, Sha256};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("data/README.md")).unwrap();
    let mut checked = 0;
    for line in readme.lines().filter(|l| l.starts_with("| `demo/")) {
        let file = line.split('`').nth(1).unwrap();
        let recorded = line
            .split('`')
            .find(|part| part.len() == 64 && part.chars().all(|c| c.is_ascii_hexdigit()))
            .unwrap_or_else(|| panic!("no sha256 recorded for {file}"));
        let bytes = std::fs::read(root.join("data").join(file)).unwrap();
        let actual: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(actual, recorded, "{file}");
        checked += 1;
    }
    let on_disk = std::fs::read_dir(root.join("data/demo"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.ends_with(".png") || name.ends_with(".json")
        })
        .count();
    assert_eq!(
        checked, on_disk,
        "every demo image and truth file is listed"
    );
}
