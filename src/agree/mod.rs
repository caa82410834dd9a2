//! `skintex agree`: skintex scored against expert annotations on the user's own photos, and
//! two experts against each other, so that anyone can check skintex's validity on their data.
//!
//! ```text
//! --results OUT   an analysis made with `skintex analyze --save-masks`: images.csv (size,
//!                 calibration), metrics.csv (zones), scars.csv (detected scars) and
//!                 masks/<image_id>_lines.png, masks/<image_id>_zones.png
//! rater A         --lines-masks DIR (DIR/<image_id>.png, nonzero = wrinkle), or else the
//!                 analysis manifest's column lines_mask (a file per photo, relative to the
//!                 manifest's folder), and/or --scars FILE.csv
//!                 (image_id,x_px,y_px[,diameter_mm][,type])
//! rater B         --rater-b-lines-masks DIR, --rater-b-scars FILE.csv (optional)
//!   -> agreement.csv  per image × zone × comparison (lines::LineCounts, scars::ScarCounts)
//!   -> summary.csv    per comparison × zone × metric (summary)
//!   -> agreement.html numbers, Bland-Altman plots, per-image overlays (report)
//! ```
//!
//! The comparisons: `skintex_vs_rater_a` (rater A is the reference, skintex compared),
//! `skintex_vs_rater_b` and `rater_b_vs_rater_a` when rater B is given. A zone is one of the
//! analysis (metrics.csv); its pixels come from the zone mask (`face` = every face zone). An
//! annotated scar lies in the zone of its centre pixel; a detected scar in the zone that
//! scars.csv gives it. A kind of annotation not given leaves its columns empty, with the reason.

pub mod lines;
pub mod report;
pub mod scars;
pub mod summary;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use image::GrayImage;
use ndarray::Array2;

use crate::metrics::{ColumnSpec, spec};
use crate::output::format_number;
use crate::output::masks::{MaskKind, mask_path, zone_index};
use crate::output::tables::{Column, csv_bytes};
use lines::{LineCounts, LineMask, near, skeleton_length_in_zone};
use scars::{ScarCounts, ScarMark};

/// The fixed seed of the bootstrap intervals of `summary.csv` (the same input gives the same
/// intervals).
pub const BOOTSTRAP_SEED: u64 = 19;
/// Bootstrap resamples of each interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// One rater's annotations.
#[derive(Debug, Clone, Default)]
pub struct Rater {
    /// Folder of wrinkle masks `<image_id>.png`.
    pub lines_masks: Option<PathBuf>,
    /// Scar marks CSV.
    pub scars: Option<PathBuf>,
}

/// A validated `skintex agree` run.
#[derive(Debug, Clone)]
pub struct AgreeSettings {
    pub results: PathBuf,
    pub out: PathBuf,
    pub rater_a: Rater,
    pub rater_b: Option<Rater>,
    pub tolerance_px: f64,
    pub match_mm: f64,
}

impl AgreeSettings {
    /// Check the arguments of `skintex agree`.
    ///
    /// # Errors
    /// No annotation at all, rater B options without rater A's, or a bad number.
    pub fn from_args(args: &crate::cli::AgreeArgs) -> anyhow::Result<Self> {
        if !(args.tolerance_px.is_finite() && args.tolerance_px >= 0.0) {
            bail!(
                "--tolerance-px must be a number >= 0, got {}",
                args.tolerance_px
            );
        }
        if !(args.match_mm.is_finite() && args.match_mm >= 0.0) {
            bail!("--match-mm must be a number >= 0, got {}", args.match_mm);
        }
        let rater_b =
            (args.rater_b_lines_masks.is_some() || args.rater_b_scars.is_some()).then(|| Rater {
                lines_masks: args.rater_b_lines_masks.clone(),
                scars: args.rater_b_scars.clone(),
            });
        Ok(Self {
            results: args.results.clone(),
            out: args.out.clone(),
            rater_a: Rater {
                lines_masks: args.lines_masks.clone(),
                scars: args.scars.clone(),
            },
            rater_b,
            tolerance_px: args.tolerance_px,
            match_mm: args.match_mm,
        })
    }
}

