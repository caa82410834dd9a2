//! ISO 25178-2 height (Sa, Sq, Ssk, Sku, Sp, Sv, Sz) and hybrid (Sdq, Sdr) parameters of a masked
//! height map; see the family doc in [`super`].

use ndarray::ArrayView2;

use super::load_row;
use crate::imgops::simd::widest_simd;
use crate::metrics::{MetricValue, Missing};

/// A surface counts as flat when Sq ≤ this fraction of max |z| (or Sq = 0).
const FLAT_SQ_REL: f64 = 1e-12;

pub(super) const FLAT: &str = "flat surface: undefined";

/// The ISO 25178-2 height and hybrid parameters of one masked height map.
///
/// Heights are in the unit of `z`; `sdq` is in z units per mm; `sdr` in percent.
#[derive(Debug, Clone, PartialEq)]
pub struct ArealParameters {
    pub sa: f64,
    pub sq: f64,
    /// Missing for a flat surface (0/0).
    pub ssk: MetricValue,
    /// Missing for a flat surface (0/0).
    pub sku: MetricValue,
    pub sp: f64,
    pub sv: f64,
    pub sz: f64,
    /// Missing when no 4-adjacent pair of mask pixels exists along x or along y.
    pub sdq: MetricValue,
    /// Missing when no 2 x 2 cell lies wholly inside the mask.
    pub sdr: MetricValue,
}

/// Count, mean and largest |value| of `z` inside `mask`.
///
/// # Errors
/// Missing for an empty mask.
fn masked_mean<T: Copy + Into<f64>>(
    z: &ArrayView2<'_, T>,
    mask: &ArrayView2<'_, bool>,
) -> Result<(usize, f64, f64), Missing> {
    let (mut sums, mut zr, mut mr) = (MeanSums::default(), Vec::new(), Vec::new());
    for r in 0..z.nrows() {
        load_row(z, mask, r, &mut zr, &mut mr);
        mean_row(&zr, &mr, &mut sums);
    }
    if sums.n == 0 {
        return Err(Missing::new("empty zone"));
    }
    Ok((sums.n, sums.sum / sums.n as f64, sums.max_abs))
}

/// Running sums of [`mean_row`].
#[derive(Default)]
struct MeanSums {
    n: usize,
    sum: f64,
    max_abs: f64,
}

/// Running centred sums of [`moment_row`].
struct MomentSums {
    abs: f64,
    s2: f64,
    s3: f64,
    s4: f64,
    hi: f64,
    lo: f64,
}

impl Default for MomentSums {
    fn default() -> Self {
        MomentSums {
            abs: 0.0,
            s2: 0.0,
            s3: 0.0,
            s4: 0.0,
            hi: f64::NEG_INFINITY,
            lo: f64::INFINITY,
        }
    }
}

widest_simd! {
    /// Masked count, sum and max |v| of one row, accumulated in [`SLOPE_LANES`] lanes whose
    /// sums are added in a fixed order (deterministic, the same bits for every vector width).
    /// A NaN value is counted and summed but never becomes the maximum.
    fn mean_row(z: &[f64], m: &[bool], sums: &mut MeanSums) {
        let m = &m[..z.len()];
        let mut sum = [0.0f64; SLOPE_LANES];
        let mut big = [0.0f64; SLOPE_LANES];
        let mut count = [0u32; SLOPE_LANES];
        for (zc, mc) in z.chunks(SLOPE_LANES).zip(m.chunks(SLOPE_LANES)) {
            for k in 0..zc.len() {
                let (v, inside) = (zc[k], mc[k]);
                sum[k] += if inside { v } else { 0.0 };
                let a = v.abs();
                big[k] = if inside && a > big[k] { a } else { big[k] };
                count[k] += u32::from(inside);
            }
        }
        sums.sum += sum.iter().sum::<f64>();
        sums.max_abs = big.iter().fold(sums.max_abs, |m, &a| if a > m { a } else { m });
        sums.n += count.iter().map(|&c| c as usize).sum::<usize>();
    }
}

