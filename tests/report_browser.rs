//! The study report in a real browser: headless Chromium loads the written `report.html` from disk.
//!
//! Chromium is found as `$SKINTEX_CHROMIUM` or `chromium` on `PATH` (Debian package `chromium`).
//! Without it the tests print "skipped: chromium not installed" and pass, except in CI
//! (`CI=true`), where they fail: CI installs it.
//!
//! Console detection: Chromium (checked with 156) started with `--enable-logging=stderr` prints
//! every console message of the page, whatever its level (`console.error`, `.warn`, `.log`) and
//! uncaught exceptions alike, as
//! `[pid:tid:time:INFO:CONSOLE:1] "message", source: file:///... (1)`.
//! The report has no script, so any such line is a problem; `detector_flags_deliberate_console_errors`
//! shows that the detector catches them.

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{skin_image, skintex};
use image::{ImageFormat, Rgb};
use skintex::study::report::{
    ArmSeries, GalleryImage, GallerySubject, MetricSeries, PrimaryTest, ReportInput, SeriesPoint,
    StatsRow, SubjectLine, SubjectPlot, SubjectPoint, render_report,
};

const SECTION_IDS: [&str; 7] = [
    "summary", "methods", "plots", "subjects", "results", "gallery", "failures",
];
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// The Chromium binary, or `None` (with a note) when it is not installed outside CI.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SKINTEX_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium not installed but CI=true: install it with \
             `apt-get install -y --no-install-recommends chromium` or set SKINTEX_CHROMIUM"
        );
        eprintln!("skipped: chromium not installed");
    }
    found
}

/// What headless Chromium saw: the DOM after load, and its log (stderr).
struct BrowserRun {
    dom: String,
    log: String,
}

/// Loads `html` from disk in headless Chromium with the network cut off and a fresh profile.
fn load_in_chromium(chromium: &Path, html: &Path, profile: &Path) -> BrowserRun {
    let url = format!(
        "file://{}",
        html.canonicalize().expect("html path").display()
    );
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            // No request leaves the machine: names do not resolve, and proxying goes nowhere.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        // Keep Chromium's crash database and caches inside the throw-away profile.
        .env("XDG_CONFIG_HOME", profile)
        .env("XDG_CACHE_HOME", profile)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    // Read both pipes on threads so a full pipe cannot stall the browser.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).map(|_| s)
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut s).map(|_| s)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if start.elapsed() > BROWSER_TIMEOUT {
            child.kill().ok();
            child.wait().ok();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = out_reader
        .join()
        .expect("stdout thread")
        .expect("stdout utf-8");
    let log = err_reader
        .join()
        .expect("stderr thread")
        .expect("stderr utf-8");
    assert!(status.success(), "chromium failed ({status}):\n{log}");
    assert!(dom.contains("</html>"), "no DOM dumped:\n{log}");
    BrowserRun { dom, log }
}

/// Lines of Chromium's log that report page console output or an uncaught exception.
fn console_problems(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| line.contains(":CONSOLE") || line.contains("Uncaught"))
        .collect()
}

fn jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut img = skin_image(width, height, seed);
    // A QC-like overlay: a coloured zone outline.
    for x in width / 8..width * 7 / 8 {
        for y in [height / 6, height * 5 / 6] {
            img.put_pixel(x, y, Rgb([0, 200, 255]));
            img.put_pixel(x, y + 1, Rgb([0, 200, 255]));
        }
    }
    for y in height / 6..height * 5 / 6 {
        for x in [width / 8, width * 7 / 8] {
            img.put_pixel(x, y, Rgb([0, 200, 255]));
            img.put_pixel(x + 1, y, Rgb([0, 200, 255]));
        }
    }
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg)
        .expect("jpeg");
    bytes
}

