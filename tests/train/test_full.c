/* test_full.c - full-parameter training: the gradient of every base weight
 * against transformers' LlamaForCausalLM with torch autograd in float64
 * (vectors/full, vectors/gen/gen_lora.py:
 * tied_gqa with the head gradient summed into the embedding, and
 * untied_pad_llama3 with GQA 4/1, head_dim != D/H, llama3 rope scaling and
 * a right-padded batch), a 3-step AdamW trajectory (accumulation, cosine
 * with warmup, weight decay on everything but the norms, clipping),
 * finite differences of embedding / norm / lm_head gradients (double
 * build), recompute == stored activations bit for bit, the error for
 * weights not in the compute type, the HF-style random init, the
 * workspace's byte count against its layout, and the trainer's fold
 * (lr_full_backward_fold) against zero, backward, add.
 *
 * Tolerances (max |ours - torch| / max |torch| per tensor): double build
 * 1e-9; float build 2e-5 for logits/loss, 3e-5 for gradients and for the
 * trajectory's parameters. */
#include <stdint.h>

#include "harness.h"
#include "vectors.h"
#include "llamaref/train/adamw.h"
#include "llamaref/train/full.h"
#include "llamaref/formats/safetensors.h"
#include "llamaref/train/train.h"
#include "llamaref/train/trainer.h"

#ifdef LR_DOUBLE
#define TOL_OUT 1e-9
#define TOL_GRAD 1e-9
#define TOL_TRAJ 1e-9
#else
#define TOL_OUT 2e-5
#define TOL_GRAD 3e-5
#define TOL_TRAJ 3e-5
#endif

typedef struct fcase {
    lr_model *m;
    lr_full full;
    lr_st_file *f;
    int *ids, *labels, B, T;
    unsigned char *mask;
} fcase;

static int open_case(fcase *c, const char *name)
{
    char dir[256], path[300];
    lr_error err;
    int *mi, i;
    memset(c, 0, sizeof *c);
    snprintf(dir, sizeof dir, "vectors/full/%s", name);
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    if (lr_model_load(dir, NULL, &c->m, &err) ||
        lr_full_bind(&c->full, c->m, &err) || lr_st_open(path, 0, &c->f, &err)) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        CHECK(0);
        return -1;
    }
    c->ids = vec_read_ints(c->f, "input_ids", &c->B, &c->T);
    c->labels = vec_read_ints(c->f, "labels", NULL, NULL);
    mi = vec_read_ints(c->f, "attention_mask", NULL, NULL);
    c->mask = malloc((size_t)c->B * c->T);
    for (i = 0; i < c->B * c->T; i++) c->mask[i] = (unsigned char)mi[i];
    free(mi);
    return 0;
}

static void close_case(fcase *c)
{
    if (c->m) lr_model_free(c->m);
    lr_full_free(&c->full);
    if (c->f) lr_st_close(c->f);
    free(c->ids); free(c->labels); free(c->mask);
}

/* grad [n_params] = d mean loss / d w of the case's batch; returns loss */
static double full_grad(fcase *c, lr_float *grad, int recompute,
                        lr_float *logits_out)
{
    lr_train_ws ws;
    lr_error err;
    double nll = 0;
    long n = 0;
    const size_t nl = (size_t)c->B * c->T * c->m->config.vocab_size;
    memset(grad, 0, sizeof *grad * c->full.n_params);
    CHECK_OK(lr_train_ws_alloc(&ws, c->m, NULL, c->B, c->T, recompute, &err),
             &err);
    CHECK_OK(lr_full_forward(&ws, c->m, c->ids, c->labels, c->mask, c->B,
                             c->T, &nll, &n, &err), &err);
    if (logits_out) memcpy(logits_out, ws.acts.logits, nl * sizeof *logits_out);
    CHECK_OK(lr_full_backward(&ws, c->m, &c->full, grad, 1.0 / n, &err), &err);
    lr_train_ws_free(&ws);
    return nll / n;
}

