//! Re-photographs of the same skin: replicates for repeatability studies.
//!
//! A re-take under the same protocol moments later sees the same skin under the same light and
//! camera, but the camera is held slightly differently and the sensor noise is new:
//!
//! ```text
//! canvas  = the phantom rendered margin px wider on every side (same skin seed, same capture
//!           seed, new noise seed; lossless)
//! photo(x) = exposure · canvas( c + R(θ) (x − c) + shift )     bilinear, in linear RGB
//! θ ∈ [−1°, 1°], shift ∈ [−10, 10]² px, exposure ∈ [0.95, 1.05]   uniform, from the retake seed
//! ```
//!
//! c is the image centre, R(θ) the rotation by θ (counter-clockwise as displayed). The photo is
//! the central `size` px of the moved camera's view, encoded to 8-bit sRGB by exact thresholds
//! and then, when the spec asks for it (classic `jpeg_quality`; realistic: the drawn quality),
//! JPEG-compressed once. The noise is the canvas's, resampled with the image (bilinear
//! interpolation at a sub-pixel offset smooths it slightly, up to halving its SD at a half-pixel
//! offset in both axes). The ground truth is the canvas's: its coordinates are canvas px and its
//! features may lie partly outside the photo.

use image::RgbImage;

use super::camera::{encode_srgb8, srgb_to_linear};
use super::rng::SplitMix64;
use super::{Phantom, PhantomSpec, Preset, jpeg_round_trip, render_phantom};

/// Largest rotation of a re-take, degrees.
pub const MAX_ROTATION_DEG: f64 = 1.0;
/// Largest shift of a re-take along each axis, px.
pub const MAX_SHIFT_PX: f64 = 10.0;
/// Largest relative exposure change of a re-take.
pub const MAX_EXPOSURE_CHANGE: f64 = 0.05;

/// How a re-take's camera differs from the first photograph.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retake {
    /// Rotation, degrees counter-clockwise as displayed.
    pub rotation_deg: f64,
    /// Shift of the view, px (x right, y down).
    pub shift_px: [f64; 2],
    /// Exposure factor on linear RGB.
    pub exposure: f64,
}

impl Retake {
    /// A re-take drawn uniformly from the ranges above, deterministic in `seed`.
    pub fn draw(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        Self {
            rotation_deg: rng.range(-MAX_ROTATION_DEG, MAX_ROTATION_DEG),
            shift_px: [
                rng.range(-MAX_SHIFT_PX, MAX_SHIFT_PX),
                rng.range(-MAX_SHIFT_PX, MAX_SHIFT_PX),
            ],
            exposure: 1.0 + rng.range(-MAX_EXPOSURE_CHANGE, MAX_EXPOSURE_CHANGE),
        }
    }
}

/// Margin, px, a canvas needs on every side of a `size` px photo for any re-take: the farthest
/// a corner moves under the largest rotation and shift, plus one pixel for the interpolation.
pub fn retake_margin_px(size: u32) -> u32 {
    let half_diagonal = f64::from(size) / std::f64::consts::SQRT_2;
    let rotation = 2.0 * (MAX_ROTATION_DEG.to_radians() / 2.0).sin() * half_diagonal;
    (rotation + MAX_SHIFT_PX * std::f64::consts::SQRT_2).ceil() as u32 + 2
}

/// Photograph the skin of (`spec`, `skin_seed`) again: the canvas rendered with `noise_seed`,
/// viewed by the camera moved by `retake` (see the module doc). Classic and realistic presets.
///
/// # Panics
/// If `spec.validate()` fails.
pub fn render_retake(
    spec: &PhantomSpec,
    skin_seed: u64,
    noise_seed: u64,
    retake: &Retake,
) -> Phantom {
    let mut canvas_spec = PhantomSpec {
        noise_seed: Some(noise_seed),
        jpeg_quality: None,
        ..spec.clone()
    };
    let (size, jpeg) = match spec.preset {
        Preset::Classic => {
            canvas_spec.size_px = spec.size_px + 2 * retake_margin_px(spec.size_px);
            (spec.size_px, spec.jpeg_quality)
        }
        Preset::Realistic => {
            // The px/mm is drawn with the capture: widen the field of view by the margin at the
            // lowest px/mm of the range, for the photo the size the plain render would have.
            let ppm_low = spec.nuisance.px_per_mm[0];
            let largest = (spec.nuisance.fov_mm * spec.nuisance.px_per_mm[1]).round() as u32;
            let margin_mm = f64::from(retake_margin_px(largest)) / ppm_low;
            canvas_spec.nuisance.fov_mm = spec.nuisance.fov_mm + 2.0 * margin_mm;
            canvas_spec.nuisance.jpeg_probability = 0.0;
            (0, spec.jpeg_quality)
        }
    };
    let mut phantom = render_phantom(&canvas_spec, skin_seed);
    let size = if size == 0 {
        (spec.nuisance.fov_mm * phantom.truth.px_per_mm)
            .round()
            .max(64.0) as u32
    } else {
        size
    };
    let jpeg = jpeg.or_else(|| drawn_jpeg_quality(spec, skin_seed));
    let mut image = view(&phantom.image, size, retake);
    if let Some(q) = jpeg {
        image = jpeg_round_trip(&image, q);
    }
    phantom.image = image;
    phantom
}

