/* rope.h - rotary position embedding, Hugging Face rotate_half convention.
 *
 * For a head vector x of size d and position p, pairs (i, i + d/2), i < d/2:
 *     x'_i       = x_i cos(p f_i) - x_{i+d/2} sin(p f_i)
 *     x'_{i+d/2} = x_{i+d/2} cos(p f_i) + x_i sin(p f_i)
 * with f_i = inv_freq_i = theta^(-2i/d), optionally rescaled by the Llama 3.1
 * "llama3" rule (see lr_rope_inv_freq).  inv_freq, the angle p * f_i and its
 * cosine and sine are computed in double (HF uses float32; docs/SEMANTICS.md)
 * and rounded once to lr_float.
 *
 * Contract: head_dim even; a row of x is one token, n_heads heads of
 * head_dim values each ([n, n_heads * head_dim], head-major within the row
 * as in HF's q_proj / k_proj output); arrays caller-owned, nothing
 * allocated or kept, no error possible.  Use: inv_freq once per model,
 * a table per set of positions, then forward (or backward) per tensor. */
#ifndef LLAMAREF_ROPE_H
#define LLAMAREF_ROPE_H

#include "llamaref/core/common.h"
#include "llamaref/formats/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* inv_freq[head_dim / 2] for cfg (rope_theta, rope_type and its factors):
 * llama3: wavelen = 2 pi / f; wavelen < L/high_freq_factor: keep f;
 * wavelen > L/low_freq_factor: f / factor; otherwise with
 * s = (L/wavelen - low) / (high - low): (1 - s) f / factor + s f. */
void lr_rope_inv_freq(const lr_config *cfg, double *inv_freq);

/* The same without a config: rope_theta = theta; llama3_factor > 0 selects
 * the "llama3" rule with rope_scaling's factor, low_freq_factor,
 * high_freq_factor and original_max_position_embeddings (L above);
 * llama3_factor <= 0 is plain RoPE (the other three are then ignored). */
void lr_rope_inv_freq_plain(double *inv_freq, int head_dim, double theta,
                            double llama3_factor, double low_freq_factor,
                            double high_freq_factor,
                            int original_max_position_embeddings);

/* cos, sin: [n, head_dim / 2] written for the n positions pos[] (any
 * integers >= 0; a padded batch passes each row's own positions). */
void lr_rope_table(lr_float *cos_t, lr_float *sin_t, const int *pos, int n,
                   const double *inv_freq, int head_dim);

/* Rotates x [n, n_heads * head_dim] in place, row t by the table's row t. */
void lr_rope_forward(lr_float *x, const lr_float *cos_t, const lr_float *sin_t,
                     int n, int n_heads, int head_dim);

/* Backward: dx holds dy [n, n_heads * head_dim] and is rotated back in
 * place (the transpose of the rotation). */
void lr_rope_backward(lr_float *dx, const lr_float *cos_t,
                      const lr_float *sin_t, int n, int n_heads, int head_dim);

#ifdef __cplusplus
}
#endif

#endif
