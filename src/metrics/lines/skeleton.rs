//! Skeleton clean-up of the detected line regions: small holes filled before thinning, spurs
//! pruned, hooked ends trimmed, pieces of one line bridged across short gaps, and the end-to-end
//! span of a skeleton.

use ndarray::{Array2, s};

use super::strength::WIDTH_PER_SIGMA;
use crate::imgops::cells::CellGrid;
use crate::imgops::components::{Connectivity, NEIGHBOURS_8, drain_components, label_components};

/// Fill the holes of `region` (4-connected background components that do not touch the
/// array border) smaller than `max_px` pixels, so that thinning does not turn them into loops.
///
/// A hole is enclosed by one 8-connected region, so it lies inside that region's bounding box:
/// each region's box, grown by 1 px (clipped to the array), is searched on its own, and a
/// background component of the box that does not touch the box's border is a whole hole of
/// the array (it cannot leave the box without crossing its border). The work is the area of
/// the boxes, not of the array.
pub(super) fn fill_small_holes(region: &mut Array2<bool>, max_px: f64) {
    let (rows, cols) = region.dim();
    // Bounding boxes (r0, r1, c0, c1), inclusive, of the 8-connected regions.
    let mut boxes = Vec::new();
    let mut unvisited = region.as_slice().expect("fresh array").to_vec();
    drain_components(&mut unvisited, cols, Connectivity::Eight, |pixels| {
        let b = pixels
            .iter()
            .fold((usize::MAX, 0usize, usize::MAX, 0usize), |b, &i| {
                let (r, c) = (i as usize / cols, i as usize % cols);
                (b.0.min(r), b.1.max(r), b.2.min(c), b.3.max(c))
            });
        boxes.push(b);
    });
    drop(unvisited);
    for &(r0, r1, c0, c1) in &boxes {
        let (r0, c0) = (r0.saturating_sub(1), c0.saturating_sub(1));
        let (r1, c1) = ((r1 + 1).min(rows - 1), (c1 + 1).min(cols - 1));
        if r1 < r0 + 2 || c1 < c0 + 2 {
            continue;
        }
        let window = s![r0..=r1, c0..=c1];
        let background = region.slice(window).mapv(|v| !v);
        let (bg, n) = label_components(&background, Connectivity::Four);
        let mut area = vec![0usize; n + 1];
        let mut touches = vec![false; n + 1];
        let (h, w) = bg.dim();
        for ((r, c), &l) in bg.indexed_iter() {
            area[l as usize] += 1;
            if r == 0 || c == 0 || r + 1 == h || c + 1 == w {
                touches[l as usize] = true;
            }
        }
        let mut view = region.slice_mut(window);
        for (v, &l) in view.iter_mut().zip(bg.iter()) {
            if l != 0 && !touches[l as usize] && (area[l as usize] as f64) < max_px {
                *v = true;
            }
        }
    }
}

/// The end points (exactly one skeleton neighbour) of `sk`, in raster order.
fn end_points(sk: &Array2<bool>) -> Vec<(usize, usize)> {
    sk.indexed_iter()
        .filter(|&((r, c), &on)| on && skeleton_neighbours(sk, r, c).count() == 1)
        .map(|(p, _)| p)
        .collect()
}

/// Skeleton neighbours of (r, c).
pub(super) fn skeleton_neighbours(
    sk: &Array2<bool>,
    r: usize,
    c: usize,
) -> impl Iterator<Item = (usize, usize)> + '_ {
    let (rows, cols) = sk.dim();
    NEIGHBOURS_8.iter().filter_map(move |&(dr, dc)| {
        let (rr, cc) = (r as isize + dr, c as isize + dc);
        (rr >= 0
            && cc >= 0
            && (rr as usize) < rows
            && (cc as usize) < cols
            && sk[(rr as usize, cc as usize)])
            .then_some((rr as usize, cc as usize))
    })
}

