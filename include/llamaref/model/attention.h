/* attention.h - causal grouped-query scaled dot-product attention.
 *
 * One sequence: Tq queries (RoPE applied) at key indices q_off .. q_off+Tq-1
 * against keys/values 0 .. Tk-1 (Tk = q_off + Tq).  Query i sees key j iff
 * j <= q_off + i and key_mask[j] != 0 (key_mask NULL: every key).  Query head
 * h uses kv head h / (n_heads / n_kv_heads).  Scores are scaled by
 * 1/sqrt(head_dim); masked scores are -inf with probability exactly 0; the
 * softmax subtracts the row maximum and sums exp in double.  A query that
 * sees no key at all (a left-padding position) gets probabilities 0 and
 * output 0 (HF leaves such rows unspecified; they are never scored).
 *
 * Contract: one sequence per call (loop over a batch, passing each row's
 * mask); n_heads a multiple of n_kv_heads (GQA; n_kv_heads = 1 is MQA,
 * = n_heads is MHA); Tk = q_off + Tq (causal: the Tq queries are the last
 * rows of the Tk keys, q_off = 0 for a whole sequence, q_off > 0 for a KV
 * cache); key_mask [Tk] with 1 = real token, 0 = padding, or NULL.
 * Within a row, head h occupies columns h*head_dim .. (h+1)*head_dim-1.
 * All buffers are caller-owned and nothing is kept; with 8 query rows or
 * more the vector kernels malloc a scratch per thread (one kv head's keys
 * and values transposed, and in the backward its dk, dv: 4 head_dim x Tk
 * + 2 Tk values, Tk rounded up to 32; freed before returning; without it,
 * the same bits).  No error is possible (shapes are trusted).  Order of
 * operations (fixed, whatever the thread count): score =
 * (lr_float)(dot * (1/sqrt(head_dim))) with dot = sum over d ascending
 * of q_d k_d in lr_float; e_j = exp(score_j - max) in double, rounded to
 * lr_float; p_j = (lr_float)(e_j / sum_j e_j) with
 * the sum in double; out = sum over keys j ascending of p_j v_j in
 * lr_float (keys with p_j = 0 skipped). */
#ifndef LLAMAREF_ATTENTION_H
#define LLAMAREF_ATTENTION_H

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_attn_shape {
    int n_heads, n_kv_heads, head_dim;
    int Tq, Tk, q_off;
} lr_attn_shape;

/* q: [Tq, n_heads*head_dim]; k, v: [Tk, n_kv_heads*head_dim];
 * out: [Tq, n_heads*head_dim] (written).
 * scores, probs: [n_heads, Tq, Tk] saved (pre-softmax scaled scores and
 * softmax), or both NULL: then scratch holds n_heads * Tk values. */
void lr_attention_forward(lr_float *out, lr_float *scores, lr_float *probs,
                          const lr_float *q, const lr_float *k,
                          const lr_float *v, const unsigned char *key_mask,
                          const lr_attn_shape *s, lr_float *scratch);

/* Backward of lr_attention_forward for the same shape and mask (the
 * probabilities are recomputed, none need be saved): dq [Tq, H*hd] is
 * written, dk, dv [Tk, KV*hd] are added to; scratch holds 2*KV*Tk values.
 * Derivation in attention.c. */
void lr_attention_backward(lr_float *dq, lr_float *dk, lr_float *dv,
                           const lr_float *dout, const lr_float *q,
                           const lr_float *k, const lr_float *v,
                           const unsigned char *key_mask,
                           const lr_attn_shape *s, lr_float *scratch);

/* The same backward with the forward's probabilities (the probs output
 * of lr_attention_forward for the same q, k, mask and shape, [n_heads,
 * Tq, Tk]) instead of recomputing them: the same bits, without the exp
 * and the q.k products of the recomputation; probs NULL: recomputed, as
 * lr_attention_backward.  Training keeps them when they are small
 * (train_step.h, lr_train_ws_alloc). */
void lr_attention_backward_saved(lr_float *dq, lr_float *dk, lr_float *dv,
                                 const lr_float *dout, const lr_float *q,
                                 const lr_float *k, const lr_float *v,
                                 const lr_float *probs,
                                 const unsigned char *key_mask,
                                 const lr_attn_shape *s, lr_float *scratch);

/* The definitions of the two above (plain loops, one thread): the fast
 * versions keep every element's order and give these functions' bits. */
void lr_attention_forward_ref(lr_float *out, lr_float *scores,
                              lr_float *probs, const lr_float *q,
                              const lr_float *k, const lr_float *v,
                              const unsigned char *key_mask,
                              const lr_attn_shape *s, lr_float *scratch);
void lr_attention_backward_ref(lr_float *dq, lr_float *dk, lr_float *dv,
                               const lr_float *dout, const lr_float *q,
                               const lr_float *k, const lr_float *v,
                               const unsigned char *key_mask,
                               const lr_attn_shape *s, lr_float *scratch);

#ifdef __cplusplus
}
#endif

#endif
