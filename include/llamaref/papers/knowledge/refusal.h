/* refusal.h - detection of refusals ("I couldn't find any information
 * about ...", "I cannot verify ...") in generated answers and rewrites.
 *
 * An answer is a refusal when its normalised form (textnorm.h: lower-cased,
 * U+2019 -> ', white space collapsed) contains one of the patterns of
 * lr_refusal_patterns (already in normalised form).  The list is printed in
 * docs/metrics.md; changing it changes reported refusal counts. */
#ifndef LLAMAREF_REFUSAL_H
#define LLAMAREF_REFUSAL_H

#include <stddef.h>

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

extern const char *const lr_refusal_patterns[];
extern const size_t lr_refusal_pattern_count;

/* Returns the index of the first pattern found in text (>= 0), -1 when the
 * text is not a refusal, -2 on out of memory (err filled). */
long lr_refusal_find(const char *text, lr_error *err);

/* 1 refusal, 0 not, -1 on out of memory. */
int lr_is_refusal(const char *text, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
