/* matmul_backward.c - dx += dy W, the input gradient of y = x W^T (see
 * matmul.h; lr_matmul_backward, W frozen as in LoRA): its scalar
 * definition (the summation order) and a blocked vector kernel that keeps
 * that order per element, so the bits never depend on the blocking, the
 * vector width or the thread count (tests/model/test_matmul.c).  The
 * forward is in matmul.c, the weight gradient dW += dy^T x in
 * matmul_weight.c.
 * Depends on: matmul_internal.h (the vector type, weight conversion;
 * matmul.h: common, dtype, model's lr_tensor), OpenMP optionally. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/matmul.h"
#include "matmul_internal.h"

/* ---- dx = dy W ---------------------------------------------------------- */

/* dx += dy W for y = x W^T with W frozen (LoRA: no weight gradient).
 * Derivation: y[t][o] = sum_i x[t][i] W[o][i], so
 * dL/dx[t][i] = sum_o dy[t][o] W[o][i].
 * Order (the definition, bwd_scalar): each dx[t][i] adds dy[t][o] W[o][i]
 * for o = 0, 1, ... in turn onto its previous value, one rounding for the
 * product and one for the sum, skipping dy[t][o] == 0.  The blocked kernel
 * keeps exactly that order per element, whatever the blocking, the vector
 * width or the thread count, so every version gives the same bits: tasks
 * of bt rows x BC columns (one thread each); inside, weight rows in blocks
 * of bo (a bo x BC block stays in L1 or L2 while bt rows use it), 4 rows x
 * 16 columns of dx held in vector registers across a block of weight rows
 * (the longer the block, the fewer loads and stores of dx per product).
 * On x86-64 (the AVX-512 and AVX2 clones) each 64-column chunk of the
 * block is first packed side by side (rows of W whose stride is a multiple
 * of 1 KiB share a few L1 sets)
 * and all the task's rows go through one chunk before the next; the last
 * in % 16 columns use one vector on zero-padded copies.  The AVX-512 clone
 * of the float build broadcasts each dy value inside its multiplies
 * (mul_bcast: 82 -> 100 GFLOP/s on the 100M model's shapes, Zen 4). */
#define BT 512      /* most rows of dx per task: bt, halved (down to 64)
                       until there are two tasks per thread; every task
                       packs the weights again, and at 64 rows W's
                       packing took a fifth of dx on the 100M model's
                       shapes (bench_kernels 1024 tokens: dx 57-76 ->
                       75-83 GFLOP/s) */
#define BC 256      /* columns of dx per task (multiple of LANES) */
#define BO 128      /* most weight rows per block: bo, 128 in the AVX-512
                       clone (Zen 4, bench_kernels: dx 6-15% faster than
                       32), 64 in the AVX2 clone (twice as long a run of
                       its short kernel loop: 5-8% faster there than 32),
                       32 elsewhere */

/* The definition on a block: rows [t0, t1), columns [i0, i1), weight rows
 * [o0, o1) with wo = &W[o0][i0] and row stride ws. */
static void bwd_scalar(lr_float *dx, const lr_float *dy, const lr_float *wo,
                       size_t ws, int t0, int t1, int i0, int i1, int o0,
                       int o1, int in_dim, int out_dim)
{
    int o, t, i;
    for (o = o0; o < o1; o++, wo += ws)
        for (t = t0; t < t1; t++) {
            const lr_float g = dy[(size_t)t * out_dim + o];
            lr_float *restrict d = dx + (size_t)t * in_dim + i0;
            const lr_float *restrict ww = wo;
            if (g == 0) continue;
            for (i = 0; i < i1 - i0; i++) d[i] += g * ww[i];
        }
}

/* d[r], g[r]: row rw[r] of dx and of dy, for r < 4. */
ALWAYS_INLINE void rows4_ptrs(lr_float *d[4], const lr_float *g[4],
                              lr_float *dx, const lr_float *dy, const int *rw,
                              int in_dim, int out_dim)
{
    int r;
    for (r = 0; r < 4; r++) {
        d[r] = dx + (size_t)rw[r] * in_dim;
        g[r] = dy + (size_t)rw[r] * out_dim;
    }
}

