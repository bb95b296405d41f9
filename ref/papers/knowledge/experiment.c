/* experiment.c - statistics of the knowledge-injection experiment over
 * whole probes and over seeds; see experiment.h.
 * Depends on: probe results (probe.h), refusal (refusal detection),
 * diversity (answer diversity), json. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/papers/knowledge/experiment.h"
#include "llamaref/core/json.h"
#include "llamaref/papers/knowledge/refusal.h"

int lr_answer_stats_compute(const char *const *const *answers,
                            const size_t *n_answers, size_t n_questions,
                            lr_answer_stats *s, lr_error *err)
{
    size_t q, j, n = 0;
    const char **all;
    memset(s, 0, sizeof *s);
    for (q = 0; q < n_questions; q++) n += n_answers[q];
    all = lr_alloc(n ? n : 1, sizeof *all, "answers", err);
    if (!all) return -1;
    n = 0;
    for (q = 0; q < n_questions; q++) {
        int any = 0;
        for (j = 0; j < n_answers[q]; j++) {
            int r = lr_is_refusal(answers[q][j], err);
            if (r < 0) { free((void *)all); return -1; }
            s->refusals += (size_t)r;
            any |= r;
            all[n++] = answers[q][j];
        }
        s->questions_refusing += (size_t)any;
    }
    s->questions = n_questions;
    s->answers = n;
    if (lr_diversity_compute(all, n, &s->div, err)) {
        free((void *)all);
        memset(s, 0, sizeof *s);
        return -1;
    }
    free((void *)all);
    return 0;
}

void lr_answer_stats_free(lr_answer_stats *s)
{
    lr_diversity_free(&s->div);
    memset(s, 0, sizeof *s);
}

void lr_mean_std(const double *v, size_t n, double *mean, double *sd)
{
    size_t i;
    double s = 0, ss = 0;
    if (!n) { *mean = NAN; *sd = 0; return; }
    for (i = 0; i < n; i++) s += v[i];
    *mean = s / (double)n;
    for (i = 0; i < n; i++) ss += (v[i] - *mean) * (v[i] - *mean);
    *sd = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
}

static double ratio_or(size_t a, size_t b, double none)
{
    return b ? (double)a / (double)b : none;
}

int lr_answer_stats_write_json(lr_buf *b, const lr_answer_stats *s,
                               size_t top, const char *sep)
{
    lr_buf_printf(b, "\"answers\": %lu, \"refusals\": %lu, \"refusal_rate\": ",
                  (unsigned long)s->answers, (unsigned long)s->refusals);
    lr_json_write_number(b, ratio_or(s->refusals, s->answers, 0));
    lr_buf_printf(b, ", \"questions_with_refusal\": %lu, \"question_refusal_rate\": ",
                  (unsigned long)s->questions_refusing);
    lr_json_write_number(b, ratio_or(s->questions_refusing, s->questions, 0));
    lr_buf_printf(b, ",%s\"diversity\": ", sep);
    return lr_diversity_write_json(b, &s->div, top);
}

void lr_reliability_add(lr_reliability *r, int is_unknown, int found,
                        size_t n_prompts, size_t n_correct, int highly_known)
{
    r->all++;
    if (found) {
        r->all_found++;
        r->all_prompts += n_prompts;
        r->all_correct += n_correct;
    }
    if (!is_unknown) return;
    r->facts++;
    if (!found) return;
    r->found++;
    r->prompts += n_prompts;
    r->correct += n_correct;
    r->highly_known += highly_known != 0;
}

double lr_reliability_value(const lr_reliability *r, double none)
{
    return ratio_or(r->correct, r->prompts, none);
}

double lr_reliability_hk(const lr_reliability *r, double none)
{
    return ratio_or(r->highly_known, r->found, none);
}

double lr_reliability_all(const lr_reliability *r, double none)
{
    return ratio_or(r->all_correct, r->all_prompts, none);
}
