//! Known-value tests of the lines family on synthetic pseudo-heights.

use ndarray::Array2;

use super::skeleton::{skeleton_span_px, trim_end_hooks};
use super::*;
use crate::imgops::components::{Connectivity, drain_components};

const PX_PER_MM: f64 = 20.0;
/// Valley depth of the synthetic lines (z units), well above the default thresholds.
const DEPTH: f64 = 0.15;

/// Pseudo-height with a Gaussian valley of depth `depth` and full width at half depth
/// `width_mm` along the segment of `length_mm` centred in the image, rising at `angle_deg`
/// counter-clockwise on screen. Like the phantom's wrinkles, the depth tapers to 0 at both
/// ends over `TAPER_MM` (raised cosine), so the valley ends at the segment ends.
fn line_height(
    size: usize,
    length_mm: f64,
    width_mm: f64,
    depth: f64,
    angle_deg: f64,
) -> PseudoHeight<'static> {
    line_height_at(PX_PER_MM, size, length_mm, width_mm, depth, angle_deg)
}

/// [`line_height`] sampled at `px_per_mm`.
fn line_height_at(
    px_per_mm: f64,
    size: usize,
    length_mm: f64,
    width_mm: f64,
    depth: f64,
    angle_deg: f64,
) -> PseudoHeight<'static> {
    const TAPER_MM: f64 = 0.5;
    let s = width_mm * px_per_mm / 2.354_82;
    let half = 0.5 * length_mm * px_per_mm;
    let taper = TAPER_MM.min(0.5 * length_mm) * px_per_mm;
    let (dx, dy) = (angle_deg.to_radians().cos(), -angle_deg.to_radians().sin());
    let c = size as f64 / 2.0;
    let z = Array2::from_shape_fn((size, size), |(r, col)| {
        let (x, y) = (col as f64 - c, r as f64 - c);
        let t = x * dx + y * dy;
        let end = half - t.abs();
        if end <= 0.0 {
            return 0.0;
        }
        let f = if end < taper {
            0.5 * (1.0 - (std::f64::consts::PI * end / taper).cos())
        } else {
            1.0
        };
        let d2 = (x - t * dx).powi(2) + (y - t * dy).powi(2);
        (-depth * f * (-d2 / (2.0 * s * s)).exp()) as f32
    });
    PseudoHeight {
        px_per_mm,
        ..height_from(z)
    }
}

fn height_from(z: Array2<f32>) -> PseudoHeight<'static> {
    let mask = Array2::from_elem(z.raw_dim(), true);
    PseudoHeight {
        z,
        mask: std::borrow::Cow::Owned(mask),
        x0: 7,
        y0: 3,
        px_per_mm: PX_PER_MM,
    }
}

fn value(values: &[MetricValue], name: &str) -> MetricValue {
    let i = COLUMNS.iter().position(|c| c.name == name).unwrap();
    values[i].clone()
}

#[test]
fn scales_cover_the_width_range() {
    let p = LinesParams::default();
    let sig = line_scales_px(&p, PX_PER_MM);
    let w_lo = sig[0] * WIDTH_PER_SIGMA / PX_PER_MM;
    let w_hi = sig[sig.len() - 1] * WIDTH_PER_SIGMA / PX_PER_MM;
    assert!((w_lo - p.min_width_mm).abs() < 1e-9 && (w_hi - p.max_width_mm).abs() < 1e-9);
    for pair in sig.windows(2) {
        let octave = (pair[1] / pair[0]).log2();
        assert!(
            octave <= 1.0 / f64::from(p.scales_per_octave) + 1e-9,
            "{octave}"
        );
    }
}

