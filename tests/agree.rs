//! `skintex agree` (issue 19) through the built binary: on phantoms whose truth is written as
//! annotations (`skintex phantom --annotations`), and on a hand-made analysis with two
//! simulated raters whose agreement values are computed by hand.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::skintex;
use image::{GrayImage, Luma};

/// A CSV file as rows of `column -> cell`.
fn read_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(h, c)| (h.to_owned(), c.to_owned()))
                .collect()
        })
        .collect()
}

fn num(row: &HashMap<String, String>, column: &str) -> f64 {
    let cell = &row[column];
    cell.parse()
        .unwrap_or_else(|_| panic!("{column} = {cell:?} ({row:?})"))
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got} vs expected {want}"
    );
}

/// Issue 19 acceptance: on phantoms with their truth as annotations, `lines_dice` at
/// `--tolerance-px 0` is the plain Dice of `masks/*_lines.png` against the annotation masks, and
/// `scars_f1` is the validation's phantom F1 by the same matching rule.
#[test]
fn phantom_truth_as_annotations_gives_plain_dice_and_the_validation_f1() {
    let dir = tempfile::tempdir().unwrap();
    let (images, ann, res, out) = (
        dir.path().join("ph"),
        dir.path().join("ann"),
        dir.path().join("res"),
        dir.path().join("agree"),
    );
    skintex()
        .args([
            "phantom", "--preset", "classic", "--size", "600", "--count", "2",
        ])
        .args(["--seed", "7", "--out"])
        .arg(&images)
        .arg("--annotations")
        .arg(&ann)
        .assert()
        .success();
    skintex()
        .args([
            "analyze",
            "--roi",
            "full",
            "--px-per-mm",
            "20",
            "--save-masks",
            "-q",
        ])
        .args(["--jobs", "2", "--no-qc"])
        .arg(&images)
        .arg("--out")
        .arg(&res)
        .assert()
        .success();
    skintex()
        .args(["agree", "--tolerance-px", "0", "--results"])
        .arg(&res)
        .arg("--lines-masks")
        .arg(&ann)
        .arg("--scars")
        .arg(ann.join("scars.csv"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let rows = read_rows(&out.join("agreement.csv"));
    assert_eq!(rows.len(), 2, "one image x zone x comparison each");
    let config = skintex::config::Config::default();
    for row in &rows {
        let id = &row["image_id"];
        assert_eq!(row["zone"], "full");
        assert_eq!(row["comparison"], "skintex_vs_rater_a");
        // Plain Dice of the two PNGs.
        let detected = image::open(res.join("masks").join(format!("{id}_lines.png")))
            .unwrap()
            .to_luma8();
        let annotated = image::open(ann.join(format!("{id}.png")))
            .unwrap()
            .to_luma8();
        assert_eq!(detected.dimensions(), annotated.dimensions());
        let (mut both, mut d, mut a) = (0usize, 0usize, 0usize);
        for (p, q) in detected.pixels().zip(annotated.pixels()) {
            let (p, q) = (p[0] != 0, q[0] != 0);
            both += usize::from(p && q);
            d += usize::from(p);
            a += usize::from(q);
        }
        assert!(both > 0 && d > 0 && a > 0, "{id}: {both} {d} {a}");
        let dice = 2.0 * both as f64 / (d + a) as f64;
        close(
            &format!("{id} lines_dice"),
            num(row, "lines_dice"),
            dice,
            1e-6,
        );
        close(
            &format!("{id} lines_jsi"),
            num(row, "lines_jsi"),
            both as f64 / (d + a - both) as f64,
            1e-6,
        );
        // The validation's F1 of the same phantom, rendered and measured in memory.
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(images.join(format!("{id}.json"))).unwrap())
                .unwrap();
        let case = skintex::validation::Case {
            seed: json["seed"].as_u64().unwrap(),
            spec: serde_json::from_value(json["spec"].clone()).unwrap(),
            clean: false,
        };
        let r = skintex::validation::evaluate(&case, &config);
        assert!(r.scars_true > 0);
        let f1 = 2.0 * r.scars_tp as f64 / (r.scars_found + r.scars_true) as f64;
        close(&format!("{id} scars_f1"), num(row, "scars_f1"), f1, 1e-6);
        assert_eq!(num(row, "scars_tp") as usize, r.scars_tp, "{id}");
        assert_eq!(num(row, "scars_annotated") as usize, r.scars_true, "{id}");
        assert_eq!(num(row, "scars_detected") as usize, r.scars_found, "{id}");
        // The truth's line length (FWHM band skeletonised) is close to the rendered length.
        let truth_mm = json["total_wrinkle_length_mm"].as_f64().unwrap();
        let annotated_mm = num(row, "lines_annotated_mm");
        assert!(
            (annotated_mm / truth_mm - 1.0).abs() < 0.15,
            "{id}: {annotated_mm} vs {truth_mm}"
        );
    }
    let html = std::fs::read_to_string(out.join("agreement.html")).unwrap();
    assert!(html.contains("id=\"bland-altman\"") && html.contains("data:image/png;base64,"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
}

/// A 1-px horizontal line on row `y`, columns `x0..=x1`.
fn line(mask: &mut GrayImage, y: u32, x0: u32, x1: u32) {
    for x in x0..=x1 {
        mask.put_pixel(x, y, Luma([255]));
    }
}

fn save_png(img: &GrayImage, path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    img.save_with_format(path, image::ImageFormat::Png).unwrap();
}

/// A hand-made analysis (two 60 × 60 px images at 10 px/mm, zone `full`) and two raters: rater
/// A is the truth, rater B drops a scar, calls another of a different type, and shifts half of
/// the line 3 px down; skintex finds half the line, two scars and a false one. Image 2 has
/// nothing on any side.
///
/// ```text
/// lines (T = 2 px): A = row 10, cols 5-24 (20 px, 19 px = 1.9 mm long)
///                   B = row 13, cols 5-14 and row 10, cols 15-24 (18 px long = 1.8 mm)
///                   skintex = row 10, cols 5-14 (0.9 mm)
///   skintex vs A: C within T of R 10/10, R within T of C 12/20 (cols 5-16)
///                 Dice 22/30, precision 1, recall 0.6
///   B vs A:       C 10/20 (the row-10 half), R 12/20 (cols 13-24)  Dice 22/40
///   skintex vs B: C 2/10 (cols 13-14), R 2/20 (cols 15-16)         Dice 4/30
/// scars (match 0.5 mm + diameter 1 mm / 2 = 10 px):
///   A = (30,30) boxcar, (45,45) icepick, (10,50) rolling
///   B = (30,30) boxcar, (45,45) rolling
///   skintex = (33,30) boxcar, (45,45) icepick, (10,10) icepick
///   skintex vs A: TP 2 FP 1 FN 1, F1 4/6, type 2/2
///   skintex vs B: TP 2 FP 1 FN 0, F1 4/5, type 1/2
///   B vs A:       TP 2 FP 0 FN 1, F1 4/5, type 1/2
/// summary, scars_count of B vs A over the two images: (3, 2), (0, 0)
///   bias −0.5, SD √0.5, limits −0.5 ∓ 1.96 √0.5
///   ICC(2,1): MS_R = 6.25, MS_C = 0.25, MS_E = 0.25 -> 6 / 6.5
/// ```
/// The hand-made analysis and raters of [`two_simulated_raters_give_the_hand_computed_agreement`]
/// in `dir`: the results folder, rater A's folder and rater B's folder.
fn simulated_analysis(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let res = dir.join("res");
    std::fs::create_dir_all(&res).unwrap();
    std::fs::write(
        res.join("images.csv"),
        "image_id,path,status,px_per_mm\nimg1,img1.png,ok,10\nimg2,img2.png,ok,10\nbad,bad.png,error,\n",
    )
    .unwrap();
    std::fs::write(
        res.join("metrics.csv"),
        "image_id,path,zone,rough_sa\nimg1,img1.png,full,1\nimg2,img2.png,full,1\n",
    )
    .unwrap();
    std::fs::write(
        res.join("scars.csv"),
        "image_id,path,zone,scar_id,x_px,y_px,diameter_mm,type\n\
         img1,img1.png,full,1,33,30,0.8,boxcar\n\
         img1,img1.png,full,2,45,45,0.6,icepick\n\
         img1,img1.png,full,3,10,10,0.6,icepick\n",
    )
    .unwrap();
    let zones = GrayImage::from_pixel(60, 60, Luma([10]));
    let (mut truth, mut rater_b, mut detected) = (
        GrayImage::new(60, 60),
        GrayImage::new(60, 60),
        GrayImage::new(60, 60),
    );
    line(&mut truth, 10, 5, 24);
    line(&mut rater_b, 13, 5, 14);
    line(&mut rater_b, 10, 15, 24);
    line(&mut detected, 10, 5, 14);
    let empty = GrayImage::new(60, 60);
    let (a_dir, b_dir) = (dir.join("a"), dir.join("b"));
    for (id, t, b, d) in [
        ("img1", &truth, &rater_b, &detected),
        ("img2", &empty, &empty, &empty),
    ] {
        save_png(&zones, &res.join("masks").join(format!("{id}_zones.png")));
        save_png(d, &res.join("masks").join(format!("{id}_lines.png")));
        save_png(t, &a_dir.join(format!("{id}.png")));
        save_png(b, &b_dir.join(format!("{id}.png")));
    }
    std::fs::write(
        a_dir.join("scars.csv"),
        "image_id,x_px,y_px,diameter_mm,type\nimg1,30,30,1,boxcar\nimg1,45,45,1,icepick\nimg1,10,50,1,rolling\n",
    )
    .unwrap();
    // Rater B gives no diameters for one mark: M alone (5 px) still reaches (45, 45).
    std::fs::write(
        b_dir.join("scars.csv"),
        "image_id,x_px,y_px,diameter_mm,type\nimg1,30,30,1,boxcar\nimg1,45,45,,rolling\n",
    )
    .unwrap();
    (res, a_dir, b_dir)
}

#[test]
fn two_simulated_raters_give_the_hand_computed_agreement() {
    let dir = tempfile::tempdir().unwrap();
    let (res, a_dir, b_dir) = simulated_analysis(dir.path());
    // skintex vs rater A, rater B beside it, into `out`.
    let agree = |out: &std::path::Path| {
        skintex()
            .arg("agree")
            .arg("--results")
            .arg(&res)
            .arg("--lines-masks")
            .arg(&a_dir)
            .arg("--scars")
            .arg(a_dir.join("scars.csv"))
            .arg("--rater-b-lines-masks")
            .arg(&b_dir)
            .arg("--rater-b-scars")
            .arg(b_dir.join("scars.csv"))
            .arg("--out")
            .arg(out)
            .assert()
            .success();
    };
    let out = dir.path().join("agree");
    agree(&out);
    let rows = read_rows(&out.join("agreement.csv"));
    assert_eq!(
        rows.len(),
        6,
        "2 images x 3 comparisons (the failed image left out)"
    );
    let row = |image: &str, cmp: &str| {
        rows.iter()
            .find(|r| r["image_id"] == image && r["comparison"] == cmp)
            .unwrap_or_else(|| panic!("no row {image} {cmp}"))
    };
    let tol = 5e-7;
    let expect = [
        // comparison, dice, precision, recall, annotated mm, detected mm, tp, fp, fn, f1, type
        (
            "skintex_vs_rater_a",
            22.0 / 30.0,
            1.0,
            0.6,
            1.9,
            0.9,
            [2.0, 1.0, 1.0],
            4.0 / 6.0,
            1.0,
        ),
        (
            "skintex_vs_rater_b",
            4.0 / 30.0,
            0.2,
            0.1,
            1.8,
            0.9,
            [2.0, 1.0, 0.0],
            0.8,
            0.5,
        ),
        (
            "rater_b_vs_rater_a",
            22.0 / 40.0,
            0.5,
            0.6,
            1.9,
            1.8,
            [2.0, 0.0, 1.0],
            0.8,
            0.5,
        ),
    ];
    for (cmp, dice, precision, recall, ann_mm, det_mm, counts, f1, typed) in expect {
        let r = row("img1", cmp);
        close(&format!("{cmp} dice"), num(r, "lines_dice"), dice, tol);
        close(
            &format!("{cmp} jsi"),
            num(r, "lines_jsi"),
            dice / (2.0 - dice),
            tol,
        );
        close(
            &format!("{cmp} precision"),
            num(r, "lines_precision"),
            precision,
            tol,
        );
        close(
            &format!("{cmp} recall"),
            num(r, "lines_recall"),
            recall,
            tol,
        );
        close(
            &format!("{cmp} ann mm"),
            num(r, "lines_annotated_mm"),
            ann_mm,
            tol,
        );
        close(
            &format!("{cmp} det mm"),
            num(r, "lines_detected_mm"),
            det_mm,
            tol,
        );
        for (c, v) in ["scars_tp", "scars_fp", "scars_fn"].iter().zip(counts) {
            assert_eq!(num(r, c), v, "{cmp} {c}");
        }
        close(&format!("{cmp} f1"), num(r, "scars_f1"), f1, tol);
        close(
            &format!("{cmp} type"),
            num(r, "scars_type_accuracy"),
            typed,
            tol,
        );
        assert_eq!(r["missing_reasons"], "", "{cmp}");
        // Image 2: nothing on either side: the scores are missing with the reason, the amounts 0.
        let e = row("img2", cmp);
        assert_eq!(e["lines_dice"], "");
        assert_eq!(e["scars_f1"], "");
        assert_eq!(num(e, "lines_annotated_mm"), 0.0);
        assert_eq!(num(e, "scars_detected"), 0.0);
        assert!(
            e["missing_reasons"]
                .contains("lines_dice, lines_jsi: no line pixel annotated or detected in the zone"),
            "{}",
            e["missing_reasons"]
        );
        assert!(e["missing_reasons"].contains("no scar annotated or detected in the zone"));
    }

    let summary = read_rows(&out.join("summary.csv"));
    let srow = |cmp: &str, metric: &str| {
        summary
            .iter()
            .find(|r| r["comparison"] == cmp && r["metric"] == metric && r["zone"] == "full")
            .unwrap_or_else(|| panic!("no summary row {cmp} {metric}"))
    };
    let counts = srow("rater_b_vs_rater_a", "scars_count");
    assert_eq!(counts["n"], "2");
    close("bias", num(counts, "ba_bias"), -0.5, tol);
    let half = 1.96 * 0.5f64.sqrt();
    close("loa low", num(counts, "ba_loa_low"), -0.5 - half, tol);
    close("loa high", num(counts, "ba_loa_high"), -0.5 + half, tol);
    close("icc", num(counts, "icc"), 6.0 / 6.5, tol);
    let lengths = srow("skintex_vs_rater_a", "lines_length_mm");
    close("length bias", num(lengths, "ba_bias"), -0.5, tol);
    close("length mean", num(lengths, "mean"), -0.5, tol);
    // One image with a Dice: its mean, no interval (with the reason).
    let dice = srow("skintex_vs_rater_a", "lines_dice");
    assert_eq!(dice["n"], "1");
    close("mean dice", num(dice, "mean"), 22.0 / 30.0, tol);
    assert_eq!(dice["ci_low"], "");
    assert!(dice["missing_reasons"].contains("at least 2 values"));
    // Deterministic: a second run writes the same bytes.
    let again = dir.path().join("again");
    agree(&again);
    for name in ["agreement.csv", "summary.csv", "agreement.html"] {
        assert!(
            std::fs::read(out.join(name)).unwrap() == std::fs::read(again.join(name)).unwrap(),
            "{name} differs between two runs"
        );
    }
}

/// Rater A's wrinkle masks named by the analysis manifest's column `lines_mask` (relative to the
/// manifest's folder, carried into images.csv) instead of `--lines-masks`; without any
/// annotation the command refuses with exit 2.
#[test]
fn manifest_column_names_rater_a_masks() {
    let dir = tempfile::tempdir().unwrap();
    let (res, _, _) = simulated_analysis(dir.path());
    let out = dir.path().join("agree");
    let refused = skintex()
        .arg("agree")
        .arg("--results")
        .arg(&res)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("lines_mask"));
    let study = dir.path().join("study");
    std::fs::create_dir_all(&study).unwrap();
    let manifest = study.join("manifest.csv");
    std::fs::write(
        res.join("run.json"),
        serde_json::json!({ "manifest": manifest.display().to_string() }).to_string(),
    )
    .unwrap();
    std::fs::write(
        res.join("images.csv"),
        "image_id,path,lines_mask,status,px_per_mm\nimg1,img1.png,../a/img1.png,ok,10\n\
         img2,img2.png,../a/img2.png,ok,10\n",
    )
    .unwrap();
    skintex()
        .arg("agree")
        .arg("--results")
        .arg(&res)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let rows = read_rows(&out.join("agreement.csv"));
    assert_eq!(rows.len(), 2);
    close("dice", num(&rows[0], "lines_dice"), 22.0 / 30.0, 5e-7);
    assert_eq!(rows[0]["scars_f1"], "");
    assert!(rows[0]["missing_reasons"].contains("no scar marks of rater A given"));
}
