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
//!
//! Input: when the photo holds a ColorChecker Classic (found, or boxed by the manifest's
//! `chart_box`), tone reads the colour corrected by the chart (`src/chart/mod.rs`; the linear
//! values go through the fitted correction before L*a*b*, and R̄, Ḡ are then relative to the
//! chart's white, so the indices compare across set-ups); images.csv says which in
//! `tone_correction` (`chart` or `none`). Without a chart the photo's colour is read as it is.

use super::{ColumnSpec, MetricValue, Missing, finite_or};
use crate::config::ToneParams;
use crate::input::colour::{ColourPlanes, lab_of_linear};
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
    /// Add a row's partial sums (count, Σv, Σv²).
    fn add(&mut self, n: f64, sum: f64, sum_sq: f64) {
        self.n += n;
        self.sum += sum;
        self.sum_sq += sum_sq;
    }
    fn mean(&self) -> f64 {
        self.sum / self.n
    }
    fn variance(&self) -> f64 {
        (self.sum_sq / self.n - self.mean().powi(2)).max(0.0)
    }
}

/// (Σv, Σv²) in f64 over the `values` whose `inside` flag is set. Eight interleaved partial
/// sums (combined in a fixed order) so the loop vectorises; deterministic.
fn masked_row_sums(values: &[f32], inside: &[bool]) -> (f64, f64) {
    const LANES: usize = 8;
    let (mut sum, mut sum_sq) = ([0.0f64; LANES], [0.0f64; LANES]);
    let chunks = values.chunks_exact(LANES).zip(inside.chunks_exact(LANES));
    for (v, m) in chunks {
        for k in 0..LANES {
            let x = if m[k] { f64::from(v[k]) } else { 0.0 };
            sum[k] += x;
            sum_sq[k] += x * x;
        }
    }
    let tail = values.len() - values.len() % LANES;
    for (k, (&v, &m)) in values[tail..].iter().zip(&inside[tail..]).enumerate() {
        let x = if m { f64::from(v) } else { 0.0 };
        sum[k] += x;
        sum_sq[k] += x * x;
    }
    (sum.iter().sum(), sum_sq.iter().sum())
}

/// Measure the tone family on one zone; values align with [`COLUMNS`].
///
/// One pass over the zone's bounding box, row by row: the row segment is decoded to linear RGB
/// once and L*a*b* computed from it ([`lab_of_linear`], the values of
/// [`ColourPlanes::lab_row`]), and each row's sums (f64, in raster order) are added to the
/// zone totals, so the result does not depend on anything but the pixels.
pub fn measure(planes: &ColourPlanes, zone: &Zone, params: &ToneParams) -> [MetricValue; 8] {
    let mask = &zone.mask;
    let cols = mask.bits.ncols();
    let mut lab_rows: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; cols]);
    let mut linear_rows: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; cols]);
    let mut moments: [Moments; 5] = Default::default();
    for (r, inside) in mask.bits.outer_iter().enumerate() {
        let n = inside.iter().filter(|&&m| m).count();
        if n == 0 {
            continue;
        }
        let inside = inside.as_slice().expect("mask rows are contiguous");
        // The row is decoded once: its linear values, then L*a*b* from them.
        let [red, green, blue] = &mut linear_rows;
        planes.linear_row(mask.y0 + r, mask.x0, red, green, blue);
        let [l, a, b] = &mut lab_rows;
        lab_of_linear(red, green, blue, l, a, b);
        let (lab_moments, linear_moments) = moments.split_at_mut(3);
        for (values, total) in lab_rows.iter().zip(lab_moments) {
            let (sum, sum_sq) = masked_row_sums(values, inside);
            total.add(n as f64, sum, sum_sq);
        }
        for (values, total) in linear_rows.iter().zip(linear_moments) {
            let (sum, sum_sq) = masked_row_sums(values, inside);
            total.add(n as f64, sum, sum_sq);
        }
    }
    let [l, a, b, r, g] = moments;
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
    use ndarray::Array2;

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

    /// Row-wise sums against a naive per-pixel computation on a partial mask offset in the image.
    #[test]
    fn masked_moments_match_naive_sums() {
        let img = RgbImage::from_fn(37, 29, |x, y| {
            Rgb([
                (90 + (x * 7 + y * 3) % 120) as u8,
                (60 + (x * y) % 90) as u8,
                (40 + (x + 5 * y) % 70) as u8,
            ])
        });
        let p = planes(img);
        let bits = Array2::from_shape_fn((20, 27), |(r, c)| (r * 3 + c * 5) % 7 != 0 && r + c > 4);
        let zone = Zone {
            name: "z".into(),
            mask: crate::segment::Mask {
                x0: 6,
                y0: 5,
                bits: bits.clone(),
            },
        };
        let v = measure(&p, &zone, &ToneParams::default());
        let lab = p.lab_box(0, 0, p.height(), p.width());
        let (mut n, mut sl, mut sl2, mut sa, mut sb, mut sr, mut sg) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let (mut sa2, mut sb2) = (0.0, 0.0);
        for ((r, c), &m) in bits.indexed_iter() {
            if !m {
                continue;
            }
            let at = |plane: &Array2<f32>| f64::from(plane[[r + 5, c + 6]]);
            n += 1.0;
            sl += at(&lab[0]);
            sl2 += at(&lab[0]).powi(2);
            sa += at(&lab[1]);
            sa2 += at(&lab[1]).powi(2);
            sb += at(&lab[2]);
            sb2 += at(&lab[2]).powi(2);
            let [r_lin, g_lin, _] = p.linear_at(r + 5, c + 6);
            sr += f64::from(r_lin);
            sg += f64::from(g_lin);
        }
        let var = |s: f64, s2: f64| s2 / n - (s / n).powi(2);
        let close = |got: &MetricValue, want: f64| {
            (got.as_ref().unwrap() - want).abs() < 1e-9 * want.abs().max(1.0)
        };
        assert!(close(&v[0], sl / n));
        assert!(close(&v[1], var(sl, sl2).sqrt()));
        assert!(close(&v[2], sa / n));
        assert!(close(&v[3], sb / n));
        assert!(close(&v[5], 100.0 * (sr / sg).log10()));
        let de = (var(sl, sl2) + var(sa, sa2) + var(sb, sb2)).sqrt();
        assert!(close(&v[7], 1.0 / (1.0 + de)));
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
