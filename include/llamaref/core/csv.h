/* csv.h - a strict RFC 4180 CSV reader (MMLU's data files).
 *
 * Fields are separated by ','; records end at LF or CRLF (a final line
 * without a newline is a record too; an empty line is a record with no
 * fields, as in Python's csv module).  A field
 * that starts with '"' is quoted: it runs to the next lone '"', may contain
 * ',', CR and LF, and '""' inside it stands for one '"'.  Errors (with the
 * file and line): a quote left open at the end of the file (naming the line
 * where it opened), a character other than ',' or a line end after a
 * closing quote, a '"' inside an unquoted field, a lone CR, a NUL byte.
 * Fields are returned as NUL-terminated copies (no trimming). */
#ifndef LLAMAREF_CSV_H
#define LLAMAREF_CSV_H

#include <stddef.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_csv_record {
    char **fields;
    size_t n_fields;
    unsigned long line; /* line on which the record starts (1-based) */
} lr_csv_record;

typedef struct lr_csv {
    lr_csv_record *records;
    size_t n_records;
} lr_csv;

/* Parses text[0..len); source names it in errors ("<source>:<line>: ..."). */
int lr_csv_parse(const char *text, size_t len, const char *source,
                 lr_csv *out, lr_error *err);
int lr_csv_read_file(const char *path, lr_csv *out, lr_error *err);
void lr_csv_free(lr_csv *c);

#ifdef __cplusplus
}
#endif

#endif
