//! Colour chart: CIEDE2000 and the reference colours against `tests/fixtures/reference/chart.json`
//! (Sharma 2005's 34 published pairs with scikit-image 0.26.0's and colour-science 0.4.7's
//! values; X-Rite's post-2014 ColorChecker values adapted to D65 by colour-science; made by
//! `tools/reference/make_chart_fixtures.py`, provenance inside the file), and the chart
//! pipeline on phantoms with a drawn ColorChecker (`skintex phantom --chart`): found, corrected,
//! left out of the zone, and tone recovered under a colour cast.

mod common;

use common::reference::{self, floats};
use common::{cell, read_csv, skintex};
use image::{DynamicImage, RgbImage};
use skintex::chart::delta_e::delta_e00;
use skintex::chart::reference::{reference_lab_d65, reference_linear_rgb};
use skintex::config::Config;
use skintex::input::colour::{colour_planes, srgb_to_linear};
use skintex::metrics::{metric_columns, tone};
use skintex::output::tables::ImageRecord;
use skintex::phantom::{PhantomSpec, render_phantom};
use skintex::pipeline::{AnalyzeSettings, analyze_pixels};
use skintex::segment::face::Runtime;
use skintex::segment::{RoiMode, full_image_zones};

fn lab(v: &serde_json::Value) -> [f64; 3] {
    let f = floats(v);
    [f[0], f[1], f[2]]
}

/// Sharma's 34 pairs: within 5e-5 of the published 4-decimal values (half their last digit)
/// and within 1e-9 of scikit-image and colour-science, but for pair 14, whose mean hue sits
/// exactly on the ±180° branch (colour-science's tests leave it out for that reason): there
/// the published value is matched.
#[test]
fn ciede2000_matches_sharma_and_scikit_image() {
    let json = reference::json("chart.json");
    let pairs = json["sharma_2005"].as_array().unwrap();
    assert_eq!(pairs.len(), 34);
    for (i, p) in pairs.iter().enumerate() {
        let got = delta_e00(lab(&p["lab1"]), lab(&p["lab2"]));
        let published = p["published"].as_f64().unwrap();
        assert!(
            (got - published).abs() <= 5e-5 + 1e-12,
            "pair {}: {got} vs published {published}",
            i + 1
        );
        if i + 1 != 14 {
            for lib in ["skimage", "colour"] {
                let want = p[lib].as_f64().unwrap();
                assert!(
                    (got - want).abs() < 1e-9,
                    "pair {}: {got} vs {lib} {want}",
                    i + 1
                );
            }
        }
        let swapped = delta_e00(lab(&p["lab2"]), lab(&p["lab1"]));
        assert!((got - swapped).abs() < 1e-9, "pair {} not symmetric", i + 1);
    }
}

/// The reference patches as colour-science converts them (Bradford D50 -> D65).
#[test]
fn reference_colours_match_colour_science() {
    let json = reference::json("chart.json");
    let patches = json["colorchecker24_after_nov2014"].as_array().unwrap();
    let (labs, rgbs) = (reference_lab_d65(), reference_linear_rgb());
    for (i, p) in patches.iter().enumerate() {
        let want_lab = lab(&p["lab_d65"]);
        let want_rgb = lab(&p["linear_srgb"]);
        for k in 0..3 {
            assert!(
                (labs[i][k] - want_lab[k]).abs() < 0.01,
                "{}: Lab {:?} vs {want_lab:?}",
                p["name"],
                labs[i]
            );
            assert!(
                (rgbs[i][k] - want_rgb[k]).abs() < 1e-4,
                "{}: rgb {:?} vs {want_rgb:?}",
                p["name"],
                rgbs[i]
            );
        }
    }
}

/// A classic phantom close-up (1000 px at 20 px/mm), with or without the chart.
fn phantom(chart: bool) -> (RgbImage, Option<[u32; 4]>) {
    let spec = PhantomSpec {
        chart,
        ..PhantomSpec::default()
    };
    let p = render_phantom(&spec, 11);
    (p.image, p.truth.chart_box_px)
}

/// sRGB encoding of a linear value in [0, 1], to 8 bits.
fn encode(v: f64) -> u8 {
    let v = v.clamp(0.0, 1.0);
    let c = if v <= 0.0031308 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    };
    (c * 255.0).round() as u8
}

