/* vocab.c - token strings with a hash index (see vocab.h).  Hashing is
 * FNV-1a over the bytes; the table is kept at most half full and doubled as
 * tokens are added, so a 128k-token vocabulary loads in a few milliseconds. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/vocab.h"

static uint32_t hash_bytes(const unsigned char *s, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
    return h;
}

void lr_vocab_init(lr_vocab *v)
{
    memset(v, 0, sizeof *v);
}

void lr_vocab_free(lr_vocab *v)
{
    free(v->blob);
    free(v->off);
    free(v->slots);
    lr_vocab_init(v);
}

static int grow_blob(lr_vocab *v, size_t need, lr_error *err)
{
    size_t cap = v->blob_cap ? v->blob_cap : 4096;
    unsigned char *p;
    if (need <= v->blob_cap) return 0;
    while (cap < need) {
        if (cap > ((size_t)-1) / 2) return lr_fail(err, "vocabulary too large");
        cap *= 2;
    }
    p = realloc(v->blob, cap);
    if (!p) return lr_fail(err, "out of memory for vocabulary bytes (%zu)", cap);
    v->blob = p;
    v->blob_cap = cap;
    return 0;
}

static int grow_off(lr_vocab *v, size_t need, lr_error *err)
{
    size_t cap = v->cap ? v->cap : 256, bytes;
    size_t *p;
    if (need <= v->cap) return 0;
    while (cap < need) {
        if (cap > ((size_t)-1) / 4) return lr_fail(err, "vocabulary too large");
        cap *= 2;
    }
    if (lr_size_mul(cap + 1, sizeof *p, &bytes))
        return lr_fail(err, "vocabulary too large");
    p = realloc(v->off, bytes);
    if (!p) return lr_fail(err, "out of memory for vocabulary (%zu tokens)", cap);
    if (!v->off) p[0] = 0;
    v->off = p;
    v->cap = cap;
    return 0;
}

static void insert_slot(uint32_t *slots, size_t n_slots, uint32_t h, uint32_t id)
{
    size_t i = h & (n_slots - 1);
    while (slots[i]) i = (i + 1) & (n_slots - 1);
    slots[i] = id + 1;
}

static int rehash(lr_vocab *v, size_t n_slots, lr_error *err)
{
    uint32_t *s = lr_zalloc(n_slots, sizeof *s, "vocabulary hash table", err);
    size_t i;
    if (!s) return -1;
    for (i = 0; i < v->n; i++)
        insert_slot(s, n_slots, hash_bytes(v->blob + v->off[i], v->off[i + 1] - v->off[i]),
                    (uint32_t)i);
    free(v->slots);
    v->slots = s;
    v->n_slots = n_slots;
    return 0;
}

int lr_vocab_reserve(lr_vocab *v, size_t n, size_t blob_bytes, lr_error *err)
{
    size_t want = 16;
    if (grow_off(v, n, err) || grow_blob(v, blob_bytes, err)) return -1;
    while (want < 2 * n) want *= 2;
    if (want > v->n_slots) return rehash(v, want, err);
    return 0;
}

int lr_vocab_add(lr_vocab *v, const void *bytes, size_t len, lr_error *err)
{
    size_t need;
    if (v->n >= 0x7FFFFFFF) return lr_fail(err, "vocabulary too large");
    if (lr_vocab_find(v, bytes, len) >= 0)
        return lr_fail(err, "duplicate token (same bytes as id %ld)",
                       (long)lr_vocab_find(v, bytes, len));
    if (grow_off(v, v->n + 1, err)) return -1;
    if (lr_size_add(v->blob_len, len, &need) || grow_blob(v, need, err))
        return lr_fail(err, "out of memory for vocabulary bytes");
    if (2 * (v->n + 1) > v->n_slots &&
        rehash(v, v->n_slots ? 2 * v->n_slots : 1024, err))
        return -1;
    if (len) memcpy(v->blob + v->blob_len, bytes, len);
    v->blob_len += len;
    v->off[v->n + 1] = v->blob_len;
    insert_slot(v->slots, v->n_slots, hash_bytes(bytes, len), (uint32_t)v->n);
    v->n++;
    if (len > v->max_len) v->max_len = len;
    return 0;
}

int32_t lr_vocab_find(const lr_vocab *v, const void *bytes, size_t len)
{
    const unsigned char *s = bytes;
    size_t i, mask;
    if (!v->n_slots || len > v->max_len) return -1;
    mask = v->n_slots - 1;
    for (i = hash_bytes(s, len) & mask; v->slots[i]; i = (i + 1) & mask) {
        uint32_t id = v->slots[i] - 1;
        size_t o = v->off[id];
        if (v->off[id + 1] - o == len && (len == 0 || !memcmp(v->blob + o, s, len)))
            return (int32_t)id;
    }
    return -1;
}
