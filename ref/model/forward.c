/* forward.c - the whole Llama forward pass, defined once: the activation
 * layout (acts_layout), the embedding and RoPE table, and one layer
 * function (lr_layer_forward) behind batched full sequences with a padding
 * mask (lr_forward, dump), the training step's forward (lr_forward_adapted:
 * an adapter hook on each projection, layer inputs kept for recompute) and
 * KV-cache decoding (lr_decoder).  See forward.h for the math and the
 * layouts; the backward that mirrors it is in train_step.c.
 * Depends on: matmul, rmsnorm, rope, attention, mlp, model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/forward.h"
#include "llamaref/model/matmul.h"
#include "llamaref/model/mlp.h"
#include "llamaref/model/rmsnorm.h"
#include "llamaref/model/rope.h"

/* ---- activation memory -------------------------------------------------- */

/* A layout being laid out from base (or only counted when base is NULL).
 * The count is kept in double, exact far beyond anything allocatable, so
 * an oversized batch is refused before any size_t arithmetic can wrap. */
typedef struct layout {
    lr_float *base;
    size_t off;   /* lr_floats taken (with base) */
    double n;     /* lr_floats taken */
} layout;

/* Takes rows x cols lr_floats; with a base assigns *p. */
static void take(layout *ly, lr_float **p, double rows, double cols)
{
    /* every buffer a whole number of cache lines (LR_ALIGN bytes): from
     * an aligned base each starts on a line of its own, so threads that
     * write neighbouring rows or heads of two buffers share no line */
    const double line = LR_ALIGN / sizeof(lr_float);
    const double n = ceil(rows * cols / line) * line;
    if (p) *p = ly->base ? ly->base + ly->off : NULL;
    ly->n += n;
    if (ly->base) ly->off += (size_t)n;
}

/* The one definition of the activation layout: every buffer of lr_acts in
 * order.  Lays them out from base (or only counts when base is NULL) and
 * returns the number of lr_floats.  Used by lr_acts_alloc (inference, dump,
 * decoding and training) and lr_acts_floats (memory estimates). */
static double acts_layout(lr_acts *a, lr_float *base)
{
    const double BT = (double)a->B * a->T;
    layout ly;
    int l, nl = (a->flags & LR_ACTS_PER_LAYER) ? a->n_layers : 1;
    ly.base = base; ly.off = 0; ly.n = 0;
    take(&ly, &a->embed, BT, a->D);
    for (l = 0; l < nl; l++) {
        lr_layer_acts *la = base ? &a->layers[l] : NULL;
        lr_layer_acts dummy;
        if (!la) la = &dummy;
        take(&ly, &la->attn_norm, BT, a->D);
        take(&ly, &la->attn_rstd, BT, 1);
        take(&ly, &la->q, BT, a->QD);
        take(&ly, &la->k, BT, a->KVD);
        take(&ly, &la->v, BT, a->KVD);
        take(&ly, &la->q_rope, BT, a->QD);
        take(&ly, &la->k_rope, BT, a->KVD);
        if (a->flags & LR_ACTS_ATTN) {
            take(&ly, &la->attn_scores, BT, (double)a->H * a->T);
            take(&ly, &la->attn_probs, BT, (double)a->H * a->T);
        } else if (a->flags & LR_ACTS_PROBS) {
            la->attn_scores = NULL;
            take(&ly, &la->attn_probs, BT, (double)a->H * a->T);
        } else {
            la->attn_scores = la->attn_probs = NULL;
        }
        take(&ly, &la->attn_out, BT, a->QD);
        take(&ly, &la->o_proj, BT, a->D);
        take(&ly, &la->h, BT, a->D);
        take(&ly, &la->mlp_norm, BT, a->D);
        take(&ly, &la->mlp_rstd, BT, 1);
        take(&ly, &la->gate, BT, a->I);
        take(&ly, &la->up, BT, a->I);
        take(&ly, &la->act, BT, a->I);
        take(&ly, &la->mlp_out, BT, a->D);
        take(&ly, &la->out, BT, a->D);
    }
    if (base)
        for (l = nl; l < a->n_layers; l++) a->layers[l] = a->layers[0];
    take(&ly, &a->final_norm, BT, a->D);
    take(&ly, &a->final_rstd, BT, 1);
    take(&ly, &a->logits, BT, a->V);
    take(&ly, &a->rope_cos, BT, a->head_dim / 2);
    take(&ly, &a->rope_sin, BT, a->head_dim / 2);
    take(&ly, &a->attn_scratch, a->H, a->T);
    return ly.n;
}

