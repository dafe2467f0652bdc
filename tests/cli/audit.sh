#!/usr/bin/env bash
# End-to-end `modelprint audit` on the tiny fact models of testdata/audit (docs/audit.md):
#  - --json keys (accuracy, ci_low, ci_high, n, claim, p_value, verdict); a claim far above the
#    measured accuracy is not-reproducible, the measured accuracy itself is consistent;
#  - the contamination tests flag the leaked twin and not the clean one;
#  - per-item results stored in the database and diffed by a second run (--diff);
#  - a signed audit report that `modelprint verify` accepts, bound to the model's digest;
#  - errors: missing benchmark (exit 4), malformed benchmark (exit 4), bad claim (exit 2);
#  - --device cpu|cuda|auto (cuda: same choices as the CPU with --exact-f32, or exit 6 without a GPU).
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
A="$ROOT/testdata/audit"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
# value of a top-level numeric/string key in pretty JSON ("key": value)
val() { grep -m1 "^  \"$1\":" "$2" | sed -E 's/^  "[^"]+": "?([^",]*)"?,?$/\1/'; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export MODELPRINT_DB="$tmp/mp.db"
cd "$tmp" || exit 1

"$MP" audit "$A/clean" --bench "$A/facts_bench.jsonl" --claim 0.99 --json > clean.json 2> err.txt; rc=$?
check "audit clean exit 0" "[ $rc -eq 0 ]"
for k in accuracy ci_low ci_high n claim p_value verdict; do
    check "--json has $k" "grep -q '^  \"$k\":' clean.json"
done
acc=$(val accuracy clean.json); lo=$(val ci_low clean.json); n=$(val n clean.json)
check "n = 80" "[ \"$n\" = 80 ]"
check "claim 0.99 -> not-reproducible" "[ \"$(val verdict clean.json)\" = not-reproducible ]"
check "clean model above chance (ci_low $lo > 0.25)" "awk 'BEGIN{exit !($lo > 0.25)}'"
check "stored as audit 1" "grep -q 'stored as audit 1' err.txt"

"$MP" audit "$A/clean" --bench "$A/facts_bench.jsonl" --claim "$acc" --json --diff 1 > same.json 2> err2.txt; rc=$?
check "claim = measured accuracy ($acc) -> consistent" "[ $rc -eq 0 ] && [ \"$(val verdict same.json)\" = consistent ]"
check "second run diffed against audit 1: all 80 items agree" \
    "grep -q 'diff with audit 1' err2.txt && grep -q '80 common items, same correctness 80, same score 80' err2.txt"

"$MP" audit "$A/leaked" --bench "$A/facts_bench.jsonl" --contamination --permutations 39 --json --no-store > leaked.json; rc=$?
check "audit leaked --contamination exit 0" "[ $rc -eq 0 ]"
check "leaked: Min-K% flagged" "grep -A12 '\"min_k\"' leaked.json | grep -q '\"flagged\": true'"
check "leaked: shuffled order flagged" "grep -A14 '\"exchangeability\"' leaked.json | grep -q '\"flagged\": true'"
"$MP" audit "$A/clean" --bench "$A/facts_bench.jsonl" --contamination --permutations 39 --json --no-store > cc.json; rc=$?
check "audit clean --contamination exit 0" "[ $rc -eq 0 ]"
check "clean: Min-K% not flagged" "grep -A12 '\"min_k\"' cc.json | grep -q '\"flagged\": false'"
check "clean: shuffled order not flagged" "grep -A14 '\"exchangeability\"' cc.json | grep -q '\"flagged\": false'"

"$MP" keygen --out k > /dev/null
"$MP" audit "$A/clean" --bench "$A/facts_bench.jsonl" --claim 0.99 --limit 20 --sign k --out r.json > text.txt 2> err3.txt; rc=$?
check "signed audit report written" "[ $rc -eq 0 ] && grep -q dsseEnvelope r.json && grep -q 'stored as report' err3.txt"
check "text output has accuracy and verdict" "grep -q '^accuracy' text.txt && grep -q 'not-reproducible' text.txt"
"$MP" verify r.json --pub k.pub --model "$A/clean" > v.txt; rc=$?
check "verify the audit report against the model" "[ $rc -eq 0 ] && grep -q '^verified' v.txt"
"$MP" verify r.json --pub k.pub --model "$A/leaked" > /dev/null 2>&1; rc=$?
check "the report does not verify for the other model (exit 3)" "[ $rc -eq 3 ]"

"$MP" audit "$A/clean" --bench "$tmp/none.jsonl" 2> e.txt; rc=$?
check "missing benchmark -> exit 4" "[ $rc -eq 4 ] && grep -q 'none.jsonl' e.txt"
printf '{"question": "q", "choices": ["a"], "gold": 0}\n' > bad.jsonl
"$MP" audit "$A/clean" --bench bad.jsonl 2> e.txt; rc=$?
check "malformed benchmark -> exit 4 naming the line" "[ $rc -eq 4 ] && grep -q 'bad.jsonl line 1' e.txt"
"$MP" audit "$A/clean" --bench "$A/facts_bench.jsonl" --claim 90 2> e.txt; rc=$?
check "--claim 90 -> exit 2" "[ $rc -eq 2 ] && grep -q 'not 90' e.txt"
"$MP" audit "$A/clean" --bench "$A/facts_bench.jsonl" --sign k 2> e.txt; rc=$?
check "--sign without --out -> exit 2" "[ $rc -eq 2 ] && grep -q 'needs --out' e.txt"

# --device: cuda runs on a GPU machine (per-item results as the CPU's with --exact-f32) and fails
# with exit 6 naming the reason elsewhere; auto falls back to the CPU; an unknown device is a usage error.
"$MP" audit "$A/clean" --bench "$A/facts_bench.jsonl" --limit 24 --json --items --no-store --device cpu > dcpu.json; rc=$?
check "--device cpu exit 0" "[ $rc -eq 0 ] && grep -q '\"device\": \"cpu' dcpu.json"
"$MP" audit "$A/clean" --bench "$A/facts_bench.jsonl" --limit 24 --json --items --no-store --device cuda --exact-f32 > dcuda.json 2> e.txt; rc=$?
if [ $rc -eq 0 ]; then
    check "--device cuda runs on the GPU" "grep -q '\"device\": \"cuda' dcuda.json"
    check "--device cuda --exact-f32: same per-item choices as the CPU" \
        "diff <(grep -E '\"(id|pred_acc|pred_acc_norm|predicted|correct)\"' dcpu.json) <(grep -E '\"(id|pred_acc|pred_acc_norm|predicted|correct)\"' dcuda.json)"
else
    check "--device cuda without a GPU -> exit 6 with the reason" "[ $rc -eq 6 ] && grep -q 'GPU' e.txt"
fi
"$MP" audit "$A/clean" --bench "$A/facts_bench.jsonl" --limit 4 --no-store --device auto > dauto.txt; rc=$?
check "--device auto exit 0" "[ $rc -eq 0 ] && grep -q '^accuracy' dauto.txt"
"$MP" audit "$A/clean" --bench "$A/facts_bench.jsonl" --device tpu 2> e.txt; rc=$?
check "--device tpu -> exit 2" "[ $rc -eq 2 ] && grep -q 'unknown device' e.txt"

[ $fail -eq 0 ] && echo "audit CLI checks passed"
exit $fail
