/* eval_run.h - the evaluation runs of `llamaref eval` as library calls
 * that print nothing: MMLU (any MMLU-layout directory, mmlu.h),
 * TruthfulQA multiple choice (truthfulqa.h, mcscore.h) and perplexity
 * (loglik.h), each building its summary JSON (with lm-evaluation-harness
 * 0.4's "acc,none" / "acc_stderr,none" keys), Markdown, SVG chart and
 * per-question JSONL in memory; and the requests (context and scored
 * continuations of every question, no model) for comparison with the
 * harness.  The CLI (cmd_eval.c) parses, calls these, writes the buffers
 * and prints the summary line (docs/evaluation.md).
 * Under mpirun (par.h) every rank must call the same run: the questions
 * (ppl: the windows) are sharded over the ranks and gathered in their
 * order, so rank 0's report is byte-identical to one process's; the
 * other ranks get mmlu's full report too, but an empty one (zeroed, 0
 * returned) from truthfulqa and ppl.  Progress callbacks run on rank 0.
 * Depends on: common.h, par.h, loglik.h, tokenizer.h, mmlu.h, truthfulqa.h,
 * mcscore.h, svg.h, json.h, report.h. */
#ifndef LLAMAREF_EVAL_RUN_H
#define LLAMAREF_EVAL_RUN_H

#include <stddef.h>

#include "llamaref/core/common.h"
#include "llamaref/eval/loglik.h"
#include "llamaref/eval/mmlu.h"
#include "llamaref/tokenizer/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_eval_options {
    const char *model_name;   /* the model as the reports name it */
    const char *data;         /* mmlu: the MMLU-layout DIR; truthfulqa: the
                                 JSON file; ppl: the text file */
    const char *subjects;     /* mmlu: comma-separated subjects, NULL: all */
    const char *chart_name;   /* file name of the SVG that the Markdown links
                                 to (mmlu, truthfulqa); "" when none */
    long shots;               /* mmlu: few-shot examples (dev questions) */
    long limit;               /* mmlu (per subject), truthfulqa: the first
                                 limit questions; < 0: all */
    long window, stride;      /* ppl: tokens per window (at most the
                                 lr_loglik's max_len), start of one window
                                 to the next (<= 0 or beyond the window:
                                 the window) */
    int bos;                  /* prepend BOS when the tokenizer has one */
    int want_items;           /* fill lr_eval_report.items */
    lr_mmlu_format format;    /* mmlu */
    /* Progress, when set (rank 0 only): mmlu after each subject
     * (questions, acc, acc_norm); truthfulqa after every 50th question of
     * rank 0's shard (done, shard size; all questions in one process). */
    void (*subject_done)(void *ctx, const char *subject, size_t n, double acc,
                         double acc_norm);
    void (*questions_done)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
} lr_eval_options;

/* Defaults: 5 shots, all questions, window and stride 0 (the caller sets
 * them for ppl), BOS on, letter format, no items, no progress. */
void lr_eval_options_default(lr_eval_options *o);

/* The reports of one run (buffers empty where a task writes none: the
 * SVG of ppl) and its headline numbers.  Free with lr_eval_report_free. */
typedef struct lr_eval_report {
    lr_buf json, md, svg;     /* FILE.json, FILE.md, the chart */
    lr_buf items;             /* per-question JSONL (want_items) */
    int bos_added;            /* BOS asked for and the tokenizer has one */
    size_t questions, subjects;
    double acc, acc_norm;     /* mmlu, size-weighted over subjects */
    double mc1, mc2;          /* truthfulqa */
    size_t tokens;            /* ppl: tokens of the text (BOS counted) */
    long scored;              /* ppl: tokens scored */
    long window, stride;      /* ppl: as used */
    double nll, ppl, ppl_stderr; /* ppl: summed NLL, exp(mean NLL), ppl
                                 times the standard error of the mean NLL
                                 (llama.cpp's perplexity tool) */
} lr_eval_report;

/* Frees what a run allocated in r (a zeroed r is fine). */
void lr_eval_report_free(lr_eval_report *r);

/* MMLU over every selected subject of o->data (DIR/test/<s>_test.csv with
 * DIR/dev/<s>_dev.csv for the shots).  Errors name the file and, for a
 * question, its line; "no test files" when no subject is selected. */
int lr_eval_mmlu(lr_loglik *L, const lr_tokenizer *tok, const lr_eval_options *o,
                 lr_eval_report *out, lr_error *err);
/* TruthfulQA MC1 and MC2 (0-shot after the harness's primer). */
int lr_eval_truthfulqa(lr_loglik *L, const lr_tokenizer *tok,
                       const lr_eval_options *o, lr_eval_report *out,
                       lr_error *err);
/* Perplexity of the text file o->data; fails on fewer than 2 tokens. */
int lr_eval_ppl(lr_loglik *L, const lr_tokenizer *tok, const lr_eval_options *o,
                lr_eval_report *out, lr_error *err);

/* `llamaref eval TASK`: task "mmlu", "truthfulqa" or "ppl" runs
 * lr_eval_mmlu, lr_eval_truthfulqa or lr_eval_ppl; another name: -1
 * with err set (out zeroed). */
int lr_eval_task(const char *task, lr_loglik *L, const lr_tokenizer *tok,
                 const lr_eval_options *o, lr_eval_report *out, lr_error *err);
/* The summary of a run of task, as `llamaref eval` prints it, appended
 * to out: mmlu's questions, subjects, acc and acc_norm (o->format);
 * truthfulqa's mc1 and mc2; ppl's tokens scored, NLL per token and
 * perplexity, then "PPL = X +/- Y" as llama.cpp's perplexity tool. */
void lr_eval_summary(const char *task, const lr_eval_options *o,
                     const lr_eval_report *r, lr_buf *out);
/* The chart's suffix of task: "-subjects.svg" (mmlu) or "-mc.svg"
 * (truthfulqa; ppl draws none), next to the report (lr_report_path). */
const char *lr_eval_chart_suffix(const char *task);
/* Writes the files of a run of task, atomically: when out is not NULL
 * out (r->json), its chart (r->svg, when one was drawn; at
 * lr_report_path(out, lr_eval_chart_suffix(task))) and out's ".md"
 * (r->md); when items is not NULL, items (r->items, maybe empty).
 * Errors name the file. */
int lr_eval_report_write(const char *task, const lr_eval_report *r,
                         const char *out, const char *items, lr_error *err);
/* The context of a run on a model of max_pos max_position_embeddings:
 * o->window 0 becomes max_pos (2048 when max_pos <= 1 or beyond 2048);
 * for ppl *max_len (the lr_loglik's) is at most the window; then the
 * window is at most *max_len. */
void lr_eval_context(lr_eval_options *o, const char *task, long max_pos,
                     long *max_len);
/* The requests without a model, one JSON line per question appended to
 * out: context, the continuations (target delimiter " " + choice) and the
 * gold answer (mmlu) or the mc1 / mc2 continuations (truthfulqa).  Under
 * mpirun every rank calls it: each builds the lines of its shard of the
 * questions (of each subject) and rank 0's out gets them all in question
 * order, as one process's; the other ranks' out is left as it was. */
int lr_eval_requests_mmlu(const lr_eval_options *o, lr_buf *out, lr_error *err);
int lr_eval_requests_truthfulqa(const lr_eval_options *o, lr_buf *out,
                                lr_error *err);
/* The requests of task "mmlu" or "truthfulqa" (another name: -1, err
 * set). */
int lr_eval_requests(const char *task, const lr_eval_options *o, lr_buf *out,
                     lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
