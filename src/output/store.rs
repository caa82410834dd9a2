//! The record store: one file per finished image under `OUT/records/`, and the batch description
//! `OUT/batch.json`. Together they make runs resumable (`--resume`) and shardable (`--shard`,
//! `skintex merge`).
//!
//! An image's record holds the formatted rows it contributes to every table
//! ([`ImageRows`]). It is written atomically as soon as the image is finished, so a run killed at
//! any moment (even by SIGKILL) leaves only complete records and complete tables (the tables are
//! written at the end, each atomically). The record's file name is its key:
//!
//! ```text
//! run fingerprint = sha256(skintex version, resolved config as JSON, default roi, --px-per-mm,
//!                          runtime, model sha256s, whether QC pictures are written)
//! image key       = sha256(run fingerprint, image_id, path, carried manifest cells,
//!                          manifest px_per_mm, roi, problem, file size, sha256 of the file's bytes)
//! ```
//!
//! so a record is reused only for the same bytes analysed the same way; changing a parameter,
//! the model or the file invalidates it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::tables::ImageRows;
use super::write_atomic;
use crate::digest::{hex, sha256_hex};
use crate::input::ImageInput;

/// Version of the record and batch file layouts; files of another version are not reused.
/// 2: metrics rows with the pores family, `pores` rows, scars rows with their audit columns.
/// 3: `images` rows with the colour-chart columns.
pub const STORE_FORMAT: u32 = 3;

/// Folder of the per-image records inside an output folder.
pub fn records_dir(out: &Path) -> PathBuf {
    out.join("records")
}

/// Feed length-prefixed fields into a hasher, so that field boundaries cannot be confused.
struct FieldHasher(Sha256);

impl FieldHasher {
    fn new(domain: &str) -> Self {
        let mut h = Self(Sha256::new());
        h.field(domain.as_bytes());
        h
    }

    fn field(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}

/// The fingerprint of everything about a run that changes its numbers, from the given parts
/// (each part an already-serialised setting, in a fixed order).
pub fn run_fingerprint(parts: &[&[u8]]) -> String {
    let mut h = FieldHasher::new("skintex-run-v1");
    h.field(crate::VERSION.as_bytes());
    for part in parts {
        h.field(part);
    }
    h.finish()
}

/// The key of one input under a run fingerprint. `file` is the input's file as read (it is
/// hashed), `None` for an input with a problem found before reading.
pub fn image_key(
    run_fingerprint: &str,
    input: &ImageInput,
    file: Option<&std::io::Result<Vec<u8>>>,
) -> String {
    let mut h = FieldHasher::new("skintex-image-v1");
    h.field(run_fingerprint.as_bytes());
    h.field(input.image_id.as_bytes());
    h.field(input.display_path.as_bytes());
    h.field(&(input.carried.len() as u64).to_le_bytes());
    for cell in &input.carried {
        h.field(cell.as_bytes());
    }
    h.field(
        input
            .manifest_px_per_mm
            .map(f64::to_bits)
            .unwrap_or(u64::MAX)
            .to_le_bytes()
            .as_slice(),
    );
    h.field(format!("{:?}", input.roi).as_bytes());
    h.field(format!("{:?}", input.chart_box).as_bytes());
    h.field(input.problem.as_deref().unwrap_or("").as_bytes());
    match file {
        Some(Ok(bytes)) => {
            h.field(&(bytes.len() as u64).to_le_bytes());
            h.field(sha256_hex(bytes).as_bytes());
        }
        Some(Err(e)) => h.field(format!("unreadable: {}", e.kind()).as_bytes()),
        None => {}
    }
    h.finish()
}

/// One stored image result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    pub format: u32,
    pub key: String,
    pub rows: ImageRows,
}

/// Where the record of `key` lives.
pub fn record_path(out: &Path, key: &str) -> PathBuf {
    records_dir(out).join(format!("{key}.json"))
}

/// Write an image's record atomically.
///
/// # Errors
/// I/O errors naming the file.
pub fn save_record(out: &Path, key: &str, rows: &ImageRows) -> std::io::Result<()> {
    let record = StoredRecord {
        format: STORE_FORMAT,
        key: key.to_owned(),
        rows: rows.clone(),
    };
    let bytes = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
    std::fs::create_dir_all(records_dir(out))?;
    write_atomic(&record_path(out, key), &bytes)
}

/// Read the record of `key` from `dir`, if there is a valid one. A record that cannot be read or
/// does not match its key is reported and ignored (the image is analysed again).
pub fn load_record(dir: &Path, key: &str) -> Option<ImageRows> {
    let path = record_path(dir, key);
    let bytes = std::fs::read(&path).ok()?;
    match serde_json::from_slice::<StoredRecord>(&bytes) {
        Ok(r) if r.format == STORE_FORMAT && r.key == key => Some(r.rows),
        Ok(_) => {
            tracing::warn!("{}: record does not match its key; ignored", path.display());
            None
        }
        Err(e) => {
            tracing::warn!("{}: unreadable record ({e}); ignored", path.display());
            None
        }
    }
}

/// Remove records that are not in `keep` (left by runs with other settings or inputs); returns
/// how many were removed.
pub fn prune_records(out: &Path, keep: &[String]) -> usize {
    let keep: std::collections::HashSet<&str> = keep.iter().map(String::as_str).collect();
    remove_files_except(&records_dir(out), &|path| {
        path.file_stem()
            .is_some_and(|stem| keep.contains(stem.to_string_lossy().as_ref()))
    })
}

