//! Per-image skin refinement inside the face zones: a robust colour model of the subject's own
//! skin in CIE L*a*b*, learned from the zone cores, removes hair, beard, eyebrows left over,
//! glasses frames, background at the face edge and specular glare.
//!
//! **Scale.** The decision is made on L*, a*, b* smoothed by a Gaussian of standard deviation
//! `sigma = skin_scale_iod x d` (d the inter-ocular distance; 0.03 d is about 2 mm), so that
//! features narrower than a few mm (fine lines, scars, pores: what skintex measures) are
//! averaged with the skin around them and never rejected, while hair, beard, frames and glare
//! patches larger than that are.
//!
//! **Model.** The reference pixels are those of `cheek_left`, `cheek_right` and `nose` that are
//! not excluded as features (the cheeks and nose are rarely covered by hair). For each smoothed
//! channel `c` of L*, a*, b*:
//!
//! ```text
//! m_c = median(c)      s_c = max(1.4826 MAD(c), floor_c)      (robust SD; floor: L* 3, a* b* 2)
//! D_ab = sqrt(((a - m_a)/s_a)^2 + ((b - m_b)/s_b)^2)          (chromatic distance)
//! C*  = sqrt(a^2 + b^2),  m_C = median C* of the reference
//! non-skin if  D_ab > k_chroma                                 (hair, frames, background of
//!                                                               another hue)
//!          or  L* < m_L - k_dark s_L                           (dark hair, beard, shadows)
//!          or  L* > m_L + k_glare s_L  and  C* < r_glare m_C   (specular glare: bright, grey)
//! ```
//!
//! The median ignores up to half of the reference being non-skin, so a beard on part of the
//! cheeks does not shift the model.
//!
//! **Limits.** Hair or a beard whose colour matches the skin (blond, grey stubble on fair skin)
//! is not removed; strong shading (side lighting) widens `s_L` and can let dark hair through, or
//! reject the darker side of the face; tinted make-up over one zone only is treated as non-skin
//! when its hue differs by more than `k_chroma` robust SDs; glare that keeps the skin's chroma
//! (e.g. a warm light source) is not detected. Transparent glasses lenses over skin are kept.
//! Non-skin regions smaller than about `sigma` (single hairs, thin frames) are smoothed away
//! and kept as skin; the boundary of a rejected region is located to about `sigma`.

use ndarray::Array2;

use crate::imgops::gaussian::gaussian_blur;
use crate::input::colour::ColourPlanes;

/// L*, a*, b* of the box `(x0, y0, rows, cols)` smoothed by a Gaussian of `sigma_px`
/// (L*a*b* is converted for the box only, [`ColourPlanes::lab_box`]).
pub fn smoothed_lab(
    planes: &ColourPlanes,
    x0: usize,
    y0: usize,
    rows: usize,
    cols: usize,
    sigma_px: f64,
) -> [Array2<f32>; 3] {
    let lab = planes.lab_box(x0, y0, rows, cols);
    if sigma_px > 0.3 {
        lab.map(|plane| gaussian_blur(plane.view(), sigma_px as f32))
    } else {
        lab
    }
}

/// Parameters of the skin model (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkinModelParams {
    pub k_chroma: f64,
    pub k_dark: f64,
    pub k_glare: f64,
    pub glare_chroma_ratio: f64,
}

/// The fitted skin colour model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkinModel {
    /// Medians of L*, a*, b*.
    pub median: [f64; 3],
    /// Robust SDs of L*, a*, b* (floored).
    pub sd: [f64; 3],
    /// Median chroma C* of the reference.
    pub median_chroma: f64,
    /// Number of reference pixels.
    pub n: usize,
}

fn median(v: &mut [f32]) -> f64 {
    let n = v.len();
    let mid = n / 2;
    let (_, &mut m, _) = v.select_nth_unstable_by(mid, f32::total_cmp);
    if n % 2 == 1 {
        f64::from(m)
    } else {
        let lower = v[..mid].iter().copied().fold(f32::NEG_INFINITY, f32::max);
        (f64::from(m) + f64::from(lower)) / 2.0
    }
}

