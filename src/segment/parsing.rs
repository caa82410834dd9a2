//! Pluggable face parsing: a user-supplied semantic-segmentation ONNX model whose skin classes
//! restrict the face zones (`--segmentation-model SPEC.toml`).
//!
//! Any single-input face-parsing network works, for example BiSeNet or SegFormer trained on the
//! 19 CelebAMask-HQ labels, once described by a spec file:
//!
//! ```toml
//! name = "bisenet_celebamask"     # optional, for messages (default: the file stem)
//! file = "bisenet.onnx"           # path relative to the spec's folder
//! sha256 = "<64 hex digits>"      # checked before use; a mismatch is refused
//! input_size = [512, 512]         # [height, width] of the model input
//! layout = "NCHW"                 # input layout: "NCHW" ([1,3,h,w]) or "NHWC" ([1,h,w,3])
//! scale = 0.00392156862745098     # RGB multiplier before mean/std: 1/255 -> [0,1], 1 -> [0,255]
//! mean = [0.485, 0.456, 0.406]    # per RGB channel, in the scaled units
//! std = [0.229, 0.224, 0.225]
//! output_layout = "NCHW"          # logits [1,C,h',w'] ("NCHW") or [1,h',w',C] ("NHWC")
//! labels = ["background", "skin", "l_brow", ...]   # index = class id; C = labels.len()
//! skin_labels = ["skin", "nose"]  # labels that count as skin
//! crop = "face"                   # optional: "face" (default) or "image"
//! crop_scale = 2.0                # optional: face crop side / detection box side (1..10)
//! ```
//!
//! Unknown keys are refused (so typos are caught). At load, the model's declared input shape must
//! equal the one implied by `layout` and `input_size` (dynamic dimensions accept any size), and
//! its first output must be rank 4 with `labels.len()` classes where `output_layout` puts them.
//!
//! Inference, for each image:
//!
//! 1. Region. `crop = "face"`: a square centred on the face detection box with side
//!    `crop_scale * max(box width, box height)`, so the whole head with some context is seen, as
//!    in the aligned CelebAMask-HQ training crops. `crop = "image"`: the whole image. The region
//!    may extend past the image; those pixels are black.
//! 2. Resize to `input_size` (aspect not preserved, a non-square input stretches the region):
//!    each input cell is the mean of the image pixels whose centres fall in it (area average,
//!    no aliasing when shrinking); when a cell is smaller than a pixel (enlarging), bilinear
//!    interpolation at the cell centre.
//! 3. Normalise each RGB channel `c` of an 8-bit value `v`:
//!
//!    ```text
//!    x_c = (v * scale - mean_c) / std_c
//!    ```
//!
//! 4. Run; `class(i, j) = argmax_c logit(c, i, j)` (ties go to the lower class id; NaN logits
//!    never win). The output grid may be smaller than the input (e.g. SegFormer's 1/4).
//! 5. Map back at full resolution by nearest neighbour: pixel `(x, y)` inside the region takes
//!    the class of output cell `(floor((y + 0.5 - y0) / H_r * h'), floor((x + 0.5 - x0) / W_r *
//!    w'))`, with `(x0, y0)` the region origin and `W_r x H_r` its size. Skin = the class is one of
//!    `skin_labels`; pixels outside the region are not skin.
//! 6. [`restrict_zones`] intersects every zone with the skin mask and shrinks its bounding box.
//!
//! Limits: the result is only as good as the model on the photo at hand; CelebAMask-HQ models
//! expect frontal faces filling most of the frame, which `crop_scale` approximates. The model runs
//! on the process runtime (see [`crate::segment::face::runtime`]), so it is subject to the
//! one-runtime-per-process rule.

use std::path::{Path, PathBuf};

use image::RgbImage;
use ndarray::Array2;
use serde::Deserialize;

use crate::digest::sha256_hex;
use crate::segment::face::runtime::{ModelError, OnnxModel, Runtime};
use crate::segment::{Mask, Zone};

/// Tensor layout of the model input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Layout {
    /// Channels first: `[1, C, h, w]`.
    #[serde(rename = "NCHW")]
    Nchw,
    /// Channels last: `[1, h, w, C]`.
    #[serde(rename = "NHWC")]
    Nhwc,
}