/// Who marked: skintex or an expert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Skintex,
    RaterA,
    RaterB,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Self::Skintex => "skintex",
            Self::RaterA => "rater_a",
            Self::RaterB => "rater_b",
        }
    }
}

/// One comparison: `compared` scored against `reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    pub reference: Source,
    pub compared: Source,
}

impl Comparison {
    /// `<compared>_vs_<reference>`, e.g. `skintex_vs_rater_a`.
    pub fn name(self) -> String {
        format!("{}_vs_{}", self.compared.name(), self.reference.name())
    }
}

/// An image of the analysis, as `skintex agree` needs it.
#[derive(Debug, Clone)]
pub struct AnalysedImage {
    pub image_id: String,
    /// The photo's path as images.csv gives it.
    pub path: String,
    pub px_per_mm: Option<f64>,
    /// Zones measured, in metrics.csv order.
    pub zones: Vec<String>,
    /// Rater A's wrinkle mask from the manifest column `lines_mask` (carried into images.csv),
    /// resolved against the manifest's folder (run.json's `manifest`).
    pub lines_mask: Option<PathBuf>,
}

/// One row of `agreement.csv`.
#[derive(Debug, Clone)]
pub struct AgreementRow {
    pub image_id: String,
    pub zone: String,
    pub comparison: Comparison,
    pub lines: Result<LineCounts, String>,
    /// Skeleton length of the reference and of the compared mask in the zone, mm.
    pub lines_annotated_mm: Result<f64, String>,
    pub lines_detected_mm: Result<f64, String>,
    pub scars: Result<ScarCounts, String>,
}

impl AgreementRow {
    /// The value columns of the row, named as in [`AGREEMENT_COLUMNS`].
    pub fn values(&self) -> Vec<(&'static str, Result<f64, String>)> {
        let l = |f: fn(&LineCounts) -> Result<f64, String>| self.lines.clone().and_then(|n| f(&n));
        let s = |f: fn(&ScarCounts) -> Result<f64, String>| self.scars.clone().and_then(|n| f(&n));
        vec![
            ("lines_dice", l(LineCounts::dice)),
            ("lines_jsi", l(LineCounts::jsi)),
            ("lines_precision", l(LineCounts::precision)),
            ("lines_recall", l(LineCounts::recall)),
            ("lines_annotated_mm", self.lines_annotated_mm.clone()),
            ("lines_detected_mm", self.lines_detected_mm.clone()),
            ("scars_annotated", s(|n| Ok(n.reference as f64))),
            ("scars_detected", s(|n| Ok(n.compared as f64))),
            ("scars_tp", s(|n| Ok(n.tp as f64))),
            ("scars_fp", s(|n| Ok(n.fp() as f64))),
            ("scars_fn", s(|n| Ok(n.fn_() as f64))),
            ("scars_f1", s(ScarCounts::f1)),
            ("scars_type_accuracy", s(ScarCounts::type_accuracy)),
        ]
    }
}

