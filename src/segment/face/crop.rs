//! Rotated square regions of interest and their resampling into model input tensors.
//!
//! Conventions follow MediaPipe's OpenCV path (see `models/README.md`): image coordinates are
//! pixel indices (pixel `i` is sampled at coordinate `i`); a square ROI of side `s` centred at
//! `c` with rotation `r` has unit axes `u = (cos r, sin r)` and `v = (-sin r, cos r)`; output
//! pixel `(i, j)` of an `n x n` crop samples the source at
//!
//! ```text
//! p(i, j) = c + s (i/n - 1/2) u + s (j/n - 1/2) v
//! ```
//!
//! bilinearly, on 8-bit values, rounded back to 8 bits (as `cv::warpPerspective` on `uint8`).
//! A model output at crop coordinates `(x, y)` in `[0, n]` maps back to the image through the same
//! formula with `i = x`, `j = y`.
//!
//! Anti-aliasing: when a crop shrinks the source by a factor `k = s / n >= 2` (a 24 MP photo into
//! the 128 px detector input), the source is first averaged over `f x f` blocks, `f = floor(k)`,
//! each block value standing at its block centre, and the bilinear sampling runs on those
//! averages. The geometry (the formula above) is unchanged; only aliasing is removed. MediaPipe
//! does no such prefilter, so on downscaled crops the inputs differ slightly from MediaPipe's.

use image::RgbImage;

/// A square, rotated region of an image, in image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roi {
    /// Centre, image px.
    pub cx: f64,
    /// Centre, image px.
    pub cy: f64,
    /// Side, image px.
    pub size: f64,
    /// Rotation of the ROI's x axis from the image's x axis, rad (clockwise on screen, as y
    /// points down).
    pub rotation: f64,
}

impl Roi {
    /// Map normalised crop coordinates (`[0, 1]` across the crop) to image px.
    pub fn to_image(&self, xn: f64, yn: f64) -> [f64; 2] {
        let (s, c) = self.rotation.sin_cos();
        let px = (xn - 0.5) * self.size;
        let py = (yn - 0.5) * self.size;
        [self.cx + c * px - s * py, self.cy + s * px + c * py]
    }

    /// Map image px to normalised crop coordinates.
    pub fn to_crop(&self, x: f64, y: f64) -> [f64; 2] {
        let (s, c) = self.rotation.sin_cos();
        let dx = x - self.cx;
        let dy = y - self.cy;
        [
            (c * dx + s * dy) / self.size + 0.5,
            (-s * dx + c * dy) / self.size + 0.5,
        ]
    }
}

/// What a sample outside the image takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Border {
    /// Zero (black), as `BORDER_CONSTANT` 0 (detector letterbox).
    Zero,
    /// The nearest edge pixel, as `BORDER_REPLICATE` (mesh and iris crops).
    Replicate,
}

/// An RGB float image (values 0..=255) standing on a grid of the source image: sample `(i, j)`
/// stands at source coordinate `(ox + i f + (f-1)/2, oy + j f + (f-1)/2)`.
struct Grid<'a> {
    data: GridData<'a>,
    width: usize,
    height: usize,
    /// Source coordinate of sample 0 (block centre), and the block size.
    ox: f64,
    oy: f64,
    f: f64,
}

/// The samples of a [`Grid`]: the image itself, or block averages.
enum GridData<'a> {
    U8(&'a [u8]),
    F32(Vec<f32>),
}

impl GridData<'_> {
    #[inline]
    fn at(&self, k: usize) -> f32 {
        match self {
            GridData::U8(d) => f32::from(d[k]),
            GridData::F32(d) => d[k],
        }
    }
}

