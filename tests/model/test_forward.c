/* test_forward.c - the forward pass against float64 golden vectors
 * (vectors/gen/gen_forward.py: transformers' LlamaForCausalLM in float64
 * with its float32 casts patched, docs/oracles.md), KV-cache decoding against the full forward, greedy
 * generation of the real stories260K model against llama2.c's published
 * sample, and thread-count invariance.
 *
 * Metric per tensor: max |got - want| divided by max |want| ("rel").
 * Tolerances: 5e-6 in the float build (float32 rounding through a few
 * layers), 1e-9 in the DOUBLE=1 build (catches semantic slips such as eps
 * outside the sqrt or wrong llama3 band edges, which move values ~1e-7). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "vectors.h"
#include "llamaref/model/dump.h"
#include "llamaref/model/forward.h"
#include "llamaref/core/json.h"
#include "llamaref/model/matmul.h"
#include "llamaref/model/model.h"
#include "llamaref/formats/safetensors.h"
#include "llamaref/model/sampler.h"

#ifdef LR_OMP
#include <omp.h>
#endif

#ifdef LR_DOUBLE
#define REL_TOL 1e-9
#define DECODE_TOL 1e-12
#else
#define REL_TOL 5e-6
#define DECODE_TOL 1e-5
#endif

static const char *const cases[] = {"gqa_tied", "mqa_headdim", "llama3_rope",
                                    "bf16_far", "padded_batch"};
#define N_CASES (sizeof cases / sizeof cases[0])

static double worst_rel[2];

static int64_t *read_i64(lr_st_file *f, const char *name, uint64_t *n,
                         int64_t shape[2])
{
    lr_error err;
    const lr_st_tensor *t = lr_st_find(f, name);
    int64_t *d;
    if (!t) return NULL;
    d = malloc(sizeof(int64_t) * (size_t)(t->nelem ? t->nelem : 1));
    if (!d || lr_st_read_i64(f, t, d, &err)) {
        free(d);
        return NULL;
    }
    *n = t->nelem;
    if (shape) {
        shape[0] = t->ndim > 1 ? t->shape[0] : 1;
        shape[1] = t->shape[t->ndim - 1];
    }
    return d;
}

/* Compares got[n] to want[n]; -inf must match -inf exactly. */
static double compare(const char *what, const lr_float *got,
                      const double *want, uint64_t n)
{
    double maxabs = 0, maxval = 0, rel;
    uint64_t i, bad_inf = 0;
    for (i = 0; i < n; i++) {
        double g = (double)got[i], w = want[i];
        if (isnan(w)) continue; /* marked unspecified (a left-padding query
                                   that sees no key): not scored */
        if (isinf(w) || isinf(g)) {
            if (!(isinf(w) && isinf(g) && (w < 0) == (g < 0))) bad_inf++;
            continue;
        }
        if (fabs(w) > maxval) maxval = fabs(w);
        if (!(fabs(g - w) <= maxabs)) maxabs = fabs(g - w); /* NaN sticks */
    }
    rel = maxval > 0 ? maxabs / maxval : maxabs;
    if (!(rel <= REL_TOL) || bad_inf) {
        fprintf(stderr, "  %s: max abs %.3g, max |want| %.3g, rel %.3g "
                "(tol %.1g), %llu inf mismatches\n", what, maxabs, maxval, rel,
                REL_TOL, (unsigned long long)bad_inf);
        return HUGE_VAL;
    }
    return rel;
}

