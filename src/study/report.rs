//! The self-contained HTML study report (`report.html`).
//!
//! One file that opens anywhere without a network: the CSS is inline, the plots are inline SVG
//! drawn with `plotters`' SVG backend, and the QC pictures are embedded as
//! `data:image/jpeg;base64` URIs. The page carries no script and no external URL.
//!
//! ```text
//! ReportInput (summary, methods, series, subjects, stats rows, gallery, failures)
//!     -> render_report -> HTML string
//! ```
//!
//! Sections have stable ids so that tests and links can find them: `summary`, `methods`,
//! `plots`, `subjects`, `results`, `gallery`, `failures`, and `repeatability` (after `results`)
//! when the study has replicate photos.
//!
//! # The primary test
//!
//! Every row of the results table shows both tests of the change against 0, each column named
//! by its test: the paired t test and the Wilcoxon signed-rank test, unadjusted and
//! Holm-adjusted. One of them is the *primary* test ([`PrimaryTest`]): rows whose primary Holm
//! p is below [`SIGNIFICANCE_ALPHA`] are highlighted, and the report says which test it was.
//! The rule (`skintex study --test t|wilcoxon`, default `t`): the **paired t test is primary**
//! and the Wilcoxon signed-rank test is its sensitivity analysis. The per-subject change is
//! one number per subject, and the t test uses its size; the exact Wilcoxon p of n subjects
//! cannot go below 2/2^n (0.031 at n = 6), so at the small n of split-face studies it could
//! never pass a Holm adjustment over several metrics, whatever the effect. `--test wilcoxon`
//! makes the Wilcoxon test primary (larger studies whose changes are far from normal, or have
//! outliers).
//!
//! Guarantees:
//! - every text that comes from the input (titles, subject names, arms, captions, reasons) is
//!   HTML-escaped;
//! - a missing value (`None`, or a non-finite number) is shown as an em dash with a `title`
//!   saying why, never as 0;
//! - the output is byte-deterministic for a given input: order follows the input vectors, and the
//!   only time stamp is [`ReportInput::generated_at`].

use plotters::prelude::*;

/// Everything the study report shows. The caller computes it; [`render_report`] only lays it out.
#[derive(Debug, Clone, Default)]
pub struct ReportInput<'a> {
    /// Report title, e.g. the study manifest's file name.
    pub title: String,
    /// When the report was generated (ISO 8601), passed in so the output stays deterministic.
    pub generated_at: String,
    /// The skintex version that produced the numbers.
    pub skintex_version: &'a str,
    /// Key/value lines of the study summary (subjects, visits, arms, images ok/failed, ...), in
    /// display order. An empty value is shown as missing.
    pub summary: Vec<(String, String)>,
    /// The test whose Holm-adjusted p decides the highlighting.
    pub primary_test: PrimaryTest,
    /// Key/value lines of the methods (calibration, zones, software version, configuration
    /// hash), in display order, before the statistical methods that the report writes itself.
    /// An empty value is shown as missing.
    pub methods: Vec<(String, String)>,
    /// Link to the full statistics table (`stats.csv`, relative to the report), when written.
    pub stats_csv: Option<String>,
    /// One plot per (metric, zone), in display order.
    pub series: Vec<MetricSeries>,
    /// Per-subject values over the visits: one plot per metric family, in display order.
    pub subjects: Vec<SubjectPlot>,
    /// The results table (a subset of `stats.csv`), in display order.
    pub table: Vec<StatsRow>,
    /// The repeatability table (a subset of `repeatability.csv`), in display order; the section
    /// is left out when empty (no replicates).
    pub repeatability: Vec<RepeatabilityRow>,
    /// Link to `repeatability.csv` (relative to the report), when written.
    pub repeatability_csv: Option<String>,
    /// QC pictures per subject, in display order.
    pub gallery: Vec<GallerySubject>,
    /// Images that could not be analysed: (image path or id, reason).
    pub failures: Vec<(String, String)>,
    /// Per subject: how many follow-ups were comparable with their baseline, and why not.
    pub comparability: Vec<ComparabilityRow>,
    /// What was done with the non-comparable pairs (shown above the table).
    pub comparability_note: String,
}

/// One subject's comparability of follow-ups with their baseline photos.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComparabilityRow {
    pub subject: String,
    /// Follow-up photos with a baseline.
    pub pairs: usize,
    pub comparable: usize,
    pub noncomparable: usize,
    /// Follow-ups whose comparability is unknown, and why.
    pub unknown: usize,
    pub unknown_reasons: Vec<String>,
    /// Failed checks and how many follow-ups failed each.
    pub reasons: Vec<(String, usize)>,
}

/// The change of one metric in one zone over the visits, per arm: one plot.
#[derive(Debug, Clone, Default)]
pub struct MetricSeries {
    /// Metric column name, e.g. `rough_sq`.
    pub metric: String,
    /// Zone name, e.g. `forehead`.
    pub zone: String,
    /// Unit of the metric (and of its change), e.g. `mm`, `per cm²`, `deg`.
    pub unit: String,
    /// One line per arm, in legend order.
    pub arms: Vec<ArmSeries>,
}

/// The points of one arm, ordered by visit.
#[derive(Debug, Clone, Default)]
pub struct ArmSeries {
    /// Arm (treatment group) name.
    pub arm: String,
    /// Points ordered by visit.
    pub points: Vec<SeriesPoint>,
}

/// Mean change from baseline at one visit, with its 95 % confidence interval.
#[derive(Debug, Clone, Default)]
pub struct SeriesPoint {
    /// Visit label, e.g. `week4`.
    pub visit: String,
    /// Nominal days since baseline; the x axis uses days when every point of the plot has them.
    pub days: Option<f64>,
    /// Mean change from baseline, in the metric's unit.
    pub mean_change: Option<f64>,
    /// Lower bound of the 95 % confidence interval of the mean change.
    pub ci_low: Option<f64>,
    /// Upper bound of the 95 % confidence interval of the mean change.
    pub ci_high: Option<f64>,
    /// Number of subjects with a paired value.
    pub n: usize,
}

/// The per-subject values of one metric in one zone over the visits: one plot, one line per
/// subject and arm (a split-face subject has a treated and a control line).
#[derive(Debug, Clone, Default)]
pub struct SubjectPlot {
    /// Metric column name, e.g. `lines_length_mm`.
    pub metric: String,
    /// Zone name, e.g. `full`.
    pub zone: String,
    /// Unit of the metric.
    pub unit: String,
    /// Arms in legend order (each line's colour and dash follow its arm's position here).
    pub arms: Vec<String>,
    /// One line per subject and arm.
    pub lines: Vec<SubjectLine>,
}

/// One subject's values in one arm, ordered by visit.
#[derive(Debug, Clone, Default)]
pub struct SubjectLine {
    pub subject: String,
    pub arm: String,
    pub points: Vec<SubjectPoint>,
}

/// One subject's value at one visit (`None`: not measured; the line is broken there).
#[derive(Debug, Clone, Default)]
pub struct SubjectPoint {
    pub visit: String,
    /// Days since baseline; the x axis uses days when every point of the plot has them.
    pub days: Option<f64>,
    pub value: Option<f64>,
}

/// The test whose Holm-adjusted p decides which rows of the results are highlighted (see the
/// module doc for the rule).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PrimaryTest {
    /// Paired t test of the per-subject changes (the default; Wilcoxon is the sensitivity
    /// analysis).
    #[default]
    #[value(name = "t")]
    PairedT,
    /// Wilcoxon signed-rank test of the per-subject changes (paired t is the sensitivity
    /// analysis).
    Wilcoxon,
}

impl PrimaryTest {
    /// The test's name as the column headers give it.
    pub fn name(self) -> &'static str {
        match self {
            Self::PairedT => "paired t",
            Self::Wilcoxon => "Wilcoxon signed-rank",
        }
    }

    /// The other test: the sensitivity analysis.
    pub fn other(self) -> Self {
        match self {
            Self::PairedT => Self::Wilcoxon,
            Self::Wilcoxon => Self::PairedT,
        }
    }
}

/// One row of the results table.
#[derive(Debug, Clone, Default)]
pub struct StatsRow {
    /// `change` (within an arm) or `difference` (between the arms of a split-face contrast).
    pub comparison: String,
    pub arm: String,
    pub zone: String,
    pub metric: String,
    pub visit: String,
    /// Number of subjects with a paired value.
    pub n: usize,
    /// Mean baseline value of those subjects (change rows).
    pub mean_baseline: Option<f64>,
    pub mean_change: Option<f64>,
    /// Mean of the per-subject % changes (change rows).
    pub mean_pct_change: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Paired t test p (unadjusted).
    pub p_t: Option<f64>,
    /// Paired t test p, Holm-adjusted within the row's family.
    pub p_t_holm: Option<f64>,
    /// Wilcoxon signed-rank p (unadjusted).
    pub p_wilcoxon: Option<f64>,
    /// Wilcoxon signed-rank p, Holm-adjusted within the row's family.
    pub p_wilcoxon_holm: Option<f64>,
    /// Hedges' g effect size of the change.
    pub hedges_g: Option<f64>,
}

