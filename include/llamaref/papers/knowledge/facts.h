/* facts.h - fact files of the knowledge pipeline.
 *
 * A fact is {"question": str, "answers": [str, ...]} (the answer aliases;
 * a single string is accepted too), optionally with "paraphrases": [str]
 * (other wordings of the question, used by `llamaref mixture`) and
 * "category": "HighlyKnown" | "MaybeKnown" | "WeaklyKnown" | "Unknown" (as
 * written by `llamaref probe`).  Other fields are kept (record) and
 * ignored here.
 *
 * File formats, detected from the first non-blank character:
 *   '['  one JSON array of fact objects (EntityQuestions' relation files,
 *        ../shared/data/entityquestions/{dev,test}/P*.json, as they are);
 *   '{'  JSONL: one fact object per line, blank lines skipped.
 * Errors name the file and line of the offending record. */
#ifndef LLAMAREF_FACTS_H
#define LLAMAREF_FACTS_H

#include <stddef.h>

#include "llamaref/core/common.h"
#include "llamaref/core/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_fact {
    const char *question;
    const char **answers;     /* n_answers >= 1 aliases */
    size_t n_answers;
    const char **paraphrases; /* may be 0 */
    size_t n_paraphrases;
    int category;             /* lr_slick value, or -1 when absent */
    unsigned long line;       /* line of the record in its file */
    const lr_json *record;    /* the whole object (other fields) */
} lr_fact;

typedef struct lr_facts {
    lr_fact *items;
    size_t n;
    char *path;
    lr_json_doc **docs; /* one (array file) or one per line (JSONL) */
    size_t n_docs;
} lr_facts;

/* Appends the facts of `path` to *f (which must be zeroed before the first
 * call; several files may be loaded into one set). */
int lr_facts_load(const char *path, lr_facts *f, lr_error *err);
/* The same for the n files of paths in turn, then the first limit facts
 * kept (lr_facts_truncate; limit < 0: all). */
int lr_facts_load_all(const char *const *paths, size_t n, long limit,
                      lr_facts *f, lr_error *err);
void lr_facts_free(lr_facts *f);
/* Keeps the first n facts (no-op when there are fewer). */
void lr_facts_truncate(lr_facts *f, size_t n);

/* Reads a string array field of a record ("greedy", "samples", ...):
 * *out (malloc'ed, free it; may be NULL when n = 0) points into the
 * record.  A missing field gives n = 0; a field that is not an array of
 * strings is an error naming source and line. */
int lr_record_strings(const lr_json *record, const char *key,
                      const char *source, const char ***out, size_t *n,
                      lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
