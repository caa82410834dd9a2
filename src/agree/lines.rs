//! Agreement of two line masks in one zone: the tolerant Dice of the wrinkle literature, and
//! the line length of each mask measured by one rule.
//!
//! ```text
//! R, C      the reference (annotated) and compared (detected) line pixels inside the zone
//! near_T(M) the pixels within Euclidean distance T px of a pixel of M (anywhere in the image)
//! precision = |C ∩ near_T(R)| / |C|          recall = |R ∩ near_T(C)| / |R|
//! Dice      = (|C ∩ near_T(R)| + |R ∩ near_T(C)|) / (|C| + |R|)
//! JSI       = Dice / (2 − Dice)
//! length    = Freeman length of the Guo-Hall skeleton of the mask inside the zone / px_per_mm
//! ```
//!
//! At T = 0, near_T(M) = M and Dice = 2 |R ∩ C| / (|R| + |C|) and JSI = |R ∩ C| / |R ∪ C|,
//! the plain overlap scores; a T of a few px forgives where the annotator and the detector put
//! a 1-3 px wide line (the relaxed overlap used to score wrinkle detectors, e.g. Ng, Yap, Costen
//! and Li, "Automatic wrinkle detection using hybrid Hessian filter", ACCV 2014). Both masks are
//! measured for length by the same
//! skeleton rule ([`crate::imgops::skeleton`]), so a bias between them is the methods', not the
//! estimator's.

use ndarray::Array2;

use crate::imgops::skeleton::skeleton_components_length_px;
use crate::imgops::thinning::thin;

/// A binary image mask, row-major (`(rows, cols)`).
pub type LineMask = Array2<bool>;

/// `near_T(mask)`: every pixel within Euclidean distance `tolerance_px` of a pixel of `mask`.
pub fn near(mask: &LineMask, tolerance_px: f64) -> LineMask {
    if tolerance_px < 1.0 {
        return mask.clone();
    }
    let reach = tolerance_px.floor() as isize;
    let offsets: Vec<(isize, isize)> = (-reach..=reach)
        .flat_map(|dy| (-reach..=reach).map(move |dx| (dy, dx)))
        .filter(|&(dy, dx)| ((dy * dy + dx * dx) as f64) <= tolerance_px * tolerance_px)
        .collect();
    let (rows, cols) = mask.dim();
    let mut out = Array2::from_elem((rows, cols), false);
    for ((r, c), &on) in mask.indexed_iter() {
        if !on {
            continue;
        }
        for &(dy, dx) in &offsets {
            let (y, x) = (r as isize + dy, c as isize + dx);
            if y >= 0 && x >= 0 && (y as usize) < rows && (x as usize) < cols {
                out[[y as usize, x as usize]] = true;
            }
        }
    }
    out
}

/// Pixel counts of one comparison in one zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    /// |R|, |C|.
    pub reference_px: usize,
    pub compared_px: usize,
    /// |R ∩ near_T(C)|, |C ∩ near_T(R)|.
    pub reference_hit_px: usize,
    pub compared_hit_px: usize,
}

impl LineCounts {
    /// Count inside the zone (`zone(row, col)`), given both masks and their `near_T`.
    pub fn of(
        reference: &LineMask,
        compared: &LineMask,
        near_reference: &LineMask,
        near_compared: &LineMask,
        zone: &dyn Fn(usize, usize) -> bool,
    ) -> Self {
        let mut n = Self::default();
        for ((r, c), &on) in reference.indexed_iter() {
            let other = compared[[r, c]];
            if !(on || other) || !zone(r, c) {
                continue;
            }
            if on {
                n.reference_px += 1;
                n.reference_hit_px += usize::from(near_compared[[r, c]]);
            }
            if other {
                n.compared_px += 1;
                n.compared_hit_px += usize::from(near_reference[[r, c]]);
            }
        }
        n
    }

    /// Tolerant Dice; `Err` with the reason when neither mask has a pixel in the zone.
    pub fn dice(&self) -> Result<f64, String> {
        let all = self.reference_px + self.compared_px;
        if all == 0 {
            return Err("no line pixel annotated or detected in the zone".into());
        }
        Ok((self.reference_hit_px + self.compared_hit_px) as f64 / all as f64)
    }

    /// Jaccard (similarity) index from the Dice.
    pub fn jsi(&self) -> Result<f64, String> {
        self.dice().map(|d| d / (2.0 - d))
    }

