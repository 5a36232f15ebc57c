//! The committed int8 text encoder, run through `ort` + `tokenizers`, against the reference
//! vectors that `models/text/export_minilm.py` computed with sentence-transformers (fp32).
use precedent_search::{cosine, Manifest, TextEncoder};
use std::path::PathBuf;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

fn encoder() -> TextEncoder {
    let manifest = Manifest::load(&models_dir().join("models.toml")).expect("manifest");
    TextEncoder::load(&manifest, &manifest.default_text, 1).expect("text encoder (is ONNX Runtime installed? run scripts/setup.sh)")
}

#[test]
fn matches_sentence_transformers_reference() {
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models_dir().join("text/minilm-reference.json")).unwrap()).unwrap();
    let sentences: Vec<&str> = reference["sentences"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    let expected: Vec<Vec<f32>> = reference["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
        .collect();
    let enc = encoder();
    let batch = enc.encode(&sentences).unwrap();
    for (i, (got, want)) in batch.iter().zip(&expected).enumerate() {
        assert_eq!(got.len(), 384);
        let norm: f32 = got.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "sentence {i} not normalised: {norm}");
        let c = cosine(got, want);
        assert!(c >= 0.98, "sentence {i} {:?}: cosine {c}", &sentences[i][..sentences[i].len().min(40)]);
        // The same text always gets the same vector, whatever it is encoded with.
        let alone = enc.encode(&[sentences[i]]).unwrap();
        assert_eq!(&alone[0], got, "sentence {i}: not reproducible");
    }
}

#[test]
fn related_texts_are_closer_than_unrelated_ones() {
    let enc = encoder();
    let v = enc
        .encode(&["fever, productive cough and crackles at the right lung base", "pneumonia with consolidation", "fractured distal radius after a fall"])
        .unwrap();
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]));
}

#[test]
fn blank_and_huge_inputs() {
    let enc = encoder();
    assert!(enc.encode(&["   "]).is_err());
    assert!(enc.encode(&[]).unwrap().is_empty());
    // 10 MB of text is truncated to 256 tokens, not an error.
    let huge = "chest pain ".repeat(1_000_000);
    let v = enc.encode(&[huge.as_str()]).unwrap();
    assert_eq!(v[0].len(), 384);
}
