#!/usr/bin/env python3
"""hf_trainer.py - the optimizer-step sequence of HF Trainer run through the
REAL libraries (issue 12), for comparison with `llamaref train`:

  model      transformers.LlamaForCausalLM.from_pretrained (float64, eager)
             + peft.get_peft_model(LoraConfig(r, lora_alpha, use_rslora,
             target_modules, lora_dropout=0))
  loss       the model's own labels= loss with num_items_in_batch = the
             counted tokens of the whole optimizer step (what Trainer passes
             with gradient accumulation), summed over the micro-batches
  clipping   torch.nn.utils.clip_grad_norm_
  optimizer  torch.optim.AdamW (betas 0.9/0.999, eps 1e-8)
  schedule   transformers.get_scheduler(name, ...) as Trainer calls it

Not from a library (llamaref's own choices, docs/rng.md; no package has
them): the initial lora_A (SplitMix64 streams of llamaref, imported from
llamaref_rng.py) and the batch order (llamaref's per-epoch Fisher-Yates
shuffle), fed in our order instead of Trainer's sampler; right padding
with mask 0 / label -100 as `llamaref train` does.  Trainer's dropout
masks come from torch's RNG and cannot be reproduced: --dropout P replaces
PEFT's lora_dropout modules by LlamarefDropout (llamaref's masks,
docs/rng.md), leaving PEFT's LoRA forward as it is.

With --f64 the float32 casts inside transformers are patched to float64
(oracle_model.F64Casts, docs/oracles.md), so the run is float64 truth;
with --f32 the model (and so the adapter and AdamW's state) is float32.

usage: hf_trainer.py MODEL_DIR|FILE.gguf DATA.jsonl TARGETS R ALPHA LR EPOCHS BATCH
           ACCUM WARMUP SEED SCHEDULE [--rslora] [--dropout P] [--f64 | --f32]
           [--max-grad-norm X] [--out DIR]
vectors/lora/e2e/torch_losses.txt (train.test.sh) is its output for
  hf_trainer.py vectors/lora/all7_gqa vectors/lora/e2e/data.jsonl all 2 4
      1e-2 3 2 2 1 3 linear --dropout 0.1 --f64
prints "loss lr grad_norm" per optimizer step (17 digits); --out writes the
final adapter with PEFT's save_pretrained.
"""
import argparse
import json
import math
import os
import shutil
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_model as om  # noqa: E402  (registers nothing it does not use)
from llamaref_rng import Rng, stream  # noqa: E402  (llamaref's RNG)
from transformers import LlamaForCausalLM, get_scheduler  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402

TARGETS = om.TARGETS


class LlamarefDropout(torch.nn.Module):
    """Stands in for PEFT's lora_dropout module (nn.Dropout) so that PEFT's
    own LoRA forward, dropout(x) -> A -> B -> * scaling, uses llamaref's
    masks (docs/rng.md): example b of the padded batch, at place i of epoch
    k's permutation, draws u ~ stream(stream(seed, 2, k, i), 2, layer,
    target) per element of its own rows (its length, not the padding: pad
    rows are kept, they reach no counted token), kept where u >= p, scaled
    by 1/(1-p)."""

    def __init__(self, p, layer, tidx, state):
        super().__init__()
        self.p, self.layer, self.tidx, self.state = p, layer, tidx, state

    def forward(self, x):
        if self.p == 0 or not self.training:
            return x
        keep = torch.ones(x.shape, dtype=x.dtype)
        for b, (dseed, n) in enumerate(self.state["examples"]):
            g = Rng(stream(dseed, 2, self.layer, self.tidx))
            m = n * x.shape[-1]
            u = torch.tensor([g.double() for _ in range(m)], dtype=x.dtype)
            keep[b, :n, :] = (u >= self.p).to(x.dtype).reshape(n, x.shape[-1])
        return x * (keep * (1.0 / (1.0 - self.p)))


