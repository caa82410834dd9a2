//! `skintex._native`: the compiled part of the `skintex` Python package.
//!
//! Thin bindings over the skintex library: every function here calls the library as the
//! `skintex` command does (the same argument parsing and validation, the same pipeline, the
//! same tables) and hands the results to the Python layer (`skintex/__init__.py`) as plain
//! values, which makes DataFrames of them. Long work runs with the Python interpreter detached
//! (the GIL released).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clap::Parser as _;
use image::{DynamicImage, ImageBuffer};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};
use skintex::cli::{Cli, Command};
use skintex::config::Config;
use skintex::input::decode::{decode_file, pixels_image};
use skintex::output::tables::ImageRows;
use skintex::output::typed::{
    ColumnValues, TypedTable, image_tables, read_typed_tables, typed_table,
};
use skintex::pipeline::{
    AnalyzeSettings, Progress, RunError, RunSummary, analyze_pixels as pipeline_pixels,
    run_analysis,
};
use skintex::segment::RoiMode;
use skintex::segment::face::Runtime;
use skintex::study::{STUDY_OUTPUTS, StudyError as LibStudyError, StudySettings, run_study};

create_exception!(
    skintex,
    SkintexError,
    PyException,
    "Base class of every skintex error."
);
create_exception!(
    skintex,
    UsageError,
    SkintexError,
    "A bad argument, configuration, input list or output folder (the command's exit code 2)."
);
create_exception!(
    skintex,
    ImageError,
    SkintexError,
    "An image could not be analysed; the message names the image and the reason."
);
create_exception!(
    skintex,
    OutputError,
    SkintexError,
    "The outputs could not be written or read (the command's exit code 3)."
);
create_exception!(
    skintex,
    StudyError,
    SkintexError,
    "An invalid study manifest or design: every problem by line and column."
);

/// Warnings and errors logged by the library (per-image failures, batch advice), one message per
/// line, until [`take_messages`] hands them to Python.
static MESSAGES: Mutex<String> = Mutex::new(String::new());

/// The `tracing` writer that collects log lines into [`MESSAGES`].
struct Collect;

impl std::io::Write for Collect {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut messages) = MESSAGES.lock() {
            messages.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The library's log messages since the last call (warnings and errors), oldest first.
#[pyfunction]
fn take_messages() -> Vec<String> {
    let text = MESSAGES
        .lock()
        .map(|mut m| std::mem::take(&mut *m))
        .unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
        .collect()
}

/// The command line `argv` (starting with `skintex`) parsed as the command parses it, and as
/// text for the provenance records.
fn parse_command(argv: Vec<OsString>) -> PyResult<(Command, Vec<String>)> {
    let command_line = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let cli = Cli::try_parse_from(argv)
        .map_err(|e| UsageError::new_err(e.to_string().trim().to_owned()))?;
    Ok((cli.command, command_line))
}

fn run_error(e: RunError) -> PyErr {
    OutputError::new_err(e.to_string())
}

/// An analysis running on its own threads, started by [`start_analysis`].
#[pyclass(frozen)]
struct AnalysisRun {
    progress: Arc<Progress>,
    handle: Mutex<Option<JoinHandle<Result<RunSummary, RunError>>>>,
}

#[pymethods]
impl AnalysisRun {
    /// Wait up to `timeout` seconds for the run to end (without holding the GIL); whether it
    /// has ended.
    fn wait(&self, py: Python<'_>, timeout: f64) -> bool {
        let deadline = Instant::now() + Duration::from_secs_f64(timeout.max(0.0));
        py.detach(|| {
            loop {
                let finished = self
                    .handle
                    .lock()
                    .map(|h| h.as_ref().is_none_or(JoinHandle::is_finished))
                    .unwrap_or(true);
                let left = deadline.saturating_duration_since(Instant::now());
                if finished || left.is_zero() {
                    return finished;
                }
                std::thread::sleep(left.min(Duration::from_millis(20)));
            }
        })
    }

    /// `(finished, total)`: images finished so far (analysed, failed or reused) and to do.
    fn progress(&self) -> (usize, usize) {
        (
            self.progress.finished.load(Ordering::Relaxed),
            self.progress.images.load(Ordering::Relaxed),
        )
    }

