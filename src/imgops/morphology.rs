//! Grey-scale morphology with flat square structuring elements.
//!
//! ```text
//! dilation  (f ⊕ B)(x) = max_{b ∈ B} f(x + b)
//! erosion   (f ⊖ B)(x) = min_{b ∈ B} f(x + b)
//! closing   f • B      = (f ⊕ B) ⊖ B
//! ```
//! with `B` the square of side `2k + 1` px. A closing fills every dark structure the square
//! does not fit into (narrower than `2k + 1` px) and leaves wider ones and every bright
//! structure as they were (Serra 1982). The square is separable: each 1-D running maximum or
//! minimum uses the van Herk / Gil-Werman algorithm, about three comparisons per sample
//! whatever `k`. Outside the array the maximum ignores samples (pads with −∞) and the minimum
//! likewise (+∞), so a closing never darkens or brightens a border from outside.
//!
//! References: J. Serra, "Image Analysis and Mathematical Morphology", Academic Press (1982).
//! M. van Herk, "A fast algorithm for local minimum and maximum filters on rectangular and
//! octagonal kernels", Pattern Recognit. Lett. 13 (1992) 517-521,
//! doi:10.1016/0167-8655(92)90069-C. J. Gil, M. Werman, "Computing 2-D min, median, and max
//! filters", IEEE TPAMI 15 (1993) 504-507, doi:10.1109/34.211471.

use ndarray::{Array2, ArrayView2, Axis};

/// Running maximum (`max = true`) or minimum over the window `[i − k, i + k]` of `src`
/// (clipped to the slice), written to `out` (as long as `src`). `g` and `h` are scratch
/// buffers, refilled here.
fn running_extreme(
    src: &[f32],
    out: &mut [f32],
    k: usize,
    max: bool,
    g: &mut Vec<f32>,
    h: &mut Vec<f32>,
) {
    let n = src.len();
    let w = 2 * k + 1;
    let pick = |a: f32, b: f32| if max == (a >= b) { a } else { b };
    // Blocks of w samples: g is the prefix extreme within each block, h the suffix extreme.
    g.clear();
    h.clear();
    g.extend_from_slice(src);
    h.extend_from_slice(src);
    for i in 1..n {
        if i % w != 0 {
            g[i] = pick(g[i - 1], src[i]);
        }
    }
    for i in (0..n.saturating_sub(1)).rev() {
        if (i + 1) % w != 0 {
            h[i] = pick(h[i + 1], src[i]);
        }
    }
    for (i, o) in out.iter_mut().enumerate() {
        let lo = i.saturating_sub(k);
        let hi = (i + k).min(n - 1);
        // The window [lo, hi] is at most w long, so it spans at most two blocks: the suffix of
        // the first and the prefix of the second.
        *o = if lo / w == hi / w {
            // Inside one block (a window starting on a block boundary, a window clipped at an
            // end, or w > n): a direct scan, at most w samples for one window in w.
            src[lo..=hi].iter().copied().fold(src[lo], pick)
        } else {
            pick(h[lo], g[hi])
        };
    }
}

/// Apply the running extreme of half-width `k` along `axis` of `a`.
fn along(a: ArrayView2<f32>, k: usize, max: bool, axis: Axis) -> Array2<f32> {
    let mut out = Array2::<f32>::zeros(a.raw_dim());
    let (mut g, mut h) = (Vec::new(), Vec::new());
    let mut src = Vec::new();
    let mut dst = Vec::new();
    for (lane, mut out_lane) in a.lanes(axis).into_iter().zip(out.lanes_mut(axis)) {
        src.clear();
        src.extend(lane.iter().copied());
        dst.clear();
        dst.resize(src.len(), 0.0);
        running_extreme(&src, &mut dst, k, max, &mut g, &mut h);
        for (o, &v) in out_lane.iter_mut().zip(&dst) {
            *o = v;
        }
    }
    out
}

/// Grey-scale closing of `a` with the flat square of side `2k + 1` (see the module doc);
/// `a` itself when `k` is 0.
pub fn closing_square(a: ArrayView2<f32>, k: usize) -> Array2<f32> {
    if k == 0 || a.is_empty() {
        return a.to_owned();
    }
    let dilated = along(along(a, k, true, Axis(0)).view(), k, true, Axis(1));
    along(
        along(dilated.view(), k, false, Axis(0)).view(),
        k,
        false,
        Axis(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running extreme against the direct definition, for every half-width and length.
    #[test]
    fn running_extreme_matches_direct_scan() {
        let src: Vec<f32> = (0..37).map(|i| ((i * 7919) % 23) as f32 - 11.0).collect();
        let (mut g, mut h) = (Vec::new(), Vec::new());
        for n in [1, 2, 5, 13, 37] {
            for k in 0..9 {
                for max in [true, false] {
                    let s = &src[..n];
                    let mut out = vec![0.0; n];
                    running_extreme(s, &mut out, k, max, &mut g, &mut h);
                    for i in 0..n {
                        let w = &s[i.saturating_sub(k)..=(i + k).min(n - 1)];
                        let want = if max {
                            w.iter().copied().fold(f32::MIN, f32::max)
                        } else {
                            w.iter().copied().fold(f32::MAX, f32::min)
                        };
                        assert_eq!(out[i], want, "n {n} k {k} max {max} i {i}");
                    }
                }
            }
        }
    }

    /// A closing fills a dark pit narrower than the square and keeps a wider one and a bright
    /// bump as they were.
    #[test]
    fn closing_fills_narrow_pits_only() {
        let mut a = Array2::<f32>::zeros((40, 40));
        // 3 x 3 pit (narrower than the 5 x 5 square), 9 x 9 pit (wider), 3 x 3 bump.
        a.slice_mut(ndarray::s![5..8, 5..8]).fill(-1.0);
        a.slice_mut(ndarray::s![20..29, 20..29]).fill(-1.0);
        a.slice_mut(ndarray::s![5..8, 30..33]).fill(1.0);
        let c = closing_square(a.view(), 2);
        assert!(c.slice(ndarray::s![5..8, 5..8]).iter().all(|&v| v == 0.0));
        assert_eq!(
            c.slice(ndarray::s![20..29, 20..29]),
            a.slice(ndarray::s![20..29, 20..29])
        );
        assert_eq!(
            c.slice(ndarray::s![5..8, 30..33]),
            a.slice(ndarray::s![5..8, 30..33])
        );
        assert_eq!(c[[0, 0]], 0.0);
    }
}
