/* adamw.c - torch-exact AdamW (single-tensor path), HF learning-rate
 * schedules and HF/torch global-norm clipping; formulas in adamw.h.
 * Depends on: common (errors) and libm only: it updates plain arrays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/train/adamw.h"

/* below this many elements the element loops stay on one thread */
#define LR_ADAMW_PAR_MIN 65536L

void lr_zero_grad(lr_float *x, size_t n)
{
    const long chunk = 16384, nc = (long)((n + (size_t)chunk - 1) / (size_t)chunk);
    long c;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if ((long)n >= LR_ADAMW_PAR_MIN)
#endif
    for (c = 0; c < nc; c++) {
        const size_t j0 = (size_t)c * (size_t)chunk;
        const size_t m = n - j0 < (size_t)chunk ? n - j0 : (size_t)chunk;
        memset(x + j0, 0, sizeof *x * m);
    }
}

int lr_adamw_init(lr_adamw *o, size_t n, double weight_decay, lr_error *err)
{
    memset(o, 0, sizeof *o);
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->weight_decay = weight_decay;
    o->n = n;
    o->m = lr_alloc(n, sizeof(lr_float), "AdamW first moments", err);
    o->v = lr_alloc(n, sizeof(lr_float), "AdamW second moments", err);
    if (!o->m || !o->v) { lr_adamw_free(o); return -1; }
    /* zeros written, not calloc's untouched pages: the first step reads
     * each moment before writing it, and a page read first is the shared
     * zero page, replaced on the write by a copy whose fault flushes every
     * thread's TLB (5% of a 3-step 100M full run at 2 threads) */
    lr_zero_grad(o->m, n);
    lr_zero_grad(o->v, n);
    return 0;
}

void lr_adamw_free(lr_adamw *o)
{
    free(o->m);
    free(o->v);
    memset(o, 0, sizeof *o);
}

void lr_adamw_step(lr_adamw *o, lr_float *param, const lr_float *grad,
                   double lr)
{
    /* torch: param.mul_(1 - lr*wd); exp_avg.lerp_(grad, 1 - beta1);
     * exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2);
     * denom = (exp_avg_sq.sqrt() / sqrt(bc2)).add_(eps);
     * param.addcdiv_(exp_avg, denom, value=-lr/bc1) */
    const double t = (double)(++o->step);
    const double bc1 = 1.0 - pow(o->beta1, t), bc2 = 1.0 - pow(o->beta2, t);
    const lr_float decay = (lr_float)(1.0 - lr * o->weight_decay);
    const lr_float w1 = (lr_float)(1.0 - o->beta1);
    const lr_float b2 = (lr_float)o->beta2, w2 = (lr_float)(1.0 - o->beta2);
    const lr_float bc2_sqrt = (lr_float)sqrt(bc2), eps = (lr_float)o->eps;
    const lr_float step_size = (lr_float)(lr / bc1);
    const long n = (long)o->n;
    long i;
    /* every element's update is independent of the others: threads over
     * elements give the same bits at any thread count */
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if (n >= LR_ADAMW_PAR_MIN)
#endif
    for (i = 0; i < n; i++) {
        const lr_float g = grad[i];
        lr_float denom;
        if (o->weight_decay != 0 && (!o->decay_mask || o->decay_mask[i]))
            param[i] *= decay;
        o->m[i] += w1 * (g - o->m[i]);
        o->v[i] = o->v[i] * b2 + w2 * (g * g);
        denom = (lr_float)sqrt(o->v[i]) / bc2_sqrt + eps;
        param[i] += -step_size * (o->m[i] / denom);
    }
}

int lr_sched_from_name(const char *name, lr_sched *out, lr_error *err)
{
    if (!strcmp(name, "constant")) *out = LR_SCHED_CONSTANT;
    else if (!strcmp(name, "linear")) *out = LR_SCHED_LINEAR;
    else if (!strcmp(name, "cosine")) *out = LR_SCHED_COSINE;
    else return lr_fail(err, "unknown schedule '%s' (constant, linear, cosine)",
                        name);
    return 0;
}

const char *lr_sched_name(lr_sched s)
{
    return s == LR_SCHED_CONSTANT ? "constant"
           : s == LR_SCHED_LINEAR ? "linear" : "cosine";
}

double lr_schedule_lr(lr_sched s, long step, long total, long warmup,
                      double base_lr)
{
    const double pi = 3.14159265358979323846;
    double f, prog;
    if (s == LR_SCHED_CONSTANT) return base_lr;
    if (step < warmup) return base_lr * (double)step / (double)(warmup > 1 ? warmup : 1);
    if (s == LR_SCHED_LINEAR) {
        f = (double)(total - step) / (double)(total - warmup > 1 ? total - warmup : 1);
        return base_lr * (f > 0 ? f : 0);
    }
    prog = (double)(step - warmup) / (double)(total - warmup > 1 ? total - warmup : 1);
    f = 0.5 * (1.0 + cos(pi * 0.5 * 2.0 * prog));
    return base_lr * (f > 0 ? f : 0);
}

double lr_clip_grad_norm(lr_float *grad, size_t n, double max_norm)
{
    double ss = 0, total, coef;
    size_t i;
    for (i = 0; i < n; i++) ss += (double)grad[i] * grad[i];
    total = sqrt(ss);
    if (max_norm > 0) {
        coef = max_norm / (total + 1e-6);
        if (coef < 1) {
            const long nl = (long)n;
            long j;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if (nl >= LR_ADAMW_PAR_MIN)
#endif
            for (j = 0; j < nl; j++) grad[j] *= (lr_float)coef;
        }
    }
    return total;
}
