//! Atrophic scars: multi-scale detection of round depressions in the shading signal.
//!
//! Under clinical lighting an atrophic depression is darker than its surround (shadowed walls,
//! cavity darkening). Scars are found as dark blobs of the relative luminance, segmented,
//! filtered and classified by type (Jacob et al. 2001); steep-walled pits whose floor is lit
//! like the skin are found by their closed wall instead (section Rims).
//!
//! # Signal
//! ```text
//! z(x, y) = Y(x, y) / Ȳ_b(x, y) − 1          relative luminance (unitless, depressions < 0)
//! Ȳ_b     = masked local mean of Y, ISO 16610-61 Gaussian, σ_b = 0.1874 · scars.background_cutoff_mm
//! ```
//! Y is linear luminance. The work is done on a base grid decimated by `f0 = 2^L0` (box average)
//! where `L0` is the largest integer with `σ_min / 2^L0 ≥ 1.6 px`, since the smallest scar scale
//! needs no finer sampling; z is 0 outside the zone mask.
//!
//! # Detection (Lindeberg 1998)
//! ```text
//! R(x, y; σ) = σ² · (∂²/∂x² + ∂²/∂y²)(G_σ ∗ z)      scale-normalised Laplacian of Gaussian
//! σ_k = σ_min · (σ_max / σ_min)^(k / (n − 1)),   σ = d / (2√2),   d ∈ [min, max]_diameter_mm
//! n   = ⌈3 · log2(σ_max / σ_min)⌉ + 1               (3 scales per octave)
//! ```
//! A dark disk of diameter d and contrast c gives, at its centre, `R = c · t · exp(−t/2)` with
//! `t = d² / (4σ²)`, largest (0.736 c) at `σ = d / (2√2)`. Each σ is computed on the pyramid
//! level where `σ / 2^m ∈ [1.6, 3.2)` level pixels (pyramid: blur to 1 px accumulated σ, keep
//! every second sample), derivatives by central differences. Candidates are local maxima of R over
//! the 3 × 3 neighbourhood and the two neighbouring scales with
//! `R ≥ max(scars.min_response, u(σ) · s_σ)` and Hessian roundness
//! `λ_small / λ_large ≥ scars.min_roundness` (λ eigenvalues of σ²·H; a line has λ_small ≈ 0).
//! `s_σ` is the robust standard deviation (1.4826 · MAD) of R over the zone at that scale: the
//! skin's own texture (pores, furrows, relief) at the scar's scale, so a scar must stand
//! `u(σ)` of them out of it: `scars.min_snr` (3, the 3-sigma limit of detection, Currie 1968)
//! at the largest scale σ_max, and at a smaller scale the limit that lets through as many
//! texture blobs per cm² (a zone holds about A / σ² independent positions at scale σ):
//! `u² − 2 ln u = k² − 2 ln k + 4 ln(σ_max / σ)`, the Euler-characteristic density of a
//! Gaussian random field held constant ([`crate::imgops::blobs`], "False alarms across
//! scales"; 3.9 at a 1.5 mm scar, 4.4 at a 0.5 mm one). With one k at every scale
//! (`skintex validate`, 2026-12-07) the training set had 18 false scars, 11 with it, for the
//! same 138 true scars found (F1 0.879 -> 0.893; clean skin 0.15 -> 0.05 false scars per
//! 10 cm²); the validation set 34 and 17, 130 true scars found instead of 132 (F1 0.830 ->
//! 0.850; clean skin 0.46 -> 0.10 per 10 cm²). Non-maximum suppression across
//! space and scale: candidates in decreasing R; a candidate is dropped when an accepted one
//! whose σ is within a factor 2 (one octave) of its own lies within `max(r_a, r_b)`,
//! `r = √2·σ`. Blobs more than an octave apart are different structures (a pore inside a
//! rolling scar is often darker than the scar; it must not suppress it).
//!
//! # Segment and profile
//! In a window of radius `3r` around a candidate, `z_c = z • B_{r/4}` (grey-scale closing with a
//! flat square of half-width `⌊r/4⌋` px, see [`crate::imgops::morphology`]: it fills dark
//! texture narrower than half the candidate's radius, pores, furrows and hairs in and around
//! it, which would otherwise pull the floor down to a pore and let the half-depth segment leak
//! from pore to pore; a flat floor is unchanged, a cone keeps about 2/3 of its depth: the
//! square's corners reach 0.35 r from its tip) and
//! `z_s = G_{0.2 r} ∗ z_c`:
//! ```text
//! S  = median of z_s over the ring 1.5 r ≤ ρ ≤ 2.5 r             surround level
//! F  = min of z_s within ρ ≤ 0.5 r                                floor
//! D  = S − F                                                      peak contrast
//! segment = 4-connected component of { z_s < S − D/2 } holding the floor pixel (half depth)
//! depth   = S − mean_segment(z_s)                                 mean depression contrast
//! flatness  = |{ z_s ≤ F + D/4 } ∩ segment| / |segment|            floor flatness (reported)
//! steepness = mean_rim |∇z_s| · sqrt(|segment| / π) / D            wall steepness
//! P(ρ) = mean of z_c over the ring of radius ρ about the segment centroid (bins of 0.5 px)
//! R_rim = smallest ρ with P(ρ) ≥ S − 0.15 D (linear interpolation between bins)
//! d = 2 · R_rim   [mm]                                            rim diameter
//! OD_c = ln(mean_ring(c) / mean_segment(c)), c ∈ {R, B} linear     optical density
//! ```
//! The half-depth segment of a V (cone) or a raised-cosine profile is only half the rim width,
//! so the reported diameter is the rim of the angular-mean profile (where it is back within
//! 15 % of the depth from the surround): a cone gives 0.85 of its rim diameter, a raised cosine
//! 0.75, a flat-floored pit ≈ 1 (before camera blur, which widens). A cone gives steepness 0.5,
//! a raised-cosine bowl 0.6, a flat-floored pit with sharp walls > 1.5.
//!
//! Rejected: `depth < scars.min_depth`; steepness < 0.3 (noise specks); a profile that never
//! returns to the surround; a depression not closed on every side (along each of 8 rays, the
//! mean of z_s between 1.5 and 2.5 half-depth radii must rise above the profile floor by half
//! the profile depth: a wrinkle's end or a groove stays low along its length);
//! a width at half depth below `scars.min_fwhm_mm`, or below `scars.pore_overlap_mm` (1 mm: a
//! pore or a cluster of touching enlarged pores, 0.25-0.4 mm each, widened by blur) with a peak
//! contrast below `scars.pore_contrast_factor` × the 99th percentile of the zone's pore
//! contrasts (when the zone has at least 10 pores): a depression no darker than the zone's own
//! pores cannot be told from them by shading, and the 99th percentile is the population's own
//! extreme (a multiple of the 90th assumes the shape of its tail: zones of deep, enlarged pores
//! have a long one); `d < 0.8 · min_diameter_mm` (pores, < 0.3 mm) or
//! `d > 1.25 · max_diameter_mm`; a segment touching its window or with axis ratio
//! `sqrt(μ_major / μ_minor) > scars.max_elongation` (second central moments; fine lines);
//! chromatic darkening `OD_B > scars.max_chroma_ratio · OD_R` with too little shading in it,
//! `g < scars.min_shading_od`: melanin absorbs blue several times more than red
//! (μa ∝ λ^−3.48, Jacques 2013: `k_R / k_B = (460/620)^3.48 = 0.353`, OD_B / OD_R = 2.8), while
//! shading darkens every channel by the same factor (OD_B = OD_R). Splitting
//! `OD_c = g + m·k_c` into a grey part and a melanin part,
//! `g = (k_B·OD_R − k_R·OD_B) / (k_B − k_R)`: a flat spot has g ≈ 0; a depression keeps a
//! large g even when its shadow is reddened (subsurface scattering fills a narrow pit's shadow
//! with red light, raising OD_B / OD_R to 2 on dark skin) or the scar is pigmented. That
//! escape holds only for a darkening at most `scars.reddened_shadow_max_mm` (2 mm) wide (width
//! at half depth; a rim's diameter): red light reaches a shadow from its lit edge over about
//! its transport length, so the middle of a wider shadow stays grey, and a wider chromatic
//! darkening is melanin whatever its `g` (a dark naevus keeps a large `g`, see the limits).
//! Candidates are segmented strongest first; one whose centre falls inside an accepted scar's
//! rim disk is a duplicate. Once the zone's fine lines are known, a scar centred within its rim
//! radius plus half a line's width of one of that line's two tips is dropped as the line's end
//! cap ([`ScarDetection::drop_line_ends`]; the lines' step 6 drops the lines that are a scar's
//! wall first).
//!
//! # Rims: steep-walled pits whose floor is not dark ([`rims`])
//! A pit with steep walls and a flat floor (a boxcar scar) is not always a dark disk. Its
//! floor faces the camera as the skin around it does and is lit like it; what the light shows
//! is the wall: under coaxial (ring-flash) light both walls darken (a slope s darkens a
//! Lambertian surface by about s²/2, a steep wall by most of its light), a dark ring around a
//! floor near the skin's level; under oblique light the wall nearer the light faces away from
//! it and darkens while the opposite wall faces it and brightens, a dark and a lit crescent.
//! The LoG sees neither at the pit's centre (a ring's centre is not darker than its surround
//! at the pit's scale, two opposite crescents sum to zero there), and a crescent's half-depth
//! segment is not closed on every side. What every light leaves is a closed curve of strong
//! shading change, the wall, around a floor lighter than the wall. So, after the blobs, on
//! the same base grid, with `z_w = G_1 ∗ z` (1 px, the wall's own scale):
//! ```text
//! M = |∇z_w| (central differences);  E = G_1.5 ∗ M           wall energy (merges a dark
//!                                                             wall's two flanks)
//! votes: each pixel with M ≥ 2 · median M votes, weight M, for the centres p ± r·∇z_w/M
//!        at radii r from boxcar_min_diameter_mm / 2 to max_diameter_mm / 2 (4 per octave):
//!        a wall's gradient points along the radius, in or out whichever way the light falls
//!        (fast radial symmetry, Loy and Zelinsky 2003)
//! A_r = (G_{0.15 r} ∗ votes_r) · (0.15 r)² / (r · median M)  vote density per rim length
//! ```
//! Candidates are the local maxima (3 × 3) of `A_r` of at least 3, strongest first, each
//! examined along 32 rays from its centre (bilinear samples every 0.5 px):
//! ```text
//! ρ_a = argmax E over 0.5 r ≤ ρ ≤ 1.5 r, e_a = that maximum    wall radius and strength
//! SNR = min over 8 sectors of median of its 4 rays' e_a / median E   closed on every side
//! ρ_a ≈ c₀ + c₁ cos φ + s₁ sin φ + c₂ cos 2φ + s₂ sin 2φ       least squares (Fourier)
//! misfit = 1.4826 · median |ρ_a − fit| / c₀                    a smooth closed curve
//! centre += (c₁, s₁);  d = 2 c₀;  elongation = (c₀ + a₂) / (c₀ − a₂),  a₂ = √(c₂² + s₂²)
//! S = median of z_w over 1.3 ρ_a ≤ ρ ≤ 1.8 ρ_a                 surround
//! F = median of z_w over ρ < 0.6 ρ_a                           floor
//! W = median over rays of max |z_w − S| over 0.75-1.25 ρ_a     wall contrast (dark or lit)
//! step = (S − F) / W                                           floor darkening per wall's
//! depth = S − mean of z_w inside c₀;  steepness = mean e_a · c₀ / W
//! ```
//! A rim is a scar when `SNR ≥ scars.min_rim_snr`, `misfit ≤ 0.1` (an ellipse fits exactly;
//! where the strongest wall along each ray jumps between pores, furrows or hairs, it does not:
//! without this test the training set's false scars went from 22 to 145 for one more scar
//! found), `W ≥ scars.min_depth`,
//! `step ≤ 0.85` (a floor as dark as its wall is a dark disk: a pigmented spot, or a pit the
//! blobs already judged) and `step ≥ −0.25` (the floor, partly shaded by the walls, gets at
//! most the surround's light, a hypopigmented one a little more; a ring around something
//! bright, a light hair's loop or glare, is not a pit: on the training set this took 2 false
//! scars and no true one, on the validation set 2 false and no true one), its centre is not
//! inside an accepted scar, its elongation is at most `scars.max_elongation`, its diameter
//! within the blobs' bounds, and its darkening (inside the rim against the ring 1.3-1.8 c₀)
//! is not pigment (the test below). Nearby
//! candidates: one whose centre lies within `max(c₀, r)` of an accepted rim is skipped.
//! `min_rim_snr` 2.5 was chosen on the training phantoms (3.0: 3 scars fewer found, 1 false
//! fewer; 2.25: as many found, 4 more false). With rims (`skintex validate`, 2026-12-07) the
//! training set's boxcars found went from 34 to 42 of 48 for 2 more false scars, detection
//! F1 0.847 -> 0.871; validation set 42 -> 47 of 54 for 1 more false, F1 0.806 -> 0.822. A
//! rim's wall is no longer also counted as a fine line (the lines' step 6): the validation
//! set's median line length error went from 16.2 % to 14.3 % (training set unchanged,
//! 22.9 %). Cost: the scars stage of a 12 MP close-up 335 -> about 610 ms
//! (benches/README.md).
//!
//! # Type (Jacob et al. 2001)
//! ```text
//! rolling  d > boxcar_max (5 mm)
//! icepick  d < boxcar_min (1.5 mm)
//! boxcar   otherwise, when steepness ≥ min_boxcar_steepness (steep walls, flat floor)
//! icepick  otherwise, when d < icepick_max (2 mm)       (sloped walls: V profile)
//! rolling  otherwise                                     (sloped walls, wide: smooth bowl)
//! ```
//! Profile shape resolves the overlapping size ranges (1.5-2 mm: icepick or boxcar; 4-5 mm:
//! boxcar or rolling).
//!
//! # Zone values
//! ```text
//! count = N;  density = N / A_zone[cm²];  area_fraction = |∪ rim disks ∩ zone| / |zone|
//! mean_diameter = mean d [mm];  mean_depth = mean depth (unitless, > 0)
//! ```
//! With no scar, counts and area fraction are measured zeros; mean diameter and depth are
//! missing. An empty zone makes every value missing.
//!
//! # Limits (measured on the training phantoms, `skintex validate --training`)
//! Recall by type (docs/VALIDATION.md, "Scars by type", has the same table for the validation
//! set): icepick 71 of 75, boxcar 43 of 48, rolling 24 of 38. Most misses are not rejected
//! candidates but depressions whose shading stands too little above the skin's own texture
//! ([`detectability`] below 1; the validation report counts them apart):
//! - a rolling scar (4-6 mm, 0.1-0.3 mm deep): its slopes are a few degrees, its shading at or
//!   below the skin's own texture at its scale (the LoG SNR at the true centre of 12 of the 13
//!   missed is 0.2-2.4, where the detection needs 3); found 3 of 8 under ring flash, 9 of 17
//!   under light at 45-70°, 13 of 13 at 20-45°. Nor does the light's direction help: under an
//!   oblique light a shallow bowl shades as a dipole, whose matched filter is the first
//!   Gaussian derivative of z along the light's azimuth at the bowl's scale; given the true
//!   azimuth, it stands 0.0-2.8 robust SDs above the texture at the centres of the 8 rolling
//!   scars missed under light at 45-70° (LoG 1.2-2.4 at 7 of them, the eighth a candidate
//!   rejected at its segmentation; 2026-12-07), so a dipole detector would
//!   not find them either;
//! - a steep-walled pit whose wall is weak in one sector: 0.10-0.16 mm deep (4 of the 6 missed
//!   boxcars), or on skin whose furrow network shades as strongly as the wall in places (a
//!   boxcar 0.48 mm deep on Fitzpatrick VI skin lit at 66°: wall contrast 0.40, weakest
//!   sector 2.0 texture levels, where a rim needs 2.5).
//!
//! Dark naevi (melanin OD 0.8-1.6) were 4 of the 20 false scars on the training set before
//! rims were added, and 4 of its 8 wider than 2 mm: their measured `OD_B / OD_R` is 1.3-2.1, not melanin's 2.8, since the
//! surface (Fresnel, sebum) reflection adds light that melanin does not absorb, a larger share
//! where the diffuse light is weakest (blue); 7 of 49 training naevi keep a grey part `g` above
//! `min_shading_od`. Judging a darkening wider than `reddened_shadow_max_mm` by its colour
//! alone (`skintex validate`, 2026-12-07) took 4 of the training set's 22 false scars (naevi
//! 2.6-3.6 mm wide at half depth, OD_B / OD_R 1.71-1.99) and no true scar (those that wide
//! measure 0.8-1.57), detection F1 0.871 -> 0.879; on the validation set 3 false scars
//! (naevi, 1.84-2.00) and no true one, F1 0.822 -> 0.830. The width is the width at half
//! depth, not the rim diameter: a reddened icepick shadow (validation: a 1.17 mm icepick,
//! 1.44 mm at half depth, 3 mm at its rim, OD_B / OD_R 1.93) is narrow where it is dark.
//!
//! Measured and not used: `min_snr` 2 (training: 2 more scars found, 34 more false ones);
//! testing closure also about the LoG centre on the surround ring (training: 3 more found, none
//! false; validation: none more found, 4 more false); suppressing a candidate only by accepted
//! scars, not by a stronger candidate that is then rejected (a crescent hiding the pit's own
//! blob; training: 5 more found, 2 more false; validation: 2 more found, 4 more false, F1 0.782
//! against 0.784); linear shape from shading (Pentland 1990: z integrated along the light
//! azimuth, Fourier-regularised) before the LoG (SNR at the true centres of two steep-walled
//! pits 5.8 and 8.2 against 5.5 and 12.0 on z, of two icepicks 11.4 and 12.6 against 17.9 and
//! 17.0: the 1/ω integration amplifies low-frequency texture; integrating over 4σ only, or the
//! first Gaussian derivative along the light, is weaker than the LoG of z at the true centres of
//! 100 and 93 of the 104 scars under oblique light); a dichromatic fit of the darkening (a
//! surface term chosen so that the three channels' optical densities are collinear in melanin's
//! absorption) takes every naevus below `min_shading_od` but 35 of 75 icepicks too (their
//! reddened shadows are not collinear either).
//!
//! References: S. L. Jacques, "Optical properties of biological tissues: a review", Phys. Med.
//! Biol. 58 (2013) R37-R61, doi:10.1088/0031-9155/58/11/R37. L. A. Currie, "Limits for
//! qualitative detection and quantitative determination", Anal. Chem. 40 (1968) 586-593,
//! doi:10.1021/ac60259a007. T. Lindeberg, "Feature detection with automatic scale selection",
//! IJCV 30 (1998) 79-116, doi:10.1023/A:1008045108935. C. I. Jacob, J. S. Dover, M. S. Kaminer, "Acne scarring:
//! a classification system and review of treatment options", J Am Acad Dermatol 45 (2001) 109-117,
//! doi:10.1067/mjd.2001.113451. A. P. Pentland, "Linear shape from shading", Int. J.
//! Comput. Vision 4 (1990) 153-162. G. Loy, A. Zelinsky, "Fast radial symmetry for detecting
//! points of interest", IEEE TPAMI 25 (2003) 959-973, doi:10.1109/TPAMI.2003.1217601.

