#!/usr/bin/env python3
"""Golden values for tests/weight_print_test.cpp, computed with numpy from testdata/lineage/base
(an HF Llama directory, so stored layout == canonical layout; q/k need no un-permuting).

Writes testdata/lineage/weight_print_golden.json:
  tensors:   {stored name: {sha256 of the stored bytes, mean, std (population), l2, absmax}}
  layer_std: per layer, std of q, k, v, o, gate, up, down (fingerprint/weight_print.h order)
  invariants: the 768 HuRef-style invariant terms of fingerprint/weight_print.h:
     K = 8 token ids 100 + 50 i (clipped to vocab - 1), layers round(q (L-1) / 3), q = 0..3;
     per layer, with X = embedding rows, Xa / Xf = X scaled to unit RMS times the attention /
     MLP norm gain:  qk = sum_h (Xa Wq_h^T)(Xa Wk_g(h)^T)^T,  vo = sum_h Xa Wv_g(h)^T Wo_h^T X^T,
     ff = Xf Wup^T Wdown^T X^T; each term L2-normalised, then the whole vector.
Run: python3 testdata/gen/make_weight_print_golden.py   (numpy, safetensors)
"""
import hashlib
import json
import os

import numpy as np
from safetensors.numpy import load_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lineage")
MODEL = os.path.join(ROOT, "base")


def raw_bytes(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        out[name] = data[b:e]
    return out


def main():
    st = os.path.join(MODEL, "model.safetensors")
    cfg = json.load(open(os.path.join(MODEL, "config.json")))
    w = {k: v.astype(np.float64) for k, v in load_file(st).items()}
    raw = raw_bytes(st)
    tensors = {}
    for name, x in w.items():
        tensors[name] = {
            "sha256": hashlib.sha256(raw[name]).hexdigest(),
            "mean": float(x.mean()),
            "std": float(x.std()),
            "l2": float(np.sqrt((x * x).sum())),
            "absmax": float(np.abs(x).max()),
        }
    L = cfg["num_hidden_layers"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hs = cfg.get("head_dim") or cfg["hidden_size"] // nh
    group = nh // nkv
    names = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
             "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
    layer_std = [[float(w[f"model.layers.{l}.{n}.weight"].std()) for n in names] for l in range(L)]

    emb = w["model.embed_tokens.weight"]
    V, C = emb.shape
    ids = [min(V - 1, 100 + 50 * i) for i in range(8)]
    X = emb[ids]

    def normed(x, g):
        return x / np.sqrt((x * x).mean(axis=1, keepdims=True)) * g

    inv = []
    for q in range(4):
        l = int(round(q * (L - 1) / 3))
        p = lambda n: w[f"model.layers.{l}.{n}.weight"]
        Wq, Wk, Wv, Wo = p("self_attn.q_proj"), p("self_attn.k_proj"), p("self_attn.v_proj"), p("self_attn.o_proj")
        Wu, Wd = p("mlp.up_proj"), p("mlp.down_proj")
        Xa = normed(X, p("input_layernorm"))
        Xf = normed(X, p("post_attention_layernorm"))
        qk = np.zeros((8, 8))
        vo = np.zeros((8, C))
        for h in range(nh):
            g = h // group
            qh, kg = Wq[h * hs:(h + 1) * hs], Wk[g * hs:(g + 1) * hs]
            vg, oh = Wv[g * hs:(g + 1) * hs], Wo[:, h * hs:(h + 1) * hs]
            qk += (Xa @ qh.T) @ (Xa @ kg.T).T
            vo += (Xa @ vg.T) @ oh.T
        vo = vo @ X.T
        ff = (Xf @ Wu.T) @ Wd.T @ X.T
        for t in (qk, vo, ff):
            inv.extend((t / np.linalg.norm(t)).ravel().tolist())
    inv = np.array(inv)
    inv = inv / np.linalg.norm(inv)
    out = {"model": "base", "tensors": tensors, "layer_std": layer_std,
           "invariant_token_ids": ids, "invariants": inv.tolist()}
    with open(os.path.join(ROOT, "weight_print_golden.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
