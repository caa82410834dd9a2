//! The `skintex analyze` command through the built binary, on images generated here.

mod common;

use std::path::Path;

use common::{cell, jpeg_with_orientation, read_csv, save, skin_image, skin_pngs, skintex};
use image::ImageFormat;
use predicates::str::contains;

/// `skintex analyze ARGS --out OUT`, with `--roi full` unless ARGS choose a ROI.
fn analyze_command(args: &[&str], out: &Path) -> assert_cmd::Command {
    let roi: &[&str] = if args.contains(&"--roi") {
        &[]
    } else {
        &["--roi", "full"]
    };
    let mut command = skintex();
    command
        .arg("analyze")
        .args(roi)
        .args(args)
        .arg("--out")
        .arg(out);
    command
}

/// `skintex analyze ARGS --out OUT --quiet`, with `--roi full` unless ARGS choose a ROI.
fn analyze(args: &[&str], out: &Path) -> assert_cmd::assert::Assert {
    analyze_command(args, out).arg("--quiet").assert()
}

/// [`analyze`] without `--quiet`: (exit code, stderr).
fn analyze_loud(args: &[&str], out: &Path) -> (Option<i32>, String) {
    let output = analyze_command(args, out).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn folder_walk_is_recursive_sorted_and_case_insensitive() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("in");
    save(&skin_image(40, 30, 1), &d.join("b.png"), ImageFormat::Png);
    save(
        &skin_image(40, 30, 2),
        &d.join("a/z.JPG"),
        ImageFormat::Jpeg,
    );
    save(
        &skin_image(40, 30, 3),
        &d.join("a/c.tif"),
        ImageFormat::Tiff,
    );
    save(&skin_image(40, 30, 4), &d.join("C.Png"), ImageFormat::Png);
    std::fs::write(d.join("notes.txt"), "not an image").unwrap();
    let out = dir.path().join("out");
    analyze(&[d.to_str().unwrap()], &out).code(0);
    let (h, rows) = read_csv(&out.join("images.csv"));
    let ids: Vec<&str> = rows.iter().map(|r| cell(&h, r, "image_id")).collect();
    // Byte order of names: "C.Png" < "a" < "b.png"; inside a/: "c.tif" < "z.JPG".
    assert_eq!(ids, vec!["C", "a/c", "a/z", "b"]);
    let formats: Vec<&str> = rows.iter().map(|r| cell(&h, r, "format")).collect();
    assert_eq!(formats, vec!["png", "tiff", "jpeg", "png"]);
    let (mh, mrows) = read_csv(&out.join("metrics.csv"));
    assert_eq!(mrows.len(), 4, "one full zone per image");
    assert!(mrows.iter().all(|r| cell(&mh, r, "zone") == "full"));
    assert!(mrows.iter().all(|r| cell(&mh, r, "zone_area_px") == "1200"));
}

#[test]
fn truncated_jpeg_among_good_images_is_an_error_row_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("in");
    save(
        &skin_image(64, 48, 1),
        &d.join("good1.png"),
        ImageFormat::Png,
    );
    save(
        &skin_image(64, 48, 2),
        &d.join("good2.jpg"),
        ImageFormat::Jpeg,
    );
    let full = std::fs::read(d.join("good2.jpg")).unwrap();
    std::fs::write(d.join("broken.jpg"), &full[..full.len() / 3]).unwrap();
    let out = dir.path().join("out");
    analyze(&[d.to_str().unwrap()], &out).code(1);
    let (h, rows) = read_csv(&out.join("images.csv"));
    assert_eq!(rows.len(), 3);
    let status: Vec<&str> = rows.iter().map(|r| cell(&h, r, "status")).collect();
    assert_eq!(status, vec!["error", "ok", "ok"]);
    let error = cell(&h, &rows[0], "error");
    assert!(error.contains("broken.jpg"), "names the file: {error}");
    assert!(
        error.contains("jpeg decode failed"),
        "gives the reason: {error}"
    );
    let (_, mrows) = read_csv(&out.join("metrics.csv"));
    assert_eq!(mrows.len(), 2, "the good images are still measured");
}

