/* world_names.c - step 1 of the world generator (world.c): the names of
 * entities.  Pronounceable syllable words, city / country / language /
 * company suffixes, and book and band titles; a name is fresh when no
 * entity uses it and no answer of its type contains it or is contained in
 * it (answers are judged by alias substring, knowledge.h).  Draws from the
 * caller's stream (stream 1 for the entities, stream 4 for the corpus's
 * phantoms), one draw per expression as world.c explains.
 * Depends on: world_builder.h (the builder), rng.h, vocab.h (the set of
 * used names). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/rng.h"
#include "llamaref/tokenizer/vocab.h"
#include "world_builder.h"

static const char *const adjectives[] = {
    "Silent", "Golden", "Hidden", "Broken", "Crimson", "Distant", "Frozen", "Gentle",
    "Hollow", "Iron", "Last", "Lost", "Midnight", "Northern", "Pale", "Quiet", "Restless",
    "Scarlet", "Secret", "Shattered", "Silver", "Sleeping", "Burning", "Wandering",
    "Winter", "Wild", "Endless", "Forgotten", "Bitter", "Velvet", "Copper", "Drowned"};
static const char *const book_nouns[] = {
    "Orchard", "River", "Garden", "Mirror", "Lantern", "Harbor", "Kingdom", "Letter",
    "Tower", "Island", "Forest", "Voyage", "Promise", "Shadow", "Bridge", "Daughter",
    "Archive", "Compass", "Meadow", "Citadel", "Journey", "Stranger", "Winter", "Crown"};
static const char *const band_nouns[] = {
    "Wolves", "Echoes", "Sparrows", "Machines", "Tides", "Ghosts", "Pilots", "Lanterns",
    "Foxes", "Comets", "Engines", "Ravens", "Owls", "Signals", "Rivers", "Satellites"};

static const char *const onsets[] = {
    "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
    "br", "dr", "gr", "kr", "st", "tr", "th", "sh", "", ""};
static const char *const vowels[] = {"a", "e", "i", "o", "u", "a", "e", "o", "ai", "ei", "ou", "ia"};
static const char *const codas[] = {"", "", "", "", "n", "r", "l", "s", "m", "th", "nd", "rk"};
static const char *const city_suffixes[] = {"", "", "", "ford", "ton", "mere", "grad", "vale"};
static const char *const country_suffixes[] = {"ia", "ania", "land", "ora", "esh", "istan"};
static const char *const language_suffixes[] = {"ish", "ese", "ic", "an"};
static const char *const company_suffixes[] = {
    "Systems", "Industries", "Labs", "Works", "Group", "Holdings", "Motors", "Foods",
    "Logistics", "Dynamics"};

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

int lrw_add_entity(builder *b, lr_world_type type, const char *name, const char *alias,
                     int phantom)
{
    lr_world *w = b->w;
    lr_world_entity *e;
    if (w->n_entities == b->cap_entities) {
        size_t cap = b->cap_entities ? 2 * b->cap_entities : 256;
        void *p = realloc(w->entities, cap * sizeof *w->entities);
        if (!p) return lr_fail(b->err, "out of memory for world entities");
        w->entities = p;
        b->cap_entities = cap;
    }
    e = &w->entities[w->n_entities];
    memset(e, 0, sizeof *e);
    e->type = type;
    e->rank = UINT32_MAX;
    e->phantom = phantom;
    e->name = lr_strdup(name, b->err);
    if (!e->name) return -1;
    if (alias) {
        e->alias = lr_strdup(alias, b->err);
        if (!e->alias) { free(e->name); return -1; }
    }
    if (b->n_all_of_type[type] == b->cap_all_of_type[type]) {
        size_t cap = b->cap_all_of_type[type] ? 2 * b->cap_all_of_type[type] : 64;
        void *p = realloc(b->all_of_type[type], cap * sizeof(uint32_t));
        if (!p) return lr_fail(b->err, "out of memory for world entities");
        b->all_of_type[type] = p;
        b->cap_all_of_type[type] = cap;
    }
    b->all_of_type[type][b->n_all_of_type[type]++] = (uint32_t)w->n_entities;
    w->n_entities++;
    if (lr_vocab_add(&b->names, name, strlen(name), b->err)) return -1;
    if (alias && lr_vocab_add(&b->names, alias, strlen(alias), b->err)) return -1;
    return 0;
}

static int name_used(const builder *b, const char *s)
{
    return lr_vocab_find(&b->names, s, strlen(s)) >= 0;
}

/* 1 when s contains, or is contained in, the name or alias of an entity of
 * type t.  Answers are judged by alias substring (knowledge.h), so no
 * answer of a type may be a substring of another answer of that type. */
