//! `agreement.html`: the numbers of `skintex agree`, Bland-Altman plots and, per image, the
//! photo with the reference's and the compared lines and scars in three colours.
//!
//! Self-contained like the study report ([`crate::study::report`], whose style sheet, escaping,
//! number format and SVG helpers it uses): inline CSS, inline SVG plots, pictures as
//! `data:image/png;base64` URIs, no script and no external URL. Deterministic for a given
//! input. Sections: `settings`, `summary`, `bland-altman`, `images`.
//!
//! Overlay colours (comparison `skintex_vs_rater_a`, or the first one given):
//! both = gold (a line pixel within T px of the other side's, a matched scar), only annotated
//! = cyan (reference line pixels without a compared one within T, unmatched reference scars),
//! only detected = magenta.

use std::fmt::Write as _;

use image::{Rgb, RgbImage};
use plotters::prelude::*;

use super::scars::{ScarMark, scar_pairs};
use super::summary::{AMOUNTS, SummaryRow};
use super::{AgreeInputs, AgreeOutcome, AgreeSettings, AnalysedImage, comparisons, whole_zone};
use crate::study::report::{
    CSS, DrawResult, PLOT_SIZE, base64_encode, escape, format_number, inline_svg, missing,
    padded_y_range,
};

/// Both sides marked it.
pub const BOTH: [u8; 3] = [255, 200, 0];
/// Only the reference (annotation).
pub const ONLY_ANNOTATED: [u8; 3] = [0, 200, 255];
/// Only the compared side (detection).
pub const ONLY_DETECTED: [u8; 3] = [255, 0, 200];
/// Overlays are at most this wide, px.
const OVERLAY_MAX_WIDTH: u32 = 900;

fn number(v: Option<f64>, why: &str) -> String {
    match v {
        Some(v) if v.is_finite() => format_number(v),
        _ => missing(why),
    }
}

/// The whole page.
pub fn agreement_html(
    settings: &AgreeSettings,
    inputs: &AgreeInputs,
    outcome: &AgreeOutcome,
) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<meta name=\"generator\" content=\"skintex {}\">\n<title>skintex agreement: {}</title>",
        escape(crate::VERSION),
        escape(&settings.results.display().to_string())
    );
    out.push_str("<style>");
    out.push_str(CSS);
    out.push_str(
        ".key { display: inline-block; width: 1em; height: 1em; vertical-align: -0.15em; }\n\
         .overlay img { max-width: 100%; height: auto; border: 1px solid var(--line); }\n",
    );
    out.push_str("</style>\n</head>\n<body>\n<header>\n");
    let _ = writeln!(
        out,
        "<h1>Agreement: {}</h1>",
        escape(&settings.results.display().to_string())
    );
    out.push_str(concat!(
        "<nav><a href=\"#settings\">Settings</a><a href=\"#summary\">Summary</a>",
        "<a href=\"#bland-altman\">Bland-Altman</a><a href=\"#images\">Images</a></nav>\n",
        "</header>\n<main>\n"
    ));
    settings_section(&mut out, settings, inputs);
    summary_section(&mut out, &outcome.summary);
    bland_altman_section(&mut out, settings, outcome);
    images_section(&mut out, settings, inputs, outcome);
    out.push_str("</main>\n<footer>\n<p>Missing values are shown as \u{2014}; hover for the reason. Missing is never shown as 0. The tables are in agreement.csv and summary.csv.</p>\n</footer>\n</body>\n</html>\n");
    out
}