static lr_float *acts_tensor(lr_acts *a, const char *name)
{
    int l;
    char field[64];
    if (!strcmp(name, "embed")) return a->embed;
    if (!strcmp(name, "final_norm")) return a->final_norm;
    if (!strcmp(name, "logits")) return a->logits;
    if (sscanf(name, "layers.%d.%63s", &l, field) != 2 || l < 0 ||
        l >= a->n_layers)
        return NULL;
    {
        lr_layer_acts *la = &a->layers[l];
        struct { const char *n; lr_float *p; } map[] = {
            {"attn_norm", la->attn_norm}, {"q", la->q}, {"k", la->k},
            {"v", la->v}, {"q_rope", la->q_rope}, {"k_rope", la->k_rope},
            {"attn_scores", la->attn_scores}, {"attn_probs", la->attn_probs},
            {"attn_out", la->attn_out}, {"o_proj", la->o_proj}, {"h", la->h},
            {"mlp_norm", la->mlp_norm}, {"gate", la->gate}, {"up", la->up},
            {"act", la->act}, {"mlp_out", la->mlp_out}, {"out", la->out}};
        size_t i;
        for (i = 0; i < sizeof map / sizeof map[0]; i++)
            if (!strcmp(field, map[i].n)) return map[i].p;
    }
    return NULL;
}

static void check_case(const char *name, int keep_dtype)
{
    char dir[256], path[300];
    lr_error err;
    lr_model *m = NULL;
    lr_st_file *f = NULL;
    lr_load_options opt;
    lr_acts a;
    int64_t shape[2], *ids64 = NULL, *mask64 = NULL, *pos64 = NULL;
    int *ids = NULL, *pos = NULL;
    unsigned char *mask = NULL;
    uint64_t n, i;
    int B, T, compared = 0;
    double worst = 0;

    memset(&a, 0, sizeof a);
    memset(&opt, 0, sizeof opt);
    opt.keep_dtype = keep_dtype;
    snprintf(dir, sizeof dir, "vectors/forward/%s", name);
    snprintf(path, sizeof path, "%s/expected.safetensors", dir);
    CHECK_OK(lr_model_load_hf(dir, &opt, &m, &err), &err);
    CHECK_OK(lr_st_open(path, 0, &f, &err), &err);
    if (!m || !f) goto done;
    ids64 = read_i64(f, "input_ids", &n, shape);
    mask64 = read_i64(f, "attention_mask", &n, NULL);
    pos64 = read_i64(f, "position_ids", &n, NULL);
    CHECK(ids64 && mask64 && pos64);
    if (!ids64 || !mask64 || !pos64) goto done;
    B = (int)shape[0];
    T = (int)shape[1];
    ids = malloc(sizeof(int) * n);
    pos = malloc(sizeof(int) * n);
    mask = malloc(n);
    for (i = 0; i < n; i++) {
        ids[i] = (int)ids64[i];
        pos[i] = (int)pos64[i];
        mask[i] = (unsigned char)(mask64[i] != 0);
    }
    CHECK_OK(lr_acts_alloc(&a, &m->config, B, T,
                           LR_ACTS_PER_LAYER | LR_ACTS_ATTN, &err), &err);
    CHECK_OK(lr_forward(m, &a, ids, pos, mask, B, T, &err), &err);
    for (i = 0; i < lr_st_count(f); i++) {
        const lr_st_tensor *t = lr_st_at(f, i);
        lr_float *got;
        double *want, r;
        size_t nw;
        if (t->dtype != LR_F64 || !strncmp(t->name, "greedy", 6)) continue;
        got = acts_tensor(&a, t->name);
        if (!got) {
            fprintf(stderr, "  %s: no such activation\n", t->name);
            CHECK(got != NULL);
            continue;
        }
        want = vec_read_f64(f, t->name, &nw);
        CHECK(want != NULL);
        if (!want) continue;
        {
            char what[300];
            snprintf(what, sizeof what, "%s/%s", name, t->name);
            r = compare(what, got, want, nw);
        }
        CHECK(r <= REL_TOL);
        if (r > worst) worst = r;
        compared++;
        free(want);
    }
    CHECK(compared >= 10);
    if (worst > worst_rel[keep_dtype]) worst_rel[keep_dtype] = worst;

    /* greedy continuation through the KV cache */
    {
        int64_t *g = read_i64(f, "greedy_ids", &n, NULL);
        if (g) {
            lr_decoder d;
            int step, tok;
            CHECK(B == 1);
            CHECK_OK(lr_decoder_init(&d, m, T + (int)n, 4, &err), &err);
            lr_decoder_reset(&d, pos[0]);
            CHECK_OK(lr_decoder_feed(&d, ids, T, NULL, &err), &err);
            for (step = 0; step < (int)n; step++) {
                tok = lr_argmax(d.logits, m->config.vocab_size);
                CHECK_INT(tok, g[step]);
                if (step + 1 < (int)n)
                    CHECK_OK(lr_decoder_feed(&d, &tok, 1, NULL, &err), &err);
            }
            lr_decoder_free(&d);
            free(g);
        } else {
            CHECK(B > 1);
        }
    }
done:
    lr_acts_free(&a);
    free(ids64); free(mask64); free(pos64);
    free(ids); free(pos); free(mask);
    if (f) lr_st_close(f);
    lr_model_free(m);
}

