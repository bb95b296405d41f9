/* knowledge_report.h - `llamaref knowledge-report` as a library call:
 * two probe outputs (before / after training, probe.h's JSONL) compared:
 * reliability on the trained facts, the SliCK transition matrix with
 * positive / negative shift, refusals and answer diversity (definitions in
 * docs/metrics.md and docs/evaluation.md), built as JSON, Markdown and
 * three SVG charts in memory, and written to files.
 * Depends on: knowledge.h, experiment.h (answer statistics), facts.h,
 * svg.h, json.h, report.h. */
#ifndef LLAMAREF_KNOWLEDGE_REPORT_H
#define LLAMAREF_KNOWLEDGE_REPORT_H

#include <stddef.h>

#include "llamaref/core/common.h"
#include "llamaref/papers/knowledge/experiment.h"
#include "llamaref/papers/knowledge/knowledge.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_knowledge_report_options {
    const char *before, *after; /* probe outputs (matched by question) */
    const char *trained;        /* training examples (any fact file), or
                                   NULL: reliability is measured on its
                                   records with role "unknown" or no role */
    const char *out;            /* FILE.json: the Markdown links to the
                                   charts beside it (FILE-transitions.svg,
                                   FILE-refusals.svg, FILE-answers.svg) */
    size_t top;                 /* over-represented answers listed */
} lr_knowledge_report_options;

typedef struct lr_knowledge_report {
    size_t matched, missing;    /* facts of before found / not found after */
    lr_shift shift;
    lr_reliability rel;         /* (trained) */
    char reliability[32];       /* rel.correct / rel.prompts, "%.4f" or "n/a" */
    lr_answer_stats before_stats, after_stats;
    lr_buf json, md;
    lr_buf svg_transitions, svg_refusals;
    lr_buf svg_answers;         /* empty when no answer after training */
} lr_knowledge_report;

/* Errors name the file and line (a record that is not a probe output, a
 * repeated question, "correct" not one 0/1 per greedy answer). */
int lr_knowledge_report_build(const lr_knowledge_report_options *o,
                              lr_knowledge_report *out, lr_error *err);
void lr_knowledge_report_free(lr_knowledge_report *r);

/* r's files: out (the JSON), then beside it (lr_report_path)
 * -transitions.svg, -refusals.svg, -answers.svg (when not empty) and .md,
 * each written atomically; the first failure stops (err names the
 * file). */
int lr_knowledge_report_write(const lr_knowledge_report *r, const char *out,
                              lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
