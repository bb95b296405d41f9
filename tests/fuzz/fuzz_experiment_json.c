/* fuzz_experiment_json.c - libFuzzer target: a world directory's
 * experiment.json (the defaults `llamaref experiment` takes from it:
 * world_defaults of ref/cli/cmd_experiment.c, included here to reach it). */
#include "cmd_experiment.c"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    exp_opts o;
    const char *p = fz_write("experiment.json", data, n);
    if (!p) return 0;
    memset(&o, 0, sizeof o);
    (void)world_defaults(&o, p);
    return 0;
}
