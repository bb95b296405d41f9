/* sentencepiece.c - llama2.c tokenizer.bin loading and SentencePiece-BPE
 * encoding/decoding (see sentencepiece.h).  The merge loop uses a heap keyed
 * by (score descending, position ascending), SentencePiece's own order, so
 * long texts (SentencePiece does not pre-split) stay O(m log m). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/sentencepiece.h"
#include "llamaref/tokenizer/unicode.h"

void lr_sp_free(lr_sp *sp)
{
    lr_vocab_free(&sp->vocab);
    free(sp->scores);
    free(sp->kind);
    memset(sp, 0, sizeof *sp);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int lr_sp_load_buffer(const unsigned char *data, size_t len, const char *source,
                      lr_sp *sp, lr_error *err)
{
    size_t pos = 4, n = 0, cap = 0, i;
    memset(sp, 0, sizeof *sp);
    lr_vocab_init(&sp->vocab);
    if (len < 4)
        return lr_fail(err, "%s: truncated llama2.c tokenizer (%zu bytes, no header)",
                       source, len);
    sp->max_token_length = lr_le32(data);
    if (sp->max_token_length == 0 || sp->max_token_length > 65536)
        return lr_fail(err, "%s: implausible max_token_length %lu in the header",
                       source, (unsigned long)sp->max_token_length);
    while (pos < len) {
        float score;
        uint32_t tl;
        if (len - pos < 8) {
            lr_fail(err, "%s: truncated at byte offset %zu (token %zu: score and length need 8 bytes)",
                    source, pos, n);
            goto fail;
        }
        score = lr_f32_from_bits(lr_le32(data + pos));
        tl = lr_le32(data + pos + 4);
        if (!isfinite(score)) {
            lr_fail(err, "%s: token %zu at byte offset %zu has a non-finite score", source, n, pos);
            goto fail;
        }
        if (tl > sp->max_token_length || tl > len - pos - 8) {
            lr_fail(err, "%s: token %zu at byte offset %zu: length %lu exceeds %s",
                    source, n, pos, (unsigned long)tl,
                    tl > sp->max_token_length ? "max_token_length" : "the end of the file");
            goto fail;
        }
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 1024;
            float *s2 = realloc(sp->scores, nc * sizeof *s2);
            unsigned char *k2;
            if (s2) sp->scores = s2;
            k2 = realloc(sp->kind, nc);
            if (k2) sp->kind = k2;
            if (!s2 || !k2) {
                lr_fail(err, "%s: out of memory", source);
                goto fail;
            }
            cap = nc;
        }
        if (lr_vocab_add(&sp->vocab, data + pos + 8, tl, err)) {
            lr_fail_prefix(err, "%s: token %zu at byte offset %zu", source, n, pos);
            goto fail;
        }
        sp->scores[n] = score;
        sp->kind[n] = LR_SP_NORMAL;
        n++;
        pos += 8 + (size_t)tl;
    }
    if (n < 3 + 256) {
        lr_fail(err, "%s: only %zu tokens (need <unk>, BOS, EOS and 256 byte tokens)", source, n);
        goto fail;
    }
    sp->unk_id = 0;
    sp->bos_id = 1;
    sp->eos_id = 2;
    sp->kind[0] = LR_SP_UNKNOWN;
    sp->kind[1] = sp->kind[2] = LR_SP_CONTROL;
    for (i = 0; i < 256; i++) sp->byte_id[i] = -1;
    for (i = 0; i < n; i++) {
        size_t tl;
        const unsigned char *t = lr_vocab_bytes(&sp->vocab, i, &tl);
        if (tl == 6 && t[0] == '<' && t[1] == '0' && t[2] == 'x' && t[5] == '>' &&
            hexval(t[3]) >= 0 && hexval(t[4]) >= 0) {
            int b = hexval(t[3]) * 16 + hexval(t[4]);
            sp->kind[i] = LR_SP_BYTE;
            sp->byte_id[b] = (int32_t)i;
        }
    }
    return 0;
fail:
    lr_sp_free(sp);
    return -1;
}

/* Id of a normal token with these bytes, or -1. */
static int32_t normal_id(const lr_sp *sp, const unsigned char *s, size_t n)
{
    int32_t id = lr_vocab_find(&sp->vocab, s, n);
    return id >= 0 && sp->kind[id] == LR_SP_NORMAL ? id : -1;
}

/* Heap key: higher score first, then smaller position. */
static uint64_t pair_key(float score, size_t pos)
{
    uint32_t b = lr_f32_to_bits(score);
    b = (b & 0x80000000u) ? ~b : (b | 0x80000000u); /* monotone in score */
    return ((uint64_t)(~b) << 32) | (uint64_t)pos;
}

#define NONE64 0xFFFFFFFFFFFFFFFFull

typedef struct sp_work {
    size_t n;
    uint32_t *next, *prev;
    uint64_t *key;     /* current pair key of each symbol, NONE64 if none */
    uint64_t *heap;    /* heap[0] = count */
    size_t heap_cap;
} sp_work;

static int heap_push(sp_work *w, uint64_t key, lr_error *err)
{
    size_t i;
    if (w->heap[0] + 1 >= w->heap_cap) {
        size_t cap = 2 * w->heap_cap;
        uint64_t *p = cap > ((size_t)-1) / 8 ? NULL : realloc(w->heap, cap * sizeof *p);
        if (!p) return lr_fail(err, "out of memory for the merge heap");
        w->heap = p;
        w->heap_cap = cap;
    }
    i = (size_t)++w->heap[0];
    while (i > 1 && w->heap[i / 2] > key) {
        w->heap[i] = w->heap[i / 2];
        i /= 2;
    }
    w->heap[i] = key;
    return 0;
}

