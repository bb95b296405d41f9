#!/usr/bin/env python3
"""gen_lora.py - float64 golden vectors for LoRA training, AdamW and
full-parameter training, with every expected value computed by the REAL
transformers + PEFT + torch (issue 12).

Inputs (random weights, random adapters, token ids) are drawn here; the
expected values come from the libraries:

  * LoRA (vectors/lora/<case>/): the base is loaded with
    transformers.LlamaForCausalLM.from_pretrained (float64, eager
    attention; oracle_vectors.load_base) and the adapter with
    peft.PeftModel.from_pretrained(is_trainable=True); logits and loss are
    the model's own (labels=...), the gradients torch autograd's.
  * AdamW (vectors/adamw/): torch.optim.AdamW with the schedule of
    transformers.get_scheduler(name, ...) (as Trainer.create_scheduler
    calls it), torch.nn.utils.clip_grad_norm_ and accumulation.
  * full-parameter training (vectors/full/<case>/): the same
    LlamaForCausalLM, autograd with respect to every base weight (a tied
    head's gradient is the embedding's: HF ties the two parameters); the
    trajectory uses torch.optim.AdamW with the parameter groups of
    Trainer.get_decay_parameter_names, get_scheduler("cosine", ...),
    clip_grad_norm_ and the model's loss with num_items_in_batch = the
    counted tokens of the accumulated step (what Trainer passes).

Every forward runs with oracle_model.F64Casts active: HF's float32 casts
(RMSNorm, rotary inv_freq and angles, softmax, the loss's logits.float())
become float64, so the values are float64 truth (docs/oracles.md,
"Precision"; the DOUBLE=1 tests check them at 1e-9).

Files, per case:

  vectors/lora/<case>/config.json, model.safetensors      random base model
  vectors/lora/<case>/adapter_config.json,
                      adapter_model.safetensors           PEFT layout, F32,
                                                          B != 0
  vectors/lora/<case>/expected.safetensors  input_ids, attention_mask,
      labels (I64 [B, T]), logits F64 [B, T, V], loss F64 [1] (HF mean over
      counted tokens) and grad.<adapter key> F64 for every adapter tensor.
  vectors/adamw/<name>.safetensors  initial parameters, per micro-step
      gradients, and lr, grad_norm, param, exp_avg, exp_avg_sq per step.
  vectors/full/<case>/config.json, model.safetensors, expected.safetensors
      loss, logits and grad.<HF name> F64 of every base weight, and for
      tied_gqa a 3-step AdamW trajectory (traj.*).

Run (deterministic; "full": only vectors/full):
  make gen-lora-vectors ORACLE_ENV=...
  (= OMP_NUM_THREADS=1 PYTHONHASHSEED=0 $ORACLE_ENV/bin/python vectors/gen/gen_lora.py)
"""
import json
import math
import os
import sys

# MKL's Conditional Numerical Reproducibility: torch's float64 products take
# the same code path, so the same bits, on every x86-64 CPU (by default MKL
# picks kernels by CPU, which moved values by ~1e-15 between two machines
# and failed make regen-check); set before torch is imported.
os.environ.setdefault("MKL_CBWR", "COMPATIBLE")
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_forward import (f64, i64, make_config, random_weights,  # noqa: E402
                         write_safetensors)
import oracle_model as om  # noqa: E402
from oracle_vectors import load_base  # noqa: E402
from peft import PeftModel  # noqa: E402
from transformers import Trainer, get_scheduler  # noqa: E402

torch.set_default_dtype(torch.float64)  # the random draws (as before)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "lora")
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
           "down_proj"]
PATH = {"q_proj": "self_attn.q_proj", "k_proj": "self_attn.k_proj",
        "v_proj": "self_attn.v_proj", "o_proj": "self_attn.o_proj",
        "gate_proj": "mlp.gate_proj", "up_proj": "mlp.up_proj",
        "down_proj": "mlp.down_proj"}


def peft_key(layer, target, ab):
    return "base_model.model.model.layers.%d.%s.lora_%s.weight" % (
        layer, PATH[target], ab)


