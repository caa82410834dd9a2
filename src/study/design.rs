//! The study manifest: which photo belongs to which subject, visit, side and arm.
//!
//! One row per photo, in the CSV dialect `skintex analyze` reads
//! ([`crate::input::manifest::Dialect`]: `,`, `;` or tab between columns, then a decimal comma).
//! Columns (names in any case; other columns are ignored here and carried by
//! `skintex analyze`):
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `path` | yes | photo, relative to the manifest's folder |
//! | `subject` | yes | subject identifier |
//! | `visit` | one of the two | visit label, e.g. `baseline`, `week4` |
//! | `days_from_baseline` | one of the two | days since the baseline visit (baseline = 0) |
//! | `side` | no | `left`, `right` or `both` (default `both`): the side of the face the photo's arm applies to |
//! | `arm` | no | `treated`, `control` or any label (default `all`) |
//! | `view` | no | camera view, e.g. `frontal`, `left45` (default empty) |
//! | `replicate` | no | replicate id of repeated photos of the same subject/visit/side/view (a re-take under the same protocol), e.g. `1`, `2`; empty for a photo taken once |
//! | `needle_depth_mm`, `device`, `session_count` | no | treatment description (numbers where numeric) |
//! | `image_id`, `px_per_mm`, `roi` | no | as for `skintex analyze` |
//!
//! The baseline of a subject is the visit labelled `baseline` (any case; `--baseline` chooses
//! another label) or, when no row of the manifest carries that label (visits labelled `V0`,
//! `Day0`, `screening`, ...) or there is no `visit` column, the visit with `days_from_baseline`
//! 0. Without either, the error lists the visit labels found and names `--baseline`. Visits are
//! ordered by `days_from_baseline` when every row has it, otherwise by first appearance.
//!
//! Validation names the line and column of every problem: a missing required column, an empty
//! subject, an unparsable number, an unknown side, two photos for the same
//! subject/visit/side/view (with a `replicate` column: the same replicate id twice, or a
//! replicate without an id beside others; replicates that disagree on arm, days, needle depth,
//! device or session count), a subject without a baseline photo, a follow-up without a baseline
//! photo of its side and view (e.g. one side of a split-face design), a file that does not
//! exist.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::input::manifest::{Dialect, column, header_read, manifest_dialect};

/// A side of the face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Left,
    Right,
    Both,
}

impl Side {
    pub fn label(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
            Side::Both => "both",
        }
    }
}

/// One photo of the study.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyPhoto {
    /// 1-based line of the manifest (header = line 1).
    pub line: usize,
    /// The path as written in the manifest (also the `path` column of `metrics.csv` when
    /// `skintex analyze --manifest` ran on the same manifest).
    pub path: String,
    /// The file it names.
    pub file: PathBuf,
    /// The image_id `skintex analyze --manifest` gives this photo (`image_id` column, or the
    /// path without its extension): the key into `metrics.csv`.
    pub image_id: String,
    pub subject: String,
    /// Visit label (from `visit`, or the days formatted when there is no `visit` column).
    pub visit: String,
    pub days_from_baseline: Option<f64>,
    pub side: Side,
    pub arm: String,
    pub view: String,
    /// Replicate id (`replicate` column; empty when absent): repeated photos of one
    /// subject/visit/side/view, averaged before change and statistics and compared in
    /// `repeatability.csv`.
    pub replicate: String,
    pub needle_depth_mm: Option<f64>,
    pub device: String,
    pub session_count: Option<f64>,
    pub is_baseline: bool,
}

impl StudyPhoto {
    /// Whether this is the baseline photo `follow_up` is compared with: the baseline visit of
    /// the same subject, side and view.
    pub fn is_baseline_of(&self, follow_up: &StudyPhoto) -> bool {
        self.is_baseline
            && self.subject == follow_up.subject
            && self.side == follow_up.side
            && self.view == follow_up.view
    }

    /// Whether `other` is a replicate of this photo (the same subject, visit, side and view;
    /// a photo is its own replicate).
    pub fn same_capture(&self, other: &StudyPhoto) -> bool {
        self.subject == other.subject
            && self.visit == other.visit
            && self.side == other.side
            && self.view == other.view
    }
}

