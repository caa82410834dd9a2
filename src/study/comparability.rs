//! Comparability of each follow-up photo with its baseline: were the two taken the same way?
//!
//! The capture quality of every photo (`capture_*` columns of `images.csv`, see
//! `src/metrics/capture.rs`) is compared between a follow-up and its baseline photo. A pair is
//! `comparable = false` when any difference exceeds its limit (`skintex study` options):
//!
//! ```text
//! check             difference                                         limit (default)
//! sharpness         log2(capture_sharpness f / b)                      --max-sharpness-change 0.5
//! exposure          log2(Y(L* f) / Y(L* b)), Y(L*) = ((L* + 16)/116)³  --max-exposure-change-ev 0.33
//!                   of capture_l_median (an exposure change in EV)
//! white_balance     sqrt(Δln(R/G)² + Δln(B/G)²) of capture_wb_*_over_g  --max-white-balance-change 0.05
//! light_direction   |c_f e^(2iθ_f) − c_b e^(2iθ_b)|, θ, c the relief     --max-light-change 0.1
//!                   light axis and coherence; faces also max |Δ ln| of
//!                   the left/right and top/bottom luminance ratios
//! light_uniformity  |G_f − G_b| / 100, G the luminance plane's gradient  --max-light-change
//!                   vector (capture_light_gradient_pct at _deg)
//! specular          |Δ capture_specular_share|                         --max-specular-change 0.03
//! pose              max |Δ yaw|, |Δ pitch|, deg (roll is an in-plane     --max-pose-change-deg 5
//!                   rotation that the zones follow: reported only)
//! expression        max |Δ| of mouth_open, smile, brows_raised,        --max-expression-change 0.1
//!                   eye_opening
//! scale             |ln(px_per_mm f / px_per_mm b)|                    ln(1 + --max-scale-change 0.1)
//! ```
//!
//! Why these limits: an exposure step of a camera is 1/3 EV; a 5 % gain ratio between the
//! channels is about ΔE00 2 on skin, the just-noticeable difference; a sharpness ratio of
//! 2^0.5 is what a defocus blur of about 0.03 mm (σ, beside the skin's finest furrows at
//! 0.05 mm) costs, while a re-take with new noise and sub-pixel resampling stays within
//! 2^0.35 on rendered close-ups (`tests/capture.rs` measures the separations). A light-axis
//! change of 0.1 is the axis of a relief shaded with coherence 0.4 turning by about 7 deg; on
//! the rendered close-ups re-takes stay within 0.04 and a light moved by 90 deg of azimuth gives
//! 0.16 or more. The axis is an axis: a light moved by 180 deg is not seen (nor is a change of
//! elevation alone, beyond its effect on the coherence). Face pose and expression changes move
//! the zones against the skin.
//!
//! White balance is compared only between photos whose `capture_wb_source` is the same (both
//! `skin` or both `chart`): a chart's neutral patches and the skin's colour are different
//! measures, so a pair with one of each gets no white-balance verdict, and the reasons say
//! `white_balance: not compared, from the skin in the baseline and the chart in the follow-up`.
//!
//! A check whose values are missing in either photo is not made and is named in the reasons
//! (`not checked: sharpness`); face checks apply only when both photos have face values. When
//! `images.csv` has no capture columns (a folder analysed by an older skintex) or lacks a photo,
//! `comparable` is empty and the reason says why.

use std::collections::BTreeMap;
use std::path::Path;

use crate::metrics::capture;

/// The limits of the comparability checks (`skintex study` options).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComparabilityLimits {
    pub max_sharpness_change: f64,
    pub max_exposure_change_ev: f64,
    pub max_white_balance_change: f64,
    pub max_light_change: f64,
    pub max_specular_change: f64,
    pub max_pose_change_deg: f64,
    pub max_expression_change: f64,
    pub max_scale_change: f64,
}

impl Default for ComparabilityLimits {
    fn default() -> Self {
        Self {
            max_sharpness_change: 0.5,
            max_exposure_change_ev: 0.33,
            max_white_balance_change: 0.05,
            max_light_change: 0.1,
            max_specular_change: 0.03,
            max_pose_change_deg: 5.0,
            max_expression_change: 0.1,
            max_scale_change: 0.1,
        }
    }
}

/// The capture values of one photo, read back from `images.csv` (by column name; empty cells
/// absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaptureRow {
    pub values: BTreeMap<String, f64>,
    /// `capture_wb_source` (`skin` or `chart`), `None` when empty or not in the table.
    pub wb_source: Option<String>,
}