def lora_scale(lc):
    return lc["lora_alpha"] / (math.sqrt(lc["r"]) if lc["use_rslora"]
                               else lc["r"])


def adapter_config(lc, base="random"):
    """adapter_config.json as PEFT (0.13) writes it."""
    return {
        "alpha_pattern": {}, "auto_mapping": None,
        "base_model_name_or_path": base, "bias": "none",
        "fan_in_fan_out": False, "inference_mode": True,
        "init_lora_weights": True, "layer_replication": None,
        "layers_pattern": None,
        "layers_to_transform": lc.get("layers_to_transform"),
        "loftq_config": {}, "lora_alpha": lc["lora_alpha"],
        "lora_dropout": lc.get("lora_dropout", 0.0),
        "megatron_config": None, "megatron_core": "megatron.core",
        "modules_to_save": None, "peft_type": "LORA", "r": lc["r"],
        "rank_pattern": {}, "revision": None,
        "target_modules": sorted(lc["target_modules"], reverse=True),
        "task_type": "CAUSAL_LM", "use_dora": False,
        "use_rslora": lc["use_rslora"]}


def random_adapter(cfg, lc, seed):
    g = torch.Generator().manual_seed(seed)
    D, I = cfg["hidden_size"], cfg["intermediate_size"]
    QD = cfg["num_attention_heads"] * cfg["head_dim"]
    KVD = cfg["num_key_value_heads"] * cfg["head_dim"]
    shape = {"q_proj": (QD, D), "k_proj": (KVD, D), "v_proj": (KVD, D),
             "o_proj": (D, QD), "gate_proj": (I, D), "up_proj": (I, D),
             "down_proj": (D, I)}
    layers = lc.get("layers_to_transform")
    if layers is None:
        layers = list(range(cfg["num_hidden_layers"]))
    AD = {}
    r = lc["r"]
    for l in layers:
        for t in lc["target_modules"]:
            out, inp = shape[t]
            A = (torch.rand(r, inp, generator=g) * 2 - 1) / math.sqrt(inp)
            Bm = (torch.rand(out, r, generator=g) * 2 - 1) * 0.3
            AD[peft_key(l, t, "A")] = A.to(torch.float32).to(torch.float64)
            AD[peft_key(l, t, "B")] = Bm.to(torch.float32).to(torch.float64)
    return AD


def f32(t):
    r = t.detach().to(torch.float32).contiguous()
    return ("F32", list(t.shape), r.numpy().astype("<f4").tobytes())