impl Layout {
    /// The rank-4 shape of `channels` x `h` x `w` in this layout.
    fn shape(self, channels: usize, h: usize, w: usize) -> [usize; 4] {
        match self {
            Layout::Nchw => [1, channels, h, w],
            Layout::Nhwc => [1, h, w, channels],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Layout::Nchw => "NCHW",
            Layout::Nhwc => "NHWC",
        }
    }
}

/// Which part of the image the parsing model sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CropMode {
    /// A square around the face detection box, `crop_scale` times its longer side.
    #[default]
    Face,
    /// The whole image.
    Image,
}

/// A problem with a segmentation spec or its model. Every message names the spec or model file.
#[derive(Debug, thiserror::Error)]
pub enum SegmentationError {
    #[error("segmentation spec {path}: cannot read: {message}")]
    Read { path: String, message: String },
    #[error("segmentation spec {path}: {message}")]
    Spec { path: String, message: String },
    #[error(transparent)]
    Model(#[from] ModelError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: Option<String>,
    file: String,
    sha256: String,
    input_size: [usize; 2],
    layout: Layout,
    scale: f32,
    mean: [f32; 3],
    std: [f32; 3],
    output_layout: Layout,
    labels: Vec<String>,
    skin_labels: Vec<String>,
    #[serde(default)]
    crop: CropMode,
    crop_scale: Option<f64>,
}

/// A validated segmentation spec (see the module doc for the file format).
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentationSpec {
    /// Model name for messages (the `name` key, else the model file stem).
    pub name: String,
    /// The model file, resolved against the spec's folder.
    pub model_path: PathBuf,
    /// Expected lower-case sha256 of the model file.
    pub sha256: String,
    /// Model input height and width, px.
    pub input_size: [usize; 2],
    pub layout: Layout,
    pub scale: f32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub output_layout: Layout,
    /// Class names, index = class id.
    pub labels: Vec<String>,
    /// Per class id: counts as skin.
    pub skin_classes: Vec<bool>,
    pub crop: CropMode,
    /// Face crop side / detection box side.
    pub crop_scale: f64,
}

/// Default face crop side relative to the detection box's longer side.
pub const DEFAULT_CROP_SCALE: f64 = 2.0;

impl SegmentationSpec {
    /// Read and validate the spec at `path`.
    ///
    /// # Errors
    /// [`SegmentationError::Read`] or [`SegmentationError::Spec`] naming the file and the key.
    pub fn from_file(path: &Path) -> Result<Self, SegmentationError> {
        let text = std::fs::read_to_string(path).map_err(|e| SegmentationError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml(&text, path)
    }

    /// Parse spec `text`; `spec_path` names it in messages and its folder resolves `file`.
    ///
    /// # Errors
    /// [`SegmentationError::Spec`] naming the file and the missing, unknown or invalid key.
    pub fn from_toml(text: &str, spec_path: &Path) -> Result<Self, SegmentationError> {
        let fail = |message: String| SegmentationError::Spec {
            path: spec_path.display().to_string(),
            message,
        };
        let raw: RawSpec = toml::from_str(text).map_err(|e| {
            // A missing field's span is the whole document: no line to show then.
            let at = e.span().filter(|span| span.start > 0).map(|span| {
                let line = text[..span.start.min(text.len())].matches('\n').count();
                let shown = text.lines().nth(line).unwrap_or("").trim();
                format!(" (line {}: `{shown}`)", line + 1)
            });
            fail(format!(
                "{}{}",
                e.message().trim_end(),
                at.unwrap_or_default()
            ))
        })?;
        let [h, w] = raw.input_size;
        if !(1..=8192).contains(&h) || !(1..=8192).contains(&w) {
            return Err(fail(format!(
                "input_size must be [height, width] in 1..=8192, got [{h}, {w}]"
            )));
        }
        if !(raw.scale.is_finite() && raw.scale > 0.0) {
            return Err(fail(format!(
                "scale must be a positive number (1/255 for [0,1] input, 1 for [0,255]), got {}",
                raw.scale
            )));
        }
        if raw.mean.iter().any(|m| !m.is_finite()) {
            return Err(fail(format!("mean must be finite, got {:?}", raw.mean)));
        }
        if raw.std.iter().any(|s| !(s.is_finite() && *s != 0.0)) {
            return Err(fail(format!(
                "std must be finite and non-zero, got {:?}",
                raw.std
            )));
        }
        if raw.labels.is_empty() || raw.labels.len() > 256 {
            return Err(fail(format!(
                "labels must list 1 to 256 class names, got {}",
                raw.labels.len()
            )));
        }
        for (i, l) in raw.labels.iter().enumerate() {
            if raw.labels[..i].contains(l) {
                return Err(fail(format!("label `{l}` is listed twice")));
            }
        }
        if raw.skin_labels.is_empty() {
            return Err(fail("skin_labels must name at least one label".into()));
        }
        let mut skin_classes = vec![false; raw.labels.len()];
        for s in &raw.skin_labels {
            let Some(i) = raw.labels.iter().position(|l| l == s) else {
                return Err(fail(format!(
                    "skin label `{s}` is not in labels {:?}",
                    raw.labels
                )));
            };
            skin_classes[i] = true;
        }
        let sha256 = raw.sha256.to_ascii_lowercase();
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fail(format!(
                "sha256 must be 64 hex digits, got `{}`",
                raw.sha256
            )));
        }
        let crop_scale = raw.crop_scale.unwrap_or(DEFAULT_CROP_SCALE);
        if !(crop_scale.is_finite() && (1.0..=10.0).contains(&crop_scale)) {
            return Err(fail(format!(
                "crop_scale must be in 1..=10, got {crop_scale}"
            )));
        }
        let model_path = spec_path
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join(&raw.file);
        let name = raw.name.unwrap_or_else(|| {
            model_path
                .file_stem()
                .map_or_else(|| raw.file.clone(), |s| s.to_string_lossy().into_owned())
        });
        Ok(Self {
            name,
            model_path,
            sha256,
            input_size: raw.input_size,
            layout: raw.layout,
            scale: raw.scale,
            mean: raw.mean,
            std: raw.std,
            output_layout: raw.output_layout,
            labels: raw.labels,
            skin_classes,
            crop: raw.crop,
            crop_scale,
        })
    }
}

