//! Scale-normalised Hessian eigenvalues and line orientation.
//!
//! ```text
//! L      = G_σ ∗ I                                  (exact FIR, 4σ truncation, reflect boundary)
//! Lxx(y, x) = L(y, x+1) − 2 L(y, x) + L(y, x−1)
//! Lyy(y, x) = L(y+1, x) − 2 L(y, x) + L(y−1, x)
//! Lxy(y, x) = [L(y+1, x+1) − L(y+1, x−1) − L(y−1, x+1) + L(y−1, x−1)] / 4
//! H      = σ² · [[Lxx, Lxy], [Lxy, Lyy]]             (γ = 2 normalisation, Lindeberg 1998)
//! μ±     = (Hxx + Hyy)/2 ± sqrt(((Hxx − Hyy)/2)² + Hxy²)
//! λ1, λ2 = μ± ordered so that |λ1| ≤ |λ2|
//! ```
//! x is the column index (rightwards), y the row index (downwards); σ is in pixels and the
//! eigenvalues are in image units (σ² cancels the px⁻² of the second derivatives). Derivatives are
//! central finite differences on the image blurred by the exact separable FIR of
//! [`gaussian_kernel`] (not sampled derivative kernels); the
//! differences add a bias equivalent to ≈ 1/12 px² of extra variance, negligible for σ ≥ 1.5 px.
//! The pyramid of [`gaussian_blur`] is NOT used: σ²-normalised
//! second differences amplify its interpolation ripple (period 2^L px) by ≈ 4σ², which measured
//! 4–14 % of max |λ2| at σ = 4–16 px. The cost therefore grows linearly with σ (≈ 4σ + 2
//! multiply-adds per pixel for the blur). Callers that need large scales decimate the image
//! themselves (see [`crate::metrics::lines`]). Differences reflect at the border like the blur
//! (half-sample symmetric), so the first derivative across an edge of the image is 0.
//!
//! Sign: a dark line (valley) on a bright background has λ2 > 0 across the line; a bright ridge
//! has λ2 < 0.
//!
//! Scale selection: for a line profile `−A·exp(−u²/(2w²))` (Gaussian cross-section of std w px),
//! ```text
//! σ²·∂²/∂u² (G_σ ∗ profile)(0) = A · w · σ² / (σ² + w²)^(3/2)
//! ```
//! which is maximal at σ = √2·w, with value 2A/(3√3) ≈ 0.385·A (Lindeberg 1998,
//! doi:10.1023/A:1008097225773; Frangi et al. 1998, doi:10.1007/BFb0056195).
//!
//! Orientation θ (radians, in (−π/2, π/2]) is the direction of the eigenvector of λ1, i.e. along
//! the line, measured from the +x (column) axis counter-clockwise as the image is displayed
//! (towards decreasing row index): a line rising to the right at 30° has θ = π/6; a vertical line
//! has θ = π/2. Where the two eigenvalues are equal (flat regions) θ is arbitrary (0 from
//! `atan2(0, 0)`).
//!
//! [`gaussian_kernel`]: crate::imgops::gaussian::gaussian_kernel
//! [`gaussian_blur`]: crate::imgops::gaussian::gaussian_blur

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::gaussian::{blur, reflect_index};
use super::simd::{fast_atan2, widest_simd};

/// Per-pixel eigen-decomposition of the scale-normalised Hessian, same shape as the input.
pub struct HessianEigen {
    /// Eigenvalue of smaller magnitude, σ²-normalised, image units.
    pub l1: Array2<f32>,
    /// Eigenvalue of larger magnitude, σ²-normalised, image units (> 0 across a dark line).
    pub l2: Array2<f32>,
    /// Line direction (eigenvector of `l1`), radians in (−π/2, π/2], counter-clockwise from
    /// the column axis as displayed.
    pub theta: Array2<f32>,
}

/// Eigenvalues (|λ1| ≤ |λ2|) and line orientation of `σ²·H(G_σ ∗ src)`; see the module docs for
/// the formulas, units and conventions. `sigma_px <= 0` uses the unblurred image with σ² = 1.
pub fn hessian_eigenvalues(src: ArrayView2<f32>, sigma_px: f32) -> HessianEigen {
    let smooth = blur(src, sigma_px, false, f32::INFINITY);
    eigen_of_blurred(&smooth, sigma_px, false)
}

