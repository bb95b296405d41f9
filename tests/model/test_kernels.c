/* test_kernels.c - the fast attention kernels against their definitions
 * (lr_attention_forward_ref / _backward_ref), bit for bit: odd head sizes
 * (around the 8-key, 8/16/64-lane blocks), GQA and MQA, a KV-cache offset,
 * padding masks (a row that sees no key), saved and unsaved
 * probabilities, and in OpenMP builds 1, 2 and 3 threads on shapes large
 * enough to switch the parallel loops on.  (The matmul kernels are checked
 * in test_matmul.c, the LoRA kernels in test_lora.c.)  Then a whole
 * training step's gradients, LoRA (dropout, padding, GQA) and
 * full-parameter, bit for bit at 1, 2 and 3 threads, on shapes that switch
 * on every parallel loop (matmul forward and backward, attention forward
 * and backward, weight gradients).  SwiGLU's and the loss's vector bodies
 * against their definitions written with lr_exp.  And the loss, the fold
 * of the trainer's units, clipping and AdamW at 1, 2 and 3 threads. */
#include "harness.h"
#include "llamaref.h"

#ifdef LR_OMP
#include <omp.h>
#endif

static lr_float *rnd(size_t n, uint64_t seed)
{
    lr_float *p = malloc((n ? n : 1) * sizeof *p);
    lr_rng r;
    size_t i;
    lr_rng_seed(&r, seed);
    for (i = 0; i < n; i++) p[i] = (lr_float)(2 * lr_rng_double(&r) - 1);
    for (i = 3; i < n; i += 11) p[i] = (i / 11) % 2 ? (lr_float)-0.0 : 0;
    return p;
}

static lr_float *dup(const lr_float *p, size_t n)
{
    lr_float *q = malloc((n ? n : 1) * sizeof *q);
    memcpy(q, p, n * sizeof *q);
    return q;
}

static int same(const lr_float *a, const lr_float *b, size_t n)
{
    return !memcmp(a, b, n * sizeof *a);
}

static int vec_nonzero(const lr_float *a, size_t n)
{
    size_t i, nz = 0;
    for (i = 0; i < n; i++) nz += a[i] != 0;
    return nz > n / 2;
}

/* one shape: n_heads, n_kv_heads, head_dim, Tq, q_off, masked keys (0:
 * none, else every key j with j % masked == 1 and the first key) */
