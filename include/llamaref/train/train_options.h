/* train_options.h - the options of a training run: the fields of
 * `llamaref train`, the paper's / HF Trainer defaults (written here once)
 * and the table that parses them and says which a checkpoint records.
 * Used by train_run.h (the run) and checkpoint.h (what a checkpoint
 * records and a resume checks), so neither depends on the other for them.
 * Depends on: common.h (lr_error). */
#ifndef LLAMAREF_TRAIN_OPTIONS_H
#define LLAMAREF_TRAIN_OPTIONS_H

#include <stddef.h>
#include "llamaref/core/common.h"

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
    const char *help; /* --help's text (cli_parse_doc's convention, cli.h) */
} lr_train_opt;

/* The option table; *n receives its length. */
const lr_train_opt *lr_train_opt_table(size_t *n);

/* The combinations of options a run refuses, with the message for
 * `llamaref train` (exit status 2).  resumed 0: before --resume applies
 * the recorded options (--init needs --full and --tokenizer instead of
 * --model; --warmup and --warmup-ratio exclude each other; --eval-every
 * needs --eval-data; --model, --data and --out are required, --data
 * unless resuming); resumed 1: after (--data is then required too;
 * --loss-on is all or completion).  Returns 0 or -1 (err). */
int lr_train_options_check(const lr_train_options *a, int resumed, lr_error *err);

/* The value of option o in a as the text a checkpoint records (a double:
 * the shortest text that reads back exactly). */
void lr_train_opt_text(const lr_train_options *a, const lr_train_opt *o,
                       char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
