//! `--segmentation-model`: spec validation, model checks, and the resize / normalise / argmax /
//! label mapping / resize-back plumbing, end to end with the deterministic test model of
//! `tests/fixtures/segmentation/` (class 1 `skin` where the normalised red channel exceeds 0.5,
//! class 2 `hair` elsewhere in the upper half, class 0 `background` elsewhere).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{cell, read_csv, skintex};
use image::{Rgb, RgbImage};
use skintex::segment::face::Runtime;
use skintex::segment::parsing::{SegmentationModel, SegmentationSpec};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/segmentation")
}

fn fixture_spec_text() -> String {
    std::fs::read_to_string(fixture_dir().join("test_parsing.toml")).unwrap()
}

/// Write `text` as `spec.toml` next to a copy of the test model in a temporary folder.
fn spec_in_tempdir(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture_dir().join("test_parsing.onnx"),
        dir.path().join("test_parsing.onnx"),
    )
    .unwrap();
    let path = dir.path().join("spec.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// The fixture spec with the line starting with `key` replaced by `line` (removed if empty).
fn with_line(key: &str, line: &str) -> String {
    let mut found = false;
    let out: Vec<String> = fixture_spec_text()
        .lines()
        .filter_map(|l| {
            if l.starts_with(&format!("{key} ")) {
                found = true;
                (!line.is_empty()).then(|| line.to_owned())
            } else {
                Some(l.to_owned())
            }
        })
        .collect();
    assert!(found, "no key {key} in the fixture spec");
    out.join("\n")
}

fn load_err(text: &str) -> String {
    let (_dir, path) = spec_in_tempdir(text);
    let err = SegmentationModel::load(&path, &Runtime::Embedded).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&*path.parent().unwrap().to_string_lossy()),
        "{msg}"
    );
    msg
}

fn load(text: &str) -> (tempfile::TempDir, SegmentationModel) {
    let (dir, path) = spec_in_tempdir(text);
    let model = SegmentationModel::load(&path, &Runtime::Embedded).unwrap();
    (dir, model)
}

#[test]
fn spec_errors_name_the_file_and_the_key() {
    let p = Path::new("/x/spec.toml");
    let err = |text: &str| {
        SegmentationSpec::from_toml(text, p)
            .unwrap_err()
            .to_string()
    };
    let m = err(&with_line("sha256", ""));
    assert!(
        m.contains("/x/spec.toml") && m.contains("missing field `sha256`"),
        "{m}"
    );
    assert!(!m.contains("line 1"), "{m}");
    let m = err(&with_line("layout", "layout = \"NCWH\""));
    assert!(
        m.contains("unknown variant `NCWH`") && m.contains("layout"),
        "{m}"
    );
    let m = err(&with_line("output_layout", "output_layout = \"CHW\""));
    assert!(
        m.contains("unknown variant `CHW`") && m.contains("output_layout"),
        "{m}"
    );
    let m = err(&with_line("skin_labels", "skin_labels = [\"skn\"]"));
    assert!(m.contains("skin label `skn` is not in labels"), "{m}");
    let m = err(&with_line("scale", "scale = 0.0"));
    assert!(m.contains("scale must be a positive number"), "{m}");
    let m = err(&with_line("std", "std = [1.0, 0.0, 1.0]"));
    assert!(m.contains("std must be finite and non-zero"), "{m}");
    let m = err(&with_line("mean", "mean = [0.0, 0.0]"));
    assert!(m.contains("mean"), "{m}");
    let m = err(&format!("{}\ncrop_scal = 2.0", fixture_spec_text()));
    assert!(m.contains("unknown field `crop_scal`"), "{m}");
    let m = err(&with_line("sha256", "sha256 = \"abc\""));
    assert!(m.contains("sha256 must be 64 hex digits"), "{m}");
    let ok = SegmentationSpec::from_toml(&fixture_spec_text(), p).unwrap();
    assert_eq!(ok.model_path, Path::new("/x/test_parsing.onnx"));
    assert_eq!(ok.skin_classes, vec![false, true, false]);
}

#[test]
fn sha256_mismatch_is_refused_naming_path_expected_and_actual() {
    let actual = "53ba9cb8fd3ef58b2f30ef541ef39b3cbba0956e817b0b2fcd3b0a860cf7b020";
    let wrong = format!("f{}", &actual[1..]);
    let m = load_err(&with_line("sha256", &format!("sha256 = \"{wrong}\"")));
    assert!(m.contains("sha256 mismatch"), "{m}");
    assert!(m.contains("test_parsing.onnx"), "{m}");
    assert!(m.contains(&wrong) && m.contains(actual), "{m}");
}