/* The sizes of cfg into a (no memory). */
static void acts_shape(lr_acts *a, const lr_config *cfg, int B, int T,
                       int flags)
{
    memset(a, 0, sizeof *a);
    a->B = B; a->T = T; a->flags = flags;
    a->n_layers = cfg->num_hidden_layers;
    a->D = cfg->hidden_size;
    a->H = cfg->num_attention_heads;
    a->KV = cfg->num_key_value_heads;
    a->head_dim = cfg->head_dim;
    a->QD = a->H * a->head_dim;
    a->KVD = a->KV * a->head_dim;
    a->I = cfg->intermediate_size;
    a->V = cfg->vocab_size;
}

double lr_acts_floats(const lr_config *cfg, int B, int T, int flags)
{
    lr_acts a;
    acts_shape(&a, cfg, B, T, flags);
    return acts_layout(&a, NULL);
}

int lr_acts_alloc(lr_acts *a, const lr_config *cfg, int B, int T, int flags,
                  lr_error *err)
{
    size_t bytes, inv_bytes;
    double n;
    if (B < 1 || T < 1) {
        memset(a, 0, sizeof *a);
        return lr_fail(err, "activations: batch %d x %d tokens is empty", B, T);
    }
    acts_shape(a, cfg, B, T, flags);
    n = acts_layout(a, NULL);
    if (n * sizeof(lr_float) > (double)SIZE_MAX / 2)
        return lr_fail(err, "activations for %d x %d tokens do not fit in "
                       "memory", B, T);
    a->layers = lr_zalloc((size_t)a->n_layers, sizeof *a->layers,
                          "layer activations", err);
    if (!a->layers) return -1;
    inv_bytes = ((size_t)a->head_dim / 2 + 1) * sizeof(double);
    inv_bytes = (inv_bytes + LR_ALIGN - 1) / LR_ALIGN * LR_ALIGN;
    bytes = inv_bytes + (size_t)n * sizeof(lr_float);
    a->mem = lr_alloc(bytes, 1, "activations", err);
    if (!a->mem) {
        lr_acts_free(a);
        return -1;
    }
    a->inv_freq = (double *)a->mem;
    acts_layout(a, (lr_float *)((char *)a->mem + inv_bytes));
    lr_rope_inv_freq(cfg, a->inv_freq);
    return 0;
}

void lr_acts_free(lr_acts *a)
{
    free(a->mem);
    free(a->layers);
    memset(a, 0, sizeof *a);
}

/* ---- the layer ---------------------------------------------------------- */

static void add(lr_float *y, const lr_float *a, const lr_float *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = a[i] + b[i];
}

/* y (n, out) += the adapter's branch of projection p of layer l, if any */
static void adapt(const lr_adapter *ad, int l, int p, lr_float *y,
                  const lr_float *x, int n)
{
    if (ad) ad->add(ad->ctx, l, p, y, x, n);
}