/// A loaded, checked face-parsing model.
#[derive(Debug)]
pub struct SegmentationModel {
    spec: SegmentationSpec,
    model: OnnxModel,
}

/// The result of one parsing run.
#[derive(Debug, Clone)]
pub struct Parsing {
    /// The region the model saw, `[x0, y0, x1, y1]` in image px (may extend past the image).
    pub region: [f64; 4],
    /// Class id per output cell, `(h', w')`.
    pub classes: Array2<u8>,
    /// Skin pixels at full image resolution, over the region clipped to the image.
    pub skin: Mask,
}

impl Parsing {
    /// Class id of image pixel `(x, y)`, `None` outside the region.
    pub fn class_at(&self, x: usize, y: usize) -> Option<u8> {
        let (oh, ow) = self.classes.dim();
        let [x0, y0, x1, y1] = self.region;
        let u = (x as f64 + 0.5 - x0) / (x1 - x0);
        let v = (y as f64 + 0.5 - y0) / (y1 - y0);
        if !((0.0..1.0).contains(&u) && (0.0..1.0).contains(&v)) {
            return None;
        }
        let col = ((u * ow as f64) as usize).min(ow - 1);
        let row = ((v * oh as f64) as usize).min(oh - 1);
        Some(self.classes[[row, col]])
    }
}

impl SegmentationModel {
    /// Read the spec at `spec_path`, check the model's sha256, load it on `runtime` and check
    /// its input and output shapes against the spec.
    ///
    /// # Errors
    /// Spec errors; [`ModelError::ChecksumMismatch`] naming the model path, expected and actual
    /// sha256; [`ModelError::Contract`] when a shape disagrees with the spec; runtime errors.
    pub fn load(spec_path: &Path, runtime: &Runtime) -> Result<Self, SegmentationError> {
        Self::from_spec(SegmentationSpec::from_file(spec_path)?, runtime)
    }

    /// [`SegmentationModel::load`] from an already parsed spec.
    ///
    /// # Errors
    /// As [`SegmentationModel::load`].
    pub fn from_spec(spec: SegmentationSpec, runtime: &Runtime) -> Result<Self, SegmentationError> {
        let shown = spec.model_path.display().to_string();
        let bytes = std::fs::read(&spec.model_path).map_err(|e| ModelError::Contract {
            path: shown.clone(),
            message: format!("cannot read the model file: {e}"),
        })?;
        let actual = sha256_hex(&bytes);
        if actual != spec.sha256 {
            return Err(ModelError::ChecksumMismatch {
                path: shown,
                expected: spec.sha256.clone(),
                actual,
            }
            .into());
        }
        let model = OnnxModel::load(runtime, &shown, bytes)?;
        check_shapes(&spec, &model)?;
        Ok(Self { spec, model })
    }

