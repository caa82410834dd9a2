//! Roughness on phantoms with known relief: rough_sq must rank a severity sweep of the rendered
//! microrelief RMS (5 levels), and be unchanged by an exposure change.

use image::DynamicImage;
use skintex::config::Config;
use skintex::input::colour::colour_planes;
use skintex::metrics::{ZoneInput, measure_zone, metric_columns};
use skintex::phantom::{PhantomSpec, render_phantom};
use skintex::segment::full_image_zones;
use skintex::validation::spearman;

fn metric(image: &DynamicImage, px_per_mm: f64, name: &str) -> f64 {
    let planes = colour_planes(image);
    let zones = full_image_zones(planes.width(), planes.height());
    let config = Config::default();
    let m = measure_zone(&ZoneInput {
        planes: &planes,
        zone: &zones[0],
        px_per_mm: Some(px_per_mm),
        config: &config,
    });
    let i = metric_columns()
        .iter()
        .position(|c| c.name == name)
        .unwrap();
    *m.values[i]
        .as_ref()
        .unwrap_or_else(|e| panic!("{name} missing: {e:?}"))
}

fn relief_only(relief_sq_mm: f64) -> PhantomSpec {
    PhantomSpec {
        size_px: 600,
        wrinkles: 0,
        icepick: 0,
        boxcar: 0,
        rolling: 0,
        pigmented_spots: 0,
        relief_sq_mm,
        ..PhantomSpec::default()
    }
}

#[test]
fn rough_sq_ranks_a_relief_severity_sweep() {
    let levels = [0.005, 0.01, 0.02, 0.04, 0.08];
    let mut truth = Vec::new();
    let mut measured = Vec::new();
    for (k, &relief) in levels.iter().enumerate() {
        for seed in [11, 12] {
            let p = render_phantom(&relief_only(relief), seed + 10 * k as u64);
            let sq = metric(&DynamicImage::ImageRgb8(p.image), 20.0, "rough_sq");
            truth.push(relief);
            measured.push(sq);
        }
    }
    // Ties in the truth (two seeds per level): compare level means instead.
    let means: Vec<f64> = measured.chunks(2).map(|c| (c[0] + c[1]) / 2.0).collect();
    let rho = spearman(&levels, &means);
    eprintln!("rough_sq per level {means:?}; Spearman {rho:.3}");
    assert!(rho >= 0.9, "Spearman {rho}");
    let all_rho = {
        // Per-image check with tie-free jitter of the truth by seed order.
        let jittered: Vec<f64> = truth
            .iter()
            .enumerate()
            .map(|(i, t)| t * (1.0 + 1e-9 * i as f64))
            .collect();
        spearman(&jittered, &measured)
    };
    eprintln!("per-image Spearman {all_rho:.3}");
    assert!(all_rho >= 0.9, "per-image Spearman {all_rho}");
}

#[test]
fn rough_sq_ignores_exposure() {
    let p = render_phantom(&relief_only(0.03), 5);
    let bright = DynamicImage::ImageRgb8(p.image.clone());
    let dark = DynamicImage::ImageRgb8(image::RgbImage::from_fn(
        p.image.width(),
        p.image.height(),
        |x, y| {
            // Halve the linear light: sRGB-encode(0.5 * linear).
            let px = p.image.get_pixel(x, y).0.map(|v| {
                let c = f64::from(v) / 255.0;
                let lin = if c <= 0.04045 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                } * 0.5;
                let enc = if lin <= 0.0031308 {
                    12.92 * lin
                } else {
                    1.055 * lin.powf(1.0 / 2.4) - 0.055
                };
                (enc * 255.0).round() as u8
            });
            image::Rgb(px)
        },
    ));
    let a = metric(&bright, 20.0, "rough_sq");
    let b = metric(&dark, 20.0, "rough_sq");
    eprintln!("rough_sq bright {a:.6} dark {b:.6}");
    assert!(
        (a - b).abs() / a < 0.03,
        "exposure changed rough_sq: {a} vs {b}"
    );
}
