//! Colour chart: find a 24-patch ColorChecker Classic in a photo (or take its box from the
//! manifest), fit a colour correction to its published colours, and report how well the
//! photo's colours matched before and after.
//!
//! Stage: after the input stage (it reads the colour planes), before segmentation (the chart's
//! area is left out of every zone) and the metrics (tone is measured on the corrected colour).
//!
//! # Method
//! 1. **Where.** A manifest `chart_box` (`x,y,w,h`, the box around the 24 patches) is taken as
//!    it is: a 6 x 4 grid of cells when wider than tall, else 4 x 6. Otherwise, when
//!    `chart.detect` is 1, the grid is searched for ([`detect`]: uniform squares on a 6 x 4
//!    lattice in a decimated copy of the photo); no grid, no chart.
//! 2. **Patch colours.** The mean linear RGB of the central 40 % (by side) of each cell
//!    ([`PATCH_FRACTION`]), away from the patch edges and the frame.
//! 3. **Orientation and verification.** For each orientation the grid allows (0° or 180° for a
//!    landscape grid, 90° or 270° for a portrait one), per-channel gains g_c = Σ m_c r_c / Σ m_c²
//!    (a white balance and exposure) map the measured colours m onto the reference r; the
//!    orientation with the lowest mean CIEDE2000 wins. A detected grid whose best mean
//!    difference exceeds `chart.max_verify_delta_e00` is not a chart (a box from the manifest
//!    is always used).
//! 4. **Correction.** A root-polynomial of degree `chart.root_polynomial_degree` (1 = a 3x3
//!    matrix in linear RGB, the default; 2 or 3 after Finlayson et al. 2015), fitted by least
//!    squares to the reference linear sRGB of the patches ([`fit`]). The reference is X-Rite's
//!    post-November-2014 CIE L*a*b* (D50) of the ColorChecker Classic, adapted to D65 by the
//!    Bradford transform ([`mod@reference`]).
//! 5. **Report.** `chart_delta_e00_before`: mean CIEDE2000 ([`delta_e`], Sharma 2005) over the
//!    24 patches between the measured colour and the reference, both L*a*b* D65;
//!    `chart_delta_e00_after`: the same after the correction (the fit's own residual, so it is
//!    an in-sample figure).
//!
//! Tone (`src/metrics/tone.rs`) reads the colour planes through the correction; the relief
//! families (roughness, lines, scars, pores) keep the uncorrected planes: their pseudo-height
//! is a ratio of luminance to its local mean, which a global colour correction barely changes,
//! and leaving them alone keeps their numbers identical with and without a chart.

pub mod delta_e;
pub mod detect;
pub mod fit;
pub mod reference;

use crate::config::ChartParams;
use crate::input::ChartBox;
use crate::input::colour::{ColourCorrection, ColourPlanes, linear_rgb_to_lab};
use detect::{ChartGrid, cell_means, find_grid};
use reference::{COLUMNS, ROWS, reference_lab_d65, reference_linear_rgb};

/// Side of the sampled centre of each patch cell, as a fraction of the cell's side.
pub const PATCH_FRACTION: f64 = 0.4;

/// Where a chart's box came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartSource {
    /// The manifest's `chart_box` column.
    Manifest,
    /// Found in the photo.
    Detected,
}

/// A chart found in a photo and what was fitted to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFit {
    pub source: ChartSource,
    pub grid: ChartGrid,
    /// The chart's area with `chart.margin_cells`, `[x0, y0, x1, y1)` in px, left out of
    /// every zone.
    pub exclusion: [usize; 4],
    /// Rotation of the chart in the photo, degrees clockwise (0, 90, 180 or 270).
    pub rotation_deg: u32,
    /// Mean CIEDE2000 of the 24 patches against the reference, as photographed.
    pub delta_e00_before: f64,
    /// The same after the correction; `None` when there is no correction.
    pub delta_e00_after: Option<f64>,
    /// The fitted correction, or why none could be fitted.
    pub correction: Result<ColourCorrection, String>,
    /// Mean linear RGB of the six neutral patches (the bottom row, white to black) as
    /// photographed: the white balance of the photo (`src/metrics/capture.rs`).
    pub neutrals: [[f64; 3]; NEUTRALS],
}

/// Number of neutral patches (the chart's bottom row).
pub const NEUTRALS: usize = COLUMNS;

/// Index of the first neutral patch in reading order.
pub const FIRST_NEUTRAL: usize = (ROWS - 1) * COLUMNS;

