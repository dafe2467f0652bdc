#!/usr/bin/env python3
"""Watermark radioactivity family (issue 20): students trained on watermarked teacher samples at
several contamination rates, a cross-tokenizer student, and controls trained on unwatermarked
samples of the same teacher.

Teacher: stories260K (../shared/models/stories260K, Llama, SentencePiece BPE of 512 tokens).
Watermark: transformers' own WatermarkLogitsProcessor (Kirchenbauer et al. 2023 green lists) with
the fixture key testdata/watermark/key.json (a public TEST key: greenlist_ratio 0.25, bias 2.0,
lefthash, context_width 1). The samples are therefore watermarked by the reference
implementation, not by modelprint: the radioactivity tests double as an interoperability test.

Samples (teacher, from BOS, temperature 1, whole vocabulary, 96 new tokens, seeded):
  W   1000 watermarked samples;  C1  1000 and C2  500 unwatermarked samples (other seeds).
Students (tiny Llama: hidden 48, 2 layers, 4 heads, SwiGLU 96, the teacher's tokenizer; trained
from scratch, next-token cross-entropy, 200 steps of 16 sequences, AdamW 5e-3 cosine; sized for
a shared 2-core machine at nice 19):
  wm100      all 1000 from W                       (contamination 100%)
  wm10       100 from W + 900 from C1              (10%)
  wm1        10 from W + 990 from C1               (1%)
  control_a  1000 from C1 (seed 11)                (0%)
  control_b  500 from C2 (seed 12)                 (0%)
  wm100_bytes  its own byte-level BPE (1024 tokens, trained on C2), on W re-tokenized (100%)
  control_bytes  the same tokenizer, on C2 re-tokenized (0%)
Also writes text fixtures: wm_teacher.jsonl (12 watermarked teacher samples as a transcript, prompt
empty) and clean_teacher.jsonl (12 unwatermarked), and manifest.json.

Better-trained pair (`--long`, added for the 10% target; the models above are left as they are):
  wm10_long     100 from W + 900 from C1, 1000 steps (contamination 10%)
  control_long  1000 from C1, 1000 steps, the same recipe        (0%)
  With the same sampling seeds these differ from wm10/control_a only in training length (when
  torch reproduces the samples; not checked bit for bit).

Run: nice -n 19 python3 testdata/gen/make_watermark.py [--long]   (about 4 minutes on one idle
     core; --long trains 2 x 1000 steps: wm10_long took about 40 minutes on the loaded shared
     machine at nice 10, control_long was not finished this session; MP_WATERMARK_SAMPLES=/tmp/s.pt
     caches the teacher samples between runs)
"""
import json
import math
import os
import random
import shutil
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, LogitsProcessorList
from transformers.generation.logits_process import WatermarkLogitsProcessor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
STORIES = os.path.join(SHARED, "models", "stories260K")
OUT = os.path.join(ROOT, "testdata", "watermark")
KEY = {"greenlist_ratio": 0.25, "bias": 2.0, "hashing_key": 7342195813572913,
       "seeding_scheme": "lefthash", "context_width": 1}
LENGTH = 96
N = 1000
torch.set_num_threads(1)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def stories_tok():
    return Tokenizer.from_file(os.path.join(STORIES, "tokenizer.json"))


@torch.no_grad()
def sample(model, n, seed, watermark, bs=200):
    """n token-id lists sampled from BOS (id 1), EOS (2) cut off."""
    torch.manual_seed(seed)
    procs = LogitsProcessorList()
    if watermark:
        procs.append(WatermarkLogitsProcessor(vocab_size=512, device="cpu", **KEY))
    rows = []
    for i in range(0, n, bs):
        ids = torch.full((min(bs, n - i), 1), 1, dtype=torch.long)
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True,
                             temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=LENGTH,
                             eos_token_id=2, pad_token_id=2, logits_processor=procs)
        for row in out.tolist():
            row = row[1:]
            if 2 in row:
                row = row[:row.index(2)]
            rows.append(row)
        log(f"  sampled {len(rows)}/{n} (watermark={watermark})")
    return rows


def make_student(vocab, seed, bos, eos):
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=48, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=4, intermediate_size=96,
                      max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=10000.0,
                      tie_word_embeddings=True, bos_token_id=bos, eos_token_id=eos,
                      attn_implementation="eager")
    return LlamaForCausalLM(cfg)