use ndarray::{Array2, s};

use super::height::{ISO_GAUSSIAN_SIGMA_PER_CUTOFF, PseudoHeight, masked_local_mean};
use super::pores::PoreRecord;
use super::{ColumnSpec, MetricValue, Missing, all_missing};
use crate::config::ScarsParams;
use crate::imgops::blobs::{
    Blob as Candidate, MIN_LEVEL_SIGMA, SqrtBound, equal_false_alarm_snr, log_blobs, log_scales,
    log_snr_near,
};
use crate::imgops::gaussian::gaussian_blur;
use crate::imgops::morphology::closing_square;
use crate::imgops::radial::{closed_on_every_side, disk_window, profile_crossing, radial_profile};
use crate::input::colour::ColourPlanes;
use crate::segment::Zone;

use super::spec;

pub mod rims;

/// The columns of the scars family, in output order.
pub const COLUMNS: &[ColumnSpec] = &[
    spec(
        "scars_count",
        "1",
        "Number of detected atrophic scars: round dark depressions of the relative luminance \
         (scale-normalised Laplacian-of-Gaussian blobs over diameters scars.min_diameter_mm to \
         scars.max_diameter_mm, default 0.5-6 mm), after rejecting pores (< 0.8 x min diameter, \
         or narrower than scars.pore_overlap_mm at half depth and no darker than the zone's own \
         pores), depressions not closed on every side (wrinkle ends, grooves), elongated shapes \
         (fine lines) and chromatic darkening without shading (pigmented spots); plus \
         steep-walled pits found by their closed wall (a dark ring, or a dark and a lit \
         crescent, around a floor lighter than the wall; scars.min_rim_snr). A depression \
         centred at the end of a detected fine line (within its radius plus half the line's \
         width of the line's tip) is the line's own end cap and is not counted.",
    ),
    spec(
        "scars_density_per_cm2",
        "1/cm2",
        "scars_count divided by the zone area in cm2.",
    ),
    spec(
        "scars_area_fraction",
        "1",
        "Fraction of the zone covered by scars (union of the disks of rim diameter), 0-1.",
    ),
    spec(
        "scars_mean_diameter_mm",
        "mm",
        "Mean scar rim diameter: twice the radius at which the angular-mean radial profile of \
         relative luminance returns to within 15 % of the depth from the surround (for a scar \
         found by its wall, twice the wall's mean radius). Empty when no scar is detected.",
    ),
    spec(
        "scars_icepick",
        "1",
        "Number of icepick scars (Jacob 2001): rim diameter < 1.5 mm, or < 2 mm with sloped \
         (V-shaped) walls (wall steepness < scars.min_boxcar_steepness).",
    ),
    spec(
        "scars_boxcar",
        "1",
        "Number of boxcar scars (Jacob 2001): rim diameter 1.5-5 mm with steep walls (wall \
         steepness >= scars.min_boxcar_steepness, default 1.1).",
    ),
    spec(
        "scars_rolling",
        "1",
        "Number of rolling scars (Jacob 2001): rim diameter > 5 mm, or >= 2 mm with sloped, \
         smooth walls (wall steepness < scars.min_boxcar_steepness). A shallow rolling scar \
         barely shades under diffuse (ring-flash) light and is often missed there: see \
         the table Scars by type in docs/VALIDATION.md for the recall measured per light.",
    ),
    spec(
        "scars_mean_depth",
        "1",
        "Mean over scars of the depression contrast: surround relative luminance (median over a \
         ring at 1.5-2.5 radii) minus the mean relative luminance inside the segment; unitless \
         fraction of the local mean luminance, positive. A shading proxy, not a depth in mm. \
         Empty when no scar is detected.",
    ),
];

