/* tokens.h - a growable vector of token ids, the one container every
 * tokenizer, the generators and the evaluation code pass token sequences
 * in.  Zero-initialise it (lr_tokens t = {0}), push, free; and its text
 * form (the tokenize / detokenize commands').  Depends on common.h only. */
#ifndef LLAMAREF_TOKENS_H
#define LLAMAREF_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "llamaref/core/common.h"

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

/* The ids as text, appended to out with a final newline: "1 2 3", or as a
 * JSON array "[1,2,3]" when json. */
void lr_tokens_format(lr_buf *out, const lr_tokens *t, int json);
/* Appends the ids of text[0..len) (NUL-terminated at len): integers in [-2^31 + 1, 2^31 - 1]
 * separated by white space; anything else fails naming its byte
 * ("invalid token id at byte N"). */
int lr_tokens_parse(const char *text, size_t len, lr_tokens *out, lr_error *err);
/* The same for an id list given on a command line (--ids): "1 2 3" or
 * "1,2,3" (spaces, commas, tabs, newlines between ids), each in
 * [-2^31, 2^31 - 1].  *at: the byte of a malformed id, or (size_t)-1 when
 * the error is another (out of memory). */
int lr_tokens_parse_list(const char *text, lr_tokens *out, size_t *at, lr_error *err);
/* lr_tokens_parse_list into a malloc'ed int array of *n ids (--ids,
 * --prompt-ids): an empty list is refused ("empty id list"); *at as
 * there. */
int lr_tokens_parse_ids(const char *text, int **ids, int *n, size_t *at, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
