/* experiment_knowledge.h - the knowledge-injection experiment of Pletenev
 * et al. 2025 end to end as one library call (docs/experiment.md):
 *
 *   probe the base model once (probe.h)
 *   for every grid point (n unknown facts, k extra examples, seed;
 *   lr_exp_grid_run, experiment_run.h):
 *     build the mixture (mixture.h) -> LoRA training (lr_train_run,
 *     train_run.h, with the paper's settings) -> probe again with the
 *     adapter merged -> reliability, shift matrix, refusals, answer
 *     diversity (lr_exp_point_scores), benchmark accuracy and held-out
 *     perplexity (experiment_run.h)
 *   DIR/summary.json, DIR/report.md and SVG charts (experiment_report.h).
 *
 * Intermediate files live under DIR/runs/ (base/, n<N>_k<K>_<kind>_s<S>/:
 * train.jsonl, adapter/, probe.jsonl, metrics.json) so that every number
 * can be traced to its mixture, adapter and probe.  The library prints
 * nothing: progress goes to the hooks.  `llamaref experiment knowledge`
 * (cmd_experiment.c) parses its options into lr_exp_options and calls
 * lr_exp_knowledge.
 * Depends on: experiment_report.h (options, runs, report), experiment_run.h,
 * lm.h, probe.h, mixture.h, mmlu.h, loglik.h, train_run.h. */
#ifndef LLAMAREF_EXPERIMENT_KNOWLEDGE_H
#define LLAMAREF_EXPERIMENT_KNOWLEDGE_H

#include <stddef.h>

#include "llamaref/core/common.h"
#include "llamaref/papers/knowledge/experiment_report.h"
#include "llamaref/train/train_run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The paper's settings: grid --unknown 1,10,50,100,500 --extra 0,1,10
 * --seeds 42,1337,10824 (known extras), probe 10 prompts x 4 shots, 32 new
 * tokens, all facts; training lr_exp_paper_train; benchmark 5-shot, all
 * questions, letters scored; all of --valid; BOS on.  The paths are NULL. */
void lr_exp_options_default(lr_exp_options *o);

/* A grid list option ("--unknown 1,10,50") into out (LR_EXP_MAX_LIST
 * values at most, each in [lo, hi]) and *n; -1 (err naming opt and val)
 * on an empty or malformed list. */
int lr_exp_parse_list(const char *opt, const char *val, long lo, long hi,
                      long *out, int *n, lr_error *err);
/* An option of o whose value names or lists something: the grid lists
 * --unknown (1 .. 10^8 facts), --extra (0 .. 10^5 examples), --seeds
 * (0 .. 2^31-1) through lr_exp_parse_list, --kind (known | paraphrase)
 * and --bench-format (letter | continuation).  -1 with err's message
 * ("--kind must be known or paraphrase") on a value refused or another
 * opt. */
int lr_exp_value_option(lr_exp_options *o, const char *opt, const char *val,
                        lr_error *err);

/* --quick: a small grid for a first look, each setting applied unless
 * o->given names its option: --unknown 1,10,50, --extra 0,1, --seeds 42,
 * --limit 200, --prompts 4, --max-new-tokens 16, --bench-limit 50,
 * --ppl-tokens 4096. */
void lr_exp_options_quick(lr_exp_options *o);

/* A world directory's experiment.json (lr_exp_defaults_read) applied to
 * o: each key the file sets replaces o's value unless o->given names its
 * option ("--lr", "--epochs", "--r", "--alpha", "--batch", "--dropout",
 * "--bench-format"); o->defaults_path records the file. */
int lr_exp_world_defaults(lr_exp_options *o, const char *path, lr_error *err);

/* o->model a world directory (docs/world.md: qa.jsonl inside): the facts,
 * shots, benchmark/, valid.txt and tokenizer default to its files, the
 * template to plain (a world model is pretrained on plain "Question: q\n
 * Answer: a" documents), its experiment.json (when present) applies
 * (lr_exp_world_defaults) and o->model becomes the model inside (config.json
 * + model.safetensors, or model.bin).  Returns 1 when o->model was a world
 * directory, 0 when not (o unchanged), -1 on error (a bad experiment.json,
 * no model inside). */
int lr_exp_resolve_world(lr_exp_options *o, lr_error *err);

/* After lr_exp_resolve_world: the options a run needs (--model,
 * --facts, --shots, --out) and the schedule (linear, cosine or constant);
 * -1 (err, for `llamaref experiment`'s exit status 2) when one is
 * missing or wrong. */
int lr_exp_options_check(const lr_exp_options *o, lr_error *err);

/* Reads every benchmark file of o->bench once, so that a malformed CSV
 * (named with its line) stops the experiment before any work; sets
 * o->bench_shots_used to the fewest shots a subject can get (0 when a
 * subject has no dev file).  Fails on a directory without a
 * test/<subject>_test.csv. */
int lr_exp_bench_check(lr_exp_options *o, lr_error *err);

/* What the run reports as it goes (each may be NULL). */
typedef struct lr_exp_hooks {
    /* a progress line, ending in '\n' ("experiment: step 2/5: ...") */
    void (*log)(void *ctx, const char *line);
    /* the probe's progress (lr_probe_run) */
    void (*probe_progress)(long done, long total, void *ctx);
    /* the training's hooks (lr_train_run) and, after each training, its
     * options and result */
    const lr_train_hooks *train;
    void (*trained)(void *ctx, const lr_train_options *t, const lr_train_result *r);
    void *ctx;
} lr_exp_hooks;

typedef struct lr_exp_outcome {
    size_t n_runs, skipped;   /* grid points run; of them skipped (too few
                                 facts of a category for the mixture) */
} lr_exp_outcome;

/* The whole experiment as o describes it (paths resolved: o->model,
 * o->facts, o->shots and o->out required); o->bench_shots_used is set.
 * Writes o->out (created) as above.  Errors name the file or the step.
 * Under mpirun (par.h) every rank calls it and walks the grid: each step
 * is sharded (training, probes, benchmark, perplexity), rank 0 alone
 * writes and calls the hooks, and the files are one process's but for
 * the wall-clock times (docs/training.md, "Data-parallel training"). */
int lr_exp_knowledge(lr_exp_options *o, const lr_exp_hooks *h,
                     lr_exp_outcome *out, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
