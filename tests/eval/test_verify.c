/* test_verify.c - lr_verify on planted divergences: a candidate is written
 * from a real golden dump (vectors/forward/gqa_tied, vectors/lora/all7_gqa:
 * float64 PyTorch), as F32 without the batch dimension like a backend's
 * dump, with one bug planted; verify must name the right first tensor and
 * worst index, and say what the pattern suggests.  Also: the computation
 * order, the default tolerances, the unusable-input errors. */
#include "harness.h"

#include "llamaref/eval/verify.h"

#define GQA "vectors/forward/gqa_tied/expected.safetensors"
#define LORA "vectors/lora/all7_gqa/expected.safetensors"

typedef void (*plant_fn)(const char *name, int ndim, const int64_t *shape,
                         double *x, uint64_t n);

/* Writes every floating tensor of golden to out as dtype, with the leading
 * batch dimension removed (strip) and plant() applied to each. */
static int make_candidate(const char *golden, const char *out, lr_dtype dtype,
                          int strip, plant_fn plant)
{
    lr_st_file *f = NULL;
    lr_st_writer *w = NULL;
    lr_error err;
    size_t i;
    int rc = -1;
    if (lr_st_open(golden, 0, &f, &err) || !(w = lr_st_writer_new(&err))) goto done;
    for (i = 0; i < lr_st_count(f); i++) {
        const lr_st_tensor *t = lr_st_at(f, i);
        double *x;
        int nd = t->ndim, s = strip && nd >= 2 && t->shape[0] == 1;
        if (!lr_dtype_is_float(t->dtype)) continue;
        x = malloc(sizeof *x * (size_t)(t->nelem + 1));
        if (!x || lr_st_read_f64(f, t, x, &err)) { free(x); goto done; }
        if (plant) plant(t->name, nd - s, t->shape + s, x, t->nelem);
        if (lr_st_writer_add_f64(w, t->name, dtype, nd - s, t->shape + s, x, &err)) {
            free(x);
            goto done;
        }
        free(x);
    }
    rc = lr_st_writer_save(w, out, &err);
done:
    if (rc) fprintf(stderr, "make_candidate: %s\n", err.msg);
    lr_st_writer_free(w);
    lr_st_close(f);
    return rc;
}

/* Runs verify and returns the first divergence's tensor (or NULL). */
static const lr_verify_tensor *run(const char *golden, const char *cand,
                                   lr_verify_report *r)
{
    lr_error err;
    lr_verify_opts o;
    lr_verify_opts_init(&o);
    o.compute = LR_F32;
    if (lr_verify_files(golden, cand, &o, r, &err)) {
        fprintf(stderr, "verify failed: %s\n", err.msg);
        return NULL;
    }
    return r->first >= 0 ? &r->t[r->first] : NULL;
}

