/* cmd_eval.c - `llamaref eval mmlu|truthfulqa|ppl`: log-likelihood
 * benchmarks as lm-evaluation-harness defines them (mmlu.h, truthfulqa.h)
 * and perplexity, all scored through loglik.h (the trainer's loss). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/json.h"
#include "llamaref/loglik.h"
#include "llamaref/mcscore.h"
#include "llamaref/mmlu.h"
#include "llamaref/par.h"
#include "llamaref/svg.h"
#include "llamaref/truthfulqa.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref eval mmlu       -m, --model PATH [--adapter DIR] --data DIR\n"
"                                [--num-shots 5] [--limit N] [--subjects a,b]\n"
"                                [--format letter|continuation]\n"
"       llamaref eval truthfulqa -m, --model PATH [--adapter DIR] --data FILE\n"
"                                [--limit N]\n"
"       llamaref eval ppl        -m, --model PATH [--adapter DIR] --data FILE\n"
"                                [--window W] [--stride S] [--verbose]\n"
"                     prints \"PPL = X +/- Y\" as llama.cpp's perplexity tool\n"
"                     (Y = X times the standard error of the mean token\n"
"                     NLL); --verbose: the running value after each window\n"
"common options:\n");
    cli_help(f, "--model", NULL);
    cli_help(f, "--tokenizer", NULL);
    cli_help(f, "--adapter", NULL);
    cli_help(f, "--keep-dtype", NULL);
    cli_help(f, "--no-check-weights", NULL);
    cli_help(f, "--data", NULL);
    cli_help(f, "--num-shots", "5 (MMLU); the old spelling --shots N still works,\n"
                "                            with a warning");
    cli_help(f, "--max-len", "2048, lm-evaluation-harness's");
    fprintf(f,
"  --no-bos                  do not prepend BOS (default: prepend, as HF\n"
"                            Llama tokenizers do)\n"
"  --out FILE.json           summary (with lm-evaluation-harness 0.4's\n"
"                            \"acc,none\" / \"acc_stderr,none\"); also FILE.md\n"
"                            and FILE-*.svg; checked before any work\n"
"  --items FILE.jsonl        per-question log-likelihoods (mmlu, truthfulqa)\n"
"  --requests FILE.jsonl     mmlu, truthfulqa: write the requests instead (one\n"
"                            line per question: context and the continuations\n"
"                            scored, as lm-evaluation-harness builds them); no\n"
"                            model is loaded\n"
"mmlu, truthfulqa:\n"
"  --limit N                 the first N questions (of each subject in mmlu)\n"
"mmlu:\n"
"  --subjects a,b            these subjects only (default: every *_test.csv)\n"
"  --format F                letter (lm-evaluation-harness mmlu, default) or\n"
"                            continuation (mmlu_continuation)\n"
"ppl (--data is a text file; the old spelling --text still works, with a\n"
"warning):\n"
"  --window W                tokens per window (default the model's\n"
"                            max_position_embeddings, at most 2048)\n"
"  --stride S                start of one window to the next (default W)\n"
"  --verbose                 the running value after each window on stderr\n"
"Prompts and scoring: docs/evaluation.md.\n");
}

typedef struct eval_opts {
    cli_lm lm;
    const char *data, *text, *out, *items, *subjects, *requests;
    long shots, limit, window, stride, max_len;
    int bos, verbose;
    lr_mmlu_format format;
} eval_opts;

/* --verbose: the running perplexity after each window, as llama.cpp's
 * perplexity tool prints its chunks ("[k]ppl") */
static void ppl_window(void *ctx, int k, double nll, long count)
{
    (void)ctx;
    if (count) fprintf(stderr, "[%d]%.4f\n", k + 1, exp(nll / (double)count));
}

/* The uncertainty of a perplexity as llama.cpp's perplexity tool computes
 * it: ppl * the standard error of the mean token NLL (sample variance). */
/* what the reports say about BOS: asked for (not --no-bos) and the
 * tokenizer has one to add (a GGUF with add_bos_token false, SmolLM2, has
 * none: its encodings never start with BOS, whatever o->bos says) */
static int bos_added(const eval_opts *o)
{
    return o->bos && o->lm.tok.bos_id >= 0;
}

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

