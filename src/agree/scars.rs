//! Agreement of two sets of scar marks in one zone, by the scar matching rule of skintex's
//! validation ([`crate::matching::scar_matches`]):
//!
//! ```text
//! a compared mark matches a reference mark when their centres are within
//!   diameter_ref / 2 + M mm  (M alone when the reference mark has no diameter),
//! one-to-one, optimal assignment;
//! TP = matched pairs, FP = compared − TP, FN = reference − TP
//! F1 = 2 TP / (2 TP + FP + FN)
//! type accuracy = pairs of the same type / pairs where both marks have a type
//! ```

use crate::matching::scar_matches;

/// One scar mark: a detection of skintex or an expert's mark.
#[derive(Debug, Clone, PartialEq)]
pub struct ScarMark {
    /// Centre in image px.
    pub x_px: f64,
    pub y_px: f64,
    /// Rim diameter, mm (optional for expert marks).
    pub diameter_mm: Option<f64>,
    /// `icepick`, `boxcar`, `rolling`, or another label of the annotator (optional).
    pub kind: Option<String>,
}

/// The matched pairs `(compared, reference)` of the rule above.
pub fn scar_pairs(
    reference: &[ScarMark],
    compared: &[ScarMark],
    px_per_mm: f64,
    match_mm: f64,
) -> Vec<(usize, usize)> {
    scar_matches(
        &compared
            .iter()
            .map(|m| [m.x_px, m.y_px])
            .collect::<Vec<_>>(),
        &reference
            .iter()
            .map(|m| ([m.x_px, m.y_px], m.diameter_mm))
            .collect::<Vec<_>>(),
        px_per_mm,
        match_mm,
    )
}

/// Matching counts of one comparison in one zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScarCounts {
    pub reference: usize,
    pub compared: usize,
    pub tp: usize,
    /// Pairs where both marks have a type, and of them those of the same type.
    pub typed: usize,
    pub type_correct: usize,
}

impl ScarCounts {
    /// Match `compared` against `reference` at `px_per_mm` with the extra distance `match_mm`.
    pub fn of(
        reference: &[ScarMark],
        compared: &[ScarMark],
        px_per_mm: f64,
        match_mm: f64,
    ) -> Self {
        let pairs = scar_pairs(reference, compared, px_per_mm, match_mm);
        let mut typed = 0;
        let mut type_correct = 0;
        for &(c, r) in &pairs {
            if let (Some(a), Some(b)) = (&compared[c].kind, &reference[r].kind) {
                typed += 1;
                type_correct += usize::from(a.eq_ignore_ascii_case(b));
            }
        }
        Self {
            reference: reference.len(),
            compared: compared.len(),
            tp: pairs.len(),
            typed,
            type_correct,
        }
    }

    pub fn fp(&self) -> usize {
        self.compared - self.tp
    }

    pub fn fn_(&self) -> usize {
        self.reference - self.tp
    }

    /// F1; `Err` with the reason when neither side has a scar in the zone.
    pub fn f1(&self) -> Result<f64, String> {
        let all = self.reference + self.compared;
        if all == 0 {
            return Err("no scar annotated or detected in the zone".into());
        }
        Ok(2.0 * self.tp as f64 / all as f64)
    }

    pub fn type_accuracy(&self) -> Result<f64, String> {
        if self.typed == 0 {
            return Err("no matched scar pair with a type on both sides".into());
        }
        Ok(self.type_correct as f64 / self.typed as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(x: f64, y: f64, d: Option<f64>, kind: Option<&str>) -> ScarMark {
        ScarMark {
            x_px: x,
            y_px: y,
            diameter_mm: d,
            kind: kind.map(str::to_owned),
        }
    }

    /// 10 px/mm, M = 0.5 mm. Reference: a 2 mm boxcar at (0, 0) (reach 1.5 mm = 15 px), an
    /// undiametered mark at (100, 0) (reach 5 px), a third at (200, 0). Compared: one 12 px from
    /// the first (typed icepick), one 6 px from the second (too far), one far away.
    /// TP 1, FP 2, FN 2: F1 = 2 / 6; type accuracy 0 of 1.
    #[test]
    fn hand_computed_counts() {
        let reference = [
            mark(0.0, 0.0, Some(2.0), Some("boxcar")),
            mark(100.0, 0.0, None, None),
            mark(200.0, 0.0, None, Some("rolling")),
        ];
        let compared = [
            mark(12.0, 0.0, Some(1.0), Some("icepick")),
            mark(106.0, 0.0, None, Some("boxcar")),
            mark(400.0, 0.0, None, None),
        ];
        let n = ScarCounts::of(&reference, &compared, 10.0, 0.5);
        assert_eq!((n.tp, n.fp(), n.fn_()), (1, 2, 2));
        assert!((n.f1().unwrap() - 1.0 / 3.0).abs() < 1e-15);
        assert_eq!(n.type_accuracy(), Ok(0.0));
        assert!(ScarCounts::of(&[], &[], 10.0, 0.5).f1().is_err());
    }
}
