#!/usr/bin/env bash
# End-to-end: `modelprint watermark keygen|detect` and `generate --watermark` on stories260K:
# the 0600 key file and its commitment (the key itself never printed), watermarked generation
# detected (p < 1e-6 at 300 tokens) and unwatermarked not, de-duplication, a too-short text
# `inconclusive` with the tokens needed, the committed transcripts of testdata/watermark, model
# mode on an unwatermarked model, and bad input: malformed keys, a key bound to another
# vocabulary, a suspect sharing too few token strings. Needs no Python.
set -u
MP="$1"; ROOT="$2"
STORIES="$ROOT/../shared/models/stories260K"
GPT2="$ROOT/../shared/tokenizers/gpt2"
WM="$ROOT/testdata/watermark"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$MP" watermark keygen --out "$tmp/k.json" --vocab-size 512 > "$tmp/kg.txt"; rc=$?
check "keygen exit 0" "[ $rc -eq 0 ]"
check "keygen mode 0600" "[ \"\$(stat -c %a $tmp/k.json)\" = 600 ]"
hk=$(sed -n 's/.*"hashing_key":\([0-9]*\).*/\1/p' "$tmp/k.json")
check "key has transformers field names" "grep -q '\"greenlist_ratio\":0.25' $tmp/k.json && grep -q '\"seeding_scheme\":\"lefthash\"' $tmp/k.json && grep -q '\"context_width\":1' $tmp/k.json && [ -n \"$hk\" ]"
check "keygen prints the commitment only" "grep -q 'commitment sha256:[0-9a-f]\{64\}' $tmp/kg.txt && ! grep -q \"$hk\" $tmp/kg.txt"
"$MP" watermark keygen --out "$tmp/k.json" 2> "$tmp/e0"; rc=$?
check "keygen refuses to overwrite -> 6" "[ $rc -eq 6 ] && grep -q 'refusing to overwrite' $tmp/e0"

# Watermarked and plain generation (seeded sampling), detected as text.
"$MP" generate "$STORIES" --ids 1 --max-tokens 300 --temperature 1 --seed 4 --watermark "$tmp/k.json" --json > "$tmp/g.json"; rc=$?
check "generate --watermark exit 0" "[ $rc -eq 0 ] && grep -q '\"watermark_key_commitment\": \"[0-9a-f]\{64\}\"' $tmp/g.json && ! grep -q \"$hk\" $tmp/g.json"
"$MP" generate "$STORIES" --ids 1 --max-tokens 300 --temperature 1 --seed 4 --watermark "$tmp/k.json" --json > "$tmp/g2.json"
# Everything but the wall-clock timings must be equal.
strip_timings() { sed 's/, "timings": {[^}]*}//' "$1"; }
check "watermarked generation deterministic" "[ \"\$(strip_timings $tmp/g.json)\" = \"\$(strip_timings $tmp/g2.json)\" ] && grep -q '\"timings\"' $tmp/g.json"
sed -n 's/.*"text": "\(.*\)", "watermark_key_commitment".*/\1/p' "$tmp/g.json" > "$tmp/wm.txt"
"$MP" generate "$STORIES" --ids 1 --max-tokens 300 --temperature 1 --seed 4 > "$tmp/plain.txt"
"$MP" watermark detect "$tmp/wm.txt" --key "$tmp/k.json" --tokenizer "$STORIES" --json > "$tmp/d1.json"; rc=$?
check "detect watermarked text" "[ $rc -eq 0 ] && grep -q '\"verdict\": \"watermarked\"' $tmp/d1.json && grep -q '\"mode\": \"text\"' $tmp/d1.json"
lp=$(sed -n 's/^  "log10_p": \(.*\),/\1/p' "$tmp/d1.json")
check "watermarked text p < 1e-6 (log10 p $lp)" "awk -v x=\"$lp\" 'BEGIN{exit !(x < -6)}'"
check "detect JSON carries no key" "! grep -q \"$hk\" $tmp/d1.json && grep -q '\"key_commitment\"' $tmp/d1.json"
"$MP" watermark detect "$tmp/plain.txt" --key "$tmp/k.json" --tokenizer "$STORIES" --json > "$tmp/d2.json"
check "plain text not detected" "grep -q '\"verdict\": \"not-detected\"' $tmp/d2.json"
"$MP" watermark detect "$tmp/wm.txt" --key "$tmp/k.json" --tokenizer "$STORIES" --no-dedup --json > "$tmp/d3.json"
s1=$(sed -n 's/^  "scored": \(.*\),/\1/p' "$tmp/d1.json"); s3=$(sed -n 's/^  "scored": \(.*\),/\1/p' "$tmp/d3.json")
check "dedup scores fewer tokens ($s1 < $s3)" "[ \"$s1\" -lt \"$s3\" ]"
printf 'Once upon' > "$tmp/short.txt"
"$MP" watermark detect "$tmp/short.txt" --key "$tmp/k.json" --tokenizer "$STORIES" > "$tmp/d4.txt"; rc=$?
check "short text inconclusive with tokens needed" "[ $rc -eq 0 ] && grep -q 'inconclusive ([0-9]* more scored tokens needed)' $tmp/d4.txt"
printf '' > "$tmp/empty.txt"
"$MP" watermark detect "$tmp/empty.txt" --key "$tmp/k.json" --tokenizer "$STORIES" --json > "$tmp/d5.json"
check "empty text inconclusive" "grep -q '\"verdict\": \"inconclusive\"' $tmp/d5.json && grep -q '\"tokens_needed\"' $tmp/d5.json"

