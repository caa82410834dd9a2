//! The realistic preset: resolve the drawn resolution, place pores, pigment and hairs around the
//! wrinkles and scars, build the height map and photograph it ([`super::optics`]).

use std::f64::consts::TAU;

use super::hair::{HairCounts, place_hairs};
use super::height::{
    FurrowNetwork, PORE_FWHM_PER_RADIUS, Pit, add_furrows, add_pits, add_scars, add_wrinkles,
    microrelief,
};
use super::layout::layout;
use super::nuisance::Nuisance;
use super::optics::{PigmentSpot, Scene, photograph};
use super::rng::{SplitMix64, stream_seed};
use super::{GroundTruth, Phantom, PhantomSpec, PoreTruth, Preset, SpotTruth, jpeg_round_trip};

/// Diameter of an enlarged pore, mm (Flament et al. 2015: visible pores >= 0.25 mm).
const ENLARGED_PORE_MM: [f64; 2] = [0.25, 0.4];
/// Pore diameters are clipped to this range, mm.
const PORE_DIAMETER_LIMITS_MM: [f64; 2] = [0.05, 0.4];
/// Spread of ordinary pore diameters: standard deviation of ln(diameter).
const PORE_LOG_SD: f64 = 0.35;
/// Each pore's depth is the phantom's mean depth times a uniform factor in this range.
const PORE_DEPTH_FACTOR: [f64; 2] = [0.6, 1.3];
/// Pore depths are clipped to this range, mm.
const PORE_DEPTH_LIMITS_MM: [f64; 2] = [0.01, 0.1];
/// Stubble density when stubble is on, per cm2.
const STUBBLE_PER_CM2: [f64; 2] = [30.0, 100.0];

/// Render one phantom of the realistic preset.
pub(crate) fn render(spec: &PhantomSpec, seed: u64) -> Phantom {
    let capture_seed = spec.capture_seed.unwrap_or(seed);
    let nuisance = spec
        .nuisance
        .draw(stream_seed(seed, 50), stream_seed(capture_seed, 51));
    let ppm = nuisance.px_per_mm;
    let size_px = (spec.nuisance.fov_mm * ppm).round().max(64.0) as u32;
    let resolved = PhantomSpec {
        size_px,
        px_per_mm: ppm,
        relief_sq_mm: nuisance.relief_sq_mm,
        pigmented_spots: 0,
        ..spec.clone()
    };
    let mut placed = layout(&resolved, seed);
    let size = size_px as usize;
    let side_mm = f64::from(size_px) / ppm;

    let spots = place_pigment(&mut placed.keepout, &nuisance, ppm, stream_seed(seed, 60));
    let pores = if spec.pores {
        draw_pores(&nuisance, side_mm, ppm, stream_seed(seed, 61))
    } else {
        Vec::new()
    };
    let wrinkle_points: Vec<[f64; 2]> = placed
        .wrinkles
        .iter()
        .flat_map(|w| w.polyline_px.iter().copied())
        .collect();
    let hair_counts = HairCounts {
        terminal: nuisance.terminal_hairs,
        vellus: nuisance.vellus_hairs,
        stubble_per_cm2: if nuisance.stubble {
            SplitMix64::new(stream_seed(seed, 63)).in_range(STUBBLE_PER_CM2)
        } else {
            0.0
        },
    };
    let hairs = place_hairs(
        &mut SplitMix64::new(stream_seed(seed, 62)),
        &hair_counts,
        side_mm,
        ppm,
        &wrinkle_points,
    );

    let mut h = microrelief(&resolved, nuisance.relief_sq_mm, stream_seed(seed, 10));
    if spec.furrows {
        let net = FurrowNetwork {
            cell_mm: nuisance.furrow_cell_mm,
            width_mm: nuisance.furrow_width_mm,
            depth_mm: nuisance.furrow_depth_mm,
            stretch: nuisance.furrow_stretch,
            angle_deg: nuisance.furrow_angle_deg,
        };
        add_furrows(&mut h, size, ppm, &net, stream_seed(seed, 11));
    }
    let pits: Vec<Pit> = pores
        .iter()
        .map(|p| Pit {
            cx: p.x_px,
            cy: p.y_px,
            r_px: p.diameter_mm / PORE_FWHM_PER_RADIUS * ppm,
            depth_mm: p.depth_mm,
        })
        .collect();
    add_pits(&mut h, size, &pits);
    add_scars(&mut h, &resolved, &placed);
    add_wrinkles(&mut h, &resolved, &placed);

    let scene = Scene {
        size,
        ppm,
        h: &h,
        nuisance: &nuisance,
        spots: &spots,
        hairs: &hairs,
        camera_effects: spec.camera_effects,
        seed: capture_seed,
        noise_seed: spec.noise_seed.unwrap_or(capture_seed),
    };
    let mut image = photograph(&scene);
    let quality = spec
        .jpeg_quality
        .or(nuisance.jpeg_quality.filter(|_| spec.camera_effects));
    if let Some(q) = quality {
        image = jpeg_round_trip(&image, q);
    }
    let total_wrinkle_length_mm = placed.wrinkles.iter().map(|w| w.length_mm).sum();
    Phantom {
        image,
        truth: GroundTruth {
            seed,
            px_per_mm: ppm,
            size_px,
            wrinkles: placed.wrinkles,
            scars: placed.scars,
            spots: spots.iter().map(|s| s.truth.clone()).collect(),
            relief_sq_mm: nuisance.relief_sq_mm,
            total_wrinkle_length_mm,
            preset: Preset::Realistic,
            nuisance: Some(Nuisance {
                jpeg_quality: quality,
                ..nuisance
            }),
            pores,
            hairs,
            chart_box_px: None,
        },
    }
}

