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

use crate::imgops::simd::widest_simd;

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

/// One sweep group's inputs in line-major layout (`[line][pos]`, contiguous): `line` runs along
/// the sweep (image columns for the orientations within 45° of horizontal, rows for the others)
/// and `pos` across it, so that every pass reads memory in order.
struct Planes {
    lines: usize,
    across: usize,
    /// min(S, cap)·cos 2θ and min(S, cap)·sin 2θ where S > 0, else 0: the direction weight of
    /// orientation φ is then max(0, sc·cos 2φ + ss·sin 2φ) = S·max(0, cos 2(θ − φ)) without a
    /// cosine per pixel and orientation.
    sc: Vec<f32>,
    ss: Vec<f32>,
    mask: Vec<bool>,
}

impl Planes {
    fn new(
        strength: ArrayView2<'_, f32>,
        direction: ArrayView2<'_, f32>,
        mask: ArrayView2<'_, bool>,
        cap: f32,
        columns: bool,
    ) -> Self {
        let (rows, cols) = strength.dim();
        let (lines, across) = if columns { (cols, rows) } else { (rows, cols) };
        let n = rows * cols;
        let (mut sc, mut ss, mut m) = (vec![0.0f32; n], vec![0.0f32; n], vec![false; n]);
        for ((r, c), &s) in strength.indexed_iter() {
            let i = if columns { c * rows + r } else { r * cols + c };
            m[i] = mask[(r, c)];
            if s > 0.0 {
                let s = s.min(cap);
                let t = 2.0 * direction[(r, c)];
                sc[i] = s * t.cos();
                ss[i] = s * t.sin();
            }
        }
        Planes {
            lines,
            across,
            sc,
            ss,
            mask: m,
        }
    }
}

/// One orientation's constants in a sweep: its direction weight (cos 2φ, sin 2φ), the
/// predecessor's position one line back (`pos + shift + frac`, `shift` integer, 0 ≤ `frac` < 1)
/// and the step length.
#[derive(Clone, Copy)]
struct Step {
    cos2: f32,
    sin2: f32,
    shift: isize,
    frac: f32,
    len: f32,
}

impl Step {
    fn new(k: usize, columns: bool, forward: bool, length_per_px: f32) -> Self {
        let phi = orientation_angle(k);
        let (c, s) = (libm::cos(phi), libm::sin(phi));
        // Direction (cos φ, −sin φ) in (x, y) with y down.
        let (offset, len) = if columns {
            // One column right: dy = −tan φ; the predecessor (one column left) is at y + tan φ.
            (s / c, 1.0 / c.abs())
        } else {
            // One row down: dx = −cot φ; the predecessor (one row up) is at x + cot φ.
            (c / s, 1.0 / s.abs())
        };
        let offset = if forward { offset } else { -offset };
        let shift = offset.floor();
        Step {
            cos2: libm::cos(2.0 * phi) as f32,
            sin2: libm::sin(2.0 * phi) as f32,
            shift: shift as isize,
            frac: (offset - shift) as f32,
            len: len as f32 * length_per_px,
        }
    }

    /// `out[pos] = max(out[pos], predecessor(prev, pos) − penalty)` for every pos, or plain
    /// assignment when `first`. The interior (both neighbours inside the line) runs without
    /// branches so that it vectorises; the ends go through [`Step::predecessor`].
    fn predecessors_into(&self, out: &mut [f32], prev: &[f32], penalty: f32, first: bool) {
        let n = out.len() as isize;
        let last = prev.len() as isize - 1;
        // pos with 0 ≤ pos + shift and pos + shift + 1 ≤ last.
        let lo = (-self.shift).clamp(0, n) as usize;
        let hi = (last - self.shift).clamp(lo as isize, n) as usize;
        for pos in (0..lo).chain(hi..out.len()) {
            let v = self.predecessor(prev, pos) - penalty;
            out[pos] = if first { v } else { out[pos].max(v) };
        }
        if lo < hi {
            let start = (lo as isize + self.shift) as usize;
            let a = &prev[start..start + (hi - lo)];
            let b = &prev[start + 1..start + 1 + (hi - lo)];
            interpolate_into(&mut out[lo..hi], (a, b), self.frac, penalty, first);
        }
    }

