#!/usr/bin/env python3
"""Benchmark of `modelprint compare` on 7B-shaped models generated on the fly (NOT committed).

Writes two Llama-7B-shaped HF directories (hidden 4096, 32 heads, MLP 11008, vocab 32000, bf16)
with --layers of the 32 layers (default 4: every layer has the real 7B shapes, so the per-layer
cost is the real one), B = A + Gaussian noise of 0.3 x each tensor's std (a "fine-tune"), then
times `modelprint compare A B --json` under /usr/bin/time -v and prints wall time, peak RSS (and
the peaks of its anonymous and file-backed parts, sampled from /proc/PID/status every second) and
the bytes the compare process read from storage (read_bytes of /proc/self/io, which takes in
reaped children, before and after). Before each run the pair's pages are evicted from the page
cache (posix_fadvise DONTNEED per file: no root needed), so every run starts cold and
read_bytes / (A+B size) is the number of times the weights were read.
The full 7B time is extrapolated as  t(L) = t_fixed + L x t_layer  from two runs with
different layer counts (--layers and --layers2).
Usage: python3 bench/compare_7b.py BUILD/modelprint [OTHER/modelprint ...] [--dir /tmp/mp7b]
       [--layers 2] [--layers2 4] [--threads 2] [--sharded] [--keep] [--reuse]
       (--layers 32 --layers2 0 --sharded: one full 7B-shaped run; several binaries: each is
       run on the same generated pair, e.g. a build before and after a change)
Needs torch, safetensors; disk: ~2 x (0.5 + 0.4 L) GB.
"""
import argparse, glob, json, os, re, shutil, subprocess, threading, time

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


def read_bytes_self():
    for line in open("/proc/self/io"):
        if line.startswith("read_bytes:"):
            return int(line.split()[1])
    return 0


def evict(dirs):
    """Drop the pair's clean pages from the page cache (fadvise DONTNEED; unprivileged)."""
    for d in dirs:
        for f in glob.glob(os.path.join(d, "*")):
            fd = os.open(f, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def cached_gb(dirs):
    files = [f for d in dirs for f in glob.glob(os.path.join(d, "*.safetensors"))]
    r = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES"] + files,
                       capture_output=True, text=True)
    return sum(int(x) for x in r.stdout.split() if x.isdigit()) / 1e9


class Sampler(threading.Thread):
    """Peak RssAnon / RssFile of the modelprint process (child of /usr/bin/time)."""
    def __init__(self, parent_pid):
        super().__init__(daemon=True)
        self.parent, self.stop, self.anon, self.file = parent_pid, False, 0, 0

    def run(self):
        while not self.stop:
            try:
                kids = open(f"/proc/{self.parent}/task/{self.parent}/children").read().split()
                for k in kids:
                    st = open(f"/proc/{k}/status").read()
                    a = int(re.search(r"RssAnon:\s+(\d+)", st).group(1))
                    f = int(re.search(r"RssFile:\s+(\d+)", st).group(1))
                    self.anon, self.file = max(self.anon, a), max(self.file, f)
            except (OSError, AttributeError):
                pass
            time.sleep(1.0)


def run(mp, a, b, threads):
    evict([a, b])
    cold = cached_gb([a, b])
    r0 = read_bytes_self()
    t0 = time.time()
    p = subprocess.Popen(["/usr/bin/time", "-v", mp, "--quiet", "compare", a, b, "--weights-only",
                          "--json", "--no-store", "--threads", str(threads)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(p.pid)
    sampler.start()
    out, err = p.communicate()
    sampler.stop = True
    wall = time.time() - t0
    read = (read_bytes_self() - r0) / 1e9
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1))
    if p.returncode != 0:
        raise SystemExit(err[-2000:])
    doc = json.loads(out)
    v = doc["verdict"]
    return dict(wall=wall, rss=rss / 1024 / 1024, relation=v["relation"], subtype=v.get("subtype"),
                read_gb=read, cached_at_start_gb=cold, anon_gib=sampler.anon / 1024 / 1024,
                file_gib=sampler.file / 1024 / 1024, doc=doc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("modelprint", nargs="+", help="one or more modelprint binaries")
    ap.add_argument("--dir", default="/tmp/mp7b")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--layers2", type=int, default=4, help="0: one run only")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sharded", action="store_true",
                    help="one shard per layer, B made from A shard by shard (needed for --layers 32)")
    ap.add_argument("--keep", action="store_true", help="keep the generated models")
    ap.add_argument("--reuse", action="store_true", help="use models left by --keep")
    a = ap.parse_args()
    res = {}
    for L in (a.layers, a.layers2) if a.layers2 else (a.layers,):
        d = os.path.join(a.dir, f"L{L}")
        gen = 0.0
        if not (a.reuse and os.path.exists(os.path.join(d, "B", "config.json"))):
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
        docs = []
        for mp in a.modelprint:
            r = run(mp, os.path.join(d, "A"), os.path.join(d, "B"), a.threads)
            res[L] = r["wall"]
            docs.append(r.pop("doc"))
            print(f"{mp}: layers {L}: {size:.2f} GB (A+B), generated in {gen:.0f} s; compare "
                  f"{r['wall']:.1f} s, peak RSS {r['rss']:.2f} GiB (RssAnon peak {r['anon_gib']:.2f}, "
                  f"RssFile peak {r['file_gib']:.2f}), read from storage {r['read_gb']:.2f} GB = "
                  f"{r['read_gb'] / size:.2f} x the weights (cached at start {r['cached_at_start_gb']:.2f} GB), "
                  f"verdict {r['relation']}/{r['subtype']}", flush=True)
        if len(docs) > 1:
            same = all(x == docs[0] for x in docs[1:])
            print(f"JSON documents of the {len(docs)} binaries identical: {same}", flush=True)
        if not a.keep:
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
