//! The batch driver: validated settings in, one [`ImageRecord`] per input, outputs written.
//!
//! Images are decoded as they are processed (never all held), analysed in parallel with rayon,
//! and written in input order, so the outputs do not depend on the number of threads. A failure
//! or a panic inside one image becomes that image's error row; the batch goes on.

use std::io::IsTerminal as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::calibration::Calibration;
use crate::cli::{AnalyzeArgs, RoiMode};
use crate::config::{Config, ConfigError};
use crate::input::colour::colour_planes;
use crate::input::decode::decode_file;
use crate::input::discover::discover_inputs;
use crate::input::manifest::read_manifest;
use crate::input::{ImageInput, InputError, InputSet};
use crate::metrics::{ZoneInput, measure_zone};
use crate::output::dictionary::{columns_csv, data_dictionary_markdown};
use crate::output::provenance::{ImageCounts, RunRecord, now_iso8601};
use crate::output::qc::{QcCanvas, QcExtras, draw_qc, qc_jpeg};
use crate::output::tables::{
    ImageRecord, ZoneRecord, images_csv, lines_csv, metrics_csv, reserved_column_names, scars_csv,
};
use crate::output::write_atomic;
use crate::segment::full_image_zones;

/// A problem with how skintex was called (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{0}")]
    Invalid(String),
}

/// A failure that stops the whole run after analysis (exit code 3).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot create output folder {path}: {source}")]
    OutDir {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Write(#[from] std::io::Error),
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

/// A validated analysis run.
#[derive(Debug, Clone)]
pub struct AnalyzeSettings {
    pub inputs: InputSet,
    pub input_paths: Vec<PathBuf>,
    pub manifest: Option<PathBuf>,
    pub out_dir: PathBuf,
    pub roi: RoiMode,
    pub px_per_mm_override: Option<f64>,
    pub jobs: usize,
    pub config: Config,
    pub command_line: Vec<String>,
    pub show_progress: bool,
    /// Write `qc/<image_id>.jpg` for every analysed image.
    pub write_qc: bool,
}

impl AnalyzeSettings {
    /// Validate raw arguments: load the config, check numbers, find the inputs.
    ///
    /// # Errors
    /// [`UsageError`] naming the option, key or file at fault.
    pub fn from_args(args: &AnalyzeArgs, command_line: Vec<String>) -> Result<Self, UsageError> {
        let config = match &args.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if args.roi == RoiMode::Face {
            return Err(UsageError::Invalid(
                "--roi face is not available yet: face and zone segmentation is not built in this \
                 version; use --roi full to analyse each image as one zone"
                    .into(),
            ));
        }
        if let Some(p) = args.px_per_mm
            && !(p.is_finite() && p > 0.0)
        {
            return Err(UsageError::Invalid(format!(
                "--px-per-mm must be a positive number, got {p}"
            )));
        }
        let jobs = match args.jobs {
            Some(0) => return Err(UsageError::Invalid("--jobs must be at least 1".into())),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        };
        let inputs = match &args.manifest {
            Some(m) => read_manifest(m, &reserved_column_names())?,
            None => discover_inputs(&args.inputs)?,
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
        })
    }
}

/// What a finished run reports to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSummary {
    pub counts: ImageCounts,
}

/// Analyse one image: decode, segment, measure. Never panics; never fails the batch.
pub fn analyze_image(input: &ImageInput, settings: &AnalyzeSettings) -> ImageRecord {
    let started = Instant::now();
    let calibration = Calibration::resolve(settings.px_per_mm_override, input.manifest_px_per_mm);
    let mut record = ImageRecord {
        input: input.clone(),
        info: None,
        calibration,
        outcome: Err(String::new()),
        duration_ms: 0,
    };
    if let Some(problem) = &input.problem {
        record.outcome = Err(problem.clone());
        return record;
    }
    let analysed = catch_unwind(AssertUnwindSafe(|| {
        let decoded = decode_file(&input.path, settings.config.input.max_megapixels)
            .map_err(|e| (None, format!("{}: {e}", input.display_path)))?;
        let info = decoded.info.clone();
        let planes = colour_planes(&decoded.image);
        let mut canvas = settings.write_qc.then(|| QcCanvas::new(&decoded.image));
        drop(decoded);
        let zones = match settings.roi {
            RoiMode::Full | RoiMode::Face => full_image_zones(planes.width(), planes.height()),
        };
        let records = zones
            .iter()
            .map(|zone| ZoneRecord {
                zone: zone.name.clone(),
                area_px: zone.mask.area_px(),
                measurement: measure_zone(&ZoneInput {
                    planes: &planes,
                    zone,
                    px_per_mm: calibration.px_per_mm,
                    config: &settings.config,
                }),
            })
            .collect::<Vec<_>>();
        if let Some(canvas) = &mut canvas {
            let extras = QcExtras {
                caption: input.image_id.clone(),
                calibration,
                excluded: None,
                face_box: None,
            };
            draw_qc(canvas, &zones, &records, &extras);
            let path = qc_path(settings, &input.image_id);
            if let Err(e) = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| write_atomic(&path, &qc_jpeg(&canvas.image)))
            {
                tracing::warn!("{}: cannot write QC picture: {e}", input.display_path);
            }
        }
        Ok::<_, (Option<_>, String)>((info, records))
    }));
    match analysed {
        Ok(Ok((info, zones))) => {
            record.info = Some(info);
            record.outcome = Ok(zones);
        }
        Ok(Err((info, reason))) => {
            record.info = info;
            record.outcome = Err(reason);
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
    record.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if let Err(reason) = &record.outcome {
        tracing::warn!("{reason}");
    }
    record
}

/// Where the QC picture of `image_id` goes: `OUT/qc/<image_id>.jpg`.
pub fn qc_path(settings: &AnalyzeSettings, image_id: &str) -> PathBuf {
    let safe: String = image_id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_./".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.replace("..", "_");
    settings.out_dir.join("qc").join(format!("{safe}.jpg"))
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
    std::fs::create_dir_all(&settings.out_dir).map_err(|source| RunError::OutDir {
        path: settings.out_dir.display().to_string(),
        source,
    })?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.jobs)
        .build()
        .map_err(|e| RunError::Threads(e.to_string()))?;
    let bar = progress_bar(settings.inputs.images.len(), settings.show_progress);
    let records: Vec<ImageRecord> = pool.install(|| {
        settings
            .inputs
            .images
            .par_iter()
            .map(|input| {
                let record = analyze_image(input, settings);
                bar.inc(1);
                record
            })
            .collect()
    });
    bar.finish_and_clear();

    let ok = records.iter().filter(|r| r.is_ok()).count();
    let counts = ImageCounts {
        total: records.len(),
        ok,
        error: records.len() - ok,
    };
    let carried = &settings.inputs.carried_columns;
    let out = &settings.out_dir;
    let files: [(&str, Vec<u8>); 6] = [
        ("metrics.csv", metrics_csv(&records, carried)),
        ("images.csv", images_csv(&records, carried)),
        ("lines.csv", lines_csv(&records, carried)),
        ("scars.csv", scars_csv(&records, carried)),
        ("columns.csv", columns_csv(carried)),
        (
            "DATA_DICTIONARY.md",
            data_dictionary_markdown(carried).into_bytes(),
        ),
    ];
    for (name, bytes) in &files {
        write_atomic(&out.join(name), bytes)?;
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
        config: settings.config.clone(),
        models: Vec::new(),
        images: counts,
        outputs: files
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .chain(["run.json".to_owned()])
            .collect(),
    };
    write_atomic(&out.join("run.json"), &record.to_json())?;
    Ok(RunSummary { counts })
}
