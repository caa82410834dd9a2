//! Least-squares fit of a colour correction to the chart's patches.
//!
//! ```text
//! minimise Σ_i ‖ Cᵀ t(m_i) − r_i ‖²   over C (n_terms × 3)
//! ⇒ (Tᵀ T) C = Tᵀ R                   solved per output channel (Gaussian elimination,
//!                                     partial pivoting, in f64)
//! ```
//! m_i: the measured mean linear RGB of patch i; r_i its reference linear sRGB
//! ([`super::reference::reference_linear_rgb`]); t(·) the root-polynomial terms of
//! [`ColourCorrection`] (degree 1: the 3x3 matrix of a linear correction). Patches with a
//! channel at or above [`CLIPPED`] are left out (a clipped patch does not say how the camera
//! saw it).

use crate::input::colour::ColourCorrection;

/// A measured channel at or above this linear value counts as clipped.
pub const CLIPPED: f64 = 0.98;

/// Unclipped patches a fit needs beyond its number of terms (so it is overdetermined).
pub const SPARE_PATCHES: usize = 6;

/// The least-squares correction of `degree` taking `measured` to `reference` (patch by
/// patch), or why there is none.
///
/// # Errors
/// Fewer unclipped patches than the number of terms plus [`SPARE_PATCHES`], or a singular system (patches
/// that do not span the colours, e.g. all grey).
pub fn fit_correction(
    measured: &[[f64; 3]],
    reference: &[[f64; 3]],
    degree: u32,
) -> Result<ColourCorrection, String> {
    let n = ColourCorrection::term_count(degree);
    let rows: Vec<([f64; 13], [f64; 3])> = measured
        .iter()
        .zip(reference)
        .filter(|(m, _)| m.iter().all(|&v| v < CLIPPED))
        .map(|(m, r)| (ColourCorrection::terms(degree, *m), *r))
        .collect();
    if rows.len() < n + SPARE_PATCHES {
        return Err(format!(
            "{} unclipped patches, fewer than the {} a degree-{degree} correction needs",
            rows.len(),
            n + SPARE_PATCHES
        ));
    }
    // Normal equations: A = TᵀT (n × n), B = TᵀR (n × 3).
    let mut a = vec![vec![0.0f64; n]; n];
    let mut b = vec![[0.0f64; 3]; n];
    for (t, r) in &rows {
        for i in 0..n {
            for j in 0..n {
                a[i][j] += t[i] * t[j];
            }
            for c in 0..3 {
                b[i][c] += t[i] * r[c];
            }
        }
    }
    let scale = (0..n).map(|i| a[i][i]).fold(0.0, f64::max);
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))
            .unwrap_or(col);
        if a[pivot][col].abs() <= 1e-12 * scale {
            return Err("the patches do not determine a correction (singular fit)".into());
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in 0..n {
            if row == col {
                continue;
            }
            let f = a[row][col] / a[col][col];
            if f == 0.0 {
                continue;
            }
            for k in col..n {
                a[row][k] -= f * a[col][k];
            }
            for c in 0..3 {
                b[row][c] -= f * b[col][c];
            }
        }
    }
    let coefficients = (0..n)
        .map(|i| std::array::from_fn(|c| b[i][c] / a[i][i]))
        .collect();
    Ok(ColourCorrection::new(degree, coefficients))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Colours that went through a known matrix are brought back exactly by the degree-1 fit;
    /// the root-polynomial fits reproduce them too, and every degree is exposure-invariant.
    #[test]
    fn a_known_matrix_is_recovered() {
        let reference: Vec<[f64; 3]> = (0..24)
            .map(|i| {
                let f = |k: u32| 0.05 + 0.85 * f64::from((i * 7 + k * 11) % 24) / 23.0;
                [f(1), f(2), f(5)]
            })
            .collect();
        let cast = [[0.7, 0.1, 0.0], [0.05, 0.6, 0.05], [0.0, 0.1, 0.4]];
        let measured: Vec<[f64; 3]> = reference
            .iter()
            .map(|r| std::array::from_fn(|i| (0..3).map(|k| cast[i][k] * r[k]).sum()))
            .collect();
        for degree in 1..=3 {
            let c = fit_correction(&measured, &reference, degree).unwrap();
            for (m, r) in measured.iter().zip(&reference) {
                let got = c.apply(*m);
                for k in 0..3 {
                    assert!(
                        (got[k] - r[k]).abs() < 1e-6,
                        "degree {degree}: {got:?} {r:?}"
                    );
                }
                let half = c.apply(m.map(|v| v / 2.0));
                assert!((half[0] - r[0] / 2.0).abs() < 1e-6, "degree {degree}");
            }
        }
    }

    #[test]
    fn clipped_or_grey_patches_give_no_fit() {
        let grey: Vec<[f64; 3]> = (1..=24).map(|i| [f64::from(i) / 30.0; 3]).collect();
        assert!(
            fit_correction(&grey, &grey, 1)
                .unwrap_err()
                .contains("singular")
        );
        let clipped = vec![[1.0; 3]; 24];
        assert!(
            fit_correction(&clipped, &grey, 1)
                .unwrap_err()
                .contains("unclipped")
        );
    }
}
