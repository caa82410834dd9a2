//! `skintex study` and `analyze --study` (issue 5) through the built binary: the phantom study
//! acceptance, manifest validation, alignment on a transformed portrait, determinism.

mod common;

use std::path::Path;

use common::skintex;

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn cell<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    &row[header.iter().position(|h| h == name).unwrap()]
}

fn num(header: &[String], row: &[String], name: &str) -> f64 {
    cell(header, row, name)
        .parse()
        .unwrap_or_else(|_| panic!("{name} = `{}`", cell(header, row, name)))
}

/// `skintex phantom-study ARGS --out DIR/study`; returns the study folder.
fn phantom_study(dir: &Path, args: &[&str]) -> std::path::PathBuf {
    let study = dir.join("study");
    skintex()
        .arg("phantom-study")
        .args(args)
        .arg("--out")
        .arg(&study)
        .assert()
        .success();
    study
}

/// The acceptance: treated line length falls by 30%, control unchanged.
#[test]
fn phantom_split_face_study_finds_the_treatment_effect() {
    let dir = tempfile::tempdir().unwrap();
    let study = phantom_study(
        dir.path(),
        &["--subjects", "6", "--visits", "3", "--effect", "0.3"],
    );
    let out = dir.path().join("out");
    skintex()
        .args(["analyze", "--study", "-q", "--jobs", "2", "--manifest"])
        .arg(study.join("study.csv"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);

    // Ground truth: the treated side lost 30% of its wrinkle length, the control side none.
    let truth = skintex::phantom::study::read_truth(&study).unwrap();
    let total = |pat: &str| -> f64 {
        truth
            .iter()
            .filter(|(p, _)| p.contains(pat))
            .map(|(_, l)| l)
            .sum()
    };
    let fall = 1.0 - total("week8-left") / total("baseline-left");
    assert!((fall - 0.3).abs() < 0.01, "truth fall {fall}");
    assert_eq!(total("week8-right"), total("baseline-right"));

    let (h, rows) = read_csv(&out.join("stats.csv"));
    let row = |comparison: &str, arm: &str| {
        rows.iter()
            .find(|r| {
                cell(&h, r, "comparison") == comparison
                    && cell(&h, r, "arm") == arm
                    && cell(&h, r, "metric") == "lines_length_mm"
                    && cell(&h, r, "visit") == "week8"
            })
            .unwrap_or_else(|| panic!("no {comparison} {arm} row"))
    };
    let treated = row("change", "treated");
    let control = row("change", "control");
    let diff = row("difference", "treated-control");
    assert_eq!(num(&h, treated, "n"), 6.0);
    assert!(num(&h, treated, "mean_change") < 0.0);
    assert!(num(&h, treated, "p_t") < 0.05, "treated p_t");
    assert!(num(&h, treated, "p_wilcoxon") < 0.05, "treated p_wilcoxon");
    let pct = num(&h, treated, "mean_pct_change");
    assert!((-45.0..-15.0).contains(&pct), "treated mean % change {pct}");
    assert!(num(&h, control, "p_t") > 0.05, "control p_t");
    assert!(num(&h, control, "p_wilcoxon") > 0.05, "control p_wilcoxon");
    assert!(
        num(&h, diff, "mean_change") < 0.0,
        "split-face difference sign"
    );
    assert!(num(&h, diff, "ci_high") < 0.0, "difference CI excludes 0");
    assert_eq!(cell(&h, treated, "needle_depth_mm"), "0.5");

    // changes.csv: one row per follow-up photo x zone x metric, baseline paired by subject/side.
    let (ch, changes) = read_csv(&out.join("changes.csv"));
    let s1 = changes
        .iter()
        .find(|r| {
            cell(&ch, r, "subject") == "S01"
                && cell(&ch, r, "visit") == "week8"
                && cell(&ch, r, "side") == "left"
                && cell(&ch, r, "metric") == "lines_length_mm"
        })
        .unwrap();
    assert_eq!(cell(&ch, s1, "baseline_image_id"), "S01-baseline-left");
    let d = num(&ch, s1, "value") - num(&ch, s1, "baseline_value");
    assert!((num(&ch, s1, "change") - d).abs() < 1e-4 * d.abs().max(1.0));
    // Close-ups have no landmarks: alignment empty with the reason.
    let (ah, align) = read_csv(&out.join("alignment.csv"));
    assert_eq!(align.len(), 24);
    assert!(cell(&ah, &align[0], "reason").contains("no face landmarks"));

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for id in ["summary", "plots", "results", "gallery", "failures"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
    }
    assert!(html.matches("<svg").count() >= 4, "plots");
    assert!(
        html.matches("data:image/jpeg;base64,").count() >= 36,
        "gallery"
    );

    // Same inputs, same bytes.
    let again = dir.path().join("again");
    skintex()
        .args(["study", "-q", "--manifest"])
        .arg(study.join("study.csv"))
        .arg("--metrics")
        .arg(out.join("metrics.csv"))
        .arg("--out")
        .arg(&again)
        .assert()
        .code(0);
    for f in ["changes.csv", "stats.csv", "alignment.csv"] {
        assert!(
            std::fs::read(out.join(f)).unwrap() == std::fs::read(again.join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
}

#[test]
fn invalid_study_manifest_is_exit_2_naming_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("metrics.csv"),
        "image_id,path,zone,px_per_mm\n",
    )
    .unwrap();
    let manifest = dir.path().join("study.csv");
    std::fs::write(
        &manifest,
        "path,subject,visit,side,needle_depth_mm\n\
         a.jpg,S1,baseline,left,0.5\n\
         b.jpg,S1,baseline,left,0.5\n\
         c.jpg,S2,week4,left,half\n",
    )
    .unwrap();
    let out = skintex()
        .args(["study", "--manifest"])
        .arg(&manifest)
        .arg("--metrics")
        .arg(dir.path().join("metrics.csv"))
        .arg("--out")
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "line 3: subject S1 visit baseline side left view `` already given on line 2",
        "line 4, column needle_depth_mm: `half` is not a number",
        "line 4: subject S2 has no baseline photo",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in {err}");
    }
}

/// A follow-up that is the baseline portrait rotated and enlarged aligns with a small residual
/// and the inverse transform; its zones are measured on the same anatomy.
#[test]
fn follow_up_portrait_aligns_to_its_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/astronaut.png");
    let base = image::open(&demo).unwrap().to_rgb8();
    std::fs::copy(&demo, dir.path().join("base.png")).unwrap();
    // Follow-up: 1.25x larger, rotated 8 degrees about the centre, on a 640x640 canvas.
    let (w, h) = (640u32, 640u32);
    let (s, th) = (1.25f64, 8f64.to_radians());
    let follow = image::RgbImage::from_fn(w, h, |x, y| {
        let (cx, cy) = (f64::from(x) - 320.0, f64::from(y) - 320.0);
        let u = (th.cos() * cx + th.sin() * cy) / s + 256.0;
        let v = (-th.sin() * cx + th.cos() * cy) / s + 256.0;
        if (0.0..511.0).contains(&u) && (0.0..511.0).contains(&v) {
            *base.get_pixel(u.round() as u32, v.round() as u32)
        } else {
            image::Rgb([128, 128, 128])
        }
    });
    follow.save(dir.path().join("follow.png")).unwrap();
    let manifest = dir.path().join("study.csv");
    std::fs::write(
        &manifest,
        "path,subject,visit,days_from_baseline,arm\nbase.png,A,baseline,0,treated\nfollow.png,A,week4,28,treated\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    skintex()
        .args(["analyze", "--study", "-q", "--no-qc", "--manifest"])
        .arg(&manifest)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let (ah, rows) = read_csv(&out.join("alignment.csv"));
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    let scale = num(&ah, r, "scale");
    let rot = num(&ah, r, "rotation_deg");
    assert!((scale - 1.0 / 1.25).abs() < 0.02, "scale {scale}");
    // Follow-up -> baseline undoes the 8 degree rotation (sign in image axes, y down).
    assert!((rot.abs() - 8.0).abs() < 1.0, "rotation {rot}");
    // Landmark noise of a 512 px portrait: about 2 px, 0.5 mm at its iris scale.
    let mm = num(&ah, r, "residual_mm");
    assert!(mm < 1.0, "residual {mm} mm");
    assert!(num(&ah, r, "residual_px") < 3.0);
    assert_eq!(cell(&ah, r, "flag"), "");
    // Comparability: the follow-up is 1.25x larger (its px/mm too): not comparable for its
    // scale; the 8 degree in-plane rotation is a roll, which the zones follow (not a pose
    // change), and the expression is the same face's.
    assert_eq!(cell(&ah, r, "comparable"), "false");
    let reasons = cell(&ah, r, "comparability_reasons");
    assert!(reasons.contains("scale:"), "{reasons}");
    assert!(
        !reasons.contains("pose") && !reasons.contains("expression"),
        "{reasons}"
    );
    let roll: f64 = cell(&ah, r, "d_roll_deg").parse().unwrap();
    assert!((roll.abs() - 8.0).abs() < 1.5, "roll change {roll}");
    // A stricter threshold flags the pair, in alignment.csv and in changes.csv.
    let strict = dir.path().join("strict");
    skintex()
        .args(["study", "-q", "--max-alignment-mm", "0.2", "--manifest"])
        .arg(&manifest)
        .arg("--metrics")
        .arg(out.join("metrics.csv"))
        .arg("--out")
        .arg(&strict)
        .assert()
        .code(0);
    let (ah, rows) = read_csv(&strict.join("alignment.csv"));
    assert_eq!(cell(&ah, &rows[0], "flag"), "poor");
    let (ch, changes) = read_csv(&strict.join("changes.csv"));
    assert!(!changes.is_empty());
    assert!(
        changes
            .iter()
            .all(|r| cell(&ch, r, "alignment_flag") == "poor")
    );
}

/// A copy of the demo study (photos and manifest) in `dir`, its manifest rows passed through
/// `edit` (`None` drops the row); returns the manifest.
fn edited_demo_study(dir: &Path, edit: impl Fn(&str) -> Option<String>) -> std::path::PathBuf {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo-study");
    let study = dir.join("study");
    std::fs::create_dir_all(&study).unwrap();
    for entry in std::fs::read_dir(&demo).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jpg") {
            std::fs::copy(&path, study.join(path.file_name().unwrap())).unwrap();
        }
    }
    let text = std::fs::read_to_string(demo.join("study.csv")).unwrap();
    let mut rows = text.lines();
    let mut edited: Vec<String> = vec![rows.next().unwrap().to_owned()];
    edited.extend(rows.filter_map(&edit));
    let manifest = study.join("study.csv");
    std::fs::write(&manifest, edited.join("\n") + "\n").unwrap();
    manifest
}

