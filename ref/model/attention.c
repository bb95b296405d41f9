/* attention.c - causal grouped-query attention of one sequence (see
 * attention.h): the forward and, beside it, the backward, which recomputes
 * each row's probabilities with the forward's own probs_row.  Heads are
 * independent, so with OpenMP they are shared between threads; every sum
 * has a fixed order (keys ascending, or d ascending in a dot product).
 *
 * Speed without changing a bit: loops stop at the causal edge (keys past
 * it have probability exactly 0 and add nothing); the dot products with
 * the keys (and, in the backward, the values) run 32 keys side by side on
 * a transposed copy of one kv head (lanes over keys, each lane the
 * definition's sum over d), or 8 side by side in scalars without vectors
 * and for fewer than 8 query rows; sums over keys keep a slice of the
 * output row in vector registers, lanes over d; for head sizes under 16
 * the backward's dk and dv accumulate transposed, lanes over keys
 * (GCC/clang vector extensions, AVX-512/AVX2 chosen at run time as in
 * matmul.c; plain C elsewhere, same bits).
 * The definition, the plain loops whose order all this keeps, is in
 * attention_ref.c (lr_attention_forward_ref, lr_attention_backward_ref).
 * Depends on: common, core/exp_internal.h (lr_exp and its vector form) and
 * core/vec_internal.h (the vector types). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/attention.h"
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

/* One query row's attention probabilities, shared by the forward and the
 * backward's recomputation:
 *   sc_j = scale (q . k_j) for visible keys j (j <= last, key_mask[j] != 0),
 *          -inf otherwise
 *   pr_j = exp(sc_j - max) / sum_j' exp(sc_j' - max)   (lr_exp and the
 *          sum in double; a row that sees no key gets 0 everywhere)
 * q [hd]; k: the row of key 0 of this kv head, rows kvdim apart [Tk];
 * sc, pr [Tk] (pr may alias sc: then only the probabilities remain);
 * kt, ld: the keys transposed (transpose_keys, at least up to the causal
 * edge), or NULL (then k).  Returns the number of keys up to the causal
 * edge (later ones: pr 0). */
