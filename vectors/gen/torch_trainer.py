#!/usr/bin/python3
"""torch_trainer.py - the llamaref LoRA trainer re-done in PyTorch (float64)
for the end-to-end check: same data order, LoRA init and dropout masks
(SplitMix64 streams of docs/rng.md re-implemented here), PEFT LoRA forward
(gen_lora.forward_lora), HF loss normalisation over the accumulated batch,
torch.nn.utils.clip_grad_norm_, torch.optim.AdamW and HF LambdaLR.
Pre-tokenized JSONL ({"input_ids", "labels"?}) only.

usage: torch_trainer.py MODEL_DIR DATA.jsonl targets r alpha dropout lr
       epochs batch accum warmup seed schedule   -> one loss per line
"""
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_forward import make_config  # noqa: F401
from gen_lora import (PATH, TARGETS, causal_lm_loss, forward_lora, hf_lr,
                      peft_key)

torch.set_default_dtype(torch.float64)
M64 = (1 << 64) - 1


def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


class Rng:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s, z = splitmix(self.s)
        return z

    def double(self):
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)

    def below(self, n):
        if n <= 1:
            return 0
        limit = M64 - M64 % n
        while True:
            x = self.next()
            if x < limit:
                return x % n


def first(x):
    return splitmix(x & M64)[1]


def stream(seed, kind, i, j):
    return first(first(first(seed ^ kind) ^ i) ^ j)


def read_st(path):
    import struct
    import numpy as np
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    d = b[8 + n:]
    out = {}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        dt = {"F32": "<f4", "F64": "<f8"}[v["dtype"]]
        out[k] = torch.tensor(np.frombuffer(d[s:e], dtype=dt).astype("f8")
                              .reshape(v["shape"]))
    return out


def main():
    (mdir, data, targets, r, alpha, p, lr, epochs, batch, accum, warmup,
     seed, sched) = sys.argv[1:14]
    r, alpha, p, lr = int(r), float(alpha), float(p), float(lr)
    epochs, batch, accum = int(epochs), int(batch), int(accum)
    warmup, seed = int(warmup), int(seed)
    cfg = json.load(open(os.path.join(mdir, "config.json")))
    W = read_st(os.path.join(mdir, "model.safetensors"))
    targets = TARGETS if targets == "all" else targets.split(",")
    lc = {"r": r, "lora_alpha": alpha, "use_rslora": False,
          "target_modules": targets}
    D, I = cfg["hidden_size"], cfg["intermediate_size"]
    QD = cfg["num_attention_heads"] * cfg["head_dim"]
    KVD = cfg["num_key_value_heads"] * cfg["head_dim"]
    shape = {"q_proj": (QD, D), "k_proj": (KVD, D), "v_proj": (KVD, D),
             "o_proj": (D, QD), "gate_proj": (I, D), "up_proj": (I, D),
             "down_proj": (D, I)}
    AD, order = {}, []
    for l in range(cfg["num_hidden_layers"]):
        for ti, t in enumerate(TARGETS):
            if t not in targets:
                continue
            out, inp = shape[t]
            g = Rng(stream(seed, 1, l, ti))
            bound = 1.0 / math.sqrt(inp)
            A = torch.tensor([(2 * g.double() - 1) * bound
                              for _ in range(r * inp)]).reshape(r, inp)
            AD[peft_key(l, t, "A")] = A.requires_grad_(True)
            AD[peft_key(l, t, "B")] = torch.zeros(out, r, requires_grad=True)
            order += [peft_key(l, t, "A"), peft_key(l, t, "B")]
    ex = []
    for line in open(data):
        if line.strip():
            o = json.loads(line)
            ex.append((o["input_ids"], o.get("labels", o["input_ids"])))
    n = len(ex)
    nb = (n + batch - 1) // batch
    spe = (nb + accum - 1) // accum
    total = spe * epochs
    params = [AD[k] for k in order]
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=0.0)
    sch = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: hf_lr(sched, s, total, warmup, 1.0))
    tidx = {t: i for i, t in enumerate(TARGETS)}
    for step in range(total):
        epoch, s = divmod(step, spe)
        perm = list(range(n))
        g = Rng(stream(seed, 3, epoch, 0))
        for i in range(n, 1, -1):
            j = g.below(i)
            perm[i - 1], perm[j] = perm[j], perm[i - 1]
        mbs = range(s * accum, min(nb, (s + 1) * accum))
        ntot = sum(sum(1 for x in ex[k][1][1:] if x != -100)
                   for mb in mbs for k in perm[mb * batch:(mb + 1) * batch])
        tot = 0.0
        for mb in mbs:
            idx = perm[mb * batch:(mb + 1) * batch]
            T = max(len(ex[k][0]) for k in idx)
            ids = torch.tensor([ex[k][0] + [0] * (T - len(ex[k][0]))
                                for k in idx])
            lab = torch.tensor([ex[k][1] + [-100] * (T - len(ex[k][1]))
                                for k in idx])
            mask = torch.tensor([[1] * len(ex[k][0]) + [0] * (T - len(ex[k][0]))
                                 for k in idx])
            pos = torch.arange(T)[None].repeat(len(idx), 1)
            dseed = stream(seed, 2, epoch * nb + mb, 0)

            def drop(l, t, x):
                if p == 0:
                    return x
                gg = Rng(stream(dseed, 2, l, tidx[t]))
                u = torch.tensor([gg.double() for _ in range(x.numel())])
                keep = (u >= p).to(torch.float64).reshape(x.shape)
                return x * (keep * (1.0 / (1.0 - p)))
            logits = forward_lora(cfg, W, AD, lc, ids, mask, pos, drop)
            loss = causal_lm_loss(logits, lab, ntot)
            loss.backward()
            tot += float(loss)
        gn = torch.nn.utils.clip_grad_norm_(params, 1.0)
        print("%.17g %.17g %.17g" % (tot, opt.param_groups[0]["lr"], gn))
        opt.step()
        sch.step()
        opt.zero_grad(set_to_none=True)


if __name__ == "__main__":
    main()
