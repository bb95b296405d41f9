/* test_sentencepiece.c - llama2.c tokenizer.bin files (SentencePiece BPE):
 *  - the 5 published Llama 2 cases (../shared/assets/llama2/cases.json)
 *  - vectors/tokenizer/llama2_cases.json: encode and decode goldens from
 *    python3-sentencepiece loading Meta's Llama 2 tokenizer.model
 *  - stories260K's tok512 decodes the published greedy sample
 *  - truncated / corrupted files give errors naming the offset. */
#include "harness.h"
#include "llamaref/core/json.h"
#include "llamaref/tokenizer/tokenizer.h"

static int ids_equal(const lr_tokens *t, size_t skip, const lr_json *ids)
{
    size_t i;
    if (!ids || ids->type != LR_JSON_ARRAY || ids->len != t->n - skip) return 0;
    for (i = 0; i < ids->len; i++)
        if (ids->items[i].integer != t->ids[skip + i]) return 0;
    return 1;
}

static void test_llama2_published(void)
{
    const char *tp = h_asset("llama2/tokenizer.bin"), *cp = h_asset("llama2/cases.json");
    lr_tokenizer tok;
    lr_json_doc *doc;
    lr_error err;
    lr_tokens ids = {0};
    const lr_json *cases;
    size_t i;
    if (!tp || !cp) SKIP("llama2/tokenizer.bin or cases.json not found in $LLAMAREF_ASSETS (README.md: Getting the assets)");
    CHECK_OK(lr_tokenizer_load(tp, &tok, &err), &err);
    CHECK_OK(lr_json_parse_file(cp, &doc, &err), &err);
    CHECK_INT(tok.format, LR_TOK_LLAMA2C);
    CHECK_INT(tok.vocab_size, 32000);
    CHECK_INT(tok.bos_id, 1);
    cases = lr_json_get(lr_json_root(doc), "cases");
    CHECK(cases && cases->len == 5);
    for (i = 0; cases && i < cases->len; i++) {
        const lr_json *t = lr_json_get(&cases->items[i], "text");
        ids.n = 0;
        CHECK_OK(lr_tokenizer_encode(&tok, t->str, t->len, LR_ENCODE_BOS, &ids, &err), &err);
        CHECK(ids_equal(&ids, 0, lr_json_get(&cases->items[i], "ids")));
    }
    lr_tokens_free(&ids);
    lr_json_free(doc);
    lr_tokenizer_free(&tok);
}

