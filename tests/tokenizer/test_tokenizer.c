/* test_tokenizer.c - the Llama 3 tokenizer against independent goldens:
 *  - vectors/tokenizer/llama3_pretokenize.json: splits by Python `regex`
 *  - vectors/tokenizer/unicode_classes.txt: every code point's class, from
 *    the regex engines of tiktoken and HF tokenizers
 *  - vectors/tokenizer/llama3_cases.json: ids by llama3-tokenizer-js (incl.
 *    the 46 llama.cpp cases), from the tiktoken file AND from a Hugging Face
 *    tokenizer.json that this test writes from it (an independent converter
 *    below, after transformers' TikTokenConverter)
 * plus UTF-8 edge cases, the two BPE merge loops against each other, a 1 MB
 * piece, special tokens, streaming decoding and corrupted files.
 * Needs $LLAMAREF_ASSETS/llama3/tokenizer.model (skips without it). */
#include <stdint.h>

#include "harness.h"
#include "llamaref/tokenizer/bpe.h"
#include "llamaref/core/json.h"
#include "llamaref/tokenizer/pretokenize.h"
#include "llamaref/tokenizer/tokenizer.h"
#include "llamaref/tokenizer/unicode.h"

static const char *vocab_path(void)
{
    return h_asset("llama3/tokenizer.model");
}

/* One shared tiktoken tokenizer (loaded once; NULL when the asset is missing). */
static lr_tokenizer g_tok;
static int g_tok_state; /* 0 not tried, 1 loaded, -1 missing/failed */

static const lr_tokenizer *llama3(void)
{
    lr_error err;
    if (g_tok_state == 0) {
        g_tok_state = -1;
        if (vocab_path()) {
            if (lr_tokenizer_load(vocab_path(), &g_tok, &err) == 0) g_tok_state = 1;
            else fprintf(stderr, "loading %s: %s\n", vocab_path(), err.msg);
        }
    }
    return g_tok_state == 1 ? &g_tok : NULL;
}

static int ids_equal(const lr_tokens *t, const lr_json *ids)
{
    size_t i;
    if (!ids || ids->type != LR_JSON_ARRAY || ids->len != t->n) return 0;
    for (i = 0; i < t->n; i++)
        if (ids->items[i].integer != t->ids[i]) return 0;
    return 1;
}

static void test_utf8(void)
{
    static const struct {
        const char *s;
        size_t n;
        int len;
        uint32_t cp;
    } cases[] = {
        {"A", 1, 1, 0x41}, {"\xC3\xA9", 2, 2, 0xE9}, {"\xE2\x82\xAC", 3, 3, 0x20AC},
        {"\xF0\x9F\xA6\x99", 4, 4, 0x1F999}, {"\xF4\x8F\xBF\xBF", 4, 4, 0x10FFFF},
        {"\x80", 1, 0, 0}, {"\xC0\xAF", 2, 0, 0}, {"\xC1\xBF", 2, 0, 0},   /* overlong */
        {"\xE0\x80\xAF", 3, 0, 0}, {"\xF0\x80\x80\xAF", 4, 0, 0},          /* overlong */
        {"\xED\xA0\x80", 3, 0, 0}, {"\xED\xBF\xBF", 3, 0, 0},              /* surrogates */
        {"\xF4\x90\x80\x80", 4, 0, 0}, {"\xF5\x80\x80\x80", 4, 0, 0},      /* > U+10FFFF */
        {"\xFF", 1, 0, 0}, {"\xE2\x82", 2, 0, 0}, {"\xC3", 1, 0, 0},       /* truncated */
        {"\xE2\x28\xA1", 3, 0, 0}, {"\xED\x9F\xBF", 3, 3, 0xD7FF}, {"\xEE\x80\x80", 3, 3, 0xE000},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t cp = 0;
        int len = lr_utf8_decode((const unsigned char *)cases[i].s, cases[i].n, &cp);
        CHECK_INT(len, cases[i].len);
        if (len) CHECK_INT(cp, cases[i].cp);
    }
    /* incomplete tails: held back by the streaming decoder */
    CHECK_INT(lr_utf8_incomplete_tail((const unsigned char *)"ab\xF0\x9F\xA6", 5), 3);
    CHECK_INT(lr_utf8_incomplete_tail((const unsigned char *)"ab\xF0\x9F", 4), 2);
    CHECK_INT(lr_utf8_incomplete_tail((const unsigned char *)"ab\xF0", 3), 1);
    CHECK_INT(lr_utf8_incomplete_tail((const unsigned char *)"ab\xF0\x9F\xA6\x99", 6), 0);
    CHECK_INT(lr_utf8_incomplete_tail((const unsigned char *)"ab\xC3", 3), 1);
    CHECK_INT(lr_utf8_incomplete_tail((const unsigned char *)"ab\xE0\x80", 4), 0); /* never valid */
    CHECK_INT(lr_utf8_incomplete_tail((const unsigned char *)"ab\xED\xA0", 4), 0); /* surrogate */
    CHECK_INT(lr_utf8_incomplete_tail((const unsigned char *)"\x80\x80\x80", 3), 0);
    CHECK_INT(lr_utf8_incomplete_tail((const unsigned char *)"ab\xFF", 3), 0);
    CHECK_INT(lr_utf8_incomplete_tail((const unsigned char *)"", 0), 0);
}

