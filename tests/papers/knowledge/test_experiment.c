/* test_experiment.c - the statistics of the knowledge experiment
 * (experiment.h): refusals and answer diversity over a probe's answers,
 * against counts worked out by hand from docs/metrics.md, and mean /
 * sample standard deviation over seeds. */
#include "harness.h"
#include <string.h>

#include "llamaref/papers/knowledge/experiment.h"

static void test_answer_stats(void)
{
    /* q0: a correct answer and a refusal; q1: "Answer: Paris" has the key
     * "paris" (text after "answer:"), "London"; q2: "paris." loses its
     * trailing dot, the empty answer is not counted */
    static const char *const q0[] = {"Paris", "I couldn't find any information about Ulosesh."};
    static const char *const q1[] = {"Answer: Paris", "London"};
    static const char *const q2[] = {"paris.", ""};
    const char *const *const answers[] = {q0, q1, q2};
    const size_t n[] = {2, 2, 2};
    lr_answer_stats s;
    lr_error err;
    CHECK_OK(lr_answer_stats_compute(answers, n, 3, &s, &err), &err);
    CHECK_INT(s.questions, 3);
    CHECK_INT(s.answers, 6);
    CHECK_INT(s.refusals, 1);
    CHECK_INT(s.questions_refusing, 1);
    CHECK_INT(s.div.n_refusals, 1);
    CHECK_INT(s.div.n_empty, 1);
    CHECK_INT(s.div.n_answers, 4);
    CHECK_INT(s.div.n_unique, 2);
    /* counts {paris: 3, london: 1}: mean 2, population std 1, nothing
     * above mean + 3 std */
    CHECK_NEAR(s.div.mean_freq, 2.0, 1e-15);
    CHECK_NEAR(s.div.std_freq, 1.0, 1e-15);
    CHECK_INT(s.div.n_over, 0);
    CHECK_STR(s.div.counts[0].key, "paris");
    CHECK_INT(s.div.counts[0].count, 3);
    lr_answer_stats_free(&s);
    CHECK_OK(lr_answer_stats_compute(answers, n, 0, &s, &err), &err);
    CHECK_INT(s.answers, 0);
    CHECK_INT(s.div.n_unique, 0);
    lr_answer_stats_free(&s);
}

static void test_mean_std(void)
{
    const double v[] = {1, 2, 3, 4};
    double m, sd;
    lr_mean_std(v, 4, &m, &sd);
    CHECK_NEAR(m, 2.5, 1e-15);
    CHECK_NEAR(sd, 1.2909944487358056, 1e-15); /* sqrt(5/3) */
    lr_mean_std(v + 2, 1, &m, &sd);
    CHECK_NEAR(m, 3.0, 0);
    CHECK_NEAR(sd, 0.0, 0);
    lr_mean_std(v, 0, &m, &sd);
    CHECK(m != m);
}

/* The one JSON layout of answer statistics (knowledge-report and
 * experiment): counts, rates, then the diversity after sep. */
static void test_answer_stats_json(void)
{
    static const char *const q0[] = {"Paris", "I couldn't find any information about Ulosesh."};
    static const char *const q1[] = {"Paris", "London"};
    const char *const *const answers[] = {q0, q1};
    const size_t n[] = {2, 2};
    lr_answer_stats s;
    lr_error err;
    lr_buf b = {0};
    CHECK_OK(lr_answer_stats_compute(answers, n, 2, &s, &err), &err);
    CHECK(lr_answer_stats_write_json(&b, &s, 1, "\n    ") == 0);
    CHECK(b.data != NULL);
    if (b.data) {
        /* 1 refusal of 4 answers, 1 of 2 questions; top 1: paris x2 */
        CHECK_STR(b.data, "\"answers\": 4, \"refusals\": 1, \"refusal_rate\": 0.25, "
                  "\"questions_with_refusal\": 1, \"question_refusal_rate\": 0.5,\n"
                  "    \"diversity\": {\"counted\": 3, \"empty\": 0, \"unique\": 2, "
                  "\"mean_freq\": 1.5, \"std_freq\": 0.5, \"over_represented\": 0, "
                  "\"top\": [[\"paris\", 2]]}");
    }
    lr_buf_free(&b);
    lr_answer_stats_free(&s);
}

/* Reliability on a hand-made set of trained examples:
 *   A Unknown, probed, 4 prompts, 3 correct, HighlyKnown after: no (MK)
 *   A again (a second example of the same fact: not Unknown-counted)
 *   B Unknown, probed, 4 prompts, 4 correct, HighlyKnown after
 *   C Unknown, not probed
 *   D a known (HighlyKnown) example, probed, 4 prompts, 2 correct
 * reliability = (3 + 4) / 8; HK after = 1 / 2 found; over every probed
 * example (A, A, B, D) = (3 + 3 + 4 + 2) / 16. */
static void test_reliability(void)
{
    lr_reliability r;
    memset(&r, 0, sizeof r);
    CHECK(lr_reliability_value(&r, -1) == -1);
    CHECK(lr_reliability_hk(&r, -1) == -1);
    CHECK(lr_reliability_all(&r, -1) == -1);
    lr_reliability_add(&r, 1, 1, 4, 3, 0);
    lr_reliability_add(&r, 0, 1, 4, 3, 0);
    lr_reliability_add(&r, 1, 1, 4, 4, 1);
    lr_reliability_add(&r, 1, 0, 0, 0, 0);
    lr_reliability_add(&r, 0, 1, 4, 2, 1);
    CHECK_INT(r.facts, 3);
    CHECK_INT(r.found, 2);
    CHECK_INT(r.prompts, 8);
    CHECK_INT(r.correct, 7);
    CHECK_INT(r.highly_known, 1);
    CHECK_INT(r.all, 5);
    CHECK_INT(r.all_found, 4);
    CHECK_INT(r.all_prompts, 16);
    CHECK_INT(r.all_correct, 12);
    CHECK_NEAR(lr_reliability_value(&r, -1), 7.0 / 8.0, 0);
    CHECK_NEAR(lr_reliability_hk(&r, -1), 0.5, 0);
    CHECK_NEAR(lr_reliability_all(&r, -1), 0.75, 0);
}

int main(void)
{
    RUN(test_answer_stats_json);
    RUN(test_reliability);
    RUN(test_answer_stats);
    RUN(test_mean_std);
    return h_finish("test_experiment");
}
