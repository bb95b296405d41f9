/* bench_bcast.c - `make bench-bcast`: why the AVX-512 backward kernels
 * broadcast dy inside their multiplies (matmul_internal.h, mul_bcast).
 * Three loops of the dx kernel's shape, on data in L1, one thread:
 *   registers   16 accumulators += g * w, every operand in a register
 *               (the core's peak of separate multiplies and additions)
 *   vbroadcast  per step 4 vector loads of w and 4 scalars of g each
 *               broadcast by vbroadcastss and used 4 times (what GCC and
 *               clang emit for vsplat(g[k]) * w)
 *   embedded    the same, each g read by its multiply ({1to16})
 * GFLOP/s counts a multiply and an addition as two.  x86-64 with AVX-512
 * only, built by GCC (make's cc here; clang lays these loops out
 * differently and times something else); a benchmark of the machine, not
 * of llamaref (figures in docs/performance.md, tenth round).
 *
 * usage: bench_bcast [ROUNDS]   (default 3; the best of them is printed) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
typedef float v16 __attribute__((vector_size(64)));

#define STEPS 256 /* steps of the inner loop: w is STEPS x 64 floats */
#define PASSES 4000

static float w_buf[STEPS * 64] __attribute__((aligned(64)));
static float g_buf[4][STEPS];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 16 accumulators a[r][c] += g_r * w_c: 4 rows x 4 vectors */
#define BLOCK(G0, G1, G2, G3)                                                  \
    a00 += G0 * w0; a01 += G0 * w1; a02 += G0 * w2; a03 += G0 * w3;           \
    a10 += G1 * w0; a11 += G1 * w1; a12 += G1 * w2; a13 += G1 * w3;           \
    a20 += G2 * w0; a21 += G2 * w1; a22 += G2 * w2; a23 += G2 * w3;           \
    a30 += G3 * w0; a31 += G3 * w1; a32 += G3 * w2; a33 += G3 * w3

/* g * w with g broadcast inside the multiply */
__attribute__((target("avx512f"))) static inline v16 mulb(const float *g,
                                                          v16 w)
{
    v16 p;
    __asm__("vmulps %1%{1to16%}, %2, %0" : "=v"(p) : "m"(*g), "v"(w));
    return p;
}

/* which: 0 registers, 1 vbroadcast, 2 embedded; returns seconds */
__attribute__((target("avx512f"))) static double run(int which, float *sink)
{
    v16 a00 = {0}, a01 = {0}, a02 = {0}, a03 = {0}, a10 = {0}, a11 = {0};
    v16 a12 = {0}, a13 = {0}, a20 = {0}, a21 = {0}, a22 = {0}, a23 = {0};
    v16 a30 = {0}, a31 = {0}, a32 = {0}, a33 = {0};
    v16 w0, w1, w2, w3, g0, g1, g2, g3;
    double t = now();
    int p, o, j;
    memcpy(&w0, w_buf, 64); w1 = w0; w2 = w0; w3 = w0;
    for (j = 0; j < 16; j++) {
        g0[j] = g_buf[0][0]; g1[j] = g_buf[1][0];
        g2[j] = g_buf[2][0]; g3[j] = g_buf[3][0];
    }
    for (p = 0; p < PASSES; p++) {
        const float *w = w_buf;
        __asm__ volatile("" : "+r"(w));
        for (o = 0; o < STEPS; o++, w += 64) {
            if (which == 0) {
                /* operands kept in registers, opaque to the compiler */
                __asm__ volatile("" : "+v"(w0), "+v"(w1), "+v"(w2), "+v"(w3));
                __asm__ volatile("" : "+v"(g0), "+v"(g1), "+v"(g2), "+v"(g3));
                BLOCK(g0, g1, g2, g3);
                continue;
            }
            memcpy(&w0, w, 64); memcpy(&w1, w + 16, 64);
            memcpy(&w2, w + 32, 64); memcpy(&w3, w + 48, 64);
            if (which == 1) {
                for (j = 0; j < 16; j++) {
                    g0[j] = g_buf[0][o]; g1[j] = g_buf[1][o];
                    g2[j] = g_buf[2][o]; g3[j] = g_buf[3][o];
                }
                BLOCK(g0, g1, g2, g3);
            } else {
                a00 += mulb(&g_buf[0][o], w0); a01 += mulb(&g_buf[0][o], w1);
                a02 += mulb(&g_buf[0][o], w2); a03 += mulb(&g_buf[0][o], w3);
                a10 += mulb(&g_buf[1][o], w0); a11 += mulb(&g_buf[1][o], w1);
                a12 += mulb(&g_buf[1][o], w2); a13 += mulb(&g_buf[1][o], w3);
                a20 += mulb(&g_buf[2][o], w0); a21 += mulb(&g_buf[2][o], w1);
                a22 += mulb(&g_buf[2][o], w2); a23 += mulb(&g_buf[2][o], w3);
                a30 += mulb(&g_buf[3][o], w0); a31 += mulb(&g_buf[3][o], w1);
                a32 += mulb(&g_buf[3][o], w2); a33 += mulb(&g_buf[3][o], w3);
            }
        }
    }
    t = now() - t;
    a00 += a01 + a02 + a03 + a10 + a11 + a12 + a13 + a20 + a21 + a22 + a23 +
           a30 + a31 + a32 + a33;
    for (j = 0; j < 16; j++) *sink += a00[j];
    return t;
}

int main(int argc, char **argv)
{
    static const char *name[3] = {"registers", "vbroadcast", "embedded"};
    const int rounds = argc > 1 ? atoi(argv[1]) : 3;
    const double flops = 2.0 * 16 * 16 * STEPS * (double)PASSES;
    float sink = 0;
    int i, k, r;
    if (rounds < 1) {
        fprintf(stderr, "usage: bench_bcast [ROUNDS >= 1]\n");
        return 2;
    }
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) {
        fprintf(stderr, "bench_bcast: this CPU has no AVX-512\n");
        return 1;
    }
    for (i = 0; i < STEPS * 64; i++) w_buf[i] = 0.5f + 1e-6f * (float)i;
    for (k = 0; k < 4; k++)
        for (i = 0; i < STEPS; i++) g_buf[k][i] = 1e-3f * (float)(k + 1);
    for (k = 0; k < 3; k++) {
        double best = 1e30;
        for (r = 0; r < rounds; r++) {
            double t = run(k, &sink);
            if (t < best) best = t;
        }
        printf("bench_bcast: %-10s 4 x 4 block, mul + add: %6.1f GFLOP/s\n",
               name[k], flops / best * 1e-9);
    }
    return sink == 12345.0f; /* keeps the sums alive */
}
#else
int main(void)
{
    fprintf(stderr, "bench_bcast: needs x86-64 and GCC or clang\n");
    return 1;
}
#endif