impl CaptureRow {
    /// The row `images.csv` holds for a photo of this capture quality and calibration.
    pub fn from_quality(q: &capture::CaptureQuality, px_per_mm: Option<f64>) -> Self {
        let values = capture::COLUMNS
            .iter()
            .zip(&q.values)
            .filter_map(|(c, v)| Some((c.name.to_owned(), *v.as_ref().ok()?)))
            .chain(px_per_mm.map(|p| ("px_per_mm".to_owned(), p)))
            .collect();
        Self {
            values,
            wb_source: Some(q.wb_source.clone()),
        }
    }

    fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).copied()
    }
}

/// `images.csv` as comparability needs it: per image_id its capture row, or why there is none.
pub type CaptureTable = Result<BTreeMap<String, CaptureRow>, String>;

/// Read the capture columns (and `px_per_mm`) of `images.csv` in `analysis_dir`.
pub fn read_capture(analysis_dir: &Path) -> CaptureTable {
    let path = analysis_dir.join("images.csv");
    let mut reader = csv::Reader::from_path(&path)
        .map_err(|_| format!("no readable images.csv in {}", analysis_dir.display()))?;
    let header = reader
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    let col = |n: &str| header.iter().position(|h| h == n);
    let Some(c_id) = col("image_id") else {
        return Err(format!("{}: no image_id column", path.display()));
    };
    let numeric: Vec<(usize, &str)> = capture::COLUMNS
        .iter()
        .map(|c| c.name)
        .chain(["px_per_mm"])
        .filter_map(|n| col(n).map(|i| (i, n)))
        .collect();
    if !numeric.iter().any(|(_, n)| n.starts_with("capture_")) {
        return Err(
            "images.csv has no capture_* columns (analysed by an older skintex: analyse again \
             to check comparability)"
                .to_owned(),
        );
    }
    let c_wb_source = col("capture_wb_source");
    let mut out = BTreeMap::new();
    for rec in reader.records().flatten() {
        let wb_source = c_wb_source
            .and_then(|i| rec.get(i))
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let values = numeric
            .iter()
            .filter_map(|&(i, n)| {
                let v: f64 = rec.get(i)?.parse().ok()?;
                v.is_finite().then(|| (n.to_owned(), v))
            })
            .collect();
        out.insert(
            rec.get(c_id).unwrap_or("").to_owned(),
            CaptureRow { values, wb_source },
        );
    }
    Ok(out)
}

/// The differences written to `alignment.csv`, in [`DIFFERENCE_NAMES`] order.
pub const DIFFERENCE_NAMES: [&str; 10] = [
    "d_sharpness_log2",
    "d_exposure_ev",
    "d_white_balance",
    "d_light_relief",
    "d_light_uniformity",
    "d_light_face",
    "d_specular",
    "d_yaw_deg",
    "d_pitch_deg",
    "d_expression",
];

/// One follow-up against its baseline.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Comparison {
    /// Aligned with [`DIFFERENCE_NAMES`].
    pub differences: Vec<Option<f64>>,
    /// Roll change, deg (reported, not checked).
    pub d_roll_deg: Option<f64>,
    /// `None` when it could not be judged (see `reasons`).
    pub comparable: Option<bool>,
    /// The failed checks with their values and limits, then the checks not made.
    pub reasons: String,
    /// Names of the failed checks (for the report's counts).
    pub failed: Vec<&'static str>,
}

/// Relative luminance of an L* (CIE inverse).
fn luminance_of_l(l: f64) -> f64 {
    let f = (l + 16.0) / 116.0;
    if f > 6.0 / 29.0 {
        f * f * f
    } else {
        3.0 * (6.0f64 / 29.0).powi(2) * (f - 4.0 / 29.0)
    }
}

/// A vector from polar (length, angle deg).
fn polar(len: f64, deg: f64) -> (f64, f64) {
    let (s, c) = deg.to_radians().sin_cos();
    (len * c, len * s)
}