def write_case(name, cfg, lc, seed, ids, mask, labels):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    _, st = random_weights(cfg, seed, "F32")
    AD = random_adapter(cfg, lc, seed + 100)
    ids = torch.tensor(ids, dtype=torch.int64)
    mask = torch.tensor(mask, dtype=torch.int64)
    labels = torch.tensor(labels, dtype=torch.int64)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(d, "adapter_config.json"), "w") as f:
        json.dump(adapter_config(lc), f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(d, "model.safetensors"), st,
                      {"format": "pt"})
    write_safetensors(os.path.join(d, "adapter_model.safetensors"),
                      {k: f32(v) for k, v in AD.items()}, {"format": "pt"})
    # the expected values: the files just written, loaded by the libraries
    pm = PeftModel.from_pretrained(load_base(d), d, is_trainable=True)
    pm.zero_grad(set_to_none=True)
    with om.F64Casts():
        out = pm(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
    loss = out.loss
    exp = {"input_ids": i64(ids), "attention_mask": i64(mask),
           "labels": i64(labels), "logits": f64(out.logits),
           "loss": f64(loss.reshape(1))}
    grads = {}
    for n, p in pm.named_parameters():
        if p.requires_grad:
            grads[n.replace(".default.", ".")] = p.grad
    if sorted(grads) != sorted(AD):
        sys.exit("%s: PEFT's adapter tensors %s are not the ones written %s"
                 % (name, sorted(grads), sorted(AD)))
    for k, g in grads.items():
        exp["grad." + k] = f64(g)
    write_safetensors(os.path.join(d, "expected.safetensors"), exp,
                      {"generator": "vectors/gen/gen_lora.py", "case": name})
    gmax = max(float(g.abs().max()) for g in grads.values())
    print("%-14s loss %.6f  |grad| max %.3g  %d tensors" %
          (name, float(loss.detach()), gmax, len(grads)))


def lora_cases():
    rnd = np.random.RandomState(99)

    def ids(v, t):
        return rnd.randint(0, v, size=t).tolist()

    # all seven targets, GQA 4/2, tied embeddings, r 2, alpha 16, masked
    # labels in the middle (prompt not scored)
    c = make_config(hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, head_dim=8,
                    vocab_size=64, rms_norm_eps=1e-5, rope_theta=10000.0,
                    tie_word_embeddings=True)
    t = ids(64, 9)
    lab = list(t)
    lab[1] = lab[2] = lab[3] = -100
    write_case("all7_gqa", c, {"r": 2, "lora_alpha": 4, "use_rslora": False,
                               "target_modules": TARGETS}, 1, [t], [[1] * 9],
               [lab])

    # the paper's MLP targets with rsLoRA r 4, MQA, head_dim 12 != 48/2,
    # only layer 1 of 3 adapted (layers_to_transform), untied head
    c = make_config(hidden_size=48, intermediate_size=40, num_hidden_layers=3,
                    num_attention_heads=2, num_key_value_heads=1, head_dim=12,
                    vocab_size=80, rms_norm_eps=1e-6, rope_theta=500000.0,
                    tie_word_embeddings=False)
    t = ids(80, 10)
    write_case("mlp_rslora_mqa", c,
               {"r": 4, "lora_alpha": 2, "use_rslora": True,
                "target_modules": ["gate_proj", "up_proj", "down_proj"],
                "layers_to_transform": [1]}, 2, [t], [[1] * 10], [t])

    # padded batch of 3 (right padding, pads labelled -100), q/v/o targets,
    # llama3 rope scaling, r 3
    c = make_config(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                    num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                    vocab_size=72, rms_norm_eps=1e-5, rope_theta=500000.0,
                    tie_word_embeddings=False, max_position_embeddings=1024,
                    rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                  "low_freq_factor": 1.0,
                                  "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 32})
    T = 8
    lens = [8, 5, 3]
    toks, masks, labs = [], [], []
    for n in lens:
        tt = ids(72, n) + [0] * (T - n)
        mm = [1] * n + [0] * (T - n)
        ll = [tt[i] if mm[i] else -100 for i in range(T)]
        toks.append(tt)
        masks.append(mm)
        labs.append(ll)
    labs[0][1] = -100
    write_case("padded_qvo", c, {"r": 3, "lora_alpha": 6, "use_rslora": False,
                                 "target_modules": ["q_proj", "v_proj",
                                                    "o_proj"]},
               3, toks, masks, labs)


# ------------------------------------------------------------------ AdamW
def hf_schedule(opt, kind, total, warmup):
    """transformers.get_scheduler as Trainer.create_scheduler calls it
    ("constant" is get_constant_schedule: no warmup)."""
    return get_scheduler(kind, opt, num_warmup_steps=warmup,
                         num_training_steps=total)


def adamw_case(name, kind, total, warmup, lr, wd, max_norm, accum, seed):
    """Parameters p0 (two tensors), per micro-step gradients g; runs
    torch.optim.AdamW with the schedule, HF clipping and accumulation
    (gradients summed over accum micro-batches, already scaled)."""
    g = torch.Generator().manual_seed(seed)
    p = [torch.randn(3, 5, generator=g), torch.randn(7, generator=g) * 0.1]
    params = [t.clone().requires_grad_(True) for t in p]
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=wd)
    sched = hf_schedule(opt, kind, total, warmup)
    grads, out = [], {}
    for step in range(total):
        for _ in range(accum):
            gg = [torch.randn(t.shape, generator=g) * 0.7 for t in p]
            grads.append(torch.cat([x.reshape(-1) for x in gg]))
            for t, x in zip(params, gg):
                t.grad = x.clone() if t.grad is None else t.grad + x
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        out["lr.%d" % step] = f64(torch.tensor([opt.param_groups[0]["lr"]]))
        out["grad_norm.%d" % step] = f64(norm.reshape(1))
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        flat = torch.cat([t.detach().reshape(-1) for t in params])
        st = [opt.state[t] for t in params]
        out["param.%d" % step] = f64(flat)
        out["exp_avg.%d" % step] = f64(torch.cat([s["exp_avg"].reshape(-1)
                                                  for s in st]))
        out["exp_avg_sq.%d" % step] = f64(
            torch.cat([s["exp_avg_sq"].reshape(-1) for s in st]))
    out["param.init"] = f64(torch.cat([t.reshape(-1) for t in p]))
    out["grads"] = f64(torch.stack(grads))
    meta = {"generator": "vectors/gen/gen_lora.py", "schedule": kind,
            "total_steps": str(total), "warmup": str(warmup), "lr": repr(lr),
            "weight_decay": repr(wd), "max_grad_norm": repr(max_norm),
            "grad_accum": str(accum), "tensor_sizes": "15,7"}
    d = os.path.join(HERE, "..", "adamw")
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, name + ".safetensors"), out, meta)
    print("adamw %-10s ok" % name)


