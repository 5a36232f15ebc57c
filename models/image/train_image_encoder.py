"""Train Precedent's image encoder: a small residual CNN trained with metric learning
(supervised contrastive loss plus normalised-softmax proxies, i.e. cosine classifiers on the
embedding) on balanced P x K batches, on the *train* split of medpix2-dev, selected on its *dev* split,
exported to ONNX. Run by hand (never by the build or the tests):

    ~/.cache/precedent-export-venv/bin/pip install pillow
    ~/.cache/precedent-export-venv/bin/python models/image/train_image_encoder.py \
        --data ../shared/datasets/medpix2-dev [--epochs 40]

Shortcut guard: before the network sees an image, its top-right quarter-height box is blacked
out and its top 12 % and bottom 15 % are cut off, which removes the MedPix watermark (top right)
and the footer (uploader, source, date) at every image size in the set (checked on contact sheets
of random preprocessed images). The same mask and crop are in the manifest, so the server
applies them to every image it encodes.
"""
import argparse
import csv
import json
import math
import random
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

OUT = Path(__file__).resolve().parent
SIZE = 160
PRELOAD = 184
CROP = (0.12, 0.15, 0.0, 0.0)  # top, bottom, left, right fractions cut off ...
CROP_MIN_PX = (0, 30, 0, 0)  # ... but at least this many pixels (the footer has a fixed height)
MASKS = [(0.2, 0.0, 1.0, 0.25)]  # left, top, right, bottom fractions blacked out before cropping
MEAN, STD = 0.20, 0.25
DIM = 128
CUTOUT = False


def preprocess(im: Image.Image, size: int) -> np.ndarray:
    """Grey, black out the masks, crop the edge bands, resize to size x size; uint8 array.
    Mirrors crates/encoders/src/image.rs."""
    im = im.convert("L")
    w, h = im.size
    for ml, mt, mr, mb in MASKS:
        im.paste(0, (round(w * ml), round(h * mt), round(w * mr), round(h * mb)))
    t = max(round(h * CROP[0]), CROP_MIN_PX[0])
    b = h - max(round(h * CROP[1]), CROP_MIN_PX[1])
    l = max(round(w * CROP[2]), CROP_MIN_PX[2])
    r = w - max(round(w * CROP[3]), CROP_MIN_PX[3])
    im = im.crop((l, t, r, b)).resize((size, size), Image.BILINEAR)
    return np.asarray(im, dtype=np.uint8)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + self.skip(x))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 32, 5, 2, 2, bias=False), nn.BatchNorm2d(32), nn.ReLU())
        self.blocks = nn.Sequential(Block(32, 48, 2), Block(48, 96, 2), Block(96, 160, 2), Block(160, 256, 2))
        self.head = nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, DIM))

    def forward(self, x):
        f = self.blocks(self.stem(x))
        f = torch.cat([f.mean((2, 3)), f.amax((2, 3))], 1)
        return F.normalize(self.head(f), dim=1)


def supcon(z, labels, tau=0.1):
    """Supervised contrastive loss (Khosla et al. 2020) over one batch."""
    sim = z @ z.t() / tau
    n = z.shape[0]
    eye = torch.eye(n, dtype=torch.bool)
    sim = sim.masked_fill(eye, -1e9)
    pos = (labels[:, None] == labels[None, :]) & ~eye
    logp = sim - torch.logsumexp(sim, 1, keepdim=True)
    cnt = pos.sum(1)
    keep = cnt > 0
    return -(logp * pos).sum(1)[keep].div(cnt[keep]).mean()


class Proxies(nn.Module):
    """Normalised-softmax proxies: one learnable unit vector per class; logits are scaled cosines."""

    def __init__(self, classes, scale=16.0):
        super().__init__()
        self.w = nn.Parameter(torch.randn(classes, DIM) * 0.1)
        self.scale = scale

    def forward(self, z, labels):
        return F.cross_entropy(self.scale * z @ F.normalize(self.w, dim=1).t(), labels)