/// Compare a follow-up's capture with its baseline's.
pub fn compare(b: &CaptureRow, f: &CaptureRow, lim: &ComparabilityLimits) -> Comparison {
    let pair = |n: &str| Some((b.get(n)?, f.get(n)?));
    let diff = |n: &str| pair(n).map(|(x, y)| y - x);
    let sharp = pair("capture_sharpness")
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (y / x).log2());
    let exposure = pair("capture_l_median").and_then(|(x, y)| {
        let (yb, yf) = (luminance_of_l(x), luminance_of_l(y));
        (yb > 0.0 && yf > 0.0).then(|| (yf / yb).log2())
    });
    let ln_ratio = |n: &str| {
        pair(n)
            .filter(|(x, y)| *x > 0.0 && *y > 0.0)
            .map(|(x, y)| (y / x).ln())
    };
    // White balance from the skin and from a chart measure different things: not compared.
    let wb_sources_differ = match (&b.wb_source, &f.wb_source) {
        (Some(x), Some(y)) => x != y,
        _ => false,
    };
    let wb = match (
        ln_ratio("capture_wb_r_over_g"),
        ln_ratio("capture_wb_b_over_g"),
    ) {
        (Some(r), Some(bb)) if !wb_sources_differ => Some(r.hypot(bb)),
        _ => None,
    };
    let vector = |len: &str, deg: &str, doubled: bool| {
        let k = if doubled { 2.0 } else { 1.0 };
        let (lb, lf) = pair(len)?;
        let (db, df) = pair(deg)?;
        let (xb, yb) = polar(lb, k * db);
        let (xf, yf) = polar(lf, k * df);
        Some((xf - xb).hypot(yf - yb))
    };
    let relief = vector(
        "capture_light_relief_coherence",
        "capture_light_relief_deg",
        true,
    );
    let uniformity = vector(
        "capture_light_gradient_pct",
        "capture_light_gradient_deg",
        false,
    )
    .map(|v| v / 100.0);
    // The larger change of the face's two luminance ratios, |ln(ratio_f / ratio_b)|.
    let face_light = match (
        ln_ratio("capture_light_lr_ratio"),
        ln_ratio("capture_light_tb_ratio"),
    ) {
        (Some(lr), Some(tb)) => Some(lr.abs().max(tb.abs())),
        _ => None,
    };
    let specular = diff("capture_specular_share");
    let yaw = diff("capture_yaw_deg");
    let pitch = diff("capture_pitch_deg");
    let expression = {
        let parts: Vec<f64> = [
            "capture_mouth_open",
            "capture_smile",
            "capture_brows_raised",
            "capture_eye_opening",
        ]
        .iter()
        .filter_map(|n| diff(n).map(f64::abs))
        .collect();
        (!parts.is_empty()).then(|| parts.into_iter().fold(0.0, f64::max))
    };
    let scale = pair("px_per_mm")
        .filter(|(x, y)| *x > 0.0 && *y > 0.0)
        .map(|(x, y)| (y / x).ln());
    let differences = vec![
        sharp, exposure, wb, relief, uniformity, face_light, specular, yaw, pitch, expression,
    ];

    let mut failed: Vec<&'static str> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    let mut unchecked: Vec<&'static str> = Vec::new();
    let mut check = |name: &'static str, value: Option<f64>, limit: f64, what: &str| match value {
        Some(v) if v.abs() > limit => {
            if !failed.contains(&name) {
                failed.push(name);
            }
            reasons.push(format!(
                "{name}: {what} {} beyond {}",
                crate::output::format_number(v),
                crate::output::format_number(limit)
            ));
        }
        Some(_) => {}
        None => {
            if !unchecked.contains(&name) {
                unchecked.push(name);
            }
        }
    };
    check(
        "sharpness",
        sharp,
        lim.max_sharpness_change,
        "log2 sharpness ratio",
    );
    check(
        "exposure",
        exposure,
        lim.max_exposure_change_ev,
        "exposure change EV",
    );
    if !wb_sources_differ {
        check(
            "white_balance",
            wb,
            lim.max_white_balance_change,
            "channel gain change",
        );
    }
    check(
        "light_direction",
        relief,
        lim.max_light_change,
        "relief shading axis change",
    );
    check(
        "light_uniformity",
        uniformity,
        lim.max_light_change,
        "luminance gradient change",
    );
    check(
        "specular",
        specular,
        lim.max_specular_change,
        "glare share change",
    );
    let has_face = |r: &CaptureRow| r.get("capture_yaw_deg").is_some();
    let face_checks: [(&'static str, Option<f64>, f64, &str); 4] = [
        (
            "light_direction",
            face_light,
            lim.max_light_change,
            "face luminance ratio change (ln)",
        ),
        ("pose", yaw, lim.max_pose_change_deg, "yaw change deg"),
        ("pose", pitch, lim.max_pose_change_deg, "pitch change deg"),
        (
            "expression",
            expression,
            lim.max_expression_change,
            "expression ratio change",
        ),
    ];
    if has_face(b) || has_face(f) {
        for (name, value, limit, what) in face_checks {
            check(name, value, limit, what);
        }
    }
    check(
        "scale",
        scale,
        (1.0 + lim.max_scale_change).ln(),
        "px/mm change (ln)",
    );
    let mut text = reasons;
    if wb_sources_differ {
        text.push(format!(
            "white_balance: not compared, from the {} in the baseline and the {} in the follow-up",
            b.wb_source.as_deref().unwrap_or(""),
            f.wb_source.as_deref().unwrap_or("")
        ));
    }
    if !unchecked.is_empty() {
        text.push(format!("not checked: {}", unchecked.join(", ")));
    }
    let all_unchecked = failed.is_empty() && differences.iter().all(Option::is_none);
    Comparison {
        differences,
        d_roll_deg: diff("capture_roll_deg"),
        comparable: (!all_unchecked).then_some(failed.is_empty()),
        reasons: text.join("; "),
        failed,
    }
}