static void test_golden_vectors(void)
{
    size_t c;
    for (c = 0; c < N_CASES; c++) check_case(cases[c], 0);
    fprintf(stderr, "golden vectors: worst rel error %.3g (tol %.1g)\n",
            worst_rel[0], REL_TOL);
}

/* BF16 weights kept as BF16 in memory: matmul converts on the fly. */
static void test_golden_keep_bf16(void)
{
    check_case("bf16_far", 1);
    check_case("gqa_tied", 1);
}

/* Prefill logits = token-by-token and chunked KV-cache decoding. */
static void test_prefill_vs_decode(void)
{
    lr_error err;
    lr_model *m = NULL;
    lr_acts a;
    lr_decoder d;
    const int T = 37;
    int ids[37], t, chunk;
    lr_float *dec;
    CHECK_OK(lr_model_load_hf("vectors/forward/llama3_rope", NULL, &m, &err),
             &err);
    if (!m) return;
    for (t = 0; t < T; t++) ids[t] = (t * 37 + 11) % m->config.vocab_size;
    CHECK_OK(lr_acts_alloc(&a, &m->config, 1, T, 0, &err), &err);
    CHECK_OK(lr_forward(m, &a, ids, NULL, NULL, 1, T, &err), &err);
    dec = malloc(sizeof(lr_float) * (size_t)T * m->config.vocab_size);
    for (chunk = 1; chunk <= 8; chunk += 7) {
        double maxd = 0, maxv = 0;
        size_t i, n = (size_t)T * m->config.vocab_size;
        CHECK_OK(lr_decoder_init(&d, m, T, chunk, &err), &err);
        lr_decoder_reset(&d, 0);
        CHECK_OK(lr_decoder_feed(&d, ids, 5, dec, &err), &err);
        CHECK_OK(lr_decoder_feed(&d, ids + 5, T - 5,
                                 dec + (size_t)5 * m->config.vocab_size, &err),
                 &err);
        for (i = 0; i < n; i++) {
            double df = fabs((double)dec[i] - (double)a.logits[i]);
            if (!(df <= maxd)) maxd = df;
            if (fabs(a.logits[i]) > maxv) maxv = fabs(a.logits[i]);
        }
        CHECK(maxd / maxv <= DECODE_TOL);
        /* d.logits is the last row */
        CHECK(d.logits[3] == dec[n - m->config.vocab_size + 3]);
        /* the cache is full now */
        CHECK_ERR(lr_decoder_feed(&d, ids, 1, NULL, &err), &err, "KV cache");
        lr_decoder_free(&d);
    }
    /* a token outside the vocabulary is an error */
    ids[3] = m->config.vocab_size;
    CHECK_ERR(lr_forward(m, &a, ids, NULL, NULL, 1, T, &err), &err,
              "outside the vocabulary");
    free(dec);
    lr_acts_free(&a);
    lr_model_free(m);
}

