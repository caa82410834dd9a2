//! Area resampling of a masked plane to a coarser grid by a real factor.
//!
//! Output pixel (r, c) covers the input box `[r·f, (r+1)·f) × [c·f, (c+1)·f)` (pixel edges; input
//! pixel i covers `[i, i+1)`). Its value is the mean of the masked input over that box, each input
//! pixel weighted by the area it shares with the box; its mask is set when the masked input covers
//! at least half of the box. This is the integration a camera with pixels `f` times larger would
//! do (box aperture), separable, exact for any real `f ≥ 1`, and it conserves the mean.

use ndarray::{Array2, ArrayView2};

/// Per output index, the input indices it overlaps and the overlap lengths (sum `f`, less at the
/// far edge).
fn box_weights(n_in: usize, factor: f64) -> Vec<Vec<(usize, f32)>> {
    let n_out = (n_in as f64 / factor).ceil().max(1.0) as usize;
    (0..n_out)
        .map(|o| {
            let lo = o as f64 * factor;
            let hi = ((o + 1) as f64 * factor).min(n_in as f64);
            let first = lo.floor() as usize;
            let last = (hi.ceil() as usize).min(n_in);
            (first..last)
                .filter_map(|i| {
                    let w = (hi.min((i + 1) as f64) - lo.max(i as f64)).max(0.0);
                    (w > 0.0).then_some((i, w as f32))
                })
                .collect()
        })
        .collect()
}

/// Position, in input pixels (pixel centres at integers), of the centre of output pixel
/// `coarse` (may be fractional) of [`area_downsample`] by `factor`: `(coarse + ½)·f − ½`.
pub fn fine_position(coarse: f64, factor: f64) -> f64 {
    (coarse + 0.5) * factor - 0.5
}

/// Masked area-mean of `values` on a grid `factor` (≥ 1) times coarser, and the coarse mask (at
/// least half of each box inside `mask`). Values outside the coarse mask are 0.
pub fn area_downsample(
    values: ArrayView2<f32>,
    mask: ArrayView2<bool>,
    factor: f64,
) -> (Array2<f32>, Array2<bool>) {
    assert!(
        factor >= 1.0,
        "area_downsample needs factor >= 1, got {factor}"
    );
    assert_eq!(values.dim(), mask.dim(), "values and mask differ in shape");
    let (rows, cols) = values.dim();
    let wr = box_weights(rows, factor);
    let wc = box_weights(cols, factor);
    let (orows, ocols) = (wr.len(), wc.len());
    // Along rows first: (rows × ocols) sums of m·v and m.
    let mut sum_v = Array2::<f32>::zeros((rows, ocols));
    let mut sum_m = Array2::<f32>::zeros((rows, ocols));
    for r in 0..rows {
        for (oc, ws) in wc.iter().enumerate() {
            let (mut sv, mut sm) = (0.0f32, 0.0f32);
            for &(c, w) in ws {
                if mask[(r, c)] {
                    sv += w * values[(r, c)];
                    sm += w;
                }
            }
            sum_v[(r, oc)] = sv;
            sum_m[(r, oc)] = sm;
        }
    }
    let extent = |ws: &Vec<(usize, f32)>| ws.iter().map(|&(_, w)| w).sum::<f32>();
    let col_extents: Vec<f32> = wc.iter().map(extent).collect();
    let mut out = Array2::<f32>::zeros((orows, ocols));
    let mut out_mask = Array2::<bool>::from_elem((orows, ocols), false);
    for (or, ws) in wr.iter().enumerate() {
        let row_extent = extent(ws);
        for (oc, &col_extent) in col_extents.iter().enumerate() {
            let (mut sv, mut sm) = (0.0f32, 0.0f32);
            for &(r, w) in ws {
                sv += w * sum_v[(r, oc)];
                sm += w * sum_m[(r, oc)];
            }
            if sm > 0.0 && 2.0 * sm >= row_extent * col_extent {
                out[(or, oc)] = sv / sm;
                out_mask[(or, oc)] = true;
            }
        }
    }
    (out, out_mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_factor_is_the_block_mean() {
        let v = Array2::from_shape_fn((4, 6), |(r, c)| (r * 6 + c) as f32);
        let m = Array2::from_elem((4, 6), true);
        let (d, dm) = area_downsample(v.view(), m.view(), 2.0);
        assert_eq!(d.dim(), (2, 3));
        assert!(dm.iter().all(|&x| x));
        // Block (0,0): 0, 1, 6, 7.
        assert!((d[(0, 0)] - 3.5).abs() < 1e-6);
        // Block (1,2): 16, 17, 22, 23.
        assert!((d[(1, 2)] - 19.5).abs() < 1e-6);
    }

    #[test]
    fn real_factor_weights_by_shared_area_and_conserves_the_mean() {
        // Pixel c holds c over [c, c+1); factor 1.5: box 0 is [0, 1.5), box 1 is [1.5, 3).
        let v = Array2::from_shape_fn((3, 9), |(_, c)| c as f32);
        let m = Array2::from_elem((3, 9), true);
        let (d, _) = area_downsample(v.view(), m.view(), 1.5);
        assert_eq!(d.dim(), (2, 6));
        assert!((d[(0, 0)] - 0.5 / 1.5).abs() < 1e-6, "{}", d[(0, 0)]);
        assert!(
            (d[(1, 1)] - (0.5 + 2.0) / 1.5).abs() < 1e-6,
            "{}",
            d[(1, 1)]
        );
        // Every box is whole (9 = 6 × 1.5): the output mean is the input mean.
        let mean_in = v.row(0).sum() / 9.0;
        let mean_out = d.row(0).sum() / 6.0;
        assert!((mean_in - mean_out).abs() < 1e-5, "{mean_in} {mean_out}");
    }

    #[test]
    fn masked_pixels_do_not_leak_and_half_covered_boxes_decide_the_mask() {
        // Left 3 columns inside (value 1), right 3 outside (value 100, must not count).
        let v = Array2::from_shape_fn((2, 6), |(_, c)| if c < 3 { 1.0 } else { 100.0 });
        let m = Array2::from_shape_fn((2, 6), |(_, c)| c < 3);
        let (d, dm) = area_downsample(v.view(), m.view(), 2.0);
        // Boxes: cols 0-1 (inside), 2-3 (half inside: kept), 4-5 (outside).
        assert_eq!(dm.row(0).to_vec(), vec![true, true, false]);
        assert!((d[(0, 1)] - 1.0).abs() < 1e-6);
        assert_eq!(d[(0, 2)], 0.0);
        // A quarter-covered box is outside.
        let m = Array2::from_shape_fn((2, 6), |(r, c)| c < 3 && r == 0);
        let (_, dm) = area_downsample(v.view(), m.view(), 2.0);
        assert_eq!(dm.row(0).to_vec(), vec![true, false, false]);
    }
}
