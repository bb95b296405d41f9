/* vec_internal.h - the vector types the fast kernels (lora_linear.c,
 * attention.c, mlp.c, loss.c) are written with (internal to ref/, not
 * installed).
 *
 * GCC/clang vector extensions: a kernel body is written once as an
 * always-inline function and compiled for AVX-512 and AVX2 (chosen at run
 * time on x86-64, VEC_X86_DISPATCH) and for the build's default instruction
 * set.  Lanes only ever hold independent outputs, and every lane does the
 * plain-C definition's multiply, then add (-ffp-contract=off, no FMA), so
 * a vector kernel gives the definition's bits on every target.  Where the
 * compiler has no vector extensions (tcc), VEC_HAVE is 0 and the callers
 * use their plain-C definitions; so do targets other than x86-64 (below). */
#ifndef LLAMAREF_VEC_INTERNAL_H
#define LLAMAREF_VEC_INTERNAL_H

#include <string.h>

#include "llamaref/core/common.h"

/* x86-64 and aarch64 only.  The plain-C definitions are evaluated as the
 * target's C evaluates float: on s390x (FLT_EVAL_METHOD 1 under -std=c99:
 * float sums and products in double) and i686 (x87, 2) with excess
 * precision, which float lanes do not reproduce, so the vector bodies gave
 * other bits there (test_kernels, test_lora under qemu-s390x; not FMA
 * contraction); armhf's NEON flushes subnormals.  aarch64 (FLT_EVAL_METHOD
 * 0, IEEE vectors) passes test_kernels and test_lora under qemu. */
#if LR_SIMD && defined(__GNUC__) && !defined(__TINYC__) && !defined(__PCC__) && \
    (defined(__x86_64__) || defined(__aarch64__))
#define VEC_HAVE 1
#if !defined(__clang__)
/* the vector helpers are always inlined: no vector crosses a call ABI */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#define VEC_INLINE static inline __attribute__((always_inline))
typedef lr_float vec16 __attribute__((vector_size(16 * sizeof(lr_float))));
typedef lr_float vec8 __attribute__((vector_size(8 * sizeof(lr_float))));
typedef lr_float vec4 __attribute__((vector_size(4 * sizeof(lr_float))));

VEC_INLINE vec16 v16_load(const lr_float *p)
{
    vec16 v;
    memcpy(&v, p, sizeof v);
    return v;
}

VEC_INLINE void v16_store(lr_float *p, vec16 v) { memcpy(p, &v, sizeof v); }

VEC_INLINE vec16 v16_splat(lr_float s)
{
    vec16 v = {0};
    int j;
    /* element-wise, not `v + s` (see matmul_backward.c's vsplat) */
    for (j = 0; j < 16; j++) v[j] = s;
    return v;
}

VEC_INLINE vec8 v8_load(const lr_float *p)
{
    vec8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

VEC_INLINE void v8_store(lr_float *p, vec8 v) { memcpy(p, &v, sizeof v); }

VEC_INLINE vec4 v4_load(const lr_float *p)
{
    vec4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

VEC_INLINE void v4_store(lr_float *p, vec4 v) { memcpy(p, &v, sizeof v); }

VEC_INLINE vec8 v8_splat(lr_float s)
{
    vec8 v = {0};
    int j;
    for (j = 0; j < 8; j++) v[j] = s;
    return v;
}

#if defined(__x86_64__) && (!defined(__clang__) || __clang_major__ >= 9)
#define VEC_X86_DISPATCH 1
#else
#define VEC_X86_DISPATCH 0
#endif
#else
#define VEC_HAVE 0
#define VEC_X86_DISPATCH 0
#define VEC_INLINE static /* the plain-C bodies: ordinary functions */
#endif

#endif
