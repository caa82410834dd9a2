//! Geometry of 1-px skeletons: length of each component along its pixel chain.
//!
//! ```text
//! length(c) = Σ_links ℓ(link),   ℓ = 1 for an edge (axial) neighbour pair,
//!                                ℓ = √2 for a corner (diagonal) pair whose two shared edge
//!                                      neighbours are both background
//! ```
//! Every pair of 8-adjacent skeleton pixels of component c is one link, counted once. A diagonal
//! pair that also has a common edge neighbour in the skeleton is already joined through two
//! axial links, so counting its √2 as well would double count the corner; it is skipped. Lengths
//! are in pixels, measured centre to centre: a chain of n pixels is n − 1 links long and a single
//! pixel has length 0. This is the Freeman chain-code length (H. Freeman, "On the encoding of
//! arbitrary geometric configurations", IRE Trans. Electron. Comput. EC-10:260-268, 1961). It is
//! exact along the axes and diagonals and overestimates a straight line at angle θ ∈ [0°, 45°]
//! by the factor `cos θ · (1 + (√2 − 1)·tan θ)`, at most 8.2 % (θ = 22.5°).

use ndarray::Array2;

use super::components::{Connectivity, label_components};

/// Length in px of every labelled skeleton component (see the module docs for the link rule).
///
/// `labels` must have the shape of `skeleton` (0 = background, `1..=count`), typically from
/// [`label_components`] with 8-connectivity on the skeleton or on a mask containing it. Element
/// `k` of the result is the length of label `k + 1`. Links whose two pixels carry different labels
/// (possible only with 4-connected labels) and pixels with label 0 are ignored.
///
/// # Panics
/// If the shapes differ or a label exceeds `count`.
pub fn skeleton_length_px(skeleton: &Array2<bool>, labels: &Array2<u32>, count: usize) -> Vec<f64> {
    assert_eq!(
        skeleton.dim(),
        labels.dim(),
        "skeleton and labels must have the same shape"
    );
    let (rows, cols) = skeleton.dim();
    let mut length = vec![0f64; count];
    let on = |i: usize, j: usize| skeleton[[i, j]];
    for i in 0..rows {
        for j in 0..cols {
            let l = labels[[i, j]];
            if !on(i, j) || l == 0 {
                continue;
            }
            let mut add = |i2: usize, j2: usize, len: f64| {
                if labels[[i2, j2]] == l {
                    length[l as usize - 1] += len;
                }
            };
            let east = j + 1 < cols && on(i, j + 1);
            let south = i + 1 < rows && on(i + 1, j);
            let west = j > 0 && on(i, j - 1);
            if east {
                add(i, j + 1, 1.0);
            }
            if south {
                add(i + 1, j, 1.0);
            }
            if i + 1 < rows && j + 1 < cols && on(i + 1, j + 1) && !east && !south {
                add(i + 1, j + 1, std::f64::consts::SQRT_2);
            }
            if i + 1 < rows && j > 0 && on(i + 1, j - 1) && !west && !south {
                add(i + 1, j - 1, std::f64::consts::SQRT_2);
            }
        }
    }
    length
}

/// Label the skeleton's 8-connected components and measure each: `(labels, lengths_px)`, with
/// `lengths_px[k]` the length of label `k + 1`.
pub fn skeleton_components_length_px(skeleton: &Array2<bool>) -> (Array2<u32>, Vec<f64>) {
    let (labels, count) = label_components(skeleton, Connectivity::Eight);
    let lengths = skeleton_length_px(skeleton, &labels, count);
    (labels, lengths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(rows: &[&str]) -> Array2<bool> {
        let cols = rows[0].len();
        Array2::from_shape_fn((rows.len(), cols), |(i, j)| rows[i].as_bytes()[j] == b'#')
    }

    const R2: f64 = std::f64::consts::SQRT_2;

    #[test]
    fn straight_lines() {
        for n in [1usize, 2, 7, 30] {
            let diag = Array2::from_shape_fn((n, n), |(i, j)| i == j);
            let (_, l) = skeleton_components_length_px(&diag);
            assert!(
                (l[0] - (n as f64 - 1.0) * R2).abs() < 1e-12,
                "n {n}: {}",
                l[0]
            );
            let anti = Array2::from_shape_fn((n, n), |(i, j)| i + j == n - 1);
            let (_, l) = skeleton_components_length_px(&anti);
            assert!((l[0] - (n as f64 - 1.0) * R2).abs() < 1e-12);
            let row = Array2::from_elem((1, n), true);
            assert_eq!(skeleton_components_length_px(&row).1, vec![n as f64 - 1.0]);
        }
    }

    #[test]
    fn corners_and_components_counted_once() {
        // Component 1: L corner (3 axial links) ; component 2: axial + diagonal step;
        // component 3: 4-connected corner (2 axial links, its diagonal skipped).
        let m = mask(&[
            "###...#.....",
            "..#...##....",
            "........#...",
            "..........##",
            "...........#",
        ]);
        let (labels, l) = skeleton_components_length_px(&m);
        assert_eq!(labels.iter().copied().max(), Some(3));
        assert!((l[0] - 3.0).abs() < 1e-12, "{}", l[0]);
        assert!((l[1] - (1.0 + 1.0 + R2)).abs() < 1e-12, "{}", l[1]);
        assert!((l[2] - 2.0).abs() < 1e-12, "{}", l[2]);
    }
}
