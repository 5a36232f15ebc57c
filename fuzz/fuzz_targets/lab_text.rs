//! The lab report parser on the text of a report: rows, values, units, ranges, flags and the
//! collection date, then normalisation against the analyte catalog. Any text must parse to
//! some (possibly empty) set of values without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (values, _collected) = precedent_labs::read_values(&text);
    for v in values {
        if let Some(x) = v.value {
            assert!(x.is_finite(), "a non-finite value was read: {v:?}");
        }
    }
});
