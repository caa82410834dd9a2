//! The published colours of the ColorChecker Classic and their conversion to skintex's colour
//! space (linear sRGB and CIE L*a*b*, D65).
//!
//! Source: X-Rite's reference values for the ColorChecker Classic made after November 2014,
//! CIE L*a*b* under D50 (2° observer), as published by X-Rite in 2016 and distributed by
//! colour-science (`DATA_COLORCHECKER24_AFTER_NOV2014_CIE_LAB`,
//! <https://github.com/colour-science/colour>, `colour/characterisation/datasets/colour_checkers/
//! chromaticity_coordinates.py`). They are converted to D65 as follows:
//!
//! ```text
//! XYZ_D50 = Lab⁻¹(L*, a*, b*; white D50 = (0.9642, 1, 0.8249))        (ICC D50)
//! XYZ_D65 = M⁻¹ · diag(ρ_D65 / ρ_D50) · M · XYZ_D50                   Bradford, ρ_w = M · white
//! M       = [0.8951 0.2664 −0.1614; −0.7502 1.7135 0.0367; 0.0389 −0.0685 1.0296]
//! rgb     = RGB_TO_XYZ⁻¹ · XYZ_D65                                     linear sRGB (may leave [0, 1])
//! Lab_D65 = linear_rgb_to_lab(rgb)                                     (skintex's D65 white)
//! ```
//! (Lam 1985, the Bradford transform as in ICC.1:2010 Annex E.) Checked against colour-science's
//! own conversion (`tests/fixtures/reference/chart.json`, made by
//! `tools/reference/make_chart_fixtures.py`): |ΔL*|, |Δa*|, |Δb*| < 0.01.

use crate::input::colour::{D65_WHITE, RGB_TO_XYZ, linear_rgb_to_lab};

/// ICC D50 white, XYZ (colour-science's `ICC D50` chromaticity 0.3457, 0.3585).
pub const D50_WHITE: [f64; 3] = [0.9642, 1.0, 0.8249];

/// The 24 patches in reading order of the upright chart (landscape, the six greys in the
/// bottom row from white to black): name and CIE L*a*b* (D50).
pub const PATCHES_LAB_D50: [(&str, [f64; 3]); 24] = [
    ("dark skin", [37.54, 14.37, 14.92]),
    ("light skin", [64.66, 19.27, 17.5]),
    ("blue sky", [49.32, -3.82, -22.54]),
    ("foliage", [43.46, -12.74, 22.72]),
    ("blue flower", [54.94, 9.61, -24.79]),
    ("bluish green", [70.48, -32.26, -0.37]),
    ("orange", [62.73, 35.83, 56.5]),
    ("purplish blue", [39.43, 10.75, -45.17]),
    ("moderate red", [50.57, 48.64, 16.67]),
    ("purple", [30.1, 22.54, -20.87]),
    ("yellow green", [71.77, -24.13, 58.19]),
    ("orange yellow", [71.51, 18.24, 67.37]),
    ("blue", [28.37, 15.42, -49.8]),
    ("green", [54.38, -39.72, 32.27]),
    ("red", [42.43, 51.05, 28.62]),
    ("yellow", [81.8, 2.67, 80.41]),
    ("magenta", [50.63, 51.28, -14.12]),
    ("cyan", [49.57, -29.71, -28.32]),
    ("white 9.5", [95.19, -1.03, 2.93]),
    ("neutral 8", [81.29, -0.57, 0.44]),
    ("neutral 6.5", [66.89, -0.75, -0.06]),
    ("neutral 5", [50.76, -0.13, 0.14]),
    ("neutral 3.5", [35.63, -0.46, -0.48]),
    ("black 2", [20.64, 0.07, -0.46]),
];

/// Patches per row and rows of the upright chart.
pub const COLUMNS: usize = 6;
pub const ROWS: usize = 4;

const BRADFORD: [[f64; 3]; 3] = [
    [0.8951, 0.2664, -0.1614],
    [-0.7502, 1.7135, 0.0367],
    [0.0389, -0.0685, 1.0296],
];

/// `m · v`.
pub fn mat_vec(m: &[[f64; 3]; 3], v: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|i| m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2])
}

/// The inverse of a 3x3 matrix by cofactors (the matrices here are far from singular).
pub fn mat_inverse(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let c = |r: usize, k: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (k1, k2) = ((k + 1) % 3, (k + 2) % 3);
        m[r1][k1] * m[r2][k2] - m[r1][k2] * m[r2][k1]
    };
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2);
    std::array::from_fn(|i| std::array::from_fn(|j| c(j, i) / det))
}

/// CIE L*a*b* to XYZ under `white` (CIE 15 inverse, ε = 216/24389 as t > 6/29).
pub fn lab_to_xyz(lab: [f64; 3], white: [f64; 3]) -> [f64; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let f = [fy + lab[1] / 500.0, fy, fy - lab[2] / 200.0];
    let inverse = |t: f64| {
        if t > 6.0 / 29.0 {
            t * t * t
        } else {
            3.0 * (6.0f64 / 29.0).powi(2) * (t - 4.0 / 29.0)
        }
    };
    std::array::from_fn(|i| white[i] * inverse(f[i]))
}

/// XYZ under D50 adapted to skintex's D65 white by the Bradford transform.
pub fn bradford_d50_to_d65(xyz: [f64; 3]) -> [f64; 3] {
    let cone = mat_vec(&BRADFORD, xyz);
    let (from, to) = (mat_vec(&BRADFORD, D50_WHITE), mat_vec(&BRADFORD, D65_WHITE));
    let adapted: [f64; 3] = std::array::from_fn(|i| cone[i] * to[i] / from[i]);
    mat_vec(&mat_inverse(&BRADFORD), adapted)
}

/// The reference colour of every patch as linear sRGB (D65), in the order of
/// [`PATCHES_LAB_D50`]. Cyan lies outside the sRGB gamut (its red is negative).
pub fn reference_linear_rgb() -> [[f64; 3]; 24] {
    let to_rgb = mat_inverse(&RGB_TO_XYZ);
    PATCHES_LAB_D50
        .map(|(_, lab)| mat_vec(&to_rgb, bradford_d50_to_d65(lab_to_xyz(lab, D50_WHITE))))
}

/// The reference colour of every patch as CIE L*a*b* (D65), in the order of
/// [`PATCHES_LAB_D50`].
pub fn reference_lab_d65() -> [[f64; 3]; 24] {
    reference_linear_rgb().map(linear_rgb_to_lab)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_bradford_is_an_inverse() {
        let inv = mat_inverse(&BRADFORD);
        for (i, row) in BRADFORD.iter().enumerate() {
            for j in 0..3 {
                let v: f64 = row.iter().zip(&inv).map(|(r, col)| r * col[j]).sum();
                assert!((v - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
    }

    /// The D50 white goes to the D65 white, and the neutral patches stay neutral (a* and b*
    /// near those published under D50).
    #[test]
    fn white_maps_to_white_and_greys_stay_grey() {
        let w = bradford_d50_to_d65(D50_WHITE);
        for (a, b) in w.iter().zip(D65_WHITE) {
            assert!((a - b).abs() < 1e-12);
        }
        let lab = reference_lab_d65();
        for (i, (name, d50)) in PATCHES_LAB_D50.iter().enumerate().skip(18) {
            assert!((lab[i][0] - d50[0]).abs() < 0.05, "{name} {:?}", lab[i]);
            assert!((lab[i][1] - d50[1]).abs() < 0.5 && (lab[i][2] - d50[2]).abs() < 0.5);
        }
    }
}
