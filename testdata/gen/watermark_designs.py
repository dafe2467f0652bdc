#!/usr/bin/env python3
"""Design study for the open-model radioactivity test (issue 20, the 10% target): which text the
suspect reads and how the per-context statistics are weighted. Prototype in torch of the test in
forensics/watermark_model.cpp (the same per-context statistic: the suspect's minus the teacher's
next-token probabilities summed per lefthash context, its green sum standardised with the exact
without-replacement mean and variance over random green lists), evaluated under the fixture key
and under 100 random keys (KS against uniform, min p, count below 1e-3).

Texts (all key-independent, so random-key calibration is valid):
  suspect   the suspect's own samples (64 prompts as `watermark detect`, here BOS-only, 96 tokens)
  teacher   fresh unwatermarked samples of the teacher (seed 909, never used in training)
Weights of the per-context z's (Stouffer):
  equal     w = 1 (the current test)
  sqrt_n    w = sqrt(positions of the context)
  n         w = positions of the context
  pooled    sum of the centred green sums over sum of their variances (w = sd)
Reading mode (teacher's watermarked text under the fixture key) is reported with the real key
only: its contexts depend on the key, so random keys cannot calibrate it.

Run: nice -n 10 python3 testdata/gen/watermark_designs.py [N_SAMPLES [SEED [SOURCES]]]
     (torch threads 1; SOURCES a comma list of suspect,teacher,reading)
"""
import json, math, os, sys
import torch
from transformers import LlamaForCausalLM, LogitsProcessorList
from transformers.generation.logits_process import WatermarkLogitsProcessor

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WM = os.path.join(ROOT, "testdata", "watermark")
T = os.path.join(os.path.dirname(ROOT), "shared", "models", "stories260K")
KEY = json.load(open(os.path.join(WM, "key.json")))
V, G = 512, 128
PI = G / V
NS = int(sys.argv[1]) if len(sys.argv) > 1 else 128
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else 5  # the suspect's sampling seed
SOURCES = sys.argv[3].split(",") if len(sys.argv) > 3 else ["suspect", "teacher", "reading"]
L = 96


def norm_sf(z):
    return 0.5 * math.erfc(z / math.sqrt(2))


def log10_norm_sf(z):
    p = norm_sf(z)
    if p > 1e-300:
        return math.log10(p)
    return (-z * z / 2 - math.log(z * math.sqrt(2 * math.pi))) / math.log(10)


def ks_uniform(p):
    """one-sample KS test against U(0,1): D and the asymptotic Kolmogorov p (Stephens' n
    correction)"""
    p = sorted(p)
    n = len(p)
    d = max(max((i + 1) / n - x, x - i / n) for i, x in enumerate(p))
    t = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    q = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * t * t) for k in range(1, 101))
    return d, min(1.0, max(0.0, q))


def load(p):
    return LlamaForCausalLM.from_pretrained(p, dtype=torch.float32, attn_implementation="eager").eval()


@torch.no_grad()
def sample(m, n, seed, wm=False):
    torch.manual_seed(seed)
    procs = LogitsProcessorList()
    if wm:
        procs.append(WatermarkLogitsProcessor(vocab_size=V, device="cpu", **KEY))
    ids = torch.full((n, 1), 1, dtype=torch.long)
    out = m.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0,
                     top_k=0, top_p=1.0, max_new_tokens=L, eos_token_id=2, pad_token_id=2,
                     logits_processor=procs)
    rows = []
    for r in out.tolist():
        r = r[1:]
        if 2 in r:
            r = r[:r.index(2)]
        rows.append([1] + r)
    return rows


@torch.no_grad()
def probs(m, rows):
    out = []
    for r in rows:
        x = torch.tensor([r])
        out.append(torch.softmax(m(input_ids=x).logits[0].double(), -1))
    return out


def groups(rows, ps, pt):
    """per context c (last token): X_c = sum of (p_s - p_t), n_c"""
    X = torch.zeros(V, V, dtype=torch.float64)
    n = torch.zeros(V, dtype=torch.float64)
    for r, a, b in zip(rows, ps, pt):
        c = torch.tensor(r)
        X.index_add_(0, c, a - b)
        n.index_add_(0, c, torch.ones(len(r), dtype=torch.float64))
    keep = n > 0
    return X[keep], n[keep], torch.nonzero(keep)[:, 0]


def real_masks(ctx):
    proc = WatermarkLogitsProcessor(vocab_size=V, device="cpu", **KEY)
    M = torch.zeros(len(ctx), V, dtype=torch.float64)
    for i, c in enumerate(ctx.tolist()):
        M[i, proc._get_greenlist_ids(torch.tensor([c]))] = 1
    return M


def rand_masks(k, H, gen):
    M = torch.zeros(k, H, V, dtype=torch.float64)
    for j in range(k):
        for h in range(H):
            M[j, h, torch.randperm(V, generator=gen)[:G]] = 1
    return M


def zs(X, M):
    sx, sxx = X.sum(-1), (X * X).sum(-1)
    S = (X * M).sum(-1)
    mean = PI * sx
    var = PI * (1 - PI) * (sxx - (sx * sx - sxx) / (V - 1))
    ok = var > 1e-300
    return (S - mean), var, ok


def combine(X, n, M):
    d, var, ok = zs(X, M)
    z = torch.where(ok, d / var.clamp_min(1e-300).sqrt(), torch.zeros_like(d))
    okf = ok.double()
    out = {}
    for name, w in (("equal", okf), ("sqrt_n", n.sqrt() * okf), ("n", n * okf)):
        out[name] = float((w * z).sum(-1) / (w * w).sum(-1).sqrt())
    out["pooled"] = float((d * okf).sum(-1) / (var * okf).sum(-1).sqrt())
    return out


def main():
    teacher = load(T)
    names = ["wm100", "wm10", "wm1", "control_a", "control_b"]
    T_rows = sample(teacher, NS, 909)
    W_rows = sample(teacher, NS, 919, wm=True)
    pt_T = probs(teacher, T_rows) if "teacher" in SOURCES else None
    pt_W = probs(teacher, W_rows) if "reading" in SOURCES else None
    gen = torch.Generator().manual_seed(1234)
    res = {}
    for nm in names:
        m = load(os.path.join(WM, "models", nm))
        srows = sample(m, NS, SEED)
        for src, rows, pt in (("suspect", srows, None), ("teacher", T_rows, pt_T),
                              ("reading", W_rows, pt_W)):
            if src not in SOURCES:
                continue
            ps = probs(m, rows)
            if pt is None:
                pt = probs(teacher, rows)
            X, n, ctx = groups(rows, ps, pt)
            real = combine(X, n, real_masks(ctx))
            row = {"H": len(ctx), "real_z": real}
            if src != "reading":
                nulls = {k: [] for k in real}
                for j in range(100):
                    Mj = rand_masks(1, len(ctx), gen)[0]
                    for k, v in combine(X, n, Mj).items():
                        nulls[k].append(v)
                row["null"] = {}
                for k, v in nulls.items():
                    p = [norm_sf(x) for x in v]
                    ks = ks_uniform(p)
                    row["null"][k] = {"ks_p": round(ks[1], 3), "min_p": round(min(p), 5),
                                      "below": sum(x < 1e-3 for x in p)}
            res[(nm, src)] = row
            rz = {k: round(v, 2) for k, v in real.items()}
            lp = {k: round(log10_norm_sf(v), 2) for k, v in real.items()}
            print(nm, src, "H", len(ctx), "z", rz, "log10p", lp,
                  "null", row.get("null"), flush=True)


if __name__ == "__main__":
    main()