static void test_unicode_classes(void)
{
    CHECK_STR(lr_unicode_version, "16.0.0");
    CHECK_INT(lr_uc_class('a'), LR_UC_LETTER);
    CHECK_INT(lr_uc_class(0x01C5), LR_UC_LETTER); /* Lt */
    CHECK_INT(lr_uc_class(0x02B0), LR_UC_LETTER); /* Lm */
    CHECK_INT(lr_uc_class(0x4E00), LR_UC_LETTER); /* CJK range start */
    CHECK_INT(lr_uc_class(0x9FFF), LR_UC_LETTER); /* CJK range end (Unicode 14+) */
    CHECK_INT(lr_uc_class(0xAC00), LR_UC_LETTER); /* Hangul range */
    CHECK_INT(lr_uc_class(0x31350), LR_UC_LETTER); /* CJK Ext H (Unicode 15.0) */
    CHECK_INT(lr_uc_class(0x2EE20), LR_UC_LETTER); /* CJK Ext I (Unicode 15.1) */
    CHECK_INT(lr_uc_class(0x143B1), LR_UC_LETTER); /* Egyptian Hieroglyphs Ext-A (16.0) */
    CHECK_INT(lr_uc_class(0x16D70), LR_UC_NUMBER); /* Kirat Rai digit zero (16.0) */
    CHECK_INT(lr_uc_class(0x0301), LR_UC_OTHER);  /* Mn is not \p{L} */
    CHECK_INT(lr_uc_class('7'), LR_UC_NUMBER);
    CHECK_INT(lr_uc_class(0x00B2), LR_UC_NUMBER); /* No */
    CHECK_INT(lr_uc_class(0x2163), LR_UC_NUMBER); /* Nl */
    CHECK_INT(lr_uc_class(0x0663), LR_UC_NUMBER); /* Nd */
    CHECK_INT(lr_uc_class(' '), LR_UC_SPACE);
    CHECK_INT(lr_uc_class(0x85), LR_UC_SPACE);
    CHECK_INT(lr_uc_class(0xA0), LR_UC_SPACE);
    CHECK_INT(lr_uc_class(0x3000), LR_UC_SPACE);
    CHECK_INT(lr_uc_class(0x1C), LR_UC_OTHER);
    CHECK_INT(lr_uc_class(0xFEFF), LR_UC_OTHER);
    CHECK_INT(lr_uc_class(0x200B), LR_UC_OTHER);
    CHECK_INT(lr_uc_class(0x180E), LR_UC_OTHER);
    CHECK_INT(lr_uc_class(0x10FFFF), LR_UC_OTHER);
}

/* Every code point against vectors/tokenizer/unicode_classes.txt, the
 * classes tiktoken's and HF tokenizers' regex engines give (written and
 * re-checked against both by vectors/gen/oracle_text.py classes). */
static void test_unicode_class_file(void)
{
    FILE *f = fopen("vectors/tokenizer/unicode_classes.txt", "r");
    char line[128];
    unsigned long lo, hi, next = 0, cp, bad = 0, first_bad = 0;
    int lineno = 0, ok = 1;
    CHECK(f != NULL);
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        char c;
        int want;
        lineno++;
        if (line[0] == '#') continue;
        if (sscanf(line, "%lx %lx %c", &lo, &hi, &c) != 3 || lo != next || hi < lo ||
            hi > 0x10FFFF || !strchr("LNSO", c)) {
            fprintf(stderr, "unicode_classes.txt:%d: bad range line\n", lineno);
            ok = 0;
            break;
        }
        want = c == 'L' ? LR_UC_LETTER : c == 'N' ? LR_UC_NUMBER :
               c == 'S' ? LR_UC_SPACE : LR_UC_OTHER;
        for (cp = lo; cp <= hi; cp++) {
            if (cp >= 0xD800 && cp < 0xE000) continue; /* never decoded */
            if (lr_uc_class((uint32_t)cp) != want) {
                if (!bad) first_bad = cp;
                bad++;
            }
        }
        next = hi + 1;
    }
    fclose(f);
    CHECK(ok);
    CHECK_INT(next, 0x110000);
    if (bad) fprintf(stderr, "lr_uc_class differs from tiktoken/HF at %lu code points, "
                     "first U+%04lX\n", bad, first_bad);
    CHECK_INT(bad, 0);
}

