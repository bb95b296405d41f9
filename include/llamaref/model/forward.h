/* forward.h - the Llama forward pass (HF LlamaForCausalLM semantics).
 *
 *   x = embed_tokens[ids]
 *   per layer:  h   = x + o_proj(attention(rope(q_proj(n)), rope(k_proj(n)),
 *                                           v_proj(n)))   n = rmsnorm_in(x)
 *               out = h + down_proj(silu(gate_proj(m)) * up_proj(m))
 *                                                          m = rmsnorm_post(h)
 *   logits = lm_head(rmsnorm_final(x))
 *
 * One layer function (lr_layer_forward) serves every entry point:
 *  - lr_forward: whole sequences, a batch [B, T] with an attention (padding)
 *    mask and explicit positions; every intermediate lands in an lr_acts,
 *    per layer when asked (for dumps and for the LoRA backward).
 *  - lr_decoder: incremental decoding with a KV cache (prefill a prompt in
 *    chunks, then one token at a time); same logits as lr_forward.
 *  - lr_forward_adapted: lr_forward with an adapter hook (the LoRA branch
 *    added to each projection's output) and a sink for each layer's input;
 *    the training step (train.h) runs this and nothing else.
 *
 * Layouts (row-major): activations [B, T, X] with X = hidden_size (D),
 * n_heads*head_dim (QD), n_kv_heads*head_dim (KVD) or intermediate_size (I);
 * attention scores/probs [B, n_heads, T, T].  docs/tensors.md names them.
 * Depends on: attention (lr_attn_shape), model, common. */
#ifndef LLAMAREF_FORWARD_H
#define LLAMAREF_FORWARD_H

#include "llamaref/model/attention.h"
#include "llamaref/core/common.h"
#include "llamaref/model/model.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The seven projections of a layer, in the order they run (and in LoRA's
 * target order, lora.h). */
enum {
    LR_PROJ_Q, LR_PROJ_K, LR_PROJ_V, LR_PROJ_O,
    LR_PROJ_GATE, LR_PROJ_UP, LR_PROJ_DOWN,
    LR_NPROJ
};

/* An adapter hook: right after y = x W^T of projection proj of layer l,
 * add(ctx, l, proj, y, x, n) may add its branch to y (n rows; x [n, in],
 * y [n, out]).  A NULL hook adds nothing (the plain model). */
typedef struct lr_adapter {
    void (*add)(void *ctx, int layer, int proj, lr_float *y, const lr_float *x,
                int n);
    void *ctx;
} lr_adapter;

/* Intermediates of one layer for B*T rows (NULL where not kept). */
typedef struct lr_layer_acts {
    lr_float *attn_norm;   /* [BT, D]  rmsnorm_in(x) */
    lr_float *attn_rstd;   /* [BT]     its 1/rms */
    lr_float *q, *k, *v;   /* [BT, QD], [BT, KVD], [BT, KVD] before RoPE */
    lr_float *q_rope;      /* [BT, QD] */
    lr_float *k_rope;      /* [BT, KVD] */
    lr_float *attn_scores; /* [B, H, T, T] scaled, -inf where masked */
    lr_float *attn_probs;  /* [B, H, T, T] softmax */
    lr_float *attn_out;    /* [BT, QD]  attention output (o_proj input) */
    lr_float *o_proj;      /* [BT, D] */
    lr_float *h;           /* [BT, D]  residual after attention */
    lr_float *mlp_norm;    /* [BT, D]  rmsnorm_post(h) */
    lr_float *mlp_rstd;    /* [BT] */
    lr_float *gate, *up;   /* [BT, I] */
    lr_float *act;         /* [BT, I]  silu(gate) * up (down_proj input) */
    lr_float *mlp_out;     /* [BT, D]  down_proj output */
    lr_float *out;         /* [BT, D]  h + mlp_out: the next layer's input */
} lr_layer_acts;

#define LR_ACTS_PER_LAYER 1 /* keep every layer's intermediates (else reuse) */
#define LR_ACTS_ATTN 2      /* keep attention scores and probs [B,H,T,T] */
#define LR_ACTS_PROBS 4     /* keep the attention probs [B,H,T,T] only */

typedef struct lr_acts {
    int B, T, flags, n_layers;
    int D, QD, KVD, I, V, H, KV, head_dim;
    lr_float *embed;          /* [BT, D] */
    lr_layer_acts *layers;    /* n_layers entries (all alike w/o PER_LAYER) */
    lr_float *final_norm;     /* [BT, D] */
    lr_float *final_rstd;     /* [BT] */
    lr_float *logits;         /* [BT, V] */
    lr_float *rope_cos, *rope_sin; /* [BT, head_dim/2] */
    lr_float *attn_scratch;   /* [H, T] (when scores are not kept) */
    double *inv_freq;         /* [head_dim/2] */
    void *mem;                /* the single allocation */
} lr_acts;