/// Columns of `agreement.csv`.
pub const AGREEMENT_COLUMNS: &[ColumnSpec] = &[
    spec("image_id", "", "Image, as in the analysis (images.csv)."),
    spec(
        "zone",
        "",
        "Zone of the analysis (metrics.csv); face = every face zone, full = the whole image.",
    ),
    spec(
        "comparison",
        "",
        "skintex_vs_rater_a, skintex_vs_rater_b or rater_b_vs_rater_a: the compared marks scored against the reference's.",
    ),
    spec(
        "reference",
        "",
        "Whose marks are the reference (the annotation): rater_a or rater_b.",
    ),
    spec(
        "compared",
        "",
        "Whose marks are scored (the detection): skintex or rater_b.",
    ),
    spec(
        "lines_dice",
        "1",
        "Tolerant Dice of the line masks in the zone: (compared px within T of a reference px + reference px within T of a compared px) / (compared px + reference px); T = --tolerance-px; T = 0 is the plain Dice.",
    ),
    spec(
        "lines_jsi",
        "1",
        "Jaccard similarity index, Dice / (2 - Dice) (at T = 0, intersection / union).",
    ),
    spec(
        "lines_precision",
        "1",
        "Share of the compared line pixels within T px of a reference line pixel.",
    ),
    spec(
        "lines_recall",
        "1",
        "Share of the reference line pixels within T px of a compared line pixel.",
    ),
    spec(
        "lines_annotated_mm",
        "mm",
        "Length of the reference's lines in the zone: skeleton (Guo-Hall thinning, Freeman length) of its mask.",
    ),
    spec(
        "lines_detected_mm",
        "mm",
        "Length of the compared lines in the zone, by the same skeleton rule.",
    ),
    spec(
        "scars_annotated",
        "1",
        "Reference scars in the zone (an expert mark counts in the zone of its centre pixel).",
    ),
    spec(
        "scars_detected",
        "1",
        "Compared scars in the zone (skintex: the zone of scars.csv).",
    ),
    spec(
        "scars_tp",
        "1",
        "Matched pairs: centres within the reference diameter / 2 + --match-mm mm (--match-mm alone without a diameter), one-to-one, optimal assignment.",
    ),
    spec("scars_fp", "1", "Compared scars without a match."),
    spec("scars_fn", "1", "Reference scars without a match."),
    spec("scars_f1", "1", "2 TP / (2 TP + FP + FN)."),
    spec(
        "scars_type_accuracy",
        "1",
        "Matched pairs of the same type / matched pairs with a type on both sides.",
    ),
    spec(
        "missing_reasons",
        "",
        "Why a value is empty: `columns: reason` groups separated by `; `.",
    ),
];

/// `agreement.csv` bytes.
pub fn agreement_csv(rows: &[AgreementRow]) -> Vec<u8> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = vec![
                r.image_id.clone(),
                r.zone.clone(),
                r.comparison.name(),
                r.comparison.reference.name().to_owned(),
                r.comparison.compared.name().to_owned(),
            ];
            let values = r.values();
            let mut reasons: Vec<(String, Vec<&str>)> = Vec::new();
            for (name, v) in &values {
                match v {
                    Ok(x) => row.push(format_number(*x)),
                    Err(why) => {
                        row.push(String::new());
                        match reasons.iter_mut().find(|(w, _)| w == why) {
                            Some((_, names)) => names.push(name),
                            None => reasons.push((why.clone(), vec![name])),
                        }
                    }
                }
            }
            row.push(
                reasons
                    .iter()
                    .map(|(why, names)| format!("{}: {why}", names.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            row
        })
        .collect();
    let columns: Vec<Column> = AGREEMENT_COLUMNS.iter().map(Column::from).collect();
    csv_bytes(&columns, cells.iter().map(Vec::as_slice))
}

/// The tables of `skintex agree`, for the data dictionary.
pub fn agree_tables() -> Vec<(&'static str, Vec<Column>)> {
    let cols = |specs: &[ColumnSpec]| specs.iter().map(Column::from).collect();
    vec![
        ("agreement.csv", cols(AGREEMENT_COLUMNS)),
        ("summary.csv", cols(summary::SUMMARY_COLUMNS)),
    ]
}

/// Read a CSV file into its header and records.
fn read_csv(path: &Path) -> anyhow::Result<(csv::StringRecord, Vec<csv::StringRecord>)> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let header = reader
        .headers()
        .with_context(|| format!("reading {}", path.display()))?
        .clone();
    let rows = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading {}", path.display()))?;
    Ok((header, rows))
}

