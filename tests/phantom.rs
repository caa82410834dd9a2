//! Phantom generator: determinism, ground-truth sanity, visibility of the features in the
//! rendered image, and the `skintex phantom` command through the built binary.

use assert_cmd::Command;
use image::RgbImage;
use predicates::str::contains;
use skintex::phantom::{
    BOXCAR_DIAMETER_MM, GroundTruth, ICEPICK_DIAMETER_MM, PhantomSpec, ROLLING_DIAMETER_MM,
    SPOT_DIAMETER_MM, ScarTruth, WrinkleTruth, render_phantom,
};

const GAP_MM: f64 = 1.0;

fn srgb_to_linear(c: u8) -> f64 {
    let c = c as f64 / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear RGB and luminance of one pixel.
fn linear(img: &RgbImage, x: i64, y: i64) -> Option<[f64; 4]> {
    if x < 0 || y < 0 || x >= img.width() as i64 || y >= img.height() as i64 {
        return None;
    }
    let p = img.get_pixel(x as u32, y as u32).0;
    let [r, g, b] = p.map(srgb_to_linear);
    Some([r, g, b, 0.2126 * r + 0.7152 * g + 0.0722 * b])
}

/// Mean linear [R, G, B, Y] over pixels whose distance from (cx, cy) is in [r0, r1) px.
fn annulus_mean(img: &RgbImage, cx: f64, cy: f64, r0: f64, r1: f64) -> [f64; 4] {
    let mut acc = [0.0; 4];
    let mut n = 0.0;
    for y in (cy - r1).floor() as i64..=(cy + r1).ceil() as i64 {
        for x in (cx - r1).floor() as i64..=(cx + r1).ceil() as i64 {
            let r = ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)).sqrt();
            if r >= r0
                && r < r1
                && let Some(v) = linear(img, x, y)
            {
                for c in 0..4 {
                    acc[c] += v[c];
                }
                n += 1.0;
            }
        }
    }
    assert!(n > 0.0, "empty annulus");
    acc.map(|a| a / n)
}

fn seg_dist(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((p[0] - a[0] - t * dx).powi(2) + (p[1] - a[1] - t * dy).powi(2)).sqrt()
}

fn line_dist(p: [f64; 2], line: &[[f64; 2]]) -> f64 {
    line.windows(2)
        .map(|s| seg_dist(p, s[0], s[1]))
        .fold(f64::INFINITY, f64::min)
}

/// Half-width of a wrinkle's footprint, mm (3σ for Gaussian, the surface half-width for V).
fn reach_mm(w: &WrinkleTruth) -> f64 {
    if w.profile == "v" {
        w.width_mm
    } else {
        3.0 * w.width_mm / 2.354_820_045
    }
}

/// Largest semi-axis of a scar, mm.
fn scar_reach_mm(s: &ScarTruth) -> f64 {
    0.5 * s.diameter_mm / s.aspect.sqrt()
}

#[test]
fn same_seed_same_bytes_different_seed_different_image() {
    let spec = PhantomSpec::default();
    let a = render_phantom(&spec, 5);
    let b = render_phantom(&spec, 5);
    let c = render_phantom(&spec, 6);
    assert_eq!(a.image.as_raw(), b.image.as_raw());
    assert_eq!(a.truth, b.truth);
    assert_ne!(a.image.as_raw(), c.image.as_raw());
    assert_ne!(a.truth.wrinkles, c.truth.wrinkles);
    // Same seed with JPEG: deterministic as well, and different from the lossless image.
    let jspec = PhantomSpec {
        jpeg_quality: Some(80),
        ..spec
    };
    let j1 = render_phantom(&jspec, 5);
    let j2 = render_phantom(&jspec, 5);
    assert_eq!(j1.image.as_raw(), j2.image.as_raw());
    assert_ne!(j1.image.as_raw(), a.image.as_raw());
    assert_eq!(j1.truth, a.truth);
}

#[test]
fn switching_texture_components_does_not_move_features() {
    let spec = PhantomSpec::default();
    let plain = PhantomSpec {
        furrows: false,
        pores: false,
        relief_sq_mm: 0.0,
        ..spec.clone()
    };
    let a = render_phantom(&spec, 11);
    let b = render_phantom(&plain, 11);
    assert_eq!(a.truth.wrinkles, b.truth.wrinkles);
    assert_eq!(a.truth.scars, b.truth.scars);
    assert_ne!(a.image.as_raw(), b.image.as_raw());
}

