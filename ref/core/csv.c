/* csv.c - strict RFC 4180 CSV reader; see csv.h.  One pass over the text
 * with a small state machine; every field is copied out. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/csv.h"

void lr_csv_free(lr_csv *c)
{
    size_t i, j;
    if (!c) return;
    for (i = 0; i < c->n_records; i++) {
        for (j = 0; j < c->records[i].n_fields; j++)
            free(c->records[i].fields[j]);
        free(c->records[i].fields);
    }
    free(c->records);
    c->records = NULL;
    c->n_records = 0;
}

typedef struct csv_state {
    lr_csv *out;
    size_t cap_records;
    lr_csv_record cur; /* record being built */
    size_t cap_fields;
    lr_buf field;
} csv_state;

static int push_field(csv_state *s, lr_error *err)
{
    char *f;
    if (s->cur.n_fields == s->cap_fields) {
        size_t cap = s->cap_fields ? 2 * s->cap_fields : 8;
        char **p = realloc(s->cur.fields, cap * sizeof *p);
        if (!p) return lr_fail(err, "out of memory reading CSV");
        s->cur.fields = p;
        s->cap_fields = cap;
    }
    f = lr_strndup(s->field.data ? s->field.data : "", s->field.len, err);
    if (!f) return -1;
    s->cur.fields[s->cur.n_fields++] = f;
    s->field.len = 0;
    return 0;
}

static int push_record(csv_state *s, lr_error *err)
{
    lr_csv *o = s->out;
    if (o->n_records == s->cap_records) {
        size_t cap = s->cap_records ? 2 * s->cap_records : 64;
        lr_csv_record *p = realloc(o->records, cap * sizeof *p);
        if (!p) return lr_fail(err, "out of memory reading CSV");
        o->records = p;
        s->cap_records = cap;
    }
    o->records[o->n_records++] = s->cur;
    memset(&s->cur, 0, sizeof s->cur);
    s->cap_fields = 0;
    return 0;
}

int lr_csv_parse(const char *text, size_t len, const char *source,
                 lr_csv *out, lr_error *err)
{
    csv_state s;
    size_t i = 0;
    unsigned long line = 1, quote_line = 0;
    int rc = -1;

    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);
    s.out = out;
    while (i < len) {
        /* start of a record; an empty line is a record without fields
         * (as Python's csv module reads it) */
        s.cur.line = line;
        if (text[i] == '\n' || (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')) {
            i += text[i] == '\r' ? 2 : 1;
            line++;
            if (push_record(&s, err)) goto fail;
            continue;
        }
        for (;;) { /* one field per iteration */
            if (i < len && text[i] == '"') {
                quote_line = line;
                i++;
                for (;;) {
                    if (i >= len) {
                        lr_fail(err, "%s:%lu: quoted field never closed",
                                source, quote_line);
                        goto fail;
                    }
                    if (text[i] == '"') {
                        if (i + 1 < len && text[i + 1] == '"') {
                            lr_buf_append(&s.field, "\"", 1);
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    if (text[i] == 0) {
                        lr_fail(err, "%s:%lu: NUL byte", source, line);
                        goto fail;
                    }
                    if (text[i] == '\n') line++;
                    lr_buf_append(&s.field, text + i, 1);
                    i++;
                }
                if (i < len && text[i] != ',' && text[i] != '\n' &&
                    !(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')) {
                    lr_fail(err, "%s:%lu: '%c' after the closing quote of a "
                            "field (expected ',' or end of line)", source,
                            line, text[i] >= 32 && text[i] < 127 ? text[i] : '?');
                    goto fail;
                }
            } else {
                while (i < len && text[i] != ',' && text[i] != '\n' &&
                       text[i] != '\r') {
                    if (text[i] == '"') {
                        lr_fail(err, "%s:%lu: '\"' inside an unquoted field",
                                source, line);
                        goto fail;
                    }
                    if (text[i] == 0) {
                        lr_fail(err, "%s:%lu: NUL byte", source, line);
                        goto fail;
                    }
                    lr_buf_append(&s.field, text + i, 1);
                    i++;
                }
                if (i < len && text[i] == '\r' &&
                    !(i + 1 < len && text[i + 1] == '\n')) {
                    lr_fail(err, "%s:%lu: carriage return not followed by a "
                            "line feed", source, line);
                    goto fail;
                }
            }
            if (s.field.oom) { lr_fail(err, "out of memory reading CSV"); goto fail; }
            if (push_field(&s, err)) goto fail;
            if (i < len && text[i] == ',') { i++; continue; }
            /* end of record: CRLF, LF or end of text */
            if (i < len && text[i] == '\r') i++;
            if (i < len && text[i] == '\n') { i++; line++; }
            break;
        }
        if (push_record(&s, err)) goto fail;
    }
    rc = 0;
fail:
    if (rc) {
        size_t j;
        for (j = 0; j < s.cur.n_fields; j++) free(s.cur.fields[j]);
        free(s.cur.fields);
        lr_csv_free(out);
    }
    lr_buf_free(&s.field);
    return rc;
}

int lr_csv_read_file(const char *path, lr_csv *out, lr_error *err)
{
    char *data;
    size_t len;
    int rc;
    memset(out, 0, sizeof *out);
    if (lr_read_file(path, &data, &len, err)) return -1;
    rc = lr_csv_parse(data, len, path, out, err);
    free(data);
    return rc;
}
