//! CIEDE2000 colour difference.
//!
//! Sharma G, Wu W, Dalal EN, "The CIEDE2000 color-difference formula: implementation notes,
//! supplementary test data, and mathematical observations", Color Res Appl 2005;30:21-30
//! (doi:10.1002/col.20070), equations (1)-(22), with k_L = k_C = k_H = 1:
//!
//! ```text
//! C*_i = √(a_i² + b_i²)    C̄ = (C*_1 + C*_2)/2    G = ½ (1 − √(C̄⁷ / (C̄⁷ + 25⁷)))
//! a'_i = (1 + G) a_i       C'_i = √(a'_i² + b_i²)   h'_i = atan2(b_i, a'_i) in [0°, 360°) (0 if a'_i = b_i = 0)
//! ΔL' = L_2 − L_1          ΔC' = C'_2 − C'_1
//! Δh' = h'_2 − h'_1, brought into [−180°, 180°] (0 when C'_1 C'_2 = 0)
//! ΔH' = 2 √(C'_1 C'_2) sin(Δh'/2)
//! L̄' = (L_1 + L_2)/2       C̄' = (C'_1 + C'_2)/2
//! h̄' = mean hue: (h'_1 + h'_2)/2, ± 180° when |h'_1 − h'_2| > 180° (h'_1 + h'_2 when C'_1 C'_2 = 0)
//! T  = 1 − 0.17 cos(h̄' − 30°) + 0.24 cos(2h̄') + 0.32 cos(3h̄' + 6°) − 0.20 cos(4h̄' − 63°)
//! Δθ = 30° exp(−((h̄' − 275°)/25°)²)     R_C = 2 √(C̄'⁷ / (C̄'⁷ + 25⁷))
//! S_L = 1 + 0.015 (L̄' − 50)² / √(20 + (L̄' − 50)²)    S_C = 1 + 0.045 C̄'    S_H = 1 + 0.015 C̄' T
//! R_T = −sin(2Δθ) R_C
//! ΔE00 = √((ΔL'/S_L)² + (ΔC'/S_C)² + (ΔH'/S_H)² + R_T (ΔC'/S_C)(ΔH'/S_H))
//! ```
//! Tested against Sharma's 34 published pairs and scikit-image's `deltaE_ciede2000`
//! (`tests/fixtures/reference/chart.json`).

/// CIEDE2000 difference between two CIE L*a*b* colours.
pub fn delta_e00(lab1: [f64; 3], lab2: [f64; 3]) -> f64 {
    let [l1, a1, b1] = lab1;
    let [l2, a2, b2] = lab2;
    let c_bar = (a1.hypot(b1) + a2.hypot(b2)) / 2.0;
    let pow25_7 = 25f64.powi(7);
    let g = 0.5 * (1.0 - (c_bar.powi(7) / (c_bar.powi(7) + pow25_7)).sqrt());
    let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let (c1p, c2p) = (a1p.hypot(b1), a2p.hypot(b2));
    let hue = |b: f64, ap: f64| {
        if b == 0.0 && ap == 0.0 {
            0.0
        } else {
            b.atan2(ap).to_degrees().rem_euclid(360.0)
        }
    };
    let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
    let dl = l2 - l1;
    let dc = c2p - c1p;
    let chroma_product = c1p * c2p;
    let dh = if chroma_product == 0.0 {
        0.0
    } else {
        let d = h2p - h1p;
        if d > 180.0 {
            d - 360.0
        } else if d < -180.0 {
            d + 360.0
        } else {
            d
        }
    };
    let dh_big = 2.0 * chroma_product.sqrt() * (dh / 2.0).to_radians().sin();
    let l_bar = (l1 + l2) / 2.0;
    let c_bar_p = (c1p + c2p) / 2.0;
    let h_bar = if chroma_product == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let cos_deg = |d: f64| d.to_radians().cos();
    let t = 1.0 - 0.17 * cos_deg(h_bar - 30.0)
        + 0.24 * cos_deg(2.0 * h_bar)
        + 0.32 * cos_deg(3.0 * h_bar + 6.0)
        - 0.20 * cos_deg(4.0 * h_bar - 63.0);
    let d_theta = 30.0 * (-((h_bar - 275.0) / 25.0).powi(2)).exp();
    let r_c = 2.0 * (c_bar_p.powi(7) / (c_bar_p.powi(7) + pow25_7)).sqrt();
    let l50 = (l_bar - 50.0).powi(2);
    let s_l = 1.0 + 0.015 * l50 / (20.0 + l50).sqrt();
    let s_c = 1.0 + 0.045 * c_bar_p;
    let s_h = 1.0 + 0.015 * c_bar_p * t;
    let r_t = -(2.0 * d_theta).to_radians().sin() * r_c;
    let (tl, tc, th) = (dl / s_l, dc / s_c, dh_big / s_h);
    (tl * tl + tc * tc + th * th + r_t * tc * th)
        .max(0.0)
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_colours_differ_by_zero_and_order_does_not_matter() {
        let a = [52.0, 14.0, -30.0];
        let b = [60.0, -3.0, 12.0];
        assert_eq!(delta_e00(a, a), 0.0);
        assert!((delta_e00(a, b) - delta_e00(b, a)).abs() < 1e-12);
    }
}