#[test]
fn straight_line_length_width_orientation() {
    for (width_mm, angle) in [(0.2, 30.0), (0.6, 120.0), (1.2, 0.0), (0.4, 90.0)] {
        let h = line_height(400, 12.0, width_mm, DEPTH, angle);
        let (values, lines) = measure(&h, &LinesParams::default(), SpareThreads::NONE);
        let length = value(&values, "lines_length_mm").unwrap();
        let width = value(&values, "lines_mean_width_mm").unwrap();
        let orient = value(&values, "lines_orientation_deg").unwrap();
        let depth = value(&values, "lines_mean_depth").unwrap();
        let aniso = value(&values, "lines_anisotropy").unwrap();
        eprintln!(
            "line w={width_mm} angle={angle}: length {length:.2} width {width:.3} \
             orient {orient:.2} depth {depth:.4} aniso {aniso:.3}"
        );
        assert_eq!(value(&values, "lines_count"), Ok(1.0));
        assert_eq!(lines.len(), 1);
        assert!((length / 12.0 - 1.0).abs() <= 0.05, "length {length}");
        assert!((width / width_mm - 1.0).abs() <= 0.25, "width {width}");
        let d_angle = ((orient - angle + 90.0).rem_euclid(180.0) - 90.0).abs();
        assert!(d_angle <= 3.0, "orientation {orient}");
        assert!((depth / DEPTH - 1.0).abs() <= 0.3, "depth {depth}");
        // The tapered ends of the widest line turn a little on the working grid (0.950 at
        // 1.2 mm wide, 0.975 on the 20 px/mm pixels).
        assert!(aniso > 0.94, "{aniso}");
        // Skeleton pixels are in image coordinates (offset by x0, y0).
        assert!(lines[0].skeleton.iter().all(|&(x, y)| x >= 7 && y >= 3));
    }
}

#[test]
fn blob_is_not_a_line() {
    // Round depressions of 0.3 to 3 mm FWHM, 20 % deep: pores and scars, not lines.
    for fwhm_mm in [0.3, 1.0, 3.0] {
        let s = fwhm_mm * PX_PER_MM / 2.354_82;
        let z = Array2::from_shape_fn((300, 300), |(r, c)| {
            let d2 = (r as f64 - 150.0).powi(2) + (c as f64 - 150.0).powi(2);
            (-0.2 * (-d2 / (2.0 * s * s)).exp()) as f32
        });
        let (values, lines) = measure(&height_from(z), &LinesParams::default(), SpareThreads::NONE);
        assert_eq!(value(&values, "lines_count"), Ok(0.0), "blob {fwhm_mm} mm");
        assert!(lines.is_empty());
        assert_eq!(value(&values, "lines_length_mm"), Ok(0.0));
        assert!(value(&values, "lines_mean_width_mm").is_err());
        assert!(value(&values, "lines_orientation_deg").is_err());
    }
}

#[test]
fn flat_zone_has_measured_zero_and_missing_shape() {
    let (values, lines) = measure(
        &height_from(Array2::zeros((120, 150))),
        &LinesParams::default(),
        SpareThreads::NONE,
    );
    assert!(lines.is_empty());
    assert_eq!(value(&values, "lines_count"), Ok(0.0));
    assert_eq!(value(&values, "lines_density_mm_per_cm2"), Ok(0.0));
    assert_eq!(value(&values, "lines_area_fraction"), Ok(0.0));
    for name in [
        "lines_mean_width_mm",
        "lines_mean_depth",
        "lines_orientation_deg",
        "lines_anisotropy",
    ] {
        assert_eq!(
            value(&values, name),
            Err(Missing::new("no lines detected")),
            "{name}"
        );
    }
}

#[test]
fn mask_edge_is_not_a_line() {
    // A disc-shaped zone on a flat bright z with a darker outside: no line at the edge.
    let mut h = height_from(Array2::zeros((300, 300)));
    h.mask = std::borrow::Cow::Owned(Array2::from_shape_fn((300, 300), |(r, c)| {
        (r as f64 - 150.0).hypot(c as f64 - 150.0) < 120.0
    }));
    h.z = Array2::from_shape_fn((300, 300), |(r, c)| if h.mask[(r, c)] { 0.0 } else { -0.3 });
    let (values, _) = measure(&h, &LinesParams::default(), SpareThreads::NONE);
    assert_eq!(value(&values, "lines_count"), Ok(0.0));
}

