#!/usr/bin/env bash
# Interoperability with OpenSSF Model Signing's reference implementation (PyPI `model-signing`,
# installed by scripts/setup with MODELPRINT_SETUP_PYTHON=1). Skips (exit 0, with the reason)
# when `import model_signing` fails. Checks, on a copy of stories260K:
#   modelprint sign-model  -> model_signing verify key   (accepted)
#   model_signing sign key -> modelprint verify --model  (accepted)
#   a flipped byte in a model file / a changed key -> both tools refuse.
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
STORIES="$ROOT/../shared/models/stories260K"
if ! python3 -c "import model_signing" > /dev/null 2>&1 || ! command -v model_signing > /dev/null; then
    echo "SKIP: python package model_signing not installed (MODELPRINT_SETUP_PYTHON=1 scripts/setup)"
    exit 0
fi
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export MODELPRINT_DB="$tmp/mp.db"
cd "$tmp" || exit 1
cp -r "$STORIES" model && chmod -R u+w model
mkdir -p model/nested/dir && echo "x" > model/nested/dir/file.txt && echo "y" > model/nested.txt
"$MP" keygen --out k > /dev/null

# modelprint signs, model_signing verifies.
"$MP" sign-model model --key k > sm.txt; rc=$?
check "modelprint sign-model exit 0" "[ $rc -eq 0 ] && [ -f model/model.sig ]"
model_signing verify key model --signature model/model.sig --public_key k.pub > ms.txt 2>&1; rc=$?
check "model_signing accepts modelprint's model.sig" "[ $rc -eq 0 ] && grep -q 'Verification succeeded' ms.txt"
digest=$(sed -nE 's/^root digest +([0-9a-f]{64})$/\1/p' sm.txt)
check "root digest equals modelprint hash" "\"$MP\" hash model --json | grep -q \"\\\"root_digest\\\": \\\"$digest\\\"\""

# model_signing signs, modelprint verifies.
rm model/model.sig
model_signing sign key model --private_key k --signature model/model.sig > /dev/null 2>&1; rc=$?
check "model_signing sign key exit 0" "[ $rc -eq 0 ]"
"$MP" verify --model model --pub k.pub > v.txt; rc=$?
check "modelprint verifies model_signing's bundle" "[ $rc -eq 0 ] && grep -q '^verified' v.txt"

# Tampering: one flipped byte in a model file, then a different key.
python3 - <<'PY'
p = "model/model.safetensors"
b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1; open(p, "wb").write(b)
PY
"$MP" verify --model model --pub k.pub 2> err.txt; rc=$?
check "modelprint: flipped model byte -> exit 3 naming the file" "[ $rc -eq 3 ] && grep -q \"model file 'model.safetensors' was modified\" err.txt"
model_signing verify key model --signature model/model.sig --public_key k.pub > /dev/null 2>&1; rc=$?
check "model_signing also refuses the tampered model" "[ $rc -ne 0 ]"
cp "$STORIES/model.safetensors" model/model.safetensors
"$MP" keygen --out k2 > /dev/null
"$MP" verify --model model --pub k2.pub 2> err.txt; rc=$?
check "other key -> exit 3 naming key hint" "[ $rc -eq 3 ] && grep -q 'key hint' err.txt"
[ $fail -eq 0 ] && echo "OMS interop checks passed"
exit $fail
