//! The realistic preset's photograph of a height map: light, skin optics and camera.
//!
//! ```text
//! E     = [(1 − w)·A_sky + w·max(0, n·l)/l_z·V_light] · C     irradiance (flat, lit skin: 1)
//! A_sky = V + 0.2·(1 − V),  V = (1/8) Σ_k cos² θ_k            sky visibility with a little bounce
//! C     = exp(−k_c · max(0, B(h) − h))                         cavity darkening, B: h blurred at 1.5 mm
//! θ_k   = max(0, max_t atan((h(p + t·d_k) − h(p)) / t))        horizon in 8 directions, t ≤ 2 mm
//! V_light = min_t clamp((tan(e + 2°) − g_t)/(tan(e + 2°) − tan(e − 2°)), 0, 1)
//!         g_t = (h(p + t·l̂) − h(p)) / t                        cast shadow, 4° penumbra
//! E_c   = G_{s·σ_c} ∗ E,  σ_c = (0.10, 0.05, 0.025) mm            subsurface scattering per channel
//! ρ_c   = ρ0_c · (1 + L(x)) · (1 − R(x)·r_c) · exp(−m(x)·k_c)   albedo; k = (0.35, 0.57, 1)
//! S     = k_s · M(x) · max(0, n·H)^p · V_light                 sebum shine (0 cross-polarised)
//! I_c   = ρ_c·E_c + S, then hairs: I_c ← (1 − α)·I_c + α·hair_c
//! camera: × (1 + gradient) × vignetting, Gaussian blur σ_b, noise, 8-bit sRGB, JPEG
//! ```
//! n is the normal from central differences of h, l the unit vector to the light (elevation e,
//! azimuth counter-clockwise from +x as displayed; the ring flash is on the camera axis, e = 90°,
//! and casts no shadow), H the half vector of l and the camera axis, w the directional share,
//! ρ0 the skin colour of the drawn L\*a\*b\*, L and R slow lightness (RMS 2.5 %) and redness
//! (RMS 2 %, r = (0, 1, 0.7)) variations, m the melanin optical density of the pigmented lesions
//! (relative absorption ∝ λ^−3.5 at 620/540/460 nm), M a patchy sebum map in [0, 1] (0.5 ± 0.35 of unit-RMS noise of wavelength ~6 mm). A terminal
//! hair lies about its radius above the skin and casts its shadow `(radius + 0.01 mm)/tan e`
//! away from the light, which removes the directional part of E under it.
//!
//! The horizon term makes a narrow deep pit (a pore, an icepick scar) much darker than a wide
//! shallow one of the same depth, as ambient occlusion does in real skin; it is the physical
//! reason pores look like dark specks.

use image::RgbImage;
use rayon::prelude::*;

use super::HairTruth;
use super::SpotTruth;
use super::camera::{
    CAVITY_SURROUND_SIGMA_MM, READ_NOISE, SHOT_NOISE, SensorNoise, albedo_variation, box3_blur,
    encode_srgb8, height_slope, small_gaussian_blur,
};
use super::hair::hair_coverage;
use super::height::{add_bspline_noise, normalise_rms};
use super::nuisance::Nuisance;
use super::rng::stream_seed;

/// Horizon search radius for the sky visibility, mm.
const SKY_RADIUS_MM: f64 = 2.0;
/// Share of the occluded sky that comes back by interreflection.
const BOUNCE: f64 = 0.2;
/// Half the angular size of the light source (penumbra), degrees.
const PENUMBRA_HALF_DEG: f64 = 2.0;
/// Subsurface-scattering blur of the shading per channel (R, G, B), mm, before the drawn scale.
const SSS_SIGMA_MM: [f64; 3] = [0.10, 0.05, 0.025];
/// Relative melanin optical density per channel (blue = 1): absorption ∝ λ^−3.5 at 620, 540 and
/// 460 nm.
pub(crate) const MELANIN_OD: [f64; 3] = [0.35, 0.57, 1.0];
/// Redness (haemoglobin) variation per channel.
const REDNESS: [f64; 3] = [0.0, 1.0, 0.7];
/// Brightness added on a hair by its own shine (not cross-polarised), linear.
const HAIR_SHINE: f64 = 0.03;

/// A flat pigmented lesion with its irregular outline.
pub(crate) struct PigmentSpot {
    pub(crate) truth: SpotTruth,
    /// Width of the soft edge, mm.
    pub(crate) edge_mm: f64,
    /// Border harmonics (k, amplitude, phase): r(φ) = R·(1 + Σ a·cos(kφ + ψ)).
    pub(crate) harmonics: [(f64, f64, f64); 4],
}