def augment(x):
    """Random resized crop, flip, small rotation, contrast/brightness, noise: x is N x 1 x P x P in [0,1]."""
    n = x.shape[0]
    scale = torch.empty(n).uniform_(0.70, 1.0)
    ratio = torch.exp(torch.empty(n).uniform_(math.log(0.85), math.log(1.15)))
    sx, sy = scale * ratio.sqrt(), scale / ratio.sqrt()
    tx = (torch.rand(n) * 2 - 1) * (1 - sx).clamp(min=0)
    ty = (torch.rand(n) * 2 - 1) * (1 - sy).clamp(min=0)
    ang = (torch.rand(n) * 2 - 1) * math.radians(10)
    flip = torch.where(torch.rand(n) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack([torch.stack([sx * cos * flip, -sy * sin, tx], 1), torch.stack([sx * sin * flip, sy * cos, ty], 1)], 1)
    grid = F.affine_grid(theta, (n, 1, SIZE, SIZE), align_corners=False)
    y = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    gamma = torch.exp(torch.empty(n, 1, 1, 1).uniform_(-0.3, 0.3))
    y = y.clamp(0, 1) ** gamma
    y = y * torch.empty(n, 1, 1, 1).uniform_(0.8, 1.2) + torch.empty(n, 1, 1, 1).uniform_(-0.08, 0.08)
    y = y + torch.randn_like(y) * 0.02
    if CUTOUT:
        # Random erasing: one box of 10-30 % of the side per image, half of the images.
        for i in range(n):
            if random.random() < 0.5:
                h = random.randint(SIZE // 10, SIZE * 3 // 10)
                w = random.randint(SIZE // 10, SIZE * 3 // 10)
                y0, x0 = random.randint(0, SIZE - h), random.randint(0, SIZE - w)
                y[i, :, y0 : y0 + h, x0 : x0 + w] = 0
    return y


def load(data: Path):
    cases = {r["U_id"]: r for r in csv.DictReader(open(data / "cases.csv"))}
    rows = list(csv.DictReader(open(data / "images.csv")))
    big, small = [], []
    for r in rows:
        im = Image.open(data / r["stored_file"])
        big.append(preprocess(im, PRELOAD))
        small.append(preprocess(im, SIZE))
    meta = []
    for r in rows:
        c = cases[r["U_id"]]
        meta.append({"case": r["U_id"], "split": r["split"], "loc": c["location_category"], "topic": c["topic_category"], "type": r["type"], "plane": r["plane"]})
    return np.stack(big), np.stack(small), meta, cases


def codes(values):
    idx = {v: i for i, v in enumerate(sorted(set(values)))}
    return torch.tensor([idx[v] for v in values])


def embed(model, arr, bs=128):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(arr), bs):
            x = torch.from_numpy(arr[i : i + bs]).float().div(255).unsqueeze(1)
            out.append(model((x - MEAN) / STD))
    return torch.cat(out).numpy()


def case_eval(emb, meta, cases, split="dev", k=10):
    """Image-only case retrieval: case similarity = best image pair; P@10 by location and topic."""
    by_case = defaultdict(list)
    for i, m in enumerate(meta):
        by_case[m["case"]].append(i)
    ids = sorted(by_case)
    queries = [c for c in ids if cases[c]["split"] == split]
    res = {"loc": [], "topic": []}
    for q in queries:
        qi = emb[by_case[q]]
        scores = []
        for c in ids:
            if c == q:
                continue
            scores.append(((qi @ emb[by_case[c]].T).max(), c))
        scores.sort(reverse=True)
        top = [c for _, c in scores[:k]]
        res["loc"].append(np.mean([cases[c]["location_category"] == cases[q]["location_category"] for c in top]))
        res["topic"].append(np.mean([cases[c]["topic_category"] == cases[q]["topic_category"] for c in top]))
    return {key: float(np.mean(v)) for key, v in res.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/medpix2-dev"))
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cutout", action="store_true", help="random erasing augmentation")
    ap.add_argument("--out", type=Path, default=OUT, help="where the .onnx and the report are written")
    args = ap.parse_args()
    global CUTOUT
    CUTOUT = args.cutout
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    big, small, meta, cases = load(args.data)
    print(f"loaded {len(meta)} images in {time.time() - t0:.0f}s", flush=True)
    train = [i for i, m in enumerate(meta) if m["split"] == "train"]
    loc = codes([m["loc"] for m in meta])
    fine = codes([f'{m["loc"]}|{m["type"]}|{m["plane"]}' for m in meta])
    topic = codes([m["topic"] for m in meta])
    groups = defaultdict(list)
    for i in train:
        groups[int(fine[i])].append(i)
    group_ids = [g for g, v in groups.items() if len(v) >= 2]
    P, K = 16, 4
    steps = len(train) // (P * K) + 1
    model = Encoder()
    proxies = nn.ModuleList([Proxies(int(loc.max()) + 1), Proxies(int(fine.max()) + 1), Proxies(int(topic.max()) + 1)])
    opt = torch.optim.AdamW(list(model.parameters()) + list(proxies.parameters()), lr=2e-3, weight_decay=1e-4)
    total = args.epochs * steps
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=total, pct_start=0.1)
    best, best_state, history = -1.0, None, []
    print(f"{sum(p.numel() for p in model.parameters())} parameters; {steps} steps/epoch", flush=True)
    for epoch in range(args.epochs):
        model.train()
        t = time.time()
        losses = []
        for _ in range(steps):
            batch = []
            for g in random.sample(group_ids, min(P, len(group_ids))):
                batch += random.choices(groups[g], k=K)
            x = torch.from_numpy(big[batch]).float().div(255).unsqueeze(1)
            x = (augment(x) - MEAN) / STD
            z = model(x)
            b = torch.tensor(batch)
            loss = (
                supcon(z, loc[b])
                + proxies[0](z, loc[b])
                + 0.5 * proxies[1](z, fine[b])
                + 0.25 * proxies[2](z, topic[b])
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        line = {"epoch": epoch + 1, "loss": round(float(np.mean(losses)), 4), "secs": round(time.time() - t, 1)}
        if (epoch + 1) % 2 == 0 or epoch + 1 == args.epochs:
            r = case_eval(embed(model, small), meta, cases)
            line.update({"dev_loc_p10": round(r["loc"], 4), "dev_topic_p10": round(r["topic"], 4)})
            if r["loc"] > best:
                best = r["loc"]
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
                line["best"] = True
        history.append(line)
        print(json.dumps(line), flush=True)
    model.load_state_dict(best_state)
    model.eval()
    final = case_eval(embed(model, small), meta, cases)
    # Shortcut check: blank the cropped-away bands' neighbourhood is moot (they never reach the
    # network); instead verify that blanking the outer 8 % border of the *kept* area changes little.
    blanked = small.copy()
    e = int(SIZE * 0.08)
    blanked[:, :e, :] = 0
    blanked[:, -e:, :] = 0
    border = case_eval(embed(model, blanked), meta, cases)
    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "medpix-cnn.onnx"
    torch.onnx.export(
        model,
        torch.zeros(1, 1, SIZE, SIZE),
        str(onnx_path),
        input_names=["image"],
        output_names=["embedding"],
        dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    report = {
        "cutout": CUTOUT,
        "train_images": len(train),
        "epochs": args.epochs,
        "selected_dev_loc_p10": round(best, 4),
        "final_dev": final,
        "dev_with_border_blanked": border,
        "history": history,
        "minutes": round((time.time() - t0) / 60, 1),
    }
    json.dump(report, open(args.out / "training-report.json", "w"), indent=1)
    print(json.dumps({k: v for k, v in report.items() if k != "history"}))


if __name__ == "__main__":
    main()