static int attention_case(int H, int KV, int hd, int Tq, int q_off, int masked,
                          int threads)
{
    lr_attn_shape s;
    const int Tk = q_off + Tq;
    const size_t NQ = (size_t)Tq * H * hd, NK = (size_t)Tk * KV * hd;
    const size_t NS = (size_t)H * Tq * Tk;
    unsigned char *mask = NULL;
    lr_float *q = rnd(NQ, 1), *k = rnd(NK, 2), *v = rnd(NK, 3);
    lr_float *dout = rnd(NQ, 4);
    lr_float *o1 = rnd(NQ, 5), *o2 = rnd(NQ, 6);
    lr_float *sc1 = rnd(NS, 7), *sc2 = rnd(NS, 8);
    lr_float *pr1 = rnd(NS, 9), *pr2 = rnd(NS, 10);
    lr_float *scr1 = rnd((size_t)2 * (H > KV ? H : KV) * Tk, 11);
    lr_float *scr2 = rnd((size_t)2 * (H > KV ? H : KV) * Tk, 12);
    lr_float *dq1 = rnd(NQ, 13), *dq2 = rnd(NQ, 14);
    lr_float *dk1 = rnd(NK, 15), *dk2 = dup(dk1, NK);
    lr_float *dv1 = rnd(NK, 16), *dv2 = dup(dv1, NK);
    lr_float *dq3 = rnd(NQ, 17), *dk3 = dup(dk1, NK), *dv3 = dup(dv1, NK);
    int ok = 1, j;
    s.n_heads = H; s.n_kv_heads = KV; s.head_dim = hd;
    s.Tq = Tq; s.Tk = Tk; s.q_off = q_off;
    if (masked) {
        mask = malloc((size_t)Tk);
        for (j = 0; j < Tk; j++) mask[j] = !(j == 0 || j % masked == 1);
    }
#ifdef LR_OMP
    omp_set_num_threads(threads);
#else
    (void)threads;
#endif
    lr_attention_forward_ref(o1, sc1, pr1, q, k, v, mask, &s, NULL);
    lr_attention_forward(o2, sc2, pr2, q, k, v, mask, &s, NULL);
    ok &= same(o1, o2, NQ) && same(sc1, sc2, NS) && same(pr1, pr2, NS);
    /* without saving: the scratch rows */
    lr_attention_forward(o2, NULL, NULL, q, k, v, mask, &s, scr2);
    ok &= same(o1, o2, NQ);
    lr_attention_backward_ref(dq1, dk1, dv1, dout, q, k, v, mask, &s, scr1);
    lr_attention_backward(dq2, dk2, dv2, dout, q, k, v, mask, &s, scr2);
    ok &= same(dq1, dq2, NQ) && same(dk1, dk2, NK) && same(dv1, dv2, NK);
    /* with the forward's saved probabilities instead of recomputing them */
    lr_attention_backward_saved(dq3, dk3, dv3, dout, q, k, v, pr2, mask, &s,
                                scr2);
    ok &= same(dq1, dq3, NQ) && same(dk1, dk3, NK) && same(dv1, dv3, NK);
    if (!ok)
        fprintf(stderr, "  differs: H %d KV %d hd %d Tq %d q_off %d masked %d "
                "threads %d\n", H, KV, hd, Tq, q_off, masked, threads);
    free(mask); free(q); free(k); free(v); free(dout); free(o1); free(o2);
    free(sc1); free(sc2); free(pr1); free(pr2); free(scr1); free(scr2);
    free(dq1); free(dq2); free(dk1); free(dk2); free(dv1); free(dv2);
    free(dq3); free(dk3); free(dv3);
    return ok;
}

static void test_attention_equals_definition(void)
{
    static const int shapes[][6] = {/* H, KV, hd, Tq, q_off, masked */
        {1, 1, 1, 1, 0, 0},   {4, 2, 8, 13, 0, 3},  {3, 1, 5, 9, 4, 0},
        {2, 2, 72, 20, 0, 0}, {6, 3, 64, 37, 0, 5}, {2, 1, 24, 1, 30, 0},
        {4, 4, 1, 17, 0, 2},  {2, 1, 80, 11, 0, 0}, {8, 4, 8, 64, 0, 7},
        {4, 1, 136, 9, 7, 4}, {12, 4, 64, 40, 0, 0},
        /* transposed keys (Tq >= 8): Tk past one and two blocks of 32,
         * a KV cache's later rows, masks */
        {4, 2, 8, 45, 30, 0}, {2, 1, 16, 70, 0, 9}, {3, 3, 3, 8, 57, 2}};
    size_t c;
    int th;
    for (th = 1; th <= 3; th++)
        for (c = 0; c < sizeof shapes / sizeof shapes[0]; c++)
            CHECK(attention_case(shapes[c][0], shapes[c][1], shapes[c][2],
                                 shapes[c][3], shapes[c][4], shapes[c][5], th));
}

/* gradients of one step at thread counts 1, 2, 3 (OpenMP builds; else the
 * one thread count, which still runs every kernel); 512 rows of 128 and
 * 200 values: large enough for every threaded path (the dropout chunks
 * and the LoRA row tasks start at 65,536 elements, SwiGLU, RMSNorm and
 * its weight gradient at 4,096, the loss at 8,192 logits) */
