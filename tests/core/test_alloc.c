/* test_alloc.c - lr_alloc and lr_zalloc (common.h): blocks below, at and
 * above 2 MiB are usable over their whole length and freed by free(); on
 * Linux a block of 2 MiB or more starts on a 2 MiB boundary (the huge-page
 * path of lr_alloc); lr_zalloc gives zeros; an overflowing size is refused
 * with the name of what was being allocated. */
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>

#include "llamaref/core/common.h"

static void fill_and_check(size_t bytes)
{
    lr_error err;
    unsigned char *p = lr_alloc(bytes, 1, "test block", &err);
    size_t i;
    int ok = 1;
    CHECK(p != NULL);
    if (!p) return;
    for (i = 0; i < bytes; i++) p[i] = (unsigned char)(i * 131u + 7u);
    for (i = 0; i < bytes; i++)
        if (p[i] != (unsigned char)(i * 131u + 7u)) ok = 0;
    CHECK(ok);
#if defined(__linux__)
    if (bytes >= ((size_t)2 << 20))
        CHECK_INT((int)((uintptr_t)p % ((uintptr_t)2 << 20)), 0);
#endif
    free(p);
}

static void test_alloc_sizes(void)
{
    fill_and_check(1);
    fill_and_check(((size_t)2 << 20) - 1);
    fill_and_check((size_t)2 << 20);
    fill_and_check(((size_t)5 << 20) + 12345);
}

static void test_zalloc_zero(void)
{
    lr_error err;
    size_t n = ((size_t)3 << 20) / sizeof(float), i;
    float *z = lr_zalloc(n, sizeof *z, "zeros", &err);
    int ok = 1;
    CHECK(z != NULL);
    if (!z) return;
    for (i = 0; i < n; i++)
        if (z[i] != 0.0f) ok = 0;
    CHECK(ok);
    free(z);
}

static void test_alloc_overflow(void)
{
    lr_error err;
    CHECK(lr_alloc((size_t)-1, 16, "huge table", &err) == NULL);
    CHECK(strstr(err.msg, "size overflow allocating huge table") != NULL);
}

int main(void)
{
    RUN(test_alloc_sizes);
    RUN(test_zalloc_zero);
    RUN(test_alloc_overflow);
    return h_finish("test_alloc");
}
