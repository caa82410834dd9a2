//! The per-run tables (`metrics.csv`, `images.csv`, `lines.csv`, `scars.csv`, `timings.csv`):
//! column declarations and the rows each image contributes.

use serde::{Deserialize, Serialize};

use crate::calibration::Calibration;
use crate::input::ImageInput;
use crate::input::decode::ImageInfo;
use crate::metrics::capture::{self, CaptureQuality};
use crate::metrics::{ColumnSpec, ZoneMeasurement, metric_columns};
use crate::segment::RoiMode;

use super::format_number;

/// The outcome of one zone of one image.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneRecord {
    pub zone: String,
    pub area_px: usize,
    pub measurement: ZoneMeasurement,
}

/// What the face models found on one image.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceSummary {
    /// Faces detected (the largest was analysed); 0 when none was found.
    pub faces_found: usize,
    /// Detector score of the analysed face, 0-1.
    pub detection_score: Option<f64>,
    /// Iris-based px/mm of the subject's left and right eye.
    pub iris_left_px_per_mm: Option<f64>,
    pub iris_right_px_per_mm: Option<f64>,
    /// |left - right| / mean of the iris estimates.
    pub iris_disagreement: Option<f64>,
    /// Whether the iris estimates disagree by more than `face.iris_max_disagreement`.
    pub iris_flagged: bool,
    /// The face mesh landmarks `[x, y]` in upright-image px (empty when no face was analysed).
    pub landmarks: Vec<[f64; 2]>,
}

/// What the colour chart of one analysed image gave (see [`crate::chart`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartSummary {
    /// Whether a chart was found (or boxed by the manifest).
    pub found: bool,
    /// Mean CIEDE2000 of the 24 patches against the reference, as photographed.
    pub delta_e00_before: Option<f64>,
    /// The same after the colour correction.
    pub delta_e00_after: Option<f64>,
    /// Whether tone was measured on the corrected colour.
    pub tone_corrected: bool,
}

/// The outcome of one image: what is known about it and either its zones or the reason it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRecord {
    pub input: ImageInput,
    pub info: Option<ImageInfo>,
    pub calibration: Calibration,
    /// Region of interest used for this image.
    pub roi: RoiMode,
    /// Face detection results under `--roi face`.
    pub face: Option<FaceSummary>,
    /// The colour chart, when the image got as far as looking for one.
    pub chart: Option<ChartSummary>,
    /// Capture quality of an analysed image (`capture_*` columns of images.csv).
    pub capture: Option<CaptureQuality>,
    pub outcome: Result<Vec<ZoneRecord>, String>,
    /// Where the wall-clock time went (written to `timings.csv`, not to the data tables).
    pub timing: StageTimes,
}

/// Wall-clock milliseconds one image spent in each stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimes {
    pub decode_ms: f64,
    pub colour_ms: f64,
    pub segment_ms: f64,
    pub measure_ms: f64,
    pub qc_ms: f64,
    pub total_ms: f64,
}

impl ImageRecord {
    pub fn is_ok(&self) -> bool {
        self.outcome.is_ok()
    }
}

/// A column of an output table, with the spec that documents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub unit: String,
    pub description: String,
}

impl From<&ColumnSpec> for Column {
    fn from(s: &ColumnSpec) -> Self {
        Self {
            name: s.name.to_owned(),
            unit: s.unit.to_owned(),
            description: s.description.to_owned(),
        }
    }
}

use crate::metrics::spec;

/// Leading key columns of both tables (then the manifest's carried columns).
pub const KEY_COLUMNS: &[ColumnSpec] = &[
    spec(
        "image_id",
        "",
        "Image identifier: the manifest's image_id, else the file's path relative to the input folder without extension.",
    ),
    spec(
        "path",
        "",
        "Path of the image file as read (the image_id for pixels given in memory).",
    ),
];

