/* dump_file.c - `llamaref dump` as one call (dump_file.h): load, merge
 * the adapter, run the forward (or the loss and backward) and write the
 * tensors.  Prints nothing.
 * Depends on: model.h, adapter.h, lora.h, forward.h, dump.h, dump_grad.h,
 * safetensors.h; POSIX getpid where there is one (lr_dump_file_tmp). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32)
#include <unistd.h> /* getpid */
#endif

#include "llamaref/train/adapter.h"
#include "llamaref/model/dump.h"
#include "llamaref/train/dump_file.h"
#include "llamaref/train/dump_grad.h"
#include "llamaref/model/forward.h"
#include "llamaref/train/lora.h"
#include "llamaref/model/model.h"

/* W' = W + s B A in this process's copy of the weights. */
static int merge_adapter(lr_model *m, const char *dir, lr_error *err)
{
    lr_lora lo;
    int r;
    memset(&lo, 0, sizeof lo);
    r = lr_adapter_load(dir, &m->config, &lo, err) ||
        lr_lora_merge(m, &lo, err);
    lr_lora_free(&lo);
    return r ? lr_fail_prefix(err, "--adapter %s", dir) : 0;
}

int lr_dump_file(const lr_dump_options *o, const char *out, lr_error *err)
{
    lr_model *m = NULL;
    lr_acts a;
    lr_st_writer *w = NULL;
    lr_dtype dt = o->f64 ? LR_F64 : LR_F32;
    int *pos, i, rc = -1;
    memset(&a, 0, sizeof a);
    if (!(pos = lr_alloc(o->T > 0 ? (size_t)o->T : 1, sizeof *pos, "positions", err)))
        return -1;
    for (i = 0; i < o->T; i++) pos[i] = (int)o->pos0 + i;
    if (lr_model_load(o->model_path, NULL, &m, err) ||
        (o->adapter && !o->labels && merge_adapter(m, o->adapter, err)) ||
        (o->labels ? !(w = lr_st_writer_new(err)) ||
                         (o->full ? lr_dump_full_grads(w, m, o->ids, o->labels, o->T, dt,
                                                       err)
                                  : lr_dump_grads(w, m, o->adapter, o->ids, o->labels,
                                                  o->T, dt, err))
                   : lr_acts_alloc(&a, &m->config, 1, o->T,
                                   o->all ? LR_ACTS_PER_LAYER | LR_ACTS_ATTN : 0, err) ||
                         lr_forward(m, &a, o->ids, pos, NULL, 1, o->T, err) ||
                         !(w = lr_st_writer_new(err)) ||
                         lr_dump_acts(w, &a, 0, o->T, o->all, dt, err)) ||
        lr_st_writer_meta(w, "generator", "llamaref dump", err) ||
        lr_st_writer_meta(w, "compute_type", LR_FLOAT_NAME, err) ||
        lr_st_writer_save(w, out, err))
        goto done;
    rc = 0;
done:
    if (w) lr_st_writer_free(w);
    lr_acts_free(&a);
    lr_model_free(m);
    free(pos);
    return rc;
}

int lr_dump_file_tmp(const lr_dump_options *o, char *path, size_t cap, lr_error *err)
{
    lr_dump_options d = *o;
    const char *dir = getenv("TMPDIR");
    long id = 0;
#if !defined(_WIN32)
    id = (long)getpid();
#endif
    snprintf(path, cap, "%s/llamaref-verify-golden.%ld.safetensors",
             dir && *dir ? dir : "/tmp", id);
#ifdef LR_DOUBLE
    d.f64 = 1;
#endif
    return lr_dump_file(&d, path, err);
}
