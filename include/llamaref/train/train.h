/* train.h - one training step's forward and backward over a padded
 * batch: the forward is lr_forward_adapted (forward.h) with the LoRA
 * adapters hooked in, then the HF causal-LM loss; the hand-written backward
 * runs the forward's steps in reverse, to every LoRA A and B (base weights
 * frozen; lr_lora_backward) or, for full-parameter training, to every base
 * weight (lr_full_forward, lr_full_backward).
 *
 * Memory: by default every layer's intermediates are kept (lr_acts with
 * LR_ACTS_PER_LAYER).  With recompute only each layer's input [B*T, D] is
 * kept and the layer is recomputed just before its backward, so activation
 * memory no longer grows with the number of layers (gradient
 * checkpointing); the results are bit-identical either way.  Attention
 * probabilities are never stored (attention backward recomputes them).
 * Depends on: forward, lora, full. */
#ifndef LLAMAREF_TRAIN_H
#define LLAMAREF_TRAIN_H

#include "llamaref/model/forward.h"
#include "llamaref/train/full.h"
#include "llamaref/train/lora.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_train_ws {
    int B, T, recompute;
    lr_acts acts;        /* logits [B*T, V] (dlogits in place after backward) */
    lr_float *layer_in;  /* recompute: [n_layers + 1, BT, D] layer inputs */
    lr_float *xa;        /* LoRA x A^T: [n_layers or 1][7][BT * r] */
    lr_float *dres, *dh, *dn;          /* [BT, D] */
    lr_float *dao, *dq;                /* [BT, QD] */
    lr_float *dk, *dv;                 /* [BT, KVD] */
    lr_float *dact, *dgate, *dup;      /* [BT, I] */
    lr_float *dxa;                     /* [BT, r] */
    unsigned char *keep;               /* LoRA dropout masks, bits:
                                          [n_layers or 1][7][B][T max in / 8]
                                          (whole bytes per sequence) */
    lr_float *xd;                      /* [BT, max in] dropout scratch */
    lr_float *attn_scratch;            /* 2 * KV * T */
    double *lse;                       /* [BT] the forward's loss
                                          log-sum-exp of each row, for the
                                          backward's dlogits */
    void *mem;
    /* set by the forward for the backward */
    int cur_B, cur_T;
    const lr_lora *lo;                 /* the adapters, or NULL */
    lr_adapter hook;                   /* lo's adapter hook (forward.h) */
    const int *tokens, *labels;
    const unsigned char *mask;
    double dropout;
    uint64_t dropout_seed;
    const uint64_t *seeds;             /* lr_lora_forward_each's [B] seeds,
                                          else NULL */
    /* Optional (NULL: off), set after lr_train_ws_alloc: called during the
     * backward with each activation gradient as it is computed, named as
     * in docs/tensors.md ("dlogits", "dfinal_norm", "dlayers.N.out", ...,
     * "dembed"), data [rows = B*T, cols]; a non-zero return stops the
     * backward with an error.  For locating a backward divergence. */
    int (*grad_tap)(void *ctx, const char *name, const lr_float *x, int rows,
                    int cols);
    void *grad_tap_ctx;
} lr_train_ws;

/* The workspace of micro-batches of up to B sequences of T tokens for
 * model m and adapters lo (NULL for full-parameter training; its rank
 * sizes the LoRA buffers), in one allocation; recompute 1 keeps only
 * each layer's input (see above).  Fails (err) on an empty batch or when
 * the workspace does not fit in memory.  lr_train_ws_free releases it and
 * zeroes *ws (ws not NULL; a zeroed ws is fine). */
int lr_train_ws_alloc(lr_train_ws *ws, const lr_model *m, const lr_lora *lo,
                      int B, int T, int recompute, lr_error *err);
void lr_train_ws_free(lr_train_ws *ws);

/* Bytes lr_train_ws_alloc would take (for memory estimates). */
double lr_train_ws_bytes(const lr_config *c, int r, int B, int T,
                         int recompute);

