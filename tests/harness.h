/* harness.h - the tiny test harness every tests/test_*.c uses.
 *
 * A test file defines static void test_xxx(void) functions and calls
 * RUN(test_xxx) for each from main, then returns h_finish("name").  A test
 * passes when none of its CHECKs failed, fails otherwise, and is skipped when
 * it calls SKIP (e.g. an external asset is missing: never counted as passed).
 * Every failed CHECK prints file:line and the values compared.  The last line
 * a test program prints is "<name>: N passed, N failed, N skipped"; tests/run.sh
 * adds these up.  Assets are found through $LLAMAREF_ASSETS (default
 * ../shared/assets) and $LLAMAREF_DATA (default ../shared/data).
 */
#ifndef LLAMAREF_TEST_HARNESS_H
#define LLAMAREF_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define H_UNUSED __attribute__((unused))
#else
#define H_UNUSED
#endif

static int h_passed, h_failed, h_skipped;
static int h_cur_failed, h_cur_skipped;
static const char *h_cur_name = "";

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n", __FILE__,       \
                    __LINE__, h_cur_name, #cond);                            \
            h_cur_failed++;                                                  \
        }                                                                    \
    } while (0)

#define CHECK_INT(a, b)                                                      \
    do {                                                                     \
        long long h_a = (long long)(a), h_b = (long long)(b);                \
        if (h_a != h_b) {                                                    \
            fprintf(stderr, "%s:%d: %s: %s == %s failed: %lld != %lld\n",    \
                    __FILE__, __LINE__, h_cur_name, #a, #b, h_a, h_b);       \
            h_cur_failed++;                                                  \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *h_a = (a), *h_b = (b);                                   \
        if (!h_a || !h_b || strcmp(h_a, h_b) != 0) {                         \
            fprintf(stderr, "%s:%d: %s: %s == %s failed: \"%s\" != \"%s\"\n",\
                    __FILE__, __LINE__, h_cur_name, #a, #b,                  \
                    h_a ? h_a : "(null)", h_b ? h_b : "(null)");             \
            h_cur_failed++;                                                  \
        }                                                                    \
    } while (0)

/* |a - b| <= tol, and NaN always fails. */
#define CHECK_NEAR(a, b, tol)                                                \
    do {                                                                     \
        double h_a = (double)(a), h_b = (double)(b), h_t = (double)(tol);    \
        if (!(fabs(h_a - h_b) <= h_t)) {                                     \
            fprintf(stderr,                                                  \
                    "%s:%d: %s: |%s - %s| <= %g failed: %.17g vs %.17g "    \
                    "(diff %.3g)\n",                                         \
                    __FILE__, __LINE__, h_cur_name, #a, #b, h_t, h_a, h_b,   \
                    fabs(h_a - h_b));                                        \
            h_cur_failed++;                                                  \
        }                                                                    \
    } while (0)

/* Expects a library call to succeed (return 0); prints its error if not. */
#define CHECK_OK(call, errp)                                                 \
    do {                                                                     \
        if ((call) != 0) {                                                   \
            fprintf(stderr, "%s:%d: %s: %s failed: %s\n", __FILE__,          \
                    __LINE__, h_cur_name, #call, (errp)->msg);               \
            h_cur_failed++;                                                  \
        }                                                                    \
    } while (0)

/* Expects a library call to fail and its message to contain `needle`. */
#define CHECK_ERR(call, errp, needle)                                        \
    do {                                                                     \
        (errp)->msg[0] = 0;                                                  \
        if ((call) == 0) {                                                   \
            fprintf(stderr, "%s:%d: %s: %s unexpectedly succeeded\n",        \
                    __FILE__, __LINE__, h_cur_name, #call);                  \
            h_cur_failed++;                                                  \
        } else if (!strstr((errp)->msg, (needle))) {                         \
            fprintf(stderr,                                                  \
                    "%s:%d: %s: %s error \"%s\" does not mention \"%s\"\n",  \
                    __FILE__, __LINE__, h_cur_name, #call, (errp)->msg,      \
                    (needle));                                               \
            h_cur_failed++;                                                  \
        }                                                                    \
    } while (0)

#define SKIP(reason)                                                         \
    do {                                                                     \
        fprintf(stderr, "%s: skipped: %s\n", h_cur_name, (reason));          \
        h_cur_skipped = 1;                                                   \
        return;                                                              \
    } while (0)

#define RUN(fn) h_run(#fn, fn)

static void h_run(const char *name, void (*fn)(void))
{
    h_cur_name = name;
    h_cur_failed = 0;
    h_cur_skipped = 0;
    fn();
    if (h_cur_failed) {
        h_failed++;
        fprintf(stderr, "FAIL %s\n", name);
    } else if (h_cur_skipped) {
        h_skipped++;
    } else {
        h_passed++;
    }
}

static int h_finish(const char *suite)
{
    printf("%s: %d passed, %d failed, %d skipped\n", suite, h_passed,
           h_failed, h_skipped);
    return h_failed ? 1 : 0;
}

/* Path of an external asset below $LLAMAREF_ASSETS (or $LLAMAREF_DATA when
 * data is non-zero) in a static buffer, else below the repository's data/
 * (where `make llama3-tokenizer` writes llama3/tokenizer.model), or NULL
 * when the file is missing (README.md, "Getting the assets", says where
 * each is published). */
H_UNUSED static const char *h_path(int data, const char *rel)
{
    static char buf[8][4096];
    static int next;
    const char *base = getenv(data ? "LLAMAREF_DATA" : "LLAMAREF_ASSETS");
    char *p = buf[next++ & 7];
    FILE *f;
    if (!base || !*base) base = data ? "../shared/data" : "../shared/assets";
    snprintf(p, 4096, "%s/%s", base, rel);
    f = fopen(p, "rb");
    if (!f) {
        snprintf(p, 4096, "data/%s", rel);
        if (!(f = fopen(p, "rb"))) return NULL;
    }
    fclose(f);
    return p;
}
#define h_asset(rel) h_path(0, rel)
#define h_data(rel) h_path(1, rel)

/* A writable scratch directory for a test program (created by tests/run.sh;
 * $LLAMAREF_TMP, default build/tmp). */
H_UNUSED static const char *h_tmp(const char *name)
{
    static char buf[8][4096];
    static int next;
    const char *base = getenv("LLAMAREF_TMP");
    char *p = buf[next++ & 7];
    if (!base || !*base) base = "build/tmp";
    snprintf(p, 4096, "%s/%s", base, name);
    return p;
}

#endif
