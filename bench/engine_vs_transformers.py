#!/usr/bin/env python3
"""Engine vs Hugging Face transformers on the CPU, measured in the same run: prefill tokens/s
(last-position logits, as generation uses it) and greedy decode tokens/s with the KV cache, same
model, same thread count, same prompt ids (std::mt19937 seed 0 in engine_bench, reproduced with
numpy's MT19937 here).

Usage: python3 bench/engine_vs_transformers.py BUILD_DIR MODEL [--gguf FILE] [--prompt 64]
       [--new 32] [--threads 2]
MODEL is an HF directory (or, with --gguf, the directory holding FILE). Prints one Markdown row.
transformers: float32, eager attention, torch.set_num_threads(threads), inference_mode; prefill =
model(ids, logits_to_keep=1); decode = (generate(N new, greedy) - prefill) / (N - 1).
Engine: bench/engine_bench (Google Benchmark, --reps repetitions, the best one), decode derived
the same way. Both sides report their best of --reps (the machine's timing noise is ~15 %).
"""
import argparse
import json
import os
import subprocess
import time

import torch
from transformers import AutoModelForCausalLM


def mt19937_ids(n, vocab):
    # std::mt19937 seed 0, first n outputs mod vocab (bench/engine_bench.cpp): numpy's MT19937
    # with the same init_genrand seeding gives the same stream.
    import numpy as np
    bg = np.random.MT19937(0)
    bg._legacy_seeding(0)
    rs = np.random.RandomState(bg)
    return [int(x) % vocab for x in rs.randint(0, 2**32, size=n, dtype=np.uint64)]


def best_time(fn, reps):
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("model")
    ap.add_argument("--gguf", default=None)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--new", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()

    env = dict(os.environ, MODELPRINT_THREADS=str(a.threads), MODELPRINT_BENCH_PROMPT=str(a.prompt),
               MODELPRINT_BENCH_NEW=str(a.new),
               MODELPRINT_BENCH_MODEL=os.path.join(a.model, a.gguf) if a.gguf else a.model)
    out = subprocess.run([os.path.join(a.build, "bench", "engine_bench"), "--benchmark_format=json",
                          f"--benchmark_repetitions={a.reps}"],
                         env=env, check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
    for b in runs:
        if b.get("error_occurred"):
            raise SystemExit("engine_bench: " + b.get("error_message", "error"))
    # Best repetition (each the mean of its iterations), as transformers gets its best of reps.
    ours_pre = min(b["real_time"] for b in runs if b["name"].startswith("BM_Prefill")) / 1e3
    ours_gen = min(b["real_time"] for b in runs if b["name"].startswith("BM_Generate")) / 1e3

    torch.set_num_threads(a.threads)
    kw = dict(dtype=torch.float32, attn_implementation="eager")
    if a.gguf:
        kw["gguf_file"] = a.gguf
    model = AutoModelForCausalLM.from_pretrained(a.model, **kw).eval()
    ids = torch.tensor([mt19937_ids(a.prompt, model.config.vocab_size)])
    with torch.inference_mode():
        model(ids, logits_to_keep=1)  # warm-up
        hf_pre = best_time(lambda: model(ids, logits_to_keep=1), a.reps)
        gen = lambda: model.generate(ids, max_new_tokens=a.new, min_new_tokens=a.new,
                                     do_sample=False, pad_token_id=0)
        gen()
        hf_gen = best_time(gen, max(2, a.reps // 2))
    ours_dec = (a.new - 1) / max(ours_gen - ours_pre, 1e-9)
    hf_dec = (a.new - 1) / max(hf_gen - hf_pre, 1e-9)
    name = a.gguf or os.path.basename(os.path.normpath(a.model))
    print(f"| {name} | {a.threads} | {a.prompt} | {a.new} | {a.prompt / ours_pre:,.0f} | "
          f"{a.prompt / hf_pre:,.0f} | **{hf_pre / ours_pre:.2f}x** | {ours_dec:,.1f} | "
          f"{hf_dec:,.1f} | **{ours_dec / hf_dec:.2f}x** |")


if __name__ == "__main__":
    main()
