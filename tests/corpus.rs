//! A hostile-input corpus, generated here (no committed binaries), run through the built binary.
//!
//! Every case is a file (or a manifest row) with an expected outcome: `ok` (valid output, optionally
//! with known size, depth and channels) or `error(substring of the reason)`. For every run the
//! same properties are checked: no panic, one `images.csv` row per input in input order, the exit
//! code (0 all ok, 1 some failed, 2 usage or configuration error), error rows that name the file
//! and the reason, and `metrics.csv` cells that are finite numbers or empty with a reason in
//! `missing_reasons`.

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::{cell, jpeg_with_orientation, read_csv, skin_image, skintex};
use image::{DynamicImage, ImageBuffer, ImageFormat, Luma, LumaA, Rgb, RgbImage, Rgba};

/// What a case must produce.
#[derive(Debug, Clone)]
enum Expect {
    /// Analysed; optional (width, height), bit depth and channel layout to check.
    Ok {
        size: Option<(u32, u32)>,
        bit_depth: Option<u8>,
        channels: Option<&'static str>,
        format: Option<&'static str>,
    },
    /// An error row whose reason contains this text (and the file's name).
    Error(&'static str),
}

fn ok() -> Expect {
    Expect::Ok {
        size: None,
        bit_depth: None,
        channels: None,
        format: None,
    }
}

fn ok_sized(w: u32, h: u32) -> Expect {
    Expect::Ok {
        size: Some((w, h)),
        bit_depth: None,
        channels: None,
        format: None,
    }
}

fn ok_as(format: &'static str, bit_depth: u8, channels: &'static str) -> Expect {
    Expect::Ok {
        size: None,
        bit_depth: Some(bit_depth),
        channels: Some(channels),
        format: Some(format),
    }
}

/// One input file of a batch.
struct Case {
    /// File name (unique; a sortable prefix keeps the folder-walk order equal to the table order).
    name: String,
    bytes: Vec<u8>,
    expect: Expect,
}

struct Corpus {
    cases: Vec<Case>,
}

impl Corpus {
    fn new() -> Self {
        Self { cases: Vec::new() }
    }
    fn add(&mut self, label: &str, ext: &str, bytes: Vec<u8>, expect: Expect) {
        let name = format!("c{:03}_{label}.{ext}", self.cases.len());
        self.cases.push(Case {
            name,
            bytes,
            expect,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format)
        .unwrap_or_else(|e| panic!("encode {format:?}: {e}"));
    out.into_inner()
}

fn skin(w: u32, h: u32, seed: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(skin_image(w, h, seed))
}

/// Deterministic noise in `lo..=hi` (a small LCG; no dependence on a crate's RNG).
fn noise_image(w: u32, h: u32, lo: u8, hi: u8, seed: u64) -> RgbImage {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let span = u64::from(hi - lo) + 1;
    RgbImage::from_fn(w, h, |_, _| {
        let mut px = [0u8; 3];
        for v in &mut px {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            *v = lo + u8::try_from((state >> 33) % span).unwrap();
        }
        Rgb(px)
    })
}

/// CRC-32 (ISO-HDLC) as PNG chunks use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A PNG whose IHDR declares `width` x `height` (valid CRCs) followed by a tiny compressed stream:
/// a decompression bomb's header. `colour` is the PNG colour type, `depth` the bit depth.
fn png_bomb(width: u32, height: u32, depth: u8, colour: u8) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, colour, 0, 0, 0]);
    out.extend(png_chunk(b"IHDR", &ihdr));
    // A zlib stream of a few zero bytes (stored block), far short of the declared size.
    out.extend(png_chunk(
        b"IDAT",
        &[
            0x78, 0x01, 0x01, 0x04, 0x00, 0xFB, 0xFF, 0, 0, 0, 0, 0, 0, 0, 1,
        ],
    ));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

/// A little-endian baseline TIFF header declaring `width` x `height` RGB 8-bit, one strip of 16
/// bytes: a decompression bomb's header.
fn tiff_bomb(width: u32, height: u32) -> Vec<u8> {
    // Entries: (tag, type, count, value). Types: 3 SHORT, 4 LONG.
    let bps_offset = 8 + 2 + 10 * 12 + 4; // after the IFD
    let strip_offset = bps_offset + 6;
    let entries: [(u16, u16, u32, u32); 10] = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 3, bps_offset),
        (259, 3, 1, 1),
        (262, 3, 1, 2),
        (273, 4, 1, strip_offset),
        (277, 3, 1, 3),
        (278, 4, 1, height),
        (279, 4, 1, 16),
        (284, 3, 1, 1),
    ];
    let mut out = b"II\x2a\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&u16::try_from(entries.len()).unwrap().to_le_bytes());
    for (tag, typ, count, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        if typ == 3 && count == 1 {
            out.extend_from_slice(&u16::try_from(value).unwrap().to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(out.len(), bps_offset as usize);
    for _ in 0..3 {
        out.extend_from_slice(&8u16.to_le_bytes());
    }
    out.extend_from_slice(&[0u8; 16]);
    out
}

/// A real JPEG whose SOF0 frame header is patched to declare `width` x `height`.
fn jpeg_bomb(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = encode(&skin(16, 16, 1), ImageFormat::Jpeg);
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline SOF0");
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// MSB-first bit writer with JPEG byte stuffing.
struct JpegBits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl JpegBits {
    fn put(&mut self, bits: u32, len: u32) {
        for i in (0..len).rev() {
            self.acc = (self.acc << 1) | ((bits >> i) & 1);
            self.n += 1;
            if self.n == 8 {
                let byte = u8::try_from(self.acc).unwrap();
                self.out.push(byte);
                if byte == 0xFF {
                    self.out.push(0);
                }
                self.acc = 0;
                self.n = 0;
            }
        }
    }
    fn finish(mut self) -> Vec<u8> {
        while self.n != 0 {
            self.put(1, 1);
        }
        self.out
    }
}

/// A hand-made baseline JPEG with 4 components (CMYK, or YCCK with `adobe_transform` 2), made of
/// flat 8x8 blocks: `level(c, bx, by)` gives the sample value (0-255, in steps of 8) of component
/// `c` in block (bx, by). `adobe_transform` `None` writes no Adobe APP14 marker.
fn cmyk_jpeg(
    blocks_x: u16,
    blocks_y: u16,
    adobe_transform: Option<u8>,
    level: impl Fn(usize, u16, u16) -> i32,
) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    if let Some(t) = adobe_transform {
        out.extend_from_slice(&[0xFF, 0xEE, 0, 14]);
        out.extend_from_slice(b"Adobe");
        out.extend_from_slice(&[0, 100, 0, 0, 0, 0, t]);
    }
    // Quantisation table 0: DC step 64 (one DC unit = 8 grey levels), AC 1.
    out.extend_from_slice(&[0xFF, 0xDB, 0, 67, 0]);
    out.push(64);
    out.extend_from_slice(&[1u8; 63]);
    // DC table 0: categories 0..=11, all 4-bit codes (category k -> code k).
    out.extend_from_slice(&[0xFF, 0xC4, 0, 3 + 16 + 12, 0x00]);
    let mut counts = [0u8; 16];
    counts[3] = 12;
    out.extend_from_slice(&counts);
    out.extend(0u8..12);
    // AC table 0: EOB (code 00) and ZRL (code 01).
    out.extend_from_slice(&[0xFF, 0xC4, 0, 3 + 16 + 2, 0x10]);
    let mut counts = [0u8; 16];
    counts[1] = 2;
    out.extend_from_slice(&counts);
    out.extend_from_slice(&[0x00, 0xF0]);
    // SOF0: 8 bit, 4 components, no subsampling, quant table 0.
    let (w, h) = (blocks_x * 8, blocks_y * 8);
    out.extend_from_slice(&[0xFF, 0xC0, 0, 20, 8]);
    out.extend_from_slice(&h.to_be_bytes());
    out.extend_from_slice(&w.to_be_bytes());
    out.push(4);
    for id in 1..=4u8 {
        out.extend_from_slice(&[id, 0x11, 0]);
    }
    // SOS: all 4 components interleaved, tables 0/0.
    out.extend_from_slice(&[0xFF, 0xDA, 0, 14, 4]);
    for id in 1..=4u8 {
        out.extend_from_slice(&[id, 0x00]);
    }
    out.extend_from_slice(&[0, 63, 0]);
    let mut bits = JpegBits {
        out: Vec::new(),
        acc: 0,
        n: 0,
    };
    let mut pred = [0i32; 4];
    for by in 0..blocks_y {
        for bx in 0..blocks_x {
            for (c, p) in pred.iter_mut().enumerate() {
                // Sample = DC * 64 / 8 / 8 + 128 -> DC units of 8 grey levels.
                let dc = (level(c, bx, by).clamp(0, 255) - 128) / 8;
                let diff = dc - *p;
                *p = dc;
                let mag = diff.unsigned_abs();
                let cat = 32 - mag.leading_zeros();
                bits.put(cat, 4);
                if cat > 0 {
                    let v = if diff < 0 {
                        (diff - 1) as u32 & ((1 << cat) - 1)
                    } else {
                        diff as u32
                    };
                    bits.put(v, cat);
                }
                bits.put(0b00, 2); // EOB
            }
        }
    }
    out.extend(bits.finish());
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// The portrait used by the face tests.
fn astronaut() -> RgbImage {
    image::open(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo/astronaut.png"))
        .expect("data/demo/astronaut.png")
        .to_rgb8()
}

// ---------------------------------------------------------------------------------------------
// Running and checking
// ---------------------------------------------------------------------------------------------

/// What one run of `skintex analyze` left behind.
struct RunOutput {
    code: i32,
    stderr: String,
    out: PathBuf,
}

fn run_analyze(args: &[&str], out: &Path) -> RunOutput {
    let output = skintex()
        .arg("analyze")
        .args(args)
        .args(["--no-qc", "-q", "--out"])
        .arg(out)
        .output()
        .expect("skintex runs");
    RunOutput {
        code: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        out: out.to_path_buf(),
    }
}

fn v_is_empty(v: &str) -> bool {
    v.is_empty()
}

/// The labels of a `missing_reasons` cell: column names or `family_*`.
fn missing_labels(reasons: &str) -> Vec<String> {
    reasons
        .split("; ")
        .filter_map(|group| group.split_once(": ").map(|(names, _)| names))
        .flat_map(|names| names.split(", ").map(str::to_owned))
        .collect()
}

/// Checks on `metrics.csv` that hold for every run: no NaN or infinity as text, every non-key
/// cell numeric or empty with a reason; returns the rows per image id.
fn check_metrics_table(run: &RunOutput, context: &str) -> Vec<(String, Vec<String>)> {
    let path = run.out.join("metrics.csv");
    // No non-finite number anywhere, not even inside a reason (file names in this corpus never
    // contain these letters).
    for table in ["metrics.csv", "images.csv"] {
        let mut text = std::fs::read_to_string(run.out.join(table)).unwrap();
        // The temporary folder's random name could hold the letters by chance.
        if let Some(tmp) = run.out.ancestors().find(|a| {
            a.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp"))
        }) {
            text = text.replace(tmp.to_str().unwrap(), "TMP");
        }
        for bad in ["NaN", "nan", "inf", "Inf"] {
            assert!(
                !text.contains(bad),
                "{context}: `{bad}` in {table}:\n{}",
                text.lines()
                    .filter(|l| l.contains(bad))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
    let (h, rows) = read_csv(&path);
    let first_metric = h.iter().position(|c| c == "zone_area_mm2").unwrap();
    let last = h.iter().position(|c| c == "missing_reasons").unwrap();
    assert_eq!(last, h.len() - 1);
    let mut out = Vec::new();
    for row in &rows {
        let id = cell(&h, row, "image_id").to_owned();
        let labels = missing_labels(cell(&h, row, "missing_reasons"));
        for (i, name) in h.iter().enumerate().take(last).skip(first_metric) {
            if name == "calibration" {
                continue;
            }
            if name == "px_per_mm" {
                // Not a metric: empty exactly when the `calibration` column says `none`.
                assert_eq!(
                    v_is_empty(&row[i]),
                    cell(&h, row, "calibration") == "none",
                    "{context}: image {id}: px_per_mm `{}` vs calibration `{}`",
                    row[i],
                    cell(&h, row, "calibration")
                );
                continue;
            }
            let v = &row[i];
            if v.is_empty() {
                let family = format!("{}_*", name.split('_').next().unwrap());
                assert!(
                    labels.iter().any(|l| l == name || *l == family),
                    "{context}: image {id}: empty {name} has no reason in missing_reasons `{}`",
                    cell(&h, row, "missing_reasons")
                );
            } else {
                let x: f64 = v.parse().unwrap_or_else(|_| {
                    panic!("{context}: image {id}: {name} = `{v}` is not a number")
                });
                assert!(x.is_finite(), "{context}: image {id}: {name} = {v}");
            }
        }
        out.push((id, row.clone()));
    }
    out
}

/// One expected images.csv row: image id, the file name the error must name, the expectation.
struct Expected<'a> {
    id: String,
    file: String,
    expect: &'a Expect,
}

/// Checks every generic property of a finished run against the expected rows, in order.
fn check_run(run: &RunOutput, expected: &[Expected<'_>], context: &str) {
    let mut failures = Vec::new();
    if run.stderr.contains("panicked") {
        failures.push(format!("a panic reached stderr:\n{}", run.stderr));
    }
    let any_error = expected
        .iter()
        .any(|e| matches!(e.expect, Expect::Error(_)));
    if run.code != i32::from(any_error) {
        failures.push(format!(
            "exit code {}, expected {} (stderr: {})",
            run.code,
            i32::from(any_error),
            run.stderr
        ));
    }
    let (h, rows) = read_csv(&run.out.join("images.csv"));
    assert_eq!(rows.len(), expected.len(), "{context}: one row per input");
    let metrics = check_metrics_table(run, context);
    let mut next_metric = 0;
    for (row, exp) in rows.iter().zip(expected) {
        let id = cell(&h, row, "image_id");
        assert_eq!(id, exp.id, "{context}: rows in input order");
        let status = cell(&h, row, "status");
        let error = cell(&h, row, "error");
        // metrics.csv holds the zones of the ok images, in the same order as images.csv.
        let zone_rows = if status == "ok" {
            let n = metrics[next_metric..]
                .iter()
                .take_while(|(m, _)| m == id)
                .count();
            next_metric += n;
            n
        } else {
            0
        };
        match exp.expect {
            Expect::Error(reason) => {
                if status != "error" || !error.contains(reason) || !error.contains(&exp.file) {
                    failures.push(format!(
                        "{id}: expected error `{reason}` naming {}, got {status} `{error}`",
                        exp.file
                    ));
                }
                if zone_rows != 0 {
                    failures.push(format!("{id}: error row has {zone_rows} metrics rows"));
                }
            }
            Expect::Ok {
                size,
                bit_depth,
                channels,
                format,
            } => {
                if status != "ok" || !error.is_empty() {
                    failures.push(format!("{id}: expected ok, got {status} `{error}`"));
                    continue;
                }
                let zones: usize = cell(&h, row, "zones").parse().unwrap();
                if zones == 0 || zones != zone_rows {
                    failures.push(format!(
                        "{id}: zones = {zones}, metrics.csv has {zone_rows} rows"
                    ));
                }
                let got_size = (cell(&h, row, "width"), cell(&h, row, "height"));
                if let Some((w, hh)) = size
                    && got_size != (w.to_string().as_str(), hh.to_string().as_str())
                {
                    failures.push(format!("{id}: size {got_size:?}, expected {w}x{hh}"));
                }
                if let Some(d) = bit_depth
                    && cell(&h, row, "bit_depth") != d.to_string()
                {
                    failures.push(format!(
                        "{id}: bit_depth {}, expected {d}",
                        cell(&h, row, "bit_depth")
                    ));
                }
                if let Some(c) = channels
                    && cell(&h, row, "channels") != *c
                {
                    failures.push(format!(
                        "{id}: channels {}, expected {c}",
                        cell(&h, row, "channels")
                    ));
                }
                if let Some(f) = format
                    && cell(&h, row, "format") != *f
                {
                    failures.push(format!(
                        "{id}: format {}, expected {f}",
                        cell(&h, row, "format")
                    ));
                }
            }
        }
    }
    if next_metric != metrics.len() {
        failures.push(format!(
            "metrics.csv has {} rows not matched, in order, to an ok image",
            metrics.len() - next_metric
        ));
    }
    assert!(
        failures.is_empty(),
        "{context}: {} failures among {} cases:\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
}

/// Write the corpus into `dir/in`, analyse the folder with `args`, check every case.
fn run_corpus(corpus: &Corpus, dir: &Path, args: &[&str], context: &str) -> usize {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for case in &corpus.cases {
        std::fs::write(input.join(&case.name), &case.bytes).unwrap();
    }
    let mut all_args = vec![input.to_str().unwrap()];
    all_args.extend_from_slice(args);
    let run = run_analyze(&all_args, &dir.join("out"));
    let expected: Vec<Expected<'_>> = corpus
        .cases
        .iter()
        .map(|c| Expected {
            id: Path::new(&c.name)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            file: c.name.clone(),
            expect: &c.expect,
        })
        .collect();
    check_run(&run, &expected, context);
    corpus.cases.len()
}

// ---------------------------------------------------------------------------------------------
// The file corpus (roi full)
// ---------------------------------------------------------------------------------------------

/// Byte lengths at which to cut a file of `len` bytes.
fn cut_points(len: usize) -> Vec<usize> {
    let mut cuts = vec![1, 2, 4, 8, 16, 33, 64, 128];
    cuts.extend([len / 4, len / 2, 3 * len / 4]);
    cuts.retain(|&c| c > 0 && c < len);
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

fn file_corpus() -> Corpus {
    let mut c = Corpus::new();
    let unreadable = "not a JPEG, PNG or TIFF";

    // Empty and non-image content under image names.
    for ext in ["png", "jpg", "jpeg", "tif", "tiff", "JPG"] {
        c.add("zero_bytes", ext, Vec::new(), Expect::Error("empty file"));
    }
    for ext in ["jpg", "png", "tif"] {
        c.add(
            "text",
            ext,
            b"Patient 12, visit 2: photo to follow.\n".to_vec(),
            Expect::Error(unreadable),
        );
    }
    c.add(
        "noise_bytes",
        "jpg",
        noise_image(16, 16, 0, 255, 9).into_raw(),
        Expect::Error(unreadable),
    );
    c.add("one_byte", "png", vec![0x89], Expect::Error(unreadable));
    // Formats skintex does not read, named as ones it does.
    let mut bmp = Vec::new();
    DynamicImage::ImageRgb8(skin_image(8, 8, 1))
        .write_to(&mut Cursor::new(&mut bmp), ImageFormat::Bmp)
        .ok();
    if bmp.is_empty() {
        // BMP encoder not compiled in: a BMP file header is enough for format detection.
        bmp = b"BM\x46\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0".to_vec();
        bmp.resize(70, 0);
    }
    c.add(
        "bmp_content",
        "jpg",
        bmp,
        Expect::Error("unsupported format"),
    );
    c.add(
        "gif_content",
        "png",
        b"GIF89a\x01\0\x01\0\0\0\0;".to_vec(),
        Expect::Error("unsupported format"),
    );

    // Truncated files at several cut points, for each format and two pixel types.
    let bases: [(&str, ImageFormat, &str, DynamicImage); 5] = [
        ("jpeg", ImageFormat::Jpeg, "jpg", skin(64, 48, 2)),
        ("png", ImageFormat::Png, "png", skin(64, 48, 3)),
        (
            "png16",
            ImageFormat::Png,
            "png",
            DynamicImage::ImageRgb16(skin(64, 48, 4).to_rgb16()),
        ),
        ("tiff", ImageFormat::Tiff, "tif", skin(64, 48, 5)),
        (
            "tiff16",
            ImageFormat::Tiff,
            "tif",
            DynamicImage::ImageRgb16(skin(64, 48, 6).to_rgb16()),
        ),
    ];
    for (label, format, ext, img) in &bases {
        let full = encode(img, *format);
        for cut in cut_points(full.len()) {
            // Shorter than the magic number: not recognised; longer: the decoder fails.
            let magic_len = match format {
                ImageFormat::Jpeg => 3,
                ImageFormat::Png => 8,
                _ => 4,
            };
            let expect = if cut < magic_len {
                Expect::Error(unreadable)
            } else {
                Expect::Error("decode failed")
            };
            c.add(
                &format!("trunc_{label}_{cut}"),
                ext,
                full[..cut].to_vec(),
                expect,
            );
        }
        // Without its last byte a JPEG loses half of its end marker and a PNG part of the IEND
        // chunk's CRC: the pixel data are complete and decode. A TIFF (IFD written last) fails.
        let expect = if *format == ImageFormat::Tiff {
            Expect::Error("decode failed")
        } else {
            ok_sized(64, 48)
        };
        c.add(
            &format!("trunc_{label}_last_byte"),
            ext,
            full[..full.len() - 1].to_vec(),
            expect,
        );
    }

    // Content that does not match the extension: the content decides.
    let contents = [
        ("png", encode(&skin(40, 30, 7), ImageFormat::Png)),
        ("jpeg", encode(&skin(40, 30, 8), ImageFormat::Jpeg)),
        ("tiff", encode(&skin(40, 30, 9), ImageFormat::Tiff)),
    ];
    for (format, bytes) in &contents {
        for ext in ["jpg", "png", "tif"] {
            c.add(
                &format!("{format}_named_{ext}"),
                ext,
                bytes.clone(),
                Expect::Ok {
                    size: Some((40, 30)),
                    bit_depth: Some(8),
                    channels: Some("rgb"),
                    format: Some(format),
                },
            );
        }
    }

    // Tiny images in every format.
    let tiny: [(u32, u32); 12] = [
        (1, 1),
        (1, 2),
        (2, 1),
        (2, 2),
        (3, 7),
        (7, 3),
        (1, 50),
        (50, 1),
        (300, 1),
        (5, 5),
        (8, 8),
        (16, 16),
    ];
    for (w, h) in tiny {
        for (format, ext) in [
            (ImageFormat::Png, "png"),
            (ImageFormat::Jpeg, "jpg"),
            (ImageFormat::Tiff, "tif"),
        ] {
            c.add(
                &format!("tiny_{w}x{h}"),
                ext,
                encode(&skin(w, h, w + h), format),
                ok_sized(w, h),
            );
        }
    }

    // Decompression bombs: huge declared sizes, tiny files. Refused before decoding.
    let too_large = "input.max_megapixels";
    c.add(
        "bomb_png_100000",
        "png",
        png_bomb(100_000, 100_000, 8, 2),
        Expect::Error(too_large),
    );
    c.add(
        "bomb_png16_rgba_100000",
        "png",
        png_bomb(100_000, 100_000, 16, 6),
        Expect::Error(too_large),
    );
    c.add(
        "bomb_png_wide",
        "png",
        png_bomb(2_000_000_000, 1, 8, 0),
        Expect::Error(too_large),
    );
    c.add(
        "bomb_png_101mp",
        "png",
        png_bomb(10_050, 10_050, 8, 2),
        Expect::Error(too_large),
    );
    c.add(
        "bomb_tiff_100000",
        "tif",
        tiff_bomb(100_000, 100_000),
        Expect::Error(too_large),
    );
    c.add(
        "bomb_tiff_tall",
        "tif",
        tiff_bomb(1, 4_000_000_000),
        Expect::Error(too_large),
    );
    c.add(
        "bomb_jpeg_65535",
        "jpg",
        jpeg_bomb(65_535, 65_535),
        Expect::Error(too_large),
    );
    // Zero declared size.
    c.add(
        "zero_width_png",
        "png",
        png_bomb(0, 10, 8, 2),
        Expect::Error("png"),
    );

    // Bit depths and channel layouts.
    let base = skin(48, 32, 11);
    let layouts: Vec<(&str, DynamicImage, ImageFormat, &str, u8, &'static str)> = vec![
        (
            "grey8",
            DynamicImage::ImageLuma8(base.to_luma8()),
            ImageFormat::Png,
            "png",
            8,
            "grey",
        ),
        (
            "grey8",
            DynamicImage::ImageLuma8(base.to_luma8()),
            ImageFormat::Jpeg,
            "jpeg",
            8,
            "grey",
        ),
        (
            "grey8",
            DynamicImage::ImageLuma8(base.to_luma8()),
            ImageFormat::Tiff,
            "tiff",
            8,
            "grey",
        ),
        (
            "grey16",
            DynamicImage::ImageLuma16(base.to_luma16()),
            ImageFormat::Png,
            "png",
            16,
            "grey",
        ),
        (
            "grey16",
            DynamicImage::ImageLuma16(base.to_luma16()),
            ImageFormat::Tiff,
            "tiff",
            16,
            "grey",
        ),
        (
            "greyalpha8",
            DynamicImage::ImageLumaA8(base.to_luma_alpha8()),
            ImageFormat::Png,
            "png",
            8,
            "grey+alpha",
        ),
        (
            "greyalpha16",
            DynamicImage::ImageLumaA16(base.to_luma_alpha16()),
            ImageFormat::Png,
            "png",
            16,
            "grey+alpha",
        ),
        (
            "rgb16",
            DynamicImage::ImageRgb16(base.to_rgb16()),
            ImageFormat::Png,
            "png",
            16,
            "rgb",
        ),
        (
            "rgb16",
            DynamicImage::ImageRgb16(base.to_rgb16()),
            ImageFormat::Tiff,
            "tiff",
            16,
            "rgb",
        ),
        (
            "rgba8",
            DynamicImage::ImageRgba8(base.to_rgba8()),
            ImageFormat::Png,
            "png",
            8,
            "rgba",
        ),
        (
            "rgba8",
            DynamicImage::ImageRgba8(base.to_rgba8()),
            ImageFormat::Tiff,
            "tiff",
            8,
            "rgba",
        ),
        (
            "rgba16",
            DynamicImage::ImageRgba16(base.to_rgba16()),
            ImageFormat::Png,
            "png",
            16,
            "rgba",
        ),
        (
            "rgba16",
            DynamicImage::ImageRgba16(base.to_rgba16()),
            ImageFormat::Tiff,
            "tiff",
            16,
            "rgba",
        ),
        (
            "rgb32f",
            DynamicImage::ImageRgb32F(base.to_rgb32f()),
            ImageFormat::Tiff,
            "tiff",
            32,
            "rgb",
        ),
        (
            "rgba32f",
            DynamicImage::ImageRgba32F(base.to_rgba32f()),
            ImageFormat::Tiff,
            "tiff",
            32,
            "rgba",
        ),
    ];
    for (label, img, format, fname, depth, channels) in layouts {
        let ext = match format {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            _ => "tif",
        };
        c.add(
            &format!("layout_{label}"),
            ext,
            encode(&img, format),
            ok_as(fname, depth, channels),
        );
    }
    // Transparent RGBA: alpha 0 everywhere (colour still analysed; alpha is ignored).
    let clear = ImageBuffer::from_fn(32, 32, |x, y| Rgba([200, 150, (x * 4 + y) as u8, 0]));
    c.add(
        "rgba_transparent",
        "png",
        encode(&DynamicImage::ImageRgba8(clear), ImageFormat::Png),
        ok_as("png", 8, "rgba"),
    );
    // Float TIFFs with values outside 0-1 and non-finite samples.
    let hdr = ImageBuffer::from_fn(32, 32, |x, y| {
        Rgb([x as f32 * 0.2 - 1.0, y as f32 * 0.3, 5.0e3])
    });
    c.add(
        "float_out_of_range",
        "tif",
        encode(&DynamicImage::ImageRgb32F(hdr), ImageFormat::Tiff),
        ok_as("tiff", 32, "rgb"),
    );
    let nonfinite = ImageBuffer::from_fn(32, 32, |x, y| {
        let v = match (x + y) % 4 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            _ => 0.5,
        };
        Rgb([v, 0.4, 0.3])
    });
    c.add(
        "float_nonfinite",
        "tif",
        encode(&DynamicImage::ImageRgb32F(nonfinite), ImageFormat::Tiff),
        ok_as("tiff", 32, "rgb"),
    );
    let all_nan = ImageBuffer::from_fn(16, 16, |_, _| Rgb([f32::NAN; 3]));
    c.add(
        "float_all_undefined",
        "tif",
        encode(&DynamicImage::ImageRgb32F(all_nan), ImageFormat::Tiff),
        ok_as("tiff", 32, "rgb"),
    );

    // CMYK (Adobe transform 0), YCCK (transform 2) and 4-component JPEG without Adobe marker.
    for (label, transform) in [
        ("cmyk", Some(0u8)),
        ("ycck", Some(2)),
        ("4ch_noadobe", None),
    ] {
        let bytes = cmyk_jpeg(6, 4, transform, |comp, bx, by| {
            [40, 80, 120, 16][comp] + 8 * i32::from((bx + by) % 3)
        });
        c.add(&format!("jpeg_{label}"), "jpg", bytes, ok_sized(48, 32));
    }

    // All 8 EXIF orientations: 5-8 swap width and height.
    let portrait = skin_image(60, 20, 1);
    for o in 1..=8u16 {
        let (w, h) = if o >= 5 { (20, 60) } else { (60, 20) };
        c.add(
            &format!("exif_orientation_{o}"),
            "jpg",
            jpeg_with_orientation(&portrait, o),
            ok_sized(w, h),
        );
    }
    // Out-of-range orientation values are ignored, not fatal.
    for o in [0u16, 9, 65_535] {
        c.add(
            &format!("exif_orientation_bad_{o}"),
            "jpg",
            jpeg_with_orientation(&portrait, o),
            ok_sized(60, 20),
        );
    }

    // Uniform and extreme exposures, in PNG and JPEG.
    let flat = |v: u8| RgbImage::from_pixel(64, 64, Rgb([v, v, v]));
    let exposures: Vec<(&str, RgbImage)> = vec![
        ("uniform_grey", flat(128)),
        ("all_black", flat(0)),
        ("all_white", flat(255)),
        ("near_black_noise", noise_image(64, 64, 0, 3, 1)),
        ("near_white_noise", noise_image(64, 64, 252, 255, 2)),
        ("full_range_noise", noise_image(64, 64, 0, 255, 3)),
        ("pure_red", RgbImage::from_pixel(64, 64, Rgb([255, 0, 0]))),
        (
            "checkerboard",
            RgbImage::from_fn(64, 64, |x, y| {
                if (x + y) % 2 == 0 {
                    Rgb([255; 3])
                } else {
                    Rgb([0; 3])
                }
            }),
        ),
        (
            "half_black_half_white",
            RgbImage::from_fn(
                64,
                64,
                |x, _| if x < 32 { Rgb([0; 3]) } else { Rgb([255; 3]) },
            ),
        ),
        (
            "dark_skin",
            RgbImage::from_fn(64, 64, |x, y| {
                let p = skin_image(64, 64, 5).get_pixel(x, y).0;
                Rgb(p.map(|v| v / 8))
            }),
        ),
    ];
    for (label, img) in exposures {
        let img = DynamicImage::ImageRgb8(img);
        c.add(
            label,
            "png",
            encode(&img, ImageFormat::Png),
            ok_sized(64, 64),
        );
        c.add(
            label,
            "jpg",
            encode(&img, ImageFormat::Jpeg),
            ok_sized(64, 64),
        );
    }
    let grey16 = ImageBuffer::from_pixel(64, 64, Luma([32_768u16]));
    c.add(
        "uniform_grey16",
        "png",
        encode(&DynamicImage::ImageLuma16(grey16), ImageFormat::Png),
        ok_as("png", 16, "grey"),
    );
    let grey_alpha = ImageBuffer::from_pixel(64, 64, LumaA([128u8, 255]));
    c.add(
        "uniform_grey_alpha",
        "png",
        encode(&DynamicImage::ImageLumaA8(grey_alpha), ImageFormat::Png),
        ok_as("png", 8, "grey+alpha"),
    );
    c
}

#[test]
fn hostile_files_calibrated_and_uncalibrated() {
    let started = Instant::now();
    let corpus = file_corpus();
    let dir = tempfile::tempdir().unwrap();
    let n = run_corpus(
        &corpus,
        &dir.path().join("cal"),
        &["--roi", "full", "--px-per-mm", "20"],
        "roi full, 20 px/mm",
    );
    // The same files uncalibrated: every length-based metric empty with its reason.
    run_corpus(
        &corpus,
        &dir.path().join("uncal"),
        &["--roi", "full", "--jobs", "1"],
        "roi full, uncalibrated",
    );
    eprintln!(
        "{n} file cases x 2 runs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(n >= 150, "{n} file cases");
}

// ---------------------------------------------------------------------------------------------
// Manifests
// ---------------------------------------------------------------------------------------------

/// One manifest row: its cells (raw bytes; may be invalid UTF-8), the id it must get, the text
/// the error must name and the expected outcome.
struct Row {
    cells: Vec<Vec<u8>>,
    id: String,
    names: String,
    expect: Expect,
}

fn row(cells: &[&[u8]], id: &str, names: &str, expect: Expect) -> Row {
    Row {
        cells: cells.iter().map(|c| c.to_vec()).collect(),
        id: id.to_owned(),
        names: names.to_owned(),
        expect,
    }
}

/// Manifest bytes from a header and rows, with an optional BOM and CRLF line ends.
fn manifest_bytes(header: &str, rows: &[Row], bom: bool, crlf: bool) -> Vec<u8> {
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(eol);
    for r in rows {
        out.extend(r.cells.join(&b","[..]));
        out.extend_from_slice(eol);
    }
    out
}

fn run_manifest(manifest: &Path, rows: &[Row], args: &[&str], context: &str) {
    let mut all = vec!["--manifest", manifest.to_str().unwrap()];
    all.extend_from_slice(args);
    let run = run_analyze(&all, &manifest.parent().unwrap().join("out"));
    let expected: Vec<Expected<'_>> = rows
        .iter()
        .map(|r| Expected {
            id: r.id.clone(),
            file: r.names.clone(),
            expect: &r.expect,
        })
        .collect();
    check_run(&run, &expected, context);
}

#[test]
fn manifest_rows_with_bom_crlf_bad_utf8_duplicates_and_escapes() {
    let tmp = tempfile::tempdir().unwrap();
    let png = encode(&skin(40, 30, 1), ImageFormat::Png);
    let jpg = encode(&skin(40, 30, 2), ImageFormat::Jpeg);
    // A file outside the study folder, reachable as ../outside.png and by absolute path.
    std::fs::write(tmp.path().join("outside.png"), &png).unwrap();
    let elsewhere = tmp.path().join("outside.png");
    let mut cases = 0;
    for (bom, crlf) in [(false, false), (true, false), (false, true), (true, true)] {
        let study = tmp.path().join(format!("study_bom{bom}_crlf{crlf}"));
        std::fs::create_dir_all(study.join("sub")).unwrap();
        std::fs::write(study.join("good.png"), &png).unwrap();
        std::fs::write(study.join("sub/good2.jpg"), &jpg).unwrap();
        std::fs::write(study.join("empty.png"), b"").unwrap();
        let inside_abs = study.join("good.png");
        let inside_abs = inside_abs.to_str().unwrap().as_bytes();
        let line = |n: usize| format!("manifest line {n}");
        let rows = vec![
            row(&[b"good.png", b"A", b"S1", b"20"], "A", "good.png", ok()),
            row(
                &[b"sub/good2.jpg", b"B", b"S1", b""],
                "B",
                "good2.jpg",
                ok(),
            ),
            row(
                &[b"sub/../good.png", b"C", b"S2", b"20"],
                "C",
                "good.png",
                ok(),
            ),
            row(&[inside_abs, b"D", b"S2", b"20"], "D", "good.png", ok()),
            row(
                &[b"missing.png", b"E", b"S3", b"20"],
                "E",
                "missing.png",
                Expect::Error("cannot read file"),
            ),
            row(
                &[b"../outside.png", b"F", b"S3", b"20"],
                "F",
                &line(7),
                Expect::Error("outside the manifest's folder"),
            ),
            row(
                &[elsewhere.to_str().unwrap().as_bytes(), b"G", b"S3", b"20"],
                "G",
                &line(8),
                Expect::Error("outside the manifest's folder"),
            ),
            row(
                &[b"good.png", b"H", b"S\xFF\xFE4", b"20"],
                "H",
                &line(9),
                Expect::Error("column `subject` is not valid UTF-8"),
            ),
            row(
                &[b"go\xC3\x28od.png", b"I", b"S4", b"20"],
                "I",
                &line(10),
                Expect::Error("column `path` is not valid UTF-8"),
            ),
            row(
                &[b"sub/good2.jpg", b"A", b"S5", b"20"],
                "A",
                "duplicate image_id `A`",
                Expect::Error("good.png"),
            ),
            row(
                &[b"good.png", b"K"],
                "K",
                &line(12),
                Expect::Error("has 2 fields, the header has 4"),
            ),
            row(
                &[b"", b"L", b"S6", b"20"],
                "L",
                &line(13),
                Expect::Error("column `path` is empty"),
            ),
            row(
                &[b"good.png", b"M", b"S6", b"abc"],
                "M",
                &line(14),
                Expect::Error("`px_per_mm`: `abc` is not a positive number"),
            ),
            row(
                &[b"empty.png", b"N", b"S6", b"20"],
                "N",
                "empty.png",
                Expect::Error("empty file"),
            ),
            row(
                &[b"sub", b"O", b"S6", b"20"],
                "O",
                "sub",
                Expect::Error("cannot read file"),
            ),
            row(
                &[b"\"good.png\"", b"\"P, quoted\"", b"\"S \"\"7\"\"\"", b"20"],
                "P, quoted",
                "good.png",
                ok(),
            ),
        ];
        let manifest = study.join("manifest.csv");
        std::fs::write(
            &manifest,
            manifest_bytes("path,image_id,subject,px_per_mm", &rows, bom, crlf),
        )
        .unwrap();
        run_manifest(
            &manifest,
            &rows,
            &["--roi", "full"],
            &format!("manifest bom={bom} crlf={crlf}"),
        );
        // Carried values survive BOM and CRLF unchanged (no stray \r or BOM in a cell).
        let (h, r) = read_csv(&study.join("out/images.csv"));
        assert_eq!(h[0], "image_id", "BOM stripped from the header");
        assert_eq!(cell(&h, &r[0], "subject"), "S1");
        assert_eq!(cell(&h, &r[15], "subject"), "S \"7\"");
        cases += rows.len();
    }
    assert!(cases >= 60);
}

#[test]
fn unusable_manifests_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let bad: [(&str, &[u8], &str); 7] = [
        ("empty", b"", "manifest"),
        ("bom_only", b"\xEF\xBB\xBF", "manifest"),
        ("header_only", b"path,subject\r\n", "no rows"),
        (
            "no_path_column",
            b"file,subject\na.png,S1\n",
            "no `path` column",
        ),
        (
            "duplicate_column",
            b"path,subject,subject\na.png,S1,S2\n",
            "appears twice",
        ),
        (
            "bad_utf8_header",
            b"path,sub\xFFject\na.png,S1\n",
            "not valid UTF-8",
        ),
        (
            "reserved_column",
            b"path,zone\na.png,x\n",
            "clashes with an output column",
        ),
    ];
    for (label, bytes, reason) in bad {
        let m = tmp.path().join(format!("{label}.csv"));
        std::fs::write(&m, bytes).unwrap();
        let out = tmp.path().join(format!("out_{label}"));
        let run = run_analyze(&["--manifest", m.to_str().unwrap(), "--roi", "full"], &out);
        assert_eq!(run.code, 2, "{label}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{label}: {}", run.stderr);
        assert!(
            run.stderr.contains(reason) && run.stderr.contains(&format!("{label}.csv")),
            "{label}: stderr names the manifest and `{reason}`: {}",
            run.stderr
        );
    }
    let run = run_analyze(
        &["--manifest", tmp.path().join("nope.csv").to_str().unwrap()],
        &tmp.path().join("out_missing"),
    );
    assert_eq!(run.code, 2, "missing manifest: {}", run.stderr);
    assert!(run.stderr.contains("nope.csv"), "{}", run.stderr);
}

/// Images narrower or shorter than the GLCM distance (glcm_distance_mm x px/mm), per-row
/// calibration from a manifest. Regression test: `cooccurrence_counts` once indexed out of
/// bounds when the GLCM offset was wider than the image.
#[test]
fn images_thinner_than_the_glcm_distance() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    for (w, h, ppm) in [
        (1u32, 300u32, "20"),
        (300, 1, "20"),
        (1, 1000, "20"),
        (5, 200, "100"),
        (200, 5, "100"),
        (9, 120, "100"),
        (2, 400, "30"),
    ] {
        let name = format!("thin_{w}x{h}_{ppm}.png");
        std::fs::write(
            tmp.path().join(&name),
            encode(&skin(w, h, w * h), ImageFormat::Png),
        )
        .unwrap();
        let id = name.trim_end_matches(".png").to_owned();
        rows.push(Row {
            cells: vec![name.clone().into_bytes(), ppm.as_bytes().to_vec()],
            id,
            names: name,
            expect: ok_sized(w, h),
        });
    }
    let manifest = tmp.path().join("m.csv");
    std::fs::write(
        &manifest,
        manifest_bytes("path,px_per_mm", &rows, false, false),
    )
    .unwrap();
    run_manifest(&manifest, &rows, &["--roi", "full"], "thin images");
}

// ---------------------------------------------------------------------------------------------
// Face ROI
// ---------------------------------------------------------------------------------------------

#[test]
fn face_roi_on_faces_non_faces_and_degenerate_images() {
    let tmp = tempfile::tempdir().unwrap();
    let portrait = astronaut();
    let (pw, ph) = portrait.dimensions();
    // Two copies of the head and shoulders side by side (the face about 150 px wide in each).
    let head = image::imageops::crop_imm(&portrait, 100, 0, 256, 300).to_image();
    let mut two = RgbImage::new(512, 300);
    image::imageops::replace(&mut two, &head, 0, 0);
    image::imageops::replace(&mut two, &head, 256, 0);
    let mut c = Corpus::new();
    c.add(
        "one_face",
        "png",
        encode(&DynamicImage::ImageRgb8(portrait.clone()), ImageFormat::Png),
        ok_sized(pw, ph),
    );
    c.add(
        "two_faces",
        "png",
        encode(&DynamicImage::ImageRgb8(two), ImageFormat::Png),
        ok_sized(512, 300),
    );
    let rotated = image::imageops::rotate90(&portrait);
    c.add(
        "face_exif_6",
        "jpg",
        jpeg_with_orientation(&image::imageops::rotate270(&rotated), 6),
        ok_sized(ph, pw),
    );
    let no_face = "no face found";
    c.add(
        "close_up",
        "png",
        encode(&skin(300, 300, 3), ImageFormat::Png),
        Expect::Error(no_face),
    );
    for (label, v) in [("grey", 128u8), ("black", 0), ("white", 255)] {
        c.add(
            label,
            "png",
            encode(
                &DynamicImage::ImageRgb8(RgbImage::from_pixel(200, 150, Rgb([v; 3]))),
                ImageFormat::Png,
            ),
            Expect::Error(no_face),
        );
    }
    for (w, h) in [(1u32, 1u32), (3, 7), (1, 400), (400, 1)] {
        c.add(
            &format!("tiny_{w}x{h}"),
            "png",
            encode(&skin(w, h, 1), ImageFormat::Png),
            Expect::Error(no_face),
        );
    }
    c.add(
        "noise",
        "png",
        encode(
            &DynamicImage::ImageRgb8(noise_image(256, 256, 0, 255, 7)),
            ImageFormat::Png,
        ),
        Expect::Error(no_face),
    );
    c.add(
        "truncated",
        "png",
        Vec::from(&b"\x89PNG\r\n\x1a\n\0\0"[..]),
        Expect::Error("decode failed"),
    );
    run_corpus(&c, tmp.path(), &["--roi", "face"], "roi face");
    let (h, rows) = read_csv(&tmp.path().join("out/images.csv"));
    let faces = |i: usize| -> usize { cell(&h, &rows[i], "faces_found").parse().unwrap() };
    assert_eq!(faces(0), 1, "one face");
    assert!(
        faces(1) >= 2,
        "two faces side by side: faces_found = {}",
        faces(1)
    );
    assert_eq!(
        faces(2),
        1,
        "rotated portrait, upright after EXIF orientation 6"
    );
}

// ---------------------------------------------------------------------------------------------
// Decompression bombs under an address-space limit
// ---------------------------------------------------------------------------------------------

/// The bomb files are refused from their headers: the run succeeds (exit 1, one error row each)
/// with the process's address space capped at 1 GiB, far below what decoding any of them needs.
#[test]
#[cfg(target_os = "linux")]
fn decompression_bombs_are_refused_without_allocating() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let bombs: [(&str, Vec<u8>); 6] = [
        ("a_png_100000.png", png_bomb(100_000, 100_000, 8, 2)),
        ("b_png16_rgba.png", png_bomb(100_000, 100_000, 16, 6)),
        ("c_png_wide.png", png_bomb(2_000_000_000, 1, 8, 0)),
        ("d_tiff_100000.tif", tiff_bomb(100_000, 100_000)),
        ("e_tiff_tall.tif", tiff_bomb(1, 4_000_000_000)),
        ("f_jpeg_65535.jpg", jpeg_bomb(65_535, 65_535)),
    ];
    for (name, bytes) in &bombs {
        std::fs::write(input.join(name), bytes).unwrap();
    }
    let bin = assert_cmd::cargo::cargo_bin("skintex");
    let out = tmp.path().join("out");
    let script = format!(
        "ulimit -v 1048576 && exec '{}' analyze '{}' --roi full --no-qc -q --jobs 1 --out '{}'",
        bin.display(),
        input.display(),
        out.display()
    );
    let output = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("memory allocation"),
        "{stderr}"
    );
    let (h, rows) = read_csv(&out.join("images.csv"));
    assert_eq!(rows.len(), bombs.len());
    for (r, (name, _)) in rows.iter().zip(&bombs) {
        let error = cell(&h, r, "error");
        assert!(
            error.contains(name) && error.contains("input.max_megapixels"),
            "{name}: {error}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration ranges (issue 7 item 6)
// ---------------------------------------------------------------------------------------------

/// Every key printed by `skintex config --default` is range-checked: a value far above its
/// allowed maximum and (where representable) far below its minimum is a usage error (exit 2)
/// naming `section.key` and the allowed range.
#[test]
fn every_config_key_is_range_checked() {
    let output = skintex().args(["config", "--default"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    // (section, key, min, max, is_integer) from `# allowed: a ..= b` above `key = value`.
    let mut keys: Vec<(String, String, f64, f64, bool)> = Vec::new();
    let mut section = String::new();
    let mut allowed: Option<(f64, f64)> = None;
    for line in text.lines() {
        if let Some(s) = line.strip_prefix('[') {
            section = s.trim_end_matches(']').to_owned();
        } else if let Some(range) = line.strip_prefix("# allowed: ") {
            let (a, b) = range.split_once(" ..= ").expect("a ..= b");
            allowed = Some((a.parse().unwrap(), b.parse().unwrap()));
        } else if let Some((key, value)) = line.split_once(" = ")
            && !line.starts_with('#')
        {
            let (min, max) = allowed
                .take()
                .unwrap_or_else(|| panic!("{section}.{key} has no `# allowed:` line"));
            keys.push((
                section.clone(),
                key.to_owned(),
                min,
                max,
                !value.contains('.'),
            ));
        }
    }
    // Every key of the parsed TOML was found with its range.
    let parsed: toml::Table = toml::from_str(&text).unwrap();
    let n_toml: usize = parsed
        .values()
        .map(|t| t.as_table().map_or(0, toml::Table::len))
        .sum();
    assert_eq!(keys.len(), n_toml, "every key has an `# allowed:` comment");
    assert!(keys.len() >= 20, "{} keys", keys.len());

    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("a.png");
    std::fs::write(&img, encode(&skin(20, 20, 1), ImageFormat::Png)).unwrap();
    let mut checked = 0;
    for (section, key, min, max, integer) in &keys {
        let span = (max - min).abs().max(1.0);
        let mut values = vec![max + 10.0 * span];
        if !integer || *min >= 1.0 {
            values.push(if *integer { 0.0 } else { min - 10.0 * span });
        }
        if !integer {
            values.push(f64::NAN);
        }
        for v in values {
            let literal = if *integer {
                format!("{}", v as i64)
            } else if v.is_nan() {
                "nan".to_owned()
            } else {
                format!("{v:?}")
            };
            let cfg = tmp.path().join(format!("{section}_{key}.toml"));
            std::fs::write(&cfg, format!("[{section}]\n{key} = {literal}\n")).unwrap();
            let run = run_analyze(
                &[
                    img.to_str().unwrap(),
                    "--roi",
                    "full",
                    "--config",
                    cfg.to_str().unwrap(),
                ],
                &tmp.path().join("out"),
            );
            let range = format!("{min} ..= {max}");
            assert_eq!(
                run.code, 2,
                "{section}.{key} = {literal} accepted: {}",
                run.stderr
            );
            assert!(
                run.stderr.contains(&format!("{section}.{key}")) && run.stderr.contains(&range),
                "{section}.{key} = {literal}: message must name the key and `{range}`: {}",
                run.stderr
            );
            checked += 1;
        }
    }
    eprintln!("{} keys, {checked} out-of-range values refused", keys.len());
}
