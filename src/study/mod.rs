//! Study stage: longitudinal analysis of a study manifest on top of `metrics.csv`.
//!
//! ```text
//! study manifest -> design (validated)            metrics.csv, landmarks.csv, images.csv, qc/
//!        \______________________ changes (per subject) ____/
//!                                  -> stats (per arm, split-face contrast) -> report.html
//! ```
//!
//! `skintex study --metrics OUT/metrics.csv --manifest study.csv --out DIR` (or
//! `skintex analyze --manifest study.csv --study`) writes `changes.csv`, `stats.csv`,
//! `alignment.csv`, `report.html` and `study.json`, and `repeatability.csv` when the manifest has
//! replicates ([`repeatability`]).

pub mod align;
pub mod changes;
pub mod comparability;
pub mod design;
pub mod repeatability;
pub mod report;
pub mod stats;

use std::path::{Path, PathBuf};

pub use report::PrimaryTest;

use changes::{
    AlignmentCell, Change, MetricsTable, StatsRow, baseline_of, changes_csv, compute_changes,
    compute_stats, stats_csv,
};
use comparability::{ComparabilityLimits, Comparison, compare_photos, read_capture};
use design::{DesignError, StudyDesign, read_design};

use crate::metrics::{ColumnSpec, spec};
use crate::output::provenance::now_iso8601;
use crate::output::tables::{Column, csv_bytes};
use crate::output::{format_number, write_atomic};

/// Settings of a study run.
#[derive(Debug, Clone)]
pub struct StudySettings {
    pub manifest: PathBuf,
    pub metrics: PathBuf,
    pub out_dir: PathBuf,
    /// Label of the baseline visit.
    pub baseline: String,
    /// `(A, B)` for split-face differences `change(A) − change(B)`; `None` for no contrast.
    pub contrast: Option<(String, String)>,
    /// Whether the contrast was asked for explicitly (an unknown arm is then an error).
    pub contrast_explicit: bool,
    pub max_alignment_mm: f64,
    /// Limits of the comparability checks.
    pub limits: ComparabilityLimits,
    /// Leave non-comparable pairs out of the statistics (`--exclude-noncomparable`).
    pub exclude_noncomparable: bool,
    /// The test whose Holm-adjusted p the report highlights on (`--test`).
    pub primary_test: PrimaryTest,
    pub command_line: Vec<String>,
}

impl StudySettings {
    /// Validate the study options.
    ///
    /// # Errors
    /// A message naming the option.
    pub fn new(
        manifest: PathBuf,
        metrics: PathBuf,
        out_dir: PathBuf,
        options: &crate::cli::StudyOptions,
        command_line: Vec<String>,
    ) -> Result<Self, StudyError> {
        if !(options.max_alignment_mm.is_finite() && options.max_alignment_mm > 0.0) {
            return Err(StudyError::Input(format!(
                "--max-alignment-mm must be a positive number, got {}",
                options.max_alignment_mm
            )));
        }
        let limits = ComparabilityLimits {
            max_sharpness_change: options.max_sharpness_change,
            max_exposure_change_ev: options.max_exposure_change_ev,
            max_white_balance_change: options.max_white_balance_change,
            max_light_change: options.max_light_change,
            max_specular_change: options.max_specular_change,
            max_pose_change_deg: options.max_pose_change_deg,
            max_expression_change: options.max_expression_change,
            max_scale_change: options.max_scale_change,
        };
        for (flag, v) in [
            ("--max-sharpness-change", limits.max_sharpness_change),
            ("--max-exposure-change-ev", limits.max_exposure_change_ev),
            (
                "--max-white-balance-change",
                limits.max_white_balance_change,
            ),
            ("--max-light-change", limits.max_light_change),
            ("--max-specular-change", limits.max_specular_change),
            ("--max-pose-change-deg", limits.max_pose_change_deg),
            ("--max-expression-change", limits.max_expression_change),
            ("--max-scale-change", limits.max_scale_change),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(StudyError::Input(format!(
                    "{flag} must be a number >= 0, got {v}"
                )));
            }
        }
        let (contrast, contrast_explicit) = match options.contrast.as_deref() {
            None => (Some(("treated".to_owned(), "control".to_owned())), false),
            Some("none") => (None, true),
            Some(c) => match c.split_once('-') {
                Some((a, b)) if !a.is_empty() && !b.is_empty() => {
                    (Some((a.to_owned(), b.to_owned())), true)
                }
                _ => {
                    return Err(StudyError::Input(format!(
                        "--contrast must be A-B (two arm labels) or none, got `{c}`"
                    )));
                }
            },
        };
        Ok(Self {
            manifest,
            metrics,
            out_dir,
            baseline: options.baseline.clone(),
            contrast,
            contrast_explicit,
            max_alignment_mm: options.max_alignment_mm,
            limits,
            exclude_noncomparable: options.exclude_noncomparable,
            primary_test: options.test,
            command_line,
        })
    }
}

