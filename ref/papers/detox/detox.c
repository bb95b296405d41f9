/* detox.c - few-shot detoxification prompts and output cleaning; see
 * detox.h.  Depends on: chat_template (the prompt), generate (prompt
 * styles), unicode (output cleaning). */
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/chat_template.h"
#include "llamaref/papers/detox/detox.h"
#include "llamaref/tokenizer/unicode.h"

void lr_detox_shots_free(lr_detox_shots *s)
{
    if (!s) return;
    free((void *)s->toxic);
    free((void *)s->neutral);
    lr_json_free(s->doc);
    memset(s, 0, sizeof *s);
}

static int string_list(const lr_json *v, const char *path, const char *what,
                       const char ***out, size_t *n, lr_error *err)
{
    size_t i;
    if (!v || v->type != LR_JSON_ARRAY)
        return lr_fail(err, "%s: \"%s\" missing or not an array", path, what);
    *out = malloc((v->len ? v->len : 1) * sizeof **out);
    if (!*out) return lr_fail(err, "out of memory");
    for (i = 0; i < v->len; i++) {
        if (v->items[i].type != LR_JSON_STRING)
            return lr_fail(err, "%s:%d: \"%s\"[%lu] is not a string", path,
                           v->items[i].line, what, (unsigned long)i);
        (*out)[i] = v->items[i].str;
    }
    *n = v->len;
    return 0;
}

int lr_detox_shots_load(const char *path, const char *lang,
                        lr_detox_shots *out, lr_error *err)
{
    const lr_json *root, *l;
    size_t nt = 0, nn = 0;
    memset(out, 0, sizeof *out);
    if (lr_json_parse_file(path, &out->doc, err)) return -1;
    root = lr_json_root(out->doc);
    l = lr_json_get(root, lang);
    if (!l || l->type != LR_JSON_OBJECT) {
        lr_fail(err, "%s: no demonstrations for language '%s'", path, lang);
        goto fail;
    }
    if (string_list(lr_json_get(l, "toxic"), path, "toxic", &out->toxic, &nt, err) ||
        string_list(lr_json_get(l, "neutral"), path, "neutral", &out->neutral, &nn, err))
        goto fail;
    if (nt != nn || !nt) {
        lr_fail(err, "%s:%d: language '%s' has %lu toxic and %lu neutral "
                "sentences (need equal, non-zero)", path, l->line, lang,
                (unsigned long)nt, (unsigned long)nn);
        goto fail;
    }
    out->n = nt;
    return 0;
fail:
    lr_detox_shots_free(out);
    return -1;
}

const char *lr_detox_language_name(const char *lang)
{
    static const char *const names[][2] = {
        {"de", "German"}, {"es", "Spanish"}, {"fr", "French"},
        {"ru", "Russian"}, {"en", "English"}, {"uk", "Ukrainian"}
    };
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(lang, names[i][0])) return names[i][1];
    return lang;
}

int lr_detox_render(lr_prompt_style style, const char *lang,
                    const lr_detox_shots *shots, size_t n_shots,
                    const char *input, lr_buf *out, lr_error *err)
{
    lr_buf instr = {0};
    size_t i;
    int rc;
    if (n_shots > shots->n) n_shots = shots->n;
    lr_buf_printf(&instr, "Rewrite the following %s text so that it is polite "
                  "and not toxic, keeping its meaning and its language. Reply "
                  "with the rewritten text only.", lr_detox_language_name(lang));
    if (instr.oom) return lr_fail(err, "out of memory");
    if (style == LR_PROMPT_PLAIN) {
        lr_buf_printf(out, "%s\n\n", instr.data);
        for (i = 0; i < n_shots; i++)
            lr_buf_printf(out, "Toxic: %s\nNeutral: %s\n\n", shots->toxic[i],
                          shots->neutral[i]);
        lr_buf_printf(out, "Toxic: %s\nNeutral:", input);
        rc = out->oom ? lr_fail(err, "out of memory") : 0;
    } else {
        size_t n = 0;
        lr_chat_message *msg = lr_alloc(2 * n_shots + 2, sizeof *msg, "chat", err);
        if (!msg) { lr_buf_free(&instr); return -1; }
        msg[n].role = "system";
        msg[n].content = instr.data;
        msg[n++].content_len = instr.len;
        for (i = 0; i < n_shots; i++) {
            msg[n].role = "user";
            msg[n].content = shots->toxic[i];
            msg[n++].content_len = strlen(shots->toxic[i]);
            msg[n].role = "assistant";
            msg[n].content = shots->neutral[i];
            msg[n++].content_len = strlen(shots->neutral[i]);
        }
        msg[n].role = "user";
        msg[n].content = input;
        msg[n++].content_len = strlen(input);
        rc = style == LR_PROMPT_CHATML
                 ? lr_chat_render_chatml(msg, n, 1, NULL, out, err)
                 : lr_chat_render(LR_CHAT_LLAMA31, msg, n, 1, NULL, out, err);
        free(msg);
    }
    lr_buf_free(&instr);
    return rc;
}

char *lr_detox_clean(const char *s, size_t n, lr_error *err)
{
    lr_buf b = {0};
    size_t i = 0, st, e;
    char *r;
    while (i < n) {
        uint32_t cp;
        int l = lr_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (l <= 0) {
            lr_buf_puts(&b, "\xEF\xBF\xBD");
            i++;
            continue;
        }
        if (cp == '\r' || cp == '\n') lr_buf_puts(&b, " ");
        else lr_buf_append(&b, s + i, (size_t)l);
        i += (size_t)l;
    }
    if (b.oom) { lr_buf_free(&b); lr_fail(err, "out of memory"); return NULL; }
    st = 0;
    e = b.len;
    while (st < e && (b.data[st] == ' ' || b.data[st] == '\t')) st++;
    while (e > st && (b.data[e - 1] == ' ' || b.data[e - 1] == '\t')) e--;
    r = lr_strndup(b.data ? b.data + st : "", e - st, err);
    lr_buf_free(&b);
    return r;
}