# --------------------------------------------------- full-parameter training
FULL = os.path.join(HERE, "..", "full")
def full_loss(model, ids, mask, labels, n_total=None):
    """The model's own causal-LM loss (HF mean over the counted tokens, or
    the sum over num_items_in_batch = n_total as Trainer passes under
    gradient accumulation), float64-patched."""
    kw = {} if n_total is None else {"num_items_in_batch": n_total}
    with om.F64Casts():
        out = model(input_ids=ids, attention_mask=mask, labels=labels, **kw)
    return out.loss, out.logits


def full_case(name, cfg, seed, ids, mask, labels, traj=None):
    """Gradients of the HF mean loss w.r.t. every base weight (autograd,
    float64, transformers.LlamaForCausalLM; a tied head is the embedding
    parameter itself).  traj: (micro-batches [(ids, labels)], accum,
    steps, lr, warmup, wd, max_norm): torch.optim.AdamW with Trainer's two
    parameter groups (Trainer.get_decay_parameter_names: norms do not
    decay), get_scheduler("cosine"), clip_grad_norm_ and the loss
    normalised over the accumulated step."""
    d = os.path.join(FULL, name)
    os.makedirs(d, exist_ok=True)
    _, st = random_weights(cfg, seed, "F32")
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(d, "model.safetensors"), st,
                      {"format": "pt"})
    ids, mask, labels = (torch.tensor(x, dtype=torch.int64)
                         for x in (ids, mask, labels))
    model = load_base(d)
    model.zero_grad(set_to_none=True)
    loss, logits = full_loss(model, ids, mask, labels)
    loss.backward()
    exp = {"input_ids": i64(ids), "attention_mask": i64(mask),
           "labels": i64(labels), "logits": f64(logits),
           "loss": f64(loss.reshape(1))}
    P = dict(model.named_parameters())
    if sorted(P) != sorted(st):
        sys.exit("%s: HF parameters %s are not the weights written %s"
                 % (name, sorted(P), sorted(st)))
    for k, v in P.items():
        exp["grad." + k] = f64(v.grad)
    meta = {"generator": "vectors/gen/gen_lora.py", "case": name}
    if traj:
        micro, accum, steps, lr, warmup, wd, max_norm = traj
        model = load_base(d)
        decay = set(Trainer.get_decay_parameter_names(None, model))
        P = dict(model.named_parameters())
        groups = [{"params": [v for k, v in P.items() if k in decay],
                   "weight_decay": wd},
                  {"params": [v for k, v in P.items() if k not in decay],
                   "weight_decay": 0.0}]
        opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)
        sched = get_scheduler("cosine", opt, num_warmup_steps=warmup,
                              num_training_steps=steps)
        losses, norms, lrs = [], [], []
        for k in range(steps):
            mb = micro[k * accum:(k + 1) * accum]
            n_tot = sum(int((torch.tensor(lb)[1:] != -100).sum())
                        for _, lb in mb)
            tot = 0.0
            for ii, lb in mb:
                ti, tl = torch.tensor([ii]), torch.tensor([lb])
                lo, _ = full_loss(model, ti, torch.ones_like(ti), tl, n_tot)
                lo.backward()
                tot += float(lo)
            norms.append(float(torch.nn.utils.clip_grad_norm_(
                list(P.values()), max_norm)))
            lrs.append(opt.param_groups[0]["lr"])
            losses.append(tot)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
        exp["traj.input_ids"] = i64([ii for ii, _ in micro])
        exp["traj.labels"] = i64([lb for _, lb in micro])
        exp["traj.loss"] = f64(torch.tensor(losses))
        exp["traj.grad_norm"] = f64(torch.tensor(norms))
        exp["traj.lr"] = f64(torch.tensor(lrs))
        for k, v in P.items():
            exp["traj.final." + k] = f64(v)
        meta.update({"traj_accum": str(accum), "traj_steps": str(steps),
                     "traj_lr": repr(lr), "traj_warmup": str(warmup),
                     "traj_weight_decay": repr(wd),
                     "traj_max_grad_norm": repr(max_norm),
                     "traj_schedule": "cosine"})
    write_safetensors(os.path.join(d, "expected.safetensors"), exp, meta)
    print("%-14s loss %.6f  %d weights" % (name, float(loss.detach()), len(P)))


