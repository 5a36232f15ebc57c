//! Reading lab report PDFs. Extraction runs under a deadline, in a memory-capped child process
//! in the server ([`reader`]), so a hostile or broken PDF yields a clear error instead of a
//! crash; the text is then cut into result rows ([`parse`]) and normalised against a curated analyte
//! table ([`catalog`], [`normalise`]).
pub mod catalog;
pub mod normalise;
pub mod parse;
pub mod reader;
pub mod score;

pub use normalise::{normalise, LabValue};
pub use parse::{parse_text, Flag, Parsed, Qualifier, Row, Value};
pub use reader::{extract_text, Extracted, Isolation, LabsError, PdfReader};

/// Parses a report's extracted text into normalised values and its collection date.
pub fn read_values(text: &str) -> (Vec<LabValue>, Option<String>) {
    let parsed = parse_text(text);
    (parsed.rows.iter().map(normalise).collect(), parsed.collected)
}

/// For fuzzing (the `lab_text` and `lab_pdf` targets and the test that replays their inputs).
#[doc(hidden)]
pub mod fuzzing {
    /// Reads values from any text: it must parse (possibly to nothing) without a panic, and
    /// every value read must be finite.
    pub fn check_text(text: &str) {
        for v in super::read_values(text).0 {
            if let Some(x) = v.value {
                assert!(x.is_finite(), "a non-finite value was read: {v:?}");
            }
        }
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;
    use precedent_synth::labfix;
    use std::time::Duration;

    /// Every layout of the generated fixtures: at least 98% of values read exactly right.
    #[test]
    fn generated_fixtures_are_read_right() {
        let mut total = 0;
        let mut right = 0;
        let mut failures = Vec::new();
        for f in labfix::fixtures(1, 4) {
            let text = match extract_text(f.pdf.clone(), Duration::from_secs(10)).unwrap() {
                Extracted::Text(t) => t,
                Extracted::NoTextLayer => panic!("{} has no text", f.layout),
            };
            let (values, collected) = read_values(&text);
            assert_eq!(collected.as_deref(), Some(f.collected.as_str()), "{}", f.layout);
            let expected: Vec<score::Expected> = f
                .values
                .iter()
                .map(|t| score::Expected { name: t.name.clone(), value: t.value.clone(), unit: t.unit.clone(), low: t.low, high: t.high })
                .collect();
            let (ok, wrong) = score::score(&values, &expected);
            total += expected.len();
            right += ok;
            for (e, got) in wrong {
                failures.push(format!(
                    "[{}] {e:?}
    read: {got:?}",
                    f.layout
                ));
            }
            if values.len() > expected.len() {
                failures.push(format!("[{}] {} extra rows", f.layout, values.len() - expected.len()));
            }
        }
        let accuracy = right as f64 / total as f64;
        eprintln!("fixtures: {right}/{total} values right ({:.1}%)\n{}", 100.0 * accuracy, failures.join("\n"));
        assert!(accuracy >= 0.98, "{right}/{total} = {accuracy:.3}\n{}", failures.join("\n"));
    }
}
