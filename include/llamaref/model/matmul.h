/* matmul.h - y = x W^T, the one operation that dominates a Llama's time.
 *
 * x is [n, in] lr_float row-major, W is [out, in] row-major as in PyTorch
 * (stored as F32, F64, BF16 or F16: converted to lr_float on the fly), y is
 * [n, out] lr_float.
 *
 * Two kernels compute it, each with a fixed, documented summation order, so
 * that a result never depends on the thread count or the instruction set:
 *
 *  - reference (lr_matmul_ref): y[t][o] = (...((x0 w0 + x1 w1) + x2 w2)...)
 *    summed strictly left to right in lr_float.  This is the definition.
 *  - fast (lr_matmul with LR_SIMD=1): every dot product is split into 16
 *    interleaved partial sums, lane j summing x_i w_i for i = j, j+16, ...
 *    over i < in - in % 16 (left to right, multiply then add, no FMA); the
 *    lanes are combined by the pairwise tree
 *    ((((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)))+(((l8+l9)+...)+...)) and the
 *    in % 16 tail elements are then added left to right.  The same order is
 *    used by the vector code (AVX-512, AVX2, SSE, NEON via compiler vector
 *    extensions) and by the plain-C fallback, so all agree bit for bit.
 * With OpenMP (LR_OMP) the output columns are shared between threads; each
 * output element is still computed by one thread in the order above.
 *
 * Contract of every function here: all arrays are caller-owned, row-major
 * and contiguous; nothing is kept (lr_matmul_fast's x86-64 kernels take
 * a 330 kB scratch buffer per thread from malloc for several-token
 * products and free it before returning; without it they compute the
 * same bits unpacked); outputs must not overlap inputs; n, in_dim,
 * out_dim >= 1 (n = 0 does nothing).  No
 * function can fail (no error is returned): sizes are trusted, so an array
 * shorter than stated is undefined behaviour.  "written" outputs are
 * overwritten, "added to" outputs accumulate (+=, zero them first for a
 * plain gradient). */
#ifndef LLAMAREF_MATMUL_H
#define LLAMAREF_MATMUL_H

#include "llamaref/core/common.h"
#include "llamaref/model/model.h"
#include "llamaref/core/dtype.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_MATMUL_LANES 16

/* The reference kernel: y [n, out_dim] written from x [n, in_dim] and w,
 * which points to out_dim * in_dim elements of wdtype (LR_F32, LR_F64,
 * LR_BF16 or LR_F16 bit patterns, host order; LR_FLOAT_DTYPE for an
 * lr_float array). */
void lr_matmul_ref(lr_float *y, const lr_float *x, const void *w,
                   lr_dtype wdtype, int n, int in_dim, int out_dim);

/* The fast kernel (same arguments), whatever LR_SIMD says. */
void lr_matmul_fast(lr_float *y, const lr_float *x, const void *w,
                    lr_dtype wdtype, int n, int in_dim, int out_dim);

/* What the model uses: lr_matmul_fast when built with LR_SIMD=1 (the
 * default), else lr_matmul_ref.  w is [out, in]; n rows of x; y written. */
void lr_matmul(lr_float *y, const lr_float *x, const lr_tensor *w, int n);

/* Backward of y = x W^T for a frozen W: dx[n, in] += dy[n, out] W.
 * Each dx element adds its terms in ascending o (thread-independent). */
void lr_matmul_backward(lr_float *dx, const lr_float *dy, const lr_tensor *w,
                        int n);

/* Weight gradient of y = x W^T: dw[out, in] += dy[n, out]^T x[n, in].
 * Each dw element adds its n terms in ascending row order, in lr_float
 * (thread-independent: OpenMP shares the output rows). */
void lr_matmul_backward_weight(lr_float *dw, const lr_float *dy,
                               const lr_float *x, int n, int in_dim,
                               int out_dim);
/* The definition of that order as plain loops (for each o, each t in
 * ascending order, each i: dw[o][i] += dy[t][o] * x[t][i]);
 * lr_matmul_backward_weight equals it bit for bit (vector kernel, any
 * thread count; tested in tests/model/test_matmul.c). */
void lr_matmul_backward_weight_ref(lr_float *dw, const lr_float *dy,
                                   const lr_float *x, int n, int in_dim,
                                   int out_dim);
/* acc[out, in] += dw, dw the weight gradient above summed from zero: the
 * bits of zeroing a dw, lr_matmul_backward_weight into it and adding it to
 * acc element by element (one gradient folded into a sum, the trainer's
 * unit), without a dw in memory (each thread's rows of it live in a
 * scratch of its own).  Tested against those three steps. */
void lr_matmul_backward_weight_fold(lr_float *acc, const lr_float *dy,
                                    const lr_float *x, int n, int in_dim,
                                    int out_dim);
/* 1 when lr_matmul uses the fast kernel; the name of its instruction set
 * ("avx512f", "avx2", "generic vectors", "scalar"). */
int lr_matmul_is_fast(void);
const char *lr_matmul_isa(void);
/* The OpenMP threads the kernels share (OMP=1 builds): lr_threads_set
 * makes it n from now on (omp_set_num_threads; n >= 1), and does nothing
 * in a build without OpenMP; lr_threads_openmp is 1 in an OpenMP build,
 * else 0. */
void lr_threads_set(int n);
int lr_threads_openmp(void);

/* ---- plain-array forms, for callers without a model or an lr_tensor ----
 * w is an lr_float array [out_dim, in_dim] (row-major, as PyTorch's
 * nn.Linear.weight).  Same kernels and summation orders as lr_matmul and
 * lr_matmul_backward (so what the model computes, bit for bit).
 * Forward:  y [n, out_dim] = x [n, in_dim] w^T              (written).
 * Backward: dx [n, in_dim] += dy [n, out_dim] w              (added to);
 *           the weight gradient is lr_matmul_backward_weight above. */
void lr_matmul_plain(lr_float *y, const lr_float *x, const lr_float *w, int n,
                     int in_dim, int out_dim);
void lr_matmul_backward_plain(lr_float *dx, const lr_float *dy,
                              const lr_float *w, int n, int in_dim,
                              int out_dim);

#ifdef __cplusplus
}
#endif

#endif
