//! Resumable, sharded and merged runs (issue 6 items 5-6, issue 7's SIGKILL acceptance), through
//! the built binary on generated phantoms.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::skintex;

/// Output files that must not depend on how a run was split, interrupted or resumed.
const DETERMINISTIC: &[&str] = &[
    "metrics.csv",
    "images.csv",
    "lines.csv",
    "scars.csv",
    "landmarks.csv",
    "columns.csv",
    "DATA_DICTIONARY.md",
    "batch.json",
];

/// `count` phantoms of `size` px at 20 px/mm in `dir`, plus an unreadable file so that error
/// rows are part of every comparison.
fn phantoms(dir: &Path, count: u32, size: u32) -> PathBuf {
    let images = dir.join("images");
    skintex()
        .args([
            "phantom",
            "--preset",
            "classic",
            "--count",
            &count.to_string(),
            "--size",
            &size.to_string(),
        ])
        .args(["--seed", "5", "--wrinkles", "2", "--out"])
        .arg(&images)
        .assert()
        .success();
    for entry in std::fs::read_dir(&images).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::remove_file(path).unwrap();
        }
    }
    std::fs::write(images.join("zz-broken.jpg"), b"not a jpeg").unwrap();
    images
}

/// `skintex analyze --roi full -q --save-masks IMAGES --out OUT EXTRA` (with `--jobs 2` and
/// `--px-per-mm 20` unless EXTRA sets them).
fn analyze(images: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    skintex()
        .args(["analyze", "--roi", "full", "-q", "--save-masks"])
        .arg(images)
        .arg("--out")
        .arg(out)
        .args(extra)
        .args(if extra.contains(&"--jobs") {
            &[][..]
        } else {
            &["--jobs", "2"][..]
        })
        .args(if extra.contains(&"--px-per-mm") {
            &[][..]
        } else {
            &["--px-per-mm", "20"][..]
        })
        .output()
        .unwrap()
}

fn assert_same_outputs(a: &Path, b: &Path) {
    for name in DETERMINISTIC {
        let x = std::fs::read(a.join(name)).unwrap();
        let y = std::fs::read(b.join(name)).unwrap();
        assert!(
            x == y,
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
    let files = |d: &Path| {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert!(
        files(&a.join("qc")) == files(&b.join("qc")),
        "QC pictures differ"
    );
    // Issue 19: the masks of `--save-masks` (two per analysed image) are outputs too.
    let masks = files(&a.join("masks"));
    assert!(
        !masks.is_empty() && masks.len() % 2 == 0,
        "{} masks",
        masks.len()
    );
    assert!(masks == files(&b.join("masks")), "masks differ");
}

fn run_json(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap()
}

#[test]
fn three_shards_merge_into_the_single_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let images = phantoms(dir.path(), 5, 400);
    let single = dir.path().join("single");
    assert_eq!(analyze(&images, &single, &[]).status.code(), Some(1)); // the broken file

    let mut shard_dirs = Vec::new();
    let mut analysed = 0;
    for k in 1..=3 {
        let out = dir.path().join(format!("shard{k}"));
        let code = analyze(&images, &out, &["--shard", &format!("{k}/3")])
            .status
            .code();
        assert!(matches!(code, Some(0 | 1)), "shard {k}: {code:?}");
        analysed += run_json(&out)["images"]["total"].as_u64().unwrap();
        shard_dirs.push(out);
    }
    assert_eq!(analysed, 6, "every image in exactly one shard");

    let merged = dir.path().join("merged");
    let out = skintex()
        .arg("merge")
        .args([&shard_dirs[2], &shard_dirs[0], &shard_dirs[1]])
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "merged batch has the failed image"
    );
    assert_same_outputs(&single, &merged);
    let run = run_json(&merged);
    assert_eq!(run["images"]["total"], 6);
    assert_eq!(run["merged_from"].as_array().unwrap().len(), 3);
}

#[test]
fn merge_refuses_incomplete_or_mismatched_shards() {
    let dir = tempfile::tempdir().unwrap();
    let images = phantoms(dir.path(), 2, 300);
    let s1 = dir.path().join("s1");
    let s2 = dir.path().join("s2");
    let other = dir.path().join("other");
    analyze(&images, &s1, &["--shard", "1/2", "--no-qc"]);
    analyze(&images, &s2, &["--shard", "2/2", "--no-qc"]);
    analyze(
        &images,
        &other,
        &["--shard", "2/2", "--no-qc", "--px-per-mm", "25"],
    );

    let merge = |dirs: &[&Path]| {
        skintex()
            .arg("merge")
            .args(dirs)
            .arg("--out")
            .arg(dir.path().join("m"))
            .output()
            .unwrap()
    };
    let missing = merge(&[&s1]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("missing shards: 2/2"));
    let twice = merge(&[&s1, &s1]);
    assert!(String::from_utf8_lossy(&twice.stderr).contains("given twice"));
    let mismatched = merge(&[&s1, &other]);
    assert_eq!(mismatched.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&mismatched.stderr).contains("different settings"));
    let not_output = merge(&[&images]);
    assert_eq!(not_output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&not_output.stderr).contains("batch.json"));

    // Issue 18 item 1: the merged folder is never silently replaced by another run's merge.
    let merged = merge(&[&s1, &s2]);
    assert_eq!(merged.status.code(), Some(1), "the broken file");
    let again = merge(&[&s2, &s1]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "the same merge again is allowed"
    );
    let other1 = dir.path().join("other1");
    analyze(
        &images,
        &other1,
        &["--shard", "1/2", "--no-qc", "--px-per-mm", "25"],
    );
    let refused = merge(&[&other1, &other]);
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("other settings") && err.contains("--overwrite") && err.contains("new --out"),
        "{err}"
    );
    let overwritten = skintex()
        .arg("merge")
        .args([&other1, &other])
        .arg("--out")
        .arg(dir.path().join("m"))
        .arg("--overwrite")
        .output()
        .unwrap();
    assert_eq!(overwritten.status.code(), Some(1));
    assert_eq!(run_json(&dir.path().join("m"))["px_per_mm_override"], 25.0);
    let into_shard = skintex()
        .arg("merge")
        .args([&s1, &s2])
        .arg("--out")
        .arg(&s1)
        .output()
        .unwrap();
    assert_eq!(into_shard.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&into_shard.stderr).contains("one of the shard folders"));
}