/* stories260K greedy from BOS must reproduce llama2.c's sample. */
static void test_stories260k_greedy(void)
{
    const char *bin = h_asset("stories260K/stories260K.bin");
    const char *js = h_asset("stories260K/greedy_first64.json");
    lr_error err;
    lr_model *m = NULL;
    lr_json_doc *doc = NULL;
    const lr_json *want;
    lr_decoder d;
    int tok = 1, i, got[64], match = 0;
    if (!bin || !js) SKIP("stories260K assets missing (README.md: Getting the assets)");
    CHECK_OK(lr_model_load(bin, NULL, &m, &err), &err);
    CHECK_OK(lr_json_parse_file(js, &doc, &err), &err);
    if (!m || !doc) goto done;
    want = lr_json_get(lr_json_root(doc), "greedy_next_tokens_first64");
    CHECK(want && want->type == LR_JSON_ARRAY && want->len == 64);
    if (!want || want->len != 64) goto done;
    CHECK_OK(lr_decoder_init(&d, m, 65, 1, &err), &err);
    lr_decoder_reset(&d, 0);
    for (i = 0; i < 64; i++) {
        CHECK_OK(lr_decoder_feed(&d, &tok, 1, NULL, &err), &err);
        tok = got[i] = lr_argmax(d.logits, m->config.vocab_size);
        if (got[i] == (int)want->items[i].integer) match++;
    }
    CHECK_INT(match, 64);
    if (match != 64)
        for (i = 0; i < 64; i++)
            if (got[i] != (int)want->items[i].integer) {
                fprintf(stderr, "  first mismatch at %d: %d vs %d\n", i,
                        got[i], (int)want->items[i].integer);
                break;
            }
    /* the same sequence through the batch forward: each position's arg max
     * is the next token */
    {
        lr_acts a;
        int seq[64];
        seq[0] = 1;
        for (i = 1; i < 64; i++) seq[i] = got[i - 1];
        CHECK_OK(lr_acts_alloc(&a, &m->config, 1, 64, 0, &err), &err);
        CHECK_OK(lr_forward(m, &a, seq, NULL, NULL, 1, 64, &err), &err);
        for (i = 0, match = 0; i < 64; i++)
            match += lr_argmax(a.logits + (size_t)i * m->config.vocab_size,
                               m->config.vocab_size) == got[i];
        CHECK_INT(match, 64);
        lr_acts_free(&a);
    }
    lr_decoder_free(&d);
done:
    lr_json_free(doc);
    lr_model_free(m);
}

/* The thread count changes no bit of the logits (OpenMP builds). */
static void test_thread_invariance(void)
{
#ifdef LR_OMP
    const char *bin = h_asset("stories260K/stories260K.bin");
    lr_error err;
    lr_model *m = NULL;
    lr_acts a;
    lr_float *first;
    int seq[48], i, th;
    size_t n;
    if (!bin) SKIP("stories260K asset missing (README.md: Getting the assets)");
    CHECK_OK(lr_model_load(bin, NULL, &m, &err), &err);
    if (!m) return;
    for (i = 0; i < 48; i++) seq[i] = (i * 97 + 5) % m->config.vocab_size;
    CHECK_OK(lr_acts_alloc(&a, &m->config, 2, 24, 0, &err), &err);
    n = (size_t)48 * m->config.vocab_size;
    first = malloc(sizeof(lr_float) * n);
    for (th = 1; th <= 3; th++) {
        omp_set_num_threads(th);
        CHECK_OK(lr_forward(m, &a, seq, NULL, NULL, 2, 24, &err), &err);
        if (th == 1)
            memcpy(first, a.logits, sizeof(lr_float) * n);
        else
            CHECK(memcmp(first, a.logits, sizeof(lr_float) * n) == 0);
    }
    free(first);
    lr_acts_free(&a);
    lr_model_free(m);
#else
    SKIP("built without OpenMP (OMP=1)");
#endif
}