#if HAVE_X86_DISPATCH
/* bwd_rows4 for AVX2 (16 registers): two 32-byte pieces of each of the 4
 * rows at a time (8 accumulators), all the block's weight rows in order:
 * the same products and sums per element. */
ALWAYS_INLINE void bwd_rows4_pieces(lr_float *dx, const lr_float *dy,
                                    const lr_float *wo, size_t ws,
                                    const int *rw, int i0, int iv1, int no,
                                    int in_dim, int out_dim)
{
    lr_float *d[4];
    const lr_float *g[4];
    int i, o;
    rows4_ptrs(d, g, dx, dy, rw, in_dim, out_dim);
    for (i = i0; i < iv1; i += 2 * PL) {
        pvec a0 = pload(d[0] + i), a1 = pload(d[1] + i);
        pvec a2 = pload(d[2] + i), a3 = pload(d[3] + i);
        pvec b0 = pload(d[0] + i + PL), b1 = pload(d[1] + i + PL);
        pvec b2 = pload(d[2] + i + PL), b3 = pload(d[3] + i + PL);
        const lr_float *w = wo + (i - i0);
        for (o = 0; o < no; o++, w += ws) {
            const pvec wl = pload(w), wh = pload(w + PL);
            pvec gv;
            gv = psplat(g[0][o]); a0 = a0 + gv * wl; b0 = b0 + gv * wh;
            gv = psplat(g[1][o]); a1 = a1 + gv * wl; b1 = b1 + gv * wh;
            gv = psplat(g[2][o]); a2 = a2 + gv * wl; b2 = b2 + gv * wh;
            gv = psplat(g[3][o]); a3 = a3 + gv * wl; b3 = b3 + gv * wh;
        }
        pstore(d[0] + i, a0); pstore(d[1] + i, a1);
        pstore(d[2] + i, a2); pstore(d[3] + i, a3);
        pstore(d[0] + i + PL, b0); pstore(d[1] + i + PL, b1);
        pstore(d[2] + i + PL, b2); pstore(d[3] + i + PL, b3);
    }
}
#endif

/* Rows rw[0..3] (none with a zero among dy[.][o0:o1]; dy points at
 * column o0) x the vector columns [i0, iv1): acc_r = dx_r; then
 * acc_r += dy[r][o] * W[o] for o in order; store.  wide == 2 (the AVX2
 * clone): bwd_rows4_pieces. */
ALWAYS_INLINE void bwd_rows4(lr_float *dx, const lr_float *dy,
                             const lr_float *wo, size_t ws, const int *rw,
                             int i0, int iv1, int no, int in_dim, int out_dim,
                             int wide)
{
#if HAVE_X86_DISPATCH
    if (wide == 2) {
        bwd_rows4_pieces(dx, dy, wo, ws, rw, i0, iv1, no, in_dim, out_dim);
        return;
    }
#else
    (void)wide;
#endif
    lr_float *d[4];
    const lr_float *g[4];
    int i, o;
    rows4_ptrs(d, g, dx, dy, rw, in_dim, out_dim);
    for (i = i0; i < iv1; i += LANES) {
        vec a0 = vload(d[0] + i), a1 = vload(d[1] + i);
        vec a2 = vload(d[2] + i), a3 = vload(d[3] + i);
        const lr_float *w = wo + (i - i0);
        for (o = 0; o < no; o++, w += ws) {
            vec wv = vload(w);
            a0 = vmuladd(a0, vsplat(g[0][o]), wv);
            a1 = vmuladd(a1, vsplat(g[1][o]), wv);
            a2 = vmuladd(a2, vsplat(g[2][o]), wv);
            a3 = vmuladd(a3, vsplat(g[3][o]), wv);
        }
        memcpy(d[0] + i, &a0, sizeof a0); memcpy(d[1] + i, &a1, sizeof a1);
        memcpy(d[2] + i, &a2, sizeof a2); memcpy(d[3] + i, &a3, sizeof a3);
    }
}

