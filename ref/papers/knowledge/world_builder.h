/* world_builder.h - what the parts of the world generator share: the
 * builder state and small RNG helpers (world.c, world_names.c,
 * world_corpus.c) and what
 * world_write.c needs.  Not part of the public API (lrw_ names are not
 * exported; the static helpers are private to each file). */
#ifndef LLAMAREF_WORLD_BUILDER_H
#define LLAMAREF_WORLD_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "llamaref/core/rng.h"
#include "llamaref/tokenizer/vocab.h"
#include "llamaref/papers/knowledge/world.h"

/* The state of one build (world.c), shared with the corpus step
 * (world_corpus.c). */
typedef struct builder {
    lr_world *w;
    lr_vocab names; /* every name and alias, for uniqueness */
    size_t cap_entities, cap_facts;
    uint64_t *zipf_cum; /* prefix sums of 2^30/(k+1), k < n_entities */
    uint32_t *by_type[LR_WT_N]; /* entity ids of a type (subjects: popularity order) */
    size_t n_by_type[LR_WT_N];
    uint32_t *all_of_type[LR_WT_N]; /* every entity of a type, phantoms included */
    size_t n_all_of_type[LR_WT_N], cap_all_of_type[LR_WT_N];
    lr_error *err;
} builder;

/* One random draw per call (see world.c's opening comment). */
static inline uint64_t stream_seed(uint64_t seed, uint64_t stream)
{
    return lr_seed_of(LR_STREAM_WORLD, seed, stream, 0, 0);
}

static inline uint32_t below(lr_rng *r, size_t n)
{
    return (uint32_t)lr_rng_below(r, (uint64_t)n);
}

/* Fisher-Yates shuffle of ids[0..n). */
static inline void shuffle(lr_rng *r, uint32_t *ids, size_t n)
{
    size_t i;
    for (i = n; i > 1; i--) {
        size_t j = below(r, i);
        uint32_t t = ids[i - 1];
        ids[i - 1] = ids[j];
        ids[j] = t;
    }
}


/* Step 1's entities and names (world_names.c): an entity with the given
 * name (and alias, or NULL); a fresh entity of type t named by r. */
int lrw_add_entity(builder *b, lr_world_type type, const char *name,
                   const char *alias, int phantom);
int lrw_add_fresh(builder *b, lr_rng *r, lr_world_type t, int phantom);
/* Step 4: corpus, exams, held-out documents, refusals (world_corpus.c). */
int lrw_make_corpus(builder *b);

/* The QA split's fact ids in qa.jsonl's order (stream 6); malloc'ed. */
uint32_t *lrw_qa_order(const lr_world *w, size_t *n, lr_error *err);
/* Refusal i's question and answer text, appended to q and a. */
void lrw_refusal_text(const lr_world *w, size_t i, lr_buf *q, lr_buf *a);

#endif