/// A standard normal deviate (Box–Muller).
fn normal(rng: &mut SplitMix64) -> f64 {
    let u1 = 1.0 - rng.uniform();
    let u2 = rng.uniform();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(TAU * u2)
}

/// The pores: Poisson-like uniform positions at the drawn density; diameters log-normal about
/// the drawn median, with the drawn share of enlarged pores; depths about the drawn mean.
fn draw_pores(n: &Nuisance, side_mm: f64, ppm: f64, seed: u64) -> Vec<PoreTruth> {
    let mut rng = SplitMix64::new(seed);
    let count = (n.pore_density_per_cm2 * side_mm * side_mm / 100.0).round() as usize;
    let size = side_mm * ppm;
    (0..count)
        .map(|_| {
            let x_px = rng.range(-0.5, size - 0.5);
            let y_px = rng.range(-0.5, size - 0.5);
            let diameter_mm = if rng.uniform() < n.pore_enlarged_share {
                rng.in_range(ENLARGED_PORE_MM)
            } else {
                (n.pore_median_diameter_mm * libm::exp(PORE_LOG_SD * normal(&mut rng)))
                    .clamp(PORE_DIAMETER_LIMITS_MM[0], PORE_DIAMETER_LIMITS_MM[1])
            };
            let depth_mm = (n.pore_depth_mm * rng.in_range(PORE_DEPTH_FACTOR))
                .clamp(PORE_DEPTH_LIMITS_MM[0], PORE_DEPTH_LIMITS_MM[1]);
            PoreTruth {
                x_px,
                y_px,
                diameter_mm,
                depth_mm,
            }
        })
        .collect()
}

/// One kind of flat pigmented lesion.
struct PigmentKind {
    name: &'static str,
    /// Diameter range, mm.
    diameter: [f64; 2],
    /// Peak blue optical density range.
    od: [f64; 2],
    /// Soft-edge width range, mm.
    edge: [f64; 2],
    /// Border irregularity (relative radius modulation).
    irregularity: f64,
}

/// Freckles, lentigines and naevi, in the order of their counts in [`Nuisance`].
const PIGMENT_KINDS: [PigmentKind; 3] = [
    PigmentKind {
        name: "freckle",
        diameter: [0.5, 2.0],
        od: [0.15, 0.5],
        edge: [0.1, 0.25],
        irregularity: 0.12,
    },
    PigmentKind {
        name: "lentigo",
        diameter: [2.0, 5.0],
        od: [0.4, 0.9],
        edge: [0.1, 0.3],
        irregularity: 0.1,
    },
    PigmentKind {
        name: "naevus",
        diameter: [1.0, 5.0],
        od: [0.8, 1.6],
        edge: [0.03, 0.08],
        irregularity: 0.05,
    },
];

/// Place the flat pigmented lesions, clear of scars, wrinkles and each other.
fn place_pigment(
    keepout: &mut super::layout::Keepout,
    n: &Nuisance,
    ppm: f64,
    seed: u64,
) -> Vec<PigmentSpot> {
    let mut rng = SplitMix64::new(seed);
    let mut spots = Vec::new();
    for (kind, count) in PIGMENT_KINDS
        .iter()
        .zip([n.freckles, n.lentigines, n.naevi])
    {
        let PigmentKind {
            name,
            diameter,
            od,
            edge,
            irregularity,
        } = *kind;
        for _ in 0..count {
            let Some((c, d)) = keepout.place_disc(&mut rng, diameter) else {
                continue;
            };
            let optical_density = rng.in_range(od);
            let edge_mm = rng.in_range(edge);
            let harmonics = [2.0, 3.0, 4.0, 5.0].map(|k: f64| {
                (
                    k,
                    irregularity * rng.range(-1.0, 1.0) / k.sqrt(),
                    rng.range(0.0, TAU),
                )
            });
            spots.push(PigmentSpot {
                truth: SpotTruth {
                    x_px: c[0] * ppm - 0.5,
                    y_px: c[1] * ppm - 0.5,
                    diameter_mm: d,
                    kind: name.to_owned(),
                    optical_density: Some(optical_density),
                },
                edge_mm,
                harmonics,
            });
        }
    }
    spots
}