/// The index of column `name` in `header`.
fn column(header: &csv::StringRecord, name: &str, path: &Path) -> anyhow::Result<usize> {
    header
        .iter()
        .position(|h| h == name)
        .with_context(|| format!("{} has no column {name}", path.display()))
}

/// An optional number cell: empty is `None`.
fn number_cell(cell: &str, what: &str, path: &Path, line: usize) -> anyhow::Result<Option<f64>> {
    if cell.trim().is_empty() {
        return Ok(None);
    }
    let v: f64 = cell
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .with_context(|| {
            format!(
                "{} line {line}: {what} {cell:?} is not a number",
                path.display()
            )
        })?;
    Ok(Some(v))
}

/// The manifest column of rater A's wrinkle masks (a path relative to the manifest's folder).
pub const LINES_MASK_COLUMN: &str = "lines_mask";

/// The folder of the manifest the analysis in `results` was made from (run.json's `manifest`).
fn manifest_folder(results: &Path) -> anyhow::Result<PathBuf> {
    let path = results.join("run.json");
    let run: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
    )
    .with_context(|| format!("reading {}", path.display()))?;
    let manifest = run["manifest"].as_str().with_context(|| {
        format!(
            "images.csv has a {LINES_MASK_COLUMN} column but {} names no manifest",
            path.display()
        )
    })?;
    Ok(Path::new(manifest)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default())
}

/// The images analysed successfully in `results`, with their zones, in images.csv order.
///
/// # Errors
/// A missing or malformed table.
pub fn read_analysis(results: &Path) -> anyhow::Result<Vec<AnalysedImage>> {
    let path = results.join("images.csv");
    let (header, rows) = read_csv(&path)?;
    let [id, p, status, ppm] =
        ["image_id", "path", "status", "px_per_mm"].map(|c| column(&header, c, &path));
    let (id, p, status, ppm) = (id?, p?, status?, ppm?);
    let mask_column = header.iter().position(|h| h == LINES_MASK_COLUMN);
    let manifest_folder = mask_column.map(|_| manifest_folder(results)).transpose()?;
    let mut images = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if r.get(status) != Some("ok") {
            continue;
        }
        let lines_mask = mask_column
            .and_then(|c| r.get(c))
            .filter(|cell| !cell.trim().is_empty())
            .map(|cell| {
                manifest_folder
                    .clone()
                    .unwrap_or_default()
                    .join(cell.trim())
            });
        images.push(AnalysedImage {
            image_id: r.get(id).unwrap_or_default().to_owned(),
            path: r.get(p).unwrap_or_default().to_owned(),
            px_per_mm: number_cell(r.get(ppm).unwrap_or_default(), "px_per_mm", &path, i + 2)?,
            zones: Vec::new(),
            lines_mask,
        });
    }
    let path = results.join("metrics.csv");
    let (header, rows) = read_csv(&path)?;
    let (id, zone) = (
        column(&header, "image_id", &path)?,
        column(&header, "zone", &path)?,
    );
    let index: HashMap<String, usize> = images
        .iter()
        .enumerate()
        .map(|(i, im)| (im.image_id.clone(), i))
        .collect();
    for r in &rows {
        if let (Some(&i), Some(z)) = (index.get(r.get(id).unwrap_or_default()), r.get(zone)) {
            images[i].zones.push(z.to_owned());
        }
    }
    Ok(images)
}

