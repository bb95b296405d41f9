/* test_sampler.c - the sampler against an independent Python implementation
 * of the documented algorithm and SplitMix64 (vectors/gen/gen_sampling.py),
 * the tokens Hugging Face's own logits warpers keep
 * (vectors/gen/gen_hf_warpers.py: temperature, top-k, top-p, min-p, with
 * top-p exactly on its boundary), greedy tie-breaking, the filters'
 * exclusions, and reproducibility. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "llamaref/core/json.h"
#include "llamaref/model/sampler.h"

static void test_python_vectors(void)
{
    lr_json_doc *doc = NULL;
    lr_error err;
    const lr_json *root, *logits, *cases;
    lr_float lg[64];
    size_t c, i;
    int V;
    CHECK_OK(lr_json_parse_file("vectors/sampling/cases.json", &doc, &err), &err);
    if (!doc) return;
    root = lr_json_root(doc);
    logits = lr_json_get(root, "logits");
    cases = lr_json_get(root, "cases");
    CHECK(logits && cases && logits->len <= 64 && cases->len == 7);
    if (!logits || !cases || logits->len > 64) goto done;
    V = (int)logits->len;
    for (i = 0; i < logits->len; i++) lg[i] = (lr_float)logits->items[i].number;
    for (c = 0; c < cases->len; c++) {
        const lr_json *k = &cases->items[c], *ids = lr_json_get(k, "ids");
        double t, p, mp;
        int64_t topk, seed;
        lr_sampler s;
        int match = 0;
        CHECK_OK(lr_json_get_number(k, "temperature", "cases", &t, &err), &err);
        CHECK_OK(lr_json_get_number(k, "top_p", "cases", &p, &err), &err);
        CHECK_OK(lr_json_get_number(k, "min_p", "cases", &mp, &err), &err);
        CHECK_OK(lr_json_get_int(k, "top_k", "cases", &topk, &err), &err);
        CHECK_OK(lr_json_get_int(k, "seed", "cases", &seed, &err), &err);
        CHECK_OK(lr_sampler_init(&s, V, t, (int)topk, p, mp, (uint64_t)seed, &err), &err);
        CHECK(ids && ids->len == 40);
        for (i = 0; ids && i < ids->len; i++)
            match += lr_sample(&s, lg) == (int)ids->items[i].integer;
        if (match != 40)
            fprintf(stderr, "  case %s: %d of 40 match\n",
                    lr_json_get(k, "name")->str, match);
        CHECK_INT(match, 40);
        lr_sampler_free(&s);
    }
done:
    lr_json_free(doc);
}

static void test_argmax_ties(void)
{
    lr_float x[6] = {1, 3, 2, 3, -1, 3};
    lr_float y[3];
    CHECK_INT(lr_argmax(x, 6), 1);
    y[0] = (lr_float)NAN; y[1] = 0; y[2] = -1;
    CHECK_INT(lr_argmax(y, 3), 1);
}

/* Filters exclude what they must, and the draw follows the distribution. */
static void test_filters(void)
{
    lr_float lg[8] = {2.0f, 1.5f, 1.0f, 0.5f, 0.0f, -0.5f, -1.0f, -4.0f};
    int count[8], i, n = 20000;
    lr_sampler s;
    lr_error err;
    double z = 0, p0;
    /* top-k 3: only tokens 0..2 */
    CHECK_OK(lr_sampler_init(&s, 8, 1.0, 3, 1.0, 0.0, 9, &err), &err);
    memset(count, 0, sizeof count);
    for (i = 0; i < 2000; i++) count[lr_sample(&s, lg)]++;
    CHECK(count[0] > 0 && count[1] > 0 && count[2] > 0);
    CHECK_INT(count[3] + count[4] + count[5] + count[6] + count[7], 0);
    lr_sampler_free(&s);
    /* min-p 0.3: exp(-1.5) = 0.22 < 0.3 excludes token 3 and beyond */
    CHECK_OK(lr_sampler_init(&s, 8, 1.0, 0, 1.0, 0.3, 9, &err), &err);
    memset(count, 0, sizeof count);
    for (i = 0; i < 2000; i++) count[lr_sample(&s, lg)]++;
    CHECK(count[2] > 0);
    CHECK_INT(count[3] + count[4] + count[5] + count[6] + count[7], 0);
    lr_sampler_free(&s);
    /* plain temperature 1: frequencies follow softmax within 5 sigma */
    CHECK_OK(lr_sampler_init(&s, 8, 1.0, 0, 1.0, 0.0, 123, &err), &err);
    memset(count, 0, sizeof count);
    for (i = 0; i < n; i++) count[lr_sample(&s, lg)]++;
    for (i = 0; i < 8; i++) z += exp(lg[i]);
    for (i = 0; i < 8; i++) {
        double p = exp(lg[i]) / z, sd = sqrt(n * p * (1 - p));
        CHECK_NEAR(count[i], n * p, 5 * sd + 1);
    }
    lr_sampler_free(&s);
    /* top-p 0.5: p0 = 0.39 < 0.5, p0 + p1 >= 0.5: tokens 0 and 1 only */
    p0 = exp(lg[0]) / z;
    CHECK(p0 < 0.5 && p0 + exp(lg[1]) / z >= 0.5);
    CHECK_OK(lr_sampler_init(&s, 8, 1.0, 0, 0.5, 0.0, 77, &err), &err);
    memset(count, 0, sizeof count);
    for (i = 0; i < 2000; i++) count[lr_sample(&s, lg)]++;
    CHECK(count[0] > 0 && count[1] > 0);
    CHECK_INT(count[0] + count[1], 2000);
    lr_sampler_free(&s);
    /* bad parameters are refused */
    CHECK_ERR(lr_sampler_init(&s, 8, -1.0, 0, 1.0, 0.0, 1, &err), &err, "temperature");
    CHECK_ERR(lr_sampler_init(&s, 8, 1.0, 0, 0.0, 0.0, 1, &err), &err, "top_p");
}

