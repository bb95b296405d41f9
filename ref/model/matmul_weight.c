/* matmul_weight.c - dW += dy^T x, the weight gradient of y = x W^T (see
 * matmul.h; lr_matmul_backward_weight, full-parameter training): its
 * scalar definition (the summation order) and a blocked vector kernel that
 * keeps that order per element, so the bits never depend on the blocking,
 * the vector width or the thread count (tests/model/test_matmul.c).  The
 * forward is in matmul.c, dx += dy W in matmul_backward.c.
 * Depends on: matmul_internal.h (the vector type; matmul.h: common),
 * OpenMP optionally. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/matmul.h"
#include "matmul_internal.h"

/* Weight gradient dw[o][i] += sum_t dy[t][o] x[t][i].
 * Order (the definition, bww_scalar): each dw[o][i] adds dy[t][o] x[t][i]
 * for t = 0, 1, ..., n-1 in turn onto its previous value (one rounding for
 * the product, one for the sum; zeros of dy are not skipped).  The vector
 * kernels keep that order per element: lanes hold 16 columns i of one row
 * o, a tile of 4 rows x 64 columns stays in 16 registers over a block of
 * BWT rows of x and dy (loaded from and stored to dw between blocks, which
 * is exact), so neither the blocking nor the thread count changes a bit.
 * The AVX2 clone packs dy's task columns and 16-column strips of x per
 * block (bww_block_packed) and keeps 6 rows x 16 columns in 12 registers
 * (then 4 rows in 8).  The AVX-512 clone of the float build broadcasts
 * each dy value inside its multiplies (bww_4x4_avx512, mul_bcast).
 * Tasks (one thread each) are at most BWO rows of dw, evenly over the
 * threads (task_rows). */
#define BWO 64      /* most rows of dw per task */
#define BWT 128     /* rows of x / dy per block */
#define BWC 256     /* columns of dw per block */

/* The definition on dw rows [o0, o1), columns [i0, i1), x/dy rows [t0, t1). */
static void bww_scalar(lr_float *dw, const lr_float *dy, const lr_float *x,
                       int t0, int t1, int o0, int o1, int i0, int i1,
                       int in_dim, int out_dim)
{
    int o, t, i;
    for (o = o0; o < o1; o++) {
        lr_float *restrict d = dw + (size_t)o * in_dim;
        for (t = t0; t < t1; t++) {
            const lr_float g = dy[(size_t)t * out_dim + o];
            const lr_float *restrict xt = x + (size_t)t * in_dim;
            for (i = i0; i < i1; i++) d[i] += g * xt[i];
        }
    }
}

