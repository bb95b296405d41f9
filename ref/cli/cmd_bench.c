/* cmd_bench.c - `llamaref bench`: matmul GFLOP/s (reference and fast
 * kernels, 1 and 2 threads), memory-copy bandwidth, and prefill / decode
 * tokens per second on stories260K and on a random ~100M-parameter model,
 * with the weight-streaming bandwidth decoding achieves.  A benchmark, not
 * a test: numbers go to stdout, docs/performance.md records them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llamaref/forward.h"
#include "llamaref/matmul.h"
#include "llamaref/model.h"
#include "llamaref/rng.h"
#include "llamaref/sampler.h"

#ifdef LR_OMP
#include <omp.h>
#endif

static void set_threads(int n)
{
#ifdef LR_OMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

static int max_threads_available(void)
{
#ifdef LR_OMP
    return 2;
#else
    return 1;
#endif
}

/* GFLOP/s of y[n, out] = x[n, in] W^T, best of `reps` runs after a warm-up. */
static double bench_matmul(int fast, int n, int in, int out, int reps)
{
    lr_float *x = malloc(sizeof(lr_float) * (size_t)n * in);
    lr_float *w = malloc(sizeof(lr_float) * (size_t)out * in);
    lr_float *y = malloc(sizeof(lr_float) * (size_t)n * out);
    lr_rng r;
    size_t i;
    double best = 1e30;
    int k;
    if (!x || !w || !y) { free(x); free(w); free(y); return 0; }
    lr_rng_seed(&r, 1);
    for (i = 0; i < (size_t)n * in; i++) x[i] = (lr_float)(lr_rng_double(&r) - 0.5);
    for (i = 0; i < (size_t)out * in; i++) w[i] = (lr_float)(lr_rng_double(&r) - 0.5);
    for (k = 0; k <= reps; k++) {
        double t0 = cli_now(), dt;
        if (fast) lr_matmul_fast(y, x, w, LR_FLOAT_DTYPE, n, in, out);
        else lr_matmul_ref(y, x, w, LR_FLOAT_DTYPE, n, in, out);
        dt = cli_now() - t0;
        if (k > 0 && dt < best) best = dt;
    }
    free(x); free(w); free(y);
    return 2.0 * n * in * out / best * 1e-9;
}

/* Memory copy bandwidth (STREAM convention: bytes read + bytes written),
 * best of several memcpy of a 256 MiB buffer; one thread. */
static double bench_copy(void)
{
    size_t n = (size_t)256 << 20;
    char *a = malloc(n), *b = malloc(n);
    double best = 1e30;
    int k;
    if (!a || !b) { free(a); free(b); return 0; }
    memset(a, 1, n);
    memset(b, 2, n);
    for (k = 0; k < 6; k++) {
        double t0 = cli_now(), dt;
        memcpy(k & 1 ? a : b, k & 1 ? b : a, n);
        dt = cli_now() - t0;
        if (dt < best) best = dt;
    }
    free(a); free(b);
    return 2.0 * (double)n / best * 1e-9;
}

/* Bytes of weights one decoded token reads: every layer matrix, the norms
 * and lm_head (the embedding row itself is negligible). */
static double weight_bytes_per_token(const lr_model *m)
{
    const lr_config *c = &m->config;
    double per = (double)lr_config_param_count(c);
    /* tied: the embedding counted once is lm_head; untied: the embedding
     * table is not streamed, only one row of it */
    if (!c->tie_word_embeddings)
        per -= (double)c->vocab_size * c->hidden_size;
    return per * (double)lr_dtype_size(m->embed_tokens.dtype);
}

