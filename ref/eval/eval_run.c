/* eval_run.c - the evaluation runs of `llamaref eval` (eval_run.h): MMLU,
 * TruthfulQA and perplexity scored through loglik.h (the trainer's loss),
 * with their JSON / Markdown / SVG / JSONL reports built in memory, and
 * the requests lm-evaluation-harness would send.  Prints nothing.  Under
 * mpirun the questions (windows) are sharded over the ranks and gathered
 * in their order (par.h), so the reports are those of one process.
 * Depends on: par.h, loglik.h, tokenizer.h, mmlu.h, truthfulqa.h, mcscore.h,
 * svg.h, json.h, report.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/eval/eval_run.h"
#include "llamaref/core/json.h"
#include "llamaref/eval/mcscore.h"
#include "llamaref/core/par.h"
#include "llamaref/core/report.h"
#include "llamaref/core/svg.h"
#include "llamaref/core/tokens.h"
#include "llamaref/eval/truthfulqa.h"

void lr_eval_options_default(lr_eval_options *o)
{
    memset(o, 0, sizeof *o);
    o->chart_name = "";
    o->shots = 5;
    o->limit = -1;
    o->bos = 1;
    o->format = LR_MMLU_LETTER;
}

int lr_eval_task(const char *task, lr_loglik *L, const lr_tokenizer *tok,
                 const lr_eval_options *o, lr_eval_report *out, lr_error *err)
{
    if (!strcmp(task, "mmlu")) return lr_eval_mmlu(L, tok, o, out, err);
    if (!strcmp(task, "truthfulqa")) return lr_eval_truthfulqa(L, tok, o, out, err);
    if (!strcmp(task, "ppl")) return lr_eval_ppl(L, tok, o, out, err);
    memset(out, 0, sizeof *out);
    return lr_fail(err, "unknown task '%s' (mmlu, truthfulqa, ppl)", task);
}

int lr_eval_requests(const char *task, const lr_eval_options *o, lr_buf *out,
                     lr_error *err)
{
    if (!strcmp(task, "mmlu")) return lr_eval_requests_mmlu(o, out, err);
    if (!strcmp(task, "truthfulqa")) return lr_eval_requests_truthfulqa(o, out, err);
    return lr_fail(err, "no requests for task '%s' (mmlu, truthfulqa)", task);
}

void lr_eval_summary(const char *task, const lr_eval_options *o,
                     const lr_eval_report *r, lr_buf *out)
{
    if (!strcmp(task, "mmlu"))
        lr_buf_printf(out, "mmlu: %lu questions, %lu subjects, acc %.4f, acc_norm %.4f (%s)\n",
                      (unsigned long)r->questions, (unsigned long)r->subjects, r->acc,
                      r->acc_norm, lr_mmlu_format_name(o->format));
    else if (!strcmp(task, "truthfulqa"))
        lr_buf_printf(out, "truthfulqa: %lu questions, mc1 %.4f, mc2 %.4f\n",
                      (unsigned long)r->questions, r->mc1, r->mc2);
    else {
        lr_buf_printf(out, "ppl: %ld tokens scored, nll/token %.6f, perplexity %.4f\n",
                      r->scored, r->nll / (double)r->scored, r->ppl);
        lr_buf_printf(out, "PPL = %.4f +/- %.5f\n", r->ppl, r->ppl_stderr);
    }
}

const char *lr_eval_chart_suffix(const char *task)
{
    return !strcmp(task, "mmlu") ? "-subjects.svg" : "-mc.svg";
}

int lr_eval_report_write(const char *task, const lr_eval_report *r,
                         const char *out, const char *items, lr_error *err)
{
    char path[4096];
    if (out) {
        if (lr_write_file_atomic(out, r->json.data, r->json.len, err)) return -1;
        lr_report_path(path, sizeof path, out, lr_eval_chart_suffix(task));
        if (r->svg.len && lr_write_file_atomic(path, r->svg.data, r->svg.len, err))
            return -1;
        lr_report_path(path, sizeof path, out, ".md");
        if (lr_write_file_atomic(path, r->md.data, r->md.len, err)) return -1;
    }
    if (items && lr_write_file_atomic(items, r->items.data ? r->items.data : "",
                                      r->items.len, err))
        return -1;
    return 0;
}

void lr_eval_context(lr_eval_options *o, const char *task, long max_pos,
                     long *max_len)
{
    if (!o->window) {
        o->window = max_pos;
        if (o->window <= 1 || o->window > 2048) o->window = 2048;
    }
    if (!strcmp(task, "ppl") && *max_len > o->window) *max_len = o->window;
    if (o->window > *max_len) o->window = *max_len;
}

void lr_eval_report_free(lr_eval_report *r)
{
    if (!r) return;
    lr_buf_free(&r->json);
    lr_buf_free(&r->md);
    lr_buf_free(&r->svg);
    lr_buf_free(&r->items);
    memset(r, 0, sizeof *r);
}

/* what the reports say about BOS: asked for (not --no-bos) and the
 * tokenizer has one to add (a GGUF with add_bos_token false, SmolLM2, has
 * none: its encodings never start with BOS, whatever o->bos says) */
