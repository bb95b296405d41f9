/* cmd_knowledge_report.c - `llamaref knowledge-report`: compares two probe
 * outputs (before / after training): reliability on the trained facts, the
 * SliCK transition matrix with positive / negative shift, refusals and
 * answer diversity (knowledge_report.h; definitions in docs/metrics.md and
 * docs/evaluation.md).  Writes FILE.json, FILE.md and SVG charts. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "llamaref/papers/knowledge/knowledge_report.h"

static const char head[] =
"usage: llamaref knowledge-report --before PROBE.jsonl --after PROBE.jsonl\n"
"                                 [--trained TRAIN.jsonl] --out FILE.json\n";
static const char foot[] =
"Writes FILE.json, FILE.md, FILE-transitions.svg, FILE-refusals.svg and\n"
"FILE-answers.svg.\n";

int cmd_knowledge_report(int argc, char **argv)
{
    lr_knowledge_report_options o;
    lr_knowledge_report r;
    lr_error err;
    long top = 10;
    int rc = 1;
    const cli_optdef opts[] = {
        CLI_H("--before", CLI_STR, &o.before,
              "--before PROBE.jsonl      llamaref probe's output before training"),
        CLI_H("--after", CLI_STR, &o.after,
              "--after PROBE.jsonl       the same facts probed after training (matched by\n"
              "                            question text)"),
        CLI_H("--trained", CLI_STR, &o.trained,
              "--trained FILE            the training examples (llamaref mixture output or\n"
              "                            any fact file); reliability is measured on its\n"
              "                            records with role \"unknown\" (or without a role)"),
        CLI_HN("--top", CLI_LONG, &top, 0, 100000,
               "--top N                   over-represented answers listed (default 10)"),
        CLI_H("--out", CLI_STR, &o.out,
              "--out FILE.json           the report (parent directories created first)"),
    };

    memset(&o, 0, sizeof o);
    if ((rc = cli_parse_doc("knowledge-report", argc, argv, 1, opts,
                            sizeof opts / sizeof opts[0], head, foot)) >= 0)
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
    if (lr_knowledge_report_write(&r, o.out, &err)) {
        fprintf(stderr, "llamaref knowledge-report: %s\n", err.msg);
        goto done;
    }
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
