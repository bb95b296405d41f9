/* train_step.c - the training step: LoRA-adapted forward, loss, and the
 * whole-model backward to the LoRA parameters or (full-parameter training)
 * to every base weight (see train.h).
 *
 * The layer forward below is lr_layer_forward (forward.c) step for step,
 * plus y += s (dropout(x) A^T) B^T after each adapted projection; with no
 * adapter in a layer it does exactly the same arithmetic, so the logits
 * equal lr_forward's bit for bit (tested).
 * Depends on: forward (lr_acts), matmul, rmsnorm, rope, attention, mlp,
 * lora, full, loss. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/attention.h"
#include "llamaref/loss.h"
#include "llamaref/matmul.h"
#include "llamaref/mlp.h"
#include "llamaref/rmsnorm.h"
#include "llamaref/rope.h"
#include "llamaref/train.h"

#define NT LR_LORA_NTARGETS

static double max3(double a, double b, double c)
{
    double m = a > b ? a : b;
    return m > c ? m : c;
}

/* The one definition of the training workspace's own buffers (beside its
 * lr_acts), in order: laid out from base into ws, or only counted when base
 * is NULL; returns the number of lr_floats (counted in double, so an
 * oversized batch cannot wrap). */
static double ws_layout(lr_train_ws *ws, const lr_config *c, int r, int B,
                        int T, int recompute, lr_float *base)
{
    const double BT = (double)B * T, D = c->hidden_size,
                 I = c->intermediate_size, L = c->num_hidden_layers;
    const double QD = (double)c->num_attention_heads * c->head_dim;
    const double KVD = (double)c->num_key_value_heads * c->head_dim;
    double n = 0;
#define TAKE(f, k) do { if (base) ws->f = base + (size_t)n; n += (k); } while (0)
    if (recompute) TAKE(layer_in, (L + 1) * BT * D);
    TAKE(xa, (recompute ? 1 : L) * NT * BT * r);
    TAKE(dres, BT * D); TAKE(dh, BT * D); TAKE(dn, BT * D);
    TAKE(dao, BT * QD); TAKE(dq, BT * QD);
    TAKE(dk, BT * KVD); TAKE(dv, BT * KVD);
    TAKE(dact, BT * I); TAKE(dgate, BT * I); TAKE(dup, BT * I);
    TAKE(dxa, BT * r);
    TAKE(xd, BT * max3(D, QD, I));
    TAKE(attn_scratch, 2.0 * c->num_key_value_heads * T);
#undef TAKE
    return n;
}

double lr_train_ws_bytes(const lr_config *c, int r, int B, int T,
                         int recompute)
{
    return (lr_acts_floats(c, B, T, recompute ? 0 : LR_ACTS_PER_LAYER) +
            ws_layout(NULL, c, r, B, T, recompute, NULL)) *
           sizeof(lr_float);
}

int lr_train_ws_alloc(lr_train_ws *ws, const lr_model *m, const lr_lora *lo,
                      int B, int T, int recompute, lr_error *err)
{
    const lr_config *c = &m->config;
    const int r = lo ? lo->cfg.r : 0;
    double n;
    memset(ws, 0, sizeof *ws);
    ws->B = B; ws->T = T; ws->recompute = recompute;
    if (lr_acts_alloc(&ws->acts, c, B, T, recompute ? 0 : LR_ACTS_PER_LAYER,
                      err))
        return lr_fail_prefix(err, "training workspace");
    n = ws_layout(ws, c, r, B, T, recompute, NULL);
    if (n * sizeof(lr_float) > (double)SIZE_MAX / 2) {
        lr_train_ws_free(ws);
        return lr_fail(err, "training workspace for %d x %d tokens does not "
                       "fit in memory", B, T);
    }
    ws->mem = lr_alloc((size_t)n, sizeof(lr_float), "training workspace",
                       err);
    if (!ws->mem) { lr_train_ws_free(ws); return -1; }
    ws_layout(ws, c, r, B, T, recompute, (lr_float *)ws->mem);
    return 0;
}

void lr_train_ws_free(lr_train_ws *ws)
{
    if (ws->acts.mem) lr_acts_free(&ws->acts);
    free(ws->mem);
    memset(ws, 0, sizeof *ws);
}