static void test_pretokenize_vectors(void)
{
    lr_json_doc *doc;
    lr_error err;
    const lr_json *cases;
    size_t i, bad = 0;
    if (lr_json_parse_file("vectors/tokenizer/llama3_pretokenize.json", &doc, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        CHECK(0);
        return;
    }
    cases = lr_json_get(lr_json_root(doc), "cases");
    CHECK(cases && cases->len >= 600);
    for (i = 0; cases && i < cases->len; i++) {
        const lr_json *text = lr_json_get(&cases->items[i], "text");
        const lr_json *pieces = lr_json_get(&cases->items[i], "pieces");
        size_t pos = 0, k = 0, ok = 1;
        while (pos < text->len) {
            size_t end = lr_pretokenize_next(text->str, text->len, pos);
            if (k >= pieces->len || end - pos != pieces->items[k].len ||
                memcmp(text->str + pos, pieces->items[k].str, end - pos)) {
                ok = 0;
                break;
            }
            pos = end;
            k++;
        }
        if (!ok || k != pieces->len) {
            if (bad++ < 5) fprintf(stderr, "pre-tokenizer differs on case %zu: \"%s\" (piece %zu)\n", i, text->str, k);
        }
    }
    CHECK_INT(bad, 0);
    lr_json_free(doc);
}

/* Splits s and compares with the expected pieces (NULL-terminated list). */
static int split_is(const char *s, size_t n, const char *const *want)
{
    size_t pos = 0, k = 0;
    while (pos < n) {
        size_t end = lr_pretokenize_next(s, n, pos);
        if (!want[k] || strlen(want[k]) != end - pos || memcmp(want[k], s + pos, end - pos)) return 0;
        pos = end;
        k++;
    }
    return want[k] == NULL;
}

static void test_pretokenize_invalid_utf8(void)
{
    /* An ill-formed byte is a one-byte "other" character (like U+FFFD). */
    static const char *const a[] = {"a", "\xFF" "b", NULL};
    static const char *const b[] = {"x", " \xFF\xFE\n", "y", NULL};
    static const char *const c[] = {"\xED\xA0\x80", NULL}; /* UTF-8 encoded surrogate */
    static const char *const d[] = {"ok", "\xC3", NULL};    /* truncated at the end */
    static const char *const e[] = {"'\xC5", NULL};         /* half of U+017F: no contraction */
    static const char *const f[] = {"1", "\x80", "2", NULL};
    CHECK(split_is("a\xFF" "b", 3, a));
    CHECK(split_is("x \xFF\xFE\ny", 6, b));
    CHECK(split_is("\xED\xA0\x80", 3, c));
    CHECK(split_is("ok\xC3", 3, d));
    CHECK(split_is("'\xC5", 2, e));
    CHECK(split_is("1\x80" "2", 3, f));
}

/* Runs every llama3 case through tok: ids and decode round trip. */
static void check_llama3_cases(const lr_tokenizer *tok)
{
    lr_json_doc *doc;
    lr_error err;
    const lr_json *cases;
    lr_tokens ids = {0};
    lr_buf text = {0};
    size_t i, bad = 0, bad_rt = 0;
    if (lr_json_parse_file("vectors/tokenizer/llama3_cases.json", &doc, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        CHECK(0);
        return;
    }
    cases = lr_json_get(lr_json_root(doc), "cases");
    CHECK(cases && cases->len >= 900);
    for (i = 0; cases && i < cases->len; i++) {
        const lr_json *c = &cases->items[i];
        const lr_json *t = lr_json_get(c, "text");
        unsigned flags = lr_json_get(c, "special")->type == LR_JSON_TRUE ? LR_ENCODE_SPECIAL : 0;
        ids.n = 0;
        text.len = 0;
        if (lr_tokenizer_encode(tok, t->str, t->len, flags, &ids, &err) || !ids_equal(&ids, lr_json_get(c, "ids"))) {
            if (bad++ < 5) fprintf(stderr, "ids differ: %s\n", lr_json_get(c, "name")->str);
            continue;
        }
        if (lr_tokenizer_decode(tok, ids.ids, ids.n, &text, &err) || text.len != t->len ||
            (t->len && memcmp(text.data, t->str, t->len)))
            bad_rt++;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(bad_rt, 0);
    lr_tokens_free(&ids);
    lr_buf_free(&text);
    lr_json_free(doc);
}

static void test_llama3_vectors_tiktoken(void)
{
    const lr_tokenizer *tok = llama3();
    if (!tok) SKIP("llama3/tokenizer.model not found in $LLAMAREF_ASSETS (README.md: Getting the assets)");
    CHECK_INT(tok->format, LR_TOK_TIKTOKEN);
    CHECK_INT(tok->vocab_size, 128256);
    check_llama3_cases(tok);
}

/* ---- an independent tiktoken -> tokenizer.json converter ---- */

static int gpt2_char(int b) /* GPT-2 bytes_to_unicode */
{
    int n = 0, x;
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) return b;
    for (x = 0; x < b; x++)
        if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) n++;
    return 256 + n;
}

static void put_gpt2(lr_buf *b, const unsigned char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int c = gpt2_char(s[i]);
        if (c == '"' || c == '\\') lr_buf_printf(b, "\\%c", c);
        else if (c < 0x80) lr_buf_printf(b, "%c", c);
        else lr_buf_printf(b, "%c%c", 0xC0 | (c >> 6), 0x80 | (c & 0x3F));
    }
}

