/* rng.c - SplitMix64, the documented portable RNG (see rng.h). */
#include "llamaref/rng.h"

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
