/* loss.c - causal language-model cross-entropy with HF semantics (loss.h).
 *
 * Row (b, t) of the logits predicts labels[b, t+1]; -100 and the last
 * position of each row are not counted.  log_softmax uses a max-shifted
 * log-sum-exp accumulated in double, so the loss is the same in the float
 * and double builds up to the rounding of the logits themselves.
 *
 * Backward: with p = softmax(z) and loss_row = -log p[y],
 *   d loss_row / d z_j = p_j - [j == y].
 * The batch loss is sum(loss_row) * grad_scale (grad_scale = 1/N for HF's
 * mean over the N counted tokens of the accumulated batch), so each counted
 * row's gradient is grad_scale * (p - onehot(y)); uncounted rows get 0.
 * Depends on: common (errors), core/exp_internal.h (lr_exp, exp_v4), libm's
 * log. */
#include "llamaref/model/loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/exp_internal.h"

/* sum over j ascending of exp(row[j] - mx) in double (lr_exp), 4 exps at
 * a time where the build has vectors (exp_v4: lr_exp's bits) */
VEC_INLINE double sum_exp_body(const lr_float *row, int V, double mx)
{
    double s = 0.0;
    int j = 0;
#if VEC_HAVE
    const exp_d4 m4 = exp_splat(mx);
    for (; j + 4 <= V; j += 4) {
        const exp_d4 e = exp_v4(exp_load4(row + j) - m4);
        s += e[0];
        s += e[1];
        s += e[2];
        s += e[3];
    }
#endif
    for (; j < V; j++) s += lr_exp((double)row[j] - mx);
    return s;
}

/* the largest of row[0 .. V-1] (NaNs skipped unless row[0] is one, as by
 * the scalar loop `if (row[j] > mx) mx = row[j]`), 8 lanes side by side
 * where the build has vectors: the same value whichever lane finds it.
 * Only a tie of +0 and -0 could give the other zero, and then every
 * row[j] - mx below, exp and the log-sum-exp are the same. */
VEC_INLINE double row_max_body(const lr_float *row, int V)
{
    lr_float mx = row[0];
    int j = 1;
#if VEC_HAVE
    if (V >= 16) {
        vec8 m = v8_splat(row[0]);
        int i;
        for (j = 0; j + 8 <= V; j += 8) {
            const vec8 v = v8_load(row + j);
            const __typeof__(v > m) gt = v > m; /* false for NaN: m kept */
            m = (vec8)(((__typeof__(gt))v & gt) | ((__typeof__(gt))m & ~gt));
        }
        for (i = 0; i < 8; i++)
            if (m[i] > mx) mx = m[i];
    }
#endif
    for (; j < V; j++)
        if (row[j] > mx) mx = row[j];
    return mx;
}

/* d[j] = grad_scale (exp(row[j] - lse) - [j == y]), likewise */
VEC_INLINE void dlogits_body(lr_float *d, const lr_float *row, int V, int y,
                             double lse, double grad_scale)
{
    int j = 0;
#if VEC_HAVE
    const exp_d4 l4 = exp_splat(lse), g4 = exp_splat(grad_scale);
    for (; j + 4 <= V; j += 4) {
        const exp_d4 p = exp_v4(exp_load4(row + j) - l4);
        exp_d4 o = p; /* p - 0 is p */
        if (y >= j && y < j + 4) /* p - 1 at the target, as below */
            o[y - j] = p[y - j] - 1.0;
        v4_store(d + j, exp_narrow4(g4 * o));
    }
#endif
    for (; j < V; j++) {
        const double p = lr_exp((double)row[j] - lse);
        d[j] = (lr_float)(grad_scale * (p - (j == y ? 1.0 : 0.0)));
    }
}

static double sum_exp_generic(const lr_float *row, int V, double mx)
{
    return sum_exp_body(row, V, mx);
}

static double row_max_generic(const lr_float *row, int V)
{
    return row_max_body(row, V);
}

static void dlogits_generic(lr_float *d, const lr_float *row, int V, int y,
                            double lse, double grad_scale)
{
    dlogits_body(d, row, V, y, lse, grad_scale);
}

#if VEC_X86_DISPATCH
/* AVX2: 4 doubles per register (the baseline's SSE2 takes two) */
__attribute__((target("avx2")))
static double sum_exp_avx2(const lr_float *row, int V, double mx)
{
    return sum_exp_body(row, V, mx);
}

__attribute__((target("avx2")))
static double row_max_avx2(const lr_float *row, int V)
{
    return row_max_body(row, V);
}

__attribute__((target("avx2")))
static void dlogits_avx2(lr_float *d, const lr_float *row, int V, int y,
                         double lse, double grad_scale)
{
    dlogits_body(d, row, V, y, lse, grad_scale);
}
#endif

/* log-sum-exp of one row, max-shifted, accumulated in double. */
static double row_logsumexp(const lr_float *row, int V)
{
    double mx;
#if VEC_X86_DISPATCH
    if (__builtin_cpu_supports("avx2")) {
        mx = row_max_avx2(row, V);
        return mx + log(sum_exp_avx2(row, V, mx));
    }
#endif
    mx = row_max_generic(row, V);
    return mx + log(sum_exp_generic(row, V, mx));
}

