//! The nuisance distribution of the `realistic` preset: every property of real skin and of a real
//! photograph that is *not* a measured feature, drawn anew for every phantom.
//!
//! A measuring instrument is judged on skin it was not tuned to, so the validation phantoms
//! randomise everything that could fool a detector over its real range, and record the draws in
//! the ground truth (`nuisance` in `phantom-NNN.json`) so results can be stratified by them.
//! Each range below is `[min, max]`, drawn uniformly per phantom unless said otherwise; a range
//! with `min == max` fixes the value (validation strata and severity sweeps do that).
//!
//! | property | range | source |
//! |---|---|---|
//! | resolution | 8-40 px/mm | face cameras (VISIA-CR, about 8-12 px/mm) to close-up and dermoscopic photos (20-40 px/mm) |
//! | field of view | 35 mm square | a cheek or forehead close-up |
//! | skin tone | Fitzpatrick I-VI, L\* 28-76, b\* 13-21 | ITA classes of Chardon et al. 1991 (doi:10.1111/j.1467-2494.1991.tb00561.x); L\*/b\* by skin type, Del Bino & Bernerd 2013 (doi:10.1111/bjd.12529) |
//! | microrelief RMS | 0.01-0.03 mm | Lagarde, Rouvrais & Black 2005 (doi:10.1111/j.1600-0846.2005.00113.x) |
//! | pore density | 20-150 per cm2 | visible pores on cheeks, Flament et al. 2015 (doi:10.1111/ics.12214) |
//! | pore diameter | median 0.08-0.22 mm (log-normal, sd 0.35 in ln), clipped to 0.05-0.4 mm; a share 0-30 % of enlarged pores of 0.25-0.4 mm | Flament 2015 (visible pores >= 0.25 mm); Roh et al. 2006 (doi:10.1111/j.1600-0846.2006.00150.x) |
//! | pore depth | phantom mean 0.015-0.08 mm, each pore x 0.6-1.3, clipped to 0.01-0.1 mm | follicular openings, Sugiyama-Nakagiri et al. 2009 |
//! | furrow network | cell 0.3-1.0 mm, depth 0.01-0.04 mm, groove width (FWHM) 0.03-0.08 mm, cells 1-2x longer than wide (area kept) along a random direction | primary/secondary lines, Lagarde 2005; METHODS.md |
//! | hairs | terminal 0-6 (0.05-0.1 mm wide, 3-15 mm long, dark or fair), vellus 0-15 (0.02-0.04 mm, faint); stubble on request (0.09-0.2 mm, 0.3-1.5 mm visible, 30-100 per cm2) | METHODS.md (vellus < 0.03 mm, terminal > 0.06 mm, beard 0.09-0.23 mm) |
//! | flat pigment | freckles 0-25 (0.5-2 mm), lentigines 0-3 (2-5 mm), naevi 0-2 (1-5 mm), melanin optical density 0.15-1.6 | Jacob 2001 differential; melanin absorption ~ wavelength^-3.5 (Jacques 1996) |
//! | sebum shine | specular strength 0-0.25, exponent 10-60, patchy; cross-polarised capture (no specular) with probability 0.25 | METHODS.md (cross-polarised light removes glare) |
//! | light | ring flash on the camera axis (probability 0.3) or one oblique source at 20-70 deg elevation from any azimuth; directional share 0.5-0.85 (oblique) or 0.3-0.6 (ring flash) | METHODS.md (texture lighting 30-45 deg; on-axis flash in ~90 % of clinical photos) |
//! | cavity darkening | exp(−k·depth below the surround blurred at 1.5 mm), k = 0.8-2.0 per mm | ambient light trapped in folds; the classic phantom's k = 1.5 |
//! | subsurface scattering | shading blurred per channel by (0.10, 0.05, 0.025) mm x 0.5-1.5 | red light travels furthest in skin (Anderson & Parrish 1981) |
//! | camera | Gaussian blur sigma 0.02-0.08 mm; sensor noise x 0.5-3 of the classic phantom's; JPEG quality 70-95 (probability 0.7, else lossless); vignetting 0-15 %; illumination gradient 0-10 % | consumer and clinical cameras |

use serde::{Deserialize, Serialize};

use super::rng::SplitMix64;

