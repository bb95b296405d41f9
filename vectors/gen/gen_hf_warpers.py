"""gen_hf_warpers.py - which tokens Hugging Face transformers 4.57.6 keeps
for sampling, from its own logits warpers (issue 12):
TemperatureLogitsWarper -> TopKLogitsWarper -> TopPLogitsWarper ->
MinPLogitsWarper, the order of GenerationMixin._get_logits_processor, each
with min_tokens_to_keep = 1, on float32 scores (as generate() gives them).

    $(ORACLE_PY) vectors/gen/gen_hf_warpers.py

Writes vectors/sampling/hf_warpers.json: {"cases": [{"name", "logits"
(null = -inf), "temperature", "top_k", "top_p", "min_p", "kept"}]}, kept =
the token ids whose score is still finite after the warpers, ascending;
tests/model/test_sampler.c checks that llamaref draws only these tokens, and all
of them that have a kept probability >= 1%.

The "boundary_*" cases put the cumulative probability exactly on top_p:
k tokens of equal logit (probabilities 1/k, k a power of two, exact in
float32 and double) and top_p = j/k.  HF keeps exactly j of them (a token
is removed when the ascending cumulative probability is <= 1 - top_p), the
same as llamaref's "shortest prefix whose mass is >= top_p"; which j of
the equal tokens HF keeps depends on torch's sort, so for these cases
"kept" lists all k and "n_kept" gives j.  The seeded random cases skip
draws whose cumulative mass comes within 1e-5 of top_p or whose min_p
threshold comes within 1e-5 of a probability (float32 in HF, double in
llamaref could round differently there) and whose top-k boundary is tied.
Running it again reproduces the file byte for byte.
"""
import json
import math
import os
import random

import torch
from transformers.generation.logits_process import (MinPLogitsWarper, TemperatureLogitsWarper,
                                                    TopKLogitsWarper, TopPLogitsWarper)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "sampling", "hf_warpers.json")


def hf_kept(logits, temperature, top_k, top_p, min_p):
    scores = torch.tensor([[(-math.inf if x is None else x) for x in logits]], dtype=torch.float32)
    ids = torch.zeros((1, 1), dtype=torch.long)
    warpers = [TemperatureLogitsWarper(temperature)]
    if top_k > 0:
        warpers.append(TopKLogitsWarper(top_k))
    if top_p < 1:
        warpers.append(TopPLogitsWarper(top_p))
    if min_p > 0:
        warpers.append(MinPLogitsWarper(min_p))
    for w in warpers:
        scores = w(ids, scores)
    return [i for i, v in enumerate(scores[0].tolist()) if v != -math.inf]


def near_boundary(logits, temperature, top_k, top_p, min_p):
    z = sorted(((x / temperature), i) for i, x in enumerate(logits) if x is not None)
    z.sort(key=lambda t: (-t[0], t[1]))
    if top_k > 0 and top_k < len(z) and z[top_k - 1][0] - z[top_k][0] < 1e-4:
        return True
    if top_k > 0:
        z = z[:top_k]
    w = [math.exp(v - z[0][0]) for v, _ in z]
    total = sum(w)
    acc = 0.0
    for x in w:
        acc += x
        if abs(acc / total - top_p) < 1e-5:
            return True
    return any(abs(x - min_p) < 1e-5 for x in w) if min_p > 0 else False


def main():
    cases = []
    for k, j in ((4, 1), (4, 2), (4, 3), (8, 3), (8, 4), (8, 5), (2, 1)):
        logits = [1.5] * k + [None] * 3  # -inf tokens: probability 0
        top_p = j / k
        kept = hf_kept(logits, 1.0, 0, top_p, 0.0)
        cases.append({"name": "boundary_%d_of_%d" % (j, k), "logits": logits, "temperature": 1.0,
                      "top_k": 0, "top_p": top_p, "min_p": 0.0,
                      "kept": list(range(k)), "n_kept": len(kept)})
        assert len(kept) == j and all(i < k for i in kept), kept
    r = random.Random(1234)
    while len(cases) < 60:
        n = r.randint(3, 24)
        logits = [round(r.gauss(0, 2.5), 4) for _ in range(n)]
        temperature = r.choice([0.5, 0.7, 1.0, 1.3])
        top_k = r.choice([0, 0, 3, 5, 10])
        top_p = r.choice([1.0, 0.5, 0.8, 0.9, 0.95, round(r.uniform(0.05, 0.99), 3)])
        min_p = r.choice([0.0, 0.0, 0.05, 0.1, 0.2])
        if near_boundary(logits, temperature, top_k, top_p, min_p):
            continue
        kept = hf_kept(logits, temperature, top_k, top_p, min_p)
        cases.append({"name": "random_%d" % len(cases), "logits": logits, "temperature": temperature,
                      "top_k": top_k, "top_p": top_p, "min_p": min_p, "kept": kept, "n_kept": len(kept)})
    doc = {"generator": "vectors/gen/gen_hf_warpers.py (transformers 4.57.6 Temperature/TopK/TopP/MinP "
                        "logits warpers, float32)", "cases": cases}
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("gen_hf_warpers: %d cases -> %s" % (len(cases), os.path.relpath(OUT)))


if __name__ == "__main__":
    main()