/// A validated study design.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyDesign {
    pub manifest: PathBuf,
    pub photos: Vec<StudyPhoto>,
    /// Visit labels in study order, baseline first.
    pub visits: Vec<String>,
    /// Arms in order of first appearance.
    pub arms: Vec<String>,
    /// Problems that do not stop the study (missing files): `(path, reason)`.
    pub warnings: Vec<(String, String)>,
}

/// The manifest cannot describe a study; every problem found is listed.
#[derive(Debug, thiserror::Error)]
#[error("study manifest {path}:\n  {}", problems.join("\n  "))]
pub struct DesignError {
    pub path: String,
    pub problems: Vec<String>,
}

/// A number cell of `column` on `line`: `None` when empty, or when not a number (a problem).
fn parse_number(
    cell: &str,
    dialect: Dialect,
    (line, name): (usize, &str),
    problems: &mut Vec<String>,
) -> Option<f64> {
    let cell = cell.trim();
    if cell.is_empty() {
        return None;
    }
    let number = dialect.number(cell);
    if number.is_none() {
        problems.push(format!(
            "line {line}, column {name}: `{cell}` is not a number"
        ));
    }
    number
}

/// Read and validate a study manifest. `baseline_label` names the baseline visit.
///
/// # Errors
/// [`DesignError`] listing every problem with its line and column.
pub fn read_design(manifest: &Path, baseline_label: &str) -> Result<StudyDesign, DesignError> {
    let fail = |problems: Vec<String>| DesignError {
        path: manifest.display().to_string(),
        problems,
    };
    let bytes = std::fs::read(manifest).map_err(|e| fail(vec![format!("cannot read: {e}")]))?;
    let (bytes, dialect) = manifest_dialect(&bytes);
    let mut reader = dialect.reader(bytes);
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(|e| fail(vec![format!("cannot read the header: {e}")]))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_owned())
        .collect();
    let col = |name: &str| column(&header, name);
    let mut problems = Vec::new();
    for required in ["path", "subject"] {
        if col(required).is_none() {
            problems.push(format!("line 1: required column `{required}` is missing"));
        }
    }
    let (c_visit, c_days) = (col("visit"), col("days_from_baseline"));
    if c_visit.is_none() && c_days.is_none() {
        problems.push("line 1: needs a `visit` or a `days_from_baseline` column".to_owned());
    }
    if !problems.is_empty() {
        problems.push(format!("line 1: {}", header_read(&header, dialect)));
        return Err(fail(problems));
    }
    let folder = manifest.parent().unwrap_or(Path::new(""));
    let mut photos = Vec::new();
    let mut warnings = Vec::new();
    for (i, record) in reader.byte_records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let mut cell = |c: Option<usize>, name: &str| -> String {
            let Some(c) = c else { return String::new() };
            match std::str::from_utf8(record.get(c).unwrap_or_default()) {
                Ok(s) => s.trim().to_owned(),
                Err(_) => {
                    problems.push(format!("line {line}, column {name}: not valid UTF-8"));
                    String::new()
                }
            }
        };
        let path = cell(col("path"), "path");
        let image_id = cell(col("image_id"), "image_id");
        let subject = cell(col("subject"), "subject");
        let visit_cell = cell(c_visit, "visit");
        let days_cell = cell(c_days, "days_from_baseline");
        let side_cell = cell(col("side"), "side");
        let arm = cell(col("arm"), "arm");
        let view = cell(col("view"), "view");
        let replicate = cell(col("replicate"), "replicate");
        let depth_cell = cell(col("needle_depth_mm"), "needle_depth_mm");
        let device = cell(col("device"), "device");
        let sessions_cell = cell(col("session_count"), "session_count");
        if path.is_empty() {
            problems.push(format!("line {line}, column path: empty"));
            continue;
        }
        if subject.is_empty() {
            problems.push(format!("line {line}, column subject: empty"));
        }
        let days = parse_number(
            &days_cell,
            dialect,
            (line, "days_from_baseline"),
            &mut problems,
        );
        let visit = if c_visit.is_some() {
            if visit_cell.is_empty() {
                problems.push(format!("line {line}, column visit: empty"));
            }
            visit_cell
        } else {
            match days {
                Some(d) => format!("day {d}"),
                None => {
                    problems.push(format!("line {line}, column days_from_baseline: empty"));
                    String::new()
                }
            }
        };
        let side = match side_cell.to_ascii_lowercase().as_str() {
            "" | "both" => Side::Both,
            "left" => Side::Left,
            "right" => Side::Right,
            other => {
                problems.push(format!(
                    "line {line}, column side: `{other}` is not left, right or both"
                ));
                Side::Both
            }
        };
        let needle_depth_mm = parse_number(
            &depth_cell,
            dialect,
            (line, "needle_depth_mm"),
            &mut problems,
        );
        let session_count = parse_number(
            &sessions_cell,
            dialect,
            (line, "session_count"),
            &mut problems,
        );
        // By label for now; by days below when no row carries the label.
        let is_baseline = c_visit.is_some() && visit.eq_ignore_ascii_case(baseline_label);
        let file = folder.join(&path);
        if !file.is_file() {
            warnings.push((
                path.clone(),
                format!(
                    "line {line}, column path: file not found: {}",
                    file.display()
                ),
            ));
        }
        photos.push(StudyPhoto {
            line,
            image_id: if image_id.is_empty() {
                crate::input::discover::id_from_relative(Path::new(&path))
            } else {
                image_id
            },
            path,
            file,
            subject,
            visit,
            days_from_baseline: days,
            side,
            arm: if arm.is_empty() {
                "all".to_owned()
            } else {
                arm
            },
            view,
            replicate,
            needle_depth_mm,
            device,
            session_count,
            is_baseline,
        });
    }

    // Duplicates: one photo per subject/visit/side/view (and replicate id, with that column).
    let with_replicates = col("replicate").is_some();
    let mut seen: BTreeMap<(&str, &str, Side, &str, &str), usize> = BTreeMap::new();
    for p in &photos {
        let key = (
            p.subject.as_str(),
            p.visit.as_str(),
            p.side,
            p.view.as_str(),
            p.replicate.as_str(),
        );
        if let Some(first) = seen.insert(key, p.line) {
            let replicate = if with_replicates {
                format!(" replicate `{}`", p.replicate)
            } else {
                String::new()
            };
            problems.push(format!(
                "line {}: subject {} visit {} side {} view `{}`{replicate} already given on line {first}",
                p.line,
                p.subject,
                p.visit,
                p.side.label(),
                p.view
            ));
        }
    }
    if with_replicates {
        problems.extend(replicate_problems(&photos));
    }
    // No row labelled as the baseline: the baseline is the visit at day 0.
    let by_label = photos.iter().any(|p| p.is_baseline);
    if !by_label {
        for p in &mut photos {
            p.is_baseline = p.days_from_baseline == Some(0.0);
        }
    }
    let baseline_rule = if by_label {
        format!("visit `{baseline_label}`")
    } else if c_days.is_some() {
        format!("no visit is labelled `{baseline_label}`, so days_from_baseline 0")
    } else {
        let mut labels: Vec<&str> = photos.iter().map(|p| p.visit.as_str()).collect();
        labels.sort_unstable();
        labels.dedup();
        format!(
            "no visit is labelled `{baseline_label}` and there is no days_from_baseline column; \
             visits found: {}; name the baseline visit with --baseline LABEL",
            labels.join(", ")
        )
    };
    // Every subject needs a baseline photo.
    let mut subjects: Vec<&str> = photos.iter().map(|p| p.subject.as_str()).collect();
    subjects.sort_unstable();
    subjects.dedup();
    for s in &subjects {
        if !photos.iter().any(|p| p.subject == *s && p.is_baseline) {
            let line = photos
                .iter()
                .find(|p| p.subject == *s)
                .map_or(0, |p| p.line);
            problems.push(format!(
                "line {line}: subject {s} has no baseline photo ({baseline_rule})"
            ));
        }
    }
    // Every follow-up needs a baseline of its own side and view (its change is measured from
    // it); subjects without any baseline are reported above.
    let mut orphans: BTreeMap<(&str, Side, &str), Vec<usize>> = BTreeMap::new();
    for p in photos.iter().filter(|p| !p.is_baseline) {
        let subject_has_one = photos
            .iter()
            .any(|b| b.is_baseline && b.subject == p.subject);
        if subject_has_one && !photos.iter().any(|b| b.is_baseline_of(p)) {
            orphans
                .entry((&p.subject, p.side, &p.view))
                .or_default()
                .push(p.line);
        }
    }
    for ((subject, side, view), lines) in orphans {
        let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
        problems.push(format!(
            "line {}: subject {subject} side {} view `{view}` has no baseline photo \
             ({baseline_rule}), so its follow-ups on lines {} cannot be compared: add that \
             baseline row or remove those rows",
            lines[0],
            side.label(),
            lines.join(", ")
        ));
    }
    if photos.is_empty() {
        problems.push("no photos listed".to_owned());
    }
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    let visits = visit_order(&photos);
    let arms = first_appearances(photos.iter().map(|p| p.arm.as_str()))
        .into_iter()
        .map(str::to_owned)
        .collect();
    Ok(StudyDesign {
        manifest: manifest.to_path_buf(),
        photos,
        visits,
        arms,
        warnings,
    })
}

