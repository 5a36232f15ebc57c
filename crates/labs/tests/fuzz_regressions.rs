//! Replays the lab fuzz targets' seeds and kept findings (`fuzz/seeds/lab_text`, `lab_pdf` and
//! their `fuzz/regressions/` folders): every text parses, every PDF is read or refused, no panic.
use std::path::{Path, PathBuf};
use std::time::Duration;

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    ["seeds", "regressions"].iter().flat_map(|sub| std::fs::read_dir(fuzz.join(sub).join(target)).into_iter().flatten().flatten().map(|e| e.path())).collect()
}

#[test]
fn fuzzed_texts_parse() {
    let files = inputs("lab_text");
    assert!(!files.is_empty(), "the lab text seeds are missing");
    for f in files {
        precedent_labs::fuzzing::check_text(&String::from_utf8_lossy(&std::fs::read(&f).expect("input")));
    }
}

#[test]
fn fuzzed_pdfs_are_read_or_refused() {
    let files = inputs("lab_pdf");
    assert!(!files.is_empty(), "the lab PDF seeds are missing");
    for f in files {
        let bytes = std::fs::read(&f).expect("input");
        if let Ok(precedent_labs::Extracted::Text(text)) = precedent_labs::extract_text(bytes, Duration::from_secs(10)) {
            precedent_labs::fuzzing::check_text(&text);
        }
    }
}
