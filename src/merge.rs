//! `skintex merge`: join the output folders of `--shard K/N` runs into the output of one run.
//!
//! Each shard folder holds `batch.json` (the whole input list, the run fingerprint and which
//! images the shard analysed) and one record per analysed image. The merge checks that the
//! shards belong together (same inputs, same settings, every shard of 1..N present once), then
//! rebuilds every table from the records in input order, so `metrics.csv`, `images.csv`,
//! `lines.csv`, `scars.csv`, `columns.csv` and `DATA_DICTIONARY.md` are byte-identical to those
//! of a single unsharded run. QC pictures, masks and records are copied; `run.json` is the shards'
//! provenance with the merge's command line, times, counts and `merged_from`.

use std::path::{Path, PathBuf};

use crate::output::folder::{
    Existing, MERGE_CHOICES, OccupiedError, check_out_folder, clear_outputs,
};
use crate::output::masks::{MaskKind, mask_path};
use crate::output::provenance::{ImageCounts, now_iso8601};
use crate::output::qc::qc_path;
use crate::output::store::{Batch, STORE_FORMAT, load_record, record_path, records_dir};
use crate::output::tables::ImageRows;
use crate::output::{write_atomic, write_run_tables};

/// Why shard folders cannot be merged (exit code 2) or the result cannot be written (3).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}")]
    Inconsistent(String),
    #[error(transparent)]
    Occupied(#[from] OccupiedError),
    #[error("{0}")]
    Write(#[from] std::io::Error),
}

/// What the merge produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeSummary {
    pub counts: ImageCounts,
    pub shards: usize,
}

/// Check that the batches are the complete set of shards of one run; returns the shard count.
fn check_shards(dirs: &[PathBuf], batches: &[Batch]) -> Result<u32, MergeError> {
    let bad = |m: String| Err(MergeError::Inconsistent(m));
    let first = &batches[0];
    let Some(first_shard) = first.shard else {
        return bad(format!(
            "{}: not a shard (run with --shard K/N to split a batch)",
            dirs[0].display()
        ));
    };
    let count = first_shard.count;
    let mut seen = vec![None::<&Path>; count as usize];
    for (dir, b) in dirs.iter().zip(batches) {
        let Some(shard) = b.shard else {
            return bad(format!("{}: not a shard", dir.display()));
        };
        if shard.count != count {
            return bad(format!(
                "{}: shard {}/{} but {} is a shard of {count}",
                dir.display(),
                shard.index,
                shard.count,
                dirs[0].display()
            ));
        }
        if b.run_fingerprint != first.run_fingerprint || b.skintex_version != first.skintex_version
        {
            return bad(format!(
                "{} and {} were run with different settings, models or skintex versions",
                dirs[0].display(),
                dir.display()
            ));
        }
        if !first.same_inputs(b) {
            return bad(format!(
                "{} and {} were run on different inputs",
                dirs[0].display(),
                dir.display()
            ));
        }
        let slot = &mut seen[shard.index as usize - 1];
        if let Some(other) = slot {
            return bad(format!(
                "shard {}/{count} given twice: {} and {}",
                shard.index,
                other.display(),
                dir.display()
            ));
        }
        *slot = Some(dir);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_none())
        .map(|(i, _)| format!("{}/{count}", i + 1))
        .collect();
    if !missing.is_empty() {
        return bad(format!("missing shards: {}", missing.join(", ")));
    }
    Ok(count)
}

