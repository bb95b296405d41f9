/* experiment_run.h - the measurements of one model in the knowledge
 * experiment (`llamaref experiment knowledge`, docs/experiment.md) as
 * library calls that print nothing: a world's training defaults, the grid and its work estimate, the
 * answer statistics of a probe,
 * reliability over a trained mixture, the knowledge shift, benchmark accuracy of one MMLU-
 * layout subject and held-out perplexity; the paper's training options.
 * lr_exp_knowledge (experiment_knowledge.c) runs the grid with them; tests
 * call these directly.
 * Depends on: experiment.h, knowledge.h, probe.h, mixture.h, mmlu.h, loglik.h,
 * tokenizer.h. */
#ifndef LLAMAREF_EXPERIMENT_RUN_H
#define LLAMAREF_EXPERIMENT_RUN_H

#include <stddef.h>

#include "llamaref/core/common.h"
#include "llamaref/papers/knowledge/experiment.h"
#include "llamaref/papers/knowledge/facts.h"
#include "llamaref/papers/knowledge/knowledge.h"
#include "llamaref/eval/loglik.h"
#include "llamaref/papers/knowledge/mixture.h"
#include "llamaref/eval/mmlu.h"
#include "llamaref/papers/knowledge/probe.h"
#include "llamaref/tokenizer/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Refusals and diversity (lr_answer_stats_compute) of the greedy answers
 * of res[0 .. n), n_prompts answers each.  On error *out is zeroed. */
int lr_exp_answer_stats(const lr_probe_result *res, size_t n, int n_prompts,
                        lr_answer_stats *out, lr_error *err);

/* Reliability after training on mx (built by lr_mixture_build from
 * facts): every example whose fact is one of facts->items counts with
 * that fact's probe result res[i] (n_prompts answers); an Unknown fact
 * is counted once however many examples teach it.  *out is reset first.
 * Fails on an example whose fact lies outside facts (a mixture of other
 * facts) or out of memory. */
int lr_exp_reliability(const lr_mixture *mx, const lr_facts *facts,
                       const lr_probe_result *res, int n_prompts,
                       lr_reliability *out, lr_error *err);

/* A world directory's experiment.json (docs/world.md): defaults for its
 * model, {"lr": x, "epochs": n, "r": n, "alpha": x, "batch": n,
 * "dropout": x, "bench_format": "letter" | "continuation"} (any subset;
 * dropout in [0, 1), the other numbers positive and at most 1e6, epochs,
 * r and batch integers).  has_* say which keys the file sets (a repeated
 * key: the last).  Errors name the file and the key's line. */
typedef struct lr_exp_defaults {
    int has_lr, has_epochs, has_r, has_alpha, has_batch, has_dropout;
    int has_bench_format;
    double lr, alpha, dropout;
    long epochs, r, batch;
    lr_mmlu_format bench_format;
} lr_exp_defaults;

/* Reads a JSON object with any of the keys lr, epochs, r, alpha, batch,
 * dropout, bench_format into out (has_X set for each key present).
 * Unknown keys, wrong types and an unknown bench_format are errors naming
 * the file and line. */
int lr_exp_defaults_read(const char *path, lr_exp_defaults *out, lr_error *err);

/* The paper's training options: the library's defaults (train_run.h)
 * with rsLoRA on. */
struct lr_train_options;
void lr_exp_paper_train(struct lr_train_options *t);

/* The grid of the experiment: every (n unknown facts, k extra examples,
 * seed), n outermost, seed innermost; the probe and training sizes weigh
 * each point for an estimate of the time left. */
typedef struct lr_exp_grid {
    const long *unknown, *extra, *seeds;
    int n_unknown, n_extra, n_seeds;
    size_t n_facts;           /* facts probed after each training */
    int n_prompts, max_new_tokens;
    long epochs;
} lr_exp_grid;

/* One point as lr_exp_grid_run hands it over. */
typedef struct lr_exp_point {
    long n, k, seed;
    size_t index, count;      /* 0-based position; number of points */
    double done_work;         /* work of the points before this one */
    double total_work;        /* work of all points */
} lr_exp_point;

/* Relative cost of a point: the probe (facts x prompts x (new tokens +
 * 16 prompt rows)) plus training (n (k + 1) examples x epochs x about 3
 * forward passes of 32 tokens).  A point that turns out to be skipped
 * still counts (the estimate errs on the long side). */
double lr_exp_point_work(const lr_exp_grid *g, long n, long k);

/* Calls point(ctx, p) for every point in order; stops at the first that
 * returns nonzero and returns that value (0: all ran). */
int lr_exp_grid_run(const lr_exp_grid *g,
                    int (*point)(void *ctx, const lr_exp_point *p), void *ctx);

/* The scores of one grid point after training on mx and probing again:
 * the shift matrix from before[i] to res[i].category (knowledge.h), the
 * answer statistics of res and the reliability over mx.  On error
 * nothing needs freeing; otherwise lr_exp_scores_free. */
typedef struct lr_exp_scores {
    lr_shift shift;
    lr_answer_stats after;
    lr_reliability rel;
} lr_exp_scores;

/* Fills *out as the struct's comment says. */
int lr_exp_point_scores(const lr_slick *before, const lr_probe_result *res,
                        const lr_facts *facts, const lr_mixture *mx,
                        int n_prompts, lr_exp_scores *out, lr_error *err);
/* Releases what lr_exp_point_scores allocated (NULL-safe). */
void lr_exp_scores_free(lr_exp_scores *s);

/* One MMLU-layout subject (docs/evaluation.md): the first limit (< 0:
 * all) questions of test_path scored with min(n_shots, dev questions)
 * shots from dev_path (NULL: 0-shot); *correct and *total are increased.
 * Errors name the file and, for a question, its line.  Under mpirun every
 * rank calls it: each scores its shard of the questions and every rank
 * gets the counts of one process (par.h). */
int lr_exp_bench_subject(lr_loglik *L, const lr_tokenizer *tok, int bos,
                         lr_mmlu_format format, const char *subject,
                         const char *dev_path, const char *test_path,
                         long n_shots, long limit, size_t *correct,
                         size_t *total, lr_error *err);

/* Perplexity of the first max_tokens (<= 0: all) tokens of the text file
 * path (BOS first when bos), scored in windows of window tokens.  Fails
 * on fewer than 2 tokens; errors name the file.  Under mpirun every rank
 * calls it: each scores its shard of the windows, rank 0 sums them in
 * window order as lr_perplexity does, and every rank gets that value
 * (par.h). */
int lr_exp_perplexity(lr_loglik *L, const lr_tokenizer *tok, const char *path,
                      int bos, long max_tokens, int window, double *ppl,
                      lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
