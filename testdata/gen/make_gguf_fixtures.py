#!/usr/bin/env python3
"""Generate the GGUF and dequantisation fixtures in testdata/gguf/ (committed; tests need no Python).

Reference: the PyPI `gguf` package (gguf-py, the llama.cpp project's own Python reader/writer),
whose numpy `gguf.quants.dequantize` is an implementation independent of our C++ one.

Writes, for every block type T in TYPES:
  quant_T.bin  raw blocks (little-endian, ggml-common.h layout)
  quant_T.f32  the reference dequantised values (little-endian float32, block_size per block)
For Q4_0..Q8_0 the blocks come from gguf.quants.quantize() of seeded normal data, followed by
blocks of seeded random bytes (scales forced finite); the K-quants (which gguf-py cannot quantise)
are seeded random bytes with finite f16 super-block scales. Q8_K is not in gguf-py: its reference
is the ggml formula y = d * qs (float32 d, int8 qs) evaluated with numpy.

And a small model file written with gguf.GGUFWriter:
  tiny.gguf       metadata of all 13 value types (incl. string arrays and a nested array) and
                  tensors of types F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K,
                  Q4_K, Q5_K, Q6_K
  tiny.json       what a parser must report: version, alignment, data start, metadata values,
                  and per tensor name, dtype, PyTorch-order shape, absolute offset, nbytes
  tiny.f32        every tensor dequantised by gguf-py (GGUFReader + quants.dequantize),
                  concatenated in tensor order

Usage: python3 testdata/gen/make_gguf_fixtures.py [OUT_DIR]   (default: testdata/gguf)
Deterministic: the same gguf version gives the same bytes.
"""
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf import GGUFValueType as VT

