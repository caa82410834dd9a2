//! Analysis parameters: every tunable number, its default, its documentation and its allowed range.
//!
//! Each section is declared once with `param_section!`, which generates the struct, its
//! `Default`, range validation that names the key, and the commented TOML that
//! `skintex config --default` prints. All lengths are in millimetres.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// A configuration problem: unreadable file, bad TOML, unknown key or value out of range.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("config key `{section}.{key}` = {value} is outside the allowed range {min} ..= {max}")]
    OutOfRange {
        section: &'static str,
        key: &'static str,
        value: f64,
        min: f64,
        max: f64,
    },
    #[error("config: {0}")]
    Inconsistent(String),
}

/// A value type a parameter may have: a number that can be range-checked and printed as TOML.
pub trait ParamValue: Copy {
    /// The value as f64, for range checks.
    fn as_f64(self) -> f64;
    /// The value as a TOML literal.
    fn toml_literal(self) -> String;
}

impl ParamValue for f64 {
    fn as_f64(self) -> f64 {
        self
    }
    fn toml_literal(self) -> String {
        format!("{self:?}")
    }
}

impl ParamValue for u32 {
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    fn toml_literal(self) -> String {
        self.to_string()
    }
}

/// Check that `value` lies in `[min, max]` (and is finite).
pub fn check_range(
    section: &'static str,
    key: &'static str,
    value: f64,
    min: f64,
    max: f64,
) -> Result<(), ConfigError> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange {
            section,
            key,
            value,
            min,
            max,
        })
    }
}

