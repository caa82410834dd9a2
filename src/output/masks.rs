//! The analysis masks of `skintex analyze --save-masks`, for scoring skintex against expert
//! annotations (`skintex agree`) or looking at them in any image viewer:
//!
//! ```text
//! OUT/masks/<image_id>_lines.png   8-bit grey, image size: 255 on every pixel of a detected
//!                                  line's width band, 0 elsewhere
//! OUT/masks/<image_id>_zones.png   8-bit grey, image size: the zone index of the pixel
//!                                  (zone_legend), 0 outside every zone
//! ```
//!
//! A line's width band is the union of the disks of radius w / 2 around its skeleton pixels,
//! w = the line's width (median cross-section FWHM) in px; an uncalibrated line (no width in
//! px) is its skeleton alone. The band of every zone's lines is drawn (the zones of a face
//! overlap only through the union zone `face`). The zone map draws each anatomical zone with
//! its index; the union zone `face` is every nonzero pixel of a face's map, so it has no index
//! of its own.
//!
//! Masks are outputs like the QC pictures: part of the run fingerprint, checked by `--resume`,
//! copied by `skintex merge`, and the same bytes whichever way a run is made.

use std::path::{Path, PathBuf};

use image::GrayImage;

use super::tables::ZoneRecord;
use crate::segment::Zone;
use crate::segment::face::ZONE_NAMES;

/// The zone of each index of `<image_id>_zones.png`: 1-9 the face zones of
/// [`ZONE_NAMES`] in their order, 10 the whole image of `--roi full` (0 is outside every zone).
pub fn zone_legend() -> impl Iterator<Item = (u8, &'static str)> {
    (1u8..).zip(
        ZONE_NAMES
            .iter()
            .copied()
            .chain([crate::segment::ZONE_FULL]),
    )
}

/// The index of zone `name` in the zone mask (`None` for the union zone `face` and for names
/// not in [`zone_legend`]).
pub fn zone_index(name: &str) -> Option<u8> {
    zone_legend().find(|&(_, z)| z == name).map(|(i, _)| i)
}

/// The data dictionary's legend of the zone mask, one `index = zone` item per zone.
pub fn zone_legend_text() -> String {
    let mut items = vec!["0 = outside every zone".to_owned()];
    items.extend(zone_legend().map(|(i, z)| format!("{i} = {z}")));
    items.join(", ")
}

/// Which mask of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaskKind {
    Lines,
    Zones,
}

impl MaskKind {
    fn suffix(self) -> &'static str {
        match self {
            Self::Lines => "lines",
            Self::Zones => "zones",
        }
    }
}

/// Folder of the masks inside an output folder.
pub fn masks_dir(out: &Path) -> PathBuf {
    out.join("masks")
}

/// Where mask `kind` of `image_id` goes: `OUT/masks/<image_id>_<kind>.png` (the image id made
/// safe for a file name as for the QC pictures).
pub fn mask_path(out: &Path, image_id: &str, kind: MaskKind) -> PathBuf {
    masks_dir(out).join(format!(
        "{}_{}.png",
        super::qc::safe_file_stem(image_id),
        kind.suffix()
    ))
}

/// The lines mask: 255 within the width band of every detected line of `records`.
pub fn lines_mask(
    width: usize,
    height: usize,
    records: &[ZoneRecord],
    px_per_mm: Option<f64>,
) -> GrayImage {
    let mut mask = GrayImage::new(width as u32, height as u32);
    for line in records.iter().flat_map(|r| &r.measurement.lines) {
        let radius = px_per_mm
            .map(|ppm| 0.5 * line.width_mm * ppm)
            .filter(|r| r.is_finite() && *r > 0.0)
            .unwrap_or(0.0);
        let reach = radius.floor() as i64;
        for &(x, y) in &line.skeleton {
            for dy in -reach..=reach {
                for dx in -reach..=reach {
                    let (px, py) = (i64::from(x) + dx, i64::from(y) + dy);
                    if px < 0 || py < 0 || px >= width as i64 || py >= height as i64 {
                        continue;
                    }
                    if ((dx * dx + dy * dy) as f64) <= radius * radius {
                        mask.put_pixel(px as u32, py as u32, image::Luma([255]));
                    }
                }
            }
        }
    }
    mask
}

