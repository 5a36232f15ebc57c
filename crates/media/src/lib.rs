//! Upload intake and the one bounded image decoder. Files are judged by their bytes, never by
//! their name or declared type: a renamed executable is refused; every image decoded anywhere in
//! the process (uploads, imports, query images of a search, the encoders) goes through
//! [`decode`]: its header is read first and absurd dimensions are refused before any pixel is
//! allocated, the decode runs under the upload limits (no decompression bombs) and at most
//! [`MAX_CONCURRENT_DECODES`] run at once; every accepted upload gets a thumbnail.
use image::{DynamicImage, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// What the bytes of an upload actually are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Png,
    Jpeg,
    Pdf,
    Unknown,
}

impl Sniffed {
    pub fn mime(self) -> &'static str {
        match self {
            Sniffed::Png => "image/png",
            Sniffed::Jpeg => "image/jpeg",
            Sniffed::Pdf => "application/pdf",
            Sniffed::Unknown => "application/octet-stream",
        }
    }
}

/// Identifies a file from its leading bytes.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Sniffed::Png
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Sniffed::Jpeg
    } else if bytes.len() >= 5 && bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
        // PDF readers accept the header anywhere in the first kilobyte.
        Sniffed::Pdf
    } else {
        Sniffed::Unknown
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MediaError {
    #[error("“{name}” is empty.")]
    Empty { name: String },
    #[error("“{name}” is not a JPEG or PNG image (its content is {found}).")]
    NotAnImage { name: String, found: &'static str },
    #[error("“{name}” is not a PDF document.")]
    NotAPdf { name: String },
    #[error("“{name}” is too large ({size_mb:.1} MB; the limit is {limit_mb} MB).")]
    TooLarge { name: String, size_mb: f64, limit_mb: u64 },
    #[error("“{name}” is {width}×{height} pixels; the limit is {max} pixels on a side.")]
    TooManyPixels { name: String, width: u32, height: u32, max: u32 },
    #[error("“{name}” could not be read as an image: {reason}")]
    Undecodable { name: String, reason: String },
}

/// Limits applied to every image.
#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    pub max_side: u32,
    pub max_alloc_bytes: u64,
    pub thumb_side: u32,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self { max_side: 8192, max_alloc_bytes: 512 * 1024 * 1024, thumb_side: 320 }
    }
}

/// An accepted image: its format, size and a PNG/JPEG thumbnail.
#[derive(Debug, Clone)]
pub struct AcceptedImage {
    pub kind: Sniffed,
    pub width: u32,
    pub height: u32,
    pub thumbnail_jpeg: Vec<u8>,
}

fn reason_name(kind: Sniffed) -> &'static str {
    match kind {
        Sniffed::Pdf => "a PDF document",
        Sniffed::Unknown => "not a recognised image",
        Sniffed::Png => "PNG",
        Sniffed::Jpeg => "JPEG",
    }
}

/// At most this many images are decoded at once in the process (each may hold up to the
/// limits' `max_alloc_bytes`); further decodes wait for one to finish.
pub const MAX_CONCURRENT_DECODES: usize = 2;

/// A counting gate for the decodes (they run on blocking threads, so it blocks).
struct DecodeGate {
    running: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
}

static DECODES: DecodeGate = DecodeGate { running: std::sync::Mutex::new(0), freed: std::sync::Condvar::new() };

/// One decode's place in the gate, given back when dropped.
struct DecodePermit;

impl DecodeGate {
    fn enter(&'static self) -> DecodePermit {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        while *running >= MAX_CONCURRENT_DECODES {
            running = self.freed.wait(running).unwrap_or_else(|p| p.into_inner());
        }
        *running += 1;
        DecodePermit
    }
}

impl Drop for DecodePermit {
    fn drop(&mut self) {
        let mut running = DECODES.running.lock().unwrap_or_else(|p| p.into_inner());
        *running = running.saturating_sub(1);
        DECODES.freed.notify_one();
    }
}

/// Decodes a PNG or JPEG under `limits`: content sniffed, dimensions read from the header and
/// refused past `max_side` before any pixel is allocated, the decode's allocations capped, at
/// most [`MAX_CONCURRENT_DECODES`] at once. `name` names the file in errors.
pub fn decode(name: &str, bytes: &[u8], limits: ImageLimits) -> Result<DynamicImage, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty { name: name.to_string() });
    }
    let kind = sniff(bytes);
    let format = match kind {
        Sniffed::Png => ImageFormat::Png,
        Sniffed::Jpeg => ImageFormat::Jpeg,
        other => return Err(MediaError::NotAnImage { name: name.to_string(), found: reason_name(other) }),
    };
    let undecodable = |e: image::ImageError| MediaError::Undecodable { name: name.to_string(), reason: e.to_string() };
    // Read the header first so absurd dimensions are refused before any pixel is allocated.
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(undecodable)?;
    if width == 0 || height == 0 || width > limits.max_side || height > limits.max_side {
        return Err(MediaError::TooManyPixels { name: name.to_string(), width, height, max: limits.max_side });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut l = Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(limits.max_alloc_bytes);
    reader.limits(l);
    let _permit = DECODES.enter();
    reader.decode().map_err(undecodable)
}

