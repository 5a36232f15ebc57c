//! A minimal PDF writer (text in Helvetica, lines and rectangles), enough for lab reports.
use std::fmt::Write as _;

/// One page's content stream, built up with text and drawing operations.
#[derive(Default, Clone)]
pub struct Page {
    ops: String,
}

impl Page {
    /// Writes `text` at (x, y) points from the bottom-left, in Helvetica (`bold`) at `size`.
    pub fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) -> &mut Self {
        let font = if bold { "F2" } else { "F1" };
        let _ = writeln!(self.ops, "BT /{font} {size} Tf {x:.1} {y:.1} Td ({}) Tj ET", escape(text));
        self
    }

    /// A horizontal rule.
    pub fn rule(&mut self, x0: f32, x1: f32, y: f32) -> &mut Self {
        let _ = writeln!(self.ops, "0.5 w {x0:.1} {y:.1} m {x1:.1} {y:.1} l S");
        self
    }

    /// A filled grey rectangle (used for "scanned" pages with no text).
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, grey: f32) -> &mut Self {
        let _ = writeln!(self.ops, "{grey:.2} g {x:.1} {y:.1} {w:.1} {h:.1} re f 0 g");
        self
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            // WinAnsi covers Latin-1; anything else is replaced.
            c if (c as u32) < 0x20 => out.push(' '),
            c if (c as u32) < 0x80 => out.push(c),
            c if (c as u32) <= 0xFF => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            _ => out.push('?'),
        }
    }
    out
}

/// Collects pages and serialises a valid PDF 1.4 file with a correct cross-reference table.
#[derive(Default)]
pub struct PdfWriter {
    pages: Vec<Page>,
    title: String,
}

impl PdfWriter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_string();
        self
    }

    pub fn page(&mut self) -> &mut Page {
        self.pages.push(Page::default());
        self.pages.last_mut().expect("just pushed")
    }

    /// A one-page PDF with only graphics, like a scanned report without OCR.
    pub fn finish_blank(mut self) -> Vec<u8> {
        self.page().rect(50.0, 50.0, 495.0, 740.0, 0.85);
        self.finish()
    }

    pub fn finish(mut self) -> Vec<u8> {
        if self.pages.is_empty() {
            self.page();
        }
        // Objects: 1 catalog, 2 pages, 3 font F1, 4 font F2, 5 info, then (page, content) pairs.
        let n = self.pages.len();
        let mut objects: Vec<Vec<u8>> = Vec::new();
        objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
        let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 6 + 2 * i)).collect();
        objects.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
        objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec());
        objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec());
        objects.push(format!("<< /Title ({}) /Producer (Precedent synth) >>", escape(&self.title)).into_bytes());
        for (i, page) in self.pages.iter().enumerate() {
            let content_id = 7 + 2 * i;
            objects.push(
                format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content_id} 0 R >>")
                    .into_bytes(),
            );
            let mut stream = format!("<< /Length {} >>\nstream\n", page.ops.len()).into_bytes();
            stream.extend_from_slice(page.ops.as_bytes());
            stream.extend_from_slice(b"\nendstream");
            objects.push(stream);
        }
        let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let mut offsets = Vec::with_capacity(objects.len());
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
        for off in offsets {
            let _ = write!(table, "{off:010} 00000 n \n");
        }
        out.extend_from_slice(table.as_bytes());
        out.extend_from_slice(format!("trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes());
        out
    }
}
