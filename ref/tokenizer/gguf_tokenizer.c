/* gguf_tokenizer.c - tokenizers to and from GGUF's tokenizer.ggml.* keys.
 * Depends on gguf.c, tokenizer.c (its loader helpers), sentencepiece.c.
 *
 *   tokenizer.ggml.model       "gpt2" (byte-level BPE) or "llama" (SPM)
 *   tokenizer.ggml.pre         gpt2 pre-tokenizer: "llama-bpe" (Llama 3's
 *                              split), "smollm", "gpt-2", ...
 *   tokenizer.ggml.tokens      token strings by id (gpt2: GPT-2's
 *                              byte-to-unicode spelling; llama: U+2581 for
 *                              a space)
 *   tokenizer.ggml.token_type  1 normal, 2 unknown, 3 control, 4 user
 *                              defined, 5 unused, 6 byte
 *   tokenizer.ggml.merges      gpt2: "left right" in merge priority order
 *   tokenizer.ggml.scores      llama: SentencePiece scores
 *   tokenizer.ggml.bos_token_id / eos_token_id / add_bos_token
 *
 * gpt2 files encode as llama.cpp does: pre-tokenize, then merge only the
 * listed pairs (lr_vocab.merge_pairs), lowest merge first.  The merged
 * token's id must grow with the merge index (true of every HF BPE
 * vocabulary, whose ids are assigned in merge order); a file where it does
 * not is refused rather than encoded differently.  llama (SPM) files are
 * converted to the llama2.c tokenizer image that sentencepiece.c reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/formats/gguf.h"
#include "llamaref/tokenizer/tokenizer.h"
#include "llamaref/tokenizer/unicode.h"

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5, TT_BYTE = 6 };

/* GPT-2's byte <-> unicode map: printable Latin-1 bytes stand for
 * themselves, the other bytes for U+0100 + k in byte order. */
static void byte_to_unicode(uint32_t map[256])
{
    int b, k = 0;
    for (b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        map[b] = printable ? (uint32_t)b : (uint32_t)(256 + k++);
    }
}

/* Decodes a GPT-2-spelled string to bytes (out has room for n bytes);
 * -1 when a character is outside the alphabet. */
static long unicode_to_bytes(const uint32_t map[256], const char *s, size_t n,
                             unsigned char *out)
{
    size_t i = 0;
    long m = 0;
    while (i < n) {
        uint32_t cp;
        int len = lr_utf8_decode((const unsigned char *)s + i, n - i, &cp), b;
        if (len <= 0) return -1;
        for (b = 0; b < 256 && map[b] != cp; b++) {}
        if (b == 256) return -1;
        out[m++] = (unsigned char)b;
        i += (size_t)len;
    }
    return m;
}

static const lr_gguf_kv *array_kv(const lr_gguf *g, const char *key, lr_gguf_vtype type,
                                  int required, lr_error *err, int *bad)
{
    const lr_gguf_kv *kv = lr_gguf_find_kv(g, key);
    *bad = 0;
    if (!kv) {
        if (required) {
            *bad = 1;
            lr_fail(err, "%s: missing metadata \"%s\"", g->path, key);
        }
        return NULL;
    }
    if (kv->type != LR_GGUF_ARRAY || kv->arr_type != type) {
        *bad = 1;
        lr_fail(err, "%s: metadata \"%s\" is not an array of %s", g->path, key,
                lr_gguf_vtype_name(type));
        return NULL;
    }
    return kv;
}