/// The zone mask: each zone's pixels set to its [`zone_index`] (zones without one are left
/// out; a later zone wins where two overlap).
pub fn zones_mask(width: usize, height: usize, zones: &[Zone]) -> GrayImage {
    let mut mask = GrayImage::new(width as u32, height as u32);
    for zone in zones {
        let Some(index) = zone_index(&zone.name) else {
            continue;
        };
        let m = &zone.mask;
        for ((r, c), &on) in m.bits.indexed_iter() {
            let (x, y) = (m.x0 + c, m.y0 + r);
            if on && x < width && y < height {
                mask.put_pixel(x as u32, y as u32, image::Luma([index]));
            }
        }
    }
    mask
}

/// A grey image as PNG bytes (deterministic: same pixels, same bytes).
///
/// # Errors
/// An encoder error.
pub fn mask_png(mask: &GrayImage) -> image::ImageResult<Vec<u8>> {
    let mut png = Vec::new();
    mask.write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))?;
    Ok(png)
}

/// Both masks of one image as PNG bytes, `[lines, zones]`.
#[derive(Debug, Clone)]
pub struct MaskPngs {
    pub lines: Vec<u8>,
    pub zones: Vec<u8>,
}

/// Write the masks of `image_id` into `OUT/masks/`, each atomically.
///
/// # Errors
/// Any I/O error, with the path.
pub fn write_masks(out: &Path, image_id: &str, masks: &MaskPngs) -> std::io::Result<()> {
    for (kind, bytes) in [
        (MaskKind::Lines, &masks.lines),
        (MaskKind::Zones, &masks.zones),
    ] {
        let path = mask_path(out, image_id, kind);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                std::io::Error::new(e.kind(), format!("creating {}: {e}", parent.display()))
            })?;
        }
        super::write_atomic(&path, bytes)?;
    }
    Ok(())
}

/// Both masks of `image_id` are in `out`.
pub fn masks_exist(out: &Path, image_id: &str) -> bool {
    [MaskKind::Lines, MaskKind::Zones]
        .iter()
        .all(|&k| mask_path(out, image_id, k).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{LineRecord, ZoneMeasurement};

    #[test]
    fn legend_indices_round_trip() {
        assert_eq!(zone_index("forehead"), Some(1));
        assert_eq!(zone_index("chin"), Some(9));
        assert_eq!(zone_index("full"), Some(10));
        assert_eq!(zone_index("face"), None);
        assert_eq!(zone_index(""), None);
        assert!(zone_legend_text().starts_with("0 = outside every zone, 1 = forehead"));
        for (i, z) in crate::segment::face::zones::ZONE_NAMES.iter().enumerate() {
            assert_eq!(zone_index(z), Some(i as u8 + 1), "{z}");
        }
    }

    /// A line of width 0.3 mm at 10 px/mm: radius 1.5 px around each skeleton pixel.
    #[test]
    fn lines_band_is_the_width_disk_around_the_skeleton() {
        let line = LineRecord {
            length_mm: 0.1,
            width_mm: 0.3,
            depth: 0.1,
            orientation_deg: 0.0,
            skeleton: vec![(5, 5)],
        };
        let records = [ZoneRecord {
            zone: "full".into(),
            area_px: 100,
            measurement: ZoneMeasurement {
                lines: vec![line],
                ..ZoneMeasurement::default()
            },
        }];
        let m = lines_mask(10, 10, &records, Some(10.0));
        let on: Vec<(u32, u32)> = m
            .enumerate_pixels()
            .filter(|p| p.2[0] == 255)
            .map(|p| (p.0, p.1))
            .collect();
        // dx² + dy² ≤ 2.25: the centre, its 4 and its diagonal neighbours.
        assert_eq!(on.len(), 9);
        assert!(m.pixels().all(|p| p[0] == 0 || p[0] == 255));
        // Uncalibrated: the skeleton alone.
        let m = lines_mask(10, 10, &records, None);
        assert_eq!(m.pixels().filter(|p| p[0] == 255).count(), 1);
    }
}
