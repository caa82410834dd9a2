//! Benchmarks of the generic image operations on a deterministic 12 MP (3000 × 4000) plane, and
//! of rendering a 1000 px phantom.
//!
//! Run: `cargo bench --bench imgops -- --quick`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use skintex::imgops::gaussian::{gaussian_blur, gaussian_blur_par};
use skintex::imgops::hessian::{hessian_eigenvalues, hessian_eigenvalues_par};

/// Deterministic test plane: smooth sinusoidal relief plus hashed pixel noise, values in [0, 1].
fn test_image(rows: usize, cols: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        let mut h = (i as u32).wrapping_mul(0x9E37_79B9) ^ (j as u32).wrapping_mul(0x85EB_CA6B);
        h ^= h >> 15;
        h = h.wrapping_mul(0x2C1B_3C6D);
        h ^= h >> 12;
        let noise = (h & 0xFFFF) as f32 / 65535.0;
        let (y, x) = (i as f32, j as f32);
        0.5 + 0.25 * (x * 0.013).sin() * (y * 0.021).cos() + 0.1 * (noise - 0.5)
    })
}

fn benches(c: &mut Criterion) {
    let img = test_image(3000, 4000);
    let mut group = c.benchmark_group("imgops_12mp");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for sigma in [2.0f32, 8.0, 30.0] {
        group.bench_function(format!("gaussian_blur_sigma{sigma}"), |b| {
            b.iter(|| gaussian_blur(black_box(img.view()), black_box(sigma)))
        });
    }
    group.bench_function("gaussian_blur_par_sigma8", |b| {
        b.iter(|| gaussian_blur_par(black_box(img.view()), black_box(8.0)))
    });
    group.bench_function("hessian_eigenvalues_sigma3", |b| {
        b.iter(|| hessian_eigenvalues(black_box(img.view()), black_box(3.0)))
    });
    group.bench_function("hessian_eigenvalues_par_sigma3", |b| {
        b.iter(|| hessian_eigenvalues_par(black_box(img.view()), black_box(3.0)))
    });
    group.finish();
}

/// Rendering of the default 1000 × 1000 px phantom (goal: well under 1 s).
fn phantom(c: &mut Criterion) {
    use skintex::phantom::{PhantomSpec, render_phantom};
    let spec = PhantomSpec::default();
    let mut group = c.benchmark_group("phantom");
    group.sample_size(10);
    group.bench_function("render_1000px", |b| {
        b.iter(|| render_phantom(black_box(&spec), black_box(1)))
    });
    group.finish();
}

criterion_group!(imgops, benches, phantom);
criterion_main!(imgops);
