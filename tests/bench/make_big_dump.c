/* make_big_dump.c - writes two synthetic dumps shaped like a Llama 3 8B
 * forward (hidden 4096, 32 heads, 8 kv heads, head_dim 128, intermediate
 * 14336, vocab 128256) for measuring `llamaref verify` on large files
 * (docs/verify.md, "Streaming"): GOLDEN as F64, CANDIDATE as F32 of the
 * same values, for L layers and T tokens.  Values are streamed to disk in
 * chunks (a deterministic xorshift), so the tool itself needs little memory.
 *   make_big_dump GOLDEN CANDIDATE L T */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/common.h"

static unsigned long long rng = 88172645463325252ULL;

static double next(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

typedef struct { char name[64]; long long d[3]; int nd; } tensor;

int main(int argc, char **argv)
{
    static const char *ln[] = {"attn_norm", "q", "k", "v", "q_rope", "k_rope",
        "attn_scores", "attn_probs", "attn_out", "o_proj", "h", "mlp_norm",
        "gate", "up", "act", "mlp_out", "out"};
    const long long D = 4096, H = 32, KVD = 1024, I = 14336, V = 128256;
    tensor *ts;
    int L, nt = 0, l, k, i;
    long long T, off64 = 0, off32 = 0;
    FILE *g, *c;
    char *hg, *hc;
    size_t cap = 1 << 20, lg = 0, lc = 0;
    if (argc != 5) {
        fprintf(stderr, "usage: make_big_dump GOLDEN CANDIDATE LAYERS TOKENS\n");
        return 2;
    }
    L = atoi(argv[3]);
    T = atoll(argv[4]);
    ts = calloc((size_t)L * 17 + 3, sizeof *ts);
    hg = malloc(cap); hc = malloc(cap);
    if (!ts || !hg || !hc || L < 1 || T < 1) return 1;
#define ADD(nm, n, a, b, cc) do { tensor *t = &ts[nt++]; snprintf(t->name, sizeof t->name, "%s", nm); \
        t->nd = n; t->d[0] = a; t->d[1] = b; t->d[2] = cc; } while (0)
    ADD("embed", 2, T, D, 0);
    for (l = 0; l < L; l++)
        for (k = 0; k < 17; k++) {
            char nm[64];
            long long w = D;
            snprintf(nm, sizeof nm, "layers.%d.%s", l, ln[k]);
            if (k == 2 || k == 3 || k == 5) w = KVD;
            if (k >= 12 && k <= 14) w = I;
            if (k == 6 || k == 7) ADD(nm, 3, H, T, T);
            else ADD(nm, 2, T, w, 0);
        }
    ADD("final_norm", 2, T, D, 0);
    ADD("logits", 2, T, V, 0);
    lg += (size_t)snprintf(hg + lg, cap - lg, "{");
    lc += (size_t)snprintf(hc + lc, cap - lc, "{");
    for (i = 0; i < nt; i++) {
        long long n = ts[i].d[0] * ts[i].d[1] * (ts[i].nd == 3 ? ts[i].d[2] : 1);
        char shape[64];
        if (ts[i].nd == 3) snprintf(shape, sizeof shape, "[%lld,%lld,%lld]", ts[i].d[0], ts[i].d[1], ts[i].d[2]);
        else snprintf(shape, sizeof shape, "[%lld,%lld]", ts[i].d[0], ts[i].d[1]);
        lg += (size_t)snprintf(hg + lg, cap - lg, "%s\"%s\":{\"dtype\":\"F64\",\"shape\":%s,\"data_offsets\":[%lld,%lld]}",
                               i ? "," : "", ts[i].name, shape, off64, off64 + 8 * n);
        lc += (size_t)snprintf(hc + lc, cap - lc, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":%s,\"data_offsets\":[%lld,%lld]}",
                               i ? "," : "", ts[i].name, shape, off32, off32 + 4 * n);
        off64 += 8 * n; off32 += 4 * n;
    }
    lg += (size_t)snprintf(hg + lg, cap - lg, "}");
    lc += (size_t)snprintf(hc + lc, cap - lc, "}");
    while (lg % 8) hg[lg++] = ' ';
    while (lc % 8) hc[lc++] = ' ';
    g = fopen(argv[1], "wb"); c = fopen(argv[2], "wb");
    if (!g || !c) { perror("open"); return 1; }
    {
        unsigned char b8[8];
        lr_put_le64(b8, lg); fwrite(b8, 1, 8, g); fwrite(hg, 1, lg, g);
        lr_put_le64(b8, lc); fwrite(b8, 1, 8, c); fwrite(hc, 1, lc, c);
    }
    {
        enum { CH = 65536 };
        static unsigned char bg[CH * 8], bc[CH * 4];
        for (i = 0; i < nt; i++) {
            long long n = ts[i].d[0] * ts[i].d[1] * (ts[i].nd == 3 ? ts[i].d[2] : 1), done = 0;
            while (done < n) {
                long long m = n - done < CH ? n - done : CH, j;
                for (j = 0; j < m; j++) {
                    float f = (float)(next() * 4.0);
                    lr_put_le64(bg + 8 * j, lr_f64_to_bits((double)f + (double)f * 1e-8));
                    lr_put_le32(bc + 4 * j, lr_f32_to_bits(f));
                }
                if (fwrite(bg, 8, (size_t)m, g) != (size_t)m || fwrite(bc, 4, (size_t)m, c) != (size_t)m) {
                    perror("write");
                    return 1;
                }
                done += m;
            }
        }
    }
    if (fclose(g) || fclose(c)) { perror("close"); return 1; }
    printf("%d tensors, golden %lld bytes of data, candidate %lld\n", nt, off64, off32);
    free(ts); free(hg); free(hc);
    return 0;
}