impl StatsRow {
    /// The p of `test`: (unadjusted, Holm-adjusted).
    pub fn p(&self, test: PrimaryTest) -> (Option<f64>, Option<f64>) {
        match test {
            PrimaryTest::PairedT => (self.p_t, self.p_t_holm),
            PrimaryTest::Wilcoxon => (self.p_wilcoxon, self.p_wilcoxon_holm),
        }
    }
}

/// One row of the repeatability table (see `repeatability.csv` for the definitions).
#[derive(Debug, Clone, Default)]
pub struct RepeatabilityRow {
    pub visit: String,
    pub zone: String,
    pub metric: String,
    pub unit: String,
    pub n_subjects: usize,
    pub n_photos: usize,
    pub mean: Option<f64>,
    pub within_sd: Option<f64>,
    pub cv_pct: Option<f64>,
    pub icc: Option<f64>,
    pub icc_ci: Option<(f64, f64)>,
    /// Targets in the ICC, and the replicates each contributes.
    pub icc_targets: usize,
    pub icc_replicates: usize,
    pub sem: Option<f64>,
    pub mdc95: Option<f64>,
    /// Why values are missing or targets left out (`;`-separated), empty when none.
    pub missing: String,
}

/// The QC pictures of one subject: baseline first, then the follow-ups.
#[derive(Debug, Clone, Default)]
pub struct GallerySubject {
    pub subject: String,
    pub images: Vec<GalleryImage>,
}

/// One QC picture (JPEG bytes) or the reason it is missing.
#[derive(Debug, Clone, Default)]
pub struct GalleryImage {
    /// Caption, e.g. `baseline` or `week4 (2024-03-01)`.
    pub caption: String,
    /// The QC picture (a thumbnail), JPEG-encoded; `None` when missing.
    pub jpeg: Option<Vec<u8>>,
    /// Link to the full-size QC picture (a path relative to the report), opened by a click on
    /// the thumbnail.
    pub href: Option<String>,
    /// Why the picture is missing (shown when `jpeg` is `None`).
    pub missing_reason: Option<String>,
}

/// Significance level applied to the Holm-adjusted p-value for highlighting.
pub const SIGNIFICANCE_ALPHA: f64 = 0.05;

/// Plot size in SVG user units (CSS scales it to the page width).
pub(crate) const PLOT_SIZE: (u32, u32) = (640, 400);

/// Colour-blind safe palette (Okabe & Ito, 2008), cycled over arms.
const PALETTE: [(u8, u8, u8); 7] = [
    (0, 114, 178),
    (213, 94, 0),
    (0, 158, 115),
    (204, 121, 167),
    (230, 159, 0),
    (86, 180, 233),
    (0, 0, 0),
];

const MISSING_STAT: &str = "missing: not computed (too few paired values or test not applicable)";

pub(crate) const CSS: &str = r#"
:root { --fg: #1d232a; --muted: #5b6570; --line: #d6dbe0; --bg: #ffffff; --band: #f5f7f9;
  --sig: #fff3c4; --accent: #0072b2; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--fg); background: var(--bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 20px; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.6em; margin: 0 0 4px; word-break: break-word; }
h2 { font-size: 1.3em; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.05em; margin: 16px 0 8px; word-break: break-word; }
.meta, .note, footer { color: var(--muted); font-size: 0.9em; }
nav { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 10px 0 12px; }
nav a { color: var(--accent); text-decoration: none; font-weight: 600; }
nav a:hover { text-decoration: underline; }
dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 4px 20px; margin: 0; }
dl.summary dt { font-weight: 600; }
dl.summary dd { margin: 0; word-break: break-word; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 460px), 1fr)); gap: 16px; }
.plots figure { margin: 0; padding: 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.plots figcaption { font-weight: 600; margin: 0 0 4px; word-break: break-word; }
.plots svg { display: block; width: 100%; height: auto; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
td.num { white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; }
td { overflow-wrap: break-word; }
th { background: var(--band); position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfc; }
tr.sig, tbody tr.sig:nth-child(even) { background: var(--sig); }
tr.sig td.holm { font-weight: 700; }
th.primary { background: var(--sig); }
th .tag { display: block; font-size: 0.8em; font-weight: 400; color: var(--muted); }
.missing { color: var(--muted); cursor: help; }
.swatch { display: inline-block; width: 1em; height: 1em; vertical-align: -0.15em; background: var(--sig);
  border: 1px solid var(--line); }
.subject { margin-bottom: 20px; }
.strip { display: flex; flex-wrap: wrap; gap: 12px; }
.strip figure { margin: 0; width: min(100%, 280px); }
.strip img { display: block; width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
.strip a { display: block; }
.strip a:focus img, .strip a:hover img { outline: 2px solid var(--accent); }
.strip figcaption { font-size: 0.9em; color: var(--muted); word-break: break-word; }
.placeholder { display: flex; flex-direction: column; align-items: center; justify-content: center; gap: 4px;
  aspect-ratio: 4 / 3; border: 1px dashed var(--line); border-radius: 4px; background: var(--band);
  color: var(--muted); text-align: center; padding: 8px; word-break: break-word; }
.placeholder .dash { font-size: 2em; line-height: 1; }
footer { margin-top: 40px; padding-top: 12px; padding-bottom: 24px; border-top: 1px solid var(--line); }
@media (max-width: 600px) { body { font-size: 14px; } dl.summary { grid-template-columns: 1fr; }
  dl.summary dd { margin-bottom: 6px; } }
@media print { nav { display: none; } th { position: static; } .plots figure, .subject { break-inside: avoid; } }
"#;

/// Renders the complete, self-contained report as one HTML document.
///
/// Deterministic: the same input gives the same bytes. Never fails: a plot that cannot be drawn
/// is replaced by a note saying why.
pub fn render_report(input: &ReportInput) -> String {
    let mut out = String::with_capacity(
        64 * 1024
            + input
                .gallery
                .iter()
                .flat_map(|s| &s.images)
                .map(|i| i.jpeg.as_ref().map_or(0, |j| j.len() * 4 / 3 + 64))
                .sum::<usize>(),
    );
    let title = escape(&input.title);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!(
        "<meta name=\"generator\" content=\"skintex {}\">\n<title>skintex study report: {title}</title>\n",
        escape(input.skintex_version)
    ));
    out.push_str("<style>");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n<header>\n");
    out.push_str(&format!("<h1>Study report: {title}</h1>\n"));
    out.push_str(&format!(
        "<p class=\"meta\">Generated {} by skintex {}</p>\n",
        text_or_missing(&input.generated_at, "missing: generation time not given"),
        text_or_missing(input.skintex_version, "missing: version not given"),
    ));
    out.push_str(concat!(
        "<nav><a href=\"#summary\">Summary</a><a href=\"#methods\">Methods</a>",
        "<a href=\"#plots\">Plots</a><a href=\"#subjects\">Subjects</a>",
        "<a href=\"#results\">Results</a>",
    ));
    if !input.repeatability.is_empty() {
        out.push_str("<a href=\"#repeatability\">Repeatability</a>");
    }
    out.push_str(concat!(
        "<a href=\"#comparability\">Comparability</a>",
        "<a href=\"#gallery\">QC gallery</a>",
        "<a href=\"#failures\">Failures</a></nav>\n</header>\n<main>\n"
    ));
    summary_section(&mut out, input);
    methods_section(&mut out, input);
    plots_section(&mut out, input);
    subjects_section(&mut out, input);
    results_section(&mut out, input);
    repeatability_section(&mut out, input);
    comparability_section(&mut out, input);
    gallery_section(&mut out, input);
    failures_section(&mut out, input);
    out.push_str("</main>\n<footer>\n");
    out.push_str(
        "<p>Missing values are shown as \u{2014}; hover for the reason. Missing is never shown as 0.</p>\n",
    );
    out.push_str("</footer>\n</body>\n</html>\n");
    out
}

fn summary_section(out: &mut String, input: &ReportInput) {
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n");
    if input.summary.is_empty() {
        out.push_str("<p>none</p>\n");
    } else {
        push_definitions(out, &input.summary);
    }
    out.push_str("</section>\n");
}

/// Key/value lines as a definition list (an empty value shown as missing).
fn push_definitions(out: &mut String, items: &[(String, String)]) {
    out.push_str("<dl class=\"summary\">\n");
    for (key, value) in items {
        out.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            escape(key),
            text_or_missing(value, "missing: no value")
        ));
    }
    out.push_str("</dl>\n");
}

