/* cli_exp_eval.c - the evaluations of `llamaref experiment knowledge`:
 * benchmark accuracy (MMLU format, mmlu.h + loglik.h), held-out
 * perplexity (loglik.h) and the knowledge probe (probe.h) of one model
 * with or without its adapter.
 * The computations are experiment_run.h's; this file finds the files and
 * prints.
 * Depends on: cli_exp.h, cli_lm.h, experiment_run.h, probe.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_exp.h"
#include "llamaref/experiment_run.h"
#include "llamaref/json.h"
#include "llamaref/refusal.h"
#include "llamaref/svg.h"

/* The probe's progress on stderr: on a terminal one line rewritten in
 * place, in a log file a line per 500 prompts. */
static void progress(long done, long total, void *ctx)
{
    (void)ctx;
    if (cli_stderr_tty()) {
        fprintf(stderr, "\r  probe: %ld / %ld prompts", done, total);
        if (done == total) fprintf(stderr, "\n");
    } else if (done == total || done % 500 == 0) { /* a log file */
        fprintf(stderr, "  probe: %ld / %ld prompts\n", done, total);
    }
}

/* Benchmark accuracy (lm-evaluation-harness MMLU, docs/evaluation.md) over
 * every subject of dir, size-weighted (lr_exp_bench_subject). */
int exp_bench_eval(const exp_opts *o, const cli_lm *lm, lr_loglik *L,
                      double *acc, size_t *n_out)
{
    char **subj = NULL, dev_path[4200], test_path[4200];
    size_t total = 0, correct = 0;
    lr_error err;
    int ns = lr_mmlu_list_subjects(o->bench, &subj, &err), s, rc = -1;
    if (ns < 0) { fprintf(stderr, "llamaref experiment: %s\n", err.msg); return -1; }
    for (s = 0; s < ns; s++) {
        int dev;
        snprintf(dev_path, sizeof dev_path, "%s/dev/%s_dev.csv", o->bench, subj[s]);
        snprintf(test_path, sizeof test_path, "%s/test/%s_test.csv", o->bench, subj[s]);
        dev = o->bench_shots > 0 && exp_file_exists(dev_path);
        if (lr_exp_bench_subject(L, &lm->tok, o->bos, o->bench_format, subj[s],
                                 dev ? dev_path : NULL, test_path, o->bench_shots,
                                 o->bench_limit, &correct, &total, &err)) {
            fprintf(stderr, "llamaref experiment: %s\n", err.msg);
            goto done;
        }
    }
    *acc = exp_ratio(correct, total);
    *n_out = total;
    rc = 0;
done:
    for (s = 0; s < ns; s++) free(subj[s]);
    free(subj);
    return rc;
}

/* Reads every benchmark file once before anything runs, so that a
 * malformed CSV (named with its line) stops the experiment at once. */
int exp_bench_check(exp_opts *o)
{
    char **subj = NULL, path[4200];
    lr_error err;
    int ns = lr_mmlu_list_subjects(o->bench, &subj, &err), s, rc = 0;
    if (ns < 0) { fprintf(stderr, "llamaref experiment: %s\n", err.msg); return -1; }
    if (ns == 0) {
        fprintf(stderr, "llamaref experiment: --benchmark %s: no test/*_test.csv\n", o->bench);
        rc = -1;
    }
    for (s = 0; s < ns; s++) {
        int k;
        for (k = 0; k < 2 && !rc; k++) {
            lr_mmlu_items it;
            memset(&it, 0, sizeof it);
            snprintf(path, sizeof path, k ? "%s/dev/%s_dev.csv" : "%s/test/%s_test.csv",
                     o->bench, subj[s]);
            if (k && !exp_file_exists(path)) {
                o->bench_shots_used = 0; /* no dev file: 0-shot */
                continue;
            }
            if (lr_mmlu_read(path, &it, &err)) {
                fprintf(stderr, "llamaref experiment: %s\n", err.msg);
                rc = -1;
            } else if (k && (long)it.n < o->bench_shots_used) {
                o->bench_shots_used = (long)it.n; /* exp_bench_eval takes them all */
            }
            lr_mmlu_items_free(&it);
        }
        free(subj[s]);
    }
    free(subj);
    return rc;
}

/* Perplexity of the first ppl_tokens tokens of --valid (BOS + text). */
int exp_ppl_eval(const exp_opts *o, const cli_lm *lm, lr_loglik *L, int window,
                    double *ppl)
{
    lr_error err;
    if (lr_exp_perplexity(L, &lm->tok, o->valid, o->bos, o->ppl_tokens, window,
                          ppl, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* Benchmark and perplexity of a loaded model (NaN when not requested). */
int exp_lm_scores(const exp_opts *o, const cli_lm *lm, double *acc,
                     size_t *n_bench, double *ppl)
{
    lr_loglik L;
    lr_error err;
    int window = lm->model->config.max_position_embeddings, rc = 0;
    if (window <= 1 || window > 2048) window = 2048;
    *acc = NAN;
    *ppl = NAN;
    *n_bench = 0;
    if (!o->bench && !o->valid) return 0;
    if (lr_loglik_init(&L, lm->model, 4096, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        return -1;
    }
    if (o->bench) {
        fprintf(stderr, "  benchmark %s\n", o->bench);
        rc = exp_bench_eval(o, lm, &L, acc, n_bench);
    }
    if (!rc && o->valid) {
        fprintf(stderr, "  perplexity %s\n", o->valid);
        rc = exp_ppl_eval(o, lm, &L, window, ppl);
    }
    lr_loglik_free(&L);
    return rc;
}

int exp_probe_model(cli_lm *lm, const lr_facts *facts,
                       const lr_facts *shots, const lr_probe_options *po,
                       lr_probe_result *res, const char *out_path)
{
    lr_probe_stats st;
    lr_error err;
    lr_buf b = {0};
    int rc;
    if (lr_probe_run(lm->model, &lm->tok, facts, shots, po, res, &st, progress,
                     NULL, &err)) {
        fprintf(stderr, "\nllamaref experiment: probe: %s\n", err.msg);
        return -1;
    }
    lr_probe_write_jsonl(&b, facts, res, po, NULL);
    rc = b.oom ? (fprintf(stderr, "llamaref experiment: out of memory\n"), -1)
               : cli_write("experiment", out_path, b.data ? b.data : "", b.len);
    lr_buf_free(&b);
    return rc;
}

void exp_free_results(lr_probe_result *res, size_t n, const lr_probe_options *po)
{
    size_t i;
    if (!res) return;
    for (i = 0; i < n; i++) lr_probe_result_free(&res[i], po);
    free(res);
}
