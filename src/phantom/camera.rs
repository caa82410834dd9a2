//! Shading of the height map, skin albedo and the camera model (see the module doc of
//! [`crate::phantom`]).

use image::RgbImage;
use rayon::prelude::*;

use super::PhantomSpec;
use super::height::{add_bspline_noise, normalise_rms};
use super::layout::Layout;
use super::rng::{SplitMix64, mix64, stream_seed};

/// Base skin colour, sRGB 8-bit (a light skin tone).
pub const SKIN_SRGB: [u8; 3] = [210, 160, 140];
/// Melanin-like multiplier of linear RGB inside a pigmented spot.
pub const SPOT_FACTOR: [f64; 3] = [0.85, 0.75, 0.6];
/// Light elevation above the skin plane, degrees; it comes from the upper left (azimuth 135°
/// counter-clockwise from +x as displayed).
pub(crate) const LIGHT_ELEVATION_DEG: f64 = 55.0;
pub(crate) const LIGHT_AZIMUTH_DEG: f64 = 135.0;
/// Weight of the directional (Lambertian) term; the rest is diffuse fill.
pub(crate) const DIRECTIONAL_WEIGHT: f64 = 0.6;
/// Cavity darkening per mm of depth below the blurred surround.
pub(crate) const CAVITY_PER_MM: f64 = 1.5;
/// Gaussian-like surround (three box passes) for the cavity term, sigma in mm.
pub(crate) const CAVITY_SURROUND_SIGMA_MM: f64 = 1.5;
/// Camera blur sigma, px.
const CAMERA_BLUR_SIGMA_PX: f64 = 0.5;
/// Relative fall-off at the image corners (vignetting).
const VIGNETTE: f64 = 0.06;
/// Sensor noise variance in linear units: read² + shot·value.
pub(crate) const READ_NOISE: f64 = 0.001;
pub(crate) const SHOT_NOISE: f64 = 3.0e-5;

/// sRGB decoding of an 8-bit-scaled value in [0, 1].
pub(crate) fn srgb_to_linear(c: f64) -> f64 {
    if c <= 0.040_45 {
        c / 12.92
    } else {
        libm::pow((c + 0.055) / 1.055, 2.4)
    }
}

/// Blur `src` (row-major `size × size`) with three passes of a box filter whose combined variance
/// equals `sigma_px²` (clamp-to-edge boundary). Running sums in f64, fixed order.
pub(crate) fn box3_blur(src: &[f32], size: usize, sigma_px: f64) -> Vec<f32> {
    let r = ((((4.0 * sigma_px * sigma_px + 1.0).sqrt()) - 1.0) / 2.0).round() as isize;
    let mut a = src.to_vec();
    if r <= 0 || size == 0 {
        return a;
    }
    let w = (2 * r + 1) as f64;
    let n = size as isize;
    let clamp = |i: isize| i.clamp(0, n - 1) as usize;
    let mut b = vec![0.0f32; src.len()];
    for _ in 0..3 {
        // Horizontal.
        a.par_chunks(size)
            .zip(b.par_chunks_mut(size))
            .for_each(|(row, out)| {
                let mut sum: f64 = (-r..=r).map(|k| row[clamp(k)] as f64).sum();
                for x in 0..n {
                    out[x as usize] = (sum / w) as f32;
                    sum += row[clamp(x + r + 1)] as f64 - row[clamp(x - r)] as f64;
                }
            });
        // Vertical: running sum of whole rows, column strips in parallel.
        const STRIP: usize = 64;
        let strips: Vec<(usize, Vec<f32>)> = (0..size.div_ceil(STRIP))
            .into_par_iter()
            .map(|s| {
                let c0 = s * STRIP;
                let c1 = (c0 + STRIP).min(size);
                let cw = c1 - c0;
                let mut acc = vec![0.0f64; cw];
                for k in -r..=r {
                    let row = &b[clamp(k) * size..];
                    for (c, v) in acc.iter_mut().enumerate() {
                        *v += row[c0 + c] as f64;
                    }
                }
                let mut out = vec![0.0f32; cw * size];
                for y in 0..n {
                    for (c, v) in acc.iter().enumerate() {
                        out[y as usize * cw + c] = (v / w) as f32;
                    }
                    let add = clamp(y + r + 1) * size;
                    let sub = clamp(y - r) * size;
                    for (c, v) in acc.iter_mut().enumerate() {
                        *v += b[add + c0 + c] as f64 - b[sub + c0 + c] as f64;
                    }
                }
                (c0, out)
            })
            .collect();
        for (c0, out) in strips {
            let cw = out.len() / size;
            for y in 0..size {
                a[y * size + c0..y * size + c0 + cw].copy_from_slice(&out[y * cw..(y + 1) * cw]);
            }
        }
    }
    a
}