fn check_truth(spec: &PhantomSpec, t: &GroundTruth) {
    let ppm = spec.px_per_mm;
    let size = spec.size_px as f64;
    assert_eq!(
        t.wrinkles.len() as u32,
        spec.wrinkles,
        "all wrinkles placed"
    );
    let kinds = |k: &str| t.scars.iter().filter(|s| s.kind == k).count() as u32;
    assert_eq!(kinds("icepick"), spec.icepick);
    assert_eq!(kinds("boxcar"), spec.boxcar);
    assert_eq!(kinds("rolling"), spec.rolling);
    assert_eq!(t.spots.len() as u32, spec.pigmented_spots);
    let mut total = 0.0;
    for w in &t.wrinkles {
        let margin_px = (reach_mm(w) + GAP_MM) * ppm - 0.5 - 1e-6;
        for p in &w.polyline_px {
            assert!(
                p[0] >= margin_px && p[0] <= size - 1.0 - margin_px,
                "{p:?} x out"
            );
            assert!(
                p[1] >= margin_px && p[1] <= size - 1.0 - margin_px,
                "{p:?} y out"
            );
        }
        let len_px: f64 = w
            .polyline_px
            .windows(2)
            .map(|s| ((s[1][0] - s[0][0]).powi(2) + (s[1][1] - s[0][1]).powi(2)).sqrt())
            .sum();
        assert!((len_px / ppm - w.length_mm).abs() < 1e-9);
        let r = spec.wrinkle_length_mm;
        assert!(
            w.length_mm >= r[0] - 1e-9 && w.length_mm <= r[1] + 1e-9,
            "{}",
            w.length_mm
        );
        assert!(w.width_mm >= spec.wrinkle_width_mm[0] && w.width_mm <= spec.wrinkle_width_mm[1]);
        assert!(w.depth_mm >= spec.wrinkle_depth_mm[0] && w.depth_mm <= spec.wrinkle_depth_mm[1]);
        assert!((0.0..180.0).contains(&w.orientation_deg));
        // Orientation is the chord direction, counter-clockwise as displayed.
        let (a, b) = (w.polyline_px[0], *w.polyline_px.last().unwrap());
        let chord = (-(b[1] - a[1]))
            .atan2(b[0] - a[0])
            .to_degrees()
            .rem_euclid(180.0);
        let diff = (chord - w.orientation_deg).abs();
        assert!(diff < 1e-6 || (180.0 - diff) < 1e-6);
        // Vertices no more than 0.25 mm apart.
        for s in w.polyline_px.windows(2) {
            let d = ((s[1][0] - s[0][0]).powi(2) + (s[1][1] - s[0][1]).powi(2)).sqrt();
            assert!(d <= 0.25 * ppm + 1e-9);
        }
        assert!(["gaussian", "v"].contains(&w.profile.as_str()));
        total += w.length_mm;
    }
    assert!((total - t.total_wrinkle_length_mm).abs() < 1e-9);
    for s in &t.scars {
        let range = match s.kind.as_str() {
            "icepick" => ICEPICK_DIAMETER_MM,
            "boxcar" => BOXCAR_DIAMETER_MM,
            "rolling" => ROLLING_DIAMETER_MM,
            k => panic!("unknown kind {k}"),
        };
        assert!(
            s.diameter_mm >= range[0] && s.diameter_mm <= range[1],
            "{s:?}"
        );
        let depth = match s.kind.as_str() {
            "icepick" => spec.icepick_depth_mm,
            "boxcar" => spec.boxcar_depth_mm,
            _ => spec.rolling_depth_mm,
        };
        assert!(s.depth_mm >= depth[0] && s.depth_mm <= depth[1]);
        let m = (scar_reach_mm(s) + GAP_MM) * ppm - 0.5 - 1e-6;
        assert!(s.x_px >= m && s.x_px <= size - 1.0 - m && s.y_px >= m && s.y_px <= size - 1.0 - m);
        for w in &t.wrinkles {
            let d = line_dist([s.x_px, s.y_px], &w.polyline_px) / ppm;
            assert!(
                d >= scar_reach_mm(s) + reach_mm(w) + GAP_MM - 1e-9,
                "scar-wrinkle {d}"
            );
        }
    }
    for (i, a) in t.scars.iter().enumerate() {
        for b in &t.scars[i + 1..] {
            let d = ((a.x_px - b.x_px).powi(2) + (a.y_px - b.y_px).powi(2)).sqrt() / ppm;
            assert!(
                d >= scar_reach_mm(a) + scar_reach_mm(b) + GAP_MM - 1e-9,
                "scar-scar {d}"
            );
        }
    }
    for (i, a) in t.wrinkles.iter().enumerate() {
        for b in &t.wrinkles[i + 1..] {
            let d = a
                .polyline_px
                .iter()
                .map(|&p| line_dist(p, &b.polyline_px))
                .fold(f64::INFINITY, f64::min)
                / ppm;
            assert!(
                d >= reach_mm(a) + reach_mm(b) + GAP_MM - 1e-9,
                "wrinkle-wrinkle {d}"
            );
        }
    }
    for sp in &t.spots {
        assert!(sp.diameter_mm >= SPOT_DIAMETER_MM[0] && sp.diameter_mm <= SPOT_DIAMETER_MM[1]);
        let r = 0.5 * sp.diameter_mm;
        for s in &t.scars {
            let d = ((sp.x_px - s.x_px).powi(2) + (sp.y_px - s.y_px).powi(2)).sqrt() / ppm;
            assert!(d >= r + scar_reach_mm(s) + GAP_MM - 1e-9);
        }
        for w in &t.wrinkles {
            let d = line_dist([sp.x_px, sp.y_px], &w.polyline_px) / ppm;
            assert!(d >= r + reach_mm(w) + GAP_MM - 1e-9);
        }
    }
}

