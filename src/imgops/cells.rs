//! Points binned in square cells, for "is any item near this point" queries in O(1) cells
//! instead of against every item (greedy duplicate suppression of blobs and pores).

/// Items at points of a `rows × cols` image, binned in square cells of `cell` px, for the
/// question "is any item within `cell` px of this point such that ...".
pub struct CellGrid<T> {
    cell: f64,
    cols: usize,
    cells: Vec<Vec<T>>,
}

impl<T> CellGrid<T> {
    pub fn new((rows, cols): (usize, usize), cell: f64) -> Self {
        let n = |len: usize| (len as f64 / cell).floor() as usize + 1;
        let cols = n(cols);
        CellGrid {
            cell,
            cols,
            cells: (0..n(rows) * cols).map(|_| Vec::new()).collect(),
        }
    }

    fn cell_of(&self, (x, y): (f64, f64)) -> (usize, usize) {
        let rows = self.cells.len() / self.cols;
        let at = |v: f64, n: usize| ((v.max(0.0) / self.cell).floor() as usize).min(n - 1);
        (at(y, rows), at(x, self.cols))
    }

    pub fn insert(&mut self, at: (f64, f64), item: T) {
        let (r, c) = self.cell_of(at);
        self.cells[r * self.cols + c].push(item);
    }

    /// Whether `pred` holds for any item in the 3 × 3 cells around `at` (all items within one
    /// cell size of it, and more).
    pub fn any_near(&self, at: (f64, f64), pred: impl Fn(&T) -> bool) -> bool {
        let rows = self.cells.len() / self.cols;
        let (r, c) = self.cell_of(at);
        (r.saturating_sub(1)..(r + 2).min(rows)).any(|rr| {
            (c.saturating_sub(1)..(c + 2).min(self.cols))
                .any(|cc| self.cells[rr * self.cols + cc].iter().any(&pred))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cell grid answers "is any item within d of this point" as a search over all items
    /// does, for points anywhere in the image (edges included) and distances up to one cell.
    #[test]
    fn cell_grid_finds_what_a_full_search_finds() {
        let (rows, cols, cell) = (97usize, 131usize, 7.5);
        let mut rng = crate::phantom::rng::SplitMix64::new(12345);
        let mut next = || rng.uniform();
        let mut grid: CellGrid<(f64, f64, f64)> = CellGrid::new((rows, cols), cell);
        let mut all = Vec::new();
        for _ in 0..300 {
            let p = (next() * cols as f64, next() * rows as f64, next() * cell);
            grid.insert((p.0, p.1), p);
            all.push(p);
        }
        let mut hits = 0;
        for _ in 0..2000 {
            let (x, y, r) = (next() * cols as f64, next() * rows as f64, next() * cell);
            let near = |&(px, py, d): &(f64, f64, f64)| (px - x).hypot(py - y) < f64::max(d, r);
            let expect = all.iter().any(near);
            assert_eq!(grid.any_near((x, y), near), expect, "({x}, {y}, {r})");
            hits += usize::from(expect);
        }
        // Both answers occur, so the comparison means something.
        assert!((200..1800).contains(&hits), "{hits}");
    }
}
