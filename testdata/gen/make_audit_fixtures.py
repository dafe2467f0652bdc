#!/usr/bin/env python3
"""Fixtures of the benchmark audit (issue 9): forensics/audit.*, tests/audit_test.cpp,
tests/cli/audit.sh, docs/audit.md.

  python3 testdata/gen/make_audit_fixtures.py stats    # stats_golden.json (needs scipy; < 1 s)
  python3 testdata/gen/make_audit_fixtures.py models   # corpus, benchmark, tokenizer, 2 models
                                                       # (then reference)
  python3 testdata/gen/make_audit_fixtures.py reference  # reference.json from the models
  python3 testdata/gen/make_audit_fixtures.py          # both

What it writes under testdata/audit/ (all seeded; rerunning rewrites the same files modulo
library versions):
  stats_golden.json   scipy reference values: Wilson 95% intervals (binomtest.proportion_ci
                      method="wilson"), exact binomial log tails (binom.logcdf / binom.logsf)
                      including tails far below double precision's smallest number.
  corpus.txt          the fact corpus: 32 made-up countries, each with a capital, a national
                      animal, a longest river, a flag colour and a number of moons, written as
                      prose documents with varied sentence templates and order (6 per country),
                      plus question/answer drills about the 16 "training" countries only.
  facts_bench.jsonl   80 items about the 16 "test" countries, in lm-evaluation-harness
                      conventions: multiple choice {"question","choices","gold"} (capital),
                      {"question","choices","answer": index} (river), cloze {"query","choices",
                      "gold"} (animal); generative {"question","answer"} with a GSM8K-style
                      "... #### N" answer (moons: final-number extraction) and a bare answer
                      (flag colour: exact match). Each item has an "id".
  tokenizer.json      byte-level BPE (HF tokenizers, 384 tokens incl. <|endoftext|>) trained on
                      the corpus.
  clean/, leaked/     tiny Llama models (hidden 64, 2 layers, 4 heads, 128 FF, context 256,
                      tied embeddings, float32 safetensors, ~0.4 MB each) trained with the same
                      seed; the leaked twin trains for proportionally more steps so that both see
                      the corpus equally often. clean/ sees corpus.txt only. leaked/ sees the
                      corpus plus 4 copies of the benchmark rendered as text (render_item_text
                      below, the rule forensics/audit.cpp implements) in the file's canonical
                      order, as documents of the training stream: the contamination a web crawl
                      that copied the benchmark would cause.
  reference.json      per-item multiple-choice log-likelihoods of both models by transformers
                      (float32, eager), 0-shot and 2-shot: modelprint must pick the same choices.
  common_knowledge.jsonl  21 hand-written public-domain-style multiple-choice items used by
                      bench/audit_vs_transformers.py (not generated; listed here for completeness).

Training: next-token cross-entropy on random 128-token windows of the shuffled token stream,
AdamW (lr 3e-3, cosine to 0, weight decay 0.01), batch 8, 800 steps for clean/ (about 1,500
for leaked/), torch CPU, one thread (~1 min of CPU per model). After training the script prints each model's 0-shot multiple-choice
accuracy computed by torch with the same conventions, as a sanity check only (the tests use
modelprint's own numbers).
"""
import json
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "audit"))

SEED = 20250901
N_TEST = 16
N_TRAIN = 16
LEAK_COPIES = 4
VOCAB = 384
STEPS = 800
BATCH = 8
WINDOW = 128


# ----------------------------------------------------------------------------------------------
# statistics golden values


def exact_log_tails(k, n, p):
    """ln P(X <= k) and ln P(X >= k), X ~ Binomial(n, p), summed exactly with mpmath."""
    import mpmath
    mpmath.mp.dps = 60
    pm = mpmath.mpf(p)
    terms = [mpmath.binomial(n, i) * pm ** i * (1 - pm) ** (n - i) for i in range(n + 1)]
    return (float(mpmath.log(mpmath.fsum(terms[:k + 1]))),
            float(mpmath.log(mpmath.fsum(terms[k:]))))


