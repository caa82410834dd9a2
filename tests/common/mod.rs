//! Helpers shared by the CLI tests: images generated on the fly, the built binary.
#![allow(dead_code)]

pub mod reference;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use image::{ImageFormat, Rgb, RgbImage};

/// The built `skintex` binary.
pub fn skintex() -> Command {
    Command::cargo_bin("skintex").expect("binary built")
}

/// A deterministic skin-coloured test image with some texture.
pub fn skin_image(width: u32, height: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let t = ((x * 7 + y * 13 + seed * 31) % 17) as f32 / 17.0;
        let w = ((x as f32 * 0.21 + seed as f32).sin() * (y as f32 * 0.17).cos()) * 12.0;
        Rgb([
            (200.0 + w + 10.0 * t) as u8,
            (150.0 + w + 8.0 * t) as u8,
            (130.0 + w + 6.0 * t) as u8,
        ])
    })
}

/// Save `img` as `path` in `format`.
pub fn save(img: &RgbImage, path: &Path, format: ImageFormat) -> PathBuf {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    img.save_with_format(path, format).unwrap();
    path.to_path_buf()
}

/// `count` PNGs of [`skin_image`] (`width` x `height`, seeds 0, 1, ...) named
/// `{stem}{i}.png` in `dir`; returns `dir` as a string.
pub fn skin_pngs(dir: &Path, stem: &str, count: u32, (width, height): (u32, u32)) -> String {
    for i in 0..count {
        save(
            &skin_image(width, height, i),
            &dir.join(format!("{stem}{i}.png")),
            ImageFormat::Png,
        );
    }
    dir.to_str().expect("UTF-8 path").to_owned()
}

/// JPEG bytes of `img` with an EXIF APP1 segment carrying `orientation` (1-8).
pub fn jpeg_with_orientation(img: &RgbImage, orientation: u16) -> Vec<u8> {
    let mut jpeg = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut jpeg), ImageFormat::Jpeg)
        .unwrap();
    // TIFF header (big endian), one IFD entry: tag 0x0112 (Orientation), SHORT, count 1.
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = u16::try_from(app1.len() + 2).unwrap();
    let mut out = jpeg[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Parse a CSV file into (header, rows).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// The value of column `name` in `row`.
pub fn cell<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    &row[i]
}
