#!/usr/bin/env python3
"""oracle_model.py - differential check of llamaref's forward pass, LoRA
gradients and loss against the REAL transformers + PEFT + torch (issue 12).

Nothing of the model is re-implemented here.  For each of N random
configurations drawn from SEED it

  1. builds transformers.LlamaForCausalLM (eager attention, float64) with
     random float32-representable weights and wraps it with
     peft.get_peft_model(LoraConfig(r, lora_alpha, use_rslora,
     target_modules, layers_to_transform, lora_dropout=0)), then gives
     lora_A and lora_B random values (B != 0);
  2. saves the base with save_pretrained (safetensors) and the adapter with
     PEFT's own save_pretrained;
  3. runs `llamaref dump --all --adapter DIR --ids ... [--pos0 P]` (every
     tensor of docs/tensors.md for the merged model) and
     `llamaref dump --adapter DIR --ids ... --labels ...` (logits, loss and
     grad.<PEFT key> of the unmerged LoRA branch);
  4. runs the same inputs through the HF/PEFT model, capturing the
     documented tensors on the real modules: forward hooks (embed, norms,
     q/k/v/o, gate/up/down projections, layer outputs), forward pre-hooks
     (h = post_attention_layernorm input, act = down_proj input), a
     registered attention function that calls transformers' own
     eager_attention_forward and records its query/key inputs (q_rope,
     k_rope), its outputs (attn_out, attn_probs) and, through a
     TorchFunctionMode around that call, the input of its softmax
     (attn_scores); the loss is the model's own (labels=...) and every
     gradient comes from autograd;
  5. compares: max |llamaref - HF| / max |HF| per tensor.

Precision.  transformers is not pure float64 with a float64 model:
LlamaRMSNorm casts to float32, the rotary embedding computes inv_freq
(at init) and the angles in float32, eager attention's softmax runs in
float32 and the causal-LM loss casts the logits to float32.
The truth is HF + PEFT in float64 with exactly those casts patched (class
F64Casts below, nothing else changed).
  * DOUBLE=1 build (compute_type "double"): compared with the truth,
    tolerance 1e-9 (--tol).
  * float build (compute_type "float"): llamaref's float32 rounding is
    judged against HF's own.  The same model is also run as HF + PEFT in
    float32 (unpatched: what a user runs), and per tensor
        e_ref = max |llamaref - truth| / max |truth|
        e_hf  = max |HF float32 - truth| / max |truth|
    must satisfy e_ref <= max(K * e_hf, floor), where e_hf is HF's largest
    error over the configuration's tensors of the same group (activations
    and logits; loss; LoRA gradients; trained-adapter logits: one small
    tensor's HF error can be lucky).  K: --ratio, default 8, for
    activations, logits and loss; --grad-ratio, default 12, for the LoRA
    gradients; floor: --floor, default 1e-6 (docs/oracles.md).  The direct
    |llamaref - HF float32| figure is printed too.
  The patches (each one a dtype argument
    rewritten from float32 to float64 while HF's own code runs):
      - Tensor.to(torch.float32) -> float64: LlamaRMSNorm.forward's
        `hidden_states.to(torch.float32)`; the rope init's
        `arange(...).to(dtype=torch.float)` (inv_freq is recomputed under
        the patch: the buffer HF builds at init holds float32 values)
      - Tensor.float() -> .to(float64): LlamaRotaryEmbedding.forward's
        `inv_freq...float()` and `position_ids...float()`, and
        ForCausalLMLoss's `logits.float()`
      - softmax(..., dtype=torch.float32) -> dtype=float64:
        eager_attention_forward's softmax
    The script prints the call sites it patched (file:line) with -v.

Masked attention scores: HF adds finfo(float64).min, llamaref writes -inf;
the masked set must be identical and is excluded from the score error.

Usage: oracle_model.py --bin LLAMAREF --seed S --n N [--tol X]
           [--ratio K] [--floor F] [-v]
           [--only K] [--keep DIR]
Prints the worst error per quantity, the seed and configuration of every
failure (replay: --seed S --only K), and "N passed, N failed".
"""
import argparse
import copy
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ["HF_HUB_OFFLINE"] = "1"  # everything is local; never wait for the hub
import transformers  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402
from transformers import AttentionInterface  # noqa: E402
from transformers.masking_utils import (ALL_MASK_ATTENTION_FUNCTIONS,  # noqa: E402
                                        AttentionMaskInterface)
