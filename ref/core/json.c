/* json.c - strict recursive-descent JSON reader with an arena, plus writing
 * helpers.  Containers are parsed by pushing children on a shared scratch
 * stack and copying them into the arena when the container closes, so a
 * document costs one arena and no per-value malloc. */
#include "llamaref/core/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---- */

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    /* data follows, aligned for doubles and pointers */
} arena_block;

#define ARENA_ALIGN 16
#define BLOCK_HDR ((sizeof(arena_block) + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN)

struct lr_json_doc {
    arena_block *blocks;
    lr_json root;
};

static void *arena_get(lr_json_doc *doc, size_t n)
{
    arena_block *b = doc->blocks;
    n = (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        arena_block *nb;
        if (cap > (size_t)-1 - BLOCK_HDR) return NULL;
        nb = malloc(BLOCK_HDR + cap);
        if (!nb) return NULL;
        nb->next = doc->blocks;
        nb->used = 0;
        nb->cap = cap;
        doc->blocks = nb;
        b = nb;
    }
    b->used += n;
    return (char *)b + BLOCK_HDR + b->used - n;
}

void lr_json_free(lr_json_doc *doc)
{
    arena_block *b;
    if (!doc) return;
    b = doc->blocks;
    while (b) {
        arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(doc);
}

const lr_json *lr_json_root(const lr_json_doc *doc)
{
    return &doc->root;
}

/* ---- parser ---- */

typedef struct parser {
    const char *s;
    size_t len, pos;
    int line;
    size_t line_start;
    const char *source;
    lr_json_doc *doc;
    lr_error *err;
    /* scratch stack of values and keys of containers being parsed */
    lr_json *stack;
    const char **kstack;
    size_t *klen_stack;
    size_t sp, scap;
    lr_buf str; /* scratch for decoding strings */
} parser;

static int perr(parser *p, const char *what)
{
    return lr_fail(p->err, "%s:%d:%d: %s", p->source, p->line,
                   (int)(p->pos - p->line_start) + 1, what);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == '\n') {
            p->pos++;
            p->line++;
            p->line_start = p->pos;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            p->pos++;
        } else {
            break;
        }
    }
}

static int push(parser *p, const lr_json *v, const char *key, size_t klen)
{
    if (p->sp == p->scap) {
        size_t cap = p->scap ? p->scap * 2 : 256;
        lr_json *ns;
        const char **nk;
        size_t *nl;
        ns = realloc(p->stack, cap * sizeof *ns);
        if (!ns) return perr(p, "out of memory");
        p->stack = ns;
        nk = realloc(p->kstack, cap * sizeof *nk);
        if (!nk) return perr(p, "out of memory");
        p->kstack = nk;
        nl = realloc(p->klen_stack, cap * sizeof *nl);
        if (!nl) return perr(p, "out of memory");
        p->klen_stack = nl;
        p->scap = cap;
    }
    p->stack[p->sp] = *v;
    p->kstack[p->sp] = key;
    p->klen_stack[p->sp] = klen;
    p->sp++;
    return 0;
}

