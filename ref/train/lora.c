/* lora.c - LoRA adapters (PEFT semantics): the target names, the layout
 * of the adapter tensors, their init and merging into the base weights.
 * The adapted linear (dropout, forward, backward) is in lora_linear.c.
 * See lora.h.  Depends on: rng (init), model (merge). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/train/lora.h"
#include "llamaref/core/rng.h"

static const char *const k_names[LR_LORA_NTARGETS] = {
    "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
    "down_proj"};
static const char *const k_paths[LR_LORA_NTARGETS] = {
    "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
    "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};

const char *lr_lora_target_name(int t) { return k_names[t]; }
const char *lr_lora_target_path(int t) { return k_paths[t]; }

int lr_lora_target_from_name(const char *name)
{
    int t;
    for (t = 0; t < LR_LORA_NTARGETS; t++)
        if (!strcmp(name, k_names[t])) return t;
    return -1;
}

int lr_lora_parse_targets(const char *list, unsigned *out, lr_error *err)
{
    char name[32];
    const char *p = list;
    unsigned m = 0;
    if (!strcmp(list, "all") || !strcmp(list, "all-linear")) {
        *out = (1u << LR_LORA_NTARGETS) - 1;
        return 0;
    }
    while (*p) {
        size_t n = strcspn(p, ",");
        int t;
        if (n == 0 || n >= sizeof name)
            return lr_fail(err, "LoRA targets '%s': empty or too long name",
                           list);
        memcpy(name, p, n);
        name[n] = 0;
        t = lr_lora_target_from_name(name);
        if (t < 0)
            return lr_fail(err, "LoRA targets: unknown module '%s' (expected "
                           "q_proj, k_proj, v_proj, o_proj, gate_proj, "
                           "up_proj or down_proj)", name);
        m |= 1u << t;
        p += n;
        if (*p == ',') p++;
    }
    if (!m) return lr_fail(err, "LoRA targets: the list is empty");
    *out = m;
    return 0;
}

double lr_lora_scale(const lr_lora_config *cfg)
{
    return cfg->use_rslora ? cfg->alpha / sqrt((double)cfg->r)
                           : cfg->alpha / cfg->r;
}

/* in/out sizes of target t */
static void target_shape(const lr_config *c, int t, int *in, int *out)
{
    const int D = c->hidden_size, I = c->intermediate_size;
    const int QD = c->num_attention_heads * c->head_dim;
    const int KVD = c->num_key_value_heads * c->head_dim;
    switch (t) {
    case LR_LORA_Q: *in = D; *out = QD; break;
    case LR_LORA_K: *in = D; *out = KVD; break;
    case LR_LORA_V: *in = D; *out = KVD; break;
    case LR_LORA_O: *in = QD; *out = D; break;
    case LR_LORA_GATE: *in = D; *out = I; break;
    case LR_LORA_UP: *in = D; *out = I; break;
    default: *in = I; *out = D; break;
    }
}

int lr_lora_layout(lr_lora *lo, const lr_config *mc, const lr_lora_config *cfg,
                   lr_error *err)
{
    const int L = mc->num_hidden_layers;
    size_t off = 0;
    int l, t;
    memset(lo, 0, sizeof *lo);
    if (cfg->r < 1) return lr_fail(err, "LoRA: rank r = %d must be >= 1", cfg->r);
    if (!(cfg->dropout >= 0 && cfg->dropout < 1))
        return lr_fail(err, "LoRA: dropout %g is outside [0, 1)", cfg->dropout);
    if (!(cfg->targets & ((1u << LR_LORA_NTARGETS) - 1)))
        return lr_fail(err, "LoRA: no target modules");
    if (cfg->layers && cfg->n_layers != L)
        return lr_fail(err, "LoRA: layer list has %d entries, the model %d "
                       "layers", cfg->n_layers, L);
    lo->cfg = *cfg;
    lo->cfg.n_layers = L;
    lo->cfg.layers = NULL;
    lo->scale = lr_lora_scale(cfg);
    lo->slots = lr_alloc((size_t)L * LR_LORA_NTARGETS, sizeof *lo->slots,
                         "LoRA slots", err);
    if (!lo->slots) return -1;
    if (cfg->layers) {
        lo->cfg.layers = lr_alloc((size_t)L, 1, "LoRA layers", err);
        if (!lo->cfg.layers) { lr_lora_free(lo); return -1; }
        memcpy(lo->cfg.layers, cfg->layers, (size_t)L);
    }
    for (l = 0; l < L; l++)
        for (t = 0; t < LR_LORA_NTARGETS; t++) {
            lr_lora_slot *s = &lo->slots[l * LR_LORA_NTARGETS + t];
            target_shape(mc, t, &s->in, &s->out);
            if (!(cfg->targets >> t & 1) || (cfg->layers && !cfg->layers[l])) {
                s->a_off = s->b_off = -1;
                continue;
            }
            /* r * (in + out) must fit, and every offset must fit a long */
            if (s->in < 0 || s->out < 0 ||
                (size_t)s->in + (size_t)s->out > ((size_t)-1 - off) / (size_t)cfg->r ||
                off + (size_t)cfg->r * ((size_t)s->in + (size_t)s->out) >
                    (size_t)LONG_MAX / sizeof(lr_float)) {
                lr_lora_free(lo);
                return lr_fail(err, "LoRA: rank %d gives too many parameters "
                               "for this model", cfg->r);
            }
            s->a_off = (long)off;
            off += (size_t)cfg->r * s->in;
            s->b_off = (long)off;
            off += (size_t)s->out * cfg->r;
        }
    if (off == 0) {
        lr_lora_free(lo);
        return lr_fail(err, "LoRA: no layer is adapted");
    }
    lo->n_params = off;
    lo->params = NULL;
    return 0;
}