static double max_abs(const double *x, uint64_t n)
{
    uint64_t i;
    double m = 0;
    for (i = 0; i < n; i++)
        if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

static void test_unchanged_passes(void)
{
    lr_verify_report r;
    const char *c = h_tmp("verify_same.safetensors");
    size_t i;
    CHECK_INT(make_candidate(GQA, c, LR_F32, 1, NULL), 0);
    CHECK(run(GQA, c, &r) == NULL);
    CHECK_INT(r.pass, 1);
    CHECK_INT(r.n, 38); /* 2 layers x 17, embed, final_norm, logits, greedy_margin */
    CHECK_INT(r.max_pos, 11);
    CHECK_INT(r.n_heads, 4);
    CHECK_INT(r.head_dim, 16);
    /* computation order: embed first, layer 0 before layer 1, logits last */
    CHECK_STR(r.t[0].name, "embed");
    CHECK_STR(r.t[1].name, "layers.0.attn_norm");
    CHECK_STR(r.t[5].name, "layers.0.q_rope");
    CHECK_STR(r.t[18].name, "layers.1.attn_norm");
    CHECK_STR(r.t[35].name, "final_norm");
    CHECK_STR(r.t[36].name, "logits");
    CHECK_STR(r.t[37].name, "greedy_margin"); /* not a dump name: last */
    for (i = 0; i < r.n; i++) CHECK(r.t[i].max_rel < 1e-6);
    CHECK_INT(r.t[36].top1_agree, 12);
    {   /* --json: the JSON report as a file */
        lr_error err;
        lr_buf want = {0};
        char *got = NULL;
        size_t n = 0;
        CHECK_OK(lr_verify_report_save_json(&r, h_tmp("verify_same.json"), &err), &err);
        CHECK_OK(lr_read_file(h_tmp("verify_same.json"), &got, &n, &err), &err);
        CHECK_INT(lr_verify_report_json(&r, &want), 0);
        CHECK(got && n == want.len && !memcmp(got, want.data, n));
        free(got);
        lr_buf_free(&want);
        CHECK_ERR(lr_verify_report_save_json(&r, "/nonexistent/v.json", &err), &err,
                  "/nonexistent/v.json");
    }
    {   /* max |delta log-softmax| the direct way: two exps per logit */
        lr_st_file *gf = NULL, *cf = NULL;
        lr_error err;
        double g[12 * 128], cv[12 * 128], want = 0;
        int t, j;
        CHECK_OK(lr_st_open(GQA, 0, &gf, &err) || lr_st_open(c, 0, &cf, &err), &err);
        if (gf && cf && lr_st_find(gf, "logits")->nelem == 12 * 128) {
            CHECK_OK(lr_st_read_f64(gf, lr_st_find(gf, "logits"), g, &err) ||
                     lr_st_read_f64(cf, lr_st_find(cf, "logits"), cv, &err), &err);
            for (t = 0; t < 12; t++) {
                double zg = 0, zc = 0;
                for (j = 0; j < 128; j++) { zg += exp(g[t * 128 + j]); zc += exp(cv[t * 128 + j]); }
                for (j = 0; j < 128; j++) {
                    double d = fabs((cv[t * 128 + j] - log(zc)) - (g[t * 128 + j] - log(zg)));
                    if (d > want) want = d;
                }
            }
            CHECK(want > 0);
            CHECK(fabs(r.t[36].max_dlogsoftmax - want) <= 1e-12);
        }
        lr_st_close(gf);
        lr_st_close(cf);
    }
    lr_verify_report_free(&r);
}

static void plant_one(const char *name, int nd, const int64_t *s, double *x, uint64_t n)
{
    if (!strcmp(name, "layers.1.mlp_out") && nd == 2)
        x[5 * s[1] + 7] += 1e-3 * max_abs(x, n);
}

static void test_one_element(void)
{
    lr_verify_report r;
    const char *c = h_tmp("verify_one.safetensors");
    const lr_verify_tensor *t;
    CHECK_INT(make_candidate(GQA, c, LR_F32, 1, plant_one), 0);
    t = run(GQA, c, &r);
    CHECK(t != NULL);
    if (t) {
        CHECK_STR(t->name, "layers.1.mlp_out");
        CHECK_INT(t->ndim, 2);
        CHECK_INT(t->worst[0], 5);
        CHECK_INT(t->worst[1], 7);
        CHECK_INT(t->n_bad, 1);
        CHECK(strstr(r.diagnosis, "only that one element") != NULL);
        CHECK(strstr(r.diagnosis, "[5, 7]") != NULL);
    }
    CHECK_INT(r.pass, 0);
    lr_verify_report_free(&r);
}

static void plant_head(const char *name, int nd, const int64_t *s, double *x, uint64_t n)
{
    int64_t t, j;
    double m = max_abs(x, n);
    if (strcmp(name, "layers.0.attn_out") || nd != 2) return;
    for (t = 0; t < s[0]; t++)
        for (j = 2 * 16; j < 3 * 16; j++) x[t * s[1] + j] += 1e-3 * m * (1 + (j % 3));
}

static void test_one_head(void)
{
    lr_verify_report r;
    const char *c = h_tmp("verify_head.safetensors");
    const lr_verify_tensor *t;
    CHECK_INT(make_candidate(GQA, c, LR_F32, 1, plant_head), 0);
    t = run(GQA, c, &r);
    CHECK(t != NULL);
    if (t) {
        CHECK_STR(t->name, "layers.0.attn_out");
        CHECK_INT(t->head_one, 2);
        CHECK(t->worst[1] >= 32 && t->worst[1] < 48);
        CHECK(strstr(r.diagnosis, "only head 2 of 4") != NULL);
    }
    lr_verify_report_free(&r);
}

static void plant_transpose(const char *name, int nd, const int64_t *s, double *x, uint64_t n)
{
    int64_t h, i, j, T;
    (void)n;
    if (strcmp(name, "layers.1.attn_probs") || nd != 3) return;
    T = s[1];
    for (h = 0; h < s[0]; h++)
        for (i = 0; i < T; i++)
            for (j = i + 1; j < T; j++) {
                double *a = x + h * T * T + i * T + j, *b = x + h * T * T + j * T + i;
                double v = *a; *a = *b; *b = v;
            }
}

static void test_transposed(void)
{
    lr_verify_report r;
    const char *c = h_tmp("verify_transposed.safetensors");
    const lr_verify_tensor *t;
    CHECK_INT(make_candidate(GQA, c, LR_F32, 1, plant_transpose), 0);
    t = run(GQA, c, &r);
    CHECK(t != NULL);
    if (t) {
        CHECK_STR(t->name, "layers.1.attn_probs");
        CHECK_INT(t->ndim, 3);
        CHECK_INT(t->transposed, 1);
        CHECK(t->worst[2] != t->worst[1]); /* off the diagonal */
        CHECK(strstr(r.diagnosis, "transposed matrix") != NULL);
    }
    lr_verify_report_free(&r);
}

static void plant_nan(const char *name, int nd, const int64_t *s, double *x, uint64_t n)
{
    (void)n;
    if (!strcmp(name, "layers.0.gate") && nd == 2) x[3 * s[1] + 10] = NAN;
    if (!strcmp(name, "layers.1.up") && nd == 2) x[2 * s[1] + 1] = -HUGE_VAL;
}

static void test_nan(void)
{
    size_t i;
    lr_verify_report r;
    const char *c = h_tmp("verify_nan.safetensors");
    const lr_verify_tensor *t;
    CHECK_INT(make_candidate(GQA, c, LR_F32, 1, plant_nan), 0);
    t = run(GQA, c, &r);
    CHECK(t != NULL);
    if (t) {
        CHECK_STR(t->name, "layers.0.gate");
        CHECK_INT(t->worst[0], 3);
        CHECK_INT(t->worst[1], 10);
        CHECK_INT(t->non_finite, 1);
        CHECK(strstr(r.diagnosis, "non-finite") != NULL);
    }
    CHECK_INT(r.pass, 0);
    for (i = 0; i < r.n; i++)
        if (!strcmp(r.t[i].name, "layers.1.up")) {
            CHECK_INT(r.t[i].non_finite, 1);
            CHECK_INT(r.t[i].ok, 0);
            CHECK_INT(r.t[i].worst[0], 2);
            CHECK_INT(r.t[i].worst[1], 1);
        }
    lr_verify_report_free(&r);
}

/* RoPE (HF rotate_half) of golden q/k of layer 1 with rope_theta 20000
 * instead of the case's 10000; positions 0..T-1, head_dim 16. */
static double golden_q[12 * 64], golden_k[12 * 64];
static void plant_rope(const char *name, int nd, const int64_t *s, double *x, uint64_t n)
{
    int64_t t, h, i, T = s[0], W = s[1], hd = 16;
    (void)n;
    if (nd != 2) return;
    if (!strcmp(name, "layers.1.q") || !strcmp(name, "layers.1.k")) {
        if (T * W <= 12 * 64)
            memcpy(name[9] == 'k' ? golden_k : golden_q, x, sizeof(double) * (size_t)(T * W));
        return;
    }
    if (strcmp(name, "layers.1.q_rope") && strcmp(name, "layers.1.k_rope")) return;
    for (t = 0; t < T; t++)
        for (h = 0; h < W / hd; h++)
            for (i = 0; i < hd / 2; i++) {
                double f = pow(20000.0, -2.0 * (double)i / (double)hd), a = (double)t * f;
                double *p = (name[9] == 'k' ? golden_k : golden_q) + t * W + h * hd;
                x[t * W + h * hd + i] = p[i] * cos(a) - p[i + hd / 2] * sin(a);
                x[t * W + h * hd + i + hd / 2] = p[i + hd / 2] * cos(a) + p[i] * sin(a);
            }
}

static void test_rope_base(void)
{
    lr_verify_report r;
    const char *c = h_tmp("verify_rope.safetensors");
    const lr_verify_tensor *t;
    /* tensors are visited in file (name) order by make_candidate:
     * layers.1.k before layers.1.k_rope, layers.1.q before layers.1.q_rope */
    CHECK_INT(make_candidate(GQA, c, LR_F32, 1, plant_rope), 0);
    t = run(GQA, c, &r);
    CHECK(t != NULL);
    if (t) {
        CHECK_STR(t->name, "layers.1.q_rope");
        CHECK(t->worst[0] >= 1);
        CHECK_INT(t->pos_first, 1);
        CHECK(strstr(r.diagnosis, "diverges from t = 1 on") != NULL);
        CHECK(strstr(r.diagnosis, "layers.1.q is within tolerance") != NULL);
        CHECK(strstr(r.diagnosis, "RoPE for queries at positions >= 1") != NULL);
    }
    lr_verify_report_free(&r);
}

/* Spread noise at layers.1.q: every element moved by +-(0.5..1) x amp x
 * max|q| (a fixed pseudo-random sequence), like a quantised backend's
 * rounding (docs/smollm2.md, llama.cpp on SmolLM2). */
static double spread_amp;
static void plant_spread(const char *name, int nd, const int64_t *s, double *x, uint64_t n)
{
    uint64_t i, st = 12345;
    double m = max_abs(x, n);
    (void)s;
    if (strcmp(name, "layers.1.q") || nd != 2) return;
    for (i = 0; i < n; i++) {
        double u;
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        u = 0.5 + 0.5 * (double)(st >> 11) / 9007199254740992.0;
        x[i] += (st >> 63 ? u : -u) * spread_amp * m;
    }
}

/* Small spread noise (cosine > 0.999) reads as a precision difference of
 * the step, without the layout hints; large spread noise (cosine < 0.999)
 * does not. */
static void test_spread_precision(void)
{
    lr_verify_report r;
    const char *c = h_tmp("verify_spread.safetensors");
    const lr_verify_tensor *t;
    spread_amp = 1e-3;
    CHECK_INT(make_candidate(GQA, c, LR_F32, 1, plant_spread), 0);
    t = run(GQA, c, &r);
    CHECK(t != NULL);
    if (t) {
        CHECK_STR(t->name, "layers.1.q");
        CHECK(t->cosine > 0.999 && t->cosine < 1);
        CHECK(t->n_bad * 2 >= t->nelem);
        CHECK(strstr(r.diagnosis, "small and spread") != NULL);
        CHECK(strstr(r.diagnosis, "a precision difference") != NULL);
        CHECK(strstr(r.diagnosis, "layers.1.attn_norm is within tolerance, so it "
                                  "arises in the step between: q_proj") != NULL);
        CHECK(strstr(r.diagnosis, "transposed") == NULL);
    }
    lr_verify_report_free(&r);
    spread_amp = 0.3;
    CHECK_INT(make_candidate(GQA, c, LR_F32, 1, plant_spread), 0);
    t = run(GQA, c, &r);
    CHECK(t != NULL);
    if (t) {
        CHECK_STR(t->name, "layers.1.q");
        CHECK(t->cosine < 0.999);
        CHECK(strstr(r.diagnosis, "small and spread") == NULL);
        CHECK(strstr(r.diagnosis, "so the step between is wrong: q_proj (a "
                                  "transposed weight") != NULL);
    }
    lr_verify_report_free(&r);
}

static void plant_lora_scale(const char *name, int nd, const int64_t *s, double *x, uint64_t n)
{
    uint64_t i;
    (void)nd; (void)s;
    if (!strncmp(name, "grad.", 5))
        for (i = 0; i < n; i++) x[i] *= 2;
}

static void test_lora_scale(void)
{
    lr_verify_report r;
    const char *c = h_tmp("verify_lora.safetensors");
    const lr_verify_tensor *t;
    size_t i;
    CHECK_INT(make_candidate(LORA, c, LR_F32, 1, plant_lora_scale), 0);
    t = run(LORA, c, &r);
    CHECK(t != NULL);
    if (t) {
        /* backward order: the last layer's down_proj, lora_B before lora_A */
        CHECK_STR(t->name, "grad.base_model.model.model.layers.1.mlp.down_proj.lora_B.weight");
        CHECK_INT(t->scale_fits, 1);
        CHECK_NEAR(t->scale, 2.0, 1e-6);
        CHECK(strstr(r.diagnosis, "LoRA scale") != NULL);
    }
    /* forward tensors (logits, loss) come first and pass */
    CHECK(r.n > 2);
    if (r.n > 2) {
        CHECK_STR(r.t[0].name, "logits");
        CHECK_STR(r.t[1].name, "loss");
        CHECK_INT(r.t[1].ok, 1);
        CHECK_STR(r.t[r.n - 1].name,
                  "grad.base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
    }
    for (i = 2; i < r.n; i++) CHECK_INT(r.t[i].ok, 0);
    lr_verify_report_free(&r);
}

/* A llama.cpp-style dump of the golden: graph names, [T, H, hd] shapes,
 * q/k in Meta's interleaved rotary layout unless hf_layout. */
static int make_llamacpp(const char *out, int hf_layout)
{
    static const char *const ours[] = {"attn_norm", "q", "k", "v", "q_rope",
        "k_rope", "attn_probs", "attn_out", "h", "mlp_norm", "mlp_out", "out"};
    static const char *const theirs[] = {"attn_norm-%d", "Qcur-%d", "Kcur-%d",
        "Vcur-%d", "Qcur-%d#2", "Kcur-%d#2", "kq_soft_max-%d", "kqv_out-%d",
        "ffn_inp-%d", "ffn_norm-%d", "ffn_out-%d", "l_out-%d"};
    lr_st_file *f = NULL;
    lr_st_writer *w = NULL;
    lr_error err;
    int l, k, rc = -1;
    char name[64], cname[64];
    if (lr_st_open(GQA, 0, &f, &err) || !(w = lr_st_writer_new(&err))) goto done;
    for (l = 0; l < 2; l++)
        for (k = 0; k < 12; k++) {
            const lr_st_tensor *t;
            double *x, *y;
            int64_t shape[3];
            int nd = 2, qk = k == 1 || k == 2 || k == 4 || k == 5;
            uint64_t i;
            snprintf(name, sizeof name, "layers.%d.%s", l, ours[k]);
            snprintf(cname, sizeof cname, theirs[k], l);
            t = lr_st_find(f, name);
            if (!t) goto done;
            x = malloc(sizeof *x * (size_t)t->nelem);
            y = malloc(sizeof *y * (size_t)t->nelem);
            if (!x || !y || lr_st_read_f64(f, t, x, &err)) { free(x); free(y); goto done; }
            memcpy(y, x, sizeof *x * (size_t)t->nelem);
            shape[0] = t->shape[1]; shape[1] = t->shape[2]; shape[2] = t->ndim > 3 ? t->shape[3] : 0;
            if (t->ndim > 3) nd = 3;
            if (k >= 1 && k <= 5) { /* [T, H*hd] -> [T, H, hd] */
                shape[2] = 16; shape[1] = t->shape[2] / 16; nd = 3;
            }
            if (qk && !hf_layout) /* (i, i+8) -> (2i, 2i+1) per head */
                for (i = 0; i < t->nelem; i += 16) {
                    int j;
                    for (j = 0; j < 8; j++) { y[i + 2 * j] = x[i + j]; y[i + 2 * j + 1] = x[i + j + 8]; }
                }
            if (lr_st_writer_add_f64(w, cname, LR_F32, nd, shape, y, &err)) {
                free(x); free(y);
                goto done;
            }
            free(x); free(y);
        }
    rc = lr_st_writer_save(w, out, &err);
done:
    if (rc) fprintf(stderr, "make_llamacpp: %s\n", err.msg);
    lr_st_writer_free(w);
    lr_st_close(f);
    return rc;
}

static void test_llamacpp_map(void)
{
    lr_verify_report r;
    lr_verify_opts o;
    lr_error err;
    const char *c = h_tmp("verify_llamacpp.safetensors");
    lr_verify_opts_init(&o);
    o.compute = LR_F32;
    o.builtin_map = "llama.cpp";
    CHECK_INT(make_llamacpp(c, 0), 0);
    CHECK_OK(lr_verify_files(GQA, c, &o, &r, &err), &err);
    CHECK_INT(r.pass, 1);
    CHECK_INT(r.n, 24);
    if (r.n == 24) {
        CHECK_STR(r.t[1].cand_name, "Qcur-0");
        CHECK_STR(r.t[5].cand_name, "Kcur-0#2");
    }
    lr_verify_report_free(&r);
    /* q/k left in HF's layout under llama.cpp's names: the map's
     * interleave makes Qcur-0 the first divergence */
    CHECK_INT(make_llamacpp(c, 1), 0);
    CHECK_OK(lr_verify_files(GQA, c, &o, &r, &err), &err);
    CHECK_INT(r.pass, 0);
    if (r.first >= 0) CHECK_STR(r.t[r.first].name, "layers.0.q");
    lr_verify_report_free(&r);
}

static void test_user_map_transpose(void)
{
    lr_verify_report r;
    lr_verify_opts o;
    lr_verify_map map;
    lr_error err;
    const char *c = h_tmp("verify_map_t.safetensors"), *m = h_tmp("verify_map_t.json");
    FILE *f = fopen(m, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("{\"layers.1.attn_probs\": {\"name\": \"layers.1.attn_probs\", "
          "\"transpose\": true}}", f);
    fclose(f);
    CHECK_INT(make_candidate(GQA, c, LR_F32, 1, plant_transpose), 0);
    CHECK_OK(lr_verify_map_load(m, &map, &err), &err);
    lr_verify_opts_init(&o);
    o.compute = LR_F32;
    o.map = &map;
    CHECK_OK(lr_verify_files(GQA, c, &o, &r, &err), &err);
    CHECK_INT(r.pass, 1);
    lr_verify_report_free(&r);
    lr_verify_map_free(&map);
}

/* Golden row 1 of a batch of 3 against a candidate [1, T, X] holding it. */
static void test_batch_row(void)
{
    const char *P = "vectors/forward/padded_batch/expected.safetensors";
    const char *c = h_tmp("verify_row1.safetensors");
    lr_st_file *f = NULL;
    lr_st_writer *w = NULL;
    lr_verify_report r;
    lr_verify_opts o;
    lr_error err;
    size_t i;
    CHECK_OK(lr_st_open(P, 0, &f, &err), &err);
    w = lr_st_writer_new(&err);
    if (!f || !w) { lr_st_close(f); lr_st_writer_free(w); return; }
    for (i = 0; i < lr_st_count(f); i++) {
        const lr_st_tensor *t = lr_st_at(f, i);
        double *x;
        int64_t shape[LR_MAX_DIMS];
        uint64_t per;
        if (!lr_dtype_is_float(t->dtype) || t->ndim < 2 || t->shape[0] != 3) continue;
        per = t->nelem / 3;
        x = malloc(sizeof *x * (size_t)t->nelem);
        CHECK(x != NULL);
        if (!x) break;
        CHECK_OK(lr_st_read_f64(f, t, x, &err), &err);
        memcpy(shape, t->shape, sizeof shape);
        shape[0] = 1;
        CHECK_OK(lr_st_writer_add_f64(w, t->name, LR_F32, t->ndim, shape, x + per, &err), &err);
        free(x);
    }
    CHECK_OK(lr_st_writer_save(w, c, &err), &err);
    lr_st_writer_free(w);
    lr_st_close(f);
    lr_verify_opts_init(&o);
    o.compute = LR_F32;
    o.row = 1;
    CHECK_OK(lr_verify_files(P, c, &o, &r, &err), &err);
    CHECK_INT(r.pass, 1);
    CHECK(r.n >= 37);
    lr_verify_report_free(&r);
    o.row = 0;
    CHECK_OK(lr_verify_files(P, c, &o, &r, &err), &err);
    CHECK_INT(r.pass, 0);
    lr_verify_report_free(&r);
}

static void test_default_tolerances(void)
{
    /* f32: projections 8u + 64u = 72 * 2^-24; bf16 8 * 2^-8 + 64 * 2^-24 */
    CHECK_NEAR(lr_verify_default_rtol(LR_F32, "layers.0.q", 0), 72 * ldexp(1, -24), 1e-20);
    CHECK_NEAR(lr_verify_default_rtol(LR_BF16, "layers.0.q", 0),
               8 * ldexp(1, -8) + 64 * ldexp(1, -24), 1e-20);
    /* the RoPE angle term from q_rope on: 2 * max_pos * u(float32) */
    CHECK_NEAR(lr_verify_default_rtol(LR_F32, "layers.0.q_rope", 5000) -
               lr_verify_default_rtol(LR_F32, "layers.0.q", 5000),
               10000 * ldexp(1, -24), 1e-20);
    CHECK(lr_verify_default_rtol(LR_F64, "logits", 11) < 1e-12);
    CHECK(lr_verify_default_rtol(LR_F16, "logits", 11) >
          lr_verify_default_rtol(LR_F32, "logits", 11));
    /* order: backward after forward, later layers first in backward */
    CHECK(lr_verify_order("dlayers.3.out").major < lr_verify_order("dlayers.2.out").major);
    CHECK(lr_verify_order("loss").major < lr_verify_order("dlogits").major);
    CHECK(lr_verify_order("dembed").major < lr_verify_order("grad.model.norm.weight").major);
    CHECK(lr_verify_order("grad.x.lora_B.weight").major <
          lr_verify_order("exp_avg.x.lora_B.weight").major);
    /* a checkpoint's flat optimizer state: params, exp_avg, exp_avg_sq */
    CHECK(lr_verify_order("grad.x.lora_B.weight").major < lr_verify_order("params").major);
    CHECK(lr_verify_order("params").major < lr_verify_order("exp_avg").major);
    CHECK(lr_verify_order("exp_avg").major < lr_verify_order("exp_avg_sq").major);
}

static void test_bad_input(void)
{
    lr_verify_report r;
    lr_error err;
    lr_verify_opts o;
    lr_verify_map map;
    const char *c = h_tmp("verify_bad_map.json");
    FILE *f;
    lr_verify_opts_init(&o);
    CHECK_ERR(lr_verify_files(GQA, "vectors/forward/gqa_tied/config.json", &o, &r, &err),
              &err, "config.json");
    CHECK_ERR(lr_verify_files("build/tmp/does-not-exist.safetensors", GQA, &o, &r, &err),
              &err, "does-not-exist");
    /* shapes no map explains: a [12, 64] golden against a [64, 32] tensor */
    CHECK_ERR(lr_verify_files(GQA, "vectors/forward/gqa_tied/model.safetensors", &o, &r, &err),
              &err, "floating tensor in common");
    f = fopen(c, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("{\"layers.0.q\": \"Qcur-0\"}", f);
    fclose(f);
    CHECK_OK(lr_verify_map_load(c, &map, &err), &err);
    o.map = &map;
    CHECK_ERR(lr_verify_files(GQA, GQA, &o, &r, &err), &err, "Qcur-0");
    lr_verify_map_free(&map);
    o.map = NULL;
    {   /* the same tensors, other input_ids: not the same computation */
        lr_st_writer *w = lr_st_writer_new(&err);
        int64_t ids[12] = {47, 83, 38, 53, 76, 116, 24, 121, 15, 49, 23, 104}, shape[2];
        double x[64 * 12];
        int i;
        shape[0] = 1; shape[1] = 12;
        for (i = 0; i < 64 * 12; i++) x[i] = 0;
        CHECK(w != NULL);
        if (w) {
            CHECK_OK(lr_st_writer_add_i64(w, "input_ids", LR_I64, 2, shape, ids, &err), &err);
            shape[1] = 12; shape[0] = 12;
            {
                int64_t es[2];
                es[0] = 12; es[1] = 64;
                CHECK_OK(lr_st_writer_add_f64(w, "embed", LR_F32, 2, es, x, &err), &err);
            }
            CHECK_OK(lr_st_writer_save(w, h_tmp("verify_ids.safetensors"), &err), &err);
            lr_st_writer_free(w);
        }
        CHECK_ERR(lr_verify_files(GQA, h_tmp("verify_ids.safetensors"), &o, &r, &err),
                  &err, "'input_ids' differs from the golden");
        CHECK(strstr(err.msg, "verify_ids.safetensors") != NULL);
        CHECK(strstr(err.msg, "element 11 (104 vs 105)") != NULL);
    }
    {   /* an integer tensor where the golden has floats */
        lr_st_writer *w = lr_st_writer_new(&err);
        int64_t shape[2], v[12 * 64];
        int i;
        shape[0] = 12; shape[1] = 64;
        for (i = 0; i < 12 * 64; i++) v[i] = i;
        CHECK(w != NULL);
        if (w) {
            CHECK_OK(lr_st_writer_add_i64(w, "embed", LR_I32, 2, shape, v, &err), &err);
            CHECK_OK(lr_st_writer_save(w, h_tmp("verify_int.safetensors"), &err), &err);
            lr_st_writer_free(w);
        }
        CHECK_ERR(lr_verify_files(GQA, h_tmp("verify_int.safetensors"), &o, &r, &err),
                  &err, "tensor 'embed' has dtype I32");
    }
    o.row = 3;
    CHECK_INT(make_candidate(GQA, h_tmp("verify_row.safetensors"), LR_F32, 1, NULL), 0);
    CHECK_ERR(lr_verify_files(GQA, h_tmp("verify_row.safetensors"), &o, &r, &err),
              &err, "batch of 1");
}

/* A within-tolerance difference at layers.0.gate [11, 44], element 1100:
 * beyond the first 1024-element block of the streaming comparison. */
static void plant_small(const char *name, int nd, const int64_t *s, double *x, uint64_t n)
{
    if (!strcmp(name, "layers.0.gate") && nd == 2)
        x[11 * s[1] + 44] += 2e-6 * max_abs(x, n);
}

/* The one-pass comparison (verify_compare.c): a passing tensor's worst
 * element found in a later block, and the same figures when the files are
 * mapped (decoded in place) as when they are read. */
static void test_streaming(void)
{
    lr_verify_report r, rm;
    const char *c = h_tmp("verify_stream.safetensors");
    lr_st_file *gf = NULL, *cf = NULL;
    lr_verify_opts o;
    lr_error err;
    size_t i;
    memset(&rm, 0, sizeof rm);
    CHECK_INT(make_candidate(GQA, c, LR_F32, 1, plant_small), 0);
    CHECK(run(GQA, c, &r) == NULL);
    CHECK_INT(r.pass, 1);
    for (i = 0; i < r.n; i++)
        if (!strcmp(r.t[i].name, "layers.0.gate")) {
            CHECK_INT(r.t[i].ok, 1);
            CHECK_INT(r.t[i].worst[0], 11);
            CHECK_INT(r.t[i].worst[1], 44);
            CHECK(r.t[i].max_rel > 1.9e-6 && r.t[i].max_rel < 2.1e-6);
        }
    lr_verify_opts_init(&o);
    o.compute = LR_F32;
    CHECK_OK(lr_st_open(GQA, LR_ST_MMAP, &gf, &err), &err);
    CHECK_OK(lr_st_open(c, LR_ST_MMAP, &cf, &err), &err);
    if (gf && cf) {
        CHECK_OK(lr_verify(gf, cf, &o, &rm, &err), &err);
        CHECK_INT(rm.n, r.n);
        for (i = 0; i < r.n && i < rm.n; i++) {
            CHECK_STR(rm.t[i].name, r.t[i].name);
            CHECK(rm.t[i].max_abs == r.t[i].max_abs);
            CHECK(rm.t[i].nmse == r.t[i].nmse);
            CHECK(rm.t[i].cosine == r.t[i].cosine);
            CHECK(rm.t[i].worst[0] == r.t[i].worst[0]);
            CHECK_INT(rm.t[i].ok, r.t[i].ok);
        }
    }
    lr_st_close(gf);
    lr_st_close(cf);
    gf = cf = NULL;
    lr_verify_report_free(&r);
    lr_verify_report_free(&rm);
    /* a tensor of several 1 MB pieces: [300, 1000] F64 golden, F32
     * candidate with its worst element at [250, 123] (piece 2), read and
     * mapped */
    {
        const char *g2 = h_tmp("verify_big_g.safetensors");
        const char *c2 = h_tmp("verify_big_c.safetensors");
        int64_t shape[2] = {300, 1000};
        double *x = malloc(sizeof *x * 300000);
        lr_st_writer *w;
        int k, mode;
        CHECK(x != NULL);
        if (!x) return;
        for (k = 0; k < 300000; k++) x[k] = sin(0.001 * k) + 0.5 * cos(0.37 * k);
        w = lr_st_writer_new(&err);
        CHECK_OK(!w || lr_st_writer_add_f64(w, "layers.0.gate", LR_F64, 2, shape, x, &err) ||
                 lr_st_writer_save(w, g2, &err), &err);
        lr_st_writer_free(w);
        x[250123] += 3e-6;
        w = lr_st_writer_new(&err);
        CHECK_OK(!w || lr_st_writer_add_f64(w, "layers.0.gate", LR_F32, 2, shape, x, &err) ||
                 lr_st_writer_save(w, c2, &err), &err);
        lr_st_writer_free(w);
        free(x);
        for (mode = 0; mode < 2; mode++) {
            int fl = mode ? LR_ST_MMAP : 0;
            CHECK_OK(lr_st_open(g2, fl, &gf, &err) || lr_st_open(c2, fl, &cf, &err), &err);
            if (gf && cf) {
                CHECK_OK(lr_verify(gf, cf, &o, &rm, &err), &err);
                CHECK_INT(rm.n, 1);
                if (rm.n == 1) {
                    CHECK_INT(rm.t[0].ok, 1);
                    CHECK_INT(rm.t[0].worst[0], 250);
                    CHECK_INT(rm.t[0].worst[1], 123);
                    CHECK(rm.t[0].max_abs > 2.9e-6 && rm.t[0].max_abs < 3.1e-6);
                    CHECK(rm.t[0].cosine > 0.999999);
                }
                lr_verify_report_free(&rm);
            }
            lr_st_close(gf);
            lr_st_close(cf);
            gf = cf = NULL;
        }
    }
}

/* --compute and --names as `llamaref verify` reads them */
static void test_option_names(void)
{
    lr_verify_opts o;
    lr_verify_map map;
    lr_error err;
    int c = -1;
    lr_verify_opts_init(&o);
    memset(&map, 0, sizeof map);
    CHECK_INT(lr_verify_compute_from_name("bf16", &c), 0);
    CHECK_INT(c, LR_BF16);
    CHECK_INT(lr_verify_compute_from_name("f64", &c), 0);
    CHECK_INT(c, LR_F64);
    CHECK_INT(lr_verify_compute_from_name("F32", &c), -1); /* lower case only */
    CHECK_INT(c, LR_F64);
    CHECK_INT(lr_verify_names("llama.cpp", &o, &map, &err), 0);
    CHECK_STR(o.builtin_map, "llama.cpp");
    CHECK(o.map == NULL);
    CHECK_INT(lr_verify_names("/nonexistent/map.json", &o, &map, &err), -1);
    CHECK(strstr(err.msg, "/nonexistent/map.json") != NULL);
    CHECK(o.map == NULL);
    lr_verify_map_free(&map);
}

int main(void)
{
    RUN(test_option_names);
    RUN(test_unchanged_passes);
    RUN(test_one_element);
    RUN(test_streaming);
    RUN(test_one_head);
    RUN(test_transposed);
    RUN(test_nan);
    RUN(test_rope_base);
    RUN(test_lora_scale);
    RUN(test_spread_precision);
    RUN(test_llamacpp_map);
    RUN(test_user_map_transpose);
    RUN(test_batch_row);
    RUN(test_default_tolerances);
    RUN(test_bad_input);
    return h_finish("test_verify");
}
