//! `skintex phantom-study`: a synthetic split-face study with a known treatment effect.
//!
//! Each subject has two close-up sites, the left (treated) and the right (control) cheek. A site
//! is the same skin at every visit (same skin seed: relief, furrows, pores, wrinkle and scar
//! positions), photographed anew at every visit (new capture seed: albedo variation, lighting,
//! noise). On the treated side the wrinkles shorten linearly over the visits:
//!
//! ```text
//! wrinkle length at visit v = (1 − effect · v / (visits − 1)) · wrinkle length at baseline
//! ```
//!
//! so with `--effect 0.3` the treated side's total line length falls by 30% by the last visit and
//! the control side's does not change. The ground truth per photo is written to `truth.csv`.
//!
//! With `--replicates N` (N >= 2) each site is photographed N times at every visit
//! ([`super::retake`]): the same skin and capture (light, albedo variation), new sensor noise,
//! the camera rotated by up to 1 deg, shifted by up to 10 px and the exposure changed by up to
//! 5 %, drawn per photo from the seed. The photos are named `S01-week4-left-r2.jpg` and
//! `study.csv` gets a `replicate` column; their truth is that of the wider canvas the re-takes
//! are cut from (the same for every replicate).

use std::path::Path;

use anyhow::{Context as _, bail};

use super::retake::{Retake, render_retake};
use super::rng::{mix64, stream_seed};
use super::{PhantomSpec, render_phantom};
use crate::cli::PhantomStudyArgs;

/// Visit labels: `baseline`, then `week4`, `week8`, ...
pub fn visit_label(v: u32) -> String {
    if v == 0 {
        "baseline".to_owned()
    } else {
        format!("week{}", 4 * v)
    }
}

/// The spec of one photo of the study.
pub fn photo_spec(
    args: &PhantomStudyArgs,
    treated: bool,
    visit: u32,
    capture_seed: u64,
) -> PhantomSpec {
    let shrink = if treated && args.visits > 1 {
        1.0 - args.effect * f64::from(visit) / f64::from(args.visits - 1)
    } else {
        1.0
    };
    PhantomSpec {
        size_px: args.size,
        px_per_mm: args.px_per_mm,
        wrinkles: args.wrinkles,
        icepick: 1,
        boxcar: 1,
        rolling: 0,
        wrinkle_length_mm: [8.0, 18.0],
        wrinkle_length_scale: shrink,
        wrinkle_depth_mm: [0.06, 0.15],
        jpeg_quality: Some(92),
        capture_seed: Some(capture_seed),
        ..PhantomSpec::default()
    }
}

/// Write the study's photos, `study.csv` and `truth.csv` into `args.out`.
///
/// # Errors
/// Bad arguments or an unwritable folder.
pub fn run_phantom_study(args: &PhantomStudyArgs) -> anyhow::Result<()> {
    if args.subjects < 1 || args.visits < 1 || (args.visits < 2 && args.replicates < 2) {
        bail!("--subjects must be at least 1 and --visits at least 2 (1 with --replicates)");
    }
    if args.replicates < 1 {
        bail!("--replicates must be at least 1");
    }
    if !(0.0..1.0).contains(&args.effect) {
        bail!("--effect must be in [0, 1), got {}", args.effect);
    }
    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let replicates = args.replicates >= 2;
    let mut manifest = String::from(
        "path,subject,visit,days_from_baseline,side,arm,needle_depth_mm,device,session_count,px_per_mm,roi",
    );
    manifest.push_str(if replicates { ",replicate\n" } else { "\n" });
    let mut truth = String::from("path,subject,visit,side,arm,wrinkles,total_wrinkle_length_mm\n");
    for s in 1..=args.subjects {
        let subject = format!("S{s:02}");
        for v in 0..args.visits {
            let visit = visit_label(v);
            for (side, arm, treated) in [("left", "treated", true), ("right", "control", false)] {
                let site = u64::from(s) * 2 + u64::from(treated);
                let skin_seed = args.seed.wrapping_mul(1_000_003).wrapping_add(site);
                let capture_seed = skin_seed.wrapping_mul(31).wrapping_add(u64::from(v) + 1);
                let spec = photo_spec(args, treated, v, capture_seed);
                spec.validate()
                    .map_err(|e| anyhow::anyhow!("bad phantom study arguments: {e}"))?;
                for r in 1..=args.replicates {
                    let (phantom, name) = if replicates {
                        let noise_seed = mix64(stream_seed(capture_seed, 100 + u64::from(r)));
                        let retake = Retake::draw(stream_seed(noise_seed, 101));
                        (
                            render_retake(&spec, skin_seed, noise_seed, &retake),
                            format!("{subject}-{visit}-{side}-r{r}.jpg"),
                        )
                    } else {
                        (
                            render_phantom(&spec, skin_seed),
                            format!("{subject}-{visit}-{side}.jpg"),
                        )
                    };
                    let mut jpeg = Vec::new();
                    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 92)
                        .encode_image(&phantom.image)
                        .context("encoding JPEG")?;
                    crate::output::write_atomic(&out.join(&name), &jpeg)?;
                    let (depth, device, sessions) = if treated {
                        (
                            args.needle_depth_mm.to_string(),
                            "phantom-pen",
                            v.to_string(),
                        )
                    } else {
                        (String::new(), "", String::new())
                    };
                    manifest.push_str(&format!(
                        "{name},{subject},{visit},{},{side},{arm},{depth},{device},{sessions},{},full",
                        28 * v,
                        args.px_per_mm
                    ));
                    if replicates {
                        manifest.push_str(&format!(",{r}"));
                    }
                    manifest.push('\n');
                    truth.push_str(&format!(
                        "{name},{subject},{visit},{side},{arm},{},{}\n",
                        phantom.truth.wrinkles.len(),
                        phantom.truth.total_wrinkle_length_mm
                    ));
                }
            }
        }
    }
    crate::output::write_atomic(&out.join("study.csv"), manifest.as_bytes())?;
    crate::output::write_atomic(&out.join("truth.csv"), truth.as_bytes())?;
    let per_site = if replicates {
        format!(" x {} replicates", args.replicates)
    } else {
        String::new()
    };
    println!(
        "skintex phantom-study: {} subjects x {} visits x 2 sides{per_site} written to {} (study.csv, truth.csv)",
        args.subjects,
        args.visits,
        out.display()
    );
    Ok(())
}

/// Read back `truth.csv` total wrinkle length per photo path (for tests).
///
/// # Errors
/// Unreadable file.
pub fn read_truth(dir: &Path) -> anyhow::Result<Vec<(String, f64)>> {
    let mut reader = csv::Reader::from_path(dir.join("truth.csv"))?;
    let mut out = Vec::new();
    for rec in reader.records() {
        let rec = rec?;
        out.push((
            rec.get(0).unwrap_or("").to_owned(),
            rec.get(6).unwrap_or("").parse()?,
        ));
    }
    Ok(out)
}
