/* matmul_internal.h - what the three files of the matmul share and
 * matmul.h does not say (internal to ref/model, not installed):
 *   matmul.c           y = x W^T: the reference kernel and the fast one
 *   matmul_backward.c  dx += dy W, reference and fast
 *   matmul_weight.c    dW += dy^T x, reference and fast
 * Here: the 16-lane vector type the fast kernels are written with (GCC/
 * clang vector extensions, or a struct of 16 lr_floats in plain C for
 * other compilers: the same arithmetic, lane by lane, multiply then add,
 * no FMA under -ffp-contract=off), its helpers (vzero, vload, vmuladd,
 * vsplat; tail_axpy, the last columns of both backward products), whether
 * x86-64 clones for AVX-512 and AVX2 are built (HAVE_X86_DISPATCH), the
 * AVX2 clones' 32-byte pieces of it (pvec), and the conversion of stored
 * weights (F32, F64, BF16, F16) to lr_float.  (core/vec_internal.h holds
 * the vector types of lora_linear.c and attention.c; these are the
 * matmul's own, used with any GCC/clang target.)
 * Depends on: matmul.h (common, dtype: bf16/f16 conversion, model:
 * lr_tensor). */
#ifndef LLAMAREF_MATMUL_INTERNAL_H
#define LLAMAREF_MATMUL_INTERNAL_H

#include <string.h>
#ifdef LR_OMP
#include <omp.h>
#endif

#include "llamaref/model/matmul.h"

#define LANES LR_MATMUL_LANES

/* The value of stored weight i as lr_float. */
static inline lr_float weight_at(const void *w, lr_dtype dt, size_t i)
{
    switch (dt) {
    case LR_F32: return (lr_float)((const float *)w)[i];
    case LR_F64: return (lr_float)((const double *)w)[i];
    case LR_BF16: return (lr_float)lr_bf16_to_f32(((const uint16_t *)w)[i]);
    case LR_F16: return (lr_float)lr_f16_to_f32(((const uint16_t *)w)[i]);
    default: return 0;
    }
}

/* Converts n weights starting at element i into dst. */
static inline void weight_range(lr_float *dst, const void *w, lr_dtype dt,
                                size_t i, int n)
{
    int k;
    switch (dt) {
    case LR_F32: {
        const float *p = (const float *)w + i;
        for (k = 0; k < n; k++) dst[k] = (lr_float)p[k];
        break;
    }
    case LR_F64: {
        const double *p = (const double *)w + i;
        for (k = 0; k < n; k++) dst[k] = (lr_float)p[k];
        break;
    }
    case LR_BF16: {
        /* the bits of lr_bf16_to_f32, written out here so that the loop
         * is inlined and vectorised (a call per weight took 80% of a LoRA
         * step on a BF16 base) */
        const uint16_t *p = (const uint16_t *)w + i;
        for (k = 0; k < n; k++) {
            const uint32_t b = (uint32_t)p[k] << 16;
            float f;
            memcpy(&f, &b, sizeof f);
            dst[k] = (lr_float)f;
        }
        break;
    }
    default:
        for (k = 0; k < n; k++) dst[k] = weight_at(w, dt, i + (size_t)k);
    }
}

#if defined(__GNUC__) && !defined(__TINYC__) && !defined(__PCC__)
#define HAVE_VEC 1
#if !defined(__clang__)
/* the vector helpers are always inlined: no vector crosses a call ABI */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef lr_float vec __attribute__((vector_size(LANES * sizeof(lr_float))));
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define HAVE_VEC 0
typedef struct vec { lr_float l[LANES]; } vec;
#define ALWAYS_INLINE static
#endif

ALWAYS_INLINE vec vzero(void)
{
    vec v;
    memset(&v, 0, sizeof v);
    return v;
}

