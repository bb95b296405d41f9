/* bpe.c - tiktoken's byte-pair merge (see bpe.h), in a naive and a heap
 * version.  A "part" is identified by the offset of its first byte in the
 * piece; next[]/prev[] link the parts that are alive, rank[k] is the rank
 * of the token formed by part k and its successor (NONE if that is not a
 * token).  Depends on: vocab (token lookup by bytes), tokens (the output). */
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/bpe.h"

#define NONE 0xFFFFFFFFu

void lr_bpe_scratch_free(lr_bpe_scratch *s)
{
    free(s->next);
    free(s->prev);
    free(s->rank);
    free(s->heap);
    memset(s, 0, sizeof *s);
}

static int scratch_reserve(lr_bpe_scratch *s, size_t n, lr_error *err)
{
    size_t cap, bytes;
    uint32_t *a, *b, *c;
    if (n <= s->cap) return 0;
    if (n >= NONE) return lr_fail(err, "pre-tokenized piece of %zu bytes is too long", n);
    cap = n < 256 ? 256 : n;
    if (lr_size_mul(cap + 1, sizeof(uint32_t), &bytes))
        return lr_fail(err, "piece too long");
    a = realloc(s->next, bytes);
    if (a) s->next = a;
    b = realloc(s->prev, bytes);
    if (b) s->prev = b;
    c = realloc(s->rank, bytes);
    if (c) s->rank = c;
    if (!a || !b || !c) return lr_fail(err, "out of memory for BPE of a %zu-byte piece", n);
    s->cap = cap;
    return 0;
}

/* Rank of the token piece[k .. end) made of the parts [k, mid) and
 * [mid, end), or NONE.  With v->merge_pairs (HF merges semantics) the
 * pair must also be one of the listed merges. */
static uint32_t span_rank(const lr_vocab *v, const unsigned char *piece,
                          size_t k, size_t mid, size_t end)
{
    int32_t id;
    if (end - k > v->max_len) return NONE;
    id = lr_vocab_find(v, piece + k, end - k);
    if (id >= 0 && v->merge_pairs) {
        unsigned char key[8];
        int32_t a = lr_vocab_find(v, piece + k, mid - k);
        int32_t b = lr_vocab_find(v, piece + mid, end - mid);
        if (a < 0 || b < 0) return NONE;
        lr_put_le32(key, (uint32_t)a);
        lr_put_le32(key + 4, (uint32_t)b);
        if (lr_vocab_find(v->merge_pairs, key, 8) < 0) return NONE;
    }
    return id < 0 ? NONE : (uint32_t)id;
}

/* Emits the parts linked from 0 as tokens. */
static int emit_parts(const lr_vocab *v, const unsigned char *piece, size_t n,
                      const uint32_t *next, lr_tokens *out, lr_error *err)
{
    size_t k = 0;
    while (k < n) {
        size_t end = next[k];
        int32_t id = lr_vocab_find(v, piece + k, end - k);
        if (id < 0)
            return lr_fail(err, "byte 0x%02X is not in the vocabulary", piece[k]);
        if (lr_tokens_push(out, id, err)) return -1;
        k = end;
    }
    return 0;
}

int lr_bpe_merge_naive(const lr_vocab *v, const unsigned char *piece, size_t n,
                       lr_bpe_scratch *s, lr_tokens *out, lr_error *err)
{
    uint32_t *next, *rank;
    size_t k;
    if (scratch_reserve(s, n, err)) return -1;
    next = s->next;
    rank = s->rank;
    for (k = 0; k < n; k++) next[k] = (uint32_t)(k + 1);
    for (k = 0; k + 1 < n; k++) rank[k] = span_rank(v, piece, k, k + 1, k + 2);
    if (n) rank[n - 1] = NONE;
    for (;;) {
        /* the lowest-ranked pair, leftmost on ties */
        uint32_t best = NONE;
        size_t best_k = 0, prev = n, prev_best = n, nx;
        for (k = 0; k < n; k = next[k]) {
            if (rank[k] < best) {
                best = rank[k];
                best_k = k;
                prev_best = prev;
            }
            prev = k;
        }
        if (best == NONE) break;
        nx = next[best_k];
        next[best_k] = next[nx];
        rank[best_k] = next[best_k] < n ? span_rank(v, piece, best_k, next[best_k], next[next[best_k]]) : NONE;
        if (prev_best < n) rank[prev_best] = span_rank(v, piece, prev_best, best_k, next[best_k]);
    }
    return emit_parts(v, piece, n, next, out, err);
}

