//! Hairs lying on the skin (realistic preset): placement and pixel coverage.
//!
//! A hair is an opaque (terminal, stubble) or translucent (vellus) occluder of constant width
//! along a gently curved centre line; it has no relief. Its coverage of a pixel is the overlap of
//! the pixel's 1-px box with the hair's cross-section, times its opacity.

use std::f64::consts::TAU;

use super::HairTruth;
use super::layout::{point_segment_distance, polyline_length};
use super::rng::SplitMix64;

/// Sampling step of hair centre lines, mm.
const HAIR_STEP_MM: f64 = 0.1;
/// Attempts to place a hair fully inside the image.
const MAX_ATTEMPTS: u32 = 200;

/// What kinds of hair to place, and how many.
pub(crate) struct HairCounts {
    pub(crate) terminal: u32,
    pub(crate) vellus: u32,
    /// Stubble hairs per cm2 (0 = none).
    pub(crate) stubble_per_cm2: f64,
}

/// Place the hairs of one phantom. `wrinkle_points` (image px) are points on the wrinkles'
/// centre lines: some terminal hairs are centred on one so that hairs cross wrinkles.
pub(crate) fn place_hairs(
    rng: &mut SplitMix64,
    counts: &HairCounts,
    side_mm: f64,
    ppm: f64,
    wrinkle_points: &[[f64; 2]],
) -> Vec<HairTruth> {
    let mut hairs = Vec::new();
    let to_px = |mm: f64| mm * ppm - 0.5;
    let mut place = |rng: &mut SplitMix64,
                     kind: &str,
                     length: f64,
                     width: f64,
                     colour: [f64; 3],
                     opacity: f64,
                     centre: Option<[f64; 2]>| {
        for _ in 0..MAX_ATTEMPTS {
            let theta = rng.range(0.0, TAU);
            let curvature = rng.range(-0.08, 0.08); // rad per mm
            let n = ((length / HAIR_STEP_MM).ceil() as usize).max(2);
            let ds = length / n as f64;
            let mut pts = Vec::with_capacity(n + 1);
            let mut p = [0.0f64, 0.0];
            pts.push(p);
            for k in 0..n {
                let s = (k as f64 + 0.5) * ds - 0.5 * length;
                let heading = theta + curvature * s;
                p = [
                    p[0] + ds * libm::cos(heading),
                    p[1] - ds * libm::sin(heading),
                ];
                pts.push(p);
            }
            let mid = pts[n / 2];
            let target = match centre {
                Some(c) => [(c[0] + 0.5) / ppm, (c[1] + 0.5) / ppm],
                None => [rng.range(0.0, side_mm), rng.range(0.0, side_mm)],
            };
            let (ox, oy) = (target[0] - mid[0], target[1] - mid[1]);
            let margin = 0.5 + width;
            let inside = pts.iter().all(|q| {
                let (x, y) = (q[0] + ox, q[1] + oy);
                x > margin && y > margin && x < side_mm - margin && y < side_mm - margin
            });
            if !inside {
                continue;
            }
            let polyline_px: Vec<[f64; 2]> = pts
                .iter()
                .map(|q| [to_px(q[0] + ox), to_px(q[1] + oy)])
                .collect();
            let length_mm = polyline_length(&polyline_px) / ppm;
            hairs.push(HairTruth {
                polyline_px,
                length_mm,
                width_mm: width,
                kind: kind.to_owned(),
                colour,
                opacity,
            });
            return;
        }
    };
    for _ in 0..counts.terminal {
        let length = rng.range(3.0, 15.0);
        let width = rng.range(0.05, 0.1);
        let colour = hair_colour(rng, 0.75);
        let centre = (!wrinkle_points.is_empty() && rng.uniform() < 0.4)
            .then(|| wrinkle_points[(rng.next_u64() % wrinkle_points.len() as u64) as usize]);
        place(rng, "terminal", length, width, colour, 0.95, centre);
    }
    for _ in 0..counts.vellus {
        let length = rng.range(3.0, 10.0);
        let width = rng.range(0.02, 0.04);
        let v = rng.range(0.2, 0.5);
        let opacity = rng.range(0.3, 0.7);
        place(
            rng,
            "vellus",
            length,
            width,
            [1.1 * v, v, 0.9 * v],
            opacity,
            None,
        );
    }
    let stubble = (counts.stubble_per_cm2 * side_mm * side_mm / 100.0).round() as u32;
    for _ in 0..stubble {
        let length = rng.range(0.3, 1.5);
        let width = rng.range(0.09, 0.2);
        let colour = hair_colour(rng, 1.0);
        place(rng, "stubble", length, width, colour, 0.95, None);
    }
    hairs
}

