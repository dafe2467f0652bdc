#!/usr/bin/env python3
"""Benchmark of `modelprint compare` on 7B-shaped models generated on the fly (NOT committed).

Writes two Llama-7B-shaped HF directories (hidden 4096, 32 heads, MLP 11008, vocab 32000, bf16)
with --layers of the 32 layers (default 4: every layer has the real 7B shapes, so the per-layer
cost is the real one), B = A + Gaussian noise of 0.3 x each tensor's std (a "fine-tune"), then
times `modelprint compare A B --json` under /usr/bin/time -v and prints wall time and peak RSS.
The full 7B time is extrapolated as  t(L) = t_fixed + L x t_layer  from two runs with
different layer counts (--layers and --layers2).
Usage: python3 bench/compare_7b.py BUILD/modelprint [--dir /tmp/mp7b] [--layers 2] [--layers2 4]
       [--threads 2] [--sharded]   (--layers 32 --layers2 0 --sharded: one full 7B-shaped run)
Needs torch, safetensors; disk: ~2 x (0.5 + 0.4 L) GB.
"""
import argparse, json, os, re, shutil, subprocess, time

import torch
from safetensors.torch import save_file

H, FF, V, NH = 4096, 11008, 32000, 32


def make(path, layers, seed, base=None, noise=0.0):
    os.makedirs(path, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    t = {}
    def w(name, *shape, std=0.02):
        if base is not None:
            x = base[name].float()
            t[name] = (x + noise * x.std() * torch.randn(x.shape, generator=g)).to(torch.bfloat16)
        else:
            t[name] = (std * torch.randn(*shape, generator=g)).to(torch.bfloat16)
    w("model.embed_tokens.weight", V, H)
    w("lm_head.weight", V, H)
    w("model.norm.weight", H, std=0.1)
    for l in range(layers):
        p = f"model.layers.{l}."
        for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
            w(p + f"self_attn.{n}.weight", H, H)
        w(p + "mlp.gate_proj.weight", FF, H)
        w(p + "mlp.up_proj.weight", FF, H)
        w(p + "mlp.down_proj.weight", H, FF)
        w(p + "input_layernorm.weight", H, std=0.1)
        w(p + "post_attention_layernorm.weight", H, std=0.1)
    if base is None:
        for k in list(t):
            if k.endswith("norm.weight"):
                t[k] = (1.0 + t[k].float()).to(torch.bfloat16)
    save_file(t, os.path.join(path, "model.safetensors"))
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": H,
           "intermediate_size": FF, "num_attention_heads": NH, "num_key_value_heads": NH,
           "num_hidden_layers": layers, "vocab_size": V, "rms_norm_eps": 1e-5,
           "max_position_embeddings": 4096, "rope_theta": 10000.0, "tie_word_embeddings": False,
           "torch_dtype": "bfloat16", "hidden_act": "silu"}
    json.dump(cfg, open(os.path.join(path, "config.json"), "w"), indent=1)
    return t


