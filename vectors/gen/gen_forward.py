#!/usr/bin/python3
"""gen_forward.py - float64 golden vectors for the llamaref forward pass,
computed by the REAL transformers (issue 12).

For each case it writes random weights (F32 or BF16) and then runs
transformers.LlamaForCausalLM.from_pretrained on them (float64, eager
attention) with HF's float32 casts patched to float64
(oracle_model.F64Casts: RMSNorm, rotary inv_freq and angles, softmax; listed
in docs/oracles.md), capturing every docs/tensors.md tensor on the real
modules (oracle_model.hf_activations_batch: hooks, pre-hooks and a
registered attention function around transformers' own eager attention).

    vectors/forward/<case>/config.json         HF config
    vectors/forward/<case>/model.safetensors   random weights (F32 or BF16)
    vectors/forward/<case>/expected.safetensors

expected.safetensors holds the inputs (input_ids, attention_mask,
position_ids: I64 [B, T]), every intermediate of docs/tensors.md as F64
with a leading batch dimension ([B, T, X]; attention scores/probs
[B, heads, T, T]; masked scores -inf as the dump contract writes them where
HF adds finfo.min), logits F64 [B, T, vocab] and, for B = 1 cases, HF's
greedy continuation (greedy_ids I64 [N], positions continuing after the
last input position) with the smallest top-1/top-2 logit margin seen
(greedy_margin F64 [1]) so the test knows the ids are robust to rounding.

Marked and skipped: a left-padding query that sees no key (padded_batch)
has no specified output (HF: a softmax over a fully masked row; llamaref:
zeros); its attention rows and everything downstream at that position are
NaN, which tests/model/test_forward.c does not score.

(The former float64 re-implementation, forward() / greedy(), is gone: no
generator takes expected values from it any more; gen_lora.py and
gen_eval.py use transformers + PEFT too.)

Run (byte-identical output):
  OMP_NUM_THREADS=1 PYTHONHASHSEED=0 .oracle-env/bin/python vectors/gen/gen_forward.py
"""
import json
import math
import os
import struct
import sys

# MKL's Conditional Numerical Reproducibility: torch's float64 products take
# the same code path, so the same bits, on every x86-64 CPU (by default MKL
# picks kernels by CPU, which moved values by ~1e-15 between two machines
# and failed make regen-check); set before torch is imported.
os.environ.setdefault("MKL_CBWR", "COMPATIBLE")
import numpy as np
import torch

torch.set_default_dtype(torch.float64)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "forward")


# ---------------------------------------------------------------- safetensors
from st_write import write_safetensors  # noqa: E402  (deterministic bytes)


def f64(t):
    t = t.detach().to(torch.float64).contiguous()
    return ("F64", list(t.shape), t.numpy().astype("<f8").tobytes())


def i64(t):
    t = torch.as_tensor(t).to(torch.int64).contiguous()
    return ("I64", list(t.shape), t.numpy().astype("<i8").tobytes())


def stored(t, dtype):
    """Rounds t to the storage dtype; returns (float64 value, st entry)."""
    if dtype == "F32":
        r = t.to(torch.float32)
        return r.to(torch.float64), ("F32", list(t.shape),
                                     r.numpy().astype("<f4").tobytes())
    if dtype == "BF16":
        r = t.to(torch.float32).to(torch.bfloat16)
        bits = r.view(torch.int16).numpy().astype("<i2").tobytes()
        return r.to(torch.float64), ("BF16", list(t.shape), bits)
    raise ValueError(dtype)


# ------------------------------------------------- the real transformers
def hf_model(d):
    """transformers.LlamaForCausalLM.from_pretrained(d) in float64 (eager)
    with HF's float32 casts patched to float64 (oracle_model.F64Casts)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    sys.path.insert(0, HERE)
    import oracle_model as om
    from transformers import LlamaForCausalLM
    m = LlamaForCausalLM.from_pretrained(d, dtype=torch.float64,
                                         attn_implementation="eager")
    om.f64_inv_freq(m)
    return om, m


def hf_greedy(om, m, ids, pos0, n):
    """Greedy continuation by HF's forward (full recomputation)."""
    seq = list(ids)
    out, margin = [], float("inf")
    for _ in range(n):
        t = torch.tensor([seq])
        pos = pos0 + torch.arange(len(seq))[None]
        with torch.no_grad(), om.F64Casts():
            lg = m(input_ids=t, position_ids=pos).logits[0, -1]
        top = torch.topk(lg, 2)
        margin = min(margin, float(top.values[0] - top.values[1]))
        nxt = int(torch.argmax(lg))
        out.append(nxt)
        seq.append(nxt)
    return out, margin