/// Problems among the replicates of each subject/visit/side/view: a replicate without an id
/// beside others, and replicates that disagree on what describes the capture.
fn replicate_problems(photos: &[StudyPhoto]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, p) in photos.iter().enumerate() {
        let Some(first) = photos[..i].iter().find(|q| q.same_capture(p)) else {
            continue;
        };
        let what = format!(
            "subject {} visit {} side {} view `{}`",
            p.subject,
            p.visit,
            p.side.label(),
            p.view
        );
        if p.replicate.is_empty() || first.replicate.is_empty() {
            let empty = if p.replicate.is_empty() { p } else { first };
            problems.push(format!(
                "line {}, column replicate: empty, but {what} has other photos (lines {} and {}): give each replicate an id",
                empty.line, first.line, p.line
            ));
        }
        let number = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        for (column, a, b) in [
            ("arm", first.arm.clone(), p.arm.clone()),
            (
                "days_from_baseline",
                number(first.days_from_baseline),
                number(p.days_from_baseline),
            ),
            (
                "needle_depth_mm",
                number(first.needle_depth_mm),
                number(p.needle_depth_mm),
            ),
            ("device", first.device.clone(), p.device.clone()),
            (
                "session_count",
                number(first.session_count),
                number(p.session_count),
            ),
        ] {
            if a != b {
                problems.push(format!(
                    "line {}, column {column}: `{b}` differs from `{a}` on line {}, a replicate of the same {what}",
                    p.line, first.line
                ));
            }
        }
    }
    problems
}

