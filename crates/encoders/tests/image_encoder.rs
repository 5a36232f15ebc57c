//! The committed image encoder through the Rust path (decode, grey, mask, crop, resize, ort)
//! against the vectors `models/image/export_reference.py` computed with Pillow + ONNX Runtime.
use precedent_encoders::{ImageEncoder, Manifest};
use precedent_search::vector::cosine;
use std::path::PathBuf;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

fn encoder() -> ImageEncoder {
    let manifest = Manifest::load(&models_dir().join("models.toml")).expect("manifest");
    let name = manifest.default_image.clone().expect("an image encoder in the manifest");
    ImageEncoder::load(&manifest, &name, 1).expect("image encoder (is ONNX Runtime installed? run scripts/setup.sh)")
}

#[test]
fn matches_the_training_pipeline() {
    let mut reference: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(models_dir().join("image/image-reference.json")).unwrap()).unwrap();
    let enc = encoder();
    // The reference vectors belong to the manifest's default image encoder.
    let model = reference.remove("model").expect("the reference names its model");
    assert_eq!(model.as_str(), Some(format!("{}@{}", enc.spec().name, enc.spec().version).as_str()));
    assert_eq!(reference.len(), 3);
    for (file, want) in &reference {
        let want: Vec<f32> = want.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let bytes = std::fs::read(models_dir().join("image/testdata").join(file)).unwrap();
        let got = enc.encode_bytes(&bytes).unwrap();
        assert_eq!(got.len(), enc.spec().dim);
        let c = cosine(&got, &want);
        assert!(c >= 0.99, "{file}: cosine {c}");
        // Deterministic.
        assert_eq!(enc.encode_bytes(&bytes).unwrap(), got);
    }
}

#[test]
fn bad_images_are_errors_not_panics() {
    let enc = encoder();
    assert!(enc.encode_bytes(&[]).is_err());
    assert!(enc.encode_bytes(b"GIF89a not really").is_err());
    let good = std::fs::read(models_dir().join("image/testdata/grey-384x320.png")).unwrap();
    assert!(enc.encode_bytes(&good[..good.len() / 3]).is_err());
    // Too small to keep anything after the footer crop.
    let mut tiny = Vec::new();
    image::DynamicImage::ImageLuma8(image::GrayImage::new(4, 4)).write_to(&mut std::io::Cursor::new(&mut tiny), image::ImageFormat::Png).unwrap();
    assert!(enc.encode_bytes(&tiny).is_err());
}
