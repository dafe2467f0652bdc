#!/usr/bin/env python3
"""Write the initial (unminimised) seed inputs for the fuzzers into OUT/<target>.

Seeds: the GGUF fixtures of testdata/gguf, a v2 copy of tiny.gguf, a small GGUF carrying the
complete real metadata of stories260K.gguf (512-token tokenizer arrays) with three small tensors,
and the safetensors fixtures of testdata/intake. The minimised corpus that grows from these is
committed under fuzz/corpus/ (see docs/formats.md, "Fuzzing").
Text targets: transcript (testdata/behavior transcript, lines of it, hand-written edge cases),
probes (the built-in set, a header + probes), tokenizer (each testdata/tokenizer/mini_cases
tokenizer, the small tokenizer.json + tokenizer_config.json of testdata/audit and
testdata/lineage, the same tokenizer with each shipped chat template of ../shared/tokenizers,
joined by NUL bytes as fuzz/fuzz_tokenizer.cpp expects, and the two GGUF seeds), spm (the
SentencePiece models of testdata/tokenizer/spm up to 64 KB, and hand-built ModelProtos: UNIGRAM
and BPE with a hand-made precompiled charsmap, user-defined and unused pieces) and bundle
(with MODELPRINT=path/to/modelprint: a comparison report signed with fuzz/keys/fuzz_p256.key,
the unsigned statement, and an OpenSSF model.sig of a small model directory).
Usage: python3 fuzz/make_seeds.py OUT [MODELPRINT]
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import gguf

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def stories_metadata_gguf(path):
    src = gguf.GGUFReader(os.path.join(ROOT, "..", "shared", "models", "stories260K",
                                       "stories260K.gguf"))
    w = gguf.GGUFWriter(path, arch="llama", use_temp_file=False)
    w.kv_data[0].clear()
    for name, field in src.fields.items():
        if name.startswith("GGUF."):
            continue
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            w.add_key_value(name, field.contents(), vtype, sub_type=field.types[1])
        else:
            w.add_key_value(name, field.contents(), vtype)
    rng = np.random.default_rng(1)
    w.add_tensor("token_embd.weight", rng.standard_normal((4, 8)).astype(np.float32))
    q = gguf.quants.quantize(rng.standard_normal((2, 32)).astype(np.float32),
                             gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("blk.0.attn_q.weight", q, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    w.add_tensor("output_norm.weight", rng.standard_normal(8).astype(np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    out = sys.argv[1]
    g, s = os.path.join(out, "gguf"), os.path.join(out, "safetensors")
    os.makedirs(g, exist_ok=True)
    os.makedirs(s, exist_ok=True)
    shutil.copy(os.path.join(ROOT, "testdata", "gguf", "tiny.gguf"), g)
    data = bytearray(open(os.path.join(ROOT, "testdata", "gguf", "tiny.gguf"), "rb").read())
    data[4] = 2
    open(os.path.join(g, "tiny_v2.gguf"), "wb").write(data)
    stories_metadata_gguf(os.path.join(g, "stories_meta.gguf"))
    pattern = os.path.join(ROOT, "testdata", "intake", "**", "*.safetensors")
    for i, f in enumerate(sorted(glob.glob(pattern, recursive=True))):
        if os.path.getsize(f) <= 64 * 1024:
            shutil.copy(f, os.path.join(s, f"{i:02d}_{os.path.basename(f)}"))
    text_seeds(out)
    spm_seeds(os.path.join(out, "spm"))
    if len(sys.argv) > 2:
        bundle_seeds(out, sys.argv[2])


def spm_seeds(folder):
    for f in sorted(glob.glob(os.path.join(ROOT, "testdata", "tokenizer", "spm", "*.model"))):
        if os.path.getsize(f) <= 64 * 1024:
            write(folder, os.path.basename(f), open(f, "rb").read())

    def varint(v):
        b = bytearray()
        while v >= 0x80:
            b.append((v & 0x7F) | 0x80)
            v >>= 7
        b.append(v)
        return bytes(b)

    def field(n, payload):
        return varint(n << 3 | 2) + varint(len(payload)) + payload

    def piece(p, score, t=1):
        body = field(1, p.encode()) + varint(2 << 3 | 5) + np.float32(score).tobytes()
        return field(1, body + (varint(3 << 3) + varint(t) if t != 1 else b""))

    pieces = (piece("<unk>", 0, 2) + piece("<s>", 0, 3) + piece("</s>", 0, 3) +
              piece("\u2581", -1) + piece("a", -2) + piece("b", -3) + piece("ab", -0.5) +
              piece("\u2581ab", -0.25) + piece("<u>", 0, 4) + piece("ba", -0.1, 5))
    units = [0] * 98
    units[0] = 1 << 10
    units[96] = (1 << 10) | (1 << 8) | 0x61
    units[97] = (1 << 31) | 2
    charsmap = np.uint32(len(units) * 4).tobytes() + np.array(units, "<u4").tobytes() + b"x\0b\0"
    for model_type in (1, 2):
        trainer = field(2, varint(3 << 3) + varint(model_type))
        norm = field(3, field(1, b"nmt_nfkc") + field(2, charsmap))
        write(folder, f"hand_{model_type}.model", pieces + trainer + norm)
        write(folder, f"hand_{model_type}_identity.model",
              pieces + trainer + field(3, field(1, b"identity") + varint(4 << 3) + varint(0)))


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def text_seeds(out):
    t = os.path.join(out, "transcript")
    src = open(os.path.join(ROOT, "testdata", "behavior", "base_transcript.jsonl"), "rb").read()
    write(t, "base_transcript.jsonl", src)
    write(t, "three_lines.jsonl", b"\n".join(src.split(b"\n")[:3]) + b"\n")
    write(t, "no_ids.jsonl", '{"prompt": "Hi", "response": " there"}\r\n'
          '{"prompt": "\\u4f60\\u597d", "response": "\\u4e16\\u754c", "id": null}\n\n')
    write(t, "edge.jsonl", '{"id": "a", "prompt": "", "response": ""}\n'
          '{"id": "b", "prompt": "x", "response": "y", "extra": [1, {"k": 2.5e308}]}\n')
    p = os.path.join(out, "probes")
    write(p, "default_v1.jsonl",
          open(os.path.join(ROOT, "fingerprint", "probes", "default_v1.jsonl"), "rb").read())
    write(p, "header.jsonl", '{"probe_set": "mine", "version": 2, "description": "d"}\n'
          '{"id": "q1", "prompt": "Who are you?", "category": "identity", "lang": "en", '
          '"max_new_tokens": 16}\n{"prompt": "2+2=", "category": "arithmetic"}\n'
          '{"prompt": "t", "response": "r"}\n')
    k = os.path.join(out, "tokenizer")
    for case in json.load(open(os.path.join(ROOT, "testdata", "tokenizer", "mini_cases.json"))):
        text = case["cases"][0] if case.get("cases") else "Hello 123"
        if isinstance(text, dict):
            text = text.get("text", "Hello 123")
        write(k, "mini_" + case["name"], json.dumps(case["tokenizer"]) + "\0\0" + text)
    base = None
    for d in ("audit/clean", "lineage/lora"):
        folder = os.path.join(ROOT, "testdata", d)
        tj = open(os.path.join(folder, "tokenizer.json")).read()
        cfg = open(os.path.join(folder, "tokenizer_config.json")).read()
        write(k, d.replace("/", "_"), tj + "\0" + cfg + "\0Once upon a time, 42 <s>.")
        base = base or tj
    for cfgp in sorted(glob.glob(os.path.join(ROOT, "..", "shared", "tokenizers", "*",
                                              "tokenizer_config.json"))):
        cfg = json.load(open(cfgp))
        small = {k2: cfg[k2] for k2 in ("chat_template", "bos_token", "eos_token", "add_bos_token")
                 if k2 in cfg}
        if "chat_template" in small:
            name = os.path.basename(os.path.dirname(cfgp))
            write(k, "chat_" + name, base + "\0" + json.dumps(small) + "\0Hello!")
    for g in ("tiny.gguf", "stories_meta.gguf"):
        path = os.path.join(out, "gguf", g)
        if os.path.exists(path):
            shutil.copy(path, os.path.join(k, g))


def bundle_seeds(out, modelprint):
    b = os.path.join(out, "bundle")
    os.makedirs(b, exist_ok=True)
    key = os.path.join(ROOT, "fuzz", "keys", "fuzz_p256.key")
    lineage = os.path.join(ROOT, "testdata", "lineage")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, MODELPRINT_DB=os.path.join(tmp, "db.sqlite"))
        run = lambda *a: subprocess.run([modelprint, *a], env=env, check=True,
                                        stdout=subprocess.DEVNULL)
        run("compare", os.path.join(lineage, "base_f16"), os.path.join(lineage, "lora"),
            "--weights-only", "--out", os.path.join(b, "comparison_signed.json"), "--sign", key)
        run("compare", os.path.join(lineage, "base_f16"), os.path.join(lineage, "indep_arch"),
            "--weights-only", "--out", os.path.join(b, "comparison_unsigned.json"))
        model = os.path.join(tmp, "model")
        shutil.copytree(os.path.join(lineage, "lora"), model)
        os.remove(os.path.join(model, "model.safetensors"))
        run("sign-model", model, "--key", key)
        shutil.copy(os.path.join(model, "model.sig"), os.path.join(b, "oms_model.sig"))
    write(b, "pubkey.pem", open(os.path.join(ROOT, "fuzz", "keys", "fuzz_p256.pem")).read())


if __name__ == "__main__":
    main()
