/* train_options.c - the options of a training run: defaults, the option
 * table with each option's help, the checks of option combinations and
 * the text a checkpoint records (train_options.h).
 * Depends on: train_options.h, common.h (lr_error); libc (snprintf,
 * strtod). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/common.h"
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

/* help: --help's text of the option, as cli_parse_doc reads it (cli.h):
 * from '-' on the whole line; else the default on the option's shared
 * line; "" documented on another option's line. */
#define F(x) offsetof(lr_train_options, x)
static const lr_train_opt train_opts[] = {
    {"--model", "model", LR_OPT_STR, F(model), 0, 0, 0, 0, NULL},
    {"--data", "data", LR_OPT_STR, F(data), 0, 0, 0, 1,
     "--data PATH               the data set\n"
     "                            JSONL training examples (formats:\n"
     "                            docs/training.md; the world's qa.jsonl\n"
     "                            trains on each first alias)"},
    {"--out", "out", LR_OPT_STR, F(out), 0, 0, 0, 0,
     "--out DIR                 the adapter, checkpoints and metrics (DIR and\n"
     "                            its parents are created before any work)"},
    {"--tokenizer", "tokenizer", LR_OPT_STR, F(tokenizer), 0, 0, 0, 0, NULL},
    {"--targets", "targets", LR_OPT_STR, F(targets), 0, 0, 0, 1,
     "--targets LIST            LoRA modules (default gate_proj,up_proj,down_proj;\n"
     "                            'all')"},
    {"--layers", "layers", LR_OPT_STR, F(layers), 0, 0, 0, 1,
     "--layers LIST             layers_to_transform, e.g. 0,1 (default: all)"},
    {"--resume", "resume", LR_OPT_STR, F(resume), 0, 0, 0, 0,
     "--resume PATH             continue from a checkpoint-<step> directory, or from\n"
     "                            the latest complete checkpoint of a run DIR\n"
     "                            (bit-identical); the options the checkpoint records\n"
     "                            are reused, and one given that contradicts it is an\n"
     "                            error; metrics.jsonl continues after its step"},
    {"--schedule", "schedule", LR_OPT_STR, F(schedule), 0, 0, 0, 1,
     "--schedule S              constant, linear (default) or cosine (HF:\n"
     "                            --lr-scheduler-type)"},
    {"--loss-on", "loss_on", LR_OPT_STR, F(loss_on), 0, 0, 0, 1,
     "--loss-on L               all (default) or completion"},
    {"--init", "init", LR_OPT_STR, F(init), 0, 0, 0, 0,
     "--init CONFIG.json        with --full and instead of --model: pretrain from\n"
     "                            HF-style random weights (N(0, 0.02), norms 1; --seed)\n"
     "                            for this config; needs --tokenizer"},
    {"--eval-data", "eval_data", LR_OPT_STR, F(eval_data), 0, 0, 0, 0,
     "--eval-data FILE          held-out examples: their mean loss is printed and\n"
     "                            written to metrics.jsonl (\"eval_loss\") every"},
    {"--r", "r", LR_OPT_INT, F(r), 1, 1 << 30, 0, 1,
     "--r N                     LoRA rank (default 1; HF: --lora-r)"},
    {"--epochs", "epochs", LR_OPT_INT, F(epochs), 1, 1 << 30, 0, 1,
     "--epochs N                (default 10; HF: --num-train-epochs)"},
    {"--batch", "batch", LR_OPT_INT, F(batch), 1, 1 << 30, 0, 1,
     "--batch N                 examples per micro-batch (default 8; HF:\n"
     "                            --per-device-train-batch-size)"},
    {"--grad-accum", "grad_accum", LR_OPT_INT, F(accum), 1, 1 << 30, 0, 1,
     "--grad-accum N            micro-batches per step (default 1; HF:\n"
     "                            --gradient-accumulation-steps)"},
    {"--warmup", "warmup", LR_OPT_INT, F(warmup), 0, 1 << 30, 0, 1,
     "--warmup N                warmup steps (default 0; HF: --warmup-steps)"},
    {"--save-every", "save_every", LR_OPT_INT, F(save_every), 0, 1 << 30, 0, 0,
     "--save-every N            checkpoint DIR/checkpoint-<step> every N steps"},
    {"--max-len", "max_len", LR_OPT_INT, F(max_len), 1, 1 << 30, 0, 1,
     "2048: the longest example in tokens"},
    {"--max-steps", "max_steps", LR_OPT_INT, F(max_steps), 0, 1 << 30, 0, 0,
     "--max-steps N             stop after N optimizer steps (the schedule still\n"
     "                            spans every epoch)"},
    {"--eval-every", "eval_every", LR_OPT_INT, F(eval_every), 1, 1 << 30, 0, 0,
     "--eval-every N            N steps (default: at the end only)"},
    {"--log-every", "log_every", LR_OPT_INT, F(log_every), 1, 1 << 30, 0, 0,
     "--log-every N             a progress line every N steps (default 1); on a\n"
     "                            terminal one line is rewritten in place"},
    {"--seed", "seed", LR_OPT_SEED, F(seed), 0, 0, 0, 1,
     "42"},
    {"--alpha", "alpha", LR_OPT_DBL, F(alpha), 0, 1e30, 1, 1,
     "--alpha A                 LoRA alpha, > 0 (default 2; HF: --lora-alpha)"},
    {"--dropout", "dropout", LR_OPT_DBL, F(dropout), 0, 1, 0, 1,
     "--dropout P               LoRA dropout, 0 <= P <= 1 (default 0.1; HF:\n"
     "                            --lora-dropout)"},
    {"--lr", "lr", LR_OPT_DBL, F(lr), 0, 1e30, 1, 1,
     "--lr LR                   learning rate, > 0 (default 1e-3; HF:\n"
     "                            --learning-rate)"},
    {"--weight-decay", "weight_decay", LR_OPT_DBL, F(wd), 0, 1e30, 0, 1,
     "--weight-decay W          AdamW weight decay, >= 0 (default 0)"},
    {"--max-grad-norm", "max_grad_norm", LR_OPT_DBL, F(max_norm), 0, 1e30, 0, 1,
     "--max-grad-norm X         gradient clipping, >= 0 (default 1.0; 0: off)"},
    {"--warmup-ratio", "warmup_ratio", LR_OPT_DBL, F(warmup_ratio), 0, 1, 0, 1,
     "--warmup-ratio X          warmup as a share of all steps, 0 <= X <= 1,\n"
     "                            rounded up as HF does"},
    {"--rslora", "rslora", LR_OPT_FLAG, F(rslora), 0, 0, 0, 1,
     "off (llamaref experiment: on, the paper's)"},
    {"--no-rslora", "rslora", LR_OPT_NOFLAG, F(rslora), 0, 0, 0, 0,
     ""},
    {"--truncate", "truncate", LR_OPT_FLAG, F(truncate), 0, 0, 0, 1,
     "--truncate                cut examples longer than --max-len (default:\n"
     "                            refused)"},
    {"--recompute", "recompute", LR_OPT_FLAG, F(recompute), 0, 0, 0, 0,
     "--recompute               recompute each layer in backward (memory independent\n"
     "                            of the number of layers; same results)"},
    {"--full", "full", LR_OPT_FLAG, F(full), 0, 0, 0, 0,
     "--full                    train every base weight instead of LoRA adapters\n"
     "                            (LoRA options ignored; weight decay skips the norms)"},
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

int lr_train_options_check(const lr_train_options *a, int resumed, lr_error *err)
{
    if (resumed) { /* the recorded options applied */
        if (!a->data)
            return lr_fail(err, "--data is required (the checkpoint does not "
                           "record it)");
        if (strcmp(a->loss_on, "all") && strcmp(a->loss_on, "completion"))
            return lr_fail(err, "--loss-on is 'all' or 'completion'");
        return 0;
    }
    if (a->init && (!a->full || !a->tokenizer || a->model))
        return lr_fail(err, "--init needs --full and --tokenizer, and replaces "
                       "--model");
    if (a->warmup && a->warmup_ratio > 0)
        return lr_fail(err, "--warmup and --warmup-ratio exclude each other");
    if (a->eval_every && !a->eval_data)
        return lr_fail(err, "--eval-every needs --eval-data");
    if ((!a->model && !a->init) || (!a->data && !a->resume) || !a->out)
        return lr_fail(err, "--model, --data and --out are required (see --help)");
    return 0;
}
