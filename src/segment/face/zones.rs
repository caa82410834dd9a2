//! Anatomical zones from the 468-point face mesh, rasterised at full image resolution.
//!
//! **Face frame.** From the eye centres `E_r = (p33 + p133)/2` (subject's right eye, image left)
//! and `E_l = (p362 + p263)/2`:
//!
//! ```text
//! O = (E_r + E_l)/2      d = |E_l - E_r|      (inter-ocular distance, px)
//! e_x = (E_l - E_r)/d    e_y = (-e_x.y, e_x.x)  (towards the chin)
//! X = (p - O).e_x / d    Y = (p - O).e_y / d     for an image point p (pixel centre = index)
//! ```
//!
//! `X > 0` is the subject's left. Every zone boundary below is a straight or piecewise-linear
//! line in `(X, Y)` through landmarks of the face itself, on the pixel's own side, so zones
//! follow each face's proportions, rotation and scale. A pixel belongs to a zone only if it lies
//! inside the face-oval polygon (`FACEMESH_FACE_OVAL`). Zones are assigned in this order, the
//! first rule that matches winning (`pN` is landmark N on the pixel's side, right-side index
//! given; `Y(pN)`, `|X(pN)|` its coordinates):
//!
//! | zone | rule |
//! | --- | --- |
//! | glabella | `|X| < |X(p107)|` (brow heads) and `Y(brow heads) - 0.15 <= Y < Y(p168)` (nasion) |
//! | forehead | above the brows' upper edge (polyline p107-p66-p105-p63-p70) and `|X| <= |X(p70)|` (brow tail) |
//! | periorbital_left/right | `|X| > |X(p33)|` (lateral canthus), `Y(p46) < Y < Y(p33) + 0.30` (brow tail to cheekbone) |
//! | nose | `Y(p168) <= Y <= Y(p2)` and `|X| <` the nose side line (p168: 0.6 |X(p133)|, p133: 0.8 |X(p133)|, p129: |X(p129)|, p2: |X(p98)|) |
//! | perioral | `Y(p129) <= Y <= Y(p18)` and `|X| <` the nasolabial line p129-p61 (then `|X(p61)| + 0.15` below the mouth corner) |
//! | cheek_left/right | `Y(p145) < Y < Y(p61)` and `|X|` beyond the nose side line, then the nasolabial line |
//! | chin | `Y > Y(p18)` and `|X| < |X(p61)| + 0.15` |
//!
//! `face` is the union of the nine zones. Eyes, brows, lips and nostrils (polygons of mesh
//! landmarks: the eye contours, the brow contours, the outer lip contour, and the under-tip
//! region p64-p98-p97-p2-p326-p327-p294-p274-p1-p44) are excluded, grown by `margin x d`.
//! The temples, the jaw lateral to the mouth corners and the upper lip's vermilion border outside
//! the rules stay outside every zone.

use ndarray::Array2;

/// Zone names in output order (labels 1..=9).
pub const ZONE_NAMES: [&str; 9] = [
    "forehead",
    "glabella",
    "periorbital_left",
    "periorbital_right",
    "cheek_left",
    "cheek_right",
    "nose",
    "perioral",
    "chin",
];
/// Name of the union zone.
pub const ZONE_FACE: &str = "face";

/// `FACEMESH_FACE_OVAL`, in contour order.
pub const FACE_OVAL: [usize; 36] = [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
];
/// Subject's right eye contour (`FACEMESH_RIGHT_EYE`), image left.
pub const RIGHT_EYE: [usize; 16] = [
    33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
];
/// Subject's left eye contour (`FACEMESH_LEFT_EYE`), image right.
pub const LEFT_EYE: [usize; 16] = [
    263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
];
/// Subject's right brow: lower edge then upper edge reversed (`FACEMESH_RIGHT_EYEBROW`).
pub const RIGHT_BROW: [usize; 10] = [46, 53, 52, 65, 55, 107, 66, 105, 63, 70];
/// Subject's left brow (`FACEMESH_LEFT_EYEBROW`).
pub const LEFT_BROW: [usize; 10] = [276, 283, 282, 295, 285, 336, 296, 334, 293, 300];
/// Outer lip contour (`FACEMESH_LIPS`, outer loop).
pub const LIPS: [usize; 20] = [
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
];
/// Nostrils and the under-tip region.
pub const NOSTRILS: [usize; 10] = [64, 98, 97, 2, 326, 327, 294, 274, 1, 44];

/// Mirror pairs (subject's right index, left index) of the landmarks the rules use.
const MIRROR: [(usize, usize); 14] = [
    (33, 263),
    (133, 362),
    (145, 374),
    (70, 300),
    (63, 293),
    (105, 334),
    (66, 296),
    (107, 336),
    (46, 276),
    (129, 358),
    (98, 327),
    (61, 291),
    (168, 168),
    (2, 2),
];

