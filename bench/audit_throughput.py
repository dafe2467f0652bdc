#!/usr/bin/env python3
"""Audit throughput (items/s) of `modelprint audit` on a model of SmolLM2-135M's shape, on the
devices given, for machines where the real SmolLM2 GGUF cannot be had (the GPU machine: 98 MB
does not travel). Throughput depends on the shapes, not on the values, so the model is a
random-weight Llama with SmolLM2-135M-Instruct's configuration (hidden 576, 30 layers, 9 heads,
3 KV heads, FF 1536, vocabulary 49152, tied embeddings, bf16) and SmolLM2's own tokenizer;
its accuracy is meaningless (chance) and not reported.

  # where the GGUF is (here): export the tokenizer once (about 3 MB)
  python3 bench/audit_throughput.py export-tokenizer GGUF DIR
  # anywhere with torch + transformers: build the model (if missing) and time the audits
  python3 bench/audit_throughput.py run MODELPRINT --tokenizer DIR --model-dir /tmp/smol-shaped \
      [--devices cpu,cuda,cuda-exact] [--threads T] [--bench FILE ...] [--fewshot K]

Prints one JSON line per (bench, device) with modelprint's own items_per_second (scoring only,
model loading excluded) and the device string it reports.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
DEFAULT_BENCH = [os.path.join(ROOT, "testdata", "audit", "common_knowledge.jsonl"),
                 os.path.join(ROOT, "testdata", "audit", "facts_bench.jsonl")]


def export_tokenizer(gguf, out):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(gguf)),
                                        gguf_file=os.path.basename(gguf))
    tok.save_pretrained(out)
    for f in os.listdir(out):
        if f not in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            os.remove(os.path.join(out, f))
    print("wrote", out, sorted(os.listdir(out)))


def build_model(tok_dir, out):
    if os.path.exists(os.path.join(out, "model.safetensors")):
        return
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536,
                      num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                      max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=100000.0,
                      tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
                      initializer_range=0.02)
    model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    for f in os.listdir(tok_dir):
        shutil.copy(os.path.join(tok_dir, f), out)


def run(a):
    build_model(a.tokenizer, a.model_dir)
    benches = a.bench or DEFAULT_BENCH
    for bench in benches:
        for dev in a.devices.split(","):
            cmd = [a.modelprint, "audit", a.model_dir, "--bench", bench, "--json", "--no-store",
                   "--fewshot", str(a.fewshot)]
            cmd += ["--device", "cuda", "--exact-f32"] if dev == "cuda-exact" else ["--device", dev]
            if a.threads:
                cmd += ["--threads", str(a.threads)]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                print(json.dumps({"bench": os.path.basename(bench), "device": dev,
                                  "error": res.stderr.strip()[-400:]}))
                continue
            j = json.loads(res.stdout)
            print(json.dumps({"bench": os.path.basename(bench), "device": dev,
                              "engine": j["device"], "n": j["n"],
                              "n_mc": j["multiple_choice"]["n"], "n_gen": j["generative"]["n"],
                              "fewshot": a.fewshot, "seconds": round(j["seconds"], 4),
                              "items_per_second": round(j["items_per_second"], 2)}))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export-tokenizer")
    e.add_argument("gguf")
    e.add_argument("out")
    r = sub.add_parser("run")
    r.add_argument("modelprint")
    r.add_argument("--tokenizer", required=True)
    r.add_argument("--model-dir", required=True)
    r.add_argument("--devices", default="cpu")
    r.add_argument("--threads", type=int, default=0)
    r.add_argument("--fewshot", type=int, default=0)
    r.add_argument("--bench", action="append")
    a = ap.parse_args()
    if a.cmd == "export-tokenizer":
        export_tokenizer(a.gguf, a.out)
        return 0
    return run(a)


if __name__ == "__main__":
    sys.exit(main())
