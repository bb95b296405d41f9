/* safetensors_write.c - the deterministic safetensors writer: tensors are
 * added from host values (encoded little-endian, F16/BF16 rounded to
 * nearest even) or as raw bytes, and saved sorted by name with sorted
 * metadata through an atomic write (a temporary file renamed into place).
 * Depends on common.c, json.c (string escaping) and dtype.c. */
#include "llamaref/formats/safetensors.h"

#include <stdlib.h>
#include <string.h>

/* ---- writer ---- */

typedef struct w_tensor {
    char *name;
    lr_dtype dtype;
    int ndim;
    int64_t shape[LR_MAX_DIMS];
    unsigned char *bytes;
    size_t nbytes;
} w_tensor;

typedef struct w_meta {
    char *key, *value;
} w_meta;

struct lr_st_writer {
    w_tensor *t;
    size_t n, cap;
    w_meta *meta;
    size_t n_meta;
};

lr_st_writer *lr_st_writer_new(lr_error *err)
{
    lr_st_writer *w = calloc(1, sizeof *w);
    if (!w) lr_fail(err, "out of memory");
    return w;
}

void lr_st_writer_free(lr_st_writer *w)
{
    size_t i;
    if (!w) return;
    for (i = 0; i < w->n; i++) {
        free(w->t[i].name);
        free(w->t[i].bytes);
    }
    for (i = 0; i < w->n_meta; i++) {
        free(w->meta[i].key);
        free(w->meta[i].value);
    }
    free(w->t);
    free(w->meta);
    free(w);
}

/* Validates name and shape, appends an entry with an allocated byte buffer. */
static w_tensor *w_new(lr_st_writer *w, const char *name, lr_dtype dtype,
                       int ndim, const int64_t *shape, size_t *nelem, lr_error *err)
{
    size_t i, n = 1, bytes;
    w_tensor *e;
    if (!name || !*name || !strcmp(name, "__metadata__")) {
        lr_fail(err, "safetensors writer: invalid tensor name '%s'", name ? name : "");
        return NULL;
    }
    if ((unsigned)dtype >= LR_DTYPE_COUNT || ndim < 0 || ndim > LR_MAX_DIMS) {
        lr_fail(err, "safetensors writer: tensor '%s': bad dtype or rank", name);
        return NULL;
    }
    for (i = 0; i < w->n; i++)
        if (!strcmp(w->t[i].name, name)) {
            lr_fail(err, "safetensors writer: tensor '%s' added twice", name);
            return NULL;
        }
    for (i = 0; i < (size_t)ndim; i++) {
        if (shape[i] < 0 || lr_size_mul(n, (size_t)shape[i], &n)) {
            lr_fail(err, "safetensors writer: tensor '%s': bad shape", name);
            return NULL;
        }
    }
    if (lr_size_mul(n, lr_dtype_size(dtype), &bytes)) {
        lr_fail(err, "safetensors writer: tensor '%s': size overflow", name);
        return NULL;
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        w_tensor *nt = realloc(w->t, cap * sizeof *nt);
        if (!nt) {
            lr_fail(err, "out of memory");
            return NULL;
        }
        w->t = nt;
        w->cap = cap;
    }
    e = &w->t[w->n];
    memset(e, 0, sizeof *e);
    e->name = lr_strdup(name, err);
    e->bytes = lr_alloc(bytes ? bytes : 1, 1, "tensor bytes", err);
    if (!e->name || !e->bytes) {
        free(e->name);
        free(e->bytes);
        return NULL;
    }
    e->dtype = dtype;
    e->ndim = ndim;
    for (i = 0; i < (size_t)ndim; i++) e->shape[i] = shape[i];
    e->nbytes = bytes;
    *nelem = n;
    w->n++;
    return e;
}