/// Scar marks of a CSV by image id: skintex's `scars.csv` (with `zone`: keyed by image id and
/// zone) or an expert's file (`image_id,x_px,y_px[,diameter_mm][,type]`: keyed by image id and
/// an empty zone).
///
/// # Errors
/// A missing file, a missing column or a cell that is not a number.
pub fn read_scar_marks(path: &Path) -> anyhow::Result<MarksByImage> {
    let (header, rows) = read_csv(path)?;
    let id = column(&header, "image_id", path)?;
    let x = column(&header, "x_px", path)?;
    let y = column(&header, "y_px", path)?;
    let zone = header.iter().position(|h| h == "zone");
    let diameter = header.iter().position(|h| h == "diameter_mm");
    let kind = header.iter().position(|h| h == "type");
    let mut out: MarksByImage = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let line = i + 2;
        let cell = |c: Option<usize>| c.and_then(|c| r.get(c)).unwrap_or_default();
        let need = |c: usize, what: &str| {
            number_cell(cell(Some(c)), what, path, line)?
                .with_context(|| format!("{} line {line}: {what} is empty", path.display()))
        };
        let mark = ScarMark {
            x_px: need(x, "x_px")?,
            y_px: need(y, "y_px")?,
            diameter_mm: number_cell(cell(diameter), "diameter_mm", path, line)?,
            kind: Some(cell(kind).trim().to_owned()).filter(|k| !k.is_empty()),
        };
        out.entry((cell(Some(id)).to_owned(), cell(zone).to_owned()))
            .or_default()
            .push(mark);
    }
    Ok(out)
}

