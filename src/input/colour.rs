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

use std::sync::{Arc, OnceLock};

use image::DynamicImage;
use ndarray::Array2;

use crate::imgops::simd::widest_simd;

/// The colour of a photo, kept in its decoded sample format, read as linear-light RGB.
///
/// Integer photos keep their sRGB-encoded 8- or 16-bit samples (3 or 1 per pixel, 3 or 6
/// bytes per RGB pixel instead of the 12 of three f32 planes) and are decoded to linear light
/// row by row, by the tables of [`colour_planes`]; floating-point photos keep their clipped
/// linear samples. Every reader gets the same f32 bits for a pixel, whatever row segment it
/// asks for. L*a*b* is computed on demand for a region, with [`ColourPlanes::lab_row`] or
/// [`ColourPlanes::lab_box`].
///
/// [`ColourPlanes::corrected`] gives a view of the same samples read through a
/// [`ColourCorrection`] (a colour chart's), without copying them.
pub struct ColourPlanes {
    width: usize,
    height: usize,
    samples: Arc<Samples>,
    correction: Option<Arc<ColourCorrection>>,
}

/// Most terms of a root-polynomial expansion (degree 3).
const MAX_TERMS: usize = 13;

/// A colour correction of linear RGB by a root-polynomial of degree 1 (a 3x3 matrix), 2 or 3
/// (Finlayson G, Mackiewicz M, Hurlbert A, "Color correction using root-polynomial
/// regression", IEEE Trans Image Process 2015;24:1460-1470, doi:10.1109/TIP.2015.2405336):
///
/// ```text
/// terms(1) = r, g, b
/// terms(2) = terms(1), √(rg), √(gb), √(rb)
/// terms(3) = terms(2), ∛(rg²), ∛(gb²), ∛(rb²), ∛(gr²), ∛(bg²), ∛(br²), ∛(rgb)
/// out_c    = max(0, Σ_k coefficients[k][c] · terms_k(r, g, b))        c = R, G, B
/// ```
/// Every term scales with the exposure (degree-1 homogeneous), so a correction fitted at one
/// exposure holds at another. Negative results are set to 0; values above 1 are kept (a
/// corrected highlight may exceed the white of the fit).
#[derive(Debug, Clone, PartialEq)]
pub struct ColourCorrection {
    degree: u32,
    /// One row of output-channel weights per term, in the order of the terms above.
    coefficients: Vec<[f64; 3]>,
}

impl ColourCorrection {
    /// Number of terms of a root-polynomial of `degree` (1, 2 or 3).
    ///
    /// # Panics
    /// For another degree.
    pub fn term_count(degree: u32) -> usize {
        match degree {
            1 => 3,
            2 => 6,
            3 => MAX_TERMS,
            _ => panic!("root-polynomial degree must be 1, 2 or 3, got {degree}"),
        }
    }

    /// The terms of `rgb` (negative values read as 0), in the order of the type's doc; only
    /// the first [`Self::term_count`] are set.
    pub fn terms(degree: u32, rgb: [f64; 3]) -> [f64; MAX_TERMS] {
        let [r, g, b] = rgb.map(|v| v.max(0.0));
        let mut t = [0.0; MAX_TERMS];
        t[..3].copy_from_slice(&[r, g, b]);
        if degree >= 2 {
            t[3..6].copy_from_slice(&[(r * g).sqrt(), (g * b).sqrt(), (r * b).sqrt()]);
        }
        if degree >= 3 {
            t[6..13].copy_from_slice(&[
                (r * g * g).cbrt(),
                (g * b * b).cbrt(),
                (r * b * b).cbrt(),
                (g * r * r).cbrt(),
                (b * g * g).cbrt(),
                (b * r * r).cbrt(),
                (r * g * b).cbrt(),
            ]);
        }
        t
    }

    /// A correction from its coefficients (one `[R, G, B]` row per term).
    ///
    /// # Panics
    /// When the number of rows is not [`Self::term_count`] of `degree`.
    pub fn new(degree: u32, coefficients: Vec<[f64; 3]>) -> Self {
        assert_eq!(
            coefficients.len(),
            Self::term_count(degree),
            "one coefficient row per term"
        );
        Self {
            degree,
            coefficients,
        }
    }

    /// The root-polynomial degree.
    pub fn degree(&self) -> u32 {
        self.degree
    }