fn point(visit: &str, days: Option<f64>, mean: f64, half_ci: f64, n: usize) -> SeriesPoint {
    SeriesPoint {
        visit: visit.to_owned(),
        days,
        mean_change: Some(mean),
        ci_low: Some(mean - half_ci),
        ci_high: Some(mean + half_ci),
        n,
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    arm: &str,
    metric: &str,
    visit: &str,
    n: usize,
    mean: Option<f64>,
    half_ci: f64,
    p: Option<f64>,
    p_holm: Option<f64>,
    g: Option<f64>,
) -> StatsRow {
    StatsRow {
        comparison: "change".to_owned(),
        arm: arm.to_owned(),
        zone: "forehead".to_owned(),
        metric: metric.to_owned(),
        visit: visit.to_owned(),
        n,
        mean_baseline: mean.map(|_| 0.05),
        mean_change: mean,
        mean_pct_change: mean.map(|m| 100.0 * m / 0.05),
        ci_low: mean.map(|m| m - half_ci),
        ci_high: mean.map(|m| m + half_ci),
        p_t: p.map(|p| p * 0.8),
        p_t_holm: p_holm,
        p_wilcoxon: p,
        p_wilcoxon_holm: p_holm.map(|p| (p * 1.5).min(1.0)),
        hedges_g: g,
    }
}

/// 2 arms x 3 visits, 2 subjects with generated QC pictures (one missing), one failure.
fn study_input() -> ReportInput<'static> {
    let visits = [("baseline", 0.0), ("week4", 28.0), ("week12", 84.0)];
    let arm = |name: &str, means: [f64; 3], days: bool| ArmSeries {
        arm: name.to_owned(),
        points: visits
            .iter()
            .zip(means)
            .map(|(&(visit, d), mean)| {
                let half = if mean == 0.0 {
                    0.0
                } else {
                    0.004 + mean.abs() * 0.4
                };
                point(visit, days.then_some(d), mean, half, 12)
            })
            .collect(),
    };
    let series = vec![
        MetricSeries {
            metric: "rough_sq".to_owned(),
            zone: "forehead".to_owned(),
            unit: "mm".to_owned(),
            arms: vec![
                arm("placebo", [0.0, 0.002, -0.001], true),
                arm("microneedling <1.5 mm>", [0.0, -0.011, -0.024], true),
            ],
        },
        MetricSeries {
            metric: "lines_length_mm".to_owned(),
            zone: "forehead".to_owned(),
            unit: "mm".to_owned(),
            arms: vec![
                arm("placebo", [0.0, 1.5, 0.8], false),
                arm("microneedling <1.5 mm>", [0.0, -6.0, -11.5], false),
            ],
        },
    ];
    let mut table = Vec::new();
    for metric in ["rough_sq", "lines_length_mm"] {
        for (visit, _) in &visits[1..] {
            table.push(row(
                "placebo",
                metric,
                visit,
                12,
                Some(0.002),
                0.006,
                Some(0.41),
                Some(1.0),
                Some(0.12),
            ));
            table.push(row(
                "microneedling <1.5 mm>",
                metric,
                visit,
                11,
                Some(-0.024),
                0.01,
                Some(0.0008),
                Some(0.0064),
                Some(-1.1),
            ));
        }
    }
    // A row with missing statistics (too few subjects).
    table.push(row(
        "placebo",
        "scars_count",
        "week12",
        1,
        None,
        0.0,
        None,
        None,
        None,
    ));
    let gallery = ["S01 <O'Brien>", "S02"]
        .iter()
        .enumerate()
        .map(|(s, subject)| GallerySubject {
            subject: (*subject).to_owned(),
            images: visits
                .iter()
                .enumerate()
                .map(|(v, (visit, _))| {
                    if s == 1 && v == 2 {
                        GalleryImage {
                            caption: (*visit).to_owned(),
                            jpeg: None,
                            href: None,
                            missing_reason: Some("image failed to decode".to_owned()),
                        }
                    } else {
                        GalleryImage {
                            caption: (*visit).to_owned(),
                            jpeg: Some(jpeg(320, 240, (s * 3 + v) as u32)),
                            href: Some(format!("qc/S0{s}-{visit}.jpg")),
                            missing_reason: None,
                        }
                    }
                })
                .collect(),
        })
        .collect();
    ReportInput {
        title: "study_manifest.csv".to_owned(),
        generated_at: "2026-11-27T10:00:00Z".to_owned(),
        skintex_version: skintex::VERSION,
        summary: vec![
            ("subjects".to_owned(), "2".to_owned()),
            ("visits".to_owned(), "baseline, week4, week12".to_owned()),
            (
                "arms".to_owned(),
                "placebo, microneedling <1.5 mm>".to_owned(),
            ),
            ("images ok / failed".to_owned(), "5 / 1".to_owned()),
            ("needle depths".to_owned(), String::new()),
        ],
        primary_test: PrimaryTest::PairedT,
        methods: vec![(
            "Calibration".to_owned(),
            "the manifest's px_per_mm: 6 photos, 20 px/mm".to_owned(),
        )],
        stats_csv: Some("stats.csv".to_owned()),
        repeatability: Vec::new(),
        repeatability_csv: None,
        subjects: vec![SubjectPlot {
            metric: "lines_length_mm".to_owned(),
            zone: "forehead".to_owned(),
            unit: "mm".to_owned(),
            arms: vec!["placebo".to_owned(), "microneedling <1.5 mm>".to_owned()],
            lines: ["placebo", "microneedling <1.5 mm>"]
                .iter()
                .flat_map(|arm| {
                    ["S01 <O'Brien>", "S02"]
                        .iter()
                        .map(move |subject| SubjectLine {
                            subject: (*subject).to_owned(),
                            arm: (*arm).to_owned(),
                            points: visits
                                .iter()
                                .enumerate()
                                .map(|(v, &(visit, days))| SubjectPoint {
                                    visit: visit.to_owned(),
                                    days: Some(days),
                                    value: Some(40.0 - v as f64 * subject.len() as f64 / 3.0),
                                })
                                .collect(),
                        })
                })
                .collect(),
        }],
        series,
        table,
        gallery,
        failures: vec![(
            "S02/week12.jpg".to_owned(),
            "decode: unexpected end of JPEG data".to_owned(),
        )],
        ..Default::default()
    }
}

