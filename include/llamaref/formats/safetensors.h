/* safetensors.h - reading and writing safetensors files.
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON header
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {str: str}}, then the data section; offsets are relative
 * to the data section.  Every header field is validated (dtypes, shapes,
 * shape x dtype size = byte length, no overflow, ranges inside the file, no
 * overlap, no gaps) and errors name the file, the tensor and what is wrong.
 * Values are decoded byte-wise little-endian, so big-endian hosts work.
 * Reading uses stdio by default; LR_ST_MMAP maps the file on POSIX hosts so
 * that a 16 GB checkpoint is not copied into RAM.  Sharded checkpoints are
 * opened through model.safetensors.index.json (lr_st_set).  The element
 * types (lr_dtype) are in dtype.h. */
#ifndef LLAMAREF_SAFETENSORS_H
#define LLAMAREF_SAFETENSORS_H

#include <stdio.h>

#include "llamaref/core/common.h"
#include "llamaref/core/dtype.h"
#include "llamaref/core/json.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_MAX_DIMS 8

typedef struct lr_st_tensor {
    const char *name;
    lr_dtype dtype;
    int ndim;
    int64_t shape[LR_MAX_DIMS];
    uint64_t nelem;
    uint64_t offset; /* absolute byte offset in the file */
    uint64_t nbytes;
} lr_st_tensor;

typedef struct lr_st_file lr_st_file;

#define LR_ST_MMAP 1 /* map the file (POSIX); falls back to stdio elsewhere */

/* Opens and validates path (flags: 0 or LR_ST_MMAP).  On success *out is
 * the caller's, released with lr_st_close (NULL-safe); on failure *out is
 * NULL and err names the file and the problem.  The tensor records and
 * names returned below point into *out and live until lr_st_close. */
int lr_st_open(const char *path, int flags, lr_st_file **out, lr_error *err);
void lr_st_close(lr_st_file *f);
/* The path the file was opened with; the number of tensors in it. */
const char *lr_st_path(const lr_st_file *f);
size_t lr_st_count(const lr_st_file *f);
const lr_st_tensor *lr_st_at(const lr_st_file *f, size_t i); /* file order */
const lr_st_tensor *lr_st_find(const lr_st_file *f, const char *name);
/* The "__metadata__" object, or NULL when the file has none. */
const lr_json *lr_st_metadata(const lr_st_file *f);
/* Pointer to the tensor's little-endian bytes inside the mapping, or NULL
 * when the file is not mapped. */
const void *lr_st_mapped(const lr_st_file *f, const lr_st_tensor *t);

/* Copies the tensor's raw little-endian bytes (t->nbytes) into dst. */
int lr_st_read_raw(lr_st_file *f, const lr_st_tensor *t, void *dst,
                   lr_error *err);
/* Reads and converts a floating tensor (F64/F32/F16/BF16) to host values;
 * dst holds t->nelem elements.  Integer tensors are an error. */
int lr_st_read_f32(lr_st_file *f, const lr_st_tensor *t, float *dst,
                   lr_error *err);
int lr_st_read_f64(lr_st_file *f, const lr_st_tensor *t, double *dst,
                   lr_error *err);
int lr_st_read_lr(lr_st_file *f, const lr_st_tensor *t, lr_float *dst,
                  lr_error *err);
/* Reads an integer tensor (I64/I32/I16/I8/U8/BOOL) as int64. */
int lr_st_read_i64(lr_st_file *f, const lr_st_tensor *t, int64_t *dst,
                   lr_error *err);
/* Reads a floating tensor keeping its storage type, in host byte order
 * (F32 -> float, F64 -> double, F16/BF16 -> uint16_t bit patterns). */
int lr_st_read_native(lr_st_file *f, const lr_st_tensor *t, void *dst,
                      lr_error *err);


/* ---- sharded checkpoints ---- */

typedef struct lr_st_set lr_st_set;

/* path is a .safetensors file, a model.safetensors.index.json, or a
 * directory holding model.safetensors or model.safetensors.index.json. */
int lr_st_set_open(const char *path, int flags, lr_st_set **out,
                   lr_error *err);
void lr_st_set_close(lr_st_set *s);
size_t lr_st_set_count(const lr_st_set *s);
/* i-th tensor over all shards; *file receives the shard holding it. */
const lr_st_tensor *lr_st_set_at(const lr_st_set *s, size_t i,
                                 lr_st_file **file);
const lr_st_tensor *lr_st_set_find(const lr_st_set *s, const char *name,
                                   lr_st_file **file);

/* ---- writer ---- */

typedef struct lr_st_writer lr_st_writer;

/* An empty writer (NULL with err filled when out of memory); the caller
 * frees it with lr_st_writer_free (NULL-safe), after writing or not. */
lr_st_writer *lr_st_writer_new(lr_error *err);
void lr_st_writer_free(lr_st_writer *w);
/* Adds a tensor from host values, encoding it as dtype (float data is
 * rounded to nearest even for F16/BF16).  The data is copied. */
int lr_st_writer_add_f32(lr_st_writer *w, const char *name, lr_dtype dtype,
                         int ndim, const int64_t *shape, const float *data,
                         lr_error *err);
int lr_st_writer_add_f64(lr_st_writer *w, const char *name, lr_dtype dtype,
                         int ndim, const int64_t *shape, const double *data,
                         lr_error *err);
int lr_st_writer_add_lr(lr_st_writer *w, const char *name, lr_dtype dtype,
                        int ndim, const int64_t *shape, const lr_float *data,
                        lr_error *err);
int lr_st_writer_add_i64(lr_st_writer *w, const char *name, lr_dtype dtype,
                         int ndim, const int64_t *shape, const int64_t *data,
                         lr_error *err);
/* Adds already-encoded little-endian bytes (nbytes must match). */
int lr_st_writer_add_raw(lr_st_writer *w, const char *name, lr_dtype dtype,
                         int ndim, const int64_t *shape, const void *data,
                         size_t nbytes, lr_error *err);
int lr_st_writer_meta(lr_st_writer *w, const char *key, const char *value,
                      lr_error *err);
/* Writes atomically (temporary file + rename).  Output is deterministic:
 * tensors sorted by name, header padded with spaces to a multiple of 8 so
 * that every tensor's data is 8-byte aligned, metadata keys sorted. */
int lr_st_writer_save(lr_st_writer *w, const char *path, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