/// `skintex analyze --study` on `manifest` into `out`: (exit code, stderr).
fn analyze_study(manifest: &Path, out: &Path) -> (Option<i32>, String) {
    let output = skintex()
        .args(["analyze", "--study", "--no-qc", "--jobs", "2", "--manifest"])
        .arg(manifest)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Issue 18 item 2: a split-face side without its baseline stops the study like any missing
/// baseline, instead of quietly dropping that side and its contrast.
#[test]
fn split_face_side_without_its_baseline_stops_the_study() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = edited_demo_study(dir.path(), |row| {
        (!row.starts_with("S01-baseline-left.jpg")).then(|| row.to_owned())
    });
    let (code, err) = analyze_study(&manifest, &dir.path().join("out"));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "line 3: subject S01 side left view `` has no baseline photo (visit `baseline`), so \
             its follow-ups on lines 3, 5 cannot be compared"
        ),
        "{err}"
    );
}

/// Issue 18 item 3: the study design is validated before the first image is analysed, and
/// every problem is listed by line and column.
#[test]
fn study_design_is_validated_before_any_image_is_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = edited_demo_study(dir.path(), |row| {
        Some(if row.starts_with("S03-week8-right.jpg") {
            row.replace(",right,", ",rigth,")
        } else if row.starts_with("S05-week4-left.jpg") {
            row.replace(",0.5,", ",0.5mm,")
        } else {
            row.to_owned()
        })
    });
    let out = dir.path().join("out");
    let (code, err) = analyze_study(&manifest, &out);
    assert_eq!(code, Some(2), "{err}");
    for expected in [
        "line 19, column side: `rigth` is not left, right or both",
        "line 28, column needle_depth_mm: `0.5mm` is not a number",
    ] {
        assert!(err.contains(expected), "`{expected}` not in {err}");
    }
    assert!(
        !out.join("metrics.csv").exists() && !out.join("records").exists(),
        "nothing analysed"
    );
}

