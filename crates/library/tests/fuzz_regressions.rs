//! Replays the library-manifest fuzz target's seeds and kept findings
//! (`fuzz/seeds/library_manifest`, `fuzz/regressions/library_manifest`), laid out as the target
//! lays them (first byte even: `cases.jsonl`; odd: MedPix `cases.csv` and `images.csv` split at
//! byte 0xff) beside one scan: every row is read or refused with a reason, never a panic.
use std::path::Path;

#[test]
fn fuzzed_manifests_are_read_or_refused() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let dir = std::env::temp_dir().join(format!("precedent-library-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("images")).expect("dir");
    std::fs::write(dir.join("images/a.png"), b"scan").expect("scan");
    let mut n = 0;
    for sub in ["seeds/library_manifest", "regressions/library_manifest"] {
        for entry in std::fs::read_dir(fuzz.join(sub)).into_iter().flatten().flatten() {
            let data = std::fs::read(entry.path()).expect("input");
            for f in ["cases.jsonl", "cases.csv", "images.csv"] {
                let _ = std::fs::remove_file(dir.join(f));
            }
            let Some((b, rest)) = data.split_first() else { continue };
            if b % 2 == 0 {
                std::fs::write(dir.join("cases.jsonl"), rest).expect("write");
            } else {
                let cut = rest.iter().position(|&b| b == 0xff).unwrap_or(rest.len());
                std::fs::write(dir.join("cases.csv"), &rest[..cut]).expect("write");
                std::fs::write(dir.join("images.csv"), rest.get(cut + 1..).unwrap_or_default()).expect("write");
            }
            if let Ok(lib) = precedent_library::open(&dir) {
                for c in &lib.cases {
                    assert!(!c.images.is_empty() && c.images.iter().all(|i| i.path.starts_with(&dir)), "{}", entry.path().display());
                }
            }
            n += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(n >= 2, "the manifest seeds are missing");
}
