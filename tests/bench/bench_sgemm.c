/* bench_sgemm.c - OpenBLAS sgemm as a yardstick for `llamaref bench`: the
 * same product y[n, out] = x[n, in] W^T (row-major, W transposed) at 1 and 2
 * threads.  Built only by `make bench`, linked with -lopenblas; OpenBLAS is
 * never linked into llamaref. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void openblas_set_num_threads(int);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double gflops(int n, int in, int out, int reps)
{
    float *x = malloc(sizeof(float) * (size_t)n * in);
    float *w = malloc(sizeof(float) * (size_t)out * in);
    float *y = malloc(sizeof(float) * (size_t)n * out);
    double best = 1e30;
    size_t i;
    int k;
    for (i = 0; i < (size_t)n * in; i++) x[i] = (float)((i * 7) % 13) - 6;
    for (i = 0; i < (size_t)out * in; i++) w[i] = (float)((i * 5) % 11) - 5;
    for (k = 0; k <= reps; k++) {
        double t0 = now_s(), dt;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f,
                    x, in, w, in, 0.0f, y, out);
        dt = now_s() - t0;
        if (k > 0 && dt < best) best = dt;
    }
    free(x); free(w); free(y);
    return 2.0 * n * in * out / best * 1e-9;
}

int main(int argc, char **argv)
{
    int size = argc > 1 ? atoi(argv[1]) : 1024, th;
    for (th = 1; th <= 2; th++) {
        openblas_set_num_threads(th);
        printf("OpenBLAS sgemm threads %d: [%d x %d] x [%d x %d]^T %7.2f GFLOP/s;"
               " [1 x 4096] x [4096 x 4096]^T %7.2f GFLOP/s\n", th, size, size,
               size, size, gflops(size, size, size, 5), gflops(1, 4096, 4096, 10));
    }
    return 0;
}
