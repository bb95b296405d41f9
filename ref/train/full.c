/* full.c - binds every base weight of a model to one flat trainable vector
 * (full-parameter training; see full.h).  Depends on: model, rng. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/train/full.h"
#include "llamaref/train/lora.h"
#include "llamaref/core/rng.h"

static int add_entry(lr_full *f, lr_tensor *t, const char *name, int is_norm,
                     lr_error *err)
{
    lr_full_entry *e = &f->entries[f->n_entries++];
    if (t->dtype != LR_FLOAT_DTYPE)
        return lr_fail(err, "full training: weight %s is %s, but training "
                       "needs it in the compute type %s (load the model "
                       "without keeping BF16/F16)", name,
                       lr_dtype_name(t->dtype), lr_dtype_name(LR_FLOAT_DTYPE));
    e->t = t;
    snprintf(e->name, sizeof e->name, "%s", name);
    e->n = (size_t)lr_tensor_nelem(t);
    e->off = f->n_params;
    e->is_norm = is_norm;
    f->n_params += e->n;
    return 0;
}

int lr_full_bind(lr_full *f, lr_model *m, lr_error *err)
{
    static const char *const suffix[9] = {
        "input_layernorm", "self_attn.q_proj", "self_attn.k_proj",
        "self_attn.v_proj", "self_attn.o_proj", "post_attention_layernorm",
        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
    const lr_config *c = &m->config;
    const int L = c->num_hidden_layers;
    char name[LR_FULL_NAME_MAX];
    int l, k;
    memset(f, 0, sizeof *f);
    f->entries = lr_zalloc((size_t)9 * L + 3, sizeof *f->entries,
                           "full-training tensor list", err);
    if (!f->entries) return -1;
    if (add_entry(f, &m->embed_tokens, "model.embed_tokens.weight", 0, err))
        goto fail;
    for (l = 0; l < L; l++) {
        lr_layer_weights *w = &m->layers[l];
        lr_tensor *list[9];
        list[0] = &w->input_layernorm; list[1] = &w->q_proj;
        list[2] = &w->k_proj; list[3] = &w->v_proj; list[4] = &w->o_proj;
        list[5] = &w->post_attention_layernorm; list[6] = &w->gate_proj;
        list[7] = &w->up_proj; list[8] = &w->down_proj;
        for (k = 0; k < 9; k++) {
            snprintf(name, sizeof name, "model.layers.%d.%s.weight", l,
                     suffix[k]);
            if (add_entry(f, list[k], name, k == 0 || k == 5, err)) goto fail;
        }
    }
    if (add_entry(f, &m->norm, "model.norm.weight", 1, err)) goto fail;
    if (!c->tie_word_embeddings &&
        add_entry(f, &m->lm_head, "lm_head.weight", 0, err))
        goto fail;
    f->params = lr_alloc(f->n_params, sizeof(lr_float),
                         "full-training parameters", err);
    f->decay = lr_alloc(f->n_params, 1, "weight-decay mask", err);
    if (!f->params || !f->decay) goto fail;
    for (k = 0; k < f->n_entries; k++) {
        lr_full_entry *e = &f->entries[k];
        lr_float *dst = f->params + e->off;
        memcpy(dst, e->t->data, e->n * sizeof *dst);
        memset(f->decay + e->off, e->is_norm ? 0 : 1, e->n);
        if (e->t->owned) free(e->t->data);
        e->t->data = dst;
        e->t->owned = 0;
    }
    if (c->tie_word_embeddings) {
        m->lm_head.data = m->embed_tokens.data;
        m->lm_head.owned = 0;
    }
    return 0;
fail:
    lr_full_free(f);
    return lr_fail_prefix(err, "full training");
}

void lr_full_free(lr_full *f)
{
    free(f->entries);
    free(f->params);
    free(f->decay);
    memset(f, 0, sizeof *f);
}

size_t lr_full_offset(const lr_full *f, const lr_tensor *t)
{
    int k;
    for (k = 0; k < f->n_entries; k++)
        if (f->entries[k].t == t || f->entries[k].t->data == t->data)
            return f->entries[k].off;
    return (size_t)-1;
}

const lr_full_entry *lr_full_find(const lr_full *f, const char *name)
{
    int k;
    for (k = 0; k < f->n_entries; k++)
        if (!strcmp(f->entries[k].name, name)) return &f->entries[k];
    return NULL;
}

void lr_full_init_normal(lr_full *f, uint64_t seed, double std)
{
    const double two_pi = 6.28318530717958647692;
    int k;
    for (k = 0; k < f->n_entries; k++) {
        const lr_full_entry *e = &f->entries[k];
        lr_float *p = f->params + e->off;
        lr_rng r;
        size_t i;
        if (e->is_norm) {
            for (i = 0; i < e->n; i++) p[i] = 1;
            continue;
        }
        lr_rng_seed(&r, lr_stream_seed(seed, LR_STREAM_FULL_INIT, (uint64_t)k,
                                       0));
        for (i = 0; i < e->n; i++) {
            const double u1 = lr_rng_double(&r), u2 = lr_rng_double(&r);
            p[i] = (lr_float)(std * sqrt(-2.0 * log(1.0 - u1)) *
                              cos(two_pi * u2));
        }
    }
}
