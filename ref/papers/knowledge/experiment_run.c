/* experiment_run.c - the knowledge experiment's grid and measurements,
 * printing nothing (experiment_run.h): a world's experiment.json, the grid and its work estimate,
 * answer statistics, reliability over a mixture, the scores of a grid
 * point, one benchmark subject, perplexity.
 * Depends on: experiment.h, json.h, knowledge.h, probe.h, mixture.h,
 * train_run.h (the paper's training options),
 * mmlu.h, loglik.h, tokenizer.h, par.h (the benchmark's questions and the
 * perplexity's windows sharded under mpirun). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/papers/knowledge/experiment_run.h"
#include "llamaref/core/json.h"
#include "llamaref/core/par.h"
#include "llamaref/core/tokens.h"
#include "llamaref/train/train_run.h"

void lr_exp_paper_train(lr_train_options *t)
{
    lr_train_options_default(t);
    t->rslora = 1;
}

int lr_exp_defaults_read(const char *path, lr_exp_defaults *out, lr_error *err)
{
    static const char *const keys[] = {"lr", "epochs", "r", "alpha", "batch", "dropout",
                                       "bench_format"};
    lr_json_doc *doc = NULL;
    const lr_json *root;
    size_t i, k;
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (lr_json_parse_file(path, &doc, err)) return -1;
    root = lr_json_root(doc);
    if (root->type != LR_JSON_OBJECT) {
        lr_fail(err, "%s: not a JSON object", path);
        goto done;
    }
    for (i = 0; i < root->len; i++) {
        const lr_json *v = &root->items[i];
        const char *key = root->keys[i];
        for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (!strcmp(key, keys[k])) break;
        if (k == sizeof keys / sizeof keys[0]) {
            lr_fail(err, "%s:%d: unknown key \"%s\" (lr, epochs, r, alpha, batch, "
                    "dropout, bench_format)", path, v->line, key);
            goto done;
        }
        if (k == 6) {
            if (v->type != LR_JSON_STRING || lr_mmlu_format_parse(v->str, &out->bench_format)) {
                lr_fail(err, "%s:%d: \"bench_format\" must be \"letter\" or "
                        "\"continuation\"", path, v->line);
                goto done;
            }
            out->has_bench_format = 1;
            continue;
        }
        if (v->type != LR_JSON_NUMBER || v->number > 1e6 ||
            (k == 5 ? !(v->number >= 0 && v->number < 1) : !(v->number > 0)) ||
            (k == 1 || k == 2 || k == 4 ? !v->is_integer : 0)) {
            lr_fail(err, "%s:%d: \"%s\" must be %s", path, v->line, key,
                    k == 1 || k == 2 || k == 4 ? "a positive integer" :
                    k == 5 ? "a number in [0, 1)" : "a positive number");
            goto done;
        }
        switch (k) {
        case 0: out->lr = v->number; out->has_lr = 1; break;
        case 1: out->epochs = (long)v->integer; out->has_epochs = 1; break;
        case 2: out->r = (long)v->integer; out->has_r = 1; break;
        case 3: out->alpha = v->number; out->has_alpha = 1; break;
        case 4: out->batch = (long)v->integer; out->has_batch = 1; break;
        default: out->dropout = v->number; out->has_dropout = 1; break;
        }
    }
    rc = 0;
done:
    lr_json_free(doc);
    return rc;
}

double lr_exp_point_work(const lr_exp_grid *g, long n, long k)
{
    double probe = (double)g->n_facts * g->n_prompts * (g->max_new_tokens + 16);
    double train = (double)n * (double)(k + 1) * (double)g->epochs * 3.0 * 32.0;
    return probe + train;
}

int lr_exp_grid_run(const lr_exp_grid *g,
                    int (*point)(void *ctx, const lr_exp_point *p), void *ctx)
{
    lr_exp_point p;
    int a, b, c, rc;
    memset(&p, 0, sizeof p);
    p.count = (size_t)g->n_unknown * (size_t)g->n_extra * (size_t)g->n_seeds;
    for (a = 0; a < g->n_unknown; a++)
        for (b = 0; b < g->n_extra; b++)
            p.total_work += (double)g->n_seeds *
                            lr_exp_point_work(g, g->unknown[a], g->extra[b]);
    for (a = 0; a < g->n_unknown; a++)
        for (b = 0; b < g->n_extra; b++)
            for (c = 0; c < g->n_seeds; c++) {
                p.n = g->unknown[a];
                p.k = g->extra[b];
                p.seed = g->seeds[c];
                if ((rc = point(ctx, &p)) != 0) return rc;
                p.done_work += lr_exp_point_work(g, p.n, p.k);
                p.index++;
            }
    return 0;
}

int lr_exp_answer_stats(const lr_probe_result *res, size_t n, int n_prompts,
                        lr_answer_stats *out, lr_error *err)
{
    const char *const **ans = malloc((n + 1) * sizeof *ans);
    size_t *na = malloc((n + 1) * sizeof *na), i;
    int rc;
    if (!ans || !na) {
        free((void *)ans);
        free(na);
        memset(out, 0, sizeof *out);
        return lr_fail(err, "out of memory");
    }
    for (i = 0; i < n; i++) {
        ans[i] = (const char *const *)res[i].greedy;
        na[i] = (size_t)n_prompts;
    }
    rc = lr_answer_stats_compute(ans, na, n, out, err);
    free((void *)ans);
    free(na);
    return rc;
}

int lr_exp_reliability(const lr_mixture *mx, const lr_facts *facts,
                       const lr_probe_result *res, int n_prompts,
                       lr_reliability *out, lr_error *err)
{
    unsigned char *seen;
    size_t e;
    memset(out, 0, sizeof *out);
    /* (compared as integers: the pointer may point into another array) */
    for (e = 0; e < mx->n; e++)
        if ((uintptr_t)mx->ex[e].fact < (uintptr_t)facts->items ||
            (uintptr_t)mx->ex[e].fact >= (uintptr_t)(facts->items + facts->n))
            return lr_fail(err, "mixture example %lu: its fact is not one of the %lu "
                           "probed facts", (unsigned long)e, (unsigned long)facts->n);
    if (!(seen = calloc(facts->n + 1, 1))) return lr_fail(err, "out of memory");
    for (e = 0; e < mx->n; e++) {
        size_t f = (size_t)(mx->ex[e].fact - facts->items);
        /* unknown / known roles: the example's own question is a probed fact */
        int role = mx->ex[e].role;
        int unknown = role == LR_ROLE_UNKNOWN && !seen[f];
        if (unknown) seen[f] = 1;
        lr_reliability_add(out, unknown, role == LR_ROLE_UNKNOWN || role == LR_ROLE_KNOWN,
                           (size_t)n_prompts, res[f].n_greedy_correct,
                           res[f].category == LR_SLICK_HIGHLY_KNOWN);
    }
    free(seen);
    return 0;
}