static int pre_kind(const char *pre, int *kind, int *ignore_merges)
{
    static const char *const llama3[] = {"llama-bpe", "llama3", "llama-v3", "smaug-bpe",
                                         "falcon3", "pixtral"};
    static const char *const gpt2[] = {"gpt-2", "mpt", "olmo", "jais"};
    static const char *const smollm[] = {"smollm", "starcoder", "refact", "command-r",
                                         "codeshell", "exaone"};
    size_t i;
    for (i = 0; i < sizeof llama3 / sizeof llama3[0]; i++)
        if (!strcmp(pre, llama3[i])) {
            *kind = LR_PRE_LLAMA3;
            *ignore_merges = 1; /* llama.cpp: whole pieces first for Llama 3 */
            return 0;
        }
    for (i = 0; i < sizeof gpt2 / sizeof gpt2[0]; i++)
        if (!strcmp(pre, gpt2[i])) {
            *kind = LR_PRE_GPT2;
            *ignore_merges = 0;
            return 0;
        }
    for (i = 0; i < sizeof smollm / sizeof smollm[0]; i++)
        if (!strcmp(pre, smollm[i])) {
            *kind = LR_PRE_SMOLLM;
            *ignore_merges = 0;
            return 0;
        }
    return -1;
}

static int load_gpt2(const lr_gguf *g, lr_tokenizer *tok, lr_error *err)
{
    const lr_gguf_kv *tokens, *types, *merges;
    const char *pre = "default";
    uint32_t map[256];
    unsigned char *buf = NULL;
    size_t i, maxlen = 0, total = 0;
    int bad, rc = -1;
    int64_t id;
    long prev = -1;
    if (lr_gguf_get_str(g, "tokenizer.ggml.pre", &pre, err) < 0) return -1;
    if (pre_kind(pre, &tok->pre, &tok->ignore_merges))
        return lr_fail(err, "%s: tokenizer.ggml.pre \"%.60s\" is not supported (llamaref "
                       "implements llama-bpe, smollm and gpt-2 splits)", g->path, pre);
    tokens = array_kv(g, "tokenizer.ggml.tokens", LR_GGUF_STRING, 1, err, &bad);
    if (bad) return -1;
    types = array_kv(g, "tokenizer.ggml.token_type", LR_GGUF_INT32, 0, err, &bad);
    if (bad) return -1;
    merges = array_kv(g, "tokenizer.ggml.merges", LR_GGUF_STRING, 1, err, &bad);
    if (bad) return -1;
    if (types && types->n != tokens->n)
        return lr_fail(err, "%s: tokenizer.ggml.token_type has %lu entries, tokens %lu",
                       g->path, (unsigned long)types->n, (unsigned long)tokens->n);
    byte_to_unicode(map);
    for (i = 0; i < tokens->n; i++) {
        if (tokens->str_lens[i] > maxlen) maxlen = tokens->str_lens[i];
        total += tokens->str_lens[i]; /* all in the file: no overflow */
    }
    for (i = 0; i < merges->n; i++)
        if (merges->str_lens[i] > maxlen) maxlen = merges->str_lens[i];
    buf = lr_alloc(maxlen + 1, 1, "token bytes", err);
    tok->merge_pairs = calloc(1, sizeof *tok->merge_pairs);
    if (!buf || !tok->merge_pairs ||
        /* a token's bytes are at most its string's (one byte per GPT-2
         * character, control tokens as they are): room for the file's
         * tokens, never more than the file */
        lr_vocab_reserve(&tok->bpe, tokens->n, total, err) ||
        lr_vocab_reserve(tok->merge_pairs, merges->n, 8 * merges->n, err)) {
        if (!tok->merge_pairs) lr_fail(err, "out of memory");
        goto done;
    }
    for (i = 0; i < tokens->n; i++) {
        int type = types ? (int)types->nums_i[i] : TT_NORMAL;
        const char *s = tokens->strs[i];
        size_t n = tokens->str_lens[i];
        long blen = unicode_to_bytes(map, s, n, buf);
        if (blen < 0) {
            if (type == TT_NORMAL || type == TT_BYTE) {
                lr_fail(err, "%s: token %lu \"%.60s\" is not in GPT-2's byte alphabet", g->path,
                        (unsigned long)i, s);
                goto done;
            }
            memcpy(buf, s, n); /* control / user tokens are plain text */
            blen = (long)n;
        }
        if (lr_vocab_add(&tok->bpe, buf, (size_t)blen, err)) {
            lr_fail_prefix(err, "%s: tokenizer.ggml.tokens[%lu]", g->path, (unsigned long)i);
            goto done;
        }
        if ((type == TT_CONTROL || type == TT_USER) && blen > 0 &&
            lr_tokenizer_add_special(tok, (const char *)buf, (size_t)blen, (int32_t)i, err)) {
            lr_fail_prefix(err, "%s: tokenizer.ggml.tokens[%lu]", g->path, (unsigned long)i);
            goto done;
        }
    }
    for (i = 0; i < merges->n; i++) {
        const char *m = merges->strs[i], *sp = memchr(m, ' ', merges->str_lens[i]);
        long la, lb;
        int32_t a, b, r;
        unsigned char key[8];
        if (!sp) goto bad_merge;
        la = unicode_to_bytes(map, m, (size_t)(sp - m), buf);
        lb = la < 0 ? -1 : unicode_to_bytes(map, sp + 1, merges->str_lens[i] - (size_t)(sp - m) - 1,
                                            buf + la);
        if (la <= 0 || lb <= 0) goto bad_merge;
        a = lr_vocab_find(&tok->bpe, buf, (size_t)la);
        b = lr_vocab_find(&tok->bpe, buf + la, (size_t)lb);
        r = lr_vocab_find(&tok->bpe, buf, (size_t)(la + lb));
        if (a < 0 || b < 0 || r < 0) {
            lr_fail(err, "%s: tokenizer.ggml.merges[%lu] \"%.60s\": a part or the result is not a "
                    "token", g->path, (unsigned long)i, m);
            goto done;
        }
        if (r < prev) {
            lr_fail(err, "%s: tokenizer.ggml.merges[%lu] \"%.60s\" makes token %ld after token "
                    "%ld: merge order is not id order (unsupported)", g->path, (unsigned long)i,
                    m, (long)r, prev);
            goto done;
        }
        prev = r;
        lr_put_le32(key, (uint32_t)a);
        lr_put_le32(key + 4, (uint32_t)b);
        if (lr_vocab_find(tok->merge_pairs, key, 8) >= 0) continue; /* listed twice */
        if (lr_vocab_add(tok->merge_pairs, key, 8, err)) goto done;
        continue;
    bad_merge:
        lr_fail(err, "%s: tokenizer.ggml.merges[%lu] \"%.60s\" is not \"left right\" over GPT-2's "
                "byte alphabet", g->path, (unsigned long)i, m);
        goto done;
    }
    tok->bpe.merge_pairs = tok->merge_pairs;
    if (lr_tokenizer_finish(tok, g->path, err)) goto done;
    tok->bos_id = tok->eos_id = -1;
    if (lr_gguf_get_int(g, "tokenizer.ggml.bos_token_id", &id, err) == 0 && id >= 0 &&
        (size_t)id < tok->vocab_size)
        tok->bos_id = (int32_t)id;
    if (lr_gguf_get_int(g, "tokenizer.ggml.eos_token_id", &id, err) == 0 && id >= 0 &&
        (size_t)id < tok->vocab_size)
        tok->eos_id = (int32_t)id;
    {
        /* add_bos_token false (SmolLM): encoding never prepends a BOS, as
         * llama.cpp and HF do for this file */
        const lr_gguf_kv *kv = lr_gguf_find_kv(g, "tokenizer.ggml.add_bos_token");
        if (kv && kv->type == LR_GGUF_BOOL && !kv->i) tok->bos_id = -1;
    }
    rc = 0;
done:
    free(buf);
    return rc;
}

