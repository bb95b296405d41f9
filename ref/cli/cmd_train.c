/* cmd_train.c - `llamaref train` (LoRA fine-tuning with PEFT + torch
 * semantics, or full-parameter training with --full), `llamaref merge` (adapter folded into a HF checkpoint) and
 * the gradient part of `llamaref dump --labels [--adapter]`.
 * docs/training.md describes options, checkpoint layout and RNG streams. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* opendir, rmdir */
#endif
/* 64-bit directory offsets on 32-bit hosts: without it readdir fails
 * (EOVERFLOW) on file systems whose offsets do not fit 32 bits */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h> /* rmdir */

#include "cli.h"
#include "llamaref/adamw.h"
#include "llamaref/adapter.h"
#include "llamaref/dataset.h"
#include "llamaref/full.h"
#include "llamaref/loss.h"
#include "llamaref/safetensors.h"
#include "llamaref/train.h"
#include "llamaref/trainer.h"

static int make_dir(const char *path)
{
    if (lr_path_is_dir(path)) return 0;
    return mkdir(path, 0777);
}

/* Removes directory path and the files in it (one level: a checkpoint
 * directory holds files only).  Used on this command's own staging
 * directories, never on a user's path. */
static int remove_dir(const char *path, lr_error *err)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int rc = 0;
    if (!d) return lr_fail(err, "cannot open directory %s: %s", path, strerror(errno));
    for (;;) {
        char *f;
        errno = 0;
        if ((e = readdir(d)) == NULL) {
            if (errno != 0)
                rc = lr_fail(err, "cannot read directory %s: %s", path, strerror(errno));
            break;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!(f = lr_path_join(path, e->d_name, err))) { rc = -1; break; }
        if (remove(f) != 0) rc = lr_fail(err, "cannot remove %s: %s", f, strerror(errno));
        free(f);
        if (rc) break;
    }
    closedir(d);
    if (rc) return -1;
    return rmdir(path) == 0 ? 0 : lr_fail(err, "cannot remove directory %s: %s", path,
                                          strerror(errno));
}

/* FNV-1a 64 over the parameters as IEEE binary64 little-endian bytes
 * (a float widens exactly, so the digest does not depend on the host's
 * byte order): optimizer.safetensors records it ("params_digest") so that
 * a full-training resume can tell that the model.safetensors next to it
 * belongs to the same step. */
static void params_digest(const lr_float *p, size_t n, char hex[17])
{
    uint64_t h = UINT64_C(0xcbf29ce484222325), bits;
    size_t i;
    int b;
    for (i = 0; i < n; i++) {
        double x = (double)p[i];
        memcpy(&bits, &x, sizeof bits);
        for (b = 0; b < 8; b++) {
            h ^= (bits >> (8 * b)) & 0xffu;
            h *= UINT64_C(0x100000001b3);
        }
    }
    for (b = 0; b < 16; b++) hex[b] = "0123456789abcdef"[(h >> (60 - 4 * b)) & 15u];
    hex[16] = 0;
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref train -m, --model PATH --data FILE.jsonl --out DIR [options]\n");
    cli_help(f, "--model", NULL);
    cli_help(f, "--tokenizer", NULL);
    cli_help(f, "--data", NULL);
    fprintf(f, "                            JSONL training examples (formats:\n"
               "                            docs/training.md; the world's qa.jsonl\n"
               "                            trains on each first alias)\n");
    cli_help(f, "--rslora", "off (llamaref experiment: on, the paper's)");
    cli_help(f, "--seed", "42");
    fprintf(f,
"  --targets LIST       LoRA modules (default gate_proj,up_proj,down_proj; 'all')\n"
"  --layers LIST        layers_to_transform, e.g. 0,1 (default: all)\n"
"  --r N (1)  --alpha A (2)  --dropout P (0.1)\n"
"                       (HF: --lora-r, --lora-alpha, --lora-dropout, --use-rslora)\n"
"  --lr LR (1e-3; > 0)  (HF: --learning-rate)\n"
"  --schedule constant|linear|cosine (linear)\n"
"  --warmup N (0) | --warmup-ratio X (of all steps, rounded up as HF does)\n"
"  --epochs N (10)  --batch N (8)  --grad-accum N (1)  --weight-decay W (0)\n"
"                       (HF: --num-train-epochs, --per-device-train-batch-size,\n"
"                       --gradient-accumulation-steps, --warmup-steps)\n"
"  --max-grad-norm X (1.0; 0 = no clipping)\n"
"  --loss-on all|completion (all)  --truncate\n"
"  -c, --max-len N      longest example in tokens (default 2048)\n"
"  --recompute          recompute each layer in backward (memory independent\n"
"                       of the number of layers; same results)\n"
"  --eval-data FILE     held-out examples: their mean loss is printed and\n"
"                       written to metrics.jsonl (\"eval_loss\") every\n"
"  --eval-every N       N steps (default: at the end only)\n"
"  --log-every N        a progress line every N steps (default 1); on a\n"
"                       terminal one line is rewritten in place\n"
"  --save-every N       checkpoint DIR/checkpoint-<step> every N steps\n"
"  --resume PATH        continue from a checkpoint-<step> directory, or from\n"
"                       the latest complete checkpoint of a run DIR\n"
"                       (bit-identical); the options the checkpoint records\n"
"                       are reused, and one given that contradicts it is an\n"
"                       error; metrics.jsonl continues after its step\n"
"  --max-steps N        stop after N optimizer steps (the schedule still\n"
"                       spans every epoch)\n"
"  --full               train every base weight instead of LoRA adapters\n"
"                       (LoRA options ignored; weight decay skips the norms)\n"
"  --init CONFIG.json   with --full and instead of --model: pretrain from\n"
"                       HF-style random weights (N(0, 0.02), norms 1; --seed)\n"
"                       for this config; needs --tokenizer\n"
"Writes DIR/adapter_config.json, DIR/adapter_model.safetensors (PEFT),\n"
"DIR/optimizer.safetensors (resume state; records the options) and\n"
"DIR/metrics.jsonl; with --full DIR/config.json and DIR/model.safetensors\n"
"(F32; F64 in DOUBLE=1 builds) instead of the adapter.  DIR and its parents\n"
"are created before any work.\n");
}