/// The comparison of a follow-up with its baseline from the capture table, or why there is
/// none (`comparable` empty).
pub fn compare_photos(
    table: &CaptureTable,
    baseline_id: &str,
    follow_up_id: &str,
    lim: &ComparabilityLimits,
) -> Comparison {
    let missing = |reason: String| Comparison {
        differences: vec![None; DIFFERENCE_NAMES.len()],
        reasons: reason,
        ..Comparison::default()
    };
    let rows = match table {
        Ok(rows) => rows,
        Err(reason) => return missing(reason.clone()),
    };
    match (rows.get(baseline_id), rows.get(follow_up_id)) {
        (Some(b), Some(f)) => compare(b, f, lim),
        (None, _) => missing(format!("baseline {baseline_id} not in images.csv")),
        (_, None) => missing(format!("{follow_up_id} not in images.csv")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, f64)]) -> CaptureRow {
        CaptureRow {
            values: pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            wb_source: None,
        }
    }

    #[test]
    fn white_balance_is_compared_only_from_the_same_source() {
        let lim = ComparabilityLimits::default();
        let wb = |r: f64, source: &str| CaptureRow {
            wb_source: Some(source.to_owned()),
            ..row(&[("capture_wb_r_over_g", r), ("capture_wb_b_over_g", 0.8)])
        };
        // A 20 % R/G change from the same source fails the check ...
        for source in ["skin", "chart"] {
            let c = compare(&wb(1.0, source), &wb(1.2, source), &lim);
            assert_eq!(c.comparable, Some(false), "{source}");
            assert_eq!(c.failed, vec!["white_balance"]);
            assert!((c.differences[2].unwrap() - 1.2f64.ln()).abs() < 1e-12);
        }
        // ... but between a skin and a chart estimate there is no verdict, and the reason says why.
        let c = compare(&wb(1.0, "skin"), &wb(1.2, "chart"), &lim);
        assert_eq!(c.differences[2], None);
        assert!(c.failed.is_empty());
        assert_eq!(c.comparable, None);
        assert!(
            c.reasons.contains(
                "white_balance: not compared, from the skin in the baseline and the chart in the \
                 follow-up"
            ),
            "{}",
            c.reasons
        );
        assert!(
            !c.reasons.contains("not checked: white_balance"),
            "{}",
            c.reasons
        );
    }

    #[test]
    fn one_stop_darker_is_one_ev() {
        let b = row(&[("capture_l_median", 60.0)]);
        let y = luminance_of_l(60.0) / 2.0;
        // L* of half the luminance.
        let l = 116.0 * y.cbrt() - 16.0;
        let f = row(&[("capture_l_median", l)]);
        let c = compare(&b, &f, &ComparabilityLimits::default());
        let ev = c.differences[1].unwrap();
        assert!((ev + 1.0).abs() < 1e-9, "{ev}");
        assert_eq!(c.comparable, Some(false));
        assert!(c.reasons.starts_with("exposure:"), "{}", c.reasons);
        assert!(
            c.reasons.contains("not checked: sharpness"),
            "{}",
            c.reasons
        );
    }

    #[test]
    fn relief_axis_180_degrees_apart_is_the_same_axis() {
        let b = row(&[
            ("capture_light_relief_deg", 10.0),
            ("capture_light_relief_coherence", 0.4),
        ]);
        let same = row(&[
            ("capture_light_relief_deg", 190.0 - 180.0),
            ("capture_light_relief_coherence", 0.4),
        ]);
        let turned = row(&[
            ("capture_light_relief_deg", 100.0),
            ("capture_light_relief_coherence", 0.4),
        ]);
        let lim = ComparabilityLimits::default();
        assert!(compare(&b, &same, &lim).differences[3].unwrap() < 1e-12);
        // Axes 90 deg apart: doubled angles opposite, difference 2 c.
        let d = compare(&b, &turned, &lim).differences[3].unwrap();
        assert!((d - 0.8).abs() < 1e-12, "{d}");
    }

    #[test]
    fn no_values_no_verdict() {
        let c = compare_photos(
            &Err("images.csv has no capture_* columns".into()),
            "b",
            "f",
            &ComparabilityLimits::default(),
        );
        assert_eq!(c.comparable, None);
        assert!(c.reasons.contains("no capture_* columns"));
    }
}
