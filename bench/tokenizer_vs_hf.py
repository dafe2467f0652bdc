#!/usr/bin/env python3
"""Encoding throughput of modelprint's tokenizers against Hugging Face `tokenizers`, same corpus,
same run, both single-threaded, add_special_tokens=False.

Corpus: testdata/tokenizer/corpus.jsonl (invalid UTF-8 entries decoded with errors="replace" for
HF, passed as raw bytes to modelprint). HF: Tokenizer.encode(text) per string, RAYON_NUM_THREADS=1
(encode of one string does not use the pool anyway). modelprint: build/bench/tokenizer_bench
(Google Benchmark, BM_Encode/<name>, bytes_per_second). Both tokenizers keep a word cache, so
both are measured warm. MB = 10^6 bytes of input text. Both rates use CPU time (the build
machine is shared, so wall time is noisy): Python's time.process_time() and Google Benchmark's
default CPU-time rate.

Usage (from the repository root): python3 bench/tokenizer_vs_hf.py [--build build-tok] [--min-time 2]
"""
import argparse
import json
import os
import subprocess
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from tokenizers import Tokenizer  # noqa: E402

NAMES = ["gpt2", "qwen3", "deepseek_v3", "llama3", "stories260K"]


def path_of(name):
    if name == "stories260K":
        return "../shared/models/stories260K/tokenizer.json"
    return "../shared/tokenizers/%s/tokenizer.json" % name


def corpus():
    out = []
    with open("testdata/tokenizer/corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            j = json.loads(line)
            out.append(bytes.fromhex(j["hex"]) if "hex" in j else j["text"].encode("utf-8"))
    return out


def hf_mbps(name, texts, min_time, joined=False):
    tok = Tokenizer.from_file(path_of(name))
    strs = [t.decode("utf-8", errors="replace") for t in texts]
    nbytes = sum(len(t) for t in texts)
    if joined:
        strs = ["".join(s + "\n" for s in strs)]
        nbytes += len(texts)
    for s in strs:  # warm the word cache, as Google Benchmark's first iterations do
        tok.encode(s, add_special_tokens=False)
    reps, t0 = 0, time.process_time()
    while True:
        for s in strs:
            tok.encode(s, add_special_tokens=False)
        reps += 1
        el = time.process_time() - t0
        if el >= min_time:
            return reps * nbytes / el / 1e6


def ours_mbps(build, min_time, joined=False):
    out = subprocess.run(
        [os.path.join(build, "bench", "tokenizer_bench"),
         "--benchmark_filter=BM_Encode%s/" % ("Joined" if joined else ""),
         "--benchmark_format=json", "--benchmark_min_time=%g" % min_time],
        check=True, capture_output=True, text=True).stdout
    res = {}
    for b in json.loads(out)["benchmarks"]:
        res[b["name"].split("/")[1]] = b["bytes_per_second"] / 1e6
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-tok")
    ap.add_argument("--min-time", type=float, default=2.0)
    a = ap.parse_args()
    texts = corpus()
    print("corpus: %d strings, %d bytes; single thread; add_special_tokens=False"
          % (len(texts), sum(len(t) for t in texts)))
    for joined in (False, True):
        ours = ours_mbps(a.build, a.min_time, joined)
        print("\n%s" % ("whole corpus joined by \\n, one encode() call" if joined
                         else "one encode() call per corpus string"))
        print("%-12s %12s %12s %8s" % ("tokenizer", "modelprint", "HF tok", "ratio"))
        for name in NAMES:
            hf = hf_mbps(name, texts, a.min_time, joined)
            print("%-12s %9.2f MB/s %7.2f MB/s %7.2fx" % (name, ours[name], hf, ours[name] / hf))


if __name__ == "__main__":
    main()
