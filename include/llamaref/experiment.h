/* experiment.h - the statistics of the knowledge-injection experiment
 * (Pletenev et al. 2025; docs/experiment.md) that combine several probe
 * answers or several runs: refusals and answer diversity over a probe's
 * greedy answers, reliability over the trained facts, and mean / sample
 * standard deviation over seeds.  Used by `llamaref knowledge-report` and
 * `llamaref experiment knowledge`; definitions in docs/metrics.md. */
#ifndef LLAMAREF_EXPERIMENT_H
#define LLAMAREF_EXPERIMENT_H

#include <stddef.h>

#include "llamaref/common.h"
#include "llamaref/diversity.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Refusals and diversity of the greedy answers of one probe. */
typedef struct lr_answer_stats {
    size_t questions;          /* questions probed */
    size_t answers;            /* answers given (questions x prompts) */
    size_t refusals;           /* answers that are refusals (refusal.h) */
    size_t questions_refusing; /* questions with at least one refusal */
    lr_diversity div;          /* diversity over all answers (refusals and
                                  empty answers excluded, diversity.h) */
} lr_answer_stats;

/* answers[q][0 .. n_answers[q]) are the greedy answers of question q <
 * n_questions.  Free with lr_answer_stats_free. */
int lr_answer_stats_compute(const char *const *const *answers,
                            const size_t *n_answers, size_t n_questions,
                            lr_answer_stats *out, lr_error *err);
void lr_answer_stats_free(lr_answer_stats *s);

/* Mean and sample standard deviation (divisor n - 1; 0 when n < 2) of
 * v[0..n); the mean is NaN when n = 0.  Summed in index order. */
void lr_mean_std(const double *v, size_t n, double *mean, double *sd);

#ifdef __cplusplus
}
#endif

#endif
