//! The batch driver: validated settings in, one [`ImageRecord`] per input, outputs written.
//!
//! Images are decoded as they are processed (never all held), analysed in parallel with rayon,
//! and written in input order, so the outputs do not depend on the number of threads. While
//! fewer images are in flight than the pool has threads (a single photo, the end of a batch),
//! the idle threads take zones and families of the images in flight
//! ([`crate::metrics::SpareThreads`]), so memory stays that of at most `--jobs` images. A failure
//! or a panic inside one image becomes that image's error row; the batch goes on.

use std::collections::HashSet;
use std::io::IsTerminal as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::calibration::{Calibration, CalibrationSource};
use crate::chart::chart_fit;
use crate::cli::{AnalyzeArgs, RuntimeChoice};
use crate::config::{Config, ConfigError};
use crate::input::colour::colour_planes;
use crate::input::decode::{DecodeError, DecodedImage, ImageInfo, decode_bytes};
use crate::input::discover::discover_inputs;
use crate::input::manifest::read_manifest;
use crate::input::{ImageInput, InputError, InputSet};
use crate::metrics::capture::{CaptureInput, CaptureQuality, FaceGeometry, measure_capture};
use crate::metrics::{SpareThreads, measure_zones};
use crate::output::folder::{
    ANALYZE_CHOICES, Existing, OccupiedError, check_out_folder, clear_outputs,
};
use crate::output::masks::{
    MaskKind, MaskPngs, lines_mask, mask_path, mask_png, masks_dir, masks_exist, write_masks,
    zones_mask,
};
use crate::output::provenance::{ImageCounts, ModelRecord, RunRecord, now_iso8601};
use crate::output::qc::{QcCanvas, QcExtras, capture_caption, draw_qc, qc_jpeg, qc_path, write_qc};
use crate::output::store::{
    Batch, BatchEntry, STORE_FORMAT, Shard, image_key, load_record, prune_records, records_dir,
    remove_files_except, run_fingerprint, save_record,
};
use crate::output::tables::{
    ChartSummary, FaceSummary, ImageRecord, ImageRows, StageTimes, ZoneRecord, count_no_face,
    reserved_column_names,
};
use crate::output::{remove_stale_temps, write_atomic, write_run_tables};
use crate::segment::face::{
    FaceError, FaceModels, FaceSegmentation, ModelError, Runtime, ZONE_FACE, segment_face,
};
use crate::segment::parsing::{SegmentationModel, restrict_zones};
use crate::segment::{Mask, RoiMode, Zone, exclude_box, full_image_zones};

/// A problem with how skintex was called (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    OutFolder(#[from] OccupiedError),
    #[error("{0}")]
    Invalid(String),
}

/// A failure that stops the whole run after analysis (exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "cannot create output folder {path}: {source} (remove or rename what is in the way, or \
         choose another --out)"
    )]
    OutDir {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Write(#[from] std::io::Error),
    #[error("cannot start worker threads: {0}")]
    Threads(String),
    #[error(
        "interrupted: {stored} of {images} images finished and saved in {out} (analyse the \
         others by running again with resume)"
    )]
    Interrupted {
        out: String,
        stored: usize,
        images: usize,
    },
}

/// A validated analysis run.
#[derive(Clone)]
pub struct AnalyzeSettings {
    pub inputs: InputSet,
    pub input_paths: Vec<PathBuf>,
    pub manifest: Option<PathBuf>,
    pub out_dir: PathBuf,
    /// Default region of interest (a manifest `roi` cell overrides it per image).
    pub roi: RoiMode,
    pub px_per_mm_override: Option<f64>,
    pub jobs: usize,
    pub config: Config,
    pub command_line: Vec<String>,
    pub show_progress: bool,
    /// Write `qc/<image_id>.jpg` for every analysed image.
    pub write_qc: bool,
    /// Write `masks/<image_id>_lines.png` and `masks/<image_id>_zones.png` for every analysed
    /// image ([`crate::output::masks`]).
    pub save_masks: bool,
    /// The face models, loaded once when any image is analysed with `roi face`.
    pub face_models: Option<Arc<FaceModels>>,
    /// The `--segmentation-model` face parser, applied to the face zones.
    pub segmentation: Option<Arc<SegmentationModel>>,
    /// What to do with the outputs of another run in `out_dir`: refuse, reuse the records of
    /// images already finished there with the same settings (`--resume`), or clear them first
    /// (`--overwrite`). Checked by [`AnalyzeSettings::from_args`].
    pub existing: Existing,
    /// Analyse only this part of the inputs (`--shard K/N`).
    pub shard: Option<Shard>,
    /// How far the run is, for whoever watches it (the Ctrl-C message).
    pub progress: Arc<Progress>,
}

