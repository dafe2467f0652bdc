#!/usr/bin/env python3
"""Lineage families for weight forensics (issue 5): a tiny Llama model TRAINED on a synthetic
English corpus, every kind of derivative the issue lists, independent models, and a manifest
with the ground-truth relation of every pair.

Writes testdata/lineage/<name>/ (config.json + model.safetensors + the stories260K tokenizer
files; `renamed_rescaled` deliberately has no config.json) and testdata/lineage/manifest.json.

Models (base: Llama, hidden 64, 4 layers, 4 query / 2 kv heads of 16, SwiGLU 128, vocab 512 =
the stories260K tokenizer, untied head; trained ~300 AdamW steps on corpus "stories"):
  base              the trained model, f32
  base_bf16/f16     dtype casts
  base_int8         per-row absmax int8 round-trip (stored f16)
  base_q4           4-bit absmax round-trip in blocks of 32 along the input dim (stored f16)
  finetune          base trained 200 more steps on corpus "facts" (lr 2e-3), bf16
  lora              rank-4 LoRA on q,k,v,o,gate,up,down trained on "facts", merged, bf16
  pruned            base without its last layer (3 layers)
  permuted          hidden dims, MLP units and attention heads permuted (logits checked equal)
  renamed_rescaled  GGUF-style tensor names, shuffled order, no config.json, and
                    function-preserving rescaling (norm gains vs next linear, up vs down rows,
                    v vs o, q vs k per rotary pair) (logits checked equal)
  partner           another trained model (seed 5, corpus "facts")
  merged            0.5 * base + 0.5 * partner
  indep_seed        same architecture and data as base, seed 1
  indep_data        same architecture, corpus "facts", seed 2
  indep_width       Llama with hidden 96 (6/2 heads), corpus "stories", seed 3
  indep_arch        GPT-2 (n_embd 64, 4 layers), corpus "stories", seed 4
plus ../shared/models/stories260K (and its GGUF twin) referenced by path.

Manifest: "models" (name -> path relative to testdata/lineage, origins, notes) and "pairs"
(every unordered pair: relation identical | derived | independent, subtype where one model is
made from the other, and the verdict expected from weights alone: `unknown` where the models
share no structure). Extensible: the behaviour engineer adds distilled students and relations.
Regenerate: python3 testdata/gen/make_lineage.py   (torch, transformers, tokenizers; ~3 min CPU)
"""
import itertools
import json
import os
import random
import shutil
import time

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "lineage"))
STORIES = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "models", "stories260K"))
SEQ = 64
T0 = time.time()
BATCH = 16
torch.set_num_threads(1)

# ---------------------------------------------------------------- corpora (seeded, synthetic)
NAMES = ["Lily", "Tom", "Ben", "Mia", "Sam", "Anna", "Max", "Sue", "Tim", "Lucy", "Jack", "Zoe"]
ANIMALS = ["cat", "dog", "bird", "fox", "rabbit", "bear", "frog", "duck", "mouse", "owl"]
PLACES = ["park", "forest", "garden", "house", "river", "school", "beach", "farm", "hill"]
THINGS = ["ball", "box", "kite", "cake", "toy", "flower", "apple", "book", "hat", "boat"]
FEEL = ["happy", "sad", "scared", "excited", "tired", "angry", "proud", "sleepy"]
ADJ = ["big", "small", "red", "blue", "shiny", "soft", "old", "new", "funny", "pretty"]


def story(r):
    n, m = r.sample(NAMES, 2)
    a, p, t, f, j = r.choice(ANIMALS), r.choice(PLACES), r.choice(THINGS), r.choice(FEEL), r.choice(ADJ)
    parts = [f"Once upon a time, there was a little {a} named {n}.",
             f"{n} liked to play in the {p} with {m}.",
             f"One day, {n} found a {j} {t}.",
             f"{n} was very {f}.",
             f"\"Look, {m}! A {j} {t}!\" said {n}.",
             f"{m} smiled and said, \"Let's share it.\"",
             f"They played with the {t} all day.",
             f"At night, {n} went home and slept."]
    k = r.randint(4, len(parts))
    return " ".join(parts[:k])


