//! Rims: steep-walled pits found by their closed wall, the scars' second detector.
//!
//! Method, formulas and the reasons for them: the section "Rims" of the module doc of
//! [`super`] (docs/METRICS.md). Reference: G. Loy, A. Zelinsky, "Fast radial symmetry for
//! detecting points of interest", IEEE TPAMI 25 (2003) 959-973, doi:10.1109/TPAMI.2003.1217601.

use ndarray::{Array2, ArrayView2};

use super::RimEvidence;
use crate::imgops::blobs::log_scales;
use crate::imgops::gaussian::gaussian_blur;
use crate::imgops::radial::{disk_window, sample_bilinear};
use crate::metrics::median;

/// The wall's own scale on the base grid, px.
const WALL_SIGMA_PX: f32 = 1.0;
/// Blur of the gradient magnitude that merges a wall's flanks, base px.
const WALL_ENERGY_SIGMA_PX: f32 = 1.5;
/// Pixels vote when their gradient is at least this many texture levels.
const VOTE_LEVEL: f32 = 2.0;
/// Radii per octave of the voting.
const RADII_PER_OCTAVE: f64 = 4.0;
/// Blur of a radius's votes, as a fraction of the radius (the pit's own ellipticity and
/// the voting's rounding spread its votes).
const VOTE_BLUR_FRACTION: f64 = 0.15;
/// Smallest vote density of a candidate (texture levels × px).
const MIN_VOTES: f32 = 3.0;
/// Rays examined about a candidate (8 sectors of 4).
const RAYS: usize = 32;
const SECTORS: usize = 8;
/// Radial sample step along a ray, px.
const RAY_STEP_PX: f64 = 0.5;
/// Largest RMS misfit of the wall's radius to its smooth closed curve, per radius.
const MAX_MISFIT: f64 = 0.1;
/// Largest floor darkening per wall contrast.
const MAX_STEP: f64 = 0.85;
/// Smallest floor darkening per wall contrast (a floor brighter than the surround).
const MIN_STEP: f64 = -0.25;

/// One rim on the base grid.
#[derive(Debug, Clone)]
pub(super) struct Rim {
    /// Centre, base px (column, row).
    pub cx: f64,
    pub cy: f64,
    /// Mean wall radius, base px.
    pub radius_px: f64,
    /// What decided it: weakest sector's wall energy, misfit to a smooth closed curve, floor
    /// darkening per wall contrast.
    pub evidence: RimEvidence,
    /// Wall contrast W: the wall's largest departure from the surround, median over rays.
    pub contrast: f64,
    /// Surround minus the mean inside the rim.
    pub depth: f64,
    /// Mean wall energy × radius / wall contrast.
    pub steepness: f64,
    /// Axis ratio of the fitted closed curve.
    pub elongation: f64,
    /// Base-grid pixels (row, col) inside the rim and of its surround ring, for the pigment
    /// test.
    pub pixels: Vec<(usize, usize)>,
    pub ring: Vec<(usize, usize)>,
}

