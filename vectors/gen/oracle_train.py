#!/usr/bin/env python3
"""oracle_train.py - `llamaref train` (LoRA, dropout 0) against the HF step
sequence run through the real libraries (hf_trainer.py: PEFT model, the
model's own loss with num_items_in_batch, clip_grad_norm_, torch AdamW,
transformers' schedules), step by step and on the final adapter (issue 12).

Runs the committed e2e setup and N random setups drawn from SEED (targets,
r, alpha, rsLoRA, lr, epochs, batch, accumulation, warmup, schedule, clipping
on/off) on the golden base models of vectors/lora/.  Compared per step:
loss, lr and grad norm (metrics.jsonl prints 9 significant digits, so
1e-7 relative is the floor); at the end every adapter parameter (read at
compute precision from optimizer.safetensors) against PEFT's.

Reference: hf_trainer.py with HF's float32 casts patched to float64
(oracle_model.F64Casts), the float64 truth.
  * DOUBLE=1 build: tolerance 1e-7 for the printed metrics, 1e-9 for the
    final parameters (--tol sets the first).
  * float build: hf_trainer.py is also run in float32 (unpatched, what a
    user runs), and llamaref's error against the truth must be at most K
    times HF float32's own, or under the floor (oracle_model.Judge; HF's
    level is its largest error over the setup's steps for each metric):
    K 8 (--ratio), floor 1e-6 (--floor).  The final parameters are judged
    by their mean error over the setup (each tensor's |x - truth| divided
    by its largest |truth|): K 8 (--param-ratio), floor 1e-8
    (--param-floor).  The worst single parameter is printed, not judged:
    AdamW's m / sqrt(v) turns float differences of tiny gradient components
    into parameter differences of ~lr, in HF as in llamaref, so one
    element's error is a matter of luck (160 setups of seeds 777, 271442
    and 31337: the worst-element ratio reached 9.1 while the mean's stayed
    at most 1.6; a fixed tolerance was either loose or flaky).

usage: oracle_train.py --bin LLAMAREF [--seed S] [--n N] [--ratio K]
           [--param-ratio K] [--param-floor F] [--floor F] [--tol X]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import oracle_model as om  # noqa: E402
import hf_trainer  # noqa: E402

LORA = os.path.join(HERE, "..", "lora")


def setups(seed, n):
    yield {"name": "e2e (train.test.sh)", "model": "all7_gqa", "targets": "all",
           "r": 2, "alpha": 4, "rslora": False, "lr": 1e-2, "epochs": 3,
           "batch": 2, "accum": 2, "warmup": 1, "seed": 3,
           "schedule": "linear", "clip": 1.0}
    rng = random.Random(seed)
    for k in range(n):
        ts = rng.sample(om.TARGETS, rng.randint(1, 7))
        yield {"name": "seed %d setup %d" % (seed, k),
               "model": rng.choice(["all7_gqa", "padded_qvo"]),
               "targets": ",".join(sorted(ts, key=om.TARGETS.index)),
               "r": rng.randint(1, 4), "alpha": rng.choice([1, 3, 6, 2.5]),
               "rslora": rng.random() < 0.4, "lr": rng.choice([1e-3, 5e-3, 2e-2]),
               "epochs": rng.randint(1, 3), "batch": rng.randint(1, 3),
               "accum": rng.randint(1, 3), "warmup": rng.randint(0, 2),
               "seed": rng.randint(0, 99),
               "schedule": rng.choice(["linear", "cosine", "constant"]),
               "clip": rng.choice([1.0, 0.5, 0.0])}


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


def run_one(binary, s, data, double, tmp, judge):
    mdir = os.path.join(LORA, s["model"])
    out = os.path.join(tmp, "ours")
    args = [binary, "train", "--model", mdir, "--data", data, "--out", out,
            "--targets", s["targets"], "--r", str(s["r"]), "--alpha", repr(s["alpha"]),
            "--dropout", "0", "--lr", repr(s["lr"]), "--epochs", str(s["epochs"]),
            "--batch", str(s["batch"]), "--grad-accum", str(s["accum"]),
            "--warmup", str(s["warmup"]), "--seed", str(s["seed"]),
            "--schedule", s["schedule"], "--max-grad-norm", repr(s["clip"])]
    if s["rslora"]:
        args.append("--rslora")
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode:
        return ["llamaref train: %s" % p.stderr.strip()[-300:]]
    def hf_run(flag):
        hf_out = os.path.join(tmp, "hf" + flag)
        hargs = [mdir, data, s["targets"], str(s["r"]), repr(s["alpha"]), repr(s["lr"]),
                 str(s["epochs"]), str(s["batch"]), str(s["accum"]), str(s["warmup"]),
                 str(s["seed"]), s["schedule"], "--max-grad-norm", repr(s["clip"]),
                 "--out", hf_out, "--" + flag] + (["--rslora"] if s["rslora"] else [])
        rows = hf_trainer.train(hargs)
        with safe_open(os.path.join(hf_out, "adapter_model.safetensors"), "np") as f:
            return rows, {k: f.get_tensor(k).astype(np.float64) for k in f.keys()}

    want, hf = hf_run("f64")                             # the float64 truth
    want32, hf32 = (None, {}) if double else hf_run("f32")  # HF float32
    got = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))]
    fails = []
    where = s["name"]
    if len(got) != len(want):
        return ["%d steps, HF %d" % (len(got), len(want))]
    for i, (g, w) in enumerate(zip(got, want)):
        for j, key in enumerate(("loss", "lr", "grad_norm")):
            if key == "grad_norm" and s["clip"] == 0:
                continue  # llamaref still reports it, the HF run does not compute it
            judge.cmp(fails, where, "step %d %s" % (i + 1, key), np.array([g[key]]),
                      np.array([w[j]]),
                      None if want32 is None else np.array([want32[i][j]]),
                      q="train " + key)
    # final parameters: optimizer.safetensors holds them at compute
    # precision in llamaref's order (layer, target, A then B)
    with safe_open(os.path.join(out, "optimizer.safetensors"), "np") as f:
        flat = f.get_tensor("params").astype(np.float64)
    off = 0
    import re

    def order(k):
        m = re.search(r"layers\.(\d+)\.\w+\.(\w+)\.lora_([AB])", k)
        return (int(m.group(1)), om.TARGETS.index(m.group(2)), m.group(3))
    total = sum(w.size for w in hf.values())
    if flat.size != total:
        fails.append("llamaref has %d parameters, PEFT %d" % (flat.size, total))
        return fails
    ours, truth, h32, worst = [], [], [], [0.0, 0.0]
    for k in sorted(hf, key=order):
        w = hf[k]
        g = flat[off:off + w.size].reshape(w.shape)
        off += w.size
        if double:
            judge.cmp(fails, where, "final " + k, g, w, q="train params")
            continue
        # float: each tensor's errors relative to its own largest value; the
        # worst element is recorded, the mean over the setup is judged
        den = float(np.max(np.abs(w))) or 1.0
        ours.append(g.ravel() / den)
        truth.append(w.ravel() / den)
        h32.append(hf32[k].ravel() / den)
        worst = [max(worst[0], om.rel_err(g, w, den)),
                 max(worst[1], om.rel_err(hf32[k], w, den))]
        judge.note("train params (worst element)", "direct",
                   om.rel_err(g, hf32[k], den), where)
    if ours:
        q = "train params (worst element)"  # recorded, not judged
        judge.note(q, "llamaref", worst[0], where)
        judge.note(q, "hf32", worst[1], where)
        judge.note(q, "ratio", worst[0] / max(worst[1], 1e-6 / 8), where)
        judge.cmp(fails, where, "final adapter (mean over %d parameters)" % off,
                  np.concatenate(ours), np.concatenate(truth), np.concatenate(h32),
                  den=1.0, q="train params (mean)", mean=True)
    judge.finish(fails, where)
    return fails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="./llamaref")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--tol", type=float, default=1e-7,
                    help="DOUBLE=1 build: tolerance against float64-patched HF "
                    "(1e-7: metrics.jsonl prints 9 digits; the final parameters, "
                    "read at compute precision, are within 1e-13)")
    ap.add_argument("--ratio", type=float, default=8.0,
                    help="float build: llamaref's error against the float64 truth "
                    "may be this many times HF float32's own (per-step loss, lr, "
                    "grad norm)")
    ap.add_argument("--param-ratio", type=float, default=8.0,
                    help="the same for the final adapter parameters' mean error")
    ap.add_argument("--param-floor", type=float, default=1e-8,
                    help="float build: a mean parameter error under this always passes")
    ap.add_argument("--floor", type=float, default=1e-6,
                    help="float build: errors under this always pass")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    data = os.path.join(LORA, "e2e", "data.jsonl")
    tmp0 = tempfile.mkdtemp(prefix="oracle_train_")
    subprocess.run([binary, "dump", "--model", os.path.join(LORA, "all7_gqa"),
                    "--ids", "1", "--out", os.path.join(tmp0, "p.safetensors")],
                   check=True, capture_output=True)
    with safe_open(os.path.join(tmp0, "p.safetensors"), "np") as f:
        double = (f.metadata() or {}).get("compute_type") == "double"
    shutil.rmtree(tmp0)
    judge = om.Judge(a.tol if double else None, None if double else a.ratio,
                     None, a.floor, {"train params (mean)": a.param_ratio},
                     {"train params": 1e-9}, {"train params (mean)": a.param_floor})
    print("oracle_train: llamaref %s build vs HF step sequence: %s" %
          ("DOUBLE=1" if double else "float",
           "float64-patched, tolerance %g (final parameters 1e-9)" % a.tol if double else
           "error against the float64-patched truth <= max(K x HF float32's own, "
           "%g), K %g (final parameters: the mean error, K %g, floor %g)" %
           (a.floor, a.ratio, a.param_ratio, a.param_floor)))
    npass = nfail = 0
    for s in setups(a.seed, a.n):
        tmp = tempfile.mkdtemp(prefix="oracle_train_")
        try:
            fails = run_one(binary, s, data, double, tmp, judge)
        except Exception as ex:  # noqa: BLE001 - reported as a failure
            fails = ["error: %s" % ex]
            judge.pending = []
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if fails:
            nfail += 1
            print("FAIL %s: %s" % (s["name"], json.dumps(s)))
            for f_ in fails[:10]:
                print("    " + f_)
        else:
            npass += 1
    judge.report()
    print("%d passed, %d failed" % (npass, nfail))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
