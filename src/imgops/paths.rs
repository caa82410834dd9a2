//! Curvilinear path evidence: how much oriented line strength a smooth path through each pixel
//! collects, by dynamic programming over orientations (a CUSUM along every smooth path).
//!
//! A long, continuous line and a texture of short, randomly oriented segments (the skin's furrow
//! network) can have the same strength pixel by pixel; they differ in how far the strength
//! continues in one direction. For each orientation φ_k (K = 16 over [0, π)), the best path
//! ending at pixel p and running along φ_k, turning by at most one orientation step at a time:
//!
//! ```text
//! inc_k(p)  = (S(p) · max(0, cos 2(θ(p) − φ_k)) − b) · ℓ_k          evidence of one step
//! F_k(p)    = max(0, inc_k(p) + max(F_k(p − u_k), F_{k±1}(p − u_{k±1}) − c))
//! B_k(p)    = the same, running the other way
//! E(p)      = max_k [F_k(p) + B_k(p) − inc_k(p)]   over the k with inc_k(p) > 0 (else 0)
//! ```
//! S is the line strength and θ its direction at p, b the bias (the strength a step must exceed to
//! add evidence: between the texture's level and the faintest line of interest), c the penalty of
//! a turn, u_k the step along φ_k and ℓ_k its length in the caller's unit (mm). F is Page's
//! cumulative sum (doi:10.1093/biomet/41.1-2.100): it grows along a line and restarts from 0 in
//! the background, so E(p) is the excess strength (strength units × length) of the best smooth
//! path through p, the same all along a line. Each step advances exactly one column (orientations
//! within 45° of horizontal) or one row (the others), the predecessor linearly interpolated
//! between its two neighbours, so a sweep is one pass over the columns or rows; turns are allowed
//! between orientations of the same sweep. Paths may not leave `mask`. The interpolation spreads
//! the sum across a line's band: off the axes and diagonals, a line 3 px wide collects 85-100 %
//! of (S − b)·length (unit test), a narrower one less.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// Number of orientations over [0, π).
pub const ORIENTATIONS: usize = 16;

/// What a path must beat, and what a turn costs.
#[derive(Debug, Clone, Copy)]
pub struct PathParams {
    /// Strength a step must exceed to add evidence (strength units).
    pub bias: f32,
    /// Cost of turning by one orientation step (π/16), in evidence units.
    pub turn_penalty: f32,
    /// Length of one pixel in the evidence's length unit (e.g. mm per px).
    pub length_per_px: f32,
    /// Strengths above this count as this (one very strong spot cannot carry a path).
    pub strength_cap: f32,
}

/// The path evidence of every pixel and the orientation (index into [0, ORIENTATIONS)) of the
/// best path.
pub struct PathEvidence {
    pub evidence: Array2<f32>,
    pub orientation: Array2<u8>,
}

/// Orientation φ_k, radians.
pub fn orientation_angle(k: usize) -> f64 {
    k as f64 * std::f64::consts::PI / ORIENTATIONS as f64
}

/// Whether orientation k is swept by columns (within 45° of horizontal).
fn by_columns(k: usize) -> bool {
    let phi = orientation_angle(k);
    libm::cos(phi).abs() >= libm::sin(phi).abs() - 1e-12
}

/// Weight of a pixel whose line runs at `theta` for orientation `phi`: max(0, cos 2(θ − φ)).
#[inline]
fn agreement(theta: f32, phi: f32) -> f32 {
    (2.0 * (theta - phi)).cos().max(0.0)
}

/// Linear interpolation of `line` at fractional position `t`; 0 outside.
#[inline]
fn interp(line: &[f32], t: f32) -> f32 {
    if t < 0.0 || t > (line.len() - 1) as f32 {
        return 0.0;
    }
    let i = t.floor() as usize;
    let f = t - i as f32;
    if i + 1 < line.len() {
        line[i] + f * (line[i + 1] - line[i])
    } else {
        line[i]
    }
}

/// Per-orientation evidence of one sweep direction for the orientations `ks` (all swept the same
/// way), in the layout `[k][line][pos]` where `line` runs along the sweep (columns or rows) and
/// `pos` across it. `forward` sweeps towards increasing line index.
struct Sweep<'a> {
    strength: ArrayView2<'a, f32>,
    direction: ArrayView2<'a, f32>,
    mask: ArrayView2<'a, bool>,
    params: PathParams,
    columns: bool,
}

