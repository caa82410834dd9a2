//! Repeatability of replicate photos (`repeatability.csv`).
//!
//! When the study manifest has a `replicate` column and some subject/visit/side/view has two or
//! more photos, `skintex study` measures how well the metrics repeat on re-taken photos of the
//! same skin. One row per visit × zone × metric, for the visits that have replicates (a
//! manifest with a single visit is valid for this):
//!
//! ```text
//! target  = one subject × side × view at the visit with >= 2 replicate photos
//!           (the skin site re-photographed; a split-face subject has two)
//! values  = the metric in that zone on each replicate; missing (a photo without results, a
//!           zone not measured, an empty cell) are left out and counted in missing_reason
//! within_sd, cv_pct  from every target with >= 2 values  ([`within_subject`])
//! icc, CI, sem, mdc95 from the complete targets          ([`icc_consistency`])
//! ```
//!
//! Visits are kept apart: a treatment changes the skin between visits, and the repeatability
//! of one session is what the literature reports; the report shows each visit's rows.
//!
//! **Unbalanced replicates.** ICC(3,1) treats the j-th replicate as one occasion and needs the
//! same k occasions for every target. k is the number of replicates most targets of the visit
//! have in the manifest (the larger on a tie); the complete targets are those with a value at
//! each of their first k replicates (ordered by replicate id). A target with fewer replicates, or
//! a missing value among its first k, is left out of the ICC (listwise, as pingouin's
//! `nan_policy='omit'`), one with more contributes its first k; both are counted in
//! `missing_reason`. The within-subject SD and CV use every value.

use std::collections::BTreeMap;

use super::changes::MetricsTable;
use super::design::{Side, StudyDesign};
use super::stats::{icc_consistency, within_subject};
use crate::metrics::{ColumnSpec, spec};
use crate::output::format_number;
use crate::output::tables::{Column, csv_bytes};

/// Columns of `repeatability.csv`.
pub const REPEATABILITY_COLUMNS: &[ColumnSpec] = &[
    spec("visit", "", "Visit whose replicate photos are compared."),
    spec("zone", "", "Zone measured."),
    spec("metric", "", "metrics.csv column (see its unit there)."),
    spec(
        "n_subjects",
        "1",
        "Subjects with at least 2 replicate values.",
    ),
    spec(
        "n_targets",
        "1",
        "Targets (subject x side x view) with at least 2 replicate values.",
    ),
    spec("n_photos", "1", "Replicate values of those targets."),
    spec("mean", "metric", "Mean of those values."),
    spec(
        "within_sd",
        "metric",
        "Pooled within-target SD: sqrt(sum of squared deviations from each target's mean / sum of (replicates - 1)).",
    ),
    spec(
        "cv_pct",
        "%",
        "Within-target CV, root mean square of the targets' SD / |mean| (Bland & Altman 1996); empty when a target's mean is 0.",
    ),
    spec(
        "icc_replicates",
        "1",
        "k: replicates per target in the ICC (the count most targets have).",
    ),
    spec(
        "icc_targets",
        "1",
        "Targets with a value at each of their first k replicates (the ICC's subjects).",
    ),
    spec(
        "icc",
        "1",
        "ICC(3,1): two-way mixed effects, consistency, single measurement (Shrout & Fleiss 1979; McGraw & Wong 1996 ICC(C,1)).",
    ),
    spec(
        "icc_ci_low",
        "1",
        "Lower end of the ICC's 95% CI (F distribution, as pingouin's intraclass_corr).",
    ),
    spec("icc_ci_high", "1", "Upper end of that CI."),
    spec(
        "sem",
        "metric",
        "Standard error of measurement, sqrt(MS_error) of the ICC's two-way ANOVA (Weir 2005).",
    ),
    spec(
        "mdc95",
        "metric",
        "Minimal detectable change, 1.96 * sqrt(2) * sem: a subject's change smaller than this is within measurement error.",
    ),
    spec(
        "missing_reason",
        "",
        "Missing replicate values and targets left out of the ICC, and why a statistic is empty.",
    ),
];

/// One row of `repeatability.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatabilityRow {
    pub visit: String,
    pub zone: String,
    pub metric: String,
    pub n_subjects: usize,
    pub n_targets: usize,
    pub n_photos: usize,
    pub mean: Option<f64>,
    pub within_sd: Option<f64>,
    pub cv_pct: Option<f64>,
    pub icc_replicates: usize,
    pub icc_targets: usize,
    pub icc: Option<f64>,
    pub icc_ci: Option<(f64, f64)>,
    pub sem: Option<f64>,
    pub mdc95: Option<f64>,
    pub missing: Vec<String>,
}

/// A target: a subject × side × view at one visit, with its replicate photos in replicate order.
struct Target<'a> {
    subject: &'a str,
    side: Side,
    photos: Vec<usize>,
}

/// The replicate sets (2 or more photos) of each visit, visits in study order.
fn targets_by_visit(design: &StudyDesign) -> Vec<(&str, Vec<Target<'_>>)> {
    let mut out: Vec<(&str, Vec<Target>)> = Vec::new();
    for visit in &design.visits {
        let targets: Vec<Target> = (0..design.photos.len())
            .filter(|&i| design.photos[i].visit == *visit && design.is_first_replicate(i))
            .map(|i| Target {
                subject: &design.photos[i].subject,
                side: design.photos[i].side,
                photos: design.replicates_of(i),
            })
            .filter(|t| t.photos.len() >= 2)
            .collect();
        if !targets.is_empty() {
            out.push((visit, targets));
        }
    }
    out
}

/// The k of the ICC: the replicate count most targets have, the larger on a tie.
fn common_replicate_count(targets: &[Target]) -> usize {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for t in targets {
        *counts.entry(t.photos.len()).or_default() += 1;
    }
    counts
        .iter()
        .max_by_key(|(k, n)| (**n, **k))
        .map_or(0, |(k, _)| *k)
}

