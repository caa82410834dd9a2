//! Study manifests: a CSV with one row per photo.
//!
//! Column `path` is required (relative to the manifest's folder). `image_id` names the image
//! (default: the path without extension); `px_per_mm` calibrates it; `roi` (`face` or `full`)
//! overrides `--roi` for that image; `chart_box` (`x,y,w,h` in px, quoted in a comma-separated
//! manifest: `"120,80,600,400"`) gives the box of a colour chart's 24 patches, which is then
//! used instead of searching the photo for one (see [`crate::chart`]). Every other column
//! (`subject`, `visit`, `days_from_baseline`, `side`, `arm`, `needle_depth_mm`, ... or any of the
//! study's own) is carried through to the outputs unchanged. Manifests as spreadsheets save
//! them are accepted: a UTF-8 byte-order mark, CRLF line ends, column names in any case, `;`
//! or tab between columns (sniffed from the header, see [`Dialect`]) and then a decimal comma
//! in numbers (`px_per_mm` and the [`NUMERIC_COLUMNS`], which are carried with a point).
//!
//! Problems with one row (unparsable number, file outside the manifest's folder, duplicate id,
//! invalid UTF-8) make that row an error row; problems with the manifest as a whole (unreadable,
//! no `path` column, duplicate or reserved column names) are [`InputError::Manifest`].

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use super::discover::id_from_relative;
use super::{ImageInput, InputError, InputSet};

/// Columns with a meaning to skintex itself (not carried).
pub const COLUMN_PATH: &str = "path";
pub const COLUMN_IMAGE_ID: &str = "image_id";
pub const COLUMN_PX_PER_MM: &str = "px_per_mm";
pub const COLUMN_ROI: &str = "roi";
/// The colour chart's patch area, `x,y,w,h` in px (see [`super::ChartBox`]).
pub const COLUMN_CHART_BOX: &str = "chart_box";

/// Carried columns whose values must parse as numbers when present.
pub const NUMERIC_COLUMNS: &[&str] = &["days_from_baseline", "needle_depth_mm", "session_count"];

/// How a manifest's CSV is written. Spreadsheets in many European locales save "CSV" with `;`
/// (or a tab) between columns and a decimal comma in numbers; the delimiter is sniffed from the
/// header, and a decimal comma is accepted only when the delimiter is not a comma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub delimiter: u8,
}

impl Dialect {
    /// The delimiter (`,`, `;` or tab) that gives the header (the first line of `bytes`) a
    /// `path` column in any case; failing that, the one that gives it the most columns; on a
    /// tie, the comma.
    pub fn sniff(bytes: &[u8]) -> Self {
        let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let header = |delimiter: u8| header_names(first_line, Self { delimiter });
        // `max_by_key` keeps the last of equal keys: the comma comes last.
        let delimiter = [b'\t', b';', b',']
            .into_iter()
            .max_by_key(|&d| {
                let names = header(d);
                (column(&names, COLUMN_PATH).is_some(), names.len())
            })
            .unwrap_or(b',');
        Self { delimiter }
    }

    /// A reader of `bytes` (the header first) with this delimiter.
    pub fn reader(self, bytes: &[u8]) -> csv::Reader<&[u8]> {
        csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .flexible(true)
            .from_reader(bytes)
    }

    /// Whether numbers may be written with a decimal comma (`0,5`).
    pub fn decimal_comma(self) -> bool {
        self.delimiter != b','
    }

    /// `cell` (trimmed) as a finite number, with a decimal comma when [`Self::decimal_comma`];
    /// `None` when it is not one.
    pub fn number(self, cell: &str) -> Option<f64> {
        let cell = cell.trim();
        let parsed = if self.decimal_comma() {
            cell.replace(',', ".").parse::<f64>()
        } else {
            cell.parse::<f64>()
        };
        parsed.ok().filter(|v| v.is_finite())
    }

