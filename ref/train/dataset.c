/* dataset.c - JSONL training data: formats, chat rendering, loss masks,
 * padding and shuffling (see dataset.h).
 * Depends on: json, tokenizer, chat_template, rng, lora (stream seeds). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/chat_template.h"
#include "llamaref/train/dataset.h"
#include "llamaref/core/json.h"
#include "llamaref/train/lora.h"
#include "llamaref/core/rng.h"

#define IGN (-100)

typedef struct seq {
    lr_tokens ids;
    int *labels;
    size_t cap;
} seq;

static int seq_push(seq *s, int32_t id, int label, lr_error *err)
{
    if (lr_tokens_push(&s->ids, id, err)) return -1;
    if (s->ids.n > s->cap) {
        size_t c = s->cap ? s->cap * 2 : 64;
        int *p;
        while (c < s->ids.n) c *= 2;
        p = realloc(s->labels, c * sizeof *p);
        if (!p) return lr_fail(err, "out of memory (labels)");
        s->labels = p;
        s->cap = c;
    }
    s->labels[s->ids.n - 1] = label;
    return 0;
}

static int need_tok(const lr_tokenizer *tok, const char *src, lr_error *err)
{
    if (!tok) return lr_fail(err, "%s: text needs a tokenizer (none found "
                             "next to the model; pass --tokenizer)", src);
    return 0;
}

/* The conversation in the tokenizer's own template when llamaref knows it
 * (a GGUF's ChatML tokenizer.chat_template, with its default system
 * message), else Llama 3.1. */
static int render(const lr_tokenizer *tok, const lr_chat_message *msgs, size_t n,
                  int gen, lr_buf *out, lr_error *err)
{
    lr_chat_template kind = LR_CHAT_LLAMA31;
    char *dsys = NULL;
    lr_error e2;
    int rc;
    if (tok->chat_template &&
        lr_chat_template_detect(tok->chat_template, &kind, &dsys, &e2))
        kind = LR_CHAT_LLAMA31;
    rc = kind == LR_CHAT_CHATML
             ? lr_chat_render_chatml(msgs, n, gen, dsys, out, err)
             : lr_chat_render(kind, msgs, n, gen, NULL, out, err);
    free(dsys);
    return rc;
}

/* chat: tokens of the whole conversation; with completion-only labels the
 * assistant spans are located by tokenizing the rendered prefixes. */
static int chat_example(const lr_tokenizer *tok, const lr_chat_message *msgs,
                        size_t n, lr_loss_on loss_on, const char *src, seq *s,
                        lr_error *err)
{
    lr_buf b = {0};
    lr_tokens full = {0}, pre = {0};
    size_t i, k, start;
    int rc = -1;
    unsigned char *train = NULL;
    if (need_tok(tok, src, err)) return -1;
    if (render(tok, msgs, n, 0, &b, err) ||
        lr_tokenizer_encode(tok, b.data ? b.data : "", b.len, LR_ENCODE_SPECIAL,
                            &full, err))
        goto done;
    train = calloc(full.n + 1, 1);
    if (!train) { lr_fail(err, "out of memory"); goto done; }
    if (loss_on == LR_LOSS_ALL) memset(train, 1, full.n);
    else
        for (i = 0; i < n; i++) {
            if (strcmp(msgs[i].role, "assistant")) continue;
            /* start: after the prompt up to this message's header */
            b.len = 0; pre.n = 0;
            if (render(tok, msgs, i, 1, &b, err) ||
                lr_tokenizer_encode(tok, b.data, b.len, LR_ENCODE_SPECIAL,
                                    &pre, err))
                goto done;
            start = pre.n;
            b.len = 0; pre.n = 0;
            if (render(tok, msgs, i + 1, 0, &b, err) ||
                lr_tokenizer_encode(tok, b.data, b.len, LR_ENCODE_SPECIAL,
                                    &pre, err))
                goto done;
            if (pre.n > full.n || start > pre.n ||
                memcmp(pre.ids, full.ids, pre.n * sizeof *pre.ids)) {
                lr_fail(err, "%s: message %lu does not tokenize as a prefix "
                        "of the conversation", src, (unsigned long)i);
                goto done;
            }
            for (k = start; k < pre.n; k++) train[k] = 1;
        }
    for (k = 0; k < full.n; k++)
        if (seq_push(s, full.ids[k], train[k] ? full.ids[k] : IGN, err))
            goto done;
    rc = 0;
done:
    free(train);
    free(full.ids);
    free(pre.ids);
    lr_buf_free(&b);
    return rc;
}

static int text_part(const lr_tokenizer *tok, const lr_json *v, int train,
                     seq *s, lr_error *err)
{
    lr_tokens t = {0};
    size_t k;
    int rc = 0;
    if (lr_tokenizer_encode(tok, v->str, v->len, 0, &t, err)) return -1;
    for (k = 0; k < t.n && !rc; k++)
        rc = seq_push(s, t.ids[k], train ? t.ids[k] : IGN, err);
    free(t.ids);
    return rc;
}

