/* common.c - errors, checked allocation, buffers, file I/O (atomic writes,
 * directories and their listing), the clock, strict number text, edit
 * distance, byte order and IEEE half/bfloat conversions.  Depends on libc
 * only (plus POSIX stat/getpid/opendir where available, and on Linux
 * posix_memalign/madvise for large blocks, with plain-C fallbacks). */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#if defined(__linux__)
#define _DEFAULT_SOURCE 1 /* madvise, MADV_HUGEPAGE (advice only) */
#endif
/* 64-bit directory offsets on 32-bit hosts: without it readdir fails
 * (EOVERFLOW) on file systems whose offsets do not fit 32 bits */
#define _FILE_OFFSET_BITS 64
#include "llamaref/core/common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#if !defined(_WIN32)
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#include <direct.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

int lr_fail(lr_error *err, const char *fmt, ...)
{
    va_list ap;
    if (!err) return -1;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int lr_fail_prefix(lr_error *err, const char *fmt, ...)
{
    char both[2 * LR_ERROR_MAX + 4];
    size_t n;
    va_list ap;
    if (!err) return -1;
    va_start(ap, fmt);
    vsnprintf(both, LR_ERROR_MAX, fmt, ap);
    va_end(ap);
    n = strlen(both);
    both[n++] = ':';
    both[n++] = ' ';
    memcpy(both + n, err->msg, LR_ERROR_MAX);
    both[n + LR_ERROR_MAX - 1] = 0;
    memcpy(err->msg, both, LR_ERROR_MAX);
    err->msg[LR_ERROR_MAX - 1] = 0;
    return -1;
}

int lr_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a) return -1;
    *out = a * b;
    return 0;
}

int lr_size_add(size_t a, size_t b, size_t *out)
{
    if (b > (size_t)-1 - a) return -1;
    *out = a + b;
    return 0;
}

/* Large blocks (weights, caches) are read as long streams: on Linux a
 * block of 2 MiB or more starts on a 2 MiB boundary and its whole 2 MiB
 * pages are advised to be huge pages (fewer TLB misses: decoding the 100M
 * model reads its weights faster, docs/performance.md).  Advice and
 * alignment only, before any page is touched (the unused head of an
 * aligned block is address space, not memory): contents and results are
 * unchanged.  Smaller blocks of LR_ALIGN bytes or more start on a cache
 * line (activations that threads write side by side, common.h); elsewhere,
 * plain malloc. */
#define HUGE_BYTES ((size_t)2 << 20)
static void *alloc_large(size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    void *p = NULL;
    if (bytes >= HUGE_BYTES) {
        if (posix_memalign(&p, HUGE_BYTES, bytes) != 0) return NULL;
        (void)madvise(p, bytes / HUGE_BYTES * HUGE_BYTES, MADV_HUGEPAGE);
        return p;
    }
    if (bytes >= LR_ALIGN)
        return posix_memalign(&p, LR_ALIGN, bytes) == 0 ? p : NULL;
#endif
    return malloc(bytes ? bytes : 1);
}

void *lr_alloc(size_t n, size_t size, const char *what, lr_error *err)
{
    size_t bytes;
    void *p;
    if (lr_size_mul(n, size, &bytes)) {
        lr_fail(err, "size overflow allocating %s (%lu x %lu bytes)", what,
                (unsigned long)n, (unsigned long)size);
        return NULL;
    }
    p = alloc_large(bytes);
    if (!p) lr_fail(err, "out of memory allocating %s (%lu bytes)", what,
                    (unsigned long)bytes);
    return p;
}

void *lr_zalloc(size_t n, size_t size, const char *what, lr_error *err)
{
    size_t bytes;
    void *p;
    if (lr_size_mul(n, size, &bytes)) {
        lr_fail(err, "size overflow allocating %s (%lu x %lu bytes)", what,
                (unsigned long)n, (unsigned long)size);
        return NULL;
    }
    p = calloc(bytes ? bytes : 1, 1); /* untouched pages stay unallocated */
    if (!p) lr_fail(err, "out of memory allocating %s (%lu bytes)", what,
                    (unsigned long)bytes);
    return p;
}

