/* truthfulqa.h - TruthfulQA multiple choice (MC1, MC2) as
 * lm-evaluation-harness's truthfulqa_mc1 / truthfulqa_mc2 tasks define it:
 * zero-shot, context = LR_TQA_PRIMER + "\n\nQ: " + question + "\nA:",
 * continuation = " " + choice, score = sum of the continuation token
 * log-probabilities; MC1 / MC2 from mcscore.h.
 *
 * Data: a JSON array of {"question", "mc1_targets", "mc2_targets"} where
 * each target set is either an object {choice: 0/1, ...} in file order
 * (TruthfulQA's mc_task.json, ../shared/data/truthfulqa) or
 * {"choices": [...], "labels": [...]} (the Hugging Face dataset). */
#ifndef LLAMAREF_TRUTHFULQA_H
#define LLAMAREF_TRUTHFULQA_H

#include <stddef.h>

#include "llamaref/core/common.h"
#include "llamaref/core/json.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The harness's fixed 6-QA primer (prompt_qa), without a trailing newline.
 * (Exported as lr_tqa_primer: the shared library exports lr_ names only.) */
extern const char lr_tqa_primer[];
#define LR_TQA_PRIMER lr_tqa_primer

typedef struct lr_tqa_targets {
    const char **choices;
    unsigned char *labels;
    size_t n;
} lr_tqa_targets;

typedef struct lr_tqa_item {
    const char *question;
    lr_tqa_targets mc1, mc2;
    unsigned long line;
} lr_tqa_item;

typedef struct lr_tqa {
    lr_tqa_item *items;
    size_t n;
    lr_json_doc *doc;
} lr_tqa;

/* Reads the JSON file (either target layout above) into out; the item
 * strings point into out->doc, which out owns.  Errors name the file and
 * line.  lr_tqa_free releases everything (NULL-safe). */
int lr_tqa_load(const char *path, lr_tqa *out, lr_error *err);
void lr_tqa_free(lr_tqa *t);

/* Appends the context of one question. */
int lr_tqa_context(const char *question, lr_buf *out, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
