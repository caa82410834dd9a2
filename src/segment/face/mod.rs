//! Face segmentation: face detection, 468-point face mesh, anatomical zones, skin refinement and
//! iris calibration, from MediaPipe 0.10.14 models converted to ONNX (`models/README.md`).
//!
//! Pipeline of [`segment_face`]:
//!
//! 1. [`detector`]: BlazeFace on the whole image letterboxed to 128 x 128 (block-averaged first
//!    when the image is larger, so a 24 MP photo neither aliases nor costs more than one pass),
//!    in the four 90-degree orientations; the orientation with the best score wins. When that
//!    finds no face of 0.15 of the long side or more, overlapping tiles at one or two finer scales find faces down to
//!    `face.min_face_fraction` of the long side (group photos, faces far from the camera).
//!    Several faces: the largest box the mesh confirms is analysed (a detection whose mesh
//!    face presence is below `min_face_presence` is passed over, at most [`MESH_TRIES`] are
//!    tried) and `faces_found` counts them all, less those the mesh rejected.
//! 2. [`mesh`]: a square crop (1.5 x the box, rotated to level the eyes) sampled at 192 x 192
//!    from the full-resolution image, 468 landmarks mapped back to image px; then
//!    `mesh_refine_passes` more passes on a crop re-derived from the landmarks.
//! 3. [`iris`]: both eyes cropped at 64 x 64, iris diameters, px/mm from the 11.7 mm HVID.
//! 4. [`zones`]: nine zones from rules on the landmarks, features excluded with a margin.
//! 5. [`skin`]: a robust L*a*b* skin model from the cheeks and nose removes non-skin pixels.
//!
//! The models run through [`runtime::FaceModels`], the one place that picks the runtime.

pub mod crop;
pub mod detector;
pub mod iris;
pub mod mesh;
pub mod runtime;
pub mod skin;
pub mod zones;

use image::RgbImage;
use ndarray::Array2;

use crate::config::FaceParams;
use crate::input::colour::ColourPlanes;
use crate::segment::{Mask, Zone};

pub use iris::IrisCalibration;
pub use runtime::{FaceModels, ModelError, Runtime, verify_model_bytes};
pub use zones::{ZONE_FACE, ZONE_NAMES};

/// Why a face could not be segmented.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    /// No detection above the score threshold, or the mesh rejected the face.
    #[error("no face found")]
    NoFace,
    /// The image and its colour planes disagree, or the image is empty.
    #[error("face segmentation: {0}")]
    Input(String),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// The result of [`segment_face`]. All coordinates are image px of the upright image.
#[derive(Debug, Clone)]
pub struct FaceSegmentation {
    /// The nine zones of [`ZONE_NAMES`] then `face` (their union), in that order. A zone may be
    /// empty (area 0) when it lies outside the image or is all non-skin.
    pub zones: Vec<Zone>,
    /// Number of faces the detector found (after NMS), less those the mesh rejected; the largest
    /// the mesh confirmed was analysed.
    pub faces_found: usize,
    /// Detection box of the analysed face, `[x0, y0, x1, y1]`.
    pub face_box: [f64; 4],
    /// Detector score of the analysed face (0..1).
    pub detection_score: f64,
    /// Face-presence score of the final mesh pass (0..1).
    pub face_presence: f64,
    /// 468 landmarks `[x, y, z]`, z relative depth in px (smaller is closer to the camera).
    pub landmarks: Vec<[f64; 3]>,
    /// The final mesh crop.
    pub mesh_roi: crop::Roi,
    /// Iris calibration, `None` when neither eye gave a valid diameter.
    pub iris: Option<IrisCalibration>,
    /// Pixels inside the face oval's box excluded from the zones: eyes, brows, lips and nostrils
    /// (grown by the margin) and non-skin pixels rejected by the skin model (for QC shading).
    pub excluded: Mask,
    /// Inter-ocular distance (between eye centres), px.
    pub iod_px: f64,
    /// The fitted skin colour model, `None` when the cheeks and nose had too few pixels.
    pub skin_model: Option<skin::SkinModel>,
}

impl FaceSegmentation {
    /// The zone named `name`.
    pub fn zone(&self, name: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.name == name)
    }
}

/// Low-level switches of [`segment_face_with`], for tests against the MediaPipe reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineOptions {
    /// Block-average before downscaling crops (off reproduces MediaPipe's sampling).
    pub antialias: bool,
    /// Try the four 90-degree orientations in the detector.
    pub all_orientations: bool,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            antialias: true,
            all_orientations: true,
        }
    }
}

/// Segment the face of `image` (upright 8-bit sRGB) into zones; see the module doc.
///
/// # Errors
/// [`FaceError::NoFace`] ("no face found") when no face is detected or the mesh rejects it;
/// [`FaceError::Model`] on inference failure; [`FaceError::Input`] when `planes` does not match
/// the image size.
pub fn segment_face(
    image: &RgbImage,
    planes: &ColourPlanes,
    models: &FaceModels,
    params: &FaceParams,
) -> Result<FaceSegmentation, FaceError> {
    segment_face_with(image, planes, models, params, PipelineOptions::default())
}

/// At most this many detections, largest first, are tried by the mesh before "no face found".
pub const MESH_TRIES: usize = 4;

