/* dataset.h - JSONL training data for the LoRA trainer.
 *
 * One JSON object per line (blank lines skipped), in one of the formats:
 *   {"messages": [{"role", "content"}, ...]}   Llama 3.1 chat template
 *   {"question": q, "answer": a}   rendered with the Llama 3.1 template as
 *       system "Answer the following question.", user "Question: {q}",
 *       assistant "Answer: {a}"; {"question": q, "answers": [a, ...]} (the
 *       world's and EntityQuestions' alias lists): the first alias as a
 *   {"prompt": p, "completion": c}  plain text: <bos> p c <eos>, the two
 *       parts tokenized separately
 *   {"text": t}  a pretraining document: <bos> t <eos>, every token
 *       trained (also with loss_on COMPLETION)
 *   {"input_ids": [...], "labels": [...]}  already tokenized (labels
 *       optional, same length, -100 = ignored)
 * loss_on ALL: every token is a label; COMPLETION: only the assistant
 * messages' content and their closing <|eot_id|> (resp. the completion and
 * <eos>).  Labels use the HF convention (same length as the ids; the loss
 * shifts).  A line that is not valid JSON, lacks the fields, is longer
 * than max_len (unless truncate) or trains on no token is an error naming
 * the file and line; nothing is skipped silently. */
#ifndef LLAMAREF_DATASET_H
#define LLAMAREF_DATASET_H

#include "llamaref/core/common.h"
#include "llamaref/tokenizer/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LR_LOSS_ALL, LR_LOSS_COMPLETION } lr_loss_on;

typedef struct lr_example {
    int *ids, *labels;
    int len;
    int line; /* source line (1-based) */
} lr_example;

typedef struct lr_dataset {
    lr_example *ex;
    size_t n;
    int max_len; /* longest example */
} lr_dataset;

typedef struct lr_dataset_opts {
    lr_loss_on loss_on;
    int max_len;  /* 0: no limit */
    int truncate; /* cut longer examples to max_len instead of failing */
    int vocab_size; /* ids must be below it (0: unchecked) */
} lr_dataset_opts;

/* tok may be NULL when every line is pre-tokenized. */
int lr_dataset_load(const char *path, const lr_tokenizer *tok,
                    const lr_dataset_opts *o, lr_dataset *ds, lr_error *err);
void lr_dataset_free(lr_dataset *ds);

/* Permutation of 0..n-1 for an epoch: Fisher-Yates (i = n-1 .. 1, swap i
 * with lr_rng_below(i + 1)) on SplitMix64 seeded with
 * lr_stream_seed(seed, LR_STREAM_SHUFFLE, epoch, 0) (docs/rng.md). */
void lr_dataset_shuffle(size_t *perm, size_t n, uint64_t seed, long epoch);

/* Pads examples idx[0..B) to their longest length T (right padding with
 * pad_id, mask 0, label -100) into tokens/labels [B, T] and mask [B, T]
 * (buffers of at least B * ds->max_len).  Returns T. */
int lr_dataset_collate(const lr_dataset *ds, const size_t *idx, int B,
                       int pad_id, int *tokens, int *labels,
                       unsigned char *mask);

#ifdef __cplusplus
}
#endif

#endif