static void test_llama2_sentencepiece_vectors(void)
{
    const char *tp = h_asset("llama2/tokenizer.bin");
    lr_tokenizer tok;
    lr_json_doc *doc;
    lr_error err;
    lr_tokens ids = {0};
    lr_buf out = {0};
    const lr_json *enc, *dec;
    size_t i, bad = 0, bad_dec = 0;
    if (!tp) SKIP("llama2/tokenizer.bin not found in $LLAMAREF_ASSETS (README.md: Getting the assets)");
    CHECK_OK(lr_tokenizer_load(tp, &tok, &err), &err);
    if (lr_json_parse_file("vectors/tokenizer/llama2_cases.json", &doc, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        CHECK(0);
        lr_tokenizer_free(&tok);
        return;
    }
    enc = lr_json_get(lr_json_root(doc), "encode");
    dec = lr_json_get(lr_json_root(doc), "decode");
    CHECK(enc && enc->len >= 500 && dec && dec->len >= 200);
    for (i = 0; enc && i < enc->len; i++) {
        const lr_json *t = lr_json_get(&enc->items[i], "text");
        ids.n = 0;
        if (lr_tokenizer_encode(&tok, t->str, t->len, 0, &ids, &err) ||
            !ids_equal(&ids, 0, lr_json_get(&enc->items[i], "ids"))) {
            if (bad++ < 5) fprintf(stderr, "encode differs on case %zu: \"%.60s\"\n", i, t->str);
        }
    }
    for (i = 0; dec && i < dec->len; i++) {
        const lr_json *a = lr_json_get(&dec->items[i], "ids"), *t = lr_json_get(&dec->items[i], "text");
        size_t k;
        ids.n = 0;
        out.len = 0;
        for (k = 0; k < a->len; k++) lr_tokens_push(&ids, (int32_t)a->items[k].integer, &err);
        if (lr_tokenizer_decode(&tok, ids.ids, ids.n, &out, &err) || out.len != t->len ||
            (t->len && memcmp(out.data, t->str, t->len))) {
            if (bad_dec++ < 5) fprintf(stderr, "decode differs on case %zu: \"%.60s\"\n", i, t->str);
        }
    }
    CHECK_INT(bad, 0);
    CHECK_INT(bad_dec, 0);
    CHECK_ERR(lr_tokenizer_decode(&tok, (const int32_t[]){32000}, 1, &out, &err), &err, "out of range");
    CHECK_ERR(lr_tokenizer_decode(&tok, (const int32_t[]){-5}, 1, &out, &err), &err, "out of range");
    lr_tokens_free(&ids);
    lr_buf_free(&out);
    lr_json_free(doc);
    lr_tokenizer_free(&tok);
}

static void test_tok512_greedy_sample(void)
{
    const char *tp = h_asset("stories260K/tok512.bin"), *gp = h_asset("stories260K/greedy_first64.json");
    lr_tokenizer tok;
    lr_json_doc *doc;
    lr_error err;
    lr_tokens ids = {0}, again = {0};
    lr_buf out = {0}, stream = {0};
    lr_stream_decoder d;
    const lr_json *g, *start;
    size_t i;
    if (!tp || !gp) SKIP("stories260K/tok512.bin or greedy_first64.json not found (README.md: Getting the assets)");
    CHECK_OK(lr_tokenizer_load(tp, &tok, &err), &err);
    CHECK_INT(tok.vocab_size, 512);
    CHECK_OK(lr_json_parse_file(gp, &doc, &err), &err);
    g = lr_json_get(lr_json_root(doc), "greedy_next_tokens_first64");
    start = lr_json_get(lr_json_root(doc), "text_start");
    CHECK(g && g->len == 64 && start);
    if (!g || !start) return;
    lr_tokens_push(&ids, 1, &err);
    for (i = 0; i < g->len; i++) lr_tokens_push(&ids, (int32_t)g->items[i].integer, &err);
    CHECK_OK(lr_tokenizer_decode(&tok, ids.ids, ids.n, &out, &err), &err);
    CHECK(out.len >= start->len && !memcmp(out.data, start->str, start->len));
    lr_stream_decoder_init(&d, &tok);
    for (i = 0; i < ids.n; i++) CHECK_OK(lr_stream_decoder_push(&d, ids.ids[i], &stream, &err), &err);
    CHECK_OK(lr_stream_decoder_flush(&d, &stream, &err), &err);
    CHECK(stream.len == out.len && !memcmp(stream.data, out.data, out.len));
    /* encoding the sample text reproduces the model's own tokens */
    CHECK_OK(lr_tokenizer_encode(&tok, start->str, start->len, LR_ENCODE_BOS, &again, &err), &err);
    CHECK(again.n > 10 && again.n <= ids.n && !memcmp(again.ids, ids.ids, again.n * sizeof *ids.ids));
    lr_tokens_free(&ids);
    lr_tokens_free(&again);
    lr_buf_free(&out);
    lr_buf_free(&stream);
    lr_json_free(doc);
    lr_tokenizer_free(&tok);
}

static void test_corrupt_tokenizer_bin(void)
{
    const char *tp = h_asset("stories260K/tok512.bin");
    lr_tokenizer tok;
    lr_error err;
    char *data;
    size_t len;
    if (!tp) SKIP("stories260K/tok512.bin not found (README.md: Getting the assets)");
    if (lr_read_file(tp, &data, &len, &err)) {
        CHECK(0);
        return;
    }
    CHECK_ERR(lr_tokenizer_load_buffer(data, 3, "t", &tok, &err), &err, "truncated");
    CHECK_ERR(lr_tokenizer_load_buffer(data, len - 1, "t", &tok, &err), &err, "t: token 511");
    CHECK_ERR(lr_tokenizer_load_buffer(data, len / 2, "t", &tok, &err), &err, "byte offset");
    data[4 + 4 + 2] = 0x7F; /* the first token's length becomes huge */
    CHECK_ERR(lr_tokenizer_load_buffer(data, len, "t", &tok, &err), &err, "token 0 at byte offset 4");
    free(data);
}

int main(void)
{
    RUN(test_llama2_published);
    RUN(test_llama2_sentencepiece_vectors);
    RUN(test_tok512_greedy_sample);
    RUN(test_corrupt_tokenizer_bin);
    return h_finish("sentencepiece");
}