fn plots_section(out: &mut String, input: &ReportInput) {
    out.push_str("<section id=\"plots\">\n<h2>Change from baseline</h2>\n");
    if input.series.is_empty() {
        out.push_str("<p>none</p>\n</section>\n");
        return;
    }
    out.push_str(concat!(
        "<p class=\"note\">Mean change from baseline per arm; error bars: 95% confidence interval; ",
        "grey line: no change. Points without a value are left out, never drawn at 0.</p>\n",
        "<div class=\"plots\">\n"
    ));
    for (index, series) in input.series.iter().enumerate() {
        let caption = if series.unit.is_empty() {
            format!(
                "{} \u{2014} {}",
                escape(&series.metric),
                escape(&series.zone)
            )
        } else {
            format!(
                "{} \u{2014} {} ({})",
                escape(&series.metric),
                escape(&series.zone),
                escape(&series.unit)
            )
        };
        out.push_str(&format!(
            "<figure id=\"plot-{}\">\n<figcaption>{caption}</figcaption>\n",
            index + 1
        ));
        let label = format!(
            "Mean change from baseline of {} in {} ({}) per arm",
            series.metric, series.zone, series.unit
        );
        push_plot(
            out,
            series_svg(series),
            &label,
            "missing: no arm has a mean change at any visit",
        );
    }
    out.push_str("</div>\n</section>\n");
}

/// A figure's plot (inline SVG with its accessible `label`) and the figure's end; a missing
/// plot says why (`no_values` when there was nothing to draw).
fn push_plot(out: &mut String, svg: Result<Option<String>, String>, label: &str, no_values: &str) {
    match svg {
        Ok(Some(svg)) => out.push_str(&inline_svg(&svg, label)),
        Ok(None) => out.push_str(&format!(
            "<p>{} no values to plot</p>\n",
            missing(no_values)
        )),
        Err(err) => out.push_str(&format!(
            "<p>{} plot could not be drawn: {}</p>\n",
            missing("missing: plot drawing failed"),
            escape(&err)
        )),
    }
    out.push_str("</figure>\n");
}

/// What a Holm adjustment covers, in the words of the data dictionary (`stats.csv`'s
/// `p_t_holm`).
const HOLM_FAMILY: &str = super::changes::holm_family!();

/// The statistical methods, in the report's words: the unit of analysis, the CI, both tests and
/// which is primary, Holm's family and the effect size.
fn statistical_methods(test: PrimaryTest) -> Vec<(String, String)> {
    let rule = match test {
        PrimaryTest::PairedT => format!(
            "paired t test (the default rule: the t test is primary and the {} test is its \
             sensitivity analysis; the exact Wilcoxon p of n subjects cannot go below 2/2^n, \
             0.031 at n = 6, so at small n it could never pass Holm's adjustment; \
             --test wilcoxon makes it primary)",
            test.other().name()
        ),
        PrimaryTest::Wilcoxon => format!(
            "Wilcoxon signed-rank test (chosen with --test wilcoxon; the {} test is its \
             sensitivity analysis)",
            test.other().name()
        ),
    };
    vec![
        (
            "Unit of analysis".to_owned(),
            "the subject: change = follow-up minus baseline of the same subject, side, view and \
             zone, averaged over a subject's photos; split-face difference = the subject's \
             treated change minus their control change."
                .to_owned(),
        ),
        (
            "Tests".to_owned(),
            format!(
                "each change (or difference) against 0 with the paired t test (df = n - 1) and \
                 the Wilcoxon signed-rank test (scipy's defaults: exact without ties or zeros, \
                 else permutation up to 13 subjects, else normal approximation), both \
                 two-sided; 95% CI: percentile bootstrap of the mean ({} resamples, fixed \
                 seed); effect size: Hedges' g of the changes (d_z, small-sample corrected).",
                super::changes::BOOTSTRAP_RESAMPLES
            ),
        ),
        ("Primary test".to_owned(), rule),
        (
            "Multiplicity".to_owned(),
            format!(
                "Holm's step-down adjustment, which controls the family-wise error rate, \
                 {HOLM_FAMILY}; rows whose {} Holm p is below {SIGNIFICANCE_ALPHA} are \
                 highlighted.",
                test.name()
            ),
        ),
    ]
}

fn methods_section(out: &mut String, input: &ReportInput) {
    out.push_str("<section id=\"methods\">\n<h2>Methods</h2>\n");
    let mut items = input.methods.clone();
    items.extend(statistical_methods(input.primary_test));
    push_definitions(out, &items);
    out.push_str("</section>\n");
}

fn subjects_section(out: &mut String, input: &ReportInput) {
    out.push_str("<section id=\"subjects\">\n<h2>Per subject</h2>\n");
    if input.subjects.is_empty() {
        out.push_str("<p>none</p>\n</section>\n");
        return;
    }
    out.push_str(concat!(
        "<p class=\"note\">The value of each subject at each visit, one line per subject and arm ",
        "(arms by colour and dash). Visits without a value break the line; they are never drawn ",
        "at 0.</p>\n<div class=\"plots\">\n"
    ));
    for (index, plot) in input.subjects.iter().enumerate() {
        let unit = if plot.unit.is_empty() {
            String::new()
        } else {
            format!(" ({})", escape(&plot.unit))
        };
        out.push_str(&format!(
            "<figure id=\"subjects-{}\">\n<figcaption>{} \u{2014} {}{unit}, per subject</figcaption>\n",
            index + 1,
            escape(&plot.metric),
            escape(&plot.zone),
        ));
        let label = format!(
            "{} in {} ({}) of each subject over the visits",
            plot.metric, plot.zone, plot.unit
        );
        push_plot(
            out,
            subjects_svg(plot),
            &label,
            "missing: no subject has a value at any visit",
        );
    }
    out.push_str("</div>\n</section>\n");
}

/// `lead <a href="HREF">NAME</a>.` when the table has a link, else nothing.
fn csv_link(lead: &str, href: Option<&str>, name: &str) -> String {
    href.map_or_else(String::new, |href| {
        format!("{lead} <a href=\"{}\">{name}</a>.", escape(href))
    })
}

