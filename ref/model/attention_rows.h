/* attention_rows.h - the row kernels of attention.c, which includes it
 * once (internal to ref/model, not installed): a query's dot products with
 * the keys (key_dots, or key_dots_t on keys transposed by transpose_keys),
 * weighted sums of value or key rows (weighted_rows), the backward's
 * updates of dk and dv row by row (row_axpy), by blocks of query rows
 * (rows_axpy) or transposed (cols_axpy, ds_row, untranspose).  Each
 * element gets the definition's products and sums in the definition's
 * order (attention_ref.c); the vector forms only put independent sums side
 * by side.  narrow: 8-lane vectors only (the AVX2 clones).
 * Depends on: core/exp_internal.h (exp_d4, exp_narrow4), core/vec_internal.h
 * (the vector types). */
#ifndef LLAMAREF_ATTENTION_ROWS_H
#define LLAMAREF_ATTENTION_ROWS_H

#include <string.h>

#include "core/exp_internal.h"
#include "core/vec_internal.h"
/* dot[j] = sum over d ascending of q[d] k_j[d] in lr_float, for keys
 * j < nk (rows of k kvdim apart); 8 keys at a time for the latency. */
VEC_INLINE void key_dots(lr_float *dot, const lr_float *q, const lr_float *k,
                         size_t kvdim, int hd, int nk)
{
    int j = 0, d;
    for (; j + 8 <= nk; j += 8) {
        const lr_float *k0 = k + (size_t)j * kvdim;
        lr_float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        for (d = 0; d < hd; d++) {
            const lr_float qd = q[d];
            s0 += qd * k0[d];
            s1 += qd * k0[kvdim + d];
            s2 += qd * k0[2 * kvdim + d];
            s3 += qd * k0[3 * kvdim + d];
            s4 += qd * k0[4 * kvdim + d];
            s5 += qd * k0[5 * kvdim + d];
            s6 += qd * k0[6 * kvdim + d];
            s7 += qd * k0[7 * kvdim + d];
        }
        dot[j] = s0; dot[j + 1] = s1; dot[j + 2] = s2; dot[j + 3] = s3;
        dot[j + 4] = s4; dot[j + 5] = s5; dot[j + 6] = s6; dot[j + 7] = s7;
    }
    for (; j < nk; j++) {
        const lr_float *kj = k + (size_t)j * kvdim;
        lr_float s = 0;
        for (d = 0; d < hd; d++) s += q[d] * kj[d];
        dot[j] = s;
    }
}

#if VEC_HAVE
/* Keys side by side: kt[d * ld + j] = k_j[d] for j < nk (zero up to ld, a
 * multiple of KT_BLOCK), copied from rows kvdim apart. */
#define KT_BLOCK 32
VEC_INLINE void transpose_keys(lr_float *kt, const lr_float *k, size_t kvdim,
                               int hd, int nk, int ld)
{
    int j, d;
    for (j = 0; j < nk; j++)
        for (d = 0; d < hd; d++)
            kt[(size_t)d * ld + j] = k[(size_t)j * kvdim + d];
    for (d = 0; d < hd; d++)
        for (j = nk; j < ld; j++) kt[(size_t)d * ld + j] = 0;
}

/* key_dots on transposed keys (kt, ld from transpose_keys): lane j of a
 * vector is key j's sum over d ascending, from 0, so each dot is
 * key_dots' (one scalar chain per key, 8 keys side by side, took a sixth
 * of a stories260K step at head_dim 8); KT_BLOCK keys per pass, padding
 * lanes computed and dropped.  narrow: 8-lane vectors (AVX2 clones). */
