//! Placement of the ground-truth features (scars, wrinkles, pigmented spots) by rejection
//! sampling, so that no two features overlap.

use std::f64::consts::{PI, TAU};

use super::rng::{SplitMix64, stream_seed};
use super::{PhantomSpec, ScarTruth, SpotTruth, WrinkleTruth};

/// Attempts per feature before it is given up (the image is then too crowded or too small).
const MAX_ATTEMPTS: u32 = 600;
/// Minimum gap between features, mm.
pub(crate) const GAP_MM: f64 = 1.0;
/// Sampling step of wrinkle centre lines, mm.
const WRINKLE_STEP_MM: f64 = 0.25;

/// Rim diameter ranges (mm) after Jacob et al. 2001.
pub const ICEPICK_DIAMETER_MM: [f64; 2] = [0.5, 1.8];
pub const BOXCAR_DIAMETER_MM: [f64; 2] = [1.5, 4.0];
pub const ROLLING_DIAMETER_MM: [f64; 2] = [4.0, 6.0];
/// Diameter range of pigmented spots, mm.
pub const SPOT_DIAMETER_MM: [f64; 2] = [2.0, 6.0];

/// Half-width of the region a wrinkle's cross-section touches, mm.
pub(crate) fn wrinkle_reach_mm(w: &WrinkleTruth) -> f64 {
    if w.profile == "v" {
        w.width_mm
    } else {
        3.0 * w.width_mm / FWHM_PER_SIGMA
    }
}

/// FWHM of a Gaussian in units of its sigma, 2·sqrt(2 ln 2).
pub(crate) const FWHM_PER_SIGMA: f64 = 2.354_820_045_030_949;

/// All placed features.
pub(crate) struct Layout {
    pub(crate) wrinkles: Vec<WrinkleTruth>,
    pub(crate) scars: Vec<ScarTruth>,
    pub(crate) spots: Vec<SpotTruth>,
    /// Where they are, for placing more.
    pub(crate) keepout: Keepout,
}

/// Distance from point `p` to segment `a`–`b` (any units).
pub fn point_segment_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
    (ex * ex + ey * ey).sqrt()
}

/// Pixels within `radius_px(i)` of polyline `i` (pixel `(x, y)` at point `(x, y)`), as a
/// row-major mask of a `size × size` image.
pub fn polyline_band_mask(lines: &[(&[[f64; 2]], f64)], size: usize) -> Vec<bool> {
    let mut mask = vec![false; size * size];
    let last = size as f64 - 1.0;
    for &(line, radius) in lines {
        for seg in line.windows(2) {
            let (a, b) = (seg[0], seg[1]);
            let x0 = (a[0].min(b[0]) - radius).floor().clamp(0.0, last) as usize;
            let y0 = (a[1].min(b[1]) - radius).floor().clamp(0.0, last) as usize;
            let x1 = (a[0].max(b[0]) + radius).ceil().clamp(0.0, last) as usize;
            let y1 = (a[1].max(b[1]) + radius).ceil().clamp(0.0, last) as usize;
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let p = [x as f64, y as f64];
                    if point_segment_distance(p, a, b) <= radius {
                        mask[y * size + x] = true;
                    }
                }
            }
        }
    }
    mask
}

/// Distance from point `p` to a polyline.
pub(crate) fn point_polyline_distance(p: [f64; 2], line: &[[f64; 2]]) -> f64 {
    if line.len() == 1 {
        return ((p[0] - line[0][0]).powi(2) + (p[1] - line[0][1]).powi(2)).sqrt();
    }
    line.windows(2)
        .map(|s| point_segment_distance(p, s[0], s[1]))
        .fold(f64::INFINITY, f64::min)
}

/// Length of a polyline.
pub(crate) fn polyline_length(line: &[[f64; 2]]) -> f64 {
    line.windows(2)
        .map(|s| ((s[1][0] - s[0][0]).powi(2) + (s[1][1] - s[0][1]).powi(2)).sqrt())
        .sum()
}