    /// Stop starting images; those in flight finish and are stored for `resume`.
    fn cancel(&self) {
        self.progress.cancel.store(true, Ordering::Relaxed);
    }

    /// Wait for the end of the run and return `(total, ok, error)` image counts.
    ///
    /// Raises `OutputError` when the outputs could not be written, `SkintexError` when the run
    /// was cancelled (the message says how many images are saved).
    fn result(&self, py: Python<'_>) -> PyResult<(usize, usize, usize)> {
        let handle = self
            .handle
            .lock()
            .ok()
            .and_then(|mut h| h.take())
            .ok_or_else(|| SkintexError::new_err("the run's result was already taken"))?;
        match py.detach(|| handle.join()) {
            Ok(Ok(summary)) => {
                let c = summary.counts;
                Ok((c.total, c.ok, c.error))
            }
            Ok(Err(e @ RunError::Interrupted { .. })) => Err(SkintexError::new_err(e.to_string())),
            Ok(Err(e)) => Err(run_error(e)),
            Err(_) => Err(SkintexError::new_err(
                "internal error: the analysis thread panicked (please report)",
            )),
        }
    }
}

/// Start `skintex analyze` with these arguments (`argv[0]` is `skintex`) on threads of its
/// own: the settings are checked and the models loaded first (raising `UsageError`), then the
/// run goes on while Python waits on the returned handle.
#[pyfunction]
fn start_analysis(py: Python<'_>, argv: Vec<OsString>) -> PyResult<AnalysisRun> {
    let (Command::Analyze(args), command_line) = parse_command(argv)? else {
        return Err(PyValueError::new_err("not an analyze command"));
    };
    let settings = py
        .detach(|| AnalyzeSettings::from_args(&args, command_line))
        .map_err(|e| UsageError::new_err(e.to_string()))?;
    let progress = Arc::clone(&settings.progress);
    let handle = std::thread::Builder::new()
        .name("skintex-analyze".to_owned())
        .spawn(move || run_analysis(&settings))
        .map_err(|e| SkintexError::new_err(format!("cannot start the analysis thread: {e}")))?;
    Ok(AnalysisRun {
        progress,
        handle: Mutex::new(Some(handle)),
    })
}

/// A table as Python values: `(name, [(column, values), ...])`, where `values` is `bytes` of
/// native-endian f64 for a number column (NaN where empty) and a `list[str]` for a text column.
fn table_to_python<'py>(py: Python<'py>, table: TypedTable) -> PyResult<Bound<'py, PyTuple>> {
    let columns = table
        .columns
        .into_iter()
        .map(|(name, values)| {
            let values = match values {
                ColumnValues::Number(v) => {
                    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_ne_bytes()).collect();
                    PyBytes::new(py, &bytes).into_any()
                }
                ColumnValues::Text(v) => PyList::new(py, v)?.into_any(),
            };
            PyTuple::new(py, [name.into_pyobject(py)?.into_any(), values])
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(
        py,
        [
            table.name.into_pyobject(py)?.into_any(),
            PyList::new(py, columns)?.into_any(),
        ],
    )
}

fn tables_to_python<'py>(
    py: Python<'py>,
    tables: Vec<TypedTable>,
) -> PyResult<Vec<Bound<'py, PyTuple>>> {
    tables.into_iter().map(|t| table_to_python(py, t)).collect()
}

/// Every CSV table skintex wrote into `folder` (run tables, data dictionary, study tables), as
/// `(name, columns)` pairs (see `table_to_python`).
#[pyfunction]
fn read_tables(py: Python<'_>, folder: PathBuf) -> PyResult<Vec<Bound<'_, PyTuple>>> {
    if !folder.is_dir() {
        return Err(UsageError::new_err(format!(
            "{}: not a folder of skintex outputs",
            folder.display()
        )));
    }
    let tables = py
        .detach(|| read_typed_tables(&folder))
        .map_err(|e| OutputError::new_err(e.to_string()))?;
    tables_to_python(py, tables)
}

/// The analysis configuration: the defaults, or a TOML file, or a TOML text, validated.
fn config_of(path: Option<PathBuf>, toml_text: Option<String>) -> PyResult<Config> {
    let config = match (path, toml_text) {
        (Some(path), _) => Config::from_file(&path),
        (None, Some(text)) => Config::from_toml_str(&text, "config"),
        (None, None) => Ok(Config::default()),
    };
    config.map_err(|e| UsageError::new_err(e.to_string()))
}

/// A configuration given as JSON (a dict from Python: `{"lines": {"min_length_mm": 2.0}}`)
/// as TOML text, after checking it as a config file is checked (unknown keys, ranges).
#[pyfunction]
fn config_toml(json: &str) -> PyResult<String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| UsageError::new_err(format!("config: {e}")))?;
    let text = toml::to_string(&value).map_err(|e| {
        UsageError::new_err(format!(
            "config: {e} (give a dict of sections, e.g. {{\"lines\": {{...}}}})"
        ))
    })?;
    config_of(None, Some(text.clone()))?;
    Ok(text)
}

