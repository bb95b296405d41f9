/* tokenizer.c - Llama tokenizers: format detection and loading (tiktoken,
 * Hugging Face tokenizer.json, llama2.c tokenizer.bin), special tokens,
 * encoding, decoding and the streaming decoder.  See tokenizer.h.
 * Depends on vocab.c (hash of token strings), pretokenize.c (the Llama 3
 * split), bpe.c (merges), sentencepiece.c (llama2.c) and json.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/json.h"
#include "llamaref/tokenizer/pretokenize.h"
#include "llamaref/tokenizer/tokenizer.h"
#include "llamaref/core/tokens.h"
#include "llamaref/tokenizer/unicode.h"

/* The split regex a tokenizer.json must declare (as stored in the file). */
static const char llama3_pattern[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

#define LLAMA3_N_BASE 128000
#define LLAMA3_N_SPECIAL 256

/* Llama 3.1 special-token names for ids n_base + k (k < 11), where n_base
 * is the number of mergeable tokens (128000 for Llama 3); the others are
 * <|reserved_special_token_N|> with N = k - 8 for k >= 11. */
static const char *const llama31_specials[11] = {
    "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
    "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>",
    "<|reserved_special_token_2|>", "<|start_header_id|>",
    "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>",
};

const char *lr_tokenizer_format_name(lr_tokenizer_format f)
{
    switch (f) {
    case LR_TOK_TIKTOKEN: return "tiktoken";
    case LR_TOK_HF_JSON: return "tokenizer.json";
    case LR_TOK_LLAMA2C: return "llama2.c";
    case LR_TOK_GGUF: return "gguf";
    }
    return "?";
}

void lr_tokenizer_free(lr_tokenizer *tok)
{
    free(tok->path);
    lr_vocab_free(&tok->bpe);
    lr_vocab_free(&tok->specials);
    free(tok->special_ids);
    free(tok->id_to_special);
    lr_sp_free(&tok->sp);
    if (tok->merge_pairs) lr_vocab_free(tok->merge_pairs);
    free(tok->merge_pairs);
    free(tok->chat_template);
    memset(tok, 0, sizeof *tok);
}

/* ---- special tokens ---- */

/* Adds special token `name` with id `id` (ids >= bpe.n are recorded for
 * decoding by finish_specials). */
static int add_special(lr_tokenizer *tok, const char *name, size_t len,
                       int32_t id, lr_error *err)
{
    size_t k = tok->specials.n;
    int32_t *p;
    if (len == 0) return lr_fail(err, "empty special token (id %ld)", (long)id);
    if (lr_vocab_add(&tok->specials, name, len, err))
        return lr_fail_prefix(err, "special token %.*s", (int)len, name);
    p = realloc(tok->special_ids, (k + 1) * sizeof *p);
    if (!p) return lr_fail(err, "out of memory for special tokens");
    tok->special_ids = p;
    p[k] = id;
    return 0;
}

/* Builds id_to_special, the first-byte filter and the list of lengths.
 * file_len bounds the table: ids past the vocabulary may leave holes, but
 * no more of them than the file has bytes (+ the 256 Llama 3 specials). */
static int finish_specials(lr_tokenizer *tok, size_t file_len,
                           const char *source, lr_error *err)
{
    size_t k, i, n_base = tok->bpe.n, size = n_base;
    for (k = 0; k < tok->specials.n; k++) {
        if (tok->special_ids[k] < 0)
            return lr_fail(err, "%s: special token id %ld is negative", source,
                           (long)tok->special_ids[k]);
        if ((size_t)tok->special_ids[k] + 1 > size) size = (size_t)tok->special_ids[k] + 1;
    }
    if (size - n_base > file_len + LLAMA3_N_SPECIAL)
        return lr_fail(err, "%s: special token id %zu is %zu past the %zu-token vocabulary, "
                       "more than a %zu-byte file can describe", source, size - 1,
                       size - n_base, n_base, file_len);
    tok->vocab_size = size;
    if (size > n_base) {
        tok->id_to_special = lr_alloc(size - n_base, sizeof(int32_t), "special ids", err);
        if (!tok->id_to_special) return -1;
        for (i = 0; i < size - n_base; i++) tok->id_to_special[i] = -1;
    }
    memset(tok->special_first, 0, sizeof tok->special_first);
    tok->n_special_lens = 0;
    for (k = 0; k < tok->specials.n; k++) {
        size_t len, j;
        const unsigned char *s = lr_vocab_bytes(&tok->specials, k, &len);
        int32_t id = tok->special_ids[k];
        if ((size_t)id >= n_base) {
            if (tok->id_to_special[id - n_base] >= 0)
                return lr_fail(err, "two special tokens with id %ld", (long)id);
            tok->id_to_special[id - n_base] = (int32_t)k;
        } else {
            /* an added token that is also a vocabulary entry must agree */
            size_t blen;
            const unsigned char *b = lr_vocab_bytes(&tok->bpe, (size_t)id, &blen);
            if (blen != len || memcmp(b, s, len))
                return lr_fail(err, "special token %.*s has id %ld, which is a different vocabulary token",
                               (int)len, (const char *)s, (long)id);
        }
        tok->special_first[s[0]] = 1;
        for (j = 0; j < tok->n_special_lens && tok->special_lens[j] != len; j++) {}
        if (j == tok->n_special_lens) {
            if (j == sizeof tok->special_lens / sizeof tok->special_lens[0])
                return lr_fail(err, "too many distinct special-token lengths");
            tok->special_lens[tok->n_special_lens++] = len;
        }
    }
    /* longest first, so the longest special token wins at a position */
    for (i = 1; i < tok->n_special_lens; i++) {
        size_t v = tok->special_lens[i], j = i;
        while (j > 0 && tok->special_lens[j - 1] < v) {
            tok->special_lens[j] = tok->special_lens[j - 1];
            j--;
        }
        tok->special_lens[j] = v;
    }
    tok->bos_id = lr_tokenizer_special_id(tok, "<|begin_of_text|>");
    tok->eos_id = lr_tokenizer_special_id(tok, "<|end_of_text|>");
    return 0;
}

int lr_tokenizer_add_special(lr_tokenizer *tok, const char *name, size_t len,
                             int32_t id, lr_error *err)
{
    return add_special(tok, name, len, id, err);
}

int lr_tokenizer_finish(lr_tokenizer *tok, const char *source, lr_error *err)
{
    size_t i;
    /* the caller's ids index its own token list (a GGUF's tokenizer.ggml.*
     * arrays, bounded by the file): no hole past the vocabulary beyond the
     * specials themselves */
    if (finish_specials(tok, tok->specials.n, source, err)) return -1;
    for (i = 0; i < 256; i++) {
        unsigned char b = (unsigned char)i;
        if (lr_vocab_find(&tok->bpe, &b, 1) >= 0) continue;
        if (tok->format != LR_TOK_GGUF)
            return lr_fail(err, "%s: byte 0x%02X is not a token (byte-level BPE needs all 256)",
                           source, (unsigned)i);
        tok->missing_bytes = 1;
    }
    return 0;
}

int32_t lr_tokenizer_special_id(const lr_tokenizer *tok, const char *name)
{
    int32_t k;
    if (tok->format == LR_TOK_LLAMA2C) return -1;
    k = lr_vocab_find(&tok->specials, name, strlen(name));
    return k < 0 ? -1 : tok->special_ids[k];
}

/* ---- tiktoken ---- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes padded standard base64 s[0..n) into out (n/4*3 bytes room).
 * Returns the decoded length or -1. */
static long b64_decode(const unsigned char *s, size_t n, unsigned char *out)
{
    size_t i, o = 0;
    if (n == 0 || n % 4) return -1;
    for (i = 0; i < n; i += 4) {
        int a = b64_value(s[i]), b = b64_value(s[i + 1]);
        int c = s[i + 2] == '=' ? -2 : b64_value(s[i + 2]);
        int d = s[i + 3] == '=' ? -2 : b64_value(s[i + 3]);
        if (a < 0 || b < 0 || c == -1 || d == -1) return -1;
        if ((c == -2 || d == -2) && i + 4 != n) return -1;
        if (c == -2 && d != -2) return -1;
        out[o++] = (unsigned char)(a << 2 | b >> 4);
        if (c >= 0) out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
        if (d >= 0) out[o++] = (unsigned char)((c & 3) << 6 | d);
    }
    return (long)o;
}

static int load_tiktoken(lr_tokenizer *tok, const char *data, size_t len,
                         const char *source, lr_error *err)
{
    const unsigned char *s = (const unsigned char *)data;
    size_t pos = 0, line = 0, k;
    unsigned char buf[1024];
    /* room for the tokens the file can hold (a line each, at most 3/4 of
     * its bytes decoded): reserved up front, never more than the input */
    {
        size_t lines = 1, i;
        for (i = 0; i < len; i++) lines += s[i] == '\n';
        if (lr_vocab_reserve(&tok->bpe, lines < LLAMA3_N_BASE ? lines : LLAMA3_N_BASE,
                             len < (1u << 20) ? len : (1u << 20), err))
            return -1;
    }
    while (pos < len) {
        size_t eol = pos, sp, j;
        unsigned long rank = 0;
        long blen;
        line++;
        while (eol < len && s[eol] != '\n') eol++;
        for (sp = pos; sp < eol && s[sp] != ' '; sp++) {}
        if (sp == eol || sp == pos)
            return lr_fail(err, "%s:%zu: expected \"base64 rank\"", source, line);
        if (sp - pos > 4 * (sizeof buf / 3))
            return lr_fail(err, "%s:%zu: token too long", source, line);
        blen = b64_decode(s + pos, sp - pos, buf);
        if (blen < 0) return lr_fail(err, "%s:%zu: invalid base64", source, line);
        j = sp + 1;
        if (j >= eol || (eol - j) > 9)
            return lr_fail(err, "%s:%zu: missing or invalid rank", source, line);
        for (; j < eol; j++) {
            if (s[j] == '\r' && j + 1 == eol) break;
            if (s[j] < '0' || s[j] > '9')
                return lr_fail(err, "%s:%zu: invalid rank", source, line);
            rank = rank * 10 + (unsigned long)(s[j] - '0');
        }
        if (rank != line - 1)
            return lr_fail(err, "%s:%zu: rank %lu, expected %zu (ranks must be 0, 1, 2, ... in order)",
                           source, line, rank, line - 1);
        if (lr_vocab_add(&tok->bpe, buf, (size_t)blen, err))
            return lr_fail_prefix(err, "%s:%zu", source, line);
        pos = eol + 1;
    }
    /* The special tokens follow the mergeable ones, as in Meta's llama3
     * tokenizer.py (num_base_tokens = len(mergeable_ranks)): ids 128000..
     * for Llama 3, n.. for a vocabulary of n tokens made by bpe-train.  So a
     * file cut at a line boundary loads as a smaller vocabulary (like in
     * tiktoken); compare vocab_size with the model's where both are known. */
    if (tok->bpe.n > (size_t)INT32_MAX - LLAMA3_N_SPECIAL)
        return lr_fail(err, "%s: %zu tokens, too many", source, tok->bpe.n);
    tok->ignore_merges = 1;
    for (k = 0; k < LLAMA3_N_SPECIAL; k++) {
        char name[64];
        if (k < 11) snprintf(name, sizeof name, "%s", llama31_specials[k]);
        else snprintf(name, sizeof name, "<|reserved_special_token_%zu|>", k - 8);
        if (add_special(tok, name, strlen(name), (int32_t)(tok->bpe.n + k), err)) return -1;
    }
    return 0;
}

/* ---- Hugging Face tokenizer.json ---- */

/* GPT-2's bytes_to_unicode: printable bytes map to themselves, the other 68
 * bytes to U+0100 + n in byte order.  Fills the inverse (code point -> byte,
 * -1 if none) for code points < 0x144. */
static void gpt2_unicode_to_byte(int inv[0x144])
{
    int b, n = 0;
    for (b = 0; b < 0x144; b++) inv[b] = -1;
    for (b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                        (b >= 0xAE && b <= 0xFF);
        if (printable) inv[b] = b;
        else inv[256 + n++] = b;
    }
}

/* Maps a GPT-2-encoded token string to bytes in out (len bytes room). */
static long gpt2_decode(const int inv[0x144], const char *s, size_t n,
                        unsigned char *out)
{
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t cp;
        int l = lr_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (l <= 0 || cp >= 0x144 || inv[cp] < 0) return -1;
        out[o++] = (unsigned char)inv[cp];
        i += (size_t)l;
    }
    return (long)o;
}