/// The ranges every nuisance is drawn from (see the module doc for their sources).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NuisanceRanges {
    /// Resolution, px per mm.
    pub px_per_mm: [f64; 2],
    /// Side of the (square) field of view, mm.
    pub fov_mm: f64,
    /// Fitzpatrick skin type, 1-6 (integer, uniform).
    pub fitzpatrick: [u8; 2],
    /// RMS of the fractal microrelief, mm.
    pub relief_sq_mm: [f64; 2],
    /// Pores per cm2.
    pub pore_density_per_cm2: [f64; 2],
    /// Median pore diameter (full width at half depth), mm.
    pub pore_median_diameter_mm: [f64; 2],
    /// Share of enlarged pores (diameter 0.25-0.4 mm).
    pub pore_enlarged_share: [f64; 2],
    /// Mean pore depth, mm.
    pub pore_depth_mm: [f64; 2],
    /// Furrow network cell size, mm.
    pub furrow_cell_mm: [f64; 2],
    /// Mean furrow depth, mm.
    pub furrow_depth_mm: [f64; 2],
    /// Furrow groove full width at half depth, mm.
    pub furrow_width_mm: [f64; 2],
    /// Stretch of the furrow cells along their main direction (1 = isotropic).
    pub furrow_stretch: [f64; 2],
    /// Number of terminal hairs.
    pub terminal_hairs: [u32; 2],
    /// Number of vellus hairs.
    pub vellus_hairs: [u32; 2],
    /// Stubble (many short, thick beard hairs).
    pub stubble: bool,
    /// Number of freckles (0.5-2 mm).
    pub freckles: [u32; 2],
    /// Number of lentigines (2-5 mm).
    pub lentigines: [u32; 2],
    /// Number of naevi (1-5 mm).
    pub naevi: [u32; 2],
    /// Specular (sebum) strength.
    pub sebum: [f64; 2],
    /// Probability of a cross-polarised capture (no specular reflection).
    pub cross_polarised_probability: f64,
    /// Probability of a ring flash on the camera axis instead of an oblique light.
    pub diffuse_light_probability: f64,
    /// Elevation of an oblique light above the skin plane, degrees.
    pub light_elevation_deg: [f64; 2],
    /// Azimuth of an oblique light, degrees counter-clockwise from +x as displayed.
    pub light_azimuth_deg: [f64; 2],
    /// Scale of the per-channel subsurface-scattering blur of the shading.
    pub sss_scale: [f64; 2],
    /// Cavity darkening per mm of depth below the surround (ambient light trapped in folds).
    pub cavity_per_mm: [f64; 2],
    /// Camera blur (Gaussian point-spread function) sigma, mm.
    pub blur_sigma_mm: [f64; 2],
    /// Sensor noise scale relative to the classic phantom's (read 0.001, shot 3e-5 x value).
    pub noise_scale: [f64; 2],
    /// Probability of a JPEG round trip.
    pub jpeg_probability: f64,
    /// JPEG quality.
    pub jpeg_quality: [u8; 2],
    /// Relative fall-off at the image corners.
    pub vignetting: [f64; 2],
    /// Illumination gradient across half the image.
    pub gradient: [f64; 2],
}

impl Default for NuisanceRanges {
    fn default() -> Self {
        Self {
            px_per_mm: [8.0, 40.0],
            fov_mm: 35.0,
            fitzpatrick: [1, 6],
            relief_sq_mm: [0.01, 0.03],
            pore_density_per_cm2: [20.0, 150.0],
            pore_median_diameter_mm: [0.08, 0.22],
            pore_enlarged_share: [0.0, 0.3],
            pore_depth_mm: [0.015, 0.08],
            furrow_cell_mm: [0.3, 1.0],
            furrow_depth_mm: [0.01, 0.04],
            furrow_width_mm: [0.03, 0.08],
            furrow_stretch: [1.0, 2.0],
            terminal_hairs: [0, 6],
            vellus_hairs: [0, 15],
            stubble: false,
            freckles: [0, 25],
            lentigines: [0, 3],
            naevi: [0, 2],
            sebum: [0.0, 0.25],
            cross_polarised_probability: 0.25,
            diffuse_light_probability: 0.3,
            light_elevation_deg: [20.0, 70.0],
            light_azimuth_deg: [0.0, 360.0],
            sss_scale: [0.5, 1.5],
            cavity_per_mm: [0.8, 2.0],
            blur_sigma_mm: [0.02, 0.08],
            noise_scale: [0.5, 3.0],
            jpeg_probability: 0.7,
            jpeg_quality: [70, 95],
            vignetting: [0.0, 0.15],
            gradient: [0.0, 0.1],
        }
    }
}

