//! BlazeFace short-range face detection: letterboxed input, SSD anchors, decoding and weighted
//! non-maximum suppression, as MediaPipe 0.10.14's `FaceDetectionShortRange` graph (the options
//! are listed in `models/README.md` and `models/mediapipe_graphs.txt`).
//!
//! ```text
//! cx = r0/128 + ax    cy = r1/128 + ay    w = r2/128    h = r3/128
//! kp_k = (r(4+2k)/128 + ax, r(5+2k)/128 + ay)         k = 0..5
//! score = 1 / (1 + exp(-clamp(logit, -100, 100)))      kept when >= threshold
//! ```
//!
//! `(ax, ay)` is the anchor centre and `r` the 16 regressors, all in the 128 px tensor frame.
//! Weighted NMS: take the best remaining detection and every remaining one whose IoU with it
//! exceeds the threshold; output their score-weighted mean box and keypoints with the best score.
//!
//! The whole image is letterboxed (padded to a square around its centre, black padding) into the
//! 128 x 128 tensor. The detector is trained on upright faces; to find faces turned by 90, 180 or
//! 270 degrees the letterbox is also sampled rotated by those angles and the orientation with the
//! highest detection score wins (so a photo rotated by a multiple of 90 degrees gives the same
//! face).

use image::RgbImage;

use super::crop::{Border, Roi, crop_rgb};
use super::runtime::{FaceModels, ModelError};

/// Detector tensor side, px.
pub const DETECTOR_SIZE: usize = 128;
const NUM_ANCHORS: usize = 896;
const NUM_COORDS: usize = 16;

/// A detected face, in image px.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Box centre, image px.
    pub cx: f64,
    pub cy: f64,
    /// Box side lengths along the detector's tensor axes, image px.
    pub width: f64,
    pub height: f64,
    /// 6 keypoints (subject's right eye, left eye, nose tip, mouth centre, right tragion, left
    /// tragion), image px.
    pub keypoints: [[f64; 2]; 6],
    /// Sigmoid score of the best anchor, 0..1.
    pub score: f64,
    /// The letterbox ROI (rotated by a multiple of 90 degrees) the face was found in.
    pub frame: Roi,
}

impl Detection {
    /// Axis-aligned box `[x0, y0, x1, y1]` in image px.
    pub fn image_box(&self) -> [f64; 4] {
        // The tensor axes are the image axes rotated by a multiple of 90 degrees.
        let swap = (self.frame.rotation.sin().abs()) > 0.5;
        let (w, h) = if swap {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        };
        [
            self.cx - w / 2.0,
            self.cy - h / 2.0,
            self.cx + w / 2.0,
            self.cy + h / 2.0,
        ]
    }
}

/// SSD anchor centres of the short-range detector, in `[0, 1]` tensor coordinates, in model
/// output order (stride 8: 16x16 cells x 2; stride 16: 8x8 cells x 6).
pub fn anchors() -> Vec<[f32; 2]> {
    let mut out = Vec::with_capacity(NUM_ANCHORS);
    for (grid, per_cell) in [(16usize, 2usize), (8, 6)] {
        for y in 0..grid {
            for x in 0..grid {
                let a = [
                    (x as f32 + 0.5) / grid as f32,
                    (y as f32 + 0.5) / grid as f32,
                ];
                out.extend(std::iter::repeat_n(a, per_cell));
            }
        }
    }
    out
}

/// A decoded candidate in normalised tensor coordinates.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// xmin, ymin, xmax, ymax.
    bbox: [f32; 4],
    keypoints: [[f32; 2]; 6],
    score: f32,
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// Decode raw detector outputs and apply weighted NMS; detections in normalised tensor
/// coordinates, best first.
fn decode(
    regressors: &[f32],
    logits: &[f32],
    score_threshold: f64,
    nms_iou: f64,
) -> Vec<Candidate> {
    let scale = DETECTOR_SIZE as f32;
    let mut cands: Vec<Candidate> = anchors()
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let logit = logits[i].clamp(-100.0, 100.0);
            let score = 1.0 / (1.0 + (-logit).exp());
            if f64::from(score) < score_threshold {
                return None;
            }
            let r = &regressors[i * NUM_COORDS..(i + 1) * NUM_COORDS];
            let cx = r[0] / scale + a[0];
            let cy = r[1] / scale + a[1];
            let w = r[2] / scale;
            let h = r[3] / scale;
            let mut keypoints = [[0.0f32; 2]; 6];
            for (k, kp) in keypoints.iter_mut().enumerate() {
                *kp = [r[4 + 2 * k] / scale + a[0], r[5 + 2 * k] / scale + a[1]];
            }
            Some(Candidate {
                bbox: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
                keypoints,
                score,
            })
        })
        .collect();
    // Stable sort by descending score: ties keep anchor order (deterministic).
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while !cands.is_empty() {
        let best = cands[0];
        let (merged, rest): (Vec<Candidate>, Vec<Candidate>) = cands
            .into_iter()
            .partition(|c| f64::from(iou(&best.bbox, &c.bbox)) > nms_iou);
        let total: f32 = merged.iter().map(|c| c.score).sum();
        let mut avg = Candidate {
            bbox: [0.0; 4],
            keypoints: [[0.0; 2]; 6],
            score: best.score,
        };
        for c in &merged {
            let w = c.score / total;
            for k in 0..4 {
                avg.bbox[k] += w * c.bbox[k];
            }
            for k in 0..6 {
                avg.keypoints[k][0] += w * c.keypoints[k][0];
                avg.keypoints[k][1] += w * c.keypoints[k][1];
            }
        }
        out.push(avg);
        cands = rest;
    }
    out
}

