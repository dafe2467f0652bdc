#!/usr/bin/env python3
"""Write the initial (unminimised) seed inputs for the fuzzers into OUT/gguf and OUT/safetensors.

Seeds: the GGUF fixtures of testdata/gguf, a v2 copy of tiny.gguf, a small GGUF carrying the
complete real metadata of stories260K.gguf (512-token tokenizer arrays) with three small tensors,
and the safetensors fixtures of testdata/intake. The minimised corpus that grows from these is
committed under fuzz/corpus/ (see docs/formats.md, "Fuzzing").
Usage: python3 fuzz/make_seeds.py OUT
"""
import glob
import os
import shutil
import sys

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


if __name__ == "__main__":
    main()