/* The same 4 rows, two vectors (2 * LANES columns) at a time, for targets
 * with 32 vector registers (AVX-512): 8 accumulators per weight load pair.
 * Per element the order is unchanged. */
ALWAYS_INLINE int bwd_rows4_wide(lr_float *dx, const lr_float *dy,
                                 const lr_float *wo, size_t ws, const int *rw,
                                 int i0, int iv1, int no, int in_dim,
                                 int out_dim)
{
    lr_float *d[4];
    const lr_float *g[4];
    int i, o;
    rows4_ptrs(d, g, dx, dy, rw, in_dim, out_dim);
    for (i = i0; i + 2 * LANES <= iv1; i += 2 * LANES) {
        vec a0 = vload(d[0] + i), a1 = vload(d[1] + i);
        vec a2 = vload(d[2] + i), a3 = vload(d[3] + i);
        vec b0 = vload(d[0] + i + LANES), b1 = vload(d[1] + i + LANES);
        vec b2 = vload(d[2] + i + LANES), b3 = vload(d[3] + i + LANES);
        const lr_float *w = wo + (i - i0);
        for (o = 0; o < no; o++, w += ws) {
            vec wv = vload(w), wu = vload(w + LANES), gv;
            gv = vsplat(g[0][o]); a0 = vmuladd(a0, gv, wv); b0 = vmuladd(b0, gv, wu);
            gv = vsplat(g[1][o]); a1 = vmuladd(a1, gv, wv); b1 = vmuladd(b1, gv, wu);
            gv = vsplat(g[2][o]); a2 = vmuladd(a2, gv, wv); b2 = vmuladd(b2, gv, wu);
            gv = vsplat(g[3][o]); a3 = vmuladd(a3, gv, wv); b3 = vmuladd(b3, gv, wu);
        }
        memcpy(d[0] + i, &a0, sizeof a0); memcpy(d[1] + i, &a1, sizeof a1);
        memcpy(d[2] + i, &a2, sizeof a2); memcpy(d[3] + i, &a3, sizeof a3);
        memcpy(d[0] + i + LANES, &b0, sizeof b0); memcpy(d[1] + i + LANES, &b1, sizeof b1);
        memcpy(d[2] + i + LANES, &b2, sizeof b2); memcpy(d[3] + i + LANES, &b3, sizeof b3);
    }
    return i; /* the first column not done */
}

/* The same 4 rows, four vectors (4 * LANES columns) at a time: 16
 * accumulators, so each broadcast of dy feeds 4 products (AVX-512).
 * wide == 2 (AVX2): bwd_rows4_pieces over the same columns. */
