/* json.h - a small, strict JSON reader (RFC 8259) and writing helpers.
 *
 * Good for config.json, tokenizer.json (~9 MB, ~280k merges), adapter and
 * index files and JSONL datasets.  A parsed document owns all of its values
 * in one arena; free it with lr_json_free.  Strings are decoded to UTF-8
 * (all escapes including surrogate pairs); they may contain NUL bytes, so
 * use .len.  Errors give "<source>:<line>:<column>: <what>".  Invalid
 * UTF-8 inside strings, lone surrogates, nesting deeper than
 * LR_JSON_MAX_DEPTH, trailing garbage and duplicate-free-ness are checked
 * (duplicate keys are allowed, the last one wins in lr_json_get like Python).
 */
#ifndef LLAMAREF_JSON_H
#define LLAMAREF_JSON_H

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_JSON_MAX_DEPTH 256

typedef enum lr_json_type {
    LR_JSON_NULL,
    LR_JSON_FALSE,
    LR_JSON_TRUE,
    LR_JSON_NUMBER,
    LR_JSON_STRING,
    LR_JSON_ARRAY,
    LR_JSON_OBJECT
} lr_json_type;

typedef struct lr_json lr_json;

struct lr_json {
    lr_json_type type;
    int line, col;      /* where the value starts (1-based) */
    double number;      /* NUMBER: value as strtod reads it */
    int is_integer;     /* NUMBER: written without fraction/exponent and fits */
    int64_t integer;    /*   int64 (then .integer is exact) */
    const char *str;    /* STRING: NUL-terminated UTF-8 */
    size_t len;         /* STRING: byte length; ARRAY/OBJECT: element count */
    lr_json *items;     /* ARRAY elements / OBJECT values, len of them */
    const char **keys;  /* OBJECT keys (NUL-terminated UTF-8), len of them */
    size_t *key_lens;
};

typedef struct lr_json_doc lr_json_doc;

/* Parses text[0..len) as one JSON value (surrounding whitespace allowed).
 * source names the input in error messages (a path, "stdin:12", ...). */
int lr_json_parse(const char *text, size_t len, const char *source,
                  lr_json_doc **out, lr_error *err);
int lr_json_parse_file(const char *path, lr_json_doc **out, lr_error *err);
const lr_json *lr_json_root(const lr_json_doc *doc);
void lr_json_free(lr_json_doc *doc);

/* Object lookup (last duplicate wins); NULL if absent or not an object. */
const lr_json *lr_json_get(const lr_json *obj, const char *key);
/* Typed accessors returning 0 on success, -1 (with err naming source, key
 * and expected type) on a missing key or wrong type. */
int lr_json_get_int(const lr_json *obj, const char *key, const char *source,
                    int64_t *out, lr_error *err);
int lr_json_get_number(const lr_json *obj, const char *key,
                       const char *source, double *out, lr_error *err);
int lr_json_get_string(const lr_json *obj, const char *key,
                       const char *source, const char **out, lr_error *err);
const char *lr_json_type_name(lr_json_type t);

/* Writing: appends a JSON string literal (quotes, escapes; invalid UTF-8
 * bytes become U+FFFD so the output is always valid JSON). */
int lr_json_write_string(lr_buf *b, const char *s, size_t len);
/* Appends a number so that it reads back to the same double ("%.17g",
 * integers without exponent; NaN/inf written as null). */
int lr_json_write_number(lr_buf *b, double v);

#ifdef __cplusplus
}
#endif

#endif
