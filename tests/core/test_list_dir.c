/* test_list_dir.c - lr_list_dir (common.h), the one directory listing of
 * the library: every entry but "." and ".." passed once, a callback's
 * non-zero value stops the listing and is returned, a missing directory or
 * a file reported as LR_DIR_OPEN_FAILED with errno saying why. */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/common.h"

/* The names seen, "/"-separated in sorted order once collected. */
typedef struct seen {
    char names[8][32];
    int n, stop_after;
} seen;

static int note(void *ctx, const char *name)
{
    seen *s = ctx;
    if (s->n < 8) snprintf(s->names[s->n], sizeof s->names[0], "%s", name);
    s->n++;
    return s->stop_after && s->n == s->stop_after ? 7 : 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_list(void)
{
    lr_error err;
    seen s;
    const char *files[3] = {"list_test/b.txt", "list_test/a.txt", "list_test/c.txt"};
    int i;
    CHECK_INT(lr_make_dirs(h_tmp("list_test/empty")), 0);
    for (i = 0; i < 3; i++)
        CHECK_OK(lr_write_file_atomic(h_tmp(files[i]), "x", 1, &err), &err);
    memset(&s, 0, sizeof s);
    CHECK_INT(lr_list_dir(h_tmp("list_test"), note, &s), 0);
    CHECK_INT(s.n, 4); /* a.txt b.txt c.txt empty; no "." nor ".." */
    qsort(s.names, (size_t)(s.n < 8 ? s.n : 8), sizeof s.names[0], cmp_name);
    CHECK_STR(s.names[0], "a.txt");
    CHECK_STR(s.names[1], "b.txt");
    CHECK_STR(s.names[2], "c.txt");
    CHECK_STR(s.names[3], "empty");
    memset(&s, 0, sizeof s);
    CHECK_INT(lr_list_dir(h_tmp("list_test/empty"), note, &s), 0);
    CHECK_INT(s.n, 0);
    memset(&s, 0, sizeof s);
    s.stop_after = 2; /* the callback's value stops the listing */
    CHECK_INT(lr_list_dir(h_tmp("list_test"), note, &s), 7);
    CHECK_INT(s.n, 2);
}

static void test_failures(void)
{
    seen s;
    memset(&s, 0, sizeof s);
    errno = 0;
    CHECK_INT(lr_list_dir(h_tmp("list_test/missing"), note, &s), LR_DIR_OPEN_FAILED);
    CHECK_INT(errno, ENOENT);
    errno = 0;
    CHECK_INT(lr_list_dir(h_tmp("list_test/a.txt"), note, &s), LR_DIR_OPEN_FAILED);
    CHECK_INT(errno, ENOTDIR);
    CHECK_INT(s.n, 0);
}

int main(void)
{
    RUN(test_list);
    RUN(test_failures);
    return h_finish("test_list_dir");
}
