//! The generation directories under the index folder: each saved engine is a `gen-<millis>`
//! directory, `CURRENT` names the live one (written to a temporary file and renamed, so it
//! switches atomically), and the others are deleted once a newer one is current.
use crate::error::Result;
use crate::models::Models;
use precedent_search::engine::persist::Header;
use precedent_search::engine::Engine;
use std::path::Path;

const CURRENT: &str = "CURRENT";

/// Whether a saved generation is for these models and dimensions.
pub(crate) fn fits(h: &Header, m: &Models) -> bool {
    h.text_model == m.text && h.image_model == m.image && h.text_dim == m.text_dim && h.image_dim == m.image_dim
}

pub(crate) fn current_generation(dir: &Path) -> Option<String> {
    let name = std::fs::read_to_string(dir.join(CURRENT)).ok()?;
    let name = name.trim().to_string();
    (!name.is_empty() && !name.contains('/') && dir.join(&name).join("header.json").is_file()).then_some(name)
}

/// Saves into a new generation directory and points `CURRENT` at it (write + rename: atomic).
pub(crate) fn save_generation(dir: &Path, engine: &Engine, applied: i64) -> Result<(String, Header)> {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let mut name = format!("gen-{millis}");
    let mut n = 0;
    while dir.join(&name).exists() {
        n += 1;
        name = format!("gen-{millis}-{n}");
    }
    let header = engine.save(&dir.join(&name), applied)?;
    let tmp = dir.join(format!("{CURRENT}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, &name)?;
    std::fs::rename(&tmp, dir.join(CURRENT))?;
    Ok((name, header))
}

/// Deletes generations other than the current one (engines are fully in memory once loaded).
pub(crate) fn remove_old_generations(dir: &Path) {
    let Some(current) = current_generation(dir) else { return };
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with("gen-") && name != current {
            if let Err(err) = std::fs::remove_dir_all(e.path()) {
                tracing::warn!(generation = %name, error = %err, "could not remove an old index generation");
            }
        }
    }
}