impl Sweep<'_> {
    /// Lines along the sweep and positions across it.
    fn dims(&self) -> (usize, usize) {
        let (rows, cols) = self.strength.dim();
        if self.columns {
            (cols, rows)
        } else {
            (rows, cols)
        }
    }

    fn at(&self, line: usize, pos: usize) -> (usize, usize) {
        if self.columns {
            (pos, line)
        } else {
            (line, pos)
        }
    }

    /// Offset across the sweep of the predecessor one line back, and the step length, for
    /// orientation k.
    fn geometry(&self, k: usize, forward: bool) -> (f32, f32) {
        let phi = orientation_angle(k);
        let (c, s) = (libm::cos(phi), libm::sin(phi));
        // Direction (cos φ, −sin φ) in (x, y) with y down.
        let (offset, len) = if self.columns {
            // One column right: dy = −tan φ; the predecessor (one column left) is at y + tan φ.
            (s / c, 1.0 / c.abs())
        } else {
            // One row down: dx = −cot φ; the predecessor (one row up) is at x + cot φ.
            (c / s, 1.0 / s.abs())
        };
        let offset = if forward { offset } else { -offset };
        (offset as f32, len as f32 * self.params.length_per_px)
    }

    /// Evidence increment at (line, pos) for orientation k.
    fn increment(&self, k: usize, line: usize, pos: usize, len: f32) -> f32 {
        let (r, c) = self.at(line, pos);
        let s = self.strength[(r, c)].min(self.params.strength_cap);
        let w = if s > 0.0 {
            s * agreement(self.direction[(r, c)], orientation_angle(k) as f32)
        } else {
            0.0
        };
        (w - self.params.bias) * len
    }

    /// Run the sweep for orientations `ks`; `emit(k_index, line, values_across)` receives each
    /// line's evidence.
    fn run(&self, ks: &[usize], forward: bool, mut emit: impl FnMut(usize, usize, &[f32], &[f32])) {
        let (lines, across) = self.dims();
        let geo: Vec<(f32, f32)> = ks.iter().map(|&k| self.geometry(k, forward)).collect();
        // Neighbouring orientations (k ± 1 modulo K) swept the same way.
        let turns: Vec<Vec<usize>> = ks
            .iter()
            .map(|&k| {
                [
                    (k + ORIENTATIONS - 1) % ORIENTATIONS,
                    (k + 1) % ORIENTATIONS,
                ]
                .iter()
                .filter_map(|n| ks.iter().position(|&q| q == *n))
                .collect()
            })
            .collect();
        let mut prev = vec![vec![0.0f32; across]; ks.len()];
        let mut cur = vec![vec![0.0f32; across]; ks.len()];
        let mut inc = vec![vec![0.0f32; across]; ks.len()];
        let order: Box<dyn Iterator<Item = usize>> = if forward {
            Box::new(0..lines)
        } else {
            Box::new((0..lines).rev())
        };
        let penalty = self.params.turn_penalty;
        for line in order {
            for (j, &k) in ks.iter().enumerate() {
                let (offset, len) = geo[j];
                for pos in 0..across {
                    let (r, c) = self.at(line, pos);
                    if !self.mask[(r, c)] {
                        cur[j][pos] = 0.0;
                        inc[j][pos] = -1.0;
                        continue;
                    }
                    let i = self.increment(k, line, pos, len);
                    let t = pos as f32 + offset;
                    let mut best = interp(&prev[j], t);
                    for &jj in &turns[j] {
                        let (o2, _) = geo[jj];
                        best = best.max(interp(&prev[jj], pos as f32 + o2) - penalty);
                    }
                    cur[j][pos] = (i + best).max(0.0);
                    inc[j][pos] = i;
                }
            }
            for j in 0..ks.len() {
                emit(j, line, &cur[j], &inc[j]);
            }
            std::mem::swap(&mut prev, &mut cur);
        }
    }
}

