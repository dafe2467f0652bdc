#!/usr/bin/env bash
# End-to-end, the way a user runs it (issue 15 items 5-7): `modelprint fingerprint` each known
# independent model into a fresh --db, then `modelprint compare` with no flags. The store is the
# background: base's transcript vs its distilled student is `distilled` with the six stored
# models as participants; a stored model whose context (12 tokens) cannot hold the probes is
# dropped with its reason; a model the store records as derived from A (finetune, after
# `compare base finetune`) is excluded; a --background member without tokenizer.json is dropped
# while the verdict still comes from the others; --no-store-background leaves too little
# background; a transcript of the auditor's own prompts becomes the probe set and the stored
# models are run again on it.
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
L="$ROOT/testdata/lineage"; B="$ROOT/testdata/behavior/models"; T="$ROOT/testdata/behavior/base_transcript.jsonl"
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
DB="--db $tmp/fresh.db"
q() { python3 -c "import json,sys; d=json.load(open('$1')); print(eval(sys.argv[1]))" "$2"; }

# Fixtures: a copy with a 12-token context window, a copy without tokenizer.json.
cp -r "$B/control_seq2" short_ctx
python3 - <<'EOF'
import json
c = json.load(open("short_ctx/config.json")); c["max_position_embeddings"] = 12
json.dump(c, open("short_ctx/config.json", "w"), indent=2)
EOF
cp -r "$B/control_seq" no_tokenizer && rm no_tokenizer/tokenizer.json

for m in "$L/indep_seed" "$L/indep_width" "$L/indep_arch" "$B/control_seq" "$B/control_seq2" \
         "$B/control_bytes" "$tmp/short_ctx"; do
    "$MP" --quiet $DB fingerprint "$m" > /dev/null; rc=$?
    check "fingerprint $(basename "$m"): exit 0" "[ $rc -eq 0 ]"
done

# 1. No flags, text: transcript of base vs its student.
"$MP" --quiet $DB compare "$T" "$B/student_seq2" > st.txt; rc=$?
check "store background, text: exit 0" "[ $rc -eq 0 ]"
check "store background finds the distilled student" "head -1 st.txt | grep -q '^verdict *distilled'"
check "text lists the six store participants" "grep -q 'background: 6 participants (6 from the store, 0 from --background)' st.txt"
check "text names a participant" "grep 'background: 6' st.txt | grep -q 'control_bytes'"
check "text: short-context member dropped with reason" "grep -q 'dropped: $tmp/short_ctx — context too short' st.txt"

# 3. --background adds to the store; its member without a tokenizer is dropped, verdict stands.
"$MP" --quiet $DB compare "$T" "$B/student_seq2" --background "$tmp/no_tokenizer" --json > nt.json; rc=$?
check "no-tokenizer member: exit 0" "[ $rc -eq 0 ]"
check "no-tokenizer member: still distilled" "[ \"\$(q nt.json 'd[\"verdict\"][\"relation\"]')\" = distilled ]"
check "no-tokenizer member: dropped with reason" "[ \"\$(q nt.json 'sorted(\"tokenizer\" in x[\"reason\"] for x in d[\"evidence\"][\"behavior\"][\"background\"][\"dropped\"])')\" = '[False, True]' ]"
check "no-tokenizer member: 6 participants" "[ \"\$(q nt.json 'len(d[\"evidence\"][\"behavior\"][\"background\"][\"participants\"])')\" = 6 ]"

# 4. --no-store-background: only --background (none): too little background.
"$MP" --quiet $DB compare "$T" "$B/student_seq2" --no-store-background --json > off.json; rc=$?
check "--no-store-background: exit 0" "[ $rc -eq 0 ]"
check "--no-store-background: unknown" "[ \"\$(q off.json 'd[\"verdict\"][\"relation\"]')\" = unknown ]"

