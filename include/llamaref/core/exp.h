/* exp.h - llamaref's own exponential, the exp of every softmax, SiLU and
 * log-sum-exp of the model (attention, SwiGLU, the loss and everything
 * scored with it).
 *
 * Written out in plain C99 so that the definition does not depend on the
 * C library: glibc, musl and macOS round exp's last bit differently, and
 * attention sums exp's unrounded double.  Every IEEE double target with
 * FLT_EVAL_METHOD 0 (x86-64, aarch64, i686 with SSE2) gets the same bits,
 * and the vector kernels compute the same operations lane by lane
 * (ref/core/exp_internal.h).  The method, for a backend to reproduce:
 *
 *   k  = round-to-nearest-even(x / ln 2)     (x * 1/ln2 + 1.5*2^52 - 1.5*2^52)
 *   rh = x - k ln2_hi  (exact),  rl = k ln2_lo,  r = rh - rl,  |r| <= 0.35
 *   q  = 1/2! + r/3! + ... + r^11/13!        (Taylor, evaluated as below)
 *   exp(x) = 2^k (s + (((1 - s) + rh) - rl + r^2 q)),  s = 1 + rh
 *
 * q in Estrin's order: with r2 = r r, r4 = r2 r2 and c_n = 1/n! rounded to
 * double, q = (a + r2 b) + r4 ((c + r2 d) + r4 (e + r2 f)), a = c2 + r c3,
 * b = c4 + r c5, c = c6 + r c7, d = c8 + r c9, e = c10 + r c11,
 * f = c12 + r c13; every operation rounds once (no FMA).  Error below
 * 0.75 units in the last place (0.73 the worst seen over 16 million
 * arguments; tests/core/test_exp.c checks 2 million against long
 * double's expl); exp(0) = 1 exactly.  Outside [-708, 708]: +inf above 709.79,
 * +0 below -745.2, NaN for NaN, and between, 2^k applied in two steps
 * (2^(k+64) then 2^-64 below, 2^(k-1) then 2 above: one rounding into the
 * subnormal range). */
#ifndef LLAMAREF_EXP_H
#define LLAMAREF_EXP_H

#ifdef __cplusplus
extern "C" {
#endif

/* e^x in double by the method above: the same bits on every IEEE double
 * target (NaN for NaN, +inf above 709.79, +0 below -745.2). */
double lr_exp(double x);

#ifdef __cplusplus
}
#endif

#endif
