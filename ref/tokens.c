/* tokens.c - the growable vector of token ids (tokens.h).  Depends on
 * common.c (errors, overflow-checked sizes). */
#include <stdlib.h>

#include "llamaref/tokens.h"

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