typedef struct train_args {
    const char *model, *data, *out, *tokenizer, *targets, *layers, *resume;
    const char *init, *eval_data;
    const char *schedule, *loss_on;
    long r, epochs, batch, accum, warmup, save_every, max_len, max_steps;
    long eval_every, log_every;
    double alpha, dropout, lr, wd, max_norm, warmup_ratio;
    long seed;
    int rslora, truncate, recompute, full;
    char resume_buf[4200]; /* the checkpoint --resume resolved to */
} train_args;

/* The options of train: how each is parsed, and whether a checkpoint
 * records it (a resume reuses the recorded value; one given on the command
 * line must agree).  key: the metadata key in optimizer.safetensors. */
enum { O_STR, O_INT, O_DBL, O_FLAG, O_NOFLAG, O_SEED };
typedef struct train_opt {
    const char *name, *key;
    int type;
    size_t off;
    double lo, hi;   /* O_INT, O_DBL: range */
    int lo_open;     /* O_DBL: lo excluded */
    int record;
} train_opt;

#define F(x) offsetof(train_args, x)
static const train_opt train_opts[] = {
    {"--model", "model", O_STR, F(model), 0, 0, 0, 0},
    {"--data", "data", O_STR, F(data), 0, 0, 0, 1},
    {"--out", "out", O_STR, F(out), 0, 0, 0, 0},
    {"--tokenizer", "tokenizer", O_STR, F(tokenizer), 0, 0, 0, 0},
    {"--targets", "targets", O_STR, F(targets), 0, 0, 0, 1},
    {"--layers", "layers", O_STR, F(layers), 0, 0, 0, 1},
    {"--resume", "resume", O_STR, F(resume), 0, 0, 0, 0},
    {"--schedule", "schedule", O_STR, F(schedule), 0, 0, 0, 1},
    {"--loss-on", "loss_on", O_STR, F(loss_on), 0, 0, 0, 1},
    {"--init", "init", O_STR, F(init), 0, 0, 0, 0},
    {"--eval-data", "eval_data", O_STR, F(eval_data), 0, 0, 0, 0},
    {"--r", "r", O_INT, F(r), 1, 1 << 30, 0, 1},
    {"--epochs", "epochs", O_INT, F(epochs), 1, 1 << 30, 0, 1},
    {"--batch", "batch", O_INT, F(batch), 1, 1 << 30, 0, 1},
    {"--grad-accum", "grad_accum", O_INT, F(accum), 1, 1 << 30, 0, 1},
    {"--warmup", "warmup", O_INT, F(warmup), 0, 1 << 30, 0, 1},
    {"--save-every", "save_every", O_INT, F(save_every), 0, 1 << 30, 0, 0},
    {"--max-len", "max_len", O_INT, F(max_len), 1, 1 << 30, 0, 1},
    {"--max-steps", "max_steps", O_INT, F(max_steps), 0, 1 << 30, 0, 0},
    {"--eval-every", "eval_every", O_INT, F(eval_every), 1, 1 << 30, 0, 0},
    {"--log-every", "log_every", O_INT, F(log_every), 1, 1 << 30, 0, 0},
    {"--seed", "seed", O_SEED, F(seed), 0, 0, 0, 1},
    {"--alpha", "alpha", O_DBL, F(alpha), 0, 1e30, 1, 1},
    {"--dropout", "dropout", O_DBL, F(dropout), 0, 1, 0, 1},
    {"--lr", "lr", O_DBL, F(lr), 0, 1e30, 1, 1},
    {"--weight-decay", "weight_decay", O_DBL, F(wd), 0, 1e30, 0, 1},
    {"--max-grad-norm", "max_grad_norm", O_DBL, F(max_norm), 0, 1e30, 0, 1},
    {"--warmup-ratio", "warmup_ratio", O_DBL, F(warmup_ratio), 0, 1, 0, 1},
    {"--rslora", "rslora", O_FLAG, F(rslora), 0, 0, 0, 1},
    {"--no-rslora", "rslora", O_NOFLAG, F(rslora), 0, 0, 0, 0},
    {"--truncate", "truncate", O_FLAG, F(truncate), 0, 0, 0, 1},
    {"--recompute", "recompute", O_FLAG, F(recompute), 0, 0, 0, 0},
    {"--full", "full", O_FLAG, F(full), 0, 0, 0, 0},
};
#undef F
#define N_TRAIN_OPTS (sizeof train_opts / sizeof train_opts[0])