/// Remove spurs: branches that run from an end point to a junction (≥ 3 neighbours) and are
/// shorter than the local line width `1.6651·σ*` at the junction or `min_px`, whichever is
/// larger (lengths in grid px; `sigma_px(p)` is σ* in image px, `step_px` image px per grid px). Isolated
/// segments (end point to end point) are kept whole. End points are visited in
/// raster order, so the result is deterministic.
pub(super) fn prune_spurs(
    sk: &mut Array2<bool>,
    sigma_px: impl Fn((usize, usize)) -> f32,
    step_px: f64,
    min_px: f64,
) {
    let ends = end_points(sk);
    for start in ends {
        if !sk[start] {
            continue;
        }
        let mut path = vec![start];
        let mut prev = start;
        let mut cur = start;
        let junction = loop {
            let next: Vec<(usize, usize)> = skeleton_neighbours(sk, cur.0, cur.1)
                .filter(|&q| q != prev && !path.contains(&q))
                .collect();
            if next.len() != 1 {
                // Another end point (isolated segment) or a junction at `cur`.
                break (next.len() > 1 && cur != start).then_some(cur);
            }
            let q = next[0];
            if skeleton_neighbours(sk, q.0, q.1).count() >= 3 {
                break Some(q);
            }
            prev = cur;
            cur = q;
            path.push(cur);
            if path.len() as f64 > 4.0 * min_px.max(1.0) + 64.0 {
                break None;
            }
        };
        let Some(j) = junction else { continue };
        if j == cur && path.last() == Some(&cur) && cur != start {
            path.pop();
        }
        let width = f64::from(sigma_px(j)) * WIDTH_PER_SIGMA / step_px;
        let limit = if width.is_finite() {
            width.max(min_px)
        } else {
            min_px
        };
        if (path.len() as f64) < limit {
            for p in path {
                sk[p] = false;
            }
        }
    }
}

/// Length, in line widths, of the skeleton traced back from an end point to find where the
/// line really ends (see [`trim_end_hooks`]).
const HOOK_TRACE_WIDTHS: f64 = 4.0;

/// Trim hooked ends: where a skeleton end turns back along the line (a U-turn into a weak
/// parallel side response that the hysteresis joined to the line's end), cut it at the tip.
/// From each end point p₀ the skeleton is traced back over at most
/// `L = max(HOOK_TRACE_WIDTHS · 1.6651·σ*(p₀), min_px)` grid px, stopping at a junction
/// (p₀ … p_n). With u the line direction θ at p_n, oriented towards the traced points
/// (`u · (p̄ − p_n) > 0`, p̄ their mean), the tip is
///
/// ```text
/// k* = argmax_k u · p_k        (first maximum)
/// ```
/// and p₀ … p_{k*−1}, which run back from the tip, are removed. On a straight or gently curved
/// end k* = 0 and nothing changes. Ends traced back less than 3 px are left alone. End points
/// are visited in raster order (deterministic).
pub(super) fn trim_end_hooks(
    sk: &mut Array2<bool>,
    sigma_px: impl Fn((usize, usize)) -> f32,
    direction: impl Fn((usize, usize)) -> f32,
    step_px: f64,
    min_px: f64,
) {
    let ends = end_points(sk);
    for start in ends {
        if !sk[start] || skeleton_neighbours(sk, start.0, start.1).count() != 1 {
            continue;
        }
        let sigma = f64::from(sigma_px(start));
        let limit = if sigma.is_finite() {
            (HOOK_TRACE_WIDTHS * WIDTH_PER_SIGMA * sigma / step_px).max(min_px)
        } else {
            min_px
        }
        .ceil() as usize;
        let mut path = vec![start];
        let mut prev = start;
        let mut cur = start;
        while path.len() <= limit {
            let next: Vec<(usize, usize)> = skeleton_neighbours(sk, cur.0, cur.1)
                .filter(|&q| q != prev && q != cur)
                .collect();
            if next.len() != 1 || skeleton_neighbours(sk, next[0].0, next[0].1).count() > 2 {
                break;
            }
            prev = cur;
            cur = next[0];
            path.push(cur);
        }
        if path.len() < 4 {
            continue;
        }
        let last = path[path.len() - 1];
        let theta = f64::from(direction(last));
        // Line direction as (row, col): rows grow downward, θ counter-clockwise on screen.
        let (mut ur, mut uc) = (-theta.sin(), theta.cos());
        let n = path.len() as f64;
        let mean_r = path.iter().map(|p| p.0 as f64).sum::<f64>() / n;
        let mean_c = path.iter().map(|p| p.1 as f64).sum::<f64>() / n;
        if ur * (mean_r - last.0 as f64) + uc * (mean_c - last.1 as f64) < 0.0 {
            (ur, uc) = (-ur, -uc);
        }
        let proj = |p: &(usize, usize)| ur * p.0 as f64 + uc * p.1 as f64;
        let mut k_best = 0;
        for (k, p) in path.iter().enumerate() {
            if proj(p) > proj(&path[k_best]) + 1e-9 {
                k_best = k;
            }
        }
        for p in &path[..k_best] {
            sk[*p] = false;
        }
    }
}