SEED = 20240611
QUANTISABLE = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"]
K_TYPES = ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
# byte offsets of the f16 scale fields that must stay finite in random K-quant blocks
K_SCALE_FIELDS = {"Q2_K": [80, 82], "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}
LEGACY_SCALE_FIELDS = {"Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0]}


def block_info(name):
    qt = QT[name]
    bs, tb = gguf.GGML_QUANT_SIZES[qt]
    return qt, bs, tb


def finite_f16(rng, n):
    """n random finite float16 scale values (both signs, a wide range of exponents)."""
    mag = np.exp2(rng.uniform(-14.0, 2.0, size=n))
    sign = rng.choice([-1.0, 1.0], size=n)
    return (mag * sign).astype(np.float16)


def random_blocks(rng, name, n_blocks, scale_fields):
    _, _, tb = block_info(name)
    raw = rng.integers(0, 256, size=(n_blocks, tb), dtype=np.uint8)
    for off in scale_fields:
        raw[:, off:off + 2] = finite_f16(rng, n_blocks).view(np.uint8).reshape(n_blocks, 2)
    return raw


def quant_blocks(rng, name):
    qt, bs, tb = block_info(name)
    if name in QUANTISABLE:
        data = rng.standard_normal(6 * bs).astype(np.float32)
        data[bs:2 * bs] = 0.0  # an all-zero block: d == 0
        q = gguf.quants.quantize(data.reshape(1, -1), qt).reshape(-1, tb)
        extra = random_blocks(rng, name, 4, LEGACY_SCALE_FIELDS[name])
        return np.concatenate([q, extra], axis=0)
    return random_blocks(rng, name, 4, K_SCALE_FIELDS[name])


def q8_k_blocks(rng, n_blocks=4):
    d = (rng.standard_normal(n_blocks).astype(np.float32) * np.float32(0.01))
    qs = rng.integers(-128, 128, size=(n_blocks, 256), dtype=np.int8)
    bsums = qs.reshape(n_blocks, 16, 16).astype(np.int16).sum(axis=2).astype("<i2")
    raw = np.concatenate([d.astype("<f4").view(np.uint8).reshape(n_blocks, 4),
                          qs.view(np.uint8), bsums.view(np.uint8).reshape(n_blocks, 32)], axis=1)
    ref = (d.reshape(n_blocks, 1) * qs.astype(np.float32)).astype(np.float32)
    return raw, ref


def write_quant_fixtures(out, rng):
    for name in QUANTISABLE + K_TYPES:
        qt, bs, _ = block_info(name)
        raw = quant_blocks(rng, name)
        ref = gguf.quants.dequantize(raw.reshape(1, -1), qt).astype("<f4").reshape(-1)
        assert ref.size == raw.shape[0] * bs
        raw.tofile(os.path.join(out, f"quant_{name}.bin"))
        ref.tofile(os.path.join(out, f"quant_{name}.f32"))
    raw, ref = q8_k_blocks(rng)
    raw.tofile(os.path.join(out, "quant_Q8_K.bin"))
    ref.astype("<f4").reshape(-1).tofile(os.path.join(out, "quant_Q8_K.f32"))


METADATA = [
    # key, value type, value (arrays: list), sub type
    ("general.architecture", VT.STRING, "llama", None),
    ("general.name", VT.STRING, "tiny fixture \u00e9\u4e2d", None),
    ("test.u8", VT.UINT8, 200, None),
    ("test.i8", VT.INT8, -100, None),
    ("test.u16", VT.UINT16, 60000, None),
    ("test.i16", VT.INT16, -30000, None),
    ("test.u32", VT.UINT32, 4000000000, None),
    ("test.i32", VT.INT32, -2000000000, None),
    ("test.f32", VT.FLOAT32, 0.1, None),
    ("test.bool_true", VT.BOOL, True, None),
    ("test.bool_false", VT.BOOL, False, None),
    ("test.u64", VT.UINT64, 18000000000000000000, None),
    ("test.i64", VT.INT64, -9000000000000000000, None),
    ("test.f64", VT.FLOAT64, 3.141592653589793, None),
    ("test.arr_i32", VT.ARRAY, [1, -2, 3, -4], VT.INT32),
    ("test.arr_f32", VT.ARRAY, [0.5, -1.25, 3.0], VT.FLOAT32),
    ("test.arr_str", VT.ARRAY, ["alpha", "", "\u2581gamma", "<0x0A>"], VT.STRING),
    ("test.arr_nested", VT.ARRAY, [[1, 2], [3, 4, 5]], VT.ARRAY),
    ("test.arr_bool", VT.ARRAY, [True, False, True], VT.BOOL),
]


def value_json(vtype, val, sub):
    if vtype == VT.ARRAY:
        return {"type": int(vtype), "elem_type": int(sub), "value": val}
    if vtype == VT.FLOAT32:
        val = float(np.float32(val))
    return {"type": int(vtype), "value": val}


def tiny_tensors(rng):
    """(name, raw array for the writer, raw_dtype or None)."""
    out = []
    out.append(("f32.weight", rng.standard_normal((3, 4)).astype(np.float32), None))
    out.append(("f16.weight", rng.standard_normal((2, 3, 8)).astype(np.float16), None))
    bf = rng.standard_normal((4, 4)).astype(np.float32).view(np.uint32) >> 16
    out.append(("bf16.weight", bf.astype(np.uint16).view(np.uint8).reshape(4, 8), QT.BF16))
    for name in QUANTISABLE:
        qt, bs, tb = block_info(name)
        data = rng.standard_normal((2, 2 * bs)).astype(np.float32)
        out.append((f"{name.lower()}.weight", gguf.quants.quantize(data, qt), qt))
    for name in K_TYPES:
        qt, bs, tb = block_info(name)
        raw = random_blocks(rng, name, 2, K_SCALE_FIELDS[name]).reshape(2, tb)
        out.append((f"{name.lower()}.weight", raw, qt))
    out.append(("vec.bias", rng.standard_normal(5).astype(np.float32), None))
    return out


def write_tiny(out, rng):
    path = os.path.join(out, "tiny.gguf")
    w = gguf.GGUFWriter(path, arch="llama", use_temp_file=False)
    w.kv_data[0].clear()  # write our own general.architecture in our order
    for key, vtype, val, sub in METADATA:
        w.add_key_value(key, val, vtype, sub_type=sub)
    tensors = tiny_tensors(rng)
    for name, arr, raw_dtype in tensors:
        w.add_tensor(name, arr, raw_dtype=raw_dtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    reader = gguf.GGUFReader(path)
    desc = {"version": 3, "alignment": 32, "data_start": int(reader.data_offset),
            "metadata": {k: value_json(t, v, s) for k, t, v, s in METADATA}, "tensors": []}
    values = []
    for t in reader.tensors:
        qt = QT(int(t.tensor_type))
        deq = gguf.quants.dequantize(np.asarray(t.data), qt).astype("<f4").reshape(-1)
        values.append(deq)
        desc["tensors"].append({
            "name": t.name, "dtype": qt.name,
            "shape": [int(d) for d in reversed(t.shape.tolist())],
            "offset": int(t.data_offset), "nbytes": int(t.n_bytes), "numel": int(t.n_elements),
        })
    np.concatenate(values).tofile(os.path.join(out, "tiny.f32"))
    with open(os.path.join(out, "tiny.json"), "w", encoding="utf-8") as f:
        json.dump(desc, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "gguf")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    write_quant_fixtures(out, rng)
    write_tiny(out, rng)


if __name__ == "__main__":
    main()
