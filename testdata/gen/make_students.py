#!/usr/bin/env python3
"""Distillation family for behavioural forensics (issue 6): students of the lineage base model,
controls trained the same way on text the base did not write, and a transcript of the base's
answers to the default probe set (standing for a black-box API).

Teacher: testdata/lineage/base (issue 5's trained Llama, stories260K tokenizer, trained on the
synthetic "stories" corpus of testdata/gen/make_lineage.py, whose generators are imported here).
Independent models: the lineage's indep_seed, indep_data, indep_width, indep_arch and partner,
referenced by path (relations among them and with base are independent per its manifest).

Writes testdata/behavior/{models/<name>/, base_transcript.jsonl, manifest.json}. Every model is a
tiny Llama Hugging Face directory (config.json, model.safetensors in bf16, tokenizer files).

  student_seq    [distilled from base] C=48, 3 layers, on text sampled from base (temperature
                 0.8; sequence-level KD, Kim & Rush 2016)
  student_seq2   [distilled from base] C=32, 2 layers, other seed, half the samples
  student_kl     [distilled from base] C=48, 3 layers, KL(base || student) on fresh stories text
                 (logit KD, Hinton et al. 2015, temperature 1)
  student_bytes  [distilled from base] its own byte-level BPE tokenizer (vocabulary 320) and
                 C=56, on base's samples re-tokenized
  control_seq    like student_seq, on fresh stories text (same domain, not written by base)
  control_seq2   like student_seq2, on text sampled from indep_seed  [distilled from indep_seed]
  control_kl     like student_kl, with indep_seed as the teacher      [distilled from indep_seed]
  control_bytes  like student_bytes, on fresh stories text
Pairs: student/base and control_seq2|control_kl/indep_seed are "distilled"; students of one
teacher are "sibling"; every other pair is "independent".

Run: python3 testdata/gen/make_students.py  (needs testdata/lineage; a few minutes on 2 cores).
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
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers
from transformers import LlamaConfig, LlamaForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
STORIES = os.path.join(SHARED, "models", "stories260K")
OUT = os.path.join(ROOT, "testdata", "behavior")
LINEAGE = os.path.join(ROOT, "testdata", "lineage")
PROBES = os.path.join(ROOT, "fingerprint", "probes", "default_v1.jsonl")

SEQ = 64          # training sequence length (tokens), as in make_lineage.py
torch.set_num_threads(2)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def seed_all(s):
    random.seed(s)
    torch.manual_seed(s)


# ---------------------------------------------------------------------------------------------
# tokenizers

def stories_tokenizer():
    return Tokenizer.from_file(os.path.join(STORIES, "tokenizer.json"))


def byte_tokenizer(texts, vocab_size=320):
    """Byte-level BPE (GPT-2 style) trained on `texts`: a different tokenizer."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|bos|>", "<|eos|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


class Tok:
    """Encode/decode with a BOS id, the way modelprint's probe runner formats raw prompts."""

    def __init__(self, tk, bos, eos, kind):
        self.tk, self.bos, self.eos, self.kind = tk, bos, eos, kind

    def encode(self, text):
        ids = self.tk.encode(text, add_special_tokens=False).ids
        return [self.bos] + ids

    def decode(self, ids):
        return self.tk.decode([i for i in ids if i not in (self.bos, self.eos)],
                              skip_special_tokens=True)

    @property
    def vocab(self):
        return self.tk.get_vocab_size()


def stories_tok():
    return Tok(stories_tokenizer(), 1, 2, "stories")


# ---------------------------------------------------------------------------------------------
# models

def make_model(vocab, hidden, layers, heads, inter, seed, bos, eos):
    seed_all(seed)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                      num_attention_heads=heads, num_key_value_heads=heads,
                      intermediate_size=inter, max_position_embeddings=256,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
                      bos_token_id=bos, eos_token_id=eos, attn_implementation="eager")
    return LlamaForCausalLM(cfg)


def batches(seqs, bs, steps, seed):
    rng = random.Random(seed)
    for _ in range(steps):
        yield [seqs[rng.randrange(len(seqs))] for _ in range(bs)]


