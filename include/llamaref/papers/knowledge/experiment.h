/* experiment.h - the statistics of the knowledge-injection experiment
 * (Pletenev et al. 2025; docs/experiment.md) that combine several probe
 * answers or several runs: refusals and answer diversity over a probe's
 * greedy answers, reliability over the trained facts, and mean / sample
 * standard deviation over seeds.  Used by `llamaref knowledge-report` and
 * `llamaref experiment knowledge`; definitions in docs/metrics.md. */
#ifndef LLAMAREF_EXPERIMENT_H
#define LLAMAREF_EXPERIMENT_H

#include <stddef.h>

#include "llamaref/core/common.h"
#include "llamaref/papers/knowledge/diversity.h"

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

/* The JSON of s (the one layout of `knowledge-report` and `experiment`):
 *   "answers": N, "refusals": N, "refusal_rate": X,
 *   "questions_with_refusal": N, "question_refusal_rate": X,<sep>"diversity": {...}
 * (rates 0 when their denominator is 0; top: over-represented answers
 * listed, diversity.h).  sep: what follows the comma before "diversity"
 * (" " or a newline and indentation). */
int lr_answer_stats_write_json(lr_buf *b, const lr_answer_stats *s,
                               size_t top, const char *sep);

/* Reliability (docs/metrics.md): over the trained Unknown facts, the
 * fraction of correct greedy answers after training; with the share of
 * those facts HighlyKnown after, and the same fraction over every trained
 * example whose question was probed.  Accumulated one trained example at
 * a time with lr_reliability_add (start from a zeroed struct). */
typedef struct lr_reliability {
    size_t facts;        /* trained Unknown facts */
    size_t found;        /* of them, probed after training */
    size_t prompts;      /* their greedy answers */
    size_t correct;      /* of them correct */
    size_t highly_known; /* found facts HighlyKnown after training */
    size_t all, all_found, all_prompts, all_correct; /* every example */
} lr_reliability;

/* One trained example: is_unknown (it injects an Unknown fact, counted
 * once), found (its question was probed after training), n_prompts
 * greedy answers of which n_correct correct, highly_known (its category
 * after training). */
void lr_reliability_add(lr_reliability *r, int is_unknown, int found,
                        size_t n_prompts, size_t n_correct, int highly_known);

/* correct / prompts, highly_known / found, all_correct / all_prompts;
 * each `none` (e.g. 0 or NaN) when its denominator is 0. */
double lr_reliability_value(const lr_reliability *r, double none);
double lr_reliability_hk(const lr_reliability *r, double none);
double lr_reliability_all(const lr_reliability *r, double none);

/* Mean and sample standard deviation (divisor n - 1; 0 when n < 2) of
 * v[0..n); the mean is NaN when n = 0.  Summed in index order. */
void lr_mean_std(const double *v, size_t n, double *mean, double *sd);

#ifdef __cplusplus
}
#endif

#endif