/// Issue 18 item 11: the study's summary line takes the singular for 1 (`1 subject`).
#[test]
fn study_summary_of_one_subject_is_singular() {
    let dir = tempfile::tempdir().unwrap();
    let study = phantom_study(
        dir.path(),
        &["--subjects", "1", "--visits", "2", "--size", "200"],
    );
    let (code, err) = analyze_study(&study.join("study.csv"), &dir.path().join("out"));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("skintex: 4 images: 4 ok, 0 failed")
            && err.contains("skintex: study of 1 subject, 4 photos (0 without results)"),
        "{err}"
    );
}

/// Issue 18 item 7: the demo study's phantom keeps every site's scars and pores the same at every
/// visit (only the treated side's wrinkles shorten), so no comparison of a scars or pores metric
/// may come out significant, by either test after Holm; the wrinkle effect must.
#[test]
fn demo_study_shows_no_change_in_families_the_phantom_keeps_constant() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = edited_demo_study(dir.path(), |row| Some(row.to_owned()));
    let out = dir.path().join("out");
    let (code, stderr) = analyze_study(&manifest, &out);
    assert_eq!(code, Some(0), "{stderr}");
    let (h, rows) = read_csv(&out.join("stats.csv"));
    // An empty p (no variation at all: the test is undefined) is no change either.
    let p = |r: &Vec<String>, col: &str| cell(&h, r, col).parse().unwrap_or(f64::NAN);
    let mut constant_rows = 0;
    for r in &rows {
        let family = cell(&h, r, "family");
        if family != "scars" && family != "pores" {
            continue;
        }
        constant_rows += 1;
        for col in ["p_t_holm", "p_wilcoxon_holm"] {
            let v = p(r, col);
            assert!(
                v.is_nan() || v >= 0.05,
                "{} {} {} {}: {col} = {v} (mean change {})",
                cell(&h, r, "comparison"),
                cell(&h, r, "arm"),
                cell(&h, r, "metric"),
                cell(&h, r, "visit"),
                cell(&h, r, "mean_change"),
            );
        }
    }
    assert!(constant_rows >= 40, "only {constant_rows} scars/pores rows");
    // The real effect is still found: treated-control line length at week 8.
    let lines = rows
        .iter()
        .find(|r| {
            cell(&h, r, "comparison") == "difference"
                && cell(&h, r, "metric") == "lines_length_mm"
                && cell(&h, r, "visit") == "week8"
        })
        .expect("difference row for lines_length_mm");
    assert!(
        p(lines, "p_t_holm") < 0.05,
        "split-face wrinkle effect lost"
    );
}

