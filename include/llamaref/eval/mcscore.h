/* mcscore.h - multiple-choice scores from per-choice log-likelihoods, as
 * lm-evaluation-harness defines them for TruthfulQA (and accuracy for
 * MMLU-style tasks).  The log-likelihood of a choice is the sum of the
 * log-probabilities of its continuation tokens (computed elsewhere). */
#ifndef LLAMAREF_MCSCORE_H
#define LLAMAREF_MCSCORE_H

#include <stddef.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Index of the largest log-likelihood (the first on ties, like
 * numpy.argmax); NaN entries never win.  -1 when n == 0 or all NaN. */
long lr_mc_argmax(const double *ll, size_t n);

/* MC1: 1.0 when the argmax choice is the true one (index `gold`; TruthfulQA
 * mc1_targets list the true answer first, gold = 0), else 0.0. */
int lr_mc1(const double *ll, size_t n, size_t gold, double *score,
           lr_error *err);

/* MC2: the normalised probability mass of the true answers,
 *   sum_{label=1} exp(ll_i) / sum_i exp(ll_i),
 * computed as exp(ll_i - max ll) to avoid underflow (the harness
 * exponentiates directly; equal up to rounding where that does not
 * underflow).  labels[i] is 1 for a true answer, 0 for a false one; the
 * harness takes the answers before the first 0 label as true, which is the
 * same for TruthfulQA's mc2_targets (all true answers first). */
int lr_mc2(const double *ll, const unsigned char *labels, size_t n,
           double *score, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