# Tensors a query that sees no key (left padding) leaves unspecified: in
# layer 0 everything from the attention on, in later layers everything.
LAYER0_DEFINED = ("attn_norm", "q", "k", "v", "q_rope", "k_rope")


def mark_unseen(acts, mask):
    """NaN (= not scored, tests skip it) where a query sees no key."""
    B, T = mask.shape
    for b in range(B):
        for t in range(T):
            if mask[b, :t + 1].any():
                continue
            for k, v in acts.items():
                if k == "embed":
                    continue
                if k.startswith("layers."):
                    layer, name = k.split(".")[1:3]
                    if layer == "0" and name in LAYER0_DEFINED:
                        continue
                    if name in ("attn_scores", "attn_probs"):
                        v[b, :, t, :] = float("nan")
                        continue
                v[b, t] = float("nan")


# ------------------------------------------------------------------ the cases
def make_config(**kw):
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_act": "silu",
        "attention_bias": False,
        "mlp_bias": False,
        "initializer_range": 0.02,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "max_position_embeddings": 8192,
        "rope_scaling": None,
        "torch_dtype": "float32",
    }
    cfg.update(kw)
    return cfg


def random_weights(cfg, seed, dtype):
    g = torch.Generator().manual_seed(seed)
    D, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    H, KV, hd = (cfg["num_attention_heads"], cfg["num_key_value_heads"],
                 cfg["head_dim"])

    def lin(o, i, gain=1.0):
        return (torch.rand(o, i, generator=g) * 2 - 1) * gain / math.sqrt(i)

    def norm(n):
        return 1 + (torch.rand(n, generator=g) * 2 - 1) * 0.25

    raw = {"model.embed_tokens.weight": torch.randn(V, D, generator=g)}
    for l in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % l
        raw[p + "input_layernorm.weight"] = norm(D)
        raw[p + "self_attn.q_proj.weight"] = lin(H * hd, D, 2.5)
        raw[p + "self_attn.k_proj.weight"] = lin(KV * hd, D, 2.5)
        raw[p + "self_attn.v_proj.weight"] = lin(KV * hd, D, 1.5)
        raw[p + "self_attn.o_proj.weight"] = lin(D, H * hd, 1.5)
        raw[p + "post_attention_layernorm.weight"] = norm(D)
        raw[p + "mlp.gate_proj.weight"] = lin(I, D, 2.0)
        raw[p + "mlp.up_proj.weight"] = lin(I, D, 2.0)
        raw[p + "mlp.down_proj.weight"] = lin(D, I, 1.5)
    raw["model.norm.weight"] = norm(D)
    if not cfg["tie_word_embeddings"]:
        raw["lm_head.weight"] = lin(V, D, 4.0)
    W, st = {}, {}
    for k, t in raw.items():
        W[k], st[k] = stored(t, dtype)
    return W, st