fn settings_section(out: &mut String, settings: &AgreeSettings, inputs: &AgreeInputs) {
    let path = |p: &Option<std::path::PathBuf>| {
        p.as_ref().map_or_else(
            || missing("not given"),
            |p| escape(&p.display().to_string()),
        )
    };
    out.push_str("<section id=\"settings\">\n<h2>Settings</h2>\n<dl class=\"summary\">\n");
    let mut items = vec![
        (
            "Images analysed".to_owned(),
            inputs.images.len().to_string(),
        ),
        (
            "Rater A line masks".to_owned(),
            path(&settings.rater_a.lines_masks),
        ),
        ("Rater A scars".to_owned(), path(&settings.rater_a.scars)),
    ];
    if let Some(b) = &settings.rater_b {
        items.push(("Rater B line masks".to_owned(), path(&b.lines_masks)));
        items.push(("Rater B scars".to_owned(), path(&b.scars)));
    }
    items.push((
        "Line tolerance".to_owned(),
        format!("{} px", format_number(settings.tolerance_px)),
    ));
    items.push((
        "Scar match distance".to_owned(),
        format!(
            "annotated diameter / 2 + {} mm",
            format_number(settings.match_mm)
        ),
    ));
    for (k, v) in items {
        let _ = writeln!(out, "<dt>{}</dt><dd>{v}</dd>", escape(&k));
    }
    out.push_str("</dl>\n</section>\n");
}

