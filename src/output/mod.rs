//! Output stage: the CSV tables, the data dictionary and the provenance record.
//!
//! Every table is declared as a list of [`ColumnSpec`](crate::metrics::ColumnSpec)s; the same declarations write the CSV
//! header and the data dictionary, so the two cannot drift apart. Every file is written
//! atomically (temporary file in the same folder, then rename).

pub mod dictionary;
pub mod folder;
pub mod masks;
pub mod provenance;
pub mod qc;
pub mod store;
pub mod tables;
pub mod typed;

use std::io::Write as _;
use std::path::Path;

use dictionary::{columns_csv, data_dictionary_markdown};
use store::Batch;
use tables::{ImageRows, table_bytes, timings_csv};

/// Write `bytes` to `path` atomically: a crash leaves either the old file or the new one.
///
/// # Errors
/// Any I/O error, with the path in the message.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| std::io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))
}

/// Write the files of a run that come from its images' rows: every table, `timings.csv`
/// (`resumed[i]` marks rows taken from records), `columns.csv`, `DATA_DICTIONARY.md` and
/// `batch.json`, each atomically. `skintex analyze` and `skintex merge` both write through here,
/// so a merge is byte-identical to a single run. Returns the names written, in order (for the
/// `outputs` of `run.json`, which the caller writes last).
///
/// # Errors
/// The first I/O error, naming the file.
pub fn write_run_tables(
    out: &Path,
    rows: &[ImageRows],
    resumed: &[bool],
    batch: &Batch,
) -> std::io::Result<Vec<&'static str>> {
    let carried = &batch.carried_columns;
    let mut files: Vec<(&'static str, Vec<u8>)> = table_bytes(rows, carried).into();
    files.push(("timings.csv", timings_csv(rows, resumed)));
    files.push(("columns.csv", columns_csv(carried)));
    files.push((
        "DATA_DICTIONARY.md",
        data_dictionary_markdown(carried).into_bytes(),
    ));
    files.push(("batch.json", batch.to_json()));
    for (name, bytes) in &files {
        write_atomic(&out.join(name), bytes)?;
    }
    Ok(files.into_iter().map(|(name, _)| name).collect())
}

/// Remove temporary files that [`write_atomic`] left in `dir` when a process was killed
/// mid-write (`.NAME.tmp-PID`). They are never outputs; an interrupted run's outputs are
/// either complete or absent.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Format a number for CSV: 7 significant digits, shortest decimal form, never NaN or inf
/// (non-finite values are written as an empty cell).
pub fn format_number(value: f64) -> String {
    if !value.is_finite() {
        return String::new();
    }
    let rounded: f64 = format!("{value:.6e}").parse().unwrap_or(value);
    let rounded = if rounded == 0.0 { 0.0 } else { rounded }; // no "-0"
    format!("{rounded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_rounded_to_seven_significant_digits() {
        assert_eq!(format_number(1.0), "1");
        assert_eq!(format_number(0.123456789), "0.1234568");
        assert_eq!(format_number(-1234567.89), "-1234568");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(f64::NAN), "");
        assert_eq!(format_number(f64::INFINITY), "");
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