/// The nuisance values of one phantom, as drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nuisance {
    pub px_per_mm: f64,
    pub fitzpatrick: u8,
    /// Base skin colour, CIE L\*a\*b\* (D65).
    pub skin_lab: [f64; 3],
    pub relief_sq_mm: f64,
    pub pore_density_per_cm2: f64,
    pub pore_median_diameter_mm: f64,
    pub pore_enlarged_share: f64,
    pub pore_depth_mm: f64,
    pub furrow_cell_mm: f64,
    pub furrow_depth_mm: f64,
    pub furrow_width_mm: f64,
    pub furrow_stretch: f64,
    /// Direction of the furrow stretch, degrees counter-clockwise from +x as displayed.
    pub furrow_angle_deg: f64,
    pub terminal_hairs: u32,
    pub vellus_hairs: u32,
    pub stubble: bool,
    pub freckles: u32,
    pub lentigines: u32,
    pub naevi: u32,
    pub sebum: f64,
    pub specular_exponent: f64,
    pub cross_polarised: bool,
    /// Ring flash on the camera axis (no cast shadows) instead of an oblique light.
    pub diffuse_light: bool,
    /// Elevation of the light, degrees (90 for the ring flash).
    pub light_elevation_deg: f64,
    pub light_azimuth_deg: f64,
    /// Share of the irradiance from the directional light; the rest is ambient (sky) light.
    pub directional_weight: f64,
    pub sss_scale: f64,
    pub cavity_per_mm: f64,
    pub blur_sigma_mm: f64,
    pub noise_scale: f64,
    pub jpeg_quality: Option<u8>,
    pub vignetting: f64,
    pub gradient: f64,
    pub gradient_angle_deg: f64,
}

/// L\*, a\*, b\* ranges of the base skin colour by Fitzpatrick type (index 0 = type I).
const SKIN_LAB: [([f64; 2], [f64; 2], [f64; 2]); 6] = [
    ([70.0, 76.0], [7.0, 11.0], [13.0, 16.0]),
    ([64.0, 70.0], [8.0, 12.0], [15.0, 18.0]),
    ([57.0, 64.0], [9.0, 13.0], [16.0, 20.0]),
    ([49.0, 57.0], [10.0, 14.0], [18.0, 21.0]),
    ([39.0, 49.0], [10.0, 14.0], [17.0, 21.0]),
    ([28.0, 39.0], [8.0, 12.0], [13.0, 18.0]),
];

fn check(name: &str, r: [f64; 2], lo: f64, hi: f64) -> Result<(), String> {
    if r[0].is_finite() && r[1].is_finite() && lo <= r[0] && r[0] <= r[1] && r[1] <= hi {
        Ok(())
    } else {
        Err(format!(
            "nuisance.{name} must satisfy {lo} <= min <= max <= {hi}, got {r:?}"
        ))
    }
}

fn check_p(name: &str, p: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!("nuisance.{name} must be a probability, got {p}"))
    }
}

fn range_u(rng: &mut SplitMix64, r: [u32; 2]) -> u32 {
    let span = u64::from(r[1] - r[0]) + 1;
    r[0] + (rng.next_u64() % span) as u32
}

fn as_f(r: [u32; 2]) -> [f64; 2] {
    [f64::from(r[0]), f64::from(r[1])]
}