/// The finished records in `records` (not temporary files of a write in progress).
fn finished_records(records: &Path) -> usize {
    std::fs::read_dir(records).map_or(0, |d| {
        d.flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.ends_with(".json") && !name.starts_with('.')
            })
            .count()
    })
}

/// Wait (at most 2 minutes) until `records` holds at least `n` finished records.
fn wait_for_records(records: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if finished_records(records) >= n || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `skintex analyze IMAGES --roi full --px-per-mm 20 --jobs 1 --save-masks --out OUT ARGS`,
/// started.
fn spawn_analyze(images: &Path, out: &Path, args: &[&str]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("skintex"))
        .args([
            "analyze",
            "--roi",
            "full",
            "--px-per-mm",
            "20",
            "--jobs",
            "1",
            "--save-masks",
        ])
        .args(args)
        .arg(images)
        .arg("--out")
        .arg(out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Issue 18 item 11: Ctrl-C says how many images are saved and to rerun with `--resume`.
#[test]
fn ctrl_c_says_what_is_saved_and_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let images = phantoms(dir.path(), 6, 700);
    let out = dir.path().join("out");
    let child = spawn_analyze(&images, &out, &[]);
    wait_for_records(&out.join("records"), 1);
    let pid = child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{err}");
    // The message counts the records stored when it was written (one may land just after).
    let prefix = format!(
        "skintex: interrupted; images finished and saved in {}: ",
        out.display()
    );
    let said = err
        .split_once(&prefix)
        .and_then(|(_, rest)| rest.split_once(" of 7. Rerun the same command with --resume"))
        .and_then(|(n, _)| n.parse::<usize>().ok())
        .unwrap_or_else(|| panic!("no interruption message in {err}"));
    let saved = finished_records(&out.join("records"));
    assert!(
        (1..7).contains(&said) && (said..=said + 1).contains(&saved),
        "{said} {saved}"
    );
    let resumed = analyze(&images, &out, &["--resume"]);
    assert_eq!(resumed.status.code(), Some(1), "the broken file");
    assert_eq!(
        run_json(&out)["images_resumed"].as_u64(),
        Some(saved as u64)
    );
}

#[test]
fn run_killed_with_sigkill_then_resumed_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let images = phantoms(dir.path(), 8, 700);
    let whole = dir.path().join("whole");
    analyze(&images, &whole, &["--jobs", "1"]);

    let out = dir.path().join("killed");
    let mut child = spawn_analyze(&images, &out, &["-q"]);
    let records = out.join("records");
    wait_for_records(&records, 3);
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(
        !out.join("metrics.csv").exists(),
        "the run was meant to be killed before it finished"
    );
    // Every record left behind is complete JSON (atomic writes).
    for entry in std::fs::read_dir(&records).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            let bytes = std::fs::read(entry.path()).unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("{name} is corrupt: {e}"));
        }
    }

    let resumed = analyze(&images, &out, &["--resume", "--jobs", "2"]);
    assert_eq!(resumed.status.code(), Some(1), "the broken file");
    assert_same_outputs(&whole, &out);
    let run = run_json(&out);
    let n_resumed = run["images_resumed"].as_u64().unwrap();
    assert!((3..9).contains(&n_resumed), "resumed {n_resumed}");
    let timings = std::fs::read_to_string(out.join("timings.csv")).unwrap();
    assert_eq!(
        timings.lines().filter(|l| l.ends_with(",yes")).count() as u64,
        n_resumed
    );
    assert!(
        std::fs::read_dir(&out)
            .unwrap()
            .chain(std::fs::read_dir(&records).unwrap())
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().contains(".tmp-")),
        "stale temporary files removed"
    );

    // A changed parameter invalidates every record: nothing is resumed.
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "[lines]\nmin_length_mm = 4.0\n").unwrap();
    analyze(
        &images,
        &out,
        &["--resume", "--config", config.to_str().unwrap()],
    );
    assert_eq!(run_json(&out)["images_resumed"], 0);
    assert_eq!(
        std::fs::read_dir(&records).unwrap().count(),
        9,
        "records of the old settings pruned"
    );
}
