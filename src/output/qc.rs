//! QC pictures: the photo with what was measured drawn on it, so a reader can check at a glance
//! that the zones sit where they should and the detections are real.
//!
//! Drawn: zone outlines and names (each name moved off the names already placed, see
//! [`place_labels`]), excluded areas shaded, the face box, detected fine lines (skeletons,
//! yellow), detected scars (rings of their equivalent diameter: icepick red, boxcar orange,
//! rolling magenta), detected pores (light cyan dots, blended half-way into the photo so that
//! scars and lines stay readable over a dense pore population), a 10 mm scale bar when
//! calibrated (its label kept inside the picture, see [`scale_bar_layout`]), and a caption bar
//! with the image id, the calibration, the detections per family or why a family was not
//! measured ([`caption_parts`]: never a count of 0 for a family that was not measured), and a
//! legend of the detection colours. The long side is between [`QC_MIN_SIDE`] and
//! [`QC_MAX_SIDE`] px.

use ab_glyph::FontRef;
use image::{DynamicImage, Rgb, RgbImage, imageops::FilterType};
use imageproc::drawing::{
    draw_filled_circle_mut, draw_filled_rect_mut, draw_hollow_circle_mut, draw_text_mut, text_size,
};
use imageproc::rect::Rect;

use crate::calibration::Calibration;
use crate::metrics::scars::ScarKind;
use crate::segment::{Mask, Zone};

use super::tables::ZoneRecord;

/// Longest side of a QC picture, px.
pub const QC_MAX_SIDE: u32 = 1600;

/// Smaller photos are enlarged to this long side so that labels stay readable, px.
pub const QC_MIN_SIDE: u32 = 1024;

static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

const ZONE_COLOURS: [[u8; 3]; 10] = [
    [0, 200, 255],
    [0, 255, 120],
    [255, 220, 0],
    [255, 120, 0],
    [200, 80, 255],
    [255, 80, 160],
    [120, 255, 255],
    [180, 255, 80],
    [255, 255, 255],
    [80, 160, 255],
];

/// A downscaled copy of the photo to draw on, and its scale relative to the original.
pub struct QcCanvas {
    pub image: RgbImage,
    /// QC px per original px (<= 1).
    pub scale: f64,
}

impl QcCanvas {
    /// Downscale `image` so that its long side is at most [`QC_MAX_SIDE`].
    pub fn new(image: &DynamicImage) -> Self {
        let long = image.width().max(image.height());
        let target = long.clamp(QC_MIN_SIDE, QC_MAX_SIDE);
        if long == target {
            return Self {
                image: image.to_rgb8(),
                scale: 1.0,
            };
        }
        let scale = f64::from(target) / f64::from(long);
        let w = ((f64::from(image.width()) * scale).round() as u32).max(1);
        let h = ((f64::from(image.height()) * scale).round() as u32).max(1);
        Self {
            image: image.resize_exact(w, h, FilterType::Triangle).to_rgb8(),
            scale,
        }
    }

    fn put(&mut self, x: f64, y: f64, colour: [u8; 3]) {
        let (qx, qy) = ((x * self.scale) as i64, (y * self.scale) as i64);
        if qx >= 0
            && qy >= 0
            && (qx as u32) < self.image.width()
            && (qy as u32) < self.image.height()
        {
            self.image.put_pixel(qx as u32, qy as u32, Rgb(colour));
        }
    }

    /// Blend `colour` half-way into the pixels of a plus-shaped dot of arm `arm` canvas px.
    fn dot(&mut self, x: f64, y: f64, arm: i64, colour: [u8; 3]) {
        let (qx, qy) = ((x * self.scale) as i64, (y * self.scale) as i64);
        for (dx, dy) in (-arm..=arm)
            .map(|d| (d, 0))
            .chain((-arm..=arm).filter(|&d| d != 0).map(|d| (0, d)))
        {
            let (px, py) = (qx + dx, qy + dy);
            if px >= 0
                && py >= 0
                && (px as u32) < self.image.width()
                && (py as u32) < self.image.height()
            {
                let p = self.image.get_pixel_mut(px as u32, py as u32);
                for (v, &c) in p.0.iter_mut().zip(&colour) {
                    *v = ((u16::from(*v) + u16::from(c)) / 2) as u8;
                }
            }
        }
    }

