/* rmsnorm.h - RMSNorm as in Hugging Face LlamaRMSNorm:
 *     y = w * (x * rstd),   rstd = 1 / sqrt(mean(x^2) + eps)
 * eps is added to the mean, inside the square root.  The mean of squares is
 * accumulated in double (left to right), rstd rounded to lr_float.
 *
 * Contract: arrays caller-owned, row-major [n, dim] (one row per token),
 * nothing allocated or kept; eps >= 0 as in the config (rms_norm_eps);
 * no error is possible (sizes are trusted).  Backward functions add to
 * their outputs (+=).  The weight is an lr_tensor (any stored dtype) or,
 * in the _plain forms, an lr_float array [dim]. */
#ifndef LLAMAREF_RMSNORM_H
#define LLAMAREF_RMSNORM_H

#include "llamaref/core/common.h"
#include "llamaref/model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* x, y: [n, dim]; w: [dim]; rstd: [n] (saved for backward) or NULL.
 * y may equal x. */
void lr_rmsnorm_forward(lr_float *y, lr_float *rstd, const lr_float *x,
                        const lr_tensor *w, int n, int dim, double eps);

/* Backward for a frozen w: dx[n, dim] += d rmsnorm / dx applied to dy,
 * with rstd from the forward.  (Derivation in rmsnorm.c.) */
void lr_rmsnorm_backward(lr_float *dx, const lr_float *dy, const lr_float *x,
                         const lr_tensor *w, const lr_float *rstd, int n,
                         int dim);

/* Weight gradient: dw[dim] += sum over rows t of dy[t] * x[t] * rstd[t]
 * (y_i = w_i (x_i r), so dy/dw_i = x_i r), each column summed in double
 * over ascending t. */
void lr_rmsnorm_backward_weight(lr_float *dw, const lr_float *dy,
                                const lr_float *x, const lr_float *rstd,
                                int n, int dim);

/* Plain-array forms (w: lr_float [dim]), same computation as above:
 * forward writes y [n, dim] and rstd [n] (or NULL); backward adds the input
 * gradient to dx [n, dim] given the forward's x and rstd. */
void lr_rmsnorm_forward_plain(lr_float *y, lr_float *rstd, const lr_float *x,
                              const lr_float *w, int n, int dim, double eps);
void lr_rmsnorm_backward_plain(lr_float *dx, const lr_float *dy,
                               const lr_float *x, const lr_float *w,
                               const lr_float *rstd, int n, int dim);

#ifdef __cplusplus
}
#endif

#endif
