//! A phantom's ground truth written as expert annotations (`skintex phantom --annotations DIR`),
//! in the formats `skintex agree` reads, so that the agreement of skintex with its own truth
//! can be measured end to end:
//!
//! ```text
//! DIR/<image_id>.png   8-bit grey, image size: 255 on the FWHM band of every wrinkle (pixels
//!                      within width_mm · px_per_mm / 2 of its centre line), 0 elsewhere
//! DIR/scars.csv        image_id,x_px,y_px,diameter_mm,type: one row per scar (centre in image
//!                      px, rim diameter in mm, icepick / boxcar / rolling)
//! ```

use std::path::Path;

use anyhow::Context;
use image::GrayImage;

use super::{GroundTruth, polyline_band_mask};
use crate::output::format_number;

/// The header of the annotation scars CSV.
pub const SCARS_HEADER: [&str; 5] = ["image_id", "x_px", "y_px", "diameter_mm", "type"];

/// The wrinkle annotation: 255 on the FWHM band of every wrinkle of `truth`.
pub fn wrinkle_annotation(truth: &GroundTruth) -> GrayImage {
    let size = truth.size_px as usize;
    let band = polyline_band_mask(
        &truth
            .wrinkles
            .iter()
            .map(|w| (w.polyline_px.as_slice(), 0.5 * w.width_mm * truth.px_per_mm))
            .collect::<Vec<_>>(),
        size,
    );
    GrayImage::from_fn(truth.size_px, truth.size_px, |x, y| {
        image::Luma([if band[y as usize * size + x as usize] {
            255
        } else {
            0
        }])
    })
}

/// The annotation scar rows of one phantom, in [`SCARS_HEADER`]'s order.
pub fn scar_annotation_rows(image_id: &str, truth: &GroundTruth) -> Vec<[String; 5]> {
    truth
        .scars
        .iter()
        .map(|s| {
            [
                image_id.to_owned(),
                format_number(s.x_px),
                format_number(s.y_px),
                format_number(s.diameter_mm),
                s.kind.clone(),
            ]
        })
        .collect()
}

/// Write the annotations of `phantoms` (`(image_id, truth)`) into `dir`: one wrinkle mask each
/// and one `scars.csv` for all.
///
/// # Errors
/// An unwritable folder or file.
pub fn write_annotations(dir: &Path, phantoms: &[(String, &GroundTruth)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(SCARS_HEADER)?;
    for (image_id, truth) in phantoms {
        let png = crate::output::masks::mask_png(&wrinkle_annotation(truth))
            .context("encoding a wrinkle mask")?;
        crate::output::write_atomic(&dir.join(format!("{image_id}.png")), &png)?;
        for row in scar_annotation_rows(image_id, truth) {
            csv.write_record(&row)?;
        }
    }
    let bytes = csv.into_inner().context("writing scars.csv")?;
    crate::output::write_atomic(&dir.join("scars.csv"), &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phantom::{PhantomSpec, render_phantom};

    /// The mask covers exactly the pixels within half the FWHM of a wrinkle's centre line.
    #[test]
    fn wrinkle_mask_is_the_fwhm_band() {
        let spec = PhantomSpec {
            size_px: 400,
            ..PhantomSpec::default()
        };
        let truth = render_phantom(&spec, 3).truth;
        assert!(!truth.wrinkles.is_empty());
        let mask = wrinkle_annotation(&truth);
        let near = |x: u32, y: u32| {
            truth.wrinkles.iter().any(|w| {
                w.polyline_px.windows(2).any(|s| {
                    crate::phantom::point_segment_distance([f64::from(x), f64::from(y)], s[0], s[1])
                        <= 0.5 * w.width_mm * truth.px_per_mm
                })
            })
        };
        let mut on = 0;
        for (x, y, p) in mask.enumerate_pixels() {
            assert_eq!(p[0] == 255, near(x, y), "({x}, {y})");
            on += usize::from(p[0] == 255);
        }
        // About Σ length × width.
        let expect: f64 = truth
            .wrinkles
            .iter()
            .map(|w| w.length_mm * w.width_mm * truth.px_per_mm.powi(2))
            .sum();
        assert!((on as f64 / expect - 1.0).abs() < 0.3, "{on} vs {expect}");
        let rows = scar_annotation_rows("p", &truth);
        assert_eq!(rows.len(), truth.scars.len());
    }
}
