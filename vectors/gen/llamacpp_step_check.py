#!/usr/bin/env python3
"""llamacpp_step_check.py - is each matmul of a llama.cpp eval dump
(llamacpp_eval_dump.c) llama.cpp's activation-quantised product of its
own input?  (issue 21; docs/smollm2.md, "Where llama.cpp diverges").

`llamaref verify --names llama.cpp` compares llama.cpp's whole forward
with llamaref's, so from the first matmul on every tensor also carries the
error of the tensors before it.  This script isolates each matmul step:
it takes llama.cpp's own dumped input of the step (attn_norm-N for
attn_q/k/v, kqv_out-N for attn_output, ffn_norm-N for ffn_gate/up,
ffn_swiglu-N for ffn_down, result_norm for the tied output), multiplies
it with the weights gguf-py dequantises from the same file in float64,
(a) exactly (llamaref's semantics) and (b) with llama.cpp's activation
quantisation emulated (Q8_1 blocks for Q4_1 weights, Q8_0 blocks for
Q8_0 weights: llamacpp_quant_noise.q8_x86 / make_mm), and compares both
with llama.cpp's dumped output of the step (Qcur-N, Kcur-N, Vcur-N,
attn_out-N, ffn_gate-N, ffn_up-N, ffn_out-N, result_output) as
max |a - b| / max |b| (verify's max_rel).  Prints one JSON object:
per step family the largest figure over the layers, and per layer.

    OMP_NUM_THREADS=1 python llamacpp_step_check.py MODEL.gguf DUMP.safetensors
"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llamacpp_actquant as aq  # noqa: E402  (load)
import llamacpp_quant_noise as qn  # noqa: E402  (make_mm)

# (weight in block N, llama.cpp input name, llama.cpp output name)
STEPS = [("attn_q", "attn_norm", "Qcur"), ("attn_k", "attn_norm", "Kcur"),
         ("attn_v", "attn_norm", "Vcur"), ("attn_output", "kqv_out", "attn_out"),
         ("ffn_gate", "ffn_norm", "ffn_gate"), ("ffn_up", "ffn_norm", "ffn_up"),
         ("ffn_down", "ffn_swiglu", "ffn_out")]


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    meta, w, types = aq.load(sys.argv[1])
    d = load_file(sys.argv[2])
    exact = qn.make_mm(w, types, False)
    quant = qn.make_mm(w, types, True)
    n_layer = int(meta["llama.block_count"])
    out = {"per_layer": [], "max": {}}

    def step(key, wname, x, y):
        x = x.astype(np.float64).reshape(x.shape[0], -1)
        y = y.astype(np.float64).reshape(y.shape[0], -1)
        r = {"exact": rel(exact(x, wname), y), "q8": rel(quant(x, wname), y)}
        m = out["max"].setdefault(key, {"exact": 0.0, "q8": 0.0})
        m["exact"], m["q8"] = max(m["exact"], r["exact"]), max(m["q8"], r["q8"])
        return r

    for n in range(n_layer):
        row = {"layer": n}
        for wt, src, dst in STEPS:
            row[wt] = step(wt, "blk.%d.%s.weight" % (n, wt),
                           d["%s-%d" % (src, n)], d["%s-%d" % (dst, n)])
        out["per_layer"].append(row)
    out["output"] = step("output", "token_embd.weight", d["result_norm"], d["result_output"])
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main()
