//! The one place that chooses the ONNX runtime and loads the face models (and, through
//! [`OnnxModel`], user-supplied models such as the `--segmentation-model` face parser).
//!
//! Two runtimes execute the same ONNX files through the `ort` crate (2.0.0-rc.14):
//!
//! * [`Runtime::Embedded`] (default): the pure-Rust `tract` engine through `ort-tract`, compiled
//!   into the binary. Needs nothing installed. Graphs are optimised
//!   (`GraphOptimizationLevel::Level3`, 4-6x faster than unoptimised).
//! * [`Runtime::OnnxRuntime`]: Microsoft ONNX Runtime, loaded at run time from a shared library
//!   (`libonnxruntime.so.1.X`, found in the PyPI `onnxruntime` wheel under
//!   `onnxruntime/capi/`). The path comes from the caller or from `ORT_DYLIB_PATH`. The file is
//!   checked and opened here, before any `ort` call, so a missing or too old library is a clear
//!   [`ModelError`], never a panic. `ort` rc.14 as built here speaks ONNX Runtime C API version
//!   24, so the library must be ONNX Runtime >= 1.24.
//!
//! `ort` keeps one API table per process, so **one process uses one runtime**: the first
//! [`FaceModels::load`] decides, and a later request for the other runtime is refused with
//! [`ModelError::RuntimeConflict`].
//!
//! The three model files are embedded with `include_bytes!` and each is checked against the
//! sha256 of `models/manifest.toml` (embedded with `include_str!`) before a session is built. At
//! load, each session's input and output names and shapes are checked against the manifest.
//!
//! Sessions: `ort` runs take `&mut Session`, so each model keeps a small pool of sessions. A run
//! takes a free session or builds a new one, so parallel callers (rayon) never wait on each other
//! and the pool grows to the number of concurrent callers. Every session of a model is built from
//! the same bytes with the same options, so results do not depend on which one ran.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::digest::sha256_hex;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::{Session, SessionOutputs};
use ort::value::Tensor;
use serde::Deserialize;

/// Which ONNX runtime executes the face models.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Runtime {
    /// Pure-Rust tract engine compiled into skintex (default; needs nothing installed).
    #[default]
    Embedded,
    /// ONNX Runtime loaded from a shared library: `library`, else the `ORT_DYLIB_PATH`
    /// environment variable. Requires ONNX Runtime >= 1.24.
    OnnxRuntime { library: Option<PathBuf> },
}

impl Runtime {
    /// Short name for run records: `embedded` or `onnxruntime`.
    pub fn name(&self) -> &'static str {
        match self {
            Runtime::Embedded => "embedded",
            Runtime::OnnxRuntime { .. } => "onnxruntime",
        }
    }
}

/// A model or runtime problem. Every message names the model file or library path involved.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model manifest models/manifest.toml: {0}")]
    Manifest(String),
    #[error(
        "model {path}: sha256 mismatch (expected {expected}, actual {actual}); refusing to use a modified model"
    )]
    ChecksumMismatch {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("model {path}: {message}")]
    Contract { path: String, message: String },
    #[error("model {path}: cannot build an inference session: {message}")]
    Session { path: String, message: String },
    #[error("model {path}: inference failed: {message}")]
    Inference { path: String, message: String },
    #[error(
        "ONNX Runtime requested but no library given: pass its path (e.g. --ort-lib /path/to/libonnxruntime.so.1.24.4) or set ORT_DYLIB_PATH"
    )]
    LibraryNotSpecified,
    #[error("ONNX Runtime library {path} does not exist")]
    LibraryNotFound { path: String },
    #[error("ONNX Runtime library {path} cannot be loaded: {message}")]
    LibraryLoad { path: String, message: String },
    #[error(
        "ONNX Runtime library {path} is version {found}; skintex needs ONNX Runtime >= 1.{required}"
    )]
    LibraryVersion {
        path: String,
        found: String,
        required: u32,
    },
    #[error(
        "runtime `{requested}` requested, but this process already uses `{active}` (one runtime per process)"
    )]
    RuntimeConflict { requested: String, active: String },
}