#[test]
fn report_loads_in_chromium_without_errors_or_network() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let input = study_input();
    let html = render_report(&input);
    let path = dir.path().join("report.html");
    std::fs::write(&path, &html).expect("write report");
    if let Some(out) = std::env::var_os("SKINTEX_REPORT_OUT") {
        std::fs::write(&out, &html).expect("copy report to SKINTEX_REPORT_OUT");
    }

    // Self-contained: no URL, script, stylesheet link or CSS url(); every src is a data URI.
    for forbidden in ["http://", "https://", "<script", "<link", "url(", "@import"] {
        assert!(!html.contains(forbidden), "report contains {forbidden:?}");
    }
    for (i, _) in html.match_indices(" src=\"") {
        assert!(
            html[i + 6..].starts_with("data:image/jpeg;base64,"),
            "non-data src at byte {i}"
        );
    }

    let run = load_in_chromium(&chromium, &path, &dir.path().join("profile"));
    for id in SECTION_IDS {
        assert!(
            run.dom.contains(&format!("<section id=\"{id}\">")),
            "section {id} missing from DOM"
        );
    }
    assert_eq!(
        run.dom.matches("<svg ").count(),
        input.series.len() + input.subjects.len(),
        "one inline SVG per series and per subject plot"
    );
    assert!(run.dom.contains("<figure id=\"plot-2\">"));
    assert_eq!(run.dom.matches("src=\"data:image/jpeg;base64,").count(), 5);
    // Escaped user text arrives as text, not markup.
    assert!(run.dom.contains("S01 &lt;O'Brien&gt;"));
    assert!(run.dom.contains("microneedling &lt;1.5 mm&gt;"));
    assert!(!run.dom.contains("<1.5 mm>"));
    let problems = console_problems(&run.log);
    assert!(
        problems.is_empty(),
        "console output from the report:\n{}",
        problems.join("\n")
    );

    // Layout probe, run on a copy with a script appended: every picture decodes, every plot has
    // a size, nothing overflows the window horizontally.
    let probe = with_layout_probe(&html, 320);
    let probe_path = dir.path().join("probe.html");
    std::fs::write(&probe_path, probe).expect("write probe");
    let run = load_in_chromium(&chromium, &probe_path, &dir.path().join("profile-probe"));
    let lines = console_problems(&run.log);
    assert_eq!(
        lines.len(),
        1,
        "expected only the probe line:\n{}",
        lines.join("\n")
    );
    assert!(
        lines[0].contains(
            r#"PROBE {\"images\":5,\"decoded\":5,\"svgs\":3,\"sized\":3,\"overflow\":false}"#
        ) || lines[0]
            .contains(r#"PROBE {"images":5,"decoded":5,"svgs":3,"sized":3,"overflow":false}"#),
        "{}",
        lines[0]
    );
}

