/* attention.c - causal grouped-query attention of one sequence (see
 * attention.h).  Heads are independent, so with OpenMP they are shared
 * between threads; every sum has a fixed order (keys ascending).
 * Depends on: common only. */
#include <math.h>
#include <string.h>

#include "llamaref/attention.h"

void lr_attention_forward(lr_float *out, lr_float *scores, lr_float *probs,
                          const lr_float *q, const lr_float *k,
                          const lr_float *v, const unsigned char *key_mask,
                          const lr_attn_shape *s, lr_float *scratch)
{
    /* q, out (Tq, H, hd); k, v (Tk, KV, hd); scores, probs (H, Tq, Tk) */
    const int H = s->n_heads, KV = s->n_kv_heads, hd = s->head_dim;
    const int Tq = s->Tq, Tk = s->Tk, group = H / KV;
    const size_t qdim = (size_t)H * hd, kvdim = (size_t)KV * hd;
    const double scale = 1.0 / sqrt((double)hd);
    int h;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if ((double)Tq * Tk * H * hd > 65536.0)
#endif
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
            double mx = -HUGE_VAL, sum = 0;
            for (j = 0; j < Tk; j++) {
                const lr_float *kj = k + (size_t)j * kvdim + (size_t)kvh * hd;
                lr_float dot = 0;
                if (j > last || (key_mask && !key_mask[j])) {
                    sc[j] = (lr_float)-HUGE_VAL;
                    continue;
                }
                for (d = 0; d < hd; d++) dot += qi[d] * kj[d];
                sc[j] = (lr_float)(dot * scale);
                if (sc[j] > mx) mx = sc[j];
            }
            for (j = 0; j < Tk; j++) {
                double e = (sc[j] == (lr_float)-HUGE_VAL) ? 0.0
                                                          : exp(sc[j] - mx);
                pr[j] = (lr_float)e; /* pr may alias sc: sc[j] is done */
                sum += e;
            }
            for (j = 0; j < Tk; j++)
                pr[j] = sum > 0 ? (lr_float)(pr[j] / sum) : 0;
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