#[test]
fn broken_line_is_bridged_into_one() {
    const GAP_HALF_MM: f64 = 0.55;
    // A 14 mm line, 0.4 mm wide, whose valley is gone over 1.1 mm in the middle (the
    // hysteresis region breaks there; over 1 mm the weak stretch holds it together and the end
    // trimming keeps it one line): bridging joins the halves and counts the gap. (The skeleton
    // ends lie about 0.2 mm short of the valley's ends on the 12 px/mm working grid, so a
    // 1.2 mm gap is 1.53 mm between them, beyond lines.bridge_gap_mm.)
    let mut h = line_height(400, 14.0, 0.4, DEPTH, 20.0);
    let (dx, dy) = (20f64.to_radians().cos(), -20f64.to_radians().sin());
    for ((r, c), v) in h.z.indexed_iter_mut() {
        let t = (c as f64 - 200.0) * dx + (r as f64 - 200.0) * dy;
        if t.abs() < GAP_HALF_MM * PX_PER_MM {
            *v = 0.0;
        }
    }
    let (values, lines) = measure(&h, &LinesParams::default(), SpareThreads::NONE);
    let length = value(&values, "lines_length_mm").unwrap();
    assert_eq!(value(&values, "lines_count"), Ok(1.0), "length {length}");
    assert_eq!(lines.len(), 1);
    assert!((length / 14.0 - 1.0).abs() <= 0.08, "length {length}");
    // Without bridging the halves are two lines and the gap is not counted.
    let no_bridge = LinesParams {
        bridge_gap_mm: 0.0,
        ..LinesParams::default()
    };
    let (values, _) = measure(&h, &no_bridge, SpareThreads::NONE);
    assert_eq!(value(&values, "lines_count"), Ok(2.0));
    assert!(value(&values, "lines_length_mm").unwrap() < length - 0.5);
}

/// The end trimming on a band of known SNR: two strong stretches (SNR 10, 70 px each) joined by
/// a weak one (SNR 3, below half their level), a weak end and weak flanks. The weak stretch's
/// centre line is put back (one line, not two), the end and the flanks stay trimmed; pieces
/// shorter than `min_piece_px` are not joined.
#[test]
fn trimming_cuts_ends_not_the_middle() {
    let (rows, cols) = (9, 220);
    let snr = Array2::from_shape_fn((rows, cols), |(r, c)| {
        if !(2..=6).contains(&r) || !(10..200).contains(&c) {
            0.0
        } else if (80..120).contains(&c) || c >= 190 {
            3.0
        } else if r == 2 || r == 6 {
            4.0
        } else {
            10.0
        }
    });
    let region0 = snr.mapv(|v| v > 0.0);
    let mut region = region0.clone();
    trim_below_own_level(&mut region, &snr, 0.5, 60.0);
    // One piece from the first strong stretch to the last, through the weak middle.
    let mut unvisited = region.as_slice().unwrap().to_vec();
    let mut pieces = 0;
    drain_components(&mut unvisited, cols, Connectivity::Eight, |_| pieces += 1);
    assert_eq!(pieces, 1);
    assert!(
        (80..120).all(|c| region[(4, c)]),
        "centre line of the middle put back"
    );
    assert!(
        (80..120).all(|c| !region[(2, c)] && !region[(6, c)]),
        "flanks stay trimmed"
    );
    assert!(
        (190..200).all(|c| (0..rows).all(|r| !region[(r, c)])),
        "weak end trimmed"
    );
    assert!(
        (10..80).all(|c| !region[(2, c)] && region[(3, c)]),
        "strong flank trimmed"
    );
    // Pieces that would not count as lines are not joined.
    let mut region = region0;
    trim_below_own_level(&mut region, &snr, 0.5, 100.0);
    assert!((80..120).all(|c| !region[(4, c)]));
}

/// A hair lying across a wrinkle joins them into one region; the wrinkle's own level is its
/// own, not the hair's: a long band of SNR 4 crossed by a narrow one of SNR 20 (a level taken
/// over the whole region, 20, would trim the band away as the hair's faded flanks) keeps its
/// centre line on both sides of the crossing, while its weak end is still trimmed.
#[test]
fn a_crossing_hair_does_not_set_the_wrinkles_level() {
    let (rows, cols) = (200, 400);
    let snr = Array2::from_shape_fn((rows, cols), |(r, c)| {
        if (198..=202).contains(&c) && (10..190).contains(&r) {
            20.0
        } else if (98..=102).contains(&r) && (10..390).contains(&c) {
            if c >= 380 { 1.5 } else { 4.0 }
        } else {
            0.0
        }
    });
    let mut region = snr.mapv(|v| v > 0.0);
    trim_below_own_level(&mut region, &snr, 0.5, 60.0);
    assert!(
        (20..140).chain(250..370).all(|c| region[(100, c)]),
        "the wrinkle on both sides of the hair is kept"
    );
    assert!((380..390).all(|c| !region[(100, c)]), "weak end trimmed");
    assert!((20..180).all(|r| region[(r, 200)]), "the hair is kept");
}

