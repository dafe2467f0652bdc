#!/usr/bin/env python3
"""Tiny randomly initialised models of every architecture the engine runs, with reference logits
computed by Hugging Face transformers itself, for tests/engine_test.cpp (issue 4).

Creates under testdata/models/<name>/ a Hugging Face directory (config.json, model.safetensors
written by save_pretrained) and reference.json:
  llama         GQA (4 query / 2 kv heads), head_dim 16, vocab 301, Llama-3 rope scaling, untied
  llama_bf16    the llama weights cast to bfloat16 (its reference uses the bf16 values upcast)
  mistral       vocab 257, head_dim 12, linear rope scaling (factor 2), tied head
  qwen2         q/k/v biases, YaRN rope scaling (factor 4, original 32), tied head
  qwen3         per-head q/k RMSNorm, head_dim 16 != hidden/heads, untied head
  gpt2          learned positions, LayerNorm with biases, GELU-tanh, Conv1D weights, tied head
reference.json: transformers version, the sequences, logits at EVERY position (float32, eager
attention, full forward), the argmax per position, the smallest top-1/top-2 margin, and a greedy
continuation (16 tokens, no stop id) computed by re-running the full forward each step.

Weights use a larger init range than training (0.15) and random norm gains/biases so logits
spread and every component (norm gains, biases, rope scaling) changes the output.
Also writes testdata/models/rope_reference.json: inv_freq and attention scaling from transformers'
ROPE_INIT_FUNCTIONS for default / linear / llama3 / yarn configurations,
for tests/cpu_ops_test.cpp.
Regenerate: python3 testdata/gen/make_arch_fixtures.py   (torch, transformers >= 5; seeded)
"""
import json
import os
import shutil

import torch
import transformers
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM,
                          MistralConfig, MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM,
                          Qwen3Config, Qwen3ForCausalLM)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models")
N_GREEDY = 16


def randomise(model, seed):
    """Re-initialise every parameter: matrices N(0, 0.15), norm gains 1 + N(0, 0.1),
    biases N(0, 0.1). Shared (tied) tensors are set once."""
    g = torch.Generator().manual_seed(seed)
    seen = set()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if id(p) in seen:
                continue
            seen.add(id(p))
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) * 0.15)
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            else:
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)


def sequences(vocab, seed):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, vocab, (n,), generator=g).tolist() for n in (7, 13, 20)]


def f32_list(t):
    return [float(x) for x in t.float().reshape(-1).tolist()]


def reference(model, seqs, vocab):
    out = {"transformers_version": transformers.__version__, "torch_version": torch.__version__,
           "computation": "transformers float32, attn_implementation=eager, full forward per "
                          "sequence (no padding), logits at every position",
           "vocab_size": vocab, "sequences": []}
    with torch.no_grad():
        for ids in seqs:
            logits = model(torch.tensor([ids])).logits[0].float()  # (T, V)
            top2 = torch.topk(logits, 2, dim=-1).values
            out["sequences"].append({
                "ids": ids,
                "argmax": logits.argmax(-1).tolist(),
                "argmax_margin_min": float((top2[:, 0] - top2[:, 1]).min()),
                "logits": [f32_list(row) for row in logits],
            })
        prompt = seqs[0]
        cur = list(prompt)
        margins = []
        for _ in range(N_GREEDY):
            last = model(torch.tensor([cur])).logits[0, -1].float()
            top2 = torch.topk(last, 2).values
            margins.append(float(top2[0] - top2[1]))
            cur.append(int(last.argmax()))
        out["greedy"] = {"prompt_ids": prompt, "new_token_ids": cur[len(prompt):],
                         "step_margin_min": min(margins)}
    return out


def save(name, model, seqs, vocab):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d, safe_serialization=True)
    # The reference is computed by a model loaded back from the saved files, in float32.
    cls = type(model)
    loaded = cls.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    ref = reference(loaded, seqs, vocab)
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    for extra in ("generation_config.json",):
        p = os.path.join(d, extra)
        if os.path.exists(p):
            os.remove(p)
    print(f"{name}: margin min {min(s['argmax_margin_min'] for s in ref['sequences']):.4f}, "
          f"greedy margin min {ref['greedy']['step_margin_min']:.4f}")


def build(cls, cfg, seed):
    torch.manual_seed(seed)
    model = cls(cfg).eval()
    randomise(model, seed)
    return model


