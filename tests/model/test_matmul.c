/* test_matmul.c - the fast matmul kernel against the reference kernel (every
 * weight dtype, odd sizes that exercise every block remainder and the
 * 16-lane tail) and, bit for bit, against a plain re-implementation of the
 * summation order documented in matmul.h; the backward dx += dy W bit for
 * bit against its definition (ascending o, zero dy skipped). */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "llamaref/model/matmul.h"
#include "llamaref/core/rng.h"
#ifdef LR_OMP
#include <omp.h>
#endif

#ifdef LR_OMP
#include <omp.h>
#endif

/* The documented fast order for one dot product. */
static lr_float dot16(const lr_float *x, const lr_float *w, int n)
{
    lr_float l[16], s;
    int j, i, kv = n - n % 16;
    for (j = 0; j < 16; j++) l[j] = 0;
    for (i = 0; i < kv; i += 16)
        for (j = 0; j < 16; j++) l[j] += x[i + j] * w[i + j];
    s = ((((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))) +
         (((l[8] + l[9]) + (l[10] + l[11])) + ((l[12] + l[13]) + (l[14] + l[15]))));
    for (i = kv; i < n; i++) s += x[i] * w[i];
    return s;
}

static void run_case(lr_dtype dt, int n, int in, int out, lr_rng *r)
{
    size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out, i;
    lr_float *x = malloc(sizeof *x * nx), *wl = malloc(sizeof *wl * nw);
    lr_float *y1 = malloc(sizeof *y1 * ny), *y2 = malloc(sizeof *y2 * ny);
    void *w = malloc(8 * nw);
    int t, o, exact = 1, within = 1;
    for (i = 0; i < nx; i++) x[i] = (lr_float)(lr_rng_double(r) * 2 - 1);
    for (i = 0; i < nw; i++) {
        float v = (float)(lr_rng_double(r) * 2 - 1);
        switch (dt) {
        case LR_F32: ((float *)w)[i] = v; wl[i] = (lr_float)v; break;
        case LR_F64: ((double *)w)[i] = (double)v + 1e-9; wl[i] = (lr_float)((double)v + 1e-9); break;
        case LR_BF16: ((uint16_t *)w)[i] = lr_f32_to_bf16(v);
                      wl[i] = (lr_float)lr_bf16_to_f32(((uint16_t *)w)[i]); break;
        default: ((uint16_t *)w)[i] = lr_f32_to_f16(v);
                 wl[i] = (lr_float)lr_f16_to_f32(((uint16_t *)w)[i]);
        }
    }
    lr_matmul_ref(y1, x, w, dt, n, in, out);
    lr_matmul_fast(y2, x, w, dt, n, in, out);
    for (t = 0; t < n; t++)
        for (o = 0; o < out; o++) {
            double mag = 0, a = y1[(size_t)t * out + o], b = y2[(size_t)t * out + o];
            int k;
            for (k = 0; k < in; k++)
                mag += fabs((double)x[(size_t)t * in + k] * wl[(size_t)o * in + k]);
            /* both orders are within in * eps * sum |x w| of the truth */
            if (!(fabs(a - b) <= 2.0 * in * (sizeof(lr_float) == 4 ? FLT_EPSILON : DBL_EPSILON) * mag + 1e-30))
                within = 0;
            if (b != (double)dot16(x + (size_t)t * in, wl + (size_t)o * in, in)) exact = 0;
        }
    if (!within) fprintf(stderr, "  %s %dx%dx%d: fast differs from reference\n",
                         lr_dtype_name(dt), n, in, out);
    CHECK(within);
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    if (!exact) fprintf(stderr, "  %s %dx%dx%d: fast is not the documented order\n",
                        lr_dtype_name(dt), n, in, out);
    CHECK(exact);
#else
    (void)exact; /* x87 excess precision: the order is not observable */
#endif
    free(x); free(wl); free(y1); free(y2); free(w);
}

