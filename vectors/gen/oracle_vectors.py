#!/usr/bin/env python3
"""oracle_vectors.py - the committed golden vectors against the REAL
transformers + PEFT (issue 12).

vectors/gen/gen_forward.py, gen_lora.py and gen_lora_peft.py compute the
forward / LoRA vectors with the real libraries themselves; this re-checks
the committed files, tensor by tensor, against the real libraries with
HF's float32 casts patched to float64 (oracle_model.F64Casts,
docs/oracles.md), so a stale or hand-edited vector is caught:

  vectors/forward/<case>: config.json + model.safetensors loaded with
      LlamaForCausalLM.from_pretrained (float64, eager), run on the stored
      input_ids / attention_mask / position_ids; every stored tensor
      compared with the one captured on the real modules
      (oracle_model.hf_activations_batch)
  vectors/lora/<case>: the base + the committed adapter through
      PeftModel.from_pretrained(is_trainable=True); logits, loss (the
      model's labels= loss) and every grad.* (autograd)

Metric: max |vector - HF| / max |HF| per tensor, tolerance 1e-12.
Deliberate differences are marked and skipped: a left-padding query that
sees no key (padded_batch) - llamaref writes probabilities 0 and attn_out
0 there, HF's rows are a softmax over an all-masked row; every tensor
downstream of attn_out in such a row (and its logits) is skipped too.

usage: oracle_vectors.py   (prints the worst error per case, "N passed, N failed")
"""
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import oracle_model as om  # noqa: E402
from peft import PeftModel  # noqa: E402
from transformers import LlamaForCausalLM  # noqa: E402

VEC = os.path.join(HERE, "..")
TOL = 1e-12


def load_base(d):
    tmp = tempfile.mkdtemp(prefix="oracle_vectors_")
    for f in ("config.json", "model.safetensors"):
        shutil.copyfile(os.path.join(d, f), os.path.join(tmp, f))
    m = LlamaForCausalLM.from_pretrained(tmp, dtype=torch.float64,
                                         attn_implementation="eager")
    shutil.rmtree(tmp)
    om.f64_inv_freq(m)
    return m


def read(path):
    with safe_open(path, "np") as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def err(got, want, keep=None):
    g, w = got.astype(np.float64), want.astype(np.float64)
    if keep is not None:
        g, w = g[keep], w[keep]
    inf = np.isneginf(g) | (w < -1e300)
    if np.any(np.isneginf(g) != (w < -1e300)):
        return float("inf")
    g, w = np.where(inf, 0, g), np.where(inf, 0, w)
    den = np.max(np.abs(w)) if w.size else 0
    return float(np.max(np.abs(g - w)) / den) if den > 0 else float(np.max(np.abs(g - w)) if g.size else 0)


def check_forward(case):
    d = os.path.join(VEC, "forward", case)
    exp = read(os.path.join(d, "expected.safetensors"))
    m = load_base(d)
    ids = torch.tensor(exp["input_ids"], dtype=torch.int64)
    mask = torch.tensor(exp["attention_mask"], dtype=torch.int64)
    pos = torch.tensor(exp["position_ids"], dtype=torch.int64)
    got = om.hf_activations_batch(m, ids, pos, mask, True)
    # rows (b, t) whose query sees no key: left padding
    B, T = ids.shape
    m_np = exp["attention_mask"].astype(bool)
    sees = np.array([[bool(np.any(m_np[b, :t + 1])) for t in range(T)] for b in range(B)])
    skipped = int((~sees).sum())
    worst, fails = 0.0, []
    for k, w in exp.items():
        if k in ("input_ids", "attention_mask", "position_ids", "greedy_ids",
                 "greedy_margin"):
            continue
        if k not in got:
            fails.append("%s: not captured" % k)
            continue
        h = got[k]
        if k.endswith("attn_scores") or k.endswith("attn_probs"):
            keep = np.broadcast_to(sees[:, None, :, None], w.shape)
        else:
            keep = np.broadcast_to(sees[:, :, None], w.shape) if w.ndim == 3 else None
        e = err(w, h, keep)  # the vector against HF: HF is the reference
        worst = max(worst, e)
        if not e <= TOL:
            fails.append("%s: rel err %.3g" % (k, e))
    return worst, fails, skipped


def check_lora(case):
    d = os.path.join(VEC, "lora", case)
    exp = read(os.path.join(d, "expected.safetensors"))
    base = load_base(d)
    pm = PeftModel.from_pretrained(base, d, is_trainable=True)
    ids = torch.tensor(exp["input_ids"], dtype=torch.int64)
    mask = torch.tensor(exp["attention_mask"], dtype=torch.int64)
    labels = torch.tensor(exp["labels"], dtype=torch.int64)
    pm.zero_grad(set_to_none=True)
    with om.F64Casts():
        out = pm(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
    hf = {"logits": out.logits.detach().numpy(),
          "loss": out.loss.detach().reshape(1).numpy()}
    for n, p in pm.named_parameters():
        if p.requires_grad:
            hf["grad." + n.replace(".default.", ".")] = p.grad.numpy()
    worst, fails = 0.0, []
    for k in sorted(set(hf) | {k for k in exp if k.startswith("grad.") or k in ("logits", "loss")}):
        if k not in hf or k not in exp:
            fails.append("%s: only in %s" % (k, "the vector" if k in exp else "PEFT"))
            continue
        e = err(exp[k], hf[k])
        worst = max(worst, e)
        if not e <= TOL:
            fails.append("%s: rel err %.3g" % (k, e))
    return worst, fails, 0


def main():
    torch.set_num_threads(1)
    npass = nfail = 0
    for kind, fn in (("forward", check_forward), ("lora", check_lora)):
        for case in sorted(os.listdir(os.path.join(VEC, kind))):
            d = os.path.join(VEC, kind, case)
            if not os.path.exists(os.path.join(d, "expected.safetensors")):
                continue
            worst, fails, skipped = fn(case)
            print("%-8s %-18s worst %.3g%s" % (kind, case, worst,
                  "  (%d left-padding rows skipped)" % skipped if skipped else ""))
            for f in fails[:10]:
                print("    FAIL " + f)
            if fails:
                nfail += 1
            else:
                npass += 1
    print("%d passed, %d failed" % (npass, nfail))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
