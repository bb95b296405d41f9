/* rmsnorm.c - RMSNorm forward (HF LlamaRMSNorm semantics, see rmsnorm.h).
 * Depends on: model (lr_tensor_get for F32/F64/BF16/F16 weights). */
#include <math.h>

#include "llamaref/rmsnorm.h"

void lr_rmsnorm_forward(lr_float *y, lr_float *rstd, const lr_float *x,
                        const lr_tensor *w, int n, int dim, double eps)
{
    /* x, y (n, dim); w (dim); rstd (n) */
    int t, i;
    for (t = 0; t < n; t++) {
        const lr_float *xt = x + (size_t)t * dim;
        lr_float *yt = y + (size_t)t * dim;
        double ss = 0;
        lr_float r;
        for (i = 0; i < dim; i++) ss += (double)xt[i] * (double)xt[i];
        r = (lr_float)(1.0 / sqrt(ss / dim + eps));
        if (rstd) rstd[t] = r;
        for (i = 0; i < dim; i++) yt[i] = lr_tensor_get(w, (size_t)i) * (xt[i] * r);
    }
}
