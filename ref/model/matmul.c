/* matmul.c - y = x W^T: the scalar reference kernel (the definition) and a
 * fast kernel with a fixed 16-lane summation order (see matmul.h); the
 * backward products are in matmul_backward.c.
 *
 * The fast kernel computes blocks of 4 rows of x against 4 rows of W, so
 * every weight row loaded from memory is used for 4 tokens and every x row
 * for 4 outputs.  It is written once with GCC/clang vector extensions and
 * compiled for AVX-512 and AVX2 (chosen at run time on x86-64) and for the
 * build's default instruction set; tcc and other compilers get the same
 * arithmetic in plain C.  The x86-64 clones also copy groups of W rows
 * (and, except in the AVX-512 clone's whole blocks, the 4 rows of x) into
 * interleaved buffers (one stream each, exact copies), finish the 16
 * outputs of a block with vector pair sums (the same tree as vsum; the
 * AVX-512 clone keeps a whole block in registers and adds the 16 outputs'
 * tails in 16 lanes, block_4x4p), and decode (one token) one weight row
 * after the other; every output keeps the order documented in matmul.h
 * (each lane sums its k in ascending order from zero, then the tree, then
 * the tail; tests/model/test_matmul.c checks it bit for bit).  The AVX2 clone
 * (x86 == 2 in columns_body) holds each 16-lane vector as two 32-byte
 * pieces, 2 rows x 4 (unpacked) or 6 (packed, 6 x 4 blocks) of one piece
 * per pass (*_pieces, ptree8): GCC keeps 64-byte vectors in memory where
 * registers have 32 bytes; its packed operands are piece-major and the
 * passes run over chunks of at most KP values of k (both exact: a lane's
 * sum is only split in time; x * w and w * x are the same product).
 * Tasks are at most COLS weight rows, evenly over the threads (task_rows).
 * Lanes are combined without FMA (-ffp-contract=off), so all versions give
 * identical bits.
 * Weights that are not lr_float (BF16/F16, or F32 in the double build) are
 * converted chunk by chunk into a small stack buffer; the chunking does
 * not change the summation order.
 * Depends on: matmul_internal.h (the vector type, weight conversion;
 * matmul.h: common, dtype, model's lr_tensor), matmul_avx2.h (the AVX2
 * clone's kernels), OpenMP optionally. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/matmul.h"
#include "matmul_internal.h"

#ifdef LR_OMP
#include <omp.h>
#endif

#define MR 4        /* rows of x per block */
#define MR2 6       /* the same in the AVX2 clone's packed path */
#define NR 4        /* rows of W per block */
#define KC 512      /* conversion chunk (elements, multiple of LANES) */
#ifndef KP
#define KP 1024     /* most k per AVX2 pass chunk (-DKP=... to tune) */
#endif
#define COLS 64     /* W rows per parallel task */
#define XP 4096     /* longest rows packed (kernel_4x4p; multiple of LANES) */
#define WP 65536    /* packed weights per group (>= NR * XP) */
/* scratch per thread: x, W, W's tails (block_4x4p; fewer than LANES <= kv
 * values per row, so at most WP), x's tails */
#define PK (MR2 * XP + WP + 2048 / sizeof(lr_float) + WP + LANES * LANES)

#if HAVE_X86_DISPATCH
#include "matmul_avx2.h" /* the AVX2 clone's kernels (*_pieces) */
#endif

void lr_matmul_ref(lr_float *y, const lr_float *x, const void *w,
                   lr_dtype wdtype, int n, int in_dim, int out_dim)
{
    /* x (n, in), w (out, in), y (n, out): y[t][o] = sum_i x[t][i] w[o][i] */
    int t, o, i;
    for (t = 0; t < n; t++) {
        const lr_float *xt = x + (size_t)t * in_dim;
        for (o = 0; o < out_dim; o++) {
            size_t base = (size_t)o * in_dim;
            lr_float s = 0;
            for (i = 0; i < in_dim; i++)
                s += xt[i] * weight_at(w, wdtype, base + (size_t)i);
            y[(size_t)t * out_dim + o] = s;
        }
    }
}

/* ---- the fast kernel ---------------------------------------------------- */

/* what lr_matmul_isa calls the build's own vectors */
#if !HAVE_VEC
#define GENERIC_VEC_ISA "plain C lanes"
#elif defined(__aarch64__) || defined(__ARM_NEON)
#define GENERIC_VEC_ISA "neon (generic vectors)"
#elif defined(__SSE2__)
#define GENERIC_VEC_ISA "sse2 (generic vectors)"
#elif defined(__VEC__) && defined(__s390x__)
#define GENERIC_VEC_ISA "z vector (generic vectors)"
#else
#define GENERIC_VEC_ISA "generic vectors (scalar code)"
#endif

