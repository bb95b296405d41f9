/* test_detox_score.c - detox_score.h called directly: the hand-checked
 * selection of tests/cli/detox_score.test.sh (FL of "A b." vs "A b c." is
 * chrF/100 = 0.5773...; J = (0.72 + 0.0625 + 0.5) / 3), the chosen lines
 * in order of first appearance, JSONL with several references, errors
 * naming the line. */
#include "harness.h"

#include "llamaref/papers/detox/detox_score.h"

static int score(const char *text, const char *sta, const char *sim,
                 lr_detox_score_result *r, lr_error *err)
{
    lr_detox_score_options o;
    char *t = malloc(strlen(text) + 1);
    int rc;
    if (!t) return -1;
    strcpy(t, text);
    memset(&o, 0, sizeof o);
    lr_chrf_config_default(&o.chrf);
    o.sta_col = sta;
    o.sim_col = sim;
    o.want_selected = 1;
    rc = lr_detox_score_text(t, strlen(t), "c.tsv", &o, r, err);
    free(t);
    return rc;
}

static void test_selection(void)
{
    lr_detox_score_result r;
    lr_error err;
    const char *p;
    int lines[3], k = 0;
    CHECK_OK(score("source\toutput\treference\tsta\tsim\n"
                   "A b c.\tA b c.\tA b.\t0.2\t0.9\n"
                   "A b c.\tA b.\tA b.\t0.9\t0.8\n"
                   "X y\tI cannot help with that\tX z\t1\t1\n"
                   "X y\tX q\tX z\t0.5\t0.5\n"
                   "Z\tZ\tZ\t1\t0.5\n", "sta", "sim", &r, &err), &err);
    CHECK_INT(r.sources, 3);
    CHECK_INT(r.candidates, 5);
    CHECK_INT(r.refusals, 1);
    CHECK(r.have_ref);
    CHECK_NEAR(r.fl, (1.0 + 0.25 + 1.0) / 3, 1e-12);
    CHECK_NEAR(r.j, (0.72 + 0.0625 + 0.5) / 3, 1e-12);
    CHECK_NEAR(r.sta, (0.9 + 0.5 + 1) / 3, 1e-12);
    CHECK_NEAR(r.sim, (0.8 + 0.5 + 0.5) / 3, 1e-12);
    for (p = r.selected.data; p && k < 3 && (p = strstr(p, "\"line\": ")); p += 8)
        lines[k++] = atoi(p + 8);
    CHECK_INT(k, 3);
    if (k == 3) {
        CHECK_INT(lines[0], 3);
        CHECK_INT(lines[1], 5);
        CHECK_INT(lines[2], 6);
    }
    lr_detox_score_result_free(&r);
    /* JSONL, the better of two references counts */
    CHECK_OK(score("{\"source\":\"A\",\"output\":\"A b.\",\"reference\":[\"nope\",\"A b.\"],"
                   "\"sta\":0.5,\"sim\":1}\n\n{\"source\":\"A\",\"output\":\"A b c.\","
                   "\"reference\":\"A b.\",\"sta\":0.6,\"sim\":1}\n", "sta", "sim", &r,
                   &err), &err);
    CHECK_INT(r.sources, 1);
    CHECK_NEAR(r.j, 0.5, 1e-12);
    lr_detox_score_result_free(&r);
    /* a tie (chrF ignores white space: both score 1): the earliest row */
    CHECK_OK(score("source\toutput\treference\nT\tab\tab\nT\ta b\tab\n", NULL, NULL,
                   &r, &err), &err);
    CHECK(r.selected.data && strstr(r.selected.data, "\"output\": \"ab\"") != NULL);
    lr_detox_score_result_free(&r);
    /* no STA / SIM columns: no reference either */
    CHECK_OK(score("output\nfoo\nbar\n", NULL, NULL, &r, &err), &err);
    CHECK_INT(r.sources, 2);
    CHECK(!r.have_ref);
    lr_detox_score_result_free(&r);
}

static void test_errors(void)
{
    lr_detox_score_result r;
    lr_error err;
    CHECK_ERR(score("source\toutput\nA\tB\tC\n", NULL, NULL, &r, &err), &err, "c.tsv:2");
    lr_detox_score_result_free(&r);
    CHECK_ERR(score("output\treference\tsta\nx\ty\t0.5\n", "sta", "sim", &r, &err), &err,
              "no SIM column 'sim'");
    lr_detox_score_result_free(&r);
    CHECK_ERR(score("{\"output\": \"x\", \"reference\": \"y\"}\n{\"output\": \"z\"}\n",
                    NULL, NULL, &r, &err), &err,
              "c.tsv:2: every candidate needs a reference, or none");
    lr_detox_score_result_free(&r);
    CHECK_ERR(score("output\n", NULL, NULL, &r, &err), &err, "no candidates");
    lr_detox_score_result_free(&r);
}

int main(void)
{
    RUN(test_selection);
    RUN(test_errors);
    return h_finish("test_detox_score");
}
