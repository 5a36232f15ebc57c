//! The case-library reader (`precedent import`, the admin import page): a `cases.jsonl`
//! manifest, or a MedPix folder's `cases.csv` + `images.csv`. The input is written as those
//! files beside one real scan; every row must be read or refused with a reason, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("precedent-fuzz-library-{}", std::process::id()));
        std::fs::create_dir_all(d.join("images")).expect("fuzz dir");
        std::fs::write(d.join("images/a.png"), b"scan").expect("scan");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let d = dir();
    for f in ["cases.jsonl", "cases.csv", "images.csv"] {
        let _ = std::fs::remove_file(d.join(f));
    }
    match data.split_first() {
        Some((b, rest)) if b % 2 == 0 => std::fs::write(d.join("cases.jsonl"), rest).expect("write"),
        Some((_, rest)) => {
            let cut = rest.iter().position(|&b| b == 0xff).unwrap_or(rest.len());
            std::fs::write(d.join("cases.csv"), &rest[..cut]).expect("write");
            std::fs::write(d.join("images.csv"), rest.get(cut + 1..).unwrap_or_default()).expect("write");
        }
        None => return,
    }
    if let Ok(lib) = precedent_library::open(d) {
        let refused: std::collections::HashSet<_> = lib.refused.iter().map(|r| r.line).collect();
        for c in &lib.cases {
            assert!(!c.images.is_empty(), "a case without scans was accepted");
            assert!(c.images.iter().all(|i| i.path.starts_with(d)), "a scan outside the library folder");
            assert!(!refused.contains(&c.line), "line {} both read and refused", c.line);
        }
    }
});
