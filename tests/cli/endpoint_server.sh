#!/usr/bin/env bash
# `endpoint probe` and `endpoint check` against llama.cpp's real server (PyPI xllamacpp, started
# by tests/util/llama_server.py on 127.0.0.1 on a free port, stopped at the end) serving the
# shipped stories260K GGUF, its F16 / Q4_0 re-encodings and a fine-tune made by
# testdata/gen/make_endpoint_fixtures.py (into the build tree; the parts needing a fixture skip
# without gguf / torch). Label: slow. Skips (exit 0, with the reason) without xllamacpp.
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
STORIES="$ROOT/../shared/models/stories260K/stories260K.gguf"
if ! python3 -c "import xllamacpp" > /dev/null 2>&1; then
    echo "SKIP: python package xllamacpp not installed (scripts/setup installs it)"; exit 0
fi
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null; wait "$p" 2> /dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
export MODELPRINT_QUIET=1
export MODELPRINT_DB="$tmp/mp.db"  # endpoint check records its comparison (never ./modelprint.db)
serve() {  # $1 gguf, $2 port file, rest: launcher flags. Not in $(...): the pid must reach
    # this shell's pids (a command substitution's subshell would keep it, and leak the server).
    python3 "$ROOT/tests/util/llama_server.py" --model "$1" --alias stories260K --port-file "$2" "${@:3}" > "$2.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 300); do [ -s "$2" ] && break; sleep 0.1; done
}
FIX="$(dirname "$MP")/endpoint_fixtures"
if [ ! -f "$FIX/fixtures.json" ]; then
    nice -n 19 python3 "$ROOT/testdata/gen/make_endpoint_fixtures.py" "$FIX" > "$tmp/gen.log" 2>&1 \
        || echo "note: fixtures not generated ($(tail -1 "$tmp/gen.log")); their cases skip"
fi

# 1. Probe with an API key (the server requires it), resumably.
serve "$STORIES" "$tmp/p1" --api-key sk-llama-SECRET-77; port=$(cat "$tmp/p1" 2> /dev/null)
check "server started" "[ -n '$port' ]"
B="http://127.0.0.1:$port"
export MP_KEY=sk-llama-SECRET-77
"$MP" endpoint probe "$B" --model stories260K --chat none --limit 4 --samples 2 --logprobs 3 \
    --max-tokens 12 --api-key-env MP_KEY --out "$tmp/t.jsonl" > "$tmp/out" 2> "$tmp/err"; rc=$?
check "probe: exit 0" "[ $rc -eq 0 ]"
check "probe: 4 lines" "[ $(wc -l < $tmp/t.jsonl) -eq 4 ]"
check "probe: llama.cpp shape read (ids, logprobs, fingerprint, dialect)" \
    "python3 -c \"import json,sys; L=[json.loads(l) for l in open('$tmp/t.jsonl')]; s=L[0]['samples'][0]; sys.exit(not (s['logprobs'] and 'id' in s['logprobs'][0] and L[0]['dialect']=='llama.cpp' and L[0]['system_fingerprint'] and L[0]['served_model']))\""
check "probe: key nowhere in outputs" "! grep -q SECRET $tmp/t.jsonl $tmp/out $tmp/err"
"$MP" endpoint probe "$B" --model stories260K --chat none --limit 4 --out "$tmp/nokey.jsonl" > /dev/null 2> "$tmp/err"; rc=$?
check "probe without the key: exit 6" "[ $rc -eq 6 ]"
"$MP" endpoint probe "$B" --model gpt-4 --chat none --limit 2 --api-key-env MP_KEY --out "$tmp/u.jsonl" > /dev/null 2> "$tmp/err"; rc=$?
check "unknown model name: exit 4" "[ $rc -eq 4 ] && grep -q 'does not serve model' $tmp/err"
"$MP" endpoint probe "$B" --model stories260K --chat none --limit 6 --samples 2 --logprobs 3 \
    --max-tokens 12 --api-key-env MP_KEY --out "$tmp/t.jsonl" > "$tmp/out" 2> "$tmp/err"; rc=$?
check "resume: only the 2 new prompts probed" "[ $rc -eq 0 ] && grep -q '2 prompts probed now, 4 already' $tmp/out"

# 2. check: the claimed weights served exactly -> same.
cal=()
[ -f "$FIX/stories260K.f16.gguf" ] && cal=(--calibrate "$FIX/stories260K.f16.gguf" "$FIX/stories260K.q8_0.gguf" "$FIX/stories260K.q4_0.gguf")
CHECK=(--model stories260K --claim "$STORIES" --chat none --probes "$ROOT/testdata/endpoint/stories_prompts.jsonl"
       --limit 20 --samples 5 --max-tokens 24 --api-key-env MP_KEY --json --threads 1 "${cal[@]}")
