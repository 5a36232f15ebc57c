//! The image encoder: decode (bounded), grey, crop the edge bands named in the manifest, resize,
//! normalise, and run the ONNX model. Grey-scale and colour inputs of any size are accepted.
use crate::error::EncodeError;
use crate::manifest::{EncoderSpec, ImageSpec, Manifest, Modality};
use crate::runtime;
use image::GrayImage;
use ndarray::Array4;
use ort::session::Session;
use ort::value::Tensor;
use std::sync::Mutex;

pub struct ImageEncoder {
    spec: EncoderSpec,
    image: ImageSpec,
    session: Mutex<Session>,
    head: Option<runtime::Head>,
}

/// Grey value of an RGB pixel with ITU-R 601-2 luma weights, rounded as Pillow does, so that the
/// server sees exactly the grey image the encoder was trained on.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((r as u32 * 19595 + g as u32 * 38470 + b as u32 * 7471 + 0x8000) >> 16) as u8
}

/// Decodes `bytes` through the process's one bounded decoder (the upload limits: at most
/// 8,192 pixels on a side, capped allocations, a bounded number of decodes at once) and
/// converts to 8-bit grey.
pub fn decode_grey(bytes: &[u8]) -> Result<GrayImage, EncodeError> {
    let img = precedent_media::decode("image", bytes, precedent_media::ImageLimits::default()).map_err(|e| EncodeError::Image(e.to_string()))?;
    Ok(match img {
        image::DynamicImage::ImageLuma8(g) => g,
        image::DynamicImage::ImageLumaA8(_) | image::DynamicImage::ImageLuma16(_) | image::DynamicImage::ImageLumaA16(_) => img.to_luma8(),
        other => {
            let rgb = other.to_rgb8();
            GrayImage::from_fn(rgb.width(), rgb.height(), |x, y| {
                let p = rgb.get_pixel(x, y).0;
                image::Luma([luma(p[0], p[1], p[2])])
            })
        }
    })
}

/// `side × fraction` rounded half-to-even, as the training code (Python's `round`) does.
fn frac_px(side: u32, fraction: f64) -> u32 {
    (side as f64 * fraction).round_ties_even().clamp(0.0, side as f64) as u32
}

/// Blacks out the masks, crops the edge bands and resizes to the model's input side.
pub fn prepare(grey: &GrayImage, spec: &ImageSpec) -> Result<GrayImage, EncodeError> {
    let (w, h) = grey.dimensions();
    let [ct, cb, cl, cr] = spec.crop;
    let [min_t, min_b, min_l, min_r] = spec.crop_min_px;
    let top = frac_px(h, ct).max(min_t);
    let bottom = h.saturating_sub(frac_px(h, cb).max(min_b));
    let left = frac_px(w, cl).max(min_l);
    let right = w.saturating_sub(frac_px(w, cr).max(min_r));
    if bottom <= top || right <= left {
        return Err(EncodeError::Image(format!("image of {w}×{h} pixels is too small")));
    }
    // One copy: the crop. The masks are fractions of the whole image; only their part inside
    // the crop is blacked out (the rest is cut off anyway).
    let mut cropped = image::imageops::crop_imm(grey, left, top, right - left, bottom - top).to_image();
    for [ml, mt, mr, mb] in &spec.masks {
        for y in frac_px(h, *mt).max(top)..frac_px(h, *mb).min(bottom) {
            for x in frac_px(w, *ml).max(left)..frac_px(w, *mr).min(right) {
                cropped.put_pixel(x - left, y - top, image::Luma([0]));
            }
        }
    }
    Ok(resize_bilinear(&cropped, spec.size, spec.size))
}

/// Bits of the fixed-point filter weights, as in Pillow's `Resample.c` for 8-bit images.
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// Pillow's bilinear (triangle) filter weights for resampling `in_size` pixels to `out_size`:
/// for each output pixel, the first input pixel and the fixed-point weights of its window.
fn bilinear_weights(in_size: u32, out_size: u32) -> Vec<(usize, Vec<i32>)> {
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = filterscale; // the triangle's support is 1
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            // C's (int) truncates toward zero; the clamps make that the same as floor here.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let w: Vec<f64> = (xmin..xmax.max(xmin))
                .map(|x| {
                    let d = ((x as f64 - center + 0.5) / filterscale).abs();
                    if d < 1.0 {
                        1.0 - d
                    } else {
                        0.0
                    }
                })
                .collect();
            let total: f64 = w.iter().sum();
            let fixed = w
                .iter()
                .map(|&k| {
                    let k = if total != 0.0 { k / total } else { k };
                    (k * (1u32 << PRECISION_BITS) as f64 + if k < 0.0 { -0.5 } else { 0.5 }) as i32
                })
                .collect();
            (xmin, fixed)
        })
        .collect()
}