/* lr_dump_acts writes the documented names; read back, they equal the
 * golden intermediates of sequence 1 of the padded batch. */
static void test_dump_contract(void)
{
    const char *dir = "vectors/forward/padded_batch";
    const char *out = h_tmp("forward_dump.safetensors");
    lr_error err;
    lr_model *m = NULL;
    lr_st_file *want = NULL, *got = NULL;
    lr_st_writer *w = NULL;
    lr_acts a;
    int64_t shape[2], *ids64, *mask64, *pos64;
    int ids[64], pos[64], i, B, T, checked = 0;
    unsigned char mask[64];
    uint64_t n;
    CHECK_OK(lr_model_load_hf(dir, NULL, &m, &err), &err);
    CHECK_OK(lr_st_open("vectors/forward/padded_batch/expected.safetensors", 0,
                        &want, &err), &err);
    if (!m || !want) goto done;
    ids64 = read_i64(want, "input_ids", &n, shape);
    mask64 = read_i64(want, "attention_mask", &n, NULL);
    pos64 = read_i64(want, "position_ids", &n, NULL);
    B = (int)shape[0];
    T = (int)shape[1];
    CHECK(ids64 && mask64 && pos64 && n <= 64 && B == 3);
    if (!ids64 || !mask64 || !pos64 || n > 64 || B != 3) goto done;
    for (i = 0; i < (int)n; i++) {
        ids[i] = (int)ids64[i];
        pos[i] = (int)pos64[i];
        mask[i] = (unsigned char)mask64[i];
    }
    {   /* the generator's positions are HF generate's */
        int p2[64];
        lr_positions_from_mask(p2, mask, B, T);
        CHECK(memcmp(p2, pos, sizeof(int) * n) == 0);
    }
    free(ids64); free(mask64); free(pos64);
    CHECK_OK(lr_acts_alloc(&a, &m->config, B, T,
                           LR_ACTS_PER_LAYER | LR_ACTS_ATTN, &err), &err);
    CHECK_OK(lr_forward(m, &a, ids, pos, mask, B, T, &err), &err);
    w = lr_st_writer_new(&err);
    CHECK_OK(lr_dump_acts(w, &a, 1, T, 1, LR_F64, &err), &err);
    CHECK_OK(lr_st_writer_save(w, out, &err), &err);
    CHECK_OK(lr_st_open(out, 0, &got, &err), &err);
    if (!got) goto done2;
    CHECK_INT(lr_st_count(got), 3 + 17 * m->config.num_hidden_layers);
    for (i = 0; i < (int)lr_st_count(got); i++) {
        const lr_st_tensor *t = lr_st_at(got, (size_t)i);
        const lr_st_tensor *e = lr_st_find(want, t->name);
        size_t ng, nw;
        uint64_t per, k;
        double *g, *x;
        lr_float *gl;
        CHECK(e != NULL && e->nelem == 3 * t->nelem);
        if (!e || e->nelem != 3 * t->nelem) continue;
        g = vec_read_f64(got, t->name, &ng);
        x = vec_read_f64(want, t->name, &nw);
        per = nw / 3;
        gl = malloc(sizeof(lr_float) * (size_t)ng);
        for (k = 0; k < ng; k++) gl[k] = (lr_float)g[k];
        CHECK(compare(t->name, gl, x + per, ng) <= REL_TOL);
        checked++;
        free(g); free(x); free(gl);
    }
    CHECK_INT(checked, 3 + 17 * m->config.num_hidden_layers);
    lr_st_close(got);
done2:
    lr_acts_free(&a);
done:
    if (w) lr_st_writer_free(w);
    if (want) lr_st_close(want);
    lr_model_free(m);
}

int main(void)
{
    RUN(test_golden_vectors);
    RUN(test_golden_keep_bf16);
    RUN(test_prefill_vs_decode);
    RUN(test_stories260k_greedy);
    RUN(test_thread_invariance);
    RUN(test_dump_contract);
    return h_finish("test_forward");
}
