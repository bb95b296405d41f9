/* diversity.h - answer diversity ("answer explosion") statistics of the
 * knowledge pipeline: over all generated answers (questions x prompts),
 * refusals excluded, how many distinct answers there are, the mean and
 * standard deviation of their frequencies and which answers are
 * over-represented.  Definitions in docs/metrics.md. */
#ifndef LLAMAREF_DIVERSITY_H
#define LLAMAREF_DIVERSITY_H

#include <stddef.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The answer key of one generation: the first line of the text after the
 * first "answer:" (case-insensitive; the whole text when absent),
 * normalised (textnorm.h), with trailing '.' removed.  Returns a new
 * string or NULL on out of memory. */
char *lr_answer_key(const char *generated, lr_error *err);

typedef struct lr_answer_count {
    char *key;    /* answer key */
    size_t count; /* how often it occurs */
} lr_answer_count;

typedef struct lr_diversity {
    size_t n_total;    /* answers given */
    size_t n_refusals; /* of them refusals (refusal.h), not counted below */
    size_t n_empty;    /* of them with an empty key, not counted below */
    size_t n_answers;  /* counted answers = total - refusals - empty */
    size_t n_unique;   /* distinct keys among the counted answers */
    double mean_freq;  /* n_answers / n_unique (0 when none) */
    double std_freq;   /* population standard deviation of the counts */
    size_t n_over;     /* keys with count > mean + 3 std (the first n_over
                          entries of counts) */
    lr_answer_count *counts; /* all n_unique keys, by count descending, then
                                key ascending (bytewise) */
} lr_diversity;

/* The statistics of n generated answers (each normalised to its key by
 * lr_answer_key above; refusals and empty keys counted apart);
 * out->counts and its keys are allocated (answers are not kept).  Fails
 * (err) when lr_answer_key does or out of memory.
 * lr_diversity_free releases them (d not NULL; a zeroed d is fine). */
int lr_diversity_compute(const char *const *answers, size_t n,
                         lr_diversity *out, lr_error *err);
void lr_diversity_free(lr_diversity *d);
/* Appends {"counted", "empty", "unique", "mean_freq", "std_freq",
 * "over_represented", "top": [[key, count], ...]} with at most `top` keys:
 * the one JSON form of these statistics in every report. */
int lr_diversity_write_json(lr_buf *b, const lr_diversity *d, size_t top);

#ifdef __cplusplus
}
#endif

#endif
