#!/usr/bin/python3
"""bench_lora_torch.py - the LoRA training step of `llamaref train`, timed in
PyTorch (Debian python3-torch, CPU, float32) for `make bench-train`
(docs/performance.md, "Training").  A benchmark, not a test.

The step is the one llamaref runs: HF Llama forward (RMSNorm, RoPE, GQA
attention with a causal mask, SwiGLU MLP, tied or separate lm_head) with
PEFT LoRA on the chosen projections, y = x W^T + s * B(A(dropout(x))),
base weights frozen (no weight gradients), HF shifted cross-entropy (mean
over counted tokens), backward, clip_grad_norm_(1.0), torch.optim.AdamW
and a linear LambdaLR.  The model is written the way transformers'
eager LlamaAttention/LlamaMLP compute it (repeat_kv, softmax in float32),
without the transformers package (not installed).  Base weights are random
with the checkpoint's shapes (speed does not depend on their values); the
batches are the same JSONL the llamaref run reads.

usage:
  bench_lora_torch.py --write-data FILE --vocab V --n N --len T [--seed S]
      writes N random pre-tokenized examples of T tokens (bos = 1)
  bench_lora_torch.py --config CONFIG.json|stories260K --data FILE.jsonl
      [--batch 8] [--r 8] [--alpha 16] [--dropout 0.1] [--targets all]
      [--epochs 1] [--threads N] [--label NAME] [--hf] [--full]
      --full: full-parameter training instead of LoRA (every weight,
      embeddings and norms included, gets a gradient and AdamW state; the
      LoRA options are ignored), as `llamaref train --full`
      --hf: the issue-16 yardstick instead of the hand-written step:
      transformers' LlamaForCausalLM (eager attention, float32, random
      init with the config's shapes) wrapped by PEFT's LoraConfig
      (r, alpha, dropout, the same target modules), loss from
      model(input_ids, labels=input_ids), same optimizer and schedule
      (needs transformers and peft, e.g. the oracle venv)
      prints one line: tokens/s over all steps (as llamaref's progress line
      counts them: from the first step), tokens/s without the first step,
      ms per step, peak RSS of this process (ru_maxrss)
"""
import argparse
import json
import math
import os
import random
import resource
import sys
import time

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
           "down_proj"]
# stories260K.bin (llama2.c): `llamaref info` of the checkpoint
STORIES260K = {"hidden_size": 64, "intermediate_size": 172,
               "num_hidden_layers": 5, "num_attention_heads": 8,
               "num_key_value_heads": 4, "vocab_size": 512,
               "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
               "tie_word_embeddings": True}


