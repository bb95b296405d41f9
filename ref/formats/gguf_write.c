/* gguf_write.c - the GGUF writer (little-endian, version 3): metadata
 * key/values and tensors in the order added, data aligned to 32 bytes,
 * written atomically.  The format is summarised in gguf.h.  Depends on
 * common.c (buffers, byte order, atomic writes) and quant.c (block sizes). */
#include "llamaref/formats/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/formats/quant.h"

/* ---- writer ---- */

typedef struct w_tensor {
    char *name;
    uint32_t type;
    int n_dims;
    uint64_t ne[LR_GGUF_MAX_DIMS];
    unsigned char *data;
    size_t nbytes;
} w_tensor;

struct lr_gguf_writer {
    lr_buf kv;
    size_t n_kv;
    w_tensor *t;
    size_t n_t, cap_t;
};

lr_gguf_writer *lr_gguf_writer_new(lr_error *err)
{
    lr_gguf_writer *w = calloc(1, sizeof *w);
    if (!w) lr_fail(err, "out of memory");
    return w;
}

void lr_gguf_writer_free(lr_gguf_writer *w)
{
    size_t i;
    if (!w) return;
    for (i = 0; i < w->n_t; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    free(w->t);
    lr_buf_free(&w->kv);
    free(w);
}

static void put_u32(lr_buf *b, uint32_t v)
{
    unsigned char x[4];
    lr_put_le32(x, v);
    lr_buf_append(b, x, 4);
}

static void put_u64(lr_buf *b, uint64_t v)
{
    unsigned char x[8];
    lr_put_le64(x, v);
    lr_buf_append(b, x, 8);
}

static void put_str(lr_buf *b, const char *s, size_t n)
{
    put_u64(b, n);
    lr_buf_append(b, s, n);
}

static int kv_head(lr_gguf_writer *w, const char *key, uint32_t type)
{
    put_str(&w->kv, key, strlen(key));
    put_u32(&w->kv, type);
    w->n_kv++;
    return 0;
}

static int kv_done(lr_gguf_writer *w, const char *key, lr_error *err)
{
    if (w->kv.oom) return lr_fail(err, "out of memory writing GGUF metadata \"%s\"", key);
    return 0;
}

int lr_gguf_writer_str(lr_gguf_writer *w, const char *key, const char *val, lr_error *err)
{
    kv_head(w, key, LR_GGUF_STRING);
    put_str(&w->kv, val, strlen(val));
    return kv_done(w, key, err);
}

int lr_gguf_writer_u32(lr_gguf_writer *w, const char *key, uint32_t val, lr_error *err)
{
    kv_head(w, key, LR_GGUF_UINT32);
    put_u32(&w->kv, val);
    return kv_done(w, key, err);
}

int lr_gguf_writer_i32(lr_gguf_writer *w, const char *key, int32_t val, lr_error *err)
{
    kv_head(w, key, LR_GGUF_INT32);
    put_u32(&w->kv, (uint32_t)val);
    return kv_done(w, key, err);
}

int lr_gguf_writer_f32(lr_gguf_writer *w, const char *key, float val, lr_error *err)
{
    kv_head(w, key, LR_GGUF_FLOAT32);
    put_u32(&w->kv, lr_f32_to_bits(val));
    return kv_done(w, key, err);
}

int lr_gguf_writer_bool(lr_gguf_writer *w, const char *key, int val, lr_error *err)
{
    unsigned char b = val ? 1 : 0;
    kv_head(w, key, LR_GGUF_BOOL);
    lr_buf_append(&w->kv, &b, 1);
    return kv_done(w, key, err);
}

int lr_gguf_writer_str_array(lr_gguf_writer *w, const char *key, const char *const *strs,
                             const size_t *lens, size_t n, lr_error *err)
{
    size_t i;
    kv_head(w, key, LR_GGUF_ARRAY);
    put_u32(&w->kv, LR_GGUF_STRING);
    put_u64(&w->kv, n);
    for (i = 0; i < n; i++) put_str(&w->kv, strs[i], lens[i]);
    return kv_done(w, key, err);
}

int lr_gguf_writer_i32_array(lr_gguf_writer *w, const char *key, const int32_t *v,
                             size_t n, lr_error *err)
{
    size_t i;
    kv_head(w, key, LR_GGUF_ARRAY);
    put_u32(&w->kv, LR_GGUF_INT32);
    put_u64(&w->kv, n);
    for (i = 0; i < n; i++) put_u32(&w->kv, (uint32_t)v[i]);
    return kv_done(w, key, err);
}

int lr_gguf_writer_f32_array(lr_gguf_writer *w, const char *key, const float *v,
                             size_t n, lr_error *err)
{
    size_t i;
    kv_head(w, key, LR_GGUF_ARRAY);
    put_u32(&w->kv, LR_GGUF_FLOAT32);
    put_u64(&w->kv, n);
    for (i = 0; i < n; i++) put_u32(&w->kv, lr_f32_to_bits(v[i]));
    return kv_done(w, key, err);
}

int lr_gguf_writer_tensor(lr_gguf_writer *w, const char *name, uint32_t type, int n_dims,
                          const uint64_t *ne, const float *data, lr_error *err)
{
    w_tensor *t;
    size_t bs, ts, nelem = 1, i;
    int d;
    if (n_dims < 1 || n_dims > LR_GGUF_MAX_DIMS)
        return lr_fail(err, "GGUF tensor \"%s\": %d dimensions", name, n_dims);
    if (type != LR_GGML_F32 && type != LR_GGML_F16 && type != LR_GGML_BF16 &&
        type != LR_GGML_Q8_0)
        return lr_fail(err, "GGUF tensor \"%s\": cannot write type %s (F32, F16, BF16, Q8_0)",
                       name, lr_ggml_type_name(type) ? lr_ggml_type_name(type) : "?");
    lr_ggml_type_info(type, &bs, &ts);
    for (d = 0; d < n_dims; d++)
        if (lr_size_mul(nelem, (size_t)ne[d], &nelem))
            return lr_fail(err, "GGUF tensor \"%s\": size overflows", name);
    if (ne[0] % bs)
        return lr_fail(err, "GGUF tensor \"%s\": row length %llu is not a multiple of the %s "
                       "block size %lu", name, (unsigned long long)ne[0],
                       lr_ggml_type_name(type), (unsigned long)bs);
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 16;
        w_tensor *nt = realloc(w->t, cap * sizeof *nt);
        if (!nt) return lr_fail(err, "out of memory adding GGUF tensor \"%s\"", name);
        w->t = nt;
        w->cap_t = cap;
    }
    t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    t->name = lr_strdup(name, err);
    t->nbytes = nelem / bs * ts;
    t->data = lr_alloc(t->nbytes ? t->nbytes : 1, 1, name, err);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return -1;
    }
    t->type = type;
    t->n_dims = n_dims;
    for (d = 0; d < LR_GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    switch (type) {
    case LR_GGML_F32:
        for (i = 0; i < nelem; i++) lr_put_le32(t->data + 4 * i, lr_f32_to_bits(data[i]));
        break;
    case LR_GGML_F16: lr_quantize_f16(data, nelem, t->data); break;
    case LR_GGML_BF16: lr_quantize_bf16(data, nelem, t->data); break;
    default: lr_quantize_q8_0(data, nelem, t->data); break;
    }
    w->n_t++;
    return 0;
}

