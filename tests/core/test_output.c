/* test_output.c - lr_prepare_output (common.h), what every command runs on
 * its output paths before any work: parents created (mkdir -p), a
 * directory given where a file is meant, an empty path and an uncreatable
 * directory refused with the path named; and lr_read_input, what a
 * command reads from --file FILE. */
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

static void test_read_input(void)
{
    lr_error err;
    lr_buf b = {0};
    const char *path = h_tmp("read_input.txt");
    CHECK_OK(lr_write_file_atomic(path, "abc", 3, &err), &err);
    CHECK_INT(lr_buf_puts(&b, ">"), 0);
    CHECK_OK(lr_read_input(path, &b, &err), &err); /* appended */
    CHECK(b.len == 4 && !strcmp(b.data, ">abc"));
    CHECK_ERR(lr_read_input("/nonexistent/in.txt", &b, &err), &err,
              "/nonexistent/in.txt: cannot open");
    lr_buf_free(&b);
}

int main(void)
{
    RUN(test_prepare);
    RUN(test_read_input);
    return h_finish("test_output");
}
