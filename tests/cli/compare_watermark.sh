#!/usr/bin/env bash
# End-to-end: `compare TEACHER SUSPECT --watermark-key KEY.json` on the committed watermark
# fixtures (testdata/watermark; teacher stories260K): the 100% student is `distilled` with basis
# watermark, a control trained on unwatermarked teacher samples is not; a transcript suspect is
# tested by text detection; the key's hashing_key never reaches the JSON, the text, the signed
# report, the store or an error message; the store key covers the key's commitment (another key
# is not reused, the same key is); `fingerprint --watermark` and its determinism. Needs no Python.
set -u
MP="$1"; ROOT="$2"
STORIES="$ROOT/../shared/models/stories260K"
WM="$ROOT/testdata/watermark"
K="$WM/key.json"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export MODELPRINT_DB="$tmp/mp.db"
hk=$(sed -n 's/.*"hashing_key": *\([0-9]*\).*/\1/p' "$K")
check "fixture key read" "[ -n \"$hk\" ]"
relation() { sed -n '/"verdict": {/,/}/s/^    "relation": "\([^"]*\)".*/\1/p' "$1" | head -1; }
basis() { sed -n '/"verdict": {/,/}/s/^    "basis": "\([^"]*\)".*/\1/p' "$1" | head -1; }

# Teacher vs the 100% student: distilled, basis watermark (weights: different widths).
"$MP" compare "$STORIES" "$WM/models/wm100" --watermark-key "$K" --watermark-samples 32 --watermark-max-tokens 64 \
    --json > "$tmp/c100.json" 2> "$tmp/c100.err"; rc=$?
check "compare wm100 exit 0 (rc $rc: $(tail -1 $tmp/c100.err))" "[ $rc -eq 0 ]"
check "wm100 distilled, basis watermark ($(relation $tmp/c100.json) $(basis $tmp/c100.json))" \
    "[ \"$(relation $tmp/c100.json)\" = distilled ] && [ \"$(basis $tmp/c100.json)\" = watermark ]"
check "wm100 decided by the watermark section" "grep -q '\"decided_by\": \"watermark\"' $tmp/c100.json && grep -q '\"statistic\": \"watermark_open_model_z\"' $tmp/c100.json"
check "wm100 JSON carries the commitment, not the key" "grep -q '\"key_commitment\": \"[0-9a-f]\{64\}\"' $tmp/c100.json && ! grep -q \"$hk\" $tmp/c100.json"

# Teacher vs a control (unwatermarked teacher samples): not distilled.
"$MP" compare "$STORIES" "$WM/models/control_a" --watermark-key "$K" --watermark-samples 32 --watermark-max-tokens 64 \
    --json > "$tmp/ca.json" 2> /dev/null; rc=$?
check "compare control exit 0" "[ $rc -eq 0 ]"
check "control not distilled ($(relation $tmp/ca.json))" "[ \"$(relation $tmp/ca.json)\" != distilled ] && grep -q '\"verdict\": \"not-detected\"' $tmp/ca.json"

# Text output of the same comparison (reused from the store: same inputs, same key).
"$MP" compare "$STORIES" "$WM/models/wm100" --watermark-key "$K" --watermark-samples 32 --watermark-max-tokens 64 \
    > "$tmp/c100.txt" 2> "$tmp/reuse.err"
check "same key: stored comparison reused" "grep -q 'reusing stored comparison' $tmp/reuse.err && grep -q '^verdict      distilled' $tmp/c100.txt"
"$MP" compare "$STORIES" "$WM/models/wm100" --watermark-key "$K" --watermark-samples 32 --watermark-max-tokens 64 \
    --recompute > "$tmp/c100r.txt" 2> /dev/null
check "text: the watermark block" "grep -q '^watermark: distilled' $tmp/c100r.txt && grep -q 'commitment sha256:[0-9a-f]\{64\}' $tmp/c100r.txt && ! grep -q \"$hk\" $tmp/c100r.txt"
# Another key (same fields, another hashing_key): the store key differs, nothing is reused.
sed "s/$hk/12345/" "$K" > "$tmp/other.json"
"$MP" compare "$STORIES" "$WM/models/wm100" --watermark-key "$tmp/other.json" --watermark-samples 32 --watermark-max-tokens 64 \
    --json > "$tmp/other.json.out" 2> "$tmp/other.err"
check "another key: not reused, not distilled" "! grep -q 'reusing stored comparison' $tmp/other.err && [ \"$(relation $tmp/other.json.out)\" != distilled ]"

# Signed report: the commitment, never the key.
"$MP" keygen --out "$tmp/sk" > /dev/null
"$MP" compare "$STORIES" "$WM/models/wm100" --watermark-key "$K" --watermark-samples 32 --watermark-max-tokens 64 \
    --sign "$tmp/sk" --out "$tmp/r.json" > "$tmp/r.txt" 2> /dev/null; rc=$?
