/* adamw.h - torch.optim.AdamW (default single-tensor path), HF Trainer
 * learning-rate schedules and global-norm gradient clipping.
 *
 * AdamW per step t (from 1), elementwise:
 *   p = p (1 - lr wd);  m = m + (1 - b1)(g - m);  v = b2 v + (1 - b2) g g
 *   bc1 = 1 - b1^t, bc2 = 1 - b2^t (double)
 *   p = p - (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps)
 * Schedules (HF get_*_schedule_with_warmup, evaluated at the optimizer
 * step index k = 0, 1, ... before the step):
 *   warmup (k < W): lr k / max(1, W)
 *   linear: lr max(0, (N - k) / max(1, N - W))
 *   cosine: lr max(0, 0.5 (1 + cos(pi (k - W) / max(1, N - W))))
 *   constant: lr (no warmup, like HF "constant").
 * Clipping: total = sqrt(sum g^2) over every trainable value (double);
 * coef = max_norm / (total + 1e-6); g *= coef when coef < 1.
 *
 * One step of the reference optimizer on a flat parameter vector:
 *     lr_adamw o; lr_adamw_init(&o, n, weight_decay, &err);
 *     lr_clip_grad_norm(grad, n, max_norm);       (optional)
 *     lr_adamw_step(&o, param, grad, lr);         (o.step becomes 1)
 *     lr_adamw_free(&o);
 * The moments o.m, o.v [n] are owned by o (zeroed by init, readable and
 * writable between steps to resume a state); param and grad are the
 * caller's.  lr_adamw_init fails only when out of memory. */
#ifndef LLAMAREF_ADAMW_H
#define LLAMAREF_ADAMW_H

#include <stddef.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_adamw {
    double beta1, beta2, eps, weight_decay;
    long step;     /* optimizer steps taken */
    size_t n;
    lr_float *m, *v; /* [n] first and second moments */
    /* [n] or NULL (not owned): element i decays only when decay_mask[i] is
     * nonzero, like torch parameter groups with weight_decay 0 for the
     * excluded ones (full training: norms).  NULL: every element decays. */
    const unsigned char *decay_mask;
} lr_adamw;

/* torch defaults (betas 0.9, 0.999, eps 1e-8) except weight_decay (given:
 * HF passes 0); m, v zeroed, step 0.  Returns 0, or -1 with err filled. */
int lr_adamw_init(lr_adamw *o, size_t n, double weight_decay, lr_error *err);
/* Frees o->m and o->v and zeroes *o (o must not be NULL; a zeroed or
 * freed o is fine). */
void lr_adamw_free(lr_adamw *o);
/* One step: o->step += 1, then the update above on param [n] (updated in
 * place) with grad [n] (read only) at learning rate lr. */
void lr_adamw_step(lr_adamw *o, lr_float *param, const lr_float *grad,
                   double lr);
/* x[0 .. n) = +0, written (so every page is touched by a write, not left
 * to be read first as the shared zero page), in chunks over the OpenMP
 * threads when large (torch's zero_grad): what the trainer does to its
 * gradient before each step and lr_adamw_init to the moments. */
void lr_zero_grad(lr_float *x, size_t n);

typedef enum { LR_SCHED_CONSTANT, LR_SCHED_LINEAR, LR_SCHED_COSINE } lr_sched;
/* "constant", "linear" or "cosine" (HF's lr_scheduler_type names) to *out;
 * -1 with err naming the string and the choices otherwise (*out untouched). */
int lr_sched_from_name(const char *name, lr_sched *out, lr_error *err);
/* The name of s (a static string). */
const char *lr_sched_name(lr_sched s);
/* The learning rate of optimizer step `step` (0-based, before the step) of
 * `total`, after `warmup` warmup steps, peaking at base_lr: the formulas at
 * the top of this header.  Cannot fail. */
double lr_schedule_lr(lr_sched s, long step, long total, long warmup,
                      double base_lr);

/* torch.nn.utils.clip_grad_norm_ over one flat gradient: total = the L2
 * norm of every element, coef = max_norm / (total + 1e-6), and when coef
 * < 1 every element *= coef.  Returns total (before clipping); clips only
 * when max_norm > 0.  The sum of squares and coef are computed in double
 * in both builds; torch, in a float32 run, takes per-tensor float32 norms
 * and then the norm of those, so the float build's total and coef can
 * differ from torch's in the last float32 bits (and are the more
 * accurate); in DOUBLE=1 both are float64 and agree to rounding. */
double lr_clip_grad_norm(lr_float *grad, size_t n, double max_norm);

#ifdef __cplusplus
}
#endif

#endif
