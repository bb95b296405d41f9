/* matmul.c - y = x W^T: the scalar reference kernel (the definition) and a
 * fast kernel with a fixed 16-lane summation order (see matmul.h).
 *
 * The fast kernel computes blocks of 4 rows of x against 4 rows of W, so
 * every weight row loaded from memory is used for 4 tokens and every x row
 * for 4 outputs.  It is written once with GCC/clang vector extensions and
 * compiled for AVX-512 and AVX2 (chosen at run time on x86-64) and for the
 * build's default instruction set; tcc and other compilers get the same
 * arithmetic in plain C.  The x86-64 clones also copy the 4 rows of x and
 * groups of W rows into interleaved buffers (one stream each, exact
 * copies), finish the 16 outputs of a block with vector pair sums (the
 * same tree as vsum), and decode (one token) one weight row after the
 * other; every output keeps the order documented in matmul.h (each lane
 * sums its k in ascending order from zero, then the tree, then the tail),
 * which tests/model/test_matmul.c checks bit for bit.  Lanes are combined without FMA (-ffp-contract=off),
 * so all versions give identical bits.  Weights that are not lr_float
 * (BF16/F16, or F32 in the double build) are converted chunk by chunk into a
 * small stack buffer; the chunking does not change the summation order.
 * Depends on: common (bf16/f16 conversion), model (lr_tensor). */
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/matmul.h"

#ifdef LR_OMP
#include <omp.h>
#endif

#define LANES LR_MATMUL_LANES
#define MR 4        /* rows of x per block */
#define NR 4        /* rows of W per block */
#define KC 512      /* conversion chunk (elements, multiple of LANES) */
#define COLS 64     /* W rows per parallel task */
#define XP 4096     /* longest rows packed (kernel_4x4p; multiple of LANES) */
#define WP 65536    /* packed weights per group (>= NR * XP) */
#define PK (MR * XP + WP + 2048 / sizeof(lr_float)) /* scratch per thread */

static lr_float weight_at(const void *w, lr_dtype dt, size_t i)
{
    switch (dt) {
    case LR_F32: return (lr_float)((const float *)w)[i];
    case LR_F64: return (lr_float)((const double *)w)[i];
    case LR_BF16: return (lr_float)lr_bf16_to_f32(((const uint16_t *)w)[i]);
    case LR_F16: return (lr_float)lr_f16_to_f32(((const uint16_t *)w)[i]);
    default: return 0;
    }
}

/* Converts n weights starting at element i into dst. */
static void weight_range(lr_float *dst, const void *w, lr_dtype dt, size_t i,
                         int n)
{
    int k;
    switch (dt) {
    case LR_F32: {
        const float *p = (const float *)w + i;
        for (k = 0; k < n; k++) dst[k] = (lr_float)p[k];
        break;
    }
    case LR_F64: {
        const double *p = (const double *)w + i;
        for (k = 0; k < n; k++) dst[k] = (lr_float)p[k];
        break;
    }
    case LR_BF16: {
        /* the bits of lr_bf16_to_f32, written out here so that the loop
         * is inlined and vectorised (a call per weight took 80% of a LoRA
         * step on a BF16 base) */
        const uint16_t *p = (const uint16_t *)w + i;
        for (k = 0; k < n; k++) {
            const uint32_t b = (uint32_t)p[k] << 16;
            float f;
            memcpy(&f, &b, sizeof f);
            dst[k] = (lr_float)f;
        }
        break;
    }
    default:
        for (k = 0; k < n; k++) dst[k] = weight_at(w, dt, i + (size_t)k);
    }
}

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