#[test]
fn ground_truth_is_inside_in_range_and_non_overlapping() {
    let spec = PhantomSpec::default();
    for seed in 0..8 {
        let p = render_phantom(&spec, seed);
        assert_eq!(p.image.dimensions(), (1000, 1000));
        assert_eq!(p.truth.seed, seed);
        check_truth(&spec, &p.truth);
    }
    // A denser, lower-resolution variant.
    let spec = PhantomSpec {
        size_px: 600,
        px_per_mm: 10.0,
        wrinkles: 5,
        icepick: 4,
        boxcar: 3,
        rolling: 2,
        pigmented_spots: 3,
        ..PhantomSpec::default()
    };
    for seed in 0..4 {
        check_truth(&spec, &render_phantom(&spec, seed).truth);
    }
}

#[test]
fn features_that_do_not_fit_are_left_out_not_forced() {
    // 4 mm of skin: no rolling scar (4-6 mm) nor any 5 mm wrinkle can fit with 1 mm margins.
    let spec = PhantomSpec {
        size_px: 80,
        px_per_mm: 20.0,
        ..PhantomSpec::default()
    };
    let p = render_phantom(&spec, 3);
    assert!(p.truth.wrinkles.is_empty());
    assert!(p.truth.scars.iter().all(|s| s.kind != "rolling"));
    assert_eq!(p.image.dimensions(), (80, 80));
}

/// Relative luminance contrast of each scar: 1 − Y(central disk) / Y(ring around the rim).
fn scar_contrasts(p: &skintex::phantom::Phantom) -> Vec<(String, f64, f64)> {
    let ppm = p.truth.px_per_mm;
    p.truth
        .scars
        .iter()
        .map(|s| {
            let r = 0.5 * s.diameter_mm * ppm * s.aspect.sqrt(); // minor semi-axis
            let rmax = scar_reach_mm(s) * ppm;
            let inner = annulus_mean(&p.image, s.x_px, s.y_px, 0.0, 0.4 * r);
            let ring = annulus_mean(&p.image, s.x_px, s.y_px, rmax + 0.3 * ppm, rmax + 0.8 * ppm);
            let br_in = inner[2] / inner[0];
            let br_out = ring[2] / ring[0];
            (s.kind.clone(), 1.0 - inner[3] / ring[3], br_in / br_out)
        })
        .collect()
}

