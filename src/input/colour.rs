//! Colour conversion: camera sRGB to linear-light RGB and CIE L*a*b* (D65, 2° observer).
//!
//! ```text
//! sRGB → linear:  c ≤ 0.04045 ? c/12.92 : ((c + 0.055)/1.055)^2.4        (IEC 61966-2-1)
//! linear → XYZ:   [0.412453 0.357580 0.180423; 0.212671 0.715160 0.072169;
//!                  0.019334 0.119193 0.950227]   (scikit-image's sRGB matrix)
//! D65 white:      (Xn, Yn, Zn) = (0.95047, 1.0, 1.08883)
//! f(t) = t^(1/3) if t > 0.008856 else 7.787·t + 16/116
//! L* = 116·f(Y/Yn) − 16    a* = 500·(f(X/Xn) − f(Y/Yn))    b* = 200·(f(Y/Yn) − f(Z/Zn))
//! ```
//! This matches scikit-image's `rgb2lab` (illuminant D65, observer 2°), against which it is
//! tested. Integer samples (8 or 16 bit) are taken as sRGB-encoded; floating-point samples as
//! already linear light, clipped to [0, 1]. Alpha is ignored.

use std::sync::OnceLock;

use image::DynamicImage;
use ndarray::Array2;

/// Per-pixel planes of a photo, each `(height, width)`.
pub struct ColourPlanes {
    /// Linear-light red, green, blue in [0, 1].
    pub linear: [Array2<f32>; 3],
    /// CIE L* (0..100), a*, b*.
    pub lab: [Array2<f32>; 3],
}

impl ColourPlanes {
    /// Image width in px.
    pub fn width(&self) -> usize {
        self.linear[0].ncols()
    }

    /// Image height in px.
    pub fn height(&self) -> usize {
        self.linear[0].nrows()
    }

    /// Relative luminance Y = 0.2126 R + 0.7152 G + 0.0722 B on linear values (ITU-R BT.709).
    pub fn luminance(&self) -> Array2<f32> {
        let [r, g, b] = &self.linear;
        let mut y = Array2::<f32>::zeros(r.raw_dim());
        ndarray::Zip::from(&mut y)
            .and(r)
            .and(g)
            .and(b)
            .for_each(|y, &r, &g, &b| *y = 0.2126 * r + 0.7152 * g + 0.0722 * b);
        y
    }
}

/// The sRGB decoding function (IEC 61966-2-1) on a value in [0, 1].
pub fn srgb_to_linear(c: f64) -> f64 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// D65 reference white (2° observer), as used by scikit-image.
pub const D65_WHITE: [f64; 3] = [0.95047, 1.0, 1.08883];

/// Linear sRGB to XYZ (D65), rows X, Y, Z.
pub const RGB_TO_XYZ: [[f64; 3]; 3] = [
    [0.412453, 0.357580, 0.180423],
    [0.212671, 0.715160, 0.072169],
    [0.019334, 0.119193, 0.950227],
];

fn lab_f(t: f64) -> f64 {
    if t > 0.008856 {
        t.cbrt()
    } else {
        7.787 * t + 16.0 / 116.0
    }
}

/// Linear-light RGB to CIE L*a*b* (D65).
pub fn linear_rgb_to_lab(rgb: [f64; 3]) -> [f64; 3] {
    let xyz: [f64; 3] = std::array::from_fn(|i| {
        RGB_TO_XYZ[i]
            .iter()
            .zip(rgb)
            .map(|(m, c)| m * c)
            .sum::<f64>()
    });
    let fx = lab_f(xyz[0] / D65_WHITE[0]);
    let fy = lab_f(xyz[1] / D65_WHITE[1]);
    let fz = lab_f(xyz[2] / D65_WHITE[2]);
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

fn lut8() -> &'static [f32; 256] {
    static LUT: OnceLock<[f32; 256]> = OnceLock::new();
    LUT.get_or_init(|| std::array::from_fn(|i| srgb_to_linear(i as f64 / 255.0) as f32))
}

fn lut16() -> &'static [f32] {
    static LUT: OnceLock<Vec<f32>> = OnceLock::new();
    LUT.get_or_init(|| {
        (0..=u16::MAX)
            .map(|i| srgb_to_linear(f64::from(i) / 65535.0) as f32)
            .collect()
    })
}

