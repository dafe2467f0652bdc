#!/usr/bin/env python3
"""Model-intake fixtures for tests/model_test.cpp (issue 2), written by the reference
`safetensors` library so our parser is checked against what the ecosystem writes.

Creates under testdata/intake/:
  tiny_llama/            config.json + model.safetensors (F32), a 2-layer Llama-shaped model
  tiny_llama_bf16/       the same weights cast to BF16
  tiny_llama_f16/        the same weights cast to F16
  tiny_llama_sharded/    the F32 weights split over 2 shards + model.safetensors.index.json
  tiny_noconfig.safetensors   Qwen3-named tensors with no config.json beside it
  dtypes.safetensors     one small tensor of every dtype torch can write (F8 incl.)
  expected.json          sha256 of every tensor's bytes and f64 sums of the f32 values
Regenerate: python3 testdata/gen/make_intake_fixtures.py  (torch, safetensors, numpy; seeded)
"""
import hashlib
import json
import os
import shutil

import numpy as np
import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "intake")
V, C, L, NH, NKV, FF = 37, 16, 2, 4, 2, 24
HS = C // NH


def tiny_llama():
    g = torch.Generator().manual_seed(1234)
    t = {"model.embed_tokens.weight": torch.randn(V, C, generator=g),
         "model.norm.weight": 1 + 0.1 * torch.randn(C, generator=g),
         "lm_head.weight": torch.randn(V, C, generator=g)}
    for i in range(L):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(C, generator=g)
        t[p + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(C, generator=g)
        t[p + "self_attn.q_proj.weight"] = torch.randn(NH * HS, C, generator=g) * 0.2
        t[p + "self_attn.k_proj.weight"] = torch.randn(NKV * HS, C, generator=g) * 0.2
        t[p + "self_attn.v_proj.weight"] = torch.randn(NKV * HS, C, generator=g) * 0.2
        t[p + "self_attn.o_proj.weight"] = torch.randn(C, NH * HS, generator=g) * 0.2
        t[p + "mlp.gate_proj.weight"] = torch.randn(FF, C, generator=g) * 0.2
        t[p + "mlp.up_proj.weight"] = torch.randn(FF, C, generator=g) * 0.2
        t[p + "mlp.down_proj.weight"] = torch.randn(C, FF, generator=g) * 0.2
    return t


CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": V,
          "hidden_size": C, "num_hidden_layers": L, "num_attention_heads": NH,
          "num_key_value_heads": NKV, "intermediate_size": FF, "max_position_embeddings": 64,
          "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": False,
          "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}


def write_dir(name, tensors, dtype_name):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    cfg = dict(CONFIG, torch_dtype=dtype_name)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    return d


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    t = tiny_llama()
    write_dir("tiny_llama", t, "float32")
    write_dir("tiny_llama_bf16", {k: v.to(torch.bfloat16) for k, v in t.items()}, "bfloat16")
    write_dir("tiny_llama_f16", {k: v.to(torch.float16) for k, v in t.items()}, "float16")

    d = os.path.join(OUT, "tiny_llama_sharded")
    os.makedirs(d)
    names = sorted(t)
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": names[:half],
              "model-00002-of-00002.safetensors": names[half:]}
    weight_map = {}
    for shard, ns in shards.items():
        save_file({n: t[n] for n in ns}, os.path.join(d, shard), metadata={"format": "pt"})
        for n in ns:
            weight_map[n] = shard
    total = sum(v.numel() * 4 for v in t.values())
    with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)

    # Qwen3-style names, no config: architecture and dims must be inferred (with notes).
    g = torch.Generator().manual_seed(7)
    q = {"model.embed_tokens.weight": torch.randn(V, C, generator=g),
         "model.norm.weight": torch.ones(C)}
    for i in range(L):
        p = f"model.layers.{i}."
        q[p + "input_layernorm.weight"] = torch.ones(C)
        q[p + "post_attention_layernorm.weight"] = torch.ones(C)
        q[p + "self_attn.q_proj.weight"] = torch.randn(NH * HS, C, generator=g)
        q[p + "self_attn.k_proj.weight"] = torch.randn(NKV * HS, C, generator=g)
        q[p + "self_attn.v_proj.weight"] = torch.randn(NKV * HS, C, generator=g)
        q[p + "self_attn.o_proj.weight"] = torch.randn(C, NH * HS, generator=g)
        q[p + "self_attn.q_norm.weight"] = torch.ones(HS)
        q[p + "self_attn.k_norm.weight"] = torch.ones(HS)
        q[p + "mlp.gate_proj.weight"] = torch.randn(FF, C, generator=g)
        q[p + "mlp.up_proj.weight"] = torch.randn(FF, C, generator=g)
        q[p + "mlp.down_proj.weight"] = torch.randn(C, FF, generator=g)
    save_file(q, os.path.join(OUT, "tiny_noconfig.safetensors"))

    base = torch.tensor([0.0, 1.0, -2.5, 0.15625, 3.75, -0.001, 448.0, 1e-3])
    dt = {"f64": base.to(torch.float64), "f32": base, "f16": base.to(torch.float16),
          "bf16": base.to(torch.bfloat16), "f8_e4m3": base.to(torch.float8_e4m3fn),
          "f8_e5m2": base.to(torch.float8_e5m2),
          "i8": torch.tensor([-128, -1, 0, 1, 127], dtype=torch.int8),
          "u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
          "i16": torch.tensor([-32768, 5, 32767], dtype=torch.int16),
          "i32": torch.tensor([-5, 0, 2**31 - 1], dtype=torch.int32),
          "i64": torch.tensor([-(2**40), 3], dtype=torch.int64),
          "bool": torch.tensor([True, False, True]),
          "scalar": torch.tensor(2.5), "empty": torch.zeros(0, 4)}
    for name in ("float8_e4m3fnuz", "float8_e5m2fnuz"):
        if hasattr(torch, name):
            dt[name.replace("float8_", "f8_")] = base.to(getattr(torch, name))
    save_file(dt, os.path.join(OUT, "dtypes.safetensors"))

    expected = {"tiny_llama": {}, "dtypes": {}}
    for k, v in t.items():
        arr = v.numpy()
        expected["tiny_llama"][k] = {"sha256": hashlib.sha256(arr.tobytes()).hexdigest(),
                                     "sum": float(arr.astype(np.float64).sum()),
                                     "bf16_sum": float(v.to(torch.bfloat16).double().sum()),
                                     "f16_sum": float(v.to(torch.float16).double().sum())}
    for k, v in dt.items():
        # NaN is written as the string "nan" (JSON has no NaN literal).
        expected["dtypes"][k] = [x if x == x else "nan" for x in v.double().flatten().tolist()]
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
