/* lora_linear.c - the adapted linear of LoRA (PEFT semantics):
 *   y = x W^T + s (dropout(x) A^T) B^T
 * its forward and backward as plain-C definitions (the summation orders)
 * and as vector kernels with the same bits.  The dropout's masks are
 * drawn and applied in lora_dropout.c; the adapters themselves (targets,
 * layout, init, merging) are in lora.c.
 * Depends on: lora.h, rng (the definition's dropout), lora_dropout.h (the
 * masks as bits; core/vec_internal.h, the vector kernels). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef LR_OMP
#include <omp.h>
#endif

#include "llamaref/train/lora.h"
#include "llamaref/core/rng.h"
#include "core/vec_internal.h"
#include "train/lora_dropout.h"

/* Row kernels with less work than this (rows x columns x rank) stay on
 * one thread; above it, rows are shared between the OpenMP threads. */
#define LO_PAR_MIN 65536

void lr_lora_linear_forward_ref(lr_float *y, lr_float *xa, const lr_float *xd,
                                const lr_float *A, const lr_float *B, double s,
                                int n, int in, int out, int r)
{
    /* xd (n, in), A (r, in), B (out, r), xa (n, r), y (n, out) += */
    const lr_float sf = (lr_float)s;
    int t, o, j, i;
    for (t = 0; t < n; t++) {
        const lr_float *xt = xd + (size_t)t * in;
        lr_float *at = xa + (size_t)t * r;
        lr_float *yt = y + (size_t)t * out;
        for (j = 0; j < r; j++) {
            const lr_float *Aj = A + (size_t)j * in;
            lr_float acc = 0;
            for (i = 0; i < in; i++) acc += xt[i] * Aj[i];
            at[j] = acc;
        }
        for (o = 0; o < out; o++) {
            const lr_float *Bo = B + (size_t)o * r;
            lr_float acc = 0;
            for (j = 0; j < r; j++) acc += at[j] * Bo[j];
            yt[o] += sf * acc;
        }
    }
}

/* The definition's dx: dx[t][i] += mask(sum_j dxa[t][j] A[j][i]) (j
 * ascending), the mask element e = t in + i's draw from seed (rows, then
 * columns ascending) or its bit in keep (keep not NULL); no mask at p 0. */
static void dx_ref(lr_float *dx, const lr_float *dxa, const lr_float *A,
                   int n, int in, int r, double p, uint64_t seed,
                   const unsigned char *keep)
{
    const lr_float keep_scale = (lr_float)(1.0 / (1.0 - p));
    int t, j, i;
    lr_rng rng;
    if (p > 0) lr_rng_seed(&rng, seed);
    for (t = 0; t < n; t++) {
        const lr_float *dat = dxa + (size_t)t * r;
        lr_float *dxt = dx + (size_t)t * in;
        for (i = 0; i < in; i++) {
            lr_float acc = 0;
            int kept;
            for (j = 0; j < r; j++) acc += dat[j] * A[(size_t)j * in + i];
            if (p > 0) {
                kept = keep ? (int)bit_at(keep, (size_t)t * in + i)
                            : lr_rng_double(&rng) >= p;
                acc = kept ? acc * keep_scale : 0;
            }
            dxt[i] += acc;
        }
    }
}

void lr_lora_linear_backward_ref(lr_float *dx, lr_float *dA, lr_float *dB,
                                 lr_float *dxa, const lr_float *dy,
                                 const lr_float *xd, const lr_float *xa,
                                 const lr_float *A, const lr_float *B,
                                 double s, int n, int in, int out, int r,
                                 double p, uint64_t seed)
{
    /* y = s * xa B^T with xa = xd A^T, xd = dropout(x):
     *   dB[o][j] += s * sum_t dy[t][o] xa[t][j]
     *   dxa[t][j] = s * sum_o dy[t][o] B[o][j]
     *   dA[j][i] += sum_t dxa[t][j] xd[t][i]
     *   dx[t][i] += mask_scale[t][i] * sum_j dxa[t][j] A[j][i]
     * dy (n, out), xd (n, in), xa/dxa (n, r), A/dA (r, in), B/dB (out, r) */
    const lr_float sf = (lr_float)s;
    int t, o, j, i;
    for (t = 0; t < n; t++) {
        const lr_float *dyt = dy + (size_t)t * out;
        const lr_float *at = xa + (size_t)t * r;
        lr_float *dat = dxa + (size_t)t * r;
        for (j = 0; j < r; j++) dat[j] = 0;
        for (o = 0; o < out; o++) {
            const lr_float g = sf * dyt[o];
            const lr_float *Bo = B + (size_t)o * r;
            lr_float *dBo = dB + (size_t)o * r;
            for (j = 0; j < r; j++) {
                dBo[j] += g * at[j];
                dat[j] += g * Bo[j];
            }
        }
        for (j = 0; j < r; j++) {
            const lr_float g = dat[j];
            const lr_float *xt = xd + (size_t)t * in;
            lr_float *dAj = dA + (size_t)j * in;
            for (i = 0; i < in; i++) dAj[i] += g * xt[i];
        }
    }
    if (dx) dx_ref(dx, dxa, A, n, in, r, p, seed, NULL);
}

