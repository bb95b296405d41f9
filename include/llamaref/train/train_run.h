/* train_run.h - a whole training run as one library call: given the
 * options of train_options.h, the run loop over lr_trainer (trainer.h) with periodic
 * checkpoints (checkpoint.h), held-out evaluation and metrics.jsonl.
 * `llamaref train` and `llamaref experiment` both call lr_train_run.
 * Depends on: train_options.h (the options and their defaults), trainer.h,
 * checkpoint.h, dataset.h, lora.h, full.h.
 * docs/training.md describes the options and the files written. */
#ifndef LLAMAREF_TRAIN_RUN_H
#define LLAMAREF_TRAIN_RUN_H

#include <stddef.h>
#include "llamaref/train/train_options.h"
#include "llamaref/train/trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a run reports as it goes (each callback may be NULL). */
typedef struct lr_train_start {
    size_t n_examples, n_params;
    long nb, total;        /* micro-batches per epoch, optimizer steps */
    int full, r;           /* full-parameter training; LoRA rank */
    double scale;          /* LoRA scale */
    int resumed;
} lr_train_start;

typedef struct lr_train_progress {
    long step, total, done_steps;  /* step: 1-based, just finished */
    double loss, lr, elapsed, tok_total;
    int last, do_eval, do_log;     /* do_log: log_every (or last / eval) */
    double eval_loss;              /* when do_eval */
} lr_train_progress;

typedef struct lr_train_hooks {
    void (*start)(void *ctx, const lr_train_start *s);
    void (*step)(void *ctx, const lr_train_progress *p);
    double (*clock)(void);         /* seconds; NULL: elapsed stays 0 */
    void *ctx;
} lr_train_hooks;

typedef struct lr_train_result {
    long step, total;
    double last_loss, eval_loss;   /* NAN when none */
} lr_train_result;

/* The run o describes (o->resume already resolved and its recorded options
 * applied: checkpoint.h); writes o->out (which must exist):
 * metrics.jsonl, optimizer.safetensors and the adapter or, with full, the
 * model; checkpoint-<step> every save_every steps. */
int lr_train_run(const lr_train_options *o, const lr_train_hooks *h,
                 lr_train_result *res, lr_error *err);

/* Mean loss per counted token over the examples of ev (one at a time, no
 * dropout), with the adapters lo (NULL: the model's own weights). */
int lr_train_eval_loss(const lr_model *m, const lr_lora *lo,
                       const lr_dataset *ev, double *loss, lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