static int json_bool(const lr_json *v, int dflt)
{
    if (!v || v->type == LR_JSON_NULL) return dflt;
    return v->type == LR_JSON_TRUE;
}

/* Does the pre_tokenizer contain a Split with the Llama 3 regex? */
static int has_llama3_split(const lr_json *pt)
{
    const lr_json *type, *pat, *list;
    size_t i;
    if (!pt || pt->type != LR_JSON_OBJECT) return 0;
    type = lr_json_get(pt, "type");
    if (!type || type->type != LR_JSON_STRING) return 0;
    if (!strcmp(type->str, "Sequence")) {
        list = lr_json_get(pt, "pretokenizers");
        if (!list || list->type != LR_JSON_ARRAY) return 0;
        for (i = 0; i < list->len; i++)
            if (has_llama3_split(&list->items[i])) return 1;
        return 0;
    }
    if (strcmp(type->str, "Split")) return 0;
    pat = lr_json_get(pt, "pattern");
    if (pat) pat = lr_json_get(pat, "Regex");
    return pat && pat->type == LR_JSON_STRING && !strcmp(pat->str, llama3_pattern);
}

static int load_hf_json(lr_tokenizer *tok, const char *data, size_t len,
                        const char *source, lr_error *err)
{
    lr_json_doc *doc = NULL;
    const lr_json *root, *model, *vocab, *merges, *added, *v;
    int inv[0x144];
    unsigned char *buf = NULL;
    size_t *order = NULL, i, n;
    int rc = -1;
    long prev_rank = -1;
    gpt2_unicode_to_byte(inv);
    if (lr_json_parse(data, len, source, &doc, err)) return -1;
    root = lr_json_root(doc);
    model = lr_json_get(root, "model");
    if (!model || model->type != LR_JSON_OBJECT) {
        lr_fail(err, "%s: no \"model\" object", source);
        goto done;
    }
    v = lr_json_get(model, "type");
    if (!v || v->type != LR_JSON_STRING || strcmp(v->str, "BPE")) {
        lr_fail(err, "%s: model.type is not \"BPE\"", source);
        goto done;
    }
    if (json_bool(lr_json_get(model, "byte_fallback"), 0)) {
        lr_fail(err, "%s: model.byte_fallback is set: a SentencePiece-style tokenizer, not byte-level BPE", source);
        goto done;
    }
    v = lr_json_get(root, "normalizer");
    if (v && v->type != LR_JSON_NULL) {
        lr_fail(err, "%s: a normalizer is not supported (Llama 3 has none)", source);
        goto done;
    }
    if (!has_llama3_split(lr_json_get(root, "pre_tokenizer"))) {
        lr_fail(err, "%s: pre_tokenizer has no Split with the Llama 3 regex (only that pre-tokenizer is implemented)", source);
        goto done;
    }
    tok->ignore_merges = json_bool(lr_json_get(model, "ignore_merges"), 0);
    vocab = lr_json_get(model, "vocab");
    if (!vocab || vocab->type != LR_JSON_OBJECT || vocab->len == 0) {
        lr_fail(err, "%s: model.vocab is not a non-empty object", source);
        goto done;
    }
    n = vocab->len;
    order = lr_alloc(n, sizeof *order, "vocabulary order", err);
    if (!order) goto done;
    for (i = 0; i < n; i++) order[i] = (size_t)-1;
    for (i = 0; i < n; i++) {
        const lr_json *id = &vocab->items[i];
        if (id->type != LR_JSON_NUMBER || !id->is_integer || id->integer < 0 ||
            (uint64_t)id->integer >= n || order[id->integer] != (size_t)-1) {
            lr_fail(err, "%s:%d:%d: vocabulary id of \"%s\" is not a unique integer in [0, %zu)",
                    source, id->line, id->col, vocab->keys[i], n);
            goto done;
        }
        order[id->integer] = i;
    }
    buf = lr_alloc(len + 1, 1, "token bytes", err);
    if (!buf || lr_vocab_reserve(&tok->bpe, n, len < (1u << 20) ? len : (1u << 20), err))
        goto done;
    for (i = 0; i < n; i++) {
        size_t e = order[i];
        long blen = gpt2_decode(inv, vocab->keys[e], vocab->key_lens[e], buf);
        if (blen < 0) {
            lr_fail(err, "%s: vocabulary token \"%s\" (id %zu) is not in the GPT-2 byte-to-unicode alphabet",
                    source, vocab->keys[e], i);
            goto done;
        }
        if (lr_vocab_add(&tok->bpe, buf, (size_t)blen, err)) {
            lr_fail_prefix(err, "%s: vocabulary id %zu", source, i);
            goto done;
        }
    }
    /* merges: "a b" strings or [a, b] pairs; check a+b is a token and the
     * resulting ranks never decrease, i.e. the merge order is the rank
     * order that the tiktoken-style BPE uses. */
    merges = lr_json_get(model, "merges");
    if (!merges || merges->type != LR_JSON_ARRAY) {
        lr_fail(err, "%s: model.merges is not an array", source);
        goto done;
    }
    for (i = 0; i < merges->len; i++) {
        const lr_json *m = &merges->items[i];
        const char *a, *b;
        size_t alen, blen2;
        long la, lb;
        int32_t r;
        if (m->type == LR_JSON_STRING) {
            const char *sp = memchr(m->str, ' ', m->len);
            if (!sp) goto bad_merge;
            a = m->str;
            alen = (size_t)(sp - m->str);
            b = sp + 1;
            blen2 = m->len - alen - 1;
        } else if (m->type == LR_JSON_ARRAY && m->len == 2 &&
                   m->items[0].type == LR_JSON_STRING && m->items[1].type == LR_JSON_STRING) {
            a = m->items[0].str;
            alen = m->items[0].len;
            b = m->items[1].str;
            blen2 = m->items[1].len;
        } else {
            goto bad_merge;
        }
        la = gpt2_decode(inv, a, alen, buf);
        lb = la < 0 ? -1 : gpt2_decode(inv, b, blen2, buf + la);
        if (la <= 0 || lb <= 0) goto bad_merge;
        if (lr_vocab_find(&tok->bpe, buf, (size_t)la) < 0 ||
            lr_vocab_find(&tok->bpe, buf + la, (size_t)lb) < 0) {
            lr_fail(err, "%s:%d:%d: merge %zu: a part is not a vocabulary token", source,
                    m->line, m->col, i);
            goto done;
        }
        r = lr_vocab_find(&tok->bpe, buf, (size_t)(la + lb));
        if (r < 0) {
            lr_fail(err, "%s:%d:%d: merge %zu: the merged token is not in the vocabulary",
                    source, m->line, m->col, i);
            goto done;
        }
        if (r < prev_rank) {
            lr_fail(err, "%s:%d:%d: merge %zu gives token %ld after token %ld: merges are not in rank order (unsupported)",
                    source, m->line, m->col, i, (long)r, prev_rank);
            goto done;
        }
        prev_rank = r;
        continue;
    bad_merge:
        lr_fail(err, "%s:%d:%d: merge %zu is not \"a b\" or [a, b] over the byte alphabet",
                source, m->line, m->col, i);
        goto done;
    }
    added = lr_json_get(root, "added_tokens");
    if (added && added->type != LR_JSON_ARRAY) {
        lr_fail(err, "%s: added_tokens is not an array", source);
        goto done;
    }
    for (i = 0; added && i < added->len; i++) {
        const lr_json *t = &added->items[i];
        int64_t id;
        const char *content;
        const lr_json *c;
        if (lr_json_get_int(t, "id", source, &id, err) ||
            lr_json_get_string(t, "content", source, &content, err))
            goto done;
        c = lr_json_get(t, "content");
        if (id < 0 || id > 0x7FFFFFFF) {
            lr_fail(err, "%s:%d:%d: added token id %lld out of range", source, t->line, t->col,
                    (long long)id);
            goto done;
        }
        if (add_special(tok, content, c->len, (int32_t)id, err)) {
            lr_fail_prefix(err, "%s:%d:%d", source, t->line, t->col);
            goto done;
        }
    }
    rc = 0;
done:
    free(buf);
    free(order);
    lr_json_free(doc);
    return rc;
}