from transformers.models.llama import modeling_llama  # noqa: E402
import peft  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from safetensors import safe_open  # noqa: E402

transformers.logging.set_verbosity_error()
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
           "down_proj"]
PATCHED_SITES = {}


class F64Casts(TorchFunctionMode):
    """While active, HF's float32 casts become float64 (see the header)."""

    @staticmethod
    def _site():
        for fr in reversed(traceback.extract_stack(limit=10)[:-2]):
            if "oracle_model" not in fr.filename and "/torch/" not in fr.filename:
                return "%s:%d" % (os.path.basename(fr.filename), fr.lineno)
        return "?"

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is torch.Tensor.float:
            PATCHED_SITES.setdefault(self._site(), "Tensor.float()")
            return args[0].to(torch.float64)
        if func is torch.Tensor.to:
            args = list(args)
            hit = False
            for i in range(1, len(args)):
                if args[i] is torch.float32:
                    args[i] = torch.float64
                    hit = True
            if kwargs.get("dtype") is torch.float32:
                kwargs["dtype"] = torch.float64
                hit = True
            if hit:
                PATCHED_SITES.setdefault(self._site(), "Tensor.to(float32)")
        if func in (F.softmax, torch.softmax, torch.Tensor.softmax) and \
                kwargs.get("dtype") is torch.float32:
            kwargs["dtype"] = torch.float64
            PATCHED_SITES.setdefault(self._site(), "softmax(dtype=float32)")
        return func(*args, **kwargs)


class SoftmaxInput(TorchFunctionMode):
    """Records the input of every softmax called while active."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in (F.softmax, torch.softmax, torch.Tensor.softmax):
            self.seen.append(args[0].detach().clone())
        return func(*args, **(kwargs or {}))


CAPTURE = {}  # layer index -> dict, filled by oracle_attention


def oracle_attention(module, query, key, value, attention_mask, **kw):
    """transformers' own eager attention; records what it sees and makes."""
    rec = SoftmaxInput()
    with rec:
        out, probs = modeling_llama.eager_attention_forward(
            module, query, key, value, attention_mask, **kw)
    assert len(rec.seen) == 1, "eager attention called softmax %d times" % len(rec.seen)
    CAPTURE[module.layer_idx] = {"q_rope": query.detach().clone(),
                                 "k_rope": key.detach().clone(),
                                 "attn_scores": rec.seen[0],
                                 "attn_probs": probs.detach().clone(),
                                 "attn_out": out.detach().clone()}
    return out, probs


AttentionInterface.register("oracle_eager", oracle_attention)
# the causal mask exactly as for "eager" (without this, transformers passes
# no mask at all to an attention function it does not know)
AttentionMaskInterface.register("oracle_eager", ALL_MASK_ATTENTION_FUNCTIONS["eager"])


# ---------------------------------------------------------------- configs

