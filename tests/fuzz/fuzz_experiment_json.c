/* fuzz_experiment_json.c - libFuzzer target: a world directory's
 * experiment.json (the defaults `llamaref experiment` takes from it:
 * lr_exp_world_defaults, experiment_knowledge.h). */
#include <string.h>

#include "llamaref/papers/knowledge/experiment_knowledge.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    lr_exp_options o;
    lr_error err;
    const char *p = fz_write("experiment.json", data, n);
    if (!p) return 0;
    lr_exp_options_default(&o);
    (void)lr_exp_world_defaults(&o, p, &err);
    return 0;
}