static void test_fast_vs_reference(void)
{
    static const int ns[] = {1, 3, 4, 5, 9};
    static const int ins[] = {1, 15, 16, 17, 64, 200, 1030};
    /* 130: with OpenMP, decoding (n 1) also runs tasks of more than 16
     * weight rows (at 33 rows and 2 threads a task had 12) */
    static const int outs[] = {1, 3, 4, 17, 33, 130};
    static const lr_dtype dts[] = {LR_F32, LR_F64, LR_BF16, LR_F16};
    lr_rng r;
    size_t a, b, c, d;
    lr_rng_seed(&r, 2024);
    for (d = 0; d < 4; d++)
        for (a = 0; a < 5; a++)
            for (b = 0; b < 7; b++)
                for (c = 0; c < 6; c++) run_case(dts[d], ns[a], ins[b], outs[c], &r);
}

/* The packed several-token path (x86-64): rows of W packed in groups of
 * (WP / kv) rows, so long rows give several groups and a partial one;
 * rows of up to 4096 vector elements packed, longer ones (4113) take the
 * unpacked path; tasks of 64 weight rows with a remainder; a partial block
 * of tokens; a long row with a tail of 15 (1503).  With OpenMP, at 1, 2 and 3 threads: the same bits. */
static void test_fast_packed_shapes(void)
{
    static const int shapes[][3] = {{5, 4100, 37}, {8, 4096, 70},
                                    {9, 4113, 20}, {6, 2064, 66},
                                    {4, 1024, 130}, {13, 768, 68},
                                    {9, 1503, 75}};
    lr_rng r;
    size_t a;
    int th;
    lr_rng_seed(&r, 99);
    for (th = 1; th <= 3; th++) {
#ifdef LR_OMP
        omp_set_num_threads(th);
#else
        if (th > 1) break;
#endif
        for (a = 0; a < sizeof shapes / sizeof shapes[0]; a++)
            run_case(a == 3 ? LR_BF16 : LR_F32, shapes[a][0], shapes[a][1],
                     shapes[a][2], &r);
    }
#ifdef LR_OMP
    omp_set_num_threads(1);
#endif
}

/* dx += dy W in the documented order: every dx[t][i] adds dy[t][o] W[o][i]
 * for o = 0, 1, ... (a zero dy adds nothing). */
static void bwd_definition(lr_float *dx, const lr_float *dy, const lr_float *w,
                           int n, int in, int out)
{
    int t, o, i;
    for (t = 0; t < n; t++)
        for (i = 0; i < in; i++) {
            lr_float d = dx[(size_t)t * in + i];
            for (o = 0; o < out; o++) {
                lr_float g = dy[(size_t)t * out + o];
                if (g != 0) d += g * w[(size_t)o * in + i];
            }
            dx[(size_t)t * in + i] = d;
        }
}

/* Sizes cover: rows not a multiple of 4 or of the 64-row task, columns
 * with a 16-lane tail and several 256-column tasks, weight rows beyond one
 * 32-row block; dy with padding rows (all 0) and scattered zeros; every
 * weight dtype (converted in blocks); dx starting non-zero.  With OpenMP
 * at 1, 2 and 3 threads (the worker threads convert weights into their own
 * scratch; .ci/run gives them 128 KB stacks). */
