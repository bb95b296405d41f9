/* rope.c - rotary position embedding (rotate_half convention) with the
 * Llama 3.1 frequency rescaling; see rope.h for the formulas.
 * Depends on: config (rope_theta, rope_type and factors). */
#include <math.h>
#include <string.h>

#include "llamaref/model/rope.h"

void lr_rope_inv_freq(const lr_config *cfg, double *inv_freq)
{
    const int d = cfg->head_dim;
    const double two_pi = 6.283185307179586476925286766559;
    int i;
    for (i = 0; i < d / 2; i++) {
        double f = 1.0 / pow(cfg->rope_theta, (double)(2 * i) / (double)d);
        if (cfg->rope_type == LR_ROPE_LLAMA3) {
            double L = (double)cfg->rope_original_max_position_embeddings;
            double lo = cfg->rope_low_freq_factor;
            double hi = cfg->rope_high_freq_factor;
            double wavelen = two_pi / f;
            if (wavelen < L / hi) {
                /* high frequency: unchanged */
            } else if (wavelen > L / lo) {
                f = f / cfg->rope_factor;
            } else {
                double s = (L / wavelen - lo) / (hi - lo);
                f = (1 - s) * f / cfg->rope_factor + s * f;
            }
        }
        inv_freq[i] = f;
    }
}

void lr_rope_inv_freq_plain(double *inv_freq, int head_dim, double theta,
                            double llama3_factor, double low_freq_factor,
                            double high_freq_factor,
                            int original_max_position_embeddings)
{
    /* the config-free form: a configuration holding just these fields */
    lr_config c;
    memset(&c, 0, sizeof c);
    c.head_dim = head_dim;
    c.rope_theta = theta;
    c.rope_type = llama3_factor > 0 ? LR_ROPE_LLAMA3 : LR_ROPE_DEFAULT;
    c.rope_factor = llama3_factor;
    c.rope_low_freq_factor = low_freq_factor;
    c.rope_high_freq_factor = high_freq_factor;
    c.rope_original_max_position_embeddings = original_max_position_embeddings;
    lr_rope_inv_freq(&c, inv_freq);
}

void lr_rope_table(lr_float *cos_t, lr_float *sin_t, const int *pos, int n,
                   const double *inv_freq, int head_dim)
{
    /* cos_t, sin_t (n, head_dim/2) */
    int t, i, half = head_dim / 2;
    for (t = 0; t < n; t++)
        for (i = 0; i < half; i++) {
            double a = (double)pos[t] * inv_freq[i];
            cos_t[(size_t)t * half + i] = (lr_float)cos(a);
            sin_t[(size_t)t * half + i] = (lr_float)sin(a);
        }
}

void lr_rope_forward(lr_float *x, const lr_float *cos_t, const lr_float *sin_t,
                     int n, int n_heads, int head_dim)
{
    /* x (n, n_heads, head_dim), rotated in place */
    int t, h, i, half = head_dim / 2;
    for (t = 0; t < n; t++) {
        const lr_float *c = cos_t + (size_t)t * half;
        const lr_float *s = sin_t + (size_t)t * half;
        for (h = 0; h < n_heads; h++) {
            lr_float *v = x + ((size_t)t * n_heads + h) * head_dim;
            for (i = 0; i < half; i++) {
                lr_float a = v[i], b = v[i + half];
                v[i] = a * c[i] - b * s[i];
                v[i + half] = b * c[i] + a * s[i];
            }
        }
    }
}

void lr_rope_backward(lr_float *dx, const lr_float *cos_t,
                      const lr_float *sin_t, int n, int n_heads, int head_dim)
{
    /* dx (n, n_heads, head_dim): dy in, dx out, in place.  The forward is
     * the rotation R(a) of each pair (x_i, x_{i+d/2}); R is orthogonal, so
     * dx = R(a)^T dy = R(-a) dy:
     *   dx_i = dy_i cos + dy_{i+d/2} sin,  dx_{i+d/2} = dy_{i+d/2} cos - dy_i sin */
    int t, h, i, half = head_dim / 2;
    for (t = 0; t < n; t++) {
        const lr_float *c = cos_t + (size_t)t * half;
        const lr_float *s = sin_t + (size_t)t * half;
        for (h = 0; h < n_heads; h++) {
            lr_float *v = dx + ((size_t)t * n_heads + h) * head_dim;
            for (i = 0; i < half; i++) {
                lr_float a = v[i], b = v[i + half];
                v[i] = a * c[i] + b * s[i];
                v[i + half] = b * c[i] - a * s[i];
            }
        }
    }
}
