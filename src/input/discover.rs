//! Inputs given on the command line: image files and folders walked recursively in sorted order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{ImageInput, InputError, InputSet};

/// File extensions (lower case) picked up when walking folders.
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "tif", "tiff"];

/// Whether a path has one of [`IMAGE_EXTENSIONS`], in any case.
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Expand files and folders into the ordered list of images.
///
/// Files named explicitly are always taken (their content decides the format). Folders are walked
/// recursively with entries sorted by name; symbolic links to folders are not followed.
///
/// # Errors
/// [`InputError::Unusable`] when a path does not exist (a mistyped folder: nothing is
/// analysed), a folder cannot be listed or no image is found at all.
pub fn discover_inputs(paths: &[PathBuf]) -> Result<InputSet, InputError> {
    let missing: Vec<String> = paths
        .iter()
        .filter(|p| std::fs::symlink_metadata(p).is_err())
        .map(|p| p.display().to_string())
        .collect();
    if !missing.is_empty() {
        return Err(InputError::Unusable {
            path: missing.join(", "),
            reason: "no such file or folder (check the spelling; a CSV manifest is given with \
                     --manifest)"
                .to_owned(),
        });
    }
    let mut found: Vec<(PathBuf, String)> = Vec::new(); // (path, id candidate)
    for root in paths {
        if root.is_dir() {
            let mut files = Vec::new();
            walk_sorted(root, &mut files)?;
            for file in files {
                let rel = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
                found.push((file, id_from_relative(&rel)));
            }
        } else {
            found.push((
                root.clone(),
                id_from_relative(Path::new(root.file_name().unwrap_or_default())),
            ));
        }
    }
    if found.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(InputError::Unusable {
            path: names.join(", "),
            reason: format!(
                "no images found (looked for {})",
                IMAGE_EXTENSIONS.join(", ")
            ),
        });
    }
    let ids = unique_ids(found.iter().map(|(p, id)| (p.as_path(), id.as_str())));
    let images = found
        .into_iter()
        .zip(ids)
        .map(|((path, _), image_id)| ImageInput {
            image_id,
            display_path: path.display().to_string(),
            path,
            carried: Vec::new(),
            manifest_px_per_mm: None,
            roi: None,
            chart_box: None,
            problem: None,
        })
        .collect();
    Ok(InputSet {
        images,
        carried_columns: Vec::new(),
    })
}

fn walk_sorted(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let unusable = |e: std::io::Error| InputError::Unusable {
        path: dir.display().to_string(),
        reason: format!("cannot list folder: {e}"),
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(unusable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unusable)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let file_type = entry.file_type().map_err(unusable)?;
        if file_type.is_dir() {
            walk_sorted(&path, out)?;
        } else if (!file_type.is_symlink() || path.is_file()) && has_image_extension(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// An image id from a relative path: forward slashes, extension removed.
pub fn id_from_relative(rel: &Path) -> String {
    let without_ext = rel.with_extension("");
    let parts: Vec<String> = without_ext
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let id = parts.join("/");
    if id.is_empty() {
        "image".to_owned()
    } else {
        id
    }
}

/// Make ids unique: a colliding id takes its file extension, and a remaining collision a `-N`
/// suffix in input order. Deterministic for a given input order.
pub fn unique_ids<'a>(items: impl Iterator<Item = (&'a Path, &'a str)>) -> Vec<String> {
    let items: Vec<(&Path, &str)> = items.collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (_, id) in &items {
        *counts.entry(id).or_default() += 1;
    }
    let mut taken: HashMap<String, usize> = HashMap::new();
    items
        .iter()
        .map(|(path, id)| {
            let mut candidate = (*id).to_owned();
            if counts[id] > 1
                && let Some(ext) = path.extension().and_then(|e| e.to_str())
            {
                candidate = format!("{id}.{ext}");
            }
            let n = taken.entry(candidate.clone()).or_default();
            *n += 1;
            if *n > 1 {
                candidate = format!("{candidate}-{n}");
            }
            candidate
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_any_case() {
        assert!(has_image_extension(Path::new("a/B.JPG")));
        assert!(has_image_extension(Path::new("x.TiFf")));
        assert!(!has_image_extension(Path::new("x.txt")));
        assert!(!has_image_extension(Path::new("jpg")));
    }

    #[test]
    fn ids_are_unique_and_stable() {
        let paths = [Path::new("a.jpg"), Path::new("a.png"), Path::new("b.jpg")];
        let ids = unique_ids(
            paths
                .iter()
                .map(|p| (*p, p.file_stem().unwrap().to_str().unwrap())),
        );
        assert_eq!(ids, vec!["a.jpg", "a.png", "b"]);
    }

    #[test]
    fn nested_id_uses_forward_slashes() {
        assert_eq!(
            id_from_relative(Path::new("s01/v1/face.tif")),
            "s01/v1/face"
        );
    }
}
