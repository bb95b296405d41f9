/* safetensors.c - safetensors reader (stdio or mmap) and sharded sets
 * through model.safetensors.index.json.  The writer is safetensors_write.c,
 * the dtypes and element decoding dtype.c.
 * Depends on common.c, json.c and dtype.c; mmap is optional (POSIX only). */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64
#endif
#include "llamaref/formats/safetensors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(_WIN32) && !defined(LR_NO_MMAP)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define LR_HAVE_MMAP 1
#endif

/* The header may not exceed 100 MB (the limit of the reference parser). */
#define ST_MAX_HEADER (100u * 1024u * 1024u)

static int64_t decode_int(lr_dtype dt, const unsigned char *p)
{
    switch (dt) {
    case LR_I64: return (int64_t)lr_le64(p);
    case LR_I32: return (int32_t)lr_le32(p);
    case LR_I16: return (int16_t)lr_le16(p);
    case LR_I8: return (int8_t)p[0];
    case LR_U8: return p[0];
    case LR_BOOL: return p[0] != 0;
    default: return 0;
    }
}

/* ---- reader ---- */

struct lr_st_file {
    char *path;
    FILE *fp;
    uint64_t file_size;
    uint64_t data_start; /* 8 + header length */
    lr_json_doc *header;
    const lr_json *metadata;
    lr_st_tensor *tensors;
    size_t n;
    const lr_st_tensor **sorted; /* sorted by name, for lr_st_find */
    unsigned char *map;
    size_t map_size;
};

static int cmp_offset(const void *a, const void *b)
{
    const lr_st_tensor *x = *(const lr_st_tensor *const *)a;
    const lr_st_tensor *y = *(const lr_st_tensor *const *)b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(const lr_st_tensor *const *)a)->name,
                  (*(const lr_st_tensor *const *)b)->name);
}

/* Parses one header entry {"dtype", "shape", "data_offsets"} into t. */
static int parse_entry(lr_st_file *f, const char *name, const lr_json *v,
                       uint64_t data_size, lr_st_tensor *t, lr_error *err)
{
    const lr_json *dt, *shape, *offs;
    uint64_t nelem = 1, begin, end;
    size_t k;
    const char *P = f->path;
    memset(t, 0, sizeof *t);
    t->name = name;
    if (v->type != LR_JSON_OBJECT)
        return lr_fail(err, "%s: tensor '%s': header entry is not an object", P, name);
    dt = lr_json_get(v, "dtype");
    shape = lr_json_get(v, "shape");
    offs = lr_json_get(v, "data_offsets");
    if (!dt || dt->type != LR_JSON_STRING)
        return lr_fail(err, "%s: tensor '%s': missing or non-string \"dtype\"", P, name);
    if (lr_dtype_from_name(dt->str, &t->dtype))
        return lr_fail(err, "%s: tensor '%s': unknown dtype \"%s\"", P, name, dt->str);
    if (!shape || shape->type != LR_JSON_ARRAY)
        return lr_fail(err, "%s: tensor '%s': missing or non-array \"shape\"", P, name);
    if (shape->len > LR_MAX_DIMS)
        return lr_fail(err, "%s: tensor '%s': %lu dimensions (at most %d supported)",
                       P, name, (unsigned long)shape->len, LR_MAX_DIMS);
    t->ndim = (int)shape->len;
    for (k = 0; k < shape->len; k++) {
        const lr_json *d = &shape->items[k];
        if (d->type != LR_JSON_NUMBER || !d->is_integer || d->integer < 0)
            return lr_fail(err, "%s: tensor '%s': shape[%lu] is not a non-negative integer",
                           P, name, (unsigned long)k);
        t->shape[k] = d->integer;
        if (d->integer != 0 && nelem > UINT64_MAX / (uint64_t)d->integer)
            return lr_fail(err, "%s: tensor '%s': shape product overflows", P, name);
        nelem *= (uint64_t)d->integer;
    }
    t->nelem = nelem;
    if (nelem > UINT64_MAX / lr_dtype_size(t->dtype))
        return lr_fail(err, "%s: tensor '%s': byte size overflows", P, name);
    if (!offs || offs->type != LR_JSON_ARRAY || offs->len != 2 ||
        offs->items[0].type != LR_JSON_NUMBER || !offs->items[0].is_integer ||
        offs->items[1].type != LR_JSON_NUMBER || !offs->items[1].is_integer ||
        offs->items[0].integer < 0 || offs->items[1].integer < 0)
        return lr_fail(err, "%s: tensor '%s': \"data_offsets\" must be two non-negative integers",
                       P, name);
    begin = (uint64_t)offs->items[0].integer;
    end = (uint64_t)offs->items[1].integer;
    if (end < begin)
        return lr_fail(err, "%s: tensor '%s': data_offsets [%llu, %llu] end before begin",
                       P, name, (unsigned long long)begin, (unsigned long long)end);
    if (end > data_size)
        return lr_fail(err, "%s: tensor '%s': data_offsets end %llu is past the end of the "
                       "data section (%llu bytes; file truncated?)", P, name,
                       (unsigned long long)end, (unsigned long long)data_size);
    t->nbytes = end - begin;
    if (t->nbytes != nelem * lr_dtype_size(t->dtype))
        return lr_fail(err, "%s: tensor '%s': %s shape has %llu elements = %llu bytes, "
                       "but data_offsets span %llu bytes", P, name,
                       lr_dtype_name(t->dtype), (unsigned long long)nelem,
                       (unsigned long long)(nelem * lr_dtype_size(t->dtype)),
                       (unsigned long long)t->nbytes);
    t->offset = f->data_start + begin;
    return 0;
}

