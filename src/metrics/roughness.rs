//! Roughness: ISO 25178-2 areal parameters and GLCM texture on the pseudo-height map.
//!
//! Every function here works on any height map `z` with a zone mask `M` and a square pixel step
//! `step_mm` (mm per pixel); [`measure`] applies them to a zone's [`PseudoHeight`]. The
//! pseudo-height is unitless, so Sa … Sz are unitless, Sdq is per mm and Sal is in mm.
//!
//! # Reference implementation
//!
//! On a full mask the areal parameters equal surfalize 0.19.2 (`Surface.Sa … Sdr`, no levelling),
//! and the autocorrelation function equals surfalize's `AutocorrelationFunction`; the fixture test
//! `tests/reference_roughness.rs` checks this on the maps made by
//! `tools/reference/make_roughness_fixtures.py`. Sal and Str differ from surfalize only in how the
//! crossing of the threshold is located along each ray (linear instead of cubic-spline
//! interpolation, see [`autocorrelation_parameters`]). The GLCM follows scikit-image 0.26
//! (`graycomatrix`, `graycoprops`), not MATLAB, see [`glcm_properties`].
//!
//! Standard: ISO 25178-2:2021, Geometrical product specifications (GPS) — Surface texture:
//! Areal — Part 2: Terms, definitions and surface texture parameters.
//! GLCM: Haralick, Shanmugam & Dinstein 1973, doi:10.1109/TSMC.1973.4309314.

use ndarray::{Array2, ArrayView2};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;

use super::height::PseudoHeight;
use super::{ColumnSpec, MetricValue, Missing, all_missing};
use crate::config::RoughnessParams;
use crate::imgops::simd::widest_simd;

use super::spec;

/// The columns of the roughness family, in output order.
pub const COLUMNS: &[ColumnSpec] = &[
    spec(
        "rough_sa",
        "1",
        "Arithmetic mean height Sa = mean|z - mean z| of the pseudo-height z (relative luminance, \
         unitless) over the zone pixels (ISO 25178-2).",
    ),
    spec(
        "rough_sq",
        "1",
        "Root-mean-square height Sq = sqrt(mean (z - mean z)^2) of the pseudo-height over the zone \
         pixels (ISO 25178-2; population moment, divides by N).",
    ),
    spec(
        "rough_ssk",
        "1",
        "Skewness Ssk = mean (z - mean z)^3 / Sq^3 (ISO 25178-2; negative when narrow dark pits \
         dominate). Empty for a flat zone (Sq = 0).",
    ),
    spec(
        "rough_sku",
        "1",
        "Kurtosis Sku = mean (z - mean z)^4 / Sq^4 (ISO 25178-2; plain kurtosis, 3 for a Gaussian \
         surface, not excess kurtosis). Empty for a flat zone (Sq = 0).",
    ),
    spec(
        "rough_sp",
        "1",
        "Maximum peak height Sp = max(z - mean z) over the zone pixels (ISO 25178-2).",
    ),
    spec(
        "rough_sv",
        "1",
        "Maximum pit depth Sv = -min(z - mean z) over the zone pixels (ISO 25178-2; positive).",
    ),
    spec(
        "rough_sz",
        "1",
        "Maximum height Sz = Sp + Sv (ISO 25178-2).",
    ),
    spec(
        "rough_sdq",
        "1/mm",
        "Root-mean-square gradient Sdq = sqrt(mean(dz/dx)^2 + mean(dz/dy)^2) of the pseudo-height, \
         per mm; forward differences between 4-adjacent pixel pairs that are both in the zone, each \
         direction averaged over its own pair count (surfalize 0.19.2 convention).",
    ),
    spec(
        "rough_sdr",
        "%",
        "Developed interfacial area ratio Sdr = (area of the triangulated surface (x mm, y mm, z) / \
         projected area - 1) x 100, over the pixel cells whose 4 corners are in the zone; each cell \
         averages both diagonal triangulations (ISO 25178-2:2021 eq. D.15). Depends on the pixel \
         step because z is unitless.",
    ),
    spec(
        "rough_sal_mm",
        "mm",
        "Autocorrelation length Sal (ISO 25178-2): shortest distance, over the rays from zero lag \
         to the outer boundary of the 4-connected ACF region above s = roughness.acf_threshold \
         (default 0.2), at which the normalised ACF falls to s (bilinear ACF, linear interpolation \
         of the crossing). ACF: mean-centred z, masked (overlap-count) normalisation, FFT, lags up \
         to roughness.acf_max_lag_mm (default 4 mm), on the <= 1024 x 1024 px window of the zone \
         holding most zone pixels.",
    ),
    spec(
        "rough_str",
        "1",
        "Texture aspect ratio Str = Sal / longest decay length of the same rays (ISO 25178-2), in \
         (0, 1]: near 0 strongly directional, near 1 isotropic. Same ACF and s as rough_sal_mm. \
         Empty when the ACF does not decay below s within roughness.acf_max_lag_mm in some \
         direction.",
    ),
    spec(
        "rough_glcm_contrast",
        "1",
        "GLCM contrast sum P(i,j)(i-j)^2 (scikit-image graycoprops), mean over angles 0, 45, 90, \
         135 deg. Pseudo-height clipped to mean +- roughness.glcm_clip_sd (default 3) SD and \
         quantised to roughness.glcm_levels (default 32) equal bins; neighbour distance \
         round(roughness.glcm_distance_mm x px/mm) px (default 0.1 mm), diagonal offsets \
         round(d cos 45 deg); pairs with both pixels in the zone; symmetric, normalised.",
    ),
    spec(
        "rough_glcm_homogeneity",
        "1",
        "GLCM homogeneity sum P(i,j)/(1+(i-j)^2) (scikit-image; MATLAB uses 1/(1+|i-j|)), mean over \
         the 4 angles; same GLCM as rough_glcm_contrast.",
    ),
    spec(
        "rough_glcm_energy",
        "1",
        "GLCM energy sqrt(sum P(i,j)^2) (scikit-image; MATLAB's 'Energy' is the un-rooted ASM), \
         mean over the 4 angles; same GLCM as rough_glcm_contrast.",
    ),
    spec(
        "rough_glcm_correlation",
        "1",
        "GLCM correlation sum P(i,j)(i-mu_i)(j-mu_j)/(sigma_i sigma_j), 1 when a sigma < 1e-15 \
         (scikit-image), mean over the 4 angles; same GLCM as rough_glcm_contrast.",
    ),
    spec(
        "rough_glcm_entropy",
        "nat",
        "GLCM entropy -sum P(i,j) ln P(i,j) over P > 0, natural log (scikit-image >= 0.25), mean \
         over the 4 angles; same GLCM as rough_glcm_contrast.",
    ),
];

/// Zones with fewer pixels than this get empty roughness columns.
pub const MIN_ZONE_PX: usize = 100;