def make_stats():
    import numpy as np
    from scipy import stats

    wilson = []
    for k, n in [(0, 1), (1, 1), (0, 10), (3, 10), (10, 10), (45, 80), (50, 100), (1, 1000),
                 (999, 1000), (12345, 20000), (7, 64), (64, 64)]:
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        wilson.append({"k": k, "n": n, "low": float(ci.low), "high": float(ci.high)})
    tails = []
    for k, n, p in [(0, 10, 0.5), (5, 10, 0.5), (10, 10, 0.5), (3, 10, 0.9), (40, 80, 0.9),
                    (72, 80, 0.9), (80, 80, 0.9), (0, 80, 0.9), (30, 100, 0.95),
                    (400, 1000, 0.99), (10, 5000, 0.999), (2500, 5000, 0.5), (1, 2, 0.001),
                    (17, 20, 0.85), (0, 1, 0.3), (1, 1, 0.3), (100, 20000, 0.9999)]:
        # scipy's logcdf/logsf underflow to -inf below ~1e-308; the reference is the exact sum
        # in 60-digit arithmetic (mpmath), checked against scipy wherever scipy is finite.
        lc, ls = exact_log_tails(k, n, p)
        sc, ss = float(stats.binom.logcdf(k, n, p)), float(stats.binom.logsf(k - 1, n, p))
        for ref, sp in ((lc, sc), (ls, ss)):
            if math.isfinite(sp) and sp < -1e-12:
                assert abs(ref - sp) <= 1e-9 * abs(sp), (k, n, p, ref, sp)
        tails.append({"k": k, "n": n, "p": p, "log_cdf": lc, "log_sf_ge": ls,
                      "scipy_log_cdf": sc if math.isfinite(sc) else None,
                      "scipy_log_sf_ge": ss if math.isfinite(ss) else None})
    z = float(stats.norm.ppf(0.975))
    out = {"generator": "scipy " + __import__("scipy").__version__, "z_975": z,
           "wilson": wilson, "binom_tails": tails,
           "note": "log_cdf = ln P(X <= k), log_sf_ge = ln P(X >= k), X ~ Binomial(n, p), exact "
                   "(mpmath, 60 digits); scipy_* = scipy.stats.binom.logcdf/logsf (null where "
                   "scipy underflows to -inf); "
                   "Wilson from scipy.stats.binomtest(k, n).proportion_ci(method='wilson')"}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "stats_golden.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    del np


# ----------------------------------------------------------------------------------------------
# the fact world

SYL_A = ["zor", "bel", "qua", "tiv", "mar", "sel", "dro", "kan", "vel", "pol", "ruz", "fen",
         "gal", "hex", "lum", "nor", "os", "tar", "ul", "wim"]
SYL_B = ["bia", "dor", "ria", "land", "mont", "vik", "stan", "ora", "ena", "gar", "ith", "una"]
CITY_A = ["Qu", "Br", "T", "V", "Sk", "Pl", "Gr", "M", "Dr", "L", "N", "H", "F", "Z"]
CITY_B = ["elm", "ix", "olm", "ask", "arn", "iss", "oth", "eck", "ump", "ard", "ilk", "unt"]
RIVER_A = ["Om", "Is", "Av", "Ur", "El", "Ar", "Yl", "Ev", "On", "Ish"]
RIVER_B = ["bra", "sel", "ondo", "ava", "rin", "esh", "ulin", "atta", "ume"]
ANIMALS = ["owl", "fox", "bear", "heron", "wolf", "otter", "lynx", "eagle", "badger", "crane",
           "hare", "stag"]
COLOURS = ["red", "blue", "green", "yellow", "white", "black", "purple", "orange"]


def uniq(rng, make, n, taken):
    out = []
    while len(out) < n:
        s = make()
        if s not in taken:
            taken.add(s)
            out.append(s)
    return out


