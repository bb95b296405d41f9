/* knowledge.c - alias matching, SliCK categories and the category shift
 * matrix of the knowledge pipeline (see knowledge.h, docs/metrics.md).
 * Depends on textnorm.c for the normalisation. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/papers/knowledge/knowledge.h"
#include "llamaref/tokenizer/textnorm.h"

int lr_alias_match(const char *answer, const char *const *aliases,
                   size_t n_aliases, lr_error *err)
{
    size_t i;
    int found = 0;
    char *a = lr_text_normalize(answer, strlen(answer), NULL, err);
    if (!a) return -1;
    for (i = 0; i < n_aliases && !found; i++) {
        size_t len;
        char *al = lr_text_normalize(aliases[i], strlen(aliases[i]), &len, err);
        if (!al) {
            free(a);
            return -1;
        }
        /* an empty alias would match everything: it matches nothing */
        found = len > 0 && strstr(a, al) != NULL;
        free(al);
    }
    free(a);
    return found;
}

static const char *const slick_names[LR_SLICK_N] = {
    "HighlyKnown", "MaybeKnown", "WeaklyKnown", "Unknown"};
static const char *const slick_abbr[LR_SLICK_N] = {"HK", "MK", "WK", "UK"};

const char *lr_slick_name(lr_slick c)
{
    return (unsigned)c < LR_SLICK_N ? slick_names[c] : "?";
}

int lr_slick_parse(const char *name, lr_slick *out)
{
    int i;
    for (i = 0; i < LR_SLICK_N; i++)
        if (!strcmp(name, slick_names[i]) || !strcmp(name, slick_abbr[i])) {
            *out = (lr_slick)i;
            return 0;
        }
    return -1;
}

int lr_slick_category(const unsigned char *greedy_correct, size_t n_prompts,
                      size_t n_sample_correct, lr_slick *out, lr_error *err)
{
    size_t i, n_correct = 0;
    if (n_prompts == 0)
        return lr_fail(err, "SliCK category needs at least one prompt");
    for (i = 0; i < n_prompts; i++) n_correct += greedy_correct[i] != 0;
    if (n_correct == n_prompts) *out = LR_SLICK_HIGHLY_KNOWN;
    else if (n_correct > 0) *out = LR_SLICK_MAYBE_KNOWN;
    else if (n_sample_correct > 0) *out = LR_SLICK_WEAKLY_KNOWN;
    else *out = LR_SLICK_UNKNOWN;
    return 0;
}

int lr_shift_matrix(const lr_slick *before, const lr_slick *after, size_t n,
                    lr_shift *out, lr_error *err)
{
    size_t i, pos, neg;
    int a, b;
    const int HK = LR_SLICK_HIGHLY_KNOWN, MK = LR_SLICK_MAYBE_KNOWN;
    const int UK = LR_SLICK_UNKNOWN;
    memset(out, 0, sizeof *out);
    for (i = 0; i < n; i++) {
        if ((unsigned)before[i] >= LR_SLICK_N || (unsigned)after[i] >= LR_SLICK_N)
            return lr_fail(err, "shift matrix: fact %lu has an invalid category",
                           (unsigned long)i);
        out->count[before[i]][after[i]]++;
    }
    out->n = n;
    pos = out->count[UK][HK] + out->count[UK][MK] + out->count[MK][HK];
    neg = out->count[HK][UK] + out->count[HK][MK] + out->count[MK][UK];
    if (n == 0) return 0;
    for (b = 0; b < LR_SLICK_N; b++)
        for (a = 0; a < LR_SLICK_N; a++)
            out->fraction[b][a] = (double)out->count[b][a] / (double)n;
    out->positive = (double)pos / (double)n;
    out->negative = (double)neg / (double)n;
    return 0;
}