    /// The previous line's value at this orientation's predecessor of `pos`, linearly
    /// interpolated; 0 when the predecessor lies outside the line.
    #[inline]
    fn predecessor(&self, prev: &[f32], pos: usize) -> f32 {
        let i = pos as isize + self.shift;
        let last = prev.len() as isize - 1;
        if i < 0 || i > last || (i == last && self.frac > 0.0) {
            return 0.0;
        }
        let i = i as usize;
        if i as isize == last {
            prev[i]
        } else {
            prev[i] + self.frac * (prev[i + 1] - prev[i])
        }
    }
}

/// One sweep over `planes` for the orientations `ks` (all swept the same way), towards
/// increasing line index when `forward`, advanced one line at a time by the caller. After
/// [`SweepState::advance`]`(line)`, `evidence[j]` holds F (or B) of that line for orientation
/// `ks[j]` and `increments[j]` its increments (−1 outside the mask).
struct SweepState<'p> {
    planes: &'p Planes,
    steps: Vec<Step>,
    /// Neighbouring orientations (k ± 1 modulo K) swept the same way, as indices into `ks`.
    turns: Vec<Vec<usize>>,
    params: PathParams,
    evidence: Vec<Vec<f32>>,
    next: Vec<Vec<f32>>,
    increments: Vec<Vec<f32>>,
}

impl<'p> SweepState<'p> {
    /// The state before the first line: no evidence yet.
    fn new(
        planes: &'p Planes,
        ks: &[usize],
        columns: bool,
        forward: bool,
        params: PathParams,
    ) -> Self {
        let steps = ks
            .iter()
            .map(|&k| Step::new(k, columns, forward, params.length_per_px))
            .collect();
        let turns = ks
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
        let lines = || vec![vec![0.0f32; planes.across]; ks.len()];
        SweepState {
            planes,
            steps,
            turns,
            params,
            evidence: lines(),
            next: lines(),
            increments: lines(),
        }
    }

    /// Step to `line` (the next one in the sweep's direction) from the evidence of the line
    /// before it.
    fn advance(&mut self, line: usize) {
        let across = self.planes.across;
        let span = line * across..(line + 1) * across;
        let (sc, ss, mask) = (
            &self.planes.sc[span.clone()],
            &self.planes.ss[span.clone()],
            &self.planes.mask[span],
        );
        let (penalty, bias) = (self.params.turn_penalty, self.params.bias);
        for (j, step) in self.steps.iter().enumerate() {
            let (cur, inc) = (&mut self.next[j], &mut self.increments[j]);
            // The best predecessor (straight on, or turned at a cost) into `cur` first.
            step.predecessors_into(cur, &self.evidence[j], 0.0, true);
            for &jj in &self.turns[j] {
                self.steps[jj].predecessors_into(cur, &self.evidence[jj], penalty, false);
            }
            add_increments(
                (sc, ss, mask),
                (step.cos2, step.sin2),
                (bias, step.len),
                (cur, inc),
            );
        }
        std::mem::swap(&mut self.evidence, &mut self.next);
    }
}

widest_simd! {
    /// `out[j] = a[j] + frac·(b[j] − a[j]) − penalty`, or the maximum of that and `out[j]` unless
    /// `first`: the interior of [`Step::predecessors_into`], branch-free so that it vectorises.
    fn interpolate_into(
        out: &mut [f32],
        ab: (&[f32], &[f32]),
        frac: f32,
        penalty: f32,
        first: bool,
    ) {
        let n = out.len();
        let (a, b) = (&ab.0[..n], &ab.1[..n]);
        if first {
            for j in 0..n {
                out[j] = (a[j] + frac * (b[j] - a[j])) - penalty;
            }
        } else {
            for j in 0..n {
                out[j] = out[j].max((a[j] + frac * (b[j] - a[j])) - penalty);
            }
        }
    }
}

widest_simd! {
    /// One line of one orientation: the increments `(S·max(0, cos 2(θ − φ)) − b)·ℓ` from the
    /// direction planes and the orientation's `(cos 2φ, sin 2φ)`, added to the best predecessor
    /// in `cur` (Page's recursion, floored at 0); outside the mask the evidence is 0 and the
    /// increment −1. Branch-free (selects), so it vectorises.
    fn add_increments(
        planes: (&[f32], &[f32], &[bool]),
        weight: (f32, f32),
        step: (f32, f32),
        out: (&mut [f32], &mut [f32]),
    ) {
        let ((sc, ss, mask), (cos2, sin2), (bias, len), (cur, inc)) = (planes, weight, step, out);
        let n = cur.len();
        let (sc, ss, mask, inc) = (&sc[..n], &ss[..n], &mask[..n], &mut inc[..n]);
        for pos in 0..n {
            let w = (sc[pos] * cos2 + ss[pos] * sin2).max(0.0);
            let i = (w - bias) * len;
            let inside = mask[pos];
            let added = (i + cur[pos]).max(0.0);
            cur[pos] = if inside { added } else { 0.0 };
            inc[pos] = if inside { i } else { -1.0 };
        }
    }
}

