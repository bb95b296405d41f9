/* loglik.h - log-likelihoods of continuations and perplexity, the way
 * lm-evaluation-harness scores "loglikelihood" requests, computed with the
 * trainer's loss function (loss.h: lr_causal_lm_loss) so that evaluation
 * scores and training loss cannot drift apart.
 *
 * ll(context, continuation) = sum over the continuation tokens c_j of
 * log p(c_j | context, c_<j): the logits after the last context token
 * score c_0, those after c_{j-1} score c_j.  Requests share the prefix
 * cache (prefix_cache.h), so answer choices of one question and few-shot
 * blocks of one task are computed once. */
#ifndef LLAMAREF_LOGLIK_H
#define LLAMAREF_LOGLIK_H

#include "llamaref/core/common.h"
#include "llamaref/model/prefix_cache.h"
#include "llamaref/tokenizer/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_loglik {
    lr_prefix_cache pc;
    int V;
    lr_float *slab;   /* [slab_rows, V] logits handed to lr_causal_lm_loss */
    int slab_rows;
    int *labels;      /* [slab_rows] */
    double *tok_lp;   /* [slab_rows] */
    /* filled by lr_perplexity: the sum of the squared per-token NLLs (for
     * the standard error of the mean NLL, as llama.cpp's perplexity tool
     * reports it); and, when set, called after each window k (0-based)
     * with the running NLL sum and count */
    double ppl_nll2;
    void (*ppl_window)(void *ctx, int k, double nll, long count);
    void *ppl_window_ctx;
} lr_loglik;

/* Sets up L for model m (kept: m must outlive L) with a prefix cache of
 * max_len tokens (the longest context + continuation it will score).
 * Fails (err) on max_len < 1 or out of memory.  lr_loglik_free releases
 * what L allocated (NULL-safe; also after a failed init) and zeroes it. */
int lr_loglik_init(lr_loglik *L, const lr_model *m, int max_len, lr_error *err);
void lr_loglik_free(lr_loglik *L);

/* ll of cont[0..n_cont) after ctx[0..n_ctx) (n_ctx >= 1, n_cont >= 1);
 * *is_greedy (optional) = 1 when every continuation token is the arg max
 * of its row (the harness's second return value). */
int lr_loglik_score(lr_loglik *L, const int *ctx, int n_ctx, const int *cont,
                    int n_cont, double *ll, int *is_greedy, lr_error *err);

/* The harness's _encode_pair: trailing white space of the context moves to
 * the front of the continuation; whole = encode(context + continuation),
 * ctx = encode(context), cont = whole[len(ctx):].  add_bos prepends the
 * tokenizer's BOS to both encodings (HF add_special_tokens=True, the
 * Llama tokenizers' default).  An empty context becomes [BOS].  Arrays are
 * malloc'ed.  Special-token text is encoded as plain text. */
int lr_loglik_encode_pair(const lr_tokenizer *tok, const char *context,
                          const char *continuation, int add_bos, int **ctx,
                          int *n_ctx, int **cont, int *n_cont, lr_error *err);

/* Perplexity of tokens[0..n) with windows of at most `window` tokens
 * advancing by `stride` (<= window; HF's "perplexity of fixed-length
 * models" recipe): window w covers [b, min(b + window, n)) with
 * b = w * stride and scores only the tokens after the previous window's
 * end (the first token of the sequence is never scored).  Each window
 * starts a fresh cache (positions from 0).  Returns the summed NLL and the
 * number of scored tokens; ppl = exp(nll / count). */
int lr_perplexity(lr_loglik *L, const int *tokens, int n, int window,
                  int stride, double *nll, long *count, lr_error *err);

/* lr_perplexity in two halves, so that windows can be computed apart (one
 * rank of a sharded run, par.h) and summed in one order:
 * lr_perplexity_windows: the number of windows of the walk (0 for bad
 * window / stride); lr_perplexity_run: windows k0..k1-1 (each depends on
 * its index only), their increments appended to rec (per window: the
 * pieces' NLL sums and counts and the squared log-probability of each
 * row); lr_perplexity_fold: adds the increments of consecutive records of
 * windows 0.. in order into *nll, *count and L->ppl_nll2, calling
 * L->ppl_window after each window, exactly as lr_perplexity sums. */
long lr_perplexity_windows(int n, int window, int stride);
int lr_perplexity_run(lr_loglik *L, const int *tokens, int n, int window,
                      int stride, long k0, long k1, lr_buf *rec, lr_error *err);
int lr_perplexity_fold(lr_loglik *L, const char *rec, size_t len, double *nll,
                       long *count, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
