/* gguf.h - reading and writing GGUF files (llama.cpp's model format).
 *
 * Layout (version 2 and 3; version 1 used 32-bit counts and is rejected):
 *   "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv  x { string key | u32 value_type | value }
 *   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type
 *                 | u64 offset }
 *   padding to `general.alignment` (default 32) | data section
 * A string is u64 length + bytes (no NUL); an array value is u32 element
 * type + u64 count + elements.  ne[0] is the contiguous dimension, so a
 * GGUF matrix ne = [cols, rows] is the row-major [rows][cols] of PyTorch.
 * Tensor offsets are relative to the data section and multiples of the
 * alignment.
 *
 * Byte order: numbers are little-endian, except in files written on a
 * big-endian host (version 3), where every number of the header and the
 * elements of F32/F16/BF16/I* tensors are big-endian; such a file is
 * recognised by its byte-swapped version field.  Blocks of quantised types
 * are kept as written (gguf-py writes them unchanged on either host).
 *
 * Hostile input: every count, length, type and offset is validated against
 * the file size before anything is allocated (no allocation exceeds a
 * small multiple of the file size), tensors must lie inside the data
 * section without overlapping, and errors name the file, the byte offset
 * and the field. */
#ifndef LLAMAREF_GGUF_H
#define LLAMAREF_GGUF_H

#include "llamaref/core/common.h"
#include "llamaref/formats/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* general.alignment when the file does not set it; the writer's alignment */
#define LR_GGUF_DEFAULT_ALIGNMENT 32

typedef enum lr_gguf_vtype {
    LR_GGUF_UINT8 = 0,
    LR_GGUF_INT8 = 1,
    LR_GGUF_UINT16 = 2,
    LR_GGUF_INT16 = 3,
    LR_GGUF_UINT32 = 4,
    LR_GGUF_INT32 = 5,
    LR_GGUF_FLOAT32 = 6,
    LR_GGUF_BOOL = 7,
    LR_GGUF_STRING = 8,
    LR_GGUF_ARRAY = 9,
    LR_GGUF_UINT64 = 10,
    LR_GGUF_INT64 = 11,
    LR_GGUF_FLOAT64 = 12
} lr_gguf_vtype;

/* One metadata value.  Scalars: i (integer types and bool), f (floats);
 * strings: str/len (NUL-terminated copy).  Arrays: arr_type and n; numbers
 * in nums_i / nums_f (by element type), strings in strs/str_lens. */
typedef struct lr_gguf_kv {
    char *key;
    lr_gguf_vtype type;
    int64_t i;
    uint64_t u;     /* unsigned view of integer scalars */
    double f;
    char *str;
    size_t len;
    lr_gguf_vtype arr_type;
    size_t n;
    int64_t *nums_i;
    double *nums_f;
    char **strs;
    size_t *str_lens;
} lr_gguf_kv;

#define LR_GGUF_MAX_DIMS 4

typedef struct lr_gguf_tensor {
    char *name;
    uint32_t type;                 /* lr_ggml_type */
    int n_dims;
    uint64_t ne[LR_GGUF_MAX_DIMS]; /* ne[0] contiguous; unused dims 1 */
    uint64_t nelem;
    uint64_t offset;               /* absolute byte offset in the file */
    uint64_t nbytes;
} lr_gguf_tensor;

typedef struct lr_gguf_writer lr_gguf_writer;

typedef struct lr_gguf {
    char *path;
    uint32_t version;
    int big_endian;
    uint32_t alignment;
    uint64_t data_offset, file_size;
    size_t n_kv, n_tensors;
    lr_gguf_kv *kv;
    lr_gguf_tensor *tensors;
} lr_gguf;

/* Reads and validates the header of path (metadata and tensor infos; the
 * tensor data is read later by lr_gguf_read_tensor).  On success *out is
 * the caller's, released with lr_gguf_free (NULL-safe); on failure *out is
 * NULL and err names the file, byte offset and field. */
int lr_gguf_open(const char *path, lr_gguf **out, lr_error *err);
void lr_gguf_free(lr_gguf *g);
/* 1 when the file starts with the GGUF magic. */
int lr_gguf_sniff(const char *path);

/* The metadata entry / tensor info of that exact name, or NULL; the
 * pointer is into g and lives until lr_gguf_free. */
const lr_gguf_kv *lr_gguf_find_kv(const lr_gguf *g, const char *key);
const lr_gguf_tensor *lr_gguf_find_tensor(const lr_gguf *g, const char *name);
/* Typed getters: 0 and *out filled, 1 when absent (out untouched), -1 on
 * a type mismatch (err names the key and both types). */
int lr_gguf_get_int(const lr_gguf *g, const char *key, int64_t *out, lr_error *err);
int lr_gguf_get_float(const lr_gguf *g, const char *key, double *out, lr_error *err);
int lr_gguf_get_str(const lr_gguf *g, const char *key, const char **out, lr_error *err);
const char *lr_gguf_vtype_name(lr_gguf_vtype t);

