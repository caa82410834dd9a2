//! Change from baseline (`changes.csv`) and its statistics per arm (`stats.csv`).
//!
//! ```text
//! change     = value(follow-up) − value(baseline)            same subject, side, view, zone
//! pct_change = 100 · change / |value(baseline)|              empty when the baseline is 0
//! ```
//!
//! Replicates (repeated photos of one subject/visit/side/view, the manifest's `replicate`
//! column) are averaged first, per zone × metric over the replicates that have a value, so a
//! re-taken photo counts once; their agreement is `repeatability.csv`'s
//! ([`super::repeatability`]).
//!
//! The unit of analysis is the subject: a subject's changes within one arm, zone, metric and visit
//! (e.g. two photos of the same treated side from two views) are averaged before the statistics,
//! so no subject counts twice. For each arm × needle depth × zone × metric × follow-up visit,
//! `stats.csv` gives n, mean change, SD, a percentile bootstrap 95% CI (fixed seed), the paired
//! t test and the Wilcoxon signed-rank test of the change against 0, and Hedges' g (d_z). For a
//! split-face design (`--contrast treated-control`, the default when both arms exist) it adds
//! rows for the per-subject difference `change(treated) − change(control)` with the same
//! statistics, pairing zones across sides by name without their `_left`/`_right` suffix. p
//! values are Holm-adjusted across the metrics of one family (`rough_`, `lines_`, `scars_`,
//! `pores_`, `tone_`) within the same comparison × arm × depth × zone × visit (`holm_family!`,
//! the wording the data dictionary and the report share).

use std::collections::BTreeMap;
use std::path::Path;

use super::design::{Side, StudyDesign, StudyPhoto};
use super::stats::{bootstrap_ci_mean, hedges_g, holm, paired_t, summary, wilcoxon_signed_rank};
use crate::metrics::{ColumnSpec, spec};
use crate::output::format_number;
use crate::output::tables::{Column, csv_bytes};

/// Seed of every bootstrap in `stats.csv` (results do not depend on thread count or order).
pub const BOOTSTRAP_SEED: u64 = 0x5EED_5717;
/// Bootstrap resamples per interval.
pub const BOOTSTRAP_RESAMPLES: usize = 10_000;

/// The metric values of one image × zone, read back from `metrics.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricRow {
    pub image_id: String,
    pub zone: String,
    pub px_per_mm: Option<f64>,
    pub values: Vec<Option<f64>>,
}

/// `metrics.csv` as the study needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsTable {
    /// Metric column names, in file order.
    pub metrics: Vec<String>,
    pub rows: Vec<MetricRow>,
}

impl MetricsTable {
    /// Read the metric columns of a `metrics.csv` written by `skintex analyze`.
    ///
    /// # Errors
    /// A message naming the file and the line.
    pub fn read(path: &Path) -> Result<Self, String> {
        let known: Vec<&str> = crate::metrics::metric_columns()
            .iter()
            .map(|c| c.name)
            .collect();
        let mut reader =
            csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .iter()
            .map(str::to_owned)
            .collect();
        let find = |name: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| {
                format!(
                    "{}: no `{name}` column (not a skintex metrics.csv?)",
                    path.display()
                )
            })
        };
        let (c_id, c_zone, c_ppm) = (find("image_id")?, find("zone")?, find("px_per_mm")?);
        let metric_cols: Vec<(usize, String)> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| known.contains(&h.as_str()))
            .map(|(i, h)| (i, h.clone()))
            .collect();
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| format!("{} line {}: {e}", path.display(), i + 2))?;
            let num = |c: usize| -> Result<Option<f64>, String> {
                let cell = record.get(c).unwrap_or("");
                if cell.is_empty() {
                    return Ok(None);
                }
                cell.parse::<f64>().map(Some).map_err(|_| {
                    format!(
                        "{} line {}, column {}: `{cell}` is not a number",
                        path.display(),
                        i + 2,
                        header[c]
                    )
                })
            };
            rows.push(MetricRow {
                image_id: record.get(c_id).unwrap_or("").to_owned(),
                zone: record.get(c_zone).unwrap_or("").to_owned(),
                px_per_mm: num(c_ppm)?,
                values: metric_cols
                    .iter()
                    .map(|(c, _)| num(*c))
                    .collect::<Result<_, _>>()?,
            });
        }
        Ok(Self {
            metrics: metric_cols.into_iter().map(|(_, n)| n).collect(),
            rows,
        })
    }

    /// The rows (one per zone) of one image.
    pub(crate) fn zones_of<'a>(&'a self, image_id: &'a str) -> impl Iterator<Item = &'a MetricRow> {
        self.rows.iter().filter(move |r| r.image_id == image_id)
    }

    /// Metric `m` of one image's zone, `None` when missing or not measured.
    pub(crate) fn value(&self, image_id: &str, zone: &str, m: usize) -> Option<f64> {
        self.zones_of(image_id)
            .find(|r| r.zone == zone)
            .and_then(|r| r.values[m])
    }
}

