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

int main(void)
{
    RUN(test_torch_case);
    RUN(test_logprob_closed_form);
    RUN(test_all_ignored_and_optional_outputs);
    RUN(test_bad_label);
    return h_finish("test_loss");
}