/* Reads a tensor and converts it to n = t->nelem lr_float values. */
int lr_gguf_read_tensor(const lr_gguf *g, const lr_gguf_tensor *t, lr_float *dst,
                        lr_error *err);

/* ---- writer (little-endian, version 3) ---- */

/* An empty writer (NULL with err when out of memory), freed with
 * lr_gguf_writer_free (NULL-safe) whether saved or not.  Each add below
 * copies its key and values (in call order) and returns 0, or -1 with err
 * when out of memory. */
lr_gguf_writer *lr_gguf_writer_new(lr_error *err);
void lr_gguf_writer_free(lr_gguf_writer *w);
/* Scalars: string, uint32, int32, float32, bool (0 / 1). */
int lr_gguf_writer_str(lr_gguf_writer *w, const char *key, const char *val, lr_error *err);
int lr_gguf_writer_u32(lr_gguf_writer *w, const char *key, uint32_t val, lr_error *err);
int lr_gguf_writer_i32(lr_gguf_writer *w, const char *key, int32_t val, lr_error *err);
int lr_gguf_writer_f32(lr_gguf_writer *w, const char *key, float val, lr_error *err);
int lr_gguf_writer_bool(lr_gguf_writer *w, const char *key, int val, lr_error *err);
/* Arrays: strings (n strings of lens[i] bytes), int32 and float32. */
int lr_gguf_writer_str_array(lr_gguf_writer *w, const char *key, const char *const *strs,
                             const size_t *lens, size_t n, lr_error *err);
int lr_gguf_writer_i32_array(lr_gguf_writer *w, const char *key, const int32_t *v,
                             size_t n, lr_error *err);
int lr_gguf_writer_f32_array(lr_gguf_writer *w, const char *key, const float *v,
                             size_t n, lr_error *err);
/* A tensor of ggml type `type` from float values; ne[0] contiguous.  The
 * data is quantised and copied now.  Fails (err, naming the tensor) on
 * n_dims outside 1..LR_GGUF_MAX_DIMS, a type other than F32, F16, BF16 and
 * Q8_0, ne[0] not a multiple of the type's block size, or out of memory. */
int lr_gguf_writer_tensor(lr_gguf_writer *w, const char *name, uint32_t type, int n_dims,
                          const uint64_t *ne, const float *data, lr_error *err);
/* Writes atomically (temporary file + rename). */
int lr_gguf_writer_save(lr_gguf_writer *w, const char *path, lr_error *err);

/* ---- models and tokenizers (gguf_model.c, gguf_tokenizer.c) ---- */

struct lr_model;
struct lr_tokenizer;

/* The config of a general.architecture "llama" file (see gguf_model.c). */
int lr_config_from_gguf(const lr_gguf *g, lr_config *cfg, lr_error *err);
/* Loads every weight, dequantised to lr_float, q/k rows in HF layout. */
int lr_model_load_gguf(const char *path, struct lr_model **out, lr_error *err);
/* Writes m (and tok's tokenizer.ggml.* metadata when tok is not NULL) as
 * a llama GGUF whose matrices have ggml type `type` (F32, F16, BF16 or
 * Q8_0; norms stay F32), atomically. */
int lr_model_save_gguf(const struct lr_model *m, const struct lr_tokenizer *tok,
                       const char *path, uint32_t type, lr_error *err);
/* `llamaref export-gguf --type`: "f32", "f16", "bf16" or "q8_0" (any
 * case, lr_ggml_type_from_name) to *type: 0, or -1 for another name. */
int lr_gguf_export_type(const char *name, uint32_t *type);
/* `llamaref export-gguf` as one call: the model at model_path (any format
 * lr_model_load reads) and, unless no_tokenizer, the tokenizer at tok_path
 * (NULL: model_path) through lr_model_save_gguf to out.  0; -1 with err
 * set; -2 with err set when the tokenizer does not load. */
int lr_export_gguf(const char *model_path, const char *tok_path, int no_tokenizer,
                   uint32_t type, const char *out, lr_error *err);
/* The tokenizer of tokenizer.ggml.* metadata (gpt2 BPE or llama SPM). */
int lr_tokenizer_load_gguf(const char *path, struct lr_tokenizer *tok, lr_error *err);
int lr_tokenizer_from_gguf(const lr_gguf *g, struct lr_tokenizer *tok, lr_error *err);
/* Adds tokenizer.ggml.* metadata for tok: "gpt2" for byte-level BPE
 * tokenizers, "llama" for SentencePiece (llama2.c) ones. */
int lr_tokenizer_to_gguf(const struct lr_tokenizer *tok, const lr_config *cfg,
                         lr_gguf_writer *w, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
