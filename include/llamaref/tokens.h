/* tokens.h - a growable vector of token ids, the one container every
 * tokenizer, the generators and the evaluation code pass token sequences
 * in.  Zero-initialise it (lr_tokens t = {0}), push, free.  Depends on
 * common.h only. */
#ifndef LLAMAREF_TOKENS_H
#define LLAMAREF_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "llamaref/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_tokens {
    int32_t *ids;
    size_t n, cap;
} lr_tokens;

/* Appends id (amortised doubling); -1 with err set when out of memory. */
int lr_tokens_push(lr_tokens *t, int32_t id, lr_error *err);
void lr_tokens_free(lr_tokens *t);

#ifdef __cplusplus
}
#endif

#endif