/// A 16 mm line whose middle 4 mm fade to 0.3 of its depth (a wrinkle along the edge of a
/// darker patch): one line of about its full length, not two pieces.
#[test]
fn line_weaker_in_the_middle_stays_one_line() {
    let mut h = line_height(440, 16.0, 0.4, DEPTH, 0.0);
    for ((_, c), v) in h.z.indexed_iter_mut() {
        if (c as f64 - 220.0).abs() < 2.0 * PX_PER_MM {
            *v *= 0.3;
        }
    }
    let (values, _) = measure(&h, &LinesParams::default(), SpareThreads::NONE);
    let length = value(&values, "lines_length_mm").unwrap();
    assert_eq!(value(&values, "lines_count"), Ok(1.0), "length {length}");
    assert!((length / 16.0 - 1.0).abs() <= 0.08, "length {length}");
}

#[test]
fn short_lines_are_removed_and_two_lines_counted() {
    let long = line_height(400, 10.0, 0.3, DEPTH, 10.0);
    let mut short = line_height(400, 2.0, 0.3, DEPTH, 100.0);
    // Move the short line 5 mm down, 4 mm clear of the long one.
    let shift = 100;
    let mut z = long.z.clone();
    for ((r, c), v) in short.z.indexed_iter_mut() {
        if r + shift < 400 {
            z[(r + shift, c)] = z[(r + shift, c)].min(*v);
        }
    }
    short.z = z.clone();
    let (values, _) = measure(
        &height_from(z.clone()),
        &LinesParams::default(),
        SpareThreads::NONE,
    );
    assert_eq!(value(&values, "lines_count"), Ok(1.0));
    // A 2 mm line collects at most 2 mm × (3 − 1) = 4 mm of path evidence.
    let params = LinesParams {
        min_length_mm: 0.5,
        min_path_evidence_mm: 2.0,
        ..LinesParams::default()
    };
    let (values, lines) = measure(&height_from(z), &params, SpareThreads::NONE);
    assert_eq!(value(&values, "lines_count"), Ok(2.0));
    let short_mm = lines.iter().map(|l| l.length_mm).fold(f64::MAX, f64::min);
    assert!(short_mm > 0.5 && short_mm < 3.0, "{short_mm}");
}

/// A "V" of two 2 mm valleys meeting at 40° (a fold of skin over a pit, or two spokes of
/// a star) has 4 mm of skeleton but spans only 1.4 mm: not a line at the default
/// `min_length_mm` 3; with `min_length_mm` 1 it is.
#[test]
fn v_that_spans_less_than_the_minimum_length_is_not_a_line() {
    let (n, s) = (300usize, 0.3 * PX_PER_MM / 2.354_82);
    let arm = 2.0 * PX_PER_MM;
    let c = n as f64 / 2.0;
    // Distance from (x, y) to the segment from the apex along angle a (radians).
    let dist = |x: f64, y: f64, a: f64| {
        let (ux, uy) = (a.cos(), -a.sin());
        let t = (x * ux + y * uy).clamp(0.0, arm);
        (x - t * ux).hypot(y - t * uy)
    };
    let z = Array2::from_shape_fn((n, n), |(r, col)| {
        let (x, y) = (col as f64 - c + arm / 2.0, r as f64 - c);
        let d = dist(x, y, 20f64.to_radians()).min(dist(x, y, -20f64.to_radians()));
        (-DEPTH * (-d * d / (2.0 * s * s)).exp()) as f32
    });
    let (values, _) = measure(
        &height_from(z.clone()),
        &LinesParams::default(),
        SpareThreads::NONE,
    );
    assert_eq!(value(&values, "lines_count"), Ok(0.0));
    let params = LinesParams {
        min_length_mm: 1.0,
        min_path_evidence_mm: 2.0,
        ..LinesParams::default()
    };
    let (values, _) = measure(&height_from(z), &params, SpareThreads::NONE);
    assert!(value(&values, "lines_count").unwrap() >= 1.0);
}

