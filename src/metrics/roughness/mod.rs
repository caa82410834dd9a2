//! Roughness: ISO 25178-2 areal parameters and GLCM texture on the pseudo-height map.
//!
//! Every function here works on any height map `z` with a zone mask `M` and a square pixel step
//! `step_mm` (mm per pixel); [`measure`] applies them to a zone's [`PseudoHeight`]. The
//! pseudo-height is unitless, so Sa … Sz are unitless, Sdq is per mm and Sal is in mm.
//!
//! # Reference implementation
//!
//! On a full mask the areal parameters equal surfalize 0.19.2 (`Surface.Sa … Sdr`, no levelling),
//! and the autocorrelation function equals surfalize's `AutocorrelationFunction`; the fixture test
//! `tests/reference_roughness.rs` checks this on the maps made by
//! `tools/reference/make_roughness_fixtures.py`. Sal and Str differ from surfalize only in how the
//! crossing of the threshold is located along each ray (linear instead of cubic-spline
//! interpolation, see [`autocorrelation_parameters`]). The GLCM follows scikit-image 0.26
//! (`graycomatrix`, `graycoprops`), not MATLAB, see [`glcm_properties`].
//!
//! Standard: ISO 25178-2:2021, Geometrical product specifications (GPS) — Surface texture:
//! Areal — Part 2: Terms, definitions and surface texture parameters.
//! GLCM: Haralick, Shanmugam & Dinstein 1973, doi:10.1109/TSMC.1973.4309314.

use ndarray::ArrayView2;

use super::height::PseudoHeight;
use super::spec;
use super::{ColumnSpec, MetricValue, Missing, all_missing};
use crate::config::RoughnessParams;
use areal::{areal_from_sums, height_and_slope_sums};
use glcm::quantise_with;

// One file per part of the family: `areal` (ISO 25178-2 height and hybrid parameters), `acf`
// (autocorrelation function, Sal, Str), `glcm` (grey-level co-occurrence texture); this file
// holds the columns and `measure`, which applies them to a zone.
mod acf;
mod areal;
mod glcm;

pub use acf::{Acf, AutocorrelationParameters, autocorrelation_parameters, masked_acf, sal_str};
pub use areal::{ArealParameters, areal_parameters};
pub use glcm::{
    GlcmProperties, cooccurrence_counts, glcm_features, glcm_offsets, glcm_per_angle,
    glcm_properties, glcm_quantise,
};

