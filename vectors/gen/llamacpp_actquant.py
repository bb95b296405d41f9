#!/usr/bin/env python3
"""llamacpp_actquant.py - how much of llama.cpp's difference from the
reference on a quantised GGUF comes from quantising the activations.

llama.cpp's CPU matmul with Q8_0 weights quantises each activation row to
Q8_0 blocks (32 values, d = max|x| / 127 stored as F16, q = round(x / d))
and sums integer dot products scaled by d_w * d_x; with BF16 weights it
rounds the activations to BF16.  This script runs a float64 Llama forward
(numpy, weights dequantised by gguf-py from the same file) twice: exactly
(the reference's semantics) and with that activation rounding, and
compares both with llama.cpp's logits (llamacpp_logits.mjs) and with
`llamaref dump`.

    python llamacpp_actquant.py LLAMAREF_BIN MODEL.gguf "IDS" NODE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from safetensors.numpy import load_file


def load(path):
    r = gguf.GGUFReader(path)
    meta = {}
    for k, f in r.fields.items():
        try:
            meta[k] = f.contents()
        except Exception:
            pass
    w, types = {}, {}
    mins = {}
    for t in r.tensors:
        if t.tensor_type == T.Q4_1:  # per-block mins m (bytes 2..3 of 20)
            raw = np.asarray(t.data, dtype=np.uint8).reshape(-1, 20)
            m = raw[:, 2:4].copy().view(np.float16).astype(np.float64)
            mins[t.name] = m.reshape(int(t.shape[1]), -1)
        a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        w[t.name] = a.reshape([int(x) for x in reversed(t.shape)]) if a.ndim > 1 or len(t.shape) > 1 else a
        types[t.name] = t.tensor_type
    types["__mins__"] = mins
    return meta, w, types


def q8_blocks(x):
    """Q8_0/Q8_1 quantisation of activation rows: (q, d as float32, d as F16)."""
    b = x.reshape(x.shape[0], -1, 32).astype(np.float32)
    d = (np.abs(b).max(-1, keepdims=True) / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        idv = np.where(d == 0, 0, np.float32(1) / d)
    v = b * idv
    q = np.sign(v) * np.floor(np.abs(v) + 0.5)  # round half away from zero
    return q.astype(np.float64), d, d.astype(np.float16).astype(np.float64)


def act_round(x, wtype):
    """The activation rows as llama.cpp's vec_dot type for wtype sees them."""
    if wtype == T.Q8_0:
        b = x.reshape(x.shape[0], -1, 32).astype(np.float32)
        d = (np.abs(b).max(-1, keepdims=True) / np.float32(127)).astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            idv = np.where(d == 0, 0, np.float32(1) / d)
        v = b * idv
        q = np.sign(v) * np.floor(np.abs(v) + 0.5)  # round half away from zero
        d16 = d.astype(np.float16).astype(np.float64)
        return (q.astype(np.float64) * d16).reshape(x.shape)
    if wtype == T.BF16:
        u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
        u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
        return u.astype(np.uint32).view(np.float32).astype(np.float64)
    if wtype == T.F16:
        return x.astype(np.float16).astype(np.float64)
    return x