    /// Darken the pixels of `mask` (excluded areas).
    pub fn shade(&mut self, mask: &Mask) {
        let step = (1.0 / self.scale).max(1.0) as usize;
        for ((r, c), &inside) in mask.bits.indexed_iter() {
            if inside && r % step == 0 && c % step == 0 {
                let (qx, qy) = (
                    ((mask.x0 + c) as f64 * self.scale) as u32,
                    ((mask.y0 + r) as f64 * self.scale) as u32,
                );
                if qx < self.image.width() && qy < self.image.height() {
                    let p = self.image.get_pixel_mut(qx, qy);
                    p.0 = p.0.map(|v| v / 3);
                }
            }
        }
    }

    /// Outline the box `[x0, y0, x1, y1]` (original px), `inset` QC px inside it.
    pub fn box_outline(&mut self, [x0, y0, x1, y1]: [f64; 4], inset: u32, colour: [u8; 3]) {
        let s = self.scale;
        let d = f64::from(inset);
        let rect = Rect::at(
            (x0 * s) as i32 + inset as i32,
            (y0 * s) as i32 + inset as i32,
        )
        .of_size(
            ((x1 - x0) * s - 2.0 * d).max(1.0) as u32,
            ((y1 - y0) * s - 2.0 * d).max(1.0) as u32,
        );
        imageproc::drawing::draw_hollow_rect_mut(&mut self.image, rect, Rgb(colour));
    }

    /// Outline a zone: its mask pixels with a neighbour outside.
    pub fn outline(&mut self, mask: &Mask, colour: [u8; 3]) {
        let (h, w) = mask.bits.dim();
        let inside = |r: isize, c: isize| {
            r >= 0
                && c >= 0
                && (r as usize) < h
                && (c as usize) < w
                && mask.bits[[r as usize, c as usize]]
        };
        for ((r, c), &m) in mask.bits.indexed_iter() {
            let (ri, ci) = (r as isize, c as isize);
            if m && !(inside(ri - 1, ci)
                && inside(ri + 1, ci)
                && inside(ri, ci - 1)
                && inside(ri, ci + 1))
            {
                let (x, y) = ((mask.x0 + c) as f64, (mask.y0 + r) as f64);
                self.put(x, y, colour);
                // Thicken to 2 px in the QC picture.
                self.put(x + 1.0 / self.scale, y, colour);
                self.put(x, y + 1.0 / self.scale, colour);
            }
        }
    }

    fn text(&mut self, font: &FontRef<'_>, x: i32, y: i32, size: f32, colour: [u8; 3], text: &str) {
        // A dark shadow keeps labels readable on any skin tone.
        draw_text_mut(
            &mut self.image,
            Rgb([0, 0, 0]),
            x + 1,
            y + 1,
            size,
            font,
            text,
        );
        draw_text_mut(&mut self.image, Rgb(colour), x, y, size, font, text);
    }
}

/// What to draw besides the zones.
pub struct QcExtras<'a> {
    /// The first part of the caption (the image id); the rest is built from the records.
    pub caption: String,
    pub calibration: Calibration,
    pub excluded: Option<&'a Mask>,
    /// Face box (x0, y0, x1, y1) in original px.
    pub face_box: Option<[f64; 4]>,
    /// The colour chart's area `[x0, y0, x1)` × `[y0, y1)` in original px (with its margin), left
    /// out of every zone; outlined and labelled `colour chart`.
    pub chart_box: Option<[usize; 4]>,
    /// The capture part of the caption ([`capture_caption`]), after the calibration.
    pub capture: Option<String>,
}

/// The capture part of a QC caption: `capture ok`, or `capture: ` and the failed checks
/// (`capture_flags` of images.csv).
pub fn capture_caption(q: &crate::metrics::capture::CaptureQuality) -> String {
    if q.flags.is_empty() {
        "capture ok".to_owned()
    } else {
        format!("capture: {}", q.flags.join(", "))
    }
}

/// Pore dots: light cyan, a colour no other detection uses.
const PORE_COLOUR: [u8; 3] = [120, 230, 255];
/// Fine line skeletons: yellow.
const LINE_COLOUR: [u8; 3] = [255, 255, 0];
/// Outline and label of the colour chart's area.
const CHART_COLOUR: [u8; 3] = [90, 255, 130];
/// The label of the colour chart's outline.
const CHART_LABEL: &str = "colour chart";
/// Scar rings: icepick red, boxcar orange, rolling magenta.
const ICEPICK_COLOUR: [u8; 3] = [255, 40, 40];
const BOXCAR_COLOUR: [u8; 3] = [255, 150, 0];
const ROLLING_COLOUR: [u8; 3] = [255, 0, 255];