/// For each orientation of a grid of `cols` x `rows`: its clockwise rotation and, for each
/// patch in reading order of the upright chart, the index of its cell (row-major).
fn orientations(cols: usize) -> [(u32, [usize; 24]); 2] {
    let map = |cell: &dyn Fn(usize, usize) -> (usize, usize), grid_cols: usize| {
        std::array::from_fn(|p| {
            let (i, j) = (p % COLUMNS, p / COLUMNS);
            let (c, r) = cell(i, j);
            r * grid_cols + c
        })
    };
    if cols == COLUMNS {
        [
            (0, map(&|i, j| (i, j), COLUMNS)),
            (180, map(&|i, j| (COLUMNS - 1 - i, ROWS - 1 - j), COLUMNS)),
        ]
    } else {
        [
            (90, map(&|i, j| (ROWS - 1 - j, i), ROWS)),
            (270, map(&|i, j| (j, COLUMNS - 1 - i), ROWS)),
        ]
    }
}

/// Mean CIEDE2000 between the linear colours `rgb` and the L*a*b* `reference`.
pub fn mean_delta_e00(rgb: &[[f64; 3]], reference: &[[f64; 3]]) -> f64 {
    let sum: f64 = rgb
        .iter()
        .zip(reference)
        .map(|(c, r)| delta_e::delta_e00(linear_rgb_to_lab(c.map(|v| v.max(0.0))), *r))
        .sum();
    sum / rgb.len() as f64
}

/// The per-channel gains that best map `measured` onto `reference` (least squares).
fn channel_gains(measured: &[[f64; 3]], reference: &[[f64; 3]]) -> [f64; 3] {
    std::array::from_fn(|c| {
        let (mr, mm) = measured
            .iter()
            .zip(reference)
            .fold((0.0, 0.0), |(a, b), (m, r)| {
                (a + m[c] * r[c], b + m[c] * m[c])
            });
        if mm > 0.0 { mr / mm } else { 0.0 }
    })
}

/// The chart of a photo: from `given` (the manifest's box) or searched for when
/// `params.detect` is 1; `Ok(None)` when there is none.
///
/// # Errors
/// A `given` box that does not lie inside the image.
pub fn chart_fit(
    planes: &ColourPlanes,
    given: Option<ChartBox>,
    params: &ChartParams,
) -> Result<Option<ChartFit>, String> {
    let (width, height) = (planes.width(), planes.height());
    let (grid, source) = match given {
        Some(b) => {
            let inside = u64::from(b.x) + u64::from(b.w) <= width as u64
                && u64::from(b.y) + u64::from(b.h) <= height as u64;
            if !inside {
                return Err(format!(
                    "chart_box {},{},{},{} does not lie inside the {width}x{height} image",
                    b.x, b.y, b.w, b.h
                ));
            }
            let g = ChartGrid::of_box(
                f64::from(b.x),
                f64::from(b.y),
                f64::from(b.w),
                f64::from(b.h),
            );
            (g, ChartSource::Manifest)
        }
        None if params.detect == 1 => match find_grid(planes, params.search_px as usize) {
            Some(g) => (g, ChartSource::Detected),
            None => return Ok(None),
        },
        None => return Ok(None),
    };
    let Some(cells) = cell_means(planes, &grid, PATCH_FRACTION) else {
        return match source {
            ChartSource::Manifest => Err("chart_box cells leave the image".into()),
            ChartSource::Detected => Ok(None),
        };
    };
    let reference_lab = reference_lab_d65();
    let reference_rgb = reference_linear_rgb();
    let (rotation_deg, measured, verify) = orientations(grid.cols)
        .into_iter()
        .map(|(rotation, order)| {
            let measured: Vec<[f64; 3]> = order.iter().map(|&cell| cells[cell]).collect();
            let gains = channel_gains(&measured, &reference_rgb);
            let balanced: Vec<[f64; 3]> = measured
                .iter()
                .map(|m| std::array::from_fn(|c| m[c] * gains[c]))
                .collect();
            (
                rotation,
                measured,
                mean_delta_e00(&balanced, &reference_lab),
            )
        })
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .expect("two orientations");
    if source == ChartSource::Detected && (verify.is_nan() || verify > params.max_verify_delta_e00)
    {
        return Ok(None);
    }
    let correction = fit::fit_correction(&measured, &reference_rgb, params.root_polynomial_degree);
    let delta_e00_after = correction.as_ref().ok().map(|c| {
        let corrected: Vec<[f64; 3]> = measured.iter().map(|m| c.apply(*m)).collect();
        mean_delta_e00(&corrected, &reference_lab)
    });
    let neutrals = std::array::from_fn(|k| measured[FIRST_NEUTRAL + k]);
    Ok(Some(ChartFit {
        neutrals,
        source,
        grid,
        exclusion: grid.exclusion(params.margin_cells, width, height),
        rotation_deg,
        delta_e00_before: mean_delta_e00(&measured, &reference_lab),
        delta_e00_after,
        correction,
    }))
}