ALWAYS_INLINE int bwd_rows4_x4(lr_float *dx, const lr_float *dy,
                               const lr_float *wo, size_t ws, const int *rw,
                               int i0, int iv1, int no, int in_dim,
                               int out_dim, int wide)
{
    lr_float *d[4];
    const lr_float *g[4];
    int i, o;
#if HAVE_X86_DISPATCH
    if (wide == 2) {
        bwd_rows4_pieces(dx, dy, wo, ws, rw, i0, iv1, no, in_dim, out_dim);
        return iv1;
    }
#else
    (void)wide;
#endif
    rows4_ptrs(d, g, dx, dy, rw, in_dim, out_dim);
    for (i = i0; i + 4 * LANES <= iv1; i += 4 * LANES) {
        vec a0 = vload(d[0] + i), a1 = vload(d[1] + i);
        vec a2 = vload(d[2] + i), a3 = vload(d[3] + i);
        vec b0 = vload(d[0] + i + LANES), b1 = vload(d[1] + i + LANES);
        vec b2 = vload(d[2] + i + LANES), b3 = vload(d[3] + i + LANES);
        vec c0 = vload(d[0] + i + 2 * LANES), c1 = vload(d[1] + i + 2 * LANES);
        vec c2 = vload(d[2] + i + 2 * LANES), c3 = vload(d[3] + i + 2 * LANES);
        vec e0 = vload(d[0] + i + 3 * LANES), e1 = vload(d[1] + i + 3 * LANES);
        vec e2 = vload(d[2] + i + 3 * LANES), e3 = vload(d[3] + i + 3 * LANES);
        const lr_float *w = wo + (i - i0);
        for (o = 0; o < no; o++, w += ws) {
            const vec w0 = vload(w), w1 = vload(w + LANES);
            const vec w2 = vload(w + 2 * LANES), w3 = vload(w + 3 * LANES);
            vec gv;
            gv = vsplat(g[0][o]);
            a0 = vmuladd(a0, gv, w0); b0 = vmuladd(b0, gv, w1);
            c0 = vmuladd(c0, gv, w2); e0 = vmuladd(e0, gv, w3);
            gv = vsplat(g[1][o]);
            a1 = vmuladd(a1, gv, w0); b1 = vmuladd(b1, gv, w1);
            c1 = vmuladd(c1, gv, w2); e1 = vmuladd(e1, gv, w3);
            gv = vsplat(g[2][o]);
            a2 = vmuladd(a2, gv, w0); b2 = vmuladd(b2, gv, w1);
            c2 = vmuladd(c2, gv, w2); e2 = vmuladd(e2, gv, w3);
            gv = vsplat(g[3][o]);
            a3 = vmuladd(a3, gv, w0); b3 = vmuladd(b3, gv, w1);
            c3 = vmuladd(c3, gv, w2); e3 = vmuladd(e3, gv, w3);
        }
        memcpy(d[0] + i, &a0, sizeof a0); memcpy(d[1] + i, &a1, sizeof a1);
        memcpy(d[2] + i, &a2, sizeof a2); memcpy(d[3] + i, &a3, sizeof a3);
        memcpy(d[0] + i + LANES, &b0, sizeof b0); memcpy(d[1] + i + LANES, &b1, sizeof b1);
        memcpy(d[2] + i + LANES, &b2, sizeof b2); memcpy(d[3] + i + LANES, &b3, sizeof b3);
        memcpy(d[0] + i + 2 * LANES, &c0, sizeof c0); memcpy(d[1] + i + 2 * LANES, &c1, sizeof c1);
        memcpy(d[2] + i + 2 * LANES, &c2, sizeof c2); memcpy(d[3] + i + 2 * LANES, &c3, sizeof c3);
        memcpy(d[0] + i + 3 * LANES, &e0, sizeof e0); memcpy(d[1] + i + 3 * LANES, &e1, sizeof e1);
        memcpy(d[2] + i + 3 * LANES, &e2, sizeof e2); memcpy(d[3] + i + 3 * LANES, &e3, sizeof e3);
    }
    return i; /* the first column not done */
}

#if HAVE_BCAST_MUL
/* bwd_rows4_x4 in the AVX-512 clone (float build), the rows rv[0 .. nv-1]
 * 4 at a time through one packed chunk of 4 vectors (pk, no weight rows);
 * returns the number of rows done (a multiple of 4).  Per element the
 * order is unchanged: acc += dy[t][o] * W[o][i] for o in turn. */
