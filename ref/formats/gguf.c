/* gguf.c - GGUF reader (versions 2 and 3, either byte order); the
 * little-endian version-3 writer is gguf_write.c.  Depends on common.c and
 * quant.c.  The
 * format is summarised in gguf.h; every field read here is checked
 * against the bytes left in the file before it is used or allocated. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64
#endif
#include "llamaref/formats/gguf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/formats/quant.h"

const char *lr_gguf_vtype_name(lr_gguf_vtype t)
{
    static const char *const names[] = {"uint8", "int8", "uint16", "int16", "uint32",
                                        "int32", "float32", "bool", "string", "array",
                                        "uint64", "int64", "float64"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* Bytes of a scalar of type t, 0 for string/array/unknown. */
static size_t vtype_size(uint32_t t)
{
    switch (t) {
    case LR_GGUF_UINT8: case LR_GGUF_INT8: case LR_GGUF_BOOL: return 1;
    case LR_GGUF_UINT16: case LR_GGUF_INT16: return 2;
    case LR_GGUF_UINT32: case LR_GGUF_INT32: case LR_GGUF_FLOAT32: return 4;
    case LR_GGUF_UINT64: case LR_GGUF_INT64: case LR_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* ---- the cursor: a FILE read front to back with its size known ---- */

typedef struct rd {
    FILE *f;
    const char *path;
    uint64_t pos, size;
    int big_endian;
    lr_error *err;
} rd;

static uint64_t rd_left(const rd *r) { return r->size - r->pos; }

/* Reads n bytes describing `what`; a read past the end is an error naming
 * the field and the offset. */
static int rd_bytes(rd *r, void *dst, size_t n, const char *what)
{
    if ((uint64_t)n > rd_left(r))
        return lr_fail(r->err, "%s: truncated at byte %llu: %s needs %lu bytes, %llu left",
                       r->path, (unsigned long long)r->pos, what, (unsigned long)n,
                       (unsigned long long)rd_left(r));
    if (n && fread(dst, 1, n, r->f) != n)
        return lr_fail(r->err, "%s: read error at byte %llu (%s)", r->path,
                       (unsigned long long)r->pos, what);
    r->pos += n;
    return 0;
}

/* An unsigned number of n bytes in the file's byte order. */
static int rd_uint(rd *r, size_t n, uint64_t *out, const char *what)
{
    unsigned char b[8];
    uint64_t v = 0;
    size_t i;
    if (rd_bytes(r, b, n, what)) return -1;
    for (i = 0; i < n; i++) {
        size_t k = r->big_endian ? i : n - 1 - i;
        v = (v << 8) | b[k];
    }
    *out = v;
    return 0;
}

static int rd_u32(rd *r, uint32_t *out, const char *what)
{
    uint64_t v;
    if (rd_uint(r, 4, &v, what)) return -1;
    *out = (uint32_t)v;
    return 0;
}

/* A string: u64 length then bytes; returns a NUL-terminated copy. */
static int rd_string(rd *r, char **out, size_t *len, const char *what)
{
    uint64_t n;
    char *s;
    if (rd_uint(r, 8, &n, what)) return -1;
    if (n > rd_left(r))
        return lr_fail(r->err, "%s: %s at byte %llu has length %llu, past the end of the "
                       "file (%llu bytes left)", r->path, what,
                       (unsigned long long)(r->pos - 8), (unsigned long long)n,
                       (unsigned long long)rd_left(r));
    if (n >= (uint64_t)SIZE_MAX)
        return lr_fail(r->err, "%s: %s has length %llu, too large for this host", r->path, what,
                       (unsigned long long)n);
    s = lr_alloc((size_t)n + 1, 1, what, r->err);
    if (!s) return -1;
    if (rd_bytes(r, s, (size_t)n, what)) {
        free(s);
        return -1;
    }
    s[n] = 0;
    *out = s;
    if (len) *len = (size_t)n;
    return 0;
}

/* A scalar of type t as integer (i, u) and/or floating (f) value. */
static int rd_scalar(rd *r, uint32_t t, int64_t *i, uint64_t *u, double *f,
                     const char *what)
{
    size_t n = vtype_size(t);
    uint64_t v;
    if (rd_uint(r, n, &v, what)) return -1;
    *u = v;
    switch (t) {
    case LR_GGUF_INT8: *i = (int8_t)(v & 0xFF) ; break;
    case LR_GGUF_INT16: *i = (int16_t)(v & 0xFFFF); break;
    case LR_GGUF_INT32: *i = (int32_t)(uint32_t)v; break;
    case LR_GGUF_INT64: *i = (int64_t)v; break;
    case LR_GGUF_FLOAT32: *f = (double)lr_f32_from_bits((uint32_t)v); break;
    case LR_GGUF_FLOAT64: *f = lr_f64_from_bits(v); break;
    case LR_GGUF_BOOL:
        if (v > 1)
            return lr_fail(r->err, "%s: %s at byte %llu: bool value %llu (must be 0 or 1)",
                           r->path, what, (unsigned long long)(r->pos - 1),
                           (unsigned long long)v);
        *i = (int64_t)v;
        break;
    default: *i = (int64_t)v; break; /* unsigned types */
    }
    if (t != LR_GGUF_FLOAT32 && t != LR_GGUF_FLOAT64) *f = (double)*i;
    return 0;
}

static void kv_free(lr_gguf_kv *kv)
{
    size_t i;
    free(kv->key);
    free(kv->str);
    free(kv->nums_i);
    free(kv->nums_f);
    if (kv->strs)
        for (i = 0; i < kv->n; i++) free(kv->strs[i]);
    free(kv->strs);
    free(kv->str_lens);
}

/* The value of key kv->key, of type t. */
static int rd_value(rd *r, lr_gguf_kv *kv, uint32_t t)
{
    char what[160];
    snprintf(what, sizeof what, "value of \"%.100s\"", kv->key);
    kv->type = (lr_gguf_vtype)t;
    if (t == LR_GGUF_STRING) return rd_string(r, &kv->str, &kv->len, what);
    if (t != LR_GGUF_ARRAY) {
        if (!vtype_size(t))
            return lr_fail(r->err, "%s: metadata \"%.100s\" at byte %llu has unknown value type "
                           "%lu", r->path, kv->key, (unsigned long long)(r->pos - 4),
                           (unsigned long)t);
        return rd_scalar(r, t, &kv->i, &kv->u, &kv->f, what);
    }
    {
        uint32_t at;
        uint64_t n, minsz;
        size_t i;
        if (rd_u32(r, &at, what) || rd_uint(r, 8, &n, what)) return -1;
        kv->arr_type = (lr_gguf_vtype)at;
        if (at == LR_GGUF_ARRAY)
            return lr_fail(r->err, "%s: metadata \"%.100s\": nested arrays are not supported",
                           r->path, kv->key);
        if (at != LR_GGUF_STRING && !vtype_size(at))
            return lr_fail(r->err, "%s: metadata \"%.100s\" at byte %llu: array of unknown "
                           "element type %lu", r->path, kv->key,
                           (unsigned long long)(r->pos - 12), (unsigned long)at);
        minsz = at == LR_GGUF_STRING ? 8 : vtype_size(at);
        if (n > rd_left(r) / minsz)
            return lr_fail(r->err, "%s: metadata \"%.100s\" at byte %llu: array of %llu %s "
                           "elements does not fit in the %llu bytes left", r->path, kv->key,
                           (unsigned long long)(r->pos - 8), (unsigned long long)n,
                           lr_gguf_vtype_name((lr_gguf_vtype)at),
                           (unsigned long long)rd_left(r));
        if (n > (uint64_t)(SIZE_MAX / sizeof(double)))
            return lr_fail(r->err, "%s: metadata \"%.100s\": array of %llu elements is too large "
                           "for this host", r->path, kv->key, (unsigned long long)n);
        kv->n = (size_t)n;
        if (at == LR_GGUF_STRING) {
            kv->strs = lr_zalloc(kv->n ? kv->n : 1, sizeof *kv->strs, what, r->err);
            kv->str_lens = lr_zalloc(kv->n ? kv->n : 1, sizeof *kv->str_lens, what, r->err);
            if (!kv->strs || !kv->str_lens) return -1;
            for (i = 0; i < kv->n; i++) {
                char w[200];
                snprintf(w, sizeof w, "element %lu of \"%.100s\"", (unsigned long)i, kv->key);
                if (rd_string(r, &kv->strs[i], &kv->str_lens[i], w)) return -1;
            }
            return 0;
        }
        if (at == LR_GGUF_FLOAT32 || at == LR_GGUF_FLOAT64) {
            kv->nums_f = lr_alloc(kv->n ? kv->n : 1, sizeof *kv->nums_f, what, r->err);
            if (!kv->nums_f) return -1;
        } else {
            kv->nums_i = lr_alloc(kv->n ? kv->n : 1, sizeof *kv->nums_i, what, r->err);
            if (!kv->nums_i) return -1;
        }
        for (i = 0; i < kv->n; i++) {
            int64_t iv = 0;
            uint64_t uv;
            double fv = 0;
            if (rd_scalar(r, at, &iv, &uv, &fv, what)) return -1;
            if (kv->nums_f) kv->nums_f[i] = fv;
            else kv->nums_i[i] = iv;
        }
        return 0;
    }
}

void lr_gguf_free(lr_gguf *g)
{
    size_t i;
    if (!g) return;
    for (i = 0; i < g->n_kv; i++) kv_free(&g->kv[i]);
    for (i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    free(g->path);
    free(g);
}

int lr_gguf_sniff(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char b[4];
    int ok;
    if (!f) return 0;
    ok = fread(b, 1, 4, f) == 4 && !memcmp(b, "GGUF", 4);
    fclose(f);
    return ok;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_offset(const void *a, const void *b)
{
    const lr_gguf_tensor *x = *(const lr_gguf_tensor *const *)a;
    const lr_gguf_tensor *y = *(const lr_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Tensor infos: names unique, known types, rows of whole blocks, sizes
 * without overflow, data inside the file, aligned, not overlapping. */
static int rd_tensor_info(rd *r, lr_gguf *g, lr_gguf_tensor *t, size_t idx)
{
    char what[160];
    uint32_t nd, type;
    uint64_t off, nblocks = 1;
    size_t bs, ts;
    int d;
    snprintf(what, sizeof what, "name of tensor %lu", (unsigned long)idx);
    if (rd_string(r, &t->name, NULL, what)) return -1;
    snprintf(what, sizeof what, "tensor \"%.100s\" (n_dims)", t->name);
    if (rd_u32(r, &nd, what)) return -1;
    if (nd < 1 || nd > LR_GGUF_MAX_DIMS)
        return lr_fail(r->err, "%s: tensor \"%.100s\" at byte %llu has %lu dimensions (1 to %d "
                       "allowed)", r->path, t->name, (unsigned long long)(r->pos - 4),
                       (unsigned long)nd, LR_GGUF_MAX_DIMS);
    t->n_dims = (int)nd;
    for (d = 0; d < LR_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    t->nelem = 1;
    for (d = 0; d < (int)nd; d++) {
        snprintf(what, sizeof what, "tensor \"%.100s\" (ne[%d])", t->name, d);
        if (rd_uint(r, 8, &t->ne[d], what)) return -1;
        if (t->ne[d] > ((uint64_t)1 << 62) / (t->nelem ? t->nelem : 1))
            return lr_fail(r->err, "%s: tensor \"%.100s\": dimension ne[%d] = %llu overflows "
                           "the element count", r->path, t->name, d,
                           (unsigned long long)t->ne[d]);
        t->nelem *= t->ne[d];
    }
    snprintf(what, sizeof what, "tensor \"%.100s\" (type)", t->name);
    if (rd_u32(r, &type, what)) return -1;
    t->type = type;
    if (lr_ggml_type_info(type, &bs, &ts))
        return lr_fail(r->err, "%s: tensor \"%.100s\" at byte %llu has unknown ggml type %lu",
                       r->path, t->name, (unsigned long long)(r->pos - 4),
                       (unsigned long)type);
    if (t->ne[0] % bs)
        return lr_fail(r->err, "%s: tensor \"%.100s\": row length ne[0] = %llu is not a "
                       "multiple of the %s block size %lu", r->path, t->name,
                       (unsigned long long)t->ne[0], lr_ggml_type_name(type),
                       (unsigned long)bs);
    nblocks = t->nelem / bs;
    if (nblocks > UINT64_MAX / ts)
        return lr_fail(r->err, "%s: tensor \"%.100s\": byte size overflows", r->path, t->name);
    t->nbytes = nblocks * ts;
    if (t->nbytes > (uint64_t)SIZE_MAX / sizeof(double))
        return lr_fail(r->err, "%s: tensor \"%.100s\" of %llu bytes is too large for this host",
                       r->path, t->name, (unsigned long long)t->nbytes);
    snprintf(what, sizeof what, "tensor \"%.100s\" (offset)", t->name);
    if (rd_uint(r, 8, &off, what)) return -1;
    t->offset = off; /* relative until the data section is known */
    (void)g;
    return 0;
}

int lr_gguf_open(const char *path, lr_gguf **out, lr_error *err)
{
    lr_gguf *g;
    rd r;
    unsigned char magic[4];
    uint32_t version;
    uint64_t n_tensors, n_kv, data_size;
    lr_gguf_tensor **order = NULL;
    size_t i, k;
    *out = NULL;
    memset(&r, 0, sizeof r);
    g = calloc(1, sizeof *g);
    if (!g) return lr_fail(err, "%s: out of memory", path);
    g->path = lr_strdup(path, err);
    if (!g->path) goto fail;
    r.path = path;
    r.err = err;
    r.f = fopen(path, "rb");
    if (!r.f) {
        lr_fail(err, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
#if !defined(_WIN32)
    if (fseeko(r.f, 0, SEEK_END) != 0) {
        lr_fail(err, "%s: cannot seek", path);
        goto fail;
    }
    r.size = (uint64_t)ftello(r.f);
    fseeko(r.f, 0, SEEK_SET);
#else
    fseek(r.f, 0, SEEK_END);
    r.size = (uint64_t)ftell(r.f);
    fseek(r.f, 0, SEEK_SET);
#endif
    g->file_size = r.size;
    if (rd_bytes(&r, magic, 4, "magic")) goto fail;
    if (memcmp(magic, "GGUF", 4)) {
        lr_fail(err, "%s: not a GGUF file (magic is not \"GGUF\")", path);
        goto fail;
    }
    if (rd_u32(&r, &version, "version")) goto fail;
    if ((version & 0xFFFFu) == 0 && version != 0) { /* written on a big-endian host */
        r.big_endian = 1;
        version = ((version >> 24) & 0xFF) | ((version >> 8) & 0xFF00);
    }
    if (version == 1) {
        lr_fail(err, "%s: GGUF version 1 (32-bit counts) is not supported; convert it with a "
                "current llama.cpp", path);
        goto fail;
    }
    if (version != 2 && version != 3) {
        lr_fail(err, "%s: unsupported GGUF version %lu (2 and 3 are supported)", path,
                (unsigned long)version);
        goto fail;
    }
    g->version = version;
    g->big_endian = r.big_endian;
    if (rd_uint(&r, 8, &n_tensors, "tensor count") || rd_uint(&r, 8, &n_kv, "metadata count"))
        goto fail;
    /* a key/value takes at least 8 + 4 + 1 bytes, a tensor info 8 + 4 + 8 +
     * 4 + 8: counts that cannot fit in the file are refused before any
     * allocation */
    if (n_kv > rd_left(&r) / 13) {
        lr_fail(err, "%s: metadata count %llu at byte 16 cannot fit in the %llu bytes of the "
                "file", path, (unsigned long long)n_kv, (unsigned long long)r.size);
        goto fail;
    }
    if (n_tensors > rd_left(&r) / 32) {
        lr_fail(err, "%s: tensor count %llu at byte 8 cannot fit in the %llu bytes of the "
                "file", path, (unsigned long long)n_tensors, (unsigned long long)r.size);
        goto fail;
    }
    if (n_kv >= (uint64_t)(SIZE_MAX / sizeof *g->kv) ||
        n_tensors >= (uint64_t)(SIZE_MAX / sizeof *g->tensors)) {
        lr_fail(err, "%s: counts too large for this host", path);
        goto fail;
    }
    g->kv = lr_zalloc((size_t)n_kv + 1, sizeof *g->kv, "metadata", err);
    g->tensors = lr_zalloc((size_t)n_tensors + 1, sizeof *g->tensors, "tensor infos", err);
    if (!g->kv || !g->tensors) goto fail;
    g->alignment = LR_GGUF_DEFAULT_ALIGNMENT;
    for (i = 0; i < (size_t)n_kv; i++) {
        lr_gguf_kv *kv = &g->kv[i];
        uint32_t t;
        char what[64];
        snprintf(what, sizeof what, "key of metadata entry %lu", (unsigned long)i);
        g->n_kv = i + 1;
        if (rd_string(&r, &kv->key, NULL, what)) goto fail;
        if (rd_u32(&r, &t, "metadata value type") || rd_value(&r, kv, t)) goto fail;
        if (!strcmp(kv->key, "general.alignment")) {
            if (kv->type != LR_GGUF_UINT32 || kv->u == 0 || (kv->u & (kv->u - 1)) ||
                kv->u > (1u << 20)) {
                lr_fail(err, "%s: general.alignment must be a uint32 power of two (at most "
                        "2^20), got %s %llu", path, lr_gguf_vtype_name(kv->type),
                        (unsigned long long)kv->u);
                goto fail;
            }
            g->alignment = (uint32_t)kv->u;
        }
    }
    for (i = 0; i < (size_t)n_tensors; i++) {
        g->n_tensors = i + 1;
        if (rd_tensor_info(&r, g, &g->tensors[i], i)) goto fail;
    }
    /* names are unique: sorted, equal neighbours are duplicates */
    {
        size_t m = g->n_kv > g->n_tensors ? g->n_kv : g->n_tensors;
        const char **names = lr_alloc(m ? m : 1, sizeof *names, "name index", err);
        if (!names) goto fail;
        for (k = 0; k < 2; k++) {
            size_t cnt = k ? g->n_tensors : g->n_kv;
            for (i = 0; i < cnt; i++) names[i] = k ? g->tensors[i].name : g->kv[i].key;
            qsort(names, cnt, sizeof *names, cmp_name);
            for (i = 1; i < cnt; i++)
                if (!strcmp(names[i - 1], names[i])) {
                    lr_fail(err, "%s: duplicate %s \"%.100s\"", path,
                            k ? "tensor name" : "metadata key", names[i]);
                    free(names);
                    goto fail;
                }
        }
        free(names);
    }
    /* the data section starts at the next multiple of the alignment */
    g->data_offset = r.pos + (g->alignment - r.pos % g->alignment) % g->alignment;
    if (g->data_offset > r.size && n_tensors) {
        lr_fail(err, "%s: file ends at byte %llu, before the data section at byte %llu", path,
                (unsigned long long)r.size, (unsigned long long)g->data_offset);
        goto fail;
    }
    data_size = g->data_offset <= r.size ? r.size - g->data_offset : 0;
    for (i = 0; i < g->n_tensors; i++) {
        lr_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment) {
            lr_fail(err, "%s: tensor \"%.100s\": offset %llu is not a multiple of the alignment "
                    "%lu", path, t->name, (unsigned long long)t->offset,
                    (unsigned long)g->alignment);
            goto fail;
        }
        if (t->offset > data_size || t->nbytes > data_size - t->offset) {
            lr_fail(err, "%s: tensor \"%.100s\": bytes [%llu, %llu) of the data section lie "
                    "outside it (%llu bytes)", path, t->name, (unsigned long long)t->offset,
                    (unsigned long long)t->offset + (unsigned long long)t->nbytes,
                    (unsigned long long)data_size);
            goto fail;
        }
        t->offset += g->data_offset;
    }
    if (g->n_tensors) {
        order = lr_alloc(g->n_tensors, sizeof *order, "tensor order", err);
        if (!order) goto fail;
        for (i = 0; i < g->n_tensors; i++) order[i] = &g->tensors[i];
        qsort(order, g->n_tensors, sizeof *order, cmp_offset);
        for (i = 1; i < g->n_tensors; i++)
            if (order[i - 1]->offset + order[i - 1]->nbytes > order[i]->offset) {
                lr_fail(err, "%s: tensors \"%.100s\" and \"%.100s\" overlap in the data section",
                        path, order[i - 1]->name, order[i]->name);
                goto fail;
            }
        free(order);
        order = NULL;
    }
    fclose(r.f);
    *out = g;
    return 0;
fail:
    free(order);
    if (r.f) fclose(r.f);
    lr_gguf_free(g);
    return -1;
}

const lr_gguf_kv *lr_gguf_find_kv(const lr_gguf *g, const char *key)
{
    size_t i;
    for (i = 0; i < g->n_kv; i++)
        if (!strcmp(g->kv[i].key, key)) return &g->kv[i];
    return NULL;
}

const lr_gguf_tensor *lr_gguf_find_tensor(const lr_gguf *g, const char *name)
{
    size_t i;
    for (i = 0; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}

int lr_gguf_get_int(const lr_gguf *g, const char *key, int64_t *out, lr_error *err)
{
    const lr_gguf_kv *kv = lr_gguf_find_kv(g, key);
    if (!kv) return 1;
    if (kv->type == LR_GGUF_STRING || kv->type == LR_GGUF_ARRAY ||
        kv->type == LR_GGUF_FLOAT32 || kv->type == LR_GGUF_FLOAT64)
        return lr_fail(err, "%s: metadata \"%s\" is a %s, expected an integer", g->path, key,
                       lr_gguf_vtype_name(kv->type));
    if (kv->type == LR_GGUF_UINT64 && kv->u > (uint64_t)INT64_MAX)
        return lr_fail(err, "%s: metadata \"%s\" = %llu is out of range", g->path, key,
                       (unsigned long long)kv->u);
    *out = kv->i;
    return 0;
}

int lr_gguf_get_float(const lr_gguf *g, const char *key, double *out, lr_error *err)
{
    const lr_gguf_kv *kv = lr_gguf_find_kv(g, key);
    if (!kv) return 1;
    if (kv->type == LR_GGUF_STRING || kv->type == LR_GGUF_ARRAY)
        return lr_fail(err, "%s: metadata \"%s\" is a %s, expected a number", g->path, key,
                       lr_gguf_vtype_name(kv->type));
    *out = kv->f;
    return 0;
}

int lr_gguf_get_str(const lr_gguf *g, const char *key, const char **out, lr_error *err)
{
    const lr_gguf_kv *kv = lr_gguf_find_kv(g, key);
    if (!kv) return 1;
    if (kv->type != LR_GGUF_STRING)
        return lr_fail(err, "%s: metadata \"%s\" is a %s, expected a string", g->path, key,
                       lr_gguf_vtype_name(kv->type));
    *out = kv->str;
    return 0;
}

int lr_gguf_read_tensor(const lr_gguf *g, const lr_gguf_tensor *t, lr_float *dst,
                        lr_error *err)
{
    FILE *f;
    unsigned char *buf;
    size_t bs, ts, i;
    int rc = 0;
    if (!lr_ggml_type_can_dequantize(t->type))
        return lr_fail(err, "%s: tensor \"%s\" has type %s, which llamaref cannot convert to "
                       "floats", g->path, t->name, lr_ggml_type_name(t->type));
    lr_ggml_type_info(t->type, &bs, &ts);
    buf = lr_alloc((size_t)t->nbytes ? (size_t)t->nbytes : 1, 1, t->name, err);
    if (!buf) return -1;
    f = fopen(g->path, "rb");
    if (!f) {
        free(buf);
        return lr_fail(err, "%s: cannot open: %s", g->path, strerror(errno));
    }
#if !defined(_WIN32)
    if (fseeko(f, (off_t)t->offset, SEEK_SET) != 0 ||
#else
    if (fseek(f, (long)t->offset, SEEK_SET) != 0 ||
#endif
        fread(buf, 1, (size_t)t->nbytes, f) != (size_t)t->nbytes)
        rc = lr_fail(err, "%s: tensor \"%s\": short read of %llu bytes at byte %llu", g->path,
                     t->name, (unsigned long long)t->nbytes, (unsigned long long)t->offset);
    fclose(f);
    if (rc == 0 && g->big_endian && bs == 1) { /* plain numbers: swap each element */
        for (i = 0; i + ts <= (size_t)t->nbytes; i += ts) {
            size_t a = i, b = i + ts - 1;
            while (a < b) {
                unsigned char c = buf[a];
                buf[a++] = buf[b];
                buf[b--] = c;
            }
        }
    }
    if (rc == 0) lr_dequantize(t->type, buf, (size_t)(t->nelem / bs), dst);
    free(buf);
    return rc;
}
