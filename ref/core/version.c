/* version.c - the linked library's version and float ABI (version.h).
 * Depends on nothing but the header. */
#include "llamaref/core/version.h"

#include "llamaref/core/common.h"

#define LR_STR2(x) #x
#define LR_STR(x) LR_STR2(x)

const char *lr_version(void)
{
    return LR_STR(LR_VERSION_MAJOR) "." LR_STR(LR_VERSION_MINOR) "." LR_STR(
        LR_VERSION_PATCH);
}

int lr_version_number(void) { return LR_VERSION_NUMBER; }

int lr_float_size(void) { return (int)sizeof(lr_float); }
