//! Finding the chart's 6 x 4 grid of patches in a photo.
//!
//! Physical basis: the patches of a ColorChecker Classic are matte, evenly lit squares of
//! uniform colour, all the same size, on a 6 x 4 lattice of one pitch, separated by the
//! chart's black frame. Skin, hair and backgrounds have texture or gradients and no such
//! lattice. The search runs on a decimated copy of the photo (block means of k x k pixels,
//! k = ⌈longest side / `chart.search_px`⌉), so it costs one pass over the pixels and a few ms
//! on 1 Mpx:
//!
//! 1. **Uniformity map.** On e = √(linear RGB) (noise of similar size at every level), a pixel
//!    is flat when every channel differs from each of its 8 neighbours by at most
//!    [`FLAT_TOLERANCE`].
//! 2. **Candidate squares.** 4-connected components of flat pixels whose bounding box is
//!    square within 1 : [`MAX_ASPECT`], filled to at least [`MIN_FILL`], at least
//!    [`MIN_SIDE_PX`] px on a side and at most a third of the image's shorter side.
//! 3. **Grid fit.** For each candidate, the nearest candidate of similar size (side ratio
//!    within 1.5) gives a pitch p (1 to 3 sides); candidates whose offsets are whole multiples
//!    of p within ±[`LATTICE_TOLERANCE`]·p in x and y get lattice coordinates. The 6 x 4
//!    (landscape) or 4 x 6 (portrait) window of the lattice holding the most candidates wins
//!    if it holds at least [`MIN_PATCHES`] of the 24 (the black and darkest grey patches may
//!    merge with the frame); origin and pitch (x and y apart) are then refitted by least
//!    squares on its candidates.
//!
//! Verification (against the published colours, see [`super`]) decides the orientation
//! (0/180° for a landscape grid, 90/270° for a portrait one) and rejects grids whose colours
//! are not the chart's. The chart must be upright to within a few degrees of one of those
//! four orientations (the grid is axis-aligned).

use crate::imgops::components::{Connectivity, label_components};
use crate::input::colour::ColourPlanes;
use ndarray::Array2;

use super::reference::{COLUMNS, ROWS};

/// Largest difference in √(linear) between a flat pixel and any of its 8 neighbours.
pub const FLAT_TOLERANCE: f32 = 0.03;
/// Largest bounding-box side ratio of a candidate square.
pub const MAX_ASPECT: f64 = 1.5;
/// Smallest share of its bounding box a candidate square fills.
pub const MIN_FILL: f64 = 0.6;
/// Smallest side of a candidate square in the decimated image, px.
pub const MIN_SIDE_PX: usize = 3;
/// Largest distance of a candidate from its lattice point, in pitches.
pub const LATTICE_TOLERANCE: f64 = 0.2;
/// Fewest patches found on the grid for a chart.
pub const MIN_PATCHES: usize = 12;

/// The chart's grid of patch cells in image px (continuous coordinates: pixel (col, row)
/// covers [col, col + 1) x [row, row + 1)). The cells tile the box (`x0`, `y0`,
/// `cols`·`cell_w`, `rows`·`cell_h`); each patch lies around its cell's centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartGrid {
    pub x0: f64,
    pub y0: f64,
    pub cell_w: f64,
    pub cell_h: f64,
    /// 6 and 4 for a landscape grid, 4 and 6 for a portrait one.
    pub cols: usize,
    pub rows: usize,
}

impl ChartGrid {
    /// The grid of a box around the 24 patches: landscape when wider than tall.
    pub fn of_box(x: f64, y: f64, w: f64, h: f64) -> Self {
        let (cols, rows) = if w >= h {
            (COLUMNS, ROWS)
        } else {
            (ROWS, COLUMNS)
        };
        Self {
            x0: x,
            y0: y,
            cell_w: w / cols as f64,
            cell_h: h / rows as f64,
            cols,
            rows,
        }
    }

    /// Centre of cell (`col`, `row`), px.
    pub fn centre(&self, col: usize, row: usize) -> (f64, f64) {
        (
            self.x0 + (col as f64 + 0.5) * self.cell_w,
            self.y0 + (row as f64 + 0.5) * self.cell_h,
        )
    }