VEC_INLINE void key_dots_t(lr_float *dot, const lr_float *q,
                           const lr_float *kt, int ld, int hd, int nk,
                           int narrow)
{
    lr_float blk[KT_BLOCK];
    int j, d;
    for (j = 0; j < nk; j += KT_BLOCK) {
        const lr_float *kj = kt + j;
        lr_float *o = j + KT_BLOCK <= nk ? dot + j : blk;
        if (narrow) {
            vec8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
            for (d = 0; d < hd; d++, kj += ld) {
                const vec8 qd = v8_splat(q[d]);
                s0 += qd * v8_load(kj);
                s1 += qd * v8_load(kj + 8);
                s2 += qd * v8_load(kj + 16);
                s3 += qd * v8_load(kj + 24);
            }
            v8_store(o, s0); v8_store(o + 8, s1);
            v8_store(o + 16, s2); v8_store(o + 24, s3);
        } else {
            vec16 s0 = {0}, s1 = {0};
            for (d = 0; d < hd; d++, kj += ld) {
                const vec16 qd = v16_splat(q[d]);
                s0 += qd * v16_load(kj);
                s1 += qd * v16_load(kj + 16);
            }
            v16_store(o, s0); v16_store(o + 16, s1);
        }
        if (o == blk) memcpy(dot + j, blk, sizeof *dot * (size_t)(nk - j));
    }
}

/* yt[d * ld + j] += w[j] x[d] for d < hd, j < nk with m[j] != 0 (other
 * lanes keep their value, as row_axpy skips those keys): row_axpy of
 * every key at once on transposed rows, lanes over keys (ld, and w and m
 * zero-padded, to a multiple of 16).  For head sizes under 16, where a
 * row of 8 filled half a vector. */
VEC_INLINE void cols_axpy(lr_float *yt, int ld, const lr_float *w,
                          const lr_float *m, const lr_float *x, int hd,
                          int nk, int narrow)
{
#ifdef LR_DOUBLE
    typedef long long lane;
#else
    typedef int lane;
#endif
    typedef lane vi16 __attribute__((vector_size(16 * sizeof(lane))));
    typedef lane vi8 __attribute__((vector_size(8 * sizeof(lane))));
    int j, d;
    for (j = 0; j < nk; j += 16) {
        lr_float *y = yt + j;
        if (narrow) {
            const vec8 zero = {0};
            const vec8 w0 = v8_load(w + j), w1 = v8_load(w + j + 8);
            const vi8 m0 = (vi8)(v8_load(m + j) != zero);
            const vi8 m1 = (vi8)(v8_load(m + j + 8) != zero);
            for (d = 0; d < hd; d++, y += ld) {
                const vec8 xd = v8_splat(x[d]);
                const vec8 y0 = v8_load(y), y1 = v8_load(y + 8);
                v8_store(y, (vec8)(((vi8)(y0 + w0 * xd) & m0) |
                                   ((vi8)y0 & ~m0)));
                v8_store(y + 8, (vec8)(((vi8)(y1 + w1 * xd) & m1) |
                                       ((vi8)y1 & ~m1)));
            }
        } else {
            const vec16 zero = {0};
            const vec16 w0 = v16_load(w + j);
            const vi16 m0 = (vi16)(v16_load(m + j) != zero);
            for (d = 0; d < hd; d++, y += ld) {
                const vec16 y0 = v16_load(y);
                v16_store(y, (vec16)(((vi16)(y0 + w0 * v16_splat(x[d])) & m0) |
                                     ((vi16)y0 & ~m0)));
            }
        }
    }
}

/* ds[j] = (lr_float)(p[j] ((double)dp[j] - rowdot) scale) where p[j] != 0,
 * else 0, for j < n16 (p zero from nk on): the row kernel's dS, 4 at a
 * time in double. */
VEC_INLINE void ds_row(lr_float *ds, const lr_float *p, const lr_float *dp,
                       double rowdot, double scale, int nk, int n16)
{
    const exp_d4 rv = {rowdot, rowdot, rowdot, rowdot};
    const exp_d4 sv = {scale, scale, scale, scale};
    const exp_d4 zero = {0, 0, 0, 0};
    int j = 0;
    for (; j + 4 <= nk; j += 4) {
        vec4 pv, gv;
        exp_d4 pd, e;
        memcpy(&pv, p + j, sizeof pv);
        memcpy(&gv, dp + j, sizeof gv);
        pd = __builtin_convertvector(pv, exp_d4);
        e = pd * (__builtin_convertvector(gv, exp_d4) - rv) * sv;
        /* a key with p 0 gets 0 (its dp may be anything) */
        e = (exp_d4)((exp_l4)e & (pd != zero));
        pv = exp_narrow4(e);
        memcpy(ds + j, &pv, sizeof pv);
    }
    for (; j < nk; j++)
        ds[j] = p[j] == 0 ? 0
                : (lr_float)(p[j] * ((double)dp[j] - rowdot) * scale);
    for (; j < n16; j++) ds[j] = 0;
}

