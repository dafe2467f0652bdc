#!/usr/bin/env bash
# End-to-end: `modelprint tokenize` on SentencePiece tokenizer.model files — the whole corpus
# through each committed model in one process, equal line for line to the `sentencepiece`
# goldens (testdata/tokenizer/spm, make_spm_golden.py); a model directory with tokenizer.model
# and tokenizer_config.json (BOS added); exit 4 for a corrupt and for an unsupported model.
set -u
MP="$1"; ROOT="$2"
TD="$ROOT/testdata/tokenizer"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for name in unigram_nfkc unigram_bytes bpe_nfkc bpe_identity llama2_like gemma_like; do
  "$MP" tokenize "$TD/spm/$name.model" --input "$TD/corpus.jsonl" > "$tmp/$name.jsonl"; rc=$?
  check "$name corpus exit 0" "[ $rc -eq 0 ]"
  grep -o '"ids":\[[^]]*\]' "$tmp/$name.jsonl" | sed 's/^"ids"://' > "$tmp/$name.got"
  grep -o '"n": \[[^]]*\]' "$TD/spm/golden_$name.jsonl" | sed 's/^"n": //; s/ //g' > "$tmp/$name.want"
  check "$name corpus: one line per entry" "[ \$(wc -l < $tmp/$name.got) -eq \$(wc -l < $TD/corpus.jsonl) ]"
  check "$name corpus ids equal the sentencepiece goldens" "cmp -s $tmp/$name.got $tmp/$name.want"
done

mkdir "$tmp/llama"
cp "$TD/spm/llama2_like.model" "$tmp/llama/tokenizer.model"
printf '{"add_bos_token": true, "bos_token": "<s>"}' > "$tmp/llama/tokenizer_config.json"
"$MP" tokenize "$tmp/llama" --text "Hello world" --json > "$tmp/l.json"; rc=$?
check "model directory exit 0" "[ $rc -eq 0 ]"
check "BOS then the sentencepiece ids" "grep -qF '{\"ids\":[1,355,415,280,367,357,355,403,357,360,367,370],\"pieces\":[\"<s>\",\"▁\",' $tmp/l.json"

printf '\x0a\x09\x0a\x05<unk>\x18\x02\x0f' > "$tmp/llama/tokenizer.model"
"$MP" tokenize "$tmp/llama" --text a 2> "$tmp/err"; rc=$?
check "corrupt tokenizer.model -> exit 4" "[ $rc -eq 4 ] && grep -q 'tokenizer.model: ModelProto: field 1 at byte 11: invalid wire type 7' $tmp/err"
printf '\x0a\x09\x0a\x05<unk>\x18\x02\x12\x02\x18\x03' > "$tmp/word.model"
"$MP" tokenize "$tmp/word.model" --text a 2> "$tmp/err"; rc=$?
check "WORD model -> exit 4" "[ $rc -eq 4 ] && grep -q 'model_type WORD is not supported' $tmp/err"
exit $fail