static void check_grads(const char *name)
{
    fcase c;
    lr_float *grad, *grad2, *logits;
    double *e, loss;
    size_t ne, nl;
    int k;
    if (open_case(&c, name)) { close_case(&c); return; }
    nl = (size_t)c.B * c.T * c.m->config.vocab_size;
    grad = malloc(sizeof *grad * c.full.n_params);
    grad2 = malloc(sizeof *grad2 * c.full.n_params);
    logits = malloc(sizeof *logits * nl);
    loss = full_grad(&c, grad, 0, logits);
    e = vec_read_f64(c.f, "logits", &ne);
    CHECK(e && ne == nl && vec_rel_err(logits, e, nl) <= TOL_OUT);
    free(e);
    e = vec_read_f64(c.f, "loss", NULL);
    CHECK(e && fabs(loss - e[0]) <= TOL_OUT * fabs(e[0]));
    free(e);
    CHECK_INT(c.full.n_entries,
              9 * c.m->config.num_hidden_layers + 2 +
                  !c.m->config.tie_word_embeddings);
    for (k = 0; k < c.full.n_entries; k++) {
        const lr_full_entry *en = &c.full.entries[k];
        char key[160];
        double r;
        snprintf(key, sizeof key, "grad.%s", en->name);
        e = vec_read_f64(c.f, key, &ne);
        CHECK(e != NULL && ne == en->n);
        if (!e || ne != en->n) { free(e); continue; }
        r = vec_rel_err(grad + en->off, e, en->n);
        if (!(r <= TOL_GRAD))
            fprintf(stderr, "%s %s: rel err %.3g\n", name, en->name, r);
        CHECK(r <= TOL_GRAD);
        free(e);
    }
    /* recompute (gradient checkpointing) gives the same bits */
    full_grad(&c, grad2, 1, NULL);
    CHECK(memcmp(grad, grad2, sizeof *grad * c.full.n_params) == 0);
    free(grad); free(grad2); free(logits);
    close_case(&c);
}

static void test_grads_tied_gqa(void) { check_grads("tied_gqa"); }
static void test_grads_untied_pad_llama3(void)
{
    check_grads("untied_pad_llama3");
}

/* torch.optim.AdamW (decay / no-decay groups) + HF cosine + clipping +
 * accumulation over 3 steps of single-sequence micro-batches, run by the
 * library's trainer (trainer.h): the trajectory's sequences are placed in
 * a dataset so that epoch 0's shuffle visits them in the torch order */
