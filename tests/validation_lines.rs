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

/// Spearman rank correlation (average ranks for ties).
fn spearman(x: &[f64], y: &[f64]) -> f64 {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            for &k in &idx[i..=j] {
                r[k] = avg;
            }
            i = j + 1;
        }
        r
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
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
fn length_and_count_tally(seeds: std::ops::RangeInclusive<u64>) -> (usize, usize) {
    let mut count_ok = 0;
    let mut length_ok = 0;
    let mut abs_errors = Vec::new();
    for seed in seeds {
        let wrinkles = 2 + (seed as u32 % 4);
        let (m, truth) = measure_phantom(&wrinkle_spec(wrinkles), seed);
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
         error| {:.1} %",
        100.0 * 0.5 * (abs_errors[(n - 1) / 2] + abs_errors[n / 2])
    );
    (length_ok, count_ok)
}

/// Regression floor: the level measured with the current defaults on the tuning seeds 1-10
/// (8/10 lengths within 15 %, 9/10 counts within +-1; with a fixed 2 mm support and
/// strength_low 0.03 7/10 and 9/10, before the aspect-ratio filter 7/10 and 8/10, before gap
/// bridging 6/10 and 8/10) and on the held-out seeds 11-20 (8/10 and 10/10; counts floored at 9).
/// Falling below it means detection got worse.
#[test]
fn phantom_length_and_count_regression_floor() {
    let (length_ok, count_ok) = length_and_count_tally(1..=10);
    assert!(
        length_ok >= 8,
        "seeds 1-10: length within 15 % on {length_ok}/10"
    );
    assert!(
        count_ok >= 9,
        "seeds 1-10: count within +-1 on {count_ok}/10"
    );
    let (length_ok, count_ok) = length_and_count_tally(11..=20);
    assert!(
        length_ok >= 8,
        "seeds 11-20: length within 15 % on {length_ok}/10"
    );
    assert!(
        count_ok >= 9,
        "seeds 11-20: count within +-1 on {count_ok}/10"
    );
}

