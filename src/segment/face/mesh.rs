//! Face mesh: a rotated square crop around the face, 468-landmark inference, and the landmarks
//! mapped back to image px (MediaPipe `FaceDetectionFrontDetectionToRoi` and
//! `LandmarkProjectionCalculator`; see `models/README.md`).
//!
//! ```text
//! ROI from a detection: centre = box centre, side = 1.5 max(box w, box h),
//!                       rotation r = -atan2(-(y1 - y0), x1 - x0)   (keypoints 0 -> 1, eye line)
//! ROI from landmarks:   rotation r from landmark 33 to 263, centre and side from the bounding
//!                       box of all 468 landmarks in the ROI-rotated frame, side x 1.5
//! landmark i:           p = c + s (x/192 - 1/2) u + s (y/192 - 1/2) v,   z_px = z/192 * s
//! ```
//!
//! MediaPipe takes the landmark box axis-aligned in the image; here it is taken in the face's own
//! rotated frame, so that the crop does not grow with in-plane head tilt.

use image::RgbImage;

use super::crop::{Border, Roi, crop_rgb};
use super::detector::Detection;
use super::runtime::{FaceModels, ModelError};

/// Mesh tensor side, px.
pub const MESH_SIZE: usize = 192;
/// Number of mesh landmarks.
pub const NUM_LANDMARKS: usize = 468;

/// Normalise an angle to `[-pi, pi)`.
pub fn normalize_radians(a: f64) -> f64 {
    use std::f64::consts::PI;
    a - 2.0 * PI * ((a + PI) / (2.0 * PI)).floor()
}

/// Rotation (rad) that brings the line from `p0` to `p1` to horizontal (MediaPipe target angle 0).
pub fn line_rotation(p0: [f64; 2], p1: [f64; 2]) -> f64 {
    normalize_radians(-(-(p1[1] - p0[1])).atan2(p1[0] - p0[0]))
}

/// The mesh ROI from a detection.
pub fn roi_from_detection(det: &Detection, scale: f64) -> Roi {
    let b = det.image_box();
    Roi {
        cx: det.cx,
        cy: det.cy,
        size: (b[2] - b[0]).max(b[3] - b[1]) * scale,
        rotation: line_rotation(det.keypoints[0], det.keypoints[1]),
    }
}

/// The mesh ROI re-derived from landmarks (see the module doc).
pub fn roi_from_landmarks(landmarks: &[[f64; 3]], scale: f64) -> Roi {
    let p = |i: usize| [landmarks[i][0], landmarks[i][1]];
    let rotation = line_rotation(p(33), p(263));
    let (s, c) = rotation.sin_cos();
    let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
    for l in landmarks {
        // Coordinates in the rotated frame (axes u, v).
        let a = c * l[0] + s * l[1];
        let b = -s * l[0] + c * l[1];
        lo = [lo[0].min(a), lo[1].min(b)];
        hi = [hi[0].max(a), hi[1].max(b)];
    }
    let (ma, mb) = ((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0);
    Roi {
        cx: c * ma - s * mb,
        cy: s * ma + c * mb,
        size: (hi[0] - lo[0]).max(hi[1] - lo[1]) * scale,
        rotation,
    }
}

/// The mesh input tensor for `roi` (NHWC, [0, 1]).
pub fn mesh_input(image: &RgbImage, roi: &Roi, antialias: bool) -> Vec<f32> {
    crop_rgb(image, roi, MESH_SIZE, Border::Replicate, antialias)
        .into_iter()
        .map(|v| f32::from(v) / 255.0)
        .collect()
}

/// Mesh result: 468 landmarks `[x, y, z]` in image px and the face-presence score (0..1).
#[derive(Debug, Clone)]
pub struct MeshResult {
    pub landmarks: Vec<[f64; 3]>,
    pub presence: f64,
    pub roi: Roi,
}

/// Run the mesh on `roi` of `image`.
pub fn run_mesh(
    image: &RgbImage,
    roi: Roi,
    models: &FaceModels,
    antialias: bool,
) -> Result<MeshResult, ModelError> {
    let (raw, logit) = models.run_mesh(mesh_input(image, &roi, antialias))?;
    let n = MESH_SIZE as f64;
    let landmarks = raw
        .chunks_exact(3)
        .take(NUM_LANDMARKS)
        .map(|v| {
            let [x, y] = roi.to_image(f64::from(v[0]) / n, f64::from(v[1]) / n);
            [x, y, f64::from(v[2]) / n * roi.size]
        })
        .collect();
    Ok(MeshResult {
        landmarks,
        presence: 1.0 / (1.0 + (-f64::from(logit)).exp()),
        roi,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eye_line_rotation_matches_reference() {
        // Reference keypoints of the astronaut: rotation 0.0943886 rad.
        let r = line_rotation([201.495, 104.898], [245.846, 109.097]);
        assert!((r - 0.0943886).abs() < 1e-4, "{r}");
        assert!((normalize_radians(3.5) - (3.5 - 2.0 * std::f64::consts::PI)).abs() < 1e-12);
    }

    #[test]
    fn landmark_roi_of_a_rotated_square() {
        // Landmarks on a square of side 10 rotated by 0.4 rad; 33 and 263 on its top edge.
        let r: f64 = 0.4;
        let (s, c) = r.sin_cos();
        let mut lm = vec![[0.0; 3]; NUM_LANDMARKS];
        for (i, l) in lm.iter_mut().enumerate() {
            let (a, b) = match i % 4 {
                0 => (-5.0, -5.0),
                1 => (5.0, -5.0),
                2 => (5.0, 5.0),
                _ => (-5.0, 5.0),
            };
            *l = [50.0 + c * a - s * b, 60.0 + s * a + c * b, 0.0];
        }
        lm[33] = [50.0 + c * -5.0 - s * -5.0, 60.0 + s * -5.0 + c * -5.0, 0.0];
        lm[263] = [50.0 + c * 5.0 - s * -5.0, 60.0 + s * 5.0 + c * -5.0, 0.0];
        let roi = roi_from_landmarks(&lm, 1.5);
        assert!((roi.rotation - r).abs() < 1e-9);
        assert!((roi.cx - 50.0).abs() < 1e-9 && (roi.cy - 60.0).abs() < 1e-9);
        assert!((roi.size - 15.0).abs() < 1e-9);
    }
}
