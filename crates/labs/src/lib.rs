//! Reading lab report PDFs. Extraction runs on its own thread under a time limit and with
//! panics contained, so a hostile or broken PDF yields a clear error instead of a crash.
use std::sync::mpsc;
use std::time::Duration;

/// What reading a PDF's text layer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extracted {
    /// The text layer, whitespace-normalised per line.
    Text(String),
    /// The PDF has no text layer (e.g. a scanned page): stored, but nothing to read.
    NoTextLayer,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabsError {
    #[error("the PDF could not be read: {0}")]
    Unreadable(String),
    #[error("the PDF is encrypted")]
    Encrypted,
    #[error("reading the PDF took longer than {0:?}")]
    Timeout(Duration),
}

/// Extracts the text layer of `bytes`, giving up after `limit`.
pub fn extract_text(bytes: Vec<u8>, limit: Duration) -> Result<Extracted, LabsError> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new().name("pdf-extract".into()).spawn(move || {
        let outcome = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(&bytes));
        let _ = tx.send(outcome);
    });
    if let Err(e) = spawned {
        return Err(LabsError::Unreadable(format!("no thread for the parser: {e}")));
    }
    match rx.recv_timeout(limit) {
        Ok(Ok(Ok(text))) => Ok(normalise(&text)),
        Ok(Ok(Err(e))) => {
            let msg = e.to_string();
            if msg.to_ascii_lowercase().contains("encrypt") {
                Err(LabsError::Encrypted)
            } else {
                Err(LabsError::Unreadable(msg))
            }
        }
        Ok(Err(_panic)) => Err(LabsError::Unreadable("the parser failed on this file".into())),
        // The thread is left to finish on its own; its result is dropped.
        Err(_) => Err(LabsError::Timeout(limit)),
    }
}

fn normalise(text: &str) -> Extracted {
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        Extracted::NoTextLayer
    } else {
        Extracted::Text(lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_generated_lab_report() {
        let case = precedent_synth::generate(7, 1).remove(0);
        let pdf = case.lab_pdf.expect("synthetic cases carry a lab report");
        match extract_text(pdf, Duration::from_secs(10)).unwrap() {
            Extracted::Text(t) => {
                assert!(t.contains("Haemoglobin"), "{t}");
                assert!(t.contains("g/dL"), "{t}");
            }
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[test]
    fn no_text_layer_and_garbage() {
        let blank = precedent_synth::pdf::PdfWriter::new().finish_blank();
        assert_eq!(extract_text(blank, Duration::from_secs(10)).unwrap(), Extracted::NoTextLayer);
        assert!(extract_text(b"%PDF-1.4 garbage".to_vec(), Duration::from_secs(10)).is_err());
        assert!(extract_text(Vec::new(), Duration::from_secs(10)).is_err());
    }
}