#if defined(__GNUC__) && !defined(__TINYC__) && !defined(__PCC__)
#define HAVE_VEC 1
#if defined(__aarch64__) || defined(__ARM_NEON)
#define GENERIC_VEC_ISA "neon (generic vectors)"
#elif defined(__SSE2__)
#define GENERIC_VEC_ISA "sse2 (generic vectors)"
#elif defined(__VEC__) && defined(__s390x__)
#define GENERIC_VEC_ISA "z vector (generic vectors)"
#else
#define GENERIC_VEC_ISA "generic vectors (scalar code)"
#endif
#if !defined(__clang__)
/* the vector helpers are always inlined: no vector crosses a call ABI */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef lr_float vec __attribute__((vector_size(LANES * sizeof(lr_float))));
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define HAVE_VEC 0
#define GENERIC_VEC_ISA "plain C lanes"
typedef struct vec { lr_float l[LANES]; } vec;
#define ALWAYS_INLINE static
#endif

ALWAYS_INLINE vec vzero(void)
{
    vec v;
    memset(&v, 0, sizeof v);
    return v;
}

ALWAYS_INLINE vec vload(const lr_float *p)
{
    vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

ALWAYS_INLINE vec vmuladd(vec acc, vec a, vec b)
{
#if HAVE_VEC
    return acc + a * b;
#else
    int j;
    for (j = 0; j < LANES; j++) acc.l[j] += a.l[j] * b.l[j];
    return acc;
#endif
}

/* The pairwise tree over the 16 lanes. */
ALWAYS_INLINE lr_float vsum(vec v)
{
    lr_float l[LANES];
    memcpy(l, &v, sizeof l);
    return ((((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))) +
            (((l[8] + l[9]) + (l[10] + l[11])) + ((l[12] + l[13]) + (l[14] + l[15]))));
}

/* acc[a][b] += lanes of x_a . w_b over k = 0 .. nk-1 (nk multiple of LANES);
 * xs[a], ws[b] point at the first element. */
ALWAYS_INLINE void kernel_4x4(vec acc[MR][NR], const lr_float *const xs[MR],
                              const lr_float *const ws[NR], int nk)
{
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

/* Packs rows[0..3][0:nk] (nk a multiple of LANES) into dst as kernel_4x4p
 * reads them. */
ALWAYS_INLINE void pack4(lr_float *dst, const lr_float *const rows[4], int nk)
{
    int k, r;
    for (k = 0; k < nk; k += LANES)
        for (r = 0; r < 4; r++, dst += LANES)
            memcpy(dst, rows[r] + k, sizeof(lr_float) * LANES);
}

/* One row of x against up to NR rows of W (decode, and leftover rows). */
ALWAYS_INLINE void kernel_1x4(vec acc[NR], const lr_float *xs,
                              const lr_float *const ws[NR], int nk,
                              const lr_float *pf)
{
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

/* Finishes the MR x NR block y[t:t+MR][o:o+NR] (all inside y): lane j of
 * the result is vsum(acc[j / NR][j % NR]), computed for the 16 outputs
 * together level by level, plus the tail elements k >= kv in order. */
ALWAYS_INLINE void finish_block(const mm_args *a, vec acc[MR][NR], int t,
                                int o, const lr_float *const wrow[NR], int kv)
{
    vec p[8], q[4], r0, r1, s;
    lr_float out[MR * NR];
    int i, b, k;
    for (i = 0; i < 8; i++)
        p[i] = vpairsum(acc[(2 * i) / NR][(2 * i) % NR],
                        acc[(2 * i + 1) / NR][(2 * i + 1) % NR]);
    for (i = 0; i < 4; i++) q[i] = vpairsum(p[2 * i], p[2 * i + 1]);
    r0 = vpairsum(q[0], q[1]);
    r1 = vpairsum(q[2], q[3]);
    s = vpairsum(r0, r1);
    memcpy(out, &s, sizeof out);
    for (i = 0; i < MR; i++) {
        const lr_float *xt = a->x + (size_t)(t + i) * a->in_dim;
        lr_float *yt = a->y + (size_t)(t + i) * a->out_dim + o;
        for (b = 0; b < NR; b++) {
            lr_float v = out[i * NR + b];
            for (k = kv; k < a->in_dim; k++) v += xt[k] * wrow[b][k];
            yt[b] = v;
        }
    }
}
#else
#define HAVE_SHUFFLE 0
#endif

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
        for (o = o0; o < o1; o++, w += in) {
            vec acc = vzero();
            for (k0 = 0; k0 < kv; k0 += LANES)
                acc = vmuladd(acc, vload(a->x + k0), vload(w + k0));
            finish(a, acc, 0, o, w + kv, kv);
        }
        return;
    }
    if (native && a->n > 1 && x86 && pk && kv > 0 && kv <= XP) {
        /* several tokens, x86-64 clones: the task's weight rows are packed
         * (kernel_4x4p) in groups of g rows (g * kv <= WP values), and
         * each block of MR rows of x, packed, meets every row of the
         * group before the next block is packed.  Every output is still
         * one kernel call over all of k from zero accumulators: the
         * order is unchanged (copies are exact). */
        /* pk: MR rows of x, packed, then g rows of W, packed, 2 kB further
         * than a multiple of 4 kB away (the two streams advance together:
         * apart by a multiple of 4 kB they would always share L1 sets) */
        lr_float *const xp = pk;
        lr_float *const wp = pk + MR * XP + 2048 / sizeof(lr_float);
        const int g = (WP / kv) / NR * NR;
        int g0;
        for (g0 = o0; g0 < o1; g0 += g) {
            const int g1 = g0 + g < o1 ? g0 + g : o1;
            for (o = g0; o < g1; o += NR) {
                const lr_float *wrow[NR];
                const int nb = g1 - o < NR ? g1 - o : NR;
                for (b = 0; b < NR; b++)
                    wrow[b] = (const lr_float *)a->w +
                              (size_t)(o + (b < nb ? b : 0)) * in;
                pack4(wp + (size_t)(o - g0) * kv, wrow, kv);
            }
            for (t = 0; t < a->n; t += MR) {
                const int nt = a->n - t < MR ? a->n - t : MR;
                const lr_float *xs[MR];
                int r;
                for (r = 0; r < MR; r++)
                    xs[r] = a->x + (size_t)(t + (r < nt ? r : 0)) * in;
                pack4(xp, xs, kv);
                for (o = g0; o < g1; o += NR) {
                    const int nb = g1 - o < NR ? g1 - o : NR;
                    const lr_float *wrow[NR];
                    vec acc[MR][NR];
                    for (b = 0; b < NR; b++)
                        wrow[b] = (const lr_float *)a->w +
                                  (size_t)(o + (b < nb ? b : 0)) * in;
                    for (r = 0; r < MR; r++)
                        for (b = 0; b < NR; b++) acc[r][b] = vzero();
                    /* padded rows (r >= nt, b >= nb) repeat a real one
                     * and are never stored */
                    kernel_4x4p(acc, xp, wp + (size_t)(o - g0) * kv, kv);
#if HAVE_SHUFFLE
                    if (nt == MR && nb == NR) {
                        finish_block(a, acc, t, o, wrow, kv);
                        continue;
                    }
#endif
                    for (r = 0; r < nt; r++)
                        for (b = 0; b < nb; b++)
                            finish(a, acc[r][b], t + r, o + b, wrow[b] + kv,
                                   kv);
                }
            }
        }
        return;
    }
    if (native && a->n > 1) {
        /* several tokens: each block of MR rows of x (MR * in values, in
         * L1) meets every weight row of the task (in L2) before the next
         * block is read, so x streams from memory once per task instead
         * of once per NR weight rows.  Every output is still one kernel
         * call over all of k: the order is unchanged. */
        for (t = 0; t < a->n; t += MR) {
            const int nt = a->n - t < MR ? a->n - t : MR;
            const lr_float *xs[MR];
            int r;
            for (r = 0; r < MR; r++)
                xs[r] = a->x + (size_t)(t + (r < nt ? r : 0)) * in;
            for (o = o0; o < o1; o += NR) {
                const int nb = o1 - o < NR ? o1 - o : NR;
                const lr_float *wrow[NR];
                vec acc[MR][NR];
                for (b = 0; b < NR; b++)
                    wrow[b] = (const lr_float *)a->w +
                              (size_t)(o + (b < nb ? b : 0)) * in;
                for (r = 0; r < MR; r++)
                    for (b = 0; b < NR; b++) acc[r][b] = vzero();
                if (nt == MR)
                    kernel_4x4(acc, xs, wrow, kv);
                else
                    for (r = 0; r < nt; r++)
                        kernel_1x4(acc[r], xs[r], wrow, kv, NULL);
                for (r = 0; r < nt; r++)
                    for (b = 0; b < nb; b++)
                        finish(a, acc[r][b], t + r, o + b, wrow[b] + kv, kv);
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
            for (r = 0; r < MR; r++)
                xs[r] = a->x + (size_t)(t + (r < nt ? r : 0)) * in;
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
                    kernel_4x4(acc, xk, ws, nk);
                } else {
                    /* prefetch the next NR rows when they exist and the
                     * weights are read in one sweep (native, one token) */
                    const lr_float *pf =
                        (native && nt == 1 && o + 2 * NR <= a->out_dim)
                            ? wrow[0] + (size_t)NR * in : NULL;
                    for (r = 0; r < nt; r++)
                        kernel_1x4(acc[r], xs[r] + k0, ws, nk, pf);
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

#if HAVE_VEC && defined(__x86_64__) && !defined(__clang__) || \
    HAVE_VEC && defined(__x86_64__) && defined(__clang__) && __clang_major__ >= 9
#define HAVE_X86_DISPATCH 1
__attribute__((target("avx512f")))
static void columns_avx512(const mm_args *a, int o0, int o1, lr_float *pk)
{
    columns_body(a, o0, o1, 1, pk);
}

__attribute__((target("avx2")))
static void columns_avx2(const mm_args *a, int o0, int o1, lr_float *pk)
{
    columns_body(a, o0, o1, 1, pk);
}
#else
#define HAVE_X86_DISPATCH 0
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
    const int ntask = (out_dim + COLS - 1) / COLS;
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
            int o0 = task * COLS;
            int o1 = o0 + COLS < out_dim ? o0 + COLS : out_dim;
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

/* ---- backward ----------------------------------------------------------- */

/* dx += dy W for y = x W^T with W frozen (LoRA: no weight gradient).
 * Derivation: y[t][o] = sum_i x[t][i] W[o][i], so
 * dL/dx[t][i] = sum_o dy[t][o] W[o][i].
 * Order (the definition, bwd_scalar): each dx[t][i] adds dy[t][o] W[o][i]
 * for o = 0, 1, ... in turn onto its previous value, one rounding for the
 * product and one for the sum, skipping dy[t][o] == 0.  The blocked kernel
 * keeps exactly that order per element, whatever the blocking, the vector
 * width or the thread count, so every version gives the same bits: tasks
 * of BT rows x BC columns (one thread each); inside, weight rows in blocks
 * of BO (a BO x BC block stays in L1 while BT rows use it), 4 rows x 16
 * columns of dx held in vector registers across a block of weight rows.
 * On AVX-512 each 64-column chunk of the block is first packed side by
 * side (rows of W whose stride is a multiple of 1 KiB share a few L1 sets)
 * and all the task's rows go through one chunk before the next; the last
 * in % 16 columns use one vector on zero-padded copies. */
#define BT 64       /* rows of dx per task */
#define BC 256      /* columns of dx per task (multiple of LANES) */
#define BO 32       /* weight rows per block */

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

ALWAYS_INLINE vec vsplat(lr_float s)
{
    vec v;
    int j;
#if HAVE_VEC
    /* element-wise, not `vzero() + s`: where FLT_EVAL_METHOD is 1 (s390x)
     * that sum is a double-to-vector conversion, which gcc rejects */
    v = vzero();
    for (j = 0; j < LANES; j++) v[j] = s;
#else
    for (j = 0; j < LANES; j++) v.l[j] = s;
#endif
    return v;
}

/* Rows rw[0..3] (none with a zero among dy[.][o0:o1]; dy points at
 * column o0) x the vector columns [i0, iv1): acc_r = dx_r; then
 * acc_r += dy[r][o] * W[o] for o in order; store. */
ALWAYS_INLINE void bwd_rows4(lr_float *dx, const lr_float *dy,
                             const lr_float *wo, size_t ws, const int *rw,
                             int i0, int iv1, int no, int in_dim, int out_dim)
{
    lr_float *d0 = dx + (size_t)rw[0] * in_dim, *d1 = dx + (size_t)rw[1] * in_dim;
    lr_float *d2 = dx + (size_t)rw[2] * in_dim, *d3 = dx + (size_t)rw[3] * in_dim;
    const lr_float *g0 = dy + (size_t)rw[0] * out_dim;
    const lr_float *g1 = dy + (size_t)rw[1] * out_dim;
    const lr_float *g2 = dy + (size_t)rw[2] * out_dim;
    const lr_float *g3 = dy + (size_t)rw[3] * out_dim;
    int i, o;
    for (i = i0; i < iv1; i += LANES) {
        vec a0 = vload(d0 + i), a1 = vload(d1 + i);
        vec a2 = vload(d2 + i), a3 = vload(d3 + i);
        const lr_float *w = wo + (i - i0);
        for (o = 0; o < no; o++, w += ws) {
            vec wv = vload(w);
            a0 = vmuladd(a0, vsplat(g0[o]), wv);
            a1 = vmuladd(a1, vsplat(g1[o]), wv);
            a2 = vmuladd(a2, vsplat(g2[o]), wv);
            a3 = vmuladd(a3, vsplat(g3[o]), wv);
        }
        memcpy(d0 + i, &a0, sizeof a0); memcpy(d1 + i, &a1, sizeof a1);
        memcpy(d2 + i, &a2, sizeof a2); memcpy(d3 + i, &a3, sizeof a3);
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
    lr_float *d0 = dx + (size_t)rw[0] * in_dim, *d1 = dx + (size_t)rw[1] * in_dim;
    lr_float *d2 = dx + (size_t)rw[2] * in_dim, *d3 = dx + (size_t)rw[3] * in_dim;
    const lr_float *g0 = dy + (size_t)rw[0] * out_dim;
    const lr_float *g1 = dy + (size_t)rw[1] * out_dim;
    const lr_float *g2 = dy + (size_t)rw[2] * out_dim;
    const lr_float *g3 = dy + (size_t)rw[3] * out_dim;
    int i, o;
    for (i = i0; i + 2 * LANES <= iv1; i += 2 * LANES) {
        vec a0 = vload(d0 + i), a1 = vload(d1 + i);
        vec a2 = vload(d2 + i), a3 = vload(d3 + i);
        vec b0 = vload(d0 + i + LANES), b1 = vload(d1 + i + LANES);
        vec b2 = vload(d2 + i + LANES), b3 = vload(d3 + i + LANES);
        const lr_float *w = wo + (i - i0);
        for (o = 0; o < no; o++, w += ws) {
            vec wv = vload(w), wu = vload(w + LANES), g;
            g = vsplat(g0[o]); a0 = vmuladd(a0, g, wv); b0 = vmuladd(b0, g, wu);
            g = vsplat(g1[o]); a1 = vmuladd(a1, g, wv); b1 = vmuladd(b1, g, wu);
            g = vsplat(g2[o]); a2 = vmuladd(a2, g, wv); b2 = vmuladd(b2, g, wu);
            g = vsplat(g3[o]); a3 = vmuladd(a3, g, wv); b3 = vmuladd(b3, g, wu);
        }
        memcpy(d0 + i, &a0, sizeof a0); memcpy(d1 + i, &a1, sizeof a1);
        memcpy(d2 + i, &a2, sizeof a2); memcpy(d3 + i, &a3, sizeof a3);
        memcpy(d0 + i + LANES, &b0, sizeof b0); memcpy(d1 + i + LANES, &b1, sizeof b1);
        memcpy(d2 + i + LANES, &b2, sizeof b2); memcpy(d3 + i + LANES, &b3, sizeof b3);
    }
    return i; /* the first column not done */
}

/* The same 4 rows, four vectors (4 * LANES columns) at a time: 16
 * accumulators, so each broadcast of dy feeds 4 products (AVX-512). */
ALWAYS_INLINE int bwd_rows4_x4(lr_float *dx, const lr_float *dy,
                               const lr_float *wo, size_t ws, const int *rw,
                               int i0, int iv1, int no, int in_dim,
                               int out_dim)
{
    lr_float *d[4];
    const lr_float *g[4];
    int i, o, r;
    for (r = 0; r < 4; r++) {
        d[r] = dx + (size_t)rw[r] * in_dim;
        g[r] = dy + (size_t)rw[r] * out_dim;
    }
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

/* The number of g[0 .. no-1] equal to 0 (lanes compared side by side). */
ALWAYS_INLINE int count_zeros(const lr_float *g, int no)
{
    int k = 0, z = 0;
#if HAVE_VEC
    if (no >= LANES) {
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

/* d[0 .. tw-1] (tw < LANES) += g[o] * wp[o][.] for o = 0 .. no-1 in
 * order, wp: no rows of LANES values (zeros after tw). */
ALWAYS_INLINE void bwd_tail1(lr_float *d, const lr_float *g,
                             const lr_float *wp, int no, int tw)
{
    lr_float tmp[LANES];
    vec a;
    int o;
    memset(tmp, 0, sizeof tmp);
    memcpy(tmp, d, sizeof *d * tw);
    a = vload(tmp);
    for (o = 0; o < no; o++) a = vmuladd(a, vsplat(g[o]), vload(wp + (size_t)o * LANES));
    memcpy(tmp, &a, sizeof a);
    memcpy(d, tmp, sizeof *d * tw);
}

ALWAYS_INLINE void bwd_body(lr_float *dx, const lr_float *dy, const void *w,
                            lr_dtype dt, int t0, int t1, int i0, int i1,
                            int in_dim, int out_dim, int wide)
{
    lr_float buf[BO * BC], pk[BO * 4 * LANES];
    const int direct = dt == LR_FLOAT_DTYPE, len = i1 - i0;
    const int iv1 = i0 + (len - len % LANES);
    /* AVX-512: the columns [i0, ix4) in chunks of 4 vectors, each chunk's
     * BO weight rows packed side by side in pk (rows of W a power of two
     * apart would fall into the same few L1 sets), every vector row of the
     * task through one chunk before the next chunk */
    const int ix4 = wide ? i0 + (iv1 - i0) / (4 * LANES) * (4 * LANES) : i0;
    int rv[BT];
    int o0, t, k, c, r;
    for (o0 = 0; o0 < out_dim; o0 += BO) {
        const int o1 = o0 + BO < out_dim ? o0 + BO : out_dim, no = o1 - o0;
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
                __builtin_prefetch(g + BO);
                __builtin_prefetch(g + BO + 16);
            }
#endif
            zeros = count_zeros(g, no);
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
                bwd_tail1(dx + (size_t)rv[r] * in_dim + iv1,
                          dy + (size_t)rv[r] * out_dim + o0, pk, no, tw);
        }
        /* the vector rows: each dx element still adds this block's terms
         * in ascending o (one kernel call covers the block) */
        for (c = i0; c < ix4; c += 4 * LANES) {
            for (k = 0; k < no; k++)
                memcpy(pk + (size_t)k * 4 * LANES, wo + (size_t)k * ws + (c - i0),
                       sizeof *pk * 4 * LANES);
            for (r = 0; r + 4 <= nv; r += 4)
                bwd_rows4_x4(dx, dy + o0, pk, 4 * LANES, rv + r, c,
                             c + 4 * LANES, no, in_dim, out_dim);
            for (; r < nv; r++)
                bwd_row1(dx, dy + o0, pk, 4 * LANES, rv[r], c, c + 4 * LANES,
                         no, in_dim, out_dim);
        }
        if (ix4 < iv1) {
            const lr_float *wc = wo + (ix4 - i0);
            for (r = 0; r + 4 <= nv; r += 4) {
                int iw = ix4;
                if (wide)
                    iw = bwd_rows4_wide(dx, dy + o0, wc, ws, rv + r, ix4, iv1,
                                        no, in_dim, out_dim);
                bwd_rows4(dx, dy + o0, wc + (iw - ix4), ws, rv + r, iw, iv1,
                          no, in_dim, out_dim);
            }
            for (; r < nv; r++)
                bwd_row1(dx, dy + o0, wc, ws, rv[r], ix4, iv1, no, in_dim,
                         out_dim);
        }
    }
}

static void bwd_generic(lr_float *dx, const lr_float *dy, const void *w,
                        lr_dtype dt, int t0, int t1, int i0, int i1,
                        int in_dim, int out_dim)
{
    bwd_body(dx, dy, w, dt, t0, t1, i0, i1, in_dim, out_dim, 0);
}

#if HAVE_X86_DISPATCH
__attribute__((target("avx512f")))
static void bwd_avx512(lr_float *dx, const lr_float *dy, const void *w,
                       lr_dtype dt, int t0, int t1, int i0, int i1,
                       int in_dim, int out_dim)
{
    bwd_body(dx, dy, w, dt, t0, t1, i0, i1, in_dim, out_dim, 1);
}

__attribute__((target("avx2")))
static void bwd_avx2(lr_float *dx, const lr_float *dy, const void *w,
                     lr_dtype dt, int t0, int t1, int i0, int i1,
                     int in_dim, int out_dim)
{
    bwd_body(dx, dy, w, dt, t0, t1, i0, i1, in_dim, out_dim, 0);
}
#endif

typedef void (*bwd_fn)(lr_float *, const lr_float *, const void *, lr_dtype,
                       int, int, int, int, int, int);

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
    const int nb = (n + BT - 1) / BT, nc = (in_dim + BC - 1) / BC;
    const bwd_fn fn = LR_SIMD ? pick_bwd() : NULL;
    int task;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) \
    if ((double)n * in_dim * out_dim > 65536.0)
#endif
    for (task = 0; task < nb * nc; task++) {
        const int b = task / nc, c = task % nc;
        const int t0 = b * BT, t1 = t0 + BT < n ? t0 + BT : n;
        const int i0 = c * BC, i1 = i0 + BC < in_dim ? i0 + BC : in_dim;
        if (fn) {
            fn(dx, dy, w->data, w->dtype, t0, t1, i0, i1, in_dim, out_dim);
        } else if (w->dtype == LR_FLOAT_DTYPE) {
            bwd_scalar(dx, dy, (const lr_float *)w->data + i0, (size_t)in_dim,
                       t0, t1, i0, i1, 0, out_dim, in_dim, out_dim);
        } else {
            /* SIMD=0 with converted weights: one row chunk at a time */
            lr_float row[BC];
            int o;
            for (o = 0; o < out_dim; o++) {
                weight_range(row, w->data, w->dtype, (size_t)o * in_dim + i0,
                             i1 - i0);
                bwd_scalar(dx, dy, row, 0, t0, t1, i0, i1, o, o + 1, in_dim,
                           out_dim);
            }
        }
    }
}

/* Weight gradient dw[o][i] += sum_t dy[t][o] x[t][i].
 * Order (the definition, bww_scalar): each dw[o][i] adds dy[t][o] x[t][i]
 * for t = 0, 1, ..., n-1 in turn onto its previous value (one rounding for
 * the product, one for the sum; zeros of dy are not skipped).  The vector
 * kernels keep that order per element: lanes hold 16 columns i of one row
 * o, a tile of 4 rows x 64 columns stays in 16 registers over a block of
 * BWT rows of x and dy (loaded from and stored to dw between blocks, which
 * is exact), so neither the blocking nor the thread count changes a bit.
 * Tasks (one thread each) are BWO rows of dw. */
#define BWO 64      /* rows of dw per task */
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

/* d[0 .. tw-1] (tw < LANES) += g[t * gs] * xp[t][.] for t = 0 .. nt-1 in
 * order, xp: nt rows of LANES values (zeros after tw). */
ALWAYS_INLINE void bww_tail1(lr_float *d, const lr_float *g, int gs,
                             const lr_float *xp, int nt, int tw)
{
    lr_float tmp[LANES];
    vec a;
    int t;
    memset(tmp, 0, sizeof tmp);
    memcpy(tmp, d, sizeof *d * tw);
    a = vload(tmp);
    for (t = 0; t < nt; t++)
        a = vmuladd(a, vsplat(g[(size_t)t * gs]), vload(xp + (size_t)t * LANES));
    memcpy(tmp, &a, sizeof a);
    memcpy(d, tmp, sizeof *d * tw);
}

/* dw rows [o0, o1), all columns, all n rows of x / dy. */
ALWAYS_INLINE void bww_body(lr_float *dw, const lr_float *dy,
                            const lr_float *x, int n, int o0, int o1,
                            int in_dim, int out_dim)
{
    const int iv = in_dim - in_dim % LANES;
    int t0, c0, o, i;
    for (t0 = 0; t0 < n; t0 += BWT) {
        const int t1 = t0 + BWT < n ? t0 + BWT : n;
        for (c0 = 0; c0 < iv; c0 += BWC) {
            const int c1 = c0 + BWC < iv ? c0 + BWC : iv;
            for (o = o0; o + 4 <= o1; o += 4) {
                for (i = c0; i + 4 * LANES <= c1; i += 4 * LANES)
                    bww_4x4(dw, dy, x, t0, t1, o, i, in_dim, out_dim);
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
                bww_tail1(dw + (size_t)o * in_dim + iv, dy + (size_t)t0 * out_dim + o,
                          out_dim, xp, t1 - t0, tw);
        }
    }
}

static void bww_generic(lr_float *dw, const lr_float *dy, const lr_float *x,
                        int n, int o0, int o1, int in_dim, int out_dim)
{
    bww_body(dw, dy, x, n, o0, o1, in_dim, out_dim);
}

#if HAVE_X86_DISPATCH
__attribute__((target("avx512f")))
static void bww_avx512(lr_float *dw, const lr_float *dy, const lr_float *x,
                       int n, int o0, int o1, int in_dim, int out_dim)
{
    bww_body(dw, dy, x, n, o0, o1, in_dim, out_dim);
}

__attribute__((target("avx2")))
static void bww_avx2(lr_float *dw, const lr_float *dy, const lr_float *x,
                     int n, int o0, int o1, int in_dim, int out_dim)
{
    bww_body(dw, dy, x, n, o0, o1, in_dim, out_dim);
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
    const int ntask = (out_dim + BWO - 1) / BWO;
    int task;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) \
    if ((double)n * in_dim * out_dim > 65536.0)
#endif
    for (task = 0; task < ntask; task++) {
        const int o0 = task * BWO, o1 = o0 + BWO < out_dim ? o0 + BWO : out_dim;
        if (fn) fn(dw, dy, x, n, o0, o1, in_dim, out_dim);
        else bww_scalar(dw, dy, x, 0, n, o0, o1, 0, in_dim, in_dim, out_dim);
    }
}

/* ---- plain-array forms (matmul.h): W as an lr_float array viewed as an
 * lr_tensor, then the kernels above. ---- */
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
