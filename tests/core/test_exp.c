/* test_exp.c - lr_exp (exp.h): special values, the overflow and underflow
 * edges, its error against long double's expl (against libm's exp where
 * long double is double) on random arguments over the whole range, and the
 * vector form of the kernels (exp_internal.h's exp_v4, in the baseline
 * build and in the AVX2 / AVX-512 clones where the CPU has them) giving
 * lr_exp's bits lane by lane, special lanes mixed in. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "harness.h"
#include "llamaref.h"
#include "core/exp_internal.h"

/* the arguments: SplitMix64 draws spread over [lo, hi] */
static double arg_at(lr_rng *g, double lo, double hi)
{
    return lo + (hi - lo) * lr_rng_double(g);
}

static void test_exp_special(void)
{
    const double inf = HUGE_VAL;
    double nan_ = inf - inf, e;
    CHECK(lr_exp(0.0) == 1.0);
    CHECK(lr_exp(-0.0) == 1.0);
    CHECK(lr_exp(-inf) == 0.0);
    CHECK(lr_exp(inf) == inf);
    e = lr_exp(nan_);
    CHECK(e != e);
    CHECK(lr_exp(710.0) == inf);
    CHECK(lr_exp(709.79) == inf);
    /* just below ln(DBL_MAX) = 709.782712893384: finite, near DBL_MAX */
    e = lr_exp(709.7827128933);
    CHECK(e < inf && e > 0.99999 * DBL_MAX);
    CHECK(lr_exp(-745.2) == 0.0);
    CHECK(lr_exp(-800.0) == 0.0);
    /* the least subnormal, 2^-1074 = e^-744.44 */
    CHECK(lr_exp(-744.5) == 0x1p-1074);
    /* the subnormal range: within one subnormal unit of libm's exp */
    {
        double x;
        for (x = -745.0; x < -708.0; x += 0.37) {
            e = lr_exp(x);
            CHECK(fabs(e - exp(x)) <= 0x1p-1074);
            if (fabs(e - exp(x)) > 0x1p-1074) break;
        }
    }
    /* exact powers where exp is known: e^(k ln 2) within 1 ulp of 2^k */
    CHECK(fabs(lr_exp(1.0) - 2.718281828459045) <= 4.5e-16);
    CHECK(fabs(lr_exp(-1.0) - 0.36787944117144233) <= 5.6e-17);
}

/* units in the last place of lr_exp(x) against expl(x), or against libm's
 * exp where long double is double (armhf) */
static double ulp_error(double x)
{
    long double t = LDBL_MANT_DIG < 64 ? (long double)exp(x)
                                       : expl((long double)x);
    int ex;
    frexpl(t, &ex);
    return (double)(fabsl((long double)lr_exp(x) - t) / ldexpl(1.0L, ex - 53));
}

static void test_exp_error(void)
{
    lr_rng g;
    double worst = 0, wx = 0;
    long i;
    lr_rng_seed(&g, 12345);
    for (i = 0; i < 2000000; i++) {
        /* the whole normal range, and the softmax's [-30, 0] densely */
        const double x = i % 3 == 0 ? arg_at(&g, -708.3, 709.7)
                         : i % 3 == 1 ? arg_at(&g, -30.0, 0.0)
                                      : arg_at(&g, -0.36, 0.36);
        const double u = ulp_error(x);
        if (u > worst) { worst = u; wx = x; }
    }
    printf("    lr_exp: worst error %.3f ulp (x = %.17g) over 2e6 arguments%s\n",
           worst, wx, LDBL_MANT_DIG < 64 ? ", against libm's exp" : "");
    /* libm's exp is itself up to ~0.5 ulp off: then 1.25 */
    CHECK(worst < (LDBL_MANT_DIG < 64 ? 1.25 : 0.75));
}

#if VEC_HAVE
/* exp_v4 over xs[n] (n a multiple of 4) into ys; inlined into each clone
 * below (vectors cross no call: clang checks the ABI) */
VEC_INLINE void exp_rows_body(double *ys, const double *xs, int n)
{
    int i;
    for (i = 0; i < n; i += 4) {
        exp_d4 v;
        memcpy(&v, xs + i, sizeof v);
        v = exp_v4(v);
        memcpy(ys + i, &v, sizeof v);
    }
}

static void exp_rows_base(double *ys, const double *xs, int n)
{
    exp_rows_body(ys, xs, n);
}

#if VEC_X86_DISPATCH
__attribute__((target("avx2")))
static void exp_rows_avx2(double *ys, const double *xs, int n)
{
    exp_rows_body(ys, xs, n);
}

__attribute__((target("avx512f")))
static void exp_rows_avx512(double *ys, const double *xs, int n)
{
    exp_rows_body(ys, xs, n);
}
#endif

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void check_rows(void (*f)(double *, const double *, int),
                       const double *xs, double *ys, int n)
{
    int i, bad = 0;
    f(ys, xs, n);
    for (i = 0; i < n; i++)
        if (!same_bits(ys[i], lr_exp(xs[i])) &&
            !(ys[i] != ys[i] && xs[i] != xs[i]) && bad++ < 3)
            fprintf(stderr, "    exp_v4(%.17g) = %.17g, lr_exp %.17g\n",
                    xs[i], ys[i], lr_exp(xs[i]));
    CHECK(bad == 0);
}
#endif

static void test_exp_vector_bits(void)
{
#if VEC_HAVE
    enum { N = 1 << 16 };
    static double xs[N], ys[N];
    const double special[] = {0.0, -0.0, HUGE_VAL, -HUGE_VAL, 710.0,
                              -746.0, -720.5, 708.9, -708.0, 708.0};
    lr_rng g;
    int i;
    lr_rng_seed(&g, 777);
    for (i = 0; i < N; i++)
        xs[i] = i % 4 == 0 ? arg_at(&g, -745.0, 709.7)
                : i % 4 == 1 ? arg_at(&g, -40.0, 0.0)
                             : arg_at(&g, -1.0, 1.0);
    /* special values in every lane position of a few vectors */
    for (i = 0; i < (int)(sizeof special / sizeof *special); i++)
        xs[1000 + 5 * i] = special[i];
    xs[2000] = HUGE_VAL - HUGE_VAL; /* NaN */
    check_rows(exp_rows_base, xs, ys, N);
#if VEC_X86_DISPATCH
    if (__builtin_cpu_supports("avx2")) check_rows(exp_rows_avx2, xs, ys, N);
    if (__builtin_cpu_supports("avx512f")) check_rows(exp_rows_avx512, xs, ys, N);
#endif
#else
    SKIP("no vector extensions in this build");
#endif
}

int main(void)
{
    RUN(test_exp_special);
    RUN(test_exp_error);
    RUN(test_exp_vector_bits);
    return h_finish("exp");
}