/// The path evidence of every pixel (see the module documentation). `direction` holds the line
/// direction θ in [0, π) (counter-clockwise from +x as displayed, y down) where `strength` > 0.
pub fn path_evidence<'a>(
    strength: ArrayView2<'a, f32>,
    direction: ArrayView2<'a, f32>,
    mask: ArrayView2<'a, bool>,
    params: PathParams,
) -> PathEvidence {
    let dim = strength.dim();
    let groups: [Vec<usize>; 2] = [
        (0..ORIENTATIONS).filter(|&k| by_columns(k)).collect(),
        (0..ORIENTATIONS).filter(|&k| !by_columns(k)).collect(),
    ];
    // Each group: forward evidence stored per orientation, then the backward sweep combines.
    let partial: Vec<(Array2<f32>, Array2<u8>)> = groups
        .par_iter()
        .enumerate()
        .map(|(g, ks)| {
            let sweep = Sweep {
                strength,
                direction,
                mask,
                params,
                columns: g == 0,
            };
            let mut fwd = vec![Array2::<f32>::zeros(dim); ks.len()];
            sweep.run(ks, true, |j, line, vals, _| {
                for (pos, &v) in vals.iter().enumerate() {
                    fwd[j][sweep.at(line, pos)] = v;
                }
            });
            let mut best = Array2::<f32>::zeros(dim);
            let mut best_k = Array2::<u8>::zeros(dim);
            sweep.run(ks, false, |j, line, vals, incs| {
                for (pos, (&b, &i)) in vals.iter().zip(incs).enumerate() {
                    let p = sweep.at(line, pos);
                    let f = fwd[j][p];
                    // Only pixels that themselves add evidence are on a path: a pixel beyond a
                    // line's end would otherwise inherit the line's evidence.
                    let total = if i > 0.0 { f + b - i } else { 0.0 };
                    if total > best[p] {
                        best[p] = total;
                        best_k[p] = ks[j] as u8;
                    }
                }
            });
            (best, best_k)
        })
        .collect();
    let (mut evidence, mut orientation) = (partial[0].0.clone(), partial[0].1.clone());
    ndarray::Zip::from(&mut evidence)
        .and(&mut orientation)
        .and(&partial[1].0)
        .and(&partial[1].1)
        .for_each(|e, o, &e2, &o2| {
            if e2 > *e {
                *e = e2;
                *o = o2;
            }
        });
    PathEvidence {
        evidence,
        orientation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(strength: &Array2<f32>, direction: &Array2<f32>, bias: f32) -> PathEvidence {
        let mask = Array2::from_elem(strength.dim(), true);
        path_evidence(
            strength.view(),
            direction.view(),
            mask.view(),
            PathParams {
                bias,
                turn_penalty: 0.05,
                length_per_px: 1.0,
                strength_cap: f32::INFINITY,
            },
        )
    }

    /// A straight line of strength s and length L collects about (s − b)·L all along it, whatever
    /// its direction; the background collects nothing. The band is 3 px wide, as the strength of
    /// a line at its own scale (σ ≥ 1 detection px) is.
    #[test]
    fn straight_line_collects_excess_times_length_everywhere_along_it() {
        for deg in [0.0f64, 30.0, 45.0, 60.0, 90.0, 112.5, 150.0] {
            let (n, len) = (80usize, 40.0f64);
            let th = deg.to_radians();
            let (dx, dy) = (th.cos(), -th.sin());
            let mut s = Array2::<f32>::zeros((n, n));
            let mut d = Array2::<f32>::zeros((n, n));
            for r in 0..n {
                for c in 0..n {
                    let (x, y) = (c as f64 - 40.0, r as f64 - 40.0);
                    let along = x * dx + y * dy;
                    let across = (-x * dy + y * dx).abs();
                    if across < 1.5 && along.abs() <= len / 2.0 {
                        s[(r, c)] = 1.0;
                        d[(r, c)] = th as f32;
                    }
                }
            }
            let e = run(&s, &d, 0.5);
            let centre = e.evidence[(40, 40)];
            // (1 − 0.5) × 40 px, within the discretisation of the ends and the band.
            // (1 − 0.5) × 40 px along the grid directions; off them, the interpolated
            // predecessor spreads the sum across the band, which loses up to 15 %.
            assert!((16.0..=22.0).contains(&centre), "{deg}: {centre}");
            assert_eq!(e.evidence[(5, 5)], 0.0, "{deg}");
            let k = usize::from(e.orientation[(40, 40)]);
            let err = (orientation_angle(k) - th).abs();
            assert!(
                err < 0.2 || (std::f64::consts::PI - err) < 0.2,
                "{deg}: k {k}"
            );
        }
    }

    /// A short segment collects little; a gap below the bias is crossed when the line goes on.
    #[test]
    fn short_segments_collect_little_and_gaps_are_crossed() {
        let n = 100;
        let mut s = Array2::<f32>::zeros((n, n));
        let d = Array2::<f32>::zeros((n, n));
        for c in 10..90 {
            if !(48..52).contains(&c) {
                s[(50, c)] = 1.0;
            }
        }
        for c in 10..16 {
            s[(20, c)] = 1.0;
        }
        let e = run(&s, &d, 0.5);
        let long = e.evidence[(50, 30)];
        assert!(long > 30.0, "{long}");
        assert!(e.evidence[(50, 70)] > 30.0);
        assert!(e.evidence[(20, 12)] < 4.0, "{}", e.evidence[(20, 12)]);
    }

    /// Strength running across the orientation (a lattice of short perpendicular segments) adds
    /// nothing: the direction weight is 0.
    #[test]
    fn strength_across_the_path_adds_nothing() {
        let n = 60;
        let mut s = Array2::<f32>::zeros((n, n));
        let mut d = Array2::<f32>::zeros((n, n));
        for c in 0..n {
            s[(30, c)] = 1.0;
            d[(30, c)] = std::f32::consts::FRAC_PI_2;
        }
        let e = run(&s, &d, 0.3);
        assert!(e.evidence[(30, 30)] < 1.5, "{}", e.evidence[(30, 30)]);
    }

    /// A constant strength below the bias, in every direction, collects nothing anywhere.
    #[test]
    fn constant_below_bias_gives_zero() {
        let s = Array2::from_elem((50, 60), 0.01f32);
        let d = Array2::from_shape_fn((50, 60), |(r, c)| ((r * 7 + c * 13) % 31) as f32 * 0.1);
        let m = Array2::from_elem((50, 60), true);
        let e = path_evidence(
            s.view(),
            d.view(),
            m.view(),
            PathParams {
                bias: 0.055,
                turn_penalty: 0.005,
                length_per_px: 0.045,
                strength_cap: 1.0,
            },
        );
        let mx = e.evidence.iter().copied().fold(0.0f32, f32::max);
        assert!(mx < 1e-6, "{mx}");
    }
}