/// Rims with radius `r_min..=r_max` (base px) in `z` (0 outside `mask`), strongest vote
/// first; `min_snr` as `scars.min_rim_snr`, `min_contrast` as `scars.min_depth`.
pub(super) fn find_rims(
    z: &Array2<f32>,
    mask: &Array2<bool>,
    (r_min, r_max): (f64, f64),
    min_snr: f64,
    min_contrast: f64,
) -> Vec<Rim> {
    let (h, w) = z.dim();
    if h < 3 || w < 3 || r_max < r_min {
        return Vec::new();
    }
    let zw = gaussian_blur(z.view(), WALL_SIGMA_PX);
    let mut gx = Array2::<f32>::zeros((h, w));
    let mut gy = Array2::<f32>::zeros((h, w));
    let mut mag = Array2::<f32>::zeros((h, w));
    let mut sample = Vec::new();
    for i in 1..h - 1 {
        for j in 1..w - 1 {
            if !(mask[[i, j]]
                && mask[[i - 1, j]]
                && mask[[i + 1, j]]
                && mask[[i, j - 1]]
                && mask[[i, j + 1]])
            {
                continue;
            }
            let x = 0.5 * (zw[[i, j + 1]] - zw[[i, j - 1]]);
            let y = 0.5 * (zw[[i + 1, j]] - zw[[i - 1, j]]);
            let m = (x * x + y * y).sqrt();
            gx[[i, j]] = x;
            gy[[i, j]] = y;
            mag[[i, j]] = m;
            sample.push(m);
        }
    }
    if sample.len() < 64 {
        return Vec::new();
    }
    let median = |v: &mut Vec<f32>| {
        let mid = v.len() / 2;
        *v.select_nth_unstable_by(mid, f32::total_cmp).1
    };
    let level = median(&mut sample);
    if level <= 0.0 {
        return Vec::new();
    }
    // Voters: (row, col, unit gradient, weight).
    let mut voters = Vec::new();
    for ((i, j), &m) in mag.indexed_iter() {
        if m >= VOTE_LEVEL * level {
            voters.push((i, j, gx[[i, j]] / m, gy[[i, j]] / m, m));
        }
    }
    drop((gx, gy));
    // The wall's energy: a dark wall's two flanks (and a crescent's edges) merge into one
    // ridge of gradient magnitude at the wall. Its texture level is its median over the zone.
    let energy = gaussian_blur(mag.view(), WALL_ENERGY_SIGMA_PX);
    sample.clear();
    sample.extend(
        energy
            .iter()
            .zip(mask)
            .filter(|(_, m)| **m)
            .map(|(&e, _)| e),
    );
    let energy_level = median(&mut sample);
    drop((sample, mag));
    let mut cands: Vec<(f32, f64, usize, usize)> = Vec::new();
    for r in log_scales(r_min, r_max, RADII_PER_OCTAVE) {
        // Votes are blurred by 0.15 r: they are summed on cells of q × q px, q the largest
        // integer not above half that blur, and blurred there by what is left of it (at
        // least 2 cells), so that large radii cost no more than small ones.
        let s = VOTE_BLUR_FRACTION * r;
        let q = ((0.5 * s).floor() as usize).max(1);
        let (hq, wq) = (h.div_ceil(q), w.div_ceil(q));
        let mut votes = Array2::<f32>::zeros((hq, wq));
        for &(i, j, ux, uy, m) in &voters {
            for sign in [1.0f64, -1.0] {
                let x = (j as f64 + sign * r * f64::from(ux)).round();
                let y = (i as f64 + sign * r * f64::from(uy)).round();
                if x >= 0.0 && y >= 0.0 && (x as usize) < w && (y as usize) < h {
                    votes[[y as usize / q, x as usize / q]] += m;
                }
            }
        }
        let a = gaussian_blur(votes.view(), (s / q as f64) as f32);
        // Per fine pixel: a cell holds q² pixels' votes.
        let scale = (s * s / (r * f64::from(level)) / (q * q) as f64) as f32;
        let half = (q - 1) / 2;
        for i in 1..hq.saturating_sub(1) {
            for j in 1..wq.saturating_sub(1) {
                let v = a[[i, j]];
                let (fi, fj) = ((i * q + half).min(h - 1), (j * q + half).min(w - 1));
                if v * scale < MIN_VOTES || !mask[[fi, fj]] {
                    continue;
                }
                let is_max = !(a[[i - 1, j - 1]] >= v
                    || a[[i - 1, j]] >= v
                    || a[[i - 1, j + 1]] >= v
                    || a[[i, j - 1]] >= v
                    || a[[i, j + 1]] > v
                    || a[[i + 1, j - 1]] > v
                    || a[[i + 1, j]] > v
                    || a[[i + 1, j + 1]] > v);
                if is_max {
                    cands.push((v * scale, r, fi, fj));
                }
            }
        }
    }
    cands.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.total_cmp(&b.1))
            .then((a.2, a.3).cmp(&(b.2, b.3)))
    });
    let mut rims: Vec<Rim> = Vec::new();
    for &(_, r, i, j) in &cands {
        let (cx, cy) = (j as f64, i as f64);
        if rims
            .iter()
            .any(|q| (q.cx - cx).hypot(q.cy - cy) < q.radius_px.max(r))
        {
            continue;
        }
        if let Some(rim) = examine(
            zw.view(),
            energy.view(),
            mask.view(),
            (cx, cy),
            r,
            (f64::from(energy_level), min_snr, min_contrast),
        ) {
            rims.push(rim);
        }
    }
    rims
}

