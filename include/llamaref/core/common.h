/* common.h - types and helpers shared by every llamaref module.
 *
 * lr_float is the type every computation is carried out in: float by default,
 * double in the DOUBLE=1 build (-DLR_DOUBLE), used to compare against float64
 * golden vectors to ~1e-9.  Library functions report errors by returning a
 * non-zero value and filling an lr_error whose message names what went wrong
 * and where (file, tensor, key, line, byte offset).  The library never exits.
 */
#ifndef LLAMAREF_COMMON_H
#define LLAMAREF_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef LR_DOUBLE
typedef double lr_float;
#define LR_FLOAT_NAME "double"
#else
typedef float lr_float;
#define LR_FLOAT_NAME "float"
#endif

#define LR_ERROR_MAX 1024

typedef struct lr_error {
    char msg[LR_ERROR_MAX];
} lr_error;

/* Formats a message into err (if not NULL) and returns -1, so that error
 * paths read `return lr_fail(err, "...", ...);`. */
int lr_fail(lr_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes an existing message: "<prefix>: <old message>". Returns -1. */
int lr_fail_prefix(lr_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Overflow-checked size arithmetic: return 0 on success, -1 on overflow. */
int lr_size_mul(size_t a, size_t b, size_t *out);
int lr_size_add(size_t a, size_t b, size_t *out);

/* malloc/calloc of n elements of size bytes with overflow checks; on failure
 * they fill err with "out of memory allocating <what> (N bytes)".  Either
 * block is released with free().  On Linux, lr_alloc of 2 MiB or more
 * returns a block starting on a 2 MiB boundary whose whole 2 MiB pages are
 * advised as huge pages (long read streams: weights), and a smaller one of
 * LR_ALIGN bytes or more starts on an LR_ALIGN-byte boundary (a cache
 * line: threads writing neighbouring slices of it do not share lines);
 * contents as malloc.  Elsewhere malloc's alignment (only speed differs). */
#define LR_ALIGN 64
void *lr_alloc(size_t n, size_t size, const char *what, lr_error *err);
void *lr_zalloc(size_t n, size_t size, const char *what, lr_error *err);
char *lr_strdup(const char *s, lr_error *err);
char *lr_strndup(const char *s, size_t n, lr_error *err);

/* A growable byte buffer (always NUL-terminated when non-empty). */
typedef struct lr_buf {
    char *data;
    size_t len, cap;
    int oom; /* set once an append failed; later appends are no-ops */
} lr_buf;

/* Start from a zeroed lr_buf ({0}); lr_buf_free releases data and zeroes
 * *b.  The appends (n bytes of data; a C string; printf-formatted text)
 * grow data as needed and keep it NUL-terminated; each returns 0, or -1
 * when out of memory (or the size overflows), which also sets b->oom:
 * later appends then do nothing and return -1, so a caller may check once
 * at the end.  They take no lr_error. */
void lr_buf_free(lr_buf *b);
int lr_buf_append(lr_buf *b, const void *data, size_t n);
int lr_buf_puts(lr_buf *b, const char *s);
int lr_buf_printf(lr_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Whole-file I/O.  lr_read_file reads a file into a NUL-terminated buffer.
 * lr_write_file_atomic writes to "<path>.tmp.<pid>" then renames, so that a
 * crash never leaves a partial file under the final name. */
int lr_read_file(const char *path, char **data, size_t *len, lr_error *err);
/* Appends all that remains of f (a FILE *: stdin, say) to b; errors
 * name the stream as name ("stdin: read error"). */
int lr_read_stream(void *f, const char *name, lr_buf *b, lr_error *err);
/* Appends all of the file path to b, or of stdin when path is NULL (a
 * command's --file FILE or its standard input); errors as lr_read_file's
 * and lr_read_stream's. */
int lr_read_input(const char *path, lr_buf *b, lr_error *err);
int lr_write_file_atomic(const char *path, const void *data, size_t len,
                         lr_error *err);
int lr_path_is_dir(const char *path);
/* mkdir of one directory / of every missing directory on the path (mkdir
 * -p); 0 when it exists as a directory afterwards, -1 otherwise (errno as
 * mkdir left it). */
int lr_make_dir(const char *path);
int lr_make_dirs(const char *path);
/* Before a command's work: the parent directories of an output file (with
 * is_dir, the directory path itself) created and checked writable by
 * creating and removing a probe file.  Fails naming the path: empty, a
 * directory where a file is meant, a directory that cannot be created or
 * written. */
int lr_prepare_output(const char *path, int is_dir, lr_error *err);
/* Directory listing: fn(ctx, name) for each entry of directory path but
 * "." and "..", in the order the system gives them (a caller that needs an
 * order sorts).  fn returns 0 to go on, or a positive value that stops the
 * listing and is returned.  Else 0 after the last entry, or
 * LR_DIR_OPEN_FAILED (path cannot be opened) / LR_DIR_READ_FAILED (reading
 * failed part way, after the entries before) with errno saying why, for
 * the caller's message. */
#define LR_DIR_OPEN_FAILED (-1)
#define LR_DIR_READ_FAILED (-2)
int lr_list_dir(const char *path, int (*fn)(void *ctx, const char *name), void *ctx);
/* Seconds from a monotonic clock (POSIX CLOCK_MONOTONIC; time() elsewhere),
 * for progress and speed reports only. */
double lr_clock_seconds(void);

/* Strict number text (option values, keys): the whole of s, base 10.
 * lr_parse_long: 0 and *out = v when s is an integer v in [lo, hi];
 * lr_parse_double: 0 and *out when s is a finite number (overflow and
 * NaN refused; an underflow to a tiny or zero value is finite);
 * lr_parse_u64: 0 and *out when s is digits only (no sign, no space) of a
 * value below 2^64.  Else -1 and *out untouched. */
int lr_parse_long(const char *s, long lo, long hi, long *out);
int lr_parse_u64(const char *s, uint64_t *out);
int lr_parse_double(const char *s, double *out);
/* The Levenshtein distance of a and b (insertions, deletions and
 * substitutions of bytes), for "did you mean" among short names; 99 when
 * either is longer than 63 bytes. */
size_t lr_edit_distance(const char *a, const char *b);

/* Streaming form of the same: open, write pieces, then commit (flush, fsync,
 * rename) or abort (remove the temporary file). */
typedef struct lr_atomic_file {
    void *f; /* FILE * */
    char tmp[4096];
    char path[4096];
} lr_atomic_file;
/* open creates path's temporary file; write appends len bytes; commit
 * makes path appear with everything written, or fails leaving path as it
 * was; abort discards the temporary file.  The int functions return 0, or
 * -1 with err naming the file, and a failed write or commit has already
 * discarded the temporary file.  After a successful open, end with commit
 * or abort (abort is harmless after a failure). */
int lr_atomic_open(lr_atomic_file *af, const char *path, lr_error *err);
int lr_atomic_write(lr_atomic_file *af, const void *data, size_t len,
                    lr_error *err);
int lr_atomic_commit(lr_atomic_file *af, lr_error *err);
void lr_atomic_abort(lr_atomic_file *af);
/* Joins dir and name with a '/', returns a malloc'ed string or NULL. */
char *lr_path_join(const char *dir, const char *name, lr_error *err);

/* Little-endian byte decoding and encoding, independent of host order. */
uint16_t lr_le16(const unsigned char *p);
uint32_t lr_le32(const unsigned char *p);
uint64_t lr_le64(const unsigned char *p);
void lr_put_le16(unsigned char *p, uint16_t v);
void lr_put_le32(unsigned char *p, uint32_t v);
void lr_put_le64(unsigned char *p, uint64_t v);
int lr_host_is_little_endian(void);

/* IEEE conversions without type punning through pointers. */
float lr_f32_from_bits(uint32_t bits);
uint32_t lr_f32_to_bits(float f);
double lr_f64_from_bits(uint64_t bits);
uint64_t lr_f64_to_bits(double d);
float lr_bf16_to_f32(uint16_t h);
uint16_t lr_f32_to_bf16(float f); /* round to nearest even, like torch */
float lr_f16_to_f32(uint16_t h);
uint16_t lr_f32_to_f16(float f); /* round to nearest even */

#ifdef __cplusplus
}
#endif

#endif