/// Smallest distance between two polylines sampled densely (vertex to polyline both ways).
fn polyline_polyline_distance(a: &[[f64; 2]], b: &[[f64; 2]]) -> f64 {
    let ab = a
        .iter()
        .map(|&p| point_polyline_distance(p, b))
        .fold(f64::INFINITY, f64::min);
    let ba = b
        .iter()
        .map(|&p| point_polyline_distance(p, a))
        .fold(f64::INFINITY, f64::min);
    ab.min(ba)
}

fn scar_kind_params(kind: &str, spec: &PhantomSpec) -> ([f64; 2], [f64; 2]) {
    match kind {
        "icepick" => (ICEPICK_DIAMETER_MM, spec.icepick_depth_mm),
        "boxcar" => (BOXCAR_DIAMETER_MM, spec.boxcar_depth_mm),
        _ => (ROLLING_DIAMETER_MM, spec.rolling_depth_mm),
    }
}

/// Place every feature of `spec`. Features that cannot be placed after [`MAX_ATTEMPTS`] tries
/// are left out (the caller compares the counts with the spec).
pub(crate) fn layout(spec: &PhantomSpec, seed: u64) -> Layout {
    let ppm = spec.px_per_mm;
    let side_mm = spec.size_px as f64 / ppm;
    // Pixel (col, row) has its centre at (x, y) = (col, row) px; the image spans
    // [-0.5, size - 0.5] px. Positions are drawn in mm from the image's top-left corner.
    let to_px = |mm: f64| mm * ppm - 0.5;

    // Scars: largest first, so that the small ones fill the gaps.
    let mut rng = SplitMix64::new(stream_seed(seed, 1));
    let mut scars: Vec<ScarTruth> = Vec::new();
    let mut scar_mm: Vec<([f64; 2], f64)> = Vec::new(); // centre mm, radius mm
    for (kind, n) in [
        ("rolling", spec.rolling),
        ("boxcar", spec.boxcar),
        ("icepick", spec.icepick),
    ] {
        let (diam_range, depth_range) = scar_kind_params(kind, spec);
        for _ in 0..n {
            for _ in 0..MAX_ATTEMPTS {
                let d = rng.in_range(diam_range);
                let depth = rng.in_range(depth_range);
                let (aspect, angle_deg) = if kind == "boxcar" {
                    (rng.range(0.7, 1.0), rng.range(0.0, 180.0))
                } else {
                    (1.0, 0.0)
                };
                // The major semi-axis bounds the extent.
                let r_max = 0.5 * d / aspect.sqrt();
                let lo = r_max + GAP_MM;
                let hi = side_mm - r_max - GAP_MM;
                if hi <= lo {
                    continue;
                }
                let c = [rng.range(lo, hi), rng.range(lo, hi)];
                let clear = scar_mm.iter().all(|&(o, r)| {
                    ((c[0] - o[0]).powi(2) + (c[1] - o[1]).powi(2)).sqrt() >= r + r_max + GAP_MM
                });
                if !clear {
                    continue;
                }
                scar_mm.push((c, r_max));
                scars.push(ScarTruth {
                    x_px: to_px(c[0]),
                    y_px: to_px(c[1]),
                    diameter_mm: d,
                    depth_mm: depth,
                    kind: kind.to_string(),
                    aspect,
                    angle_deg,
                });
                break;
            }
        }
    }

    // Wrinkles: gently curved centre lines.
    let mut rng = SplitMix64::new(stream_seed(seed, 2));
    let mut wrinkles: Vec<WrinkleTruth> = Vec::new();
    let mut wrinkle_mm: Vec<Vec<[f64; 2]>> = Vec::new();
    for _ in 0..spec.wrinkles {
        for _ in 0..MAX_ATTEMPTS {
            let length = rng.in_range(spec.wrinkle_length_mm);
            let width = rng.in_range(spec.wrinkle_width_mm);
            let depth = match spec.wrinkle_aspect {
                None => rng.in_range(spec.wrinkle_depth_mm),
                Some(aspect) => (width * rng.in_range(aspect))
                    .clamp(spec.wrinkle_depth_mm[0], spec.wrinkle_depth_mm[1]),
            };
            let profile = if rng.uniform() < 0.5 { "gaussian" } else { "v" };
            let theta = rng.range(0.0, PI);
            let bend = rng.range(-0.35, 0.35);
            let wiggle = rng.range(-0.08, 0.08);
            let phase = rng.range(0.0, TAU);
            let n = ((length / WRINKLE_STEP_MM).ceil() as usize).max(8);
            let ds = length / n as f64;
            let mut pts = Vec::with_capacity(n + 1);
            let mut p = [0.0f64, 0.0];
            pts.push(p);
            for k in 0..n {
                let t = (k as f64 + 0.5) / n as f64;
                let heading = theta + bend * (t - 0.5) + wiggle * libm::sin(TAU * t + phase);
                // Heading counter-clockwise as displayed; image y points down.
                p = [
                    p[0] + ds * libm::cos(heading),
                    p[1] - ds * libm::sin(heading),
                ];
                pts.push(p);
            }
            let mut w = WrinkleTruth {
                polyline_px: Vec::new(),
                length_mm: 0.0,
                width_mm: width,
                depth_mm: depth,
                orientation_deg: 0.0,
                profile: profile.to_string(),
                taper_mm: (0.1 * length).min(1.0),
            };
            let reach = wrinkle_reach_mm(&w);
            let margin = reach + GAP_MM;
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for q in &pts {
                x0 = x0.min(q[0]);
                y0 = y0.min(q[1]);
                x1 = x1.max(q[0]);
                y1 = y1.max(q[1]);
            }
            let (ox_lo, ox_hi) = (margin - x0, side_mm - margin - x1);
            let (oy_lo, oy_hi) = (margin - y0, side_mm - margin - y1);
            if ox_hi <= ox_lo || oy_hi <= oy_lo {
                continue;
            }
            let (ox, oy) = (rng.range(ox_lo, ox_hi), rng.range(oy_lo, oy_hi));
            for q in &mut pts {
                q[0] += ox;
                q[1] += oy;
            }
            let clear_scars = scar_mm
                .iter()
                .all(|&(c, r)| point_polyline_distance(c, &pts) >= r + reach + GAP_MM);
            let clear_wrinkles = wrinkle_mm.iter().zip(&wrinkles).all(|(other, ow)| {
                polyline_polyline_distance(&pts, other) >= reach + wrinkle_reach_mm(ow) + GAP_MM
            });
            if !(clear_scars && clear_wrinkles) {
                continue;
            }
            w.polyline_px = pts.iter().map(|q| [to_px(q[0]), to_px(q[1])]).collect();
            w.length_mm = polyline_length(&w.polyline_px) / ppm;
            let (a, b) = (w.polyline_px[0], w.polyline_px[w.polyline_px.len() - 1]);
            let deg = libm::atan2(-(b[1] - a[1]), b[0] - a[0]).to_degrees();
            w.orientation_deg = deg.rem_euclid(180.0);
            if w.orientation_deg >= 180.0 {
                w.orientation_deg = 0.0;
            }
            wrinkle_mm.push(pts);
            wrinkles.push(w);
            break;
        }
    }

    // Pigmented spots: flat, away from scars and wrinkles.
    let mut keepout = Keepout {
        side_mm,
        scars: scar_mm,
        wrinkles: wrinkle_mm
            .into_iter()
            .zip(&wrinkles)
            .map(|(line, w)| (line, wrinkle_reach_mm(w)))
            .collect(),
        spots: Vec::new(),
    };
    let mut rng = SplitMix64::new(stream_seed(seed, 3));
    let spots = (0..spec.pigmented_spots)
        .filter_map(|_| keepout.place_disc(&mut rng, SPOT_DIAMETER_MM))
        .map(|(c, d)| SpotTruth {
            x_px: to_px(c[0]),
            y_px: to_px(c[1]),
            diameter_mm: d,
            kind: String::new(),
            optical_density: None,
        })
        .collect();

    // Shortened wrinkles (a treatment effect) keep their place: the central part of each centre
    // line survives, so nothing else in the layout moves.
    let keep = spec.wrinkle_length_scale;
    if keep < 1.0 {
        for w in &mut wrinkles {
            w.polyline_px = central_part(&w.polyline_px, keep);
            w.length_mm = polyline_length(&w.polyline_px) / ppm;
            w.taper_mm = (0.1 * w.length_mm).min(1.0);
        }
    }

    Layout {
        wrinkles,
        scars,
        spots,
        keepout,
    }
}

