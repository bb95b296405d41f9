/* lora_dropout.h - the LoRA dropout's masks as bits, shared by
 * lora_dropout.c (the masks drawn and applied) and lora_linear.c (the
 * backward's dx); internal to ref/, not installed.
 *
 * Element e of a dropout with seed s is kept when u_e >= p, u_e the e-th
 * lr_rng_double of s (SplitMix64, docs/rng.md).  SplitMix64 is a counter:
 * draw e mixes s + (e + 1) G, so the draws of elements e0, e0 + 1, ...
 * start from s + e0 G, and lanes draw side by side.  A mask is kept as
 * bits: element e is bit e % 8 of byte e / 8.  Applying it,
 *   xd = kept ? x * keep : 0    (a dropped element is +0)
 * is the definition's expression, so a mask drawn once and applied in the
 * forward and twice in the backward gives the bits of three draws.
 * Depends on: core/vec_internal.h. */
#ifndef LLAMAREF_LORA_DROPOUT_H
#define LLAMAREF_LORA_DROPOUT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/vec_internal.h"

#define DROP_G UINT64_C(0x9E3779B97F4A7C15)

/* The next lr_rng_double of a SplitMix64 state, inlined for the dropout
 * loops (a call per element took a tenth of a small model's step): the
 * same arithmetic as rng.c, which stays the definition;
 * tests/train/test_lora.c checks the masks against lr_rng_double. */
static inline double next_uniform(uint64_t *state)
{
    uint64_t z = *state += DROP_G;
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* Element e's bit; the 8 bits of elements e .. e + 7 (all of them inside
 * the mask: the second byte is read only when e is not a multiple of 8). */
static inline unsigned bit_at(const unsigned char *keep, size_t e)
{
    return (unsigned)(keep[e >> 3] >> (e & 7)) & 1u;
}

static inline unsigned bits_at(const unsigned char *keep, size_t e)
{
    const unsigned sh = (unsigned)(e & 7);
    unsigned b = (unsigned)keep[e >> 3] >> sh;
    if (sh) b |= (unsigned)keep[(e >> 3) + 1] << (8 - sh);
    return b & 0xFFu;
}

/* keep[0 .. (N + 7) / 8) = the bits of the N draws after state, one at a
 * time (the bits past N in the last byte are 0); returns the state after
 * the N draws. */
static inline uint64_t keep_bits_plain(unsigned char *keep, size_t N,
                                       double p, uint64_t state)
{
    size_t e;
    memset(keep, 0, (N + 7) / 8);
    for (e = 0; e < N; e++)
        if (next_uniform(&state) >= p)
            keep[e >> 3] |= (unsigned char)(1u << (e & 7));
    return state;
}

#if VEC_HAVE
typedef uint64_t u64x8 __attribute__((vector_size(64)));
typedef int64_t i64x8 __attribute__((vector_size(64)));
typedef double f64x8 __attribute__((vector_size(64)));
#ifdef LR_DOUBLE
typedef uint64_t lf_bits8 __attribute__((vector_size(8 * sizeof(lr_float))));
#else
typedef uint32_t lf_bits8 __attribute__((vector_size(8 * sizeof(lr_float))));
#endif
typedef lr_float lf8 __attribute__((vector_size(8 * sizeof(lr_float))));

/* 8 draws side by side, each lane's the same integer arithmetic and the
 * same exact conversion to double as next_uniform. */
VEC_INLINE uint64_t keep_bits_body(unsigned char *keep, size_t N, double p,
                                   uint64_t state)
{
    const u64x8 step = {1, 2, 3, 4, 5, 6, 7, 8};
    size_t e = 0;
    for (; e + 8 <= N; e += 8) {
        u64x8 z = state + step * DROP_G;
        i64x8 k;
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        z ^= z >> 31;
        k = __builtin_convertvector(z >> 11, f64x8) *
                (1.0 / 9007199254740992.0) >= p;
        keep[e >> 3] = (unsigned char)((k[0] & 1) | (k[1] & 2) | (k[2] & 4) |
                                       (k[3] & 8) | (k[4] & 16) | (k[5] & 32) |
                                       (k[6] & 64) | (k[7] & 128));
        state += 8 * DROP_G;
    }
    if (e < N) state = keep_bits_plain(keep + (e >> 3), N - e, p, state);
    return state;
}

static inline uint64_t keep_bits_generic(unsigned char *keep, size_t N,
                                         double p, uint64_t state)
{
    return keep_bits_body(keep, N, p, state);
}