static int bos_added(const lr_eval_options *o, const lr_tokenizer *tok)
{
    return o->bos && tok->bos_id >= 0;
}

/* The uncertainty of a perplexity as llama.cpp's perplexity tool computes
 * it: ppl * the standard error of the mean token NLL (sample variance). */
static double ppl_stderr(double nll, double nll2, long count)
{
    double mean = nll / (double)count, var = nll2 / (double)count - mean * mean;
    if (count < 2 || !(var > 0)) return 0;
    return exp(mean) * sqrt(var / (double)(count - 1));
}

/* The standard error of a mean as lm-evaluation-harness 0.4 computes it
 * (mean_stderr: the sample standard deviation, n - 1, over sqrt(n)), from
 * the sum and the sum of squares of n values; NaN (JSON null, the
 * harness's "N/A") below 2 values. */
static double mean_stderr(double sum, double sumsq, double n)
{
    double mu, var;
    if (n < 2) return NAN;
    mu = sum / n;
    var = (sumsq - n * mu * mu) / (n - 1);
    return sqrt(var > 0 ? var / n : 0);
}

/* A group's standard error over subtasks weighted by size, as the harness
 * aggregates MMLU (pooled_sample_stderr): sqrt(sum (n_i - 1) n_i se_i^2 /
 * (N - k) / N). */
static double pooled_stderr(const double *se, const size_t *n, size_t k)
{
    double num = 0, N = 0;
    size_t i;
    for (i = 0; i < k; i++) {
        N += (double)n[i];
        if (n[i] >= 2) num += ((double)n[i] - 1) * se[i] * se[i] * (double)n[i];
    }
    if (N - (double)k <= 0) return NAN;
    return sqrt(num / (N - (double)k) / N);
}

/* "name,none": value, "name_stderr,none": se (null when NaN) */
static void write_metric(lr_buf *b, const char *name, double value, double se)
{
    lr_buf_printf(b, "\"%s,none\": ", name);
    lr_json_write_number(b, value);
    lr_buf_printf(b, ", \"%s_stderr,none\": ", name);
    if (se == se) lr_json_write_number(b, se);
    else lr_buf_puts(b, "null");
}

static int report_oom(const lr_eval_report *r, lr_error *err)
{
    if (r->json.oom || r->md.oom || r->svg.oom || r->items.oom)
        return lr_fail(err, "out of memory");
    return 0;
}

static int subject_selected(const char *list, const char *s)
{
    size_t n = strlen(s);
    const char *p = list;
    if (!list) return 1;
    while ((p = strstr(p, s)) != NULL) {
        if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
            return 1;
        p += n;
    }
    return 0;
}

/* A subject's test questions (the first limit) and, with shots, its dev
 * questions; *n gets the number of test questions asked. */
static int read_subject(const lr_eval_options *o, const char *subj, char *test_path,
                        size_t cap, lr_mmlu_items *dev, lr_mmlu_items *test,
                        size_t *n, lr_error *err)
{
    char dev_path[4096];
    snprintf(dev_path, sizeof dev_path, "%s/dev/%s_dev.csv", o->data, subj);
    snprintf(test_path, cap, "%s/test/%s_test.csv", o->data, subj);
    memset(dev, 0, sizeof *dev);
    if (lr_mmlu_read(test_path, test, err)) return -1;
    if (o->shots > 0 && lr_mmlu_read(dev_path, dev, err)) {
        lr_mmlu_items_free(test);
        return -1;
    }
    if ((size_t)o->shots > dev->n) {
        lr_fail(err, "%s has %lu questions, %ld shots requested", dev_path,
                (unsigned long)dev->n, o->shots);
        lr_mmlu_items_free(test);
        lr_mmlu_items_free(dev);
        return -1;
    }
    *n = o->limit >= 0 && (size_t)o->limit < test->n ? (size_t)o->limit : test->n;
    return 0;
}