/// A mask PNG as booleans (nonzero = on).
fn read_mask(path: &Path) -> Result<GrayImage, String> {
    image::open(path)
        .map(|i| i.to_luma8())
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn as_bool(img: &GrayImage) -> LineMask {
    Array2::from_shape_fn((img.height() as usize, img.width() as usize), |(r, c)| {
        img.get_pixel(c as u32, r as u32)[0] != 0
    })
}

/// The pixels of zone `name` in a zone mask: its index, or every face zone for `face`.
fn zone_test(name: &str) -> Option<Box<dyn Fn(u8) -> bool>> {
    if name == crate::segment::face::zones::ZONE_FACE {
        return Some(Box::new(|v| (1..=9).contains(&v)));
    }
    zone_index(name).map(|i| Box::new(move |v| v == i) as Box<dyn Fn(u8) -> bool>)
}

/// Everything one image's comparisons need, loaded once.
struct ImageData {
    zones: GrayImage,
    /// Line masks by source (`Err`: why there is none).
    lines: [Result<LineMask, String>; 3],
    near: [Option<LineMask>; 3],
    /// Scar marks by source and zone (`Err`: why there are none).
    scars: [Result<HashMap<String, Vec<ScarMark>>, String>; 3],
}

fn slot(s: Source) -> usize {
    match s {
        Source::Skintex => 0,
        Source::RaterA => 1,
        Source::RaterB => 2,
    }
}

/// Scar marks keyed by image id and zone (an empty zone for an expert's marks).
pub type MarksByImage = HashMap<(String, String), Vec<ScarMark>>;

/// One image's overlay inputs: the zone map, the line masks and the whole-image zone's scar marks
/// by source (skintex, rater A, rater B).
pub(crate) type Overlay = (GrayImage, [Option<LineMask>; 3], [Vec<ScarMark>; 3]);

/// Every input of a run, read once.
pub struct AgreeInputs {
    pub images: Vec<AnalysedImage>,
    detected_scars: MarksByImage,
    rater_scars: [Option<MarksByImage>; 2],
}

impl AgreeInputs {
    /// Read the analysis and the raters' scar files.
    ///
    /// # Errors
    /// A missing or malformed table.
    pub fn read(settings: &AgreeSettings) -> anyhow::Result<Self> {
        let images = read_analysis(&settings.results)?;
        let detected_scars = read_scar_marks(&settings.results.join("scars.csv"))?;
        let scars = |r: Option<&Rater>| -> anyhow::Result<_> {
            r.and_then(|r| r.scars.as_deref())
                .map(read_scar_marks)
                .transpose()
        };
        let rater_scars = [
            scars(Some(&settings.rater_a))?,
            scars(settings.rater_b.as_ref())?,
        ];
        for (marks, who) in rater_scars.iter().zip(["rater A", "rater B"]) {
            let known: std::collections::HashSet<&str> =
                images.iter().map(|i| i.image_id.as_str()).collect();
            let mut unknown: Vec<&str> = marks
                .iter()
                .flat_map(|m| m.keys())
                .map(|(id, _)| id.as_str())
                .filter(|id| !known.contains(id))
                .collect();
            unknown.sort_unstable();
            unknown.dedup();
            if !unknown.is_empty() {
                tracing::warn!(
                    "{who}'s scars of {} not among the analysed images: {}",
                    crate::plural(unknown.len(), "image"),
                    unknown.join(", ")
                );
            }
        }
        Ok(Self {
            images,
            detected_scars,
            rater_scars,
        })
    }
}

/// The comparisons of a run.
pub fn comparisons(settings: &AgreeSettings) -> Vec<Comparison> {
    let mut out = vec![Comparison {
        reference: Source::RaterA,
        compared: Source::Skintex,
    }];
    if settings.rater_b.is_some() {
        out.push(Comparison {
            reference: Source::RaterB,
            compared: Source::Skintex,
        });
        out.push(Comparison {
            reference: Source::RaterA,
            compared: Source::RaterB,
        });
    }
    out
}

/// Load what one image's comparisons need.
fn image_data(
    settings: &AgreeSettings,
    inputs: &AgreeInputs,
    image: &AnalysedImage,
) -> Result<ImageData, String> {
    let zones = read_mask(&mask_path(
        &settings.results,
        &image.image_id,
        MaskKind::Zones,
    ))
    .map_err(|e| format!("{e} (analyse with --save-masks)"))?;
    let (w, h) = zones.dimensions();
    let sized = |img: GrayImage, what: &str| {
        if img.dimensions() == (w, h) {
            Ok(as_bool(&img))
        } else {
            Err(format!(
                "{what} is {}x{} px, the photo {w}x{h} px",
                img.width(),
                img.height()
            ))
        }
    };
    let skintex_lines = read_mask(&mask_path(
        &settings.results,
        &image.image_id,
        MaskKind::Lines,
    ))
    .and_then(|m| sized(m, "the lines mask"));
    let rater_lines = |r: Option<&Rater>, column: Option<&PathBuf>, who: &str| {
        let file = match (r.and_then(|r| r.lines_masks.as_ref()), column) {
            (Some(dir), _) => dir.join(format!("{}.png", image.image_id)),
            (None, Some(file)) => file.clone(),
            (None, None) => return Err(format!("no line masks of {who} given")),
        };
        read_mask(&file).and_then(|m| sized(m, &format!("{who}'s line mask")))
    };
    let lines = [
        skintex_lines,
        rater_lines(
            Some(&settings.rater_a),
            image.lines_mask.as_ref(),
            "rater A",
        ),
        rater_lines(settings.rater_b.as_ref(), None, "rater B"),
    ];
    let near = std::array::from_fn(|i| {
        lines[i]
            .as_ref()
            .ok()
            .map(|m| near(m, settings.tolerance_px))
    });
    // Skintex's scars by the zone scars.csv gives; the raters' by their centre pixel.
    let mut detected: HashMap<String, Vec<ScarMark>> = HashMap::new();
    for zone in &image.zones {
        if let Some(m) = inputs
            .detected_scars
            .get(&(image.image_id.clone(), zone.clone()))
        {
            detected.insert(zone.clone(), m.clone());
        }
    }
    let by_centre = |marks: &Option<MarksByImage>, who: &str| {
        let Some(marks) = marks else {
            return Err(format!("no scar marks of {who} given"));
        };
        let mine = marks
            .get(&(image.image_id.clone(), String::new()))
            .map_or(&[][..], Vec::as_slice);
        let mut out: HashMap<String, Vec<ScarMark>> = HashMap::new();
        for zone in &image.zones {
            let Some(test) = zone_test(zone) else {
                continue;
            };
            let inside: Vec<ScarMark> = mine
                .iter()
                .filter(|m| {
                    let (x, y) = (m.x_px.round(), m.y_px.round());
                    x >= 0.0
                        && y >= 0.0
                        && (x as u32) < w
                        && (y as u32) < h
                        && test(zones.get_pixel(x as u32, y as u32)[0])
                })
                .cloned()
                .collect();
            out.insert(zone.clone(), inside);
        }
        Ok(out)
    };
    let scars = [
        Ok(detected),
        by_centre(&inputs.rater_scars[0], "rater A"),
        by_centre(&inputs.rater_scars[1], "rater B"),
    ];
    Ok(ImageData {
        zones,
        lines,
        near,
        scars,
    })
}

/// The agreement rows of one image: every zone × comparison.
pub fn image_rows(
    settings: &AgreeSettings,
    inputs: &AgreeInputs,
    image: &AnalysedImage,
) -> Vec<AgreementRow> {
    let data = image_data(settings, inputs, image);
    let mut rows = Vec::new();
    for zone in &image.zones {
        for &cmp in &comparisons(settings) {
            let (r, c) = (slot(cmp.reference), slot(cmp.compared));
            let mut row = AgreementRow {
                image_id: image.image_id.clone(),
                zone: zone.clone(),
                comparison: cmp,
                lines: Err(String::new()),
                lines_annotated_mm: Err(String::new()),
                lines_detected_mm: Err(String::new()),
                scars: Err(String::new()),
            };
            let data = match (&data, zone_test(zone)) {
                (Err(why), _) => {
                    row.fill_missing(why);
                    rows.push(row);
                    continue;
                }
                (Ok(_), None) => {
                    row.fill_missing("zone not in the zone mask legend");
                    rows.push(row);
                    continue;
                }
                (Ok(d), Some(test)) => (d, test),
            };
            let (d, test) = data;
            let in_zone = |y: usize, x: usize| test(d.zones.get_pixel(x as u32, y as u32)[0]);
            let bbox = zone_bbox(&d.zones, &*test);
            row.lines = match (&d.lines[r], &d.lines[c], &d.near[r], &d.near[c]) {
                (Ok(rm), Ok(cm), Some(nr), Some(nc)) => {
                    Ok(LineCounts::of(rm, cm, nr, nc, &in_zone))
                }
                (Err(why), _, _, _) | (_, Err(why), _, _) => Err(why.clone()),
                _ => Err("no line mask".into()),
            };
            let length = |m: &Result<LineMask, String>| -> Result<f64, String> {
                let m = m.as_ref().map_err(Clone::clone)?;
                let ppm = image
                    .px_per_mm
                    .ok_or_else(|| "uncalibrated image".to_owned())?;
                Ok(skeleton_length_in_zone(m, &in_zone, bbox) / ppm)
            };
            row.lines_annotated_mm = length(&d.lines[r]);
            row.lines_detected_mm = length(&d.lines[c]);
            row.scars = match (&d.scars[r], &d.scars[c], image.px_per_mm) {
                (Err(why), _, _) | (_, Err(why), _) => Err(why.clone()),
                (_, _, None) => Err("uncalibrated image: the match distance is in mm".into()),
                (Ok(rs), Ok(cs), Some(ppm)) => {
                    let get = |m: &HashMap<String, Vec<ScarMark>>| {
                        m.get(zone).cloned().unwrap_or_default()
                    };
                    Ok(ScarCounts::of(&get(rs), &get(cs), ppm, settings.match_mm))
                }
            };
            rows.push(row);
        }
    }
    rows
}

impl AgreementRow {
    fn fill_missing(&mut self, why: &str) {
        self.lines = Err(why.to_owned());
        self.lines_annotated_mm = Err(why.to_owned());
        self.lines_detected_mm = Err(why.to_owned());
        self.scars = Err(why.to_owned());
    }
}

/// Bounding box `[x0, y0, x1, y1)` of the pixels of a zone.
fn zone_bbox(zones: &GrayImage, test: &dyn Fn(u8) -> bool) -> [usize; 4] {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (x, y, p) in zones.enumerate_pixels() {
        if test(p[0]) {
            let (x, y) = (x as usize, y as usize);
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + 1);
            y1 = y1.max(y + 1);
        }
    }
    if x1 == 0 {
        [0, 0, 0, 0]
    } else {
        [x0, y0, x1, y1]
    }
}

