#!/usr/bin/env python3
"""Fixtures of issue 15 items 3-4 (tests/cli/identity.sh; tests/identity_test.cpp builds the
same kinds of models in C++):

  testdata/identity/moe_a, moe_b   tiny Qwen2-MoE-shaped checkpoints (config.json model_type
                                   qwen2_moe; model.layers.N.mlp.experts.E.{gate,up,down}_proj,
                                   the router mlp.gate, mlp.shared_expert.*, shared_expert_gate):
                                   the same dense tensors, every expert tensor different
  testdata/identity/finetune_neox  testdata/lineage/finetune with GPT-NeoX-style tensor names in a
                                   shuffled order, under finetune's Llama config.json

Seeded; run from the repository root: python3 testdata/gen/make_identity_fixtures.py
"""
import json
import os
import random
import shutil

import numpy as np
from safetensors.numpy import save_file

OUT = "testdata/identity"
L, E, C, V, FFE, FFS = 2, 4, 16, 32, 8, 16


def moe(dense_seed, expert_seed):
    rd, re = np.random.default_rng(dense_seed), np.random.default_rng(expert_seed)
    f = lambda r, *s: (r.standard_normal(s) * 0.1).astype(np.float32)
    t = {"model.embed_tokens.weight": f(rd, V, C), "model.norm.weight": f(rd, C),
         "lm_head.weight": f(rd, V, C)}
    for l in range(L):
        p = f"model.layers.{l}."
        t[p + "input_layernorm.weight"] = f(rd, C)
        t[p + "post_attention_layernorm.weight"] = f(rd, C)
        for m in "qkvo":
            t[p + f"self_attn.{m}_proj.weight"] = f(rd, C, C)
        for m in "qkv":
            t[p + f"self_attn.{m}_proj.bias"] = f(rd, C)
        t[p + "mlp.gate.weight"] = f(rd, E, C)
        for e in range(E):
            x = p + f"mlp.experts.{e}."
            t[x + "gate_proj.weight"] = f(re, FFE, C)
            t[x + "up_proj.weight"] = f(re, FFE, C)
            t[x + "down_proj.weight"] = f(re, C, FFE)
        t[p + "mlp.shared_expert.gate_proj.weight"] = f(rd, FFS, C)
        t[p + "mlp.shared_expert.up_proj.weight"] = f(rd, FFS, C)
        t[p + "mlp.shared_expert.down_proj.weight"] = f(rd, C, FFS)
        t[p + "mlp.shared_expert_gate.weight"] = f(rd, 1, C)
    return t


CONFIG = {"model_type": "qwen2_moe", "architectures": ["Qwen2MoeForCausalLM"], "vocab_size": V,
          "hidden_size": C, "num_hidden_layers": L, "num_attention_heads": 2,
          "num_key_value_heads": 2, "head_dim": 8, "intermediate_size": FFS,
          "moe_intermediate_size": FFE, "shared_expert_intermediate_size": FFS,
          "num_experts": E, "num_experts_per_tok": 2, "max_position_embeddings": 64,
          "tie_word_embeddings": False}

NEOX = {"model.embed_tokens": "gpt_neox.embed_in", "lm_head": "embed_out",
        "model.norm": "gpt_neox.final_layer_norm", "input_layernorm": "input_layernorm",
        "post_attention_layernorm": "post_attention_layernorm",
        "self_attn.q_proj": "attention.query", "self_attn.k_proj": "attention.key",
        "self_attn.v_proj": "attention.value", "self_attn.o_proj": "attention.dense",
        "mlp.gate_proj": "mlp.dense_h_to_4h_gate", "mlp.up_proj": "mlp.dense_h_to_4h",
        "mlp.down_proj": "mlp.dense_4h_to_h"}


def neox_name(k):
    base, suffix = k.rsplit(".", 1)
    if base in NEOX:
        return NEOX[base] + "." + suffix
    parts = base.split(".")  # model.layers.N.<module>
    return f"gpt_neox.layers.{parts[2]}." + NEOX[".".join(parts[3:])] + "." + suffix


def main():
    for name, seed in (("moe_a", 100), ("moe_b", 200)):
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        save_file(moe(1, seed), os.path.join(d, "model.safetensors"))
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(CONFIG, f, indent=1)
    src = "testdata/lineage/finetune"
    d = os.path.join(OUT, "finetune_neox")
    os.makedirs(d, exist_ok=True)
    # bf16 tensors: load as raw via torch-free path (safetensors.numpy has no bf16): torch.
    from safetensors.torch import load_file as load_torch, save_file as save_torch
    sd = load_torch(os.path.join(src, "model.safetensors"))
    keys = list(sd)
    random.Random(7).shuffle(keys)
    save_torch({neox_name(k): sd[k].contiguous() for k in keys}, os.path.join(d, "model.safetensors"))
    for f in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(src, f), os.path.join(d, f))


if __name__ == "__main__":
    main()