char *lr_strndup(const char *s, size_t n, lr_error *err)
{
    char *p = lr_alloc(n + 1, 1, "string", err);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *lr_strdup(const char *s, lr_error *err)
{
    return lr_strndup(s, strlen(s), err);
}

/* ---- growable buffer ---- */

void lr_buf_free(lr_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

int lr_buf_append(lr_buf *b, const void *data, size_t n)
{
    size_t need;
    if (b->oom) return -1;
    if (lr_size_add(b->len, n + 1, &need)) { b->oom = 1; return -1; }
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (cap < need) {
            if (cap > (size_t)-1 / 2) { cap = need; break; }
            cap *= 2;
        }
        p = realloc(b->data, cap);
        if (!p) { b->oom = 1; return -1; }
        b->data = p;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int lr_buf_puts(lr_buf *b, const char *s)
{
    return lr_buf_append(b, s, strlen(s));
}

int lr_buf_printf(lr_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) { b->oom = 1; return -1; }
    if ((size_t)n < sizeof small) return lr_buf_append(b, small, (size_t)n);
    {
        char *big = malloc((size_t)n + 1);
        int rc;
        if (!big) { b->oom = 1; return -1; }
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        rc = lr_buf_append(b, big, (size_t)n);
        free(big);
        return rc;
    }
}

/* ---- files ---- */

int lr_read_stream(void *f, const char *name, lr_buf *b, lr_error *err)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (lr_buf_append(b, chunk, n))
            return lr_fail(err, "%s: out of memory reading file", name);
    return ferror(f) ? lr_fail(err, "%s: read error", name) : 0;
}

int lr_read_file(const char *path, char **data, size_t *len, lr_error *err)
{
    FILE *f = fopen(path, "rb");
    lr_buf b = {0};
    *data = NULL;
    *len = 0;
    if (!f) return lr_fail(err, "%s: cannot open: %s", path, strerror(errno));
    if (lr_read_stream(f, path, &b, err)) {
        fclose(f);
        lr_buf_free(&b);
        return -1;
    }
    fclose(f);
    if (!b.data && lr_buf_append(&b, "", 0))
        return lr_fail(err, "%s: out of memory", path);
    *data = b.data;
    *len = b.len;
    return 0;
}

int lr_read_input(const char *path, lr_buf *b, lr_error *err)
{
    FILE *f;
    int rc;
    if (!path) return lr_read_stream(stdin, "stdin", b, err);
    if (!(f = fopen(path, "rb")))
        return lr_fail(err, "%s: cannot open: %s", path, strerror(errno));
    rc = lr_read_stream(f, path, b, err);
    fclose(f);
    return rc;
}

int lr_atomic_open(lr_atomic_file *af, const char *path, lr_error *err)
{
    long id = 0;
    FILE *f;
#if !defined(_WIN32)
    id = (long)getpid();
#endif
    af->f = NULL;
    if (strlen(path) + 32 > sizeof af->tmp)
        return lr_fail(err, "%s: path too long", path);
    strcpy(af->path, path);
    sprintf(af->tmp, "%s.tmp.%ld", path, id);
    f = fopen(af->tmp, "wb");
    if (!f)
        return lr_fail(err, "%s: cannot create: %s", af->tmp, strerror(errno));
    af->f = f;
    return 0;
}

int lr_atomic_write(lr_atomic_file *af, const void *data, size_t len,
                    lr_error *err)
{
    if (!af->f) return lr_fail(err, "%s: not open for writing", af->path);
    if (len && fwrite(data, 1, len, (FILE *)af->f) != len) {
        int e = errno;
        lr_atomic_abort(af);
        return lr_fail(err, "%s: write failed: %s", af->tmp, strerror(e));
    }
    return 0;
}

void lr_atomic_abort(lr_atomic_file *af)
{
    if (af->f) {
        fclose((FILE *)af->f);
        af->f = NULL;
        remove(af->tmp);
    }
}

int lr_atomic_commit(lr_atomic_file *af, lr_error *err)
{
    FILE *f = (FILE *)af->f;
    if (!f) return lr_fail(err, "%s: not open for writing", af->path);
    if (fflush(f) != 0) {
        int e = errno;
        lr_atomic_abort(af);
        return lr_fail(err, "%s: write failed: %s", af->tmp, strerror(e));
    }
#if !defined(_WIN32)
    fsync(fileno(f));
#endif
    af->f = NULL;
    if (fclose(f) != 0) {
        remove(af->tmp);
        return lr_fail(err, "%s: close failed", af->tmp);
    }
    if (rename(af->tmp, af->path) != 0) {
        int e = errno;
        remove(af->tmp);
        return lr_fail(err, "%s: cannot rename from %s: %s", af->path,
                       af->tmp, strerror(e));
    }
    return 0;
}

int lr_write_file_atomic(const char *path, const void *data, size_t len,
                         lr_error *err)
{
    lr_atomic_file af;
    if (lr_atomic_open(&af, path, err)) return -1;
    if (lr_atomic_write(&af, data, len, err)) return -1;
    return lr_atomic_commit(&af, err);
}

int lr_path_is_dir(const char *path)
{
#if !defined(_WIN32)
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
#else
    (void)path;
    return 0;
#endif
}

int lr_make_dir(const char *path)
{
    if (lr_path_is_dir(path)) return 0;
#if !defined(_WIN32)
    if (mkdir(path, 0777) == 0) return 0;
#else
    if (_mkdir(path) == 0) return 0;
#endif
    {
        int e = errno; /* keep mkdir's reason for the caller's message */
        if (lr_path_is_dir(path)) return 0; /* made meanwhile by another process */
        errno = e;
    }
    return -1;
}

int lr_make_dirs(const char *path)
{
    size_t n = strlen(path), i;
    char *p;
    int rc = 0;
    if (!n) return -1;
    p = malloc(n + 1);
    if (!p) return -1;
    memcpy(p, path, n + 1);
    for (i = 1; i <= n && !rc; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        if (p[i - 1] == '/') continue; /* "a//b" */
        p[i] = 0;
        rc = lr_make_dir(p);
        p[i] = path[i];
    }
    free(p);
    return rc;
}

int lr_list_dir(const char *path, int (*fn)(void *ctx, const char *name), void *ctx)
{
#if !defined(_WIN32)
    DIR *d = opendir(path);
    struct dirent *e;
    int rc = 0, saved;
    if (!d) return LR_DIR_OPEN_FAILED;
    for (;;) {
        errno = 0;
        if ((e = readdir(d)) == NULL) {
            if (errno != 0) rc = LR_DIR_READ_FAILED;
            break;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if ((rc = fn(ctx, e->d_name)) != 0) break;
    }
    saved = errno; /* the reason of a failed read, for the caller's message */
    closedir(d);
    errno = saved;
    return rc;
#else
    (void)path;
    (void)fn;
    (void)ctx;
    errno = ENOSYS; /* no POSIX directory listing here */
    return LR_DIR_OPEN_FAILED;
#endif
}

double lr_clock_seconds(void)
{
#if defined(CLOCK_MONOTONIC) && !defined(_WIN32)
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
        return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#endif
    return (double)time(NULL);
}

char *lr_path_join(const char *dir, const char *name, lr_error *err)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = lr_alloc(a + b + 2, 1, "path", err);
    if (!p) return NULL;
    memcpy(p, dir, a);
    if (a && dir[a - 1] != '/') p[a++] = '/';
    memcpy(p + a, name, b + 1);
    return p;
}

/* ---- byte order ---- */

uint16_t lr_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t lr_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

uint64_t lr_le64(const unsigned char *p)
{
    return (uint64_t)lr_le32(p) | ((uint64_t)lr_le32(p + 4) << 32);
}

void lr_put_le16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

void lr_put_le32(unsigned char *p, uint32_t v)
{
    int i;
    for (i = 0; i < 4; i++) p[i] = (unsigned char)((v >> (8 * i)) & 0xff);
}

void lr_put_le64(unsigned char *p, uint64_t v)
{
    lr_put_le32(p, (uint32_t)(v & 0xffffffffu));
    lr_put_le32(p + 4, (uint32_t)(v >> 32));
}

int lr_host_is_little_endian(void)
{
    uint32_t one = 1;
    unsigned char b[4];
    memcpy(b, &one, 4);
    return b[0] == 1;
}

/* ---- IEEE conversions ---- */

float lr_f32_from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint32_t lr_f32_to_bits(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    return bits;
}

double lr_f64_from_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, 8);
    return d;
}