/// How far a run is: its images, and how many of them are finished and stored (reusable by
/// `--resume`). Updated by [`run_analysis`] while it runs; readable from any thread.
#[derive(Debug, Default)]
pub struct Progress {
    /// Images this run analyses (its shard's).
    pub images: AtomicUsize,
    /// Of those, finished and stored under `OUT/records/` (or reused from there).
    pub stored: AtomicUsize,
    /// Of those, finished: analysed (successfully or not) or reused.
    pub finished: AtomicUsize,
    /// Set from any thread to stop the run: images not yet started are not analysed, and
    /// [`run_analysis`] returns [`RunError::Interrupted`] once those in flight are finished and
    /// stored, without writing the tables (a run with `--resume` goes on from there).
    pub cancel: AtomicBool,
}

impl AnalyzeSettings {
    /// Validate raw arguments: load the config, check numbers, find the inputs, load the models.
    ///
    /// # Errors
    /// [`UsageError`] naming the option, key or file at fault.
    pub fn from_args(args: &AnalyzeArgs, command_line: Vec<String>) -> Result<Self, UsageError> {
        let config = match &args.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        checked_px_per_mm(args.px_per_mm)?;
        let jobs = thread_count(args.jobs)?;
        if args.ort_lib.is_some() && args.runtime != RuntimeChoice::Onnxruntime {
            return Err(UsageError::Invalid(
                "--ort-lib is only used with --runtime onnxruntime".into(),
            ));
        }
        let inputs = match &args.manifest {
            Some(m) => read_manifest(m, &reserved_column_names())?,
            None => discover_inputs(&args.inputs)?,
        };
        let needs_face = inputs
            .images
            .iter()
            .any(|i| i.problem.is_none() && i.roi.unwrap_or(args.roi) == RoiMode::Face);
        let runtime = match args.runtime {
            RuntimeChoice::Embedded => Runtime::Embedded,
            RuntimeChoice::Onnxruntime => Runtime::OnnxRuntime {
                library: args.ort_lib.clone(),
            },
        };
        let face_models = if needs_face {
            Some(Arc::new(FaceModels::load(&runtime)?))
        } else {
            None
        };
        let segmentation = match &args.segmentation_model {
            Some(spec) => Some(Arc::new(
                SegmentationModel::load(spec, &runtime)
                    .map_err(|e| UsageError::Invalid(e.to_string()))?,
            )),
            None => None,
        };
        Ok(Self {
            inputs,
            input_paths: args.inputs.clone(),
            manifest: args.manifest.clone(),
            out_dir: args.out.clone(),
            roi: args.roi,
            px_per_mm_override: args.px_per_mm,
            jobs,
            config,
            command_line,
            show_progress: !args.quiet && std::io::stderr().is_terminal(),
            write_qc: !args.no_qc,
            save_masks: args.save_masks,
            face_models,
            segmentation,
            existing: if args.resume {
                Existing::Resume
            } else if args.overwrite {
                Existing::Overwrite
            } else {
                Existing::Refuse
            },
            shard: args.shard,
            progress: Arc::default(),
        })
        .and_then(|settings| {
            let planned = settings.batch(&settings.fingerprint(), &[]);
            check_out_folder(
                &settings.out_dir,
                &planned,
                settings.existing,
                ANALYZE_CHOICES,
            )?;
            Ok(settings)
        })
    }

    /// Settings for images held in memory ([`analyze_pixels`]): no inputs, no output folder, no
    /// QC pictures, no progress bar; the face models of `runtime` are loaded when `roi` is
    /// face. `px_per_mm` and `jobs` are checked as `--px-per-mm` and `--jobs` are.
    ///
    /// # Errors
    /// [`UsageError`] for a bad number or models that cannot be loaded.
    pub fn for_pixels(
        roi: RoiMode,
        px_per_mm: Option<f64>,
        config: Config,
        jobs: Option<usize>,
        runtime: &Runtime,
    ) -> Result<Self, UsageError> {
        checked_px_per_mm(px_per_mm)?;
        let face_models = match roi {
            RoiMode::Face => Some(Arc::new(FaceModels::load(runtime)?)),
            RoiMode::Full => None,
        };
        Ok(Self {
            inputs: InputSet {
                images: Vec::new(),
                carried_columns: Vec::new(),
            },
            input_paths: Vec::new(),
            manifest: None,
            out_dir: PathBuf::new(),
            roi,
            px_per_mm_override: px_per_mm,
            jobs: thread_count(jobs)?,
            config,
            command_line: Vec::new(),
            show_progress: false,
            write_qc: false,
            save_masks: false,
            face_models,
            segmentation: None,
            existing: Existing::Refuse,
            shard: None,
            progress: Arc::default(),
        })
    }

    /// The inputs this run analyses (all of them, or those of its shard), in input order.
    fn selected(&self) -> Vec<&ImageInput> {
        self.inputs
            .images
            .iter()
            .filter(|i| self.shard.is_none_or(|s| s.owns(&i.image_id)))
            .collect()
    }