/// The JPEG quality the realistic preset draws for this capture (`None`: lossless, or classic).
fn drawn_jpeg_quality(spec: &PhantomSpec, skin_seed: u64) -> Option<u8> {
    if spec.preset != Preset::Realistic || !spec.camera_effects {
        return None;
    }
    let capture_seed = spec.capture_seed.unwrap_or(skin_seed);
    spec.nuisance
        .draw(
            super::rng::stream_seed(skin_seed, 50),
            super::rng::stream_seed(capture_seed, 51),
        )
        .jpeg_quality
}

/// The central `size` px of `canvas` as seen by the moved camera (bilinear in linear RGB, times
/// the exposure, encoded to 8-bit sRGB).
fn view(canvas: &RgbImage, size: u32, retake: &Retake) -> RgbImage {
    let lut: Vec<f32> = (0..256)
        .map(|k| srgb_to_linear(f64::from(k) / 255.0) as f32)
        .collect();
    let (cw, ch) = (canvas.width() as usize, canvas.height() as usize);
    let n = size as usize;
    let (sin, cos) = retake.rotation_deg.to_radians().sin_cos();
    let centre_out = (n as f64 - 1.0) / 2.0;
    let (cx, cy) = ((cw as f64 - 1.0) / 2.0, (ch as f64 - 1.0) / 2.0);
    let raw = canvas.as_raw();
    let at = |x: usize, y: usize, c: usize| lut[usize::from(raw[(y * cw + x) * 3 + c])];
    let mut planes = [
        vec![0.0f32; n * n],
        vec![0.0f32; n * n],
        vec![0.0f32; n * n],
    ];
    for y in 0..n {
        for x in 0..n {
            let (u, v) = (x as f64 - centre_out, y as f64 - centre_out);
            // Counter-clockwise as displayed (y down): rotate by −θ in image axes.
            let sx = cx + cos * u + sin * v + retake.shift_px[0];
            let sy = cy - sin * u + cos * v + retake.shift_px[1];
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = ((sx - x0) as f32, (sy - y0) as f32);
            let x0 = (x0.max(0.0) as usize).min(cw - 2);
            let y0 = (y0.max(0.0) as usize).min(ch - 2);
            for (c, plane) in planes.iter_mut().enumerate() {
                let top = at(x0, y0, c) * (1.0 - fx) + at(x0 + 1, y0, c) * fx;
                let bottom = at(x0, y0 + 1, c) * (1.0 - fx) + at(x0 + 1, y0 + 1, c) * fx;
                plane[y * n + x] = (top * (1.0 - fy) + bottom * fy) * retake.exposure as f32;
            }
        }
    }
    encode_srgb8(&planes, n, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_in_range_and_are_deterministic() {
        for seed in 0..200 {
            let r = Retake::draw(seed);
            assert_eq!(r, Retake::draw(seed));
            assert!(r.rotation_deg.abs() <= MAX_ROTATION_DEG);
            assert!(r.shift_px.iter().all(|s| s.abs() <= MAX_SHIFT_PX));
            assert!((r.exposure - 1.0).abs() <= MAX_EXPOSURE_CHANGE);
        }
        assert_ne!(Retake::draw(1), Retake::draw(2));
    }

    #[test]
    fn identity_view_is_the_central_crop_and_shift_moves_it() {
        let canvas =
            RgbImage::from_fn(40, 40, |x, y| image::Rgb([(x * 6) as u8, (y * 6) as u8, 7]));
        let still = Retake {
            rotation_deg: 0.0,
            shift_px: [0.0, 0.0],
            exposure: 1.0,
        };
        let crop = view(&canvas, 20, &still);
        assert_eq!(crop.get_pixel(0, 0), canvas.get_pixel(10, 10));
        assert_eq!(crop.get_pixel(19, 5), canvas.get_pixel(29, 15));
        let moved = view(
            &canvas,
            20,
            &Retake {
                shift_px: [3.0, -2.0],
                ..still
            },
        );
        assert_eq!(moved.get_pixel(0, 0), canvas.get_pixel(13, 8));
        // Brighter exposure, brighter pixels.
        let bright = view(
            &canvas,
            20,
            &Retake {
                exposure: 1.05,
                ..still
            },
        );
        assert!(bright.get_pixel(5, 5)[0] > crop.get_pixel(5, 5)[0]);
    }

    #[test]
    fn margin_covers_the_largest_move() {
        // 500 px: 1 deg moves a corner by 6.2 px, the shift by up to 14.1 px.
        assert_eq!(retake_margin_px(500), 23);
    }
}
