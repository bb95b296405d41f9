/* test_loss.c - causal LM cross-entropy (ref/model/loss.c) against torch.
 *
 * Expected values come from torch.nn.functional.cross_entropy (float64) on
 * the shifted logits/labels, ignore_index -100 (vectors/gen/gen_loss_case.py
 * prints them); tolerances: float build 2e-6, double build 1e-13. */
#include "harness.h"
#include "llamaref/model/loss.h"

#ifdef LR_DOUBLE
#define TOL 1e-13
#else
#define TOL 2e-6
#endif

static const double k_logits[40] = {
    0.2, 0.14, 5.51, 4.1, 3.36, 5.58, 1.8, 2.21, -2.42, -2.4,
    2.3, 1.55, 5.89, 1.34, 1.74, -3.15, 0.39, -0.87, 1.37, 5.08,
    4.37, 5.8, -4.33, 2.18, -2.88, 2.42, 2.78, -2.45, 0.53, 1.59,
    -2.12, 2.48, -1.25, -5.96, 0.39, 2.39, 2.06, -0.98, -5.02, -1.32};
static const int k_labels[8] = {1, 3, -100, 4, 2, 0, 1, -100};
static const double k_loss = 2.0884592613324404;
static const double k_grad[40] = {
    0.0009016643491826607, 0.00084915550525755312, 0.18245198698656176,
    -0.20545557287923263, 0.021252766038230675, 0, 0, 0, 0, 0,
    0.0064665411129648399, 0.0030545777336892445, 0.23430914166884959,
    0.0024759925890198197, -0.24630625310452348, 0, 0, 0, 0, 0,
    -0.20275435228985214, 0.19742534990828517, 7.8704545394310159e-06,
    0.0052875792780394983, 3.355264898802465e-05, 0.082559370197328175,
    -0.13166522624859323, 0.0006335082054626911, 0.012472393392101933,
    0.035999954453700411, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static void test_torch_case(void)
{
    lr_float logits[40], dl[40];
    double tlp[8], nll = -1;
    long n = -1;
    lr_error err;
    int i;
    for (i = 0; i < 40; i++) logits[i] = (lr_float)k_logits[i];
    for (i = 0; i < 40; i++) dl[i] = (lr_float)99; /* must be overwritten */
    CHECK_OK(lr_causal_lm_loss(logits, k_labels, 2, 4, 5, tlp, &nll, &n, dl,
                               1.0 / 4, &err), &err);
    CHECK_INT(n, 4);
    CHECK_NEAR(nll / n, k_loss, TOL);
    for (i = 0; i < 40; i++) CHECK_NEAR(dl[i], k_grad[i], TOL);
    /* ignored rows: exactly zero (not merely small) */
    for (i = 5; i < 10; i++) CHECK(dl[i] == 0);
    for (i = 30; i < 40; i++) CHECK(dl[i] == 0);
    /* token log-probs: row (0,0) predicts label 3, zero where not counted */
    CHECK_NEAR(tlp[0], lr_logprob(logits, 5, 3), 1e-15);
    CHECK(tlp[1] == 0 && tlp[3] == 0 && tlp[6] == 0 && tlp[7] == 0);
    CHECK_NEAR(-(tlp[0] + tlp[2] + tlp[4] + tlp[5]), nll, 1e-12);
}

static void test_logprob_closed_form(void)
{
    lr_float row[4] = {0, 0, 0, 0};
    lr_float big[3] = {1000, 1000, -1000}; /* needs the max shift */
    CHECK_NEAR(lr_logprob(row, 4, 2), -log(4.0), 1e-15);
    CHECK_NEAR(lr_logprob(big, 3, 0), -log(2.0), 1e-12);
    CHECK(isfinite(lr_logprob(big, 3, 2)));
    CHECK_NEAR(lr_logprob(big, 3, 2), -2000 - log(2.0), 1e-9);
}

static void test_all_ignored_and_optional_outputs(void)
{
    lr_float logits[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    int labels[2] = {-100, -100};
    double nll = 5;
    long n = 5;
    lr_error err;
    CHECK_OK(lr_causal_lm_loss(logits, labels, 1, 2, 5, NULL, &nll, &n, NULL,
                               1.0, &err), &err);
    CHECK_INT(n, 0);
    CHECK(nll == 0);
}

static void test_bad_label(void)
{
    lr_float logits[10] = {0};
    int labels[2] = {1, 5};
    int neg[2] = {1, -1};
    double nll;
    long n;
    lr_error err;
    CHECK_ERR(lr_causal_lm_loss(logits, labels, 1, 2, 5, NULL, &nll, &n, NULL,
                                1.0, &err), &err, "position 1");
    CHECK_ERR(lr_causal_lm_loss(logits, neg, 1, 2, 5, NULL, &nll, &n, NULL,
                                1.0, &err), &err, "label -1");
}

/* lr_causal_lm_loss_lse: the log-sum-exps a first call keeps give a
 * second call (dlogits) the bits lr_causal_lm_loss gives; uncounted rows'
 * entries are left alone; a known lse is read, not recomputed. */
static void test_lse_kept(void)
{
    enum { B = 2, T = 4, V = 37 }; /* V: vector lanes and a scalar tail */
    lr_float logits[B * T * V], d0[B * T * V], d1[B * T * V];
    int labels[B * T] = {1, 3, -100, 36, 2, 0, 1, -100};
    double lse[B * T], nll0, nll1, nll2;
    long n0, n1;
    lr_error err;
    int i;
    for (i = 0; i < B * T * V; i++)
        logits[i] = (lr_float)(((i * 37 + 11) % 97) / 9.0 - 5.0);
    for (i = 0; i < B * T; i++) lse[i] = 7.0;
    CHECK_OK(lr_causal_lm_loss(logits, labels, B, T, V, NULL, &nll0, &n0, d0,
                               0.25, &err), &err);
    CHECK_OK(lr_causal_lm_loss_lse(logits, labels, B, T, V, NULL, &nll1, &n1,
                                   NULL, 1.0, lse, 0, &err), &err);
    CHECK(memcmp(&nll0, &nll1, sizeof nll0) == 0);
    CHECK_INT(n1, n0);
    /* row (b, t) is scored against labels[b][t + 1]: rows 0, 2, 4, 5 are
     * counted; 1 and 6 point at -100, 3 and 7 end their sequences */
    CHECK(lse[1] == 7.0 && lse[3] == 7.0 && lse[6] == 7.0 && lse[7] == 7.0);
    CHECK(lse[0] != 7.0 && lse[2] != 7.0 && lse[4] != 7.0);
    CHECK_OK(lr_causal_lm_loss_lse(logits, labels, B, T, V, NULL, &nll2, NULL,
                                   d1, 0.25, lse, 1, &err), &err);
    CHECK(memcmp(d0, d1, sizeof d0) == 0);
    CHECK(memcmp(&nll0, &nll2, sizeof nll0) == 0);
    lse[0] += 0.5; /* read, not recomputed: row 0 moves */
    CHECK_OK(lr_causal_lm_loss_lse(logits, labels, B, T, V, NULL, NULL, NULL,
                                   d1, 0.25, lse, 1, &err), &err);
    CHECK(memcmp(d0, d1, sizeof(lr_float) * V) != 0);
    CHECK(memcmp(d0 + V, d1 + V, sizeof(lr_float) * (B * T - 1) * V) == 0);
}

int main(void)
{
    RUN(test_torch_case);
    RUN(test_logprob_closed_form);
    RUN(test_all_ignored_and_optional_outputs);
    RUN(test_bad_label);
    RUN(test_lse_kept);
    return h_finish("test_loss");
}