/// One follow-up value against its baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Index of the follow-up photo in the design.
    pub photo: usize,
    /// Index of its baseline photo.
    pub baseline: usize,
    pub zone: String,
    /// Index into [`MetricsTable::metrics`].
    pub metric: usize,
    pub baseline_value: Option<f64>,
    pub value: Option<f64>,
}

impl Change {
    pub fn change(&self) -> Option<f64> {
        Some(self.value? - self.baseline_value?)
    }

    pub fn pct_change(&self) -> Option<f64> {
        let (b, v) = (self.baseline_value?, self.value?);
        (b != 0.0).then(|| 100.0 * (v - b) / b.abs())
    }

    fn missing_reason(&self) -> &'static str {
        match (self.baseline_value, self.value) {
            (None, None) => "missing at baseline and follow-up",
            (None, Some(_)) => "missing at baseline",
            (Some(_), None) => "missing at follow-up",
            (Some(0.0), Some(_)) => "pct_change: baseline is 0",
            _ => "",
        }
    }
}

/// Whether a zone belongs to the side a photo's arm applies to: a photo of the left side
/// contributes the subject's left and midline zones, never `*_right` ones.
pub(crate) fn zone_on_side(zone: &str, side: Side) -> bool {
    match side {
        Side::Both => true,
        Side::Left => !zone.ends_with("_right"),
        Side::Right => !zone.ends_with("_left"),
    }
}

/// The baseline photo of a follow-up: same subject, side and view.
pub fn baseline_of(design: &StudyDesign, photo: &StudyPhoto) -> Option<usize> {
    design.photos.iter().position(|b| b.is_baseline_of(photo))
}

/// The mean of the values present (replicates of one photo), `None` when there is none; one
/// value is returned as it is.
pub(crate) fn replicate_mean(values: &[Option<f64>]) -> Option<f64> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    match present.as_slice() {
        [] => None,
        [one] => Some(*one),
        many => Some(mean(many)),
    }
}