    /// `batch.json` of this run: every input, with the record key of each selected one (`keys`
    /// in the order of [`Self::selected`]; none before the run).
    fn batch(&self, fingerprint: &str, keys: &[String]) -> Batch {
        let selected = self.selected();
        // `selected` and `keys` are in input order: walk them together to mark this run's images.
        let mut own = selected.iter().zip(keys).peekable();
        Batch {
            format: STORE_FORMAT,
            skintex_version: crate::VERSION.to_owned(),
            run_fingerprint: fingerprint.to_owned(),
            shard: self.shard,
            carried_columns: self.inputs.carried_columns.clone(),
            images: self
                .inputs
                .images
                .iter()
                .map(|i| BatchEntry {
                    image_id: i.image_id.clone(),
                    path: i.display_path.clone(),
                    key: own
                        .next_if(|(s, _)| std::ptr::eq(**s, i))
                        .map(|(_, k)| k.clone()),
                })
                .collect(),
        }
    }

    /// The fingerprint of everything that changes the numbers (see [`crate::output::store`]).
    pub fn fingerprint(&self) -> String {
        let config = serde_json::to_vec(&self.config).unwrap_or_default();
        let roi = format!("{:?}", self.roi);
        let ppm = self
            .px_per_mm_override
            .map_or(u64::MAX, f64::to_bits)
            .to_le_bytes();
        let runtime = self
            .face_models
            .as_ref()
            .map(|m| m.runtime().name().to_owned())
            .unwrap_or_default();
        let models: String = self
            .face_models
            .as_ref()
            .map(|m| m.model_records())
            .unwrap_or_default()
            .into_iter()
            .chain(self.segmentation.as_ref().map(|s| s.model_record()))
            .map(|(_, _, sha)| sha)
            .collect::<Vec<_>>()
            .join(",");
        let qc: &[u8] = if self.write_qc { b"qc" } else { b"no-qc" };
        let mut parts: Vec<&[u8]> = vec![
            &config,
            roi.as_bytes(),
            &ppm,
            runtime.as_bytes(),
            models.as_bytes(),
            qc,
        ];
        // Only when on, so that the fingerprints of runs without masks stay as they were.
        if self.save_masks {
            parts.push(b"masks");
        }
        run_fingerprint(&parts)
    }
}

/// `--px-per-mm`, checked: a positive finite number when given.
fn checked_px_per_mm(px_per_mm: Option<f64>) -> Result<(), UsageError> {
    match px_per_mm {
        Some(p) if !(p.is_finite() && p > 0.0) => Err(UsageError::Invalid(format!(
            "--px-per-mm must be a positive number, got {p}"
        ))),
        _ => Ok(()),
    }
}

/// `--jobs`, checked, or every core when not given.
fn thread_count(jobs: Option<usize>) -> Result<usize, UsageError> {
    match jobs {
        Some(0) => Err(UsageError::Invalid("--jobs must be at least 1".into())),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, usize::from)),
    }
}

/// What a finished run reports to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    pub counts: ImageCounts,
}

/// An analysed image: what was learnt, its zones and its QC picture (JPEG) to write.
struct Analysed {
    info: ImageInfo,
    face: Option<FaceSummary>,
    chart: ChartSummary,
    capture: Option<CaptureQuality>,
    zones: Vec<ZoneRecord>,
    qc: Option<Vec<u8>>,
    masks: Option<MaskPngs>,
}

/// A failed image: what was learnt before the failure, and why.
struct Failure {
    info: Option<ImageInfo>,
    face: Option<FaceSummary>,
    reason: String,
}

fn face_summary(seg: &FaceSegmentation) -> FaceSummary {
    let iris = seg.iris.as_ref();
    FaceSummary {
        faces_found: seg.faces_found,
        detection_score: Some(seg.detection_score),
        iris_left_px_per_mm: iris.and_then(|i| i.left_px_per_mm),
        iris_right_px_per_mm: iris.and_then(|i| i.right_px_per_mm),
        iris_disagreement: iris
            .filter(|i| i.left_px_per_mm.is_some() && i.right_px_per_mm.is_some())
            .map(|i| i.disagreement),
        iris_flagged: iris.is_some_and(|i| i.flagged),
        landmarks: seg.landmarks.iter().map(|l| [l[0], l[1]]).collect(),
    }
}

/// Where the pixels of an image come from.
enum ImageSource {
    /// Its file as read, to be decoded.
    File(std::io::Result<Vec<u8>>),
    /// Pixels given in memory ([`crate::input::decode::pixels_image`]).
    Pixels(DecodedImage),
}

