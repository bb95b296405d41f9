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
 * Uniform float in [0, 1): (next >> 40) * 2^-24.
 *
 * Every random stream's seed is derived by one function, lr_seed_of, from
 * the user's seed, the stream's kind and up to three indices; docs/rng.md
 * lists every stream.  No other code derives a seed. */
#ifndef LLAMAREF_RNG_H
#define LLAMAREF_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_rng {
    uint64_t state;
} lr_rng;

/* state = seed (any value, 0 included). */
void lr_rng_seed(lr_rng *r, uint64_t seed);
/* The next 64-bit output of the recurrence above (advances r). */
uint64_t lr_rng_next(lr_rng *r);
double lr_rng_double(lr_rng *r); /* [0, 1), 53 bits */
float lr_rng_float(lr_rng *r);   /* [0, 1), 24 bits */
/* Uniform integer in [0, n) without modulo bias (rejection sampling). */
uint64_t lr_rng_below(lr_rng *r, uint64_t n);

/* ---- the streams ----
 * first(x) = the first output of SplitMix64 seeded with x.
 * kinds 1-4 (training):  first(first(first(seed ^ kind) ^ i) ^ j)
 * LR_STREAM_WORLD:       first(seed ^ i * 0xD1B54A32D192ED03), i = step 1..6
 * LR_STREAM_PROBE:       three SplitMix64 rounds mixing i, j, k into seed
 *                        (fact, prompt, sample)
 * LR_STREAM_DETOX:       seed * 1000003 + i * 1009 + j (input, candidate)
 * the other kinds:       the seed itself (one stream per run).
 * All arithmetic mod 2^64. */
typedef enum lr_stream_kind {
    LR_STREAM_LORA_INIT = 1,    /* LoRA A of (layer i, target j) */
    LR_STREAM_DROPOUT = 2,      /* epoch i, example j; then (layer i, target j) */
    LR_STREAM_SHUFFLE = 3,      /* epoch i */
    LR_STREAM_FULL_INIT = 4,    /* full-parameter init, tensor i */
    LR_STREAM_WORLD = 5,        /* synthetic world generator step i */
    LR_STREAM_PROBE = 6,        /* probe sample (fact i, prompt j, sample k) */
    LR_STREAM_DETOX = 7,        /* detox candidate (input i, candidate j) */
    LR_STREAM_SAMPLE = 8,       /* generate / chat sampling */
    LR_STREAM_MIXTURE = 9,      /* mixture's choice of facts */
    LR_STREAM_RANDOM_MODEL = 10, /* random weights of a test model */
    LR_STREAM_BENCH = 11        /* `bench`'s matmul inputs (seed 1) */
} lr_stream_kind;

/* The seed of stream `kind` with indices i, j, k (unused ones 0), derived
 * from the user's seed by the rules above. */
uint64_t lr_seed_of(lr_stream_kind kind, uint64_t seed, uint64_t i,
                    uint64_t j, uint64_t k);
/* lr_seed_of(kind, seed, i, j, 0): the training streams' form. */
uint64_t lr_stream_seed(uint64_t seed, uint64_t kind, uint64_t i, uint64_t j);

#ifdef __cplusplus
}
#endif

#endif