def pad(batch, pad_id):
    n = max(len(s) for s in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), n), dtype=torch.long)
    for i, s in enumerate(batch):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, mask


def train(model, seqs, steps, seed, lr=3e-3, bs=16, teacher=None, name=""):
    """Next-token cross-entropy, or KL(teacher || model) when a teacher is given."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    for step, b in enumerate(batches(seqs, bs, steps, seed)):
        ids, mask = pad(b, 0)
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
        m = mask[:, 1:].float()
        if teacher is None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                                   reduction="none")
        else:
            with torch.no_grad():
                t = teacher(input_ids=ids, attention_mask=mask).logits[:, :-1]
            loss = F.kl_div(F.log_softmax(logits, -1), F.log_softmax(t, -1), log_target=True,
                            reduction="none").sum(-1).reshape(-1)
        loss = (loss * m.reshape(-1)).sum() / m.sum()
        for g in opt.param_groups:  # cosine decay
            g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"  {name} step {step} loss {loss.item():.3f}")
    model.eval()
    return model


@torch.no_grad()
def sample(model, tok, n, length, seed, temperature=1.0, bs=50):
    """n texts sampled from BOS (temperature sampling, whole vocabulary, seeded)."""
    torch.manual_seed(seed)
    texts = []
    for i in range(0, n, bs):
        ids = torch.full((min(bs, n - i), 1), tok.bos, dtype=torch.long)
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True,
                             temperature=temperature, top_k=0, top_p=1.0, max_new_tokens=length,
                             eos_token_id=tok.eos, pad_token_id=tok.eos)
        for row in out.tolist():
            row = row[1:]
            if tok.eos in row:
                row = row[:row.index(tok.eos)]
            texts.append(tok.decode(row))
    return texts


def encode_all(tok, texts):
    out = []
    for t in texts:
        ids = tok.encode(t)[:SEQ]
        if len(ids) > 8:
            out.append(ids)
    return out


def save(model, tok, name, meta):
    d = os.path.join(OUT, "models", name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    model.config.torch_dtype = "bfloat16"
    cfg = model.config.to_dict()
    cfg["architectures"] = ["LlamaForCausalLM"]
    cfg["torch_dtype"] = "bfloat16"
    for k in ("transformers_version", "attn_implementation", "_attn_implementation_autoset"):
        cfg.pop(k, None)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    sd = {k: v.detach().to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()
          if k != "lm_head.weight"}
    save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    if tok.kind == "stories":
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(STORIES, f), os.path.join(d, f))
    else:
        tok.tk.save(os.path.join(d, "tokenizer.json"))
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump({"bos_token": "<|bos|>", "eos_token": "<|eos|>", "add_bos_token": True,
                       "tokenizer_class": "PreTrainedTokenizerFast"}, f, indent=2)
    meta["path"] = os.path.relpath(d, ROOT)
    return meta


def bf16_roundtrip(model):
    """The saved weights are bf16: use the same values for everything generated from a model."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).float())
    return model


