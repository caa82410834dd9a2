//! Cross-sections of a detected line: its width and contrast measured on the pseudo-height
//! itself, and the test that tells a hair lying on the skin from a fine line.
//!
//! ```text
//! P(t)     = mean_{|u| ≤ a} z(p + t·n + u·e),  t = −r … r every ½ px   profile along the normal n,
//!            averaged over ±a along the line (direction e), a = lines.profile_along_mm
//! side     = mean of P over the outer fifth of the reach on both sides
//! contrast = side − min_{|t| ≤ r/2} P(t)                    valley depth, z units
//! FWHM     = distance between the two crossings of side − contrast/2 around the minimum
//! ```
//! r = max(lines.profile_reach_mm, 2 × the scale-space width 1.6651·σ*) in px. A line's width
//! and contrast are the medians over its skeleton pixels. The scale-space width (from the best
//! Hessian scale) is biased by the texture around a line; the profile is measured directly.
//!
//! **Hair.** A hair is an opaque fibre lying on the skin: narrow (terminal hair 0.05-0.1 mm,
//! beard up to 0.2 mm), dark and sharply bounded, with no relief. A wrinkle is a valley at least
//! about 0.15 mm wide; camera blur of up to 0.08 mm (σ) widens a 0.1 mm hair to about 0.2 mm at
//! half depth. A line whose median FWHM is at most `lines.hair_max_width_mm` (0.22 mm) and whose
//! median contrast is at least `lines.hair_min_contrast` (0.15) is taken for a hair and not
//! counted as a fine line: relief that narrow would have to be deeper than it is wide to be that
//! dark under diffuse light.

use ndarray::Array2;

/// Bilinear sample of `z` at (row, col), only from pixels inside `mask`; None outside.
pub(super) fn sample_inside(
    z: &Array2<f32>,
    mask: &Array2<bool>,
    row: f64,
    col: f64,
) -> Option<f64> {
    let (rows, cols) = z.dim();
    if row < 0.0 || col < 0.0 || row > (rows - 1) as f64 || col > (cols - 1) as f64 {
        return None;
    }
    let r0 = row.floor() as usize;
    let c0 = col.floor() as usize;
    let r1 = (r0 + 1).min(rows - 1);
    let c1 = (c0 + 1).min(cols - 1);
    let (u, t) = (row - r0 as f64, col - c0 as f64);
    let mut acc = 0.0;
    let mut wsum = 0.0;
    for (r, c, w) in [
        (r0, c0, (1.0 - u) * (1.0 - t)),
        (r0, c1, (1.0 - u) * t),
        (r1, c0, u * (1.0 - t)),
        (r1, c1, u * t),
    ] {
        if mask[(r, c)] && w > 0.0 {
            acc += w * f64::from(z[(r, c)]);
            wsum += w;
        }
    }
    (wsum > 0.25).then(|| acc / wsum)
}

/// Cross-section of a line at image pixel `(row, col)` with line direction `theta`: the full width
/// at half depth (px) and the contrast (side level minus the lowest level near the centre, z
/// units) of z sampled every ½ px along the normal out to `reach` px, each sample the mean of z
/// over ±`along` px along the line (½ px steps), so that the pores and furrows crossing the line
/// do not make its profile. The side level is the mean over the outer fifth of the reach on both
/// sides. `None` when too little of it is inside the zone.
pub(super) fn cross_profile(
    z: &Array2<f32>,
    mask: &Array2<bool>,
    (row, col): (f64, f64),
    theta: f64,
    reach: f64,
    along: f64,
) -> Option<(f64, f64)> {
    // Normal and tangent in (row, col); the line runs (cos θ, −sin θ) in (x, y).
    let (nr, nc) = (-theta.cos(), -theta.sin());
    let (er, ec) = (-theta.sin(), theta.cos());
    let n = (2.0 * reach).ceil() as i64;
    let m = (2.0 * along).round() as i64;
    let samples: Vec<Option<f64>> = (-n..=n)
        .map(|i| {
            let t = i as f64 * 0.5;
            let (mut sum, mut count) = (0.0, 0usize);
            for j in -m..=m {
                let u = j as f64 * 0.5;
                if let Some(v) =
                    sample_inside(z, mask, row + t * nr + u * er, col + t * nc + u * ec)
                {
                    sum += v;
                    count += 1;
                }
            }
            (count > m as usize).then(|| sum / count as f64)
        })
        .collect();
    let outer = (0.8 * reach * 2.0) as i64;
    let sides: Vec<f64> = (-n..=n)
        .filter(|i| i.abs() >= outer)
        .filter_map(|i| samples[(i + n) as usize])
        .collect();
    if sides.len() < 2 {
        return None;
    }
    let side = sides.iter().sum::<f64>() / sides.len() as f64;
    let half_reach = n / 2;
    let (imin, vmin) = (-half_reach..=half_reach)
        .filter_map(|i| samples[(i + n) as usize].map(|v| (i, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    let contrast = side - vmin;
    if contrast <= 0.0 {
        return None;
    }
    let level = side - 0.5 * contrast;
    // Walk out from the minimum to the half-depth crossings (linear interpolation).
    let crossing = |dir: i64| -> Option<f64> {
        let mut i = imin;
        let mut prev = vmin;
        loop {
            let j = i + dir;
            if j.abs() > n {
                return None;
            }
            let v = samples[(j + n) as usize]?;
            if v >= level {
                let f = (level - prev) / (v - prev);
                return Some((i as f64 + dir as f64 * f) * 0.5);
            }
            prev = v;
            i = j;
        }
    };
    let (left, right) = (crossing(-1)?, crossing(1)?);
    Some((right - left, contrast))
}

/// Median full width at half depth (px) and median contrast of a line's cross-sections (NaN
/// without any).
pub(super) fn median_profile(profiles: &[(f64, f64)]) -> (f64, f64) {
    if profiles.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let med = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (
        med(profiles.iter().map(|p| p.0).collect()),
        med(profiles.iter().map(|p| p.1).collect()),
    )
}