def train(argv=None):
    """Runs the step sequence; returns [(loss, lr, grad_norm)] per step."""
    ap = argparse.ArgumentParser()
    for n in ("model", "data", "targets", "r", "alpha", "lr", "epochs",
              "batch", "accum", "warmup", "seed", "schedule"):
        ap.add_argument(n)
    ap.add_argument("--rslora", action="store_true")
    ap.add_argument("--f64", action="store_true")
    ap.add_argument("--f32", action="store_true",
                    help="the model in float32 (unpatched), as a float32 user "
                    "runs it")
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--dropout", type=float, default=0.0,
                    help="LoRA dropout with llamaref's masks (LlamarefDropout)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    r, alpha, lr = int(a.r), float(a.alpha), float(a.lr)
    epochs, batch, accum = int(a.epochs), int(a.batch), int(a.accum)
    warmup, seed = int(a.warmup), int(a.seed)
    targets = TARGETS if a.targets == "all" else a.targets.split(",")
    # a directory that also holds an adapter_config.json (the golden cases)
    # would make from_pretrained load that adapter's base instead: read the
    # base files from a copy
    if a.f32 and a.f64:
        raise SystemExit("hf_trainer.py: --f32 and --f64 exclude each other")
    if a.model.endswith(".gguf"):
        # a GGUF file (SmolLM2, issue 21): transformers' GGUF loader in
        # float64 (oracle_smollm2.load_hf; with --f64 also the exact
        # dequantisation, rms_norm_eps 1e-5 and float64 inv_freq)
        if a.f32:
            raise SystemExit("hf_trainer.py: --f32 is not supported with a GGUF file")
        import oracle_smollm2
        base = oracle_smollm2.load_hf(a.model, a.f64)
    else:
        tmp = tempfile.mkdtemp(prefix="hf_trainer_")
        for f in ("config.json", "model.safetensors"):
            shutil.copyfile(os.path.join(a.model, f), os.path.join(tmp, f))
        base = LlamaForCausalLM.from_pretrained(
            tmp, dtype=torch.float32 if a.f32 else torch.float64,
            attn_implementation="eager")
        shutil.rmtree(tmp)
        if a.f64:
            om.f64_inv_freq(base)
    pm = get_peft_model(base, LoraConfig(
        r=r, lora_alpha=alpha, use_rslora=a.rslora, target_modules=targets,
        lora_dropout=a.dropout, bias="none", task_type="CAUSAL_LM"))
    # llamaref's init: A ~ U(-1/sqrt(in), 1/sqrt(in)) from stream (seed, 1,
    # layer, target index), B = 0 (PEFT's B init is 0 too)
    params = []
    state = {"examples": []}
    layers = pm.base_model.model.model.layers
    with torch.no_grad():
        for li, layer in enumerate(layers):
            for ti, t in enumerate(TARGETS):
                if t not in targets:
                    continue
                mod = getattr(layer.self_attn if t in ("q_proj", "k_proj", "v_proj",
                                                       "o_proj") else layer.mlp, t)
                A = mod.lora_A["default"].weight
                B = mod.lora_B["default"].weight
                g = Rng(stream(seed, 1, li, ti))
                bound = 1.0 / math.sqrt(A.shape[1])
                A.copy_(torch.tensor([(2 * g.double() - 1) * bound
                                      for _ in range(A.numel())],
                                     dtype=torch.float64).reshape(A.shape))
                B.zero_()
                params += [A, B]
                mod.lora_dropout["default"] = LlamarefDropout(a.dropout, li, ti, state)
    ex = []
    for line in open(a.data):
        if line.strip():
            o = json.loads(line)
            ex.append((o["input_ids"], o.get("labels", o["input_ids"])))
    n = len(ex)
    nb = (n + batch - 1) // batch
    spe = (nb + accum - 1) // accum
    total = spe * epochs
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=0.0)
    # what Trainer.create_scheduler calls for lr_scheduler_type = schedule
    # ("constant" is get_constant_schedule: Trainer ignores warmup there)
    sch = get_scheduler(a.schedule, opt, num_warmup_steps=warmup,
                        num_training_steps=total)
    pm.train()
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
            ids = torch.tensor([ex[k][0] + [0] * (T - len(ex[k][0])) for k in idx])
            lab = torch.tensor([ex[k][1] + [-100] * (T - len(ex[k][1])) for k in idx])
            mask = torch.tensor([[1] * len(ex[k][0]) + [0] * (T - len(ex[k][0]))
                                 for k in idx])
            state["examples"] = [(stream(seed, 2, epoch, mb * batch + b),
                                  len(ex[k][0])) for b, k in enumerate(idx)]
            kw = dict(input_ids=ids, attention_mask=mask, labels=lab,
                      num_items_in_batch=torch.tensor(ntot))
            if a.f64:
                with om.F64Casts():
                    loss = pm(**kw).loss
                    loss.backward()
            else:
                loss = pm(**kw).loss
                loss.backward()
            tot += float(loss.detach())
        gn = torch.nn.utils.clip_grad_norm_(params, a.max_grad_norm) \
            if a.max_grad_norm > 0 else torch.tensor(0.0)
        rows.append((tot, opt.param_groups[0]["lr"], float(gn)))
        opt.step()
        sch.step()
        opt.zero_grad(set_to_none=True)
    if a.out:
        pm.save_pretrained(a.out, safe_serialization=True)
    return rows


def main():
    for row in train():
        print("%.17g %.17g %.17g" % row)


if __name__ == "__main__":
    main()