static int check_layout(lr_st_file *f, uint64_t data_size, lr_error *err)
{
    lr_st_tensor **by_off;
    uint64_t pos = 0;
    size_t i;
    if (f->n == 0) {
        if (data_size != 0)
            return lr_fail(err, "%s: %llu data bytes but no tensors", f->path,
                           (unsigned long long)data_size);
        return 0;
    }
    by_off = lr_alloc(f->n, sizeof *by_off, "tensor index", err);
    if (!by_off) return -1;
    for (i = 0; i < f->n; i++) by_off[i] = &f->tensors[i];
    qsort(by_off, f->n, sizeof *by_off, cmp_offset);
    for (i = 0; i < f->n; i++) {
        uint64_t b = by_off[i]->offset - f->data_start;
        if (b < pos) {
            lr_fail(err, "%s: tensor '%s': data range [%llu, %llu) overlaps tensor '%s'",
                    f->path, by_off[i]->name, (unsigned long long)b,
                    (unsigned long long)(b + by_off[i]->nbytes), by_off[i - 1]->name);
            free(by_off);
            return -1;
        }
        if (b > pos) {
            lr_fail(err, "%s: tensor '%s': gap of %llu unused bytes before its data "
                    "(offset %llu)", f->path, by_off[i]->name,
                    (unsigned long long)(b - pos), (unsigned long long)b);
            free(by_off);
            return -1;
        }
        pos = b + by_off[i]->nbytes;
    }
    free(by_off);
    if (pos != data_size)
        return lr_fail(err, "%s: %llu trailing bytes after the last tensor's data",
                       f->path, (unsigned long long)(data_size - pos));
    return 0;
}

static int read_at(lr_st_file *f, uint64_t offset, void *dst, size_t n,
                   lr_error *err)
{
    if (f->map) {
        memcpy(dst, f->map + offset, n);
        return 0;
    }
#if !defined(_WIN32)
    if (fseeko(f->fp, (off_t)offset, SEEK_SET) != 0)
#else
    if (fseek(f->fp, (long)offset, SEEK_SET) != 0)
#endif
        return lr_fail(err, "%s: cannot seek to offset %llu", f->path,
                       (unsigned long long)offset);
    if (n && fread(dst, 1, n, f->fp) != n)
        return lr_fail(err, "%s: short read of %lu bytes at offset %llu", f->path,
                       (unsigned long)n, (unsigned long long)offset);
    return 0;
}