fn scar_colour(kind: ScarKind) -> [u8; 3] {
    match kind {
        ScarKind::Icepick => ICEPICK_COLOUR,
        ScarKind::Boxcar => BOXCAR_COLOUR,
        ScarKind::Rolling => ROLLING_COLOUR,
    }
}

/// The detections of one family in a zone's measurement.
type Detections = fn(&crate::metrics::ZoneMeasurement) -> usize;

/// The families whose detections are drawn and counted in the caption, with the column that
/// says whether a zone was measured (a count is missing exactly when the family was not
/// measured there) and their detections.
const CAPTION_FAMILIES: [(&str, &str, Detections); 3] = [
    ("lines", "lines_count", |m| m.lines.len()),
    ("scars", "scars_count", |m| m.scars.len()),
    ("pores", "pores_count", |m| m.pores.len()),
];

/// Separator between the parts of a caption.
const CAPTION_SEPARATOR: &str = "  |  ";

/// What the caption says about one family.
enum FamilyStatus {
    /// Measured in every zone: the number of detections.
    Measured(usize),
    /// Measured in some zones only: the detections there, and the zones and reasons of the rest.
    Partly(usize, Vec<String>, Vec<String>),
    /// Measured nowhere: the distinct reasons, in zone order.
    NotMeasured(Vec<String>),
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_owned());
    }
}

fn family_status(
    column: Option<usize>,
    detections: Detections,
    records: &[ZoneRecord],
) -> FamilyStatus {
    if records.is_empty() {
        return FamilyStatus::NotMeasured(vec!["no zone to measure".to_owned()]);
    }
    let mut count = 0;
    let mut zones = Vec::new();
    let mut reasons = Vec::new();
    for record in records {
        let m = &record.measurement;
        match column.and_then(|c| m.values.get(c)) {
            Some(Ok(_)) => count += detections(m),
            Some(Err(missing)) => {
                push_unique(&mut zones, &record.zone);
                push_unique(&mut reasons, &missing.0);
            }
            None => {
                push_unique(&mut zones, &record.zone);
                push_unique(&mut reasons, "no value");
            }
        }
    }
    if zones.is_empty() {
        FamilyStatus::Measured(count)
    } else if zones.len() == records.len() {
        FamilyStatus::NotMeasured(reasons)
    } else {
        FamilyStatus::Partly(count, zones, reasons)
    }
}

/// The parts of a QC caption, in order: the image's `title`, the calibration, then what was
/// detected per family (`lines 3`), or `lines not measured (REASON)` when the family was not
/// measured in any zone (below `height.min_px_per_mm`, uncalibrated, no zone, ...), never a
/// count of 0 for what was not looked at. Families not measured for the same reasons are named
/// together (`lines, scars, pores not measured (REASON)`); a family measured in some zones only
/// says where it was not (`lines 4 (not measured in glabella: REASON)`).
pub fn caption_parts(
    title: &str,
    calibration: &Calibration,
    records: &[ZoneRecord],
) -> Vec<String> {
    let columns = crate::metrics::metric_columns();
    let column = |name: &str| columns.iter().position(|c| c.name == name);
    let cal = match calibration.px_per_mm {
        Some(p) => format!("{p:.2} px/mm ({})", calibration.source.label()),
        None => "uncalibrated".to_owned(),
    };
    let mut parts = vec![title.to_owned(), cal];
    let mut counts: Vec<String> = Vec::new();
    // (families, reasons) of the families measured nowhere, grouped by their reasons.
    let mut not_measured: Vec<(Vec<&str>, Vec<String>)> = Vec::new();
    for (family, count_column, detections) in CAPTION_FAMILIES {
        match family_status(column(count_column), detections, records) {
            FamilyStatus::Measured(n) => counts.push(format!("{family} {n}")),
            FamilyStatus::Partly(n, zones, reasons) => counts.push(format!(
                "{family} {n} (not measured in {}: {})",
                zones.join(", "),
                reasons.join("; ")
            )),
            FamilyStatus::NotMeasured(reasons) => {
                match not_measured.iter_mut().find(|(_, r)| *r == reasons) {
                    Some((families, _)) => families.push(family),
                    None => not_measured.push((vec![family], reasons)),
                }
            }
        }
    }
    if !counts.is_empty() {
        parts.push(counts.join("  "));
    }
    for (families, reasons) in not_measured {
        parts.push(format!(
            "{} not measured ({})",
            families.join(", "),
            reasons.join("; ")
        ));
    }
    parts
}

