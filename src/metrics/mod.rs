//! Metrics stage: one module per family, each declaring its columns once.
//!
//! A family receives one zone and returns one [`MetricValue`] per declared column, in
//! declaration order. A value that cannot be computed is [`Missing`] with a reason, never a
//! made-up number. Families that work in millimetres (roughness, lines, scars) need a calibrated
//! image; without one their columns are empty with the reason `uncalibrated`.

pub mod height;
pub mod lines;
pub mod roughness;
pub mod scars;
pub mod tone;

use crate::config::Config;
use crate::input::colour::ColourPlanes;
use crate::segment::Zone;
use height::PseudoHeight;

pub use lines::LineRecord;
pub use scars::ScarRecord;

/// One output column: name, unit and meaning, as written to the data dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: &'static str,
    /// Unit, or `1` for unitless numbers, or empty for text.
    pub unit: &'static str,
    pub description: &'static str,
}

/// A [`ColumnSpec`] in a `const` table.
pub const fn spec(name: &'static str, unit: &'static str, description: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        unit,
        description,
    }
}

/// Why a value is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing(pub String);

impl Missing {
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

/// A metric's value or the reason it has none.
pub type MetricValue = Result<f64, Missing>;

/// A finite value, or `Missing` with `reason` for NaN and infinities.
pub fn finite_or(value: f64, reason: &str) -> MetricValue {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Missing::new(reason))
    }
}

/// `n` copies of the same missing value.
pub fn all_missing(n: usize, reason: &str) -> Vec<MetricValue> {
    vec![Err(Missing::new(reason)); n]
}

/// What a family needs to measure one zone.
pub struct ZoneInput<'a> {
    pub planes: &'a ColourPlanes,
    pub zone: &'a Zone,
    /// Pixels per millimetre, when the image is calibrated.
    pub px_per_mm: Option<f64>,
    pub config: &'a Config,
}

/// Everything measured on one zone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ZoneMeasurement {
    /// Aligned with [`metric_columns`].
    pub values: Vec<MetricValue>,
    /// Each detected fine line, for `lines.csv` and the QC picture.
    pub lines: Vec<LineRecord>,
    /// Each detected scar, for `scars.csv` and the QC picture.
    pub scars: Vec<ScarRecord>,
}

/// All metric columns of all families, in output order.
pub fn metric_columns() -> Vec<ColumnSpec> {
    [
        roughness::COLUMNS,
        lines::COLUMNS,
        scars::COLUMNS,
        tone::COLUMNS,
    ]
    .concat()
}

const UNCALIBRATED: &str = "uncalibrated: needs px_per_mm";

/// Measure every family on one zone.
pub fn measure_zone(input: &ZoneInput<'_>) -> ZoneMeasurement {
    measure_all_but_lines(input.planes, input.zone, input.px_per_mm, input.config)
        .finish(input.config)
}

/// Measure every zone of one image, consuming its colour planes. Zones are measured in turn;
/// the fine lines, which need only the pseudo-height and hold the most memory, come last in
/// each zone, and before the last zone's lines the planes are dropped, so a one-zone photo
/// (a close-up, `--roi full`) never holds both. Values equal [`measure_zone`]'s.
pub fn measure_zones(
    planes: ColourPlanes,
    zones: &[Zone],
    px_per_mm: Option<f64>,
    config: &Config,
) -> Vec<ZoneMeasurement> {
    let mut planes = Some(planes);
    let mut out = Vec::with_capacity(zones.len());
    for (i, zone) in zones.iter().enumerate() {
        let partial = measure_all_but_lines(
            planes.as_ref().expect("planes kept until the last zone"),
            zone,
            px_per_mm,
            config,
        );
        if i + 1 == zones.len() {
            planes = None;
        }
        out.push(partial.finish(config));
    }
    drop(planes);
    out
}

