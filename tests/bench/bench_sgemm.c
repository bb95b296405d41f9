/* bench_sgemm.c - OpenBLAS sgemm as a yardstick for llamaref's fast matmul:
 * the same product y[n, out] = x[n, in] W^T (row-major, W transposed), the
 * two called alternately in one process (round after round, best time of
 * each), at 1 thread and, in an OMP=1 build, 2 threads; it prints both
 * GFLOP/s and their ratio per shape.  At 1 thread the time is the calling
 * thread's CPU time (both run in it), so other processes on a loaded
 * machine count less; at 2 threads it is wall time, and each call starts
 * 0.2 s after the previous one and one untimed call of the same library
 * (its threads awake, its operands in cache), so that the other library's
 * idle workers have stopped spinning (OpenBLAS's pthreads busy-wait ~2^28 cycles after
 * a call, libgomp's a while too: on 2 cores a spinning worker of one
 * library halved the other's 2-thread figure).  Built only by `make
 * bench`, linked with libllamaref.a and -lopenblas; OpenBLAS is never
 * linked into llamaref itself.
 *
 * usage: bench_sgemm [N] [ROUNDS]   (default 1024 8) */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "llamaref/model/matmul.h"

#ifdef LR_OMP
#include <omp.h>
#endif

void openblas_set_num_threads(int);

static double now_s(int cpu)
{
    struct timespec ts;
    clock_gettime(cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sleeps 0.2 s: the idle workers of both libraries stop spinning. */
static void settle(void)
{
    struct timespec ts;
    ts.tv_sec = 0;
    ts.tv_nsec = 200000000L;
    nanosleep(&ts, NULL);
}

static void set_threads(int th)
{
    openblas_set_num_threads(th);
#ifdef LR_OMP
    omp_set_num_threads(th);
#endif
}

/* Best seconds of `rounds` alternating calls: ours[0], blas[0] out. */
static void race(int n, int in, int out, int rounds, int cpu, double *ours,
                 double *blas)
{
    float *x = malloc(sizeof(float) * (size_t)n * in);
    float *w = malloc(sizeof(float) * (size_t)out * in);
    float *y = malloc(sizeof(float) * (size_t)n * out);
    size_t i;
    int k;
    *ours = *blas = 1e30;
    if (!x || !w || !y) { fprintf(stderr, "bench_sgemm: out of memory\n"); exit(1); }
    for (i = 0; i < (size_t)n * in; i++) x[i] = (float)((i * 7) % 13) - 6;
    for (i = 0; i < (size_t)out * in; i++) w[i] = (float)((i * 5) % 11) - 5;
    for (k = 0; k <= rounds; k++) {
        double t0, dt;
        if (!cpu) {
            settle();
            lr_matmul_fast(y, x, w, LR_F32, n, in, out); /* wakes, warms */
        }
        t0 = now_s(cpu);
        lr_matmul_fast(y, x, w, LR_F32, n, in, out);
        dt = now_s(cpu) - t0;
        if (k > 0 && dt < *ours) *ours = dt;
        if (!cpu) {
            settle();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in,
                        1.0f, x, in, w, in, 0.0f, y, out);
        }
        t0 = now_s(cpu);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f,
                    x, in, w, in, 0.0f, y, out);
        dt = now_s(cpu) - t0;
        if (k > 0 && dt < *blas) *blas = dt;
    }
    free(x); free(w); free(y);
}

static void row(int th, int n, int in, int out, int rounds)
{
    double a, b, f = 2.0 * n * in * out * 1e-9;
    race(n, in, out, rounds, th == 1, &a, &b);
    printf("matmul vs OpenBLAS threads %d: [%d x %d] x [%d x %d]^T llamaref "
           "%7.2f GFLOP/s, OpenBLAS sgemm %7.2f GFLOP/s, ratio %.2f\n",
           th, n, in, out, in, f / a, f / b, b / a);
}

int main(int argc, char **argv)
{
    int size = argc > 1 ? atoi(argv[1]) : 1024;
    int rounds = argc > 2 ? atoi(argv[2]) : 8, th, maxth = 1;
    if (sizeof(lr_float) != sizeof(float) || size < 1 || rounds < 1) {
        fprintf(stderr, "bench_sgemm: needs a float build, N >= 1, ROUNDS >= 1\n");
        return 2;
    }
#ifdef LR_OMP
    maxth = 2;
#endif
    printf("bench_sgemm: llamaref isa %s, %s; 1 thread: CPU time of the "
           "calling thread, 2 threads: wall time; best of %d alternating rounds\n",
           lr_matmul_isa(), maxth > 1 ? "OpenMP on" : "OpenMP off (OMP=1 for 2 threads)",
           rounds);
    for (th = 1; th <= maxth; th++) {
        set_threads(th);
        row(th, size, size, size, rounds);
        row(th, 64, 768, 2048, rounds);   /* a prefill chunk (64 tokens) of the 100M model */
        row(th, 1, 4096, 4096, rounds);   /* decode-shaped */
    }
    return 0;
}
