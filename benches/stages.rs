//! Per-stage timings of the per-image pipeline at 3, 12 and 24 megapixels (issues 6 and 16).
//!
//! `cargo bench --bench stages` (all sizes); `SKINTEX_BENCH_MP=12 cargo bench --bench stages` renders
//! and times one size only (a criterion filter such as `-- colour_planes` picks stages). Inputs
//! are deterministic: one realistic phantom per size (`PhantomSpec::realistic`, seed 7, every
//! nuisance drawn from the realistic ranges but the resolution, 20 px/mm, square side
//! √(MP·10⁶)), encoded in memory as JPEG (quality 92) and PNG for the decode stage. The stage
//! budget these give is in `benches/README.md`. Every
//! metric stage runs on the whole image as one zone, as `--roi full` does. Each stage is timed on
//! one core, as `skintex analyze --jobs 1` runs it: the stages' parallel loops run in rayon's
//! global pool, which the bench builds with a single thread.
//!
//! Times are the CPU time of the whole process, every thread's (the sum over
//! `/proc/self/task/*/schedstat`, ns), not wall time, so that other processes competing for the
//! cores do not inflate them; on systems without those files the wall time is used. (Until
//! 2026-12-07 the bench read the benchmarking thread's own CPU time, which misses the work the
//! stages hand to the pool's threads: lines and pores were measured at about half their cost.)

use std::hint::black_box;
use std::io::Cursor;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use image::{DynamicImage, ImageFormat};
use skintex::config::Config;
use skintex::input::colour::colour_planes;
use skintex::input::decode::decode_bytes;
use skintex::metrics::{SpareThreads, height, lines, pores, roughness, scars, tone};
use skintex::phantom::{NuisanceRanges, PhantomSpec, render_phantom};
use skintex::segment::full_image_zones;

const PX_PER_MM: f64 = 20.0;
const SIZES_MP: [u32; 3] = [3, 12, 24];

/// CPU time consumed by every thread of the process, ns (wall time since first use as a
/// fallback). Threads that exit between two readings take their time with them; the pool's
/// threads live as long as the process.
fn process_cpu_ns() -> u64 {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let from_tasks = || -> Option<u64> {
        let mut total = 0u64;
        for task in std::fs::read_dir("/proc/self/task").ok()? {
            let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
        }
        Some(total)
    };
    from_tasks().unwrap_or_else(|| {
        let epoch = EPOCH.get_or_init(std::time::Instant::now);
        u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    })
}

/// Criterion measurement of the process's CPU time, formatted as a duration.
struct ProcessCpuTime(WallTime);

impl Measurement for ProcessCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        process_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        process_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.0.formatter()
    }
}

fn side_px(megapixels: u32) -> u32 {
    (f64::from(megapixels) * 1e6).sqrt().round() as u32
}

fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    match format {
        ImageFormat::Jpeg => {
            let encoder =
                image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut bytes), 92);
            image.write_with_encoder(encoder).expect("JPEG encode");
        }
        _ => image
            .write_to(&mut Cursor::new(&mut bytes), format)
            .expect("encode"),
    }
    bytes
}

fn bench_stages(c: &mut Criterion<ProcessCpuTime>) {
    // One core, as `--jobs 1`: the stages' parallel loops run in the global pool.
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
        .expect("the bench builds rayon's global pool before anything uses it");
    let config = Config::default();
    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(200));
    group.measurement_time(Duration::from_secs(2));
    let sizes: Vec<u32> = match std::env::var("SKINTEX_BENCH_MP") {
        Ok(list) => list
            .split(',')
            .map(|v| {
                v.trim()
                    .parse()
                    .expect("SKINTEX_BENCH_MP: comma-separated megapixels")
            })
            .collect(),
        Err(_) => SIZES_MP.to_vec(),
    };
    for mp in sizes {
        let side = side_px(mp);
        // A realistic close-up (pores, furrow network, hairs, pigment, light, tone and camera
        // drawn for the seed) at exactly 20 px/mm and `side` px.
        let spec = PhantomSpec {
            wrinkles: 12,
            icepick: 6,
            boxcar: 6,
            rolling: 3,
            nuisance: NuisanceRanges {
                px_per_mm: [PX_PER_MM, PX_PER_MM],
                fov_mm: f64::from(side) / PX_PER_MM,
                ..NuisanceRanges::default()
            },
            ..PhantomSpec::realistic()
        };
        let image = DynamicImage::ImageRgb8(render_phantom(&spec, 7).image);
        let zone = full_image_zones(side as usize, side as usize).remove(0);
        let id = |stage: &str| BenchmarkId::new(stage, format!("{mp}mp"));

        for (name, format) in [
            ("decode_jpeg", ImageFormat::Jpeg),
            ("decode_png", ImageFormat::Png),
        ] {
            let bytes = encoded(&image, format);
            group.bench_function(id(name), |b| {
                b.iter(|| decode_bytes(black_box(&bytes), 100.0).expect("decodes"))
            });
        }
        group.bench_function(id("colour_planes"), |b| {
            b.iter(|| colour_planes(black_box(&image)))
        });
        let planes = colour_planes(&image);
        let cutoff = config.height.cutoff_mm;
        group.bench_function(id("pseudo_height"), |b| {
            b.iter(|| height::pseudo_height(&planes, &zone, PX_PER_MM, cutoff))
        });
        let z = height::pseudo_height(&planes, &zone, PX_PER_MM, cutoff);
        group.bench_function(id("roughness"), |b| {
            b.iter(|| roughness::measure(&z, &config.roughness))
        });
        group.bench_function(id("pores"), |b| {
            b.iter(|| pores::measure(&z, &config.pores))
        });
        let (_, found_pores) = pores::measure(&z, &config.pores);
        group.bench_function(id("scars"), |b| {
            b.iter(|| scars::measure(&planes, &zone, &z, &found_pores, &config.scars))
        });
        group.bench_function(id("tone"), |b| {
            b.iter(|| tone::measure(&planes, &zone, &config.tone))
        });
        group.bench_function(id("lines"), |b| {
            b.iter(|| lines::measure(&z, &config.lines, SpareThreads::NONE))
        });
    }
    group.finish();
}

criterion_group! {
    name = stages;
    config = Criterion::default().with_measurement(ProcessCpuTime(WallTime));
    targets = bench_stages
}
criterion_main!(stages);