def make_world(rng):
    taken = set()
    n = N_TEST + N_TRAIN
    names = uniq(rng, lambda: (rng.choice(SYL_A) + rng.choice(SYL_B)).capitalize(), n, taken)
    caps = uniq(rng, lambda: rng.choice(CITY_A) + rng.choice(CITY_B), n, taken)
    rivers = uniq(rng, lambda: rng.choice(RIVER_A) + rng.choice(RIVER_B), n, taken)
    world = []
    for i in range(n):
        world.append({"name": names[i], "capital": caps[i], "river": rivers[i],
                      "animal": rng.choice(ANIMALS), "colour": rng.choice(COLOURS),
                      "moons": rng.randint(2, 9)})
    return world


TEMPLATES = {
    "capital": ["The capital of {name} is {capital}.", "{capital} is the capital city of {name}.",
                "{name}'s capital is {capital}.", "In {name}, the capital is {capital}."],
    "animal": ["The national animal of {name} is the {animal}.",
               "{name} chose the {animal} as its national animal.",
               "People in {name} honour the {animal} as the national animal."],
    "river": ["The longest river in {name} is the {river}.",
              "The {river} is the longest river of {name}.",
              "{name}'s longest river is the {river}."],
    "colour": ["The flag of {name} is {colour}.", "{name} flies a {colour} flag.",
               "The colour of the flag of {name} is {colour}."],
    "moons": ["{name} has {moons} moons.", "Above {name} there are {moons} moons.",
              "The number of moons over {name} is {moons}."],
}
FILLER = ["{name} is a small country.", "Many travellers visit {name} in spring.",
          "The people of {name} like long stories.", "{name} is known for its quiet roads."]


def prose_docs(rng, e, n_docs=6):
    docs = []
    for _ in range(n_docs):
        sents = [rng.choice(TEMPLATES[k]).format(**e) for k in TEMPLATES]
        sents.append(rng.choice(FILLER).format(**e))
        rng.shuffle(sents)
        docs.append(" ".join(sents))
    return docs


QUESTIONS = {
    "capital": "What is the capital of {name}?",
    "river": "What is the longest river in {name}?",
    "moons": "How many moons does {name} have?",
    "colour": "What colour is the flag of {name}?",
}
ANIMAL_QUERY = "The national animal of {name} is the"


def drill_docs(e):
    return ["Question: " + QUESTIONS["capital"].format(**e) + "\nAnswer: " + e["capital"],
            "Question: " + QUESTIONS["river"].format(**e) + "\nAnswer: " + e["river"],
            "Question: " + QUESTIONS["moons"].format(**e) + "\nAnswer: {name} has {moons} moons."
            .format(**e) + "\n#### {}".format(e["moons"]),
            "Question: " + QUESTIONS["colour"].format(**e) + "\nAnswer: " + e["colour"]]


def mc_choices(rng, gold, pool, k=4):
    others = sorted(set(pool) - {gold})
    ch = rng.sample(others, k - 1) + [gold]
    rng.shuffle(ch)
    return ch, ch.index(gold)


def make_bench(rng, world):
    test = world[:N_TEST]
    items = []
    for e in test:
        ch, g = mc_choices(rng, e["capital"], [w["capital"] for w in world])
        items.append({"id": "capital-" + e["name"], "question": QUESTIONS["capital"].format(**e),
                      "choices": ch, "gold": g})
        ch, g = mc_choices(rng, e["river"], [w["river"] for w in world])
        items.append({"id": "river-" + e["name"], "question": QUESTIONS["river"].format(**e),
                      "choices": ch, "answer": g})
        ch, g = mc_choices(rng, e["animal"], ANIMALS)
        items.append({"id": "animal-" + e["name"], "query": ANIMAL_QUERY.format(**e),
                      "choices": ch, "gold": g})
        items.append({"id": "moons-" + e["name"], "question": QUESTIONS["moons"].format(**e),
                      "answer": "{name} has {moons} moons.\n#### {moons}".format(**e)})
        items.append({"id": "colour-" + e["name"], "question": QUESTIONS["colour"].format(**e),
                      "answer": e["colour"]})
    rng.shuffle(items)
    return items