static int write_reports(const char *out, lr_buf *json, lr_buf *md,
                         lr_buf *svg, const char *svg_suffix)
{
    if (!out) return 0;
    if (json->oom || md->oom || svg->oom) {
        fprintf(stderr, "llamaref eval: out of memory\n");
        return -1;
    }
    if (cli_write("eval", out, json->data, json->len)) return -1;
    if (svg->len && cli_write("eval", cli_report_path(out, svg_suffix, 1),
                              svg->data, svg->len))
        return -1;
    return cli_write("eval", cli_report_path(out, ".md", 2), md->data, md->len);
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

static int eval_mmlu(eval_opts *o, lr_loglik *L)
{
    lr_buf json = {0}, md = {0}, svg = {0}, ctx = {0}, items = {0};
    lr_error err;
    int s, rc = -1, n_found;
    size_t total_n = 0, total_correct = 0, total_norm = 0, n_subj = 0;
    char **found = NULL;
    const char **names = NULL;
    double *accs = NULL, *norms = NULL, *se_acc = NULL, *se_norm = NULL;
    double *lls = NULL; /* [n][4] of a subject */
    size_t *ns = NULL;

    /* every DIR/test/<subject>_test.csv: MMLU's 57, or another benchmark in
     * its layout (a world's benchmark/, docs/world.md) */
    if ((n_found = cli_mmlu_subjects("eval mmlu", o->data, &found)) < 0) return -1;
    names = malloc(sizeof *names * (size_t)(n_found + 1));
    accs = malloc(sizeof *accs * (size_t)(n_found + 1));
    norms = malloc(sizeof *norms * (size_t)(n_found + 1));
    ns = malloc(sizeof *ns * (size_t)(n_found + 1));
    se_acc = malloc(sizeof *se_acc * (size_t)(n_found + 1));
    se_norm = malloc(sizeof *se_norm * (size_t)(n_found + 1));
    if (!names || !accs || !norms || !ns || !se_acc || !se_norm) {
        fprintf(stderr, "llamaref eval mmlu: out of memory\n");
        goto done;
    }

    lr_buf_printf(&md, "# MMLU\n\nModel `%s`, %ld-shot, %s (lm-evaluation-harness "
                  "task `%s`), BOS %s.\n\n| subject | questions | "
                  "acc | acc_norm |\n|---|---:|---:|---:|\n", o->lm.model_path, o->shots,
                  o->format == LR_MMLU_LETTER ? "answer letters scored"
                                              : "answer texts scored",
                  o->format == LR_MMLU_LETTER ? "mmlu" : "mmlu_continuation",
                  bos_added(o) ? "prepended" : "not prepended");
    for (s = 0; s < n_found; s++) {
        const char *subj = found[s];
        char dev_path[4096], test_path[4096];
        lr_mmlu_items dev, test;
        size_t q, n, correct = 0, correct_norm = 0;
        if (!subject_selected(o->subjects, subj)) continue;
        snprintf(dev_path, sizeof dev_path, "%s/dev/%s_dev.csv", o->data, subj);
        snprintf(test_path, sizeof test_path, "%s/test/%s_test.csv", o->data, subj);
        if (lr_mmlu_read(test_path, &test, &err)) {
            fprintf(stderr, "llamaref eval mmlu: %s\n", err.msg);
            goto done;
        }
        memset(&dev, 0, sizeof dev);
        if (o->shots > 0 && lr_mmlu_read(dev_path, &dev, &err)) {
            fprintf(stderr, "llamaref eval mmlu: %s\n", err.msg);
            lr_mmlu_items_free(&test);
            goto done;
        }
        if ((size_t)o->shots > dev.n) {
            fprintf(stderr, "llamaref eval mmlu: %s has %lu questions, %ld "
                    "shots requested\n", dev_path, (unsigned long)dev.n, o->shots);
            lr_mmlu_items_free(&test);
            lr_mmlu_items_free(&dev);
            goto done;
        }
        n = o->limit >= 0 && (size_t)o->limit < test.n ? (size_t)o->limit : test.n;
        /* under mpirun each rank scores its shard of the questions, then
         * every rank has all log-likelihoods (par.h) and counts them in
         * question order; one process: the shard is all of them */
        {
            double *grown = realloc(lls, sizeof *lls * 4 * (n ? n : 1));
            long q0, q1;
            if (!grown) {
                fprintf(stderr, "llamaref eval mmlu: out of memory\n");
                lr_mmlu_items_free(&test);
                lr_mmlu_items_free(&dev);
                goto done;
            }
            lls = grown;
            lr_par_shard((long)n, &q0, &q1);
            for (q = (size_t)q0; q < (size_t)q1; q++) {
                long pred, pred_norm;
                if (lr_mmlu_score(L, &o->lm.tok, o->bos, o->format, subj, dev.items,
                                  (size_t)o->shots, &test.items[q], &ctx,
                                  lls + 4 * q, &pred, &pred_norm, &err)) {
                    fprintf(stderr, "llamaref eval mmlu: %s:%lu: %s\n", test_path,
                            test.items[q].line, err.msg);
                    lr_mmlu_items_free(&test);
                    lr_mmlu_items_free(&dev);
                    goto done;
                }
            }
            if (lr_par_gather(lls, (long)n, 4 * sizeof *lls, &err)) {
                fprintf(stderr, "llamaref eval mmlu: %s\n", err.msg);
                lr_mmlu_items_free(&test);
                lr_mmlu_items_free(&dev);
                goto done;
            }
        }
        for (q = 0; q < n; q++) {
            const double *ll = lls + 4 * q;
            int c;
            long pred, pred_norm;
            lr_mmlu_predict(o->format, &test.items[q], ll, &pred, &pred_norm);
            correct_norm += pred_norm == test.items[q].answer;
            correct += pred == test.items[q].answer;
            if (o->items) {
                lr_buf_puts(&items, "{\"subject\": ");
                lr_json_write_string(&items, subj, strlen(subj));
                lr_buf_printf(&items, ", \"line\": %lu, \"gold\": %d, \"pred\": %ld, "
                              "\"pred_norm\": %ld, \"ll\": [", test.items[q].line,
                              test.items[q].answer, pred, pred_norm);
                for (c = 0; c < 4; c++) {
                    if (c) lr_buf_puts(&items, ", ");
                    lr_json_write_number(&items, ll[c]);
                }
                lr_buf_puts(&items, "]}\n");
            }
        }
        names[n_subj] = subj;
        ns[n_subj] = n;
        accs[n_subj] = n ? (double)correct / (double)n : 0;
        norms[n_subj] = n ? (double)correct_norm / (double)n : 0;
        total_n += n;
        total_correct += correct;
        total_norm += correct_norm;
        lr_buf_printf(&md, "| %s | %lu | %.4f | %.4f |\n", subj, (unsigned long)n,
                      accs[n_subj], norms[n_subj]);
        if (lr_par_rank() == 0)
            fprintf(stderr, "mmlu %-40s %4lu questions  acc %.4f  acc_norm %.4f\n",
                    subj, (unsigned long)n, accs[n_subj], norms[n_subj]);
        n_subj++;
        lr_mmlu_items_free(&test);
        lr_mmlu_items_free(&dev);
    }
    if (!n_subj) {
        fprintf(stderr, "llamaref eval mmlu: no test files %s/test/<subject>_test.csv "
                "found\n", o->data);
        goto done;
    }
    if (lr_par_rank() != 0) { rc = 0; goto done; } /* rank 0 writes */
    lr_buf_printf(&md, "| **all (size-weighted)** | %lu | **%.4f** | %.4f |\n",
                  (unsigned long)total_n,
                  total_n ? (double)total_correct / (double)total_n : 0.0,
                  total_n ? (double)total_norm / (double)total_n : 0.0);
    lr_buf_printf(&json, "{\n  \"task\": \"mmlu\",\n  \"model\": ");
    lr_json_write_string(&json, o->lm.model_path, strlen(o->lm.model_path));
    lr_buf_printf(&json, ",\n  \"format\": \"%s\",\n  \"shots\": %ld,\n  \"bos\": %s,\n"
                  "  \"questions\": %lu,\n  \"acc\": ", lr_mmlu_format_name(o->format),
                  o->shots, bos_added(o) ? "true" : "false", (unsigned long)total_n);
    lr_json_write_number(&json, total_n ? (double)total_correct / (double)total_n : 0);
    lr_buf_puts(&json, ",\n  \"acc_norm\": ");
    lr_json_write_number(&json, total_n ? (double)total_norm / (double)total_n : 0);
    /* lm-evaluation-harness 0.4's keys: per subject the mean's standard
     * error, the group's pooled over subjects by size */
    for (s = 0; s < (int)n_subj; s++) {
        se_acc[s] = mean_stderr(accs[s] * (double)ns[s], accs[s] * (double)ns[s],
                                (double)ns[s]);
        se_norm[s] = mean_stderr(norms[s] * (double)ns[s], norms[s] * (double)ns[s],
                                 (double)ns[s]);
    }
    lr_buf_puts(&json, ",\n  ");
    write_metric(&json, "acc", total_n ? (double)total_correct / (double)total_n : 0,
                 pooled_stderr(se_acc, ns, n_subj));
    lr_buf_puts(&json, ",\n  ");
    write_metric(&json, "acc_norm", total_n ? (double)total_norm / (double)total_n : 0,
                 pooled_stderr(se_norm, ns, n_subj));
    lr_buf_puts(&json, ",\n  \"subjects\": {");
    for (s = 0; s < (int)n_subj; s++) {
        lr_buf_printf(&json, "%s\n    \"%s\": {\"questions\": %lu, \"acc\": ",
                      s ? "," : "", names[s], (unsigned long)ns[s]);
        lr_json_write_number(&json, accs[s]);
        lr_buf_puts(&json, ", \"acc_norm\": ");
        lr_json_write_number(&json, norms[s]);
        lr_buf_puts(&json, ", ");
        write_metric(&json, "acc", accs[s], se_acc[s]);
        lr_buf_puts(&json, ", ");
        write_metric(&json, "acc_norm", norms[s], se_norm[s]);
        lr_buf_puts(&json, "}");
    }
    lr_buf_puts(&json, "\n  }\n}\n");
    if (lr_svg_bar_chart(&svg, "MMLU accuracy per subject", "accuracy",
                         names, accs, n_subj, 1.0, &err)) {
        fprintf(stderr, "llamaref eval mmlu: %s\n", err.msg);
        goto done;
    }
    lr_buf_printf(&md, "\n![accuracy per subject](%s)\n",
                  o->out ? cli_basename(cli_report_path(o->out, "-subjects.svg", 1)) : "");
    if (write_reports(o->out, &json, &md, &svg, "-subjects.svg")) goto done;
    if (o->items && cli_write("eval", o->items, items.data ? items.data : "", items.len))
        goto done;
    printf("mmlu: %lu questions, %lu subjects, acc %.4f, acc_norm %.4f (%s)\n",
           (unsigned long)total_n, (unsigned long)n_subj,
           total_n ? (double)total_correct / (double)total_n : 0.0,
           total_n ? (double)total_norm / (double)total_n : 0.0,
           lr_mmlu_format_name(o->format));
    rc = 0;
done:
    lr_buf_free(&json);
    lr_buf_free(&md);
    lr_buf_free(&svg);
    lr_buf_free(&ctx);
    lr_buf_free(&items);
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
static int tqa_lls(eval_opts *o, lr_loglik *L, const char *context,
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
        if (lr_loglik_encode_pair(&o->lm.tok, context, cont.data, o->bos, &ci,
                                  &nci, &co, &nco, err)) {
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

static int eval_truthfulqa(eval_opts *o, lr_loglik *L)
{
    lr_tqa t;
    lr_buf json = {0}, md = {0}, svg = {0}, ctx = {0}, items = {0};
    lr_error err;
    size_t q, n, k;
    double sum1 = 0, sum2 = 0, sq2 = 0, *ll1 = NULL, *ll2 = NULL;
    double *ms = NULL; /* [n][2]: mc1, mc2 of each question */
    long q0, q1;
    int rc = -1;
    if (lr_tqa_load(o->data, &t, &err)) {
        fprintf(stderr, "llamaref eval truthfulqa: %s\n", err.msg);
        return -1;
    }
    n = o->limit >= 0 && (size_t)o->limit < t.n ? (size_t)o->limit : t.n;
    /* under mpirun each rank scores its shard of the questions; rank 0
     * gathers the scores and the items records and sums in question order
     * (par.h); one process: the shard is all of them */
    if (!(ms = malloc(sizeof *ms * 2 * (n ? n : 1)))) {
        fprintf(stderr, "llamaref eval: out of memory\n");
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
        if (!ll1 || !ll2) { fprintf(stderr, "llamaref eval: out of memory\n"); goto done; }
        ctx.len = 0;
        if (lr_tqa_context(it->question, &ctx, &err) ||
            tqa_lls(o, L, ctx.data, &it->mc1, ll1, &err) ||
            tqa_lls(o, L, ctx.data, &it->mc2, ll2, &err) ||
            lr_mc1(ll1, it->mc1.n, 0, &m1, &err) ||
            lr_mc2(ll2, it->mc2.labels, it->mc2.n, &m2, &err)) {
            fprintf(stderr, "llamaref eval truthfulqa: %s:%lu: %s\n", o->data,
                    it->line, err.msg);
            goto done;
        }
        ms[2 * q] = m1;
        ms[2 * q + 1] = m2;
        if (o->items) {
            lr_buf_printf(&items, "{\"index\": %lu, \"mc1\": ", (unsigned long)q);
            lr_json_write_number(&items, m1);
            lr_buf_puts(&items, ", \"mc2\": ");
            lr_json_write_number(&items, m2);
            lr_buf_puts(&items, ", \"mc1_ll\": [");
            for (k = 0; k < it->mc1.n; k++) {
                if (k) lr_buf_puts(&items, ", ");
                lr_json_write_number(&items, ll1[k]);
            }
            lr_buf_puts(&items, "], \"mc2_ll\": [");
            for (k = 0; k < it->mc2.n; k++) {
                if (k) lr_buf_puts(&items, ", ");
                lr_json_write_number(&items, ll2[k]);
            }
            lr_buf_puts(&items, "]}\n");
        }
        if (lr_par_rank() == 0 && (q + 1) % 50 == 0)
            fprintf(stderr, "truthfulqa: %lu / %lu\n", (unsigned long)(q + 1),
                    (unsigned long)(q1 - q0));
    }
    if (items.oom) { fprintf(stderr, "llamaref eval: out of memory\n"); goto done; }
    {
        char *all = NULL;
        size_t all_n = 0;
        if (lr_par_gather(ms, (long)n, 2 * sizeof *ms, &err) ||
            lr_par_gather_bytes(items.data ? items.data : "", items.len, &all,
                                &all_n, &err)) {
            fprintf(stderr, "llamaref eval truthfulqa: %s\n", err.msg);
            goto done;
        }
        items.len = 0;
        lr_buf_append(&items, all, all_n);
        free(all);
    }
    if (lr_par_rank() != 0) { rc = 0; goto done; } /* rank 0 writes */
    for (q = 0; q < n; q++) {
        sum1 += ms[2 * q];
        sum2 += ms[2 * q + 1];
        sq2 += ms[2 * q + 1] * ms[2 * q + 1];
    }
    {
        double mc1 = n ? sum1 / (double)n : 0, mc2 = n ? sum2 / (double)n : 0;
        const char *labels[2] = {"MC1", "MC2"};
        double vals[2];
        vals[0] = mc1;
        vals[1] = mc2;
        lr_buf_puts(&json, "{\n  \"task\": \"truthfulqa\",\n  \"model\": ");
        lr_json_write_string(&json, o->lm.model_path, strlen(o->lm.model_path));
        lr_buf_printf(&json, ",\n  \"bos\": %s,\n  \"questions\": %lu,\n  \"mc1\": ",
                      bos_added(o) ? "true" : "false", (unsigned long)n);
        lr_json_write_number(&json, mc1);
        lr_buf_puts(&json, ",\n  \"mc2\": ");
        lr_json_write_number(&json, mc2);
        /* as lm-evaluation-harness 0.4 names the two tasks */
        lr_buf_puts(&json, ",\n  \"truthfulqa_mc1\": {");
        write_metric(&json, "acc", mc1, mean_stderr(sum1, sum1, (double)n));
        lr_buf_puts(&json, "},\n  \"truthfulqa_mc2\": {");
        write_metric(&json, "acc", mc2, mean_stderr(sum2, sq2, (double)n));
        lr_buf_puts(&json, "}\n}\n");
        lr_buf_printf(&md, "# TruthfulQA (multiple choice)\n\nModel `%s`, %lu "
                      "questions, 0-shot after the harness's 6-QA primer, BOS %s."
                      "\n\n| metric | value |\n|---|---:|\n| MC1 | %.4f |\n"
                      "| MC2 | %.4f |\n\n![MC1 and MC2](%s)\n", o->lm.model_path,
                      (unsigned long)n, bos_added(o) ? "prepended" : "not prepended",
                      mc1, mc2,
                      o->out ? cli_basename(cli_report_path(o->out, "-mc.svg", 1)) : "");
        if (lr_svg_bar_chart(&svg, "TruthfulQA multiple choice", "score", labels,
                             vals, 2, 1.0, &err)) {
            fprintf(stderr, "llamaref eval truthfulqa: %s\n", err.msg);
            goto done;
        }
        if (write_reports(o->out, &json, &md, &svg, "-mc.svg")) goto done;
        if (o->items && cli_write("eval", o->items, items.data ? items.data : "", items.len))
            goto done;
        printf("truthfulqa: %lu questions, mc1 %.4f, mc2 %.4f\n", (unsigned long)n,
               mc1, mc2);
    }
    rc = 0;
done:
    free(ll1);
    free(ll2);
    free(ms);
    lr_tqa_free(&t);
    lr_buf_free(&json);
    lr_buf_free(&md);
    lr_buf_free(&svg);
    lr_buf_free(&ctx);
    lr_buf_free(&items);
    return rc;
}

static int eval_ppl(eval_opts *o, lr_loglik *L)
{
    char *text = NULL;
    size_t len, i;
    lr_tokens t = {0};
    int *ids = NULL, rc = -1;
    lr_error err;
    double nll;
    long count;
    lr_buf json = {0}, md = {0}, svg = {0};
    if (lr_read_file(o->text, &text, &len, &err) ||
        lr_tokenizer_encode(&o->lm.tok, text, len, o->bos ? LR_ENCODE_BOS : 0,
                            &t, &err)) {
        fprintf(stderr, "llamaref eval ppl: %s\n", err.msg);
        goto done;
    }
    if (t.n < 2) {
        fprintf(stderr, "llamaref eval ppl: %s: fewer than 2 tokens\n", o->text);
        goto done;
    }
    ids = malloc(t.n * sizeof *ids);
    if (!ids) goto done;
    for (i = 0; i < t.n; i++) ids[i] = (int)t.ids[i];
    if (o->window > o->max_len) o->window = o->max_len;
    if (o->stride <= 0 || o->stride > o->window) o->stride = o->window;
    if (o->verbose) L->ppl_window = ppl_window;
    /* under mpirun each rank runs its shard of the windows; rank 0 gathers
     * their increments in window order and sums them as lr_perplexity does
     * (loglik.h, par.h); one process: the shard is every window */
    {
        lr_buf rec = {0};
        char *all = NULL;
        size_t all_n = 0;
        long k0, k1;
        lr_par_shard(lr_perplexity_windows((int)t.n, (int)o->window, (int)o->stride),
                     &k0, &k1);
        if (lr_perplexity_run(L, ids, (int)t.n, (int)o->window, (int)o->stride,
                              k0, k1, &rec, &err) ||
            lr_par_gather_bytes(rec.data ? rec.data : "", rec.len, &all, &all_n,
                                &err) ||
            (lr_par_rank() == 0 &&
             lr_perplexity_fold(L, all, all_n, &nll, &count, &err))) {
            fprintf(stderr, "llamaref eval ppl: %s\n", err.msg);
            lr_buf_free(&rec);
            free(all);
            goto done;
        }
        lr_buf_free(&rec);
        free(all);
        if (lr_par_rank() != 0) { rc = 0; goto done; } /* rank 0 writes */
    }
    lr_buf_puts(&json, "{\n  \"task\": \"ppl\",\n  \"model\": ");
    lr_json_write_string(&json, o->lm.model_path, strlen(o->lm.model_path));
    lr_buf_puts(&json, ",\n  \"text\": ");
    lr_json_write_string(&json, o->text, strlen(o->text));
    lr_buf_printf(&json, ",\n  \"bos\": %s,\n  \"tokens\": %lu,\n  \"scored\": %ld,\n"
                  "  \"window\": %ld,\n  \"stride\": %ld,\n  \"nll\": ",
                  bos_added(o) ? "true" : "false", (unsigned long)t.n, count, o->window,
                  o->stride);
    lr_json_write_number(&json, nll);
    lr_buf_puts(&json, ",\n  \"ppl\": ");
    lr_json_write_number(&json, exp(nll / (double)count));
    lr_buf_puts(&json, ",\n  \"ppl_stderr\": ");
    lr_json_write_number(&json, ppl_stderr(nll, L->ppl_nll2, count));
    lr_buf_puts(&json, "\n}\n");
    lr_buf_printf(&md, "# Perplexity\n\nModel `%s`, text `%s`: %lu tokens (BOS %s), "
                  "%ld scored, window %ld, stride %ld.\n\nMean NLL %.6f nats/token, "
                  "**perplexity %.4f**.\n", o->lm.model_path, o->text,
                  (unsigned long)t.n, bos_added(o) ? "prepended" : "not prepended", count,
                  o->window, o->stride, nll / (double)count, exp(nll / (double)count));
    if (write_reports(o->out, &json, &md, &svg, "")) goto done;
    printf("ppl: %ld tokens scored, nll/token %.6f, perplexity %.4f\n", count,
           nll / (double)count, exp(nll / (double)count));
    printf("PPL = %.4f +/- %.5f\n", exp(nll / (double)count),
           ppl_stderr(nll, L->ppl_nll2, count));
    rc = 0;
done:
    free(text);
    free(ids);
    lr_tokens_free(&t);
    lr_buf_free(&json);
    lr_buf_free(&md);
    lr_buf_free(&svg);
    return rc;
}

/* --requests: the (context, continuation) pairs of every question, without
 * a model, so that they can be compared with lm-evaluation-harness's own
 * task definitions (vectors/gen/oracle_eval.py).  Continuation = the
 * target delimiter " " + the choice. */
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

static int requests_mmlu(const eval_opts *o)
{
    lr_buf out = {0}, ctx = {0};
    lr_error err;
    char **found = NULL;
    int s, n_found, rc = -1;
    if ((n_found = cli_mmlu_subjects("eval mmlu", o->data, &found)) < 0) return -1;
    for (s = 0; s < n_found; s++) {
        const char *subj = found[s];
        char dev_path[4096], test_path[4096];
        lr_mmlu_items dev, test;
        size_t q, n;
        if (!subject_selected(o->subjects, subj)) continue;
        snprintf(dev_path, sizeof dev_path, "%s/dev/%s_dev.csv", o->data, subj);
        snprintf(test_path, sizeof test_path, "%s/test/%s_test.csv", o->data, subj);
        memset(&dev, 0, sizeof dev);
        if (lr_mmlu_read(test_path, &test, &err)) goto fail;
        if (o->shots > 0 && lr_mmlu_read(dev_path, &dev, &err)) {
            lr_mmlu_items_free(&test);
            goto fail;
        }
        if ((size_t)o->shots > dev.n) {
            fprintf(stderr, "llamaref eval mmlu: %s has %lu questions, %ld shots "
                    "requested\n", dev_path, (unsigned long)dev.n, o->shots);
            lr_mmlu_items_free(&test);
            lr_mmlu_items_free(&dev);
            goto done;
        }
        n = o->limit >= 0 && (size_t)o->limit < test.n ? (size_t)o->limit : test.n;
        for (q = 0; q < n; q++) {
            const char *ch[4];
            int c;
            ctx.len = 0;
            if (lr_mmlu_prompt(o->format, subj, dev.items, (size_t)o->shots,
                               &test.items[q], &ctx, &err)) {
                lr_fail_prefix(&err, "%s:%lu", test_path, test.items[q].line);
                lr_mmlu_items_free(&test);
                lr_mmlu_items_free(&dev);
                goto fail;
            }
            for (c = 0; c < 4; c++) ch[c] = lr_mmlu_choice(o->format, &test.items[q], c);
            lr_buf_puts(&out, "{\"subject\": ");
            lr_json_write_string(&out, subj, strlen(subj));
            lr_buf_printf(&out, ", \"doc_id\": %lu, \"line\": %lu, \"context\": ",
                          (unsigned long)q, test.items[q].line);
            lr_json_write_string(&out, ctx.data, ctx.len);
            put_continuations(&out, "continuations", ch, 4);
            lr_buf_printf(&out, ", \"gold\": %d}\n", test.items[q].answer);
        }
        lr_mmlu_items_free(&test);
        lr_mmlu_items_free(&dev);
    }
    if (out.oom) {
        fprintf(stderr, "llamaref eval mmlu: out of memory\n");
        goto done;
    }
    rc = cli_write("eval", o->requests, out.data ? out.data : "", out.len);
    goto done;
fail:
    fprintf(stderr, "llamaref eval mmlu: %s\n", err.msg);
done:
    lr_buf_free(&out);
    lr_buf_free(&ctx);
    for (s = 0; s < n_found; s++) free(found[s]);
    free(found);
    return rc;
}

static int requests_truthfulqa(const eval_opts *o)
{
    lr_tqa t;
    lr_buf out = {0}, ctx = {0};
    lr_error err;
    size_t q, n;
    int rc = -1;
    if (lr_tqa_load(o->data, &t, &err)) {
        fprintf(stderr, "llamaref eval truthfulqa: %s\n", err.msg);
        return -1;
    }
    n = o->limit >= 0 && (size_t)o->limit < t.n ? (size_t)o->limit : t.n;
    for (q = 0; q < n; q++) {
        const lr_tqa_item *it = &t.items[q];
        ctx.len = 0;
        if (lr_tqa_context(it->question, &ctx, &err)) {
            fprintf(stderr, "llamaref eval truthfulqa: %s\n", err.msg);
            goto done;
        }
        lr_buf_printf(&out, "{\"doc_id\": %lu, \"context\": ", (unsigned long)q);
        lr_json_write_string(&out, ctx.data, ctx.len);
        put_continuations(&out, "mc1", it->mc1.choices, it->mc1.n);
        put_continuations(&out, "mc2", it->mc2.choices, it->mc2.n);
        lr_buf_puts(&out, "}\n");
    }
    if (out.oom) {
        fprintf(stderr, "llamaref eval truthfulqa: out of memory\n");
        goto done;
    }
    rc = cli_write("eval", o->requests, out.data ? out.data : "", out.len);
done:
    lr_buf_free(&out);
    lr_buf_free(&ctx);
    lr_tqa_free(&t);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o;
    lr_loglik L;
    lr_error err;
    const char *task;
    int i, rc = 1, format_given = 0, max_len_given = 0;
    memset(&o, 0, sizeof o);
    memset(&L, 0, sizeof L);
    o.shots = 5;
    o.limit = -1;
    o.window = 0;
    o.max_len = 2048; /* lm-evaluation-harness's default max_length */
    o.bos = 1;
    if (argc < 2) {
        fprintf(stderr, "llamaref eval: a task is required: mmlu, truthfulqa or ppl "
                "(see --help)\n");
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) { usage(stdout); return 0; }
    task = argv[1];
    if (strcmp(task, "mmlu") && strcmp(task, "truthfulqa") && strcmp(task, "ppl")) {
        fprintf(stderr, "llamaref eval: unknown task '%s' (mmlu, truthfulqa, ppl)\n", task);
        return 2;
    }
    for (i = 2; i < argc; i++) {
        const char *a = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r = cli_lm_option(&o.lm, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--data") && v) { o.data = v; i++; }
        else if (!strcmp(a, "--text") && v) {
            fprintf(stderr, "llamaref eval: warning: --text is deprecated, use --data\n");
            o.data = v; i++;
        }
        else if (!strcmp(a, "--out") && v) { o.out = v; i++; }
        else if (!strcmp(a, "--items") && v) { o.items = v; i++; }
        else if (!strcmp(a, "--requests") && v) { o.requests = v; i++; }
        else if (!strcmp(a, "--subjects") && v) { o.subjects = v; i++; }
        else if (!strcmp(a, "--no-bos")) o.bos = 0;
        else if (!strcmp(a, "--verbose")) o.verbose = 1;
        else if (!strcmp(a, "--format") && v) {
            if (lr_mmlu_format_parse(v, &o.format)) {
                fprintf(stderr, "llamaref eval: --format '%s' (letter, continuation)\n", v);
                return 2;
            }
            format_given = 1;
            i++;
        }
        else if (!strcmp(a, "--num-shots")) { if (cli_int(a, v, 0, 1000, &o.shots)) return 2; i++; }
        else if (!strcmp(a, "--shots")) {
            /* --shots is a file of examples elsewhere (probe, detox) */
            if (v && cli_int("--shots", v, 0, 1000, &o.shots) == 0)
                fprintf(stderr, "llamaref eval: warning: --shots N is deprecated, "
                        "use --num-shots N (--shots names a file of examples)\n");
            else
                return 2;
            i++;
        }
        else if (!strcmp(a, "--limit")) { if (cli_int(a, v, 0, 0x7fffffffL, &o.limit)) return 2; i++; }
        else if (!strcmp(a, "--window")) { if (cli_int(a, v, 2, 1 << 24, &o.window)) return 2; i++; }
        else if (!strcmp(a, "--stride")) { if (cli_int(a, v, 1, 1 << 24, &o.stride)) return 2; i++; }
        else if (!strcmp(a, "--max-len")) { if (cli_int(a, v, 2, 1 << 24, &o.max_len)) return 2; max_len_given = 1; i++; }
        else return cli_bad_option("eval", a, usage);
    }
    if (format_given && strcmp(task, "mmlu")) {
        fprintf(stderr, "llamaref eval %s: --format is an option of eval mmlu\n", task);
        return 2;
    }
    if (!strcmp(task, "ppl")) o.text = o.data;
    if (!o.data || (!o.lm.model_path && !o.requests)) {
        fprintf(stderr, "llamaref eval %s: --model and --data are required (see --help)\n", task);
        return 2;
    }
    if (lr_par_size() > 1 && o.requests) {
        if (lr_par_rank() == 0)
            fprintf(stderr, "llamaref eval %s: --requests does not run sharded; "
                    "run it without mpirun\n", task);
        return 2;
    }
    if (o.requests) {
        if (!strcmp(task, "ppl")) {
            fprintf(stderr, "llamaref eval ppl: --requests is an option of eval mmlu "
                    "and eval truthfulqa\n");
            return 2;
        }
        if (cli_prepare_out("eval", o.requests, 0)) return 1;
        return (!strcmp(task, "mmlu") ? requests_mmlu(&o) : requests_truthfulqa(&o)) ? 1 : 0;
    }
    if ((o.out && cli_prepare_out("eval", o.out, 0)) ||
        (o.items && cli_prepare_out("eval", o.items, 0)))
        return 1;
    if (cli_lm_load(&o.lm, "eval")) goto done;
    if (max_len_given && cli_ctx_len("eval", o.lm.model, &o.max_len, 1)) { rc = 2; goto done; }
    if (!o.window) {
        o.window = o.lm.model->config.max_position_embeddings;
        if (o.window <= 1 || o.window > 2048) o.window = 2048;
    }
    if (!strcmp(task, "ppl") && o.max_len > o.window) o.max_len = o.window;
    if (lr_loglik_init(&L, o.lm.model, (int)o.max_len, &err)) {
        fprintf(stderr, "llamaref eval: %s\n", err.msg);
        goto done;
    }
    if (!strcmp(task, "mmlu")) rc = eval_mmlu(&o, &L) ? 1 : 0;
    else if (!strcmp(task, "truthfulqa")) rc = eval_truthfulqa(&o, &L) ? 1 : 0;
    else rc = eval_ppl(&o, &L) ? 1 : 0;
    if (rc == 0 && lr_par_size() == 1)
        fprintf(stderr, "eval: %ld tokens through the model, %ld served from the "
                "prefix cache\n", L.pc.n_fed, L.pc.n_reused);
done:
    lr_loglik_free(&L);
    cli_lm_free(&o.lm);
    return rc;
}