#if !VEC_HAVE
/* lr_lora_linear_backward_ref with dx's masks read from keep (without
 * vectors, lr_lora_linear_backward_keep) */
static void backward_ref_keep(lr_float *dx, lr_float *dA, lr_float *dB,
                              lr_float *dxa, const lr_float *dy,
                              const lr_float *xd, const lr_float *xa,
                              const lr_float *A, const lr_float *B, double s,
                              int n, int in, int out, int r, double p,
                              const unsigned char *keep)
{
    lr_lora_linear_backward_ref(NULL, dA, dB, dxa, dy, xd, xa, A, B, s, n, in,
                                out, r, 0, 0);
    if (dx) dx_ref(dx, dxa, A, n, in, r, p, 0, keep);
}
#endif

/* ---- the fast kernels ------------------------------------------------------
 * The definitions above fix every element's summation sequence; these keep
 * it and only put independent outputs side by side in vector lanes (ranks j
 * of xa, outputs o of y, columns i of dA and dx), so they give the same bits
 * (tests/train/test_lora.c compares them with the definitions on odd shapes).
 * Partial sums may wait in the lr_float output arrays between chunks: that
 * stores exactly what the definition's lr_float accumulator holds. */
#define LO_IC 256   /* columns of A transposed per chunk */
#define LO_OC 32    /* outputs of B transposed per chunk (4 x 8 lanes) */
#define LO_RMAX 256 /* largest rank the fast kernels take (stack buffer) */
#define LO_DA_COLS 64 /* columns of dA per parallel task */
#define LO_PF 16    /* rows ahead that the kernels walking one cache line per
                       row (rows a page or more apart) prefetch: 8 and 32
                       were no faster in bench_kernels */

#if VEC_HAVE
/* xa[t][j] = sum_i xd[t][i] A[j][i] (i ascending): lanes over 8 ranks,
 * A transposed chunk by chunk into at[i][8], 8 rows t at a time (8
 * independent sums: with 4, each waited on its previous addition). */
VEC_INLINE void fwd_xa(lr_float *xa, const lr_float *xd, const lr_float *A,
                       int n, int in, int r)
{
    lr_float at[LO_IC * 8], part[8][8];
    int j0, i0, t, i, jj, k;
    for (j0 = 0; j0 < r; j0 += 8) {
        const int nj = r - j0 < 8 ? r - j0 : 8;
        for (i0 = 0; i0 < in; i0 += LO_IC) {
            const int ni = in - i0 < LO_IC ? in - i0 : LO_IC;
            for (i = 0; i < ni; i++)
                for (jj = 0; jj < 8; jj++)
                    at[i * 8 + jj] =
                        jj < nj ? A[(size_t)(j0 + jj) * in + i0 + i] : 0;
            for (t = 0; t < n; t += 8) {
                const int nt = n - t < 8 ? n - t : 8;
                const lr_float *x[8];
                vec8 a0, a1, a2, a3, a4, a5, a6, a7;
                for (k = 0; k < 8; k++) {
                    x[k] = xd + (size_t)(t + (k < nt ? k : 0)) * in + i0;
                    for (jj = 0; jj < 8; jj++)
                        part[k][jj] = i0 > 0 && k < nt && jj < nj
                                          ? xa[(size_t)(t + k) * r + j0 + jj]
                                          : 0;
                }
                a0 = v8_load(part[0]); a1 = v8_load(part[1]);
                a2 = v8_load(part[2]); a3 = v8_load(part[3]);
                a4 = v8_load(part[4]); a5 = v8_load(part[5]);
                a6 = v8_load(part[6]); a7 = v8_load(part[7]);
                for (i = 0; i < ni; i++) {
                    const vec8 w = v8_load(at + i * 8);
                    a0 += v8_splat(x[0][i]) * w;
                    a1 += v8_splat(x[1][i]) * w;
                    a2 += v8_splat(x[2][i]) * w;
                    a3 += v8_splat(x[3][i]) * w;
                    a4 += v8_splat(x[4][i]) * w;
                    a5 += v8_splat(x[5][i]) * w;
                    a6 += v8_splat(x[6][i]) * w;
                    a7 += v8_splat(x[7][i]) * w;
                }
                v8_store(part[0], a0); v8_store(part[1], a1);
                v8_store(part[2], a2); v8_store(part[3], a3);
                v8_store(part[4], a4); v8_store(part[5], a5);
                v8_store(part[6], a6); v8_store(part[7], a7);
                for (k = 0; k < nt; k++)
                    for (jj = 0; jj < nj; jj++)
                        xa[(size_t)(t + k) * r + j0 + jj] = part[k][jj];
            }
        }
    }
}

