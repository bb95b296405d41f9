/* fuzz_chrf.c - libFuzzer target: the hypothesis and reference files of
 * `llamaref chrf` (lr_lines_read and lr_chrf_files of chrf.h: one
 * sentence per line, UTF-8 checked), the input split at "\n====\n"; each
 * line pair scored as chrF and chrF++ (lr_chrf_sentence). */
#include "llamaref/eval/chrf.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    const unsigned char *part[2];
    size_t len[2], i, n_lines;
    lr_lines h, r;
    lr_error err;
    int rc;
    if (fz_split(data, n, 2, part, len) != 2) return 0;
    if (!fz_write("hyp.txt", part[0], len[0]) || !fz_write("ref.txt", part[1], len[1]))
        return 0;
    memset(&h, 0, sizeof h);
    memset(&r, 0, sizeof r);
    rc = lr_lines_read(fz_path("hyp.txt"), &h, &err);
    if (rc == 0) rc = lr_lines_read(fz_path("ref.txt"), &r, &err);
    if (rc == 0) {
        lr_chrf_config cfg;
        lr_chrf_stats total;
        const char *ref = fz_path("ref.txt");
        double *scores = NULL;
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
        if (h.n <= 64 && lr_chrf_files(&cfg, fz_path("hyp.txt"), &ref, 1, &scores,
                                       &n_lines, &total, &err) == 0)
            for (i = 0; i < n_lines; i++)
                if (!(scores[i] >= 0 && scores[i] <= 100)) abort();
        free(scores);
    }
    lr_lines_free(&h);
    lr_lines_free(&r);
    return 0;
}
