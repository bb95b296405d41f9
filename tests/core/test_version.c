/* test_version.c - the version macros of version.h agree with the linked
 * library (lr_version, lr_version_number), and lr_float_size() is the size
 * of this build's lr_float.  (tests/cli/install.test.sh checks that the
 * installed file names and llamaref.pc carry the same version.) */
#include "harness.h"
#include "llamaref.h"

static void test_version_string(void)
{
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", LR_VERSION_MAJOR,
             LR_VERSION_MINOR, LR_VERSION_PATCH);
    CHECK_STR(lr_version(), want);
    CHECK_INT(lr_version_number(), LR_VERSION_NUMBER);
    CHECK_INT(LR_VERSION_NUMBER, LR_VERSION_MAJOR * 10000 +
                                     LR_VERSION_MINOR * 100 + LR_VERSION_PATCH);
}

static void test_float_size(void)
{
    CHECK_INT(lr_float_size(), (int)sizeof(lr_float));
#ifdef LR_DOUBLE
    CHECK_INT(lr_float_size(), 8);
#else
    CHECK_INT(lr_float_size(), 4);
#endif
}

int main(void)
{
    RUN(test_version_string);
    RUN(test_float_size);
    return h_finish("version");
}