/// Zone and calibration columns of `metrics.csv`, after the carried columns.
pub const ZONE_COLUMNS: &[ColumnSpec] = &[
    spec(
        "zone",
        "",
        "Zone name: `full` (whole image, roi full) or a face zone (roi face): forehead, glabella, periorbital_left, periorbital_right (crow's-feet areas), cheek_left, cheek_right, nose, perioral, chin, and face (all zones together). Left and right are the subject's own.",
    ),
    spec("zone_area_px", "px", "Number of pixels in the zone."),
    spec(
        "zone_area_mm2",
        "mm2",
        "Zone area: zone_area_px / px_per_mm^2. Empty when uncalibrated.",
    ),
    spec(
        "px_per_mm",
        "px/mm",
        "Calibration used for this image. Empty when uncalibrated.",
    ),
    spec(
        "calibration",
        "",
        "Source of px_per_mm: cli (--px-per-mm), manifest (px_per_mm column), iris (from the iris diameter) or none.",
    ),
];

/// Last column of `metrics.csv`.
pub const MISSING_REASONS: ColumnSpec = spec(
    "missing_reasons",
    "",
    "For every empty metric cell of the row: `column: reason`, separated by `; `.",
);

/// Columns of `images.csv` after the carried columns.
pub const IMAGE_COLUMNS: &[ColumnSpec] = &[
    spec(
        "status",
        "",
        "ok, or error when the image could not be analysed.",
    ),
    spec(
        "error",
        "",
        "Why the image failed (file and reason); empty when ok.",
    ),
    spec(
        "format",
        "",
        "Detected file format from the content: jpeg, png or tiff; array for pixels given in memory (Python package).",
    ),
    spec(
        "width",
        "px",
        "Image width after applying the EXIF orientation.",
    ),
    spec(
        "height",
        "px",
        "Image height after applying the EXIF orientation.",
    ),
    spec(
        "bit_depth",
        "bit",
        "Bits per channel sample as stored (8, 16, or 32 for float).",
    ),
    spec(
        "channels",
        "",
        "Channel layout as stored: grey, grey+alpha, rgb or rgba.",
    ),
    spec(
        "exif_orientation",
        "1",
        "EXIF orientation tag 1-8 applied before analysis (1 = upright or no tag).",
    ),
    spec(
        "invalid_px",
        "px",
        "Pixels with a NaN or infinite sample (floating-point TIFF): filled with the channel mean for filtering and left out of every zone.",
    ),
    spec(
        "px_per_mm",
        "px/mm",
        "Calibration used. Empty when uncalibrated.",
    ),
    spec(
        "calibration",
        "",
        "Source of px_per_mm: cli (--px-per-mm), manifest (px_per_mm column), iris (11.7 mm iris diameter, face models) or none.",
    ),
    spec(
        "roi",
        "",
        "Region of interest: face (anatomical zones from the face models) or full (whole image).",
    ),
    spec(
        "faces_found",
        "1",
        "Faces found by the detector (roi face; from face.min_face_fraction of the long side up, in any 90-degree orientation), less those the face mesh rejected; the largest the mesh confirmed was analysed. 0 = no face.",
    ),
    spec(
        "face_score",
        "1",
        "Detector confidence of the analysed face, 0-1.",
    ),
    spec(
        "iris_left_px_per_mm",
        "px/mm",
        "Scale from the subject's left iris: horizontal visible iris diameter in px / 11.7 mm.",
    ),
    spec(
        "iris_right_px_per_mm",
        "px/mm",
        "Scale from the subject's right iris.",
    ),
    spec(
        "iris_disagreement",
        "1",
        "|left - right| / mean of the two iris estimates.",
    ),
    spec(
        "iris_flag",
        "",
        "`disagree` when the two iris estimates differ by more than face.iris_max_disagreement (default 10%): check the calibration.",
    ),
    spec(
        "zones",
        "1",
        "Number of zones measured (rows of this image in metrics.csv).",
    ),
    spec(
        "chart_found",
        "",
        "true when a 24-patch ColorChecker Classic was found in the photo (chart.detect) or boxed by the manifest's chart_box column, else false; its area, with a margin of chart.margin_cells patch pitches, is left out of every zone. Empty for images that failed.",
    ),
    spec(
        "chart_delta_e00_before",
        "DeltaE00",
        "Mean CIEDE2000 (Sharma 2005) over the 24 patches between their colour in the photo and X-Rite's post-2014 reference (D50 L*a*b*, Bradford-adapted to D65). Empty when chart_found is not true.",
    ),
    spec(
        "chart_delta_e00_after",
        "DeltaE00",
        "The same after the colour correction fitted to the chart (chart.root_polynomial_degree; the fit's own residual). Empty when there is no chart or too few unclipped patches to fit one.",
    ),
    spec(
        "tone_correction",
        "",
        "chart: the tone_* columns of metrics.csv were measured on colour corrected by the chart; none: on the photo's colour as it is (no chart, or no correction could be fitted). Empty for images that failed.",
    ),
];

