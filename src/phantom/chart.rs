//! A ColorChecker Classic drawn into a classic phantom (`skintex phantom --chart`).
//!
//! The chart lies flat in the bottom-right corner of the close-up, 2 % of the image side from
//! its edges, 45 % of the side wide: 6 x 4 square patches of side s = 0.45·size/8.25 px
//! (rounded), gaps s/4 and a black frame s/2 wide (reflectance [`FRAME`]). Each patch's
//! reflectance is the published colour as linear sRGB ([`crate::chart::reference`], clipped to
//! [0, 1]: cyan's red is out of gamut). It is lit like the skin (the illumination gradient and
//! vignetting; flat, so no shading or cavity term) and then goes through the same camera (blur,
//! noise, 8-bit encoding, JPEG), so a colour cast or exposure change given to the phantom
//! applies to chart and skin alike. Skin features under the chart are hidden; the ground
//! truth still lists them.

use crate::chart::reference::{COLUMNS, ROWS, reference_linear_rgb};

/// Reflectance of the chart's black frame, linear.
pub(crate) const FRAME: f64 = 0.015;

/// Where the chart is drawn in a phantom of `size` x `size` px.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChartLayout {
    /// Outer box of the frame: left, top, width, height, px.
    outer: [usize; 4],
    side: usize,
    gap: usize,
    border: usize,
    colours: [[f64; 3]; 24],
}

impl ChartLayout {
    pub(crate) fn new(size: usize) -> Self {
        let side = ((0.45 * size as f64 / 8.25).round() as usize).max(4);
        let gap = (side / 4).max(1);
        let border = (side / 2).max(1);
        let w = COLUMNS * side + (COLUMNS - 1) * gap + 2 * border;
        let h = ROWS * side + (ROWS - 1) * gap + 2 * border;
        let inset = (0.02 * size as f64).round() as usize;
        Self {
            outer: [
                size.saturating_sub(w + inset),
                size.saturating_sub(h + inset),
                w,
                h,
            ],
            side,
            gap,
            border,
            colours: reference_linear_rgb().map(|c| c.map(|v| v.clamp(0.0, 1.0))),
        }
    }

    /// The box around the 24 patches, `[x, y, w, h]` px (what a manifest's `chart_box` gives).
    pub(crate) fn patch_box(&self) -> [u32; 4] {
        let [x, y, w, h] = self.outer;
        let b = self.border;
        [x + b, y + b, w - 2 * b, h - 2 * b].map(|v| v as u32)
    }

    /// The chart's reflectance (linear RGB) at pixel (`x`, `y`), `None` outside the chart.
    pub(crate) fn reflectance(&self, x: usize, y: usize) -> Option<[f64; 3]> {
        let [x0, y0, w, h] = self.outer;
        if x < x0 || y < y0 || x >= x0 + w || y >= y0 + h {
            return None;
        }
        let pitch = self.side + self.gap;
        let (u, v) = (x - x0, y - y0);
        let inside = |t: usize, n: usize| {
            let t = t.checked_sub(self.border)?;
            let (k, r) = (t / pitch, t % pitch);
            (k < n && r < self.side).then_some(k)
        };
        Some(match (inside(u, COLUMNS), inside(v, ROWS)) {
            (Some(i), Some(j)) => self.colours[j * COLUMNS + i],
            _ => [FRAME; 3],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_lie_in_the_patch_box() {
        let c = ChartLayout::new(1000);
        let [x, y, w, h] = c.patch_box().map(|v| v as usize);
        assert_eq!(c.reflectance(x, y), Some(c.colours[0]));
        assert_eq!(c.reflectance(x + w - 1, y + h - 1), Some(c.colours[23]));
        assert_eq!(c.reflectance(x - 1, y), Some([FRAME; 3]));
        assert_eq!(c.reflectance(x + c.side, y), Some([FRAME; 3]));
        assert_eq!(c.reflectance(0, 0), None);
        assert!(x + w < 1000 && y + h < 1000);
    }
}