/* Rows o .. o+3 of dw x columns [i, i + 4 LANES), over t0 .. t1-1. */
ALWAYS_INLINE void bww_4x4(lr_float *dw, const lr_float *dy,
                           const lr_float *x, int t0, int t1, int o, int i,
                           int in_dim, int out_dim)
{
    lr_float *d0 = dw + (size_t)o * in_dim + i, *d1 = d0 + in_dim;
    lr_float *d2 = d1 + in_dim, *d3 = d2 + in_dim;
    vec a0 = vload(d0), b0 = vload(d0 + LANES), c0 = vload(d0 + 2 * LANES), e0 = vload(d0 + 3 * LANES);
    vec a1 = vload(d1), b1 = vload(d1 + LANES), c1 = vload(d1 + 2 * LANES), e1 = vload(d1 + 3 * LANES);
    vec a2 = vload(d2), b2 = vload(d2 + LANES), c2 = vload(d2 + 2 * LANES), e2 = vload(d2 + 3 * LANES);
    vec a3 = vload(d3), b3 = vload(d3 + LANES), c3 = vload(d3 + 2 * LANES), e3 = vload(d3 + 3 * LANES);
    const lr_float *xt = x + (size_t)t0 * in_dim + i;
    const lr_float *g = dy + (size_t)t0 * out_dim + o;
    int t;
    for (t = t0; t < t1; t++, xt += in_dim, g += out_dim) {
        const vec x0 = vload(xt), x1 = vload(xt + LANES);
        const vec x2 = vload(xt + 2 * LANES), x3 = vload(xt + 3 * LANES);
        vec gv;
        gv = vsplat(g[0]);
        a0 = vmuladd(a0, gv, x0); b0 = vmuladd(b0, gv, x1);
        c0 = vmuladd(c0, gv, x2); e0 = vmuladd(e0, gv, x3);
        gv = vsplat(g[1]);
        a1 = vmuladd(a1, gv, x0); b1 = vmuladd(b1, gv, x1);
        c1 = vmuladd(c1, gv, x2); e1 = vmuladd(e1, gv, x3);
        gv = vsplat(g[2]);
        a2 = vmuladd(a2, gv, x0); b2 = vmuladd(b2, gv, x1);
        c2 = vmuladd(c2, gv, x2); e2 = vmuladd(e2, gv, x3);
        gv = vsplat(g[3]);
        a3 = vmuladd(a3, gv, x0); b3 = vmuladd(b3, gv, x1);
        c3 = vmuladd(c3, gv, x2); e3 = vmuladd(e3, gv, x3);
    }
    memcpy(d0, &a0, sizeof a0); memcpy(d0 + LANES, &b0, sizeof b0);
    memcpy(d0 + 2 * LANES, &c0, sizeof c0); memcpy(d0 + 3 * LANES, &e0, sizeof e0);
    memcpy(d1, &a1, sizeof a1); memcpy(d1 + LANES, &b1, sizeof b1);
    memcpy(d1 + 2 * LANES, &c1, sizeof c1); memcpy(d1 + 3 * LANES, &e1, sizeof e1);
    memcpy(d2, &a2, sizeof a2); memcpy(d2 + LANES, &b2, sizeof b2);
    memcpy(d2 + 2 * LANES, &c2, sizeof c2); memcpy(d2 + 3 * LANES, &e2, sizeof e2);
    memcpy(d3, &a3, sizeof a3); memcpy(d3 + LANES, &b3, sizeof b3);
    memcpy(d3 + 2 * LANES, &c3, sizeof c3); memcpy(d3 + 3 * LANES, &e3, sizeof e3);
}

#if HAVE_BCAST_MUL
/* bww_4x4 in the AVX-512 clone of the float build: each dy value
 * broadcast inside its four multiplies (mul_bcast); the same products and
 * sums per element. */