/// `samples` (native-endian bytes of `T`) as an image buffer of `width` x `height` pixels.
fn buffer<P: image::Pixel>(
    width: u32,
    height: u32,
    samples: &[u8],
    sample: fn(&[u8]) -> P::Subpixel,
) -> Option<ImageBuffer<P, Vec<P::Subpixel>>> {
    let size = std::mem::size_of::<P::Subpixel>();
    let raw = samples.chunks_exact(size).map(sample).collect();
    ImageBuffer::from_raw(width, height, raw)
}

/// Pixels from Python: `samples` holds `height x width x channels` values of `dtype` (`uint8`,
/// `uint16` or `float32`), row-major, native-endian.
fn image_of(
    samples: &[u8],
    height: u32,
    width: u32,
    channels: u32,
    dtype: &str,
) -> Result<DynamicImage, String> {
    let u8s = |b: &[u8]| b[0];
    let u16s = |b: &[u8]| u16::from_ne_bytes([b[0], b[1]]);
    let f32s = |b: &[u8]| f32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    let (w, h) = (width, height);
    let image = match (channels, dtype) {
        (1, "uint8") => buffer(w, h, samples, u8s).map(DynamicImage::ImageLuma8),
        (3, "uint8") => buffer(w, h, samples, u8s).map(DynamicImage::ImageRgb8),
        (4, "uint8") => buffer(w, h, samples, u8s).map(DynamicImage::ImageRgba8),
        (1, "uint16") => buffer(w, h, samples, u16s).map(DynamicImage::ImageLuma16),
        (3, "uint16") => buffer(w, h, samples, u16s).map(DynamicImage::ImageRgb16),
        (4, "uint16") => buffer(w, h, samples, u16s).map(DynamicImage::ImageRgba16),
        (3, "float32") => buffer(w, h, samples, f32s).map(DynamicImage::ImageRgb32F),
        (4, "float32") => buffer(w, h, samples, f32s).map(DynamicImage::ImageRgba32F),
        _ => {
            return Err(format!(
                "{channels} channels of {dtype} are not an image skintex reads: give H x W x 3 \
                 (or x 4, alpha ignored) uint8 or uint16 sRGB, H x W grey uint8 or uint16, or \
                 H x W x 3 float32 linear RGB"
            ));
        }
    };
    image.ok_or_else(|| {
        format!(
            "{} bytes are not {height} x {width} x {channels} {dtype}",
            samples.len()
        )
    })
}

/// Analyse one image held in memory (`samples` as for `image_of`) through the pipeline's
/// per-image path, on `jobs` threads, with the GIL released. Returns every table of the image
/// (`metrics`, `images`, `lines`, `scars`, `landmarks`); a failure of the image is its
/// `images` row (status `error`), not an exception.
#[pyfunction]
#[pyo3(signature = (samples, height, width, channels, dtype, image_id, roi, px_per_mm, config_path, config_text, jobs))]
#[allow(clippy::too_many_arguments)]
fn analyze_pixels<'py>(
    py: Python<'py>,
    samples: &[u8],
    height: u32,
    width: u32,
    channels: u32,
    dtype: &str,
    image_id: &str,
    roi: &str,
    px_per_mm: Option<f64>,
    config_path: Option<PathBuf>,
    config_text: Option<String>,
    jobs: Option<usize>,
) -> PyResult<Vec<Bound<'py, PyTuple>>> {
    let roi = RoiMode::parse(roi)
        .ok_or_else(|| UsageError::new_err(format!("roi must be `face` or `full`, got `{roi}`")))?;
    let config = config_of(config_path, config_text)?;
    let tables = py.detach(|| -> PyResult<Vec<TypedTable>> {
        let image =
            image_of(samples, height, width, channels, dtype).map_err(PyValueError::new_err)?;
        let settings =
            AnalyzeSettings::for_pixels(roi, px_per_mm, config, jobs, &Runtime::Embedded)
                .map_err(|e| UsageError::new_err(e.to_string()))?;
        let record =
            pipeline_pixels(&settings, image_id, pixels_image(image)).map_err(run_error)?;
        Ok(image_tables(&[ImageRows::from_record(&record)], &[]))
    })?;
    tables_to_python(py, tables)
}

