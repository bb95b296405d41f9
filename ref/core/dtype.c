/* dtype.c - the element types of tensor files (safetensors names: F64,
 * F32, F16, BF16, I64, I32, I16, I8, U8, BOOL), their sizes, and decoding
 * little-endian floats to host float / double.  Depends on common.c (the
 * byte-order and half-precision helpers). */
#include "llamaref/core/dtype.h"

#include <string.h>

/* ---- dtypes ---- */

static const struct {
    const char *name;
    size_t size;
} dtype_info[LR_DTYPE_COUNT] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
    {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1},
};

const char *lr_dtype_name(lr_dtype d)
{
    return (unsigned)d < LR_DTYPE_COUNT ? dtype_info[d].name : "?";
}

size_t lr_dtype_size(lr_dtype d)
{
    return (unsigned)d < LR_DTYPE_COUNT ? dtype_info[d].size : 0;
}

int lr_dtype_from_name(const char *name, lr_dtype *out)
{
    int i;
    for (i = 0; i < LR_DTYPE_COUNT; i++)
        if (!strcmp(name, dtype_info[i].name)) {
            *out = (lr_dtype)i;
            return 0;
        }
    return -1;
}

int lr_dtype_is_float(lr_dtype d)
{
    return d == LR_F64 || d == LR_F32 || d == LR_F16 || d == LR_BF16;
}

/* ---- decoding ---- */

void lr_decode_to_f32(lr_dtype dt, const unsigned char *src, size_t n,
                      float *dst)
{
    size_t i;
    switch (dt) {
    case LR_F64:
        for (i = 0; i < n; i++) dst[i] = (float)lr_f64_from_bits(lr_le64(src + 8 * i));
        break;
    case LR_F32:
        for (i = 0; i < n; i++) dst[i] = lr_f32_from_bits(lr_le32(src + 4 * i));
        break;
    case LR_F16:
        for (i = 0; i < n; i++) dst[i] = lr_f16_to_f32(lr_le16(src + 2 * i));
        break;
    case LR_BF16:
        for (i = 0; i < n; i++) dst[i] = lr_bf16_to_f32(lr_le16(src + 2 * i));
        break;
    default:
        for (i = 0; i < n; i++) dst[i] = 0;
    }
}

void lr_decode_to_f64(lr_dtype dt, const unsigned char *src, size_t n,
                      double *dst)
{
    size_t i;
    if (dt == LR_F64) {
        for (i = 0; i < n; i++) dst[i] = lr_f64_from_bits(lr_le64(src + 8 * i));
        return;
    }
    /* every narrower float converts exactly through float */
    for (i = 0; i < n; i++) {
        float f;
        lr_decode_to_f32(dt, src + i * lr_dtype_size(dt), 1, &f);
        dst[i] = f;
    }
}