/// Every follow-up value paired with its baseline, in manifest order, then zone, then metric.
/// Replicates (photos of the same subject, visit, side and view) are averaged first, on both
/// sides: one change per follow-up and zone × metric, from the mean of the replicates that have
/// a value; it stands under the first replicate in manifest order.
pub fn compute_changes(design: &StudyDesign, table: &MetricsTable) -> Vec<Change> {
    let mut out = Vec::new();
    for (i, photo) in design.photos.iter().enumerate() {
        if photo.is_baseline || !design.is_first_replicate(i) {
            continue;
        }
        let Some(b) = baseline_of(design, photo) else {
            continue;
        };
        let follow_ups = design.replicates_of(i);
        let baselines = design.replicates_of(b);
        let mut zones: Vec<&str> = Vec::new();
        for &f in &follow_ups {
            for row in table.zones_of(&design.photos[f].image_id) {
                if zone_on_side(&row.zone, photo.side) && !zones.contains(&row.zone.as_str()) {
                    zones.push(&row.zone);
                }
            }
        }
        for zone in zones {
            let values_of = |photos: &[usize], m: usize| -> Vec<Option<f64>> {
                photos
                    .iter()
                    .map(|&p| table.value(&design.photos[p].image_id, zone, m))
                    .collect()
            };
            for m in 0..table.metrics.len() {
                out.push(Change {
                    photo: i,
                    baseline: b,
                    zone: zone.to_owned(),
                    metric: m,
                    baseline_value: replicate_mean(&values_of(&baselines, m)),
                    value: replicate_mean(&values_of(&follow_ups, m)),
                });
            }
        }
    }
    out
}

/// Columns of `changes.csv`.
pub const CHANGE_COLUMNS: &[ColumnSpec] = &[
    spec("subject", "", "Subject, from the study manifest."),
    spec(
        "arm",
        "",
        "Arm of the follow-up photo (treated, control or the study's label).",
    ),
    spec(
        "side",
        "",
        "Side of the face the arm applies to: left, right or both.",
    ),
    spec("view", "", "Camera view, from the manifest (may be empty)."),
    spec(
        "needle_depth_mm",
        "mm",
        "Microneedling depth of the follow-up photo's arm.",
    ),
    spec("device", "", "Treatment device, from the manifest."),
    spec(
        "session_count",
        "1",
        "Treatment sessions before the follow-up photo.",
    ),
    spec("visit", "", "Follow-up visit label."),
    spec(
        "days_from_baseline",
        "d",
        "Days from baseline of the follow-up visit.",
    ),
    spec(
        "image_id",
        "",
        "The follow-up photo's image_id (replicates: each replicate's, `;`-separated).",
    ),
    spec(
        "baseline_image_id",
        "",
        "The baseline photo's image_id (same subject, side, view; replicates: each one's, `;`-separated).",
    ),
    spec("zone", "", "Zone measured in both photos."),
    spec("metric", "", "metrics.csv column (see its unit there)."),
    spec(
        "baseline_value",
        "metric",
        "Value at baseline (replicates: the mean of those with a value).",
    ),
    spec(
        "value",
        "metric",
        "Value at the follow-up visit (replicates: the mean of those with a value).",
    ),
    spec("change", "metric", "value - baseline_value."),
    spec(
        "pct_change",
        "%",
        "100 * change / |baseline_value|; empty when the baseline is 0.",
    ),
    spec(
        "alignment_residual_mm",
        "mm",
        "RMS distance between the follow-up's face landmarks, mapped by the best similarity transform, and the baseline's (replicates: the largest); empty for close-ups (no landmarks).",
    ),
    spec(
        "alignment_flag",
        "",
        "`poor` when alignment_residual_mm exceeds --max-alignment-mm: pose or expression changed, compare with care.",
    ),
    super::COMPARABLE,
    super::COMPARABILITY_REASONS,
    spec("missing_reason", "", "Why change or pct_change is empty."),
];

/// Per-photo alignment to its baseline, `None` when not measurable (with the reason).
pub type AlignmentCell = Result<(f64, bool), String>;

