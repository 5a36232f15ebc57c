//! Replays the library-manifest fuzz target's seeds and kept findings
//! (`fuzz/seeds/library_manifest`, `fuzz/regressions/library_manifest`) through the same check
//! the target runs (`precedent_library::fuzzing::check_manifest_bytes`): every row is read or
//! refused with a reason, never a panic.
use std::path::Path;

#[test]
fn fuzzed_manifests_are_read_or_refused() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let dir = std::env::temp_dir().join(format!("precedent-library-fuzz-{}", std::process::id()));
    let mut n = 0;
    for sub in ["seeds/library_manifest", "regressions/library_manifest"] {
        for entry in std::fs::read_dir(fuzz.join(sub)).into_iter().flatten().flatten() {
            let data = std::fs::read(entry.path()).expect("input");
            if precedent_library::fuzzing::check_manifest_bytes(&dir, &data) {
                n += 1;
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(n >= 2, "the manifest seeds are missing");
}