impl NuisanceRanges {
    /// Check every range.
    ///
    /// # Errors
    /// A message naming the first bad range.
    pub fn validate(&self) -> Result<(), String> {
        check("px_per_mm", self.px_per_mm, 1.0, 200.0)?;
        check("fov_mm", [self.fov_mm; 2], 3.0, 500.0)?;
        check(
            "fitzpatrick",
            [
                f64::from(self.fitzpatrick[0]),
                f64::from(self.fitzpatrick[1]),
            ],
            1.0,
            6.0,
        )?;
        check("relief_sq_mm", self.relief_sq_mm, 0.0, 0.2)?;
        check(
            "pore_density_per_cm2",
            self.pore_density_per_cm2,
            0.0,
            1000.0,
        )?;
        check(
            "pore_median_diameter_mm",
            self.pore_median_diameter_mm,
            0.01,
            1.0,
        )?;
        check("pore_enlarged_share", self.pore_enlarged_share, 0.0, 1.0)?;
        check("pore_depth_mm", self.pore_depth_mm, 0.0, 0.5)?;
        check("furrow_cell_mm", self.furrow_cell_mm, 0.05, 5.0)?;
        check("furrow_depth_mm", self.furrow_depth_mm, 0.0, 0.2)?;
        check("furrow_width_mm", self.furrow_width_mm, 0.005, 0.5)?;
        check("furrow_stretch", self.furrow_stretch, 1.0, 10.0)?;
        check("terminal_hairs", as_f(self.terminal_hairs), 0.0, 500.0)?;
        check("vellus_hairs", as_f(self.vellus_hairs), 0.0, 500.0)?;
        check("freckles", as_f(self.freckles), 0.0, 500.0)?;
        check("lentigines", as_f(self.lentigines), 0.0, 100.0)?;
        check("naevi", as_f(self.naevi), 0.0, 100.0)?;
        check("sebum", self.sebum, 0.0, 2.0)?;
        check_p(
            "cross_polarised_probability",
            self.cross_polarised_probability,
        )?;
        check_p("diffuse_light_probability", self.diffuse_light_probability)?;
        check("light_elevation_deg", self.light_elevation_deg, 5.0, 90.0)?;
        check("light_azimuth_deg", self.light_azimuth_deg, -360.0, 720.0)?;
        check("sss_scale", self.sss_scale, 0.0, 5.0)?;
        check("cavity_per_mm", self.cavity_per_mm, 0.0, 20.0)?;
        check("blur_sigma_mm", self.blur_sigma_mm, 0.0, 1.0)?;
        check("noise_scale", self.noise_scale, 0.0, 50.0)?;
        check_p("jpeg_probability", self.jpeg_probability)?;
        check(
            "jpeg_quality",
            [
                f64::from(self.jpeg_quality[0]),
                f64::from(self.jpeg_quality[1]),
            ],
            1.0,
            100.0,
        )?;
        check("vignetting", self.vignetting, 0.0, 0.9)?;
        check("gradient", self.gradient, 0.0, 0.9)?;
        Ok(())
    }

