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

#ifdef __cplusplus
}
#endif

#endif
