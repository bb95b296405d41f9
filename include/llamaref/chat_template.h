/* chat_template.h - Llama 3.1 Instruct and Llama 3.0 Instruct chat prompts,
 * rendered exactly as Hugging Face's apply_chat_template renders the
 * models' Jinja templates (bos_token "<|begin_of_text|>").
 *
 * Llama 3.1: "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
 *   "Cutting Knowledge Date: December 2023\nToday Date: {date}\n\n{system}"
 *   "<|eot_id|>", always (system = the first message's content if its role
 *   is "system", else empty), then per remaining message
 *   "<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>";
 *   role "tool"/"ipython" gets header "ipython" and its content as a JSON
 *   string (the template applies tojson, ensure_ascii=False).
 * Llama 3.0: per message the same block (no system block, no dates), the
 *   first one preceded by "<|begin_of_text|>".
 * Both: contents are trimmed like Python str.strip() (Jinja's trim), except
 * tool contents in 3.1; the generation prompt is
 * "<|start_header_id|>assistant<|end_header_id|>\n\n".
 * Tool definitions and tool_calls are not supported.
 *
 * Ids: HF tokenizes the rendered text with special tokens parsed, so
 * special-token text inside a message becomes a special token too; use
 * lr_tokenizer_encode(..., LR_ENCODE_SPECIAL) on the rendered prompt.
 */
#ifndef LLAMAREF_CHAT_TEMPLATE_H
#define LLAMAREF_CHAT_TEMPLATE_H

#include "llamaref/common.h"
#include "llamaref/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lr_chat_template {
    LR_CHAT_LLAMA31 = 1,
    LR_CHAT_LLAMA30 = 2
} lr_chat_template;

typedef struct lr_chat_message {
    const char *role;    /* NUL-terminated */
    const char *content; /* content_len bytes of UTF-8 */
    size_t content_len;
} lr_chat_message;

#define LR_CHAT_DEFAULT_DATE "26 Jul 2024"

/* Appends the rendered prompt to out.  date may be NULL (the template's
 * default, "26 Jul 2024"); only Llama 3.1 uses it. */
int lr_chat_render(lr_chat_template tmpl, const lr_chat_message *msgs, size_t n,
                   int add_generation_prompt, const char *date, lr_buf *out,
                   lr_error *err);

/* Reads messages from a JSON array of {"role": str, "content": str}
 * objects (or an object with such an array under "messages").  The
 * returned array (free it) points into the document. */
int lr_chat_messages_from_json(const lr_json *v, const char *source,
                               lr_chat_message **msgs, size_t *n, lr_error *err);

/* Python str.isspace() for one code point (the set str.strip() removes). */
int lr_chat_is_py_space(uint32_t cp);

#ifdef __cplusplus
}
#endif

#endif