# 5. A transcript of the auditor's own prompts: its prompts become the probe set and the stored
#    models are run again on them from their source paths.
cat > own.jsonl <<'EOF'
{"id": "own0", "prompt": "Once upon a time there was a red ball that"}
{"id": "own1", "prompt": "The little girl looked at the sky and"}
{"id": "own2", "prompt": "Tom had a big dog. One day the dog"}
{"id": "own3", "prompt": "In the park, the children found a"}
{"id": "own4", "prompt": "Mom said it was time to go to bed, but"}
{"id": "own5", "prompt": "The cat climbed up the tree because"}
{"id": "own6", "prompt": "Lily wanted to bake a cake for her"}
{"id": "own7", "prompt": "The boy and his friend went to the river to"}
{"id": "own8", "prompt": "A small bird sat on the window and"}
{"id": "own9", "prompt": "When the sun came up, the farmer"}
{"id": "own10", "prompt": "Ben was sad because his toy"}
{"id": "own11", "prompt": "The old man told the kids a story about"}
{"id": "own12", "prompt": "Sara found a shiny stone in the garden and"}
{"id": "own13", "prompt": "The fish swam to the bottom of the lake to"}
{"id": "own14", "prompt": "After lunch, the two friends decided to"}
EOF
"$MP" --quiet fingerprint "$L/base" --probes own.jsonl --no-store --transcript-out api.jsonl > /dev/null
check "own transcript written" "[ -f api.jsonl ] && [ \$(wc -l < api.jsonl) -eq 15 ]"
"$MP" --quiet $DB compare api.jsonl "$B/student_seq2" --json > own.json; rc=$?
check "own prompts: exit 0" "[ $rc -eq 0 ]"
check "own prompts: 15 probes" "[ \"\$(q own.json 'd[\"evidence\"][\"behavior\"][\"probe_set\"][\"probes\"]')\" = 15 ]"
check "own prompts: origin is the transcript" "q own.json 'd[\"evidence\"][\"behavior\"][\"probe_set\"][\"origin\"]' | grep -q 'prompts of transcript api.jsonl'"
check "own prompts: stored models run again (6 participants)" "[ \"\$(q own.json 'len(d[\"evidence\"][\"behavior\"][\"background\"][\"participants\"])')\" = 6 ]"
check "own prompts: student scored on them" "[ \"\$(q own.json 'd[\"evidence\"][\"behavior\"][\"cross_likelihood\"][\"b_given_a\"][\"probes\"]')\" = 15 ]"

# finetune in the store, and recorded as derived from base (a comparison in the store).
"$MP" --quiet $DB fingerprint "$L/finetune" > /dev/null; rc=$?
check "fingerprint finetune: exit 0" "[ $rc -eq 0 ]"
"$MP" --quiet $DB compare "$L/base" "$L/finetune" --weights-only --json > ft.json; rc=$?
check "base/finetune recorded as derived" "[ $rc -eq 0 ] && grep -q '\"relation\": \"derived\"' ft.json"

# 2. No flags, JSON, model vs model (weights + behaviour): finetune excluded as base's relative.
"$MP" --quiet $DB compare "$L/base" "$B/student_seq2" --json > full.json; rc=$?
check "store background, json: exit 0" "[ $rc -eq 0 ]"
check "json: distilled" "[ \"\$(q full.json 'd[\"verdict\"][\"relation\"]')\" = distilled ]"
check "json: 6 participants" "[ \"\$(q full.json 'len(d[\"evidence\"][\"behavior\"][\"background\"][\"participants\"])')\" = 6 ]"
check "json: participants from the store" "[ \"\$(q full.json 'sorted(set(m[\"source\"] for m in d[\"evidence\"][\"behavior\"][\"background\"][\"members\"]))')\" = \"['store']\" ]"
check "json: members carry root digests" "[ \"\$(q full.json 'all(len(m[\"root_digest\"]) == 64 for m in d[\"evidence\"][\"behavior\"][\"background\"][\"members\"])')\" = True ]"
check "json: dropped is [{name, reason}]" "[ \"\$(q full.json '[(x[\"name\"].endswith(\"short_ctx\"), \"context too short\" in x[\"reason\"]) for x in d[\"evidence\"][\"behavior\"][\"background\"][\"dropped\"]]')\" = '[(True, True)]' ]"
check "json: finetune excluded (derived from base)" "[ \"\$(q full.json '[(x[\"name\"].endswith(\"finetune\"), \"derived\" in x[\"reason\"]) for x in d[\"evidence\"][\"behavior\"][\"background\"][\"excluded\"]]')\" = '[(True, True)]' ]"
check "json: finetune not a participant" "! q full.json 'd[\"evidence\"][\"behavior\"][\"background\"][\"participants\"]' | grep -q finetune"

[ $fail -eq 0 ] && echo "store background CLI checks passed"
exit $fail