static void test_adamw_trajectory(void)
{
    fcase c;
    lr_adamw o;
    lr_trainer tr;
    lr_trainer_opts to;
    lr_dataset ds;
    lr_error err;
    size_t *perm = NULL;
    double *eloss, *enorm, *elr, maxn;
    int *tids, *tlab, nmb, T, accum, steps, k, i;
    if (open_case(&c, "tied_gqa")) { close_case(&c); return; }
    tids = vec_read_ints(c.f, "traj.input_ids", &nmb, &T);
    tlab = vec_read_ints(c.f, "traj.labels", NULL, NULL);
    eloss = vec_read_f64(c.f, "traj.loss", NULL);
    enorm = vec_read_f64(c.f, "traj.grad_norm", NULL);
    elr = vec_read_f64(c.f, "traj.lr", NULL);
    accum = atoi(vec_meta(c.f, "traj_accum"));
    steps = atoi(vec_meta(c.f, "traj_steps"));
    maxn = atof(vec_meta(c.f, "traj_max_grad_norm"));
    CHECK(tids && tlab && eloss && enorm && elr && steps * accum == nmb);
    memset(&to, 0, sizeof to);
    memset(&tr, 0, sizeof tr);
    memset(&ds, 0, sizeof ds);
    to.batch = 1;
    to.accum = accum;
    to.epochs = 1;
    to.lr = atof(vec_meta(c.f, "traj_lr"));
    to.warmup = atol(vec_meta(c.f, "traj_warmup"));
    to.max_norm = maxn;
    to.seed = 7;
    CHECK_OK(lr_sched_from_name(vec_meta(c.f, "traj_schedule"), &to.sched, &err), &err);
    CHECK_OK(lr_adamw_init(&o, c.full.n_params, atof(vec_meta(c.f, "traj_weight_decay")),
                           &err), &err);
    o.decay_mask = c.full.decay;
    ds.n = (size_t)nmb;
    ds.max_len = T;
    ds.ex = calloc((size_t)nmb, sizeof *ds.ex);
    perm = malloc(sizeof *perm * (size_t)nmb);
    if (!tids || !tlab || !ds.ex || !perm) goto done;
    lr_dataset_shuffle(perm, ds.n, to.seed, 0);
    for (i = 0; i < nmb; i++) { /* row i is visited i-th */
        lr_example *e = &ds.ex[perm[i]];
        e->len = T;
        e->ids = malloc(sizeof *e->ids * (size_t)T);
        e->labels = malloc(sizeof *e->labels * (size_t)T);
        if (!e->ids || !e->labels) goto done;
        memcpy(e->ids, tids + (size_t)i * T, sizeof *e->ids * (size_t)T);
        memcpy(e->labels, tlab + (size_t)i * T, sizeof *e->labels * (size_t)T);
    }
    CHECK_OK(lr_trainer_init(&tr, c.m, NULL, &c.full, &ds, &o, &to, &err), &err);
    CHECK_INT(tr.total, steps);
    for (k = 0; k < steps && tr.total == steps; k++) {
        lr_step_stats st;
        CHECK_OK(lr_trainer_step(&tr, k, &st, &err), &err);
        CHECK_NEAR(st.loss, eloss[k], TOL_OUT * fabs(eloss[k]));
        CHECK_NEAR(st.grad_norm, enorm[k], TOL_GRAD * enorm[k]);
        CHECK_NEAR(st.lr, elr[k], 1e-15 * to.lr);
        CHECK_INT(st.epoch, 0);
        CHECK_INT(st.tokens, (long)accum * T);
    }
    /* out of range and a wrong setup are errors */
    CHECK_ERR(lr_trainer_step(&tr, steps, NULL, &err), &err, "outside");
    {
        lr_trainer t2;
        CHECK_ERR(lr_trainer_init(&t2, c.m, NULL, NULL, &ds, &o, &to, &err), &err,
                  "not neither");
    }
    CHECK(enorm && enorm[0] > maxn); /* clipping was exercised */
    for (k = 0; k < c.full.n_entries; k++) {
        const lr_full_entry *en = &c.full.entries[k];
        char key[160];
        double *e, r;
        size_t ne;
        snprintf(key, sizeof key, "traj.final.%s", en->name);
        e = vec_read_f64(c.f, key, &ne);
        CHECK(e != NULL && ne == en->n);
        if (!e || ne != en->n) { free(e); continue; }
        r = vec_rel_err(c.full.params + en->off, e, en->n);
        if (!(r <= TOL_TRAJ))
            fprintf(stderr, "trajectory %s: rel err %.3g\n", en->name, r);
        CHECK(r <= TOL_TRAJ);
        free(e);
    }
done:
    lr_trainer_free(&tr);
    lr_dataset_free(&ds);
    lr_adamw_free(&o);
    free(perm); free(tids); free(tlab); free(eloss); free(enorm); free(elr);
    close_case(&c);
}

/* Central differences of the mean loss for a few elements of the
 * embedding (rows used and unused), final norm, a layer norm and lm_head;
 * both cases (tied: the embedding's gradient includes the head's). */
