/* train_options.c - the options of a training run: defaults, the option
 * table and the text a checkpoint records (train_options.h).
 * Depends on: train_options.h; libc (snprintf, strtod). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/train/train_options.h"

void lr_train_options_default(lr_train_options *a)
{
    memset(a, 0, sizeof *a);
    a->targets = "gate_proj,up_proj,down_proj";
    a->schedule = "linear"; a->loss_on = "all";
    a->r = 1; a->alpha = 2; a->dropout = 0.1; a->lr = 1e-3; a->epochs = 10;
    a->batch = 8; a->accum = 1; a->max_norm = 1.0; a->seed = 42; a->max_len = 2048;
    a->log_every = 1;
}

#define F(x) offsetof(lr_train_options, x)
static const lr_train_opt train_opts[] = {
    {"--model", "model", LR_OPT_STR, F(model), 0, 0, 0, 0},
    {"--data", "data", LR_OPT_STR, F(data), 0, 0, 0, 1},
    {"--out", "out", LR_OPT_STR, F(out), 0, 0, 0, 0},
    {"--tokenizer", "tokenizer", LR_OPT_STR, F(tokenizer), 0, 0, 0, 0},
    {"--targets", "targets", LR_OPT_STR, F(targets), 0, 0, 0, 1},
    {"--layers", "layers", LR_OPT_STR, F(layers), 0, 0, 0, 1},
    {"--resume", "resume", LR_OPT_STR, F(resume), 0, 0, 0, 0},
    {"--schedule", "schedule", LR_OPT_STR, F(schedule), 0, 0, 0, 1},
    {"--loss-on", "loss_on", LR_OPT_STR, F(loss_on), 0, 0, 0, 1},
    {"--init", "init", LR_OPT_STR, F(init), 0, 0, 0, 0},
    {"--eval-data", "eval_data", LR_OPT_STR, F(eval_data), 0, 0, 0, 0},
    {"--r", "r", LR_OPT_INT, F(r), 1, 1 << 30, 0, 1},
    {"--epochs", "epochs", LR_OPT_INT, F(epochs), 1, 1 << 30, 0, 1},
    {"--batch", "batch", LR_OPT_INT, F(batch), 1, 1 << 30, 0, 1},
    {"--grad-accum", "grad_accum", LR_OPT_INT, F(accum), 1, 1 << 30, 0, 1},
    {"--warmup", "warmup", LR_OPT_INT, F(warmup), 0, 1 << 30, 0, 1},
    {"--save-every", "save_every", LR_OPT_INT, F(save_every), 0, 1 << 30, 0, 0},
    {"--max-len", "max_len", LR_OPT_INT, F(max_len), 1, 1 << 30, 0, 1},
    {"--max-steps", "max_steps", LR_OPT_INT, F(max_steps), 0, 1 << 30, 0, 0},
    {"--eval-every", "eval_every", LR_OPT_INT, F(eval_every), 1, 1 << 30, 0, 0},
    {"--log-every", "log_every", LR_OPT_INT, F(log_every), 1, 1 << 30, 0, 0},
    {"--seed", "seed", LR_OPT_SEED, F(seed), 0, 0, 0, 1},
    {"--alpha", "alpha", LR_OPT_DBL, F(alpha), 0, 1e30, 1, 1},
    {"--dropout", "dropout", LR_OPT_DBL, F(dropout), 0, 1, 0, 1},
    {"--lr", "lr", LR_OPT_DBL, F(lr), 0, 1e30, 1, 1},
    {"--weight-decay", "weight_decay", LR_OPT_DBL, F(wd), 0, 1e30, 0, 1},
    {"--max-grad-norm", "max_grad_norm", LR_OPT_DBL, F(max_norm), 0, 1e30, 0, 1},
    {"--warmup-ratio", "warmup_ratio", LR_OPT_DBL, F(warmup_ratio), 0, 1, 0, 1},
    {"--rslora", "rslora", LR_OPT_FLAG, F(rslora), 0, 0, 0, 1},
    {"--no-rslora", "rslora", LR_OPT_NOFLAG, F(rslora), 0, 0, 0, 0},
    {"--truncate", "truncate", LR_OPT_FLAG, F(truncate), 0, 0, 0, 1},
    {"--recompute", "recompute", LR_OPT_FLAG, F(recompute), 0, 0, 0, 0},
    {"--full", "full", LR_OPT_FLAG, F(full), 0, 0, 0, 0},
};
#undef F
#define N_TRAIN_OPTS (sizeof train_opts / sizeof train_opts[0])

const lr_train_opt *lr_train_opt_table(size_t *n)
{
    *n = N_TRAIN_OPTS;
    return train_opts;
}

/* The value of option o in a as the text a checkpoint records. */
void lr_train_opt_text(const lr_train_options *a, const lr_train_opt *o,
                       char *buf, size_t cap)
{
    const char *base = (const char *)a;
    switch (o->type) {
    case LR_OPT_STR: {
        const char *v = *(const char *const *)(const void *)(base + o->off);
        snprintf(buf, cap, "%s", v ? v : "");
        break;
    }
    case LR_OPT_INT: case LR_OPT_SEED:
        snprintf(buf, cap, "%ld", *(const long *)(const void *)(base + o->off));
        break;
    case LR_OPT_DBL: { /* the shortest text that reads back exactly */
        double v = *(const double *)(const void *)(base + o->off);
        int prec;
        for (prec = 15; prec < 17; prec++) {
            snprintf(buf, cap, "%.*g", prec, v);
            if (strtod(buf, NULL) == v) break;
        }
        snprintf(buf, cap, "%.*g", prec, v);
        break;
    }
    default:
        snprintf(buf, cap, "%d", *(const int *)(const void *)(base + o->off));
    }
}
