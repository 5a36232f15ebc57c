//! Upload intake for scans: content sniffing, the header check against absurd dimensions and
//! the bounded decode with its thumbnail. Any bytes must give an accepted image or a clear
//! error — no panic, no unbounded allocation (libFuzzer's -rss_limit_mb catches those). The
//! check is `precedent_media::fuzzing::check_image`, which the crate's tests replay.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    precedent_media::fuzzing::check_image(data);
});