/* ---- loading ---- */

static int looks_like_tiktoken(const char *data, size_t len)
{
    size_t i = 0;
    while (i < len && b64_value((unsigned char)data[i]) >= 0) i++;
    while (i < len && data[i] == '=') i++;
    if (i == 0 || i >= len || data[i] != ' ') return 0;
    i++;
    if (i >= len || data[i] < '0' || data[i] > '9') return 0;
    while (i < len && data[i] >= '0' && data[i] <= '9') i++;
    return i == len || data[i] == '\n' || data[i] == '\r';
}

int lr_tokenizer_load_buffer(const char *data, size_t len, const char *source,
                             lr_tokenizer *tok, lr_error *err)
{
    size_t i = 0;
    int rc;
    memset(tok, 0, sizeof *tok);
    lr_vocab_init(&tok->bpe);
    lr_vocab_init(&tok->specials);
    tok->bos_id = tok->eos_id = -1;
    if (len == 0) return lr_fail(err, "%s: empty file, not a tokenizer", source);
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r')) i++;
    if (i < len && data[i] == '{') {
        tok->format = LR_TOK_HF_JSON;
        rc = load_hf_json(tok, data, len, source, err);
    } else if (looks_like_tiktoken(data, len)) {
        tok->format = LR_TOK_TIKTOKEN;
        rc = load_tiktoken(tok, data, len, source, err);
    } else if (len > 0 && data[0] == 0x0A && len > 4 && lr_le32((const unsigned char *)data) > 65536) {
        rc = lr_fail(err, "%s: looks like a SentencePiece protobuf model, which is not supported: "
                          "use llama2.c's tokenizer.bin (or a tiktoken / tokenizer.json file)", source);
    } else {
        tok->format = LR_TOK_LLAMA2C;
        rc = lr_sp_load_buffer((const unsigned char *)data, len, source, &tok->sp, err);
        if (rc == 0) {
            tok->vocab_size = tok->sp.vocab.n;
            tok->bos_id = tok->sp.bos_id;
            tok->eos_id = tok->sp.eos_id;
            return 0;
        }
    }
    /* the cheap checks first: a vocabulary without the 256 bytes is refused
     * before any table is sized from its special-token ids */
    if (rc == 0 && tok->bpe.n < 256) rc = lr_fail(err, "%s: vocabulary lacks single bytes", source);
    for (i = 0; rc == 0 && i < 256; i++) {
        unsigned char b = (unsigned char)i;
        if (lr_vocab_find(&tok->bpe, &b, 1) < 0)
            rc = lr_fail(err, "%s: byte 0x%02zX is not a token (byte-level BPE needs all 256)", source, i);
    }
    if (rc == 0) rc = finish_specials(tok, len, source, err);
    if (rc) lr_tokenizer_free(tok);
    return rc;
}