#[test]
fn manifest_resolves_relative_paths_and_carries_columns() {
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study");
    save(
        &skin_image(50, 40, 1),
        &study.join("photos/s1_v0.png"),
        ImageFormat::Png,
    );
    save(
        &skin_image(50, 40, 2),
        &study.join("photos/s1_v1.png"),
        ImageFormat::Png,
    );
    std::fs::write(
        study.join("manifest.csv"),
        "path,image_id,subject,visit,arm,px_per_mm,device\n\
         photos/s1_v0.png,S1-V0,S1,baseline,treated,10,pen\n\
         photos/s1_v1.png,S1-V1,S1,week4,treated,,pen\n\
         photos/missing.png,S1-V2,S1,week8,treated,,pen\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    // Run from another folder: paths must resolve against the manifest's folder.
    skintex()
        .current_dir(dir.path())
        .args([
            "analyze",
            "--quiet",
            "--roi",
            "full",
            "--manifest",
            "study/manifest.csv",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(1);
    let (h, rows) = read_csv(&out.join("metrics.csv"));
    let expected_head = [
        "image_id", "path", "subject", "visit", "arm", "device", "zone",
    ];
    assert_eq!(&h[..7], &expected_head);
    assert_eq!(rows.len(), 2);
    assert_eq!(cell(&h, &rows[0], "image_id"), "S1-V0");
    assert_eq!(cell(&h, &rows[0], "visit"), "baseline");
    assert_eq!(cell(&h, &rows[0], "device"), "pen");
    assert_eq!(cell(&h, &rows[0], "calibration"), "manifest");
    assert_eq!(cell(&h, &rows[0], "px_per_mm"), "10");
    assert_eq!(cell(&h, &rows[0], "zone_area_mm2"), "20"); // 2000 px / 10^2
    assert_eq!(cell(&h, &rows[1], "calibration"), "none");
    assert_eq!(cell(&h, &rows[1], "zone_area_mm2"), "");
    assert!(cell(&h, &rows[1], "missing_reasons").contains("zone_area_mm2: uncalibrated"));
    let (ih, irows) = read_csv(&out.join("images.csv"));
    assert_eq!(cell(&ih, &irows[2], "status"), "error");
    assert!(cell(&ih, &irows[2], "error").contains("missing.png"));
    assert_eq!(cell(&ih, &irows[2], "subject"), "S1");
}

#[test]
fn cli_calibration_overrides_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    save(
        &skin_image(50, 40, 1),
        &dir.path().join("a.png"),
        ImageFormat::Png,
    );
    std::fs::write(dir.path().join("m.csv"), "path,px_per_mm\na.png,10\n").unwrap();
    let out = dir.path().join("out");
    let m = dir.path().join("m.csv");
    analyze(
        &["--manifest", m.to_str().unwrap(), "--px-per-mm", "20"],
        &out,
    )
    .code(0);
    let (h, rows) = read_csv(&out.join("metrics.csv"));
    assert_eq!(cell(&h, &rows[0], "calibration"), "cli");
    assert_eq!(cell(&h, &rows[0], "zone_area_mm2"), "5"); // 2000 / 20^2
}

#[test]
fn exif_orientation_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let img = skin_image(60, 20, 1);
    std::fs::write(dir.path().join("rot6.jpg"), jpeg_with_orientation(&img, 6)).unwrap();
    std::fs::write(dir.path().join("rot1.jpg"), jpeg_with_orientation(&img, 1)).unwrap();
    let out = dir.path().join("out");
    analyze(&[dir.path().to_str().unwrap()], &out).code(0);
    let (h, rows) = read_csv(&out.join("images.csv"));
    let r1 = &rows[0];
    let r6 = &rows[1];
    assert_eq!(cell(&h, r1, "exif_orientation"), "1");
    assert_eq!(
        (cell(&h, r1, "width"), cell(&h, r1, "height")),
        ("60", "20")
    );
    assert_eq!(cell(&h, r6, "exif_orientation"), "6");
    assert_eq!(
        (cell(&h, r6, "width"), cell(&h, r6, "height")),
        ("20", "60")
    );
}

#[test]
fn sixteen_bit_png_matches_its_eight_bit_twin() {
    let dir = tempfile::tempdir().unwrap();
    let img8 = skin_image(48, 32, 5);
    let img16 = image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::from_fn(48, 32, |x, y| {
        let p = img8.get_pixel(x, y).0;
        image::Rgb(p.map(|v| u16::from(v) * 257))
    });
    img16.save(dir.path().join("b16.png")).unwrap();
    img8.save(dir.path().join("a8.png")).unwrap();
    let out = dir.path().join("out");
    analyze(&[dir.path().to_str().unwrap()], &out).code(0);
    let (ih, irows) = read_csv(&out.join("images.csv"));
    assert_eq!(cell(&ih, &irows[0], "bit_depth"), "8");
    assert_eq!(cell(&ih, &irows[1], "bit_depth"), "16");
    let (h, rows) = read_csv(&out.join("metrics.csv"));
    for col in ["tone_l_mean", "tone_a_mean", "tone_b_mean", "tone_l_sd"] {
        let a: f64 = cell(&h, &rows[0], col).parse().unwrap();
        let b: f64 = cell(&h, &rows[1], col).parse().unwrap();
        assert!((a - b).abs() < 1e-4 * a.abs().max(1.0), "{col}: {a} vs {b}");
    }
}

#[test]
fn metrics_header_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    save(
        &skin_image(20, 20, 1),
        &dir.path().join("a.png"),
        ImageFormat::Png,
    );
    let out = dir.path().join("out");
    analyze(&[dir.path().join("a.png").to_str().unwrap()], &out).code(0);
    let text = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let header = format!("{}\n", text.lines().next().unwrap().replace(',', "\n"));
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/metrics_header.txt");
    if std::env::var_os("REGENERATE").is_some() {
        std::fs::write(&snapshot, &header).unwrap();
    }
    let expected =
        std::fs::read_to_string(&snapshot).expect("snapshot exists (REGENERATE=1 to create)");
    assert_eq!(
        header, expected,
        "metrics.csv header changed; rerun with REGENERATE=1 if intended"
    );
}

