//! Gaussian smoothing of `f32` planes.
//!
//! Boundary handling is half-sample symmetric reflection (`d c b a | a b c d`, scipy's
//! `mode='reflect'`).

use ndarray::{Array2, ArrayView2, Axis};

/// Reflect an index into `0..n` (half-sample symmetric).
pub fn reflect_index(i: isize, n: usize) -> usize {
    let n = n as isize;
    if n == 1 {
        return 0;
    }
    let period = 2 * n;
    let mut k = i.rem_euclid(period);
    if k >= n {
        k = period - 1 - k;
    }
    k as usize
}

/// Normalised 1-D Gaussian kernel of standard deviation `sigma_px`, truncated at 4 sigma.
pub fn gaussian_kernel(sigma_px: f32) -> Vec<f32> {
    let radius = (4.0 * sigma_px).ceil().max(1.0) as isize;
    let two_s2 = 2.0 * f64::from(sigma_px).powi(2);
    let mut k: Vec<f64> = (-radius..=radius)
        .map(|x| (-(x * x) as f64 / two_s2).exp())
        .collect();
    let sum: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    k.into_iter().map(|v| v as f32).collect()
}

fn convolve_rows(src: ArrayView2<f32>, kernel: &[f32]) -> Array2<f32> {
    let (rows, cols) = src.dim();
    let radius = (kernel.len() / 2) as isize;
    let mut out = Array2::<f32>::zeros((rows, cols));
    let mut padded = vec![0f32; cols + 2 * radius as usize];
    for (src_row, mut out_row) in src.axis_iter(Axis(0)).zip(out.axis_iter_mut(Axis(0))) {
        for (j, p) in padded.iter_mut().enumerate() {
            *p = src_row[reflect_index(j as isize - radius, cols)];
        }
        for (j, o) in out_row.iter_mut().enumerate() {
            let window = &padded[j..j + kernel.len()];
            *o = window.iter().zip(kernel).map(|(a, b)| a * b).sum();
        }
    }
    out
}

/// Gaussian blur with standard deviation `sigma_px` in both directions.
///
/// `sigma_px <= 0` returns a copy.
pub fn gaussian_blur(src: ArrayView2<f32>, sigma_px: f32) -> Array2<f32> {
    if sigma_px <= 0.0 || src.is_empty() {
        return src.to_owned();
    }
    let kernel = gaussian_kernel(sigma_px);
    let horizontal = convolve_rows(src, &kernel);
    let vertical = convolve_rows(horizontal.t(), &kernel);
    vertical.t().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_indices() {
        let got: Vec<usize> = (-3..7).map(|i| reflect_index(i, 4)).collect();
        assert_eq!(got, vec![2, 1, 0, 0, 1, 2, 3, 3, 2, 1]);
    }

    #[test]
    fn blur_preserves_constant_and_mass_of_impulse() {
        let c = Array2::from_elem((9, 11), 3.0f32);
        assert!(
            gaussian_blur(c.view(), 2.0)
                .iter()
                .all(|v| (v - 3.0).abs() < 1e-5)
        );
        let mut imp = Array2::<f32>::zeros((41, 41));
        imp[[20, 20]] = 1.0;
        let b = gaussian_blur(imp.view(), 2.0);
        assert!((b.sum() - 1.0).abs() < 1e-5);
        // Second moment along x equals sigma^2.
        let var: f32 = b
            .indexed_iter()
            .map(|((_, c), v)| v * (c as f32 - 20.0).powi(2))
            .sum();
        assert!((var - 4.0).abs() < 1e-3, "{var}");
    }
}
