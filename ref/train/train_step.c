/* train_step.c - one training step: the forward of forward.c with the LoRA
 * adapters hooked in, the HF causal-LM loss, and the backward, which walks
 * the same steps in reverse (layer_backward mirrors lr_layer_forward, as
 * llm.c's gpt2_backward mirrors gpt2_forward).  Where the parameters'
 * gradients go is a separate concern (a grad_sink): the LoRA A and B
 * (lr_lora_backward) or every base weight (lr_full_backward); both share
 * the per-op backward functions.  See train.h.
 * Depends on: forward (lr_forward_adapted, lr_layer_forward, lr_acts),
 * matmul, rmsnorm, rope, attention, mlp, lora, full, loss. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/attention.h"
#include "llamaref/model/loss.h"
#include "llamaref/model/matmul.h"
#include "llamaref/model/mlp.h"
#include "llamaref/model/rmsnorm.h"
#include "llamaref/model/rope.h"
#include "llamaref/train/train.h"

#define NT LR_LORA_NTARGETS

static double max3(double a, double b, double c)
{
    double m = a > b ? a : b;
    return m > c ? m : c;
}

/* Bytes of one (layer, target)'s dropout mask: a bit per element of the
 * largest input, each of the B sequences' T rows from a whole byte (with
 * per-sequence seeds, lr_lora_forward_each, each draws its own). */
static double keep_bytes(double B, double T, double D, double QD, double I)
{
    return B * ceil(T * max3(D, QD, I) / 8);
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
    const double line = LR_ALIGN / sizeof(lr_float);
    double n = 0;
    /* each buffer whole cache lines, as in forward.c's layout */
#define TAKE(f, k) do { if (base) ws->f = base + (size_t)n; \
                        n += ceil((k) / line) * line; } while (0)
    if (recompute) TAKE(layer_in, (L + 1) * BT * D);
    TAKE(xa, (recompute ? 1 : L) * NT * BT * r);
    TAKE(dres, BT * D); TAKE(dh, BT * D); TAKE(dn, BT * D);
    TAKE(dao, BT * QD); TAKE(dq, BT * QD);
    TAKE(dk, BT * KVD); TAKE(dv, BT * KVD);
    TAKE(dact, BT * I); TAKE(dgate, BT * I); TAKE(dup, BT * I);
    TAKE(dxa, BT * r);
    /* LoRA's dropout masks, bits: [layers or 1][7][BT * max in / 8 bytes] */
    if (base) ws->keep = (unsigned char *)(base + (size_t)n);
    n += r > 0 ? ceil((recompute ? 1 : L) * NT * keep_bytes(B, T, D, QD, I) /
                      sizeof(lr_float) / line) * line
               : 0;
    TAKE(xd, BT * max3(D, QD, I));
    TAKE(attn_scratch, 2.0 * c->num_key_value_heads * T);
    /* the loss's log-sum-exp of each row, doubles */
    if (base) ws->lse = (double *)(void *)(base + (size_t)n);
    n += ceil(BT * sizeof(double) / sizeof(lr_float) / line) * line;
#undef TAKE
    return n;
}

/* The activations kept for the backward: every layer's (or, with
 * recompute, one layer's), and the attention probabilities when they are
 * small (at most 256 MiB, or an eighth of the rest): then the backward
 * reads them instead of recomputing them (the same bits; no exp). */
static int acts_flags(const lr_config *c, int B, int T, int recompute)
{
    const int base = recompute ? 0 : LR_ACTS_PER_LAYER;
    const double rest = lr_acts_floats(c, B, T, base) * sizeof(lr_float);
    const double probs = (lr_acts_floats(c, B, T, base | LR_ACTS_PROBS) -
                          lr_acts_floats(c, B, T, base)) * sizeof(lr_float);
    return probs <= 256.0 * 1024 * 1024 || probs <= rest / 8
               ? base | LR_ACTS_PROBS : base;
}