/// One output of a model, as declared in the manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct OutputSpec {
    pub name: String,
    pub shape: Vec<i64>,
}

/// One `[[model]]` record of `models/manifest.toml` (the fields skintex uses).
#[derive(Debug, Clone, Deserialize)]
pub struct ModelSpec {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub input_name: String,
    pub input_shape: Vec<i64>,
    pub outputs: Vec<OutputSpec>,
}

impl ModelSpec {
    /// The model's path relative to the repository, for messages: `models/<file>`.
    pub fn path(&self) -> String {
        format!("models/{}", self.file)
    }
}

#[derive(Deserialize)]
struct Manifest {
    model: Vec<ModelSpec>,
}

/// The embedded manifest text (`models/manifest.toml`).
pub const MANIFEST_TOML: &str = include_str!("../../../models/manifest.toml");

/// The embedded model files, by manifest name.
const EMBEDDED: [(&str, &[u8]); 3] = [
    (
        "detector",
        include_bytes!("../../../models/face_detection_short_range.onnx"),
    ),
    ("mesh", include_bytes!("../../../models/face_landmark.onnx")),
    ("iris", include_bytes!("../../../models/iris_landmark.onnx")),
];

/// The parsed manifest records, in manifest order.
pub fn manifest() -> Result<&'static [ModelSpec], ModelError> {
    static PARSED: OnceLock<Result<Vec<ModelSpec>, String>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            toml::from_str::<Manifest>(MANIFEST_TOML)
                .map(|m| m.model)
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map(Vec::as_slice)
        .map_err(|e| ModelError::Manifest(e.clone()))
}

/// The manifest record of model `name` (`detector`, `mesh` or `iris`).
pub fn model_spec(name: &str) -> Result<&'static ModelSpec, ModelError> {
    manifest()?
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| ModelError::Manifest(format!("no [[model]] named `{name}`")))
}

/// The embedded bytes of model `name`.
pub fn embedded_model_bytes(name: &str) -> Option<&'static [u8]> {
    EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// Check `bytes` against the manifest sha256 of model `name`.
///
/// # Errors
/// [`ModelError::ChecksumMismatch`] naming the model path, the expected and the actual sha256.
pub fn verify_model_bytes(name: &str, bytes: &[u8]) -> Result<(), ModelError> {
    let spec = model_spec(name)?;
    let actual = sha256_hex(bytes);
    if actual.eq_ignore_ascii_case(&spec.sha256) {
        Ok(())
    } else {
        Err(ModelError::ChecksumMismatch {
            path: spec.path(),
            expected: spec.sha256.clone(),
            actual,
        })
    }
}

/// The runtime this process committed to (set once, by the first successful selection).
static ACTIVE: OnceLock<String> = OnceLock::new();

/// Select the runtime for this process: install the `ort` API table of tract or of the ONNX
/// Runtime library. Idempotent for the same runtime.
fn select_runtime(runtime: &Runtime) -> Result<(), ModelError> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let requested = match runtime {
        Runtime::Embedded => "embedded".to_owned(),
        Runtime::OnnxRuntime { library } => {
            let path = onnxruntime_library_path(library.as_deref())?;
            format!("onnxruntime:{}", path.display())
        }
    };
    if let Some(active) = ACTIVE.get() {
        return if *active == requested {
            Ok(())
        } else {
            Err(ModelError::RuntimeConflict {
                requested,
                active: active.clone(),
            })
        };
    }
    match runtime {
        Runtime::Embedded => {
            ort::set_api(ort_tract::api());
        }
        Runtime::OnnxRuntime { library } => {
            let path = onnxruntime_library_path(library.as_deref())?;
            let api = load_onnxruntime_api(&path)?;
            ort::set_api(api);
        }
    }
    let _ = ACTIVE.set(requested);
    Ok(())
}