int lr_exp_point_scores(const lr_slick *before, const lr_probe_result *res,
                        const lr_facts *facts, const lr_mixture *mx,
                        int n_prompts, lr_exp_scores *out, lr_error *err)
{
    lr_slick *after = calloc(facts->n + 1, sizeof *after);
    size_t i;
    int rc;
    memset(out, 0, sizeof *out);
    if (!after) return lr_fail(err, "out of memory");
    for (i = 0; i < facts->n; i++) after[i] = res[i].category;
    rc = lr_shift_matrix(before, after, facts->n, &out->shift, err);
    free(after);
    if (rc || lr_exp_answer_stats(res, facts->n, n_prompts, &out->after, err))
        return -1;
    if (lr_exp_reliability(mx, facts, res, n_prompts, &out->rel, err)) {
        lr_answer_stats_free(&out->after);
        return -1;
    }
    return 0;
}

void lr_exp_scores_free(lr_exp_scores *s)
{
    if (s) lr_answer_stats_free(&s->after);
}

int lr_exp_bench_subject(lr_loglik *L, const lr_tokenizer *tok, int bos,
                         lr_mmlu_format format, const char *subject,
                         const char *dev_path, const char *test_path,
                         long n_shots, long limit, size_t *correct,
                         size_t *total, lr_error *err)
{
    lr_mmlu_items dev, test;
    lr_buf ctx = {0};
    size_t q, n, shots;
    unsigned char *right = NULL; /* [n]: 1 where the prediction is the answer */
    long q0, q1;
    int rc = -1;
    memset(&dev, 0, sizeof dev);
    memset(&test, 0, sizeof test);
    if (lr_mmlu_read(test_path, &test, err) ||
        (dev_path && lr_mmlu_read(dev_path, &dev, err)))
        goto done;
    shots = n_shots > 0 && (size_t)n_shots < dev.n ? (size_t)n_shots
                                                   : n_shots > 0 ? dev.n : 0;
    n = limit >= 0 && (size_t)limit < test.n ? (size_t)limit : test.n;
    if (!(right = lr_zalloc(n ? n : 1, 1, "benchmark questions", err))) goto done;
    /* each rank its shard of the questions, then every rank all of them
     * (par.h); one process: the shard is all of them */
    lr_par_shard((long)n, &q0, &q1);
    for (q = (size_t)q0; q < (size_t)q1; q++) {
        double ll[4];
        long pred, pred_norm;
        if (lr_mmlu_score(L, tok, bos, format, subject, dev.items, shots,
                          &test.items[q], &ctx, ll, &pred, &pred_norm, err)) {
            lr_fail_prefix(err, "%s:%lu", test_path, test.items[q].line);
            goto done;
        }
        right[q] = pred == test.items[q].answer;
    }
    if (lr_par_gather(right, (long)n, 1, err)) goto done;
    for (q = 0; q < n; q++) *correct += right[q];
    *total += n;
    rc = 0;
done:
    free(right);
    lr_mmlu_items_free(&test);
    lr_mmlu_items_free(&dev);
    lr_buf_free(&ctx);
    return rc;
}

