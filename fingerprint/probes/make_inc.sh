#!/bin/sh
# Regenerates default_v1.inc (the C++ raw-string embedding of default_v1.jsonl) after an edit of
# the data file. Run from anywhere: sh fingerprint/probes/make_inc.sh. tests/probes_test.cpp
# fails when the two disagree.
set -eu
d=$(dirname "$0")
{
  printf '// GENERATED from default_v1.jsonl by make_inc.sh; do not edit.\n'
  printf 'R"MPPROBES('
  cat "$d/default_v1.jsonl"
  printf ')MPPROBES"\n'
} > "$d/default_v1.inc.tmp"
mv "$d/default_v1.inc.tmp" "$d/default_v1.inc"