# The committed fixtures: teacher samples watermarked by transformers' WatermarkLogitsProcessor.
if [ -f "$WM/wm_teacher.jsonl" ]; then
    "$MP" watermark detect "$WM/wm_teacher.jsonl" --key "$WM/key.json" --tokenizer "$STORIES" --json > "$tmp/t1.json"
    check "transformers-watermarked transcript detected (pooled)" "grep -q '^  \"verdict\": \"watermarked\"' $tmp/t1.json && [ \$(grep -c '\"id\": \"s#' $tmp/t1.json) -eq 12 ]"
    "$MP" watermark detect "$WM/clean_teacher.jsonl" --key "$WM/key.json" --tokenizer "$STORIES" --json > "$tmp/t2.json"
    check "clean transcript not detected" "grep -q '^  \"verdict\": \"not-detected\"' $tmp/t2.json"
fi

# Radioactivity of the committed students (docs/watermark.md): the 100% student and the
# cross-tokenizer student are detected (open-model p < 1e-6), a control is not.
if [ -d "$WM/models/wm100" ]; then
    for m in wm100 wm100_bytes control_a; do
        "$MP" watermark detect "$WM/models/$m" --key "$WM/key.json" --teacher "$STORIES" --samples 64 --max-tokens 96 --json > "$tmp/r_$m.json"
    done
    lp=$(sed -n 's/^  "log10_p": \(.*\),/\1/p' "$tmp/r_wm100.json")
    check "100% student radioactive (log10 p $lp)" "grep -q '\"distilled\": true' $tmp/r_wm100.json && awk -v x=\"$lp\" 'BEGIN{exit !(x < -6)}'"
    check "cross-tokenizer student radioactive" "grep -q '\"distilled\": true' $tmp/r_wm100_bytes.json && grep -q '\"cross_tokenizer\": true' $tmp/r_wm100_bytes.json"
    check "control not radioactive" "grep -q '\"distilled\": false' $tmp/r_control_a.json"
fi

# Model mode: the teacher itself never saw the key.
"$MP" watermark detect "$STORIES" --key "$tmp/k.json" --teacher-tokenizer "$STORIES" --samples 64 --max-tokens 64 --json > "$tmp/m1.json"; rc=$?
check "model mode on an unwatermarked model" "[ $rc -eq 0 ] && grep -q '\"distilled\": false' $tmp/m1.json && grep -q '\"mode\": \"generation\"' $tmp/m1.json && grep -q '\"green_mass\"' $tmp/m1.json && ! grep -q \"$hk\" $tmp/m1.json"

# Bad input.
printf '{"greenlist_ratio": 0.25}' > "$tmp/bad1.json"
"$MP" watermark detect "$tmp/wm.txt" --key "$tmp/bad1.json" --tokenizer "$STORIES" 2> "$tmp/e1"; rc=$?
check "key missing fields -> 4" "[ $rc -eq 4 ] && grep -q 'missing field \"bias\"' $tmp/e1"
printf 'not json' > "$tmp/bad2.json"
"$MP" watermark detect "$tmp/wm.txt" --key "$tmp/bad2.json" --tokenizer "$STORIES" 2> "$tmp/e2"; rc=$?
check "key not JSON -> 4" "[ $rc -eq 4 ]"
"$MP" watermark detect "$tmp/wm.txt" --key "$tmp/k.json" --tokenizer "$GPT2" 2> "$tmp/e3"; rc=$?
check "key bound to another vocabulary -> 2" "[ $rc -eq 2 ] && grep -q 'vocabulary (512 ids) does not match the tokenizer' $tmp/e3"
"$MP" watermark keygen --out "$tmp/k2.json" --greenlist-ratio 1.5 2> "$tmp/e4"; rc=$?
check "keygen bad ratio -> 4, no file" "[ $rc -eq 4 ] && [ ! -f $tmp/k2.json ]"
"$MP" watermark keygen --out "$tmp/k3.json" > /dev/null
"$MP" watermark detect "$STORIES" --key "$tmp/k3.json" --teacher-tokenizer "$GPT2" --max-tokens 8 2> "$tmp/e5"; rc=$?
check "too few shared strings -> 6" "[ $rc -eq 6 ] && grep -q 'shares [0-9]* token strings' $tmp/e5"
"$MP" watermark detect "$tmp/wm.txt" --key "$tmp/k.json" 2> "$tmp/e6"; rc=$?
check "text without tokenizer -> 2" "[ $rc -eq 2 ] && grep -q 'needs --tokenizer' $tmp/e6"
exit $fail
