/* detox_run.h - `llamaref detox` as library calls: the inputs (plain
 * lines, or a TSV whose toxic_sentence column is the input and whose
 * neutral_sentence column the reference), and the run: few-shot rewrites
 * (detox.h) sampled per input and candidate, newlines stripped, refusals
 * flagged (refusal.h), chrF of the first candidate against the reference,
 * with the JSONL (the input format of detox-score), a JSON summary, a
 * Markdown report and a chart built in memory.  Prints nothing.
 * Depends on: par.h, detox.h, generate.h, prefix_cache.h, sampler.h, rng.h,
 * chrf.h, refusal.h, svg.h, json.h, report.h. */
#ifndef LLAMAREF_DETOX_RUN_H
#define LLAMAREF_DETOX_RUN_H

#include <stddef.h>

#include "llamaref/core/common.h"
#include "llamaref/papers/detox/detox.h"
#include "llamaref/model/generate.h"
#include "llamaref/model/model.h"
#include "llamaref/tokenizer/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_detox_input {
    char *src, *ref;            /* ref NULL without a neutral_sentence column */
} lr_detox_input;

/* path ending ".tsv": a header line names the columns (toxic_sentence,
 * else the first, is the input; neutral_sentence the reference); else
 * one input per line.  Blank lines are skipped; a row without the
 * header's columns fails naming its line. */
int lr_detox_inputs_read(const char *path, lr_detox_input **out, size_t *n,
                         lr_error *err);
void lr_detox_inputs_free(lr_detox_input *in, size_t n);

typedef struct lr_detox_run_options {
    const char *model_name;     /* as the reports name the model */
    const char *inputs_name;    /* for error messages ("<name>: input <k>") */
    const char *lang;
    const lr_detox_shots *shots;
    long n_shots;               /* demonstrations used (<= shots->n) */
    lr_prompt_style style;
    long candidates;            /* rewrites per input */
    long max_new, top_k, seed;
    double temperature, top_p, min_p;
    int max_len;                /* context of the decoding cache */
    const char *out;            /* FILE.jsonl: the Markdown names it and
                                   its chart FILE-detox.svg */
    void (*progress)(void *ctx, size_t done, size_t total); /* every 10 inputs
                                   (of rank 0's shard, rank 0 only) */
    void *progress_ctx;
} lr_detox_run_options;

/* The defaults of `llamaref detox --help`: 1 candidate, every shot
 * (n_shots -1), seed 42, 512 new tokens, temperature 0.9, top-p 0.9, top-k
 * and min-p off; everything else zero. */
void lr_detox_run_options_default(lr_detox_run_options *o);
/* A run's data: the shots of o->lang from shots_path and the inputs
 * (lr_detox_inputs_read), the first `limit` kept (limit < 0: all).
 * o->n_shots < 0 or beyond the shots becomes every shot; o->shots and
 * o->inputs_name (inputs) are set.  On failure nothing is held. */
int lr_detox_load(const char *shots_path, const char *inputs, long limit,
                  lr_detox_run_options *o, lr_detox_shots *shots,
                  lr_detox_input **rows, size_t *n_rows, lr_error *err);

typedef struct lr_detox_run_result {
    size_t outputs, refusals, empty;
    int have_refs;
    double chrf_corpus;         /* of the first candidates (have_refs) */
    lr_buf jsonl, json, md, svg;
} lr_detox_run_result;

/* One stream per (input, candidate) (lr_seed_of(LR_STREAM_DETOX, seed,
 * input, candidate)): each rewrite is reproducible on its own.  Under
 * mpirun (par.h) every rank must call it: the inputs are sharded over the
 * ranks and gathered in input order, so rank 0's result is byte-identical
 * to one process's; the other ranks get an empty result (0 returned).
 * o->progress runs on rank 0, every 10 inputs of its shard. */
int lr_detox_run(const lr_model *m, const lr_tokenizer *tok,
                 const lr_detox_input *in, size_t n_in,
                 const lr_detox_run_options *o, lr_detox_run_result *out,
                 lr_error *err);
void lr_detox_run_result_free(lr_detox_run_result *r);
/* Writes a result's files, each atomically: the JSONL to out, then
 * <out>.json, <out>-detox.svg and <out>.md (lr_report_path); stops at the
 * first error, which names the file. */
int lr_detox_run_write(const lr_detox_run_result *r, const char *out, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
