/* test_bpe_train.c - the BPE trainer (bpe_train.h) against
 *  - two tiny corpora whose merges are worked out by hand below,
 *  - vectors/bpe/corpus_*.model and .merges from vectors/gen/bpe_train_ref.py, an
 *    independent naive Python trainer (full recount per merge, the `regex`
 *    module's Llama 3 split) on vectors/bpe/corpus.txt,
 * and the trained vocabulary loaded by the tokenizer: special-token ids
 * after the learned tokens and exact encode/decode round trips; and
 * lr_bpe_train_file (corpus file in, tiktoken file out). */
#include "harness.h"

#include "llamaref/tokenizer/bpe_train.h"
#include "llamaref/tokenizer/tokenizer.h"

#define CORPUS "vectors/bpe/corpus.txt"

static int train(const char *text, size_t n, size_t vocab_size, size_t max_bytes,
                 lr_bpe_trained *tr)
{
    lr_bpe_train_opts o;
    lr_error err;
    o.vocab_size = vocab_size;
    o.max_token_bytes = max_bytes;
    if (lr_bpe_train(text, n, &o, tr, &err)) {
        fprintf(stderr, "lr_bpe_train: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void check_merge(const lr_bpe_trained *tr, size_t i, uint32_t l, uint32_t r,
                        uint32_t res, uint64_t count, const char *bytes)
{
    size_t len;
    const unsigned char *p;
    CHECK(i < tr->n_merges);
    if (i >= tr->n_merges) return;
    CHECK_INT(tr->merges[i].left, l);
    CHECK_INT(tr->merges[i].right, r);
    CHECK_INT(tr->merges[i].result, res);
    CHECK_INT(tr->merges[i].count, count);
    p = lr_vocab_bytes(&tr->vocab, res, &len);
    CHECK(len == strlen(bytes) && memcmp(p, bytes, len) == 0);
}

/* "low lower lowest low" splits into "low", " lower", " lowest", " low".
 * Pair counts: (l,o) 4, (o,w) 4, (' ',l) 3, (w,e) 2, (e,r) (e,s) (s,t) 1.
 *  1. (l,o) and (o,w) tie at 4: smaller left id 'l'=108 wins -> 256 "lo"
 *  2. (256,'w') 4                                   -> 257 "low"
 *  3. (' ',257) 3                                   -> 258 " low"
 *  4. words: [257] [258 e r] [258 e s t] [258]: (258,'e') 2 -> 259 " lowe"
 *  5. (259,'r') (259,'s') ('s','t') all 1: smallest left 's'=115 -> 260 "st"
 *  6. (259,'r'=114) vs (259,260): smaller right      -> 261 " lower"
 *  7. (259,260)                                       -> 262 " lowest"
 * then no pair is left: 263 tokens although 300 were asked for. */
static void test_hand_example_low(void)
{
    static const char text[] = "low lower lowest low";
    lr_bpe_trained tr;
    if (train(text, sizeof text - 1, 300, 0, &tr)) { CHECK(0); return; }
    CHECK_INT(tr.n_pieces, 4);
    CHECK_INT(tr.n_words, 4);
    CHECK_INT(tr.n_merges, 7);
    CHECK_INT(tr.vocab.n, 263);
    check_merge(&tr, 0, 'l', 'o', 256, 4, "lo");
    check_merge(&tr, 1, 256, 'w', 257, 4, "low");
    check_merge(&tr, 2, ' ', 257, 258, 3, " low");
    check_merge(&tr, 3, 258, 'e', 259, 2, " lowe");
    check_merge(&tr, 4, 's', 't', 260, 1, "st");
    check_merge(&tr, 5, 259, 'r', 261, 1, " lower");
    check_merge(&tr, 6, 259, 260, 262, 1, " lowest");
    lr_bpe_trained_free(&tr);
    /* vocab_size stops early: exactly the first 3 merges */
    if (train(text, sizeof text - 1, 259, 0, &tr)) { CHECK(0); return; }
    CHECK_INT(tr.vocab.n, 259);
    CHECK_INT(tr.n_merges, 3);
    lr_bpe_trained_free(&tr);
}

/* "aaaaa" is one piece.  (a,a) occurs 4 times (overlaps count) -> 256 "aa";
 * left to right the piece becomes [aa aa a]: (256,256) and (256,'a') both 1,
 * same left, smaller right 'a'=97 -> 257 "aaa": [aa aaa] -> (256,257) -> 258.
 * With max_token_bytes 3 the last merge (5 bytes) is not allowed, so the
 * vocabulary stops at 258. */
static void test_hand_example_overlap(void)
{
    lr_bpe_trained tr;
    if (train("aaaaa", 5, 1000, 0, &tr)) { CHECK(0); return; }
    CHECK_INT(tr.n_merges, 3);
    check_merge(&tr, 0, 'a', 'a', 256, 4, "aa");
    check_merge(&tr, 1, 256, 'a', 257, 1, "aaa");
    check_merge(&tr, 2, 256, 257, 258, 1, "aaaaa");
    lr_bpe_trained_free(&tr);
    if (train("aaaaa", 5, 1000, 3, &tr)) { CHECK(0); return; }
    CHECK_INT(tr.n_merges, 2);
    CHECK_INT(tr.vocab.n, 258);
    lr_bpe_trained_free(&tr);
    /* an empty corpus: the 256 bytes and nothing else */
    if (train("", 0, 1000, 0, &tr)) { CHECK(0); return; }
    CHECK_INT(tr.vocab.n, 256);
    CHECK_INT(tr.n_merges, 0);
    lr_bpe_trained_free(&tr);
}

static void test_python_vectors(void)
{
    static const struct { const char *name; size_t vocab, max_bytes; } cases[] = {
        {"corpus_v700", 700, 128}, {"corpus_v500_max4", 500, 4}};
    char *text, *want;
    size_t len, want_len, c, i;
    lr_error err;
    if (lr_read_file(CORPUS, &text, &len, &err)) { CHECK_OK(-1, &err); return; }
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lr_bpe_trained tr;
        lr_buf got = {0};
        char path[256];
        if (train(text, len, cases[c].vocab, cases[c].max_bytes, &tr)) { CHECK(0); continue; }
        CHECK_INT(tr.vocab.n, cases[c].vocab);
        for (i = 0; i < tr.vocab.n; i++) {
            size_t l;
            lr_vocab_bytes(&tr.vocab, i, &l);
            CHECK(l <= cases[c].max_bytes);
        }
        snprintf(path, sizeof path, "vectors/bpe/%s.model", cases[c].name);
        CHECK_OK(lr_bpe_write_tiktoken(&tr.vocab, &got, &err), &err);
        if (lr_read_file(path, &want, &want_len, &err) == 0) {
            CHECK_INT(got.len, want_len);
            CHECK(got.len == want_len && memcmp(got.data, want, want_len) == 0);
            free(want);
        } else {
            CHECK_OK(-1, &err);
        }
        got.len = 0;
        for (i = 0; i < tr.n_merges; i++)
            lr_buf_printf(&got, "%lu %lu %lu %lu\n", (unsigned long)tr.merges[i].left,
                          (unsigned long)tr.merges[i].right, (unsigned long)tr.merges[i].result,
                          (unsigned long)tr.merges[i].count);
        snprintf(path, sizeof path, "vectors/bpe/%s.merges", cases[c].name);
        if (lr_read_file(path, &want, &want_len, &err) == 0) {
            CHECK_INT(got.len, want_len);
            CHECK(got.len == want_len && memcmp(got.data, want, want_len) == 0);
            free(want);
        } else {
            CHECK_OK(-1, &err);
        }
        lr_buf_free(&got);
        lr_bpe_trained_free(&tr);
    }
    free(text);
}

static void round_trip(const lr_tokenizer *tok, const char *text, size_t n, unsigned flags)
{
    lr_tokens ids = {0};
    lr_buf out = {0};
    lr_error err;
    CHECK_OK(lr_tokenizer_encode(tok, text, n, flags, &ids, &err), &err);
    CHECK_OK(lr_tokenizer_decode(tok, ids.ids, ids.n, &out, &err), &err);
    CHECK_INT(out.len, n);
    if (out.len != n || (n && memcmp(out.data, text, n) != 0)) {
        fprintf(stderr, "round trip differs for \"%.*s\"\n", (int)n, text);
        CHECK(0);
    }
    lr_tokens_free(&ids);
    lr_buf_free(&out);
}

static void test_tokenizer_loads_trained(void)
{
    static const char *const texts[] = {
        "Where was Marela Tovin born? Answer: Quessar",
        "Completely unseen words: zyxwvut, qqqq, Xylophone99!",
        "Ünïcödé, Русский, 日本語, 😀👍🏽, \xE2\x80\x94 and tabs\tand\r\nCRLF\n\n\n",
        "numbers 1234567890 and 3.14159 and   spaces   ",
        "ill-formed UTF-8: \xFF\xC3( \xE2\x82 end",
        "I'LL say it's THEY'RE",
        "<|eot_id|> as plain text",
    };
    char *text;
    size_t len, i;
    lr_error err;
    lr_bpe_trained tr;
    lr_buf file = {0};
    lr_tokenizer tok;
    lr_tokens ids = {0};
    if (lr_read_file(CORPUS, &text, &len, &err)) { CHECK_OK(-1, &err); return; }
    if (train(text, len, 600, 0, &tr)) { CHECK(0); free(text); return; }
    CHECK_OK(lr_bpe_write_tiktoken(&tr.vocab, &file, &err), &err);
    if (lr_tokenizer_load_buffer(file.data, file.len, "trained", &tok, &err)) {
        CHECK_OK(-1, &err);
        goto out;
    }
    CHECK_INT(tok.format, LR_TOK_TIKTOKEN);
    CHECK_INT(tok.bpe.n, 600);
    CHECK_INT(tok.vocab_size, 600 + 256);
    CHECK_INT(tok.bos_id, 600);
    CHECK_INT(tok.eos_id, 601);
    CHECK_INT(lr_tokenizer_special_id(&tok, "<|start_header_id|>"), 606);
    CHECK_INT(lr_tokenizer_special_id(&tok, "<|eot_id|>"), 609);
    CHECK_INT(lr_tokenizer_special_id(&tok, "<|reserved_special_token_247|>"), 855);
    for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        round_trip(&tok, texts[i], strlen(texts[i]), 0);
        round_trip(&tok, texts[i], strlen(texts[i]), LR_ENCODE_SPECIAL);
    }
    round_trip(&tok, text, len, 0);
    /* the whole training corpus compresses (merges are used) */
    CHECK_OK(lr_tokenizer_encode(&tok, text, len, 0, &ids, &err), &err);
    CHECK(ids.n < len * 2 / 3);
    /* a frequent piece of the corpus is a single token: the one trained */
    ids.n = 0;
    CHECK_OK(lr_tokenizer_encode(&tok, " Tovin", 6, 0, &ids, &err), &err);
    CHECK_INT(ids.n, 1);
    if (ids.n == 1) CHECK_INT(ids.ids[0], lr_vocab_find(&tr.vocab, " Tovin", 6));
    /* special-token strings are parsed into the ids after the learned ones */
    ids.n = 0;
    CHECK_OK(lr_tokenizer_encode(&tok, "a<|eot_id|>", 11, LR_ENCODE_SPECIAL | LR_ENCODE_BOS,
                                 &ids, &err), &err);
    CHECK_INT(ids.n, 3);
    if (ids.n == 3) {
        CHECK_INT(ids.ids[0], 600);
        CHECK_INT(ids.ids[1], 'a');
        CHECK_INT(ids.ids[2], 609);
    }
    lr_tokenizer_free(&tok);
out:
    lr_tokens_free(&ids);
    lr_buf_free(&file);
    lr_bpe_trained_free(&tr);
    free(text);
}