    /// The coefficients, one `[R, G, B]` row per term.
    pub fn coefficients(&self) -> &[[f64; 3]] {
        &self.coefficients
    }

    /// The corrected linear RGB of `rgb`, in f64.
    pub fn apply(&self, rgb: [f64; 3]) -> [f64; 3] {
        let terms = Self::terms(self.degree, rgb);
        let mut out = [0.0; 3];
        for (t, row) in terms.iter().zip(&self.coefficients) {
            for (o, w) in out.iter_mut().zip(row) {
                *o += w * t;
            }
        }
        out.map(|v| v.max(0.0))
    }
}

/// Row-major interleaved samples: 1 per pixel (grey) or 3 (R, G, B).
enum Samples {
    Srgb8 {
        raw: Vec<u8>,
        channels: usize,
    },
    Srgb16 {
        raw: Vec<u16>,
        channels: usize,
    },
    /// Linear light in [0, 1], R, G, B.
    Linear(Vec<f32>),
}

impl ColourPlanes {
    /// Planes from linear-light R, G, B arrays of one shape (values clipped to [0, 1] as
    /// floating-point photos are).
    ///
    /// # Panics
    /// When the three arrays differ in shape.
    pub fn from_linear(planes: [Array2<f32>; 3]) -> Self {
        let [r, g, b] = planes;
        assert!(
            r.dim() == g.dim() && g.dim() == b.dim(),
            "linear planes differ in shape"
        );
        let (height, width) = r.dim();
        let raw = ndarray::Zip::from(&r).and(&g).and(&b).fold(
            Vec::with_capacity(3 * r.len()),
            |mut raw, &r, &g, &b| {
                raw.extend([r, g, b].map(clip_unit));
                raw
            },
        );
        Self {
            width,
            height,
            samples: Arc::new(Samples::Linear(raw)),
            correction: None,
        }
    }

    /// These planes read through `correction`: every reader ([`Self::linear_row`],
    /// [`Self::lab_row`], ...) gets the corrected linear values (computed in f64 from the
    /// stored ones, rounded to f32). The samples are shared, not copied. A correction replaces
    /// one these planes may already have.
    pub fn corrected(&self, correction: &ColourCorrection) -> Self {
        Self {
            width: self.width,
            height: self.height,
            samples: Arc::clone(&self.samples),
            correction: Some(Arc::new(correction.clone())),
        }
    }

    /// The correction these planes are read through, if any.
    pub fn correction(&self) -> Option<&ColourCorrection> {
        self.correction.as_deref()
    }

    /// Image width in px.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Image height in px.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Call `f(i, [r, g, b])` with the linear values of the `cols` pixels of row `y` from
    /// column `x0`, in order.
    ///
    /// # Panics
    /// When the segment leaves the image.
    #[inline(always)]
    fn for_each_linear(
        &self,
        y: usize,
        x0: usize,
        cols: usize,
        mut f: impl FnMut(usize, [f32; 3]),
    ) {
        match self.correction.as_deref() {
            None => self.for_each_stored(y, x0, cols, f),
            Some(c) => self.for_each_stored(y, x0, cols, |i, rgb| {
                f(i, c.apply(rgb.map(f64::from)).map(|v| v as f32));
            }),
        }
    }

    /// [`Self::for_each_linear`] on the stored values (no correction).
    #[inline(always)]
    fn for_each_stored(
        &self,
        y: usize,
        x0: usize,
        cols: usize,
        mut f: impl FnMut(usize, [f32; 3]),
    ) {
        assert!(
            y < self.height && x0 + cols <= self.width,
            "row segment outside the image"
        );
        let start = y * self.width + x0;
        match &*self.samples {
            Samples::Srgb8 { raw, channels } => {
                for_each_encoded(raw, *channels, start, cols, lut8(), &mut f);
            }
            Samples::Srgb16 { raw, channels } => {
                for_each_encoded(raw, *channels, start, cols, lut16(), &mut f);
            }
            Samples::Linear(raw) => {
                for (i, p) in raw[3 * start..3 * (start + cols)]
                    .chunks_exact(3)
                    .enumerate()
                {
                    f(i, [p[0], p[1], p[2]]);
                }
            }
        }
    }

