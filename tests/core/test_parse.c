/* test_parse.c - common.h's strict number text (lr_parse_long,
 * lr_parse_u64, lr_parse_double: the whole string, ranges, overflow and non-numbers
 * refused, *out untouched on refusal) and lr_edit_distance (the "did you
 * mean" of the command line), against values worked out by hand. */
#include "harness.h"

#include "llamaref/core/common.h"

static void test_long(void)
{
    long v = 7;
    CHECK_INT(lr_parse_long("42", 0, 100, &v), 0);
    CHECK_INT(v, 42);
    CHECK_INT(lr_parse_long("-5", -5, 5, &v), 0);
    CHECK_INT(v, -5);
    v = 7;
    CHECK_INT(lr_parse_long("101", 0, 100, &v), -1); /* outside [lo, hi] */
    CHECK_INT(lr_parse_long("-1", 0, 100, &v), -1);
    CHECK_INT(lr_parse_long("4x", 0, 100, &v), -1);  /* trailing junk */
    CHECK_INT(lr_parse_long("", 0, 100, &v), -1);
    CHECK_INT(lr_parse_long("1.5", 0, 100, &v), -1);
    CHECK_INT(lr_parse_long("99999999999999999999999", 0, 100, &v), -1); /* ERANGE */
    CHECK_INT(v, 7);
}

static void test_u64(void)
{
    uint64_t v = 7;
    CHECK_INT(lr_parse_u64("18446744073709551615", &v), 0); /* 2^64 - 1 */
    CHECK(v == UINT64_MAX);
    CHECK_INT(lr_parse_u64("0", &v), 0);
    CHECK(v == 0);
    v = 7;
    CHECK_INT(lr_parse_u64("18446744073709551616", &v), -1); /* 2^64: ERANGE */
    CHECK_INT(lr_parse_u64("-1", &v), -1);  /* strtoull would wrap it */
    CHECK_INT(lr_parse_u64("+1", &v), -1);
    CHECK_INT(lr_parse_u64(" 1", &v), -1);
    CHECK_INT(lr_parse_u64("1x", &v), -1);
    CHECK_INT(lr_parse_u64("", &v), -1);
    CHECK(v == 7); /* untouched */
}

static void test_double(void)
{
    double d = 7;
    CHECK_INT(lr_parse_double("0.25", &d), 0);
    CHECK(d == 0.25);
    CHECK_INT(lr_parse_double("-1e3", &d), 0);
    CHECK(d == -1000.0);
    CHECK_INT(lr_parse_double("1e-400", &d), 0); /* underflow: finite */
    CHECK(d >= 0 && d < 1e-300);
    d = 7;
    CHECK_INT(lr_parse_double("1e400", &d), -1); /* overflow */
    CHECK_INT(lr_parse_double("nan", &d), -1);
    CHECK_INT(lr_parse_double("inf", &d), -1);
    CHECK_INT(lr_parse_double("0.5x", &d), -1);
    CHECK_INT(lr_parse_double("", &d), -1);
    CHECK(d == 7);
}

static void test_edit_distance(void)
{
    CHECK_INT(lr_edit_distance("", ""), 0);
    CHECK_INT(lr_edit_distance("--temp", "--temp"), 0);
    CHECK_INT(lr_edit_distance("kitten", "sitting"), 3); /* 2 substitutions, 1 insertion */
    CHECK_INT(lr_edit_distance("--temperatur", "--temperature"), 1);
    CHECK_INT(lr_edit_distance("--top-k", "--top-p"), 1);
    CHECK_INT(lr_edit_distance("abc", ""), 3);
    CHECK_INT(lr_edit_distance("flaw", "lawn"), 2); /* delete f, insert n */
    CHECK_INT(lr_edit_distance("a", "0123456789012345678901234567890123456789012345678901234567890123"), 99);
}

int main(void)
{
    RUN(test_long);
    RUN(test_u64);
    RUN(test_double);
    RUN(test_edit_distance);
    return h_finish("test_parse");
}
