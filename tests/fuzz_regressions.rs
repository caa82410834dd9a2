//! Regression tests for the fuzz targets `decode_analyze` and `manifest` (see `fuzz/README.md`).
//!
//! `tests/fixtures/fuzz/<target>/` holds a minimised corpus for each target: small inputs at the
//! edges the target must survive (truncated PNG, JPEG and TIFF headers, dimension bombs, broken
//! manifests) and any input that once crashed it, each described in
//! `tests/fixtures/fuzz/README.md`. Each is replayed through the very function the fuzz target
//! runs (`fuzz/harness.rs`), which must return without panicking.
//!
//! The ignored test `write_fuzz_seed_corpus` regenerates the fuzz seed corpus
//! (`fuzz/corpus/decode_analyze/`, git-ignored) from small synthetic images.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, Rgb, Rgba};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz")
}

/// A fuzz target's body: bytes in, whether they got through (see `fuzz/harness.rs`).
type Target = fn(&[u8]) -> bool;

/// The fuzz targets and the harness function each runs.
const TARGETS: &[(&str, Target)] = &[
    ("decode_analyze", harness::decode_analyze),
    ("manifest", harness::manifest),
];

#[test]
fn saved_fuzz_inputs_no_longer_crash() {
    let readme = std::fs::read_to_string(fixtures().join("README.md")).expect("README exists");
    for &(target, run) in TARGETS {
        let dir = fixtures().join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        // An empty folder would make this test pass without replaying anything.
        assert!(!files.is_empty(), "no saved inputs in {}", dir.display());
        for path in &files {
            let name = path.file_name().unwrap().to_string_lossy();
            assert!(
                readme.contains(&format!("`{target}/{name}`")),
                "{target}/{name} is not described in tests/fixtures/fuzz/README.md"
            );
            let bytes = std::fs::read(path).expect("read fixture");
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(outcome.is_ok(), "{} still panics", path.display());
        }
    }
}

/// The harness is not vacuous: a valid small image goes all the way through the metrics stage,
/// and a large one is decoded but skips it; a valid manifest is read.
#[test]
fn harness_reaches_metrics_on_valid_image() {
    let small = encode(&seed_image(48, 40).into(), ImageFormat::Png);
    assert!(harness::decode_analyze(&small));
    let large = encode(&seed_image(320, 16).into(), ImageFormat::Png);
    assert!(!harness::decode_analyze(&large));
    assert!(!harness::decode_analyze(b"not an image"));
    assert!(harness::manifest(b"path,image_id\na.png,A\nb.png,B\n"));
    assert!(!harness::manifest(b"no path column\n"));
}

/// 8-bit RGB skin-like gradient with deterministic noise, a dark line and a dark pit.
fn seed_image(w: u32, h: u32) -> ImageBuffer<Rgb<u8>, Vec<u8>> {
    let mut state = 0x2545_f491_u32;
    ImageBuffer::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 21) as i32 - 10;
        let base = 200 - (x * 60 / w.max(1)) as i32 + noise;
        let on_line = y == h / 2 + x / 24;
        let in_pit = x.abs_diff(w * 5 / 8) < 3 && y.abs_diff(h / 4) < 3;
        let dark = if on_line || in_pit { 50 } else { 0 };
        let v = |scale: i32| ((base - dark) * scale / 100).clamp(0, 255) as u8;
        Rgb([v(100), v(75), v(60)])
    })
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode seed");
    out.into_inner()
}

/// Insert an EXIF APP1 segment with the given orientation right after the JPEG SOI marker.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes()); // one IFD entry
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = u16::try_from(app1.len() + 2).expect("short segment");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[test]
#[ignore = "writes the fuzz seed corpus; run on demand"]
fn write_fuzz_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode_analyze");
    std::fs::create_dir_all(&dir).expect("mkdir corpus");
    let rgb: DynamicImage = seed_image(48, 40).into();
    let grey = DynamicImage::ImageLuma8(rgb.to_luma8());
    let grey16: DynamicImage =
        ImageBuffer::<Luma<u16>, _>::from_fn(24, 20, |x, y| Luma([(x * 2000 + y * 700) as u16]))
            .into();
    let rgba: DynamicImage = ImageBuffer::<Rgba<u8>, _>::from_fn(20, 16, |x, y| {
        Rgba([200 - x as u8, 150 - y as u8, 120, 200])
    })
    .into();
    let rgb16 = DynamicImage::ImageRgb16(rgb.to_rgb16());
    let rgb32f = DynamicImage::ImageRgb32F(DynamicImage::from(seed_image(16, 12)).to_rgb32f());
    let tiny: DynamicImage = seed_image(3, 2).into();
    let jpeg = encode(&rgb, ImageFormat::Jpeg);
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("rgb8.png", encode(&rgb, ImageFormat::Png)),
        ("grey8.png", encode(&grey, ImageFormat::Png)),
        ("grey16.png", encode(&grey16, ImageFormat::Png)),
        ("rgba8.png", encode(&rgba, ImageFormat::Png)),
        ("rgb16.png", encode(&rgb16, ImageFormat::Png)),
        ("tiny.png", encode(&tiny, ImageFormat::Png)),
        ("rgb8.jpg", jpeg.clone()),
        ("grey8.jpg", encode(&grey, ImageFormat::Jpeg)),
        ("tiny.jpg", encode(&tiny, ImageFormat::Jpeg)),
        ("oriented6.jpg", with_exif_orientation(&jpeg, 6)),
        ("rgb8.tif", encode(&rgb, ImageFormat::Tiff)),
        ("grey16.tif", encode(&grey16, ImageFormat::Tiff)),
        ("rgba8.tif", encode(&rgba, ImageFormat::Tiff)),
        ("rgb32f.tif", encode(&rgb32f, ImageFormat::Tiff)),
    ];
    for (name, bytes) in seeds {
        assert!(
            harness::decode_analyze(&bytes) || name == "rgb32f.tif",
            "{name} decodes"
        );
        std::fs::write(dir.join(name), bytes).expect("write seed");
    }
}
