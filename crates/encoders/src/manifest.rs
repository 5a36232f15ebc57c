//! `models/models.toml`: which encoders exist, their files, inputs, preprocessing and output.
//! Swapping an encoder is a manifest change (and a reindex), not a code change.
use crate::error::EncodeError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Text,
    Image,
}

/// How text is turned into model inputs.
#[derive(Debug, Clone, Deserialize)]
pub struct TextSpec {
    /// `tokenizer.json`, relative to the manifest.
    pub tokenizer: String,
    /// Inputs are truncated to this many tokens; a batch is padded to its longest member.
    pub max_tokens: usize,
    /// Input names, in the order token ids, attention mask, token type ids (the last optional).
    pub inputs: Vec<String>,
}

/// How an image is turned into a model input.
#[derive(Debug, Clone, Deserialize)]
pub struct ImageSpec {
    /// Square input side in pixels after resizing.
    pub size: u32,
    /// 1 (grey) or 3 (RGB) channels.
    pub channels: u32,
    /// Per-channel mean and standard deviation applied to values in [0, 1].
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// Fractions of the height/width cut off each edge before resizing (e.g. to remove
    /// burned-in text or watermarks): top, bottom, left, right ...
    #[serde(default)]
    pub crop: [f64; 4],
    /// ... but at least this many pixels on each of those edges.
    #[serde(default)]
    pub crop_min_px: [u32; 4],
    /// Boxes blacked out before cropping, as fractions: left, top, right, bottom.
    #[serde(default)]
    pub masks: Vec<[f64; 4]>,
    pub input: String,
}

/// A small graph run on an encoder's output before the vector is stored (e.g. the text
/// encoder's body-region head): one `[1, n]` float input, one `[1, dim]` float output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadSpec {
    /// The `.onnx` file, relative to the manifest.
    pub file: String,
    pub input: String,
    pub output: String,
}

/// One encoder as the manifest describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct EncoderSpec {
    pub name: String,
    pub version: String,
    pub modality: Modality,
    /// The `.onnx` file, relative to the manifest.
    pub file: String,
    pub output: String,
    pub dim: usize,
    /// Whether the graph already L2-normalises its output.
    pub normalized: bool,
    #[serde(default)]
    pub text: Option<TextSpec>,
    #[serde(default)]
    pub image: Option<ImageSpec>,
    /// Run on the model's output; `dim` and `normalized` then describe the head's output.
    #[serde(default)]
    pub head: Option<HeadSpec>,
    #[serde(default)]
    pub licence: String,
}

impl EncoderSpec {
    /// `name@version`, stored with every vector.
    pub fn model_id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    #[serde(rename = "encoder")]
    pub encoders: Vec<EncoderSpec>,
    /// The encoder used per modality unless another is asked for.
    pub default_text: String,
    #[serde(default)]
    pub default_image: Option<String>,
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self, EncodeError> {
        let err = |reason: String| EncodeError::Manifest { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let mut m: Manifest = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        m.dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for e in &m.encoders {
            match (e.modality, &e.text, &e.image) {
                (Modality::Text, Some(_), _) | (Modality::Image, _, Some(_)) => {}
                _ => return Err(err(format!("encoder {} lacks its [encoder.{:?}] section", e.name, e.modality).to_lowercase())),
            }
            for file in std::iter::once(&e.file).chain(e.head.as_ref().map(|h| &h.file)) {
                if !m.dir.join(file).exists() {
                    return Err(err(format!("encoder {}: file {file} is missing", e.name)));
                }
            }
        }
        if m.encoder(&m.default_text).is_none() {
            return Err(err(format!("default_text {:?} is not an encoder", m.default_text)));
        }
        Ok(m)
    }

    /// The default manifest: `PRECEDENT_MODELS_DIR/models.toml`, else `models/models.toml`
    /// under the current directory or beside the binary.
    pub fn default_path() -> PathBuf {
        if let Ok(dir) = std::env::var("PRECEDENT_MODELS_DIR") {
            if !dir.is_empty() {
                return PathBuf::from(dir).join("models.toml");
            }
        }
        let here = PathBuf::from("models/models.toml");
        if here.exists() {
            return here;
        }
        std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join("models/models.toml"))).filter(|p| p.exists()).unwrap_or(here)
    }

    /// The encoder whose `name@version` is `model_id`.
    pub fn by_model_id(&self, model_id: &str) -> Option<&EncoderSpec> {
        self.encoders.iter().find(|e| e.model_id() == model_id)
    }

    pub fn encoder(&self, name: &str) -> Option<&EncoderSpec> {
        self.encoders.iter().find(|e| e.name == name)
    }

    /// The encoder `name`, which must be of `modality`.
    pub fn encoder_of(&self, name: &str, modality: Modality) -> Result<EncoderSpec, EncodeError> {
        let err = |reason: String| EncodeError::Manifest { path: self.dir.display().to_string(), reason };
        let spec = self.encoder(name).cloned().ok_or_else(|| err(format!("no encoder named {name}")))?;
        if spec.modality != modality {
            return Err(err(format!("{name} is not a {modality:?} encoder").to_lowercase()));
        }
        Ok(spec)
    }

    pub fn path_of(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }
}
