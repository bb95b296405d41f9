/* bpe_train.c - byte-level BPE training with incremental pair counts (see
 * bpe_train.h for the algorithm and its tie-break).  Depends on the Llama 3
 * pre-tokenizer (pretokenize.h), the vocabulary (vocab.h) and, for
 * lr_bpe_train_file, common.h's file reading and atomic writing.
 *
 * Data structures:
 *   words   distinct pieces with their counts; each is a sequence of token
 *           ids stored in syms[off[w] .. off[w] + len[w]), shrunk in place
 *           as merges apply.
 *   pairs   every adjacent (left, right) ever seen: its weighted count and
 *           the words that contained it when it gained occurrences (a list
 *           that may hold stale entries; a word is re-scanned, so a stale
 *           entry costs time, never correctness).  Found through an
 *           open-addressing hash table; the table's order is never used for
 *           a decision.
 *   heap    lazy max-heap of (count, left, right) snapshots: a pair gets an
 *           entry whenever its count changes; a popped entry whose count is
 *           not the pair's current count is stale and dropped.  Since every
 *           live count has an entry, the top valid entry is the best pair.
 */
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/bpe_train.h"
#include "llamaref/tokenizer/pretokenize.h"

typedef struct pair_entry {
    uint32_t left, right;
    uint64_t count;
    uint64_t stamp;  /* merge number that last changed it (touched list) */
    uint32_t *words; /* words that gained this pair (may repeat, may be stale) */
    size_t n_words, cap_words;
} pair_entry;

typedef struct heap_item {
    uint64_t count;
    uint32_t left, right, pair;
} heap_item;

typedef struct trainer {
    size_t n_words;
    uint64_t *word_count;
    uint64_t *word_stamp;
    size_t *word_off, *word_len;
    uint32_t *syms;
    pair_entry *pairs;
    size_t n_pairs, cap_pairs;
    uint32_t *slots; /* 0 empty, else pair index + 1 */
    size_t n_slots;  /* power of two, >= 2 n_pairs */
    heap_item *heap;
    size_t n_heap, cap_heap;
    uint32_t *touched;
    size_t n_touched, cap_touched;
    lr_error *err;
} trainer;

static void trainer_free(trainer *t)
{
    size_t i;
    for (i = 0; i < t->n_pairs; i++) free(t->pairs[i].words);
    free(t->pairs);
    free(t->slots);
    free(t->heap);
    free(t->touched);
    free(t->word_count);
    free(t->word_stamp);
    free(t->word_off);
    free(t->word_len);
    free(t->syms);
}

/* Grows *p (of *cap elements of size bytes) to hold at least need. */
static int grow(void **p, size_t *cap, size_t need, size_t size,
                const char *what, lr_error *err)
{
    size_t ncap = *cap ? *cap : 16, bytes;
    void *np;
    if (need <= *cap) return 0;
    while (ncap < need) {
        if (ncap > ((size_t)-1) / 2) return lr_fail(err, "too many %s", what);
        ncap *= 2;
    }
    if (lr_size_mul(ncap, size, &bytes)) return lr_fail(err, "too many %s", what);
    np = realloc(*p, bytes);
    if (!np) return lr_fail(err, "out of memory for %s (%zu bytes)", what, bytes);
    *p = np;
    *cap = ncap;
    return 0;
}

static size_t pair_hash(uint32_t left, uint32_t right, size_t mask)
{
    uint64_t k = ((uint64_t)left << 32 | right) * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(k >> 32 ^ k) & mask;
}