/* Carves every buffer of a batch of B sequences of T tokens out of one
 * allocation.  flags: LR_ACTS_PER_LAYER | LR_ACTS_ATTN | LR_ACTS_PROBS. */
/* Fails (err) on B or T < 1, a size that does not fit in memory, or out
 * of memory.  lr_acts_free releases the allocation and zeroes *a (a not
 * NULL; a zeroed a is fine). */
int lr_acts_alloc(lr_acts *a, const lr_config *cfg, int B, int T, int flags,
                  lr_error *err);
void lr_acts_free(lr_acts *a);
/* lr_floats the buffers of lr_acts_alloc(cfg, B, T, flags) take (the same
 * layout, counted; for memory estimates). */
double lr_acts_floats(const lr_config *cfg, int B, int T, int flags);

/* Full forward over tokens [B, T] (B, T at most the lr_acts capacity).
 * positions [B, T]: NULL means 0 .. T-1 in every row.  mask [B, T]: 1 for a
 * real token, 0 for padding (a key no query may see); NULL means all ones.
 * Fills a->logits [B, T, V] and the kept intermediates.  Fails on a token id
 * outside the vocabulary or a negative position. */
int lr_forward(const lr_model *m, lr_acts *a, const int *tokens,
               const int *positions, const unsigned char *mask, int B, int T,
               lr_error *err);

/* lr_forward with an adapter hook ad (NULL: none) and, when layer_in is
 * not NULL, a copy of every layer's input kept in layer_in
 * [n_layers + 1, B*T, D] (the embedding, each layer's out; for recomputing
 * a layer in the backward when a's layer buffers are shared). */
int lr_forward_adapted(const lr_model *m, lr_acts *a, const int *tokens,
                       const int *positions, const unsigned char *mask, int B,
                       int T, const lr_adapter *ad, lr_float *layer_in,
                       lr_error *err);

/* HF generate's positions for a padded batch: cumsum(mask) - 1 per row,
 * padding positions set to 1.  pos, mask [B, T]. */
void lr_positions_from_mask(int *pos, const unsigned char *mask, int B, int T);

/* One layer over B sequences of T rows; x [BT, D] is read, la->out written
 * (x may be the previous layer's out even when it is la->out).  rope_cos/sin
 * [BT, hd/2].  Without a cache (kc == NULL) keys are the call's own rows and
 * mask [B, T] applies.  With a cache (B must be 1) the new k/v rows are
 * stored at rows q_off .. q_off+T-1 of kc/vc [*, KVD] and queries attend to
 * rows 0 .. q_off+T-1.  scratch: n_heads * (q_off + T) values when
 * la->attn_scores is NULL.  ad: adapter hook or NULL.  Exposed for
 * per-layer recomputation in the training backward. */
void lr_layer_forward(const lr_model *m, int layer, lr_layer_acts *la,
                      const lr_float *x, const lr_float *rope_cos,
                      const lr_float *rope_sin, const unsigned char *mask,
                      int B, int T, lr_float *kc, lr_float *vc, int q_off,
                      lr_float *scratch, const lr_adapter *ad);

/* ---- incremental decoding with a KV cache (one sequence) ---- */

typedef struct lr_decoder {
    const lr_model *model;
    int max_len;     /* cache capacity in tokens */
    int chunk;       /* tokens processed per lr_forward-like step */
    int len;         /* tokens in the cache */
    int pos0;        /* position of cache row 0 */
    lr_float *k, *v; /* [n_layers, max_len, KVD] */
    lr_acts acts;    /* B = 1, T = chunk, shared layer buffers */
    lr_float *logits;/* [V]: logits after the last token fed */
    lr_float *scratch; /* [n_heads, max_len] attention rows */
} lr_decoder;

/* A decoder for model m (kept: m must outlive d) with a cache of max_len
 * tokens, fed `chunk` tokens per pass (chunk > max_len is reduced to
 * max_len); the cache starts empty at position 0.  Fails (err) on
 * max_len or chunk < 1, a cache size that overflows, or out of memory (d
 * then needs no freeing).  lr_decoder_free releases the cache and buffers
 * and zeroes *d (d not NULL). */
int lr_decoder_init(lr_decoder *d, const lr_model *m, int max_len, int chunk,
                    lr_error *err);
void lr_decoder_free(lr_decoder *d);
/* Empties the cache; the next token fed gets position pos0. */
void lr_decoder_reset(lr_decoder *d, int pos0);
/* Feeds n tokens (in chunks of d->chunk); d->logits then holds the logits
 * of the last one.  all_logits [n, V], if not NULL, receives every row.
 * Fails when the cache is full or a token is out of range. */
int lr_decoder_feed(lr_decoder *d, const int *tokens, int n,
                    lr_float *all_logits, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