typedef struct merge {
    int32_t rank, left, right;
    uint32_t split;
} merge;

static int merge_cmp(const void *a, const void *b)
{
    const merge *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    if (x->left != y->left) return x->left < y->left ? -1 : 1;
    return x->right < y->right ? -1 : x->right > y->right;
}

/* Writes a tokenizer.json for the vocabulary of tok (as transformers'
 * TikTokenConverter does: merges = every split of a token into two tokens,
 * ordered by (rank, left rank, right rank)). */
static int write_hf_json(const lr_tokenizer *tok, const char *path)
{
    static const char *const names[11] = {"<|begin_of_text|>", "<|end_of_text|>",
        "<|reserved_special_token_0|>", "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>",
        "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>",
        "<|eot_id|>", "<|python_tag|>"};
    static const char pattern[] =
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
        " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    lr_buf b = {0};
    lr_error err;
    merge *m = NULL;
    size_t nm = 0, cap = 0, i, k;
    int rc;
    lr_buf_puts(&b, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[");
    for (k = 0; k < 256; k++) {
        char name[64];
        if (k < 11) snprintf(name, sizeof name, "%s", names[k]);
        else snprintf(name, sizeof name, "<|reserved_special_token_%d|>", (int)k - 8);
        lr_buf_printf(&b, "%s{\"id\":%d,\"content\":\"%s\",\"single_word\":false,\"lstrip\":false,"
                          "\"rstrip\":false,\"normalized\":false,\"special\":true}",
                      k ? "," : "", 128000 + (int)k, name);
    }
    lr_buf_puts(&b, "],\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
                    "{\"type\":\"Split\",\"pattern\":{\"Regex\":");
    lr_json_write_string(&b, pattern, strlen(pattern));
    lr_buf_puts(&b, "},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                    "\"trim_offsets\":true,\"use_regex\":false}]},\"post_processor\":null,"
                    "\"decoder\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true},"
                    "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,"
                    "\"end_of_word_suffix\":null,\"fuse_unk\":false,\"byte_fallback\":false,\"ignore_merges\":true,\"vocab\":{");
    for (i = 0; i < tok->bpe.n; i++) {
        size_t len, s;
        const unsigned char *t = lr_vocab_bytes(&tok->bpe, i, &len);
        lr_buf_puts(&b, i ? ",\"" : "\"");
        put_gpt2(&b, t, len);
        lr_buf_printf(&b, "\":%zu", i);
        for (s = 1; s < len; s++) {
            int32_t l = lr_vocab_find(&tok->bpe, t, s), r = lr_vocab_find(&tok->bpe, t + s, len - s);
            if (l < 0 || r < 0) continue;
            if (nm == cap) {
                cap = cap ? 2 * cap : 4096;
                m = realloc(m, cap * sizeof *m);
                if (!m) return -1;
            }
            m[nm].rank = (int32_t)i;
            m[nm].left = l;
            m[nm].right = r;
            m[nm].split = (uint32_t)s;
            nm++;
        }
    }
    qsort(m, nm, sizeof *m, merge_cmp);
    lr_buf_puts(&b, "},\"merges\":[");
    for (i = 0; i < nm; i++) {
        size_t len;
        const unsigned char *t = lr_vocab_bytes(&tok->bpe, (size_t)m[i].rank, &len);
        lr_buf_puts(&b, i ? ",\"" : "\"");
        put_gpt2(&b, t, m[i].split);
        lr_buf_puts(&b, " ");
        put_gpt2(&b, t + m[i].split, len - m[i].split);
        lr_buf_puts(&b, "\"");
    }
    lr_buf_puts(&b, "]}}\n");
    free(m);
    if (b.oom) return -1;
    rc = lr_write_file_atomic(path, b.data, b.len, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    fprintf(stderr, "wrote %s: %zu bytes, %zu merges\n", path, b.len, nm);
    lr_buf_free(&b);
    return rc;
}

/* A small tokenizer.json: the 256 bytes (id = byte value) and merges given
 * as [a, b] pairs ("a b" strings in the big test above). */
static int small_hf_json(lr_buf *b, const char *merges, const char *regex, lr_tokenizer *t,
                         lr_error *err)
{
    static const char pattern[] =
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
        " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    int i;
    b->len = 0;
    lr_buf_puts(b, "{\"added_tokens\":[{\"id\":260,\"content\":\"<|x|>\",\"special\":true}],"
                   "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":");
    lr_json_write_string(b, regex ? regex : pattern, strlen(regex ? regex : pattern));
    lr_buf_puts(b, "}},\"model\":{\"type\":\"BPE\",\"vocab\":{");
    for (i = 0; i < 256; i++) {
        unsigned char c = (unsigned char)i;
        lr_buf_puts(b, "\"");
        put_gpt2(b, &c, 1);
        lr_buf_printf(b, "\":%d,", i);
    }
    lr_buf_puts(b, "\"ab\":256,\"abc\":257,\"bc\":258,\"\xC4\xA0\x61\":259},\"merges\":");
    lr_buf_puts(b, merges);
    lr_buf_puts(b, "}}");
    return lr_tokenizer_load_buffer(b->data, b->len, "small.json", t, err);
}

static void test_hf_json_small(void)
{
    lr_buf b = {0};
    lr_tokenizer t;
    lr_tokens ids = {0};
    lr_buf out = {0};
    lr_error err;
    /* merges as [a, b] pairs; ignore_merges absent, so false */
    CHECK_OK(small_hf_json(&b, "[[\"a\",\"b\"],[\"ab\",\"c\"],[\"b\",\"c\"],[\"\xC4\xA0\",\"a\"]]", NULL, &t, &err), &err);
    if (t.format == LR_TOK_HF_JSON) {
        CHECK_INT(t.vocab_size, 261);
        CHECK_INT(t.ignore_merges, 0);
        CHECK_OK(lr_tokenizer_encode(&t, "abcab a<|x|>", 12, LR_ENCODE_SPECIAL, &ids, &err), &err);
        CHECK_INT(ids.n, 4);
        if (ids.n == 4) {
            CHECK_INT(ids.ids[0], 257); /* "abcab": ab+c -> abc, then ab */
            CHECK_INT(ids.ids[1], 256);
            CHECK_INT(ids.ids[2], 259); /* " a" */
            CHECK_INT(ids.ids[3], 260);
        }
        CHECK_OK(lr_tokenizer_decode(&t, ids.ids, ids.n, &out, &err), &err);
        CHECK(out.len == 12 && !memcmp(out.data, "abcab a<|x|>", 12));
        lr_tokenizer_free(&t);
    }
    CHECK_ERR(small_hf_json(&b, "[\"ab c\",\"a b\"]", NULL, &t, &err), &err, "not in rank order");
    CHECK_ERR(small_hf_json(&b, "[\"a c\"]", NULL, &t, &err), &err, "merged token is not in the vocabulary");
    CHECK_ERR(small_hf_json(&b, "[\"abc\"]", NULL, &t, &err), &err, "merge 0");
    CHECK_ERR(small_hf_json(&b, "[]", "\\s+|\\w+", &t, &err), &err, "Llama 3 regex");
    lr_buf_free(&b);
    lr_buf_free(&out);
    lr_tokens_free(&ids);
}

static void test_llama3_vectors_hf_json(void)
{
    const lr_tokenizer *tok = llama3();
    const char *path = h_tmp("llama3_tokenizer.json");
    lr_tokenizer hf;
    lr_error err;
    if (!tok) SKIP("llama3/tokenizer.model not found in $LLAMAREF_ASSETS (README.md: Getting the assets)");
    CHECK_INT(write_hf_json(tok, path), 0);
    if (lr_tokenizer_load(path, &hf, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        CHECK(0);
        return;
    }
    CHECK_INT(hf.format, LR_TOK_HF_JSON);
    CHECK_INT(hf.vocab_size, 128256);
    CHECK_INT(hf.ignore_merges, 1);
    CHECK_INT(lr_tokenizer_special_id(&hf, "<|eot_id|>"), 128009);
    check_llama3_cases(&hf);
    lr_tokenizer_free(&hf);
    remove(path);
}

/* Deterministic pseudo-random numbers for test inputs. */
static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void test_bpe_naive_vs_heap(void)
{
    static const char *const alpha[] = {"a", "e", "i", "o", "n", "s", "t", "r", "l", "in", "er",
                                        "\xC3\xA9", "\xD0\xB6", "\xE6\xBC\xA2", "\xF0\x9F\x98\x80",
                                        " ", "'", "1", "\xFF"};
    const lr_tokenizer *tok = llama3();
    lr_bpe_scratch s;
    lr_tokens a = {0}, b = {0};
    lr_error err;
    uint32_t seed = 42;
    unsigned char buf[512];
    int i, bad = 0;
    if (!tok) SKIP("llama3/tokenizer.model not found in $LLAMAREF_ASSETS (README.md: Getting the assets)");
    memset(&s, 0, sizeof s);
    for (i = 0; i < 3000; i++) {
        size_t n = 0, want = 1 + rnd(&seed) % (i < 2000 ? 40 : 400);
        while (n < want) {
            const char *p = alpha[rnd(&seed) % (sizeof alpha / sizeof alpha[0])];
            size_t l = strlen(p);
            if (n + l > sizeof buf) break;
            memcpy(buf + n, p, l);
            n += l;
        }
        a.n = b.n = 0;
        CHECK_OK(lr_bpe_merge_naive(&tok->bpe, buf, n, &s, &a, &err), &err);
        CHECK_OK(lr_bpe_merge_heap(&tok->bpe, buf, n, &s, &b, &err), &err);
        if (a.n != b.n || memcmp(a.ids, b.ids, a.n * sizeof *a.ids)) bad++;
    }
    CHECK_INT(bad, 0);
    /* " llamas" is not a token: llama3-tokenizer-js gives [9507, 29189] */
    a.n = 0;
    CHECK_OK(lr_bpe_merge_naive(&tok->bpe, (const unsigned char *)" llamas", 7, &s, &a, &err), &err);
    CHECK_INT(a.n, 2);
    if (a.n == 2) {
        CHECK_INT(a.ids[0], 9507);
        CHECK_INT(a.ids[1], 29189);
    }
    lr_bpe_scratch_free(&s);
    lr_tokens_free(&a);
    lr_tokens_free(&b);
}

static void test_long_piece(void)
{
    /* 1 MB of letters without a space is one piece: must be O(n log n). */
    const lr_tokenizer *tok = llama3();
    size_t n = 1 << 20, i;
    char *text;
    lr_tokens ids = {0};
    lr_buf back = {0};
    lr_error err;
    uint32_t seed = 7;
    if (!tok) SKIP("llama3/tokenizer.model not found in $LLAMAREF_ASSETS (README.md: Getting the assets)");
    text = malloc(n);
    CHECK(text != NULL);
    if (!text) return;
    for (i = 0; i < n; i++) text[i] = (char)('a' + rnd(&seed) % 26);
    CHECK(lr_pretokenize_next(text, n, 0) == n);
    CHECK_OK(lr_tokenizer_encode(tok, text, n, 0, &ids, &err), &err);
    CHECK(ids.n > n / 8 && ids.n < n); /* merged, but not into few tokens */
    CHECK_OK(lr_tokenizer_decode(tok, ids.ids, ids.n, &back, &err), &err);
    CHECK(back.len == n && !memcmp(back.data, text, n));
    /* the same text split into 100-byte words (spaces) agrees in bytes */
    free(text);
    lr_tokens_free(&ids);
    lr_buf_free(&back);
}

static void test_special_tokens(void)
{
    const lr_tokenizer *tok = llama3();
    lr_tokens ids = {0};
    lr_buf out = {0};
    lr_error err;
    int32_t bad_ids[3] = {128256, -1, 2000000000};
    int32_t one;
    if (!tok) SKIP("llama3/tokenizer.model not found in $LLAMAREF_ASSETS (README.md: Getting the assets)");
    CHECK_INT(tok->bos_id, 128000);
    CHECK_INT(tok->eos_id, 128001);
    CHECK_INT(lr_tokenizer_special_id(tok, "<|finetune_right_pad_id|>"), 128004);
    CHECK_INT(lr_tokenizer_special_id(tok, "<|reserved_special_token_2|>"), 128005);
    CHECK_INT(lr_tokenizer_special_id(tok, "<|start_header_id|>"), 128006);
    CHECK_INT(lr_tokenizer_special_id(tok, "<|end_header_id|>"), 128007);
    CHECK_INT(lr_tokenizer_special_id(tok, "<|eom_id|>"), 128008);
    CHECK_INT(lr_tokenizer_special_id(tok, "<|eot_id|>"), 128009);
    CHECK_INT(lr_tokenizer_special_id(tok, "<|python_tag|>"), 128010);
    CHECK_INT(lr_tokenizer_special_id(tok, "<|reserved_special_token_3|>"), 128011);
    CHECK_INT(lr_tokenizer_special_id(tok, "<|reserved_special_token_247|>"), 128255);
    CHECK_INT(lr_tokenizer_special_id(tok, "<|reserved_special_token_248|>"), -1);
    /* BOS/EOS flags; plain vs parsed special text */
    CHECK_OK(lr_tokenizer_encode(tok, "<|eot_id|>", 10, LR_ENCODE_BOS | LR_ENCODE_EOS | LR_ENCODE_SPECIAL,
                                 &ids, &err), &err);
    CHECK_INT(ids.n, 3);
    if (ids.n == 3) {
        CHECK_INT(ids.ids[0], 128000);
        CHECK_INT(ids.ids[1], 128009);
        CHECK_INT(ids.ids[2], 128001);
    }
    ids.n = 0;
    CHECK_OK(lr_tokenizer_encode(tok, "<|eot_id|>", 10, 0, &ids, &err), &err);
    CHECK(ids.n > 1);
    /* decoding: specials as text; out-of-range ids are errors */
    one = 128009;
    CHECK_OK(lr_tokenizer_decode(tok, &one, 1, &out, &err), &err);
    CHECK_STR(out.data, "<|eot_id|>");
    for (one = 0; one < 3; one++) CHECK_ERR(lr_tokenizer_decode(tok, &bad_ids[one], 1, &out, &err), &err, "out of range");
    lr_tokens_free(&ids);
    lr_buf_free(&out);
}

static void test_stream_decoder(void)
{
    /* "🦙 é" etc: tokens that split characters are held back until complete */
    static const char text[] = "I \xF0\x9F\xA6\x99 llamas \xE6\xBC\xA2\xE5\xAD\x97 \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD!";
    const lr_tokenizer *tok = llama3();
    lr_tokens ids = {0};
    lr_buf out = {0}, all = {0};
    lr_stream_decoder d;
    lr_error err;
    size_t i, prev = 0, pushes_held = 0;
    int32_t bad = 128300;
    if (!tok) SKIP("llama3/tokenizer.model not found in $LLAMAREF_ASSETS (README.md: Getting the assets)");
    CHECK_OK(lr_tokenizer_encode(tok, text, sizeof text - 1, 0, &ids, &err), &err);
    lr_stream_decoder_init(&d, tok);
    for (i = 0; i < ids.n; i++) {
        uint32_t cp;
        size_t p;
        CHECK_OK(lr_stream_decoder_push(&d, ids.ids[i], &out, &err), &err);
        if (out.len == prev) pushes_held++;
        /* what was emitted is always whole characters */
        for (p = 0; p < out.len;) {
            int l = lr_utf8_decode((const unsigned char *)out.data + p, out.len - p, &cp);
            CHECK(l > 0);
            if (l <= 0) break;
            p += (size_t)l;
        }
        prev = out.len;
    }
    CHECK(pushes_held > 0); /* some token ended inside a character */
    CHECK_OK(lr_stream_decoder_flush(&d, &out, &err), &err);
    CHECK_OK(lr_tokenizer_decode(tok, ids.ids, ids.n, &all, &err), &err);
    CHECK(out.len == sizeof text - 1 && !memcmp(out.data, text, out.len));
    CHECK(all.len == out.len && !memcmp(all.data, out.data, out.len));
    /* ill-formed bytes pass through; an error keeps the stream intact */
    out.len = 0;
    lr_stream_decoder_init(&d, tok);
    CHECK_ERR(lr_stream_decoder_push(&d, bad, &out, &err), &err, "out of range");
    ids.n = 0;
    CHECK_OK(lr_tokenizer_encode(tok, "\xF0\x9F" "a\xE6", 4, 0, &ids, &err), &err);
    for (i = 0; i < ids.n; i++) CHECK_OK(lr_stream_decoder_push(&d, ids.ids[i], &out, &err), &err);
    CHECK_OK(lr_stream_decoder_flush(&d, &out, &err), &err);
    CHECK(out.len == 4 && !memcmp(out.data, "\xF0\x9F" "a\xE6", 4));
    lr_tokens_free(&ids);
    lr_buf_free(&out);
    lr_buf_free(&all);
}

static void test_invalid_utf8_round_trip(void)
{
    /* random bytes: never a crash, always an exact round trip */
    const lr_tokenizer *tok = llama3();
    lr_tokens ids = {0};
    lr_buf out = {0};
    lr_error err;
    uint32_t seed = 99;
    char buf[300];
    int i, bad = 0;
    if (!tok) SKIP("llama3/tokenizer.model not found in $LLAMAREF_ASSETS (README.md: Getting the assets)");
    for (i = 0; i < 300; i++) {
        size_t n = rnd(&seed) % sizeof buf, k;
        for (k = 0; k < n; k++) {
            uint32_t r = rnd(&seed);
            buf[k] = (char)(r % 3 == 0 ? "a \n'1\xC3\xE2\x80\xF0"[r % 9] : (int)(r >> 4) & 0xFF);
        }
        ids.n = 0;
        out.len = 0;
        if (lr_tokenizer_encode(tok, buf, n, LR_ENCODE_SPECIAL, &ids, &err) ||
            lr_tokenizer_decode(tok, ids.ids, ids.n, &out, &err) || out.len != n ||
            (n && memcmp(out.data, buf, n)))
            bad++;
    }
    CHECK_INT(bad, 0);
    /* the documented example: "a\xFF" "b" splits as "a", "\xFF" "b" */
    ids.n = 0;
    CHECK_OK(lr_tokenizer_encode(tok, "a\xFF" "b", 3, 0, &ids, &err), &err);
    CHECK_INT(ids.n, 3);
    if (ids.n == 3) {
        CHECK_INT(ids.ids[0], 64);  /* "a" */
        CHECK_INT(ids.ids[1], 187); /* byte 0xFF: the single bytes come in GPT-2 order */
        CHECK_INT(ids.ids[2], 65);  /* "b" */
    }
    lr_tokens_free(&ids);
    lr_buf_free(&out);
}

static void test_corrupt_files(void)
{
    lr_tokenizer t;
    lr_error err;
    char *data;
    size_t len, cut;
    const char *path = vocab_path();
    static const char garbage[] = "\x7F" "ELF\x01\x02\x03 not a tokenizer at all";
    CHECK_ERR(lr_tokenizer_load("/nonexistent/tokenizer.model", &t, &err), &err, "cannot open");
    CHECK_ERR(lr_tokenizer_load_buffer("", 0, "e", &t, &err), &err, "e: empty file");
    CHECK_ERR(lr_tokenizer_load_buffer("IQ== 0\nIg== 1\n", 14, "tiny", &t, &err), &err, "lacks single bytes");
    CHECK_ERR(lr_tokenizer_load_buffer("IQ== 0\nI!== 1\n", 14, "badb64", &t, &err), &err, "badb64:2: invalid base64");
    CHECK_ERR(lr_tokenizer_load_buffer("IQ== 0\nIg== 7\n", 14, "badrank", &t, &err), &err, "badrank:2: rank 7");
    CHECK_ERR(lr_tokenizer_load_buffer("IQ== 0\nIQ== 1\n", 14, "dup", &t, &err), &err, "duplicate");
    CHECK_ERR(lr_tokenizer_load_buffer("{\"model\": {}}", 13, "j", &t, &err), &err, "model.type");
    CHECK_ERR(lr_tokenizer_load_buffer("{\"model\": ", 10, "j", &t, &err), &err, "j:1");
    CHECK_ERR(lr_tokenizer_load_buffer(garbage, sizeof garbage - 1, "garbage", &t, &err), &err, "garbage");
    if (!path) SKIP("llama3/tokenizer.model not found in $LLAMAREF_ASSETS (README.md: Getting the assets)");
    if (lr_read_file(path, &data, &len, &err)) {
        CHECK(0);
        return;
    }
    /* Truncated in the middle of a line (in base64 or in the rank): an
     * error naming the source.  Truncated at the end of a line: a smaller
     * vocabulary whose special tokens follow its last line, as Meta's
     * tokenizer.py numbers them (so this cannot be detected as damage). */
    for (cut = len / 3; cut < len / 3 + 80; cut += 7) {
        int whole_lines = data[cut - 1] == '\n' || data[cut] == '\n';
        size_t lines = 0, i;
        for (i = 0; i < cut; i++) lines += data[i] == '\n';
        lines += data[cut - 1] != '\n';
        if (!whole_lines) {
            CHECK(lr_tokenizer_load_buffer(data, cut, "cut", &t, &err) != 0);
            CHECK(strstr(err.msg, "cut") != NULL);
        } else if (lr_tokenizer_load_buffer(data, cut, "cut", &t, &err) == 0) {
            CHECK_INT(t.bpe.n, lines);
            CHECK_INT(t.bos_id, lines);
            CHECK_INT(t.vocab_size, lines + 256);
            lr_tokenizer_free(&t);
        } else {
            CHECK_OK(-1, &err);
        }
    }
    /* exactly at a line boundary */
    for (cut = len / 2; data[cut - 1] != '\n'; cut++) {}
    if (lr_tokenizer_load_buffer(data, cut, "cut", &t, &err) == 0) {
        CHECK(t.bpe.n < 128000);
        CHECK_INT(lr_tokenizer_special_id(&t, "<|eot_id|>"), (long)t.bpe.n + 9);
        lr_tokenizer_free(&t);
    } else {
        CHECK_OK(-1, &err);
    }
    /* a corrupted byte in the middle */
    data[len / 2] = '#';
    CHECK(lr_tokenizer_load_buffer(data, len, "corrupt", &t, &err) != 0);
    CHECK(strstr(err.msg, "corrupt:") != NULL);
    free(data);
}

int main(void)
{
    RUN(test_utf8);
    RUN(test_unicode_classes);
    RUN(test_unicode_class_file);
    RUN(test_pretokenize_vectors);
    RUN(test_pretokenize_invalid_utf8);
    RUN(test_llama3_vectors_tiktoken);
    RUN(test_llama3_vectors_hf_json);
    RUN(test_hf_json_small);
    RUN(test_bpe_naive_vs_heap);
    RUN(test_long_piece);
    RUN(test_special_tokens);
    RUN(test_stream_decoder);
    RUN(test_invalid_utf8_round_trip);
    RUN(test_corrupt_files);
    if (g_tok_state == 1) lr_tokenizer_free(&g_tok);
    return h_finish("tokenizer");
}