int lr_eval_mmlu(lr_loglik *L, const lr_tokenizer *tok, const lr_eval_options *o,
                 lr_eval_report *out, lr_error *err)
{
    lr_buf *json = &out->json, *md = &out->md, *items = &out->items, ctx = {0};
    int s, rc = -1, n_found;
    size_t total_n = 0, total_correct = 0, total_norm = 0, n_subj = 0;
    char **found = NULL;
    const char **names = NULL;
    double *accs = NULL, *norms = NULL, *se_acc = NULL, *se_norm = NULL;
    size_t *ns = NULL;
    double *lls = NULL; /* [n][4]: the choices' log-likelihoods of a subject */
    int bos = bos_added(o, tok);

    memset(out, 0, sizeof *out);
    out->bos_added = bos;
    /* every DIR/test/<subject>_test.csv: MMLU's 57, or another benchmark in
     * its layout (a world's benchmark/, docs/world.md) */
    if ((n_found = lr_mmlu_list_subjects(o->data, &found, err)) < 0) return -1;
    names = malloc(sizeof *names * (size_t)(n_found + 1));
    accs = malloc(sizeof *accs * (size_t)(n_found + 1));
    norms = malloc(sizeof *norms * (size_t)(n_found + 1));
    ns = malloc(sizeof *ns * (size_t)(n_found + 1));
    se_acc = malloc(sizeof *se_acc * (size_t)(n_found + 1));
    se_norm = malloc(sizeof *se_norm * (size_t)(n_found + 1));
    if (!names || !accs || !norms || !ns || !se_acc || !se_norm) {
        lr_fail(err, "out of memory");
        goto done;
    }

    lr_buf_printf(md, "# MMLU\n\nModel `%s`, %ld-shot, %s (lm-evaluation-harness "
                  "task `%s`), BOS %s.\n\n| subject | questions | "
                  "acc | acc_norm |\n|---|---:|---:|---:|\n", o->model_name, o->shots,
                  o->format == LR_MMLU_LETTER ? "answer letters scored"
                                              : "answer texts scored",
                  o->format == LR_MMLU_LETTER ? "mmlu" : "mmlu_continuation",
                  bos ? "prepended" : "not prepended");
    for (s = 0; s < n_found; s++) {
        const char *subj = found[s];
        char test_path[4096];
        lr_mmlu_items dev, test;
        size_t q, n, correct = 0, correct_norm = 0;
        double *grown;
        long q0, q1;
        if (!subject_selected(o->subjects, subj)) continue;
        if (read_subject(o, subj, test_path, sizeof test_path, &dev, &test, &n, err))
            goto done;
        /* under mpirun each rank scores its shard of the questions, then
         * every rank has all log-likelihoods (par.h) and counts them in
         * question order; one process: the shard is all of them */
        if (!(grown = realloc(lls, sizeof *lls * 4 * (n ? n : 1)))) {
            lr_fail(err, "out of memory");
            lr_mmlu_items_free(&test);
            lr_mmlu_items_free(&dev);
            goto done;
        }
        lls = grown;
        lr_par_shard((long)n, &q0, &q1);
        for (q = (size_t)q0; q < (size_t)q1; q++) {
            long pred, pred_norm;
            if (lr_mmlu_score(L, tok, o->bos, o->format, subj, dev.items,
                              (size_t)o->shots, &test.items[q], &ctx, lls + 4 * q,
                              &pred, &pred_norm, err)) {
                lr_fail_prefix(err, "%s:%lu", test_path, test.items[q].line);
                lr_mmlu_items_free(&test);
                lr_mmlu_items_free(&dev);
                goto done;
            }
        }
        if (lr_par_gather(lls, (long)n, 4 * sizeof *lls, err)) {
            lr_mmlu_items_free(&test);
            lr_mmlu_items_free(&dev);
            goto done;
        }
        for (q = 0; q < n; q++) {
            const double *ll = lls + 4 * q;
            int c;
            long pred, pred_norm;
            lr_mmlu_predict(o->format, &test.items[q], ll, &pred, &pred_norm);
            correct_norm += pred_norm == test.items[q].answer;
            correct += pred == test.items[q].answer;
            if (o->want_items) {
                lr_buf_puts(items, "{\"subject\": ");
                lr_json_write_string(items, subj, strlen(subj));
                lr_buf_printf(items, ", \"line\": %lu, \"gold\": %d, \"pred\": %ld, "
                              "\"pred_norm\": %ld, \"ll\": [", test.items[q].line,
                              test.items[q].answer, pred, pred_norm);
                for (c = 0; c < 4; c++) {
                    if (c) lr_buf_puts(items, ", ");
                    lr_json_write_number(items, ll[c]);
                }
                lr_buf_puts(items, "]}\n");
            }
        }
        names[n_subj] = subj;
        ns[n_subj] = n;
        accs[n_subj] = n ? (double)correct / (double)n : 0;
        norms[n_subj] = n ? (double)correct_norm / (double)n : 0;
        total_n += n;
        total_correct += correct;
        total_norm += correct_norm;
        lr_buf_printf(md, "| %s | %lu | %.4f | %.4f |\n", subj, (unsigned long)n,
                      accs[n_subj], norms[n_subj]);
        if (o->subject_done && lr_par_rank() == 0)
            o->subject_done(o->progress_ctx, subj, n, accs[n_subj], norms[n_subj]);
        n_subj++;
        lr_mmlu_items_free(&test);
        lr_mmlu_items_free(&dev);
    }
    if (!n_subj) {
        lr_fail(err, "no test files %s/test/<subject>_test.csv found", o->data);
        goto done;
    }
    out->questions = total_n;
    out->subjects = n_subj;
    out->acc = total_n ? (double)total_correct / (double)total_n : 0.0;
    out->acc_norm = total_n ? (double)total_norm / (double)total_n : 0.0;
    lr_buf_printf(md, "| **all (size-weighted)** | %lu | **%.4f** | %.4f |\n",
                  (unsigned long)total_n, out->acc, out->acc_norm);
    lr_buf_printf(json, "{\n  \"task\": \"mmlu\",\n  \"model\": ");
    lr_json_write_string(json, o->model_name, strlen(o->model_name));
    lr_buf_printf(json, ",\n  \"format\": \"%s\",\n  \"shots\": %ld,\n  \"bos\": %s,\n"
                  "  \"questions\": %lu,\n  \"acc\": ", lr_mmlu_format_name(o->format),
                  o->shots, bos ? "true" : "false", (unsigned long)total_n);
    lr_json_write_number(json, out->acc);
    lr_buf_puts(json, ",\n  \"acc_norm\": ");
    lr_json_write_number(json, out->acc_norm);
    /* lm-evaluation-harness 0.4's keys: per subject the mean's standard
     * error, the group's pooled over subjects by size */
    for (s = 0; s < (int)n_subj; s++) {
        se_acc[s] = mean_stderr(accs[s] * (double)ns[s], accs[s] * (double)ns[s],
                                (double)ns[s]);
        se_norm[s] = mean_stderr(norms[s] * (double)ns[s], norms[s] * (double)ns[s],
                                 (double)ns[s]);
    }
    lr_buf_puts(json, ",\n  ");
    write_metric(json, "acc", out->acc, pooled_stderr(se_acc, ns, n_subj));
    lr_buf_puts(json, ",\n  ");
    write_metric(json, "acc_norm", out->acc_norm, pooled_stderr(se_norm, ns, n_subj));
    lr_buf_puts(json, ",\n  \"subjects\": {");
    for (s = 0; s < (int)n_subj; s++) {
        lr_buf_printf(json, "%s\n    \"%s\": {\"questions\": %lu, \"acc\": ",
                      s ? "," : "", names[s], (unsigned long)ns[s]);
        lr_json_write_number(json, accs[s]);
        lr_buf_puts(json, ", \"acc_norm\": ");
        lr_json_write_number(json, norms[s]);
        lr_buf_puts(json, ", ");
        write_metric(json, "acc", accs[s], se_acc[s]);
        lr_buf_puts(json, ", ");
        write_metric(json, "acc_norm", norms[s], se_norm[s]);
        lr_buf_puts(json, "}");
    }
    lr_buf_puts(json, "\n  }\n}\n");
    if (lr_svg_bar_chart(&out->svg, "MMLU accuracy per subject", "accuracy",
                         names, accs, n_subj, 1.0, err))
        goto done;
    lr_buf_printf(md, "\n![accuracy per subject](%s)\n",
                  o->chart_name ? o->chart_name : "");
    rc = report_oom(out, err);
done:
    lr_buf_free(&ctx);
    for (s = 0; s < n_found; s++) free(found[s]);
    free(found);
    free(names);
    free(accs);
    free(norms);
    free(se_acc);
    free(se_norm);
    free(ns);
    free(lls);
    return rc;
}

