/* detox.h - the few-shot detoxification prompt (SynthDetoxM-style
 * annotation, Moskovskiy et al. 2025): the model rewrites a toxic sentence
 * after ~10 toxic -> neutral demonstrations in the same language.  The
 * exact prompt (llamaref's wording; docs/evaluation.md prints it):
 *
 * LR_PROMPT_CHAT (Llama 3.1 chat template):
 *   system: "Rewrite the following {Language} text so that it is polite and
 *            not toxic, keeping its meaning and its language. Reply with the
 *            rewritten text only."
 *   per demonstration: user "{toxic}", assistant "{neutral}";
 *   then user "{input}" and the assistant generation prompt.
 * LR_PROMPT_CHATML: the same messages in ChatML (chat_template.h).
 * LR_PROMPT_PLAIN:
 *   BOS + the same instruction + "\n\n" + per demonstration
 *   "Toxic: {toxic}\nNeutral: {neutral}\n\n" + "Toxic: {input}\nNeutral:";
 *   the rewrite is the text up to the first newline.
 * Language names: de German, es Spanish, fr French, ru Russian,
 * en English, uk Ukrainian (else the code itself). */
#ifndef LLAMAREF_DETOX_H
#define LLAMAREF_DETOX_H

#include <stddef.h>

#include "llamaref/core/common.h"
#include "llamaref/core/json.h"
#include "llamaref/model/generate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_detox_shots {
    const char **toxic, **neutral;
    size_t n;
    lr_json_doc *doc;
} lr_detox_shots;

/* Reads {"<lang>": {"toxic": [...], "neutral": [...]}, ...} (SynthDetoxM's
 * few_shot_pairs.json) for one language; lists must have equal length. */
int lr_detox_shots_load(const char *path, const char *lang,
                        lr_detox_shots *out, lr_error *err);
void lr_detox_shots_free(lr_detox_shots *s);

/* The English name of a language code ("de" -> "German"), or lang
 * itself when it is not one of de, es, fr, ru, en, uk. */
const char *lr_detox_language_name(const char *lang);

/* Appends the prompt for `input` using the first n_shots demonstrations. */
int lr_detox_render(lr_prompt_style style, const char *lang,
                    const lr_detox_shots *shots, size_t n_shots,
                    const char *input, lr_buf *out, lr_error *err);

/* The kept rewrite: ill-formed UTF-8 replaced by U+FFFD, every CR and LF
 * replaced by a space, leading/trailing white space removed.  New string. */
char *lr_detox_clean(const char *s, size_t n, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