static void encode_f64(lr_dtype dt, double v, unsigned char *p)
{
    switch (dt) {
    case LR_F64: lr_put_le64(p, lr_f64_to_bits(v)); break;
    case LR_F32: lr_put_le32(p, lr_f32_to_bits((float)v)); break;
    case LR_F16: lr_put_le16(p, lr_f32_to_f16((float)v)); break;
    case LR_BF16: lr_put_le16(p, lr_f32_to_bf16((float)v)); break;
    default: break;
    }
}

static int w_float_dtype(const char *name, lr_dtype dtype, lr_error *err)
{
    if (!lr_dtype_is_float(dtype))
        return lr_fail(err, "safetensors writer: tensor '%s': %s is not a float dtype",
                       name, lr_dtype_name(dtype));
    return 0;
}

int lr_st_writer_add_f32(lr_st_writer *w, const char *name, lr_dtype dtype, int ndim,
                         const int64_t *shape, const float *data, lr_error *err)
{
    size_t n, i, esz = lr_dtype_size(dtype);
    w_tensor *e;
    if (w_float_dtype(name, dtype, err)) return -1;
    e = w_new(w, name, dtype, ndim, shape, &n, err);
    if (!e) return -1;
    for (i = 0; i < n; i++) encode_f64(dtype, data[i], e->bytes + i * esz);
    return 0;
}

int lr_st_writer_add_f64(lr_st_writer *w, const char *name, lr_dtype dtype, int ndim,
                         const int64_t *shape, const double *data, lr_error *err)
{
    size_t n, i, esz = lr_dtype_size(dtype);
    w_tensor *e;
    if (w_float_dtype(name, dtype, err)) return -1;
    e = w_new(w, name, dtype, ndim, shape, &n, err);
    if (!e) return -1;
    /* F16/BF16 round through float: double->float->half would double-round,
     * torch does the same for .to(bfloat16) from float32 data */
    for (i = 0; i < n; i++) encode_f64(dtype, data[i], e->bytes + i * esz);
    return 0;
}

int lr_st_writer_add_lr(lr_st_writer *w, const char *name, lr_dtype dtype, int ndim,
                        const int64_t *shape, const lr_float *data, lr_error *err)
{
#ifdef LR_DOUBLE
    return lr_st_writer_add_f64(w, name, dtype, ndim, shape, data, err);
#else
    return lr_st_writer_add_f32(w, name, dtype, ndim, shape, data, err);
#endif
}

int lr_st_writer_add_i64(lr_st_writer *w, const char *name, lr_dtype dtype, int ndim,
                         const int64_t *shape, const int64_t *data, lr_error *err)
{
    size_t n, i, esz = lr_dtype_size(dtype);
    w_tensor *e;
    if (lr_dtype_is_float(dtype))
        return lr_fail(err, "safetensors writer: tensor '%s': %s is not an integer dtype",
                       name, lr_dtype_name(dtype));
    e = w_new(w, name, dtype, ndim, shape, &n, err);
    if (!e) return -1;
    for (i = 0; i < n; i++) {
        unsigned char *p = e->bytes + i * esz;
        uint64_t v = (uint64_t)data[i];
        switch (dtype) {
        case LR_I64: lr_put_le64(p, v); break;
        case LR_I32: lr_put_le32(p, (uint32_t)v); break;
        case LR_I16: lr_put_le16(p, (uint16_t)v); break;
        case LR_BOOL: p[0] = data[i] != 0; break;
        default: p[0] = (unsigned char)v; break;
        }
    }
    return 0;
}

int lr_st_writer_add_raw(lr_st_writer *w, const char *name, lr_dtype dtype, int ndim,
                         const int64_t *shape, const void *data, size_t nbytes,
                         lr_error *err)
{
    size_t n;
    w_tensor *e = w_new(w, name, dtype, ndim, shape, &n, err);
    if (!e) return -1;
    if (e->nbytes != nbytes) {
        lr_fail(err, "safetensors writer: tensor '%s': %lu bytes given, shape needs %lu",
                name, (unsigned long)nbytes, (unsigned long)e->nbytes);
        free(e->name);
        free(e->bytes);
        w->n--;
        return -1;
    }
    if (nbytes) memcpy(e->bytes, data, nbytes);
    return 0;
}

