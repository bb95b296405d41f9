/* quant.c - GGML tensor types: the block formats of GGUF files, decoded to
 * lr_float, and the few quantisers export-gguf needs.  Depends on
 * common.c only (little-endian decoding, F16/BF16 conversions).
 *
 * Every block decoder below is one function that reads one block, with a
 * comment drawing the block's bytes.  Notation: "f16 d" is a 2-byte IEEE
 * half scale; q are the small unsigned integers packed in the block; the
 * element value is always an affine function of q with per-block (or per
 * sub-block) scale and offset.  Element j of a block is element
 * block_index * block_size + j of the row. */
#include "llamaref/formats/quant.h"

#include <math.h>
#include <string.h>

#define QK 32   /* elements per block of the "legacy" formats Q4_0 ... Q8_0 */
#define QK_K 256 /* elements per super-block of the K formats */

typedef struct type_row {
    uint32_t id;
    const char *name;
    size_t block_size, type_size;
    int dequant; /* lr_dequantize supports it */
} type_row;

static const type_row TYPES[] = {
    {LR_GGML_F32, "F32", 1, 4, 1},
    {LR_GGML_F16, "F16", 1, 2, 1},
    {LR_GGML_Q4_0, "Q4_0", QK, 2 + QK / 2, 1},
    {LR_GGML_Q4_1, "Q4_1", QK, 4 + QK / 2, 1},
    {LR_GGML_Q5_0, "Q5_0", QK, 2 + 4 + QK / 2, 1},
    {LR_GGML_Q5_1, "Q5_1", QK, 4 + 4 + QK / 2, 1},
    {LR_GGML_Q8_0, "Q8_0", QK, 2 + QK, 1},
    {LR_GGML_Q8_1, "Q8_1", QK, 4 + QK, 0},
    {LR_GGML_Q2_K, "Q2_K", QK_K, QK_K / 16 + QK_K / 4 + 4, 1},
    {LR_GGML_Q3_K, "Q3_K", QK_K, QK_K / 8 + QK_K / 4 + 12 + 2, 1},
    {LR_GGML_Q4_K, "Q4_K", QK_K, 4 + 12 + QK_K / 2, 1},
    {LR_GGML_Q5_K, "Q5_K", QK_K, 4 + 12 + QK_K / 8 + QK_K / 2, 1},
    {LR_GGML_Q6_K, "Q6_K", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2, 1},
    {LR_GGML_Q8_K, "Q8_K", QK_K, 4 + QK_K + QK_K / 8, 0},
    {LR_GGML_I8, "I8", 1, 1, 0},
    {LR_GGML_I16, "I16", 1, 2, 0},
    {LR_GGML_I32, "I32", 1, 4, 0},
    {LR_GGML_I64, "I64", 1, 8, 0},
    {LR_GGML_F64, "F64", 1, 8, 0},
    {LR_GGML_BF16, "BF16", 1, 2, 1},
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

static const type_row *find_type(uint32_t id)
{
    size_t i;
    for (i = 0; i < N_TYPES; i++)
        if (TYPES[i].id == id) return &TYPES[i];
    return NULL;
}

const char *lr_ggml_type_name(uint32_t type)
{
    const type_row *t = find_type(type);
    return t ? t->name : NULL;
}

int lr_ggml_type_info(uint32_t type, size_t *block_size, size_t *type_size)
{
    const type_row *t = find_type(type);
    if (!t) return -1;
    *block_size = t->block_size;
    *type_size = t->type_size;
    return 0;
}

int lr_ggml_type_can_dequantize(uint32_t type)
{
    const type_row *t = find_type(type);
    return t && t->dequant;
}

int lr_ggml_type_from_name(const char *name)
{
    size_t i, k;
    for (i = 0; i < N_TYPES; i++) {
        const char *a = TYPES[i].name;
        for (k = 0; a[k] && name[k]; k++) {
            char c = name[k];
            if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
            if (c != a[k]) break;
        }
        if (!a[k] && !name[k]) return (int)TYPES[i].id;
    }
    return -1;
}

/* An f16 scale as lr_float (exact: every half is a float). */
static lr_float f16(const unsigned char *p)
{
    return (lr_float)lr_f16_to_f32(lr_le16(p));
}

/* ---- the legacy 32-element formats ---- */

/* Q4_0 (18 bytes): f16 d | 16 bytes of 4-bit q.
 * Byte j holds element j in its low nibble and element j + 16 in its high
 * nibble.  y = d * (q - 8): symmetric, q - 8 in [-8, 7]. */
static void block_q4_0(const unsigned char *b, lr_float *y)
{
    lr_float d = f16(b);
    const unsigned char *qs = b + 2;
    int j;
    for (j = 0; j < QK / 2; j++) {
        y[j] = d * (lr_float)((qs[j] & 0x0F) - 8);
        y[j + QK / 2] = d * (lr_float)((qs[j] >> 4) - 8);
    }
}

/* Q4_1 (20 bytes): f16 d | f16 m | 16 bytes of 4-bit q (nibbles as Q4_0).
 * y = d * q + m: asymmetric, m is the block minimum. */
static void block_q4_1(const unsigned char *b, lr_float *y)
{
    lr_float d = f16(b), m = f16(b + 2);
    const unsigned char *qs = b + 4;
    int j;
    for (j = 0; j < QK / 2; j++) {
        y[j] = d * (lr_float)(qs[j] & 0x0F) + m;
        y[j + QK / 2] = d * (lr_float)(qs[j] >> 4) + m;
    }
}

/* Q5_0 (22 bytes): f16 d | u32 qh | 16 bytes of low nibbles.
 * 5-bit q: the low 4 bits are nibbles laid out as Q4_0, the fifth bit of
 * element j is bit j of qh.  y = d * (q - 16). */
static void block_q5_0(const unsigned char *b, lr_float *y)
{
    lr_float d = f16(b);
    uint32_t qh = lr_le32(b + 2);
    const unsigned char *qs = b + 6;
    int j;
    for (j = 0; j < QK / 2; j++) {
        int lo = (qs[j] & 0x0F) | (int)(((qh >> j) & 1u) << 4);
        int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
        y[j] = d * (lr_float)(lo - 16);
        y[j + QK / 2] = d * (lr_float)(hi - 16);
    }
}

/* Q5_1 (24 bytes): f16 d | f16 m | u32 qh | 16 bytes of low nibbles.
 * q as Q5_0, y = d * q + m. */
static void block_q5_1(const unsigned char *b, lr_float *y)
{
    lr_float d = f16(b), m = f16(b + 2);
    uint32_t qh = lr_le32(b + 4);
    const unsigned char *qs = b + 8;
    int j;
    for (j = 0; j < QK / 2; j++) {
        int lo = (qs[j] & 0x0F) | (int)(((qh >> j) & 1u) << 4);
        int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
        y[j] = d * (lr_float)lo + m;
        y[j + QK / 2] = d * (lr_float)hi + m;
    }
}

/* Q8_0 (34 bytes): f16 d | 32 signed bytes q.  y = q * d. */
static void block_q8_0(const unsigned char *b, lr_float *y)
{
    lr_float d = f16(b);
    int j;
    for (j = 0; j < QK; j++) {
        int q = b[2 + j] < 128 ? b[2 + j] : (int)b[2 + j] - 256;
        y[j] = (lr_float)q * d;
    }
}

/* ---- the K formats: 256-element super-blocks of 16 or 8 sub-blocks ---- */

/* Q2_K (84 bytes): 16 bytes scales | 64 bytes of 2-bit q | f16 d | f16 dmin.
 * Sixteen sub-blocks of 16 elements; scales[s] holds the sub-block's scale
 * (low nibble) and min (high nibble), both multiplied by the super-block's
 * d and dmin.  The 2-bit q fill the elements in two halves of 128: in half
 * h, element h*128 + 32*k + l is bits 2k..2k+1 of qs[h*32 + l].
 * y = (d * sc) * q - (dmin * m). */
static void block_q2_k(const unsigned char *b, lr_float *y)
{
    const unsigned char *scales = b, *qs = b + 16;
    lr_float d = f16(b + 80), dmin = f16(b + 82);
    int h, k, l;
    for (h = 0; h < 2; h++)
        for (k = 0; k < 4; k++)
            for (l = 0; l < 32; l++) {
                int e = h * 128 + k * 32 + l, s = e / 16;
                lr_float dl = d * (lr_float)(scales[s] & 0x0F);
                lr_float ml = dmin * (lr_float)(scales[s] >> 4);
                int q = (qs[h * 32 + l] >> (2 * k)) & 3;
                y[e] = dl * (lr_float)q - ml;
            }
}

/* Q3_K (110 bytes): 32 bytes hmask | 64 bytes of 2-bit low q | 12 bytes of
 * 6-bit scales | f16 d.
 * Low 2 bits of q as Q2_K; the third bit of element 32*k + l is bit k of
 * hmask[l], and a set bit means "no offset": q3 = low - (bit ? 0 : 4), so
 * q3 is in [-4, 3].  Sixteen 6-bit signed scales (stored + 32): scale s
 * has its low 4 bits in byte s (s < 8, low nibble) or byte s - 8 (high
 * nibble), and its top 2 bits at bits 2*(s/4) of byte 8 + s%4.
 * y = (d * (scale - 32)) * q3. */
static void block_q3_k(const unsigned char *b, lr_float *y)
{
    const unsigned char *hmask = b, *qs = b + 32, *sc = b + 96;
    lr_float d = f16(b + 108);
    lr_float dl[16];
    int s, h, k, l;
    for (s = 0; s < 16; s++) {
        int low = s < 8 ? (sc[s] & 0x0F) : (sc[s - 8] >> 4);
        int high = (sc[8 + s % 4] >> (2 * (s / 4))) & 3;
        dl[s] = d * (lr_float)((low | (high << 4)) - 32);
    }
    for (h = 0; h < 2; h++)
        for (k = 0; k < 4; k++)
            for (l = 0; l < 32; l++) {
                int e = h * 128 + k * 32 + l;
                int low = (qs[h * 32 + l] >> (2 * k)) & 3;
                int bit = (hmask[l] >> (e / 32)) & 1;
                y[e] = dl[e / 16] * (lr_float)(low - (bit ? 0 : 4));
            }
}

/* The 12 bytes of 6-bit scales and mins of Q4_K and Q5_K, for the eight
 * 32-element sub-blocks j: j < 4: scale = bytes[j] & 63, min = bytes[j+4]
 * & 63; j >= 4: the low 4 bits in byte 8 + j - 4 (scale: low nibble, min:
 * high nibble) and the top 2 bits in the spare top bits of bytes j - 4
 * (scale) and j (min). */
static void k_scale_min(const unsigned char *p, int j, int *sc, int *m)
{
    if (j < 4) {
        *sc = p[j] & 63;
        *m = p[j + 4] & 63;
    } else {
        *sc = (p[j + 4] & 0x0F) | ((p[j - 4] >> 6) << 4);
        *m = (p[j + 4] >> 4) | ((p[j] >> 6) << 4);
    }
}

/* Q4_K (144 bytes): f16 d | f16 dmin | 12 bytes scales/mins | 128 bytes of
 * 4-bit q.  Eight sub-blocks of 32; element 64*c + l (l < 32) is the low
 * nibble of qs[32*c + l], element 64*c + 32 + l its high nibble.
 * y = (d * sc) * q - (dmin * m). */
static void block_q4_k(const unsigned char *b, lr_float *y)
{
    lr_float d = f16(b), dmin = f16(b + 2);
    const unsigned char *scales = b + 4, *qs = b + 16;
    int j, l;
    for (j = 0; j < 8; j++) {
        int sc, m;
        lr_float dl, ml;
        k_scale_min(scales, j, &sc, &m);
        dl = d * (lr_float)sc;
        ml = dmin * (lr_float)m;
        for (l = 0; l < 32; l++) {
            int q = (qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 0x0F;
            y[32 * j + l] = dl * (lr_float)q - ml;
        }
    }
}

/* Q5_K (176 bytes): f16 d | f16 dmin | 12 bytes scales/mins | 32 bytes qh |
 * 128 bytes of low nibbles.  Low 4 bits as Q4_K; the fifth bit of element
 * 32*j + l is bit j of qh[l].  y = (d * sc) * q - (dmin * m). */
static void block_q5_k(const unsigned char *b, lr_float *y)
{
    lr_float d = f16(b), dmin = f16(b + 2);
    const unsigned char *scales = b + 4, *qh = b + 16, *qs = b + 48;
    int j, l;
    for (j = 0; j < 8; j++) {
        int sc, m;
        lr_float dl, ml;
        k_scale_min(scales, j, &sc, &m);
        dl = d * (lr_float)sc;
        ml = dmin * (lr_float)m;
        for (l = 0; l < 32; l++) {
            int q = ((qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 0x0F) |
                    (((qh[l] >> j) & 1) << 4);
            y[32 * j + l] = dl * (lr_float)q - ml;
        }
    }
}

/* Q6_K (210 bytes): 128 bytes ql (low 4 bits) | 64 bytes qh (high 2 bits) |
 * 16 signed bytes scales | f16 d.  In each half h of 128 elements:
 * element h*128 + 64*n + l (l < 64) has low nibble n of ql[h*64 + l];
 * element h*128 + 32*k + l (l < 32) has its high bits at bits 2k..2k+1 of
 * qh[h*32 + l].  q6 = q - 32 in [-32, 31]; sixteen sub-blocks of 16.
 * y = (d * scale) * q6. */
static void block_q6_k(const unsigned char *b, lr_float *y)
{
    const unsigned char *ql = b, *qh = b + 128, *sc = b + 192;
    lr_float d = f16(b + 208);
    int e;
    for (e = 0; e < QK_K; e++) {
        int h = e / 128, r = e % 128;
        int lo = (ql[h * 64 + r % 64] >> (4 * (r / 64))) & 0x0F;
        int hi = (qh[h * 32 + r % 32] >> (2 * (r / 32))) & 3;
        int s = sc[e / 16] < 128 ? sc[e / 16] : (int)sc[e / 16] - 256;
        lr_float dl = d * (lr_float)s;
        y[e] = dl * (lr_float)((lo | (hi << 4)) - 32);
    }
}

int lr_dequantize(uint32_t type, const unsigned char *src, size_t n_blocks,
                  lr_float *dst)
{
    void (*block)(const unsigned char *, lr_float *) = NULL;
    size_t bs, ts, i;
    if (!lr_ggml_type_can_dequantize(type) || lr_ggml_type_info(type, &bs, &ts)) return -1;
    switch (type) {
    case LR_GGML_F32:
        for (i = 0; i < n_blocks; i++) dst[i] = (lr_float)lr_f32_from_bits(lr_le32(src + 4 * i));
        return 0;
    case LR_GGML_F16:
        for (i = 0; i < n_blocks; i++) dst[i] = (lr_float)lr_f16_to_f32(lr_le16(src + 2 * i));
        return 0;
    case LR_GGML_BF16: /* the top 16 bits of a float */
        for (i = 0; i < n_blocks; i++) dst[i] = (lr_float)lr_bf16_to_f32(lr_le16(src + 2 * i));
        return 0;
    case LR_GGML_Q4_0: block = block_q4_0; break;
    case LR_GGML_Q4_1: block = block_q4_1; break;
    case LR_GGML_Q5_0: block = block_q5_0; break;
    case LR_GGML_Q5_1: block = block_q5_1; break;
    case LR_GGML_Q8_0: block = block_q8_0; break;
    case LR_GGML_Q2_K: block = block_q2_k; break;
    case LR_GGML_Q3_K: block = block_q3_k; break;
    case LR_GGML_Q4_K: block = block_q4_k; break;
    case LR_GGML_Q5_K: block = block_q5_k; break;
    case LR_GGML_Q6_K: block = block_q6_k; break;
    default: return -1;
    }
    for (i = 0; i < n_blocks; i++) block(src + i * ts, dst + i * bs);
    return 0;
}

/* ---- quantisers ---- */

/* Q8_0 as ggml's quantize_row_q8_0_ref: d = max|x| / 127, q = round(x / d)
 * (computed as x * (1/d), rounding half away from zero), d stored as F16. */
void lr_quantize_q8_0(const float *x, size_t n, unsigned char *out)
{
    size_t i;
    int j;
    for (i = 0; i < n / QK; i++) {
        const float *xb = x + i * QK;
        unsigned char *b = out + i * (2 + QK);
        float amax = 0, d, id;
        for (j = 0; j < QK; j++) {
            float a = fabsf(xb[j]);
            if (a > amax) amax = a;
        }
        d = amax / 127.0f;
        id = d != 0.0f ? 1.0f / d : 0.0f;
        lr_put_le16(b, lr_f32_to_f16(d));
        for (j = 0; j < QK; j++) {
            /* round half away from zero, as gguf-py's np_roundf */
            float v = xb[j] * id, a = fabsf(v), fl = floorf(a);
            float r = fl + floorf(2.0f * (a - fl));
            int q = (int)(v < 0 ? -r : r);
            b[2 + j] = (unsigned char)(q & 0xFF);
        }
    }
}

void lr_quantize_f16(const float *x, size_t n, unsigned char *out)
{
    size_t i;
    for (i = 0; i < n; i++) lr_put_le16(out + 2 * i, lr_f32_to_f16(x[i]));
}

void lr_quantize_bf16(const float *x, size_t n, unsigned char *out)
{
    size_t i;
    for (i = 0; i < n; i++) lr_put_le16(out + 2 * i, lr_f32_to_bf16(x[i]));
}