void lr_layer_forward(const lr_model *m, int layer, lr_layer_acts *la,
                      const lr_float *x, const lr_float *rope_cos,
                      const lr_float *rope_sin, const unsigned char *mask,
                      int B, int T, lr_float *kc, lr_float *vc, int q_off,
                      lr_float *scratch, const lr_adapter *ad)
{
    /* x (B*T, D) -> la->out (B*T, D) */
    const lr_config *c = &m->config;
    const lr_layer_weights *w = &m->layers[layer];
    const int D = c->hidden_size, I = c->intermediate_size;
    const int H = c->num_attention_heads, KV = c->num_key_value_heads;
    const int hd = c->head_dim, BT = B * T;
    const size_t QD = (size_t)H * hd, KVD = (size_t)KV * hd;
    lr_attn_shape s;
    int b;

    /* attention block: n = rmsnorm(x); q, k, v = n W^T (+ adapter);
     * h = x + attention(rope(q), rope(k), v) Wo^T (+ adapter) */
    lr_rmsnorm_forward(la->attn_norm, la->attn_rstd, x, &w->input_layernorm,
                       BT, D, c->rms_norm_eps);
    lr_matmul(la->q, la->attn_norm, &w->q_proj, BT);
    adapt(ad, layer, LR_PROJ_Q, la->q, la->attn_norm, BT);
    lr_matmul(la->k, la->attn_norm, &w->k_proj, BT);
    adapt(ad, layer, LR_PROJ_K, la->k, la->attn_norm, BT);
    lr_matmul(la->v, la->attn_norm, &w->v_proj, BT);
    adapt(ad, layer, LR_PROJ_V, la->v, la->attn_norm, BT);
    memcpy(la->q_rope, la->q, sizeof(lr_float) * BT * QD);
    memcpy(la->k_rope, la->k, sizeof(lr_float) * BT * KVD);
    lr_rope_forward(la->q_rope, rope_cos, rope_sin, BT, H, hd);
    lr_rope_forward(la->k_rope, rope_cos, rope_sin, BT, KV, hd);
    s.n_heads = H; s.n_kv_heads = KV; s.head_dim = hd; s.Tq = T;
    for (b = 0; b < B; b++) {
        const size_t r0 = (size_t)b * T;
        const lr_float *keys, *vals;
        const unsigned char *km;
        if (kc) { /* B == 1: append to the cache, attend over all of it */
            memcpy(kc + (size_t)q_off * KVD, la->k_rope, sizeof(lr_float) * T * KVD);
            memcpy(vc + (size_t)q_off * KVD, la->v, sizeof(lr_float) * T * KVD);
            keys = kc; vals = vc; km = NULL;
            s.q_off = q_off; s.Tk = q_off + T;
        } else {
            keys = la->k_rope + r0 * KVD; vals = la->v + r0 * KVD;
            km = mask ? mask + r0 : NULL;
            s.q_off = 0; s.Tk = T;
        }
        lr_attention_forward(
            la->attn_out + r0 * QD,
            la->attn_scores ? la->attn_scores + r0 * H * T : NULL,
            la->attn_probs ? la->attn_probs + r0 * H * T : NULL,
            la->q_rope + r0 * QD, keys, vals, km, &s, scratch);
    }
    lr_matmul(la->o_proj, la->attn_out, &w->o_proj, BT);
    adapt(ad, layer, LR_PROJ_O, la->o_proj, la->attn_out, BT);
    add(la->h, x, la->o_proj, (size_t)BT * D);

    /* MLP block: m = rmsnorm(h); out = h + (silu(m Wg^T) * m Wu^T) Wd^T,
     * each projection (+ adapter) */
    lr_rmsnorm_forward(la->mlp_norm, la->mlp_rstd, la->h,
                       &w->post_attention_layernorm, BT, D, c->rms_norm_eps);
    lr_matmul(la->gate, la->mlp_norm, &w->gate_proj, BT);
    adapt(ad, layer, LR_PROJ_GATE, la->gate, la->mlp_norm, BT);
    lr_matmul(la->up, la->mlp_norm, &w->up_proj, BT);
    adapt(ad, layer, LR_PROJ_UP, la->up, la->mlp_norm, BT);
    lr_swiglu_forward(la->act, la->gate, la->up, (size_t)BT * I);
    lr_matmul(la->mlp_out, la->act, &w->down_proj, BT);
    adapt(ad, layer, LR_PROJ_DOWN, la->mlp_out, la->act, BT);
    add(la->out, la->h, la->mlp_out, (size_t)BT * D);
}