/* lo may be NULL (no adapters; full-parameter training) in
 * lr_train_ws_alloc and lr_lora_forward.
 * Forward of a micro-batch tokens/labels/mask [B, T] (mask NULL: all ones;
 * positions 0 .. T-1) with the adapters; dropout p on the LoRA inputs with
 * masks from dropout_seed (docs/rng.md; p = 0: none).  Fills ws->acts.logits
 * and returns the summed NLL and counted tokens of the HF shifted loss.
 * tokens, labels and mask must stay valid until the backward. */
int lr_lora_forward(lr_train_ws *ws, const lr_model *m, const lr_lora *lo,
                    const int *tokens, const int *labels,
                    const unsigned char *mask, int B, int T, double dropout,
                    uint64_t dropout_seed, double *nll_sum, long *n_counted,
                    lr_error *err);

/* The forward of B sequences of T tokens (no padding) as B separate
 * examples, for lr_lora_backward_each: bit for bit what lr_lora_forward
 * gives each sequence b alone (B = 1, mask NULL, dropout_seed seeds[b]),
 * its loss into nll[b] and n_counted[b]; the frozen weights' products run
 * once over all B T rows (matmul's rows are independent), which is faster
 * than B calls.  tokens, labels and seeds must stay valid until the
 * backward. */
int lr_lora_forward_each(lr_train_ws *ws, const lr_model *m,
                         const lr_lora *lo, const int *tokens,
                         const int *labels, int B, int T, double dropout,
                         const uint64_t *seeds, double *nll, long *n_counted,
                         lr_error *err);

/* The forward of full-parameter training: lr_lora_forward without
 * adapters (and so without dropout). */
int lr_full_forward(lr_train_ws *ws, const lr_model *m, const int *tokens,
                    const int *labels, const unsigned char *mask, int B, int T,
                    double *nll_sum, long *n_counted, lr_error *err);

/* Backward of the last forward: grad [lo->n_params] += d(grad_scale *
 * sum NLL)/d params (HF mean: grad_scale = 1 / counted tokens of the whole
 * accumulated batch).  Overwrites ws->acts.logits with dlogits. */
int lr_lora_backward(lr_train_ws *ws, const lr_model *m, const lr_lora *lo,
                     lr_float *grad, double grad_scale, lr_error *err);

/* Backward of the last lr_lora_forward_each: sequence b's gradient added
 * into grad + b * stride (stride >= lo->n_params), bit for bit what
 * lr_lora_backward adds for that sequence alone; the sum over the
 * sequences is the caller's (trainer.c folds them in order).  Each
 * backward fails on the other forward's workspace.  Overwrites
 * ws->acts.logits with dlogits. */
int lr_lora_backward_each(lr_train_ws *ws, const lr_model *m,
                          const lr_lora *lo, lr_float *grad, size_t stride,
                          double grad_scale, lr_error *err);

/* Full-parameter backward of the last lr_full_forward:
 * grad [f->n_params] (layout of f, full.h) += d(grad_scale * sum NLL)/d w
 * for every base weight: embed_tokens (scatter-add of the input rows'
 * gradients, plus the lm_head gradient when tied), every RMSNorm weight,
 * the seven projections of each layer, final norm and lm_head.  Works with
 * recompute.  Overwrites ws->acts.logits with dlogits. */
int lr_full_backward(lr_train_ws *ws, const lr_model *m, const lr_full *f,
                     lr_float *grad, double grad_scale, lr_error *err);

/* The trainer's unit folded into its sum: the bits of zeroing unit,
 * lr_full_backward(ws, m, f, unit, grad_scale) and acc[j] += unit[j] for
 * every j, without the projections' part of unit: each projection's
 * gradient (all but a tied lm_head's) goes from a per-thread scratch
 * straight into acc (lr_matmul_backward_weight_fold).  Only the ranges of
 * embed_tokens and the RMSNorm weights in unit [f->n_params] are used
 * (zeroed here, added to acc at the end; the rest of unit is untouched). */
int lr_full_backward_fold(lr_train_ws *ws, const lr_model *m,
                          const lr_full *f, lr_float *unit, lr_float *acc,
                          double grad_scale, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