/// `changes.csv` bytes.
pub fn changes_csv(
    design: &StudyDesign,
    table: &MetricsTable,
    changes: &[Change],
    alignment: &[Option<AlignmentCell>],
    comparisons: &[Option<super::comparability::Comparison>],
) -> Vec<u8> {
    let opt = |v: Option<f64>| v.map(format_number).unwrap_or_default();
    let rows: Vec<Vec<String>> = changes
        .iter()
        .map(|c| {
            let p = &design.photos[c.photo];
            let (resid, flag) = match alignment.get(c.photo).cloned().flatten() {
                Some(Ok((r, poor))) => {
                    (format_number(r), if poor { "poor" } else { "" }.to_owned())
                }
                _ => (String::new(), String::new()),
            };
            [
                p.subject.clone(),
                p.arm.clone(),
                p.side.label().to_owned(),
                p.view.clone(),
                opt(p.needle_depth_mm),
                p.device.clone(),
                opt(p.session_count),
                p.visit.clone(),
                opt(p.days_from_baseline),
                replicate_ids(design, c.photo),
                replicate_ids(design, c.baseline),
                c.zone.clone(),
                table.metrics[c.metric].clone(),
                opt(c.baseline_value),
                opt(c.value),
                opt(c.change()),
                opt(c.pct_change()),
                resid,
                flag,
            ]
            .into_iter()
            .chain(super::comparison_cells(
                comparisons.get(c.photo).and_then(Option::as_ref),
                false,
            ))
            .chain([c.missing_reason().to_owned()])
            .collect()
        })
        .collect();
    let columns: Vec<Column> = CHANGE_COLUMNS.iter().map(Column::from).collect();
    csv_bytes(&columns, rows.iter().map(Vec::as_slice))
}

/// The image_ids of photo `i`'s replicates, `;`-separated (its own id when it has none).
fn replicate_ids(design: &StudyDesign, i: usize) -> String {
    design
        .replicates_of(i)
        .iter()
        .map(|&r| design.photos[r].image_id.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// Which p values one Holm adjustment covers, as the data dictionary and the report say it
/// (a macro so that it can be `concat!`ed into the column descriptions).
macro_rules! holm_family {
    () => {
        "across the metrics of one family (rough, lines, scars, pores, tone; every metric of the family in stats.csv) within the same comparison, arm, needle depth, zone and visit"
    };
}
pub(crate) use holm_family;

/// Columns of `stats.csv`.
pub const STATS_COLUMNS: &[ColumnSpec] = &[
    spec(
        "comparison",
        "",
        "`change` (follow-up minus baseline within an arm) or `difference` (per-subject change of the first arm of the contrast minus the second).",
    ),
    spec("arm", "", "Arm, or the contrast `A-B` for difference rows."),
    spec(
        "needle_depth_mm",
        "mm",
        "Needle depth of the arm (of A for a contrast); empty when not given.",
    ),
    spec(
        "zone",
        "",
        "Zone (difference rows: lateral zones without their _left/_right suffix).",
    ),
    spec("metric", "", "metrics.csv column."),
    spec(
        "family",
        "",
        "Metric family (rough, lines, scars, pores, tone): the Holm adjustment runs within it (see p_t_holm).",
    ),
    spec("visit", "", "Follow-up visit."),
    spec(
        "n",
        "1",
        "Subjects with a change (averaged over a subject's photos in this arm).",
    ),
    spec(
        "mean_baseline",
        "metric",
        "Mean baseline value of those subjects (change rows).",
    ),
    spec(
        "mean_change",
        "metric",
        "Mean of the per-subject changes (or differences).",
    ),
    spec(
        "sd_change",
        "metric",
        "SD (n - 1) of the per-subject changes.",
    ),
    spec(
        "ci_low",
        "metric",
        "Lower end of the 95% percentile bootstrap CI of mean_change (10000 resamples, fixed seed).",
    ),
    spec("ci_high", "metric", "Upper end of that CI."),
    spec(
        "mean_pct_change",
        "%",
        "Mean of the per-subject % changes (change rows; subjects with a zero baseline left out).",
    ),
    spec("t", "1", "Paired t statistic of the changes against 0."),
    spec("p_t", "1", "Two-sided p of the paired t test (df = n - 1)."),
    spec(
        "wilcoxon_w",
        "1",
        "Wilcoxon signed-rank statistic min(W+, W-) (zero changes dropped).",
    ),
    spec(
        "wilcoxon_method",
        "",
        "exact, permutation or asymptotic, chosen as scipy.stats.wilcoxon's default does.",
    ),
    spec(
        "p_wilcoxon",
        "1",
        "Two-sided p of the Wilcoxon signed-rank test.",
    ),
    spec(
        "hedges_g",
        "1",
        "Hedges' g of the changes (d_z = mean / SD, small-sample corrected).",
    ),
    spec(
        "p_t_holm",
        "1",
        concat!(
            "p_t, Holm-adjusted ",
            holm_family!(),
            ". The report's primary test by default (`--test t`): its rows with p_t_holm < 0.05 are highlighted."
        ),
    ),
    spec(
        "p_wilcoxon_holm",
        "1",
        concat!(
            "p_wilcoxon, Holm-adjusted ",
            holm_family!(),
            ". The report's primary test with `--test wilcoxon`; otherwise its sensitivity analysis."
        ),
    ),
    spec(
        "missing_reasons",
        "",
        "Why statistics are empty (too few subjects, no spread, ...).",
    ),
];

/// One group of per-subject values and what to call it.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsRow {
    pub comparison: &'static str,
    pub arm: String,
    pub needle_depth_mm: Option<f64>,
    pub zone: String,
    pub metric: String,
    pub visit: String,
    pub values: Vec<f64>,
    pub baselines: Vec<f64>,
    pub pcts: Vec<f64>,
    pub result: GroupStats,
}

impl StatsRow {
    /// Mean baseline value of the group's subjects (change rows; `None` for differences).
    pub fn mean_baseline(&self) -> Option<f64> {
        (!self.baselines.is_empty()).then(|| mean(&self.baselines))
    }

    /// Mean of the subjects' % changes (change rows, subjects with a zero baseline left out).
    pub fn mean_pct_change(&self) -> Option<f64> {
        (!self.pcts.is_empty()).then(|| mean(&self.pcts))
    }
}

/// The statistics of one group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupStats {
    pub n: usize,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub ci: Option<(f64, f64)>,
    pub t: Option<f64>,
    pub p_t: Option<f64>,
    pub w: Option<f64>,
    pub w_method: String,
    pub p_w: Option<f64>,
    pub g: Option<f64>,
    pub p_t_holm: Option<f64>,
    pub p_w_holm: Option<f64>,
    pub missing: Vec<String>,
}

