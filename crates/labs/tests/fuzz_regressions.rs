//! Replays the lab fuzz targets' seeds and kept findings (`fuzz/seeds/lab_text`, `lab_pdf` and
//! their `fuzz/regressions/` folders): every text parses, every PDF is read or refused, no panic.
use std::path::{Path, PathBuf};
use std::time::Duration;

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    ["seeds", "regressions"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(fuzz.join(sub).join(target)).into_iter().flatten().flatten().map(|e| e.path()))
        .collect()
}

#[test]
fn fuzzed_texts_parse() {
    let files = inputs("lab_text");
    assert!(!files.is_empty(), "the lab text seeds are missing");
    for f in files {
        let text = String::from_utf8_lossy(&std::fs::read(&f).expect("input")).to_string();
        for v in precedent_labs::read_values(&text).0 {
            assert!(v.value.is_none_or(f64::is_finite), "{}: {v:?}", f.display());
        }
    }
}

#[test]
fn fuzzed_pdfs_are_read_or_refused() {
    let files = inputs("lab_pdf");
    assert!(!files.is_empty(), "the lab PDF seeds are missing");
    for f in files {
        let bytes = std::fs::read(&f).expect("input");
        if let Ok(precedent_labs::Extracted::Text(text)) = precedent_labs::extract_text(bytes, Duration::from_secs(10)) {
            let _ = precedent_labs::read_values(&text);
        }
    }
}