/* LoRA intermediates x A^T of (layer, target) */
static lr_float *xa_of(lr_train_ws *ws, const lr_lora *lo, int l, int t)
{
    const size_t BTmax = (size_t)ws->B * ws->T;
    size_t slot = (size_t)(ws->recompute ? 0 : l) * NT + t;
    return ws->xa + slot * BTmax * lo->cfg.r;
}

static uint64_t drop_seed(const lr_train_ws *ws, int l, int t)
{
    return lr_stream_seed(ws->dropout_seed, LR_STREAM_DROPOUT, (uint64_t)l,
                          (uint64_t)t);
}

/* y (n, out) += s * (dropout(x) A^T) B^T for (l, t) if adapted */
static void lora_add(lr_train_ws *ws, const lr_lora *lo, int l, int t,
                     lr_float *y, const lr_float *x, int n)
{
    const lr_lora_slot *s = lo ? lr_lora_slot_get(lo, l, t) : NULL;
    const lr_float *xd = x;
    if (!s) return;
    if (ws->dropout > 0) {
        lr_lora_dropout(ws->xd, x, n, s->in, ws->dropout, drop_seed(ws, l, t));
        xd = ws->xd;
    }
    lr_lora_linear_forward(y, xa_of(ws, lo, l, t), xd, lo->params + s->a_off,
                           lo->params + s->b_off, lo->scale, n, s->in, s->out,
                           lo->cfg.r);
}

static void add(lr_float *y, const lr_float *a, const lr_float *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = a[i] + b[i];
}

/* lr_layer_forward (no KV cache) with the adapters of layer l. */
static void layer_forward(lr_train_ws *ws, const lr_model *m,
                          const lr_lora *lo, int l, lr_layer_acts *la,
                          const lr_float *x)
{
    /* x (B*T, D) -> la->out (B*T, D) */
    const lr_config *c = &m->config;
    const lr_layer_weights *w = &m->layers[l];
    const int B = ws->cur_B, T = ws->cur_T, BT = B * T;
    const int D = c->hidden_size, I = c->intermediate_size;
    const int H = c->num_attention_heads, KV = c->num_key_value_heads;
    const int hd = c->head_dim;
    const size_t QD = (size_t)H * hd, KVD = (size_t)KV * hd;
    const lr_float *cs = ws->acts.rope_cos, *sn = ws->acts.rope_sin;
    lr_attn_shape s;
    int b;

    lr_rmsnorm_forward(la->attn_norm, la->attn_rstd, x, &w->input_layernorm,
                       BT, D, c->rms_norm_eps);
    lr_matmul(la->q, la->attn_norm, &w->q_proj, BT);
    lora_add(ws, lo, l, LR_LORA_Q, la->q, la->attn_norm, BT);
    lr_matmul(la->k, la->attn_norm, &w->k_proj, BT);
    lora_add(ws, lo, l, LR_LORA_K, la->k, la->attn_norm, BT);
    lr_matmul(la->v, la->attn_norm, &w->v_proj, BT);
    lora_add(ws, lo, l, LR_LORA_V, la->v, la->attn_norm, BT);
    memcpy(la->q_rope, la->q, sizeof(lr_float) * BT * QD);
    memcpy(la->k_rope, la->k, sizeof(lr_float) * BT * KVD);
    lr_rope_forward(la->q_rope, cs, sn, BT, H, hd);
    lr_rope_forward(la->k_rope, cs, sn, BT, KV, hd);
    s.n_heads = H; s.n_kv_heads = KV; s.head_dim = hd;
    s.Tq = T; s.Tk = T; s.q_off = 0;
    for (b = 0; b < B; b++) {
        const size_t r0 = (size_t)b * T;
        lr_attention_forward(la->attn_out + r0 * QD, NULL, NULL,
                             la->q_rope + r0 * QD, la->k_rope + r0 * KVD,
                             la->v + r0 * KVD, ws->mask ? ws->mask + r0 : NULL,
                             &s, ws->acts.attn_scratch);
    }
    lr_matmul(la->o_proj, la->attn_out, &w->o_proj, BT);
    lora_add(ws, lo, l, LR_LORA_O, la->o_proj, la->attn_out, BT);
    add(la->h, x, la->o_proj, (size_t)BT * D);

    lr_rmsnorm_forward(la->mlp_norm, la->mlp_rstd, la->h,
                       &w->post_attention_layernorm, BT, D, c->rms_norm_eps);
    lr_matmul(la->gate, la->mlp_norm, &w->gate_proj, BT);
    lora_add(ws, lo, l, LR_LORA_GATE, la->gate, la->mlp_norm, BT);
    lr_matmul(la->up, la->mlp_norm, &w->up_proj, BT);
    lora_add(ws, lo, l, LR_LORA_UP, la->up, la->mlp_norm, BT);
    lr_swiglu_forward(la->act, la->gate, la->up, (size_t)BT * I);
    lr_matmul(la->mlp_out, la->act, &w->down_proj, BT);
    lora_add(ws, lo, l, LR_LORA_DOWN, la->mlp_out, la->act, BT);
    add(la->out, la->h, la->mlp_out, (size_t)BT * D);
}