/// Everything the photograph needs.
pub(crate) struct Scene<'a> {
    pub(crate) size: usize,
    pub(crate) ppm: f64,
    /// Height map, mm, row-major `size × size`.
    pub(crate) h: &'a [f32],
    pub(crate) nuisance: &'a Nuisance,
    pub(crate) spots: &'a [PigmentSpot],
    pub(crate) hairs: &'a [HairTruth],
    /// Camera blur, noise, vignetting and gradient (off: an ideal camera).
    pub(crate) camera_effects: bool,
    /// Seed of the photograph (albedo variation, sebum map, noise).
    pub(crate) seed: u64,
    /// Seed of the sensor noise (the capture seed unless a replicate asks for new noise).
    pub(crate) noise_seed: u64,
}

/// Linear sRGB of a CIE L\*a\*b\* colour (D65).
pub(crate) fn lab_to_linear_rgb(lab: [f64; 3]) -> [f64; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let fx = fy + lab[1] / 500.0;
    let fz = fy - lab[2] / 200.0;
    let inv = |f: f64| {
        if f > 6.0 / 29.0 {
            f * f * f
        } else {
            3.0 * (6.0f64 / 29.0).powi(2) * (f - 4.0 / 29.0)
        }
    };
    let (x, y, z) = (0.950_47 * inv(fx), inv(fy), 1.088_83 * inv(fz));
    [
        (3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z).max(0.0),
        (-0.969_266_0 * x + 1.876_010_8 * y + 0.041_556_0 * z).max(0.0),
        (0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z).max(0.0),
    ]
}

/// Integer pixel offsets along 8 directions at geometric radii from 1 px to `radius_px`, with
/// their lengths in mm.
fn horizon_offsets(radius_px: f64, ppm: f64) -> Vec<Vec<(isize, isize, f64)>> {
    (0..8)
        .map(|k| {
            let a = f64::from(k) * std::f64::consts::FRAC_PI_4;
            let (c, s) = (libm::cos(a), libm::sin(a));
            let mut out: Vec<(isize, isize, f64)> = Vec::new();
            let mut r = 1.0f64;
            while r <= radius_px.max(1.0) {
                let (dx, dy) = ((r * c).round() as isize, (r * s).round() as isize);
                if out.last().is_none_or(|&(x, y, _)| (x, y) != (dx, dy)) && (dx, dy) != (0, 0) {
                    let len = ((dx * dx + dy * dy) as f64).sqrt() / ppm;
                    out.push((dx, dy, len));
                }
                r = (r * 1.25).max(r + 1.0);
            }
            out
        })
        .collect()
}

/// Sky visibility with bounce, `A_sky` of the module doc.
fn sky_visibility(h: &[f32], size: usize, ppm: f64) -> Vec<f32> {
    let dirs = horizon_offsets(SKY_RADIUS_MM * ppm, ppm);
    let n = size as isize;
    let mut out = vec![0.0f32; size * size];
    out.par_chunks_mut(size).enumerate().for_each(|(y, row)| {
        for (x, o) in row.iter_mut().enumerate() {
            let h0 = h[y * size + x];
            let mut v = 0.0f64;
            for dir in &dirs {
                let mut tan_max = 0.0f64;
                for &(dx, dy, len) in dir {
                    let xx = (x as isize + dx).clamp(0, n - 1) as usize;
                    let yy = (y as isize + dy).clamp(0, n - 1) as usize;
                    let t = f64::from(h[yy * size + xx] - h0) / len;
                    tan_max = tan_max.max(t);
                }
                v += 1.0 / (1.0 + tan_max * tan_max);
            }
            let v = v / dirs.len() as f64;
            *o = (v + BOUNCE * (1.0 - v)) as f32;
        }
    });
    out
}