/* Binary min-heap of (rank << 32 | start): lowest rank first, then the
 * leftmost part, exactly the order of the naive loop. */
static int heap_push(lr_bpe_scratch *s, uint64_t key, lr_error *err)
{
    size_t i;
    if (s->heap_cap == (size_t)-1) return lr_fail(err, "heap overflow");
    if (s->heap[0] + 1 >= s->heap_cap) { /* heap[0] holds the count */
        size_t cap = 2 * s->heap_cap, bytes;
        uint64_t *p;
        if (lr_size_mul(cap, sizeof *p, &bytes)) return lr_fail(err, "piece too long");
        p = realloc(s->heap, bytes);
        if (!p) return lr_fail(err, "out of memory for the BPE heap");
        s->heap = p;
        s->heap_cap = cap;
    }
    i = (size_t)++s->heap[0];
    while (i > 1 && s->heap[i / 2] > key) {
        s->heap[i] = s->heap[i / 2];
        i /= 2;
    }
    s->heap[i] = key;
    return 0;
}

static uint64_t heap_pop(lr_bpe_scratch *s)
{
    uint64_t top = s->heap[1], last = s->heap[s->heap[0]--];
    size_t n = (size_t)s->heap[0], i = 1;
    for (;;) {
        size_t c = 2 * i;
        if (c > n) break;
        if (c + 1 <= n && s->heap[c + 1] < s->heap[c]) c++;
        if (s->heap[c] >= last) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    s->heap[i] = last;
    return top;
}

int lr_bpe_merge_heap(const lr_vocab *v, const unsigned char *piece, size_t n,
                      lr_bpe_scratch *s, lr_tokens *out, lr_error *err)
{
    uint32_t *next, *prev, *rank;
    size_t k;
    if (scratch_reserve(s, n, err)) return -1;
    if (!s->heap) {
        s->heap = malloc(1024 * sizeof *s->heap);
        if (!s->heap) return lr_fail(err, "out of memory for the BPE heap");
        s->heap_cap = 1024;
    }
    s->heap[0] = 0;
    next = s->next;
    prev = s->prev;
    rank = s->rank;
    for (k = 0; k < n; k++) {
        next[k] = (uint32_t)(k + 1);
        prev[k] = k ? (uint32_t)(k - 1) : NONE;
        rank[k] = k + 1 < n ? span_rank(v, piece, k, k + 1, k + 2) : NONE;
        if (rank[k] != NONE && heap_push(s, ((uint64_t)rank[k] << 32) | k, err))
            return -1;
    }
    while (s->heap[0]) {
        uint64_t top = heap_pop(s);
        uint32_t r = (uint32_t)(top >> 32), nx, p;
        size_t b = (size_t)(top & 0xFFFFFFFFu);
        /* Stale entry: the part was merged away or its pair changed.  A
         * pair's rank identifies its bytes (ranks are unique), so equal
         * rank means it is still the same pair. */
        if (rank[b] != r) continue;
        nx = next[b];
        next[b] = next[nx];
        if (next[b] < n) prev[next[b]] = (uint32_t)b;
        rank[nx] = NONE;
        rank[b] = next[b] < n ? span_rank(v, piece, b, next[b], next[next[b]]) : NONE;
        if (rank[b] != NONE && heap_push(s, ((uint64_t)rank[b] << 32) | b, err))
            return -1;
        p = prev[b];
        if (p != NONE) {
            rank[p] = span_rank(v, piece, p, b, next[b]);
            if (rank[p] != NONE && heap_push(s, ((uint64_t)rank[p] << 32) | p, err))
                return -1;
        }
    }
    return emit_parts(v, piece, n, next, out, err);
}

int lr_bpe_encode_piece(const lr_vocab *v, int ignore_merges,
                        const unsigned char *piece, size_t n,
                        lr_bpe_scratch *s, lr_tokens *out, lr_error *err)
{
    if (ignore_merges) {
        int32_t id = lr_vocab_find(v, piece, n);
        if (id >= 0) return lr_tokens_push(out, id, err);
    }
    if (n <= LR_BPE_NAIVE_MAX) return lr_bpe_merge_naive(v, piece, n, s, out, err);
    return lr_bpe_merge_heap(v, piece, n, s, out, err);
}