/// Relative luminance contrast of a wrinkle: 1 − Y(centre line) / Y(bands on both sides), away
/// from the tapered ends.
fn wrinkle_contrast(img: &RgbImage, w: &WrinkleTruth, ppm: f64) -> f64 {
    let off = (reach_mm(w) + 0.3) * ppm;
    let (mut yc, mut nc, mut yb, mut nb) = (0.0, 0.0, 0.0, 0.0);
    let line = &w.polyline_px;
    let mut s = 0.0;
    let total = w.length_mm * ppm;
    for seg in line.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        let l = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        let (tx, ty) = ((b[0] - a[0]) / l, (b[1] - a[1]) / l);
        let steps = l.ceil() as usize;
        for k in 0..steps {
            let t = k as f64 / steps as f64;
            let sk = s + t * l;
            if sk < w.taper_mm * ppm || total - sk < w.taper_mm * ppm {
                continue;
            }
            let p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
            if let Some(v) = linear(img, p[0].round() as i64, p[1].round() as i64) {
                yc += v[3];
                nc += 1.0;
            }
            for sign in [-1.0, 1.0] {
                for extra in [0.0, 0.25 * ppm] {
                    let d = sign * (off + extra);
                    let q = [p[0] - ty * d, p[1] + tx * d];
                    // Skip band samples that fall near the wrinkle itself (curvature).
                    if line_dist(q, line) < off - 1.0 {
                        continue;
                    }
                    if let Some(v) = linear(img, q[0].round() as i64, q[1].round() as i64) {
                        yb += v[3];
                        nb += 1.0;
                    }
                }
            }
        }
        s += l;
    }
    1.0 - (yc / nc) / (yb / nb)
}

#[test]
fn scars_and_wrinkles_are_darker_than_their_surround() {
    let spec = PhantomSpec::default();
    let mut all_scars = Vec::new();
    let mut all_wrinkles = Vec::new();
    for seed in 0..6 {
        let p = render_phantom(&spec, seed);
        for (kind, c, br) in scar_contrasts(&p) {
            assert!(c > 0.03, "seed {seed} {kind}: contrast {c:.3}");
            // Shading and cavity darkening are grey: blue/red ratio nearly unchanged.
            assert!(
                (br - 1.0).abs() < 0.05,
                "seed {seed} {kind}: B/R ratio change {br:.3}"
            );
            all_scars.push((kind, c));
        }
        for w in &p.truth.wrinkles {
            let c = wrinkle_contrast(&p.image, w, spec.px_per_mm);
            assert!(
                c > 0.02,
                "seed {seed}: wrinkle depth {:.3} contrast {c:.3}",
                w.depth_mm
            );
            all_wrinkles.push((w.depth_mm, c));
        }
        // Pigmented spots: melanin-like, blue drops much more than red.
        for sp in &p.truth.spots {
            let r = 0.5 * sp.diameter_mm * spec.px_per_mm;
            let inner = annulus_mean(&p.image, sp.x_px, sp.y_px, 0.0, 0.5 * r);
            let ring = annulus_mean(
                &p.image,
                sp.x_px,
                sp.y_px,
                r + 0.3 * spec.px_per_mm,
                r + 0.8 * spec.px_per_mm,
            );
            let ratio = (inner[2] / inner[0]) / (ring[2] / ring[0]);
            assert!(
                (ratio - 0.6 / 0.85).abs() < 0.05,
                "seed {seed}: spot B/R ratio {ratio:.3}"
            );
        }
    }
    eprintln!("scar contrasts: {all_scars:?}");
    eprintln!("wrinkle (depth, contrast): {all_wrinkles:?}");
}

#[test]
fn shallow_wrinkle_and_boxcar_contrast_is_a_few_percent_and_fine_texture_is_weak() {
    // One wrinkle of exactly 0.05 mm depth, one boxcar of 0.2-0.3 mm.
    let spec = PhantomSpec {
        wrinkles: 1,
        wrinkle_depth_mm: [0.05, 0.05],
        wrinkle_width_mm: [0.3, 0.6],
        icepick: 0,
        boxcar: 1,
        boxcar_depth_mm: [0.2, 0.3],
        rolling: 0,
        pigmented_spots: 0,
        ..PhantomSpec::default()
    };
    for seed in 0..4 {
        let p = render_phantom(&spec, seed);
        let wc = wrinkle_contrast(&p.image, &p.truth.wrinkles[0], spec.px_per_mm);
        assert!(
            (0.03..0.20).contains(&wc),
            "seed {seed}: 0.05 mm wrinkle contrast {wc:.3}"
        );
        let (_, bc, _) = scar_contrasts(&p)[0].clone();
        assert!(
            (0.05..0.35).contains(&bc),
            "seed {seed}: boxcar contrast {bc:.3}"
        );
    }
    // Texture only: pixel-to-pixel luminance contrast is weak (a few %) but present.
    let plain = PhantomSpec {
        wrinkles: 0,
        icepick: 0,
        boxcar: 0,
        rolling: 0,
        pigmented_spots: 0,
        camera_effects: false,
        ..PhantomSpec::default()
    };
    let p = render_phantom(&plain, 1);
    let ys: Vec<f64> = (0..1000)
        .flat_map(|y| (0..1000).map(move |x| (x, y)))
        .map(|(x, y)| linear(&p.image, x, y).unwrap()[3])
        .collect();
    let mean = ys.iter().sum::<f64>() / ys.len() as f64;
    let cv = (ys.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / ys.len() as f64).sqrt() / mean;
    eprintln!("texture-only luminance CV {cv:.4}");
    assert!((0.005..0.06).contains(&cv), "texture CV {cv:.4}");
}