static int bench_model(const char *label, const lr_model *m, int prompt,
                       int gen, double copy_gbs)
{
    lr_decoder d;
    lr_error err;
    int *ids = malloc(sizeof(int) * (size_t)prompt), i, tok, th;
    if (!ids) return -1;
    for (i = 0; i < prompt; i++) ids[i] = (i * 7919 + 3) % m->config.vocab_size;
    if (lr_decoder_init(&d, m, prompt + gen, 64, &err)) {
        fprintf(stderr, "llamaref bench: %s\n", err.msg);
        free(ids);
        return -1;
    }
    for (th = 1; th <= max_threads_available(); th++) {
        double t0, t1, t2, bw;
        set_threads(th);
        lr_decoder_reset(&d, 0);
        t0 = cli_now();
        if (lr_decoder_feed(&d, ids, prompt, NULL, &err)) break;
        t1 = cli_now();
        for (i = 0; i < gen; i++) {
            tok = lr_argmax(d.logits, m->config.vocab_size);
            if (lr_decoder_feed(&d, &tok, 1, NULL, &err)) break;
        }
        t2 = cli_now();
        bw = weight_bytes_per_token(m) * gen / (t2 - t1) * 1e-9;
        printf("%-22s threads %d  prefill %4d tok: %9.1f tok/s   decode %4d tok: "
               "%8.1f tok/s  weights %.2f GB/s (%.0f%% of copy)\n",
               label, th, prompt, prompt / (t1 - t0), gen, gen / (t2 - t1), bw,
               100.0 * bw / copy_gbs);
    }
    lr_decoder_free(&d);
    free(ids);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: llamaref bench [--stories PATH] [--size N] [--quick]\n"
               "  --stories PATH            llama2.c checkpoint timed for prefill/decode\n"
               "                            (default ../shared/assets/stories260K/\n"
               "                            stories260K.bin, skipped when missing; a\n"
               "                            given PATH must load)\n"
               "  --size N                  fast matmul on [N, N] x [N, N]^T (default 1024)\n"
               "  --quick                   small sizes only (seconds)\n"
               "Thread counts 1 and 2 need an OMP=1 build.\n");
}

int cmd_bench(int argc, char **argv)
{
    const char *stories = "../shared/assets/stories260K/stories260K.bin";
    int i, th, quick = 0, size = 1024, given = 0, rc = 0;
    double copy;
    lr_config c;
    lr_model *m = NULL;
    lr_error err;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--stories") && i + 1 < argc) {
            stories = argv[++i];
            given = 1;
        } else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            long v;
            if (cli_int("--size", argv[++i], 16, 16384, &v)) return 2;
            size = (int)v;
        } else if (!strcmp(argv[i], "--quick")) {
            quick = 1;
        } else {
            return cli_bad_option("bench", argv[i], usage);
        }
    }
    /* a checkpoint asked for must load, before any timing */
    if (lr_model_load(stories, NULL, &m, &err)) {
        m = NULL;
        if (given) {
            fprintf(stderr, "llamaref bench: %s\n", err.msg);
            return 1;
        }
    }
    printf("llamaref bench: compute %s, fast matmul isa %s, OpenMP %s\n",
           LR_FLOAT_NAME, lr_matmul_isa(), max_threads_available() > 1 ? "on" : "off");
    copy = bench_copy();
    printf("memory copy bandwidth (memcpy 256 MiB, read+write): %.2f GB/s\n", copy);
    for (th = 1; th <= max_threads_available(); th++) {
        int s = quick ? 256 : size, sr = quick ? 128 : 256;
        set_threads(th);
        printf("matmul threads %d: reference [%d x %d] x [%d x %d]^T %7.2f GFLOP/s;"
               " fast [%d x %d] x [%d x %d]^T %7.2f GFLOP/s\n", th, sr, sr, sr, sr,
               bench_matmul(0, sr, sr, sr, 2), s, s, s, s,
               bench_matmul(1, s, s, s, quick ? 3 : 5));
        printf("matmul threads %d: fast decode-shaped [1 x 4096] x [4096 x 4096]^T "
               "%7.2f GFLOP/s\n", th, bench_matmul(1, 1, 4096, 4096, quick ? 3 : 10));
    }
    if (m) {
        rc = bench_model("stories260K", m, 256, 256, copy) ? 1 : 0;
        lr_model_free(m);
        m = NULL;
    } else {
        printf("stories260K: skipped (%s)\n", err.msg);
    }
    if (!quick) {
        lr_config_bench_100m(&c);
        if (lr_model_init_random(&c, 7, &m, &err)) {
            fprintf(stderr, "llamaref bench: %s\n", err.msg);
            return 1;
        }
        printf("random model: %.1fM parameters, %.0f MB of weights read per "
               "decoded token\n", lr_config_param_count(&c) * 1e-6,
               weight_bytes_per_token(m) * 1e-6);
        if (bench_model("random 100M", m, 128, 32, copy)) rc = 1;
        lr_model_free(m);
    }
    return rc;
}