@torch.no_grad()
def transcript(model, tok, path):
    """Greedy answers to the default probe set, formatted as modelprint's raw prompts."""
    lines = []
    with open(PROBES) as f:
        probes = [json.loads(l) for l in f if l.strip()]
    for p in probes:
        if "prompt" not in p:
            continue
        ids = tok.encode(p["prompt"])
        out = model.generate(torch.tensor([ids]), max_new_tokens=p.get("max_new_tokens", 32),
                             do_sample=False, eos_token_id=tok.eos, pad_token_id=0)
        gen = out[0, len(ids):].tolist()
        if gen and gen[-1] == tok.eos:
            gen = gen[:-1]
        full = tok.decode(ids + gen)
        pre = tok.decode(ids)
        resp = full[len(pre):] if full.startswith(pre) else tok.decode(gen)
        lines.append({"id": p["id"], "prompt": p["prompt"], "response": resp})
    with open(path, "w") as f:
        for l in lines:
            f.write(json.dumps(l, ensure_ascii=False, sort_keys=True) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    sys.path.insert(0, os.path.join(ROOT, "testdata", "gen"))
    import make_lineage as lin  # the corpus generators of the teacher's training data
    st = stories_tok()
    base = bf16_roundtrip(LlamaForCausalLM.from_pretrained(os.path.join(LINEAGE, "base")).eval())
    indep = LlamaForCausalLM.from_pretrained(os.path.join(LINEAGE, "indep_seed")).eval()
    rng = random.Random(300)  # fresh stories: same domain, never seen or written by base
    fresh = [lin.story(rng) for _ in range(1200)]
    S = lambda texts: encode_all(st, texts)
    manifest = {"description": "Distillation family (issue 6); see testdata/gen/make_students.py",
                "models": {}, "transcripts": {}, "pairs": []}
    M = manifest["models"]
    M["base"] = {"role": "teacher", "path": "testdata/lineage/base"}
    for n in ("indep_seed", "indep_data", "indep_width", "indep_arch", "partner"):
        M[n] = {"role": "independent", "path": f"testdata/lineage/{n}"}

    def fit(name, meta, tok, hidden, layers, heads, inter, seqs, steps, seed, teacher=None):
        log(f"training {name}")
        m = make_model(tok.vocab, hidden, layers, heads, inter, seed, tok.bos, tok.eos)
        train(m, seqs, steps, seed, teacher=teacher, name=name)
        bf16_roundtrip(m)
        M[name] = save(m, tok, name, meta)
        return m

    log("sampling base and indep_seed")
    t_text = sample(base, st, 400, SEQ, seed=21, temperature=0.8)
    a_text = sample(indep, st, 200, SEQ, seed=22, temperature=0.8)

    fit("student_seq", {"role": "student", "teacher": "base", "method": "sequence-level KD"},
        st, 48, 3, 4, 128, S(t_text), 300, 31)
    fit("student_seq2", {"role": "student", "teacher": "base", "method": "sequence-level KD"},
        st, 32, 2, 4, 96, S(t_text[:200]), 250, 32)
    fit("student_kl", {"role": "student", "teacher": "base", "method": "logit KD (KL)"},
        st, 48, 3, 4, 128, S(fresh[:400]), 250, 33, teacher=base)
    fit("control_seq", {"role": "control", "of": "student_seq"}, st, 48, 3, 4, 128,
        S(fresh[400:800]), 300, 41)
    fit("control_seq2", {"role": "control", "of": "student_seq2", "teacher": "indep_seed",
                         "method": "sequence-level KD"}, st, 32, 2, 4, 96, S(a_text), 250, 42)
    fit("control_kl", {"role": "control", "of": "student_kl", "teacher": "indep_seed",
                       "method": "logit KD (KL)"}, st, 48, 3, 4, 128, S(fresh[:400]), 250, 43,
        teacher=indep)

    log("byte-level tokenizer")
    bt = byte_tokenizer(fresh[800:])
    btok = Tok(bt, bt.token_to_id("<|bos|>"), bt.token_to_id("<|eos|>"), "bytes")
    B = lambda texts: encode_all(btok, texts)
    fit("student_bytes", {"role": "student", "teacher": "base",
                          "method": "sequence-level KD, other tokenizer and width"},
        btok, 56, 3, 4, 150, B(t_text), 300, 51)
    fit("control_bytes", {"role": "control", "of": "student_bytes"}, btok, 56, 3, 4, 150,
        B(fresh[400:800]), 300, 52)

    log("base transcript")
    transcript(base, st, os.path.join(OUT, "base_transcript.jsonl"))
    manifest["transcripts"]["base_api"] = {
        "path": "testdata/behavior/base_transcript.jsonl", "of": "base",
        "probe_set": "default_v1", "note": "greedy answers of base (transformers), standing for "
        "a black-box API"}

    def teacher_of(n):
        return M[n].get("teacher")
    names = sorted(M)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if teacher_of(a) == b or teacher_of(b) == a:
                rel = "distilled"
            elif teacher_of(a) is not None and teacher_of(a) == teacher_of(b):
                rel = "sibling"
            else:
                rel = "independent"
            manifest["pairs"].append({"a": a, "b": b, "relation": rel})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    log("done")


if __name__ == "__main__":
    main()