"$MP" endpoint check "$B" "${CHECK[@]}" > "$tmp/same.json" 2> "$tmp/err"; rc=$?
check "check same: exit 0" "[ $rc -eq 0 ]"
check "check same: verdict same" "grep -q '\"verdict\": \"same\"' $tmp/same.json || { cat $tmp/same.json $tmp/err; false; }"
relation() {  # $1 json file: the comparison document's relation/subtype, B's kind, section verdict
    python3 -c "import json,sys; j=json.load(open(sys.argv[1])); c=j['comparison']; v=c['verdict']
print(v['relation'], v['subtype'] or '-', v['basis'], c['b']['kind'], c['evidence']['endpoint']['verdict'])" "$1" 2> /dev/null
}
check "check same: comparison serves-claimed / same, basis endpoint" \
    "[ \"\$(relation $tmp/same.json)\" = 'serves-claimed same endpoint endpoint same' ] || { relation $tmp/same.json; false; }"
check "check same: the claim's storage dtype is reported (A side, F32 GGUF)" \
    "python3 -c \"import json,sys; sys.exit(json.load(open('$tmp/same.json'))['comparison']['a']['dtype'] != 'F32')\""
stored_verdicts() {
    python3 -c "import sqlite3,sys; print(' '.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute('select verdict from comparisons')))" "$tmp/mp.db" 2> /dev/null
}
check "check same: stored as a comparison" "[ \"\$(stored_verdicts)\" = 'serves-claimed' ] || stored_verdicts"

# 2b. Signed (DSSE, as compare), verified offline, rendered by report export; no key anywhere.
"$MP" keygen --out "$tmp/key.pem" --no-db > /dev/null 2>&1
"$MP" endpoint check "$B" "${CHECK[@]}" --sign "$tmp/key.pem" --out "$tmp/r.json" > /dev/null 2> "$tmp/err"; rc=$?
check "signed: exit 0, report stored" "[ $rc -eq 0 ] && [ -s $tmp/r.json ] && grep -q 'stored as report' $tmp/err || cat $tmp/err"
"$MP" verify "$tmp/r.json" --pub "$tmp/key.pem.pub" > "$tmp/v.txt" 2>&1; rc=$?
check "signed: verifies offline" "[ $rc -eq 0 ] || cat $tmp/v.txt"
"$MP" report export 1 --format md --out "$tmp/r.md" 2> /dev/null; rc=$?
check "report export md: endpoint tables and the verdict" \
    "[ $rc -eq 0 ] && grep -q 'Endpoint evidence' $tmp/r.md && grep -q 'serves-claimed' $tmp/r.md"
"$MP" report export 1 --format html --out "$tmp/r.html" 2> /dev/null; rc=$?
check "report export html: the MMD null as a plot" "[ $rc -eq 0 ] && grep -q '<svg' $tmp/r.html"
check "key nowhere (report, renderings, store)" "! grep -q SECRET $tmp/r.json $tmp/r.md $tmp/r.html $tmp/mp.db $tmp/same.json"

# 3. other precision and a fine-tune under the claimed name.
if [ -f "$FIX/stories260K.q4_0.gguf" ]; then
    serve "$FIX/stories260K.q4_0.gguf" "$tmp/p2"; p2=$(cat "$tmp/p2")
    "$MP" endpoint check "http://127.0.0.1:$p2" "${CHECK[@]}" > "$tmp/q4.json" 2> "$tmp/err"; rc=$?
    check "check Q4_0: same-weights-other-precision" "[ $rc -eq 0 ] && grep -q 'same-weights-other-precision' $tmp/q4.json || { cat $tmp/q4.json $tmp/err; false; }"
fi
if [ -f "$FIX/stories260K.ft.gguf" ]; then
    serve "$FIX/stories260K.ft.gguf" "$tmp/p3"; p3=$(cat "$tmp/p3")
    "$MP" endpoint check "http://127.0.0.1:$p3" "${CHECK[@]}" > "$tmp/ft.json" 2> "$tmp/err"; rc=$?
    check "check fine-tune: different" "[ $rc -eq 0 ] && grep -q '\"verdict\": \"different\"' $tmp/ft.json || { cat $tmp/ft.json $tmp/err; false; }"
    check "check fine-tune: comparison not-claimed" "relation $tmp/ft.json | grep -q '^not-claimed - endpoint endpoint different'"
fi
exit $fail
