#!/usr/bin/env bash
# End-to-end: `modelprint logits` and `modelprint generate` on stories260K (safetensors and GGUF)
# and a tiny fixture: JSON shape, golden argmax / greedy ids (shared/models/stories260K/golden.json),
# --text through the tokenizer, and exit codes for bad ids, a too-long sequence, bad flags and
# --device cuda on a build without CUDA. Needs no Python.
set -u
MP="$1"; ROOT="$2"
STORIES="$ROOT/../shared/models/stories260K"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Full rows: 2 positions x 512 logits; the first row's largest logit is token 403 ("Once").
"$MP" logits "$STORIES" --ids 1,403 --json > "$tmp/l.json"; rc=$?
check "logits exit 0" "[ $rc -eq 0 ]"
check "logits ids" "grep -q '\"ids\": \[1, 403\]' $tmp/l.json"
check "logits 2 rows of 512" "[ \$(sed -n 2p $tmp/l.json | tr -d '[] ' | tr ',' '\\n' | grep -c .) -eq 512 ] && [ \$(sed -n 3p $tmp/l.json | tr -d '[] ' | tr ',' '\\n' | grep -c .) -eq 512 ]"
check "logits timings" "grep -q '\"timings\": {\"load_s\": [0-9.]*, \"prefill_tokens\": 2, \"prefill_s\": [0-9.]*, \"decode_tokens\": 0, \"decode_s\": 0' $tmp/l.json"
# --top-k on the GGUF twin: [id, logit] pairs, argmax 403 then 407 (golden greedy).
"$MP" logits "$STORIES/stories260K.gguf" --ids 1,403 --top-k 3 --json > "$tmp/k.json"
check "top-k gguf rows" "sed -n 2p $tmp/k.json | grep -q '^  \[\[403, 17.02' && sed -n 3p $tmp/k.json | grep -q '^  \[\[407, 18.4'"
# --text through the tokenizer (BOS added by the post-processor).
"$MP" logits "$STORIES" --text "Once upon a time" --top-k 1 --json > "$tmp/t.json"
check "text ids" "grep -q '\"ids\": \[1, 403, 407, 261, 378\]' $tmp/t.json"
# Greedy generation equals golden.json's 20 new ids from <s>.
"$MP" generate "$STORIES" --ids 1 --max-tokens 20 --json > "$tmp/g.json"
check "generate golden ids" "grep -q '\"tokens\": \[403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337\]' $tmp/g.json"
check "generate timings" "grep -q '\"prefill_tokens\": 1, \"prefill_s\": [0-9.]*, \"decode_tokens\": 19, \"decode_s\": ' $tmp/g.json"
check "generate text" "grep -q '\"text\": \"Once upon a time, there was a little girl named Lily. She loved to play\"' $tmp/g.json"
"$MP" generate "$STORIES/stories260K.gguf" --prompt "Once upon a time" --max-tokens 4 > "$tmp/p.txt"; rc=$?
check "generate --prompt gguf" "[ $rc -eq 0 ] && grep -q 'there was a' $tmp/p.txt"
"$MP" generate "$ROOT/testdata/models/gpt2" --ids 5,6,7 --max-tokens 3 --json > "$tmp/f.json"; rc=$?
check "generate fixture without tokenizer" "[ $rc -eq 0 ] && grep -q '\"tokens\": \[' $tmp/f.json"

"$MP" logits "$STORIES" --ids 1,512 2> "$tmp/e1"; rc=$?
check "id out of range -> 4" "[ $rc -eq 4 ] && grep -q 'token id 512 at position 1' $tmp/e1"
long=$(seq -s, 1 513 | sed 's/[0-9]\+/5/g')
"$MP" logits "$STORIES" --ids "$long" 2> "$tmp/e2"; rc=$?
check "too long -> 4" "[ $rc -eq 4 ] && grep -q '513 tokens exceed the context window of 512' $tmp/e2"
"$MP" logits "$STORIES" 2> "$tmp/e3"; rc=$?
check "no ids nor text -> 2" "[ $rc -eq 2 ] && grep -q 'exactly one of --ids and --text' $tmp/e3"
"$MP" logits "$STORIES" --ids 1,x 2> "$tmp/e4"; rc=$?
check "bad id list -> 2" "[ $rc -eq 2 ] && grep -q 'not a comma-separated list' $tmp/e4"
"$MP" logits "$ROOT/testdata/models/gpt2" --text "hi" 2> "$tmp/e5"; rc=$?
check "text without tokenizer -> error naming it" "[ $rc -ne 0 ] && grep -q 'tokenizer' $tmp/e5"
"$MP" logits "$STORIES" --ids 1 --device cuda > /dev/null 2> "$tmp/e6"; rc=$?
check "--device cuda: ok on a GPU build, else exit 6" "[ $rc -eq 0 ] || { [ $rc -eq 6 ] && grep -qi 'cuda\|gpu' $tmp/e6; }"
"$MP" logits "$STORIES" --ids 1 --device tpu 2> "$tmp/e7"; rc=$?
check "unknown device -> 2" "[ $rc -eq 2 ] && grep -q 'unknown device' $tmp/e7"
exit $fail
