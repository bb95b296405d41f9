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
 * output row in vector registers, lanes over d; the backward updates dk
 * and dv once per block of 4 query rows (each key's row loaded and stored
 * once, the rows' additions in turn), or, for head sizes under 16,
 * transposed, lanes over keys (GCC/clang vector extensions, AVX-512/AVX2
 * chosen at run time as in matmul.c; plain C elsewhere, same bits).
 * The definition, the plain loops whose order all this keeps, is in
 * attention_ref.c (lr_attention_forward_ref, lr_attention_backward_ref).
 * Depends on: common, attention_rows.h (the row kernels),
 * core/exp_internal.h (lr_exp and its vector form) and core/vec_internal.h
 * (the vector types). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/attention.h"
#include "core/exp_internal.h"
#include "core/vec_internal.h"
#include "attention_rows.h"

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
    /* the backward's rows_axpy blocks: RB rows of probabilities and of
     * dP (then dS) after them */
    size_t n = 4 * (size_t)s->head_dim * ld + 2 * ld;
#if VEC_HAVE
    n += 2 * RB * ld;
#endif
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
    (void)vt; (void)dkt; (void)dvt; (void)da; /* unused without vectors */
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
#if VEC_HAVE
    if (tb && !cols) {
        /* blocks of RB rows: each row's probabilities, dP, its sum_k P dP
         * and dS, and dq as below; then dv and dk for the whole block
         * (rows_axpy: the same additions per element, rows ascending) */
        lr_float *const prb = tb + 4 * (size_t)hd * ld + 2 * (size_t)ld;
        lr_float *const dsb = prb + (size_t)RB * ld;
        for (h = kvh * group; h < (kvh + 1) * group; h++)
            for (i = 0; i < Tq; i += RB) {
                const int nr = Tq - i < RB ? Tq - i : RB;
                const lr_float *prr[RB], *gr[RB], *qr[RB], *dsr[RB];
                int r, nks[RB];
                for (r = 0; r < nr; r++) {
                    const int ir = i + r;
                    const size_t at = (size_t)ir * qdim + (size_t)h * hd;
                    const lr_float *qi = a->q + at, *gi = a->dout + at;
                    lr_float *dqi = a->dq + at;
                    lr_float *dpr = dsb + (size_t)r * ld;
                    double rowdot = 0;
                    int nk;
                    if (a->saved) {
                        pr = a->saved + ((size_t)h * Tq + ir) * Tk;
                        nk = s->q_off + ir + 1 < Tk ? s->q_off + ir + 1 : Tk;
                    } else {
                        lr_float *p = prb + (size_t)r * ld;
                        nk = probs_row(p, p, qi, k, kvdim, hd, Tk,
                                       s->q_off + ir, a->key_mask, scale, tb,
                                       ld, narrow);
                        pr = p;
                    }
                    key_dots_t(dpr, gi, vt, ld, hd, nk, narrow);
                    for (j = 0; j < nk; j++)
                        if (pr[j] != 0) rowdot += (double)pr[j] * dpr[j];
                    for (j = 0; j < nk; j++) /* dS in place of dP */
                        if (pr[j] != 0)
                            dpr[j] = (lr_float)(pr[j] *
                                                ((double)dpr[j] - rowdot) *
                                                scale);
                    weighted_rows(dqi, dpr, pr, k, kvdim, hd, nk, narrow);
                    prr[r] = pr; gr[r] = gi; qr[r] = qi; dsr[r] = dpr;
                    nks[r] = nk;
                }
                rows_axpy(dv, kvdim, prr, prr, gr, nks, nr, hd, narrow);
                rows_axpy(dk, kvdim, dsr, prr, qr, nks, nr, hd, narrow);
            }
        return;
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
