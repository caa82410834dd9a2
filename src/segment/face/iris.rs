//! Iris landmarks and the px/mm calibration they give.
//!
//! Eye crops follow MediaPipe's `IrisLandmarkLandmarksToRoi` (see `models/README.md`): for each
//! eye, the ROI is the bounding box of its two corner landmarks (33 and 133 for the subject's
//! right eye, on the image's left; 362 and 263 for the subject's left eye), rotated so that the
//! corner line is horizontal, made square on its long side and scaled by 2.3. The crop is
//! resampled to 64 x 64 in [0, 1]; the subject's left eye is mirrored (the model knows one eye
//! only) and its outputs un-mirrored with `x = 64 - x`.
//!
//! Calibration: the horizontal visible iris diameter (HVID) of adults averages 11.7 mm
//! (SD about 0.5 mm; e.g. Caroline & Andre, Contact Lens Spectrum 2002; Rüfer et al., Cornea
//! 2005, doi:10.1097/01.ico.0000151554.51403.d9).
//!
//! ```text
//! D_px     = |q1 - q3|                 distance between the iris boundary points on the
//!                                      horizontal (eye-line) axis, image px
//! k_eye    = D_px / D_mm               px per mm of one eye, D_mm = 11.7 mm by default
//! k        = mean of the valid k_eye   px per mm of the image
//! disagree = |k_r - k_l| / k           relative disagreement; flagged when > 0.10
//! ```
//!
//! Limits: HVID varies between adults (SD about 4 %), so the absolute scale of one subject is
//! uncertain by about that much; the estimate is only as good as the iris model's boundary
//! points, which assume an open eye seen roughly frontally. An eye whose diameter is not a
//! positive finite number is left out.

use image::RgbImage;

use super::crop::{Border, Roi, crop_rgb};
use super::mesh::line_rotation;
use super::runtime::{FaceModels, ModelError};

/// Iris tensor side, px.
pub const IRIS_SIZE: usize = 64;

/// Iris landmarks of one eye, image px.
#[derive(Debug, Clone, PartialEq)]
pub struct EyeIris {
    /// Iris centre then 4 boundary points, `[x, y]` image px.
    pub iris: [[f64; 2]; 5],
    /// 71 eye contour and brow points, `[x, y]` image px.
    pub contour: Vec<[f64; 2]>,
    /// Horizontal visible iris diameter, image px.
    pub diameter_px: f64,
    /// The eye crop.
    pub roi: Roi,
}

/// Iris calibration of an image (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct IrisCalibration {
    /// px per mm from the subject's left eye (image right), if valid.
    pub left_px_per_mm: Option<f64>,
    /// px per mm from the subject's right eye (image left), if valid.
    pub right_px_per_mm: Option<f64>,
    /// Mean of the valid eyes, px per mm.
    pub px_per_mm: f64,
    /// |left - right| / mean; 0 when only one eye is valid.
    pub disagreement: f64,
    /// Whether `disagreement` exceeds the configured limit.
    pub flagged: bool,
    /// Per-eye landmarks: subject's right eye, then left.
    pub eyes: [Option<EyeIris>; 2],
}

/// The eye ROI from two corner landmarks (MediaPipe `IrisLandmarkLandmarksToRoi`).
pub fn eye_roi(p0: [f64; 2], p1: [f64; 2], scale: f64) -> Roi {
    let w = (p1[0] - p0[0]).abs();
    let h = (p1[1] - p0[1]).abs();
    Roi {
        cx: (p0[0] + p1[0]) / 2.0,
        cy: (p0[1] + p1[1]) / 2.0,
        size: w.max(h) * scale,
        rotation: line_rotation(p0, p1),
    }
}

/// Run the iris model on one eye. `mirror` flips the crop horizontally (the subject's left eye).
pub fn run_eye(
    image: &RgbImage,
    roi: Roi,
    mirror: bool,
    models: &FaceModels,
    antialias: bool,
) -> Result<EyeIris, ModelError> {
    let n = IRIS_SIZE;
    let mut px = crop_rgb(image, &roi, n, Border::Replicate, antialias);
    if mirror {
        for row in px.chunks_exact_mut(n * 3) {
            for i in 0..n / 2 {
                for c in 0..3 {
                    row.swap(i * 3 + c, (n - 1 - i) * 3 + c);
                }
            }
        }
    }
    let input: Vec<f32> = px.into_iter().map(|v| f32::from(v) / 255.0).collect();
    let (contour_raw, iris_raw) = models.run_iris(input)?;
    let nf = n as f64;
    let project = |x: f32, y: f32| {
        let x = if mirror {
            nf - f64::from(x)
        } else {
            f64::from(x)
        };
        roi.to_image(x / nf, f64::from(y) / nf)
    };
    let mut iris = [[0.0; 2]; 5];
    for (k, p) in iris.iter_mut().enumerate() {
        *p = project(iris_raw[k * 3], iris_raw[k * 3 + 1]);
    }
    let contour = contour_raw
        .chunks_exact(3)
        .map(|v| project(v[0], v[1]))
        .collect();
    let diameter_px =
        ((iris[1][0] - iris[3][0]).powi(2) + (iris[1][1] - iris[3][1]).powi(2)).sqrt();
    Ok(EyeIris {
        iris,
        contour,
        diameter_px,
        roi,
    })
}

/// Iris landmarks of both eyes and the calibration they give.
pub fn iris_calibration(
    image: &RgbImage,
    landmarks: &[[f64; 3]],
    models: &FaceModels,
    iris_diameter_mm: f64,
    max_disagreement: f64,
    antialias: bool,
) -> Result<Option<IrisCalibration>, ModelError> {
    let p = |i: usize| [landmarks[i][0], landmarks[i][1]];
    let right = run_eye(image, eye_roi(p(33), p(133), 2.3), false, models, antialias)?;
    let left = run_eye(image, eye_roi(p(362), p(263), 2.3), true, models, antialias)?;
    let k = |e: &EyeIris| {
        let v = e.diameter_px / iris_diameter_mm;
        (v.is_finite() && v > 0.0).then_some(v)
    };
    let (kr, kl) = (k(&right), k(&left));
    let (px_per_mm, disagreement) = match (kr, kl) {
        (Some(a), Some(b)) => {
            let m = (a + b) / 2.0;
            (m, (a - b).abs() / m)
        }
        (Some(a), None) | (None, Some(a)) => (a, 0.0),
        (None, None) => return Ok(None),
    };
    Ok(Some(IrisCalibration {
        left_px_per_mm: kl,
        right_px_per_mm: kr,
        px_per_mm,
        disagreement,
        flagged: disagreement > max_disagreement,
        eyes: [Some(right), Some(left)],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eye_roi_matches_reference() {
        // models/reference: left eye (mediapipe naming) ROI from landmarks 33 and 133.
        // Corner landmarks are not in the reference, so check the construction on a level eye.
        let r = eye_roi([10.0, 20.0], [30.0, 20.0], 2.3);
        assert_eq!((r.cx, r.cy), (20.0, 20.0));
        assert!((r.size - 46.0).abs() < 1e-12);
        assert_eq!(r.rotation, 0.0);
    }
}