/* log-likelihoods of every choice of one target set */
static int tqa_lls(lr_loglik *L, const lr_tokenizer *tok, int bos, const char *context,
                   const lr_tqa_targets *t, double *ll, lr_error *err)
{
    size_t i;
    lr_buf cont = {0};
    for (i = 0; i < t->n; i++) {
        int *ci, *co, nci, nco, r;
        cont.len = 0;
        lr_buf_puts(&cont, " ");
        lr_buf_puts(&cont, t->choices[i]);
        if (cont.oom) { lr_buf_free(&cont); return lr_fail(err, "out of memory"); }
        if (lr_loglik_encode_pair(tok, context, cont.data, bos, &ci, &nci, &co, &nco,
                                  err)) {
            lr_buf_free(&cont);
            return -1;
        }
        r = lr_loglik_score(L, ci, nci, co, nco, &ll[i], NULL, err);
        free(ci);
        free(co);
        if (r) { lr_buf_free(&cont); return -1; }
    }
    lr_buf_free(&cont);
    return 0;
}

static void put_lls(lr_buf *b, const double *ll, size_t n)
{
    size_t k;
    for (k = 0; k < n; k++) {
        if (k) lr_buf_puts(b, ", ");
        lr_json_write_number(b, ll[k]);
    }
}