/// A gap joined between the skeleton end points of two lines.
pub(super) struct Bridge {
    pub(super) a: usize,
    pub(super) b: usize,
    pub(super) length_px: f64,
    pub(super) theta: f64,
    pub(super) pixels: Vec<(usize, usize)>,
}

/// A skeleton end point: pixel (row, col), region label, outward unit direction (row, col).
type LineEnd = ((usize, usize), usize, (f64, f64));

/// Root of `i` in a union-find forest (with path halving).
pub(super) fn find_root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Skeleton pixels traced back from the end point `start`, up to `max_steps` steps.
pub(super) fn trace_from_end(
    sk: &Array2<bool>,
    start: (usize, usize),
    max_steps: usize,
) -> (usize, usize) {
    let mut prev = start;
    let mut cur = start;
    for _ in 0..max_steps {
        let next = skeleton_neighbours(sk, cur.0, cur.1).find(|&q| q != prev && q != cur);
        let Some(q) = next else { break };
        if skeleton_neighbours(sk, q.0, q.1).count() > 2 {
            break;
        }
        prev = cur;
        cur = q;
    }
    cur
}

/// The end points of `sk` with their outward unit direction (row, col): from the skeleton
/// traced back over up to `trace` px ([`trace_from_end`], at most to a junction); end points
/// traced back less than 3 px have no direction and are left out. In raster order.
fn outward_ends(sk: &Array2<bool>, trace: usize) -> Vec<((usize, usize), (f64, f64))> {
    end_points(sk)
        .into_iter()
        .filter_map(|(r, c)| {
            let back = trace_from_end(sk, (r, c), trace);
            let (dr, dc) = (r as f64 - back.0 as f64, c as f64 - back.1 as f64);
            let n = dr.hypot(dc);
            (n >= 3.0).then(|| ((r, c), (dr / n, dc / n)))
        })
        .collect()
}