    /// The validated spec.
    pub fn spec(&self) -> &SegmentationSpec {
        &self.spec
    }

    /// `(name, file, sha256)` for `run.json`: name `segmentation`, the model file path.
    pub fn model_record(&self) -> (String, String, String) {
        (
            "segmentation".to_owned(),
            self.spec.model_path.display().to_string(),
            self.spec.sha256.clone(),
        )
    }

    /// The region the model sees for an image of `width` x `height` with face detection box
    /// `face_box` (`[x0, y0, x1, y1]`); see the module doc. The box is ignored under
    /// `crop = "image"`.
    pub fn region(&self, width: usize, height: usize, face_box: [f64; 4]) -> [f64; 4] {
        match self.spec.crop {
            CropMode::Image => [0.0, 0.0, width as f64, height as f64],
            CropMode::Face => {
                let [bx0, by0, bx1, by1] = face_box;
                let (cx, cy) = ((bx0 + bx1) / 2.0, (by0 + by1) / 2.0);
                let half = self.spec.crop_scale * (bx1 - bx0).max(by1 - by0).max(1.0) / 2.0;
                [cx - half, cy - half, cx + half, cy + half]
            }
        }
    }

    /// Run the model on `region` (`[x0, y0, x1, y1]`, image px, `x1 > x0`, `y1 > y0`) of `image`.
    ///
    /// # Errors
    /// [`ModelError::Inference`] when the runtime fails or the output shape disagrees with the
    /// spec; [`ModelError::Contract`] for an empty image or region.
    pub fn parse(&self, image: &RgbImage, region: [f64; 4]) -> Result<Parsing, ModelError> {
        let path = self.model.path().to_owned();
        let (w, h) = (image.width() as usize, image.height() as usize);
        let [x0, y0, x1, y1] = region;
        if w == 0 || h == 0 || !(x1 - x0 > 0.0 && y1 - y0 > 0.0) || !(x0 + y0 + x1 + y1).is_finite()
        {
            return Err(ModelError::Contract {
                path,
                message: format!("empty image ({w}x{h}) or region {region:?}"),
            });
        }
        let [ih, iw] = self.spec.input_size;
        let rgb = resample_region(image, region, ih, iw);
        let input = self.normalised_input(&rgb, ih, iw);
        let shape = self.spec.layout.shape(3, ih, iw);
        let (dims, logits) = self.model.run(&shape, input)?;
        let n = self.spec.labels.len();
        let (oh, ow) = match (self.spec.output_layout, dims.as_slice()) {
            (Layout::Nchw, &[1, c, oh, ow]) | (Layout::Nhwc, &[1, oh, ow, c])
                if c == n && oh > 0 && ow > 0 =>
            {
                (oh, ow)
            }
            _ => {
                return Err(ModelError::Inference {
                    path,
                    message: format!(
                        "output has shape {dims:?}; spec output_layout {} with {n} labels expects {}",
                        self.spec.output_layout.name(),
                        self.spec.output_layout.name().replace('C', &n.to_string())
                    ),
                });
            }
        };
        let classes = argmax_classes(&logits, self.spec.output_layout, n, oh, ow);
        let mut parsing = Parsing {
            region,
            classes,
            skin: Mask {
                x0: 0,
                y0: 0,
                bits: Array2::from_elem((0, 0), false),
            },
        };
        // Region clipped to the image (pixel centres inside the region).
        let cx0 = ((x0 - 0.5).ceil().max(0.0) as usize).min(w);
        let cy0 = ((y0 - 0.5).ceil().max(0.0) as usize).min(h);
        let cx1 = ((x1 - 0.5).ceil().max(0.0) as usize).min(w).max(cx0);
        let cy1 = ((y1 - 0.5).ceil().max(0.0) as usize).min(h).max(cy0);
        let bits = Array2::from_shape_fn((cy1 - cy0, cx1 - cx0), |(r, c)| {
            parsing
                .class_at(cx0 + c, cy0 + r)
                .is_some_and(|k| self.spec.skin_classes[k as usize])
        });
        parsing.skin = Mask {
            x0: cx0,
            y0: cy0,
            bits,
        };
        Ok(parsing)
    }