#[test]
fn deeper_wrinkles_give_more_contrast() {
    let mut last = -1.0;
    for depth in [0.03, 0.06, 0.12] {
        let spec = PhantomSpec {
            wrinkles: 3,
            wrinkle_depth_mm: [depth, depth],
            ..PhantomSpec::default()
        };
        let p = render_phantom(&spec, 21);
        let c: f64 = p
            .truth
            .wrinkles
            .iter()
            .map(|w| wrinkle_contrast(&p.image, w, spec.px_per_mm))
            .sum::<f64>()
            / 3.0;
        assert!(
            c > last,
            "depth {depth}: contrast {c:.3} not above {last:.3}"
        );
        last = c;
    }
}

/// Equal JSON trees, numbers within 1e-12 relative.
fn assert_close(a: &serde_json::Value, b: &serde_json::Value) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0),
                "{x} vs {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).for_each(|(x, y)| assert_close(x, y));
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>());
            x.iter().for_each(|(k, v)| assert_close(v, &y[k]));
        }
        _ => assert_eq!(a, b),
    }
}

#[test]
fn cli_writes_phantoms_and_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ph");
    Command::cargo_bin("skintex")
        .unwrap()
        .args([
            "phantom",
            "--preset",
            "classic",
            "--count",
            "2",
            "--seed",
            "7",
            "--scars",
            "icepick=1,rolling=2",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("wrote 2 phantom"));
    for (i, seed) in [(1, 7u64), (2, 8)] {
        let png = out.join(format!("phantom-00{i}.png"));
        let img = image::open(&png).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (1000, 1000));
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.join(format!("phantom-00{i}.json"))).unwrap(),
        )
        .unwrap();
        let truth: GroundTruth = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(truth.seed, seed);
        assert_eq!(truth.wrinkles.len(), 3);
        assert_eq!(
            truth.scars.iter().filter(|s| s.kind == "icepick").count(),
            1
        );
        assert_eq!(
            truth.scars.iter().filter(|s| s.kind == "rolling").count(),
            2
        );
        assert_eq!(truth.scars.iter().filter(|s| s.kind == "boxcar").count(), 0);
        assert_eq!(json["spec"]["icepick"], 1);
        assert_eq!(json["image"], format!("phantom-00{i}.png"));
        assert_eq!(json["skintex_version"], env!("CARGO_PKG_VERSION"));
        // The CLI writes exactly what the library renders.
        let spec = PhantomSpec {
            icepick: 1,
            boxcar: 0,
            rolling: 2,
            ..PhantomSpec::default()
        };
        let p = render_phantom(&spec, seed);
        assert_eq!(p.image.as_raw(), img.as_raw());
        // JSON text round trip may move the last bit of a float.
        assert_close(
            &serde_json::to_value(&p.truth).unwrap(),
            &serde_json::to_value(&truth).unwrap(),
        );
    }
    assert!(!out.join("phantom-003.png").exists());
}

#[test]
fn cli_rejects_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    for (args, msg) in [
        (vec!["--scars", "keloid=2"], "keloid"),
        (vec!["--scars", "icepick=two"], "icepick"),
        (vec!["--px-per-mm", "0"], "px_per_mm"),
        (vec!["--preset", "classic", "--size", "32"], "size"),
        (vec!["--size", "800"], "--size applies to --preset classic"),
        (vec!["--count", "0"], "count"),
        (vec!["--relief-sq=-0.1"], "relief"),
    ] {
        Command::cargo_bin("skintex")
            .unwrap()
            .arg("phantom")
            .arg("--out")
            .arg(dir.path().join("x"))
            .args(&args)
            .assert()
            .code(2)
            .stderr(contains(msg));
    }
    assert!(!dir.path().join("x").join("phantom-001.png").exists());
}