/// Gap bridging along the local line direction. Each skeleton end point gets an outward
/// direction from the skeleton traced back over `max(max_gap_px, 10)` px (at most to a
/// junction); end points traced back less than 3 px have no direction and are not bridged.
/// Two end points of different lines are joined when
///
/// ```text
/// |g| ≤ max_gap_px,   u_a · ĝ ≥ cos 30°,   u_b · (−ĝ) ≥ cos 30°,   mean S on the gap ≥ s_min
/// ```
/// with g the vector from end a to end b, u the outward unit directions, and S the valley
/// strength sampled along the straight gap. Candidate pairs are taken shortest first, each end
/// point at most once and never closing a loop (deterministic: ties broken by pixel order).
pub(super) fn bridge_gaps(
    sk: &Array2<bool>,
    label_at: impl Fn((usize, usize)) -> usize,
    n_labels: usize,
    strength: &Array2<f32>,
    max_gap_px: f64,
    min_strength: f32,
) -> Vec<Bridge> {
    if max_gap_px < 1.0 {
        return Vec::new();
    }
    let trace = max_gap_px.max(10.0).round() as usize;
    let ends: Vec<LineEnd> = outward_ends(sk, trace)
        .into_iter()
        .filter(|&(p, _)| label_at(p) > 0)
        .map(|(p, u)| (p, label_at(p), u))
        .collect();
    let cos_max = BRIDGE_MAX_ANGLE_DEG.to_radians().cos();
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (i, &(pa, la, ua)) in ends.iter().enumerate() {
        for (j, &(pb, lb, ub)) in ends.iter().enumerate().skip(i + 1) {
            if la == lb {
                continue;
            }
            let (gr, gc) = (pb.0 as f64 - pa.0 as f64, pb.1 as f64 - pa.1 as f64);
            let d = gr.hypot(gc);
            if d > max_gap_px || d < 1.0 {
                continue;
            }
            let (gr, gc) = (gr / d, gc / d);
            if ua.0 * gr + ua.1 * gc < cos_max || -(ub.0 * gr + ub.1 * gc) < cos_max {
                continue;
            }
            candidates.push((d, i, j));
        }
    }
    candidates.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut used = vec![false; ends.len()];
    let mut parent: Vec<usize> = (0..=n_labels).collect();
    let mut out = Vec::new();
    for (d, i, j) in candidates {
        if used[i] || used[j] {
            continue;
        }
        let (pa, la, _) = ends[i];
        let (pb, lb, _) = ends[j];
        let (ra, rb) = (find_root(&mut parent, la), find_root(&mut parent, lb));
        if ra == rb {
            continue;
        }
        let steps = d.ceil() as usize;
        let mut pixels = Vec::with_capacity(steps);
        let mut sum = 0.0f32;
        for t in 1..steps {
            let f = t as f64 / steps as f64;
            let r = (pa.0 as f64 + f * (pb.0 as f64 - pa.0 as f64)).round() as usize;
            let c = (pa.1 as f64 + f * (pb.1 as f64 - pa.1 as f64)).round() as usize;
            sum += strength[(r, c)];
            pixels.push((r, c));
        }
        if !pixels.is_empty() && sum / (pixels.len() as f32) < min_strength {
            continue;
        }
        used[i] = true;
        used[j] = true;
        parent[ra.max(rb)] = ra.min(rb);
        let (gr, gc) = (pb.0 as f64 - pa.0 as f64, pb.1 as f64 - pa.1 as f64);
        // Direction counter-clockwise on screen (rows grow downward), in [0, π).
        let theta = (-gr).atan2(gc).rem_euclid(std::f64::consts::PI);
        out.push(Bridge {
            a: la,
            b: lb,
            length_px: (d - 1.0).max(0.0),
            theta,
            pixels,
        });
    }
    out
}

/// End-to-end extent of a skeleton, px: the distance between the two points found by a
/// double sweep (the point farthest from the first pixel, then the point farthest from that
/// one). Exact for a straight or gently curved line, never more than the true diameter.
pub(super) fn skeleton_span_px(points: &[(u32, u32)]) -> f64 {
    let farthest = |from: (u32, u32)| {
        let d2 = |p: &(u32, u32)| {
            let (dx, dy) = (
                f64::from(p.0) - f64::from(from.0),
                f64::from(p.1) - f64::from(from.1),
            );
            dx * dx + dy * dy
        };
        points.iter().copied().fold((from, 0.0), |(best, bd), p| {
            let d = d2(&p);
            if d > bd { (p, d) } else { (best, bd) }
        })
    };
    let Some(&first) = points.first() else {
        return 0.0;
    };
    let (a, _) = farthest(first);
    let (_, d2) = farthest(a);
    d2.sqrt()
}

/// How far each skeleton end point lies inside its region: from every end point (one skeleton
/// neighbour) traced back at least 3 px, the distance walked outwards along the traced direction
/// (½ px steps) before leaving `region`, in grid px. Thinning leaves the end of a centre line
/// about half the band's width inside the band; this gives it back.
pub(super) fn end_extensions(
    sk: &Array2<bool>,
    region: &Array2<bool>,
) -> Vec<((usize, usize), f64)> {
    let (rows, cols) = sk.dim();
    outward_ends(sk, 10)
        .into_iter()
        .map(|((r, c), (ur, uc))| {
            let mut t = 0.0;
            loop {
                let (rr, cc) = (r as f64 + (t + 0.5) * ur, c as f64 + (t + 0.5) * uc);
                let (ri, ci) = (rr.round(), cc.round());
                if ri < 0.0 || ci < 0.0 || ri >= rows as f64 || ci >= cols as f64 {
                    break;
                }
                if !region[(ri as usize, ci as usize)] {
                    break;
                }
                t += 0.5;
            }
            ((r, c), t)
        })
        .collect()
}

/// The greatest angle between a skeleton end's outward direction and the gap to a piece that
/// continues it, deg (gap bridging and pieces that continue one valley).
const BRIDGE_MAX_ANGLE_DEG: f64 = 30.0;