int lr_gguf_writer_save(lr_gguf_writer *w, const char *path, lr_error *err)
{
    lr_buf h = {0};
    lr_atomic_file af;
    uint64_t off = 0;
    size_t i;
    int d;
    static const unsigned char zeros[LR_GGUF_DEFAULT_ALIGNMENT] = {0};
    lr_buf_append(&h, "GGUF", 4);
    put_u32(&h, 3);
    put_u64(&h, w->n_t);
    put_u64(&h, w->n_kv);
    lr_buf_append(&h, w->kv.data, w->kv.len);
    for (i = 0; i < w->n_t; i++) {
        const w_tensor *t = &w->t[i];
        put_str(&h, t->name, strlen(t->name));
        put_u32(&h, (uint32_t)t->n_dims);
        for (d = 0; d < t->n_dims; d++) put_u64(&h, t->ne[d]);
        put_u32(&h, t->type);
        put_u64(&h, off);
        off += (t->nbytes + LR_GGUF_DEFAULT_ALIGNMENT - 1) / LR_GGUF_DEFAULT_ALIGNMENT *
               LR_GGUF_DEFAULT_ALIGNMENT;
    }
    lr_buf_append(&h, zeros, (LR_GGUF_DEFAULT_ALIGNMENT - h.len % LR_GGUF_DEFAULT_ALIGNMENT) %
                                 LR_GGUF_DEFAULT_ALIGNMENT);
    if (h.oom) {
        lr_buf_free(&h);
        return lr_fail(err, "%s: out of memory", path);
    }
    if (lr_atomic_open(&af, path, err)) {
        lr_buf_free(&h);
        return -1;
    }
    if (lr_atomic_write(&af, h.data, h.len, err)) goto fail;
    for (i = 0; i < w->n_t; i++) {
        size_t pad = (LR_GGUF_DEFAULT_ALIGNMENT - w->t[i].nbytes % LR_GGUF_DEFAULT_ALIGNMENT) %
                     LR_GGUF_DEFAULT_ALIGNMENT;
        if (lr_atomic_write(&af, w->t[i].data, w->t[i].nbytes, err) ||
            lr_atomic_write(&af, zeros, pad, err))
            goto fail;
    }
    lr_buf_free(&h);
    return lr_atomic_commit(&af, err);
fail:
    lr_buf_free(&h);
    lr_atomic_abort(&af);
    return -1;
}
