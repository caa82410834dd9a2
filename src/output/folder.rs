//! The output folder guard: a run never silently replaces the outputs of another run.
//!
//! Before any image is analysed (or any shard merged), `--out` is checked:
//!
//! | `--out` holds | without an option | `--resume` | `--overwrite` |
//! |---|---|---|---|
//! | nothing skintex wrote | run | run | run |
//! | the outputs of the same run (same inputs, settings and shard: its `batch.json`) | run again, same numbers | reuse finished images | clear, run |
//! | anything else skintex wrote (other inputs, settings or shard; an unfinished run) | refused (exit 2) | reuse what matches, replace the rest | clear, run |
//!
//! `--overwrite` removes only what skintex writes ([`OUTPUT_NAMES`]: those files, and those
//! folders with all they hold); other files are left alone.
//! Whatever a run replaces is said on stderr (records and QC pictures of other images or
//! settings, see [`super::store::prune_records`]).

use std::path::Path;

use super::store::{Batch, records_dir};

/// Everything skintex writes into an output folder: the tables and records of `analyze` and
/// `merge`, and the files of `study`. Names ending in `/` are folders.
pub const OUTPUT_NAMES: &[&str] = &[
    "metrics.csv",
    "images.csv",
    "lines.csv",
    "scars.csv",
    "pores.csv",
    "landmarks.csv",
    "timings.csv",
    "columns.csv",
    "DATA_DICTIONARY.md",
    "batch.json",
    "run.json",
    "records/",
    "qc/",
    "masks/",
    "changes.csv",
    "stats.csv",
    "alignment.csv",
    "repeatability.csv",
    "report.html",
    "study.json",
];

/// What to do when `--out` already holds the outputs of another run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse, unless they are the outputs of the same run.
    Refuse,
    /// Reuse the finished images that match (`analyze --resume`); replace the rest.
    Resume,
    /// Remove them first (`--overwrite`).
    Overwrite,
}

/// `--out` holds outputs this run would replace.
#[derive(Debug, thiserror::Error)]
#[error(
    "output folder {folder} already holds {what}, which this run would replace.\n  Choose one: {choices}"
)]
pub struct OccupiedError {
    pub folder: String,
    /// What the folder holds, e.g. `the outputs of another run (5 images; this run has 1)`.
    pub what: String,
    /// The options that resolve it.
    pub choices: String,
}

/// The choices offered for `skintex analyze`.
pub const ANALYZE_CHOICES: &str = "--resume (keep the images already finished there and analyse the rest), \
a new --out folder, or --overwrite (clear the folder's skintex outputs first)";

/// The choices offered for `skintex merge`.
pub const MERGE_CHOICES: &str =
    "a new --out folder, or --overwrite (clear the folder's skintex outputs first)";

/// An entry of [`OUTPUT_NAMES`] as found in `out`: its path and whether it is one (a file for
/// a file name, a folder for a folder name; anything else of that name is not skintex's).
fn output_entry(out: &Path, name: &str) -> (std::path::PathBuf, bool) {
    let (bare, is_folder) = match name.strip_suffix('/') {
        Some(bare) => (bare, true),
        None => (name, false),
    };
    let path = out.join(bare);
    let ours = std::fs::symlink_metadata(&path)
        .is_ok_and(|m| if is_folder { m.is_dir() } else { m.is_file() });
    (path, ours)
}

/// The skintex outputs present in `out` (an empty folder counts as absent), in
/// [`OUTPUT_NAMES`] order.
pub fn outputs_in(out: &Path) -> Vec<&'static str> {
    OUTPUT_NAMES
        .iter()
        .copied()
        .filter(|name| {
            let (path, ours) = output_entry(out, name);
            ours && std::fs::read_dir(&path).map_or(true, |mut entries| entries.next().is_some())
        })
        .collect()
}