/// [`hessian_eigenvalues`] split over rows with rayon; bit-identical results.
pub fn hessian_eigenvalues_par(src: ArrayView2<f32>, sigma_px: f32) -> HessianEigen {
    let smooth = blur(src, sigma_px, true, f32::INFINITY);
    eigen_of_blurred(&smooth, sigma_px, true)
}

/// The eigenvalues μ± = mean ± sqrt(half_diff² + b²) of the symmetric 2×2 matrix
/// [[a, b], [b, c]], with mean = (a + c)/2 and half_diff = (a − c)/2: `(mean, half_diff, μ+, μ−)`.
/// Always inlined, so that the row loops that call it vectorise, and the one place these bits
/// are computed.
#[inline(always)]
pub(crate) fn symmetric_mu(a: f32, b: f32, c: f32) -> (f32, f32, f32, f32) {
    let mean = 0.5 * (a + c);
    let half_diff = 0.5 * (a - c);
    let root = (half_diff * half_diff + b * b).sqrt();
    (mean, half_diff, mean + root, mean - root)
}

/// Eigenvalues of a symmetric 2×2 matrix [[a, b], [b, c]] ordered by magnitude, plus the
/// orientation (displayed counter-clockwise from +x) of the eigenvector of the small one.
/// Branch-free (selects) and always inlined, so that row loops that call it vectorise.
#[inline(always)]
pub(crate) fn eigen2(a: f32, b: f32, c: f32) -> (f32, f32, f32) {
    let (mean, half_diff, plus, minus) = symmetric_mu(a, b, c);
    // Angle of the μ+ eigenvector in (x right, y down) coordinates.
    let phi_plus = 0.5 * fast_atan2(b, half_diff);
    let (l1, l2, phi1) = if mean >= 0.0 {
        (minus, plus, phi_plus + std::f32::consts::FRAC_PI_2)
    } else {
        (plus, minus, phi_plus)
    };
    // y down → displayed counter-clockwise: negate, then wrap into (−π/2, π/2].
    let mut theta = -phi1;
    if theta <= -std::f32::consts::FRAC_PI_2 {
        theta += std::f32::consts::PI;
    } else if theta > std::f32::consts::FRAC_PI_2 {
        theta -= std::f32::consts::PI;
    }
    (l1, l2, theta)
}

widest_simd! {
    /// σ²-normalised second differences `(Hxx, Hxy, Hyy)` (the module doc's formulas times
    /// `norm`) of one row of a blurred image from the rows above, at and below (columns
    /// reflected at the ends), into `out` (each at least `mid.len()` long); compiled for the
    /// widest vector unit (exactly rounded operations only: the same bits on every machine).
    pub(crate) fn hessian_row(
        up: &[f32],
        mid: &[f32],
        down: &[f32],
        norm: f32,
        out: (&mut [f32], &mut [f32], &mut [f32]),
    ) {
        let (hxx, hxy, hyy) = out;
        let n = mid.len();
        let mut put = |j: usize, jl: usize, jr: usize| {
            let centre = mid[j];
            hxx[j] = norm * (mid[jr] - 2.0 * centre + mid[jl]);
            hyy[j] = norm * (down[j] - 2.0 * centre + up[j]);
            hxy[j] = norm * (0.25 * (down[jr] - down[jl] - up[jr] + up[jl]));
        };
        if n == 1 {
            put(0, 0, 0);
            return;
        }
        // Reflection: index −1 → 0 and n → n − 1.
        put(0, 0, 1);
        put(n - 1, n - 2, n - 1);
        // Interior: equal-length shifted slices so the loop has no bounds checks and vectorises.
        let len = n - 2;
        let (ul, uc, ur) = (&up[..len], &up[1..len + 1], &up[2..len + 2]);
        let (ml, mc, mr) = (&mid[..len], &mid[1..len + 1], &mid[2..len + 2]);
        let (dl, dc, dr) = (&down[..len], &down[1..len + 1], &down[2..len + 2]);
        let (oxx, oxy, oyy) = (
            &mut hxx[1..len + 1],
            &mut hxy[1..len + 1],
            &mut hyy[1..len + 1],
        );
        for k in 0..len {
            oxx[k] = norm * (mr[k] - 2.0 * mc[k] + ml[k]);
            oyy[k] = norm * (dc[k] - 2.0 * mc[k] + uc[k]);
            oxy[k] = norm * (0.25 * (dr[k] - dl[k] - ur[k] + ul[k]));
        }
    }
}