uint64_t lr_f64_to_bits(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, 8);
    return bits;
}

float lr_bf16_to_f32(uint16_t h)
{
    return lr_f32_from_bits((uint32_t)h << 16);
}

uint16_t lr_f32_to_bf16(float f)
{
    uint32_t x = lr_f32_to_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: keep quiet, keep sign */
        return (uint16_t)((x >> 16) | 0x40);
    x += 0x7fffu + ((x >> 16) & 1u); /* round to nearest, ties to even */
    return (uint16_t)(x >> 16);
}

float lr_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(man & 0x400u)) { man <<= 1; exp--; }
            man &= 0x3ffu;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    return lr_f32_from_bits(bits);
}

uint16_t lr_f32_to_f16(float f)
{
    uint32_t x = lr_f32_to_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    int32_t exp = (int32_t)((x >> 23) & 0xff);
    uint32_t man = x & 0x7fffffu;
    if (exp == 0xff) /* inf or nan */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    exp = exp - 127 + 15;
    if (exp >= 31) return (uint16_t)(sign | 0x7c00u); /* overflow -> inf */
    if (exp <= 0) { /* subnormal or zero */
        uint32_t shift, half, rest, r;
        if (exp < -10) return (uint16_t)sign;
        man |= 0x800000u;
        shift = (uint32_t)(14 - exp);
        r = man >> shift;
        rest = man & ((1u << shift) - 1);
        half = 1u << (shift - 1);
        if (rest > half || (rest == half && (r & 1u))) r++;
        return (uint16_t)(sign | r);
    }
    {
        uint32_t r = ((uint32_t)exp << 10) | (man >> 13);
        uint32_t rest = man & 0x1fffu;
        if (rest > 0x1000u || (rest == 0x1000u && (r & 1u))) r++;
        return (uint16_t)(sign | r); /* carry into exponent is correct */
    }
}