#[test]
fn span_of_straight_and_bent_skeletons() {
    let straight: Vec<(u32, u32)> = (0..=40).map(|x| (x, 7)).collect();
    assert!((skeleton_span_px(&straight) - 40.0).abs() < 1e-9);
    // An L of two 30 px legs spans the hypotenuse.
    let mut l: Vec<(u32, u32)> = (0..=30).map(|x| (x, 0)).collect();
    l.extend((1..=30).map(|y| (30, y)));
    assert!((skeleton_span_px(&l) - 30.0 * 2f64.sqrt()).abs() < 1e-9);
    assert_eq!(skeleton_span_px(&[]), 0.0);
}

#[test]
fn hooked_end_is_trimmed_at_its_tip() {
    // A horizontal skeleton (row 50, columns 10-80) whose right end turns back along the
    // line: (49, 81), then row 48 from column 80 back to 74 (7 px of return leg).
    let mut sk = Array2::from_elem((100, 100), false);
    for c in 10..=80 {
        sk[(50, c)] = true;
    }
    sk[(49, 81)] = true;
    for c in 74..=80 {
        sk[(48, c)] = true;
    }
    let sigma = Array2::from_elem((100, 100), 2.0f32);
    let direction = Array2::zeros((100, 100));
    let before = sk.iter().filter(|&&v| v).count();
    trim_end_hooks(&mut sk, |p| sigma[p], |p| direction[p], 1.0, 10.0);
    // The return leg goes; the line, its far end and the tip stay.
    assert_eq!(before - sk.iter().filter(|&&v| v).count(), 7);
    assert!((74..=80).all(|c| !sk[(48, c)]));
    assert!((10..=80).all(|c| sk[(50, c)]) && sk[(49, 81)]);
    // A straight end is left alone.
    let mut straight = Array2::from_elem((100, 100), false);
    for c in 10..=80 {
        straight[(50, c)] = true;
    }
    let copy = straight.clone();
    trim_end_hooks(&mut straight, |p| sigma[p], |p| direction[p], 1.0, 10.0);
    assert_eq!(straight, copy);
}

/// `other_walls` on hand-made skeletons (width 4 px, so within 8 px counts as beside): a line
/// beside a longer one all along is dropped; a crossing line, a piece continuing a line end to
/// end with a small offset, and a parallel line 12 px away are kept.
#[test]
fn other_wall_is_beside_all_along_not_at_a_crossing_or_continuation() {
    use super::skeleton::{TwinLine, other_walls};
    let horizontal = |x0: u32, x1: u32, y: u32| (x0..x1).map(|x| (x, y)).collect::<Vec<_>>();
    let long = horizontal(0, 100, 50);
    let beside = horizontal(10, 70, 56);
    let far = horizontal(10, 70, 62);
    let continuing = horizontal(100, 160, 53);
    let crossing: Vec<(u32, u32)> = (20..80).map(|y| (50, y)).collect();
    let steep = std::f64::consts::FRAC_PI_2;
    let skeletons = [
        (long, 0.0),
        (continuing, 0.0),
        (crossing, steep),
        (beside, 0.0),
        (far, 0.0),
    ];
    let thetas: Vec<Vec<f64>> = skeletons.iter().map(|(p, t)| vec![*t; p.len()]).collect();
    let lines: Vec<TwinLine> = skeletons
        .iter()
        .zip(&thetas)
        .map(|((pixels, _), theta)| TwinLine {
            pixels,
            theta,
            width_px: 4.0,
        })
        .collect();
    assert_eq!(other_walls(&lines), vec![true, true, true, false, true]);
}

