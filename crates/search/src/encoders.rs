//! The encoders a server process runs: the manifest's default text and image models.
use crate::{ImageEncoder, Manifest, SearchError, TextEncoder};
use std::path::Path;

/// The encoders named as defaults in the manifest.
pub struct Encoders {
    pub text: TextEncoder,
    pub image: Option<ImageEncoder>,
}

impl Encoders {
    pub fn load(manifest_path: &Path, threads: usize) -> Result<Self, SearchError> {
        Self::load_models(manifest_path, None, None, threads)
    }

    /// Loads the named encoders (manifest names), or the manifest's defaults for `None`.
    pub fn load_models(manifest_path: &Path, text: Option<&str>, image: Option<&str>, threads: usize) -> Result<Self, SearchError> {
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
