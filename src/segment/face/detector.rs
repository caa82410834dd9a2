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
//!
//! **Small faces: the tile pass.** Letterboxed whole, a face is found reliably when its box is at
//! least [`WHOLE_IMAGE_MIN_FACE`] (0.15) of the image's long side `L`; smaller faces are missed or
//! found with low scores and boxes up to 1.5 x too large. When the whole image gives no face of
//! that size scored at least [`WHOLE_IMAGE_MIN_SCORE`] (0.85) (nor one too large for any tile),
//! overlapping square tiles are searched (an image pyramid), so that a face of box side
//! `b >= f L` (`f` = `face.min_face_fraction`, 0.08 by default) is at least [`TILE_MIN_FACE`]
//! (0.2) of some tile:
//!
//! ```text
//! T_1 = max(L/2, 5 f L),  T_(k+1) = max(T_k/2, 5 f L),  while the smallest face covered so
//! far (0.15 L by the whole image, then 0.2 T_k) is larger than f L
//! tiles of side T_k overlap by >= T_k/2: a face box <= T_k/2 lies whole inside one of them
//! ```
//!
//! (`f = 0.08`: two levels, `T = 0.5 L` and `0.4 L`; 14 tiles on a 16:9 photo.) The tiles are
//! cut from the letterbox block-averaged once to `128 L / T_min` px, so the pass costs about one
//! detector run per tile whatever the resolution. Detections whose box comes within 1 % of a tile
//! edge are dropped (a face cut by the edge is whole in an overlapping tile); the rest, mapped to
//! image px, are merged across tiles and levels by the same weighted NMS. The tiles are searched
//! in the same orientations as the whole image, by the same rule (the highest score wins), but
//! the others are skipped when the upright tiles score at least [`WHOLE_IMAGE_MIN_SCORE`]. (The
//! orientation of the whole image's low-scored small faces is no guide: on a group photo it was
//! often a sideways one, with keypoints far off.) When the whole image finds such a face, no tiles are searched: that face
//! is the largest, the one measured, and `faces_found` counts the faces the whole image sees
//! (smaller faces beside a large one are not counted).

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
    let cands: Vec<Candidate> = anchors()
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
    weighted_nms(cands, nms_iou)
}

