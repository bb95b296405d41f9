/* fuzz_detox_shots.c - libFuzzer target: few_shot_pairs.json of `llamaref
 * detox` (lr_detox_shots_load for two languages). */
#include "fuzz_util.h"
#include "llamaref/papers/detox/detox.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    const char *p = fz_write("few_shot_pairs.json", data, n);
    static const char *const langs[] = {"en", "de"};
    int i;
    if (!p) return 0;
    for (i = 0; i < 2; i++) {
        lr_detox_shots s;
        lr_error err;
        if (lr_detox_shots_load(p, langs[i], &s, &err) == 0) lr_detox_shots_free(&s);
    }
    return 0;
}