/* dst = mask(src) (add 0) or dst += mask(src) (add 1) for N elements whose
 * bits start at bit e0 of keep: kept ? src * ks : +0, 8 lanes at a time
 * with the bits as lane masks (the same product, the same +0). */
VEC_INLINE void keep_apply(lr_float *dst, const lr_float *src,
                           const unsigned char *keep, size_t e0, size_t N,
                           lr_float ks, int add)
{
    const lf_bits8 bit = {1, 2, 4, 8, 16, 32, 64, 128};
    lf8 kv;
    size_t e = 0;
    int j;
    for (j = 0; j < 8; j++) kv[j] = ks;
    for (; e + 8 <= N; e += 8) {
        const unsigned b = bits_at(keep, e0 + e);
        lf_bits8 bv;
        lf8 v, d;
        for (j = 0; j < 8; j++) bv[j] = b;
        memcpy(&v, src + e, sizeof v);
        v = (lf8)((lf_bits8)(v * kv) & (lf_bits8)((bv & bit) != 0));
        if (add) {
            memcpy(&d, dst + e, sizeof d);
            v = d + v;
        }
        memcpy(dst + e, &v, sizeof v);
    }
    for (; e < N; e++) {
        const lr_float m = bit_at(keep, e0 + e) ? src[e] * ks : 0;
        dst[e] = add ? dst[e] + m : m;
    }
}

#if VEC_X86_DISPATCH
__attribute__((target("avx512f,avx512dq")))
static inline uint64_t keep_bits_avx512(unsigned char *keep, size_t N,
                                        double p, uint64_t state)
{
    return keep_bits_body(keep, N, p, state);
}

/* The AVX2 clone draws 4 at a time (GCC keeps 64-byte vectors in memory
 * where registers have 32 bytes), and without AVX-512DQ's conversion of
 * 64-bit integers to double it compares the integers: the draw is
 * u = v 2^-53 exactly (v = z >> 11 < 2^53), so u >= p, for p in [0, 1],
 * exactly when v >= p 2^53 (exact too), that is v >= ceil(p 2^53).
 * v53x4(state): v of the draws after state, state + G .. state + 4 G.
 * p outside [0, 1] or NaN: one at a time, the definition. */
typedef int64_t i64x4 __attribute__((vector_size(32)));
typedef uint64_t u64x4 __attribute__((vector_size(32)));

VEC_INLINE __attribute__((target("avx2"))) i64x4 v53x4(uint64_t state)
{
    const u64x4 step = {1, 2, 3, 4};
    u64x4 z = state + step * DROP_G;
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (i64x4)((z ^ (z >> 31)) >> 11);
}

__attribute__((target("avx2")))
static inline uint64_t keep_bits_avx2(unsigned char *keep, size_t N,
                                      double p, uint64_t state)
{
    i64x4 tv;
    size_t e = 0;
    int j;
    if (!(p >= 0 && p <= 1)) return keep_bits_plain(keep, N, p, state);
    for (j = 0; j < 4; j++) tv[j] = (int64_t)ceil(p * 0x1p53);
    for (; e + 8 <= N; e += 8) {
        const i64x4 a = v53x4(state) >= tv;
        const i64x4 b = v53x4(state + 4 * DROP_G) >= tv;
        keep[e >> 3] = (unsigned char)((a[0] & 1) | (a[1] & 2) | (a[2] & 4) |
                                       (a[3] & 8) | (b[0] & 16) | (b[1] & 32) |
                                       (b[2] & 64) | (b[3] & 128));
        state += 8 * DROP_G;
    }
    if (e < N) state = keep_bits_plain(keep + (e >> 3), N - e, p, state);
    return state;
}
#endif /* VEC_X86_DISPATCH */
#endif /* VEC_HAVE */

/* keep_bits: the vector clone for this CPU (the same bits). */
static inline uint64_t keep_bits(unsigned char *keep, size_t N, double p,
                                 uint64_t state)
{
#if VEC_HAVE
#if VEC_X86_DISPATCH
    if (__builtin_cpu_supports("avx512dq"))
        return keep_bits_avx512(keep, N, p, state);
    if (__builtin_cpu_supports("avx2"))
        return keep_bits_avx2(keep, N, p, state);
#endif
    return keep_bits_generic(keep, N, p, state);
#else
    return keep_bits_plain(keep, N, p, state);
#endif
}

#endif
