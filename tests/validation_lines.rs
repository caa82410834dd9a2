//! Validation of the fine-lines family on phantoms with known wrinkles (20 px/mm), through the
//! real pipeline path: sRGB image -> colour planes -> full-image zone -> `measure_zone`.
//!
//! Run with `cargo test --release --test validation_lines -- --nocapture` to see the numbers.

use image::DynamicImage;
use skintex::config::Config;
use skintex::input::colour::colour_planes;
use skintex::metrics::{MetricValue, ZoneInput, ZoneMeasurement, measure_zone, metric_columns};
use skintex::phantom::{GroundTruth, PhantomSpec, render_phantom};
use skintex::segment::full_image_zones;
use skintex::validation::{Case, score, spearman};

const PX_PER_MM: f64 = 20.0;

/// Render a phantom and measure its single full-image zone with the default configuration.
fn measure_phantom(spec: &PhantomSpec, seed: u64) -> (ZoneMeasurement, GroundTruth) {
    let phantom = render_phantom(spec, seed);
    let (w, h) = phantom.image.dimensions();
    let planes = colour_planes(&DynamicImage::ImageRgb8(phantom.image));
    let zones = full_image_zones(w as usize, h as usize);
    let config = Config::default();
    let input = ZoneInput {
        planes: &planes,
        zone: &zones[0],
        px_per_mm: Some(PX_PER_MM),
        config: &config,
    };
    (measure_zone(&input), phantom.truth)
}

fn column(m: &ZoneMeasurement, name: &str) -> MetricValue {
    let i = metric_columns()
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    m.values[i].clone()
}

fn wrinkle_spec(wrinkles: u32) -> PhantomSpec {
    PhantomSpec {
        wrinkles,
        icepick: 0,
        boxcar: 0,
        rolling: 0,
        ..PhantomSpec::default()
    }
}

#[test]
fn spearman_helper_known_values() {
    assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
    assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
    // scipy.stats.spearmanr([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) = 0.8
    assert!((spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]) - 0.8).abs() < 1e-12);
}

/// Per-image total-length error and count difference on phantoms `seeds` with 2-5 wrinkles
/// and no scars: `(within 15 %, count within +-1)` tallies.
/// Phantoms within 15 % of the true total length and within ±1 of the true count; total true,
/// on-wrinkle and false line length (mm, [`score`]'s matching).
struct Tally {
    length_ok: usize,
    count_ok: usize,
    true_mm: f64,
    on_wrinkle_mm: f64,
    false_mm: f64,
}

fn length_and_count_tally(seeds: std::ops::RangeInclusive<u64>) -> Tally {
    let mut count_ok = 0;
    let mut length_ok = 0;
    let mut abs_errors = Vec::new();
    let (mut true_mm, mut on_wrinkle_mm, mut false_mm) = (0.0, 0.0, 0.0);
    for seed in seeds {
        let wrinkles = 2 + (seed as u32 % 4);
        let spec = wrinkle_spec(wrinkles);
        let (m, truth) = measure_phantom(&spec, seed);
        let scored = score(
            &Case {
                seed,
                spec,
                clean: false,
            },
            &truth,
            &m,
            &[],
        );
        true_mm += scored.lines_true_mm;
        on_wrinkle_mm += scored.lines_found_mm - scored.lines_false_mm;
        false_mm += scored.lines_false_mm;
        let count = column(&m, "lines_count").unwrap();
        let length = column(&m, "lines_length_mm").unwrap();
        let true_len = truth.total_wrinkle_length_mm;
        let err = length / true_len - 1.0;
        let d_count = count - truth.wrinkles.len() as f64;
        eprintln!(
            "seed {seed}: wrinkles {} found {count} ({d_count:+}); length {length:.1} / truth \
             {true_len:.1} mm ({:+.1} %); mean width {:?} mm; mean depth {:?}",
            truth.wrinkles.len(),
            100.0 * err,
            column(&m, "lines_mean_width_mm").map(|v| (v * 1000.0).round() / 1000.0),
            column(&m, "lines_mean_depth").map(|v| (v * 1000.0).round() / 1000.0),
        );
        for w in &truth.wrinkles {
            eprintln!(
                "    truth: {:5.2} mm, width {:.2} mm, depth {:.3} mm, {:8}, {:3.0} deg",
                w.length_mm, w.width_mm, w.depth_mm, w.profile, w.orientation_deg
            );
        }
        for l in &m.lines {
            eprintln!(
                "    found: {:5.2} mm, width {:.2} mm, depth {:.3}, {:3.0} deg",
                l.length_mm, l.width_mm, l.depth, l.orientation_deg
            );
        }
        abs_errors.push(err.abs());
        count_ok += usize::from(d_count.abs() <= 1.0);
        length_ok += usize::from(err.abs() <= 0.15);
    }
    abs_errors.sort_by(f64::total_cmp);
    let n = abs_errors.len();
    eprintln!(
        "count within +-1: {count_ok}/{n}; length within 15 %: {length_ok}/{n}; median |length \
         error| {:.1} %; on wrinkles {on_wrinkle_mm:.0} mm and false {false_mm:.0} mm of \
         {true_mm:.0} mm",
        100.0 * 0.5 * (abs_errors[(n - 1) / 2] + abs_errors[n / 2])
    );
    Tally {
        length_ok,
        count_ok,
        true_mm,
        on_wrinkle_mm,
        false_mm,
    }
}

