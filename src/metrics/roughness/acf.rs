//! The masked autocorrelation function (ISO 25178-2) and its parameters Sal and Str; see the
//! family doc in [`super`].

use ndarray::{Array2, ArrayView2};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

use super::ACF_WINDOW_PX;
use super::areal::{FLAT, height_and_slope_sums};
use crate::metrics::{MetricValue, Missing};

/// A masked, unbiased, linear autocorrelation function over lags `|ty| ≤ ly`, `|tx| ≤ lx`.
#[derive(Debug, Clone, PartialEq)]
pub struct Acf {
    /// `values[[ty + ly, tx + lx]]`: mean of c(x)·c(x+t) over the pairs with both pixels in the
    /// mask (not normalised to 1); NaN where no such pair exists.
    pub values: Array2<f64>,
    /// Number of such pairs per lag.
    pub counts: Array2<f64>,
    pub ly: usize,
    pub lx: usize,
}

impl Acf {
    /// The value at zero lag (the mean square of the centred heights).
    pub fn zero_lag(&self) -> f64 {
        self.values[[self.ly, self.lx]]
    }
}

/// Smallest n' ≥ n of the form 2^a·3^b·5^c (fast FFT length).
fn fft_len(n: usize) -> usize {
    let mut m = n.max(1);
    loop {
        let mut k = m;
        for p in [2, 3, 5] {
            while k.is_multiple_of(p) {
                k /= p;
            }
        }
        if k == 1 {
            return m;
        }
        m += 1;
    }
}

