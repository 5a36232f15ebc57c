//! Upload intake for scans: content sniffing, the header check against absurd dimensions and
//! the bounded decode with its thumbnail. Any bytes must give an accepted image or a clear
//! error — no panic, no unbounded allocation (libFuzzer's -rss_limit_mb catches those).
#![no_main]
use libfuzzer_sys::fuzz_target;
use precedent_media::{accept_image, ImageLimits};

fuzz_target!(|data: &[u8]| {
    // The server's limits, with a smaller side so one input cannot legally take seconds.
    let limits = ImageLimits { max_side: 4096, ..ImageLimits::default() };
    if let Ok(img) = accept_image("fuzz.png", data, limits) {
        assert!(img.width > 0 && img.height > 0 && img.width <= 4096 && img.height <= 4096);
        assert!(!img.thumbnail_jpeg.is_empty());
    }
});
