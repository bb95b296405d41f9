#!/usr/bin/env python3
"""ops_ctypes.py - llamaref's reference RoPE and attention from Python through
ctypes: the standard library only (no NumPy), plain ctypes arrays in and out.

    python3 ops_ctypes.py [PATH/TO/libllamaref.so]

Without an argument the library is found with `pkg-config --variable=libdir
llamaref` (or llamaref-double).  The script checks lr_float_size() to use
c_float or c_double (a DOUBLE=1 build is libllamaref-double.so), computes
llama3-scaled RoPE and a grouped-query causal attention with a padded key,
prints them, and compares them with a direct Python transcription of the
formulas in rope.h and attention.h.  Exit status 0 when they agree, 1 when
they do not, 2 when the library cannot be loaded.
"""
import ctypes
import math
import subprocess
import sys


def find_library():
    if len(sys.argv) > 1:
        return sys.argv[1]
    for name in ("llamaref", "llamaref-double"):
        try:
            libdir = subprocess.run(["pkg-config", "--variable=libdir", name],
                                    capture_output=True, text=True,
                                    check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            continue
        return "%s/lib%s.so" % (libdir, name)
    sys.exit("ops_ctypes: no library given and pkg-config finds no llamaref")


try:
    lib = ctypes.CDLL(find_library())
except OSError as e:
    print("ops_ctypes: %s" % e, file=sys.stderr)
    sys.exit(2)

lib.lr_version.restype = ctypes.c_char_p
lib.lr_float_size.restype = ctypes.c_int
REAL = ctypes.c_double if lib.lr_float_size() == 8 else ctypes.c_float
TOL = 1e-12 if REAL is ctypes.c_double else 1e-5
P_REAL = ctypes.POINTER(REAL)
P_DOUBLE = ctypes.POINTER(ctypes.c_double)
P_INT = ctypes.POINTER(ctypes.c_int)
P_UCHAR = ctypes.POINTER(ctypes.c_ubyte)


class AttnShape(ctypes.Structure):
    """struct lr_attn_shape of attention.h"""
    _fields_ = [(n, ctypes.c_int) for n in
                ("n_heads", "n_kv_heads", "head_dim", "Tq", "Tk", "q_off")]


lib.lr_rope_inv_freq_plain.argtypes = [P_DOUBLE, ctypes.c_int, ctypes.c_double,
                                       ctypes.c_double, ctypes.c_double,
                                       ctypes.c_double, ctypes.c_int]
lib.lr_rope_table.argtypes = [P_REAL, P_REAL, P_INT, ctypes.c_int, P_DOUBLE,
                              ctypes.c_int]
lib.lr_rope_forward.argtypes = [P_REAL, P_REAL, P_REAL, ctypes.c_int,
                                ctypes.c_int, ctypes.c_int]
lib.lr_attention_forward.argtypes = [P_REAL, P_REAL, P_REAL, P_REAL, P_REAL,
                                     P_REAL, P_UCHAR,
                                     ctypes.POINTER(AttnShape), P_REAL]
for f in ("lr_rope_inv_freq_plain", "lr_rope_table", "lr_rope_forward",
          "lr_attention_forward"):
    getattr(lib, f).restype = None


def seeded(n, seed):
    """n values in [-1, 1) from a 64-bit LCG (reproducible anywhere)."""
    out, x = [], seed
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append((x >> 11) / float(1 << 53) * 2.0 - 1.0)
    return out


def rel_err(got, want):
    md = max(abs(a - b) for a, b in zip(got, want))
    mx = max(abs(b) for b in want) or 1.0
    return md / mx


# ---- RoPE: T tokens, H heads of d values, llama3 scaling ----
T, H, KV, D = 5, 4, 2, 16
theta, factor, low, high, orig = 500000.0, 8.0, 1.0, 4.0, 16
pos = [0, 1, 2, 7, 300]
inv_freq = (ctypes.c_double * (D // 2))()
lib.lr_rope_inv_freq_plain(inv_freq, D, theta, factor, low, high, orig)
cos_t, sin_t = (REAL * (T * D // 2))(), (REAL * (T * D // 2))()
lib.lr_rope_table(cos_t, sin_t, (ctypes.c_int * T)(*pos), T, inv_freq, D)
x0 = seeded(T * H * D, 1)
x = (REAL * len(x0))(*x0)
lib.lr_rope_forward(x, cos_t, sin_t, T, H, D)


def py_inv_freq(i):
    f = 1.0 / theta ** (2 * i / D)
    wavelen = 2 * math.pi / f
    if wavelen < orig / high:
        return f
    if wavelen > orig / low:
        return f / factor
    s = (orig / wavelen - low) / (high - low)
    return (1 - s) * f / factor + s * f


want = list(x0)
for t in range(T):
    for h in range(H):
        b = (t * H + h) * D
        for i in range(D // 2):
            a = pos[t] * py_inv_freq(i)
            c, s = math.cos(a), math.sin(a)
            x1, x2 = x0[b + i], x0[b + i + D // 2]
            want[b + i] = x1 * c - x2 * s
            want[b + i + D // 2] = x2 * c + x1 * s
rope_err = rel_err(list(x), want)
print("llamaref %s through ctypes, lr_float = %s" %
      (lib.lr_version().decode(), "double" if REAL is ctypes.c_double else "float"))
print("rope q[0, head 0] =", " ".join("%.6g" % v for v in list(x)[:D]))
print("rope: relative error vs Python %.3g" % rope_err)

# ---- attention: GQA (H query heads on KV heads), causal, key 0 padding ----
q0, k0, v0 = seeded(T * H * D, 2), seeded(T * KV * D, 3), seeded(T * KV * D, 4)
mask = [0, 1, 1, 1, 1]
shape = AttnShape(H, KV, D, T, T, 0)
out = (REAL * (T * H * D))()
scores, probs = (REAL * (H * T * T))(), (REAL * (H * T * T))()
lib.lr_attention_forward(out, scores, probs, (REAL * len(q0))(*q0),
                         (REAL * len(k0))(*k0), (REAL * len(v0))(*v0),
                         (ctypes.c_ubyte * T)(*mask), ctypes.byref(shape), None)
want = [0.0] * (T * H * D)
for i in range(T):
    for h in range(H):
        kvh = h // (H // KV)
        qi = q0[(i * H + h) * D:(i * H + h + 1) * D]
        seen = [j for j in range(i + 1) if mask[j]]
        if not seen:
            continue  # a query that sees no key: output 0
        sc = [sum(a * b for a, b in zip(qi, k0[(j * KV + kvh) * D:(j * KV + kvh + 1) * D]))
              / math.sqrt(D) for j in seen]
        m = max(sc)
        e = [math.exp(s - m) for s in sc]
        z = sum(e)
        for d in range(D):
            want[(i * H + h) * D + d] = sum(
                p / z * v0[(j * KV + kvh) * D + d] for p, j in zip(e, seen))
attn_err = rel_err(list(out), want)
print("attention out[4, head 0] =",
      " ".join("%.6g" % v for v in list(out)[4 * H * D:4 * H * D + D]))
print("attention: relative error vs Python %.3g" % attn_err)
ok = rope_err <= TOL and attn_err <= TOL
print("OK" if ok else "MISMATCH (bound %g)" % TOL)
sys.exit(0 if ok else 1)
