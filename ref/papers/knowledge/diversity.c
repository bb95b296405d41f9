/* diversity.c - answer keys and the diversity statistics over them (see
 * diversity.h).  Uses textnorm.c for normalisation and refusal.c to leave
 * refusals out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/papers/knowledge/diversity.h"
#include "llamaref/core/json.h"
#include "llamaref/papers/knowledge/refusal.h"
#include "llamaref/tokenizer/textnorm.h"

/* First occurrence of "answer:" in s, ASCII case-insensitive, or NULL. */
static const char *find_answer_prefix(const char *s)
{
    static const char pat[] = "answer:";
    size_t i, j;
    for (i = 0; s[i]; i++) {
        for (j = 0; pat[j]; j++) {
            char c = s[i + j];
            if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
            if (c != pat[j]) break;
        }
        if (!pat[j]) return s + i + j;
    }
    return NULL;
}

char *lr_answer_key(const char *generated, lr_error *err)
{
    const char *s = find_answer_prefix(generated), *e;
    char *key;
    size_t len;
    if (!s) s = generated;
    e = strchr(s, '\n');
    len = e ? (size_t)(e - s) : strlen(s);
    key = lr_text_normalize(s, len, &len, err);
    if (!key) return NULL;
    while (len > 0 && key[len - 1] == '.') len--;
    /* trailing white space before the removed dots */
    while (len > 0 && key[len - 1] == ' ') len--;
    key[len] = 0;
    return key;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_count(const void *pa, const void *pb)
{
    const lr_answer_count *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    return strcmp(a->key, b->key);
}

void lr_diversity_free(lr_diversity *d)
{
    size_t i;
    if (d->counts)
        for (i = 0; i < d->n_unique; i++) free(d->counts[i].key);
    free(d->counts);
    memset(d, 0, sizeof *d);
}

int lr_diversity_compute(const char *const *answers, size_t n,
                         lr_diversity *out, lr_error *err)
{
    char **keys;
    size_t i, k = 0, u = 0;
    double sq = 0;
    memset(out, 0, sizeof *out);
    out->n_total = n;
    keys = lr_zalloc(n + 1, sizeof *keys, "answer keys", err);
    if (!keys) return -1;
    for (i = 0; i < n; i++) {
        int r = lr_is_refusal(answers[i], err);
        char *key;
        if (r < 0) goto fail;
        if (r) {
            out->n_refusals++;
            continue;
        }
        key = lr_answer_key(answers[i], err);
        if (!key) goto fail;
        if (!key[0]) {
            out->n_empty++;
            free(key);
            continue;
        }
        keys[k++] = key;
    }
    out->n_answers = k;
    qsort(keys, k, sizeof *keys, cmp_str);
    out->counts = lr_zalloc(k + 1, sizeof *out->counts, "answer counts", err);
    if (!out->counts) goto fail;
    for (i = 0; i < k; i++) {
        if (u > 0 && !strcmp(out->counts[u - 1].key, keys[i])) {
            out->counts[u - 1].count++;
            free(keys[i]);
        } else {
            out->counts[u].key = keys[i];
            out->counts[u].count = 1;
            u++;
        }
        keys[i] = NULL;
    }
    out->n_unique = u;
    free(keys);
    if (u == 0) return 0;
    qsort(out->counts, u, sizeof *out->counts, cmp_count);
    out->mean_freq = (double)k / (double)u;
    for (i = 0; i < u; i++) {
        double d = (double)out->counts[i].count - out->mean_freq;
        sq += d * d;
    }
    out->std_freq = sqrt(sq / (double)u);
    while (out->n_over < u &&
           (double)out->counts[out->n_over].count >
               out->mean_freq + 3 * out->std_freq)
        out->n_over++;
    return 0;
fail:
    for (i = 0; i < n; i++) free(keys[i]);
    free(keys);
    lr_diversity_free(out);
    return -1;
}

int lr_diversity_write_json(lr_buf *b, const lr_diversity *d, size_t top)
{
    size_t i;
    lr_buf_printf(b, "{\"counted\": %lu, \"empty\": %lu, \"unique\": %lu, \"mean_freq\": ",
                  (unsigned long)d->n_answers, (unsigned long)d->n_empty,
                  (unsigned long)d->n_unique);
    lr_json_write_number(b, d->mean_freq);
    lr_buf_puts(b, ", \"std_freq\": ");
    lr_json_write_number(b, d->std_freq);
    lr_buf_printf(b, ", \"over_represented\": %lu, \"top\": [", (unsigned long)d->n_over);
    for (i = 0; i < d->n_unique && i < top; i++) {
        lr_buf_puts(b, i ? ", [" : "[");
        lr_json_write_string(b, d->counts[i].key, strlen(d->counts[i].key));
        lr_buf_printf(b, ", %lu]", (unsigned long)d->counts[i].count);
    }
    return lr_buf_puts(b, "]}");
}
