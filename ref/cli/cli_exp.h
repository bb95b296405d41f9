/* cli_exp.h - shared between the parts of `llamaref experiment
 * knowledge`: its options and per-run results (cmd_experiment.c: parsing
 * and the grid), benchmark / perplexity evaluation and probing
 * (cli_exp_eval.c) and the report writer (cli_exp_report.c).
 * Depends on: cli_lm.h, llamaref/experiment.h, knowledge.h, probe.h,
 * mmlu.h, loglik.h, mixture.h, train_run.h. */
#ifndef LLAMAREF_CLI_EXP_H
#define LLAMAREF_CLI_EXP_H

#include <stdio.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/diversity.h"
#include "llamaref/experiment.h"
#include "llamaref/facts.h"
#include "llamaref/knowledge.h"
#include "llamaref/loglik.h"
#include "llamaref/mixture.h"
#include "llamaref/mmlu.h"
#include "llamaref/probe.h"
#include "llamaref/train_run.h"

#define MAX_LIST 32
#define N_TOP 5
typedef struct exp_opts {
    const char *model, *tokenizer, *facts, *shots, *bench, *valid, *out;
    const char *template_arg, *targets, *schedule;
    long unknown[MAX_LIST], extra[MAX_LIST], seeds[MAX_LIST];
    int n_unknown, n_extra, n_seeds;
    lr_mix_kind kind;
    long prompts, shots_per_prompt, max_new_tokens, limit;
    long r, epochs, batch, bench_shots, bench_limit, ppl_tokens;
    double alpha, dropout, lr, max_norm, wd;
    int rslora, bos, quick;
    lr_mmlu_format bench_format;
    long bench_shots_used;    /* fewest shots any subject gets (exp_bench_check) */
    char world_model[4096], world_tok[4096];
    char world_facts[4096], world_shots[4096], world_bench[4096], world_valid[4096];
    const char *given[64]; /* the options given on the command line */
    int n_given;
    char defaults_path[4200]; /* the world's experiment.json, "" if none */
    int is_world;             /* --model is a world directory */
} exp_opts;

typedef lr_answer_stats side_stats;

typedef struct run_result {
    long n, k, seed;
    int ok;                    /* 0: skipped (reason) */
    char reason[1100], name[128];
    size_t examples, reused, trained_facts;
    double reliability, hk_after, reliability_all;
    lr_shift shift;
    side_stats after;
    double bench_acc, ppl;
    size_t bench_n;
    double seconds;
} run_result;

extern const char *const exp_bucket_names[3];
int exp_file_exists(const char *path);
double exp_ratio(size_t a, size_t b);
int exp_fact_bucket(const lr_fact *f);
void exp_json_side(lr_buf *b, const side_stats *s);
void exp_md_top(lr_buf *md, const lr_diversity *d);
int exp_bench_eval(const exp_opts *o, const cli_lm *lm, lr_loglik *L,
                      double *acc, size_t *n_out);
int exp_bench_check(exp_opts *o);
int exp_ppl_eval(const exp_opts *o, const cli_lm *lm, lr_loglik *L, int window,
                    double *ppl);
int exp_lm_scores(const exp_opts *o, const cli_lm *lm, double *acc,
                     size_t *n_bench, double *ppl);
int exp_probe_model(cli_lm *lm, const lr_facts *facts,
                       const lr_facts *shots, const lr_probe_options *po,
                       lr_probe_result *res, const char *out_path);
void exp_free_results(lr_probe_result *res, size_t n, const lr_probe_options *po);
void exp_paper_train(lr_train_options *t);
void exp_json_run(lr_buf *b, const run_result *r, const char *kind);
int exp_write_report(const exp_opts *o, const lr_probe_options *po,
                        size_t n_facts, const size_t *cats,
                        const size_t (*by_bucket)[LR_SLICK_N],
                        const side_stats *base, double base_acc,
                        size_t base_bench_n, double base_ppl,
                        const run_result *runs, size_t n_runs, double seconds);

#endif