    /// The skin mask of the face whose detection box is `face_box` (see [`Self::region`]).
    ///
    /// # Errors
    /// As [`SegmentationModel::parse`].
    pub fn face_skin_mask(&self, image: &RgbImage, face_box: [f64; 4]) -> Result<Mask, ModelError> {
        let region = self.region(image.width() as usize, image.height() as usize, face_box);
        Ok(self.parse(image, region)?.skin)
    }

    /// `x_c = (v * scale - mean_c) / std_c` in the spec's input layout.
    fn normalised_input(&self, rgb: &[[f32; 3]], ih: usize, iw: usize) -> Vec<f32> {
        let s = &self.spec;
        let norm = |v: f32, c: usize| (v * s.scale - s.mean[c]) / s.std[c];
        let mut out = vec![0.0f32; 3 * ih * iw];
        for (k, px) in rgb.iter().enumerate() {
            for (c, &v) in px.iter().enumerate() {
                let at = match s.layout {
                    Layout::Nchw => c * ih * iw + k,
                    Layout::Nhwc => k * 3 + c,
                };
                out[at] = norm(v, c);
            }
        }
        out
    }
}

/// Check the model's declared input and output shapes against the spec.
fn check_shapes(spec: &SegmentationSpec, model: &OnnxModel) -> Result<(), ModelError> {
    let fail = |message: String| ModelError::Contract {
        path: model.path().to_owned(),
        message,
    };
    let fits = |got: &[i64], want: &[Option<usize>]| {
        got.len() == want.len()
            && got
                .iter()
                .zip(want)
                .all(|(&g, w)| g < 0 || w.is_none_or(|w| g == w as i64))
    };
    let [ih, iw] = spec.input_size;
    let want_in = spec.layout.shape(3, ih, iw);
    let got_in = model.input_shape().unwrap_or(&[]);
    if !fits(got_in, &want_in.map(Some)) {
        return Err(fail(format!(
            "input has shape {got_in:?}; spec layout {} with input_size [{ih}, {iw}] expects {want_in:?}",
            spec.layout.name()
        )));
    }
    let n = spec.labels.len();
    let want_out: [Option<usize>; 4] = match spec.output_layout {
        Layout::Nchw => [Some(1), Some(n), None, None],
        Layout::Nhwc => [Some(1), None, None, Some(n)],
    };
    let got_out = model.output_shape().unwrap_or(&[]);
    if !fits(got_out, &want_out) {
        return Err(fail(format!(
            "output has shape {got_out:?}; spec output_layout {} with {n} labels expects {}",
            spec.output_layout.name(),
            match spec.output_layout {
                Layout::Nchw => format!("[1, {n}, h, w]"),
                Layout::Nhwc => format!("[1, h, w, {n}]"),
            }
        )));
    }
    Ok(())
}

/// Resample `region` of `image` to `ih` x `iw` RGB cells (8-bit scale, row-major): area average
/// of the pixel centres in each cell, bilinear at the cell centre when no centre falls in it.
/// Pixels outside the image are black.
fn resample_region(image: &RgbImage, region: [f64; 4], ih: usize, iw: usize) -> Vec<[f32; 3]> {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let [x0, y0, x1, y1] = region;
    let (cw, ch) = ((x1 - x0) / iw as f64, (y1 - y0) / ih as f64);
    let get = |x: i64, y: i64| -> [f32; 3] {
        if x < 0 || y < 0 || x >= w || y >= h {
            [0.0; 3]
        } else {
            image.get_pixel(x as u32, y as u32).0.map(f32::from)
        }
    };
    // Pixels p whose centre p + 0.5 lies in [a, b): p in ceil(a - 0.5) .. ceil(b - 0.5).
    let span = |a: f64, b: f64| ((a - 0.5).ceil() as i64, (b - 0.5).ceil() as i64);
    let bilinear = |x: f64, y: f64| -> [f32; 3] {
        let (fx, fy) = (x - 0.5, y - 0.5);
        let (px, py) = (fx.floor(), fy.floor());
        let (tx, ty) = ((fx - px) as f32, (fy - py) as f32);
        let (px, py) = (px as i64, py as i64);
        let (a, b, c, d) = (
            get(px, py),
            get(px + 1, py),
            get(px, py + 1),
            get(px + 1, py + 1),
        );
        std::array::from_fn(|k| {
            (a[k] * (1.0 - tx) + b[k] * tx) * (1.0 - ty) + (c[k] * (1.0 - tx) + d[k] * tx) * ty
        })
    };
    let mut out = Vec::with_capacity(ih * iw);
    for i in 0..ih {
        let (sy0, sy1) = (y0 + i as f64 * ch, y0 + (i + 1) as f64 * ch);
        let (r0, r1) = span(sy0, sy1);
        for j in 0..iw {
            let (sx0, sx1) = (x0 + j as f64 * cw, x0 + (j + 1) as f64 * cw);
            let (c0, c1) = span(sx0, sx1);
            let count = (r1 - r0).max(0) * (c1 - c0).max(0);
            if count == 0 {
                out.push(bilinear((sx0 + sx1) / 2.0, (sy0 + sy1) / 2.0));
                continue;
            }
            let mut sum = [0.0f64; 3];
            for y in r0..r1 {
                for x in c0..c1 {
                    let p = get(x, y);
                    for k in 0..3 {
                        sum[k] += f64::from(p[k]);
                    }
                }
            }
            out.push(sum.map(|s| (s / count as f64) as f32));
        }
    }
    out
}