    /// The delimiter as a reader would name it.
    fn name(self) -> &'static str {
        match self.delimiter {
            b'\t' => "tab",
            b';' => "`;`",
            _ => "`,`",
        }
    }
}

/// A manifest's bytes without a UTF-8 byte-order mark, and its [`Dialect`].
pub fn manifest_dialect(bytes: &[u8]) -> (&[u8], Dialect) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    (bytes, Dialect::sniff(bytes))
}

/// The column names of a header line (trimmed; invalid UTF-8 replaced).
fn header_names(line: &[u8], dialect: Dialect) -> Vec<String> {
    dialect
        .reader(line)
        .byte_headers()
        .map(|h| {
            h.iter()
                .map(|f| String::from_utf8_lossy(f).trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The position of the column `name` in `header`, in any case (`Path`, `PATH`, `path`).
pub fn column(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h.eq_ignore_ascii_case(name))
}

/// What was read from a header, for messages about a column that is not there: `read 1
/// column: `path|id`; separate the columns with `,`, `;` or a tab` or `read 3 columns
/// separated by `;`: `file`, `subject`, `visit``.
pub fn header_read(header: &[String], dialect: Dialect) -> String {
    match header {
        [only] => format!("read 1 column: `{only}`; separate the columns with `,`, `;` or a tab"),
        _ => format!(
            "read {} columns separated by {}: {}",
            header.len(),
            dialect.name(),
            header
                .iter()
                .map(|h| format!("`{h}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Read a manifest. `reserved` are output column names a carried column may not take.
/// Column names are matched in any case; the delimiter and decimal comma follow the
/// manifest's [`Dialect`].
///
/// # Errors
/// [`InputError::Manifest`] when the file cannot be read or its header is unusable.
pub fn read_manifest(manifest: &Path, reserved: &[&str]) -> Result<InputSet, InputError> {
    let bytes = std::fs::read(manifest).map_err(|e| InputError::Manifest {
        path: manifest.display().to_string(),
        reason: format!("cannot read: {e}"),
    })?;
    parse_manifest(&bytes, manifest, reserved)
}

/// [`read_manifest`] on the manifest's bytes as read from `manifest` (which names it in
/// messages and whose folder the paths are relative to). Touches no file.
///
/// # Errors
/// [`InputError::Manifest`] when its header is unusable or it has no rows.
pub fn parse_manifest(
    bytes: &[u8],
    manifest: &Path,
    reserved: &[&str],
) -> Result<InputSet, InputError> {
    let fail = |reason: String| InputError::Manifest {
        path: manifest.display().to_string(),
        reason,
    };
    let (bytes, dialect) = manifest_dialect(bytes);
    let folder = manifest.parent().unwrap_or(Path::new("")).to_path_buf();

    let mut reader = dialect.reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|e| fail(format!("cannot read header: {e}")))?
        .clone();
    let mut names = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        let name = std::str::from_utf8(raw)
            .map_err(|_| fail(format!("header column {} is not valid UTF-8", i + 1)))?
            .trim()
            .to_owned();
        if name.is_empty() {
            return Err(fail(format!("header column {} has no name", i + 1)));
        }
        if let Some(same) = column(&names, &name) {
            return Err(fail(format!(
                "column `{name}` appears twice in the header (as `{}` too)",
                names[same]
            )));
        }
        names.push(name);
    }
    let col = |n: &str| column(&names, n);
    let path_col = col(COLUMN_PATH).ok_or_else(|| {
        fail(format!(
            "no `path` column in the header ({})",
            header_read(&names, dialect)
        ))
    })?;
    let id_col = col(COLUMN_IMAGE_ID);
    let cal_col = col(COLUMN_PX_PER_MM);
    let roi_col = col(COLUMN_ROI);
    let chart_col = col(COLUMN_CHART_BOX);
    let own = [Some(path_col), id_col, cal_col, roi_col, chart_col];
    let carried_idx: Vec<usize> = (0..names.len())
        .filter(|&i| !own.contains(&Some(i)))
        .collect();
    let known = KnownColumns {
        path: path_col,
        id: id_col,
        px_per_mm: cal_col,
        roi: roi_col,
        chart_box: chart_col,
        dialect,
    };
    for &i in &carried_idx {
        if let Some(clash) = reserved.iter().find(|r| r.eq_ignore_ascii_case(&names[i])) {
            return Err(fail(format!(
                "column `{}` clashes with an output column (`{clash}`); rename it",
                names[i]
            )));
        }
    }
    let carried_columns: Vec<String> = carried_idx.iter().map(|&i| names[i].clone()).collect();

    let mut images = Vec::new();
    let mut lines = Vec::new();
    for (row_no, record) in reader.byte_records().enumerate() {
        let line = row_no + 2; // the header is line 1
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                lines.push(line);
                images.push(error_row(
                    line,
                    &carried_columns,
                    format!("manifest line {line}: {e}"),
                ));
                continue;
            }
        };
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue; // blank line
        }
        lines.push(line);
        images.push(parse_row(
            &record,
            line,
            &names,
            &folder,
            &known,
            &carried_idx,
        ));
    }
    if images.is_empty() {
        return Err(fail("no rows".into()));
    }
    mark_duplicate_ids(&mut images, &lines);
    Ok(InputSet {
        images,
        carried_columns,
    })
}

/// Positions of the columns with a meaning to skintex, and how numbers are written.
struct KnownColumns {
    path: usize,
    id: Option<usize>,
    px_per_mm: Option<usize>,
    roi: Option<usize>,
    chart_box: Option<usize>,
    dialect: Dialect,
}

fn parse_row(
    record: &csv::ByteRecord,
    line: usize,
    names: &[String],
    folder: &Path,
    known: &KnownColumns,
    carried_idx: &[usize],
) -> ImageInput {
    let mut problems: Vec<String> = Vec::new();
    let mut field = |i: usize| -> String {
        match record.get(i) {
            None => String::new(),
            Some(raw) => match std::str::from_utf8(raw) {
                Ok(s) => s.trim().to_owned(),
                Err(_) => {
                    problems.push(format!("column `{}` is not valid UTF-8", names[i]));
                    String::from_utf8_lossy(raw).trim().to_owned()
                }
            },
        }
    };
    let rel = field(known.path);
    let id_given = known.id.map(&mut field).unwrap_or_default();
    let cal_text = known.px_per_mm.map(&mut field).unwrap_or_default();
    let roi_text = known.roi.map(&mut field).unwrap_or_default();
    let chart_text = known.chart_box.map(&mut field).unwrap_or_default();
    let mut carried: Vec<String> = carried_idx.iter().map(|&i| field(i)).collect();
    if record.len() != names.len() {
        problems.push(format!(
            "has {}, the header has {}",
            crate::plural(record.len(), "field"),
            names.len()
        ));
    }

    let roi = if roi_text.is_empty() {
        None
    } else {
        let parsed = crate::segment::RoiMode::parse(&roi_text);
        if parsed.is_none() {
            problems.push(format!(
                "column `{COLUMN_ROI}`: `{roi_text}` is not face or full"
            ));
        }
        parsed
    };
    let chart_box = if chart_text.is_empty() {
        None
    } else {
        let parsed = super::ChartBox::parse(&chart_text);
        if parsed.is_none() {
            problems.push(format!(
                "column `{COLUMN_CHART_BOX}`: `{chart_text}` is not x,y,w,h in whole px (w, h > 0)"
            ));
        }
        parsed
    };
    let mut manifest_px_per_mm = None;
    if !cal_text.is_empty() {
        match known.dialect.number(&cal_text) {
            Some(v) if v > 0.0 => manifest_px_per_mm = Some(v),
            _ => problems.push(format!(
                "column `{COLUMN_PX_PER_MM}`: `{cal_text}` is not a positive number"
            )),
        }
    }
    for (value, &i) in carried.iter_mut().zip(carried_idx) {
        if value.is_empty()
            || !NUMERIC_COLUMNS
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&names[i]))
        {
            continue;
        }
        if known.dialect.number(value).is_none() {
            problems.push(format!("column `{}`: `{value}` is not a number", names[i]));
        } else if known.dialect.decimal_comma() {
            // Written with a point, as every number in the outputs.
            *value = value.replace(',', ".");
        }
    }

    let path = if rel.is_empty() {
        problems.push("column `path` is empty".into());
        PathBuf::new()
    } else {
        match resolve_inside(folder, Path::new(&rel)) {
            Some(p) => p,
            None => {
                problems.push(format!("path `{rel}` points outside the manifest's folder"));
                folder.join(&rel)
            }
        }
    };
    let image_id = if id_given.is_empty() {
        id_from_relative(Path::new(&rel))
    } else {
        id_given
    };
    ImageInput {
        image_id,
        display_path: path.display().to_string(),
        path,
        carried,
        manifest_px_per_mm,
        roi,
        chart_box,
        problem: (!problems.is_empty())
            .then(|| format!("manifest line {line}: {}", problems.join("; "))),
    }
}

fn error_row(line: usize, carried_columns: &[String], reason: String) -> ImageInput {
    ImageInput {
        image_id: format!("manifest-line-{line}"),
        path: PathBuf::new(),
        display_path: String::new(),
        carried: vec![String::new(); carried_columns.len()],
        manifest_px_per_mm: None,
        roi: None,
        chart_box: None,
        problem: Some(reason),
    }
}

/// `folder/rel` with `.` and `..` resolved lexically, or `None` when it leaves `folder`.
fn resolve_inside(folder: &Path, rel: &Path) -> Option<PathBuf> {
    if rel.is_absolute() {
        let folder_abs = std::path::absolute(folder).ok()?;
        let normal = normalize(rel)?;
        return normal.starts_with(&folder_abs).then_some(normal);
    }
    let inner = normalize(rel)?;
    Some(folder.join(inner))
}

/// Lexical normalisation; `None` when `..` climbs above the start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    let mut depth = 0usize;
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if depth == 0 {
                    return None;
                }
                out.pop();
                depth -= 1;
            }
            Component::Normal(part) => {
                out.push(part);
                depth += 1;
            }
            Component::RootDir | Component::Prefix(_) => out.push(c.as_os_str()),
        }
    }
    Some(out)
}