/* rows kvdim apart: k_j[d] = kt[d * ld + j] for j < nk, d < hd (the
 * inverse of transpose_keys) */
VEC_INLINE void untranspose(lr_float *k, const lr_float *kt, size_t kvdim,
                            int hd, int nk, int ld)
{
    int j, d;
    for (j = 0; j < nk; j++)
        for (d = 0; d < hd; d++)
            k[(size_t)j * kvdim + d] = kt[(size_t)d * ld + j];
}
#endif

/* o[d] = sum over keys j < nk ascending with pr[j] != 0 of w[j] v_j[d]
 * (rows of v kvdim apart), starting from 0, for d < hd.  narrow (the AVX2
 * clones: GCC keeps a 64-byte vec16 in memory where registers have 32
 * bytes): 8-lane vectors only, 4 side by side; the same sums per d. */
VEC_INLINE void weighted_rows(lr_float *o, const lr_float *w,
                              const lr_float *pr, const lr_float *v,
                              size_t kvdim, int hd, int nk, int narrow)
{
    int d = 0, j;
    (void)narrow; /* unused without vectors */
#if VEC_HAVE
    for (; narrow && d + 32 <= hd; d += 32) {
        vec8 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
        for (j = 0; j < nk; j++) {
            const lr_float *vj = v + (size_t)j * kvdim + d;
            vec8 g;
            if (pr[j] == 0) continue;
            g = v8_splat(w[j]);
            c0 += g * v8_load(vj);
            c1 += g * v8_load(vj + 8);
            c2 += g * v8_load(vj + 16);
            c3 += g * v8_load(vj + 24);
        }
        v8_store(o + d, c0); v8_store(o + d + 8, c1);
        v8_store(o + d + 16, c2); v8_store(o + d + 24, c3);
    }
    for (; !narrow && d + 64 <= hd; d += 64) {
        vec16 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
        for (j = 0; j < nk; j++) {
            const lr_float *vj = v + (size_t)j * kvdim + d;
            vec16 g;
            if (pr[j] == 0) continue;
            g = v16_splat(w[j]);
            c0 += g * v16_load(vj);
            c1 += g * v16_load(vj + 16);
            c2 += g * v16_load(vj + 32);
            c3 += g * v16_load(vj + 48);
        }
        v16_store(o + d, c0); v16_store(o + d + 16, c1);
        v16_store(o + d + 32, c2); v16_store(o + d + 48, c3);
    }
    for (; !narrow && d + 16 <= hd; d += 16) {
        vec16 c0 = {0};
        for (j = 0; j < nk; j++)
            if (pr[j] != 0)
                c0 += v16_splat(w[j]) * v16_load(v + (size_t)j * kvdim + d);
        v16_store(o + d, c0);
    }
    for (; d + 8 <= hd; d += 8) {
        vec8 c0 = {0};
        for (j = 0; j < nk; j++)
            if (pr[j] != 0)
                c0 += v8_splat(w[j]) * v8_load(v + (size_t)j * kvdim + d);
        v8_store(o + d, c0);
    }
#endif
    for (; d < hd; d++) {
        lr_float s = 0;
        for (j = 0; j < nk; j++)
            if (pr[j] != 0) s += w[j] * v[(size_t)j * kvdim + d];
        o[d] = s;
    }
}

/* y[d] += a x[d] for d < hd (narrow: as in weighted_rows). */
VEC_INLINE void row_axpy(lr_float *y, lr_float a, const lr_float *x, int hd,
                         int narrow)
{
    int d = 0;
    (void)narrow;
#if VEC_HAVE
    for (; !narrow && d + 16 <= hd; d += 16)
        v16_store(y + d, v16_load(y + d) + v16_splat(a) * v16_load(x + d));
    for (; d + 8 <= hd; d += 8)
        v8_store(y + d, v8_load(y + d) + v8_splat(a) * v8_load(x + d));
#endif
    for (; d < hd; d++) y[d] += a * x[d];
}

#if VEC_HAVE
/* Query rows per block in the backward's dk and dv updates (rows_axpy). */
#define RB 4

