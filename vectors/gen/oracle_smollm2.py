"""oracle_smollm2.py - logits oracle for SmolLM2-135M-Instruct (issue 21).

A maintainer tool: run it with the oracle environment,

    HF_HUB_OFFLINE=1 /work/oracle-env/bin/python vectors/gen/oracle_smollm2.py \
        --gguf data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf \
        --llamaref ./llamaref --llamaref-double build/double/llamaref \
        --work build/oracle_smollm2

transformers loads the same GGUF file (`from_pretrained(dir,
gguf_file=..., torch_dtype=torch.float64)`; its loader dequantises every
tensor with gguf-py and undoes llama.cpp's q/k row permutation) and
computes the logits of a few prompts in float64.  The token ids come from
llamaref's tokenizer (`llamaref tokenize --tokenizer FILE.gguf`):
transformers converts this GGUF tokenizer to a generic byte-level BPE and
may lose SmolLM's digit splitting, so it is used for weights and logits
only.  The float64 logits are written as the golden
`<work>/<prompt>.hf64.safetensors` ("logits" [T, vocab], F64), compared
with `llamaref dump` of the float build and of a DOUBLE=1 build (`--f64`)
by `llamaref verify` (default tolerances of the candidate's compute type)
and directly here: max |delta| / max |golden| over all logits, and argmax
agreement.  Exit status 1 if any verify fails.
"""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_model as om  # noqa: E402  (F64Casts, f64_inv_freq)

PROMPTS = [
    ("plain", False, "The capital of France is Paris. The capital of Germany is"),
    ("digits", False, "In 1969, 3 astronauts flew 384400 km to the Moon; 12+34=46."),
    ("chatml", True,
     "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
     "trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is the "
     "capital of France?<|im_end|>\n<|im_start|>assistant\n"),
    ("detox", True,
     "<|im_start|>user\nRewrite politely: this stupid idea is total "
     "garbage.<|im_end|>\n<|im_start|>assistant\n"),
]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def tokenize(bin_, gguf, text, special):
    cmd = [bin_, "tokenize", "--tokenizer", gguf, "--text", text]
    if special:
        cmd.append("--special")
    return [int(x) for x in run(cmd).stdout.split()]


class _NumpyF64:
    """np, except that np.float32 is np.float64: gguf-py's dequantisers
    evaluated in double precision (as vectors/gen/gen_gguf.py does)."""

    def __getattr__(self, k):
        return np.float64 if k == "float32" else getattr(np, k)


def dequantize_f64(data, qtype):
    """gguf.dequantize with every float32 step done in float64: the exact
    value of each quantised weight (F32 and F16 values are exact anyway)."""
    import gguf.quants as gq
    from gguf import GGMLQuantizationType as Q
    if qtype in (Q.F32, Q.F16, Q.BF16):  # reinterpreted bytes: exact
        return np.asarray(gq.dequantize(data, qtype), dtype=np.float64)
    saved = gq.np
    gq.np = _NumpyF64()
    try:
        out = gq.dequantize(data, qtype)
    finally:
        gq.np = saved
    return np.asarray(out, dtype=np.float64)