impl Grid<'_> {
    /// Bilinear sample at source coordinate `(x, y)`.
    fn sample(&self, x: f64, y: f64, border: Border, out: &mut [f32; 3]) {
        let gx = (x - self.ox) / self.f;
        let gy = (y - self.oy) / self.f;
        // Quantise to 1/32 px as OpenCV's warps do (INTER_TAB_SIZE = 32).
        let gx = (gx * 32.0).round() / 32.0;
        let gy = (gy * 32.0).round() / 32.0;
        let x0 = gx.floor();
        let y0 = gy.floor();
        let ax = (gx - x0) as f32;
        let ay = (gy - y0) as f32;
        let (x0, y0) = (x0 as i64, y0 as i64);
        let w = self.width as i64;
        let h = self.height as i64;
        let mut acc = [0.0f32; 3];
        for (dy, wy) in [(0, 1.0 - ay), (1, ay)] {
            for (dx, wx) in [(0, 1.0 - ax), (1, ax)] {
                let wgt = wx * wy;
                if wgt == 0.0 {
                    continue;
                }
                let (mut xi, mut yi) = (x0 + dx, y0 + dy);
                if xi < 0 || yi < 0 || xi >= w || yi >= h {
                    match border {
                        Border::Zero => continue,
                        Border::Replicate => {
                            xi = xi.clamp(0, w - 1);
                            yi = yi.clamp(0, h - 1);
                        }
                    }
                }
                let k = (yi as usize * self.width + xi as usize) * 3;
                acc[0] += wgt * self.data.at(k);
                acc[1] += wgt * self.data.at(k + 1);
                acc[2] += wgt * self.data.at(k + 2);
            }
        }
        *out = acc;
    }
}

/// Block-average the part of `image` covering `[x_lo, x_hi] x [y_lo, y_hi]` (clamped to the
/// image) by `f x f` blocks.
fn block_average(
    image: &RgbImage,
    f: usize,
    x_lo: f64,
    x_hi: f64,
    y_lo: f64,
    y_hi: f64,
) -> Grid<'static> {
    let (iw, ih) = (image.width() as usize, image.height() as usize);
    let bx0 = (x_lo.floor().max(0.0) as usize).min(iw - 1);
    let by0 = (y_lo.floor().max(0.0) as usize).min(ih - 1);
    let bx1 = ((x_hi.ceil().max(0.0) as usize) + 1).min(iw);
    let by1 = ((y_hi.ceil().max(0.0) as usize) + 1).min(ih);
    let gw = (bx1 - bx0).div_ceil(f).max(1);
    let gh = (by1 - by0).div_ceil(f).max(1);
    let mut sums = vec![0.0f32; gw * gh * 3];
    let raw = image.as_raw();
    // Integer sums (exact, as the f32 sums of at most 256 x 256 8-bit values also are): the
    // rows of a block row are added column by column, then each block's columns.
    let mut columns = vec![0u32; (bx1 - bx0) * 3];
    for (gy, block_row) in sums.chunks_exact_mut(gw * 3).enumerate() {
        let (y0, y1) = (by0 + gy * f, (by0 + (gy + 1) * f).min(by1));
        columns.fill(0);
        for y in y0..y1 {
            let row = &raw[(y * iw + bx0) * 3..(y * iw + bx1) * 3];
            for (acc, &v) in columns.iter_mut().zip(row) {
                *acc += u32::from(v);
            }
        }
        for (block, out) in columns.chunks(f * 3).zip(block_row.chunks_exact_mut(3)) {
            let mut total = [0u32; 3];
            for px in block.chunks_exact(3) {
                for (t, &v) in total.iter_mut().zip(px) {
                    *t += v;
                }
            }
            let n = ((block.len() / 3) * (y1 - y0)).max(1) as f32;
            for (o, t) in out.iter_mut().zip(total) {
                *o = t as f32 / n;
            }
        }
    }
    let half = (f as f64 - 1.0) / 2.0;
    Grid {
        data: GridData::F32(sums),
        width: gw,
        height: gh,
        ox: bx0 as f64 + half,
        oy: by0 as f64 + half,
        f: f as f64,
    }
}

