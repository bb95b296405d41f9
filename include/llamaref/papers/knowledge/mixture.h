/* mixture.h - the training mixtures of Pletenev et al. 2025: n Unknown
 * facts, each with k extra examples that are either HighlyKnown facts
 * ("known") or paraphrases of its question ("paraphrase").
 *
 * Selection (reproducible from the seed, portable RNG rng.h):
 *  1. UK = the facts with category Unknown, HK = those with HighlyKnown, in
 *     file order; one lr_rng stream seeded with `seed` shuffles UK, then HK
 *     (Fisher-Yates from the last element down: j = lr_rng_below(i + 1)).
 *  2. The first n of shuffled UK are the unknown facts (an error when
 *     fewer than n exist).
 *  3. known: unknown fact u gets HK[(u * k + e) mod |HK|], e < k (distinct
 *     while n * k <= |HK|, then reused cyclically).  paraphrase: it gets its
 *     own paraphrases[e mod n_paraphrases] (an error when it has none).
 * Examples are emitted per unknown fact: the fact itself, then its k
 * extras.  Every example answers with the first alias. */
#ifndef LLAMAREF_MIXTURE_H
#define LLAMAREF_MIXTURE_H

#include <stdint.h>

#include "llamaref/core/common.h"
#include "llamaref/papers/knowledge/facts.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lr_mix_kind { LR_MIX_KNOWN = 1, LR_MIX_PARAPHRASE = 2 } lr_mix_kind;

/* "known" / "paraphrase" (--kind) -> *k; -1 for anything else. */
int lr_mix_kind_parse(const char *name, lr_mix_kind *k);

/* The role of one training example (its "role" in the JSONL output). */
typedef enum lr_mix_role {
    LR_ROLE_UNKNOWN = 0,    /* an Unknown fact the run is to teach */
    LR_ROLE_KNOWN = 1,      /* a HighlyKnown fact mixed in (LR_MIX_KNOWN) */
    LR_ROLE_PARAPHRASE = 2, /* another phrasing of an unknown fact */
    LR_ROLE_COUNT = 3
} lr_mix_role;

typedef struct lr_mix_example {
    const char *question; /* the training question */
    const lr_fact *fact;  /* the fact it teaches (its answers) */
    int role;             /* an lr_mix_role */
    size_t group;         /* index of its unknown fact (0..n-1) */
} lr_mix_example;

typedef struct lr_mixture {
    lr_mix_example *ex;
    size_t n;
    size_t n_reused;      /* known extras that repeat an earlier one */
} lr_mixture;

/* Builds the mixture of n_unknown Unknown facts with k extras of `kind`
 * each, by the selection above.  out->ex is allocated and its fact
 * pointers point into facts (which must outlive out); free with
 * lr_mixture_free (NULL-safe).  Fails (err, naming the file and line)
 * when a fact has no category (probe first), there are fewer Unknown
 * facts than n_unknown, HK is empty for "known", a fact has no
 * paraphrase for "paraphrase", or when out of memory. */
int lr_mixture_build(const lr_facts *facts, size_t n_unknown, size_t k,
                     lr_mix_kind kind, uint64_t seed, lr_mixture *out,
                     lr_error *err);
void lr_mixture_free(lr_mixture *m);

/* Appends the mixture as JSONL training examples (the `llamaref mixture`
 * output, docs/evaluation.md): per example "question", "answers", "role"
 * (unknown | known | paraphrase), "group" and, chat (plain = 0),
 * "messages" [system, user "Question: q", assistant "Answer: a"], or plain
 * "prompt" "{system}\n\nQuestion: q\nAnswer:" and "completion" " a"; a is
 * the first alias.  roles (may be NULL) receives the examples per role.
 * Out of memory is reported through out->oom. */
void lr_mixture_write_jsonl(lr_buf *out, const lr_mixture *mx,
                            const char *system, int plain, size_t roles[LR_ROLE_COUNT]);

#ifdef __cplusplus
}
#endif

#endif
