/* bench.c - the measurements of `llamaref bench` (bench.h): matmul
 * GFLOP/s, memory-copy and memory-read bandwidth, decoder tokens per
 * second, and the sequence of them the report runs.  Prints nothing: the
 * report's lines go to the caller's callback.
 * Depends on: matmul.h, forward.h, model.h, rng.h, sampler.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/bench.h"
#include "llamaref/model/forward.h"
#include "llamaref/model/matmul.h"
#include "llamaref/core/rng.h"
#include "llamaref/model/sampler.h"

#ifdef LR_OMP
#include <omp.h>
#endif

double lr_bench_matmul(int fast, int n, int in, int out, int reps)
{
    lr_float *x = malloc(sizeof(lr_float) * (size_t)n * in);
    lr_float *w = malloc(sizeof(lr_float) * (size_t)out * in);
    lr_float *y = malloc(sizeof(lr_float) * (size_t)n * out);
    lr_rng r;
    size_t i;
    double best = 1e30;
    int k;
    if (!x || !w || !y) { free(x); free(w); free(y); return 0; }
    lr_rng_seed(&r, lr_seed_of(LR_STREAM_BENCH, 1, 0, 0, 0));
    for (i = 0; i < (size_t)n * in; i++) x[i] = (lr_float)(lr_rng_double(&r) - 0.5);
    for (i = 0; i < (size_t)out * in; i++) w[i] = (lr_float)(lr_rng_double(&r) - 0.5);
    for (k = 0; k <= reps; k++) {
        double t0 = lr_clock_seconds(), dt;
        if (fast) lr_matmul_fast(y, x, w, LR_FLOAT_DTYPE, n, in, out);
        else lr_matmul_ref(y, x, w, LR_FLOAT_DTYPE, n, in, out);
        dt = lr_clock_seconds() - t0;
        if (k > 0 && dt < best) best = dt;
    }
    free(x); free(w); free(y);
    return 2.0 * n * in * out / best * 1e-9;
}

double lr_bench_copy(void)
{
    size_t n = (size_t)256 << 20;
    char *a = malloc(n), *b = malloc(n);
    double best = 1e30;
    int k;
    if (!a || !b) { free(a); free(b); return 0; }
    memset(a, 1, n);
    memset(b, 2, n);
    for (k = 0; k < 6; k++) {
        double t0 = lr_clock_seconds(), dt;
        memcpy(k & 1 ? a : b, k & 1 ? b : a, n);
        dt = lr_clock_seconds() - t0;
        if (dt < best) best = dt;
    }
    free(a); free(b);
    return 2.0 * (double)n / best * 1e-9;
}

/* The sum of a[0:n) (n a multiple of 8) in 8 independent sums. */
static uint64_t read_sum(const uint64_t *a, size_t n)
{
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    size_t i;
    for (i = 0; i < n; i += 8) {
        s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3];
        s4 += a[i + 4]; s5 += a[i + 5]; s6 += a[i + 6]; s7 += a[i + 7];
    }
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}

double lr_bench_read(void)
{
    const size_t n = ((size_t)256 << 20) / sizeof(uint64_t);
    /* lr_alloc, as the weights: the same pages (huge pages on Linux) */
    uint64_t *a = lr_alloc(n, sizeof *a, "read buffer", NULL);
    volatile uint64_t sink = 0;
    double best = 1e30;
    size_t i;
    int k;
    if (!a) return 0;
    for (i = 0; i < n; i++) a[i] = i * 2654435761u;
    for (k = 0; k < 6; k++) {
        uint64_t s = 0;
        double t0 = lr_clock_seconds(), dt;
#ifdef LR_OMP
        /* each thread sums one contiguous part, as matmul tasks read W */
#pragma omp parallel reduction(+ : s)
        {
            const size_t nt = (size_t)omp_get_num_threads();
            const size_t id = (size_t)omp_get_thread_num();
            const size_t per = (n / 8 + nt - 1) / nt * 8;
            const size_t i0 = id * per < n ? id * per : n;
            const size_t i1 = i0 + per < n ? i0 + per : n;
            s += read_sum(a + i0, i1 - i0);
        }
#else
        s = read_sum(a, n);
#endif
        dt = lr_clock_seconds() - t0;
        sink += s;
        if (dt < best) best = dt;
    }
    (void)sink;
    free(a);
    return (double)(n * sizeof *a) / best * 1e-9;
}

double lr_weight_bytes_per_token(const lr_model *m)
{
    const lr_config *c = &m->config;
    double per = (double)lr_config_param_count(c);
    /* tied: the embedding counted once is lm_head; untied: the embedding
     * table is not streamed, only one row of it */
    if (!c->tie_word_embeddings)
        per -= (double)c->vocab_size * c->hidden_size;
    return per * (double)lr_dtype_size(m->embed_tokens.dtype);
}