/// Resample `roi` of `image` into an `n x n` RGB crop, values rounded to 0..=255, HWC order.
/// `antialias` enables the block prefilter described in the module doc.
pub fn crop_rgb(image: &RgbImage, roi: &Roi, n: usize, border: Border, antialias: bool) -> Vec<u8> {
    let step = roi.size / n as f64;
    let f = if antialias && step >= 2.0 {
        step.floor() as usize
    } else {
        1
    };
    let owned;
    let grid = if f > 1 {
        let corners = [
            roi.to_image(0.0, 0.0),
            roi.to_image(1.0, 0.0),
            roi.to_image(0.0, 1.0),
            roi.to_image(1.0, 1.0),
        ];
        let pad = 2.0 * f as f64;
        let x_lo = corners.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min) - pad;
        let x_hi = corners
            .iter()
            .map(|p| p[0])
            .fold(f64::NEG_INFINITY, f64::max)
            + pad;
        let y_lo = corners.iter().map(|p| p[1]).fold(f64::INFINITY, f64::min) - pad;
        let y_hi = corners
            .iter()
            .map(|p| p[1])
            .fold(f64::NEG_INFINITY, f64::max)
            + pad;
        owned = block_average(image, f, x_lo, x_hi, y_lo, y_hi);
        &owned
    } else {
        owned = Grid {
            data: GridData::U8(image.as_raw()),
            width: image.width() as usize,
            height: image.height() as usize,
            ox: 0.0,
            oy: 0.0,
            f: 1.0,
        };
        &owned
    };
    let mut out = vec![0u8; n * n * 3];
    let mut px = [0.0f32; 3];
    for j in 0..n {
        for i in 0..n {
            let [x, y] = roi.to_image(i as f64 / n as f64, j as f64 / n as f64);
            grid.sample(x, y, border, &mut px);
            let k = (j * n + i) * 3;
            for c in 0..3 {
                out[k + c] = px[c].round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roi_round_trip() {
        let roi = Roi {
            cx: 100.0,
            cy: 50.0,
            size: 40.0,
            rotation: 0.3,
        };
        let p = roi.to_image(0.2, 0.9);
        let q = roi.to_crop(p[0], p[1]);
        assert!((q[0] - 0.2).abs() < 1e-12 && (q[1] - 0.9).abs() < 1e-12);
        // Top-left corner of an unrotated ROI.
        let r = Roi {
            rotation: 0.0,
            ..roi
        };
        assert_eq!(r.to_image(0.0, 0.0), [80.0, 30.0]);
    }

    /// Each block value is the exact mean of its pixels, partial blocks at the right and bottom
    /// edges included, and stands at its block centre.
    #[test]
    fn block_average_is_the_mean_of_each_block() {
        let img = RgbImage::from_fn(23, 17, |x, y| {
            image::Rgb([
                (x * 11 + y * 3) as u8,
                (x * y) as u8,
                (250 - x * y / 2) as u8,
            ])
        });
        let f = 4;
        let grid = block_average(&img, f, 2.2, 30.0, 1.0, 14.5);
        let (bx0, by0, bx1, by1) = (2, 1, 23, 16);
        assert_eq!((grid.width, grid.height), (6, 4));
        assert_eq!((grid.ox, grid.oy, grid.f), (3.5, 2.5, 4.0));
        let GridData::F32(values) = &grid.data else {
            panic!("block averages are f32")
        };
        for gy in 0..grid.height {
            for gx in 0..grid.width {
                for c in 0..3 {
                    let (mut sum, mut n) = (0.0f32, 0.0f32);
                    for y in by0 + gy * f..(by0 + (gy + 1) * f).min(by1) {
                        for x in bx0 + gx * f..(bx0 + (gx + 1) * f).min(bx1) {
                            sum += f32::from(img.get_pixel(x as u32, y as u32)[c]);
                            n += 1.0;
                        }
                    }
                    assert_eq!(values[(gy * grid.width + gx) * 3 + c], sum / n);
                }
            }
        }
    }

    #[test]
    fn crop_matches_integer_sampling_and_antialias_averages() {
        let img = RgbImage::from_fn(8, 8, |x, y| image::Rgb([(x * 10) as u8, (y * 10) as u8, 7]));
        let roi = Roi {
            cx: 4.0,
            cy: 4.0,
            size: 8.0,
            rotation: 0.0,
        };
        let c = crop_rgb(&img, &roi, 4, Border::Zero, false);
        // Output pixel (i, j) samples source (2i, 2j).
        assert_eq!(&c[(3 + 4) * 3..(3 + 4) * 3 + 3], &[60, 20, 7]);
        let a = crop_rgb(&img, &roi, 4, Border::Zero, true);
        // With the 2x2 block prefilter, output (3, 1) is the mean over x in {6, 7}, y in {2, 3}
        // sampled at its centre (6.5, 2.5) shifted by -0.5: a bilinear mix of blocks.
        assert!(a[(4 + 3) * 3].abs_diff(60) <= 5, "{}", a[(4 + 3) * 3]);
    }
}