/// The zone of an image that covers all others: `face` or `full` (else its first zone).
pub fn whole_zone(image: &AnalysedImage) -> Option<&str> {
    image
        .zones
        .iter()
        .find(|z| *z == crate::segment::face::zones::ZONE_FACE || *z == crate::segment::ZONE_FULL)
        .or(image.zones.first())
        .map(String::as_str)
}

/// What `skintex agree` computed.
pub struct AgreeOutcome {
    pub rows: Vec<AgreementRow>,
    pub summary: Vec<summary::SummaryRow>,
}

/// Every agreement row and the summary of a run (no I/O beyond reading the inputs).
///
/// # Errors
/// A missing or malformed input table.
pub fn compute(settings: &AgreeSettings) -> anyhow::Result<(AgreeInputs, AgreeOutcome)> {
    use rayon::prelude::*;
    let inputs = AgreeInputs::read(settings)?;
    if settings.rater_a.lines_masks.is_none()
        && settings.rater_a.scars.is_none()
        && inputs.images.iter().all(|i| i.lines_mask.is_none())
    {
        bail!(
            "give rater A's annotations: --lines-masks DIR, --scars FILE.csv, or a manifest \
             column {LINES_MASK_COLUMN} (carried into images.csv)"
        );
    }
    let rows: Vec<AgreementRow> = inputs
        .images
        .par_iter()
        .map(|im| image_rows(settings, &inputs, im))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    let summary = summary::summarise(&rows, &comparisons(settings));
    Ok((inputs, AgreeOutcome { rows, summary }))
}

