//! The text encoder: a `tokenizers` tokenizer feeding an ONNX sentence-embedding model.
use crate::error::EncodeError;
use crate::manifest::{EncoderSpec, Manifest, Modality};
use crate::runtime;
use ndarray::Array2;
use ort::session::Session;
use ort::value::Tensor;
use std::sync::Mutex;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

pub struct TextEncoder {
    spec: EncoderSpec,
    tokenizer: Tokenizer,
    // `Session::run` needs `&mut`: one session, one caller at a time.
    session: Mutex<Session>,
    head: Option<runtime::Head>,
}

impl TextEncoder {
    /// Loads the encoder `name` from `manifest` with `threads` intra-op threads.
    pub fn load(manifest: &Manifest, name: &str, threads: usize) -> Result<Self, EncodeError> {
        let spec = manifest.encoder_of(name, Modality::Text)?;
        let text = spec.text.clone().ok_or(EncodeError::EmptyInput("text spec"))?;
        let mut tokenizer = Tokenizer::from_file(manifest.path_of(&text.tokenizer)).map_err(|e| EncodeError::Tokenizer(e.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: text.max_tokens, ..Default::default() }))
            .map_err(|e| EncodeError::Tokenizer(e.to_string()))?;
        let pad = tokenizer.get_padding().cloned().unwrap_or_default();
        tokenizer.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..pad }));
        let session = runtime::session(&manifest.path_of(&spec.file), threads)?;
        let head = runtime::head_of(manifest, &spec)?;
        Ok(Self { spec, tokenizer, session: Mutex::new(session), head })
    }

    pub fn spec(&self) -> &EncoderSpec {
        &self.spec
    }

    /// Embeds each text (blank texts are refused: a case without text has no text vector).
    ///
    /// Each text runs on its own: the int8 model quantises activations per run, so batching
    /// would make a text's vector depend on its batch-mates. One at a time, the same text always
    /// gets the same vector.
    pub fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EncodeError> {
        if texts.iter().any(|t| t.trim().is_empty()) {
            return Err(EncodeError::EmptyInput("blank text"));
        }
        texts
            .iter()
            .map(|t| {
                let started = std::time::Instant::now();
                let v = self.encode_one(t);
                metrics::histogram!("precedent_encoder_seconds", "modality" => "text").record(started.elapsed().as_secs_f64());
                v
            })
            .collect()
    }

    fn encode_one(&self, text: &str) -> Result<Vec<f32>, EncodeError> {
        let text_spec = self.spec.text.as_ref().ok_or(EncodeError::EmptyInput("text spec"))?;
        // Only the first `max_tokens` tokens count; no need to tokenise megabytes to find them.
        let cut = text.char_indices().nth(text_spec.max_tokens * 64).map(|(i, _)| i).unwrap_or(text.len());
        let encodings = self.tokenizer.encode_batch(vec![&text[..cut]], true).map_err(|e| EncodeError::Tokenizer(e.to_string()))?;
        let (batch, len) = (encodings.len(), encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0));
        let mut ids = Array2::<i64>::zeros((batch, len));
        let mut mask = Array2::<i64>::zeros((batch, len));
        let mut types = Array2::<i64>::zeros((batch, len));
        for (i, e) in encodings.iter().enumerate() {
            for (j, ((&id, &m), &t)) in e.get_ids().iter().zip(e.get_attention_mask()).zip(e.get_type_ids()).enumerate() {
                ids[[i, j]] = id as i64;
                mask[[i, j]] = m as i64;
                types[[i, j]] = t as i64;
            }
        }
        let mut inputs = ort::inputs![
            text_spec.inputs[0].as_str() => Tensor::from_array(ids)?,
            text_spec.inputs[1].as_str() => Tensor::from_array(mask)?,
        ];
        if let Some(name) = text_spec.inputs.get(2) {
            inputs.push((name.as_str().into(), Tensor::from_array(types)?.into()));
        }
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session.run(inputs)?;
        let out = outputs[self.spec.output.as_str()].try_extract_array::<f32>()?;
        let vector = out.rows().into_iter().next().map(|r| r.to_vec()).ok_or(EncodeError::EmptyInput("model output"))?;
        drop(outputs);
        drop(session);
        runtime::finish(&self.spec, self.head.as_ref(), vector)
    }
}
