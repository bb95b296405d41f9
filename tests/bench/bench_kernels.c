/* bench_kernels.c - `make bench-kernels`: GFLOP/s of the three products of
 * a training step, one thread, on the shapes that dominate its profile:
 *   forward  y = x W^T       (lr_matmul_fast)
 *   dx       dx += dy W      (lr_matmul_backward_plain)
 *   dW       dW += dy^T x    (lr_matmul_backward_weight)
 * for the embedded world model's projections (128 wide, 384 hidden, 2304
 * vocabulary) and the random 100M model's (768 wide, 2048 hidden, 32000
 * vocabulary),
 * TOKENS rows of x.  Best of ROUNDS calls, the calling thread's CPU time.
 * A benchmark, not a test: tests/model/test_matmul.c checks these kernels
 * against the definitions bit for bit.  Figures in docs/performance.md.
 *
 * usage: bench_kernels [TOKENS] [ROUNDS]   (default 512 5) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llamaref/model/matmul.h"

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
    shape("world", n, 128, 128, rounds);   /* q and o */
    shape("world", n, 128, 384, rounds);   /* the MLP's gate and up */
    shape("world", n, 384, 128, rounds);   /* its down projection */
    shape("world", n, 128, 2304, rounds);  /* the output layer */
    shape("random100M", n, 768, 768, rounds);
    shape("random100M", n, 768, 2048, rounds);
    shape("random100M", n, 2048, 768, rounds);
    shape("random100M", n, 768, 32000, rounds);
    return 0;
}