/* llama (SentencePiece): the llama2.c tokenizer.bin image of the same
 * vocabulary (scores, U+2581 as a space), read by sentencepiece.c. */
static int load_llama(const lr_gguf *g, lr_tokenizer *tok, lr_error *err)
{
    const lr_gguf_kv *tokens, *scores;
    lr_buf img = {0};
    size_t i, maxlen = 0;
    unsigned char b4[4];
    int bad, rc;
    tokens = array_kv(g, "tokenizer.ggml.tokens", LR_GGUF_STRING, 1, err, &bad);
    if (bad) return -1;
    scores = array_kv(g, "tokenizer.ggml.scores", LR_GGUF_FLOAT32, 1, err, &bad);
    if (bad) return -1;
    if (scores->n != tokens->n)
        return lr_fail(err, "%s: tokenizer.ggml.scores has %lu entries, tokens %lu", g->path,
                       (unsigned long)scores->n, (unsigned long)tokens->n);
    for (i = 0; i < tokens->n; i++)
        if (tokens->str_lens[i] > maxlen) maxlen = tokens->str_lens[i];
    lr_put_le32(b4, (uint32_t)maxlen);
    lr_buf_append(&img, b4, 4);
    for (i = 0; i < tokens->n; i++) {
        const char *s = tokens->strs[i];
        size_t n = tokens->str_lens[i], j;
        lr_buf t = {0};
        for (j = 0; j < n; j++) {
            if (j + 2 < n && (unsigned char)s[j] == 0xE2 && (unsigned char)s[j + 1] == 0x96 &&
                (unsigned char)s[j + 2] == 0x81) {
                lr_buf_append(&t, " ", 1);
                j += 2;
            } else {
                lr_buf_append(&t, s + j, 1);
            }
        }
        lr_put_le32(b4, lr_f32_to_bits((float)scores->nums_f[i]));
        lr_buf_append(&img, b4, 4);
        lr_put_le32(b4, (uint32_t)t.len);
        lr_buf_append(&img, b4, 4);
        lr_buf_append(&img, t.data, t.len);
        lr_buf_free(&t);
    }
    if (img.oom) {
        lr_buf_free(&img);
        return lr_fail(err, "%s: out of memory", g->path);
    }
    tok->format = LR_TOK_LLAMA2C;
    rc = lr_sp_load_buffer((const unsigned char *)img.data, img.len, g->path, &tok->sp, err);
    lr_buf_free(&img);
    if (rc) return -1;
    tok->vocab_size = tok->sp.vocab.n;
    tok->bos_id = tok->sp.bos_id;
    tok->eos_id = tok->sp.eos_id;
    return 0;
}