/// Break `parts` into lines no wider than `max_width` (as measured by `width`): parts are
/// joined by `  |  ` while they fit; a part wider than a line is broken between words; a
/// single word wider than a line stays whole on its own line.
pub fn wrap_caption(parts: &[String], max_width: u32, width: impl Fn(&str) -> u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for part in parts {
        let joined = if line.is_empty() {
            part.clone()
        } else {
            format!("{line}{CAPTION_SEPARATOR}{part}")
        };
        if width(&joined) <= max_width {
            line = joined;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for word in part.split(' ').filter(|w| !w.is_empty()) {
            let joined = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if line.is_empty() || width(&joined) <= max_width {
                line = joined;
            } else {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// An axis-aligned box in canvas px: top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabelBox {
    pub x: i32,
    pub y: i32,
    pub w: u32,
    pub h: u32,
}

impl LabelBox {
    /// Whether the two boxes share any pixel.
    pub fn intersects(&self, other: &LabelBox) -> bool {
        self.x < other.x + other.w as i32
            && other.x < self.x + self.w as i32
            && self.y < other.y + other.h as i32
            && other.y < self.y + self.h as i32
    }

    /// Whether the box lies entirely inside a `width` x `height` image.
    pub fn inside(&self, width: u32, height: u32) -> bool {
        self.x >= 0
            && self.y >= 0
            && self.x as i64 + i64::from(self.w) <= i64::from(width)
            && self.y as i64 + i64::from(self.h) <= i64::from(height)
    }

    /// The box moved by the least amount that puts it inside `width` x `height` (its top-left
    /// corner when it is larger than the image).
    fn clamped(self, width: u32, height: u32) -> LabelBox {
        let x = self.x.min(width as i32 - self.w as i32).max(0);
        let y = self.y.min(height as i32 - self.h as i32).max(0);
        LabelBox { x, y, ..self }
    }
}

/// Greedy placement of labels: each label in turn goes to its wanted box, moved inside the
/// `width` x `height` area, or, when that box intersects a label already placed (or one of
/// `taken`), to the nearest free box found by shifting it down and up by one label height at a
/// time, then left and right. A label with no free box within 12 shifts each way keeps its
/// wanted place. Returns the boxes in input order.
pub fn place_labels(
    wanted: &[LabelBox],
    taken: &[LabelBox],
    width: u32,
    height: u32,
) -> Vec<LabelBox> {
    let mut placed: Vec<LabelBox> = taken.to_vec();
    let mut out = Vec::with_capacity(wanted.len());
    for &want in wanted {
        let start = want.clamped(width, height);
        let step_y = want.h as i32 + 2;
        let step_x = want.w as i32 / 2 + 2;
        let candidates = std::iter::once((0, 0)).chain((1..=12).flat_map(|k| {
            [
                (0, k * step_y),
                (0, -k * step_y),
                (k * step_x, 0),
                (-k * step_x, 0),
            ]
        }));
        let free = candidates
            .map(|(dx, dy)| {
                LabelBox {
                    x: start.x + dx,
                    y: start.y + dy,
                    ..start
                }
                .clamped(width, height)
            })
            .find(|b| placed.iter().all(|p| !p.intersects(b)));
        let chosen = free.unwrap_or(start);
        placed.push(chosen);
        out.push(chosen);
    }
    out
}

/// Where the scale bar and its label go in a `width` px wide picture whose free area ends at
/// `bottom` (the top of the caption bar): the bar (5 px high) `bar_len` px long at the right,
/// 10 px from the edge; the label (`label_size` = text width and height) centred above it and
/// moved inside the picture when the bar is shorter than the label. `None` when the bar would
/// be shorter than 5 px or longer than half the picture.
pub fn scale_bar_layout(
    width: u32,
    bottom: u32,
    bar_len: u32,
    label_size: (u32, u32),
) -> Option<(LabelBox, LabelBox)> {
    if bar_len <= 4 || bar_len >= width / 2 {
        return None;
    }
    let bar_y = bottom.saturating_sub(12) as i32;
    let bar = LabelBox {
        x: (width - bar_len - 10) as i32,
        y: bar_y,
        w: bar_len,
        h: 5,
    };
    let (tw, th) = label_size;
    let label = LabelBox {
        x: bar.x + bar_len as i32 / 2 - tw as i32 / 2,
        y: bar_y - th as i32 - 2,
        w: tw,
        h: th,
    }
    .clamped(width, bottom.max(th));
    Some((bar, label))
}

/// How a detection is drawn, for its legend swatch.
#[derive(Clone, Copy)]
enum Swatch {
    Line,
    Ring,
    Dot,
}

/// The legend of the detections, in drawing order: name, colour and swatch.
const LEGEND: [(&str, [u8; 3], Swatch); 5] = [
    ("lines", LINE_COLOUR, Swatch::Line),
    ("icepick", ICEPICK_COLOUR, Swatch::Ring),
    ("boxcar", BOXCAR_COLOUR, Swatch::Ring),
    ("rolling", ROLLING_COLOUR, Swatch::Ring),
    ("pores", PORE_COLOUR, Swatch::Dot),
];

/// The wanted label box of each zone: the text centred on the zone's centroid (`None` for an
/// empty zone).
fn zone_label_boxes(
    canvas: &QcCanvas,
    zones: &[&Zone],
    font: &FontRef<'_>,
    size: f32,
) -> Vec<Option<LabelBox>> {
    zones
        .iter()
        .map(|zone| {
            let (sx, sy, n) = zone
                .mask
                .bits
                .indexed_iter()
                .filter(|(_, m)| **m)
                .fold((0.0, 0.0, 0.0), |(sx, sy, n), ((r, c), _)| {
                    (sx + c as f64, sy + r as f64, n + 1.0)
                });
            (n > 0.0).then(|| {
                let (tw, th) = text_size(size, font, &zone.name);
                let x = ((zone.mask.x0 as f64 + sx / n) * canvas.scale) as i32;
                let y = ((zone.mask.y0 as f64 + sy / n) * canvas.scale) as i32;
                LabelBox {
                    x: x - tw as i32 / 2,
                    y: y - th as i32 / 2,
                    // The shadow is 1 px right and below.
                    w: tw + 1,
                    h: th + 1,
                }
            })
        })
        .collect()
}

/// Draw zones, detections, zone names, the caption with its legend and the scale bar on
/// `canvas`.
pub fn draw_qc(
    canvas: &mut QcCanvas,
    zones: &[&Zone],
    records: &[ZoneRecord],
    extras: &QcExtras<'_>,
) {
    let font = FontRef::try_from_slice(FONT_BYTES).ok();
    if let Some(excluded) = extras.excluded {
        canvas.shade(excluded);
    }
    let size = (canvas.image.width().max(canvas.image.height()) as f32 / 60.0).clamp(12.0, 28.0);
    for (i, zone) in zones.iter().enumerate() {
        canvas.outline(&zone.mask, ZONE_COLOURS[i % ZONE_COLOURS.len()]);
    }
    if let Some(face_box) = extras.face_box {
        canvas.box_outline(face_box, 0, [255, 255, 255]);
    }
    if let Some(chart_box) = extras.chart_box {
        // Two nested outlines, so the box shows on a busy chart.
        for inset in [0, 1] {
            canvas.box_outline(chart_box.map(|v| v as f64), inset, CHART_COLOUR);
        }
    }
    for record in records {
        for pore in &record.measurement.pores {
            canvas.dot(pore.x_px, pore.y_px, 1, PORE_COLOUR);
        }
    }
    for record in records {
        for line in &record.measurement.lines {
            for &(x, y) in &line.skeleton {
                canvas.put(f64::from(x), f64::from(y), LINE_COLOUR);
            }
        }
        for scar in &record.measurement.scars {
            let r_px = extras
                .calibration
                .px_per_mm
                .map_or(5.0, |p| scar.diameter_mm * p / 2.0);
            let centre = (
                (scar.x_px * canvas.scale) as i32,
                (scar.y_px * canvas.scale) as i32,
            );
            let radius = ((r_px * canvas.scale).round() as i32).max(3);
            let colour = Rgb(scar_colour(scar.kind));
            draw_hollow_circle_mut(&mut canvas.image, centre, radius, colour);
            draw_hollow_circle_mut(&mut canvas.image, centre, radius + 1, colour);
        }
    }
    let Some(font) = &font else { return };
    let (w, h) = (canvas.image.width(), canvas.image.height());

    // The caption bar: the caption wrapped to the width, then the legend.
    let mut parts = caption_parts(&extras.caption, &extras.calibration, records);
    if let Some(capture) = &extras.capture {
        parts.insert(2.min(parts.len()), capture.clone());
    }
    let lines = wrap_caption(&parts, w.saturating_sub(12), |t| text_size(size, font, t).0);
    let line_h = (size * 1.25).ceil() as u32;
    let bar_h = (line_h * (lines.len() as u32 + 1) + 6).min(h);
    let bar_top = h - bar_h;
    draw_filled_rect_mut(
        &mut canvas.image,
        Rect::at(0, bar_top as i32).of_size(w, bar_h.max(1)),
        Rgb([20, 20, 20]),
    );
    for (i, line) in lines.iter().enumerate() {
        let y = bar_top as i32 + 3 + (i as u32 * line_h) as i32;
        canvas.text(font, 6, y, size, [255, 255, 255], line);
    }
    let legend_y = bar_top as i32 + 3 + (lines.len() as u32 * line_h) as i32;
    draw_legend(canvas, font, size * 0.85, legend_y, line_h);

    // The scale bar above the caption bar, its label kept inside the picture.
    let mut taken = Vec::new();
    if let Some([x0, y0, ..]) = extras.chart_box {
        let (tw, th) = text_size(size * 0.8, font, CHART_LABEL);
        let label = LabelBox {
            x: (x0 as f64 * canvas.scale) as i32 + 4,
            y: (y0 as f64 * canvas.scale) as i32 + 4,
            w: tw + 1,
            h: th + 1,
        }
        .clamped(w, bar_top);
        canvas.text(
            font,
            label.x,
            label.y,
            size * 0.8,
            CHART_COLOUR,
            CHART_LABEL,
        );
        taken.push(label);
    }
    if let Some(p) = extras.calibration.px_per_mm {
        let len = (10.0 * p * canvas.scale) as u32;
        let label_size = text_size(size * 0.8, font, "10 mm");
        let label_size = (label_size.0 + 1, label_size.1 + 1);
        if let Some((bar, label)) = scale_bar_layout(w, bar_top, len, label_size) {
            draw_filled_rect_mut(
                &mut canvas.image,
                Rect::at(bar.x, bar.y).of_size(bar.w, bar.h),
                Rgb([255, 255, 255]),
            );
            canvas.text(font, label.x, label.y, size * 0.8, [255, 255, 255], "10 mm");
            taken.extend([bar, label]);
        }
    }

    // Zone names last, on top, each moved off the names already placed.
    if zones.len() > 1 {
        let wanted = zone_label_boxes(canvas, zones, font, size * 0.8);
        let present: Vec<LabelBox> = wanted.iter().flatten().copied().collect();
        let placed = place_labels(&present, &taken, w, bar_top.max(1));
        let mut placed = placed.into_iter();
        for (i, (zone, want)) in zones.iter().zip(&wanted).enumerate() {
            if want.is_some()
                && let Some(b) = placed.next()
            {
                let colour = ZONE_COLOURS[i % ZONE_COLOURS.len()];
                canvas.text(font, b.x, b.y, size * 0.8, colour, &zone.name);
            }
        }
    }
}

/// The legend row of the caption bar at `y`: a swatch drawn as the detection is (a short
/// line, a ring, a dot) and its name, for lines, the three scar types and pores.
fn draw_legend(canvas: &mut QcCanvas, font: &FontRef<'_>, size: f32, y: i32, line_h: u32) {
    let mid = y + line_h as i32 / 2;
    let mut x = 8;
    for (name, colour, swatch) in LEGEND {
        match swatch {
            Swatch::Line => draw_filled_rect_mut(
                &mut canvas.image,
                Rect::at(x, mid - 1).of_size(16, 3),
                Rgb(colour),
            ),
            Swatch::Dot => draw_filled_circle_mut(&mut canvas.image, (x + 8, mid), 3, Rgb(colour)),
            Swatch::Ring => {
                draw_hollow_circle_mut(&mut canvas.image, (x + 8, mid), 6, Rgb(colour));
                draw_hollow_circle_mut(&mut canvas.image, (x + 8, mid), 7, Rgb(colour));
            }
        }
        x += 22;
        let (tw, th) = text_size(size, font, name);
        canvas.text(font, x, mid - th as i32 / 2, size, [230, 230, 230], name);
        x += tw as i32 + 16;
    }
}

/// Encode a QC picture as JPEG (quality 85).
///
/// # Errors
/// The encoder's error (never an empty picture).
pub fn qc_jpeg(image: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85);
    image.write_with_encoder(encoder)?;
    Ok(bytes)
}

/// Write the QC picture of `image_id` (JPEG bytes) to [`qc_path`], atomically, creating its
/// folder.
///
/// # Errors
/// The I/O error, naming the file or folder.
pub fn write_qc(out_dir: &std::path::Path, image_id: &str, jpeg: &[u8]) -> std::io::Result<()> {
    let path = qc_path(out_dir, image_id);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            std::io::Error::new(e.kind(), format!("creating {}: {e}", parent.display()))
        })?;
    }
    super::write_atomic(&path, jpeg)
}