#[test]
fn detector_flags_deliberate_console_errors() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let clean = dir.path().join("clean.html");
    std::fs::write(
        &clean,
        "<!DOCTYPE html><html><body><p>fine</p></body></html>",
    )
    .unwrap();
    let broken = dir.path().join("broken.html");
    std::fs::write(
        &broken,
        concat!(
            "<!DOCTYPE html><html><body><p>broken</p>",
            "<script>console.error('deliberate-console-error')</script>",
            "<script>notDefinedAnywhere()</script></body></html>"
        ),
    )
    .unwrap();

    let run = load_in_chromium(&chromium, &clean, &dir.path().join("profile-clean"));
    assert!(console_problems(&run.log).is_empty(), "{}", run.log);

    let run = load_in_chromium(&chromium, &broken, &dir.path().join("profile-broken"));
    let problems = console_problems(&run.log);
    assert!(
        problems
            .iter()
            .any(|l| l.contains("deliberate-console-error")),
        "console.error not detected in:\n{}",
        run.log
    );
    assert!(
        problems
            .iter()
            .any(|l| l.contains("Uncaught ReferenceError: notDefinedAnywhere")),
        "uncaught exception not detected in:\n{}",
        run.log
    );
}

/// `html` with a script appended that logs, once loaded, `PROBE {json}`: the number of pictures,
/// how many decoded at `image_width` px, the number of SVG plots, how many have a size (over
/// 300 x 180 px), and whether the page overflows the window horizontally.
fn with_layout_probe(html: &str, image_width: u32) -> String {
    let script = format!(
        concat!(
            "<script>window.addEventListener('load', () => {{",
            "const imgs = [...document.images];",
            "const svgs = [...document.querySelectorAll('svg')];",
            "console.log('PROBE ' + JSON.stringify({{",
            "images: imgs.length,",
            "decoded: imgs.filter(i => i.complete && i.naturalWidth === {}).length,",
            "svgs: svgs.length,",
            "sized: svgs.filter(s => s.getBoundingClientRect().width > 300 && s.getBoundingClientRect().height > 180).length,",
            "overflow: document.documentElement.scrollWidth > window.innerWidth}}));",
            "}});</script></body>"
        ),
        image_width
    );
    html.replace("</body>", &script)
}