/// The wall about `(cx, cy)` near radius `r`, or None when its weakest sector is below
/// `min_snr` texture levels (`level`, the median wall energy), it is not a smooth closed
/// curve around a floor lighter than itself, its contrast is below `min_contrast`, or it
/// leaves the zone.
fn examine(
    zw: ArrayView2<f32>,
    energy: ArrayView2<f32>,
    mask: ArrayView2<bool>,
    (cx, cy): (f64, f64),
    r: f64,
    (level, min_snr, min_contrast): (f64, f64, f64),
) -> Option<Rim> {
    let angle = |k: usize| std::f64::consts::TAU * k as f64 / RAYS as f64;
    let n_steps = (r / RAY_STEP_PX).ceil() as usize;
    let mut rho_a = [0.0f64; RAYS];
    let mut m_a = [0.0f64; RAYS];
    for k in 0..RAYS {
        let (dx, dy) = (angle(k).cos(), angle(k).sin());
        let mut best = (f64::NEG_INFINITY, 0.0);
        for s in 0..=n_steps {
            let rho = 0.5 * r + s as f64 * RAY_STEP_PX;
            let m = sample_bilinear(energy, mask, cx + rho * dx, cy + rho * dy)?;
            if m > best.0 {
                best = (m, rho);
            }
        }
        (m_a[k], rho_a[k]) = best;
    }
    // Closed on every side: the weakest sector's median wall energy.
    let weakest = m_a
        .chunks(RAYS / SECTORS)
        .filter_map(|sector| median(&mut sector.to_vec()))
        .fold(f64::INFINITY, f64::min);
    // Most candidates (texture) end here.
    if weakest < min_snr * level {
        return None;
    }
    // Smooth closed curve: Fourier fit up to the second harmonic (orthogonal on equally
    // spaced angles).
    let n = RAYS as f64;
    let coef =
        |f: &dyn Fn(f64) -> f64| (0..RAYS).map(|k| rho_a[k] * f(angle(k))).sum::<f64>() * 2.0 / n;
    let c0 = rho_a.iter().sum::<f64>() / n;
    let (c1, s1) = (coef(&f64::cos), coef(&f64::sin));
    let (c2, s2) = (coef(&|a| (2.0 * a).cos()), coef(&|a| (2.0 * a).sin()));
    // Robust RMS (1.4826 × median absolute residual): a few rays caught by a pore or a hair
    // beside the wall do not make it open.
    let mut residuals: Vec<f64> = (0..RAYS)
        .map(|k| {
            let a = angle(k);
            let fit =
                c0 + c1 * a.cos() + s1 * a.sin() + c2 * (2.0 * a).cos() + s2 * (2.0 * a).sin();
            (rho_a[k] - fit).abs()
        })
        .collect();
    let misfit = 1.4826 * median(&mut residuals)? / c0;
    if misfit > MAX_MISFIT {
        return None;
    }
    let a2 = c2.hypot(s2).min(0.99 * c0);
    let elongation = (c0 + a2) / (c0 - a2);
    // Shading levels about the refined centre, along the same rays, relative to each ray's
    // own wall radius.
    let (cx, cy) = (cx + c1, cy + s1);
    let (mut floor, mut surround) = (Vec::new(), Vec::new());
    let mut walls: Vec<Vec<f64>> = Vec::with_capacity(RAYS);
    for (k, &ra) in rho_a.iter().enumerate() {
        let (dx, dy) = (angle(k).cos(), angle(k).sin());
        let mut wall = Vec::new();
        let steps = (1.8 * ra / RAY_STEP_PX).floor() as usize;
        for s in 0..=steps {
            let rho = s as f64 * RAY_STEP_PX;
            let v = sample_bilinear(zw, mask, cx + rho * dx, cy + rho * dy)?;
            if rho < 0.6 * ra {
                floor.push(v);
            } else if rho >= 1.3 * ra {
                surround.push(v);
            } else if (0.75 * ra..=1.25 * ra).contains(&rho) {
                wall.push(v);
            }
        }
        walls.push(wall);
    }
    // The upper median (the middle value of an odd count, the upper of the two middle ones of
    // an even count).
    let upper_median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    if floor.is_empty() || surround.is_empty() {
        return None;
    }
    let s_level = upper_median(&mut surround);
    let f_level = upper_median(&mut floor);
    // The wall departs from the surround either way: darker where it faces away from the
    // light, lighter where it faces it.
    let mut wall_contrast: Vec<f64> = walls
        .iter()
        .map(|v| v.iter().map(|&x| (x - s_level).abs()).fold(0.0, f64::max))
        .collect();
    let contrast = upper_median(&mut wall_contrast);
    if contrast.is_nan() || contrast <= 0.0 || contrast < min_contrast {
        return None;
    }
    let step = (s_level - f_level) / contrast;
    if !(MIN_STEP..=MAX_STEP).contains(&step) {
        return None;
    }
    // Pixels inside the rim and of its surround ring.
    let (rows, cols) = disk_window((cx, cy), 1.8 * c0, zw.dim());
    let (mut pixels, mut ring) = (Vec::new(), Vec::new());
    let mut inside_sum = 0.0;
    for i in rows {
        for j in cols.clone() {
            if !mask[[i, j]] {
                continue;
            }
            let d = (i as f64 - cy).hypot(j as f64 - cx);
            if d <= c0 {
                pixels.push((i, j));
                inside_sum += f64::from(zw[[i, j]]);
            } else if (1.3 * c0..=1.8 * c0).contains(&d) {
                ring.push((i, j));
            }
        }
    }
    if pixels.is_empty() || ring.is_empty() {
        return None;
    }
    let depth = s_level - inside_sum / pixels.len() as f64;
    let mean_wall = m_a.iter().sum::<f64>() / n;
    Some(Rim {
        cx,
        cy,
        radius_px: c0,
        evidence: RimEvidence {
            snr: weakest / level,
            misfit,
            step,
        },
        contrast,
        depth,
        steepness: mean_wall * c0 / contrast,
        elongation,
        pixels,
        ring,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rendered ring: a dark wall 2 px wide at radius 12 px around a floor at the skin's
    /// level, on a faint texture; found at its centre with its radius. A dark disk of the
    /// same size is not a rim (its floor is as dark as its wall), nor is the ring around a
    /// bright floor.
    #[test]
    fn finds_a_dark_ring_not_a_dark_disk() {
        let (h, w) = (96, 96);
        let texture = |i: usize, j: usize| 0.004 * (((i * 7 + j * 13) % 11) as f32 - 5.0);
        let ring = Array2::from_shape_fn((h, w), |(i, j)| {
            let d = (i as f32 - 48.0).hypot(j as f32 - 40.0);
            texture(i, j) - 0.3 * (-((d - 12.0) / 1.5).powi(2)).exp()
        });
        let mask = Array2::from_elem((h, w), true);
        let rims = find_rims(&ring, &mask, (8.0, 20.0), 3.0, 0.05);
        assert_eq!(rims.len(), 1, "{rims:?}");
        let rim = &rims[0];
        assert!(
            (rim.cx - 40.0).abs() < 1.0 && (rim.cy - 48.0).abs() < 1.0,
            "{rim:?}"
        );
        assert!((rim.radius_px - 12.0).abs() < 1.5, "{rim:?}");
        assert!(rim.evidence.step < 0.3 && rim.elongation < 1.2, "{rim:?}");

        let disk = Array2::from_shape_fn((h, w), |(i, j)| {
            let d = (i as f32 - 48.0).hypot(j as f32 - 40.0);
            texture(i, j) - 0.3 / (1.0 + ((d - 12.0) / 1.0).exp())
        });
        assert!(find_rims(&disk, &mask, (8.0, 20.0), 3.0, 0.05).is_empty());

        // The same dark ring around a floor brighter than the skin by as much as the wall is
        // dark (a loop of a light hair, glare): not a pit.
        let bright = Array2::from_shape_fn((h, w), |(i, j)| {
            let d = (i as f32 - 48.0).hypot(j as f32 - 40.0);
            ring[[i, j]] + 0.3 / (1.0 + ((d - 10.0) / 1.0).exp())
        });
        assert!(find_rims(&bright, &mask, (8.0, 20.0), 3.0, 0.05).is_empty());
    }

    /// A pit under oblique light: a dark crescent on one side and a lit one opposite, the
    /// floor at the skin's level. Found; a straight dark line (a hair) through the same place
    /// is not a closed curve.
    #[test]
    fn finds_opposite_crescents_not_a_line() {
        let (h, w) = (96, 96);
        let mask = Array2::from_elem((h, w), true);
        let texture = |i: usize, j: usize| 0.004 * (((i * 7 + j * 13) % 11) as f32 - 5.0);
        let pit = Array2::from_shape_fn((h, w), |(i, j)| {
            let (dy, dx) = (i as f32 - 48.0, j as f32 - 48.0);
            let d = dx.hypot(dy);
            let cos = if d > 0.0 { dx / d } else { 0.0 };
            // Light from +x: the wall on the +x side faces away from it.
            texture(i, j) - 0.25 * cos * (-((d - 14.0) / 1.5).powi(2)).exp()
        });
        let rims = find_rims(&pit, &mask, (8.0, 24.0), 3.0, 0.05);
        assert_eq!(rims.len(), 1, "{rims:?}");
        assert!((rims[0].radius_px - 14.0).abs() < 1.5, "{:?}", rims[0]);
        let line = Array2::from_shape_fn((h, w), |(i, j)| {
            let d = (i as f32 - 0.8 * j as f32 - 10.0).abs() / 1.28;
            texture(i, j) - 0.3 * (-(d / 1.0).powi(2)).exp()
        });
        assert!(find_rims(&line, &mask, (8.0, 24.0), 3.0, 0.05).is_empty());
    }

    /// A field of dark specks (pores) has strong gradients in every direction around any
    /// point, but the strongest wall along each ray jumps from speck to speck: no smooth
    /// closed curve, no rim.
    #[test]
    fn scattered_pores_are_not_a_rim() {
        let (h, w) = (128, 128);
        let mask = Array2::from_elem((h, w), true);
        let hash = |k: u32| {
            let mut x = k.wrapping_mul(0x9E37_79B1) ^ 0x85EB_CA77;
            x ^= x >> 15;
            x = x.wrapping_mul(0x2C1B_3C6D);
            x ^= x >> 12;
            x
        };
        let specks: Vec<(f32, f32)> = (0..220)
            .map(|k| ((hash(2 * k) % 128) as f32, (hash(2 * k + 1) % 128) as f32))
            .collect();
        let field = Array2::from_shape_fn((h, w), |(i, j)| {
            let texture = 0.004 * (((i * 7 + j * 13) % 11) as f32 - 5.0);
            let dark: f32 = specks
                .iter()
                .map(|&(x, y)| (-((j as f32 - x).powi(2) + (i as f32 - y).powi(2)) / 2.0).exp())
                .fold(0.0, f32::max);
            texture - 0.3 * dark
        });
        let found = find_rims(&field, &mask, (8.0, 24.0), 2.5, 0.05);
        assert!(
            found.is_empty(),
            "{:?}",
            found
                .iter()
                .map(|r| (r.cx, r.cy, r.evidence.misfit))
                .collect::<Vec<_>>()
        );
    }
}