/// Issue 15: visits labelled as people label them (`V0`, `V4`, `V8`) with days_from_baseline
/// 0/28/56 are a valid study: the baseline is the day-0 visit, and study.json says which label
/// it was.
#[test]
fn visits_labelled_v0_v1_take_the_day_0_visit_as_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = edited_demo_study(dir.path(), |row| {
        Some(
            row.replace(",baseline,", ",V0,")
                .replace(",week4,", ",V4,")
                .replace(",week8,", ",V8,"),
        )
    });
    let out = dir.path().join("out");
    let (code, stderr) = analyze_study(&manifest, &out);
    assert_eq!(code, Some(0), "{stderr}");
    let (h, rows) = read_csv(&out.join("stats.csv"));
    let visits: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| cell(&h, r, "visit")).collect();
    assert_eq!(visits.into_iter().collect::<Vec<_>>(), ["V4", "V8"]);
    let study: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("study.json")).unwrap()).unwrap();
    assert_eq!(study["baseline_visit"], "V0");
}

/// Issue 15: `repeatability.csv` of a study with replicates matches pingouin (fixture
/// `repeatability.json`, `tools/reference/make_repeatability_fixtures.py`) within 1e-6, missing
/// replicates are empty cells with a reason, and the replicates are averaged before the change.
#[test]
fn replicates_give_repeatability_matching_pingouin_and_are_averaged_before_change() {
    let fx: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/reference/repeatability.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let ds = fx["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["note"]
                .as_str()
                .unwrap()
                .starts_with("missing replicates")
        })
        .unwrap();
    let table: Vec<Vec<Option<f64>>> = ds["table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64()).collect())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    // Replicates 3, 1, 2 in this order in the manifest: ordered by id, not by line.
    let mut manifest = String::from("path,subject,visit,days_from_baseline,replicate\n");
    let mut metrics = String::from("image_id,zone,px_per_mm,rough_sq\n");
    for (i, row) in table.iter().enumerate() {
        for j in [2, 0, 1] {
            let id = format!("S{i}-base-r{}", j + 1);
            manifest.push_str(&format!("{id}.png,S{i},baseline,0,{}\n", j + 1));
            let v = row[j].map(|v| format!("{v:?}")).unwrap_or_default();
            metrics.push_str(&format!("{id},full,20,{v}\n"));
        }
        manifest.push_str(&format!("S{i}-w4.png,S{i},week4,28,1\n"));
        metrics.push_str(&format!("S{i}-w4,full,20,1\n"));
    }
    std::fs::write(dir.path().join("study.csv"), manifest).unwrap();
    std::fs::write(dir.path().join("metrics.csv"), metrics).unwrap();
    let out = dir.path().join("out");
    skintex()
        .args(["study", "-q", "--manifest"])
        .arg(dir.path().join("study.csv"))
        .arg("--metrics")
        .arg(dir.path().join("metrics.csv"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let (h, rows) = read_csv(&out.join("repeatability.csv"));
    assert_eq!(rows.len(), 1, "one visit x zone x metric with replicates");
    let r = &rows[0];
    assert_eq!(
        (
            cell(&h, r, "visit"),
            cell(&h, r, "zone"),
            cell(&h, r, "metric")
        ),
        ("baseline", "full", "rough_sq")
    );
    let close = |name: &str, want: f64| {
        let got = num(&h, r, name);
        assert!(
            ((got - want) / want).abs() <= 1e-6,
            "{name}: {got} vs pingouin {want}"
        );
    };
    let want = |k: &str| ds[k].as_f64().unwrap();
    close("icc", want("icc"));
    close("icc_ci_low", ds["icc_ci"][0].as_f64().unwrap());
    close("icc_ci_high", ds["icc_ci"][1].as_f64().unwrap());
    close("sem", want("sem"));
    close("mdc95", want("mdc95"));
    close("within_sd", want("within_sd"));
    close("cv_pct", want("cv_pct"));
    close("mean", want("mean"));
    assert_eq!(cell(&h, r, "n_targets"), "7");
    assert_eq!(cell(&h, r, "n_photos"), "19");
    assert_eq!(cell(&h, r, "icc_replicates"), "3");
    assert_eq!(cell(&h, r, "icc_targets"), "5");
    let reason = cell(&h, r, "missing_reason");
    assert!(
        reason.contains("2 of 21 replicate values missing")
            && reason.contains("2 target(s) with a missing value among the first 3 replicates"),
        "{reason}"
    );
    // changes.csv: the baseline is the mean of the replicates with a value.
    let (h, rows) = read_csv(&out.join("changes.csv"));
    let rows: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| cell(&h, r, "metric") == "rough_sq")
        .collect();
    assert_eq!(rows.len(), table.len());
    for (i, row) in table.iter().enumerate() {
        let r = rows
            .iter()
            .find(|r| cell(&h, r, "subject") == format!("S{i}"))
            .unwrap();
        let present: Vec<f64> = row.iter().flatten().copied().collect();
        let mean = present.iter().sum::<f64>() / present.len() as f64;
        let got = num(&h, r, "baseline_value");
        assert!(((got - mean) / mean).abs() < 1e-6, "S{i}: {got} vs {mean}");
        assert_eq!(
            cell(&h, r, "baseline_image_id"),
            format!("S{i}-base-r1;S{i}-base-r2;S{i}-base-r3")
        );
    }
    let study: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("study.json")).unwrap()).unwrap();
    assert_eq!(study["repeatability"]["replicate_sets"], 7);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"repeatability\">"));
}

