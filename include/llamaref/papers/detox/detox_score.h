/* detox_score.h - `llamaref detox-score` as a library call: FL (chrF / 100
 * against references), J = mean(STA * SIM * FL) from external
 * per-sentence STA/SIM scores, and best-candidate selection among several
 * candidates per source (docs/metrics.md, "detox-score").
 *
 * Input: a TSV file with a header line, or a JSONL file (detected by a
 * first non-blank character '{'), one candidate per row/line with the
 * fields
 *   source     the toxic input (optional: without it every row is its own
 *              source); rows with an equal source are candidates for it
 *   output     the candidate rewrite (required)
 *   reference  human reference (optional; JSONL may give an array of up
 *              to 8 references); FL needs it
 *   <STA>, <SIM>  numbers in [0, 1], the columns named by sta_col / sim_col
 * Selection score of a candidate = product of the factors present (STA,
 * SIM, FL); a refusal (refusal.h) scores -1; the first highest wins.
 * Reported over the selected candidates: mean FL, corpus chrF, mean STA,
 * mean SIM and J = mean(STA * SIM * FL).
 * Depends on: chrf.h, refusal.h, json.h, common.h. */
#ifndef LLAMAREF_DETOX_SCORE_H
#define LLAMAREF_DETOX_SCORE_H

#include <stddef.h>

#include "llamaref/eval/chrf.h"
#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_detox_score_options {
    const char *sta_col, *sim_col; /* NULL: no such column */
    lr_chrf_config chrf;           /* FL's chrF (lr_chrf_config_default) */
    int want_selected;             /* fill lr_detox_score_result.selected */
} lr_detox_score_options;

typedef struct lr_detox_score_result {
    size_t sources, candidates, refusals;
    int have_ref;                  /* the candidates have references */
    double fl;                     /* mean sentence chrF / 100 (have_ref) */
    double chrf;                   /* corpus chrF over the selected (have_ref) */
    double sta, sim;               /* means (when the column is given) */
    double j;                      /* mean STA * SIM * FL (all three given) */
    /* want_selected: one JSON line per source, in order of first
     * appearance: {"source", "output", "line", "candidates", "refusal",
     * "score"[, "fl"][, "sta"][, "sim"][, "j"]} */
    lr_buf selected;
} lr_detox_score_result;

/* Scores text[0..len), NUL-terminated at len (modified in place; name
 * for error messages, "<name>:<line>").  Errors name the line: a missing field, a number
 * outside [0, 1], references on some candidates only; "no candidates". */
int lr_detox_score_text(char *text, size_t len, const char *name,
                        const lr_detox_score_options *o,
                        lr_detox_score_result *out, lr_error *err);
/* The same for a file. */
int lr_detox_score_file(const char *path, const lr_detox_score_options *o,
                        lr_detox_score_result *out, lr_error *err);
void lr_detox_score_result_free(lr_detox_score_result *r);

#ifdef __cplusplus
}
#endif

#endif