#[test]
fn run_json_records_provenance() {
    let dir = tempfile::tempdir().unwrap();
    save(
        &skin_image(20, 20, 1),
        &dir.path().join("a.png"),
        ImageFormat::Png,
    );
    std::fs::write(dir.path().join("bad.png"), b"").unwrap();
    let out = dir.path().join("out");
    analyze(&[dir.path().to_str().unwrap(), "--jobs", "1"], &out).code(1);
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["skintex_version"], env!("CARGO_PKG_VERSION"));
    assert!(
        run["command_line"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "analyze")
    );
    assert_eq!(run["config"]["input"]["max_megapixels"], 100.0);
    assert_eq!(run["config"]["height"]["cutoff_mm"], 8.0);
    assert_eq!(run["images"]["total"], 2);
    assert_eq!(run["images"]["ok"], 1);
    assert_eq!(run["images"]["error"], 1);
    assert_eq!(run["jobs"], 1);
    for key in ["started_at", "finished_at"] {
        let t = run[key].as_str().unwrap();
        assert!(
            t.len() == 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T',
            "{key}: {t}"
        );
    }
    for f in [
        "metrics.csv",
        "images.csv",
        "columns.csv",
        "DATA_DICTIONARY.md",
        "run.json",
    ] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    // The data dictionary documents every metrics.csv column.
    let (h, _) = read_csv(&out.join("metrics.csv"));
    let (_, dict) = read_csv(&out.join("columns.csv"));
    for col in &h {
        assert!(
            dict.iter().any(|r| r[0] == "metrics.csv" && &r[1] == col),
            "{col} documented"
        );
    }
}

#[test]
fn outputs_are_identical_across_runs_and_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..4 {
        save(
            &skin_image(120, 90, i),
            &dir.path().join(format!("in/img{i}.png")),
            ImageFormat::Png,
        );
    }
    let input = dir.path().join("in");
    let mut outputs = Vec::new();
    for (k, jobs) in ["1", "2", "2"].iter().enumerate() {
        let out = dir.path().join(format!("out{k}"));
        analyze(
            &[input.to_str().unwrap(), "--jobs", jobs, "--px-per-mm", "12"],
            &out,
        )
        .code(0);
        // Every data file; only timings.csv and run.json's times measure the machine.
        let files: Vec<Vec<u8>> = ["metrics.csv", "images.csv", "batch.json"]
            .iter()
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .collect();
        outputs.push(files);
    }
    assert_eq!(outputs[0], outputs[1], "--jobs 1 vs --jobs 2");
    assert_eq!(outputs[1], outputs[2], "repeat run");
}

