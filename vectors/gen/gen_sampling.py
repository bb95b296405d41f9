#!/usr/bin/python3
"""gen_sampling.py - expected tokens of the llamaref sampler (docs/sampling.md)
from an independent Python implementation of the documented algorithm and
of SplitMix64.  Writes vectors/sampling/cases.json: per case the logits,
the parameters, the seed and the first 40 sampled token ids (the same
logits fed at every step, so each step consumes exactly one draw).
Run: /usr/bin/python3 vectors/gen/gen_sampling.py"""
import json
import math
import os

M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def double(self):
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)


def sample(logits, temperature, top_k, top_p, min_p, rng):
    V = len(logits)
    if temperature == 0 or top_k == 1:
        return max(range(V), key=lambda i: (logits[i], -i))
    z = [x / temperature for x in logits]
    order = sorted(range(V), key=lambda i: (-z[i], i))
    n = top_k if 0 < top_k < V else V
    w = [math.exp(z[order[r]] - z[order[0]]) for r in range(n)]
    total = 0.0
    for x in w:
        total += x
    if top_p < 1:
        acc = 0.0
        for r in range(n):
            acc += w[r]
            if acc / total >= top_p:
                n = r + 1
                break
    if min_p > 0:
        for r in range(1, n):
            if w[r] < min_p:
                n = r
                break
    total = 0.0
    for r in range(n):
        total += w[r]
    u = rng.double() * total
    acc = 0.0
    for r in range(n):
        acc += w[r]
        if acc > u:
            return order[r]
    return order[n - 1]


def main():
    # logits exactly representable in float32 (so C float and double builds
    # see the same values): multiples of 1/64
    logits = [((i * 37) % 23 - 11) / 8.0 for i in range(24)]
    logits[5] = logits[9]  # a tie
    cases = []
    for name, t, k, p, mp, seed in [
        ("greedy", 0.0, 0, 1.0, 0.0, 1),
        ("temperature", 1.0, 0, 1.0, 0.0, 42),
        ("hot", 2.5, 0, 1.0, 0.0, 7),
        ("top_k", 1.0, 5, 1.0, 0.0, 3),
        ("top_p", 0.8, 0, 0.9, 0.0, 11),
        ("min_p", 1.0, 0, 1.0, 0.2, 5),
        ("all", 0.9, 8, 0.95, 0.05, 1234567),
    ]:
        rng = SplitMix64(seed)
        ids = [sample(logits, t, k, p, mp, rng) for _ in range(40)]
        cases.append({"name": name, "temperature": t, "top_k": k,
                      "top_p": p, "min_p": mp, "seed": seed, "ids": ids})
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "sampling", "cases.json")
    with open(out, "w") as f:
        json.dump({"generator": "vectors/gen/gen_sampling.py",
                   "logits": logits, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
