#!/usr/bin/env bash
# End-to-end: `index add MODEL --kind behavior` reads the model's stored behaviour fingerprint
# (written by `modelprint fingerprint`) and indexes its behaviour vector (hashed character
# 3-grams of the answers, 512 components); a transcript JSONL (a black-box API's answers) is
# indexed and searched from its text alone. The base model's transcript finds the base model
# first; a model with no stored fingerprint is refused with exit 6 and the command to run; an
# unknown probe set is a clear error.
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
L="$ROOT/testdata/lineage"
T="$ROOT/testdata/behavior/base_transcript.jsonl"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export MODELPRINT_DB="$tmp/mp.db"
cd "$tmp" || exit 1
for m in base indep_seed indep_data partner; do
    "$MP" --quiet fingerprint "$L/$m" > /dev/null; rc=$?
    check "fingerprint $m" "[ $rc -eq 0 ]"
    "$MP" --quiet index add "$L/$m" --kind behavior > add.txt; rc=$?
    check "index add $m --kind behavior" "[ $rc -eq 0 ] && grep -q '512 components' add.txt"
done
"$MP" --quiet index stats --kind behavior > stats.txt
check "four behavior vectors" "grep -q '4 vectors of dimension 512' stats.txt"
"$MP" --quiet search "$T" --kind behavior -k 2 --json > s.json; rc=$?
first=$(grep -m1 '"name"' s.json)
check "the base's transcript finds base first" "[ $rc -eq 0 ] && echo '$first' | grep -q '\"base\"'"
sim=$(grep -m1 '"similarity"' s.json | sed 's/[^0-9.]//g')
check "transcript vs its model: cosine > 0.95 ($sim)" "awk 'BEGIN{exit !($sim > 0.95)}'"
"$MP" --quiet index add "$T" --kind behavior > add.txt; rc=$?
check "index add transcript" "[ $rc -eq 0 ] && grep -q 'base_transcript.jsonl' add.txt"
"$MP" --quiet index add "$L/lora" --kind behavior > out.txt 2> err.txt; rc=$?
check "no stored fingerprint: exit 6 ($rc)" "[ $rc -eq 6 ] && grep -q 'modelprint fingerprint' err.txt"
"$MP" --quiet index add "$L/base" --kind behavior --probes "$tmp/nope.jsonl" > out.txt 2> err.txt; rc=$?
check "missing probe set: non-zero exit, names the file ($rc)" "[ $rc -ne 0 ] && grep -q 'nope.jsonl' err.txt"
[ $fail -eq 0 ] && echo "index/search behaviour-vector checks passed"
exit $fail