static void test_backward_order(void)
{
    static const int ns[] = {1, 4, 7, 70};
    static const int ins[] = {5, 16, 33, 300, 530};
    static const int outs[] = {1, 31, 33, 70};
    static const lr_dtype dts[] = {LR_F32, LR_F64, LR_BF16, LR_F16};
    lr_rng r;
    size_t a, b, c, d, i;
    int bad = 0;
    lr_rng_seed(&r, 77);
    for (d = 0; d < 4; d++)
        for (a = 0; a < 4; a++)
            for (b = 0; b < 5; b++)
                for (c = 0; c < 4; c++) {
                    const int n = ns[a], in = ins[b], out = outs[c];
                    size_t nw = (size_t)out * in, nx = (size_t)n * in;
                    lr_float *dy = malloc(sizeof *dy * (size_t)n * out);
                    lr_float *wl = malloc(sizeof *wl * nw);
                    lr_float *dx1 = malloc(sizeof *dx1 * nx);
                    lr_float *dx2 = malloc(sizeof *dx2 * nx);
                    lr_float *dx0 = malloc(sizeof *dx0 * nx);
                    void *w = malloc(8 * nw);
                    lr_tensor t;
                    int th;
                    if (!dy || !wl || !dx1 || !dx2 || !dx0 || !w) {
                        CHECK(0);
                        return;
                    }
                    for (i = 0; i < (size_t)n * out; i++) {
                        double u = lr_rng_double(&r);
                        dy[i] = u < 0.02 ? 0 : (lr_float)(u * 2 - 1);
                    }
                    if (n > 2) /* a padding row */
                        memset(dy + (size_t)(n / 2) * out, 0, sizeof *dy * out);
                    /* some -0 in dx: only the skipping of zero dy keeps
                     * them (-0 + 0 * w would be +0 for w > 0) */
                    for (i = 0; i < nx; i++)
                        dx1[i] = dx2[i] = i % 5 == 0 ? -(lr_float)0.0
                                          : (lr_float)(lr_rng_double(&r) - 0.5);
                    for (i = 0; i < nw; i++) {
                        float v = (float)(lr_rng_double(&r) * 2 - 1);
                        switch (dts[d]) {
                        case LR_F32: ((float *)w)[i] = v; wl[i] = (lr_float)v; break;
                        case LR_F64: ((double *)w)[i] = (double)v + 1e-9;
                                     wl[i] = (lr_float)((double)v + 1e-9); break;
                        case LR_BF16: ((uint16_t *)w)[i] = lr_f32_to_bf16(v);
                                      wl[i] = (lr_float)lr_bf16_to_f32(((uint16_t *)w)[i]); break;
                        default: ((uint16_t *)w)[i] = lr_f32_to_f16(v);
                                 wl[i] = (lr_float)lr_f16_to_f32(((uint16_t *)w)[i]);
                        }
                    }
                    memset(&t, 0, sizeof t);
                    t.dtype = dts[d]; t.ndim = 2; t.shape[0] = out; t.shape[1] = in;
                    t.data = w;
                    memcpy(dx0, dx2, sizeof *dx0 * nx);
                    bwd_definition(dx1, dy, wl, n, in, out);
                    for (th = 1; th <= 3; th++) {
#ifdef LR_OMP
                        omp_set_num_threads(th);
#else
                        if (th > 1) break;
#endif
                        memcpy(dx2, dx0, sizeof *dx2 * nx);
                        lr_matmul_backward(dx2, dy, &t, n);
                        if (memcmp(dx1, dx2, sizeof *dx1 * nx) != 0) {
                            fprintf(stderr, "  backward %s %dx%dx%d, %d "
                                    "thread(s), differs from the documented "
                                    "order\n", lr_dtype_name(dts[d]), n, in,
                                    out, th);
                            bad = 1;
                        }
                    }
                    free(dy); free(wl); free(dx1); free(dx2); free(dx0);
                    free(w);
                }
#ifdef LR_OMP
    omp_set_num_threads(1);
#endif
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    CHECK(!bad);
#else
    (void)bad; /* x87 excess precision: the order is not observable */
#endif
}

/* A zero in dy is skipped, not multiplied: dy[t][t % out] = 0 against
 * W[o][o] = inf, so the definition leaves dx[t][t % out] finite where
 * adding 0 * inf would make it NaN.  The zero's position runs over every
 * lane of every block, which catches a kernel that counts a row's zeros
 * wrongly (the count chooses between the kernel and the definition). */
