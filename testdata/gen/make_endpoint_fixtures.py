#!/usr/bin/env python3
"""Endpoint-test models made from the shipped stories260K GGUF (../shared/models/stories260K).

usage: make_endpoint_fixtures.py OUT_DIR [--skip-finetune]
Writes, seeded and deterministic (CPU torch, one thread):
  stories260K.f16.gguf   every 2-D weight as F16 (norms stay F32, as llama.cpp's converter does)
  stories260K.q8_0.gguf  2-D weights whose rows are a multiple of 32 as Q8_0, others F16
  stories260K.q4_0.gguf  the same with Q4_0 (ffn_down, 172 wide, stays F16 in both)
  stories260K.ft.gguf    F32 fine-tune: 40 Adam steps (lr 2e-3) on a few TinyStories-style
                         sentences about a dog named Max, q/k and embeddings frozen (so the
                         GGUF's interleaved q/k rows need no re-permutation); transformers'
                         LlamaForCausalLM on the HF copy of the same weights
  stories260K.ft_weak.gguf  the same recipe, weaker: 10 Adam steps at lr 5e-4
  fixtures.json          sha256 of each file and the fine-tunes' mean next-token KL from the base
The files are written to OUT_DIR (the test build tree), not committed: they are made again from
the committed base in seconds. Needs numpy, gguf (and torch + transformers for the fine-tune).
"""
import hashlib
import json
import os
import sys

import numpy as np
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
STORIES = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "models", "stories260K"))
BASE = os.path.join(STORIES, "stories260K.gguf")
Q = gguf.GGMLQuantizationType


def write_variant(reader, out_path, encode):
    """Copy the GGUF's metadata and tensors; encode(name, f32 array) -> (array, type)."""
    arch = reader.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(out_path, arch)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        vt = field.types[0]
        sub = field.types[-1] if vt == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(field.name, field.contents(), vt, sub_type=sub)
    items = []
    for t in reader.tensors:
        assert t.tensor_type == Q.F32, t.name
        data = np.array(t.data, dtype=np.float32).reshape([int(x) for x in reversed(t.shape)])
        arr, typ = encode(t.name, data)
        items.append((t.name, data.shape, arr, typ))
    for name, shape, arr, typ in items:
        w.add_tensor(name, arr, raw_shape=arr.shape if typ in (Q.F32, Q.F16) else None, raw_dtype=typ)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def quantised(kind):
    def enc(name, a):
        if a.ndim < 2:
            return a, Q.F32
        if kind == Q.F16 or a.shape[-1] % 32 != 0:
            return a.astype(np.float16), Q.F16
        return gguf.quants.quantize(a, kind), kind
    return enc


STORY = [
    "Once upon a time, there was a dog named Max. Max liked to run in the big green park.",
    "One day, Max saw a red ball. Max ran to the ball and played with it all day.",
    "Max was a happy dog. He liked his friend Tom. Tom and Max played in the sun.",
    "The dog named Max found a stick. Max gave the stick to Tom, and Tom smiled.",
]


def finetune(reader, out_path, steps=40, lr=2e-3):
    import torch
    from transformers import LlamaForCausalLM
    from tokenizers import Tokenizer
    torch.manual_seed(17)
    torch.set_num_threads(1)
    model = LlamaForCausalLM.from_pretrained(STORIES, torch_dtype=torch.float32)
    tok = Tokenizer.from_file(os.path.join(STORIES, "tokenizer.json"))
    ids = [torch.tensor([tok.encode(s).ids]) for s in STORY]
    base = [model(x).logits.detach() for x in ids]
    train = []
    for n, p in model.named_parameters():
        frozen = "q_proj" in n or "k_proj" in n or "embed_tokens" in n
        p.requires_grad = not frozen
        if not frozen:
            train.append(p)
    opt = torch.optim.Adam(train, lr=lr)
    for step in range(steps):
        x = ids[step % len(ids)]
        loss = model(x, labels=x).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    kl = []
    with torch.no_grad():
        for x, b in zip(ids, base):
            lp = torch.log_softmax(model(x).logits, -1)
            lb = torch.log_softmax(b, -1)
            kl.append(float((lb.exp() * (lb - lp)).sum(-1).mean()))
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    names = {"output_norm.weight": "model.norm.weight"}
    for i in range(model.config.num_hidden_layers):
        h = f"model.layers.{i}."
        names.update({f"blk.{i}.attn_norm.weight": h + "input_layernorm.weight",
                      f"blk.{i}.ffn_norm.weight": h + "post_attention_layernorm.weight",
                      f"blk.{i}.attn_v.weight": h + "self_attn.v_proj.weight",
                      f"blk.{i}.attn_output.weight": h + "self_attn.o_proj.weight",
                      f"blk.{i}.ffn_gate.weight": h + "mlp.gate_proj.weight",
                      f"blk.{i}.ffn_up.weight": h + "mlp.up_proj.weight",
                      f"blk.{i}.ffn_down.weight": h + "mlp.down_proj.weight"})

    def enc(name, a):
        if name in names:
            new = sd[names[name]].astype(np.float32)
            assert new.shape == a.shape, (name, new.shape, a.shape)
            return new, Q.F32
        return a, Q.F32
    write_variant(reader, out_path, enc)
    return sum(kl) / len(kl)


def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    reader = gguf.GGUFReader(BASE)
    info = {"base": BASE, "base_sha256": sha(BASE), "files": {}}
    for name, kind in (("f16", Q.F16), ("q8_0", Q.Q8_0), ("q4_0", Q.Q4_0)):
        p = os.path.join(out, f"stories260K.{name}.gguf")
        write_variant(reader, p, quantised(kind))
        info["files"][os.path.basename(p)] = sha(p)
    if "--skip-finetune" not in sys.argv:
        p = os.path.join(out, "stories260K.ft.gguf")
        info["finetune_mean_kl"] = finetune(reader, p)
        info["files"][os.path.basename(p)] = sha(p)
        # A weaker fine-tune for power curves: 10 steps at lr 5e-4.
        p = os.path.join(out, "stories260K.ft_weak.gguf")
        info["finetune_weak_mean_kl"] = finetune(reader, p, steps=10, lr=5e-4)
        info["files"][os.path.basename(p)] = sha(p)
    with open(os.path.join(out, "fixtures.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
