/* chrf.h - chrF and chrF++ exactly as sacreBLEU 2.x computes them.
 *
 * sacreBLEU `CHRF()` is chrF (char_order 6, word_order 0, beta 2) and
 * `CHRF(word_order=2)` is chrF++.  Definitions (docs/metrics.md):
 *  - text is UTF-8 decoded to Unicode code points; ill-formed UTF-8 is an
 *    error naming the byte offset (sacreBLEU reads text with Python's strict
 *    UTF-8 codec, which rejects the same inputs);
 *  - white space is Python's str.isspace() set (White_Space plus
 *    U+001C..U+001F);
 *  - character n-grams (n = 1..char_order) of the text with all white space
 *    removed; word n-grams (n = 1..word_order) of the white-space-split words
 *    after one ASCII punctuation mark is split off the end of each word of
 *    two or more characters (or, if the end is not punctuation, off its
 *    start);
 *  - per order: hyp = number of hypothesis n-grams (0 when the reference has
 *    none of that order), ref = number of reference n-grams, match =
 *    sum over distinct n-grams of min(count in hyp, count in ref);
 *  - score: precision and recall are averaged over the "effective" orders
 *    where hyp > 0 and ref > 0; F = 100 (1+b^2) P R / (b^2 P + R), 0 when no
 *    order is effective or P + R = 0 (eps_smoothing selects the chrF++.py
 *    style average of per-order F scores instead);
 *  - several references: the statistics of the reference with the highest
 *    sentence F are used (the first on ties);
 *  - corpus score: statistics summed over sentences, then one F.
 */
#ifndef LLAMAREF_CHRF_H
#define LLAMAREF_CHRF_H

#include <stddef.h>
#include <stdint.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_CHRF_MAX_CHAR_ORDER 12
#define LR_CHRF_MAX_WORD_ORDER 12
#define LR_CHRF_MAX_ORDERS (LR_CHRF_MAX_CHAR_ORDER + LR_CHRF_MAX_WORD_ORDER)

typedef struct lr_chrf_config {
    int char_order;    /* 6 in sacreBLEU; 1..LR_CHRF_MAX_CHAR_ORDER */
    int word_order;    /* 0 = chrF, 2 = chrF++; 0..LR_CHRF_MAX_WORD_ORDER */
    int beta;          /* 2 */
    int eps_smoothing; /* 0 = sacreBLEU 2.x default (effective order) */
} lr_chrf_config;

/* Statistics of one sentence or a whole corpus: per order (char orders
 * 1..char_order, then word orders 1..word_order) the hypothesis, reference
 * and matching n-gram counts. */
typedef struct lr_chrf_stats {
    int n_orders; /* char_order + word_order */
    int64_t hyp[LR_CHRF_MAX_ORDERS];
    int64_t ref[LR_CHRF_MAX_ORDERS];
    int64_t match[LR_CHRF_MAX_ORDERS];
} lr_chrf_stats;

/* Fills cfg with sacreBLEU's defaults (chrF: 6, 0, 2, no eps smoothing). */
void lr_chrf_config_default(lr_chrf_config *cfg);

/* Checks the orders and beta; returns -1 with a message when out of range. */
int lr_chrf_config_check(const lr_chrf_config *cfg, lr_error *err);

/* Sets all counts of s to zero for the orders of cfg. */
void lr_chrf_stats_init(lr_chrf_stats *s, const lr_chrf_config *cfg);

/* acc += s, order by order (both must have the same n_orders). */
void lr_chrf_stats_add(lr_chrf_stats *acc, const lr_chrf_stats *s);

/* Statistics of hypothesis hyp[0..hyp_len) against n_refs >= 1 references
 * refs[i][0..ref_lens[i]) (best reference by sentence F).  Texts are UTF-8;
 * NUL bytes are ordinary characters.  Returns 0, or -1 with err naming
 * "hypothesis" / "reference i" and the byte offset of ill-formed UTF-8. */
int lr_chrf_sentence_stats(const lr_chrf_config *cfg, const char *hyp,
                           size_t hyp_len, const char *const *refs,
                           const size_t *ref_lens, size_t n_refs,
                           lr_chrf_stats *out, lr_error *err);

/* The score (0..100) from sentence or summed corpus statistics. */
double lr_chrf_score(const lr_chrf_config *cfg, const lr_chrf_stats *s);

/* Convenience: sentence score of a NUL-terminated hypothesis against one
 * NUL-terminated reference.  Returns 0 and stores the score in *score. */
int lr_chrf_sentence(const lr_chrf_config *cfg, const char *hyp,
                     const char *ref, double *score, lr_error *err);

/* 1 if cp is white space for chrF (Python str.isspace()), else 0. */
int lr_chrf_is_space(uint32_t cp);

/* A text file of sentences, one per line, UTF-8 checked (errors name the
 * line and byte); a final newline does not start an extra line, and
 * "\r\n" is fine since chrF ignores white space.  line[i] points into
 * data (not NUL-terminated; line_len[i] bytes). */
typedef struct lr_lines {
    char *data;
    size_t len;
    char **line;
    size_t *line_len;
    size_t n;
} lr_lines;

/* The sentences of the file path into *out (owned by it: lr_lines_free);
 * -1 with err naming the file (and the line of ill-formed UTF-8). */
int lr_lines_read(const char *path, lr_lines *out, lr_error *err);
/* Frees what lr_lines_read allocated (also after it failed, or on a
 * zeroed l). */
void lr_lines_free(lr_lines *l);

#define LR_CHRF_MAX_REFS 16

/* Corpus statistics (*total) of the hypothesis file's sentences against
 * n_refs (1 .. LR_CHRF_MAX_REFS) reference files of as many lines (the
 * best reference per sentence); *n sentences.  sentence (may be NULL):
 * each sentence's score, malloc'ed.  Errors name the file and line. */
int lr_chrf_files(const lr_chrf_config *cfg, const char *hyp_path,
                  const char *const *ref_paths, size_t n_refs, double **sentence,
                  size_t *n, lr_chrf_stats *total, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