def full_cases():
    rnd = np.random.RandomState(7)

    def ids(v, t):
        return rnd.randint(0, v, size=t).tolist()

    # tied embeddings (head gradient summed into the embedding), GQA 4/2,
    # masked prompt labels, batch of 2; plus a 3-step AdamW trajectory
    # (accumulation 2, cosine with warmup, decay on matrices, clipping)
    c = make_config(hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, head_dim=4,
                    vocab_size=48, rms_norm_eps=1e-5, rope_theta=10000.0,
                    tie_word_embeddings=True)
    t = [ids(48, 7), ids(48, 7)]
    lab = [list(x) for x in t]
    lab[0][1] = lab[0][2] = -100
    micro = []
    for n in (7, 5, 6, 7, 4, 6):
        x = ids(48, n)
        lb = list(x)
        lb[1] = -100
        micro.append((x + [0] * (7 - n), lb + [-100] * (7 - n)))
    full_case("tied_gqa", c, 11, t, [[1] * 7] * 2, lab,
              (micro, 2, 3, 2e-2, 1, 0.1, 1.0))

    # untied head, GQA 4/1 with head_dim 8 != 16/4, llama3 rope scaling,
    # right-padded batch of 3 (pads labelled -100)
    c = make_config(hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=1, head_dim=8,
                    vocab_size=40, rms_norm_eps=1e-6, rope_theta=500000.0,
                    tie_word_embeddings=False, max_position_embeddings=256,
                    rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                  "low_freq_factor": 1.0,
                                  "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 16})
    T = 6
    toks, masks, labs = [], [], []
    for n in (6, 4, 2):
        tt = ids(40, n) + [0] * (T - n)
        mm = [1] * n + [0] * (T - n)
        toks.append(tt)
        masks.append(mm)
        labs.append([tt[i] if mm[i] else -100 for i in range(T)])
    full_case("untied_pad_llama3", c, 12, toks, masks, labs)


def main():
    torch.set_num_threads(1)
    if sys.argv[1:] == ["full"]:
        full_cases()
        return
    lora_cases()
    adamw_case("linear", "linear", 6, 0, 1e-3, 0.0, 1.0, 1, 5)
    adamw_case("cosine_wd", "cosine", 7, 2, 3e-2, 0.1, 2.0, 2, 6)
    adamw_case("const_clip", "constant", 5, 0, 1e-2, 0.01, 0.5, 3, 7)
    full_cases()


if __name__ == "__main__":
    main()
