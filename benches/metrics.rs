//! Per-family metric timings on one 12-megapixel zone (a 3464 x 3464 phantom at 20 px/mm).
//!
//! `cargo bench --bench metrics`. Inputs are deterministic (fixed phantom seed).

use criterion::{Criterion, criterion_group, criterion_main};
use image::DynamicImage;
use skintex::config::Config;
use skintex::input::colour::colour_planes;
use skintex::metrics::{height, lines, roughness, scars, tone};
use skintex::phantom::{PhantomSpec, render_phantom};
use skintex::segment::full_image_zones;

const SIDE_PX: u32 = 3464; // 12.0 MP
const PX_PER_MM: f64 = 20.0;

fn bench_families(c: &mut Criterion) {
    let spec = PhantomSpec {
        size_px: SIDE_PX,
        px_per_mm: PX_PER_MM,
        wrinkles: 12,
        icepick: 6,
        boxcar: 6,
        rolling: 3,
        ..PhantomSpec::default()
    };
    let image = DynamicImage::ImageRgb8(render_phantom(&spec, 7).image);
    let config = Config::default();
    let zone = full_image_zones(SIDE_PX as usize, SIDE_PX as usize).remove(0);

    let mut group = c.benchmark_group("metrics_12mp");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(10));
    group.bench_function("colour_planes", |b| b.iter(|| colour_planes(&image)));
    let planes = colour_planes(&image);
    group.bench_function("pseudo_height", |b| {
        b.iter(|| height::pseudo_height(&planes, &zone, PX_PER_MM, config.height.cutoff_mm))
    });
    let z = height::pseudo_height(&planes, &zone, PX_PER_MM, config.height.cutoff_mm);
    group.bench_function("roughness", |b| {
        b.iter(|| roughness::measure(&z, &config.roughness))
    });
    group.bench_function("lines", |b| b.iter(|| lines::measure(&z, &config.lines)));
    group.bench_function("scars", |b| {
        b.iter(|| scars::measure(&planes, &zone, &z, &config.scars))
    });
    group.bench_function("tone", |b| {
        b.iter(|| tone::measure(&planes, &zone, &config.tone))
    });
    group.finish();
}

criterion_group!(benches, bench_families);
criterion_main!(benches);