/* The pairwise tree over the 16 lanes. */
ALWAYS_INLINE lr_float vsum(vec v)
{
    lr_float l[LANES];
    memcpy(l, &v, sizeof l);
    return ((((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))) +
            (((l[8] + l[9]) + (l[10] + l[11])) + ((l[12] + l[13]) + (l[14] + l[15]))));
}

/* acc[a][b] += lanes of x_a . w_b over k = 0 .. nk-1 (nk multiple of LANES);
 * xs[a], ws[b] point at the first element.  x86 == 2 (the AVX2 clone): the
 * same in pieces (matmul_avx2.h, as for kernel_1x4). */
ALWAYS_INLINE void kernel_4x4(vec acc[MR][NR], const lr_float *const xs[MR],
                              const lr_float *const ws[NR], int nk, int x86)
{
#if HAVE_X86_DISPATCH
    if (x86 == 2) {
        kernel_4x4_pieces(acc, xs, ws, nk);
        return;
    }
#else
    (void)x86;
#endif
    vec a00 = acc[0][0], a01 = acc[0][1], a02 = acc[0][2], a03 = acc[0][3];
    vec a10 = acc[1][0], a11 = acc[1][1], a12 = acc[1][2], a13 = acc[1][3];
    vec a20 = acc[2][0], a21 = acc[2][1], a22 = acc[2][2], a23 = acc[2][3];
    vec a30 = acc[3][0], a31 = acc[3][1], a32 = acc[3][2], a33 = acc[3][3];
    int k;
    for (k = 0; k < nk; k += LANES) {
        vec w0 = vload(ws[0] + k), w1 = vload(ws[1] + k);
        vec w2 = vload(ws[2] + k), w3 = vload(ws[3] + k);
        vec x;
        x = vload(xs[0] + k);
        a00 = vmuladd(a00, x, w0); a01 = vmuladd(a01, x, w1);
        a02 = vmuladd(a02, x, w2); a03 = vmuladd(a03, x, w3);
        x = vload(xs[1] + k);
        a10 = vmuladd(a10, x, w0); a11 = vmuladd(a11, x, w1);
        a12 = vmuladd(a12, x, w2); a13 = vmuladd(a13, x, w3);
        x = vload(xs[2] + k);
        a20 = vmuladd(a20, x, w0); a21 = vmuladd(a21, x, w1);
        a22 = vmuladd(a22, x, w2); a23 = vmuladd(a23, x, w3);
        x = vload(xs[3] + k);
        a30 = vmuladd(a30, x, w0); a31 = vmuladd(a31, x, w1);
        a32 = vmuladd(a32, x, w2); a33 = vmuladd(a33, x, w3);
    }
    acc[0][0] = a00; acc[0][1] = a01; acc[0][2] = a02; acc[0][3] = a03;
    acc[1][0] = a10; acc[1][1] = a11; acc[1][2] = a12; acc[1][3] = a13;
    acc[2][0] = a20; acc[2][1] = a21; acc[2][2] = a22; acc[2][3] = a23;
    acc[3][0] = a30; acc[3][1] = a31; acc[3][2] = a32; acc[3][3] = a33;
}

/* kernel_4x4 on packed operands: xp holds x_0[k:k+LANES], x_1[k:k+LANES],
 * ..., x_{MR-1}[k:k+LANES] for k = 0, LANES, ... in turn, wp the NR rows
 * of W the same way: two streams instead of MR + NR rows a power of two
 * apart, which share L1 sets.  The same products and sums as kernel_4x4. */
ALWAYS_INLINE void kernel_4x4p(vec acc[MR][NR], const lr_float *xp,
                               const lr_float *wp, int nk)
{
    vec a00 = acc[0][0], a01 = acc[0][1], a02 = acc[0][2], a03 = acc[0][3];
    vec a10 = acc[1][0], a11 = acc[1][1], a12 = acc[1][2], a13 = acc[1][3];
    vec a20 = acc[2][0], a21 = acc[2][1], a22 = acc[2][2], a23 = acc[2][3];
    vec a30 = acc[3][0], a31 = acc[3][1], a32 = acc[3][2], a33 = acc[3][3];
    int k;
    for (k = 0; k < nk; k += LANES, xp += MR * LANES, wp += NR * LANES) {
        vec w0 = vload(wp), w1 = vload(wp + LANES);
        vec w2 = vload(wp + 2 * LANES), w3 = vload(wp + 3 * LANES);
        vec x;
        x = vload(xp);
        a00 = vmuladd(a00, x, w0); a01 = vmuladd(a01, x, w1);
        a02 = vmuladd(a02, x, w2); a03 = vmuladd(a03, x, w3);
        x = vload(xp + LANES);
        a10 = vmuladd(a10, x, w0); a11 = vmuladd(a11, x, w1);
        a12 = vmuladd(a12, x, w2); a13 = vmuladd(a13, x, w3);
        x = vload(xp + 2 * LANES);
        a20 = vmuladd(a20, x, w0); a21 = vmuladd(a21, x, w1);
        a22 = vmuladd(a22, x, w2); a23 = vmuladd(a23, x, w3);
        x = vload(xp + 3 * LANES);
        a30 = vmuladd(a30, x, w0); a31 = vmuladd(a31, x, w1);
        a32 = vmuladd(a32, x, w2); a33 = vmuladd(a33, x, w3);
    }
    acc[0][0] = a00; acc[0][1] = a01; acc[0][2] = a02; acc[0][3] = a03;
    acc[1][0] = a10; acc[1][1] = a11; acc[1][2] = a12; acc[1][3] = a13;
    acc[2][0] = a20; acc[2][1] = a21; acc[2][2] = a22; acc[2][3] = a23;
    acc[3][0] = a30; acc[3][1] = a31; acc[3][2] = a32; acc[3][3] = a33;
}

