#!/usr/bin/env bash
# Source-tree checks run by ctest: no source file over 1,500 lines; `#if MP_WITH_CUDA` in exactly
# one file (the backend factory); no third-party headers in our public headers.
set -u
ROOT="$2"
cd "$ROOT" || exit 1
fail=0
while read -r n f; do
    [ "$f" = "total" ] && continue
    if [ "$n" -gt 1500 ]; then echo "FAIL: $f has $n lines (limit 1500)"; fail=1; fi
done < <(git ls-files -co --exclude-standard '*.cpp' '*.h' '*.cu' '*.cuh' | xargs -r wc -l)
n_cuda=$(grep -rl --include='*.cpp' --include='*.h' --include='*.cu' '#if MP_WITH_CUDA' fingerprint cuda forensics db cli 2>/dev/null | wc -l)
if [ "$n_cuda" -gt 1 ]; then echo "FAIL: '#if MP_WITH_CUDA' appears in $n_cuda files (limit 1)"; fail=1; fi
bad=$(grep -lE '#include [<"](nlohmann|sqlite3|openssl|faiss|cuda_runtime|cublas|CLI/|curl/)' $(git ls-files -co --exclude-standard 'fingerprint/*.h' 'forensics/*.h' 'db/*.h') 2>/dev/null | grep -v 'fingerprint/base/json.h' || true)
if [ -n "$bad" ]; then echo "FAIL: third-party headers included from public headers: $bad"; fail=1; fi
[ $fail -eq 0 ] && echo "source checks passed"
exit $fail