/// Visible fraction of the directional light (cast shadows with a soft penumbra), `V_light`.
fn light_visibility(h: &[f32], size: usize, ppm: f64, azimuth: f64, elevation: f64) -> Vec<f32> {
    let (lo, hi) = (
        (elevation - PENUMBRA_HALF_DEG).max(1.0).to_radians(),
        (elevation + PENUMBRA_HALF_DEG).min(89.0).to_radians(),
    );
    let (tan_lo, tan_hi) = (libm::tan(lo), libm::tan(hi));
    let (hmin, hmax) = h
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let range_mm = f64::from(hmax - hmin).max(0.0);
    let steps = ((range_mm / tan_lo) * ppm).ceil().min(4.0 * ppm) as usize;
    // Towards the light in image axes (y down).
    let (dx, dy) = (libm::cos(azimuth), -libm::sin(azimuth));
    let offsets: Vec<(isize, isize, f64)> = (1..=steps)
        .filter_map(|t| {
            let (ox, oy) = (
                (t as f64 * dx).round() as isize,
                (t as f64 * dy).round() as isize,
            );
            ((ox, oy) != (0, 0)).then(|| (ox, oy, ((ox * ox + oy * oy) as f64).sqrt() / ppm))
        })
        .collect();
    let n = size as isize;
    let mut out = vec![1.0f32; size * size];
    out.par_chunks_mut(size).enumerate().for_each(|(y, row)| {
        for (x, o) in row.iter_mut().enumerate() {
            let h0 = h[y * size + x];
            let mut vis = 1.0f64;
            for &(ox, oy, len) in &offsets {
                let (xx, yy) = (x as isize + ox, y as isize + oy);
                if xx < 0 || yy < 0 || xx >= n || yy >= n {
                    break;
                }
                let g = f64::from(h[yy as usize * size + xx as usize] - h0) / len;
                if g > tan_lo {
                    vis = vis.min(((tan_hi - g) / (tan_hi - tan_lo)).clamp(0.0, 1.0));
                    if vis == 0.0 {
                        break;
                    }
                }
            }
            *o = vis as f32;
        }
    });
    out
}

/// Melanin optical density (blue) of the pigmented lesions at every pixel.
fn melanin(spots: &[PigmentSpot], size: usize, ppm: f64) -> Vec<f32> {
    let mut m = vec![0.0f32; size * size];
    for s in spots {
        let t = &s.truth;
        let r_px = 0.5 * t.diameter_mm * ppm;
        let edge_px = (s.edge_mm * ppm).max(0.5);
        let amp: f64 = s.harmonics.iter().map(|h| h.1.abs()).sum();
        let reach = r_px * (1.0 + amp) + edge_px;
        let last = size as f64 - 1.0;
        let x0 = (t.x_px - reach).floor().clamp(0.0, last) as usize;
        let y0 = (t.y_px - reach).floor().clamp(0.0, last) as usize;
        let x1 = (t.x_px + reach).ceil().clamp(0.0, last) as usize;
        let y1 = (t.y_px + reach).ceil().clamp(0.0, last) as usize;
        let od = t.optical_density.unwrap_or(0.0);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (ddx, ddy) = (x as f64 - t.x_px, y as f64 - t.y_px);
                let rho = (ddx * ddx + ddy * ddy).sqrt();
                let phi = libm::atan2(-ddy, ddx);
                let border = r_px
                    * (1.0
                        + s.harmonics
                            .iter()
                            .map(|&(k, a, p)| a * libm::cos(k * phi + p))
                            .sum::<f64>());
                let u = ((border - rho) / edge_px + 0.5).clamp(0.0, 1.0);
                let w = u * u * (3.0 - 2.0 * u);
                let v = &mut m[y * size + x];
                *v = v.max((od * w) as f32);
            }
        }
    }
    m
}

