#!/usr/bin/env bash
# Regenerates the measured tables of docs/watermark.md from the committed fixtures
# (testdata/watermark, written by make_watermark.py):
#   bash testdata/gen/watermark_table.sh build/modelprint [SAMPLES [SEEDS]]
# Per model: generation-mode and open-model p-values (teacher reference: sqrt(positions)-weighted,
# the decisive test, and equal weights; log-ratio; plain), and for the models that never saw the
# key the calibration over 100 random keys (--null-keys, KS test). SAMPLES: suspect samples of the
# default prompts (256, the default of the command); SEEDS: sampling seeds of the 10%-student repeat table (0 1 2 3 4).
set -u
MP="$1"
S="${2:-256}"
SEEDS="${3:-0 1 2 3 4}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WM="$ROOT/testdata/watermark"
T="$ROOT/../shared/models/stories260K"
K="$WM/key.json"
num() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$1" "$2"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "Suspect samples: $S of the default prompts, 96 new tokens, seed 0."
echo
echo "| model | contamination | generation: green fraction, log10 p | open-model p_s − p_t, √n weights (decisive): z, log10 p | p_s − p_t, equal weights: z, log10 p | log-ratio: z, log10 p | plain: z, log10 p |"
echo "|---|---|---|---|---|---|---|"
for m in wm100 wm10 wm1 control_a control_b wm100_bytes control_bytes; do
    c=$(python3 -c "import json; print(json.load(open('$WM/manifest.json'))['models']['$m']['contamination'])")
    "$MP" watermark detect "$WM/models/$m" --key "$K" --teacher "$T" --max-tokens 96 --samples "$S" --threads 1 --json > "$tmp/$m.json" || continue
    g=$(num "$tmp/$m.json" "'%.3f, %.2f' % (j['tests'][0]['green_fraction'], j['tests'][0]['log10_p'])")
    r=$(num "$tmp/$m.json" "'%.2f, %.2f' % (j['tests'][1]['z'], j['tests'][1]['log10_p'])")
    l=$(num "$tmp/$m.json" "'%.2f, %.2f' % (j['tests'][2]['z'], j['tests'][2]['log10_p'])")
    p=$(num "$tmp/$m.json" "'%.2f, %.2f' % (j['tests'][3]['z'], j['tests'][3]['log10_p'])")
    e=$(num "$tmp/$m.json" "'%.2f, %.2f' % (j['tests'][4]['z'], j['tests'][4]['log10_p'])")
    echo "| $m | $c | $g | $r | $e | $l | $p |"
done
echo
echo "The 10% student over sampling seeds ($S samples): decisive z, log10 p | equal weights z, log10 p."
echo
echo "| seed | √n weights: z, log10 p | equal weights: z, log10 p |"
echo "|---|---|---|"
for seed in $SEEDS; do
    "$MP" watermark detect "$WM/models/wm10" --key "$K" --teacher "$T" --max-tokens 96 --samples "$S" --seed "$seed" --threads 1 --json > "$tmp/s.json" || continue
    echo "| $seed | $(num "$tmp/s.json" "'%.2f, %.2f | %.2f, %.2f' % (j['tests'][1]['z'], j['tests'][1]['log10_p'], j['tests'][4]['z'], j['tests'][4]['log10_p'])") |"
done
echo
echo "Calibration: the same models under 100 random keys (KS test of the p-values against uniform)."
echo
echo "| model | test | KS D | KS p | min p | p < 1e-3 |"
echo "|---|---|---|---|---|---|"
for m in "$WM/models/control_a" "$WM/models/control_b" "$WM/models/control_bytes" "$T" "$ROOT/testdata/lineage/base" "$ROOT/testdata/lineage/indep_data"; do
    [ -d "$m" ] || continue
    "$MP" watermark detect "$m" --key "$K" --teacher "$T" --max-tokens 96 --samples "$S" --threads 1 --null-keys 100 > "$tmp/null.json" || continue
    for t in generation open_model open_model_equal open_model_logratio open_model_plain; do
        row=$(num "$tmp/null.json" "'%.3f | %.3f | %.2g | %d' % (j['$t']['ks_d'], j['$t']['ks_p'], j['$t']['min_p'], j['$t']['below_1e-3'])")
        echo "| $(basename "$m") | $t | $row |"
    done
done
echo
echo "Text: the committed transcripts (12 teacher samples each, 96 tokens)."
echo
echo "| transcript | scored | green fraction | z | log10 p | verdict |"
echo "|---|---|---|---|---|---|"
for f in wm_teacher clean_teacher; do
    "$MP" watermark detect "$WM/$f.jsonl" --key "$K" --tokenizer "$T" --json > "$tmp/t.json"
    echo "| $f (pooled) | $(num "$tmp/t.json" "'%d | %.3f | %.2f | %.2f | %s' % (j['scored'], j['green_fraction'], j['z'], j['log10_p'], j['verdict'])") |"
done