/// Per output cell, the class with the largest logit (ties: lower id; NaN never wins).
fn argmax_classes(logits: &[f32], layout: Layout, n: usize, oh: usize, ow: usize) -> Array2<u8> {
    Array2::from_shape_fn((oh, ow), |(r, c)| {
        let mut best = (0u8, f32::NEG_INFINITY);
        for k in 0..n {
            let v = match layout {
                Layout::Nchw => logits[(k * oh + r) * ow + c],
                Layout::Nhwc => logits[(r * ow + c) * n + k],
            };
            if v > best.1 {
                best = (k as u8, v);
            }
        }
        best.0
    })
}

/// Intersect every zone with `skin` (image px) and shrink each zone's box to its pixels (an
/// empty zone keeps its origin with a 0 x 0 box).
pub fn restrict_zones(zones: &mut [Zone], skin: &Mask) {
    let inside = |x: usize, y: usize| {
        x >= skin.x0
            && y >= skin.y0
            && skin
                .bits
                .get((y - skin.y0, x - skin.x0))
                .copied()
                .unwrap_or(false)
    };
    for zone in zones {
        let m = &zone.mask;
        let bits = Array2::from_shape_fn(m.bits.dim(), |(r, c)| {
            m.bits[[r, c]] && inside(m.x0 + c, m.y0 + r)
        });
        zone.mask = Mask::tight(bits.view(), m.x0, m.y0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restrict_zones_intersects_and_shrinks_the_box() {
        let mut zones = vec![Zone {
            name: "z".into(),
            mask: Mask::full(10, 8),
        }];
        // Skin: columns 4..7 of rows 2..5, stored over a box at (3, 1).
        let skin = Mask {
            x0: 3,
            y0: 1,
            bits: Array2::from_shape_fn((6, 6), |(r, c)| {
                (1..4).contains(&r) && (1..4).contains(&c)
            }),
        };
        restrict_zones(&mut zones, &skin);
        let m = &zones[0].mask;
        assert_eq!((m.x0, m.y0, m.width(), m.height()), (4, 2, 3, 3));
        assert_eq!(m.area_px(), 9);
    }

    #[test]
    fn argmax_reads_both_layouts_and_breaks_ties_low() {
        // 2 classes, 1 x 2 grid: cell 0 -> class 1, cell 1 tie -> class 0.
        let nchw = [0.0, 1.0, 2.0, 1.0];
        let nhwc = [0.0, 2.0, 1.0, 1.0];
        let a = argmax_classes(&nchw, Layout::Nchw, 2, 1, 2);
        let b = argmax_classes(&nhwc, Layout::Nhwc, 2, 1, 2);
        assert_eq!(a.as_slice().unwrap(), &[1, 0]);
        assert_eq!(b, a);
    }

    #[test]
    fn resample_averages_when_shrinking() {
        let img = RgbImage::from_fn(4, 2, |x, _| image::Rgb([(x * 10) as u8, 0, 0]));
        let out = resample_region(&img, [0.0, 0.0, 4.0, 2.0], 1, 2);
        assert_eq!(out[0][0], 5.0);
        assert_eq!(out[1][0], 25.0);
    }
}
