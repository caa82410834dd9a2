//! Connected-component labelling and hysteresis thresholding of masks.
//!
//! Labelling is the classic two-pass algorithm (Rosenfeld & Pfaltz 1966,
//! doi:10.1145/321356.321357) with a union-find forest; labels are then renumbered in raster
//! order of each component's first pixel, so the output is deterministic and independent of the
//! union order: label 1 is the component whose first pixel (row-major scan) comes first.

use ndarray::Array2;

/// Pixel adjacency used to join pixels into components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connectivity {
    /// Edge neighbours only (N, S, E, W).
    Four,
    /// Edge and corner neighbours.
    Eight,
}

/// The 4 edge-neighbour offsets (row, col), in raster order.
pub const NEIGHBOURS_4: [(isize, isize); 4] = [(-1, 0), (0, -1), (0, 1), (1, 0)];

/// The 8 neighbour offsets (row, col), in raster order.
pub const NEIGHBOURS_8: [(isize, isize); 8] = [
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
];

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize]; // path halving
        x = p;
    }
    x
}

fn union(parent: &mut [u32], a: u32, b: u32) -> u32 {
    let (ra, rb) = (find(parent, a), find(parent, b));
    let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
    parent[hi as usize] = lo;
    lo
}

/// Label the `true` pixels of `mask` into connected components.
///
/// Returns `(labels, count)`: `labels` has the shape of `mask`, 0 on background and `1..=count`
/// on foreground, numbered in raster order of each component's first pixel.
///
/// # Panics
/// If the mask has more than `u32::MAX − 1` provisional labels (impossible below 8 Gpx).
pub fn label_components(mask: &Array2<bool>, connectivity: Connectivity) -> (Array2<u32>, usize) {
    let (rows, cols) = mask.dim();
    let mask = mask.as_standard_layout();
    let mask = mask.as_slice().expect("standard layout");
    let mut labels = vec![0u32; rows * cols];
    let mut parent: Vec<u32> = vec![0];
    let eight = connectivity == Connectivity::Eight;
    for i in 0..rows {
        let (done, rest) = labels.split_at_mut(i * cols);
        let above: &[u32] = if i > 0 { &done[(i - 1) * cols..] } else { &[] };
        let row = &mut rest[..cols];
        let mask_row = &mask[i * cols..(i + 1) * cols];
        for j in 0..cols {
            if !mask_row[j] {
                continue;
            }
            let mut neighbours = [0u32; 4];
            let mut n = 0;
            let mut push = |l: u32| {
                if l != 0 {
                    neighbours[n] = l;
                    n += 1;
                }
            };
            if j > 0 {
                push(row[j - 1]);
            }
            if i > 0 {
                push(above[j]);
                if eight {
                    if j > 0 {
                        push(above[j - 1]);
                    }
                    if j + 1 < cols {
                        push(above[j + 1]);
                    }
                }
            }
            row[j] = if n == 0 {
                let l = u32::try_from(parent.len()).expect("too many provisional labels");
                parent.push(l);
                l
            } else {
                let mut l = neighbours[0];
                for &m in &neighbours[1..n] {
                    if m != l {
                        l = union(&mut parent, l, m);
                    }
                }
                find(&mut parent, l)
            };
        }
    }
    // Renumber roots in raster order of first appearance.
    let mut final_label = vec![0u32; parent.len()];
    let mut count = 0u32;
    for l in labels.iter_mut() {
        if *l == 0 {
            continue;
        }
        let root = find(&mut parent, *l) as usize;
        if final_label[root] == 0 {
            count += 1;
            final_label[root] = count;
        }
        *l = final_label[root];
    }
    let labels = Array2::from_shape_vec((rows, cols), labels).expect("shape of the mask");
    (labels, count as usize)
}