__attribute__((target("avx512f")))
static void bww_4x4_avx512(lr_float *dw, const lr_float *dy,
                           const lr_float *x, int t0, int t1, int o, int i,
                           int in_dim, int out_dim)
{
    lr_float *d0 = dw + (size_t)o * in_dim + i, *d1 = d0 + in_dim;
    lr_float *d2 = d1 + in_dim, *d3 = d2 + in_dim;
    vec a0 = vload_avx512(d0), b0 = vload_avx512(d0 + LANES), c0 = vload_avx512(d0 + 2 * LANES), e0 = vload_avx512(d0 + 3 * LANES);
    vec a1 = vload_avx512(d1), b1 = vload_avx512(d1 + LANES), c1 = vload_avx512(d1 + 2 * LANES), e1 = vload_avx512(d1 + 3 * LANES);
    vec a2 = vload_avx512(d2), b2 = vload_avx512(d2 + LANES), c2 = vload_avx512(d2 + 2 * LANES), e2 = vload_avx512(d2 + 3 * LANES);
    vec a3 = vload_avx512(d3), b3 = vload_avx512(d3 + LANES), c3 = vload_avx512(d3 + 2 * LANES), e3 = vload_avx512(d3 + 3 * LANES);
    const lr_float *xt = x + (size_t)t0 * in_dim + i;
    const lr_float *g = dy + (size_t)t0 * out_dim + o;
    int t;
    for (t = t0; t < t1; t++, xt += in_dim, g += out_dim) {
        const vec x0 = vload_avx512(xt), x1 = vload_avx512(xt + LANES);
        const vec x2 = vload_avx512(xt + 2 * LANES), x3 = vload_avx512(xt + 3 * LANES);
        a0 = a0 + mul_bcast(g, x0); b0 = b0 + mul_bcast(g, x1);
        c0 = c0 + mul_bcast(g, x2); e0 = e0 + mul_bcast(g, x3);
        a1 = a1 + mul_bcast(g + 1, x0); b1 = b1 + mul_bcast(g + 1, x1);
        c1 = c1 + mul_bcast(g + 1, x2); e1 = e1 + mul_bcast(g + 1, x3);
        a2 = a2 + mul_bcast(g + 2, x0); b2 = b2 + mul_bcast(g + 2, x1);
        c2 = c2 + mul_bcast(g + 2, x2); e2 = e2 + mul_bcast(g + 2, x3);
        a3 = a3 + mul_bcast(g + 3, x0); b3 = b3 + mul_bcast(g + 3, x1);
        c3 = c3 + mul_bcast(g + 3, x2); e3 = e3 + mul_bcast(g + 3, x3);
    }
    memcpy(d0, &a0, sizeof a0); memcpy(d0 + LANES, &b0, sizeof b0);
    memcpy(d0 + 2 * LANES, &c0, sizeof c0); memcpy(d0 + 3 * LANES, &e0, sizeof e0);
    memcpy(d1, &a1, sizeof a1); memcpy(d1 + LANES, &b1, sizeof b1);
    memcpy(d1 + 2 * LANES, &c1, sizeof c1); memcpy(d1 + 3 * LANES, &e1, sizeof e1);
    memcpy(d2, &a2, sizeof a2); memcpy(d2 + LANES, &b2, sizeof b2);
    memcpy(d2 + 2 * LANES, &c2, sizeof c2); memcpy(d2 + 3 * LANES, &e2, sizeof e2);
    memcpy(d3, &a3, sizeof a3); memcpy(d3 + LANES, &b3, sizeof b3);
    memcpy(d3 + 2 * LANES, &c3, sizeof c3); memcpy(d3 + 3 * LANES, &e3, sizeof e3);
}
#endif

#if HAVE_X86_DISPATCH
/* For AVX2 (16 registers): nr = 4 or 6 rows of dw x LANES columns, d[r] =
 * row r's first column, over nt rows of a packed strip of x (xp: LANES
 * values per row) and of packed dy (gp[t * gs + r] = dy[t][row r]): the
 * rows' two 32-byte pieces at a time (2 nr accumulators; 6 rows: 8 loads
 * per 12 products instead of 6 per 8); per element the same products and
 * sums as bww_4x1.  nr is a constant where it is called, and the loops
 * over rows are unrolled, so the accumulators stay in registers. */
ALWAYS_INLINE void bww_rows_packed(lr_float *const *d, int nr,
                                   const lr_float *xp, const lr_float *gp,
                                   int gs, int nt)
{
    int q, t, r;
    for (q = 0; q < LANES; q += 2 * PL) {
        pvec a[6], b[6];
        const lr_float *xt = xp + q, *g = gp;
#pragma GCC unroll 6
        for (r = 0; r < nr; r++) {
            a[r] = pload(d[r] + q);
            b[r] = pload(d[r] + q + PL);
        }
        for (t = 0; t < nt; t++, xt += LANES, g += gs) {
            const pvec xl = pload(xt), xh = pload(xt + PL);
#pragma GCC unroll 6
            for (r = 0; r < nr; r++) {
                const pvec gv = psplat(g[r]);
                a[r] = a[r] + gv * xl;
                b[r] = b[r] + gv * xh;
            }
        }
#pragma GCC unroll 6
        for (r = 0; r < nr; r++) {
            pstore(d[r] + q, a[r]);
            pstore(d[r] + q + PL, b[r]);
        }
    }
}