/* y[t][o] += s * (sum_j xa[t][j] B[o][j]) (j ascending): lanes over 32
 * outputs, B transposed chunk by chunk into bt[j][32]. */
VEC_INLINE void fwd_y(lr_float *y, const lr_float *xa, const lr_float *B,
                      lr_float sf, int n, int out, int r)
{
    lr_float bt[LO_RMAX * LO_OC], acc[LO_OC];
    int o0, j, t, oo;
    for (o0 = 0; o0 < out; o0 += LO_OC) {
        const int no = out - o0 < LO_OC ? out - o0 : LO_OC;
        for (j = 0; j < r; j++)
            for (oo = 0; oo < LO_OC; oo++)
                bt[j * LO_OC + oo] = oo < no ? B[(size_t)(o0 + oo) * r + j] : 0;
        for (t = 0; t < n; t++) {
            const lr_float *at = xa + (size_t)t * r;
            lr_float *yt = y + (size_t)t * out + o0;
            vec8 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
            /* the rows' 128 bytes lie a row apart: prefetched (hardware
             * prefetchers do not cross pages) */
            if (t + LO_PF < n) {
                __builtin_prefetch(yt + (size_t)LO_PF * out, 1);
                if (no > 16) __builtin_prefetch(yt + (size_t)LO_PF * out + 16, 1);
            }
            for (j = 0; j < r; j++) {
                const vec8 g = v8_splat(at[j]);
                const lr_float *b = bt + j * LO_OC;
                c0 += g * v8_load(b);
                c1 += g * v8_load(b + 8);
                c2 += g * v8_load(b + 16);
                c3 += g * v8_load(b + 24);
            }
            if (no == LO_OC) {
                /* the same y + s acc per output, 8 at a time (one at a
                 * time this took longer than the products) */
                const vec8 sv = v8_splat(sf);
                v8_store(yt, v8_load(yt) + sv * c0);
                v8_store(yt + 8, v8_load(yt + 8) + sv * c1);
                v8_store(yt + 16, v8_load(yt + 16) + sv * c2);
                v8_store(yt + 24, v8_load(yt + 24) + sv * c3);
                continue;
            }
            v8_store(acc, c0); v8_store(acc + 8, c1);
            v8_store(acc + 16, c2); v8_store(acc + 24, c3);
            for (oo = 0; oo < no; oo++) yt[oo] += sf * acc[oo];
        }
    }
}

/* dxa[t][j] = sum_o g B[o][j] (o ascending, from zero), g = s dy[t][o]:
 * lanes over 8 ranks, rows t0 .. t0+nt-1 (nt <= 4) together. */
VEC_INLINE void bwd_dxa_rows(lr_float *dxa, const lr_float *dy,
                             const lr_float *B, lr_float sf, int t0, int nt,
                             int out, int r)
{
    const int rv = r - r % 8;
    int j, o, k;
    for (j = 0; j < rv; j += 8) {
        vec8 d[4] = {{0}, {0}, {0}, {0}};
        if (nt == 4) {
            /* four rows in registers (an array indexed by k stays in
             * memory: each sum then waited on a store and a load) */
            const lr_float *g0 = dy + (size_t)t0 * out, *g1 = g0 + out;
            const lr_float *g2 = g1 + out, *g3 = g2 + out;
            vec8 d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3];
            for (o = 0; o < out; o++) {
                const vec8 b = v8_load(B + (size_t)o * r + j);
                d0 += v8_splat(sf * g0[o]) * b;
                d1 += v8_splat(sf * g1[o]) * b;
                d2 += v8_splat(sf * g2[o]) * b;
                d3 += v8_splat(sf * g3[o]) * b;
            }
            d[0] = d0; d[1] = d1; d[2] = d2; d[3] = d3;
        } else {
            for (o = 0; o < out; o++) {
                const vec8 b = v8_load(B + (size_t)o * r + j);
                for (k = 0; k < nt; k++)
                    d[k] += v8_splat(sf * dy[(size_t)(t0 + k) * out + o]) * b;
            }
        }
        for (k = 0; k < nt; k++) v8_store(dxa + (size_t)(t0 + k) * r + j, d[k]);
    }
    for (k = 0; k < nt; k++)
        for (j = rv; j < r; j++) {
            lr_float a = 0;
            for (o = 0; o < out; o++)
                a += sf * dy[(size_t)(t0 + k) * out + o] * B[(size_t)o * r + j];
            dxa[(size_t)(t0 + k) * r + j] = a;
        }
}

