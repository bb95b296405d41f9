/* experiment_report.h - the options and the per-run results of the
 * knowledge experiment (`llamaref experiment knowledge`,
 * docs/experiment.md), and the report written from them: per-run
 * metrics.json, aggregation over seeds (mean / sd), DIR/summary.json,
 * DIR/report.md and the SVG charts.  Writes only what the run
 * (experiment_knowledge.h) computed.
 * Depends on: experiment.h (answer statistics, mean / sd), experiment_run.h
 * (the paper's training options), knowledge.h, facts.h, mixture.h, mmlu.h,
 * probe.h, svg.h, json.h, report.h. */
#ifndef LLAMAREF_EXPERIMENT_REPORT_H
#define LLAMAREF_EXPERIMENT_REPORT_H

#include <stddef.h>

#include "llamaref/core/common.h"
#include "llamaref/papers/knowledge/diversity.h"
#include "llamaref/papers/knowledge/experiment.h"
#include "llamaref/papers/knowledge/facts.h"
#include "llamaref/papers/knowledge/knowledge.h"
#include "llamaref/papers/knowledge/mixture.h"
#include "llamaref/eval/mmlu.h"
#include "llamaref/papers/knowledge/probe.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_EXP_MAX_LIST 32   /* values of --unknown, --extra, --seeds */
#define LR_EXP_N_TOP 5       /* over-represented answers listed */

/* The experiment's options (docs/experiment.md; lr_exp_options_default,
 * experiment_knowledge.h, sets the paper's). */
typedef struct lr_exp_options {
    const char *model, *tokenizer, *facts, *shots, *bench, *valid, *out;
    const char *template_arg, *targets, *schedule;
    long unknown[LR_EXP_MAX_LIST], extra[LR_EXP_MAX_LIST], seeds[LR_EXP_MAX_LIST];
    int n_unknown, n_extra, n_seeds;
    lr_mix_kind kind;
    long prompts, shots_per_prompt, max_new_tokens, limit;
    long r, epochs, batch, bench_shots, bench_limit, ppl_tokens;
    double alpha, dropout, lr, max_norm, wd;
    int rslora, bos, quick;
    lr_mmlu_format bench_format;
    long bench_shots_used;    /* fewest shots any subject gets (lr_exp_bench_check) */
    char world_model[4096], world_tok[4096];
    char world_facts[4096], world_shots[4096], world_bench[4096], world_valid[4096];
    const char *given[64];    /* the options given explicitly (canonical
                                 spellings): a world's experiment.json does
                                 not override them */
    int n_given;
    char defaults_path[4200]; /* the world's experiment.json, "" if none */
    int is_world;             /* --model is a world directory */
} lr_exp_options;

/* One grid point's outcome. */
typedef struct lr_exp_run {
    long n, k, seed;
    int ok;                    /* 0: skipped (reason) */
    char reason[1100], name[128];
    size_t examples, reused, trained_facts;
    double reliability, hk_after, reliability_all;
    lr_shift shift;
    lr_answer_stats after;
    double bench_acc, ppl;
    size_t bench_n;
    double seconds;
} lr_exp_run;

/* The world popularity buckets (docs/world.md): head, torso, tail. */
extern const char *const lr_exp_bucket_names[3];
/* A fact's "bucket" field as an index of lr_exp_bucket_names, or -1 when
 * the fact has none (not a world fact). */
int lr_exp_fact_bucket(const lr_fact *f);

/* A run as one JSON object (the summary's "runs" entries and the run's
 * metrics.json); kind: "known" or "paraphrase". */
void lr_exp_json_run(lr_buf *b, const lr_exp_run *r, const char *kind);

/* The base model's figures. */
typedef struct lr_exp_base {
    size_t n_facts;
    const size_t *cats;                    /* [LR_SLICK_N] categories */
    const size_t (*by_bucket)[LR_SLICK_N]; /* [3] per bucket, or NULL */
    const lr_answer_stats *stats;
    double bench_acc, ppl;                 /* NaN when not measured */
    size_t bench_n;
} lr_exp_base;

/* o->out/summary.json, o->out/report.md and the charts (o->out exists). */
int lr_exp_write_report(const lr_exp_options *o, const lr_probe_options *po,
                        const lr_exp_base *base, const lr_exp_run *runs,
                        size_t n_runs, double seconds, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