static void test_training_step_thread_invariance(void)
{
    enum { B = 8, T = 64 };
    lr_config c;
    lr_model *m = NULL;
    lr_lora lo;
    lr_lora_config lc;
    lr_full f;
    lr_error err;
    int ids[B * T], labels[B * T], i, th, mode;
    unsigned char mask[B * T];
    lr_float *first[2] = {NULL, NULL};
    memset(&c, 0, sizeof c);
    c.hidden_size = 128; c.intermediate_size = 200; c.num_hidden_layers = 2;
    c.num_attention_heads = 4; c.num_key_value_heads = 2; c.head_dim = 32;
    c.vocab_size = 300; c.rms_norm_eps = 1e-5; c.rope_theta = 10000;
    c.max_position_embeddings = 64; c.bos_token_id = -1;
    CHECK_OK(lr_model_init_random(&c, 3, &m, &err), &err);
    if (!m) return;
    for (i = 0; i < B * T; i++) {
        ids[i] = (i * 37 + 11) % c.vocab_size;
        mask[i] = !(i >= T && i < T + 5);  /* row 1 left-padded */
        labels[i] = mask[i] && i % 7 ? ids[i] : -100;
    }
    memset(&lc, 0, sizeof lc);
    lc.r = 8; lc.alpha = 16; lc.dropout = 0.1; lc.targets = 0x7f;
    CHECK_OK(lr_lora_alloc(&lo, &m->config, &lc, &err), &err);
    lr_lora_init(&lo, 5);
    for (i = 0; i < (int)lo.n_params; i++)  /* B != 0: every branch works */
        lo.params[i] += (lr_float)(0.01 * ((i * 13) % 17 - 8));
    CHECK_OK(lr_full_bind(&f, m, &err), &err);
    for (mode = 0; mode < 2; mode++) {
        const size_t np = mode ? f.n_params : lo.n_params;
        for (th = 1; th <= 3; th++) {
            lr_train_ws ws;
            lr_float *grad = calloc(np, sizeof *grad);
            double nll;
            long n;
#ifdef LR_OMP
            omp_set_num_threads(th);
#else
            if (th > 1) { free(grad); break; }
#endif
            CHECK_OK(lr_train_ws_alloc(&ws, m, mode ? NULL : &lo, B, T, 0,
                                       &err), &err);
            if (mode) {
                CHECK_OK(lr_full_forward(&ws, m, ids, labels, mask, B, T,
                                         &nll, &n, &err), &err);
                CHECK_OK(lr_full_backward(&ws, m, &f, grad, 1.0 / n, &err),
                         &err);
            } else {
                CHECK_OK(lr_lora_forward(&ws, m, &lo, ids, labels, mask, B, T,
                                         0.1, 99, &nll, &n, &err), &err);
                CHECK_OK(lr_lora_backward(&ws, m, &lo, grad, 1.0 / n, &err),
                         &err);
            }
            CHECK(vec_nonzero(grad, np));
            if (th == 1)
                first[mode] = grad;
            else {
                if (!same(first[mode], grad, np))
                    fprintf(stderr, "  %s gradients differ at %d threads\n",
                            mode ? "full" : "LoRA", th);
                CHECK(same(first[mode], grad, np));
                free(grad);
            }
            lr_train_ws_free(&ws);
        }
    }
#ifdef LR_OMP
    omp_set_num_threads(1);
#endif
    free(first[0]); free(first[1]);
    lr_full_free(&f);
    lr_lora_free(&lo);
    lr_model_free(m);
}

/* The training loop's element and row loops (issue 16, third round): the
 * loss over rows (B 2 x T 40 x V 5000, above LOSS_PAR_MIN), the fold of a
 * unit into the gradient, clipping and AdamW (200,003 elements, above
 * their 65,536 thresholds), bit for bit at 1, 2 and 3 threads. */