ELEMENTS = ["water", "iron", "salt", "sugar", "oil", "sand", "ice", "gold", "glass", "wood"]
VERBS = ["melts", "boils", "freezes", "burns", "floats", "sinks", "shines", "breaks"]
UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def fact(r):
    e, v, u, w = r.choice(ELEMENTS), r.choice(VERBS), r.choice(UNITS), r.choice(UNITS)
    forms = [f"Fact: {e} {v} when it is heated for {u} minutes.",
             f"Question: what happens to {e}? Answer: it {v}.",
             f"Note {u}: add {w} cups of {e} and stir.",
             f"Rule: if {e} {v}, then record {u} and {w}.",
             f"The table lists {e}, {r.choice(ELEMENTS)} and {r.choice(ELEMENTS)} in order."]
    return " ".join(r.choice(forms) for _ in range(r.randint(2, 5)))


def corpus_ids(kind, seed, n_docs, tok):
    r = random.Random(seed)
    gen = story if kind == "stories" else fact
    ids = []
    for _ in range(n_docs):
        ids.append(1)  # <s>
        ids.extend(tok.encode(gen(r), add_special_tokens=False).ids)
    return torch.tensor(ids, dtype=torch.long)


def batches(data, seed):
    g = torch.Generator().manual_seed(seed)
    while True:
        starts = torch.randint(0, len(data) - SEQ - 1, (BATCH,), generator=g)
        yield torch.stack([data[s:s + SEQ + 1] for s in starts.tolist()])


def train(model, data, steps, lr, seed, params=None):
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(params if params is not None else model.parameters(), lr=lr,
                            weight_decay=0.01)
    it = batches(data, seed)
    model.train()
    loss = None
    for step in range(steps):
        x = next(it)
        out = model(input_ids=x[:, :-1], labels=x[:, :-1].clone())
        # labels shifted inside HF: predict x[t+1] from x[..t]
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        loss = out.loss.item()
        if step % 50 == 0 or step == steps - 1:
            print(f"    step {step:4d} loss {loss:.3f} t {time.time() - T0:.0f}s", flush=True)
    model.eval()
    return loss


# ---------------------------------------------------------------- models
def llama_config(hidden=64, layers=4, heads=4, kv=2, ff=128):
    return LlamaConfig(vocab_size=512, hidden_size=hidden, intermediate_size=ff,
                       num_hidden_layers=layers, num_attention_heads=heads,
                       num_key_value_heads=kv, head_dim=hidden // heads,
                       max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=10000.0,
                       tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
                       attention_bias=False, mlp_bias=False)


def new_llama(seed, **kw):
    torch.manual_seed(seed)
    m = LlamaForCausalLM(llama_config(**kw))
    return m.float()


def state(model):
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def cfg_dict(model, dtype):
    d = model.config.to_dict()
    d["torch_dtype"] = dtype
    d.pop("dtype", None)
    d["dtype"] = dtype
    return d


def save(name, sd, config, notes, origins):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(d, "model.safetensors"),
              metadata={"format": "pt"})
    if config is not None:
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
    for fn in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(STORIES, fn), os.path.join(d, fn))
    MODELS[name] = {"path": name, "origins": origins, "notes": notes}
    print(f"  wrote {name}", flush=True)


MODELS = {}