/* dB[o][j] += g xa[t][j] (t ascending), g = s dy[t][o]: lanes over 8
 * ranks, rows o0 .. o0+no-1 of dB (no <= 4) together. */
VEC_INLINE void bwd_dB_rows(lr_float *dB, const lr_float *dy,
                            const lr_float *xa, lr_float sf, int o0, int no,
                            int n, int out, int r)
{
    const int rv = r - r % 8;
    int j, t, q;
    for (j = 0; j < rv; j += 8) {
        vec8 db[4];
        for (q = 0; q < no; q++) db[q] = v8_load(dB + (size_t)(o0 + q) * r + j);
        for (t = 0; t < n; t++) {
            const vec8 x = v8_load(xa + (size_t)t * r + j);
            const lr_float *g = dy + (size_t)t * out + o0;
            for (q = 0; q < no; q++) db[q] += v8_splat(sf * g[q]) * x;
        }
        for (q = 0; q < no; q++) v8_store(dB + (size_t)(o0 + q) * r + j, db[q]);
    }
    for (q = 0; q < no && rv < r; q++)
        for (t = 0; t < n; t++) {
            const lr_float g = sf * dy[(size_t)t * out + o0 + q];
            for (j = rv; j < r; j++)
                dB[(size_t)(o0 + q) * r + j] += g * xa[(size_t)t * r + j];
        }
}

/* The same sums for 16 rows o0 .. o0+15 of dB with lanes over those rows
 * (the AVX-512 clone: 8 accumulators of 16 lanes), 8 ranks at a time: the row's
 * g = s dy[t][o] for the 16 outputs is one vector product, used for the 8
 * ranks (xa[t][j] broadcast; AVX-512 takes it inside the multiply), where
 * bwd_dB_rows forms each g and broadcasts it on its own.  The ranks past
 * the last 8 follow as in bwd_dB_rows. */
VEC_INLINE void bwd_dB_lanes(lr_float *dB, const lr_float *dy,
                             const lr_float *xa, lr_float sf, int o0, int n,
                             int out, int r)
{
    const int rv = r - r % 8;
    const vec16 sv = v16_splat(sf);
    lr_float tr[8][16];
    int j, t, q, k;
    for (j = 0; j < rv; j += 8) {
        vec16 a0, a1, a2, a3, a4, a5, a6, a7;
        for (k = 0; k < 8; k++)
            for (q = 0; q < 16; q++) tr[k][q] = dB[(size_t)(o0 + q) * r + j + k];
        a0 = v16_load(tr[0]); a1 = v16_load(tr[1]);
        a2 = v16_load(tr[2]); a3 = v16_load(tr[3]);
        a4 = v16_load(tr[4]); a5 = v16_load(tr[5]);
        a6 = v16_load(tr[6]); a7 = v16_load(tr[7]);
        for (t = 0; t < n; t++) {
            const vec16 g = v16_load(dy + (size_t)t * out + o0) * sv;
            const lr_float *x = xa + (size_t)t * r + j;
            /* one cache line per row, rows 4 kB or more apart: hardware
             * prefetchers do not cross pages */
            if (t + LO_PF < n) __builtin_prefetch(dy + (size_t)(t + LO_PF) * out + o0);
            a0 += g * v16_splat(x[0]); a1 += g * v16_splat(x[1]);
            a2 += g * v16_splat(x[2]); a3 += g * v16_splat(x[3]);
            a4 += g * v16_splat(x[4]); a5 += g * v16_splat(x[5]);
            a6 += g * v16_splat(x[6]); a7 += g * v16_splat(x[7]);
        }
        v16_store(tr[0], a0); v16_store(tr[1], a1);
        v16_store(tr[2], a2); v16_store(tr[3], a3);
        v16_store(tr[4], a4); v16_store(tr[5], a5);
        v16_store(tr[6], a6); v16_store(tr[7], a7);
        for (k = 0; k < 8; k++)
            for (q = 0; q < 16; q++) dB[(size_t)(o0 + q) * r + j + k] = tr[k][q];
    }
    for (q = 0; q < 16 && rv < r; q++)
        for (t = 0; t < n; t++) {
            const lr_float g = sf * dy[(size_t)t * out + o0 + q];
            for (j = rv; j < r; j++)
                dB[(size_t)(o0 + q) * r + j] += g * xa[(size_t)t * r + j];
        }
}