static void test_errors(void)
{
    lr_bpe_train_opts o;
    lr_bpe_trained tr;
    lr_error err;
    o.vocab_size = 255;
    o.max_token_bytes = 0;
    CHECK_ERR(lr_bpe_train("abc", 3, &o, &tr, &err), &err, "vocab_size 255");
    o.vocab_size = 300;
    o.max_token_bytes = 1;
    CHECK_ERR(lr_bpe_train("abc", 3, &o, &tr, &err), &err, "max_token_bytes 1");
}

/* lr_bpe_train_file: the file it writes is lr_bpe_write_tiktoken's text
 * of lr_bpe_train on the corpus; a missing corpus is named, no file left */
static void test_file(void)
{
    static const char corpus[] = "low lower lowest low low newer newest";
    lr_bpe_train_opts o;
    lr_bpe_trained tr, ref;
    lr_buf want = {0};
    lr_error err;
    char *got = NULL;
    size_t len = 0, got_len = 0;
    double seconds = -1;
    o.vocab_size = 270;
    o.max_token_bytes = 0;
    CHECK_OK(lr_write_file_atomic(h_tmp("bpe_corpus.txt"), corpus, sizeof corpus - 1, &err),
             &err);
    CHECK_OK(lr_bpe_train_file(h_tmp("bpe_corpus.txt"), h_tmp("bpe_file.model"), &o, &tr,
                               &len, &seconds, &err), &err);
    CHECK_INT(len, sizeof corpus - 1);
    CHECK(seconds >= 0);
    CHECK_OK(lr_bpe_train(corpus, sizeof corpus - 1, &o, &ref, &err), &err);
    CHECK_INT(tr.vocab.n, ref.vocab.n);
    CHECK_OK(lr_bpe_write_tiktoken(&ref.vocab, &want, &err), &err);
    CHECK_OK(lr_read_file(h_tmp("bpe_file.model"), &got, &got_len, &err), &err);
    CHECK(got && want.data && got_len == want.len && !memcmp(got, want.data, got_len));
    free(got);
    lr_buf_free(&want);
    lr_bpe_trained_free(&ref);
    lr_bpe_trained_free(&tr);
    CHECK_ERR(lr_bpe_train_file(h_tmp("bpe_missing.txt"), h_tmp("bpe_none.model"), &o, &tr,
                                &len, &seconds, &err), &err, "bpe_missing.txt");
    CHECK(lr_read_file(h_tmp("bpe_none.model"), &got, &got_len, NULL) == -1); /* no file */
}

int main(void)
{
    RUN(test_hand_example_low);
    RUN(test_hand_example_overlap);
    RUN(test_python_vectors);
    RUN(test_tokenizer_loads_trained);
    RUN(test_errors);
    RUN(test_file);
    return h_finish("bpe_train");
}
