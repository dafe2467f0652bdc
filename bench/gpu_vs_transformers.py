#!/usr/bin/env python3
"""GPU engine vs Hugging Face transformers: prefill and decode tokens/s on the same GPU, same
weights, same batch of prompts, bf16.

Models (generated here with seeded random weights: no model hub is reachable):
  llama-1b     a Llama-3.2-1B-shaped model (hidden 2048, 16 layers, 32 heads / 8 kv heads,
               head_dim 64, FF 8192, vocab 128256, tied embeddings, llama3 rope scaling);
  smollm2-135m SmolLM2-135M's shape (hidden 576, 30 layers, 9 / 3 heads, FF 1536, vocab 49152,
               tied embeddings, rope theta 100000).
Throughput does not depend on the weights' values, only on the shapes and dtypes.

Steps: write each model with save_pretrained(bf16) under --workdir; time transformers
(torch.cuda.synchronize around each call, best of --repeats after a warm-up): prefill = one
forward of the packed batch (B prompts of T tokens, equal lengths so no padding is needed),
decode = generate(max_new_tokens=D, greedy, KV cache, batch 1); then run the modelprint benchmark
binary (bench/gpu_engine_bench) on the same files with the same B/T/D and print one table, plus
the achieved fraction of the bf16 peak for modelprint's linear layers.

Usage (on the GPU machine, after building with -DMODELPRINT_CUDA=ON):
  python3 bench/gpu_vs_transformers.py --bench build-cuda/bench/gpu_engine_bench \
      --workdir /tmp/mp_gpu_bench [--batch 8 --prompt 512 --decode 128 --peak-tflops 989.4]
Writes the table to stdout and --json (default <workdir>/results.json).
"""
import argparse
import json
import os
import subprocess
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

MODELS = {
    "llama-1b": dict(hidden_size=2048, num_hidden_layers=16, num_attention_heads=32,
                     num_key_value_heads=8, head_dim=64, intermediate_size=8192,
                     vocab_size=128256, tie_word_embeddings=True, rope_theta=500000.0,
                     rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                   "high_freq_factor": 4.0,
                                   "original_max_position_embeddings": 8192},
                     max_position_embeddings=131072, rms_norm_eps=1e-5),
    "smollm2-135m": dict(hidden_size=576, num_hidden_layers=30, num_attention_heads=9,
                         num_key_value_heads=3, head_dim=64, intermediate_size=1536,
                         vocab_size=49152, tie_word_embeddings=True, rope_theta=100000.0,
                         max_position_embeddings=8192, rms_norm_eps=1e-5),
}


def make_model(name, workdir):
    path = os.path.join(workdir, name)
    if os.path.exists(os.path.join(path, "config.json")):
        return path
    torch.manual_seed(0)
    cfg = LlamaConfig(**MODELS[name], bos_token_id=1, eos_token_id=2)
    model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(path, safe_serialization=True)
    return path


def prompts(batch, length, vocab):
    # The same ids as gpu_engine_bench.cpp's batch().
    return [[(b * 7919 + t * 104729) % vocab for t in range(length)] for b in range(batch)]


def timed(fn, repeats):
    fn()  # warm-up (kernels, allocator, cuBLAS heuristics)
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_transformers(path, args):
    model = LlamaForCausalLM.from_pretrained(path, torch_dtype=torch.bfloat16,
                                             attn_implementation="sdpa").cuda().eval()
    vocab = model.config.vocab_size
    ids = torch.tensor(prompts(args.batch, args.prompt, vocab), device="cuda")
    with torch.inference_mode():
        t_prefill = timed(lambda: model(ids, logits_to_keep=1), args.repeats)
        one = ids[:1, :32]
        t_decode = timed(lambda: model.generate(one, max_new_tokens=args.decode, min_new_tokens=args.decode,
                                                do_sample=False), args.repeats)
    del model
    torch.cuda.empty_cache()
    return {"prefill_tok_s": args.batch * args.prompt / t_prefill,
            "decode_tok_s": args.decode / t_decode}


def bench_modelprint(path, args):
    env = dict(os.environ, MP_BENCH_MODEL=path, MP_BENCH_BATCH=str(args.batch),
               MP_BENCH_PROMPT=str(args.prompt), MP_BENCH_DECODE=str(args.decode),
               MP_BENCH_PEAK_TFLOPS=str(args.peak_tflops))
    out = subprocess.run([args.bench, "--benchmark_format=json",
                          f"--benchmark_repetitions={args.repeats}",
                          "--benchmark_report_aggregates_only=true"],
                         env=env, check=True, capture_output=True, text=True).stdout
    res = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        if b["name"].startswith("BM_Prefill/0"):
            res["prefill_tok_s"] = b["tokens/s"]
            res["tflops"] = b["TFLOP/s"]
            res["peak_fraction"] = b["TFLOP/s"] / args.peak_tflops
            res["backend"] = b.get("label", "")
        elif b["name"].startswith("BM_Prefill/1"):
            res["prefill_f32_tok_s"] = b["tokens/s"]
        elif b["name"].startswith("BM_Decode/0"):
            res["decode_tok_s"] = b["tokens/s"]
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True, help="path to the gpu_engine_bench binary")
    ap.add_argument("--workdir", default="/tmp/mp_gpu_bench")
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--prompt", type=int, default=512)
    ap.add_argument("--decode", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--peak-tflops", type=float, default=989.4,
                    help="bf16 dense peak of the GPU (H100 SXM 989.4, H200 989.4, A100 312)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    results = {"gpu": torch.cuda.get_device_name(0), "batch": args.batch, "prompt": args.prompt,
               "decode": args.decode, "models": {}}
    for name in args.models:
        path = make_model(name, args.workdir)
        hf = bench_transformers(path, args)
        mp = bench_modelprint(path, args)
        results["models"][name] = {"transformers": hf, "modelprint": mp}
    print(f"GPU: {results['gpu']}; batch {args.batch} x {args.prompt} tokens; decode {args.decode} tokens")
    print("| model | prefill tok/s (HF) | prefill tok/s (modelprint) | ratio | decode tok/s (HF) | "
          "decode tok/s (modelprint) | ratio | matmul TFLOP/s | fraction of bf16 peak |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results["models"].items():
        hf, mp = r["transformers"], r["modelprint"]
        print(f"| {name} | {hf['prefill_tok_s']:.0f} | {mp['prefill_tok_s']:.0f} | "
              f"{mp['prefill_tok_s'] / hf['prefill_tok_s']:.2f}x | {hf['decode_tok_s']:.1f} | "
              f"{mp['decode_tok_s']:.1f} | {mp['decode_tok_s'] / hf['decode_tok_s']:.2f}x | "
              f"{mp['tflops']:.1f} | {mp['peak_fraction']:.1%} |")
    with open(args.json or os.path.join(args.workdir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
