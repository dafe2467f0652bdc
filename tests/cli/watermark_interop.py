#!/usr/bin/env python3
"""Interop helper for tests/cli/watermark.sh (test-time only; needs torch + transformers).

  watermark_interop.py detect KEY.json MODEL_DIR IDS [--dedup]
      transformers' WatermarkDetector on the comma-separated ids: prints
      {"z": .., "scored": .., "green": ..} (JSON).
  watermark_interop.py generate KEY.json MODEL_DIR N SEED
      sampled generation from BOS with transformers' WatermarkLogitsProcessor: prints the ids
      (BOS first), comma-separated.
The key file's fields are WatermarkingConfig's (vocab_size, when present, binds the vocabulary
and is not passed on).
"""
import json
import sys

import torch
from transformers import AutoConfig, LlamaForCausalLM, LogitsProcessorList, WatermarkDetector
from transformers.generation.logits_process import WatermarkLogitsProcessor

FIELDS = ("greenlist_ratio", "bias", "hashing_key", "seeding_scheme", "context_width")


def main():
    mode, key_path, model_dir = sys.argv[1:4]
    with open(key_path) as f:
        key = {k: v for k, v in json.load(f).items() if k in FIELDS}
    cfg = AutoConfig.from_pretrained(model_dir)
    if mode == "detect":
        ids = torch.tensor([[int(x) for x in sys.argv[4].split(",")]])
        det = WatermarkDetector(model_config=cfg, device="cpu", watermarking_config=key,
                                ignore_repeated_ngrams="--dedup" in sys.argv)
        out = det(ids, return_dict=True)
        print(json.dumps({"z": float(out.z_score[0]), "scored": int(out.num_tokens_scored[0]),
                          "green": int(out.num_green_tokens[0])}))
    elif mode == "generate":
        n, seed = int(sys.argv[4]), int(sys.argv[5])
        model = LlamaForCausalLM.from_pretrained(model_dir).eval()
        torch.manual_seed(seed)
        proc = LogitsProcessorList([WatermarkLogitsProcessor(vocab_size=cfg.vocab_size,
                                                             device="cpu", **key)])
        ids = torch.tensor([[cfg.bos_token_id]])
        with torch.no_grad():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True,
                                 top_k=0, top_p=1.0, max_new_tokens=n, min_new_tokens=n,
                                 logits_processor=proc, pad_token_id=cfg.eos_token_id)
        print(",".join(str(x) for x in out[0].tolist()))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
