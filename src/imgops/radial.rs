//! Angular-mean radial profiles about a point, and where a profile rises back to a level: the
//! sizing of round depressions (pores, scars) by their width at a given depth.

use ndarray::ArrayView2;

/// Rays of the closure test [`closed_on_every_side`].
pub const SIDES: usize = 8;
/// A closed depression rises by at least this share of its depth along every ray between 1.5
/// and 2.5 half-depth radii: a Gaussian pit by 80-99 %, a cone by 100 %, a raised-cosine bowl
/// by 85-100 %; the end of a line or a groove rises by nothing along its length.
pub const CLOSED_RISE: f64 = 0.5;

/// Angular-mean radial profile of `z` about `(cx, cy)` (column, row) in `nbins` bins of `bin` px:
/// `(mean, count)` per bin over the pixels inside `mask` (mean NaN where the count is 0).
/// Pixel p falls in bin ⌊|p − c| / bin⌋; pixels are summed in row-major order.
pub fn radial_profile(
    z: ArrayView2<f32>,
    mask: ArrayView2<bool>,
    (cx, cy): (f64, f64),
    nbins: usize,
    bin: f64,
) -> Vec<(f64, usize)> {
    let reach = nbins as f64 * bin;
    let mut sums = vec![(0.0f64, 0usize); nbins];
    let (rows, cols) = disk_window((cx, cy), reach, z.dim());
    for i in rows {
        for j in cols.clone() {
            if !mask[(i, j)] {
                continue;
            }
            let rho = ((i as f64 - cy).powi(2) + (j as f64 - cx).powi(2)).sqrt();
            let k = (rho / bin) as usize;
            if k < nbins {
                sums[k].0 += f64::from(z[(i, j)]);
                sums[k].1 += 1;
            }
        }
    }
    sums.into_iter()
        .map(|(s, n)| (if n > 0 { s / n as f64 } else { f64::NAN }, n))
        .collect()
}

/// First radius (px) at which `profile` (bins of `bin` px, as [`radial_profile`] gives) rises
/// back to `level`, linearly interpolated between bin centres; None when it never does. Empty
/// bins are skipped.
pub fn profile_crossing(profile: &[(f64, usize)], level: f64, bin: f64) -> Option<f64> {
    let mut prev: Option<(f64, f64)> = None;
    for (k, &(v, n)) in profile.iter().enumerate() {
        if n == 0 || !v.is_finite() {
            continue;
        }
        let rho = (k as f64 + 0.5) * bin;
        if v >= level {
            return Some(match prev {
                Some((r_prev, v_prev)) if v > v_prev => {
                    r_prev + (rho - r_prev) * (level - v_prev) / (v - v_prev)
                }
                _ => rho,
            });
        }
        prev = Some((rho, v));
    }
    None
}

/// The rows and columns of a `(h, w)` grid that a disk of radius `reach` about `(cx, cy)`
/// (column, row; px) can touch: its bounding box, clipped to the grid.
pub fn disk_window(
    (cx, cy): (f64, f64),
    reach: f64,
    (h, w): (usize, usize),
) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let r0 = (cy - reach).floor().max(0.0) as usize;
    let r1 = ((cy + reach).ceil().max(0.0) as usize + 1).min(h);
    let c0 = (cx - reach).floor().max(0.0) as usize;
    let c1 = ((cx + reach).ceil().max(0.0) as usize + 1).min(w);
    (r0..r1, c0..c1)
}

/// z at `(x, y)` (column, row; px), bilinear between the four neighbouring pixels; None
/// outside the image or when any of the four is outside `mask`.
pub fn sample_bilinear(z: ArrayView2<f32>, mask: ArrayView2<bool>, x: f64, y: f64) -> Option<f64> {
    let (h, w) = z.dim();
    if !(x >= 0.0 && y >= 0.0 && x <= (w - 1) as f64 && y <= (h - 1) as f64) {
        return None;
    }
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    if !(mask[(y0, x0)] && mask[(y0, x1)] && mask[(y1, x0)] && mask[(y1, x1)]) {
        return None;
    }
    let (fx, fy) = (x - x0 as f64, y - y0 as f64);
    let at = |r: usize, c: usize| f64::from(z[(r, c)]);
    Some(
        (at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx) * (1.0 - fy)
            + (at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx) * fy,
    )
}

