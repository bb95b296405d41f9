/* knowledge.h - scoring of the knowledge-probe pipeline (Pletenev et al.
 * 2025, after SliCK, Gekhman et al. 2024): alias matching, knowledge
 * categories, the category shift matrix and reliability.  Definitions in
 * docs/metrics.md; normalisation in textnorm.h. */
#ifndef LLAMAREF_KNOWLEDGE_H
#define LLAMAREF_KNOWLEDGE_H

#include <stddef.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An answer is correct when the normalised form of some alias is a
 * non-empty substring of the normalised answer.  Returns 1 (correct), 0
 * (not), -1 on out of memory. */
int lr_alias_match(const char *answer, const char *const *aliases,
                   size_t n_aliases, lr_error *err);

/* SliCK categories, in the order of the shift matrix rows/columns. */
typedef enum lr_slick {
    LR_SLICK_HIGHLY_KNOWN = 0,
    LR_SLICK_MAYBE_KNOWN = 1,
    LR_SLICK_WEAKLY_KNOWN = 2,
    LR_SLICK_UNKNOWN = 3
} lr_slick;
#define LR_SLICK_N 4

/* "HighlyKnown", "MaybeKnown", "WeaklyKnown", "Unknown". */
const char *lr_slick_name(lr_slick c);
/* Parses one of those names (also "HK", "MK", "WK", "UK"); -1 if unknown. */
int lr_slick_parse(const char *name, lr_slick *out);

/* Category of one fact from n_prompts >= 1 greedy judgements
 * greedy_correct[i] (0/1) and the number of correct sampled answers over
 * all prompts (0 when no samples were drawn):
 *   HighlyKnown  every greedy answer correct
 *   MaybeKnown   some but not every greedy answer correct
 *   WeaklyKnown  no greedy answer correct, some sampled answer correct
 *   Unknown      nothing correct. */
int lr_slick_category(const unsigned char *greedy_correct, size_t n_prompts,
                      size_t n_sample_correct, lr_slick *out, lr_error *err);

/* Category transitions of the same facts before and after training. */
typedef struct lr_shift {
    size_t n;                              /* number of facts */
    size_t count[LR_SLICK_N][LR_SLICK_N];  /* [before][after] */
    double fraction[LR_SLICK_N][LR_SLICK_N]; /* count / n (0 when n = 0) */
    double positive; /* (UK->HK + UK->MK + MK->HK) / n */
    double negative; /* (HK->UK + HK->MK + MK->UK) / n */
} lr_shift;

/* Fills *out from before[i] -> after[i], i < n. */
int lr_shift_matrix(const lr_slick *before, const lr_slick *after, size_t n,
                    lr_shift *out, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