/// The greatest angle between two lines' local directions for one to run beside the other, deg.
const TWIN_MAX_ANGLE_DEG: f64 = 20.0;

/// One line for [`other_walls`]: its skeleton pixels (image px), the local direction at each
/// (radians, counter-clockwise on screen) and its width (cross-section FWHM, image px).
pub(super) struct TwinLine<'a> {
    pub pixels: &'a [(u32, u32)],
    pub theta: &'a [f64],
    pub width_px: f64,
}

/// The walls of one valley, counted once: which lines are the other wall of an earlier line.
///
/// Lines are taken in the given order (the caller puts the longest first). A pixel lies
/// *beside* an earlier kept line when a pixel of that line is within the sum of the two widths
/// (the two valleys' profiles overlap: the skin between them does not return to its own
/// level), in a direction within 45° of that line's normal (across it, not along it), with
/// local directions within `TWIN_MAX_ANGLE_DEG`. A line with most of its pixels beside kept
/// lines runs along one of them, within its reach, all the way: it is the same valley seen
/// twice (a wide wrinkle under coaxial light shows both its walls as dark lines, with its lit
/// floor between them) and is not kept (`false`). A line that only touches another over part
/// of its length (a crossing, a piece continuing it with an offset) is kept whole.
pub(super) fn other_walls(lines: &[TwinLine<'_>]) -> Vec<bool> {
    let reach = 2.0 * lines.iter().map(|l| l.width_px).fold(0.0, f64::max);
    if lines.is_empty() || reach.is_nan() || reach <= 0.0 {
        return vec![true; lines.len()];
    }
    // Kept pixels, in cells of `reach` px (whole px, so a pixel's cell is its integer
    // coordinate divided by it) over the lines' extent: (x, y, theta, width).
    let extent = lines
        .iter()
        .flat_map(|l| l.pixels.iter())
        .fold((0usize, 0usize), |(h, w), &(x, y)| {
            (h.max(y as usize + 1), w.max(x as usize + 1))
        });
    let mut kept: CellGrid<(f64, f64, f64, f64)> = CellGrid::new(extent, reach.ceil());
    let cos_max = TWIN_MAX_ANGLE_DEG.to_radians().cos();
    let across = std::f64::consts::FRAC_1_SQRT_2;
    let mut keep = Vec::with_capacity(lines.len());
    for line in lines {
        let beside = line
            .pixels
            .iter()
            .zip(line.theta)
            .filter(|&(&(x, y), &t)| {
                let (xf, yf) = (f64::from(x), f64::from(y));
                kept.any_near((xf, yf), |&(qx, qy, qt, qw)| {
                    let (ox, oy) = (xf - qx, yf - qy);
                    let d = ox.hypot(oy);
                    // The kept line's direction on screen is (cos θ, −sin θ).
                    let along = (ox * qt.cos() - oy * qt.sin()).abs();
                    d <= line.width_px + qw
                        && along <= across * d
                        && (t - qt).cos().abs() >= cos_max
                })
            })
            .count();
        let twin = 2 * beside > line.pixels.len();
        keep.push(!twin);
        if !twin {
            for (&(x, y), &t) in line.pixels.iter().zip(line.theta) {
                let (xf, yf) = (f64::from(x), f64::from(y));
                kept.insert((xf, yf), (xf, yf, t, line.width_px));
            }
        }
    }
    keep
}

/// One kept line for [`continuations`]: its skeleton pixels (x, y) and its width
/// (cross-section FWHM), in the same pixels.
pub(super) struct ContLine<'a> {
    pub pixels: &'a [(u32, u32)],
    pub width_px: f64,
}

/// An end point (x, y) of a line's skeleton and its outward unit direction (x, y).
type SkeletonEnd = ((f64, f64), (f64, f64));