/// `continuations` on hand-made skeletons (width 4 px): a piece that continues a line with a
/// sideways step of 4 px, overlapping it by 2 px, is the same valley; one stepped aside by 20 px
/// (more than the two widths), one across it, and one in line but 30 px beyond its end (more
/// than the gap) are not.
#[test]
fn continuation_with_a_sideways_step_is_one_valley() {
    use super::skeleton::{ContLine, continuations};
    let horizontal = |x0: u32, x1: u32, y: u32| (x0..x1).map(|x| (x, y)).collect::<Vec<_>>();
    let line = horizontal(0, 60, 50);
    let stepped = horizontal(58, 120, 54);
    let aside = horizontal(62, 120, 70);
    let across: Vec<(u32, u32)> = (62..120).map(|y| (62, y)).collect();
    let beyond = horizontal(150, 210, 50);
    let pieces = [&line, &stepped, &aside, &across, &beyond];
    let lines: Vec<ContLine> = pieces
        .iter()
        .map(|p| ContLine {
            pixels: p,
            width_px: 4.0,
        })
        .collect();
    assert_eq!(continuations(&lines, 18.0), vec![(0, 1)]);
}

/// `continuations` find a line's ends by its geometry: a piece whose tip hooks sideways for
/// 6 px (where a crossing hair was cut out, the skeleton follows the hair) and one whose tip
/// closes a small loop (no skeleton end point at all) both continue the collinear piece 8 px
/// beyond; a hooked piece that turns away for good (a corner, 40°) does not.
#[test]
fn continuation_is_found_past_a_hooked_or_looped_tip() {
    use super::skeleton::{ContLine, continuations};
    let horizontal = |x0: u32, x1: u32, y: u32| (x0..x1).map(|x| (x, y)).collect::<Vec<_>>();
    let mut hooked = horizontal(0, 60, 50);
    hooked.extend((1..=6).map(|k| (59 + k / 3, 50 + k)));
    let mut looped = horizontal(0, 60, 50);
    looped.extend([
        (60, 49),
        (61, 48),
        (62, 49),
        (62, 50),
        (62, 51),
        (61, 52),
        (60, 51),
    ]);
    let beyond = horizontal(70, 130, 50);
    let mut cornered = horizontal(0, 40, 50);
    let (c, s) = (40f64.to_radians().cos(), 40f64.to_radians().sin());
    cornered.extend((1..=25).map(|k| {
        (
            (40.0 + f64::from(k) * c) as u32,
            (50.0 + f64::from(k) * s) as u32,
        )
    }));
    for (piece, joined) in [(&hooked, true), (&looped, true), (&cornered, false)] {
        let lines = [piece, &beyond].map(|p| ContLine {
            pixels: p,
            width_px: 4.0,
        });
        let want: Vec<(usize, usize)> = if joined { vec![(0, 1)] } else { vec![] };
        assert_eq!(continuations(&lines, 18.0), want, "{piece:?}");
    }
}

/// A 4 mm line with most of its length inside a detected pit (radius 1.5 mm) is the pit's
/// wall and is dropped; a 10 mm line through a pit of the same size keeps its whole length,
/// and the columns are summed over what remains.
#[test]
fn line_mostly_inside_a_pit_is_its_wall() {
    let long = line_height(400, 10.0, 0.3, DEPTH, 0.0);
    let short = line_height(400, 4.0, 0.3, DEPTH, 90.0);
    // The short, vertical line 7.5 mm right of the centre, clear of the long one's end.
    let shift = 150;
    let mut z = long.z.clone();
    for ((r, c), v) in short.z.indexed_iter() {
        if c + shift < 400 {
            z[(r, c + shift)] = z[(r, c + shift)].min(*v);
        }
    }
    let height = height_from(z);
    let params = LinesParams::default();
    let mut det = detect(&height, &params).unwrap();
    assert_eq!(det.lines.len(), 2);
    let (x0, y0) = (height.x0 as f64, height.y0 as f64);
    let pit_radius = 1.5 * PX_PER_MM;
    det.drop_pit_walls(
        &[
            (200.0 + x0, 200.0 + y0, pit_radius),
            (350.0 + x0, 200.0 + y0, pit_radius),
        ],
        PX_PER_MM,
    );
    assert_eq!(det.lines.len(), 1);
    let (values, lines) = summarise(&height, Ok(det));
    assert_eq!(value(&values, "lines_count"), Ok(1.0));
    let length = value(&values, "lines_length_mm").unwrap();
    assert!((length - 10.0).abs() < 1.0, "{length}");
    assert!(
        (lines[0]
            .orientation_deg
            .min(180.0 - lines[0].orientation_deg))
            < 2.0
    );
    let (untouched, _) = summarise(&height, detect(&height, &params));
    assert_eq!(value(&untouched, "lines_count"), Ok(2.0));
}