def rope_reference():
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
    cases = [
        ("default", dict(head_dim=16), {"rope_type": "default", "rope_theta": 10000.0}),
        ("linear", dict(head_dim=12), {"rope_type": "linear", "rope_theta": 1000.0, "factor": 2.0}),
        ("llama3", dict(head_dim=16), {"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0,
                                       "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                       "original_max_position_embeddings": 16}),
        ("llama3_8b", dict(head_dim=128), {"rope_type": "llama3", "rope_theta": 500000.0,
                                           "factor": 8.0, "low_freq_factor": 1.0,
                                           "high_freq_factor": 4.0,
                                           "original_max_position_embeddings": 8192}),
        ("yarn", dict(head_dim=64), {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                                     "original_max_position_embeddings": 4096}),
        ("yarn_attn", dict(head_dim=32), {"rope_type": "yarn", "rope_theta": 1000000.0,
                                          "factor": 2.0, "beta_fast": 16.0, "beta_slow": 2.0,
                                          "attention_factor": 1.5,
                                          "original_max_position_embeddings": 1024}),
    ]
    out = []
    for name, dims, params in cases:
        hd = dims["head_dim"]
        p = dict(params)
        if "partial_rotary_factor" in dims:
            p["partial_rotary_factor"] = dims["partial_rotary_factor"]
        cfg = LlamaConfig(hidden_size=hd * 4, num_attention_heads=4, head_dim=hd,
                          max_position_embeddings=16384, rope_parameters=p)
        if "partial_rotary_factor" in dims:
            cfg.partial_rotary_factor = dims["partial_rotary_factor"]
        fn = ROPE_INIT_FUNCTIONS[params["rope_type"]] if params["rope_type"] != "default" else None
        if fn is None:
            from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding
            inv, scale = LlamaRotaryEmbedding.compute_default_rope_parameters(cfg)
        else:
            inv, scale = fn(cfg, "cpu")
        out.append({"name": name, "head_dim": hd, "params": p, "max_position": 16384,
                    "inv_freq": f32_list(inv), "attention_scaling": float(scale)})
    with open(os.path.join(OUT, "rope_reference.json"), "w") as f:
        json.dump({"transformers_version": transformers.__version__, "cases": out}, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    rope_reference()
    common = dict(num_hidden_layers=2, attn_implementation="eager", bos_token_id=1,
                  eos_token_id=2, max_position_embeddings=64)

    llama_cfg = LlamaConfig(
        vocab_size=301, hidden_size=64, intermediate_size=96, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-5, tie_word_embeddings=False,
        rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0,
                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 16},
        **common)
    llama = build(LlamaForCausalLM, llama_cfg, 11)
    llama_seqs = sequences(301, 101)
    save("llama", llama, llama_seqs, 301)
    save("llama_bf16", llama.to(torch.bfloat16), llama_seqs, 301)

    mistral_cfg = MistralConfig(
        vocab_size=257, hidden_size=48, intermediate_size=80, num_attention_heads=4,
        num_key_value_heads=2, head_dim=12, rms_norm_eps=1e-6, tie_word_embeddings=True,
        sliding_window=None,
        rope_parameters={"rope_type": "linear", "rope_theta": 1000.0, "factor": 2.0}, **common)
    save("mistral", build(MistralForCausalLM, mistral_cfg, 12), sequences(257, 102), 257)

    qwen2_cfg = Qwen2Config(
        vocab_size=311, hidden_size=64, intermediate_size=112, num_attention_heads=4,
        num_key_value_heads=2, rms_norm_eps=1e-6, tie_word_embeddings=True,
        rope_parameters={"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
                         "original_max_position_embeddings": 32},
        **dict(common, max_position_embeddings=128))
    save("qwen2", build(Qwen2ForCausalLM, qwen2_cfg, 13), sequences(311, 103), 311)

    qwen3_cfg = Qwen3Config(
        vocab_size=263, hidden_size=48, intermediate_size=72, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-6, tie_word_embeddings=False,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, **common)
    save("qwen3", build(Qwen3ForCausalLM, qwen3_cfg, 14), sequences(263, 104), 263)

    gpt2_cfg = GPT2Config(
        vocab_size=269, n_embd=48, n_layer=2, n_head=4, n_positions=64, n_inner=None,
        activation_function="gelu_new", layer_norm_epsilon=1e-5, tie_word_embeddings=True,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, attn_implementation="eager",
        bos_token_id=1, eos_token_id=2)
    save("gpt2", build(GPT2LMHeadModel, gpt2_cfg, 15), sequences(269, 105), 269)


if __name__ == "__main__":
    main()