/* ---- encoding ---- */

/* Encodes text without special tokens: pre-tokenize, then BPE per piece. */
static int encode_ordinary(const lr_tokenizer *tok, const char *text, size_t n,
                           lr_bpe_scratch *s, lr_tokens *out, lr_error *err)
{
    size_t pos = 0;
    while (pos < n) {
        size_t end = tok->pre == LR_PRE_SMOLLM ? lr_pretokenize_smollm_next(text, n, pos)
                     : tok->pre == LR_PRE_GPT2 ? lr_pretokenize_gpt2_next(text, n, pos)
                     : lr_pretokenize_next(text, n, pos);
        const unsigned char *p = (const unsigned char *)text;
        if (tok->missing_bytes) {
            /* a byte that is not a token can be in no token: it splits the
             * piece and is dropped, as llama.cpp does */
            size_t a = pos, b;
            while (a < end) {
                for (b = a; b < end && lr_vocab_find(&tok->bpe, p + b, 1) >= 0; b++) {}
                if (b > a && lr_bpe_encode_piece(&tok->bpe, tok->ignore_merges, p + a, b - a, s,
                                                 out, err))
                    return -1;
                a = b + 1;
            }
        } else if (lr_bpe_encode_piece(&tok->bpe, tok->ignore_merges, p + pos, end - pos, s,
                                       out, err)) {
            return -1;
        }
        pos = end;
    }
    return 0;
}