/// Columns of `timings.csv` after the key columns. The only output that changes from run to run:
/// it measures the machine, not the photo, so it is kept out of the data tables.
pub const TIMING_COLUMNS: &[ColumnSpec] = &[
    spec(
        "decode_ms",
        "ms",
        "Reading and decoding the file, EXIF orientation applied.",
    ),
    spec(
        "colour_ms",
        "ms",
        "Conversion to linear RGB and CIE L*a*b* planes, and the colour-chart search and fit.",
    ),
    spec(
        "segment_ms",
        "ms",
        "Finding the regions of interest (face models and zones, or the whole image).",
    ),
    spec("measure_ms", "ms", "All metric families over all zones."),
    spec("qc_ms", "ms", "Drawing and writing the QC picture."),
    spec(
        "total_ms",
        "ms",
        "Whole image, including the stages above and hashing for the record store.",
    ),
    spec(
        "resumed",
        "",
        "`yes` when the image's results were taken from an earlier run's record (--resume, merge); the times are then that run's.",
    ),
];

fn carried(names: &[String]) -> Vec<Column> {
    names
        .iter()
        .map(|n| Column {
            name: n.clone(),
            unit: String::new(),
            description: "Carried unchanged from the manifest.".to_owned(),
        })
        .collect()
}

/// The columns of `metrics.csv` for a run with these carried manifest columns.
pub fn metrics_columns(carried_columns: &[String]) -> Vec<Column> {
    let mut cols: Vec<Column> = KEY_COLUMNS.iter().map(Column::from).collect();
    cols.extend(carried(carried_columns));
    cols.extend(ZONE_COLUMNS.iter().map(Column::from));
    cols.extend(metric_columns().iter().map(Column::from));
    cols.push(Column::from(&MISSING_REASONS));
    cols
}

/// The columns of `images.csv` for a run with these carried manifest columns.
pub fn images_columns(carried_columns: &[String]) -> Vec<Column> {
    let mut cols: Vec<Column> = KEY_COLUMNS.iter().map(Column::from).collect();
    cols.extend(carried(carried_columns));
    cols.extend(IMAGE_COLUMNS.iter().map(Column::from));
    cols.extend(
        capture::COLUMNS
            .iter()
            .chain(capture::TEXT_COLUMNS)
            .map(Column::from),
    );
    cols
}

/// How many of `images` failed because no face was found (`faces_found` 0 in their
/// `images.csv` row), resumed ones included.
pub fn count_no_face(images: &[ImageRows], carried_columns: &[String]) -> usize {
    let Some(col) = images_columns(carried_columns)
        .iter()
        .position(|c| c.name == "faces_found")
    else {
        return 0;
    };
    images
        .iter()
        .filter(|r| !r.ok && r.image.get(col).is_some_and(|v| v == "0"))
        .count()
}

/// Output column names that a manifest column may not take.
pub fn reserved_column_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = KEY_COLUMNS
        .iter()
        .chain(ZONE_COLUMNS)
        .chain(IMAGE_COLUMNS)
        .chain(capture::COLUMNS)
        .chain(capture::TEXT_COLUMNS)
        .map(|c| c.name)
        .collect();
    names.extend(metric_columns().iter().map(|c| c.name));
    names.push(MISSING_REASONS.name);
    names
}

fn optional(value: Option<f64>) -> String {
    value.map(format_number).unwrap_or_default()
}

/// A table's bytes: header from `columns`, then `rows`, `\n` line ends.
pub fn csv_bytes<'a>(columns: &[Column], rows: impl Iterator<Item = &'a [String]>) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(columns.iter().map(|c| c.name.as_str()));
    for row in rows {
        let _ = writer.write_record(row);
    }
    writer.into_inner().unwrap_or_default()
}

