//! The lab report parser on the text of a report: rows, values, units, ranges, flags and the
//! collection date, then normalisation against the analyte catalog. Any text must parse to
//! some (possibly empty) set of values without panicking (`precedent_labs::fuzzing::check_text`,
//! which the crate's tests replay).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    precedent_labs::fuzzing::check_text(&String::from_utf8_lossy(data));
});