    /// Draw the skin's nuisance (everything that belongs to the subject's skin) from `skin_seed`
    /// and the photograph's (light, camera, shine) from `capture_seed`.
    pub fn draw(&self, skin_seed: u64, capture_seed: u64) -> Nuisance {
        let mut s = SplitMix64::new(skin_seed);
        let fitzpatrick = range_u(
            &mut s,
            [
                u32::from(self.fitzpatrick[0]),
                u32::from(self.fitzpatrick[1]),
            ],
        ) as u8;
        let (l, a, b) = SKIN_LAB[usize::from(fitzpatrick.clamp(1, 6) - 1)];
        let skin_lab = [s.in_range(l), s.in_range(a), s.in_range(b)];
        let relief_sq_mm = s.in_range(self.relief_sq_mm);
        let pore_density_per_cm2 = s.in_range(self.pore_density_per_cm2);
        let pore_median_diameter_mm = s.in_range(self.pore_median_diameter_mm);
        let pore_enlarged_share = s.in_range(self.pore_enlarged_share);
        let pore_depth_mm = s.in_range(self.pore_depth_mm);
        let furrow_cell_mm = s.in_range(self.furrow_cell_mm);
        let furrow_depth_mm = s.in_range(self.furrow_depth_mm);
        let furrow_width_mm = s.in_range(self.furrow_width_mm);
        let furrow_stretch = s.in_range(self.furrow_stretch);
        let furrow_angle_deg = s.range(0.0, 180.0);
        let terminal_hairs = range_u(&mut s, self.terminal_hairs);
        let vellus_hairs = range_u(&mut s, self.vellus_hairs);
        let freckles = range_u(&mut s, self.freckles);
        let lentigines = range_u(&mut s, self.lentigines);
        let naevi = range_u(&mut s, self.naevi);

        let mut c = SplitMix64::new(capture_seed);
        let px_per_mm = c.in_range(self.px_per_mm);
        let sebum = c.in_range(self.sebum);
        let specular_exponent = c.range(10.0, 60.0);
        let cross_polarised = c.uniform() < self.cross_polarised_probability;
        let diffuse_light = c.uniform() < self.diffuse_light_probability;
        let elevation = c.in_range(self.light_elevation_deg);
        let light_azimuth_deg = c.in_range(self.light_azimuth_deg).rem_euclid(360.0);
        let (light_elevation_deg, directional_weight) = if diffuse_light {
            (90.0, c.range(0.3, 0.6))
        } else {
            (elevation, c.range(0.5, 0.85))
        };
        let sss_scale = c.in_range(self.sss_scale);
        let cavity_per_mm = c.in_range(self.cavity_per_mm);
        let blur_sigma_mm = c.in_range(self.blur_sigma_mm);
        let noise_scale = c.in_range(self.noise_scale);
        let jpeg = c.uniform() < self.jpeg_probability;
        let quality = range_u(
            &mut c,
            [
                u32::from(self.jpeg_quality[0]),
                u32::from(self.jpeg_quality[1]),
            ],
        ) as u8;
        let vignetting = c.in_range(self.vignetting);
        let gradient = c.in_range(self.gradient);
        let gradient_angle_deg = c.range(0.0, 360.0);
        Nuisance {
            px_per_mm,
            fitzpatrick,
            skin_lab,
            relief_sq_mm,
            pore_density_per_cm2,
            pore_median_diameter_mm,
            pore_enlarged_share,
            pore_depth_mm,
            furrow_cell_mm,
            furrow_depth_mm,
            furrow_width_mm,
            furrow_stretch,
            furrow_angle_deg,
            terminal_hairs,
            vellus_hairs,
            stubble: self.stubble,
            freckles,
            lentigines,
            naevi,
            sebum: if cross_polarised { 0.0 } else { sebum },
            specular_exponent,
            cross_polarised,
            diffuse_light,
            light_elevation_deg,
            light_azimuth_deg,
            directional_weight,
            sss_scale,
            cavity_per_mm,
            blur_sigma_mm,
            noise_scale,
            jpeg_quality: jpeg.then_some(quality),
            vignetting,
            gradient,
            gradient_angle_deg,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_in_their_ranges_and_fixed_ranges_fix_the_value() {
        let r = NuisanceRanges::default();
        r.validate().unwrap();
        for seed in 0..200u64 {
            let n = r.draw(seed, seed ^ 0xABCD);
            assert!((8.0..=40.0).contains(&n.px_per_mm));
            assert!((1..=6).contains(&n.fitzpatrick));
            assert!((20.0..=150.0).contains(&n.pore_density_per_cm2));
            assert!((0.01..=0.04).contains(&n.furrow_depth_mm));
            assert!(n.terminal_hairs <= 6 && n.vellus_hairs <= 15);
            assert!((0.02..=0.08).contains(&n.blur_sigma_mm));
            if n.cross_polarised {
                assert_eq!(n.sebum, 0.0);
            }
            if let Some(q) = n.jpeg_quality {
                assert!((70..=95).contains(&q));
            }
            if !n.diffuse_light {
                assert!((20.0..=70.0).contains(&n.light_elevation_deg));
            }
        }
        let fixed = NuisanceRanges {
            pore_density_per_cm2: [80.0, 80.0],
            fitzpatrick: [6, 6],
            terminal_hairs: [3, 3],
            ..r
        };
        let n = fixed.draw(5, 6);
        assert_eq!(n.pore_density_per_cm2, 80.0);
        assert_eq!(n.fitzpatrick, 6);
        assert_eq!(n.terminal_hairs, 3);
    }

    #[test]
    fn skin_and_capture_draws_are_independent_streams() {
        let r = NuisanceRanges::default();
        let a = r.draw(1, 100);
        let b = r.draw(1, 200);
        assert_eq!(a.skin_lab, b.skin_lab);
        assert_eq!(a.pore_density_per_cm2, b.pore_density_per_cm2);
        assert_ne!(a.light_azimuth_deg, b.light_azimuth_deg);
    }

    #[test]
    fn bad_ranges_are_named() {
        let bad = NuisanceRanges {
            furrow_stretch: [0.5, 2.0],
            ..NuisanceRanges::default()
        };
        assert!(bad.validate().unwrap_err().contains("furrow_stretch"));
    }
}