int lr_prepare_output(const char *path, int is_dir, lr_error *err)
{
    char *dir, *probe = NULL;
    const char *slash;
    size_t n = strlen(path);
    FILE *f;
    int rc = -1;
    if (!n) {
        return lr_fail(err, "empty output path");
    }
    if (!is_dir && lr_path_is_dir(path)) {
        return lr_fail(err, "%s is a directory; a file name is needed", path);
    }
    slash = is_dir ? path + n : strrchr(path, '/');
    if (!slash) {
        dir = lr_strndup(".", 1, NULL);
    } else {
        dir = lr_strndup(path, slash == path ? 1 : (size_t)(slash - path), NULL);
    }
    if (!dir || !(probe = malloc(strlen(dir) + 64))) {
        lr_fail(err, "out of memory");
        goto done;
    }
    if (lr_make_dirs(dir) != 0) {
        lr_fail(err, "cannot create directory %s (for %s): %s", dir, path,
                strerror(errno));
        goto done;
    }
    sprintf(probe, "%s/.llamaref-write-check.%lu", dir,
            (unsigned long)time(NULL) ^ (unsigned long)(size_t)probe);
    if (!(f = fopen(probe, "wb"))) {
        lr_fail(err, "cannot write in %s (for %s): %s", dir, path, strerror(errno));
        goto done;
    }
    fclose(f);
    remove(probe);
    rc = 0;
done:
    free(dir);
    free(probe);
    return rc;
}

int lr_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int lr_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    if (!(*s >= '0' && *s <= '9')) return -1; /* strtoull takes "-1", " 1" */
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = (uint64_t)v;
    return 0;
}

int lr_parse_double(const char *s, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    /* ERANGE on underflow (1e-400) is a finite number: only overflow
     * (v - v is NaN for an infinity) and non-numbers are refused */
    if (end == s || *end || v != v || v - v != 0) return -1;
    *out = v;
    return 0;
}

/* one row of the dynamic-programming table at a time: row[j] is the
 * distance of a[0..i) and b[0..j) */
size_t lr_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, row[64], prev, cur;
    if (la > 63 || lb > 63) return 99;
    for (j = 0; j <= lb; j++) row[j] = j;
    for (i = 1; i <= la; i++) {
        prev = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            cur = row[j];
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}