/// Where features already are, in mm from the image's top-left corner, for placing more.
pub(crate) struct Keepout {
    pub(crate) side_mm: f64,
    /// Scar centres and major semi-axes.
    scars: Vec<([f64; 2], f64)>,
    /// Wrinkle centre lines and their reach.
    wrinkles: Vec<(Vec<[f64; 2]>, f64)>,
    /// Disc centres and radii placed by [`Keepout::place_disc`].
    spots: Vec<([f64; 2], f64)>,
}

impl Keepout {
    /// Place a disc of diameter drawn from `diameter_mm`, at least [`GAP_MM`] from everything
    /// placed so far and from the border (rejection sampling); `None` when it does not fit.
    pub(crate) fn place_disc(
        &mut self,
        rng: &mut SplitMix64,
        diameter_mm: [f64; 2],
    ) -> Option<([f64; 2], f64)> {
        for _ in 0..MAX_ATTEMPTS {
            let d = rng.in_range(diameter_mm);
            let r = 0.5 * d;
            let lo = r + GAP_MM;
            let hi = self.side_mm - r - GAP_MM;
            if hi <= lo {
                continue;
            }
            let c = [rng.range(lo, hi), rng.range(lo, hi)];
            let dist = |o: [f64; 2]| ((c[0] - o[0]).powi(2) + (c[1] - o[1]).powi(2)).sqrt();
            let clear = self.scars.iter().all(|&(o, ro)| dist(o) >= r + ro + GAP_MM)
                && self.spots.iter().all(|&(o, ro)| dist(o) >= r + ro + GAP_MM)
                && self
                    .wrinkles
                    .iter()
                    .all(|(line, reach)| point_polyline_distance(c, line) >= r + reach + GAP_MM);
            if clear {
                self.spots.push((c, r));
                return Some((c, d));
            }
        }
        None
    }
}

/// The central `keep` fraction (by arc length) of a polyline.
fn central_part(line: &[[f64; 2]], keep: f64) -> Vec<[f64; 2]> {
    let total = polyline_length(line);
    let (from, to) = (0.5 * (1.0 - keep) * total, 0.5 * (1.0 + keep) * total);
    let mut out = Vec::new();
    let mut walked = 0.0;
    for seg in line.windows(2) {
        let len = ((seg[1][0] - seg[0][0]).powi(2) + (seg[1][1] - seg[0][1]).powi(2)).sqrt();
        let at = |d: f64| {
            let t = if len > 0.0 {
                ((d - walked) / len).clamp(0.0, 1.0)
            } else {
                0.0
            };
            [
                seg[0][0] + t * (seg[1][0] - seg[0][0]),
                seg[0][1] + t * (seg[1][1] - seg[0][1]),
            ]
        };
        let end = walked + len;
        if end >= from && walked <= to {
            if out.is_empty() {
                out.push(at(from.max(walked)));
            }
            out.push(at(to.min(end)));
        }
        walked = end;
    }
    out
}