/// The landmarks of the largest face the mesh confirms (face presence >= `min_face_presence`;
/// detections are tried largest first, at most [`MESH_TRIES`] of them): `(detection, faces
/// found, final mesh)`, where faces found counts the detections less those the mesh rejected.
pub fn face_landmarks(
    image: &RgbImage,
    models: &FaceModels,
    params: &FaceParams,
    options: PipelineOptions,
) -> Result<(detector::Detection, usize, mesh::MeshResult), FaceError> {
    if image.width() == 0 || image.height() == 0 {
        return Err(FaceError::Input("empty image".into()));
    }
    let dets = detector::detect_faces(
        image,
        models,
        params.detector_score_threshold,
        params.nms_iou,
        options.all_orientations,
        options.antialias,
        params.min_face_fraction,
    )?;
    // Largest box first; ties keep the higher-scored (earlier) detection.
    let area = |d: &detector::Detection| d.width * d.height;
    let mut order: Vec<&detector::Detection> = dets.iter().collect();
    order.sort_by(|a, b| area(b).total_cmp(&area(a)));
    // Every detection tried before the confirmed one was rejected by the mesh.
    for (rejected, det) in order.into_iter().take(MESH_TRIES).enumerate() {
        let mut result = mesh::run_mesh(
            image,
            mesh::roi_from_detection(det, params.crop_scale),
            models,
            options.antialias,
        )?;
        for _ in 0..params.mesh_refine_passes {
            if result.presence < params.min_face_presence {
                break;
            }
            let roi = mesh::roi_from_landmarks(&result.landmarks, params.crop_scale);
            result = mesh::run_mesh(image, roi, models, options.antialias)?;
        }
        if result.presence >= params.min_face_presence {
            return Ok((det.clone(), dets.len() - rejected, result));
        }
    }
    Err(FaceError::NoFace)
}

/// [`segment_face`] with explicit [`PipelineOptions`].
pub fn segment_face_with(
    image: &RgbImage,
    planes: &ColourPlanes,
    models: &FaceModels,
    params: &FaceParams,
    options: PipelineOptions,
) -> Result<FaceSegmentation, FaceError> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if planes.width() != w || planes.height() != h {
        return Err(FaceError::Input(format!(
            "colour planes are {}x{}, image is {w}x{h}",
            planes.width(),
            planes.height()
        )));
    }
    let (det, faces_found, mesh) = face_landmarks(image, models, params, options)?;
    let iris = iris::iris_calibration(
        image,
        &mesh.landmarks,
        models,
        params.iris_diameter_mm,
        params.iris_max_disagreement,
        options.antialias,
    )?;
    let Some(mut map) = zones::zone_map(&mesh.landmarks, w, h, params.exclusion_margin_iod) else {
        return Err(FaceError::NoFace);
    };
    // Features are never zone pixels.
    ndarray::Zip::from(&mut map.labels)
        .and(&map.features)
        .for_each(|l, &f| {
            if f {
                *l = 0;
            }
        });
    let mut excluded = map.features.clone();
    let skin_model = if params.skin_k_chroma > 0.0 {
        let (rows, cols) = map.labels.dim();
        let lab = skin::smoothed_lab(
            planes,
            map.x0,
            map.y0,
            rows,
            cols,
            params.skin_scale_iod * map.frame.iod_px,
        );
        let reference: Vec<(usize, usize)> = map
            .labels
            .indexed_iter()
            .filter(|&(_, &l)| (5..=7).contains(&l))
            .map(|(rc, _)| rc)
            .collect();
        let model = skin::fit_skin_model(&lab, &reference);
        if let Some(m) = &model {
            let p = skin::SkinModelParams {
                k_chroma: params.skin_k_chroma,
                k_dark: params.skin_k_dark,
                k_glare: params.skin_k_glare,
                glare_chroma_ratio: params.skin_glare_chroma_ratio,
            };
            skin::refine_labels(&lab, m, &p, &mut map.labels, &mut excluded);
        }
        model
    } else {
        None
    };
    let mut zones: Vec<Zone> = ZONE_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| Zone {
            name: (*name).to_owned(),
            mask: label_mask(&map.labels, map.x0, map.y0, |l| l == i as u8 + 1),
        })
        .collect();
    zones.push(Zone {
        name: ZONE_FACE.to_owned(),
        mask: label_mask(&map.labels, map.x0, map.y0, |l| l != 0),
    });
    Ok(FaceSegmentation {
        zones,
        faces_found,
        face_box: det.image_box(),
        detection_score: det.score,
        face_presence: mesh.presence,
        landmarks: mesh.landmarks,
        mesh_roi: mesh.roi,
        iris,
        excluded: Mask {
            x0: map.x0,
            y0: map.y0,
            bits: excluded,
        },
        iod_px: map.frame.iod_px,
        skin_model,
    })
}

/// A mask of the labels matching `keep`, cropped to its own bounding box (an empty mask at the
/// box origin when nothing matches).
fn label_mask(labels: &Array2<u8>, x0: usize, y0: usize, keep: impl Fn(u8) -> bool) -> Mask {
    Mask::tight(labels.mapv(keep).view(), x0, y0)
}
