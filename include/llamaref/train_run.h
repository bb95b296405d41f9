/* train_run.h - a whole training run as one library call: the options of
 * `llamaref train` with the paper's / HF Trainer defaults (written here
 * once), the run loop over lr_trainer (trainer.h) with periodic
 * checkpoints (checkpoint.h), held-out evaluation and metrics.jsonl.
 * `llamaref train` and `llamaref experiment` both call lr_train_run.
 * Depends on: trainer.h, checkpoint.h, dataset.h, lora.h, full.h.
 * docs/training.md describes the options and the files written. */
#ifndef LLAMAREF_TRAIN_RUN_H
#define LLAMAREF_TRAIN_RUN_H

#include <stddef.h>
#include "llamaref/trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The options of a training run (names as in `llamaref train --help`). */
typedef struct lr_train_options {
    const char *model, *data, *out, *tokenizer, *targets, *layers, *resume;
    const char *init, *eval_data;
    const char *schedule, *loss_on;
    long r, epochs, batch, accum, warmup, save_every, max_len, max_steps;
    long eval_every, log_every;
    double alpha, dropout, lr, wd, max_norm, warmup_ratio;
    long seed;
    int rslora, truncate, recompute, full;
    char resume_buf[4200]; /* the checkpoint resume resolved to */
} lr_train_options;

/* The defaults (HF Trainer / PEFT's, docs/training.md): targets
 * gate_proj,up_proj,down_proj, schedule linear, loss on all tokens, r 1,
 * alpha 2, dropout 0.1, lr 1e-3, 10 epochs, batch 8, accum 1, max grad
 * norm 1.0, seed 42, max_len 2048, a log line every step. */
void lr_train_options_default(lr_train_options *o);

/* How each option is parsed and whether a checkpoint records it (a
 * resume reuses the recorded value; one given again must agree).  name:
 * the command-line option; key: the metadata key in
 * optimizer.safetensors; off: the field in lr_train_options. */
enum { LR_OPT_STR, LR_OPT_INT, LR_OPT_DBL, LR_OPT_FLAG, LR_OPT_NOFLAG,
       LR_OPT_SEED };
typedef struct lr_train_opt {
    const char *name, *key;
    int type;
    size_t off;
    double lo, hi;   /* LR_OPT_INT, LR_OPT_DBL: range */
    int lo_open;     /* LR_OPT_DBL: lo excluded */
    int record;
} lr_train_opt;

/* The option table; *n receives its length. */
const lr_train_opt *lr_train_opt_table(size_t *n);

/* The value of option o in a as the text a checkpoint records (a double:
 * the shortest text that reads back exactly). */
void lr_train_opt_text(const lr_train_options *a, const lr_train_opt *o,
                       char *buf, size_t cap);

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