/// The ONNX Runtime library path: `explicit`, else `ORT_DYLIB_PATH`; it must exist.
fn onnxruntime_library_path(explicit: Option<&Path>) -> Result<PathBuf, ModelError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os("ORT_DYLIB_PATH") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => return Err(ModelError::LibraryNotSpecified),
        },
    };
    if !path.is_file() {
        return Err(ModelError::LibraryNotFound {
            path: path.display().to_string(),
        });
    }
    Ok(path)
}

/// Open the ONNX Runtime shared library, check its version and return a copy of its API table.
/// The library stays loaded for the life of the process.
fn load_onnxruntime_api(path: &Path) -> Result<ort::sys::OrtApi, ModelError> {
    let shown = path.display().to_string();
    let load_err = |message: String| ModelError::LibraryLoad {
        path: shown.clone(),
        message,
    };
    // SAFETY: loading a shared library runs its initialisers; the user asked for this library.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| load_err(e.to_string()))?;
    type GetApiBase = unsafe extern "C" fn() -> *const ort::sys::OrtApiBase;
    // SAFETY: `OrtGetApiBase` has this signature in every ONNX Runtime release.
    let getter = unsafe { lib.get::<GetApiBase>(b"OrtGetApiBase") }
        .map_err(|e| load_err(format!("no symbol OrtGetApiBase ({e})")))?;
    // SAFETY: documented to return a static, non-null table.
    let base = unsafe { getter() };
    if base.is_null() {
        return Err(load_err("OrtGetApiBase returned null".into()));
    }
    // SAFETY: `base` is non-null and points to the library's static table.
    let version = unsafe { std::ffi::CStr::from_ptr(((*base).GetVersionString)()) }
        .to_string_lossy()
        .into_owned();
    let required = ort::sys::ORT_API_VERSION;
    let minor: u32 = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if minor < required {
        return Err(ModelError::LibraryVersion {
            path: shown,
            found: version,
            required,
        });
    }
    // SAFETY: as above; GetApi returns null for an unsupported version, checked below.
    let api = unsafe { ((*base).GetApi)(required) };
    if api.is_null() {
        return Err(ModelError::LibraryVersion {
            path: shown,
            found: version,
            required,
        });
    }
    // SAFETY: `api` is non-null and points to a static table of function pointers.
    let table = unsafe { std::ptr::read(api) };
    // The function pointers in `table` point into the library: keep it loaded forever.
    std::mem::forget(lib);
    Ok(table)
}

/// Sessions of one model, built on demand and reused: a caller takes a free session (or builds
/// one), runs it and puts it back, so concurrent callers never share a session.
struct SessionPool {
    /// The model's path, for messages.
    path: String,
    bytes: Cow<'static, [u8]>,
    runtime: Runtime,
    free: Mutex<Vec<Session>>,
}