#[test]
fn shape_mismatches_are_refused_at_load() {
    let m = load_err(&with_line("layout", "layout = \"NHWC\""));
    assert!(
        m.contains("input has shape [1, 3, 64, 64]")
            && m.contains("layout NHWC")
            && m.contains("expects [1, 64, 64, 3]"),
        "{m}"
    );
    let m = load_err(&with_line("input_size", "input_size = [64, 32]"));
    assert!(m.contains("expects [1, 3, 64, 32]"), "{m}");
    let m = load_err(&with_line(
        "labels",
        "labels = [\"background\", \"skin\", \"hair\", \"eye\"]",
    ));
    assert!(
        m.contains("output has shape [1, 3, 64, 64]") && m.contains("4 labels"),
        "{m}"
    );
    let m = load_err(&with_line("output_layout", "output_layout = \"NHWC\""));
    assert!(m.contains("expects [1, h, w, 3]"), "{m}");
}

fn iou(a: &[bool], b: &[bool]) -> f64 {
    let inter = a.iter().zip(b).filter(|(x, y)| **x && **y).count();
    let union = a.iter().zip(b).filter(|(x, y)| **x || **y).count();
    inter as f64 / union as f64
}

/// The full-image skin mask, row-major.
fn full_mask(parsing: &skintex::segment::parsing::Parsing, w: usize, h: usize) -> Vec<bool> {
    let m = &parsing.skin;
    (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            x >= m.x0 && y >= m.y0 && m.bits.get((y - m.y0, x - m.x0)).copied().unwrap_or(false)
        })
        .collect()
}

#[test]
fn skin_mask_maps_back_to_a_non_square_image() {
    let (_dir, model) = load(&with_line("crop", "crop = \"image\""));
    let (w, h) = (300usize, 200usize);
    // Skin-red on the left third, dark elsewhere: the boundary x = 100 falls inside input cell 21.
    let img = RgbImage::from_fn(w as u32, h as u32, |x, _| {
        if x < 100 {
            Rgb([200, 90, 70])
        } else {
            Rgb([40, 30, 30])
        }
    });
    let p = model.parse(&img, model.region(w, h, [0.0; 4])).unwrap();
    assert_eq!(p.classes.dim(), (64, 64));
    assert_eq!((p.skin.width(), p.skin.height()), (w, h));
    let got = full_mask(&p, w, h);
    let want: Vec<bool> = (0..h).flat_map(|_| (0..w).map(|x| x < 100)).collect();
    let score = iou(&got, &want);
    assert!(score > 0.95, "IoU {score}");
    // Hair in the upper right, background in the lower right: rows are not transposed.
    assert_eq!(p.class_at(250, 20), Some(2));
    assert_eq!(p.class_at(250, 98), Some(2));
    assert_eq!(p.class_at(250, 101), Some(0));
    assert_eq!(p.class_at(250, 190), Some(0));
    assert_eq!(p.class_at(20, 190), Some(1));
}

#[test]
fn face_crop_region_maps_back_inside_the_image() {
    let (_dir, model) = load(&fixture_spec_text());
    let (w, h) = (300usize, 200usize);
    let img = RgbImage::from_fn(w as u32, h as u32, |x, _| {
        if x < 150 {
            Rgb([200, 90, 70])
        } else {
            Rgb([40, 30, 30])
        }
    });
    // Box 60 px wide around (150, 100), crop_scale 2: region [90, 40, 210, 160].
    let region = model.region(w, h, [120.0, 70.0, 180.0, 130.0]);
    assert_eq!(region, [90.0, 40.0, 210.0, 160.0]);
    let p = model.parse(&img, region).unwrap();
    assert_eq!(
        (p.skin.x0, p.skin.y0, p.skin.width(), p.skin.height()),
        (90, 40, 120, 120)
    );
    let got = full_mask(&p, w, h);
    let want: Vec<bool> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (90..150).contains(&x) && (40..160).contains(&y)))
        .collect();
    let score = iou(&got, &want);
    assert!(score > 0.95, "IoU {score}");
    assert_eq!(p.class_at(10, 10), None);
}

