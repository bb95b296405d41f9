/* tokens.c - the growable vector of token ids and its text form
 * (tokens.h).  Depends on common.c (errors, overflow-checked sizes,
 * lr_buf). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/tokens.h"

int lr_tokens_push(lr_tokens *t, int32_t id, lr_error *err)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64, bytes;
        int32_t *p;
        if (lr_size_mul(cap, sizeof *p, &bytes))
            return lr_fail(err, "too many tokens");
        p = realloc(t->ids, bytes);
        if (!p) return lr_fail(err, "out of memory for %zu token ids", cap);
        t->ids = p;
        t->cap = cap;
    }
    t->ids[t->n++] = id;
    return 0;
}

void lr_tokens_free(lr_tokens *t)
{
    free(t->ids);
    t->ids = NULL;
    t->n = t->cap = 0;
}

void lr_tokens_format(lr_buf *out, const lr_tokens *t, int json)
{
    size_t i;
    if (json) lr_buf_puts(out, "[");
    for (i = 0; i < t->n; i++)
        lr_buf_printf(out, i ? (json ? ",%ld" : " %ld") : "%ld", (long)t->ids[i]);
    if (json) lr_buf_puts(out, "]");
    lr_buf_puts(out, "\n");
}

/* The ids of text[0..len) between the separators seps, each in
 * [lo, 2^31 - 1]; *at: the byte of a malformed id, (size_t)-1 else. */
static int parse_ids(const char *text, size_t len, const char *seps, long lo,
                     lr_tokens *out, size_t *at, lr_error *err)
{
    size_t pos = 0;
    *at = (size_t)-1;
    while (pos < len) {
        char *end;
        long v;
        if (strchr(seps, text[pos])) {
            pos++;
            continue;
        }
        errno = 0;
        v = strtol(text + pos, &end, 10);
        if (end == text + pos || errno || v < lo || v > 2147483647L ||
            (*end && !strchr(seps, *end))) {
            *at = pos;
            return lr_fail(err, "invalid token id at byte %zu", pos);
        }
        if (lr_tokens_push(out, (int32_t)v, err)) return -1;
        pos = (size_t)(end - text);
    }
    return 0;
}

int lr_tokens_parse(const char *text, size_t len, lr_tokens *out, lr_error *err)
{
    size_t at;
    return parse_ids(text, len, " \t\r\n\v\f", -2147483647L, out, &at, err);
}

int lr_tokens_parse_list(const char *text, lr_tokens *out, size_t *at, lr_error *err)
{
    return parse_ids(text, strlen(text), " ,\t\n", -2147483647L - 1, out, at, err);
}

int lr_tokens_parse_ids(const char *text, int **ids, int *n, size_t *at, lr_error *err)
{
    lr_tokens t = {0};
    size_t i;
    *ids = NULL;
    *n = 0;
    if (lr_tokens_parse_list(text, &t, at, err)) {
        lr_tokens_free(&t); /* the ids before the malformed one */
        return -1;
    }
    *at = (size_t)-1;
    if (!t.n) lr_fail(err, "empty id list");
    else if ((*ids = lr_alloc(t.n, sizeof **ids, "id list", err)) != NULL) {
        for (i = 0; i < t.n; i++) (*ids)[i] = t.ids[i];
        *n = (int)t.n;
    }
    lr_tokens_free(&t);
    return *ids ? 0 : -1;
}