/// Read an image file as skintex analyses it (decoded, EXIF orientation applied): `(samples,
/// height, width, channels, dtype)` with samples as native-endian bytes; grey stays one
/// channel, alpha is dropped, float samples (linear light) are NaN where a pixel had a
/// non-finite sample.
#[pyfunction]
fn read_image(
    py: Python<'_>,
    path: PathBuf,
) -> PyResult<(Bound<'_, PyBytes>, u32, u32, u32, &'static str)> {
    let max_megapixels = Config::default().input.max_megapixels;
    let (bytes, height, width, channels, dtype) = py
        .detach(|| image_samples(&path, max_megapixels))
        .map_err(|reason| ImageError::new_err(format!("{}: {reason}", path.display())))?;
    Ok((PyBytes::new(py, &bytes), height, width, channels, dtype))
}

fn image_samples(
    path: &Path,
    max_megapixels: f64,
) -> Result<(Vec<u8>, u32, u32, u32, &'static str), String> {
    let decoded = decode_file(path, max_megapixels).map_err(|e| e.to_string())?;
    let (w, h) = (decoded.image.width(), decoded.image.height());
    let bytes = |s: &[u8]| s.to_vec();
    let u16_bytes = |s: &[u16]| s.iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<u8>>();
    Ok(match &decoded.image {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageLumaA8(_) => {
            (bytes(decoded.image.to_luma8().as_raw()), h, w, 1, "uint8")
        }
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => {
            (bytes(decoded.image.to_rgb8().as_raw()), h, w, 3, "uint8")
        }
        DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA16(_) => (
            u16_bytes(decoded.image.to_luma16().as_raw()),
            h,
            w,
            1,
            "uint16",
        ),
        DynamicImage::ImageRgb16(_) | DynamicImage::ImageRgba16(_) => (
            u16_bytes(decoded.image.to_rgb16().as_raw()),
            h,
            w,
            3,
            "uint16",
        ),
        _ => {
            let mut rgb = decoded.image.to_rgb32f();
            if let Some(valid) = &decoded.valid {
                for (x, y, px) in rgb.enumerate_pixels_mut() {
                    if !valid[[y as usize, x as usize]] {
                        px.0 = [f32::NAN; 3];
                    }
                }
            }
            let samples = rgb.as_raw().iter().flat_map(|v| v.to_ne_bytes()).collect();
            (samples, h, w, 3, "float32")
        }
    })
}

