/* quant.h - the GGML tensor types of GGUF files and their dequantisation:
 * the reference semantics of each block format, written from its definition
 * (ggml-common.h's block structs, as gguf-py's quants.py decodes them).
 *
 * A quantised tensor is a sequence of blocks; a block of `block_size`
 * consecutive elements (of one row) is stored in `type_size` bytes.  All
 * multi-byte fields are little-endian and decoded byte by byte, so the
 * same bytes give the same values on any host.
 *
 * Rounding: in the float build every step is a float operation in the
 * order gguf-py's NumPy code uses (its float32 output, bit for bit); in the
 * DOUBLE=1 build every step is a double operation, which is exact for all
 * these formats (an F16 scale times small integers fits in 53 bits), so the
 * result is the format's mathematical value. */
#ifndef LLAMAREF_QUANT_H
#define LLAMAREF_QUANT_H

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* GGML type ids as stored in GGUF tensor infos (ggml.h's enum ggml_type). */
typedef enum lr_ggml_type {
    LR_GGML_F32 = 0,
    LR_GGML_F16 = 1,
    LR_GGML_Q4_0 = 2,
    LR_GGML_Q4_1 = 3,
    LR_GGML_Q5_0 = 6,
    LR_GGML_Q5_1 = 7,
    LR_GGML_Q8_0 = 8,
    LR_GGML_Q8_1 = 9,
    LR_GGML_Q2_K = 10,
    LR_GGML_Q3_K = 11,
    LR_GGML_Q4_K = 12,
    LR_GGML_Q5_K = 13,
    LR_GGML_Q6_K = 14,
    LR_GGML_Q8_K = 15,
    LR_GGML_I8 = 24,
    LR_GGML_I16 = 25,
    LR_GGML_I32 = 26,
    LR_GGML_I64 = 27,
    LR_GGML_F64 = 28,
    LR_GGML_BF16 = 30
} lr_ggml_type;

/* Name ("Q4_K"), or NULL for a type id llamaref does not know. */
const char *lr_ggml_type_name(uint32_t type);
/* Elements per block and bytes per block; 0 and -1 for unknown ids. */
int lr_ggml_type_info(uint32_t type, size_t *block_size, size_t *type_size);
/* 1 when lr_dequantize supports the type (the float and block formats
 * listed in this header; not the integer types or Q8_1/Q8_K). */
int lr_ggml_type_can_dequantize(uint32_t type);
/* The type id for a name ("q8_0", case-insensitive), or -1. */
int lr_ggml_type_from_name(const char *name);

/* Decodes n_blocks consecutive blocks of `type` from src (n_blocks *
 * type_size bytes, as stored in the file) to dst (n_blocks * block_size
 * values, written; a row of a GGUF matrix is ne[0] / block_size blocks).
 * Returns 0, or -1 for a type lr_ggml_type_can_dequantize rejects (nothing
 * written).  Both buffers are the caller's; nothing is allocated.
 * There is no backward: the stored codes are integers, and the backward
 * pass through a quantised frozen weight W (QLoRA-style training) is the
 * matmul backward with the dequantised W, dx += dy W
 * (lr_matmul_backward_plain, matmul.h). */
int lr_dequantize(uint32_t type, const unsigned char *src, size_t n_blocks,
                  lr_float *dst);

/* Quantisers used by export-gguf, equal bit for bit to gguf-py's
 * quantize() (which follows ggml-quants.c's reference quantisers).  n is
 * a multiple of the block size (32 for Q8_0); out receives
 * n / block_size * type_size bytes. */
void lr_quantize_q8_0(const float *x, size_t n, unsigned char *out);
void lr_quantize_f16(const float *x, size_t n, unsigned char *out);
void lr_quantize_bf16(const float *x, size_t n, unsigned char *out);

#ifdef __cplusplus
}
#endif

#endif