/* The AVX2 clone's body over one block of rows t0 .. t1-1: the task's
 * columns of dy (BWO values per row) and each LANES-wide strip of x are
 * packed (rows of x or dy a power of two apart share L1 sets), and every
 * 6-row tile of dw (then one of 4 rows) goes through a strip while it is
 * in L1.  Returns the first row of dw left to the caller. */
ALWAYS_INLINE int bww_block_packed(lr_float *dw, const lr_float *dy,
                                    const lr_float *x, int t0, int t1,
                                    int o0, int o1, int iv, int in_dim,
                                    int out_dim)
{
    lr_float gp[BWT * BWO], xp[BWT * LANES];
    const int nt = t1 - t0, no = o1 - o0;
    int t, i, o, r, done = o0;
    for (t = 0; t < nt; t++)
        memcpy(gp + (size_t)t * BWO, dy + (size_t)(t0 + t) * out_dim + o0,
               sizeof *gp * no);
    for (i = 0; i < iv; i += LANES) {
        for (t = 0; t < nt; t++)
            memcpy(xp + (size_t)t * LANES, x + (size_t)(t0 + t) * in_dim + i,
                   sizeof *xp * LANES);
        for (o = o0; o + 6 <= o1; o += 6) {
            lr_float *d[6];
            for (r = 0; r < 6; r++) d[r] = dw + (size_t)(o + r) * in_dim + i;
            bww_rows_packed(d, 6, xp, gp + (o - o0), BWO, nt);
        }
        for (; o + 4 <= o1; o += 4) {
            lr_float *d[4];
            for (r = 0; r < 4; r++) d[r] = dw + (size_t)(o + r) * in_dim + i;
            bww_rows_packed(d, 4, xp, gp + (o - o0), BWO, nt);
        }
        done = o; /* the same row for every strip */
    }
    return done; /* with no strip (iv 0) there is nothing to do */
}
#endif

/* Rows o .. o+3 x columns [i, i + LANES). */
ALWAYS_INLINE void bww_4x1(lr_float *dw, const lr_float *dy,
                           const lr_float *x, int t0, int t1, int o, int i,
                           int in_dim, int out_dim)
{
    lr_float *d0 = dw + (size_t)o * in_dim + i, *d1 = d0 + in_dim;
    lr_float *d2 = d1 + in_dim, *d3 = d2 + in_dim;
    vec a0 = vload(d0), a1 = vload(d1), a2 = vload(d2), a3 = vload(d3);
    const lr_float *xt = x + (size_t)t0 * in_dim + i;
    const lr_float *g = dy + (size_t)t0 * out_dim + o;
    int t;
    for (t = t0; t < t1; t++, xt += in_dim, g += out_dim) {
        const vec x0 = vload(xt);
        a0 = vmuladd(a0, vsplat(g[0]), x0);
        a1 = vmuladd(a1, vsplat(g[1]), x0);
        a2 = vmuladd(a2, vsplat(g[2]), x0);
        a3 = vmuladd(a3, vsplat(g[3]), x0);
    }
    memcpy(d0, &a0, sizeof a0); memcpy(d1, &a1, sizeof a1);
    memcpy(d2, &a2, sizeof a2); memcpy(d3, &a3, sizeof a3);
}

/* One row o x columns [i, i + LANES). */
ALWAYS_INLINE void bww_1x1(lr_float *dw, const lr_float *dy,
                           const lr_float *x, int t0, int t1, int o, int i,
                           int in_dim, int out_dim)
{
    lr_float *d0 = dw + (size_t)o * in_dim + i;
    vec a0 = vload(d0);
    const lr_float *xt = x + (size_t)t0 * in_dim + i;
    const lr_float *g = dy + (size_t)t0 * out_dim + o;
    int t;
    for (t = t0; t < t1; t++, xt += in_dim, g += out_dim)
        a0 = vmuladd(a0, vsplat(g[0]), vload(xt));
    memcpy(d0, &a0, sizeof a0);
}