static const lr_float *layer_input(lr_train_ws *ws, int l)
{
    const size_t BT = (size_t)ws->cur_B * ws->cur_T;
    if (ws->recompute)
        return ws->layer_in + (size_t)l * BT * ws->acts.D;
    return l == 0 ? ws->acts.embed : ws->acts.layers[l - 1].out;
}

int lr_lora_forward(lr_train_ws *ws, const lr_model *m, const lr_lora *lo,
                    const int *tokens, const int *labels,
                    const unsigned char *mask, int B, int T, double dropout,
                    uint64_t dropout_seed, double *nll_sum, long *n_counted,
                    lr_error *err)
{
    const lr_config *c = &m->config;
    lr_acts *a = &ws->acts;
    const int L = c->num_hidden_layers, D = c->hidden_size;
    const int half = c->head_dim / 2;
    const size_t BT = (size_t)B * T;
    const lr_float *x;
    int l, t, r;
    if (B < 1 || T < 1 || B > ws->B || T > ws->T)
        return lr_fail(err, "training step: batch %d x %d exceeds the "
                       "workspace's %d x %d", B, T, ws->B, ws->T);
    ws->cur_B = B; ws->cur_T = T;
    ws->tokens = tokens; ws->labels = labels; ws->mask = mask;
    ws->dropout = dropout; ws->dropout_seed = dropout_seed;
    for (r = 0; r < (int)BT; r++) {
        int v = tokens[r];
        if (v < 0 || v >= c->vocab_size)
            return lr_fail(err, "token id %d at batch %d position %d is "
                           "outside the vocabulary [0, %d)", v, r / T, r % T,
                           c->vocab_size);
        lr_tensor_get_range(&m->embed_tokens, (size_t)v * D, (size_t)D,
                            a->embed + (size_t)r * D);
        t = r % T;
        lr_rope_table(a->rope_cos + (size_t)r * half,
                      a->rope_sin + (size_t)r * half, &t, 1, a->inv_freq,
                      c->head_dim);
    }
    if (ws->recompute) memcpy(ws->layer_in, a->embed, sizeof(lr_float) * BT * D);
    x = a->embed;
    for (l = 0; l < L; l++) {
        lr_layer_acts *la = &a->layers[l];
        layer_forward(ws, m, lo, l, la, x);
        if (ws->recompute) {
            lr_float *next = ws->layer_in + (size_t)(l + 1) * BT * D;
            memcpy(next, la->out, sizeof(lr_float) * BT * D);
            x = next;
        } else {
            x = la->out;
        }
    }
    lr_rmsnorm_forward(a->final_norm, a->final_rstd, x, &m->norm, (int)BT, D,
                       c->rms_norm_eps);
    lr_matmul(a->logits, a->final_norm, &m->lm_head, (int)BT);
    return lr_causal_lm_loss(a->logits, labels, B, T, c->vocab_size, NULL,
                             nll_sum, n_counted, NULL, 1.0, err);
}

/* LoRA backward of (l, t): grads of A, B and dx += (when dx != NULL) */
static void lora_bwd(lr_train_ws *ws, const lr_lora *lo, lr_float *grad,
                     int l, int t, lr_float *dx, const lr_float *dy,
                     const lr_float *x, int n)
{
    const lr_lora_slot *s = lo ? lr_lora_slot_get(lo, l, t) : NULL;
    const lr_float *xd = x;
    if (!s) return;
    if (ws->dropout > 0) {
        lr_lora_dropout(ws->xd, x, n, s->in, ws->dropout, drop_seed(ws, l, t));
        xd = ws->xd;
    }
    lr_lora_linear_backward(dx, grad + s->a_off, grad + s->b_off, ws->dxa, dy,
                            xd, xa_of(ws, lo, l, t), lo->params + s->a_off,
                            lo->params + s->b_off, lo->scale, n, s->in, s->out,
                            lo->cfg.r, ws->dropout, drop_seed(ws, l, t));
}

