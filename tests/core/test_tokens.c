/* test_tokens.c - tokens.h: the vector and its text form as the tokenize
 * and detokenize commands print and read it (spaces or a JSON array; ids
 * separated by any white space; a malformed id named by its byte), and the
 * id lists of the command line (commas too). */
#include "harness.h"

#include "llamaref/tokenizer/tokenizer.h"
#include "llamaref/core/tokens.h"

static void test_text_form(void)
{
    lr_tokens t = {0};
    lr_buf b = {0};
    lr_error err;
    static const char in[] = " 1\t-2\n 2147483647 \r\n";
    CHECK_OK(lr_tokens_parse(in, sizeof in - 1, &t, &err), &err);
    CHECK_INT(t.n, 3);
    if (t.n == 3) {
        CHECK_INT(t.ids[1], -2);
        CHECK_INT(t.ids[2], 2147483647);
    }
    lr_tokens_format(&b, &t, 0);
    CHECK_STR(b.data, "1 -2 2147483647\n");
    b.len = 0;
    lr_tokens_format(&b, &t, 1);
    CHECK_STR(b.data, "[1,-2,2147483647]\n");
    t.n = 0;
    b.len = 0;
    lr_tokens_format(&b, &t, 1);
    CHECK_STR(b.data, "[]\n");
    CHECK_ERR(lr_tokens_parse("1 2x 3", 6, &t, &err), &err, "invalid token id at byte 2");
    CHECK_ERR(lr_tokens_parse("1 2147483648", 12, &t, &err), &err, "at byte 2");
    CHECK_ERR(lr_tokens_parse("1,2", 3, &t, &err), &err, "at byte 0");
    lr_tokens_free(&t);
    lr_buf_free(&b);
}

/* the command line's lists (--ids): commas too, -2^31 allowed, the
 * malformed id's byte returned */
static void test_list_form(void)
{
    lr_tokens t = {0};
    lr_error err;
    size_t at = 0;
    CHECK_OK(lr_tokens_parse_list(" 1,2\t-2147483648\n,3 ", &t, &at, &err), &err);
    CHECK_INT(t.n, 4);
    if (t.n == 4) {
        CHECK_INT(t.ids[2], -2147483647 - 1);
        CHECK_INT(t.ids[3], 3);
    }
    t.n = 0;
    CHECK_ERR(lr_tokens_parse_list("1, 2x", &t, &at, &err), &err, "at byte 3");
    CHECK_INT(at, 3);
    CHECK_INT(lr_tokens_parse_list("1\r2", &t, &at, &err), -1); /* not a separator here */
    CHECK_INT(at, 0);
    CHECK_INT(lr_tokens_parse_list("2147483648", &t, &at, &err), -1);
    t.n = 0;
    CHECK_OK(lr_tokens_parse_list(" , ", &t, &at, &err), &err);
    CHECK_INT(t.n, 0);
    lr_tokens_free(&t);
}

/* lr_tokens_parse_ids: the list as an int array; empty and malformed
 * lists refused, the malformed one with its byte */
static void test_parse_ids(void)
{
    int *ids = NULL, n = 0;
    lr_error err;
    size_t at = 0;
    CHECK_OK(lr_tokens_parse_ids("7,-1 2147483647", &ids, &n, &at, &err), &err);
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_INT(ids[0], 7);
        CHECK_INT(ids[1], -1);
        CHECK_INT(ids[2], 2147483647);
    }
    free(ids);
    CHECK_ERR(lr_tokens_parse_ids(" , ", &ids, &n, &at, &err), &err, "empty id list");
    CHECK_INT(at, (size_t)-1);
    CHECK_INT(ids == NULL && n == 0, 1);
    CHECK_INT(lr_tokens_parse_ids("1 x", &ids, &n, &at, &err), -1);
    CHECK_INT(at, 2);
}

/* lr_tokenize_jsonl (tokenizer.h) with the world's tokenizer: each line's
 * array is the text's encoding; a line without "text" named */
static void test_jsonl(void)
{
    lr_tokenizer tok;
    lr_tokens t = {0};
    lr_buf out = {0}, want = {0};
    lr_error err;
    static const char in[] = "{\"text\": \"a b\"}\n{\"text\": \"Question: Who\"}\n";
    memset(&tok, 0, sizeof tok);
    CHECK_OK(lr_tokenizer_load("data/world", &tok, &err), &err);
    CHECK_OK(lr_tokenize_jsonl(&tok, in, sizeof in - 1, LR_ENCODE_BOS, "src", &out, &err),
             &err);
    CHECK_OK(lr_tokenizer_encode(&tok, "a b", 3, LR_ENCODE_BOS, &t, &err), &err);
    lr_tokens_format(&want, &t, 1);
    t.n = 0;
    CHECK_OK(lr_tokenizer_encode(&tok, "Question: Who", 13, LR_ENCODE_BOS, &t, &err), &err);
    lr_tokens_format(&want, &t, 1);
    CHECK_STR(out.data, want.data);
    out.len = 0;
    {   /* a line without "text": the error names it (22 bytes, no final newline) */
        static const char bad_line[] = "{\"text\": \"a\"}\n{\"x\": 1}";
        CHECK_ERR(lr_tokenize_jsonl(&tok, bad_line, sizeof bad_line - 1, 0, "src", &out,
                                    &err), &err, "src:2");
    }
    /* lr_tokenize_text: one line "1 2 3\n", or the JSONL form */
    t.n = 0;
    want.len = 0;
    out.len = 0;
    CHECK_OK(lr_tokenizer_encode(&tok, "a b", 3, LR_ENCODE_BOS, &t, &err), &err);
    lr_tokens_format(&want, &t, 0);
    CHECK_OK(lr_tokenize_text(&tok, "a b", 3, LR_ENCODE_BOS, 0, "src", &out, &err), &err);
    CHECK_STR(out.data, want.data);
    CHECK(out.data[out.len - 1] == '\n' && !strchr(out.data, '['));
    out.len = 0;
    CHECK_OK(lr_tokenize_text(&tok, in, sizeof in - 1, 0, 1, "src", &out, &err), &err);
    CHECK(out.len && out.data[0] == '[');
    lr_tokens_free(&t);
    lr_buf_free(&out);
    lr_buf_free(&want);
    lr_tokenizer_free(&tok);
}

int main(void)
{
    RUN(test_text_form);
    RUN(test_list_form);
    RUN(test_parse_ids);
    RUN(test_jsonl);
    return h_finish("test_tokens");
}