/// `skintex agree`: [`compute`], then [`write_outputs`].
///
/// # Errors
/// A missing or malformed input, or an unwritable output folder.
pub fn run_agree(settings: &AgreeSettings) -> anyhow::Result<AgreeOutcome> {
    let (inputs, outcome) = compute(settings)?;
    write_outputs(settings, &inputs, &outcome)?;
    Ok(outcome)
}

/// Write agreement.csv, summary.csv and agreement.html into `settings.out`, each atomically.
///
/// # Errors
/// An unwritable output folder or file.
pub fn write_outputs(
    settings: &AgreeSettings,
    inputs: &AgreeInputs,
    outcome: &AgreeOutcome,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.out)
        .with_context(|| format!("creating {}", settings.out.display()))?;
    crate::output::write_atomic(
        &settings.out.join("agreement.csv"),
        &agreement_csv(&outcome.rows),
    )?;
    crate::output::write_atomic(
        &settings.out.join("summary.csv"),
        &summary::summary_csv(&outcome.summary),
    )?;
    let html = report::agreement_html(settings, inputs, outcome);
    crate::output::write_atomic(&settings.out.join("agreement.html"), html.as_bytes())?;
    Ok(())
}

/// Overlay data for the report: one image's masks (by source) and zone map, loaded again.
pub(crate) fn overlay_masks(
    settings: &AgreeSettings,
    inputs: &AgreeInputs,
    image: &AnalysedImage,
) -> Option<Overlay> {
    let d = image_data(settings, inputs, image).ok()?;
    let whole = whole_zone(image)?.to_owned();
    let marks = std::array::from_fn(|i| {
        d.scars[i]
            .as_ref()
            .ok()
            .and_then(|m| m.get(&whole).cloned())
            .unwrap_or_default()
    });
    let ImageData { zones, lines, .. } = d;
    let [a, b, c] = lines;
    Some((zones, [a.ok(), b.ok(), c.ok()], marks))
}