/// Fit the model on the pixels `(row, col)` of the planes `lab` listed in `reference`.
/// Returns `None` with fewer than 50 reference pixels.
pub fn fit_skin_model(lab: &[Array2<f32>; 3], reference: &[(usize, usize)]) -> Option<SkinModel> {
    if reference.len() < 50 {
        return None;
    }
    let median_of = |f: &dyn Fn(usize, usize) -> f32| {
        let mut v: Vec<f32> = reference.iter().map(|&(r, c)| f(r, c)).collect();
        let m = median(&mut v);
        let mut dev: Vec<f32> = v.iter().map(|&x| (f64::from(x) - m).abs() as f32).collect();
        (m, 1.4826 * median(&mut dev))
    };
    let [l, a, b] = lab;
    let (ml, sl) = median_of(&|r, c| l[[r, c]]);
    let (ma, sa) = median_of(&|r, c| a[[r, c]]);
    let (mb, sb) = median_of(&|r, c| b[[r, c]]);
    let (mc, _) = median_of(&|r, c| a[[r, c]].hypot(b[[r, c]]));
    Some(SkinModel {
        median: [ml, ma, mb],
        sd: [sl.max(3.0), sa.max(2.0), sb.max(2.0)],
        median_chroma: mc,
        n: reference.len(),
    })
}

impl SkinModel {
    /// Whether a pixel of colour `(l, a, b)` is skin under this model.
    #[inline]
    pub fn is_skin(&self, l: f32, a: f32, b: f32, p: &SkinModelParams) -> bool {
        let (l, a, b) = (f64::from(l), f64::from(a), f64::from(b));
        let da = (a - self.median[1]) / self.sd[1];
        let db = (b - self.median[2]) / self.sd[2];
        if (da * da + db * db).sqrt() > p.k_chroma {
            return false;
        }
        if l < self.median[0] - p.k_dark * self.sd[0] {
            return false;
        }
        let chroma = a.hypot(b);
        !(l > self.median[0] + p.k_glare * self.sd[0]
            && chroma < p.glare_chroma_ratio * self.median_chroma)
    }
}

/// Apply the model to the labelled pixels (`lab`, `labels` and `rejected` cover the same box):
/// pixels judged non-skin get label 0 and are marked in `rejected`.
pub fn refine_labels(
    lab: &[Array2<f32>; 3],
    model: &SkinModel,
    params: &SkinModelParams,
    labels: &mut Array2<u8>,
    rejected: &mut Array2<bool>,
) {
    let [l, a, b] = lab;
    for ((r, c), label) in labels.indexed_iter_mut() {
        if *label == 0 {
            continue;
        }
        if !model.is_skin(l[[r, c]], a[[r, c]], b[[r, c]], params) {
            *label = 0;
            rejected[[r, c]] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_even_and_odd() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn model_rejects_hair_and_glare_keeps_skin() {
        let model = SkinModel {
            median: [65.0, 14.0, 18.0],
            sd: [5.0, 2.5, 3.0],
            median_chroma: 22.8,
            n: 1000,
        };
        let p = SkinModelParams {
            k_chroma: 3.5,
            k_dark: 3.0,
            k_glare: 2.5,
            glare_chroma_ratio: 0.6,
        };
        assert!(model.is_skin(66.0, 13.0, 19.0, &p));
        // Dark brown hair: low L*.
        assert!(!model.is_skin(25.0, 8.0, 15.0, &p));
        // Blue glasses frame: far in a*b*.
        assert!(!model.is_skin(60.0, 0.0, -20.0, &p));
        // Glare: bright and nearly grey.
        assert!(!model.is_skin(92.0, 3.0, 5.0, &p));
        // Bright but with skin chroma: kept (a highlight on the cheek bone).
        assert!(model.is_skin(80.0, 13.0, 18.0, &p));
    }
}
