/* sampler.h - choosing the next token from logits, reproducibly.
 *
 * The algorithm (docs/sampling.md, so that any backend draws the same
 * tokens from the same logits and seed):
 *  1. temperature == 0 (or top_k == 1): greedy, the arg max of the logits,
 *     the lowest index winning ties.  No random number is drawn.
 *  2. z_i = logit_i / temperature (double).  Candidates are sorted by z
 *     descending, ties by index ascending.
 *  3. top_k > 0: keep the first top_k candidates.
 *  4. w_i = exp(z_i - z_max), P = sum of kept w (summed in sorted order).
 *  5. 0 < top_p < 1: keep the shortest prefix whose mass (sum of w / P,
 *     accumulated in sorted order) reaches >= top_p (at least one token).
 *  6. min_p > 0: drop candidates with w_i < min_p (i.e. p_i < min_p p_max).
 *  7. One draw u = lr_rng_double() in [0, 1) from the SplitMix64 stream
 *     seeded with the seed; r = u * (sum of the kept w, in sorted order);
 *     the token is the first kept candidate whose cumulative w exceeds r
 *     (the last kept one if rounding leaves none).
 * The generator state advances by exactly one step per sampled token. */
#ifndef LLAMAREF_SAMPLER_H
#define LLAMAREF_SAMPLER_H

#include <stdint.h>

#include "llamaref/core/common.h"
#include "llamaref/core/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_sampler {
    int vocab_size;
    double temperature; /* 0: greedy */
    int top_k;          /* 0: off */
    double top_p;       /* >= 1: off */
    double min_p;       /* 0: off */
    lr_rng rng;
    int *order, *tmp;   /* [vocab] scratch: candidate indices */
    double *z, *w;      /* [vocab] scratch: scaled logits; kept weights */
} lr_sampler;

/* Sets s up for vocab_size logits with the options of the algorithm above
 * (top_k 0: off; top_p >= 1: off; min_p 0: off) and the stream seed;
 * allocates its scratch, released by lr_sampler_free.  Fails (err) on
 * vocab_size < 1, temperature < 0, top_k < 0, top_p <= 0, min_p outside
 * [0, 1], or out of memory. */
int lr_sampler_init(lr_sampler *s, int vocab_size, double temperature,
                    int top_k, double top_p, double min_p, uint64_t seed,
                    lr_error *err);
/* Frees the scratch arrays of lr_sampler_init (s itself is the caller's). */
void lr_sampler_free(lr_sampler *s);

/* The next token for logits [vocab_size]. */
int lr_sample(lr_sampler *s, const lr_float *logits);

/* Index of the largest value, the lowest index winning ties (NaN never
 * wins). */
int lr_argmax(const lr_float *x, int n);

#ifdef __cplusplus
}
#endif

#endif
