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
max |a - b| / max |b| (verify's max_rel).  The other steps are checked
the same way, in float64 from llama.cpp's own inputs (no exact/q8
distinction): RMSNorm (l_out-(N-1) or embd -> attn_norm-N, ffn_inp-N ->
ffn_norm-N, l_out-last -> result_norm), RoPE (Qcur-N -> its last name
Qcur-N#k, the same for Kcur; Meta's interleaved pairs, llama.cpp mode 0),
causal attention (the roped q/k and Vcur-N -> kqv_out-N), SwiGLU
(ffn_gate-N, ffn_up-N -> ffn_swiglu-N) and the residual adds (-> ffn_inp-N,
l_out-N).  Prints one JSON object: per step family the largest figure
over the layers, and per layer.

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

    H = int(meta["llama.embedding_length"])
    nh = int(meta["llama.attention.head_count"])
    nkv = int(meta.get("llama.attention.head_count_kv", nh))
    hd = H // nh
    eps = float(meta["llama.attention.layer_norm_rms_epsilon"])
    theta = float(meta.get("llama.rope.freq_base", 10000.0))
    T = d["embd"].shape[0]
    ang = np.arange(T)[:, None] * theta ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    cos, sin = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]

    def f64(name):
        return d[name].astype(np.float64).reshape(T, -1)

    def last(name):  # the last of NAME, NAME#2, NAME#3 (after RoPE)
        k = 3
        while k > 1 and "%s#%d" % (name, k) not in d:
            k -= 1
        return name if k == 1 else "%s#%d" % (name, k)

    def other(key, got, name):
        r = rel(got, f64(name))
        m = out["max"].setdefault(key, {"f64": 0.0})
        m["f64"] = max(m["f64"], r)
        return {"f64": r}

    def norm(x, wname):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w[wname]

    def rope(x, heads):
        x = x.reshape(T, heads, hd // 2, 2)
        a, b = x[..., 0], x[..., 1]
        return np.stack([a * cos - b * sin, a * sin + b * cos], -1).reshape(T, heads * hd)

    mask = np.triu(np.full((T, T), -np.inf), 1)
    for n in range(n_layer):
        row = {"layer": n}
        blk = "blk.%d." % n
        for wt, src, dst in STEPS:
            row[wt] = step(wt, blk + wt + ".weight",
                           d["%s-%d" % (src, n)], d["%s-%d" % (dst, n)])
        prev = f64("embd") if n == 0 else f64("l_out-%d" % (n - 1))
        row["attn_norm"] = other("attn_norm", norm(prev, blk + "attn_norm.weight"),
                                 "attn_norm-%d" % n)
        q, k = last("Qcur-%d" % n), last("Kcur-%d" % n)
        row["rope_q"] = other("rope_q", rope(f64("Qcur-%d" % n), nh), q)
        row["rope_k"] = other("rope_k", rope(f64("Kcur-%d" % n), nkv), k)
        qh, kh = f64(q).reshape(T, nh, hd), f64(k).reshape(T, nkv, hd)
        vh = f64("Vcur-%d" % n).reshape(T, nkv, hd)
        att = np.zeros((T, nh, hd))
        for h in range(nh):
            g = h // (nh // nkv)
            s = qh[:, h] @ kh[:, g].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            att[:, h] = (s / s.sum(-1, keepdims=True)) @ vh[:, g]
        row["attention"] = other("attention", att.reshape(T, -1), "kqv_out-%d" % n)
        row["residual_attn"] = other("residual_attn", prev + f64("attn_out-%d" % n),
                                     "ffn_inp-%d" % n)
        row["ffn_norm"] = other("ffn_norm", norm(f64("ffn_inp-%d" % n), blk + "ffn_norm.weight"),
                                "ffn_norm-%d" % n)
        g = f64("ffn_gate-%d" % n)
        row["swiglu"] = other("swiglu", g / (1 + np.exp(-g)) * f64("ffn_up-%d" % n),
                              "ffn_swiglu-%d" % n)
        row["residual_ffn"] = other("residual_ffn", f64("ffn_inp-%d" % n) + f64("ffn_out-%d" % n),
                                    "l_out-%d" % n)
        out["per_layer"].append(row)
    out["final_norm"] = other("final_norm", norm(f64("l_out-%d" % (n_layer - 1)),
                                                 "output_norm.weight"), "result_norm")
    out["output"] = step("output", "token_embd.weight", d["result_norm"], d["result_output"])
    json.dump(out, sys.stdout, indent=None, separators=(",", ":"))
    print()


if __name__ == "__main__":
    main()
