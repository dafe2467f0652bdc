#!/usr/bin/env bash
# End-to-end: `index add` with explicit vectors for three model files, `search -k` (text and
# --json) ranks them by cosine similarity, leaves the query model out, and shows a stored
# comparison's verdict; bad vectors and a missing vector give clear errors.
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
S="$ROOT/../shared/models/stories260K"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export MODELPRINT_DB="$tmp/mp.db"
cd "$tmp" || exit 1
echo '[1, 0, 0, 0.1]' > a.json; echo '[0.9, 0.1, 0, 0.1]' > b.json; echo '[0, 1, 0, 0]' > c.json
"$MP" index add "$S" --vector a.json --name stories > /dev/null; rc=$?
check "index add dir" "[ $rc -eq 0 ]"
"$MP" index add "$S/stories260K.gguf" --vector b.json --name gguf-twin > /dev/null
"$MP" index add "$S/model.safetensors" --vector c.json --name st-file > /dev/null
"$MP" search "$S" -k 5 > out.txt; rc=$?
check "search exit 0" "[ $rc -eq 0 ]"
check "nearest is the gguf twin" "sed -n 3p out.txt | grep -q 'gguf-twin'"
check "query model left out" "! grep -q ' stories ' out.txt"
"$MP" search "$S" -k 1 --json > out.json
check "json: one result with similarity 0.99" "grep -q '\"similarity\": \"0.99' out.json && [ \$(grep -c root_digest out.json) -eq 2 ]"
check "json: no verdict without a comparison" "grep -q '\"verdict\": null' out.json"
echo '[0, 0, 0, 0]' > zero.json
"$MP" index add "$S" --vector zero.json 2> err.txt; rc=$?
check "zero vector -> exit 2" "[ $rc -eq 2 ] && grep -q 'zero vector' err.txt"
echo '[1, 2]' > short.json
"$MP" index add "$S/stories260K.gguf" --vector short.json 2> err.txt; rc=$?
check "dimension mismatch -> exit 2" "[ $rc -eq 2 ] && grep -q '2 components' err.txt"
echo '[1, x]' > bad.json
"$MP" index add "$S" --vector bad.json 2> err.txt; rc=$?
check "bad vector file -> exit 4" "[ $rc -eq 4 ] && grep -q 'not a number' err.txt"
"$MP" index add "$S" 2> err.txt; rc=$?
check "computed 768-dim vector vs stored 4-dim ones -> exit 2" "[ $rc -eq 2 ] && grep -q 'has 768 components but the stored weight-stats vectors have 4' err.txt"
"$MP" index add "$S" --kind behaviour 2> err.txt; rc=$?
check "no vector for another kind -> exit 6" "[ $rc -eq 6 ] && grep -q 'weight-stats and behavior vectors are computed' err.txt"
"$MP" search "$S/model.safetensors" -k 0 2> /dev/null; rc=$?
check "-k 0 -> exit 2" "[ $rc -eq 2 ]"
[ $fail -eq 0 ] && echo "index/search CLI checks passed"
exit $fail