/* dw rows [o0, o1), all columns, all n rows of x / dy.  wide, as in
 * matmul_backward.c's bwd_body: 0 the generic kernels, 1 the AVX-512
 * clone (the 4 x 4 tiles through bww_4x4_avx512 in the float build), 2
 * the AVX2 clone (each block of rows through bww_block_packed). */
ALWAYS_INLINE void bww_body(lr_float *dw, const lr_float *dy,
                            const lr_float *x, int n, int o0, int o1,
                            int in_dim, int out_dim, int wide)
{
    const int iv = in_dim - in_dim % LANES;
    int t0, c0, o, i;
    for (t0 = 0; t0 < n; t0 += BWT) {
        const int t1 = t0 + BWT < n ? t0 + BWT : n;
#if HAVE_X86_DISPATCH
        if (wide == 2) {
            for (o = bww_block_packed(dw, dy, x, t0, t1, o0, o1, iv, in_dim,
                                      out_dim);
                 o < o1; o++)
                for (i = 0; i < iv; i += LANES)
                    bww_1x1(dw, dy, x, t0, t1, o, i, in_dim, out_dim);
        }
#endif
        for (c0 = 0; wide != 2 && c0 < iv; c0 += BWC) {
            const int c1 = c0 + BWC < iv ? c0 + BWC : iv;
            for (o = o0; o + 4 <= o1; o += 4) {
                for (i = c0; i + 4 * LANES <= c1; i += 4 * LANES) {
#if HAVE_BCAST_MUL
                    if (wide == 1) {
                        bww_4x4_avx512(dw, dy, x, t0, t1, o, i, in_dim,
                                       out_dim);
                        continue;
                    }
#endif
                    bww_4x4(dw, dy, x, t0, t1, o, i, in_dim, out_dim);
                }
                for (; i < c1; i += LANES)
                    bww_4x1(dw, dy, x, t0, t1, o, i, in_dim, out_dim);
            }
            for (; o < o1; o++)
                for (i = c0; i < c1; i += LANES)
                    bww_1x1(dw, dy, x, t0, t1, o, i, in_dim, out_dim);
        }
        if (iv < in_dim) {
            /* the last in_dim % LANES columns: one vector per row of dw,
             * this block's rows of x packed with zeros after them (those
             * lanes are thrown away) */
            lr_float xp[BWT * LANES];
            const int tw = in_dim - iv;
            int t;
            for (t = t0; t < t1; t++) {
                memset(xp + (size_t)(t - t0) * LANES, 0, sizeof *xp * LANES);
                memcpy(xp + (size_t)(t - t0) * LANES, x + (size_t)t * in_dim + iv,
                       sizeof *xp * tw);
            }
            for (o = o0; o < o1; o++)
                tail_axpy(dw + (size_t)o * in_dim + iv,
                          dy + (size_t)t0 * out_dim + o, (size_t)out_dim, xp,
                          t1 - t0, tw);
        }
    }
}

static void bww_generic(lr_float *dw, const lr_float *dy, const lr_float *x,
                        int n, int o0, int o1, int in_dim, int out_dim)
{
    bww_body(dw, dy, x, n, o0, o1, in_dim, out_dim, 0);
}

#if HAVE_X86_DISPATCH
__attribute__((target("avx512f")))
static void bww_avx512(lr_float *dw, const lr_float *dy, const lr_float *x,
                       int n, int o0, int o1, int in_dim, int out_dim)
{
    bww_body(dw, dy, x, n, o0, o1, in_dim, out_dim, 1);
}

__attribute__((target("avx2")))
static void bww_avx2(lr_float *dw, const lr_float *dy, const lr_float *x,
                     int n, int o0, int o1, int in_dim, int out_dim)
{
    bww_body(dw, dy, x, n, o0, o1, in_dim, out_dim, 2); /* 2: packed */
}
#endif

typedef void (*bww_fn)(lr_float *, const lr_float *, const lr_float *, int,
                       int, int, int, int);