/// The columns of the roughness family, in output order.
pub const COLUMNS: &[ColumnSpec] = &[
    spec(
        "rough_sa",
        "1",
        "Arithmetic mean height Sa = mean|z - mean z| of the pseudo-height z (relative luminance, \
         unitless) over the zone pixels (ISO 25178-2).",
    ),
    spec(
        "rough_sq",
        "1",
        "Root-mean-square height Sq = sqrt(mean (z - mean z)^2) of the pseudo-height over the zone \
         pixels (ISO 25178-2; population moment, divides by N).",
    ),
    spec(
        "rough_ssk",
        "1",
        "Skewness Ssk = mean (z - mean z)^3 / Sq^3 (ISO 25178-2; negative when narrow dark pits \
         dominate). Empty for a flat zone (Sq = 0).",
    ),
    spec(
        "rough_sku",
        "1",
        "Kurtosis Sku = mean (z - mean z)^4 / Sq^4 (ISO 25178-2; plain kurtosis, 3 for a Gaussian \
         surface, not excess kurtosis). Empty for a flat zone (Sq = 0).",
    ),
    spec(
        "rough_sp",
        "1",
        "Maximum peak height Sp = max(z - mean z) over the zone pixels (ISO 25178-2).",
    ),
    spec(
        "rough_sv",
        "1",
        "Maximum pit depth Sv = -min(z - mean z) over the zone pixels (ISO 25178-2; positive).",
    ),
    spec(
        "rough_sz",
        "1",
        "Maximum height Sz = Sp + Sv (ISO 25178-2).",
    ),
    spec(
        "rough_sdq",
        "1/mm",
        "Root-mean-square gradient Sdq = sqrt(mean(dz/dx)^2 + mean(dz/dy)^2) of the pseudo-height, \
         per mm; forward differences between 4-adjacent pixel pairs that are both in the zone, each \
         direction averaged over its own pair count (surfalize 0.19.2 convention).",
    ),
    spec(
        "rough_sdr",
        "%",
        "Developed interfacial area ratio Sdr = (area of the triangulated surface (x mm, y mm, z) / \
         projected area - 1) x 100, over the pixel cells whose 4 corners are in the zone; each cell \
         averages both diagonal triangulations (ISO 25178-2:2021 eq. D.15). Depends on the pixel \
         step because z is unitless.",
    ),
    spec(
        "rough_sal_mm",
        "mm",
        "Autocorrelation length Sal (ISO 25178-2): shortest distance, over the rays from zero lag \
         to the outer boundary of the 4-connected ACF region above s = roughness.acf_threshold \
         (default 0.2), at which the normalised ACF falls to s (bilinear ACF, linear interpolation \
         of the crossing). ACF: mean-centred z, masked (overlap-count) normalisation, FFT, lags up \
         to roughness.acf_max_lag_mm (default 4 mm), on the <= 1024 x 1024 px window of the zone \
         holding most zone pixels.",
    ),
    spec(
        "rough_str",
        "1",
        "Texture aspect ratio Str = Sal / longest decay length of the same rays (ISO 25178-2), in \
         (0, 1]: near 0 strongly directional, near 1 isotropic. Same ACF and s as rough_sal_mm. \
         Empty when the ACF does not decay below s within roughness.acf_max_lag_mm in some \
         direction.",
    ),
    spec(
        "rough_glcm_contrast",
        "1",
        "GLCM contrast sum P(i,j)(i-j)^2 (scikit-image graycoprops), mean over angles 0, 45, 90, \
         135 deg. Pseudo-height clipped to mean +- roughness.glcm_clip_sd (default 3) SD and \
         quantised to roughness.glcm_levels (default 32) equal bins; neighbour distance \
         round(roughness.glcm_distance_mm x px/mm) px (default 0.1 mm), diagonal offsets \
         round(d cos 45 deg); pairs with both pixels in the zone; symmetric, normalised.",
    ),
    spec(
        "rough_glcm_homogeneity",
        "1",
        "GLCM homogeneity sum P(i,j)/(1+(i-j)^2) (scikit-image; MATLAB uses 1/(1+|i-j|)), mean over \
         the 4 angles; same GLCM as rough_glcm_contrast.",
    ),
    spec(
        "rough_glcm_energy",
        "1",
        "GLCM energy sqrt(sum P(i,j)^2) (scikit-image; MATLAB's 'Energy' is the un-rooted ASM), \
         mean over the 4 angles; same GLCM as rough_glcm_contrast.",
    ),
    spec(
        "rough_glcm_correlation",
        "1",
        "GLCM correlation sum P(i,j)(i-mu_i)(j-mu_j)/(sigma_i sigma_j), 1 when a sigma < 1e-15 \
         (scikit-image), mean over the 4 angles; same GLCM as rough_glcm_contrast.",
    ),
    spec(
        "rough_glcm_entropy",
        "nat",
        "GLCM entropy -sum P(i,j) ln P(i,j) over P > 0, natural log (scikit-image >= 0.25), mean \
         over the 4 angles; same GLCM as rough_glcm_contrast.",
    ),
];

/// Zones with fewer pixels than this get empty roughness columns.
pub const MIN_ZONE_PX: usize = 100;

/// Largest side, px, of the window on which the ACF is computed (a bound on time and memory:
/// two complex FFTs of at most (1024 + lag) squared points).
pub const ACF_WINDOW_PX: usize = 1024;

/// Row `r` of `z` as f64 and of `mask`, into reused buffers (contiguous slices for the
/// vectorised row passes, whatever the views' strides).
fn load_row<T: Copy + Into<f64>>(
    z: &ArrayView2<'_, T>,
    mask: &ArrayView2<'_, bool>,
    r: usize,
    zr: &mut Vec<f64>,
    mr: &mut Vec<bool>,
) {
    zr.clear();
    mr.clear();
    let (zrow, mrow) = (z.row(r), mask.row(r));
    // Contiguous rows (the usual case) convert as slices, which vectorises.
    match zrow.to_slice() {
        Some(values) => zr.extend(values.iter().map(|&v| v.into())),
        None => zr.extend(zrow.iter().map(|&v| v.into())),
    }
    match mrow.to_slice() {
        Some(inside) => mr.extend_from_slice(inside),
        None => mr.extend(mrow.iter().copied()),
    }
}

