#!/usr/bin/env bash
# Crash consistency: `modelprint report import` of a large multi-row report (an ~8 MB statement
# with 2,000 subjects: one reports row + 2,000 report_subjects rows in one transaction) is killed
# with SIGKILL at a random moment, RUNS times in a row. After every kill the database must open,
# pass PRAGMA integrity_check and foreign_key_check, hold only complete reports (2,000 subjects
# each, bytes matching their recorded SHA-256, checked by `report list`), and accept the next
# write. Prints "runs=N kills=K completed=C corruptions=0" (docs/store.md records the figures).
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
RUNS=${MODELPRINT_CRASH_RUNS:-25}
if ! command -v sqlite3 > /dev/null; then echo "SKIP: sqlite3 command line not installed"; exit 0; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export MODELPRINT_DB="$tmp/mp.db"
cd "$tmp" || exit 1
head -c 6000000 /dev/urandom | base64 -w0 > pad.txt
subjects() {
    local i
    for ((i = 0; i < 2000; i++)); do
        [ $i -gt 0 ] && printf ','
        printf '{"name":"m%d","digest":{"sha256":"%064x"}}' "$i" "$((i + $1 * 10000))"
    done
}
make_report() {  # $1 = run number
    { printf '{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://modelprint.dev/comparison/v1","subject":['
      subjects "$1"
      printf '],"predicate":{"run":"%d","padding":"' "$1"; cat pad.txt; printf '"}}\n'; } > "r$1.json"
}
kills=0; completed=0; corruptions=0
for ((run = 1; run <= RUNS; run++)); do
    make_report "$run"
    "$MP" report import "r$run.json" > /dev/null 2>&1 &
    pid=$!
    # Random delay 0..999 ms (an import takes ~0.3-0.7 s): before, during or after the write.
    sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
    kill -9 "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null; st=$?
    if [ $st -eq 137 ]; then kills=$((kills + 1)); elif [ $st -eq 0 ]; then completed=$((completed + 1)); fi
    : > err.txt
    # A kill before the schema's first commit leaves no database, or one without tables: nothing
    # was written, which is consistent; `report list` below must then still work.
    tables=0
    if [ -s "$MODELPRINT_DB" ]; then
        tables=$(sqlite3 "$MODELPRINT_DB" "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'reports';" 2>&1)
    fi
    ic=ok; fk=; partial=0
    if [ "$tables" != "0" ]; then
        ic=$(sqlite3 "$MODELPRINT_DB" "PRAGMA integrity_check;" 2>&1)
        fk=$(sqlite3 "$MODELPRINT_DB" "PRAGMA foreign_key_check;" 2>&1)
        partial=$(sqlite3 "$MODELPRINT_DB" "SELECT count(*) FROM reports r WHERE (SELECT count(*) FROM report_subjects s WHERE s.report_id = r.id) != 2000;" 2>&1)
    fi
    if [ "$ic" != "ok" ] || [ -n "$fk" ] || [ "$partial" != "0" ] || ! "$MP" report list > /dev/null 2> err.txt; then
        corruptions=$((corruptions + 1))
        echo "run $run: integrity='$ic' fk='$fk' partial='$partial' list: $(cat err.txt)"
    fi
    rm -f "r$run.json"
done
# The database still takes writes after all of that.
make_report 0
if ! "$MP" report import r0.json > /dev/null 2> err.txt; then
    corruptions=$((corruptions + 1))
    echo "final import failed: $(cat err.txt)"
fi
stored=$(sqlite3 "$MODELPRINT_DB" "SELECT count(*) FROM reports;")
echo "runs=$RUNS kills=$kills completed=$completed stored=$stored corruptions=$corruptions"
# Say which condition failed (a failure under load once left no trace).
[ "$kills" -gt 0 ] || echo "no import was killed in $RUNS runs: the test did not exercise a crash"
[ "$corruptions" -eq 0 ] && [ "$kills" -gt 0 ]
