//! Optimal one-to-one matching of detections to reference items (Hungarian algorithm).
//!
//! Used to score detected scars and pores against ground truth or expert marks: each detection
//! may match at most one reference item and vice versa, a pair is allowed only within a match
//! radius, and among the matchings with the most pairs the one with the smallest total distance
//! is chosen.
//!
//! Reference: H. W. Kuhn, "The Hungarian method for the assignment problem", Naval Research
//! Logistics Quarterly 2 (1955) 83-97, doi:10.1002/nav.3800020109; the O(n³) shortest augmenting
//! path form of Jonker & Volgenant.

/// The pairs `(row, col)` of an optimal matching between `rows` and `cols` items, sorted by row.
/// `cost(r, c)` is the distance of an allowed pair, `None` when the pair may not match.
/// Among all matchings with the largest number of pairs, the total cost is smallest.
pub fn optimal_matches(
    rows: usize,
    cols: usize,
    cost: impl Fn(usize, usize) -> Option<f64>,
) -> Vec<(usize, usize)> {
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    // Square matrix; a forbidden or padded pair costs more than any set of allowed pairs, so the
    // number of allowed pairs is maximised first.
    let n = rows.max(cols);
    let mut allowed = vec![None; n * n];
    let mut max_cost = 0.0f64;
    for r in 0..rows {
        for c in 0..cols {
            if let Some(v) = cost(r, c).filter(|v| v.is_finite()) {
                allowed[r * n + c] = Some(v);
                max_cost = max_cost.max(v.abs());
            }
        }
    }
    let big = (max_cost + 1.0) * (n as f64 + 1.0);
    let a = |r: usize, c: usize| allowed[r * n + c].unwrap_or(big);
    // Potentials u (rows), v (cols), 1-based with a dummy column 0.
    let inf = f64::INFINITY;
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; n + 1];
    let mut p = vec![0usize; n + 1]; // p[col] = row matched to col
    let mut way = vec![0usize; n + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![inf; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0usize;
            for j in 1..=n {
                if !used[j] {
                    let cur = a(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = (1..=n)
        .filter_map(|j| {
            let (r, c) = (p[j] - 1, j - 1);
            (r < rows && c < cols && allowed[r * n + c].is_some()).then_some((r, c))
        })
        .collect();
    pairs.sort_unstable();
    pairs
}

/// The scar matching rule of skintex's validation and of `skintex agree`: detected scar `d`
/// (centre, px) may match annotated scar `a` (centre, px; rim diameter, mm, when known) when
///
/// ```text
/// |centre_d − centre_a| / px_per_mm ≤ diameter_a / 2 + match_mm    (match_mm alone without
///                                                                   a diameter)
/// ```
///
/// one-to-one, by [`optimal_matches`] on the centre distance. Returns the pairs
/// `(detected, annotated)`, sorted by detected index.
pub fn scar_matches(
    detected: &[[f64; 2]],
    annotated: &[([f64; 2], Option<f64>)],
    px_per_mm: f64,
    match_mm: f64,
) -> Vec<(usize, usize)> {
    optimal_matches(detected.len(), annotated.len(), |d, a| {
        let ([x, y], diameter_mm) = annotated[a];
        let dist_mm = (detected[d][0] - x).hypot(detected[d][1] - y) / px_per_mm;
        (dist_mm <= 0.5 * diameter_mm.unwrap_or(0.0) + match_mm).then_some(dist_mm)
    })
}

/// [`optimal_matches`] for a sparse set of allowed pairs `(row, col, cost)`, as between
/// thousands of pores: the matching decomposes into the connected components of the allowed
/// pairs, each solved on its own (the same optimum, at the cost of the components' sizes).
pub fn optimal_matches_sparse(
    rows: usize,
    cols: usize,
    pairs: &[(usize, usize, f64)],
) -> Vec<(usize, usize)> {
    // Union-find over rows 0..rows and columns rows..rows+cols.
    let mut parent: Vec<usize> = (0..rows + cols).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(r, c, _) in pairs {
        let (a, b) = (root(&mut parent, r), root(&mut parent, rows + c));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut components: std::collections::BTreeMap<usize, (Vec<usize>, Vec<usize>)> =
        std::collections::BTreeMap::new();
    for &(r, c, _) in pairs {
        let k = root(&mut parent, r);
        let e = components.entry(k).or_default();
        e.0.push(r);
        e.1.push(c);
    }
    let mut out = Vec::new();
    for (_, (mut rs, mut cs)) in components {
        rs.sort_unstable();
        rs.dedup();
        cs.sort_unstable();
        cs.dedup();
        let cost = |i: usize, j: usize| {
            let (r, c) = (rs[i], cs[j]);
            pairs
                .iter()
                .filter(|p| p.0 == r && p.1 == c)
                .map(|p| p.2)
                .min_by(f64::total_cmp)
        };
        for (i, j) in optimal_matches(rs.len(), cs.len(), cost) {
            out.push((rs[i], cs[j]));
        }
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over all injective assignments of rows to columns (or to nothing).
    fn brute(rows: usize, cols: usize, cost: &dyn Fn(usize, usize) -> Option<f64>) -> (usize, f64) {
        fn go(
            r: usize,
            rows: usize,
            cols: usize,
            used: &mut Vec<bool>,
            cost: &dyn Fn(usize, usize) -> Option<f64>,
            best: &mut (usize, f64),
            cur: (usize, f64),
        ) {
            if r == rows {
                if cur.0 > best.0 || (cur.0 == best.0 && cur.1 < best.1 - 1e-12) {
                    *best = cur;
                }
                return;
            }
            go(r + 1, rows, cols, used, cost, best, cur);
            for c in 0..cols {
                if !used[c]
                    && let Some(v) = cost(r, c)
                {
                    used[c] = true;
                    go(r + 1, rows, cols, used, cost, best, (cur.0 + 1, cur.1 + v));
                    used[c] = false;
                }
            }
        }
        let mut best = (0, 0.0);
        go(
            0,
            rows,
            cols,
            &mut vec![false; cols],
            cost,
            &mut best,
            (0, 0.0),
        );
        best
    }

    #[test]
    fn matches_brute_force_on_random_instances() {
        let mut state = 12345u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
        for _ in 0..300 {
            let rows = 1 + (next() * 5.0) as usize;
            let cols = 1 + (next() * 5.0) as usize;
            let pts_r: Vec<(f64, f64)> = (0..rows).map(|_| (next() * 4.0, next() * 4.0)).collect();
            let pts_c: Vec<(f64, f64)> = (0..cols).map(|_| (next() * 4.0, next() * 4.0)).collect();
            let cost = |r: usize, c: usize| {
                let d = (pts_r[r].0 - pts_c[c].0).hypot(pts_r[r].1 - pts_c[c].1);
                (d <= 1.5).then_some(d)
            };
            let pairs = optimal_matches(rows, cols, cost);
            let total: f64 = pairs.iter().map(|&(r, c)| cost(r, c).unwrap()).sum();
            let (n_best, c_best) = brute(rows, cols, &cost);
            assert_eq!(pairs.len(), n_best);
            assert!((total - c_best).abs() < 1e-9, "{total} vs {c_best}");
            let mut seen_c: Vec<usize> = pairs.iter().map(|p| p.1).collect();
            seen_c.sort_unstable();
            seen_c.dedup();
            assert_eq!(seen_c.len(), pairs.len());
        }
    }

    /// Greedy nearest-first would pair (0, 0) and leave row 1 unmatched; the optimum pairs both.
    #[test]
    fn prefers_more_pairs_over_a_shorter_single_pair() {
        let d = [[Some(0.1), Some(0.5)], [Some(0.2), None]];
        let pairs = optimal_matches(2, 2, |r, c| d[r][c]);
        assert_eq!(pairs, vec![(0, 1), (1, 0)]);
        assert!(optimal_matches(0, 3, |_, _| Some(1.0)).is_empty());
    }

    /// 10 px/mm, match 0.5 mm: a scar of 1 mm reaches 1 mm = 10 px, one without a diameter 5 px.
    #[test]
    fn scar_rule_reaches_half_the_diameter_plus_the_margin() {
        let annotated = [([0.0, 0.0], Some(1.0)), ([100.0, 0.0], None)];
        let pairs = |d: [f64; 2]| scar_matches(&[d], &annotated, 10.0, 0.5);
        assert_eq!(pairs([10.0, 0.0]), vec![(0, 0)]);
        assert!(pairs([10.1, 0.0]).is_empty());
        assert_eq!(pairs([105.0, 0.0]), vec![(0, 1)]);
        assert!(pairs([105.1, 0.0]).is_empty());
    }

    /// The sparse form gives the dense form's pairs.
    #[test]
    fn sparse_equals_dense() {
        let pts_a: Vec<(f64, f64)> = (0..40)
            .map(|i| (((i * 37) % 50) as f64, ((i * 11) % 23) as f64))
            .collect();
        let pts_b: Vec<(f64, f64)> = (0..35)
            .map(|i| (((i * 29 + 3) % 50) as f64 + 0.4, ((i * 7 + 1) % 23) as f64))
            .collect();
        let cost = |r: usize, c: usize| {
            let d = (pts_a[r].0 - pts_b[c].0).hypot(pts_a[r].1 - pts_b[c].1);
            (d <= 3.0).then_some(d)
        };
        let dense = optimal_matches(pts_a.len(), pts_b.len(), cost);
        let mut pairs = Vec::new();
        for r in 0..pts_a.len() {
            for c in 0..pts_b.len() {
                if let Some(d) = cost(r, c) {
                    pairs.push((r, c, d));
                }
            }
        }
        let sparse = optimal_matches_sparse(pts_a.len(), pts_b.len(), &pairs);
        assert!(!dense.is_empty());
        assert_eq!(dense.len(), sparse.len());
        let total = |m: &[(usize, usize)]| m.iter().map(|&(r, c)| cost(r, c).unwrap()).sum::<f64>();
        assert!((total(&dense) - total(&sparse)).abs() < 1e-9);
    }
}
