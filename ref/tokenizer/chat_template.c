/* chat_template.c - Llama 3 / 3.1 chat prompts as HF renders them (see
 * chat_template.h for the exact strings). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/chat_template.h"
#include "llamaref/tokenizer/unicode.h"

int lr_chat_is_py_space(uint32_t cp)
{
    /* White_Space plus U+001C..U+001F (bidi class B/S), which is exactly
     * the set of code points whose str.isspace() is True in Python 3. */
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 ||
           cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Jinja's trim: strips leading and trailing Python whitespace. */
static void py_strip(const char *s, size_t n, size_t *start, size_t *end)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, j = n, k;
    uint32_t cp;
    while (i < n) {
        int l = lr_utf8_decode(u + i, n - i, &cp);
        if (l <= 0 || !lr_chat_is_py_space(cp)) break;
        i += (size_t)l;
    }
    /* from the end: find the start of the last character */
    while (j > i) {
        int l;
        k = j - 1;
        while (k > i && (u[k] & 0xC0) == 0x80 && j - k < 4) k--;
        l = lr_utf8_decode(u + k, j - k, &cp);
        if (l <= 0 || (size_t)l != j - k || !lr_chat_is_py_space(cp)) break;
        j = k;
    }
    *start = i;
    *end = j;
}

/* Python json.dumps(s, ensure_ascii=False) of a string. */
static int py_json_string(lr_buf *b, const char *s, size_t n)
{
    size_t i;
    if (lr_buf_append(b, "\"", 1)) return -1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        switch (c) {
        case '"': rc = lr_buf_puts(b, "\\\""); break;
        case '\\': rc = lr_buf_puts(b, "\\\\"); break;
        case '\n': rc = lr_buf_puts(b, "\\n"); break;
        case '\r': rc = lr_buf_puts(b, "\\r"); break;
        case '\t': rc = lr_buf_puts(b, "\\t"); break;
        case '\b': rc = lr_buf_puts(b, "\\b"); break;
        case '\f': rc = lr_buf_puts(b, "\\f"); break;
        default:
            if (c < 0x20) rc = lr_buf_printf(b, "\\u%04x", c);
            else rc = lr_buf_append(b, &s[i], 1);
        }
        if (rc) return -1;
    }
    return lr_buf_append(b, "\"", 1);
}

static int put_block(lr_buf *out, const char *role, const char *content, size_t len,
                     int trim)
{
    size_t a = 0, e = len;
    if (trim) py_strip(content, len, &a, &e);
    if (lr_buf_puts(out, "<|start_header_id|>") || lr_buf_puts(out, role) ||
        lr_buf_puts(out, "<|end_header_id|>\n\n"))
        return -1;
    if (trim ? lr_buf_append(out, content + a, e - a) : py_json_string(out, content, len))
        return -1;
    return lr_buf_puts(out, "<|eot_id|>");
}

