/* lora_dropout.c - the dropout of PEFT's LoRA input: the masks drawn
 * (SplitMix64, docs/rng.md) as bits, and applied, xd = kept ? x * keep : 0
 * with keep = (lr_float)(1 / (1 - p)).  The trainer draws each mask once,
 * in the forward, and applies it again in the backward (dA's input and
 * dx); lr_lora_dropout draws and applies in one call.  The bit kernels
 * are in lora_dropout.h, which lora_linear.c shares.
 * Depends on: lora.h, lora_dropout.h (core/vec_internal.h). */
#include <stdint.h>
#include <string.h>

#include "llamaref/train/lora.h"
#include "train/lora_dropout.h"

/* Chunks of LO_CHUNK elements are shared between the OpenMP threads
 * whenever there are two (a chunk's 4,096 draws take a few microseconds,
 * more than a parallel region costs).  A chunk starting at element e0
 * draws from seed + e0 G and writes whole bytes of the mask (LO_CHUNK is
 * a multiple of 8): the same draws, the same bits, for any thread count. */
#define LO_CHUNK 4096

typedef void (*apply_fn)(lr_float *, const lr_float *, const unsigned char *,
                         size_t, lr_float);

#if VEC_HAVE
static void apply_generic(lr_float *xd, const lr_float *x,
                          const unsigned char *keep, size_t N, lr_float ks)
{
    keep_apply(xd, x, keep, 0, N, ks, 0);
}

#if VEC_X86_DISPATCH
__attribute__((target("avx512f")))
static void apply_avx512(lr_float *xd, const lr_float *x,
                         const unsigned char *keep, size_t N, lr_float ks)
{
    keep_apply(xd, x, keep, 0, N, ks, 0);
}

__attribute__((target("avx2")))
static void apply_avx2(lr_float *xd, const lr_float *x,
                       const unsigned char *keep, size_t N, lr_float ks)
{
    keep_apply(xd, x, keep, 0, N, ks, 0);
}
#endif

static apply_fn pick_apply(void)
{
#if VEC_X86_DISPATCH
    if (__builtin_cpu_supports("avx512f")) return apply_avx512;
    if (__builtin_cpu_supports("avx2")) return apply_avx2;
#endif
    return apply_generic;
}
#else
static void apply_plain(lr_float *xd, const lr_float *x,
                        const unsigned char *keep, size_t N, lr_float ks)
{
    size_t e;
    for (e = 0; e < N; e++) xd[e] = bit_at(keep, e) ? x[e] * ks : 0;
}

static apply_fn pick_apply(void)
{
    return apply_plain;
}
#endif

static lr_float keep_scale(double p)
{
    return (lr_float)(1.0 / (1.0 - p));
}

void lr_lora_dropout_keep(unsigned char *keep, int n, int in, double p,
                          uint64_t seed)
{
    const size_t N = (size_t)n * in;
    const long nc = (long)((N + LO_CHUNK - 1) / LO_CHUNK);
    long c;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if (nc >= 2)
#endif
    for (c = 0; c < nc; c++) {
        const size_t e0 = (size_t)c * LO_CHUNK;
        keep_bits(keep + e0 / 8, N - e0 < LO_CHUNK ? N - e0 : LO_CHUNK, p,
                  seed + e0 * DROP_G);
    }
}

/* xd = the mask applied to x, chunk by chunk: the mask's bits from keep,
 * or (keep NULL) each chunk's drawn from seed into a buffer of its own */
static void apply_chunks(lr_float *xd, const lr_float *x,
                         const unsigned char *keep, size_t N, double p,
                         uint64_t seed)
{
    const long nc = (long)((N + LO_CHUNK - 1) / LO_CHUNK);
    const apply_fn fn = pick_apply();
    const lr_float ks = keep_scale(p);
    long c;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if (nc >= 2)
#endif
    for (c = 0; c < nc; c++) {
        unsigned char drawn[LO_CHUNK / 8];
        const size_t e0 = (size_t)c * LO_CHUNK;
        const size_t m = N - e0 < LO_CHUNK ? N - e0 : LO_CHUNK;
        if (!keep) keep_bits(drawn, m, p, seed + e0 * DROP_G);
        fn(xd + e0, x + e0, keep ? keep + e0 / 8 : drawn, m, ks);
    }
}

void lr_lora_dropout_apply(lr_float *xd, const lr_float *x,
                           const unsigned char *keep, int n, int in, double p)
{
    apply_chunks(xd, x, keep, (size_t)n * in, p, 0);
}

void lr_lora_dropout(lr_float *xd, const lr_float *x, int n, int in,
                     double p, uint64_t seed)
{
    apply_chunks(xd, x, NULL, (size_t)n * in, p, seed);
}