/* The longest special token starting at text[i], or -1 (its length in *len). */
static int32_t special_at(const lr_tokenizer *tok, const char *text, size_t n,
                          size_t i, size_t *len)
{
    size_t j;
    if (!tok->special_first[(unsigned char)text[i]]) return -1;
    for (j = 0; j < tok->n_special_lens; j++) {
        size_t l = tok->special_lens[j];
        int32_t k;
        if (l > n - i) continue;
        k = lr_vocab_find(&tok->specials, text + i, l);
        if (k >= 0) {
            *len = l;
            return tok->special_ids[k];
        }
    }
    return -1;
}

int lr_tokenizer_encode(const lr_tokenizer *tok, const char *text, size_t n,
                        unsigned flags, lr_tokens *out, lr_error *err)
{
    lr_bpe_scratch s;
    int rc = 0;
    if (n == 0) text = ""; /* (NULL, 0) is an empty text */
    if ((flags & LR_ENCODE_BOS) && tok->bos_id >= 0 && lr_tokens_push(out, tok->bos_id, err))
        return -1;
    if (tok->format == LR_TOK_LLAMA2C) {
        rc = lr_sp_encode(&tok->sp, text, n, out, err);
    } else {
        memset(&s, 0, sizeof s);
        if (!(flags & LR_ENCODE_SPECIAL) || tok->specials.n == 0) {
            rc = encode_ordinary(tok, text, n, &s, out, err);
        } else {
            size_t start = 0, i = 0, len = 0;
            while (rc == 0 && i < n) {
                int32_t id = special_at(tok, text, n, i, &len);
                if (id < 0) {
                    i++;
                    continue;
                }
                rc = encode_ordinary(tok, text + start, i - start, &s, out, err);
                if (rc == 0) rc = lr_tokens_push(out, id, err);
                i += len;
                start = i;
            }
            if (rc == 0) rc = encode_ordinary(tok, text + start, n - start, &s, out, err);
        }
        lr_bpe_scratch_free(&s);
    }
    if (rc == 0 && (flags & LR_ENCODE_EOS) && tok->eos_id >= 0)
        rc = lr_tokens_push(out, tok->eos_id, err);
    return rc;
}

