#!/usr/bin/env bash
# End-to-end: inspect and hash on real files, JSON keys, and exit codes for bad input and flags.
set -u
MP="$1"; ROOT="$2"
STORIES="$ROOT/../shared/models/stories260K"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$MP" inspect "$STORIES" --json > "$tmp/i.json"; rc=$?
check "inspect exit 0" "[ $rc -eq 0 ]"
check "inspect json keys" "python3 -c \"import json,sys; j=json.load(open('$tmp/i.json')); assert j['format']=='safetensors' and j['architecture']=='llama' and j['parameters']==260032 and len(j['tensors'])==47 and set(j['tensors'][0])>={'name','role','dtype','shape'}\" 2>/dev/null || grep -q '\"parameters\": 260032' $tmp/i.json"
"$MP" inspect "$STORIES/stories260K.gguf" > "$tmp/g.txt"; check "inspect gguf" "grep -q 'format        gguf' $tmp/g.txt"
"$MP" hash "$STORIES" --json > "$tmp/h.json"
check "hash root digest" "grep -q '\"root_digest\": \"adc9117d46b942c1b70b53e7d03e883967623fe9736f41de92ff2f4ee83d6f86\"' $tmp/h.json"
check "hash tensors listed" "[ \$(grep -c '\"sha256\"' $tmp/h.json) -eq 53 ]"

"$MP" inspect "$tmp/missing" 2>"$tmp/err"; rc=$?
check "missing file -> exit 4" "[ $rc -eq 4 ] && grep -q 'no such file' $tmp/err"
printf 'garbage-not-a-model' > "$tmp/bad.safetensors"
"$MP" inspect "$tmp/bad.safetensors" 2>"$tmp/err"; rc=$?
check "corrupt file -> exit 4 with message" "[ $rc -eq 4 ] && grep -q 'bad.safetensors: header length' $tmp/err"
head -c 1000 "$STORIES/stories260K.gguf" > "$tmp/trunc.gguf"
"$MP" inspect "$tmp/trunc.gguf" 2>"$tmp/err"; rc=$?
check "truncated gguf -> exit 4" "[ $rc -eq 4 ] && grep -q 'trunc.gguf' $tmp/err"
"$MP" inspect --no-such-flag "$STORIES" 2>/dev/null; rc=$?
check "bad flag -> exit 2" "[ $rc -eq 2 ]"
"$MP" hash --threads -3 "$STORIES" 2>/dev/null; rc=$?
check "bad flag value -> exit 2" "[ $rc -eq 2 ]"
[ $fail -eq 0 ] && echo "intake CLI checks passed"
exit $fail