def load_hf(gguf, exact):
    """transformers' GGUF loader; exact: dequantise in float64 and use the
    rms_norm_eps 1e-5 that llamaref reads (the shortest decimal of the
    file's float32), instead of gguf-py's float32 dequantisation and the
    float32 eps widened to double."""
    import torch
    import gguf as mg  # transformers imports gguf.dequantize when loading
    from transformers import AutoModelForCausalLM
    d, f = os.path.split(os.path.abspath(gguf))
    saved = mg.dequantize
    if exact:
        mg.dequantize = dequantize_f64
    try:
        model = AutoModelForCausalLM.from_pretrained(
            d, gguf_file=f, torch_dtype=torch.float64,
            attn_implementation="eager")
    finally:
        mg.dequantize = saved
    if exact:
        for m in model.modules():
            if hasattr(m, "variance_epsilon"):
                m.variance_epsilon = 1e-5
        om.f64_inv_freq(model)
    model.eval()
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--llamaref", required=True)
    ap.add_argument("--llamaref-double", default=None)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from safetensors.numpy import load_file, save_file

    os.makedirs(a.work, exist_ok=True)
    models = {"hf": load_hf(a.gguf, False), "exact": load_hf(a.gguf, True)}
    model = models["hf"]
    cfg = model.config
    emb = model.model.embed_tokens.weight
    head = model.lm_head.weight
    print(f"transformers: {type(model).__name__}, hidden {cfg.hidden_size}, "
          f"layers {cfg.num_hidden_layers}, heads {cfg.num_attention_heads}/"
          f"{cfg.num_key_value_heads}, rope_theta {cfg.rope_theta}, "
          f"rms_eps {cfg.rms_norm_eps!r}, tie_word_embeddings "
          f"{cfg.tie_word_embeddings}, lm_head is embed_tokens: "
          f"{head.data_ptr() == emb.data_ptr()}")
    w32 = dict(models["hf"].named_parameters())
    wmax = 0.0
    for k, v in models["exact"].named_parameters():
        r = (w32[k].detach() - v.detach()).abs().max() / v.detach().abs().max()
        wmax = max(wmax, float(r))
    print(f"weights: gguf-py float32 dequantisation vs exact (float64): "
          f"max relative {wmax:.2e}")

    builds = [("float", a.llamaref, [])]
    if a.llamaref_double:
        builds.append(("double", a.llamaref_double, ["--f64"]))
    failed = passed = 0
    worst = {}
    print(f"{'prompt':8} {'T':>3} {'build':6} {'golden':6} {'max|d|':>10} "
          f"{'max|gold|':>9} {'relative':>9} {'argmax':>7} verify")
    for name, special, text in PROMPTS:
        ids = tokenize(a.llamaref, a.gguf, text, special)
        golds = {}
        for gname, m in models.items():
            with torch.no_grad():
                if gname == "exact":
                    with om.F64Casts():
                        logits = m(torch.tensor([ids])).logits[0].numpy()
                else:
                    logits = m(torch.tensor([ids])).logits[0].numpy()
            path = os.path.join(a.work, f"{name}.{gname}64.safetensors")
            save_file({"logits": np.ascontiguousarray(logits,
                                                      dtype=np.float64)}, path)
            golds[gname] = (logits, path)
        for bname, bin_, extra in builds:
            cand = os.path.join(a.work, f"{name}.{bname}.safetensors")
            run([bin_, "dump", "--model", a.gguf, "--ids",
                 " ".join(map(str, ids)), "--out", cand] + extra)
            c = load_file(cand)["logits"].astype(np.float64)
            for gname, (logits, path) in golds.items():
                gmax = float(np.abs(logits).max())
                dmax = float(np.abs(c - logits).max())
                agree = int((c.argmax(-1) == logits.argmax(-1)).sum())
                v = subprocess.run([a.llamaref, "verify", "--golden", path,
                                    "--candidate", cand],
                                   capture_output=True, text=True)
                if v.returncode == 0:
                    status = "pass"
                    passed += 1
                else:
                    status = f"FAIL (rc {v.returncode})"
                    # only the exact golden is the float64 truth of the
                    # double build: the others are reported, not required
                    if bname == "float" or gname == "exact":
                        failed += 1
                        sys.stdout.write(v.stdout + v.stderr)
                    else:
                        status = "beyond f64 tolerance (expected)"
                key = (bname, gname)
                worst[key] = max(worst.get(key, 0.0), dmax / gmax)
                print(f"{name:8} {len(ids):3d} {bname:6} {gname:6} "
                      f"{dmax:10.3e} {gmax:9.3f} {dmax / gmax:9.2e} "
                      f"{agree:3d}/{len(ids):<3d} {status}")
    for (bname, gname), w in worst.items():
        print(f"worst relative ({bname} build vs {gname} golden): {w:.2e}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