/// Statistics of one sample of per-subject changes.
pub fn group_stats(values: &[f64]) -> GroupStats {
    let mut g = GroupStats::default();
    let sm = summary(values);
    g.n = sm.n;
    g.mean = sm.mean;
    g.sd = sm.sd;
    match bootstrap_ci_mean(values, 0.95, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED) {
        Ok(ci) => g.ci = Some(ci),
        Err(m) => g.missing.push(format!("ci: {}", m.0)),
    }
    match paired_t(values) {
        Ok(t) => {
            g.t = Some(t.t);
            g.p_t = Some(t.p_two_sided);
        }
        Err(m) => g.missing.push(format!("t: {}", m.0)),
    }
    match wilcoxon_signed_rank(values) {
        Ok(w) => {
            g.w = Some(w.statistic);
            g.w_method = w.method.as_str().to_owned();
            g.p_w = Some(w.p_two_sided);
        }
        Err(m) => g.missing.push(format!("wilcoxon: {}", m.0)),
    }
    match hedges_g(values) {
        Ok(h) => g.g = Some(h.g),
        Err(m) => g.missing.push(format!("hedges_g: {}", m.0)),
    }
    g
}

/// The family of a metric column: its name up to the first `_` (`lines_count` -> `lines`).
pub(crate) fn family(metric: &str) -> &str {
    metric.split('_').next().unwrap_or(metric)
}

fn strip_side(zone: &str) -> &str {
    zone.strip_suffix("_left")
        .or_else(|| zone.strip_suffix("_right"))
        .unwrap_or(zone)
}

pub(crate) fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Group key: arm index, depth bits, zone, metric index, visit index.
type GroupKey = (usize, u64, String, usize, usize);

