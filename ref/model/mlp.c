/* mlp.c - the SwiGLU elementwise part of the Llama MLP, and the whole MLP
 * on plain arrays for library users (see mlp.h).  Depends on: matmul,
 * core/exp_internal.h (lr_exp and its 4-lane form exp_v4). */
#include "llamaref/model/matmul.h"
#include "llamaref/model/mlp.h"
#include "core/exp_internal.h"

/* Below this many elements the loops stay on one thread.  Each element
 * costs one double exp (~14 ns on a Zen 3 core with libm's exp, a few with
 * exp_v4): 4096 take tens of microseconds, still more than a parallel
 * region (a training example of stories260K has 128 x 172 = 22016). */
#define SWIGLU_PAR_MIN 4096

/* act = silu(g) u, silu(g) = g / (1 + exp(-g)) in double (lr_exp) */
static lr_float silu_mul(lr_float gate, lr_float up)
{
    const double g = (double)gate;
    return (lr_float)(g / (1.0 + lr_exp(-g))) * up;
}

/* element i of lr_swiglu_backward (below) */
static void silu_backward(lr_float *dgate, lr_float *dup, const lr_float *dact,
                          const lr_float *gate, const lr_float *up, size_t i)
{
    const double g = (double)gate[i], sg = 1.0 / (1.0 + lr_exp(-g));
    dup[i] = dact[i] * (lr_float)(g * sg);
    dgate[i] = dact[i] * up[i] * (lr_float)(sg * (1.0 + g * (1.0 - sg)));
}

/* Elements [i0, i1) of the forward, 4 at a time where the build has
 * vectors (exp_v4 is lr_exp's bits, the rest the same operations). */
VEC_INLINE void fwd_body(lr_float *act, const lr_float *gate,
                         const lr_float *up, size_t i0, size_t i1)
{
    size_t i = i0;
#if VEC_HAVE
    for (; i + 4 <= i1; i += 4) {
        const exp_d4 g = exp_load4(gate + i), one = exp_splat(1.0);
        const exp_d4 s = g / (one + exp_v4(-g));
        v4_store(act + i, exp_narrow4(s) * v4_load(up + i));
    }
#endif
    for (; i < i1; i++) act[i] = silu_mul(gate[i], up[i]);
}

/* Elements [i0, i1) of the backward, likewise. */
VEC_INLINE void bwd_body(lr_float *dgate, lr_float *dup, const lr_float *dact,
                         const lr_float *gate, const lr_float *up, size_t i0,
                         size_t i1)
{
    size_t i = i0;
#if VEC_HAVE
    for (; i + 4 <= i1; i += 4) {
        const exp_d4 g = exp_load4(gate + i), one = exp_splat(1.0);
        const exp_d4 sg = one / (one + exp_v4(-g));
        const exp_d4 a = g * sg, b = sg * (one + g * (one - sg));
        const vec4 da = v4_load(dact + i);
        v4_store(dup + i, da * exp_narrow4(a));
        v4_store(dgate + i, da * v4_load(up + i) * exp_narrow4(b));
    }
#endif
    for (; i < i1; i++) silu_backward(dgate, dup, dact, gate, up, i);
}

typedef void (*fwd_fn)(lr_float *, const lr_float *, const lr_float *, size_t,
                       size_t);
typedef void (*bwd_fn)(lr_float *, lr_float *, const lr_float *,
                       const lr_float *, const lr_float *, size_t, size_t);

static void fwd_generic(lr_float *act, const lr_float *gate,
                        const lr_float *up, size_t i0, size_t i1)
{
    fwd_body(act, gate, up, i0, i1);
}

static void bwd_generic(lr_float *dgate, lr_float *dup, const lr_float *dact,
                        const lr_float *gate, const lr_float *up, size_t i0,
                        size_t i1)
{
    bwd_body(dgate, dup, dact, gate, up, i0, i1);
}

#if VEC_X86_DISPATCH
/* AVX2: 4 doubles per register (the baseline's SSE2 takes two) */
__attribute__((target("avx2")))
static void fwd_avx2(lr_float *act, const lr_float *gate, const lr_float *up,
                     size_t i0, size_t i1)
{
    fwd_body(act, gate, up, i0, i1);
}

__attribute__((target("avx2")))
static void bwd_avx2(lr_float *dgate, lr_float *dup, const lr_float *dact,
                     const lr_float *gate, const lr_float *up, size_t i0,
                     size_t i1)
{
    bwd_body(dgate, dup, dact, gate, up, i0, i1);
}
#endif