/// Largest side, px, of the window on which the ACF is computed (a bound on time and memory:
/// two complex FFTs of at most (1024 + lag) squared points).
pub const ACF_WINDOW_PX: usize = 1024;

/// A surface counts as flat when Sq ≤ this fraction of max |z| (or Sq = 0).
const FLAT_SQ_REL: f64 = 1e-12;

const FLAT: &str = "flat surface: undefined";

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

/// Row `r` of `z` as f64 and of `mask`, into reused buffers (contiguous slices for the
/// vectorised row passes, whatever the views' strides).
fn load_row<T: Copy + Into<f64>>(
    z: &ArrayView2<'_, T>,
    mask: &ArrayView2<'_, bool>,
    r: usize,
    zr: &mut Vec<f64>,
    mr: &mut Vec<bool>,
) {
    zr.clear();
    mr.clear();
    let (zrow, mrow) = (z.row(r), mask.row(r));
    // Contiguous rows (the usual case) convert as slices, which vectorises.
    match zrow.to_slice() {
        Some(values) => zr.extend(values.iter().map(|&v| v.into())),
        None => zr.extend(zrow.iter().map(|&v| v.into())),
    }
    match mrow.to_slice() {
        Some(inside) => mr.extend_from_slice(inside),
        None => mr.extend(mrow.iter().copied()),
    }
}

/// Row `r` of `a` as a slice: the row itself when it is contiguous (the usual case), else a
/// copy in `buf`.
fn row_slice<'b, T: Copy>(a: &'b ArrayView2<'_, T>, r: isize, buf: &'b mut Vec<T>) -> &'b [T] {
    let row = a.row(r as usize);
    match row.to_slice() {
        Some(values) => values,
        None => {
            buf.clear();
            buf.extend(row.iter().copied());
            buf
        }
    }
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
struct HeightStats {
    n: usize,
    mean: f64,
    max_abs: f64,
    moments: MomentSums,
}

impl HeightStats {
    fn sq(&self) -> f64 {
        (self.moments.s2 / self.n as f64).sqrt()
    }

    /// Sq is 0 or at most `FLAT_SQ_REL`·max|z|.
    fn flat(&self) -> bool {
        let sq = self.sq();
        sq == 0.0 || sq <= FLAT_SQ_REL * self.max_abs
    }
}

