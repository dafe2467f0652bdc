#!/usr/bin/env bash
# The HTML report in a real browser: builds a signed comparison report (heatmap of per-layer
# similarities, two behaviour statistics against their backgrounds), exports it as HTML from the
# store, loads it in headless Chromium (Debian `chromium`) and checks the rendered DOM holds the
# verdict and both kinds of inline SVG, then takes a screenshot. Skips with the reason when
# chromium is absent. MODELPRINT_UPDATE_SCREENSHOT=1 copies the screenshot to docs/images/.
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROME" ]; then echo "SKIP: chromium not installed (apt-get install chromium)"; exit 0; fi
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export MODELPRINT_DB="$tmp/mp.db"
cd "$tmp" || exit 1

# A sample predicate (deterministic numbers; the shape `compare` writes, see forensics/report.h).
awk 'BEGIN {
  srand(7); L = 8; split("q k v o gate up down", r, " ");
  printf "{\"verdict\":{\"label\":\"derived\",\"subtype\":\"fine-tuned\",\"confidence\":\"0.998\",";
  printf "\"decided_by\":\"weight similarity vs 24 independent pairs (Fisher-combined p = 1.2e-41)\",";
  printf "\"summary\":\"Every layer of B stays within cosine 0.93 of A; independent same-architecture pairs stay below 0.05.\"},";
  printf "\"models\":[{\"role\":\"A\",\"name\":\"stories260K\",\"architecture\":\"llama\",\"parameters\":\"260032\",\"root_digest\":\"adc9117d46b942c1b70b53e7d03e883967623fe9736f41de92ff2f4ee83d6f86\"},";
  printf "{\"role\":\"B\",\"name\":\"stories260K-ft\",\"architecture\":\"llama\",\"parameters\":\"260032\",\"root_digest\":\"%064d\"}],", 1;
  printf "\"heatmaps\":[{\"title\":\"Per-layer weight cosine similarity (A vs B)\",\"x_label\":\"tensor role\",\"y_label\":\"layer\",\"min\":\"0\",\"max\":\"1\",\"x_labels\":[";
  for (j = 1; j <= 7; j++) printf "%s\"%s\"", (j > 1 ? "," : ""), r[j];
  printf "],\"y_labels\":["; for (i = 0; i < L; i++) printf "%s\"%d\"", (i ? "," : ""), i;
  printf "],\"values\":[";
  for (i = 0; i < L; i++) { printf "%s[", (i ? "," : "");
    for (j = 1; j <= 7; j++) printf "%s\"%.4f\"", (j > 1 ? "," : ""), 0.999 - 0.008 * i - 0.004 * j * rand();
    printf "]" }
  printf "]}],\"distributions\":[";
  printf "{\"title\":\"Candidate log-likelihood of the reference outputs\",\"statistic\":\"z-score\",\"observed\":\"6.10\",\"p_value\":\"5.3e-10\",\"note\":\"background: 24 independent models\",\"background\":[";
  for (i = 0; i < 24; i++) printf "%s\"%.3f\"", (i ? "," : ""), (rand() + rand() + rand() - 1.5) * 1.4;
  printf "]},{\"title\":\"Greedy continuation overlap\",\"statistic\":\"token overlap\",\"observed\":\"0.41\",\"p_value\":\"0.004\",\"background\":[";
  for (i = 0; i < 24; i++) printf "%s\"%.3f\"", (i ? "," : ""), 0.12 + 0.08 * (rand() + rand() - 1);
  printf "]}],\"sections\":[{\"title\":\"Identity\",\"text\":\"No file or tensor is byte-identical.\",\"columns\":[\"check\",\"result\"],\"rows\":[[\"files identical\",\"0 of 6\"],[\"tensors identical\",\"0 of 47\"]]}]}\n";
}' > pred.json
"$MP" keygen --out k > /dev/null
"$MP" report create --subject "A: stories260K=adc9117d46b942c1b70b53e7d03e883967623fe9736f41de92ff2f4ee83d6f86" \
    --subject "B: stories260K-ft=$(printf '%064d' 1)" --predicate pred.json --sign k --out r.json > /dev/null
rc=$?; check "report create" "[ $rc -eq 0 ]"
"$MP" report export 1 --format html --out report.html 2> /dev/null; rc=$?
check "export html" "[ $rc -eq 0 ] && [ -s report.html ]"
"$MP" report export 1 --format json --out back.json 2> /dev/null
check "json export is the stored bytes" "cmp -s back.json r.json"
"$MP" report export 1 --format md --out report.md 2> /dev/null
check "markdown export" "grep -q '^## Verdict' report.md"

flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$tmp/profile")
timeout 120 "$CHROME" "${flags[@]}" --dump-dom "file://$tmp/report.html" > dom.html 2> chrome.err
check "chromium renders the page" "[ -s dom.html ]"
check "DOM has the verdict" "grep -q 'derived' dom.html"
check "DOM has heatmap + 2 histograms" "[ \$(grep -o '<svg' dom.html | wc -l) -eq 3 ]"
check "DOM has 56 heatmap cells" "[ \$(grep -o '<rect x=\"[0-9]*\" y=\"[0-9]*\" width' dom.html | wc -l) -ge 56 ]"
timeout 120 "$CHROME" "${flags[@]}" --window-size=1100,1900 --screenshot="$tmp/report.png" \
    "file://$tmp/report.html" > /dev/null 2>> chrome.err
check "screenshot written" "[ -s report.png ] && [ \$(stat -c %s report.png) -gt 20000 ]"
check "screenshot is a PNG" "head -c 8 report.png | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
if [ "${MODELPRINT_UPDATE_SCREENSHOT:-0}" = 1 ] && [ -s report.png ]; then
    mkdir -p "$ROOT/docs/images" && cp report.png "$ROOT/docs/images/report.png" && cp report.html "$ROOT/docs/images/report.html"
fi
[ $fail -eq 0 ] && echo "HTML report checks passed" || cat chrome.err | tail -5
exit $fail