def draw_config(rng, verbose_id, seed):
    kv = rng.choice([1, 1, 2, 2, 3, 4])
    groups = rng.choice([1, 2, 2, 3, 4])
    c = {
        "id": verbose_id, "seed": seed,
        "layers": rng.randint(1, 3),
        "kv_heads": kv,
        "heads": kv * groups,
        "head_dim": rng.choice([2, 4, 6, 8, 8, 10, 12, 16]),
        "hidden": rng.choice([6, 8, 12, 16, 20, 24, 32]),
        "inter": rng.randint(4, 40),
        "vocab": rng.randint(8, 90),
        "theta": rng.choice([10000.0, 500000.0, round(10 ** rng.uniform(1.5, 6), 3)]),
        "eps": rng.choice([1e-5, 1e-6, 1e-5 * round(rng.uniform(0.1, 10), 3)]),
        "tied": rng.random() < 0.4,
        "T": rng.randint(2, 24),
        "pos0": rng.choice([0, 0, rng.randint(1, 40)]),
        "r": rng.randint(1, 8),
        "rslora": rng.random() < 0.35,
    }
    c["alpha"] = rng.choice([rng.randint(1, 17), round(rng.uniform(0.5, 20), 3)])
    if rng.random() < 0.5:
        orig = rng.choice([4, 8, 16, 32, 64])
        low = rng.choice([1.0, 1.0, round(rng.uniform(0.5, 2), 3)])
        c["rope_scaling"] = {
            "rope_type": "llama3",
            "factor": rng.choice([8.0, 2.0, 4.0, round(rng.uniform(1, 16), 3)]),
            "low_freq_factor": low,
            "high_freq_factor": rng.choice([4.0, round(low + rng.uniform(0.2, 6), 3)]),
            "original_max_position_embeddings": orig}
    else:
        c["rope_scaling"] = None
    n = rng.randint(1, 7)
    c["targets"] = sorted(rng.sample(TARGETS, n), key=TARGETS.index)
    if c["layers"] > 1 and rng.random() < 0.3:
        c["layers_to_transform"] = sorted(rng.sample(range(c["layers"]),
                                                     rng.randint(1, c["layers"] - 1)))
    else:
        c["layers_to_transform"] = None
    c["ids"] = [rng.randrange(c["vocab"]) for _ in range(c["T"])]
    labels = [i if rng.random() < 0.7 else -100 for i in
              [rng.randrange(c["vocab"]) for _ in range(c["T"])]]
    if all(x == -100 for x in labels[1:]):
        labels[rng.randint(1, c["T"] - 1)] = rng.randrange(c["vocab"])
    c["labels"] = labels
    c["wseed"] = rng.randrange(1 << 31)
    return c


def f32r(t):
    """float64 tensor with float32-representable values."""
    return t.to(torch.float32).to(torch.float64)


def f64_inv_freq(model):
    """inv_freq recomputed in float64 by HF's own init function."""
    rot = model.model.rotary_emb
    with F64Casts():
        inv, att = rot.rope_init_fn(rot.config, None)
    assert inv.dtype == torch.float64 and att == 1.0
    rot.register_buffer("inv_freq", inv, persistent=False)
    rot.original_inv_freq = inv


def build(c, patched, bdir):
    """The HF model; the base is saved into bdir before PEFT wraps it."""
    hf = LlamaConfig(
        vocab_size=c["vocab"], hidden_size=c["hidden"],
        intermediate_size=c["inter"], num_hidden_layers=c["layers"],
        num_attention_heads=c["heads"], num_key_value_heads=c["kv_heads"],
        head_dim=c["head_dim"], rms_norm_eps=c["eps"], rope_theta=c["theta"],
        rope_scaling=c["rope_scaling"], tie_word_embeddings=c["tied"],
        max_position_embeddings=256, bos_token_id=1, eos_token_id=2,
        attention_bias=False, mlp_bias=False, attn_implementation="eager")
    torch.manual_seed(c["wseed"])
    model = LlamaForCausalLM(hf).to(torch.float64)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:     # RMSNorm weights
                p.copy_(f32r(1 + 0.3 * torch.randn_like(p)))
            elif "embed_tokens" in name:
                p.copy_(f32r(torch.randn_like(p) * 0.5))
            elif "lm_head" in name:
                p.copy_(f32r(torch.randn_like(p) * (2 / math.sqrt(p.shape[1]))))
            else:
                p.copy_(f32r(torch.randn_like(p) / math.sqrt(p.shape[1])))
    if patched:
        f64_inv_freq(model)
    model.save_pretrained(bdir, safe_serialization=True)
    lc = LoraConfig(r=c["r"], lora_alpha=c["alpha"], use_rslora=c["rslora"],
                    target_modules=list(c["targets"]), lora_dropout=0.0,
                    layers_to_transform=c["layers_to_transform"],
                    bias="none", task_type="CAUSAL_LM")
    pm = get_peft_model(model, lc)
    # B != 0, sized so that the LoRA term s B A x is about half the base
    # projection's output whatever the scale s (a wrong s stays visible)
    s = c["alpha"] / (math.sqrt(c["r"]) if c["rslora"] else c["r"])
    with torch.no_grad():
        for name, p in pm.named_parameters():
            if "lora_A" in name:
                p.copy_(f32r(torch.randn_like(p) / math.sqrt(p.shape[1])))
            elif "lora_B" in name:
                p.copy_(f32r(torch.randn_like(p) * (0.5 / (s * math.sqrt(p.shape[1])))))
    return pm