widest_simd! {
    /// Masked sums of |c|, c², c³, c⁴ and the extremes of c = v − `mean` over one row, in
    /// lanes as [`mean_row`].
    fn moment_row(z: &[f64], m: &[bool], mean: f64, sums: &mut MomentSums) {
        let m = &m[..z.len()];
        let mut abs = [0.0f64; SLOPE_LANES];
        let mut s2 = [0.0f64; SLOPE_LANES];
        let mut s3 = [0.0f64; SLOPE_LANES];
        let mut s4 = [0.0f64; SLOPE_LANES];
        let mut hi = [f64::NEG_INFINITY; SLOPE_LANES];
        let mut lo = [f64::INFINITY; SLOPE_LANES];
        for (zc, mc) in z.chunks(SLOPE_LANES).zip(m.chunks(SLOPE_LANES)) {
            for k in 0..zc.len() {
                let inside = mc[k];
                let c = zc[k] - mean;
                let c2 = c * c;
                abs[k] += if inside { c.abs() } else { 0.0 };
                s2[k] += if inside { c2 } else { 0.0 };
                s3[k] += if inside { c2 * c } else { 0.0 };
                s4[k] += if inside { c2 * c2 } else { 0.0 };
                hi[k] = if inside && c > hi[k] { c } else { hi[k] };
                lo[k] = if inside && c < lo[k] { c } else { lo[k] };
            }
        }
        sums.abs += abs.iter().sum::<f64>();
        sums.s2 += s2.iter().sum::<f64>();
        sums.s3 += s3.iter().sum::<f64>();
        sums.s4 += s4.iter().sum::<f64>();
        sums.hi = hi.iter().fold(sums.hi, |m, &v| if v > m { v } else { m });
        sums.lo = lo.iter().fold(sums.lo, |m, &v| if v < m { v } else { m });
    }
}

/// Mean, population SD and flatness of a masked height map: what the height parameters and
/// the GLCM quantisation share.
pub(super) struct HeightStats {
    n: usize,
    pub(super) mean: f64,
    max_abs: f64,
    moments: MomentSums,
}

impl HeightStats {
    pub(super) fn sq(&self) -> f64 {
        (self.moments.s2 / self.n as f64).sqrt()
    }

    /// Sq is 0 or at most `FLAT_SQ_REL`·max|z|.
    pub(super) fn flat(&self) -> bool {
        let sq = self.sq();
        sq == 0.0 || sq <= FLAT_SQ_REL * self.max_abs
    }
}

/// [`HeightStats`] and, with a pixel step (mm), the slope sums, in two passes over the rows
/// (mean, then moments and slopes together).
pub(super) fn height_and_slope_sums<T: Copy + Into<f64>>(
    z: ArrayView2<'_, T>,
    mask: ArrayView2<'_, bool>,
    step_mm: Option<f64>,
) -> Result<(HeightStats, SlopeSums), Missing> {
    let (n, mean, max_abs) = masked_mean(&z, &mask)?;
    let ny = z.nrows();
    let (mut z0, mut m0, mut z1, mut m1) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut slopes = SlopeSums::default();
    let mut moments = MomentSums::default();
    load_row(&z, &mask, 0, &mut z0, &mut m0);
    for r in 0..ny {
        moment_row(&z0, &m0, mean, &mut moments);
        if r + 1 < ny {
            load_row(&z, &mask, r + 1, &mut z1, &mut m1);
        }
        match step_mm {
            Some(step) if r + 1 < ny => {
                slope_sums_row_pair(&z0, &m0, &z1, &m1, step, &mut slopes);
            }
            Some(step) => slope_sums_last_row(&z0, &m0, step, &mut slopes),
            None => {}
        }
        std::mem::swap(&mut z0, &mut z1);
        std::mem::swap(&mut m0, &mut m1);
    }
    let stats = HeightStats {
        n,
        mean,
        max_abs,
        moments,
    };
    Ok((stats, slopes))
}