/* ---- decoding ---- */

/* Appends the bytes of one id; at_start is the llama2.c leading-space state. */
static int decode_one(const lr_tokenizer *tok, int32_t id, int *at_start,
                      lr_buf *out, lr_error *err)
{
    const unsigned char *b;
    size_t len;
    if (tok->format == LR_TOK_LLAMA2C) {
        if (lr_sp_decode_token(&tok->sp, id, at_start, out, err)) goto fail;
        return 0;
    }
    if (id < 0 || (size_t)id >= tok->vocab_size)
        return lr_fail(err, "token id %ld out of range [0, %zu)", (long)id, tok->vocab_size);
    if ((size_t)id < tok->bpe.n) {
        b = lr_vocab_bytes(&tok->bpe, (size_t)id, &len);
    } else {
        int32_t k = tok->id_to_special[id - (int32_t)tok->bpe.n];
        if (k < 0) return lr_fail(err, "token id %ld has no token", (long)id);
        b = lr_vocab_bytes(&tok->specials, (size_t)k, &len);
    }
    if (lr_buf_append(out, b, len)) goto fail;
    return 0;
fail:
    if (out->oom) return lr_fail(err, "out of memory decoding tokens");
    return -1;
}

int lr_tokenizer_decode(const lr_tokenizer *tok, const int32_t *ids, size_t n,
                        lr_buf *out, lr_error *err)
{
    size_t i;
    int at_start = 1;
    for (i = 0; i < n; i++)
        if (decode_one(tok, ids[i], &at_start, out, err)) return -1;
    return 0;
}

