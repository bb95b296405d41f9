/* attention_ref.c - the definition of attention.c's kernels: causal
 * grouped-query attention forward and backward as plain loops, one key at
 * a time, on one thread (see attention.h for the order of operations).
 * Every fast version in attention.c keeps these loops' order per element
 * and gives their bits (tests/model/test_kernels.c compares them bit for
 * bit; tests/model/test_ops.c checks both against the golden vectors).
 * Read this first; attention.c is the same arithmetic, rearranged.
 * Depends on: common, core/exp_internal.h (lr_exp). */
#include <math.h>
#include <string.h>

#include "llamaref/model/attention.h"
#include "core/exp_internal.h"


/* attention.c's probs_row as first written: one key at a time, up to Tk */
static void probs_row_ref(lr_float *sc, lr_float *pr, const lr_float *q,
                          const lr_float *k, size_t kvdim, int hd, int Tk,
                          int last, const unsigned char *key_mask, double scale)
{
    double mx = -HUGE_VAL, sum = 0;
    int j, d;
    for (j = 0; j < Tk; j++) {
        const lr_float *kj = k + (size_t)j * kvdim;
        lr_float dot = 0;
        if (j > last || (key_mask && !key_mask[j])) {
            sc[j] = (lr_float)-HUGE_VAL;
            continue;
        }
        for (d = 0; d < hd; d++) dot += q[d] * kj[d];
        sc[j] = (lr_float)(dot * scale);
        if (sc[j] > mx) mx = sc[j];
    }
    for (j = 0; j < Tk; j++) {
        double e = (sc[j] == (lr_float)-HUGE_VAL) ? 0.0 : lr_exp(sc[j] - mx);
        pr[j] = (lr_float)e; /* pr may alias sc: sc[j] is done */
        sum += e;
    }
    for (j = 0; j < Tk; j++) pr[j] = sum > 0 ? (lr_float)(pr[j] / sum) : 0;
}

void lr_attention_forward_ref(lr_float *out, lr_float *scores,
                              lr_float *probs, const lr_float *q,
                              const lr_float *k, const lr_float *v,
                              const unsigned char *key_mask,
                              const lr_attn_shape *s, lr_float *scratch)
{
    /* q, out (Tq, H, hd); k, v (Tk, KV, hd); scores, probs (H, Tq, Tk) */
    const int H = s->n_heads, KV = s->n_kv_heads, hd = s->head_dim;
    const int Tq = s->Tq, Tk = s->Tk, group = H / KV;
    const size_t qdim = (size_t)H * hd, kvdim = (size_t)KV * hd;
    const double scale = 1.0 / sqrt((double)hd);
    int h;
    for (h = 0; h < H; h++) {
        const int kvh = h / group;
        int i, j, d;
        for (i = 0; i < Tq; i++) {
            const lr_float *qi = q + (size_t)i * qdim + (size_t)h * hd;
            lr_float *oi = out + (size_t)i * qdim + (size_t)h * hd;
            lr_float *sc = scores ? scores + ((size_t)h * Tq + i) * Tk
                                  : scratch + (size_t)h * Tk;
            lr_float *pr = probs ? probs + ((size_t)h * Tq + i) * Tk : sc;
            const int last = s->q_off + i; /* causal: keys 0 .. last */
            probs_row_ref(sc, pr, qi, k + (size_t)kvh * hd, kvdim, hd, Tk,
                          last, key_mask, scale);
            memset(oi, 0, sizeof *oi * (size_t)hd);
            for (j = 0; j < Tk; j++) {
                const lr_float *vj = v + (size_t)j * kvdim + (size_t)kvh * hd;
                const lr_float p = pr[j];
                if (p == 0) continue;
                for (d = 0; d < hd; d++) oi[d] += p * vj[d];
            }
        }
    }
}

void lr_attention_backward_ref(lr_float *dq, lr_float *dk, lr_float *dv,
                               const lr_float *dout, const lr_float *q,
                               const lr_float *k, const lr_float *v,
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
     * dq is written, dk and dv are added to. */
    const int H = s->n_heads, KV = s->n_kv_heads, hd = s->head_dim;
    const int Tq = s->Tq, Tk = s->Tk, group = H / KV;
    const size_t qdim = (size_t)H * hd, kvdim = (size_t)KV * hd;
    const double scale = 1.0 / sqrt((double)hd);
    int kvh;
    for (kvh = 0; kvh < KV; kvh++) {
        lr_float *pr = scratch + (size_t)kvh * 2 * Tk, *dp = pr + Tk;
        int h, i, j, d;
        for (h = kvh * group; h < (kvh + 1) * group; h++)
            for (i = 0; i < Tq; i++) {
                const lr_float *qi = q + (size_t)i * qdim + (size_t)h * hd;
                const lr_float *gi = dout + (size_t)i * qdim + (size_t)h * hd;
                lr_float *dqi = dq + (size_t)i * qdim + (size_t)h * hd;
                const int last = s->q_off + i;
                double rowdot = 0;
                /* recompute the probabilities of row i (as the forward) */
                probs_row_ref(pr, pr, qi, k + (size_t)kvh * hd, kvdim, hd,
                              Tk, last, key_mask, scale);
                /* dP and the row's sum_k P dP; dv */
                for (j = 0; j < Tk; j++) {
                    const lr_float *vj = v + (size_t)j * kvdim + (size_t)kvh * hd;
                    lr_float *dvj = dv + (size_t)j * kvdim + (size_t)kvh * hd;
                    lr_float acc = 0;
                    dp[j] = 0;
                    if (pr[j] == 0) continue;
                    for (d = 0; d < hd; d++) acc += gi[d] * vj[d];
                    dp[j] = acc;
                    rowdot += (double)pr[j] * acc;
                    for (d = 0; d < hd; d++) dvj[d] += pr[j] * gi[d];
                }
                /* dS, then dq and dk */
                memset(dqi, 0, sizeof *dqi * (size_t)hd);
                for (j = 0; j < Tk; j++) {
                    const lr_float *kj = k + (size_t)j * kvdim + (size_t)kvh * hd;
                    lr_float *dkj = dk + (size_t)j * kvdim + (size_t)kvh * hd;
                    lr_float ds;
                    if (pr[j] == 0) continue;
                    ds = (lr_float)(pr[j] * ((double)dp[j] - rowdot) * scale);
                    for (d = 0; d < hd; d++) {
                        dqi[d] += ds * kj[d];
                        dkj[d] += ds * qi[d];
                    }
                }
            }
    }
}
