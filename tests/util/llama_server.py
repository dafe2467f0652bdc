#!/usr/bin/env python3
"""Start llama.cpp's server (PyPI xllamacpp) on 127.0.0.1 on a free port, for the endpoint tests.

usage: llama_server.py --model FILE.gguf --alias NAME --port-file F [--api-key KEY] [--threads N]
Writes the port to --port-file once the server listens, then serves until SIGTERM/SIGINT or
until stdin reaches EOF (when --stdin-lifetime is given); the server is stopped on the way out.
Exit 77 when xllamacpp cannot be imported (callers skip with the reason printed).
"""
import argparse
import os
import signal
import socket
import sys
import threading


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--alias", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--api-key", default="")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--stdin-lifetime", action="store_true")
    a = ap.parse_args()
    try:
        import xllamacpp as x
    except Exception as e:  # noqa: BLE001
        print(f"SKIP: python package xllamacpp not importable ({e}); scripts/setup installs it",
              file=sys.stderr)
        return 77
    p = x.CommonParams()
    p.model.path = a.model
    p.model_alias = {a.alias} if isinstance(getattr(p, "model_alias", None), (set, list)) else a.alias
    p.hostnames = ["127.0.0.1"]
    p.n_parallel = a.parallel
    p.n_ctx = a.ctx * a.parallel
    p.cpuparams.n_threads = a.threads
    p.cpuparams_batch.n_threads = a.threads
    p.warmup = False
    if a.api_key:
        p.api_keys = [a.api_key]
    p.port = free_port()
    srv = x.Server(p)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{p.port}\n")
    os.replace(tmp, a.port_file)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    if a.stdin_lifetime:
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    while not done.wait(0.2):
        pass
    del srv
    return 0


if __name__ == "__main__":
    sys.exit(main())
