/* fuzz_chrf.c - libFuzzer target: the hypothesis and reference files of
 * `llamaref chrf` (line_file_read of ref/cli/cmd_chrf.c, included here:
 * one sentence per line, UTF-8 checked), the input split at "\n====\n";
 * each line pair scored as chrF and chrF++ (lr_chrf_sentence). */
#include "cmd_chrf.c"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    const unsigned char *part[2];
    size_t len[2], i;
    line_file h, r;
    lr_error err;
    int rc;
    if (fz_split(data, n, 2, part, len) != 2) return 0;
    if (!fz_write("hyp.txt", part[0], len[0]) || !fz_write("ref.txt", part[1], len[1]))
        return 0;
    rc = line_file_read(&h, fz_path("hyp.txt"), &err);
    if (rc == 0) rc = line_file_read(&r, fz_path("ref.txt"), &err);
    else memset(&r, 0, sizeof r);
    if (rc == 0) {
        lr_chrf_config cfg;
        lr_chrf_config_default(&cfg);
        for (i = 0; i < h.n && i < r.n && i < 16; i++) {
            char *a = fz_copy((const unsigned char *)h.line[i], h.line_len[i], 1);
            char *b = fz_copy((const unsigned char *)r.line[i], r.line_len[i], 1);
            double s;
            if (a && b) {
                cfg.word_order = 0;
                if (lr_chrf_sentence(&cfg, a, b, &s, &err) == 0 && !(s >= 0 && s <= 100)) abort();
                cfg.word_order = 2;
                if (lr_chrf_sentence(&cfg, a, b, &s, &err) == 0 && !(s >= 0 && s <= 100)) abort();
            }
            free(a);
            free(b);
        }
    }
    line_file_free(&h);
    line_file_free(&r);
    return 0;
}
