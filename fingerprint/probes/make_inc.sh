#!/bin/sh
# Regenerates default_v1.inc and default_v2.inc (the C++ raw-string embeddings of
# default_v1.jsonl and default_v2.jsonl) after an edit of a data file. Run from anywhere:
# sh fingerprint/probes/make_inc.sh. tests/probes_test.cpp fails when they disagree.
set -eu
d=$(dirname "$0")
for v in v1 v2; do
  {
    printf '// GENERATED from default_%s.jsonl by make_inc.sh; do not edit.\n' "$v"
    printf 'R"MPPROBES('
    cat "$d/default_$v.jsonl"
    printf ')MPPROBES"\n'
  } > "$d/default_$v.inc.tmp"
  mv "$d/default_$v.inc.tmp" "$d/default_$v.inc"
done