check "signed report exit 0" "[ $rc -eq 0 ] && [ -s $tmp/r.json ]"
"$MP" verify "$tmp/r.json" --pub "$tmp/sk.pub" > /dev/null 2>&1; rc=$?
check "signed report verifies" "[ $rc -eq 0 ]"
python3 - "$tmp/r.json" > "$tmp/r.payload" <<'PY' || fail=1
import base64, json, sys
b = json.load(open(sys.argv[1]))
st = json.loads(base64.b64decode(b["dsseEnvelope"]["payload"]))
p = st["predicate"]
titles = [s["title"] for s in p["sections"]]
assert "Keyed watermark evidence" in titles, titles
assert p["verdict"]["label"] == "distilled" and p["verdict"]["basis"] == "watermark", p["verdict"]
assert any(d["statistic"] == "watermark_open_model_z" for d in p["distributions"])
print(json.dumps(st))
PY
check "report predicate: the watermark section and its commitment, not the key" \
    "grep -q 'Keyed watermark evidence' $tmp/r.payload && grep -q 'sha256:[0-9a-f]\{64\}' $tmp/r.payload && ! grep -q \"$hk\" $tmp/r.payload"
check "report file and its text have no key" "! grep -q \"$hk\" $tmp/r.json $tmp/r.txt"
check "store holds comparisons but no key (db and wal)" "[ -s $MODELPRINT_DB ] && ! cat $MODELPRINT_DB* | grep -a -q \"$hk\""

# A transcript suspect: text detection over its responses.
"$MP" compare "$STORIES" "$WM/wm_teacher.jsonl" --watermark-key "$K" --json > "$tmp/t1.json" 2> /dev/null; rc=$?
check "transcript: exit 0, distilled basis watermark" "[ $rc -eq 0 ] && [ \"$(relation $tmp/t1.json)\" = distilled ] && [ \"$(basis $tmp/t1.json)\" = watermark ] && grep -q '\"mode\": \"text\"' $tmp/t1.json"
"$MP" compare "$STORIES" "$WM/clean_teacher.jsonl" --watermark-key "$K" --json > "$tmp/t2.json" 2> /dev/null
check "clean transcript: not distilled" "[ \"$(relation $tmp/t2.json)\" != distilled ] && grep -q '\"verdict\": \"not-detected\"' $tmp/t2.json"

# Bad input: a malformed key (the parser's message would quote its digits), --weights-only.
printf '{"greenlist_ratio":0.25,"bias":2.0,"hashing_key":%sx,"seeding_scheme":"lefthash","context_width":1}' "$hk" > "$tmp/bad.json"
"$MP" compare "$STORIES" "$WM/models/wm100" --watermark-key "$tmp/bad.json" 2> "$tmp/e1"; rc=$?
check "malformed key -> 4, key not quoted" "[ $rc -eq 4 ] && grep -q 'not valid JSON' $tmp/e1 && ! grep -q \"$hk\" $tmp/e1"
"$MP" compare "$STORIES" "$WM/models/wm100" --watermark-key "$K" --weights-only 2> "$tmp/e2"; rc=$?
check "--weights-only with a key -> 2" "[ $rc -eq 2 ] && grep -q 'weights-only' $tmp/e2"

# fingerprint --watermark: answers under the key, deterministic, detected; without it, not.
"$MP" watermark keygen --out "$tmp/fk.json" --vocab-size 512 > /dev/null
fhk=$(sed -n 's/.*"hashing_key":\([0-9]*\).*/\1/p' "$tmp/fk.json")
"$MP" fingerprint "$STORIES" --watermark "$tmp/fk.json" --transcript-out "$tmp/f1.jsonl" --json > "$tmp/f1.json" 2> "$tmp/f1.err"; rc=$?
check "fingerprint --watermark exit 0, not stored" "[ $rc -eq 0 ] && grep -q '\"stored\": false' $tmp/f1.json && grep -q '\"watermark_key_commitment\"' $tmp/f1.json && ! grep -q \"$fhk\" $tmp/f1.json $tmp/f1.err"
"$MP" fingerprint "$STORIES" --watermark "$tmp/fk.json" --transcript-out "$tmp/f2.jsonl" --json > /dev/null 2>&1
check "fingerprint --watermark deterministic" "cmp -s $tmp/f1.jsonl $tmp/f2.jsonl"
"$MP" watermark detect "$tmp/f1.jsonl" --key "$tmp/fk.json" --tokenizer "$STORIES" --json > "$tmp/fd1.json"
check "watermarked fingerprint transcript detected" "grep -q '^  \"verdict\": \"watermarked\"' $tmp/fd1.json"
"$MP" fingerprint "$STORIES" --no-store --transcript-out "$tmp/f0.jsonl" > /dev/null 2>&1
"$MP" watermark detect "$tmp/f0.jsonl" --key "$tmp/fk.json" --tokenizer "$STORIES" --json > "$tmp/fd0.json"
check "plain fingerprint transcript not detected" "grep -q '^  \"verdict\": \"not-detected\"' $tmp/fd0.json"
exit $fail
