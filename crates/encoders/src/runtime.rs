//! One ONNX Runtime environment per process, loaded from the shared library that the README's
//! set-up unpacks from the PyPI `onnxruntime` wheel (no download at build or run time).
use crate::error::EncodeError;
use crate::manifest::{EncoderSpec, HeadSpec, Manifest};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The library file name inside the `onnxruntime` 1.31.1 wheel.
pub const LIB_NAME: &str = "libonnxruntime.so.1.31.1";

/// Where the library is looked for, in order.
pub fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(p) = std::env::var("PRECEDENT_ORT_LIB") {
        if !p.is_empty() {
            out.push(PathBuf::from(p));
        }
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            out.push(dir.join("libonnxruntime.so"));
            out.push(dir.join(LIB_NAME));
        }
    }
    let tools = std::env::var("PRECEDENT_TOOLS_DIR")
        .ok()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var("HOME").ok().map(|h| PathBuf::from(h).join(".cache/precedent-tools")));
    if let Some(t) = tools {
        out.push(t.join("onnxruntime").join(LIB_NAME));
    }
    out.push(PathBuf::from("/usr/local/lib").join(LIB_NAME));
    out
}

static ENV: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// The process-wide environment, created on first use.
pub fn environment() -> Result<&'static ort::environment::Environment, EncodeError> {
    let env = ENV.get_or_init(|| {
        let places = candidates();
        let Some(lib) = places.iter().find(|p| p.exists()) else {
            return Err(places.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
        };
        tracing::info!(library = %lib.display(), "loading ONNX Runtime");
        ort::init_from(lib).map_err(|e| format!("{}: {e}", lib.display()))?.with_name("precedent").build().map_err(|e| e.to_string())
    });
    match env {
        Ok(e) => Ok(e),
        Err(msg) if msg.contains(", ") || !msg.contains(':') => Err(EncodeError::RuntimeMissing(msg.clone())),
        Err(msg) => Err(EncodeError::Ort(msg.clone())),
    }
}

/// An inference session for `model` with `threads` intra-op threads, in the process environment.
pub fn session(model: &std::path::Path, threads: usize) -> Result<ort::session::Session, EncodeError> {
    Ok(ort::session::Session::builder(environment()?)?
        .with_optimization_level(ort::session::builder::GraphOptimizationLevel::Level3)?
        .with_intra_threads(threads.max(1))?
        .commit_from_file(model)?)
}

/// An encoder's head (`[encoder.head]` in the manifest), loaded once and run after the model.
pub struct Head {
    spec: HeadSpec,
    // `Session::run` needs `&mut`; the head is tiny, one caller at a time is enough.
    session: std::sync::Mutex<ort::session::Session>,
}

impl Head {
    pub fn load(manifest: &Manifest, spec: &HeadSpec) -> Result<Self, EncodeError> {
        Ok(Self { spec: spec.clone(), session: std::sync::Mutex::new(session(&manifest.path_of(&spec.file), 1)?) })
    }

    /// The head's output for one model output vector.
    pub fn apply(&self, v: Vec<f32>) -> Result<Vec<f32>, EncodeError> {
        let n = v.len();
        let input = ndarray::Array2::from_shape_vec((1, n), v).map_err(|e| EncodeError::Ort(e.to_string()))?;
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session.run(ort::inputs![self.spec.input.as_str() => ort::value::Tensor::from_array(input)?])?;
        let out = outputs[self.spec.output.as_str()].try_extract_array::<f32>()?;
        Ok(out.iter().copied().collect())
    }
}

/// The head of `spec`, if the manifest gives it one.
pub fn head_of(manifest: &Manifest, spec: &EncoderSpec) -> Result<Option<Head>, EncodeError> {
    spec.head.as_ref().map(|h| Head::load(manifest, h)).transpose()
}

/// Runs `head` (if any) on a model output, then checks the dimension and unit length the
/// manifest promises.
pub fn finish(spec: &EncoderSpec, head: Option<&Head>, v: Vec<f32>) -> Result<Vec<f32>, EncodeError> {
    let mut v = match head {
        Some(h) => h.apply(v)?,
        None => v,
    };
    if v.len() != spec.dim {
        return Err(EncodeError::Dimension { expected: spec.dim, got: v.len() });
    }
    if !spec.normalized {
        precedent_search::vector::normalise(&mut v);
    }
    Ok(v)
}