fn results_section(out: &mut String, input: &ReportInput) {
    out.push_str("<section id=\"results\">\n<h2>Results</h2>\n");
    if input.table.is_empty() {
        out.push_str("<p>none</p>\n</section>\n");
        return;
    }
    let primary = input.primary_test;
    let other = primary.other();
    let stats_link = csv_link(
        " Every metric, zone and visit, with the test statistics:",
        input.stats_csv.as_deref(),
        "stats.csv",
    );
    out.push_str(&format!(
        concat!(
            "<p class=\"note\">Change from baseline per arm, zone, metric and visit; for a ",
            "split-face contrast, the per-subject difference between the arms. ",
            "Primary test: <strong>{primary}</strong>. ",
            "<span class=\"swatch\"></span> Highlighted rows: {primary} p, Holm-adjusted, &lt; {alpha}. ",
            "Holm's adjustment runs {family}, so it counts the metrics of stats.csv that this ",
            "table does not show. CI: 95% bootstrap confidence interval of the mean change. ",
            "% change: mean of the subjects' 100 \u{b7} change / |baseline|.{link}</p>\n"
        ),
        primary = primary.name(),
        alpha = SIGNIFICANCE_ALPHA,
        family = escape(HOLM_FAMILY),
        link = stats_link,
    ));
    let header = |test: PrimaryTest, holm: bool| {
        let name = if holm {
            format!("p ({}, Holm)", test.name())
        } else {
            format!("p ({})", test.name())
        };
        if test == primary && holm {
            format!(
                "<th class=\"primary\" title=\"primary test: rows are highlighted on this column\">{name}<span class=\"tag\">primary</span></th>"
            )
        } else if test == primary {
            format!("<th>{name}</th>")
        } else {
            format!(
                "<th title=\"sensitivity analysis\">{name}<span class=\"tag\">sensitivity</span></th>"
            )
        }
    };
    out.push_str(&format!(
        concat!(
            "<div class=\"table-wrap\"><table>\n<thead><tr>",
            "<th>arm</th><th>zone</th><th>metric</th><th>unit</th><th>visit</th><th>n</th>",
            "<th>baseline mean</th><th>mean change</th><th>% change</th><th>95% CI</th>",
            "{}{}{}{}<th>Hedges g</th></tr></thead>\n<tbody>\n"
        ),
        header(primary, false),
        header(primary, true),
        header(other, false),
        header(other, true),
    ));
    for row in &input.table {
        let significant = finite(row.p(primary).1).is_some_and(|p| p < SIGNIFICANCE_ALPHA);
        let unit = input
            .series
            .iter()
            .find(|s| s.metric == row.metric)
            .map(|s| s.unit.as_str())
            .unwrap_or("");
        if significant {
            out.push_str(&format!(
                "<tr class=\"sig\" title=\"significant: {} p, Holm-adjusted, &lt; {SIGNIFICANCE_ALPHA}\">",
                primary.name()
            ));
        } else {
            out.push_str("<tr>");
        }
        out.push_str(&format!(
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>",
            escape(&row.arm),
            escape(&row.zone),
            escape(&row.metric),
            escape(unit),
            escape(&row.visit),
            row.n
        ));
        let baseline_only = |value: Option<f64>, format: fn(f64) -> String, what: &str| {
            if row.comparison == "difference" {
                missing(&format!(
                    "missing: no {what} for a difference between arms (see the change rows)"
                ))
            } else {
                number_or_missing(value, format)
            }
        };
        let ci = match (finite(row.ci_low), finite(row.ci_high)) {
            (Some(lo), Some(hi)) => format!("[{}, {}]", format_number(lo), format_number(hi)),
            _ => missing(MISSING_STAT),
        };
        let (p_primary, p_primary_holm) = row.p(primary);
        let (p_other, p_other_holm) = row.p(other);
        out.push_str(&format!(
            concat!(
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num holm\">{}</td>",
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n"
            ),
            baseline_only(row.mean_baseline, format_number, "baseline mean"),
            number_or_missing(row.mean_change, format_number),
            baseline_only(row.mean_pct_change, format_percent, "% change"),
            ci,
            number_or_missing(p_primary, format_p),
            number_or_missing(p_primary_holm, format_p),
            number_or_missing(p_other, format_p),
            number_or_missing(p_other_holm, format_p),
            number_or_missing(row.hedges_g, |g| format!("{g:.2}")),
        ));
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// The repeatability of replicate photos; nothing when the study has none.
fn repeatability_section(out: &mut String, input: &ReportInput) {
    if input.repeatability.is_empty() {
        return;
    }
    out.push_str("<section id=\"repeatability\">\n<h2>Repeatability</h2>\n");
    let link = csv_link(
        " Every metric and zone:",
        input.repeatability_csv.as_deref(),
        "repeatability.csv",
    );
    out.push_str(&format!(
        concat!(
            "<p class=\"note\">Agreement of replicate photos of the same subject, visit, side ",
            "and view (re-takes; averaged before the change from baseline). Within SD: pooled ",
            "within-subject SD. CV: root mean square of the subjects' SD / mean. ICC(3,1): ",
            "two-way mixed effects, consistency, single measurement, with its 95% CI, over the ",
            "subjects with every one of k replicates. SEM = sqrt(MS error); MDC95 = 1.96 \u{b7} ",
            "\u{221a}2 \u{b7} SEM, the smallest change of one subject beyond measurement ",
            "error.{link}</p>\n"
        ),
        link = link
    ));
    out.push_str(concat!(
        "<div class=\"table-wrap\"><table>\n<thead><tr>",
        "<th>visit</th><th>zone</th><th>metric</th><th>unit</th><th>subjects</th><th>photos</th>",
        "<th>mean</th><th>within SD</th><th>CV</th><th>ICC(3,1)</th><th>95% CI</th>",
        "<th>ICC subjects \u{d7} k</th><th>SEM</th><th>MDC95</th><th>notes</th>",
        "</tr></thead>\n<tbody>\n"
    ));
    for row in &input.repeatability {
        let why = if row.missing.is_empty() {
            MISSING_STAT.to_owned()
        } else {
            format!("missing: {}", row.missing)
        };
        let number_or_missing =
            |value: Option<f64>, format: &dyn Fn(f64) -> String| match finite(value) {
                Some(v) => format(v),
                None => missing(&why),
            };
        let ci = match row
            .icc_ci
            .map(|(lo, hi)| (finite(Some(lo)), finite(Some(hi))))
        {
            Some((Some(lo), Some(hi))) => format!("[{lo:.3}, {hi:.3}]"),
            _ => missing(&why),
        };
        out.push_str(&format!(
            concat!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>",
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                "<td class=\"num\">{} \u{d7} {}</td><td class=\"num\">{}</td>",
                "<td class=\"num\">{}</td><td>{}</td></tr>\n"
            ),
            escape(&row.visit),
            escape(&row.zone),
            escape(&row.metric),
            escape(&row.unit),
            row.n_subjects,
            row.n_photos,
            number_or_missing(row.mean, &format_number),
            number_or_missing(row.within_sd, &format_number),
            number_or_missing(row.cv_pct, &format_percent),
            number_or_missing(row.icc, &|v| format!("{v:.3}")),
            ci,
            row.icc_targets,
            row.icc_replicates,
            number_or_missing(row.sem, &format_number),
            number_or_missing(row.mdc95, &format_number),
            escape(&row.missing),
        ));
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
}

fn gallery_section(out: &mut String, input: &ReportInput) {
    out.push_str("<section id=\"gallery\">\n<h2>QC gallery</h2>\n");
    if input.gallery.is_empty() {
        out.push_str("<p>none</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<p class=\"note\">QC pictures per subject: baseline first, then the follow-up visits. Click a picture to open it full size (from the analysis folder's qc/).</p>\n",
    );
    for subject in &input.gallery {
        out.push_str(&format!(
            "<div class=\"subject\">\n<h3>{}</h3>\n<div class=\"strip\">\n",
            text_or_missing(&subject.subject, "missing: no subject id")
        ));
        if subject.images.is_empty() {
            out.push_str(&format!(
                "<p>{} no pictures</p>\n",
                missing("missing: no pictures for this subject")
            ));
        }
        for image in &subject.images {
            let caption = escape(&image.caption);
            out.push_str("<figure>");
            match &image.jpeg {
                Some(jpeg) => {
                    let img = format!(
                        "<img alt=\"QC picture: {caption}\" src=\"data:image/jpeg;base64,{}\">",
                        base64_encode(jpeg)
                    );
                    match &image.href {
                        Some(href) => out.push_str(&format!(
                            "<a href=\"{}\" title=\"open the full-size QC picture\">{img}</a>",
                            escape(href)
                        )),
                        None => out.push_str(&img),
                    }
                }
                None => {
                    let reason = image
                        .missing_reason
                        .as_deref()
                        .filter(|r| !r.is_empty())
                        .unwrap_or("no reason given");
                    let reason = escape(reason);
                    out.push_str(&format!(
                        concat!(
                            "<div class=\"placeholder missing\" title=\"missing: {reason}\">",
                            "<span class=\"dash\">\u{2014}</span><span>{reason}</span></div>"
                        ),
                        reason = reason
                    ));
                }
            }
            out.push_str(&format!("<figcaption>{caption}</figcaption></figure>\n"));
        }
        out.push_str("</div>\n</div>\n");
    }
    out.push_str("</section>\n");
}

fn comparability_section(out: &mut String, input: &ReportInput) {
    out.push_str("<section id=\"comparability\">\n<h2>Comparability</h2>\n");
    if input.comparability.is_empty() {
        out.push_str("<p>none</p>\n</section>\n");
        return;
    }
    out.push_str(&format!(
        "<p class=\"note\">{} Each follow-up photo is compared with its baseline photo's capture \
         (sharpness, exposure, white balance, light, specular, pose, expression, scale; \
         alignment.csv gives the differences).</p>\n",
        escape(&input.comparability_note)
    ));
    out.push_str(
        "<div class=\"table-wrap\"><table>\n<thead><tr><th>subject</th><th>follow-ups</th>\
         <th>comparable</th><th>not comparable</th><th>unknown</th><th>why</th></tr></thead>\n<tbody>\n",
    );
    for r in &input.comparability {
        let mut why: Vec<String> = r
            .reasons
            .iter()
            .map(|(name, n)| format!("{name} ({n})"))
            .collect();
        why.extend(r.unknown_reasons.iter().map(|u| format!("unknown: {u}")));
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"reason\">{}</td></tr>\n",
            escape(&r.subject),
            r.pairs,
            r.comparable,
            r.noncomparable,
            r.unknown,
            escape(&why.join("; "))
        ));
    }
    out.push_str("</tbody>\n</table></div>\n</section>\n");
}

fn failures_section(out: &mut String, input: &ReportInput) {
    out.push_str("<section id=\"failures\">\n<h2>Failures</h2>\n");
    if input.failures.is_empty() {
        out.push_str("<p>none</p>\n");
    } else {
        out.push_str(&format!(
            "<p class=\"note\">{} image(s) could not be analysed.</p>\n",
            input.failures.len()
        ));
        out.push_str(
            "<div class=\"table-wrap\"><table>\n<thead><tr><th>image</th><th>reason</th></tr></thead>\n<tbody>\n",
        );
        for (image, reason) in &input.failures {
            out.push_str(&format!(
                "<tr><td>{}</td><td class=\"reason\">{}</td></tr>\n",
                escape(image),
                text_or_missing(reason, "missing: no reason given")
            ));
        }
        out.push_str("</tbody>\n</table></div>\n");
    }
    out.push_str("</section>\n");
}

/// HTML-escapes text for element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// An em dash whose `title` explains why the value is missing.
pub(crate) fn missing(reason: &str) -> String {
    format!(
        "<span class=\"missing\" title=\"{}\">\u{2014}</span>",
        escape(reason)
    )
}

fn text_or_missing(text: &str, reason: &str) -> String {
    if text.is_empty() {
        missing(reason)
    } else {
        escape(text)
    }
}

fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

fn number_or_missing(value: Option<f64>, format: impl Fn(f64) -> String) -> String {
    match value {
        Some(v) if v.is_finite() => format(v),
        Some(_) => missing("missing: not a finite number"),
        None => missing(MISSING_STAT),
    }
}

/// Four significant digits without exponent for 0.001 <= |x| < 10000, else scientific.
pub(crate) fn format_number(x: f64) -> String {
    let magnitude = x.abs();
    if magnitude == 0.0 {
        return "0".to_owned();
    }
    if !(1e-3..1e4).contains(&magnitude) {
        return format!("{x:.3e}");
    }
    let decimals = if magnitude >= 1000.0 {
        0
    } else if magnitude >= 100.0 {
        1
    } else if magnitude >= 10.0 {
        2
    } else if magnitude >= 1.0 {
        3
    } else if magnitude >= 0.1 {
        4
    } else if magnitude >= 0.01 {
        5
    } else {
        6
    };
    format!("{x:.decimals$}")
}

/// An axis tick: [`format_number`] without trailing zeros, and 0 for rounding noise around 0.
fn format_tick(x: f64, axis_span: f64) -> String {
    if x.abs() <= 1e-9 * axis_span {
        return "0".to_owned();
    }
    let text = format_number(x);
    if text.contains('.') && !text.contains('e') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A percentage: [`format_number`] and a % sign.
fn format_percent(x: f64) -> String {
    format!("{}%", format_number(x))
}

fn format_p(p: f64) -> String {
    if p < 0.001 {
        "&lt;0.001".to_owned()
    } else {
        format!("{p:.3}")
    }
}

/// Standard base64 (RFC 4648, section 4) with `=` padding.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let triple = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((triple >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Puts a plotters SVG document inline: drops the XML namespace declaration (implied for `<svg>`
/// in HTML, and the page must not contain any URL) and the fixed size (CSS scales it).
pub(crate) fn inline_svg(svg: &str, label: &str) -> String {
    let (w, h) = PLOT_SIZE;
    let fixed = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    let open = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMidYMid meet\">",
        escape(label)
    );
    match svg.strip_prefix(&fixed) {
        Some(rest) => format!("{open}{rest}"),
        // Unexpected plotters header: keep it, only dropping the namespace URL.
        None => svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1),
    }
}