static int layer_has(const lr_lora *lo, int l, int t0, int t1)
{
    int t;
    if (!lo) return 0;
    for (t = t0; t <= t1; t++)
        if (lr_lora_slot_get(lo, l, t)) return 1;
    return 0;
}

/* dW += dy^T x into the full-training gradient of weight w */
static void wgrad(const lr_full *f, lr_float *fgrad, const lr_tensor *w,
                  const lr_float *dy, const lr_float *x, int n)
{
    lr_matmul_backward_weight(fgrad + lr_full_offset(f, w), dy, x, n,
                              (int)w->shape[1], (int)w->shape[0]);
}

/* RMSNorm weight gradient into the full-training gradient of w */
static void ngrad(const lr_full *f, lr_float *fgrad, const lr_tensor *w,
                  const lr_float *dy, const lr_float *x, const lr_float *rstd,
                  int n, int dim)
{
    lr_rmsnorm_backward_weight(fgrad + lr_full_offset(f, w), dy, x, rstd, n,
                               dim);
}

/* Hands an activation gradient to ws->grad_tap (layer < 0: no layer). */
static int tap(lr_train_ws *ws, int layer, const char *what, const lr_float *x,
               int rows, size_t cols, lr_error *err)
{
    char name[64];
    if (!ws->grad_tap) return 0;
    if (layer >= 0) snprintf(name, sizeof name, "dlayers.%d.%s", layer, what);
    else snprintf(name, sizeof name, "%s", what);
    if (ws->grad_tap(ws->grad_tap_ctx, name, x, rows, (int)cols))
        return lr_fail(err, "recording activation gradient %s failed", name);
    return 0;
}

/* The whole-model backward of the last forward.  LoRA gradients go to
 * grad (when lo != NULL); with f != NULL every base weight's gradient goes
 * to fgrad (layout of f), which needs the backward down to the embedding. */