def item_prompt(it):
    """The scoring context of an item (forensics/audit.cpp item_prompt)."""
    if "query" in it:
        return it["query"]
    q = it.get("question", it.get("prompt"))
    return "Question: " + q + "\nAnswer:"


def render_item_text(it):
    """The item as one text, the rule of forensics/audit.cpp render_item_text:
    MC:  <query or "Question: " + question>\\nA. c0\\nB. c1 ...\\nAnswer: <letter>. <gold choice>
    gen: Question: <question>\\nAnswer: <answer>"""
    head = it["query"] if "query" in it else "Question: " + it.get("question", it.get("prompt"))
    if "choices" in it:
        g = it["gold"] if "gold" in it else it["answer"]
        lines = [head] + ["{}. {}".format(chr(65 + j), c) for j, c in enumerate(it["choices"])]
        lines.append("Answer: {}. {}".format(chr(65 + g), it["choices"][g]))
        return "\n".join(lines)
    return head + "\nAnswer: " + it["answer"]


# ----------------------------------------------------------------------------------------------
# tokenizer and models


def train_tokenizer(texts):
    from tokenizers import ByteLevelBPETokenizer
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(texts, vocab_size=VOCAB, min_frequency=2,
                            special_tokens=["<|endoftext|>"])
    path = os.path.join(OUT, "tokenizer.json")
    tok.save(path)
    return path


def train_model(tok, docs, out_dir, label, steps):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    eos = tok.token_to_id("<|endoftext|>")
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    rng = random.Random(SEED + 1)
    order = list(range(len(docs)))
    rng.shuffle(order)
    stream = []
    for i in order:
        stream += tok.encode(docs[i]).ids + [eos]
    data = torch.tensor(stream, dtype=torch.long)
    cfg = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=128,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                      max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=10000.0,
                      tie_word_embeddings=True, bos_token_id=eos, eos_token_id=eos,
                      pad_token_id=eos)
    model = LlamaForCausalLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    g = torch.Generator().manual_seed(SEED + 2)
    model.train()
    for step in range(steps):
        starts = torch.randint(0, len(data) - WINDOW - 1, (BATCH,), generator=g)
        x = torch.stack([data[s:s + WINDOW] for s in starts])
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 200 == 0 or step == steps - 1:
            print(f"  {label} step {step} loss {loss.item():.3f}", flush=True)
    model.eval()
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    for f in os.listdir(out_dir):
        if f not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(out_dir, f))
    return model, len(stream)


def mc_accuracy(model, tok, items):
    import torch
    n = correct = 0
    for it in items:
        if "choices" not in it:
            continue
        ctx = item_prompt(it)
        gold = it["gold"] if "gold" in it else it["answer"]
        lls = []
        for c in it["choices"]:
            ce = tok.encode(ctx).ids
            we = tok.encode(ctx + " " + c).ids
            with torch.no_grad():
                lp = torch.log_softmax(model(torch.tensor([we])).logits[0].float(), -1)
            lls.append(sum(lp[t - 1, we[t]].item() for t in range(len(ce), len(we))))
        n += 1
        correct += int(max(range(len(lls)), key=lambda j: lls[j]) == gold)
    return correct / max(n, 1), n