static void fd_case(const char *name)
{
#ifdef LR_DOUBLE
    static const char *const names[] = {
        "model.embed_tokens.weight", "model.norm.weight",
        "model.layers.0.input_layernorm.weight",
        "model.layers.1.post_attention_layernorm.weight", "lm_head.weight"};
    fcase c;
    lr_float *grad, *g2;
    int k, j;
    double worst = 0;
    if (open_case(&c, name)) { close_case(&c); return; }
    grad = malloc(sizeof *grad * c.full.n_params);
    g2 = malloc(sizeof *g2 * c.full.n_params);
    full_grad(&c, grad, 0, NULL);
    for (k = 0; k < 5; k++) {
        const lr_full_entry *en = lr_full_find(&c.full, names[k]);
        if (!en) { CHECK(c.m->config.tie_word_embeddings && k == 4); continue; }
        for (j = 0; j < 6; j++) {
            /* spread the probes over the tensor, and hit an input token */
            size_t i = j == 0 && k == 0
                           ? (size_t)c.ids[1] * c.m->config.hidden_size + 3
                           : ((size_t)j * 7919 + 13) % en->n;
            lr_float *p = c.full.params + en->off + i, keep = *p;
            const double h = 1e-5;
            double lp, lm, fd, d;
            *p = keep + h; lp = full_grad(&c, g2, 0, NULL);
            *p = keep - h; lm = full_grad(&c, g2, 0, NULL);
            *p = keep;
            fd = (lp - lm) / (2 * h);
            d = fabs(fd - grad[en->off + i]) / (fabs(fd) + 1e-3);
            if (d > worst) worst = d;
            if (!(d <= 1e-6))
                fprintf(stderr, "fd %s %s[%zu]: %.10g vs %.10g\n", name,
                        en->name, i, fd, (double)grad[en->off + i]);
            CHECK(d <= 1e-6);
        }
    }
    CHECK(worst > 0);
    free(grad); free(g2);
    close_case(&c);
#else
    (void)name;
    SKIP("finite differences need DOUBLE=1");
#endif
}

static void test_fd_tied(void) { fd_case("tied_gqa"); }
static void test_fd_untied(void) { fd_case("untied_pad_llama3"); }

/* BF16 weights kept as stored cannot be trained: the error names one */
static void test_rejects_bf16(void)
{
    lr_load_options opt;
    lr_model *m = NULL;
    lr_full f;
    lr_error err;
    memset(&opt, 0, sizeof opt);
    opt.keep_dtype = 1;
    CHECK_OK(lr_model_load("vectors/forward/bf16_far", &opt, &m, &err), &err);
    if (!m) return;
    CHECK(m->embed_tokens.dtype == LR_BF16);
    CHECK(lr_full_bind(&f, m, &err) != 0);
    CHECK(strstr(err.msg, "model.embed_tokens.weight") != NULL);
    CHECK(strstr(err.msg, "BF16") != NULL);
    lr_model_free(m);
    /* converted on load: accepted, and the model now reads the flat copy */
    CHECK_OK(lr_model_load("vectors/forward/bf16_far", NULL, &m, &err), &err);
    if (!m) return;
    CHECK_OK(lr_full_bind(&f, m, &err), &err);
    CHECK(m->norm.data == (void *)(f.params + lr_full_find(&f,
                                   "model.norm.weight")->off));
    CHECK(f.decay[lr_full_find(&f, "model.norm.weight")->off] == 0);
    CHECK(f.decay[0] == 1); /* embeddings decay (HF default) */
    lr_model_free(m);
    lr_full_free(&f);
}

/* HF-style init: N(0, std^2) matrices (mean, std, mass within 1 and 2
 * std), norms exactly 1, a pure function of the seed */