/// Build every `stats.csv` row: per-arm changes, then the contrast (if any).
pub fn compute_stats(
    design: &StudyDesign,
    table: &MetricsTable,
    changes: &[Change],
    contrast: Option<(&str, &str)>,
) -> Vec<StatsRow> {
    let visit_index = |v: &str| {
        design
            .visits
            .iter()
            .position(|x| x == v)
            .unwrap_or(usize::MAX)
    };
    let arm_index = |a: &str| {
        design
            .arms
            .iter()
            .position(|x| x == a)
            .unwrap_or(usize::MAX)
    };
    let depth_bits = |d: Option<f64>| d.map_or(u64::MAX, f64::to_bits);
    // Per group, per subject: the changes, baselines and % changes of that subject's photos.
    type PerSubject = BTreeMap<String, (Vec<f64>, Vec<f64>, Vec<f64>)>;
    let mut groups: BTreeMap<GroupKey, PerSubject> = BTreeMap::new();
    let mut zone_order: Vec<String> = Vec::new();
    for c in changes {
        if !zone_order.contains(&c.zone) {
            zone_order.push(c.zone.clone());
        }
        let (Some(d), Some(b)) = (c.change(), c.baseline_value) else {
            continue;
        };
        let p = &design.photos[c.photo];
        let key = (
            arm_index(&p.arm),
            depth_bits(p.needle_depth_mm),
            c.zone.clone(),
            c.metric,
            visit_index(&p.visit),
        );
        let entry = groups
            .entry(key)
            .or_default()
            .entry(p.subject.clone())
            .or_default();
        entry.0.push(d);
        entry.1.push(b);
        if let Some(pct) = c.pct_change() {
            entry.2.push(pct);
        }
    }
    let zone_rank = |z: &str| zone_order.iter().position(|x| x == z).unwrap_or(usize::MAX);
    let mut keys: Vec<&GroupKey> = groups.keys().collect();
    keys.sort_by_key(|k| (k.0, k.1, zone_rank(&k.2), k.4, k.3));
    let mut rows = Vec::new();
    for key in keys {
        let per_subject = &groups[key];
        let values: Vec<f64> = per_subject.values().map(|s| mean(&s.0)).collect();
        let baselines: Vec<f64> = per_subject.values().map(|s| mean(&s.1)).collect();
        let pcts: Vec<f64> = per_subject
            .values()
            .filter(|s| !s.2.is_empty())
            .map(|s| mean(&s.2))
            .collect();
        rows.push(StatsRow {
            comparison: "change",
            arm: design.arms[key.0].clone(),
            needle_depth_mm: (key.1 != u64::MAX).then(|| f64::from_bits(key.1)),
            zone: key.2.clone(),
            metric: table.metrics[key.3].clone(),
            visit: design.visits[key.4].clone(),
            result: group_stats(&values),
            values,
            baselines,
            pcts,
        });
    }
    if let Some((a, b)) = contrast {
        rows.extend(contrast_rows(design, table, changes, a, b, &zone_order));
    }
    adjust_holm(&mut rows);
    rows
}