/* dA[j][i] += dxa[t][j] xd[t][i] (t ascending), columns c0 .. c1-1 of
 * every rank: lanes over 16 columns in the AVX-512 clone (wide; 8
 * elsewhere: AVX2's 16 registers have 32 bytes, NEON's 32 have 16), 8
 * ranks at a time in 8 accumulators, so each
 * row of xd is read once for all the ranks (dxa[t][j] broadcast; AVX-512
 * takes it inside the multiply), rows a page apart prefetched; the ranks
 * past the last 8, then the last columns, one at a time. */
VEC_INLINE void bwd_dA(lr_float *dA, const lr_float *dxa, const lr_float *xd,
                       int c0, int c1, int n, int in, int r, int wide)
{
    const int rv = r - r % 8, w = wide ? 16 : 8;
    int i = c0, j, t;
    for (; i + w <= c1; i += w)
        for (j = 0; j < rv; j += 8) {
            lr_float *d = dA + (size_t)j * in + i;
            const size_t rs = (size_t)in;
            if (!wide) {
                vec8 a0 = v8_load(d), a1 = v8_load(d + rs);
                vec8 a2 = v8_load(d + 2 * rs), a3 = v8_load(d + 3 * rs);
                vec8 a4 = v8_load(d + 4 * rs), a5 = v8_load(d + 5 * rs);
                vec8 a6 = v8_load(d + 6 * rs), a7 = v8_load(d + 7 * rs);
                for (t = 0; t < n; t++) {
                    const vec8 x = v8_load(xd + (size_t)t * in + i);
                    const lr_float *g = dxa + (size_t)t * r + j;
                    if (t + LO_PF < n) __builtin_prefetch(xd + (size_t)(t + LO_PF) * in + i);
                    a0 += v8_splat(g[0]) * x; a1 += v8_splat(g[1]) * x;
                    a2 += v8_splat(g[2]) * x; a3 += v8_splat(g[3]) * x;
                    a4 += v8_splat(g[4]) * x; a5 += v8_splat(g[5]) * x;
                    a6 += v8_splat(g[6]) * x; a7 += v8_splat(g[7]) * x;
                }
                v8_store(d, a0); v8_store(d + rs, a1);
                v8_store(d + 2 * rs, a2); v8_store(d + 3 * rs, a3);
                v8_store(d + 4 * rs, a4); v8_store(d + 5 * rs, a5);
                v8_store(d + 6 * rs, a6); v8_store(d + 7 * rs, a7);
            } else {
                vec16 a0 = v16_load(d), a1 = v16_load(d + rs);
                vec16 a2 = v16_load(d + 2 * rs), a3 = v16_load(d + 3 * rs);
                vec16 a4 = v16_load(d + 4 * rs), a5 = v16_load(d + 5 * rs);
                vec16 a6 = v16_load(d + 6 * rs), a7 = v16_load(d + 7 * rs);
                for (t = 0; t < n; t++) {
                    const vec16 x = v16_load(xd + (size_t)t * in + i);
                    const lr_float *g = dxa + (size_t)t * r + j;
                    if (t + LO_PF < n) __builtin_prefetch(xd + (size_t)(t + LO_PF) * in + i);
                    a0 += v16_splat(g[0]) * x; a1 += v16_splat(g[1]) * x;
                    a2 += v16_splat(g[2]) * x; a3 += v16_splat(g[3]) * x;
                    a4 += v16_splat(g[4]) * x; a5 += v16_splat(g[5]) * x;
                    a6 += v16_splat(g[6]) * x; a7 += v16_splat(g[7]) * x;
                }
                v16_store(d, a0); v16_store(d + rs, a1);
                v16_store(d + 2 * rs, a2); v16_store(d + 3 * rs, a3);
                v16_store(d + 4 * rs, a4); v16_store(d + 5 * rs, a5);
                v16_store(d + 6 * rs, a6); v16_store(d + 7 * rs, a7);
            }
        }
    /* the ranks past the last 8 over the vector columns, then the last
     * columns of every rank: one at a time, t ascending */
    for (j = rv; j < r; j++)
        for (t = 0; t < n; t++) {
            const lr_float g = dxa[(size_t)t * r + j];
            int c;
            for (c = c0; c < i; c++) dA[(size_t)j * in + c] += g * xd[(size_t)t * in + c];
        }
    for (j = 0; j < r && i < c1; j++)
        for (t = 0; t < n; t++) {
            const lr_float g = dxa[(size_t)t * r + j];
            int c;
            for (c = i; c < c1; c++) dA[(size_t)j * in + c] += g * xd[(size_t)t * in + c];
        }
}