/// Make every row whose image_id an earlier row already took an error row (`lines[i]` is the
/// manifest line of `images[i]`).
fn mark_duplicate_ids(images: &mut [ImageInput], lines: &[usize]) {
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    for i in 0..images.len() {
        if images[i].problem.is_some() {
            continue;
        }
        match first_seen.get(&images[i].image_id) {
            Some(&j) => {
                images[i].problem = Some(format!(
                    "manifest line {}: duplicate image_id `{}` (line {} has it too, for {}); \
                     give each row its own image_id",
                    lines[i], images[i].image_id, lines[j], images[j].display_path
                ));
            }
            None => {
                first_seen.insert(images[i].image_id.clone(), i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn bom_crlf_and_carried_columns() {
        let (dir, path) =
            manifest(b"\xEF\xBB\xBFpath,subject,px_per_mm\r\na/x.jpg,S1,20\r\nb.png,S2,\r\n");
        let set = read_manifest(&path, &[]).unwrap();
        assert_eq!(set.carried_columns, vec!["subject"]);
        assert_eq!(set.images.len(), 2);
        assert_eq!(set.images[0].image_id, "a/x");
        assert_eq!(set.images[0].path, dir.path().join("a/x.jpg"));
        assert_eq!(set.images[0].carried, vec!["S1"]);
        assert_eq!(set.images[0].manifest_px_per_mm, Some(20.0));
        assert_eq!(set.images[1].manifest_px_per_mm, None);
        assert!(set.images.iter().all(|i| i.problem.is_none()));
    }

    #[test]
    fn row_problems_name_line_and_column() {
        let (_d, path) =
            manifest(b"path,needle_depth_mm,px_per_mm\nx.jpg,deep,10\n../y.jpg,0.5,zero\n");
        let set = read_manifest(&path, &[]).unwrap();
        let p0 = set.images[0].problem.as_deref().unwrap();
        assert!(
            p0.contains("line 2") && p0.contains("needle_depth_mm"),
            "{p0}"
        );
        let p1 = set.images[1].problem.as_deref().unwrap();
        assert!(
            p1.contains("line 3") && p1.contains("outside") && p1.contains("px_per_mm"),
            "{p1}"
        );
    }

    /// `chart_box` is read as `x,y,w,h` (quoted in a comma-separated manifest, bare in a `;`
    /// one), not carried, and a bad cell is an error row naming the line and column.
    #[test]
    fn chart_box_is_parsed_and_checked() {
        let (_d, path) = manifest(
            b"path,chart_box,subject\na.jpg,\"10, 20,300,200\",S1\nb.jpg,,S2\nc.jpg,\"1,2,3\",S3\nd.jpg,\"1,2,0,5\",S4\n",
        );
        let set = read_manifest(&path, &[]).unwrap();
        assert_eq!(set.carried_columns, vec!["subject"]);
        let want = crate::input::ChartBox {
            x: 10,
            y: 20,
            w: 300,
            h: 200,
        };
        assert_eq!(set.images[0].chart_box, Some(want));
        assert!(set.images[0].problem.is_none());
        assert_eq!(set.images[1].chart_box, None);
        assert!(set.images[1].problem.is_none());
        for (i, line) in [(2, "line 4"), (3, "line 5")] {
            let p = set.images[i].problem.as_deref().unwrap();
            assert!(p.contains(line) && p.contains("`chart_box`"), "{p}");
        }
        let (_d, path) = manifest(b"path;Chart_Box\na.jpg;10,20,300,200\n");
        let set = read_manifest(&path, &[]).unwrap();
        assert_eq!(set.images[0].chart_box, Some(want));
    }

    #[test]
    fn duplicate_ids_become_error_rows() {
        let (_d, path) = manifest(b"path,image_id\na.jpg,A\nb.jpg,A\n");
        let set = read_manifest(&path, &[]).unwrap();
        assert!(set.images[0].problem.is_none());
        assert!(
            set.images[1]
                .problem
                .as_deref()
                .unwrap()
                .contains("duplicate image_id")
        );
    }

    #[test]
    fn delimiter_is_sniffed_from_the_header() {
        let sniff = |text: &[u8]| char::from(Dialect::sniff(text).delimiter);
        assert_eq!(sniff(b"path,subject\na.jpg,1\n"), ',');
        assert_eq!(sniff(b"Path;subject;px_per_mm\na.jpg;1;2,5\n"), ';');
        assert_eq!(sniff(b"subject\tPATH\na\tb.jpg\n"), '\t');
        // A comma inside a `;` header's column name does not win over the `path` column.
        assert_eq!(sniff(b"path;note, free text\n"), ';');
        assert_eq!(sniff(b"path\na.jpg\n"), ',');
        let semicolon = Dialect { delimiter: b';' };
        assert_eq!(semicolon.number(" 20,5 "), Some(20.5));
        assert_eq!(Dialect { delimiter: b',' }.number("20,5"), None);
        assert_eq!(semicolon.number("1.234,5"), None);
    }

    #[test]
    fn missing_path_column_is_a_manifest_error() {
        let (_d, path) = manifest(b"file,subject\na.jpg,1\n");
        assert!(
            read_manifest(&path, &[])
                .unwrap_err()
                .to_string()
                .contains("`path`")
        );
    }

    #[test]
    fn reserved_column_is_refused() {
        let (_d, path) = manifest(b"path,zone\na.jpg,x\n");
        assert!(read_manifest(&path, &["zone"]).is_err());
    }
}