/// Smallest rise above `centre` of the pseudo-height over [`SIDES`] rays from `(cx, cy)`: the
/// mean of z along each ray from 1.5 to 2.5 times the half-depth radius `half` (px), bilinearly
/// sampled, minus `centre`. A pit closed on every side rises by most of its contrast in every
/// direction; a line's end or a groove rises by nothing along the groove.
fn weakest_side_rise(
    z: ArrayView2<f32>,
    mask: ArrayView2<bool>,
    (cx, cy): (f64, f64),
    half: f64,
    centre: f64,
) -> f64 {
    let sample = |x: f64, y: f64| sample_bilinear(z, mask, x, y);
    let mut weakest = f64::INFINITY;
    for k in 0..SIDES {
        let phi = std::f64::consts::TAU * k as f64 / SIDES as f64;
        let (dx, dy) = (phi.cos(), phi.sin());
        let (mut sum, mut n) = (0.0, 0usize);
        for i in 0..=4 {
            let rho = half * (1.5 + 0.25 * i as f64);
            if let Some(v) = sample(cx + rho * dx, cy + rho * dy) {
                sum += v;
                n += 1;
            }
        }
        // A ray that leaves the zone says nothing about closure.
        if n > 0 {
            weakest = weakest.min(sum / n as f64 - centre);
        }
    }
    weakest
}

/// The closure test of pores and scars: whether the depression at `(cx, cy)` with half-depth
/// radius `half` (px), floor `centre` and depth `depth` rises by at least [`CLOSED_RISE`] of
/// its depth along each of [`SIDES`] rays: the mean of z along each ray from 1.5 to 2.5 times
/// `half`, bilinearly sampled (a ray that leaves `mask` says nothing).
pub fn closed_on_every_side(
    z: ArrayView2<f32>,
    mask: ArrayView2<bool>,
    centre_xy: (f64, f64),
    half: f64,
    centre: f64,
    depth: f64,
) -> bool {
    // Rejected only on a rise measurably below the bound (a NaN rise or depth is not).
    weakest_side_rise(z, mask, centre_xy, half, centre).partial_cmp(&(CLOSED_RISE * depth))
        != Some(std::cmp::Ordering::Less)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// A cone z = ρ about a pixel centre: bin k holds the pixels at k·bin ≤ ρ < (k+1)·bin, and
    /// the profile crosses level L at about L.
    #[test]
    fn cone_profile_and_crossing() {
        let z = Array2::from_shape_fn((41, 41), |(i, j)| {
            ((i as f32 - 20.0).powi(2) + (j as f32 - 20.0).powi(2)).sqrt()
        });
        let mask = Array2::from_elem((41, 41), true);
        let p = radial_profile(z.view(), mask.view(), (20.0, 20.0), 20, 0.5);
        assert_eq!(p[0], (0.0, 1));
        assert_eq!(p[1].1, 0, "no pixel at 0.5 <= rho < 1");
        // Bin 2 (1 <= rho < 1.5): the 4 axial neighbours at 1 and the 4 diagonal ones at √2.
        assert_eq!(p[2].1, 8);
        assert!((p[2].0 - 0.5 * (1.0 + std::f64::consts::SQRT_2)).abs() < 1e-6);
        for (k, &(v, n)) in p.iter().enumerate() {
            if n > 0 {
                assert!(v >= k as f64 * 0.5 && v < (k + 1) as f64 * 0.5, "{k}: {v}");
            }
        }
        let r = profile_crossing(&p, 6.0, 0.5).unwrap();
        assert!((r - 6.0).abs() < 0.5, "{r}");
        assert_eq!(profile_crossing(&p, 100.0, 0.5), None);
        // A masked-out centre leaves its bin empty.
        let mut m = mask.clone();
        m[(20, 20)] = false;
        let q = radial_profile(z.view(), m.view(), (20.0, 20.0), 4, 0.5);
        assert_eq!(q[0].1, 0);
        assert!(q[0].0.is_nan());
    }
}
