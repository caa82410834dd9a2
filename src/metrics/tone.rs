//! Tone: colour statistics of a zone in CIE L*a*b* (D65) and camera-RGB skin indices.
//!
//! ```text
//! tone_l_mean  = mean L*                       tone_l_sd = population SD of L*
//! tone_a_mean  = mean a*                       tone_b_mean = mean b*
//! tone_ita_deg = atan((mean L* − 50) / mean b*) · 180/π       (empty when |mean b*| < ita_min_abs_b)
//! tone_erythema_index = 100 · log10(R̄ / Ḡ)
//! tone_melanin_index  = 100 · log10(1 / R̄)
//! tone_uniformity     = 1 / (1 + sqrt(var L* + var a* + var b*))
//! ```
//! R̄, Ḡ: mean linear-light red and green over the zone, relative to a perfect white (1.0); without
//! a white reference in the photo they are relative to the camera's white point, so the indices
//! compare photos taken under the same lighting and exposure, not across set-ups.
//!
//! References: ITA — Chardon A, Cretois I, Hourseau C, Int J Cosmet Sci 1991;13:191-208
//! (doi:10.1111/j.1467-2494.1991.tb00561.x). Erythema and melanin indices as reflectance log
//! ratios — Diffey BL, Oliver RI, Farr PM, Br J Dermatol 1984;111:663-672
//! (doi:10.1111/j.1365-2133.1984.tb14149.x), applied to camera RGB as in Yamamoto T et al., Skin
//! Res Technol 2008;14:26-34 (doi:10.1111/j.1600-0846.2007.00256.x).
//! `tone_uniformity` is skintex's own: the RMS colour difference ΔE*ab of the zone's pixels from
//! their mean colour, mapped to (0, 1]; 1 is a perfectly even zone.

use super::{ColumnSpec, MetricValue, Missing, finite_or};
use crate::config::ToneParams;
use crate::input::colour::ColourPlanes;
use crate::segment::Zone;

/// The columns of the tone family, in output order.
pub const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec {
        name: "tone_l_mean",
        unit: "L* (0-100)",
        description: "Mean CIE L* (D65) lightness of the zone.",
    },
    ColumnSpec {
        name: "tone_l_sd",
        unit: "L* (0-100)",
        description: "Population standard deviation of L* over the zone's pixels.",
    },
    ColumnSpec {
        name: "tone_a_mean",
        unit: "a*",
        description: "Mean CIE a* (green-red axis); higher is redder.",
    },
    ColumnSpec {
        name: "tone_b_mean",
        unit: "b*",
        description: "Mean CIE b* (blue-yellow axis); higher is yellower.",
    },
    ColumnSpec {
        name: "tone_ita_deg",
        unit: "deg",
        description: "Individual typology angle atan((mean L* - 50)/mean b*)*180/pi (Chardon 1991); >55 very light, 41-55 light, 28-41 intermediate, 10-28 tan, -30-10 brown, < -30 dark. Empty when |mean b*| < tone.ita_min_abs_b.",
    },
    ColumnSpec {
        name: "tone_erythema_index",
        unit: "1",
        description: "Erythema index 100*log10(mean R / mean G) on linear camera RGB (Diffey 1984; Yamamoto 2008). Relative to the camera white: compare photos of one set-up.",
    },
    ColumnSpec {
        name: "tone_melanin_index",
        unit: "1",
        description: "Melanin index 100*log10(1 / mean R) on linear camera RGB (Diffey 1984; Yamamoto 2008). Relative to the camera white: compare photos of one set-up.",
    },
    ColumnSpec {
        name: "tone_uniformity",
        unit: "1",
        description: "1 / (1 + RMS colour difference DeltaE*ab of pixels from the zone mean); 1 = perfectly even colour.",
    },
];

/// Running sums for a mean and a population variance, in f64.
#[derive(Default)]
struct Moments {
    n: f64,
    sum: f64,
    sum_sq: f64,
}

impl Moments {
    fn push(&mut self, v: f32) {
        let v = f64::from(v);
        self.n += 1.0;
        self.sum += v;
        self.sum_sq += v * v;
    }
    fn mean(&self) -> f64 {
        self.sum / self.n
    }
    fn variance(&self) -> f64 {
        (self.sum_sq / self.n - self.mean().powi(2)).max(0.0)
    }
}