static int hex4(parser *p, unsigned *out)
{
    unsigned v = 0;
    int i;
    if (p->len - p->pos < 4) return perr(p, "truncated \\u escape");
    for (i = 0; i < 4; i++) {
        char c = p->s[p->pos + i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return perr(p, "invalid hex digit in \\u escape");
    }
    p->pos += 4;
    *out = v;
    return 0;
}

static int put_utf8(lr_buf *b, unsigned cp)
{
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (unsigned char)cp; n = 1; }
    else if (cp < 0x800) {
        u[0] = (unsigned char)(0xc0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xe0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xf0 | (cp >> 18));
        u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return lr_buf_append(b, u, n);
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF rejected). */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        if (n >= 2 && (s[1] & 0xc0) == 0x80) return 2;
        return 0;
    }
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) return 0;
        if (c == 0xe0 && s[1] < 0xa0) return 0;
        if (c == 0xed && s[1] >= 0xa0) return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
            (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90) return 0;
        if (c == 0xf4 && s[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

/* Parses a string literal at p->pos (which is at '"'); the decoded bytes are
 * copied into the arena. */
static int parse_string(parser *p, const char **out, size_t *out_len)
{
    char *dst;
    p->str.len = 0;
    p->pos++; /* opening quote */
    for (;;) {
        size_t start = p->pos;
        unsigned char c;
        /* fast path: copy a run of plain ASCII */
        while (p->pos < p->len) {
            c = (unsigned char)p->s[p->pos];
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
            p->pos++;
        }
        if (p->pos > start &&
            lr_buf_append(&p->str, p->s + start, p->pos - start))
            return perr(p, "out of memory");
        if (p->pos >= p->len) return perr(p, "unterminated string");
        c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) return perr(p, "control character in string (must be escaped)");
        if (c >= 0x80) {
            size_t n = utf8_valid_len((const unsigned char *)p->s + p->pos,
                                      p->len - p->pos);
            if (!n) return perr(p, "invalid UTF-8 in string");
            if (lr_buf_append(&p->str, p->s + p->pos, n))
                return perr(p, "out of memory");
            p->pos += n;
            continue;
        }
        /* backslash escape */
        p->pos++;
        if (p->pos >= p->len) return perr(p, "unterminated escape");
        c = (unsigned char)p->s[p->pos++];
        {
            char e = 0;
            switch (c) {
            case '"': e = '"'; break;
            case '\\': e = '\\'; break;
            case '/': e = '/'; break;
            case 'b': e = '\b'; break;
            case 'f': e = '\f'; break;
            case 'n': e = '\n'; break;
            case 'r': e = '\r'; break;
            case 't': e = '\t'; break;
            case 'u': {
                unsigned cp, lo;
                if (hex4(p, &cp)) return -1;
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return perr(p, "unpaired low surrogate in \\u escape");
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (p->len - p->pos < 2 || p->s[p->pos] != '\\' ||
                        p->s[p->pos + 1] != 'u')
                        return perr(p, "unpaired high surrogate in \\u escape");
                    p->pos += 2;
                    if (hex4(p, &lo)) return -1;
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return perr(p, "high surrogate not followed by a low surrogate");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                if (put_utf8(&p->str, cp)) return perr(p, "out of memory");
                continue;
            }
            default:
                p->pos--;
                return perr(p, "invalid escape in string");
            }
            if (lr_buf_append(&p->str, &e, 1)) return perr(p, "out of memory");
        }
    }
    dst = arena_get(p->doc, p->str.len + 1);
    if (!dst) return perr(p, "out of memory");
    if (p->str.len) memcpy(dst, p->str.data, p->str.len);
    dst[p->str.len] = 0;
    *out = dst;
    *out_len = p->str.len;
    return 0;
}

static int parse_number(parser *p, lr_json *v)
{
    size_t start = p->pos, n;
    int integral = 1;
    char tmp[64], *buf = tmp, *end;
    if (p->pos < p->len && p->s[p->pos] == '-') p->pos++;
    if (p->pos >= p->len) return perr(p, "truncated number");
    if (p->s[p->pos] == '0') {
        p->pos++;
    } else if (p->s[p->pos] >= '1' && p->s[p->pos] <= '9') {
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    } else {
        return perr(p, "invalid number");
    }
    if (p->pos < p->len && p->s[p->pos] == '.') {
        integral = 0;
        p->pos++;
        if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
            return perr(p, "digit expected after '.' in number");
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        integral = 0;
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
            return perr(p, "digit expected in number exponent");
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    }
    n = p->pos - start;
    if (n >= sizeof tmp) {
        buf = malloc(n + 1);
        if (!buf) return perr(p, "out of memory");
    }
    memcpy(buf, p->s + start, n);
    buf[n] = 0;
    v->type = LR_JSON_NUMBER;
    v->number = strtod(buf, &end); /* overflow gives +-HUGE_VAL, accepted */
    v->is_integer = 0;
    if (integral) {
        errno = 0;
        {
            long long ll = strtoll(buf, &end, 10);
            if (errno == 0 && *end == 0) {
                v->is_integer = 1;
                v->integer = (int64_t)ll;
            }
        }
    }
    if (buf != tmp) free(buf);
    return 0;
}

static int parse_value(parser *p, lr_json *v, int depth);

static int parse_container(parser *p, lr_json *v, int depth, int is_object)
{
    size_t base = p->sp, n, i;
    char close = is_object ? '}' : ']';
    p->pos++; /* '[' or '{' */
    if (depth >= LR_JSON_MAX_DEPTH) return perr(p, "nesting too deep");
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            lr_json child;
            const char *key = NULL;
            size_t klen = 0;
            skip_ws(p);
            if (is_object) {
                if (p->pos >= p->len || p->s[p->pos] != '"')
                    return perr(p, "object key (a string) expected");
                if (parse_string(p, &key, &klen)) return -1;
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':')
                    return perr(p, "':' expected after object key");
                p->pos++;
                skip_ws(p);
            }
            if (parse_value(p, &child, depth + 1)) return -1;
            if (push(p, &child, key, klen)) return -1;
            skip_ws(p);
            if (p->pos >= p->len)
                return perr(p, is_object ? "unterminated object" : "unterminated array");
            if (p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->s[p->pos] == close) {
                p->pos++;
                break;
            }
            return perr(p, is_object ? "',' or '}' expected in object"
                                     : "',' or ']' expected in array");
        }
    }
    n = p->sp - base;
    v->type = is_object ? LR_JSON_OBJECT : LR_JSON_ARRAY;
    v->len = n;
    v->items = NULL;
    v->keys = NULL;
    v->key_lens = NULL;
    if (n) {
        v->items = arena_get(p->doc, n * sizeof *v->items);
        if (!v->items) return perr(p, "out of memory");
        memcpy(v->items, p->stack + base, n * sizeof *v->items);
        if (is_object) {
            v->keys = arena_get(p->doc, n * sizeof *v->keys);
            v->key_lens = arena_get(p->doc, n * sizeof *v->key_lens);
            if (!v->keys || !v->key_lens) return perr(p, "out of memory");
            for (i = 0; i < n; i++) {
                v->keys[i] = p->kstack[base + i];
                v->key_lens[i] = p->klen_stack[base + i];
            }
        }
    }
    p->sp = base;
    return 0;
}

