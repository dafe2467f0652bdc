#!/usr/bin/env bash
# `endpoint probe` against a tiny fake OpenAI server (tests/util/fake_openai.py): exit codes of
# docs/errors.md for 401/404/429/500, a Retry-After honoured, malformed and truncated JSON, a
# server ignoring logprobs, an unknown model, an unreachable endpoint, a TLS failure; the API key
# sent but never printed or written; an interrupted run leaves only whole lines and resumes.
# Skips (exit 0, with the reason) without python3.
set -u
MP=$(realpath "$1"); ROOT=$(realpath "$2")
if ! command -v python3 > /dev/null; then echo "SKIP: python3 not found"; exit 0; fi
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
start_fake() {  # $1 port file, extra args
    python3 "$ROOT/tests/util/fake_openai.py" --port-file "$1" "${@:2}" > /dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do [ -s "$1" ] && break; sleep 0.1; done
    cat "$1"
}
port=$(start_fake "$tmp/port")
B="http://127.0.0.1:$port"
printf '%s\n' '{"id": "a", "prompt": "Once upon"}' '{"id": "b", "prompt": "The dog"}' \
    '{"id": "c", "prompt": "Lily saw"}' > "$tmp/p.jsonl"
export MODELPRINT_QUIET=1
probe() {  # $1 mode (first path segment), $2 out file, rest: extra flags
    "$MP" endpoint probe "$B/$1" --model fake-model --probes "$tmp/p.jsonl" --out "$2" \
        --retries 1 --timeout 10 "${@:3}" > "$tmp/out" 2> "$tmp/err"
}
lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

probe ok "$tmp/ok.jsonl" --samples 2 --logprobs 2; rc=$?
check "ok: exit 0" "[ $rc -eq 0 ]"
check "ok: 3 lines" "[ $(lines "$tmp/ok.jsonl") -eq 3 ]"
check "ok: samples, logprobs, served model, fingerprint" \
    "python3 -c \"import json,sys; L=[json.loads(l) for l in open('$tmp/ok.jsonl')]; sys.exit(not all(len(x['samples'])==2 and x['samples'][0]['logprobs'] and x['system_fingerprint']=='fp_fake' and x['sampling']['temperature']==1.0 for x in L))\""
probe ok "$tmp/ok.jsonl" --samples 2 --logprobs 2; rc=$?
check "rerun: nothing probed again" "[ $rc -eq 0 ] && grep -q '0 prompts probed now, 3 already' $tmp/out"

# The API key: sent to the server, absent from every output.
export MP_TEST_KEY="sk-test-SECRET-4242"
probe ok "$tmp/key.jsonl" --api-key-env MP_TEST_KEY --concurrency 3 --rps 50 --samples 2; rc=$?
check "key: exit 0" "[ $rc -eq 0 ]"
check "key: sent as a bearer token" "grep -q 'auth=Bearer sk-test-SECRET-4242' $tmp/port.log"
check "key: not in the transcript or outputs" "! grep -q SECRET $tmp/key.jsonl $tmp/out $tmp/err"
printf 'sk-test-SECRET-4242\n' > "$tmp/keyfile"
probe echo401 "$tmp/e.jsonl" --api-key-file "$tmp/keyfile"; rc=$?
check "401 echoing the key: exit 6" "[ $rc -eq 6 ]"
check "401 echoing the key: key not shown" "! grep -q SECRET $tmp/err $tmp/out"
probe ok "$tmp/x.jsonl" --api-key-env MP_UNSET_VARIABLE_X; rc=$?
check "unset key variable: exit 2" "[ $rc -eq 2 ] && grep -q 'not set' $tmp/err"