#[test]
fn usage_and_config_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    save(
        &skin_image(20, 20, 1),
        &dir.path().join("a.png"),
        ImageFormat::Png,
    );
    let img = dir.path().join("a.png");
    let out = dir.path().join("out");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[lines]\nmin_length_mm = -1.0\n").unwrap();
    analyze(
        &[img.to_str().unwrap(), "--config", bad.to_str().unwrap()],
        &out,
    )
    .code(2)
    .stderr(contains("lines.min_length_mm"));
    analyze(&[img.to_str().unwrap(), "--px-per-mm", "0"], &out)
        .code(2)
        .stderr(contains("--px-per-mm"));
    skintex().args(["analyze", "--bogus"]).assert().code(2);
}

#[test]
fn config_default_prints_parseable_commented_toml() {
    let output = skintex().args(["config", "--default"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("# allowed:"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, &text).unwrap();
    save(
        &skin_image(20, 20, 1),
        &dir.path().join("a.png"),
        ImageFormat::Png,
    );
    let img = dir.path().join("a.png");
    analyze(
        &[img.to_str().unwrap(), "--config", cfg.to_str().unwrap()],
        &dir.path().join("o"),
    )
    .code(0);
}

fn demo(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/demo")
        .join(file)
        .display()
        .to_string()
}

#[test]
fn face_zones_and_iris_calibration_on_the_demo_portrait() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    analyze(&[&demo("astronaut.png"), "--roi", "face"], &out).code(0);
    let (h, rows) = read_csv(&out.join("metrics.csv"));
    let zones: Vec<&str> = rows.iter().map(|r| cell(&h, r, "zone")).collect();
    assert_eq!(
        zones,
        vec![
            "forehead",
            "glabella",
            "periorbital_left",
            "periorbital_right",
            "cheek_left",
            "cheek_right",
            "nose",
            "perioral",
            "chin",
            "face"
        ]
    );
    for r in &rows {
        let area: usize = cell(&h, r, "zone_area_px").parse().unwrap();
        assert!(area > 50, "{} has {area} px", cell(&h, r, "zone"));
        assert_eq!(cell(&h, r, "calibration"), "iris");
    }
    let (ih, irows) = read_csv(&out.join("images.csv"));
    assert_eq!(cell(&ih, &irows[0], "faces_found"), "1");
    assert_eq!(cell(&ih, &irows[0], "roi"), "face");
    let ppm: f64 = cell(&ih, &irows[0], "px_per_mm").parse().unwrap();
    // The 512 px portrait shows a face about 95 px wide: roughly 0.5-1 px/mm.
    assert!((0.4..1.2).contains(&ppm), "iris px/mm {ppm}");
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["runtime"], "embedded");
    let models = run["models"].as_array().unwrap();
    assert_eq!(models.len(), 3);
    assert!(
        models
            .iter()
            .all(|m| m["sha256"].as_str().unwrap().len() == 64)
    );
    assert!(out.join("qc/astronaut.jpg").is_file());
}

#[test]
fn close_up_without_a_face_under_roi_face_is_an_error_row() {
    let dir = tempfile::tempdir().unwrap();
    save(
        &skin_image(300, 300, 3),
        &dir.path().join("in/closeup.png"),
        ImageFormat::Png,
    );
    let out = dir.path().join("out");
    analyze(
        &[dir.path().join("in").to_str().unwrap(), "--roi", "face"],
        &out,
    )
    .code(1);
    let (h, rows) = read_csv(&out.join("images.csv"));
    assert_eq!(cell(&h, &rows[0], "status"), "error");
    let error = cell(&h, &rows[0], "error");
    assert!(
        error.contains("closeup.png") && error.contains("no face found"),
        "{error}"
    );
    assert_eq!(cell(&h, &rows[0], "faces_found"), "0");
}

#[test]
fn missing_onnxruntime_library_is_a_clear_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let lib = "/nonexistent/libonnxruntime.so";
    let portrait = demo("astronaut.png");
    let args = [
        &portrait,
        "--roi",
        "face",
        "--runtime",
        "onnxruntime",
        "--ort-lib",
        lib,
    ];
    analyze(&args, &out).code(2).stderr(contains(lib));
}