static int match_word(parser *p, const char *w)
{
    size_t n = strlen(w);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0) return 0;
    p->pos += n;
    return 1;
}

static int parse_value(parser *p, lr_json *v, int depth)
{
    char c;
    memset(v, 0, sizeof *v);
    skip_ws(p);
    v->line = p->line;
    v->col = (int)(p->pos - p->line_start) + 1;
    if (p->pos >= p->len) return perr(p, "unexpected end of input, value expected");
    c = p->s[p->pos];
    switch (c) {
    case '{': return parse_container(p, v, depth, 1);
    case '[': return parse_container(p, v, depth, 0);
    case '"':
        v->type = LR_JSON_STRING;
        return parse_string(p, &v->str, &v->len);
    case 't':
        if (!match_word(p, "true")) break;
        v->type = LR_JSON_TRUE;
        return 0;
    case 'f':
        if (!match_word(p, "false")) break;
        v->type = LR_JSON_FALSE;
        return 0;
    case 'n':
        if (!match_word(p, "null")) break;
        v->type = LR_JSON_NULL;
        return 0;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
        break;
    }
    return perr(p, "invalid value (expected object, array, string, number, true, false or null)");
}

int lr_json_parse(const char *text, size_t len, const char *source,
                  lr_json_doc **out, lr_error *err)
{
    parser p;
    lr_json_doc *doc;
    int rc;
    *out = NULL;
    /* lines and columns are ints: a text of more bytes could overflow them */
    if (len > (size_t)INT_MAX)
        return lr_fail(err, "%s: %lu bytes of JSON, more than the %d supported",
                       source ? source : "json", (unsigned long)len, INT_MAX);
    doc = calloc(1, sizeof *doc);
    if (!doc) return lr_fail(err, "%s: out of memory", source);
    memset(&p, 0, sizeof p);
    p.s = text;
    p.len = len;
    p.line = 1;
    p.source = source ? source : "json";
    p.doc = doc;
    p.err = err;
    /* a UTF-8 byte order mark is tolerated at the very start */
    if (len >= 3 && (unsigned char)text[0] == 0xef &&
        (unsigned char)text[1] == 0xbb && (unsigned char)text[2] == 0xbf)
        p.pos = 3;
    rc = parse_value(&p, &doc->root, 0);
    if (rc == 0) {
        skip_ws(&p);
        if (p.pos != p.len) rc = perr(&p, "unexpected data after the JSON value");
    }
    free(p.stack);
    free(p.kstack);
    free(p.klen_stack);
    lr_buf_free(&p.str);
    if (rc) {
        lr_json_free(doc);
        return -1;
    }
    *out = doc;
    return 0;
}