int lr_eval_truthfulqa(lr_loglik *L, const lr_tokenizer *tok,
                       const lr_eval_options *o, lr_eval_report *out,
                       lr_error *err)
{
    lr_tqa t;
    lr_buf *json = &out->json, *md = &out->md, *items = &out->items, ctx = {0};
    size_t q, n;
    double sum1 = 0, sum2 = 0, sq2 = 0, *ll1 = NULL, *ll2 = NULL, mc1, mc2, vals[2];
    double *ms = NULL; /* [n][2]: mc1, mc2 of each question */
    const char *labels[2] = {"MC1", "MC2"};
    char *all = NULL;
    size_t all_n = 0;
    long q0, q1;
    int rc = -1, bos = bos_added(o, tok);

    memset(out, 0, sizeof *out);
    out->bos_added = bos;
    if (lr_tqa_load(o->data, &t, err)) return -1;
    n = o->limit >= 0 && (size_t)o->limit < t.n ? (size_t)o->limit : t.n;
    /* under mpirun each rank scores its shard of the questions; rank 0
     * gathers the scores and the items records and sums in question order
     * (par.h); one process: the shard is all of them */
    if (!(ms = malloc(sizeof *ms * 2 * (n ? n : 1)))) {
        lr_fail(err, "out of memory");
        goto done;
    }
    lr_par_shard((long)n, &q0, &q1);
    for (q = (size_t)q0; q < (size_t)q1; q++) {
        lr_tqa_item *it = &t.items[q];
        double m1, m2;
        free(ll1);
        free(ll2);
        ll1 = malloc(it->mc1.n * sizeof *ll1);
        ll2 = malloc(it->mc2.n * sizeof *ll2);
        if (!ll1 || !ll2) { lr_fail(err, "out of memory"); goto done; }
        ctx.len = 0;
        if (lr_tqa_context(it->question, &ctx, err) ||
            tqa_lls(L, tok, o->bos, ctx.data, &it->mc1, ll1, err) ||
            tqa_lls(L, tok, o->bos, ctx.data, &it->mc2, ll2, err) ||
            lr_mc1(ll1, it->mc1.n, 0, &m1, err) ||
            lr_mc2(ll2, it->mc2.labels, it->mc2.n, &m2, err)) {
            lr_fail_prefix(err, "%s:%lu", o->data, it->line);
            goto done;
        }
        ms[2 * q] = m1;
        ms[2 * q + 1] = m2;
        if (o->want_items) {
            lr_buf_printf(items, "{\"index\": %lu, \"mc1\": ", (unsigned long)q);
            lr_json_write_number(items, m1);
            lr_buf_puts(items, ", \"mc2\": ");
            lr_json_write_number(items, m2);
            lr_buf_puts(items, ", \"mc1_ll\": [");
            put_lls(items, ll1, it->mc1.n);
            lr_buf_puts(items, "], \"mc2_ll\": [");
            put_lls(items, ll2, it->mc2.n);
            lr_buf_puts(items, "]}\n");
        }
        /* rank 0's progress through its shard (all of them in one process) */
        if ((q - (size_t)q0 + 1) % 50 == 0 && o->questions_done && lr_par_rank() == 0)
            o->questions_done(o->progress_ctx, q - (size_t)q0 + 1, (size_t)(q1 - q0));
    }
    if (items->oom) { lr_fail(err, "out of memory"); goto done; }
    if (lr_par_gather(ms, (long)n, 2 * sizeof *ms, err) ||
        lr_par_gather_bytes(items->data ? items->data : "", items->len, &all, &all_n,
                            err))
        goto done;
    items->len = 0;
    if (lr_par_rank() != 0) { rc = 0; goto done; } /* rank 0 reports */
    lr_buf_append(items, all, all_n);
    for (q = 0; q < n; q++) {
        sum1 += ms[2 * q];
        sum2 += ms[2 * q + 1];
        sq2 += ms[2 * q + 1] * ms[2 * q + 1];
    }
    mc1 = n ? sum1 / (double)n : 0;
    mc2 = n ? sum2 / (double)n : 0;
    out->questions = n;
    out->mc1 = vals[0] = mc1;
    out->mc2 = vals[1] = mc2;
    lr_buf_puts(json, "{\n  \"task\": \"truthfulqa\",\n  \"model\": ");
    lr_json_write_string(json, o->model_name, strlen(o->model_name));
    lr_buf_printf(json, ",\n  \"bos\": %s,\n  \"questions\": %lu,\n  \"mc1\": ",
                  bos ? "true" : "false", (unsigned long)n);
    lr_json_write_number(json, mc1);
    lr_buf_puts(json, ",\n  \"mc2\": ");
    lr_json_write_number(json, mc2);
    /* as lm-evaluation-harness 0.4 names the two tasks */
    lr_buf_puts(json, ",\n  \"truthfulqa_mc1\": {");
    write_metric(json, "acc", mc1, mean_stderr(sum1, sum1, (double)n));
    lr_buf_puts(json, "},\n  \"truthfulqa_mc2\": {");
    write_metric(json, "acc", mc2, mean_stderr(sum2, sq2, (double)n));
    lr_buf_puts(json, "}\n}\n");
    lr_buf_printf(md, "# TruthfulQA (multiple choice)\n\nModel `%s`, %lu "
                  "questions, 0-shot after the harness's 6-QA primer, BOS %s."
                  "\n\n| metric | value |\n|---|---:|\n| MC1 | %.4f |\n"
                  "| MC2 | %.4f |\n\n![MC1 and MC2](%s)\n", o->model_name,
                  (unsigned long)n, bos ? "prepended" : "not prepended", mc1, mc2,
                  o->chart_name ? o->chart_name : "");
    if (lr_svg_bar_chart(&out->svg, "TruthfulQA multiple choice", "score", labels,
                         vals, 2, 1.0, err))
        goto done;
    rc = report_oom(out, err);
done:
    free(ll1);
    free(ll2);
    free(ms);
    free(all);
    lr_tqa_free(&t);
    lr_buf_free(&ctx);
    return rc;
}