    /// Linear R, G, B of pixel `(y, x)`.
    ///
    /// # Panics
    /// When the pixel is outside the image.
    pub fn linear_at(&self, y: usize, x: usize) -> [f32; 3] {
        let mut out = [0.0; 3];
        self.for_each_linear(y, x, 1, |_, rgb| out = rgb);
        out
    }

    /// Linear R, G, B of the `r.len()` pixels of image row `y` from column `x0`.
    ///
    /// # Panics
    /// When the segment leaves the image or `g`, `b` are shorter than `r`.
    pub fn linear_row(&self, y: usize, x0: usize, r: &mut [f32], g: &mut [f32], b: &mut [f32]) {
        let cols = r.len();
        let (g, b) = (&mut g[..cols], &mut b[..cols]);
        self.for_each_linear(y, x0, cols, |i, [vr, vg, vb]| {
            (r[i], g[i], b[i]) = (vr, vg, vb);
        });
    }

    /// Relative luminance Y = 0.2126 R + 0.7152 G + 0.0722 B (ITU-R BT.709, on linear values,
    /// in this f32 order) of the `out.len()` pixels of image row `y` from column `x0`.
    ///
    /// # Panics
    /// When the segment leaves the image.
    pub fn luminance_row(&self, y: usize, x0: usize, out: &mut [f32]) {
        self.for_each_linear(y, x0, out.len(), |i, [r, g, b]| {
            out[i] = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        });
    }

    /// CIE L*, a*, b* of the `cols` pixels of image row `y` starting at column `x0`, written to
    /// the first `cols` values of `l`, `a`, `b` (by the fast path of [`colour_planes`]'s doc:
    /// within 1e-4 of [`linear_rgb_to_lab`], and bit-identical whatever the row segment).
    ///
    /// # Panics
    /// When the segment leaves the image or an output is shorter than `cols`.
    pub fn lab_row(
        &self,
        y: usize,
        x0: usize,
        cols: usize,
        l: &mut [f32],
        a: &mut [f32],
        b: &mut [f32],
    ) {
        let mut rgb = [[0f32; BLOCK_PX]; 3];
        for (k, ((l, a), b)) in l[..cols]
            .chunks_mut(BLOCK_PX)
            .zip(a[..cols].chunks_mut(BLOCK_PX))
            .zip(b[..cols].chunks_mut(BLOCK_PX))
            .enumerate()
        {
            let n = l.len();
            let [r, g, bl] = &mut rgb;
            self.linear_row(y, x0 + k * BLOCK_PX, &mut r[..n], &mut g[..n], &mut bl[..n]);
            lab_of_linear(&r[..n], &g[..n], &bl[..n], l, a, b);
        }
    }

    /// CIE L*, a*, b* planes of the box of `rows × cols` pixels at `(x0, y0)` (values as
    /// [`ColourPlanes::lab_row`]).
    ///
    /// # Panics
    /// When the box leaves the image.
    pub fn lab_box(&self, x0: usize, y0: usize, rows: usize, cols: usize) -> [Array2<f32>; 3] {
        let [mut l, mut a, mut b] = std::array::from_fn(|_| Array2::<f32>::zeros((rows, cols)));
        for (i, ((mut l, mut a), mut b)) in l
            .outer_iter_mut()
            .zip(a.outer_iter_mut())
            .zip(b.outer_iter_mut())
            .enumerate()
        {
            self.lab_row(
                y0 + i,
                x0,
                cols,
                l.as_slice_mut().expect("fresh standard-layout array"),
                a.as_slice_mut().expect("fresh standard-layout array"),
                b.as_slice_mut().expect("fresh standard-layout array"),
            );
        }
        [l, a, b]
    }
}