/// Declares one config section: struct, defaults, documentation, ranges.
macro_rules! param_section {
    (
        $(#[doc = $sdoc:literal])*
        pub struct $name:ident = $section:literal {
            $(
                $(#[doc = $doc:literal])+
                $field:ident : $ty:ty = $default:expr, [$min:expr, $max:expr];
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $( $(#[doc = $doc])+ pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $name {
            /// The TOML table name of this section.
            pub const SECTION: &'static str = $section;

            /// Check every key against its allowed range.
            pub fn validate(&self) -> Result<(), ConfigError> {
                $( check_range($section, stringify!($field), ParamValue::as_f64(self.$field), $min as f64, $max as f64)?; )*
                Ok(())
            }

            /// Append this section as commented TOML.
            pub fn write_commented_toml(&self, out: &mut String) {
                let _ = writeln!(out, "[{}]", $section);
                $(
                    $( let _ = writeln!(out, "#{}", $doc); )+
                    let _ = writeln!(out, "# allowed: {} ..= {}", ParamValue::toml_literal($min as $ty), ParamValue::toml_literal($max as $ty));
                    let _ = writeln!(out, "{} = {}\n", stringify!($field), ParamValue::toml_literal(self.$field));
                )*
            }
        }
    };
}

param_section! {
    /// Image decoding limits.
    pub struct InputParams = "input" {
        /// Largest image accepted, in megapixels (width x height / 1e6). Larger files are refused
        /// before decoding (decompression-bomb guard).
        max_megapixels: f64 = 100.0, [0.01, 1000.0];
    }
}

param_section! {
    /// Tone (colour) metrics.
    pub struct ToneParams = "tone" {
        /// ITA is left empty when |mean b*| is below this value, because atan((L*-50)/b*) is then
        /// dominated by noise in b*.
        ita_min_abs_b: f64 = 0.5, [0.0, 20.0];
    }
}

param_section! {
    /// Colour chart: a 24-patch ColorChecker Classic in the photo (found, or boxed by the
    /// manifest's `chart_box` column) corrects the colour that tone is measured on.
    pub struct ChartParams = "chart" {
        /// 1: search every photo for a ColorChecker Classic (its 6 x 4 grid of uniform squares,
        /// on a decimated copy); 0: use a chart only where the manifest gives its chart_box.
        detect: u32 = 1, [0, 1];
        /// The colour correction fitted to the chart: 1 = a 3x3 matrix on linear RGB (least
        /// squares); 2 or 3 = a root-polynomial of that degree (Finlayson et al. 2015: 6 or 13
        /// terms, exposure-invariant), which follows a camera's non-linear colour better but
        /// needs more unclipped patches (12 or 19 of the 24).
        root_polynomial_degree: u32 = 1, [1, 3];
        /// A grid found in the photo is a chart only if its 24 colours, after the best per-channel
        /// gains (white balance and exposure), lie within this mean CIEDE2000 of the published
        /// ones. A chart_box from the manifest is always used.
        max_verify_delta_e00: f64 = 10.0, [0.5, 100.0];
        /// Margin around the chart's patch area left out of every zone (the chart's frame and
        /// its shadow), in patch pitches.
        margin_cells: f64 = 1.0, [0.0, 10.0];
        /// The chart is searched on a copy of the photo decimated (block means) until its longest
        /// side is at most this many px; the chart's patches must span at least 3 px there.
        search_px: u32 = 1024, [256, 8192];
    }
}

param_section! {
    /// Pseudo-height: the luminance relief map that roughness, lines and scars are measured on.
    pub struct HeightParams = "height" {
        /// Cutoff wavelength of the Gaussian low-pass (ISO 16610-61 weighting, 50 % transmission
        /// at the cutoff; sigma = 0.1874 x cutoff) that estimates the local mean luminance.
        /// Pseudo-height is luminance / local mean - 1. The default of 8 mm passes every feature the
        /// metrics look for (fine lines up to 1.5 mm wide, scars up to 6 mm across) and removes the
        /// shading of the face's curvature and of uneven lighting (wavelengths of 10 mm and more).
        cutoff_mm: f64 = 8.0, [0.5, 100.0];
        /// Lowest resolution at which roughness, lines and scars are measured, px/mm. Below it the
        /// features these families look for (lines 0.1-1.5 mm wide, pores and scars from 0.5 mm)
        /// span less than about 2 px, and their columns are left empty with the reason.
        min_px_per_mm: f64 = 5.0, [0.1, 1000.0];
    }
}

param_section! {
    /// Roughness: ISO 25178-2 areal parameters and GLCM texture on the pseudo-height map.
    pub struct RoughnessParams = "roughness" {
        /// Autocorrelation threshold s for Sal and Str (ISO 25178-2 default 0.2).
        acf_threshold: f64 = 0.2, [0.01, 0.99];
        /// Largest autocorrelation lag computed for Sal and Str, mm, in every direction. Str (and
        /// Sal, if even its shortest decay length is not within these lags) is left empty when
        /// the ACF does not decay below acf_threshold within +- this lag. The ACF is computed by
        /// FFT at full resolution on the window of at most 1024 x 1024 px of the zone that holds
        /// the most zone pixels.
        acf_max_lag_mm: f64 = 4.0, [0.05, 100.0];
        /// GLCM neighbour distance, mm.
        glcm_distance_mm: f64 = 0.1, [0.001, 10.0];
        /// GLCM grey levels: pseudo-height is clipped to mean +- glcm_clip_sd x SD and quantised
        /// into this many equal bins.
        glcm_levels: u32 = 32, [2, 256];
        /// GLCM quantisation range, in standard deviations of the pseudo-height either side of the
        /// mean.
        glcm_clip_sd: f64 = 3.0, [0.5, 10.0];
    }
}

param_section! {
    /// Fine lines: long, continuous valleys that stand out from the skin's own texture (see
    /// `src/metrics/lines/mod.rs`).
    pub struct LinesParams = "lines" {
        /// Narrowest line width looked for, mm.
        min_width_mm: f64 = 0.1, [0.001, 50.0];
        /// Widest line width looked for, mm.
        max_width_mm: f64 = 1.5, [0.001, 50.0];
        /// Shortest line kept, mm: lines whose skeleton length or end-to-end span is shorter
        /// are removed.
        min_length_mm: f64 = 3.0, [0.0, 1000.0];
        /// Scales per octave of line width between min_width_mm and max_width_mm (geometric
        /// spacing).
        scales_per_octave: u32 = 2, [1, 8];
        /// Frangi blobness parameter beta: the valley strength is multiplied by
        /// exp(-(l1/l2)^2 / (2 beta^2)), which keeps lines (l1/l2 = 0) and attenuates round
        /// depressions (l1/l2 = 1, e.g. pores and scars) by exp(-1/(2 beta^2)).
        blob_beta: f64 = 0.5, [0.05, 5.0];
        /// Texture level of each scale: texture_factor x this quantile of the zone's positive
        /// valley strengths at that scale. With the median and 1.7 it is about the 90th
        /// percentile of all strengths on skin without lines (1.3-2.0 on the phantoms), and the
        /// lines themselves hardly move it. The valley strength is divided by it (a
        /// signal-to-texture ratio, SNR).
        texture_quantile: f64 = 0.5, [0.0, 1.0];
        /// See texture_quantile.
        texture_factor: f64 = 1.7, [0.0, 100.0];
        /// Smallest texture level, pseudo-height units (0.01 = a valley 1 % darker than its
        /// sides), so that a featureless zone does not turn noise into lines.
        texture_floor: f64 = 0.01, [0.0001, 10.0];
        /// Hysteresis seed threshold on the SNR: a line holds at least one pixel this many times
        /// above its scale's texture level. It trades faint lines for repeatability: at 3.0
        /// the skin's own texture (pieces of furrow network and pores, SNR 1.8 at their median
        /// and 2.5 at their 90th percentile) seeds fewer pieces that come and go with the
        /// sensor noise (re-takes of 12 realistic phantoms: lines_length_mm CV 12.6 % -> 7.2 %,
        /// new noise alone 11.5 % -> 1.8 %), but about 4 % of the true wrinkle length, the
        /// faintest wrinkles, is lost (validation set; median length error 14.3 % -> 16.6 %;
        /// measured 2026-12-05, before lines were trimmed at their ends only).
        snr_high: f64 = 2.5, [0.0, 100.0];
        /// Hysteresis growth threshold on the SNR (a value above snr_high acts as snr_high).
        snr_low: f64 = 1.2, [0.0, 100.0];
        /// A line ends where its SNR has fallen below this fraction of its own level (the 90th
        /// percentile of its SNR within min_length_mm / 2 to min_length_mm, the level of its
        /// centre line there: the valley has faded to that fraction of the line's depth). Only
        /// ends are trimmed: a weaker section between two pieces that are lines on their own (at
        /// least min_length_mm) keeps them one line.
        line_end_fraction: f64 = 0.5, [0.0, 1.0];
        /// Path evidence: SNRs above this count as this, so that one very dark spot cannot carry
        /// a path.
        path_strength_cap: f64 = 3.0, [1.0, 100.0];
        /// Path evidence: cost of turning by one orientation step (11.25 degrees), in mm of path
        /// at twice the texture level.
        path_turn_penalty_mm: f64 = 0.1, [0.0, 100.0];
        /// Least path evidence of a line pixel: the SNR in excess of 1 summed along the best
        /// smooth path through the pixel, mm (a line at twice the texture level must run on for
        /// this many mm).
        min_path_evidence_mm: f64 = 6.0, [0.0, 1000.0];
        /// Longest gap bridged between the skeleton end points of two detected pieces that face
        /// each other (outward directions within 30 degrees of the gap), mm. The pieces become
        /// one line and the gap length is counted. 0 = no bridging. Also the farthest apart
        /// along the line (overlapping or not) that two lines continuing one valley with a
        /// sideways step may end to be one line.
        bridge_gap_mm: f64 = 1.5, [0.0, 50.0];
        /// A gap is bridged only if the mean SNR along it is at least this fraction of snr_low.
        bridge_strength_fraction: f64 = 0.5, [0.0, 10.0];
        /// Smallest ratio of a line's end-to-end span to its width; stubbier valleys (e.g. the
        /// gap between two pigmented spots) are not lines. 0 = off.
        min_aspect_ratio: f64 = 4.0, [0.0, 1000.0];
        /// Cross-sections of a line are sampled out to this distance either side, mm (at least
        /// twice the line's scale-space width).
        profile_reach_mm: f64 = 0.4, [0.01, 100.0];
        /// Each cross-section sample is the mean over this distance either way along the line,
        /// mm, so that pores and furrows crossing the line do not make its profile.
        profile_along_mm: f64 = 0.3, [0.0, 10.0];
        /// A skeleton pixel whose cross-section is at most this wide at half depth and at least
        /// hair_min_contrast deep lies on a hair, not on a fine line (no wrinkle is narrower than
        /// about 0.15 mm, and camera blur widens a 0.1 mm hair to about 0.2 mm): it is not
        /// counted, and a line that is mostly such pixels is a hair.
        hair_max_width_mm: f64 = 0.22, [0.0, 10.0];
        /// Pixel floor of hair_max_width_mm: at low resolution even a 0.05 mm hair looks about two
        /// pixels wide at half depth, px.
        hair_max_width_px: f64 = 2.5, [0.0, 100.0];
        /// See hair_max_width_mm (pseudo-height contrast: 0.15 = 15 % darker than its sides).
        hair_min_contrast: f64 = 0.15, [0.0, 10.0];
        /// A line at most twice hair_max_width_mm wide whose darkening has a median
        /// OD_B / OD_R below this (optical densities ln(sides / centre) of linear blue and red
        /// across it) is a hair lying on the skin: an occluder darkens the channel the skin
        /// reflects most, red, the most (ratio below 1), while relief shading darkens every
        /// channel alike (ratio 1) and subsurface scattering fills a narrow shadow with red
        /// light (above 1). The margin below 1 keeps pure shading (synthetic images, cross-
        /// polarised light) whatever the noise; 1.0 scored better on the training phantoms
        /// (median length error 16.9 -> 12.6 %, two phantoms differ) but sits on it. 0 turns the
        /// test off.
        hair_max_chroma_ratio: f64 = 0.9, [0.0, 10.0];
        /// Lines are detected on the pseudo-height resampled (area mean) to this many pixels per
        /// mm when the photo is finer, so that what counts as texture, how sharply a path may
        /// turn per mm and where lines end do not depend on the camera's resolution (the same
        /// skin at 20 and 36 px/mm: line length differs by a median 2.3 % of the true length,
        /// 11.8 % at the photo's own resolution). 12 keeps the narrowest wrinkle (0.15 mm,
        /// sigma 0.09 mm) at one grid pixel sigma. Width and the hair test are measured on the
        /// photo's own pixels. 0 = at the photo's own resolution.
        working_px_per_mm: f64 = 12.0, [0.0, 1000.0];
    }
}

param_section! {
    /// Atrophic scars: multi-scale detection of round depressions in the shading signal.
    pub struct ScarsParams = "scars" {
        /// Smallest scar diameter looked for, mm.
        min_diameter_mm: f64 = 0.5, [0.01, 100.0];
        /// Largest scar diameter looked for, mm.
        max_diameter_mm: f64 = 6.0, [0.01, 100.0];
        /// Cutoff wavelength (ISO 16610-61 Gaussian, sigma = 0.1874 x cutoff) of the local mean
        /// luminance that the scar detector divides by. Larger than height.cutoff_mm so that a
        /// 6 mm rolling scar is not attenuated by the high-pass.
        background_cutoff_mm: f64 = 20.0, [1.0, 1000.0];
        /// Smallest scale-normalised blob response (sigma^2 x Laplacian of the relative
        /// luminance, contrast units) at which a candidate is examined. A flat-floored disk of
        /// contrast c peaks at 0.736 c.
        min_response: f64 = 0.012, [0.0, 10.0];
        /// Detection limit against the skin's own texture: smallest LoG response of a scar in
        /// robust standard deviations (1.4826 x MAD) of the zone's response at the scar's scale,
        /// at the largest scale (max_diameter_mm); smaller scales, with more independent
        /// positions per cm2, get the higher limit that lets as many texture blobs through per
        /// cm2 (u^2 - 2 ln u = k^2 - 2 ln k + 4 ln(sigma_max / sigma), Gaussian random field
        /// theory; 3.9 at 1.5 mm, 4.4 at 0.5 mm). 3 = the analytical 3-sigma limit of
        /// detection, as for pores; 0 disables it.
        min_snr: f64 = 3.0, [0.0, 100.0];
        /// Smallest mean depression contrast kept: surround minus the mean relative luminance
        /// inside the half-depth segment. Chosen on phantoms at 20 px/mm: true scars measured
        /// >= 0.09, skin texture (relief, furrows, pores) <= 0.08.
        min_depth: f64 = 0.085, [0.0, 10.0];
        /// Smallest ratio of the Hessian eigenvalues (smaller / larger) at the detection scale;
        /// below it the candidate is line-like (a wrinkle), not a round scar.
        min_roundness: f64 = 0.3, [0.0, 1.0];
        /// Largest axis ratio (major / minor, from second moments) of a scar's segment.
        max_elongation: f64 = 2.0, [1.0, 100.0];
        /// Smallest width at half depth of a scar's angular-mean profile, mm: an icepick scar
        /// 0.5 mm across (a cone) is 0.25 mm wide at half depth; narrower pits are pores.
        min_fwhm_mm: f64 = 0.22, [0.0, 100.0];
        /// Depressions narrower than this at half depth can be a pore or a cluster of pores
        /// (enlarged pores are 0.25-0.4 mm across, two touching ones about 0.8 mm, widened by
        /// camera blur) and are scars only when darker than the zone's own pores (see
        /// pore_contrast_factor), mm.
        pore_overlap_mm: f64 = 1.0, [0.0, 100.0];
        /// A pore-sized depression must be at least this many times as dark as the 99th
        /// percentile of the zone's pores (contrast; the population's own extreme) to be a
        /// scar: an icepick scar is deeper than any pore of its width. 1.2 on the training
        /// phantoms: true icepicks measured at least 1.25 times it, 8 of the 12 pore-sized
        /// false scars at most 1.17.
        pore_contrast_factor: f64 = 1.2, [0.0, 100.0];
        /// Largest chromatic ratio OD_B / OD_R (optical density ln(surround / inside) in linear
        /// blue over linear red) of a shading depression; above it the darkening is melanin
        /// (a flat pigmented spot), not shading.
        max_chroma_ratio: f64 = 1.6, [1.0, 100.0];
        /// A chromatic darkening is still a depression when its grey (shading) part, the optical
        /// density common to red and blue once melanin's share is taken out
        /// ((k_B OD_R - k_R OD_B) / (k_B - k_R), k_R / k_B = 0.353), is at least this: subsurface
        /// scattering reddens the shadow of a narrow pit and scars can be pigmented, while a flat
        /// spot has none. 0.2 (an 18 % grey darkening, about twice min_depth) was chosen on the
        /// training phantoms: it keeps 137 of 139 true scars and 8 of 519 pigment spots.
        min_shading_od: f64 = 0.2, [0.0, 100.0];
        /// Widest darkening, mm (width at half depth of a blob, diameter of a rim), whose
        /// chromatic shadow can be a depression's: subsurface scattering carries red light into
        /// a shadow from its lit edge, over about the red transport length, so it reddens the
        /// shadow of a narrow pit but not the middle of a wide one. A wider darkening with
        /// OD_B / OD_R above max_chroma_ratio is melanin whatever its grey part: a naevus' grey
        /// part is not shading but the surface reflection melanin does not absorb. 2 mm on the
        /// training phantoms: true scars at least 2 mm wide at half depth measured OD_B / OD_R
        /// 0.8-1.57, the naevi taken for scars there 1.71-1.99.
        reddened_shadow_max_mm: f64 = 2.0, [0.0, 100.0];
        /// Detection limit of a steep-walled pit found by its wall (a rim, see the section Rims
        /// of src/metrics/scars/mod.rs): the wall's energy (Gaussian-smoothed magnitude of the
        /// shading gradient) in the weakest of 8 sectors around it, in units of its median over
        /// the zone (the texture level). 2.5 chosen on the training phantoms.
        min_rim_snr: f64 = 2.5, [0.0, 1000.0];
        /// Below this diameter a scar is icepick whatever its profile, mm (Jacob et al. 2001:
        /// boxcar scars are 1.5-4 mm).
        boxcar_min_diameter_mm: f64 = 1.5, [0.01, 100.0];
        /// Below this diameter a scar with sloped walls (V profile) is icepick, at and above it
        /// rolling, mm (Jacob et al. 2001: icepick < 2 mm).
        icepick_max_diameter_mm: f64 = 2.0, [0.01, 100.0];
        /// Above this diameter a scar is rolling whatever its profile, mm (Jacob et al. 2001:
        /// rolling > 4-5 mm).
        boxcar_max_diameter_mm: f64 = 5.0, [0.01, 100.0];
        /// Wall steepness (mean relative-luminance gradient on the half-depth rim x equivalent
        /// radius of the half-depth segment / depth; a cone gives 0.5, a raised-cosine bowl 0.6,
        /// a flat-floored pit with sharp walls > 1.5) at and above which a scar of
        /// boxcar_min..=boxcar_max diameter is boxcar (steep walls, flat floor).
        min_boxcar_steepness: f64 = 1.1, [0.0, 100.0];
    }
}

param_section! {
    /// Pores: the small, dense population of round dark pits (see `src/metrics/pores.rs`).
    pub struct PoresParams = "pores" {
        /// Smallest pore width at half depth looked for, mm.
        min_diameter_mm: f64 = 0.06, [0.001, 10.0];
        /// Smallest pore width at half depth looked for, px: below about 2 px a pit cannot be
        /// told from noise, so at low resolution the smallest pores are not counted.
        min_diameter_px: f64 = 2.0, [0.5, 100.0];
        /// Largest pore width at half depth, mm (wider round pits are scars or pigment).
        max_diameter_mm: f64 = 0.5, [0.001, 10.0];
        /// Smallest pore depth: surround minus centre of the angular-mean profile, pseudo-height
        /// units (0.03 = 3 % darker than the surround).
        min_contrast: f64 = 0.03, [0.0, 10.0];
        /// Detection limit: smallest LoG response of a pore in robust standard deviations (1.4826
        /// x MAD) of the zone's response at the pore's scale (3 = the analytical 3-sigma limit of
        /// detection; 0 disables it).
        min_snr: f64 = 3.0, [0.0, 100.0];
        /// Smallest Hessian eigenvalue ratio (smaller / larger) of a pore's blob: furrow
        /// junctions and line pieces are less round.
        min_roundness: f64 = 0.4, [0.0, 1.0];
    }
}

param_section! {
    /// Face segmentation (`--roi face`): detection, face mesh, zones, skin refinement and iris
    /// calibration. Zone margins are fractions of the inter-ocular distance (between the eye
    /// centres, about 63 mm in adults), so they hold before the image scale is known.
    pub struct FaceParams = "face" {
        /// Smallest detector score (sigmoid of the BlazeFace logit) of a face.
        detector_score_threshold: f64 = 0.5, [0.05, 0.99];
        /// Weighted non-maximum suppression merges detections whose IoU exceeds this.
        nms_iou: f64 = 0.3, [0.05, 0.95];
        /// Smallest face searched for: detector box side as a fraction of the image's long side
        /// (the width of a landscape photo). The whole image finds faces from about 0.15; when it
        /// finds none that large, overlapping tiles at one or two finer scales look down to this
        /// (0.15 or more: no tiles).
        min_face_fraction: f64 = 0.08, [0.05, 1.0];
        /// Side of the square mesh crop as a multiple of the face box's long side (MediaPipe: 1.5).
        crop_scale: f64 = 1.5, [1.0, 3.0];
        /// Extra mesh passes, each on a crop re-centred on the previous pass's landmarks.
        mesh_refine_passes: u32 = 1, [0, 3];
        /// Smallest face-presence score of the mesh (below it: no face found).
        min_face_presence: f64 = 0.5, [0.0, 1.0];
        /// Eyes, brows, lips and nostrils are excluded grown by this fraction of the inter-ocular
        /// distance (0.05 is about 3 mm).
        exclusion_margin_iod: f64 = 0.05, [0.0, 0.5];
        /// Skin refinement: largest chromatic distance from the skin model, in robust SDs of
        /// a* and b* (0 disables the refinement).
        skin_k_chroma: f64 = 3.5, [0.0, 50.0];
        /// Skin refinement: the colour tests run on L*a*b* smoothed by a Gaussian of this
        /// standard deviation, as a fraction of the inter-ocular distance (0.03 is about 2 mm), so
        /// that fine lines, scars and pores are never rejected as non-skin.
        skin_scale_iod: f64 = 0.03, [0.0, 0.5];
        /// Skin refinement: pixels darker than the median L* by more than this many robust SDs
        /// are not skin (hair, beard, shadows).
        skin_k_dark: f64 = 3.0, [0.5, 50.0];
        /// Skin refinement: glare is brighter than the median L* by more than this many robust SDs
        /// and has chroma below skin_glare_chroma_ratio x the skin's median chroma C*.
        skin_k_glare: f64 = 2.5, [0.5, 50.0];
        /// Skin refinement: chroma fraction of the glare test (see skin_k_glare).
        skin_glare_chroma_ratio: f64 = 0.6, [0.0, 1.0];
        /// Horizontal visible iris diameter assumed for iris calibration, mm (adult mean 11.7,
        /// SD about 0.5).
        iris_diameter_mm: f64 = 11.7, [8.0, 15.0];
        /// The two eyes' px/mm estimates are flagged when |left - right| / mean exceeds this.
        iris_max_disagreement: f64 = 0.10, [0.0, 1.0];
    }
}

param_section! {
    /// Capture quality of each photo (`capture_*` columns of images.csv, see
    /// `src/metrics/capture.rs`): what is measured and the checks that set `capture_flags`.
    pub struct CaptureParams = "capture" {
        /// Fine scale of the sharpness ratio (Gaussian sigma), mm; the coarse scale is 4 times
        /// it. 0.05 mm is the scale of the skin's finest furrows, which defocus blurs first.
        sharpness_scale_mm: f64 = 0.05, [0.005, 5.0];
        /// Flag `blurred` below this sharpness. On rendered close-ups at 20 px/mm (five skins,
        /// tests/capture.rs) sharp photos (blur 0.03 mm) measure 0.22-0.49 and the same photos
        /// defocused by a further 0.08 mm 0.058-0.086. The value depends on the skin's relief, so
        /// the study compares each follow-up with its own baseline instead.
        min_sharpness: f64 = 0.1, [0.0, 100.0];
        /// Flag `underexposed` below this median L* of the skin (the darkest skin, type VI,
        /// measures about 28).
        min_l_median: f64 = 20.0, [0.0, 100.0];
        /// Flag `overexposed` above this median L* of the skin (the lightest skin, type I,
        /// measures about 76).
        max_l_median: f64 = 85.0, [0.0, 100.0];
        /// Flag `clipped` when more than this share of the skin is clipped at either end.
        max_clipped_share: f64 = 0.01, [0.0, 1.0];
        /// Flag `colour_cast` when the skin's hue angle is below this, deg.
        min_skin_hue_deg: f64 = 25.0, [-180.0, 180.0];
        /// Flag `colour_cast` when the skin's hue angle is above this, deg.
        max_skin_hue_deg: f64 = 80.0, [-180.0, 180.0];
        /// With a colour chart: flag `colour_cast` when the neutral patches' channel gains
        /// depart from a neutral capture by more than this, sqrt(ln(R/G)² + ln(B/G)²) (0.1 is
        /// a 10 % gain, about ΔE00 4 on skin).
        max_neutral_cast: f64 = 0.1, [0.0, 5.0];
        /// Flag `uneven_light` when the luminance plane changes by more than this from the
        /// skin's centre to a typical skin point, %.
        max_light_gradient_pct: f64 = 15.0, [0.0, 1000.0];
        /// Flag `uneven_light` when the face's left/right or top/bottom luminance ratio is beyond
        /// this factor either way.
        max_light_ratio: f64 = 1.3, [1.0, 100.0];
        /// Flag `specular` above this share of glare on the skin.
        max_specular_share: f64 = 0.05, [0.0, 1.0];
        /// Flag `head_turned` beyond this yaw, deg.
        max_yaw_deg: f64 = 15.0, [0.0, 90.0];
        /// Flag `head_rolled` beyond this roll, deg.
        max_roll_deg: f64 = 15.0, [0.0, 180.0];
        /// Flag `mouth_open` above this inner lip gap / mouth width.
        max_mouth_open: f64 = 0.15, [0.0, 10.0];
        /// Flag `smiling` above this mouth width / inter-ocular distance.
        max_smile: f64 = 1.0, [0.0, 10.0];
        /// Flag `brows_raised` above this brow-to-eye distance / inter-ocular distance.
        max_brows_raised: f64 = 0.5, [0.0, 10.0];
        /// Flag `eyes_closed` below this eye aspect ratio (a blink drops it below about 0.2,
        /// Soukupová & Čech 2016).
        min_eye_opening: f64 = 0.15, [0.0, 10.0];
        /// Flag `small_face` below this face height (forehead top to chin), px.
        min_face_size_px: f64 = 300.0, [0.0, 100000.0];
    }
}

/// Every analysis parameter of a run, as written in full into `run.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub input: InputParams,
    pub height: HeightParams,
    pub roughness: RoughnessParams,
    pub lines: LinesParams,
    pub scars: ScarsParams,
    pub pores: PoresParams,
    pub face: FaceParams,
    pub tone: ToneParams,
    pub chart: ChartParams,
    pub capture: CaptureParams,
}

impl Config {
    /// Parse and validate a TOML document; `origin` names it in error messages.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_owned(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Read, parse and validate a TOML config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Check every parameter of every section.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.input.validate()?;
        self.height.validate()?;
        self.roughness.validate()?;
        self.lines.validate()?;
        self.scars.validate()?;
        self.pores.validate()?;
        self.face.validate()?;
        self.tone.validate()?;
        self.chart.validate()?;
        self.capture.validate()?;
        if self.lines.min_width_mm > self.lines.max_width_mm {
            return Err(ConfigError::Inconsistent(
                "lines.min_width_mm must not exceed lines.max_width_mm".into(),
            ));
        }
        if self.pores.min_diameter_mm > self.pores.max_diameter_mm {
            return Err(ConfigError::Inconsistent(
                "pores.min_diameter_mm must not exceed pores.max_diameter_mm".into(),
            ));
        }
        if self.capture.min_l_median > self.capture.max_l_median {
            return Err(ConfigError::Inconsistent(
                "capture.min_l_median must not exceed capture.max_l_median".into(),
            ));
        }
        if self.capture.min_skin_hue_deg > self.capture.max_skin_hue_deg {
            return Err(ConfigError::Inconsistent(
                "capture.min_skin_hue_deg must not exceed capture.max_skin_hue_deg".into(),
            ));
        }
        if self.scars.min_diameter_mm > self.scars.max_diameter_mm {
            return Err(ConfigError::Inconsistent(
                "scars.min_diameter_mm must not exceed scars.max_diameter_mm".into(),
            ));
        }
        Ok(())
    }

    /// The configuration as commented TOML, parseable back into an equal `Config`.
    pub fn commented_toml(&self) -> String {
        let mut out = String::from(
            "# skintex analysis configuration. Pass with `skintex analyze --config FILE.toml`.\n\
             # Every key is optional; a missing key takes the default shown. Lengths are in mm.\n\n",
        );
        self.input.write_commented_toml(&mut out);
        self.height.write_commented_toml(&mut out);
        self.roughness.write_commented_toml(&mut out);
        self.lines.write_commented_toml(&mut out);
        self.scars.write_commented_toml(&mut out);
        self.pores.write_commented_toml(&mut out);
        self.face.write_commented_toml(&mut out);
        self.tone.write_commented_toml(&mut out);
        self.chart.write_commented_toml(&mut out);
        self.capture.write_commented_toml(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_toml_round_trips() {
        let text = Config::default().commented_toml();
        let parsed = Config::from_toml_str(&text, "default").unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn out_of_range_names_the_key() {
        let err = Config::from_toml_str("[input]\nmax_megapixels = -3.0\n", "t.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("input.max_megapixels"), "{msg}");
        assert!(msg.contains("0.01"), "{msg}");
    }

    #[test]
    fn unknown_key_is_refused() {
        let err = Config::from_toml_str("[tone]\nnope = 1.0\n", "t.toml").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
