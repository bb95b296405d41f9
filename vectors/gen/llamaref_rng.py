#!/usr/bin/env python3
"""llamaref_rng.py - llamaref's own random streams (docs/rng.md: SplitMix64,
lr_stream_seed, doubles, unbiased below(n)), for the maintainer tools that
must reproduce llamaref's LoRA init, shuffle and dropout masks (no package
provides them; everything else comes from the real libraries)."""

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