VEC_INLINE int probs_row(lr_float *sc, lr_float *pr, const lr_float *q,
                         const lr_float *k, size_t kvdim, int hd, int Tk,
                         int last, const unsigned char *key_mask, double scale,
                         const lr_float *kt, int ld, int narrow)
{
    const int nk = last + 1 < Tk ? last + 1 : Tk;
    double mx = -HUGE_VAL, sum = 0;
    int j = 0;
    (void)narrow;
#if VEC_HAVE
    if (kt)
        key_dots_t(sc, q, kt, ld, hd, nk, narrow);
    else
#else
    (void)kt; (void)ld;
#endif
        key_dots(sc, q, k, kvdim, hd, nk);
#if VEC_HAVE
    /* no masked key: 4 at a time, the same product and rounding per score,
     * the largest in 4 lanes (one running maximum was a chain of
     * dependent comparisons).  The maximum is the same value whichever
     * lane finds it; only a tie of +0 and -0 could differ, and then every
     * exp(sc - mx) below is the same: a zero's is 1 either way. */
    if (!key_mask) {
        const exp_d4 sv = {scale, scale, scale, scale};
        exp_d4 m4 = {-HUGE_VAL, -HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
        for (; j + 4 <= nk; j += 4) {
            vec4 v;
            exp_d4 d;
            exp_l4 gt;
            memcpy(&v, sc + j, sizeof v);
            v = exp_narrow4(__builtin_convertvector(v, exp_d4) * sv);
            memcpy(sc + j, &v, sizeof v);
            d = __builtin_convertvector(v, exp_d4);
            gt = d > m4; /* false for NaN, as below */
            m4 = (exp_d4)(((exp_l4)d & gt) | ((exp_l4)m4 & ~gt));
        }
        if (m4[0] > mx) mx = m4[0];
        if (m4[1] > mx) mx = m4[1];
        if (m4[2] > mx) mx = m4[2];
        if (m4[3] > mx) mx = m4[3];
    }
#endif
    for (; j < nk; j++) {
        if (key_mask && !key_mask[j]) {
            sc[j] = (lr_float)-HUGE_VAL;
            continue;
        }
        sc[j] = (lr_float)(sc[j] * scale);
        if (sc[j] > mx) mx = sc[j];
    }
    for (j = nk; j < Tk; j++) sc[j] = (lr_float)-HUGE_VAL;
    /* a masked key adds exp(-inf) = 0 to the sum, which changes nothing */
    j = 0;
#if VEC_HAVE
    /* 4 exps at a time (exp_v4: lr_exp's bits), summed in turn */
    {
        const exp_d4 mv = {mx, mx, mx, mx};
        const exp_d4 ninf = {-HUGE_VAL, -HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
        for (; j + 4 <= nk; j += 4) {
            vec4 v;
            exp_d4 d, e;
            exp_l4 live;
            memcpy(&v, sc + j, sizeof v);
            d = __builtin_convertvector(v, exp_d4);
            live = d != ninf;
            /* a masked lane computes exp(0) and is then zeroed */
            e = (exp_d4)((exp_l4)exp_v4((exp_d4)((exp_l4)(d - mv) & live)) &
                         live);
            v = exp_narrow4(e);
            memcpy(pr + j, &v, sizeof v); /* pr may alias sc: done */
            sum += e[0];
            sum += e[1];
            sum += e[2];
            sum += e[3];
        }
    }
#endif
    for (; j < nk; j++) {
        double e = (sc[j] == (lr_float)-HUGE_VAL) ? 0.0 : lr_exp(sc[j] - mx);
        pr[j] = (lr_float)e; /* pr may alias sc: sc[j] is done */
        sum += e;
    }
    j = 0;
#if VEC_HAVE
    /* 4 at a time: the same division in double and rounding per element
     * (a division per element in turn took a fifth of the forward) */
    if (sum > 0) {
        const exp_d4 sv = {sum, sum, sum, sum};
        for (; j + 4 <= nk; j += 4) {
            vec4 pv;
            memcpy(&pv, pr + j, sizeof pv);
            pv = exp_narrow4(__builtin_convertvector(pv, exp_d4) / sv);
            memcpy(pr + j, &pv, sizeof pv);
        }
    }
#endif
    for (; j < nk; j++) pr[j] = sum > 0 ? (lr_float)(pr[j] / sum) : 0;
    for (j = nk; j < Tk; j++) pr[j] = 0;
    return nk;
}

typedef struct attn_args {
    lr_float *out, *scores, *probs, *scratch;       /* forward */
    const lr_float *saved;                           /* backward: probs */
    lr_float *dq, *dk, *dv;                          /* backward */
    const lr_float *dout, *q, *k, *v;
    const unsigned char *key_mask;
    const lr_attn_shape *s;
} attn_args;

/* The row length of the transposed keys for Tk keys (0 where there are no
 * vectors), and the per-thread buffer the fast kernels take for them, or
 * NULL: keys, values, and in the backward dk, dv and two padded rows. */
static int kt_ld(int Tk)
{
#if VEC_HAVE
    return (Tk + KT_BLOCK - 1) / KT_BLOCK * KT_BLOCK;
#else
    (void)Tk;
    return 0;
#endif
}

/* Fewer query rows than this read each key too few times to pay for a
 * copy (decoding: 1): key_dots on the rows, the same bits. */
#define KT_MIN_ROWS 8

static lr_float *kt_alloc(const lr_attn_shape *s)
{
    const size_t ld = (size_t)kt_ld(s->Tk);
    const size_t n = 4 * (size_t)s->head_dim * ld + 2 * ld;
    return n && s->Tq >= KT_MIN_ROWS ? malloc(sizeof(lr_float) * n) : NULL;
}

/* Forward rows [i0, i1) of query head h; tb: kt_alloc's buffer or NULL. */
VEC_INLINE void fwd_rows(const attn_args *a, int h, int i0, int i1,
                         lr_float *tb, int narrow)
{
    const lr_attn_shape *s = a->s;
    const int H = s->n_heads, KV = s->n_kv_heads, hd = s->head_dim;
    const int Tq = s->Tq, Tk = s->Tk, kvh = h / (H / KV);
    const size_t qdim = (size_t)H * hd, kvdim = (size_t)KV * hd;
    const double scale = 1.0 / sqrt((double)hd);
    const int nkmax = s->q_off + i1 < Tk ? s->q_off + i1 : Tk;
    const int ld = kt_ld(nkmax);
    int i;
#if VEC_HAVE
    if (tb) transpose_keys(tb, a->k + (size_t)kvh * hd, kvdim, hd, nkmax, ld);
#endif
    for (i = i0; i < i1; i++) {
        const lr_float *qi = a->q + (size_t)i * qdim + (size_t)h * hd;
        lr_float *oi = a->out + (size_t)i * qdim + (size_t)h * hd;
        lr_float *sc = a->scores ? a->scores + ((size_t)h * Tq + i) * Tk
                                 : a->scratch + (size_t)h * Tk;
        lr_float *pr = a->probs ? a->probs + ((size_t)h * Tq + i) * Tk : sc;
        const int last = s->q_off + i; /* causal: keys 0 .. last */
        const int nk = probs_row(sc, pr, qi, a->k + (size_t)kvh * hd, kvdim,
                                 hd, Tk, last, a->key_mask, scale, tb, ld,
                                 narrow);
        weighted_rows(oi, pr, pr, a->v + (size_t)kvh * hd, kvdim, hd, nk,
                      narrow);
    }
}

/* Backward of kv head kvh and the query heads sharing it (derivation in
 * lr_attention_backward); pr, dp: 2 Tk scratch values; tb: kt_alloc's
 * buffer or NULL. */
VEC_INLINE void bwd_kv_head(const attn_args *a, int kvh, lr_float *scr,
                            lr_float *dp, lr_float *tb, int narrow)
{
    const lr_float *pr;
    const lr_attn_shape *s = a->s;
    const int H = s->n_heads, KV = s->n_kv_heads, hd = s->head_dim;
    const int Tq = s->Tq, Tk = s->Tk, group = H / KV;
    const size_t qdim = (size_t)H * hd, kvdim = (size_t)KV * hd;
    const double scale = 1.0 / sqrt((double)hd);
    const lr_float *k = a->k + (size_t)kvh * hd, *v = a->v + (size_t)kvh * hd;
    lr_float *dk = a->dk + (size_t)kvh * hd, *dv = a->dv + (size_t)kvh * hd;
    const int ld = kt_ld(Tk);
    lr_float *const vt = tb ? tb + (size_t)hd * ld : NULL;
    /* head sizes under 16: dk and dv transposed too (cols_axpy), with
     * the row's probabilities and dS zero-padded in pa, da */
    const int cols = tb && hd < 16;
    lr_float *const dkt = cols ? tb + 2 * (size_t)hd * ld : NULL;
    lr_float *const dvt = cols ? tb + 3 * (size_t)hd * ld : NULL;
    lr_float *const pa = cols ? tb + 4 * (size_t)hd * ld : NULL;
    lr_float *const da = cols ? pa + ld : NULL;
    int h, i, j;
#if VEC_HAVE
    if (tb) {
        transpose_keys(tb, k, kvdim, hd, Tk, ld);
        transpose_keys(vt, v, kvdim, hd, Tk, ld);
    }
    if (cols) {
        transpose_keys(dkt, dk, kvdim, hd, Tk, ld);
        transpose_keys(dvt, dv, kvdim, hd, Tk, ld);
    }
#endif
    for (h = kvh * group; h < (kvh + 1) * group; h++)
        for (i = 0; i < Tq; i++) {
            const lr_float *qi = a->q + (size_t)i * qdim + (size_t)h * hd;
            const lr_float *gi = a->dout + (size_t)i * qdim + (size_t)h * hd;
            lr_float *dqi = a->dq + (size_t)i * qdim + (size_t)h * hd;
            double rowdot = 0;
            int nk;
            /* the forward's probabilities of row i, saved or recomputed
             * (the same function: the same bits) */
            if (a->saved) {
                pr = a->saved + ((size_t)h * Tq + i) * Tk;
                nk = s->q_off + i + 1 < Tk ? s->q_off + i + 1 : Tk;
            } else {
                nk = probs_row(scr, scr, qi, k, kvdim, hd, Tk, s->q_off + i,
                               a->key_mask, scale, tb, ld, narrow);
                pr = scr;
            }
            /* dP and the row's sum_k P dP; dv */
#if VEC_HAVE
            if (vt)
                key_dots_t(dp, gi, vt, ld, hd, nk, narrow);
            else
#endif
                key_dots(dp, gi, v, kvdim, hd, nk);
#if VEC_HAVE
            if (cols) {
                /* the same sums per element as below, dv and dk updated
                 * for all keys at once, lanes over keys */
                const int n16 = (nk + 15) / 16 * 16;
                memcpy(pa, pr, sizeof *pa * (size_t)nk);
                memset(pa + nk, 0, sizeof *pa * (size_t)(n16 - nk));
                for (j = 0; j < nk; j++)
                    if (pr[j] != 0) rowdot += (double)pr[j] * dp[j];
                cols_axpy(dvt, ld, pa, pa, gi, hd, nk, narrow);
                ds_row(da, pa, dp, rowdot, scale, nk, n16);
                cols_axpy(dkt, ld, da, pa, qi, hd, nk, narrow);
                weighted_rows(dqi, da, pa, k, kvdim, hd, nk, narrow);
                continue;
            }
#endif
            for (j = 0; j < nk; j++) {
                if (pr[j] == 0) {
                    dp[j] = 0;
                    continue;
                }
                rowdot += (double)pr[j] * dp[j];
                row_axpy(dv + (size_t)j * kvdim, pr[j], gi, hd, narrow);
            }
            /* dS (in place of dP), then dq and dk */
            for (j = 0; j < nk; j++) {
                if (pr[j] == 0) continue;
                dp[j] = (lr_float)(pr[j] * ((double)dp[j] - rowdot) * scale);
                row_axpy(dk + (size_t)j * kvdim, dp[j], qi, hd, narrow);
            }
            weighted_rows(dqi, dp, pr, k, kvdim, hd, nk, narrow);
        }
#if VEC_HAVE
    if (cols) {
        untranspose(dk, dkt, kvdim, hd, Tk, ld);
        untranspose(dv, dvt, kvdim, hd, Tk, ld);
    }
#endif
}

typedef void (*fwd_fn)(const attn_args *, int, int, int, lr_float *);
typedef void (*bwd_fn)(const attn_args *, int, lr_float *, lr_float *,
                       lr_float *);

static void attn_fwd_generic(const attn_args *a, int h, int i0, int i1,
                             lr_float *tb)
{
    fwd_rows(a, h, i0, i1, tb, 0);
}

static void attn_bwd_generic(const attn_args *a, int kvh, lr_float *pr,
                             lr_float *dp, lr_float *tb)
{
    bwd_kv_head(a, kvh, pr, dp, tb, 0);
}

#if VEC_X86_DISPATCH
__attribute__((target("avx512f")))
static void attn_fwd_avx512(const attn_args *a, int h, int i0, int i1,
                            lr_float *tb)
{
    fwd_rows(a, h, i0, i1, tb, 0);
}

__attribute__((target("avx512f")))
static void attn_bwd_avx512(const attn_args *a, int kvh, lr_float *pr,
                            lr_float *dp, lr_float *tb)
{
    bwd_kv_head(a, kvh, pr, dp, tb, 0);
}

__attribute__((target("avx2")))
static void attn_fwd_avx2(const attn_args *a, int h, int i0, int i1,
                         lr_float *tb)
{
    fwd_rows(a, h, i0, i1, tb, 1); /* 1: narrow */
}

__attribute__((target("avx2")))
static void attn_bwd_avx2(const attn_args *a, int kvh, lr_float *pr,
                          lr_float *dp, lr_float *tb)
{
    bwd_kv_head(a, kvh, pr, dp, tb, 1); /* 1: narrow */
}
#endif

static fwd_fn pick_fwd(void)
{
#if VEC_X86_DISPATCH
    if (__builtin_cpu_supports("avx512f")) return attn_fwd_avx512;
    if (__builtin_cpu_supports("avx2")) return attn_fwd_avx2;
#endif
    return attn_fwd_generic;
}

static bwd_fn pick_bwd(void)
{
#if VEC_X86_DISPATCH
    if (__builtin_cpu_supports("avx512f")) return attn_bwd_avx512;
    if (__builtin_cpu_supports("avx2")) return attn_bwd_avx2;
#endif
    return attn_bwd_generic;
}

void lr_attention_forward(lr_float *out, lr_float *scores, lr_float *probs,
                          const lr_float *q, const lr_float *k,
                          const lr_float *v, const unsigned char *key_mask,
                          const lr_attn_shape *s, lr_float *scratch)
{
    /* q, out (Tq, H, hd); k, v (Tk, KV, hd); scores, probs (H, Tq, Tk):
     * out_i = sum_j softmax(scale q_i . k_j)_j v_j over visible keys */
    const fwd_fn fn = pick_fwd();
    attn_args a;
    int h;
    memset(&a, 0, sizeof a);
    a.out = out; a.scores = scores; a.probs = probs; a.scratch = scratch;
    a.q = q; a.k = k; a.v = v; a.key_mask = key_mask; a.s = s;
#ifdef LR_OMP
#pragma omp parallel \
    if ((double)s->Tq * s->Tk * s->n_heads * s->head_dim > 65536.0)
#endif
    {
        /* the keys transposed (fwd_rows), per thread; NULL: the same bits */
        lr_float *tb = kt_alloc(s);
#ifdef LR_OMP
#pragma omp for schedule(static)
#endif
        for (h = 0; h < s->n_heads; h++) fn(&a, h, 0, s->Tq, tb);
        free(tb);
    }
}

void lr_attention_backward(lr_float *dq, lr_float *dk, lr_float *dv,
                           const lr_float *dout, const lr_float *q,
                           const lr_float *k, const lr_float *v,
                           const unsigned char *key_mask,
                           const lr_attn_shape *s, lr_float *scratch)
{
    lr_attention_backward_saved(dq, dk, dv, dout, q, k, v, NULL, key_mask, s,
                                scratch);
}

void lr_attention_backward_saved(lr_float *dq, lr_float *dk, lr_float *dv,
                                 const lr_float *dout, const lr_float *q,
                                 const lr_float *k, const lr_float *v,
                                 const lr_float *probs,
                                 const unsigned char *key_mask,
                                 const lr_attn_shape *s, lr_float *scratch)
{
    /* q, dq, dout (Tq, H, hd); k, v, dk, dv (Tk, KV, hd); scratch 2*KV*Tk.
     * Probabilities are recomputed row by row exactly as in the forward
     * (flash-attention style), so nothing of size T x T is kept.  With
     * S = scale q k^T, P = softmax(S), out = P v:
     *   dP_ij = dout_i . v_j          dv_j += sum_i P_ij dout_i
     *   dS_ij = P_ij (dP_ij - sum_k P_ik dP_ik)
     *   dq_i  = scale sum_j dS_ij k_j  dk_j += scale sum_i dS_ij q_i
     * dq is written, dk and dv are added to (for each key j: query heads
     * of the kv head ascending, then rows i ascending).  Each kv head (and
     * the query heads sharing it) is one task, so the sums have a fixed
     * order. */
    const bwd_fn fn = pick_bwd();
    attn_args a;
    int kvh;
    memset(&a, 0, sizeof a);
    a.dq = dq; a.dk = dk; a.dv = dv; a.dout = dout;
    a.q = q; a.k = k; a.v = v; a.key_mask = key_mask; a.s = s;
    a.saved = probs;
#ifdef LR_OMP
#pragma omp parallel \
    if ((double)s->Tq * s->Tk * s->n_heads * s->head_dim > 65536.0)
#endif
    {
        /* keys and values transposed (bwd_kv_head), per thread */
        lr_float *tb = kt_alloc(s);
#ifdef LR_OMP
#pragma omp for schedule(static)
#endif
        for (kvh = 0; kvh < s->n_kv_heads; kvh++)
            fn(&a, kvh, scratch + (size_t)kvh * 2 * s->Tk,
               scratch + (size_t)kvh * 2 * s->Tk + s->Tk, tb);
        free(tb);
    }
}
