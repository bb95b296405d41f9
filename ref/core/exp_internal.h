/* exp_internal.h - the constants of lr_exp (exp.h, ref/core/exp.c) and its
 * 4-lane vector form for the kernels (internal to ref/, not installed).
 * exp_v4 does, lane by lane, the operations of lr_exp in the same order
 * (-ffp-contract=off: each multiply and add rounds once), so each lane
 * holds lr_exp's bits; a vector with a lane outside [-708, 708] (or NaN)
 * is computed by lr_exp lane by lane.  tests/core/test_exp.c checks both.
 * Depends on: exp.h, vec_internal.h (VEC_HAVE, VEC_INLINE). */
#ifndef LLAMAREF_EXP_INTERNAL_H
#define LLAMAREF_EXP_INTERNAL_H

#include "llamaref/core/exp.h"
#include "core/vec_internal.h"

#define EXP_INVLN2 0x1.71547652b82fep+0      /* 1 / ln 2 */
#define EXP_SHIFT 0x1.8p+52                  /* rounds to an integer */
#define EXP_LN2HI 0x1.62e42feep-1            /* ln 2, 32 bits: k ln2_hi exact */
#define EXP_LN2LO 0x1.a39ef35793c76p-33      /* ln 2 - ln2_hi */
#define EXP_NORMAL 708.0                     /* |x| <= this: 2^k is normal */
/* c_n = 1/n!, rounded to double */
#define EXP_C2 0.5
#define EXP_C3 0.16666666666666666
#define EXP_C4 0.041666666666666664
#define EXP_C5 0.008333333333333333
#define EXP_C6 0.001388888888888889
#define EXP_C7 0.0001984126984126984
#define EXP_C8 2.48015873015873e-05
#define EXP_C9 2.7557319223985893e-06
#define EXP_C10 2.755731922398589e-07
#define EXP_C11 2.505210838544172e-08
#define EXP_C12 2.08767569878681e-09
#define EXP_C13 1.6059043836821613e-10

#if VEC_HAVE
typedef double exp_d4 __attribute__((vector_size(4 * sizeof(double))));
typedef long long exp_l4 __attribute__((vector_size(4 * sizeof(long long))));

VEC_INLINE exp_d4 exp_splat(double c)
{
    exp_d4 v;
    v[0] = c; v[1] = c; v[2] = c; v[3] = c;
    return v;
}

/* 4 lr_floats as doubles (exact) */
VEC_INLINE exp_d4 exp_load4(const lr_float *p)
{
    exp_d4 v;
    v[0] = p[0]; v[1] = p[1]; v[2] = p[2]; v[3] = p[3];
    return v;
}

/* 4 doubles rounded to lr_float lane by lane (the conversion rounds to
 * nearest as the scalar cast does: the same bits) */
VEC_INLINE vec4 exp_narrow4(exp_d4 v)
{
    return __builtin_convertvector(v, vec4);
}

/* lr_exp of each lane, the same bits. */
VEC_INLINE exp_d4 exp_v4(exp_d4 x)
{
    const exp_l4 in = (x >= exp_splat(-EXP_NORMAL)) & (x <= exp_splat(EXP_NORMAL));
    exp_d4 kd, rh, rl, r, r2, r4, q, s, y;
    exp_l4 k;
    if (!(in[0] & in[1] & in[2] & in[3])) {
        y[0] = lr_exp(x[0]); y[1] = lr_exp(x[1]);
        y[2] = lr_exp(x[2]); y[3] = lr_exp(x[3]);
        return y;
    }
    kd = x * exp_splat(EXP_INVLN2) + exp_splat(EXP_SHIFT);
    k = (exp_l4)kd - (exp_l4)exp_splat(EXP_SHIFT);
    kd = kd - exp_splat(EXP_SHIFT);
    rh = x - kd * exp_splat(EXP_LN2HI);
    rl = kd * exp_splat(EXP_LN2LO);
    r = rh - rl;
    r2 = r * r;
    r4 = r2 * r2;
    q = ((exp_splat(EXP_C2) + r * exp_splat(EXP_C3)) +
         r2 * (exp_splat(EXP_C4) + r * exp_splat(EXP_C5))) +
        r4 * (((exp_splat(EXP_C6) + r * exp_splat(EXP_C7)) +
               r2 * (exp_splat(EXP_C8) + r * exp_splat(EXP_C9))) +
              r4 * ((exp_splat(EXP_C10) + r * exp_splat(EXP_C11)) +
                    r2 * (exp_splat(EXP_C12) + r * exp_splat(EXP_C13))));
    s = exp_splat(1.0) + rh;
    y = s + ((((exp_splat(1.0) - s) + rh) - rl) + r2 * q);
    return y * (exp_d4)((k + 1023) << 52);
}
#endif

#endif