    pub fn precision(&self) -> Result<f64, String> {
        if self.compared_px == 0 {
            return Err("no line pixel detected in the zone".into());
        }
        Ok(self.compared_hit_px as f64 / self.compared_px as f64)
    }

    pub fn recall(&self) -> Result<f64, String> {
        if self.reference_px == 0 {
            return Err("no line pixel annotated in the zone".into());
        }
        Ok(self.reference_hit_px as f64 / self.reference_px as f64)
    }
}

/// Skeleton length (px) of the pixels of `mask` inside the zone, over the zone's bounding box
/// `[x0, y0, x1, y1)`.
pub fn skeleton_length_in_zone(
    mask: &LineMask,
    zone: &dyn Fn(usize, usize) -> bool,
    [x0, y0, x1, y1]: [usize; 4],
) -> f64 {
    if x1 <= x0 || y1 <= y0 {
        return 0.0;
    }
    let crop = Array2::from_shape_fn((y1 - y0, x1 - x0), |(r, c)| {
        mask[[y0 + r, x0 + c]] && zone(y0 + r, x0 + c)
    });
    skeleton_components_length_px(&thin(&crop)).1.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(rows: usize, cols: usize, on: &[(usize, usize)]) -> LineMask {
        let mut m = Array2::from_elem((rows, cols), false);
        for &p in on {
            m[p] = true;
        }
        m
    }

    /// A horizontal line of 10 px, the other shifted one row down: no overlap at T = 0, all
    /// within T = 1.
    #[test]
    fn tolerance_forgives_a_one_pixel_shift() {
        let r = mask(5, 12, &(1..11).map(|c| (1, c)).collect::<Vec<_>>());
        let c = mask(5, 12, &(1..11).map(|c| (2, c)).collect::<Vec<_>>());
        let all = |_: usize, _: usize| true;
        let n0 = LineCounts::of(&r, &c, &near(&r, 0.0), &near(&c, 0.0), &all);
        assert_eq!(n0.dice(), Ok(0.0));
        let n1 = LineCounts::of(&r, &c, &near(&r, 1.0), &near(&c, 1.0), &all);
        assert_eq!(n1.dice(), Ok(1.0));
        assert_eq!(n1.jsi(), Ok(1.0));
        // Half of the compared line inside the zone: 5 of its pixels, 10 of the reference's.
        let half = |row: usize, col: usize| row == 1 || col < 6;
        let nh = LineCounts::of(&r, &c, &near(&r, 0.0), &near(&c, 0.0), &half);
        assert_eq!((nh.reference_px, nh.compared_px), (10, 5));
        // Diagonal neighbours are √2 away: outside T = 1.
        let d = mask(5, 12, &[(3, 4)]);
        assert_eq!(near(&d, 1.0).iter().filter(|&&v| v).count(), 5);
        assert_eq!(near(&d, 1.5).iter().filter(|&&v| v).count(), 9);
    }

    /// Plain Dice at T = 0: |R| = 4, |C| = 3, |R ∩ C| = 2 -> 4/7; JSI 2/5; precision 2/3,
    /// recall 1/2.
    #[test]
    fn zero_tolerance_is_plain_overlap() {
        let r = mask(3, 6, &[(1, 0), (1, 1), (1, 2), (1, 3)]);
        let c = mask(3, 6, &[(1, 2), (1, 3), (1, 4)]);
        let all = |_: usize, _: usize| true;
        let n = LineCounts::of(&r, &c, &r, &c, &all);
        assert!((n.dice().unwrap() - 4.0 / 7.0).abs() < 1e-15);
        assert!((n.jsi().unwrap() - 0.4).abs() < 1e-15);
        assert!((n.precision().unwrap() - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!(n.recall(), Ok(0.5));
        let empty = mask(3, 6, &[]);
        let n = LineCounts::of(&empty, &empty, &empty, &empty, &all);
        assert!(n.dice().is_err() && n.precision().is_err() && n.recall().is_err());
        // A 3 px wide band 10 px long: its skeleton is at most 10 px long, less its thinned ends.
        let band = mask(
            5,
            14,
            &(1..4)
                .flat_map(|r| (2..12).map(move |c| (r, c)))
                .collect::<Vec<_>>(),
        );
        let len = skeleton_length_in_zone(&band, &all, [0, 0, 14, 5]);
        assert!((7.0..=10.0).contains(&len), "{len}");
    }
}
