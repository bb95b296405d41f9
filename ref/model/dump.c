/* dump.c - the forward pass's intermediates as named safetensors entries
 * (names and shapes in dump.h and docs/tensors.md).
 * Depends on: forward (lr_acts), safetensors (writer). */
#include <stdio.h>

#include "llamaref/model/dump.h"

static int put(lr_st_writer *w, const char *name, lr_dtype dtype, int ndim,
               int64_t d0, int64_t d1, int64_t d2, const lr_float *data,
               lr_error *err)
{
    int64_t shape[3];
    shape[0] = d0; shape[1] = d1; shape[2] = d2;
    return lr_st_writer_add_lr(w, name, dtype, ndim, shape, data, err);
}

int lr_dump_acts(lr_st_writer *w, const lr_acts *a, int b, int T, int all,
                 lr_dtype dtype, lr_error *err)
{
    const size_t r0 = (size_t)b * T;
    char name[64];
    int l;
    if (put(w, "logits", dtype, 2, T, a->V, 0, a->logits + r0 * a->V, err))
        return -1;
    if (!all) return 0;
    if (!(a->flags & LR_ACTS_PER_LAYER) || !(a->flags & LR_ACTS_ATTN))
        return lr_fail(err, "dump: every intermediate needs activations "
                       "kept per layer with attention");
    if (put(w, "embed", dtype, 2, T, a->D, 0, a->embed + r0 * a->D, err) ||
        put(w, "final_norm", dtype, 2, T, a->D, 0, a->final_norm + r0 * a->D,
            err))
        return -1;
    for (l = 0; l < a->n_layers; l++) {
        const lr_layer_acts *la = &a->layers[l];
        struct { const char *n; const lr_float *p; int cols; } rows[] = {
            {"attn_norm", la->attn_norm, a->D}, {"q", la->q, a->QD},
            {"k", la->k, a->KVD}, {"v", la->v, a->KVD},
            {"q_rope", la->q_rope, a->QD}, {"k_rope", la->k_rope, a->KVD},
            {"attn_out", la->attn_out, a->QD}, {"o_proj", la->o_proj, a->D},
            {"h", la->h, a->D}, {"mlp_norm", la->mlp_norm, a->D},
            {"gate", la->gate, a->I}, {"up", la->up, a->I},
            {"act", la->act, a->I}, {"mlp_out", la->mlp_out, a->D},
            {"out", la->out, a->D}};
        size_t i, att = r0 * a->H * T;
        for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            snprintf(name, sizeof name, "layers.%d.%s", l, rows[i].n);
            if (put(w, name, dtype, 2, T, rows[i].cols, 0,
                    rows[i].p + r0 * rows[i].cols, err))
                return -1;
        }
        snprintf(name, sizeof name, "layers.%d.attn_scores", l);
        if (put(w, name, dtype, 3, a->H, T, T, la->attn_scores + att, err))
            return -1;
        snprintf(name, sizeof name, "layers.%d.attn_probs", l);
        if (put(w, name, dtype, 3, a->H, T, T, la->attn_probs + att, err))
            return -1;
    }
    return 0;
}