# ---------------------------------------------------------------- HF side

def hf_activations(pm, c, patched):
    """Every docs/tensors.md tensor (batch dim dropped), from the real
    modules.  Returns dict name -> float64 numpy array."""
    T = c["T"]
    ids = torch.tensor([c["ids"]])
    pos = torch.arange(c["pos0"], c["pos0"] + T)[None]
    return {k: v[0] for k, v in
            hf_activations_batch(pm, ids, pos, None, patched).items()}


def hf_activations_batch(pm, ids, pos, mask, patched):
    """Every docs/tensors.md tensor with a leading batch dimension
    ([B, T, X], attention [B, H, T, T]) for input_ids ids, position_ids pos
    and attention_mask mask (None: all ones), from the real modules."""
    base = pm.base_model.model if hasattr(pm, "peft_config") else pm  # LlamaForCausalLM
    lm = base.model                     # LlamaModel
    acts, hooks = {}, []

    def out_hook(name):
        def f(mod, inp, out):
            o = out[0] if isinstance(out, tuple) else out
            acts[name] = o.detach().clone()
        return f

    def in_hook(name):
        def f(mod, inp):
            acts[name] = inp[0].detach().clone()
        return f

    hooks.append(lm.embed_tokens.register_forward_hook(out_hook("embed")))
    hooks.append(lm.norm.register_forward_hook(out_hook("final_norm")))
    for i, layer in enumerate(lm.layers):
        p = "layers.%d." % i
        at, mlp = layer.self_attn, layer.mlp
        for mod, nm in ((layer.input_layernorm, "attn_norm"), (at.q_proj, "q"),
                        (at.k_proj, "k"), (at.v_proj, "v"), (at.o_proj, "o_proj"),
                        (layer.post_attention_layernorm, "mlp_norm"),
                        (mlp.gate_proj, "gate"), (mlp.up_proj, "up"),
                        (mlp.down_proj, "mlp_out"), (layer, "out")):
            hooks.append(mod.register_forward_hook(out_hook(p + nm)))
        hooks.append(layer.post_attention_layernorm.register_forward_pre_hook(in_hook(p + "h")))
        hooks.append(mlp.down_proj.register_forward_pre_hook(in_hook(p + "act")))
    CAPTURE.clear()
    B, T = ids.shape
    base.config._attn_implementation = "oracle_eager"
    try:
        with torch.no_grad():
            if patched:
                with F64Casts():
                    out = pm(input_ids=ids, position_ids=pos, attention_mask=mask)
            else:
                out = pm(input_ids=ids, position_ids=pos, attention_mask=mask)
    finally:
        base.config._attn_implementation = "eager"
        for h in hooks:
            h.remove()
    acts["logits"] = out.logits.detach()
    for i, cap in CAPTURE.items():
        p = "layers.%d." % i
        acts[p + "q_rope"] = cap["q_rope"].transpose(1, 2).reshape(B, T, -1)
        acts[p + "k_rope"] = cap["k_rope"].transpose(1, 2).reshape(B, T, -1)
        acts[p + "attn_scores"] = cap["attn_scores"]
        acts[p + "attn_probs"] = cap["attn_probs"]
        acts[p + "attn_out"] = cap["attn_out"].reshape(B, T, -1)
    return {k: v.to(torch.float64).numpy() for k, v in acts.items()}


def hf_grads(pm, c, patched):
    ids = torch.tensor([c["ids"]])
    labels = torch.tensor([c["labels"]])
    pm.zero_grad(set_to_none=True)
    if patched:
        with F64Casts():
            out = pm(input_ids=ids, labels=labels)
            out.loss.backward()
    else:
        out = pm(input_ids=ids, labels=labels)
        out.loss.backward()
    g = {}
    for name, p in pm.named_parameters():
        if p.requires_grad:
            g["grad." + name.replace(".default.", ".")] = p.grad.to(torch.float64).numpy()
    return out.logits.detach()[0].to(torch.float64).numpy(), \
        float(out.loss.detach()), g


# ---------------------------------------------------------------- llamaref side

def read_dump(path):
    with safe_open(path, "np") as f:
        meta = f.metadata() or {}
        return meta, {k: f.get_tensor(k).astype(np.float64) for k in f.keys()}