/// Decode, segment and measure one image (may panic; the caller catches it).
fn analyze_decoded(
    input: &ImageInput,
    settings: &AnalyzeSettings,
    source: ImageSource,
    roi: RoiMode,
    calibration: &mut Calibration,
    timing: &mut StageTimes,
    spare: SpareThreads<'_>,
) -> Result<Analysed, Box<Failure>> {
    let mut clock = Instant::now();
    let mut lap = |slot: &mut f64| {
        *slot = clock.elapsed().as_secs_f64() * 1e3;
        clock = Instant::now();
    };
    let fail = |info: Option<ImageInfo>, face: Option<FaceSummary>, reason: String| {
        Box::new(Failure {
            info,
            face,
            reason: format!("{}: {reason}", input.display_path),
        })
    };
    let decoded = match source {
        ImageSource::File(file) => file
            .map_err(DecodeError::Read)
            .and_then(|bytes| decode_bytes(&bytes, settings.config.input.max_megapixels))
            .map_err(|e| fail(None, None, e.to_string()))?,
        ImageSource::Pixels(decoded) => decoded,
    };
    lap(&mut timing.decode_ms);
    let info = decoded.info.clone();
    let planes = colour_planes(&decoded.image);
    let (width, height) = (planes.width(), planes.height());
    lap(&mut timing.colour_ms);
    let chart = chart_fit(&planes, input.chart_box, &settings.config.chart)
        .map_err(|e| fail(Some(info.clone()), None, e))?;
    let mut canvas = settings.write_qc.then(|| QcCanvas::new(&decoded.image));
    let mut qc = None;
    let (zones, face): (Vec<Zone>, Option<FaceSegmentation>) = match roi {
        RoiMode::Full => (full_image_zones(planes.width(), planes.height()), None),
        RoiMode::Face => {
            let Some(models) = settings.face_models.as_deref() else {
                return Err(fail(Some(info), None, "face models not loaded".into()));
            };
            // Borrow 8-bit RGB photos (the common case) instead of copying them.
            let converted;
            let rgb = match decoded.image.as_rgb8() {
                Some(rgb) => rgb,
                None => {
                    converted = decoded.image.to_rgb8();
                    &converted
                }
            };
            match segment_face(rgb, &planes, models, &settings.config.face) {
                Ok(mut seg) => {
                    if let Some(parser) = settings.segmentation.as_deref() {
                        match parser.face_skin_mask(rgb, seg.face_box) {
                            Ok(skin) => restrict_zones(&mut seg.zones, &skin),
                            Err(e) => {
                                let summary = face_summary(&seg);
                                return Err(fail(Some(info), Some(summary), e.to_string()));
                            }
                        }
                    }
                    (seg.zones.clone(), Some(seg))
                }
                Err(FaceError::NoFace) => {
                    let none = FaceSummary {
                        faces_found: 0,
                        detection_score: None,
                        iris_left_px_per_mm: None,
                        iris_right_px_per_mm: None,
                        iris_disagreement: None,
                        iris_flagged: false,
                        landmarks: Vec::new(),
                    };
                    return Err(fail(Some(info), Some(none), FaceError::NoFace.to_string()));
                }
                Err(e) => return Err(fail(Some(info), None, e.to_string())),
            }
        }
    };
    let mut zones = zones;
    if let Some(valid) = &decoded.valid {
        restrict_zones(&mut zones, &Mask::tight(valid.view(), 0, 0));
    }
    if let Some(chart) = &chart {
        exclude_box(&mut zones, chart.exclusion);
    }
    let tone_correction = chart.as_ref().and_then(|c| c.correction.as_ref().ok());
    if let Some(Err(why)) = chart.as_ref().map(|c| &c.correction) {
        tracing::warn!(
            "{}: colour chart found but not used for tone: {why}",
            input.display_path
        );
    }
    drop(decoded);
    lap(&mut timing.segment_ms);
    if calibration.source == CalibrationSource::None
        && let Some(iris) = face.as_ref().and_then(|f| f.iris.as_ref())
    {
        *calibration = Calibration {
            px_per_mm: Some(iris.px_per_mm),
            source: CalibrationSource::Iris,
        };
    }
    // Capture quality on the measured skin: the `face` zone, or the single zone of roi full.
    let capture = zones
        .iter()
        .find(|z| z.name == ZONE_FACE)
        .or(zones.first())
        .map(|skin| {
            measure_capture(&CaptureInput {
                planes: &planes,
                skin: &skin.mask,
                zones: &zones,
                face: face.as_ref().map(|f| FaceGeometry {
                    landmarks: &f.landmarks,
                }),
                px_per_mm: calibration.px_per_mm,
                params: &settings.config.capture,
                face_params: &settings.config.face,
                chart_neutrals: chart.as_ref().map(|c| c.neutrals),
            })
        });
    // The planes are consumed (see measure_zones for when they are dropped).
    let records: Vec<ZoneRecord> = measure_zones(
        planes,
        &zones,
        calibration.px_per_mm,
        &settings.config,
        tone_correction,
        spare,
    )
    .into_iter()
    .zip(&zones)
    .map(|(measurement, zone)| ZoneRecord {
        zone: zone.name.clone(),
        area_px: zone.mask.area_px(),
        measurement,
    })
    .collect();
    lap(&mut timing.measure_ms);
    if let Some(canvas) = &mut canvas {
        let excluded: Option<&Mask> = face.as_ref().map(|f| &f.excluded);
        let extras = QcExtras {
            caption: input.image_id.clone(),
            calibration: *calibration,
            excluded,
            face_box: face.as_ref().map(|f| f.face_box),
            chart_box: chart.as_ref().map(|c| c.exclusion),
            capture: capture.as_ref().map(capture_caption),
        };
        // The union zone `face` would outline everything twice; draw the anatomical zones.
        let drawn: Vec<&Zone> = zones
            .iter()
            .filter(|z| z.name != ZONE_FACE || zones.len() == 1)
            .collect();
        draw_qc(canvas, &drawn, &records, &extras);
        let summary = face.as_ref().map(face_summary);
        qc = Some(qc_jpeg(&canvas.image).map_err(|e| {
            fail(
                Some(info.clone()),
                summary,
                format!("cannot encode its QC picture: {e}"),
            )
        })?);
        lap(&mut timing.qc_ms);
    }
    let masks = if settings.save_masks {
        let png = |mask: &image::GrayImage| {
            mask_png(mask).map_err(|e| {
                fail(
                    Some(info.clone()),
                    face.as_ref().map(face_summary),
                    format!("cannot encode its masks: {e}"),
                )
            })
        };
        Some(MaskPngs {
            lines: png(&lines_mask(width, height, &records, calibration.px_per_mm))?,
            zones: png(&zones_mask(width, height, &zones))?,
        })
    } else {
        None
    };
    Ok(Analysed {
        info,
        face: face.as_ref().map(face_summary),
        chart: ChartSummary {
            found: chart.is_some(),
            delta_e00_before: chart.as_ref().map(|c| c.delta_e00_before),
            delta_e00_after: chart.as_ref().and_then(|c| c.delta_e00_after),
            tone_corrected: tone_correction.is_some(),
        },
        capture,
        zones: records,
        qc,
        masks,
    })
}