static int rehash(trainer *t, size_t n_slots)
{
    size_t i, mask = n_slots - 1;
    uint32_t *slots = lr_zalloc(n_slots, sizeof *slots, "pair table", t->err);
    if (!slots) return -1;
    for (i = 0; i < t->n_pairs; i++) {
        size_t h = pair_hash(t->pairs[i].left, t->pairs[i].right, mask);
        while (slots[h]) h = (h + 1) & mask;
        slots[h] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->n_slots = n_slots;
    return 0;
}

/* Index of the pair (left, right), added with count 0 if new; -1 on error. */
static long pair_index(trainer *t, uint32_t left, uint32_t right)
{
    size_t h, mask;
    pair_entry *e;
    if (2 * (t->n_pairs + 1) > t->n_slots) {
        if (t->n_pairs >= UINT32_MAX - 1) return lr_fail(t->err, "too many pairs");
        if (rehash(t, t->n_slots ? 2 * t->n_slots : 1024)) return -1;
    }
    mask = t->n_slots - 1;
    for (h = pair_hash(left, right, mask); t->slots[h]; h = (h + 1) & mask) {
        e = &t->pairs[t->slots[h] - 1];
        if (e->left == left && e->right == right) return (long)(t->slots[h] - 1);
    }
    if (grow((void **)&t->pairs, &t->cap_pairs, t->n_pairs + 1, sizeof *t->pairs,
             "pairs", t->err))
        return -1;
    e = &t->pairs[t->n_pairs];
    memset(e, 0, sizeof *e);
    e->left = left;
    e->right = right;
    t->slots[h] = (uint32_t)t->n_pairs + 1;
    return (long)t->n_pairs++;
}

/* count(left, right) += sign * c for word w during step stamp (>= 1; new
 * pairs have stamp 0), recording the pair as touched once per step. */
static int pair_delta(trainer *t, uint32_t left, uint32_t right, int sign,
                      uint64_t c, size_t w, uint64_t stamp)
{
    long idx = pair_index(t, left, right);
    pair_entry *e;
    if (idx < 0) return -1;
    e = &t->pairs[idx];
    if (sign > 0) {
        e->count += c;
        if (e->n_words == 0 || e->words[e->n_words - 1] != (uint32_t)w) {
            if (grow((void **)&e->words, &e->cap_words, e->n_words + 1,
                     sizeof *e->words, "pair word lists", t->err))
                return -1;
            e->words[e->n_words++] = (uint32_t)w;
        }
    } else {
        if (e->count < c)
            return lr_fail(t->err, "internal error: count of pair (%lu, %lu) below zero",
                           (unsigned long)left, (unsigned long)right);
        e->count -= c;
    }
    if (e->stamp != stamp) {
        e->stamp = stamp;
        if (grow((void **)&t->touched, &t->cap_touched, t->n_touched + 1,
                 sizeof *t->touched, "touched pairs", t->err))
            return -1;
        t->touched[t->n_touched++] = (uint32_t)idx;
    }
    return 0;
}

/* Heap order: higher count first, then smaller left, then smaller right. */
static int heap_before(const heap_item *a, const heap_item *b)
{
    if (a->count != b->count) return a->count > b->count;
    if (a->left != b->left) return a->left < b->left;
    return a->right < b->right;
}

static int heap_push(trainer *t, uint32_t pair)
{
    heap_item it;
    size_t i;
    if (grow((void **)&t->heap, &t->cap_heap, t->n_heap + 1, sizeof *t->heap,
             "pair heap", t->err))
        return -1;
    it.count = t->pairs[pair].count;
    it.left = t->pairs[pair].left;
    it.right = t->pairs[pair].right;
    it.pair = pair;
    i = t->n_heap++;
    while (i > 0 && heap_before(&it, &t->heap[(i - 1) / 2])) {
        t->heap[i] = t->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    t->heap[i] = it;
    return 0;
}

static heap_item heap_pop(trainer *t)
{
    heap_item top = t->heap[0], last = t->heap[--t->n_heap];
    size_t i = 0, n = t->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_before(&t->heap[c + 1], &t->heap[c])) c++;
        if (!heap_before(&t->heap[c], &last)) break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (n > 0) t->heap[i] = last;
    return top;
}

/* Pushes a heap entry for every pair changed since the last call. */
static int flush_touched(trainer *t)
{
    size_t i;
    for (i = 0; i < t->n_touched; i++)
        if (t->pairs[t->touched[i]].count > 0 && heap_push(t, t->touched[i])) return -1;
    t->n_touched = 0;
    return 0;
}

/* Splits the corpus into pieces and counts the distinct ones. */
static int count_words(trainer *t, const char *text, size_t n, lr_vocab *pieces,
                       lr_bpe_trained *out)
{
    size_t pos = 0, cap = 0, i;
    while (pos < n) {
        size_t end = lr_pretokenize_next(text, n, pos);
        int32_t id = lr_vocab_find(pieces, text + pos, end - pos);
        if (id < 0) {
            if (pieces->n >= UINT32_MAX - 1)
                return lr_fail(t->err, "too many distinct pieces");
            if (lr_vocab_add(pieces, text + pos, end - pos, t->err)) return -1;
            id = (int32_t)(pieces->n - 1);
            if (grow((void **)&t->word_count, &cap, pieces->n, sizeof *t->word_count,
                     "piece counts", t->err))
                return -1;
            t->word_count[id] = 0;
        }
        t->word_count[id]++;
        out->n_pieces++;
        pos = end;
    }
    t->n_words = pieces->n;
    t->syms = lr_alloc(pieces->blob_len ? pieces->blob_len : 1, sizeof *t->syms, "word symbols", t->err);
    t->word_off = lr_alloc(t->n_words + 1, sizeof *t->word_off, "word offsets", t->err);
    t->word_len = lr_alloc(t->n_words + 1, sizeof *t->word_len, "word lengths", t->err);
    t->word_stamp = lr_zalloc(t->n_words + 1, sizeof *t->word_stamp, "word stamps", t->err);
    if (!t->syms || !t->word_off || !t->word_len || !t->word_stamp) return -1;
    for (i = 0; i < pieces->blob_len; i++) t->syms[i] = pieces->blob[i];
    for (i = 0; i < t->n_words; i++) {
        t->word_off[i] = pieces->off[i];
        t->word_len[i] = pieces->off[i + 1] - pieces->off[i];
    }
    return 0;
}

/* Replaces (a, b) by c in every word that contains it and updates the
 * counts of the neighbouring pairs (step stamp >= 2).  For an
 * occurrence with left neighbour x and right neighbour y:
 *   (x, a) -= c, (x, c) += c, (b, y) -= c, (c, y) += c;
 * x is the already-rewritten left neighbour, so "a b a b" correctly turns
 * (b, a) into (c, c).  The pair (a, b) itself ends at count 0. */
static int apply_merge(trainer *t, uint32_t pair, uint32_t c, uint64_t stamp)
{
    uint32_t a = t->pairs[pair].left, b = t->pairs[pair].right;
    uint32_t *list = t->pairs[pair].words;
    size_t n_list = t->pairs[pair].n_words, li;
    int rc = 0;
    t->pairs[pair].words = NULL;
    t->pairs[pair].n_words = t->pairs[pair].cap_words = 0;
    t->pairs[pair].count = 0;
    for (li = 0; li < n_list && rc == 0; li++) {
        size_t w = list[li], len = t->word_len[w], i = 0, j = 0;
        uint32_t *s = t->syms + t->word_off[w];
        uint64_t cnt = t->word_count[w];
        if (t->word_stamp[w] == stamp) continue;
        t->word_stamp[w] = stamp;
        while (i < len && rc == 0) {
            if (i + 1 < len && s[i] == a && s[i + 1] == b) {
                if (j > 0) { /* x is never an unmerged a when a == b */
                    uint32_t x = s[j - 1];
                    rc |= pair_delta(t, x, a, -1, cnt, w, stamp);
                    rc |= pair_delta(t, x, c, +1, cnt, w, stamp);
                }
                if (i + 2 < len) { /* "a a a": (a, a) itself is zeroed above */
                    uint32_t y = s[i + 2];
                    if (!(y == b && a == b)) rc |= pair_delta(t, b, y, -1, cnt, w, stamp);
                    rc |= pair_delta(t, c, y, +1, cnt, w, stamp);
                }
                s[j++] = c;
                i += 2;
            } else {
                s[j++] = s[i++];
            }
        }
        t->word_len[w] = j;
    }
    free(list);
    return rc ? -1 : 0;
}

int lr_bpe_train(const char *text, size_t n, const lr_bpe_train_opts *opts,
                 lr_bpe_trained *out, lr_error *err)
{
    trainer t;
    lr_vocab pieces;
    size_t max_len = opts->max_token_bytes ? opts->max_token_bytes : LR_BPE_TRAIN_MAX_TOKEN_BYTES;
    size_t w, i, cap_merges = 0;
    unsigned char *buf = NULL;
    uint64_t stamp = 0;
    int rc = -1;

    memset(out, 0, sizeof *out);
    memset(&t, 0, sizeof t);
    t.err = err;
    lr_vocab_init(&out->vocab);
    lr_vocab_init(&pieces);
    if (opts->vocab_size < 256 || opts->vocab_size > (size_t)INT32_MAX - 256)
        return lr_fail(err, "vocab_size %zu: must be in [256, %ld]", opts->vocab_size,
                       (long)INT32_MAX - 256);
    if (max_len < 2) return lr_fail(err, "max_token_bytes %zu: must be >= 2", max_len);
    buf = lr_alloc(max_len, 1, "token buffer", err);
    if (!buf) goto done;
    for (i = 0; i < 256; i++) {
        unsigned char byte = (unsigned char)i;
        if (lr_vocab_add(&out->vocab, &byte, 1, err)) goto done;
    }
    if (count_words(&t, text, n, &pieces, out)) goto done;
    out->n_words = t.n_words;

    /* initial pair counts: step 1; merges are steps 2, 3, ... */
    stamp = 1;
    for (w = 0; w < t.n_words; w++) {
        const uint32_t *s = t.syms + t.word_off[w];
        for (i = 0; i + 1 < t.word_len[w]; i++)
            if (pair_delta(&t, s[i], s[i + 1], +1, t.word_count[w], w, stamp)) goto done;
    }
    if (flush_touched(&t)) goto done;

    while (out->vocab.n < opts->vocab_size && t.n_heap > 0) {
        heap_item top = heap_pop(&t);
        size_t la, lb;
        const unsigned char *pa, *pb;
        int32_t c;
        if (top.count == 0 || top.count != t.pairs[top.pair].count) continue; /* stale */
        pa = lr_vocab_bytes(&out->vocab, top.left, &la);
        pb = lr_vocab_bytes(&out->vocab, top.right, &lb);
        if (la + lb > max_len) continue; /* never merged: too long */
        memcpy(buf, pa, la);
        memcpy(buf + la, pb, lb);
        c = lr_vocab_find(&out->vocab, buf, la + lb);
        if (c < 0) {
            if (lr_vocab_add(&out->vocab, buf, la + lb, err)) goto done;
            c = (int32_t)(out->vocab.n - 1);
        }
        if (grow((void **)&out->merges, &cap_merges, out->n_merges + 1, sizeof *out->merges,
                 "merges", err))
            goto done;
        out->merges[out->n_merges].left = top.left;
        out->merges[out->n_merges].right = top.right;
        out->merges[out->n_merges].result = (uint32_t)c;
        out->merges[out->n_merges].count = top.count;
        out->n_merges++;
        stamp++;
        if (apply_merge(&t, top.pair, (uint32_t)c, stamp)) goto done;
        if (flush_touched(&t)) goto done;
    }
    rc = 0;
done:
    free(buf);
    trainer_free(&t);
    lr_vocab_free(&pieces);
    if (rc) lr_bpe_trained_free(out);
    return rc;
}

void lr_bpe_trained_free(lr_bpe_trained *t)
{
    lr_vocab_free(&t->vocab);
    free(t->merges);
    t->merges = NULL;
    t->n_merges = 0;
}

int lr_bpe_write_tiktoken(const lr_vocab *v, lr_buf *out, lr_error *err)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t id;
    for (id = 0; id < v->n; id++) {
        size_t len, i;
        const unsigned char *p = lr_vocab_bytes(v, id, &len);
        if (len == 0) return lr_fail(err, "token %zu is empty", id);
        for (i = 0; i < len; i += 3) {
            unsigned long x = (unsigned long)p[i] << 16;
            char q[4];
            if (i + 1 < len) x |= (unsigned long)p[i + 1] << 8;
            if (i + 2 < len) x |= p[i + 2];
            q[0] = b64[x >> 18 & 63];
            q[1] = b64[x >> 12 & 63];
            q[2] = i + 1 < len ? b64[x >> 6 & 63] : '=';
            q[3] = i + 2 < len ? b64[x & 63] : '=';
            lr_buf_append(out, q, 4);
        }
        lr_buf_printf(out, " %zu\n", id);
    }
    if (out->oom) return lr_fail(err, "out of memory writing the tiktoken vocabulary");
    return 0;
}

int lr_bpe_train_file(const char *corpus, const char *out_path,
                      const lr_bpe_train_opts *opts, lr_bpe_trained *out,
                      size_t *corpus_bytes, double *seconds, lr_error *err)
{
    char *text = NULL;
    lr_buf file = {0};
    double t0;
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (lr_read_file(corpus, &text, corpus_bytes, err)) return -1;
    t0 = lr_clock_seconds();
    if (lr_bpe_train(text, *corpus_bytes, opts, out, err)) {
        lr_fail_prefix(err, "%s", corpus);
        goto done;
    }
    if (lr_bpe_write_tiktoken(&out->vocab, &file, err) ||
        lr_write_file_atomic(out_path, file.data, file.len, err)) {
        lr_bpe_trained_free(out);
        goto done;
    }
    *seconds = lr_clock_seconds() - t0;
    rc = 0;
done:
    lr_buf_free(&file);
    free(text);
    return rc;
}