/// Principal axis of `points` (x, y): their centroid and the unit eigenvector of the largest
/// eigenvalue of their scatter matrix (None for fewer than two distinct points).
pub(super) fn principal_axis(points: &[(f64, f64)]) -> Option<((f64, f64), (f64, f64))> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), p| (a + p.0 / n, b + p.1 / n));
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in points {
        let (dx, dy) = (x - mx, y - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if sxx + syy <= 0.0 {
        return None;
    }
    // Orientation of the major axis of a 2x2 symmetric matrix.
    let phi = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    Some(((mx, my), (phi.cos(), phi.sin())))
}

/// Skeleton pixels as (x, y) points.
fn as_points(pixels: &[(u32, u32)]) -> Vec<(f64, f64)> {
    pixels
        .iter()
        .map(|&(x, y)| (f64::from(x), f64::from(y)))
        .collect()
}

/// The tips of a line: the points farthest along its principal axis either way (none for
/// fewer than two distinct points).
fn axis_tips(pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let Some((_, v)) = principal_axis(pts) else {
        return Vec::new();
    };
    let along = |p: &(f64, f64), u: (f64, f64)| p.0 * u.0 + p.1 * u.1;
    [v, (-v.0, -v.1)]
        .into_iter()
        .filter_map(|dir| {
            pts.iter().copied().reduce(|a, b| {
                if along(&b, dir) > along(&a, dir) {
                    b
                } else {
                    a
                }
            })
        })
        .collect()
}

/// The two tips of a line's skeleton (image px; see [`axis_tips`]).
pub(super) fn line_tips(pixels: &[(u32, u32)]) -> Vec<(f64, f64)> {
    axis_tips(&as_points(pixels))
}

/// The two ends of one line's skeleton with their outward directions, found by its geometry
/// rather than its topology: the tips are the pixels farthest along the line's principal axis
/// either way; the direction at a tip is the principal axis of the skeleton `window_px / 3`
/// to `window_px` from it, pointing out. A hooked tip, a spur or a small loop at an end
/// (where a crossing hair was cut out, the skeleton often follows the hair for a few pixels)
/// leave a topological end point missing or pointing sideways; they lie within the first
/// third and do not turn the direction. A line shorter than that uses all its pixels within
/// `window_px` of the tip.
fn line_ends(pixels: &[(u32, u32)], window_px: f64) -> Vec<SkeletonEnd> {
    let pts = as_points(pixels);
    axis_tips(&pts)
        .into_iter()
        .filter_map(|tip| {
            let within = |lo: f64| -> Vec<(f64, f64)> {
                pts.iter()
                    .copied()
                    .filter(|p| {
                        let d = (p.0 - tip.0).hypot(p.1 - tip.1);
                        d > lo && d <= window_px
                    })
                    .collect()
            };
            let mut stretch = within(window_px / 3.0);
            if stretch.len() < 3 {
                stretch = within(-1.0);
            }
            let ((cx, cy), mut u) = principal_axis(&stretch)?;
            if u.0 * (tip.0 - cx) + u.1 * (tip.1 - cy) < 0.0 {
                u = (-u.0, -u.1);
            }
            Some((tip, u))
        })
        .collect()
}

/// Pairs of lines that continue one valley, in line or with a sideways step: an end of each
/// ([`line_ends`], over `2·max(max_gap_px, 10)` px), their outward directions opposite within
/// `BRIDGE_MAX_ANGLE_DEG`, at most `max_gap_px` apart along the line (overlapping or not) and
/// at most the sum of the two widths across it.
pub(super) fn continuations(lines: &[ContLine<'_>], max_gap_px: f64) -> Vec<(usize, usize)> {
    let cos_max = BRIDGE_MAX_ANGLE_DEG.to_radians().cos();
    let ends: Vec<Vec<SkeletonEnd>> = lines
        .iter()
        .map(|l| line_ends(l.pixels, 2.0 * max_gap_px.max(10.0)))
        .collect();
    let mut pairs = Vec::new();
    for i in 0..lines.len() {
        for j in i + 1..lines.len() {
            let reach = lines[i].width_px + lines[j].width_px;
            let joined = ends[i].iter().any(|&(pa, ua)| {
                ends[j].iter().any(|&(pb, ub)| {
                    let (gx, gy) = (pb.0 - pa.0, pb.1 - pa.1);
                    let along = gx * ua.0 + gy * ua.1;
                    let across = (gx * ua.1 - gy * ua.0).abs();
                    ua.0 * ub.0 + ua.1 * ub.1 <= -cos_max
                        && along.abs() <= max_gap_px
                        && across <= reach
                })
            });
            if joined {
                pairs.push((i, j));
            }
        }
    }
    pairs
}
