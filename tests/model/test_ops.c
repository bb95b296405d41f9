/* test_ops.c - the reference ops as a library user calls them (issue 20):
 * only the public API (llamaref.h), plain lr_float arrays, no lr_tensor,
 * checked against the golden vectors of vectors/ (float64 PyTorch):
 *
 *  forward, from each op's golden inputs to its golden output, every layer
 *  of every vectors/forward case (GQA, MQA, head_dim != hidden/heads,
 *  llama3 RoPE scaling, BF16 weights, a left-padded batch):
 *    RMSNorm, matmul (lr_matmul_plain and lr_matmul_ref), RoPE, attention
 *    (output and probabilities), SwiGLU, the whole MLP, the final norm and
 *    lm_head; cross-entropy on the vectors/full and vectors/lora logits;
 *  backward, by chaining the ops' backward functions through the last layer
 *  of a model (activations from lr_forward) and comparing every weight
 *  gradient with torch's (vectors/full: lm_head, norm, the nine tensors of
 *  the last layer), which exercises the backward of cross-entropy, matmul
 *  (input and weight), RMSNorm (input and weight), SwiGLU MLP, attention
 *  (GQA, padding) and RoPE (llama3);
 *  LoRA: forward of the last layer's down_proj branch (merged model for the
 *  activations) to the golden logits, backward of the seven adapted
 *  linears of the last layer to PEFT's lora_A / lora_B gradients;
 *  AdamW: vectors/adamw's steps (accumulated gradients, clipping, lr).
 * Tolerances relative to each tensor's largest value: double 1e-9 (forward)
 * and 1e-8 (gradients), float 1e-5 and 1e-4. */
#include "harness.h"
#include "llamaref.h"
#include "vectors.h"

#ifdef LR_DOUBLE
#define TOL_FWD 1e-9
#define TOL_GRAD 1e-8
#else
#define TOL_FWD 1e-5
#define TOL_GRAD 1e-4
#endif

/* tensor name of f as lr_float (malloc'ed), *n its element count */
static lr_float *rd(lr_st_file *f, const char *name, size_t *n)
{
    const lr_st_tensor *t = lr_st_find(f, name);
    lr_float *d;
    lr_error err;
    if (!t) {
        fprintf(stderr, "missing tensor %s\n", name);
        return NULL;
    }
    d = malloc(sizeof *d * (size_t)(t->nelem ? t->nelem : 1));
    if (!d || lr_st_read_lr(f, t, d, &err)) {
        fprintf(stderr, "%s: %s\n", name, d ? err.msg : "out of memory");
        free(d);
        return NULL;
    }
    if (n) *n = (size_t)t->nelem;
    return d;
}

static lr_float *zeros(size_t n)
{
    return calloc(n ? n : 1, sizeof(lr_float));
}

/* got [n] against tensor name of f; prints the error when over tol */
static void near(const char *what, const lr_float *got, lr_st_file *f,
                 const char *name, size_t n, double tol)
{
    size_t ne = 0;
    double *want = vec_read_f64(f, name, &ne), e;
    CHECK(want != NULL);
    if (!want) return;
    CHECK_INT(ne, n);
    e = ne == n ? vec_rel_err(got, want, n) : 1;
    if (!(e <= tol))
        fprintf(stderr, "  %s (%s): relative error %.3g > %.3g\n", what, name,
                e, tol);
    CHECK(e <= tol);
    free(want);
}

