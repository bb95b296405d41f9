/* test_output.c - lr_prepare_output (common.h), what every command runs on
 * its output paths before any work: parents created (mkdir -p), a
 * directory given where a file is meant, an empty path and an uncreatable
 * directory refused with the path named. */
#include "harness.h"

#include "llamaref/core/common.h"

static void test_prepare(void)
{
    lr_error err;
    const char *file = h_tmp("out_test/a/b/report.json");
    CHECK_OK(lr_prepare_output(file, 0, &err), &err);
    CHECK(lr_path_is_dir(h_tmp("out_test/a/b")));
    CHECK(!lr_path_is_dir(file)); /* the file itself is not created */
    CHECK_OK(lr_prepare_output(h_tmp("out_test/c/d"), 1, &err), &err);
    CHECK(lr_path_is_dir(h_tmp("out_test/c/d")));
    CHECK_ERR(lr_prepare_output(h_tmp("out_test/c"), 0, &err), &err,
              "is a directory; a file name is needed");
    CHECK_ERR(lr_prepare_output("", 0, &err), &err, "empty output path");
    CHECK_ERR(lr_prepare_output("/proc/llamaref_no/x.json", 0, &err), &err,
              "cannot create directory /proc/llamaref_no (for /proc/llamaref_no/x.json)");
}

int main(void)
{
    RUN(test_prepare);
    return h_finish("test_output");
}