/* The lanes of one row of x against one row of W over k = 0 .. nk-1
 * (decoding); x86 == 2: the vec's pieces two at a time in registers. */
ALWAYS_INLINE vec kernel_1x1(const lr_float *x, const lr_float *w, int nk,
                             int x86)
{
    vec acc = vzero();
    int k;
#if HAVE_X86_DISPATCH
    if (x86 == 2) {
        int q;
        for (q = 0; q < LANES; q += 2 * PL) {
            pvec lo = psplat(0), hi = psplat(0);
            for (k = q; k < nk; k += LANES) {
                lo = lo + pload(x + k) * pload(w + k);
                hi = hi + pload(x + k + PL) * pload(w + k + PL);
            }
            pstore((lr_float *)(void *)&acc + q, lo);
            pstore((lr_float *)(void *)&acc + q + PL, hi);
        }
        return acc;
    }
#else
    (void)x86;
#endif
    for (k = 0; k < nk; k += LANES)
        acc = vmuladd(acc, vload(x + k), vload(w + k));
    return acc;
}

/* Packs rows[0..nr-1][0:nk] (nk a multiple of LANES) into dst as the
 * packed kernels read them: LANES values of each row in turn (kernel_4x4p,
 * x86 0 or 1); x86 == 2, piece-major (x for kernel_6x4p_pieces): PL values
 * of each row in turn for piece 0 of all of k, then piece 1, ...; x86 ==
 * 3, the same for rows 0-1, then for rows 2-3, ... (W for it). */
ALWAYS_INLINE void pack_rows(lr_float *dst, const lr_float *const *rows,
                             int nr, int nk, int x86)
{
    const int g = x86 == 3 ? 2 : nr; /* rows side by side */
#if HAVE_X86_DISPATCH
    const int step = x86 >= 2 ? PL : LANES;
#else
    const int step = LANES;
#endif
    /* values of one piece of a group of g rows */
    const size_t pg = (size_t)nk / LANES * g * step;
    int p, q, k, r;
    /* k outer: each row is read once, front to back */
    for (p = 0; p < nr; p += g, dst += (size_t)g * nk)
        for (k = 0; k < nk; k += LANES)
            for (q = 0; q < LANES / step; q++) {
                lr_float *d = dst + q * pg + (size_t)(k / LANES) * g * step;
                for (r = p; r < p + g; r++, d += step)
                    memcpy(d, rows[r] + k + q * step,
                           sizeof(lr_float) * step);
            }
}

/* One row of x against up to NR rows of W (decode, and leftover rows). */
ALWAYS_INLINE void kernel_1x4(vec acc[NR], const lr_float *xs,
                              const lr_float *const ws[NR], int nk,
                              const lr_float *pf, int x86)
{
#if HAVE_X86_DISPATCH
    if (x86 == 2) {
        kernel_1x4_pieces(acc, xs, ws, nk, pf);
        return;
    }
#else
    (void)x86;
#endif
    vec a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int k;
    for (k = 0; k < nk; k += LANES) {
        vec x = vload(xs + k);
#if HAVE_VEC
        /* decoding streams W once: fetch the next block's rows (NR rows =
         * NR * nk values, read NR times as fast as this block's) early */
        if (pf) {
            const char *p = (const char *)(pf + (size_t)NR * k);
            __builtin_prefetch(p);
            __builtin_prefetch(p + 64);
            __builtin_prefetch(p + 128);
            __builtin_prefetch(p + 192);
        }
#else
        (void)pf;
#endif
        a0 = vmuladd(a0, x, vload(ws[0] + k));
        a1 = vmuladd(a1, x, vload(ws[1] + k));
        a2 = vmuladd(a2, x, vload(ws[2] + k));
        a3 = vmuladd(a3, x, vload(ws[3] + k));
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

typedef struct mm_args {
    lr_float *y;
    const lr_float *x;
    const void *w;
    lr_dtype wdtype;
    int n, in_dim, out_dim;
} mm_args;

/* Finishes y[t][o] from its lanes plus the tail elements k >= kv. */
ALWAYS_INLINE void finish(const mm_args *a, vec lanes, int t, int o,
                          const lr_float *wrow, int kv)
{
    const lr_float *xt = a->x + (size_t)t * a->in_dim;
    lr_float s = vsum(lanes);
    int k;
    for (k = kv; k < a->in_dim; k++) s += xt[k] * wrow[k - kv];
    a->y[(size_t)t * a->out_dim + o] = s;
}

#if HAVE_VEC && (defined(__clang__) || __GNUC__ >= 12)
#define HAVE_SHUFFLE 1
/* [a0+a1, a2+a3, ..., a14+a15, b0+b1, ..., b14+b15]: one level of the
 * pairwise tree of vsum for two outputs at once (the same additions). */
ALWAYS_INLINE vec vpairsum(vec a, vec b)
{
    vec e = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                    20, 22, 24, 26, 28, 30);
    vec o = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19,
                                    21, 23, 25, 27, 29, 31);
    return e + o;
}