/// The photo as taken with other white-balance gains and exposure: each linear channel times
/// `gains`, re-encoded to 8 bits.
fn cast(img: &RgbImage, gains: [f64; 3]) -> RgbImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        for (c, g) in p.0.iter_mut().zip(gains) {
            *c = encode(srgb_to_linear(f64::from(*c) / 255.0) * g);
        }
    }
    out
}

/// A warm cast (tungsten-like gains on blue and green) and 0.7 exposure.
const WARM_07: [f64; 3] = [0.7, 0.7 * 0.86, 0.7 * 0.62];

fn analyse(img: &RgbImage, config: Config) -> ImageRecord {
    let settings = AnalyzeSettings::for_pixels(
        RoiMode::Full,
        Some(20.0),
        config,
        Some(2),
        &Runtime::Embedded,
    )
    .unwrap();
    let rec = analyze_pixels(
        &settings,
        "p",
        skintex::input::decode::pixels_image(DynamicImage::ImageRgb8(img.clone())),
    )
    .unwrap();
    assert!(rec.is_ok(), "{:?}", rec.outcome);
    rec
}

/// The value of metric `name` in the single zone of `rec`.
fn metric(rec: &ImageRecord, name: &str) -> f64 {
    let col = metric_columns()
        .iter()
        .position(|c| c.name == name)
        .unwrap();
    let zones = rec.outcome.as_ref().unwrap();
    zones[0].measurement.values[col].clone().unwrap()
}

fn area(rec: &ImageRecord) -> usize {
    rec.outcome.as_ref().unwrap()[0].area_px
}

/// Issue 15's acceptance: the same close-up with a chart, neutral and with a warm cast plus 0.7
/// exposure. Without correction the cast moves ITA and L* far; with the chart's correction both
/// come back within 2 deg and 1.5 of the neutral photo's corrected values, the chart's ΔE00
/// after correction is at most 3 on both, and the chart's area is not in the zone.
#[test]
fn chart_correction_undoes_a_warm_cast_and_exposure() {
    let (neutral, truth_box) = phantom(true);
    let warm = cast(&neutral, WARM_07);
    let off = Config {
        chart: skintex::config::ChartParams {
            detect: 0,
            ..Default::default()
        },
        ..Config::default()
    };
    let (n, w) = (
        analyse(&neutral, Config::default()),
        analyse(&warm, Config::default()),
    );
    let (n_raw, w_raw) = (analyse(&neutral, off.clone()), analyse(&warm, off));
    for (name, rec) in [("neutral", &n), ("warm", &w)] {
        let chart = rec.chart.unwrap();
        eprintln!(
            "{name}: chart ΔE00 before {:.3} after {:.3}; ITA {:.3} L* {:.3}; area {}",
            chart.delta_e00_before.unwrap(),
            chart.delta_e00_after.unwrap(),
            metric(rec, "tone_ita_deg"),
            metric(rec, "tone_l_mean"),
            area(rec)
        );
        assert!(chart.found && chart.tone_corrected, "{name}");
        assert!(chart.delta_e00_after.unwrap() <= 3.0, "{name}: {chart:?}");
    }
    let uncorrected = |r: &ImageRecord| (metric(r, "tone_ita_deg"), metric(r, "tone_l_mean"));
    eprintln!(
        "uncorrected: neutral {:?}, warm {:?}",
        uncorrected(&n_raw),
        uncorrected(&w_raw)
    );
    // The cast is large: the chart sees it, and uncorrected tone moves far.
    assert!(w.chart.unwrap().delta_e00_before.unwrap() > 10.0);
    assert!((uncorrected(&w_raw).0 - uncorrected(&n_raw).0).abs() > 10.0);
    assert!((uncorrected(&w_raw).1 - uncorrected(&n_raw).1).abs() > 5.0);
    let d_ita = (metric(&w, "tone_ita_deg") - metric(&n, "tone_ita_deg")).abs();
    let d_l = (metric(&w, "tone_l_mean") - metric(&n, "tone_l_mean")).abs();
    assert!(d_ita <= 2.0 && d_l <= 1.5, "ΔITA {d_ita}, ΔL* {d_l}");
    // The chart (patch box grown by a margin) is not skin: the zone is the image without it.
    let [_, _, bw, bh] = truth_box.unwrap().map(|v| v as usize);
    let total = 1000 * 1000;
    // At least the patch box and the frame around it (a margin of a quarter patch pitch).
    assert!(
        area(&n) + (bw + bw / 12) * (bh + bh / 8) <= total,
        "{} px",
        area(&n)
    );
    assert_eq!(area(&n), area(&w));
    assert_eq!(area(&n_raw), total);
    // The neutral photo's corrected tone is that of the same skin photographed without a
    // chart (the phantom's camera is white-balanced): the correction does not move it.
    let plain = phantom(false).0;
    let (plain, plain_warm) = (
        analyse(&plain, Config::default()),
        analyse(&cast(&plain, WARM_07), Config::default()),
    );
    eprintln!(
        "no chart, skin only: neutral {:?}, warm {:?}",
        uncorrected(&plain),
        uncorrected(&plain_warm)
    );
    for (name, tol) in [("tone_ita_deg", 2.0), ("tone_l_mean", 1.5)] {
        let (got, want) = (metric(&n, name), metric(&plain, name));
        assert!(
            (got - want).abs() <= tol,
            "{name}: {got} vs {want} without a chart"
        );
    }
}