/// Jacob et al. (2001) atrophic scar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScarKind {
    Icepick,
    Boxcar,
    Rolling,
}

impl ScarKind {
    /// Every type, in the order of the `scars_icepick` … `scars_rolling` columns.
    pub const ALL: [ScarKind; 3] = [Self::Icepick, Self::Boxcar, Self::Rolling];

    pub fn label(self) -> &'static str {
        match self {
            Self::Icepick => "icepick",
            Self::Boxcar => "boxcar",
            Self::Rolling => "rolling",
        }
    }
}

/// One detected scar, for `scars.csv` and the QC picture.
#[derive(Debug, Clone, PartialEq)]
pub struct ScarRecord {
    /// Centre (half-depth segment centroid) in image coordinates (zone bounding-box origin
    /// added), px.
    pub x_px: f64,
    pub y_px: f64,
    /// Rim diameter (see the module doc), mm.
    pub diameter_mm: f64,
    /// Area of the rim disk π·d²/4, mm2.
    pub area_mm2: f64,
    pub kind: ScarKind,
    /// Depression contrast relative to the surround (unitless, positive): surround minus mean
    /// relative luminance inside the segment.
    pub depth: f64,
    /// Floor flatness: fraction of the segment within 25 % of the depth from the minimum.
    pub flatness: f64,
    /// Wall steepness: mean rim gradient × equivalent radius / peak depth.
    pub steepness: f64,
    /// Width at half depth of the angular-mean profile, mm.
    pub fwhm_mm: f64,
    /// Peak contrast (surround minus floor), pseudo-height units.
    pub contrast: f64,
    /// Axis ratio of the half-depth segment.
    pub elongation: f64,
    /// OD_B / OD_R of the darkening (NaN when not defined).
    pub chroma_ratio: f64,
    /// Grey (shading) part of the darkening's optical density, `(k_B·OD_R − k_R·OD_B) /
    /// (k_B − k_R)` (NaN when not defined).
    pub shading_od: f64,
    /// Contrast a pore-sized depression had to exceed in this zone (NaN without a pore
    /// population).
    pub pore_level: f64,
    /// What decided a scar found by its wall ([`rims`]); None for a blob.
    pub rim: Option<RimEvidence>,
}

