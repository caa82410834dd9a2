//! Skeletonisation of binary masks to 1-px wide, 8-connected centre lines.
//!
//! Guo & Hall's parallel thinning with two sub-iterations (algorithm A1 of Z. Guo, R. W. Hall,
//! "Parallel thinning with two-subiteration algorithms", Commun. ACM 32(3):359-373, 1989,
//! doi:10.1145/62065.62074), as implemented in OpenCV `ximgproc::thinning(THINNING_GUOHALL)`.
//! With the neighbours of p numbered
//!
//! ```text
//! p9 p2 p3
//! p8 p  p4        (p2 = north, rows grow downwards)
//! p7 p6 p5
//! ```
//! p (foreground) is deleted in sub-iteration k when all of
//!
//! ```text
//! C(p) = [¬p2 ∧ (p3 ∨ p4)] + [¬p4 ∧ (p5 ∨ p6)] + [¬p6 ∧ (p7 ∨ p8)] + [¬p8 ∧ (p9 ∨ p2)] = 1
//! N1 = (p9 ∨ p2) + (p3 ∨ p4) + (p5 ∨ p6) + (p7 ∨ p8)
//! N2 = (p2 ∨ p3) + (p4 ∨ p5) + (p6 ∨ p7) + (p8 ∨ p9),      2 ≤ min(N1, N2) ≤ 3
//! k = 1: (p6 ∨ p7 ∨ ¬p9) ∧ p8 = 0        k = 2: (p2 ∨ p3 ∨ ¬p5) ∧ p4 = 0
//! ```
//! hold (C = 1: deleting p does not change 8-connectivity; N ≥ 2 keeps end points). Deletions of
//! one sub-iteration are decided on the image before it, then applied together; iterations
//! repeat until nothing changes. Pixels outside the image count as background. Unlike
//! Zhang-Suen, a 2×2 block thins to one pixel instead of vanishing, so no object disappears.
//! Cost: O(foreground pixels × iterations); iterations ≈ half the largest object thickness.

use ndarray::Array2;

/// Bit of each neighbour in the 8-bit neighbourhood code: p2 (N) is bit 0, then clockwise.
const P2: u8 = 1;
const P3: u8 = 1 << 1;
const P4: u8 = 1 << 2;
const P5: u8 = 1 << 3;
const P6: u8 = 1 << 4;
const P7: u8 = 1 << 5;
const P8: u8 = 1 << 6;
const P9: u8 = 1 << 7;

/// Guo-Hall deletion rule for neighbourhood `code` in sub-iteration `second` (false = first).
fn deletable(code: u8, second: bool) -> bool {
    let b = |m: u8| u8::from(code & m != 0);
    let (p2, p3, p4, p5, p6, p7, p8, p9) = (b(P2), b(P3), b(P4), b(P5), b(P6), b(P7), b(P8), b(P9));
    let c = ((1 - p2) & (p3 | p4))
        + ((1 - p4) & (p5 | p6))
        + ((1 - p6) & (p7 | p8))
        + ((1 - p8) & (p9 | p2));
    let n1 = (p9 | p2) + (p3 | p4) + (p5 | p6) + (p7 | p8);
    let n2 = (p2 | p3) + (p4 | p5) + (p6 | p7) + (p8 | p9);
    let n = n1.min(n2);
    let m = if second {
        (p2 | p3 | (1 - p5)) & p4
    } else {
        (p6 | p7 | (1 - p9)) & p8
    };
    c == 1 && (2..=3).contains(&n) && m == 0
}