int lr_st_open(const char *path, int flags, lr_st_file **out, lr_error *err)
{
    lr_st_file *f;
    unsigned char lenbuf[8];
    uint64_t hlen, data_size;
    char *hdr = NULL;
    const lr_json *root;
    size_t i, k;
    *out = NULL;
    f = calloc(1, sizeof *f);
    if (!f) return lr_fail(err, "%s: out of memory", path);
    f->path = lr_strdup(path, err);
    if (!f->path) goto fail;
    f->fp = fopen(path, "rb");
    if (!f->fp) {
        lr_fail(err, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
#if !defined(_WIN32)
    if (fseeko(f->fp, 0, SEEK_END) != 0) {
        lr_fail(err, "%s: cannot seek", path);
        goto fail;
    }
    f->file_size = (uint64_t)ftello(f->fp);
#else
    fseek(f->fp, 0, SEEK_END);
    f->file_size = (uint64_t)ftell(f->fp);
#endif
    if (f->file_size < 8) {
        lr_fail(err, "%s: file is %llu bytes, too short for a safetensors header",
                path, (unsigned long long)f->file_size);
        goto fail;
    }
    if (read_at(f, 0, lenbuf, 8, err)) goto fail;
    hlen = lr_le64(lenbuf);
    if (hlen > f->file_size - 8) {
        lr_fail(err, "%s: header length %llu is larger than the file (%llu bytes)",
                path, (unsigned long long)hlen, (unsigned long long)f->file_size);
        goto fail;
    }
    if (hlen > ST_MAX_HEADER) {
        lr_fail(err, "%s: header length %llu exceeds the 100 MB limit", path,
                (unsigned long long)hlen);
        goto fail;
    }
    if (hlen < 2) {
        lr_fail(err, "%s: header length %llu is too small for a JSON object", path,
                (unsigned long long)hlen);
        goto fail;
    }
    f->data_start = 8 + hlen;
    data_size = f->file_size - f->data_start;
    hdr = lr_alloc((size_t)hlen, 1, "safetensors header", err);
    if (!hdr || read_at(f, 8, hdr, (size_t)hlen, err)) goto fail;
    {
        char src[4200];
        snprintf(src, sizeof src, "%s (header)", path);
        if (lr_json_parse(hdr, (size_t)hlen, src, &f->header, err)) goto fail;
    }
    free(hdr);
    hdr = NULL;
    root = lr_json_root(f->header);
    if (root->type != LR_JSON_OBJECT) {
        lr_fail(err, "%s: header is not a JSON object", path);
        goto fail;
    }
    f->tensors = lr_zalloc(root->len ? root->len : 1, sizeof *f->tensors,
                           "tensor table", err);
    if (!f->tensors) goto fail;
    for (i = 0; i < root->len; i++) {
        const char *name = root->keys[i];
        if (!strcmp(name, "__metadata__")) {
            const lr_json *m = &root->items[i];
            if (m->type != LR_JSON_OBJECT) {
                lr_fail(err, "%s: __metadata__ is not an object", path);
                goto fail;
            }
            for (k = 0; k < m->len; k++)
                if (m->items[k].type != LR_JSON_STRING) {
                    lr_fail(err, "%s: __metadata__ value for \"%s\" is not a string",
                            path, m->keys[k]);
                    goto fail;
                }
            f->metadata = m;
            continue;
        }
        if (strlen(name) != root->key_lens[i] || !*name) {
            lr_fail(err, "%s: tensor name #%lu is empty or contains NUL", path,
                    (unsigned long)i);
            goto fail;
        }
        if (parse_entry(f, name, &root->items[i], data_size, &f->tensors[f->n], err))
            goto fail;
        f->n++;
    }
    f->sorted = lr_alloc(f->n ? f->n : 1, sizeof *f->sorted, "tensor index", err);
    if (!f->sorted) goto fail;
    for (i = 0; i < f->n; i++) f->sorted[i] = &f->tensors[i];
    qsort(f->sorted, f->n, sizeof *f->sorted, cmp_name);
    for (i = 1; i < f->n; i++)
        if (!strcmp(f->sorted[i]->name, f->sorted[i - 1]->name)) {
            lr_fail(err, "%s: tensor '%s' appears twice in the header", path,
                    f->sorted[i]->name);
            goto fail;
        }
    if (check_layout(f, data_size, err)) goto fail;
#ifdef LR_HAVE_MMAP
    if ((flags & LR_ST_MMAP) && f->file_size <= (uint64_t)(size_t)-1) {
        void *m = mmap(NULL, (size_t)f->file_size, PROT_READ, MAP_PRIVATE,
                       fileno(f->fp), 0);
        if (m != MAP_FAILED) {
            f->map = m;
            f->map_size = (size_t)f->file_size;
        }
    }
#else
    (void)flags;
#endif
    *out = f;
    return 0;
fail:
    free(hdr);
    lr_st_close(f);
    return -1;
}

void lr_st_close(lr_st_file *f)
{
    if (!f) return;
#ifdef LR_HAVE_MMAP
    if (f->map) munmap(f->map, f->map_size);
#endif
    if (f->fp) fclose(f->fp);
    lr_json_free(f->header);
    free(f->tensors);
    free(f->sorted);
    free(f->path);
    free(f);
}

const char *lr_st_path(const lr_st_file *f) { return f->path; }
size_t lr_st_count(const lr_st_file *f) { return f->n; }
const lr_json *lr_st_metadata(const lr_st_file *f) { return f->metadata; }

const lr_st_tensor *lr_st_at(const lr_st_file *f, size_t i)
{
    return i < f->n ? &f->tensors[i] : NULL;
}

const lr_st_tensor *lr_st_find(const lr_st_file *f, const char *name)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, f->sorted[mid]->name);
        if (c == 0) return f->sorted[mid];
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

const void *lr_st_mapped(const lr_st_file *f, const lr_st_tensor *t)
{
    return f->map ? f->map + t->offset : NULL;
}

static int check_fits(const lr_st_file *f, const lr_st_tensor *t, lr_error *err)
{
    if (t->nbytes > (uint64_t)(size_t)-1)
        return lr_fail(err, "%s: tensor '%s' (%llu bytes) does not fit in memory "
                       "on this host", f->path, t->name, (unsigned long long)t->nbytes);
    return 0;
}

int lr_st_read_raw(lr_st_file *f, const lr_st_tensor *t, void *dst, lr_error *err)
{
    if (check_fits(f, t, err)) return -1;
    return read_at(f, t->offset, dst, (size_t)t->nbytes, err);
}

/* Streams a tensor through a bounded buffer, calling decode on chunks. */
typedef void (*decode_fn)(lr_dtype dt, const unsigned char *src, size_t n,
                          void *dst, size_t dst_off);

static int read_chunked(lr_st_file *f, const lr_st_tensor *t, void *dst,
                        decode_fn decode, lr_error *err)
{
    size_t esz = lr_dtype_size(t->dtype);
    size_t chunk = (1u << 20) / esz, done = 0, n;
    unsigned char *buf;
    if (check_fits(f, t, err)) return -1;
    if (f->map) {
        decode(t->dtype, f->map + t->offset, (size_t)t->nelem, dst, 0);
        return 0;
    }
    buf = lr_alloc(chunk, esz, "read buffer", err);
    if (!buf) return -1;
    while (done < t->nelem) {
        n = (size_t)t->nelem - done < chunk ? (size_t)t->nelem - done : chunk;
        if (read_at(f, t->offset + (uint64_t)done * esz, buf, n * esz, err)) {
            free(buf);
            return lr_fail_prefix(err, "tensor '%s'", t->name);
        }
        decode(t->dtype, buf, n, dst, done);
        done += n;
    }
    free(buf);
    return 0;
}

static void dec_f32(lr_dtype dt, const unsigned char *s, size_t n, void *d, size_t o)
{
    lr_decode_to_f32(dt, s, n, (float *)d + o);
}

static void dec_f64(lr_dtype dt, const unsigned char *s, size_t n, void *d, size_t o)
{
    lr_decode_to_f64(dt, s, n, (double *)d + o);
}

static void dec_i64(lr_dtype dt, const unsigned char *s, size_t n, void *d, size_t o)
{
    size_t i, esz = lr_dtype_size(dt);
    for (i = 0; i < n; i++) ((int64_t *)d)[o + i] = decode_int(dt, s + i * esz);
}

static void dec_native(lr_dtype dt, const unsigned char *s, size_t n, void *d, size_t o)
{
    size_t i;
    switch (dt) {
    case LR_F64: lr_decode_to_f64(dt, s, n, (double *)d + o); break;
    case LR_F32: lr_decode_to_f32(dt, s, n, (float *)d + o); break;
    default:
        for (i = 0; i < n; i++) ((uint16_t *)d)[o + i] = lr_le16(s + 2 * i);
    }
}

static int need_float(const lr_st_file *f, const lr_st_tensor *t, lr_error *err)
{
    if (!lr_dtype_is_float(t->dtype))
        return lr_fail(err, "%s: tensor '%s' has dtype %s, a floating type was expected",
                       f->path, t->name, lr_dtype_name(t->dtype));
    return 0;
}

int lr_st_read_f32(lr_st_file *f, const lr_st_tensor *t, float *dst, lr_error *err)
{
    if (need_float(f, t, err)) return -1;
    return read_chunked(f, t, dst, dec_f32, err);
}

int lr_st_read_f64(lr_st_file *f, const lr_st_tensor *t, double *dst, lr_error *err)
{
    if (need_float(f, t, err)) return -1;
    return read_chunked(f, t, dst, dec_f64, err);
}

int lr_st_read_lr(lr_st_file *f, const lr_st_tensor *t, lr_float *dst, lr_error *err)
{
#ifdef LR_DOUBLE
    return lr_st_read_f64(f, t, dst, err);
#else
    return lr_st_read_f32(f, t, dst, err);
#endif
}

int lr_st_read_native(lr_st_file *f, const lr_st_tensor *t, void *dst, lr_error *err)
{
    if (need_float(f, t, err)) return -1;
    return read_chunked(f, t, dst, dec_native, err);
}

int lr_st_read_i64(lr_st_file *f, const lr_st_tensor *t, int64_t *dst, lr_error *err)
{
    if (lr_dtype_is_float(t->dtype))
        return lr_fail(err, "%s: tensor '%s' has dtype %s, an integer type was expected",
                       f->path, t->name, lr_dtype_name(t->dtype));
    return read_chunked(f, t, dst, dec_i64, err);
}

/* ---- sharded sets ---- */

typedef struct set_entry {
    const lr_st_tensor *t;
    size_t file;
} set_entry;

struct lr_st_set {
    lr_st_file **files;
    size_t n_files;
    set_entry *entries; /* sorted by name */
    size_t n;
};

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const set_entry *)a)->t->name, ((const set_entry *)b)->t->name);
}

