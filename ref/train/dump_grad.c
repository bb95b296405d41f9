/* dump_grad.c - `llamaref dump --labels [--adapter | --full]`
 * (dump_grad.h): the loss, and with an adapter the LoRA backward's
 * activation gradients and parameter gradients, or with --full the
 * full-parameter backward's (grad.<HF weight name>), written to a
 * safetensors dump.
 * Depends on: train.h (lr_lora_forward / lr_lora_backward,
 * lr_full_forward / lr_full_backward), full.h, forward.h, loss.h,
 * adapter.h, safetensors.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/train/adapter.h"
#include "llamaref/train/dump_grad.h"
#include "llamaref/model/forward.h"
#include "llamaref/train/full.h"
#include "llamaref/model/loss.h"
#include "llamaref/train/train.h"

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

/* The scored tokens' mean loss and the logits it came from: logits
 * [T, vocab] and loss [1]; an error when no label is scored. */
static int write_logits_loss(lr_st_writer *w, lr_dtype dtype, const lr_float *logits,
                             int T, int vocab, double nll, long n, lr_error *err)
{
    int64_t shape[2];
    lr_float loss;
    if (n == 0) return lr_fail(err, "--labels: every label is -100 (no token is scored)");
    loss = (lr_float)(nll / n);
    shape[0] = T; shape[1] = vocab;
    if (lr_st_writer_add_lr(w, "logits", dtype, 2, shape, logits, err)) return -1;
    shape[0] = 1;
    return lr_st_writer_add_lr(w, "loss", dtype, 1, shape, &loss, err);
}

int lr_dump_grads(lr_st_writer *w, const lr_model *m, const char *adapter,
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
        rc = write_logits_loss(w, dtype, a.logits, T, m->config.vocab_size, nll, n, err);
        lr_acts_free(&a);
        return rc ? -1 : 0;
    }
    if (lr_adapter_load(adapter, &m->config, &lo, err) ||
        lr_train_ws_alloc(&ws, m, &lo, 1, T, 0, err) ||
        lr_lora_forward(&ws, m, &lo, ids, labels, NULL, 1, T, 0, 0, &nll, &n, err))
        goto done;
    if (write_logits_loss(w, dtype, ws.acts.logits, T, m->config.vocab_size, nll, n, err))
        goto done;
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

int lr_dump_full_grads(lr_st_writer *w, lr_model *m, const int *ids,
                       const int *labels, int T, lr_dtype dtype, lr_error *err)
{
    lr_full f;
    lr_train_ws ws;
    dump_tap_ctx tc;
    lr_float *grad = NULL;
    double nll;
    long n;
    char key[LR_FULL_NAME_MAX + 8];
    int rc = -1, e;
    memset(&f, 0, sizeof f);
    memset(&ws, 0, sizeof ws);
    if (lr_full_bind(&f, m, err) ||
        lr_train_ws_alloc(&ws, m, NULL, 1, T, 0, err) ||
        lr_full_forward(&ws, m, ids, labels, NULL, 1, T, &nll, &n, err))
        goto done;
    if (write_logits_loss(w, dtype, ws.acts.logits, T, m->config.vocab_size, nll, n, err))
        goto done;
    grad = lr_zalloc(f.n_params, sizeof *grad, "gradients", err);
    tc.w = w; tc.dtype = dtype; tc.err = err;
    ws.grad_tap = dump_tap;
    ws.grad_tap_ctx = &tc;
    if (!grad || lr_full_backward(&ws, m, &f, grad, 1.0 / n, err)) goto done;
    for (e = 0; e < f.n_entries; e++) {
        const lr_full_entry *fe = &f.entries[e];
        snprintf(key, sizeof key, "grad.%s", fe->name);
        if (lr_st_writer_add_lr(w, key, dtype, fe->t->ndim, fe->t->shape,
                                grad + fe->off, err))
            goto done;
    }
    rc = 0;
done:
    free(grad);
    lr_train_ws_free(&ws);
    lr_full_free(&f);
    return rc;
}