/// Analyse one image from its file as read or its pixels (`None` for an input with a problem
/// found before reading): decode, segment, measure (on `spare` threads too, when there are
/// some), write its QC picture. Never panics; never fails the batch. The caller sets
/// `timing.total_ms`.
///
/// Returns the record and whether it may be stored for `--resume`: not when the QC picture
/// could not be written (the image is then an error row, and analysed again on resume).
fn analyze_image(
    input: &ImageInput,
    settings: &AnalyzeSettings,
    source: Option<ImageSource>,
    spare: SpareThreads<'_>,
) -> (ImageRecord, bool) {
    let mut calibration =
        Calibration::resolve(settings.px_per_mm_override, input.manifest_px_per_mm);
    let roi = input.roi.unwrap_or(settings.roi);
    let mut record = ImageRecord {
        input: input.clone(),
        info: None,
        calibration,
        roi,
        face: None,
        chart: None,
        capture: None,
        outcome: Err(String::new()),
        timing: StageTimes::default(),
    };
    let (Some(source), None) = (source, &input.problem) else {
        let problem = input.problem.clone().unwrap_or_default();
        tracing::warn!("{problem}");
        record.outcome = Err(problem);
        return (record, true);
    };
    let mut timing = StageTimes::default();
    let analysed = catch_unwind(AssertUnwindSafe(|| {
        analyze_decoded(
            input,
            settings,
            source,
            roi,
            &mut calibration,
            &mut timing,
            spare,
        )
    }));
    let mut storable = true;
    match analysed {
        Ok(Ok(done)) => {
            record.info = Some(done.info);
            record.face = done.face;
            record.chart = Some(done.chart);
            record.capture = done.capture;
            record.outcome = Ok(done.zones);
            if let Some(jpeg) = done.qc {
                let started = Instant::now();
                if let Err(e) = write_qc(&settings.out_dir, &input.image_id, &jpeg) {
                    record.outcome = Err(format!(
                        "{}: cannot write its QC picture: {e}",
                        input.display_path
                    ));
                    storable = false;
                }
                timing.qc_ms += started.elapsed().as_secs_f64() * 1e3;
            }
            if let Some(masks) = done.masks
                && storable
                && let Err(e) = write_masks(&settings.out_dir, &input.image_id, &masks)
            {
                record.outcome = Err(format!(
                    "{}: cannot write its masks: {e}",
                    input.display_path
                ));
                storable = false;
            }
        }
        Ok(Err(failure)) => {
            record.info = failure.info;
            record.face = failure.face;
            record.outcome = Err(failure.reason);
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            record.outcome = Err(format!(
                "{}: internal error while analysing (please report): {what}",
                input.display_path
            ));
        }
    }
    record.timing = timing;
    record.calibration = calibration;
    if let Err(reason) = &record.outcome {
        tracing::warn!("{reason}");
    }
    (record, storable)
}

