//! Replays the image-intake fuzz target's seeds and kept findings (`fuzz/seeds/image_intake`,
//! `fuzz/regressions/image_intake`): each input is accepted or refused with an error, never a panic.
use std::path::Path;

#[test]
fn fuzz_inputs_are_accepted_or_refused_cleanly() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut n = 0;
    for sub in ["seeds/image_intake", "regressions/image_intake"] {
        for entry in std::fs::read_dir(fuzz.join(sub)).into_iter().flatten().flatten() {
            precedent_media::fuzzing::check_image(&std::fs::read(entry.path()).expect("input"));
            n += 1;
        }
    }
    assert!(n >= 2, "the seed images are missing");
}
