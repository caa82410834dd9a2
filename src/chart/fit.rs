//! Least-squares fit of a colour correction to the chart's patches.
//!
//! ```text
//! minimise Σ_i ‖ Cᵀ t(m_i) − r_i ‖²   over C (n_terms × 3)
//! T = Q U (Householder QR, f64)  ⇒  U C = Qᵀ R     (no normal equations: the root-polynomial
//!                                                  terms are nearly collinear)
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
    // Householder QR of T (m × n), applied to R (m × 3) alongside: T = QU, then U C = Qᵀ R.
    let m = rows.len();
    let mut t: Vec<Vec<f64>> = rows.iter().map(|(terms, _)| terms[..n].to_vec()).collect();
    let mut r: Vec<[f64; 3]> = rows.iter().map(|(_, reference)| *reference).collect();
    for j in 0..n {
        let norm = (j..m).map(|i| t[i][j] * t[i][j]).sum::<f64>().sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if t[j][j] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = (j..m).map(|i| t[i][j]).collect();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        if vv == 0.0 {
            continue;
        }
        for k in j..n {
            let dot: f64 = v.iter().zip(&t[j..]).map(|(vi, row)| vi * row[k]).sum();
            let f = 2.0 * dot / vv;
            for (vi, row) in v.iter().zip(&mut t[j..]) {
                row[k] -= f * vi;
            }
        }
        for c in 0..3 {
            let dot: f64 = v.iter().zip(&r[j..]).map(|(vi, row)| vi * row[c]).sum();
            let f = 2.0 * dot / vv;
            for (vi, row) in v.iter().zip(&mut r[j..]) {
                row[c] -= f * vi;
            }
        }
    }
    let largest = (0..n).map(|j| t[j][j].abs()).fold(0.0, f64::max);
    if (0..n).any(|j| t[j][j].abs() <= 1e-10 * largest) || largest == 0.0 {
        return Err("the patches do not determine a correction (singular fit)".into());
    }
    // Back substitution.
    let mut coefficients = vec![[0.0f64; 3]; n];
    for j in (0..n).rev() {
        for c in 0..3 {
            let known: f64 = (j + 1..n).map(|k| t[j][k] * coefficients[k][c]).sum();
            coefficients[j][c] = (r[j][c] - known) / t[j][j];
        }
    }
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
                // A fixed scatter of colours over the cube (Knuth's multiplicative hash).
                let f = |k: u32| {
                    let h = (i * 3 + k).wrapping_mul(2_654_435_761) >> 22;
                    0.05 + 0.85 * f64::from(h) / 1023.0
                };
                [f(1), f(2), f(5)]
            })
            .collect();
        let cast = [[0.7, 0.1, 0.0], [0.05, 0.6, 0.05], [0.0, 0.1, 0.4]];
        let measured: Vec<[f64; 3]> = reference
            .iter()
            .map(|r| std::array::from_fn(|i| (0..3).map(|k| cast[i][k] * r[k]).sum()))
            .collect();
        for degree in 1..=3 {
            let c = fit_correction(&measured, &reference, degree)
                .unwrap_or_else(|e| panic!("degree {degree}: {e}"));
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