/// One image of a run: its record from an earlier run when `--resume` finds a valid one,
/// otherwise analysed now and stored. Returns the record key, the rows and whether they were
/// resumed. `in_flight` counts the images being worked on, this one included while it is.
fn finish_image(
    input: &ImageInput,
    settings: &AnalyzeSettings,
    fingerprint: &str,
    in_flight: &AtomicUsize,
) -> (String, ImageRows, bool) {
    let _counted = InFlight::enter(in_flight);
    let started = Instant::now();
    // The file is read once: hashed for the record key, then decoded from memory.
    let file = input.problem.is_none().then(|| std::fs::read(&input.path));
    let key = image_key(fingerprint, input, file.as_ref());
    let stored = || settings.progress.stored.fetch_add(1, Ordering::Relaxed);
    if settings.existing == Existing::Resume
        && let Some(rows) = load_record(&settings.out_dir, &key)
        && (!settings.write_qc || !rows.ok || qc_path(&settings.out_dir, &input.image_id).is_file())
        && (!settings.save_masks || !rows.ok || masks_exist(&settings.out_dir, &input.image_id))
    {
        stored();
        return (key, rows, true);
    }
    let spare = SpareThreads::new(in_flight, settings.jobs);
    let (record, storable) = analyze_image(input, settings, file.map(ImageSource::File), spare);
    let mut rows = ImageRows::from_record(&record);
    rows.timing.total_ms = started.elapsed().as_secs_f64() * 1e3;
    if !storable {
        return (key, rows, false);
    }
    match save_record(&settings.out_dir, &key, &rows) {
        Ok(()) => {
            stored();
        }
        Err(e) => tracing::warn!(
            "{}: cannot store its record (no resume for it): {e}",
            input.display_path
        ),
    }
    (key, rows, false)
}