/// Measure the tone family on one zone; values align with [`COLUMNS`].
pub fn measure(planes: &ColourPlanes, zone: &Zone, params: &ToneParams) -> [MetricValue; 8] {
    let mask = &zone.mask;
    let mut l = Moments::default();
    let mut a = Moments::default();
    let mut b = Moments::default();
    let mut r = Moments::default();
    let mut g = Moments::default();
    // The five planes walk the same mask in the same raster order.
    let walks = mask
        .values(&planes.lab[0])
        .zip(mask.values(&planes.lab[1]))
        .zip(mask.values(&planes.lab[2]))
        .zip(mask.values(&planes.linear[0]))
        .zip(mask.values(&planes.linear[1]));
    for ((((lv, av), bv), rv), gv) in walks {
        l.push(lv);
        a.push(av);
        b.push(bv);
        r.push(rv);
        g.push(gv);
    }
    if l.n == 0.0 {
        return std::array::from_fn(|_| Err(Missing::new("empty zone")));
    }
    let (l_mean, b_mean, r_mean, g_mean) = (l.mean(), b.mean(), r.mean(), g.mean());
    let ita = if b_mean.abs() < params.ita_min_abs_b {
        Err(Missing::new(
            "|mean b*| below tone.ita_min_abs_b: ITA undefined",
        ))
    } else {
        finite_or(
            ((l_mean - 50.0) / b_mean).atan().to_degrees(),
            "ITA undefined",
        )
    };
    let erythema = if r_mean > 0.0 && g_mean > 0.0 {
        finite_or(
            100.0 * (r_mean / g_mean).log10(),
            "erythema index undefined",
        )
    } else {
        Err(Missing::new(
            "zero mean red or green: erythema index undefined",
        ))
    };
    let melanin = if r_mean > 0.0 {
        finite_or(100.0 * (1.0 / r_mean).log10(), "melanin index undefined")
    } else {
        Err(Missing::new("zero mean red: melanin index undefined"))
    };
    let rms_delta_e = (l.variance() + a.variance() + b.variance()).sqrt();
    [
        Ok(l_mean),
        Ok(l.variance().sqrt()),
        Ok(a.mean()),
        Ok(b_mean),
        ita,
        erythema,
        melanin,
        Ok(1.0 / (1.0 + rms_delta_e)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::colour::colour_planes;
    use crate::segment::full_image_zones;
    use image::{DynamicImage, Rgb, RgbImage};

    fn planes(img: RgbImage) -> ColourPlanes {
        colour_planes(&DynamicImage::ImageRgb8(img))
    }

    #[test]
    fn uniform_patch_is_perfectly_uniform() {
        let p = planes(RgbImage::from_pixel(8, 6, Rgb([200, 150, 120])));
        let z = &full_image_zones(8, 6)[0];
        let v = measure(&p, z, &ToneParams::default());
        assert!(v[1].as_ref().unwrap().abs() < 1e-4, "L sd {v:?}");
        assert!((v[7].as_ref().unwrap() - 1.0).abs() < 1e-4);
        // Skin-like colour: positive a*, b*; light skin ITA.
        assert!(*v[2].as_ref().unwrap() > 5.0 && *v[3].as_ref().unwrap() > 10.0);
        let ita = *v[4].as_ref().unwrap();
        assert!(ita > 10.0 && ita < 60.0, "ITA {ita}");
        assert!(*v[5].as_ref().unwrap() > 0.0, "redder than green: EI > 0");
    }

    #[test]
    fn neutral_grey_has_no_ita() {
        let p = planes(RgbImage::from_pixel(4, 4, Rgb([128, 128, 128])));
        let v = measure(&p, &full_image_zones(4, 4)[0], &ToneParams::default());
        assert!(v[4].is_err(), "b* = 0 must not give an ITA");
        assert!(v[5].as_ref().unwrap().abs() < 1e-6, "grey: R = G, EI = 0");
    }

    #[test]
    fn black_has_no_indices() {
        let p = planes(RgbImage::from_pixel(4, 4, Rgb([0, 0, 0])));
        let v = measure(&p, &full_image_zones(4, 4)[0], &ToneParams::default());
        assert!(v[5].is_err() && v[6].is_err());
    }
}
