//! Scan-like grey-scale images: an anatomical backdrop for the region (skull and brain, lungs
//! and mediastinum, organs, vertebrae and discs, bone) with the condition's finding planted at
//! a random place, plus noise.
use crate::conditions::{Finding, Region};
use crate::rng::Rng;
use image::{GrayImage, Luma};

/// A 256×256 grey-scale scan-like image of `region` with `finding` planted at a random place.
pub fn render_scan(rng: &mut Rng, region: Region, finding: Finding) -> GrayImage {
    const S: u32 = 256;
    let mut img = GrayImage::new(S, S);
    let noise_seed = rng.next_u64();
    let cx = S as f32 / 2.0 + rng.range(-8.0, 8.0);
    let cy = S as f32 / 2.0 + rng.range(-8.0, 8.0);
    // Where the finding sits, in the region's tissue.
    let (fx, fy) = (cx + rng.range(-40.0, 40.0), cy + rng.range(-40.0, 40.0));
    let fr = rng.range(10.0, 22.0);
    let angle = rng.range(0.0, std::f32::consts::TAU);
    let mut noise = Rng::new(noise_seed);
    for y in 0..S {
        for x in 0..S {
            let (xf, yf) = (x as f32, y as f32);
            let mut v = backdrop(region, xf - cx, yf - cy);
            v += plant(finding, xf - fx, yf - fy, fr, angle, v);
            v += noise.normal() * 6.0;
            img.put_pixel(x, y, Luma([v.clamp(0.0, 255.0) as u8]));
        }
    }
    img
}

fn ellipse(dx: f32, dy: f32, rx: f32, ry: f32) -> f32 {
    (dx / rx).powi(2) + (dy / ry).powi(2)
}

fn backdrop(region: Region, dx: f32, dy: f32) -> f32 {
    match region {
        Region::Brain => {
            let e = ellipse(dx, dy, 100.0, 118.0);
            if e > 1.0 {
                5.0
            } else if e > 0.85 {
                230.0 // skull
            } else {
                95.0 + 25.0 * ((dx * 0.08).sin() * (dy * 0.05).cos()).abs() // grey/white matter
            }
        }
        Region::Chest => {
            let body = ellipse(dx, dy, 120.0, 100.0);
            let left = ellipse(dx + 50.0, dy + 5.0, 42.0, 75.0);
            let right = ellipse(dx - 50.0, dy + 5.0, 42.0, 75.0);
            if body > 1.0 {
                5.0
            } else if left < 1.0 || right < 1.0 {
                30.0 + 10.0 * ((dx * 0.3).sin() * (dy * 0.3).sin()).abs() // aerated lung
            } else if dx.abs() < 12.0 {
                200.0 // spine / mediastinum
            } else {
                120.0
            }
        }
        Region::Abdomen => {
            let body = ellipse(dx, dy, 118.0, 95.0);
            if body > 1.0 {
                5.0
            } else if ellipse(dx + 45.0, dy + 20.0, 45.0, 35.0) < 1.0 {
                140.0 // liver
            } else if ellipse(dx, dy - 55.0, 14.0, 14.0) < 1.0 {
                220.0 // vertebral body
            } else if ellipse(dx - 60.0, dy - 30.0, 16.0, 24.0) < 1.0 || ellipse(dx + 60.0, dy - 30.0, 16.0, 24.0) < 1.0 {
                150.0 // kidneys
            } else {
                100.0 + 20.0 * ((dx * 0.15).sin() + (dy * 0.12).cos()) // bowel
            }
        }
        Region::Spine => {
            if dx.abs() > 70.0 {
                20.0
            } else if dx.abs() < 22.0 {
                let seg = (dy + 128.0) % 40.0;
                if seg < 30.0 {
                    170.0 // vertebral bodies
                } else {
                    90.0 // discs
                }
            } else if dx > 22.0 && dx < 36.0 {
                60.0 // canal
            } else {
                110.0
            }
        }
        Region::Limb => {
            if dx.abs() > 60.0 {
                10.0
            } else if dx.abs() > 26.0 {
                90.0 // soft tissue
            } else if dx.abs() > 14.0 {
                235.0 // cortex
            } else {
                150.0 // medulla
            }
        }
    }
}

fn plant(finding: Finding, dx: f32, dy: f32, r: f32, angle: f32, base: f32) -> f32 {
    let d = (dx * dx + dy * dy).sqrt();
    match finding {
        Finding::BrightMass => {
            if d < r {
                90.0 * (1.0 - (d / r).powi(2))
            } else {
                0.0
            }
        }
        Finding::RingLesion => {
            if (d - r).abs() < 3.5 {
                110.0
            } else if d < r {
                -35.0
            } else if d < r * 1.8 {
                -15.0 // oedema
            } else {
                0.0
            }
        }
        Finding::DarkWedge => {
            let a = dy.atan2(dx) - angle;
            let a = (a + std::f32::consts::PI).rem_euclid(std::f32::consts::TAU) - std::f32::consts::PI;
            if a.abs() < 0.45 && d < r * 3.0 {
                -45.0
            } else {
                0.0
            }
        }
        Finding::Consolidation => {
            if d < r * 1.8 {
                (120.0 - base).max(0.0) * (1.0 - d / (r * 1.8))
            } else {
                0.0
            }
        }
        Finding::AirCrescent => {
            if d < r * 2.6 && d > r * 1.6 && dx * angle.cos() + dy * angle.sin() > 0.0 {
                -(base - 8.0).max(0.0)
            } else {
                0.0
            }
        }
        Finding::BrightDot => {
            if d < r * 0.45 {
                140.0
            } else if d < r {
                25.0
            } else {
                0.0
            }
        }
        Finding::CorticalBreak => {
            if d < r * 1.5 {
                if ((dx * 0.9).sin() * (dy * 0.9).cos()) > 0.2 {
                    60.0
                } else {
                    -40.0
                }
            } else {
                0.0
            }
        }
        Finding::Bulge => {
            if ellipse(dx, dy, r * 1.2, r * 0.6) < 1.0 {
                -50.0
            } else {
                0.0
            }
        }
    }
}