/// The face frame (see the module doc).
#[derive(Debug, Clone, Copy)]
pub struct FaceFrame {
    pub origin: [f64; 2],
    pub ex: [f64; 2],
    pub ey: [f64; 2],
    /// Inter-ocular distance (between eye centres), px.
    pub iod_px: f64,
}

impl FaceFrame {
    pub fn new(lm: &[[f64; 3]]) -> Self {
        let mid = |a: usize, b: usize| [(lm[a][0] + lm[b][0]) / 2.0, (lm[a][1] + lm[b][1]) / 2.0];
        let r = mid(33, 133);
        let l = mid(362, 263);
        let d = ((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2))
            .sqrt()
            .max(1e-9);
        let ex = [(l[0] - r[0]) / d, (l[1] - r[1]) / d];
        Self {
            origin: [(r[0] + l[0]) / 2.0, (r[1] + l[1]) / 2.0],
            ex,
            ey: [-ex[1], ex[0]],
            iod_px: d,
        }
    }

    /// Frame coordinates `(X, Y)` of image point `(x, y)`.
    #[inline]
    pub fn coords(&self, x: f64, y: f64) -> (f64, f64) {
        let dx = x - self.origin[0];
        let dy = y - self.origin[1];
        (
            (dx * self.ex[0] + dy * self.ex[1]) / self.iod_px,
            (dx * self.ey[0] + dy * self.ey[1]) / self.iod_px,
        )
    }
}

/// Piecewise-linear function of one variable through sorted knots, constant beyond the ends.
#[derive(Debug, Clone)]
struct Polyline(Vec<(f64, f64)>);

impl Polyline {
    fn new(mut knots: Vec<(f64, f64)>) -> Self {
        knots.sort_by(|a, b| a.0.total_cmp(&b.0));
        Self(knots)
    }
    fn at(&self, t: f64) -> f64 {
        let k = &self.0;
        if t <= k[0].0 {
            return k[0].1;
        }
        for w in k.windows(2) {
            if t <= w[1].0 {
                let span = w[1].0 - w[0].0;
                if span <= 0.0 {
                    return w[1].1;
                }
                return w[0].1 + (t - w[0].0) / span * (w[1].1 - w[0].1);
            }
        }
        k[k.len() - 1].1
    }
}

/// The rule thresholds of one side of the face (see the module table).
#[derive(Debug, Clone)]
struct SideRules {
    brow_head_x: f64,
    glabella_top: f64,
    nasion_y: f64,
    brow_top: Polyline,
    brow_tail_x: f64,
    canthus_x: f64,
    brow_tail_low_y: f64,
    periorbital_bottom: f64,
    eye_bottom_y: f64,
    subnasale_y: f64,
    ala_y: f64,
    mouth_corner_y: f64,
    mouth_corner_x: f64,
    chin_top_y: f64,
    /// |X| of the nose side as a function of Y.
    nose_side: Polyline,
    /// |X| of the cheek's medial edge as a function of Y (nose side, then nasolabial line).
    cheek_medial: Polyline,
}

impl SideRules {
    fn new(frame: &FaceFrame, lm: &[[f64; 3]], left: bool) -> Self {
        let idx = |right_index: usize| {
            if left {
                MIRROR
                    .iter()
                    .find(|(r, _)| *r == right_index)
                    .map_or(right_index, |(_, l)| *l)
            } else {
                right_index
            }
        };
        let xy = |right_index: usize| {
            let p = lm[idx(right_index)];
            let (x, y) = frame.coords(p[0], p[1]);
            (x.abs(), y)
        };
        let brow_top = Polyline::new([107, 66, 105, 63, 70].iter().map(|&i| xy(i)).collect());
        let heads = (xy(107).1 + lm_y(frame, lm, 336)) / 2.0;
        let (canthus_x, canthus_y) = xy(33);
        let (x133, y133) = xy(133);
        let (x129, y129) = xy(129);
        let (x98, _) = xy(98);
        let (_, y2) = xy(2);
        let (_, y168) = xy(168);
        let (x61, y61) = xy(61);
        let nose_side = Polyline::new(vec![
            (y168, 0.6 * x133),
            (y133, 0.8 * x133),
            (y129, x129),
            (y2, x98),
        ]);
        let cheek_medial = Polyline::new(vec![
            (y168, 0.6 * x133),
            (y133, 0.8 * x133),
            (y129, x129),
            (y61, x61),
        ]);
        Self {
            brow_head_x: xy(107).0,
            glabella_top: heads - 0.15,
            nasion_y: y168,
            brow_top,
            brow_tail_x: xy(70).0,
            canthus_x,
            brow_tail_low_y: xy(46).1,
            periorbital_bottom: canthus_y + 0.30,
            eye_bottom_y: xy(145).1,
            subnasale_y: y2,
            ala_y: y129,
            mouth_corner_y: y61,
            mouth_corner_x: x61,
            chin_top_y: lm_y(frame, lm, 18),
            nose_side,
            cheek_medial,
        }
    }

