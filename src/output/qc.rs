//! QC pictures: the photo with what was measured drawn on it, so a reader can check at a glance
//! that the zones sit where they should and the detections are real.
//!
//! Drawn: zone outlines and names, excluded areas shaded, the face box, detected fine lines
//! (skeletons, yellow), detected scars (circles of their equivalent diameter: icepick red, boxcar
//! orange, rolling magenta), detected pores (light cyan dots, blended half-way into the photo so
//! that scars and lines stay readable over a dense pore population), a 10 mm scale bar when calibrated, and a caption with the image id,
//! the calibration and the counts. The long side is between [`QC_MIN_SIDE`] and [`QC_MAX_SIDE`] px.

use ab_glyph::FontRef;
use image::{DynamicImage, Rgb, RgbImage, imageops::FilterType};
use imageproc::drawing::{draw_filled_rect_mut, draw_hollow_circle_mut, draw_text_mut};
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
    pub caption: String,
    pub calibration: Calibration,
    pub excluded: Option<&'a Mask>,
    /// Face box (x0, y0, x1, y1) in original px.
    pub face_box: Option<[f64; 4]>,
}

/// Pore dots: light cyan, a colour no other detection uses.
const PORE_COLOUR: [u8; 3] = [120, 230, 255];

fn scar_colour(kind: ScarKind) -> [u8; 3] {
    match kind {
        ScarKind::Icepick => [255, 40, 40],
        ScarKind::Boxcar => [255, 150, 0],
        ScarKind::Rolling => [255, 0, 255],
    }
}

/// Draw zones, detections and the caption on `canvas`.
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
        let colour = ZONE_COLOURS[i % ZONE_COLOURS.len()];
        canvas.outline(&zone.mask, colour);
        if let Some(font) = &font
            && zones.len() > 1
        {
            let (sx, sy, n) = zone
                .mask
                .bits
                .indexed_iter()
                .filter(|(_, m)| **m)
                .fold((0.0, 0.0, 0.0), |(sx, sy, n), ((r, c), _)| {
                    (sx + c as f64, sy + r as f64, n + 1.0)
                });
            if n > 0.0 {
                let x = ((zone.mask.x0 as f64 + sx / n) * canvas.scale) as i32;
                let y = ((zone.mask.y0 as f64 + sy / n) * canvas.scale) as i32;
                canvas.text(
                    font,
                    x - 20,
                    y - (size / 2.0) as i32,
                    size * 0.8,
                    colour,
                    &zone.name,
                );
            }
        }
    }
    if let Some([x0, y0, x1, y1]) = extras.face_box {
        let s = canvas.scale;
        let rect = |x0: f64, y0: f64, x1: f64, y1: f64| {
            Rect::at((x0 * s) as i32, (y0 * s) as i32).of_size(
                ((x1 - x0) * s).max(1.0) as u32,
                ((y1 - y0) * s).max(1.0) as u32,
            )
        };
        imageproc::drawing::draw_hollow_rect_mut(
            &mut canvas.image,
            rect(x0, y0, x1, y1),
            Rgb([255, 255, 255]),
        );
    }
    let mut n_lines = 0;
    let mut n_scars = 0;
    let mut n_pores = 0;
    for record in records {
        for pore in &record.measurement.pores {
            n_pores += 1;
            canvas.dot(pore.x_px, pore.y_px, 1, PORE_COLOUR);
        }
    }
    for record in records {
        for line in &record.measurement.lines {
            n_lines += 1;
            for &(x, y) in &line.skeleton {
                canvas.put(f64::from(x), f64::from(y), [255, 255, 0]);
            }
        }
        for scar in &record.measurement.scars {
            n_scars += 1;
            let r_px = extras
                .calibration
                .px_per_mm
                .map_or(5.0, |p| scar.diameter_mm * p / 2.0);
            let centre = (
                (scar.x_px * canvas.scale) as i32,
                (scar.y_px * canvas.scale) as i32,
            );
            let radius = ((r_px * canvas.scale).round() as i32).max(3);
            draw_hollow_circle_mut(
                &mut canvas.image,
                centre,
                radius,
                Rgb(scar_colour(scar.kind)),
            );
            draw_hollow_circle_mut(
                &mut canvas.image,
                centre,
                radius + 1,
                Rgb(scar_colour(scar.kind)),
            );
        }
    }
    let Some(font) = &font else { return };
    let (w, h) = (canvas.image.width(), canvas.image.height());
    let cal = match extras.calibration.px_per_mm {
        Some(p) => format!("{p:.2} px/mm ({})", extras.calibration.source.label()),
        None => "uncalibrated".to_owned(),
    };
    let caption = format!(
        "{}  |  {cal}  |  lines {n_lines}  scars {n_scars}  pores {n_pores}",
        extras.caption
    );
    let bar_h = (size * 1.6) as u32;
    draw_filled_rect_mut(
        &mut canvas.image,
        Rect::at(0, (h - bar_h.min(h)) as i32).of_size(w, bar_h.min(h)),
        Rgb([20, 20, 20]),
    );
    canvas.text(
        font,
        6,
        (h - bar_h.min(h)) as i32 + 3,
        size,
        [255, 255, 255],
        &caption,
    );
    if let Some(p) = extras.calibration.px_per_mm {
        let len = (10.0 * p * canvas.scale) as u32;
        if len > 4 && len < w / 2 {
            let y = (h - bar_h.min(h)).saturating_sub(12);
            draw_filled_rect_mut(
                &mut canvas.image,
                Rect::at((w - len - 10) as i32, y as i32).of_size(len, 5),
                Rgb([255, 255, 255]),
            );
            canvas.text(
                font,
                (w - len - 10) as i32,
                y as i32 - size as i32 - 2,
                size * 0.8,
                [255, 255, 255],
                "10 mm",
            );
        }
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
    let safe = safe.replace("..", "_");
    out_dir.join("qc").join(format!("{safe}.jpg"))
}