/// Every `repeatability.csv` row; empty when no subject/visit/side/view has 2 photos.
pub fn compute_repeatability(design: &StudyDesign, table: &MetricsTable) -> Vec<RepeatabilityRow> {
    let mut rows = Vec::new();
    for (visit, targets) in targets_by_visit(design) {
        let k = common_replicate_count(&targets);
        // Zones in order of first appearance on the visit's replicates, on their side.
        let mut zones: Vec<&str> = Vec::new();
        for t in &targets {
            for &p in &t.photos {
                for r in table.zones_of(&design.photos[p].image_id) {
                    if super::changes::zone_on_side(&r.zone, t.side)
                        && !zones.contains(&r.zone.as_str())
                    {
                        zones.push(&r.zone);
                    }
                }
            }
        }
        for zone in zones {
            for (m, metric) in table.metrics.iter().enumerate() {
                let values: Vec<Vec<Option<f64>>> = targets
                    .iter()
                    .map(|t| {
                        t.photos
                            .iter()
                            .map(|&p| table.value(&design.photos[p].image_id, zone, m))
                            .collect()
                    })
                    .collect();
                rows.push(row(visit, zone, metric, &targets, &values, k));
            }
        }
    }
    rows
}

/// The statistics of one visit × zone × metric.
fn row(
    visit: &str,
    zone: &str,
    metric: &str,
    targets: &[Target],
    values: &[Vec<Option<f64>>],
    k: usize,
) -> RepeatabilityRow {
    let mut missing = Vec::new();
    let absent: usize = values.iter().flatten().filter(|v| v.is_none()).count();
    if absent > 0 {
        missing.push(format!(
            "{} of {} replicate values missing (photo without results, zone not measured or metric empty)",
            absent,
            values.iter().map(Vec::len).sum::<usize>()
        ));
    }
    let present: Vec<Vec<f64>> = values
        .iter()
        .map(|v| v.iter().flatten().copied().collect())
        .collect();
    let used: Vec<usize> = (0..targets.len())
        .filter(|&i| present[i].len() >= 2)
        .collect();
    let mut subjects: Vec<&str> = used.iter().map(|&i| targets[i].subject).collect();
    subjects.sort_unstable();
    subjects.dedup();
    let within = within_subject(&present);
    if let Err(m) = &within {
        missing.push(format!("within_sd: {}", m.0));
    }
    let within = within.ok();
    if within.is_some_and(|w| w.cv_pct.is_none()) {
        missing.push("cv_pct: a target's mean is 0".to_owned());
    }
    // The ICC's complete targets: a value at each of the first k replicates.
    let complete: Vec<Vec<f64>> = values
        .iter()
        .filter(|v| v.len() >= k && v[..k].iter().all(Option::is_some))
        .map(|v| v[..k].iter().flatten().copied().collect())
        .collect();
    let fewer = values.iter().filter(|v| v.len() < k).count();
    let incomplete = values
        .iter()
        .filter(|v| v.len() >= k && !v[..k].iter().all(Option::is_some))
        .count();
    let more = values.iter().filter(|v| v.len() > k).count();
    if fewer > 0 {
        missing.push(format!(
            "icc: {fewer} target(s) with fewer than {k} replicates left out"
        ));
    }
    if incomplete > 0 {
        missing.push(format!(
            "icc: {incomplete} target(s) with a missing value among the first {k} replicates left out"
        ));
    }
    if more > 0 {
        missing.push(format!(
            "icc: {more} target(s) with more than {k} replicates contribute their first {k}"
        ));
    }
    let icc = icc_consistency(&complete);
    if let Err(m) = &icc {
        missing.push(format!("icc: {}", m.0));
    }
    let icc = icc.ok();
    if icc.is_some_and(|i| i.ci.is_none()) {
        missing.push("icc_ci: no within-target variation (MS_error = 0)".to_owned());
    }
    RepeatabilityRow {
        visit: visit.to_owned(),
        zone: zone.to_owned(),
        metric: metric.to_owned(),
        n_subjects: subjects.len(),
        n_targets: used.len(),
        n_photos: used.iter().map(|&i| present[i].len()).sum(),
        mean: within.map(|w| w.mean),
        within_sd: within.map(|w| w.sd),
        cv_pct: within.and_then(|w| w.cv_pct),
        icc_replicates: k,
        icc_targets: complete.len(),
        icc: icc.map(|i| i.icc),
        icc_ci: icc.and_then(|i| i.ci),
        sem: icc.map(|i| i.sem),
        mdc95: icc.map(|i| i.mdc95),
        missing,
    }
}

/// `repeatability.csv` bytes.
pub fn repeatability_csv(rows: &[RepeatabilityRow]) -> Vec<u8> {
    let opt = |v: Option<f64>| v.map(format_number).unwrap_or_default();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.visit.clone(),
                r.zone.clone(),
                r.metric.clone(),
                r.n_subjects.to_string(),
                r.n_targets.to_string(),
                r.n_photos.to_string(),
                opt(r.mean),
                opt(r.within_sd),
                opt(r.cv_pct),
                r.icc_replicates.to_string(),
                r.icc_targets.to_string(),
                opt(r.icc),
                opt(r.icc_ci.map(|c| c.0)),
                opt(r.icc_ci.map(|c| c.1)),
                opt(r.sem),
                opt(r.mdc95),
                r.missing.join("; "),
            ]
        })
        .collect();
    let columns: Vec<Column> = REPEATABILITY_COLUMNS.iter().map(Column::from).collect();
    csv_bytes(&columns, cells.iter().map(Vec::as_slice))
}
