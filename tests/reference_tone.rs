//! Colour conversion and tone against the reference fixture `tests/fixtures/reference/tone.json`
//! (scikit-image 0.26.0 `rgb2lab`, D65 2°, cross-checked with plain numpy; made by
//! `tools/reference/make_tone_fixtures.py`, provenance inside the file).

mod common;

use common::reference::{self, floats};
use image::{DynamicImage, Rgb, RgbImage};
use serde_json::Value;
use skintex::config::Config;
use skintex::input::colour::colour_planes;
use skintex::metrics::tone;
use skintex::segment::full_image_zones;

fn fixture() -> Value {
    reference::json("tone.json")
}

/// Every fixture colour as a uniform 8x8 patch: linear RGB and L*a*b* equal scikit-image's
/// within f32 storage precision, and the zone means and ITA of `tone::measure` equal them too
/// (ITA missing for the neutral colours, where b* is 0).
#[test]
fn colours_and_tone_match_scikit_image() {
    let json = fixture();
    let colours = json["colours"].as_array().unwrap();
    assert!(colours.len() >= 13);
    let names: Vec<&str> = tone::COLUMNS.iter().map(|c| c.name).collect();
    let col = |name: &str| names.iter().position(|n| *n == name).unwrap();
    for c in colours {
        let name = c["name"].as_str().unwrap();
        let srgb: Vec<u8> = floats(&c["srgb8"]).iter().map(|v| *v as u8).collect();
        let img =
            DynamicImage::ImageRgb8(RgbImage::from_pixel(8, 8, Rgb([srgb[0], srgb[1], srgb[2]])));
        let planes = colour_planes(&img);
        let linear = floats(&c["linear_rgb"]);
        for (ch, want) in linear.iter().enumerate() {
            let got = f64::from(planes.linear_at(3, 3)[ch]);
            assert!(
                (got - want).abs() < 1e-6,
                "{name} linear[{ch}] {got} vs {want}"
            );
        }
        let lab = floats(&c["lab"]);
        let [l, a, b] = planes.lab_box(0, 0, 8, 8);
        for (ch, (plane, want)) in [l, a, b].iter().zip(&lab).enumerate() {
            let got = f64::from(plane[[5, 2]]);
            assert!(
                (got - want).abs() < 1e-4,
                "{name} lab[{ch}] {got} vs {want}"
            );
        }
        let zone = full_image_zones(8, 8).remove(0);
        let values = tone::measure(&planes, &zone, &Config::default().tone);
        let value = |n: &str| values[col(n)].clone();
        for (column, want) in [
            ("tone_l_mean", lab[0]),
            ("tone_a_mean", lab[1]),
            ("tone_b_mean", lab[2]),
        ] {
            let got = value(column).unwrap();
            assert!((got - want).abs() < 1e-4, "{name} {column} {got} vs {want}");
        }
        match c["ita_deg"].as_f64() {
            Some(want) if lab[2].abs() > 1.0 => {
                let got = value("tone_ita_deg").unwrap();
                assert!((got - want).abs() < 1e-3, "{name} ITA {got} vs {want}");
            }
            _ => assert!(
                value("tone_ita_deg").is_err(),
                "{name}: ITA must be missing when b* ~ 0"
            ),
        }
    }
}