static void test_optimizer_loss_thread_invariance(void)
{
    enum { B = 2, T = 40, V = 5000 };
    const size_t N = 200003;
    lr_float *logits = rnd((size_t)B * T * V, 31);
    lr_float *dl[3], *acc[3], *par[3];
    lr_float *unit = rnd(N, 32), *g = rnd(N, 33);
    double nll[3], tlp[3][B * T], nll2[3];
    long cnt[3], cnt2[3];
    int labels[B * T], th, i, k;
    unsigned char *mask = malloc(N);
    lr_error err;
    for (i = 0; i < B * T; i++)
        labels[i] = i % 9 == 4 ? LR_IGNORE_INDEX : (i * 131 + 7) % V;
    for (i = 0; i < (int)N; i++) mask[i] = (unsigned char)(i % 5 != 0);
    for (th = 1; th <= 3; th++) {
        lr_adamw o;
        lr_float *gc = dup(g, N);
#ifdef LR_OMP
        omp_set_num_threads(th);
#else
        if (th > 1) { free(gc); break; }
#endif
        dl[th - 1] = malloc(sizeof(lr_float) * B * T * V);
        CHECK_OK(lr_causal_lm_loss(logits, labels, B, T, V, tlp[th - 1],
                                   &nll[th - 1], &cnt[th - 1], dl[th - 1],
                                   1.0 / 77, &err), &err);
        CHECK_OK(lr_causal_lm_loss(logits, labels, B, T, V, NULL,
                                   &nll2[th - 1], &cnt2[th - 1], NULL, 1.0,
                                   &err), &err);
        CHECK(!memcmp(&nll[th - 1], &nll2[th - 1], sizeof(double)));
        CHECK(cnt[th - 1] == cnt2[th - 1]);
        acc[th - 1] = rnd(N, 34);
        lr_trainer_fold(acc[th - 1], unit, N);
        par[th - 1] = rnd(N, 35);
        CHECK_OK(lr_adamw_init(&o, N, 0.1, &err), &err);
        o.decay_mask = mask;
        for (k = 0; k < 3; k++) {
            lr_clip_grad_norm(gc, N, 0.5);  /* coef < 1: clips */
            lr_adamw_step(&o, par[th - 1], gc, 1e-3);
        }
        lr_adamw_free(&o);
        free(gc);
        if (th > 1) {
            int ok = !memcmp(&nll[0], &nll[th - 1], sizeof(double)) &&
                     cnt[0] == cnt[th - 1] &&
                     !memcmp(tlp[0], tlp[th - 1], sizeof tlp[0]) &&
                     same(dl[0], dl[th - 1], (size_t)B * T * V);
            if (!ok) fprintf(stderr, "  loss differs at %d threads\n", th);
            CHECK(ok);
            ok = same(acc[0], acc[th - 1], N);
            if (!ok) fprintf(stderr, "  fold differs at %d threads\n", th);
            CHECK(ok);
            ok = same(par[0], par[th - 1], N);
            if (!ok) fprintf(stderr, "  AdamW differs at %d threads\n", th);
            CHECK(ok);
        }
    }
#ifdef LR_OMP
    omp_set_num_threads(1);
    th = 4;
#endif
    CHECK(cnt[0] > 0 && nll[0] > 0);
    for (k = 0; k < th - 1; k++) { free(dl[k]); free(acc[k]); free(par[k]); }
    free(logits); free(unit); free(g); free(mask);
}

/* SwiGLU's vector body (exp_v4, 4 at a time) against the definition
 * written with lr_exp, element by element, bit for bit: 4,103 elements (a
 * tail of 3), gates over [-40, 40] and beyond exp's normal range (-800:
 * exp(800) = inf, silu -0; 720: the fallback lanes), and at 1-3 threads. */