/// Call `f(i, [r, g, b])` with the linear values, by the table `lut`, of the `cols` pixels from
/// pixel `start` of sRGB-encoded samples `raw` (`channels` = 1 grey, or 3).
#[inline(always)]
fn for_each_encoded<T: Copy + Into<usize>>(
    raw: &[T],
    channels: usize,
    start: usize,
    cols: usize,
    lut: &[f32],
    f: &mut impl FnMut(usize, [f32; 3]),
) {
    if channels == 3 {
        let pixels = raw[3 * start..3 * (start + cols)].chunks_exact(3);
        for (i, p) in pixels.enumerate() {
            f(i, [lut[p[0].into()], lut[p[1].into()], lut[p[2].into()]]);
        }
    } else {
        for (i, &v) in raw[start..start + cols].iter().enumerate() {
            f(i, [lut[v.into()]; 3]);
        }
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

/// The colour of a decoded image, read as linear RGB ([`ColourPlanes`]).
///
/// The samples are copied once in their compact form (alpha dropped, grey kept as one
/// channel). sRGB decoding is by a 256-entry (8-bit) or 65 536-entry (16-bit) table of
/// [`srgb_to_linear`] (exact to f32 rounding); floating-point samples are linear light,
/// clipped to [0, 1] (NaN to 0). Other sample layouts are converted to 16-bit RGB first.
///
/// L*a*b* is computed on demand ([`ColourPlanes::lab_row`], [`ColourPlanes::lab_box`]) in f64
/// by the formula of the module doc, with the cube root of `f(t)` computed by [`cbrt_fast`]
/// (relative error < 1e-13, so the values match [`linear_rgb_to_lab`] to f32 rounding:
/// |ΔL*|, |Δa*|, |Δb*| < 1e-4, tested over all 8-bit greys and a dense sample of colours).
pub fn colour_planes(image: &DynamicImage) -> ColourPlanes {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let samples = match image {
        DynamicImage::ImageLuma8(b) => srgb8(b.as_raw(), 1),
        DynamicImage::ImageLumaA8(b) => srgb8(b.as_raw(), 2),
        DynamicImage::ImageRgb8(b) => srgb8(b.as_raw(), 3),
        DynamicImage::ImageRgba8(b) => srgb8(b.as_raw(), 4),
        DynamicImage::ImageLuma16(b) => srgb16(b.as_raw(), 1),
        DynamicImage::ImageLumaA16(b) => srgb16(b.as_raw(), 2),
        DynamicImage::ImageRgb16(b) => srgb16(b.as_raw(), 3),
        DynamicImage::ImageRgba16(b) => srgb16(b.as_raw(), 4),
        DynamicImage::ImageRgb32F(b) => linear_f32(b.as_raw(), 3),
        DynamicImage::ImageRgba32F(b) => linear_f32(b.as_raw(), 4),
        other => srgb16(other.to_rgb16().as_raw(), 3),
    };
    ColourPlanes {
        width,
        height,
        samples: Arc::new(samples),
        correction: None,
    }
}

/// The colour samples of `raw` (`channels` per pixel: 1-2 grey, 3-4 RGB, alpha last): grey
/// as one sample per pixel, colour as three.
fn colour_samples<T: Copy>(raw: &[T], channels: usize) -> (Vec<T>, usize) {
    match channels {
        1 | 3 => (raw.to_vec(), channels),
        2 => (raw.iter().step_by(2).copied().collect(), 1),
        _ => {
            let rgb = raw.chunks_exact(channels).flat_map(|p| [p[0], p[1], p[2]]);
            (rgb.collect(), 3)
        }
    }
}

fn srgb8(raw: &[u8], channels: usize) -> Samples {
    let (raw, channels) = colour_samples(raw, channels);
    Samples::Srgb8 { raw, channels }
}

fn srgb16(raw: &[u16], channels: usize) -> Samples {
    let (raw, channels) = colour_samples(raw, channels);
    Samples::Srgb16 { raw, channels }
}

fn linear_f32(raw: &[f32], channels: usize) -> Samples {
    let (mut raw, _) = colour_samples(raw, channels);
    raw.iter_mut().for_each(|v| *v = clip_unit(*v));
    Samples::Linear(raw)
}

fn clip_unit(v: f32) -> f32 {
    if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) }
}

/// Pixels converted to L*a*b* per call of the vectorised kernel.
const BLOCK_PX: usize = 256;

/// Cube root of `t` for `t` in [0.008856, 2] (the range `lab_f` uses it on), relative error
/// < 1e-13 (tested against `f64::cbrt`).
///
/// ```text
/// y0      = bits(hi32(t)/3 + 715094163)        exponent/3 guess of fdlibm's cbrt, |err| < 4 %
/// y_{k+1} = y_k · (y_k³ + 2t) / (2y_k³ + t)    Halley's iteration, cubic convergence, k = 0, 1
/// ```
/// Only IEEE adds, multiplies and divides after the guess, so the result does not depend on the
/// vector width the compiler picks. Outside that range it is still a cube root for normal
/// positive `t`, but untested.
#[inline(always)]
pub fn cbrt_fast(t: f64) -> f64 {
    let hi = (t.to_bits() >> 32) as u32;
    let mut y = f64::from_bits(u64::from(hi / 3 + 715_094_163) << 32);
    for _ in 0..2 {
        let y3 = y * y * y;
        y *= (y3 + 2.0 * t) / (2.0 * y3 + t);
    }
    y
}