def train(model, seqs, seed, steps=200, bs=16, lr=5e-3, name=""):
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    for step in range(steps):
        b = [seqs[rng.randrange(len(seqs))] for _ in range(bs)]
        n = max(len(s) for s in b)
        ids = torch.zeros((bs, n), dtype=torch.long)
        mask = torch.zeros((bs, n), dtype=torch.long)
        for i, s in enumerate(b):
            ids[i, :len(s)] = torch.tensor(s)
            mask[i, :len(s)] = 1
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
        m = mask[:, 1:].float().reshape(-1)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                               reduction="none")
        loss = (loss * m).sum() / m.sum()
        for g in opt.param_groups:
            g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"  {name} step {step} loss {loss.item():.3f}")
    model.eval()
    return model


def save(model, name, tok_files=None, tok=None):
    d = os.path.join(OUT, "models", name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    cfg = model.config.to_dict()
    cfg["architectures"] = ["LlamaForCausalLM"]
    cfg["torch_dtype"] = "bfloat16"
    for k in ("transformers_version", "attn_implementation", "_attn_implementation_autoset",
              "dtype"):
        cfg.pop(k, None)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    sd = {k: v.detach().to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()
          if k != "lm_head.weight"}
    save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    if tok is None:
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(STORIES, f), os.path.join(d, f))
    else:
        tok.save(os.path.join(d, "tokenizer.json"))
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump({"bos_token": "<|bos|>", "eos_token": "<|eos|>", "add_bos_token": True,
                       "tokenizer_class": "PreTrainedTokenizerFast"}, f, indent=2)
    return os.path.relpath(d, ROOT)


def byte_tokenizer(texts, vocab_size=1024):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|bos|>", "<|eos|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "key.json"), "w") as f:
        json.dump(KEY, f, indent=2, sort_keys=True)
        f.write("\n")
    teacher = LlamaForCausalLM.from_pretrained(STORIES, attn_implementation="eager").eval()
    st = stories_tok()
    cache = os.environ.get("MP_WATERMARK_SAMPLES")  # optional cache of the samples (a .pt file)
    if cache and os.path.exists(cache):
        W, C1, C2 = torch.load(cache)
    else:
        W = sample(teacher, N, 101, True)
        C1 = sample(teacher, N, 202, False)
        C2 = sample(teacher, N // 2, 303, False)
        if cache:
            torch.save((W, C1, C2), cache)
    dec = lambda row: st.decode(row, skip_special_tokens=True)
    bos = lambda rows: [[1] + r for r in rows]
    if "--long" in sys.argv:
        with open(os.path.join(OUT, "manifest.json")) as f:
            manifest = json.load(f)
        for name, seqs, c, seed in (("wm10_long", bos(W[:100] + C1[:900]), 0.1, 22),
                                    ("control_long", bos(C1), 0.0, 11)):
            m = train(make_student(512, seed, 1, 2), seqs, seed, steps=1000, name=name)
            manifest["models"][name] = {"path": save(m, name), "contamination": c,
                                        "tokenizer": "stories260K", "steps": 1000}
        with open(os.path.join(OUT, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2, sort_keys=True)
            f.write("\n")
        log("done (--long)")
        return
    for name, rows in (("wm_teacher.jsonl", W[:12]), ("clean_teacher.jsonl", C1[:12])):
        with open(os.path.join(OUT, name), "w") as f:
            # one prompt (BOS only) with its 12 answers on one line (transcript format)
            f.write(json.dumps({"id": "s", "prompt": "", "responses": [dec(r) for r in rows]},
                               sort_keys=True) + "\n")
    manifest = {"key": "testdata/watermark/key.json", "teacher": "../shared/models/stories260K",
                "models": {}}
    plan = [("wm100", bos(W), 1.0, 21), ("wm10", bos(W[:100] + C1[:900]), 0.1, 22),
            ("wm1", bos(W[:10] + C1[:990]), 0.01, 23), ("control_a", bos(C1), 0.0, 11),
            ("control_b", bos(C2), 0.0, 12)]
    for name, seqs, c, seed in plan:
        m = train(make_student(512, seed, 1, 2), seqs, seed, name=name)
        manifest["models"][name] = {"path": save(m, name), "contamination": c,
                                    "tokenizer": "stories260K"}
    bt = byte_tokenizer([dec(r) for r in C2])
    B, E = bt.token_to_id("<|bos|>"), bt.token_to_id("<|eos|>")
    retok = lambda rows: [[B] + bt.encode(dec(r)).ids[:LENGTH + 24] for r in rows]
    for name, seqs, c, seed in (("wm100_bytes", retok(W), 1.0, 31),
                                ("control_bytes", retok(C2), 0.0, 32)):
        m = train(make_student(bt.get_vocab_size(), seed, B, E), seqs, seed, name=name)
        manifest["models"][name] = {"path": save(m, name, tok=bt), "contamination": c,
                                    "tokenizer": "byte-level BPE 1024"}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    log("done")


if __name__ == "__main__":
    main()