/// What decided a scar found by its wall (see the module doc, section Rims).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RimEvidence {
    /// The wall's energy in its weakest sector, in units of its median over the zone.
    pub snr: f64,
    /// Robust misfit of the wall to a smooth closed curve, per radius.
    pub misfit: f64,
    /// The floor's darkening per wall contrast.
    pub step: f64,
}

/// What both detectors measure of an accepted depression (see [`ScarRecord`]).
struct Shape {
    diameter_mm: f64,
    depth: f64,
    steepness: f64,
    contrast: f64,
    elongation: f64,
}

impl ScarRecord {
    /// A scar at `(x_px, y_px)` (image px) with the fields both detectors fill alike: its
    /// shape, type and darkening. The detector-specific ones are undefined (NaN, `rim` None)
    /// for the caller to set.
    fn new(
        (x_px, y_px): (f64, f64),
        shape: &Shape,
        darkening: Option<Darkening>,
        params: &ScarsParams,
    ) -> Self {
        let d = shape.diameter_mm;
        ScarRecord {
            x_px,
            y_px,
            diameter_mm: d,
            area_mm2: std::f64::consts::FRAC_PI_4 * d * d,
            kind: classify(d, shape.steepness, params),
            depth: shape.depth,
            flatness: f64::NAN,
            steepness: shape.steepness,
            fwhm_mm: f64::NAN,
            contrast: shape.contrast,
            elongation: shape.elongation,
            chroma_ratio: darkening.map_or(f64::NAN, |d| d.chroma_ratio()),
            shading_od: darkening.map_or(f64::NAN, |d| d.shading_od()),
            pore_level: f64::NAN,
            rim: None,
        }
    }

    /// The detector that found it.
    pub fn found_by(&self) -> ScarDetector {
        if self.rim.is_some() {
            ScarDetector::Rim
        } else {
            ScarDetector::Blob
        }
    }
}

/// The detector that found a scar (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScarDetector {
    /// A dark round depression: a scale-normalised LoG blob, segmented at half depth.
    Blob,
    /// A steep-walled pit found by its closed wall ([`rims`]).
    Rim,
}

impl ScarDetector {
    pub fn label(self) -> &'static str {
        match self {
            Self::Blob => "blob",
            Self::Rim => "rim",
        }
    }
}

/// Scales per octave of σ.
const SCALES_PER_OCTAVE: f64 = 3.0;
/// Measured diameters below this fraction of `min_diameter_mm` are pores, not scars.
const PORE_FRACTION: f64 = 0.8;
/// Segments with a wall steepness below this are noise specks or shallow line pieces (a cone,
/// the least steep scar profile, gives 0.5).
const MIN_STEEPNESS: f64 = 0.3;
/// Radial-profile bin width, base px.
const PROFILE_BIN_PX: f64 = 0.5;
/// The rim is where the radial profile is back within this fraction of the depth from the
/// surround.
const RIM_FRACTION: f64 = 0.15;
/// Fewest pores for a zone to have a pore population to compare small depressions with.
const MIN_PORE_POPULATION: usize = 10;
/// Candidates suppress each other only within one octave of σ: a rolling scar holding pores
/// (smaller, often darker blobs) is a structure of its own scale.
const NMS_SCALE_RATIO: f64 = 2.0;
/// Half-width of the closing's square as a fraction of a candidate's radius r: dark texture
/// narrower than about r/2 (pores, furrows, hairs inside or beside it) is closed away before
/// the candidate is segmented and profiled.
const CLOSING_FRACTION: f64 = 0.25;
/// Measured diameters above this multiple of `max_diameter_mm` are not scars.
const OVERSIZE_FACTOR: f64 = 1.25;

/// Measure the scars family; values align with [`COLUMNS`]. (In a zone's measurement the
/// scars at a fine line's end are dropped between [`detect`] and [`summarise`]; see
/// [`ScarDetection::drop_line_ends`].)
pub fn measure(
    planes: &ColourPlanes,
    zone: &Zone,
    height: &PseudoHeight,
    pores: &[PoreRecord],
    params: &ScarsParams,
) -> (Vec<MetricValue>, Vec<ScarRecord>) {
    summarise(height, detect(planes, zone, height, pores, params))
}

/// The scars of one zone before the fine lines are known, with the disks their area is made of.
#[derive(Debug, Clone)]
pub struct ScarDetection {
    /// Scars, sorted by position (y, then x), each with its rim disk on the base grid,
    /// (column, row, radius) in base px.
    scars: Vec<(ScarRecord, Disk)>,
    /// Base-grid decimation (image px per base px) and the base grid's (rows, columns).
    f0: usize,
    base_dim: (usize, usize),
}

/// A rim disk on the base grid: (column, row, radius), base px.
type Disk = (f64, f64, f64);

impl ScarDetection {
    /// The scars, sorted by position (y, then x).
    pub fn scars(&self) -> impl Iterator<Item = &ScarRecord> {
        self.scars.iter().map(|(s, _)| s)
    }

    /// Drop the scars at the end of a fine line: a scar whose centre lies within its rim
    /// radius plus half the line's width of one of a line's two tips (`tips`: image x, y and the
    /// line's half width, px) is the line's own end. A valley that ends (a wrinkle tapering out,
    /// or a line cut where a hair crossed it) closes with a rounded cap that is a depression on
    /// every side, as dark as the valley and about as wide: the blob detector finds it, with a
    /// round enough Hessian, but it is part of the line, which counts its length. A scar the
    /// line merely passes through or by is kept (its centre is not at a tip). Measured on the
    /// phantoms (2026-12-07): 3 false scars fewer on each of the training and validation sets, no
    /// true scar lost (the generator never ends a wrinkle at a scar, so the cost of the rule on
    /// skin where one does is not measured there).
    pub fn drop_line_ends(&mut self, tips: &[(f64, f64, f64)], px_per_mm: f64) {
        if tips.is_empty() {
            return;
        }
        self.scars.retain(|(s, _)| {
            let r = 0.5 * s.diameter_mm * px_per_mm;
            !tips
                .iter()
                .any(|&(x, y, half)| (x - s.x_px).hypot(y - s.y_px) <= r + half)
        });
    }

    /// Full-resolution pixels of the zone under the union of the scars' rim disks.
    fn covered_px(&self, mask: &Array2<bool>) -> f64 {
        let mut covered = Array2::<bool>::from_elem(self.base_dim, false);
        for &(_, (cx, cy, r)) in &self.scars {
            paint_disk(&mut covered, cx, cy, r);
        }
        let f0 = self.f0;
        let (h, w) = mask.dim();
        let mut n = 0usize;
        for (r, row) in covered.outer_iter().enumerate() {
            for (col, &cov) in row.iter().enumerate() {
                if !cov {
                    continue;
                }
                for y in r * f0..((r + 1) * f0).min(h) {
                    for x in col * f0..((col + 1) * f0).min(w) {
                        n += usize::from(mask[[y, x]]);
                    }
                }
            }
        }
        n as f64
    }
}

