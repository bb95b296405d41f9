/* bpe.h - byte-level BPE as tiktoken does it.
 *
 * The vocabulary's ids are the merge ranks (Llama 3: 128,000 tokens).  One
 * piece (a pre-tokenizer output) is encoded by: the whole piece if it is a
 * token (unless ignore_merges is off), otherwise start from single bytes
 * and repeatedly merge the adjacent pair whose concatenation is the token of
 * lowest rank (the leftmost such pair on ties) until no adjacent pair
 * concatenates to a token.
 *
 * Two implementations give identical results: lr_bpe_merge_naive is
 * tiktoken's O(m^2) loop (the readable reference, used for short pieces),
 * lr_bpe_merge_heap uses a linked list and a binary heap, O(m log m), so a
 * 1 MB piece (a long run of letters) stays fast.
 */
#ifndef LLAMAREF_BPE_H
#define LLAMAREF_BPE_H

#include "llamaref/core/common.h"
#include "llamaref/core/tokens.h"
#include "llamaref/tokenizer/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Scratch memory for the merges, reused across pieces. */
typedef struct lr_bpe_scratch {
    size_t cap;
    uint32_t *next, *prev, *rank; /* per start byte of a part */
    uint64_t *heap;               /* (rank << 32) | start */
    size_t heap_cap;
} lr_bpe_scratch;

/* Start from a zeroed lr_bpe_scratch; lr_bpe_encode_piece grows it as
 * needed; lr_bpe_scratch_free releases its arrays (s not NULL). */
void lr_bpe_scratch_free(lr_bpe_scratch *s);

/* Pieces at most this long use the naive loop in lr_bpe_encode_piece. */
#define LR_BPE_NAIVE_MAX 48

/* Appends the tokens of piece[0..n) (n >= 1) to out.  Fails if a single
 * byte of the piece is not a token (a vocabulary without all 256 bytes). */
int lr_bpe_encode_piece(const lr_vocab *v, int ignore_merges,
                        const unsigned char *piece, size_t n,
                        lr_bpe_scratch *s, lr_tokens *out, lr_error *err);

/* The two merge loops, exposed so that tests can compare them. */
int lr_bpe_merge_naive(const lr_vocab *v, const unsigned char *piece, size_t n,
                       lr_bpe_scratch *s, lr_tokens *out, lr_error *err);
int lr_bpe_merge_heap(const lr_vocab *v, const unsigned char *piece, size_t n,
                      lr_bpe_scratch *s, lr_tokens *out, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
