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
 * The harness's "mmlu_continuation" task (LR_MMLU_CONTINUATION) asks the
 * same questions without listing the choices: the description reads
 * "The following are questions (with answers) about {subject}.\n\n",
 *   doc_to_text = "Question: {question.strip()}\nAnswer:",
 * a shot is doc_to_text + " " + its correct choice's text, and the
 * continuations are " " + each choice's text.  It measures whether the
 * model knows the answer rather than whether it can map an answer to a
 * letter, which is what a small model can do (docs/evaluation.md).
 * Both tasks report acc (arg max of the log-likelihoods) and acc_norm
 * (arg max of ll / len(choice) in characters, len of "A".."D" or of the
 * choice text); for the letter task they agree.
 *
 * Data: DIR/dev/<subject>_dev.csv and DIR/test/<subject>_test.csv, either
 * the reformatted files of ../shared/data/mmlu (header
 * "question,choice0,choice1,choice2,choice3,answer", answer 0-3) or
 * Hendrycks' original header-less files (6 fields, answer A-D); detected
 * per file from its first record. */
#ifndef LLAMAREF_MMLU_H
#define LLAMAREF_MMLU_H

#include <stddef.h>

#include "llamaref/core/common.h"
#include "llamaref/eval/loglik.h"
#include "llamaref/tokenizer/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* Reads one subject's CSV file (either layout above) into out, which
 * owns the item strings; free with lr_mmlu_items_free (NULL-safe).
 * Errors name the file and line (a wrong field count, an answer outside
 * A-D / 0-3, an empty file). */
int lr_mmlu_read(const char *path, lr_mmlu_items *out, lr_error *err);
void lr_mmlu_items_free(lr_mmlu_items *it);

typedef enum lr_mmlu_format {
    LR_MMLU_LETTER = 0,      /* task "mmlu": " A".." D" after the choices */
    LR_MMLU_CONTINUATION = 1 /* task "mmlu_continuation": " {choice}" */
} lr_mmlu_format;

/* "letter" / "continuation" -> *f; -1 for anything else. */
int lr_mmlu_format_parse(const char *name, lr_mmlu_format *f);
const char *lr_mmlu_format_name(lr_mmlu_format f);

/* Appends the context (description, shots, question, "Answer:") of the
 * letter task to out. */
int lr_mmlu_context(const char *subject, const lr_mmlu_item *shots,
                    size_t n_shots, const lr_mmlu_item *q, lr_buf *out,
                    lr_error *err);

/* The same for either format. */
int lr_mmlu_prompt(lr_mmlu_format f, const char *subject,
                   const lr_mmlu_item *shots, size_t n_shots,
                   const lr_mmlu_item *q, lr_buf *out, lr_error *err);

/* doc_to_choice[c] of q: "A".."D", or the text of choice c; the
 * continuation scored is " " (the target delimiter) + this. */
const char *lr_mmlu_choice(lr_mmlu_format f, const lr_mmlu_item *q, int c);

/* From the log-likelihoods of q's four continuations: *pred = arg max of
 * ll (acc), *pred_norm = arg max of ll[c] / len(lr_mmlu_choice(c)) in
 * Unicode characters (acc_norm; an empty choice divides by zero as numpy
 * does).  lr_mc_argmax breaks ties (the first) and skips NaN. */
void lr_mmlu_predict(lr_mmlu_format f, const lr_mmlu_item *q,
                     const double ll[4], long *pred, long *pred_norm);

/* Scores question q: ll[c] = log-likelihood of continuation c after the
 * prompt (loglik.h: lr_loglik_encode_pair, add_bos as there); *pred and
 * *pred_norm as lr_mmlu_predict.  ctx is scratch space for the prompt. */
int lr_mmlu_score(lr_loglik *L, const lr_tokenizer *tok, int add_bos,
                  lr_mmlu_format f, const char *subject,
                  const lr_mmlu_item *shots, size_t n_shots,
                  const lr_mmlu_item *q, lr_buf *ctx, double ll[4],
                  long *pred, long *pred_norm, lr_error *err);

/* Python str.strip() of s (Unicode white space); a new string. */
char *lr_py_strip(const char *s, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