/* dx[t][i] += mask(sum_j dxa[t][j] A[j][i]) (j ascending), the mask
 * read from keep (its bits from e0 on) or, keep NULL, drawn from seed in
 * the definition's order (t, then i ascending): lanes over 64 columns
 * (narrow: the AVX2 clones, 8 vectors of 8 lanes). */
VEC_INLINE void bwd_dx(lr_float *dx, const lr_float *dxa, const lr_float *A,
                       int n, int in, int r, double p, uint64_t seed,
                       const unsigned char *keep, size_t e0, int narrow)
{
    const lr_float keep_scale = (lr_float)(1.0 / (1.0 - p));
    lr_float acc[64];
    unsigned char drawn[8];
    uint64_t state = seed;
    int t, i0, i, j;
    for (t = 0; t < n; t++) {
        const lr_float *dat = dxa + (size_t)t * r;
        lr_float *dxt = dx + (size_t)t * in;
        for (i0 = 0; i0 < in; i0 += 64) {
            const int ni = in - i0 < 64 ? in - i0 : 64;
            if (ni == 64 && narrow) {
                vec8 c[8];
                int m;
                for (m = 0; m < 8; m++) c[m] = v8_splat(0);
                for (j = 0; j < r; j++) {
                    const vec8 g = v8_splat(dat[j]);
                    const lr_float *a = A + (size_t)j * in + i0;
                    c[0] += g * v8_load(a);      c[1] += g * v8_load(a + 8);
                    c[2] += g * v8_load(a + 16); c[3] += g * v8_load(a + 24);
                    c[4] += g * v8_load(a + 32); c[5] += g * v8_load(a + 40);
                    c[6] += g * v8_load(a + 48); c[7] += g * v8_load(a + 56);
                }
                for (m = 0; m < 8; m++) v8_store(acc + 8 * m, c[m]);
            } else if (ni == 64) {
                vec16 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
                for (j = 0; j < r; j++) {
                    const vec16 g = v16_splat(dat[j]);
                    const lr_float *a = A + (size_t)j * in + i0;
                    c0 += g * v16_load(a);
                    c1 += g * v16_load(a + 16);
                    c2 += g * v16_load(a + 32);
                    c3 += g * v16_load(a + 48);
                }
                v16_store(acc, c0); v16_store(acc + 16, c1);
                v16_store(acc + 32, c2); v16_store(acc + 48, c3);
            } else {
                for (i = 0; i < ni; i++) {
                    lr_float s = 0;
                    for (j = 0; j < r; j++)
                        s += dat[j] * A[(size_t)j * in + i0 + i];
                    acc[i] = s;
                }
            }
            if (p > 0 && keep) {
                keep_apply(dxt + i0, acc, keep,
                           e0 + (size_t)t * in + (size_t)i0, (size_t)ni,
                           keep_scale, 1);
            } else if (p > 0) {
                state = keep_bits(drawn, (size_t)ni, p, state);
                keep_apply(dxt + i0, acc, drawn, 0, (size_t)ni, keep_scale, 1);
            } else {
                for (i = 0; i < ni; i++) dxt[i0 + i] += acc[i];
            }
        }
    }
}

VEC_INLINE void lora_fwd_body(lr_float *y, lr_float *xa, const lr_float *xd,
                              const lr_float *A, const lr_float *B, double s,
                              int n, int in, int out, int r)
{
    fwd_xa(xa, xd, A, n, in, r);
    fwd_y(y, xa, B, (lr_float)s, n, out, r);
}

/* The backward's parts, each over independent outputs (so threads share
 * them): dxa for rows t0 .. t0+nt-1, dB for its rows o0 .. o0+no-1, dA
 * for ranks j0 .. j1-1 (each sums over all rows t in ascending order). */
VEC_INLINE void lora_dxa_body(lr_float *dxa, const lr_float *dy,
                              const lr_float *B, double s, int t0, int nt,
                              int out, int r)
{
    int t;
    for (t = t0; t < t0 + nt; t += 4)
        bwd_dxa_rows(dxa, dy, B, (lr_float)s, t, t0 + nt - t < 4 ? t0 + nt - t : 4,
                     out, r);
}