/* ---- embedding and RoPE table (every entry point) ----------------------- */

/* x[r] = embed_tokens[tokens[r]] for rows r < n of sequences of T tokens */
static int embed(const lr_model *m, lr_float *x, const int *tokens, int n,
                 int T, lr_error *err)
{
    const int D = m->config.hidden_size, V = m->config.vocab_size;
    int r;
    for (r = 0; r < n; r++) {
        if (tokens[r] < 0 || tokens[r] >= V)
            return lr_fail(err, "token id %d at batch %d position %d is "
                           "outside the vocabulary [0, %d)", tokens[r], r / T,
                           r % T, V);
        lr_tensor_get_range(&m->embed_tokens, (size_t)tokens[r] * D, (size_t)D,
                            x + (size_t)r * D);
    }
    return 0;
}

/* RoPE cos/sin of rows r < n at position pos[r] (which must not be
 * negative), or (pos NULL) pos0 + r % T */
static int rope_rows(lr_acts *a, const lr_config *c, const int *pos, int pos0,
                     int n, int T, lr_error *err)
{
    const int half = c->head_dim / 2;
    int r;
    for (r = 0; r < n; r++) {
        int p = pos ? pos[r] : pos0 + r % T;
        if (pos && p < 0)
            return lr_fail(err, "forward: negative position %d at index %d",
                           p, r);
        lr_rope_table(a->rope_cos + (size_t)r * half,
                      a->rope_sin + (size_t)r * half, &p, 1, a->inv_freq,
                      c->head_dim);
    }
    return 0;
}

/* ---- full sequences ----------------------------------------------------- */

void lr_positions_from_mask(int *pos, const unsigned char *mask, int B, int T)
{
    int b, t;
    for (b = 0; b < B; b++) {
        int c = 0;
        for (t = 0; t < T; t++) {
            c += mask[(size_t)b * T + t] ? 1 : 0;
            pos[(size_t)b * T + t] = mask[(size_t)b * T + t] ? c - 1 : 1;
        }
    }
}

int lr_forward_adapted(const lr_model *m, lr_acts *a, const int *tokens,
                       const int *positions, const unsigned char *mask, int B,
                       int T, const lr_adapter *ad, lr_float *layer_in,
                       lr_error *err)
{
    const lr_config *c = &m->config;
    const size_t BT = (size_t)B * T, D = (size_t)c->hidden_size;
    const lr_float *x;
    int l;
    if (B < 1 || T < 1 || B > a->B || T > a->T)
        return lr_fail(err, "forward: batch %d x %d exceeds the activations' "
                       "%d x %d", B, T, a->B, a->T);
    if (embed(m, a->embed, tokens, (int)BT, T, err) ||
        rope_rows(a, c, positions, 0, (int)BT, T, err))
        return -1;
    if (layer_in) memcpy(layer_in, a->embed, sizeof(lr_float) * BT * D);
    x = a->embed;
    for (l = 0; l < c->num_hidden_layers; l++) {
        lr_layer_acts *la = &a->layers[l];
        lr_layer_forward(m, l, la, x, a->rope_cos, a->rope_sin, mask, B, T,
                         NULL, NULL, 0, a->attn_scratch, ad);
        x = la->out;
        if (layer_in)
            memcpy(layer_in + (size_t)(l + 1) * BT * D, x,
                   sizeof(lr_float) * BT * D);
    }
    lr_rmsnorm_forward(a->final_norm, a->final_rstd, x, &m->norm, (int)BT,
                       c->hidden_size, c->rms_norm_eps);
    lr_matmul(a->logits, a->final_norm, &m->lm_head, (int)BT);
    return 0;
}

int lr_forward(const lr_model *m, lr_acts *a, const int *tokens,
               const int *positions, const unsigned char *mask, int B, int T,
               lr_error *err)
{
    return lr_forward_adapted(m, a, tokens, positions, mask, B, T, NULL, NULL,
                              err);
}

/* ---- KV-cache decoding -------------------------------------------------- */

