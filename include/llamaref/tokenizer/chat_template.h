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

#include "llamaref/core/common.h"
#include "llamaref/core/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lr_chat_template {
    LR_CHAT_LLAMA31 = 1,
    LR_CHAT_LLAMA30 = 2,
    LR_CHAT_CHATML = 3 /* see lr_chat_render_chatml */
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

/* ChatML (SmolLM2's tokenizer.chat_template): when there is a first
 * message, it is not a system message and default_system is not NULL,
 * "<|im_start|>system\n{default_system}<|im_end|>\n" first; then per
 * message "<|im_start|>{role}\n{content}<|im_end|>\n" (contents as given,
 * not trimmed); the generation prompt is "<|im_start|>assistant\n". */
int lr_chat_render_chatml(const lr_chat_message *msgs, size_t n, int add_generation_prompt,
                          const char *default_system, lr_buf *out, lr_error *err);

/* Recognises a Jinja chat template (a GGUF's tokenizer.chat_template):
 * the ChatML family (it writes '<|im_start|>' + message['role']) gives
 * LR_CHAT_CHATML and, when the template has a literal default system
 * message '<|im_start|>system\n...<|im_end|>', a malloc'ed copy of it in
 * *default_system (else NULL); Llama 3 templates give LR_CHAT_LLAMA31 /
 * LR_CHAT_LLAMA30.  Returns -1 (err says so) for other templates. */
int lr_chat_template_detect(const char *jinja, lr_chat_template *tmpl, char **default_system,
                            lr_error *err);

/* Reads messages from a JSON array of {"role": str, "content": str}
 * objects (or an object with such an array under "messages").  The
 * returned array (free it) points into the document. */
int lr_chat_messages_from_json(const lr_json *v, const char *source,
                               lr_chat_message **msgs, size_t *n, lr_error *err);

/* `llamaref chat-template --template`: "llama3.1" or "llama3" to *out:
 * 0, or -1 for another name (*out untouched). */
int lr_chat_template_from_name(const char *name, lr_chat_template *out);
/* lr_chat_render of the messages of the JSON file path (as
 * lr_chat_messages_from_json reads them); errors name the file. */
int lr_chat_render_file(lr_chat_template tmpl, const char *path,
                        int add_generation_prompt, const char *date, lr_buf *out,
                        lr_error *err);

/* Python str.isspace() for one code point (the set str.strip() removes). */
int lr_chat_is_py_space(uint32_t cp);

#ifdef __cplusplus
}
#endif

#endif
