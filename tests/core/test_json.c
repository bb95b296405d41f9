/* test_json.c - the JSON reader: values, escapes, numbers, errors with line
 * and column, hostile input, and the writing helpers. */
#include "harness.h"
#include "llamaref/core/json.h"

static lr_json_doc *parse(const char *s, lr_error *err)
{
    lr_json_doc *d = NULL;
    if (lr_json_parse(s, strlen(s), "t.json", &d, err)) return NULL;
    return d;
}

static void test_values(void)
{
    lr_error err;
    lr_json_doc *d = parse(" {\"a\": [1, -2.5e3, true, false, null, \"x\"], \"b\": {}, \"a2\": []} ", &err);
    const lr_json *r, *a;
    CHECK(d != NULL);
    if (!d) return;
    r = lr_json_root(d);
    CHECK_INT(r->type, LR_JSON_OBJECT);
    CHECK_INT(r->len, 3);
    a = lr_json_get(r, "a");
    CHECK(a && a->type == LR_JSON_ARRAY && a->len == 6);
    if (a && a->len == 6) {
        CHECK(a->items[0].is_integer && a->items[0].integer == 1);
        CHECK_NEAR(a->items[1].number, -2500.0, 0);
        CHECK(!a->items[1].is_integer);
        CHECK_INT(a->items[2].type, LR_JSON_TRUE);
        CHECK_INT(a->items[3].type, LR_JSON_FALSE);
        CHECK_INT(a->items[4].type, LR_JSON_NULL);
        CHECK_STR(a->items[5].str, "x");
    }
    CHECK(lr_json_get(r, "b") && lr_json_get(r, "b")->len == 0);
    CHECK(lr_json_get(r, "missing") == NULL);
    lr_json_free(d);
}

static void test_duplicate_keys_last_wins(void)
{
    lr_error err;
    lr_json_doc *d = parse("{\"k\": 1, \"k\": 2}", &err);
    CHECK(d != NULL);
    if (!d) return;
    CHECK_INT(lr_json_get(lr_json_root(d), "k")->integer, 2);
    lr_json_free(d);
}

static void test_string_escapes(void)
{
    lr_error err;
    lr_json_doc *d = parse("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\", "
                           "\"\\ud83d\\ude00\", \"nul\\u0000in\", \"caf\xc3\xa9\"]", &err);
    const lr_json *r;
    CHECK(d != NULL);
    if (!d) return;
    r = lr_json_root(d);
    CHECK_STR(r->items[0].str, "a\"b\\c/d\b\f\n\r\t");
    CHECK_STR(r->items[1].str, "\xc3\xa9\xe2\x82\xac");
    CHECK_STR(r->items[2].str, "\xf0\x9f\x98\x80"); /* U+1F600 from a surrogate pair */
    CHECK_INT(r->items[3].len, 6);
    CHECK(memcmp(r->items[3].str, "nul\0in", 6) == 0);
    CHECK_STR(r->items[4].str, "caf\xc3\xa9");
    lr_json_free(d);
}

static void test_numbers(void)
{
    lr_error err;
    lr_json_doc *d = parse("[0, -0, 9223372036854775807, 9223372036854775808, 1e-5, "
                           "1E+2, 0.1, -7]", &err);
    const lr_json *r;
    CHECK(d != NULL);
    if (!d) return;
    r = lr_json_root(d);
    CHECK(r->items[0].is_integer && r->items[0].integer == 0);
    CHECK(r->items[1].is_integer && r->items[1].integer == 0);
    CHECK(r->items[2].is_integer && r->items[2].integer == INT64_MAX);
    CHECK(!r->items[3].is_integer); /* does not fit: number only */
    CHECK_NEAR(r->items[3].number, 9223372036854775808.0, 0);
    CHECK(r->items[4].number == 1e-5);
    CHECK(r->items[5].number == 100.0 && !r->items[5].is_integer);
    CHECK(r->items[6].number == 0.1);
    CHECK(r->items[7].integer == -7);
    lr_json_free(d);
}

static void test_errors_have_line_and_column(void)
{
    lr_error err;
    lr_json_doc *d = NULL;
    const char *bad = "{\n  \"a\": 1,\n  \"b\": tru\n}";
    CHECK_ERR(lr_json_parse(bad, strlen(bad), "cfg.json", &d, &err), &err, "cfg.json:3:8:");
    CHECK_ERR(lr_json_parse("[1, 2", 5, "x", &d, &err), &err, "unterminated array");
    CHECK_ERR(lr_json_parse("[1,]", 4, "x", &d, &err), &err, "x:1:4:");
    CHECK_ERR(lr_json_parse("{\"a\" 1}", 7, "x", &d, &err), &err, "':' expected");
    CHECK_ERR(lr_json_parse("{1: 2}", 6, "x", &d, &err), &err, "object key");
    CHECK_ERR(lr_json_parse("[01]", 4, "x", &d, &err), &err, "',' or ']'");
    CHECK_ERR(lr_json_parse("[1.]", 4, "x", &d, &err), &err, "digit expected");
    CHECK_ERR(lr_json_parse("1 2", 3, "x", &d, &err), &err, "unexpected data after");
    CHECK_ERR(lr_json_parse("", 0, "x", &d, &err), &err, "unexpected end of input");
    CHECK_ERR(lr_json_parse("\"abc", 4, "x", &d, &err), &err, "unterminated string");
    CHECK_ERR(lr_json_parse("\"a\nb\"", 5, "x", &d, &err), &err, "control character");
    CHECK_ERR(lr_json_parse("\"\\x\"", 4, "x", &d, &err), &err, "invalid escape");
    CHECK_ERR(lr_json_parse("\"\\u12g4\"", 8, "x", &d, &err), &err, "hex digit");
    CHECK_ERR(lr_json_parse("NaN", 3, "x", &d, &err), &err, "invalid value");
    CHECK(d == NULL);
}