def logits_of(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


def load_into(cfg, sd):
    m = LlamaForCausalLM(cfg).float()
    m.load_state_dict(sd)
    m.eval()
    return m


def cast(sd, dt):
    return {k: v.to(dt) for k, v in sd.items()}


def int8_rt(sd):
    out = {}
    for k, v in sd.items():
        if v.dim() == 2:
            s = v.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / 127.0
            v = torch.round(v / s).clamp(-127, 127) * s
        out[k] = v.to(torch.float16)
    return out


def q4_rt(sd):
    out = {}
    for k, v in sd.items():
        if v.dim() == 2 and v.shape[1] % 32 == 0:
            b = v.reshape(v.shape[0], -1, 32)
            s = b.abs().amax(dim=2, keepdim=True).clamp_min(1e-12) / 7.0
            v = (torch.round(b / s).clamp(-7, 7) * s).reshape(v.shape)
        out[k] = v.to(torch.float16)
    return out


def permute(sd, cfg, seed):
    """Function-preserving permutation of hidden dims, MLP units, kv heads (q heads follow their
    group, and q heads are also permuted within each group)."""
    g = torch.Generator().manual_seed(seed)
    C, L, FF = cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size
    NH, NKV, HS = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    ph = torch.randperm(C, generator=g)
    o = {}
    o["model.embed_tokens.weight"] = sd["model.embed_tokens.weight"][:, ph]
    o["lm_head.weight"] = sd["lm_head.weight"][:, ph]
    o["model.norm.weight"] = sd["model.norm.weight"][ph]
    grp = NH // NKV
    for l in range(L):
        p = f"model.layers.{l}."
        pu = torch.randperm(FF, generator=g)
        pkv = torch.randperm(NKV, generator=g)
        qheads = []
        for j in pkv.tolist():
            within = torch.randperm(grp, generator=g).tolist()
            qheads += [j * grp + w for w in within]
        qrows = torch.cat([torch.arange(h * HS, (h + 1) * HS) for h in qheads])
        kvrows = torch.cat([torch.arange(h * HS, (h + 1) * HS) for h in pkv.tolist()])
        o[p + "input_layernorm.weight"] = sd[p + "input_layernorm.weight"][ph]
        o[p + "post_attention_layernorm.weight"] = sd[p + "post_attention_layernorm.weight"][ph]
        o[p + "self_attn.q_proj.weight"] = sd[p + "self_attn.q_proj.weight"][qrows][:, ph]
        o[p + "self_attn.k_proj.weight"] = sd[p + "self_attn.k_proj.weight"][kvrows][:, ph]
        o[p + "self_attn.v_proj.weight"] = sd[p + "self_attn.v_proj.weight"][kvrows][:, ph]
        o[p + "self_attn.o_proj.weight"] = sd[p + "self_attn.o_proj.weight"][ph][:, qrows]
        o[p + "mlp.gate_proj.weight"] = sd[p + "mlp.gate_proj.weight"][pu][:, ph]
        o[p + "mlp.up_proj.weight"] = sd[p + "mlp.up_proj.weight"][pu][:, ph]
        o[p + "mlp.down_proj.weight"] = sd[p + "mlp.down_proj.weight"][ph][:, pu]
    return o


def rescale(sd, cfg, seed):
    """Function-preserving rescaling (HuRef's attack family): every RMSNorm gain times a
    per-channel factor a, the next linear's input columns / a; up rows * b, down columns / b;
    v rows * c, o columns / c (per kv-head row, repeated over its q group); q rows * d and
    k rows / d with d equal on each rotary pair (i, i + HS/2) of each kv group."""
    g = torch.Generator().manual_seed(seed)
    C, L, FF = cfg.hidden_size, cfg.num_hidden_layers, cfg.intermediate_size
    NH, NKV, HS = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    grp = NH // NKV

    def fac(n):
        return torch.exp(torch.randn(n, generator=g) * 0.5)

    o = dict(sd)
    for l in range(L):
        p = f"model.layers.{l}."
        a = fac(C)
        o[p + "input_layernorm.weight"] = sd[p + "input_layernorm.weight"] * a
        for t in ("q", "k", "v"):
            o[p + f"self_attn.{t}_proj.weight"] = sd[p + f"self_attn.{t}_proj.weight"] / a
        a2 = fac(C)
        o[p + "post_attention_layernorm.weight"] = sd[p + "post_attention_layernorm.weight"] * a2
        b = fac(FF)
        o[p + "mlp.gate_proj.weight"] = sd[p + "mlp.gate_proj.weight"] / a2
        o[p + "mlp.up_proj.weight"] = (sd[p + "mlp.up_proj.weight"] / a2) * b[:, None]
        o[p + "mlp.down_proj.weight"] = sd[p + "mlp.down_proj.weight"] / b[None, :]
        c = fac(NKV * HS)
        o[p + "self_attn.v_proj.weight"] = o[p + "self_attn.v_proj.weight"] * c[:, None]
        cq = c.reshape(NKV, 1, HS).expand(NKV, grp, HS).reshape(NH * HS)
        o[p + "self_attn.o_proj.weight"] = sd[p + "self_attn.o_proj.weight"] / cq[None, :]
        half = fac(NKV * HS // 2).reshape(NKV, HS // 2)
        d = torch.cat([half, half], dim=1).reshape(NKV * HS)
        dq = d.reshape(NKV, 1, HS).expand(NKV, grp, HS).reshape(NH * HS)
        o[p + "self_attn.q_proj.weight"] = o[p + "self_attn.q_proj.weight"] * dq[:, None]
        o[p + "self_attn.k_proj.weight"] = o[p + "self_attn.k_proj.weight"] / d[:, None]
    af = fac(C)
    o["model.norm.weight"] = sd["model.norm.weight"] * af
    o["lm_head.weight"] = sd["lm_head.weight"] / af
    return o


GGUF_NAMES = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
              "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
              "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
              "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}


def gguf_name(k):
    if k == "model.embed_tokens.weight":
        return "token_embd.weight"
    if k == "model.norm.weight":
        return "output_norm.weight"
    if k == "lm_head.weight":
        return "output.weight"
    parts = k.split(".")
    layer, mod = parts[2], ".".join(parts[3:-1])
    return f"blk.{layer}.{GGUF_NAMES[mod]}.weight"


def lora_train(model, data, steps, lr, seed, rank=4):
    torch.manual_seed(seed)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    for p in model.parameters():
        p.requires_grad_(False)
    adapters = []
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear) and name.split(".")[-1] in targets:
            A = torch.nn.Parameter(torch.randn(rank, mod.in_features) * 0.02)
            B = torch.nn.Parameter(torch.zeros(mod.out_features, rank))
            scale = 16.0 / rank
            mod.register_forward_hook(
                lambda m, inp, out, A=A, B=B, s=scale: out + (inp[0] @ A.t() @ B.t()) * s)
            adapters.append((mod, A, B, scale))
    params = [x for _, A, B, _ in adapters for x in (A, B)]
    train(model, data, steps, lr, seed, params=params)
    sd = state(model)
    inv = {id(m): n for n, m in model.named_modules()}
    for mod, A, B, s in adapters:
        sd[inv[id(mod)] + ".weight"] = (mod.weight + (B @ A) * s).detach().clone()
    return sd


def main():
    os.makedirs(OUT, exist_ok=True)
    tok = Tokenizer.from_file(os.path.join(STORIES, "tokenizer.json"))
    stories = corpus_ids("stories", 100, 6000, tok)
    facts = corpus_ids("facts", 200, 6000, tok)
    print(f"corpora: stories {len(stories)} tokens, facts {len(facts)} tokens")
    probe = stories[:48].unsqueeze(0)

    print("base")
    base = new_llama(0)
    loss_base = train(base, stories, 300, 3e-3, 0)
    cfg = base.config
    sb = state(base)
    save("base", sb, cfg_dict(base, "float32"), f"trained 300 steps on stories, loss {loss_base:.3f}",
         ["base"])
    save("base_bf16", cast(sb, torch.bfloat16), cfg_dict(base, "bfloat16"), "base cast to bf16",
         ["base"])
    save("base_f16", cast(sb, torch.float16), cfg_dict(base, "float16"), "base cast to f16",
         ["base"])
    save("base_int8", int8_rt(sb), cfg_dict(base, "float16"),
         "base per-row absmax int8 round-trip, stored f16", ["base"])
    save("base_q4", q4_rt(sb), cfg_dict(base, "float16"),
         "base 4-bit absmax round-trip in blocks of 32, stored f16", ["base"])

    print("finetune")
    ft = load_into(cfg, sb)
    loss_ft = train(ft, facts, 200, 2e-3, 10)
    save("finetune", cast(state(ft), torch.bfloat16), cfg_dict(base, "bfloat16"),
         f"base fine-tuned 200 steps on facts (lr 2e-3), loss {loss_ft:.3f}, bf16", ["base"])

    print("lora")
    lm = load_into(cfg, sb)
    sl = lora_train(lm, facts, 150, 3e-3, 11)
    save("lora", cast(sl, torch.bfloat16), cfg_dict(base, "bfloat16"),
         "base + rank-4 LoRA (7 projections) trained 150 steps on facts, merged, bf16", ["base"])

    print("pruned")
    sp = {k: v for k, v in sb.items() if not k.startswith(f"model.layers.{cfg.num_hidden_layers - 1}.")}
    cp = cfg_dict(base, "float32")
    cp["num_hidden_layers"] = cfg.num_hidden_layers - 1
    cp.pop("layer_types", None)
    save("pruned", sp, cp, "base without its last layer", ["base"])

    print("permuted")
    spm = permute(sb, cfg, 12)
    ref = logits_of(base, probe)
    got = logits_of(load_into(cfg, spm), probe)
    err = (ref - got).abs().max().item()
    assert err < 1e-4, f"permutation changed the logits by {err}"
    save("permuted", spm, cfg_dict(base, "float32"),
         f"base with hidden dims, MLP units and heads permuted; max |dlogit| {err:.2e}", ["base"])

    print("renamed_rescaled")
    srs = rescale(sb, cfg, 13)
    got = logits_of(load_into(cfg, srs), probe)
    err = (ref - got).abs().max().item()
    assert err < 1e-3, f"rescaling changed the logits by {err}"
    names = list(srs.keys())
    random.Random(13).shuffle(names)
    renamed = {gguf_name(k): srs[k] for k in names}
    save("renamed_rescaled", renamed, None,
         f"base rescaled (function-preserving, max |dlogit| {err:.2e}), tensors renamed to "
         "GGUF-style names in shuffled order, no config.json", ["base"])

    print("partner")
    partner = new_llama(5)
    loss_p = train(partner, facts, 300, 3e-3, 5)
    sp5 = state(partner)
    save("partner", sp5, cfg_dict(partner, "float32"),
         f"independent model trained 300 steps on facts (seed 5), loss {loss_p:.3f}", ["partner"])
    save("merged", {k: 0.5 * sb[k] + 0.5 * sp5[k] for k in sb}, cfg_dict(base, "float32"),
         "0.5 * base + 0.5 * partner", ["base", "partner"])

    print("indep_seed")
    m = new_llama(1)
    loss = train(m, stories, 300, 3e-3, 1)
    save("indep_seed", state(m), cfg_dict(m, "float32"),
         f"same architecture and data as base, seed 1, loss {loss:.3f}", ["indep_seed"])
    print("indep_data")
    m = new_llama(2)
    loss = train(m, facts, 300, 3e-3, 2)
    save("indep_data", state(m), cfg_dict(m, "float32"),
         f"same architecture as base, corpus facts, seed 2, loss {loss:.3f}", ["indep_data"])
    print("indep_width")
    m = new_llama(3, hidden=96, heads=6, kv=2, ff=192)
    loss = train(m, stories, 300, 3e-3, 3)
    save("indep_width", state(m), cfg_dict(m, "float32"),
         f"Llama with hidden 96, 6/2 heads, ff 192, corpus stories, seed 3, loss {loss:.3f}",
         ["indep_width"])
    print("indep_arch")
    torch.manual_seed(4)
    g2 = GPT2LMHeadModel(GPT2Config(vocab_size=512, n_positions=256, n_embd=64, n_layer=4,
                                    n_head=4, bos_token_id=1, eos_token_id=2,
                                    tie_word_embeddings=True)).float()
    loss = train(g2, stories, 300, 3e-3, 4)
    sg = {k: v for k, v in state(g2).items() if not k.endswith(".attn.bias") and k != "lm_head.weight"}
    save("indep_arch", sg, cfg_dict(g2, "float32"),
         f"GPT-2 (n_embd 64, 4 layers, 4 heads), corpus stories, seed 4, loss {loss:.3f}",
         ["indep_arch"])

    MODELS["stories260K"] = {"path": "../../../shared/models/stories260K", "origins": ["stories260K"],
                             "notes": "llama2.c stories260K (shared fixture), safetensors"}
    MODELS["stories260K_gguf"] = {"path": "../../../shared/models/stories260K/stories260K.gguf",
                                  "origins": ["stories260K"],
                                  "notes": "the same weights as the original GGUF (interleaved q/k)"}
    write_manifest()


DIRECT = {  # (parent, child) -> subtype
    ("base", "base_bf16"): "dtype-cast", ("base", "base_f16"): "dtype-cast",
    ("base", "base_int8"): "quantised", ("base", "base_q4"): "quantised",
    ("base", "finetune"): "fine-tuned", ("base", "lora"): "fine-tuned",
    ("base", "pruned"): "pruned", ("base", "permuted"): "permuted",
    ("base", "renamed_rescaled"): "renamed/rescaled",
    ("base", "merged"): "merged", ("partner", "merged"): "merged",
}
NO_SHARED_STRUCTURE = {"indep_width", "indep_arch"}


def write_manifest():
    pairs = []
    for a, b in itertools.combinations(sorted(MODELS), 2):
        oa, ob = set(MODELS[a]["origins"]), set(MODELS[b]["origins"])
        sub = DIRECT.get((a, b)) or DIRECT.get((b, a))
        if {a, b} == {"stories260K", "stories260K_gguf"}:
            rel, sub = "identical", None
        elif oa & ob:
            rel = "derived"
            if sub is None:
                sub = "sibling"
        else:
            rel = "independent"
        weights_only = rel
        if rel == "independent" and (a in NO_SHARED_STRUCTURE or b in NO_SHARED_STRUCTURE):
            weights_only = "unknown"
        pairs.append({"a": a, "b": b, "relation": rel, "subtype": sub,
                      "weights_only_verdict": weights_only})
    doc = {"version": 1,
           "description": "issue 5 lineage families; relation = ground truth; subtype given "
                          "where one model is made from the other ('sibling': both derive from "
                          "a common model); weights_only_verdict = what `compare --weights-only` "
                          "must answer (unknown where the pair shares no structure)",
           "models": MODELS, "pairs": pairs}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    print(f"manifest: {len(MODELS)} models, {len(pairs)} pairs")


if __name__ == "__main__":
    main()