/// Height parameters, Sdq and Sdr of `z` over the pixels where `mask` is true.
///
/// ```text
/// c    = z − mean_M(z)                         mean over the N mask pixels
/// Sa   = Σ|c|/N     Sq = sqrt(Σc²/N)           population moments (÷N)
/// Ssk  = (Σc³/N)/Sq³     Sku = (Σc⁴/N)/Sq⁴     plain kurtosis (Gaussian: 3)
/// Sp   = max c      Sv = −min c      Sz = Sp + Sv
/// gx   = (z[r,c+1] − z[r,c])/h   over the Nx pairs with both pixels in M
/// gy   = (z[r+1,c] − z[r,c])/h   over the Ny pairs with both pixels in M
/// Sdq  = sqrt(Σgx²/Nx + Σgy²/Ny)
/// Sdr  = 100 · (1/K) Σ_cells ¼ Σ_{P∈corners} (sqrt(1 + gx_P² + gy_P²) − 1)   [%]
/// ```
/// h = `step_mm`; K = number of 2×2 cells whose 4 corners are in M; gx_P, gy_P are the slopes of
/// the cell's x-edge and y-edge that meet at corner P. The cell term is ISO 25178-2:2021 eq.
/// (D.15): the mean area of the two diagonal triangulations, divided by the projected cell area
/// h². On a full mask this is surfalize 0.19.2 exactly (projected area (nx−1)h·(ny−1)h; Sdq with
/// each direction averaged over its own count). The `sqrt(1+q) − 1` term is evaluated as
/// `q/(sqrt(1+q)+1)`, so a flat plane gives Sdr = 0 exactly.
///
/// Test vectors: a 45° plane z = x gives Sdq = 1, Sdr = 41.4214 %; a flat plane Sdr = 0.
///
/// # Errors
/// Missing when the mask is empty. Ssk and Sku are missing for a flat surface
/// (Sq ≤ 1e−12·max|z|).
///
/// # Panics
/// If `z` and `mask` differ in shape, or `step_mm` is not positive.
pub fn areal_parameters<T: Copy + Into<f64>>(
    z: ArrayView2<'_, T>,
    mask: ArrayView2<'_, bool>,
    step_mm: f64,
) -> Result<ArealParameters, Missing> {
    assert_eq!(z.dim(), mask.dim(), "height map and mask differ in shape");
    assert!(step_mm > 0.0, "pixel step must be positive");
    let (stats, sums) = height_and_slope_sums(z, mask, Some(step_mm))?;
    Ok(areal_from_sums(&stats, &sums))
}

/// [`areal_parameters`] from its sums.
pub(super) fn areal_from_sums(stats: &HeightStats, sums: &SlopeSums) -> ArealParameters {
    let m = &stats.moments;
    let nf = stats.n as f64;
    let sq = stats.sq();
    let (ssk, sku) = if stats.flat() {
        (Err(Missing::new(FLAT)), Err(Missing::new(FLAT)))
    } else {
        (
            Ok((m.s3 / nf) / sq.powi(3)),
            Ok((m.s4 / nf) / (sq * sq * sq * sq)),
        )
    };
    let &SlopeSums {
        sx,
        cx,
        sy,
        cy,
        excess,
        cells,
    } = sums;
    let sdq = if cx > 0 && cy > 0 {
        Ok((sx / cx as f64 + sy / cy as f64).sqrt())
    } else {
        Err(Missing::new(
            "no 4-adjacent pair of zone pixels along x or along y",
        ))
    };
    let sdr = if cells > 0 {
        Ok(100.0 * excess / cells as f64)
    } else {
        Err(Missing::new("no 2x2 pixel cell wholly inside the zone"))
    };
    ArealParameters {
        sa: m.abs / nf,
        sq,
        ssk,
        sku,
        sp: m.hi,
        sv: -m.lo,
        sz: m.hi - m.lo,
        sdq,
        sdr,
    }
}

/// Partial sums of [`areal_parameters`]' slope terms.
#[derive(Default)]
pub(super) struct SlopeSums {
    sx: f64,
    cx: usize,
    sy: f64,
    cy: usize,
    excess: f64,
    cells: usize,
}

/// `(sqrt(1 + gx² + gy²) − 1)`, evaluated as `q/(sqrt(1+q)+1)` so a flat plane gives exactly 0.
#[inline(always)]
fn area_excess(gx: f64, gy: f64) -> f64 {
    let q = gx * gx + gy * gy;
    q / ((1.0 + q).sqrt() + 1.0)
}

/// Lanes of the partial sums in [`slope_sums_row_pair`]: the per-lane sums are combined in a
/// fixed order, so the result is deterministic and independent of the vector width.
const SLOPE_LANES: usize = 8;

