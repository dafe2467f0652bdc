#!/usr/bin/env bash
# End-to-end: `modelprint tokenize` on real tokenizers — text and JSON output, a whole JSONL
# corpus in one process matching the committed HF goldens line for line, GGUF input, chat
# templates, and exit codes for bad flags and bad input. Needs no Python.
set -u
MP="$1"; ROOT="$2"
SHARED="$ROOT/../shared"
TD="$ROOT/testdata/tokenizer"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$MP" tokenize "$SHARED/tokenizers/qwen3" --text "Hello world" > "$tmp/t.txt"; rc=$?
check "text exit 0" "[ $rc -eq 0 ]"
check "text ids" "grep -q 'ids        \[9707, 1879\]' $tmp/t.txt"
check "text pieces" "grep -q '\"Ġworld\"' $tmp/t.txt"
"$MP" tokenize "$SHARED/models/stories260K" --text "Hello world" --json > "$tmp/s.json"
check "json with BOS" "grep -qF '{\"ids\":[1,346,306,414,263,304,341],\"pieces\":[\"<s>\",\"▁He\",' $tmp/s.json"
"$MP" tokenize "$SHARED/models/stories260K/stories260K.gguf" --text "Hello world" --no-special --json > "$tmp/g.json"
check "gguf, no special" "grep -qF '{\"ids\":[346,306,414,263,304,341]' $tmp/g.json"

# The whole golden corpus (342 entries, incl. invalid UTF-8 as {\"hex\"}) in one process.
for name in gpt2 llama3; do
  "$MP" tokenize "$SHARED/tokenizers/$name/tokenizer.json" --input "$TD/corpus.jsonl" > "$tmp/$name.jsonl"; rc=$?
  check "$name corpus exit 0" "[ $rc -eq 0 ]"
  grep -o '"ids":\[[^]]*\]' "$tmp/$name.jsonl" | sed 's/^"ids"://' > "$tmp/$name.got"
  grep -o '"s":\[[^]]*\]' "$TD/golden_$name.jsonl" | sed 's/^"s"://' > "$tmp/$name.want"
  check "$name corpus: one line per entry" "[ \$(wc -l < $tmp/$name.got) -eq \$(wc -l < $TD/corpus.jsonl) ]"
  check "$name corpus ids equal the HF goldens" "cmp -s $tmp/$name.got $tmp/$name.want"
done

"$MP" tokenize "$SHARED/tokenizers/qwen3" --text "Hi" --chat-template auto --json > "$tmp/c.json"
check "chatml prompt" "grep -qF '\"pieces\":[\"<|im_start|>\",\"user\",\"Ċ\",\"Hi\",\"<|im_end|>\",\"Ċ\",\"<|im_start|>\",\"assistant\",\"Ċ\"]' $tmp/c.json"
"$MP" tokenize "$SHARED/tokenizers/gpt2" --text "Hi" --chat-template auto --json > "$tmp/n.json" 2> "$tmp/err"
check "no template -> plain text + warning" "grep -q 'warning: the tokenizer has no chat template' $tmp/err && grep -qF '{\"ids\":[17250]' $tmp/n.json"

"$MP" tokenize "$SHARED/tokenizers/gpt2" 2> "$tmp/err"; rc=$?
check "no --text/--input -> exit 2" "[ $rc -eq 2 ] && grep -q 'give --text' $tmp/err"
"$MP" tokenize "$SHARED/tokenizers/gpt2" --text a --input "$TD/corpus.jsonl" 2>/dev/null; rc=$?
check "--text with --input -> exit 2" "[ $rc -eq 2 ]"
"$MP" tokenize "$SHARED/tokenizers/gpt2" --text a --chat-template vicuna 2> "$tmp/err"; rc=$?
check "unknown template -> exit 2" "[ $rc -eq 2 ] && grep -q \"unknown chat template 'vicuna'\" $tmp/err"
"$MP" tokenize "$tmp/missing" --text a 2> "$tmp/err"; rc=$?
check "missing tokenizer -> exit 4" "[ $rc -eq 4 ] && grep -q 'does not exist' $tmp/err"
printf '"ok"\n[1,2]\n' > "$tmp/bad.jsonl"
"$MP" tokenize "$SHARED/tokenizers/gpt2" --input "$tmp/bad.jsonl" > "$tmp/out" 2> "$tmp/err"; rc=$?
check "bad JSONL line -> exit 4 naming the line" "[ $rc -eq 4 ] && grep -q 'bad.jsonl line 2' $tmp/err"
printf '{"model": {"type": "Unigram", "vocab": []}}' > "$tmp/tokenizer.json"
"$MP" tokenize "$tmp/tokenizer.json" --text a 2> "$tmp/err"; rc=$?
check "unsupported model -> exit 4" "[ $rc -eq 4 ] && grep -q \"unsupported tokenizer component: model 'Unigram'\" $tmp/err"
[ $fail -eq 0 ] && echo "tokenize CLI checks passed"
exit $fail