/// Photograph the scene: 8-bit sRGB (before any JPEG round trip).
pub(crate) fn photograph(scene: &Scene<'_>) -> RgbImage {
    let (size, ppm, h, n) = (scene.size, scene.ppm, scene.h, scene.nuisance);
    let px_mm = 1.0 / ppm;
    let w_dir = n.directional_weight;
    let el = n.light_elevation_deg.to_radians();
    let az = n.light_azimuth_deg.to_radians();
    let light = [
        libm::cos(el) * libm::cos(az),
        -libm::cos(el) * libm::sin(az),
        libm::sin(el),
    ];
    let half = {
        let v = [light[0], light[1], light[2] + 1.0];
        let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        [v[0] / norm, v[1] / norm, v[2] / norm]
    };

    let sky = sky_visibility(h, size, ppm);
    let surround = box3_blur(h, size, CAVITY_SURROUND_SIGMA_MM * ppm);
    let mut lit = if n.diffuse_light {
        vec![1.0f32; size * size]
    } else {
        light_visibility(h, size, ppm, az, n.light_elevation_deg)
    };
    // Hair shadows: the hair lies about its radius above the skin.
    if !n.diffuse_light {
        for hair in scene.hairs {
            let lift_mm = 0.5 * hair.width_mm + 0.01;
            let d_px = lift_mm / libm::tan(el) * ppm;
            let offset = [d_px * libm::cos(az), -d_px * libm::sin(az)];
            for (i, a) in hair_coverage(hair, size, ppm, offset) {
                lit[i] *= 1.0 - 0.9 * a;
            }
        }
    }

    // Sebum map: patchy, wavelength ~6 mm, in [0, 1].
    let mut sebum_map = vec![0.0f32; size * size];
    if n.sebum > 0.0 {
        add_bspline_noise(
            &mut sebum_map,
            size,
            6.0 / 3.0 * ppm,
            1.0,
            stream_seed(scene.seed, 70),
        );
        normalise_rms(&mut sebum_map, 1.0);
        for v in &mut sebum_map {
            *v = (0.5 + 0.35 * *v).clamp(0.0, 1.0);
        }
    }

    // Irradiance and specular.
    let mut irradiance = vec![0.0f32; size * size];
    let mut specular = vec![0.0f32; size * size];
    irradiance
        .par_chunks_mut(size)
        .zip(specular.par_chunks_mut(size))
        .enumerate()
        .for_each(|(y, (er, sr))| {
            for x in 0..size {
                let i = y * size + x;
                let (hx, hy) = height_slope(h, size, x, y, px_mm);
                let norm = (hx * hx + hy * hy + 1.0).sqrt();
                let nv = [-hx / norm, -hy / norm, 1.0 / norm];
                let ndotl = (nv[0] * light[0] + nv[1] * light[1] + nv[2] * light[2]).max(0.0);
                let vis = f64::from(lit[i]);
                let cavity = libm::exp(-n.cavity_per_mm * f64::from((surround[i] - h[i]).max(0.0)));
                er[x] = (((1.0 - w_dir) * f64::from(sky[i]) + w_dir * ndotl / light[2] * vis)
                    * cavity) as f32;
                if n.sebum > 0.0 {
                    let ndoth = (nv[0] * half[0] + nv[1] * half[1] + nv[2] * half[2]).max(0.0);
                    sr[x] = (n.sebum
                        * f64::from(sebum_map[i])
                        * libm::pow(ndoth, n.specular_exponent)
                        * vis) as f32;
                }
            }
        });
    drop((sky, lit, sebum_map, surround));

    // Albedo variation and pigment.
    let (lightness, redness) = albedo_variation(size, ppm, scene.seed);
    let od = melanin(scene.spots, size, ppm);
    let base = lab_to_linear_rgb(n.skin_lab);

    let mut planes: [Vec<f32>; 3] = [0, 1, 2].map(|c| {
        let sigma = n.sss_scale * SSS_SIGMA_MM[c] * ppm;
        let e = if sigma > 0.3 {
            small_gaussian_blur(&irradiance, size, sigma)
        } else {
            irradiance.clone()
        };
        let mut plane = vec![0.0f32; size * size];
        plane.par_iter_mut().enumerate().for_each(|(i, p)| {
            let albedo = base[c]
                * (1.0 + f64::from(lightness[i]))
                * (1.0 - REDNESS[c] * f64::from(redness[i]))
                * libm::exp(-f64::from(od[i]) * MELANIN_OD[c]);
            *p = (albedo * f64::from(e[i]) + f64::from(specular[i])) as f32;
        });
        plane
    });
    drop((irradiance, specular, lightness, redness, od));

    // Hairs on top.
    let shine = if n.cross_polarised { 0.0 } else { HAIR_SHINE };
    for hair in scene.hairs {
        for (i, a) in hair_coverage(hair, size, ppm, [0.0, 0.0]) {
            for (c, plane) in planes.iter_mut().enumerate() {
                let v = &mut plane[i];
                *v = ((1.0 - f64::from(a)) * f64::from(*v)
                    + f64::from(a) * (hair.colour[c] + shine)) as f32;
            }
        }
    }

    if !scene.camera_effects {
        return encode_srgb8(&planes, size, None);
    }
    // Illumination gradient and vignetting.
    let ga = n.gradient_angle_deg.to_radians();
    let (gs, gc) = (libm::sin(ga), libm::cos(ga));
    let centre = (size as f64 - 1.0) / 2.0;
    let corner2 = 2.0 * (size as f64 / 2.0).powi(2);
    for plane in planes.iter_mut() {
        plane.par_chunks_mut(size).enumerate().for_each(|(y, row)| {
            for (x, v) in row.iter_mut().enumerate() {
                let (dx, dy) = (x as f64 - centre, y as f64 - centre);
                let k = (1.0 + n.gradient * (gc * dx + gs * dy) / (size as f64 / 2.0))
                    * (1.0 - n.vignetting * (dx * dx + dy * dy) / corner2);
                *v = (f64::from(*v) * k) as f32;
            }
        });
    }
    let blur_px = n.blur_sigma_mm * ppm;
    if blur_px > 0.05 {
        for p in planes.iter_mut() {
            *p = small_gaussian_blur(p, size, blur_px);
        }
    }
    let noise = SensorNoise::new(
        stream_seed(scene.noise_seed, 40),
        READ_NOISE * n.noise_scale,
        SHOT_NOISE * n.noise_scale * n.noise_scale,
    );
    encode_srgb8(&planes, size, Some(noise))
}