/// Separable Gaussian blur with a short kernel (|k| ≤ ⌈4σ⌉), clamp-to-edge.
pub(crate) fn small_gaussian_blur(src: &[f32], size: usize, sigma_px: f64) -> Vec<f32> {
    let rad = (4.0 * sigma_px).ceil() as isize;
    let mut k: Vec<f64> = (-rad..=rad)
        .map(|i| libm::exp(-((i * i) as f64) / (2.0 * sigma_px * sigma_px)))
        .collect();
    let total: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= total);
    let n = size as isize;
    let clamp = |i: isize| i.clamp(0, n - 1) as usize;
    let mut tmp = vec![0.0f32; src.len()];
    tmp.par_chunks_mut(size).enumerate().for_each(|(y, out)| {
        let row = &src[y * size..(y + 1) * size];
        for (x, o) in out.iter_mut().enumerate() {
            let mut acc = 0.0;
            for (j, kv) in k.iter().enumerate() {
                acc += kv * row[clamp(x as isize + j as isize - rad)] as f64;
            }
            *o = acc as f32;
        }
    });
    let mut dst = vec![0.0f32; src.len()];
    dst.par_chunks_mut(size).enumerate().for_each(|(y, out)| {
        for (j, kv) in k.iter().enumerate() {
            let row = &tmp[clamp(y as isize + j as isize - rad) * size..];
            for (x, o) in out.iter_mut().enumerate() {
                *o += (kv * row[x] as f64) as f32;
            }
        }
    });
    dst
}

/// Slope (∂h/∂x, ∂h/∂y) of the height map `h` (mm, `size` × `size`) at pixel (x, y): central
/// differences, one-sided at the border, over `px_mm` mm per px.
#[inline]
pub(crate) fn height_slope(h: &[f32], size: usize, x: usize, y: usize, px_mm: f64) -> (f64, f64) {
    let (xm, xp) = (x.saturating_sub(1), (x + 1).min(size - 1));
    let (ym, yp) = (y.saturating_sub(1), (y + 1).min(size - 1));
    let hx = f64::from(h[y * size + xp] - h[y * size + xm]) / ((xp - xm).max(1) as f64 * px_mm);
    let hy = f64::from(h[yp * size + x] - h[ym * size + x]) / ((yp - ym).max(1) as f64 * px_mm);
    (hx, hy)
}

/// Slow albedo variation of the skin: relative lightness (RMS 0.025, B-spline noise of
/// wavelength ~8 mm) and redness (RMS 0.02, ~6 mm), from streams 20 and 21 of `seed`.
pub(crate) fn albedo_variation(size: usize, ppm: f64, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut lightness = vec![0.0f32; size * size];
    add_bspline_noise(
        &mut lightness,
        size,
        8.0 / 3.0 * ppm,
        1.0,
        stream_seed(seed, 20),
    );
    normalise_rms(&mut lightness, 0.025);
    let mut redness = vec![0.0f32; size * size];
    add_bspline_noise(
        &mut redness,
        size,
        6.0 / 3.0 * ppm,
        1.0,
        stream_seed(seed, 21),
    );
    normalise_rms(&mut redness, 0.02);
    (lightness, redness)
}