    /// Zone label (1..=9, see [`ZONE_NAMES`]) of a point at `(ax = |X|, y = Y)` on this side.
    fn label(&self, ax: f64, y: f64, left: bool) -> u8 {
        let side = |l: u8, r: u8| if left { l } else { r };
        if ax < self.brow_head_x && y >= self.glabella_top && y < self.nasion_y {
            return 2;
        }
        if y < self.brow_top.at(ax) && ax <= self.brow_tail_x && y < self.nasion_y {
            return 1;
        }
        if ax > self.canthus_x && y > self.brow_tail_low_y && y < self.periorbital_bottom {
            return side(3, 4);
        }
        if y >= self.nasion_y && y <= self.subnasale_y && ax < self.nose_side.at(y) {
            return 7;
        }
        let perioral_x = if y <= self.mouth_corner_y {
            self.cheek_medial.at(y)
        } else {
            self.mouth_corner_x + 0.15
        };
        if y >= self.ala_y && y <= self.chin_top_y && ax < perioral_x {
            return 8;
        }
        if y > self.eye_bottom_y && y < self.mouth_corner_y && ax >= self.cheek_medial.at(y) {
            return side(5, 6);
        }
        if y > self.chin_top_y && ax < self.mouth_corner_x + 0.15 {
            return 9;
        }
        0
    }
}

fn lm_y(frame: &FaceFrame, lm: &[[f64; 3]], i: usize) -> f64 {
    frame.coords(lm[i][0], lm[i][1]).1
}

/// Zone labels and feature exclusions over a bounding box of the image.
#[derive(Debug, Clone)]
pub struct ZoneMap {
    /// Left column and top row of the box, image px.
    pub x0: usize,
    pub y0: usize,
    /// Label per pixel, `(rows, cols)`: 0 outside every zone, else 1 + index in [`ZONE_NAMES`].
    pub labels: Array2<u8>,
    /// Eyes, brows, lips and nostrils (grown by the margin), `(rows, cols)`.
    pub features: Array2<bool>,
    pub frame: FaceFrame,
}

/// Polygon vertices (image px) of landmark indices.
pub fn polygon(lm: &[[f64; 3]], idx: &[usize]) -> Vec<[f64; 2]> {
    idx.iter().map(|&i| [lm[i][0], lm[i][1]]).collect()
}