static void test_init_normal(void)
{
    lr_model *m = NULL, *m2 = NULL;
    lr_full f, f2;
    lr_error err;
    const lr_full_entry *e;
    double s1 = 0, s2 = 0, in1 = 0, in2 = 0;
    size_t i, n;
    CHECK_OK(lr_model_load("vectors/full/untied_pad_llama3", NULL, &m, &err),
             &err);
    CHECK_OK(lr_model_load("vectors/full/untied_pad_llama3", NULL, &m2, &err),
             &err);
    if (!m || !m2) return;
    CHECK_OK(lr_full_bind(&f, m, &err), &err);
    CHECK_OK(lr_full_bind(&f2, m2, &err), &err);
    lr_full_init_normal(&f, 9, 0.02);
    lr_full_init_normal(&f2, 9, 0.02);
    CHECK(memcmp(f.params, f2.params, sizeof *f.params * f.n_params) == 0);
    lr_full_init_normal(&f2, 10, 0.02);
    CHECK(memcmp(f.params, f2.params, sizeof *f.params * f.n_params) != 0);
    n = 0;
    for (i = 0; i < (size_t)f.n_entries; i++) {
        size_t j;
        e = &f.entries[i];
        for (j = 0; j < e->n; j++) {
            const double x = f.params[e->off + j];
            if (e->is_norm) { CHECK(x == 1); continue; }
            s1 += x; s2 += x * x; n++;
            in1 += fabs(x) < 0.02; in2 += fabs(x) < 0.04;
        }
    }
    CHECK(n > 5000);
    CHECK(fabs(s1 / n) < 3 * 0.02 / sqrt((double)n));
    CHECK_NEAR(sqrt(s2 / n), 0.02, 0.02 * 0.03);
    CHECK_NEAR(in1 / n, 0.6827, 0.02);
    CHECK_NEAR(in2 / n, 0.9545, 0.01);
    /* the model's tensors read the initialised values */
    e = lr_full_find(&f, "lm_head.weight");
    CHECK(e && lr_tensor_get(&m->lm_head, 3) == f.params[e->off + 3]);
    lr_model_free(m); lr_model_free(m2);
    lr_full_free(&f); lr_full_free(&f2);
}

/* The activation layout is counted by the same function that lays it out:
 * lr_acts_floats equals the span of the laid-out lr_acts buffers, and
 * lr_train_ws_bytes equals what lr_train_ws_alloc lays out (tied_gqa has
 * n_heads*head_dim != n_kv_heads*head_dim, so a miscounted attn_out
 * shows). */
static void test_ws_bytes(void)
{
    fcase c;
    int recompute;
    if (open_case(&c, "tied_gqa")) return;
    for (recompute = 0; recompute <= 1; recompute++) {
        const lr_config *cfg = &c.m->config;
        const int B = 2, T = 5;
        const double line = LR_ALIGN / sizeof(lr_float);
        lr_train_ws ws;
        lr_error err;
        double acts, own;
        CHECK_OK(lr_train_ws_alloc(&ws, c.m, NULL, B, T, recompute, &err),
                 &err);
        /* to the end of the last buffer, whose size (like every
         * buffer's) is rounded up to whole cache lines */
        acts = line * ceil((double)(ws.acts.attn_scratch +
                                    (size_t)cfg->num_attention_heads * T -
                                    ws.acts.embed) / line);
        own = line * ceil((double)((const char *)(ws.lse + (size_t)B * T) -
                                   (const char *)ws.mem) /
                          sizeof(lr_float) / line);
#ifdef __linux__
        {
            /* every buffer starts on a cache line (lr_alloc, common.h):
             * threads writing neighbouring heads of two rows share none */
            const lr_float *const bufs[] = {
                ws.acts.embed, ws.acts.layers[0].attn_rstd,
                ws.acts.layers[0].k, ws.acts.layers[0].attn_out,
                ws.acts.layers[0].mlp_rstd, ws.acts.layers[0].act,
                ws.acts.final_rstd, ws.acts.logits, ws.dq, ws.dk, ws.dv,
                ws.dgate, ws.dxa, ws.xd, ws.attn_scratch,
                (const lr_float *)(const void *)ws.lse};
            size_t k;
            for (k = 0; k < sizeof bufs / sizeof *bufs; k++)
                CHECK((uintptr_t)(const void *)bufs[k] % LR_ALIGN == 0);
        }
#endif
        /* small attention probabilities are kept for the backward */
        CHECK(ws.acts.flags == ((recompute ? 0 : LR_ACTS_PER_LAYER) |
                                LR_ACTS_PROBS));
        CHECK(acts == lr_acts_floats(cfg, B, T, ws.acts.flags));
        CHECK(lr_train_ws_bytes(cfg, 0, B, T, recompute) ==
              (acts + own) * sizeof(lr_float));
        lr_train_ws_free(&ws);
    }
    close_case(&c);
}

