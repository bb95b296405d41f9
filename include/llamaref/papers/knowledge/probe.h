/* probe.h - the knowledge probe (Pletenev et al. 2025 after SliCK, Gekhman
 * et al. 2024): ask every fact with N_ex different few-shot prompts, judge
 * the greedy (and optionally sampled) answers by alias matching and assign
 * the SliCK category.  Exact prompts in docs/evaluation.md.
 *
 * Prompt j (0 <= j < n_prompts) uses the shots
 *   shots[(j * shots_per_prompt + i) mod n_shots], i < shots_per_prompt,
 * in that order (each shot's first answer alias is its answer).
 *
 * LR_PROMPT_CHAT (Llama 3.1 chat template, chat_template.h):
 *   system "Answer the following question."; per shot a user turn
 *   "Question: {q}" and an assistant turn "Answer: {a}"; then the user turn
 *   "Question: {question}" and the assistant generation prompt.
 *   Generation stops at <|eot_id|>, <|eom_id|>, <|end_of_text|> or the
 *   config's eos ids.
 * LR_PROMPT_PLAIN (base models without a chat template, e.g. llama2.c):
 *   BOS + "Answer the following question.\n\n" + per shot
 *   "Question: {q}\nAnswer: {a}\n\n" + "Question: {question}\nAnswer:".
 *   The answer is the generated text up to the first newline.  Generation
 *   stops at the config's eos ids (and BOS id 1 for llama2.c tokenizers).
 * The answer kept is the decoded text without leading/trailing white space.
 */
#ifndef LLAMAREF_PROBE_H
#define LLAMAREF_PROBE_H

#include <stdint.h>

#include "llamaref/core/common.h"
#include "llamaref/papers/knowledge/facts.h"
#include "llamaref/model/generate.h"
#include "llamaref/papers/knowledge/knowledge.h"
#include "llamaref/model/model.h"
#include "llamaref/tokenizer/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_PROBE_SYSTEM "Answer the following question."

typedef struct lr_probe_options {
    lr_prompt_style style;
    const char *system;    /* NULL: LR_PROBE_SYSTEM */
    int n_prompts;         /* N_ex (10) */
    int shots_per_prompt;  /* 4 */
    int n_samples;         /* sampled answers per prompt (0 = greedy only) */
    double temperature;    /* for the samples (0.5) */
    int top_k;             /* 0 = off */
    double top_p, min_p;   /* 1, 0 = off */
    uint64_t seed;
    int max_new_tokens;    /* 32 */
    int max_len;           /* KV cache capacity in tokens */
} lr_probe_options;

/* Defaults of the paper: 10 prompts, 4 shots, greedy only, 32 new tokens. */
void lr_probe_options_default(lr_probe_options *o);

/* The prompt text of prompt j for `question` (appended to out). */
int lr_probe_render(const lr_probe_options *o, const lr_facts *shots,
                    int prompt_index, const char *question, lr_buf *out,
                    lr_error *err);

typedef struct lr_probe_result {
    char **greedy;              /* [n_prompts] answers */
    unsigned char *correct;     /* [n_prompts] 0/1 */
    char **samples;             /* [n_prompts * n_samples] */
    unsigned char *sample_correct;
    size_t n_greedy_correct, n_sample_correct;
    lr_slick category;
} lr_probe_result;

typedef struct lr_probe_stats {
    long prompts;          /* prompts evaluated */
    long tokens_reused;    /* prompt tokens served by the prefix cache */
    long tokens_fed;       /* tokens run through the model */
    long shot_overlaps;    /* facts whose question is also a shot question */
} lr_probe_stats;

/* Probes facts[0..n): results[i] for facts->items[i] (free each with
 * lr_probe_result_free).  progress (may be NULL) is called after each
 * prompt variant with (done, total) fact-prompts. */
int lr_probe_run(const lr_model *m, const lr_tokenizer *tok,
                 const lr_facts *facts, const lr_facts *shots,
                 const lr_probe_options *o, lr_probe_result *results,
                 lr_probe_stats *stats,
                 void (*progress)(long done, long total, void *ctx),
                 void *progress_ctx, lr_error *err);
void lr_probe_result_free(lr_probe_result *r, const lr_probe_options *o);

/* lr_probe_run for facts [first, last) only (results[first..last); the
 * other entries untouched), as one rank of a sharded probe (par.h): the
 * answers are the whole run's, the sampling streams keyed by the fact's
 * index in facts, and the statistics those of these facts in the whole
 * run (the cache is first brought to the state the whole run has there,
 * uncounted; results do not depend on the cache, prefix_cache.h), so the
 * ranges' statistics add up to the whole run's. */
int lr_probe_run_range(const lr_model *m, const lr_tokenizer *tok,
                       const lr_facts *facts, const lr_facts *shots,
                       const lr_probe_options *o, size_t first, size_t last,
                       lr_probe_result *results, lr_probe_stats *stats,
                       void (*progress)(long done, long total, void *ctx),
                       void *progress_ctx, lr_error *err);

/* lr_probe_run sharded under mpirun (par.h; every rank calls it): each
 * rank probes its shard of the facts (lr_probe_run_range), then every rank
 * holds every fact's result, and *stats is the sum of the ranks' in rank
 * order (the whole run's); so the results are those of one process.
 * progress sees this rank's shard.  One process: lr_probe_run. */
int lr_probe_run_all(const lr_model *m, const lr_tokenizer *tok,
                     const lr_facts *facts, const lr_facts *shots,
                     const lr_probe_options *o, lr_probe_result *results,
                     lr_probe_stats *stats,
                     void (*progress)(long done, long total, void *ctx),
                     void *progress_ctx, lr_error *err);

/* Appends the probe output records of facts[0..n) and results[0..n), one
 * JSON object per line (the `llamaref probe` JSONL, docs/evaluation.md):
 * question, answers, paraphrases (when given), category, n_correct,
 * n_prompts, greedy[], correct[] and, with samples, n_sample_correct,
 * samples[], sample_correct[].  counts (may be NULL) receives the facts
 * per category.  Out of memory is reported through out->oom. */
void lr_probe_write_jsonl(lr_buf *out, const lr_facts *facts,
                          const lr_probe_result *results,
                          const lr_probe_options *o, size_t *counts);

/* The summary of a probe run as `llamaref probe` writes it beside the
 * JSONL: FILE.json (options, categories, prefix-cache figures), FILE.md
 * and the chart of facts per category; counts as lr_probe_write_jsonl
 * filled them, out the JSONL's path (the Markdown links to
 * FILE-categories.svg beside it).  Buffers are appended to. */
int lr_probe_report(const char *model_name, size_t n_facts,
                    const lr_probe_options *o, const size_t *counts,
                    const lr_probe_stats *st, const char *out, lr_buf *json,
                    lr_buf *md, lr_buf *svg, lr_error *err);

/* The files of a probe run: out (lr_probe_write_jsonl; counts as there),
 * then beside it (lr_report_path) the summary .json, -categories.svg and
 * .md of lr_probe_report, each written atomically; the first failure
 * stops (err names the file). */
int lr_probe_save(const char *model_name, const lr_facts *facts,
                  const lr_probe_result *results, const lr_probe_options *o,
                  const lr_probe_stats *st, const char *out, size_t *counts,
                  lr_error *err);

/* The template a probe used, from the summary beside its JSONL out
 * (FILE.json's "template", lr_probe_report): returns 1 with *plain 1 for
 * "plain" and 0 for another; 0 with *plain 0 when there is no readable
 * summary or it names no template. */
int lr_probe_summary_template(const char *out, int *plain);

#ifdef __cplusplus
}
#endif

#endif
