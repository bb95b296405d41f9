/* mlp.c - the SwiGLU elementwise part of the Llama MLP, and the whole MLP
 * on plain arrays for library users (see mlp.h).  Depends on: matmul. */
#include <math.h>

#include "llamaref/model/matmul.h"
#include "llamaref/model/mlp.h"

/* Below this many elements the loops stay on one thread.  Each element
 * costs one double exp (~14 ns on a Zen 3 core): 4096 take ~60 us, ample
 * to pay for a parallel region (a training example of stories260K has
 * 128 x 172 = 22016). */
#define SWIGLU_PAR_MIN 4096

void lr_swiglu_forward(lr_float *act, const lr_float *gate,
                       const lr_float *up, size_t n)
{
    long i; /* elementwise: OpenMP threads share it, the same bits */
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if (n >= SWIGLU_PAR_MIN)
#endif
    for (i = 0; i < (long)n; i++) {
        double g = (double)gate[i];
        act[i] = (lr_float)(g / (1.0 + exp(-g))) * up[i];
    }
}

void lr_swiglu_backward(lr_float *dgate, lr_float *dup, const lr_float *dact,
                        const lr_float *gate, const lr_float *up, size_t n)
{
    /* act = silu(g) u with silu(g) = g sigma(g):
     *   du = dact silu(g)
     *   dg = dact u silu'(g),  silu'(g) = sigma(g) (1 + g (1 - sigma(g)))
     * (sigma and silu in double, as in the forward).  Written, not added. */
    long i;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if (n >= SWIGLU_PAR_MIN)
#endif
    for (i = 0; i < (long)n; i++) {
        double g = (double)gate[i], sg = 1.0 / (1.0 + exp(-g));
        dup[i] = dact[i] * (lr_float)(g * sg);
        dgate[i] = dact[i] * up[i] * (lr_float)(sg * (1.0 + g * (1.0 - sg)));
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