    /// The box of the grid grown by `margin_cells` cells on every side, clipped to a
    /// `width` x `height` image: `[x0, y0, x1, y1)` in whole px.
    pub fn exclusion(&self, margin_cells: f64, width: usize, height: usize) -> [usize; 4] {
        let mx = margin_cells * self.cell_w;
        let my = margin_cells * self.cell_h;
        let clip = |v: f64, hi: usize| v.clamp(0.0, hi as f64) as usize;
        [
            clip((self.x0 - mx).floor(), width),
            clip((self.y0 - my).floor(), height),
            clip(
                (self.x0 + self.cols as f64 * self.cell_w + mx).ceil(),
                width,
            ),
            clip(
                (self.y0 + self.rows as f64 * self.cell_h + my).ceil(),
                height,
            ),
        ]
    }
}

/// Block means of linear RGB over `k` x `k` pixels (the remainder rows and columns dropped).
struct Decimated {
    width: usize,
    height: usize,
    k: usize,
    /// √(linear) per channel, row-major.
    encoded: [Array2<f32>; 3],
}

fn decimate(planes: &ColourPlanes, search_px: usize) -> Decimated {
    let longest = planes.width().max(planes.height());
    let k = longest.div_ceil(search_px.max(1)).max(1);
    let (width, height) = (planes.width() / k, planes.height() / k);
    let mut encoded: [Array2<f32>; 3] = std::array::from_fn(|_| Array2::zeros((height, width)));
    let cols = width * k;
    let mut row: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; cols]);
    let mut acc: [Vec<f64>; 3] = std::array::from_fn(|_| vec![0.0; width]);
    let area = (k * k) as f64;
    for y in 0..height {
        acc.iter_mut().for_each(|a| a.fill(0.0));
        for dy in 0..k {
            let [r, g, b] = &mut row;
            planes.linear_row(y * k + dy, 0, r, g, b);
            for (a, values) in acc.iter_mut().zip(&row) {
                for (x, chunk) in values.chunks_exact(k).enumerate() {
                    a[x] += chunk.iter().map(|&v| f64::from(v)).sum::<f64>();
                }
            }
        }
        for (plane, a) in encoded.iter_mut().zip(&acc) {
            for (x, &sum) in a.iter().enumerate() {
                plane[[y, x]] = ((sum / area).max(0.0) as f32).sqrt();
            }
        }
    }
    Decimated {
        width,
        height,
        k,
        encoded,
    }
}

/// Step 1: the flat pixels (the border rows and columns are never flat).
fn flat_mask(d: &Decimated) -> Array2<bool> {
    Array2::from_shape_fn((d.height, d.width), |(y, x)| {
        if y == 0 || x == 0 || y + 1 >= d.height || x + 1 >= d.width {
            return false;
        }
        d.encoded.iter().all(|plane| {
            let c = plane[[y, x]];
            (y - 1..=y + 1)
                .all(|yy| (x - 1..=x + 1).all(|xx| (plane[[yy, xx]] - c).abs() <= FLAT_TOLERANCE))
        })
    })
}

/// A candidate square: centre (continuous decimated px) and side √area.
#[derive(Debug, Clone, Copy)]
struct Square {
    cx: f64,
    cy: f64,
    side: f64,
}

/// Step 2: the candidate squares.
fn candidate_squares(flat: &Array2<bool>) -> Vec<Square> {
    let (labels, count) = label_components(flat, Connectivity::Four);
    let (rows, cols) = flat.dim();
    // Per label: area, Σx, Σy, bounding box.
    let mut stats = vec![
        (
            0usize,
            0.0f64,
            0.0f64,
            usize::MAX,
            0usize,
            usize::MAX,
            0usize
        );
        count + 1
    ];
    for ((y, x), &l) in labels.indexed_iter() {
        if l == 0 {
            continue;
        }
        let s = &mut stats[l as usize];
        s.0 += 1;
        s.1 += x as f64 + 0.5;
        s.2 += y as f64 + 0.5;
        s.3 = s.3.min(x);
        s.4 = s.4.max(x + 1);
        s.5 = s.5.min(y);
        s.6 = s.6.max(y + 1);
    }
    let largest = rows.min(cols) / 3;
    stats
        .iter()
        .skip(1)
        .filter_map(|&(area, sx, sy, x0, x1, y0, y1)| {
            let (w, h) = (x1.checked_sub(x0)?, y1.checked_sub(y0)?);
            let (short, long) = (w.min(h), w.max(h));
            let square = short >= MIN_SIDE_PX
                && long <= largest
                && long as f64 <= MAX_ASPECT * short as f64
                && area as f64 >= MIN_FILL * (w * h) as f64;
            square.then(|| Square {
                cx: sx / area as f64,
                cy: sy / area as f64,
                side: (area as f64).sqrt(),
            })
        })
        .collect()
}