/// Sorted x crossings of row `y` with a closed polygon (half-open rule on vertices).
fn crossings(poly: &[[f64; 2]], y: f64, out: &mut Vec<f64>) {
    out.clear();
    let n = poly.len();
    for i in 0..n {
        let a = poly[i];
        let b = poly[(i + 1) % n];
        if (a[1] <= y && b[1] > y) || (b[1] <= y && a[1] > y) {
            out.push(a[0] + (y - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
        }
    }
    out.sort_by(f64::total_cmp);
}

/// Squared distance from `p` to segment `ab`.
fn segment_dist2(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (vx, vy) = (b[0] - a[0], b[1] - a[1]);
    let (wx, wy) = (p[0] - a[0], p[1] - a[1]);
    let len2 = vx * vx + vy * vy;
    let t = if len2 > 0.0 {
        ((wx * vx + wy * vy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (dx, dy) = (wx - t * vx, wy - t * vy);
    dx * dx + dy * dy
}

/// Mark in `out` (a box at `(x0, y0)`) the pixels inside `poly` or within `margin_px` of it.
fn mark_grown_polygon(
    poly: &[[f64; 2]],
    margin_px: f64,
    x0: usize,
    y0: usize,
    out: &mut Array2<bool>,
) {
    let (rows, cols) = out.dim();
    let lo_x = poly.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min) - margin_px;
    let hi_x = poly.iter().map(|p| p[0]).fold(f64::NEG_INFINITY, f64::max) + margin_px;
    let lo_y = poly.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min) - margin_px;
    let hi_y = poly.iter().map(|p| p[1]).fold(f64::NEG_INFINITY, f64::max) + margin_px;
    let c0 = (lo_x.floor() - x0 as f64).max(0.0) as usize;
    let c1 = ((hi_x.ceil() - x0 as f64 + 1.0).max(0.0) as usize).min(cols);
    let r0 = (lo_y.floor() - y0 as f64).max(0.0) as usize;
    let r1 = ((hi_y.ceil() - y0 as f64 + 1.0).max(0.0) as usize).min(rows);
    let m2 = margin_px * margin_px;
    let mut xs = Vec::new();
    let n = poly.len();
    for r in r0..r1 {
        let y = (y0 + r) as f64;
        crossings(poly, y, &mut xs);
        for c in c0..c1 {
            if out[[r, c]] {
                continue;
            }
            let x = (x0 + c) as f64;
            let inside = xs.iter().filter(|&&cx| cx <= x).count() % 2 == 1;
            let near =
                inside || (0..n).any(|i| segment_dist2([x, y], poly[i], poly[(i + 1) % n]) <= m2);
            if near {
                out[[r, c]] = true;
            }
        }
    }
}

/// Rasterise the zones of a face with 468 landmarks (image px) on a `width x height` image.
/// `margin_iod` grows the excluded features by that fraction of the inter-ocular distance.
/// Returns `None` when the face oval does not overlap the image.
pub fn zone_map(lm: &[[f64; 3]], width: usize, height: usize, margin_iod: f64) -> Option<ZoneMap> {
    let frame = FaceFrame::new(lm);
    let oval = polygon(lm, &FACE_OVAL);
    let lo_x = oval
        .iter()
        .map(|p| p[0])
        .fold(f64::INFINITY, f64::min)
        .floor()
        .max(0.0) as usize;
    let hi_x = (oval
        .iter()
        .map(|p| p[0])
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil()
        + 1.0)
        .clamp(0.0, width as f64) as usize;
    let lo_y = oval
        .iter()
        .map(|p| p[1])
        .fold(f64::INFINITY, f64::min)
        .floor()
        .max(0.0) as usize;
    let hi_y = (oval
        .iter()
        .map(|p| p[1])
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil()
        + 1.0)
        .clamp(0.0, height as f64) as usize;
    if lo_x >= hi_x || lo_y >= hi_y {
        return None;
    }
    let (cols, rows) = (hi_x - lo_x, hi_y - lo_y);
    let rules = [
        SideRules::new(&frame, lm, false),
        SideRules::new(&frame, lm, true),
    ];
    let mut labels = Array2::<u8>::zeros((rows, cols));
    let mut xs = Vec::new();
    for r in 0..rows {
        let y = (lo_y + r) as f64;
        crossings(&oval, y, &mut xs);
        for span in xs.chunks_exact(2) {
            let c_start = (span[0].ceil() - lo_x as f64).max(0.0) as usize;
            let c_end = ((span[1].floor() - lo_x as f64 + 1.0).max(0.0) as usize).min(cols);
            for c in c_start..c_end {
                let (fx, fy) = frame.coords((lo_x + c) as f64, y);
                let left = fx > 0.0;
                labels[[r, c]] = rules[usize::from(left)].label(fx.abs(), fy, left);
            }
        }
    }
    let mut features = Array2::<bool>::from_elem((rows, cols), false);
    let margin_px = margin_iod * frame.iod_px;
    for idx in [
        &RIGHT_EYE[..],
        &LEFT_EYE[..],
        &RIGHT_BROW[..],
        &LEFT_BROW[..],
        &LIPS[..],
        &NOSTRILS[..],
    ] {
        mark_grown_polygon(&polygon(lm, idx), margin_px, lo_x, lo_y, &mut features);
    }
    Some(ZoneMap {
        x0: lo_x,
        y0: lo_y,
        labels,
        features,
        frame,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyline_interpolates_and_clamps() {
        let p = Polyline::new(vec![(1.0, 10.0), (0.0, 0.0), (2.0, 10.0)]);
        assert_eq!(p.at(-1.0), 0.0);
        assert_eq!(p.at(0.5), 5.0);
        assert_eq!(p.at(1.5), 10.0);
        assert_eq!(p.at(9.0), 10.0);
    }

    #[test]
    fn grown_polygon_marks_inside_and_margin() {
        let sq = vec![[2.0, 2.0], [6.0, 2.0], [6.0, 6.0], [2.0, 6.0]];
        let mut m = Array2::from_elem((10, 10), false);
        mark_grown_polygon(&sq, 1.0, 0, 0, &mut m);
        assert!(m[[4, 4]] && m[[4, 1]] && m[[1, 4]] && !m[[7, 7]] && m[[4, 7]]);
        assert!(!m[[4, 0]] && !m[[0, 0]]);
        // Area: 5x5 inside (2..=6) grown by 1 px: 7x7 minus the 4 corners (distance sqrt 2).
        assert_eq!(m.iter().filter(|&&b| b).count(), 49 - 4);
    }
}
