/* cmd_detox_score.c - `llamaref detox-score`: FL (chrF / 100 against
 * references), J = mean(STA * SIM * FL) from external per-sentence STA/SIM
 * scores, and best-candidate selection among several candidates per source
 * (detox_score.h; the input format is documented there and in
 * docs/metrics.md, "detox-score").  Parses, scores, prints the figures and
 * writes the chosen candidates. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "llamaref/papers/detox/detox_score.h"

static const char head[] =
"usage: llamaref detox-score --pairs FILE [--sta COLUMN] [--sim COLUMN]\n"
"                            [--word-order N] [--out FILE.jsonl]\n";
static const char foot[] =
"Rows with the same source are candidates; the best one (highest\n"
"STA*SIM*FL of the factors present, refusals last) is scored.  FL is\n"
"sentence chrF/100 (sacreBLEU CHRF()); J = mean(STA*SIM*FL).\n";

int cmd_detox_score(int argc, char **argv)
{
    const char *path = NULL, *out_path = NULL;
    lr_detox_score_options o;
    lr_detox_score_result r;
    lr_error err;
    int rc;
    const cli_optdef opts[] = { /* in --help's order */
        CLI_H("--pairs", CLI_STR, &path,
              "--pairs FILE              TSV with a header, or JSONL; fields source\n"
              "                            (optional), output, reference (optional) and\n"
              "                            the STA / SIM columns"),
        CLI_H("--sta", CLI_STR, &o.sta_col,
              "--sta COLUMN              the column of style-transfer accuracy"),
        CLI_H("--sim", CLI_STR, &o.sim_col,
              "--sim COLUMN              the column of content similarity"),
        CLI_HN("--word-order", CLI_INT, &o.chrf.word_order, 0, LR_CHRF_MAX_WORD_ORDER,
               "--word-order N            chrF word n-gram order of FL (default 0)"),
        CLI_H("--out", CLI_STR, &out_path,
              "--out FILE.jsonl          the chosen candidate of each source with its\n"
              "                            scores (parent directories created first)"),
    };
    memset(&o, 0, sizeof o);
    lr_chrf_config_default(&o.chrf);
    if ((rc = cli_parse_doc("detox-score", argc, argv, 1, opts,
                            sizeof opts / sizeof opts[0], head, foot)) >= 0)
        return rc;
    if (!path) {
        fprintf(stderr, "llamaref detox-score: --pairs FILE is required (see --help)\n");
        return 2;
    }
    if (out_path && cli_prepare_out("detox-score", out_path, 0)) return 1;
    o.want_selected = out_path != NULL;
    if (lr_detox_score_file(path, &o, &r, &err)) goto fail;
    printf("sources %lu  candidates %lu  refusals %lu\n", (unsigned long)r.sources,
           (unsigned long)r.candidates, (unsigned long)r.refusals);
    if (r.have_ref) {
        printf("FL (mean sentence chrF/100) %.6f\n", r.fl);
        printf("chrF%s (corpus) %.6f\n", o.chrf.word_order ? "++" : "", r.chrf);
    }
    if (o.sta_col) printf("STA (mean) %.6f\n", r.sta);
    if (o.sim_col) printf("SIM (mean) %.6f\n", r.sim);
    if (r.have_ref && o.sta_col && o.sim_col)
        printf("J (mean STA*SIM*FL) %.6f\n", r.j);
    if (out_path && lr_write_file_atomic(out_path, r.selected.data ? r.selected.data : "",
                                         r.selected.len, &err))
        goto fail;
    lr_detox_score_result_free(&r);
    return 0;
fail:
    fprintf(stderr, "llamaref detox-score: %s\n", err.msg);
    lr_detox_score_result_free(&r);
    return 1;
}