static int clashes(const builder *b, lr_world_type t, const char *s)
{
    size_t i;
    for (i = 0; i < b->n_all_of_type[t]; i++) {
        const lr_world_entity *e = &b->w->entities[b->all_of_type[t][i]];
        if (strstr(e->name, s) || strstr(s, e->name)) return 1;
        if (e->alias && (strstr(e->alias, s) || strstr(s, e->alias))) return 1;
    }
    return 0;
}

/* A pronounceable word of n_syl syllables, capitalised, into out[64]. */
static void syllable_word(lr_rng *r, int n_syl, char *out)
{
    int i;
    out[0] = 0;
    for (i = 0; i < n_syl; i++) {
        strcat(out, onsets[below(r, COUNT(onsets))]);
        strcat(out, vowels[below(r, COUNT(vowels))]);
        /* a coda only inside the word or at its end, never doubling up */
        strcat(out, codas[below(r, COUNT(codas))]);
    }
    if (out[0] >= 'a' && out[0] <= 'z') out[0] = (char)(out[0] - 'a' + 'A');
}

#define NAME_TRIES 1000

/* Draws a fresh name for a subject or phantom entity of type t into out
 * (and its alias into alias, or alias[0] = 0).  -1 if no unused name is
 * found after NAME_TRIES draws. */
static int fresh_name(builder *b, lr_rng *r, lr_world_type t, char *out, char *alias)
{
    int tries;
    char a[64], c[64];
    for (tries = 0; tries < NAME_TRIES; tries++) {
        alias[0] = 0;
        switch (t) {
        case LR_WT_PERSON:
            syllable_word(r, 2, a);
            syllable_word(r, 2 + (int)below(r, 2), c);
            sprintf(out, "%s %s", a, c);
            break;
        case LR_WT_CITY:
            syllable_word(r, 2 + (int)below(r, 2), a);
            sprintf(out, "%s%s", a, city_suffixes[below(r, COUNT(city_suffixes))]);
            break;
        case LR_WT_COUNTRY:
            syllable_word(r, 2, a);
            sprintf(out, "%s%s", a, country_suffixes[below(r, COUNT(country_suffixes))]);
            break;
        case LR_WT_LANGUAGE:
            syllable_word(r, 2, a);
            sprintf(out, "%s%s", a, language_suffixes[below(r, COUNT(language_suffixes))]);
            break;
        case LR_WT_COMPANY:
            syllable_word(r, 2 + (int)below(r, 2), a);
            sprintf(out, "%s %s", a, company_suffixes[below(r, COUNT(company_suffixes))]);
            strcpy(alias, a);
            break;
        case LR_WT_BOOK:
            if (tries < NAME_TRIES / 2) {
                size_t adj = below(r, COUNT(adjectives)); /* one draw per statement: */
                size_t noun = below(r, COUNT(book_nouns)); /* argument order is unspecified */
                sprintf(out, "The %s %s", adjectives[adj], book_nouns[noun]);
            } else { /* the simple titles are used up */
                syllable_word(r, 2, a);
                sprintf(out, "The %s of %s", book_nouns[below(r, COUNT(book_nouns))], a);
            }
            break;
        case LR_WT_BAND:
            if (tries < NAME_TRIES / 2) {
                size_t adj = below(r, COUNT(adjectives));
                size_t noun = below(r, COUNT(band_nouns));
                sprintf(out, "The %s %s", adjectives[adj], band_nouns[noun]);
            } else {
                syllable_word(r, 2, a);
                sprintf(out, "%s and the %s", a, band_nouns[below(r, COUNT(band_nouns))]);
            }
            break;
        default:
            return lr_fail(b->err, "internal error: no name generator for %s",
                           lr_world_type_name(t));
        }
        if (!name_used(b, out) && !clashes(b, t, out) &&
            (!alias[0] || (!name_used(b, alias) && !clashes(b, t, alias))))
            return 0;
    }
    return lr_fail(b->err, "could not find an unused %s name after %d tries "
                   "(too many entities for the name space)", lr_world_type_name(t), NAME_TRIES);
}

int lrw_add_fresh(builder *b, lr_rng *r, lr_world_type t, int phantom)
{
    char name[256], alias[64];
    if (fresh_name(b, r, t, name, alias)) return -1;
    return lrw_add_entity(b, t, name, alias[0] ? alias : NULL, phantom);
}
