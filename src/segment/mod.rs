//! Segmentation stage: the regions (zones) of a photo that the metrics measure.
//!
//! A zone is a named binary mask stored over its bounding box, so that later stages restrict
//! their work to it.

pub mod face;
pub mod parsing;

use ndarray::{Array2, ArrayView2};

/// Which part of each photo is analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoiMode {
    /// Find the face and measure per anatomical zone.
    Face,
    /// Analyse the whole image as one zone named `full` (close-ups without a face).
    Full,
}

impl RoiMode {
    /// Parse a manifest cell (`face` or `full`, any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "face" => Some(Self::Face),
            "full" => Some(Self::Full),
            _ => None,
        }
    }
}

/// Name of the single zone of `--roi full`.
pub const ZONE_FULL: &str = "full";

/// A binary mask stored over its bounding box within an image.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    /// Left column of the bounding box in the image, px.
    pub x0: usize,
    /// Top row of the bounding box in the image, px.
    pub y0: usize,
    /// Membership over the bounding box, `(rows, cols)`.
    pub bits: Array2<bool>,
}

impl Mask {
    /// A mask covering a whole `width` x `height` image.
    pub fn full(width: usize, height: usize) -> Self {
        Self {
            x0: 0,
            y0: 0,
            bits: Array2::from_elem((height, width), true),
        }
    }

    /// `bits` placed at `(x0, y0)`, cropped to the bounding box of its set pixels (an empty mask
    /// at `(x0, y0)` when none is set).
    pub fn tight(bits: ArrayView2<'_, bool>, x0: usize, y0: usize) -> Self {
        let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
        for ((r, c), &b) in bits.indexed_iter() {
            if b {
                r0 = r0.min(r);
                r1 = r1.max(r + 1);
                c0 = c0.min(c);
                c1 = c1.max(c + 1);
            }
        }
        if r0 == usize::MAX {
            return Self {
                x0,
                y0,
                bits: Array2::from_elem((0, 0), false),
            };
        }
        Self {
            x0: x0 + c0,
            y0: y0 + r0,
            bits: bits.slice(ndarray::s![r0..r1, c0..c1]).to_owned(),
        }
    }

    /// Number of pixels in the mask.
    pub fn area_px(&self) -> usize {
        self.bits.iter().filter(|&&b| b).count()
    }

    /// Bounding-box width, px.
    pub fn width(&self) -> usize {
        self.bits.ncols()
    }

    /// Bounding-box height, px.
    pub fn height(&self) -> usize {
        self.bits.nrows()
    }

    /// The values of `plane` (a full-image plane) inside the mask, in raster order.
    pub fn values<'a>(&'a self, plane: &'a Array2<f32>) -> impl Iterator<Item = f32> + 'a {
        let window = plane.slice(ndarray::s![
            self.y0..self.y0 + self.height(),
            self.x0..self.x0 + self.width()
        ]);
        window
            .into_iter()
            .zip(self.bits.iter())
            .filter_map(|(&v, &inside)| inside.then_some(v))
    }
}

/// A named region of a photo.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub name: String,
    pub mask: Mask,
}

/// The single zone of `--roi full`: the whole image.
pub fn full_image_zones(width: usize, height: usize) -> Vec<Zone> {
    vec![Zone {
        name: ZONE_FULL.to_owned(),
        mask: Mask::full(width, height),
    }]
}

/// Leave the box `[x0, y0, x1, y1)` (image px) out of every zone (a colour chart's area).
pub fn exclude_box(zones: &mut [Zone], [x0, y0, x1, y1]: [usize; 4]) {
    for zone in zones {
        let m = &zone.mask;
        let bits = Array2::from_shape_fn(m.bits.dim(), |(r, c)| {
            let (x, y) = (m.x0 + c, m.y0 + r);
            m.bits[[r, c]] && !((x0..x1).contains(&x) && (y0..y1).contains(&y))
        });
        zone.mask = Mask::tight(bits.view(), m.x0, m.y0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excluded_box_leaves_every_zone() {
        let mut zones = full_image_zones(10, 8);
        exclude_box(&mut zones, [6, 4, 12, 9]);
        assert_eq!(zones[0].mask.area_px(), 80 - 4 * 4);
        exclude_box(&mut zones, [0, 0, 10, 8]);
        assert_eq!(zones[0].mask.area_px(), 0);
    }

    #[test]
    fn values_inside_bbox_mask() {
        let plane = Array2::from_shape_fn((4, 5), |(r, c)| (r * 10 + c) as f32);
        let mut bits = Array2::from_elem((2, 2), true);
        bits[[0, 1]] = false;
        let m = Mask { x0: 1, y0: 2, bits };
        assert_eq!(m.area_px(), 3);
        assert_eq!(m.values(&plane).collect::<Vec<_>>(), vec![21.0, 31.0, 32.0]);
    }
}
