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
//!
//! **Hair by its colour** ([`chroma_ratio`]). Camera blur can widen a hair past that limit
//! (0.24 mm measured on blurred phantoms), and its colour still tells it: across the line,
//! `OD_c = ln(side_c / centre_c)` on linear red and blue, with the sides one width (FWHM, at
//! least 2 px) either way along the normal, and a line's ratio is the median of `OD_B / OD_R`
//! over its skeleton pixels darker in red by at least 0.02. A pigmented fibre (dark brown to
//! blond) lying on reddish skin darkens red, the channel skin reflects most, more than blue
//! (ratio below 1; blond hair about 0.4, black about 0.8); relief shading darkens every
//! channel by the same factor (ratio 1), and subsurface scattering, which carries red light
//! furthest (Anderson & Parrish 1981), fills a narrow shadow with red and raises it above 1;
//! melanin (a pigmented line or spot) absorbs blue about 2.8 times more than red. A line whose
//! ratio is below `lines.hair_max_chroma_ratio` (0.9) is taken for a hair. Limit: a dark hair
//! much thinner than a pixel covers a share of each pixel it crosses and darkens every channel
//! by that same factor (ratio 1, as shading; 0.96-1.03 measured on four such hairs of the
//! validation phantoms): only the width test can take it.

use ndarray::Array2;

use super::skeleton::principal_axis;

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

/// Fewest skeleton pixels with a usable darkening for a line's colour ratio.
const MIN_CHROMA_SAMPLES: usize = 10;
/// Smallest red optical density of a sample: a line darker in red than this.
const MIN_RED_OD: f64 = 0.02;

/// Median `OD_B / OD_R` across a line (module doc, Hair by its colour): `pixels` its skeleton
/// (image px), `width_px` its FWHM in image px, `linear_rb(y, x)` the linear red and blue of an
/// image pixel (None outside the image). None with fewer than `MIN_CHROMA_SAMPLES` samples.
pub(super) fn chroma_ratio(
    pixels: &[(u32, u32)],
    width_px: f64,
    linear_rb: impl Fn(i64, i64) -> Option<(f64, f64)>,
) -> Option<f64> {
    let offset = width_px.max(2.0);
    let mut ratios = Vec::new();
    for (k, &(x, y)) in pixels.iter().enumerate() {
        let Some((ex, ey)) = local_direction(pixels, k) else {
            continue;
        };
        let (nx, ny) = (-ey * offset, ex * offset);
        let (xf, yf) = (f64::from(x), f64::from(y));
        let at = |dx: f64, dy: f64| linear_rb((xf + dx).round() as i64, (yf + dy).round() as i64);
        let (Some(c), Some(a), Some(b)) = (at(0.0, 0.0), at(nx, ny), at(-nx, -ny)) else {
            continue;
        };
        if c.0 <= 0.0 || c.1 <= 0.0 {
            continue;
        }
        let od_r = (0.5 * (a.0 + b.0) / c.0).ln();
        let od_b = (0.5 * (a.1 + b.1) / c.1).ln();
        if od_r >= MIN_RED_OD && od_b.is_finite() {
            ratios.push(od_b / od_r);
        }
    }
    if ratios.len() < MIN_CHROMA_SAMPLES {
        return None;
    }
    let mid = ratios.len() / 2;
    Some(*ratios.select_nth_unstable_by(mid, f64::total_cmp).1)
}

/// Radius of the skeleton neighbourhood a pixel's local direction is taken from, px.
const DIRECTION_RADIUS_PX: i64 = 3;

/// Unit direction (x, y) of the skeleton at `pixels[k]`: the principal axis of the skeleton
/// pixels within `DIRECTION_RADIUS_PX` (Chebyshev) of it, at least three. `pixels` sorted by
/// (y, x).
fn local_direction(pixels: &[(u32, u32)], k: usize) -> Option<(f64, f64)> {
    let (x0, y0) = (i64::from(pixels[k].0), i64::from(pixels[k].1));
    let lo = pixels.partition_point(|p| i64::from(p.1) < y0 - DIRECTION_RADIUS_PX);
    let near: Vec<(f64, f64)> = pixels[lo..]
        .iter()
        .map(|p| (i64::from(p.0) - x0, i64::from(p.1) - y0))
        .take_while(|&(_, y)| y <= DIRECTION_RADIUS_PX)
        .filter(|&(x, _)| x.abs() <= DIRECTION_RADIUS_PX)
        .map(|(x, y)| (x as f64, y as f64))
        .collect();
    if near.len() < 3 {
        return None;
    }
    principal_axis(&near).map(|(_, v)| v)
}
