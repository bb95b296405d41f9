/* mlp.h - the SwiGLU nonlinearity of the Llama MLP:
 *     mlp(n) = down_proj(silu(gate_proj(n)) * up_proj(n)),
 *     silu(g) = g / (1 + exp(-g))   (exp in double).
 * The projections are matmuls (forward.c); this is the elementwise part. */
#ifndef LLAMAREF_MLP_H
#define LLAMAREF_MLP_H

#include <stddef.h>

#include "llamaref/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* act[i] = silu(gate[i]) * up[i] for i < n. */
void lr_swiglu_forward(lr_float *act, const lr_float *gate,
                       const lr_float *up, size_t n);

/* Backward: dgate, dup [n] (written) from dact and the forward's gate, up. */
void lr_swiglu_backward(lr_float *dgate, lr_float *dup, const lr_float *dact,
                        const lr_float *gate, const lr_float *up, size_t n);

#ifdef __cplusplus
}
#endif

#endif