/// The classic preset (the phantoms of issue 4, which the old detector was tuned on) as a
/// regression floor of the general methods of issue 14. Issue 4's tuned detector reached 16/20
/// lengths within 15 % and 19/20 counts within +-1 on seeds 1-20; the texture-normalised
/// detector measured 13/20 and 16/20 (median |length error| 11.6 %, 2026-12-05) at the
/// photo's own resolution, and 10/20 and 17/20 (13.0 %) on the 12 px/mm working grid
/// (2026-12-06): the same length on wrinkles and off them in total (798 and 16 mm of 1029 mm
/// at 20 px/mm, 796 and 18 mm on the grid), shared out differently between phantoms, several
/// of which lie near 15 %. It misses part of the classic preset's shallowest wide wrinkles
/// (0.03-0.05 mm deep, 0.7-1.0 mm wide: seeds 2, 9, 12) and finds a few short fragments
/// beside deep ones. The totals are the floor that matters; the realistic randomised set
/// (`tests/validation_randomised.rs`) is the measure of record.
#[test]
fn classic_preset_length_and_count_regression_floor() {
    let t = length_and_count_tally(1..=20);
    assert!(
        t.on_wrinkle_mm >= 0.75 * t.true_mm,
        "on wrinkles {:.0} of {:.0} mm",
        t.on_wrinkle_mm,
        t.true_mm
    );
    assert!(
        t.false_mm <= 0.03 * t.true_mm,
        "false {:.0} mm for {:.0} mm of wrinkles",
        t.false_mm,
        t.true_mm
    );
    assert!(
        t.length_ok >= 10,
        "length within 15 % on {}/20",
        t.length_ok
    );
    assert!(t.count_ok >= 15, "count within +-1 on {}/20", t.count_ok);
}

#[test]
fn clean_phantoms_have_few_false_lines() {
    let spec = PhantomSpec {
        wrinkles: 0,
        icepick: 0,
        boxcar: 0,
        rolling: 0,
        ..PhantomSpec::default()
    };
    let mut worst: f64 = 0.0;
    for seed in 1..=6 {
        let (m, truth) = measure_phantom(&spec, seed);
        assert!(truth.wrinkles.is_empty() && truth.scars.is_empty());
        let density = column(&m, "lines_density_mm_per_cm2").unwrap();
        eprintln!(
            "clean seed {seed}: false lines {} , {density:.2} mm/cm2",
            column(&m, "lines_count").unwrap()
        );
        worst = worst.max(density);
    }
    // Floor: half the randomised set's target of issue 14 (2 mm/cm2); measured 0.00 on
    // 2026-12-05 (was allowed 5 mm/cm2 before issue 18).
    eprintln!("clean phantoms: worst false-line density {worst:.2} mm/cm2 (floor 1.0)");
    assert!(
        worst <= 1.0,
        "worst false-line density {worst} mm/cm2 > 1.0"
    );
}

#[test]
fn severity_sweep_is_monotone() {
    let mut level = Vec::new();
    let mut length = Vec::new();
    // Same seed at every level: the wrinkles are drawn in sequence, so level k contains the
    // wrinkles of level k - 1 plus one more (true length strictly increases).
    for wrinkles in 1..=5 {
        let (m, truth) = measure_phantom(&wrinkle_spec(wrinkles), 100);
        let l = column(&m, "lines_length_mm").unwrap();
        eprintln!(
            "severity {wrinkles}: length {l:.2} mm (truth {:.2})",
            truth.total_wrinkle_length_mm
        );
        level.push(f64::from(wrinkles));
        length.push(l);
    }
    let rho = spearman(&level, &length);
    eprintln!("severity sweep Spearman rho = {rho:.3}");
    assert!(rho >= 0.9, "{rho}");
}