__attribute__((target("avx512f")))
static int bwd_chunk_avx512(lr_float *dx, const lr_float *dy,
                            const lr_float *pk, const int *rv, int nv, int c,
                            int no, int in_dim, int out_dim)
{
    int r;
    for (r = 0; r + 4 <= nv; r += 4) {
        lr_float *d[4];
        const lr_float *g[4];
        const lr_float *w = pk;
        int o;
        rows4_ptrs(d, g, dx, dy, rv + r, in_dim, out_dim);
        {
            vec a0 = vload_avx512(d[0] + c), a1 = vload_avx512(d[1] + c);
            vec a2 = vload_avx512(d[2] + c), a3 = vload_avx512(d[3] + c);
            vec b0 = vload_avx512(d[0] + c + LANES), b1 = vload_avx512(d[1] + c + LANES);
            vec b2 = vload_avx512(d[2] + c + LANES), b3 = vload_avx512(d[3] + c + LANES);
            vec c0 = vload_avx512(d[0] + c + 2 * LANES), c1 = vload_avx512(d[1] + c + 2 * LANES);
            vec c2 = vload_avx512(d[2] + c + 2 * LANES), c3 = vload_avx512(d[3] + c + 2 * LANES);
            vec e0 = vload_avx512(d[0] + c + 3 * LANES), e1 = vload_avx512(d[1] + c + 3 * LANES);
            vec e2 = vload_avx512(d[2] + c + 3 * LANES), e3 = vload_avx512(d[3] + c + 3 * LANES);
            for (o = 0; o < no; o++, w += 4 * LANES) {
                const vec w0 = vload_avx512(w), w1 = vload_avx512(w + LANES);
                const vec w2 = vload_avx512(w + 2 * LANES), w3 = vload_avx512(w + 3 * LANES);
                a0 = a0 + mul_bcast(g[0] + o, w0); b0 = b0 + mul_bcast(g[0] + o, w1);
                c0 = c0 + mul_bcast(g[0] + o, w2); e0 = e0 + mul_bcast(g[0] + o, w3);
                a1 = a1 + mul_bcast(g[1] + o, w0); b1 = b1 + mul_bcast(g[1] + o, w1);
                c1 = c1 + mul_bcast(g[1] + o, w2); e1 = e1 + mul_bcast(g[1] + o, w3);
                a2 = a2 + mul_bcast(g[2] + o, w0); b2 = b2 + mul_bcast(g[2] + o, w1);
                c2 = c2 + mul_bcast(g[2] + o, w2); e2 = e2 + mul_bcast(g[2] + o, w3);
                a3 = a3 + mul_bcast(g[3] + o, w0); b3 = b3 + mul_bcast(g[3] + o, w1);
                c3 = c3 + mul_bcast(g[3] + o, w2); e3 = e3 + mul_bcast(g[3] + o, w3);
            }
            memcpy(d[0] + c, &a0, sizeof a0); memcpy(d[1] + c, &a1, sizeof a1);
            memcpy(d[2] + c, &a2, sizeof a2); memcpy(d[3] + c, &a3, sizeof a3);
            memcpy(d[0] + c + LANES, &b0, sizeof b0); memcpy(d[1] + c + LANES, &b1, sizeof b1);
            memcpy(d[2] + c + LANES, &b2, sizeof b2); memcpy(d[3] + c + LANES, &b3, sizeof b3);
            memcpy(d[0] + c + 2 * LANES, &c0, sizeof c0); memcpy(d[1] + c + 2 * LANES, &c1, sizeof c1);
            memcpy(d[2] + c + 2 * LANES, &c2, sizeof c2); memcpy(d[3] + c + 2 * LANES, &c3, sizeof c3);
            memcpy(d[0] + c + 3 * LANES, &e0, sizeof e0); memcpy(d[1] + c + 3 * LANES, &e1, sizeof e1);
            memcpy(d[2] + c + 3 * LANES, &e2, sizeof e2); memcpy(d[3] + c + 3 * LANES, &e3, sizeof e3);
        }
    }
    return r;
}
#endif

/* One such row: 4 vectors of columns side by side (4 independent chains
 * instead of one, whose additions would wait on each other), then one. */
