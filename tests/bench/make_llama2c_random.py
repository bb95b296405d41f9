#!/usr/bin/env python3
"""make_llama2c_random.py - writes a random Llama in the llama2.c checkpoint
format (the legacy "version 0" layout that llama2.c's run.c and llamaref's
llama2c loader read: 7 int32 header fields, then float32 tensors), for the
side-by-side decode benchmark (tests/bench/bench_decode.sh).  Speed does not
depend on the values, so they are small normal numbers from a fixed seed.

usage: make_llama2c_random.py OUT.bin [--dim 768 --hidden 2048 --layers 12
       --heads 12 --kv-heads 4 --vocab 32000 --seq-len 512]
The default shape is `llamaref bench`'s random 100.1M model (tied
embeddings: the header's vocab size is positive)."""
import argparse
import os
import struct

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--hidden", type=int, default=2048)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--seq-len", type=int, default=512)
    a = ap.parse_args()
    if a.dim % a.heads or a.heads % a.kv_heads:
        raise SystemExit("make_llama2c_random.py: dim must divide by heads, "
                         "heads by kv-heads")
    hd = a.dim // a.heads
    kvd = hd * a.kv_heads
    L = a.layers
    rng = np.random.default_rng(1)

    def w(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype("<f4")

    tmp = a.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<7i", a.dim, a.hidden, L, a.heads, a.kv_heads,
                            a.vocab, a.seq_len))
        f.write(w(a.vocab, a.dim).tobytes())           # token embedding
        f.write(np.ones((L, a.dim), "<f4").tobytes())  # attention norms
        f.write(w(L, a.dim, a.dim).tobytes())          # wq
        f.write(w(L, kvd, a.dim).tobytes())            # wk
        f.write(w(L, kvd, a.dim).tobytes())            # wv
        f.write(w(L, a.dim, a.dim).tobytes())          # wo
        f.write(np.ones((L, a.dim), "<f4").tobytes())  # MLP norms
        f.write(w(L, a.hidden, a.dim).tobytes())       # w1 (gate)
        f.write(w(L, a.dim, a.hidden).tobytes())       # w2 (down)
        f.write(w(L, a.hidden, a.dim).tobytes())       # w3 (up)
        f.write(np.ones(a.dim, "<f4").tobytes())       # final norm
        # the unused RoPE tables of the legacy format
        f.write(np.zeros(a.seq_len * hd, "<f4").tobytes())
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
