//! `summary.csv`: the agreement of each comparison per zone (the whole-image zone `face` or
//! `full` is the overall figure), over the images.
//!
//! ```text
//! scores  lines_dice, lines_jsi, lines_precision, lines_recall, scars_f1,
//!         scars_type_accuracy:  n images with a value, mean, 95 % percentile bootstrap CI
//!         (stats::bootstrap_ci_mean, BOOTSTRAP_RESAMPLES resamples, seed BOOTSTRAP_SEED)
//! amounts lines_length_mm (lines_annotated_mm, lines_detected_mm) and scars_count
//!         (scars_annotated, scars_detected), paired per image:
//!         mean = mean difference detected − annotated, with its bootstrap CI;
//!         Bland-Altman bias and 95 % limits of agreement (stats::bland_altman);
//!         ICC(2,1), absolute agreement, with its 95 % CI (stats::icc_agreement)
//! ```
//!
//! A statistic that cannot be computed (too few images, no spread) is empty with the reason.

use super::{AgreementRow, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, Comparison};
use crate::metrics::{ColumnSpec, spec};
use crate::output::format_number;
use crate::output::tables::{Column, csv_bytes};
use crate::study::stats::{bland_altman, bootstrap_ci_mean, icc_agreement, summary};

/// The scores summarised by their mean.
pub const SCORES: [&str; 6] = [
    "lines_dice",
    "lines_jsi",
    "lines_precision",
    "lines_recall",
    "scars_f1",
    "scars_type_accuracy",
];

/// The amounts compared between the two sides: (summary name, annotated column, detected
/// column).
pub const AMOUNTS: [(&str, &str, &str); 2] = [
    ("lines_length_mm", "lines_annotated_mm", "lines_detected_mm"),
    ("scars_count", "scars_annotated", "scars_detected"),
];

/// One row of `summary.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub comparison: String,
    pub zone: String,
    pub metric: &'static str,
    pub n: usize,
    pub mean: Option<f64>,
    pub ci: Option<(f64, f64)>,
    pub ba_bias: Option<f64>,
    pub ba_loa: Option<(f64, f64)>,
    pub icc: Option<f64>,
    pub icc_ci: Option<(f64, f64)>,
    /// `what: reason` for every empty value.
    pub missing: Vec<String>,
}

/// Columns of `summary.csv`.
pub const SUMMARY_COLUMNS: &[ColumnSpec] = &[
    spec("comparison", "", "As in agreement.csv."),
    spec(
        "zone",
        "",
        "Zone; face (face photos) or full (close-ups) is the whole image, the overall figure.",
    ),
    spec(
        "metric",
        "",
        "An agreement.csv score (lines_dice, lines_jsi, lines_precision, lines_recall, scars_f1, scars_type_accuracy), or lines_length_mm / scars_count: the annotated and detected amounts compared.",
    ),
    spec(
        "n",
        "1",
        "Images with a value (for the amounts: with both values).",
    ),
    spec(
        "mean",
        "metric",
        "Mean over the images; for lines_length_mm and scars_count the mean difference detected - annotated.",
    ),
    spec(
        "ci_low",
        "metric",
        "95 % percentile bootstrap interval of the mean, lower end (2000 resamples, fixed seed: deterministic).",
    ),
    spec("ci_high", "metric", "Its upper end."),
    spec(
        "ba_bias",
        "metric",
        "Bland-Altman bias, mean of detected - annotated (amounts only).",
    ),
    spec(
        "ba_loa_low",
        "metric",
        "Bland-Altman 95 % limit of agreement, bias - 1.96 SD of the differences.",
    ),
    spec("ba_loa_high", "metric", "bias + 1.96 SD."),
    spec(
        "icc",
        "1",
        "ICC(2,1): two-way random effects, absolute agreement, single rater, of annotated and detected (amounts only).",
    ),
    spec(
        "icc_ci_low",
        "1",
        "95 % confidence interval of the ICC (McGraw & Wong 1996), lower end.",
    ),
    spec("icc_ci_high", "1", "Its upper end."),
    spec(
        "missing_reasons",
        "",
        "Why a value is empty: `what: reason` items separated by `; `.",
    ),
];

