//! A lab report PDF from upload to values, as the reader does it: pdf-extract with its panics
//! contained (the server also runs it in a memory-capped child process under a deadline; here
//! libFuzzer's -timeout and -rss_limit_mb stand in for those), then the row parser.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys aborts on any panic; the reader contains pdf-extract's by design, so the
    // hook is quietened and only panics that escape the reader abort the run.
    std::panic::set_hook(Box::new(|_| {}));
    if precedent_media::accept_pdf("fuzz.pdf", data).is_err() {
        return;
    }
    if let Ok(precedent_labs::Extracted::Text(text)) = precedent_labs::extract_text(data.to_vec(), Duration::from_secs(5)) {
        precedent_labs::fuzzing::check_text(&text);
    }
});