/// Within-target CV % of `metric` over the `full` zone in a `repeatability.csv`.
fn repeatability_cv(path: &Path, metric: &str) -> f64 {
    let (h, rows) = read_csv(path);
    let r = rows
        .iter()
        .find(|r| cell(&h, r, "metric") == metric && cell(&h, r, "zone") == "full")
        .unwrap_or_else(|| panic!("no {metric} row"));
    num(&h, r, "cv_pct")
}

/// Re-takes of realistic close-ups (issue 15): 4 skins (realistic preset at 20 px/mm, light,
/// camera and shine held per skin), each photographed 3 times with new sensor noise, up to 1 deg
/// rotation, 10 px shift and 5 % exposure (`phantom::retake`), analysed with `analyze --study`.
/// Returns the within-subject CV % of rough_sq, lines_length_mm and pores_density_per_cm2.
fn realistic_retake_cvs(dir: &Path) -> [f64; 3] {
    use skintex::phantom::retake::{Retake, render_retake};
    use skintex::phantom::{NuisanceRanges, PhantomSpec};
    let spec = PhantomSpec {
        nuisance: NuisanceRanges {
            px_per_mm: [20.0, 20.0],
            ..NuisanceRanges::default()
        },
        ..PhantomSpec::realistic()
    };
    let mut manifest = String::from("path,subject,visit,replicate,px_per_mm,roi\n");
    for s in 0..4u64 {
        let skin = 1500 + s;
        let spec = PhantomSpec {
            capture_seed: Some(skin * 7 + 1),
            ..spec.clone()
        };
        for r in 1..=3u64 {
            let noise = skin * 1000 + r;
            let photo = render_retake(&spec, skin, noise, &Retake::draw(noise));
            let name = format!("S{s}-r{r}.png");
            photo.image.save(dir.join(&name)).unwrap();
            manifest.push_str(&format!("{name},S{s},baseline,{r},20,full\n"));
        }
    }
    std::fs::write(dir.join("study.csv"), manifest).unwrap();
    let out = dir.join("out");
    skintex()
        .args(["analyze", "-q", "--manifest"])
        .arg(dir.join("study.csv"))
        .args(["--study", "--out"])
        .arg(&out)
        .assert()
        .code(0);
    let path = out.join("repeatability.csv");
    let cvs = [
        repeatability_cv(&path, "rough_sq"),
        repeatability_cv(&path, "lines_length_mm"),
        repeatability_cv(&path, "pores_density_per_cm2"),
    ];
    eprintln!(
        "re-takes of realistic close-ups, within-subject CV %: rough_sq {:.2}, lines_length_mm {:.2}, pores_density_per_cm2 {:.2}",
        cvs[0], cvs[1], cvs[2]
    );
    cvs
}