impl SessionPool {
    fn new(path: String, bytes: Cow<'static, [u8]>, runtime: &Runtime, first: Session) -> Self {
        Self {
            path,
            bytes,
            runtime: runtime.clone(),
            free: Mutex::new(vec![first]),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Session>> {
        self.free.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn inference_error(&self, message: String) -> ModelError {
        ModelError::Inference {
            path: self.path.clone(),
            message,
        }
    }

    /// Feed one f32 tensor of `shape` to the input `input_name` and let `read` take what it needs
    /// from the outputs.
    fn run<R>(
        &self,
        input_name: &str,
        shape: Vec<usize>,
        input: Vec<f32>,
        read: impl FnOnce(&SessionOutputs<'_>) -> Result<R, ModelError>,
    ) -> Result<R, ModelError> {
        let expected: usize = shape.iter().product();
        if input.len() != expected {
            return Err(self.inference_error(format!(
                "input has {} values, expected {expected}",
                input.len()
            )));
        }
        let taken = self.lock().pop();
        let mut session = match taken {
            Some(s) => s,
            None => session_from_memory(&self.path, &self.bytes, &self.runtime)?,
        };
        let result = (|| {
            let tensor = Tensor::from_array((shape, input))
                .map_err(|e| self.inference_error(e.to_string()))?;
            let outputs = session
                .run(ort::inputs![input_name => tensor])
                .map_err(|e| self.inference_error(e.to_string()))?;
            read(&outputs)
        })();
        self.lock().push(session);
        result
    }
}

/// One embedded model with its manifest contract (see the module doc).
struct ModelSessions {
    spec: &'static ModelSpec,
    pool: SessionPool,
}

impl ModelSessions {
    fn new(
        spec: &'static ModelSpec,
        bytes: &'static [u8],
        runtime: &Runtime,
    ) -> Result<Self, ModelError> {
        verify_model_bytes(&spec.name, bytes)?;
        let session = session_from_memory(&spec.path(), bytes, runtime)?;
        check_contract(spec, &session)?;
        Ok(Self {
            spec,
            pool: SessionPool::new(spec.path(), Cow::Borrowed(bytes), runtime, session),
        })
    }

    /// Run the model on one NHWC float input; returns the outputs in manifest order.
    fn run(&self, input: Vec<f32>) -> Result<Vec<Vec<f32>>, ModelError> {
        let shape: Vec<usize> = self.spec.input_shape.iter().map(|&d| d as usize).collect();
        let pool = &self.pool;
        pool.run(&self.spec.input_name, shape, input, |outputs| {
            let mut out = Vec::with_capacity(self.spec.outputs.len());
            for o in &self.spec.outputs {
                let value = outputs
                    .get(o.name.as_str())
                    .ok_or_else(|| pool.inference_error(format!("no output `{}`", o.name)))?;
                let (_, data) = value
                    .try_extract_tensor::<f32>()
                    .map_err(|e| pool.inference_error(e.to_string()))?;
                let want: i64 = o.shape.iter().product();
                if data.len() as i64 != want {
                    return Err(pool.inference_error(format!(
                        "output `{}` has {} values, expected {want}",
                        o.name,
                        data.len()
                    )));
                }
                out.push(data.to_vec());
            }
            Ok(out)
        })
    }
}

/// Build one session of the model `bytes` (named `path` in messages) on `runtime`, which must
/// already be selected. Every model of the process is built here, with the same options.
fn session_from_memory(path: &str, bytes: &[u8], runtime: &Runtime) -> Result<Session, ModelError> {
    let err = |e: String| ModelError::Session {
        path: path.to_owned(),
        message: e,
    };
    let env = environment().map_err(err)?;
    let mut builder = Session::builder(env).map_err(|e| err(e.to_string()))?;
    builder = builder
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| err(e.to_string()))?;
    if matches!(runtime, Runtime::OnnxRuntime { .. }) {
        // The pipeline parallelises over images; one thread per run avoids oversubscription.
        builder = builder
            .with_intra_threads(1)
            .map_err(|e| err(e.to_string()))?;
    }
    builder
        .commit_from_memory(bytes)
        .map_err(|e| err(e.to_string()))
}

/// A user-supplied single-input ONNX model (e.g. a face-parsing network given by
/// `--segmentation-model`), run on the process runtime with a session pool like the face
/// models. The caller checks the file's sha256 and interprets the shapes; this wrapper only
/// selects the runtime, builds sessions and moves f32 tensors in and out.
pub struct OnnxModel {
    pool: SessionPool,
    input_name: String,
    input_shape: Option<Vec<i64>>,
    output_name: String,
    output_shape: Option<Vec<i64>>,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("path", &self.pool.path)
            .field("runtime", &self.pool.runtime)
            .field("input", &(&self.input_name, &self.input_shape))
            .field("output", &(&self.output_name, &self.output_shape))
            .finish_non_exhaustive()
    }
}

impl OnnxModel {
    /// Select `runtime` for this process (refused if another one is active) and build a first
    /// session from `bytes`; `path` names the model in messages. The model must have exactly one
    /// input; its first output is the one [`OnnxModel::run`] returns.
    ///
    /// # Errors
    /// [`ModelError::Session`] when the bytes are not a loadable model, [`ModelError::Contract`]
    /// when it does not have one input and at least one output, and the runtime errors of
    /// [`FaceModels::load`].
    pub fn load(runtime: &Runtime, path: &str, bytes: Vec<u8>) -> Result<Self, ModelError> {
        select_runtime(runtime)?;
        let session = session_from_memory(path, &bytes, runtime)?;
        let fail = |message: String| ModelError::Contract {
            path: path.to_owned(),
            message,
        };
        let (inputs, outputs) = (session.inputs(), session.outputs());
        if inputs.len() != 1 || outputs.is_empty() {
            return Err(fail(format!(
                "expected one input and at least one output, found {} inputs and {} outputs",
                inputs.len(),
                outputs.len()
            )));
        }
        let input_name = inputs[0].name().to_owned();
        let input_shape = inputs[0].dtype().tensor_shape().map(|s| s.to_vec());
        let output_name = outputs[0].name().to_owned();
        let output_shape = outputs[0].dtype().tensor_shape().map(|s| s.to_vec());
        Ok(Self {
            pool: SessionPool::new(path.to_owned(), Cow::Owned(bytes), runtime, session),
            input_name,
            input_shape,
            output_name,
            output_shape,
        })
    }

    /// The model path given at load, for messages.
    pub fn path(&self) -> &str {
        &self.pool.path
    }

    /// The runtime this model runs on.
    pub fn runtime(&self) -> &Runtime {
        &self.pool.runtime
    }

    /// Declared input shape (-1 for a dynamic dimension); `None` when not a tensor.
    pub fn input_shape(&self) -> Option<&[i64]> {
        self.input_shape.as_deref()
    }

    /// Declared shape of the first output (-1 for a dynamic dimension); `None` when not a tensor.
    pub fn output_shape(&self) -> Option<&[i64]> {
        self.output_shape.as_deref()
    }

    /// Run on one f32 input of `shape`; returns the first output's shape and values.
    ///
    /// # Errors
    /// [`ModelError::Inference`] naming the model when the input size does not match `shape` or
    /// the runtime fails.
    pub fn run(
        &self,
        shape: &[usize],
        input: Vec<f32>,
    ) -> Result<(Vec<usize>, Vec<f32>), ModelError> {
        let pool = &self.pool;
        pool.run(&self.input_name, shape.to_vec(), input, |outputs| {
            let value = outputs
                .get(self.output_name.as_str())
                .ok_or_else(|| pool.inference_error(format!("no output `{}`", self.output_name)))?;
            let (out_shape, data) = value
                .try_extract_tensor::<f32>()
                .map_err(|e| pool.inference_error(e.to_string()))?;
            let dims: Vec<usize> = out_shape.iter().map(|&d| d.max(0) as usize).collect();
            if dims.iter().product::<usize>() != data.len() {
                return Err(pool.inference_error(format!(
                    "output `{}` has {} values for shape {dims:?}",
                    self.output_name,
                    data.len()
                )));
            }
            Ok((dims, data.to_vec()))
        })
    }
}

/// The process-wide `ort` environment (built after the runtime was selected).
fn environment() -> Result<&'static ort::environment::Environment, String> {
    static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        ort::init()
            .with_name("skintex")
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Check a session's input and output names and shapes against the manifest.
fn check_contract(spec: &ModelSpec, session: &Session) -> Result<(), ModelError> {
    let fail = |message: String| ModelError::Contract {
        path: spec.path(),
        message,
    };
    let shape_ok = |got: Option<&[i64]>, want: &[i64]| match got {
        // Dynamic dimensions (-1) accept the manifest's fixed size.
        Some(g) => g.len() == want.len() && g.iter().zip(want).all(|(&a, &b)| a == b || a < 0),
        None => false,
    };
    let inputs = session.inputs();
    if inputs.len() != 1 || inputs[0].name() != spec.input_name {
        return Err(fail(format!(
            "inputs {:?}, manifest expects [{:?}]",
            inputs.iter().map(|i| i.name()).collect::<Vec<_>>(),
            spec.input_name
        )));
    }
    let got = inputs[0].dtype().tensor_shape().map(|s| &s[..]);
    if !shape_ok(got, &spec.input_shape) {
        return Err(fail(format!(
            "input `{}` has shape {:?}, manifest expects {:?}",
            spec.input_name, got, spec.input_shape
        )));
    }
    for o in &spec.outputs {
        let Some(outlet) = session.outputs().iter().find(|x| x.name() == o.name) else {
            return Err(fail(format!(
                "no output `{}` (outputs {:?})",
                o.name,
                session
                    .outputs()
                    .iter()
                    .map(|x| x.name())
                    .collect::<Vec<_>>()
            )));
        };
        let got = outlet.dtype().tensor_shape().map(|s| &s[..]);
        if !shape_ok(got, &o.shape) {
            return Err(fail(format!(
                "output `{}` has shape {:?}, manifest expects {:?}",
                o.name, got, o.shape
            )));
        }
    }
    Ok(())
}

/// The three face models, loaded and checked, ready for use from several threads.
pub struct FaceModels {
    runtime: Runtime,
    detector: ModelSessions,
    mesh: ModelSessions,
    iris: ModelSessions,
}

impl std::fmt::Debug for FaceModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceModels")
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

impl FaceModels {
    /// Select `runtime` for this process, check the embedded models' sha256 and build one
    /// session per model, checking its input/output contract.
    ///
    /// # Errors
    /// A [`ModelError`] naming the model or library: checksum mismatch, missing/old ONNX Runtime
    /// library, runtime conflict, or a contract mismatch.
    pub fn load(runtime: &Runtime) -> Result<Self, ModelError> {
        select_runtime(runtime)?;
        let load = |name: &str| -> Result<ModelSessions, ModelError> {
            let spec = model_spec(name)?;
            let bytes = embedded_model_bytes(name)
                .ok_or_else(|| ModelError::Manifest(format!("model `{name}` is not embedded")))?;
            ModelSessions::new(spec, bytes, runtime)
        };
        Ok(Self {
            runtime: runtime.clone(),
            detector: load("detector")?,
            mesh: load("mesh")?,
            iris: load("iris")?,
        })
    }

    /// The runtime these models run on.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// `(name, file, sha256)` of each model, for `run.json`.
    pub fn model_records(&self) -> Vec<(String, String, String)> {
        [&self.detector, &self.mesh, &self.iris]
            .iter()
            .map(|m| {
                (
                    m.spec.name.clone(),
                    m.spec.file.clone(),
                    m.spec.sha256.clone(),
                )
            })
            .collect()
    }

    /// Run the detector on a `[1,128,128,3]` input in [-1, 1]: `(regressors, classificators)`.
    pub fn run_detector(&self, input: Vec<f32>) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
        let mut out = self.detector.run(input)?.into_iter();
        Ok((
            out.next().unwrap_or_default(),
            out.next().unwrap_or_default(),
        ))
    }

    /// Run the mesh on a `[1,192,192,3]` input in [0, 1]: `(1404 landmark values, presence logit)`.
    pub fn run_mesh(&self, input: Vec<f32>) -> Result<(Vec<f32>, f32), ModelError> {
        let mut out = self.mesh.run(input)?.into_iter();
        let lm = out.next().unwrap_or_default();
        let flag = out
            .next()
            .and_then(|v| v.first().copied())
            .unwrap_or(f32::NAN);
        Ok((lm, flag))
    }

    /// Run the iris model on a `[1,64,64,3]` input in [0, 1]: `(213 contour values, 15 iris values)`.
    pub fn run_iris(&self, input: Vec<f32>) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
        let mut out = self.iris.run(input)?.into_iter();
        Ok((
            out.next().unwrap_or_default(),
            out.next().unwrap_or_default(),
        ))
    }
}