/// The cells one image contributes to every table, already formatted.
///
/// This is the unit that the record store keeps for `--resume` and that `skintex merge` joins:
/// a table is its header followed by the rows of each image in input order, so tables rebuilt
/// from stored rows are byte-identical to those of an uninterrupted run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRows {
    pub image_id: String,
    pub path: String,
    pub ok: bool,
    pub metrics: Vec<Vec<String>>,
    pub image: Vec<String>,
    pub lines: Vec<Vec<String>>,
    pub scars: Vec<Vec<String>>,
    pub pores: Vec<Vec<String>>,
    pub landmarks: Vec<Vec<String>>,
    pub timing: StageTimes,
}

impl ImageRows {
    /// Format every row of one analysed image.
    pub fn from_record(rec: &ImageRecord) -> Self {
        Self {
            image_id: rec.input.image_id.clone(),
            path: rec.input.display_path.clone(),
            ok: rec.is_ok(),
            metrics: metrics_rows(rec),
            image: image_row(rec),
            lines: lines_rows(rec),
            scars: scars_rows(rec),
            pores: pores_rows(rec),
            landmarks: landmark_rows(rec),
            timing: rec.timing,
        }
    }
}

/// Every table of a run, in the order of [`super::dictionary::tables`].
pub fn table_bytes(
    images: &[ImageRows],
    carried_columns: &[String],
) -> [(&'static str, Vec<u8>); 6] {
    let many = |pick: fn(&ImageRows) -> &Vec<Vec<String>>| {
        images
            .iter()
            .flat_map(move |r| pick(r).iter().map(Vec::as_slice))
    };
    [
        (
            "metrics.csv",
            csv_bytes(&metrics_columns(carried_columns), many(|r| &r.metrics)),
        ),
        (
            "images.csv",
            csv_bytes(
                &images_columns(carried_columns),
                images.iter().map(|r| r.image.as_slice()),
            ),
        ),
        (
            "lines.csv",
            csv_bytes(&lines_columns(carried_columns), many(|r| &r.lines)),
        ),
        (
            "scars.csv",
            csv_bytes(&scars_columns(carried_columns), many(|r| &r.scars)),
        ),
        (
            "pores.csv",
            csv_bytes(&pores_columns(carried_columns), many(|r| &r.pores)),
        ),
        (
            "landmarks.csv",
            csv_bytes(&landmarks_columns(), many(|r| &r.landmarks)),
        ),
    ]
}

/// Columns of `landmarks.csv` after the key columns.
pub const LANDMARK_COLUMNS: &[ColumnSpec] = &[
    spec(
        "landmark",
        "1",
        "MediaPipe face mesh landmark index, 0-467 (models/README.md).",
    ),
    spec("x_px", "px", "Column of the landmark in the upright image."),
    spec("y_px", "px", "Row of the landmark in the upright image."),
];

/// The columns of `landmarks.csv` (face photos only; `skintex study` aligns visits with them).
pub fn landmarks_columns() -> Vec<Column> {
    KEY_COLUMNS
        .iter()
        .chain(LANDMARK_COLUMNS)
        .map(Column::from)
        .collect()
}

/// `landmarks.csv` rows of one image.
fn landmark_rows(rec: &ImageRecord) -> Vec<Vec<String>> {
    let Some(face) = rec.face.as_ref().filter(|_| rec.is_ok()) else {
        return Vec::new();
    };
    face.landmarks
        .iter()
        .enumerate()
        .map(|(i, [x, y])| {
            vec![
                rec.input.image_id.clone(),
                rec.input.display_path.clone(),
                i.to_string(),
                format_number(*x),
                format_number(*y),
            ]
        })
        .collect()
}

/// The columns of `timings.csv`.
pub fn timings_columns() -> Vec<Column> {
    KEY_COLUMNS
        .iter()
        .chain(TIMING_COLUMNS)
        .map(Column::from)
        .collect()
}

/// `timings.csv`: per image and stage, wall-clock ms (`resumed[i]` marks rows taken from records).
pub fn timings_csv(images: &[ImageRows], resumed: &[bool]) -> Vec<u8> {
    let ms = |v: f64| format!("{v:.1}");
    let rows: Vec<Vec<String>> = images
        .iter()
        .zip(resumed)
        .map(|(r, &resumed)| {
            let t = &r.timing;
            vec![
                r.image_id.clone(),
                r.path.clone(),
                ms(t.decode_ms),
                ms(t.colour_ms),
                ms(t.segment_ms),
                ms(t.measure_ms),
                ms(t.qc_ms),
                ms(t.total_ms),
                if resumed { "yes" } else { "no" }.to_owned(),
            ]
        })
        .collect();
    csv_bytes(&timings_columns(), rows.iter().map(Vec::as_slice))
}

/// `metrics.csv` rows of one image: one per zone.
fn metrics_rows(rec: &ImageRecord) -> Vec<Vec<String>> {
    let names: Vec<&str> = metric_columns().iter().map(|c| c.name).collect();
    let zones = rec.outcome.as_deref().unwrap_or(&[]);
    zones
        .iter()
        .map(|zone| {
            let ppm = rec.calibration.px_per_mm;
            let mut reasons: Vec<(&str, String)> = Vec::new();
            let area_mm2 = match ppm {
                Some(p) => Some(zone.area_px as f64 / (p * p)),
                None => {
                    reasons.push(("zone_area_mm2", "uncalibrated".to_owned()));
                    None
                }
            };
            let mut row = vec![rec.input.image_id.clone(), rec.input.display_path.clone()];
            row.extend(rec.input.carried.iter().cloned());
            row.extend([
                zone.zone.clone(),
                zone.area_px.to_string(),
                optional(area_mm2),
                optional(ppm),
                rec.calibration.source.label().to_owned(),
            ]);
            for (name, value) in names.iter().zip(&zone.measurement.values) {
                match value {
                    Ok(v) if v.is_finite() => row.push(format_number(*v)),
                    Ok(_) => {
                        reasons.push((name, "not a finite number".to_owned()));
                        row.push(String::new());
                    }
                    Err(missing) => {
                        reasons.push((name, missing.0.clone()));
                        row.push(String::new());
                    }
                }
            }
            row.push(missing_reasons(&reasons, &names));
            row
        })
        .collect()
}

/// The `missing_reasons` cell: columns sharing a reason are listed together, in column order,
/// and a metric family whose columns all share it is written `family_*`, e.g.
/// `rough_*, lines_*: uncalibrated; tone_ita_deg: |mean b*| below ...`.
pub fn missing_reasons(reasons: &[(&str, String)], metric_names: &[&str]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (name, reason) in reasons {
        match groups.iter_mut().find(|(r, _)| r == reason) {
            Some((_, names)) => names.push(name),
            None => groups.push((reason, vec![name])),
        }
    }
    let family = |name: &str| name.split('_').next().unwrap_or(name).to_owned();
    groups
        .into_iter()
        .map(|(reason, names)| {
            let mut shown: Vec<String> = Vec::new();
            for name in &names {
                let fam = family(name);
                let whole_family = metric_names
                    .iter()
                    .filter(|m| family(m) == fam)
                    .all(|m| names.contains(m));
                let label = if whole_family && metric_names.contains(name) {
                    format!("{fam}_*")
                } else {
                    (*name).to_owned()
                };
                if !shown.contains(&label) {
                    shown.push(label);
                }
            }
            format!("{}: {reason}", shown.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `images.csv` row of one image.
fn image_row(rec: &ImageRecord) -> Vec<String> {
    let mut row = vec![rec.input.image_id.clone(), rec.input.display_path.clone()];
    row.extend(rec.input.carried.iter().cloned());
    let info = rec.info.as_ref();
    let face = rec.face.as_ref();
    let (status, error, zones) = match &rec.outcome {
        Ok(z) => ("ok", String::new(), z.len().to_string()),
        Err(e) => ("error", e.clone(), String::new()),
    };
    row.extend([
        status.to_owned(),
        error,
        info.map(|i| i.format.to_owned()).unwrap_or_default(),
        info.map(|i| i.width.to_string()).unwrap_or_default(),
        info.map(|i| i.height.to_string()).unwrap_or_default(),
        info.map(|i| i.bit_depth.to_string()).unwrap_or_default(),
        info.map(|i| i.channels.to_owned()).unwrap_or_default(),
        info.map(|i| i.exif_orientation.to_string())
            .unwrap_or_default(),
        info.map(|i| i.invalid_px.to_string()).unwrap_or_default(),
        optional(rec.calibration.px_per_mm),
        rec.calibration.source.label().to_owned(),
        match rec.roi {
            RoiMode::Face => "face",
            RoiMode::Full => "full",
        }
        .to_owned(),
        face.map(|f| f.faces_found.to_string()).unwrap_or_default(),
        optional(face.and_then(|f| f.detection_score)),
        optional(face.and_then(|f| f.iris_left_px_per_mm)),
        optional(face.and_then(|f| f.iris_right_px_per_mm)),
        optional(face.and_then(|f| f.iris_disagreement)),
        if face.is_some_and(|f| f.iris_flagged) {
            "disagree"
        } else {
            ""
        }
        .to_owned(),
        zones,
    ]);
    let chart = rec.chart.as_ref();
    row.extend([
        chart.map(|c| c.found.to_string()).unwrap_or_default(),
        optional(chart.and_then(|c| c.delta_e00_before)),
        optional(chart.and_then(|c| c.delta_e00_after)),
        match (chart, rec.is_ok()) {
            (Some(c), true) if c.tone_corrected => "chart",
            (Some(_), true) => "none",
            _ => "",
        }
        .to_owned(),
    ]);
    row.extend(capture_cells(rec.capture.as_ref()));
    row
}

/// The `capture_*` cells of an images.csv row: the values, `capture_wb_source`,
/// `capture_flags` and `capture_missing_reasons` (all empty for an image not analysed, whose
/// `error` says why).
fn capture_cells(capture: Option<&CaptureQuality>) -> Vec<String> {
    let Some(q) = capture else {
        return vec![String::new(); capture::COLUMNS.len() + capture::TEXT_COLUMNS.len()];
    };
    let mut reasons: Vec<(&str, String)> = Vec::new();
    let mut row: Vec<String> = capture::COLUMNS
        .iter()
        .zip(&q.values)
        .map(|(c, v)| match v {
            Ok(x) => format_number(*x),
            Err(missing) => {
                reasons.push((c.name, missing.0.clone()));
                String::new()
            }
        })
        .collect();
    let names: Vec<&str> = capture::COLUMNS.iter().map(|c| c.name).collect();
    row.push(q.wb_source.clone());
    row.push(q.flags.join(";"));
    row.push(missing_reasons(&reasons, &names));
    row
}

/// Columns of `lines.csv` after the key, carried and `zone` columns.
pub const LINE_COLUMNS: &[ColumnSpec] = &[
    spec(
        "line_id",
        "1",
        "Line number within the zone, 1-based, in detection order.",
    ),
    spec("length_mm", "mm", "Skeleton length of the line."),
    spec("width_mm", "mm", "Mean width of the line."),
    spec(
        "depth",
        "1",
        "Mean valley contrast relative to the surround (pseudo-height units).",
    ),
    spec(
        "orientation_deg",
        "deg",
        "Line orientation, 0 = horizontal, 0-180 counter-clockwise in the image.",
    ),
    spec(
        "x_px",
        "px",
        "Column of the skeleton's centroid in the upright image.",
    ),
    spec(
        "y_px",
        "px",
        "Row of the skeleton's centroid in the upright image.",
    ),
];

/// Columns of `scars.csv` after the key, carried and `zone` columns.
pub const SCAR_COLUMNS: &[ColumnSpec] = &[
    spec(
        "scar_id",
        "1",
        "Scar number within the zone, 1-based, in detection order.",
    ),
    spec(
        "x_px",
        "px",
        "Column of the scar centre in the upright image.",
    ),
    spec("y_px", "px", "Row of the scar centre in the upright image."),
    spec(
        "diameter_mm",
        "mm",
        "Rim diameter: for blobs twice the radius at which the angular-mean radial profile of \
         relative luminance returns to within 15 % of the depth from the surround; for rims \
         twice the wall's mean radius.",
    ),
    spec(
        "area_mm2",
        "mm2",
        "Area of the disk of rim diameter, pi d^2 / 4.",
    ),
    spec(
        "type",
        "",
        "Jacob et al. 2001 type: icepick, boxcar or rolling.",
    ),
    spec(
        "depth",
        "1",
        "Depression contrast relative to the surround (pseudo-height units).",
    ),
    spec(
        "fwhm_mm",
        "mm",
        "What decided it (audit): width at half depth of the angular-mean profile; a scar is at \
         least scars.min_fwhm_mm wide at half depth.",
    ),
    spec(
        "contrast",
        "1",
        "What decided it (audit): peak contrast, surround minus floor (pseudo-height units).",
    ),
    spec(
        "flatness",
        "1",
        "What decided it (audit): share of the segment within 25 % of the depth from its \
         floor (boxcar floors are flat).",
    ),
    spec(
        "steepness",
        "1",
        "What decided it (audit): mean rim gradient x equivalent radius / peak depth (a cone \
         gives 0.5; boxcar walls are steep).",
    ),
    spec(
        "elongation",
        "1",
        "What decided it (audit): axis ratio of the half-depth segment (lines are elongated).",
    ),
    spec(
        "chroma_ratio",
        "1",
        "What decided it (audit): blue / red optical density of the darkening; pigment darkens \
         blue much more than red, shading darkens both alike. Empty when not defined.",
    ),
    spec(
        "shading_od",
        "1",
        "What decided it (audit): grey (shading) part of the darkening's optical density once \
         melanin's share is taken out, (k_B OD_R - k_R OD_B) / (k_B - k_R) with k_R / k_B = \
         0.353 (melanin absorption ~ wavelength^-3.48 at 620 and 460 nm); a chromatic \
         darkening (chroma_ratio > scars.max_chroma_ratio) is kept as a scar only when this \
         is at least scars.min_shading_od and the darkening is at most \
         scars.reddened_shadow_max_mm wide (a reddened shadow; wider, it is melanin). Empty \
         when not defined.",
    ),
    spec(
        "pore_level",
        "1",
        "What decided it (audit): contrast a pore-sized depression had to exceed in this zone \
         (scars.pore_contrast_factor x the 99th percentile of the zone's pore contrasts). \
         Empty when the zone has fewer than 10 pores (and for rims).",
    ),
    spec(
        "found_by",
        "",
        "What decided it (audit): the detector that found the scar. blob: a dark round \
         depression (scale-normalised Laplacian-of-Gaussian blob segmented at half depth); \
         rim: a steep-walled pit found by its closed wall (a dark ring under coaxial light, a \
         dark and a lit crescent under oblique light) around a floor lighter than the wall, \
         where no blob was accepted. fwhm_mm, flatness and pore_level are empty for rims.",
    ),
    spec(
        "rim_snr",
        "1",
        "What decided it (audit), rims only: the wall's energy (Gaussian-smoothed gradient \
         magnitude of the relative luminance) in the weakest of 8 sectors around the pit, in \
         units of its median over the zone; at least scars.min_rim_snr. Empty for blobs.",
    ),
    spec(
        "rim_misfit",
        "1",
        "What decided it (audit), rims only: robust RMS misfit of the wall's radius along 32 \
         rays to a smooth closed curve (Fourier series to the second harmonic: an ellipse fits), \
         per radius; at most 0.1. Empty for blobs.",
    ),
    spec(
        "rim_step",
        "1",
        "What decided it (audit), rims only: the floor's darkening (surround minus floor median) \
         per wall contrast; at most 0.85 (a floor as dark as its wall is a dark disk, the blob \
         detector's). Empty for blobs.",
    ),
];

/// Columns of `pores.csv` after the key, carried and `zone` columns.
pub const PORE_COLUMNS: &[ColumnSpec] = &[
    spec(
        "pore_id",
        "1",
        "Pore number within the zone, 1-based, strongest first.",
    ),
    spec(
        "x_px",
        "px",
        "Column of the pore centre in the upright image.",
    ),
    spec("y_px", "px", "Row of the pore centre in the upright image."),
    spec(
        "diameter_mm",
        "mm",
        "Full width at half depth of the angular-mean radial profile (apparent width).",
    ),
    spec(
        "depth",
        "1",
        "Contrast, surround minus centre of the profile (pseudo-height units).",
    ),
];

const ZONE_KEY: ColumnSpec = spec("zone", "", "Zone in which the detection lies.");

fn detection_columns(carried_columns: &[String], specific: &[ColumnSpec]) -> Vec<Column> {
    let mut cols: Vec<Column> = KEY_COLUMNS.iter().map(Column::from).collect();
    cols.extend(carried(carried_columns));
    cols.push(Column::from(&ZONE_KEY));
    cols.extend(specific.iter().map(Column::from));
    cols
}

/// The columns of `lines.csv`.
pub fn lines_columns(carried_columns: &[String]) -> Vec<Column> {
    detection_columns(carried_columns, LINE_COLUMNS)
}

/// The columns of `scars.csv`.
pub fn scars_columns(carried_columns: &[String]) -> Vec<Column> {
    detection_columns(carried_columns, SCAR_COLUMNS)
}

/// The columns of `pores.csv`.
pub fn pores_columns(carried_columns: &[String]) -> Vec<Column> {
    detection_columns(carried_columns, PORE_COLUMNS)
}

/// Rows for every detection of every zone of one image: key cells, then `detail(index, item)`.
fn detection_rows<T>(
    rec: &ImageRecord,
    items: fn(&ZoneMeasurement) -> &[T],
    detail: impl Fn(usize, &T) -> Vec<String>,
) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for zone in rec.outcome.as_deref().unwrap_or(&[]) {
        for (i, item) in items(&zone.measurement).iter().enumerate() {
            let mut row = vec![rec.input.image_id.clone(), rec.input.display_path.clone()];
            row.extend(rec.input.carried.iter().cloned());
            row.push(zone.zone.clone());
            row.extend(detail(i, item));
            rows.push(row);
        }
    }
    rows
}

/// `lines.csv` rows of one image: one per detected fine line.
fn lines_rows(rec: &ImageRecord) -> Vec<Vec<String>> {
    detection_rows(
        rec,
        |m| &m.lines,
        |i, line: &crate::metrics::LineRecord| {
            let n = line.skeleton.len().max(1) as f64;
            let (sx, sy) = line.skeleton.iter().fold((0.0, 0.0), |(sx, sy), &(x, y)| {
                (sx + f64::from(x), sy + f64::from(y))
            });
            let centroid = |sum: f64| {
                if line.skeleton.is_empty() {
                    String::new()
                } else {
                    format_number(sum / n)
                }
            };
            vec![
                (i + 1).to_string(),
                format_number(line.length_mm),
                format_number(line.width_mm),
                format_number(line.depth),
                format_number(line.orientation_deg),
                centroid(sx),
                centroid(sy),
            ]
        },
    )
}

/// `scars.csv` rows of one image: one per detected scar.
fn scars_rows(rec: &ImageRecord) -> Vec<Vec<String>> {
    detection_rows(
        rec,
        |m| &m.scars,
        |i, scar: &crate::metrics::ScarRecord| {
            vec![
                (i + 1).to_string(),
                format_number(scar.x_px),
                format_number(scar.y_px),
                format_number(scar.diameter_mm),
                format_number(scar.area_mm2),
                scar.kind.label().to_owned(),
                format_number(scar.depth),
                format_number(scar.fwhm_mm),
                format_number(scar.contrast),
                format_number(scar.flatness),
                format_number(scar.steepness),
                format_number(scar.elongation),
                format_number(scar.chroma_ratio),
                format_number(scar.shading_od),
                format_number(scar.pore_level),
                scar.found_by().label().to_owned(),
                format_number(scar.rim.map_or(f64::NAN, |r| r.snr)),
                format_number(scar.rim.map_or(f64::NAN, |r| r.misfit)),
                format_number(scar.rim.map_or(f64::NAN, |r| r.step)),
            ]
        },
    )
}

/// `pores.csv` rows of one image: one per detected pore.
fn pores_rows(rec: &ImageRecord) -> Vec<Vec<String>> {
    detection_rows(
        rec,
        |m| &m.pores,
        |i, pore: &crate::metrics::PoreRecord| {
            vec![
                (i + 1).to_string(),
                format_number(pore.x_px),
                format_number(pore.y_px),
                format_number(pore.diameter_mm),
                format_number(pore.depth),
            ]
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_reasons_group_by_reason_and_family() {
        let names = ["rough_sa", "rough_sq", "tone_l_mean", "tone_ita_deg"];
        let reasons = vec![
            ("zone_area_mm2", "uncalibrated".to_owned()),
            ("rough_sa", "uncalibrated".to_owned()),
            ("rough_sq", "uncalibrated".to_owned()),
            ("tone_ita_deg", "b* near 0".to_owned()),
        ];
        assert_eq!(
            missing_reasons(&reasons, &names),
            "zone_area_mm2, rough_*: uncalibrated; tone_ita_deg: b* near 0"
        );
        assert_eq!(missing_reasons(&[], &names), "");
    }
}
