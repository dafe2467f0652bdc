#!/usr/bin/env python3
"""Tiny randomly initialised mixture-of-experts models with float64 transformers references, for
tests/engine_moe_test.cpp (issue 18).

Creates under testdata/models/<name>/ :
  config.json, model.safetensors  f32 weights, Hugging Face per-expert names (save_pretrained)
  model.gguf                      the same f32 weights as llama.cpp names them (stacked experts
                                  ffn_{gate,up,down}_exps [E, rows, cols]; Mixtral as arch
                                  "llama" with Q/K rows permuted as convert_hf_to_gguf.py does)
  reference.json                  float64 transformers logits at every position of 3 sequences
and under testdata/models/<name>_bf16/ the weights cast to bfloat16 with their own float64
reference (the bf16 values upcast). Models:
  mixtral    4 experts top-2 (renormalised), GQA 2/1, head_dim 8, 2 layers, untied
  qwen2_moe  4 experts top-2 (not renormalised) + shared expert with sigmoid gate, q/k/v biases,
             3 layers of which layer 1 is dense (mlp_only_layers), tied head
  qwen3_moe  8 experts top-2 (renormalised), per-head q/k norm, GQA 4/2, 2 layers, untied
Every reference records the smallest gap between the k-th and (k+1)-th router probability over
all tokens and MoE layers (a routing decision closer than float32 noise would make the test
depend on rounding); the input sequences are re-drawn until it is >= 1e-3.
The float64 reference runs transformers' own router, whose softmax is taken in float32
(dtype=torch.float); everything else is float64.
Regenerate: python3 testdata/gen/make_moe_fixtures.py   (torch, transformers >= 5, gguf; seeded)
"""
import json
import os
import shutil

import gguf
import numpy as np
import torch
import transformers
from transformers import (MixtralConfig, MixtralForCausalLM, Qwen2MoeConfig, Qwen2MoeForCausalLM,
                          Qwen3MoeConfig, Qwen3MoeForCausalLM)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models")
LENGTHS = (5, 11, 17)
N_GREEDY = 8
MIN_ROUTE_GAP = 1e-3


def randomise(model, seed):
    """Matrices N(0, 0.25) (routers N(0, 0.5) so routing is decisive), norm gains 1 + N(0, 0.1),
    biases N(0, 0.1); tied tensors set once."""
    g = torch.Generator().manual_seed(seed)
    seen = set()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if id(p) in seen:
                continue
            seen.add(id(p))
            if p.dim() >= 2:
                scale = 0.5 if name.endswith("gate.weight") or "router" in name else 0.25
                p.copy_(torch.randn(p.shape, generator=g) * scale)
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            else:
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)


def router_modules(model):
    return [m for n, m in model.named_modules() if type(m).__name__.endswith("TopKRouter")]


def route_gap(model, ids, k):
    """Smallest p_(k) - p_(k+1) over tokens and MoE layers, from the routers' own inputs."""
    gaps = []

    def hook(mod, inp, out):
        logits = torch.nn.functional.linear(inp[0].reshape(-1, inp[0].shape[-1]), mod.weight)
        p = torch.softmax(logits, dim=-1, dtype=torch.float64)
        top = torch.topk(p, k + 1, dim=-1).values
        gaps.append(float((top[:, k - 1] - top[:, k]).min()))

    hs = [m.register_forward_hook(hook) for m in router_modules(model)]
    with torch.no_grad():
        model(torch.tensor([ids]))
    for h in hs:
        h.remove()
    return min(gaps)


def draw_sequences(model, vocab, k, seed):
    g = torch.Generator().manual_seed(seed)
    for attempt in range(200):
        seqs = [torch.randint(0, vocab, (n,), generator=g).tolist() for n in LENGTHS]
        gap = min(route_gap(model, s, k) for s in seqs)
        if gap >= MIN_ROUTE_GAP:
            return seqs, gap
    raise SystemExit("no sequences with decisive routing")