/// The distinct visits of a plot in order: each new visit is placed after the previous visit of
/// the same arm, so arms with skipped visits still merge into the study's visit order.
fn visit_order(series: &MetricSeries) -> Vec<&str> {
    merged_order(
        series
            .arms
            .iter()
            .map(|arm| arm.points.iter().map(|p| p.visit.as_str()).collect()),
    )
}

/// [`visit_order`] of sequences of visits (one per arm or subject line).
fn merged_order<'a>(sequences: impl Iterator<Item = Vec<&'a str>>) -> Vec<&'a str> {
    let mut order: Vec<&str> = Vec::new();
    for sequence in sequences {
        let mut previous: Option<usize> = None;
        for visit in sequence {
            let position = match order.iter().position(|v| *v == visit) {
                Some(p) => p,
                None => {
                    let p = previous.map_or(0, |q| q + 1);
                    order.insert(p, visit);
                    p
                }
            };
            previous = Some(position);
        }
    }
    order
}

pub(crate) type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The x axis of a plot over visits: days since baseline when every point has them, else the
/// visit order 0, 1, 2, ... (integer ticks labelled with the visit names).
struct VisitAxis<'a> {
    use_days: bool,
    visits: Vec<&'a str>,
    range: std::ops::Range<f64>,
    /// Span of the days before padding (2 when every point has the same day); 0 in visit order.
    day_span: f64,
}

impl<'a> VisitAxis<'a> {
    /// `days`: every point's days since baseline; the range is padded by `day_pad` of the day
    /// span, or runs from `-order_pad.0` to `n - 1 + order_pad.1` in visit order.
    fn new(
        days: &[Option<f64>],
        visits: Vec<&'a str>,
        day_pad: f64,
        order_pad: (f64, f64),
    ) -> Self {
        let use_days = !days.is_empty() && days.iter().all(|d| finite(*d).is_some());
        let mut day_span = 0.0;
        let range = if use_days {
            let (lo, hi) = days
                .iter()
                .filter_map(|d| finite(*d))
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), d| {
                    (lo.min(d), hi.max(d))
                });
            day_span = if hi > lo { hi - lo } else { 2.0 };
            (lo - day_pad * day_span)..(hi + day_pad * day_span)
        } else {
            let n = visits.len().max(1) as f64;
            (-order_pad.0)..(n - 1.0 + order_pad.1)
        };
        Self {
            use_days,
            visits,
            range,
            day_span,
        }
    }

    /// Where a point of this visit (and days) lies on the axis.
    fn x(&self, days: Option<f64>, visit: &str) -> Option<f64> {
        if self.use_days {
            finite(days)
        } else {
            self.visits
                .iter()
                .position(|v| *v == visit)
                .map(|i| i as f64)
        }
    }

    fn span(&self) -> f64 {
        self.range.end - self.range.start
    }

    fn label(&self, x: f64) -> String {
        if self.use_days {
            format_tick(x, self.span())
        } else {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                self.visits
                    .get(i as usize)
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        }
    }
}

/// The y range of `values` (and 0 when `with_zero`), padded by 8 %; a single value gets
/// ±max(10 % of it, 1) first.
pub(crate) fn padded_y_range(values: &[f64], with_zero: bool) -> std::ops::Range<f64> {
    let start = if with_zero {
        (0.0, 0.0)
    } else {
        (f64::INFINITY, f64::NEG_INFINITY)
    };
    let (mut lo, mut hi) = values
        .iter()
        .fold(start, |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()).max(1e-300) {
        let pad = (hi.abs() * 0.1).max(1.0);
        lo -= pad;
        hi += pad;
    }
    let pad = 0.08 * (hi - lo);
    (lo - pad)..(hi + pad)
}

type Area<'b> = DrawingArea<SVGBackend<'b>, plotters::coord::Shift>;
type VisitChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The chart of a visit plot with its mesh, axis labels and descriptions drawn.
fn visit_chart<'a, 'b>(
    area: &'a Area<'b>,
    axis: &VisitAxis,
    y_range: std::ops::Range<f64>,
    y_desc: String,
) -> DrawResult<VisitChart<'a, 'b>> {
    let y_span = y_range.end - y_range.start;
    let mut chart = ChartBuilder::on(area)
        .margin_left(8)
        .margin_right(16)
        .margin_top(6)
        .margin_bottom(8)
        .x_label_area_size(52)
        .y_label_area_size(84)
        .build_cartesian_2d(axis.range.clone(), y_range)?;
    let x_label = |x: &f64| axis.label(*x);
    let y_label = |y: &f64| format_tick(*y, y_span);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(RGBColor(226, 230, 234).stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(RGBColor(120, 128, 136))
        .label_style(("sans-serif", 18))
        .axis_desc_style(("sans-serif", 18))
        .x_desc(if axis.use_days {
            "days since baseline"
        } else {
            "visit"
        })
        .y_desc(y_desc)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .x_labels(if axis.use_days {
            8
        } else {
            axis.visits.len().max(1)
        })
        .y_labels(7)
        .draw()?;
    Ok(chart)
}

/// Width of a legend entry: marker, gap and the name (at most 40 characters).
fn legend_entry_width(name: &str) -> i32 {
    48 + 9 * name.chars().count().min(40) as i32
}

/// Draws a legend entry's name (at most 40 characters) right of the marker at `(x, y)`.
fn legend_name(legend: &Area<'_>, name: &str, (x, y): (i32, i32)) -> DrawResult<()> {
    let name: String = name.chars().take(40).collect();
    legend.draw(&Text::new(
        name,
        (x + 32, y),
        TextStyle::from(("sans-serif", 19).into_font()).pos(
            plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Center,
            ),
        ),
    ))?;
    Ok(())
}

/// Draws one (metric, zone) plot as an SVG document, or `None` when there is nothing to plot.
fn series_svg(series: &MetricSeries) -> Result<Option<String>, String> {
    let values: Vec<f64> = series
        .arms
        .iter()
        .flat_map(|a| &a.points)
        .flat_map(|p| [p.mean_change, p.ci_low, p.ci_high])
        .filter_map(finite)
        .collect();
    if values.is_empty() {
        return Ok(None);
    }
    let mut svg = String::new();
    draw_series(series, &values, &mut svg).map_err(|e| e.to_string())?;
    Ok(Some(svg))
}

