/* mlp.h - the SwiGLU nonlinearity of the Llama MLP:
 *     mlp(n) = down_proj(silu(gate_proj(n)) * up_proj(n)),
 *     silu(g) = g / (1 + exp(-g))   (exp in double).
 * The projections are matmuls (forward.c); lr_swiglu_* are the elementwise
 * part, lr_mlp_* the whole MLP on plain arrays (the same calls forward.c
 * makes: lr_matmul's kernel and summation order).
 *
 * Contract: arrays caller-owned, row-major, nothing allocated or kept, no
 * error possible (sizes trusted); outputs must not overlap inputs. */
#ifndef LLAMAREF_MLP_H
#define LLAMAREF_MLP_H

#include <stddef.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* act[i] = silu(gate[i]) * up[i] for i < n. */
void lr_swiglu_forward(lr_float *act, const lr_float *gate,
                       const lr_float *up, size_t n);

/* Backward: dgate, dup [n] (written) from dact and the forward's gate, up. */
void lr_swiglu_backward(lr_float *dgate, lr_float *dup, const lr_float *dact,
                        const lr_float *gate, const lr_float *up, size_t n);

/* The whole MLP for n rows of x [n, dim]:
 *   gate = x w_gate^T, up = x w_up^T  [n, inter];  act = silu(gate) * up;
 *   out = act w_down^T [n, dim].
 * Weights as PyTorch stores them: w_gate, w_up [inter, dim], w_down
 * [dim, inter].  out, gate, up, act are written (gate, up, act are what
 * the backward needs). */
void lr_mlp_forward(lr_float *out, lr_float *gate, lr_float *up,
                    lr_float *act, const lr_float *x, const lr_float *w_gate,
                    const lr_float *w_up, const lr_float *w_down, int n,
                    int dim, int inter);

/* Backward of lr_mlp_forward given dout [n, dim] and the forward's x, gate,
 * up, act: dx [n, dim], dw_gate, dw_up [inter, dim] and dw_down [dim, inter]
 * are added to (+=); any of the four may be NULL (a frozen weight, or no
 * input gradient wanted).  scratch: 3 * n * inter values. */
void lr_mlp_backward(lr_float *dx, lr_float *dw_gate, lr_float *dw_up,
                     lr_float *dw_down, const lr_float *dout,
                     const lr_float *x, const lr_float *gate,
                     const lr_float *up, const lr_float *act,
                     const lr_float *w_gate, const lr_float *w_up,
                     const lr_float *w_down, int n, int dim, int inter,
                     lr_float *scratch);

#ifdef __cplusplus
}
#endif

#endif