widest_simd! {
    /// Combine one orientation's forward evidence `f`, backward evidence `back` and increments
    /// `inc` of a line into the best so far: `F + B − inc` where the pixel itself adds evidence
    /// (inc > 0; a pixel beyond a line's end would otherwise inherit the line's evidence), kept
    /// with its orientation `k` where it beats `best`.
    fn keep_best(
        line: (&[f32], &[f32], &[f32]),
        k: u8,
        out: (&mut [f32], &mut [u8]),
    ) {
        let ((f, back, inc), (best, best_k)) = (line, out);
        let n = best.len();
        let (f, back, inc, best_k) = (&f[..n], &back[..n], &inc[..n], &mut best_k[..n]);
        for pos in 0..n {
            let i = inc[pos];
            let total = if i > 0.0 { f[pos] + back[pos] - i } else { 0.0 };
            let better = total > best[pos];
            best[pos] = if better { total } else { best[pos] };
            best_k[pos] = if better { k } else { best_k[pos] };
        }
    }
}

/// E of one sweep group (see the module documentation) and the orientation of its best path, in
/// the group's line-major layout. The backward sweep needs the forward evidence of every line
/// and orientation; instead of holding all of it (one plane per orientation), the forward state
/// is kept at the start of every strip of about √lines lines and each strip's forward evidence
/// is computed again from there as the backward sweep reaches it: one more forward sweep, and
/// memory of about 2·√lines lines instead of all of them. The values are the same bits.
fn group_evidence(
    planes: &Planes,
    ks: &[usize],
    columns: bool,
    params: PathParams,
) -> (Vec<f32>, Vec<u8>) {
    let (lines, across) = (planes.lines, planes.across);
    let strip = ((lines as f64).sqrt().ceil() as usize).max(1);
    let mut fwd = SweepState::new(planes, ks, columns, true, params);
    let mut checkpoints = Vec::with_capacity(lines.div_ceil(strip));
    for line in 0..lines {
        if line % strip == 0 {
            checkpoints.push(fwd.evidence.clone());
        }
        fwd.advance(line);
    }
    let mut back = SweepState::new(planes, ks, columns, false, params);
    let mut strip_fwd = vec![vec![0.0f32; strip * across]; ks.len()];
    let mut best = vec![0.0f32; lines * across];
    let mut best_k = vec![0u8; lines * across];
    for (b, checkpoint) in checkpoints.into_iter().enumerate().rev() {
        let first = b * strip;
        let end = (first + strip).min(lines);
        fwd.evidence = checkpoint;
        for line in first..end {
            fwd.advance(line);
            for (dst, src) in strip_fwd.iter_mut().zip(&fwd.evidence) {
                dst[(line - first) * across..][..across].copy_from_slice(src);
            }
        }
        for line in (first..end).rev() {
            back.advance(line);
            let span = line * across..(line + 1) * across;
            let (best, best_k) = (&mut best[span.clone()], &mut best_k[span]);
            for (j, &k) in ks.iter().enumerate() {
                let f = &strip_fwd[j][(line - first) * across..][..across];
                let (vals, incs) = (&back.evidence[j], &back.increments[j]);
                keep_best((f, vals, incs), k as u8, (best, best_k));
            }
        }
    }
    (best, best_k)
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
    // Each group: the forward and backward sweeps and their combination (`group_evidence`), in
    // the group's line-major layout, turned back to (row, col) at the end.
    let partial: Vec<(Array2<f32>, Array2<u8>)> = groups
        .par_iter()
        .enumerate()
        .map(|(g, ks)| {
            let columns = g == 0;
            let planes = Planes::new(strength, direction, mask, params.strength_cap, columns);
            let (best, best_k) = group_evidence(&planes, ks, columns, params);
            let across = planes.across;
            let shape = (planes.lines, across);
            let best = Array2::from_shape_vec(shape, best).expect("line-major shape");
            let best_k = Array2::from_shape_vec(shape, best_k).expect("line-major shape");
            if columns {
                (
                    best.t().as_standard_layout().into_owned(),
                    best_k.t().as_standard_layout().into_owned(),
                )
            } else {
                (best, best_k)
            }
        })
        .collect();
    let mut partial = partial.into_iter();
    let (mut evidence, mut orientation) = partial.next().expect("two groups");
    let (evidence2, orientation2) = partial.next().expect("two groups");
    debug_assert_eq!(evidence.dim(), dim);
    ndarray::Zip::from(&mut evidence)
        .and(&mut orientation)
        .and(&evidence2)
        .and(&orientation2)
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

    /// The strip-wise recomputation of the forward evidence gives the same bits as holding
    /// every forward line, on random strength and directions whose line counts are not a
    /// multiple of the strip, with a mask.
    #[test]
    fn strips_give_the_same_bits_as_holding_every_line() {
        let (rows, cols) = (37usize, 53usize);
        let mut rng = crate::phantom::rng::SplitMix64::new(99);
        let mut next = || rng.uniform() as f32;
        let s = Array2::from_shape_fn((rows, cols), |_| next() * 2.0);
        let d = Array2::from_shape_fn((rows, cols), |_| next() * std::f32::consts::PI);
        let m = Array2::from_shape_fn((rows, cols), |(r, c)| (r * 7 + c * 3) % 17 != 0);
        let params = PathParams {
            bias: 0.6,
            turn_penalty: 0.05,
            length_per_px: 0.1,
            strength_cap: 1.5,
        };
        for columns in [true, false] {
            let ks: Vec<usize> = (0..ORIENTATIONS)
                .filter(|&k| by_columns(k) == columns)
                .collect();
            let planes = Planes::new(s.view(), d.view(), m.view(), params.strength_cap, columns);
            let (lines, across) = (planes.lines, planes.across);
            let mut fwd = SweepState::new(&planes, &ks, columns, true, params);
            let mut all = Vec::new();
            for line in 0..lines {
                fwd.advance(line);
                all.push(fwd.evidence.clone());
            }
            let mut back = SweepState::new(&planes, &ks, columns, false, params);
            let mut best = vec![0.0f32; lines * across];
            for line in (0..lines).rev() {
                back.advance(line);
                for (j, f) in all[line].iter().enumerate() {
                    for pos in 0..across {
                        let i = back.increments[j][pos];
                        let t = if i > 0.0 {
                            f[pos] + back.evidence[j][pos] - i
                        } else {
                            0.0
                        };
                        let b = &mut best[line * across + pos];
                        *b = b.max(t);
                    }
                }
            }
            let (strips, _) = group_evidence(&planes, &ks, columns, params);
            assert!(best.iter().any(|&v| v > 0.0));
            for (a, b) in strips.iter().zip(&best) {
                assert_eq!(a.to_bits(), b.to_bits());
            }
        }
    }

    /// The vectorised interior and the per-pixel predecessor give the same values, bit for
    /// bit, for shifts that put the predecessor inside, across and outside either end.
    #[test]
    fn predecessors_into_matches_the_per_pixel_predecessor() {
        let prev: Vec<f32> = (0..23)
            .map(|i| ((i * 37) % 11) as f32 * 0.25 - 0.5)
            .collect();
        for k in 0..ORIENTATIONS {
            for columns in [true, false] {
                for forward in [true, false] {
                    let step = Step::new(k, columns, forward, 0.3);
                    for across in [1usize, 5, 23] {
                        let prev = &prev[..across];
                        let mut out = vec![0.0f32; across];
                        step.predecessors_into(&mut out, prev, 0.0, true);
                        let mut turned = vec![1.0f32; across];
                        step.predecessors_into(&mut turned, prev, 0.5, false);
                        for pos in 0..across {
                            let p = step.predecessor(prev, pos);
                            assert_eq!(out[pos].to_bits(), p.to_bits(), "k {k} pos {pos}");
                            assert_eq!(turned[pos], f32::max(1.0, p - 0.5), "k {k} pos {pos}");
                        }
                    }
                }
            }
        }
        // Shifts of more than the line: everything is outside.
        let far = Step {
            cos2: 1.0,
            sin2: 0.0,
            shift: 30,
            frac: 0.5,
            len: 1.0,
        };
        let mut out = vec![9.0f32; 5];
        far.predecessors_into(&mut out, &prev[..5], 0.0, true);
        assert_eq!(out, vec![0.0; 5]);
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