fn draw_series(series: &MetricSeries, values: &[f64], svg: &mut String) -> DrawResult<()> {
    let days: Vec<Option<f64>> = series
        .arms
        .iter()
        .flat_map(|a| &a.points)
        .map(|p| p.days)
        .collect();
    let axis = VisitAxis::new(&days, visit_order(series), 0.08, (0.5, 0.5));
    // Arms side by side at each visit.
    let arm_count = series.arms.len().max(1) as f64;
    let dodge = if axis.use_days {
        (0.12 * axis.day_span / arm_count).min(0.015 * axis.day_span)
    } else {
        (0.5 / arm_count).min(0.08)
    };

    let root = SVGBackend::with_string(svg, PLOT_SIZE).into_drawing_area();
    root.fill(&WHITE)?;

    // Legend strip above the chart: one entry per arm, wrapped into rows.
    let width = PLOT_SIZE.0 as i32 - 24;
    let mut rows = 1;
    let mut x = 0;
    for arm in &series.arms {
        let w = legend_entry_width(&arm.arm);
        if x > 0 && x + w > width {
            rows += 1;
            x = 0;
        }
        x += w;
    }
    let legend_height = 12 + 24 * rows as u32;
    let (legend, plot) = root.split_vertically(legend_height);
    let (mut lx, mut ly) = (56, 18);
    for (i, arm) in series.arms.iter().enumerate() {
        let colour = arm_colour(i);
        let w = legend_entry_width(&arm.arm);
        if lx > 56 && lx + w > width {
            lx = 56;
            ly += 24;
        }
        legend.draw(&PathElement::new(
            vec![(lx, ly), (lx + 26, ly)],
            colour.stroke_width(2),
        ))?;
        legend.draw(&Circle::new((lx + 13, ly), 4, colour.filled()))?;
        legend_name(&legend, &arm.arm, (lx, ly))?;
        lx += w;
    }

    let unit = if series.unit.is_empty() {
        String::new()
    } else {
        format!(" ({})", series.unit)
    };
    let mut chart = visit_chart(
        &plot,
        &axis,
        padded_y_range(values, true),
        format!("change in {}{unit}", series.metric),
    )?;

    // Zero line: no change from baseline.
    chart.draw_series(LineSeries::new(
        vec![(axis.range.start, 0.0), (axis.range.end, 0.0)],
        RGBColor(110, 110, 110).stroke_width(1),
    ))?;

    let arm_count_f = series.arms.len() as f64;
    for (i, arm) in series.arms.iter().enumerate() {
        let colour = arm_colour(i);
        let offset = (i as f64 - (arm_count_f - 1.0) / 2.0) * dodge;
        let placed: Vec<(f64, &SeriesPoint)> = arm
            .points
            .iter()
            .filter_map(|p| axis.x(p.days, &p.visit).map(|x| (x + offset, p)))
            .collect();
        // Lines join consecutive points with a value; a missing point breaks the line.
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
        for (x, p) in &placed {
            match finite(p.mean_change) {
                Some(y) => run.push((*x, y)),
                None => {
                    if !run.is_empty() {
                        runs.push(std::mem::take(&mut run));
                    }
                }
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        for run in runs {
            chart.draw_series(LineSeries::new(run, colour.stroke_width(2)))?;
        }
        // Error bars only where the mean and both bounds exist (plotters also rings the mean).
        chart.draw_series(placed.iter().filter_map(|(x, p)| {
            match (finite(p.ci_low), finite(p.mean_change), finite(p.ci_high)) {
                (Some(lo), Some(mean), Some(hi)) => Some(ErrorBar::new_vertical(
                    *x,
                    lo,
                    mean,
                    hi,
                    colour.stroke_width(2),
                    10,
                )),
                _ => None,
            }
        }))?;
        chart.draw_series(placed.iter().filter_map(|(x, p)| {
            finite(p.mean_change).map(|y| Circle::new((*x, y), 5, colour.filled()))
        }))?;
    }
    root.present()?;
    Ok(())
}

/// Draws one per-subject plot as an SVG document, or `None` when no subject has a value.
fn subjects_svg(plot: &SubjectPlot) -> Result<Option<String>, String> {
    let values: Vec<f64> = plot
        .lines
        .iter()
        .flat_map(|l| &l.points)
        .filter_map(|p| finite(p.value))
        .collect();
    if values.is_empty() {
        return Ok(None);
    }
    let mut svg = String::new();
    draw_subjects(plot, &values, &mut svg).map_err(|e| e.to_string())?;
    Ok(Some(svg))
}

fn draw_subjects(plot: &SubjectPlot, values: &[f64], svg: &mut String) -> DrawResult<()> {
    let days: Vec<Option<f64>> = plot
        .lines
        .iter()
        .flat_map(|l| &l.points)
        .map(|p| p.days)
        .collect();
    let visits = merged_order(
        plot.lines
            .iter()
            .map(|l| l.points.iter().map(|p| p.visit.as_str()).collect()),
    );
    let axis = VisitAxis::new(&days, visits, 0.06, (0.3, 0.3));

    let root = SVGBackend::with_string(svg, PLOT_SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (legend, area) = root.split_vertically(36);
    let mut lx = 56;
    for (i, arm) in plot.arms.iter().enumerate() {
        let style = arm_colour(i).stroke_width(2);
        if i == 0 {
            legend.draw(&PathElement::new(vec![(lx, 18), (lx + 26, 18)], style))?;
        } else {
            legend.draw(&plotters::element::DashedPathElement::new(
                vec![(lx, 18), (lx + 26, 18)],
                6,
                4,
                style,
            ))?;
        }
        legend_name(&legend, arm, (lx, 18))?;
        lx += legend_entry_width(arm);
    }
    let unit = if plot.unit.is_empty() {
        String::new()
    } else {
        format!(" ({})", plot.unit)
    };
    let mut chart = visit_chart(
        &area,
        &axis,
        padded_y_range(values, false),
        format!("{}{unit}", plot.metric),
    )?;
    for line in &plot.lines {
        let arm = plot.arms.iter().position(|a| *a == line.arm).unwrap_or(0);
        let style = arm_colour(arm).stroke_width(2);
        // A missing value breaks the line.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for p in &line.points {
            match (axis.x(p.days, &p.visit), finite(p.value)) {
                (Some(x), Some(y)) => runs.last_mut().expect("one run").push((x, y)),
                _ => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            if arm == 0 {
                chart.draw_series(LineSeries::new(run.clone(), style))?;
            } else {
                chart.draw_series(DashedLineSeries::new(run.clone(), 6, 4, style))?;
            }
            chart.draw_series(
                run.iter()
                    .map(|&(x, y)| Circle::new((x, y), 3, arm_colour(arm).filled())),
            )?;
        }
    }
    root.present()?;
    Ok(())
}

fn arm_colour(index: usize) -> RGBColor {
    let (r, g, b) = PALETTE[index % PALETTE.len()];
    RGBColor(r, g, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(
        visit: &str,
        days: Option<f64>,
        mean: Option<f64>,
        ci: Option<(f64, f64)>,
    ) -> SeriesPoint {
        SeriesPoint {
            visit: visit.to_owned(),
            days,
            mean_change: mean,
            ci_low: ci.map(|c| c.0),
            ci_high: ci.map(|c| c.1),
            n: 5,
        }
    }

    fn subject_point(visit: &str, days: Option<f64>, value: Option<f64>) -> SubjectPoint {
        SubjectPoint {
            visit: visit.to_owned(),
            days,
            value,
        }
    }

    fn sample() -> ReportInput<'static> {
        ReportInput {
            title: "study.csv".to_owned(),
            generated_at: "2026-11-27T10:00:00Z".to_owned(),
            skintex_version: "0.1.0",
            summary: vec![
                ("subjects".to_owned(), "2".to_owned()),
                ("needle depths".to_owned(), String::new()),
            ],
            primary_test: PrimaryTest::PairedT,
            methods: vec![(
                "Calibration".to_owned(),
                "cli: 2 photos, 20 px/mm".to_owned(),
            )],
            stats_csv: Some("stats.csv".to_owned()),
            repeatability: Vec::new(),
            repeatability_csv: None,
            subjects: vec![SubjectPlot {
                metric: "rough_sq".to_owned(),
                zone: "forehead".to_owned(),
                unit: "mm".to_owned(),
                arms: vec!["placebo".to_owned(), "active".to_owned()],
                lines: vec![
                    SubjectLine {
                        subject: "S01".to_owned(),
                        arm: "active".to_owned(),
                        points: vec![
                            subject_point("baseline", Some(0.0), Some(0.30)),
                            subject_point("week4", Some(28.0), None),
                            subject_point("week12", Some(84.0), Some(0.25)),
                        ],
                    },
                    SubjectLine {
                        subject: "S01".to_owned(),
                        arm: "placebo".to_owned(),
                        points: vec![
                            subject_point("baseline", Some(0.0), Some(0.31)),
                            subject_point("week4", Some(28.0), Some(0.32)),
                            subject_point("week12", Some(84.0), Some(0.30)),
                        ],
                    },
                ],
            }],
            series: vec![MetricSeries {
                metric: "rough_sq".to_owned(),
                zone: "forehead".to_owned(),
                unit: "mm".to_owned(),
                arms: vec![
                    ArmSeries {
                        arm: "placebo".to_owned(),
                        points: vec![
                            point("week4", Some(28.0), Some(0.01), Some((-0.01, 0.03))),
                            point("week12", Some(84.0), None, None),
                        ],
                    },
                    ArmSeries {
                        arm: "active".to_owned(),
                        points: vec![
                            point("week4", Some(28.0), Some(-0.02), Some((-0.04, 0.0))),
                            point("week12", Some(84.0), Some(-0.05), Some((-0.08, -0.02))),
                        ],
                    },
                ],
            }],
            table: vec![
                StatsRow {
                    comparison: "change".to_owned(),
                    arm: "active".to_owned(),
                    zone: "forehead".to_owned(),
                    metric: "rough_sq".to_owned(),
                    visit: "week12".to_owned(),
                    n: 5,
                    mean_baseline: Some(0.3),
                    mean_change: Some(-0.05),
                    mean_pct_change: Some(-16.5),
                    ci_low: Some(-0.08),
                    ci_high: Some(-0.02),
                    p_t: Some(0.002),
                    p_t_holm: Some(0.01),
                    p_wilcoxon: Some(0.0004),
                    p_wilcoxon_holm: Some(0.2),
                    hedges_g: Some(-1.234),
                },
                StatsRow {
                    comparison: "change".to_owned(),
                    arm: "placebo".to_owned(),
                    zone: "forehead".to_owned(),
                    metric: "rough_sq".to_owned(),
                    visit: "week12".to_owned(),
                    n: 1,
                    ..StatsRow::default()
                },
            ],
            gallery: vec![GallerySubject {
                subject: "S01".to_owned(),
                images: vec![
                    GalleryImage {
                        caption: "baseline".to_owned(),
                        jpeg: Some(vec![0xFF, 0xD8, 0xFF, 0xD9]),
                        href: Some("qc/S01-baseline.jpg".to_owned()),
                        missing_reason: None,
                    },
                    GalleryImage {
                        caption: "week4".to_owned(),
                        jpeg: None,
                        href: None,
                        missing_reason: Some("decode failed".to_owned()),
                    },
                ],
            }],
            failures: vec![("S01/week4.jpg".to_owned(), "decode failed".to_owned())],
            comparability: vec![ComparabilityRow {
                subject: "S01".to_owned(),
                pairs: 2,
                comparable: 1,
                noncomparable: 1,
                unknown: 0,
                unknown_reasons: Vec::new(),
                reasons: vec![("exposure".to_owned(), 1)],
            }],
            comparability_note: "1 of 2 follow-up photos not comparable with their baseline: \
                                 excluded from stats.csv"
                .to_owned(),
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64_encode(plain.as_bytes()), encoded, "{plain:?}");
        }
        assert_eq!(base64_encode(&[0xFF, 0xFE, 0xFD]), "//79");
    }

    #[test]
    fn user_text_is_escaped_everywhere() {
        let evil = "<script>alert('x')</script>&\"";
        let mut input = sample();
        input.title = evil.to_owned();
        input.summary.push((evil.to_owned(), evil.to_owned()));
        input.series[0].metric = evil.to_owned();
        input.series[0].zone = evil.to_owned();
        input.series[0].arms[0].arm = evil.to_owned();
        input.table[0].arm = evil.to_owned();
        input.gallery[0].subject = evil.to_owned();
        input.gallery[0].images[0].caption = evil.to_owned();
        input.gallery[0].images[1].missing_reason = Some(evil.to_owned());
        input.failures.push((evil.to_owned(), evil.to_owned()));
        let html = render_report(&input);
        assert!(!html.contains("<script"), "raw script tag in output");
        assert!(!html.contains("alert('x')"), "unescaped quote");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
        // The legend inside the SVG is escaped by plotters.
        assert!(html.contains("&lt;script&gt;alert(&apos;x&apos;)"));
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
        // Escaped once, not twice.
        assert!(!html.contains("&amp;lt;"));
    }

    #[test]
    fn repeatability_section_only_with_replicates() {
        let html = render_report(&sample());
        assert!(!html.contains("repeatability"), "no replicates, no section");
        let mut input = sample();
        input.repeatability_csv = Some("repeatability.csv".to_owned());
        input.repeatability = vec![RepeatabilityRow {
            visit: "baseline".to_owned(),
            zone: "full".to_owned(),
            metric: "rough_sq".to_owned(),
            unit: "1".to_owned(),
            n_subjects: 1,
            n_photos: 3,
            mean: Some(0.05),
            within_sd: Some(0.001),
            cv_pct: Some(2.0),
            icc: None,
            icc_ci: None,
            icc_targets: 1,
            icc_replicates: 3,
            sem: None,
            mdc95: None,
            missing: "icc: fewer than 2 subjects with every replicate".to_owned(),
        }];
        let html = render_report(&input);
        assert_eq!(html.matches("<section id=\"repeatability\">").count(), 1);
        assert!(html.contains("<a href=\"#repeatability\">Repeatability</a>"));
        assert!(html.contains("<a href=\"repeatability.csv\">repeatability.csv</a>"));
        let start = html.find("<section id=\"repeatability\">").unwrap();
        let section = &html[start..start + html[start..].find("</section>").unwrap()];
        assert!(
            section.contains("<td class=\"num\">2.000%</td>"),
            "{section}"
        );
        assert!(section.contains("title=\"missing: icc: fewer than 2 subjects"));
        // The missing ICC is a dash with a reason, never 0.
        assert_eq!(section.matches("\u{2014}</span>").count(), 4, "{section}");
        assert!(section.contains("icc: fewer than 2 subjects"));
    }

    #[test]
    fn comparability_section_counts_pairs_and_reasons_per_subject() {
        let html = render_report(&sample());
        let start = html.find("<section id=\"comparability\">").unwrap();
        let section = &html[start..start + html[start..].find("</section>").unwrap()];
        assert!(section.contains("excluded from stats.csv"), "{section}");
        assert!(
            section.contains("<tr><td>S01</td><td>2</td><td>1</td><td>1</td><td>0</td><td class=\"reason\">exposure (1)</td></tr>"),
            "{section}"
        );
    }

    #[test]
    fn all_sections_present_with_plot_and_no_urls() {
        let html = render_report(&sample());
        for id in [
            "summary",
            "methods",
            "plots",
            "subjects",
            "results",
            "comparability",
            "gallery",
            "failures",
        ] {
            assert_eq!(
                html.matches(&format!("<section id=\"{id}\">")).count(),
                1,
                "{id}"
            );
        }
        assert_eq!(html.matches("<svg ").count(), 2);
        assert!(html.contains("<figure id=\"plot-1\">"));
        assert!(html.contains("<figure id=\"subjects-1\">"));
        assert!(html.contains("data:image/jpeg;base64,/9j/2Q==\""));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!html.contains("<script") && !html.contains("<link"));
        // Legend entries and axis descriptions are in the SVG.
        assert!(html.contains(">\nplacebo\n</text>") && html.contains(">\nactive\n</text>"));
        assert!(html.contains("change in rough_sq (mm)"));
        assert!(html.contains("days since baseline"));
        // Significant row highlighted, the other not.
        assert_eq!(html.matches("<tr class=\"sig\"").count(), 1);
        assert!(html.contains("<td class=\"num holm\">0.010</td>"));
        assert!(html.contains("<td class=\"num\">&lt;0.001</td>"));
        assert!(html.contains("[-0.08000, -0.02000]"));
        assert!(html.contains("<td class=\"num\">-1.23</td>"));
    }

    #[test]
    fn missing_values_are_em_dashes_with_reasons_never_zero() {
        let html = render_report(&sample());
        let placebo_row = html
            .split("<tr>")
            .find(|r| r.contains("<td>placebo</td>"))
            .and_then(|r| r.split("</tr>").next())
            .expect("placebo row");
        // Baseline mean, mean, % change, CI, 4 p-values, g: nine missing cells, each an em dash
        // with a title.
        assert_eq!(
            placebo_row
                .matches("class=\"missing\" title=\"missing: ")
                .count(),
            9
        );
        assert_eq!(placebo_row.matches('\u{2014}').count(), 9);
        assert!(!placebo_row.contains(">0<") && !placebo_row.contains(">0.000<"));
        // Empty summary value and missing gallery image.
        assert!(html.contains("<dt>needle depths</dt><dd><span class=\"missing\" title=\"missing: no value\">\u{2014}</span></dd>"));
        assert!(html.contains("title=\"missing: decode failed\""));
        // Non-finite numbers are missing too.
        let mut input = sample();
        input.table[0].hedges_g = Some(f64::NAN);
        let html = render_report(&input);
        assert!(html.contains("title=\"missing: not a finite number\""));
        assert!(!html.contains("NaN"));
    }

    #[test]
    fn missing_point_is_not_drawn_at_zero() {
        // Only the placebo arm, whose week12 point is missing: one circle (week4) is drawn.
        let mut input = sample();
        input.series[0].arms.remove(1);
        let svg = series_svg(&input.series[0])
            .expect("drawn")
            .expect("has values");
        // Filled data markers have r=5 (the legend marker r=4, error bars ring the mean unfilled).
        const MARKER: &str = "r=\"5\" opacity=\"1\" fill=\"#";
        assert_eq!(svg.matches(MARKER).count(), 1, "{svg}");
        let svg_full = series_svg(&sample().series[0]).unwrap().unwrap();
        assert_eq!(svg_full.matches(MARKER).count(), 3);
    }

    #[test]
    fn rendering_is_deterministic() {
        let a = render_report(&sample());
        let b = render_report(&sample().clone());
        assert_eq!(a, b);
        assert!(a.contains("2026-11-27T10:00:00Z"));
    }

    #[test]
    fn empty_study_renders() {
        let input = ReportInput::default();
        let html = render_report(&input);
        // The methods always say how the statistics are made.
        assert!(html.contains("<dt>Primary test</dt><dd>paired t test"));
        for id in [
            "summary",
            "plots",
            "subjects",
            "results",
            "comparability",
            "gallery",
            "failures",
        ] {
            let start = html.find(&format!("<section id=\"{id}\">")).expect(id);
            let section = &html[start..start + html[start..].find("</section>").unwrap()];
            assert!(section.contains("<p>none</p>"), "{id}: {section}");
        }
        assert!(html.ends_with("</html>\n"));
        // A series with no values gives a note, not an empty plot.
        let input = ReportInput {
            series: vec![MetricSeries {
                metric: "lines_length_mm".to_owned(),
                zone: "crow".to_owned(),
                unit: "mm".to_owned(),
                arms: vec![ArmSeries {
                    arm: "a".to_owned(),
                    points: vec![point("v1", None, None, None)],
                }],
            }],
            ..ReportInput::default()
        };
        let html = render_report(&input);
        assert!(html.contains("no values to plot") && !html.contains("<svg"));
    }

    #[test]
    fn visits_merge_in_study_order() {
        let series = MetricSeries {
            arms: vec![
                ArmSeries {
                    arm: "a".to_owned(),
                    points: vec![point("w0", None, None, None), point("w8", None, None, None)],
                },
                ArmSeries {
                    arm: "b".to_owned(),
                    points: vec![
                        point("w0", None, None, None),
                        point("w4", None, None, None),
                        point("w8", None, None, None),
                        point("w12", None, None, None),
                    ],
                },
            ],
            ..MetricSeries::default()
        };
        assert_eq!(visit_order(&series), ["w0", "w4", "w8", "w12"]);

        // Without days, the x axis is the visit order, labelled with the visit names.
        let mut input = sample();
        for arm in &mut input.series[0].arms {
            for p in &mut arm.points {
                p.days = None;
            }
        }
        let svg = series_svg(&input.series[0]).unwrap().unwrap();
        assert!(svg.contains(">\nweek4\n</text>") && svg.contains(">\nweek12\n</text>"));
        assert!(svg.contains(">\nvisit\n</text>") && !svg.contains("days since baseline"));
    }

    /// Issue 18 item 5: every p column names its test, the primary test's Holm column is marked,
    /// and the highlight follows the primary test: the row with paired t Holm p 0.01 and
    /// Wilcoxon Holm p 0.2 is highlighted when t is primary, not when Wilcoxon is.
    #[test]
    fn headers_name_the_test_and_the_highlight_follows_the_primary_test() {
        let mut input = sample();
        let html = render_report(&input);
        let header = |html: &str| -> String {
            let start = html.find("<thead>").unwrap();
            html[start..start + html[start..].find("</thead>").unwrap()].to_owned()
        };
        let t_header = header(&html);
        let order = [
            "<th>p (paired t)</th>",
            "<th class=\"primary\" title=\"primary test: rows are highlighted on this column\">p (paired t, Holm)<span class=\"tag\">primary</span></th>",
            "p (Wilcoxon signed-rank)<span class=\"tag\">sensitivity</span>",
            "p (Wilcoxon signed-rank, Holm)<span class=\"tag\">sensitivity</span>",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|h| {
                t_header
                    .find(h)
                    .unwrap_or_else(|| panic!("{h} in {t_header}"))
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{t_header}");
        assert!(!t_header.contains(">p (Holm)<"), "an unnamed Holm column");
        for header in ["baseline mean", "% change"] {
            assert!(t_header.contains(&format!("<th>{header}</th>")), "{header}");
        }
        assert_eq!(html.matches("<tr class=\"sig\"").count(), 1);
        assert!(html.contains("Primary test: <strong>paired t</strong>"));
        assert!(html.contains("<td class=\"num holm\">0.010</td>"));
        assert!(html.contains("<td class=\"num\">0.3000</td>")); // baseline mean
        assert!(html.contains("<td class=\"num\">-16.50%</td>")); // % change
        assert!(html.contains("<a href=\"stats.csv\">stats.csv</a>"));

        input.primary_test = PrimaryTest::Wilcoxon;
        let html = render_report(&input);
        let w_header = header(&html);
        assert!(
            w_header.contains("p (Wilcoxon signed-rank, Holm)<span class=\"tag\">primary</span>")
        );
        assert!(w_header.contains("p (paired t, Holm)<span class=\"tag\">sensitivity</span>"));
        assert!(
            w_header.find("p (Wilcoxon signed-rank)").unwrap()
                < w_header.find("p (paired t)").unwrap()
        );
        assert_eq!(
            html.matches("<tr class=\"sig\"").count(),
            0,
            "Wilcoxon Holm p is 0.2"
        );
        assert!(html.contains("<td class=\"num holm\">0.200</td>"));
        assert!(html.contains("Primary test: <strong>Wilcoxon signed-rank</strong>"));
    }

    /// The report explains Holm's family in the data dictionary's words (they used to disagree:
    /// "over all tests" against "within the family").
    #[test]
    fn holm_family_is_explained_as_the_data_dictionary_does() {
        let html = render_report(&sample());
        let dictionary = crate::output::dictionary::data_dictionary_markdown(&[]);
        assert!(HOLM_FAMILY.contains("pores") && HOLM_FAMILY.contains("visit"));
        assert!(html.contains(&escape(HOLM_FAMILY)), "report");
        assert!(
            dictionary.contains(&format!("p_t, Holm-adjusted {HOLM_FAMILY}")),
            "dictionary"
        );
        assert!(dictionary.contains(&format!("p_wilcoxon, Holm-adjusted {HOLM_FAMILY}")));
        assert!(!html.contains("over all tests"));
        // Methods: the caller's lines first, then the statistical methods.
        let methods = &html[html.find("<section id=\"methods\"").unwrap()..];
        let methods = &methods[..methods.find("</section>").unwrap()];
        assert!(
            methods.find("<dt>Calibration</dt>").unwrap()
                < methods.find("<dt>Primary test</dt>").unwrap()
        );
        assert!(methods.contains("paired t test (the default rule"));
    }

    /// Per-subject lines: one polyline per subject and arm, the control arm dashed, a missing
    /// visit breaks the line and is not drawn at 0.
    #[test]
    fn subject_plot_breaks_at_missing_values_and_dashes_the_second_arm() {
        let plot = &sample().subjects[0];
        let svg = subjects_svg(plot).unwrap().unwrap();
        // 5 values: 2 (active, week4 missing) + 3 (placebo), markers r=3.
        assert_eq!(
            svg.matches("r=\"3\" opacity=\"1\" fill=\"#").count(),
            5,
            "{svg}"
        );
        // The active arm (second in the legend) is dashed; its two points are separate runs, so
        // no line joins them; the placebo line is one solid polyline of 3 points.
        assert!(svg.contains("stroke-dasharray") || svg.matches("<polyline").count() >= 2);
        assert!(svg.contains(">\nactive\n</text>") && svg.contains(">\nplacebo\n</text>"));
        let empty = SubjectPlot {
            lines: vec![SubjectLine {
                points: vec![subject_point("v1", None, None)],
                ..SubjectLine::default()
            }],
            ..SubjectPlot::default()
        };
        assert!(subjects_svg(&empty).unwrap().is_none());
    }

    #[test]
    fn gallery_thumbnails_link_to_the_full_size_picture() {
        let html = render_report(&sample());
        assert!(html.contains(
            "<a href=\"qc/S01-baseline.jpg\" title=\"open the full-size QC picture\"><img alt=\"QC picture: baseline\" src=\"data:image/jpeg;base64,"
        ));
        // The missing picture has no link.
        assert_eq!(
            html.matches("title=\"open the full-size QC picture\"")
                .count(),
            1
        );
    }

    #[test]
    fn numbers_have_four_significant_digits() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(1.23456), "1.235");
        assert_eq!(format_number(-12.3456), "-12.35");
        assert_eq!(format_number(0.0123456), "0.01235");
        assert_eq!(format_number(1234.56), "1235");
        assert_eq!(format_number(0.00001234), "1.234e-5");
        assert_eq!(format_tick(-0.0100, 0.05), "-0.01");
        assert_eq!(format_tick(20.0, 90.0), "20");
        assert_eq!(format_tick(5.5e-17, 0.05), "0");
        assert_eq!(format_tick(1.5e-5, 1e-4), "1.500e-5");
        assert_eq!(format_p(0.0449), "0.045");
        assert_eq!(format_p(0.0001), "&lt;0.001");
    }
}