static void test_backward_zero_meets_inf(void)
{
    enum { N = 140, IN = 90, OUT = 70 };
    lr_float *dy = malloc(sizeof *dy * N * OUT), *w = malloc(sizeof *w * OUT * IN);
    lr_float *dx1 = malloc(sizeof *dx1 * N * IN), *dx2 = malloc(sizeof *dx2 * N * IN);
    lr_tensor t;
    int i, o, bad = 0, nan = 0;
    if (!dy || !w || !dx1 || !dx2) { CHECK(0); return; }
    for (i = 0; i < N; i++)
        for (o = 0; o < OUT; o++)
            dy[i * OUT + o] = o == i % OUT ? 0 : (lr_float)(0.5 + (i * 7 + o) % 11 * 0.1);
    for (o = 0; o < OUT; o++)
        for (i = 0; i < IN; i++)
            w[o * IN + i] = i == o ? (lr_float)HUGE_VAL : (lr_float)((o + i) % 9 * 0.125 - 0.5);
    for (i = 0; i < N * IN; i++) dx1[i] = dx2[i] = (lr_float)0.25;
    memset(&t, 0, sizeof t);
    t.dtype = LR_FLOAT_DTYPE; t.ndim = 2; t.shape[0] = OUT; t.shape[1] = IN;
    t.data = w;
    bwd_definition(dx1, dy, w, N, IN, OUT);
    lr_matmul_backward(dx2, dy, &t, N);
    for (i = 0; i < N * IN; i++) {
        nan += dx1[i] != dx1[i];
        bad += (dx1[i] != dx1[i]) != (dx2[i] != dx2[i]);
    }
    CHECK(nan == 0);
    CHECK(bad == 0);
    free(dy); free(w); free(dx1); free(dx2);
}

/* dw += dy^T x in the documented order: every dw[o][i] adds dy[t][o] x[t][i]
 * for t = 0, 1, ..., n-1 (zeros included). */
static void bww_definition(lr_float *dw, const lr_float *dy, const lr_float *x,
                           int n, int in, int out)
{
    int t, o, i;
    for (o = 0; o < out; o++)
        for (i = 0; i < in; i++) {
            lr_float d = dw[(size_t)o * in + i];
            for (t = 0; t < n; t++)
                d += dy[(size_t)t * out + o] * x[(size_t)t * in + i];
            dw[(size_t)o * in + i] = d;
        }
}

/* The weight gradient's vector kernel against the definition: rows of x
 * beyond one 128-row block, columns with 16-lane tails and beyond one
 * 256-column block, dw rows not a multiple of 4 or of the 64-row task,
 * dy with zeros and a -0, dw starting non-zero; 1-3 threads (OMP=1) on
 * shapes large enough to run in parallel.  The fold (dw summed from zero,
 * then added to acc) against those steps done one after the other. */
