//! Helpers for loops that the compiler vectorises: dispatch to the widest x86-64 vector unit
//! present, and branch-free elementary functions.
//!
//! A body written branch-free over its elements (selects, no calls, no bounds checks in the
//! loop) is compiled three times by `widest_simd!`: for AVX-512F, for AVX2 and for the x86-64
//! baseline (SSE2), and the widest one the CPU has is called. Only exactly rounded IEEE
//! operations are used (no fused multiply-add is enabled), so every variant gives the same bits
//! and outputs do not depend on the machine's vector unit.

/// Define `fn $name(args) -> ret { body }` so that the body is compiled for the widest vector
/// unit available (see the module documentation): the body becomes an `#[inline(always)]`
/// inner function, instantiated in an AVX-512F and an AVX2 wrapper and called directly on
/// the baseline.
macro_rules! widest_simd {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                #[allow(clippy::too_many_arguments)]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F (checked just above).
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use widest_simd;

/// Round to the nearest integer, ties to even, for |x| < 2²²: adding and subtracting 1.5·2²³
/// leaves the rounded value (branch-free; `f32::round` is a library call on the baseline).
#[inline(always)]
pub fn round_even(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0;
    (x + MAGIC) - MAGIC
}

/// `exp(x)` in f32, relative error ≤ 2e-7 (≈ 2 ulp) for x in [−87, 88], 0 below −87.3 (where
/// the true value is below f32's normal range). Cody-Waite reduction `x = n·ln 2 + r`,
/// |r| ≤ ln 2 / 2, and the degree-7 Taylor polynomial of eʳ (truncation < 1.1e-8 relative);
/// branch-free, so it vectorises. Scalar `f32::exp` is a library call that stops vectorisation.
#[inline(always)]
pub fn fast_exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.3, 88.0);
    let n = round_even(x * std::f32::consts::LOG2_E);
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    // 2^n by building the exponent bits; n + 127 in [1, 254] after the clamp.
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    let v = p * scale;
    if x <= -87.3 { 0.0 } else { v }
}

/// `atan2(y, x)` in radians, |error| ≤ 1e-6 rad: odd polynomial of Abramowitz & Stegun 4.4.49
/// (|ε| ≤ 2e-8 on [−1, 1]) plus octant reduction. Branch-free (selects), so it vectorises.
#[inline(always)]
pub fn fast_atan2(y: f32, x: f32) -> f32 {
    use std::f32::consts::{FRAC_PI_2, PI};
    let (ax, ay) = (x.abs(), y.abs());
    let (num, den) = if ay > ax { (ax, ay) } else { (ay, ax) };
    let t = if den > 0.0 { num / den } else { 0.0 };
    let t2 = t * t;
    let p = t
        * (0.999_999_3
            + t2 * (-0.333_298_56
                + t2 * (0.199_465_36
                    + t2 * (-0.139_085_34
                        + t2 * (0.096_420_04
                            + t2 * (-0.055_909_886 + t2 * (0.021_861_23 - 0.004_054_058 * t2)))))));
    let mut a = if ay > ax { FRAC_PI_2 - p } else { p };
    if x < 0.0 {
        a = PI - a;
    }
    if y < 0.0 { -a } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_matches_libm() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x <= 88.0 {
            let want = f64::from(x).exp();
            let got = f64::from(fast_exp(x));
            worst = worst.max(((got - want) / want).abs());
            x += 0.001_7;
        }
        assert!(worst <= 2.5e-7, "worst relative error {worst:e}");
        assert_eq!(fast_exp(0.0), 1.0);
        assert_eq!(fast_exp(-100.0), 0.0);
        assert_eq!(fast_exp(-1e30), 0.0);
    }

    #[test]
    fn round_even_rounds_to_nearest() {
        for (x, want) in [
            (0.4, 0.0),
            (0.6, 1.0),
            (-0.6, -1.0),
            (2.5, 2.0),
            (3.5, 4.0),
            (-7.2, -7.0),
        ] {
            assert_eq!(round_even(x), want, "{x}");
        }
    }

    #[test]
    fn fast_atan2_matches_libm() {
        let mut worst = 0.0f32;
        for i in 0..720 {
            let a = (i as f32).to_radians() * 0.5 - std::f32::consts::PI;
            for r in [1e-3f32, 1.0, 1e3] {
                let (y, x) = (r * a.sin(), r * a.cos());
                worst = worst.max((fast_atan2(y, x) - y.atan2(x)).abs());
            }
        }
        for i in -50..=50 {
            for j in -50..=50 {
                let (y, x) = (i as f32 * 0.37, j as f32 * 0.41);
                worst = worst.max((fast_atan2(y, x) - y.atan2(x)).abs());
            }
        }
        assert!(worst < 2e-6, "{worst}");
        assert_eq!(fast_atan2(0.0, 0.0), 0.0);
    }
}
