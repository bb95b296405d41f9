#!/usr/bin/env python3
"""gen_gguf.py - golden vectors for GGML dequantisation, from gguf-py.

The oracle is the real `gguf` package (gguf==0.19.0, gguf-py's quants.py,
NumPy).  For every type llamaref dequantises it decodes 10,000 random
blocks ("units": one block of a block format, 32 elements of F32/F16/BF16)
whose raw bytes come from splitmix64, a generator the C test reproduces,
so only the results are committed:

    <T>.f32hash   I32 [N]   per unit: FNV-1a 64 (low 32 bits) of the
                            float32 output's little-endian bytes (gguf-py's
                            own float32 result; any NaN hashed as 0x7fc00000)
    <T>.f64hash   I32 [N]   the same formulas evaluated in float64 (gguf-py's
                            code run with np.float32 standing for np.float64;
                            exact for every type), NaN as 0x7ff8000000000000
    <T>.first     F32 [8, block]  the first 8 units in full (for messages)

Random bytes make NaN/Inf scales and every bit pattern; blocks quantised by
gguf-py from random floats are checked too, for the types it quantises:

    <T>.qraw      U8  [M, type_size]  gguf-py quantize() of M blocks
    <T>.qf32hash / <T>.qf64hash      their dequantisation hashes
    <T>.quanthash I32 [N]   hash of quantize() bytes of N random float
                            blocks (F16, BF16, Q8_0: llamaref quantises
                            these itself for export-gguf)

Stream definitions (shared with tests/test_quant.c):
  splitmix64(state): state += 0x9E3779B97F4A7C15; z = state;
    z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9; z = (z ^ z >> 27) *
    0x94D049BB133111EB; return z ^ z >> 31
  raw bytes of type T: seed 1000 + T's id, successive outputs as 8
    little-endian bytes each, units back to back.
  random floats: seed 5000; per 32-element block one draw r0 gives the
    exponent e = r0 % 24 - 12, then each element x = ((r >> 40) - 2^23)
    * 2^(e - 23) (exact in float32).

Run: /work/oracle-env/bin/python vectors/gen/gen_gguf.py
Writes vectors/quant/quant_vectors.safetensors (deterministic).
"""
import os
import sys

import numpy as np
import gguf
import gguf.quants as gq
from gguf import GGMLQuantizationType as T
from safetensors.numpy import save_file

N = 10000
M = 1024
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "quant", "quant_vectors.safetensors")

TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
         "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
QUANTISABLE = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"]
QUANTISERS = ["F16", "BF16", "Q8_0"]

MASK = (1 << 64) - 1


def splitmix(seed, count):
    """count outputs of splitmix64 from state seed, as uint64 numpy."""
    with np.errstate(over="ignore"):
        idx = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(seed) + idx * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def raw_bytes(seed, nbytes):
    words = splitmix(seed, (nbytes + 7) // 8)
    return words.astype("<u8").view(np.uint8)[:nbytes].copy()


def unit_shape(name):
    qt = T[name]
    bs, ts = gguf.GGML_QUANT_SIZES[qt]
    if bs == 1:  # plain float types: units of 32 elements
        return 32, 32 * ts
    return bs, ts


def fnv_rows(arr_bytes):
    """FNV-1a 64 of each row of a uint8 matrix, low 32 bits as int32."""
    h = np.full(arr_bytes.shape[0], 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(arr_bytes.shape[1]):
            h = (h ^ arr_bytes[:, j].astype(np.uint64)) * np.uint64(0x100000001B3)
    return (h & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32)


def hash32(out):
    out = np.ascontiguousarray(out, dtype=np.float32).copy()
    bits = out.view(np.uint32)
    bits[np.isnan(out)] = 0x7FC00000
    return fnv_rows(bits.astype("<u4").view(np.uint8).reshape(out.shape[0], -1))


def hash64(out):
    out = np.ascontiguousarray(out, dtype=np.float64).copy()
    bits = out.view(np.uint64)
    bits[np.isnan(out)] = 0x7FF8000000000000
    return fnv_rows(bits.astype("<u8").view(np.uint8).reshape(out.shape[0], -1))


class _NumpyF64:
    """np, except that np.float32 is np.float64: gguf-py's dequantisers
    evaluated in double precision."""

    def __getattr__(self, k):
        return np.float64 if k == "float32" else getattr(np, k)


def dequant32(name, raw):
    qt = T[name]
    bs, _ = unit_shape(name)
    out = gq.dequantize(raw, qt)
    return np.asarray(out, dtype=np.float32).reshape(raw.shape[0], bs)


def dequant64(name, raw):
    if name in ("F32", "F16", "BF16"):  # a float32 value is exact in double
        return dequant32(name, raw).astype(np.float64)
    cls = gq._type_traits[T[name]]
    saved = gq.np
    gq.np = _NumpyF64()
    try:
        out = cls.dequantize_blocks(raw.copy())
    finally:
        gq.np = saved
    assert out.dtype == np.float64, (name, out.dtype)
    return out.reshape(raw.shape[0], -1)


def random_floats(nblocks):
    r = splitmix(5000, nblocks * 33).reshape(nblocks, 33)
    e = (r[:, 0] % np.uint64(24)).astype(np.int64) - 12
    m = (r[:, 1:] >> np.uint64(40)).astype(np.int64) - (1 << 23)
    x = m.astype(np.float64) * np.exp2((e - 23).astype(np.float64))[:, None]
    x32 = x.astype(np.float32)
    assert np.all(x32.astype(np.float64) == x)
    return x32


def main():
    np.seterr(all="ignore")  # NaN and Inf scales are part of the test
    tensors = {}
    for name in TYPES:
        qt = T[name]
        bs, ts = unit_shape(name)
        raw = raw_bytes(1000 + int(qt), N * ts).reshape(N, ts)
        o32 = dequant32(name, raw)
        o64 = dequant64(name, raw)
        # the float64 evaluation rounds to the float32 one wherever the
        # float32 chain is exact: a sanity check of the patched evaluation
        fin = np.isfinite(o32)
        assert np.all(np.isnan(o32) == np.isnan(o64.astype(np.float32))), name
        rel = np.abs(o64[fin] - o32[fin]) / np.maximum(np.abs(o64[fin]), 1e-30)
        assert rel.max(initial=0) < 1e-6, (name, rel.max())
        tensors[name + ".f32hash"] = hash32(o32)
        tensors[name + ".f64hash"] = hash64(o64)
        tensors[name + ".first"] = o32[:8].copy()
        print(f"{name}: {N} units of {bs} elements, {ts} bytes; "
              f"{int(np.isnan(o32).sum())} NaN, {int(np.isinf(o32).sum())} Inf values")
    x = random_floats(N)
    for name in QUANTISABLE:
        q = gq.quantize(x[:M].reshape(-1), T[name]).reshape(M, -1)
        tensors[name + ".qraw"] = np.ascontiguousarray(q, dtype=np.uint8)
        tensors[name + ".qf32hash"] = hash32(dequant32(name, q))
        tensors[name + ".qf64hash"] = hash64(dequant64(name, q))
    for name in QUANTISERS:
        q = gq.quantize(x, T[name])
        qb = np.ascontiguousarray(q).view(np.uint8).reshape(N, -1)
        tensors[name + ".quanthash"] = fnv_rows(qb)
    tensors["random_floats.first"] = x[:8].copy()
    meta = {"generator": "vectors/gen/gen_gguf.py", "gguf": gguf.__version__
            if hasattr(gguf, "__version__") else "0.19.0",
            "units": str(N), "quantised_units": str(M)}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file(tensors, OUT, metadata=meta)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    sys.exit(main())
