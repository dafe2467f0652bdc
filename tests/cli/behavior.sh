#!/usr/bin/env bash
# End-to-end: behaviour evidence in `modelprint compare` (issue 6). A transcript of the base's
# answers (a black-box API) against its distilled student, with the lineage's stories models and
# the controls as background: `distilled`, with evidence.behavior (cross-likelihood z, p-values,
# number of null pairs) in the JSON; a control in the same place: not distilled; no background:
# `unknown` (too little background), never a threshold; model vs model with --behavior-only;
# the full compare (weights + behaviour) keeps the weight verdict `independent` for a control and
# turns it into `distilled` for a student; flag errors -> exit 2 (usage).
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
L="$ROOT/testdata/lineage"; B="$ROOT/testdata/behavior/models"; T="$ROOT/testdata/behavior/base_transcript.jsonl"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export MODELPRINT_DB="$tmp/mp.db"
cd "$tmp" || exit 1
BG="--background $L/indep_seed $L/indep_width $L/indep_arch $B/control_seq $B/control_seq2 $B/control_bytes"

"$MP" --quiet compare "$T" "$B/student_seq2" $BG --json > st.json; rc=$?
check "transcript vs student: exit 0" "[ $rc -eq 0 ]"
for key in '"relation": "distilled"' '"scope": "behavior"' '"kind": "transcript"' \
           '"cross_likelihood_z": {' '"p_value": ' '"null_pairs": 27' '"binomial_p": '; do
    check "student json has $key" "grep -q '$key' st.json"
done

"$MP" --quiet compare "$T" "$L/indep_data" $BG > ctl.txt; rc=$?
check "transcript vs independent: exit 0" "[ $rc -eq 0 ]"
check "independent model is not called distilled" "head -1 ctl.txt | grep -q '^verdict *independent'"

"$MP" --quiet compare "$T" "$B/student_seq" --json > nobg.json; rc=$?
check "no background: exit 0" "[ $rc -eq 0 ]"
check "no background: unknown" "grep -q '\"relation\": \"unknown\"' nobg.json"
check "no background: says why" "grep -q 'too little background' nobg.json"

"$MP" --quiet compare "$L/base" "$B/student_bytes" --behavior-only $BG > bytes.txt; rc=$?
check "model vs model behaviour-only: exit 0" "[ $rc -eq 0 ]"
check "other-tokenizer student: distilled" "head -1 bytes.txt | grep -q '^verdict *distilled'"
check "text names the cross-likelihood" "grep -q 'cross-likelihood' bytes.txt"

"$MP" --quiet compare "$L/base" "$B/student_seq2" --no-store $BG --json > full.json; rc=$?
check "weights + behaviour: exit 0" "[ $rc -eq 0 ]"
check "weights + behaviour: distilled" "grep -q '\"relation\": \"distilled\"' full.json"
check "weights + behaviour: scope" "grep -q '\"scope\": \"weights+behavior\"' full.json"
check "weights + behaviour: weight evidence kept" "grep -q '\"weights\": {' full.json"

"$MP" --quiet compare "$T" "$B/student_seq" --weights-only > /dev/null 2>&1; rc=$?
check "transcript with --weights-only: exit 2" "[ $rc -eq 2 ]"
"$MP" --quiet compare "$L/base" "$B/student_seq" --weights-only --behavior-only > /dev/null 2>&1; rc=$?
check "both only-flags: exit 2" "[ $rc -eq 2 ]"
"$MP" --quiet compare "$T" "$B/student_seq" --background "$B/student_seq" > /dev/null 2>&1; rc=$?
check "a path twice: exit 2" "[ $rc -eq 2 ]"
"$MP" --quiet compare "$T" "$B/student_seq" --device tpu > /dev/null 2>&1; rc=$?
check "bad device: exit 2" "[ $rc -eq 2 ]"

[ $fail -eq 0 ] && echo "behaviour CLI checks passed"
exit $fail
