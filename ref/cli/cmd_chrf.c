/* cmd_chrf.c - `llamaref chrf`: corpus or per-sentence chrF / chrF++ of a
 * hypothesis file against one or more reference files (one sentence per
 * line, UTF-8; a final newline does not start an extra line; "\r\n" is fine
 * since white space is ignored).  Definitions: include/llamaref/chrf.h,
 * docs/metrics.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llamaref/chrf.h"
#include "llamaref/unicode.h"

#define MAX_REFS 16

typedef struct line_file {
    const char *path;
    char *data;
    size_t len;
    char **line;
    size_t *line_len;
    size_t n;
} line_file;

static void line_file_free(line_file *f)
{
    free(f->data);
    free(f->line);
    free(f->line_len);
}

static int line_file_read(line_file *f, const char *path, lr_error *err)
{
    size_t i, start = 0, n = 0;
    memset(f, 0, sizeof *f);
    f->path = path;
    if (lr_read_file(path, &f->data, &f->len, err)) return -1;
    for (i = 0; i < f->len; i++) n += f->data[i] == '\n';
    n += f->len > 0 && f->data[f->len - 1] != '\n';
    f->line = lr_alloc(n + 1, sizeof *f->line, "line index", err);
    f->line_len = lr_alloc(n + 1, sizeof *f->line_len, "line index", err);
    if (!f->line || !f->line_len) return -1;
    for (i = 0; i <= f->len; i++) {
        if (i == f->len && start == f->len) break;
        if (i == f->len || f->data[i] == '\n') {
            const unsigned char *u = (const unsigned char *)f->data + start;
            size_t k = 0;
            uint32_t cp;
            while (k < i - start) {
                int m = lr_utf8_decode(u + k, i - start - k, &cp);
                if (m == 0)
                    return lr_fail(err, "%s:%lu: ill-formed UTF-8 at byte %lu "
                                   "of the line", path,
                                   (unsigned long)f->n + 1, (unsigned long)k);
                k += (size_t)m;
            }
            f->line[f->n] = f->data + start;
            f->line_len[f->n] = i - start;
            f->n++;
            start = i + 1;
        }
    }
    return 0;
}

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
    const char *hyp_path = NULL, *ref_paths[MAX_REFS];
    size_t n_refs = 0, i, j;
    int sentence = 0, digits = 6, rc = 1;
    lr_chrf_config cfg;
    lr_chrf_stats total;
    line_file hyp, refs[MAX_REFS];
    lr_error err;
    long v;
    lr_chrf_config_default(&cfg);
    memset(&hyp, 0, sizeof hyp);
    memset(refs, 0, sizeof refs);
    for (i = 1; i < (size_t)argc; i++) {
        const char *a = cli_opt(argv[i]), *val = i + 1 < (size_t)argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--hyp") && val) {
            hyp_path = val;
            i++;
        } else if (!strcmp(a, "--ref") && val) {
            if (n_refs == MAX_REFS) {
                fprintf(stderr, "llamaref chrf: at most %d --ref files\n", MAX_REFS);
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
    if (line_file_read(&hyp, hyp_path, &err)) goto fail;
    for (j = 0; j < n_refs; j++) {
        if (line_file_read(&refs[j], ref_paths[j], &err)) goto fail;
        if (refs[j].n != hyp.n) {
            lr_fail(&err, "%s has %lu lines but %s has %lu", hyp_path,
                    (unsigned long)hyp.n, ref_paths[j],
                    (unsigned long)refs[j].n);
            goto fail;
        }
    }
    lr_chrf_stats_init(&total, &cfg);
    for (i = 0; i < hyp.n; i++) {
        const char *rp[MAX_REFS];
        size_t rl[MAX_REFS];
        lr_chrf_stats s;
        for (j = 0; j < n_refs; j++) {
            rp[j] = refs[j].line[i];
            rl[j] = refs[j].line_len[i];
        }
        if (lr_chrf_sentence_stats(&cfg, hyp.line[i], hyp.line_len[i], rp, rl,
                                   n_refs, &s, &err)) {
            lr_fail_prefix(&err, "%s:%lu", hyp_path, (unsigned long)i + 1);
            goto fail;
        }
        if (sentence) printf("%.*f\n", digits, lr_chrf_score(&cfg, &s));
        lr_chrf_stats_add(&total, &s);
    }
    if (!sentence) {
        printf("chrF%d", cfg.beta);
        for (j = 0; j < (size_t)cfg.word_order; j++) putchar('+');
        printf(" = %.*f  (%lu sentences, char order %d, word order %d)\n",
               digits, lr_chrf_score(&cfg, &total), (unsigned long)hyp.n,
               cfg.char_order, cfg.word_order);
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "llamaref chrf: %s\n", err.msg);
done:
    line_file_free(&hyp);
    for (j = 0; j < n_refs; j++) line_file_free(&refs[j]);
    return rc;
}