int lr_eval_ppl(lr_loglik *L, const lr_tokenizer *tok, const lr_eval_options *o,
                lr_eval_report *out, lr_error *err)
{
    char *text = NULL;
    size_t len, i;
    lr_tokens t = {0};
    int *ids = NULL, rc = -1, bos = bos_added(o, tok);
    double nll, mean;
    long count, k0, k1;
    lr_buf rec = {0};
    char *all = NULL;
    size_t all_n = 0;

    memset(out, 0, sizeof *out);
    out->bos_added = bos;
    out->window = o->window;
    out->stride = o->stride <= 0 || o->stride > o->window ? o->window : o->stride;
    if (lr_read_file(o->data, &text, &len, err) ||
        lr_tokenizer_encode(tok, text, len, o->bos ? LR_ENCODE_BOS : 0, &t, err))
        goto done;
    if (t.n < 2) {
        lr_fail(err, "%s: fewer than 2 tokens", o->data);
        goto done;
    }
    if (!(ids = malloc(t.n * sizeof *ids))) { lr_fail(err, "out of memory"); goto done; }
    for (i = 0; i < t.n; i++) ids[i] = (int)t.ids[i];
    /* under mpirun each rank runs its shard of the windows; rank 0 gathers
     * their increments in window order and sums them as lr_perplexity does
     * (loglik.h, par.h); one process: the shard is every window */
    lr_par_shard(lr_perplexity_windows((int)t.n, (int)out->window, (int)out->stride),
                 &k0, &k1);
    if (lr_perplexity_run(L, ids, (int)t.n, (int)out->window, (int)out->stride, k0,
                          k1, &rec, err) ||
        lr_par_gather_bytes(rec.data ? rec.data : "", rec.len, &all, &all_n, err))
        goto done;
    if (lr_par_rank() != 0) { rc = 0; goto done; } /* rank 0 reports */
    if (lr_perplexity_fold(L, all, all_n, &nll, &count, err)) goto done;
    mean = nll / (double)count;
    out->tokens = t.n;
    out->scored = count;
    out->nll = nll;
    out->ppl = exp(mean);
    out->ppl_stderr = ppl_stderr(nll, L->ppl_nll2, count);
    lr_buf_puts(&out->json, "{\n  \"task\": \"ppl\",\n  \"model\": ");
    lr_json_write_string(&out->json, o->model_name, strlen(o->model_name));
    lr_buf_puts(&out->json, ",\n  \"text\": ");
    lr_json_write_string(&out->json, o->data, strlen(o->data));
    lr_buf_printf(&out->json, ",\n  \"bos\": %s,\n  \"tokens\": %lu,\n  \"scored\": %ld,\n"
                  "  \"window\": %ld,\n  \"stride\": %ld,\n  \"nll\": ",
                  bos ? "true" : "false", (unsigned long)t.n, count, out->window,
                  out->stride);
    lr_json_write_number(&out->json, nll);
    lr_buf_puts(&out->json, ",\n  \"ppl\": ");
    lr_json_write_number(&out->json, out->ppl);
    lr_buf_puts(&out->json, ",\n  \"ppl_stderr\": ");
    lr_json_write_number(&out->json, out->ppl_stderr);
    lr_buf_puts(&out->json, "\n}\n");
    lr_buf_printf(&out->md, "# Perplexity\n\nModel `%s`, text `%s`: %lu tokens (BOS %s), "
                  "%ld scored, window %ld, stride %ld.\n\nMean NLL %.6f nats/token, "
                  "**perplexity %.4f**.\n", o->model_name, o->data,
                  (unsigned long)t.n, bos ? "prepended" : "not prepended", count,
                  out->window, out->stride, mean, out->ppl);
    rc = report_oom(out, err);
done:
    free(text);
    free(ids);
    free(all);
    lr_buf_free(&rec);
    lr_tokens_free(&t);
    return rc;
}

