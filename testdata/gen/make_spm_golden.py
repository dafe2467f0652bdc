#!/usr/bin/env python3
"""SentencePiece fixtures and goldens for tests/tokenizer_spm_test.cpp.

Trains small SentencePiece models with sentencepiece.SentencePieceTrainer (seeded input, one
thread, so a re-run gives the same models) and writes, under testdata/tokenizer/spm/:
  <name>.model          the serialized ModelProto (what a Hugging Face repository ships as
                        tokenizer.model)
  golden_<name>.jsonl   one line per entry of testdata/tokenizer/corpus.jsonl, same order:
                          "n": SentencePieceProcessor.encode(text)            (ids, no BOS/EOS)
                          "d": SentencePieceProcessor.decode(n)
                        then 60 lines {"ids": [...], "d": decode(ids)} of seeded random id
                        sequences (control, unknown, byte and user-defined pieces mixed in, byte
                        pieces that form invalid UTF-8 on purpose).
  meta.json             the sentencepiece version, the configurations, line and id counts.

Invalid UTF-8 convention (as make_tokenizer_golden.py): corpus entries stored as "hex" are
decoded with errors="replace" before encoding; modelprint's encode() does the same to its bytes.

Configurations (both model types, with and without byte fallback, identity and nmt_nfkc):
  unigram_nfkc       UNIGRAM, nmt_nfkc charsmap, defaults (dummy prefix, remove extra spaces)
  unigram_bytes      UNIGRAM, identity, byte_fallback, user-defined pieces, spaces kept
  bpe_nfkc           BPE, nmt_nfkc charsmap, defaults
  bpe_identity       BPE, identity, no byte fallback, no dummy prefix (unknown-run merging)
  llama2_like        BPE as Llama-2 / Mistral v0.1: identity, byte_fallback, split_digits,
                     dummy prefix, spaces kept, unk/bos/eos = 0/1/2
  gemma_like         BPE as Gemma: identity, byte_fallback, no dummy prefix, spaces kept,
                     pad/eos/bos/unk = 0/1/2/3, control and user-defined pieces (turn markers,
                     whitespace runs)

Run from the repository root: python3 testdata/gen/make_spm_golden.py
Needs only `sentencepiece`; the tests read the committed outputs and need no Python.
"""
import json
import os
import random

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKDIR = os.path.join(ROOT, "testdata", "tokenizer")
OUT = os.path.join(TOKDIR, "spm")

CONFIGS = {
    "unigram_nfkc": dict(model_type="unigram", vocab_size=400),
    "unigram_bytes": dict(model_type="unigram", vocab_size=700, byte_fallback=True,
                          normalization_rule_name="identity", remove_extra_whitespaces=False,
                          user_defined_symbols=["<tool>", "@@", "\u2581\u2581"]),
    "bpe_nfkc": dict(model_type="bpe", vocab_size=400),
    "bpe_identity": dict(model_type="bpe", vocab_size=350, normalization_rule_name="identity",
                         add_dummy_prefix=False, character_coverage=0.995),
    "llama2_like": dict(model_type="bpe", vocab_size=800, byte_fallback=True,
                        normalization_rule_name="identity", add_dummy_prefix=True,
                        remove_extra_whitespaces=False, split_digits=True,
                        allow_whitespace_only_pieces=True, character_coverage=0.99995,
                        unk_id=0, bos_id=1, eos_id=2, pad_id=-1),
    "gemma_like": dict(model_type="bpe", vocab_size=800, byte_fallback=True,
                       normalization_rule_name="identity", add_dummy_prefix=False,
                       remove_extra_whitespaces=False, split_digits=True,
                       allow_whitespace_only_pieces=True, pad_id=0, eos_id=1, bos_id=2,
                       unk_id=3, control_symbols=["<mask>", "[@BOS@]"],
                       user_defined_symbols=["<start_of_turn>", "<end_of_turn>", "\n\n", "\t\t",
                                             "\u2581\u2581\u2581\u2581"]),
}


def load_corpus():
    texts = []
    with open(os.path.join(TOKDIR, "corpus.jsonl"), encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            if "hex" in e:
                texts.append(bytes.fromhex(e["hex"]).decode("utf-8", errors="replace"))
            else:
                texts.append(e["text"])
    return texts


def training_text(corpus):
    """Deterministic training sentences: the corpus (most scripts), seeded pseudo-words."""
    rng = random.Random(1234)
    lines = [t.replace("\n", " ") for t in corpus if t.strip()]
    syll = ["ka", "to", "ri", "mon", "sel", "an", "the", "ing", "er", "pro", "de", "con",
            "ation", "ly", "un", "re", "qu", "st", "ph", "ch"]
    words = ["".join(rng.choice(syll) for _ in range(rng.randint(1, 4))) for _ in range(300)]
    for _ in range(1500):
        n = rng.randint(3, 14)
        s = " ".join(rng.choice(words) for _ in range(n))
        if rng.random() < 0.3:
            s += " " + str(rng.randint(0, 100000))
        if rng.random() < 0.2:
            s = s.capitalize() + "."
        lines.append(s)
    return lines


def random_ids(sp, rng, n_lines=60):
    out = []
    v = sp.get_piece_size()
    special = [i for i in range(v) if sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i)]
    byte_ids = [i for i in range(v) if sp.is_byte(i)]
    for k in range(n_lines):
        ids = []
        for _ in range(rng.randint(0, 12)):
            r = rng.random()
            if r < 0.25 and special:
                ids.append(rng.choice(special))
            elif r < 0.35 and byte_ids:  # a run of bytes, often not valid UTF-8
                ids += [rng.choice(byte_ids) for _ in range(rng.randint(1, 4))]
            else:
                ids.append(rng.randrange(v))
        out.append(ids)
    return out


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    corpus = load_corpus()
    train = training_text(corpus)
    meta = {"reference": "sentencepiece " + spm.__version__, "corpus_lines": len(corpus),
            "models": {}}
    for name, cfg in CONFIGS.items():
        prefix = os.path.join(OUT, name)
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(train), model_prefix=prefix, num_threads=1,
            hard_vocab_limit=False, minloglevel=2, shuffle_input_sentence=False, **cfg)
        os.remove(prefix + ".vocab")
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
        rng = random.Random(sum(map(ord, name)))
        n_ids = 0
        with open(os.path.join(OUT, "golden_" + name + ".jsonl"), "w", encoding="utf-8") as f:
            for text in corpus:
                ids = sp.encode(text)
                n_ids += len(ids)
                f.write(json.dumps({"n": ids, "d": sp.decode(ids)}, ensure_ascii=False) + "\n")
            for ids in random_ids(sp, rng):
                f.write(json.dumps({"ids": ids, "d": sp.decode(ids)}, ensure_ascii=False) + "\n")
        meta["models"][name] = {"config": cfg, "pieces": sp.get_piece_size(), "ids": n_ids}
        print(name, sp.get_piece_size(), "pieces,", n_ids, "ids,",
              os.path.getsize(prefix + ".model"), "bytes")
    with open(os.path.join(OUT, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