double lr_train_ws_bytes(const lr_config *c, int r, int B, int T,
                         int recompute)
{
    return (lr_acts_floats(c, B, T, acts_flags(c, B, T, recompute)) +
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
    if (lr_acts_alloc(&ws->acts, c, B, T, acts_flags(c, B, T, recompute),
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

/* ---- the forward ---------------------------------------------------------- */

/* LoRA intermediates x A^T of (layer, target) */
static lr_float *xa_of(lr_train_ws *ws, const lr_lora *lo, int l, int t)
{
    const size_t BTmax = (size_t)ws->B * ws->T;
    size_t slot = (size_t)(ws->recompute ? 0 : l) * NT + t;
    return ws->xa + slot * BTmax * lo->cfg.r;
}

/* LoRA dropout mask of (layer, target), drawn in the forward for the
 * backward */
static unsigned char *keep_of(lr_train_ws *ws, int l, int t)
{
    const lr_acts *a = &ws->acts;
    size_t slot = (size_t)(ws->recompute ? 0 : l) * NT + t;
    return ws->keep + slot * (size_t)keep_bytes(ws->B, ws->T, a->D, a->QD,
                                                a->I);
}

/* Sequence b's part of that mask when each sequence draws its own
 * (ws->seeds): rows [b T, (b + 1) T) of in columns. */
static unsigned char *keep_seq(lr_train_ws *ws, int l, int t, int b)
{
    const lr_acts *a = &ws->acts;
    return keep_of(ws, l, t) +
           (size_t)b * (size_t)keep_bytes(1, ws->T, a->D, a->QD, a->I);
}

/* The dropout stream of (layer l, target t): from the batch's seed, or
 * (ws->seeds) from sequence b's */
static uint64_t drop_seed(const lr_train_ws *ws, int l, int t, int b)
{
    return lr_stream_seed(ws->seeds ? ws->seeds[b] : ws->dropout_seed,
                          LR_STREAM_DROPOUT, (uint64_t)l, (uint64_t)t);
}

/* xd = dropout(x) for (l, t), n rows of in: the mask drawn now (draw) or
 * the forward's; one mask over the batch, or each sequence's own. */
static void dropout_rows(lr_train_ws *ws, int l, int t, const lr_float *x,
                         int n, int in, int draw)
{
    const size_t rows = (size_t)ws->cur_T * in;
    int b;
    if (!ws->seeds) {
        if (draw)
            lr_lora_dropout_keep(keep_of(ws, l, t), n, in, ws->dropout,
                                 drop_seed(ws, l, t, 0));
        lr_lora_dropout_apply(ws->xd, x, keep_of(ws, l, t), n, in,
                              ws->dropout);
        return;
    }
    for (b = 0; b < ws->cur_B; b++) {
        unsigned char *keep = keep_seq(ws, l, t, b);
        if (draw)
            lr_lora_dropout_keep(keep, ws->cur_T, in, ws->dropout,
                                 drop_seed(ws, l, t, b));
        lr_lora_dropout_apply(ws->xd + b * rows, x + b * rows, keep,
                              ws->cur_T, in, ws->dropout);
    }
}

/* The adapter hook (forward.h): y (n, out) += s * (dropout(x) A^T) B^T for
 * (l, t) if adapted, keeping x A^T for the backward.  ctx: the workspace. */
static void lora_add(void *ctx, int l, int t, lr_float *y, const lr_float *x,
                     int n)
{
    lr_train_ws *ws = (lr_train_ws *)ctx;
    const lr_lora *lo = ws->lo;
    const lr_lora_slot *s = lr_lora_slot_get(lo, l, t);
    const lr_float *xd = x;
    if (!s) return;
    if (ws->dropout > 0) {
        dropout_rows(ws, l, t, x, n, s->in, 1);
        xd = ws->xd;
    }
    lr_lora_linear_forward(y, xa_of(ws, lo, l, t), xd, lo->params + s->a_off,
                           lo->params + s->b_off, lo->scale, n, s->in, s->out,
                           lo->cfg.r);
}

/* The hook of the workspace's adapters (NULL: none). */
static const lr_adapter *adapter_of(lr_train_ws *ws)
{
    ws->hook.add = lora_add;
    ws->hook.ctx = ws;
    return ws->lo ? &ws->hook : NULL;
}

static const lr_float *layer_input(lr_train_ws *ws, int l)
{
    const size_t BT = (size_t)ws->cur_B * ws->cur_T;
    if (ws->recompute)
        return ws->layer_in + (size_t)l * BT * ws->acts.D;
    return l == 0 ? ws->acts.embed : ws->acts.layers[l - 1].out;
}

/* lr_forward_adapted with the adapters of lo (or none), then the loss:
 * summed over the batch, or (seeds: one dropout seed per sequence) each
 * sequence's into nll_sum[b], n_counted[b]. */
static int train_forward(lr_train_ws *ws, const lr_model *m, const lr_lora *lo,
                         const int *tokens, const int *labels,
                         const unsigned char *mask, int B, int T,
                         double dropout, uint64_t dropout_seed,
                         const uint64_t *seeds, double *nll_sum,
                         long *n_counted, lr_error *err)
{
    const lr_config *c = &m->config;
    const size_t V = (size_t)c->vocab_size;
    int b;
    if (B < 1 || T < 1 || B > ws->B || T > ws->T)
        return lr_fail(err, "training step: batch %d x %d exceeds the "
                       "workspace's %d x %d", B, T, ws->B, ws->T);
    ws->cur_B = B; ws->cur_T = T;
    ws->tokens = tokens; ws->labels = labels; ws->mask = mask;
    ws->dropout = dropout; ws->dropout_seed = dropout_seed;
    ws->seeds = seeds;
    ws->lo = lo;
    if (lr_forward_adapted(m, &ws->acts, tokens, NULL, mask, B, T,
                           adapter_of(ws),
                           ws->recompute ? ws->layer_in : NULL, err))
        return -1;
    /* each row's log-sum-exp kept for the backward's dlogits */
    if (!seeds)
        return lr_causal_lm_loss_lse(ws->acts.logits, labels, B, T,
                                     c->vocab_size, NULL, nll_sum, n_counted,
                                     NULL, 1.0, ws->lse, 0, err);
    for (b = 0; b < B; b++)
        if (lr_causal_lm_loss_lse(ws->acts.logits + (size_t)b * T * V,
                                  labels + (size_t)b * T, 1, T, c->vocab_size,
                                  NULL, nll_sum + b, n_counted + b, NULL, 1.0,
                                  ws->lse + (size_t)b * T, 0, err))
            return -1;
    return 0;
}

int lr_lora_forward(lr_train_ws *ws, const lr_model *m, const lr_lora *lo,
                    const int *tokens, const int *labels,
                    const unsigned char *mask, int B, int T, double dropout,
                    uint64_t dropout_seed, double *nll_sum, long *n_counted,
                    lr_error *err)
{
    return train_forward(ws, m, lo, tokens, labels, mask, B, T, dropout,
                         dropout_seed, NULL, nll_sum, n_counted, err);
}

int lr_lora_forward_each(lr_train_ws *ws, const lr_model *m,
                         const lr_lora *lo, const int *tokens,
                         const int *labels, int B, int T, double dropout,
                         const uint64_t *seeds, double *nll, long *n_counted,
                         lr_error *err)
{
    return train_forward(ws, m, lo, tokens, labels, NULL, B, T, dropout, 0,
                         seeds, nll, n_counted, err);
}

int lr_full_forward(lr_train_ws *ws, const lr_model *m, const int *tokens,
                    const int *labels, const unsigned char *mask, int B, int T,
                    double *nll_sum, long *n_counted, lr_error *err)
{
    return train_forward(ws, m, NULL, tokens, labels, mask, B, T, 0, 0, NULL,
                         nll_sum, n_counted, err);
}

/* ---- where the parameters' gradients go ----------------------------------- */

/* One concern per kind of training.  The backward calls linear at each
 * projection y = x W^T (layer < 0: lm_head) after adding dy W into dx (dx
 * NULL when nothing below needs the input's gradient); an adapter adds its
 * own part of dx.  norm gets each RMSNorm weight's dy, embed the
 * embedding's gradient. */
typedef struct grad_sink grad_sink;
struct grad_sink {
    void (*linear)(const grad_sink *g, int layer, int proj, const lr_tensor *w,
                   lr_float *dx, const lr_float *dy, const lr_float *x, int n);
    void (*norm)(const grad_sink *g, const lr_tensor *w, const lr_float *dy,
                 const lr_float *x, const lr_float *rstd, int n, int dim);
    void (*embed)(const grad_sink *g, const lr_float *dx, int n);
    lr_train_ws *ws;
    const lr_model *m;
    const lr_lora *lo;  /* LoRA */
    const lr_full *f;   /* full-parameter */
    lr_float *grad;     /* layout of lo or f */
    size_t stride;      /* LoRA, non-zero: sequence b's into grad + b stride */
    lr_float *acc;      /* full, non-NULL: projections' gradients folded in */
};

/* LoRA: grads of A and B of (layer, t), and dx += the branch's part:
 *   y = x W^T + s (dropout(x) A^T) B^T   (derivation in lora_linear.c) */
static void lora_linear(const grad_sink *g, int layer, int t,
                        const lr_tensor *w, lr_float *dx, const lr_float *dy,
                        const lr_float *x, int n)
{
    lr_train_ws *ws = g->ws;
    const lr_lora *lo = g->lo;
    const lr_lora_slot *s = layer < 0 ? NULL : lr_lora_slot_get(lo, layer, t);
    const lr_float *xd = x, *xa;
    const int T = ws->cur_T, r = lo->cfg.r;
    int b;
    (void)w;
    if (!s) return;
    xa = xa_of(ws, lo, layer, t);
    if (ws->dropout > 0) { /* the forward's mask (drawn once) */
        dropout_rows(ws, layer, t, x, n, s->in, 0);
        xd = ws->xd;
    }
    if (!g->stride) { /* one sum over the batch's rows */
        lr_lora_linear_backward_keep(
            dx, g->grad + s->a_off, g->grad + s->b_off, ws->dxa, dy, xd, xa,
            lo->params + s->a_off, lo->params + s->b_off, lo->scale, n,
            s->in, s->out, r, ws->dropout,
            ws->dropout > 0 ? keep_of(ws, layer, t) : NULL);
        return;
    }
    /* each sequence's rows alone, into its own gradient: the calls a
     * batch of one makes (dx's rows do not depend on the others) */
    for (b = 0; b < ws->cur_B; b++) {
        const size_t r0 = (size_t)b * T;
        lr_float *gb = g->grad + (size_t)b * g->stride;
        lr_lora_linear_backward_keep(
            dx ? dx + r0 * s->in : NULL, gb + s->a_off, gb + s->b_off,
            ws->dxa, dy + r0 * s->out, xd + r0 * s->in, xa + r0 * r,
            lo->params + s->a_off, lo->params + s->b_off, lo->scale, T,
            s->in, s->out, r, ws->dropout,
            ws->dropout > 0 ? keep_seq(ws, layer, t, b) : NULL);
    }
}

/* LoRA leaves the norms and the embedding frozen. */
static void lora_norm(const grad_sink *g, const lr_tensor *w,
                      const lr_float *dy, const lr_float *x,
                      const lr_float *rstd, int n, int dim)
{
    (void)g; (void)w; (void)dy; (void)x; (void)rstd; (void)n; (void)dim;
}

static void lora_embed(const grad_sink *g, const lr_float *dx, int n)
{
    (void)g; (void)dx; (void)n;
}

/* Full: dW += dy^T x (W [out, in], dy (n, out), x (n, in)); with acc,
 * acc += (dW from zero), except for a tied lm_head, whose rows the
 * embedding's gradient adds to (full_embed) before they are folded */
static void full_linear(const grad_sink *g, int layer, int proj,
                        const lr_tensor *w, lr_float *dx, const lr_float *dy,
                        const lr_float *x, int n)
{
    const size_t off = lr_full_offset(g->f, w);
    (void)layer; (void)proj; (void)dx;
    if (g->acc && off != lr_full_offset(g->f, &g->m->embed_tokens))
        lr_matmul_backward_weight_fold(g->acc + off, dy, x, n,
                                       (int)w->shape[1], (int)w->shape[0]);
    else
        lr_matmul_backward_weight(g->grad + off, dy, x, n, (int)w->shape[1],
                                  (int)w->shape[0]);
}

/* Full: the RMSNorm weight's gradient (rmsnorm.c) */
static void full_norm(const grad_sink *g, const lr_tensor *w,
                      const lr_float *dy, const lr_float *x,
                      const lr_float *rstd, int n, int dim)
{
    lr_rmsnorm_backward_weight(g->grad + lr_full_offset(g->f, w), dy, x, rstd,
                               n, dim);
}

/* Full: the lookup x[r] = E[tok[r]] scatter-adds dx[r] into row tok[r],
 * ascending r (a tied lm_head's gradient is already in the same rows). */
static void full_embed(const grad_sink *g, const lr_float *dx, int n)
{
    const int D = g->m->config.hidden_size;
    lr_float *dE = g->grad + lr_full_offset(g->f, &g->m->embed_tokens);
    int r, j;
    for (r = 0; r < n; r++) {
        lr_float *row = dE + (size_t)g->ws->tokens[r] * D;
        const lr_float *gr = dx + (size_t)r * D;
        for (j = 0; j < D; j++) row[j] += gr[j];
    }
}

/* ---- the backward ---------------------------------------------------------- */

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

/* How far down a layer's backward must go: to its input (every layer above
 * the lowest one a gradient is needed in), or, in that lowest layer when
 * only LoRA parameters need gradients, to q/k/v or to gate/up. */
enum { TO_INPUT, TO_QKV, TO_GATE_UP };

/* The backward of lr_layer_forward, its steps in reverse.  On entry ws->dres
 * holds d out [BT, D]; on exit (stop == TO_INPUT) d x. */
static int layer_backward(lr_train_ws *ws, const lr_model *m,
                          const grad_sink *g, int l, int stop, lr_error *err)
{
    const lr_config *c = &m->config;
    const lr_layer_weights *w = &m->layers[l];
    lr_acts *a = &ws->acts;
    lr_layer_acts *la = &a->layers[l];
    const lr_float *x = layer_input(ws, l);
    const int B = ws->cur_B, T = ws->cur_T, BT = B * T;
    const int D = c->hidden_size, I = c->intermediate_size;
    const int H = c->num_attention_heads, KV = c->num_key_value_heads;
    const int hd = c->head_dim;
    const size_t QD = (size_t)H * hd, KVD = (size_t)KV * hd;
    lr_attn_shape s;
    int b;
    if (ws->recompute)
        lr_layer_forward(m, l, la, x, a->rope_cos, a->rope_sin, ws->mask, B,
                         T, NULL, NULL, 0, a->attn_scratch, adapter_of(ws));
    if (tap(ws, l, "out", ws->dres, BT, (size_t)D, err)) return -1;

    /* MLP block: out = h + act Wd^T, act = silu(gate) * up,
     * gate = m Wg^T, up = m Wu^T, m = rmsnorm(h) */
    memset(ws->dact, 0, sizeof(lr_float) * BT * I);
    lr_matmul_backward(ws->dact, ws->dres, &w->down_proj, BT);
    g->linear(g, l, LR_PROJ_DOWN, &w->down_proj, ws->dact, ws->dres, la->act,
              BT);
    lr_swiglu_backward(ws->dgate, ws->dup, ws->dact, la->gate, la->up,
                       (size_t)BT * I);
    if (tap(ws, l, "act", ws->dact, BT, (size_t)I, err) ||
        tap(ws, l, "up", ws->dup, BT, (size_t)I, err) ||
        tap(ws, l, "gate", ws->dgate, BT, (size_t)I, err))
        return -1;
    if (stop == TO_GATE_UP) { /* nothing below needs a gradient */
        g->linear(g, l, LR_PROJ_GATE, &w->gate_proj, NULL, ws->dgate,
                  la->mlp_norm, BT);
        g->linear(g, l, LR_PROJ_UP, &w->up_proj, NULL, ws->dup, la->mlp_norm,
                  BT);
        return 0;
    }
    memset(ws->dn, 0, sizeof(lr_float) * BT * D);
    lr_matmul_backward(ws->dn, ws->dgate, &w->gate_proj, BT);
    lr_matmul_backward(ws->dn, ws->dup, &w->up_proj, BT);
    g->linear(g, l, LR_PROJ_GATE, &w->gate_proj, ws->dn, ws->dgate,
              la->mlp_norm, BT);
    g->linear(g, l, LR_PROJ_UP, &w->up_proj, ws->dn, ws->dup, la->mlp_norm,
              BT);
    if (tap(ws, l, "mlp_norm", ws->dn, BT, (size_t)D, err)) return -1;
    g->norm(g, &w->post_attention_layernorm, ws->dn, la->h, la->mlp_rstd, BT,
            D);
    /* dh = dout (residual) + d rmsnorm(h) */
    memcpy(ws->dh, ws->dres, sizeof(lr_float) * BT * D);
    lr_rmsnorm_backward(ws->dh, ws->dn, la->h, &w->post_attention_layernorm,
                        la->mlp_rstd, BT, D);
    if (tap(ws, l, "h", ws->dh, BT, (size_t)D, err)) return -1;

    /* attention block: h = x + attn_out Wo^T, attn_out = attention(q_rope,
     * k_rope, v), q_rope = rope(n Wq^T), k_rope = rope(n Wk^T), v = n Wv^T,
     * n = rmsnorm(x) */
    memset(ws->dao, 0, sizeof(lr_float) * BT * QD);
    lr_matmul_backward(ws->dao, ws->dh, &w->o_proj, BT);
    g->linear(g, l, LR_PROJ_O, &w->o_proj, ws->dao, ws->dh, la->attn_out, BT);
    if (tap(ws, l, "attn_out", ws->dao, BT, QD, err)) return -1;
    memset(ws->dk, 0, sizeof(lr_float) * BT * KVD);
    memset(ws->dv, 0, sizeof(lr_float) * BT * KVD);
    s.n_heads = H; s.n_kv_heads = KV; s.head_dim = hd;
    s.Tq = T; s.Tk = T; s.q_off = 0;
    for (b = 0; b < B; b++) {
        const size_t r0 = (size_t)b * T;
        lr_attention_backward_saved(
            ws->dq + r0 * QD, ws->dk + r0 * KVD, ws->dv + r0 * KVD,
            ws->dao + r0 * QD, la->q_rope + r0 * QD, la->k_rope + r0 * KVD,
            la->v + r0 * KVD,
            la->attn_probs ? la->attn_probs + r0 * H * T : NULL,
            ws->mask ? ws->mask + r0 : NULL, &s, ws->attn_scratch);
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
    if (stop == TO_QKV) { /* nothing below needs a gradient */
        g->linear(g, l, LR_PROJ_Q, &w->q_proj, NULL, ws->dq, la->attn_norm,
                  BT);
        g->linear(g, l, LR_PROJ_K, &w->k_proj, NULL, ws->dk, la->attn_norm,
                  BT);
        g->linear(g, l, LR_PROJ_V, &w->v_proj, NULL, ws->dv, la->attn_norm,
                  BT);
        return 0;
    }
    memset(ws->dn, 0, sizeof(lr_float) * BT * D);
    lr_matmul_backward(ws->dn, ws->dq, &w->q_proj, BT);
    lr_matmul_backward(ws->dn, ws->dk, &w->k_proj, BT);
    lr_matmul_backward(ws->dn, ws->dv, &w->v_proj, BT);
    g->linear(g, l, LR_PROJ_Q, &w->q_proj, ws->dn, ws->dq, la->attn_norm, BT);
    g->linear(g, l, LR_PROJ_K, &w->k_proj, ws->dn, ws->dk, la->attn_norm, BT);
    g->linear(g, l, LR_PROJ_V, &w->v_proj, ws->dn, ws->dv, la->attn_norm, BT);
    if (tap(ws, l, "attn_norm", ws->dn, BT, (size_t)D, err)) return -1;
    g->norm(g, &w->input_layernorm, ws->dn, x, la->attn_rstd, BT, D);
    /* dx = dh (residual) + d rmsnorm(x) */
    memcpy(ws->dres, ws->dh, sizeof(lr_float) * BT * D);
    lr_rmsnorm_backward(ws->dres, ws->dn, x, &w->input_layernorm,
                        la->attn_rstd, BT, D);
    return 0;
}

/* The backward of the last forward (lr_forward_adapted and the loss), its
 * steps in reverse, down to layer l_min, where it stops at stop (down to
 * the embedding when l_min == 0 and stop == TO_INPUT). */
static int model_backward(lr_train_ws *ws, const lr_model *m,
                          const grad_sink *g, int l_min, int stop,
                          double grad_scale, lr_error *err)
{
    const lr_config *c = &m->config;
    lr_acts *a = &ws->acts;
    const int B = ws->cur_B, T = ws->cur_T, BT = B * T;
    const int L = c->num_hidden_layers, D = c->hidden_size;
    int l;

    /* loss -> dlogits (in place); logits = final_norm Wlm^T;
     * final_norm = rmsnorm(x_L) */
    if (lr_causal_lm_loss_lse(a->logits, ws->labels, B, T, c->vocab_size,
                              NULL, NULL, NULL, a->logits, grad_scale,
                              ws->lse, 1, err))
        return -1;
    if (tap(ws, -1, "dlogits", a->logits, BT, (size_t)c->vocab_size, err))
        return -1;
    memset(ws->dn, 0, sizeof(lr_float) * BT * D);
    lr_matmul_backward(ws->dn, a->logits, &m->lm_head, BT);
    g->linear(g, -1, -1, &m->lm_head, ws->dn, a->logits, a->final_norm, BT);
    if (tap(ws, -1, "dfinal_norm", ws->dn, BT, (size_t)D, err)) return -1;
    g->norm(g, &m->norm, ws->dn, layer_input(ws, L), a->final_rstd, BT, D);
    memset(ws->dres, 0, sizeof(lr_float) * BT * D);
    lr_rmsnorm_backward(ws->dres, ws->dn, layer_input(ws, L), &m->norm,
                        a->final_rstd, BT, D);

    for (l = L - 1; l >= l_min; l--)
        if (layer_backward(ws, m, g, l, l == l_min ? stop : TO_INPUT, err))
            return -1;

    /* x_0 = embed_tokens[tokens] */
    if (l_min == 0 && stop == TO_INPUT) {
        if (tap(ws, -1, "dembed", ws->dres, BT, (size_t)D, err)) return -1;
        g->embed(g, ws->dres, BT);
    }
    return 0;
}

static int layer_has(const lr_lora *lo, int l, int t0, int t1)
{
    int t;
    for (t = t0; t <= t1; t++)
        if (lr_lora_slot_get(lo, l, t)) return 1;
    return 0;
}

/* lr_lora_backward (stride 0) and lr_lora_backward_each */
static int lora_backward(lr_train_ws *ws, const lr_model *m,
                         const lr_lora *lo, lr_float *grad, size_t stride,
                         double grad_scale, lr_error *err)
{
    const int L = m->config.num_hidden_layers;
    grad_sink g;
    int l_min;
    if (!lo) return 0;
    if (!stride != !ws->seeds)
        return lr_fail(err, "LoRA backward: the last forward was %s; its "
                       "backward is %s", ws->seeds ? "lr_lora_forward_each"
                       : "lr_lora_forward", ws->seeds ? "lr_lora_backward_each"
                       : "lr_lora_backward");
    /* the lowest adapted layer: the backward stops there, at the lowest
     * adapted projection's output */
    for (l_min = 0; l_min < L; l_min++)
        if (layer_has(lo, l_min, 0, NT - 1)) break;
    if (l_min == L) return 0;
    memset(&g, 0, sizeof g);
    g.linear = lora_linear; g.norm = lora_norm; g.embed = lora_embed;
    g.ws = ws; g.m = m; g.lo = lo; g.grad = grad; g.stride = stride;
    return model_backward(ws, m, &g, l_min,
                          layer_has(lo, l_min, LR_LORA_Q, LR_LORA_O)
                              ? TO_QKV : TO_GATE_UP,
                          grad_scale, err);
}

int lr_lora_backward(lr_train_ws *ws, const lr_model *m, const lr_lora *lo,
                     lr_float *grad, double grad_scale, lr_error *err)
{
    return lora_backward(ws, m, lo, grad, 0, grad_scale, err);
}

int lr_lora_backward_each(lr_train_ws *ws, const lr_model *m,
                          const lr_lora *lo, lr_float *grad, size_t stride,
                          double grad_scale, lr_error *err)
{
    if (lo && stride < lo->n_params)
        return lr_fail(err, "lr_lora_backward_each: stride %lu is less than "
                       "the %lu LoRA parameters", (unsigned long)stride,
                       (unsigned long)lo->n_params);
    return lora_backward(ws, m, lo, grad, stride, grad_scale, err);
}

/* lr_full_backward (acc NULL) and lr_full_backward_fold */
static int full_backward(lr_train_ws *ws, const lr_model *m, const lr_full *f,
                         lr_float *grad, lr_float *acc, double grad_scale,
                         lr_error *err)
{
    grad_sink g;
    memset(&g, 0, sizeof g);
    g.linear = full_linear; g.norm = full_norm; g.embed = full_embed;
    g.ws = ws; g.m = m; g.f = f; g.grad = grad; g.acc = acc;
    return model_backward(ws, m, &g, 0, TO_INPUT, grad_scale, err);
}

int lr_full_backward(lr_train_ws *ws, const lr_model *m, const lr_full *f,
                     lr_float *grad, double grad_scale, lr_error *err)
{
    return full_backward(ws, m, f, grad, NULL, grad_scale, err);
}

/* the entries whose unit full_linear does not fold: the embedding (and a
 * tied lm_head, its rows) and the norms */
static int unit_entry(const lr_full *f, const lr_model *m,
                      const lr_full_entry *e)
{
    return e->is_norm || e->off == lr_full_offset(f, &m->embed_tokens);
}

int lr_full_backward_fold(lr_train_ws *ws, const lr_model *m,
                          const lr_full *f, lr_float *unit, lr_float *acc,
                          double grad_scale, lr_error *err)
{
    int k;
    for (k = 0; k < f->n_entries; k++)
        if (unit_entry(f, m, &f->entries[k]))
            memset(unit + f->entries[k].off, 0,
                   sizeof *unit * f->entries[k].n);
    if (full_backward(ws, m, f, unit, acc, grad_scale, err)) return -1;
    for (k = 0; k < f->n_entries; k++) {
        /* one addition per element (lr_trainer_fold): threads over
         * elements keep each element's bits */
        const lr_float *u = unit + f->entries[k].off;
        lr_float *a = acc + f->entries[k].off;
        const long nl = (long)f->entries[k].n;
        long j;
        if (!unit_entry(f, m, &f->entries[k])) continue;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if (nl >= 65536L)
#endif
        for (j = 0; j < nl; j++) a[j] += u[j];
    }
    return 0;
}