/* The value of option o in a as the text a checkpoint records. */
static void opt_text(const train_args *a, const train_opt *o, char *buf, size_t cap)
{
    const char *base = (const char *)a;
    switch (o->type) {
    case O_STR: {
        const char *v = *(const char *const *)(const void *)(base + o->off);
        snprintf(buf, cap, "%s", v ? v : "");
        break;
    }
    case O_INT: case O_SEED:
        snprintf(buf, cap, "%ld", *(const long *)(const void *)(base + o->off));
        break;
    case O_DBL: { /* the shortest text that reads back exactly */
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

/* optimizer.safetensors: params (full precision), m, v and the step;
 * then the adapter.  Full training (f != NULL): the parameters are the
 * model, written first as a HF checkpoint in the compute type (exact, so
 * --resume reloads it from there); optimizer.safetensors, written last,
 * holds m, v and the digest of the parameters it belongs to. */
static int save_state(const char *dir, const lr_lora *lo, const lr_full *f,
                      const lr_model *model, const lr_adamw *o, long step,
                      const train_args *a, lr_error *err)
{
    lr_st_writer *w = lr_st_writer_new(err);
    char *path = NULL, buf[64], digest[17];
    int64_t shape[1];
    int rc = -1;
    if (!w) return -1;
    if (f && lr_model_save_hf(model, dir, LR_FLOAT_DTYPE, err)) goto done;
    shape[0] = (int64_t)(f ? f->n_params : lo->n_params);
    snprintf(buf, sizeof buf, "%ld", step);
    if ((!f && lr_st_writer_add_lr(w, "params", LR_FLOAT_DTYPE, 1, shape,
                                   lo->params, err)) ||
        lr_st_writer_meta(w, "mode", f ? "full" : "lora", err) ||
        lr_st_writer_add_lr(w, "exp_avg", LR_FLOAT_DTYPE, 1, shape, o->m, err) ||
        lr_st_writer_add_lr(w, "exp_avg_sq", LR_FLOAT_DTYPE, 1, shape, o->v, err) ||
        lr_st_writer_meta(w, "step", buf, err) ||
        lr_st_writer_meta(w, "compute_type", LR_FLOAT_NAME, err))
        goto done;
    if (f) { /* LoRA: the parameters are in this file itself */
        params_digest(f->params, f->n_params, digest);
        if (lr_st_writer_meta(w, "params_digest", digest, err)) goto done;
    }
    { /* the options a resume must agree with ("lr", "seed", ...) */
        size_t k;
        char val[4200];
        for (k = 0; k < N_TRAIN_OPTS; k++) {
            if (!train_opts[k].record) continue;
            opt_text(a, &train_opts[k], val, sizeof val);
            if (lr_st_writer_meta(w, train_opts[k].key, val, err)) goto done;
        }
    }
    if (!(path = lr_path_join(dir, "optimizer.safetensors", err)) ||
        lr_st_writer_save(w, path, err))
        goto done;
    rc = f ? 0 : lr_adapter_save(dir, lo, a->model, err);
done:
    free(path);
    lr_st_writer_free(w);
    return rc;
}

/* DIR/checkpoint-<step> as one unit: written into
 * checkpoint-<step>.partial (removed first if an interrupted save left
 * it), which then replaces checkpoint-<step> by rename, so a checkpoint
 * directory is always complete.  An existing checkpoint-<step> (a rerun
 * into the same DIR) is moved to checkpoint-<step>.old first and removed
 * after. */
static int save_checkpoint(const train_args *a, const lr_lora *lo,
                           const lr_full *f, const lr_model *model,
                           const lr_adamw *o, long step, lr_error *err)
{
    char name[64];
    char *final = NULL, *stage = NULL, *old = NULL;
    int rc = -1;
    snprintf(name, sizeof name, "checkpoint-%ld", step);
    if (!(final = lr_path_join(a->out, name, err))) goto done;
    snprintf(name, sizeof name, "checkpoint-%ld.partial", step);
    if (!(stage = lr_path_join(a->out, name, err))) goto done;
    snprintf(name, sizeof name, "checkpoint-%ld.old", step);
    if (!(old = lr_path_join(a->out, name, err))) goto done;
    if (lr_path_is_dir(stage) && remove_dir(stage, err)) goto done;
    if (make_dir(stage)) {
        lr_fail(err, "cannot create directory %s", stage);
        goto done;
    }
    if (save_state(stage, lo, f, model, o, step, a, err)) goto done;
    if (lr_path_is_dir(final)) {
        if (lr_path_is_dir(old) && remove_dir(old, err)) goto done;
        if (rename(final, old) != 0) {
            lr_fail(err, "cannot rename %s to %s", final, old);
            goto done;
        }
    }
    if (rename(stage, final) != 0) {
        lr_fail(err, "cannot rename %s to %s", stage, final);
        goto done;
    }
    rc = lr_path_is_dir(old) ? remove_dir(old, err) : 0;
done:
    free(final);
    free(stage);
    free(old);
    return rc;
}

/* The checkpoint in dir was written by LoRA (full = 0) or full-parameter
 * (full = 1) training: else an error naming both. */
static int check_mode(const char *dir, int full, lr_error *err)
{
    char *path = lr_path_join(dir, "optimizer.safetensors", err);
    lr_st_file *f = NULL;
    const lr_json *mode;
    int rc = -1;
    if (!path || lr_st_open(path, 0, &f, err)) goto done;
    mode = lr_json_get(lr_st_metadata(f), "mode");
    if (full != (mode && mode->type == LR_JSON_STRING &&
                 !strcmp(mode->str, "full")))
        lr_fail(err, "%s: a %s checkpoint cannot resume %s training", path,
                full ? "LoRA" : "full-parameter",
                full ? "full-parameter" : "LoRA");
    else
        rc = 0;
done:
    if (f) lr_st_close(f);
    free(path);
    return rc;
}

/* full != NULL: the parameters were loaded with the model from dir */
static int load_state(const char *dir, lr_lora *lo, const lr_full *full,
                      lr_adamw *o, long *step, lr_error *err)
{
    char *path = lr_path_join(dir, "optimizer.safetensors", err);
    lr_st_file *f = NULL;
    const lr_st_tensor *p, *m, *v;
    const lr_json *s;
    const size_t np = full ? full->n_params : lo->n_params;
    int rc = -1;
    if (!path || check_mode(dir, full != NULL, err) ||
        lr_st_open(path, 0, &f, err))
        goto done;
    p = lr_st_find(f, "params");
    m = lr_st_find(f, "exp_avg");
    v = lr_st_find(f, "exp_avg_sq");
    s = lr_json_get(lr_st_metadata(f), "step");
    if ((!full && (!p || p->nelem != np)) || !m || !v || !s ||
        s->type != LR_JSON_STRING || m->nelem != np || v->nelem != np) {
        lr_fail(err, "%s: not an optimizer state for this %s", path,
                full ? "model" : "adapter");
        goto done;
    }
    if ((!full && lr_st_read_lr(f, p, lo->params, err)) ||
        lr_st_read_lr(f, m, o->m, err) ||
        lr_st_read_lr(f, v, o->v, err))
        goto done;
    if (full) {
        /* the model next to it must be the one these moments belong to
         * (checked when it was written at this build's precision) */
        const lr_json *d = lr_json_get(lr_st_metadata(f), "params_digest");
        const lr_json *ct = lr_json_get(lr_st_metadata(f), "compute_type");
        char digest[17];
        params_digest(full->params, np, digest);
        if (d && d->type == LR_JSON_STRING && ct && ct->type == LR_JSON_STRING &&
            !strcmp(ct->str, LR_FLOAT_NAME) && strcmp(d->str, digest)) {
            lr_fail(err, "%s: the model weights in %s are not the ones this "
                    "optimizer state was saved with (an interrupted save?); "
                    "resume from a complete checkpoint-<step>", path, dir);
            goto done;
        }
    }
    { /* the step from the file: a non-negative long, checked (not atol) */
        char *end;
        long v;
        errno = 0;
        v = strtol(s->str, &end, 10);
        if (errno || end == s->str || *end || v < 0) {
            lr_fail(err, "%s: step \"%s\" is not a non-negative integer", path, s->str);
            goto done;
        }
        *step = v;
    }
    o->step = *step;
    rc = 0;
done:
    if (f) lr_st_close(f);
    free(path);
    return rc;
}

/* The step an optimizer.safetensors in dir records; -1 if none. */
static long state_step(const char *dir)
{
    char *p = lr_path_join(dir, "optimizer.safetensors", NULL);
    lr_st_file *f = NULL;
    lr_error err;
    const lr_json *s;
    long step = -1;
    if (p && lr_st_open(p, 0, &f, &err) == 0) {
        s = lr_json_get(lr_st_metadata(f), "step");
        if (s && s->type == LR_JSON_STRING) step = atol(s->str);
        lr_st_close(f);
    }
    free(p);
    return step;
}

/* --resume PATH: a checkpoint directory (it holds optimizer.safetensors),
 * or a run directory whose latest complete checkpoint-<step> is taken
 * (staging .partial / .old directories are not complete checkpoints; the
 * run's own final state counts when its step is the latest).  The
 * resolved path goes to a->resume_buf. */
static int resolve_resume(train_args *a)
{
    char *p;
    DIR *d;
    struct dirent *e;
    long best = -1, own = state_step(a->resume);
    FILE *f;
    if (!(d = opendir(a->resume))) {
        fprintf(stderr, "llamaref train: --resume %s: not a checkpoint or run "
                "directory: %s\n", a->resume, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        char *end, name[320];
        long step;
        if (strncmp(n, "checkpoint-", 11) || !(n[11] >= '0' && n[11] <= '9'))
            continue;
        errno = 0;
        step = strtol(n + 11, &end, 10);
        if (*end || errno || step <= best) continue;
        snprintf(name, sizeof name, "%s/optimizer.safetensors", n);
        if (!(p = lr_path_join(a->resume, name, NULL))) { closedir(d); goto oom; }
        if ((f = fopen(p, "rb")) != NULL) {
            fclose(f);
            best = step;
        }
        free(p);
    }
    closedir(d);
    if (own >= 0 && own >= best) { /* a checkpoint itself, or a finished run */
        snprintf(a->resume_buf, sizeof a->resume_buf, "%s", a->resume);
        a->resume = a->resume_buf;
        return 0;
    }
    if (best < 0) {
        fprintf(stderr, "llamaref train: --resume %s: no optimizer.safetensors "
                "and no complete checkpoint-<step> directory in it\n", a->resume);
        return -1;
    }
    snprintf(a->resume_buf, sizeof a->resume_buf, "%s/checkpoint-%ld", a->resume, best);
    a->resume = a->resume_buf;
    fprintf(stderr, "llamaref train: resuming from %s (the latest complete "
            "checkpoint)\n", a->resume);
    return 0;
oom:
    fprintf(stderr, "llamaref train: out of memory\n");
    return -1;
}

/* The options recorded in the checkpoint a->resume: one given on the
 * command line (given[k]) that differs is an error naming each; the others
 * take the recorded value.  Returns 0, 1 (runtime error) or 2 (contradicting
 * options). */
static int resume_options(train_args *a, const unsigned char *given,
                          lr_st_file **keep)
{
    char *path = lr_path_join(a->resume, "optimizer.safetensors", NULL);
    lr_st_file *f = NULL;
    lr_error err;
    const lr_json *meta;
    size_t k, j;
    int conflicts = 0;
    char mine[4200];
    if (!path) { fprintf(stderr, "llamaref train: out of memory\n"); return 1; }
    if (check_mode(a->resume, a->full, &err) || lr_st_open(path, 0, &f, &err)) {
        fprintf(stderr, "llamaref train: --resume: %s\n", err.msg);
        free(path);
        return 1;
    }
    meta = lr_st_metadata(f);
    for (k = 0; k < N_TRAIN_OPTS; k++) {
        const train_opt *o = &train_opts[k];
        const lr_json *rec;
        int was_given = 0;
        if (!o->record || !(rec = lr_json_get(meta, o->key)) ||
            rec->type != LR_JSON_STRING)
            continue; /* older checkpoints record lr and seed only */
        for (j = 0; j < N_TRAIN_OPTS; j++)
            if (given[j] && !strcmp(train_opts[j].key, o->key)) was_given = 1;
        opt_text(a, o, mine, sizeof mine);
        if (o->type == O_DBL ? strtod(mine, NULL) == strtod(rec->str, NULL)
                             : !strcmp(mine, rec->str))
            continue;
        if (was_given) {
            fprintf(stderr, "llamaref train: --resume %s: %s %s contradicts the "
                    "checkpoint's %s\n", a->resume, o->name, mine, rec->str);
            conflicts++;
            continue;
        }
        { /* take the recorded value */
            char *base = (char *)a, *end;
            switch (o->type) {
            case O_STR:
                *(const char **)(void *)(base + o->off) = rec->len ? rec->str : NULL;
                break;
            case O_INT: case O_SEED:
                *(long *)(void *)(base + o->off) = strtol(rec->str, &end, 10);
                break;
            case O_DBL:
                *(double *)(void *)(base + o->off) = strtod(rec->str, &end);
                break;
            default:
                *(int *)(void *)(base + o->off) = atoi(rec->str);
            }
        }
    }
    free(path);
    if (conflicts) {
        fprintf(stderr, "llamaref train: drop the contradicting option%s (the "
                "checkpoint's values are used) or start a new run\n",
                conflicts > 1 ? "s" : "");
        lr_st_close(f);
        return 2;
    }
    *keep = f; /* the recorded strings stay valid while it is open */
    return 0;
}

/* metrics.jsonl of a resumed run: the lines after the checkpoint's step
 * (written before an interruption) are dropped, so the steps continue
 * without duplicates. */
static int trim_metrics(const char *path, long step, lr_error *err)
{
    char *data = NULL, *p, *nl;
    size_t len;
    lr_buf b = {0};
    FILE *f = fopen(path, "rb");
    int rc;
    if (!f) return 0; /* a new file */
    fclose(f);
    if (lr_read_file(path, &data, &len, err)) return -1;
    for (p = data; p < data + len; p = nl + 1) {
        const char *s = strstr(p, "\"step\": ");
        nl = memchr(p, '\n', (size_t)(data + len - p));
        if (!nl) nl = data + len;
        if (s && s < nl && atol(s + 8) > step) continue;
        lr_buf_append(&b, p, (size_t)(nl - p));
        lr_buf_puts(&b, "\n");
        if (nl == data + len) break;
    }
    rc = b.oom ? lr_fail(err, "out of memory") :
         lr_write_file_atomic(path, b.data ? b.data : "", b.len, err);
    free(data);
    lr_buf_free(&b);
    return rc;
}

/* Mean loss per counted token over the examples of ev (one at a time, no
 * dropout), with the adapters lo (NULL: the model's own weights). */
static int eval_loss(const lr_model *m, const lr_lora *lo, const lr_dataset *ev,
                     double *loss, lr_error *err)
{
    lr_train_ws ws;
    double nll_sum = 0;
    long n_sum = 0;
    size_t k;
    int rc = -1;
    memset(&ws, 0, sizeof ws);
    if (lr_train_ws_alloc(&ws, m, lo, 1, ev->max_len, 0, err)) return -1;
    for (k = 0; k < ev->n; k++) {
        double nll;
        long n;
        if (lr_lora_forward(&ws, m, lo, ev->ex[k].ids, ev->ex[k].labels, NULL,
                            1, ev->ex[k].len, 0.0, 0, &nll, &n, err))
            goto done;
        nll_sum += nll;
        n_sum += n;
    }
    *loss = n_sum ? nll_sum / (double)n_sum : NAN;
    rc = 0;
done:
    lr_train_ws_free(&ws);
    return rc;
}

/* train --init creates a model of the declared size (weights, gradients
 * and the two AdamW moments: 4 arrays of the parameter count): checked
 * against the machine's memory before anything is allocated, where the
 * host tells it (docs/formats.md, "Memory bounded by the input"). */
static int init_fits_memory(const lr_config *cfg, const char *path, lr_error *err)
{
    const double need = 4.0 * (double)lr_config_param_count(cfg) * (double)sizeof(lr_float);
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const double have = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
#else
    const double have = 0;
#endif
    if (need > (double)((size_t)-1))
        return lr_fail(err, "%s: the configuration declares %.0f parameters: more than "
                       "this machine can address", path, (double)lr_config_param_count(cfg));
    if (have > 0 && need > have)
        return lr_fail(err, "%s: the configuration declares %.0f parameters: %.1f GB for "
                       "weights, gradients and AdamW moments, more than this machine's "
                       "%.1f GB of memory", path, (double)lr_config_param_count(cfg),
                       need / 1e9, have / 1e9);
    return 0;
}

static int run_train(const train_args *a)
{
    lr_model *m = NULL;
    lr_tokenizer tok;
    int have_tok = 0, rc = 1;
    lr_dataset ds, ev;
    lr_dataset_opts dopt;
    lr_lora lo;
    lr_lora_config lc;
    lr_full full;
    lr_adamw opt;
    lr_trainer tr;
    lr_trainer_opts to;
    lr_error err;
    lr_load_options lopt;
    unsigned char *layers = NULL;
    size_t n_params;
    FILE *metrics = NULL;
    long step = 0, done_steps = 0, start_step;
    double tok_total = 0, last_loss = NAN, ev_loss = NAN;
    double t0;
    const int tty = cli_stderr_tty();
    char *mpath = NULL;
    memset(&ds, 0, sizeof ds); memset(&lo, 0, sizeof lo);
    memset(&ev, 0, sizeof ev);
    memset(&opt, 0, sizeof opt); memset(&tr, 0, sizeof tr);
    memset(&lopt, 0, sizeof lopt); memset(&full, 0, sizeof full);
    memset(&to, 0, sizeof to);
    /* LoRA: BF16 checkpoints stay BF16 (frozen base); full training needs
     * every weight in the compute type (lr_full_bind checks).  Resuming
     * full training reloads the weights from the checkpoint. */
    lopt.keep_dtype = !a->full;
    if (lr_sched_from_name(a->schedule, &to.sched, &err) ||
        (a->resume && check_mode(a->resume, a->full, &err)))
        goto fail;
    if (a->init && !a->resume) { /* pretraining from scratch */
        lr_config cfg;
        if (lr_config_load(a->init, &cfg, &err) ||
            lr_config_validate(&cfg, a->init, &err) ||
            init_fits_memory(&cfg, a->init, &err) ||
            lr_model_init_random(&cfg, (uint64_t)a->seed, &m, &err))
            goto fail;
    } else if (lr_model_load(a->full && a->resume ? a->resume : a->model,
                             &lopt, &m, &err)) {
        goto fail;
    }
    if (lr_tokenizer_load(a->tokenizer ? a->tokenizer : a->model, &tok, &err) == 0)
        have_tok = 1;
    else if (a->tokenizer)
        goto fail;
    memset(&dopt, 0, sizeof dopt);
    dopt.loss_on = strcmp(a->loss_on, "completion") ? LR_LOSS_ALL : LR_LOSS_COMPLETION;
    dopt.max_len = (int)a->max_len;
    dopt.truncate = a->truncate;
    dopt.vocab_size = m->config.vocab_size;
    if (lr_dataset_load(a->data, have_tok ? &tok : NULL, &dopt, &ds, &err) ||
        (a->eval_data &&
         lr_dataset_load(a->eval_data, have_tok ? &tok : NULL, &dopt, &ev, &err)))
        goto fail;
    /* LoRA: from flags, or the checkpoint's adapter_config.json */
    if (a->full) {
        if (lr_full_bind(&full, m, &err)) goto fail;
        if (a->init && !a->resume)
            lr_full_init_normal(&full, (uint64_t)a->seed, 0.02);
    } else if (a->resume) {
        if (lr_adapter_load(a->resume, &m->config, &lo, &err)) goto fail;
    } else {
        memset(&lc, 0, sizeof lc);
        lc.r = (int)a->r; lc.alpha = a->alpha; lc.use_rslora = a->rslora;
        lc.dropout = a->dropout;
        if (lr_lora_parse_targets(a->targets, &lc.targets, &err)) goto fail;
        if (a->layers) {
            const char *p = a->layers;
            layers = calloc((size_t)m->config.num_hidden_layers, 1);
            if (!layers) goto oom;
            while (*p) {
                char *end;
                long l = strtol(p, &end, 10);
                if (end == p || l < 0 || l >= m->config.num_hidden_layers) {
                    lr_fail(&err, "--layers: '%s' is not a list of layer "
                            "indices below %d", a->layers,
                            m->config.num_hidden_layers);
                    goto fail;
                }
                layers[l] = 1;
                p = *end == ',' ? end + 1 : end;
            }
            lc.layers = layers;
            lc.n_layers = m->config.num_hidden_layers;
        }
        if (lr_lora_alloc(&lo, &m->config, &lc, &err)) goto fail;
        lr_lora_init(&lo, (uint64_t)a->seed);
    }
    n_params = a->full ? full.n_params : lo.n_params;
    if (lr_adamw_init(&opt, n_params, a->wd, &err)) goto fail;
    if (a->full) opt.decay_mask = full.decay; /* not the RMSNorm weights */
    if (a->resume &&
        load_state(a->resume, &lo, a->full ? &full : NULL, &opt, &step, &err))
        goto fail;
    to.batch = a->batch; to.accum = a->accum; to.epochs = a->epochs;
    to.lr = a->lr; to.warmup = a->warmup; to.max_norm = a->max_norm;
    to.seed = (uint64_t)a->seed; to.recompute = a->recompute;
    if (lr_trainer_init(&tr, m, a->full ? NULL : &lo, a->full ? &full : NULL,
                        &ds, &opt, &to, &err))
        goto fail;
    if (a->warmup_ratio > 0) /* HF: ceil(ratio * total steps) */
        tr.o.warmup = (long)ceil(a->warmup_ratio * (double)tr.total);
    if (step > tr.total) {
        lr_fail(&err, "--resume %s: the checkpoint is at step %ld, beyond "
                "the end of this schedule (%ld steps: %ld epochs of %ld)",
                a->resume, step, tr.total, a->epochs, tr.spe);
        goto fail;
    }
    if (!(mpath = lr_path_join(a->out, "metrics.jsonl", &err))) goto fail;
    if (a->resume && trim_metrics(mpath, step, &err)) goto fail;
    metrics = fopen(mpath, a->resume ? "a" : "w");
    if (!metrics) { lr_fail(&err, "cannot write %s", mpath); goto fail; }
    if (a->full)
        fprintf(stderr, "train: %lu examples, %ld micro-batches/epoch, %ld "
                "steps, %lu parameters (full)%s\n", (unsigned long)ds.n, tr.nb,
                tr.total, (unsigned long)n_params, a->resume ? ", resumed" : "");
    else
        fprintf(stderr, "train: %lu examples, %ld micro-batches/epoch, %ld "
                "steps, %lu LoRA parameters (r %d, scale %g)%s\n",
                (unsigned long)ds.n, tr.nb, tr.total, (unsigned long)lo.n_params,
                lo.cfg.r, lo.scale, a->resume ? ", resumed" : "");
    t0 = cli_now();
    start_step = step;
    for (; step < tr.total && (a->max_steps <= 0 || done_steps < a->max_steps);
         step++, done_steps++) {
        lr_step_stats st;
        double el;
        const int last = step + 1 == tr.total ||
                         (a->max_steps > 0 && done_steps + 1 == a->max_steps);
        int do_eval;
        if (lr_trainer_step(&tr, step, &st, &err)) goto fail;
        el = cli_now() - t0;
        tok_total += (double)st.tokens;
        last_loss = st.loss;
        do_eval = a->eval_data && (last || (a->eval_every > 0 &&
                                            (step + 1) % a->eval_every == 0));
        if (do_eval &&
            eval_loss(m, a->full ? NULL : &lo, &ev, &ev_loss, &err))
            goto fail;
        fprintf(metrics, "{\"step\": %ld, \"epoch\": %ld, \"loss\": %.9g, "
                "\"lr\": %.9g, \"grad_norm\": %.9g, \"tokens\": %ld",
                step + 1, st.epoch, st.loss, st.lr, st.grad_norm, st.tokens);
        if (do_eval) fprintf(metrics, ", \"eval_loss\": %.9g", ev_loss);
        fprintf(metrics, "}\n");
        fflush(metrics);
        if (last || (step + 1 - start_step) % a->log_every == 0 || do_eval) {
            /* on a terminal one line rewritten in place; in a log file one
             * line per update */
            fprintf(stderr, "%sstep %ld/%ld  loss %.4f  lr %.3g  %.0f tok/s  ETA %.0fs",
                    tty ? "\r" : "", step + 1, tr.total, st.loss, st.lr,
                    el > 0 ? tok_total / el : 0.0,
                    el / (done_steps + 1) * (double)(tr.total - step - 1));
            if (do_eval) fprintf(stderr, "  eval_loss %.4f", ev_loss);
            fprintf(stderr, tty && !do_eval ? "   " : "\n");
        }
        if (a->save_every > 0 && (step + 1) % a->save_every == 0 &&
            save_checkpoint(a, &lo, a->full ? &full : NULL, m, &opt, step + 1,
                            &err))
            goto fail;
    }
    if (tty) fprintf(stderr, "\n");
    if (save_state(a->out, &lo, a->full ? &full : NULL, m, &opt, step, a,
                   &err))
        goto fail;
    printf("train: step %ld/%ld, loss %.4f", step, tr.total, last_loss);
    if (a->eval_data) printf(", eval_loss %.4f", ev_loss);
    printf("; saved to %s\n", a->out);
    rc = 0;
    goto end;
oom:
    lr_fail(&err, "out of memory");
fail:
    fprintf(stderr, "%sllamaref train: %s\n", tty ? "\n" : "", err.msg);
end:
    if (metrics) fclose(metrics);
    free(mpath); free(layers);
    lr_trainer_free(&tr);
    lr_adamw_free(&opt);
    lr_lora_free(&lo);
    lr_dataset_free(&ds);
    lr_dataset_free(&ev);
    if (have_tok) lr_tokenizer_free(&tok);
    lr_model_free(m);
    lr_full_free(&full);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    train_args a;
    unsigned char given[N_TRAIN_OPTS];
    lr_st_file *ckpt = NULL; /* holds the recorded option strings */
    int i, rc;
    size_t k;
    memset(&a, 0, sizeof a);
    memset(given, 0, sizeof given);
    a.targets = "gate_proj,up_proj,down_proj";
    a.schedule = "linear"; a.loss_on = "all";
    a.r = 1; a.alpha = 2; a.dropout = 0.1; a.lr = 1e-3; a.epochs = 10;
    a.batch = 8; a.accum = 1; a.max_norm = 1.0; a.seed = 42; a.max_len = 2048;
    a.log_every = 1;
    for (i = 1; i < argc; i++) {
        const char *s = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        const train_opt *o = NULL;
        char *base = (char *)&a;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) { usage(stdout); return 0; }
        for (k = 0; k < N_TRAIN_OPTS; k++)
            if (!strcmp(s, train_opts[k].name)) { o = &train_opts[k]; break; }
        if (!o) return cli_bad_option("train", s, usage);
        given[k] = 1;
        switch (o->type) {
        case O_FLAG: *(int *)(void *)(base + o->off) = 1; continue;
        case O_NOFLAG: *(int *)(void *)(base + o->off) = 0; continue;
        case O_STR:
            if (!v) return cli_bad_option("train", s, usage);
            *(const char **)(void *)(base + o->off) = v;
            break;
        case O_INT:
            if (cli_int(s, v, (long)o->lo, (long)o->hi, (long *)(void *)(base + o->off)))
                return 2;
            break;
        case O_SEED:
            if (cli_seed(s, v, (long *)(void *)(base + o->off))) return 2;
            break;
        default:
            if (cli_double_in(s, v, o->lo, o->lo_open, o->hi, 0,
                              (double *)(void *)(base + o->off)))
                return 2;
        }
        i++;
    }
    if (a.init && (!a.full || !a.tokenizer || a.model)) {
        fprintf(stderr, "llamaref train: --init needs --full and --tokenizer, "
                "and replaces --model\n");
        return 2;
    }
    if (a.warmup && a.warmup_ratio > 0) {
        fprintf(stderr, "llamaref train: --warmup and --warmup-ratio exclude "
                "each other\n");
        return 2;
    }
    if (a.eval_every && !a.eval_data) {
        fprintf(stderr, "llamaref train: --eval-every needs --eval-data\n");
        return 2;
    }
    if ((!a.model && !a.init) || (!a.data && !a.resume) || !a.out) {
        fprintf(stderr, "llamaref train: --model, --data and --out are required (see --help)\n");
        return 2;
    }
    if (a.resume) {
        if (resolve_resume(&a)) return 1;
        if ((rc = resume_options(&a, given, &ckpt)) != 0) return rc;
    }
    if (!a.data) {
        fprintf(stderr, "llamaref train: --data is required (the checkpoint does "
                "not record it)\n");
        if (ckpt) lr_st_close(ckpt);
        return 2;
    }
    if (strcmp(a.loss_on, "all") && strcmp(a.loss_on, "completion")) {
        fprintf(stderr, "llamaref train: --loss-on is 'all' or 'completion'\n");
        if (ckpt) lr_st_close(ckpt);
        return 2;
    }
    /* the output directory before any work */
    if (cli_prepare_out("train", a.out, 1)) rc = 1;
    else rc = run_train(&a);
    if (ckpt) lr_st_close(ckpt);
    return rc;
}

static void merge_usage(FILE *f)
{
    fprintf(f, "usage: llamaref merge -m, --model PATH --adapter DIR --out DIR\n");
    cli_help(f, "--model", NULL);
    fprintf(f, "  writes W + s B A for every adapted linear as a HF\n"
               "  checkpoint: the base's dtype if BF16/F16, else F32\n"
               "  (F64 in a DOUBLE=1 build, so the merge loses nothing),\n"
               "  and copies the base's tokenizer files (tokenizer.json,\n"
               "  tokenizer_config.json, special_tokens_map.json,\n"
               "  tokenizer.model, generation_config.json) that exist.\n"
               "  DIR and its parents are created.\n");
}

/* The tokenizer files of the model directory src copied into dst (those
 * that exist), so that the merged model is complete. */
static int copy_tokenizer_files(const char *src, const char *dst, lr_error *err)
{
    static const char *const names[] = {
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "tokenizer.model", "generation_config.json"};
    size_t k;
    if (!lr_path_is_dir(src)) return 0;
    for (k = 0; k < sizeof names / sizeof names[0]; k++) {
        char *from = lr_path_join(src, names[k], err), *to = NULL, *data = NULL;
        size_t len;
        FILE *f;
        int r = 0;
        if (!from || !(to = lr_path_join(dst, names[k], err))) r = -1;
        else if ((f = fopen(from, "rb")) != NULL) {
            fclose(f);
            r = lr_read_file(from, &data, &len, err) ||
                lr_write_file_atomic(to, data, len, err);
        }
        free(data);
        free(from);
        free(to);
        if (r) return -1;
    }
    return 0;
}

int cmd_merge(int argc, char **argv)
{
    const char *model = NULL, *adapter = NULL, *out = NULL;
    lr_model *m = NULL;
    lr_lora lo;
    lr_error err;
    int i, rc = 1;
    for (i = 1; i < argc; i++) {
        const char *s = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            merge_usage(stdout);
            return 0;
        } else if (!strcmp(s, "--model") && v) { model = v; i++; }
        else if (!strcmp(s, "--adapter") && v) { adapter = v; i++; }
        else if (!strcmp(s, "--out") && v) { out = v; i++; }
        else return cli_bad_option("merge", s, merge_usage);
    }
    if (!model || !adapter || !out) {
        fprintf(stderr, "llamaref merge: --model, --adapter and --out are required\n");
        return 2;
    }
    memset(&lo, 0, sizeof lo);
    if (cli_prepare_out("merge", out, 1)) return 1;
    if (lr_model_load(model, NULL, &m, &err) ||
        lr_adapter_load(adapter, &m->config, &lo, &err) ||
        lr_lora_merge(m, &lo, &err) ||
        lr_model_save_hf(m, out, m->stored_dtype == LR_BF16 || m->stored_dtype == LR_F16
                                     ? m->stored_dtype : LR_FLOAT_DTYPE, &err) ||
        copy_tokenizer_files(model, out, &err))
        fprintf(stderr, "llamaref merge: %s\n", err.msg);
    else {
        printf("merge: saved to %s\n", out);
        rc = 0;
    }
    lr_lora_free(&lo);
    lr_model_free(m);
    return rc;
}

/* The backward's activation gradients into the dump (docs/tensors.md). */
typedef struct dump_tap_ctx {
    lr_st_writer *w;
    lr_dtype dtype;
    lr_error *err;
} dump_tap_ctx;

static int dump_tap(void *ctx, const char *name, const lr_float *x, int rows,
                    int cols)
{
    const dump_tap_ctx *c = ctx;
    int64_t shape[2];
    shape[0] = rows;
    shape[1] = cols;
    return lr_st_writer_add_lr(c->w, name, c->dtype, 2, shape, x, c->err);
}

int cli_dump_lora(lr_st_writer *w, const lr_model *m, const char *adapter,
                  const int *ids, const int *labels, int T, lr_dtype dtype,
                  lr_error *err)
{
    lr_lora lo;
    lr_train_ws ws;
    dump_tap_ctx tc;
    lr_float *grad = NULL;
    double nll;
    long n;
    int64_t shape[2];
    char key[200];
    int rc = -1, l, t, k;
    lr_float loss;
    memset(&lo, 0, sizeof lo);
    memset(&ws, 0, sizeof ws);
    if (!adapter) {
        /* loss only: a zero-rank stand-in is not needed, use lr_forward */
        lr_acts a;
        if (lr_acts_alloc(&a, &m->config, 1, T, 0, err)) return -1;
        if (lr_forward(m, &a, ids, NULL, NULL, 1, T, err) ||
            lr_causal_lm_loss(a.logits, labels, 1, T, m->config.vocab_size,
                              NULL, &nll, &n, NULL, 1.0, err)) {
            lr_acts_free(&a);
            return -1;
        }
        shape[0] = T; shape[1] = m->config.vocab_size;
        loss = (lr_float)(n ? nll / n : NAN);
        shape[0] = 1;
        rc = n ? 0 : lr_fail(err, "--labels: every label is -100 (no token is scored)");
        if (!rc) {
            int64_t ls[2];
            ls[0] = T; ls[1] = m->config.vocab_size;
            rc = lr_st_writer_add_lr(w, "logits", dtype, 2, ls, a.logits, err) ||
                 lr_st_writer_add_lr(w, "loss", dtype, 1, shape, &loss, err);
        }
        lr_acts_free(&a);
        return rc ? -1 : 0;
    }
    if (lr_adapter_load(adapter, &m->config, &lo, err) ||
        lr_train_ws_alloc(&ws, m, &lo, 1, T, 0, err) ||
        lr_lora_forward(&ws, m, &lo, ids, labels, NULL, 1, T, 0, 0, &nll, &n, err))
        goto done;
    if (n == 0) {
        lr_fail(err, "--labels: every label is -100 (no token is scored)");
        goto done;
    }
    shape[0] = T; shape[1] = m->config.vocab_size;
    loss = (lr_float)(nll / n);
    if (lr_st_writer_add_lr(w, "logits", dtype, 2, shape, ws.acts.logits, err))
        goto done;
    shape[0] = 1;
    if (lr_st_writer_add_lr(w, "loss", dtype, 1, shape, &loss, err)) goto done;
    grad = lr_zalloc(lo.n_params, sizeof *grad, "gradients", err);
    tc.w = w; tc.dtype = dtype; tc.err = err;
    ws.grad_tap = dump_tap;
    ws.grad_tap_ctx = &tc;
    if (!grad || lr_lora_backward(&ws, m, &lo, grad, 1.0 / n, err)) goto done;
    for (l = 0; l < lo.cfg.n_layers; l++)
        for (t = 0; t < LR_LORA_NTARGETS; t++) {
            const lr_lora_slot *s = lr_lora_slot_get(&lo, l, t);
            if (!s) continue;
            for (k = 0; k < 2; k++) {
                memcpy(key, "grad.", 5);
                lr_adapter_key(key + 5, sizeof key - 5, l, t, k ? 'B' : 'A');
                shape[0] = k ? s->out : lo.cfg.r;
                shape[1] = k ? lo.cfg.r : s->in;
                if (lr_st_writer_add_lr(w, key, dtype, 2, shape,
                                        grad + (k ? s->b_off : s->a_off), err))
                    goto done;
            }
        }
    rc = 0;
done:
    free(grad);
    lr_train_ws_free(&ws);
    lr_lora_free(&lo);
    return rc;
}
