//! Replays the image-intake fuzz target's seeds and kept findings (`fuzz/seeds/image_intake`,
//! `fuzz/regressions/image_intake`): each input is accepted or refused with an error, never a panic.
use precedent_media::{accept_image, ImageLimits};
use std::path::Path;

#[test]
fn fuzz_inputs_are_accepted_or_refused_cleanly() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut n = 0;
    for sub in ["seeds/image_intake", "regressions/image_intake"] {
        for entry in std::fs::read_dir(fuzz.join(sub)).into_iter().flatten().flatten() {
            let bytes = std::fs::read(entry.path()).expect("input");
            let limits = ImageLimits { max_side: 4096, ..ImageLimits::default() };
            if let Ok(img) = accept_image("fuzz", &bytes, limits) {
                assert!(img.width > 0 && img.height > 0 && !img.thumbnail_jpeg.is_empty(), "{}", entry.path().display());
            }
            n += 1;
        }
    }
    assert!(n >= 2, "the seed images are missing");
}