def write_case(name, cfg, dtype, seed, ids, mask=None, pos=None, n_greedy=6):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    cfg = dict(cfg)
    cfg["torch_dtype"] = "bfloat16" if dtype == "BF16" else "float32"
    W, st = random_weights(cfg, seed, dtype)
    ids = torch.tensor(ids, dtype=torch.int64)
    if ids.dim() == 1:
        ids = ids[None]
    mask = torch.ones_like(ids) if mask is None else torch.tensor(mask)
    if pos is None:
        pos = torch.arange(ids.shape[1])[None].repeat(ids.shape[0], 1)
    pos = torch.as_tensor(pos, dtype=torch.int64)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(d, "model.safetensors"), st,
                      {"format": "pt"})
    om, m = hf_model(d)
    acts = {k: torch.from_numpy(v.copy()) for k, v in
            om.hf_activations_batch(m, ids, pos, mask, True).items()}
    for k, v in acts.items():  # HF adds finfo.min where masked; the
        if k.endswith("attn_scores"):  # contract (docs/tensors.md) says -inf
            v[v < -1e300] = float("-inf")
    mark_unseen(acts, mask.numpy().astype(bool))
    exp = {k: f64(v) for k, v in acts.items()}
    exp["input_ids"] = i64(ids)
    exp["attention_mask"] = i64(mask)
    exp["position_ids"] = i64(pos)
    meta = {"generator": "vectors/gen/gen_forward.py", "case": name}
    if ids.shape[0] == 1 and n_greedy:
        out, margin = hf_greedy(om, m, ids[0].tolist(), int(pos[0, 0]),
                                n_greedy)
        exp["greedy_ids"] = i64(torch.tensor(out))
        exp["greedy_margin"] = f64(torch.tensor([margin]))
        if margin < 1e-3:
            sys.exit("case %s: greedy margin %g too small, change seed"
                     % (name, margin))
    write_safetensors(os.path.join(d, "expected.safetensors"), exp, meta)
    print("%-16s %s  logits max %.3g" % (name, dtype,
                                         float(acts["logits"].nan_to_num().abs().max())))


def main():
    rnd = np.random.RandomState(1234)

    def ids(v, t):
        return rnd.randint(0, v, size=t).tolist()

    # GQA (4 query heads over 2 kv heads), tied embeddings, eps 1e-5.
    c = make_config(hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                    vocab_size=128, rms_norm_eps=1e-5, rope_theta=10000.0,
                    tie_word_embeddings=True)
    write_case("gqa_tied", c, "F32", 1, ids(128, 12))

    # MQA (1 kv head), head_dim 24 != 48/4, untied, eps 1e-6, theta 5e5.
    c = make_config(hidden_size=48, intermediate_size=80, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=1, head_dim=24,
                    vocab_size=96, rms_norm_eps=1e-6, rope_theta=500000.0,
                    tie_word_embeddings=False)
    write_case("mqa_headdim", c, "F32", 2, ids(96, 11))

    # Llama 3.1 rope scaling with original_max_position_embeddings 128:
    # head_dim 32, theta 5e5 gives wavelengths 6.3, 14.3 (kept: < 128/4),
    # 32.4, 73.5 (interpolated band) and 167, ... (divided by factor).
    c = make_config(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                    num_attention_heads=2, num_key_value_heads=1, head_dim=32,
                    vocab_size=160, rms_norm_eps=1e-5, rope_theta=500000.0,
                    tie_word_embeddings=False, max_position_embeddings=1024,
                    rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                  "low_freq_factor": 1.0,
                                  "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 128})
    write_case("llama3_rope", c, "F32", 13, ids(160, 40))

    # BF16-stored weights, positions starting at 5000 (start offset), GQA 6/2,
    # llama3 scaling as in Llama 3.1 (factor 8, L 8192).
    c = make_config(hidden_size=96, intermediate_size=160, num_hidden_layers=2,
                    num_attention_heads=6, num_key_value_heads=2, head_dim=16,
                    vocab_size=200, rms_norm_eps=1e-5, rope_theta=500000.0,
                    tie_word_embeddings=True, max_position_embeddings=131072,
                    rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                  "low_freq_factor": 1.0,
                                  "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 8192})
    T = 10
    write_case("bf16_far", c, "BF16", 4, ids(200, T),
               pos=[list(range(5000, 5000 + T))])

    # A padded batch of three: full, right-padded, left-padded (positions
    # as HF generate computes them: cumsum(mask) - 1, pads get 1).
    c = make_config(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                    vocab_size=64, rms_norm_eps=1e-6, rope_theta=10000.0,
                    tie_word_embeddings=False)
    T = 9
    b = [ids(64, T), ids(64, T), ids(64, T)]
    mask = [[1] * T, [1] * 6 + [0] * 3, [0] * 4 + [1] * 5]
    for r in range(3):
        for t in range(T):
            if not mask[r][t]:
                b[r][t] = 0
    m = torch.tensor(mask)
    pos = torch.cumsum(m, -1) - 1
    pos = pos.masked_fill(m == 0, 1)
    write_case("padded_batch", c, "F32", 5, b, mask=mask, pos=pos.tolist())


if __name__ == "__main__":
    main()
