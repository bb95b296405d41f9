/* bench.h - the measurements behind `llamaref bench` (docs/performance.md):
 * matmul GFLOP/s of the reference and fast kernels, memory-copy and
 * memory-read bandwidth, and prefill / decode tokens per second through the KV-cache
 * decoder with the weight-streaming bandwidth that implies.  Wall-clock
 * figures (lr_clock_seconds), best of several runs; they vary from run
 * to run and are compared side by side, never asserted.
 * Depends on: matmul.h, forward.h (the decoder), model.h, rng.h,
 * sampler.h (lr_argmax). */
#ifndef LLAMAREF_BENCH_H
#define LLAMAREF_BENCH_H

#include "llamaref/core/common.h"
#include "llamaref/model/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* GFLOP/s of y[n, out] = x[n, in] W^T (lr_matmul_fast when fast, else
 * lr_matmul_ref) on seeded random inputs, best of reps runs after a
 * warm-up; 0 when out of memory. */
double lr_bench_matmul(int fast, int n, int in, int out, int reps);
/* Memory copy bandwidth in GB/s (STREAM convention: bytes read + bytes
 * written), best of six memcpy of a 256 MiB buffer; 0 when out of memory. */
double lr_bench_copy(void);
/* Memory read bandwidth in GB/s (bytes read): the sum of a 256 MiB array
 * (64-bit integer adds into 8 independent sums), best of six passes, on
 * the current OpenMP thread count (one thread without OpenMP).  The
 * yardstick for decoding, which only reads its weights (memcpy also
 * writes, so lr_bench_copy understates what a reader can reach); 0 when
 * out of memory. */
double lr_bench_read(void);
/* Bytes of weights one decoded token reads: every layer matrix, the norms
 * and lm_head (the embedding row itself is negligible). */
double lr_weight_bytes_per_token(const lr_model *m);

typedef struct lr_bench_decode_result {
    double prefill_tps, decode_tps; /* tokens per second */
    double weights_gbs;             /* weight bytes streamed per second, GB/s */
} lr_bench_decode_result;

/* prompt tokens (a fixed pseudo-random sequence) fed at once, then gen
 * greedy tokens one at a time, on the current thread count. */
int lr_bench_decode(const lr_model *m, int prompt, int gen,
                    lr_bench_decode_result *out, lr_error *err);

/* `llamaref bench`'s report: what it measures and its lines. */
typedef struct lr_bench_options {
    const lr_model *model;  /* the checkpoint timed (stories260K), or NULL */
    const char *no_model;   /* why model is NULL (its load error) */
    int quick;              /* small matmul sizes, no random 100M model */
    int size;               /* fast matmul on [size, size] x [size, size]^T */
    int decode_only;        /* only decoding model: 1 prompt token, 255 greedy */
    int th0, th1;           /* the thread counts timed, th0 .. th1 */
    /* receives each line (no newline): a result, or an error (is_error) */
    void (*line)(void *ctx, int is_error, const char *text);
    void *ctx;
} lr_bench_options;
/* Runs the measurements in the report's order, one line each to o->line:
 * the build (compute type, matmul isa, OpenMP); with decode_only the
 * checkpoint's decoding at each thread count (an error without model);
 * else memory copy bandwidth, matmul GFLOP/s (reference and fast,
 * decode-shaped) at each thread count, the checkpoint's prefill / decode
 * beside the memory read bandwidth (a "skipped" line without model) and,
 * unless quick, the same on a random ~100M-parameter model
 * (lr_config_bench_100m, seed 7).  Returns 0, or -1 after an error line
 * (a failed checkpoint run goes on to the random model). */
int lr_bench_report(const lr_bench_options *o);

#ifdef __cplusplus
}
#endif

#endif
