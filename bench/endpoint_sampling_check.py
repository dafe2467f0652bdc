#!/usr/bin/env python3
"""Is a transcript's sampling pure temperature-1 sampling of stories260K? (docs/endpoints.md,
"Why the MMD rejected the exact weights")

usage: endpoint_sampling_check.py TRANSCRIPT.jsonl
TRANSCRIPT: `modelprint endpoint probe ... --logprobs 1` output (token ids per sample), or any
JSONL of {"prompt", "samples": [{"logprobs": [{"id"}...]}]}. For every sampled token x_t,
log p(x_t) under the model (transformers, float64, the prefix as sampled) has mean -H_t and
variance V_t when x_t is drawn from the model's own distribution; z = sum(log p + H) /
sqrt(sum V) is ~N(0, 1). Truncating samplers (top-k, top-p, min-p, typical) drop the tail and
push z > 0; the count of chosen tokens below llama.cpp's default min_p cut (0.05 x p_max) is
printed with its expectation under pure sampling.
"""
import json
import math
import os
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
M = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "models", "stories260K"))


def main():
    tok = AutoTokenizer.from_pretrained(M)
    model = AutoModelForCausalLM.from_pretrained(M, dtype=torch.float64).eval()
    torch.set_num_threads(1)
    num = var = 0.0
    n = low = 0
    exp_low = 0.0
    for line in open(sys.argv[1]):
        r = json.loads(line)
        pids = tok(r["prompt"])["input_ids"]
        if pids[0] != tok.bos_token_id:
            pids = [tok.bos_token_id] + pids
        for s in r["samples"]:
            ids = [t["id"] for t in s["logprobs"]]
            with torch.no_grad():
                lp = torch.log_softmax(model(torch.tensor([pids + ids])).logits[0].double(), -1)
            for t, i in enumerate(ids):
                row = lp[len(pids) - 1 + t]
                p = row.exp()
                h = -(p * row).sum().item()
                num += row[i].item() + h
                var += (p * row * row).sum().item() - h * h
                n += 1
                cut = 0.05 * p.max().item()
                exp_low += p[p < cut].sum().item()
                low += p[i].item() < cut
    print(f"tokens {n}  z = {num / math.sqrt(var):.3f}  "
          f"chosen below 0.05 x p_max: {low} (expected {exp_low:.1f} under pure sampling)")


if __name__ == "__main__":
    main()