/// Lattice points (col, row) of the candidates around `seed` at pitch `pitch`, one candidate
/// per point (the nearest to it): `(col, row, index)`.
fn lattice(squares: &[Square], seed: usize, pitch: f64) -> Vec<(i64, i64, usize)> {
    let s = squares[seed];
    let reach = (COLUMNS as f64) * pitch;
    let mut points: Vec<(i64, i64, usize, f64)> = Vec::new();
    for (i, q) in squares.iter().enumerate() {
        if q.side > 1.5 * s.side || q.side < s.side / 1.5 {
            continue;
        }
        let (dx, dy) = (q.cx - s.cx, q.cy - s.cy);
        if dx.abs() > reach || dy.abs() > reach {
            continue;
        }
        let (u, v) = (dx / pitch, dy / pitch);
        let (cu, cv) = (u.round(), v.round());
        let off = (u - cu).hypot(v - cv);
        if (u - cu).abs() <= LATTICE_TOLERANCE && (v - cv).abs() <= LATTICE_TOLERANCE {
            points.push((cu as i64, cv as i64, i, off));
        }
    }
    points.sort_by(|a, b| {
        (a.0, a.1, a.3)
            .partial_cmp(&(b.0, b.1, b.3))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    points.dedup_by_key(|p| (p.0, p.1));
    points.into_iter().map(|(c, r, i, _)| (c, r, i)).collect()
}

/// The best `cols` x `rows` window of lattice points: its origin and the points inside.
fn best_window(points: &[(i64, i64, usize)], cols: i64, rows: i64) -> (i64, i64, usize) {
    let mut best = (0, 0, 0);
    for c0 in -(cols - 1)..=0 {
        for r0 in -(rows - 1)..=0 {
            let n = points
                .iter()
                .filter(|p| (c0..c0 + cols).contains(&p.0) && (r0..r0 + rows).contains(&p.1))
                .count();
            if n > best.2 {
                best = (c0, r0, n);
            }
        }
    }
    best
}

/// Least-squares line v = o + p·i through `(i, v)` pairs: `(o, p)`.
fn line_fit(pairs: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = pairs.len() as f64;
    let (si, sv) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), &(i, v)| (a + i, b + v));
    let (mi, mv) = (si / n, sv / n);
    let (sii, siv) = pairs.iter().fold((0.0, 0.0), |(a, b), &(i, v)| {
        (a + (i - mi).powi(2), b + (i - mi) * (v - mv))
    });
    (sii > 0.0).then(|| (mv - siv / sii * mi, siv / sii))
}

/// Step 3 on the candidates: the grid in decimated px, with how many patches it holds.
fn grid_fit(squares: &[Square]) -> Option<(ChartGrid, usize)> {
    let mut best: Option<(ChartGrid, usize)> = None;
    for (seed, s) in squares.iter().enumerate() {
        let nearest = squares
            .iter()
            .enumerate()
            .filter(|&(i, q)| i != seed && q.side <= 1.5 * s.side && q.side >= s.side / 1.5)
            .map(|(_, q)| (q.cx - s.cx).hypot(q.cy - s.cy))
            .filter(|&d| d >= s.side && d <= 3.0 * s.side)
            .fold(f64::INFINITY, f64::min);
        if !nearest.is_finite() {
            continue;
        }
        let points = lattice(squares, seed, nearest);
        if points.len() < MIN_PATCHES {
            continue;
        }
        for (cols, rows) in [(COLUMNS, ROWS), (ROWS, COLUMNS)] {
            let (c0, r0, n) = best_window(&points, cols as i64, rows as i64);
            if n < MIN_PATCHES || best.as_ref().is_some_and(|b| b.1 >= n) {
                continue;
            }
            let inside: Vec<&(i64, i64, usize)> = points
                .iter()
                .filter(|p| {
                    (c0..c0 + cols as i64).contains(&p.0) && (r0..r0 + rows as i64).contains(&p.1)
                })
                .collect();
            let xs: Vec<(f64, f64)> = inside
                .iter()
                .map(|p| ((p.0 - c0) as f64, squares[p.2].cx))
                .collect();
            let ys: Vec<(f64, f64)> = inside
                .iter()
                .map(|p| ((p.1 - r0) as f64, squares[p.2].cy))
                .collect();
            let (Some((ox, px)), Some((oy, py))) = (line_fit(&xs), line_fit(&ys)) else {
                continue;
            };
            if px <= 0.0 || py <= 0.0 {
                continue;
            }
            let grid = ChartGrid {
                x0: ox - px / 2.0,
                y0: oy - py / 2.0,
                cell_w: px,
                cell_h: py,
                cols,
                rows,
            };
            best = Some((grid, n));
        }
    }
    best
}