void lr_stream_decoder_init(lr_stream_decoder *d, const lr_tokenizer *tok)
{
    memset(d, 0, sizeof *d);
    d->tok = tok;
    d->at_start = 1;
}

int lr_stream_decoder_push(lr_stream_decoder *d, int32_t id, lr_buf *out,
                           lr_error *err)
{
    size_t start = out->len, tail;
    if (d->n_pending && lr_buf_append(out, d->pending, d->n_pending))
        return lr_fail(err, "out of memory decoding tokens");
    if (decode_one(d->tok, id, &d->at_start, out, err)) {
        out->len = start; /* the pending bytes stay pending */
        if (out->data) out->data[out->len] = 0;
        return -1;
    }
    tail = out->len > start
               ? lr_utf8_incomplete_tail((const unsigned char *)out->data + start, out->len - start)
               : 0;
    if (tail) memcpy(d->pending, out->data + out->len - tail, tail);
    d->n_pending = tail;
    out->len -= tail;
    if (out->data) out->data[out->len] = 0;
    return 0;
}

int lr_stream_decoder_flush(lr_stream_decoder *d, lr_buf *out, lr_error *err)
{
    if (d->n_pending && lr_buf_append(out, d->pending, d->n_pending))
        return lr_fail(err, "out of memory decoding tokens");
    d->n_pending = 0;
    d->at_start = 1;
    return 0;
}