/// Convert a decoded image to linear RGB and L*a*b* planes.
pub fn colour_planes(image: &DynamicImage) -> ColourPlanes {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut linear: [Array2<f32>; 3] = std::array::from_fn(|_| Array2::zeros((h, w)));
    match image {
        DynamicImage::ImageLuma8(b) => {
            fill_linear(&mut linear, b.as_raw(), 1, |v| lut8()[v as usize])
        }
        DynamicImage::ImageLumaA8(b) => {
            fill_linear(&mut linear, b.as_raw(), 2, |v| lut8()[v as usize])
        }
        DynamicImage::ImageRgb8(b) => {
            fill_linear(&mut linear, b.as_raw(), 3, |v| lut8()[v as usize])
        }
        DynamicImage::ImageRgba8(b) => {
            fill_linear(&mut linear, b.as_raw(), 4, |v| lut8()[v as usize])
        }
        DynamicImage::ImageLuma16(b) => {
            fill_linear(&mut linear, b.as_raw(), 1, |v| lut16()[v as usize])
        }
        DynamicImage::ImageLumaA16(b) => {
            fill_linear(&mut linear, b.as_raw(), 2, |v| lut16()[v as usize])
        }
        DynamicImage::ImageRgb16(b) => {
            fill_linear(&mut linear, b.as_raw(), 3, |v| lut16()[v as usize])
        }
        DynamicImage::ImageRgba16(b) => {
            fill_linear(&mut linear, b.as_raw(), 4, |v| lut16()[v as usize])
        }
        DynamicImage::ImageRgb32F(b) => fill_linear(&mut linear, b.as_raw(), 3, clip_unit),
        DynamicImage::ImageRgba32F(b) => fill_linear(&mut linear, b.as_raw(), 4, clip_unit),
        other => {
            let rgb = other.to_rgb16();
            fill_linear(&mut linear, rgb.as_raw(), 3, |v| lut16()[v as usize]);
        }
    }
    let mut lab: [Array2<f32>; 3] = std::array::from_fn(|_| Array2::zeros((h, w)));
    {
        let [l, a, b] = &mut lab;
        ndarray::Zip::from(l)
            .and(a)
            .and(b)
            .and(&linear[0])
            .and(&linear[1])
            .and(&linear[2])
            .for_each(|l, a, b, &r, &g, &bl| {
                let v = linear_rgb_to_lab([f64::from(r), f64::from(g), f64::from(bl)]);
                *l = v[0] as f32;
                *a = v[1] as f32;
                *b = v[2] as f32;
            });
    }
    ColourPlanes { linear, lab }
}

fn clip_unit(v: f32) -> f32 {
    if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) }
}

/// Fill the three planes from interleaved samples with `channels` per pixel (1-2: grey, 3-4: RGB).
fn fill_linear<T: Copy>(
    planes: &mut [Array2<f32>; 3],
    raw: &[T],
    channels: usize,
    to_linear: impl Fn(T) -> f32,
) {
    let grey = channels < 3;
    let [r, g, b] = planes;
    for (((px, r), g), b) in raw
        .chunks_exact(channels)
        .zip(r.iter_mut())
        .zip(g.iter_mut())
        .zip(b.iter_mut())
    {
        if grey {
            let v = to_linear(px[0]);
            (*r, *g, *b) = (v, v, v);
        } else {
            (*r, *g, *b) = (to_linear(px[0]), to_linear(px[1]), to_linear(px[2]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_and_black() {
        let white = linear_rgb_to_lab([1.0, 1.0, 1.0]);
        assert!((white[0] - 100.0).abs() < 1e-3 && white[1].abs() < 1e-2 && white[2].abs() < 1e-2);
        let black = linear_rgb_to_lab([0.0, 0.0, 0.0]);
        assert!(black.iter().all(|v| v.abs() < 1e-9));
    }

    #[test]
    fn grey_image_fills_all_planes() {
        let img = DynamicImage::ImageLuma8(image::GrayImage::from_pixel(3, 2, image::Luma([128])));
        let p = colour_planes(&img);
        assert_eq!((p.width(), p.height()), (3, 2));
        let expected = srgb_to_linear(128.0 / 255.0) as f32;
        assert!(p.linear.iter().all(|pl| pl.iter().all(|&v| v == expected)));
        assert!((p.lab[0][[0, 0]] - 53.585).abs() < 0.01);
    }
}
