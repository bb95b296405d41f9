/* sampler.c - greedy, temperature, top-k, top-p and min-p sampling with the
 * portable SplitMix64 generator; the algorithm is spelled out in sampler.h
 * and docs/sampling.md.  Depends on: rng. */
#include <math.h>
#include <stdlib.h>

#include "llamaref/model/sampler.h"

int lr_sampler_init(lr_sampler *s, int vocab_size, double temperature,
                    int top_k, double top_p, double min_p, uint64_t seed,
                    lr_error *err)
{
    s->order = s->tmp = NULL;
    s->z = s->w = NULL;
    if (vocab_size < 1)
        return lr_fail(err, "sampler: vocabulary size %d", vocab_size);
    if (!(temperature >= 0) || top_k < 0 || !(top_p > 0) || !(min_p >= 0) ||
        min_p > 1)
        return lr_fail(err, "sampler: need temperature >= 0, top_k >= 0, "
                       "top_p > 0, 0 <= min_p <= 1 (got %g, %d, %g, %g)",
                       temperature, top_k, top_p, min_p);
    s->vocab_size = vocab_size;
    s->temperature = temperature;
    s->top_k = top_k;
    s->top_p = top_p;
    s->min_p = min_p;
    lr_rng_seed(&s->rng, lr_seed_of(LR_STREAM_SAMPLE, seed, 0, 0, 0));
    s->order = lr_alloc((size_t)vocab_size, sizeof *s->order, "sampler", err);
    s->tmp = lr_alloc((size_t)vocab_size, sizeof *s->tmp, "sampler", err);
    s->z = lr_alloc((size_t)vocab_size, sizeof *s->z, "sampler", err);
    s->w = lr_alloc((size_t)vocab_size, sizeof *s->w, "sampler", err);
    if (!s->order || !s->tmp || !s->z || !s->w) {
        lr_sampler_free(s);
        return -1;
    }
    return 0;
}

void lr_sampler_free(lr_sampler *s)
{
    free(s->order);
    free(s->tmp);
    free(s->z);
    free(s->w);
    s->order = s->tmp = NULL;
    s->z = s->w = NULL;
}

int lr_argmax(const lr_float *x, int n)
{
    int i, best = 0;
    for (i = 1; i < n; i++)
        if (x[i] > x[best] || (x[best] != x[best] && x[i] == x[i])) best = i;
    return best;
}

/* Sorts candidate indices by z descending, ties by index ascending.
 * A merge sort (stable, no comparator context needed, O(n log n)). */
static void sort_desc(int *idx, int *tmp, const double *z, int n)
{
    int width, i;
    int *src = idx, *dst = tmp;
    for (width = 1; width < n; width *= 2) {
        for (i = 0; i < n; i += 2 * width) {
            int lo = i, mid = i + width < n ? i + width : n;
            int hi = i + 2 * width < n ? i + 2 * width : n;
            int a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                dst[o++] = (z[src[b]] > z[src[a]]) ? src[b++] : src[a++];
            while (a < mid) dst[o++] = src[a++];
            while (b < hi) dst[o++] = src[b++];
        }
        { int *t = src; src = dst; dst = t; }
    }
    if (src != idx)
        for (i = 0; i < n; i++) idx[i] = src[i];
}

int lr_sample(lr_sampler *s, const lr_float *logits)
{
    const int V = s->vocab_size;
    int *idx = s->order;
    double *z = s->z, *w, zmax, total, acc, r;
    int i, n;
    if (s->temperature == 0 || s->top_k == 1) return lr_argmax(logits, V);
    for (i = 0; i < V; i++) {
        z[i] = (double)logits[i] / s->temperature;
        if (z[i] != z[i]) z[i] = -HUGE_VAL; /* NaN logits are never drawn */
        idx[i] = i;
    }
    sort_desc(idx, s->tmp, z, V);
    n = (s->top_k > 0 && s->top_k < V) ? s->top_k : V;
    zmax = z[idx[0]];
    w = s->w; /* w[rank] */
    total = 0;
    for (i = 0; i < n; i++) {
        w[i] = exp(z[idx[i]] - zmax);
        total += w[i];
    }
    if (s->top_p < 1) {
        acc = 0;
        for (i = 0; i < n; i++) {
            acc += w[i];
            if (acc / total >= s->top_p) break;
        }
        n = i < n ? i + 1 : n;
    }
    if (s->min_p > 0)
        for (i = 1; i < n; i++)
            if (w[i] < s->min_p) { n = i; break; }
    total = 0;
    for (i = 0; i < n; i++) total += w[i];
    r = lr_rng_double(&s->rng) * total;
    acc = 0;
    for (i = 0; i < n; i++) {
        acc += w[i];
        if (acc > r) break;
    }
    if (i >= n) i = n - 1;
    return idx[i];
}
