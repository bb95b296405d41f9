/* mmlu.h - MMLU (Hendrycks et al.) as lm-evaluation-harness's default
 * "mmlu" task defines it: per subject, the description
 *   "The following are multiple choice questions (with answers) about
 *    {subject with '_' -> ' '}.\n\n"
 * then the first n_shots dev questions (sampler first_n), each
 *   doc_to_text + " " + letter, joined and followed by "\n\n",
 * then doc_to_text of the test question, where
 *   doc_to_text = "{question.strip()}\nA. {c0}\nB. {c1}\nC. {c2}\nD. {c3}\nAnswer:"
 * The choices are the continuations " A", " B", " C", " D" (target
 * delimiter " "); the prediction is the arg max of their log-likelihoods
 * (acc).  Overall accuracy is weighted by subject size (the harness's
 * group aggregation).
 *
 * Data: DIR/dev/<subject>_dev.csv and DIR/test/<subject>_test.csv, either
 * the reformatted files of ../shared/data/mmlu (header
 * "question,choice0,choice1,choice2,choice3,answer", answer 0-3) or
 * Hendrycks' original header-less files (6 fields, answer A-D); detected
 * per file from its first record. */
#ifndef LLAMAREF_MMLU_H
#define LLAMAREF_MMLU_H

#include <stddef.h>

#include "llamaref/common.h"

#define LR_MMLU_N_SUBJECTS 57
extern const char *const lr_mmlu_subjects[LR_MMLU_N_SUBJECTS];

typedef struct lr_mmlu_item {
    char *question;
    char *choices[4];
    int answer;          /* 0..3 */
    unsigned long line;  /* line in its file */
} lr_mmlu_item;

typedef struct lr_mmlu_items {
    lr_mmlu_item *items;
    size_t n;
    int original_format; /* 1: header-less with letters */
} lr_mmlu_items;

int lr_mmlu_read(const char *path, lr_mmlu_items *out, lr_error *err);
void lr_mmlu_items_free(lr_mmlu_items *it);

/* Appends the context (description, shots, question, "Answer:") to out. */
int lr_mmlu_context(const char *subject, const lr_mmlu_item *shots,
                    size_t n_shots, const lr_mmlu_item *q, lr_buf *out,
                    lr_error *err);

/* Python str.strip() of s (Unicode white space); a new string. */
char *lr_py_strip(const char *s, lr_error *err);

#endif