#[test]
fn manifest_roi_column_mixes_faces_and_close_ups() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // The demo manifest: a portrait with roi=face and phantom close-ups with roi=full.
    skintex()
        .args(["analyze", "--quiet", "--no-qc", "--manifest"])
        .arg(demo("manifest.csv"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let (h, rows) = read_csv(&out.join("images.csv"));
    let rois: Vec<&str> = rows.iter().map(|r| cell(&h, r, "roi")).collect();
    assert_eq!(rois, vec!["face", "full", "full", "full"]);
    let (mh, mrows) = read_csv(&out.join("metrics.csv"));
    let phantom = mrows
        .iter()
        .find(|r| cell(&mh, r, "image_id") == "phantom-001")
        .unwrap();
    assert_eq!(cell(&mh, phantom, "calibration"), "manifest");
    assert!(!cell(&mh, phantom, "rough_sq").is_empty());
    assert!(!out.join("qc").exists(), "--no-qc writes no pictures");
}

#[test]
fn detection_tables_are_identical_across_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    let phantoms = dir.path().join("phantoms");
    skintex()
        .args([
            "phantom", "--preset", "classic", "--count", "3", "--seed", "5", "--size", "400",
            "--out",
        ])
        .arg(&phantoms)
        .assert()
        .code(0);
    let mut runs = Vec::new();
    for jobs in ["1", "2"] {
        let out = dir.path().join(format!("out{jobs}"));
        let input = phantoms.to_str().unwrap();
        analyze(&[input, "--px-per-mm", "20", "--jobs", jobs], &out).code(0);
        let tables: Vec<Vec<u8>> = ["metrics.csv", "lines.csv", "scars.csv"]
            .iter()
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .collect();
        runs.push(tables);
    }
    assert_eq!(runs[0], runs[1], "--jobs 1 vs --jobs 2");
    let (_, scars) = read_csv(&dir.path().join("out1/scars.csv"));
    assert!(!scars.is_empty(), "the phantoms have scars to compare");
}

/// NaN and infinite samples of a floating-point TIFF are left out of the zone (not read as
/// black): the zone shrinks by exactly those pixels and tone equals that of the valid pixels.
#[test]
fn nonfinite_float_tiff_pixels_are_left_out_of_the_zone() {
    let dir = tempfile::tempdir().unwrap();
    let base = image::DynamicImage::ImageRgb8(skin_image(40, 30, 3)).to_rgb32f();
    let mut holed = base.clone();
    for y in 5..15 {
        for x in 10..20 {
            holed.put_pixel(x, y, image::Rgb([f32::NAN, f32::INFINITY, 0.5]));
        }
    }
    // Reference: the same valid pixels, the hole filled with a colour far from skin. Its tone
    // must differ, while the masked image's must not depend on what the hole holds.
    let mut painted = holed.clone();
    for y in 5..15 {
        for x in 10..20 {
            painted.put_pixel(x, y, image::Rgb([0.0, 0.0, 0.0]));
        }
    }
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    image::DynamicImage::ImageRgb32F(holed)
        .save_with_format(input.join("holed.tif"), ImageFormat::Tiff)
        .unwrap();
    image::DynamicImage::ImageRgb32F(painted)
        .save_with_format(input.join("painted.tif"), ImageFormat::Tiff)
        .unwrap();
    let out = dir.path().join("out");
    analyze(&[input.to_str().unwrap(), "--no-qc"], &out).code(0);
    let (ih, images) = read_csv(&out.join("images.csv"));
    assert_eq!(cell(&ih, &images[0], "image_id"), "holed");
    assert_eq!(cell(&ih, &images[0], "invalid_px"), "100");
    assert_eq!(cell(&ih, &images[1], "invalid_px"), "0");
    let (mh, metrics) = read_csv(&out.join("metrics.csv"));
    assert_eq!(cell(&mh, &metrics[0], "zone_area_px"), "1100");
    assert_eq!(cell(&mh, &metrics[1], "zone_area_px"), "1200");
    let l = |r: &Vec<String>| cell(&mh, r, "tone_l_mean").parse::<f64>().unwrap();
    // The black block pulls the painted image's mean L* down by about 100/1200 of the skin's L*.
    assert!(
        l(&metrics[1]) < l(&metrics[0]) - 3.0,
        "{} vs {}",
        l(&metrics[0]),
        l(&metrics[1])
    );
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

/// Issue 18 item 1: a run never silently replaces the outputs of another run in `--out`.
#[test]
fn output_folder_of_another_run_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let five = skin_pngs(&dir.path().join("five"), "img", 5, (40, 30));
    let one = skin_pngs(&dir.path().join("one"), "single", 1, (40, 30));
    let (five, one) = (five.as_str(), one.as_str());
    let out = dir.path().join("r");
    let counts = || {
        (
            count_files(&out.join("records")),
            count_files(&out.join("qc")),
            read_csv(&out.join("images.csv")).1.len(),
        )
    };
    analyze(&[five], &out).code(0);
    assert_eq!(counts(), (5, 5, 5));
    let metrics = std::fs::read(out.join("metrics.csv")).unwrap();

    // Other inputs: refused before anything is touched, naming the folder and the choices.
    let (code, err) = analyze_loud(&[one], &out);
    assert_eq!(code, Some(2), "{err}");
    for expected in [
        out.to_str().unwrap(),
        "other inputs (5 images; this run has 1)",
        "--resume",
        "--out",
        "--overwrite",
    ] {
        assert!(err.contains(expected), "`{expected}` not in {err}");
    }
    assert_eq!(counts(), (5, 5, 5));
    // Same inputs, other settings: refused too.
    let (code, err) = analyze_loud(&[five, "--px-per-mm", "10"], &out);
    assert_eq!(code, Some(2));
    assert!(err.contains("other settings"), "{err}");

    // The same run again may write over itself: the same numbers.
    analyze(&[five], &out).code(0);
    assert_eq!(std::fs::read(out.join("metrics.csv")).unwrap(), metrics);

    // --overwrite clears the folder whole: no record or QC picture of the five is left.
    analyze(&[one, "--overwrite"], &out).code(0);
    assert_eq!(counts(), (1, 1, 1));

    // Records without batch.json (a killed run) are refused as well.
    std::fs::remove_file(out.join("batch.json")).unwrap();
    let (code, err) = analyze_loud(&[five], &out);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("1 record of an unfinished or other run"),
        "{err}"
    );

    // --resume takes the folder over: what does not belong to this run is replaced, and said.
    let (code, err) = analyze_loud(&[five, "--resume"], &out);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("removed 1 record and 1 QC picture of images or settings not in this run"),
        "{err}"
    );
    assert_eq!(counts(), (5, 5, 5));
    assert_eq!(std::fs::read(out.join("metrics.csv")).unwrap(), metrics);
}