static void test_backward_weight_order(void)
{
    static const int ns[] = {1, 7, 130, 257};
    static const int ins[] = {5, 16, 33, 64, 100, 300};
    static const int outs[] = {1, 3, 4, 7, 70, 131};
    lr_rng r;
    size_t a, b, c, i;
    int bad = 0, th;
    lr_rng_seed(&r, 78);
    for (a = 0; a < 4; a++)
        for (b = 0; b < 6; b++)
            for (c = 0; c < 6; c++) {
                const int n = ns[a], in = ins[b], out = outs[c];
                const size_t nw = (size_t)out * in, nx = (size_t)n * in;
                lr_float *dy = malloc(sizeof *dy * (size_t)n * out);
                lr_float *x = malloc(sizeof *x * nx);
                lr_float *w0 = malloc(sizeof *w0 * nw), *w1 = malloc(sizeof *w1 * nw);
                lr_float *w2 = malloc(sizeof *w2 * nw);
                lr_float *wz = malloc(sizeof *wz * nw), *wf = malloc(sizeof *wf * nw);
                if (!dy || !x || !w0 || !w1 || !w2 || !wz || !wf) { CHECK(0); return; }
                for (i = 0; i < (size_t)n * out; i++) {
                    double u = lr_rng_double(&r);
                    dy[i] = u < 0.02 ? 0 : (lr_float)(u * 2 - 1);
                }
                dy[0] = -(lr_float)0.0;
                for (i = 0; i < nx; i++) x[i] = (lr_float)(lr_rng_double(&r) * 4 - 2);
                for (i = 0; i < nw; i++) w0[i] = (lr_float)(lr_rng_double(&r) - 0.5);
                memcpy(w1, w0, sizeof *w0 * nw);
                bww_definition(w1, dy, x, n, in, out);
                /* the fold: a zeroed dw, the definition into it, acc += dw */
                memset(wz, 0, sizeof *wz * nw);
                bww_definition(wz, dy, x, n, in, out);
                for (i = 0; i < nw; i++) wf[i] = w0[i] + wz[i];
                for (th = 1; th <= 3; th++) {
#ifdef LR_OMP
                    omp_set_num_threads(th);
#else
                    if (th > 1) break;
#endif
                    memcpy(w2, w0, sizeof *w0 * nw);
                    lr_matmul_backward_weight(w2, dy, x, n, in, out);
                    if (memcmp(w1, w2, sizeof *w1 * nw) != 0) {
                        fprintf(stderr, "  backward_weight %dx%dx%d (%d threads) "
                                "differs from the documented order\n", n, in,
                                out, th);
                        bad = 1;
                    }
                    memcpy(w2, w0, sizeof *w0 * nw);
                    lr_matmul_backward_weight_ref(w2, dy, x, n, in, out);
                    if (memcmp(w1, w2, sizeof *w1 * nw) != 0) bad = 1;
                    memcpy(w2, w0, sizeof *w0 * nw);
                    lr_matmul_backward_weight_fold(w2, dy, x, n, in, out);
                    if (memcmp(wf, w2, sizeof *wf * nw) != 0) {
                        fprintf(stderr, "  backward_weight_fold %dx%dx%d (%d "
                                "threads) differs from zero, dW, add\n", n,
                                in, out, th);
                        bad = 1;
                    }
                }
                free(dy); free(x); free(w0); free(w1); free(w2);
                free(wz); free(wf);
            }
#ifdef LR_OMP
    omp_set_num_threads(1);
#endif
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    CHECK(!bad);
#else
    (void)bad; /* x87 excess precision: the order is not observable */
#endif
}

/* lr_matmul on an lr_tensor follows the build's choice of kernel. */
static void test_dispatch(void)
{
    lr_float x[2 * 20], w[3 * 20], y[6], y2[6];
    lr_tensor t;
    int i;
    for (i = 0; i < 40; i++) x[i] = (lr_float)(i % 7) - 3;
    for (i = 0; i < 60; i++) w[i] = (lr_float)(i % 5) * (lr_float)0.25;
    memset(&t, 0, sizeof t);
    t.dtype = LR_FLOAT_DTYPE; t.ndim = 2; t.shape[0] = 3; t.shape[1] = 20; t.data = w;
    lr_matmul(y, x, &t, 2);
    if (lr_matmul_is_fast()) lr_matmul_fast(y2, x, w, LR_FLOAT_DTYPE, 2, 20, 3);
    else lr_matmul_ref(y2, x, w, LR_FLOAT_DTYPE, 2, 20, 3);
    CHECK(memcmp(y, y2, sizeof y) == 0);
    /* small integers: exact in any order; row 0 . col 0 by hand */
    {
        double s = 0;
        for (i = 0; i < 20; i++) s += (double)x[i] * w[i];
        CHECK(y[0] == (lr_float)s);
    }
    fprintf(stderr, "matmul: %s kernel, isa %s\n", lr_matmul_is_fast() ? "fast" : "reference",
            lr_matmul_isa());
#if LR_SIMD && defined(__aarch64__) && defined(__GNUC__) && !defined(__TINYC__)
    /* aarch64: the vector-extension path is the one selected, as NEON */
    CHECK(strncmp(lr_matmul_isa(), "neon", 4) == 0);
#endif
}

int main(void)
{
    RUN(test_fast_vs_reference);
    RUN(test_fast_packed_shapes);
    RUN(test_dispatch);
    RUN(test_backward_order);
    RUN(test_backward_zero_meets_inf);
    RUN(test_backward_weight_order);
    return h_finish("test_matmul");
}
