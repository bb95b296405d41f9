#!/usr/bin/env python3
"""llamacpp_quant_noise.py - why llama.cpp's logits on SmolLM2's Q4_1 file
differ from llamaref's by a few 1e-2 (issue 21; docs/gguf.md).

llama.cpp's CPU matmuls with Q4_1 weights quantise each activation row to
Q8_1 blocks and those with Q8_0 weights (the tied output, token_embd) to
Q8_0 blocks: per 32 values d = max|x| / 127 (stored as F16), q =
round-half-even(x * 127 / max|x|) (the x86 quantize_row_q8_1/q8_0, AVX
path), and a Q4_1 dot product is d_w d_x sum(q_w q_x) + m_w s_x with s_x =
F16(d_x sum q_x).  This script runs a float64 numpy Llama on the weights
gguf-py dequantises from the file (the forward of llamacpp_actquant.py,
which matches llamaref to 3e-8) with exactly that activation arithmetic,
and measures how well conditioned each forward is: the same forward with
the activations multiplied by (1 + 1e-7 N(0,1)) before every matmul
(float32 rounding noise) a few times.

    OMP_NUM_THREADS=1 python llamacpp_quant_noise.py MODEL.gguf "IDS" NODE_DIR [NODE_DIR2]

NODE_DIR holds node-llama-cpp (llamacpp_logits.mjs is copied there);
NODE_DIR2 optionally a second install whose CPU backend variants differ
(e.g. without libggml-cpu-sapphirerapids.so, i.e. without the AMX
kernels), to compare two llama.cpp runs of the same file.  Prints one
JSON object of max |a - b| / max |b| figures.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from gguf import GGMLQuantizationType as T

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llamacpp_actquant as aq  # noqa: E402  (load, rel)


def q8_x86(x):
    """Q8_1/Q8_0 blocks of activation rows as ggml's x86 quantize_row_q8_1
    computes them: (q, F16(d), F16(d * sum q)) per block of 32."""
    b = x.reshape(x.shape[0], -1, 32).astype(np.float32)
    mx = np.abs(b).max(-1, keepdims=True)
    d = (mx / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        idv = np.where(mx == 0, np.float32(0), np.float32(127) / mx).astype(np.float32)
    q = np.rint((b * idv).astype(np.float32)).astype(np.float64)  # ties to even
    d16 = d.astype(np.float16).astype(np.float64)
    s16 = (d[..., 0] * q.sum(-1).astype(np.float32)).astype(np.float32)
    return q, d16, s16.astype(np.float16).astype(np.float64)


def make_mm(w, types, quant, noise=0.0, rng=None):
    def mm(x, name):
        if noise:
            x = x * (1 + noise * rng.standard_normal(x.shape))
        t = types[name]
        if quant and t == T.Q4_1:
            q, d16, s16 = q8_x86(x)
            xq = (q * d16).reshape(x.shape)
            corr = s16 - d16[..., 0] * q.sum(-1)  # m_w s_x instead of m_w d_x sum q
            return xq @ w[name].T + corr @ types["__mins__"][name].T
        if quant and t == T.Q8_0:
            q, d16, _ = q8_x86(x)
            return (q * d16).reshape(x.shape) @ w[name].T
        return x @ w[name].T
    return mm


def forward(meta, w, ids, mm):
    H = int(meta["llama.embedding_length"])
    L = int(meta["llama.block_count"])
    nh = int(meta["llama.attention.head_count"])
    nkv = int(meta.get("llama.attention.head_count_kv", nh))
    hd = H // nh
    eps = float(meta["llama.attention.layer_norm_rms_epsilon"])
    theta = float(meta.get("llama.rope.freq_base", 10000.0))
    inv = theta ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    n = len(ids)
    ang = np.arange(n)[:, None] * inv[None, :]
    cos, sin = np.cos(ang), np.sin(ang)

    def norm(x, name):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w[name]

    def rope(x, heads):  # interleaved pairs, llama.cpp's mode 0
        x = x.reshape(n, heads, hd // 2, 2)
        a, b = x[..., 0], x[..., 1]
        c, s = cos[:, None, :], sin[:, None, :]
        return np.stack([a * c - b * s, a * s + b * c], -1).reshape(n, heads * hd)

    x = w["token_embd.weight"][ids]
    mask = np.triu(np.full((n, n), -np.inf), 1)
    for layer in range(L):
        p = "blk.%d." % layer
        h = norm(x, p + "attn_norm.weight")
        q = rope(mm(h, p + "attn_q.weight"), nh).reshape(n, nh, hd)
        k = rope(mm(h, p + "attn_k.weight"), nkv).reshape(n, nkv, hd)
        v = mm(h, p + "attn_v.weight").reshape(n, nkv, hd)
        out = np.zeros((n, nh, hd))
        for hh in range(nh):
            kh = hh // (nh // nkv)
            s = q[:, hh] @ k[:, kh].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            out[:, hh] = (s / s.sum(-1, keepdims=True)) @ v[:, kh]
        x = x + mm(out.reshape(n, nh * hd), p + "attn_output.weight")
        h = norm(x, p + "ffn_norm.weight")
        g = mm(h, p + "ffn_gate.weight")
        u = mm(h, p + "ffn_up.weight")
        x = x + mm(g / (1 + np.exp(-g)) * u, p + "ffn_down.weight")
    x = norm(x, "output_norm.weight")
    return mm(x, "output.weight" if "output.weight" in w else "token_embd.weight")


def llamacpp(model, ids_s, node_dir):
    tmp = tempfile.mkdtemp()
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        shutil.copy(os.path.join(here, "llamacpp_logits.mjs"), node_dir)
        js = os.path.join(tmp, "lc.json")
        subprocess.run(["node", "llamacpp_logits.mjs", os.path.abspath(model), ids_s, js],
                       check=True, cwd=node_dir, stderr=subprocess.DEVNULL)
        return np.array(json.load(open(js))["logits"], dtype=np.float64)
    finally:
        shutil.rmtree(tmp)


def main():
    model, ids_s, node_dir = sys.argv[1:4]
    node_dir2 = sys.argv[4] if len(sys.argv) > 4 else None
    ids = [int(t) for t in ids_s.split()]
    meta, w, types = aq.load(model)
    rng = np.random.default_rng(0)
    exact = forward(meta, w, ids, make_mm(w, types, False))
    quant = forward(meta, w, ids, make_mm(w, types, True))
    lc = llamacpp(model, ids_s, node_dir)
    r = aq.rel
    out = {"model": model, "positions": len(ids),
           "llamacpp_vs_exact": r(lc, exact),
           "llamacpp_vs_emulated": r(lc, quant),
           "emulated_vs_exact": r(quant, exact),
           "exact_with_1e-7_noise_vs_exact": [
               r(forward(meta, w, ids, make_mm(w, types, False, 1e-7, rng)), exact) for _ in range(3)],
           "emulated_with_1e-7_noise_vs_emulated": [
               r(forward(meta, w, ids, make_mm(w, types, True, 1e-7, rng)), quant) for _ in range(3)]}
    if node_dir2:
        lc2 = llamacpp(model, ids_s, node_dir2)
        out["llamacpp2_vs_llamacpp"] = r(lc2, lc)
        out["llamacpp2_vs_exact"] = r(lc2, exact)
        out["llamacpp2_vs_emulated"] = r(lc2, quant)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