ALWAYS_INLINE vec vload(const lr_float *p)
{
    vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

ALWAYS_INLINE vec vmuladd(vec acc, vec a, vec b)
{
#if HAVE_VEC
    return acc + a * b;
#else
    int j;
    for (j = 0; j < LANES; j++) acc.l[j] += a.l[j] * b.l[j];
    return acc;
#endif
}

ALWAYS_INLINE vec vsplat(lr_float s)
{
    vec v;
    int j;
#if HAVE_VEC
    /* element-wise, not `vzero() + s`: where FLT_EVAL_METHOD is 1 (s390x)
     * that sum is a double-to-vector conversion, which gcc rejects */
    v = vzero();
    for (j = 0; j < LANES; j++) v[j] = s;
#else
    for (j = 0; j < LANES; j++) v.l[j] = s;
#endif
    return v;
}

/* d[0 .. tw-1] (tw < LANES) += g[k * gs] * rows[k][.] for k = 0 .. n-1 in
 * order, rows: n rows of LANES values, zeros after tw: one vector on a
 * zero-padded copy of d, whose lanes after tw are thrown away (the last
 * in % LANES columns of dx += dy W and of dW += dy^T x). */
ALWAYS_INLINE void tail_axpy(lr_float *d, const lr_float *g, size_t gs,
                             const lr_float *rows, int n, int tw)
{
    lr_float tmp[LANES];
    vec a;
    int k;
    memset(tmp, 0, sizeof tmp);
    memcpy(tmp, d, sizeof *d * tw);
    a = vload(tmp);
    for (k = 0; k < n; k++)
        a = vmuladd(a, vsplat(g[(size_t)k * gs]),
                    vload(rows + (size_t)k * LANES));
    memcpy(tmp, &a, sizeof a);
    memcpy(d, tmp, sizeof *d * tw);
}

/* Rows per parallel task for `rows` rows: at most `most`, a multiple of
 * `least` (most is one too), for at least two tasks per OpenMP thread and
 * a task count that is a whole number of rounds of the threads, so the
 * static schedule gives every thread the same rows up to the rounding
 * (stories260K's 172 rows at 2 threads: 4 tasks of 44 rows and the rest,
 * 88 and 84 rows per thread; halving 64 gave 96 and 76).  Which task and
 * thread computes an output never changes its bits. */
static inline int task_rows(int rows, int most, int least)
{
#ifdef LR_OMP
    const int th = omp_get_max_threads();
    int ntask = (rows + most - 1) / most, n;
    if (ntask < 2 * th) ntask = 2 * th;
    ntask = (ntask + th - 1) / th * th;
    n = (rows + ntask - 1) / ntask;
    return (n + least - 1) / least * least;
#else
    (void)rows; (void)least;
    return most;
#endif
}

/* AVX-512 and AVX2 clones of a kernel body, chosen at run time */
#if HAVE_VEC && defined(__x86_64__) && !defined(__clang__) || \
    HAVE_VEC && defined(__x86_64__) && defined(__clang__) && __clang_major__ >= 9
#define HAVE_X86_DISPATCH 1
#else
#define HAVE_X86_DISPATCH 0
#endif

#if HAVE_X86_DISPATCH && !defined(LR_DOUBLE)
#define HAVE_BCAST_MUL 1
/* *g * w with the scalar *g broadcast inside the multiply (AVX-512's
 * embedded broadcast, {1to16}): the same product as vsplat(*g) * w.  On
 * Zen 4 a separate broadcast from memory (vbroadcastss) takes a turn of
 * the vector pipes that the multiplies and additions need, an embedded one
 * does not: a 4 x 4 block of products and sums ran at 94 GFLOP/s with
 * vbroadcastss and at 115 (the core's peak) with it.  GCC and clang embed
 * a broadcast only when it has one use, and the backward kernels use each
 * dy value four times, hence the one instruction written out (for the
 * AVX-512 clones of the float build: HAVE_BCAST_MUL). */
__attribute__((target("avx512f")))
ALWAYS_INLINE vec mul_bcast(const lr_float *g, vec w)
{
    vec p;
    __asm__("vmulps %1%{1to16%}, %2, %0" : "=v"(p) : "m"(*g), "v"(w));
    return p;
}

/* vload for the functions that use mul_bcast: clang rejects a vector
 * returned by a helper compiled without AVX-512 into a function with it
 * (the ABIs differ). */
__attribute__((target("avx512f")))
ALWAYS_INLINE vec vload_avx512(const lr_float *p)
{
    vec v;
    memcpy(&v, p, sizeof v);
    return v;
}
#else
#define HAVE_BCAST_MUL 0
#endif

#if HAVE_X86_DISPATCH
/* The AVX2 clones' hot kernels hold each vec as 32-byte pieces (pvec, PL
 * lanes): AVX2 has 16 registers of 32 bytes, and GCC 12 keeps a variable
 * of the 64-byte vec type in memory on such a target (every operation a
 * store and reloads through general registers: 4-6 GFLOP/s).  Lane j of a
 * vec is lane j % PL of piece j / PL, with the same products and sums, so
 * the pieces give the same bits as vec. */
typedef lr_float pvec __attribute__((vector_size(32)));
#define PL ((int)(32 / sizeof(lr_float)))

ALWAYS_INLINE pvec pload(const lr_float *p)
{
    pvec v;
    memcpy(&v, p, sizeof v);
    return v;
}

ALWAYS_INLINE void pstore(lr_float *p, pvec v)
{
    memcpy(p, &v, sizeof v);
}

ALWAYS_INLINE pvec psplat(lr_float s)
{
    pvec v;
    int j;
    for (j = 0; j < PL; j++) v[j] = s;
    return v;
}

/* pkeep(v): v stays in a register.  Without it GCC folds the load of a
 * weight piece into each multiply that uses it (two loads where one will
 * do: 10 loads per 16 arithmetic instructions in pass_2x4, more than the
 * two load ports keep up with).  An empty asm: no instruction, no value
 * changed.  clang checks the operand against the file's base target (no
 * 32-byte registers) before inlining into the AVX2 clone, and rejects it. */
#if defined(__clang__)
#define pkeep(v) ((void)0)
#else
#define pkeep(v) __asm__("" : "+x"(v))
#endif
#endif

#endif