static int load_config(const char *dir, lr_config *c)
{
    char path[512];
    lr_error err;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (lr_config_load(path, c, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

/* inv_freq of a config through the config-free entry point */
static void inv_freq_of(const lr_config *c, double *inv_freq)
{
    if (c->rope_type == LR_ROPE_LLAMA3)
        lr_rope_inv_freq_plain(inv_freq, c->head_dim, c->rope_theta,
                               c->rope_factor, c->rope_low_freq_factor,
                               c->rope_high_freq_factor,
                               c->rope_original_max_position_embeddings);
    else
        lr_rope_inv_freq_plain(inv_freq, c->head_dim, c->rope_theta, 0, 0, 0,
                               0);
}

/* ---- forward: each op from its golden inputs ---- */

static void forward_case(const char *name)
{
    char dir[256], path[300], k1[128], k2[128];
    lr_config c;
    lr_st_file *mf = NULL, *ef = NULL;
    lr_error err;
    int B, T, l, b, i, *pos = NULL, *mask_i = NULL;
    int D, QD, KVD, I, V, H, KV, hd;
    size_t BT;
    unsigned char *mask = NULL;
    double *inv_freq = NULL;
    lr_float *cos_t = NULL, *sin_t = NULL;
    snprintf(dir, sizeof dir, "vectors/forward/%s", name);
    if (load_config(dir, &c)) { CHECK(0); return; }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (lr_st_open(path, 0, &mf, &err)) { fprintf(stderr, "%s\n", err.msg); CHECK(0); return; }
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    if (lr_st_open(path, 0, &ef, &err)) { fprintf(stderr, "%s\n", err.msg); CHECK(0); lr_st_close(mf); return; }
    D = c.hidden_size; H = c.num_attention_heads; KV = c.num_key_value_heads;
    hd = c.head_dim; QD = H * hd; KVD = KV * hd; I = c.intermediate_size;
    V = c.vocab_size;
    pos = vec_read_ints(ef, "position_ids", &B, &T);
    mask_i = vec_read_ints(ef, "attention_mask", NULL, NULL);
    CHECK(pos && mask_i);
    if (!pos || !mask_i) goto done;
    BT = (size_t)B * T;
    mask = malloc(BT);
    for (i = 0; i < (int)BT; i++) mask[i] = (unsigned char)(mask_i[i] != 0);
    inv_freq = malloc(sizeof *inv_freq * (size_t)(hd / 2));
    cos_t = malloc(sizeof *cos_t * BT * (size_t)(hd / 2));
    sin_t = malloc(sizeof *sin_t * BT * (size_t)(hd / 2));
    inv_freq_of(&c, inv_freq);
    lr_rope_table(cos_t, sin_t, pos, (int)BT, inv_freq, hd);

    for (l = 0; l < c.num_hidden_layers; l++) {
        lr_float *x, *w, *got, *got2, *in, *q, *k, *v, *sc, *pr, *g, *u, *a;
        lr_float *wg, *wu, *wd;
        size_t n;
        char lp[64];
        snprintf(lp, sizeof lp, "layers.%d.", l);
#define KEY(buf, s) (snprintf(buf, sizeof buf, "%s%s", lp, s), buf)
#define WKEY(buf, s) (snprintf(buf, sizeof buf, "model.layers.%d.%s", l, s), buf)
        /* RMSNorm: layer input -> attn_norm, h -> mlp_norm */
        if (l == 0) x = rd(ef, "embed", &n);
        else {
            snprintf(k1, sizeof k1, "layers.%d.out", l - 1);
            x = rd(ef, k1, &n);
        }
        w = rd(mf, WKEY(k2, "input_layernorm.weight"), NULL);
        got = zeros(BT * D);
        lr_rmsnorm_forward_plain(got, NULL, x, w, (int)BT, D, c.rms_norm_eps);
        near("rmsnorm", got, ef, KEY(k1, "attn_norm"), BT * D, TOL_FWD);
        free(x); free(w); free(got);
        x = rd(ef, KEY(k1, "h"), NULL);
        w = rd(mf, WKEY(k2, "post_attention_layernorm.weight"), NULL);
        got = zeros(BT * D);
        lr_rmsnorm_forward_plain(got, NULL, x, w, (int)BT, D, c.rms_norm_eps);
        near("rmsnorm", got, ef, KEY(k1, "mlp_norm"), BT * D, TOL_FWD);
        free(x); free(w); free(got);

        /* matmul: attn_norm -> q, k, v (both kernels), attn_out -> o_proj */
        in = rd(ef, KEY(k1, "attn_norm"), NULL);
        {
            const char *proj[3] = {"self_attn.q_proj.weight",
                                   "self_attn.k_proj.weight",
                                   "self_attn.v_proj.weight"};
            const char *outn[3] = {"q", "k", "v"};
            const int od[3] = {QD, KVD, KVD};
            int j;
            for (j = 0; j < 3; j++) {
                w = rd(mf, WKEY(k2, proj[j]), NULL);
                got = zeros(BT * od[j]);
                got2 = zeros(BT * od[j]);
                lr_matmul_plain(got, in, w, (int)BT, D, od[j]);
                lr_matmul_ref(got2, in, w, LR_FLOAT_DTYPE, (int)BT, D, od[j]);
                near("matmul", got, ef, KEY(k1, outn[j]), BT * od[j], TOL_FWD);
                near("matmul_ref", got2, ef, KEY(k1, outn[j]), BT * od[j],
                     TOL_FWD);
                free(w); free(got); free(got2);
            }
        }
        free(in);
        in = rd(ef, KEY(k1, "attn_out"), NULL);
        w = rd(mf, WKEY(k2, "self_attn.o_proj.weight"), NULL);
        got = zeros(BT * D);
        lr_matmul_plain(got, in, w, (int)BT, QD, D);
        near("matmul", got, ef, KEY(k1, "o_proj"), BT * D, TOL_FWD);
        free(in); free(w); free(got);

        /* RoPE: q -> q_rope, k -> k_rope at the case's positions */
        q = rd(ef, KEY(k1, "q"), NULL);
        k = rd(ef, KEY(k1, "k"), NULL);
        lr_rope_forward(q, cos_t, sin_t, (int)BT, H, hd);
        lr_rope_forward(k, cos_t, sin_t, (int)BT, KV, hd);
        near("rope", q, ef, KEY(k1, "q_rope"), BT * QD, TOL_FWD);
        near("rope", k, ef, KEY(k1, "k_rope"), BT * KVD, TOL_FWD);
        free(q); free(k);

        /* attention, one sequence at a time with its padding mask */
        q = rd(ef, KEY(k1, "q_rope"), NULL);
        k = rd(ef, KEY(k1, "k_rope"), NULL);
        v = rd(ef, KEY(k1, "v"), NULL);
        got = zeros(BT * QD);
        sc = zeros((size_t)B * H * T * T);
        pr = zeros((size_t)B * H * T * T);
        for (b = 0; b < B; b++) {
            lr_attn_shape s;
            s.n_heads = H; s.n_kv_heads = KV; s.head_dim = hd;
            s.Tq = T; s.Tk = T; s.q_off = 0;
            lr_attention_forward(got + (size_t)b * T * QD,
                                 sc + (size_t)b * H * T * T,
                                 pr + (size_t)b * H * T * T,
                                 q + (size_t)b * T * QD, k + (size_t)b * T * KVD,
                                 v + (size_t)b * T * KVD, mask + (size_t)b * T,
                                 &s, NULL);
        }
        near("attention", got, ef, KEY(k1, "attn_out"), BT * QD, TOL_FWD);
        near("attention probs", pr, ef, KEY(k1, "attn_probs"),
             (size_t)B * H * T * T, TOL_FWD);
        free(q); free(k); free(v); free(got); free(sc); free(pr);

        /* SwiGLU and the whole MLP */
        g = rd(ef, KEY(k1, "gate"), NULL);
        u = rd(ef, KEY(k1, "up"), NULL);
        a = zeros(BT * I);
        lr_swiglu_forward(a, g, u, BT * I);
        near("swiglu", a, ef, KEY(k1, "act"), BT * I, TOL_FWD);
        free(g); free(u); free(a);
        in = rd(ef, KEY(k1, "mlp_norm"), NULL);
        wg = rd(mf, WKEY(k2, "mlp.gate_proj.weight"), NULL);
        wu = rd(mf, WKEY(k2, "mlp.up_proj.weight"), NULL);
        wd = rd(mf, WKEY(k2, "mlp.down_proj.weight"), NULL);
        got = zeros(BT * D);
        g = zeros(BT * I); u = zeros(BT * I); a = zeros(BT * I);
        lr_mlp_forward(got, g, u, a, in, wg, wu, wd, (int)BT, D, I);
        near("mlp", got, ef, KEY(k1, "mlp_out"), BT * D, TOL_FWD);
        near("mlp gate", g, ef, KEY(k1, "gate"), BT * I, TOL_FWD);
        near("mlp up", u, ef, KEY(k1, "up"), BT * I, TOL_FWD);
        free(in); free(wg); free(wu); free(wd); free(got);
        free(g); free(u); free(a);
#undef KEY
#undef WKEY
    }
    {
        /* final norm and lm_head (tied: embed_tokens) */
        lr_float *x, *w, *got;
        snprintf(k1, sizeof k1, "layers.%d.out", c.num_hidden_layers - 1);
        x = rd(ef, k1, NULL);
        w = rd(mf, "model.norm.weight", NULL);
        got = zeros(BT * D);
        lr_rmsnorm_forward_plain(got, NULL, x, w, (int)BT, D, c.rms_norm_eps);
        near("final rmsnorm", got, ef, "final_norm", BT * D, TOL_FWD);
        free(x); free(w); free(got);
        x = rd(ef, "final_norm", NULL);
        w = rd(mf, lr_st_find(mf, "lm_head.weight") ? "lm_head.weight"
                                                    : "model.embed_tokens.weight",
               NULL);
        got = zeros(BT * V);
        lr_matmul_plain(got, x, w, (int)BT, D, V);
        near("lm_head", got, ef, "logits", BT * V, TOL_FWD);
        free(x); free(w); free(got);
    }
done:
    free(pos); free(mask_i); free(mask); free(inv_freq); free(cos_t);
    free(sin_t);
    lr_st_close(mf);
    lr_st_close(ef);
}

static void test_forward_ops(void)
{
    static const char *cases[] = {"gqa_tied", "llama3_rope", "mqa_headdim",
                                  "bf16_far", "padded_batch"};
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) forward_case(cases[i]);
}

/* ---- cross-entropy: golden logits and labels to the golden loss ---- */

static void loss_case(const char *dir)
{
    char path[300];
    lr_st_file *ef;
    lr_error err;
    int B, T, V;
    size_t n;
    lr_float *logits;
    int *labels;
    double nll = 0, *want;
    long count = 0;
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    if (lr_st_open(path, 0, &ef, &err)) { fprintf(stderr, "%s\n", err.msg); CHECK(0); return; }
    labels = vec_read_ints(ef, "labels", &B, &T);
    logits = rd(ef, "logits", &n);
    want = vec_read_f64(ef, "loss", NULL);
    CHECK(labels && logits && want);
    if (labels && logits && want) {
        V = (int)(n / ((size_t)B * T));
        CHECK(lr_causal_lm_loss(logits, labels, B, T, V, NULL, &nll, &count,
                                NULL, 1.0, &err) == 0);
        CHECK(count > 0);
        CHECK_NEAR(nll / (double)count, want[0], TOL_FWD * fabs(want[0]));
        /* an invalid label fails, naming where */
        labels[1] = V;
        CHECK(lr_causal_lm_loss(logits, labels, B, T, V, NULL, &nll, &count,
                                NULL, 1.0, &err) != 0);
        CHECK(strstr(err.msg, "batch 0 position 1") != NULL);
    }
    free(labels); free(logits); free(want);
    lr_st_close(ef);
}

static void test_cross_entropy(void)
{
    loss_case("vectors/full/tied_gqa");
    loss_case("vectors/full/untied_pad_llama3");
    loss_case("vectors/lora/all7_gqa");
    loss_case("vectors/lora/padded_qvo");
}

/* ---- backward: the ops chained through the last layer ---- */

typedef struct chain {
    /* inputs */
    lr_model *m;
    lr_acts a;
    int B, T, *ids, *labels;
    unsigned char *mask;
    /* weights of the last layer and the head as plain arrays */
    lr_float *wq, *wk, *wv, *wo, *wg, *wu, *wd, *ln_in, *ln_post, *norm, *lm;
    /* gradients of the activations (the dy of each linear) */
    lr_float *dlogits, *dfinal, *dout, *dmlp_norm, *dh, *dattn_out, *dq, *dk,
        *dv, *dattn_norm;
    /* weight gradients */
    lr_float *g_lm, *g_norm, *g_wq, *g_wk, *g_wv, *g_wo, *g_wg, *g_wu, *g_wd,
        *g_ln_in, *g_ln_post;
} chain;

static lr_float *tensor_copy(const lr_tensor *t)
{
    size_t n = (size_t)lr_tensor_nelem(t);
    lr_float *d = malloc(sizeof *d * n);
    lr_tensor_get_range(t, 0, n, d);
    return d;
}

static void chain_free(chain *c)
{
    lr_float **p[] = {&c->wq, &c->wk, &c->wv, &c->wo, &c->wg, &c->wu, &c->wd,
                      &c->ln_in, &c->ln_post, &c->norm, &c->lm, &c->dlogits,
                      &c->dfinal, &c->dout, &c->dmlp_norm, &c->dh,
                      &c->dattn_out, &c->dq, &c->dk, &c->dv, &c->dattn_norm,
                      &c->g_lm, &c->g_norm, &c->g_wq, &c->g_wk, &c->g_wv,
                      &c->g_wo, &c->g_wg, &c->g_wu, &c->g_wd, &c->g_ln_in,
                      &c->g_ln_post};
    size_t i;
    for (i = 0; i < sizeof p / sizeof p[0]; i++) free(*p[i]);
    lr_acts_free(&c->a);
    free(c->ids); free(c->labels); free(c->mask);
}

/* Forward with lr_forward (positions 0 .. T-1, as the trainer), then the
 * backward of the mean loss through the head and the last layer with the
 * public op functions only. */
static int chain_run(chain *c, lr_st_file *ef)
{
    const lr_config *cf = &c->m->config;
    const int L = cf->num_hidden_layers, D = cf->hidden_size;
    const int H = cf->num_attention_heads, KV = cf->num_key_value_heads;
    const int hd = cf->head_dim, QD = H * hd, KVD = KV * hd;
    const int I = cf->intermediate_size, V = cf->vocab_size;
    const lr_layer_weights *lw = &c->m->layers[L - 1];
    const lr_layer_acts *la;
    lr_error err;
    int *mi, i, b, t, *pos;
    size_t BT;
    double nll;
    long count;
    lr_float *scratch, *cos_t, *sin_t, *in;
    double *inv_freq;

    c->ids = vec_read_ints(ef, "input_ids", &c->B, &c->T);
    c->labels = vec_read_ints(ef, "labels", NULL, NULL);
    mi = vec_read_ints(ef, "attention_mask", NULL, NULL);
    if (!c->ids || !c->labels || !mi) { free(mi); return -1; }
    BT = (size_t)c->B * c->T;
    c->mask = malloc(BT);
    for (i = 0; i < (int)BT; i++) c->mask[i] = (unsigned char)mi[i];
    free(mi);
    if (lr_acts_alloc(&c->a, cf, c->B, c->T, LR_ACTS_PER_LAYER | LR_ACTS_ATTN,
                      &err) ||
        lr_forward(c->m, &c->a, c->ids, NULL, c->mask, c->B, c->T, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    la = &c->a.layers[L - 1];
    c->wq = tensor_copy(&lw->q_proj); c->wk = tensor_copy(&lw->k_proj);
    c->wv = tensor_copy(&lw->v_proj); c->wo = tensor_copy(&lw->o_proj);
    c->wg = tensor_copy(&lw->gate_proj); c->wu = tensor_copy(&lw->up_proj);
    c->wd = tensor_copy(&lw->down_proj);
    c->ln_in = tensor_copy(&lw->input_layernorm);
    c->ln_post = tensor_copy(&lw->post_attention_layernorm);
    c->norm = tensor_copy(&c->m->norm); c->lm = tensor_copy(&c->m->lm_head);
    c->dlogits = zeros(BT * V); c->dfinal = zeros(BT * D);
    c->dout = zeros(BT * D); c->dmlp_norm = zeros(BT * D);
    c->dh = zeros(BT * D); c->dattn_out = zeros(BT * QD);
    c->dq = zeros(BT * QD); c->dk = zeros(BT * KVD); c->dv = zeros(BT * KVD);
    c->dattn_norm = zeros(BT * D);
    c->g_lm = zeros((size_t)V * D); c->g_norm = zeros(D);
    c->g_wq = zeros((size_t)QD * D); c->g_wk = zeros((size_t)KVD * D);
    c->g_wv = zeros((size_t)KVD * D); c->g_wo = zeros((size_t)D * QD);
    c->g_wg = zeros((size_t)I * D); c->g_wu = zeros((size_t)I * D);
    c->g_wd = zeros((size_t)D * I); c->g_ln_in = zeros(D);
    c->g_ln_post = zeros(D);

    /* cross-entropy backward (HF mean: grad_scale = 1 / counted tokens) */
    if (lr_causal_lm_loss(c->a.logits, c->labels, c->B, c->T, V, NULL, &nll,
                          &count, NULL, 1.0, &err) ||
        lr_causal_lm_loss(c->a.logits, c->labels, c->B, c->T, V, NULL, &nll,
                          &count, c->dlogits, 1.0 / (double)count, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    /* logits = final_norm lm^T */
    lr_matmul_backward_weight(c->g_lm, c->dlogits, c->a.final_norm, (int)BT, D,
                              V);
    lr_matmul_backward_plain(c->dfinal, c->dlogits, c->lm, (int)BT, D, V);
    /* final_norm = rmsnorm(out) */
    lr_rmsnorm_backward_weight(c->g_norm, c->dfinal, la->out, c->a.final_rstd,
                               (int)BT, D);
    lr_rmsnorm_backward_plain(c->dout, c->dfinal, la->out, c->norm,
                              c->a.final_rstd, (int)BT, D);
    /* out = h + mlp(mlp_norm), mlp_norm = rmsnorm(h) */
    scratch = zeros(3 * BT * I);
    lr_mlp_backward(c->dmlp_norm, c->g_wg, c->g_wu, c->g_wd, c->dout,
                    la->mlp_norm, la->gate, la->up, la->act, c->wg, c->wu,
                    c->wd, (int)BT, D, I, scratch);
    free(scratch);
    memcpy(c->dh, c->dout, sizeof(lr_float) * BT * D);
    lr_rmsnorm_backward_weight(c->g_ln_post, c->dmlp_norm, la->h, la->mlp_rstd,
                               (int)BT, D);
    lr_rmsnorm_backward_plain(c->dh, c->dmlp_norm, la->h, c->ln_post,
                              la->mlp_rstd, (int)BT, D);
    /* h = x + attn_out o^T */
    lr_matmul_backward_weight(c->g_wo, c->dh, la->attn_out, (int)BT, QD, D);
    lr_matmul_backward_plain(c->dattn_out, c->dh, c->wo, (int)BT, QD, D);
    /* attention, one sequence at a time */
    scratch = zeros((size_t)2 * KV * c->T);
    for (b = 0; b < c->B; b++) {
        lr_attn_shape s;
        const size_t r0 = (size_t)b * c->T;
        s.n_heads = H; s.n_kv_heads = KV; s.head_dim = hd;
        s.Tq = c->T; s.Tk = c->T; s.q_off = 0;
        lr_attention_backward(c->dq + r0 * QD, c->dk + r0 * KVD,
                              c->dv + r0 * KVD, c->dattn_out + r0 * QD,
                              la->q_rope + r0 * QD, la->k_rope + r0 * KVD,
                              la->v + r0 * KVD, c->mask + r0, &s, scratch);
    }
    free(scratch);
    /* RoPE backward with a table built here (positions 0 .. T-1 per row) */
    inv_freq = malloc(sizeof *inv_freq * (size_t)(hd / 2));
    cos_t = malloc(sizeof *cos_t * BT * (size_t)(hd / 2));
    sin_t = malloc(sizeof *sin_t * BT * (size_t)(hd / 2));
    pos = malloc(sizeof *pos * BT);
    for (i = 0; i < (int)BT; i++) pos[i] = i % c->T;
    inv_freq_of(cf, inv_freq);
    lr_rope_table(cos_t, sin_t, pos, (int)BT, inv_freq, hd);
    lr_rope_backward(c->dq, cos_t, sin_t, (int)BT, H, hd);
    lr_rope_backward(c->dk, cos_t, sin_t, (int)BT, KV, hd);
    free(inv_freq); free(cos_t); free(sin_t); free(pos);
    /* q, k, v = attn_norm W^T; attn_norm = rmsnorm(x) */
    in = la->attn_norm;
    lr_matmul_backward_weight(c->g_wq, c->dq, in, (int)BT, D, QD);
    lr_matmul_backward_weight(c->g_wk, c->dk, in, (int)BT, D, KVD);
    lr_matmul_backward_weight(c->g_wv, c->dv, in, (int)BT, D, KVD);
    lr_matmul_backward_plain(c->dattn_norm, c->dq, c->wq, (int)BT, D, QD);
    lr_matmul_backward_plain(c->dattn_norm, c->dk, c->wk, (int)BT, D, KVD);
    lr_matmul_backward_plain(c->dattn_norm, c->dv, c->wv, (int)BT, D, KVD);
    lr_rmsnorm_backward_weight(c->g_ln_in, c->dattn_norm,
                               L > 1 ? c->a.layers[L - 2].out : c->a.embed,
                               la->attn_rstd, (int)BT, D);
    (void)t;
    return 0;
}

static void full_case(const char *name, int untied)
{
    char dir[256], path[300], key[160];
    chain c;
    lr_st_file *ef = NULL;
    lr_error err;
    int L;
    memset(&c, 0, sizeof c);
    snprintf(dir, sizeof dir, "vectors/full/%s", name);
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    if (lr_model_load(dir, NULL, &c.m, &err) || lr_st_open(path, 0, &ef, &err)) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        CHECK(0);
        lr_model_free(c.m);
        return;
    }
    if (chain_run(&c, ef)) {
        CHECK(0);
    } else {
        const lr_config *cf = &c.m->config;
        const int D = cf->hidden_size, QD = cf->num_attention_heads * cf->head_dim;
        const int KVD = cf->num_key_value_heads * cf->head_dim;
        const int I = cf->intermediate_size;
        L = cf->num_hidden_layers;
        if (untied)
            near("lm_head grad", c.g_lm, ef, "grad.lm_head.weight",
                 (size_t)cf->vocab_size * D, TOL_GRAD);
        near("norm grad", c.g_norm, ef, "grad.model.norm.weight", D, TOL_GRAD);
#define G(got, s, n) (snprintf(key, sizeof key, "grad.model.layers.%d.%s", L - 1, s), \
                      near(s, got, ef, key, n, TOL_GRAD))
        G(c.g_wd, "mlp.down_proj.weight", (size_t)D * I);
        G(c.g_wg, "mlp.gate_proj.weight", (size_t)I * D);
        G(c.g_wu, "mlp.up_proj.weight", (size_t)I * D);
        G(c.g_ln_post, "post_attention_layernorm.weight", (size_t)D);
        G(c.g_wo, "self_attn.o_proj.weight", (size_t)D * QD);
        G(c.g_wq, "self_attn.q_proj.weight", (size_t)QD * D);
        G(c.g_wk, "self_attn.k_proj.weight", (size_t)KVD * D);
        G(c.g_wv, "self_attn.v_proj.weight", (size_t)KVD * D);
        G(c.g_ln_in, "input_layernorm.weight", (size_t)D);
#undef G
    }
    chain_free(&c);
    lr_model_free(c.m);
    lr_st_close(ef);
}

static void test_backward_ops(void)
{
    full_case("untied_pad_llama3", 1);
    full_case("tied_gqa", 0);
}

/* ---- LoRA: the adapted linears of the last layer ---- */

static void lora_case(const char *name)
{
    char dir[256], path[300], key[200];
    chain c;
    lr_st_file *ef = NULL;
    lr_error err;
    lr_lora lo;
    lr_float *dgate = NULL, *dup = NULL;
    int L = 0, t, loaded = 0;
    memset(&c, 0, sizeof c);
    memset(&lo, 0, sizeof lo);
    snprintf(dir, sizeof dir, "vectors/lora/%s", name);
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    if (lr_model_load(dir, NULL, &c.m, &err) ||
        lr_adapter_load(dir, &c.m->config, &lo, &err) ||
        lr_st_open(path, 0, &ef, &err)) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        CHECK(0);
        goto done;
    }
    loaded = 1;
    {
        /* the base weights, kept for the LoRA forward below */
        const lr_config *cf = &c.m->config;
        const int D = cf->hidden_size, I = cf->intermediate_size;
        const int V = cf->vocab_size;
        const int Lm = cf->num_hidden_layers;
        const int QD = cf->num_attention_heads * cf->head_dim;
        /* the adapted linear whose LoRA forward is checked: down_proj, or
         * else o_proj (then the MLP, not adapted, runs on the new h) */
        const int tgt = lr_lora_slot_get(&lo, Lm - 1, LR_LORA_DOWN)
                            ? LR_LORA_DOWN : LR_LORA_O;
        lr_float *w_base = tensor_copy(tgt == LR_LORA_DOWN
                                           ? &c.m->layers[Lm - 1].down_proj
                                           : &c.m->layers[Lm - 1].o_proj);
        /* activations of the adapted model: merge, then forward */
        if (lr_lora_merge(c.m, &lo, &err) || chain_run(&c, ef)) {
            fprintf(stderr, "%s: %s\n", name, err.msg);
            CHECK(0);
            free(w_base);
            goto done;
        }
        L = Lm;
        {
            /* forward: the adapted linear as base matmul + LoRA branch,
             * the rest of the last layer and the head, to golden logits */
            const lr_layer_acts *la = &c.a.layers[L - 1];
            const lr_lora_slot *s = lr_lora_slot_get(&lo, L - 1, tgt);
            const size_t BT = (size_t)c.B * c.T;
            const lr_float *x_in = L > 1 ? c.a.layers[L - 2].out : c.a.embed;
            lr_float *y = zeros(BT * D), *xa, *fin = zeros(BT * D),
                     *logits = zeros(BT * V);
            size_t i;
            CHECK(s != NULL);
            if (s) {
                xa = zeros(BT * lo.cfg.r);
                if (tgt == LR_LORA_DOWN) {
                    /* out = h + act Wd^T + s (act A^T) B^T */
                    lr_matmul_plain(y, la->act, w_base, (int)BT, I, D);
                    lr_lora_linear_forward(y, xa, la->act, lo.params + s->a_off,
                                           lo.params + s->b_off, lo.scale,
                                           (int)BT, I, D, lo.cfg.r);
                    for (i = 0; i < BT * D; i++) y[i] += la->h[i];
                } else {
                    /* h = x + attn_out Wo^T + LoRA; out = h + mlp(rmsnorm(h)) */
                    lr_float *h = zeros(BT * D), *mn = zeros(BT * D);
                    lr_float *g = zeros(BT * I), *u = zeros(BT * I),
                             *a = zeros(BT * I);
                    lr_matmul_plain(h, la->attn_out, w_base, (int)BT, QD, D);
                    lr_lora_linear_forward(h, xa, la->attn_out,
                                           lo.params + s->a_off,
                                           lo.params + s->b_off, lo.scale,
                                           (int)BT, QD, D, lo.cfg.r);
                    for (i = 0; i < BT * D; i++) h[i] += x_in[i];
                    lr_rmsnorm_forward_plain(mn, NULL, h, c.ln_post, (int)BT, D,
                                             cf->rms_norm_eps);
                    lr_mlp_forward(y, g, u, a, mn, c.wg, c.wu, c.wd, (int)BT, D,
                                   I);
                    for (i = 0; i < BT * D; i++) y[i] += h[i];
                    free(h); free(mn); free(g); free(u); free(a);
                }
                lr_rmsnorm_forward_plain(fin, NULL, y, c.norm, (int)BT, D,
                                         cf->rms_norm_eps);
                lr_matmul_plain(logits, fin, c.lm, (int)BT, D, V);
                near("lora forward", logits, ef, "logits", BT * V,
                     10 * TOL_FWD);
                free(xa);
            }
            free(y); free(fin); free(logits);
        }
        free(w_base);
    }
    /* backward: each adapted linear of the last layer, its dy from the
     * chain (gate and up: dact = dout Wd, then the SwiGLU backward), its
     * input from the forward */
    {
        const lr_config *cf = &c.m->config;
        const lr_layer_acts *la = &c.a.layers[L - 1];
        const size_t BI = (size_t)c.B * c.T * cf->intermediate_size;
        lr_float *dact = zeros(BI);
        dgate = zeros(BI);
        dup = zeros(BI);
        lr_matmul_backward_plain(dact, c.dout, c.wd, c.B * c.T,
                                 cf->intermediate_size, cf->hidden_size);
        lr_swiglu_backward(dgate, dup, dact, la->gate, la->up, BI);
        free(dact);
    }
    for (t = 0; t < LR_LORA_NTARGETS; t++) {
        const lr_config *cf = &c.m->config;
        const lr_layer_acts *la = &c.a.layers[L - 1];
        const lr_lora_slot *s = lr_lora_slot_get(&lo, L - 1, t);
        const size_t BT = (size_t)c.B * c.T;
        const lr_float *x = NULL, *dy = NULL;
        lr_float *dA, *dB, *dxa, *xa;
        (void)cf;
        if (!s) continue;
        switch (t) {
        case LR_LORA_Q: x = la->attn_norm; dy = c.dq; break;
        case LR_LORA_K: x = la->attn_norm; dy = c.dk; break;
        case LR_LORA_V: x = la->attn_norm; dy = c.dv; break;
        case LR_LORA_O: x = la->attn_out; dy = c.dh; break;
        case LR_LORA_GATE: x = la->mlp_norm; dy = dgate; break;
        case LR_LORA_UP: x = la->mlp_norm; dy = dup; break;
        default: x = la->act; dy = c.dout; break;
        }
        dA = zeros((size_t)lo.cfg.r * s->in);
        dB = zeros((size_t)s->out * lo.cfg.r);
        dxa = zeros(BT * lo.cfg.r);
        xa = zeros(BT * lo.cfg.r);
        {
            lr_float *y = zeros(BT * s->out);
            lr_lora_linear_forward(y, xa, x, lo.params + s->a_off,
                                   lo.params + s->b_off, lo.scale, (int)BT,
                                   s->in, s->out, lo.cfg.r);
            free(y);
        }
        lr_lora_linear_backward(NULL, dA, dB, dxa, dy, x, xa,
                                lo.params + s->a_off, lo.params + s->b_off,
                                lo.scale, (int)BT, s->in, s->out, lo.cfg.r,
                                0.0, 0);
        snprintf(key, sizeof key, "grad.base_model.model.model.layers.%d.%s.lora_A.weight",
                 L - 1, lr_lora_target_path(t));
        near("lora dA", dA, ef, key, (size_t)lo.cfg.r * s->in, TOL_GRAD);
        snprintf(key, sizeof key, "grad.base_model.model.model.layers.%d.%s.lora_B.weight",
                 L - 1, lr_lora_target_path(t));
        near("lora dB", dB, ef, key, (size_t)s->out * lo.cfg.r, TOL_GRAD);
        free(dA); free(dB); free(dxa); free(xa);
    }
done:
    (void)loaded;
    free(dgate); free(dup);
    chain_free(&c);
    lr_model_free(c.m);
    lr_lora_free(&lo);
    if (ef) lr_st_close(ef);
}

static void test_lora_ops(void)
{
    lora_case("all7_gqa");
    lora_case("padded_qvo");
}

/* ---- AdamW: vectors/adamw, torch.optim.AdamW + clip_grad_norm_ ---- */

static void adamw_case(const char *name)
{
    char path[300], key[64];
    lr_st_file *f;
    lr_error err;
    lr_adamw o;
    int steps, accum, k, j, rows, cols;
    size_t i, n;
    lr_float *param, *grads, *g;
    double wd, maxn;
    snprintf(path, sizeof path, "vectors/adamw/%s.safetensors", name);
    if (lr_st_open(path, 0, &f, &err)) { fprintf(stderr, "%s\n", err.msg); CHECK(0); return; }
    steps = atoi(vec_meta(f, "total_steps"));
    accum = atoi(vec_meta(f, "grad_accum"));
    wd = atof(vec_meta(f, "weight_decay"));
    maxn = atof(vec_meta(f, "max_grad_norm"));
    param = rd(f, "param.init", &n);
    grads = rd(f, "grads", NULL);
    {
        const lr_st_tensor *t = lr_st_find(f, "grads");
        rows = t ? (int)t->shape[0] : 0;
        cols = t ? (int)t->shape[1] : 0;
    }
    CHECK(param && grads && steps > 0 && accum > 0 && rows == steps * accum &&
          (size_t)cols == n);
    if (!param || !grads || rows != steps * accum || (size_t)cols != n) goto out;
    CHECK(lr_adamw_init(&o, n, wd, &err) == 0);
    g = zeros(n);
    for (k = 0; k < steps; k++) {
        double *lr_want;
        /* the micro-batch gradients summed (they are already scaled) */
        for (i = 0; i < n; i++) g[i] = 0;
        for (j = 0; j < accum; j++)
            for (i = 0; i < n; i++) g[i] += grads[(size_t)(k * accum + j) * n + i];
        snprintf(key, sizeof key, "lr.%d", k);
        lr_want = vec_read_f64(f, key, NULL);
        CHECK(lr_want != NULL);
        if (!lr_want) break;
        lr_clip_grad_norm(g, n, maxn);
        lr_adamw_step(&o, param, g, lr_want[0]);
        free(lr_want);
        snprintf(key, sizeof key, "param.%d", k);
        near("adamw param", param, f, key, n, TOL_FWD);
        snprintf(key, sizeof key, "exp_avg.%d", k);
        near("adamw m", o.m, f, key, n, TOL_FWD);
        snprintf(key, sizeof key, "exp_avg_sq.%d", k);
        near("adamw v", o.v, f, key, n, TOL_FWD);
    }
    free(g);
    lr_adamw_free(&o);
out:
    free(param); free(grads);
    lr_st_close(f);
}

static void test_adamw_step(void)
{
    adamw_case("linear");
    adamw_case("cosine_wd");
    adamw_case("const_clip");
}

int main(void)
{
    RUN(test_forward_ops);
    RUN(test_cross_entropy);
    RUN(test_backward_ops);
    RUN(test_lora_ops);
    RUN(test_adamw_step);
    return h_finish("ops");
}