static const lr_json *str_field(const lr_json *o, const char *k)
{
    const lr_json *v = lr_json_get(o, k);
    return v && v->type == LR_JSON_STRING ? v : NULL;
}

static int parse_line(const lr_json *o, const lr_tokenizer *tok,
                      const lr_dataset_opts *opt, const char *src, seq *s,
                      lr_error *err)
{
    const lr_json *a, *b;
    const int all = opt->loss_on == LR_LOSS_ALL;
    if (o->type != LR_JSON_OBJECT)
        return lr_fail(err, "%s: expected a JSON object", src);
    if ((a = lr_json_get(o, "input_ids")) != NULL) {
        size_t i;
        b = lr_json_get(o, "labels");
        if (a->type != LR_JSON_ARRAY ||
            (b && (b->type != LR_JSON_ARRAY || b->len != a->len)))
            return lr_fail(err, "%s: input_ids must be an array (and labels "
                           "an array of the same length)", src);
        for (i = 0; i < a->len; i++) {
            const lr_json *x = &a->items[i], *y = b ? &b->items[i] : x;
            /* without a vocabulary an id still has to fit the int32 it
             * is stored in */
            if (x->type != LR_JSON_NUMBER || !x->is_integer || x->integer < 0 ||
                x->integer > INT32_MAX ||
                (opt->vocab_size && x->integer >= opt->vocab_size) ||
                y->type != LR_JSON_NUMBER || !y->is_integer ||
                (y->integer != IGN && (y->integer < 0 || y->integer > INT32_MAX ||
                 (opt->vocab_size && y->integer >= opt->vocab_size))))
                return lr_fail(err, "%s: input_ids/labels entry %lu is not a "
                               "token id (or -100)", src, (unsigned long)i);
            if (seq_push(s, (int32_t)x->integer, (int)y->integer, err))
                return -1;
        }
        return 0;
    }
    if (lr_json_get(o, "messages")) {
        lr_chat_message *msgs = NULL;
        size_t n = 0;
        int rc;
        if (lr_chat_messages_from_json(o, src, &msgs, &n, err)) return -1;
        rc = chat_example(tok, msgs, n, opt->loss_on, src, s, err);
        free(msgs);
        return rc;
    }
    b = NULL;
    if ((a = str_field(o, "question")) && !(b = str_field(o, "answer")) &&
        !str_field(o, "prompt") && !str_field(o, "text")) {
        /* the world's QA format (and EntityQuestions'): "answers", a list
         * of aliases; the first one is the answer, as in the probe's
         * few-shot examples (a line that also has "prompt" or "text", as
         * llamaref mixture writes, is trained as those) */
        const lr_json *al = lr_json_get(o, "answers");
        if (al && al->type == LR_JSON_ARRAY && al->len > 0 &&
            al->items[0].type == LR_JSON_STRING)
            b = &al->items[0];
    }
    if (a && b) {
        lr_chat_message m[3];
        lr_buf q = {0}, an = {0};
        int rc;
        lr_buf_puts(&q, "Question: ");
        lr_buf_append(&q, a->str, a->len);
        lr_buf_puts(&an, "Answer: ");
        lr_buf_append(&an, b->str, b->len);
        if (q.oom || an.oom) return lr_fail(err, "out of memory");
        m[0].role = "system"; m[0].content = "Answer the following question.";
        m[0].content_len = strlen(m[0].content);
        m[1].role = "user"; m[1].content = q.data; m[1].content_len = q.len;
        m[2].role = "assistant"; m[2].content = an.data; m[2].content_len = an.len;
        rc = chat_example(tok, m, 3, opt->loss_on, src, s, err);
        lr_buf_free(&q);
        lr_buf_free(&an);
        return rc;
    }
    if ((a = str_field(o, "prompt")) && (b = str_field(o, "completion"))) {
        if (need_tok(tok, src, err)) return -1;
        if (tok->bos_id >= 0 && seq_push(s, tok->bos_id, all ? tok->bos_id : IGN, err))
            return -1;
        if (text_part(tok, a, all, s, err) || text_part(tok, b, 1, s, err))
            return -1;
        if (tok->eos_id >= 0 && seq_push(s, tok->eos_id, tok->eos_id, err))
            return -1;
        return 0;
    }
    if ((a = str_field(o, "text")) != NULL) { /* pretraining document */
        if (need_tok(tok, src, err)) return -1;
        if (tok->bos_id >= 0 && seq_push(s, tok->bos_id, tok->bos_id, err))
            return -1;
        if (text_part(tok, a, 1, s, err)) return -1;
        if (tok->eos_id >= 0 && seq_push(s, tok->eos_id, tok->eos_id, err))
            return -1;
        return 0;
    }
    return lr_fail(err, "%s: expected \"messages\", \"question\"+\"answer\" (or "
                   "\"answers\", a list of aliases), "
                   "\"prompt\"+\"completion\", \"text\" or \"input_ids\" "
                   "(strings)", src);
}

