/* test_mcscore.c - MC1 / MC2 against the lm-evaluation-harness formulas as
 * implemented independently in vectors/gen/metrics_ref.py, plus hand-made
 * edge cases (ties, underflow, errors). */
#include "harness.h"

#include "llamaref/core/json.h"
#include "llamaref/eval/mcscore.h"

#define VECTORS "vectors/metrics/metrics_vectors.json"

static void test_vectors(void)
{
    lr_json_doc *doc = NULL;
    const lr_json *mc;
    lr_error err;
    size_t i, j, n_one = 0;
    CHECK_OK(lr_json_parse_file(VECTORS, &doc, &err), &err);
    if (!doc) return;
    mc = lr_json_get(lr_json_root(doc), "mc");
    CHECK(mc && mc->len >= 50);
    for (i = 0; mc && i < mc->len; i++) {
        const lr_json *ll = lr_json_get(&mc->items[i], "lls");
        const lr_json *lab = lr_json_get(&mc->items[i], "labels");
        double l[32], s1 = -1, s2 = -1;
        unsigned char b[32];
        for (j = 0; j < ll->len && j < 32; j++) {
            l[j] = ll->items[j].number;
            b[j] = (unsigned char)lab->items[j].integer;
        }
        CHECK_OK(lr_mc1(l, ll->len, 0, &s1, &err), &err);
        CHECK_OK(lr_mc2(l, b, ll->len, &s2, &err), &err);
        CHECK_NEAR(s1, lr_json_get(&mc->items[i], "mc1")->number, 0);
        CHECK_NEAR(s2, lr_json_get(&mc->items[i], "mc2")->number, 1e-12);
        n_one += s1 == 1.0;
    }
    CHECK(n_one > 3 && mc && n_one < mc->len - 3);
    lr_json_free(doc);
}

static void test_edges(void)
{
    lr_error err;
    double s = -1;
    double tie[3] = {-2.0, -2.0, -5.0};
    double tiny[2] = {-2000.0, -2000.0 - 0.6931471805599453}; /* p 2:1 */
    double nan2[2] = {NAN, -1.0};
    unsigned char lab[3] = {1, 0, 0}, all[2] = {1, 1};
    /* numpy.argmax: the first maximum wins */
    CHECK_INT(lr_mc_argmax(tie, 3), 0);
    CHECK_OK(lr_mc1(tie, 3, 0, &s, &err), &err);
    CHECK_NEAR(s, 1.0, 0);
    CHECK_OK(lr_mc1(tie, 3, 1, &s, &err), &err);
    CHECK_NEAR(s, 0.0, 0);
    /* exp(-2000) underflows; the max-shifted form still gives 2/3 */
    CHECK_OK(lr_mc2(tiny, lab, 2, &s, &err), &err);
    CHECK_NEAR(s, 2.0 / 3.0, 1e-12);
    CHECK_OK(lr_mc2(tie, lab, 3, &s, &err), &err);
    CHECK_NEAR(s, 1.0 / (2.0 + exp(-3.0)), 1e-15);
    CHECK_ERR(lr_mc2(tie, all, 2, &s, &err), &err, "true and false");
    CHECK_ERR(lr_mc2(nan2, lab, 2, &s, &err), &err, "choice 0");
    CHECK_ERR(lr_mc1(tie, 3, 3, &s, &err), &err, "gold choice 3");
    CHECK_INT(lr_mc_argmax(nan2, 2), 1);
}

int main(void)
{
    RUN(test_vectors);
    RUN(test_edges);
    return h_finish("test_mcscore");
}