/// [`HeightStats`] and, with a pixel step (mm), the slope sums, in two passes over the rows
/// (mean, then moments and slopes together).
fn height_and_slope_sums<T: Copy + Into<f64>>(
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
fn areal_from_sums(stats: &HeightStats, sums: &SlopeSums) -> ArealParameters {
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
struct SlopeSums {
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

/// A masked, unbiased, linear autocorrelation function over lags `|ty| ≤ ly`, `|tx| ≤ lx`.
#[derive(Debug, Clone, PartialEq)]
pub struct Acf {
    /// `values[[ty + ly, tx + lx]]`: mean of c(x)·c(x+t) over the pairs with both pixels in the
    /// mask (not normalised to 1); NaN where no such pair exists.
    pub values: Array2<f64>,
    /// Number of such pairs per lag.
    pub counts: Array2<f64>,
    pub ly: usize,
    pub lx: usize,
}

impl Acf {
    /// The value at zero lag (the mean square of the centred heights).
    pub fn zero_lag(&self) -> f64 {
        self.values[[self.ly, self.lx]]
    }
}

/// Smallest n' ≥ n of the form 2^a·3^b·5^c (fast FFT length).
fn fft_len(n: usize) -> usize {
    let mut m = n.max(1);
    loop {
        let mut k = m;
        for p in [2, 3, 5] {
            while k.is_multiple_of(p) {
                k /= p;
            }
        }
        if k == 1 {
            return m;
        }
        m += 1;
    }
}

fn transpose(src: &[Complex64], rows: usize, cols: usize, dst: &mut [Complex64]) {
    const B: usize = 32;
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                for c in c0..(c0 + B).min(cols) {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
}

/// The masked linear autocorrelation of `z` over `mask`, for lags up to `max_lag_px` (capped at
/// the map size − 1).
///
/// ```text
/// c(x)   = z(x) − mean_M(z)
/// ACF(t) = Σ_x c(x)·c(x+t)·M(x)·M(x+t) / Σ_x M(x)·M(x+t)
/// ```
/// Computed exactly (up to rounding, ~1e−15 relative to ACF(0)) with two complex FFTs of size
/// ≥ (n + max lag) per axis: zero padding by the lag makes the circular correlation linear, and
/// c·M and M are packed as the real and imaginary parts of one signal. On a full mask this is
/// surfalize 0.19.2's `calculate_autocorrelation` (fftconvolve 'full' divided by the overlap
/// count (ny−|ty|)(nx−|tx|)). Pair counts are integers and are rounded after the FFT.
///
/// # Panics
/// If `z` and `mask` differ in shape or are empty.
pub fn masked_acf<T: Copy + Into<f64>>(
    z: ArrayView2<'_, T>,
    mask: ArrayView2<'_, bool>,
    max_lag_px: usize,
) -> Acf {
    assert_eq!(z.dim(), mask.dim(), "height map and mask differ in shape");
    let (ny, nx) = z.dim();
    assert!(ny > 0 && nx > 0, "empty height map");
    let ly = max_lag_px.min(ny - 1);
    let lx = max_lag_px.min(nx - 1);
    let (mut sum, mut n) = (0.0f64, 0usize);
    for (&v, &m) in z.iter().zip(mask.iter()) {
        if m {
            sum += v.into();
            n += 1;
        }
    }
    let mean = if n > 0 { sum / n as f64 } else { 0.0 };
    let py = fft_len(ny + ly);
    let px = fft_len(nx + lx);
    let mut buf = vec![Complex64::new(0.0, 0.0); py * px];
    for r in 0..ny {
        for c in 0..nx {
            if mask[[r, c]] {
                buf[r * px + c] = Complex64::new(z[[r, c]].into() - mean, 1.0);
            }
        }
    }
    let mut planner = FftPlanner::<f64>::new();
    let fwd_x = planner.plan_fft_forward(px);
    let fwd_y = planner.plan_fft_forward(py);
    let inv_x = planner.plan_fft_inverse(px);
    let inv_y = planner.plan_fft_inverse(py);
    fwd_x.process(&mut buf);
    let mut tr = vec![Complex64::new(0.0, 0.0); py * px];
    transpose(&buf, py, px, &mut tr);
    fwd_y.process(&mut tr);
    // tr[kx * py + ky] = X(ky, kx). With x = a + i·b (a = c·M, b = M real):
    // A = (X(k) + conj X(−k))/2, B = (X(k) − conj X(−k))/(2i); the spectra of a⋆a and b⋆b are
    // |A|² and |B|², both real, so one inverse FFT of |A|² + i|B|² yields both correlations.
    for kx in 0..px {
        let nkx = (px - kx) % px;
        for ky in 0..py {
            let nky = (py - ky) % py;
            let xk = tr[kx * py + ky];
            let xn = tr[nkx * py + nky].conj();
            let a2 = (xk + xn).norm_sqr() * 0.25;
            let b2 = (xk - xn).norm_sqr() * 0.25;
            buf[kx * py + ky] = Complex64::new(a2, b2);
        }
    }
    inv_y.process(&mut buf);
    transpose(&buf, px, py, &mut tr);
    inv_x.process(&mut tr);
    let scale = 1.0 / (py * px) as f64;
    let mut values = Array2::<f64>::from_elem((2 * ly + 1, 2 * lx + 1), f64::NAN);
    let mut counts = Array2::<f64>::zeros((2 * ly + 1, 2 * lx + 1));
    for i in 0..=2 * ly {
        let ry = (i + py - ly) % py;
        for j in 0..=2 * lx {
            let rx = (j + px - lx) % px;
            let v = tr[ry * px + rx] * scale;
            let count = v.im.round();
            if count >= 1.0 {
                values[[i, j]] = v.re / count;
                counts[[i, j]] = count;
            }
        }
    }
    Acf {
        values,
        counts,
        ly,
        lx,
    }
}

/// Sal, Str and the interpolation-free facts they rest on.
#[derive(Debug, Clone, PartialEq)]
pub struct AutocorrelationParameters {
    /// Autocorrelation length, mm.
    pub sal_mm: MetricValue,
    /// Texture aspect ratio, in (0, 1].
    pub str_ratio: MetricValue,
    /// ACF at zero lag (mean square of the centred heights, z units²).
    pub zero_lag: f64,
    /// s · ACF(0).
    pub threshold: f64,
    /// Number of outer-boundary lags of the region above the threshold (rays evaluated).
    pub edge_count: usize,
    /// Shortest and longest distance of those boundary lags from zero lag, mm.
    pub edge_min_distance_mm: f64,
    pub edge_max_distance_mm: f64,
    /// Whether the region above the threshold reaches the largest computed lag.
    pub touches_border: bool,
    /// Largest lag computed along y and x, mm.
    pub max_lag_y_mm: f64,
    pub max_lag_x_mm: f64,
}

/// Bilinear ACF value at fractional lag index (fy, fx); NaN if a corner has no pairs.
fn bilinear(values: &Array2<f64>, fy: f64, fx: f64) -> f64 {
    let (h, w) = values.dim();
    let y0 = (fy.floor() as usize).min(h - 1);
    let x0 = (fx.floor() as usize).min(w - 1);
    let y1 = (y0 + 1).min(h - 1);
    let x1 = (x0 + 1).min(w - 1);
    let (ty, tx) = (fy - y0 as f64, fx - x0 as f64);
    let top = values[[y0, x0]] * (1.0 - tx) + values[[y0, x1]] * tx;
    let bottom = values[[y1, x0]] * (1.0 - tx) + values[[y1, x1]] * tx;
    top * (1.0 - ty) + bottom * ty
}

/// Sal and Str (ISO 25178-2) from an ACF, with threshold `s` and pixel step `step_mm`.
///
/// ```text
/// θ    = s · ACF(0)                                 threshold (zero lag, not global maximum)
/// R    = 4-connected component of {t : ACF(t) > θ} holding t = 0
/// E    = lags outside R that are 4-adjacent to R    (the outer boundary)
/// d(e) = h · |e| · u*(e)   for e ∈ E,  u*(e) = first u ∈ (0, 1] with ACF_bilin(u·e) = θ
/// Sal  = min_E d(e)          Str = min_E d(e) / max_E d(e)
/// ```
/// h = `step_mm`; ACF_bilin is the bilinearly interpolated ACF, sampled along each ray at
/// spacing ≤ 0.05 lag pixel, and the crossing u* is interpolated linearly between the last
/// sample above θ and the first at or below it. Lags without pairs count as below θ.
///
/// The region R, the boundary E and θ are surfalize 0.19.2's (`_calculate_decay_lengths`);
/// surfalize instead samples a cubic B-spline (`map_coordinates(order=3)`) at 1000 points per
/// ray and takes the argmin of |ACF − θ|. On the reference fixtures the two Sal agree within
/// 1.5 % (asserted: 2 %) and Str within 0.004 (asserted: 0.01); see `tests/reference_roughness.rs`.
///
/// # Errors
/// Missing for a flat surface (ACF(0) ≤ 0). Str is missing when R reaches the largest computed
/// lag (the longest decay length is unknown; surfalize returns NaN there). Sal is then missing
/// too unless it is shorter than the smallest lag limit, so that no nearer crossing can lie
/// outside the computed lags.
pub fn sal_str(acf: &Acf, s: f64, step_mm: f64) -> Result<AutocorrelationParameters, Missing> {
    let v = &acf.values;
    let (h, w) = v.dim();
    let (cy, cx) = (acf.ly, acf.lx);
    let zero = acf.zero_lag();
    if zero.is_nan() || zero <= 0.0 {
        return Err(Missing::new(FLAT));
    }
    let threshold = s * zero;
    // 4-connected region above the threshold, grown from zero lag (explicit stack, raster order).
    let mut region = Array2::<bool>::from_elem((h, w), false);
    let mut stack = vec![(cy, cx)];
    region[[cy, cx]] = true;
    let mut touches_border = false;
    while let Some((r, c)) = stack.pop() {
        if r == 0 || c == 0 || r + 1 == h || c + 1 == w {
            touches_border = true;
        }
        let mut visit = |rr: usize, cc: usize| {
            if !region[[rr, cc]] && v[[rr, cc]] > threshold {
                region[[rr, cc]] = true;
                stack.push((rr, cc));
            }
        };
        if r > 0 {
            visit(r - 1, c);
        }
        if r + 1 < h {
            visit(r + 1, c);
        }
        if c > 0 {
            visit(r, c - 1);
        }
        if c + 1 < w {
            visit(r, c + 1);
        }
    }
    let mut decay = Vec::new();
    let (mut dmin, mut dmax) = (f64::INFINITY, 0.0f64);
    for r in 0..h {
        for c in 0..w {
            if region[[r, c]] {
                continue;
            }
            let adjacent = (r > 0 && region[[r - 1, c]])
                || (r + 1 < h && region[[r + 1, c]])
                || (c > 0 && region[[r, c - 1]])
                || (c + 1 < w && region[[r, c + 1]]);
            if !adjacent {
                continue;
            }
            let (ey, ex) = (r as f64 - cy as f64, c as f64 - cx as f64);
            let len_px = ey.hypot(ex);
            dmin = dmin.min(len_px * step_mm);
            dmax = dmax.max(len_px * step_mm);
            let samples = ((len_px / 0.05).ceil() as usize).max(2);
            let mut prev_u = 0.0;
            let mut prev_v = zero;
            let mut u_star = 1.0;
            for k in 1..=samples {
                let u = k as f64 / samples as f64;
                let val = bilinear(v, cy as f64 + u * ey, cx as f64 + u * ex);
                if val.is_nan() {
                    u_star = u;
                    break;
                }
                if val <= threshold {
                    u_star = prev_u + (u - prev_u) * (prev_v - threshold) / (prev_v - val);
                    break;
                }
                prev_u = u;
                prev_v = val;
            }
            decay.push(u_star * len_px * step_mm);
        }
    }
    let max_lag_y_mm = cy as f64 * step_mm;
    let max_lag_x_mm = cx as f64 * step_mm;
    let (sal_mm, str_ratio) = if decay.is_empty() {
        let reason = "ACF stays above the threshold at every computed lag";
        (Err(Missing::new(reason)), Err(Missing::new(reason)))
    } else {
        let sal = decay.iter().copied().fold(f64::INFINITY, f64::min);
        let longest = decay.iter().copied().fold(0.0, f64::max);
        let limit = max_lag_y_mm.min(max_lag_x_mm);
        let sal_v = if touches_border && sal > limit {
            Err(Missing::new(format!(
                "ACF does not decay below s within the computed lags (+-{limit:.3} mm)"
            )))
        } else {
            Ok(sal)
        };
        let str_v = if touches_border {
            Err(Missing::new(format!(
                "ACF does not decay below s within the computed lags (+-{max_lag_y_mm:.3} mm in y, \
                 +-{max_lag_x_mm:.3} mm in x) in some direction: longest decay length unknown"
            )))
        } else {
            Ok(sal / longest)
        };
        (sal_v, str_v)
    };
    Ok(AutocorrelationParameters {
        sal_mm,
        str_ratio,
        zero_lag: zero,
        threshold,
        edge_count: decay.len(),
        edge_min_distance_mm: dmin,
        edge_max_distance_mm: dmax,
        touches_border,
        max_lag_y_mm,
        max_lag_x_mm,
    })
}

/// The window (y0, x0, height, width) of at most `window_px` per side that holds the most mask
/// pixels; candidates on a grid of step window/8 plus the far edge; first maximum in raster
/// order.
fn densest_window(mask: ArrayView2<'_, bool>, window_px: usize) -> (usize, usize, usize, usize) {
    let (ny, nx) = mask.dim();
    let (h, w) = (ny.min(window_px), nx.min(window_px));
    // A full mask: every window holds h·w pixels, the first in raster order wins.
    if (h == ny && w == nx) || mask.iter().all(|&m| m) {
        return (0, 0, h, w);
    }
    let positions = |n: usize, size: usize| {
        let mut p: Vec<usize> = (0..=n - size).step_by((size / 8).max(1)).collect();
        if p.last() != Some(&(n - size)) {
            p.push(n - size);
        }
        p
    };
    let (ys, xs) = (positions(ny, h), positions(nx, w));
    // Corner counts I(R, C) = mask pixels in rows < R and columns < C, only at the window
    // corners: one pass down the rows with per-column running counts.
    let marks = |p: &[usize], size: usize| {
        let mut m: Vec<usize> = p.iter().flat_map(|&v| [v, v + size]).collect();
        m.sort_unstable();
        m.dedup();
        m
    };
    let (row_marks, col_marks) = (marks(&ys, h), marks(&xs, w));
    let mut column_counts = vec![0u64; nx];
    let mut corner = Array2::<u64>::zeros((row_marks.len(), col_marks.len()));
    let mut next_row = 0;
    for r in 0..=ny {
        if next_row < row_marks.len() && row_marks[next_row] == r {
            let (mut running, mut next_col) = (0u64, 0);
            for (c, &count) in column_counts.iter().chain([&0]).enumerate() {
                if next_col < col_marks.len() && col_marks[next_col] == c {
                    corner[[next_row, next_col]] = running;
                    next_col += 1;
                }
                running += count;
            }
            next_row += 1;
        }
        if r < ny {
            for (count, &m) in column_counts.iter_mut().zip(mask.row(r)) {
                *count += u64::from(m);
            }
        }
    }
    let at = |r: usize, c: usize| {
        let i = row_marks.binary_search(&r).expect("row mark");
        let j = col_marks.binary_search(&c).expect("column mark");
        corner[[i, j]]
    };
    let mut best = (0u64, 0usize, 0usize);
    let mut first = true;
    for &y in &ys {
        for &x in &xs {
            let count = at(y + h, x + w) + at(y, x) - at(y, x + w) - at(y + h, x);
            if first || count > best.0 {
                best = (count, y, x);
                first = false;
            }
        }
    }
    (best.1, best.2, h, w)
}

/// Sal and Str of a masked height map: [`masked_acf`] with lags up to `max_lag_mm`, then
/// [`sal_str`] with threshold `s`.
///
/// Maps larger than [`ACF_WINDOW_PX`] per side are analysed on the window of that size holding
/// the most mask pixels, at full resolution (decimating instead would bias Sal, which on skin is
/// only a few pixels). With lags up to L px the cost is two complex FFTs of about
/// (1024 + L)² points, whatever the zone size.
///
/// # Errors
/// Missing for an empty mask or a flat surface; see [`sal_str`].
pub fn autocorrelation_parameters<T: Copy + Into<f64>>(
    z: ArrayView2<'_, T>,
    mask: ArrayView2<'_, bool>,
    step_mm: f64,
    s: f64,
    max_lag_mm: f64,
) -> Result<AutocorrelationParameters, Missing> {
    assert_eq!(z.dim(), mask.dim(), "height map and mask differ in shape");
    if !mask.iter().any(|&m| m) {
        return Err(Missing::new("empty zone"));
    }
    let (y0, x0, h, w) = densest_window(mask, ACF_WINDOW_PX);
    let window = ndarray::s![y0..y0 + h, x0..x0 + w];
    let (zw, mw) = (z.slice(window), mask.slice(window));
    // Flatness from the data: the FFT leaves a rounding residue (~1e−16 of the packed energy)
    // at zero lag even for a constant map. The densest window of a non-empty mask holds at
    // least one mask pixel.
    let (stats, _) = height_and_slope_sums(zw, mw, None)?;
    if stats.flat() {
        return Err(Missing::new(FLAT));
    }
    let max_lag_px = ((max_lag_mm / step_mm).round() as usize).max(1);
    let acf = masked_acf(zw, mw, max_lag_px);
    sal_str(&acf, s, step_mm)
}

/// The 4 GLCM offsets (dy, dx) for distance `d` px at angles 0, 45, 90, 135°, as scikit-image:
/// `dy = round(sin θ · d)`, `dx = round(cos θ · d)`, rounding half away from zero. The pair is
/// (r, c) → (r+dy, c+dx), so 90° pairs a pixel with the one below it in array rows. The
/// diagonals use round(d·0.7071): offset 1 for d = 1 and d = 2, 2 for d = 3.
pub fn glcm_offsets(distance_px: usize) -> [(isize, isize); 4] {
    let d = distance_px as f64;
    let mut out = [(0isize, 0isize); 4];
    for (k, o) in out.iter_mut().enumerate() {
        let theta = k as f64 * std::f64::consts::FRAC_PI_4;
        *o = (
            (theta.sin() * d).round() as isize,
            (theta.cos() * d).round() as isize,
        );
    }
    out
}

/// Symmetric grey-level co-occurrence counts for offset (dy, dx), pairs with both pixels in
/// `mask` and inside the map (no padding): P\[i,j\] and P\[j,i\] each += 1 per pair, i.e.
/// scikit-image's `graycomatrix(..., symmetric=True)` before normalisation, restricted to the
/// mask.
///
/// # Panics
/// If a grey level is ≥ `levels`, or shapes differ.
pub fn cooccurrence_counts(
    image: ArrayView2<'_, u16>,
    mask: ArrayView2<'_, bool>,
    levels: usize,
    dy: isize,
    dx: isize,
) -> Array2<u64> {
    assert_eq!(image.dim(), mask.dim(), "image and mask differ in shape");
    let h = directed_counts(image, mask, levels, dy, dx);
    let mut p = vec![0u64; levels * levels];
    for i in 0..levels {
        for j in 0..levels {
            p[i * levels + j] = h[i * levels + j] + h[j * levels + i];
        }
    }
    Array2::from_shape_vec((levels, levels), p).expect("levels² counts")
}

/// Directed co-occurrence counts `h[i·L + j]` = number of pairs (r, c) → (r+dy, c+dx), both in
/// the mask and the map, with grey levels (i, j). The symmetric matrix is `h + hᵀ`.
///
/// Consecutive pixels of a smooth image often hit the same bin; the counts are spread over
/// [`GLCM_COPIES`] sub-histograms by column so that successive increments do not wait on each
/// other through memory, then added (integer sums: exact, order-free).
fn directed_counts(
    image: ArrayView2<'_, u16>,
    mask: ArrayView2<'_, bool>,
    levels: usize,
    dy: isize,
    dx: isize,
) -> Vec<u64> {
    let (ny, nx) = image.dim();
    let bins = levels * levels;
    let copies = if levels <= 64 { GLCM_COPIES } else { 1 };
    let mut h = vec![0u64; bins * copies];
    let (ny, nx) = (ny as isize, nx as isize);
    let r_range = (0.max(-dy))..(ny.min(ny - dy));
    let (c_lo, c_hi) = (0.max(-dx) as usize, nx.min(nx - dx).max(0) as usize);
    if c_lo >= c_hi {
        return vec![0u64; bins];
    }
    let (mut a, mut am, mut b, mut bm) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let width = c_hi - c_lo;
    let c2_lo = (c_lo as isize + dx) as usize;
    for r in r_range {
        let (ir, mr) = (row_slice(&image, r, &mut a), row_slice(&mask, r, &mut am));
        let (ir2, mr2) = (
            row_slice(&image, r + dy, &mut b),
            row_slice(&mask, r + dy, &mut bm),
        );
        let pairs = (ir[c_lo..c_hi].iter().zip(&mr[c_lo..c_hi])).zip(
            ir2[c2_lo..c2_lo + width]
                .iter()
                .zip(&mr2[c2_lo..c2_lo + width]),
        );
        for (k, ((&i, &m), (&j, &m2))) in pairs.enumerate() {
            if m && m2 {
                let (i, j) = (usize::from(i), usize::from(j));
                assert!(i < levels && j < levels, "grey level out of range");
                h[((c_lo + k) & (copies - 1)) * bins + i * levels + j] += 1;
            }
        }
    }
    let (first, rest) = h.split_at_mut(bins);
    for copy in rest.chunks_exact(bins) {
        for (a, &b) in first.iter_mut().zip(copy) {
            *a += b;
        }
    }
    h.truncate(bins);
    h
}

/// Sub-histograms used by [`directed_counts`] (for at most 64 grey levels; a power of 2).
const GLCM_COPIES: usize = 4;

/// The GLCM properties of scikit-image's `graycoprops` (contrast, homogeneity, energy,
/// correlation and entropy are `metrics.csv` columns; dissimilarity and ASM are computed with
/// them and checked against scikit-image too).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlcmProperties {
    pub contrast: f64,
    pub dissimilarity: f64,
    pub homogeneity: f64,
    /// Angular second moment Σp² (energy²).
    pub asm: f64,
    pub energy: f64,
    pub correlation: f64,
    pub entropy: f64,
}

/// GLCM properties of one co-occurrence count matrix, as scikit-image 0.26 `graycoprops`.
///
/// ```text
/// p(i,j)        = P(i,j) / Σ P                      i, j = grey levels 0 … L−1
/// contrast      = Σ p (i−j)²
/// dissimilarity = Σ p |i−j|
/// homogeneity   = Σ p / (1 + (i−j)²)
/// ASM           = Σ p²                            (angular second moment)
/// energy        = sqrt(ASM)
/// correlation   = Σ p (i−μi)(j−μj) / (σi σj),   μi = Σ i·p,  σi = sqrt(Σ p (i−μi)²)
///                 (= 1 when σi or σj < 1e−15)
/// entropy       = −Σ_{p>0} p ln p                   nats
/// ```
/// MATLAB's `graycoprops` differs: its "Energy" is Σp² (not rooted) and its "Homogeneity" is
/// Σ p/(1 + |i−j|); it has no entropy. skintex follows scikit-image.
///
/// # Errors
/// Missing when the matrix holds no pair.
pub fn glcm_properties(counts: &Array2<u64>) -> Result<GlcmProperties, Missing> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Err(Missing::new(
            "no pixel pair inside the zone at the GLCM offset",
        ));
    }
    let t = total as f64;
    let (mut contrast, mut dissimilarity, mut homogeneity, mut asm, mut entropy) =
        (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut mu_i, mut mu_j) = (0.0, 0.0);
    for ((i, j), &c) in counts.indexed_iter() {
        if c == 0 {
            continue;
        }
        let p = c as f64 / t;
        let d = i as f64 - j as f64;
        contrast += p * d * d;
        dissimilarity += p * d.abs();
        homogeneity += p / (1.0 + d * d);
        asm += p * p;
        entropy -= p * p.ln();
        mu_i += i as f64 * p;
        mu_j += j as f64 * p;
    }
    let (mut var_i, mut var_j, mut cov) = (0.0, 0.0, 0.0);
    for ((i, j), &c) in counts.indexed_iter() {
        if c == 0 {
            continue;
        }
        let p = c as f64 / t;
        let (di, dj) = (i as f64 - mu_i, j as f64 - mu_j);
        var_i += p * di * di;
        var_j += p * dj * dj;
        cov += p * di * dj;
    }
    let (sd_i, sd_j) = (var_i.sqrt(), var_j.sqrt());
    let correlation = if sd_i < 1e-15 || sd_j < 1e-15 {
        1.0
    } else {
        cov / (sd_i * sd_j)
    };
    Ok(GlcmProperties {
        contrast,
        dissimilarity,
        homogeneity,
        asm,
        energy: asm.sqrt(),
        correlation,
        entropy,
    })
}

/// GLCM properties at distance `distance_px` for each of the 4 angles 0, 45, 90, 135°
/// ([`glcm_offsets`]), each from its own normalised symmetric matrix ([`cooccurrence_counts`]).
///
/// # Errors
/// Missing when some angle has no pair inside the mask.
pub fn glcm_per_angle(
    image: ArrayView2<'_, u16>,
    mask: ArrayView2<'_, bool>,
    levels: usize,
    distance_px: usize,
) -> Result<[GlcmProperties; 4], Missing> {
    let offsets = glcm_offsets(distance_px);
    let mut out = [GlcmProperties {
        contrast: 0.0,
        dissimilarity: 0.0,
        homogeneity: 0.0,
        asm: 0.0,
        energy: 0.0,
        correlation: 0.0,
        entropy: 0.0,
    }; 4];
    for (o, &(dy, dx)) in out.iter_mut().zip(offsets.iter()) {
        *o = glcm_properties(&cooccurrence_counts(image, mask, levels, dy, dx))?;
    }
    Ok(out)
}

/// The mean over the 4 angles of [`glcm_per_angle`] (the mean of the property values, not the
/// property of an averaged matrix, as scikit-image users usually compute it).
///
/// # Errors
/// As [`glcm_per_angle`].
pub fn glcm_features(
    image: ArrayView2<'_, u16>,
    mask: ArrayView2<'_, bool>,
    levels: usize,
    distance_px: usize,
) -> Result<GlcmProperties, Missing> {
    let a = glcm_per_angle(image, mask, levels, distance_px)?;
    let mean = |f: fn(&GlcmProperties) -> f64| a.iter().map(f).sum::<f64>() / 4.0;
    Ok(GlcmProperties {
        contrast: mean(|p| p.contrast),
        dissimilarity: mean(|p| p.dissimilarity),
        homogeneity: mean(|p| p.homogeneity),
        asm: mean(|p| p.asm),
        energy: mean(|p| p.energy),
        correlation: mean(|p| p.correlation),
        entropy: mean(|p| p.entropy),
    })
}

/// Quantise the masked height map into `levels` grey levels for the GLCM.
///
/// ```text
/// lo, hi = μ ∓ k·σ                      μ, σ: mean and population SD over the mask, k = clip_sd
/// q      = min(L − 1, ⌊L · (clamp(z, lo, hi) − lo) / (hi − lo)⌋)
/// ```
/// L = `levels`: equal bins of width (hi − lo)/L, each closed below and open above, except the
/// top bin, which also holds z = hi. Pixels outside the mask get 0 (they never enter a pair).
///
/// # Errors
/// Missing for an empty mask or a flat surface (σ ≤ 1e−12·max|z|).
pub fn glcm_quantise<T: Copy + Into<f64>>(
    z: ArrayView2<'_, T>,
    mask: ArrayView2<'_, bool>,
    levels: u32,
    clip_sd: f64,
) -> Result<Array2<u16>, Missing> {
    assert_eq!(z.dim(), mask.dim(), "height map and mask differ in shape");
    let (stats, _) = height_and_slope_sums(z, mask, None)?;
    quantise_with(z, mask, levels, clip_sd, &stats)
}

/// [`glcm_quantise`] with the mean and SD already computed.
fn quantise_with<T: Copy + Into<f64>>(
    z: ArrayView2<'_, T>,
    mask: ArrayView2<'_, bool>,
    levels: u32,
    clip_sd: f64,
    stats: &HeightStats,
) -> Result<Array2<u16>, Missing> {
    assert!((2..=65_536).contains(&levels), "levels must be 2 ..= 65536");
    if stats.flat() {
        return Err(Missing::new(FLAT));
    }
    let sd = stats.sq();
    let lo = stats.mean - clip_sd * sd;
    let hi = stats.mean + clip_sd * sd;
    let l = f64::from(levels);
    let top = (levels - 1) as u16;
    let mut out = Array2::<u16>::zeros(z.dim());
    let (mut zr, mut mr) = (Vec::new(), Vec::new());
    for (r, mut q_row) in out.outer_iter_mut().enumerate() {
        load_row(&z, &mask, r, &mut zr, &mut mr);
        let q_row = q_row.as_slice_mut().expect("fresh array");
        for ((q, &v), &m) in q_row.iter_mut().zip(&zr).zip(&mr) {
            if m {
                let x = (v.clamp(lo, hi) - lo) / (hi - lo) * l;
                // x ≥ 0 (or NaN → 0), so truncation is the floor.
                *q = (x as u16).min(top);
            }
        }
    }
    Ok(out)
}

fn lift<T>(value: &Result<T, Missing>, f: impl Fn(&T) -> MetricValue) -> MetricValue {
    match value {
        Ok(v) => f(v),
        Err(e) => Err(e.clone()),
    }
}

/// Measure the roughness family on a zone's pseudo-height; values align with [`COLUMNS`].
///
/// Step h = 1/px_per_mm. Sa … Sdr: [`areal_parameters`]; Sal, Str: [`autocorrelation_parameters`]
/// with `acf_threshold` and `acf_max_lag_mm`; GLCM: [`glcm_quantise`] with `glcm_levels` and
/// `glcm_clip_sd`, then [`glcm_features`] at d = max(1, round(`glcm_distance_mm`·px_per_mm)) px.
/// Zones under [`MIN_ZONE_PX`] pixels get every column missing.
pub fn measure(height: &PseudoHeight, params: &RoughnessParams) -> Vec<MetricValue> {
    let n = height.area_px();
    if n < MIN_ZONE_PX {
        return all_missing(
            COLUMNS.len(),
            &format!("zone too small: {n} px < {MIN_ZONE_PX} px"),
        );
    }
    let z = height.z.view();
    let mask = height.mask.view();
    let step_mm = 1.0 / height.px_per_mm;
    // The mean and moments are computed once, for the height parameters and the GLCM.
    let sums = height_and_slope_sums(z, mask, Some(step_mm));
    let areal = sums
        .as_ref()
        .map(|(stats, slopes)| areal_from_sums(stats, slopes))
        .map_err(Clone::clone);
    let acf = autocorrelation_parameters(
        z,
        mask,
        step_mm,
        params.acf_threshold,
        params.acf_max_lag_mm,
    );
    let distance_px = ((params.glcm_distance_mm * height.px_per_mm).round() as usize).max(1);
    let glcm = sums
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|(stats, _)| {
            quantise_with(z, mask, params.glcm_levels, params.glcm_clip_sd, stats)
        })
        .and_then(|q| glcm_features(q.view(), mask, params.glcm_levels as usize, distance_px));
    let values = vec![
        lift(&areal, |a| Ok(a.sa)),
        lift(&areal, |a| Ok(a.sq)),
        lift(&areal, |a| a.ssk.clone()),
        lift(&areal, |a| a.sku.clone()),
        lift(&areal, |a| Ok(a.sp)),
        lift(&areal, |a| Ok(a.sv)),
        lift(&areal, |a| Ok(a.sz)),
        lift(&areal, |a| a.sdq.clone()),
        lift(&areal, |a| a.sdr.clone()),
        lift(&acf, |a| a.sal_mm.clone()),
        lift(&acf, |a| a.str_ratio.clone()),
        lift(&glcm, |g| Ok(g.contrast)),
        lift(&glcm, |g| Ok(g.homogeneity)),
        lift(&glcm, |g| Ok(g.energy)),
        lift(&glcm, |g| Ok(g.correlation)),
        lift(&glcm, |g| Ok(g.entropy)),
    ];
    debug_assert_eq!(values.len(), COLUMNS.len());
    values
        .into_iter()
        .map(|v| v.and_then(|x| super::finite_or(x, "not finite")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imgops::gaussian::gaussian_blur;
    use crate::input::colour::ColourPlanes;
    use crate::metrics::height::pseudo_height;
    use crate::segment::full_image_zones;

    /// Deterministic uniform noise in [-1, 1) (64-bit LCG, high bits).
    fn noise(h: usize, w: usize, seed: u64) -> Array2<f32> {
        let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        Array2::from_shape_fn((h, w), |_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
    }

    fn full(h: usize, w: usize) -> Array2<bool> {
        Array2::from_elem((h, w), true)
    }

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

    /// The FFT ACF against the defining double sum, on a masked map with holes.
    #[test]
    fn fft_acf_equals_direct_sum() {
        let (h, w) = (23, 31);
        let z = noise(h, w, 7);
        let m = noise(h, w, 8).mapv(|v| v > -0.6);
        let acf = masked_acf(z.view(), m.view(), 9);
        let (mut sum, mut n) = (0.0f64, 0.0f64);
        for (&v, &k) in z.iter().zip(m.iter()) {
            if k {
                sum += f64::from(v);
                n += 1.0;
            }
        }
        let mean = sum / n;
        for ty in -9isize..=9 {
            for tx in -9isize..=9 {
                let (mut num, mut cnt) = (0.0f64, 0.0f64);
                for r in 0..h as isize {
                    for c in 0..w as isize {
                        let (r2, c2) = (r + ty, c + tx);
                        if r2 < 0 || c2 < 0 || r2 >= h as isize || c2 >= w as isize {
                            continue;
                        }
                        let (a, b) = ([r as usize, c as usize], [r2 as usize, c2 as usize]);
                        if m[a] && m[b] {
                            num += (f64::from(z[a]) - mean) * (f64::from(z[b]) - mean);
                            cnt += 1.0;
                        }
                    }
                }
                let idx = [(ty + 9) as usize, (tx + 9) as usize];
                assert_eq!(acf.counts[idx], cnt);
                assert!(
                    (acf.values[idx] - num / cnt).abs() < 1e-13,
                    "lag ({ty},{tx})"
                );
            }
        }
    }

    /// z = sin(2πx/λ)·cos(2πy/Λ): ACF ≈ cos(2πtx/λ)·cos(2πty/Λ), so the decay lengths are
    /// λ·acos(s)/2π along x and Λ·acos(s)/2π along y: Sal = 0.0872 mm, Str ≈ λ/Λ = 0.1.
    #[test]
    fn directional_texture_has_low_str() {
        let (lam, big_lam, step) = (8.0, 80.0, 0.05);
        let tau = std::f64::consts::TAU;
        let z = Array2::from_shape_fn((240, 240), |(r, c)| {
            (tau * c as f64 / lam).sin() * (tau * r as f64 / big_lam).cos()
        });
        let a =
            autocorrelation_parameters(z.view(), full(240, 240).view(), step, 0.2, 4.0).unwrap();
        let sal = a.sal_mm.unwrap();
        let want = lam * 0.2f64.acos() / tau * step;
        assert!((sal - want).abs() < 0.05 * want, "Sal {sal} vs {want}");
        let str_ratio = a.str_ratio.unwrap();
        assert!(str_ratio < 0.3 && str_ratio > 0.05, "Str {str_ratio}");
        // A 1-D texture never decays along y: Str is missing, not a made-up ratio.
        let z = Array2::from_shape_fn((120, 120), |(_, c)| (tau * c as f64 / lam).sin());
        let a =
            autocorrelation_parameters(z.view(), full(120, 120).view(), step, 0.2, 4.0).unwrap();
        assert!(a.str_ratio.is_err());
        assert!(a.sal_mm.is_ok());
    }

    #[test]
    fn isotropic_random_field_has_high_str() {
        let z = gaussian_blur(noise(256, 256, 3).view(), 2.0);
        let a =
            autocorrelation_parameters(z.view(), full(256, 256).view(), 0.05, 0.2, 4.0).unwrap();
        let str_ratio = a.str_ratio.unwrap();
        assert!(str_ratio > 0.5, "Str {str_ratio}");
        // Gaussian-smoothed white noise: ACF = exp(−t²/(4σ²)), so ACF = 0.2 at t = 2σ·sqrt(ln 5).
        let want = 2.0 * 2.0 * 5f64.ln().sqrt() * 0.05;
        let sal = a.sal_mm.unwrap();
        assert!(sal < want && sal > 0.7 * want, "Sal {sal} vs {want}");
    }

    /// The window search against a brute-force count at every candidate position.
    #[test]
    fn densest_window_matches_brute_force() {
        for (ny, nx, win, seed) in [(70, 90, 32, 1u64), (64, 40, 16, 2), (33, 130, 33, 3)] {
            let z = noise(ny, nx, seed);
            let mask = Array2::from_shape_fn((ny, nx), |(r, c)| {
                z[[r, c]] > 0.3 && (r * 3 + c) % 7 != 0 && c + r > 20
            });
            let (h, w) = (ny.min(win), nx.min(win));
            let positions = |n: usize, size: usize| {
                let mut p: Vec<usize> = (0..=n - size).step_by((size / 8).max(1)).collect();
                if p.last() != Some(&(n - size)) {
                    p.push(n - size);
                }
                p
            };
            let mut best = (0usize, 0, 0);
            let mut first = true;
            for &y in &positions(ny, h) {
                for &x in &positions(nx, w) {
                    let count = mask
                        .slice(ndarray::s![y..y + h, x..x + w])
                        .iter()
                        .filter(|&&m| m)
                        .count();
                    if first || count > best.0 {
                        best = (count, y, x);
                        first = false;
                    }
                }
            }
            assert_eq!(densest_window(mask.view(), win), (best.1, best.2, h, w));
        }
        let full = Array2::from_elem((50, 60), true);
        assert_eq!(densest_window(full.view(), 20), (0, 0, 20, 20));
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

    #[test]
    fn glcm_quantisation_bins() {
        let z = ndarray::arr2(&[[-2.0f64, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]]);
        let m = full(1, 7);
        // mean 0, SD sqrt(1.5): clip at ±1.2247, 4 bins of width 0.6124.
        let q = glcm_quantise(z.view(), m.view(), 4, 1.0).unwrap();
        assert_eq!(q, ndarray::arr2(&[[0u16, 0, 1, 2, 2, 3, 3]]));
        let flat = Array2::from_elem((3, 3), 0.5f64);
        assert!(glcm_quantise(flat.view(), full(3, 3).view(), 4, 3.0).is_err());
    }

    /// Hand-computed GLCM: image [[0, 0, 1], [1, 2, 2]] at 0°: pairs (0,0), (0,1), (1,2), (2,2).
    #[test]
    fn glcm_tiny_known_values() {
        let img = ndarray::arr2(&[[0u16, 0, 1], [1, 2, 2]]);
        let m = full(2, 3);
        let p = cooccurrence_counts(img.view(), m.view(), 3, 0, 1);
        assert_eq!(p, ndarray::arr2(&[[2u64, 1, 0], [1, 0, 1], [0, 1, 2]]));
        let g = glcm_properties(&p).unwrap();
        // p = counts / 8: contrast = 4·(1/8)·1 = 0.5; homogeneity = 4/8 + 4/8·1/2 = 0.75.
        assert!((g.contrast - 0.5).abs() < 1e-15);
        assert!((g.homogeneity - 0.75).abs() < 1e-15);
        // ASM = 2·(1/4)² + 4·(1/8)² = 0.1875.
        assert!((g.energy - 0.1875f64.sqrt()).abs() < 1e-15);
        let h = -(2.0 * 0.25 * 0.25f64.ln() + 4.0 * 0.125 * 0.125f64.ln());
        assert!((g.entropy - h).abs() < 1e-14);
        // Masking out the middle column leaves the pairs that avoid it: none at 0°.
        let m = ndarray::arr2(&[[true, false, true], [true, false, true]]);
        assert!(glcm_properties(&cooccurrence_counts(img.view(), m.view(), 3, 0, 1)).is_err());
        // A constant image: σ = 0, correlation = 1 as in scikit-image.
        let c = Array2::from_elem((4, 4), 1u16);
        let g = glcm_features(c.view(), full(4, 4).view(), 3, 1).unwrap();
        assert_eq!(g.correlation, 1.0);
        assert_eq!(g.contrast, 0.0);
    }

    fn planes(gain: f32, w: usize, h: usize) -> ColourPlanes {
        let base = gaussian_blur(noise(h, w, 11).view(), 1.5);
        let plane = |k: f32| base.mapv(|v| gain * (0.3 * k + 0.05 * v));
        ColourPlanes::from_linear([plane(1.0), plane(0.8), plane(0.7)])
    }

    #[test]
    fn exposure_gain_does_not_change_metrics() {
        let (w, h) = (160, 120);
        let zone = &full_image_zones(w, h)[0];
        let params = RoughnessParams::default();
        let run = |gain: f32| {
            measure(
                &pseudo_height(&planes(gain, w, h), zone, 20.0, 8.0),
                &params,
            )
        };
        let a = run(1.0);
        assert!(a.iter().all(Result::is_ok), "{a:?}");
        // A power-of-two gain scales every float exactly: identical bits.
        assert_eq!(a, run(0.5));
        // Any other gain: equal up to f32 rounding of the luminance.
        for (x, y) in a.iter().zip(run(0.83).iter()) {
            let (x, y) = (*x.as_ref().unwrap(), *y.as_ref().unwrap());
            assert!((x - y).abs() <= 1e-3 * x.abs().max(1e-3), "{x} vs {y}");
        }
    }

    #[test]
    fn small_and_flat_zones_are_missing() {
        let params = RoughnessParams::default();
        let height = |z: Array2<f32>| PseudoHeight {
            mask: std::borrow::Cow::Owned(Array2::from_elem(z.dim(), true)),
            z,
            x0: 0,
            y0: 0,
            px_per_mm: 20.0,
        };
        let small = measure(&height(noise(9, 9, 5)), &params);
        assert_eq!(small.len(), COLUMNS.len());
        assert!(
            small
                .iter()
                .all(|v| v.as_ref().unwrap_err().0.contains("too small"))
        );
        let flat = measure(&height(Array2::zeros((30, 30))), &params);
        assert_eq!(flat[0], Ok(0.0));
        assert_eq!(flat[8], Ok(0.0));
        assert!(flat[2].as_ref().unwrap_err().0.contains("flat"));
        assert!(flat[3].as_ref().unwrap_err().0.contains("flat"));
        assert!(flat[9].is_err() && flat[11].is_err());
    }

    #[test]
    fn column_names_are_stable() {
        let names: Vec<_> = COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "rough_sa",
                "rough_sq",
                "rough_ssk",
                "rough_sku",
                "rough_sp",
                "rough_sv",
                "rough_sz",
                "rough_sdq",
                "rough_sdr",
                "rough_sal_mm",
                "rough_str",
                "rough_glcm_contrast",
                "rough_glcm_homogeneity",
                "rough_glcm_energy",
                "rough_glcm_correlation",
                "rough_glcm_entropy",
            ]
        );
    }

    /// Views that are not standard-layout rows (here transposed) give exactly what their
    /// owned copies give: the row loaders fall back from slices to element iteration.
    #[test]
    fn strided_views_equal_their_copies() {
        let z = noise(37, 53, 11);
        let mask = Array2::from_shape_fn((37, 53), |(r, c)| (r * 7 + c * 3) % 11 != 0);
        let (zt, mt) = (z.t(), mask.t());
        let (zo, mo) = (zt.to_owned(), mt.to_owned());
        assert_eq!(
            areal_parameters(zt, mt, 0.05).unwrap(),
            areal_parameters(zo.view(), mo.view(), 0.05).unwrap()
        );
        let q = Array2::from_shape_fn((37, 53), |(r, c)| ((r * 5 + c * 2) % 8) as u16);
        let qo = q.t().to_owned();
        for (dy, dx) in [(0, 2), (1, -1), (-2, 0), (3, 3)] {
            assert_eq!(
                cooccurrence_counts(q.t(), mt, 8, dy, dx),
                cooccurrence_counts(qo.view(), mo.view(), 8, dy, dx),
                "offset ({dy}, {dx})"
            );
        }
    }
}
