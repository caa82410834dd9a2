//! Longitudinal alignment: each follow-up photo against its subject's baseline, from the face
//! mesh landmarks that `skintex analyze` writes to `landmarks.csv`.
//!
//! skintex measures every visit on zones built from that visit's own landmarks, so a zone covers
//! the same anatomy (e.g. the left cheek between the same mesh vertices) at every visit, whatever
//! the framing. What can still differ is the face itself: head turned, expression changed. The
//! alignment measures that. The follow-up's landmarks `p_i` are mapped onto the baseline's `q_i`
//! by the least-squares similarity transform (Umeyama 1991, closed form in 2-D):
//!
//! ```text
//! p̄, q̄ = centroids;  P_i = p_i − p̄,  Q_i = q_i − q̄
//! a = Σ (P_x Q_x + P_y Q_y),   b = Σ (P_x Q_y − P_y Q_x),   S = Σ |P_i|²
//! s·cos θ = a / S,   s·sin θ = b / S,   t = q̄ − s R(θ) p̄
//! residual_mm = sqrt( (1/N) Σ |s R(θ) p_i + t − q_i|² ) / px_per_mm(baseline)
//! ```
//!
//! A residual above `--max-alignment-mm` (default 2 mm, about the landmark noise of a 0.5 mm/px
//! portrait plus a mild expression change) flags the pair as `poor`. Close-ups analysed with
//! `--roi full` have no landmarks: their alignment is empty with that reason.
//!
//! Reference: S. Umeyama, "Least-squares estimation of transformation parameters between two
//! point patterns", IEEE TPAMI 13(4):376-380, 1991, doi:10.1109/34.88573.

use std::collections::BTreeMap;
use std::path::Path;

/// A fitted similarity transform and its residual.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub scale: f64,
    pub rotation_deg: f64,
    pub tx: f64,
    pub ty: f64,
    /// RMS landmark distance after the transform, px of the target.
    pub rms_px: f64,
}

/// Fit `q ≈ s R p + t` (see the module doc). `None` for fewer than 3 points or degenerate ones.
pub fn fit_similarity(p: &[[f64; 2]], q: &[[f64; 2]]) -> Option<Similarity> {
    let n = p.len();
    if n < 3 || q.len() != n {
        return None;
    }
    let centroid = |v: &[[f64; 2]]| {
        let (sx, sy) = v.iter().fold((0.0, 0.0), |(x, y), a| (x + a[0], y + a[1]));
        [sx / n as f64, sy / n as f64]
    };
    let (pc, qc) = (centroid(p), centroid(q));
    let (mut a, mut b, mut sp) = (0.0, 0.0, 0.0);
    for (pi, qi) in p.iter().zip(q) {
        let (px, py) = (pi[0] - pc[0], pi[1] - pc[1]);
        let (qx, qy) = (qi[0] - qc[0], qi[1] - qc[1]);
        a += px * qx + py * qy;
        b += px * qy - py * qx;
        sp += px * px + py * py;
    }
    if sp.is_nan() || sp <= 0.0 {
        return None;
    }
    let (sc, ss) = (a / sp, b / sp);
    let tx = qc[0] - (sc * pc[0] - ss * pc[1]);
    let ty = qc[1] - (ss * pc[0] + sc * pc[1]);
    let sq: f64 = p
        .iter()
        .zip(q)
        .map(|(pi, qi)| {
            let x = sc * pi[0] - ss * pi[1] + tx - qi[0];
            let y = ss * pi[0] + sc * pi[1] + ty - qi[1];
            x * x + y * y
        })
        .sum();
    Some(Similarity {
        scale: sc.hypot(ss),
        rotation_deg: ss.atan2(sc).to_degrees(),
        tx,
        ty,
        rms_px: (sq / n as f64).sqrt(),
    })
}

/// `landmarks.csv`: image_id -> landmarks in index order.
///
/// # Errors
/// A message naming the file and line.
pub fn read_landmarks(path: &Path) -> Result<BTreeMap<String, Vec<[f64; 2]>>, String> {
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out: BTreeMap<String, Vec<[f64; 2]>> = BTreeMap::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("{} line {}: {e}", path.display(), i + 2))?;
        let num = |c: usize| {
            rec.get(c)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| format!("{} line {}: bad number", path.display(), i + 2))
        };
        out.entry(rec.get(0).unwrap_or("").to_owned())
            .or_default()
            .push([num(3)?, num(4)?]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_similarity_and_measures_residuals() {
        let p: Vec<[f64; 2]> = (0..40)
            .map(|i| {
                let t = f64::from(i) * 0.37;
                [
                    100.0 + 50.0 * t.cos() + 3.0 * t,
                    80.0 + 30.0 * (1.7 * t).sin(),
                ]
            })
            .collect();
        let (s, th, tx, ty) = (1.3_f64, 12.0_f64.to_radians(), -20.0, 35.0);
        let q: Vec<[f64; 2]> = p
            .iter()
            .map(|a| {
                [
                    s * (th.cos() * a[0] - th.sin() * a[1]) + tx,
                    s * (th.sin() * a[0] + th.cos() * a[1]) + ty,
                ]
            })
            .collect();
        let fit = fit_similarity(&p, &q).unwrap();
        assert!((fit.scale - 1.3).abs() < 1e-12);
        assert!((fit.rotation_deg - 12.0).abs() < 1e-9);
        assert!((fit.tx - tx).abs() < 1e-9 && (fit.ty - ty).abs() < 1e-9);
        assert!(fit.rms_px < 1e-9);
        // Move one point by 10 px: the RMS residual is at most 10/sqrt(40) and well above 0.
        let mut q2 = q.clone();
        q2[5][0] += 10.0;
        let fit2 = fit_similarity(&p, &q2).unwrap();
        assert!(
            fit2.rms_px > 1.0 && fit2.rms_px <= 10.0 / 40f64.sqrt() + 1e-9,
            "{}",
            fit2.rms_px
        );
        assert!(fit_similarity(&p[..2], &q[..2]).is_none());
        assert!(fit_similarity(&[[1.0, 1.0]; 5], &q[..5]).is_none());
    }
}