/// The scars family's values (aligned with [`COLUMNS`]) and records of a detection.
pub fn summarise(
    height: &PseudoHeight,
    detection: Result<ScarDetection, Missing>,
) -> (Vec<MetricValue>, Vec<ScarRecord>) {
    let det = match detection {
        Ok(det) => det,
        Err(missing) => return (all_missing(COLUMNS.len(), &missing.0), Vec::new()),
    };
    let zone_px = height.area_px();
    let covered_px = det.covered_px(&height.mask);
    let scars: Vec<ScarRecord> = det.scars.into_iter().map(|(s, _)| s).collect();
    let px_per_mm = height.px_per_mm;
    let zone_cm2 = zone_px as f64 / (px_per_mm * px_per_mm) / 100.0;
    let n = scars.len() as f64;
    let count_of = |k: ScarKind| scars.iter().filter(|s| s.kind == k).count() as f64;
    let none = || Err(Missing::new("no scars detected"));
    let mean = |f: fn(&ScarRecord) -> f64| {
        if scars.is_empty() {
            none()
        } else {
            Ok(scars.iter().map(f).sum::<f64>() / n)
        }
    };
    let values = vec![
        Ok(n),
        Ok(n / zone_cm2),
        Ok(covered_px / zone_px as f64),
        mean(|s| s.diameter_mm),
        Ok(count_of(ScarKind::Icepick)),
        Ok(count_of(ScarKind::Boxcar)),
        Ok(count_of(ScarKind::Rolling)),
        mean(|s| s.depth),
    ];
    (values, scars)
}

