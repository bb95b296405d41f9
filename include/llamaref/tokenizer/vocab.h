/* vocab.h - a token vocabulary: id -> byte string and byte string -> id
 * (open-addressing hash table), used by the byte-level BPE, the special
 * tokens and the SentencePiece-style llama2.c tokenizer.
 *
 * Ids are dense: the i-th string added gets id i.  Byte strings may contain
 * any bytes (NUL included) and must be unique.
 */
#ifndef LLAMAREF_VOCAB_H
#define LLAMAREF_VOCAB_H

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_vocab {
    size_t n;               /* number of tokens */
    size_t cap;             /* allocated entries of off[] */
    unsigned char *blob;    /* all token bytes back to back */
    size_t blob_len, blob_cap;
    size_t *off;            /* token i is blob[off[i] .. off[i+1]) (n+1 used) */
    uint32_t *slots;        /* hash slots: 0 empty, else id + 1 */
    size_t n_slots;         /* power of two, >= 2 n */
    size_t max_len;         /* longest token in bytes */
    /* Optional (BPE only, not owned): the listed merges as 8-byte keys
     * (left id, right id as little-endian u32).  When set, two adjacent
     * parts merge only if their pair is listed (Hugging Face / llama.cpp
     * semantics); when NULL any pair whose concatenation is a token merges
     * (tiktoken). */
    const struct lr_vocab *merge_pairs;
} lr_vocab;

/* init: an empty vocabulary (nothing allocated); free: releases what the
 * adds allocated (not merge_pairs) and leaves v empty as after init. */
void lr_vocab_init(lr_vocab *v);
void lr_vocab_free(lr_vocab *v);
/* Reserves room for n tokens and blob_bytes bytes (optional, for speed). */
int lr_vocab_reserve(lr_vocab *v, size_t n, size_t blob_bytes, lr_error *err);
/* Appends a token; fails on a duplicate ("duplicate token (id N)"). */
int lr_vocab_add(lr_vocab *v, const void *bytes, size_t len, lr_error *err);
/* Id of the token with exactly these bytes, or -1. */
int32_t lr_vocab_find(const lr_vocab *v, const void *bytes, size_t len);

static inline const unsigned char *lr_vocab_bytes(const lr_vocab *v,
                                                  size_t id, size_t *len)
{
    *len = v->off[id + 1] - v->off[id];
    return v->blob + v->off[id];
}

#ifdef __cplusplus
}
#endif

#endif
