//! One ONNX Runtime environment per process, loaded from the shared library that the README's
//! set-up unpacks from the PyPI `onnxruntime` wheel (no download at build or run time).
use crate::SearchError;
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
pub fn environment() -> Result<&'static ort::environment::Environment, SearchError> {
    let env = ENV.get_or_init(|| {
        let places = candidates();
        let Some(lib) = places.iter().find(|p| p.exists()) else {
            return Err(places.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
        };
        tracing::info!(library = %lib.display(), "loading ONNX Runtime");
        ort::init_from(lib)
            .map_err(|e| format!("{}: {e}", lib.display()))?
            .with_name("precedent")
            .build()
            .map_err(|e| e.to_string())
    });
    match env {
        Ok(e) => Ok(e),
        Err(msg) if msg.contains(", ") || !msg.contains(':') => Err(SearchError::RuntimeMissing(msg.clone())),
        Err(msg) => Err(SearchError::Ort(msg.clone())),
    }
}

/// An inference session for `model` with `threads` intra-op threads, in the process environment.
pub fn session(model: &std::path::Path, threads: usize) -> Result<ort::session::Session, SearchError> {
    Ok(ort::session::Session::builder(environment()?)?
        .with_optimization_level(ort::session::builder::GraphOptimizationLevel::Level3)?
        .with_intra_threads(threads.max(1))?
        .commit_from_file(model)?)
}