/// Detect, segment, filter and classify the scars of one zone (image coordinates), or why
/// there are none to look for (an empty zone).
pub fn detect(
    planes: &ColourPlanes,
    zone: &Zone,
    height: &PseudoHeight,
    pores: &[PoreRecord],
    params: &ScarsParams,
) -> Result<ScarDetection, Missing> {
    if height.area_px() == 0 {
        return Err(Missing::new("empty zone"));
    }
    let ppm = height.px_per_mm;
    let Signal {
        z,
        mask,
        f0,
        s_min,
        s_max,
    } = Signal::of(planes, height, params);
    let sigmas = log_scales(s_min, s_max, SCALES_PER_OCTAVE);
    let candidates = log_blobs(
        &z,
        &mask,
        &sigmas,
        params.min_response as f32,
        params.min_roundness as f32,
        &|sigma| equal_false_alarm_snr(params.min_snr, sigma, s_max) as f32,
        NMS_SCALE_RATIO,
    );
    let pore_level = pore_population_level(pores, params);

    // Segment each candidate, strongest first; a candidate whose centre falls inside an
    // accepted segment is a duplicate.
    let mut covered = Array2::<bool>::from_elem(z.raw_dim(), false);
    let mut scars: Vec<(ScarRecord, Disk)> = Vec::new();
    let base_mm = f0 as f64 / ppm;
    // Base-grid position -> image coordinates (the block's centre, zone origin added).
    let half = (f0 as f64 - 1.0) / 2.0;
    let to_image = |cx: f64, cy: f64| {
        (
            zone.mask.x0 as f64 + cx * f0 as f64 + half,
            zone.mask.y0 as f64 + cy * f0 as f64 + half,
        )
    };
    for c in &candidates {
        if covered[[c.y, c.x]] {
            continue;
        }
        let Some(seg) = segment_candidate(&z, &mask, c, params, base_mm) else {
            continue;
        };
        // Pore-sized: narrower at half depth than any scar, or within the pores' size range
        // and no darker than the zone's own pores.
        if seg.fwhm_mm < params.min_fwhm_mm {
            continue;
        }
        if seg.fwhm_mm < params.pore_overlap_mm && pore_level.is_some_and(|l| seg.contrast < l) {
            continue;
        }
        let darkening = Darkening::of(planes, zone, f0, (&seg.pixels, &seg.ring));
        if darkening.is_some_and(|d| d.is_pigment(params, seg.fwhm_mm)) {
            continue;
        }
        paint_disk(&mut covered, seg.cx, seg.cy, seg.rim_px);
        let shape = Shape {
            diameter_mm: seg.diameter_mm,
            depth: seg.depth,
            steepness: seg.steepness,
            contrast: seg.contrast,
            elongation: seg.elongation,
        };
        scars.push((
            ScarRecord {
                flatness: seg.flatness,
                fwhm_mm: seg.fwhm_mm,
                pore_level: pore_level.unwrap_or(f64::NAN),
                ..ScarRecord::new(to_image(seg.cx, seg.cy), &shape, darkening, params)
            },
            (seg.cx, seg.cy, seg.rim_px),
        ));
    }
    // Steep-walled pits whose floor is not dark (rims.rs), where no blob was accepted.
    let rim_radii = (
        0.5 * params.boxcar_min_diameter_mm * ppm / f0 as f64,
        0.5 * params.max_diameter_mm * ppm / f0 as f64,
    );
    for rim in rims::find_rims(&z, &mask, rim_radii, params.min_rim_snr, params.min_depth) {
        let (ci, cj) = (rim.cy.round() as usize, rim.cx.round() as usize);
        if covered.get((ci, cj)).is_none_or(|&c| c) {
            continue;
        }
        let d = 2.0 * rim.radius_px * base_mm;
        if d < PORE_FRACTION * params.min_diameter_mm
            || d > OVERSIZE_FACTOR * params.max_diameter_mm
            || rim.elongation > params.max_elongation
        {
            continue;
        }
        let darkening = Darkening::of(planes, zone, f0, (&rim.pixels, &rim.ring));
        if darkening.is_some_and(|dark| dark.is_pigment(params, d)) {
            continue;
        }
        paint_disk(&mut covered, rim.cx, rim.cy, rim.radius_px);
        let shape = Shape {
            diameter_mm: d,
            depth: rim.depth,
            steepness: rim.steepness,
            contrast: rim.contrast,
            elongation: rim.elongation,
        };
        scars.push((
            ScarRecord {
                rim: Some(rim.evidence),
                ..ScarRecord::new(to_image(rim.cx, rim.cy), &shape, darkening, params)
            },
            (rim.cx, rim.cy, rim.radius_px),
        ));
    }
    scars.sort_by(|(a, _), (b, _)| {
        (a.y_px, a.x_px)
            .partial_cmp(&(b.y_px, b.x_px))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(ScarDetection {
        scars,
        f0,
        base_dim: covered.dim(),
    })
}

/// The detection signal on the base grid (module doc, Signal): relative luminance `z`, the
/// zone mask, the decimation `f0` and the scale range in base px.
struct Signal {
    z: Array2<f32>,
    mask: Array2<bool>,
    f0: usize,
    s_min: f64,
    s_max: f64,
}

impl Signal {
    fn of(planes: &ColourPlanes, height: &PseudoHeight, params: &ScarsParams) -> Self {
        let ppm = height.px_per_mm;
        let sigma_min_px = sigma_of_diameter(params.min_diameter_mm) * ppm;
        let sigma_max_px = (sigma_of_diameter(params.max_diameter_mm) * ppm).max(sigma_min_px);
        let l0 = (sigma_min_px / MIN_LEVEL_SIGMA).log2().floor().max(0.0) as u32;
        let f0 = 1usize << l0;
        let (lum, mask) = box_decimate(planes, height, f0);
        let sigma_bg =
            (ISO_GAUSSIAN_SIGMA_PER_CUTOFF * params.background_cutoff_mm * ppm / f0 as f64) as f32;
        let local = masked_local_mean(&lum, &mask, sigma_bg);
        let mut z = Array2::<f32>::zeros(lum.raw_dim());
        ndarray::Zip::from(&mut z)
            .and(&lum)
            .and(&local)
            .and(&mask)
            .for_each(|z, &y, &m, &inside| {
                *z = if inside && m > 1e-6 { y / m - 1.0 } else { 0.0 };
            });
        Signal {
            z,
            mask,
            f0,
            s_min: sigma_min_px / f0 as f64,
            s_max: sigma_max_px / f0 as f64,
        }
    }
}

/// The LoG scale σ (same unit as `d`) at which a disk of diameter `d` responds most.
fn sigma_of_diameter(d: f64) -> f64 {
    d / (2.0 * std::f64::consts::SQRT_2)
}

/// How far above the detection limit each depression of `at` (centre in image px, diameter in
/// mm) stands in the zone's photo: the scale-normalised LoG response at its own scale
/// `σ = d / (2√2)`, largest within a quarter diameter of its centre, in robust SDs of the
/// zone's response at that scale, over the limit `u(σ)` the detector applies there (module
/// doc, Detection). Below 1 the depression shades less than the skin's own texture at its
/// scale lets the detector see; NaN when not defined (a zone with no spread of the response).
/// For validation against a ground truth.
pub fn detectability(
    planes: &ColourPlanes,
    zone: &Zone,
    height: &PseudoHeight,
    params: &ScarsParams,
    at: &[([f64; 2], f64)],
) -> Vec<f64> {
    let signal = Signal::of(planes, height, params);
    let base_px_per_mm = height.px_per_mm / signal.f0 as f64;
    let half = (signal.f0 as f64 - 1.0) / 2.0;
    at.iter()
        .map(|&([x, y], d_mm)| {
            let sigma = sigma_of_diameter(d_mm) * base_px_per_mm;
            let centre = (
                (x - zone.mask.x0 as f64 - half) / signal.f0 as f64,
                (y - zone.mask.y0 as f64 - half) / signal.f0 as f64,
            );
            let limit = equal_false_alarm_snr(params.min_snr, sigma, signal.s_max);
            let snr = log_snr_near(
                &signal.z,
                &signal.mask,
                sigma,
                centre,
                0.25 * d_mm * base_px_per_mm,
            );
            match snr {
                Some(snr) if limit > 0.0 => snr / limit,
                _ => f64::NAN,
            }
        })
        .collect()
}

/// Set the base-grid pixels whose centre lies within `radius` of `(cx, cy)`.
fn paint_disk(covered: &mut Array2<bool>, cx: f64, cy: f64, radius: f64) {
    let (rows, cols) = disk_window((cx, cy), radius, covered.dim());
    for i in rows {
        for j in cols.clone() {
            if (i as f64 - cy).powi(2) + (j as f64 - cx).powi(2) <= radius * radius {
                covered[[i, j]] = true;
            }
        }
    }
}

/// Type of a scar from its diameter and profile (rules in the module doc).
pub fn classify(diameter_mm: f64, steepness: f64, params: &ScarsParams) -> ScarKind {
    let steep = steepness >= params.min_boxcar_steepness;
    if diameter_mm > params.boxcar_max_diameter_mm {
        ScarKind::Rolling
    } else if diameter_mm < params.boxcar_min_diameter_mm {
        ScarKind::Icepick
    } else if steep {
        ScarKind::Boxcar
    } else if diameter_mm < params.icepick_max_diameter_mm {
        ScarKind::Icepick
    } else {
        ScarKind::Rolling
    }
}

/// Box-average the linear luminance `Y = 0.2126 R + 0.7152 G + 0.0722 B` of the pseudo-height's
/// bounding box (inside-mask pixels only) and majority-vote its mask over `f × f` blocks.
///
/// Y is computed one image row at a time from `planes`, so no full-resolution luminance plane
/// is held (the same f32 expression as [`super::height::pseudo_height`]).
fn box_decimate(
    planes: &ColourPlanes,
    height: &PseudoHeight,
    f: usize,
) -> (Array2<f32>, Array2<bool>) {
    let mask = &height.mask;
    let (h, w) = mask.dim();
    let luminance_row = |y: usize, out: &mut [f32]| {
        planes.luminance_row(height.y0 + y, height.x0, &mut out[..w]);
    };
    if f == 1 {
        let mut out = Array2::<f32>::zeros((h, w));
        for (y, mut row) in out.outer_iter_mut().enumerate() {
            luminance_row(y, row.as_slice_mut().expect("fresh standard-layout array"));
        }
        return (out, Array2::clone(mask));
    }
    let (hb, wb) = (h.div_ceil(f), w.div_ceil(f));
    let mut out = Array2::<f32>::zeros((hb, wb));
    let mut out_mask = Array2::<bool>::from_elem((hb, wb), false);
    // Per block row: sums in the same order as a raster scan (row by row, left to right).
    let (mut sum, mut inside) = (vec![0f32; wb], vec![0u32; wb]);
    let mut vrow = vec![0f32; w];
    for rb in 0..hb {
        sum.iter_mut().for_each(|v| *v = 0.0);
        inside.iter_mut().for_each(|v| *v = 0);
        let rows = rb * f..((rb + 1) * f).min(h);
        let block_rows = rows.len();
        for y in rows {
            luminance_row(y, &mut vrow);
            let mrow = mask.row(y);
            let mrow = mrow
                .as_slice()
                .map_or_else(|| mrow.to_vec().into(), std::borrow::Cow::Borrowed);
            let blocks = vrow.chunks(f).zip(mrow.chunks(f));
            for (((vs, ms), s), n) in blocks.zip(&mut sum).zip(&mut inside) {
                for (&v, &m) in vs.iter().zip(ms) {
                    if m {
                        *s += v;
                        *n += 1;
                    }
                }
            }
        }
        for cb in 0..wb {
            let n = inside[cb];
            let total = (block_rows * (((cb + 1) * f).min(w) - cb * f)) as u32;
            if n > 0 {
                out[[rb, cb]] = sum[cb] / n as f32;
            }
            out_mask[[rb, cb]] = 2 * n >= total && n > 0;
        }
    }
    (out, out_mask)
}

/// One scar's segment on the base grid.
struct Segment {
    /// (row, col) base-grid pixels.
    pixels: Vec<(usize, usize)>,
    /// Ring pixels used for the surround.
    ring: Vec<(usize, usize)>,
    /// Centroid, base px.
    cx: f64,
    cy: f64,
    /// Rim radius, base px.
    rim_px: f64,
    diameter_mm: f64,
    /// Width at half depth of the angular-mean profile, mm.
    fwhm_mm: f64,
    /// Peak contrast: surround minus floor.
    contrast: f64,
    /// Axis ratio of the half-depth segment.
    elongation: f64,
    depth: f64,
    flatness: f64,
    steepness: f64,
}

/// Segment a candidate at half depth and apply the shape tests; `None` when rejected.
fn segment_candidate(
    z: &Array2<f32>,
    mask: &Array2<bool>,
    c: &Candidate,
    params: &ScarsParams,
    base_mm: f64,
) -> Option<Segment> {
    let (h, w) = z.dim();
    let r = std::f64::consts::SQRT_2 * c.sigma;
    let half_win = (3.0 * r).ceil() as usize + 2;
    let (r0, r1) = (c.y.saturating_sub(half_win), (c.y + half_win + 1).min(h));
    let (c0, c1) = (c.x.saturating_sub(half_win), (c.x + half_win + 1).min(w));
    // Dark texture much narrower than the candidate (pores, furrows, hairs) would let the
    // half-depth segment leak into its neighbours and pull the floor down: close it away.
    let win = closing_square(
        z.slice(s![r0..r1, c0..c1]),
        (CLOSING_FRACTION * r).floor() as usize,
    );
    let win = win.view();
    let zs = gaussian_blur(win, (0.2 * r).max(0.5) as f32);
    let wmask = mask.slice(s![r0..r1, c0..c1]);
    let (cy, cx) = ((c.y - r0) as f64, (c.x - c0) as f64);
    // Squared distance to the candidate, compared with radii by `SqrtBound`
    // (same decisions as comparing its square root).
    let dist_sq = |i: usize, j: usize| {
        let (dy, dx) = (i as f64 - cy, j as f64 - cx);
        dy * dy + dx * dx
    };
    let (ring_in, ring_out, floor_r) = (
        SqrtBound::new(1.5 * r),
        SqrtBound::new(2.5 * r),
        SqrtBound::new(0.5 * r.max(1.0)),
    );

    let mut ring_vals = Vec::new();
    let mut ring = Vec::new();
    let mut floor = (f32::INFINITY, 0usize, 0usize);
    for ((i, j), &v) in zs.indexed_iter() {
        if !wmask[[i, j]] {
            continue;
        }
        let d2 = dist_sq(i, j);
        if !ring_in.closer(d2) && ring_out.within(d2) {
            ring_vals.push(v);
            ring.push((i + r0, j + c0));
        }
        if v < floor.0 && floor_r.within(d2) {
            floor = (v, i, j);
        }
    }
    if ring_vals.len() < 8 || !floor.0.is_finite() {
        return None;
    }
    let mid = ring_vals.len() / 2;
    let (_, &mut surround, _) = ring_vals.select_nth_unstable_by(mid, f32::total_cmp);
    let depth_peak = surround - floor.0;
    if depth_peak <= 0.0 || f64::from(depth_peak) < params.min_depth {
        return None;
    }
    let level = surround - 0.5 * depth_peak;

    // 4-connected region grow from the floor pixel.
    let (wh, ww) = zs.dim();
    let mut inside = Array2::<bool>::from_elem((wh, ww), false);
    let mut stack = vec![(floor.1, floor.2)];
    inside[[floor.1, floor.2]] = true;
    let mut pixels = Vec::new();
    let mut touches_border = false;
    while let Some((i, j)) = stack.pop() {
        pixels.push((i, j));
        if i == 0 || j == 0 || i + 1 == wh || j + 1 == ww {
            touches_border = true;
        }
        let nbrs = [
            (i.wrapping_sub(1), j),
            (i + 1, j),
            (i, j.wrapping_sub(1)),
            (i, j + 1),
        ];
        for (a, b) in nbrs {
            if a < wh && b < ww && !inside[[a, b]] && wmask[[a, b]] && zs[[a, b]] < level {
                inside[[a, b]] = true;
                stack.push((a, b));
            }
        }
    }
    if touches_border {
        return None;
    }
    let n = pixels.len() as f64;
    // Second central moments -> axis ratio.
    let (mut sy, mut sx) = (0.0, 0.0);
    for &(i, j) in &pixels {
        sy += i as f64;
        sx += j as f64;
    }
    let (my, mx) = (sy / n, sx / n);
    let (mut cyy, mut cxx, mut cxy) = (0.0, 0.0, 0.0);
    for &(i, j) in &pixels {
        let (dy, dx) = (i as f64 - my, j as f64 - mx);
        cyy += dy * dy;
        cxx += dx * dx;
        cxy += dx * dy;
    }
    // + 1/12: variance of a unit pixel, so that tiny segments are not called elongated.
    let (cyy, cxx, cxy) = (cyy / n + 1.0 / 12.0, cxx / n + 1.0 / 12.0, cxy / n);
    let disc = (0.25 * (cxx - cyy).powi(2) + cxy * cxy).sqrt();
    let major = 0.5 * (cxx + cyy) + disc;
    let minor = (0.5 * (cxx + cyy) - disc).max(1e-9);
    if (major / minor).sqrt() > params.max_elongation {
        return None;
    }

    let mean_inside = pixels
        .iter()
        .map(|&(i, j)| f64::from(zs[[i, j]]))
        .sum::<f64>()
        / n;
    let depth = f64::from(surround) - mean_inside;
    if depth < params.min_depth {
        return None;
    }
    let flat_level = floor.0 + 0.25 * depth_peak;
    let flatness = pixels
        .iter()
        .filter(|&&(i, j)| zs[[i, j]] <= flat_level)
        .count() as f64
        / n;
    // Rim: segment pixels with a 4-neighbour outside the segment.
    let (mut grad_sum, mut rim_n) = (0.0f64, 0usize);
    for &(i, j) in &pixels {
        let rim = !inside[[i - 1, j]]
            || !inside[[i + 1, j]]
            || !inside[[i, j - 1]]
            || !inside[[i, j + 1]];
        if rim {
            let gx = 0.5 * (zs[[i, j + 1]] - zs[[i, j - 1]]);
            let gy = 0.5 * (zs[[i + 1, j]] - zs[[i - 1, j]]);
            grad_sum += f64::from((gx * gx + gy * gy).sqrt());
            rim_n += 1;
        }
    }
    let radius_px = (n / std::f64::consts::PI).sqrt();
    let steepness = grad_sum / rim_n.max(1) as f64 * radius_px / f64::from(depth_peak);

    if steepness < MIN_STEEPNESS {
        return None;
    }
    // Rim: where the mean radial profile about the centroid rises back to within RIM_FRACTION
    // of the depth from the surround.
    let (wy, wx) = (my, mx);
    let max_rho = wy
        .min(wx)
        .min(wh as f64 - 1.0 - wy)
        .min(ww as f64 - 1.0 - wx);
    let nbins = (max_rho / PROFILE_BIN_PX).floor().max(1.0) as usize;
    // The unsmoothed map: angular averaging removes the noise without widening the profile.
    let profile = radial_profile(win, wmask, (wx, wy), nbins, PROFILE_BIN_PX);
    // Width at half depth of the angular-mean profile (its own depth: the profile's floor, not
    // the darkest pixel).
    let profile_floor = profile
        .iter()
        .take(((0.5 * r.max(1.0)) / PROFILE_BIN_PX).ceil() as usize + 1)
        .filter(|p| p.1 > 0)
        .map(|p| p.0)
        .fold(f64::INFINITY, f64::min);
    let half_level = 0.5 * (f64::from(surround) + profile_floor);
    let fwhm_px = 2.0 * profile_crossing(&profile, half_level, PROFILE_BIN_PX)?;
    // Closed on every side: a wrinkle's end or a broad groove stays low along its length.
    let profile_depth = f64::from(surround) - profile_floor;
    if !closed_on_every_side(
        zs.view(),
        wmask,
        (wx, wy),
        0.5 * fwhm_px,
        profile_floor,
        profile_depth,
    ) {
        return None;
    }
    let rim_level = f64::from(surround) - RIM_FRACTION * f64::from(depth_peak);
    // A profile that never comes back up is not a closed depression.
    let rim_px = profile_crossing(&profile, rim_level, PROFILE_BIN_PX)?;
    let rim_diameter_mm = 2.0 * rim_px * base_mm;
    if rim_diameter_mm < PORE_FRACTION * params.min_diameter_mm
        || rim_diameter_mm > OVERSIZE_FACTOR * params.max_diameter_mm
    {
        return None;
    }
    Some(Segment {
        pixels: pixels.into_iter().map(|(i, j)| (i + r0, j + c0)).collect(),
        ring,
        cx: mx + c0 as f64,
        cy: my + r0 as f64,
        rim_px,
        diameter_mm: rim_diameter_mm,
        fwhm_mm: fwhm_px * base_mm,
        contrast: f64::from(depth_peak),
        elongation: (major / minor).sqrt(),
        depth,
        flatness,
        steepness,
    })
}

/// A base-grid pixel (row, col).
type Pixel = (usize, usize);

/// Melanin's absorption relative to blue at the red channel: μa ∝ λ^−3.48 (Jacques 2013) at
/// 620 and 460 nm, `(460 / 620)^3.48`.
const MELANIN_RED_PER_BLUE: f64 = 0.353;

/// The darkening of a segment against its ring, as optical densities
/// `OD_c = ln(mean_ring(c) / mean_segment(c))` of linear red and blue.
#[derive(Debug, Clone, Copy)]
struct Darkening {
    od_r: f64,
    od_b: f64,
}

impl Darkening {
    /// The darkening of the base-grid pixels `inside` against those of `ring`; None when a
    /// mean is not positive.
    fn of(
        planes: &ColourPlanes,
        zone: &Zone,
        f0: usize,
        (inside, ring): (&[Pixel], &[Pixel]),
    ) -> Option<Self> {
        let (h, w) = (planes.height(), planes.width());
        let mean_rb = |pix: &[Pixel]| {
            let (mut sr, mut sb, mut n) = (0.0f64, 0.0f64, 0usize);
            for &(i, j) in pix {
                let y_start = zone.mask.y0 + i * f0;
                let x_start = zone.mask.x0 + j * f0;
                for y in y_start..(y_start + f0).min(h) {
                    for x in x_start..(x_start + f0).min(w) {
                        let [red, _, blue] = planes.linear_at(y, x);
                        sr += f64::from(red);
                        sb += f64::from(blue);
                        n += 1;
                    }
                }
            }
            (sr / n.max(1) as f64, sb / n.max(1) as f64)
        };
        let (r_in, b_in) = mean_rb(inside);
        let (r_out, b_out) = mean_rb(ring);
        if r_in <= 0.0 || b_in <= 0.0 || r_out <= 0.0 || b_out <= 0.0 {
            return None;
        }
        Some(Darkening {
            od_r: (r_out / r_in).ln(),
            od_b: (b_out / b_in).ln(),
        })
    }

    /// `OD_B / OD_R`: about 1 for shading, 2.8 for melanin; ∞ when blue darkens and red does
    /// not (pigment), NaN when neither darkens.
    fn chroma_ratio(self) -> f64 {
        if self.od_r > 0.0 {
            self.od_b / self.od_r
        } else if self.od_b > 0.0 {
            f64::INFINITY
        } else {
            f64::NAN
        }
    }

    /// The grey part `g` of `OD_c = g + m·k_c` (shading darkens every channel alike, melanin in
    /// proportion to its absorption `k`, `k_B = 1`, `k_R` = [`MELANIN_RED_PER_BLUE`]).
    fn shading_od(self) -> f64 {
        let k = MELANIN_RED_PER_BLUE;
        (self.od_r - k * self.od_b) / (1.0 - k)
    }

    /// A flat pigmented spot: chromatic (`OD_B / OD_R > scars.max_chroma_ratio`) and, when
    /// the darkening is at most `scars.reddened_shadow_max_mm` wide (`width_mm`), with too
    /// little shading in it (`g < scars.min_shading_od`) to be a reddened shadow.
    fn is_pigment(self, params: &ScarsParams, width_mm: f64) -> bool {
        let chromatic = self.chroma_ratio() > params.max_chroma_ratio;
        chromatic
            && (width_mm > params.reddened_shadow_max_mm
                || self.shading_od() < params.min_shading_od)
    }
}

/// The contrast a pore-sized depression must exceed to be a scar: `scars.pore_contrast_factor`
/// times the 99th percentile of the zone's pore contrasts (the population's own extreme,
/// whatever the shape of its tail), when the zone has at least `MIN_PORE_POPULATION` pores
/// (else None: no population to compare with).
fn pore_population_level(pores: &[PoreRecord], params: &ScarsParams) -> Option<f64> {
    if pores.len() < MIN_PORE_POPULATION {
        return None;
    }
    let mut d: Vec<f64> = pores.iter().map(|p| p.depth).collect();
    d.sort_by(f64::total_cmp);
    let q99 = d[(d.len() - 1) * 99 / 100];
    Some(params.pore_contrast_factor * q99)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scar at a line's tip (within its radius plus the line's half width) is the line's end
    /// cap and goes, with its disk; one that a line passes through, and one just beyond the
    /// reach of a tip, stay; the covered area is that of the scars kept.
    #[test]
    fn scars_at_a_line_tip_are_dropped_with_their_disks() {
        let scar = |x_px: f64, y_px: f64| ScarRecord {
            x_px,
            y_px,
            diameter_mm: 1.0,
            area_mm2: std::f64::consts::FRAC_PI_4,
            kind: ScarKind::Icepick,
            depth: 0.1,
            flatness: 0.5,
            steepness: 1.0,
            fwhm_mm: 0.6,
            contrast: 0.1,
            elongation: 1.0,
            chroma_ratio: f64::NAN,
            shading_od: f64::NAN,
            pore_level: f64::NAN,
            rim: None,
        };
        // 20 px/mm, f0 = 1: rim radius 10 px. Scars at x = 30 (the tip's), 100 (the line's
        // middle) and 182 (12 px beyond the other tip: out of reach of 10 + 1.5).
        let mut det = ScarDetection {
            scars: [30.0, 100.0, 182.0]
                .map(|x| (scar(x, 50.0), (x, 50.0, 10.0)))
                .to_vec(),
            f0: 1,
            base_dim: (100, 200),
        };
        let mask = Array2::from_elem((100, 200), true);
        let all = det.covered_px(&mask);
        // A line from x = 35 to 170 at y = 50, 0.15 mm wide (half width 1.5 px).
        det.drop_line_ends(&[(35.0, 50.0, 1.5), (170.0, 50.0, 1.5)], 20.0);
        let kept: Vec<f64> = det.scars().map(|s| s.x_px).collect();
        assert_eq!(kept, vec![100.0, 182.0]);
        let disks: Vec<f64> = det.scars.iter().map(|(_, d)| d.0).collect();
        assert_eq!(disks, vec![100.0, 182.0]);
        let two = det.covered_px(&mask);
        assert!((two / all - 2.0 / 3.0).abs() < 1e-9, "{two} of {all}");
    }

    /// The pore level follows the population's own extreme (its 99th percentile), not one
    /// outlier; fewer than `MIN_PORE_POPULATION` pores give no level.
    #[test]
    fn pore_level_is_a_multiple_of_the_populations_99th_percentile() {
        let p = ScarsParams::default();
        let pores = |depths: &[f64]| -> Vec<PoreRecord> {
            depths
                .iter()
                .map(|&depth| PoreRecord {
                    x_px: 0.0,
                    y_px: 0.0,
                    diameter_mm: 0.2,
                    depth,
                })
                .collect()
        };
        let even: Vec<f64> = (1..=100).map(|k| f64::from(k) / 100.0).collect();
        let level = pore_population_level(&pores(&even), &p).unwrap();
        assert!(
            (level - p.pore_contrast_factor * 0.99).abs() < 1e-12,
            "{level}"
        );
        let mut tail = vec![0.1; 99];
        tail.push(0.5);
        let level = pore_population_level(&pores(&tail), &p).unwrap();
        assert!(
            (level - p.pore_contrast_factor * 0.1).abs() < 1e-12,
            "{level}"
        );
        assert!(pore_population_level(&pores(&even[..MIN_PORE_POPULATION - 1]), &p).is_none());
    }

    /// Melanin alone has no grey part and is pigment; grey shading is all grey; a shadow
    /// reddened by subsurface scattering (OD_B / OD_R = 2) keeps enough grey to be a depression,
    /// a weak one of the same colour does not.
    #[test]
    fn darkening_splits_into_grey_and_melanin() {
        let p = ScarsParams::default();
        const NARROW: f64 = 1.0;
        let melanin = Darkening {
            od_r: 0.3 * MELANIN_RED_PER_BLUE,
            od_b: 0.3,
        };
        assert!(melanin.shading_od().abs() < 1e-12);
        assert!(melanin.is_pigment(&p, NARROW));
        let grey = Darkening {
            od_r: 0.25,
            od_b: 0.25,
        };
        assert!((grey.shading_od() - 0.25).abs() < 1e-12);
        assert!(!grey.is_pigment(&p, NARROW));
        let reddened = Darkening {
            od_r: 0.5,
            od_b: 1.0,
        };
        assert!((reddened.chroma_ratio() - 2.0).abs() < 1e-12);
        assert!(reddened.shading_od() > p.min_shading_od);
        assert!(!reddened.is_pigment(&p, NARROW));
        // As wide as a naevus, a shadow is grey in its middle: the same colour is melanin
        // (its grey part is the surface reflection melanin does not absorb), while grey
        // shading of any width is not.
        assert!(reddened.is_pigment(&p, 1.01 * p.reddened_shadow_max_mm));
        assert!(!reddened.is_pigment(&p, p.reddened_shadow_max_mm));
        assert!(!grey.is_pigment(&p, 3.0 * p.reddened_shadow_max_mm));
        let faint = Darkening {
            od_r: 0.1,
            od_b: 0.2,
        };
        assert!(faint.is_pigment(&p, NARROW));
        // Blue darkens, red does not: pigment whatever the grey part says.
        assert!(
            Darkening {
                od_r: -0.01,
                od_b: 0.2
            }
            .is_pigment(&p, NARROW)
        );
        assert!(
            Darkening {
                od_r: -0.01,
                od_b: -0.01
            }
            .chroma_ratio()
            .is_nan()
        );
    }

    #[test]
    fn classification_rules() {
        let p = ScarsParams::default();
        assert_eq!(classify(1.0, 5.0, &p), ScarKind::Icepick);
        assert_eq!(classify(1.8, 0.6, &p), ScarKind::Icepick);
        assert_eq!(classify(1.8, 2.0, &p), ScarKind::Boxcar);
        assert_eq!(classify(4.5, 2.0, &p), ScarKind::Boxcar);
        assert_eq!(classify(3.0, 0.6, &p), ScarKind::Rolling);
        assert_eq!(classify(5.5, 2.0, &p), ScarKind::Rolling);
    }
}
