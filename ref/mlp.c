/* mlp.c - the SwiGLU elementwise part of the Llama MLP (see mlp.h). */
#include <math.h>

#include "llamaref/mlp.h"

void lr_swiglu_forward(lr_float *act, const lr_float *gate,
                       const lr_float *up, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
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
    size_t i;
    for (i = 0; i < n; i++) {
        double g = (double)gate[i], sg = 1.0 / (1.0 + exp(-g));
        dup[i] = dact[i] * (lr_float)(g * sg);
        dgate[i] = dact[i] * up[i] * (lr_float)(sg * (1.0 + g * (1.0 - sg)));
    }
}