int lr_dataset_load(const char *path, const lr_tokenizer *tok,
                    const lr_dataset_opts *o, lr_dataset *ds, lr_error *err)
{
    char *data = NULL, src[512];
    size_t len, pos = 0, cap = 0;
    int line = 0, rc = -1;
    memset(ds, 0, sizeof *ds);
    if (lr_read_file(path, &data, &len, err)) return -1;
    while (pos < len) {
        size_t end = pos, k;
        lr_json_doc *doc = NULL;
        seq s;
        int blank = 1, cnt = 0;
        lr_example *e;
        while (end < len && data[end] != '\n') end++;
        if (line == INT_MAX) {
            lr_fail(err, "%s: more than %d lines", path, INT_MAX);
            goto done;
        }
        line++;
        for (k = pos; k < end; k++)
            if (data[k] != ' ' && data[k] != '\t' && data[k] != '\r') blank = 0;
        if (blank) { pos = end + 1; continue; }
        snprintf(src, sizeof src, "%s:%d", path, line);
        memset(&s, 0, sizeof s);
        if (lr_json_parse(data + pos, end - pos, src, &doc, err) ||
            parse_line(lr_json_root(doc), tok, o, src, &s, err)) {
            lr_json_free(doc);
            free(s.ids.ids); free(s.labels);
            goto done;
        }
        lr_json_free(doc);
        pos = end + 1;
        if (o->max_len > 0 && s.ids.n > (size_t)o->max_len) {
            if (!o->truncate) {
                lr_fail(err, "%s: %lu tokens exceed the limit of %d (raise "
                        "--max-len or pass --truncate)", src,
                        (unsigned long)s.ids.n, o->max_len);
                free(s.ids.ids); free(s.labels);
                goto done;
            }
            s.ids.n = (size_t)o->max_len;
        }
        for (k = 1; k < s.ids.n; k++) cnt += s.labels[k] != IGN;
        if (!cnt) {
            lr_fail(err, "%s: no token is trained on (every label after the "
                    "first is -100)", src);
            free(s.ids.ids); free(s.labels);
            goto done;
        }
        if (ds->n == cap) {
            size_t c = cap ? cap * 2 : 64;
            lr_example *p = realloc(ds->ex, c * sizeof *p);
            if (!p) { lr_fail(err, "out of memory (dataset)"); free(s.ids.ids); free(s.labels); goto done; }
            ds->ex = p; cap = c;
        }
        if (s.ids.n > (size_t)INT_MAX) {
            lr_fail(err, "%s: %lu tokens, more than a row can hold", src,
                    (unsigned long)s.ids.n);
            free(s.ids.ids); free(s.labels);
            goto done;
        }
        e = &ds->ex[ds->n++];
        e->ids = (int *)malloc(sizeof(int) * s.ids.n);
        if (!e->ids) { ds->n--; lr_fail(err, "out of memory"); free(s.ids.ids); free(s.labels); goto done; }
        for (k = 0; k < s.ids.n; k++) e->ids[k] = s.ids.ids[k];
        free(s.ids.ids);
        e->labels = s.labels;
        e->len = (int)s.ids.n;
        e->line = line;
        if (e->len > ds->max_len) ds->max_len = e->len;
    }
    if (ds->n == 0) {
        lr_fail(err, "%s: the dataset is empty", path);
        goto done;
    }
    rc = 0;
done:
    free(data);
    if (rc) lr_dataset_free(ds);
    return rc;
}

void lr_dataset_free(lr_dataset *ds)
{
    size_t i;
    for (i = 0; i < ds->n; i++) {
        free(ds->ex[i].ids);
        free(ds->ex[i].labels);
    }
    free(ds->ex);
    memset(ds, 0, sizeof *ds);
}

void lr_dataset_shuffle(size_t *perm, size_t n, uint64_t seed, long epoch)
{
    lr_rng r;
    size_t i;
    for (i = 0; i < n; i++) perm[i] = i;
    lr_rng_seed(&r, lr_stream_seed(seed, LR_STREAM_SHUFFLE, (uint64_t)epoch, 0));
    for (i = n; i > 1; i--) {
        size_t j = (size_t)lr_rng_below(&r, (uint64_t)i), t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

int lr_dataset_collate(const lr_dataset *ds, const size_t *idx, int B,
                       int pad_id, int *tokens, int *labels,
                       unsigned char *mask)
{
    int b, t, T = 1;
    for (b = 0; b < B; b++)
        if (ds->ex[idx[b]].len > T) T = ds->ex[idx[b]].len;
    for (b = 0; b < B; b++) {
        const lr_example *e = &ds->ex[idx[b]];
        for (t = 0; t < T; t++) {
            const size_t r = (size_t)b * T + t;
            tokens[r] = t < e->len ? e->ids[t] : pad_id;
            labels[r] = t < e->len ? e->labels[t] : IGN;
            mask[r] = t < e->len;
        }
    }
    return T;
}
