/* cmd_chrf.c - `llamaref chrf`: corpus or per-sentence chrF / chrF++ of a
 * hypothesis file against one or more reference files (one sentence per
 * line, UTF-8; a final newline does not start an extra line; "\r\n" is fine
 * since white space is ignored; lr_chrf_files).  Definitions:
 * include/llamaref/eval/chrf.h, docs/metrics.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llamaref/eval/chrf.h"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: llamaref chrf --hyp FILE --ref FILE [--ref FILE2 ...]\n"
        "                     [--word-order N] [--char-order N] [--beta N]\n"
        "                     [--sentence] [--digits N]\n"
        "chrF as sacreBLEU 2.x CHRF().  Files hold one sentence per line.\n"
        "  --hyp FILE                the hypotheses\n"
        "  --ref FILE                the references; repeated: several references\n"
        "                            per sentence\n"
        "  --word-order N            word n-gram order (default 0; 2: chrF++)\n"
        "  --char-order N            character n-gram order (default 6)\n"
        "  --beta N                  recall weight (default 2)\n"
        "  --sentence                one sentence score per line, instead of the\n"
        "                            corpus score (statistics summed over sentences)\n"
        "  --digits N                decimals printed (default 6; 17 shows every bit\n"
        "                            of the double, for oracle checks)\n");
}

int cmd_chrf(int argc, char **argv)
{
    const char *hyp_path = NULL, *ref_paths[LR_CHRF_MAX_REFS];
    size_t n_refs = 0, i, j;
    int sentence = 0, digits = 6, rc = 1;
    lr_chrf_config cfg;
    lr_chrf_stats total;
    double *scores = NULL;
    size_t n;
    lr_error err;
    long v;
    lr_chrf_config_default(&cfg);
    for (i = 1; i < (size_t)argc; i++) {
        const char *a = cli_opt(argv[i]), *val = i + 1 < (size_t)argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--hyp") && val) {
            hyp_path = val;
            i++;
        } else if (!strcmp(a, "--ref") && val) {
            if (n_refs == LR_CHRF_MAX_REFS) {
                fprintf(stderr, "llamaref chrf: at most %d --ref files\n", LR_CHRF_MAX_REFS);
                return 2;
            }
            ref_paths[n_refs++] = val;
            i++;
        } else if (!strcmp(a, "--word-order")) {
            if (cli_int(a, val, 0, LR_CHRF_MAX_WORD_ORDER, &v)) return 2;
            cfg.word_order = (int)v;
            i++;
        } else if (!strcmp(a, "--char-order")) {
            if (cli_int(a, val, 1, LR_CHRF_MAX_CHAR_ORDER, &v)) return 2;
            cfg.char_order = (int)v;
            i++;
        } else if (!strcmp(a, "--beta")) {
            if (cli_int(a, val, 0, 1000, &v)) return 2;
            cfg.beta = (int)v;
            i++;
        } else if (!strcmp(a, "--digits")) {
            if (cli_int(a, val, 0, 17, &v)) return 2;
            digits = (int)v;
            i++;
        } else if (!strcmp(a, "--sentence")) {
            sentence = 1;
        } else {
            return cli_bad_option("chrf", a, usage);
        }
    }
    if (!hyp_path || n_refs == 0) {
        fprintf(stderr, "llamaref chrf: --hyp and --ref are required (see --help)\n");
        return 2;
    }
    if (lr_chrf_files(&cfg, hyp_path, ref_paths, n_refs, sentence ? &scores : NULL,
                      &n, &total, &err))
        goto fail;
    for (i = 0; sentence && i < n; i++) printf("%.*f\n", digits, scores[i]);
    if (!sentence) {
        printf("chrF%d", cfg.beta);
        for (j = 0; j < (size_t)cfg.word_order; j++) putchar('+');
        printf(" = %.*f  (%lu sentences, char order %d, word order %d)\n",
               digits, lr_chrf_score(&cfg, &total), (unsigned long)n,
               cfg.char_order, cfg.word_order);
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "llamaref chrf: %s\n", err.msg);
done:
    free(scores);
    return rc;
}