/// Per-subject `change(a) − change(b)` rows.
fn contrast_rows(
    design: &StudyDesign,
    table: &MetricsTable,
    changes: &[Change],
    a: &str,
    b: &str,
    zone_order: &[String],
) -> Vec<StatsRow> {
    // (zone without side, metric, visit) -> subject -> (changes in a, changes in b, depth of a)
    type Sides = (Vec<f64>, Vec<f64>, Option<f64>);
    let mut groups: BTreeMap<(usize, usize, String, usize), BTreeMap<String, Sides>> =
        BTreeMap::new();
    let visit_index = |v: &str| {
        design
            .visits
            .iter()
            .position(|x| x == v)
            .unwrap_or(usize::MAX)
    };
    let zone_rank = |z: &str| {
        zone_order
            .iter()
            .position(|x| strip_side(x) == z)
            .unwrap_or(usize::MAX)
    };
    for c in changes {
        let Some(d) = c.change() else { continue };
        let p = &design.photos[c.photo];
        let zone = strip_side(&c.zone).to_owned();
        let key = (zone_rank(&zone), visit_index(&p.visit), zone, c.metric);
        let entry = groups
            .entry(key)
            .or_default()
            .entry(p.subject.clone())
            .or_default();
        if p.arm == a {
            entry.0.push(d);
            entry.2 = entry.2.or(p.needle_depth_mm);
        } else if p.arm == b {
            entry.1.push(d);
        }
    }
    let mut keys: Vec<_> = groups.keys().collect();
    keys.sort_by_key(|k| (k.0, k.1, k.3));
    let mut rows = Vec::new();
    for key in keys {
        let subjects: Vec<&Sides> = groups[key]
            .values()
            .filter(|s| !s.0.is_empty() && !s.1.is_empty())
            .collect();
        if subjects.is_empty() {
            continue;
        }
        let values: Vec<f64> = subjects.iter().map(|s| mean(&s.0) - mean(&s.1)).collect();
        let depth = subjects.iter().find_map(|s| s.2);
        rows.push(StatsRow {
            comparison: "difference",
            arm: format!("{a}-{b}"),
            needle_depth_mm: depth,
            zone: key.2.clone(),
            metric: table.metrics[key.3].clone(),
            visit: design.visits[key.1].clone(),
            result: group_stats(&values),
            values,
            baselines: Vec::new(),
            pcts: Vec::new(),
        });
    }
    rows
}

/// Holm within comparison × arm × depth × zone × visit × metric family.
fn adjust_holm(rows: &mut [StatsRow]) {
    /// comparison, arm, depth bits, zone, visit, family.
    type Family = (String, String, u64, String, String, String);
    let mut families: BTreeMap<Family, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        families
            .entry((
                r.comparison.to_owned(),
                r.arm.clone(),
                r.needle_depth_mm.map_or(u64::MAX, f64::to_bits),
                r.zone.clone(),
                r.visit.clone(),
                family(&r.metric).to_owned(),
            ))
            .or_default()
            .push(i);
    }
    for members in families.values() {
        let p_t: Vec<Option<f64>> = members.iter().map(|&i| rows[i].result.p_t).collect();
        let p_w: Vec<Option<f64>> = members.iter().map(|&i| rows[i].result.p_w).collect();
        for ((&i, t), w) in members.iter().zip(holm(&p_t)).zip(holm(&p_w)) {
            rows[i].result.p_t_holm = t;
            rows[i].result.p_w_holm = w;
        }
    }
}

/// `stats.csv` bytes.
pub fn stats_csv(rows: &[StatsRow]) -> Vec<u8> {
    let opt = |v: Option<f64>| v.map(format_number).unwrap_or_default();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let g = &r.result;
            vec![
                r.comparison.to_owned(),
                r.arm.clone(),
                opt(r.needle_depth_mm),
                r.zone.clone(),
                r.metric.clone(),
                family(&r.metric).to_owned(),
                r.visit.clone(),
                g.n.to_string(),
                opt(r.mean_baseline()),
                opt(g.mean),
                opt(g.sd),
                opt(g.ci.map(|c| c.0)),
                opt(g.ci.map(|c| c.1)),
                opt(r.mean_pct_change()),
                opt(g.t),
                opt(g.p_t),
                opt(g.w),
                g.w_method.clone(),
                opt(g.p_w),
                opt(g.g),
                opt(g.p_t_holm),
                opt(g.p_w_holm),
                g.missing.join("; "),
            ]
        })
        .collect();
    let columns: Vec<Column> = STATS_COLUMNS.iter().map(Column::from).collect();
    csv_bytes(&columns, cells.iter().map(Vec::as_slice))
}