/* The (context, continuation) pairs of every question, so that they can be
 * compared with lm-evaluation-harness's own task definitions
 * (vectors/gen/oracle_eval.py).  Continuation = the target delimiter " " +
 * the choice. */
static void put_continuations(lr_buf *b, const char *key, const char *const *c, size_t n)
{
    size_t i;
    lr_buf tmp = {0};
    lr_buf_printf(b, ", \"%s\": [", key);
    for (i = 0; i < n; i++) {
        tmp.len = 0;
        lr_buf_puts(&tmp, " ");
        lr_buf_puts(&tmp, c[i]);
        if (tmp.oom) b->oom = 1;
        else lr_json_write_string(b, tmp.data, tmp.len);
        if (i + 1 < n) lr_buf_puts(b, ", ");
    }
    lr_buf_puts(b, "]");
    lr_buf_free(&tmp);
}

/* Under mpirun: this rank's lines in mine, rank 0 appends every rank's
 * (rank order = question order) to out; mine is emptied.  One process:
 * mine appended to out. */
static int gather_lines(lr_buf *mine, lr_buf *out, lr_error *err)
{
    char *all = NULL;
    size_t all_n = 0;
    if (mine->oom) return lr_fail(err, "out of memory");
    if (lr_par_gather_bytes(mine->data ? mine->data : "", mine->len, &all, &all_n,
                            err))
        return -1;
    mine->len = 0;
    if (all_n) lr_buf_append(out, all, all_n);
    free(all);
    return out->oom ? lr_fail(err, "out of memory") : 0;
}