fn transpose(src: &[Complex64], rows: usize, cols: usize, dst: &mut [Complex64]) {
    const B: usize = 32;
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                for c in c0..(c0 + B).min(cols) {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
}

/// The masked linear autocorrelation of `z` over `mask`, for lags up to `max_lag_px` (capped at
/// the map size − 1).
///
/// ```text
/// c(x)   = z(x) − mean_M(z)
/// ACF(t) = Σ_x c(x)·c(x+t)·M(x)·M(x+t) / Σ_x M(x)·M(x+t)
/// ```
/// Computed exactly (up to rounding, ~1e−15 relative to ACF(0)) with two complex FFTs of size
/// ≥ (n + max lag) per axis: zero padding by the lag makes the circular correlation linear, and
/// c·M and M are packed as the real and imaginary parts of one signal. On a full mask this is
/// surfalize 0.19.2's `calculate_autocorrelation` (fftconvolve 'full' divided by the overlap
/// count (ny−|ty|)(nx−|tx|)). Pair counts are integers and are rounded after the FFT.
///
/// # Panics
/// If `z` and `mask` differ in shape or are empty.
pub fn masked_acf<T: Copy + Into<f64>>(
    z: ArrayView2<'_, T>,
    mask: ArrayView2<'_, bool>,
    max_lag_px: usize,
) -> Acf {
    assert_eq!(z.dim(), mask.dim(), "height map and mask differ in shape");
    let (ny, nx) = z.dim();
    assert!(ny > 0 && nx > 0, "empty height map");
    let ly = max_lag_px.min(ny - 1);
    let lx = max_lag_px.min(nx - 1);
    let (mut sum, mut n) = (0.0f64, 0usize);
    for (&v, &m) in z.iter().zip(mask.iter()) {
        if m {
            sum += v.into();
            n += 1;
        }
    }
    let mean = if n > 0 { sum / n as f64 } else { 0.0 };
    let py = fft_len(ny + ly);
    let px = fft_len(nx + lx);
    let mut buf = vec![Complex64::new(0.0, 0.0); py * px];
    for r in 0..ny {
        for c in 0..nx {
            if mask[[r, c]] {
                buf[r * px + c] = Complex64::new(z[[r, c]].into() - mean, 1.0);
            }
        }
    }
    let mut planner = FftPlanner::<f64>::new();
    let fwd_x = planner.plan_fft_forward(px);
    let fwd_y = planner.plan_fft_forward(py);
    let inv_x = planner.plan_fft_inverse(px);
    let inv_y = planner.plan_fft_inverse(py);
    fwd_x.process(&mut buf);
    let mut tr = vec![Complex64::new(0.0, 0.0); py * px];
    transpose(&buf, py, px, &mut tr);
    fwd_y.process(&mut tr);
    // tr[kx * py + ky] = X(ky, kx). With x = a + i·b (a = c·M, b = M real):
    // A = (X(k) + conj X(−k))/2, B = (X(k) − conj X(−k))/(2i); the spectra of a⋆a and b⋆b are
    // |A|² and |B|², both real, so one inverse FFT of |A|² + i|B|² yields both correlations.
    for kx in 0..px {
        let nkx = (px - kx) % px;
        for ky in 0..py {
            let nky = (py - ky) % py;
            let xk = tr[kx * py + ky];
            let xn = tr[nkx * py + nky].conj();
            let a2 = (xk + xn).norm_sqr() * 0.25;
            let b2 = (xk - xn).norm_sqr() * 0.25;
            buf[kx * py + ky] = Complex64::new(a2, b2);
        }
    }
    inv_y.process(&mut buf);
    transpose(&buf, px, py, &mut tr);
    inv_x.process(&mut tr);
    let scale = 1.0 / (py * px) as f64;
    let mut values = Array2::<f64>::from_elem((2 * ly + 1, 2 * lx + 1), f64::NAN);
    let mut counts = Array2::<f64>::zeros((2 * ly + 1, 2 * lx + 1));
    for i in 0..=2 * ly {
        let ry = (i + py - ly) % py;
        for j in 0..=2 * lx {
            let rx = (j + px - lx) % px;
            let v = tr[ry * px + rx] * scale;
            let count = v.im.round();
            if count >= 1.0 {
                values[[i, j]] = v.re / count;
                counts[[i, j]] = count;
            }
        }
    }
    Acf {
        values,
        counts,
        ly,
        lx,
    }
}

/// Sal, Str and the interpolation-free facts they rest on.
#[derive(Debug, Clone, PartialEq)]
pub struct AutocorrelationParameters {
    /// Autocorrelation length, mm.
    pub sal_mm: MetricValue,
    /// Texture aspect ratio, in (0, 1].
    pub str_ratio: MetricValue,
    /// ACF at zero lag (mean square of the centred heights, z units²).
    pub zero_lag: f64,
    /// s · ACF(0).
    pub threshold: f64,
    /// Number of outer-boundary lags of the region above the threshold (rays evaluated).
    pub edge_count: usize,
    /// Shortest and longest distance of those boundary lags from zero lag, mm.
    pub edge_min_distance_mm: f64,
    pub edge_max_distance_mm: f64,
    /// Whether the region above the threshold reaches the largest computed lag.
    pub touches_border: bool,
    /// Largest lag computed along y and x, mm.
    pub max_lag_y_mm: f64,
    pub max_lag_x_mm: f64,
}

/// Bilinear ACF value at fractional lag index (fy, fx); NaN if a corner has no pairs.
fn bilinear(values: &Array2<f64>, fy: f64, fx: f64) -> f64 {
    let (h, w) = values.dim();
    let y0 = (fy.floor() as usize).min(h - 1);
    let x0 = (fx.floor() as usize).min(w - 1);
    let y1 = (y0 + 1).min(h - 1);
    let x1 = (x0 + 1).min(w - 1);
    let (ty, tx) = (fy - y0 as f64, fx - x0 as f64);
    let top = values[[y0, x0]] * (1.0 - tx) + values[[y0, x1]] * tx;
    let bottom = values[[y1, x0]] * (1.0 - tx) + values[[y1, x1]] * tx;
    top * (1.0 - ty) + bottom * ty
}

/// Sal and Str (ISO 25178-2) from an ACF, with threshold `s` and pixel step `step_mm`.
///
/// ```text
/// θ    = s · ACF(0)                                 threshold (zero lag, not global maximum)
/// R    = 4-connected component of {t : ACF(t) > θ} holding t = 0
/// E    = lags outside R that are 4-adjacent to R    (the outer boundary)
/// d(e) = h · |e| · u*(e)   for e ∈ E,  u*(e) = first u ∈ (0, 1] with ACF_bilin(u·e) = θ
/// Sal  = min_E d(e)          Str = min_E d(e) / max_E d(e)
/// ```
/// h = `step_mm`; ACF_bilin is the bilinearly interpolated ACF, sampled along each ray at
/// spacing ≤ 0.05 lag pixel, and the crossing u* is interpolated linearly between the last
/// sample above θ and the first at or below it. Lags without pairs count as below θ.
///
/// The region R, the boundary E and θ are surfalize 0.19.2's (`_calculate_decay_lengths`);
/// surfalize instead samples a cubic B-spline (`map_coordinates(order=3)`) at 1000 points per
/// ray and takes the argmin of |ACF − θ|. On the reference fixtures the two Sal agree within
/// 1.5 % (asserted: 2 %) and Str within 0.004 (asserted: 0.01); see `tests/reference_roughness.rs`.
///
/// # Errors
/// Missing for a flat surface (ACF(0) ≤ 0). Str is missing when R reaches the largest computed
/// lag (the longest decay length is unknown; surfalize returns NaN there). Sal is then missing
/// too unless it is shorter than the smallest lag limit, so that no nearer crossing can lie
/// outside the computed lags.
pub fn sal_str(acf: &Acf, s: f64, step_mm: f64) -> Result<AutocorrelationParameters, Missing> {
    let v = &acf.values;
    let (h, w) = v.dim();
    let (cy, cx) = (acf.ly, acf.lx);
    let zero = acf.zero_lag();
    if zero.is_nan() || zero <= 0.0 {
        return Err(Missing::new(FLAT));
    }
    let threshold = s * zero;
    // 4-connected region above the threshold, grown from zero lag (explicit stack, raster order).
    let mut region = Array2::<bool>::from_elem((h, w), false);
    let mut stack = vec![(cy, cx)];
    region[[cy, cx]] = true;
    let mut touches_border = false;
    while let Some((r, c)) = stack.pop() {
        if r == 0 || c == 0 || r + 1 == h || c + 1 == w {
            touches_border = true;
        }
        let mut visit = |rr: usize, cc: usize| {
            if !region[[rr, cc]] && v[[rr, cc]] > threshold {
                region[[rr, cc]] = true;
                stack.push((rr, cc));
            }
        };
        if r > 0 {
            visit(r - 1, c);
        }
        if r + 1 < h {
            visit(r + 1, c);
        }
        if c > 0 {
            visit(r, c - 1);
        }
        if c + 1 < w {
            visit(r, c + 1);
        }
    }
    let mut decay = Vec::new();
    let (mut dmin, mut dmax) = (f64::INFINITY, 0.0f64);
    for r in 0..h {
        for c in 0..w {
            if region[[r, c]] {
                continue;
            }
            let adjacent = (r > 0 && region[[r - 1, c]])
                || (r + 1 < h && region[[r + 1, c]])
                || (c > 0 && region[[r, c - 1]])
                || (c + 1 < w && region[[r, c + 1]]);
            if !adjacent {
                continue;
            }
            let (ey, ex) = (r as f64 - cy as f64, c as f64 - cx as f64);
            let len_px = ey.hypot(ex);
            dmin = dmin.min(len_px * step_mm);
            dmax = dmax.max(len_px * step_mm);
            let samples = ((len_px / 0.05).ceil() as usize).max(2);
            let mut prev_u = 0.0;
            let mut prev_v = zero;
            let mut u_star = 1.0;
            for k in 1..=samples {
                let u = k as f64 / samples as f64;
                let val = bilinear(v, cy as f64 + u * ey, cx as f64 + u * ex);
                if val.is_nan() {
                    u_star = u;
                    break;
                }
                if val <= threshold {
                    u_star = prev_u + (u - prev_u) * (prev_v - threshold) / (prev_v - val);
                    break;
                }
                prev_u = u;
                prev_v = val;
            }
            decay.push(u_star * len_px * step_mm);
        }
    }
    let max_lag_y_mm = cy as f64 * step_mm;
    let max_lag_x_mm = cx as f64 * step_mm;
    let (sal_mm, str_ratio) = if decay.is_empty() {
        let reason = "ACF stays above the threshold at every computed lag";
        (Err(Missing::new(reason)), Err(Missing::new(reason)))
    } else {
        let sal = decay.iter().copied().fold(f64::INFINITY, f64::min);
        let longest = decay.iter().copied().fold(0.0, f64::max);
        let limit = max_lag_y_mm.min(max_lag_x_mm);
        let sal_v = if touches_border && sal > limit {
            Err(Missing::new(format!(
                "ACF does not decay below s within the computed lags (+-{limit:.3} mm)"
            )))
        } else {
            Ok(sal)
        };
        let str_v = if touches_border {
            Err(Missing::new(format!(
                "ACF does not decay below s within the computed lags (+-{max_lag_y_mm:.3} mm in y, \
                 +-{max_lag_x_mm:.3} mm in x) in some direction: longest decay length unknown"
            )))
        } else {
            Ok(sal / longest)
        };
        (sal_v, str_v)
    };
    Ok(AutocorrelationParameters {
        sal_mm,
        str_ratio,
        zero_lag: zero,
        threshold,
        edge_count: decay.len(),
        edge_min_distance_mm: dmin,
        edge_max_distance_mm: dmax,
        touches_border,
        max_lag_y_mm,
        max_lag_x_mm,
    })
}

/// The window (y0, x0, height, width) of at most `window_px` per side that holds the most mask
/// pixels; candidates on a grid of step window/8 plus the far edge; first maximum in raster
/// order.
fn densest_window(mask: ArrayView2<'_, bool>, window_px: usize) -> (usize, usize, usize, usize) {
    let (ny, nx) = mask.dim();
    let (h, w) = (ny.min(window_px), nx.min(window_px));
    // A full mask: every window holds h·w pixels, the first in raster order wins.
    if (h == ny && w == nx) || mask.iter().all(|&m| m) {
        return (0, 0, h, w);
    }
    let positions = |n: usize, size: usize| {
        let mut p: Vec<usize> = (0..=n - size).step_by((size / 8).max(1)).collect();
        if p.last() != Some(&(n - size)) {
            p.push(n - size);
        }
        p
    };
    let (ys, xs) = (positions(ny, h), positions(nx, w));
    // Corner counts I(R, C) = mask pixels in rows < R and columns < C, only at the window
    // corners: one pass down the rows with per-column running counts.
    let marks = |p: &[usize], size: usize| {
        let mut m: Vec<usize> = p.iter().flat_map(|&v| [v, v + size]).collect();
        m.sort_unstable();
        m.dedup();
        m
    };
    let (row_marks, col_marks) = (marks(&ys, h), marks(&xs, w));
    let mut column_counts = vec![0u64; nx];
    let mut corner = Array2::<u64>::zeros((row_marks.len(), col_marks.len()));
    let mut next_row = 0;
    for r in 0..=ny {
        if next_row < row_marks.len() && row_marks[next_row] == r {
            let (mut running, mut next_col) = (0u64, 0);
            for (c, &count) in column_counts.iter().chain([&0]).enumerate() {
                if next_col < col_marks.len() && col_marks[next_col] == c {
                    corner[[next_row, next_col]] = running;
                    next_col += 1;
                }
                running += count;
            }
            next_row += 1;
        }
        if r < ny {
            for (count, &m) in column_counts.iter_mut().zip(mask.row(r)) {
                *count += u64::from(m);
            }
        }
    }
    let at = |r: usize, c: usize| {
        let i = row_marks.binary_search(&r).expect("row mark");
        let j = col_marks.binary_search(&c).expect("column mark");
        corner[[i, j]]
    };
    let mut best = (0u64, 0usize, 0usize);
    let mut first = true;
    for &y in &ys {
        for &x in &xs {
            let count = at(y + h, x + w) + at(y, x) - at(y, x + w) - at(y + h, x);
            if first || count > best.0 {
                best = (count, y, x);
                first = false;
            }
        }
    }
    (best.1, best.2, h, w)
}

/// Sal and Str of a masked height map: [`masked_acf`] with lags up to `max_lag_mm`, then
/// [`sal_str`] with threshold `s`.
///
/// Maps larger than [`ACF_WINDOW_PX`] per side are analysed on the window of that size holding
/// the most mask pixels, at full resolution (decimating instead would bias Sal, which on skin is
/// only a few pixels). With lags up to L px the cost is two complex FFTs of about
/// (1024 + L)² points, whatever the zone size.
///
/// # Errors
/// Missing for an empty mask or a flat surface; see [`sal_str`].
pub fn autocorrelation_parameters<T: Copy + Into<f64>>(
    z: ArrayView2<'_, T>,
    mask: ArrayView2<'_, bool>,
    step_mm: f64,
    s: f64,
    max_lag_mm: f64,
) -> Result<AutocorrelationParameters, Missing> {
    assert_eq!(z.dim(), mask.dim(), "height map and mask differ in shape");
    if !mask.iter().any(|&m| m) {
        return Err(Missing::new("empty zone"));
    }
    let (y0, x0, h, w) = densest_window(mask, ACF_WINDOW_PX);
    let window = ndarray::s![y0..y0 + h, x0..x0 + w];
    let (zw, mw) = (z.slice(window), mask.slice(window));
    // Flatness from the data: the FFT leaves a rounding residue (~1e−16 of the packed energy)
    // at zero lag even for a constant map. The densest window of a non-empty mask holds at
    // least one mask pixel.
    let (stats, _) = height_and_slope_sums(zw, mw, None)?;
    if stats.flat() {
        return Err(Missing::new(FLAT));
    }
    let max_lag_px = ((max_lag_mm / step_mm).round() as usize).max(1);
    let acf = masked_acf(zw, mw, max_lag_px);
    sal_str(&acf, s, step_mm)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{full, noise};
    use super::*;
    use crate::imgops::gaussian::gaussian_blur;

    /// The FFT ACF against the defining double sum, on a masked map with holes.
    #[test]
    fn fft_acf_equals_direct_sum() {
        let (h, w) = (23, 31);
        let z = noise(h, w, 7);
        let m = noise(h, w, 8).mapv(|v| v > -0.6);
        let acf = masked_acf(z.view(), m.view(), 9);
        let (mut sum, mut n) = (0.0f64, 0.0f64);
        for (&v, &k) in z.iter().zip(m.iter()) {
            if k {
                sum += f64::from(v);
                n += 1.0;
            }
        }
        let mean = sum / n;
        for ty in -9isize..=9 {
            for tx in -9isize..=9 {
                let (mut num, mut cnt) = (0.0f64, 0.0f64);
                for r in 0..h as isize {
                    for c in 0..w as isize {
                        let (r2, c2) = (r + ty, c + tx);
                        if r2 < 0 || c2 < 0 || r2 >= h as isize || c2 >= w as isize {
                            continue;
                        }
                        let (a, b) = ([r as usize, c as usize], [r2 as usize, c2 as usize]);
                        if m[a] && m[b] {
                            num += (f64::from(z[a]) - mean) * (f64::from(z[b]) - mean);
                            cnt += 1.0;
                        }
                    }
                }
                let idx = [(ty + 9) as usize, (tx + 9) as usize];
                assert_eq!(acf.counts[idx], cnt);
                assert!(
                    (acf.values[idx] - num / cnt).abs() < 1e-13,
                    "lag ({ty},{tx})"
                );
            }
        }
    }

    /// z = sin(2πx/λ)·cos(2πy/Λ): ACF ≈ cos(2πtx/λ)·cos(2πty/Λ), so the decay lengths are
    /// λ·acos(s)/2π along x and Λ·acos(s)/2π along y: Sal = 0.0872 mm, Str ≈ λ/Λ = 0.1.
    #[test]
    fn directional_texture_has_low_str() {
        let (lam, big_lam, step) = (8.0, 80.0, 0.05);
        let tau = std::f64::consts::TAU;
        let z = Array2::from_shape_fn((240, 240), |(r, c)| {
            (tau * c as f64 / lam).sin() * (tau * r as f64 / big_lam).cos()
        });
        let a =
            autocorrelation_parameters(z.view(), full(240, 240).view(), step, 0.2, 4.0).unwrap();
        let sal = a.sal_mm.unwrap();
        let want = lam * 0.2f64.acos() / tau * step;
        assert!((sal - want).abs() < 0.05 * want, "Sal {sal} vs {want}");
        let str_ratio = a.str_ratio.unwrap();
        assert!(str_ratio < 0.3 && str_ratio > 0.05, "Str {str_ratio}");
        // A 1-D texture never decays along y: Str is missing, not a made-up ratio.
        let z = Array2::from_shape_fn((120, 120), |(_, c)| (tau * c as f64 / lam).sin());
        let a =
            autocorrelation_parameters(z.view(), full(120, 120).view(), step, 0.2, 4.0).unwrap();
        assert!(a.str_ratio.is_err());
        assert!(a.sal_mm.is_ok());
    }

    #[test]
    fn isotropic_random_field_has_high_str() {
        let z = gaussian_blur(noise(256, 256, 3).view(), 2.0);
        let a =
            autocorrelation_parameters(z.view(), full(256, 256).view(), 0.05, 0.2, 4.0).unwrap();
        let str_ratio = a.str_ratio.unwrap();
        assert!(str_ratio > 0.5, "Str {str_ratio}");
        // Gaussian-smoothed white noise: ACF = exp(−t²/(4σ²)), so ACF = 0.2 at t = 2σ·sqrt(ln 5).
        let want = 2.0 * 2.0 * 5f64.ln().sqrt() * 0.05;
        let sal = a.sal_mm.unwrap();
        assert!(sal < want && sal > 0.7 * want, "Sal {sal} vs {want}");
    }

    /// The window search against a brute-force count at every candidate position.
    #[test]
    fn densest_window_matches_brute_force() {
        for (ny, nx, win, seed) in [(70, 90, 32, 1u64), (64, 40, 16, 2), (33, 130, 33, 3)] {
            let z = noise(ny, nx, seed);
            let mask = Array2::from_shape_fn((ny, nx), |(r, c)| {
                z[[r, c]] > 0.3 && (r * 3 + c) % 7 != 0 && c + r > 20
            });
            let (h, w) = (ny.min(win), nx.min(win));
            let positions = |n: usize, size: usize| {
                let mut p: Vec<usize> = (0..=n - size).step_by((size / 8).max(1)).collect();
                if p.last() != Some(&(n - size)) {
                    p.push(n - size);
                }
                p
            };
            let mut best = (0usize, 0, 0);
            let mut first = true;
            for &y in &positions(ny, h) {
                for &x in &positions(nx, w) {
                    let count = mask
                        .slice(ndarray::s![y..y + h, x..x + w])
                        .iter()
                        .filter(|&&m| m)
                        .count();
                    if first || count > best.0 {
                        best = (count, y, x);
                        first = false;
                    }
                }
            }
            assert_eq!(densest_window(mask.view(), win), (best.1, best.2, h, w));
        }
        let full = Array2::from_elem((50, 60), true);
        assert_eq!(densest_window(full.view(), 20), (0, 0, 20, 20));
    }
}
