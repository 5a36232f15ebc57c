"""Write reference vectors for the default image encoder in models.toml: three small test images
(grey, colour, odd sizes) are preprocessed exactly as in training and run through its ONNX file
with ONNX Runtime; crates/encoders/tests/image_encoder.rs checks that the Rust path agrees.

    ~/.cache/precedent-export-venv/bin/python models/image/export_reference.py
"""
import json
import tomllib
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw

from train_image_encoder import preprocess

HERE = Path(__file__).resolve().parent
TEST = HERE / "testdata"


def make_images():
    TEST.mkdir(exist_ok=True)
    rng = np.random.default_rng(1)
    # A grey "axial slice": ellipse body, bright spine, dark lungs, noise, plus a fake watermark.
    g = Image.new("L", (384, 320), 0)
    d = ImageDraw.Draw(g)
    d.ellipse((30, 40, 350, 300), fill=110)
    d.ellipse((70, 80, 170, 240), fill=30)
    d.ellipse((210, 80, 310, 240), fill=30)
    d.rectangle((180, 200, 204, 290), fill=220)
    d.text((300, 10), "MedPix", fill=255)
    a = np.asarray(g, dtype=np.float32) + rng.normal(0, 6, (320, 384))
    Image.fromarray(a.clip(0, 255).astype(np.uint8)).save(TEST / "grey-384x320.png")
    # A colour photo-like image, saved as JPEG.
    c = Image.new("RGB", (300, 200), (20, 30, 40))
    d = ImageDraw.Draw(c)
    d.ellipse((40, 20, 260, 190), fill=(200, 120, 90))
    d.rectangle((120, 60, 180, 150), fill=(240, 240, 230))
    c.save(TEST / "colour-300x200.jpg", quality=92)
    # A tiny, tall image.
    t = Image.new("L", (64, 200), 40)
    ImageDraw.Draw(t).rectangle((20, 30, 44, 170), fill=230)
    t.save(TEST / "tall-64x200.png")


def main():
    manifest = tomllib.load(open(HERE.parent / "models.toml", "rb"))
    enc = next(e for e in manifest["encoder"] if e["name"] == manifest["default_image"])
    spec = enc["image"]
    assert spec["channels"] == 1 and spec["crop"] == [0.12, 0.15, 0.0, 0.0], "preprocess() mirrors this crop, grey"
    make_images()
    sess = ort.InferenceSession(str(HERE.parent / enc["file"]), providers=["CPUExecutionProvider"])
    out = {"model": f'{enc["name"]}@{enc["version"]}'}
    for f in sorted(TEST.iterdir()):
        x = preprocess(Image.open(f), spec["size"]).astype(np.float32) / 255.0
        x = ((x - spec["mean"][0]) / spec["std"][0])[None, None]
        v = sess.run(None, {spec["input"]: x})[0][0]
        out[f.name] = [round(float(e), 6) for e in v]
    json.dump(out, open(HERE / "image-reference.json", "w"), indent=1)
    print("wrote", len(out) - 1, "reference vectors for", out["model"])


if __name__ == "__main__":
    main()
