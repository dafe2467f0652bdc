#!/usr/bin/env python3
# transformers' own bf16-vs-f32 argmax agreement on stories260K model text (24 sampled continuations of
# prefixes of the reference sentence, 120 new tokens each: the setting of tests/gpu_engine_test.cpp
# Bf16ArgmaxAgreesWithCpuOnModelText). The reference point for the GPU engine's bf16 mode (docs/gpu.md).
# Usage: python3 bench/bf16_agreement_transformers.py  (CPU is enough; needs torch + transformers)
import torch, transformers
from transformers import AutoModelForCausalLM
import os, sys
p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'models', 'stories260K')
m32=AutoModelForCausalLM.from_pretrained(p, torch_dtype=torch.float32).eval()
mbf=AutoModelForCausalLM.from_pretrained(p, torch_dtype=torch.bfloat16).eval()
sent=[1,403,407,261,378,432,383,286,261,376,298]
agree=tot=0; flips=[]
with torch.no_grad():
  for i in range(24):
    torch.manual_seed(1000+i)
    ids=torch.tensor([sent[:1+i%10]])
    out=m32.generate(ids, max_new_tokens=120, do_sample=True, temperature=1.0, top_k=0, top_p=1.0, min_new_tokens=120)
    a=m32(out).logits[0].float(); b=mbf(out).logits[0].float()
    am=a.argmax(-1); bm=b.argmax(-1)
    top2=a.topk(2,-1).values; margin=(top2[:,0]-top2[:,1])
    agree+=(am==bm).sum().item(); tot+=am.numel()
    flips+= margin[am!=bm].tolist()
print(f"transformers {transformers.__version__} torch {torch.__version__}: bf16 vs f32 argmax agreement {agree}/{tot} = {agree/tot:.4f}; flip margins max {max(flips) if flips else 0:.4f}")