int lr_chat_render(lr_chat_template tmpl, const lr_chat_message *msgs, size_t n,
                   int add_generation_prompt, const char *date, lr_buf *out,
                   lr_error *err)
{
    size_t i = 0;
    int rc = 0;
    if (!date) date = LR_CHAT_DEFAULT_DATE;
    for (i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return lr_fail(err, "message %zu has no role or content", i);
    i = 0;
    if (tmpl == LR_CHAT_LLAMA31) {
        size_t a = 0, e = 0;
        const char *sys = "";
        if (n > 0 && !strcmp(msgs[0].role, "system")) {
            sys = msgs[0].content;
            py_strip(sys, msgs[0].content_len, &a, &e);
            i = 1;
        }
        rc |= lr_buf_puts(out, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                               "Cutting Knowledge Date: December 2023\nToday Date: ");
        rc |= lr_buf_puts(out, date);
        rc |= lr_buf_puts(out, "\n\n");
        rc |= lr_buf_append(out, sys + a, e - a);
        rc |= lr_buf_puts(out, "<|eot_id|>");
        for (; i < n && !rc; i++) {
            int tool = !strcmp(msgs[i].role, "tool") || !strcmp(msgs[i].role, "ipython");
            rc |= put_block(out, tool ? "ipython" : msgs[i].role, msgs[i].content,
                            msgs[i].content_len, !tool);
        }
    } else if (tmpl == LR_CHAT_LLAMA30) {
        for (; i < n && !rc; i++) {
            if (i == 0) rc |= lr_buf_puts(out, "<|begin_of_text|>");
            rc |= put_block(out, msgs[i].role, msgs[i].content, msgs[i].content_len, 1);
        }
    } else {
        return lr_fail(err, "unknown chat template %d", (int)tmpl);
    }
    if (add_generation_prompt)
        rc |= lr_buf_puts(out, "<|start_header_id|>assistant<|end_header_id|>\n\n");
    if (rc) return lr_fail(err, "out of memory rendering the chat prompt");
    return 0;
}

int lr_chat_messages_from_json(const lr_json *v, const char *source,
                               lr_chat_message **msgs, size_t *n, lr_error *err)
{
    size_t i;
    lr_chat_message *m;
    *msgs = NULL;
    *n = 0;
    if (v && v->type == LR_JSON_OBJECT) v = lr_json_get(v, "messages");
    if (!v || v->type != LR_JSON_ARRAY)
        return lr_fail(err, "%s: expected a JSON array of messages (or {\"messages\": [...]})", source);
    m = lr_zalloc(v->len ? v->len : 1, sizeof *m, "messages", err);
    if (!m) return -1;
    for (i = 0; i < v->len; i++) {
        const lr_json *o = &v->items[i], *c;
        if (o->type != LR_JSON_OBJECT) {
            free(m);
            return lr_fail(err, "%s:%d:%d: message %zu is not an object", source, o->line, o->col, i);
        }
        if (lr_json_get(o, "tool_calls")) {
            free(m);
            return lr_fail(err, "%s:%d:%d: message %zu: tool_calls are not supported", source,
                           o->line, o->col, i);
        }
        if (lr_json_get_string(o, "role", source, &m[i].role, err)) {
            free(m);
            return lr_fail_prefix(err, "message %zu", i);
        }
        c = lr_json_get(o, "content");
        if (!c || c->type != LR_JSON_STRING) {
            free(m);
            return lr_fail(err, "%s:%d:%d: message %zu: \"content\" must be a string", source,
                           o->line, o->col, i);
        }
        m[i].content = c->str;
        m[i].content_len = c->len;
    }
    *msgs = m;
    *n = v->len;
    return 0;
}

int lr_chat_render_chatml(const lr_chat_message *msgs, size_t n, int add_generation_prompt,
                          const char *default_system, lr_buf *out, lr_error *err)
{
    size_t i;
    int rc = 0;
    for (i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return lr_fail(err, "message %lu has no role or content", (unsigned long)i);
    if (default_system && n > 0 && strcmp(msgs[0].role, "system")) {
        rc |= lr_buf_puts(out, "<|im_start|>system\n");
        rc |= lr_buf_puts(out, default_system);
        rc |= lr_buf_puts(out, "<|im_end|>\n");
    }
    for (i = 0; i < n && !rc; i++) {
        rc |= lr_buf_puts(out, "<|im_start|>");
        rc |= lr_buf_puts(out, msgs[i].role);
        rc |= lr_buf_puts(out, "\n");
        rc |= lr_buf_append(out, msgs[i].content, msgs[i].content_len);
        rc |= lr_buf_puts(out, "<|im_end|>\n");
    }
    if (add_generation_prompt) rc |= lr_buf_puts(out, "<|im_start|>assistant\n");
    if (rc) return lr_fail(err, "out of memory rendering the chat prompt");
    return 0;
}

int lr_chat_template_detect(const char *jinja, lr_chat_template *tmpl, char **default_system,
                            lr_error *err)
{
    static const char sys_open[] = "'<|im_start|>system\n";
    const char *a, *e;
    *default_system = NULL;
    if (!jinja) return lr_fail(err, "no chat template");
    if (strstr(jinja, "'<|im_start|>' + message['role']")) {
        *tmpl = LR_CHAT_CHATML;
        a = strstr(jinja, sys_open);
        if (a) {
            a += sizeof sys_open - 1;
            e = strstr(a, "<|im_end|>");
            if (e) {
                *default_system = lr_strndup(a, (size_t)(e - a), err);
                if (!*default_system) return -1;
            }
        }
        return 0;
    }
    if (strstr(jinja, "<|start_header_id|>")) {
        *tmpl = strstr(jinja, "Cutting Knowledge Date") ? LR_CHAT_LLAMA31 : LR_CHAT_LLAMA30;
        return 0;
    }
    return lr_fail(err, "unrecognised chat template (llamaref renders ChatML and Llama 3 / 3.1)");
}

int lr_chat_template_from_name(const char *name, lr_chat_template *out)
{
    if (!strcmp(name, "llama3.1")) *out = LR_CHAT_LLAMA31;
    else if (!strcmp(name, "llama3")) *out = LR_CHAT_LLAMA30;
    else return -1;
    return 0;
}

int lr_chat_render_file(lr_chat_template tmpl, const char *path,
                        int add_generation_prompt, const char *date, lr_buf *out,
                        lr_error *err)
{
    lr_json_doc *doc = NULL;
    lr_chat_message *msgs = NULL;
    size_t n = 0;
    int rc = lr_json_parse_file(path, &doc, err) ||
             lr_chat_messages_from_json(lr_json_root(doc), path, &msgs, &n, err) ||
             lr_chat_render(tmpl, msgs, n, add_generation_prompt, date, out, err)
                 ? -1 : 0;
    free(msgs);
    lr_json_free(doc);
    return rc;
}