/// Issue 15 acceptance: on re-takes of the same skin, rough_sq repeats within 2 % and
/// pores_density_per_cm2 within 5 % (measured 0.15 % and 2.48 %).
#[test]
fn realistic_retakes_repeat_rough_sq_within_2_and_pores_within_5_percent() {
    let dir = tempfile::tempdir().unwrap();
    let [rough, _, pores] = realistic_retake_cvs(dir.path());
    assert!(rough <= 2.0, "rough_sq CV {rough:.2} %");
    assert!(pores <= 5.0, "pores_density_per_cm2 CV {pores:.2} %");
}

/// Issue 15 acceptance for lines_length_mm (CV <= 5 % on re-takes), not met by the current line
/// detector: measured 6.33 % on these re-takes since lines are detected on a 12 px/mm working
/// grid (10.72 % at the photo's own 20 px/mm; 12.66 % before a wide valley's other wall and
/// a scar's wall were no longer counted as lines; 7.8-9.8 % on classic phantom-study
/// re-takes). New sensor noise alone (no rotation, shift or exposure change) gave 14.9 %, with
/// lines_count varying by 0.65 line per skin: the detector's line count follows the noise.
/// Where it comes from (2026-12-07, these 4 skins and 12 others, seeds 1600-1611, 3 re-takes
/// each; pooled within-skin SD / mean 7.3 % and 9.7 %): pieces of 3.3-5.7 mm, just above
/// `lines.min_length_mm`, that are found on one re-take and not the next (often within a few mm
/// of the photo's edge, which the re-take's shift moves), and a wide wrinkle under the ring
/// flash whose skeleton follows one wall, the other or both by turns (skin 1500: 16.5, 22.0
/// and 23.2 mm for an 18.1 mm wrinkle). No single parameter fixes both sets: min_length_mm 5
/// gives 4.6 % on the 12 and 10.6 % on these 4, snr_high 3.0 8.9 % and 3.5 %, line_end_fraction
/// 0.35 6.2 % and 4.3 %, bridge_gap_mm 3.0 16.8 % and 11.9 %. Since a line's end is trimmed
/// against its own level within 1.5-3 mm, not the whole region's (so that a crossing hair does
/// not erase a wrinkle), 8.21 % on these 4 skins (pooled 7.3 -> 8.5 %) and 9.95 -> 8.7 % on the
/// 12 others: skin 1500's wide wrinkle is still 17.5, 21.3 and 13.4 mm on its three re-takes.
/// Run with `--ignored` once the line methods change.
#[test]
#[ignore = "issue 15 acceptance not met: lines_length_mm CV measured 8.21 % (limit 5 %)"]
fn realistic_retakes_repeat_lines_length_within_5_percent() {
    let dir = tempfile::tempdir().unwrap();
    let [_, lines, _] = realistic_retake_cvs(dir.path());
    assert!(lines <= 5.0, "lines_length_mm CV {lines:.2} %");
}

