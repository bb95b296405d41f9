/* bench_kernels.c - `make bench-kernels`: GFLOP/s of the three products of
 * a training step, one thread, on the shapes that dominate its profile:
 *   forward  y = x W^T       (lr_matmul_fast)
 *   dx       dx += dy W      (lr_matmul_backward_plain)
 *   dW       dW += dy^T x    (lr_matmul_backward_weight)
 * for stories260K's projections (64 wide, 172 hidden, 512 vocabulary),
 * the embedded world model's (128 wide, 384 hidden, 2304 vocabulary) and
 * the random 100M model's (768 wide, 2048 hidden, 32000 vocabulary),
 * TOKENS rows of x; then the microseconds of one sequence's attention
 * (128 tokens, causal; lr_attention_forward keeping the probabilities as
 * training does, and lr_attention_backward_saved) at the three models'
 * head shapes; then the LoRA branch of the 100M model's projections
 * (r 8, dropout 0.1 from a kept mask, as training runs it):
 *   lora fwd   y += s (xd A^T) B^T          (lr_lora_linear_forward)
 *   lora bwd   dB, dxa, dA and dx            (lr_lora_linear_backward_keep)
 * Best of ROUNDS calls, the calling thread's CPU time.
 * A benchmark, not a test: tests/model/test_matmul.c and test_kernels.c
 * check these kernels against the definitions bit for bit.  Figures in
 * docs/performance.md.
 *
 * usage: bench_kernels [TOKENS] [ROUNDS]   (default 512 5) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llamaref/model/attention.h"
#include "llamaref/model/matmul.h"
#include "llamaref/train/lora.h"

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* n values in [-0.5, 0.5), from a fixed xorshift stream */
static lr_float *random_values(size_t n, unsigned long long s)
{
    lr_float *p = malloc(n * sizeof *p);
    size_t i;
    if (!p) { fprintf(stderr, "bench_kernels: out of memory\n"); exit(1); }
    for (i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        p[i] = (lr_float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
    }
    return p;
}

/* The best seconds of `rounds` calls of product `which` (0 forward, 1 dx,
 * 2 dW). */
static double best(int which, int rounds, lr_float *out, const lr_float *a,
                   const lr_float *b, int n, int in, int o)
{
    double t = 1e30;
    int k;
    for (k = 0; k < rounds; k++) {
        double dt = cpu_seconds();
        if (which == 0) lr_matmul_fast(out, a, b, LR_FLOAT_DTYPE, n, in, o);
        else if (which == 1) lr_matmul_backward_plain(out, a, b, n, in, o);
        else lr_matmul_backward_weight(out, a, b, n, in, o);
        dt = cpu_seconds() - dt;
        if (dt < t) t = dt;
    }
    return t;
}

static void shape(const char *model, int n, int in, int o, int rounds)
{
    lr_float *x = random_values((size_t)n * in, 1), *dy = random_values((size_t)n * o, 2);
    lr_float *w = random_values((size_t)o * in, 3), *y = random_values((size_t)n * o, 4);
    lr_float *dx = random_values((size_t)n * in, 5), *dw = random_values((size_t)o * in, 6);
    const double gf = 2.0 * n * in * o * 1e-9;
    const double tf = best(0, rounds, y, x, w, n, in, o);
    const double tb = best(1, rounds, dx, dy, w, n, in, o);
    const double tw = best(2, rounds, dw, dy, x, n, in, o);
    printf("%-12s %5d x %5d -> %5d: forward %6.1f  dx %6.1f  dW %6.1f GFLOP/s\n",
           model, n, in, o, gf / tf, gf / tb, gf / tw);
    free(x); free(dy); free(w); free(y); free(dx); free(dw);
}

/* One sequence of T tokens through attention with H query heads, KV kv
 * heads of size hd: the best microseconds of `rounds` forwards (saving
 * scores and probabilities) and of as many backwards from them. */
static void attention(const char *model, int H, int KV, int hd, int T,
                      int rounds)
{
    const size_t nq = (size_t)T * H * hd, nk = (size_t)T * KV * hd;
    const size_t ns = (size_t)H * T * T;
    lr_float *q = random_values(nq, 7), *k = random_values(nk, 8);
    lr_float *v = random_values(nk, 9), *g = random_values(nq, 10);
    lr_float *o = random_values(nq, 11), *dq = random_values(nq, 12);
    lr_float *dk = random_values(nk, 13), *dv = random_values(nk, 14);
    lr_float *sc = random_values(ns, 15), *pr = random_values(ns, 16);
    lr_float *scr = random_values((size_t)2 * (H > KV ? H : KV) * T, 17);
    lr_attn_shape s;
    double tf = 1e30, tb = 1e30;
    int r;
    s.n_heads = H; s.n_kv_heads = KV; s.head_dim = hd;
    s.Tq = T; s.Tk = T; s.q_off = 0;
    for (r = 0; r < rounds; r++) {
        double t0 = cpu_seconds(), t1, t2;
        lr_attention_forward(o, sc, pr, q, k, v, NULL, &s, scr);
        t1 = cpu_seconds();
        lr_attention_backward_saved(dq, dk, dv, g, q, k, v, pr, NULL, &s, scr);
        t2 = cpu_seconds();
        if (t1 - t0 < tf) tf = t1 - t0;
        if (t2 - t1 < tb) tb = t2 - t1;
    }
    printf("%-12s attention %2d heads (%2d kv) x %3d, %d tokens: forward "
           "%7.1f us  backward %7.1f us\n", model, H, KV, hd, T, 1e6 * tf,
           1e6 * tb);
    free(q); free(k); free(v); free(g); free(o); free(dq); free(dk);
    free(dv); free(sc); free(pr); free(scr);
}

/* The LoRA branch of one n x in -> out projection at rank r: GFLOP/s of
 * the forward (2 n r (in + out) operations) and of the backward (dB and
 * dxa over out, dA and dx over in: 4 n r (in + out)). */
static void lora(const char *model, int n, int in, int out, int r, int rounds)
{
    lr_float *xd = random_values((size_t)n * in, 18), *A = random_values((size_t)r * in, 19);
    lr_float *B = random_values((size_t)out * r, 20), *y = random_values((size_t)n * out, 21);
    lr_float *xa = random_values((size_t)n * r, 22), *dy = random_values((size_t)n * out, 23);
    lr_float *dx = random_values((size_t)n * in, 24), *dA = random_values((size_t)r * in, 25);
    lr_float *dB = random_values((size_t)out * r, 26), *dxa = random_values((size_t)n * r, 27);
    unsigned char *keep = malloc(((size_t)n * in + 7) / 8 + 8);
    const double gf = 2.0 * n * r * (in + out) * 1e-9;
    double tf = 1e30, tb = 1e30;
    int k;
    if (!keep) { fprintf(stderr, "bench_kernels: out of memory\n"); exit(1); }
    lr_lora_dropout_keep(keep, n, in, 0.1, 7);
    for (k = 0; k < rounds; k++) {
        double t0 = cpu_seconds(), t1, t2;
        lr_lora_linear_forward(y, xa, xd, A, B, 2.0, n, in, out, r);
        t1 = cpu_seconds();
        lr_lora_linear_backward_keep(dx, dA, dB, dxa, dy, xd, xa, A, B, 2.0, n,
                                     in, out, r, 0.1, keep);
        t2 = cpu_seconds();
        if (t1 - t0 < tf) tf = t1 - t0;
        if (t2 - t1 < tb) tb = t2 - t1;
    }
    printf("%-12s %5d x %5d -> %5d: lora r %d  fwd %6.1f  bwd %6.1f GFLOP/s\n",
           model, n, in, out, r, gf / tf, 2 * gf / tb);
    free(xd); free(A); free(B); free(y); free(xa); free(dy); free(dx);
    free(dA); free(dB); free(dxa); free(keep);
}

int main(int argc, char **argv)
{
    const int n = argc > 1 ? atoi(argv[1]) : 512;
    const int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (n < 1 || rounds < 1) {
        fprintf(stderr, "usage: bench_kernels [TOKENS >= 1] [ROUNDS >= 1]\n");
        return 2;
    }
    lr_threads_set(1);
    printf("bench_kernels: isa %s, 1 thread, %d tokens, best of %d calls "
           "(CPU time)\n", lr_matmul_isa(), n, rounds);
    shape("stories260K", n, 64, 64, rounds);  /* q and o */
    shape("stories260K", n, 64, 172, rounds); /* gate and up */
    shape("stories260K", n, 172, 64, rounds); /* down */
    shape("stories260K", n, 64, 512, rounds); /* the output layer */
    shape("world", n, 128, 128, rounds);   /* q and o */
    shape("world", n, 128, 384, rounds);   /* the MLP's gate and up */
    shape("world", n, 384, 128, rounds);   /* its down projection */
    shape("world", n, 128, 2304, rounds);  /* the output layer */
    shape("random100M", n, 768, 768, rounds);
    shape("random100M", n, 768, 2048, rounds);
    shape("random100M", n, 2048, 768, rounds);
    shape("random100M", n, 768, 32000, rounds);
    attention("stories260K", 8, 4, 8, 128, 4 * rounds);
    attention("world", 4, 2, 32, 128, 4 * rounds);
    attention("random100M", 12, 4, 64, 128, rounds);
    lora("random100M", n, 768, 768, 8, rounds);  /* q and o */
    lora("random100M", n, 768, 256, 8, rounds);  /* k and v */
    lora("random100M", n, 768, 2048, 8, rounds); /* gate and up */
    lora("random100M", n, 2048, 768, 8, rounds); /* down */
    return 0;
}
