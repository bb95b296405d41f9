/* rng.h - the portable random number generator of llamaref.
 *
 * SplitMix64 (Steele, Lea, Flood 2014), chosen because any backend can
 * reproduce it in five lines:
 *     state += 0x9E3779B97F4A7C15
 *     z = state
 *     z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
 *     z = (z ^ (z >> 27)) * 0x94D049BB133111EB
 *     return z ^ (z >> 31)                 (all arithmetic mod 2^64)
 * Seeding: state = seed.  Uniform double in [0, 1): (next >> 11) * 2^-53.
 * Uniform float in [0, 1): (next >> 40) * 2^-24.  docs/rng.md lists every
 * use (sampling, LoRA init, dropout, shuffling) and its stream. */
#ifndef LLAMAREF_RNG_H
#define LLAMAREF_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_rng {
    uint64_t state;
} lr_rng;

void lr_rng_seed(lr_rng *r, uint64_t seed);
uint64_t lr_rng_next(lr_rng *r);
double lr_rng_double(lr_rng *r); /* [0, 1), 53 bits */
float lr_rng_float(lr_rng *r);   /* [0, 1), 24 bits */
/* Uniform integer in [0, n) without modulo bias (rejection sampling). */
uint64_t lr_rng_below(lr_rng *r, uint64_t n);

#ifdef __cplusplus
}
#endif

#endif