/// Slope sums of the last row (x pairs only).
fn slope_sums_last_row(z0: &[f64], m0: &[bool], step_mm: f64, sums: &mut SlopeSums) {
    for c in 0..z0.len().saturating_sub(1) {
        if m0[c] && m0[c + 1] {
            let g = (z0[c + 1] - z0[c]) * (1.0 / step_mm);
            sums.sx += g * g;
            sums.cx += 1;
        }
    }
}

widest_simd! {
    /// Slope sums of row `r` (values `z0`, mask `m0`) with the next row (`z1`, `m1`): x pairs
    /// of row r, y pairs (r, r+1) and the 2×2 cells between them. Branch-free over the columns
    /// (the mask selects, it never multiplies, so values outside the mask may be anything),
    /// compiled for the widest vector unit available; every lane variant gives the same bits.
    fn slope_sums_row_pair(
        z0: &[f64],
        m0: &[bool],
        z1: &[f64],
        m1: &[bool],
        step_mm: f64,
        sums: &mut SlopeSums,
    ) {
        let nx = z0.len();
        if nx == 0 {
            return;
        }
        let (m0, z1, m1) = (&m0[..nx], &z1[..nx], &m1[..nx]);
        // Last column: only its y pair.
        let last = nx - 1;
        if m0[last] && m1[last] {
            let g = (z1[last] - z0[last]) * (1.0 / step_mm);
            sums.sy += g * g;
            sums.cy += 1;
        }
        let n = last;
        let (a0, b0, a1, b1) = (&z0[..n], &z0[1..=n], &z1[..n], &z1[1..=n]);
        let (ma0, mb0, ma1, mb1) = (&m0[..n], &m0[1..=n], &m1[..n], &m1[1..=n]);
        // Differences times 1/h (a multiply, not four divides per cell).
        let inv_step = 1.0 / step_mm;
        let mut sx = [0.0f64; SLOPE_LANES];
        let mut sy = [0.0f64; SLOPE_LANES];
        let mut ex = [0.0f64; SLOPE_LANES];
        let mut cx = [0u32; SLOPE_LANES];
        let mut cy = [0u32; SLOPE_LANES];
        let mut cells = [0u32; SLOPE_LANES];
        let mut c = 0;
        while c < n {
            let width = SLOPE_LANES.min(n - c);
            for k in 0..width {
                let i = c + k;
                let (a, b, cc, d) = (a0[i], b0[i], b1[i], a1[i]);
                let in_x = ma0[i] && mb0[i];
                let in_y = ma0[i] && ma1[i];
                let in_cell = in_x && ma1[i] && mb1[i];
                let top = (b - a) * inv_step;
                let left = (d - a) * inv_step;
                let bottom = (cc - d) * inv_step;
                let right = (cc - b) * inv_step;
                sx[k] += if in_x { top * top } else { 0.0 };
                sy[k] += if in_y { left * left } else { 0.0 };
                let cell = 0.25
                    * (area_excess(top, left)
                        + area_excess(top, right)
                        + area_excess(bottom, right)
                        + area_excess(bottom, left));
                ex[k] += if in_cell { cell } else { 0.0 };
                cx[k] += u32::from(in_x);
                cy[k] += u32::from(in_y);
                cells[k] += u32::from(in_cell);
            }
            c += width;
        }
        sums.sx += sx.iter().sum::<f64>();
        sums.sy += sy.iter().sum::<f64>();
        sums.excess += ex.iter().sum::<f64>();
        sums.cx += cx.iter().map(|&v| v as usize).sum::<usize>();
        sums.cy += cy.iter().map(|&v| v as usize).sum::<usize>();
        sums.cells += cells.iter().map(|&v| v as usize).sum::<usize>();
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{full, noise};
    use super::*;
    use ndarray::Array2;

    #[test]
    fn flat_and_45_degree_planes() {
        let flat = Array2::from_elem((20, 30), 1.25f64);
        let p = areal_parameters(flat.view(), full(20, 30).view(), 0.05).unwrap();
        assert_eq!(p.sdr, Ok(0.0));
        assert_eq!(p.sdq, Ok(0.0));
        assert_eq!((p.sa, p.sq, p.sz), (0.0, 0.0, 0.0));
        assert!(p.ssk.unwrap_err().0.contains("flat"));
        assert!(p.sku.unwrap_err().0.contains("flat"));

        let step = 0.05;
        let plane = Array2::from_shape_fn((20, 30), |(_, c)| c as f64 * step);
        let p = areal_parameters(plane.view(), full(20, 30).view(), step).unwrap();
        assert!((p.sdq.unwrap() - 1.0).abs() < 1e-12);
        assert!((p.sdr.unwrap() - 100.0 * (2f64.sqrt() - 1.0)).abs() < 1e-10);
        // Tilted along y and x at once: |grad| = sqrt(2) gives Sdr = 100 (sqrt(3) - 1) %.
        let plane = Array2::from_shape_fn((20, 30), |(r, c)| (r + c) as f64 * step);
        let p = areal_parameters(plane.view(), full(20, 30).view(), step).unwrap();
        assert!((p.sdq.unwrap() - 2f64.sqrt()).abs() < 1e-12);
        assert!((p.sdr.unwrap() - 100.0 * (3f64.sqrt() - 1.0)).abs() < 1e-10);
    }

    #[test]
    fn empty_or_disconnected_masks_are_missing() {
        let z = noise(10, 10, 1);
        let none = Array2::from_elem((10, 10), false);
        assert!(areal_parameters(z.view(), none.view(), 0.1).is_err());
        // A checkerboard mask has pixels but no adjacent pair: Sdq and Sdr are missing.
        let checker = Array2::from_shape_fn((10, 10), |(r, c)| (r + c) % 2 == 0);
        let p = areal_parameters(z.view(), checker.view(), 0.1).unwrap();
        assert!(p.sdq.is_err() && p.sdr.is_err());
        assert!(p.sq > 0.0);
    }

    /// The fused slope pass against the per-pixel definition on a partial mask with NaN outside.
    #[test]
    fn slope_sums_match_naive_loop() {
        let (ny, nx) = (37, 45);
        let base = noise(ny, nx, 9);
        let mask = Array2::from_shape_fn((ny, nx), |(r, c)| (r * 5 + c * 3) % 11 != 0);
        let z = Array2::from_shape_fn(
            (ny, nx),
            |(r, c)| {
                if mask[[r, c]] { base[[r, c]] } else { f32::NAN }
            },
        );
        let h = 0.05;
        let a = areal_parameters(z.view(), mask.view(), h).unwrap();
        let (mut sx, mut cx, mut sy, mut cy, mut ex, mut cells) = (0.0, 0, 0.0, 0, 0.0, 0);
        let zf = |r: usize, c: usize| f64::from(z[[r, c]]);
        let t = |gx: f64, gy: f64| (1.0 + gx * gx + gy * gy).sqrt() - 1.0;
        for r in 0..ny {
            for c in 0..nx {
                if !mask[[r, c]] {
                    continue;
                }
                if c + 1 < nx && mask[[r, c + 1]] {
                    sx += ((zf(r, c + 1) - zf(r, c)) / h).powi(2);
                    cx += 1;
                }
                if r + 1 < ny && mask[[r + 1, c]] {
                    sy += ((zf(r + 1, c) - zf(r, c)) / h).powi(2);
                    cy += 1;
                }
                if c + 1 < nx
                    && r + 1 < ny
                    && mask[[r, c + 1]]
                    && mask[[r + 1, c]]
                    && mask[[r + 1, c + 1]]
                {
                    let top = (zf(r, c + 1) - zf(r, c)) / h;
                    let bottom = (zf(r + 1, c + 1) - zf(r + 1, c)) / h;
                    let left = (zf(r + 1, c) - zf(r, c)) / h;
                    let right = (zf(r + 1, c + 1) - zf(r, c + 1)) / h;
                    ex +=
                        0.25 * (t(top, left) + t(top, right) + t(bottom, right) + t(bottom, left));
                    cells += 1;
                }
            }
        }
        let sdq = (sx / f64::from(cx) + sy / f64::from(cy)).sqrt();
        let sdr = 100.0 * ex / f64::from(cells);
        let rel = |a: f64, b: f64| ((a - b) / b).abs();
        assert!(
            rel(a.sdq.clone().unwrap(), sdq) < 1e-12,
            "{:?} {sdq}",
            a.sdq
        );
        assert!(rel(a.sdr.clone().unwrap(), sdr) < 1e-9, "{:?} {sdr}", a.sdr);
    }
}
