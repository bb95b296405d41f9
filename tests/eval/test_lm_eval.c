/* test_lm_eval.c - MMLU and TruthfulQA against lm-evaluation-harness 0.4.13's
 * own task definitions (vectors/gen/gen_lm_eval.py ->
 * vectors/eval/lm_eval_vectors.json): the requests (context and
 * continuations) the harness builds from the local data files, byte for
 * byte, and the acc / acc_norm picks and MC1 / MC2 scores its
 * process_results gives for seeded log-likelihoods, with non-ASCII choices
 * (acc_norm divides by characters, not bytes). */
#include "harness.h"

#include "llamaref/core/json.h"
#include "llamaref/eval/mcscore.h"
#include "llamaref/eval/mmlu.h"
#include "llamaref/eval/truthfulqa.h"

#define VEC "vectors/eval/lm_eval_vectors.json"

static lr_json_doc *vec_doc;

static const lr_json *vec(const char *key)
{
    lr_error err;
    if (!vec_doc && lr_json_parse_file(VEC, &vec_doc, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    return lr_json_get(lr_json_root(vec_doc), key);
}

/* the harness's continuation = target delimiter " " + choice */
static void check_continuations(const lr_json *want, const char *const *choices, size_t n)
{
    size_t i;
    char buf[4096];
    CHECK_INT(want->len, n);
    for (i = 0; i < n && i < want->len; i++) {
        snprintf(buf, sizeof buf, " %s", choices[i]);
        CHECK_STR(buf, want->items[i].str);
    }
}

static void test_mmlu_requests(void)
{
    const lr_json *v = vec("mmlu_requests");
    lr_error err;
    size_t i, n_checked = 0;
    CHECK(v != NULL && v->len >= 2 * LR_MMLU_N_SUBJECTS);
    if (!v) return;
    if (!h_data("mmlu/test/abstract_algebra_test.csv")) SKIP("../shared/data/mmlu missing");
    for (i = 0; i < v->len; i++) {
        const lr_json *c = &v->items[i];
        const char *subj = lr_json_get(c, "subject")->str;
        char rel[512];
        const char *dev_path, *test_path;
        lr_mmlu_items dev, test;
        lr_mmlu_format f;
        lr_buf b = {0};
        long shots = (long)lr_json_get(c, "shots")->integer;
        size_t doc = (size_t)lr_json_get(c, "doc_id")->integer;
        const char *ch[4];
        int k;
        CHECK_INT(lr_mmlu_format_parse(lr_json_get(c, "format")->str, &f), 0);
        snprintf(rel, sizeof rel, "mmlu/dev/%s_dev.csv", subj);
        dev_path = h_data(rel);
        snprintf(rel, sizeof rel, "mmlu/test/%s_test.csv", subj);
        test_path = h_data(rel);
        CHECK(dev_path && test_path);
        if (!dev_path || !test_path) continue;
        CHECK_OK(lr_mmlu_read(dev_path, &dev, &err), &err);
        CHECK_OK(lr_mmlu_read(test_path, &test, &err), &err);
        CHECK(doc < test.n && (size_t)shots <= dev.n);
        if (doc < test.n && (size_t)shots <= dev.n) {
            CHECK_OK(lr_mmlu_prompt(f, subj, dev.items, (size_t)shots, &test.items[doc], &b, &err),
                     &err);
            CHECK_STR(b.data, lr_json_get(c, "context")->str);
            for (k = 0; k < 4; k++) ch[k] = lr_mmlu_choice(f, &test.items[doc], k);
            check_continuations(lr_json_get(c, "continuations"), ch, 4);
            n_checked++;
        }
        lr_buf_free(&b);
        lr_mmlu_items_free(&dev);
        lr_mmlu_items_free(&test);
    }
    CHECK_INT(n_checked, v->len);
}

static void test_truthfulqa_requests(void)
{
    const lr_json *v = vec("tqa_requests");
    const char *path = h_data("truthfulqa/mc_task.json");
    lr_tqa t;
    lr_error err;
    size_t i;
    CHECK(v != NULL && v->len > 0);
    if (!v) return;
    if (!path) SKIP("../shared/data/truthfulqa missing");
    CHECK_OK(lr_tqa_load(path, &t, &err), &err);
    for (i = 0; i < v->len; i++) {
        const lr_json *c = &v->items[i];
        size_t d = (size_t)lr_json_get(c, "doc_id")->integer;
        lr_buf b = {0};
        CHECK(d < t.n);
        if (d >= t.n) continue;
        CHECK_OK(lr_tqa_context(t.items[d].question, &b, &err), &err);
        CHECK_STR(b.data, lr_json_get(c, "context")->str);
        check_continuations(lr_json_get(c, "mc1"), t.items[d].mc1.choices, t.items[d].mc1.n);
        check_continuations(lr_json_get(c, "mc2"), t.items[d].mc2.choices, t.items[d].mc2.n);
        lr_buf_free(&b);
    }
    lr_tqa_free(&t);
}

/* acc / acc_norm picks for given log-likelihoods, as the harness's
 * process_results makes them; many cases have non-ASCII choices whose
 * length in characters and in bytes give different acc_norm picks. */
static void test_mmlu_picks(void)
{
    const lr_json *v = vec("mmlu_picks");
    size_t i;
    int n_discriminating = 0;
    CHECK(v != NULL && v->len > 0);
    if (!v) return;
    for (i = 0; i < v->len; i++) {
        const lr_json *c = &v->items[i], *ch = lr_json_get(c, "choices"),
                      *lls = lr_json_get(c, "ll");
        lr_mmlu_item q;
        lr_mmlu_format f;
        double ll[4];
        long pred, pred_norm;
        int k;
        memset(&q, 0, sizeof q);
        q.question = (char *)"q";
        CHECK_INT(lr_mmlu_format_parse(lr_json_get(c, "format")->str, &f), 0);
        for (k = 0; k < 4; k++) {
            q.choices[k] = (char *)ch->items[k].str;
            ll[k] = lls->items[k].number;
        }
        lr_mmlu_predict(f, &q, ll, &pred, &pred_norm);
        CHECK_INT(pred, lr_json_get(c, "pred")->integer);
        CHECK_INT(pred_norm, lr_json_get(c, "pred_norm")->integer);
        n_discriminating += lr_json_get(c, "pred_norm")->integer !=
                            lr_json_get(c, "pred_bytes")->integer;
    }
    /* the vectors can tell characters from bytes */
    CHECK(n_discriminating >= 20);
}

static void test_truthfulqa_scores(void)
{
    const lr_json *v = vec("tqa_scores");
    lr_error err;
    size_t i, k;
    CHECK(v != NULL && v->len > 0);
    if (!v) return;
    for (i = 0; i < v->len; i++) {
        const lr_json *c = &v->items[i], *l1 = lr_json_get(c, "mc1_ll"),
                      *l2 = lr_json_get(c, "mc2_ll"), *lab = lr_json_get(c, "mc2_labels");
        double ll1[16], ll2[16], s1 = -1, s2 = -1, want;
        unsigned char labels[16];
        CHECK(l1->len <= 16 && l2->len <= 16 && lab->len == l2->len);
        if (l1->len > 16 || l2->len > 16 || lab->len != l2->len) continue;
        for (k = 0; k < l1->len; k++) ll1[k] = l1->items[k].number;
        for (k = 0; k < l2->len; k++) {
            ll2[k] = l2->items[k].number;
            labels[k] = (unsigned char)lab->items[k].integer;
        }
        CHECK_OK(lr_mc1(ll1, l1->len, 0, &s1, &err), &err);
        CHECK_NEAR(s1, lr_json_get(c, "mc1")->number, 0.0);
        CHECK_OK(lr_mc2(ll2, labels, l2->len, &s2, &err), &err);
        want = lr_json_get(c, "mc2")->number;
        CHECK_NEAR(s2, want, 1e-12 * fabs(want) + 1e-300);
    }
}

int main(void)
{
    RUN(test_mmlu_requests);
    RUN(test_truthfulqa_requests);
    RUN(test_mmlu_picks);
    RUN(test_truthfulqa_scores);
    lr_json_free(vec_doc);
    return h_finish("test_lm_eval");
}