/* y_j[d] += w_r[j] x_r[d] for rows r < nr in turn, skipping the rows with
 * j >= nk_r or m_r[j] == 0, for keys j (rows of y kvdim apart) up to the
 * largest nk_r and d < hd: row_axpy
 * of nr query rows merged, so each y_j is loaded and stored once per block
 * instead of once per row.  Each element gets the same products and
 * additions in the same order (rows ascending), so the same bits.  narrow:
 * as in weighted_rows. */
VEC_INLINE void rows_axpy(lr_float *y, size_t kvdim,
                          const lr_float *const *w, const lr_float *const *m,
                          const lr_float *const *x, const int *nk, int nr,
                          int hd, int narrow)
{
    int j, d, r, nmax = 0;
    for (r = 0; r < nr; r++) nmax = nk[r] > nmax ? nk[r] : nmax;
    for (j = 0; j < nmax; j++) {
        lr_float *yj = y + (size_t)j * kvdim;
        d = 0;
        for (; !narrow && d + 64 <= hd; d += 64) {
            vec16 c0 = v16_load(yj + d), c1 = v16_load(yj + d + 16);
            vec16 c2 = v16_load(yj + d + 32), c3 = v16_load(yj + d + 48);
            for (r = 0; r < nr; r++) {
                const lr_float *xr = x[r] + d;
                vec16 g;
                if (j >= nk[r] || m[r][j] == 0) continue;
                g = v16_splat(w[r][j]);
                c0 = c0 + g * v16_load(xr);
                c1 = c1 + g * v16_load(xr + 16);
                c2 = c2 + g * v16_load(xr + 32);
                c3 = c3 + g * v16_load(xr + 48);
            }
            v16_store(yj + d, c0); v16_store(yj + d + 16, c1);
            v16_store(yj + d + 32, c2); v16_store(yj + d + 48, c3);
        }
        for (; !narrow && d + 32 <= hd; d += 32) {
            vec16 c0 = v16_load(yj + d), c1 = v16_load(yj + d + 16);
            for (r = 0; r < nr; r++) {
                vec16 g;
                if (j >= nk[r] || m[r][j] == 0) continue;
                g = v16_splat(w[r][j]);
                c0 = c0 + g * v16_load(x[r] + d);
                c1 = c1 + g * v16_load(x[r] + d + 16);
            }
            v16_store(yj + d, c0); v16_store(yj + d + 16, c1);
        }
        for (; !narrow && d + 16 <= hd; d += 16) {
            vec16 c0 = v16_load(yj + d);
            for (r = 0; r < nr; r++)
                if (j < nk[r] && m[r][j] != 0)
                    c0 = c0 + v16_splat(w[r][j]) * v16_load(x[r] + d);
            v16_store(yj + d, c0);
        }
        for (; narrow && d + 32 <= hd; d += 32) {
            vec8 c0 = v8_load(yj + d), c1 = v8_load(yj + d + 8);
            vec8 c2 = v8_load(yj + d + 16), c3 = v8_load(yj + d + 24);
            for (r = 0; r < nr; r++) {
                const lr_float *xr = x[r] + d;
                vec8 g;
                if (j >= nk[r] || m[r][j] == 0) continue;
                g = v8_splat(w[r][j]);
                c0 = c0 + g * v8_load(xr);
                c1 = c1 + g * v8_load(xr + 8);
                c2 = c2 + g * v8_load(xr + 16);
                c3 = c3 + g * v8_load(xr + 24);
            }
            v8_store(yj + d, c0); v8_store(yj + d + 8, c1);
            v8_store(yj + d + 16, c2); v8_store(yj + d + 24, c3);
        }
        for (; d + 8 <= hd; d += 8) {
            vec8 c0 = v8_load(yj + d);
            for (r = 0; r < nr; r++)
                if (j < nk[r] && m[r][j] != 0)
                    c0 = c0 + v8_splat(w[r][j]) * v8_load(x[r] + d);
            v8_store(yj + d, c0);
        }
        for (; d < hd; d++)
            for (r = 0; r < nr; r++)
                if (j < nk[r] && m[r][j] != 0) yj[d] += w[r][j] * x[r][d];
    }
}
#endif

#endif