double lr_logprob(const lr_float *row, int V, int target)
{
    return (double)row[target] - row_logsumexp(row, V);
}

/* below this many logits (rows x V) the rows stay on one thread: each
 * logit costs two double exps (~30 ns on a Zen 3 core with libm's exp;
 * with exp_v4 a few ns), so 8192 take tens of microseconds, still more
 * than a parallel region (one training example of stories260K: 128 rows
 * x 512) */
#define LOSS_PAR_MIN 8192.0

/* Row r of the (B*T, V) logits: 0 when its target is -100 or it is the last
 * position of its sequence (dlogits row zeroed); else 1, *lp = log p[y]
 * and the row of dlogits = grad_scale * (p - onehot(y)).  lse (optional):
 * the row's log-sum-exp is stored in lse[r], or, when known, read from
 * there instead of computed. */
static int loss_row(const lr_float *logits, const int *labels, int T, int V,
                    long r, lr_float *dlogits, double grad_scale, double *lp,
                    double *lse_rows, int known)
{
    const lr_float *row = logits + (size_t)r * (size_t)V;
    const int y = r % T + 1 < T ? labels[r + 1] : LR_IGNORE_INDEX;
    double lse;
    if (y == LR_IGNORE_INDEX) {
        if (dlogits) memset(dlogits + (size_t)r * (size_t)V, 0,
                            (size_t)V * sizeof(lr_float));
        return 0;
    }
    if (lse_rows && known) {
        lse = lse_rows[r];
    } else {
        lse = row_logsumexp(row, V);
        if (lse_rows) lse_rows[r] = lse;
    }
    *lp = (double)row[y] - lse;
    if (dlogits) {
        lr_float *d = dlogits + (size_t)r * (size_t)V;
#if VEC_X86_DISPATCH
        if (__builtin_cpu_supports("avx2")) dlogits_avx2(d, row, V, y, lse, grad_scale);
        else
#endif
            dlogits_generic(d, row, V, y, lse, grad_scale);
    }
    return 1;
}

int lr_causal_lm_loss(const lr_float *logits, const int *labels, int B, int T,
                      int V, double *token_logprob, double *nll_sum,
                      long *n_counted, lr_float *dlogits, double grad_scale,
                      lr_error *err)
{
    return lr_causal_lm_loss_lse(logits, labels, B, T, V, token_logprob,
                                 nll_sum, n_counted, dlogits, grad_scale,
                                 NULL, 0, err);
}

int lr_causal_lm_loss_lse(const lr_float *logits, const int *labels, int B,
                          int T, int V, double *token_logprob,
                          double *nll_sum, long *n_counted, lr_float *dlogits,
                          double grad_scale, double *lse, int lse_known,
                          lr_error *err)
{
    double total = 0.0, *lp_rows, *owned = NULL;
    long count = 0;
    const long n_rows = (long)B * T;
    long r;
    int b, t;
    if (B < 0 || T < 0 || V <= 0)
        return lr_fail(err, "causal LM loss: bad shape B=%d T=%d V=%d", B, T,
                       V);
    /* Validate every label first so that no output is half-written. */
    for (b = 0; b < B; b++)
        for (t = 0; t < T; t++) {
            int y = labels[(size_t)b * T + t];
            if (y != LR_IGNORE_INDEX && (y < 0 || y >= V))
                return lr_fail(err,
                               "causal LM loss: label %d at batch %d position "
                               "%d is outside [0, %d) and is not -100",
                               y, b, t, V);
        }
    /* Rows are independent: each row's log-probability and gradient are
     * computed on its own (threads over rows when large), then the counted
     * rows' log-probabilities are summed serially in row order, so the
     * total is the same sequence of subtractions at any thread count. */
    lp_rows = token_logprob;
    if (!lp_rows && n_rows > 0) {
        lp_rows = malloc(sizeof *lp_rows * (size_t)n_rows);
        owned = lp_rows;
    }
    if (!lp_rows) {   /* no scratch: one row at a time (same bits) */
        double lp;
        for (r = 0; r < n_rows; r++)
            if (loss_row(logits, labels, T, V, r, dlogits, grad_scale, &lp,
                         lse, lse_known)) {
                total -= lp;
                count++;
            }
    } else {
#ifdef LR_OMP
#pragma omp parallel for schedule(static) \
    if ((double)n_rows * V >= LOSS_PAR_MIN)
#endif
        for (r = 0; r < n_rows; r++)
            if (!loss_row(logits, labels, T, V, r, dlogits, grad_scale,
                          &lp_rows[r], lse, lse_known))
                lp_rows[r] = 0.0;
        for (r = 0; r < n_rows; r++) {
            const int y = r % T + 1 < T ? labels[r + 1] : LR_IGNORE_INDEX;
            if (y == LR_IGNORE_INDEX) continue;
            total -= lp_rows[r];
            count++;
        }
        free(owned);
    }
    if (nll_sum) *nll_sum = total;
    if (n_counted) *n_counted = count;
    return 0;
}