int lr_json_parse_file(const char *path, lr_json_doc **out, lr_error *err)
{
    char *data;
    size_t len;
    int rc;
    *out = NULL;
    if (lr_read_file(path, &data, &len, err)) return -1;
    rc = lr_json_parse(data, len, path, out, err);
    free(data);
    return rc;
}

/* ---- access ---- */

const lr_json *lr_json_get(const lr_json *obj, const char *key)
{
    size_t i, n;
    if (!obj || obj->type != LR_JSON_OBJECT) return NULL;
    n = strlen(key);
    for (i = obj->len; i-- > 0;)
        if (obj->key_lens[i] == n && memcmp(obj->keys[i], key, n) == 0)
            return &obj->items[i];
    return NULL;
}

const char *lr_json_type_name(lr_json_type t)
{
    switch (t) {
    case LR_JSON_NULL: return "null";
    case LR_JSON_FALSE: return "false";
    case LR_JSON_TRUE: return "true";
    case LR_JSON_NUMBER: return "number";
    case LR_JSON_STRING: return "string";
    case LR_JSON_ARRAY: return "array";
    case LR_JSON_OBJECT: return "object";
    }
    return "?";
}

static const lr_json *get_typed(const lr_json *obj, const char *key,
                                const char *source, lr_json_type want,
                                const char *want_name, lr_error *err)
{
    const lr_json *v = lr_json_get(obj, key);
    if (!v) {
        lr_fail(err, "%s: missing key \"%s\"", source, key);
        return NULL;
    }
    if (v->type != want) {
        lr_fail(err, "%s:%d:%d: \"%s\" must be %s, got %s", source, v->line,
                v->col, key, want_name, lr_json_type_name(v->type));
        return NULL;
    }
    return v;
}

int lr_json_get_int(const lr_json *obj, const char *key, const char *source,
                    int64_t *out, lr_error *err)
{
    const lr_json *v = get_typed(obj, key, source, LR_JSON_NUMBER,
                                 "an integer", err);
    if (!v) return -1;
    if (!v->is_integer)
        return lr_fail(err, "%s:%d:%d: \"%s\" must be an integer", source,
                       v->line, v->col, key);
    *out = v->integer;
    return 0;
}

int lr_json_get_number(const lr_json *obj, const char *key,
                       const char *source, double *out, lr_error *err)
{
    const lr_json *v = get_typed(obj, key, source, LR_JSON_NUMBER,
                                 "a number", err);
    if (!v) return -1;
    *out = v->number;
    return 0;
}

int lr_json_get_string(const lr_json *obj, const char *key,
                       const char *source, const char **out, lr_error *err)
{
    const lr_json *v = get_typed(obj, key, source, LR_JSON_STRING,
                                 "a string", err);
    if (!v) return -1;
    *out = v->str;
    return 0;
}

/* ---- writing ---- */

int lr_json_write_string(lr_buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    lr_buf_append(b, "\"", 1);
    while (i < len) {
        unsigned c = u[i];
        if (c >= 0x80) {
            size_t n = utf8_valid_len(u + i, len - i);
            if (n) {
                lr_buf_append(b, s + i, n);
                i += n;
            } else {
                lr_buf_append(b, "\xef\xbf\xbd", 3); /* U+FFFD */
                i++;
            }
            continue;
        }
        switch (c) {
        case '"': lr_buf_append(b, "\\\"", 2); break;
        case '\\': lr_buf_append(b, "\\\\", 2); break;
        case '\n': lr_buf_append(b, "\\n", 2); break;
        case '\r': lr_buf_append(b, "\\r", 2); break;
        case '\t': lr_buf_append(b, "\\t", 2); break;
        case '\b': lr_buf_append(b, "\\b", 2); break;
        case '\f': lr_buf_append(b, "\\f", 2); break;
        default:
            if (c < 0x20) lr_buf_printf(b, "\\u%04x", c);
            else lr_buf_append(b, s + i, 1);
        }
        i++;
    }
    return lr_buf_append(b, "\"", 1);
}

int lr_json_write_number(lr_buf *b, double v)
{
    if (v != v || v - v != 0) return lr_buf_puts(b, "null");
    if (v == floor(v) && fabs(v) < 1e15) return lr_buf_printf(b, "%.0f", v);
    { /* shortest %.Ng that reads back to the same double */
        char tmp[40];
        int prec;
        for (prec = 15; prec < 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v) break;
        }
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        return lr_buf_puts(b, tmp);
    }
}
