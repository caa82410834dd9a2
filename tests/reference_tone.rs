//! Colour conversion and tone against the reference fixture `tests/fixtures/reference/tone.json`
//! (scikit-image 0.26.0 `rgb2lab`, D65 2°, cross-checked with plain numpy; made by
//! `tools/reference/make_tone_fixtures.py`, provenance inside the file), and the erythema and
//! melanin indices against `tests/fixtures/reference/skin_indices.json` (Diffey 1984's formula
//! implemented independently in numpy 2.4.6 on fixed patches, its sRGB decoding cross-checked
//! with scikit-image 0.26.0; made by `tools/reference/make_skin_index_fixtures.py`, provenance
//! inside the file).

mod common;

use common::reference::{self, floats};
use image::{DynamicImage, Rgb, RgbImage};
use serde_json::Value;
use skintex::config::Config;
use skintex::input::colour::colour_planes;
use skintex::metrics::tone;
use skintex::segment::{Mask, Zone, full_image_zones};

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

/// A patch of `skin_indices.json`: its image and its zone.
fn index_patch(p: &Value) -> (DynamicImage, Zone) {
    let (rows, cols) = (
        p["rows"].as_u64().unwrap() as usize,
        p["cols"].as_u64().unwrap() as usize,
    );
    let srgb: Vec<Vec<u8>> = p["srgb8"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_str()
                .unwrap()
                .split(',')
                .map(|v| v.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(srgb.len(), rows);
    let img = RgbImage::from_fn(cols as u32, rows as u32, |x, y| {
        let row = &srgb[y as usize];
        assert_eq!(row.len(), 3 * cols);
        let i = 3 * x as usize;
        Rgb([row[i], row[i + 1], row[i + 2]])
    });
    let mask: Vec<Vec<bool>> = p["mask"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_str().unwrap().chars().map(|c| c == '1').collect())
        .collect();
    let bits = ndarray::Array2::from_shape_fn((rows, cols), |(r, c)| mask[r][c]);
    assert_eq!(
        bits.iter().filter(|&&b| b).count() as u64,
        p["pixels_in_zone"].as_u64().unwrap()
    );
    let zone = Zone {
        name: "zone".to_owned(),
        mask: Mask::tight(bits.view(), 0, 0),
    };
    (DynamicImage::ImageRgb8(img), zone)
}

/// Issue 18 item 16: the erythema and melanin indices equal an independent numpy
/// implementation of Diffey 1984's formula (100·log10(R/G), 100·log10(1/R) on the zone means of
/// linear R and G) on fixed patches: noisy light and dark skin, very dark skin in the linear
/// segment of the sRGB curve, an erythematous blotch measured under a disc-shaped zone mask, and
/// a crop of the demo image data/demo/phantom-001.png. Tolerance 1e-5 index units (the colour
/// planes are f32).
#[test]
fn erythema_and_melanin_indices_match_an_independent_implementation() {
    let json = reference::json("skin_indices.json");
    assert!(json["provenance"]["package_versions"]["numpy"].is_string());
    let patches = json["patches"].as_array().unwrap();
    assert!(patches.len() >= 5);
    let names: Vec<&str> = tone::COLUMNS.iter().map(|c| c.name).collect();
    let col = |name: &str| names.iter().position(|n| *n == name).unwrap();
    let mut worst: f64 = 0.0;
    for p in patches {
        let name = p["name"].as_str().unwrap();
        let (img, zone) = index_patch(p);
        let values = tone::measure(&colour_planes(&img), &zone, &Config::default().tone);
        for (column, key) in [
            ("tone_erythema_index", "erythema_index"),
            ("tone_melanin_index", "melanin_index"),
        ] {
            let got = values[col(column)].clone().unwrap();
            let want = p[key].as_f64().unwrap();
            worst = worst.max((got - want).abs());
            assert!(
                (got - want).abs() < 1e-5,
                "{name} {column}: {got} vs reference {want}"
            );
        }
    }
    eprintln!("erythema/melanin index max deviation {worst:.2e} (tolerance 1e-5)");
    // The masked patch differs from its whole square: the zone mask matters.
    let blotch = patches
        .iter()
        .find(|p| p["name"] == "erythema_blotch_disc")
        .unwrap();
    let (img, _) = index_patch(blotch);
    let square = full_image_zones(img.width() as usize, img.height() as usize).remove(0);
    let whole = tone::measure(&colour_planes(&img), &square, &Config::default().tone);
    let ei_square = whole[col("tone_erythema_index")].clone().unwrap();
    assert!(
        (ei_square - blotch["erythema_index"].as_f64().unwrap()).abs() > 0.5,
        "the disc's reference must differ from the whole square's index ({ei_square})"
    );
}

/// The fixture's demo crop is the demo image's pixels (the fixed image has not changed).
#[test]
fn skin_index_demo_crop_is_the_demo_image() {
    let json = reference::json("skin_indices.json");
    let demo = &json["demo_image"];
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(demo["path"].as_str().unwrap());
    let image = image::open(&path).unwrap().to_rgb8();
    let crop = floats(&demo["crop_rows_cols"]);
    let (r0, c0) = (crop[0] as u32, crop[2] as u32);
    let patch = json["patches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "demo_phantom_crop")
        .unwrap();
    let (fixture, _) = index_patch(patch);
    let fixture = fixture.to_rgb8();
    assert_eq!(
        (fixture.height(), fixture.width()),
        ((crop[1] - crop[0]) as u32, (crop[3] - crop[2]) as u32)
    );
    for (x, y, px) in fixture.enumerate_pixels() {
        assert_eq!(px, image.get_pixel(c0 + x, r0 + y), "({x}, {y})");
    }
}
