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

Distillation as it happens against an API: the distiller asks its own prompts (700 questions of
the probe set's kinds, English and Chinese, never a probe: distill_prompts) and trains on the
teacher's answers (greedy and sampled at T=0.8), plus 300 unconditional teacher samples.
  student_seq    [distilled from base] C=48, 3 layers: sequence-level KD (Kim & Rush 2016),
                 loss on the answer tokens
  student_seq2   [distilled from base] C=32, 2 layers, every other sequence, other seed
  student_kl     [distilled from base] C=48, 3 layers: KL(base || student) at every position
                 (logit KD, Hinton et al. 2015, T=1) on the prompts followed by fresh stories
  student_bytes  [distilled from base] its own byte-level BPE (vocabulary 320), C=56, on the
                 base's answers re-tokenized
  alt_seq/alt_kl [distilled from indep_seed] like student_seq/student_kl, own prompts (seed 401)
  control_seq, control_seq2, control_bytes: like the students, the same prompts answered with
                 pieces of fresh stories (same domain, text no model wrote; disjoint per control)
  facts_1..3     make_lineage's recipe on fresh facts corpora: background of the facts domain
Background from the lineage: indep_seed, indep_data, indep_width, indep_arch, partner, and
finetune/lora (fine-tunes of base on facts: "derived" from base, independent of the rest).
Pairs: student/teacher "distilled"; students of one teacher "sibling"; base/its fine-tunes
"derived"; a student of base vs a fine-tune of base "related"; every other pair "independent".

Run: python3 testdata/gen/make_students.py  (needs testdata/lineage; about 7 minutes on 2 cores).
     python3 testdata/gen/make_students.py --extra-controls  adds control_seq3 and control_seq4
     (the same 700 prompts answered with further disjoint fresh stories; the same-prompt-controls
     experiment of docs/behavior.md) to the existing family and rewrites manifest.json; nothing
     else is retrained (about 2 minutes).
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

SEQ = 112         # training sequence length (tokens): prompt (Chinese is byte-level) + answer
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
    """seqs: (ids, first) pairs. Next-token cross-entropy on the tokens from `first` on (the
    answer), or KL(teacher || model) at every position when a teacher is given."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    for step, b in enumerate(batches(seqs, bs, steps, seed)):
        ids, mask = pad([s for s, _ in b], 0)
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
        m = mask[:, 1:].float()
        if teacher is None:
            for i, (_, first) in enumerate(b):  # target j = t + 1 is scored when j >= first
                m[i, :max(first - 1, 0)] = 0
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
    tied = model.config.tie_word_embeddings
    sd = {k: v.detach().to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()
          if not (tied and k == "lm_head.weight")}
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


# ---------------------------------------------------------------------------------------------
# the distiller's prompts: questions of the probe categories, none of them a probe (checked)

Q_NAMES = ["Nora", "Leo", "Ivy", "Oscar", "Ruby", "Finn", "Ella", "Hugo"]
Q_THINGS = ["a rainbow", "the moon", "a volcano", "money", "music", "a computer", "the ocean",
            "a library", "friendship", "electricity", "a bicycle", "winter", "a robot", "bread"]
Q_COUNTRIES = ["Italy", "Japan", "Brazil", "Egypt", "Canada", "Kenya", "Spain", "India", "Peru"]
Q_CODE = ["sort a list", "read a file", "count words", "find the maximum", "merge two lists",
          "parse a date", "compute a factorial", "remove duplicates", "reverse a string"]
Q_BAD = ["break into a house", "make poison", "cheat on an exam", "hack my neighbour's wifi",
         "forge a signature", "hurt someone", "start a fire in a forest", "steal a wallet"]
Q_ZH_TOPIC = ["太阳", "月亮", "音乐", "电脑", "大海", "朋友", "数学", "春天", "机器人", "面包", "北京"]
Q_SYMBOLS = ["∑", "λ", "→", "★", "🙂", "🚀", "é", "ñ", "ø", "ü", "π", "∞", "§", "¿", "Ж", "क", "😀"]


def distill_prompts(n, seed):
    """n prompts like the probe set's categories (identity, factual, open, code, arithmetic,
    reasoning, refusal, rare; English and Chinese), never equal to a probe."""
    r = random.Random(seed)
    N, T, C = (lambda: r.choice(Q_NAMES)), (lambda: r.choice(Q_THINGS)), (lambda: r.choice(Q_COUNTRIES))
    a, b = (lambda: r.randint(1, 99)), (lambda: r.randint(1, 9))
    zh = lambda: r.choice(Q_ZH_TOPIC)
    forms = [
        lambda: r.choice(["Who are you?", "What are you?", "Tell me about yourself.",
                          "Who built you?", "Are you a robot?", "What is your purpose?",
                          "Do you have a name?", "Which lab made you?", "What can you do?",
                          "Are you a person or a program?", "Where do you come from?"]),
        lambda: r.choice(["你是谁？", "你是什么？", "谁创造了你？", "你能做什么？", "你有名字吗？",
                          "你来自哪里？", "你是机器人吗？"]),
        lambda: f"The capital of {C()} is",
        lambda: f"What is {T()}?",
        lambda: f"Tell me a fact about {T()}.",
        lambda: f"Explain {T()} to a child.",
        lambda: f"{N()} and {N()} walked to the {r.choice(['shop', 'lake', 'city', 'zoo'])}. They",
        lambda: f"Write a poem about {T()}.",
        lambda: f"Once there was {T()} that",
        lambda: f"def {r.choice(['solve', 'helper', 'run', 'check'])}_{r.randint(1, 9)}(x):\n",
        lambda: f"# Python: {r.choice(Q_CODE)}\n",
        lambda: f"Write a program to {r.choice(Q_CODE)}.",
        lambda: f"for (int i = 0; i < {a()}; i++) {{\n",
        lambda: f"{a()} + {a()} =",
        lambda: f"{a()} - {b()} =",
        lambda: f"What is {a()} times {b()}?",
        lambda: f"{N()} has {b()} pencils and loses {b()}. Now {N()} has",
        lambda: f"{r.choice('一二三四五六七八九')}乘{r.choice('一二三四五六七八九')}等于几？",
        lambda: f"If every {r.choice(['bird', 'fish', 'tree'])} is alive and {N()} is a "
                f"{r.choice(['bird', 'fish', 'tree'])}, then",
        lambda: f"{N()} is older than {N()}. Who is younger?",
        lambda: f"Why is {T()} important? Think step by step.",
        lambda: f"How do I {r.choice(Q_BAD)}?",
        lambda: f"Tell me how to {r.choice(Q_BAD)}.",
        lambda: f"请告诉我关于{zh()}的事情。",
        lambda: f"{zh()}是什么？",
        lambda: f"你喜欢{zh()}吗？为什么？",
        lambda: " ".join("".join(r.choice(Q_SYMBOLS) for _ in range(r.randint(1, 3)))
                         for _ in range(r.randint(2, 5))),
        lambda: " ".join(f"0x{r.getrandbits(16):04x}" for _ in range(r.randint(2, 4))),
    ]
    with open(PROBES) as f:
        probe_texts = {json.loads(l).get("prompt") for l in f if l.strip()}
    out = []
    while len(out) < n:
        p = r.choice(forms)()
        if p not in probe_texts:
            out.append(p)
    return out


@torch.no_grad()
def respond(model, tok, prompts, max_new, seed, temperature=None, bs=64):
    """The model's answers to prompts (greedy, or sampled at `temperature`), as text following
    the prompt — what a distiller collects from an API."""
    torch.manual_seed(seed)
    out = []
    for i in range(0, len(prompts), bs):
        chunk = [tok.encode(p) for p in prompts[i:i + bs]]
        n = max(len(c) for c in chunk)
        ids = torch.full((len(chunk), n), tok.eos, dtype=torch.long)
        mask = torch.zeros((len(chunk), n), dtype=torch.long)
        for k, c in enumerate(chunk):  # left padding
            ids[k, n - len(c):] = torch.tensor(c)
            mask[k, n - len(c):] = 1
        kw = dict(do_sample=True, temperature=temperature, top_k=0, top_p=1.0) \
            if temperature else dict(do_sample=False)
        gen = model.generate(ids, attention_mask=mask, max_new_tokens=max_new,
                             eos_token_id=tok.eos, pad_token_id=tok.eos, **kw)
        for k, c in enumerate(chunk):
            g = gen[k, n:].tolist()
            if tok.eos in g:
                g = g[:g.index(tok.eos)]
            full, pre = tok.decode(c + g), tok.decode(c)
            out.append(full[len(pre):] if full.startswith(pre) else tok.decode(g))
    return out


def story_snippets(stories, n, seed, words=(6, 24)):
    """Pieces of fresh stories (text the teacher did not write), as answers of a control."""
    r = random.Random(seed)
    out = []
    for _ in range(n):
        w = r.choice(stories).split(" ")
        k = r.randint(*words)
        s = r.randrange(max(1, len(w) - k))
        out.append(" " + " ".join(w[s:s + k]))
    return out


def pairs_to_seqs(tok, prompts, responses, max_len=SEQ):
    """BOS + prompt + response ids with the index of the first response token."""
    seqs = []
    for p, resp in zip(prompts, responses):
        pids = tok.encode(p)
        full = tok.encode(p + resp)
        lcp = 0
        while lcp < min(len(pids), len(full)) and pids[lcp] == full[lcp]:
            lcp += 1
        full = full[:max_len]
        if lcp < len(full) - 1:
            seqs.append((full, max(lcp, 1)))
    return seqs


def main():
    os.makedirs(OUT, exist_ok=True)
    sys.path.insert(0, os.path.join(ROOT, "testdata", "gen"))
    import make_lineage as lin  # the corpus generators of the teacher's training data
    st = stories_tok()
    base = bf16_roundtrip(LlamaForCausalLM.from_pretrained(os.path.join(LINEAGE, "base")).eval())
    indep = LlamaForCausalLM.from_pretrained(os.path.join(LINEAGE, "indep_seed")).eval()
    rng = random.Random(300)  # fresh stories: same domain, never seen or written by base
    fresh = [lin.story(rng) for _ in range(1200)]
    manifest = {"description": "Distillation family (issue 6); see testdata/gen/make_students.py",
                "models": {}, "transcripts": {}, "pairs": []}
    M = manifest["models"]
    M["base"] = {"role": "teacher", "path": "testdata/lineage/base"}
    for n in ("indep_seed", "indep_data", "indep_width", "indep_arch", "partner"):
        M[n] = {"role": "independent", "path": f"testdata/lineage/{n}"}
    for n in ("finetune", "lora"):  # facts-domain background for indep_data/partner
        M[n] = {"role": "derived", "derived_from": "base", "path": f"testdata/lineage/{n}"}

    def fit(name, meta, tok, hidden, layers, heads, inter, seqs, steps, seed, teacher=None):
        log(f"training {name} on {len(seqs)} sequences")
        m = make_model(tok.vocab, hidden, layers, heads, inter, seed, tok.bos, tok.eos)
        train(m, seqs, steps, seed, teacher=teacher, name=name)
        bf16_roundtrip(m)
        M[name] = save(m, tok, name, meta)
        return m

    # The distiller queries the teacher (an API) with its own prompts, greedy and sampled.
    # Each distiller has its own prompts (seeded draws from the same kinds of question).
    prompts = distill_prompts(700, seed=400)
    a_prompts = distill_prompts(700, seed=401)
    log("querying base and indep_seed")
    t_resp = respond(base, st, prompts, 40, 61) + respond(base, st, prompts, 40, 62, 0.8)
    a_resp = respond(indep, st, a_prompts, 40, 63) + respond(indep, st, a_prompts, 40, 64, 0.8)
    P2, A2 = prompts + prompts, a_prompts + a_prompts
    t_free = sample(base, st, 300, 48, seed=21, temperature=0.8)   # unconditional samples
    a_free = sample(indep, st, 300, 48, seed=22, temperature=0.8)
    S_T = pairs_to_seqs(st, P2, t_resp) + pairs_to_seqs(st, [""] * 300, t_free)
    S_A = pairs_to_seqs(st, A2, a_resp) + pairs_to_seqs(st, [""] * 300, a_free)
    # Controls: the same prompts answered with fresh stories; the two controls of one tokenizer
    # see disjoint stories (independent models, not two draws of one training set).
    S_C = pairs_to_seqs(st, P2, story_snippets(fresh[:400], 2 * len(prompts), 65)) + \
        pairs_to_seqs(st, [""] * 150, fresh[800:950])
    S_C2 = pairs_to_seqs(st, prompts, story_snippets(fresh[400:800], len(prompts), 67)) + \
        pairs_to_seqs(st, [""] * 150, fresh[950:1100])
    # Logit KD transfer set: the prompts followed by fresh stories (text no teacher wrote).
    S_KL = pairs_to_seqs(st, prompts, story_snippets(fresh[:800], len(prompts), 66)) + \
        pairs_to_seqs(st, [""] * 300, fresh[800:1100])

    seq = {"role": "student", "teacher": "base", "method": "sequence-level KD"}
    fit("student_seq", dict(seq), st, 48, 3, 4, 128, S_T, 500, 31)
    fit("student_seq2", dict(seq), st, 32, 2, 4, 96, S_T[::2], 400, 32)
    fit("student_kl", {"role": "student", "teacher": "base", "method": "logit KD (KL)"},
        st, 48, 3, 4, 128, S_KL, 500, 33, teacher=base)
    fit("alt_seq", {"role": "student", "teacher": "indep_seed", "method": "sequence-level KD"},
        st, 48, 3, 4, 128, S_A, 500, 34)
    fit("alt_kl", {"role": "student", "teacher": "indep_seed", "method": "logit KD (KL)"},
        st, 48, 3, 4, 128, S_KL, 500, 35, teacher=indep)
    ctl = {"role": "control", "method": "same prompts, answers from fresh stories"}
    fit("control_seq", dict(ctl, of="student_seq"), st, 48, 3, 4, 128, S_C, 500, 41)
    fit("control_seq2", dict(ctl, of="student_seq2"), st, 32, 2, 4, 96, S_C2, 400, 42)
    facts_background(lin, st, M)

    log("byte-level tokenizer")
    bt = byte_tokenizer(fresh[800:])
    btok = Tok(bt, bt.token_to_id("<|bos|>"), bt.token_to_id("<|eos|>"), "bytes")
    B_T = pairs_to_seqs(btok, P2, t_resp) + pairs_to_seqs(btok, [""] * 300, t_free)
    B_C = pairs_to_seqs(btok, P2, story_snippets(fresh[:800], 2 * len(prompts), 68)) + \
        pairs_to_seqs(btok, [""] * 300, fresh[800:1100])
    fit("student_bytes", {"role": "student", "teacher": "base",
                          "method": "sequence-level KD, other tokenizer and width"},
        btok, 56, 3, 4, 150, B_T, 500, 51)
    fit("control_bytes", dict(ctl, of="student_bytes"), btok, 56, 3, 4, 150, B_C, 500, 52)

    log("base transcript")
    transcript(base, st, os.path.join(OUT, "base_transcript.jsonl"))
    manifest["transcripts"]["base_api"] = {
        "path": "testdata/behavior/base_transcript.jsonl", "of": "base",
        "probe_set": "default_v1", "note": "greedy answers of base (transformers), standing for "
        "a black-box API"}

    write_manifest(manifest)
    log("done")


def facts_background(lin, st, M):
    """Facts-domain background: three models trained exactly like the lineage's indep_data and
    partner (make_lineage's Llama, 300 steps, lr 3e-3) on fresh draws of the facts corpus, so
    that pairs in that domain are judged against models of their own domain."""
    tk = stories_tokenizer()
    for k in range(3):
        log(f"training facts_{k + 1}")
        data = lin.corpus_ids("facts", 510 + k, 6000, tk)
        m = lin.new_llama(81 + k)
        loss = lin.train(m, data, 300, 3e-3, 81 + k)
        bf16_roundtrip(m)
        M[f"facts_{k + 1}"] = save(m, st, f"facts_{k + 1}", {
            "role": "independent", "method": f"make_lineage Llama on fresh facts (corpus seed "
            f"{510 + k}, seed {81 + k}), 300 steps, loss {loss:.3f}"})


def write_manifest(manifest):
    M = manifest["models"]

    def teacher_of(n):
        return M[n].get("teacher")

    def root(n):  # the lineage model a model is a copy or fine-tune of
        return M[n].get("derived_from", n)
    names = sorted(M)
    manifest["pairs"] = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if teacher_of(a) == b or teacher_of(b) == a:
                rel = "distilled"
            elif teacher_of(a) is not None and teacher_of(a) == teacher_of(b):
                rel = "sibling"
            elif root(a) == root(b):
                rel = "derived"
            elif teacher_of(a) == root(b) or teacher_of(b) == root(a):
                rel = "related"  # a student of the teacher vs a fine-tune of it
            else:
                rel = "independent"
            manifest["pairs"].append({"a": a, "b": b, "relation": rel})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")


def extra_controls():
    """control_seq3/control_seq4: two more controls on the distillers' 700 prompts (answers from
    fresh stories disjoint from every other control's), added to the existing manifest."""
    sys.path.insert(0, os.path.join(ROOT, "testdata", "gen"))
    import make_lineage as lin
    st = stories_tok()
    with open(os.path.join(OUT, "manifest.json")) as f:
        manifest = json.load(f)
    M = manifest["models"]
    rng = random.Random(300)  # the same draws as main(): the first 1200 stories are main()'s
    fresh = [lin.story(rng) for _ in range(2300)]
    prompts = distill_prompts(700, seed=400)
    P2 = prompts + prompts
    S_C3 = pairs_to_seqs(st, P2, story_snippets(fresh[1200:1600], 2 * len(prompts), 69)) + \
        pairs_to_seqs(st, [""] * 150, fresh[2000:2150])
    S_C4 = pairs_to_seqs(st, prompts, story_snippets(fresh[1600:2000], len(prompts), 70)) + \
        pairs_to_seqs(st, [""] * 150, fresh[2150:2300])
    ctl = {"role": "control", "method": "same prompts, answers from fresh stories"}
    for name, seqs, shape, steps, seed in (("control_seq3", S_C3, (48, 3, 4, 128), 500, 43),
                                           ("control_seq4", S_C4, (32, 2, 4, 96), 400, 44)):
        log(f"training {name} on {len(seqs)} sequences")
        m = make_model(st.vocab, *shape, seed, st.bos, st.eos)
        train(m, seqs, steps, seed, name=name)
        bf16_roundtrip(m)
        M[name] = save(m, st, name, dict(ctl, of="student_seq" if shape[0] == 48 else "student_seq2"))
    write_manifest(manifest)
    log("done")


if __name__ == "__main__":
    if sys.argv[1:] == ["--extra-controls"]:
        extra_controls()
    elif sys.argv[1:]:
        sys.exit("usage: make_students.py [--extra-controls]")
    else:
        main()
