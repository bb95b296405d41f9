/* fuzz_detox_score.c - libFuzzer target: the candidate file of `llamaref
 * detox-score` (TSV with a header, or JSONL) read and scored by
 * lr_detox_score_text (detox_score.h), with and without the sta/sim
 * columns. */
#include "llamaref/papers/detox/detox_score.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    int cols;
    for (cols = 0; cols < 2; cols++) {
        char *text = fz_copy(data, n, 1);
        lr_detox_score_options o;
        lr_detox_score_result r;
        lr_error err;
        if (!text) return 0;
        memset(&o, 0, sizeof o);
        lr_chrf_config_default(&o.chrf);
        o.sta_col = cols ? "sta" : NULL;
        o.sim_col = cols ? "sim" : NULL;
        o.want_selected = cols;
        (void)lr_detox_score_text(text, n, "fuzz", &o, &r, &err);
        lr_detox_score_result_free(&r);
        free(text);
    }
    return 0;
}