/// Order of replicate ids: numerically when both are numbers, else as text.
pub fn replicate_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
        _ => a.cmp(b),
    }
}

impl StudyDesign {
    /// The photos of the same subject, visit, side and view as photo `i` (its replicates, `i`
    /// included), ordered by replicate id ([`replicate_order`]), then manifest order.
    pub fn replicates_of(&self, i: usize) -> Vec<usize> {
        let p = &self.photos[i];
        let mut out: Vec<usize> = (0..self.photos.len())
            .filter(|&j| self.photos[j].same_capture(p))
            .collect();
        out.sort_by(|&a, &b| {
            replicate_order(&self.photos[a].replicate, &self.photos[b].replicate).then(a.cmp(&b))
        });
        out
    }

    /// Whether photo `i` is the first (in manifest order) of its replicates: the one that
    /// stands for them in `changes.csv`.
    pub fn is_first_replicate(&self, i: usize) -> bool {
        let p = &self.photos[i];
        !self.photos[..i].iter().any(|q| q.same_capture(p))
    }

    /// Whether some subject/visit/side/view has two or more photos.
    pub fn has_replicates(&self) -> bool {
        (0..self.photos.len()).any(|i| !self.is_first_replicate(i))
    }

    /// Subjects in order of first appearance in the manifest.
    pub fn subjects(&self) -> Vec<&str> {
        first_appearances(self.photos.iter().map(|p| p.subject.as_str()))
    }