int lr_decoder_init(lr_decoder *d, const lr_model *m, int max_len, int chunk,
                    lr_error *err)
{
    const lr_config *c = &m->config;
    size_t kvd = (size_t)c->num_key_value_heads * c->head_dim, n;
    memset(d, 0, sizeof *d);
    if (max_len < 1 || chunk < 1)
        return lr_fail(err, "decoder: cache of %d tokens, chunk %d", max_len,
                       chunk);
    if (chunk > max_len) chunk = max_len;
    d->model = m;
    d->max_len = max_len;
    d->chunk = chunk;
    if (lr_size_mul((size_t)c->num_hidden_layers * kvd, (size_t)max_len, &n))
        return lr_fail(err, "decoder: KV cache size overflows");
    d->k = lr_alloc(n, sizeof(lr_float), "KV cache (keys)", err);
    d->v = lr_alloc(n, sizeof(lr_float), "KV cache (values)", err);
    d->logits = lr_alloc((size_t)c->vocab_size, sizeof(lr_float), "logits", err);
    if (!d->k || !d->v || !d->logits ||
        lr_acts_alloc(&d->acts, &m->config, 1, chunk, 0, err)) {
        lr_decoder_free(d);
        return -1;
    }
    /* attention over the whole cache needs a wider scratch row */
    d->scratch = lr_alloc((size_t)c->num_attention_heads,
                          (size_t)max_len * sizeof(lr_float),
                          "attention scratch", err);
    if (!d->scratch) {
        lr_decoder_free(d);
        return -1;
    }
    return 0;
}

void lr_decoder_free(lr_decoder *d)
{
    free(d->k);
    free(d->v);
    free(d->logits);
    free(d->scratch);
    if (d->acts.mem) lr_acts_free(&d->acts);
    memset(d, 0, sizeof *d);
}

void lr_decoder_reset(lr_decoder *d, int pos0)
{
    d->len = 0;
    d->pos0 = pos0;
}

int lr_decoder_feed(lr_decoder *d, const int *tokens, int n,
                    lr_float *all_logits, lr_error *err)
{
    const lr_model *m = d->model;
    const lr_config *c = &m->config;
    const int D = c->hidden_size, V = c->vocab_size;
    const size_t kvd = (size_t)c->num_key_value_heads * c->head_dim;
    lr_acts *a = &d->acts;
    int done = 0, l;
    if (n < 0 || d->len + n > d->max_len)
        return lr_fail(err, "decoder: %d more tokens do not fit in the KV "
                       "cache (%d of %d used)", n, d->len, d->max_len);
    if (d->pos0 + d->len + n < d->pos0)
        return lr_fail(err, "decoder: position overflow");
    while (done < n) {
        const int T = n - done < d->chunk ? n - done : d->chunk;
        const lr_float *x = a->embed;
        if (embed(m, a->embed, tokens + done, T, T, err) ||
            rope_rows(a, c, NULL, d->pos0 + d->len, T, T, err))
            return -1;
        for (l = 0; l < c->num_hidden_layers; l++) {
            lr_layer_acts *la = &a->layers[l];
            size_t base = (size_t)l * d->max_len * kvd;
            lr_layer_forward(m, l, la, x, a->rope_cos, a->rope_sin, NULL, 1,
                             T, d->k + base, d->v + base, d->len,
                             d->scratch, NULL);
            x = la->out;
        }
        d->len += T;
        if (all_logits) {
            lr_rmsnorm_forward(a->final_norm, a->final_rstd, x, &m->norm, T, D,
                               c->rms_norm_eps);
            lr_matmul(all_logits + (size_t)done * V, a->final_norm,
                      &m->lm_head, T);
        }
        done += T;
        if (done == n) { /* logits of the last token only */
            const lr_float *xl = x + (size_t)(T - 1) * D;
            lr_rmsnorm_forward(a->final_norm, NULL, xl, &m->norm, 1, D,
                               c->rms_norm_eps);
            lr_matmul(d->logits, a->final_norm, &m->lm_head, 1);
        }
    }
    return 0;
}
