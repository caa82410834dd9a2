//! Grey-level co-occurrence (GLCM) texture after Haralick et al. 1973, as scikit-image computes
//! it; see the family doc in [`super`].

use ndarray::{Array2, ArrayView2};

use super::areal::{FLAT, HeightStats, height_and_slope_sums};
use super::{load_row, row_slice};
use crate::metrics::Missing;

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
pub(super) fn quantise_with<T: Copy + Into<f64>>(
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

#[cfg(test)]
mod tests {
    use super::super::tests::full;
    use super::*;

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
}
