/* dtype.h - the element types of tensors, independent of any file format:
 * the safetensors names (F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL),
 * element sizes, and decoding of little-endian float elements to host
 * values.  Used by safetensors.h, gguf.h and the kernels (matmul.h takes
 * weights in their stored dtype).  Depends on common.h only. */
#ifndef LLAMAREF_DTYPE_H
#define LLAMAREF_DTYPE_H

#include <stddef.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lr_dtype {
    LR_F64,
    LR_F32,
    LR_F16,
    LR_BF16,
    LR_I64,
    LR_I32,
    LR_I16,
    LR_I8,
    LR_U8,
    LR_BOOL,
    LR_DTYPE_COUNT
} lr_dtype;

/* The dtype that holds an lr_float (LR_F32, or LR_F64 in DOUBLE builds). */
#ifdef LR_DOUBLE
#define LR_FLOAT_DTYPE LR_F64
#else
#define LR_FLOAT_DTYPE LR_F32
#endif

const char *lr_dtype_name(lr_dtype d);             /* "F32", "BF16", ... */
/* The dtype of a safetensors name ("BF16", exact case) to *out: 0, or -1
 * for an unknown name (*out untouched). */
int lr_dtype_from_name(const char *name, lr_dtype *out);
/* Bytes per element; 0 for an invalid d. */
size_t lr_dtype_size(lr_dtype d);
/* 1 for the floating-point types F64, F32, F16, BF16. */
int lr_dtype_is_float(lr_dtype d);

/* Converts n little-endian elements of dtype src_dtype to host values. */
void lr_decode_to_f32(lr_dtype src_dtype, const unsigned char *src,
                      size_t n, float *dst);
void lr_decode_to_f64(lr_dtype src_dtype, const unsigned char *src,
                      size_t n, double *dst);

#ifdef __cplusplus
}
#endif

#endif
