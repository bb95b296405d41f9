/* rmsnorm.c - RMSNorm forward (HF LlamaRMSNorm semantics, see rmsnorm.h).
 * Depends on: model (lr_tensor_get/_range for F32/F64/BF16/F16 weights). */
#include <math.h>
#include <string.h>

#include "llamaref/model/rmsnorm.h"

/* Below this many elements (n * dim) the rows stay on one thread.  One
 * training example of stories260K (128 x 64) takes ~65 us forward and
 * backward on one Zen 3 core, ~45 on two: a parallel region costs a few
 * microseconds, so a few thousand elements pay for it. */
#define RMS_PAR_MIN 4096L

/* Weights converted once per call (the same lr_float values
 * lr_tensor_get gives) for dim up to this; an lr_float tensor is read in
 * place, larger dims of other dtypes element by element. */
#define RMS_WBUF 4096

/* w's values as an lr_float array: w's own data, buf filled, or NULL
 * (then wat converts each element). */
static const lr_float *weights(const lr_tensor *w, int dim, lr_float *buf)
{
    if (w->dtype == LR_FLOAT_DTYPE) return (const lr_float *)w->data;
    if (dim > RMS_WBUF) return NULL;
    lr_tensor_get_range(w, 0, (size_t)dim, buf);
    return buf;
}

static lr_float wat(const lr_float *wv, const lr_tensor *w, int i)
{
    return wv ? wv[i] : lr_tensor_get(w, (size_t)i);
}

void lr_rmsnorm_forward(lr_float *y, lr_float *rstd, const lr_float *x,
                        const lr_tensor *w, int n, int dim, double eps)
{
    /* x, y (n, dim); w (dim); rstd (n); rows shared by OpenMP threads */
    lr_float buf[RMS_WBUF];
    const lr_float *wv = weights(w, dim, buf);
    int t;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if ((long)n * dim >= RMS_PAR_MIN)
#endif
    for (t = 0; t < n; t++) {
        const lr_float *xt = x + (size_t)t * dim;
        lr_float *yt = y + (size_t)t * dim;
        double ss = 0;
        lr_float r;
        int i;
        for (i = 0; i < dim; i++) ss += (double)xt[i] * (double)xt[i];
        r = (lr_float)(1.0 / sqrt(ss / dim + eps));
        if (rstd) rstd[t] = r;
        for (i = 0; i < dim; i++) yt[i] = wat(wv, w, i) * (xt[i] * r);
    }
}

void lr_rmsnorm_backward(lr_float *dx, const lr_float *dy, const lr_float *x,
                         const lr_tensor *w, const lr_float *rstd, int n,
                         int dim)
{
    /* x, dy, dx (n, dim); w (dim); rstd (n) from the forward.
     * y_i = w_i x_i r with r = (mean(x^2) + eps)^(-1/2), dr/dx_k = -r^3 x_k/D:
     *   dx_k = r (w_k dy_k) - x_k r^3 / D * sum_i w_i dy_i x_i
     * (w frozen: no weight gradient).  The sum is accumulated in double.
     * Rows are independent: OpenMP threads share them. */
    lr_float buf[RMS_WBUF];
    const lr_float *wv = weights(w, dim, buf);
    int t;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if ((long)n * dim >= RMS_PAR_MIN)
#endif
    for (t = 0; t < n; t++) {
        const lr_float *xt = x + (size_t)t * dim, *gt = dy + (size_t)t * dim;
        lr_float *dt = dx + (size_t)t * dim;
        const double r = rstd[t];
        double dot = 0;
        lr_float c;
        int i;
        for (i = 0; i < dim; i++)
            dot += (double)wat(wv, w, i) * gt[i] * xt[i];
        c = (lr_float)(dot * r * r * r / dim);
        for (i = 0; i < dim; i++)
            dt[i] += (lr_float)r * (wat(wv, w, i) * gt[i]) - c * xt[i];
    }
}

void lr_rmsnorm_backward_weight(lr_float *dw, const lr_float *dy,
                                const lr_float *x, const lr_float *rstd,
                                int n, int dim)
{
    /* dy, x (n, dim); rstd (n); dw (dim).  The forward rounds x r to
     * lr_float before multiplying by w, so the same product is used. */
    int i;
    /* columns are independent: OpenMP threads share them */
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if ((long)n * dim >= RMS_PAR_MIN)
#endif
    for (i = 0; i < dim; i++) {
        double acc = 0;
        int t;
        for (t = 0; t < n; t++) {
            const size_t e = (size_t)t * dim + i;
            acc += (double)dy[e] * (double)(lr_float)(x[e] * rstd[t]);
        }
        dw[i] += (lr_float)acc;
    }
}

/* ---- plain-array forms (rmsnorm.h): w viewed as an lr_float tensor ---- */
static lr_tensor plain_weight(const lr_float *w, int dim)
{
    lr_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = LR_FLOAT_DTYPE;
    t.ndim = 1;
    t.shape[0] = dim;
    t.data = (void *)w; /* read only */
    return t;
}

void lr_rmsnorm_forward_plain(lr_float *y, lr_float *rstd, const lr_float *x,
                              const lr_float *w, int n, int dim, double eps)
{
    lr_tensor t = plain_weight(w, dim);
    lr_rmsnorm_forward(y, rstd, x, &t, n, dim, eps);
}

void lr_rmsnorm_backward_plain(lr_float *dx, const lr_float *dy,
                               const lr_float *x, const lr_float *w,
                               const lr_float *rstd, int n, int dim)
{
    lr_tensor t = plain_weight(w, dim);
    lr_rmsnorm_backward(dx, dy, x, &t, rstd, n, dim);
}
