/* test_experiment.c - the statistics of the knowledge experiment
 * (experiment.h): refusals and answer diversity over a probe's answers,
 * against counts worked out by hand from docs/metrics.md, and mean /
 * sample standard deviation over seeds. */
#include "harness.h"
#include "llamaref/experiment.h"

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

int main(void)
{
    RUN(test_answer_stats);
    RUN(test_mean_std);
    return h_finish("test_experiment");
}
