/* refusal.c - the refusal pattern list and its matcher (see refusal.h).
 * Patterns are written in normalised form: lower case, ASCII apostrophe,
 * single spaces.  They cover the knowledge probe's "no information" answers
 * (Pletenev et al. 2025) and assistant-style refusals of the detox prompt. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/papers/knowledge/refusal.h"
#include "llamaref/tokenizer/textnorm.h"

const char *const lr_refusal_patterns[] = {
    /* could not find information */
    "couldn't find any information",
    "could not find any information",
    "couldn't find information",
    "could not find information",
    "can't find any information",
    "cannot find any information",
    "unable to find any information",
    "unable to find information",
    "no information available",
    "no information about",
    "i don't have any information",
    "i do not have any information",
    "i don't have information",
    "i do not have information",
    "i don't have enough information",
    "i do not have enough information",
    "not enough information",
    /* cannot verify */
    "cannot verify",
    "can't verify",
    "couldn't verify",
    "could not verify",
    "unable to verify",
    "cannot confirm",
    "can't confirm",
    /* do not know */
    "i don't know",
    "i do not know",
    "i'm not sure",
    "i am not sure",
    "i'm not aware",
    "i am not aware",
    "i'm not familiar",
    "i am not familiar",
    /* cannot help (assistant refusals, e.g. of a detox rewrite) */
    "i can't help",
    "i cannot help",
    "i can't assist",
    "i cannot assist",
    "i can't provide",
    "i cannot provide",
    "i can't fulfill",
    "i cannot fulfill",
    "i can't create",
    "i cannot create",
    "i can't rewrite",
    "i cannot rewrite",
    "i'm unable to",
    "i am unable to",
    "i won't be able to",
    "as an ai",
};

const size_t lr_refusal_pattern_count =
    sizeof lr_refusal_patterns / sizeof lr_refusal_patterns[0];

long lr_refusal_find(const char *text, lr_error *err)
{
    size_t i;
    long found = -1;
    char *t = lr_text_normalize(text, strlen(text), NULL, err);
    if (!t) return -2;
    for (i = 0; i < lr_refusal_pattern_count && found < 0; i++)
        if (strstr(t, lr_refusal_patterns[i])) found = (long)i;
    free(t);
    return found;
}

int lr_is_refusal(const char *text, lr_error *err)
{
    long r = lr_refusal_find(text, err);
    return r == -2 ? -1 : r >= 0;
}
