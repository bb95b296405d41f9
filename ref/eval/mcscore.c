/* mcscore.c - MC1 / MC2 / argmax accuracy from per-choice log-likelihoods
 * (see mcscore.h).  No dependencies beyond common.h and libm. */
#include <math.h>

#include "llamaref/eval/mcscore.h"

long lr_mc_argmax(const double *ll, size_t n)
{
    size_t i;
    long best = -1;
    for (i = 0; i < n; i++) {
        if (ll[i] != ll[i]) continue;
        if (best < 0 || ll[i] > ll[best]) best = (long)i;
    }
    return best;
}

int lr_mc1(const double *ll, size_t n, size_t gold, double *score,
           lr_error *err)
{
    long best;
    if (n == 0 || gold >= n)
        return lr_fail(err, "MC1: gold choice %lu of %lu choices",
                       (unsigned long)gold, (unsigned long)n);
    best = lr_mc_argmax(ll, n);
    if (best < 0) return lr_fail(err, "MC1: every log-likelihood is NaN");
    *score = (size_t)best == gold ? 1.0 : 0.0;
    return 0;
}

int lr_mc2(const double *ll, const unsigned char *labels, size_t n,
           double *score, lr_error *err)
{
    size_t i, n_true = 0;
    double mx = -INFINITY, p_true = 0, p_all = 0;
    for (i = 0; i < n; i++) {
        if (ll[i] != ll[i] || ll[i] == INFINITY)
            return lr_fail(err, "MC2: log-likelihood of choice %lu is %g",
                           (unsigned long)i, ll[i]);
        if (ll[i] > mx) mx = ll[i];
        n_true += labels[i] != 0;
    }
    if (n == 0 || n_true == 0 || n_true == n)
        return lr_fail(err, "MC2 needs true and false choices (%lu of %lu true)",
                       (unsigned long)n_true, (unsigned long)n);
    if (mx == -INFINITY)
        return lr_fail(err, "MC2: every choice has probability 0");
    for (i = 0; i < n; i++) {
        double p = exp(ll[i] - mx);
        if (labels[i]) p_true += p;
        p_all += p;
    }
    *score = p_true / p_all;
    return 0;
}
