/* checkpoint.c - the training state on disk (docs/training.md,
 * "Checkpoints"): optimizer.safetensors (AdamW moments, step, the recorded
 * options, params_digest for full training) beside the adapter or the
 * model; DIR/checkpoint-<step> written atomically through
 * checkpoint-<step>.partial and a rename; loading, resolving --resume and
 * checking a resume's options against the recorded ones.
 * Depends on: safetensors.h, adapter.h, full.h, adamw.h, train_options.h. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* rmdir */
#endif
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* rmdir */

#include "llamaref/train/adapter.h"
#include "llamaref/train/checkpoint.h"
#include "llamaref/formats/safetensors.h"

/* lr_list_dir's fn for remove_dir: removes file name of dir; 1 (stop,
 * err filled) when it cannot. */
typedef struct remove_ctx {
    const char *dir;
    lr_error *err;
} remove_ctx;

static int remove_entry(void *ctx, const char *name)
{
    remove_ctx *r = ctx;
    char *f = lr_path_join(r->dir, name, r->err);
    int rc = 0;
    if (!f) return 1;
    if (remove(f) != 0) {
        lr_fail(r->err, "cannot remove %s: %s", f, strerror(errno));
        rc = 1;
    }
    free(f);
    return rc;
}

/* Removes directory path and the files in it (one level: a checkpoint
 * directory holds files only).  Used on this command's own staging
 * directories, never on a user's path. */
static int remove_dir(const char *path, lr_error *err)
{
    remove_ctx r;
    int rc;
    r.dir = path;
    r.err = err;
    rc = lr_list_dir(path, remove_entry, &r);
    if (rc == LR_DIR_OPEN_FAILED)
        return lr_fail(err, "cannot open directory %s: %s", path, strerror(errno));
    if (rc == LR_DIR_READ_FAILED)
        return lr_fail(err, "cannot read directory %s: %s", path, strerror(errno));
    if (rc) return -1;
    return rmdir(path) == 0 ? 0 : lr_fail(err, "cannot remove directory %s: %s", path,
                                          strerror(errno));
}

/* FNV-1a 64 over the parameters as IEEE binary64 little-endian bytes
 * (a float widens exactly, so the digest does not depend on the host's
 * byte order): optimizer.safetensors records it ("params_digest") so that
 * a full-training resume can tell that the model.safetensors next to it
 * belongs to the same step. */
void lr_params_digest(const lr_float *p, size_t n, char hex[17])
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


/* optimizer.safetensors: params (full precision), m, v and the step;
 * then the adapter.  Full training (f != NULL): the parameters are the
 * model, written first as a HF checkpoint in the compute type (exact, so
 * --resume reloads it from there); optimizer.safetensors, written last,
 * holds m, v and the digest of the parameters it belongs to. */
