//! The encoders a server process runs: the manifest's default text and image models.
use crate::error::EncodeError;
use crate::image::ImageEncoder;
use crate::manifest::Manifest;
use crate::text::TextEncoder;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// The encoders named as defaults in the manifest.
pub struct Encoders {
    pub text: TextEncoder,
    pub image: Option<ImageEncoder>,
}

impl Encoders {
    pub fn load(manifest_path: &Path, threads: usize) -> Result<Self, EncodeError> {
        Self::load_models(manifest_path, None, None, threads)
    }

    /// Loads the named encoders (manifest names), or the manifest's defaults for `None`.
    pub fn load_models(manifest_path: &Path, text: Option<&str>, image: Option<&str>, threads: usize) -> Result<Self, EncodeError> {
        let manifest = Manifest::load(manifest_path)?;
        let text = TextEncoder::load(&manifest, text.unwrap_or(&manifest.default_text), threads)?;
        let image = match image.or(manifest.default_image.as_deref()) {
            Some(name) => Some(ImageEncoder::load(&manifest, name, threads)?),
            None => None,
        };
        Ok(Self { text, image })
    }

    /// The model ids (`name@version`) of the text and image encoders.
    pub fn model_ids(&self) -> (String, Option<String>) {
        (self.text.spec().model_id(), self.image.as_ref().map(|i| i.spec().model_id()))
    }

    /// Vector dimensions of the text and image encoders (0 without an image encoder).
    pub fn dims(&self) -> (usize, usize) {
        (self.text.spec().dim, self.image.as_ref().map(|i| i.spec().dim).unwrap_or(0))
    }
}

/// The encoders a process currently uses, swappable while it runs (after a reindex switched
/// models): readers take the `Arc` of the moment.
pub struct EncoderSlot(RwLock<Arc<Encoders>>);

impl EncoderSlot {
    pub fn new(encoders: Arc<Encoders>) -> Self {
        Self(RwLock::new(encoders))
    }

    pub fn get(&self) -> Arc<Encoders> {
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn set(&self, encoders: Arc<Encoders>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = encoders;
    }
}

impl Encoders {
    /// Loads the encoders with these model ids (`name@version`); `None` takes the default.
    pub fn load_ids(manifest_path: &Path, text: Option<&str>, image: Option<&str>, threads: usize) -> Result<Self, EncodeError> {
        let manifest = Manifest::load(manifest_path)?;
        let name = |id: Option<&str>| -> Result<Option<String>, EncodeError> {
            match id {
                None => Ok(None),
                Some(id) => manifest.by_model_id(id).map(|e| Some(e.name.clone())).ok_or_else(|| EncodeError::Manifest {
                    path: manifest_path.display().to_string(),
                    reason: format!("no encoder {id} (the index uses it; restore it in the manifest or reindex with another model)"),
                }),
            }
        };
        Self::load_models(manifest_path, name(text)?.as_deref(), name(image)?.as_deref(), threads)
    }
}