/// Merge shard output folders into `out`. With `overwrite`, the skintex outputs already in
/// `out` are cleared first; without it, `out` may hold nothing but an earlier merge of the same
/// run.
///
/// # Errors
/// [`MergeError::Inconsistent`] naming the folder or image at fault when the shards do not form
/// one complete run, a record is missing or `out` is one of the shards;
/// [`MergeError::Occupied`] when `out` holds the outputs of another run; [`MergeError::Write`]
/// when `out` cannot be written.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    overwrite: bool,
    command_line: Vec<String>,
) -> Result<MergeSummary, MergeError> {
    let started_at = now_iso8601();
    if dirs.is_empty() {
        return Err(MergeError::Inconsistent("no folders to merge".into()));
    }
    let batches: Vec<Batch> = dirs
        .iter()
        .map(|d| Batch::read(d).map_err(MergeError::Inconsistent))
        .collect::<Result<_, _>>()?;
    let shard_count = check_shards(dirs, &batches)?;
    let real_out = std::fs::canonicalize(out).ok();
    let is_out =
        |d: &PathBuf| d == out || (real_out.is_some() && std::fs::canonicalize(d).ok() == real_out);
    if let Some(dir) = dirs.iter().find(|d| is_out(d)) {
        return Err(MergeError::Inconsistent(format!(
            "--out {} is one of the shard folders ({}); merge into a new folder",
            out.display(),
            dir.display()
        )));
    }
    let mut planned = batches[0].clone();
    planned.shard = None;
    let existing = if overwrite {
        Existing::Overwrite
    } else {
        Existing::Refuse
    };
    check_out_folder(out, &planned, existing, MERGE_CHOICES)?;
    if overwrite {
        clear_outputs(out)?;
    }

    std::fs::create_dir_all(records_dir(out))?;
    let mut rows: Vec<ImageRows> = Vec::with_capacity(batches[0].images.len());
    let mut keys: Vec<Option<String>> = Vec::with_capacity(rows.capacity());
    for (i, entry) in batches[0].images.iter().enumerate() {
        let owners: Vec<(&PathBuf, &str)> = dirs
            .iter()
            .zip(&batches)
            .filter_map(|(d, b)| b.images[i].key.as_deref().map(|k| (d, k)))
            .collect();
        let [(dir, key)] = owners.as_slice() else {
            return Err(MergeError::Inconsistent(format!(
                "image {} ({}) was analysed by {} shards, expected exactly 1",
                entry.image_id,
                entry.path,
                owners.len()
            )));
        };
        let record = load_record(dir, key).ok_or_else(|| {
            MergeError::Inconsistent(format!(
                "image {} ({}): record {} missing or unreadable (did that shard finish? rerun it \
                 with --resume)",
                entry.image_id,
                entry.path,
                record_path(dir, key).display()
            ))
        })?;
        std::fs::copy(record_path(dir, key), record_path(out, key))?;
        let qc = qc_path(dir, &entry.image_id);
        if record.ok && qc.is_file() {
            let target = qc_path(out, &entry.image_id);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(&qc, &target)?;
        }
        for kind in [MaskKind::Lines, MaskKind::Zones] {
            let mask = mask_path(dir, &entry.image_id, kind);
            if record.ok && mask.is_file() {
                let target = mask_path(out, &entry.image_id, kind);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::copy(&mask, &target)?;
            }
        }
        rows.push(record);
        keys.push(Some((*key).to_owned()));
    }

    let ok = rows.iter().filter(|r| r.ok).count();
    let counts = ImageCounts {
        total: rows.len(),
        ok,
        error: rows.len() - ok,
    };
    let mut batch = batches[0].clone();
    batch.format = STORE_FORMAT;
    batch.shard = None;
    for (entry, key) in batch.images.iter_mut().zip(keys) {
        entry.key = key;
    }
    let written = write_run_tables(out, &rows, &vec![true; rows.len()], &batch)?;
    write_atomic(
        &out.join("run.json"),
        &merged_provenance(dirs, &written, counts, command_line, started_at)?,
    )?;
    Ok(MergeSummary {
        counts,
        shards: shard_count as usize,
    })
}

/// `run.json` of the merge: the first shard's provenance (settings are identical across shards,
/// checked by fingerprint) with this command, times, counts and the merged folders.
fn merged_provenance(
    dirs: &[PathBuf],
    written: &[&str],
    counts: ImageCounts,
    command_line: Vec<String>,
    started_at: String,
) -> Result<Vec<u8>, MergeError> {
    let path = dirs[0].join("run.json");
    let text = std::fs::read(&path)
        .map_err(|e| MergeError::Inconsistent(format!("{}: {e}", path.display())))?;
    let mut run: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| MergeError::Inconsistent(format!("{}: {e}", path.display())))?;
    let set = |run: &mut serde_json::Value, key: &str, value: serde_json::Value| {
        if let Some(obj) = run.as_object_mut() {
            obj.insert(key.to_owned(), value);
        }
    };
    set(&mut run, "command_line", serde_json::json!(command_line));
    set(&mut run, "started_at", serde_json::json!(started_at));
    set(&mut run, "finished_at", serde_json::json!(now_iso8601()));
    set(&mut run, "images", serde_json::json!(counts));
    set(&mut run, "images_resumed", serde_json::json!(counts.total));
    set(&mut run, "shard", serde_json::Value::Null);
    set(
        &mut run,
        "merged_from",
        serde_json::json!(
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
        ),
    );
    let outputs: Vec<&str> = written.iter().copied().chain(["run.json"]).collect();
    set(&mut run, "outputs", serde_json::json!(outputs));
    let mut bytes = serde_json::to_vec_pretty(&run).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}