/// Why a study cannot run (exit code 2), or its outputs cannot be written (3).
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error(transparent)]
    Design(#[from] DesignError),
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Write(#[from] std::io::Error),
}

/// The files a study writes into its output folder (`repeatability.csv` only when the manifest
/// has replicates).
pub const STUDY_OUTPUTS: &[&str] = &[
    "changes.csv",
    "stats.csv",
    "alignment.csv",
    "repeatability.csv",
    "report.html",
    "study.json",
];

/// What a study run found.
#[derive(Debug, Clone, PartialEq)]
pub struct StudySummary {
    pub photos: usize,
    pub subjects: usize,
    pub changes: usize,
    pub stats_rows: usize,
    /// Rows of `repeatability.csv` (0: no replicates, not written).
    pub repeatability_rows: usize,
    /// Photos without results (failed analysis, missing file, not in metrics.csv).
    pub failed: usize,
}

/// Metrics drawn in the report (when present), in this order; the first of each family is the
/// family's per-subject plot.
const HEADLINE_METRICS: &[&str] = &[
    "lines_length_mm",
    "lines_density_mm_per_cm2",
    "rough_sq",
    "rough_sa",
    "scars_count",
    "scars_area_fraction",
    "pores_density_per_cm2",
    "tone_l_mean",
    "tone_ita_deg",
    "tone_erythema_index",
];

/// Per follow-up photo: the alignment to its baseline, or why there is none.
fn alignments(
    design: &StudyDesign,
    table: &MetricsTable,
    landmarks: Option<&std::collections::BTreeMap<String, Vec<[f64; 2]>>>,
    max_mm: f64,
) -> Vec<Option<(Option<align::Similarity>, AlignmentCell)>> {
    design
        .photos
        .iter()
        .map(|p| {
            if p.is_baseline {
                return None;
            }
            let b = &design.photos[baseline_of(design, p)?];
            let Some(lm) = landmarks else {
                return Some((None, Err("no landmarks.csv beside metrics.csv".into())));
            };
            let (Some(lp), Some(lq)) = (lm.get(&p.image_id), lm.get(&b.image_id)) else {
                return Some((
                    None,
                    Err("no face landmarks (close-up or no face found)".into()),
                ));
            };
            let Some(fit) = align::fit_similarity(lp, lq) else {
                return Some((None, Err("landmarks degenerate".into())));
            };
            let ppm = table
                .rows
                .iter()
                .find(|r| r.image_id == b.image_id)
                .and_then(|r| r.px_per_mm);
            Some(match ppm {
                Some(ppm) => {
                    let mm = fit.rms_px / ppm;
                    (Some(fit), Ok((mm, mm > max_mm)))
                }
                None => (Some(fit), Err("baseline uncalibrated".into())),
            })
        })
        .collect()
}

const ALIGNMENT_COLUMNS: &[ColumnSpec] = &[
    spec("subject", "", "Subject."),
    spec("visit", "", "Follow-up visit."),
    spec("side", "", "Side (left, right, both)."),
    spec("view", "", "Camera view."),
    spec("image_id", "", "Follow-up photo."),
    spec(
        "baseline_image_id",
        "",
        "Baseline photo of the same subject, side and view.",
    ),
    spec(
        "scale",
        "1",
        "Scale of the similarity transform from follow-up to baseline landmarks.",
    ),
    spec(
        "rotation_deg",
        "deg",
        "Rotation of that transform (image axes, y down).",
    ),
    spec(
        "residual_px",
        "px",
        "RMS landmark distance after the transform, baseline px.",
    ),
    spec("residual_mm", "mm", "residual_px / baseline px_per_mm."),
    spec(
        "flag",
        "",
        "`poor` when residual_mm exceeds --max-alignment-mm.",
    ),
    spec("reason", "", "Why the alignment is empty."),
    spec(
        "d_sharpness_log2",
        "1",
        "log2 of the follow-up's capture_sharpness over the baseline's (negative: blurrier). Differences are follow-up minus baseline; src/study/comparability.rs defines each.",
    ),
    spec(
        "d_exposure_ev",
        "EV",
        "Exposure change: log2 of the luminance of the follow-up's capture_l_median over the baseline's.",
    ),
    spec(
        "d_white_balance",
        "1",
        "Colour cast change: sqrt(dln(R/G)^2 + dln(B/G)^2) of capture_wb_r_over_g and capture_wb_b_over_g.",
    ),
    spec(
        "d_light_relief",
        "1",
        "Light direction change: distance between the relief light vectors (capture_light_relief_coherence at twice capture_light_relief_deg).",
    ),
    spec(
        "d_light_uniformity",
        "1",
        "Distance between the luminance gradient vectors (capture_light_gradient_pct at capture_light_gradient_deg) / 100.",
    ),
    spec(
        "d_light_face",
        "1",
        "Face: the larger |ln| change of the left/right and top/bottom luminance ratios.",
    ),
    spec("d_specular", "1", "Change of capture_specular_share."),
    spec("d_yaw_deg", "deg", "Face: change of capture_yaw_deg."),
    spec("d_pitch_deg", "deg", "Face: change of capture_pitch_deg."),
    spec(
        "d_expression",
        "1",
        "Face: the largest |change| of capture_mouth_open, capture_smile, capture_brows_raised and capture_eye_opening.",
    ),
    spec(
        "d_roll_deg",
        "deg",
        "Face: change of capture_roll_deg (reported; the zones follow an in-plane rotation, so it is not checked).",
    ),
    COMPARABLE,
    COMPARABILITY_REASONS,
];

/// `comparable` of changes.csv and alignment.csv.
pub const COMPARABLE: ColumnSpec = spec(
    "comparable",
    "",
    "`true` when the follow-up was taken like its baseline photo (every capture difference within the limits of skintex study: sharpness, exposure, white balance, light, specular, pose, expression, scale), `false` when not; empty when it cannot be judged (comparability_reasons says why).",
);

/// `comparability_reasons` of changes.csv and alignment.csv.
pub const COMPARABILITY_REASONS: ColumnSpec = spec(
    "comparability_reasons",
    "",
    "The failed checks with the difference and its limit (`exposure: exposure change EV -1.0 beyond 0.33`), then `not checked: ...` for checks whose values are missing; or why comparability is unknown.",
);

/// The comparability cells of a follow-up: with `differences`, every difference of
/// alignment.csv first; then `comparable` and `comparability_reasons`.
pub(crate) fn comparison_cells(c: Option<&Comparison>, differences: bool) -> Vec<String> {
    let f = |v: Option<f64>| v.map(format_number).unwrap_or_default();
    let mut cells = Vec::new();
    if differences {
        match c {
            Some(c) => {
                cells.extend(c.differences.iter().map(|v| f(*v)));
                cells.push(f(c.d_roll_deg));
            }
            None => cells.extend(vec![
                String::new();
                comparability::DIFFERENCE_NAMES.len() + 1
            ]),
        }
    }
    match c {
        Some(c) => {
            cells.push(match c.comparable {
                Some(true) => "true".to_owned(),
                Some(false) => "false".to_owned(),
                None => String::new(),
            });
            cells.push(c.reasons.clone());
        }
        None => cells.extend([String::new(), String::new()]),
    }
    cells
}

/// The study tables with their columns, for the data dictionary.
pub fn study_tables() -> Vec<(&'static str, Vec<Column>)> {
    let cols = |specs: &[ColumnSpec]| specs.iter().map(Column::from).collect();
    vec![
        ("changes.csv", cols(changes::CHANGE_COLUMNS)),
        ("stats.csv", cols(changes::STATS_COLUMNS)),
        ("alignment.csv", cols(ALIGNMENT_COLUMNS)),
        (
            "repeatability.csv",
            cols(repeatability::REPEATABILITY_COLUMNS),
        ),
    ]
}

/// Read and check everything about a study that does not need the analysis: the design (every
/// problem by line and column) and the contrast against its arms. `skintex analyze --study`
/// calls this before the first image is analysed. Returns the design and the contrast to
/// compute (`None`: none asked for, or the default one without both arms).
///
/// # Errors
/// [`StudyError::Design`] listing the manifest's problems; [`StudyError::Input`] for a
/// `--contrast` naming an arm the manifest does not have.
pub fn validate_study(
    settings: &StudySettings,
) -> Result<(StudyDesign, Option<(String, String)>), StudyError> {
    let design = read_design(&settings.manifest, &settings.baseline)?;
    let contrast = match &settings.contrast {
        Some((a, b)) if design.arms.contains(a) && design.arms.contains(b) => {
            Some((a.clone(), b.clone()))
        }
        Some((a, b)) if settings.contrast_explicit => {
            return Err(StudyError::Input(format!(
                "--contrast {a}-{b}: the manifest's arms are {}",
                design.arms.join(", ")
            )));
        }
        _ => None,
    };
    Ok((design, contrast))
}

/// Run a study: read the design and the analysis outputs, write the study outputs.
///
/// # Errors
/// [`StudyError`] naming the file, line and column at fault.
pub fn run_study(settings: &StudySettings) -> Result<StudySummary, StudyError> {
    let (design, contrast) = validate_study(settings)?;
    let contrast = contrast.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
    let table = MetricsTable::read(&settings.metrics).map_err(StudyError::Input)?;
    let analysis_dir = settings
        .metrics
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let landmarks_path = analysis_dir.join("landmarks.csv");
    let landmarks = if landmarks_path.is_file() {
        Some(align::read_landmarks(&landmarks_path).map_err(StudyError::Input)?)
    } else {
        None
    };
    let changes = compute_changes(&design, &table);
    let aligned = alignments(
        &design,
        &table,
        landmarks.as_ref(),
        settings.max_alignment_mm,
    );
    let cells = capture_alignments(&design, &aligned);
    let capture = read_capture(&analysis_dir);
    let comparisons: Vec<Option<Comparison>> = design
        .photos
        .iter()
        .map(|p| {
            if p.is_baseline {
                return None;
            }
            let b = &design.photos[baseline_of(&design, p)?];
            Some(compare_photos(
                &capture,
                &b.image_id,
                &p.image_id,
                &settings.limits,
            ))
        })
        .collect();
    let per_change = replicate_comparisons(&design, &comparisons);
    let noncomparable = |c: &Change| {
        per_change
            .get(c.photo)
            .and_then(Option::as_ref)
            .is_some_and(|x| x.comparable == Some(false))
    };
    let stats = if settings.exclude_noncomparable {
        let kept: Vec<Change> = changes
            .iter()
            .filter(|c| !noncomparable(c))
            .cloned()
            .collect();
        compute_stats(&design, &table, &kept, contrast)
    } else {
        compute_stats(&design, &table, &changes, contrast)
    };
    let repeatability = repeatability::compute_repeatability(&design, &table);
    let failures = failures(&design, &table, &analysis_dir);

    std::fs::create_dir_all(&settings.out_dir)?;
    let out = &settings.out_dir;
    write_atomic(
        &out.join("changes.csv"),
        &changes_csv(&design, &table, &changes, &cells, &per_change),
    )?;
    write_atomic(&out.join("stats.csv"), &stats_csv(&stats))?;
    write_atomic(
        &out.join("alignment.csv"),
        &alignment_csv(&design, &aligned, &comparisons),
    )?;
    let repeatability_path = out.join("repeatability.csv");
    if repeatability.is_empty() {
        // No replicates: a repeatability.csv of an earlier study in this folder would mislead.
        if repeatability_path.is_file() {
            std::fs::remove_file(&repeatability_path)?;
        }
    } else {
        write_atomic(
            &repeatability_path,
            &repeatability::repeatability_csv(&repeatability),
        )?;
    }
    let generated_at = now_iso8601();
    let mut input = report_input(
        settings,
        &design,
        &table,
        &changes,
        &stats,
        &repeatability,
        &failures,
        &analysis_dir,
        generated_at.clone(),
    );
    input.comparability = comparability_rows(&design, &comparisons);
    input.comparability_note = comparability_note(settings, &comparisons);
    let html = report::render_report(&input);
    write_atomic(&out.join("report.html"), html.as_bytes())?;
    let subjects = design.subjects();
    let summary = StudySummary {
        photos: design.photos.len(),
        subjects: subjects.len(),
        changes: changes.len(),
        stats_rows: stats.len(),
        repeatability_rows: repeatability.len(),
        failed: failures.len(),
    };
    let outputs: Vec<&str> = STUDY_OUTPUTS
        .iter()
        .copied()
        .filter(|o| *o != "repeatability.csv" || !repeatability.is_empty())
        .collect();
    let provenance = serde_json::json!({
        "skintex_version": crate::VERSION,
        "command_line": settings.command_line,
        "generated_at": generated_at,
        "manifest": settings.manifest.display().to_string(),
        "metrics": settings.metrics.display().to_string(),
        "baseline_visit": design.baseline_visits().join(";"),
        "contrast": contrast.map(|(a, b)| format!("{a}-{b}")),
        "max_alignment_mm": settings.max_alignment_mm,
        "comparability": {
            "limits": {
                "max_sharpness_change": settings.limits.max_sharpness_change,
                "max_exposure_change_ev": settings.limits.max_exposure_change_ev,
                "max_white_balance_change": settings.limits.max_white_balance_change,
                "max_light_change": settings.limits.max_light_change,
                "max_specular_change": settings.limits.max_specular_change,
                "max_pose_change_deg": settings.limits.max_pose_change_deg,
                "max_expression_change": settings.limits.max_expression_change,
                "max_scale_change": settings.limits.max_scale_change,
            },
            "exclude_noncomparable": settings.exclude_noncomparable,
            "noncomparable_photos": comparisons.iter().flatten().filter(|c| c.comparable == Some(false)).count(),
            "unknown_photos": comparisons.iter().flatten().filter(|c| c.comparable.is_none()).count(),
        },
        "primary_test": settings.primary_test.name(),
        "bootstrap": {"resamples": changes::BOOTSTRAP_RESAMPLES, "seed": changes::BOOTSTRAP_SEED, "level": 0.95},
        "visits": design.visits,
        "arms": design.arms,
        "photos": summary.photos,
        "subjects": summary.subjects,
        "photos_without_results": summary.failed,
        "outputs": outputs,
    });
    let mut provenance = provenance;
    if !repeatability.is_empty() {
        let sets = (0..design.photos.len())
            .filter(|&i| design.is_first_replicate(i) && design.replicates_of(i).len() >= 2)
            .count();
        let in_sets = (0..design.photos.len())
            .filter(|&i| design.replicates_of(i).len() >= 2)
            .count();
        provenance["repeatability"] = serde_json::json!({
            "replicate_sets": sets,
            "photos_in_replicate_sets": in_sets,
            "rows": repeatability.len(),
            "rows_with_icc": repeatability.iter().filter(|r| r.icc.is_some()).count(),
        });
    }
    let mut bytes = serde_json::to_vec_pretty(&provenance).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write_atomic(&out.join("study.json"), &bytes)?;
    Ok(summary)
}

/// The alignment cell of each photo for `changes.csv`: replicates share the worst of theirs
/// (the largest residual, `poor` when any is), or the first one's reason when none has a
/// residual.
fn capture_alignments(
    design: &StudyDesign,
    aligned: &[Option<(Option<align::Similarity>, AlignmentCell)>],
) -> Vec<Option<AlignmentCell>> {
    (0..design.photos.len())
        .map(|i| {
            let cells: Vec<&AlignmentCell> = design
                .replicates_of(i)
                .iter()
                .filter_map(|&r| aligned[r].as_ref().map(|(_, c)| c))
                .collect();
            let worst = cells
                .iter()
                .filter_map(|c| c.as_ref().ok())
                .copied()
                .reduce(|a, b| (a.0.max(b.0), a.1 || b.1));
            match worst {
                Some(w) => Some(Ok(w)),
                None => cells.first().map(|c| (*c).clone()),
            }
        })
        .collect()
}

/// The comparability of each photo's change (replicates averaged): not comparable when any of
/// its replicates is not, comparable when all are, else unknown; the reasons of every replicate
/// that has some, each after its image id. A photo without replicates keeps its own.
fn replicate_comparisons(
    design: &StudyDesign,
    comparisons: &[Option<Comparison>],
) -> Vec<Option<Comparison>> {
    (0..design.photos.len())
        .map(|i| {
            let reps = design.replicates_of(i);
            if reps.len() < 2 {
                return comparisons[i].clone();
            }
            let of: Vec<(usize, &Comparison)> = reps
                .iter()
                .filter_map(|&r| comparisons[r].as_ref().map(|c| (r, c)))
                .collect();
            let (_, first) = of.first()?;
            let verdicts: Vec<Option<bool>> = of.iter().map(|(_, c)| c.comparable).collect();
            let comparable = if verdicts.contains(&Some(false)) {
                Some(false)
            } else if verdicts.iter().all(|v| *v == Some(true)) {
                Some(true)
            } else {
                None
            };
            let mut failed: Vec<&'static str> = Vec::new();
            for (_, c) in &of {
                for f in &c.failed {
                    if !failed.contains(f) {
                        failed.push(f);
                    }
                }
            }
            let reasons = of
                .iter()
                .filter(|(_, c)| !c.reasons.is_empty())
                .map(|(r, c)| format!("{}: {}", design.photos[*r].image_id, c.reasons))
                .collect::<Vec<_>>()
                .join(" | ");
            Some(Comparison {
                comparable,
                reasons,
                failed,
                ..(*first).clone()
            })
        })
        .collect()
}

/// Per subject: follow-up photos, comparable, not comparable, unknown, and the failed checks
/// with their counts (the report's comparability table).
fn comparability_rows(
    design: &StudyDesign,
    comparisons: &[Option<Comparison>],
) -> Vec<report::ComparabilityRow> {
    let mut rows: Vec<report::ComparabilityRow> = Vec::new();
    for (p, c) in design.photos.iter().zip(comparisons) {
        let Some(c) = c else { continue };
        let i = match rows.iter().position(|r| r.subject == p.subject) {
            Some(i) => i,
            None => {
                rows.push(report::ComparabilityRow {
                    subject: p.subject.clone(),
                    ..Default::default()
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[i];
        row.pairs += 1;
        match c.comparable {
            Some(true) => row.comparable += 1,
            Some(false) => row.noncomparable += 1,
            None => {
                row.unknown += 1;
                if !row.unknown_reasons.contains(&c.reasons) {
                    row.unknown_reasons.push(c.reasons.clone());
                }
            }
        }
        for name in &c.failed {
            match row.reasons.iter_mut().find(|(n, _)| n == name) {
                Some((_, k)) => *k += 1,
                None => row.reasons.push(((*name).to_owned(), 1)),
            }
        }
    }
    rows
}

/// The sentence above the comparability table: what was done with non-comparable pairs.
fn comparability_note(settings: &StudySettings, comparisons: &[Option<Comparison>]) -> String {
    let n = comparisons
        .iter()
        .flatten()
        .filter(|c| c.comparable == Some(false))
        .count();
    let total = comparisons.iter().flatten().count();
    if settings.exclude_noncomparable {
        format!(
            "{n} of {total} follow-up photos not comparable with their baseline: excluded from \
             stats.csv and the statistics (--exclude-noncomparable)."
        )
    } else {
        format!(
            "{n} of {total} follow-up photos not comparable with their baseline: kept in the \
             statistics (exclude them with --exclude-noncomparable); changes.csv marks them."
        )
    }
}

fn alignment_csv(
    design: &StudyDesign,
    aligned: &[Option<(Option<align::Similarity>, AlignmentCell)>],
    comparisons: &[Option<Comparison>],
) -> Vec<u8> {
    let rows: Vec<Vec<String>> = design
        .photos
        .iter()
        .zip(aligned)
        .zip(comparisons)
        .filter_map(|((p, a), c)| {
            let (fit, cell) = a.as_ref()?;
            let b = &design.photos[baseline_of(design, p)?];
            let f = |v: Option<f64>| v.map(format_number).unwrap_or_default();
            let (mm, flag, reason) = match cell {
                Ok((mm, poor)) => (
                    format_number(*mm),
                    if *poor { "poor" } else { "" },
                    String::new(),
                ),
                Err(r) => (String::new(), "", r.clone()),
            };
            Some(
                [
                    p.subject.clone(),
                    p.visit.clone(),
                    p.side.label().to_owned(),
                    p.view.clone(),
                    p.image_id.clone(),
                    b.image_id.clone(),
                    f(fit.map(|x| x.scale)),
                    f(fit.map(|x| x.rotation_deg)),
                    f(fit.map(|x| x.rms_px)),
                    mm,
                    flag.to_owned(),
                    reason,
                ]
                .into_iter()
                .chain(comparison_cells(c.as_ref(), true))
                .collect(),
            )
        })
        .collect();
    let columns: Vec<Column> = ALIGNMENT_COLUMNS.iter().map(Column::from).collect();
    csv_bytes(&columns, rows.iter().map(Vec::as_slice))
}

/// Photos without results, with the reason: missing files, failed analysis, not analysed.
fn failures(
    design: &StudyDesign,
    table: &MetricsTable,
    analysis_dir: &Path,
) -> Vec<(String, String)> {
    let mut errors: std::collections::BTreeMap<String, String> = Default::default();
    if let Ok(mut reader) = csv::Reader::from_path(analysis_dir.join("images.csv")) {
        let header = reader.headers().cloned().unwrap_or_default();
        let col = |n: &str| header.iter().position(|h| h == n);
        if let (Some(ci), Some(cs), Some(ce)) = (col("image_id"), col("status"), col("error")) {
            for rec in reader.records().flatten() {
                if rec.get(cs) == Some("error") {
                    errors.insert(
                        rec.get(ci).unwrap_or("").to_owned(),
                        rec.get(ce).unwrap_or("").to_owned(),
                    );
                }
            }
        }
    }
    design
        .photos
        .iter()
        .filter(|p| !table.rows.iter().any(|r| r.image_id == p.image_id))
        .map(|p| {
            let reason = errors.get(&p.image_id).cloned().or_else(|| {
                design
                    .warnings
                    .iter()
                    .find(|(path, _)| *path == p.path)
                    .map(|(_, r)| r.clone())
            });
            (
                format!("{} ({} {} {})", p.path, p.subject, p.visit, p.side.label()),
                reason.unwrap_or_else(|| "not in metrics.csv (was it analysed?)".to_owned()),
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn report_input<'a>(
    settings: &StudySettings,
    design: &StudyDesign,
    table: &MetricsTable,
    changes: &[Change],
    stats: &[StatsRow],
    repeatability: &[repeatability::RepeatabilityRow],
    failures: &[(String, String)],
    analysis_dir: &Path,
    generated_at: String,
) -> report::ReportInput<'a> {
    let units: std::collections::BTreeMap<&str, &str> = crate::metrics::metric_columns()
        .iter()
        .map(|c| (c.name, c.unit))
        .collect();
    let subjects = design.subjects();
    let depths: Vec<String> = {
        let mut d: Vec<String> = design
            .photos
            .iter()
            .filter_map(|p| {
                p.needle_depth_mm
                    .map(|x| format!("{} mm", format_number(x)))
            })
            .collect();
        d.sort();
        d.dedup();
        d
    };
    let summary = vec![
        (
            "Manifest".to_owned(),
            settings.manifest.display().to_string(),
        ),
        ("Metrics".to_owned(), settings.metrics.display().to_string()),
        ("Subjects".to_owned(), subjects.len().to_string()),
        ("Photos".to_owned(), design.photos.len().to_string()),
        ("Visits".to_owned(), design.visits.join(", ")),
        ("Arms".to_owned(), design.arms.join(", ")),
        (
            "Needle depths".to_owned(),
            if depths.is_empty() {
                "not given".to_owned()
            } else {
                depths.join(", ")
            },
        ),
        (
            "Split-face contrast".to_owned(),
            stats
                .iter()
                .find(|r| r.comparison == "difference")
                .map_or_else(|| "none".to_owned(), |r| r.arm.clone()),
        ),
        (
            "Primary test".to_owned(),
            format!(
                "{} (rows highlighted on its Holm-adjusted p; see Methods)",
                settings.primary_test.name()
            ),
        ),
        (
            "Photos without results".to_owned(),
            failures.len().to_string(),
        ),
        ("Changes computed".to_owned(), changes.len().to_string()),
    ];
    let mut summary = summary;
    if design.has_replicates() {
        let sets = (0..design.photos.len())
            .filter(|&i| design.is_first_replicate(i) && design.replicates_of(i).len() >= 2)
            .count();
        summary.push((
            "Replicates".to_owned(),
            format!(
                "{} of subject/visit/side/view photographed more than once; averaged before \
                 change and statistics (see Repeatability)",
                crate::plural(sets, "set")
            ),
        ));
    }
    // Plots: headline metrics in the union zone (`face` or `full`), else every zone.
    let zones: Vec<&str> = {
        let mut z: Vec<&str> = Vec::new();
        for r in stats.iter().filter(|r| r.comparison == "change") {
            if !z.contains(&r.zone.as_str()) {
                z.push(&r.zone);
            }
        }
        if z.contains(&"face") {
            vec!["face"]
        } else if z.contains(&"full") {
            vec!["full"]
        } else {
            z
        }
    };
    let mut series = Vec::new();
    for metric in HEADLINE_METRICS
        .iter()
        .filter(|m| table.metrics.iter().any(|x| x == *m))
    {
        for zone in &zones {
            let arms: Vec<report::ArmSeries> = design
                .arms
                .iter()
                .map(|arm| report::ArmSeries {
                    arm: arm.clone(),
                    points: design
                        .visits
                        .iter()
                        .map(|visit| {
                            let days = design
                                .photos
                                .iter()
                                .find(|p| &p.visit == visit)
                                .and_then(|p| p.days_from_baseline);
                            let row = stats.iter().find(|r| {
                                r.comparison == "change"
                                    && &r.arm == arm
                                    && r.zone == *zone
                                    && r.metric == *metric
                                    && &r.visit == visit
                            });
                            let is_base = design
                                .photos
                                .iter()
                                .any(|p| &p.visit == visit && p.is_baseline);
                            match row {
                                Some(r) => report::SeriesPoint {
                                    visit: visit.clone(),
                                    days,
                                    mean_change: r.result.mean,
                                    ci_low: r.result.ci.map(|c| c.0),
                                    ci_high: r.result.ci.map(|c| c.1),
                                    n: r.result.n,
                                },
                                None => report::SeriesPoint {
                                    visit: visit.clone(),
                                    days,
                                    mean_change: is_base.then_some(0.0),
                                    ci_low: None,
                                    ci_high: None,
                                    n: 0,
                                },
                            }
                        })
                        .collect(),
                })
                .collect();
            series.push(report::MetricSeries {
                metric: (*metric).to_owned(),
                zone: (*zone).to_owned(),
                unit: units.get(metric).copied().unwrap_or("").to_owned(),
                arms,
            });
        }
    }
    let table_rows = stats
        .iter()
        .filter(|r| HEADLINE_METRICS.contains(&r.metric.as_str()))
        .map(|r| report::StatsRow {
            comparison: r.comparison.to_owned(),
            arm: r.arm.clone(),
            zone: r.zone.clone(),
            metric: r.metric.clone(),
            visit: r.visit.clone(),
            n: r.result.n,
            mean_baseline: r.mean_baseline(),
            mean_change: r.result.mean,
            mean_pct_change: r.mean_pct_change(),
            ci_low: r.result.ci.map(|c| c.0),
            ci_high: r.result.ci.map(|c| c.1),
            p_t: r.result.p_t,
            p_t_holm: r.result.p_t_holm,
            p_wilcoxon: r.result.p_w,
            p_wilcoxon_holm: r.result.p_w_holm,
            hedges_g: r.result.g,
        })
        .collect();
    let gallery = subjects
        .iter()
        .take(GALLERY_SUBJECTS)
        .map(|s| report::GallerySubject {
            subject: (*s).to_owned(),
            images: {
                let mut photos: Vec<&design::StudyPhoto> =
                    design.photos.iter().filter(|p| p.subject == *s).collect();
                photos.sort_by_key(|p| {
                    (
                        design.visits.iter().position(|v| *v == p.visit),
                        p.side,
                        p.view.clone(),
                    )
                });
                photos
                    .into_iter()
                    .map(|p| {
                        let qc = crate::output::qc::qc_path(analysis_dir, &p.image_id);
                        let thumb = thumbnail(&qc);
                        report::GalleryImage {
                            caption: format!("{} · {} · {}", p.visit, p.side.label(), p.arm),
                            missing_reason: thumb.as_ref().err().cloned(),
                            href: thumb.is_ok().then(|| relative_href(&settings.out_dir, &qc)),
                            jpeg: thumb.ok(),
                        }
                    })
                    .collect()
            },
        })
        .collect();
    let mut failures = failures.to_vec();
    if subjects.len() > GALLERY_SUBJECTS {
        // Not a failure, but the reader must know the gallery is partial.
        failures.push((
            "gallery".to_owned(),
            format!(
                "shows the first {GALLERY_SUBJECTS} of {} subjects; every QC picture is in qc/",
                subjects.len()
            ),
        ));
    }
    let subjects_plots = subject_plots(design, table, &zones, &units);
    report::ReportInput {
        title: settings
            .manifest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        generated_at,
        skintex_version: crate::VERSION,
        summary,
        primary_test: settings.primary_test,
        methods: methods(design, table, analysis_dir),
        stats_csv: Some("stats.csv".to_owned()),
        repeatability: repeatability
            .iter()
            .filter(|r| HEADLINE_METRICS.contains(&r.metric.as_str()))
            .map(|r| report::RepeatabilityRow {
                visit: r.visit.clone(),
                zone: r.zone.clone(),
                metric: r.metric.clone(),
                unit: units
                    .get(r.metric.as_str())
                    .copied()
                    .unwrap_or("")
                    .to_owned(),
                n_subjects: r.n_subjects,
                n_photos: r.n_photos,
                mean: r.mean,
                within_sd: r.within_sd,
                cv_pct: r.cv_pct,
                icc: r.icc,
                icc_ci: r.icc_ci,
                icc_targets: r.icc_targets,
                icc_replicates: r.icc_replicates,
                sem: r.sem,
                mdc95: r.mdc95,
                missing: r.missing.join("; "),
            })
            .collect(),
        repeatability_csv: (!repeatability.is_empty()).then(|| "repeatability.csv".to_owned()),
        series,
        subjects: subjects_plots,
        table: table_rows,
        gallery,
        failures,
        ..Default::default()
    }
}

/// The per-subject plot of the first headline metric of each family, in the report's zones:
/// the value of each subject and arm at each visit (baseline included).
fn subject_plots(
    design: &StudyDesign,
    table: &MetricsTable,
    zones: &[&str],
    units: &std::collections::BTreeMap<&str, &str>,
) -> Vec<report::SubjectPlot> {
    let mut families: Vec<&str> = Vec::new();
    let mut plots = Vec::new();
    for metric in HEADLINE_METRICS {
        let family = changes::family(metric);
        let Some(m) = table.metrics.iter().position(|x| x == metric) else {
            continue;
        };
        if families.contains(&family) {
            continue;
        }
        families.push(family);
        for zone in zones {
            let mut lines: Vec<report::SubjectLine> = Vec::new();
            for subject in design.subjects() {
                for arm in &design.arms {
                    let photos: Vec<&design::StudyPhoto> = design
                        .photos
                        .iter()
                        .filter(|p| p.subject == subject && &p.arm == arm)
                        .collect();
                    if photos.is_empty() {
                        continue;
                    }
                    let points = design
                        .visits
                        .iter()
                        .filter_map(|visit| {
                            let at_visit: Vec<&&design::StudyPhoto> =
                                photos.iter().filter(|p| &p.visit == visit).collect();
                            let first = at_visit.first()?;
                            // The mean over the subject's photos of this arm at this visit.
                            let values: Vec<f64> = at_visit
                                .iter()
                                .filter_map(|p| {
                                    table
                                        .zones_of(&p.image_id)
                                        .find(|r| r.zone == *zone)
                                        .and_then(|r| r.values[m])
                                })
                                .collect();
                            Some(report::SubjectPoint {
                                visit: visit.clone(),
                                days: first.days_from_baseline,
                                value: (!values.is_empty()).then(|| changes::mean(&values)),
                            })
                        })
                        .collect();
                    lines.push(report::SubjectLine {
                        subject: subject.to_owned(),
                        arm: arm.clone(),
                        points,
                    });
                }
            }
            plots.push(report::SubjectPlot {
                metric: (*metric).to_owned(),
                zone: (*zone).to_owned(),
                unit: units.get(metric).copied().unwrap_or("").to_owned(),
                arms: design.arms.clone(),
                lines,
            });
        }
    }
    plots
}

/// The methods the numbers come from: the analysis (software version and configuration hash,
/// from `run.json`), calibration and zones (from `images.csv` and `metrics.csv`), for the
/// study's photos.
fn methods(
    design: &StudyDesign,
    table: &MetricsTable,
    analysis_dir: &Path,
) -> Vec<(String, String)> {
    let run: Option<serde_json::Value> = std::fs::read(analysis_dir.join("run.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let analysis = match &run {
        Some(run) => {
            let version = run["skintex_version"].as_str().unwrap_or("unknown");
            let config = serde_json::to_vec(&run["config"]).unwrap_or_default();
            format!(
                "skintex {version} (the report: skintex {}); configuration sha256 {} (run.json's \
                 config, compact JSON with sorted keys; the full configuration is in run.json)",
                crate::VERSION,
                crate::digest::sha256_hex(&config)
            )
        }
        None => format!(
            "not recorded: no readable run.json in {} (the report: skintex {})",
            analysis_dir.display(),
            crate::VERSION
        ),
    };
    // Calibration and roi per study photo, from images.csv.
    let mut per_photo: std::collections::BTreeMap<String, (String, Option<f64>, String)> =
        Default::default();
    if let Ok(mut reader) = csv::Reader::from_path(analysis_dir.join("images.csv")) {
        let header = reader.headers().cloned().unwrap_or_default();
        let col = |n: &str| header.iter().position(|h| h == n);
        if let (Some(ci), Some(cp), Some(cc), Some(cr)) = (
            col("image_id"),
            col("px_per_mm"),
            col("calibration"),
            col("roi"),
        ) {
            for rec in reader.records().flatten() {
                per_photo.insert(
                    rec.get(ci).unwrap_or("").to_owned(),
                    (
                        rec.get(cc).unwrap_or("").to_owned(),
                        rec.get(cp).and_then(|v| v.parse().ok()),
                        rec.get(cr).unwrap_or("").to_owned(),
                    ),
                );
            }
        }
    }
    let study: Vec<&(String, Option<f64>, String)> = design
        .photos
        .iter()
        .filter_map(|p| per_photo.get(&p.image_id))
        .collect();
    let mut sources: Vec<String> = Vec::new();
    for source in ["cli", "manifest", "iris", "none"] {
        let of: Vec<f64> = study
            .iter()
            .filter(|(s, _, _)| s == source)
            .filter_map(|(_, p, _)| *p)
            .collect();
        let n = study.iter().filter(|(s, _, _)| s == source).count();
        if n == 0 {
            continue;
        }
        let what = match source {
            "cli" => "--px-per-mm",
            "manifest" => "the manifest's px_per_mm",
            "iris" => "the iris (11.7 mm visible diameter)",
            _ => "none: the mm-based families are empty",
        };
        let range = match of
            .iter()
            .copied()
            .reduce(f64::min)
            .zip(of.iter().copied().reduce(f64::max))
        {
            Some((lo, hi)) if lo == hi => format!(", {} px/mm", format_number(lo)),
            Some((lo, hi)) => format!(", {}-{} px/mm", format_number(lo), format_number(hi)),
            None => String::new(),
        };
        sources.push(format!("{what}: {}{range}", crate::plural(n, "photo")));
    }
    let calibration = if sources.is_empty() {
        format!(
            "not recorded: no images.csv in {} lists the study's photos",
            analysis_dir.display()
        )
    } else {
        sources.join("; ")
    };
    let mut zone_names: Vec<&str> = Vec::new();
    for row in &table.rows {
        if design.photos.iter().any(|p| p.image_id == row.image_id)
            && !zone_names.contains(&row.zone.as_str())
        {
            zone_names.push(&row.zone);
        }
    }
    let rois = |roi: &str| study.iter().filter(|(_, _, r)| r == roi).count();
    let mut zones = Vec::new();
    if rois("full") > 0 {
        zones.push(format!(
            "the whole image as one zone (full, roi full): {}",
            crate::plural(rois("full"), "photo")
        ));
    }
    if rois("face") > 0 {
        zones.push(format!(
            "face zones rebuilt from each photo's own face mesh landmarks (roi face): {}",
            crate::plural(rois("face"), "photo")
        ));
    }
    if zone_names.is_empty() {
        zones.push("no zone measured".to_owned());
    } else {
        zones.push(format!("zones measured: {}", zone_names.join(", ")));
    }
    vec![
        ("Analysis".to_owned(), analysis),
        ("Calibration".to_owned(), calibration),
        ("Zones".to_owned(), zones.join("; ")),
    ]
}

/// `to` as a link from a page in `from_dir`: a relative path when both are on the same root
/// (`qc/ID.jpg` when the report sits in the analysis folder), else absolute; characters that
/// mean something in a URL are percent-encoded.
fn relative_href(from_dir: &Path, to: &Path) -> String {
    let absolute = |p: &Path| {
        p.canonicalize().unwrap_or_else(|_| {
            std::env::current_dir()
                .map(|d| d.join(p))
                .unwrap_or_else(|_| p.to_path_buf())
        })
    };
    let (from, to) = (absolute(from_dir), absolute(to));
    let from_parts: Vec<_> = from.components().collect();
    let to_parts: Vec<_> = to.components().collect();
    let common = from_parts
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let path: String = if common == 0 {
        to.to_string_lossy().replace('\\', "/")
    } else {
        std::iter::repeat_n("..".to_owned(), from_parts.len() - common)
            .chain(
                to_parts[common..]
                    .iter()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned()),
            )
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut href = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~/".contains(&byte) {
            href.push(char::from(byte));
        } else {
            href.push_str(&format!("%{byte:02X}"));
        }
    }
    href
}

/// Subjects shown in the report's QC gallery (the report stays a few MB).
pub const GALLERY_SUBJECTS: usize = 12;

/// A QC picture scaled to at most 480 px wide, JPEG quality 80, or why there is none.
fn thumbnail(path: &Path) -> Result<Vec<u8>, String> {
    let img = image::open(path).map_err(|_| format!("no QC picture at {}", path.display()))?;
    let img = if img.width() > 480 {
        img.resize(480, u32::MAX, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80)
        .encode_image(&img.to_rgb8())
        .map_err(|e| format!("cannot encode thumbnail: {e}"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qc_links_are_relative_to_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let analysis = dir.path().join("run 1");
        std::fs::create_dir_all(analysis.join("qc")).unwrap();
        let study = dir.path().join("study");
        std::fs::create_dir_all(&study).unwrap();
        let qc = analysis.join("qc").join("S01-week#4.jpg");
        std::fs::write(&qc, b"jpeg").unwrap();
        // The report beside the analysis (analyze --study): qc/ID.jpg.
        assert_eq!(relative_href(&analysis, &qc), "qc/S01-week%234.jpg");
        // The report in another folder (skintex study --out): up, then across; a space encoded.
        assert_eq!(relative_href(&study, &qc), "../run%201/qc/S01-week%234.jpg");
    }

    /// With replicates, a change is not comparable when any replicate is, comparable when all
    /// are, unknown otherwise; each replicate's reasons are named by its image id. A photo
    /// without replicates keeps its own comparison.
    #[test]
    fn replicate_comparisons_combine_the_replicates_verdicts() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.png", "b.png", "c.png", "d.png", "e.png"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        let m = dir.path().join("study.csv");
        std::fs::write(
            &m,
            "path,subject,visit,days_from_baseline,replicate\n\
             a.png,S1,baseline,0,1\n\
             b.png,S1,week4,28,1\n\
             c.png,S1,week4,28,2\n\
             d.png,S2,baseline,0,1\n\
             e.png,S2,week4,28,1\n",
        )
        .unwrap();
        let design = read_design(&m, "baseline").unwrap();
        let verdict = |comparable: Option<bool>, reasons: &str, failed: &[&'static str]| {
            Some(Comparison {
                comparable,
                reasons: reasons.to_owned(),
                failed: failed.to_vec(),
                ..Comparison::default()
            })
        };
        let index = |id: &str| design.photos.iter().position(|p| p.image_id == id).unwrap();
        let mut per_photo = vec![None; design.photos.len()];
        per_photo[index("b")] = verdict(Some(true), "", &[]);
        per_photo[index("c")] = verdict(Some(false), "exposure 1.0 EV > 0.33", &["exposure"]);
        per_photo[index("e")] = verdict(None, "not checked: no capture values", &[]);
        let combined = replicate_comparisons(&design, &per_photo);
        for id in ["b", "c"] {
            let c = combined[index(id)].as_ref().unwrap();
            assert_eq!(c.comparable, Some(false));
            assert_eq!(c.reasons, "c: exposure 1.0 EV > 0.33");
            assert_eq!(c.failed, ["exposure"]);
        }
        assert_eq!(combined[index("e")], per_photo[index("e")]);
        assert_eq!(combined[index("a")], None);
        per_photo[index("c")] = verdict(Some(true), "", &[]);
        let all_true = replicate_comparisons(&design, &per_photo);
        assert_eq!(
            all_true[index("b")].as_ref().unwrap().comparable,
            Some(true)
        );
        per_photo[index("c")] = verdict(None, "not checked: no capture values", &[]);
        let unknown = replicate_comparisons(&design, &per_photo);
        assert_eq!(unknown[index("b")].as_ref().unwrap().comparable, None);
    }
}