def reference(model, seqs, vocab, k):
    out = {"transformers_version": transformers.__version__, "torch_version": torch.__version__,
           "computation": "transformers float64 (router softmax in float32 as transformers "
                          "computes it), attn_implementation=eager, full forward per sequence, "
                          "logits at every position",
           "vocab_size": vocab, "sequences": []}
    gaps = []
    with torch.no_grad():
        for ids in seqs:
            logits = model(torch.tensor([ids])).logits[0]  # (T, V) float64
            top2 = torch.topk(logits, 2, dim=-1).values
            gaps.append(route_gap(model, ids, k))
            out["sequences"].append({
                "ids": ids,
                "argmax": logits.argmax(-1).tolist(),
                "argmax_margin_min": float((top2[:, 0] - top2[:, 1]).min()),
                "logits": [[float(f"{x:.9g}") for x in row.tolist()] for row in logits],
            })
        cur = list(seqs[0])
        margins = []
        for _ in range(N_GREEDY):
            last = model(torch.tensor([cur])).logits[0, -1]
            top2 = torch.topk(last, 2).values
            margins.append(float(top2[0] - top2[1]))
            cur.append(int(last.argmax()))
        out["greedy"] = {"prompt_ids": seqs[0], "new_token_ids": cur[len(seqs[0]):],
                         "step_margin_min": min(margins)}
    out["route_gap_min"] = min(gaps)
    return out


# ---- GGUF (llama.cpp names, convert_hf_to_gguf.py conventions) ----

def permute_qk(w, n_head):
    """convert_hf_to_gguf.py LlamaModel.permute: rotate_half rows -> interleaved rows."""
    rows = w.shape[0]
    return (w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2)
            .reshape(w.shape))


def write_gguf(path, arch, cfg, sd, layer_moe, shared):
    w = gguf.GGUFWriter(path, arch=arch, use_temp_file=False)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    hd = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    w.add_key_length(hd)
    w.add_value_length(hd)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_rope_freq_base(cfg.rope_parameters["rope_theta"])
    n_exp = getattr(cfg, "num_local_experts", None) or cfg.num_experts
    w.add_expert_count(n_exp)
    w.add_expert_used_count(cfg.num_experts_per_tok)
    if arch != "llama":
        w.add_expert_feed_forward_length(cfg.moe_intermediate_size)
    if shared:
        w.add_expert_shared_feed_forward_length(cfg.shared_expert_intermediate_size)
    w.add_file_type(0)

    def t(name, arr):
        w.add_tensor(name, np.ascontiguousarray(arr.astype(np.float32)))

    def get(n):
        return sd[n].to(torch.float32).numpy()

    t("token_embd.weight", get("model.embed_tokens.weight"))
    t("output_norm.weight", get("model.norm.weight"))
    if "lm_head.weight" in sd and not cfg.tie_word_embeddings:
        t("output.weight", get("lm_head.weight"))
    for l in range(cfg.num_hidden_layers):
        p = f"model.layers.{l}."
        b = f"blk.{l}."
        t(b + "attn_norm.weight", get(p + "input_layernorm.weight"))
        t(b + "ffn_norm.weight", get(p + "post_attention_layernorm.weight"))
        q, k = get(p + "self_attn.q_proj.weight"), get(p + "self_attn.k_proj.weight")
        if arch == "llama":
            q, k = permute_qk(q, cfg.num_attention_heads), permute_qk(k, cfg.num_key_value_heads)
        t(b + "attn_q.weight", q)
        t(b + "attn_k.weight", k)
        t(b + "attn_v.weight", get(p + "self_attn.v_proj.weight"))
        t(b + "attn_output.weight", get(p + "self_attn.o_proj.weight"))
        for x in ("q", "k", "v"):
            if p + f"self_attn.{x}_proj.bias" in sd:
                t(b + f"attn_{x}.bias", get(p + f"self_attn.{x}_proj.bias"))
        if p + "self_attn.q_norm.weight" in sd:
            t(b + "attn_q_norm.weight", get(p + "self_attn.q_norm.weight"))
            t(b + "attn_k_norm.weight", get(p + "self_attn.k_norm.weight"))
        if not layer_moe[l]:
            for hf, gg in (("gate_proj", "ffn_gate"), ("up_proj", "ffn_up"),
                           ("down_proj", "ffn_down")):
                t(b + gg + ".weight", get(p + "mlp." + hf + ".weight"))
            continue
        if arch == "llama":
            m = p + "block_sparse_moe."
            names = (("w1", "ffn_gate_exps"), ("w3", "ffn_up_exps"), ("w2", "ffn_down_exps"))
        else:
            m = p + "mlp."
            names = (("gate_proj", "ffn_gate_exps"), ("up_proj", "ffn_up_exps"),
                     ("down_proj", "ffn_down_exps"))
        t(b + "ffn_gate_inp.weight", get(m + "gate.weight"))
        for hf, gg in names:
            t(b + gg + ".weight", np.stack([get(f"{m}experts.{e}.{hf}.weight")
                                            for e in range(n_exp)]))
        if shared:
            for hf, gg in (("gate_proj", "ffn_gate_shexp"), ("up_proj", "ffn_up_shexp"),
                           ("down_proj", "ffn_down_shexp")):
                t(b + gg + ".weight", get(m + "shared_expert." + hf + ".weight"))
            t(b + "ffn_gate_inp_shexp.weight", get(m + "shared_expert_gate.weight").reshape(-1))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def state_dict_of(d):
    from safetensors.torch import load_file
    return load_file(os.path.join(d, "model.safetensors"))


