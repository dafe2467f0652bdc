#!/usr/bin/env bash
# Interoperability with Hugging Face transformers' watermark (PyPI torch + transformers, test
# time only, installed by scripts/setup with MODELPRINT_SETUP_PYTHON=1). Skips (exit 0, with the
# reason) when they cannot be imported. Label "slow" (Python start-up). On stories260K, for a
# lefthash key and a selfhash key of width 3:
#   transformers' WatermarkLogitsProcessor generates -> modelprint detects it (p < 1e-6 lefthash,
#   p < 1e-3 selfhash, 400 tokens);
#   modelprint generate --watermark -> transformers' WatermarkDetector gives the same z-score,
#   green count and scored count as modelprint, with de-duplication off and on.
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
STORIES="$ROOT/../shared/models/stories260K"
PY="$ROOT/tests/cli/watermark_interop.py"
if ! python3 -c "import torch, transformers; from transformers import WatermarkDetector" > /dev/null 2>&1; then
    echo "SKIP: python packages torch/transformers not installed (MODELPRINT_SETUP_PYTHON=1 scripts/setup)"
    exit 0
fi
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
num() { sed -n "s/^  \"$1\": \([^,]*\),*$/\1/p" "$2" | head -1; }
pynum() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$2" "$1"; }

"$MP" watermark keygen --out "$tmp/left.json" --vocab-size 512 > /dev/null
"$MP" watermark keygen --out "$tmp/self.json" --vocab-size 512 --seeding-scheme selfhash --context-width 3 > /dev/null
for key in left self; do
    K="$tmp/$key.json"
    # transformers generates, modelprint detects.
    # (selfhash biases only the green ids among the 40 best candidates: a weaker watermark on
    # this 512-token model, measured log10 p about -3.3 at 250 tokens; the bound is -3 at 400.)
    ids=$(python3 "$PY" generate "$K" "$STORIES" 400 11 2> /dev/null | tail -1)
    "$MP" watermark detect --ids "$ids" --key "$K" --tokenizer "$STORIES" --json > "$tmp/a.json"
    lp=$(num log10_p "$tmp/a.json")
    bound=-6; [ $key = self ] && bound=-3
    check "$key: transformers-watermarked ids detected (log10 p $lp < $bound)" "awk -v x=\"$lp\" -v b=$bound 'BEGIN{exit !(x < b)}'"
    # modelprint generates, transformers detects with the same statistics.
    "$MP" generate "$STORIES" --ids 1 --max-tokens 200 --temperature 1 --seed 9 --watermark "$K" --json > "$tmp/g.json"
    gids=$(python3 -c "import json,sys; g=json.load(open(sys.argv[1])); print(','.join(map(str, g['prompt_ids'] + g['tokens'])))" "$tmp/g.json")
    for mode in nodedup dedup; do
        flag=""; pyflag=""
        if [ $mode = nodedup ]; then flag="--no-dedup"; else pyflag="--dedup"; fi
        "$MP" watermark detect --ids "$gids" --key "$K" --tokenizer "$STORIES" $flag --json > "$tmp/m.json"
        python3 "$PY" detect "$K" "$STORIES" "$gids" $pyflag 2> /dev/null | tail -1 > "$tmp/t.json"
        zm=$(num z "$tmp/m.json"); zt=$(pynum z "$tmp/t.json")
        sm=$(num scored "$tmp/m.json"); st=$(pynum scored "$tmp/t.json")
        gm=$(num green "$tmp/m.json"); gt=$(pynum green "$tmp/t.json")
        check "$key $mode: same scored ($sm/$st) and green ($gm/$gt)" "[ \"$sm\" = \"$st\" ] && [ \"$gm\" = \"$gt\" ]"
        check "$key $mode: same z ($zm / $zt)" "awk -v a=\"$zm\" -v b=\"$zt\" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(d < 1e-9)}'"
    done
done
exit $fail