/// Checks and decodes an uploaded image, returning its dimensions and a thumbnail.
pub fn accept_image(name: &str, bytes: &[u8], limits: ImageLimits) -> Result<AcceptedImage, MediaError> {
    let img = decode(name, bytes, limits)?;
    let kind = sniff(bytes);
    let thumbnail_jpeg = thumbnail(&img, limits.thumb_side).map_err(|e| MediaError::Undecodable { name: name.to_string(), reason: e.to_string() })?;
    Ok(AcceptedImage { kind, width: img.width(), height: img.height(), thumbnail_jpeg })
}

/// A JPEG no larger than `side` on its longest edge, grey-scale images kept grey.
pub fn thumbnail(img: &DynamicImage, side: u32) -> Result<Vec<u8>, image::ImageError> {
    let small = img.thumbnail(side, side);
    let small = match small {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA8(_) | DynamicImage::ImageLumaA16(_) => {
            DynamicImage::ImageLuma8(small.to_luma8())
        }
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    };
    let mut out = Vec::new();
    small.write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg)?;
    Ok(out)
}

/// Checks an uploaded PDF's size and signature (its text is read by `precedent-labs`).
pub fn accept_pdf(name: &str, bytes: &[u8]) -> Result<(), MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty { name: name.to_string() });
    }
    if sniff(bytes) != Sniffed::Pdf {
        return Err(MediaError::NotAPdf { name: name.to_string() });
    }
    Ok(())
}

/// Refuses a file over `limit_mb` megabytes.
pub fn check_size(name: &str, len: usize, limit_mb: u64) -> Result<(), MediaError> {
    if len as u64 > limit_mb * 1024 * 1024 {
        return Err(MediaError::TooLarge { name: name.to_string(), size_mb: len as f64 / 1048576.0, limit_mb });
    }
    Ok(())
}

/// For fuzzing (the `image_intake` target and the test that replays its inputs).
#[doc(hidden)]
pub mod fuzzing {
    use super::{accept_image, ImageLimits};

    /// The server's limits with a smaller side, so that one input cannot legally take seconds.
    pub const MAX_SIDE: u32 = 4096;

    /// Runs upload intake on `data`: it must give an accepted image within the limits, with a
    /// thumbnail, or an error — a panic or a broken promise is a finding.
    pub fn check_image(data: &[u8]) {
        let limits = ImageLimits { max_side: MAX_SIDE, ..ImageLimits::default() };
        if let Ok(img) = accept_image("fuzz.png", data, limits) {
            assert!(img.width > 0 && img.height > 0 && img.width <= MAX_SIDE && img.height <= MAX_SIDE);
            assert!(!img.thumbnail_jpeg.is_empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = GrayImage::from_fn(w, h, |x, y| Luma([((x + y) % 256) as u8]));
        let mut out = Vec::new();
        DynamicImage::ImageLuma8(img).write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn sniffing_ignores_names() {
        assert_eq!(sniff(&png(4, 4)), Sniffed::Png);
        assert_eq!(sniff(b"%PDF-1.4\n"), Sniffed::Pdf);
        assert_eq!(sniff(b"MZ\x90\x00\x03"), Sniffed::Unknown);
        let err = accept_image("scan.png", b"MZ\x90\x00\x03\x00\x00\x00", ImageLimits::default()).unwrap_err();
        assert!(matches!(err, MediaError::NotAnImage { .. }));
        assert!(err.to_string().contains("scan.png"));
    }

    #[test]
    fn accepts_images_and_makes_thumbnails() {
        let a = accept_image("a.png", &png(640, 480), ImageLimits::default()).unwrap();
        assert_eq!((a.width, a.height), (640, 480));
        let t = image::load_from_memory(&a.thumbnail_jpeg).unwrap();
        assert_eq!(t.width().max(t.height()), 320);
    }

    #[test]
    fn refuses_bombs_truncation_and_empty() {
        let limits = ImageLimits { max_side: 100, ..Default::default() };
        assert!(matches!(accept_image("big.png", &png(200, 10), limits), Err(MediaError::TooManyPixels { .. })));
        let mut bytes = png(64, 64);
        bytes.truncate(bytes.len() / 2);
        assert!(matches!(accept_image("cut.png", &bytes, ImageLimits::default()), Err(MediaError::Undecodable { .. })));
        assert!(matches!(accept_image("e.png", &[], ImageLimits::default()), Err(MediaError::Empty { .. })));
        assert!(check_size("x", 3 * 1024 * 1024, 2).is_err());
        assert!(accept_pdf("x.pdf", b"hello").is_err());
    }
}