def save(name, model, cls, vocab, k, seed, gguf_arch, layer_moe, shared):
    results = {}
    for suffix, dtype in (("", torch.float32), ("_bf16", torch.bfloat16)):
        d = os.path.join(OUT, name + suffix)
        shutil.rmtree(d, ignore_errors=True)
        model.to(dtype).save_pretrained(d, safe_serialization=True)
        for extra in ("generation_config.json",):
            if os.path.exists(os.path.join(d, extra)):
                os.remove(os.path.join(d, extra))
        ref_model = cls.from_pretrained(d, dtype=torch.float64, attn_implementation="eager",
                                         experts_implementation="eager").eval()
        if suffix == "":
            seqs, _ = draw_sequences(ref_model, vocab, k, seed)
        ref = reference(ref_model, seqs, vocab, k)
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(ref, f, separators=(",", ":"))
            f.write("\n")
        if suffix == "":
            write_gguf(os.path.join(d, "model.gguf"), gguf_arch, model.config, state_dict_of(d),
                       layer_moe, shared)
        results[name + suffix] = ref
        print(f"{name}{suffix}: argmax margin min "
              f"{min(s['argmax_margin_min'] for s in ref['sequences']):.4g}, route gap min "
              f"{ref['route_gap_min']:.4g}, greedy margin min {ref['greedy']['step_margin_min']:.4g}")
    model.to(torch.float32)
    return results


def build(cls, cfg, seed):
    torch.manual_seed(seed)
    model = cls(cfg).eval()
    randomise(model, seed)
    return model


def main():
    os.makedirs(OUT, exist_ok=True)
    common = dict(vocab_size=64, hidden_size=16, rms_norm_eps=1e-6, max_position_embeddings=64,
                  attn_implementation="eager", bos_token_id=1, eos_token_id=2)

    mixtral_cfg = MixtralConfig(
        intermediate_size=12, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
        head_dim=8, num_local_experts=4, num_experts_per_tok=2, tie_word_embeddings=False,
        sliding_window=None, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        **common)
    save("mixtral", build(MixtralForCausalLM, mixtral_cfg, 21), MixtralForCausalLM, 64, 2, 201,
         "llama", [True, True], False)

    qwen2_cfg = Qwen2MoeConfig(
        intermediate_size=20, moe_intermediate_size=12, shared_expert_intermediate_size=16,
        num_hidden_layers=3, num_attention_heads=2, num_key_value_heads=1, num_experts=4,
        num_experts_per_tok=2, norm_topk_prob=False, decoder_sparse_step=1, mlp_only_layers=[1],
        tie_word_embeddings=True, use_sliding_window=False,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, **common)
    save("qwen2_moe", build(Qwen2MoeForCausalLM, qwen2_cfg, 22), Qwen2MoeForCausalLM, 64, 2, 202,
         "qwen2moe", [True, False, True], True)

    qwen3_cfg = Qwen3MoeConfig(
        moe_intermediate_size=12, intermediate_size=24, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, num_experts=8,
        num_experts_per_tok=2, norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[],
        tie_word_embeddings=False,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}, **common)
    save("qwen3_moe", build(Qwen3MoeForCausalLM, qwen3_cfg, 23), Qwen3MoeForCausalLM, 64, 2, 203,
         "qwen3moe", [True, True], False)


if __name__ == "__main__":
    main()