/// Photos finer than `lines.working_px_per_mm` are measured on that grid: the same line at 20
/// and 40 px/mm gives the same length, width and direction, its skeleton comes back in the
/// photo's pixels, connected and on the valley; and the hair test still sees the photo's own
/// pixels (a 0.08 mm dark fibre keeps its contrast, which the 12 px/mm grid would halve).
#[test]
fn finer_photos_are_measured_on_the_working_grid() {
    let params = LinesParams::default();
    assert_eq!(params.working_px_per_mm, 12.0);
    let mut lengths = Vec::new();
    for (ppm, size) in [(20.0, 400), (40.0, 800)] {
        let h = line_height_at(ppm, size, 12.0, 0.3, DEPTH, 30.0);
        let (values, lines) = measure(&h, &params, SpareThreads::NONE);
        assert_eq!(value(&values, "lines_count"), Ok(1.0), "{ppm} px/mm");
        let length = value(&values, "lines_length_mm").unwrap();
        let width = value(&values, "lines_mean_width_mm").unwrap();
        let orient = value(&values, "lines_orientation_deg").unwrap();
        assert!(
            (length / 12.0 - 1.0).abs() <= 0.05,
            "{ppm} px/mm: length {length}"
        );
        assert!(
            (width / 0.3 - 1.0).abs() <= 0.25,
            "{ppm} px/mm: width {width}"
        );
        assert!(
            (orient - 30.0).abs() <= 3.0,
            "{ppm} px/mm: orientation {orient}"
        );
        lengths.push(length);
        // Skeleton in photo pixels (offset x0 = 7, y0 = 3), within 0.1 mm of the centre line.
        let c = size as f64 / 2.0;
        let (dx, dy) = (30f64.to_radians().cos(), -30f64.to_radians().sin());
        for &(x, y) in &lines[0].skeleton {
            let (px, py) = (f64::from(x) - 7.0 - c, f64::from(y) - 3.0 - c);
            let off = (px * dy - py * dx).abs();
            assert!(
                off <= 0.1 * ppm,
                "{ppm} px/mm: ({x}, {y}) {off:.1} px off the line"
            );
        }
        let mut sk = Array2::from_elem((size + 3, size + 7), false);
        for &(x, y) in &lines[0].skeleton {
            sk[(y as usize, x as usize)] = true;
        }
        let mut pieces = 0;
        let cols = sk.ncols();
        let mut unvisited = sk.as_slice().unwrap().to_vec();
        drain_components(&mut unvisited, cols, Connectivity::Eight, |_| pieces += 1);
        assert_eq!(pieces, 1, "{ppm} px/mm: skeleton in {pieces} pieces");
    }
    assert!(
        (lengths[0] - lengths[1]).abs() <= 0.02 * 12.0,
        "{lengths:?}"
    );
    // A dark fibre 0.08 mm wide, 20 % darker than the skin, at 40 px/mm: a hair.
    let h = line_height_at(40.0, 800, 12.0, 0.08, 0.2, 30.0);
    let det = detect(&h, &params).unwrap();
    assert!(det.lines.is_empty(), "{} lines", det.lines.len());
    assert!(det.hair_skeleton.len() > 100, "{}", det.hair_skeleton.len());
}

/// A zone thinner than one working-grid pixel (here a 1 px wide strip at 40 px/mm, 0.025 mm)
/// has no grid cell half inside it: no line fits, and the family is measured (0 lines), not
/// missing and not a panic on the empty grid.
#[test]
fn sliver_thinner_than_the_working_grid_has_no_line() {
    let mut h = line_height_at(40.0, 200, 3.0, 0.3, DEPTH, 0.0);
    h.mask = std::borrow::Cow::Owned(Array2::from_shape_fn((200, 200), |(r, _)| r == 100));
    let det = detect(&h, &LinesParams::default()).expect("measured");
    assert!(det.lines.is_empty());
    let (values, _) = summarise(&h, Ok(det));
    assert_eq!(value(&values, "lines_count"), Ok(0.0));
}