static bww_fn pick_bww(void)
{
#if HAVE_X86_DISPATCH
    if (__builtin_cpu_supports("avx512f")) return bww_avx512;
    if (__builtin_cpu_supports("avx2")) return bww_avx2;
#endif
    return bww_generic;
}

void lr_matmul_backward_weight_ref(lr_float *dw, const lr_float *dy,
                                   const lr_float *x, int n, int in_dim,
                                   int out_dim)
{
    bww_scalar(dw, dy, x, 0, n, 0, out_dim, 0, in_dim, in_dim, out_dim);
}

void lr_matmul_backward_weight(lr_float *dw, const lr_float *dy,
                               const lr_float *x, int n, int in_dim,
                               int out_dim)
{
    /* dy (n, out), x (n, in), dw (out, in):  y[t][o] = sum_i x[t][i] W[o][i]
     * so dL/dW[o][i] = sum_t dy[t][o] x[t][i]; rows of dw are independent. */
    const bww_fn fn = LR_SIMD ? pick_bww() : NULL;
    const int rows = task_rows(out_dim, BWO, 4); /* as in lr_matmul_fast */
    const int ntask = (out_dim + rows - 1) / rows;
    int task;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) \
    if ((double)n * in_dim * out_dim > 65536.0)
#endif
    for (task = 0; task < ntask; task++) {
        const int o0 = task * rows, o1 = o0 + rows < out_dim ? o0 + rows : out_dim;
        if (fn) fn(dw, dy, x, n, o0, o1, in_dim, out_dim);
        else bww_scalar(dw, dy, x, 0, n, o0, o1, 0, in_dim, in_dim, out_dim);
    }
}

/* acc += (the weight gradient from zero): each task computes its rows of dw
 * into a zeroed scratch of its own (rows x in_dim, on the heap, reused
 * over the thread's tasks) with the kernel above, then adds them to acc -
 * the products and sums of zeroing dw, lr_matmul_backward_weight and
 * acc += dw, without the dw array in memory (SIMD=0 builds run the
 * definition into the scratch).  When malloc fails, each element is summed
 * from zero in a local and added: the definition itself, one element at a
 * time. */
void lr_matmul_backward_weight_fold(lr_float *acc, const lr_float *dy,
                                    const lr_float *x, int n, int in_dim,
                                    int out_dim)
{
    const bww_fn fn = LR_SIMD ? pick_bww() : NULL;
    const int rows = task_rows(out_dim, BWO, 4);
    const int ntask = (out_dim + rows - 1) / rows;
#ifdef LR_OMP
#pragma omp parallel if ((double)n * in_dim * out_dim > 65536.0)
#endif
    {
        lr_float *s = malloc(sizeof *s * (size_t)rows * in_dim);
        int task;
#ifdef LR_OMP
#pragma omp for schedule(static)
#endif
        for (task = 0; task < ntask; task++) {
            const int o0 = task * rows;
            const int no = (o0 + rows < out_dim ? o0 + rows : out_dim) - o0;
            const size_t len = (size_t)no * in_dim;
            lr_float *restrict a = acc + (size_t)o0 * in_dim;
            size_t j;
            int o, i, t;
            if (!s) { /* the definition, one element at a time */
                for (o = 0; o < no; o++)
                    for (i = 0; i < in_dim; i++) {
                        lr_float d = 0;
                        for (t = 0; t < n; t++)
                            d += dy[(size_t)t * out_dim + o0 + o] *
                                 x[(size_t)t * in_dim + i];
                        a[(size_t)o * in_dim + i] += d;
                    }
                continue;
            }
            memset(s, 0, sizeof *s * len);
            /* the task's rows as rows 0 .. no-1 of a dw of its own: dy
             * from column o0 on, its row stride still out_dim */
            if (fn) fn(s, dy + o0, x, n, 0, no, in_dim, out_dim);
            else bww_scalar(s, dy + o0, x, 0, n, 0, no, 0, in_dim, in_dim,
                            out_dim);
            for (j = 0; j < len; j++) a[j] += s[j];
        }
        free(s);
    }
}