static uint64_t heap_pop(sp_work *w)
{
    uint64_t top = w->heap[1], last = w->heap[w->heap[0]--];
    size_t n = (size_t)w->heap[0], i = 1;
    for (;;) {
        size_t c = 2 * i;
        if (c > n) break;
        if (c + 1 <= n && w->heap[c + 1] < w->heap[c]) c++;
        if (w->heap[c] >= last) break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    w->heap[i] = last;
    return top;
}

/* (Re)computes the pair key of symbol k and pushes it. */
static int update_pair(const lr_sp *sp, const unsigned char *s, sp_work *w,
                       size_t k, lr_error *err)
{
    size_t nx = w->next[k], end;
    int32_t id;
    w->key[k] = NONE64;
    if (nx >= w->n) return 0;
    end = w->next[nx];
    id = end - k <= sp->vocab.max_len ? normal_id(sp, s + k, end - k) : -1;
    if (id < 0) return 0;
    w->key[k] = pair_key(sp->scores[id], k);
    return heap_push(w, w->key[k], err);
}

int lr_sp_encode(const lr_sp *sp, const char *text, size_t n, lr_tokens *out,
                 lr_error *err)
{
    /* s = " " + text with U+2581 (E2 96 81) replaced by a space */
    unsigned char *s = NULL;
    sp_work w;
    size_t m, i, k;
    int rc = -1;
    memset(&w, 0, sizeof w);
    if (n == 0) return 0;
    if (n >= 0xFFFFFFF0u) return lr_fail(err, "text of %zu bytes is too long", n);
    s = lr_alloc(n + 1, 1, "text copy", err);
    if (!s) return -1;
    s[0] = ' ';
    for (i = 0, m = 1; i < n; i++) {
        if (i + 2 < n && (unsigned char)text[i] == 0xE2 &&
            (unsigned char)text[i + 1] == 0x96 && (unsigned char)text[i + 2] == 0x81) {
            s[m++] = ' ';
            i += 2;
        } else {
            s[m++] = (unsigned char)text[i];
        }
    }
    w.n = m;
    w.next = lr_alloc(m, sizeof *w.next, "symbol list", err);
    w.prev = lr_alloc(m, sizeof *w.prev, "symbol list", err);
    w.key = lr_alloc(m, sizeof *w.key, "symbol list", err);
    w.heap_cap = 1024;
    w.heap = lr_alloc(w.heap_cap, sizeof *w.heap, "merge heap", err);
    if (!w.next || !w.prev || !w.key || !w.heap) goto done;
    w.heap[0] = 0;
    /* one symbol per character (an ill-formed byte is its own symbol) */
    for (i = 0, k = (size_t)-1; i < m;) {
        uint32_t cp;
        int l = lr_utf8_decode(s + i, m - i, &cp);
        size_t len = l > 0 ? (size_t)l : 1;
        w.prev[i] = k == (size_t)-1 ? 0xFFFFFFFFu : (uint32_t)k;
        w.next[i] = (uint32_t)(i + len);
        k = i;
        i += len;
    }
    for (k = 0; k < m; k = w.next[k])
        if (update_pair(sp, s, &w, k, err)) goto done;
    while (w.heap[0]) {
        uint64_t top = heap_pop(&w);
        size_t b = (size_t)(top & 0xFFFFFFFFu), nx;
        uint32_t p;
        if (w.key[b] != top) continue; /* stale */
        nx = w.next[b];
        w.next[b] = w.next[nx];
        if (w.next[b] < m) w.prev[w.next[b]] = (uint32_t)b;
        w.key[nx] = NONE64;
        if (update_pair(sp, s, &w, b, err)) goto done;
        p = w.prev[b];
        if (p != 0xFFFFFFFFu && update_pair(sp, s, &w, p, err)) goto done;
    }
    for (k = 0; k < m; k = w.next[k]) {
        size_t len = w.next[k] - k;
        int32_t id = normal_id(sp, s + k, len);
        if (id >= 0) {
            if (lr_tokens_push(out, id, err)) goto done;
            continue;
        }
        for (i = k; i < k + len; i++) {
            int32_t b = sp->byte_id[s[i]];
            if (lr_tokens_push(out, b >= 0 ? b : sp->unk_id, err)) goto done;
        }
    }
    rc = 0;
done:
    free(s);
    free(w.next);
    free(w.prev);
    free(w.key);
    free(w.heap);
    return rc;
}

int lr_sp_decode_token(const lr_sp *sp, int32_t id, int *at_start, lr_buf *out,
                       lr_error *err)
{
    size_t len;
    const unsigned char *t;
    if (id < 0 || (size_t)id >= sp->vocab.n)
        return lr_fail(err, "token id %ld out of range [0, %zu)", (long)id, sp->vocab.n);
    switch (sp->kind[id]) {
    case LR_SP_CONTROL:
        return 0;
    case LR_SP_UNKNOWN:
        *at_start = 0;
        return lr_buf_puts(out, " \xE2\x81\x87 ");
    case LR_SP_BYTE:
        t = lr_vocab_bytes(&sp->vocab, (size_t)id, &len);
        *at_start = 0;
        {
            unsigned char b = (unsigned char)(hexval(t[3]) * 16 + hexval(t[4]));
            return lr_buf_append(out, &b, 1);
        }
    default:
        t = lr_vocab_bytes(&sp->vocab, (size_t)id, &len);
        if (*at_start && len && t[0] == ' ') {
            t++;
            len--;
        }
        *at_start = 0;
        return lr_buf_append(out, t, len);
    }
}
