/* trainer.h - the optimizer step of HF Trainer (transformers + torch)
 * for LoRA or full-parameter training: what `llamaref train` repeats
 * (docs/training.md).  One step t (0-based) of an epoch of nb
 * micro-batches, grad_accum of them per step (spe = ceil(nb / accum)
 * steps per epoch, total = spe * epochs):
 *
 *   epoch = t / spe; micro-batches mb = (t % spe) * accum ... + accum - 1
 *   (the last step of an epoch may have fewer); the examples of mb are
 *   perm[mb * batch ...], perm = lr_dataset_shuffle(seed, epoch);
 *   N = the counted (label != -100, shifted) tokens of all of them;
 *   grad = sum over mb of d(sum NLL_mb)/dθ / N   (HF: loss / N per token)
 *   gnorm = clip_grad_norm_(grad, max_norm)      (adamw.h)
 *   lr = schedule(t, total, warmup, peak lr); AdamW step.
 *
 * The summation order (the same in one process and in every MPI layout,
 * docs/training.md "Data-parallel training"): the unit of the gradient is
 * one example.  Example i (its place in the epoch's permutation) runs
 * alone (batch 1, its own length, no padding) and its gradient
 * u_i = d NLL_i/dθ / N is summed over its own rows into a zeroed buffer;
 * the step's gradient is the left fold ((0 + u_a) + u_a+1) + ... over the
 * step's examples in permutation order (micro-batches in order), and its
 * loss the same fold of the examples' NLL sums.  Nothing about an example
 * depends on which examples share its micro-batch or its rank, so a rank
 * holding examples [b0, b1) of every micro-batch (lr_par_shard) computes
 * the same units, and rank 0 folds them in that order (lr_par_fold).
 * LoRA runs neighbours of one length together (t->group at most;
 * lr_lora_forward_each): the frozen products over all their rows at
 * once, each example's unit still its own, so the same bits.
 * Full-parameter units on rank 0 are folded during the backward
 * (lr_full_backward_fold): per element the same additions in the same
 * order, without most of the unit in memory.
 *
 * LoRA dropout masks of example i of epoch e come from the stream
 * lr_stream_seed(seed, LR_STREAM_DROPOUT, e, i), then (layer, target)
 * (docs/rng.md), over the example's own rows only; so resuming at any
 * step, or sharding the batch, reproduces the same bits. */
#ifndef LLAMAREF_TRAINER_H
#define LLAMAREF_TRAINER_H

#include "llamaref/train/adamw.h"
#include "llamaref/train/dataset.h"
#include "llamaref/train/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_trainer_opts {
    long batch;          /* examples per micro-batch */
    long accum;          /* micro-batches per optimizer step */
    long epochs;
    double lr;           /* peak learning rate */
    lr_sched sched;
    long warmup;         /* warmup steps */
    double max_norm;     /* gradient clipping; 0: none */
    uint64_t seed;       /* shuffling and dropout */
    int recompute;       /* per-layer recomputation in backward (train.h) */
} lr_trainer_opts;

typedef struct lr_trainer {
    lr_trainer_opts o;
    lr_model *m;
    lr_lora *lo;         /* LoRA training, or NULL */
    lr_full *full;       /* full-parameter training, or NULL */
    const lr_dataset *ds;
    lr_adamw *opt;
    lr_float *params, *grad;
    size_t n_params;
    long nb, spe, total; /* micro-batches per epoch, steps per epoch, steps */
    lr_train_ws ws;
    size_t *perm;
    long perm_epoch;     /* the epoch perm belongs to; -1: none yet */
    double *nll;         /* the NLL sum of each example of a micro-batch */
    lr_float *unit;      /* example gradient(s) (trainer.c) */
    int group;           /* LoRA: examples of one length per forward */
    int *g_ids, *g_labels;  /* a group's tokens and labels [group, max_len] */
    uint64_t *g_seeds;   /* its dropout seeds */
    long *g_counted;     /* its counted tokens */
} lr_trainer;

/* What one step did. */
typedef struct lr_step_stats {
    long epoch;
    double loss;         /* sum NLL / counted tokens of the step */
    double lr;           /* the learning rate applied */
    double grad_norm;    /* before clipping */
    long tokens;         /* B * T summed over the step's micro-batches, T
                            the longest example of each (HF's padded batch;
                            the trainer itself computes no padding) */
} lr_step_stats;

/* Exactly one of lo and full is non-NULL; opt is initialised for their
 * parameters (lr_adamw_init; with full, its decay_mask set).  The model,
 * adapters, dataset and optimizer stay the caller's and must outlive t. */
int lr_trainer_init(lr_trainer *t, lr_model *m, lr_lora *lo, lr_full *full,
                    const lr_dataset *ds, lr_adamw *opt,
                    const lr_trainer_opts *o, lr_error *err);
/* Frees what lr_trainer_init allocated (workspace, shuffle order, batch
 * buffers, gradient), not the model, adapters, dataset or optimizer
 * (NULL-safe). */
void lr_trainer_free(lr_trainer *t);

/* Optimizer step `step` (0 <= step < t->total).  A NaN loss or gradient
 * is an error naming the step (the parameters are then left as they
 * were before the step). */
int lr_trainer_step(lr_trainer *t, long step, lr_step_stats *st,
                    lr_error *err);

/* The dropout stream's seed of example pos of epoch `epoch`. */
uint64_t lr_trainer_dropout_seed(uint64_t seed, long epoch, size_t pos);

/* acc[j] += unit[j], j ascending: the one addition of the fold. */
void lr_trainer_fold(lr_float *acc, const lr_float *unit, size_t n);

#ifdef __cplusplus
}
#endif

#endif