static int file_exists(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    fclose(f);
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static int set_add_file(lr_st_set *s, const char *path, int flags, lr_error *err)
{
    lr_st_file **nf = realloc(s->files, (s->n_files + 1) * sizeof *nf);
    if (!nf) return lr_fail(err, "%s: out of memory", path);
    s->files = nf;
    if (lr_st_open(path, flags, &s->files[s->n_files], err)) return -1;
    s->n_files++;
    return 0;
}

static int set_index(lr_st_set *s, lr_error *err)
{
    size_t total = 0, i, k, j = 0;
    for (i = 0; i < s->n_files; i++) total += lr_st_count(s->files[i]);
    s->entries = lr_alloc(total ? total : 1, sizeof *s->entries, "tensor index", err);
    if (!s->entries) return -1;
    for (i = 0; i < s->n_files; i++)
        for (k = 0; k < lr_st_count(s->files[i]); k++) {
            s->entries[j].t = lr_st_at(s->files[i], k);
            s->entries[j].file = i;
            j++;
        }
    s->n = total;
    qsort(s->entries, s->n, sizeof *s->entries, cmp_entry);
    for (i = 1; i < s->n; i++)
        if (!strcmp(s->entries[i].t->name, s->entries[i - 1].t->name))
            return lr_fail(err, "tensor '%s' appears in two shards (%s and %s)",
                           s->entries[i].t->name,
                           lr_st_path(s->files[s->entries[i - 1].file]),
                           lr_st_path(s->files[s->entries[i].file]));
    return 0;
}

static int open_index(lr_st_set *s, const char *index_path, int flags, lr_error *err)
{
    lr_json_doc *doc;
    const lr_json *root, *map;
    char *dir, *slash;
    size_t i, k;
    int rc = -1;
    if (lr_json_parse_file(index_path, &doc, err)) return -1;
    root = lr_json_root(doc);
    map = lr_json_get(root, "weight_map");
    dir = lr_strdup(index_path, err);
    if (!dir) goto done;
    slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else strcpy(dir, ".");
    if (!map || map->type != LR_JSON_OBJECT) {
        lr_fail(err, "%s: missing \"weight_map\" object", index_path);
        goto done;
    }
    /* open each distinct shard once, in order of first appearance */
    for (i = 0; i < map->len; i++) {
        const lr_json *v = &map->items[i];
        int seen = 0;
        if (v->type != LR_JSON_STRING || !*v->str || strchr(v->str, '/') ||
            strlen(v->str) != v->len) {
            lr_fail(err, "%s: weight_map[\"%s\"] must be a plain file name", index_path,
                    map->keys[i]);
            goto done;
        }
        for (k = 0; k < i; k++)
            if (!strcmp(map->items[k].str, v->str)) seen = 1;
        if (!seen) {
            char *p = lr_path_join(dir, v->str, err);
            if (!p) goto done;
            if (set_add_file(s, p, flags, err)) {
                free(p);
                goto done;
            }
            free(p);
        }
    }
    if (set_index(s, err)) goto done;
    /* every mapped name must be in the named shard, and nothing else */
    for (i = 0; i < map->len; i++) {
        lr_st_file *file;
        const lr_st_tensor *t = lr_st_set_find(s, map->keys[i], &file);
        const char *base;
        if (!t) {
            lr_fail(err, "%s: tensor '%s' listed in weight_map is in no shard",
                    index_path, map->keys[i]);
            goto done;
        }
        base = strrchr(lr_st_path(file), '/');
        base = base ? base + 1 : lr_st_path(file);
        if (strcmp(base, map->items[i].str)) {
            lr_fail(err, "%s: tensor '%s' is in %s, weight_map says %s", index_path,
                    map->keys[i], base, map->items[i].str);
            goto done;
        }
    }
    if (s->n != map->len) {
        for (i = 0; i < s->n; i++)
            if (!lr_json_get(map, s->entries[i].t->name)) {
                lr_fail(err, "%s: tensor '%s' in shard %s is not listed in weight_map",
                        index_path, s->entries[i].t->name,
                        lr_st_path(s->files[s->entries[i].file]));
                goto done;
            }
    }
    rc = 0;
done:
    free(dir);
    lr_json_free(doc);
    return rc;
}

int lr_st_set_open(const char *path, int flags, lr_st_set **out, lr_error *err)
{
    lr_st_set *s = calloc(1, sizeof *s);
    int rc;
    *out = NULL;
    if (!s) return lr_fail(err, "%s: out of memory", path);
    if (lr_path_is_dir(path)) {
        char *single = lr_path_join(path, "model.safetensors", err);
        char *index = lr_path_join(path, "model.safetensors.index.json", err);
        if (!single || !index) rc = -1;
        else if (file_exists(single)) rc = set_add_file(s, single, flags, err) || set_index(s, err);
        else if (file_exists(index)) rc = open_index(s, index, flags, err);
        else rc = lr_fail(err, "%s: no model.safetensors or model.safetensors.index.json "
                          "in this directory", path);
        free(single);
        free(index);
    } else if (ends_with(path, ".json")) {
        rc = open_index(s, path, flags, err);
    } else {
        rc = set_add_file(s, path, flags, err) || set_index(s, err);
    }
    if (rc) {
        lr_st_set_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

void lr_st_set_close(lr_st_set *s)
{
    size_t i;
    if (!s) return;
    for (i = 0; i < s->n_files; i++) lr_st_close(s->files[i]);
    free(s->files);
    free(s->entries);
    free(s);
}

size_t lr_st_set_count(const lr_st_set *s) { return s->n; }

const lr_st_tensor *lr_st_set_at(const lr_st_set *s, size_t i, lr_st_file **file)
{
    if (i >= s->n) return NULL;
    if (file) *file = s->files[s->entries[i].file];
    return s->entries[i].t;
}

const lr_st_tensor *lr_st_set_find(const lr_st_set *s, const char *name,
                                   lr_st_file **file)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, s->entries[mid].t->name);
        if (c == 0) {
            if (file) *file = s->files[s->entries[mid].file];
            return s->entries[mid].t;
        }
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}