/// Weighted non-maximum suppression (see the module doc) of candidates in one coordinate frame;
/// best score first. The sort is stable, so ties keep the input order (deterministic).
fn weighted_nms(mut cands: Vec<Candidate>, nms_iou: f64) -> Vec<Candidate> {
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

/// A candidate in the normalised coordinates of `frame`, as an image-px detection.
fn to_detection(c: &Candidate, frame: Roi) -> Detection {
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
}

/// An image-px detection as a candidate in the normalised coordinates of `frame` (which must be
/// turned by the same multiple of 90 degrees as the detection's own frame).
fn to_candidate(d: &Detection, frame: &Roi) -> Candidate {
    let [cx, cy] = frame.to_crop(d.cx, d.cy);
    let (hw, hh) = (d.width / frame.size / 2.0, d.height / frame.size / 2.0);
    let mut keypoints = [[0.0f32; 2]; 6];
    for (kp, p) in keypoints.iter_mut().zip(&d.keypoints) {
        let q = frame.to_crop(p[0], p[1]);
        *kp = [q[0] as f32, q[1] as f32];
    }
    Candidate {
        bbox: [
            (cx - hw) as f32,
            (cy - hh) as f32,
            (cx + hw) as f32,
            (cy + hh) as f32,
        ],
        keypoints,
        score: d.score as f32,
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
    Ok(cands.iter().map(|c| to_detection(c, frame)).collect())
}

/// Smallest face box side, as a fraction of the image's long side, that the whole-image pass
/// finds reliably (the astronaut face scaled on a grey canvas: score >= 0.8 and the box within
/// 2 % from 0.15; below it boxes come out up to 1.5 x too large, and nothing below 0.1).
pub const WHOLE_IMAGE_MIN_FACE: f64 = 0.15;

/// Smallest face box side, as a fraction of the tile side, that the tile pass is sized for
/// (a margin above the 0.15 the detector needs).
pub const TILE_MIN_FACE: f64 = 0.2;

/// Tile sides (image px) of the tile pass, coarsest first, for an image of long side
/// `long_side_px` and faces down to `min_face_fraction` of it (see the module doc). Empty when the
/// whole-image pass already covers `min_face_fraction`.
pub fn tile_sides(long_side_px: f64, min_face_fraction: f64) -> Vec<f64> {
    let smallest = min_face_fraction * long_side_px;
    let finest = smallest / TILE_MIN_FACE;
    let mut sides = Vec::new();
    let mut side = long_side_px;
    let mut covered = WHOLE_IMAGE_MIN_FACE * long_side_px;
    // 1e-9 absorbs rounding.
    while covered > smallest * (1.0 + 1e-9) && side > finest {
        side = (side / 2.0).max(finest);
        sides.push(side);
        covered = TILE_MIN_FACE * side;
    }
    sides
}

/// Start offsets (px) of tiles of side `side` along an axis of `len` px: overlapping by at least
/// half a tile, the first at 0 and the last ending at `len`; one centred tile when `side >= len`.
fn tile_starts(len: f64, side: f64) -> Vec<f64> {
    if side >= len {
        return vec![(len - side) / 2.0];
    }
    // 1e-9: a length that is a whole number of half tiles up to rounding needs no extra tile.
    let n = ((len - side) / (side / 2.0) - 1e-9).ceil() as usize + 1;
    (0..n)
        .map(|i| i as f64 * (len - side) / (n - 1) as f64)
        .collect()
}

/// The square tiles (image px, turned by `quarter_turns` x 90 degrees) of the tile pass.
pub fn tiles(width: u32, height: u32, sides: &[f64], quarter_turns: u32) -> Vec<Roi> {
    let rotation = f64::from(quarter_turns % 4) * std::f64::consts::FRAC_PI_2;
    let mut out = Vec::new();
    for &side in sides {
        for y in tile_starts(f64::from(height), side) {
            for x in tile_starts(f64::from(width), side) {
                out.push(Roi {
                    cx: x + side / 2.0,
                    cy: y + side / 2.0,
                    size: side,
                    rotation,
                });
            }
        }
    }
    out
}

/// The image the tile pass samples: the whole image, or its letterbox downscaled once (block
/// averaged) so that the finest tile spans about one detector input, which keeps the pass's cost
/// independent of the photo's resolution. Working px = (image px - origin) x scale.
struct TileSource {
    image: Option<RgbImage>,
    origin: [f64; 2],
    scale: f64,
}

impl TileSource {
    fn new(image: &RgbImage, finest_side_px: f64, antialias: bool) -> Self {
        let frame = letterbox(image.width(), image.height(), 0);
        let n = (frame.size * DETECTOR_SIZE as f64 / finest_side_px).ceil();
        if !antialias || n * 2.0 > frame.size {
            return Self {
                image: None,
                origin: [0.0, 0.0],
                scale: 1.0,
            };
        }
        let side = n as usize;
        let raw = crop_rgb(image, &frame, side, Border::Zero, true);
        let small = RgbImage::from_raw(side as u32, side as u32, raw);
        Self {
            image: small,
            origin: [frame.cx - frame.size / 2.0, frame.cy - frame.size / 2.0],
            scale: n / frame.size,
        }
    }

    /// `roi` (image px) in working px.
    fn to_working(&self, roi: &Roi) -> Roi {
        Roi {
            cx: (roi.cx - self.origin[0]) * self.scale,
            cy: (roi.cy - self.origin[1]) * self.scale,
            size: roi.size * self.scale,
            rotation: roi.rotation,
        }
    }
}

/// Margin (fraction of the tile side) a tile detection's box must keep from the tile's edges: a
/// face cut by a tile edge is found whole in an overlapping tile, its cut copy is dropped.
const TILE_EDGE_MARGIN: f64 = 0.01;

/// Faces in the overlapping tiles of one orientation, merged by weighted NMS in the orientation's
/// letterbox frame; image-px detections (with that letterbox as frame), best score first.
#[allow(clippy::too_many_arguments)]
fn detect_in_tiles(
    image: &RgbImage,
    source: &TileSource,
    sides: &[f64],
    quarter_turns: u32,
    models: &FaceModels,
    score_threshold: f64,
    nms_iou: f64,
    antialias: bool,
) -> Result<Vec<Detection>, ModelError> {
    let frame = letterbox(image.width(), image.height(), quarter_turns);
    let sampled = source.image.as_ref().unwrap_or(image);
    let mut cands = Vec::new();
    for tile in tiles(image.width(), image.height(), sides, quarter_turns) {
        let work = source.to_working(&tile);
        for d in detect_in_frame(sampled, work, models, score_threshold, nms_iou, antialias)? {
            let c = to_candidate(&d, &work);
            let inside = c
                .bbox
                .iter()
                .all(|&v| (TILE_EDGE_MARGIN..=1.0 - TILE_EDGE_MARGIN).contains(&f64::from(v)));
            if !inside {
                continue;
            }
            // Back to image px through the tile, then into the letterbox frame.
            cands.push(to_candidate(&to_detection(&c, tile), &frame));
        }
    }
    Ok(weighted_nms(cands, nms_iou)
        .iter()
        .map(|c| to_detection(c, frame))
        .collect())
}

/// Smallest detector score of a whole-image face of [`WHOLE_IMAGE_MIN_FACE`] or more that makes
/// the tile pass unnecessary (the astronaut face scaled on a grey canvas scored 0.55 at 0.10 of
/// the long side, with a box of 0.15, 0.75 at 0.12 and 0.9 from 0.18; the demo portrait 0.91).
pub const WHOLE_IMAGE_MIN_SCORE: f64 = 0.85;

/// Whether the whole-image detections stand without the tile pass: a face box of at least
/// [`WHOLE_IMAGE_MIN_FACE`] of the long side scored at least [`WHOLE_IMAGE_MIN_SCORE`], or a box
/// larger than half the coarsest tile (no tile could hold that face whole).
fn trusted_whole_image(dets: &[Detection], long_side_px: f64, coarsest_tile_px: f64) -> bool {
    dets.iter().any(|d| {
        let side = d.width.max(d.height);
        (side >= WHOLE_IMAGE_MIN_FACE * long_side_px && d.score >= WHOLE_IMAGE_MIN_SCORE)
            || side > coarsest_tile_px / 2.0
    })
}

/// Replace `best` by `dets` when their best score is higher.
fn keep_best(best: &mut Vec<Detection>, dets: Vec<Detection>) {
    let top = dets.first().map_or(f64::NEG_INFINITY, |d| d.score);
    let cur = best.first().map_or(f64::NEG_INFINITY, |d| d.score);
    if top > cur {
        *best = dets;
    }
}

/// Detect faces: the whole image in the four 90-degree orientations (or upright only), keeping
/// the orientation whose best detection scores highest (the first one on ties). When these do not
/// stand on their own (nothing, or only small or low-scored faces, whose whole-image boxes are
/// unreliable: they come out up to 1.5 x too large; see `trusted_whole_image`) and
/// `min_face_fraction` is below [`WHOLE_IMAGE_MIN_FACE`], the tile pass (module doc) runs, upright
/// first, and its detections replace the whole image's when it finds any. Returns detections
/// best first.
pub fn detect_faces(
    image: &RgbImage,
    models: &FaceModels,
    score_threshold: f64,
    nms_iou: f64,
    all_orientations: bool,
    antialias: bool,
    min_face_fraction: f64,
) -> Result<Vec<Detection>, ModelError> {
    let turns = if all_orientations { 4 } else { 1 };
    let mut best: Vec<Detection> = Vec::new();
    for q in 0..turns {
        let frame = letterbox(image.width(), image.height(), q);
        keep_best(
            &mut best,
            detect_in_frame(image, frame, models, score_threshold, nms_iou, antialias)?,
        );
    }
    let long_side = f64::from(image.width().max(image.height()));
    let sides = tile_sides(long_side, min_face_fraction);
    if !sides.is_empty() && !trusted_whole_image(&best, long_side, sides[0]) {
        let source = TileSource::new(image, sides[sides.len() - 1], antialias);
        let mut tiled = Vec::new();
        for q in 0..turns {
            // Upright tiles that score this well settle it: the other orientations are not
            // tried (the pass then costs a quarter as much).
            if tiled
                .first()
                .is_some_and(|d: &Detection| d.score >= WHOLE_IMAGE_MIN_SCORE)
            {
                break;
            }
            keep_best(
                &mut tiled,
                detect_in_tiles(
                    image,
                    &source,
                    &sides,
                    q,
                    models,
                    score_threshold,
                    nms_iou,
                    antialias,
                )?,
            );
        }
        if !tiled.is_empty() {
            best = tiled;
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