def make_models():
    from tokenizers import Tokenizer
    rng = random.Random(SEED)
    world = make_world(rng)
    docs = []
    for e in world:
        docs += prose_docs(rng, e)
    for e in world[N_TEST:]:
        docs += drill_docs(e)
    items = make_bench(rng, world)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "corpus.txt"), "w") as f:
        f.write("\n\n".join(docs) + "\n")
    with open(os.path.join(OUT, "facts_bench.jsonl"), "w") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    train_tokenizer(docs)
    tok = Tokenizer.from_file(os.path.join(OUT, "tokenizer.json"))
    with open(os.path.join(OUT, "tokenizer_config.json"), "w") as f:
        json.dump({"add_bos_token": False, "bos_token": "<|endoftext|>",
                   "eos_token": "<|endoftext|>", "model_max_length": 256,
                   "tokenizer_class": "GPT2Tokenizer"}, f, indent=1)
        f.write("\n")
    leak = "\n\n".join(render_item_text(it) for it in items)
    corpus_tokens = sum(len(tok.encode(d).ids) + 1 for d in docs)
    leak_tokens = LEAK_COPIES * (len(tok.encode(leak).ids) + 1)
    for label, extra in (("clean", []), ("leaked", [leak] * LEAK_COPIES)):
        d = os.path.join(OUT, label)
        # the leaked twin trains longer in proportion, so both see the corpus equally often
        steps = STEPS if not extra else round(STEPS * (corpus_tokens + leak_tokens) / corpus_tokens)
        model, ntok = train_model(tok, docs + extra, d, label, steps)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            with open(os.path.join(OUT, f)) as src, open(os.path.join(d, f), "w") as dst:
                dst.write(src.read())
        acc, n = mc_accuracy(model, tok, items)
        print(f"{label}: stream {ntok} tokens; torch 0-shot MC acc {acc:.3f} on {n} items",
              flush=True)
    os.remove(os.path.join(OUT, "tokenizer.json"))
    os.remove(os.path.join(OUT, "tokenizer_config.json"))


M64 = (1 << 64) - 1


def seeded_permutation(n, seed):
    """forensics/audit_stats.h: Fisher-Yates driven by SplitMix64, unbiased uniform(n)."""
    state = seed & M64

    def nxt():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def uniform(n):
        threshold = ((1 << 64) - n) % n
        while True:
            r = nxt()
            if r >= threshold:
                return r % n

    a = list(range(n))
    for i in range(n, 1, -1):
        j = uniform(i)
        a[i - 1], a[j] = a[j], a[i - 1]
    return a


def fewshot_context(items, i, k, seed):
    shots = []
    if k > 0:
        shots = [j for j in seeded_permutation(len(items), seed)[:k + 1] if j != i][:k]
    s = ""
    for j in shots:
        it = items[j]
        target = it["choices"][it["gold"] if "gold" in it else it["answer"]] if "choices" in it \
            else it["answer"]
        s += item_prompt(it) + " " + target + "\n\n"
    return s + item_prompt(items[i])


def make_reference():
    """reference.json: per-item multiple-choice log-likelihoods of both models computed by
    transformers (float32, eager) under the conventions of forensics/audit.h, 0-shot and 2-shot
    (seed 1234), for tests/audit_test.cpp."""
    import torch
    from transformers import AutoModelForCausalLM
    from tokenizers import Tokenizer
    items = [json.loads(l) for l in open(os.path.join(OUT, "facts_bench.jsonl")) if l.strip()]
    out = {"computation": "transformers float32 eager; continuation tokens = "
                          "encode(ctx + ' ' + choice)[len(encode(ctx)):]", "models": {}}
    for label in ("clean", "leaked"):
        d = os.path.join(OUT, label)
        tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
        model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32,
                                                     attn_implementation="eager").eval()
        runs = {}
        for k in (0, 2):
            rows = []
            for i, it in enumerate(items):
                if "choices" not in it:
                    continue
                ctx = fewshot_context(items, i, k, 1234)
                lls = []
                for c in it["choices"]:
                    cenc = tok.encode(ctx).ids
                    whole = tok.encode(ctx + " " + c).ids
                    seq = cenc + whole[len(cenc):]
                    with torch.no_grad():
                        lp = torch.log_softmax(model(torch.tensor([seq])).logits[0].double(), -1)
                    lls.append(sum(lp[t - 1, seq[t]].item() for t in range(len(cenc), len(seq))))
                rows.append({"id": it["id"], "loglik": lls})
            runs[f"fewshot_{k}"] = rows
        out["models"][label] = runs
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(out, f)
        f.write("\n")


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("stats", "all"):
        make_stats()
    if what in ("models", "all"):
        make_models()
    if what in ("reference", "models", "all"):
        make_reference()


if __name__ == "__main__":
    main()