int lr_st_writer_meta(lr_st_writer *w, const char *key, const char *value, lr_error *err)
{
    size_t i;
    w_meta *nm;
    for (i = 0; i < w->n_meta; i++)
        if (!strcmp(w->meta[i].key, key)) {
            char *v = lr_strdup(value, err);
            if (!v) return -1;
            free(w->meta[i].value);
            w->meta[i].value = v;
            return 0;
        }
    nm = realloc(w->meta, (w->n_meta + 1) * sizeof *nm);
    if (!nm) return lr_fail(err, "out of memory");
    w->meta = nm;
    nm[w->n_meta].key = lr_strdup(key, err);
    nm[w->n_meta].value = lr_strdup(value, err);
    if (!nm[w->n_meta].key || !nm[w->n_meta].value) {
        free(nm[w->n_meta].key);
        free(nm[w->n_meta].value);
        return -1;
    }
    w->n_meta++;
    return 0;
}

static int cmp_wt(const void *a, const void *b)
{
    return strcmp(((const w_tensor *)a)->name, ((const w_tensor *)b)->name);
}

static int cmp_meta(const void *a, const void *b)
{
    return strcmp(((const w_meta *)a)->key, ((const w_meta *)b)->key);
}

int lr_st_writer_save(lr_st_writer *w, const char *path, lr_error *err)
{
    lr_buf h = {0};
    size_t i, off = 0;
    int k;
    unsigned char lenbuf[8];
    lr_atomic_file af;
    if (w->n) qsort(w->t, w->n, sizeof *w->t, cmp_wt);
    if (w->n_meta) qsort(w->meta, w->n_meta, sizeof *w->meta, cmp_meta);
    lr_buf_puts(&h, "{");
    if (w->n_meta) {
        lr_buf_puts(&h, "\"__metadata__\":{");
        for (i = 0; i < w->n_meta; i++) {
            if (i) lr_buf_puts(&h, ",");
            lr_json_write_string(&h, w->meta[i].key, strlen(w->meta[i].key));
            lr_buf_puts(&h, ":");
            lr_json_write_string(&h, w->meta[i].value, strlen(w->meta[i].value));
        }
        lr_buf_puts(&h, "}");
    }
    for (i = 0; i < w->n; i++) {
        const w_tensor *t = &w->t[i];
        if (i || w->n_meta) lr_buf_puts(&h, ",");
        lr_json_write_string(&h, t->name, strlen(t->name));
        lr_buf_printf(&h, ":{\"dtype\":\"%s\",\"shape\":[", lr_dtype_name(t->dtype));
        for (k = 0; k < t->ndim; k++)
            lr_buf_printf(&h, "%s%lld", k ? "," : "", (long long)t->shape[k]);
        lr_buf_printf(&h, "],\"data_offsets\":[%lu,%lu]}", (unsigned long)off,
                      (unsigned long)(off + t->nbytes));
        off += t->nbytes;
    }
    lr_buf_puts(&h, "}");
    while (h.len % 8) lr_buf_puts(&h, " ");
    if (h.oom) {
        lr_buf_free(&h);
        return lr_fail(err, "%s: out of memory building header", path);
    }
    lr_put_le64(lenbuf, (uint64_t)h.len);
    if (lr_atomic_open(&af, path, err)) {
        lr_buf_free(&h);
        return -1;
    }
    if (lr_atomic_write(&af, lenbuf, 8, err) || lr_atomic_write(&af, h.data, h.len, err)) {
        lr_buf_free(&h);
        return -1;
    }
    lr_buf_free(&h);
    for (i = 0; i < w->n; i++)
        if (lr_atomic_write(&af, w->t[i].bytes, w->t[i].nbytes, err)) return -1;
    return lr_atomic_commit(&af, err);
}