ALWAYS_INLINE void bwd_row1(lr_float *dx, const lr_float *dy,
                            const lr_float *wo, size_t ws, int t, int i0,
                            int iv1, int no, int in_dim, int out_dim)
{
    lr_float *d = dx + (size_t)t * in_dim;
    const lr_float *g = dy + (size_t)t * out_dim;
    int i, o;
    for (i = i0; i + 4 * LANES <= iv1; i += 4 * LANES) {
        vec a = vload(d + i), b = vload(d + i + LANES);
        vec c = vload(d + i + 2 * LANES), e = vload(d + i + 3 * LANES);
        const lr_float *w = wo + (i - i0);
        for (o = 0; o < no; o++, w += ws) {
            const vec gv = vsplat(g[o]);
            a = vmuladd(a, gv, vload(w));
            b = vmuladd(b, gv, vload(w + LANES));
            c = vmuladd(c, gv, vload(w + 2 * LANES));
            e = vmuladd(e, gv, vload(w + 3 * LANES));
        }
        memcpy(d + i, &a, sizeof a); memcpy(d + i + LANES, &b, sizeof b);
        memcpy(d + i + 2 * LANES, &c, sizeof c);
        memcpy(d + i + 3 * LANES, &e, sizeof e);
    }
    for (; i < iv1; i += LANES) {
        vec a = vload(d + i);
        const lr_float *w = wo + (i - i0);
        for (o = 0; o < no; o++, w += ws) a = vmuladd(a, vsplat(g[o]), vload(w));
        memcpy(d + i, &a, sizeof a);
    }
}

/* The number of g[0 .. no-1] equal to 0 (lanes compared side by side;
 * wide == 2, the AVX2 clone: 32-byte pieces, as GCC compares 64-byte
 * vectors there one lane at a time). */
ALWAYS_INLINE int count_zeros(const lr_float *g, int no, int wide)
{
    int k = 0, z = 0;
#if HAVE_X86_DISPATCH
    if (wide == 2 && no >= PL) {
        const pvec zero = psplat(0);
        __typeof__(zero == zero) m = zero != zero; /* all lanes 0 */
        int j;
        for (; k + PL <= no; k += PL) m += pload(g + k) == zero;
        for (j = 0; j < PL; j++) z -= (int)m[j]; /* a true lane is -1 */
    }
#endif
#if HAVE_VEC
    if (wide != 2 && no >= LANES) {
        const vec zero = vzero();
        __typeof__(zero == zero) m = zero != zero; /* all lanes 0 */
        int j;
        for (; k + LANES <= no; k += LANES) m += vload(g + k) == zero;
        for (j = 0; j < LANES; j++) z -= (int)m[j]; /* a true lane is -1 */
    }
#endif
    for (; k < no; k++) z += g[k] == 0;
    return z;
}

/* wide: 0 the generic kernels, 1 AVX-512 (the 4-vector chunks, two
 * vectors per row), 2 AVX2 (bwd_rows4_pieces: 32-byte pieces).  buf: BO x
 * BC values of scratch for weights that are not lr_float (converted a
 * block at a time), else unused. */