/// sRGB 8-bit of a linear value (for tests and documentation).
#[cfg(test)]
fn encode(v: f64) -> u8 {
    let s = if v <= 0.003_130_8 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    };
    (s.clamp(0.0, 1.0) * 255.0).round() as u8
}

#[cfg(test)]
mod tests {
    use super::super::camera::srgb_to_linear;
    use super::*;

    /// L*a*b* → linear RGB against the forward transform of METHODS.md on a skin colour.
    #[test]
    fn lab_round_trips_through_the_forward_transform() {
        let lab = [62.0, 12.0, 17.0];
        let rgb = lab_to_linear_rgb(lab);
        let x = 0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2];
        let y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
        let z = 0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2];
        let f = |t: f64| {
            if t > 0.008856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        let l = 116.0 * f(y) - 16.0;
        let a = 500.0 * (f(x / 0.95047) - f(y));
        let b = 200.0 * (f(y) - f(z / 1.08883));
        assert!((l - lab[0]).abs() < 0.05, "{l}");
        assert!((a - lab[1]).abs() < 0.1, "{a}");
        assert!((b - lab[2]).abs() < 0.1, "{b}");
        // And a sanity check of the encode helper: mid grey.
        assert_eq!(encode(srgb_to_linear(128.0 / 255.0)), 128);
    }

    /// A cone-shaped pit (deep, narrow) is darker at its bottom than a wide bowl of equal depth:
    /// the sky visibility follows the opening angle.
    #[test]
    fn narrow_pits_see_less_sky_than_wide_bowls() {
        let size = 101;
        let ppm = 20.0;
        let pit = |r_mm: f64| {
            let mut h = vec![0.0f32; size * size];
            for y in 0..size {
                for x in 0..size {
                    let rho = ((x as f64 - 50.0).hypot(y as f64 - 50.0)) / (r_mm * ppm);
                    if rho < 1.0 {
                        h[y * size + x] = (-0.2 * (1.0 - rho)) as f32;
                    }
                }
            }
            sky_visibility(&h, size, ppm)[50 * size + 50]
        };
        let (narrow, wide) = (pit(0.2), pit(1.5));
        // Cone of depth 0.2 and radius 0.2 mm: horizon 45° all round, cos² = 0.5.
        assert!(
            (narrow - (0.5 + BOUNCE as f32 * 0.5)).abs() < 0.03,
            "{narrow}"
        );
        assert!(wide > 0.95, "{wide}");
        let flat = sky_visibility(&vec![0.0; size * size], size, ppm);
        assert!(flat.iter().all(|&v| (v - 1.0).abs() < 1e-6));
    }

    /// A wall higher than the light's elevation allows shadows the ground behind it.
    #[test]
    fn a_step_casts_a_shadow_of_the_expected_length() {
        let (size, ppm) = (200, 20.0);
        // Terrain 0.2 mm higher for x < 100; light from the left (azimuth 180°) at 30°.
        let h: Vec<f32> = (0..size * size)
            .map(|i| if i % size < 100 { 0.2 } else { 0.0 })
            .collect();
        let vis = light_visibility(&h, size, ppm, std::f64::consts::PI, 30.0);
        // Shadow length 0.2 / tan 30° = 0.346 mm = 6.9 px.
        let row = &vis[100 * size..101 * size];
        assert_eq!(row[103], 0.0);
        assert!(row[110] > 0.99, "{}", row[110]);
        assert!(row[50] > 0.99);
    }
}
