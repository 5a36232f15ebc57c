//! The case-library reader (`precedent import`, the admin import page): a `cases.jsonl`
//! manifest, or a MedPix folder's `cases.csv` + `images.csv`. The input is written as those
//! files beside one scan; every row must be read or refused with a reason, never panic (the
//! check is `precedent_library::fuzzing::check_manifest_bytes`, which the crate's tests replay).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| std::env::temp_dir().join(format!("precedent-fuzz-library-{}", std::process::id())))
}

fuzz_target!(|data: &[u8]| {
    precedent_library::fuzzing::check_manifest_bytes(dir(), data);
});