/// Remove the files under `dir` (recursively) for which `keep` is false, and the folders this
/// empties; returns how many files were removed.
pub fn remove_files_except(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            removed += remove_files_except(&path, keep);
            let _ = std::fs::remove_dir(&path); // only when now empty
        } else if !keep(&path) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// A deterministic partition of a batch: shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether this shard analyses `image_id`: the first 8 bytes of sha256(image_id), as a
    /// little-endian integer, modulo `count` equal `index - 1`. Depends only on the id, so an
    /// image stays in its shard when others are added to the study.
    pub fn owns(&self, image_id: &str) -> bool {
        let digest = Sha256::digest(image_id.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("expected K/N (e.g. 2/8), got `{s}`"))?;
        let index: u32 = k
            .trim()
            .parse()
            .map_err(|_| format!("shard number `{k}` is not a whole number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("shard count `{n}` is not a whole number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "shard must be K/N with 1 <= K <= N, got {index}/{count}"
            ));
        }
        Ok(Self { index, count })
    }
}

/// One input of a batch as listed in `batch.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchEntry {
    pub image_id: String,
    pub path: String,
    /// The record key when this run analysed the image (it is in this run's shard).
    pub key: Option<String>,
}

/// `batch.json`: the whole input list of a run, which part of it this run analysed, and the
/// fingerprint of its settings. `skintex merge` checks shards against each other with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub format: u32,
    pub skintex_version: String,
    pub run_fingerprint: String,
    pub shard: Option<Shard>,
    pub carried_columns: Vec<String>,
    pub images: Vec<BatchEntry>,
}

impl Batch {
    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Whether `other` lists the same inputs (ids and paths, in order) with the same carried
    /// columns.
    pub fn same_inputs(&self, other: &Self) -> bool {
        self.carried_columns == other.carried_columns
            && self.images.len() == other.images.len()
            && self
                .images
                .iter()
                .zip(&other.images)
                .all(|(x, y)| x.image_id == y.image_id && x.path == y.path)
    }

    /// Whether `other` describes the same run: same inputs, settings, skintex version and
    /// shard (which images were finished, the keys, does not matter).
    pub fn same_run(&self, other: &Self) -> bool {
        self.format == other.format
            && self.skintex_version == other.skintex_version
            && self.run_fingerprint == other.run_fingerprint
            && self.shard == other.shard
            && self.same_inputs(other)
    }

    /// Read `DIR/batch.json`.
    ///
    /// # Errors
    /// A message naming the file when it is missing, unreadable or of another format.
    pub fn read(dir: &Path) -> Result<Self, String> {
        let path = dir.join("batch.json");
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "{}: {e} (is this a skintex analyze output folder?)",
                path.display()
            )
        })?;
        let batch: Self =
            serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        if batch.format != STORE_FORMAT {
            return Err(format!(
                "{}: batch format {} (this skintex reads {STORE_FORMAT})",
                path.display(),
                batch.format
            ));
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_every_id_exactly_once() {
        let shards: Vec<Shard> = (1..=3).map(|k| Shard { index: k, count: 3 }).collect();
        let mut per_shard = [0usize; 3];
        for i in 0..300 {
            let id = format!("subject-{i:03}");
            let owners: Vec<usize> = (0..3).filter(|&k| shards[k].owns(&id)).collect();
            assert_eq!(owners.len(), 1, "{id}");
            per_shard[owners[0]] += 1;
        }
        // Balanced to within sampling noise (expected 100 each).
        assert!(
            per_shard.iter().all(|&n| (70..=130).contains(&n)),
            "{per_shard:?}"
        );
    }

    #[test]
    fn shard_parsing_rejects_bad_specs() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, count: 5 }));
        for bad in ["0/3", "4/3", "1/0", "3", "a/2", "1/b"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn image_key_changes_with_content_and_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        std::fs::write(&path, b"one").unwrap();
        let input = ImageInput {
            image_id: "a".into(),
            path: path.clone(),
            display_path: "a.png".into(),
            carried: vec![],
            manifest_px_per_mm: None,
            roi: None,
            chart_box: None,
            problem: None,
        };
        let fp = run_fingerprint(&[b"config-1"]);
        let key = |fp: &str| image_key(fp, &input, Some(&std::fs::read(&path)));
        let k1 = key(&fp);
        assert_eq!(k1, key(&fp));
        assert_ne!(k1, key(&run_fingerprint(&[b"config-2"])));
        std::fs::write(&path, b"two").unwrap();
        assert_ne!(k1, key(&fp));
    }

    #[test]
    fn records_round_trip_and_reject_mismatched_keys() {
        let dir = tempfile::tempdir().unwrap();
        let rows = ImageRows {
            image_id: "a".into(),
            path: "a.png".into(),
            ok: true,
            metrics: vec![vec!["a".into(), "0.1234568".into(), String::new()]],
            image: vec!["a".into(), "ok".into()],
            lines: vec![],
            scars: vec![],
            pores: vec![vec!["a".into(), "1".into(), "0.25".into()]],
            landmarks: vec![],
            timing: Default::default(),
        };
        save_record(dir.path(), "k1", &rows).unwrap();
        assert_eq!(load_record(dir.path(), "k1"), Some(rows));
        std::fs::copy(record_path(dir.path(), "k1"), record_path(dir.path(), "k2")).unwrap();
        assert_eq!(load_record(dir.path(), "k2"), None);
        std::fs::write(record_path(dir.path(), "k3"), b"{truncated").unwrap();
        assert_eq!(load_record(dir.path(), "k3"), None);
    }
}