/// The JSON a probe script logged as `PROBE {...}` (Chromium may escape its quotes).
fn probe_json(log: &str) -> serde_json::Value {
    let line = console_problems(log)
        .into_iter()
        .find(|l| l.contains("PROBE "))
        .unwrap_or_else(|| panic!("no probe line in:\n{log}"));
    let start = line.find("PROBE ").unwrap() + "PROBE ".len();
    let end = line.rfind("\", source").unwrap_or(line.len());
    let text = line[start..end].replace("\\\"", "\"");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// One row of a CSV as (header, row) pairs.
fn csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// Issue 18 item 5 on the demo study (6 subjects, split face, treated wrinkles 30 % shorter at
/// week 8): every p column names its test, the report says which test is primary, and the
/// split-face effect on line length, whose paired-t Holm p is below 0.05 while the exact
/// Wilcoxon p of 6 subjects cannot be, is highlighted when t is primary (the default) and not
/// with `--test wilcoxon`. Checked in the written HTML and in Chromium's rendering (computed
/// highlight colour), with the thumbnails' links to the full-size QC pictures.
#[test]
fn demo_study_report_names_the_tests_and_highlights_the_split_face_effect() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo-study/study.csv");
    skintex()
        .args(["analyze", "--study", "-q", "--jobs", "2", "--manifest"])
        .arg(&demo)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);

    // stats.csv: the split-face effect passes Holm with the t test, not with Wilcoxon.
    let stats = csv_rows(&out.join("stats.csv"));
    let effect = stats
        .iter()
        .find(|r| {
            r["comparison"] == "difference"
                && r["arm"] == "treated-control"
                && r["zone"] == "full"
                && r["metric"] == "lines_length_mm"
                && r["visit"] == "week8"
        })
        .expect("split-face lines_length_mm week8 row");
    let p_t_holm: f64 = effect["p_t_holm"].parse().unwrap();
    let p_w_holm: f64 = effect["p_wilcoxon_holm"].parse().unwrap();
    eprintln!(
        "demo split-face lines_length_mm week8: p_t_holm {p_t_holm} (must be < 0.05), \
         p_wilcoxon_holm {p_w_holm} (exact Wilcoxon, n = 6: >= 0.03125 before Holm)"
    );
    assert!(p_t_holm < 0.05, "p_t_holm {p_t_holm}");
    assert!(p_w_holm >= 0.05, "p_wilcoxon_holm {p_w_holm}");
    let shown_p = format!("{p_t_holm:.3}");

    // The written HTML: the row is highlighted, its primary cell shows p_t_holm.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let effect_row = |html: &str| -> Option<String> {
        html.split("<tr")
            .find(|r| {
                r.contains("<td>treated-control</td>")
                    && r.contains("<td>lines_length_mm</td>")
                    && r.contains("<td>week8</td>")
            })
            .map(|r| r.split("</tr>").next().unwrap().to_owned())
    };
    let row = effect_row(&html).expect("effect row in report");
    assert!(row.starts_with(" class=\"sig\""), "not highlighted: {row}");
    assert!(
        row.contains(&format!("<td class=\"num holm\">{shown_p}</td>")),
        "{row}"
    );
    assert!(html.contains("Primary test: <strong>paired t</strong>"));
    assert!(html.contains("<a href=\"stats.csv\">stats.csv</a>"));

    // --test wilcoxon: the same numbers, the Wilcoxon column primary, nothing highlighted there.
    let wilcoxon = dir.path().join("wilcoxon");
    skintex()
        .args(["study", "-q", "--test", "wilcoxon", "--manifest"])
        .arg(&demo)
        .arg("--metrics")
        .arg(out.join("metrics.csv"))
        .arg("--out")
        .arg(&wilcoxon)
        .assert()
        .code(0);
    let html_w = std::fs::read_to_string(wilcoxon.join("report.html")).unwrap();
    let row_w = effect_row(&html_w).expect("effect row in the Wilcoxon report");
    assert!(!row_w.contains("class=\"sig\""), "{row_w}");
    assert!(html_w.contains("Primary test: <strong>Wilcoxon signed-rank</strong>"));
    assert_eq!(
        std::fs::read(out.join("stats.csv")).unwrap(),
        std::fs::read(wilcoxon.join("stats.csv")).unwrap(),
        "the primary test changes the report only"
    );
    let study_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wilcoxon.join("study.json")).unwrap()).unwrap();
    assert_eq!(study_json["primary_test"], "Wilcoxon signed-rank");

    let Some(chromium) = chromium() else { return };
    // In the browser: the headers as a reader sees them, the highlighted rows with their computed
    // background, and where the thumbnails' links lead.
    let probe = html.replace(
        "</body>",
        concat!(
            "<script>window.addEventListener('load', () => {",
            "const headers = [...document.querySelectorAll('#results th')].map(t => t.textContent);",
            "const primary = [...document.querySelectorAll('#results th.primary')].map(t => t.textContent);",
            "const sig = [...document.querySelectorAll('#results tr.sig')].map(r => ({",
            "cells: [...r.cells].map(c => c.textContent),",
            "background: getComputedStyle(r).backgroundColor}));",
            "const links = [...document.querySelectorAll('#gallery a')].map(a => a.href);",
            "const thumbs = [...document.querySelectorAll('#gallery a > img')].filter(i => i.complete && i.naturalWidth > 0).length;",
            "console.log('PROBE ' + JSON.stringify({headers, primary, sig, links, thumbs}));",
            "});</script></body>"
        ),
    );
    let probe_path = out.join("probe.html");
    std::fs::write(&probe_path, probe).expect("write probe");
    let run = load_in_chromium(&chromium, &probe_path, &dir.path().join("profile-demo"));
    let seen = probe_json(&run.log);
    let texts = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_owned())
            .collect()
    };
    let headers = texts(&seen["headers"]);
    for want in [
        "p (paired t)",
        "p (paired t, Holm)primary",
        "p (Wilcoxon signed-rank)sensitivity",
        "p (Wilcoxon signed-rank, Holm)sensitivity",
        "baseline mean",
        "% change",
    ] {
        assert!(
            headers.iter().any(|h| h == want),
            "{want} not in {headers:?}"
        );
    }
    assert!(
        !headers.iter().any(|h| h == "p (Holm)"),
        "a Holm column without its test: {headers:?}"
    );
    assert_eq!(texts(&seen["primary"]), ["p (paired t, Holm)primary"]);
    let sig = seen["sig"].as_array().unwrap();
    let highlighted = sig
        .iter()
        .find(|r| {
            let cells = texts(&r["cells"]);
            cells[0] == "treated-control" && cells[2] == "lines_length_mm" && cells[4] == "week8"
        })
        .unwrap_or_else(|| panic!("split-face effect not highlighted in the DOM: {sig:?}"));
    assert_eq!(highlighted["background"], "rgb(255, 243, 196)");
    let primary_col = headers
        .iter()
        .position(|h| h == "p (paired t, Holm)primary")
        .unwrap();
    assert_eq!(texts(&highlighted["cells"])[primary_col], shown_p);
    // Every highlighted row is below 0.05 on the primary column.
    for r in sig {
        let p = texts(&r["cells"])[primary_col].clone();
        assert!(
            p == "<0.001" || p.parse::<f64>().unwrap() < 0.05,
            "highlighted with p {p}"
        );
    }
    // 6 subjects x 6 photos in the gallery, each a decoded thumbnail linking to its QC picture.
    let links = texts(&seen["links"]);
    assert_eq!(links.len(), 36, "{links:?}");
    assert_eq!(seen["thumbs"], 36);
    for link in &links {
        let path = link.strip_prefix("file://").expect("a local link");
        assert!(
            Path::new(path).is_file() && path.contains("/qc/"),
            "{link} is not a QC picture"
        );
    }
    let problems: Vec<&str> = console_problems(&run.log)
        .into_iter()
        .filter(|l| !l.contains("PROBE "))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Issue 19: `agreement.html` of `skintex agree` loads in Chromium like the study report:
/// every section, one Bland-Altman SVG per comparison and amount, one decoded overlay per
/// image, no console output, no request, nothing wider than the window. The analysis is made by
/// hand (two 60 x 60 px photos, zone `full`, a line and scars on each side).
#[test]
fn agreement_report_loads_in_chromium_without_errors_or_network() {
    use image::{GrayImage, Luma};
    use skintex::agree::{AgreeSettings, Rater, run_agree};
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let (res, ann) = (dir.path().join("res"), dir.path().join("ann"));
    std::fs::create_dir_all(res.join("masks")).unwrap();
    std::fs::create_dir_all(&ann).unwrap();
    let mut images = String::from("image_id,path,status,px_per_mm\n");
    let mut metrics = String::from("image_id,zone\n");
    let mut scars = String::from("image_id,zone,x_px,y_px,diameter_mm,type\n");
    let mut marks = String::from("image_id,x_px,y_px,diameter_mm,type\n");
    for (i, id) in ["p1", "p2"].into_iter().enumerate() {
        let photo = res.join(format!("{id}.png"));
        skin_image(60, 60, i as u32).save(&photo).unwrap();
        images.push_str(&format!("{id},{},ok,10\n", photo.display()));
        metrics.push_str(&format!("{id},full\n"));
        scars.push_str(&format!("{id},full,20,40,1,boxcar\n"));
        marks.push_str(&format!("{id},21,40,1,boxcar\n{id},45,45,1,icepick\n"));
        let mut detected = GrayImage::new(60, 60);
        let mut annotated = GrayImage::new(60, 60);
        for x in 5..(30 + 10 * i as u32) {
            detected.put_pixel(x, 10, Luma([255]));
            annotated.put_pixel(x + 3, 11, Luma([255]));
        }
        GrayImage::from_pixel(60, 60, Luma([10]))
            .save(res.join("masks").join(format!("{id}_zones.png")))
            .unwrap();
        detected
            .save(res.join("masks").join(format!("{id}_lines.png")))
            .unwrap();
        annotated.save(ann.join(format!("{id}.png"))).unwrap();
    }
    std::fs::write(res.join("images.csv"), images).unwrap();
    std::fs::write(res.join("metrics.csv"), metrics).unwrap();
    std::fs::write(res.join("scars.csv"), scars).unwrap();
    std::fs::write(ann.join("scars.csv"), marks).unwrap();
    let out = dir.path().join("agree");
    let settings = AgreeSettings {
        results: res.clone(),
        out: out.clone(),
        rater_a: Rater {
            lines_masks: Some(ann.clone()),
            scars: Some(ann.join("scars.csv")),
        },
        rater_b: None,
        tolerance_px: 2.0,
        match_mm: 0.5,
    };
    run_agree(&settings).expect("agree");
    let path = out.join("agreement.html");
    let html = std::fs::read_to_string(&path).unwrap();
    for forbidden in ["http://", "https://", "<script", "<link", "url(", "@import"] {
        assert!(!html.contains(forbidden), "report contains {forbidden:?}");
    }
    for (i, _) in html.match_indices(" src=\"") {
        assert!(
            html[i + 6..].starts_with("data:image/png;base64,"),
            "non-data src at byte {i}"
        );
    }
    let run = load_in_chromium(&chromium, &path, &dir.path().join("profile"));
    for id in ["settings", "summary", "bland-altman", "images"] {
        assert!(
            run.dom.contains(&format!("<section id=\"{id}\">")),
            "section {id} missing from DOM"
        );
    }
    assert_eq!(run.dom.matches("<svg ").count(), 2, "lines and scars plots");
    assert_eq!(run.dom.matches("src=\"data:image/png;base64,").count(), 2);
    let problems = console_problems(&run.log);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let probe = with_layout_probe(&html, 60);
    let probe_path = dir.path().join("probe.html");
    std::fs::write(&probe_path, probe).expect("write probe");
    let run = load_in_chromium(&chromium, &probe_path, &dir.path().join("profile-probe"));
    let seen = probe_json(&run.log);
    assert_eq!(
        seen,
        serde_json::json!({"images": 2, "decoded": 2, "svgs": 2, "sized": 2, "overflow": false}),
        "{seen}"
    );
}