/// The acceptance criterion of issue 4: total length within 15 % and count within +-1 on at
/// least 80 % of images, on the tuning seeds 1-10 and on the held-out seeds 11-20. Met with an
/// along-line support of 3 line widths, strength_low 0.0275 and hooked-end trimming: 8/10
/// lengths and 9/10 counts on seeds 1-10, 8/10 and 10/10 on seeds 11-20 (the misses are
/// shallow, wide wrinkles, depth 0.03-0.05 mm, found only in part: seeds 2, 9, 12, 18).
#[test]
fn phantom_length_and_count_issue_criterion() {
    for seeds in [1..=10u64, 11..=20] {
        let (length_ok, count_ok) = length_and_count_tally(seeds.clone());
        assert!(
            length_ok >= 8,
            "{seeds:?}: length within 15 % on {length_ok}/10"
        );
        assert!(
            count_ok >= 8,
            "{seeds:?}: count within +-1 on {count_ok}/10"
        );
    }
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
    eprintln!("clean phantoms: worst false-line density {worst:.2} mm/cm2");
    assert!(worst <= 5.0, "{worst}");
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

#[test]
#[ignore = "threshold sweep used to choose the defaults; prints a table"]
fn diag_thresholds() {
    use skintex::metrics::lines::{
        line_scales_px, lines_from_strength, support_half_per_sigma, support_half_px,
        valley_strength,
    };
    let mut cfg = Config::default();
    if let Ok(v) = std::env::var("SUPMM") {
        cfg.lines.line_support_mm = v.parse().unwrap();
    }
    if let Ok(v) = std::env::var("SUPW") {
        cfg.lines.line_support_widths = v.parse().unwrap();
    }
    let sig = line_scales_px(&cfg.lines, PX_PER_MM);
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    let parse = |v: String| -> Vec<f64> { v.split(',').map(|x| x.parse().unwrap()).collect() };
    let highs = parse(env("HIGHS", "0.04,0.045,0.05,0.055"));
    let lows = parse(env("LOWS", "0.02,0.025,0.03"));
    let sup = support_half_px(&cfg.lines, PX_PER_MM);
    let zones = full_image_zones(1000, 1000);
    let mut cases = Vec::new();
    // Seeds 1-10: tuning set; 11-20: held out; 101-106: clean.
    for seed in (1..=20u64).chain(101..=106) {
        let spec = if seed <= 20 {
            wrinkle_spec(2 + (seed as u32 % 4))
        } else {
            PhantomSpec {
                wrinkles: 0,
                icepick: 0,
                boxcar: 0,
                rolling: 0,
                ..PhantomSpec::default()
            }
        };
        let phantom = render_phantom(&spec, if seed > 100 { seed - 100 } else { seed });
        let planes = colour_planes(&DynamicImage::ImageRgb8(phantom.image.clone()));
        let h = skintex::metrics::height::pseudo_height(
            &planes,
            &zones[0],
            PX_PER_MM,
            cfg.height.cutoff_mm,
        );
        let vs = valley_strength(
            h.z.view(),
            h.mask.view(),
            &sig,
            cfg.lines.blob_beta,
            sup,
            support_half_per_sigma(&cfg.lines),
            0.01,
        );
        cases.push((seed, h, vs, phantom.truth));
    }
    for &high in &highs {
        for &low in &lows {
            let params = skintex::config::LinesParams {
                strength_high: high,
                strength_low: low,
                ..cfg.lines.clone()
            };
            let mut line = String::new();
            let (mut len_ok, mut cnt_ok, mut len_ok2, mut cnt_ok2, mut false_mm) =
                (0, 0, 0, 0, 0.0f64);
            for (seed, h, vs, truth) in &cases {
                let det = lines_from_strength(h, vs, &params);
                let len: f64 = det.lines.iter().map(|l| l.length_mm).sum();
                if std::env::var_os("DIAG_DETAIL").is_some() {
                    eprintln!("seed {seed}:");
                    for w in &truth.wrinkles {
                        eprintln!(
                            "    truth {:5.2} mm w {:.2} d {:.3} {:8} {:3.0} deg at {:?}",
                            w.length_mm,
                            w.width_mm,
                            w.depth_mm,
                            w.profile,
                            w.orientation_deg,
                            w.polyline_px.first().map(|p| (p[0] as i32, p[1] as i32))
                        );
                    }
                    for l in &det.lines {
                        eprintln!(
                            "    found {:5.2} mm w {:.2} d {:.3} {:3.0} deg at {:?}",
                            l.length_mm,
                            l.width_mm,
                            l.depth,
                            l.orientation_deg,
                            l.skeleton.first()
                        );
                    }
                }
                let t = truth.total_wrinkle_length_mm;
                if truth.wrinkles.is_empty() {
                    false_mm = false_mm.max(len);
                } else {
                    let lo = usize::from((len / t - 1.0).abs() <= 0.15);
                    let co = usize::from(
                        (det.lines.len() as f64 - truth.wrinkles.len() as f64).abs() <= 1.0,
                    );
                    if *seed <= 10 {
                        len_ok += lo;
                        cnt_ok += co;
                    } else {
                        len_ok2 += lo;
                        cnt_ok2 += co;
                    }
                }
                line += &if truth.wrinkles.is_empty() {
                    format!(" {} false {len:.1} mm |", det.lines.len())
                } else {
                    format!(
                        " {}/{} {:+.0}% |",
                        det.lines.len(),
                        truth.wrinkles.len(),
                        100.0 * (len / t - 1.0)
                    )
                };
            }
            eprintln!(
                "high {high} low {low}: A len {len_ok} cnt {cnt_ok}  B len {len_ok2} cnt {cnt_ok2} false {:.2} mm/cm2 ::{line}",
                false_mm / 25.0
            );
        }
    }
}