def forward(meta, w, types, ids, quant):
    H = int(meta["llama.embedding_length"])
    L = int(meta["llama.block_count"])
    nh = int(meta["llama.attention.head_count"])
    nkv = int(meta.get("llama.attention.head_count_kv", nh))
    hd = int(meta.get("llama.attention.key_length", H // nh))
    eps = float(meta["llama.attention.layer_norm_rms_epsilon"])
    theta = float(meta.get("llama.rope.freq_base", 10000.0))
    inv = theta ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    if "rope_freqs.weight" in w:
        inv = inv / w["rope_freqs.weight"]
    T_ = len(ids)
    ang = np.arange(T_)[:, None] * inv[None, :]
    cos, sin = np.cos(ang), np.sin(ang)

    def mm(x, name):
        if quant and types[name] == T.Q4_1:
            # Q4_1 x Q8_1: d_w d_x sum(q_w q_x) + m_w s_x, s_x = F16(d_x sum q_x)
            q, d32, d16 = q8_blocks(x)
            xq = (q * d16).reshape(x.shape)
            s16 = (d32[..., 0] * q.sum(-1).astype(np.float32)).astype(np.float16).astype(np.float64)
            corr = s16 - d16[..., 0] * q.sum(-1)  # [T, blocks]
            return xq @ w[name].T + corr @ types["__mins__"][name].T
        a = act_round(x, types[name]) if quant else x
        return a @ w[name].T

    def norm(x, name):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w[name]

    def rope(x, n):  # Meta interleaved pairs (2i, 2i+1), llama.cpp mode 0
        x = x.reshape(T_, n, hd // 2, 2)
        a, b = x[..., 0], x[..., 1]
        c, s = cos[:, None, :], sin[:, None, :]
        return np.stack([a * c - b * s, a * s + b * c], -1).reshape(T_, n * hd)

    x = w["token_embd.weight"][ids]
    mask = np.triu(np.full((T_, T_), -np.inf), 1)
    for l in range(L):
        p = f"blk.{l}."
        h = norm(x, p + "attn_norm.weight")
        q = rope(mm(h, p + "attn_q.weight"), nh).reshape(T_, nh, hd)
        k = rope(mm(h, p + "attn_k.weight"), nkv).reshape(T_, nkv, hd)
        v = mm(h, p + "attn_v.weight").reshape(T_, nkv, hd)
        out = np.zeros((T_, nh, hd))
        for hh in range(nh):
            kh = hh // (nh // nkv)
            s = q[:, hh] @ k[:, kh].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            out[:, hh] = (s / s.sum(-1, keepdims=True)) @ v[:, kh]
        x = x + mm(out.reshape(T_, nh * hd), p + "attn_output.weight")
        h = norm(x, p + "ffn_norm.weight")
        g = mm(h, p + "ffn_gate.weight")
        u = mm(h, p + "ffn_up.weight")
        x = x + mm(g / (1 + np.exp(-g)) * u, p + "ffn_down.weight")
    x = norm(x, "output_norm.weight")
    return mm(x, "output.weight" if "output.weight" in w else "token_embd.weight")


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def main():
    binary, model, ids_s, node_dir = sys.argv[1:5]
    ids = [int(t) for t in ids_s.split()]
    meta, w, types = load(model)
    exact = forward(meta, w, types, ids, False)
    quant = forward(meta, w, types, ids, True)
    tmp = tempfile.mkdtemp()
    try:
        st = os.path.join(tmp, "ref.safetensors")
        subprocess.run([binary, "dump", "--model", model, "--ids", ids_s, "--out", st],
                       check=True, stdout=subprocess.DEVNULL)
        ref = load_file(st)["logits"].astype(np.float64).reshape(exact.shape)
        here = os.path.dirname(os.path.abspath(__file__))
        shutil.copy(os.path.join(here, "llamacpp_logits.mjs"), node_dir)
        js = os.path.join(tmp, "lc.json")
        subprocess.run(["node", "llamacpp_logits.mjs", os.path.abspath(model), ids_s, js],
                       check=True, cwd=node_dir, stderr=subprocess.DEVNULL)
        lc = np.array(json.load(open(js))["logits"], dtype=np.float64)
    finally:
        shutil.rmtree(tmp)
    print(json.dumps({
        "model": model,
        "numpy_exact_vs_llamaref": rel(exact, ref),
        "llamacpp_vs_llamaref": rel(lc, ref),
        "llamacpp_vs_numpy_activation_rounded": rel(lc, quant),
        "numpy_activation_rounded_vs_llamaref": rel(quant, ref),
    }))


if __name__ == "__main__":
    main()