/// Hysteresis thresholding (Canny 1986, doi:10.1109/TPAMI.1986.4767851).
///
/// ```text
/// out(p) = strength(p) ≥ low  AND  p is 8-connected, through pixels with strength ≥ low,
///          to at least one pixel q with strength(q) ≥ high
/// ```
/// `low` and `high` are in the units of `strength`; `high < low` behaves as `high = low`. NaN
/// strengths are below every threshold.
///
/// Each component of the weak set is flood-filled once ([`drain_components`]), so apart from
/// the output only a weak-set mask and a pixel stack are held (no label plane).
pub fn hysteresis(strength: &Array2<f32>, low: f32, high: f32) -> Array2<bool> {
    let strength = strength.as_standard_layout();
    let values = strength.as_slice().expect("standard layout");
    let mut weak: Vec<bool> = values.iter().map(|&v| v >= low).collect();
    let mut out = Array2::from_elem(strength.raw_dim(), false);
    let region = out.as_slice_mut().expect("fresh array");
    drain_components(&mut weak, strength.ncols(), Connectivity::Eight, |pixels| {
        if pixels.iter().any(|&i| values[i as usize] >= high) {
            for &i in pixels {
                region[i as usize] = true;
            }
        }
    });
    out
}

/// Visit the connected components of the `true` pixels of the row-major `mask` (`cols` pixels
/// per row), in raster order of each component's first pixel (the numbering of
/// [`label_components`]), clearing them from `mask`: `visit` gets the row-major indices of one
/// component, its first pixel first. A flood fill with an explicit stack: it needs no label
/// plane, only the stack and the component's pixel list.
///
/// # Panics
/// If `mask` has more than `u32::MAX` pixels or its length is not a multiple of `cols`.
pub fn drain_components(
    mask: &mut [bool],
    cols: usize,
    connectivity: Connectivity,
    mut visit: impl FnMut(&[u32]),
) {
    if mask.is_empty() {
        return;
    }
    assert!(
        cols > 0 && mask.len().is_multiple_of(cols),
        "mask is not rows x {cols}"
    );
    assert!(u32::try_from(mask.len()).is_ok(), "mask too large");
    let rows = mask.len() / cols;
    let offsets: &[(isize, isize)] = match connectivity {
        Connectivity::Four => &NEIGHBOURS_4,
        Connectivity::Eight => &NEIGHBOURS_8,
    };
    let mut stack: Vec<u32> = Vec::new();
    let mut pixels: Vec<u32> = Vec::new();
    for seed in 0..mask.len() {
        if !mask[seed] {
            continue;
        }
        mask[seed] = false;
        pixels.clear();
        stack.push(seed as u32);
        while let Some(p) = stack.pop() {
            pixels.push(p);
            let (r, c) = ((p as usize / cols) as isize, (p as usize % cols) as isize);
            for &(dr, dc) in offsets {
                let (rr, cc) = (r + dr, c + dc);
                if rr < 0 || cc < 0 || rr as usize >= rows || cc as usize >= cols {
                    continue;
                }
                let q = rr as usize * cols + cc as usize;
                if mask[q] {
                    mask[q] = false;
                    stack.push(q as u32);
                }
            }
        }
        visit(&pixels);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    /// The flood fill finds label_components' components, in its numbering order, and clears
    /// the mask.
    fn drain_matches_labels(m: &Array2<bool>, connectivity: Connectivity) {
        let (labels, count) = label_components(m, connectivity);
        let mut flat: Vec<bool> = m.iter().copied().collect();
        let mut seen = 0;
        drain_components(&mut flat, m.ncols(), connectivity, |pixels| {
            seen += 1;
            let first = pixels[0] as usize;
            assert_eq!(
                Some(&first),
                pixels.iter().map(|&i| i as usize).min().as_ref()
            );
            for &i in pixels {
                assert_eq!(labels.as_slice().unwrap()[i as usize], seen as u32);
            }
            let size = labels.iter().filter(|&&l| l == seen as u32).count();
            assert_eq!(pixels.len(), size);
        });
        assert_eq!(seen, count);
        assert!(flat.iter().all(|&v| !v));
    }

    fn mask(rows: &[&str]) -> Array2<bool> {
        let cols = rows[0].len();
        Array2::from_shape_fn((rows.len(), cols), |(i, j)| rows[i].as_bytes()[j] == b'#')
    }

    #[test]
    fn four_versus_eight_connectivity() {
        let m = mask(&["#..#", ".#.#", "...#", "##.."]);
        let (l8, n8) = label_components(&m, Connectivity::Eight);
        assert_eq!(n8, 3);
        assert_eq!(
            l8,
            array![[1, 0, 0, 2], [0, 1, 0, 2], [0, 0, 0, 2], [3, 3, 0, 0]]
        );
        let (l4, n4) = label_components(&m, Connectivity::Four);
        assert_eq!(n4, 4);
        assert_eq!(
            l4,
            array![[1, 0, 0, 2], [0, 3, 0, 2], [0, 0, 0, 2], [4, 4, 0, 0]]
        );
    }

    #[test]
    fn u_shape_merges_and_keeps_raster_numbering() {
        // Two arms that only join at the bottom: provisional labels 1 and 2 merge.
        let m = mask(&["#.#.#", "#.#.#", "###.#"]);
        let (l, n) = label_components(&m, Connectivity::Four);
        assert_eq!(n, 2);
        assert_eq!(l, array![[1, 0, 1, 0, 2], [1, 0, 1, 0, 2], [1, 1, 1, 0, 2]]);
    }

    #[test]
    fn hysteresis_keeps_only_weak_regions_touching_strong() {
        let s = array![
            [0.0, 0.5, 0.5, 0.0, 0.6, 0.0],
            [0.0, 0.0, 0.9, 0.0, 0.6, 0.0],
            [0.3, 0.0, 0.0, 0.5, 0.0, 0.0],
            [f32::NAN, 0.0, 0.0, 0.0, 0.0, 0.5],
        ];
        // The chain (0,1)..(0,4) is joined diagonally to the strong 0.9; the isolated weak 0.5
        // in the corner and the 0.3 below `low` are dropped.
        let got = hysteresis(&s, 0.4, 0.8);
        let want = mask(&[".##.#.", "..#.#.", "...#..", "......"]);
        assert_eq!(got, want);
    }

    /// Naive reference: flood fill from each unlabelled pixel in raster order.
    fn flood_labels(m: &Array2<bool>, conn: Connectivity) -> (Array2<u32>, usize) {
        let (rows, cols) = m.dim();
        let mut l = Array2::<u32>::zeros((rows, cols));
        let mut n = 0;
        for i in 0..rows {
            for j in 0..cols {
                if !m[[i, j]] || l[[i, j]] != 0 {
                    continue;
                }
                n += 1;
                let mut stack = vec![(i, j)];
                l[[i, j]] = n;
                while let Some((a, b)) = stack.pop() {
                    for da in -1i64..=1 {
                        for db in -1i64..=1 {
                            if (da == 0 && db == 0)
                                || (conn == Connectivity::Four && da != 0 && db != 0)
                            {
                                continue;
                            }
                            let (x, y) = (a as i64 + da, b as i64 + db);
                            if x < 0 || y < 0 || x >= rows as i64 || y >= cols as i64 {
                                continue;
                            }
                            let (x, y) = (x as usize, y as usize);
                            if m[[x, y]] && l[[x, y]] == 0 {
                                l[[x, y]] = n;
                                stack.push((x, y));
                            }
                        }
                    }
                }
            }
        }
        (l, n as usize)
    }

    proptest! {
        #[test]
        fn matches_flood_fill(rows in 1usize..20, cols in 1usize..20, bits in proptest::collection::vec(any::<bool>(), 400)) {
            let m = Array2::from_shape_fn((rows, cols), |(i, j)| bits[i * 20 + j]);
            for conn in [Connectivity::Four, Connectivity::Eight] {
                prop_assert_eq!(label_components(&m, conn), flood_labels(&m, conn));
                drain_matches_labels(&m, conn);
            }
        }
    }
}