int lr_tokenizer_from_gguf(const lr_gguf *g, lr_tokenizer *tok, lr_error *err)
{
    const char *model = NULL;
    int rc;
    memset(tok, 0, sizeof *tok);
    lr_vocab_init(&tok->bpe);
    lr_vocab_init(&tok->specials);
    tok->bos_id = tok->eos_id = -1;
    rc = lr_gguf_get_str(g, "tokenizer.ggml.model", &model, err);
    if (rc < 0) return -1;
    if (rc == 1) return lr_fail(err, "%s: no tokenizer (metadata \"tokenizer.ggml.model\" is "
                                "missing)", g->path);
    tok->format = LR_TOK_GGUF;
    if (!strcmp(model, "gpt2")) rc = load_gpt2(g, tok, err);
    else if (!strcmp(model, "llama")) rc = load_llama(g, tok, err);
    else rc = lr_fail(err, "%s: tokenizer.ggml.model \"%.60s\" is not supported (gpt2, llama)",
                      g->path, model);
    if (rc == 0) tok->path = lr_strdup(g->path, err);
    if (rc == 0 && tok->path) {
        const char *ct = NULL;
        if (lr_gguf_get_str(g, "tokenizer.chat_template", &ct, err) == 0) {
            tok->chat_template = lr_strdup(ct, err);
            if (!tok->chat_template) rc = -1;
        }
    }
    if (rc || !tok->path) {
        lr_tokenizer_free(tok);
        return -1;
    }
    return 0;
}

int lr_tokenizer_load_gguf(const char *path, lr_tokenizer *tok, lr_error *err)
{
    lr_gguf *g;
    int rc;
    memset(tok, 0, sizeof *tok);
    if (lr_gguf_open(path, &g, err)) return -1;
    rc = lr_tokenizer_from_gguf(g, tok, err);
    lr_gguf_free(g);
    return rc;
}