ALWAYS_INLINE void bwd_body(lr_float *dx, const lr_float *dy, const void *w,
                            lr_dtype dt, int t0, int t1, int i0, int i1,
                            int in_dim, int out_dim, int wide, lr_float *buf)
{
    lr_float pk[BO * 4 * LANES];
    const int direct = dt == LR_FLOAT_DTYPE, len = i1 - i0;
    const int bo = wide == 1 ? BO : wide == 2 ? BO / 2 : BO / 4;
    const int iv1 = i0 + (len - len % LANES);
    /* x86-64 clones: the columns [i0, ix4) in chunks of 4 vectors, each
     * chunk's bo weight rows packed side by side in pk (rows of W a power
     * of two apart would fall into the same few L1 sets), every vector row
     * of the task through one chunk before the next chunk */
    const int ix4 = wide ? i0 + (iv1 - i0) / (4 * LANES) * (4 * LANES) : i0;
    int rv[BT];
    int o0, t, k, c, r;
    for (o0 = 0; o0 < out_dim; o0 += bo) {
        const int o1 = o0 + bo < out_dim ? o0 + bo : out_dim, no = o1 - o0;
        const lr_float *wo;
        size_t ws;
        int nv = 0;
        if (direct) {
            wo = (const lr_float *)w + (size_t)o0 * in_dim + i0;
            ws = (size_t)in_dim;
        } else {
            for (k = 0; k < no; k++)
                weight_range(buf + (size_t)k * len, w, dt,
                             (size_t)(o0 + k) * in_dim + i0, len);
            wo = buf;
            ws = (size_t)len;
        }
        /* rows whose dy has no zero in this block go to the vector kernel
         * (4 at a time); an all-zero row (padding, a first position) adds
         * nothing; a row with some zeros takes the definition */
        for (t = t0; t < t1; t++) {
            const lr_float *g = dy + (size_t)t * out_dim + o0;
            int zeros;
#if HAVE_VEC
            /* this row's next block of dy, read when this one is done */
            if (o1 < out_dim) {
                __builtin_prefetch(g + bo);
                __builtin_prefetch(g + bo + 16);
            }
#endif
            zeros = count_zeros(g, no, wide);
            if (zeros == no) continue;
            if (zeros || iv1 == i0) {
                bwd_scalar(dx, dy, wo, ws, t, t + 1, i0, i1, o0, o1, in_dim,
                           out_dim);
                continue;
            }
            rv[nv++] = t;
        }
        if (!nv) continue;
        /* the last len % LANES columns: one vector per row, the weight
         * columns packed with zeros after them (those lanes are thrown
         * away) */
        if (iv1 < i1) {
            const int tw = i1 - iv1;
            for (k = 0; k < no; k++) {
                memset(pk + (size_t)k * LANES, 0, sizeof *pk * LANES);
                memcpy(pk + (size_t)k * LANES, wo + (size_t)k * ws + (iv1 - i0),
                       sizeof *pk * tw);
            }
            for (r = 0; r < nv; r++)
                tail_axpy(dx + (size_t)rv[r] * in_dim + iv1,
                          dy + (size_t)rv[r] * out_dim + o0, 1, pk, no, tw);
        }
        /* the vector rows: each dx element still adds this block's terms
         * in ascending o (one kernel call covers the block) */
        for (c = i0; c < ix4; c += 4 * LANES) {
            for (k = 0; k < no; k++)
                memcpy(pk + (size_t)k * 4 * LANES, wo + (size_t)k * ws + (c - i0),
                       sizeof *pk * 4 * LANES);
            r = 0;
#if HAVE_BCAST_MUL
            if (wide == 1)
                r = bwd_chunk_avx512(dx, dy + o0, pk, rv, nv, c, no, in_dim,
                                     out_dim);
#endif
            for (; r + 4 <= nv; r += 4)
                bwd_rows4_x4(dx, dy + o0, pk, 4 * LANES, rv + r, c,
                             c + 4 * LANES, no, in_dim, out_dim, wide);
            for (; r < nv; r++)
                bwd_row1(dx, dy + o0, pk, 4 * LANES, rv[r], c, c + 4 * LANES,
                         no, in_dim, out_dim);
        }
        if (ix4 < iv1) {
            const lr_float *wc = wo + (ix4 - i0);
            for (r = 0; r + 4 <= nv; r += 4) {
                int iw = ix4;
                if (wide == 1)
                    iw = bwd_rows4_wide(dx, dy + o0, wc, ws, rv + r, ix4, iv1,
                                        no, in_dim, out_dim);
                bwd_rows4(dx, dy + o0, wc + (iw - ix4), ws, rv + r, iw, iv1,
                          no, in_dim, out_dim, wide);
            }
            for (; r < nv; r++)
                bwd_row1(dx, dy + o0, wc, ws, rv[r], ix4, iv1, no, in_dim,
                         out_dim);
        }
    }
}