/* Tokens drawn must be among those HF keeps, and every kept token with a
 * kept probability >= 1% must be drawn in 4000 draws (P(miss) < 1e-17);
 * boundary cases (equal tokens, cumulative mass exactly top_p) must draw
 * exactly n_kept distinct tokens. */
static void test_hf_warpers(void)
{
    lr_json_doc *doc = NULL;
    lr_error err;
    const lr_json *cases;
    size_t c, i;
    CHECK_OK(lr_json_parse_file("vectors/sampling/hf_warpers.json", &doc, &err), &err);
    if (!doc) return;
    cases = lr_json_get(lr_json_root(doc), "cases");
    CHECK(cases && cases->len >= 50);
    for (c = 0; cases && c < cases->len; c++) {
        const lr_json *k = &cases->items[c], *lj = lr_json_get(k, "logits"),
                      *kj = lr_json_get(k, "kept");
        lr_float lg[64];
        double z[64], zmax = -HUGE_VAL, total = 0;
        int kept[64], count[64], V = (int)lj->len, n_kept, n_drawn = 0, d, bad = 0;
        int boundary = !strncmp(lr_json_get(k, "name")->str, "boundary", 8);
        double t = lr_json_get(k, "temperature")->number;
        lr_sampler s;
        CHECK(V <= 64);
        if (V > 64) continue;
        memset(kept, 0, sizeof kept);
        memset(count, 0, sizeof count);
        for (i = 0; i < (size_t)V; i++)
            lg[i] = lj->items[i].type == LR_JSON_NULL ? (lr_float)-HUGE_VAL
                                                       : (lr_float)lj->items[i].number;
        for (i = 0; i < kj->len; i++) kept[kj->items[i].integer] = 1;
        n_kept = (int)lr_json_get(k, "n_kept")->integer;
        CHECK_OK(lr_sampler_init(&s, V, t, (int)lr_json_get(k, "top_k")->integer,
                                 lr_json_get(k, "top_p")->number,
                                 lr_json_get(k, "min_p")->number, 1000 + c, &err), &err);
        for (d = 0; d < 4000; d++) count[lr_sample(&s, lg)]++;
        lr_sampler_free(&s);
        for (i = 0; i < (size_t)V; i++) {
            z[i] = kept[i] ? (double)lg[i] / t : -HUGE_VAL;
            if (z[i] > zmax) zmax = z[i];
        }
        for (i = 0; i < (size_t)V; i++) total += kept[i] ? exp(z[i] - zmax) : 0;
        for (i = 0; i < (size_t)V; i++) {
            n_drawn += count[i] > 0;
            if (count[i] && !kept[i]) bad++;
            if (!boundary && kept[i] && exp(z[i] - zmax) / total >= 0.01 && !count[i]) bad++;
        }
        if (boundary) CHECK_INT(n_drawn, n_kept);
        if (bad) fprintf(stderr, "  case %s: %d tokens drawn outside HF's kept set or kept "
                         "and never drawn\n", lr_json_get(k, "name")->str, bad);
        CHECK_INT(bad, 0);
    }
    lr_json_free(doc);
}

int main(void)
{
    RUN(test_python_vectors);
    RUN(test_hf_warpers);
    RUN(test_argmax_ties);
    RUN(test_filters);
    return h_finish("test_sampler");
}
