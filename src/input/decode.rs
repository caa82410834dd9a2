//! Decoding under explicit limits, with the EXIF orientation applied.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// What the decoder reported about a file, before any analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// `jpeg`, `png` or `tiff`, from the file's content (not its name); `array` for pixels
    /// given in memory ([`pixels_image`]).
    pub format: &'static str,
    /// Width after orientation, px.
    pub width: u32,
    /// Height after orientation, px.
    pub height: u32,
    /// Bits per channel sample (8, 16 or 32 for float).
    pub bit_depth: u8,
    /// Channel layout as decoded: `grey`, `grey+alpha`, `rgb`, `rgba`.
    pub channels: &'static str,
    /// EXIF orientation tag 1..=8 (1 when absent).
    pub exif_orientation: u8,
    /// Pixels with a NaN or infinite sample (floating-point TIFF); excluded from every zone.
    pub invalid_px: u64,
}

/// A decoded photo, upright.
pub struct DecodedImage {
    pub info: ImageInfo,
    pub image: DynamicImage,
    /// For floating-point images with NaN or infinite samples: `true` where every sample of the
    /// pixel is finite. Those samples have been replaced by the mean of the channel's finite
    /// samples (so filters do not spread NaN), and the pixels must be left out of every zone.
    pub valid: Option<ndarray::Array2<bool>>,
}

/// Replace non-finite samples of a float image by the channel mean of its finite samples and
/// return the mask of pixels whose samples were all finite, or `None` when all were.
fn mask_nonfinite(image: &mut DynamicImage) -> Option<ndarray::Array2<bool>> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (samples, channels): (&mut [f32], usize) = match image {
        DynamicImage::ImageRgb32F(b) => (b.as_mut(), 3),
        DynamicImage::ImageRgba32F(b) => (b.as_mut(), 4),
        _ => return None,
    };
    if samples.iter().all(|v| v.is_finite()) {
        return None;
    }
    let mut valid = ndarray::Array2::from_elem((h, w), true);
    let mut sums = vec![(0.0f64, 0u64); channels];
    for (i, px) in samples.chunks_exact(channels).enumerate() {
        if px.iter().any(|v| !v.is_finite()) {
            valid[[i / w, i % w]] = false;
        }
        for (c, v) in px.iter().enumerate() {
            if v.is_finite() {
                sums[c].0 += f64::from(*v);
                sums[c].1 += 1;
            }
        }
    }
    let fill: Vec<f32> = sums
        .iter()
        .map(|&(s, n)| if n > 0 { (s / n as f64) as f32 } else { 0.0 })
        .collect();
    for px in samples.chunks_exact_mut(channels) {
        for (c, v) in px.iter_mut().enumerate() {
            if !v.is_finite() {
                *v = fill[c];
            }
        }
    }
    Some(valid)
}

/// Why a file could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("cannot read file: {0}")]
    Read(#[from] std::io::Error),
    #[error("empty file (0 bytes)")]
    Empty,
    #[error("not a JPEG, PNG or TIFF image (content not recognised)")]
    UnknownFormat,
    #[error("unsupported format {0:?}: skintex reads JPEG, PNG and TIFF")]
    UnsupportedFormat(ImageFormat),
    #[error(
        "image is {width}x{height} = {megapixels:.1} MP, above the limit of {limit} MP (config input.max_megapixels)"
    )]
    TooLarge {
        width: u32,
        height: u32,
        megapixels: f64,
        limit: f64,
    },
    #[error(
        "image cannot be decoded within the memory allowed for {limit} MP (config input.max_megapixels): {message}"
    )]
    MemoryLimit { limit: f64, message: String },
    #[error("image has zero width or height")]
    ZeroSize,
    #[error("{format} decode failed: {message}")]
    Decode {
        format: &'static str,
        message: String,
    },
}

fn format_name(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Jpeg => Some("jpeg"),
        ImageFormat::Png => Some("png"),
        ImageFormat::Tiff => Some("tiff"),
        _ => None,
    }
}

/// Read and decode a file.
///
/// # Errors
/// See [`DecodeError`]; every error names the reason, the caller adds the file.
pub fn decode_file(path: &Path, max_megapixels: f64) -> Result<DecodedImage, DecodeError> {
    let bytes = std::fs::read(path)?;
    decode_bytes(&bytes, max_megapixels)
}