static void test_hostile_strings(void)
{
    lr_error err;
    lr_json_doc *d = NULL;
    CHECK_ERR(lr_json_parse("\"\xff\"", 3, "x", &d, &err), &err, "invalid UTF-8");
    CHECK_ERR(lr_json_parse("\"\xc0\xaf\"", 4, "x", &d, &err), &err, "invalid UTF-8"); /* overlong */
    CHECK_ERR(lr_json_parse("\"\xed\xa0\x80\"", 5, "x", &d, &err), &err, "invalid UTF-8"); /* surrogate */
    CHECK_ERR(lr_json_parse("\"\xe2\x82\"", 4, "x", &d, &err), &err, "invalid UTF-8"); /* truncated */
    CHECK_ERR(lr_json_parse("\"\\ud800\"", 8, "x", &d, &err), &err, "unpaired high surrogate");
    CHECK_ERR(lr_json_parse("\"\\udc00\"", 8, "x", &d, &err), &err, "unpaired low surrogate");
    CHECK_ERR(lr_json_parse("\"\\ud800\\u0041\"", 14, "x", &d, &err), &err, "low surrogate");
}

static void test_nesting_limit(void)
{
    lr_error err;
    lr_json_doc *d = NULL;
    char *deep = malloc(100001);
    int i;
    /* depth exactly at the limit is fine, one more is an error, and a
     * 100000-deep document neither crashes nor recurses unboundedly */
    for (i = 0; i < LR_JSON_MAX_DEPTH; i++) deep[i] = '[';
    for (i = 0; i < LR_JSON_MAX_DEPTH; i++) deep[LR_JSON_MAX_DEPTH + i] = ']';
    CHECK_OK(lr_json_parse(deep, 2 * LR_JSON_MAX_DEPTH, "deep", &d, &err), &err);
    lr_json_free(d);
    for (i = 0; i <= LR_JSON_MAX_DEPTH; i++) deep[i] = '[';
    for (i = 0; i <= LR_JSON_MAX_DEPTH; i++) deep[LR_JSON_MAX_DEPTH + 1 + i] = ']';
    CHECK_ERR(lr_json_parse(deep, 2 * (LR_JSON_MAX_DEPTH + 1), "deep", &d, &err), &err,
              "nesting too deep");
    memset(deep, '[', 100000);
    CHECK_ERR(lr_json_parse(deep, 100000, "deep", &d, &err), &err, "nesting too deep");
    free(deep);
}

static void test_typed_getters(void)
{
    lr_error err;
    lr_json_doc *d = parse("{\"n\": 3, \"f\": 2.5, \"s\": \"v\"}", &err);
    const lr_json *r;
    int64_t i;
    double x;
    const char *s;
    CHECK(d != NULL);
    if (!d) return;
    r = lr_json_root(d);
    CHECK_OK(lr_json_get_int(r, "n", "t", &i, &err), &err);
    CHECK_INT(i, 3);
    CHECK_OK(lr_json_get_number(r, "f", "t", &x, &err), &err);
    CHECK_NEAR(x, 2.5, 0);
    CHECK_OK(lr_json_get_string(r, "s", "t", &s, &err), &err);
    CHECK_STR(s, "v");
    CHECK_ERR(lr_json_get_int(r, "f", "t", &i, &err), &err, "must be an integer");
    CHECK_ERR(lr_json_get_int(r, "s", "t", &i, &err), &err, "got string");
    CHECK_ERR(lr_json_get_string(r, "zz", "t", &s, &err), &err, "missing key \"zz\"");
    lr_json_free(d);
}

static void test_writer_round_trip(void)
{
    lr_buf b = {0};
    lr_error err;
    lr_json_doc *d = NULL;
    const char raw[] = "q\"\\\n\t\x01 \xc3\xa9 \xff end";
    double nums[] = {0.1, 1e-5, 1.0 / 3.0, -2.5e300, 123456789.0, 5e-324};
    size_t i;
    lr_buf_puts(&b, "[");
    lr_json_write_string(&b, raw, sizeof raw - 1);
    for (i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        lr_buf_puts(&b, ",");
        lr_json_write_number(&b, nums[i]);
    }
    lr_buf_puts(&b, "]");
    CHECK_OK(lr_json_parse(b.data, b.len, "written", &d, &err), &err);
    if (d) {
        const lr_json *r = lr_json_root(d);
        /* invalid byte 0xff becomes U+FFFD, everything else survives */
        CHECK_STR(r->items[0].str, "q\"\\\n\t\x01 \xc3\xa9 \xef\xbf\xbd end");
        for (i = 0; i < sizeof nums / sizeof nums[0]; i++) CHECK(r->items[1 + i].number == nums[i]);
        lr_json_free(d);
    }
    b.len = 0;
    lr_json_write_number(&b, 1e-5);
    CHECK_STR(b.data, "1e-05"); /* shortest form, as Python writes it */
    lr_buf_free(&b);
}

int main(void)
{
    RUN(test_values);
    RUN(test_duplicate_keys_last_wins);
    RUN(test_string_escapes);
    RUN(test_numbers);
    RUN(test_errors_have_line_and_column);
    RUN(test_hostile_strings);
    RUN(test_nesting_limit);
    RUN(test_typed_getters);
    RUN(test_writer_round_trip);
    return h_finish("json");
}