/// Linear red and blue of a 60 × 40 patch of skin (0.6, 0.25) with one horizontal line at row
/// 20, whose centre pixel has `line` (1 px wide).
fn patch_with_line(line: (f64, f64)) -> impl Fn(i64, i64) -> Option<(f64, f64)> + Copy {
    move |x, y| {
        ((0..60).contains(&x) && (0..40).contains(&y)).then_some(if y == 20 {
            line
        } else {
            (0.6, 0.25)
        })
    }
}

/// The colour ratio tells an occluder (a dark brown hair darkens red, which skin reflects most,
/// more than blue) from relief shading (every channel alike) and from a reddened shadow
/// (subsurface scattering fills it with red), and needs enough samples.
#[test]
fn colour_ratio_tells_a_hair_from_shading() {
    let pixels: Vec<(u32, u32)> = (5..55).map(|x| (x, 20)).collect();
    let ratio = |line| profile::chroma_ratio(&pixels, 2.0, patch_with_line(line)).unwrap();
    // Hair: linear (1.25 v, v, 0.8 v) with v = 0.03, as the phantom's dark hairs.
    let hair = ratio((0.0375, 0.024));
    let expected = (0.25f64 / 0.024).ln() / (0.6f64 / 0.0375).ln();
    assert!((hair - expected).abs() < 1e-9 && hair < 0.9, "{hair}");
    // Grey shading: 1 (kept by the 0.9 margin); a reddened shadow: above 1.
    let grey = ratio((0.6 * 0.7, 0.25 * 0.7));
    assert!((grey - 1.0).abs() < 1e-9, "{grey}");
    assert!(ratio((0.6 * 0.8, 0.25 * 0.7)) > 1.5);
    // A line no darker in red than MIN_RED_OD, or too short, has no ratio.
    assert!(profile::chroma_ratio(&pixels, 2.0, patch_with_line((0.595, 0.2))).is_none());
    let short: Vec<(u32, u32)> = (5..12).map(|x| (x, 20)).collect();
    assert!(profile::chroma_ratio(&short, 2.0, patch_with_line((0.0375, 0.024))).is_none());
}

/// On a photo: a narrow hair-coloured line is taken for a hair (its skeleton joins the hairs');
/// a grey one and a hair-coloured one wider than twice `hair_max_width_mm` stay lines; the test
/// is off at 0.
#[test]
fn coloured_hairs_are_dropped_from_the_lines() {
    // Floating-point samples are linear light.
    let img = image::Rgb32FImage::from_fn(80, 60, |_, y| {
        image::Rgb(match y {
            15 | 45 | 46 | 47 => [0.0375, 0.03, 0.024],
            30 => [0.42, 0.245, 0.175],
            _ => [0.6, 0.35, 0.25],
        })
    });
    let planes = crate::input::colour::colour_planes(&image::DynamicImage::ImageRgb32F(img));
    let record = |y: u32, width_mm: f64| LineRecord {
        length_mm: 6.0,
        width_mm,
        depth: 0.1,
        orientation_deg: 0.0,
        skeleton: (10..70).map(|x| (x, y)).collect(),
    };
    let detection = || LineDetection {
        lines: vec![
            (record(15, 0.2), (0.0, 0.0)),
            (record(30, 0.2), (0.0, 0.0)),
            (record(46, 0.5), (0.0, 0.0)),
        ],
        hair_skeleton: Vec::new(),
    };
    let params = LinesParams::default();
    assert!(2.0 * params.hair_max_width_mm < 0.5);
    let mut det = detection();
    det.drop_coloured_hairs(&planes, 10.0, &params);
    let kept: Vec<u32> = det.lines().map(|l| l.skeleton[0].1).collect();
    assert_eq!(kept, [30, 46]);
    assert_eq!(det.hair_skeleton, record(15, 0.2).skeleton);
    let mut det = detection();
    let off = LinesParams {
        hair_max_chroma_ratio: 0.0,
        ..LinesParams::default()
    };
    det.drop_coloured_hairs(&planes, 10.0, &off);
    assert_eq!(det.lines().len(), 3);
}