/// Decode an in-memory file: detect the format from content, check the size before decoding,
/// decode under an allocation limit, and apply the EXIF orientation.
///
/// # Errors
/// See [`DecodeError`].
pub fn decode_bytes(bytes: &[u8], max_megapixels: f64) -> Result<DecodedImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(DecodeError::Read)?;
    let format = reader.format().ok_or(DecodeError::UnknownFormat)?;
    let name = format_name(format).ok_or(DecodeError::UnsupportedFormat(format))?;
    // A header declaring a size whose buffers exceed `max_alloc` (a decompression bomb) is
    // refused by the decoder itself, sometimes before the size check below can run.
    let decode_err = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => DecodeError::MemoryLimit {
            limit: max_megapixels,
            message: e.to_string(),
        },
        e => DecodeError::Decode {
            format: name,
            message: e.to_string(),
        },
    };

    let max_pixels = max_megapixels * 1e6;
    let mut limits = Limits::default();
    // Largest decoded buffer: 4 channels of f32 per pixel, plus slack for decoder scratch.
    limits.max_alloc = Some((max_pixels * 16.0 + 64.0 * 1024.0 * 1024.0) as u64);
    let mut reader = reader;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_err)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(DecodeError::ZeroSize);
    }
    let megapixels = f64::from(w) * f64::from(h) / 1e6;
    if megapixels > max_megapixels {
        return Err(DecodeError::TooLarge {
            width: w,
            height: h,
            megapixels,
            limit: max_megapixels,
        });
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let colour = decoder.color_type();
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_err)?;
    image.apply_orientation(orientation);
    Ok(upright_image(image, name, colour, orientation.to_exif()))
}

/// An image given as pixels rather than a file (e.g. a NumPy array from the Python package),
/// ready for the same analysis as a decoded file: `format` is `array`, the EXIF orientation 1,
/// integer samples are sRGB-encoded and floating-point samples linear light (see
/// [`super::colour`]); NaN and infinite samples are masked as for a floating-point TIFF.
pub fn pixels_image(image: DynamicImage) -> DecodedImage {
    let colour = image.color();
    upright_image(image, "array", colour, 1)
}

/// A decoded, upright image with its [`ImageInfo`]: `colour` is the sample layout as stored,
/// `exif_orientation` the tag that was applied. Non-finite float samples are masked.
fn upright_image(
    mut image: DynamicImage,
    format: &'static str,
    colour: image::ColorType,
    exif_orientation: u8,
) -> DecodedImage {
    let valid = mask_nonfinite(&mut image);
    let invalid_px = valid
        .as_ref()
        .map_or(0, |v| v.iter().filter(|&&b| !b).count() as u64);
    let bit_depth =
        u8::try_from(colour.bits_per_pixel() / u16::from(colour.channel_count())).unwrap_or(0);
    let channels = match (colour.has_color(), colour.has_alpha()) {
        (false, false) => "grey",
        (false, true) => "grey+alpha",
        (true, false) => "rgb",
        (true, true) => "rgba",
    };
    DecodedImage {
        info: ImageInfo {
            format,
            width: image.width(),
            height: image.height(),
            bit_depth,
            channels,
            exif_orientation,
            invalid_px,
        },
        image,
        valid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_text_files_are_refused() {
        assert!(matches!(decode_bytes(b"", 100.0), Err(DecodeError::Empty)));
        assert!(matches!(
            decode_bytes(b"hello, not an image", 100.0),
            Err(DecodeError::UnknownFormat)
        ));
    }

    #[test]
    fn nonfinite_float_samples_are_filled_and_masked() {
        let mut img = image::Rgb32FImage::from_pixel(4, 3, image::Rgb([0.5, 0.25, 0.125]));
        img.put_pixel(1, 2, image::Rgb([f32::NAN, 0.25, 0.125]));
        img.put_pixel(3, 0, image::Rgb([0.5, f32::INFINITY, 0.125]));
        let mut dynamic = DynamicImage::ImageRgb32F(img);
        let valid = mask_nonfinite(&mut dynamic).unwrap();
        assert_eq!(valid.iter().filter(|&&b| !b).count(), 2);
        assert!(!valid[[2, 1]] && !valid[[0, 3]] && valid[[0, 0]]);
        let filled = dynamic.as_rgb32f().unwrap();
        assert_eq!(filled.get_pixel(1, 2).0, [0.5, 0.25, 0.125]);
        assert_eq!(filled.get_pixel(3, 0).0, [0.5, 0.25, 0.125]);
        let mut clean = DynamicImage::ImageRgb32F(image::Rgb32FImage::new(2, 2));
        assert!(mask_nonfinite(&mut clean).is_none());
    }

    #[test]
    fn size_limit_is_checked_before_decoding() {
        let img = image::RgbImage::new(300, 200);
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let err = decode_bytes(&png, 0.05).err().unwrap();
        assert!(err.to_string().contains("300x200"), "{err}");
        let ok = decode_bytes(&png, 0.1).unwrap();
        assert_eq!(
            (ok.info.width, ok.info.height, ok.info.bit_depth),
            (300, 200, 8)
        );
        assert_eq!(ok.info.channels, "rgb");
    }
}