/// Without a chart nothing changes: chart_found false, tone not corrected and its values
/// bit-identical to tone measured directly on the photo (as before charts existed), and the
/// zone is the whole image.
#[test]
fn no_chart_leaves_tone_unchanged() {
    let (img, truth_box) = phantom(false);
    assert!(truth_box.is_none());
    let rec = analyse(&img, Config::default());
    let chart = rec.chart.unwrap();
    assert!(!chart.found && !chart.tone_corrected);
    assert_eq!(
        (chart.delta_e00_before, chart.delta_e00_after),
        (None, None)
    );
    assert_eq!(area(&rec), 1000 * 1000);
    let planes = colour_planes(&DynamicImage::ImageRgb8(img));
    let direct = tone::measure(
        &planes,
        &full_image_zones(1000, 1000)[0],
        &Config::default().tone,
    );
    for (spec, want) in tone::COLUMNS.iter().zip(direct) {
        let got = metric(&rec, spec.name);
        assert_eq!(got.to_bits(), want.unwrap().to_bits(), "{}", spec.name);
    }
}

/// A chart boxed by the manifest's `chart_box` (search off): found, corrected, out of the zone,
/// written to images.csv; a box outside the image is that image's error.
#[test]
fn chart_box_from_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let (neutral, truth_box) = phantom(true);
    cast(&neutral, WARM_07)
        .save(dir.path().join("warm.png"))
        .unwrap();
    let [x, y, w, h] = truth_box.unwrap();
    std::fs::write(
        dir.path().join("m.csv"),
        format!("path,image_id,chart_box\nwarm.png,warm,\"{x},{y},{w},{h}\"\nwarm.png,outside,\"900,900,300,200\"\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("c.toml"), "[chart]\ndetect = 0\n").unwrap();
    let out = dir.path().join("out");
    let run = skintex()
        .args(["analyze", "--manifest"])
        .arg(dir.path().join("m.csv"))
        .args([
            "--roi",
            "full",
            "--px-per-mm",
            "20",
            "--no-qc",
            "--quiet",
            "--config",
        ])
        .arg(dir.path().join("c.toml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (header, rows) = read_csv(&out.join("images.csv"));
    let get = |r: usize, n: &str| cell(&header, &rows[r], n).to_owned();
    assert_eq!(get(0, "chart_found"), "true");
    assert_eq!(get(0, "tone_correction"), "chart");
    let after: f64 = get(0, "chart_delta_e00_after").parse().unwrap();
    let before: f64 = get(0, "chart_delta_e00_before").parse().unwrap();
    assert!(after <= 3.0 && before > 10.0, "{before} {after}");
    assert_eq!(get(1, "status"), "error");
    assert!(get(1, "error").contains("chart_box"), "{}", get(1, "error"));
    assert_eq!(get(1, "chart_found"), "");
    let (mh, mrows) = read_csv(&out.join("metrics.csv"));
    let zone_area: usize = cell(&mh, &mrows[0], "zone_area_px").parse().unwrap();
    assert!(zone_area <= 1000 * 1000 - (w * h) as usize, "{zone_area}");
}

/// Photos without a chart: no chart on realistic skin phantoms (any skin tone, light, hair,
/// pores) or the demo portrait, and the search on a 12 MP photo takes well under a second
/// (it runs on a copy decimated to 1024 px).
#[test]
fn no_chart_is_found_in_photos_without_one_and_the_search_is_fast() {
    use skintex::chart::chart_fit;
    let params = Config::default().chart;
    for seed in 1..=6 {
        let p = render_phantom(&PhantomSpec::realistic(), seed);
        let planes = colour_planes(&DynamicImage::ImageRgb8(p.image));
        let fit = chart_fit(&planes, None, &params).unwrap();
        assert!(fit.is_none(), "seed {seed}: {fit:?}");
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let portrait = image::open(root.join("data/demo/astronaut.png")).unwrap();
    let big = portrait.resize_exact(4000, 3000, image::imageops::FilterType::Triangle);
    let planes = colour_planes(&big);
    let started = std::time::Instant::now();
    let fit = chart_fit(&planes, None, &params).unwrap();
    let ms = started.elapsed().as_secs_f64() * 1e3;
    eprintln!("chart search on 12 MP: {ms:.0} ms");
    assert!(fit.is_none());
    assert!(ms < 1500.0, "{ms} ms");
}

/// The chart is found turned by 90, 180 and 270 degrees (the orientation read from its
/// colours) and at a third of the size, with the same fit quality.
#[test]
fn chart_is_found_in_any_quarter_turn_and_small() {
    use image::imageops::{FilterType, resize, rotate90, rotate180, rotate270};
    use skintex::chart::chart_fit;
    let (img, _) = phantom(true);
    let params = Config::default().chart;
    let small = resize(&img, 340, 340, FilterType::Triangle);
    for (turn, photo) in [
        (0, img.clone()),
        (90, rotate90(&img)),
        (180, rotate180(&img)),
        (270, rotate270(&img)),
        (0, small),
    ] {
        let planes = colour_planes(&DynamicImage::ImageRgb8(photo));
        let fit = chart_fit(&planes, None, &params)
            .unwrap()
            .expect("chart found");
        assert_eq!(fit.rotation_deg, turn);
        let after = fit.delta_e00_after.unwrap();
        assert!(after <= 3.0, "{turn}: ΔE00 after {after}");
    }
}

/// The root-polynomial corrections (chart.root_polynomial_degree 2 and 3) also bring the warm,
/// under-exposed chart within 3 ΔE00.
#[test]
fn root_polynomial_corrections_fit_the_cast_chart() {
    use skintex::chart::chart_fit;
    let warm = cast(&phantom(true).0, WARM_07);
    let planes = colour_planes(&DynamicImage::ImageRgb8(warm));
    let after = |degree: u32| {
        let params = skintex::config::ChartParams {
            root_polynomial_degree: degree,
            ..Default::default()
        };
        let fit = chart_fit(&planes, None, &params).unwrap().unwrap();
        assert_eq!(fit.correction.as_ref().unwrap().degree(), degree);
        fit.delta_e00_after.unwrap()
    };
    let linear = after(1);
    for degree in [2, 3] {
        let d = after(degree);
        eprintln!("degree {degree}: ΔE00 after {d:.3} (3x3: {linear:.3})");
        assert!(d <= 3.0, "degree {degree}: {d}");
    }
}

/// White balance from the chart's neutral patches: `capture_wb_source` = `chart`, channel gains
/// 1 on the neutral rendering and the cast's own gain ratios under a warm cast (0.86 on G, 0.62
/// on B, so R/G = 1/0.86 and B/G = 0.62/0.86), where `colour_cast` is flagged; without a chart
/// the skin is the source.
#[test]
fn white_balance_comes_from_the_chart_neutrals() {
    let (neutral, _) = phantom(true);
    let warm = cast(&neutral, WARM_07);
    let q = |img: &RgbImage| analyse(img, Config::default()).capture.unwrap();
    let (qn, qw) = (q(&neutral), q(&warm));
    for (name, qq) in [("neutral", &qn), ("warm", &qw)] {
        println!(
            "{name}: source {}, R/G {:.4}, B/G {:.4}, hue {:.1} deg, flags {:?}",
            qq.wb_source,
            qq.get("capture_wb_r_over_g").unwrap(),
            qq.get("capture_wb_b_over_g").unwrap(),
            qq.get("capture_wb_hue_deg").unwrap(),
            qq.flags
        );
        assert_eq!(qq.wb_source, "chart");
    }
    let close = |v: f64, want: f64, tol: f64| (v - want).abs() <= tol;
    assert!(close(qn.get("capture_wb_r_over_g").unwrap(), 1.0, 0.02));
    assert!(close(qn.get("capture_wb_b_over_g").unwrap(), 1.0, 0.02));
    assert!(
        !qn.flags.iter().any(|f| f == "colour_cast"),
        "{:?}",
        qn.flags
    );
    assert!(close(
        qw.get("capture_wb_r_over_g").unwrap(),
        1.0 / 0.86,
        0.03
    ));
    assert!(close(
        qw.get("capture_wb_b_over_g").unwrap(),
        0.62 / 0.86,
        0.03
    ));
    assert!(
        qw.flags.iter().any(|f| f == "colour_cast"),
        "{:?}",
        qw.flags
    );
    // The warm neutrals' hue is yellow-orange (b* > 0 beyond a*).
    let hue = qw.get("capture_wb_hue_deg").unwrap();
    assert!((45.0..110.0).contains(&hue), "{hue}");
    let (plain, _) = phantom(false);
    assert_eq!(q(&plain).wb_source, "skin");
}

/// The QC picture outlines the chart's area (left out of every zone) in its own colour: many
/// chart-green pixels along the chart's box, few anywhere else, few on a photo without a chart.
#[test]
fn qc_picture_outlines_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    // Chart-green pixels of `qc` within `near` (x0, y0, x1, y1 in QC px; None: everywhere).
    let green = |qc: &RgbImage, near: Option<[f64; 4]>| {
        qc.enumerate_pixels()
            .filter(|(x, y, p)| {
                let in_band = near.is_none_or(|[x0, y0, x1, y1]| {
                    let (x, y) = (f64::from(*x), f64::from(*y));
                    x >= x0 && x <= x1 && y >= y0 && y <= y1
                });
                in_band && p[1] > 200 && p[0] < 150 && p[2] < 190
            })
            .count()
    };
    let mut counts = Vec::new();
    for chart in [true, false] {
        let (img, truth_box) = phantom(chart);
        let name = if chart { "chart" } else { "plain" };
        img.save(dir.path().join(format!("{name}.png"))).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let run = skintex()
            .arg("analyze")
            .arg(dir.path().join(format!("{name}.png")))
            .args(["--roi", "full", "--px-per-mm", "20", "--quiet", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let qc = image::open(out.join("qc").join(format!("{name}.jpg")))
            .unwrap()
            .to_rgb8();
        let s = f64::from(qc.width()) / f64::from(img.width());
        let band = truth_box.map(|[x, y, w, h]| {
            let m = 150.0; // 7.5 mm at 20 px/mm: the chart's margin (chart.margin_cells) and the outline
            [
                (f64::from(x) - m) * s,
                (f64::from(y) - m) * s,
                (f64::from(x + w) + m) * s,
                (f64::from(y + h) + m) * s,
            ]
        });
        let perimeter = truth_box.map_or(0.0, |[_, _, w, h]| 2.0 * f64::from(w + h) * s);
        counts.push((green(&qc, band), green(&qc, None), perimeter));
    }
    // The chart sits in a corner: its box runs off the picture on two sides (and under the
    // caption bar), so about half of each outline shows, less what JPEG blurs away.
    let (near, all, perimeter) = counts[0];
    assert!(
        near as f64 >= 0.3 * perimeter,
        "{near} chart-green px along a chart of perimeter {perimeter:.0} px"
    );
    // Elsewhere only JPEG's chroma bleeding around the 1 px cyan pore dots turns greenish, as
    // much with a chart as without one.
    let plain = counts[1].1;
    assert!(
        (all - near) * 10 < near && plain * 10 < near,
        "{near} chart-green px along the chart, {} away from it, {plain} without a chart",
        all - near
    );
}