VEC_INLINE void lora_dB_body(lr_float *dB, const lr_float *dy,
                             const lr_float *xa, double s, int o0, int no,
                             int n, int out, int r, int wide)
{
    int o = o0;
    if (wide)
        for (; o + 16 <= o0 + no; o += 16)
            bwd_dB_lanes(dB, dy, xa, (lr_float)s, o, n, out, r);
    for (; o < o0 + no; o += 4)
        bwd_dB_rows(dB, dy, xa, (lr_float)s, o, o0 + no - o < 4 ? o0 + no - o : 4,
                    n, out, r);
}

#define LORA_FWD_ARGS lr_float *y, lr_float *xa, const lr_float *xd, \
    const lr_float *A, const lr_float *B, double s, int n, int in, int out, int r
#define LORA_DXA_ARGS lr_float *dxa, const lr_float *dy, const lr_float *B, \
    double s, int t0, int nt, int out, int r
#define LORA_DB_ARGS lr_float *dB, const lr_float *dy, const lr_float *xa, \
    double s, int o0, int no, int n, int out, int r
#define LORA_DA_ARGS lr_float *dA, const lr_float *dxa, const lr_float *xd, \
    int c0, int c1, int n, int in, int r
#define LORA_DX_ARGS lr_float *dx, const lr_float *dxa, const lr_float *A, \
    int n, int in, int r, double p, uint64_t seed, const unsigned char *keep, \
    size_t e0

/* The kernels per instruction set (narrow: the AVX2 clones' paths; wide:
 * the AVX-512 clone's 16-lane, 8-accumulator dB and dA). */
#define LORA_CLONES(isa, target, narrow, wide)                                \
    target static void lora_fwd_##isa(LORA_FWD_ARGS)                          \
    {                                                                         \
        lora_fwd_body(y, xa, xd, A, B, s, n, in, out, r);                     \
    }                                                                         \
    target static void lora_dxa_##isa(LORA_DXA_ARGS)                          \
    {                                                                         \
        lora_dxa_body(dxa, dy, B, s, t0, nt, out, r);                         \
    }                                                                         \
    target static void lora_dB_##isa(LORA_DB_ARGS)                            \
    {                                                                         \
        lora_dB_body(dB, dy, xa, s, o0, no, n, out, r, wide);                 \
    }                                                                         \
    target static void lora_dA_##isa(LORA_DA_ARGS)                            \
    {                                                                         \
        bwd_dA(dA, dxa, xd, c0, c1, n, in, r, wide);                          \
    }                                                                         \
    target static void lora_dx_##isa(LORA_DX_ARGS)                            \
    {                                                                         \
        bwd_dx(dx, dxa, A, n, in, r, p, seed, keep, e0, narrow);             \
    }

LORA_CLONES(generic, , 0, 0)
#if VEC_X86_DISPATCH
LORA_CLONES(avx512, __attribute__((target("avx512f"))), 0, 1)
LORA_CLONES(avx2, __attribute__((target("avx2"))), 1, 0)
#endif

/* One instruction set's kernels. */
typedef struct lora_kernels {
    void (*fwd)(LORA_FWD_ARGS);
    void (*dxa)(LORA_DXA_ARGS);
    void (*dB)(LORA_DB_ARGS);
    void (*dA)(LORA_DA_ARGS);
    void (*dx)(LORA_DX_ARGS);
} lora_kernels;

#define LORA_KERNELS(isa)                                                     \
    { lora_fwd_##isa, lora_dxa_##isa, lora_dB_##isa, lora_dA_##isa,           \
      lora_dx_##isa }

static const lora_kernels *pick_lora(void)
{
    static const lora_kernels generic = LORA_KERNELS(generic);
#if VEC_X86_DISPATCH
    static const lora_kernels avx512 = LORA_KERNELS(avx512);
    static const lora_kernels avx2 = LORA_KERNELS(avx2);
    if (__builtin_cpu_supports("avx512f")) return &avx512;
    if (__builtin_cpu_supports("avx2")) return &avx2;
#endif
    return &generic;
}
#endif /* VEC_HAVE */

/* Rows per parallel task of the row-wise kernels (the forward, dx). */
#define LO_ROWS 16

#if VEC_HAVE
/* The forward's rows per task: each task transposes A and B again (16
 * rows at in = out = 64 spent more on that than on the products), so
 * about a quarter of each thread's share, at least LO_ROWS. */
static int fwd_rows_per_task(int n)
{
#ifdef LR_OMP
    const int th = omp_get_max_threads();
#else
    const int th = 1;
#endif
    const int q = (n + 4 * th - 1) / (4 * th);
    return q > LO_ROWS ? (q + 7) / 8 * 8 : LO_ROWS;
}
#endif

void lr_lora_linear_forward(lr_float *y, lr_float *xa, const lr_float *xd,
                            const lr_float *A, const lr_float *B, double s,
                            int n, int in, int out, int r)
{
#if VEC_HAVE
    if (r <= LO_RMAX) {
        /* rows are independent: tasks of LO_ROWS rows */
        const lora_kernels *K = pick_lora();
        const int rows = fwd_rows_per_task(n);
        int t0;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) \
    if ((double)n * (in + out) * r >= LO_PAR_MIN)
#endif
        for (t0 = 0; t0 < n; t0 += rows) {
            const int nt = n - t0 < rows ? n - t0 : rows;
            K->fwd(y + (size_t)t0 * out, xa + (size_t)t0 * r,
                   xd + (size_t)t0 * in, A, B, s, nt, in, out, r);
        }
        return;
    }
#endif
    lr_lora_linear_forward_ref(y, xa, xd, A, B, s, n, in, out, r);
}