#if HAVE_X86_DISPATCH && !defined(LR_DOUBLE)
#define HAVE_PIECE_TREE 1
/* [a0+a1, a2+a3, b0+b1, b2+b3, a4+a5, a6+a7, b4+b5, b6+b7]: pairs inside
 * each 16-byte half (one shuffle instruction per operand). */
ALWAYS_INLINE pvec phadd(pvec a, pvec b)
{
    return __builtin_shufflevector(a, b, 0, 2, 8, 10, 4, 6, 12, 14) +
           __builtin_shufflevector(a, b, 1, 3, 9, 11, 5, 7, 13, 15);
}

/* Lane i: the pairwise tree ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)) of piece h
 * of v[i], for 8 consecutive vecs v[0..7].  Two levels of phadd leave
 * [A0-3, B0-3, C0-3, D0-3, A4-7, B4-7, C4-7, D4-7] (A0-3: the first half
 * of v[0]'s tree) for v[0..3] and the same for v[4..7]; one exchange of
 * halves adds the two halves of each tree. */
ALWAYS_INLINE pvec ptree8(const vec *v, int h)
{
    const lr_float *a = (const lr_float *)(const void *)v + h * PL;
    const pvec z = phadd(phadd(pload(a), pload(a + LANES)),
                         phadd(pload(a + 2 * LANES), pload(a + 3 * LANES)));
    const pvec w = phadd(phadd(pload(a + 4 * LANES), pload(a + 5 * LANES)),
                         phadd(pload(a + 6 * LANES), pload(a + 7 * LANES)));
    return __builtin_shufflevector(z, w, 0, 1, 2, 3, 8, 9, 10, 11) +
           __builtin_shufflevector(z, w, 4, 5, 6, 7, 12, 13, 14, 15);
}
#else
#define HAVE_PIECE_TREE 0
#endif

/* Finishes the mr x NR block y[t:t+mr][o:o+NR] (all inside y; mr = MR or
 * MR2): lane j of the result is vsum(acc[j / NR][j % NR]), computed for 16
 * outputs (4 rows) together level by level, plus the tail elements k >= kv
 * in order (mr = 6: rows 0-3, then rows 2-5 again).
 * x86 == 2 (the AVX2 clone, float: two 8-lane pieces per vec): vsum is the
 * tree of lanes 0-7 plus the tree of lanes 8-15, so 8 outputs at a time
 * are ptree8 of their low pieces plus ptree8 of their high pieces, the
 * same additions. */
ALWAYS_INLINE void finish_block(const mm_args *a, vec (*acc)[NR], int mr,
                                int t, int o, const lr_float *const wrow[NR],
                                int kv, int x86)
{
    lr_float out[MR2 * NR];
    int i, b, k, i0;
#if HAVE_PIECE_TREE
    if (x86 == 2) {
        const vec *v = &acc[0][0];
        for (i = 0; i < mr * NR; i += 8)
            pstore(out + i, ptree8(v + i, 0) + ptree8(v + i, 1));
    } else
#endif
    for (i0 = 0; i0 < mr; i0 += MR) {
        const int f = i0 + MR <= mr ? i0 : mr - MR; /* first row of 4 */
        const vec *v = &acc[f][0];
        vec p[8], q[4], r0, r1, s;
        (void)x86;
        for (i = 0; i < 8; i++) p[i] = vpairsum(v[2 * i], v[2 * i + 1]);
        for (i = 0; i < 4; i++) q[i] = vpairsum(p[2 * i], p[2 * i + 1]);
        r0 = vpairsum(q[0], q[1]);
        r1 = vpairsum(q[2], q[3]);
        s = vpairsum(r0, r1);
        memcpy(out + f * NR, &s, sizeof s);
    }
    for (i = 0; i < mr; i++) {
        const lr_float *xt = a->x + (size_t)(t + i) * a->in_dim;
        lr_float *yt = a->y + (size_t)(t + i) * a->out_dim + o;
        for (b = 0; b < NR; b++) {
            lr_float v = out[i * NR + b];
            for (k = kv; k < a->in_dim; k++) v += xt[k] * wrow[b][k];
            yt[b] = v;
        }
    }
}