static void test_swiglu_equals_definition(void)
{
    enum { N = 4103 };
    lr_float *g = rnd(N, 31), *u = rnd(N, 32), *da = rnd(N, 33);
    lr_float *act = rnd(N, 34), *dg = rnd(N, 35), *du = rnd(N, 36);
    size_t i;
    int th, bad = 0;
    for (i = 0; i < N; i++) g[i] = (lr_float)(40 * g[i]);
    g[5] = (lr_float)-800; g[10] = (lr_float)720; g[17] = (lr_float)-709.5;
    for (th = 1; th <= 3; th++) {
#ifdef LR_OMP
        omp_set_num_threads(th);
#endif
        lr_swiglu_forward(act, g, u, N);
        lr_swiglu_backward(dg, du, da, g, u, N);
        for (i = 0; i < N; i++) {
            const double x = (double)g[i], sg = 1.0 / (1.0 + lr_exp(-x));
            const lr_float a = (lr_float)(x / (1.0 + lr_exp(-x))) * u[i];
            const lr_float b = da[i] * (lr_float)(x * sg);
            const lr_float c =
                da[i] * u[i] * (lr_float)(sg * (1.0 + x * (1.0 - sg)));
            if (memcmp(&a, act + i, sizeof a) || memcmp(&b, du + i, sizeof b) ||
                memcmp(&c, dg + i, sizeof c))
                if (bad++ < 3)
                    fprintf(stderr, "  swiglu differs at %lu (gate %g)\n",
                            (unsigned long)i, (double)g[i]);
        }
    }
    CHECK(bad == 0);
    free(g); free(u); free(da); free(act); free(dg); free(du);
}

/* The loss's vector bodies (exp_v4) against the definition with lr_exp:
 * log p[y] and dlogits of rows of V = 4, 7, 9 and 515 (tails of 0-3),
 * logits spread over 60 or over 4; log p[y] both from lr_logprob and
 * from the loss's token log-probabilities. */
static void test_loss_equals_definition(void)
{
    static const int Vs[] = {4, 7, 9, 515};
    size_t c;
    for (c = 0; c < sizeof Vs / sizeof *Vs; c++) {
        const int B = 2, T = 5, V = Vs[c];
        lr_float *z = rnd((size_t)B * T * V, 41 + c);
        lr_float *d = rnd((size_t)B * T * V, 51 + c);
        int labels[10], r, j, bad = 0;
        double lp[10], nll;
        long n;
        lr_error err;
        /* odd rows spread over 60, even rows over 4 (comparable exps, where
         * the order of the sum shows) */
        for (j = 0; j < B * T * V; j++)
            z[j] = (lr_float)((j / V % 2 ? 30 : 2) * z[j]);
        for (r = 0; r < B * T; r++) labels[r] = (r * 7 + 3) % V;
        labels[3] = LR_IGNORE_INDEX;
        CHECK(lr_causal_lm_loss(z, labels, B, T, V, lp, &nll, &n, d, 0.125,
                                &err) == 0);
        for (r = 0; r < B * T; r++) {
            const lr_float *row = z + (size_t)r * V;
            const int y = r % T + 1 < T ? labels[r + 1] : LR_IGNORE_INDEX;
            double mx = row[0], s = 0, lse;
            if (y == LR_IGNORE_INDEX) continue;
            for (j = 1; j < V; j++)
                if (row[j] > mx) mx = row[j];
            for (j = 0; j < V; j++) s += lr_exp((double)row[j] - mx);
            lse = mx + log(s);
            if ((double)row[y] - lse != lr_logprob(row, V, y)) bad++;
            if ((double)row[y] - lse != lp[r]) bad++; /* the loss's own */
            for (j = 0; j < V; j++) {
                const double p = lr_exp((double)row[j] - lse);
                const lr_float want =
                    (lr_float)(0.125 * (p - (j == y ? 1.0 : 0.0)));
                if (memcmp(&want, d + (size_t)r * V + j, sizeof want)) bad++;
            }
        }
        if (bad) fprintf(stderr, "  loss differs: V %d, %d values\n", V, bad);
        CHECK(bad == 0);
        free(z); free(d);
    }
}

int main(void)
{
    RUN(test_attention_equals_definition);
    RUN(test_swiglu_equals_definition);
    RUN(test_loss_equals_definition);
    RUN(test_training_step_thread_invariance);
    RUN(test_optimizer_loss_thread_invariance);
    return h_finish("test_kernels");
}
