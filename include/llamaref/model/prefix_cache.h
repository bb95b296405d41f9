/* prefix_cache.h - a KV-cache decoder that reuses the longest common
 * prefix with the tokens it already holds.
 *
 * Evaluation sends many prompts that share long prefixes (the same few-shot
 * block for every fact or every MMLU question of a subject, the same
 * context for every answer choice).  The K/V rows of position i depend only
 * on tokens 0..i, so when the next sequence agrees with the cached tokens
 * on its first L tokens, those rows are kept and only the rest is fed, in
 * chunks (each chunk is one batched pass over its rows).  Results are the
 * same as feeding every sequence from scratch (the decoder's rows do not
 * depend on how the sequence was split into chunks; test_loglik checks it).
 */
#ifndef LLAMAREF_PREFIX_CACHE_H
#define LLAMAREF_PREFIX_CACHE_H

#include "llamaref/core/common.h"
#include "llamaref/model/forward.h"
#include "llamaref/model/sampler.h"
#include "llamaref/core/tokens.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_prefix_cache {
    lr_decoder dec;
    int *tokens;        /* [max_len] the tokens whose rows are cached */
    long n_reused;      /* statistics: tokens served from the cache */
    long n_fed;         /*             tokens run through the model */
} lr_prefix_cache;

/* A cache of max_len tokens for model m (kept: m must outlive pc).  Fails
 * (err) on max_len < 1 or out of memory.  lr_prefix_cache_free releases
 * it (NULL-safe; also after a failed init). */
int lr_prefix_cache_init(lr_prefix_cache *pc, const lr_model *m, int max_len,
                         lr_error *err);
void lr_prefix_cache_free(lr_prefix_cache *pc);

/* Makes the cache hold exactly tokens[0..n) (n >= 1), keeping the longest
 * common prefix with the cached tokens but at most n - 1 of them, so that at
 * least the last token is fed and pc->dec.logits are the logits after
 * tokens[n-1].  all_logits [n - kept, V] (optional) receives the logits of
 * every fed row; *n_kept (optional) the number of rows kept. */
int lr_prefix_cache_set(lr_prefix_cache *pc, const int *tokens, int n,
                        lr_float *all_logits, int *n_kept, lr_error *err);

/* Appends tokens[0..n) to the cached sequence. */
int lr_prefix_cache_append(lr_prefix_cache *pc, const int *tokens, int n,
                           lr_float *all_logits, lr_error *err);

/* Generates after prompt[0..n_prompt): sets the cache to the prompt, then
 * draws tokens with the sampler until one of stops[0..n_stops) (not
 * included in out) or max_new tokens.  out is emptied first. */
int lr_prefix_cache_generate(lr_prefix_cache *pc, const int *prompt,
                             int n_prompt, lr_sampler *smp, int max_new,
                             const int *stops, int n_stops, lr_tokens *out,
                             lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