/* The AVX-512 clone's whole packed MR x NR block y[t:t+4][o:o+4] in
 * registers: kernel_4x4p (x's rows xr[0..3] in place) from zero, the tree
 * (lane j = vsum(acc[j / NR][j % NR])), then its tail in 16 lanes at once
 * (lane j adds x[t + j / NR][kv + k] * w[o + j % NR][kv + k], k
 * ascending: each output's sum in finish_block's order).  xt: x's tail,
 * 16 lanes per k (pack_tail_x); wt: W's, 4 values per k (pack_tail, read
 * as a vector from there and its first 4 repeated: a 4-value vector
 * widened went through the stack and stalled each k's load, three times
 * the rest of a block at in_dim 172); nt tail values.
 * (kernel_4x4p + finish_block kept acc in memory: zeroed, loaded, stored
 * and loaded again, a third of the kernel's time at in_dim 64; calling
 * kernel_4x4p on a local acc here still left more vectors on the stack,
 * so its loop is written out again, in named registers.) */
ALWAYS_INLINE void block_4x4p(const mm_args *a, const lr_float *const *xr,
                              const lr_float *wp, int nk, const lr_float *xt,
                              const lr_float *wt, int nt, int t, int o)
{
    const lr_float *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3];
    vec a00 = vzero(), a01 = vzero(), a02 = vzero(), a03 = vzero();
    vec a10 = vzero(), a11 = vzero(), a12 = vzero(), a13 = vzero();
    vec a20 = vzero(), a21 = vzero(), a22 = vzero(), a23 = vzero();
    vec a30 = vzero(), a31 = vzero(), a32 = vzero(), a33 = vzero();
    vec s;
    int k, i;
    for (k = 0; k < nk; k += LANES, wp += NR * LANES) {
        vec w0 = vload(wp), w1 = vload(wp + LANES);
        vec w2 = vload(wp + 2 * LANES), w3 = vload(wp + 3 * LANES);
        vec x;
        x = vload(x0 + k);
        a00 = vmuladd(a00, x, w0); a01 = vmuladd(a01, x, w1);
        a02 = vmuladd(a02, x, w2); a03 = vmuladd(a03, x, w3);
        x = vload(x1 + k);
        a10 = vmuladd(a10, x, w0); a11 = vmuladd(a11, x, w1);
        a12 = vmuladd(a12, x, w2); a13 = vmuladd(a13, x, w3);
        x = vload(x2 + k);
        a20 = vmuladd(a20, x, w0); a21 = vmuladd(a21, x, w1);
        a22 = vmuladd(a22, x, w2); a23 = vmuladd(a23, x, w3);
        x = vload(x3 + k);
        a30 = vmuladd(a30, x, w0); a31 = vmuladd(a31, x, w1);
        a32 = vmuladd(a32, x, w2); a33 = vmuladd(a33, x, w3);
    }
    /* finish_block's levels with v[0..15] = a00, a01, ..., a33 */
    s = vpairsum(vpairsum(vpairsum(vpairsum(a00, a01), vpairsum(a02, a03)),
                          vpairsum(vpairsum(a10, a11), vpairsum(a12, a13))),
                 vpairsum(vpairsum(vpairsum(a20, a21), vpairsum(a22, a23)),
                          vpairsum(vpairsum(a30, a31), vpairsum(a32, a33))));
    for (k = 0; k < nt; k++) {
        const vec wv = vload(wt + 4 * k); /* lanes 4-15 unused */
        s = s + vload(xt + LANES * k) *
                    __builtin_shufflevector(wv, wv, 0, 1, 2, 3, 0, 1, 2, 3, 0,
                                            1, 2, 3, 0, 1, 2, 3);
    }
    for (i = 0; i < MR; i++)
        memcpy(a->y + (size_t)(t + i) * a->out_dim + o,
               (const lr_float *)(const void *)&s + i * NR,
               sizeof(lr_float) * NR);
}

/* dst[4 k + r] = rows[r][k] for r < 4, k < nt: a block's tail of W,
 * packed for block_4x4p (which reads 16 values from each 4 k: the buffer
 * has room after it). */
ALWAYS_INLINE void pack_tail(lr_float *dst, const lr_float *const rows[4],
                             int nt)
{
    int k, r;
    for (k = 0; k < nt; k++)
        for (r = 0; r < 4; r++) dst[4 * k + r] = rows[r][k];
}

/* dst[16 k + 4 r + b] = rows[r][k] for b < 4: x's tail as block_4x4p's
 * lanes use it (lane j, row j / 4). */