/// A zone measured except for its fine lines: the other families' values and what the lines
/// need (the pseudo-height, or why they are missing).
struct AllButLines<'a> {
    roughness: Vec<MetricValue>,
    /// The pseudo-height to detect lines on, or the reason all relief values are missing.
    lines_input: Result<PseudoHeight<'a>, String>,
    scars: Vec<MetricValue>,
    scar_records: Vec<ScarRecord>,
    tone: [MetricValue; 8],
}

/// The pseudo-height borrows the zone's mask, not the planes: the planes can go before the
/// lines are measured.
fn measure_all_but_lines<'z>(
    planes: &ColourPlanes,
    zone: &'z Zone,
    px_per_mm: Option<f64>,
    config: &Config,
) -> AllButLines<'z> {
    let tone = tone::measure(planes, zone, &config.tone);
    match px_per_mm {
        Some(px_per_mm) if px_per_mm >= config.height.min_px_per_mm => {
            let height = height::pseudo_height(planes, zone, px_per_mm, config.height.cutoff_mm);
            let roughness = roughness::measure(&height, &config.roughness);
            let (scars, scar_records) = scars::measure(planes, zone, &height, &config.scars);
            AllButLines {
                roughness,
                lines_input: Ok(height),
                scars,
                scar_records,
                tone,
            }
        }
        Some(px_per_mm) => AllButLines::uncalibrated(
            format!(
                "resolution {px_per_mm:.3} px/mm is below height.min_px_per_mm ({})",
                config.height.min_px_per_mm
            ),
            tone,
        ),
        None => AllButLines::uncalibrated(UNCALIBRATED.to_string(), tone),
    }
}

impl AllButLines<'_> {
    /// No relief family can be measured, for `reason`.
    fn uncalibrated(reason: String, tone: [MetricValue; 8]) -> Self {
        AllButLines {
            roughness: all_missing(roughness::COLUMNS.len(), &reason),
            scars: all_missing(scars::COLUMNS.len(), &reason),
            lines_input: Err(reason),
            scar_records: Vec::new(),
            tone,
        }
    }

    /// Detect the lines and put the families in column order.
    fn finish(self, config: &Config) -> ZoneMeasurement {
        let (line_values, lines) = match &self.lines_input {
            Ok(height) => lines::measure(height, &config.lines),
            Err(reason) => (all_missing(lines::COLUMNS.len(), reason), Vec::new()),
        };
        drop(self.lines_input);
        let values = [self.roughness, line_values, self.scars, self.tone.to_vec()].concat();
        debug_assert_eq!(values.len(), metric_columns().len());
        ZoneMeasurement {
            values,
            lines,
            scars: self.scar_records,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::colour::colour_planes;
    use crate::phantom::{PhantomSpec, render_phantom};
    use crate::segment::{Mask, full_image_zones};
    use image::DynamicImage;

    /// Measuring all zones at once (planes dropped before the last zone's lines) gives each
    /// zone exactly what measuring it alone gives, calibrated or not.
    #[test]
    fn measure_zones_equals_measure_zone_per_zone() {
        let phantom = render_phantom(&PhantomSpec::default(), 3);
        let image = DynamicImage::ImageRgb8(phantom.image);
        let (w, h) = (image.width() as usize, image.height() as usize);
        let mut zones = full_image_zones(w, h);
        let disc = ndarray::Array2::from_shape_fn((h, w), |(r, c)| {
            (r as f64 - h as f64 / 2.0).hypot(c as f64 - w as f64 / 3.0) < h as f64 / 4.0
        });
        zones.push(Zone {
            name: "disc".into(),
            mask: Mask::tight(disc.view(), 0, 0),
        });
        let config = Config::default();
        for px_per_mm in [Some(20.0), None] {
            let planes = colour_planes(&image);
            let alone: Vec<ZoneMeasurement> = zones
                .iter()
                .map(|zone| {
                    measure_zone(&ZoneInput {
                        planes: &planes,
                        zone,
                        px_per_mm,
                        config: &config,
                    })
                })
                .collect();
            let together = measure_zones(planes, &zones, px_per_mm, &config);
            assert_eq!(together, alone);
            assert_eq!(together[0].values.len(), metric_columns().len());
        }
    }
}