/// Hessian eigen-decomposition of one row from its blurred neighbours (reflected at the ends).
#[allow(clippy::too_many_arguments)]
fn eigen_row(
    up: &[f32],
    mid: &[f32],
    down: &[f32],
    norm: f32,
    scratch: &mut [Vec<f32>; 3],
    o1: &mut [f32],
    o2: &mut [f32],
    ot: &mut [f32],
) {
    let n = mid.len();
    for v in scratch.iter_mut() {
        v.resize(n, 0.0);
    }
    let [hxx, hxy, hyy] = scratch;
    hessian_row(up, mid, down, norm, (hxx, hxy, hyy));
    for j in 0..n {
        (o1[j], o2[j], ot[j]) = eigen2(hxx[j], hxy[j], hyy[j]);
    }
}

fn eigen_of_blurred(smooth: &Array2<f32>, sigma_px: f32, par: bool) -> HessianEigen {
    let (rows, cols) = smooth.dim();
    let norm = if sigma_px > 0.0 {
        sigma_px * sigma_px
    } else {
        1.0
    };
    let mut l1 = Array2::<f32>::zeros((rows, cols));
    let mut l2 = Array2::<f32>::zeros((rows, cols));
    let mut theta = Array2::<f32>::zeros((rows, cols));
    if rows == 0 || cols == 0 {
        return HessianEigen { l1, l2, theta };
    }
    let w = cols;
    let standard = smooth.as_standard_layout();
    let data = standard.as_slice().expect("standard layout");
    type RowOut<'a> = (usize, ((&'a mut [f32], &'a mut [f32]), &'a mut [f32]));
    let process = |scratch: &mut [Vec<f32>; 3], (i, ((o1, o2), ot)): RowOut| {
        let row = |k: usize| &data[k * w..(k + 1) * w];
        let up = row(reflect_index(i as isize - 1, rows));
        let down = row(reflect_index(i as isize + 1, rows));
        eigen_row(up, row(i), down, norm, scratch, o1, o2, ot);
    };
    let (s1, s2, st) = (
        l1.as_slice_mut().expect("fresh array"),
        l2.as_slice_mut().expect("fresh array"),
        theta.as_slice_mut().expect("fresh array"),
    );
    if par {
        s1.par_chunks_mut(w)
            .zip(s2.par_chunks_mut(w))
            .zip(st.par_chunks_mut(w))
            .enumerate()
            .for_each_init(Default::default, process);
    } else {
        let mut scratch = Default::default();
        s1.chunks_mut(w)
            .zip(s2.chunks_mut(w))
            .zip(st.chunks_mut(w))
            .enumerate()
            .for_each(|row| process(&mut scratch, row));
    }
    HessianEigen { l1, l2, theta }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dark Gaussian-profile line of depth `a` and std `w` px on a background of 1, through the
    /// image centre, at `angle` radians counter-clockwise (as displayed) from the column axis.
    fn dark_line(n: usize, w: f32, a: f32, angle: f32) -> Array2<f32> {
        let c = (n as f32 - 1.0) / 2.0;
        let (s, co) = angle.sin_cos();
        Array2::from_shape_fn((n, n), |(r, col)| {
            // Unit normal of the line in (col, row) coordinates is (sin θ, cos θ).
            let d = (col as f32 - c) * s + (r as f32 - c) * co;
            1.0 - a * (-d * d / (2.0 * w * w)).exp()
        })
    }

    #[test]
    fn eigen2_known_values() {
        // diag(3, -1): λ1 = −1, λ2 = 3; μ+ eigenvector along x, so the line runs along y.
        let (l1, l2, t) = eigen2(3.0, 0.0, -1.0);
        assert_eq!((l1, l2), (-1.0, 3.0));
        assert!((t - std::f32::consts::FRAC_PI_2).abs() < 1e-6, "{t}");
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3; λ1 = 1 has eigenvector (1, −1) in (x, y-down),
        // which points up-right on screen: θ = +45°.
        let (l1, l2, t) = eigen2(2.0, 1.0, 2.0);
        assert!((l1 - 1.0).abs() < 1e-6 && (l2 - 3.0).abs() < 1e-6);
        assert!((t - std::f32::consts::FRAC_PI_4).abs() < 1e-6, "{t}");
        // Negative definite: λ2 is the more negative one.
        let (l1, l2, _) = eigen2(-5.0, 0.0, -1.0);
        assert_eq!((l1, l2), (-1.0, -5.0));
    }

    #[test]
    fn dark_line_response_peaks_at_sqrt2_width() {
        let (w, a) = (3.0f32, 0.5f32);
        let img = dark_line(121, w, a, std::f32::consts::FRAC_PI_2); // vertical line
        let centre = 60;
        let sigmas: Vec<f32> = (8..=36).map(|k| k as f32 * 0.25).collect(); // 2 .. 9 px
        let responses: Vec<f32> = sigmas
            .iter()
            .map(|&s| hessian_eigenvalues(img.view(), s).l2[[centre, centre]])
            .collect();
        for (&s, &r) in sigmas.iter().zip(&responses) {
            let analytic = a * w * s * s / (s * s + w * w).powf(1.5);
            assert!(r > 0.0, "dark line must give λ2 > 0");
            // Finite differences and discretisation: within 3 % of the continuous formula.
            assert!(
                (r - analytic).abs() < 0.03 * analytic,
                "σ {s}: {r} vs {analytic}"
            );
        }
        let best = sigmas[responses
            .iter()
            .enumerate()
            .max_by(|x, y| x.1.total_cmp(y.1))
            .map(|(i, _)| i)
            .unwrap()];
        let expected = std::f32::consts::SQRT_2 * w; // 4.24 px
        assert!(
            (best - expected).abs() <= 0.5,
            "peak at σ = {best}, expected {expected}"
        );
        let peak = responses.iter().cloned().fold(f32::MIN, f32::max);
        let peak_expected = 2.0 * a / (3.0 * 3f32.sqrt());
        assert!(
            (peak - peak_expected).abs() < 0.02 * peak_expected,
            "{peak} vs {peak_expected}"
        );
    }

    #[test]
    fn bright_ridge_has_negative_l2() {
        let img = dark_line(81, 2.0, -0.5, 0.0);
        let h = hessian_eigenvalues(img.view(), 3.0);
        assert!(h.l2[[40, 40]] < 0.0);
        assert!(h.l1[[40, 40]].abs() < 0.05 * h.l2[[40, 40]].abs());
    }

    #[test]
    fn orientation_of_a_30_degree_line() {
        let angle = 30f32.to_radians();
        let img = dark_line(161, 2.5, 0.4, angle);
        let h = hessian_eigenvalues(img.view(), 3.5);
        for (r, c) in [(80, 80), (70, 97), (90, 63)] {
            // Points on the line: (col − c0)·sin θ + (row − c0)·cos θ ≈ 0.
            let t = h.theta[[r, c]];
            assert!(
                (t - angle).abs() < 1f32.to_radians(),
                "θ at ({r},{c}) = {}°",
                t.to_degrees()
            );
            assert!(h.l2[[r, c]] > 0.0);
        }
        let vertical =
            hessian_eigenvalues(dark_line(61, 2.0, 0.4, -60f32.to_radians()).view(), 3.0);
        let t = vertical.theta[[30, 30]];
        assert!(
            (t + 60f32.to_radians()).abs() < 1f32.to_radians(),
            "{}",
            t.to_degrees()
        );
    }

    #[test]
    fn parallel_is_bit_identical() {
        let img = dark_line(97, 2.0, 0.4, 0.3);
        let a = hessian_eigenvalues(img.view(), 9.0);
        let b = hessian_eigenvalues_par(img.view(), 9.0);
        for (x, y) in [(&a.l1, &b.l1), (&a.l2, &b.l2), (&a.theta, &b.theta)] {
            assert!(x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()));
        }
    }
}