ALWAYS_INLINE void pack_tail_x(lr_float *dst, const lr_float *const rows[4],
                               int nt)
{
    int k, r, b;
    for (k = 0; k < nt; k++)
        for (r = 0; r < 4; r++)
            for (b = 0; b < 4; b++) dst[LANES * k + 4 * r + b] = rows[r][k];
}
#else
#define HAVE_SHUFFLE 0
#endif

/* p[r] (r < nr) = row first + r of the lr_float matrix m (row length in)
 * for the nreal rows that exist (r < nreal); the padding repeats row
 * first. */
ALWAYS_INLINE void row_ptrs(const lr_float **p, int nr, const void *m,
                            int first, int nreal, int in)
{
    int r;
    for (r = 0; r < nr; r++)
        p[r] = (const lr_float *)m +
               (size_t)(first + (r < nreal ? r : 0)) * in;
}

/* Computes y[:, o0:o1] (o1 - o0 <= COLS).  x86: the x86-64 clones' paths
 * (packed several-token blocks finished by finish_block, the one-row
 * decode sweep); the other targets keep the 4 x 4 / 1 x 4 kernels, which
 * give the same bits.  pk: PK scratch values for packing, or NULL (then
 * the unpacked kernels, the same bits). */
ALWAYS_INLINE void columns_body(const mm_args *a, int o0, int o1, int x86,
                                lr_float *pk)
{
    const int in = a->in_dim, kv = in - in % LANES;
    const int native = a->wdtype == LR_FLOAT_DTYPE;
    lr_float wbuf[NR][KC];          /* converted weight chunk */
    lr_float wtail[NR][LANES];      /* converted tail (in % LANES) */
    int o, t, b, k0;
    (void)x86;
    if (native && a->n == 1 && x86) {
        /* decoding: one weight row after the other, so W is read as one
         * sequential stream (what hardware prefetchers follow best; 4 rows
         * side by side, with or without software prefetching, read the
         * 100M model's weights ~1.5x slower); one lane accumulator per
         * output, the same products and sums as kernel_1x4 */
        const lr_float *w = (const lr_float *)a->w + (size_t)o0 * in;
        for (o = o0; o < o1; o++, w += in)
            finish(a, kernel_1x1(a->x, w, kv, x86), 0, o, w + kv, kv);
        return;
    }
    if (native && a->n > 1) {
        /* several tokens: each block of MR rows of x (MR * in values, in
         * L1) meets every weight row of a group (in L2) before the next
         * block is read, so x streams from memory once per group instead
         * of once per NR weight rows.  Unpacked, the group is the whole
         * task.  Packed (x86-64 clones with scratch): the task's weight
         * rows are packed (kernel_4x4p) in groups of g rows (g * kv <= WP
         * values), and so is each block of x before it meets the group.
         * Every output is still one kernel call over all of k from zero
         * accumulators: the order is unchanged (copies are exact). */
        const int packed = x86 && pk && kv > 0 && kv <= XP;
        /* rows of x per block: MR2 in the AVX2 clone's packed path */
        const int mr = packed && x86 == 2 ? MR2 : MR;
        /* pk: mr rows of x, packed, then g rows of W, packed, 2 kB further
         * than a multiple of 4 kB away (the two streams advance together:
         * apart by a multiple of 4 kB they would always share L1 sets) */
        lr_float *const xp = pk;
        lr_float *const wp =
            packed ? pk + MR2 * XP + 2048 / sizeof(lr_float) : NULL;
        /* the AVX-512 clone's tails for block_4x4p (x86 == 1) */
        const int nt_tail = in - kv;
        lr_float *const wt = packed ? wp + WP : NULL;
        lr_float *const xt = packed ? wp + 2 * WP : NULL;
        const int g = packed ? (WP / kv) / NR * NR : o1 - o0;
        int g0;
        for (g0 = o0; g0 < o1; g0 += g) {
            const int g1 = g0 + g < o1 ? g0 + g : o1;
            for (o = g0; packed && o < g1; o += NR) {
                const lr_float *wrow[NR];
                row_ptrs(wrow, NR, a->w, o, g1 - o, in);
                pack_rows(wp + (size_t)(o - g0) * kv, wrow, NR, kv,
                          x86 == 2 ? 3 : x86);
#if HAVE_SHUFFLE
                if (x86 == 1) {
                    for (b = 0; b < NR; b++) wrow[b] += kv;
                    pack_tail(wt + (size_t)(o - g0) * nt_tail, wrow, nt_tail);
                }
#endif
            }
            for (t = 0; t < a->n; t += mr) {
                const int nt = a->n - t < mr ? a->n - t : mr;
                const lr_float *xs[MR2];
                int r;
                row_ptrs(xs, mr, a->x, t, nt, in);
                /* x packed for all but block_4x4p (x in place) */
                if (packed && !(x86 == 1 && nt == MR && (g1 - g0) % NR == 0))
                    pack_rows(xp, xs, mr, kv, x86);
#if HAVE_SHUFFLE
                if (packed && x86 == 1 && nt == MR) {
                    const lr_float *xk[MR];
                    for (r = 0; r < MR; r++) xk[r] = xs[r] + kv;
                    pack_tail_x(xt, xk, nt_tail);
                }
#endif
                for (o = g0; o < g1; o += NR) {
                    const int nb = g1 - o < NR ? g1 - o : NR;
                    const lr_float *wrow[NR];
                    vec acc[MR2][NR];
#if HAVE_SHUFFLE
                    if (packed && x86 == 1 && nt == MR && nb == NR) {
                        block_4x4p(a, xs, wp + (size_t)(o - g0) * kv, kv, xt,
                                   wt + (size_t)(o - g0) * nt_tail, nt_tail,
                                   t, o);
                        continue;
                    }
#endif
                    row_ptrs(wrow, NR, a->w, o, nb, in);
                    /* the AVX2 clone's packed kernel starts its first
                     * passes from zero registers and writes all of acc */
                    for (r = 0; r < mr && mr != MR2; r++)
                        for (b = 0; b < NR; b++) acc[r][b] = vzero();
                    if (packed) {
                        /* padded rows (r >= nt, b >= nb) repeat a real
                         * one and are never stored */
                        const lr_float *const wq = wp + (size_t)(o - g0) * kv;
#if HAVE_X86_DISPATCH
                        if (x86 == 2)
                            kernel_6x4p_pieces(acc, xp, wq, kv);
                        else
#endif
                            kernel_4x4p(acc, xp, wq, kv);
#if HAVE_SHUFFLE
                        if (nt == mr && nb == NR) {
                            finish_block(a, acc, mr, t, o, wrow, kv, x86);
                            continue;
                        }
#endif
                    } else if (nt == MR) {
                        kernel_4x4(acc, xs, wrow, kv, x86);
                    } else {
                        for (r = 0; r < nt; r++)
                            kernel_1x4(acc[r], xs[r], wrow, kv, NULL, x86);
                    }
                    for (r = 0; r < nt; r++)
                        for (b = 0; b < nb; b++)
                            finish(a, acc[r][b], t + r, o + b, wrow[b] + kv,
                                   kv);
                }
            }
        }
        return;
    }
    for (o = o0; o < o1; o += NR) {
        const lr_float *wrow[NR];
        const lr_float *ws[NR];
        int nb = o1 - o < NR ? o1 - o : NR;
        for (b = 0; b < NR; b++) {
            int ob = o + (b < nb ? b : 0); /* pad with a repeat of row o */
            wrow[b] = native ? (const lr_float *)a->w + (size_t)ob * in : NULL;
            if (!native)
                weight_range(wtail[b], a->w, a->wdtype,
                             (size_t)ob * in + (size_t)kv, in - kv);
        }
        for (t = 0; t < a->n; t += MR) {
            int nt = a->n - t < MR ? a->n - t : MR;
            const lr_float *xs[MR];
            vec acc[MR][NR];
            int r;
            for (r = 0; r < MR; r++)
                for (b = 0; b < NR; b++) acc[r][b] = vzero();
            row_ptrs(xs, MR, a->x, t, nt, in);
            for (k0 = 0; k0 < kv; k0 += native ? kv : KC) {
                int nk = native ? kv : (kv - k0 < KC ? kv - k0 : KC);
                const lr_float *xk[MR];
                for (b = 0; b < NR; b++) {
                    if (native) {
                        ws[b] = wrow[b] + k0;
                    } else {
                        int ob = o + (b < nb ? b : 0);
                        weight_range(wbuf[b], a->w, a->wdtype,
                                     (size_t)ob * in + (size_t)k0, nk);
                        ws[b] = wbuf[b];
                    }
                }
                if (nt == MR) {
                    for (r = 0; r < MR; r++) xk[r] = xs[r] + k0;
                    kernel_4x4(acc, xk, ws, nk, x86);
                } else {
                    /* prefetch the next NR rows when they exist and the
                     * weights are read in one sweep (native, one token) */
                    const lr_float *pf =
                        (native && nt == 1 && o + 2 * NR <= a->out_dim)
                            ? wrow[0] + (size_t)NR * in : NULL;
                    for (r = 0; r < nt; r++)
                        kernel_1x4(acc[r], xs[r] + k0, ws, nk, pf, x86);
                }
            }
            for (r = 0; r < nt; r++)
                for (b = 0; b < nb; b++)
                    finish(a, acc[r][b], t + r, o + b,
                           native ? wrow[b] + kv : wtail[b], kv);
        }
    }
}

