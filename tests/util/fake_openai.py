#!/usr/bin/env python3
"""A tiny fake OpenAI-compatible server for the endpoint error tests (no model behind it).

usage: fake_openai.py --port-file F [--tls-cert C --tls-key K]
The first path segment picks the behaviour, so one server answers every case:
  /ok/v1/...          models list ("fake-model", owned_by vllm) and legacy-layout completions
  /nologprobs/v1/...  completions without logprobs even when asked
  /s401 /s404 /s500   that HTTP status with an OpenAI error body
  /s429/v1/...        429 with Retry-After: 0 (retried, always failing)
  /flaky/v1/...       429 with Retry-After: 1 on the first completion request, then ok
  /wait/v1/...        429 with Retry-After: 3600 (longer than modelprint waits)
  /malformed /truncated   200 with a body that is not JSON / cut in the middle
  /slow/v1/...        ok, but each completion takes 0.3 s (for interrupting a run)
  /echo401/v1/...     401 whose body echoes the Authorization header (must never be shown)
Every request line and its Authorization header are appended to <port-file>.log.
"""
import argparse
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

flaky_seen = set()
lock = threading.Lock()


def completion(body, logprobs=True, chat=False):
    n = body.get("max_tokens", 4)
    words = [" once", " upon", " a", " time", " there", " was"]
    toks = [words[(i + body.get("seed", 0)) % len(words)] for i in range(min(n, 6))]
    choice = {"index": 0, "text": "".join(toks), "finish_reason": "length"}
    if logprobs and body.get("logprobs") is not None and body.get("logprobs") is not False:
        choice["logprobs"] = {"tokens": toks, "token_logprobs": [-0.5] * len(toks),
                              "top_logprobs": [{t: -0.5, " x": -2.0} for t in toks],
                              "text_offset": list(range(len(toks)))}
    else:
        choice["logprobs"] = None
    if chat:
        choice["message"] = {"role": "assistant", "content": choice.pop("text")}
        if choice["logprobs"]:
            choice["logprobs"] = {"content": [{"token": t, "logprob": -0.5, "bytes": list(t.encode()),
                                               "top_logprobs": [{"token": t, "logprob": -0.5}]} for t in toks]}
    return {"id": "cmpl-1", "object": "text_completion", "model": body.get("model", ""),
            "system_fingerprint": "fp_fake", "choices": [choice]}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, payload, headers=None):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, body):
        with open(self.server.log_path, "a") as f:
            f.write(f"{self.command} {self.path} auth={self.headers.get('Authorization', '')}\n")
        parts = self.path.strip("/").split("/")
        mode, rest = parts[0], "/".join(parts[1:])
        err = lambda code, msg: self.send(code, {"error": {"message": msg, "type": "x", "code": code}})
        if mode == "s401":
            return err(401, "Incorrect API key provided")
        if mode == "echo401":
            return err(401, "Incorrect API key provided: " + self.headers.get("Authorization", ""))
        if mode == "s404":
            return err(404, "The model `fake-model` does not exist")
        if mode == "s500":
            return err(500, "internal server error")
        if mode == "s429":
            return self.send(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0"})
        if mode == "wait":
            return self.send(429, {"error": {"message": "rate limited"}}, {"Retry-After": "3600"})
        if rest == "v1/models":
            return self.send(200, {"object": "list", "data": [{"id": "fake-model", "object": "model",
                                                               "owned_by": "vllm"}]})
        if rest not in ("v1/completions", "v1/chat/completions"):
            return err(404, "no such path")
        if mode == "malformed":
            return self.send(200, b"<html>this is not json</html>")
        if mode == "truncated":
            return self.send(200, json.dumps(completion(body))[:40].encode())
        if mode == "flaky":
            key = (body.get("seed"), body.get("prompt"))
            with lock:
                first = key not in flaky_seen
                flaky_seen.add(key)
            if first:
                return self.send(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"})
        if mode == "slow":
            time.sleep(0.3)
        return self.send(200, completion(body, logprobs=(mode != "nologprobs"),
                                         chat=rest.endswith("chat/completions")))

    def do_GET(self):
        self.handle_any({})

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        self.handle_any(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.log_path = a.port_file + ".log"
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.replace(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