/// Issue 18 item 4: a QC picture that cannot be written is never a silent success.
#[test]
fn qc_pictures_that_cannot_be_written_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    skin_pngs(&input, "img", 2, (40, 30));

    // A file where the qc folder goes: the run stops before the first image (exit 3), naming it.
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("qc"), b"in the way").unwrap();
    analyze(&[input.to_str().unwrap()], &out)
        .code(3)
        .stderr(contains(out.join("qc").to_str().unwrap()));
    assert_eq!(count_files(&out.join("records")), 0, "no image analysed");

    // One picture that cannot be written (its name is too long for the file system): that
    // image is an error row saying so (exit 1), and its record is not stored, so that
    // --resume analyses it again.
    let long_id = "x".repeat(300);
    let manifest = input.join("m.csv");
    std::fs::write(
        &manifest,
        format!("path,image_id\nimg0.png,{long_id}\nimg1.png,b\n"),
    )
    .unwrap();
    let out = dir.path().join("out2");
    analyze(&["--manifest", manifest.to_str().unwrap()], &out).code(1);
    let (h, rows) = read_csv(&out.join("images.csv"));
    assert_eq!(cell(&h, &rows[0], "status"), "error");
    let error = cell(&h, &rows[0], "error");
    assert!(
        error.contains("img0.png") && error.contains("cannot write its QC picture"),
        "{error}"
    );
    assert_eq!(cell(&h, &rows[1], "status"), "ok");
    assert_eq!(count_files(&out.join("records")), 1);
    assert_eq!(count_files(&out.join("qc")), 1);
}

/// Issue 18 item 8: a mistyped folder is a usage error naming it (nothing is analysed), and a
/// duplicated image_id is said on stderr with its manifest line.
#[test]
fn mistyped_folder_and_duplicate_ids_are_named_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    skin_pngs(dir.path(), "img", 1, (20, 20));
    let out = dir.path().join("out");
    let nope = dir.path().join("nope/");
    let (code, err) = analyze_loud(&[nope.to_str().unwrap()], &out);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(nope.to_str().unwrap()) && err.contains("no such file or folder"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");

    let manifest = dir.path().join("m.csv");
    std::fs::write(&manifest, "path,image_id\nimg0.png,A\nimg0.png,A\n").unwrap();
    let (code, err) = analyze_loud(&["--manifest", manifest.to_str().unwrap()], &out);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("manifest line 3: duplicate image_id `A` (line 2 has it too"),
        "{err}"
    );
}