/// One fixed-point dot product, rounded and clipped to a byte as Pillow does.
fn sample(pixels: impl Iterator<Item = u8>, weights: &[i32]) -> u8 {
    let acc = pixels.zip(weights).fold(1i64 << (PRECISION_BITS - 1), |acc, (p, &w)| acc + p as i64 * w as i64);
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resizes a grey image exactly as Pillow's `Image.resize(size, Image.BILINEAR)` does (the
/// training code's resize): a horizontal then a vertical pass with an antialiasing triangle filter
/// and 8-bit rounding between them. Pillow skips a pass whose size does not change; so does this.
pub fn resize_bilinear(src: &GrayImage, width: u32, height: u32) -> GrayImage {
    let (w, h) = src.dimensions();
    let horizontal = if width != w {
        let weights = bilinear_weights(w, width);
        let row_len = w as usize;
        let raw = src.as_raw();
        let mut out = Vec::with_capacity(width as usize * h as usize);
        for row in raw.chunks_exact(row_len) {
            out.extend(weights.iter().map(|(x0, k)| sample(row[*x0..].iter().copied(), k)));
        }
        GrayImage::from_raw(width, h, out).unwrap_or_else(|| GrayImage::new(width, h))
    } else {
        src.clone()
    };
    if height == h {
        return horizontal;
    }
    let weights = bilinear_weights(h, height);
    let raw = horizontal.as_raw();
    let stride = width as usize;
    let mut out = Vec::with_capacity(width as usize * height as usize);
    for (y0, k) in &weights {
        for x in 0..stride {
            out.push(sample((0..k.len()).map(|i| raw[(y0 + i) * stride + x]), k));
        }
    }
    GrayImage::from_raw(width, height, out).unwrap_or_else(|| GrayImage::new(width, height))
}

impl ImageEncoder {
    pub fn load(manifest: &Manifest, name: &str, threads: usize) -> Result<Self, EncodeError> {
        let spec = manifest.encoder_of(name, Modality::Image)?;
        let image = spec.image.clone().ok_or(EncodeError::EmptyInput("image spec"))?;
        if image.channels != 1 && image.channels != 3 {
            return Err(EncodeError::Manifest { path: manifest.dir.display().to_string(), reason: "channels must be 1 or 3".into() });
        }
        let session = runtime::session(&manifest.path_of(&spec.file), threads)?;
        let head = runtime::head_of(manifest, &spec)?;
        Ok(Self { spec, image, session: Mutex::new(session), head })
    }

    pub fn spec(&self) -> &EncoderSpec {
        &self.spec
    }

    /// Embeds one encoded image file (PNG or JPEG bytes).
    pub fn encode_bytes(&self, bytes: &[u8]) -> Result<Vec<f32>, EncodeError> {
        let grey = decode_grey(bytes)?;
        self.encode_grey(&grey)
    }

    /// Embeds an already decoded grey image (its latency is recorded as
    /// `precedent_encoder_seconds{modality="image"}`).
    pub fn encode_grey(&self, grey: &GrayImage) -> Result<Vec<f32>, EncodeError> {
        let started = std::time::Instant::now();
        let v = self.encode_prepared(grey);
        metrics::histogram!("precedent_encoder_seconds", "modality" => "image").record(started.elapsed().as_secs_f64());
        v
    }

    fn encode_prepared(&self, grey: &GrayImage) -> Result<Vec<f32>, EncodeError> {
        let prepared = prepare(grey, &self.image)?;
        let s = self.image.size as usize;
        let c = self.image.channels as usize;
        let mut input = Array4::<f32>::zeros((1, c, s, s));
        for (x, y, p) in prepared.enumerate_pixels() {
            let v = p.0[0] as f32 / 255.0;
            for ch in 0..c {
                let (m, sd) = (self.image.mean.get(ch).copied().unwrap_or(0.0), self.image.std.get(ch).copied().unwrap_or(1.0));
                input[[0, ch, y as usize, x as usize]] = (v - m) / sd;
            }
        }
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session.run(ort::inputs![self.image.input.as_str() => Tensor::from_array(input)?])?;
        let out = outputs[self.spec.output.as_str()].try_extract_array::<f32>()?;
        let v: Vec<f32> = out.iter().copied().collect();
        drop(outputs);
        drop(session);
        runtime::finish(&self.spec, self.head.as_ref(), v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(crop: [f64; 4]) -> ImageSpec {
        ImageSpec { size: 8, channels: 1, mean: vec![0.0], std: vec![1.0], crop, crop_min_px: [0; 4], masks: Vec::new(), input: "image".into() }
    }

    #[test]
    fn luma_matches_pillow() {
        // Pillow: L = R*299/1000 + G*587/1000 + B*114/1000, rounded.
        assert_eq!(luma(255, 255, 255), 255);
        assert_eq!(luma(0, 0, 0), 0);
        assert_eq!(luma(255, 0, 0), 76);
        assert_eq!(luma(0, 255, 0), 150);
        assert_eq!(luma(0, 0, 255), 29);
    }

    #[test]
    fn crop_removes_the_bands() {
        // A bright top band (like a watermark) is gone after a 25 % top crop.
        let img = GrayImage::from_fn(40, 40, |_, y| image::Luma([if y < 10 { 255 } else { 0 }]));
        let out = prepare(&img, &spec([0.25, 0.0, 0.0, 0.0])).unwrap();
        assert!(out.pixels().all(|p| p.0[0] == 0));
        assert!(prepare(&GrayImage::new(1, 1), &spec([0.6, 0.6, 0.0, 0.0])).is_err());
    }

    #[test]
    fn masks_and_minimum_crops() {
        // A watermark in the top-right corner and a 30-pixel footer: both gone.
        let img = GrayImage::from_fn(100, 100, |x, y| image::Luma([if (x >= 60 && y < 20) || y >= 70 { 255 } else { 0 }]));
        let mut s = spec([0.0, 0.1, 0.0, 0.0]);
        s.crop_min_px = [0, 30, 0, 0];
        s.masks = vec![[0.5, 0.0, 1.0, 0.25]];
        let out = prepare(&img, &s).unwrap();
        assert!(out.pixels().all(|p| p.0[0] == 0));
        assert_eq!(frac_px(5, 0.5), 2); // half to even, like Python
        assert_eq!(frac_px(7, 0.5), 4);
    }

    #[test]
    fn masking_inside_the_crop_equals_masking_the_whole_image_then_cropping() {
        // The order Python's preprocessing uses: black out on the full image, then crop.
        let img = GrayImage::from_fn(97, 83, |x, y| image::Luma([((x * 7 + y * 13) % 251) as u8 + 1]));
        let mut s = spec([0.12, 0.15, 0.1, 0.05]);
        s.crop_min_px = [0, 30, 3, 0];
        s.masks = vec![[0.2, 0.0, 1.0, 0.25], [0.0, 0.4, 0.3, 0.6], [0.9, 0.9, 1.0, 1.0]];
        s.size = 40;
        let (w, h) = img.dimensions();
        let mut whole = img.clone();
        for [ml, mt, mr, mb] in &s.masks {
            for y in frac_px(h, *mt)..frac_px(h, *mb) {
                for x in frac_px(w, *ml)..frac_px(w, *mr) {
                    whole.put_pixel(x, y, image::Luma([0]));
                }
            }
        }
        let (top, left) = (frac_px(h, 0.12), frac_px(w, 0.1).max(3));
        let (bottom, right) = (h - frac_px(h, 0.15).max(30), w - frac_px(w, 0.05));
        let cropped = image::imageops::crop_imm(&whole, left, top, right - left, bottom - top).to_image();
        assert_eq!(prepare(&img, &s).unwrap(), resize_bilinear(&cropped, s.size, s.size));
    }

    #[test]
    fn bilinear_resize_matches_pillow() {
        // Pillow 13: im = Image.frombytes("L", (5, 3), bytes(range(0, 150, 10)));
        // list(im.resize((3, 2), Image.BILINEAR).tobytes()), and the same for (10, 3).
        let src = GrayImage::from_raw(5, 3, (0..150).step_by(10).map(|v| v as u8).collect()).unwrap();
        assert_eq!(resize_bilinear(&src, 3, 2).as_raw(), &[23, 39, 55, 85, 101, 117]);
        let up: [u8; 30] = [0, 3, 8, 13, 18, 23, 28, 33, 38, 40, 50, 53, 58, 63, 68, 73, 78, 83, 88, 90, 100, 103, 108, 113, 118, 123, 128, 133, 138, 140];
        assert_eq!(resize_bilinear(&src, 10, 3).as_raw(), &up);
        assert_eq!(resize_bilinear(&src, 5, 3), src);
    }

    #[test]
    fn refuses_garbage() {
        assert!(decode_grey(b"not an image").is_err());
    }
}