/// Linear RGB of a pigmented hair: dark brown to black with probability `p_dark`, else fair
/// (blond or grey).
fn hair_colour(rng: &mut SplitMix64, p_dark: f64) -> [f64; 3] {
    if rng.uniform() < p_dark {
        let v = rng.range(0.008, 0.05);
        [1.25 * v, v, 0.8 * v]
    } else {
        let v = rng.range(0.15, 0.45);
        [1.2 * v, v, 0.7 * v]
    }
}

/// Length of the overlap of the pixel box `[d − ½, d + ½]` with `[−w/2, w/2]` (all px).
fn box_overlap(d: f64, w: f64) -> f64 {
    ((d + 0.5).min(0.5 * w) - (d - 0.5).max(-0.5 * w)).max(0.0)
}

/// Coverage of the pixels of a `size × size` image by `hair`, sampled at pixel positions shifted
/// by `offset_px` (a cast shadow is the coverage seen from a shifted point): `(index, alpha)`
/// for every pixel with alpha > 0, in row-major order.
pub(crate) fn hair_coverage(
    hair: &HairTruth,
    size: usize,
    ppm: f64,
    offset_px: [f64; 2],
) -> Vec<(usize, f32)> {
    let w_px = hair.width_mm * ppm;
    let reach = 0.5 * w_px + 1.0;
    let line: Vec<[f64; 2]> = hair
        .polyline_px
        .iter()
        .map(|p| [p[0] - offset_px[0], p[1] - offset_px[1]])
        .collect();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &line {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    let last = size as f64 - 1.0;
    let bx0 = (x0 - reach).floor().clamp(0.0, last) as usize;
    let by0 = (y0 - reach).floor().clamp(0.0, last) as usize;
    let bx1 = (x1 + reach).ceil().clamp(0.0, last) as usize;
    let by1 = (y1 + reach).ceil().clamp(0.0, last) as usize;
    if x1 + reach < 0.0 || y1 + reach < 0.0 || x0 - reach > last || y0 - reach > last {
        return Vec::new();
    }
    let bw = bx1 - bx0 + 1;
    let mut best = vec![f64::INFINITY; bw * (by1 - by0 + 1)];
    for seg in line.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        let sx0 = (a[0].min(b[0]) - reach).floor().max(bx0 as f64) as usize;
        let sy0 = (a[1].min(b[1]) - reach).floor().max(by0 as f64) as usize;
        let sx1 = (a[0].max(b[0]) + reach).ceil().min(bx1 as f64) as usize;
        let sy1 = (a[1].max(b[1]) + reach).ceil().min(by1 as f64) as usize;
        for y in sy0..=sy1 {
            for x in sx0..=sx1 {
                let d = point_segment_distance([x as f64, y as f64], a, b);
                let cell = &mut best[(y - by0) * bw + (x - bx0)];
                *cell = cell.min(d);
            }
        }
    }
    let mut out = Vec::new();
    for (k, &d) in best.iter().enumerate() {
        let alpha = hair.opacity * box_overlap(d, w_px);
        if alpha > 0.0 {
            let (y, x) = (by0 + k / bw, bx0 + k % bw);
            out.push((y * size + x, alpha as f32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_overlap_is_the_covered_length() {
        assert!((box_overlap(0.0, 0.4) - 0.4).abs() < 1e-12);
        assert!((box_overlap(0.0, 3.0) - 1.0).abs() < 1e-12);
        assert!((box_overlap(1.0, 2.0) - 0.5).abs() < 1e-12);
        assert_eq!(box_overlap(3.0, 2.0), 0.0);
    }

    /// A straight horizontal hair covers its width per column, whatever its sub-pixel position.
    #[test]
    fn coverage_sums_to_width_times_length() {
        let hair = HairTruth {
            polyline_px: vec![[10.0, 20.3], [60.0, 20.3]],
            length_mm: 2.5,
            width_mm: 0.07,
            kind: "terminal".into(),
            colour: [0.02; 3],
            opacity: 1.0,
        };
        let cov = hair_coverage(&hair, 100, 20.0, [0.0, 0.0]);
        let col30: f32 = cov
            .iter()
            .filter(|(i, _)| i % 100 == 30)
            .map(|&(_, a)| a)
            .sum();
        assert!((col30 - 1.4).abs() < 1e-5, "{col30}");
        let shifted = hair_coverage(&hair, 100, 20.0, [0.0, -5.0]);
        assert!(shifted.iter().all(|(i, _)| (24..=27).contains(&(i / 100))));
    }
}