/// Run `skintex study` with these arguments (`argv[0]` is `skintex`) and return the tables it
/// wrote into its `--out` folder (`changes`, `stats`, `alignment`, and any other study table).
#[pyfunction]
fn study(py: Python<'_>, argv: Vec<OsString>) -> PyResult<Vec<Bound<'_, PyTuple>>> {
    let (Command::Study(args), command_line) = parse_command(argv)? else {
        return Err(PyValueError::new_err("not a study command"));
    };
    let settings = StudySettings::new(
        args.manifest.clone(),
        args.metrics.clone(),
        args.out.clone(),
        &args.options,
        command_line,
    )
    .map_err(|e| StudyError::new_err(e.to_string()))?;
    let tables = py.detach(|| -> PyResult<Vec<TypedTable>> {
        run_study(&settings).map_err(|e| match e {
            LibStudyError::Write(e) => OutputError::new_err(e.to_string()),
            e => StudyError::new_err(e.to_string()),
        })?;
        read_typed_tables(&settings.out_dir).map_err(|e| OutputError::new_err(e.to_string()))
    })?;
    let tables = tables
        .into_iter()
        .filter(|t| STUDY_OUTPUTS.contains(&format!("{}.csv", t.name).as_str()))
        .collect();
    tables_to_python(py, tables)
}

/// Run `skintex agree` with these arguments (`argv[0]` is `skintex`) and return the tables it
/// wrote into its `--out` folder (`agreement`, `summary`).
#[pyfunction]
fn agree(py: Python<'_>, argv: Vec<OsString>) -> PyResult<Vec<Bound<'_, PyTuple>>> {
    let (Command::Agree(args), _) = parse_command(argv)? else {
        return Err(PyValueError::new_err("not an agree command"));
    };
    let settings = skintex::agree::AgreeSettings::from_args(&args)
        .map_err(|e| UsageError::new_err(format!("{e:#}")))?;
    let tables = py.detach(|| -> PyResult<Vec<TypedTable>> {
        let (inputs, outcome) = skintex::agree::compute(&settings)
            .map_err(|e| UsageError::new_err(format!("{e:#}")))?;
        skintex::agree::write_outputs(&settings, &inputs, &outcome)
            .map_err(|e| OutputError::new_err(format!("{e:#}")))?;
        ["agreement.csv", "summary.csv"]
            .into_iter()
            .map(|name| {
                let path = settings.out.join(name);
                let bytes = std::fs::read(&path).map_err(|e| {
                    OutputError::new_err(format!("cannot read {}: {e}", path.display()))
                })?;
                typed_table(name, &bytes)
                    .map_err(|e| OutputError::new_err(format!("{}: {e}", path.display())))
            })
            .collect()
    })?;
    tables_to_python(py, tables)
}

/// Run `skintex phantom` with these arguments (`argv[0]` is `skintex`): the images and their
/// ground truth are written into its `--out` folder.
#[pyfunction]
fn phantom(py: Python<'_>, argv: Vec<OsString>) -> PyResult<()> {
    let (Command::Phantom(args), _) = parse_command(argv)? else {
        return Err(PyValueError::new_err("not a phantom command"));
    };
    py.detach(|| skintex::phantom::run_phantom_command(&args))
        .map_err(|e| UsageError::new_err(format!("{e:#}")))
}

/// The metric columns of `metrics.csv`, in order: `(name, unit, description)`.
#[pyfunction]
fn metric_columns() -> Vec<(&'static str, &'static str, &'static str)> {
    skintex::metrics::metric_columns()
        .into_iter()
        .map(|c| (c.name, c.unit, c.description))
        .collect()
}

/// Send the library's warnings to [`MESSAGES`] (once per process; a subscriber already set by
/// the embedding program is left alone).
fn collect_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SKINTEX_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(|| Collect)
        .with_ansi(false)
        .with_target(false)
        .with_level(false)
        .without_time()
        .try_init();
}

/// The compiled part of the skintex Python package; use the functions of `skintex` instead.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    collect_logs();
    let py = m.py();
    m.add("__version__", skintex::VERSION)?;
    m.add("SkintexError", py.get_type::<SkintexError>())?;
    m.add("UsageError", py.get_type::<UsageError>())?;
    m.add("ImageError", py.get_type::<ImageError>())?;
    m.add("OutputError", py.get_type::<OutputError>())?;
    m.add("StudyError", py.get_type::<StudyError>())?;
    m.add_class::<AnalysisRun>()?;
    m.add_function(wrap_pyfunction!(start_analysis, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_pixels, m)?)?;
    m.add_function(wrap_pyfunction!(read_tables, m)?)?;
    m.add_function(wrap_pyfunction!(read_image, m)?)?;
    m.add_function(wrap_pyfunction!(study, m)?)?;
    m.add_function(wrap_pyfunction!(phantom, m)?)?;
    m.add_function(wrap_pyfunction!(agree, m)?)?;
    m.add_function(wrap_pyfunction!(config_toml, m)?)?;
    m.add_function(wrap_pyfunction!(metric_columns, m)?)?;
    m.add_function(wrap_pyfunction!(take_messages, m)?)?;
    Ok(())
}
