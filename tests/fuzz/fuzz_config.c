/* fuzz_config.c - libFuzzer target: arbitrary JSON as config.json; a config
 * that is accepted must also pass validation and survive a write/read. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/formats/config.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    lr_json_doc *d, *d2;
    lr_config c, c2;
    lr_error err;
    lr_buf b = {0};
    char *copy = malloc(n ? n : 1);
    if (!copy) return 0;
    memcpy(copy, data, n);
    if (lr_json_parse(copy, n, "fuzz", &d, &err) == 0) {
        if (lr_config_from_json(lr_json_root(d), "fuzz", &c, &err) == 0) {
            if (lr_config_validate(&c, "fuzz", &err)) abort();
            lr_config_to_json(&c, &b);
            if (lr_json_parse(b.data, b.len, "rt", &d2, &err)) abort();
            if (lr_config_from_json(lr_json_root(d2), "rt", &c2, &err)) abort();
            lr_json_free(d2);
            lr_buf_free(&b);
        }
        lr_json_free(d);
    }
    free(copy);
    return 0;
}