int lr_exp_perplexity(lr_loglik *L, const lr_tokenizer *tok, const char *path,
                      int bos, long max_tokens, int window, double *ppl,
                      lr_error *err)
{
    char *text = NULL;
    size_t len, i, n;
    lr_tokens t = {0};
    int *ids = NULL, rc = -1;
    double nll = 0;
    long count = 0, k0, k1;
    lr_buf rec = {0};
    char *all = NULL;
    size_t all_n = 0;
    if (lr_read_file(path, &text, &len, err) ||
        lr_tokenizer_encode(tok, text, len, bos ? LR_ENCODE_BOS : 0, &t, err))
        goto done;
    n = max_tokens > 0 && (size_t)max_tokens < t.n ? (size_t)max_tokens : t.n;
    if (n < 2) {
        lr_fail(err, "%s: fewer than 2 tokens", path);
        goto done;
    }
    if (n > 0x7fffffffUL) { lr_fail(err, "%s: too many tokens", path); goto done; }
    if (!(ids = malloc(n * sizeof *ids))) { lr_fail(err, "out of memory"); goto done; }
    for (i = 0; i < n; i++) ids[i] = (int)t.ids[i];
    /* each rank its shard of the windows, rank 0 sums them in window order
     * as lr_perplexity does and every rank gets its value (loglik.h,
     * par.h); one process: the shard is every window */
    lr_par_shard(lr_perplexity_windows((int)n, window, window), &k0, &k1);
    if (lr_perplexity_run(L, ids, (int)n, window, window, k0, k1, &rec, err) ||
        lr_par_gather_bytes(rec.data ? rec.data : "", rec.len, &all, &all_n, err) ||
        (lr_par_rank() == 0 && lr_perplexity_fold(L, all, all_n, &nll, &count, err))) {
        lr_fail_prefix(err, "%s", path);
        goto done;
    }
    *ppl = exp(nll / (double)count);
    if (lr_par_bcast(ppl, sizeof *ppl, err)) goto done;
    rc = 0;
done:
    free(all);
    lr_buf_free(&rec);
    free(text);
    free(ids);
    lr_tokens_free(&t);
    return rc;
}