/// Shade the height map `h` (mm), apply albedo and camera, encode to 8-bit sRGB.
pub(crate) fn capture(spec: &PhantomSpec, seed: u64, layout: &Layout, h: &[f32]) -> RgbImage {
    let size = spec.size_px as usize;
    let ppm = spec.px_per_mm;
    let px_mm = 1.0 / ppm;

    // Cavity term: depth below the blurred surround.
    let surround = box3_blur(h, size, CAVITY_SURROUND_SIGMA_MM * ppm);

    // Albedo: base colour with slow lightness and redness variation (wavelength ~8 mm).
    let (lightness, redness) = albedo_variation(size, ppm, seed);
    let base: [f64; 3] = SKIN_SRGB.map(|c| srgb_to_linear(c as f64 / 255.0));

    // Pigment multiplier per channel; 1 outside the spots. Soft edge ±0.15 mm around the rim.
    let mut pigment = vec![1.0f32; size * size];
    for s in &layout.spots {
        let r_px = 0.5 * s.diameter_mm * ppm;
        let soft_px = (0.15 * ppm).max(0.5);
        let reach = r_px + soft_px;
        let x0 = (s.x_px - reach).floor().max(0.0) as usize;
        let y0 = (s.y_px - reach).floor().max(0.0) as usize;
        let x1 = ((s.x_px + reach).ceil().min(size as f64 - 1.0)) as usize;
        let y1 = ((s.y_px + reach).ceil().min(size as f64 - 1.0)) as usize;
        for y in y0..=y1 {
            for x in x0..=x1 {
                let r = ((x as f64 - s.x_px).powi(2) + (y as f64 - s.y_px).powi(2)).sqrt();
                let t = ((reach - r) / (2.0 * soft_px)).clamp(0.0, 1.0);
                let alpha = t * t * (3.0 - 2.0 * t);
                // Strength 1 on the blue channel; stored as alpha, colours applied below.
                let p = &mut pigment[y * size + x];
                *p = (*p).min(1.0 - alpha as f32);
            }
        }
    }

    // Illumination: a linear gradient in a random direction plus vignetting.
    let mut rng = SplitMix64::new(stream_seed(seed, 30));
    let grad_angle = rng.range(0.0, std::f64::consts::TAU);
    let grad_strength = if spec.camera_effects {
        rng.range(0.04, 0.10)
    } else {
        0.0
    };
    let vignette = if spec.camera_effects { VIGNETTE } else { 0.0 };
    let (gs, gc) = (libm::sin(grad_angle), libm::cos(grad_angle));
    let centre = (size as f64 - 1.0) / 2.0;
    let corner2 = 2.0 * (size as f64 / 2.0).powi(2);

    let el = LIGHT_ELEVATION_DEG.to_radians();
    let az = LIGHT_AZIMUTH_DEG.to_radians();
    // Towards the light, image axes (x right, y down, z out of the skin).
    let light = [
        libm::cos(el) * libm::cos(az),
        -libm::cos(el) * libm::sin(az),
        libm::sin(el),
    ];

    let chart = spec.chart.then(|| super::chart::ChartLayout::new(size));
    let mut planes = [
        vec![0.0f32; size * size],
        vec![0.0f32; size * size],
        vec![0.0f32; size * size],
    ];
    let [pr, pg, pb] = &mut planes;
    pr.par_chunks_mut(size)
        .zip(pg.par_chunks_mut(size))
        .zip(pb.par_chunks_mut(size))
        .enumerate()
        .for_each(|(y, ((rr, rg), rb))| {
            for x in 0..size {
                let i = y * size + x;
                let (hx, hy) = height_slope(h, size, x, y, px_mm);
                let norm = (hx * hx + hy * hy + 1.0).sqrt();
                let ndotl = ((-hx * light[0] - hy * light[1] + light[2]) / norm).max(0.0);
                let shading = 1.0 - DIRECTIONAL_WEIGHT + DIRECTIONAL_WEIGHT * ndotl / light[2];
                let cavity = (surround[i] - h[i]).max(0.0) as f64;
                let ao = libm::exp(-CAVITY_PER_MM * cavity);
                let (dx, dy) = (x as f64 - centre, y as f64 - centre);
                let illum = (1.0 + grad_strength * (gc * dx + gs * dy) / (size as f64 / 2.0))
                    * (1.0 - vignette * (dx * dx + dy * dy) / corner2);
                let light_k = shading * ao * illum;
                let l = 1.0 + lightness[i] as f64;
                let red = redness[i] as f64;
                let spot = 1.0 - pigment[i] as f64;
                let colour = [
                    base[0] * l * (1.0 - spot * (1.0 - SPOT_FACTOR[0])),
                    base[1] * l * (1.0 - red) * (1.0 - spot * (1.0 - SPOT_FACTOR[1])),
                    base[2] * l * (1.0 - 0.7 * red) * (1.0 - spot * (1.0 - SPOT_FACTOR[2])),
                ];
                // A chart lies flat on top: lit, but neither shaded nor in a cavity.
                let (colour, light_k) = match chart.as_ref().and_then(|c| c.reflectance(x, y)) {
                    Some(reflectance) => (reflectance, illum),
                    None => (colour, light_k),
                };
                rr[x] = (colour[0] * light_k) as f32;
                rg[x] = (colour[1] * light_k) as f32;
                rb[x] = (colour[2] * light_k) as f32;
            }
        });

    if spec.camera_effects {
        for p in planes.iter_mut() {
            *p = small_gaussian_blur(p, size, CAMERA_BLUR_SIGMA_PX);
        }
    }

    let noise = spec.camera_effects.then(|| {
        SensorNoise::new(
            stream_seed(spec.noise_seed.unwrap_or(seed), 40),
            READ_NOISE,
            SHOT_NOISE,
        )
    });
    encode_srgb8(&planes, size, noise)
}

