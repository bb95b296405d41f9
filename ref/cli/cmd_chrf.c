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

static const char head[] =
"usage: llamaref chrf --hyp FILE --ref FILE [--ref FILE2 ...]\n"
"                     [--word-order N] [--char-order N] [--beta N]\n"
"                     [--sentence] [--digits N]\n"
"chrF as sacreBLEU 2.x CHRF().  Files hold one sentence per line.\n";

/* --ref FILE, repeatable */
typedef struct ref_list {
    const char *paths[LR_CHRF_MAX_REFS];
    size_t n;
} ref_list;

static int add_ref(const char *opt, const char *val, void *dst)
{
    ref_list *l = dst;
    (void)opt;
    if (l->n == LR_CHRF_MAX_REFS) {
        fprintf(stderr, "llamaref chrf: at most %d --ref files\n", LR_CHRF_MAX_REFS);
        return -1;
    }
    l->paths[l->n++] = val;
    return 0;
}

int cmd_chrf(int argc, char **argv)
{
    const char *hyp_path = NULL;
    ref_list refs;
    size_t i, j;
    int sentence = 0, digits = 6, rc;
    lr_chrf_config cfg;
    lr_chrf_stats total;
    double *scores = NULL;
    size_t n;
    lr_error err;
    const cli_optdef opts[] = { /* in --help's order */
        CLI_H("--hyp", CLI_STR, &hyp_path, "--hyp FILE                the hypotheses"),
        {"--ref", CLI_FN, &refs, 0, 0, NULL, add_ref,
         "--ref FILE                the references; repeated: several references\n"
         "                            per sentence"},
        CLI_HN("--word-order", CLI_INT, &cfg.word_order, 0, LR_CHRF_MAX_WORD_ORDER,
               "--word-order N            word n-gram order (default 0; 2: chrF++)"),
        CLI_HN("--char-order", CLI_INT, &cfg.char_order, 1, LR_CHRF_MAX_CHAR_ORDER,
               "--char-order N            character n-gram order (default 6)"),
        CLI_HN("--beta", CLI_INT, &cfg.beta, 0, 1000,
               "--beta N                  recall weight (default 2)"),
        CLI_H("--sentence", CLI_FLAG, &sentence,
              "--sentence                one sentence score per line, instead of the\n"
              "                            corpus score (statistics summed over sentences)"),
        CLI_HN("--digits", CLI_INT, &digits, 0, 17,
               "--digits N                decimals printed (default 6; 17 shows every bit\n"
               "                            of the double, for oracle checks)"),
    };
    lr_chrf_config_default(&cfg);
    refs.n = 0;
    if ((rc = cli_parse_doc("chrf", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                            head, "")) >= 0)
        return rc;
    if (!hyp_path || refs.n == 0) {
        fprintf(stderr, "llamaref chrf: --hyp and --ref are required (see --help)\n");
        return 2;
    }
    if (lr_chrf_files(&cfg, hyp_path, refs.paths, refs.n, sentence ? &scores : NULL,
                      &n, &total, &err)) { /* nothing held */
        fprintf(stderr, "llamaref chrf: %s\n", err.msg);
        return 1;
    }
    for (i = 0; sentence && i < n; i++) printf("%.*f\n", digits, scores[i]);
    if (!sentence) {
        printf("chrF%d", cfg.beta);
        for (j = 0; j < (size_t)cfg.word_order; j++) putchar('+');
        printf(" = %.*f  (%lu sentences, char order %d, word order %d)\n",
               digits, lr_chrf_score(&cfg, &total), (unsigned long)n,
               cfg.char_order, cfg.word_order);
    }
    free(scores);
    return 0;
}