static void columns_generic(const mm_args *a, int o0, int o1, lr_float *pk)
{
    columns_body(a, o0, o1, 0, pk);
}

#if HAVE_X86_DISPATCH
__attribute__((target("avx512f")))
static void columns_avx512(const mm_args *a, int o0, int o1, lr_float *pk)
{
    columns_body(a, o0, o1, 1, pk);
}

__attribute__((target("avx2")))
static void columns_avx2(const mm_args *a, int o0, int o1, lr_float *pk)
{
    columns_body(a, o0, o1, 2, pk); /* 2: kernel_6x4p_pieces */
}
#endif

typedef void (*columns_fn)(const mm_args *, int, int, lr_float *);

static columns_fn pick_columns(const char **isa)
{
#if HAVE_X86_DISPATCH
    if (__builtin_cpu_supports("avx512f")) {
        if (isa) *isa = "avx512f";
        return columns_avx512;
    }
    if (__builtin_cpu_supports("avx2")) {
        if (isa) *isa = "avx2";
        return columns_avx2;
    }
#endif
    /* generic vectors: the compiler lowers them to the host's vector unit
     * (NEON on aarch64, SSE2 on x86-64 without AVX, z/Architecture vector
     * facility on s390x with -march=z13+) or to scalar code where it has
     * none (armhf: Debian's default -mfpu has no NEON, see performance.md) */
    if (isa) *isa = !HAVE_VEC ? "plain C lanes" : GENERIC_VEC_ISA;
    return columns_generic;
}