def write_data(path, vocab, n, length, seed):
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(n):
            ids = [1] + [rng.randrange(3, vocab) for _ in range(length - 1)]
            f.write(json.dumps({"input_ids": ids}) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write-data")
    ap.add_argument("--vocab", type=int)
    ap.add_argument("--n", type=int)
    ap.add_argument("--len", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--config")
    ap.add_argument("--data")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--r", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--targets", default="all")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--label", default="")
    ap.add_argument("--hf", action="store_true")
    ap.add_argument("--full", action="store_true")
    a = ap.parse_args()
    if a.write_data:
        write_data(a.write_data, a.vocab, a.n, a.len, a.seed)
        return

    # Debian's torch calls OpenBLAS (pthreads), which starts one thread per
    # core whatever torch.set_num_threads says: pin it before the import
    os.environ["OPENBLAS_NUM_THREADS"] = str(a.threads)
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.config == "stories260K":
        c = dict(STORIES260K)
    else:
        with open(a.config) as f:
            c = json.load(f)
    D, I = c["hidden_size"], c["intermediate_size"]
    L, H = c["num_hidden_layers"], c["num_attention_heads"]
    KV = c.get("num_key_value_heads") or H
    hd = c.get("head_dim") or D // H
    V, eps = c["vocab_size"], c["rms_norm_eps"]
    theta = float(c.get("rope_theta", 10000.0))
    tied = c.get("tie_word_embeddings", False)
    targets = TARGETS if a.targets == "all" else a.targets.split(",")
    if a.full:
        targets = []  # no adapters: every base weight is trained
    scale = a.alpha / a.r

    ex = [json.loads(line)["input_ids"] for line in open(a.data) if line.strip()]
    T = max(len(e) for e in ex)
    if any(len(e) != T for e in ex):
        sys.exit("bench_lora_torch.py: the examples must have one length")

    def uniform(shape, fan_in):
        b = 1.0 / math.sqrt(fan_in)
        return torch.empty(shape).uniform_(-b, b)

    shapes = {"q_proj": (H * hd, D), "k_proj": (KV * hd, D),
              "v_proj": (KV * hd, D), "o_proj": (D, H * hd),
              "gate_proj": (I, D), "up_proj": (I, D), "down_proj": (D, I)}
    embed = uniform((V, D), D)
    lm_head = embed if tied else uniform((V, D), D)
    final_norm = torch.ones(D)
    layers, lora = [], []
    for _ in range(L):
        w = {k: uniform(s, s[1]) for k, s in shapes.items()}
        w["input_layernorm"] = torch.ones(D)
        w["post_attention_layernorm"] = torch.ones(D)
        layers.append(w)
        ad = {}
        for t in targets:
            out, inp = shapes[t]
            A = uniform((a.r, inp), inp).requires_grad_()  # PEFT init
            B = torch.zeros(out, a.r, requires_grad=True)
            ad[t] = (A, B)
        lora.append(ad)
    params = [p for ad in lora for ab in ad.values() for p in ab]
    if a.full:
        params = [embed, final_norm] + [p for w in layers for p in w.values()]
        if not tied:
            params.append(lm_head)
        for p in params:
            p.requires_grad_()

    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    freqs = torch.outer(torch.arange(T).float(), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    causal = torch.full((T, T), float("-inf")).triu(1)

    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def rot(x):
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    def lin(x, l, t):
        y = F.linear(x, layers[l][t])
        if t in lora[l]:
            A, B = lora[l][t]
            xd = F.dropout(x, a.dropout, training=True) if a.dropout > 0 else x
            y = y + scale * F.linear(F.linear(xd, A), B)
        return y

    def forward(ids):
        Bn = ids.shape[0]
        x = F.embedding(ids, embed)
        for l in range(L):
            w = layers[l]
            h = rms(x, w["input_layernorm"])
            q = lin(h, l, "q_proj").view(Bn, T, H, hd).transpose(1, 2)
            k = lin(h, l, "k_proj").view(Bn, T, KV, hd).transpose(1, 2)
            v = lin(h, l, "v_proj").view(Bn, T, KV, hd).transpose(1, 2)
            q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
            k = k.repeat_interleave(H // KV, dim=1)  # repeat_kv
            v = v.repeat_interleave(H // KV, dim=1)
            s = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(hd) + causal
            p = torch.softmax(s, dim=-1, dtype=torch.float32)
            o = torch.matmul(p, v).transpose(1, 2).reshape(Bn, T, H * hd)
            x = x + lin(o, l, "o_proj")
            h = rms(x, w["post_attention_layernorm"])
            m = F.silu(lin(h, l, "gate_proj")) * lin(h, l, "up_proj")
            x = x + lin(m, l, "down_proj")
        return F.linear(rms(x, final_norm), lm_head)

    if a.hf:
        # the yardstick of issue 16: transformers + PEFT, as a user runs it
        import transformers
        import peft
        hc = transformers.LlamaConfig(
            vocab_size=V, hidden_size=D, intermediate_size=I,
            num_hidden_layers=L, num_attention_heads=H,
            num_key_value_heads=KV, head_dim=hd, rms_norm_eps=eps,
            rope_theta=theta, tie_word_embeddings=tied,
            max_position_embeddings=max(T, 128))
        hc._attn_implementation = "eager"
        hf = transformers.LlamaForCausalLM(hc).float()
        if not a.full:
            hf = peft.get_peft_model(hf, peft.LoraConfig(
                r=a.r, lora_alpha=a.alpha, lora_dropout=a.dropout,
                target_modules=targets, bias="none"))
        hf.train()
        params = [p for p in hf.parameters() if p.requires_grad]

        def forward(ids):  # noqa: F811 - the HF model instead
            return hf(input_ids=ids).logits

    nb = (len(ex) + a.batch - 1) // a.batch
    total = nb * a.epochs
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: max(0.0, (total - s) / max(1, total)))
    step_times, ntok = [], 0
    for ep in range(a.epochs):
        for b in range(nb):
            batch = torch.tensor(ex[b * a.batch:(b + 1) * a.batch])
            t0 = time.perf_counter()
            logits = forward(batch)
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, V),
                                   batch[:, 1:].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step_times.append(time.perf_counter() - t0)
            ntok += batch.numel()
            if not math.isfinite(loss.item()):
                sys.exit("bench_lora_torch.py: NaN loss")
    tok_step = ntok / len(step_times)
    all_s = sum(step_times)
    rest = step_times[1:] or step_times
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("torch %s: %d steps x %d tokens, threads %d: %.0f tok/s (%.0f "
          "without the first step), %.0f ms/step, peak RSS %.0f MB, "
          "final loss %.4f" % (a.label, len(step_times), tok_step, a.threads,
                               ntok / all_s, tok_step * len(rest) / sum(rest),
                               1e3 * all_s / len(step_times), rss, loss.item()))


if __name__ == "__main__":
    main()
