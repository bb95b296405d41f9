/* loss.h - causal language-model cross-entropy, HF semantics, shared by the
 * trainer (loss + gradient) and every log-likelihood evaluation (MMLU,
 * TruthfulQA, perplexity), so scores and training loss cannot drift apart.
 *
 * logits [B, T, V]; labels [B, T] with the same layout as input ids.
 * Row (b, t) is scored against labels[b, t+1] (HF's shift); label
 * LR_IGNORE_INDEX (-100) and the last position of each row are not counted.
 * log_softmax is computed with a max-shifted log-sum-exp accumulated in
 * double.
 *
 * Forward and backward are one call: lr_causal_lm_loss gives the summed
 * loss (forward; HF's mean loss is nll_sum / n_counted) and, with dlogits,
 * its gradient (backward).  Arrays caller-owned, nothing allocated or kept.
 * For a plain (unshifted) cross-entropy of N rows against targets[N], pass
 * B = N, T = 2 with labels row b = {-100, target_b} and logits row (b, 0)
 * = the row to score (row (b, 1) is not scored and gets dlogits 0).
 * Errors (returns -1, err names b and t, nothing written): a label outside
 * [0, V) other than -100, or a bad shape. */
#ifndef LLAMAREF_LOSS_H
#define LLAMAREF_LOSS_H

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_IGNORE_INDEX (-100)

/* log_softmax(row)[target] for one row of V logits. */
double lr_logprob(const lr_float *row, int V, int target);

/* Cross-entropy over a batch.
 *  token_logprob [B*T] (optional): log p(labels[b,t+1] | ...) at (b, t) for
 *    counted positions, 0 elsewhere.
 *  nll_sum: sum of -log p over counted positions; n_counted their number.
 *  dlogits [B*T*V] (optional): grad_scale * (softmax(row) - onehot(target))
 *    for counted rows, exactly 0 for the others.  For HF's mean loss pass
 *    grad_scale = 1 / (counted tokens in the whole accumulated batch).
 * Fails (naming b, t) on a label outside [0, V) other than -100. */
int lr_causal_lm_loss(const lr_float *logits, const int *labels, int B, int T,
                      int V, double *token_logprob, double *nll_sum,
                      long *n_counted, lr_float *dlogits, double grad_scale,
                      lr_error *err);

/* lr_causal_lm_loss with each counted row's log-sum-exp kept: lse [B*T]
 * (NULL: none) receives them (lse_known 0), or supplies them (lse_known 1;
 * what a call on the same logits and labels wrote there) so they are not
 * computed again: the same results, without the row's second pass of
 * exps.  Rows not counted are neither read nor written.  The trainer keeps
 * the forward's for the backward's dlogits (train_step.c). */
int lr_causal_lm_loss_lse(const lr_float *logits, const int *labels, int B,
                          int T, int V, double *token_logprob,
                          double *nll_sum, long *n_counted, lr_float *dlogits,
                          double grad_scale, double *lse, int lse_known,
                          lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