int lr_lora_alloc(lr_lora *lo, const lr_config *mc, const lr_lora_config *cfg,
                  lr_error *err)
{
    if (lr_lora_layout(lo, mc, cfg, err)) return -1;
    lo->params = lr_zalloc(lo->n_params, sizeof(lr_float), "LoRA parameters", err);
    if (!lo->params) { lr_lora_free(lo); return -1; }
    return 0;
}

void lr_lora_free(lr_lora *lo)
{
    free(lo->slots);
    free(lo->params);
    free(lo->cfg.layers);
    memset(lo, 0, sizeof *lo);
}

const lr_lora_slot *lr_lora_slot_get(const lr_lora *lo, int layer, int t)
{
    const lr_lora_slot *s = &lo->slots[layer * LR_LORA_NTARGETS + t];
    return s->a_off < 0 ? NULL : s;
}

void lr_lora_init(lr_lora *lo, uint64_t seed)
{
    /* A[r, in] row-major from stream (LORA_INIT, layer, target):
     * A = (2u - 1) / sqrt(in), u = lr_rng_double; B = 0. */
    int l, t;
    size_t i;
    for (l = 0; l < lo->cfg.n_layers; l++)
        for (t = 0; t < LR_LORA_NTARGETS; t++) {
            const lr_lora_slot *s = lr_lora_slot_get(lo, l, t);
            lr_rng rng;
            double bound;
            if (!s) continue;
            bound = 1.0 / sqrt((double)s->in);
            lr_rng_seed(&rng, lr_stream_seed(seed, LR_STREAM_LORA_INIT,
                                             (uint64_t)l, (uint64_t)t));
            for (i = 0; i < (size_t)lo->cfg.r * s->in; i++)
                lo->params[s->a_off + i] =
                    (lr_float)((2.0 * lr_rng_double(&rng) - 1.0) * bound);
            memset(lo->params + s->b_off, 0,
                   sizeof(lr_float) * (size_t)s->out * lo->cfg.r);
        }
}

/* ---- merging ---- */

static lr_tensor *model_linear(lr_model *m, int l, int t)
{
    lr_layer_weights *w = &m->layers[l];
    lr_tensor *ts[LR_LORA_NTARGETS];
    ts[0] = &w->q_proj; ts[1] = &w->k_proj; ts[2] = &w->v_proj;
    ts[3] = &w->o_proj; ts[4] = &w->gate_proj; ts[5] = &w->up_proj;
    ts[6] = &w->down_proj;
    return ts[t];
}

int lr_lora_merge(lr_model *m, const lr_lora *lo, lr_error *err)
{
    const int r = lo->cfg.r;
    int l, t, o, i, j;
    for (l = 0; l < lo->cfg.n_layers; l++)
        for (t = 0; t < LR_LORA_NTARGETS; t++) {
            const lr_lora_slot *s = lr_lora_slot_get(lo, l, t);
            lr_tensor *w;
            lr_float *wf;
            const lr_float *A, *B;
            if (!s) continue;
            w = model_linear(m, l, t);
            if (w->dtype != LR_FLOAT_DTYPE || !w->owned) {
                size_t n = (size_t)s->out * s->in;
                wf = lr_alloc(n, sizeof *wf, "merged weight", err);
                if (!wf)
                    return lr_fail_prefix(err, "merging layer %d %s", l,
                                          k_names[t]);
                lr_tensor_get_range(w, 0, n, wf);
                if (w->owned) free(w->data);
                w->data = wf;
                w->dtype = LR_FLOAT_DTYPE;
                w->owned = 1;
            }
            wf = (lr_float *)w->data;
            A = lo->params + s->a_off;
            B = lo->params + s->b_off;
            for (o = 0; o < s->out; o++)
                for (i = 0; i < s->in; i++) {
                    double acc = 0;
                    for (j = 0; j < r; j++)
                        acc += (double)B[(size_t)o * r + j] *
                               A[(size_t)j * s->in + i];
                    wf[(size_t)o * s->in + i] += (lr_float)(lo->scale * acc);
                }
        }
    return 0;
}
