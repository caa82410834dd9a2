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

/// `docs/METRICS.md` (README's page of metric definitions, formulas and references) follows the
/// column declarations and the metric modules' documentation.
#[test]
fn metrics_page_is_current() {
    let page = skintex::output::dictionary::metrics_markdown();
    for column in skintex::metrics::metric_columns() {
        assert!(
            page.contains(&format!("`{}`", column.name)),
            "{}",
            column.name
        );
    }
    check_generated("docs/METRICS.md", &page);
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

/// `data/demo-study` matches its SHA256SUMS, and `skintex phantom-study` with the documented
/// defaults reproduces it byte for byte.
#[test]
fn demo_study_matches_its_checksums_and_regenerates() {
    use sha2::{Digest, Sha256};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo-study");
    let sums = std::fs::read_to_string(root.join("SHA256SUMS")).unwrap();
    let listed: Vec<(&str, &str)> = sums
        .lines()
        .map(|l| {
            let (hash, name) = l.split_once("  ").unwrap();
            (name, hash)
        })
        .collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "SHA256SUMS")
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = listed.iter().map(|(n, _)| (*n).to_owned()).collect();
    names.sort();
    assert_eq!(names, on_disk, "every file listed");
    let hex = |b: &[u8]| -> String {
        Sha256::digest(b)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    };
    for (name, hash) in &listed {
        assert_eq!(
            hex(&std::fs::read(root.join(name)).unwrap()),
            *hash,
            "{name}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_skintex"))
        .args(["phantom-study", "--out"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    for (name, hash) in &listed {
        assert_eq!(
            hex(&std::fs::read(dir.path().join(name)).unwrap()),
            *hash,
            "{name} regenerated differs: update data/demo-study (see data/README.md)"
        );
    }
}

/// Issue 18 item 12: the README's set-up keeps exactly its two commands (the demo run and the
/// tests); the usage section, which calls a bare `skintex`, says how to install it first; the
/// metric formulas are pointed to as the rendered docs/METRICS.md, not `cargo doc --open`.
#[test]
fn readme_set_up_has_two_commands_and_usage_says_how_to_install() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = |title: &str| -> String {
        let start = readme
            .find(&format!("\n## {title}\n"))
            .unwrap_or_else(|| panic!("no section {title}"));
        let body = &readme[start + title.len() + 5..];
        body[..body.find("\n## ").unwrap_or(body.len())].to_owned()
    };
    let commands = |text: &str| -> Vec<String> {
        let mut in_sh = false;
        let mut out = Vec::new();
        for line in text.lines() {
            if line.starts_with("```") {
                in_sh = line == "```sh";
            } else if in_sh && !line.trim().is_empty() {
                out.push(line.trim().to_owned());
            }
        }
        out
    };
    let set_up = commands(&section("Set-up"));
    assert_eq!(
        set_up,
        [
            "cargo run --release -- analyze --manifest data/demo/manifest.csv --out demo-out",
            "cargo test --release"
        ]
    );
    let usage = section("Using it");
    let install = usage
        .find("cargo install --path .")
        .expect("install note in usage");
    let first_bare = usage.find("\nskintex ").expect("bare skintex commands");
    assert!(
        install < first_bare,
        "install note after the first bare skintex"
    );
    assert!(readme.contains("(docs/METRICS.md)"));
    assert!(!readme.contains("cargo doc --open"));
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/METRICS.md")
            .is_file()
    );
}