/// The L*a*b* companding function `f(t)` of the module doc, with [`cbrt_fast`]; branch-free so
/// that blocks of pixels vectorise.
#[inline(always)]
fn lab_f_fast(t: f64) -> f64 {
    let root = cbrt_fast(t.max(LAB_EPSILON));
    let linear = 7.787 * t + 16.0 / 116.0;
    if t > LAB_EPSILON { root } else { linear }
}

const LAB_EPSILON: f64 = 0.008856;

widest_simd! {
    /// CIE L*, a*, b* of pixels given by their linear R, G, B (`r`, `g`, `b` of one length,
    /// the outputs at least as long): the kernel of [`ColourPlanes::lab_row`], for callers
    /// that decode a row's linear values anyway. Same arithmetic order as
    /// [`linear_rgb_to_lab`] for the matrix product; the division by the white point is a
    /// multiplication by its reciprocal. Compiled for the widest vector unit the CPU has
    /// (AVX-512F, AVX2, or the x86-64 baseline); only exactly rounded IEEE operations are used
    /// (no fused multiply-add), so every variant, and every split of a row, gives the same bits.
    pub fn lab_of_linear(
        r: &[f32],
        g: &[f32],
        b: &[f32],
        lo: &mut [f32],
        ao: &mut [f32],
        bo: &mut [f32],
    ) {
        let n = r.len();
        let (g, b, lo, ao, bo) = (&g[..n], &b[..n], &mut lo[..n], &mut ao[..n], &mut bo[..n]);
        let m = RGB_TO_XYZ;
        let inv_white = D65_WHITE.map(|w| 1.0 / w);
        for i in 0..n {
            let (cr, cg, cb) = (f64::from(r[i]), f64::from(g[i]), f64::from(b[i]));
            let x = (m[0][0] * cr + m[0][1] * cg + m[0][2] * cb) * inv_white[0];
            let y = (m[1][0] * cr + m[1][1] * cg + m[1][2] * cb) * inv_white[1];
            let z = (m[2][0] * cr + m[2][1] * cg + m[2][2] * cb) * inv_white[2];
            let (fx, fy, fz) = (lab_f_fast(x), lab_f_fast(y), lab_f_fast(z));
            lo[i] = (116.0 * fy - 16.0) as f32;
            ao[i] = (500.0 * (fx - fy)) as f32;
            bo[i] = (200.0 * (fy - fz)) as f32;
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
    fn cbrt_fast_matches_std_cbrt() {
        // Dense logarithmic sweep of the range lab_f uses, plus its ends.
        let n = 200_000;
        let (lo, hi) = (LAB_EPSILON.ln(), 2f64.ln());
        let worst = (0..=n)
            .map(|k| (lo + (hi - lo) * k as f64 / n as f64).exp())
            .chain([LAB_EPSILON, 1.0, 1.09, 2.0])
            .map(|t| ((cbrt_fast(t) - t.cbrt()) / t.cbrt()).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-13, "{worst:e}");
    }

    /// Largest |difference| of the planes from the exact f64 formula (sRGB decoding and L*a*b*
    /// both in f64), over the pixels of `img`, whose samples are given by `srgb(x, y)` in [0, 1].
    fn worst_lab_error(img: &DynamicImage, srgb: impl Fn(u32, u32) -> [f64; 3]) -> f64 {
        let p = colour_planes(img);
        let lab = p.lab_box(0, 0, p.height(), p.width());
        let mut worst = 0.0f64;
        for y in 0..img.height() {
            for x in 0..img.width() {
                let s = srgb(x, y);
                let exact = linear_rgb_to_lab(s.map(srgb_to_linear));
                for (plane, want) in lab.iter().zip(exact) {
                    let got = f64::from(plane[[y as usize, x as usize]]);
                    worst = worst.max((got - want).abs());
                }
                let lin = f64::from(p.linear_at(y as usize, x as usize)[1]);
                assert!((lin - srgb_to_linear(s[1])).abs() < 1e-7);
            }
        }
        worst
    }

    #[test]
    fn fast_lab_matches_exact_formula_on_all_greys_and_dense_colours() {
        // All 256 8-bit greys.
        let greys = DynamicImage::ImageLuma8(image::GrayImage::from_fn(256, 1, |x, _| {
            image::Luma([x as u8])
        }));
        let e = worst_lab_error(&greys, |x, _| [f64::from(x) / 255.0; 3]);
        eprintln!("max abs L*a*b* error, 8-bit greys: {e:e}");
        assert!(e < 1e-4, "greys: {e:e}");
        // Every 8-bit colour with channels on a step of 3 (86³ = 636 056 colours).
        let side = 86u32;
        let code = |i: u32| (3 * i).min(255) as u8;
        let rgb = |x: u32, y: u32| [code(x % side), code(x / side), code(y)];
        let colours =
            DynamicImage::ImageRgb8(image::RgbImage::from_fn(side * side, side, |x, y| {
                image::Rgb(rgb(x, y))
            }));
        let e = worst_lab_error(&colours, |x, y| rgb(x, y).map(|c| f64::from(c) / 255.0));
        eprintln!("max abs L*a*b* error, 8-bit colours: {e:e}");
        assert!(e < 1e-4, "8-bit colours: {e:e}");
        // 16-bit samples, hashed over the whole range.
        let hash = |x: u32, y: u32, k: u32| {
            let mut h = x.wrapping_mul(0x9E37_79B9)
                ^ y.wrapping_mul(0x85EB_CA6B)
                ^ k.wrapping_mul(0xC2B2_AE35);
            h ^= h >> 15;
            h = h.wrapping_mul(0x2C1B_3C6D);
            (h ^ (h >> 12)) as u16
        };
        let rgb16 = |x: u32, y: u32| [hash(x, y, 1), hash(x, y, 2), hash(x, y, 3)];
        let wide = DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(512, 256, |x, y| {
            image::Rgb(rgb16(x, y))
        }));
        let e = worst_lab_error(&wide, |x, y| rgb16(x, y).map(|c| f64::from(c) / 65535.0));
        eprintln!("max abs L*a*b* error, 16-bit colours: {e:e}");
        assert!(e < 1e-4, "16-bit colours: {e:e}");
    }

    #[test]
    fn float_samples_are_linear_and_clipped() {
        let img = image::Rgb32FImage::from_fn(4, 1, |x, _| match x {
            0 => image::Rgb([0.25, 0.5, 0.75]),
            1 => image::Rgb([-1.0, 2.0, f32::NAN]),
            2 => image::Rgb([0.0, 0.0, 0.0]),
            _ => image::Rgb([1.0, 1.0, 1.0]),
        });
        let p = colour_planes(&DynamicImage::ImageRgb32F(img));
        let px = |x: usize| p.linear_at(0, x);
        let lab = p.lab_box(0, 0, 1, 4);
        assert_eq!(px(0), [0.25, 0.5, 0.75]);
        assert_eq!(px(1), [0.0, 1.0, 0.0]);
        for x in 0..4 {
            let exact = linear_rgb_to_lab(px(x).map(f64::from));
            for (k, (plane, want)) in lab.iter().zip(exact).enumerate() {
                assert!((f64::from(plane[[0, x]]) - want).abs() < 1e-4, "{x} {k}");
            }
        }
    }

    /// A pixel's L*a*b* has the same bits whatever box or row segment it is converted in
    /// (tone converts zone rows, the face model the face box), and matches the exact formula.
    #[test]
    fn lab_of_a_box_is_independent_of_the_box() {
        let img = image::RgbImage::from_fn(300, 7, |x, y| {
            image::Rgb([(x * 7 + y) as u8, (x * 3 + 40 * y) as u8, (255 - x) as u8])
        });
        let p = colour_planes(&DynamicImage::ImageRgb8(img.clone()));
        let whole = p.lab_box(0, 0, 7, 300);
        let part = p.lab_box(5, 2, 4, 270);
        for k in 0..3 {
            let same = whole[k].slice(ndarray::s![2..6, 5..275]);
            assert!(
                same.iter()
                    .zip(&part[k])
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "plane {k}"
            );
        }
        let (mut l, mut a, mut b) = (vec![0.0; 299], vec![0.0; 299], vec![0.0; 299]);
        p.lab_row(6, 1, 299, &mut l, &mut a, &mut b);
        for (x, ((l, a), b)) in l.iter().zip(&a).zip(&b).enumerate() {
            let got = [*l, *a, *b];
            let px = img.get_pixel(x as u32 + 1, 6).0;
            let exact = linear_rgb_to_lab(px.map(|c| srgb_to_linear(f64::from(c) / 255.0)));
            for (k, (g, e)) in got.iter().zip(exact).enumerate() {
                assert_eq!(g.to_bits(), whole[k][[6, x + 1]].to_bits());
                assert!((f64::from(*g) - e).abs() < 1e-4, "{x} {k}");
            }
        }
    }

    /// Alpha is ignored and grey with alpha reads as grey, in 8 and 16 bit; planes built from
    /// f32 arrays read back the same values (clipped), by pixel and by row.
    #[test]
    fn sample_layouts_read_as_the_same_linear_values() {
        let rgb = |x: u32, y: u32| [(x * 37 + y) as u8, (x * 11 + 5 * y) as u8, (200 - x) as u8];
        let (w, h) = (9u32, 4u32);
        let plain = colour_planes(&DynamicImage::ImageRgb8(image::RgbImage::from_fn(
            w,
            h,
            |x, y| image::Rgb(rgb(x, y)),
        )));
        let alpha = colour_planes(&DynamicImage::ImageRgba8(image::RgbaImage::from_fn(
            w,
            h,
            |x, y| {
                let [r, g, b] = rgb(x, y);
                image::Rgba([r, g, b, (x * 29) as u8])
            },
        )));
        let grey16 = |v: u16| {
            (
                colour_planes(&DynamicImage::ImageLuma16(image::ImageBuffer::from_pixel(
                    w,
                    h,
                    image::Luma([v]),
                ))),
                colour_planes(&DynamicImage::ImageLumaA16(image::ImageBuffer::from_pixel(
                    w,
                    h,
                    image::LumaA([v, 7]),
                ))),
            )
        };
        let (g, ga) = grey16(40_000);
        let expected_grey = srgb_to_linear(40_000.0 / 65535.0) as f32;
        let arrays: [Array2<f32>; 3] = std::array::from_fn(|k| {
            Array2::from_shape_fn((h as usize, w as usize), |(y, x)| {
                plain.linear_at(y, x)[k] * 1.5 - 0.1
            })
        });
        let from_arrays = ColourPlanes::from_linear(arrays.clone());
        for y in 0..h as usize {
            let mut row = [
                vec![0.0; w as usize],
                vec![0.0; w as usize],
                vec![0.0; w as usize],
            ];
            let [r, gr, b] = &mut row;
            plain.linear_row(y, 0, r, gr, b);
            for x in 0..w as usize {
                let want = plain.linear_at(y, x);
                assert_eq!(want, [r[x], gr[x], b[x]]);
                assert_eq!(alpha.linear_at(y, x), want);
                let lut = rgb(x as u32, y as u32).map(|c| lut8()[c as usize]);
                assert_eq!(want, lut);
                assert_eq!(g.linear_at(y, x), [expected_grey; 3]);
                assert_eq!(ga.linear_at(y, x), [expected_grey; 3]);
                let clipped: [f32; 3] = std::array::from_fn(|k| arrays[k][[y, x]].clamp(0.0, 1.0));
                assert_eq!(from_arrays.linear_at(y, x), clipped);
            }
        }
    }

    #[test]
    fn grey_image_fills_all_planes() {
        let img = DynamicImage::ImageLuma8(image::GrayImage::from_pixel(3, 2, image::Luma([128])));
        let p = colour_planes(&img);
        assert_eq!((p.width(), p.height()), (3, 2));
        let expected = srgb_to_linear(128.0 / 255.0) as f32;
        for (y, x) in [(0, 0), (0, 2), (1, 1)] {
            assert_eq!(p.linear_at(y, x), [expected; 3]);
        }
        let mut row = [0.0; 3];
        p.luminance_row(1, 0, &mut row);
        assert!(row.iter().all(|&v| (v - expected).abs() < 1e-6));
        assert!((p.lab_box(0, 0, 2, 3)[0][[0, 0]] - 53.585).abs() < 0.01);
    }
}
