//! Pseudo-height: the luminance relief map that roughness, lines and scars are measured on.
//!
//! A photograph has no height. What it has is shading: under oblique light a depression is
//! darker than its surround. skintex therefore measures texture on relative luminance:
//!
//! ```text
//! z(x, y) = Y(x, y) / Ȳ(x, y) − 1
//! Ȳ      = (G_σ ∗ (M·Y)) / (G_σ ∗ M)          local mean of Y inside the zone mask M
//! σ      = 0.1874 · λc · px_per_mm              (ISO 16610-61 Gaussian, 50 % at λc)
//! ```
//! Y is linear-light luminance, λc the cutoff wavelength `height.cutoff_mm`. Dividing by the local
//! mean makes z invariant to exposure (Y → kY leaves z unchanged) and to slow illumination
//! gradients; subtracting 1 centres it on 0. z is unitless (a fraction of the local mean
//! luminance, e.g. −0.1 = 10 % darker than the surround): a photographic proxy for relief, never a
//! height in micrometres.

use std::borrow::Cow;

use ndarray::Array2;

use crate::imgops::gaussian::gaussian_blur;
use crate::input::colour::ColourPlanes;
use crate::segment::Zone;

/// ISO 16610-61: sigma of the Gaussian weighting function per unit of cutoff wavelength,
/// sqrt(ln 2 / (2 π²)).
pub const ISO_GAUSSIAN_SIGMA_PER_CUTOFF: f64 = 0.187_390_625;

/// The pseudo-height map of one zone, over the zone's bounding box.
pub struct PseudoHeight<'a> {
    /// z over the bounding box; 0 outside the mask.
    pub z: Array2<f32>,
    /// Zone membership over the bounding box (the zone's own mask, borrowed: not copied).
    pub mask: Cow<'a, Array2<bool>>,
    /// Bounding-box origin in the image, px.
    pub x0: usize,
    pub y0: usize,
    /// Pixels per millimetre.
    pub px_per_mm: f64,
}

impl PseudoHeight<'_> {
    /// Number of pixels inside the mask.
    pub fn area_px(&self) -> usize {
        self.mask.iter().filter(|&&m| m).count()
    }
}

/// Masked local mean: `G_σ ∗ (M·v) / G_σ ∗ M`, NaN where the mask has no weight nearby.
///
/// When every pixel is in the mask the denominator is the blur of a constant, 1 up to f32
/// rounding (~1e−7), and is not computed: the result is `G_σ ∗ v`.
pub fn masked_local_mean(values: &Array2<f32>, mask: &Array2<bool>, sigma_px: f32) -> Array2<f32> {
    if mask.iter().all(|&m| m) {
        return gaussian_blur(values.view(), sigma_px);
    }
    let weights = mask.mapv(|m| if m { 1.0f32 } else { 0.0 });
    let mut weighted = values.clone();
    weighted.zip_mut_with(mask, |v, &m| {
        if !m {
            *v = 0.0;
        }
    });
    let mut out = gaussian_blur(weighted.view(), sigma_px);
    drop(weighted);
    let den = gaussian_blur(weights.view(), sigma_px);
    out.zip_mut_with(&den, |n, &d| *n = if d > 1e-6 { *n / d } else { f32::NAN });
    out
}

/// Compute the pseudo-height of `zone` with low-pass cutoff `cutoff_mm`.
pub fn pseudo_height<'a>(
    planes: &ColourPlanes,
    zone: &'a Zone,
    px_per_mm: f64,
    cutoff_mm: f64,
) -> PseudoHeight<'a> {
    let m = &zone.mask;
    let mut luminance = Array2::<f32>::zeros((m.height(), m.width()));
    for (i, mut row) in luminance.outer_iter_mut().enumerate() {
        let row = row.as_slice_mut().expect("fresh standard-layout array");
        planes.luminance_row(m.y0 + i, m.x0, row);
    }
    let sigma_px = (ISO_GAUSSIAN_SIGMA_PER_CUTOFF * cutoff_mm * px_per_mm) as f32;
    let mut z = masked_local_mean(&luminance, &m.bits, sigma_px);
    ndarray::Zip::from(&mut z)
        .and(&luminance)
        .and(&m.bits)
        .for_each(|z, &y, &inside| {
            let mean = *z;
            *z = if inside && mean > 1e-6 {
                y / mean - 1.0
            } else {
                0.0
            };
        });
    drop(luminance);
    PseudoHeight {
        z,
        mask: Cow::Borrowed(&m.bits),
        x0: m.x0,
        y0: m.y0,
        px_per_mm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::colour::colour_planes;
    use crate::segment::full_image_zones;
    use image::{DynamicImage, Rgb, Rgb32FImage};

    /// Floating-point samples are linear light, so a gain is an exact exposure change.
    fn linear_image(gain: f32) -> ColourPlanes {
        let img = Rgb32FImage::from_fn(64, 48, |x, y| {
            let v = 0.4 + 0.1 * ((x as f32 * 0.7).sin() * (y as f32 * 0.3).cos());
            Rgb([gain * v, gain * 0.8 * v, gain * 0.7 * v])
        });
        colour_planes(&DynamicImage::ImageRgb32F(img))
    }

    /// The masked local mean against its definition on a partial mask, and the full-mask
    /// shortcut against the general formula.
    #[test]
    fn masked_local_mean_matches_definition() {
        let (h, w) = (40, 52);
        let values = Array2::from_shape_fn((h, w), |(i, j)| {
            0.3 + 0.2 * ((i * 7 + j * 13) % 17) as f32 / 17.0
        });
        let partial = Array2::from_shape_fn((h, w), |(i, j)| (i + 2 * j) % 5 != 0 && j > 3);
        let sigma = 3.0;
        let blur = |a: &Array2<f32>| gaussian_blur(a.view(), sigma);
        let weights = partial.mapv(|m| f32::from(u8::from(m)));
        let num = blur(&(&values * &weights));
        let den = blur(&weights);
        let got = masked_local_mean(&values, &partial, sigma);
        for ((g, n), d) in got.iter().zip(&num).zip(&den) {
            assert!((g - n / d).abs() < 1e-6, "{g} vs {}", n / d);
        }
        let full = Array2::from_elem((h, w), true);
        let got = masked_local_mean(&values, &full, sigma);
        let ones = blur(&full.mapv(|_| 1.0f32));
        let general = blur(&values) / &ones;
        let err = got
            .iter()
            .zip(&general)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-6, "{err}");
    }

    #[test]
    fn exposure_invariant_and_centred() {
        let zone = &full_image_zones(64, 48)[0];
        let a = pseudo_height(&linear_image(1.0), zone, 10.0, 2.0);
        let b = pseudo_height(&linear_image(0.5), zone, 10.0, 2.0);
        let mean = a.z.mean().unwrap();
        assert!(mean.abs() < 0.01, "{mean}");
        let max_diff =
            a.z.iter()
                .zip(b.z.iter())
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
        assert!(max_diff < 1e-5, "{max_diff}");
        // The texture itself is there: about 10 % modulation.
        let peak = a.z.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak > 0.1 && peak < 0.5, "{peak}");
    }
}