    /// The visit labels of the baseline photos, in order of first appearance (one label unless
    /// the baseline was found by days_from_baseline 0 under several labels).
    pub fn baseline_visits(&self) -> Vec<&str> {
        first_appearances(
            self.photos
                .iter()
                .filter(|p| p.is_baseline)
                .map(|p| p.visit.as_str()),
        )
    }
}

/// The distinct items, in order of first appearance.
fn first_appearances<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Visit labels, baseline first, then by days (when every photo has them) or first appearance.
fn visit_order(photos: &[StudyPhoto]) -> Vec<String> {
    let all_days = photos.iter().all(|p| p.days_from_baseline.is_some());
    let mut visits: Vec<(bool, f64, usize, String)> = Vec::new();
    for (i, p) in photos.iter().enumerate() {
        if visits.iter().any(|v| v.3 == p.visit) {
            continue;
        }
        let days = if all_days {
            p.days_from_baseline.unwrap_or(0.0)
        } else {
            0.0
        };
        visits.push((!p.is_baseline, days, i, p.visit.clone()));
    }
    visits.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
    visits.into_iter().map(|v| v.3).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(text: &str) -> Result<StudyDesign, DesignError> {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.png", "b.png", "c.png", "d.png"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        let m = dir.path().join("study.csv");
        std::fs::write(&m, text).unwrap();
        read_design(&m, "baseline")
    }

    #[test]
    fn valid_split_face_design() {
        let d = design(
            "\u{feff}path,subject,visit,days_from_baseline,side,arm,needle_depth_mm\r\n\
             c.png,S1,week4,28,left,treated,0.5\r\n\
             a.png,S1,baseline,0,left,treated,0.5\r\n\
             b.png,S1,baseline,0,right,control,\r\n\
             d.png,S1,week4,28,right,control,\r\n",
        )
        .unwrap();
        assert_eq!(d.visits, ["baseline", "week4"]);
        assert_eq!(d.arms, ["treated", "control"]);
        assert_eq!(d.photos[0].side, Side::Left);
        assert_eq!(d.photos[0].needle_depth_mm, Some(0.5));
        assert!(d.photos[1].is_baseline && !d.photos[0].is_baseline);
        assert!(d.warnings.is_empty());
    }

    /// Issue 15: visits labelled V0/V1 with days 0/30 have their baseline at day 0.
    #[test]
    fn baseline_is_the_day_0_visit_when_no_visit_has_the_label() {
        let d = design(
            "path,subject,visit,days_from_baseline,side\n\
             a.png,S1,V0,0,left\n\
             b.png,S1,V1,30,left\n",
        )
        .unwrap();
        assert!(d.photos[0].is_baseline && !d.photos[1].is_baseline);
        assert_eq!(d.visits, ["V0", "V1"]);
        assert_eq!(d.baseline_visits(), ["V0"]);
        // The label wins when a row carries it, even with days.
        let d = design(
            "path,subject,visit,days_from_baseline,side\n\
             a.png,S1,screening,0,left\n\
             b.png,S1,baseline,3,left\n\
             c.png,S1,week4,31,left\n",
        )
        .unwrap();
        assert!(d.photos[1].is_baseline && !d.photos[0].is_baseline);
        // Neither: the error lists the visits found and names --baseline.
        let text = design(
            "path,subject,visit,side\n\
             a.png,S1,V0,left\n\
             b.png,S1,V1,left\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            text.contains("visits found: V0, V1") && text.contains("--baseline LABEL"),
            "{text}"
        );
    }

    #[test]
    fn every_problem_is_named_with_line_and_column() {
        let err = design(
            "path,subject,visit,days_from_baseline,side,needle_depth_mm\n\
             a.png,S1,baseline,0,left,0.5\n\
             b.png,S1,baseline,0,left,0.5\n\
             c.png,S2,week4,2x,middle,deep\n",
        )
        .unwrap_err();
        let text = err.to_string();
        for expected in [
            "line 3: subject S1 visit baseline side left view `` already given on line 2",
            "line 4, column days_from_baseline: `2x` is not a number",
            "line 4, column side: `middle` is not left, right or both",
            "line 4, column needle_depth_mm: `deep` is not a number",
            "line 4: subject S2 has no baseline photo",
        ] {
            assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
        }
    }

    /// Issue 15: repeated photos of one subject/visit/side/view are replicates when the
    /// manifest has a `replicate` column; a single visit with replicates is a valid design.
    #[test]
    fn replicates_are_allowed_with_distinct_ids() {
        let d = design(
            "path,subject,visit,side,replicate\n\
             a.png,S1,baseline,left,2\n\
             b.png,S1,baseline,left,1\n\
             c.png,S1,baseline,left,10\n\
             d.png,S2,baseline,left,\n",
        )
        .unwrap();
        assert_eq!(d.visits, ["baseline"]);
        assert!(d.has_replicates());
        // Ordered by id, numerically: 1, 2, 10.
        assert_eq!(d.replicates_of(0), [1, 0, 2]);
        assert!(d.is_first_replicate(0) && !d.is_first_replicate(1));
        assert_eq!(d.replicates_of(3), [3]);
        let err = design(
            "path,subject,visit,side,arm,replicate\n\
             a.png,S1,baseline,left,treated,1\n\
             b.png,S1,baseline,left,treated,1\n\
             c.png,S1,baseline,left,control,\n",
        )
        .unwrap_err();
        let text = err.to_string();
        for expected in [
            "line 3: subject S1 visit baseline side left view `` replicate `1` already given on line 2",
            "line 4, column replicate: empty, but subject S1 visit baseline side left view `` has other photos",
            "line 4, column arm: `control` differs from `treated` on line 2",
        ] {
            assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
        }
        // Without the column a repeat is still a duplicate.
        let d = design("path,subject,visit\na.png,S1,baseline\nb.png,S1,week4\n").unwrap();
        assert!(!d.has_replicates());
    }

    #[test]
    fn spreadsheet_dialect_semicolons_decimal_commas_and_any_case() {
        let d = design(
            "\u{feff}Path;Subject;Visit;Side;Needle_Depth_mm\r\n\
             a.png;S1;baseline;left;0,5\r\n\
             b.png;S1;week4;left;0,5\r\n",
        )
        .unwrap();
        assert_eq!(d.visits, ["baseline", "week4"]);
        assert_eq!(d.photos[1].side, Side::Left);
        assert_eq!(d.photos[1].needle_depth_mm, Some(0.5));
        let err = design("path|subject|visit\na.png|S1|baseline\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("line 1: read 1 column: `path|subject|visit`; separate the columns"),
            "{err}"
        );
    }

    #[test]
    fn split_face_side_without_its_baseline_is_a_problem() {
        let err = design(
            "path,subject,visit,side,arm\n\
             b.png,S1,baseline,right,control\n\
             c.png,S1,week4,left,treated\n\
             d.png,S1,week4,right,control\n\
             a.png,S1,week8,left,treated\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(
                "line 3: subject S1 side left view `` has no baseline photo (visit `baseline`), \
                 so its follow-ups on lines 3, 5 cannot be compared"
            ),
            "{text}"
        );
        assert_eq!(err.problems.len(), 1, "{text}");
    }

    #[test]
    fn missing_columns_and_files() {
        let err = design("path,visit\na.png,baseline\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("required column `subject` is missing")
        );
        let err = design("path,subject\na.png,S1\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("needs a `visit` or a `days_from_baseline`")
        );
        let d = design("path,subject,days_from_baseline\nmissing.png,S1,0\na.png,S1,30\n").unwrap();
        assert_eq!(d.visits, ["day 0", "day 30"]);
        assert_eq!(d.warnings.len(), 1);
        assert!(
            d.warnings[0]
                .1
                .contains("line 2, column path: file not found")
        );
    }
}