#if VEC_HAVE
/* The backward's kernels; dx's masks from keep, or drawn from seed when
 * keep is NULL. */
static void backward_fast(lr_float *dx, lr_float *dA, lr_float *dB,
                          lr_float *dxa, const lr_float *dy, const lr_float *xd,
                          const lr_float *xa, const lr_float *A,
                          const lr_float *B, double s, int n, int in, int out,
                          int r, double p, uint64_t seed,
                          const unsigned char *keep)
{
    const lora_kernels *K = pick_lora();
    int t0, o0, j;
    /* dxa first (rows t are independent); then dB (rows o), dA (ranks j)
     * and dx (rows t, whose masks start at element t in: bit t in of keep,
     * or the draw after seed + t in G, the draws being a counter) share
     * the threads: every output's sum keeps its order, for any thread
     * count */
#ifdef LR_OMP
#pragma omp parallel if ((double)n * (in + out) * r >= LO_PAR_MIN)
#endif
    {
#ifdef LR_OMP
#pragma omp for schedule(static)
#endif
        for (t0 = 0; t0 < n; t0 += LO_ROWS)
            K->dxa(dxa, dy, B, s, t0, n - t0 < LO_ROWS ? n - t0 : LO_ROWS, out,
                   r);
#ifdef LR_OMP
#pragma omp for schedule(static) nowait
#endif
        for (o0 = 0; o0 < out; o0 += LO_ROWS)
            K->dB(dB, dy, xa, s, o0, out - o0 < LO_ROWS ? out - o0 : LO_ROWS, n,
                  out, r);
#ifdef LR_OMP
#pragma omp for schedule(static) nowait
#endif
        for (j = 0; j < in; j += LO_DA_COLS)
            K->dA(dA, dxa, xd, j, in - j < LO_DA_COLS ? in : j + LO_DA_COLS, n, in, r);
#ifdef LR_OMP
#pragma omp for schedule(static) nowait
#endif
        for (t0 = 0; t0 < (dx ? n : 0); t0 += LO_ROWS)
            K->dx(dx + (size_t)t0 * in, dxa + (size_t)t0 * r, A,
                  n - t0 < LO_ROWS ? n - t0 : LO_ROWS, in, r, p,
                  seed + (uint64_t)t0 * (uint64_t)in * DROP_G, keep,
                  (size_t)t0 * in);
    }
}
#endif

void lr_lora_linear_backward(lr_float *dx, lr_float *dA, lr_float *dB,
                             lr_float *dxa, const lr_float *dy,
                             const lr_float *xd, const lr_float *xa,
                             const lr_float *A, const lr_float *B, double s,
                             int n, int in, int out, int r, double p,
                             uint64_t seed)
{
#if VEC_HAVE
    backward_fast(dx, dA, dB, dxa, dy, xd, xa, A, B, s, n, in, out, r, p, seed,
                  NULL);
#else
    lr_lora_linear_backward_ref(dx, dA, dB, dxa, dy, xd, xa, A, B, s, n, in,
                                out, r, p, seed);
#endif
}

void lr_lora_linear_backward_keep(lr_float *dx, lr_float *dA, lr_float *dB,
                                  lr_float *dxa, const lr_float *dy,
                                  const lr_float *xd, const lr_float *xa,
                                  const lr_float *A, const lr_float *B,
                                  double s, int n, int in, int out, int r,
                                  double p, const unsigned char *keep)
{
#if VEC_HAVE
    backward_fast(dx, dA, dB, dxa, dy, xd, xa, A, B, s, n, in, out, r, p, 0,
                  keep);
#else
    backward_ref_keep(dx, dA, dB, dxa, dy, xd, xa, A, B, s, n, in, out, r, p,
                      keep);
#endif
}
