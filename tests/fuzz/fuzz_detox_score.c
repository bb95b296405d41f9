/* fuzz_detox_score.c - libFuzzer target: the candidate file of `llamaref
 * detox-score` (TSV with a header, or JSONL: read_tsv / read_jsonl of
 * ref/cli/cmd_detox_score.c, included here to reach them), with and without
 * the sta/sim columns. */
#include "cmd_detox_score.c"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    int cols;
    for (cols = 0; cols < 2; cols++) {
        char *text = fz_copy(data, n, 1);
        cand_list l;
        lr_error err;
        size_t i;
        if (!text) return 0;
        memset(&l, 0, sizeof l);
        for (i = 0; i < n && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' ||
                              text[i] == '\t'); i++) {}
        if (i < n && text[i] == '{')
            (void)read_jsonl(text, "fuzz", cols ? "sta" : NULL, cols ? "sim" : NULL, &l, &err);
        else
            (void)read_tsv(text, "fuzz", cols ? "sta" : NULL, cols ? "sim" : NULL, &l, &err);
        cands_free(&l);
        free(text);
    }
    return 0;
}