/// First skin column on a red ramp (R = x, 256 x 16) for a spec normalisation.
fn ramp_boundary(scale: &str, mean: &str, std: &str) -> usize {
    let text = with_line("crop", "crop = \"image\"");
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with("scale ") {
                format!("scale = {scale}")
            } else if l.starts_with("mean ") {
                format!("mean = {mean}")
            } else if l.starts_with("std ") {
                format!("std = {std}")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (_dir, model) = load(&text);
    let img = RgbImage::from_fn(256, 16, |x, _| Rgb([x as u8, 255 - x as u8, 0]));
    let p = model.parse(&img, model.region(256, 16, [0.0; 4])).unwrap();
    let mask = full_mask(&p, 256, 16);
    let first = (0..256).find(|&x| mask[x]).expect("some skin");
    // Every row: skin exactly from the boundary on.
    for y in 0..16 {
        for x in 0..256 {
            assert_eq!(mask[y * 256 + x], x >= first, "pixel ({x}, {y})");
        }
    }
    first
}

#[test]
fn scale_mean_and_std_are_applied_per_rgb_channel() {
    // Input cell j averages R = 4j .. 4j+3, i.e. 4j + 1.5; skin iff (R scale - mean_R)/std_R > 0.5.
    // 1/255, mean 0, std 1: R > 127.5 -> j >= 32 -> x >= 128.
    assert_eq!(
        ramp_boundary("0.00392156862745098", "[0.0, 0.0, 0.0]", "[1.0, 1.0, 1.0]"),
        128
    );
    // mean_R 0.2: R/255 > 0.7 -> R > 178.5 -> j >= 45 -> x >= 180. G and B means do not matter.
    assert_eq!(
        ramp_boundary("0.00392156862745098", "[0.2, 0.9, -3.0]", "[1.0, 7.0, 7.0]"),
        180
    );
    // scale 1 ([0, 255]), mean_R 100, std_R 100: R > 150 -> j >= 38 -> x >= 152.
    assert_eq!(
        ramp_boundary("1.0", "[100.0, 0.0, 0.0]", "[100.0, 1.0, 1.0]"),
        152
    );
    // std_R 0.5: R/255 > 0.25 -> R > 63.75 -> j >= 16 -> x >= 64.
    assert_eq!(
        ramp_boundary("0.00392156862745098", "[0.0, 0.0, 0.0]", "[0.5, 1.0, 1.0]"),
        64
    );
}

fn zone_areas(out: &Path) -> BTreeMap<String, usize> {
    let (h, rows) = read_csv(&out.join("metrics.csv"));
    rows.iter()
        .map(|r| {
            (
                cell(&h, r, "zone").to_owned(),
                cell(&h, r, "zone_area_px").parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn cli_applies_the_model_to_the_face_zones_and_records_it() {
    let portrait = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/astronaut.png");
    let spec = fixture_dir().join("test_parsing.toml");
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &Path, extra: &[&Path]| {
        let mut cmd = skintex();
        cmd.arg("analyze")
            .arg(&portrait)
            .args(["--roi", "face", "--quiet", "--no-qc"]);
        for s in extra {
            cmd.arg("--segmentation-model").arg(s);
        }
        cmd.arg("--out").arg(out).assert()
    };
    let (plain, parsed) = (dir.path().join("plain"), dir.path().join("parsed"));
    run(&plain, &[]).code(0);
    run(&parsed, &[&spec]).code(0);
    let (a, b) = (zone_areas(&plain), zone_areas(&parsed));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (zone, &without) in &a {
        assert!(b[zone] <= without, "{zone}: {} > {without}", b[zone]);
    }
    // The test model keeps red-enough pixels only: the face loses some, not all, of its area.
    assert!(
        b["face"] < a["face"] && b["face"] > 0,
        "face {} vs {}",
        b["face"],
        a["face"]
    );
    let run_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(parsed.join("run.json")).unwrap()).unwrap();
    let models = run_json["models"].as_array().unwrap();
    let seg = models
        .iter()
        .find(|m| m["name"] == "segmentation")
        .expect("segmentation model recorded");
    assert_eq!(
        seg["sha256"],
        "53ba9cb8fd3ef58b2f30ef541ef39b3cbba0956e817b0b2fcd3b0a860cf7b020"
    );
    assert!(seg["file"].as_str().unwrap().ends_with("test_parsing.onnx"));
    assert_eq!(models.len(), 4);

    // Spec plumbing through the CLI: mean_R = 0.2 raises the model's red threshold from
    // R > 127.5 to R > 178.5, so every zone keeps at most what it kept before, and the face
    // clearly less (measured: 3900 vs 4711 of 4720 px).
    let (tmp, stricter) = spec_in_tempdir(&with_line("mean", "mean = [0.2, 0.0, 0.0]"));
    let strict_out = tmp.path().join("out");
    run(&strict_out, &[&stricter]).code(0);
    let c = zone_areas(&strict_out);
    for (zone, &before) in &b {
        assert!(c[zone] <= before, "{zone}: {} > {before}", c[zone]);
    }
    assert!(
        (c["face"] as f64) < 0.9 * b["face"] as f64,
        "face {} vs {}",
        c["face"],
        b["face"]
    );

    // A bad spec is a usage error (exit 2) naming the spec.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "file = \"x.onnx\"\n").unwrap();
    run(&dir.path().join("bad"), &[&bad])
        .code(2)
        .stderr(predicates::str::contains("bad.toml"))
        .stderr(predicates::str::contains("missing field"));
}