/// Check that a run described by `planned` (its keys are ignored) may write into `out`.
///
/// # Errors
/// [`OccupiedError`] when `out` holds skintex outputs that are not those of the same run and
/// `existing` is [`Existing::Refuse`]; it names the folder, what it holds and `choices`.
pub fn check_out_folder(
    out: &Path,
    planned: &Batch,
    existing: Existing,
    choices: &str,
) -> Result<(), OccupiedError> {
    let found = outputs_in(out);
    if found.is_empty() || existing != Existing::Refuse {
        return Ok(());
    }
    let what = match Batch::read(out) {
        Ok(earlier) if earlier.same_run(planned) => return Ok(()),
        Ok(earlier) => describe_difference(&earlier, planned),
        Err(_) if found.contains(&"records/") => {
            let n = std::fs::read_dir(records_dir(out)).map_or(0, Iterator::count);
            format!(
                "{} of an unfinished or other run (no batch.json)",
                crate::plural(n, "record")
            )
        }
        Err(_) => format!("skintex outputs ({})", found.join(", ")),
    };
    Err(OccupiedError {
        folder: out.display().to_string(),
        what,
        choices: choices.to_owned(),
    })
}

/// How the run that wrote `earlier` differs from `planned`.
fn describe_difference(earlier: &Batch, planned: &Batch) -> String {
    let part = |b: &Batch| {
        b.shard.map_or("the whole batch".to_owned(), |s| {
            format!("shard {}/{}", s.index, s.count)
        })
    };
    if !earlier.same_inputs(planned) {
        format!(
            "the outputs of a run of other inputs ({}; this run has {})",
            crate::plural(earlier.images.len(), "image"),
            planned.images.len()
        )
    } else if earlier.shard != planned.shard {
        format!(
            "the outputs of {} of the same inputs (this run: {})",
            part(earlier),
            part(planned)
        )
    } else {
        "the outputs of a run of the same inputs with other settings, models or skintex version"
            .to_owned()
    }
}

/// Remove every skintex output from `out` (`--overwrite`); other files stay.
///
/// # Errors
/// The first entry that cannot be removed, named.
pub fn clear_outputs(out: &Path) -> std::io::Result<()> {
    for name in OUTPUT_NAMES {
        let (path, ours) = output_entry(out, name);
        if !ours {
            continue;
        }
        let removed = if name.ends_with('/') {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot remove {}: {e}", path.display()))
        })?;
    }
    super::remove_stale_temps(out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(images: &[&str]) -> Batch {
        Batch {
            format: super::super::store::STORE_FORMAT,
            skintex_version: crate::VERSION.to_owned(),
            run_fingerprint: "f".into(),
            shard: None,
            carried_columns: Vec::new(),
            images: images
                .iter()
                .map(|id| super::super::store::BatchEntry {
                    image_id: (*id).to_owned(),
                    path: format!("{id}.png"),
                    key: None,
                })
                .collect(),
        }
    }

    #[test]
    fn every_file_a_run_writes_is_an_output_name() {
        let dir = tempfile::tempdir().unwrap();
        let written = super::super::write_run_tables(dir.path(), &[], &[], &batch(&[])).unwrap();
        for name in written
            .iter()
            .chain(&["run.json"])
            .chain(crate::study::STUDY_OUTPUTS)
        {
            assert!(OUTPUT_NAMES.contains(name), "{name}");
        }
        assert!(outputs_in(dir.path()).contains(&"batch.json"));
    }

    #[test]
    fn same_run_passes_other_run_is_refused_and_overwrite_keeps_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let planned = batch(&["a", "b"]);
        check_out_folder(out, &planned, Existing::Refuse, "x").unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        std::fs::write(out.join("qc"), "a file skintex never writes").unwrap();
        std::fs::create_dir(out.join("records")).unwrap();
        assert!(outputs_in(out).is_empty(), "{:?}", outputs_in(out));
        std::fs::write(out.join("batch.json"), planned.to_json()).unwrap();
        std::fs::write(out.join("records/k.json"), "{}").unwrap();
        check_out_folder(out, &planned, Existing::Refuse, "x").unwrap();
        let err = check_out_folder(out, &batch(&["a"]), Existing::Refuse, "x").unwrap_err();
        assert!(
            err.to_string()
                .contains("other inputs (2 images; this run has 1)")
        );
        check_out_folder(out, &batch(&["a"]), Existing::Resume, "x").unwrap();
        clear_outputs(out).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["notes.txt", "qc"]);
    }
}
