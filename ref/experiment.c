/* experiment.c - statistics of the knowledge-injection experiment over
 * whole probes and over seeds; see experiment.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/experiment.h"
#include "llamaref/refusal.h"

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
