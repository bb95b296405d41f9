/* facts.c - loading fact files (JSON array or JSONL); see facts.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/papers/knowledge/facts.h"
#include "llamaref/papers/knowledge/knowledge.h"

void lr_facts_free(lr_facts *f)
{
    size_t i;
    if (!f) return;
    for (i = 0; i < f->n_docs; i++) lr_json_free(f->docs[i]);
    free(f->docs);
    for (i = 0; i < f->n; i++) {
        free((void *)f->items[i].answers);
        free((void *)f->items[i].paraphrases);
    }
    free(f->items);
    free(f->path);
    memset(f, 0, sizeof *f);
}

int lr_facts_load_all(const char *const *paths, size_t n, long limit,
                      lr_facts *f, lr_error *err)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (lr_facts_load(paths[i], f, err)) return -1;
    if (limit >= 0) lr_facts_truncate(f, (size_t)limit);
    return 0;
}

void lr_facts_truncate(lr_facts *f, size_t n)
{
    size_t i;
    for (i = n; i < f->n; i++) {
        free((void *)f->items[i].answers);
        free((void *)f->items[i].paraphrases);
    }
    if (n < f->n) f->n = n;
}

int lr_record_strings(const lr_json *record, const char *key,
                      const char *source, const char ***out, size_t *n,
                      lr_error *err)
{
    const lr_json *v = lr_json_get(record, key);
    size_t i;
    *out = NULL;
    *n = 0;
    if (!v) return 0;
    if (v->type == LR_JSON_STRING) {
        *out = malloc(sizeof **out);
        if (!*out) return lr_fail(err, "out of memory");
        (*out)[0] = v->str;
        *n = 1;
        return 0;
    }
    if (v->type != LR_JSON_ARRAY)
        return lr_fail(err, "%s:%d: \"%s\" is not an array of strings",
                       source, record->line, key);
    if (!v->len) return 0;
    *out = malloc(v->len * sizeof **out);
    if (!*out) return lr_fail(err, "out of memory");
    for (i = 0; i < v->len; i++) {
        if (v->items[i].type != LR_JSON_STRING) {
            free((void *)*out);
            *out = NULL;
            return lr_fail(err, "%s:%d: \"%s\"[%lu] is not a string",
                           source, v->items[i].line, key, (unsigned long)i);
        }
        (*out)[i] = v->items[i].str;
    }
    *n = v->len;
    return 0;
}

/* Fills one fact from a JSON object; line = its line in the file. */
static int fact_from_json(const lr_json *o, const char *path,
                          unsigned long line, lr_fact *fact, lr_error *err)
{
    const lr_json *q, *c;
    memset(fact, 0, sizeof *fact);
    fact->line = line;
    fact->record = o;
    fact->category = -1;
    if (o->type != LR_JSON_OBJECT)
        return lr_fail(err, "%s:%lu: a fact must be a JSON object, not %s",
                       path, line, lr_json_type_name(o->type));
    q = lr_json_get(o, "question");
    if (!q || q->type != LR_JSON_STRING || !q->len)
        return lr_fail(err, "%s:%lu: \"question\" missing, empty or not a "
                       "string", path, line);
    fact->question = q->str;
    if (!lr_json_get(o, "answers"))
        return lr_fail(err, "%s:%lu: \"answers\" missing", path, line);
    if (lr_record_strings(o, "answers", path, &fact->answers,
                          &fact->n_answers, err))
        return -1;
    if (!fact->n_answers)
        return lr_fail(err, "%s:%lu: \"answers\" is empty", path, line);
    if (lr_record_strings(o, "paraphrases", path, &fact->paraphrases,
                          &fact->n_paraphrases, err))
        return -1;
    c = lr_json_get(o, "category");
    if (c && c->type != LR_JSON_NULL) {
        lr_slick s;
        if (c->type != LR_JSON_STRING || lr_slick_parse(c->str, &s))
            return lr_fail(err, "%s:%lu: \"category\" is not one of "
                           "HighlyKnown, MaybeKnown, WeaklyKnown, Unknown",
                           path, line);
        fact->category = (int)s;
    }
    return 0;
}

static int add_doc(lr_facts *f, lr_json_doc *doc, lr_error *err)
{
    lr_json_doc **p = realloc(f->docs, (f->n_docs + 1) * sizeof *p);
    if (!p) {
        lr_json_free(doc);
        return lr_fail(err, "out of memory");
    }
    f->docs = p;
    f->docs[f->n_docs++] = doc;
    return 0;
}

static lr_fact *add_fact(lr_facts *f, size_t *cap, lr_error *err)
{
    if (f->n == *cap) {
        size_t c = *cap ? 2 * *cap : 256;
        lr_fact *p = realloc(f->items, c * sizeof *p);
        if (!p) { lr_fail(err, "out of memory"); return NULL; }
        f->items = p;
        *cap = c;
    }
    memset(&f->items[f->n], 0, sizeof f->items[f->n]);
    return &f->items[f->n];
}

int lr_facts_load(const char *path, lr_facts *f, lr_error *err)
{
    char *data = NULL;
    size_t len, i, cap = f->n;
    int rc = -1;
    lr_fact *pending = NULL; /* the fact being filled, if any */

    if (lr_read_file(path, &data, &len, err)) return -1;
    if (!f->path && !(f->path = lr_strdup(path, err))) goto done;
    for (i = 0; i < len && (data[i] == ' ' || data[i] == '\t' ||
                            data[i] == '\r' || data[i] == '\n'); i++) {}
    if (i < len && data[i] == '[') {
        lr_json_doc *doc;
        const lr_json *root;
        size_t k;
        if (lr_json_parse(data, len, path, &doc, err)) goto done;
        if (add_doc(f, doc, err)) goto done;
        root = lr_json_root(doc);
        for (k = 0; k < root->len; k++) {
            lr_fact *fact = pending = add_fact(f, &cap, err);
            if (!fact) goto done;
            if (fact_from_json(&root->items[k], path,
                               (unsigned long)root->items[k].line, fact, err))
                goto done;
            f->n++;
            pending = NULL;
        }
    } else if (i < len && data[i] == '{') {
        size_t start = 0;
        unsigned long line = 0;
        while (start < len) {
            size_t end = start, b;
            char where[4200];
            lr_json_doc *doc;
            lr_fact *fact;
            while (end < len && data[end] != '\n') end++;
            line++;
            for (b = start; b < end && (data[b] == ' ' || data[b] == '\t' ||
                                        data[b] == '\r'); b++) {}
            if (b == end) { start = end + 1; continue; }
            snprintf(where, sizeof where, "%s:%lu", path, line);
            if (lr_json_parse(data + start, end - start, where, &doc, err))
                goto done;
            if (add_doc(f, doc, err)) goto done;
            fact = pending = add_fact(f, &cap, err);
            if (!fact) goto done;
            if (fact_from_json(lr_json_root(doc), path, line, fact, err))
                goto done;
            f->n++;
            pending = NULL;
            start = end + 1;
        }
    } else {
        lr_fail(err, "%s:1: not a fact file (expected a JSON array of facts "
                "or JSONL objects)", path);
        goto done;
    }
    rc = 0;
done:
    if (rc && pending) {
        /* the fact being filled may hold allocations; a slot that realloc
         * returned and add_fact never reached is left alone */
        free((void *)pending->answers);
        free((void *)pending->paraphrases);
        memset(pending, 0, sizeof *pending);
    }
    free(data);
    return rc;
}
