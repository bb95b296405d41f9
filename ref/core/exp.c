/* exp.c - lr_exp, llamaref's exponential (the method and its error: exp.h;
 * the constants and the vector form with the same bits: exp_internal.h).
 * Depends on: libc (memcpy) and math.h's HUGE_VAL only: no libm call. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/exp_internal.h"

/* 2^k for -1022 <= k <= 1023: the exponent field alone. */
static double pow2(int64_t k)
{
    const uint64_t b = (uint64_t)(k + 1023) << 52;
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

double lr_exp(double x)
{
    const double shift = EXP_SHIFT;
    const int normal = x >= -EXP_NORMAL && x <= EXP_NORMAL;
    double kd, rh, rl, r, r2, r4, q, s, y;
    uint64_t kb, sb;
    int64_t k;
    if (!normal) {
        if (x != x) return x;              /* NaN */
        if (x > 709.79) return HUGE_VAL;   /* e^709.79 > DBL_MAX */
        if (x < -745.2) return 0;          /* below half the least subnormal */
    }
    /* k = round(x / ln 2): the sum rounds to an integer (its last bit is
     * worth 1), which the subtraction then recovers exactly */
    kd = x * EXP_INVLN2 + shift;
    memcpy(&kb, &kd, sizeof kb);
    memcpy(&sb, &shift, sizeof sb);
    k = (int64_t)(kb - sb);
    kd = kd - shift;
    rh = x - kd * EXP_LN2HI;               /* exact */
    rl = kd * EXP_LN2LO;
    r = rh - rl;                           /* x - k ln 2, |r| <= 0.35 */
    r2 = r * r;
    r4 = r2 * r2;
    q = ((EXP_C2 + r * EXP_C3) + r2 * (EXP_C4 + r * EXP_C5)) +
        r4 * (((EXP_C6 + r * EXP_C7) + r2 * (EXP_C8 + r * EXP_C9)) +
              r4 * ((EXP_C10 + r * EXP_C11) + r2 * (EXP_C12 + r * EXP_C13)));
    /* e^r = 1 + r + r^2 q; 1 + rh is split into s and its exact error
     * (1 - s) + rh, so r's rounding and 1 + r's do not add up */
    s = 1.0 + rh;
    y = s + ((((1.0 - s) + rh) - rl) + r2 * q);
    if (normal) return y * pow2(k);
    if (k < 0) return y * pow2(k + 64) * 0x1p-64; /* one rounding */
    return y * pow2(k - 1) * 2.0;                  /* to +inf if it must */
}