/// The chart grid of the photo in full-resolution px, if there is one (not yet verified
/// against the chart's colours).
pub fn find_grid(planes: &ColourPlanes, search_px: usize) -> Option<ChartGrid> {
    let d = decimate(planes, search_px);
    if d.width < 3 || d.height < 3 {
        return None;
    }
    let squares = candidate_squares(&flat_mask(&d));
    let (g, _) = grid_fit(&squares)?;
    let k = d.k as f64;
    Some(ChartGrid {
        x0: g.x0 * k,
        y0: g.y0 * k,
        cell_w: g.cell_w * k,
        cell_h: g.cell_h * k,
        ..g
    })
}

/// Mean linear RGB of the central square of each cell (side `fraction` of the shorter cell
/// side, at least 1 px), in row-major cell order; `None` when a cell leaves the image.
pub fn cell_means(planes: &ColourPlanes, grid: &ChartGrid, fraction: f64) -> Option<Vec<[f64; 3]>> {
    let half = (fraction * grid.cell_w.min(grid.cell_h) / 2.0).max(0.5);
    let mut out = Vec::with_capacity(grid.cols * grid.rows);
    let (mut r, mut g, mut b) = (Vec::new(), Vec::new(), Vec::new());
    for row in 0..grid.rows {
        for col in 0..grid.cols {
            let (cx, cy) = grid.centre(col, row);
            let (x0, x1) = ((cx - half).round(), (cx + half).round());
            let (y0, y1) = ((cy - half).round(), (cy + half).round());
            if x0 < 0.0 || y0 < 0.0 || x1 > planes.width() as f64 || y1 > planes.height() as f64 {
                return None;
            }
            let (x0, x1, y0, y1) = (
                x0 as usize,
                (x1 as usize).max(x0 as usize + 1),
                y0 as usize,
                (y1 as usize).max(y0 as usize + 1),
            );
            if x1 > planes.width() || y1 > planes.height() {
                return None;
            }
            let n = x1 - x0;
            r.resize(n, 0.0);
            g.resize(n, 0.0);
            b.resize(n, 0.0);
            let mut sum = [0.0f64; 3];
            for y in y0..y1 {
                planes.linear_row(y, x0, &mut r, &mut g, &mut b);
                for (s, values) in sum.iter_mut().zip([&r, &g, &b]) {
                    *s += values.iter().map(|&v| f64::from(v)).sum::<f64>();
                }
            }
            let count = (n * (y1 - y0)) as f64;
            out.push(sum.map(|s| s / count));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_of_a_box_and_its_exclusion() {
        let g = ChartGrid::of_box(100.0, 50.0, 60.0, 40.0);
        assert_eq!((g.cols, g.rows), (6, 4));
        assert_eq!(g.centre(0, 0), (105.0, 55.0));
        assert_eq!(g.exclusion(1.0, 1000, 1000), [90, 40, 170, 100]);
        assert_eq!(g.exclusion(20.0, 150, 80), [0, 0, 150, 80]);
        let p = ChartGrid::of_box(0.0, 0.0, 40.0, 60.0);
        assert_eq!((p.cols, p.rows), (4, 6));
    }

    #[test]
    fn line_fit_recovers_a_line() {
        let pairs: Vec<(f64, f64)> = (0..6)
            .map(|i| (f64::from(i), 3.0 + 2.5 * f64::from(i)))
            .collect();
        let (o, p) = line_fit(&pairs).unwrap();
        assert!((o - 3.0).abs() < 1e-12 && (p - 2.5).abs() < 1e-12);
    }
}