/// `phantom-study --replicates`: a single-visit study of re-takes, a `replicate` column, the same
/// bytes for the same seed, and repeatability.csv with its report section.
#[test]
fn phantom_study_replicates_make_a_single_visit_repeatability_study() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--subjects",
        "2",
        "--visits",
        "1",
        "--replicates",
        "2",
        "--size",
        "200",
    ];
    let study = phantom_study(dir.path(), &args);
    let (h, rows) = read_csv(&study.join("study.csv"));
    assert_eq!(rows.len(), 2 * 2 * 2);
    assert_eq!(h.last().map(String::as_str), Some("replicate"));
    assert_eq!(cell(&h, &rows[1], "path"), "S01-baseline-left-r2.jpg");
    assert_eq!(cell(&h, &rows[1], "replicate"), "2");
    // Re-takes differ from each other, and the same seed gives the same photos.
    let r1 = std::fs::read(study.join("S01-baseline-left-r1.jpg")).unwrap();
    let r2 = std::fs::read(study.join("S01-baseline-left-r2.jpg")).unwrap();
    assert_ne!(r1, r2);
    let again = dir.path().join("again");
    skintex()
        .arg("phantom-study")
        .args(args)
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(again.join("S01-baseline-left-r2.jpg")).unwrap(),
        r2
    );
    let out = dir.path().join("out");
    skintex()
        .args(["analyze", "-q", "--manifest"])
        .arg(study.join("study.csv"))
        .args(["--study", "--out"])
        .arg(&out)
        .assert()
        .code(0);
    let (h, rows) = read_csv(&out.join("repeatability.csv"));
    let r = rows
        .iter()
        .find(|r| cell(&h, r, "metric") == "rough_sq")
        .unwrap();
    assert_eq!(cell(&h, r, "visit"), "baseline");
    assert_eq!(cell(&h, r, "n_subjects"), "2");
    assert_eq!(cell(&h, r, "n_targets"), "4");
    assert_eq!(cell(&h, r, "n_photos"), "8");
    assert!(num(&h, r, "icc") > 0.5, "{r:?}");
    assert!(num(&h, r, "mdc95") > 0.0);
    // A single visit: no follow-up, so no change.
    let (_, changes) = read_csv(&out.join("changes.csv"));
    assert!(changes.is_empty());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"repeatability\">"));
    assert!(html.contains("<dt>Replicates</dt>"));
}