void lr_matmul_fast(lr_float *y, const lr_float *x, const void *w,
                    lr_dtype wdtype, int n, int in_dim, int out_dim)
{
    mm_args a;
    columns_fn fn = pick_columns(NULL);
    /* tasks of at most COLS weight rows (a multiple of NR), evenly over
     * the threads (a small model's 64-row weights were one task); each
     * output is one task's: the same bits */
    const int cols = task_rows(out_dim, COLS, NR);
    const int ntask = (out_dim + cols - 1) / cols;
    /* the x86-64 clones pack several-token products (columns_body): each
     * thread gets a PK-value scratch buffer (malloc, freed before
     * returning; without it the unpacked kernels give the same bits) */
    const int packs = fn != columns_generic && n > 1 &&
                      wdtype == LR_FLOAT_DTYPE && in_dim >= LANES &&
                      in_dim - in_dim % LANES <= XP;
    a.y = y; a.x = x; a.w = w; a.wdtype = wdtype;
    a.n = n; a.in_dim = in_dim; a.out_dim = out_dim;
#ifdef LR_OMP
#pragma omp parallel if ((double)n * in_dim * out_dim > 65536.0)
#endif
    {
        lr_float *pk = packs ? malloc(sizeof(lr_float) * PK) : NULL;
        int task;
#ifdef LR_OMP
#pragma omp for schedule(static)
#endif
        for (task = 0; task < ntask; task++) {
            int o0 = task * cols;
            int o1 = o0 + cols < out_dim ? o0 + cols : out_dim;
            fn(&a, o0, o1, pk);
        }
        free(pk);
    }
}

void lr_matmul(lr_float *y, const lr_float *x, const lr_tensor *w, int n)
{
    int out_dim = (int)w->shape[0], in_dim = (int)w->shape[1];
#if LR_SIMD
    lr_matmul_fast(y, x, w->data, w->dtype, n, in_dim, out_dim);
#else
    lr_matmul_ref(y, x, w->data, w->dtype, n, in_dim, out_dim);
#endif
}

int lr_matmul_is_fast(void)
{
    return LR_SIMD ? 1 : 0;
}

const char *lr_matmul_isa(void)
{
    const char *isa = "scalar";
    if (LR_SIMD) pick_columns(&isa);
    return isa;
}

void lr_threads_set(int n)
{
#ifdef LR_OMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

int lr_threads_openmp(void)
{
#ifdef LR_OMP
    return 1;
#else
    return 0;
#endif
}

/* ---- plain-array forms (matmul.h): W as an lr_float array viewed as an
 * lr_tensor, then lr_matmul above or lr_matmul_backward
 * (matmul_backward.c). ---- */
static lr_tensor plain_view(const lr_float *w, int in_dim, int out_dim)
{
    lr_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = LR_FLOAT_DTYPE;
    t.ndim = 2;
    t.shape[0] = out_dim;
    t.shape[1] = in_dim;
    t.data = (void *)w; /* read only: the kernels never write W */
    return t;
}

void lr_matmul_plain(lr_float *y, const lr_float *x, const lr_float *w, int n,
                     int in_dim, int out_dim)
{
    lr_tensor t = plain_view(w, in_dim, out_dim);
    lr_matmul(y, x, &t, n);
}

void lr_matmul_backward_plain(lr_float *dx, const lr_float *dy,
                              const lr_float *w, int n, int in_dim,
                              int out_dim)
{
    lr_tensor t = plain_view(w, in_dim, out_dim);
    lr_matmul_backward(dx, dy, &t, n);
}
