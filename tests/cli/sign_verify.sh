#!/usr/bin/env bash
# End-to-end: keygen (0600 PKCS#8 / SPKI), signed and unsigned reports, verify with --pub and with
# the store's known key, tamper cases (payload, signature, key hint, model digest) each failing
# with exit 3 and a message naming it, Ed25519 reports, and the DSSE signature checked by the
# `openssl` command line over the PAE bytes.
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
STORIES="$ROOT/../shared/models/stories260K"
ROOTD=adc9117d46b942c1b70b53e7d03e883967623fe9736f41de92ff2f4ee83d6f86
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export MODELPRINT_DB="$tmp/mp.db"
cd "$tmp" || exit 1

"$MP" keygen --out k > keygen.txt; rc=$?
check "keygen exit 0" "[ $rc -eq 0 ]"
check "private key mode 0600" "[ \"\$(stat -c %a k)\" = 600 ]"
check "PKCS#8 PEM" "grep -q 'BEGIN PRIVATE KEY' k"
check "SPKI PEM" "grep -q 'BEGIN PUBLIC KEY' k.pub"
"$MP" keygen --out k 2>err.txt; rc=$?
check "keygen refuses to overwrite (exit 6)" "[ $rc -eq 6 ] && grep -q 'refusing to overwrite' err.txt"
"$MP" keygen --out e --key-type ed25519 > /dev/null; check "ed25519 keygen" "[ -f e.pub ]"

cat > pred.json <<JSON
{"verdict": {"label": "identical", "confidence": "1", "decided_by": "file digests"}}
JSON
"$MP" report create --subject "stories=$ROOTD" --predicate pred.json --sign k --out r.json > /dev/null; rc=$?
check "signed report written" "[ $rc -eq 0 ] && grep -q dsseEnvelope r.json"
"$MP" verify r.json --pub k.pub > out.txt; rc=$?
check "verify --pub exit 0 'verified'" "[ $rc -eq 0 ] && grep -q '^verified' out.txt"
"$MP" verify r.json > out.txt; rc=$?
check "verify with the store's known key" "[ $rc -eq 0 ] && grep -q '^verified' out.txt"
"$MP" verify r.json --pub k.pub --model "$STORIES" > out.txt; rc=$?
check "verify --model matching subject" "[ $rc -eq 0 ] && grep -q 'matches --model' out.txt"

# Tamper: payload (one base64 symbol of the payload), signature, key hint, model digest.
sed -E 's/("payload": "...........)(.)/\1#/' r.json | sed 's/#/A/' > p.json
cmp -s p.json r.json && sed -E 's/("payload": "...........)(.)/\1B/' r.json > p.json
"$MP" verify p.json --pub k.pub 2>err.txt; rc=$?
check "tampered payload -> exit 3 naming payload" "[ $rc -eq 3 ] && grep -q 'payload' err.txt"
sed -E 's/("sig": "..........)(.)/\1#/' r.json | sed 's/#/Q/' > s.json
cmp -s s.json r.json && sed -E 's/("sig": "..........)(.)/\1R/' r.json > s.json
"$MP" verify s.json --pub k.pub 2>err.txt; rc=$?
check "tampered signature -> exit 3 naming signature" "[ $rc -eq 3 ] && grep -q 'signature' err.txt"
sed -E 's/("hint": ")(.)/\1#/' r.json | sed 's/#/0/' > h.json
cmp -s h.json r.json && sed -E 's/("hint": ")(.)/\11/' r.json > h.json
"$MP" verify h.json --pub k.pub 2>err.txt; rc=$?
check "tampered key hint -> exit 3 naming key hint" "[ $rc -eq 3 ] && grep -q 'key hint' err.txt"
mkdir m && cp "$STORIES/config.json" "$STORIES/model.safetensors" m/ && chmod u+w m/*
"$MP" verify r.json --pub k.pub --model m 2>err.txt; rc=$?
check "other model -> exit 3 naming model digests" "[ $rc -eq 3 ] && grep -q 'model digests do not match' err.txt"
"$MP" verify r.json --pub e.pub 2>err.txt; rc=$?
check "wrong key -> exit 3" "[ $rc -eq 3 ] && grep -q 'key hint' err.txt"

# Unsigned report, then `sign`.
"$MP" report create --subject "stories=$ROOTD" --predicate pred.json --out u.json > /dev/null
"$MP" verify u.json --pub k.pub 2>err.txt; rc=$?
check "unsigned report -> exit 3 'not signed'" "[ $rc -eq 3 ] && grep -q 'not signed' err.txt"
"$MP" sign u.json --key e --out u.signed.json > /dev/null; rc=$?
check "sign with ed25519" "[ $rc -eq 0 ]"
"$MP" verify u.signed.json --pub e.pub > out.txt; rc=$?
check "ed25519 report verifies" "[ $rc -eq 0 ] && grep -q 'ed25519' out.txt"

# Independent check with the openssl command line: PAE(payloadType, payload) and the DER sig.
payload=$(sed -nE 's/.*"payload": "([^"]*)".*/\1/p' r.json)
sig=$(sed -nE 's/.*"sig": "([^"]*)".*/\1/p' r.json)
printf '%s' "$payload" | base64 -d > payload.bin
printf '%s' "$sig" | base64 -d > sig.der
n=$(stat -c %s payload.bin)
{ printf 'DSSEv1 28 application/vnd.in-toto+json %s ' "$n"; cat payload.bin; } > pae.bin
openssl dgst -sha256 -verify k.pub -signature sig.der pae.bin > ossl.txt 2>&1; rc=$?
check "openssl verifies the DSSE signature" "[ $rc -eq 0 ] && grep -q 'Verified OK' ossl.txt"
check "report list shows stored reports" "[ \$(\"$MP\" report list --json | grep -c '\"id\"') -ge 2 ]"
[ $fail -eq 0 ] && echo "sign/verify CLI checks passed"
exit $fail