static int backward(lr_train_ws *ws, const lr_model *m, const lr_lora *lo,
                    lr_float *grad, const lr_full *f, lr_float *fgrad,
                    double grad_scale, lr_error *err)
{
    const lr_config *c = &m->config;
    lr_acts *a = &ws->acts;
    const int B = ws->cur_B, T = ws->cur_T, BT = B * T;
    const int L = c->num_hidden_layers, D = c->hidden_size;
    const int I = c->intermediate_size, H = c->num_attention_heads;
    const int KV = c->num_key_value_heads, hd = c->head_dim;
    const size_t QD = (size_t)H * hd, KVD = (size_t)KV * hd;
    int l, l_min = L, b;
    lr_attn_shape s;
    if (f) l_min = 0;
    for (l = 0; l < L && l_min == L; l++)
        if (layer_has(lo, l, 0, NT - 1)) l_min = l;
    if (l_min == L) return 0;

    /* loss -> dlogits (in place) -> lm_head -> final norm */
    if (lr_causal_lm_loss(a->logits, ws->labels, B, T, c->vocab_size, NULL,
                          NULL, NULL, a->logits, grad_scale, err))
        return -1;
    if (tap(ws, -1, "dlogits", a->logits, BT, (size_t)c->vocab_size, err)) return -1;
    if (f) wgrad(f, fgrad, &m->lm_head, a->logits, a->final_norm, BT);
    memset(ws->dn, 0, sizeof(lr_float) * BT * D);
    lr_matmul_backward(ws->dn, a->logits, &m->lm_head, BT);
    if (tap(ws, -1, "dfinal_norm", ws->dn, BT, (size_t)D, err)) return -1;
    if (f)
        ngrad(f, fgrad, &m->norm, ws->dn, layer_input(ws, L), a->final_rstd,
              BT, D);
    memset(ws->dres, 0, sizeof(lr_float) * BT * D);
    lr_rmsnorm_backward(ws->dres, ws->dn, layer_input(ws, L), &m->norm,
                        a->final_rstd, BT, D);

    s.n_heads = H; s.n_kv_heads = KV; s.head_dim = hd;
    s.Tq = T; s.Tk = T; s.q_off = 0;
    for (l = L - 1; l >= l_min; l--) {
        const lr_layer_weights *w = &m->layers[l];
        lr_layer_acts *la = &a->layers[l];
        const lr_float *x = layer_input(ws, l);
        /* the lowest layer needing no input gradient (LoRA only) */
        const int last = l == l_min && !f;
        if (ws->recompute) layer_forward(ws, m, lo, l, la, x);
        if (tap(ws, l, "out", ws->dres, BT, (size_t)D, err)) return -1;

        /* MLP: out = h + down(act), act = silu(gate) * up */
        if (f) wgrad(f, fgrad, &w->down_proj, ws->dres, la->act, BT);
        memset(ws->dact, 0, sizeof(lr_float) * BT * I);
        lr_matmul_backward(ws->dact, ws->dres, &w->down_proj, BT);
        lora_bwd(ws, lo, grad, l, LR_LORA_DOWN, ws->dact, ws->dres, la->act, BT);
        lr_swiglu_backward(ws->dgate, ws->dup, ws->dact, la->gate, la->up,
                           (size_t)BT * I);
        if (tap(ws, l, "act", ws->dact, BT, (size_t)I, err) ||
            tap(ws, l, "up", ws->dup, BT, (size_t)I, err) ||
            tap(ws, l, "gate", ws->dgate, BT, (size_t)I, err))
            return -1;
        if (last && !layer_has(lo, l, LR_LORA_Q, LR_LORA_O)) {
            lora_bwd(ws, lo, grad, l, LR_LORA_GATE, NULL, ws->dgate,
                     la->mlp_norm, BT);
            lora_bwd(ws, lo, grad, l, LR_LORA_UP, NULL, ws->dup, la->mlp_norm,
                     BT);
            break; /* nothing below needs a gradient */
        }
        if (f) {
            wgrad(f, fgrad, &w->gate_proj, ws->dgate, la->mlp_norm, BT);
            wgrad(f, fgrad, &w->up_proj, ws->dup, la->mlp_norm, BT);
        }
        memset(ws->dn, 0, sizeof(lr_float) * BT * D);
        lr_matmul_backward(ws->dn, ws->dgate, &w->gate_proj, BT);
        lr_matmul_backward(ws->dn, ws->dup, &w->up_proj, BT);
        lora_bwd(ws, lo, grad, l, LR_LORA_GATE, ws->dn, ws->dgate,
                 la->mlp_norm, BT);
        lora_bwd(ws, lo, grad, l, LR_LORA_UP, ws->dn, ws->dup, la->mlp_norm, BT);
        if (tap(ws, l, "mlp_norm", ws->dn, BT, (size_t)D, err)) return -1;
        /* h = x + o_proj(attn); mlp_norm = rmsnorm(h) */
        if (f)
            ngrad(f, fgrad, &w->post_attention_layernorm, ws->dn, la->h,
                  la->mlp_rstd, BT, D);
        memcpy(ws->dh, ws->dres, sizeof(lr_float) * BT * D);
        lr_rmsnorm_backward(ws->dh, ws->dn, la->h, &w->post_attention_layernorm,
                            la->mlp_rstd, BT, D);
        if (tap(ws, l, "h", ws->dh, BT, (size_t)D, err)) return -1;

        /* attention */
        if (f) wgrad(f, fgrad, &w->o_proj, ws->dh, la->attn_out, BT);
        memset(ws->dao, 0, sizeof(lr_float) * BT * QD);
        lr_matmul_backward(ws->dao, ws->dh, &w->o_proj, BT);
        lora_bwd(ws, lo, grad, l, LR_LORA_O, ws->dao, ws->dh, la->attn_out, BT);
        if (tap(ws, l, "attn_out", ws->dao, BT, QD, err)) return -1;
        memset(ws->dk, 0, sizeof(lr_float) * BT * KVD);
        memset(ws->dv, 0, sizeof(lr_float) * BT * KVD);
        for (b = 0; b < B; b++) {
            const size_t r0 = (size_t)b * T;
            lr_attention_backward(ws->dq + r0 * QD, ws->dk + r0 * KVD,
                                  ws->dv + r0 * KVD, ws->dao + r0 * QD,
                                  la->q_rope + r0 * QD, la->k_rope + r0 * KVD,
                                  la->v + r0 * KVD,
                                  ws->mask ? ws->mask + r0 : NULL, &s,
                                  ws->attn_scratch);
        }
        if (tap(ws, l, "v", ws->dv, BT, KVD, err) ||
            tap(ws, l, "k_rope", ws->dk, BT, KVD, err) ||
            tap(ws, l, "q_rope", ws->dq, BT, QD, err))
            return -1;
        lr_rope_backward(ws->dq, a->rope_cos, a->rope_sin, BT, H, hd);
        lr_rope_backward(ws->dk, a->rope_cos, a->rope_sin, BT, KV, hd);
        if (tap(ws, l, "k", ws->dk, BT, KVD, err) ||
            tap(ws, l, "q", ws->dq, BT, QD, err))
            return -1;
        if (last) {
            lora_bwd(ws, lo, grad, l, LR_LORA_Q, NULL, ws->dq, la->attn_norm, BT);
            lora_bwd(ws, lo, grad, l, LR_LORA_K, NULL, ws->dk, la->attn_norm, BT);
            lora_bwd(ws, lo, grad, l, LR_LORA_V, NULL, ws->dv, la->attn_norm, BT);
            break;
        }
        if (f) {
            wgrad(f, fgrad, &w->q_proj, ws->dq, la->attn_norm, BT);
            wgrad(f, fgrad, &w->k_proj, ws->dk, la->attn_norm, BT);
            wgrad(f, fgrad, &w->v_proj, ws->dv, la->attn_norm, BT);
        }
        memset(ws->dn, 0, sizeof(lr_float) * BT * D);
        lr_matmul_backward(ws->dn, ws->dq, &w->q_proj, BT);
        lr_matmul_backward(ws->dn, ws->dk, &w->k_proj, BT);
        lr_matmul_backward(ws->dn, ws->dv, &w->v_proj, BT);
        lora_bwd(ws, lo, grad, l, LR_LORA_Q, ws->dn, ws->dq, la->attn_norm, BT);
        lora_bwd(ws, lo, grad, l, LR_LORA_K, ws->dn, ws->dk, la->attn_norm, BT);
        lora_bwd(ws, lo, grad, l, LR_LORA_V, ws->dn, ws->dv, la->attn_norm, BT);
        if (tap(ws, l, "attn_norm", ws->dn, BT, (size_t)D, err)) return -1;
        /* x -> rmsnorm_in: dres = dh + d rmsnorm(dn) */
        if (f)
            ngrad(f, fgrad, &w->input_layernorm, ws->dn, x, la->attn_rstd, BT,
                  D);
        memcpy(ws->dres, ws->dh, sizeof(lr_float) * BT * D);
        lr_rmsnorm_backward(ws->dres, ws->dn, x, &w->input_layernorm,
                            la->attn_rstd, BT, D);
    }
    /* the loop ran to the end only when the embedding's gradient is needed */
    if (l < 0 && tap(ws, -1, "dembed", ws->dres, BT, (size_t)D, err)) return -1;
    if (f) {
        /* embedding lookup x[r] = E[tok[r]]: scatter-add, ascending r (a
         * tied lm_head's gradient is already in the same rows) */
        lr_float *dE = fgrad + lr_full_offset(f, &m->embed_tokens);
        int r, j;
        for (r = 0; r < BT; r++) {
            lr_float *row = dE + (size_t)ws->tokens[r] * D;
            const lr_float *g = ws->dres + (size_t)r * D;
            for (j = 0; j < D; j++) row[j] += g[j];
        }
    }
    return 0;
}

int lr_lora_backward(lr_train_ws *ws, const lr_model *m, const lr_lora *lo,
                     lr_float *grad, double grad_scale, lr_error *err)
{
    return backward(ws, m, lo, grad, NULL, NULL, grad_scale, err);
}

int lr_full_backward(lr_train_ws *ws, const lr_model *m, const lr_full *f,
                     lr_float *grad, double grad_scale, lr_error *err)
{
    return backward(ws, m, NULL, NULL, f, grad, grad_scale, err);
}