/* lr_full_backward_fold against its definition: unit zeroed,
 * lr_full_backward into it, acc += unit, compared bit for bit on a tied
 * and an untied model, acc non-zero and unit full of garbage beforehand
 * (its embedding and norm ranges must be zeroed by the call). */
static void fold_case(const char *name)
{
    fcase c;
    lr_train_ws ws;
    lr_error err;
    lr_float *acc0, *want, *got, *unit;
    double nll;
    long n;
    size_t np, j;
    int k;
    lr_rng r;
    if (open_case(&c, name)) { close_case(&c); return; }
    np = c.full.n_params;
    acc0 = malloc(sizeof *acc0 * np); want = malloc(sizeof *want * np);
    got = malloc(sizeof *got * np); unit = malloc(sizeof *unit * np);
    lr_rng_seed(&r, 5);
    for (j = 0; j < np; j++)
        acc0[j] = j % 7 == 0 ? 0 : (lr_float)(lr_rng_double(&r) * 0.02 - 0.01);
    CHECK_OK(lr_train_ws_alloc(&ws, c.m, NULL, c.B, c.T, 0, &err), &err);
    /* the definition */
    memset(unit, 0, sizeof *unit * np);
    CHECK_OK(lr_full_forward(&ws, c.m, c.ids, c.labels, c.mask, c.B, c.T,
                             &nll, &n, &err), &err);
    CHECK_OK(lr_full_backward(&ws, c.m, &c.full, unit, 1.0 / n, &err), &err);
    for (j = 0; j < np; j++) want[j] = acc0[j] + unit[j];
    /* the fold */
    memcpy(got, acc0, sizeof *got * np);
    for (j = 0; j < np; j++) unit[j] = (lr_float)7;
    CHECK_OK(lr_full_forward(&ws, c.m, c.ids, c.labels, c.mask, c.B, c.T,
                             &nll, &n, &err), &err);
    CHECK_OK(lr_full_backward_fold(&ws, c.m, &c.full, unit, got, 1.0 / n,
                                   &err), &err);
    CHECK(memcmp(want, got, sizeof *got * np) == 0);
    for (k = 0; k < c.full.n_entries; k++) {
        const lr_full_entry *e = &c.full.entries[k];
        if (memcmp(want + e->off, got + e->off, sizeof *got * e->n))
            fprintf(stderr, "%s: %s differs after the fold\n", name,
                    e->name);
    }
    lr_train_ws_free(&ws);
    free(acc0); free(want); free(got); free(unit);
    close_case(&c);
}
static void test_fold_tied(void) { fold_case("tied_gqa"); }
static void test_fold_untied(void) { fold_case("untied_pad_llama3"); }

int main(void)
{
    RUN(test_grads_tied_gqa);
    RUN(test_grads_untied_pad_llama3);
    RUN(test_adamw_trajectory);
    RUN(test_fd_tied);
    RUN(test_fd_untied);
    RUN(test_rejects_bf16);
    RUN(test_init_normal);
    RUN(test_ws_bytes);
    RUN(test_fold_tied);
    RUN(test_fold_untied);
    return h_finish("test_full");
}