/// The detector input tensor for `frame` (NHWC, [-1, 1]).
pub fn detector_input(image: &RgbImage, frame: &Roi, antialias: bool) -> Vec<f32> {
    crop_rgb(image, frame, DETECTOR_SIZE, Border::Zero, antialias)
        .into_iter()
        .map(|v| f32::from(v) * (2.0 / 255.0) - 1.0)
        .collect()
}

/// The letterbox ROI of the whole image, rotated by `quarter_turns` x 90 degrees.
pub fn letterbox(width: u32, height: u32, quarter_turns: u32) -> Roi {
    Roi {
        cx: f64::from(width) / 2.0,
        cy: f64::from(height) / 2.0,
        size: f64::from(width.max(height)),
        rotation: f64::from(quarter_turns % 4) * std::f64::consts::FRAC_PI_2,
    }
}

/// Detect faces in one letterbox frame; image-px detections, best score first.
pub fn detect_in_frame(
    image: &RgbImage,
    frame: Roi,
    models: &FaceModels,
    score_threshold: f64,
    nms_iou: f64,
    antialias: bool,
) -> Result<Vec<Detection>, ModelError> {
    let (regressors, logits) = models.run_detector(detector_input(image, &frame, antialias))?;
    let cands = decode(&regressors, &logits, score_threshold, nms_iou);
    Ok(cands
        .iter()
        .map(|c| {
            let centre = frame.to_image(
                f64::from(c.bbox[0] + c.bbox[2]) / 2.0,
                f64::from(c.bbox[1] + c.bbox[3]) / 2.0,
            );
            let mut keypoints = [[0.0; 2]; 6];
            for (k, kp) in keypoints.iter_mut().enumerate() {
                *kp = frame.to_image(f64::from(c.keypoints[k][0]), f64::from(c.keypoints[k][1]));
            }
            Detection {
                cx: centre[0],
                cy: centre[1],
                width: f64::from(c.bbox[2] - c.bbox[0]) * frame.size,
                height: f64::from(c.bbox[3] - c.bbox[1]) * frame.size,
                keypoints,
                score: f64::from(c.score),
                frame,
            }
        })
        .collect())
}

/// Detect faces in the four 90-degree orientations and keep the orientation whose best detection
/// scores highest (the first one on ties). Returns that orientation's detections, best first.
pub fn detect_faces(
    image: &RgbImage,
    models: &FaceModels,
    score_threshold: f64,
    nms_iou: f64,
    all_orientations: bool,
    antialias: bool,
) -> Result<Vec<Detection>, ModelError> {
    let turns = if all_orientations { 4 } else { 1 };
    let mut best: Vec<Detection> = Vec::new();
    for q in 0..turns {
        let frame = letterbox(image.width(), image.height(), q);
        let dets = detect_in_frame(image, frame, models, score_threshold, nms_iou, antialias)?;
        let top = dets.first().map_or(f64::NEG_INFINITY, |d| d.score);
        let cur = best.first().map_or(f64::NEG_INFINITY, |d| d.score);
        if top > cur {
            best = dets;
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_layout() {
        let a = anchors();
        assert_eq!(a.len(), NUM_ANCHORS);
        assert_eq!(a[0], [0.5 / 16.0, 0.5 / 16.0]);
        assert_eq!(a[1], a[0]);
        assert_eq!(a[2], [1.5 / 16.0, 0.5 / 16.0]);
        assert_eq!(a[512], [0.5 / 8.0, 0.5 / 8.0]);
        assert_eq!(a[517], a[512]);
        assert_eq!(a[518], [1.5 / 8.0, 0.5 / 8.0]);
        assert_eq!(a[895], [7.5 / 8.0, 7.5 / 8.0]);
    }

    #[test]
    fn weighted_nms_merges_overlaps() {
        let mut reg = vec![0.0f32; NUM_ANCHORS * NUM_COORDS];
        let mut logits = vec![-10.0f32; NUM_ANCHORS];
        // Two overlapping boxes on anchors 0 and 1 (same centre), one far away on anchor 895.
        for (i, (dx, w, logit)) in [
            (0usize, (0.0f32, 20.0f32, 2.0f32)),
            (1, (4.0, 20.0, 1.0)),
            (895, (0.0, 10.0, 0.5)),
        ] {
            let r = &mut reg[i * NUM_COORDS..(i + 1) * NUM_COORDS];
            r[0] = dx;
            r[2] = w;
            r[3] = w;
            logits[i] = logit;
        }
        let d = decode(&reg, &logits, 0.5, 0.3);
        assert_eq!(d.len(), 2);
        let s0 = 1.0 / (1.0 + (-2.0f32).exp());
        let s1 = 1.0 / (1.0 + (-1.0f32).exp());
        assert!((d[0].score - s0).abs() < 1e-6);
        let cx = (d[0].bbox[0] + d[0].bbox[2]) / 2.0;
        let want = 0.5 / 16.0 + (s1 / (s0 + s1)) * 4.0 / 128.0;
        assert!((cx - want).abs() < 1e-6, "{cx} vs {want}");
    }
}