static void bwd_generic(lr_float *dx, const lr_float *dy, const void *w,
                        lr_dtype dt, int t0, int t1, int i0, int i1,
                        int in_dim, int out_dim, lr_float *buf)
{
    bwd_body(dx, dy, w, dt, t0, t1, i0, i1, in_dim, out_dim, 0, buf);
}

#if HAVE_X86_DISPATCH
__attribute__((target("avx512f")))
static void bwd_avx512(lr_float *dx, const lr_float *dy, const void *w,
                       lr_dtype dt, int t0, int t1, int i0, int i1,
                       int in_dim, int out_dim, lr_float *buf)
{
    bwd_body(dx, dy, w, dt, t0, t1, i0, i1, in_dim, out_dim, 1, buf);
}

__attribute__((target("avx2")))
static void bwd_avx2(lr_float *dx, const lr_float *dy, const void *w,
                     lr_dtype dt, int t0, int t1, int i0, int i1,
                     int in_dim, int out_dim, lr_float *buf)
{
    bwd_body(dx, dy, w, dt, t0, t1, i0, i1, in_dim, out_dim, 2, buf);
}
#endif

typedef void (*bwd_fn)(lr_float *, const lr_float *, const void *, lr_dtype,
                       int, int, int, int, int, int, lr_float *);

static bwd_fn pick_bwd(void)
{
#if HAVE_X86_DISPATCH
    if (__builtin_cpu_supports("avx512f")) return bwd_avx512;
    if (__builtin_cpu_supports("avx2")) return bwd_avx2;
#endif
    return bwd_generic;
}

void lr_matmul_backward(lr_float *dx, const lr_float *dy, const lr_tensor *w,
                        int n)
{
    const int out_dim = (int)w->shape[0], in_dim = (int)w->shape[1];
    const int nc = (in_dim + BC - 1) / BC;
#ifdef LR_OMP
    const int threads = omp_get_max_threads();
#else
    const int threads = 1;
#endif
    int bt = BT, nb;
    const bwd_fn fn = LR_SIMD ? pick_bwd() : NULL;
    const int direct = w->dtype == LR_FLOAT_DTYPE;
    while (bt > 64 && (double)((n + bt - 1) / bt) * nc < 2.0 * threads) bt /= 2;
    nb = (n + bt - 1) / bt;
#ifdef LR_OMP
#pragma omp parallel if ((double)n * in_dim * out_dim > 65536.0)
#endif
    {
        /* weights that are not lr_float: each thread converts blocks
         * into its own BO x BC scratch, on the heap (128 KB would not
         * fit a thread stack of 128 KB, musl's default); without it the
         * definition runs below, a row chunk at a time: the same bits */
        lr_float *buf = fn && !direct ? malloc(sizeof *buf * BO * BC) : NULL;
        int task;
#ifdef LR_OMP
#pragma omp for schedule(static)
#endif
        for (task = 0; task < nb * nc; task++) {
            const int b = task / nc, c = task % nc;
            const int t0 = b * bt, t1 = t0 + bt < n ? t0 + bt : n;
            const int i0 = c * BC, i1 = i0 + BC < in_dim ? i0 + BC : in_dim;
            if (fn && (direct || buf)) {
                fn(dx, dy, w->data, w->dtype, t0, t1, i0, i1, in_dim, out_dim,
                   buf);
            } else if (direct) {
                bwd_scalar(dx, dy, (const lr_float *)w->data + i0,
                           (size_t)in_dim, t0, t1, i0, i1, 0, out_dim,
                           in_dim, out_dim);
            } else {
                /* converted weights (SIMD=0, or no scratch): one row
                 * chunk at a time */
                lr_float row[BC];
                int o;
                for (o = 0; o < out_dim; o++) {
                    weight_range(row, w->data, w->dtype,
                                 (size_t)o * in_dim + i0, i1 - i0);
                    bwd_scalar(dx, dy, row, 0, t0, t1, i0, i1, o, o + 1,
                               in_dim, out_dim);
                }
            }
        }
        free(buf);
    }
}