def run_dump(binary, args):
    p = subprocess.run([binary, "dump"] + args, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("llamaref dump %s: exit %d: %s" %
                           (" ".join(args), p.returncode, p.stderr.strip()))


def rel_err(got, want, den=None, mean=False):
    """max |got - want| / den (mean=True: the mean instead of the max);
    den defaults to max |want|, and a zero den leaves the difference as is."""
    if den is None:
        den = float(np.max(np.abs(want))) if want.size else 0.0
    diff = np.abs(got - want)
    d = float(np.mean(diff) if mean else np.max(diff)) if want.size else 0.0
    return d / den if den > 0 else d


def quantity(name):
    if name.startswith("grad."):
        q = name.split(".")
        t = q[-3]  # ...<target>.lora_X.weight
        return "grad.%s.%s" % (t, q[-2])
    if name.startswith("layers."):
        return name.split(".", 2)[2]
    return name


def group(q):
    """Which of a configuration's tensors share one HF float32 error level
    (oracle_train.py's quantities, "train ...", are each their own)."""
    if q.startswith("grad"):
        return "gradients"
    if q == "loss" or q.startswith(("logits(llamaref-trained", "train ")):
        return q
    return "activations"


class Judge:
    """Compares llamaref's tensors with the reference and keeps the worst
    figures per quantity.

    DOUBLE=1 build (ratio_k None): max |llamaref - truth| / max |truth| <= tol,
    truth = float64-patched HF + PEFT.
    float build: per tensor, llamaref's error against the float64 truth,
    e_ref, must be at most K times HF + PEFT float32's own error against the
    same truth, or under the floor.  HF's error of a single small tensor can
    be lucky (a gradient that happens to round well), so HF's level is the
    largest e_hf over the configuration's tensors of the same group
    (activations and logits; the loss; the LoRA gradients; the trained
    adapter's logits): e_ref <= max(K * e_hf(group), floor);
    ratio = e_ref / max(e_hf(group), floor / K) (pass: ratio <= K).  The
    direct |llamaref - HF float32| figure is recorded too.  A comparison
    made with mean=True measures the mean of |x - truth| / den instead of
    its maximum (oracle_train.py's final parameters)."""

    def __init__(self, tol, ratio_k, grad_k, floor, group_k=None, group_tol=None,
                 group_floor=None):
        self.tol, self.k, self.gk, self.floor = tol, ratio_k, grad_k, floor
        self.group_k = group_k or {}  # group -> its own K
        self.group_tol = group_tol or {}  # group -> its own DOUBLE=1 tolerance
        self.group_floor = group_floor or {}  # group -> its own floor
        self.worst = {}  # quantity -> {figure: (value, "seed/config")}
        self.pending = []  # (name, quantity, e_ref, e_hf) of this configuration

    def note(self, q, fig, v, where):
        d = self.worst.setdefault(q, {})
        if v > d.get(fig, (-1, None))[0]:
            d[fig] = (v, where)

    def cmp(self, fails, where, name, g, t, h=None, den=None, q=None, mean=False):
        """g llamaref, t truth, h HF float32 (None: fixed tolerance);
        den: the denominator (default max |t|); mean: the mean error, not
        the largest.  A float comparison is judged by finish()."""
        if g.shape != t.shape or (h is not None and h.shape != t.shape):
            fails.append("%s: shape %s, HF %s" % (name, g.shape, t.shape))
            return
        if name.endswith("attn_scores"):
            # HF adds finfo(dtype).min where masked, llamaref writes -inf
            mt, mg = t < -1e30, np.isneginf(g)
            if not np.array_equal(mt, mg) or (h is not None and
                                              not np.array_equal(mt, h < -1e30)):
                fails.append("%s: masked entries differ" % name)
                return
            g, t = np.where(mg, 0, g), np.where(mt, 0, t)
            if h is not None:
                h = np.where(mt, 0, h)
        q = q or quantity(name)
        e = rel_err(g, t, den, mean)
        self.note(q, "llamaref", e, where)
        if h is None:
            tol = self.group_tol.get(group(q), self.tol)
            if not e <= tol:
                fails.append("%s: rel err %.3g > %.3g" % (name, e, tol))
            return
        eh = rel_err(h, t, den, mean)
        self.note(q, "hf32", eh, where)
        self.note(q, "direct", rel_err(g, h, den, mean), where)
        self.pending.append((name, q, e, eh))

    def finish(self, fails, where):
        """Judges the float comparisons of one configuration."""
        level = {}
        for _, q, _, eh in self.pending:
            level[group(q)] = max(level.get(group(q), 0.0), eh)
        for name, q, e, _ in self.pending:
            eh = level[group(q)]
            k = self.group_k.get(group(q), self.gk if group(q) == "gradients"
                                 else self.k)
            floor = self.group_floor.get(group(q), self.floor)
            ratio = e / max(eh, floor / k)
            self.note(q, "ratio", ratio, where)
            if not ratio <= k:
                fails.append("%s: error vs float64 truth %.3g > max(%g x HF float32's "
                             "%.3g (%s), %.3g)" % (name, e, k, eh, group(q), floor))
        self.pending = []

    def report(self):
        print("worst error per quantity (max |x - truth| / max |truth|, the mean where "
              "the quantity says so; seed/config):")
        if self.k is None:
            for q in sorted(self.worst):
                v, w = self.worst[q]["llamaref"]
                print("    %-32s %.3g  (%s)" % (q, v, w))
            return
        print("    %-32s %-19s %-19s %-19s %s" % (
            "quantity", "llamaref-f32", "HF-f32",
            "ratio (<= %s)" % "/".join("%g" % x for x in
                                        [self.k, self.gk] + list(self.group_k.values())
                                        if x is not None),
            "llamaref-f32 vs HF-f32"))
        for q in sorted(self.worst):
            d = self.worst[q]
            print("    %-32s %s" % (q, " ".join(
                "%-19s" % ("%.3g (%s)" % d[f]) for f in
                ("llamaref", "hf32", "ratio", "direct"))))


def check(binary, c, tmp, double, judge, verbose):
    """Returns a list of failure strings (empty: passed)."""
    bdir, adir = os.path.join(tmp, "base"), os.path.join(tmp, "adapter")
    pm = build(c, False, bdir)
    pm.save_pretrained(adir, safe_serialization=True)
    # the float build is also measured against HF + PEFT in float32 (the
    # same float32-representable values), the truth is float64-patched
    pm32 = None if double else copy.deepcopy(pm).to(torch.float32)
    f64_inv_freq(pm.base_model.model)
    ids = " ".join(map(str, c["ids"]))
    labels = " ".join(map(str, c["labels"]))
    fa, fg = os.path.join(tmp, "acts.safetensors"), os.path.join(tmp, "grads.safetensors")
    dump_args = ["--model", bdir, "--adapter", adir, "--ids", ids, "--all",
                 "--f64", "--out", fa]
    if c["pos0"]:
        dump_args += ["--pos0", str(c["pos0"])]
    run_dump(binary, dump_args)
    run_dump(binary, ["--model", bdir, "--adapter", adir, "--ids", ids, "--labels",
                      labels, "--f64", "--out", fg])
    meta, got = read_dump(fa)
    fails = []
    where = "%d/%d" % (c["seed"], c["id"])

    want = hf_activations(pm, c, True)
    h32 = hf_activations(pm32, c, False) if pm32 is not None else {}
    names = set(want) | set(got)
    for n in sorted(names):
        if n not in got or n not in want:
            fails.append("%s: only in %s" % (n, "llamaref" if n in got else "HF"))
            continue
        judge.cmp(fails, where, n, got[n], want[n], h32.get(n))
    _, gg = read_dump(fg)
    wl, wloss, wg = hf_grads(pm, c, True)
    hl, hloss, hg = hf_grads(pm32, c, False) if pm32 is not None else (None, None, {})
    judge.cmp(fails, where, "logits(lora branch)", gg.pop("logits"), wl, hl)
    judge.cmp(fails, where, "loss", gg.pop("loss"), np.array([wloss]),
              None if hloss is None else np.array([hloss]))
    gmax = max([float(np.max(np.abs(v))) for v in wg.values()] + [0.0])
    # the dump's activation gradients (dlogits, dfinal_norm, dlayers.N.*,
    # dembed; docs/tensors.md) are not parameter gradients: here only the
    # PEFT parameter gradients are compared; the activation gradients are
    # checked against HF + PEFT's own backward by tests/cli/verify.test.sh
    # (vectors/verify/hf_all7_gqa_f32_grads.safetensors, vectors/gen/hf_dump.py)
    for n in [k for k in gg if k.startswith(("dlogits", "dfinal_norm", "dlayers.", "dembed"))]:
        del gg[n]
    for n in sorted(set(wg) | set(gg)):
        if n not in gg or n not in wg:
            fails.append("%s: only in %s" % (n, "llamaref" if n in gg else "PEFT"))
            continue
        if gg[n].shape == wg[n].shape and np.max(np.abs(wg[n])) <= 1e-6 * gmax:
            # zero by symmetry (e.g. every key a scored query sees carries the
            # same value: q/k gradients vanish) - the truth holds only
            # rounding noise, so compare with the config's largest gradient
            judge.cmp(fails, where, n + " (zero by symmetry, / largest gradient)",
                      gg[n], wg[n], hg.get(n), den=gmax if gmax else 1.0,
                      q="grad (zero by symmetry) / max grad")
            continue
        judge.cmp(fails, where, n, gg[n], wg[n], hg.get(n))
    judge.finish(fails, where)
    if verbose:
        print("config %d: %d tensors, %d grads" % (c["id"], len(want), len(wg)))
    return fails


def check_trained(binary, c, tmp, double, judge):
    """The reverse direction: an adapter trained by `llamaref train` on this
    configuration, loaded with PeftModel.from_pretrained onto the base
    loaded with LlamaForCausalLM.from_pretrained, gives llamaref's logits."""
    bdir, odir = os.path.join(tmp, "base"), os.path.join(tmp, "trained")
    data = os.path.join(tmp, "data.jsonl")
    with open(data, "w") as f:
        f.write(json.dumps({"input_ids": c["ids"], "labels": c["labels"]}) + "\n")
        f.write(json.dumps({"input_ids": c["ids"][::-1] + c["ids"]}) + "\n")
    args = [binary, "train", "--model", bdir, "--data", data, "--out", odir,
            "--targets", ",".join(c["targets"]), "--r", str(c["r"]),
            "--alpha", repr(c["alpha"]), "--dropout", "0", "--epochs", "2",
            "--batch", "1", "--lr", "0.02", "--seed", str(c["wseed"] % 1000)]
    if c["rslora"]:
        args.append("--rslora")
    if c["layers_to_transform"]:
        args += ["--layers", ",".join(map(str, c["layers_to_transform"]))]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        return ["llamaref train: exit %d: %s" % (p.returncode, p.stderr.strip()[-300:])]
    fo = os.path.join(tmp, "trained.safetensors")
    run_dump(binary, ["--model", bdir, "--adapter", odir, "--ids",
                      " ".join(map(str, c["ids"])), "--f64", "--out", fo])
    got = read_dump(fo)[1]["logits"]
    ids = torch.tensor([c["ids"]])

    def peft_logits(dtype, patched):
        base = LlamaForCausalLM.from_pretrained(bdir, dtype=dtype,
                                                attn_implementation="eager")
        if patched:
            f64_inv_freq(base)
        pm = peft.PeftModel.from_pretrained(base, odir)
        with torch.no_grad():
            if patched:
                with F64Casts():
                    return pm(input_ids=ids).logits[0].numpy()
            return pm(input_ids=ids).logits[0].to(torch.float64).numpy()

    want = peft_logits(torch.float64, True)
    h32 = None if double else peft_logits(torch.float32, False)
    fails = []
    judge.cmp(fails, "%d/%d" % (c["seed"], c["id"]), "trained adapter in PEFT: logits",
              got, want, h32, q="logits(llamaref-trained adapter in PEFT)")
    judge.finish(fails, "%d/%d" % (c["seed"], c["id"]))
    # the adapter must have moved away from B = 0 (else this proves little)
    with safe_open(os.path.join(odir, "adapter_model.safetensors"), "np") as f:
        moved = any(np.any(f.get_tensor(k) != 0) for k in f.keys() if "lora_B" in k)
    if not moved:
        fails.append("trained adapter: every lora_B is still 0")
    return fails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="./llamaref")
    ap.add_argument("--seed", default="1",
                    help="a seed, or several separated by commas/spaces")
    ap.add_argument("--cases", default=None,
                    help="JSON lines file of configurations (as printed on a "
                    "failure) replayed every time: ones that once failed")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--only", type=int, default=None,
                    help="run only configuration K of this seed (replay)")
    ap.add_argument("--tol", type=float, default=1e-9,
                    help="DOUBLE=1 build: tolerance against the float64-patched "
                    "HF + PEFT (default 1e-9)")
    ap.add_argument("--ratio", type=float, default=8.0,
                    help="float build: llamaref's error against the float64 "
                    "truth may be this many times HF + PEFT float32's own, "
                    "for activations, logits and loss (default 8; measured "
                    "4.7 at most: docs/oracles.md)")
    ap.add_argument("--grad-ratio", type=float, default=12.0,
                    help="the same for the LoRA gradients (default 12; "
                    "measured 7.0 at most)")
    ap.add_argument("--floor", type=float, default=1e-6,
                    help="float build: errors under this always pass")
    ap.add_argument("--keep", default=None, help="keep the files of failures here")
    ap.add_argument("--train-every", type=int, default=5,
                    help="also train an adapter with `llamaref train` and load "
                    "it in PEFT on every K-th configuration (0: never)")
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    torch.set_num_threads(1)
    t0 = time.time()
    seeds = [int(x) for x in a.seed.replace(",", " ").split()]
    jobs = []  # (seed, config)
    for sd in seeds:
        rng = random.Random(sd)
        drawn = [draw_config(rng, k, sd) for k in range(max(a.n, (a.only or 0) + 1))]
        jobs += [(sd, c) for c in drawn[:a.n] if a.only is None or c["id"] == a.only]
    if a.cases:
        for line in open(a.cases):
            if line.strip() and not line.startswith("#"):
                c = json.loads(line)
                jobs.append((c["seed"], c))
    double = judge = None
    npass, nfail = 0, 0
    for seed, c in jobs:
        tmp = tempfile.mkdtemp(prefix="oracle_model_")
        try:
            if double is None:  # probe the build's compute type once
                build(c, False, tmp)
                f = os.path.join(tmp, "probe.safetensors")
                run_dump(a.bin, ["--model", tmp, "--ids", "0", "--out", f])
                double = read_dump(f)[0].get("compute_type") == "double"
                shutil.rmtree(tmp)
                os.makedirs(tmp)
                judge = Judge(a.tol, None if double else a.ratio, a.grad_ratio,
                              a.floor)
                print("oracle_model: llamaref %s build (%s) vs transformers %s + "
                      "peft %s + torch %s: %s" %
                      ("DOUBLE=1" if double else "float", a.bin,
                       transformers.__version__, peft.__version__, torch.__version__,
                       "float64-patched, tolerance %g" % a.tol if double else
                       "error against the float64-patched truth <= max(%g (gradients "
                       "%g) x HF float32's own, %g)" % (a.ratio, a.grad_ratio, a.floor)))
            fails = check(a.bin, c, tmp, double, judge, a.v)
            if a.train_every and c["id"] % a.train_every == 0:
                fails += check_trained(a.bin, c, tmp, double, judge)
        except Exception as ex:  # noqa: BLE001 - reported as a failure
            fails = ["error: %s" % ex]
            if judge:
                judge.pending = []
        if fails:
            nfail += 1
            print("FAIL seed %d config %d (replay: --seed %d --only %d): %s" %
                  (seed, c["id"], seed, c["id"],
                   json.dumps(c)))
            for f_ in fails[:20]:
                print("    " + f_)
            if a.keep:
                dst = os.path.join(a.keep, "seed%d_config%d" % (seed, c["id"]))
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(tmp, dst)
        else:
            npass += 1
        shutil.rmtree(tmp, ignore_errors=True)
    if a.v and PATCHED_SITES:
        print("float32 casts patched to float64 (call sites):")
        for s, k in sorted(PATCHED_SITES.items()):
            print("    %-40s %s" % (s, k))
    if judge:
        judge.report()
    print("oracle_model: seeds %s%s, %d configurations, %.1f s" %
          (",".join(map(str, seeds)), " + " + a.cases if a.cases else "",
           npass + nfail, time.time() - t0))
    print("%d passed, %d failed" % (npass, nfail))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