/* elements per parallel task: a multiple of 4, so that only the last task
 * has a tail (elementwise: the same bits however the tasks fall) */
#define SWIGLU_TASK 2048

void lr_swiglu_forward(lr_float *act, const lr_float *gate,
                       const lr_float *up, size_t n)
{
    fwd_fn f = fwd_generic;
    long t; /* elementwise: OpenMP threads share it, the same bits */
#if VEC_X86_DISPATCH
    if (__builtin_cpu_supports("avx2")) f = fwd_avx2;
#endif
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if (n >= SWIGLU_PAR_MIN)
#endif
    for (t = 0; t < (long)((n + SWIGLU_TASK - 1) / SWIGLU_TASK); t++) {
        const size_t i0 = (size_t)t * SWIGLU_TASK;
        f(act, gate, up, i0, n - i0 < SWIGLU_TASK ? n : i0 + SWIGLU_TASK);
    }
}

void lr_swiglu_backward(lr_float *dgate, lr_float *dup, const lr_float *dact,
                        const lr_float *gate, const lr_float *up, size_t n)
{
    /* act = silu(g) u with silu(g) = g sigma(g):
     *   du = dact silu(g)
     *   dg = dact u silu'(g),  silu'(g) = sigma(g) (1 + g (1 - sigma(g)))
     * (sigma and silu in double, as in the forward).  Written, not added. */
    bwd_fn f = bwd_generic;
    long t;
#if VEC_X86_DISPATCH
    if (__builtin_cpu_supports("avx2")) f = bwd_avx2;
#endif
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if (n >= SWIGLU_PAR_MIN)
#endif
    for (t = 0; t < (long)((n + SWIGLU_TASK - 1) / SWIGLU_TASK); t++) {
        const size_t i0 = (size_t)t * SWIGLU_TASK;
        f(dgate, dup, dact, gate, up, i0,
          n - i0 < SWIGLU_TASK ? n : i0 + SWIGLU_TASK);
    }
}

/* ---- the whole SwiGLU MLP on plain arrays (mlp.h): the matmuls of
 * forward.c around the elementwise part above, nothing recomputed ---- */
void lr_mlp_forward(lr_float *out, lr_float *gate, lr_float *up,
                    lr_float *act, const lr_float *x, const lr_float *w_gate,
                    const lr_float *w_up, const lr_float *w_down, int n,
                    int dim, int inter)
{
    lr_matmul_plain(gate, x, w_gate, n, dim, inter);
    lr_matmul_plain(up, x, w_up, n, dim, inter);
    lr_swiglu_forward(act, gate, up, (size_t)n * (size_t)inter);
    lr_matmul_plain(out, act, w_down, n, inter, dim);
}

void lr_mlp_backward(lr_float *dx, lr_float *dw_gate, lr_float *dw_up,
                     lr_float *dw_down, const lr_float *dout,
                     const lr_float *x, const lr_float *gate,
                     const lr_float *up, const lr_float *act,
                     const lr_float *w_gate, const lr_float *w_up,
                     const lr_float *w_down, int n, int dim, int inter,
                     lr_float *scratch)
{
    /* out = act Wd^T:  dWd += dout^T act,  dact = dout Wd;
     * then SwiGLU backward, and gate = x Wg^T, up = x Wu^T give
     * dWg += dgate^T x, dWu += dup^T x, dx += dgate Wg + dup Wu. */
    const size_t ni = (size_t)n * (size_t)inter;
    lr_float *dact = scratch, *dgate = scratch + ni, *dup = scratch + 2 * ni;
    size_t i;
    if (dw_down) lr_matmul_backward_weight(dw_down, dout, act, n, inter, dim);
    for (i = 0; i < ni; i++) dact[i] = 0;
    lr_matmul_backward_plain(dact, dout, w_down, n, inter, dim);
    lr_swiglu_backward(dgate, dup, dact, gate, up, ni);
    if (dw_gate) lr_matmul_backward_weight(dw_gate, dgate, x, n, dim, inter);
    if (dw_up) lr_matmul_backward_weight(dw_up, dup, x, n, dim, inter);
    if (dx) {
        lr_matmul_backward_plain(dx, dgate, w_gate, n, dim, inter);
        lr_matmul_backward_plain(dx, dup, w_up, n, dim, inter);
    }
}