/* ---- writing ---- */

/* The GPT-2 spelling of bytes b[0..n) appended to out. */
static void spell(const uint32_t map[256], const unsigned char *b, size_t n, lr_buf *out)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char u[4];
        int k = lr_utf8_encode(map[b[i]], u);
        lr_buf_append(out, u, (size_t)k);
    }
}

/* SentencePiece (a llama2.c tokenizer.bin, or a "llama" GGUF read back)
 * as "llama", laid out as convert_hf_to_gguf writes a tokenizer.model:
 * each piece with U+2581 for a space (llama2.c stored BOS and EOS as
 * "\n<s>\n", "\n</s>\n": the piece is between the newlines), its score,
 * its type (normal 1, unknown 2, control 3, byte 6), rows past the
 * vocabulary as "[PAD<id>]" (unused, score -1000), the special ids, BOS
 * added, EOS not.  test_gguf checks the bytes against gguf-py's file. */
static int to_gguf_spm(const lr_tokenizer *tok, const lr_config *cfg, lr_gguf_writer *w,
                       lr_error *err)
{
    const lr_sp *sp = &tok->sp;
    size_t V = (size_t)cfg->vocab_size, i;
    char **strs = lr_zalloc(V ? V : 1, sizeof *strs, "token strings", err);
    size_t *lens = lr_zalloc(V ? V : 1, sizeof *lens, "token lengths", err);
    float *scores = lr_zalloc(V ? V : 1, sizeof *scores, "token scores", err);
    int32_t *types = lr_zalloc(V ? V : 1, sizeof *types, "token types", err);
    int rc = -1;
    if (!strs || !lens || !scores || !types) goto done;
    for (i = 0; i < V; i++) {
        lr_buf b = {0};
        if (i < sp->vocab.n) {
            size_t len, j;
            const unsigned char *t = lr_vocab_bytes(&sp->vocab, i, &len);
            if (sp->kind[i] == LR_SP_CONTROL && len > 2 && t[0] == '\n' && t[len - 1] == '\n') {
                t++;
                len -= 2;
            }
            for (j = 0; j < len; j++) {
                if (t[j] == ' ') lr_buf_append(&b, "\xe2\x96\x81", 3);
                else lr_buf_append(&b, t + j, 1);
            }
            scores[i] = sp->scores[i];
            types[i] = sp->kind[i] == LR_SP_BYTE      ? TT_BYTE
                       : sp->kind[i] == LR_SP_CONTROL ? TT_CONTROL
                       : sp->kind[i] == LR_SP_UNKNOWN ? TT_UNKNOWN
                                                      : TT_NORMAL;
        } else {
            lr_buf_printf(&b, "[PAD%lu]", (unsigned long)i);
            scores[i] = -1000.0f;
            types[i] = TT_UNUSED;
        }
        if (b.oom) {
            lr_buf_free(&b);
            lr_fail(err, "out of memory");
            goto done;
        }
        if (!b.data) { /* an empty piece */
            b.data = calloc(1, 1);
            if (!b.data) {
                lr_fail(err, "out of memory");
                goto done;
            }
        }
        strs[i] = b.data;
        lens[i] = b.len;
    }
    if (lr_gguf_writer_str(w, "tokenizer.ggml.model", "llama", err) ||
        lr_gguf_writer_str(w, "tokenizer.ggml.pre", "default", err) ||
        lr_gguf_writer_str_array(w, "tokenizer.ggml.tokens", (const char *const *)strs, lens, V,
                                 err) ||
        lr_gguf_writer_f32_array(w, "tokenizer.ggml.scores", scores, V, err) ||
        lr_gguf_writer_i32_array(w, "tokenizer.ggml.token_type", types, V, err) ||
        (sp->bos_id >= 0 &&
         lr_gguf_writer_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)sp->bos_id, err)) ||
        (sp->eos_id >= 0 &&
         lr_gguf_writer_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)sp->eos_id, err)) ||
        (sp->unk_id >= 0 &&
         lr_gguf_writer_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)sp->unk_id, err)) ||
        lr_gguf_writer_bool(w, "tokenizer.ggml.add_bos_token", tok->bos_id >= 0, err) ||
        lr_gguf_writer_bool(w, "tokenizer.ggml.add_eos_token", 0, err))
        goto done;
    rc = 0;