/// Row `r` of `a` as a slice: the row itself when it is contiguous (the usual case), else a
/// copy in `buf`.
fn row_slice<'b, T: Copy>(a: &'b ArrayView2<'_, T>, r: isize, buf: &'b mut Vec<T>) -> &'b [T] {
    let row = a.row(r as usize);
    match row.to_slice() {
        Some(values) => values,
        None => {
            buf.clear();
            buf.extend(row.iter().copied());
            buf
        }
    }
}

fn lift<T>(value: &Result<T, Missing>, f: impl Fn(&T) -> MetricValue) -> MetricValue {
    match value {
        Ok(v) => f(v),
        Err(e) => Err(e.clone()),
    }
}

/// Measure the roughness family on a zone's pseudo-height; values align with [`COLUMNS`].
///
/// Step h = 1/px_per_mm. Sa … Sdr: [`areal_parameters`]; Sal, Str: [`autocorrelation_parameters`]
/// with `acf_threshold` and `acf_max_lag_mm`; GLCM: [`glcm_quantise`] with `glcm_levels` and
/// `glcm_clip_sd`, then [`glcm_features`] at d = max(1, round(`glcm_distance_mm`·px_per_mm)) px.
/// Zones under [`MIN_ZONE_PX`] pixels get every column missing.
pub fn measure(height: &PseudoHeight, params: &RoughnessParams) -> Vec<MetricValue> {
    let n = height.area_px();
    if n < MIN_ZONE_PX {
        return all_missing(
            COLUMNS.len(),
            &format!("zone too small: {n} px < {MIN_ZONE_PX} px"),
        );
    }
    let z = height.z.view();
    let mask = height.mask.view();
    let step_mm = 1.0 / height.px_per_mm;
    // The mean and moments are computed once, for the height parameters and the GLCM.
    let sums = height_and_slope_sums(z, mask, Some(step_mm));
    let areal = sums
        .as_ref()
        .map(|(stats, slopes)| areal_from_sums(stats, slopes))
        .map_err(Clone::clone);
    let acf = autocorrelation_parameters(
        z,
        mask,
        step_mm,
        params.acf_threshold,
        params.acf_max_lag_mm,
    );
    let distance_px = ((params.glcm_distance_mm * height.px_per_mm).round() as usize).max(1);
    let glcm = sums
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|(stats, _)| {
            quantise_with(z, mask, params.glcm_levels, params.glcm_clip_sd, stats)
        })
        .and_then(|q| glcm_features(q.view(), mask, params.glcm_levels as usize, distance_px));
    let values = vec![
        lift(&areal, |a| Ok(a.sa)),
        lift(&areal, |a| Ok(a.sq)),
        lift(&areal, |a| a.ssk.clone()),
        lift(&areal, |a| a.sku.clone()),
        lift(&areal, |a| Ok(a.sp)),
        lift(&areal, |a| Ok(a.sv)),
        lift(&areal, |a| Ok(a.sz)),
        lift(&areal, |a| a.sdq.clone()),
        lift(&areal, |a| a.sdr.clone()),
        lift(&acf, |a| a.sal_mm.clone()),
        lift(&acf, |a| a.str_ratio.clone()),
        lift(&glcm, |g| Ok(g.contrast)),
        lift(&glcm, |g| Ok(g.homogeneity)),
        lift(&glcm, |g| Ok(g.energy)),
        lift(&glcm, |g| Ok(g.correlation)),
        lift(&glcm, |g| Ok(g.entropy)),
    ];
    debug_assert_eq!(values.len(), COLUMNS.len());
    values
        .into_iter()
        .map(|v| v.and_then(|x| super::finite_or(x, "not finite")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imgops::gaussian::gaussian_blur;
    use crate::input::colour::ColourPlanes;
    use crate::metrics::height::pseudo_height;
    use crate::segment::full_image_zones;
    use ndarray::Array2;

    /// Deterministic uniform noise in [-1, 1) (64-bit LCG, high bits).
    pub(super) fn noise(h: usize, w: usize, seed: u64) -> Array2<f32> {
        let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        Array2::from_shape_fn((h, w), |_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
    }

    pub(super) fn full(h: usize, w: usize) -> Array2<bool> {
        Array2::from_elem((h, w), true)
    }

    fn planes(gain: f32, w: usize, h: usize) -> ColourPlanes {
        let base = gaussian_blur(noise(h, w, 11).view(), 1.5);
        let plane = |k: f32| base.mapv(|v| gain * (0.3 * k + 0.05 * v));
        ColourPlanes::from_linear([plane(1.0), plane(0.8), plane(0.7)])
    }

    #[test]
    fn exposure_gain_does_not_change_metrics() {
        let (w, h) = (160, 120);
        let zone = &full_image_zones(w, h)[0];
        let params = RoughnessParams::default();
        let run = |gain: f32| {
            measure(
                &pseudo_height(&planes(gain, w, h), zone, 20.0, 8.0),
                &params,
            )
        };
        let a = run(1.0);
        assert!(a.iter().all(Result::is_ok), "{a:?}");
        // A power-of-two gain scales every float exactly: identical bits.
        assert_eq!(a, run(0.5));
        // Any other gain: equal up to f32 rounding of the luminance.
        for (x, y) in a.iter().zip(run(0.83).iter()) {
            let (x, y) = (*x.as_ref().unwrap(), *y.as_ref().unwrap());
            assert!((x - y).abs() <= 1e-3 * x.abs().max(1e-3), "{x} vs {y}");
        }
    }

    #[test]
    fn small_and_flat_zones_are_missing() {
        let params = RoughnessParams::default();
        let height = |z: Array2<f32>| PseudoHeight {
            mask: std::borrow::Cow::Owned(Array2::from_elem(z.dim(), true)),
            z,
            x0: 0,
            y0: 0,
            px_per_mm: 20.0,
        };
        let small = measure(&height(noise(9, 9, 5)), &params);
        assert_eq!(small.len(), COLUMNS.len());
        assert!(
            small
                .iter()
                .all(|v| v.as_ref().unwrap_err().0.contains("too small"))
        );
        let flat = measure(&height(Array2::zeros((30, 30))), &params);
        assert_eq!(flat[0], Ok(0.0));
        assert_eq!(flat[8], Ok(0.0));
        assert!(flat[2].as_ref().unwrap_err().0.contains("flat"));
        assert!(flat[3].as_ref().unwrap_err().0.contains("flat"));
        assert!(flat[9].is_err() && flat[11].is_err());
    }

    #[test]
    fn column_names_are_stable() {
        let names: Vec<_> = COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "rough_sa",
                "rough_sq",
                "rough_ssk",
                "rough_sku",
                "rough_sp",
                "rough_sv",
                "rough_sz",
                "rough_sdq",
                "rough_sdr",
                "rough_sal_mm",
                "rough_str",
                "rough_glcm_contrast",
                "rough_glcm_homogeneity",
                "rough_glcm_energy",
                "rough_glcm_correlation",
                "rough_glcm_entropy",
            ]
        );
    }

    /// Views that are not standard-layout rows (here transposed) give exactly what their
    /// owned copies give: the row loaders fall back from slices to element iteration.
    #[test]
    fn strided_views_equal_their_copies() {
        let z = noise(37, 53, 11);
        let mask = Array2::from_shape_fn((37, 53), |(r, c)| (r * 7 + c * 3) % 11 != 0);
        let (zt, mt) = (z.t(), mask.t());
        let (zo, mo) = (zt.to_owned(), mt.to_owned());
        assert_eq!(
            areal_parameters(zt, mt, 0.05).unwrap(),
            areal_parameters(zo.view(), mo.view(), 0.05).unwrap()
        );
        let q = Array2::from_shape_fn((37, 53), |(r, c)| ((r * 5 + c * 2) % 8) as u16);
        let qo = q.t().to_owned();
        for (dy, dx) in [(0, 2), (1, -1), (-2, 0), (3, 3)] {
            assert_eq!(
                cooccurrence_counts(q.t(), mt, 8, dy, dx),
                cooccurrence_counts(qo.view(), mo.view(), 8, dy, dx),
                "offset ({dy}, {dx})"
            );
        }
    }
}
