#!/usr/bin/env bash
# End-to-end: `index add MODEL` without --vector computes the weight-print invariant vector
# (fingerprint/weight_print.h, 768 components); `search` of a derived lineage model (fine-tune,
# LoRA, permuted, quantised, pruned) ranks its base first among base + independent models, and
# a query model that was never indexed is fingerprinted on the fly.
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
L="$ROOT/testdata/lineage"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export MODELPRINT_DB="$tmp/mp.db"
cd "$tmp" || exit 1
for m in base indep_seed indep_data partner indep_width indep_arch; do
    "$MP" --quiet index add "$L/$m" > add.txt; rc=$?
    check "index add $m" "[ $rc -eq 0 ] && grep -q '768 components' add.txt"
done
"$MP" --quiet index stats > stats.txt
check "six vectors of dimension 768" "grep -q '6 vectors of dimension 768' stats.txt"
for q in finetune lora permuted base_q4 pruned renamed_rescaled; do
    "$MP" --quiet search "$L/$q" -k 2 --json > s.json; rc=$?
    first=$(grep -m1 '"name"' s.json)
    check "$q: nearest is base" "[ $rc -eq 0 ] && echo '$first' | grep -q '\"base\"'"
done
# Independent models are not near each other: indep_seed's nearest is not above 0.5.
"$MP" --quiet search "$L/indep_seed" -k 1 --json > s.json
sim=$(grep -m1 '"similarity"' s.json | sed 's/[^0-9.]//g')
check "independent nearest similarity < 0.5 ($sim)" "awk 'BEGIN{exit !($sim < 0.5)}'"
[ $fail -eq 0 ] && echo "index/search weight-vector checks passed"
exit $fail