/// The value of column `name` of a row.
fn value(row: &AgreementRow, name: &str) -> Option<f64> {
    row.values()
        .into_iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, v)| v.ok())
}

/// Summarise `rows` per comparison (in `comparisons` order) and zone (in order of first
/// appearance).
pub fn summarise(rows: &[AgreementRow], comparisons: &[Comparison]) -> Vec<SummaryRow> {
    let mut zones: Vec<&str> = Vec::new();
    for r in rows {
        if !zones.contains(&r.zone.as_str()) {
            zones.push(&r.zone);
        }
    }
    let mut out = Vec::new();
    for cmp in comparisons {
        for zone in &zones {
            let group: Vec<&AgreementRow> = rows
                .iter()
                .filter(|r| r.comparison == *cmp && r.zone == *zone)
                .collect();
            let base = |metric: &'static str| SummaryRow {
                comparison: cmp.name(),
                zone: (*zone).to_owned(),
                metric,
                n: 0,
                mean: None,
                ci: None,
                ba_bias: None,
                ba_loa: None,
                icc: None,
                icc_ci: None,
                missing: Vec::new(),
            };
            for metric in SCORES {
                let values: Vec<f64> = group.iter().filter_map(|r| value(r, metric)).collect();
                let mut row = base(metric);
                fill_mean(&mut row, &values);
                out.push(row);
            }
            for (metric, annotated, detected) in AMOUNTS {
                let pairs: Vec<(f64, f64)> = group
                    .iter()
                    .filter_map(|r| Some((value(r, annotated)?, value(r, detected)?)))
                    .collect();
                let mut row = base(metric);
                let diffs: Vec<f64> = pairs.iter().map(|(a, d)| d - a).collect();
                fill_mean(&mut row, &diffs);
                let (a, d): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
                match bland_altman(&a, &d) {
                    Ok(ba) => {
                        row.ba_bias = Some(ba.bias);
                        row.ba_loa = Some(ba.loa);
                    }
                    Err(m) => row.missing.push(format!("Bland-Altman: {}", m.0)),
                }
                let table: Vec<Vec<f64>> = pairs.iter().map(|&(a, d)| vec![a, d]).collect();
                match icc_agreement(&table) {
                    Ok(icc) => {
                        row.icc = Some(icc.icc);
                        row.icc_ci = icc.ci;
                        if icc.ci.is_none() {
                            row.missing
                                .push("icc CI: not defined (no residual variation)".into());
                        }
                    }
                    Err(m) => row.missing.push(format!("icc: {}", m.0)),
                }
                out.push(row);
            }
        }
    }
    out
}

/// n, mean and bootstrap CI of `values` into `row`.
fn fill_mean(row: &mut SummaryRow, values: &[f64]) {
    row.n = values.len();
    let s = summary(values);
    row.mean = s.mean;
    if s.mean.is_none() {
        row.missing.push("mean: no image with a value".into());
    }
    match bootstrap_ci_mean(values, 0.95, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED) {
        Ok(ci) => row.ci = Some(ci),
        Err(m) => row.missing.push(format!("CI: {}", m.0)),
    }
}

/// `summary.csv` bytes.
pub fn summary_csv(rows: &[SummaryRow]) -> Vec<u8> {
    let opt = |v: Option<f64>| v.map(format_number).unwrap_or_default();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.comparison.clone(),
                r.zone.clone(),
                r.metric.to_owned(),
                r.n.to_string(),
                opt(r.mean),
                opt(r.ci.map(|c| c.0)),
                opt(r.ci.map(|c| c.1)),
                opt(r.ba_bias),
                opt(r.ba_loa.map(|c| c.0)),
                opt(r.ba_loa.map(|c| c.1)),
                opt(r.icc),
                opt(r.icc_ci.map(|c| c.0)),
                opt(r.icc_ci.map(|c| c.1)),
                r.missing.join("; "),
            ]
        })
        .collect();
    let columns: Vec<Column> = SUMMARY_COLUMNS.iter().map(Column::from).collect();
    csv_bytes(&columns, cells.iter().map(Vec::as_slice))
}