fn summary_section(out: &mut String, rows: &[SummaryRow]) {
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n");
    out.push_str(
        "<p>Per comparison and zone, over the images: the mean of each score with its 95 % \
         bootstrap interval; for the line length and the scar count, the mean difference \
         (detected \u{2212} annotated), the Bland-Altman limits of agreement and ICC(2,1).</p>\n",
    );
    out.push_str("<table>\n<thead><tr><th>comparison</th><th>zone</th><th>metric</th><th>n</th><th>mean</th><th>95 % CI</th><th>Bland-Altman bias</th><th>95 % limits of agreement</th><th>ICC(2,1)</th><th>ICC 95 % CI</th></tr></thead>\n<tbody>\n");
    for r in rows {
        let why = if r.missing.is_empty() {
            "not applicable".to_owned()
        } else {
            r.missing.join("; ")
        };
        let pair = |p: Option<(f64, f64)>| match p {
            Some((a, b)) => format!("{} to {}", format_number(a), format_number(b)),
            None => missing(&why),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&r.comparison),
            escape(&r.zone),
            escape(r.metric),
            r.n,
            number(r.mean, &why),
            pair(r.ci),
            number(r.ba_bias, &why),
            pair(r.ba_loa),
            number(r.icc, &why),
            pair(r.icc_ci),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn bland_altman_section(out: &mut String, settings: &AgreeSettings, outcome: &AgreeOutcome) {
    out.push_str("<section id=\"bland-altman\">\n<h2>Bland-Altman plots</h2>\n");
    out.push_str(
        "<p>Whole-image zone, one point per image: the difference detected \u{2212} annotated \
         against their mean; solid line the bias, dashed the 95 % limits of agreement.</p>\n<div class=\"plots\">\n",
    );
    for cmp in comparisons(settings) {
        for (metric, annotated, detected) in AMOUNTS {
            let points: Vec<(f64, f64)> = outcome
                .rows
                .iter()
                .filter(|r| r.comparison == cmp && is_whole(&r.zone))
                .filter_map(|r| {
                    let v = r.values();
                    let get = |n: &str| v.iter().find(|(k, _)| *k == n)?.1.clone().ok();
                    let (a, d) = (get(annotated)?, get(detected)?);
                    Some((0.5 * (a + d), d - a))
                })
                .collect();
            let summary = outcome
                .summary
                .iter()
                .find(|s| s.comparison == cmp.name() && s.metric == metric && is_whole(&s.zone));
            let label = format!("{}: {metric}", cmp.name());
            out.push_str("<figure>\n");
            match ba_svg(&points, summary, metric) {
                Ok(Some(svg)) => out.push_str(&inline_svg(&svg, &label)),
                Ok(None) => out.push_str(&missing("no image with both values")),
                Err(e) => out.push_str(&missing(&format!("plot not drawn: {e}"))),
            }
            let _ = writeln!(
                out,
                "<figcaption>{}</figcaption>\n</figure>",
                escape(&label)
            );
        }
    }
    out.push_str("</div>\n</section>\n");
}

fn is_whole(zone: &str) -> bool {
    zone == crate::segment::face::zones::ZONE_FACE || zone == crate::segment::ZONE_FULL
}

fn ba_svg(
    points: &[(f64, f64)],
    summary: Option<&SummaryRow>,
    metric: &str,
) -> Result<Option<String>, String> {
    if points.is_empty() {
        return Ok(None);
    }
    let mut svg = String::new();
    draw_ba(points, summary, metric, &mut svg).map_err(|e| e.to_string())?;
    Ok(Some(svg))
}

fn draw_ba(
    points: &[(f64, f64)],
    summary: Option<&SummaryRow>,
    metric: &str,
    svg: &mut String,
) -> DrawResult<()> {
    let root = SVGBackend::with_string(svg, PLOT_SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let lines: Vec<f64> = summary
        .into_iter()
        .flat_map(|s| {
            s.ba_bias
                .into_iter()
                .chain(s.ba_loa.into_iter().flat_map(|(a, b)| [a, b]))
        })
        .collect();
    ys.extend(&lines);
    ys.push(0.0);
    let xr = padded_y_range(&xs, false);
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(xr.clone(), padded_y_range(&ys, true))?;
    chart
        .configure_mesh()
        .x_desc(format!("mean of annotated and detected {metric}"))
        .y_desc("detected \u{2212} annotated")
        .draw()?;
    chart.draw_series(
        points
            .iter()
            .map(|&(x, y)| Circle::new((x, y), 4, BLUE.mix(0.7).filled())),
    )?;
    for (i, y) in lines.iter().enumerate() {
        let ends = vec![(xr.start, *y), (xr.end, *y)];
        if i == 0 {
            chart.draw_series(LineSeries::new(ends, BLACK.stroke_width(2)))?;
        } else {
            chart.draw_series(DashedLineSeries::new(ends, 6, 4, BLACK.stroke_width(1)))?;
        }
    }
    root.present()?;
    Ok(())
}

fn key(colour: [u8; 3], text: &str) -> String {
    format!(
        "<span class=\"key\" style=\"background: rgb({}, {}, {})\"></span> {text}",
        colour[0], colour[1], colour[2]
    )
}

fn images_section(
    out: &mut String,
    settings: &AgreeSettings,
    inputs: &AgreeInputs,
    outcome: &AgreeOutcome,
) {
    let cmp = comparisons(settings)[0];
    let _ = writeln!(
        out,
        "<section id=\"images\">\n<h2>Images</h2>\n<p>{}: {}, {}, {}.</p>",
        escape(&cmp.name()),
        key(BOTH, "both"),
        key(ONLY_ANNOTATED, "only annotated"),
        key(ONLY_DETECTED, "only detected")
    );
    for image in &inputs.images {
        let whole = whole_zone(image).unwrap_or_default();
        let row = outcome
            .rows
            .iter()
            .find(|r| r.image_id == image.image_id && r.comparison == cmp && r.zone == whole);
        let _ = writeln!(
            out,
            "<figure class=\"overlay\" id=\"image-{}\">",
            escape(&image.image_id)
        );
        match overlay_png(settings, inputs, image) {
            Ok(png) => {
                let _ = write!(
                    out,
                    "<img alt=\"{}\" src=\"data:image/png;base64,{}\">",
                    escape(&image.image_id),
                    base64_encode(&png)
                );
            }
            Err(why) => out.push_str(&missing(&why)),
        }
        let scores = row.map_or_else(String::new, |r| {
            let v = r.values();
            let get = |n: &str| v.iter().find(|(k, _)| *k == n).map(|(_, x)| x.clone());
            let cell = |n: &str| match get(n) {
                Some(Ok(x)) => format_number(x),
                Some(Err(why)) => missing(&why),
                None => missing("not computed"),
            };
            format!(
                ": lines Dice {}, scars F1 {}",
                cell("lines_dice"),
                cell("scars_f1")
            )
        });
        let _ = writeln!(
            out,
            "<figcaption>{}{scores}</figcaption>\n</figure>",
            escape(&image.image_id)
        );
    }
    out.push_str("</section>\n");
}

/// The photo (or black where it cannot be read) at most [`OVERLAY_MAX_WIDTH`] wide, with the
/// first comparison's lines and scars drawn in the three colours.
fn overlay_png(
    settings: &AgreeSettings,
    inputs: &AgreeInputs,
    image: &AnalysedImage,
) -> Result<Vec<u8>, String> {
    let cmp = comparisons(settings)[0];
    let (zones, lines, marks) = super::overlay_masks(settings, inputs, image)
        .ok_or_else(|| "no zone mask (analyse with --save-masks)".to_owned())?;
    let (w, h) = zones.dimensions();
    let scale = (f64::from(OVERLAY_MAX_WIDTH) / f64::from(w)).min(1.0);
    let (ow, oh) = (
        ((f64::from(w) * scale).round() as u32).max(1),
        ((f64::from(h) * scale).round() as u32).max(1),
    );
    let photo = [
        std::path::PathBuf::from(&image.path),
        settings.results.join(&image.path),
    ]
    .into_iter()
    .find_map(|p| image::open(p).ok());
    let mut canvas: RgbImage = match photo {
        Some(p) if p.width() == w && p.height() == h => {
            image::imageops::resize(&p.to_rgb8(), ow, oh, image::imageops::FilterType::Triangle)
        }
        _ => RgbImage::new(ow, oh),
    };
    let (r, c) = (super::slot(cmp.reference), super::slot(cmp.compared));
    let at = |x: usize, y: usize| {
        (
            ((x as f64 * scale) as u32).min(ow - 1),
            ((y as f64 * scale) as u32).min(oh - 1),
        )
    };
    if let (Some(rm), Some(cm)) = (&lines[r], &lines[c]) {
        let nr = super::lines::near(rm, settings.tolerance_px);
        let nc = super::lines::near(cm, settings.tolerance_px);
        for ((y, x), &on_r) in rm.indexed_iter() {
            let on_c = cm[[y, x]];
            let colour = match (on_r, on_c) {
                (true, _) if nc[[y, x]] => BOTH,
                (_, true) if nr[[y, x]] => BOTH,
                (true, _) => ONLY_ANNOTATED,
                (_, true) => ONLY_DETECTED,
                _ => continue,
            };
            let (px, py) = at(x, y);
            canvas.put_pixel(px, py, Rgb(colour));
        }
    }
    if let Some(ppm) = image.px_per_mm {
        let (reference, compared): (&[ScarMark], &[ScarMark]) = (&marks[r], &marks[c]);
        let pairs = scar_pairs(reference, compared, ppm, settings.match_mm);
        let ring = |canvas: &mut RgbImage, m: &ScarMark, colour: [u8; 3]| {
            let radius = m.diameter_mm.map_or(0.5 * ppm, |d| 0.5 * d * ppm) * scale;
            let centre = (
                (m.x_px * scale).round() as i32,
                (m.y_px * scale).round() as i32,
            );
            for k in 0..2 {
                imageproc::drawing::draw_hollow_circle_mut(
                    canvas,
                    centre,
                    (radius.max(3.0) as i32) + k,
                    Rgb(colour),
                );
            }
        };
        for (i, m) in compared.iter().enumerate() {
            let matched = pairs.iter().any(|p| p.0 == i);
            ring(&mut canvas, m, if matched { BOTH } else { ONLY_DETECTED });
        }
        for (i, m) in reference.iter().enumerate() {
            if !pairs.iter().any(|p| p.1 == i) {
                ring(&mut canvas, m, ONLY_ANNOTATED);
            }
        }
    }
    let mut png = Vec::new();
    canvas
        .write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
        .map_err(|e| format!("cannot encode the overlay: {e}"))?;
    Ok(png)
}
