/* test_knowledge.c - text normalisation, alias matching, SliCK categories,
 * shift matrix, refusal detection and answer diversity against the golden
 * vectors of the independent Python implementation
 * (vectors/gen/metrics_ref.py -> vectors/metrics/metrics_vectors.json). */
#include "harness.h"

#include "llamaref/papers/knowledge/diversity.h"
#include "llamaref/core/json.h"
#include "llamaref/papers/knowledge/knowledge.h"
#include "llamaref/papers/knowledge/refusal.h"
#include "llamaref/tokenizer/textnorm.h"

#define VECTORS "vectors/metrics/metrics_vectors.json"

static lr_json_doc *vec_doc;

static const lr_json *vec(const char *key)
{
    const lr_json *v = vec_doc ? lr_json_get(lr_json_root(vec_doc), key) : NULL;
    if (!v) fprintf(stderr, "%s: %s missing\n", VECTORS, key);
    return v;
}

static void test_lowercase_table(void)
{
    /* every code point: the generated table (Debian Unicode 15.0) against
     * Python's own Unicode database */
    const lr_json *pairs = vec("lowercase_pairs");
    size_t i = 0, n_diff = 0;
    uint32_t cp;
    CHECK(pairs && pairs->len > 1000);
    if (!pairs) return;
    for (cp = 0; cp < 0x110000; cp++) {
        uint32_t want = cp;
        if (i < pairs->len && pairs->items[i].items[0].integer == (int64_t)cp)
            want = (uint32_t)pairs->items[i++].items[1].integer;
        if (lr_lower_cp(cp) != want && n_diff++ < 10)
            CHECK_INT(lr_lower_cp(cp), want);
    }
    CHECK_INT(i, pairs->len);
    CHECK_INT(n_diff, 0);
    CHECK_INT(lr_lowercase_count, pairs->len);
}

