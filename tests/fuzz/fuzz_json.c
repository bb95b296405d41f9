/* fuzz_json.c - libFuzzer target: the JSON reader on arbitrary bytes must
 * return cleanly (ok or an error), never crash or read out of bounds. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/json.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    lr_json_doc *d;
    lr_error err;
    char *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */
    if (!copy) return 0;
    memcpy(copy, data, n);
    if (lr_json_parse(copy, n, "fuzz", &d, &err) == 0) lr_json_free(d);
    free(copy);
    return 0;
}
