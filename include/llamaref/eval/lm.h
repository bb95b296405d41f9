/* lm.h - a language model as the evaluation pipelines use it: the model
 * (any format lr_model_load reads), its tokenizer and an optional LoRA
 * adapter merged into the weights, loaded and checked in one call; and the
 * prompt template such a model expects.
 * Depends on: model.h, tokenizer.h, generate.h (lr_prompt_style). */
#ifndef LLAMAREF_LM_H
#define LLAMAREF_LM_H

#include "llamaref/core/common.h"
#include "llamaref/model/generate.h"
#include "llamaref/model/model.h"
#include "llamaref/tokenizer/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_lm {
    /* what to load (set by the caller) */
    const char *model_path;   /* required */
    const char *tok_path;     /* NULL: the model's directory or GGUF file */
    const char *adapter_path; /* NULL: none; else a PEFT adapter directory */
    int keep_dtype;           /* keep BF16/F16 weights as stored (mmap'ed) */
    int no_check_weights;     /* skip lr_check_weights */
    int no_tokenizer;         /* load no tokenizer (ids in, ids out) */
    /* what was loaded */
    lr_model *model;
    lr_tokenizer tok;
    int have_tok;
} lr_lm;

/* Loads the model (lr_model_load), checks its weights (unless
 * no_check_weights), merges the adapter (W' = W + s B A, lora.h; errors
 * begin "--adapter DIR: "), loads the tokenizer (a llama2.c checkpoint
 * needs tok_path; none with no_tokenizer) and checks that it fits the
 * model (lr_check_vocab).  On
 * error what was loaded stays for lr_lm_free. */
int lr_lm_load(lr_lm *lm, lr_error *err);
/* Frees what lr_lm_load loaded; the paths stay.  NULL-safe fields. */
void lr_lm_free(lr_lm *lm);

/* The first NaN or infinite weight of m fails, naming the model path, the
 * tensor and the element.  BF16/F16 weights are checked as stored. */
int lr_check_weights(const lr_model *m, lr_error *err);
/* The tokenizer fits the model: the config's BOS/EOS ids inside the
 * vocabulary, and (tok not NULL) no more tokens than vocab_size and, but
 * for llama2.c tokenizers, at least half as many. */
int lr_check_vocab(const lr_model *m, const lr_tokenizer *tok, lr_error *err);

/* The prompt style for arg "auto" (or NULL), "chat" or "plain".  auto:
 * plain for a model trained without chat (a world model, world.json in
 * its directory, or config.json's "llamaref_template": "plain"), else
 * chatml when the tokenizer's chat template is ChatML (SmolLM2), chat when
 * the tokenizer has <|eot_id|>, else plain; *why says which rule chose
 * (NULL when arg chose).  "chat" gives chatml for a ChatML tokenizer and
 * fails without <|eot_id|>; another arg fails. */
int lr_lm_prompt_style(const lr_lm *lm, const char *arg, lr_prompt_style *out,
                       const char **why, lr_error *err);

/* The token ids generation stops at, as `llamaref generate` uses them:
 * the config's eos_token_id(s) and, with a tokenizer loaded, llama2.c's
 * BOS (id 1) or else <|eot_id|>, <|eom_id|> and <|end_of_text|> where the
 * vocabulary has them; each once, at most cap of them.  Returns how many
 * were written to stops. */
int lr_lm_stop_ids(const lr_lm *lm, int *stops, int cap);
/* The prompt text as token ids for generation (needs the tokenizer): BOS
 * and the text, or with chat the chat template's user turn (system: its
 * system message, may be NULL) and the assistant header
 * (lr_chat_prompt_tokens).  *ids is malloc'ed; an empty result fails
 * ("empty prompt"). */
int lr_lm_prompt_ids(const lr_lm *lm, const char *prompt, int chat,
                     const char *system, int **ids, int *n, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