def make_sharded(path, layers, seed, base_path=None, noise=0.0):
    """The same model written one shard per layer (plus one for embeddings/head/norm) with a
    model.safetensors.index.json, generating B from A shard by shard: memory stays at one
    layer, so a full 32-layer pair (2 x 13.5 GB) can be made on a 24 GiB machine."""
    from safetensors.torch import load_file
    os.makedirs(path, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    wm = {}
    def shard(name, specs):
        t = {}
        if base_path is not None:
            src = load_file(os.path.join(base_path, name))
            for k, x in src.items():
                x = x.float()
                t[k] = (x + noise * x.std() * torch.randn(x.shape, generator=g)).to(torch.bfloat16)
        else:
            for k, shape, std, one in specs:
                x = std * torch.randn(*shape, generator=g)
                t[k] = ((1.0 + x) if one else x).to(torch.bfloat16)
        save_file(t, os.path.join(path, name))
        wm.update({k: name for k in t})
    shard("model-globals.safetensors", [("model.embed_tokens.weight", (V, H), 0.02, False),
                                        ("lm_head.weight", (V, H), 0.02, False),
                                        ("model.norm.weight", (H,), 0.1, True)])
    for l in range(layers):
        p = f"model.layers.{l}."
        specs = [(p + f"self_attn.{n}.weight", (H, H), 0.02, False) for n in ("q_proj", "k_proj", "v_proj", "o_proj")]
        specs += [(p + "mlp.gate_proj.weight", (FF, H), 0.02, False), (p + "mlp.up_proj.weight", (FF, H), 0.02, False),
                  (p + "mlp.down_proj.weight", (H, FF), 0.02, False),
                  (p + "input_layernorm.weight", (H,), 0.1, True), (p + "post_attention_layernorm.weight", (H,), 0.1, True)]
        shard(f"model-layer{l:02d}.safetensors", specs)
    json.dump({"metadata": {}, "weight_map": wm}, open(os.path.join(path, "model.safetensors.index.json"), "w"))
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": H,
           "intermediate_size": FF, "num_attention_heads": NH, "num_key_value_heads": NH,
           "num_hidden_layers": layers, "vocab_size": V, "rms_norm_eps": 1e-5,
           "max_position_embeddings": 4096, "rope_theta": 10000.0, "tie_word_embeddings": False,
           "torch_dtype": "bfloat16", "hidden_act": "silu"}
    json.dump(cfg, open(os.path.join(path, "config.json"), "w"), indent=1)


def dir_bytes(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(".safetensors"))


def run(mp, a, b, threads):
    t0 = time.time()
    r = subprocess.run(["/usr/bin/time", "-v", mp, "--quiet", "compare", a, b, "--weights-only", "--json",
                        "--no-store", "--threads", str(threads)], capture_output=True, text=True)
    wall = time.time() - t0
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    if r.returncode != 0:
        raise SystemExit(r.stderr[-2000:])
    v = json.loads(r.stdout)["verdict"]
    return wall, rss / 1024 / 1024, v["relation"], v.get("subtype")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("modelprint")
    ap.add_argument("--dir", default="/tmp/mp7b")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--layers2", type=int, default=4, help="0: one run only")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sharded", action="store_true",
                    help="one shard per layer, B made from A shard by shard (needed for --layers 32)")
    a = ap.parse_args()
    res = {}
    for L in (a.layers, a.layers2) if a.layers2 else (a.layers,):
        d = os.path.join(a.dir, f"L{L}")
        shutil.rmtree(d, ignore_errors=True)
        t0 = time.time()
        if a.sharded:
            make_sharded(os.path.join(d, "A"), L, 1)
            make_sharded(os.path.join(d, "B"), L, 2, base_path=os.path.join(d, "A"), noise=0.3)
        else:
            base = make(os.path.join(d, "A"), L, 1)
            make(os.path.join(d, "B"), L, 2, base=base, noise=0.3)
            del base
        gen = time.time() - t0
        size = sum(dir_bytes(os.path.join(d, s)) for s in "AB") / 1e9
        subprocess.run(["sync"])
        wall, rss, rel, sub = run(a.modelprint, os.path.join(d, "A"), os.path.join(d, "B"), a.threads)
        res[L] = wall
        print(f"layers {L}: {size:.2f} GB (A+B), generated in {gen:.0f} s; compare {wall:.1f} s, "
              f"peak RSS {rss:.2f} GiB, verdict {rel}/{sub}", flush=True)
        shutil.rmtree(d, ignore_errors=True)
    if not a.layers2:
        return
    l1, l2 = a.layers, a.layers2
    per_layer = (res[l2] - res[l1]) / (l2 - l1)
    fixed = res[l1] - l1 * per_layer
    print(f"per layer {per_layer:.1f} s, fixed {fixed:.1f} s -> 32 layers (7B): "
          f"{(fixed + 32 * per_layer) / 60:.1f} min")


if __name__ == "__main__":
    main()