int lr_tokenize_jsonl(const lr_tokenizer *tok, const char *data, size_t len,
                      unsigned flags, const char *source, lr_buf *out,
                      lr_error *err)
{
    size_t pos = 0, line = 0;
    lr_tokens ids = {0};
    int rc = -1;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos), *text;
        size_t end = nl ? (size_t)(nl - data) : len;
        char where[64];
        lr_json_doc *doc;
        line++;
        snprintf(where, sizeof where, "%s:%lu", source, (unsigned long)line);
        if (lr_json_parse(data + pos, end - pos, where, &doc, err)) goto done;
        if (lr_json_get_string(lr_json_root(doc), "text", where, &text, err)) {
            lr_json_free(doc);
            goto done;
        }
        ids.n = 0;
        if (lr_tokenizer_encode(tok, text, lr_json_get(lr_json_root(doc), "text")->len,
                                flags, &ids, err)) {
            lr_fail_prefix(err, "%s", where);
            lr_json_free(doc);
            goto done;
        }
        lr_json_free(doc);
        lr_tokens_format(out, &ids, 1);
        pos = end + 1;
    }
    rc = out->oom ? lr_fail(err, "out of memory") : 0;
done:
    lr_tokens_free(&ids);
    return rc;
}

int lr_tokenize_text(const lr_tokenizer *tok, const char *data, size_t len,
                     unsigned flags, int jsonl, const char *source, lr_buf *out,
                     lr_error *err)
{
    lr_tokens ids = {0};
    int rc;
    if (jsonl) return lr_tokenize_jsonl(tok, data, len, flags, source, out, err);
    rc = lr_tokenizer_encode(tok, data, len, flags, &ids, err);
    if (rc == 0) lr_tokens_format(out, &ids, 0);
    lr_tokens_free(&ids);
    if (rc == 0 && out->oom) rc = lr_fail(err, "out of memory");
    return rc;
}