/// Thin `mask` to a 1-px wide, 8-connected skeleton (Guo-Hall; see the module docs).
///
/// The result is a subset of `mask` with the same number of 8-connected components; a 1-px wide
/// 8-connected line without redundant corner pixels is returned unchanged.
pub fn thin(mask: &Array2<bool>) -> Array2<bool> {
    let (rows, cols) = mask.dim();
    if rows == 0 || cols == 0 {
        return mask.clone();
    }
    let lut: [[bool; 256]; 2] = [
        std::array::from_fn(|c| deletable(c as u8, false)),
        std::array::from_fn(|c| deletable(c as u8, true)),
    ];
    // Zero-padded copy so that every pixel has 8 neighbours.
    let w = cols + 2;
    let mut img = vec![0u8; (rows + 2) * w];
    // Foreground indices as u32 (half the memory of usize on a large region).
    assert!(u32::try_from(img.len()).is_ok(), "mask too large to thin");
    let mut fg: Vec<u32> = Vec::new();
    for ((i, j), &v) in mask.indexed_iter() {
        if v {
            let k = (i + 1) * w + j + 1;
            img[k] = 1;
            fg.push(k as u32);
        }
    }
    let code = |img: &[u8], k: usize| -> u8 {
        (img[k - w] * P2)
            | (img[k - w + 1] * P3)
            | (img[k + 1] * P4)
            | (img[k + w + 1] * P5)
            | (img[k + w] * P6)
            | (img[k + w - 1] * P7)
            | (img[k - 1] * P8)
            | (img[k - w - 1] * P9)
    };
    let mut doomed: Vec<u32> = Vec::new();
    loop {
        let mut changed = false;
        for table in &lut {
            doomed.clear();
            doomed.extend(
                fg.iter()
                    .copied()
                    .filter(|&k| table[code(&img, k as usize) as usize]),
            );
            if doomed.is_empty() {
                continue;
            }
            changed = true;
            for &k in &doomed {
                img[k as usize] = 0;
            }
            fg.retain(|&k| img[k as usize] != 0);
        }
        if !changed {
            break;
        }
    }
    Array2::from_shape_fn((rows, cols), |(i, j)| img[(i + 1) * w + j + 1] != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imgops::components::{Connectivity, label_components};
    use proptest::prelude::*;

    fn has_2x2_block(m: &Array2<bool>) -> bool {
        let (r, c) = m.dim();
        (1..r).any(|i| {
            (1..c).any(|j| m[[i, j]] && m[[i - 1, j]] && m[[i, j - 1]] && m[[i - 1, j - 1]])
        })
    }

    fn count8(m: &Array2<bool>) -> usize {
        label_components(m, Connectivity::Eight).1
    }

    /// Bresenham line from (r0, c0) to (r1, c1).
    fn draw_line(m: &mut Array2<bool>, (r0, c0): (i64, i64), (r1, c1): (i64, i64)) {
        let (dr, dc) = ((r1 - r0).abs(), -(c1 - c0).abs());
        let (sr, sc) = (if r0 < r1 { 1 } else { -1 }, if c0 < c1 { 1 } else { -1 });
        let (mut r, mut c, mut err) = (r0, c0, dr + dc);
        loop {
            m[[r as usize, c as usize]] = true;
            if r == r1 && c == c1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dc {
                err += dc;
                r += sr;
            }
            if e2 <= dr {
                err += dr;
                c += sc;
            }
        }
    }

    #[test]
    fn thick_bar_thins_to_its_centre_line() {
        // Bar rows 20..=31 (12 px thick, centre row 25.5), columns 10..=89 (80 px long).
        let m = Array2::from_shape_fn((50, 100), |(i, j)| {
            (20..=31).contains(&i) && (10..=89).contains(&j)
        });
        let s = thin(&m);
        assert!(s.iter().zip(&m).all(|(&a, &b)| !a || b), "skeleton ⊆ mask");
        assert_eq!(count8(&s), 1);
        assert!(!has_2x2_block(&s));
        // Away from the ends every column holds exactly one pixel, on the centre line.
        for j in 20..80 {
            let hits: Vec<usize> = (0..50).filter(|&i| s[[i, j]]).collect();
            assert_eq!(hits.len(), 1, "column {j}: {hits:?}");
            assert!(
                (hits[0] as f32 - 25.5).abs() <= 1.0,
                "column {j}: row {}",
                hits[0]
            );
        }
        // Length: the centre line spans the bar minus about half the thickness at each end.
        let cols: Vec<usize> = (0..100)
            .filter(|&j| s.column(j).iter().any(|&v| v))
            .collect();
        let span = cols.last().unwrap() - cols.first().unwrap() + 1;
        assert!((66..=80).contains(&span), "span {span}");
    }

    #[test]
    fn filled_disk_thins_to_a_small_set_at_its_centre() {
        let m = Array2::from_shape_fn((41, 41), |(i, j)| {
            let (y, x) = (i as f32 - 20.0, j as f32 - 20.0);
            x * x + y * y <= 15.0 * 15.0
        });
        let s = thin(&m);
        let pts: Vec<(usize, usize)> = s
            .indexed_iter()
            .filter(|(_, v)| **v)
            .map(|(p, _)| p)
            .collect();
        assert!(!pts.is_empty() && pts.len() <= 4, "{pts:?}");
        assert_eq!(count8(&s), 1);
        for (i, j) in pts {
            assert!(
                (i as f32 - 20.0).abs() <= 2.0 && (j as f32 - 20.0).abs() <= 2.0,
                "({i},{j})"
            );
        }
    }

    #[test]
    fn one_pixel_lines_are_unchanged() {
        // Non-crossing Bresenham lines (crossings would create junction blobs).
        let mut m = Array2::from_elem((100, 100), false);
        draw_line(&mut m, (5, 3), (5, 50)); // horizontal
        draw_line(&mut m, (10, 2), (40, 32)); // diagonal
        draw_line(&mut m, (95, 5), (70, 57)); // ~26°
        draw_line(&mut m, (10, 90), (60, 80)); // steep
        draw_line(&mut m, (50, 10), (60, 40)); // ~18°
        let s = thin(&m);
        let changed: Vec<(usize, usize)> = s
            .indexed_iter()
            .filter(|(p, v)| **v != m[*p])
            .map(|(p, _)| p)
            .collect();
        assert!(changed.is_empty(), "{changed:?}");
        // A 2×2 block becomes a single pixel instead of vanishing.
        let block = Array2::from_shape_fn((4, 4), |(i, j)| {
            (1..=2).contains(&i) && (1..=2).contains(&j)
        });
        assert_eq!(thin(&block).iter().filter(|&&v| v).count(), 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn keeps_components_and_is_idempotent(rows in 1usize..24, cols in 1usize..24, bits in proptest::collection::vec(0u8..4, 576)) {
            // Dense random masks (75 % foreground): thick blobs with holes.
            let m = Array2::from_shape_fn((rows, cols), |(i, j)| bits[i * 24 + j] > 0);
            let s = thin(&m);
            prop_assert!(s.iter().zip(&m).all(|(&a, &b)| !a || b));
            prop_assert_eq!(count8(&s), count8(&m));
            prop_assert_eq!(thin(&s), s);
        }
    }
}