/// Where the QC picture of `image_id` goes: `OUT/qc/<image_id>.jpg`.
pub fn qc_path(out_dir: &std::path::Path, image_id: &str) -> std::path::PathBuf {
    out_dir
        .join("qc")
        .join(format!("{}.jpg", safe_file_stem(image_id)))
}

/// `image_id` made safe as a file name stem inside an output folder: characters other than
/// letters, digits and `-_./` become `_`, and `..` becomes `_` (sub-folders stay sub-folders).
pub fn safe_file_stem(image_id: &str) -> String {
    let safe: String = image_id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_./".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    safe.replace("..", "_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::CalibrationSource;
    use crate::metrics::{Missing, PoreRecord, ZoneMeasurement, metric_columns};

    const BELOW_FLOOR: &str = "resolution 0.680 px/mm is below height.min_px_per_mm (5)";

    /// The caption of a QC picture on one line: [`caption_parts`] joined by `  |  `.
    fn qc_caption(title: &str, calibration: &Calibration, records: &[ZoneRecord]) -> String {
        caption_parts(title, calibration, records).join(CAPTION_SEPARATOR)
    }

    /// A zone record whose families in `missing` are missing with their reason, every other
    /// value 1, with `pores` detected pores.
    fn record(zone: &str, missing: &[(&str, &str)], pores: usize) -> ZoneRecord {
        let values = metric_columns()
            .iter()
            .map(|c| {
                let family = c.name.split('_').next().unwrap();
                match missing.iter().find(|(f, _)| *f == family) {
                    Some((_, reason)) => Err(Missing::new(*reason)),
                    None => Ok(1.0),
                }
            })
            .collect();
        let pore = PoreRecord {
            x_px: 1.0,
            y_px: 1.0,
            diameter_mm: 0.1,
            depth: 0.01,
        };
        ZoneRecord {
            zone: zone.to_owned(),
            area_px: 100,
            measurement: ZoneMeasurement {
                values,
                pores: vec![pore; pores],
                ..ZoneMeasurement::default()
            },
        }
    }

    fn iris(px_per_mm: f64) -> Calibration {
        Calibration {
            px_per_mm: Some(px_per_mm),
            source: CalibrationSource::Iris,
        }
    }

    /// Issue 18 item 6: the portrait's relief families were not measured (0.68 px/mm is below
    /// the 5 px/mm floor): the caption says so with the reason instead of `lines 0  scars 0`.
    #[test]
    fn caption_says_not_measured_with_the_reason_never_zero() {
        let relief = [
            ("rough", BELOW_FLOOR),
            ("lines", BELOW_FLOOR),
            ("scars", BELOW_FLOOR),
            ("pores", BELOW_FLOOR),
        ];
        let records = [record("forehead", &relief, 0), record("face", &relief, 0)];
        let caption = qc_caption("astronaut", &iris(0.68), &records);
        assert_eq!(
            caption,
            format!(
                "astronaut  |  0.68 px/mm (iris)  |  lines, scars, pores not measured ({BELOW_FLOOR})"
            )
        );
        for zero in ["lines 0", "scars 0", "pores 0"] {
            assert!(!caption.contains(zero), "{caption}");
        }

        // Lines and scars missing for different reasons, pores measured (3 found).
        let records = [record(
            "full",
            &[
                ("lines", "zone too small for lines"),
                ("scars", "uncalibrated"),
            ],
            3,
        )];
        let caption = qc_caption("close-up", &iris(20.0), &records);
        assert!(caption.contains("pores 3"), "{caption}");
        assert!(
            caption.contains("lines not measured (zone too small for lines)"),
            "{caption}"
        );
        assert!(
            caption.contains("scars not measured (uncalibrated)"),
            "{caption}"
        );
        assert!(!caption.contains("lines 0") && !caption.contains("scars 0"));

        // Measured everywhere: plain counts, including a real 0.
        let records = [record("full", &[], 2)];
        let caption = qc_caption("ok", &iris(20.0), &records);
        assert!(
            caption.ends_with("|  lines 0  scars 0  pores 2"),
            "{caption}"
        );

        // Measured in one zone only: the count, and where it was not measured and why.
        let records = [
            record("cheek_left", &[], 4),
            record("glabella", &[("pores", "zone smaller than 1 cm2")], 0),
        ];
        let caption = qc_caption("face", &iris(20.0), &records);
        assert!(
            caption.contains("pores 4 (not measured in glabella: zone smaller than 1 cm2)"),
            "{caption}"
        );

        // No zone at all.
        let caption = qc_caption("none", &iris(20.0), &[]);
        assert!(
            caption.contains("lines, scars, pores not measured (no zone to measure)"),
            "{caption}"
        );
    }

    #[test]
    fn caption_wraps_between_parts_then_words() {
        let width = |t: &str| t.chars().count() as u32;
        let parts: Vec<String> = [
            "id",
            "20.00 px/mm (cli)",
            "lines not measured (a long reason here)",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let lines = wrap_caption(&parts, 30, width);
        assert_eq!(lines[0], "id  |  20.00 px/mm (cli)");
        assert!(lines.iter().all(|l| width(l) <= 30), "{lines:?}");
        assert_eq!(
            lines[1..].join(" "),
            "lines not measured (a long reason here)"
        );
        assert_eq!(wrap_caption(&parts, 200, width), [parts.join("  |  ")]);
    }

    /// The "10 mm" label lies inside the picture whatever the bar's length, even when the bar
    /// is shorter than its label (a low-resolution portrait: the label used to run off the
    /// right edge).
    #[test]
    fn scale_bar_label_lies_inside_the_picture() {
        let mut checked = 0;
        for width in [200u32, 640, 1024, 1600] {
            for bar_len in [5u32, 7, 20, 60, 150, 300] {
                for label in [(40u32, 14u32), (72, 24)] {
                    let Some((bar, label_box)) = scale_bar_layout(width, 900, bar_len, label)
                    else {
                        assert!(bar_len >= width / 2, "{width} {bar_len}");
                        continue;
                    };
                    checked += 1;
                    assert!(bar.inside(width, 900), "bar {bar:?} in {width}");
                    assert!(
                        label_box.inside(width, 900),
                        "label {label_box:?} in {width} (bar {bar:?})"
                    );
                    assert_eq!((label_box.w, label_box.h), label);
                    assert!(!label_box.intersects(&bar), "{label_box:?} on {bar:?}");
                    assert!(label_box.y + label_box.h as i32 <= bar.y);
                }
            }
        }
        assert!(checked > 30);
        assert_eq!(scale_bar_layout(640, 900, 4, (40, 14)), None);
        assert_eq!(scale_bar_layout(640, 900, 320, (40, 14)), None);
    }

    /// Zone names whose centroids are close (periorbital, glabella, nose on a small face) are
    /// moved apart: no two placed labels overlap, none overlaps a taken box (the scale bar's
    /// label), and all stay inside the picture.
    #[test]
    fn zone_labels_do_not_overlap() {
        let b = |x, y, w, h| LabelBox { x, y, w, h };
        let wanted = [
            b(100, 100, 80, 18),
            b(110, 104, 60, 18),
            b(95, 96, 90, 18),
            b(120, 100, 70, 18),
            b(-30, -5, 70, 18),  // off the top-left corner
            b(600, 470, 80, 18), // off the bottom-right corner
            b(580, 460, 80, 18),
        ];
        let taken = [b(560, 430, 60, 20)];
        // The wanted boxes overlap: the test means something.
        assert!(wanted[0].intersects(&wanted[1]) && wanted[5].intersects(&wanted[6]));
        let placed = place_labels(&wanted, &taken, 640, 480);
        assert_eq!(placed.len(), wanted.len());
        for (i, a) in placed.iter().enumerate() {
            assert!(a.inside(640, 480), "{a:?}");
            assert_eq!((a.w, a.h), (wanted[i].w, wanted[i].h));
            assert!(!a.intersects(&taken[0]), "{a:?} on the scale bar label");
            for c in &placed[i + 1..] {
                assert!(!a.intersects(c), "{a:?} overlaps {c:?}");
            }
        }
        // A label that is free stays where it was wanted.
        assert_eq!(placed[0], wanted[0]);
        assert!(!b(0, 0, 10, 10).intersects(&b(10, 0, 10, 10)));
        assert!(b(0, 0, 11, 10).intersects(&b(10, 0, 10, 10)));
    }
}