int lr_bench_decode(const lr_model *m, int prompt, int gen,
                    lr_bench_decode_result *out, lr_error *err)
{
    lr_decoder d;
    int *ids, i, tok, rc = -1;
    double t0, t1, t2;
    memset(out, 0, sizeof *out);
    if (!(ids = lr_alloc((size_t)prompt, sizeof *ids, "prompt", err))) return -1;
    for (i = 0; i < prompt; i++) ids[i] = (i * 7919 + 3) % m->config.vocab_size;
    if (lr_decoder_init(&d, m, prompt + gen, 64, err)) {
        free(ids);
        return -1;
    }
    lr_decoder_reset(&d, 0);
    t0 = lr_clock_seconds();
    if (lr_decoder_feed(&d, ids, prompt, NULL, err)) goto done;
    t1 = lr_clock_seconds();
    for (i = 0; i < gen; i++) {
        tok = lr_argmax(d.logits, m->config.vocab_size);
        if (lr_decoder_feed(&d, &tok, 1, NULL, err)) goto done;
    }
    t2 = lr_clock_seconds();
    out->prefill_tps = prompt / (t1 - t0);
    out->decode_tps = gen / (t2 - t1);
    out->weights_gbs = lr_weight_bytes_per_token(m) * gen / (t2 - t1) * 1e-9;
    rc = 0;
done:
    lr_decoder_free(&d);
    free(ids);
    return rc;
}

/* one line of the report (printf format) to the caller's callback */
static void say(const lr_bench_options *o, int is_error, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->line(o->ctx, is_error, line);
}

/* The decoder's speed on m at each thread count of [th0, th1], beside the
 * memory read bandwidth (lr_bench_read) measured at that thread count
 * right before. */
static int bench_model(const lr_bench_options *o, const char *label,
                       const lr_model *m, int prompt, int gen)
{
    lr_bench_decode_result r;
    lr_error err;
    int th;
    for (th = o->th0; th <= o->th1; th++) {
        double rd;
        lr_threads_set(th);
        rd = lr_bench_read();
        say(o, 0, "memory read bandwidth threads %d (sum of 256 MiB, read only): "
            "%.2f GB/s", th, rd);
        if (lr_bench_decode(m, prompt, gen, &r, &err)) {
            say(o, 1, "%s", err.msg);
            return -1;
        }
        say(o, 0, "%-22s threads %d  prefill %4d tok: %9.1f tok/s   decode %4d tok: "
            "%8.1f tok/s  weights %.2f GB/s (%.0f%% of read)",
            label, th, prompt, r.prefill_tps, gen, r.decode_tps, r.weights_gbs,
            rd > 0 ? 100.0 * r.weights_gbs / rd : 0.0);
    }
    return 0;
}

int lr_bench_report(const lr_bench_options *o)
{
    lr_config c;
    lr_model *m = NULL;
    lr_error err;
    int th, rc = 0;
    say(o, 0, "llamaref bench: compute %s, fast matmul isa %s, OpenMP %s",
        LR_FLOAT_NAME, lr_matmul_isa(), lr_threads_openmp() ? "on" : "off");
    if (o->decode_only) {
        if (!o->model) {
            say(o, 1, "--decode-only: %s", o->no_model);
            return -1;
        }
        /* llama2.c's run -n 256: 256 one-token forwards at positions 0..255
         * (its prompt tokens too), timed from the second */
        return bench_model(o, "checkpoint", o->model, 1, 255);
    }
    say(o, 0, "memory copy bandwidth (memcpy 256 MiB, read+write): %.2f GB/s",
        lr_bench_copy());
    for (th = o->th0; th <= o->th1; th++) {
        int s = o->quick ? 256 : o->size, sr = o->quick ? 128 : 256;
        lr_threads_set(th);
        say(o, 0, "matmul threads %d: reference [%d x %d] x [%d x %d]^T %7.2f GFLOP/s;"
            " fast [%d x %d] x [%d x %d]^T %7.2f GFLOP/s", th, sr, sr, sr, sr,
            lr_bench_matmul(0, sr, sr, sr, 2), s, s, s, s,
            lr_bench_matmul(1, s, s, s, o->quick ? 3 : 5));
        say(o, 0, "matmul threads %d: fast decode-shaped [1 x 4096] x [4096 x 4096]^T "
            "%7.2f GFLOP/s", th, lr_bench_matmul(1, 1, 4096, 4096, o->quick ? 3 : 10));
    }
    if (o->model)
        rc = bench_model(o, "stories260K", o->model, 256, 256);
    else
        say(o, 0, "stories260K: skipped (%s)", o->no_model);
    if (o->quick) return rc;
    lr_config_bench_100m(&c);
    if (lr_model_init_random(&c, 7, &m, &err)) {
        say(o, 1, "%s", err.msg);
        return -1;
    }
    say(o, 0, "random model: %.1fM parameters, %.0f MB of weights read per "
        "decoded token", lr_config_param_count(&c) * 1e-6,
        lr_weight_bytes_per_token(m) * 1e-6);
    if (bench_model(o, "random 100M", m, 128, 32)) rc = -1;
    lr_model_free(m);
    return rc;
}