/// Sensor noise: zero-mean with variance `read² + shot · value` (linear units), from a
/// per-pixel hash of `seed`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SensorNoise {
    seed: u64,
    read: f64,
    shot: f64,
}

impl SensorNoise {
    pub(crate) fn new(seed: u64, read: f64, shot: f64) -> Self {
        Self { seed, read, shot }
    }
}

/// Add sensor noise (if any) to linear RGB planes (row-major `size × size`) and encode them
/// to 8-bit sRGB by exact thresholds: code k+1 iff linear ≥ decode((k + 0.5)/255).
pub(crate) fn encode_srgb8(
    planes: &[Vec<f32>; 3],
    size: usize,
    noise: Option<SensorNoise>,
) -> RgbImage {
    let thresholds: Vec<f32> = (0..255)
        .map(|k| srgb_to_linear((k as f64 + 0.5) / 255.0) as f32)
        .collect();
    let mut out = vec![0u8; size * size * 3];
    out.par_chunks_mut(size * 3)
        .enumerate()
        .for_each(|(y, row)| {
            for x in 0..size {
                let i = y * size + x;
                for c in 0..3 {
                    let mut v = planes[c][i] as f64;
                    if let Some(n) = noise {
                        // Irwin–Hall sum of four 16-bit uniforms: zero mean, unit variance.
                        let bits = mix64(
                            n.seed
                                ^ ((i as u64) * 3 + c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                        );
                        let mut sum = 0.0;
                        for k in 0..4 {
                            sum += ((bits >> (16 * k)) & 0xFFFF) as f64 / 65536.0;
                        }
                        let z = (sum - 2.0 + 2.0 / 65536.0) * 3.0f64.sqrt();
                        let sd = (n.read * n.read + n.shot * v.max(0.0)).sqrt();
                        v += sd * z;
                    }
                    let code = thresholds.partition_point(|&t| t <= v as f32);
                    row[x * 3 + c] = code as u8;
                }
            }
        });
    RgbImage::from_raw(size as u32, size as u32, out).expect("buffer has size² RGB pixels")
}