int lr_eval_requests_mmlu(const lr_eval_options *o, lr_buf *out, lr_error *err)
{
    lr_buf ctx = {0}, mine = {0};
    char **found = NULL;
    int s, n_found, rc = -1;
    if ((n_found = lr_mmlu_list_subjects(o->data, &found, err)) < 0) return -1;
    for (s = 0; s < n_found; s++) {
        const char *subj = found[s];
        char test_path[4096];
        lr_mmlu_items dev, test;
        size_t q, n;
        long q0, q1;
        if (!subject_selected(o->subjects, subj)) continue;
        if (read_subject(o, subj, test_path, sizeof test_path, &dev, &test, &n, err))
            goto done;
        /* this rank's shard of the subject's questions (par.h) */
        lr_par_shard((long)n, &q0, &q1);
        for (q = (size_t)q0; q < (size_t)q1; q++) {
            const char *ch[4];
            int c;
            ctx.len = 0;
            if (lr_mmlu_prompt(o->format, subj, dev.items, (size_t)o->shots,
                               &test.items[q], &ctx, err)) {
                lr_fail_prefix(err, "%s:%lu", test_path, test.items[q].line);
                lr_mmlu_items_free(&test);
                lr_mmlu_items_free(&dev);
                goto done;
            }
            for (c = 0; c < 4; c++) ch[c] = lr_mmlu_choice(o->format, &test.items[q], c);
            lr_buf_puts(&mine, "{\"subject\": ");
            lr_json_write_string(&mine, subj, strlen(subj));
            lr_buf_printf(&mine, ", \"doc_id\": %lu, \"line\": %lu, \"context\": ",
                          (unsigned long)q, test.items[q].line);
            lr_json_write_string(&mine, ctx.data, ctx.len);
            put_continuations(&mine, "continuations", ch, 4);
            lr_buf_printf(&mine, ", \"gold\": %d}\n", test.items[q].answer);
        }
        lr_mmlu_items_free(&test);
        lr_mmlu_items_free(&dev);
        if (gather_lines(&mine, out, err)) goto done;
    }
    rc = 0;
done:
    lr_buf_free(&mine);
    lr_buf_free(&ctx);
    for (s = 0; s < n_found; s++) free(found[s]);
    free(found);
    return rc;
}

int lr_eval_requests_truthfulqa(const lr_eval_options *o, lr_buf *out, lr_error *err)
{
    lr_tqa t;
    lr_buf ctx = {0}, mine = {0};
    size_t q, n;
    long q0, q1;
    int rc = -1;
    if (lr_tqa_load(o->data, &t, err)) return -1;
    n = o->limit >= 0 && (size_t)o->limit < t.n ? (size_t)o->limit : t.n;
    /* this rank's shard of the questions (par.h) */
    lr_par_shard((long)n, &q0, &q1);
    for (q = (size_t)q0; q < (size_t)q1; q++) {
        const lr_tqa_item *it = &t.items[q];
        ctx.len = 0;
        if (lr_tqa_context(it->question, &ctx, err)) goto done;
        lr_buf_printf(&mine, "{\"doc_id\": %lu, \"context\": ", (unsigned long)q);
        lr_json_write_string(&mine, ctx.data, ctx.len);
        put_continuations(&mine, "mc1", it->mc1.choices, it->mc1.n);
        put_continuations(&mine, "mc2", it->mc2.choices, it->mc2.n);
        lr_buf_puts(&mine, "}\n");
    }
    rc = gather_lines(&mine, out, err);
done:
    lr_buf_free(&mine);
    lr_buf_free(&ctx);
    lr_tqa_free(&t);
    return rc;
}
