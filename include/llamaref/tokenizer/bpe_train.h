/* bpe_train.h - training a byte-level BPE vocabulary (the trainer of the
 * tokenizer that tokenizer.h loads; the format is Llama 3's tiktoken file).
 *
 * Algorithm (docs/bpe_train.md; a worked example is in tests/tokenizer/test_bpe_train.c):
 *  1. Split the corpus with the Llama 3 pre-tokenizer (pretokenize.h) and
 *     count each distinct piece ("word").  Merges never cross pieces.
 *  2. Start from the 256 single bytes: token id b is the byte b.  Each word
 *     is a sequence of token ids.
 *  3. Repeat until the vocabulary has vocab_size tokens or no pair is left:
 *     take the adjacent pair (left, right) with the highest count (each
 *     occurrence counted once per occurrence in a word times the word's
 *     count; overlapping occurrences like "a a a" count 2 for (a, a)).
 *     Tie-break: the smallest left id, then the smallest right id.  Pairs
 *     whose concatenation would be longer than max_token_bytes are never
 *     merged.  Replace every occurrence in every word, left to right and
 *     non-overlapping.  The merged token is bytes(left) + bytes(right); it
 *     gets the next id, unless a token with those bytes already exists
 *     (made from a different split, e.g. "ab"+"c" after "a"+"bc"), in which
 *     case the existing id is used and the vocabulary does not grow.
 *  4. Ranks are ids, so the tiktoken file lists the tokens in id order.
 *
 * Pair counts are updated incrementally (only words containing the merged
 * pair are touched) and the best pair comes from a lazy max-heap, so a few
 * MB of text and a few thousand merges take seconds.  The result is fully
 * determined by the corpus bytes and the options (no hash-order or
 * floating-point dependence).  vectors/gen/bpe_train_ref.py is an
 * independent (slow, recount-everything) Python implementation.
 */
#ifndef LLAMAREF_BPE_TRAIN_H
#define LLAMAREF_BPE_TRAIN_H

#include "llamaref/core/common.h"
#include "llamaref/tokenizer/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_BPE_TRAIN_MAX_TOKEN_BYTES 128 /* default longest token */

typedef struct lr_bpe_train_opts {
    size_t vocab_size;      /* tokens wanted, the 256 bytes included (>= 256) */
    size_t max_token_bytes; /* longest token (0: LR_BPE_TRAIN_MAX_TOKEN_BYTES) */
} lr_bpe_train_opts;

/* One merge step: left + right -> result (result < 256 never happens). */
typedef struct lr_bpe_merge {
    uint32_t left, right, result;
    uint64_t count;   /* weighted occurrences of the pair when merged */
} lr_bpe_merge;

typedef struct lr_bpe_trained {
    lr_vocab vocab;          /* id = rank; 0..255 the single bytes */
    lr_bpe_merge *merges;    /* in the order applied (>= vocab.n - 256) */
    size_t n_merges;
    size_t n_words;          /* distinct pre-tokenizer pieces */
    uint64_t n_pieces;       /* pieces in the corpus */
} lr_bpe_trained;

/* Trains on text[0..n).  Fewer than vocab_size tokens result when the
 * corpus runs out of pairs (check out->vocab.n). */
int lr_bpe_train(const char *text, size_t n, const lr_bpe_train_opts *opts,
                 lr_bpe_trained *out, lr_error *err);
void lr_bpe_trained_free(lr_bpe_trained *t);

/* Appends the vocabulary in tiktoken format: one line
 * "base64(token bytes) rank\n" per token, ranks 0, 1, 2, ... */
int lr_bpe_write_tiktoken(const lr_vocab *v, lr_buf *out, lr_error *err);

/* The whole job of `llamaref bpe-train`: reads the file corpus, trains on
 * it and writes the vocabulary to out_path as a tiktoken file (atomically:
 * a failed run leaves no file).  *corpus_bytes gets the corpus size and
 * *seconds the time from the start of training to the file written
 * (lr_clock_seconds).  A training error names the corpus.  On success the
 * caller frees out with lr_bpe_trained_free; on failure nothing is held. */
int lr_bpe_train_file(const char *corpus, const char *out_path,
                      const lr_bpe_train_opts *opts, lr_bpe_trained *out,
                      size_t *corpus_bytes, double *seconds, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