static int hexval(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

static void test_normalize(void)
{
    const lr_json *cs = vec("normalize"), *bs = vec("normalize_bytes");
    lr_error err;
    size_t i, len;
    CHECK(cs && bs && cs->len >= 20 && bs->len >= 8);
    for (i = 0; cs && i < cs->len; i++) {
        const lr_json *in = lr_json_get(&cs->items[i], "in");
        char *got = lr_text_normalize(in->str, in->len, &len, &err);
        CHECK_STR(got, lr_json_get(&cs->items[i], "out")->str);
        CHECK(got && len == strlen(got));
        free(got);
    }
    for (i = 0; bs && i < bs->len; i++) {
        const lr_json *hex = lr_json_get(&bs->items[i], "in_hex");
        char raw[64], *got;
        size_t j, n = hex->len / 2;
        if (n >= sizeof raw) { CHECK(0); continue; }
        for (j = 0; j < n; j++)
            raw[j] = (char)(hexval(hex->str[2 * j]) * 16 + hexval(hex->str[2 * j + 1]));
        got = lr_text_normalize(raw, n, NULL, &err);
        CHECK_STR(got, lr_json_get(&bs->items[i], "out")->str);
        free(got);
    }
}

static void test_alias_match(void)
{
    const lr_json *cs = vec("alias");
    lr_error err;
    size_t i, j, n_true = 0;
    CHECK(cs && cs->len >= 15);
    for (i = 0; cs && i < cs->len; i++) {
        const lr_json *c = &cs->items[i], *al = lr_json_get(c, "aliases");
        const char *a[16];
        int want = lr_json_get(c, "correct")->type == LR_JSON_TRUE, got;
        for (j = 0; j < al->len && j < 16; j++) a[j] = al->items[j].str;
        got = lr_alias_match(lr_json_get(c, "answer")->str, a, al->len, &err);
        if (got != want)
            fprintf(stderr, "alias case %lu: \"%s\"\n", (unsigned long)i,
                    lr_json_get(c, "answer")->str);
        CHECK_INT(got, want);
        n_true += want;
    }
    CHECK(n_true > 3 && cs && n_true < cs->len - 3); /* both outcomes tested */
}

static void test_slick(void)
{
    const lr_json *cs = vec("slick");
    lr_error err;
    size_t i, j;
    int seen[LR_SLICK_N] = {0, 0, 0, 0};
    lr_slick c, p;
    for (i = 0; cs && i < cs->len; i++) {
        const lr_json *g = lr_json_get(&cs->items[i], "greedy");
        unsigned char gc[64];
        for (j = 0; j < g->len && j < 64; j++) gc[j] = (unsigned char)g->items[j].integer;
        CHECK_OK(lr_slick_category(gc, g->len,
                     (size_t)lr_json_get(&cs->items[i], "n_sample_correct")->integer,
                     &c, &err), &err);
        CHECK_STR(lr_slick_name(c), lr_json_get(&cs->items[i], "category")->str);
        seen[c] = 1;
    }
    CHECK(seen[0] && seen[1] && seen[2] && seen[3]);
    CHECK_ERR(lr_slick_category(NULL, 0, 0, &c, &err), &err, "at least one prompt");
    CHECK(lr_slick_parse("MaybeKnown", &p) == 0 && p == LR_SLICK_MAYBE_KNOWN);
    CHECK(lr_slick_parse("UK", &p) == 0 && p == LR_SLICK_UNKNOWN);
    CHECK(lr_slick_parse("Known", &p) == -1);
}

static void test_shift(void)
{
    const lr_json *s = vec("shift"), *b, *a, *cnt;
    lr_slick before[512], after[512];
    lr_shift sh;
    lr_error err;
    size_t i, j;
    if (!s) { CHECK(0); return; }
    b = lr_json_get(s, "before");
    a = lr_json_get(s, "after");
    cnt = lr_json_get(s, "count");
    CHECK(b->len == a->len && b->len <= 512);
    for (i = 0; i < b->len && i < 512; i++) {
        CHECK(lr_slick_parse(b->items[i].str, &before[i]) == 0);
        CHECK(lr_slick_parse(a->items[i].str, &after[i]) == 0);
    }
    CHECK_OK(lr_shift_matrix(before, after, b->len, &sh, &err), &err);
    CHECK_INT(sh.n, b->len);
    for (i = 0; i < 4; i++)
        for (j = 0; j < 4; j++) {
            CHECK_INT(sh.count[i][j], cnt->items[i].items[j].integer);
            CHECK_NEAR(sh.fraction[i][j],
                       (double)cnt->items[i].items[j].integer / b->len, 1e-15);
        }
    CHECK_NEAR(sh.positive, lr_json_get(s, "positive")->number, 1e-15);
    CHECK_NEAR(sh.negative, lr_json_get(s, "negative")->number, 1e-15);
    before[0] = (lr_slick)7;
    CHECK_ERR(lr_shift_matrix(before, after, 1, &sh, &err), &err, "fact 0");
}

static void test_refusal(void)
{
    const lr_json *r = vec("refusal"), *pat, *cs;
    lr_error err;
    size_t i;
    if (!r) { CHECK(0); return; }
    pat = lr_json_get(r, "patterns");
    cs = lr_json_get(r, "cases");
    /* the documented list is the one the Python reference uses */
    CHECK_INT(lr_refusal_pattern_count, pat->len);
    for (i = 0; i < pat->len && i < lr_refusal_pattern_count; i++)
        CHECK_STR(lr_refusal_patterns[i], pat->items[i].str);
    for (i = 0; i < cs->len; i++) {
        const char *t = lr_json_get(&cs->items[i], "text")->str;
        long want = (long)lr_json_get(&cs->items[i], "index")->integer;
        CHECK_INT(lr_refusal_find(t, &err), want);
        CHECK_INT(lr_is_refusal(t, &err), want >= 0);
    }
}

static void test_answer_key(void)
{
    const lr_json *cs = vec("answer_keys");
    lr_error err;
    size_t i;
    for (i = 0; cs && i < cs->len; i++) {
        char *k = lr_answer_key(lr_json_get(&cs->items[i], "text")->str, &err);
        CHECK_STR(k, lr_json_get(&cs->items[i], "key")->str);
        free(k);
    }
}

static void test_diversity(void)
{
    const lr_json *d = vec("diversity"), *ans, *counts;
    const char *a[256];
    lr_diversity dv;
    lr_error err;
    size_t i;
    if (!d) { CHECK(0); return; }
    ans = lr_json_get(d, "answers");
    counts = lr_json_get(d, "counts");
    for (i = 0; i < ans->len && i < 256; i++) a[i] = ans->items[i].str;
    CHECK_OK(lr_diversity_compute(a, ans->len, &dv, &err), &err);
    CHECK_INT(dv.n_total, lr_json_get(d, "n_total")->integer);
    CHECK_INT(dv.n_refusals, lr_json_get(d, "n_refusals")->integer);
    CHECK_INT(dv.n_empty, lr_json_get(d, "n_empty")->integer);
    CHECK_INT(dv.n_answers, lr_json_get(d, "n_answers")->integer);
    CHECK_INT(dv.n_unique, lr_json_get(d, "n_unique")->integer);
    CHECK_INT(dv.n_over, lr_json_get(d, "n_over")->integer);
    CHECK_NEAR(dv.mean_freq, lr_json_get(d, "mean_freq")->number, 1e-12);
    CHECK_NEAR(dv.std_freq, lr_json_get(d, "std_freq")->number, 1e-12);
    CHECK_INT(counts->len, dv.n_unique);
    for (i = 0; i < dv.n_unique && i < counts->len; i++) {
        CHECK_STR(dv.counts[i].key, counts->items[i].items[0].str);
        CHECK_INT(dv.counts[i].count, counts->items[i].items[1].integer);
    }
    lr_diversity_free(&dv);
    /* nothing to count */
    CHECK_OK(lr_diversity_compute(a, 0, &dv, &err), &err);
    CHECK_INT(dv.n_unique, 0);
    CHECK_NEAR(dv.mean_freq, 0.0, 0);
    lr_diversity_free(&dv);
}

int main(void)
{
    lr_error err;
    if (lr_json_parse_file(VECTORS, &vec_doc, &err))
        fprintf(stderr, "%s\n", err.msg);
    RUN(test_lowercase_table);
    RUN(test_normalize);
    RUN(test_alias_match);
    RUN(test_slick);
    RUN(test_shift);
    RUN(test_refusal);
    RUN(test_answer_key);
    RUN(test_diversity);
    lr_json_free(vec_doc);
    return h_finish("test_knowledge");
}
