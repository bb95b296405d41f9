/* cmd_knowledge_report.c - `llamaref knowledge-report`: compares two probe
 * outputs (before / after training): reliability on the trained facts, the
 * SliCK transition matrix with positive / negative shift, refusals and
 * answer diversity (knowledge_report.h; definitions in docs/metrics.md and
 * docs/evaluation.md).  Writes FILE.json, FILE.md and SVG charts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/papers/knowledge/knowledge_report.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref knowledge-report --before PROBE.jsonl --after PROBE.jsonl\n"
"                                 [--trained TRAIN.jsonl] --out FILE.json\n"
"  --before PROBE.jsonl      llamaref probe's output before training\n"
"  --after PROBE.jsonl       the same facts probed after training (matched by\n"
"                            question text)\n"
"  --trained FILE            the training examples (llamaref mixture output or\n"
"                            any fact file); reliability is measured on its\n"
"                            records with role \"unknown\" (or without a role)\n"
"  --top N                   over-represented answers listed (default 10)\n"
"  --out FILE.json           the report (parent directories created first)\n"
"Writes FILE.json, FILE.md, FILE-transitions.svg, FILE-refusals.svg and\n"
"FILE-answers.svg.\n");
}

int cmd_knowledge_report(int argc, char **argv)
{
    lr_knowledge_report_options o;
    lr_knowledge_report r;
    lr_error err;
    long top = 10;
    int rc = 1;
    const cli_optdef opts[] = {
        CLI_OPT("--before", CLI_STR, &o.before),
        CLI_OPT("--after", CLI_STR, &o.after),
        CLI_OPT("--trained", CLI_STR, &o.trained),
        CLI_OPT("--out", CLI_STR, &o.out),
        CLI_NUM("--top", CLI_LONG, &top, 0, 100000),
    };

    memset(&o, 0, sizeof o);
    if ((rc = cli_parse("knowledge-report", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                        usage)) >= 0)
        return rc;
    rc = 1;
    if (!o.before || !o.after || !o.out) {
        fprintf(stderr, "llamaref knowledge-report: --before, --after and "
                "--out are required (see --help)\n");
        return 2;
    }
    o.top = (size_t)top;
    if (cli_prepare_out("knowledge-report", o.out, 0)) return 1;
    if (lr_knowledge_report_build(&o, &r, &err)) {
        fprintf(stderr, "llamaref knowledge-report: %s\n", err.msg);
        goto done;
    }
    if (cli_write("knowledge-report", o.out, r.json.data, r.json.len) ||
        cli_write("knowledge-report", cli_report_path(o.out, "-transitions.svg", 1),
                  r.svg_transitions.data, r.svg_transitions.len) ||
        cli_write("knowledge-report", cli_report_path(o.out, "-refusals.svg", 2),
                  r.svg_refusals.data, r.svg_refusals.len) ||
        (r.svg_answers.len &&
         cli_write("knowledge-report", cli_report_path(o.out, "-answers.svg", 3),
                   r.svg_answers.data, r.svg_answers.len)) ||
        cli_write("knowledge-report", cli_report_path(o.out, ".md", 4), r.md.data,
                  r.md.len))
        goto done;
    printf("knowledge-report: %lu facts; positive shift %.4f, negative shift %.4f",
           (unsigned long)r.matched, r.shift.positive, r.shift.negative);
    if (o.trained)
        printf("; reliability %s (%lu trained facts)", r.reliability,
               (unsigned long)r.rel.found);
    printf("; refusals %lu -> %lu\n", (unsigned long)r.before_stats.refusals,
           (unsigned long)r.after_stats.refusals);
    rc = 0;
done:
    lr_knowledge_report_free(&r);
    return rc;
}