done:
    for (i = 0; strs && i < V; i++) free(strs[i]);
    free(strs);
    free(lens);
    free(scores);
    free(types);
    return rc;
}

/* Appends merge m (its bytes, now owned by the list) to the list. */
static int push_merge(char ***strs, size_t **lens, size_t *cap, size_t *n, lr_buf *m,
                      lr_error *err)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 4096;
        char **p = realloc(*strs, c * sizeof *p);
        size_t *q;
        if (p) *strs = p;
        q = realloc(*lens, c * sizeof *q);
        if (q) *lens = q;
        if (!p || !q) return lr_fail(err, "out of memory");
        *cap = c;
    }
    (*strs)[*n] = m->data;
    (*lens)[(*n)++] = m->len;
    return 0;
}

/* Byte-level BPE (tiktoken, tokenizer.json, bpe-train) as "gpt2".  Merges
 * are every split of each token into two tokens (what tiktoken's merging
 * can join), ordered by the merged token's id, so that llama.cpp's
 * listed-merges BPE gives tiktoken's result; a tokenizer read from a GGUF
 * keeps its own merges (the pairs it merges, in their order), its
 * add_bos_token and its chat template, so that it is written back as it
 * encodes. */
int lr_tokenizer_to_gguf(const lr_tokenizer *tok, const lr_config *cfg, lr_gguf_writer *w,
                         lr_error *err)
{
    uint32_t map[256];
    size_t V = (size_t)cfg->vocab_size, i, n_merges = 0;
    char **strs = NULL, **mstrs = NULL;
    size_t *lens = NULL, *mlens = NULL, mcap = 0;
    int32_t *types = NULL;
    unsigned char *special = NULL;
    int rc = -1;
    if (tok->vocab_size > V)
        return lr_fail(err, "export-gguf: tokenizer has %lu tokens, the model's vocab_size is %lu",
                       (unsigned long)tok->vocab_size, (unsigned long)V);
    if (tok->format == LR_TOK_LLAMA2C) return to_gguf_spm(tok, cfg, w, err);
    byte_to_unicode(map);
    strs = lr_zalloc(V, sizeof *strs, "token strings", err);
    lens = lr_zalloc(V, sizeof *lens, "token lengths", err);
    types = lr_zalloc(V, sizeof *types, "token types", err);
    special = lr_zalloc(V ? V : 1, 1, "special-token marks", err);
    if (!strs || !lens || !types || !special) goto done;
    /* special tokens inside the BPE vocabulary (a tokenizer read from a
     * GGUF keeps its control tokens there): control tokens, as plain text */
    for (i = 0; i < tok->specials.n; i++)
        if (tok->special_ids[i] >= 0 && (size_t)tok->special_ids[i] < tok->bpe.n &&
            (size_t)tok->special_ids[i] < V)
            special[tok->special_ids[i]] = 1;
    for (i = 0; i < V; i++) {
        lr_buf b = {0};
        size_t len;
        const unsigned char *s;
        if (i < tok->bpe.n && special[i]) {
            s = lr_vocab_bytes(&tok->bpe, i, &len);
            lr_buf_append(&b, s, len);
            types[i] = TT_CONTROL;
        } else if (i < tok->bpe.n) {
            s = lr_vocab_bytes(&tok->bpe, i, &len);
            spell(map, s, len, &b);
            types[i] = TT_NORMAL;
        } else {
            int32_t k = tok->id_to_special ? tok->id_to_special[i - tok->bpe.n] : -1;
            if (k >= 0) {
                s = lr_vocab_bytes(&tok->specials, (size_t)k, &len);
                lr_buf_append(&b, s, len);
                types[i] = TT_CONTROL;
            } else { /* padding rows of the embedding: unused placeholders */
                lr_buf_printf(&b, "[PAD%lu]", (unsigned long)i);
                types[i] = TT_UNUSED;
            }
        }
        if (b.oom || !b.data) {
            lr_buf_free(&b);
            lr_fail(err, "out of memory");
            goto done;
        }
        strs[i] = b.data;
        lens[i] = b.len;
    }
    /* merges: the listed pairs of a GGUF's tokenizer, in order */
    for (i = 0; tok->merge_pairs && i < tok->merge_pairs->n; i++) {
        size_t klen, la, lb;
        const unsigned char *key = lr_vocab_bytes(tok->merge_pairs, i, &klen);
        uint32_t a = lr_le32(key), b = lr_le32(key + 4);
        const unsigned char *sa = lr_vocab_bytes(&tok->bpe, a, &la);
        const unsigned char *sb = lr_vocab_bytes(&tok->bpe, b, &lb);
        lr_buf m = {0};
        spell(map, sa, la, &m);
        lr_buf_append(&m, " ", 1);
        spell(map, sb, lb, &m);
        if (m.oom ? lr_fail(err, "out of memory")
                  : push_merge(&mstrs, &mlens, &mcap, &n_merges, &m, err)) {
            lr_buf_free(&m);
            goto done;
        }
    }
    /* otherwise, for each multi-byte token, every split into two tokens */
    for (i = 256; !tok->merge_pairs && i < tok->bpe.n && i < V; i++) {
        size_t len, k;
        const unsigned char *s = lr_vocab_bytes(&tok->bpe, i, &len);
        for (k = 1; k < len && !special[i]; k++) {
            int32_t a = lr_vocab_find(&tok->bpe, s, k), b = lr_vocab_find(&tok->bpe, s + k, len - k);
            lr_buf m = {0};
            if (a < 0 || b < 0 || special[a] || special[b]) continue;
            spell(map, s, k, &m);
            lr_buf_append(&m, " ", 1);
            spell(map, s + k, len - k, &m);
            if (m.oom ? lr_fail(err, "out of memory")
                      : push_merge(&mstrs, &mlens, &mcap, &n_merges, &m, err)) {
                lr_buf_free(&m);
                goto done;
            }
        }
    }
    if (lr_gguf_writer_str(w, "tokenizer.ggml.model", "gpt2", err) ||
        lr_gguf_writer_str(w, "tokenizer.ggml.pre",
                           tok->pre == LR_PRE_SMOLLM ? "smollm"
                           : tok->pre == LR_PRE_GPT2 ? "gpt-2" : "llama-bpe", err) ||
        lr_gguf_writer_str_array(w, "tokenizer.ggml.tokens", (const char *const *)strs, lens, V,
                                 err) ||
        lr_gguf_writer_i32_array(w, "tokenizer.ggml.token_type", types, V, err) ||
        lr_gguf_writer_str_array(w, "tokenizer.ggml.merges", (const char *const *)mstrs, mlens,
                                 n_merges, err))
        goto done;
    if (cfg->bos_token_id >= 0 &&
        lr_gguf_writer_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)cfg->bos_token_id, err))
        goto done;
    if (cfg->n_eos &&
        lr_gguf_writer_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)cfg->eos_token_ids[0], err))
        goto done;
    /* a GGUF's add_bos_token = false (SmolLM2) was read as bos_id -1 */
    if (lr_gguf_writer_bool(w, "tokenizer.ggml.add_bos_token",
                            cfg->bos_token_id >= 0 && tok->bos_id >= 0, err))
        goto done;
    if (tok->chat_template &&
        lr_gguf_writer_str(w, "tokenizer.chat_template", tok->chat_template, err))
        goto done;
    rc = 0;
done:
    for (i = 0; strs && i < V; i++) free(strs[i]);
    for (i = 0; i < n_merges; i++) free(mstrs[i]);
    free(strs);
    free(lens);
    free(types);
    free(special);
    free(mstrs);
    free(mlens);
    return rc;
}
