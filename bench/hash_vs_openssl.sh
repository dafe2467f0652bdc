#!/usr/bin/env bash
# Hashing throughput of `modelprint hash` against `openssl dgst -sha256` on the same files, in the
# same run, with a warm page cache. Generates (in a temp dir, deleted afterwards):
#   single/  one model.safetensors of SIZE_MB (default 1024) F32 random values
#   sharded/ four shards of SIZE_MB/4 each + index
# Prints seconds and GB/s for each, and the ratios (modelprint / openssl; >1 = faster).
# Usage: bench/hash_vs_openssl.sh [build/modelprint] [SIZE_MB]
set -euo pipefail
MP="${1:-build/modelprint}"
SIZE_MB="${2:-1024}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/mp_hashbench.XXXX")"
trap 'rm -rf "$TMP"' EXIT
python3 - "$TMP" "$SIZE_MB" <<'PY'
import json, os, struct, sys
root, size_mb = sys.argv[1], int(sys.argv[2])
def write_st(path, tensors):  # tensors: list of (name, nbytes)
    header, off = {}, 0
    for name, nb in tensors:
        header[name] = {"dtype": "F32", "shape": [nb // 4], "data_offsets": [off, off + nb]}
        off += nb
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h)
        chunk = os.urandom(1 << 20)
        for _ in range(off >> 20): f.write(chunk)
os.makedirs(f"{root}/single"); os.makedirs(f"{root}/sharded")
n = size_mb  # tensors of 16 MiB
write_st(f"{root}/single/model.safetensors", [(f"t{i}", 16 << 20) for i in range(size_mb // 16)])
wm = {}
for s in range(4):
    name = f"model-0000{s+1}-of-00004.safetensors"
    ts = [(f"s{s}_t{i}", 16 << 20) for i in range(size_mb // 64)]
    write_st(f"{root}/sharded/{name}", ts)
    wm.update({t: name for t, _ in ts})
json.dump({"metadata": {}, "weight_map": wm}, open(f"{root}/sharded/model.safetensors.index.json", "w"))
PY
cat "$TMP"/single/* "$TMP"/sharded/* > /dev/null  # warm the page cache
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
best() { local b=999999 x; for _ in 1 2 3; do x=$(t "$@"); b=$(echo "if ($x < $b) $x else $b" | bc -l); done; echo "$b"; }
GB=$(echo "$SIZE_MB / 1024" | bc -l)
o1=$(best openssl dgst -sha256 "$TMP"/single/model.safetensors)
m1=$(best "$MP" -q hash --no-tensors "$TMP"/single)
m1t=$(best "$MP" -q hash "$TMP"/single)
o4=$(best openssl dgst -sha256 "$TMP"/sharded/*.safetensors)
m4=$(best "$MP" -q hash --no-tensors "$TMP"/sharded)
m4t=$(best "$MP" -q hash "$TMP"/sharded)
printf "cores: %s, data: %s MiB per model, best of 3, warm cache\n" "$(nproc)" "$SIZE_MB"
printf "%-44s %8s %8s %8s\n" "case" "seconds" "GB/s" "ratio"
row() { printf "%-44s %8.3f %8.2f %8.2f\n" "$1" "$2" "$(echo "$GB / $2" | bc -l)" "$(echo "$3 / $2" | bc -l)"; }
row "openssl dgst -sha256, single file" "$o1" "$o1"
row "modelprint hash --no-tensors, single file" "$m1" "$o1"
row "modelprint hash (files + tensors), single" "$m1t" "$o1"
row "openssl dgst -sha256, 4 shards (1 process)" "$o4" "$o4"
row "modelprint hash --no-tensors, 4 shards" "$m4" "$o4"
row "modelprint hash (files + tensors), 4 shards" "$m4t" "$o4"
ins=$(best "$MP" inspect "$TMP"/single)
printf "modelprint inspect on the %s MiB file: %.3f s (header only; mmap, no copy)\n" "$SIZE_MB" "$ins"
