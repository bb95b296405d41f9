/* rng.c - SplitMix64, the documented portable RNG, and the derivation of
 * every stream's seed (see rng.h, docs/rng.md).  Depends on nothing but
 * <stdint.h>: any backend can reproduce it. */
#include "llamaref/core/rng.h"

void lr_rng_seed(lr_rng *r, uint64_t seed)
{
    r->state = seed;
}

uint64_t lr_rng_next(lr_rng *r)
{
    uint64_t z;
    r->state += UINT64_C(0x9E3779B97F4A7C15);
    z = r->state;
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

double lr_rng_double(lr_rng *r)
{
    return (double)(lr_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

float lr_rng_float(lr_rng *r)
{
    return (float)(lr_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

uint64_t lr_rng_below(lr_rng *r, uint64_t n)
{
    /* reject the top partial bucket so every residue is equally likely */
    uint64_t limit, x;
    if (n <= 1) return 0;
    limit = UINT64_MAX - UINT64_MAX % n;
    do {
        x = lr_rng_next(r);
    } while (x >= limit);
    return x % n;
}

static uint64_t first(uint64_t x)
{
    lr_rng r;
    lr_rng_seed(&r, x);
    return lr_rng_next(&r);
}

uint64_t lr_seed_of(lr_stream_kind kind, uint64_t seed, uint64_t i,
                    uint64_t j, uint64_t k)
{
    switch (kind) {
    case LR_STREAM_LORA_INIT:
    case LR_STREAM_DROPOUT:
    case LR_STREAM_SHUFFLE:
    case LR_STREAM_FULL_INIT:
        return first(first(first(seed ^ (uint64_t)kind) ^ i) ^ j);
    case LR_STREAM_WORLD:
        return first(seed ^ (i * UINT64_C(0xD1B54A32D192ED03)));
    case LR_STREAM_PROBE: {
        uint64_t z = seed, v[3];
        int n;
        v[0] = i; v[1] = j; v[2] = k;
        for (n = 0; n < 3; n++) {
            z += UINT64_C(0x9E3779B97F4A7C15) + v[n];
            z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
            z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
            z ^= z >> 31;
        }
        return z;
    }
    case LR_STREAM_DETOX:
        return seed * 1000003u + i * 1009u + j;
    default:
        return seed;
    }
}

uint64_t lr_stream_seed(uint64_t seed, uint64_t kind, uint64_t i, uint64_t j)
{
    return lr_seed_of((lr_stream_kind)kind, seed, i, j, 0);
}