/// One image counted in a run's images in flight for as long as this lives.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn progress_bar(len: usize, visible: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if !visible {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} images  {elapsed_precise} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// Run a whole batch and write every output file.
///
/// # Errors
/// [`RunError`] when the output folder or a file cannot be written; per-image failures are not
/// errors here (they are counted in the summary).
pub fn run_analysis(settings: &AnalyzeSettings) -> Result<RunSummary, RunError> {
    let started_at = now_iso8601();
    if settings.existing == Existing::Overwrite {
        clear_outputs(&settings.out_dir)?;
    }
    std::fs::create_dir_all(&settings.out_dir).map_err(|source| RunError::OutDir {
        path: settings.out_dir.display().to_string(),
        source,
    })?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.jobs)
        .build()
        .map_err(|e| RunError::Threads(e.to_string()))?;
    let out = &settings.out_dir;
    let fingerprint = settings.fingerprint();
    let selected = settings.selected();
    settings
        .progress
        .images
        .store(selected.len(), Ordering::Relaxed);
    // The folders the images are stored in, before the first image: one that cannot be
    // created (a file of that name, no permission) stops the run here, not image by image.
    let qc_dir = settings.write_qc.then(|| out.join("qc"));
    let masks_folder = settings.save_masks.then(|| masks_dir(out));
    for dir in std::iter::once(records_dir(out))
        .chain(qc_dir)
        .chain(masks_folder)
    {
        std::fs::create_dir_all(&dir).map_err(|source| RunError::OutDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    for dir in [
        out.clone(),
        records_dir(out),
        out.join("qc"),
        masks_dir(out),
    ] {
        remove_stale_temps(&dir);
    }
    let bar = progress_bar(selected.len(), settings.show_progress);
    let in_flight = AtomicUsize::new(0);
    let progress = &settings.progress;
    let done: Option<Vec<(String, ImageRows, bool)>> = pool.install(|| {
        selected
            .par_iter()
            .map(|input| {
                if progress.cancel.load(Ordering::Relaxed) {
                    return None;
                }
                let result = finish_image(input, settings, &fingerprint, &in_flight);
                progress.finished.fetch_add(1, Ordering::Relaxed);
                bar.inc(1);
                Some(result)
            })
            .collect()
    });
    bar.finish_and_clear();
    let Some(done) = done else {
        return Err(RunError::Interrupted {
            out: out.display().to_string(),
            stored: progress.stored.load(Ordering::Relaxed),
            images: selected.len(),
        });
    };

    let mut keys: Vec<String> = Vec::with_capacity(done.len());
    let mut rows: Vec<ImageRows> = Vec::with_capacity(done.len());
    let mut resumed: Vec<bool> = Vec::with_capacity(done.len());
    for (key, r, res) in done {
        keys.push(key);
        rows.push(r);
        resumed.push(res);
    }
    let ok = rows.iter().filter(|r| r.ok).count();
    let counts = ImageCounts {
        total: rows.len(),
        ok,
        error: rows.len() - ok,
    };
    let no_face = count_no_face(&rows, &settings.inputs.carried_columns);
    if no_face * 2 > counts.total {
        // Most of the batch: likely close-ups under the default --roi face.
        tracing::warn!(
            "{} no face (of {}); for close-ups use --roi full",
            if no_face == 1 {
                "1 image has".to_owned()
            } else {
                format!("{no_face} images have")
            },
            counts.total
        );
    }
    let batch = settings.batch(&fingerprint, &keys);
    let written = write_run_tables(out, &rows, &resumed, &batch)?;
    let removed_records = prune_records(out, &keys);
    let pictures: HashSet<PathBuf> = rows
        .iter()
        .filter(|r| r.ok && settings.write_qc)
        .map(|r| qc_path(out, &r.image_id))
        .collect();
    let removed_qc = remove_files_except(&out.join("qc"), &|path| pictures.contains(path));
    let masks: HashSet<PathBuf> = rows
        .iter()
        .filter(|r| r.ok && settings.save_masks)
        .flat_map(|r| [MaskKind::Lines, MaskKind::Zones].map(|k| mask_path(out, &r.image_id, k)))
        .collect();
    let removed_masks = remove_files_except(&masks_dir(out), &|path| masks.contains(path));
    if removed_records + removed_qc + removed_masks > 0 {
        let masks_part = if removed_masks > 0 {
            format!(", {}", crate::plural(removed_masks, "mask"))
        } else {
            String::new()
        };
        tracing::warn!(
            "{}: removed {}{masks_part} and {} of images or settings not in this run",
            out.display(),
            crate::plural(removed_records, "record"),
            crate::plural(removed_qc, "QC picture"),
        );
    }
    let record = RunRecord {
        skintex_version: crate::VERSION,
        command_line: settings.command_line.clone(),
        started_at,
        finished_at: now_iso8601(),
        inputs: settings
            .input_paths
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        manifest: settings.manifest.as_ref().map(|p| p.display().to_string()),
        roi: settings.roi,
        px_per_mm_override: settings.px_per_mm_override,
        jobs: settings.jobs,
        runtime: settings
            .face_models
            .as_ref()
            .map(|m| m.runtime().name().to_owned()),
        config: settings.config.clone(),
        models: settings
            .face_models
            .as_ref()
            .map(|m| {
                m.model_records()
                    .into_iter()
                    .map(|(name, file, sha256)| ModelRecord { name, file, sha256 })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .into_iter()
            .chain(settings.segmentation.as_ref().map(|s| {
                let (name, file, sha256) = s.model_record();
                ModelRecord { name, file, sha256 }
            }))
            .collect(),
        images: counts,
        images_resumed: resumed.iter().filter(|&&r| r).count(),
        shard: settings.shard,
        merged_from: Vec::new(),
        outputs: written
            .into_iter()
            .chain(["run.json"])
            .map(str::to_owned)
            .collect(),
    };
    write_atomic(&out.join("run.json"), &record.to_json())?;
    Ok(RunSummary { counts })
}

/// Analyse one image held in memory (see [`crate::input::decode::pixels_image`]) as an image of
/// a batch is analysed: the same stages, parameters and failure handling, on a pool of
/// `settings.jobs` threads that share its zones and metric families. Nothing is written (no QC
/// picture, whatever `settings.write_qc`). Its `image_id` is also its path in the record, so a
/// failure reads `ID: reason`.
///
/// # Errors
/// [`RunError::Threads`] when the threads cannot be started; a failure of the image itself is
/// the record's `outcome`.
pub fn analyze_pixels(
    settings: &AnalyzeSettings,
    image_id: &str,
    image: DecodedImage,
) -> Result<ImageRecord, RunError> {
    let settings = AnalyzeSettings {
        write_qc: false,
        ..settings.clone()
    };
    let input = ImageInput {
        image_id: image_id.to_owned(),
        path: PathBuf::from(image_id),
        display_path: image_id.to_owned(),
        carried: Vec::new(),
        manifest_px_per_mm: None,
        roi: None,
        chart_box: None,
        problem: None,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.jobs)
        .build()
        .map_err(|e| RunError::Threads(e.to_string()))?;
    let in_flight = AtomicUsize::new(0);
    let (record, _) = pool.install(|| {
        let _counted = InFlight::enter(&in_flight);
        let spare = SpareThreads::new(&in_flight, settings.jobs);
        analyze_image(&input, &settings, Some(ImageSource::Pixels(image)), spare)
    });
    Ok(record)
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    /// A panic inside one image's analysis becomes that image's error row; the other images are
    /// still analysed and every output is written. The panic is provoked without a test hook: a
    /// configuration that bypasses validation (`roughness.glcm_levels = 1`) trips an assertion
    /// in the GLCM quantiser, which only runs for calibrated images.
    #[test]
    fn panic_in_one_image_is_that_images_error() {
        let dir = tempfile::tempdir().unwrap();
        let img = image::RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([(150 + (x * 7 + y * 3) % 50) as u8, 120, 100])
        });
        img.save(dir.path().join("a.png")).unwrap();
        img.save(dir.path().join("b.png")).unwrap();
        let manifest = dir.path().join("m.csv");
        // Analyse the manifest's images with the GLCM assertion armed; returns the counts
        // (total, ok, error) and images.csv.
        let run = |rows: &str, jobs: &str, out: &str| {
            std::fs::write(&manifest, format!("path,px_per_mm\n{rows}")).unwrap();
            let out = dir.path().join(out);
            let cli = Cli::try_parse_from([
                "skintex".as_ref(),
                "analyze".as_ref(),
                "--manifest".as_ref(),
                manifest.as_os_str(),
                "--roi".as_ref(),
                "full".as_ref(),
                "--no-qc".as_ref(),
                "--quiet".as_ref(),
                "--jobs".as_ref(),
                jobs.as_ref(),
                "--out".as_ref(),
                out.as_os_str(),
            ])
            .unwrap();
            let Command::Analyze(args) = cli.command else {
                panic!("analyze command");
            };
            let mut settings = AnalyzeSettings::from_args(&args, Vec::new()).unwrap();
            settings.config.roughness.glcm_levels = 1;
            let c = run_analysis(&settings).unwrap().counts;
            let text = std::fs::read_to_string(out.join("images.csv")).unwrap();
            ((c.total, c.ok, c.error), text)
        };
        let (counts, text) = run("a.png,20\nb.png,\n", "2", "out");
        assert_eq!(counts, (2, 1, 1));
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 3, "{text}");
        assert!(
            rows[1].contains("a.png")
                && rows[1].contains(",error,")
                && rows[1].contains("internal error while analysing")
                && rows[1].contains("levels must be"),
            "{}",
            rows[1]
        );
        assert!(rows[2].contains(",ok,"), "{}", rows[2]);

        // Alone on two threads, the image's families run in parallel: the panic still
        // becomes its error row, with its message.
        let (counts, text) = run("a.png,20\n", "2", "alone");
        assert_eq!(counts, (1, 0, 1));
        assert!(
            text.contains("internal error while analysing") && text.contains("levels must be"),
            "{text}"
        );
    }

    /// Pixels given in memory are analysed as their file is: the same rows of every table but
    /// for the path and the format; 16-bit samples `v * 257` read as the 8-bit `v`.
    #[test]
    fn pixels_in_memory_give_the_rows_of_their_file() {
        use crate::input::decode::pixels_image;
        use crate::phantom::{PhantomSpec, render_phantom};

        let dir = tempfile::tempdir().unwrap();
        let spec = PhantomSpec {
            size_px: 240,
            wrinkles: 1,
            icepick: 1,
            boxcar: 0,
            rolling: 0,
            pigmented_spots: 0,
            ..PhantomSpec::default()
        };
        let rgb = render_phantom(&spec, 3).image;
        rgb.save(dir.path().join("p.png")).unwrap();
        let out = dir.path().join("out");
        let cli = Cli::try_parse_from([
            "skintex".as_ref(),
            "analyze".as_ref(),
            dir.path().join("p.png").as_os_str(),
            "--roi".as_ref(),
            "full".as_ref(),
            "--px-per-mm".as_ref(),
            "20".as_ref(),
            "--no-qc".as_ref(),
            "--quiet".as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ])
        .unwrap();
        let Command::Analyze(args) = cli.command else {
            panic!("analyze command");
        };
        let settings = AnalyzeSettings::from_args(&args, Vec::new()).unwrap();
        run_analysis(&settings).unwrap();
        let from_file = std::fs::read_to_string(out.join("metrics.csv")).unwrap();

        let pixels = AnalyzeSettings::for_pixels(
            RoiMode::Full,
            Some(20.0),
            Config::default(),
            Some(2),
            &Runtime::Embedded,
        )
        .unwrap();
        let wide = image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::from_fn(240, 240, |x, y| {
            image::Rgb(rgb.get_pixel(x, y).0.map(|v| u16::from(v) * 257))
        });
        for image in [
            image::DynamicImage::ImageRgb8(rgb.clone()),
            image::DynamicImage::ImageRgb16(wide),
        ] {
            let record = analyze_pixels(&pixels, "p", pixels_image(image)).unwrap();
            assert!(record.is_ok(), "{:?}", record.outcome);
            let rows = ImageRows::from_record(&record);
            assert_eq!(rows.path, "p");
            let [(_, metrics), ..] = crate::output::tables::table_bytes(&[rows], &[]);
            let in_memory = String::from_utf8(metrics).unwrap();
            assert_eq!(
                in_memory.replace("p,p,", "p,PATH,"),
                from_file.replace(
                    &format!("p,{},", dir.path().join("p.png").display()),
                    "p,PATH,"
                )
            );
        }
    }
}