probe s401 "$tmp/s401.jsonl"; rc=$?
check "401: exit 6" "[ $rc -eq 6 ] && grep -q 'refused the credentials' $tmp/err"
probe s404 "$tmp/s404.jsonl"; rc=$?
check "404: exit 4" "[ $rc -eq 4 ] && grep -q 'HTTP 404' $tmp/err"
probe s500 "$tmp/s500.jsonl"; rc=$?
check "500: exit 5" "[ $rc -eq 5 ] && grep -q 'HTTP 500' $tmp/err"
probe s429 "$tmp/s429.jsonl"; rc=$?
check "429: exit 5" "[ $rc -eq 5 ] && grep -q 'HTTP 429' $tmp/err"
probe wait "$tmp/wait.jsonl"; rc=$?
check "429 Retry-After 3600: exit 5, says so" "[ $rc -eq 5 ] && grep -q 'retry after 3600' $tmp/err"
probe flaky "$tmp/flaky.jsonl"; rc=$?
check "429 then ok (Retry-After 1 honoured): exit 0" "[ $rc -eq 0 ] && [ $(lines "$tmp/flaky.jsonl") -eq 3 ]"
probe malformed "$tmp/mal.jsonl"; rc=$?
check "malformed JSON: exit 4" "[ $rc -eq 4 ] && grep -q 'not valid JSON' $tmp/err"
check "malformed JSON: no line" "[ $(lines "$tmp/mal.jsonl") -eq 0 ]"
probe truncated "$tmp/tr.jsonl"; rc=$?
check "truncated JSON: exit 4" "[ $rc -eq 4 ] && grep -q 'truncated' $tmp/err"
check "truncated JSON: no line" "[ $(lines "$tmp/tr.jsonl") -eq 0 ]"
probe nologprobs "$tmp/nl.jsonl" --logprobs 3; rc=$?
check "server ignoring logprobs: exit 4" "[ $rc -eq 4 ] && grep -q 'ignores' $tmp/err"
check "server ignoring logprobs: no line" "[ $(lines "$tmp/nl.jsonl") -eq 0 ]"
"$MP" endpoint probe "$B/ok" --model no-such-model --probes "$tmp/p.jsonl" --out "$tmp/u.jsonl" > /dev/null 2> "$tmp/err"; rc=$?
check "unknown model: exit 4, names the served ones" "[ $rc -eq 4 ] && grep -q 'does not serve model \"no-such-model\" (it lists: fake-model)' $tmp/err"
"$MP" endpoint probe "http://127.0.0.1:1" --model m --probes "$tmp/p.jsonl" --out "$tmp/un.jsonl" --retries 1 > /dev/null 2> "$tmp/err"; rc=$?
check "unreachable: exit 5" "[ $rc -eq 5 ] && grep -q 'unreachable' $tmp/err"

# TLS: a self-signed certificate is refused unless --insecure.
if command -v openssl > /dev/null && openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
        -days 1 -keyout "$tmp/k.pem" -out "$tmp/c.pem" > /dev/null 2>&1; then
    tport=$(start_fake "$tmp/tport" --tls-cert "$tmp/c.pem" --tls-key "$tmp/k.pem")
    "$MP" endpoint probe "https://127.0.0.1:$tport/ok" --model fake-model --probes "$tmp/p.jsonl" --out "$tmp/tls.jsonl" > /dev/null 2> "$tmp/err"; rc=$?
    check "TLS self-signed: exit 3" "[ $rc -eq 3 ] && grep -q 'TLS failure' $tmp/err"
    "$MP" endpoint probe "https://127.0.0.1:$tport/ok" --model fake-model --probes "$tmp/p.jsonl" --out "$tmp/tls.jsonl" --ca-file "$tmp/c.pem" > /dev/null 2> "$tmp/err"; rc=$?
    check "TLS with its CA given: exit 0 (name 127.0.0.1 vs CN localhost refused -> 3 is also a TLS error)" "[ $rc -eq 0 ] || grep -q 'TLS failure' $tmp/err"
    "$MP" endpoint probe "https://127.0.0.1:$tport/ok" --model fake-model --probes "$tmp/p.jsonl" --out "$tmp/tls2.jsonl" --insecure > /dev/null 2> "$tmp/err"; rc=$?
    check "TLS --insecure: exit 0" "[ $rc -eq 0 ] && grep -q 'not verified' $tmp/err"
fi

# Interrupted run: whole lines only, then a rerun completes each id once.
"$MP" endpoint probe "$B/slow" --model fake-model --probes "$tmp/p.jsonl" --out "$tmp/int.jsonl" --samples 3 > /dev/null 2>&1 &
ppid=$!
sleep 1.4
kill -TERM "$ppid"; wait "$ppid" 2> /dev/null
n=$(lines "$tmp/int.jsonl")
check "interrupted: fewer than 3 lines ($n)" "[ $n -lt 3 ]"
check "interrupted: every line whole JSON" "python3 -c \"import json; [json.loads(l) for l in open('$tmp/int.jsonl')]\" 2> /dev/null || [ $n -eq 0 ]"
printf '{"id": "a", "prom' >> "$tmp/int.jsonl"  # as if killed inside a write
"$MP" endpoint probe "$B/slow" --model fake-model --probes "$tmp/p.jsonl" --out "$tmp/int.jsonl" --samples 3 > "$tmp/out" 2> "$tmp/err"; rc=$?
check "resume: exit 0, torn line cut" "[ $rc -eq 0 ] && grep -q 'torn last line' $tmp/err"
check "resume: each id once" "python3 -c \"import json,sys; ids=[json.loads(l)['id'] for l in open('$tmp/int.jsonl')]; sys.exit(sorted(ids)!=['a','b','c'])\""
exit $fail
