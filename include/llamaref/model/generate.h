/* generate.h - what every pipeline that asks a model a question needs
 * around the sampler: the prompt style, the prompt's token ids, the stop
 * ids, and the answer text of the generated ids.  Used by the knowledge
 * probe (probe.h) and the detoxification pipeline (detox.h), and by the
 * `generate` command, and the sampling loop of that command.  Depends on
 * model.h, tokenizer.h, chat_template.h, forward.h (the decoder) and
 * sampler.h. */
#ifndef LLAMAREF_GENERATE_H
#define LLAMAREF_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "llamaref/core/common.h"
#include "llamaref/model/forward.h"
#include "llamaref/model/model.h"
#include "llamaref/model/sampler.h"
#include "llamaref/tokenizer/tokenizer.h"
#include "llamaref/core/tokens.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lr_prompt_style {
    LR_PROMPT_CHAT = 1,
    LR_PROMPT_PLAIN = 2,
    /* the same messages as LR_PROMPT_CHAT in ChatML (lr_chat_render_chatml:
     * "<|im_start|>{role}\n{content}<|im_end|>\n", SmolLM2's template) */
    LR_PROMPT_CHATML = 3
} lr_prompt_style;

/* "chat", "chatml" or "plain": the style as reports and the CLI name it. */
const char *lr_prompt_style_name(lr_prompt_style style);

/* The stop ids of a generation for this model and tokenizer (at most 16):
 * config eos ids; Llama 3 tokenizers add <|eot_id|>, <|eom_id|>,
 * <|end_of_text|>; llama2.c tokenizers add BOS (1), as llama2.c does. */
int lr_generation_stops(const lr_model *m, const lr_tokenizer *tok,
                        int *stops);

/* Decoding after a prompt already fed into dec (dec->logits: after its
 * last token): up to n_new tokens are sampled from smp; a stop id ends the
 * loop (not passed on); every other token goes to on_token (index 0, 1,
 * ...) and, unless it is the n_new-th, is fed back.  *generated counts the
 * tokens sampled, a final stop included.  on_token returns 0, or -1 with
 * err set to end with an error. */
int lr_generate_tokens(lr_decoder *dec, lr_sampler *smp, int n_new,
                       const int *stops, int n_stops,
                       int (*on_token)(void *ctx, int id, int index, lr_error *err),
                       void *ctx, int *generated, lr_error *err);

/* The settings of lr_generate_run: the sampler's (sampler.h) and the
 * loop's. */
typedef struct lr_generate_options {
    int n_new;                      /* new tokens at most */
    double temperature, top_p, min_p;
    int top_k;
    uint64_t seed;
    const int *stops;               /* [n_stops] ids that end the loop */
    int n_stops;
} lr_generate_options;

/* A whole generation from a prompt (`llamaref generate`): a decoder for
 * n_prompt + n_new positions (KV cache), the prompt fed at position 0,
 * then lr_generate_tokens with a sampler of o's settings (sampler.h) and
 * on_token(ctx, ...) for each new token.  *prompt_s and *gen_s: the
 * wall-clock seconds (lr_clock_seconds) of the prompt and of the loop;
 * *generated as lr_generate_tokens.  Returns 0; -1 with err set before
 * the first token; -2 with err set when the loop failed (tokens may have
 * been passed on). */
int lr_generate_run(const lr_model *m, const int *ids, int n_prompt,
                    const lr_generate_options *o,
                    int (*on_token)(void *ctx, int id, int index, lr_error *err),
                    void *ctx, int *generated, double *prompt_s, double *gen_s,
                    lr_error *err);
/* A one-turn chat prompt (an optional system message, the user's) rendered
 * with the tokenizer's own template when llamaref knows it (a GGUF's
 * ChatML, with its default system message), else the Llama 3.1 template,
 * with the assistant generation prompt, and tokenized with special tokens
 * parsed.  system may be NULL. */
int lr_chat_prompt_tokens(const lr_tokenizer *tok, const char *system,
                          const char *user, lr_tokens *out, lr_error *err);

/* Tokenizes a rendered prompt: chat prompts with special tokens parsed (the
 * text carries its own <|begin_of_text|>), plain ones with BOS prepended.
 * *ids is malloc'ed. */
int lr_prompt_tokens(const lr_tokenizer *tok, lr_prompt_style style,
                     const char *text, size_t len, int **ids, int *n,
                     lr_error *err);

/* Decoded answer text of generated ids: white space trimmed and, for
 * plain prompts, cut at the first newline.  Returns a new string. */
char *lr_answer_text(const lr_tokenizer *tok, lr_prompt_style style,
                     const int32_t *ids, size_t n, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