/// Issue 18 item 9: when most images of a batch have no face (close-ups under the default
/// `--roi face`), the run says once how to measure them.
#[test]
fn batch_of_close_ups_under_roi_face_suggests_roi_full_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = skin_pngs(&dir.path().join("in"), "closeup", 3, (200, 200));
    let out = dir.path().join("out");
    let (code, err) = analyze_loud(&[&input, "--roi", "face", "--no-qc"], &out);
    assert_eq!(code, Some(1), "{err}");
    let hint = "3 images have no face (of 3); for close-ups use --roi full";
    assert_eq!(err.matches(hint).count(), 1, "{err}");
}

/// Issue 18 item 10: manifests as spreadsheets save them (byte-order mark, `;` or tab between
/// columns, decimal commas, column names in another case) are read; a header that cannot be
/// split says what was read.
#[test]
fn spreadsheet_manifests_are_read_or_say_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    skin_pngs(dir.path(), "img", 1, (50, 40));
    for (name, text) in [
        (
            "semicolon.csv",
            "\u{feff}Path;Image_ID;PX_per_mm;needle_depth_mm\r\nimg0.png;A;12,5;0,25\r\n",
        ),
        (
            "tab.csv",
            "Path\tImage_ID\tPX_per_mm\tneedle_depth_mm\nimg0.png\tA\t12,5\t0,25\n",
        ),
    ] {
        let manifest = dir.path().join(name);
        std::fs::write(&manifest, text).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        analyze(&["--manifest", manifest.to_str().unwrap()], &out).code(0);
        let (h, rows) = read_csv(&out.join("metrics.csv"));
        assert_eq!(cell(&h, &rows[0], "image_id"), "A", "{name}");
        assert_eq!(cell(&h, &rows[0], "px_per_mm"), "12.5", "{name}");
        assert_eq!(cell(&h, &rows[0], "needle_depth_mm"), "0.25", "{name}");
    }
    let manifest = dir.path().join("pipes.csv");
    std::fs::write(&manifest, "path|image_id\nimg0.png|A\n").unwrap();
    analyze(
        &["--manifest", manifest.to_str().unwrap()],
        &dir.path().join("out-pipes"),
    )
    .code(2)
    .stderr(contains(
        "no `path` column in the header (read 1 column: `path|image_id`; separate the columns \
         with `,`, `;` or a tab)",
    ));
}

/// Issue 18 item 11: negative values of numeric options reach the range check (clap would
/// otherwise suggest `-- -3`, which makes -3 an input file); log lines into a pipe carry no
/// colour codes; counts in messages take the singular for 1.
#[test]
fn negative_values_colourless_logs_and_singular_counts() {
    let dir = tempfile::tempdir().unwrap();
    let img = skin_pngs(&dir.path().join("one"), "img", 1, (20, 20));
    let img = img.as_str();
    let out = dir.path().join("out");
    for (args, expected) in [
        (
            ["--px-per-mm", "-3"],
            "--px-per-mm must be a positive number, got -3",
        ),
        (["--jobs", "-2"], "invalid value '-2' for '--jobs <N>'"),
    ] {
        let (code, err) = analyze_loud(&[img, args[0], args[1]], &out);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(expected) && !err.contains("-- -"), "{err}");
    }
    let study = skintex()
        .args(["study", "--max-alignment-mm", "-1", "--metrics", "m.csv"])
        .args(["--manifest", "s.csv", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(study.status.code(), Some(2));
    let err = String::from_utf8_lossy(&study.stderr);
    assert!(
        err.contains("--max-alignment-mm must be a positive number, got -1"),
        "{err}"
    );

    // One image, one warning (an unreadable file), into a pipe: no escape codes, and `1 image`.
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("bad.png"), b"not a png").unwrap();
    let output = analyze_command(&[input.to_str().unwrap()], &out)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("bad.png"), "{err}");
    assert!(!err.contains('\u{1b}'), "colour codes in a pipe: {err:?}");
    assert!(err.contains("skintex: 1 image: 0 ok, 1 failed"), "{err}");
}