int lr_checkpoint_save_state(const char *dir, const lr_lora *lo, const lr_full *f,
                      const lr_model *model, const lr_adamw *o, long step,
                      const lr_train_options *a, lr_error *err)
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
        lr_params_digest(f->params, f->n_params, digest);
        if (lr_st_writer_meta(w, "params_digest", digest, err)) goto done;
    }
    { /* the options a resume must agree with ("lr", "seed", ...) */
        size_t k, n_opts;
        const lr_train_opt *opts = lr_train_opt_table(&n_opts);
        char val[4200];
        for (k = 0; k < n_opts; k++) {
            if (!opts[k].record) continue;
            lr_train_opt_text(a, &opts[k], val, sizeof val);
            if (lr_st_writer_meta(w, opts[k].key, val, err)) goto done;
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
int lr_checkpoint_save(const lr_train_options *a, const lr_lora *lo,
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
    if (lr_make_dir(stage)) {
        lr_fail(err, "cannot create directory %s", stage);
        goto done;
    }
    if (lr_checkpoint_save_state(stage, lo, f, model, o, step, a, err)) goto done;
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
int lr_checkpoint_check_mode(const char *dir, int full, lr_error *err)
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
int lr_checkpoint_load(const char *dir, lr_lora *lo, const lr_full *full,
                      lr_adamw *o, long *step, lr_error *err)
{
    char *path = lr_path_join(dir, "optimizer.safetensors", err);
    lr_st_file *f = NULL;
    const lr_st_tensor *p, *m, *v;
    const lr_json *s;
    const size_t np = full ? full->n_params : lo->n_params;
    int rc = -1;
    if (!path || lr_checkpoint_check_mode(dir, full != NULL, err) ||
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
        lr_params_digest(full->params, np, digest);
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


/* lr_list_dir's fn for lr_checkpoint_resolve: best = the largest step of
 * a "checkpoint-<step>" entry of dir holding optimizer.safetensors; 1
 * (stop) when out of memory. */
typedef struct latest_ctx {
    const char *dir;
    long best;
} latest_ctx;

static int note_checkpoint(void *ctx, const char *n)
{
    latest_ctx *c = ctx;
    char *p, *end, name[320];
    long step;
    FILE *f;
    if (strncmp(n, "checkpoint-", 11) || !(n[11] >= '0' && n[11] <= '9'))
        return 0;
    errno = 0;
    step = strtol(n + 11, &end, 10);
    if (*end || errno || step <= c->best) return 0;
    snprintf(name, sizeof name, "%s/optimizer.safetensors", n);
    if (!(p = lr_path_join(c->dir, name, NULL))) return 1;
    if ((f = fopen(p, "rb")) != NULL) {
        fclose(f);
        c->best = step;
    }
    free(p);
    return 0;
}

/* --resume PATH: a checkpoint directory (it holds optimizer.safetensors),
 * or a run directory whose latest complete checkpoint-<step> is taken
 * (staging .partial / .old directories are not complete checkpoints; the
 * run's own final state counts when its step is the latest).  The
 * resolved path goes to a->resume_buf; *latest = 1 when a
 * checkpoint-<step> inside it was taken. */
int lr_checkpoint_resolve(lr_train_options *a, int *latest, lr_error *err)
{
    latest_ctx c;
    long best, own = state_step(a->resume);
    int rc;
    *latest = 0;
    c.dir = a->resume;
    c.best = -1;
    rc = lr_list_dir(a->resume, note_checkpoint, &c);
    if (rc == LR_DIR_OPEN_FAILED)
        return lr_fail(err, "--resume %s: not a checkpoint or run directory: %s",
                       a->resume, strerror(errno));
    if (rc > 0) return lr_fail(err, "out of memory");
    /* a failed read ends the search with the checkpoints seen so far */
    best = c.best;
    if (own >= 0 && own >= best) { /* a checkpoint itself, or a finished run */
        snprintf(a->resume_buf, sizeof a->resume_buf, "%s", a->resume);
        a->resume = a->resume_buf;
        return 0;
    }
    if (best < 0)
        return lr_fail(err, "--resume %s: no optimizer.safetensors and no "
                       "complete checkpoint-<step> directory in it", a->resume);
    snprintf(a->resume_buf, sizeof a->resume_buf, "%s/checkpoint-%ld", a->resume, best);
    a->resume = a->resume_buf;
    *latest = 1;
    return 0;
}

/* The options recorded in the checkpoint a->resume: one given again
 * (given[k], k indexing lr_train_opt_table) that differs is reported by
 * conflict(ctx, option, given value, recorded value); the others take the
 * recorded value.  Returns the number of conflicts, -1 on a runtime error
 * (err) or -2 when out of memory.  *keep: the open checkpoint, which holds
 * the recorded strings (lr_st_close it after use). */
int lr_checkpoint_resume_options(lr_train_options *a, const unsigned char *given,
                                 void (*conflict)(void *ctx, const char *name,
                                                  const char *mine,
                                                  const char *rec),
                                 void *ctx, lr_st_file **keep, lr_error *err)
{
    char *path = lr_path_join(a->resume, "optimizer.safetensors", NULL);
    lr_st_file *f = NULL;
    const lr_json *meta;
    size_t k, j, n_opts;
    const lr_train_opt *opts = lr_train_opt_table(&n_opts);
    int conflicts = 0;
    char mine[4200];
    *keep = NULL;
    if (!path) return -2;
    if (lr_checkpoint_check_mode(a->resume, a->full, err) ||
        lr_st_open(path, 0, &f, err)) {
        free(path);
        return -1;
    }
    meta = lr_st_metadata(f);
    for (k = 0; k < n_opts; k++) {
        const lr_train_opt *o = &opts[k];
        const lr_json *rec;
        int was_given = 0;
        if (!o->record || !(rec = lr_json_get(meta, o->key)) ||
            rec->type != LR_JSON_STRING)
            continue; /* older checkpoints record lr and seed only */
        for (j = 0; j < n_opts; j++)
            if (given[j] && !strcmp(opts[j].key, o->key)) was_given = 1;
        lr_train_opt_text(a, o, mine, sizeof mine);
        if (o->type == LR_OPT_DBL ? strtod(mine, NULL) == strtod(rec->str, NULL)
                                  : !strcmp(mine, rec->str))
            continue;
        if (was_given) {
            if (conflict) conflict(ctx, o->name, mine, rec->str);
            conflicts++;
            continue;
        }
        { /* take the recorded value */
            char *base = (char *)a, *end;
            switch (o->type) {
            case LR_OPT_STR:
                *(const char **)(void *)(base + o->off) = rec->len ? rec->str : NULL;
                break;
            case LR_OPT_INT: case LR_OPT_SEED:
                *(long *)(void *)(base + o->off) = strtol(rec->str, &end, 10);
                break;
            case LR_OPT_DBL:
                *(double *)(void *)(base + o->off) = strtod(rec->str, &end);
                break;
            default:
                *(int *)(void *)(base + o->off) = atoi(rec->str);
            }
        }
    }
    free(path);
    *keep = f; /* the recorded strings stay valid while it is open */
    return conflicts;
}
