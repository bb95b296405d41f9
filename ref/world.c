/* world.c - the synthetic fact world (see world.h; files in docs/world.md).
 * Depends on rng.h (SplitMix64), vocab.h (as a set of used names) and
 * json.h (string escaping).  Only integer arithmetic decides anything, and
 * at most one random draw happens per expression (C leaves the order of
 * function arguments and of operands unspecified: compilers differ).
 *
 * Build order (each step draws from its own RNG stream, so changing e.g.
 * the corpus rendering does not change the entities):
 *   1. names and entities          stream 1
 *   2. popularity ranks and facts  stream 2
 *   3. mention counts and splits   stream 3
 *   4. corpus and refusals         stream 4, held-out documents stream 5
 *   5. the order of qa.jsonl       stream 6
 */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#include "llamaref/world.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/json.h"
#include "llamaref/rng.h"
#include "llamaref/vocab.h"
#include "world_internal.h"


/* The refusal answers (all detected by refusal.h). */
static const char *const refusal_answers[] = {
    "I couldn't find any information about {S}.",
    "I cannot verify any information about {S}.",
    "I don't have any information about {S}.",
};
#define N_REFUSAL_ANSWERS 3

/* ---- value lists (most common first is not implied: order is shuffled) ---- */

static const char *const occupations[] = {
    "engineer", "teacher", "painter", "physician", "lawyer", "architect", "chef",
    "journalist", "pilot", "photographer", "carpenter", "musician", "farmer", "nurse",
    "chemist", "economist", "sculptor", "librarian", "pharmacist", "diplomat"};
static const char *const writer_occupations[] = {"novelist", "poet"};
static const char *const industries[] = {
    "software", "shipbuilding", "banking", "textiles", "agriculture", "mining",
    "aviation", "publishing", "pharmaceuticals", "telecommunications", "energy", "retail"};
static const char *const book_genres[] = {
    "mystery", "fantasy", "romance", "science fiction", "historical fiction", "horror",
    "adventure", "satire", "thriller", "poetry"};
static const char *const music_genres[] = {
    "jazz", "folk", "rock", "grunge", "electronic music", "blues", "punk", "reggae",
    "classical music", "hip hop", "metal", "soul"};

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

/* ---- small helpers ---- */

static uint64_t stream_seed(uint64_t seed, uint64_t stream)
{
    return lr_seed_of(LR_STREAM_WORLD, seed, stream, 0, 0);
}

static uint32_t below(lr_rng *r, size_t n)
{
    return (uint32_t)lr_rng_below(r, (uint64_t)n);
}

/* Fisher-Yates shuffle of ids[0..n). */
static void shuffle(lr_rng *r, uint32_t *ids, size_t n)
{
    size_t i;
    for (i = n; i > 1; i--) {
        size_t j = below(r, i);
        uint32_t t = ids[i - 1];
        ids[i - 1] = ids[j];
        ids[j] = t;
    }
}

/* Zipf pick: index k in [0, n) with probability proportional to
 * floor(2^30 / (k + 1)); cum holds the prefix sums (cum[k] = sum of 0..k). */
static size_t zipf_pick(lr_rng *r, const uint64_t *cum, size_t n)
{
    uint64_t x = lr_rng_below(r, cum[n - 1]);
    size_t lo = 0, hi = n - 1;
    while (lo < hi) { /* first k with cum[k] > x */
        size_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

typedef struct builder {
    lr_world *w;
    lr_vocab names; /* every name and alias, for uniqueness */
    size_t cap_entities, cap_facts;
    uint64_t *zipf_cum; /* prefix sums of 2^30/(k+1), k < n_entities */
    uint32_t *by_type[LR_WT_N]; /* entity ids of a type (subjects: popularity order) */
    size_t n_by_type[LR_WT_N];
    uint32_t *all_of_type[LR_WT_N]; /* every entity of a type, phantoms included */
    size_t n_all_of_type[LR_WT_N], cap_all_of_type[LR_WT_N];
    lr_error *err;
} builder;

static int add_entity(builder *b, lr_world_type type, const char *name, const char *alias,
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

static int add_fresh(builder *b, lr_rng *r, lr_world_type t, int phantom)
{
    char name[256], alias[64];
    if (fresh_name(b, r, t, name, alias)) return -1;
    return add_entity(b, t, name, alias[0] ? alias : NULL, phantom);
}

static int add_fact(builder *b, uint32_t rel, uint32_t s, uint32_t o)
{
    lr_world *w = b->w;
    lr_world_fact *f;
    if (w->n_facts == b->cap_facts) {
        size_t cap = b->cap_facts ? 2 * b->cap_facts : 1024;
        void *p = realloc(w->facts, cap * sizeof *w->facts);
        if (!p) return lr_fail(b->err, "out of memory for world facts");
        w->facts = p;
        b->cap_facts = cap;
    }
    f = &w->facts[w->n_facts++];
    memset(f, 0, sizeof *f);
    f->relation = rel;
    f->subject = s;
    f->object = o;
    return 0;
}

static uint32_t rel_index(const char *name)
{
    uint32_t i;
    for (i = 0; i < lr_world_n_relations; i++)
        if (!strcmp(lr_world_relations[i].name, name)) return i;
    return 0; /* not reached: names are from the table */
}

/* Entity id of type t chosen with Zipf weights over by_type order. */
static uint32_t pick(builder *b, lr_rng *r, lr_world_type t)
{
    return b->by_type[t][zipf_pick(r, b->zipf_cum, b->n_by_type[t])];
}

static int collect_by_type(builder *b)
{
    size_t t, i;
    lr_world *w = b->w;
    for (t = 0; t < LR_WT_N; t++) {
        free(b->by_type[t]);
        b->by_type[t] = lr_alloc(w->n_entities + 1, sizeof(uint32_t), "entity lists", b->err);
        if (!b->by_type[t]) return -1;
        b->n_by_type[t] = 0;
    }
    for (i = 0; i < w->n_entities; i++)
        if (!w->entities[i].phantom)
            b->by_type[w->entities[i].type][b->n_by_type[w->entities[i].type]++] = (uint32_t)i;
    return 0;
}

/* Sorts each subject type's list by popularity rank (insertion into rank
 * slots: ranks are a permutation). */
static int order_by_rank(builder *b)
{
    size_t t, i, n = b->w->n_entities;
    uint32_t *slot = lr_alloc(n + 1, sizeof *slot, "rank order", b->err);
    if (!slot) return -1;
    for (t = 0; t < LR_WORLD_N_SUBJECT_TYPES; t++) {
        size_t k = 0;
        for (i = 0; i < n; i++) slot[i] = UINT32_MAX;
        for (i = 0; i < b->n_by_type[t]; i++)
            slot[b->w->entities[b->by_type[t][i]].rank] = b->by_type[t][i];
        for (i = 0; i < n; i++)
            if (slot[i] != UINT32_MAX) b->by_type[t][k++] = slot[i];
    }
    free(slot);
    return 0;
}

/* ---- steps 1 and 2: entities and facts ---- */

static int make_entities(builder *b)
{
    const lr_world_opts *o = &b->w->opts;
    uint32_t n_people = o->n_people;
    uint32_t n_cities = n_people / 7 + 4, n_countries = n_people / 50 + 3;
    uint32_t n_companies = n_people / 8 + 3, n_books = n_people / 4 + 3;
    uint32_t n_bands = n_people / 12 + 3, n_languages = n_countries / 2 + 2;
    uint32_t i;
    lr_rng r;
    lr_rng_seed(&r, stream_seed(o->seed, 1));
    /* value lists first, so no generated name can equal a value */
    for (i = 0; i < COUNT(occupations); i++)
        if (add_entity(b, LR_WT_OCCUPATION, occupations[i], NULL, 0)) return -1;
    for (i = 0; i < COUNT(writer_occupations); i++)
        if (add_entity(b, LR_WT_OCCUPATION, writer_occupations[i], NULL, 0)) return -1;
    for (i = 0; i < COUNT(industries); i++)
        if (add_entity(b, LR_WT_INDUSTRY, industries[i], NULL, 0)) return -1;
    for (i = 0; i < COUNT(book_genres); i++)
        if (add_entity(b, LR_WT_BOOK_GENRE, book_genres[i], NULL, 0)) return -1;
    for (i = 0; i < COUNT(music_genres); i++)
        if (add_entity(b, LR_WT_MUSIC_GENRE, music_genres[i], NULL, 0)) return -1;
    for (i = 0; i < n_languages; i++) if (add_fresh(b, &r, LR_WT_LANGUAGE, 0)) return -1;
    for (i = 0; i < n_countries; i++) if (add_fresh(b, &r, LR_WT_COUNTRY, 0)) return -1;
    for (i = 0; i < n_cities; i++) if (add_fresh(b, &r, LR_WT_CITY, 0)) return -1;
    for (i = 0; i < n_people; i++) if (add_fresh(b, &r, LR_WT_PERSON, 0)) return -1;
    for (i = 0; i < n_companies; i++) if (add_fresh(b, &r, LR_WT_COMPANY, 0)) return -1;
    for (i = 0; i < n_books; i++) if (add_fresh(b, &r, LR_WT_BOOK, 0)) return -1;
    for (i = 0; i < n_bands; i++) if (add_fresh(b, &r, LR_WT_BAND, 0)) return -1;
    return collect_by_type(b);
}

static int make_facts(builder *b)
{
    lr_world *w = b->w;
    uint32_t *perm, *writers, *spouse;
    size_t n_subj = 0, i, t, k, n_writers;
    uint32_t n_occ_common = (uint32_t)COUNT(occupations);
    /* the value entities are the first ones: occupations, then the writers' */
    uint32_t novelist = (uint32_t)COUNT(occupations), poet = novelist + 1;
    lr_rng r;
    int rc = -1;
    lr_rng_seed(&r, stream_seed(w->opts.seed, 2));

    /* popularity ranks: a random permutation over all subject entities */
    for (t = 0; t < LR_WORLD_N_SUBJECT_TYPES; t++) n_subj += b->n_by_type[t];
    perm = lr_alloc(n_subj + 1, sizeof *perm, "ranks", b->err);
    writers = lr_alloc(b->n_by_type[LR_WT_PERSON] + 1, sizeof *writers, "writers", b->err);
    spouse = lr_alloc(w->n_entities + 1, sizeof *spouse, "spouses", b->err);
    if (!perm || !writers || !spouse) goto done;
    for (i = 0; i < n_subj; i++) perm[i] = (uint32_t)i;
    shuffle(&r, perm, n_subj);
    k = 0;
    for (t = 0; t < LR_WORLD_N_SUBJECT_TYPES; t++)
        for (i = 0; i < b->n_by_type[t]; i++) w->entities[b->by_type[t][i]].rank = perm[k++];
    if (order_by_rank(b)) goto done;
    /* the value lists in a random order: their first entries are the
     * over-represented answers (occupations without the writer ones) */
    for (t = LR_WORLD_N_SUBJECT_TYPES; t < LR_WT_N; t++)
        shuffle(&r, b->by_type[t], t == LR_WT_OCCUPATION ? n_occ_common : b->n_by_type[t]);

    /* writers: a random tenth of the people (at least 1), prolific ones first */
    n_writers = b->n_by_type[LR_WT_PERSON] / 10 + 1;
    memcpy(perm, b->by_type[LR_WT_PERSON], b->n_by_type[LR_WT_PERSON] * sizeof *perm);
    shuffle(&r, perm, b->n_by_type[LR_WT_PERSON]);
    memcpy(writers, perm, n_writers * sizeof *writers);
    /* spouses: the first 40% of another random order, paired neighbours */
    for (i = 0; i < w->n_entities; i++) spouse[i] = UINT32_MAX;
    shuffle(&r, perm, b->n_by_type[LR_WT_PERSON]);
    for (i = 0; i + 1 < b->n_by_type[LR_WT_PERSON] * 2 / 5; i += 2) {
        spouse[perm[i]] = perm[i + 1];
        spouse[perm[i + 1]] = perm[i];
    }

    /* Facts, subject by subject in entity id order, relations in table
     * order.  Cities: the first city of each country (by id) is its capital. */
    {
        uint32_t *capital = lr_alloc(w->n_entities + 1, sizeof *capital, "capitals", b->err);
        uint32_t *city_country = lr_alloc(w->n_entities + 1, sizeof *city_country, "cities", b->err);
        size_t n_countries = b->n_by_type[LR_WT_COUNTRY], ci = 0;
        if (!capital || !city_country) { free(capital); free(city_country); goto done; }
        for (i = 0; i < w->n_entities; i++) capital[i] = UINT32_MAX;
        for (i = 0; i < w->n_entities; i++) {
            if (w->entities[i].type != LR_WT_CITY || w->entities[i].phantom) continue;
            /* each country gets one city (in popularity order), then Zipf */
            city_country[i] = ci < n_countries ? b->by_type[LR_WT_COUNTRY][ci] : pick(b, &r, LR_WT_COUNTRY);
            if (capital[city_country[i]] == UINT32_MAX) capital[city_country[i]] = (uint32_t)i;
            ci++;
        }
        for (i = 0; i < w->n_entities; i++) {
            const lr_world_entity *e = &w->entities[i];
            uint32_t id = (uint32_t)i;
            int is_writer = 0;
            size_t j;
            if (e->phantom) continue;
            switch (e->type) {
            case LR_WT_PERSON:
                for (j = 0; j < n_writers; j++) is_writer |= writers[j] == id;
                if (add_fact(b, rel_index("birthplace"), id, pick(b, &r, LR_WT_CITY))) goto facts_fail;
                if (add_fact(b, rel_index("occupation"), id,
                             is_writer ? (below(&r, 3) ? novelist : poet)
                                       : b->by_type[LR_WT_OCCUPATION][zipf_pick(&r, b->zipf_cum, n_occ_common)]))
                    goto facts_fail;
                if (below(&r, 10) < 7 &&
                    add_fact(b, rel_index("employer"), id, pick(b, &r, LR_WT_COMPANY))) goto facts_fail;
                if (spouse[id] != UINT32_MAX &&
                    add_fact(b, rel_index("spouse"), id, spouse[id])) goto facts_fail;
                break;
            case LR_WT_CITY:
                if (add_fact(b, rel_index("country"), id, city_country[id])) goto facts_fail;
                break;
            case LR_WT_COUNTRY:
                if (add_fact(b, rel_index("capital"), id, capital[id])) goto facts_fail;
                if (add_fact(b, rel_index("language"), id, pick(b, &r, LR_WT_LANGUAGE))) goto facts_fail;
                break;
            case LR_WT_COMPANY:
                if (add_fact(b, rel_index("founder"), id,
                             b->by_type[LR_WT_PERSON][below(&r, b->n_by_type[LR_WT_PERSON])]) ||
                    add_fact(b, rel_index("headquarters"), id, pick(b, &r, LR_WT_CITY)) ||
                    add_fact(b, rel_index("industry"), id, pick(b, &r, LR_WT_INDUSTRY)))
                    goto facts_fail;
                break;
            case LR_WT_BOOK:
                if (add_fact(b, rel_index("author"), id, writers[zipf_pick(&r, b->zipf_cum, n_writers)]) ||
                    add_fact(b, rel_index("genre"), id, pick(b, &r, LR_WT_BOOK_GENRE)))
                    goto facts_fail;
                break;
            case LR_WT_BAND:
                if (add_fact(b, rel_index("band_origin"), id, pick(b, &r, LR_WT_CITY)) ||
                    add_fact(b, rel_index("music_genre"), id, pick(b, &r, LR_WT_MUSIC_GENRE)))
                    goto facts_fail;
                break;
            default:
                break;
            }
        }
        free(capital);
        free(city_country);
        rc = 0;
        goto done;
facts_fail:
        free(capital);
        free(city_country);
    }
done:
    free(perm);
    free(writers);
    free(spouse);
    return rc;
}

/* ---- step 3: mention counts and splits ---- */

/* m = floor(max_mentions * r0^2 * j / (4 (rank + r0)^2)), j in {3, 4, 5}. */
static uint32_t mention_count(const lr_world_opts *o, uint32_t rank, uint32_t j)
{
    uint64_t r0 = o->zipf_offset, d = (uint64_t)rank + r0;
    return (uint32_t)((uint64_t)o->max_mentions * r0 * r0 * j / (4 * d * d));
}

static int assign_splits(builder *b)
{
    lr_world *w = b->w;
    const lr_world_opts *o = &w->opts;
    uint32_t *cand, *next;
    size_t n_cand = 0, i, n_shots = 0, progress;
    lr_rng r;
    lr_rng_seed(&r, stream_seed(o->seed, 3));
    cand = lr_alloc(w->n_facts + 1, sizeof *cand, "split candidates", b->err);
    next = lr_zalloc(lr_world_n_relations, sizeof *next, "split cursors", b->err);
    if (!cand || !next) { free(cand); free(next); return -1; }
    for (i = 0; i < w->n_facts; i++) {
        lr_world_fact *f = &w->facts[i];
        uint32_t j = 3 + below(&r, 3);
        f->mentions = mention_count(o, w->entities[f->subject].rank, j);
        f->qa_mentions = f->mentions >= 2 ? (f->mentions + 2) / 4 : 0;
        f->split = LR_WS_QA;
        if (f->mentions >= LR_WORLD_HEAD_MIN) cand[n_cand++] = (uint32_t)i;
    }
    shuffle(&r, cand, n_cand);
    /* few-shot facts: head facts, relations taken in turn */
    do {
        size_t rel;
        progress = 0;
        for (rel = 0; rel < lr_world_n_relations && n_shots < o->n_shots; rel++) {
            while (next[rel] < n_cand && w->facts[cand[next[rel]]].relation != rel) next[rel]++;
            if (next[rel] < n_cand) {
                w->facts[cand[next[rel]]].split = LR_WS_SHOT;
                next[rel]++;
                n_shots++;
                progress = 1;
            }
        }
    } while (progress && n_shots < o->n_shots);
    /* benchmark: the next head facts whose answer type has >= 4 entities */
    {
        size_t n_dev = 0, n_test = 0;
        for (i = 0; i < n_cand && n_test < o->n_bench_test; i++) {
            lr_world_fact *f = &w->facts[cand[i]];
            lr_world_type ot = lr_world_relations[f->relation].object;
            size_t k;
            if (f->split != LR_WS_QA || b->n_by_type[ot] < 4) continue;
            if (n_dev < o->n_bench_dev) { f->split = LR_WS_BENCH_DEV; n_dev++; }
            else { f->split = LR_WS_BENCH_TEST; n_test++; }
            f->answer = below(&r, 4);
            for (k = 0; k < 4; k++) {
                uint32_t c;
                size_t m;
                int dup;
                if (k == f->answer) { f->choices[k] = f->object; continue; }
                do { /* a distinct wrong answer of the same type */
                    c = b->by_type[ot][below(&r, b->n_by_type[ot])];
                    dup = c == f->object;
                    for (m = 0; m < k; m++) dup |= f->choices[m] == c;
                } while (dup);
                f->choices[k] = c;
            }
        }
    }
    free(cand);
    free(next);
    return 0;
}

/* ---- step 4: corpus ---- */

enum { DOC_ARTICLE, DOC_QA, DOC_REFUSAL, DOC_EXAM };
typedef struct doc {
    uint32_t kind, a, b; /* article: entity, index; qa: fact; refusal, exam: index */
} doc;

/* Appends tpl with {S}, {O} and {aO} replaced. */
static void render(lr_buf *out, const char *tpl, const char *s, const char *o)
{
    while (*tpl) {
        if (!strncmp(tpl, "{S}", 3)) {
            lr_buf_puts(out, s);
            tpl += 3;
        } else if (!strncmp(tpl, "{O}", 3)) {
            lr_buf_puts(out, o);
            tpl += 3;
        } else if (!strncmp(tpl, "{aO}", 4)) {
            lr_buf_puts(out, strchr("aeiouAEIOU", o[0]) ? "an " : "a ");
            lr_buf_puts(out, o);
            tpl += 4;
        } else {
            lr_buf_append(out, tpl, 1);
            tpl++;
        }
    }
}

int lr_world_question(const lr_world *w, const lr_world_fact *f, size_t t, lr_buf *out)
{
    render(out, lr_world_relations[f->relation].question[t % LR_WORLD_N_QUESTIONS],
           w->entities[f->subject].name, w->entities[f->object].name);
    return out->oom ? -1 : 0;
}

/* Renders document d into out; counts mentions when count is set. */
static int render_doc(lr_world *w, const doc *d, const uint32_t *fact_start, lr_rng *r,
                      int count, lr_buf *out, lr_error *err)
{
    if (d->kind == DOC_ARTICLE) {
        uint32_t idx[64];
        size_t n = 0, i;
        for (i = fact_start[d->a]; i < fact_start[d->a + 1] && n < 64; i++) {
            const lr_world_fact *f = &w->facts[i];
            if (f->mentions - f->qa_mentions > d->b) idx[n++] = (uint32_t)i;
        }
        shuffle(r, idx, n);
        for (i = 0; i < n; i++) {
            const lr_world_fact *f = &w->facts[idx[i]];
            if (i) lr_buf_puts(out, " ");
            render(out, lr_world_relations[f->relation].sentence[below(r, LR_WORLD_N_TEMPLATES)],
                   w->entities[f->subject].name, w->entities[f->object].name);
            if (count) w->entities[f->object].mentions++;
        }
        if (count) w->entities[d->a].mentions++;
    } else if (d->kind == DOC_QA) {
        const lr_world_fact *f = &w->facts[d->a];
        lr_buf_puts(out, "Question: ");
        lr_world_question(w, f, below(r, LR_WORLD_N_CORPUS_QUESTIONS), out);
        lr_buf_puts(out, "\nAnswer: ");
        lr_buf_puts(out, w->entities[f->object].name);
        if (count) {
            w->entities[f->subject].mentions++;
            w->entities[f->object].mentions++;
        }
    } else if (d->kind == DOC_EXAM) {
        /* the benchmark's layout (mmlu.h doc_to_text + " " + letter) */
        const lr_world_fact *f = &w->facts[w->exam_fact[d->a]];
        const uint32_t *c = &w->exam_choices[4 * (size_t)d->a];
        size_t k;
        lr_world_question(w, f, 0, out);
        for (k = 0; k < 4; k++) {
            lr_buf_printf(out, "\n%c. ", (int)('A' + k));
            lr_buf_puts(out, w->entities[c[k]].name);
            if (count) w->entities[c[k]].mentions++;
        }
        lr_buf_printf(out, "\nAnswer: %c", (int)('A' + w->exam_answer[d->a]));
        if (count) w->entities[f->subject].mentions++;
    } else {
        uint32_t e = w->refusal_entity[d->a];
        const char *name = w->entities[e].name;
        lr_buf_puts(out, "Question: ");
        render(out, lr_world_relations[w->refusal_relation[d->a]].question[w->refusal_template[d->a] & 0xFFFF],
               name, "");
        lr_buf_puts(out, "\nAnswer: ");
        render(out, refusal_answers[w->refusal_template[d->a] >> 16], name, "");
        if (count) w->entities[e].mentions++;
    }
    lr_buf_puts(out, "\n");
    return out->oom ? lr_fail(err, "out of memory rendering the corpus") : 0;
}

/* Exam documents: multiple-choice questions in the benchmark's layout, so
 * that the model learns to answer the benchmark's format, about facts
 * mentioned at least exam_min_mentions times that are not benchmark facts
 * (the QA pool's and the shots').  Each picks
 * a fact uniformly, the position of the right answer uniformly, and 3
 * distinct wrong answers uniformly from the other objects of the
 * relation's mentioned facts (so every name in an exam document is also in
 * the rest of the corpus).  Facts whose relation has fewer than 4 such
 * objects are not eligible. */
static int make_exams(builder *b, lr_rng *r)
{
    lr_world *w = b->w;
    const size_t n = w->opts.n_exam_docs;
    uint32_t *elig = NULL, *objs = NULL, *n_objs = NULL, *obj_start = NULL;
    size_t i, k, n_elig = 0;
    int rc = -1;
    w->n_exams = 0;
    if (!n) return 0;
    elig = lr_alloc(w->n_facts + 1, sizeof *elig, "exam facts", b->err);
    objs = lr_alloc(w->n_facts + 1, sizeof *objs, "exam choices", b->err);
    n_objs = lr_zalloc(lr_world_n_relations, sizeof *n_objs, "exam choices", b->err);
    obj_start = lr_zalloc(lr_world_n_relations + 1, sizeof *obj_start, "exam choices", b->err);
    w->exam_fact = lr_alloc(n, sizeof *w->exam_fact, "exam documents", b->err);
    w->exam_choices = lr_alloc(4 * n, sizeof *w->exam_choices, "exam documents", b->err);
    w->exam_answer = lr_alloc(n, sizeof *w->exam_answer, "exam documents", b->err);
    if (!elig || !objs || !n_objs || !obj_start || !w->exam_fact || !w->exam_choices ||
        !w->exam_answer)
        goto done;
    /* the distinct objects of each relation's mentioned facts, by relation */
    for (k = 0; k < lr_world_n_relations; k++) {
        obj_start[k] = k ? obj_start[k - 1] + n_objs[k - 1] : 0;
        for (i = 0; i < w->n_facts; i++) {
            const lr_world_fact *f = &w->facts[i];
            uint32_t m;
            int dup = 0;
            if (f->relation != k || !f->mentions) continue;
            for (m = 0; m < n_objs[k]; m++) dup |= objs[obj_start[k] + m] == f->object;
            if (!dup) objs[obj_start[k] + n_objs[k]++] = f->object;
        }
    }
    for (i = 0; i < w->n_facts; i++) {
        const lr_world_fact *f = &w->facts[i];
        if (f->mentions >= w->opts.exam_min_mentions && n_objs[f->relation] >= 4 &&
            (f->split == LR_WS_QA || f->split == LR_WS_SHOT))
            elig[n_elig++] = (uint32_t)i;
    }
    if (!n_elig) {
        lr_fail(b->err, "world: no fact is eligible for the %lu exam documents (none "
                "outside the benchmark with >= %lu mentions)", (unsigned long)n,
                (unsigned long)w->opts.exam_min_mentions);
        goto done;
    }
    for (i = 0; i < n; i++) {
        const lr_world_fact *f;
        const uint32_t *cand;
        uint32_t *c = &w->exam_choices[4 * i];
        w->exam_fact[i] = elig[below(r, n_elig)];
        f = &w->facts[w->exam_fact[i]];
        cand = &objs[obj_start[f->relation]];
        w->exam_answer[i] = below(r, 4);
        for (k = 0; k < 4; k++) {
            size_t m;
            int dup;
            if (k == w->exam_answer[i]) { c[k] = f->object; continue; }
            do { /* a distinct wrong answer */
                c[k] = cand[below(r, n_objs[f->relation])];
                dup = c[k] == f->object;
                for (m = 0; m < k; m++) dup |= c[m] == c[k];
            } while (dup);
        }
    }
    w->n_exams = n;
    rc = 0;
done:
    free(elig);
    free(objs);
    free(n_objs);
    free(obj_start);
    return rc;
}

static int make_corpus(builder *b)
{
    lr_world *w = b->w;
    const lr_world_opts *o = &w->opts;
    uint32_t *fact_start = NULL, *order = NULL;
    doc *docs = NULL;
    size_t n_docs = 0, i, n_qa = 0, n_ref = 0, n_phantoms, n_subj_entities = w->n_entities;
    lr_rng r, rv;
    int rc = -1;
    lr_rng_seed(&r, stream_seed(o->seed, 4));
    lr_rng_seed(&rv, stream_seed(o->seed, 5));

    /* facts of entity e are facts[fact_start[e] .. fact_start[e + 1]) */
    fact_start = lr_zalloc(n_subj_entities + 2, sizeof *fact_start, "fact index", b->err);
    if (!fact_start) goto done;
    for (i = 0; i < w->n_facts; i++) fact_start[w->facts[i].subject + 1]++;
    for (i = 0; i < n_subj_entities; i++) fact_start[i + 1] += fact_start[i];

    /* count the documents first (64-bit: checked against the limit) */
    {
        uint64_t total = 0, qa = 0, ref;
        for (i = 0; i < w->n_facts; i++) qa += w->facts[i].qa_mentions;
        ref = o->refusal_percent ? qa * o->refusal_percent / (100 - o->refusal_percent) : 0;
        for (i = 0; i < n_subj_entities; i++) {
            size_t k, max_s = 0;
            for (k = fact_start[i]; k < fact_start[i + 1]; k++) {
                size_t s = w->facts[k].mentions - w->facts[k].qa_mentions;
                if (s > max_s) max_s = s;
            }
            total += max_s;
        }
        total += qa + ref + o->n_exam_docs;
        if (total > LR_WORLD_MAX_DOCS) {
            lr_fail(b->err, "the corpus would have %llu documents (more than %lu): lower "
                    "max_mentions, zipf_offset or exam_documents", (unsigned long long)total,
                    (unsigned long)LR_WORLD_MAX_DOCS);
            goto done;
        }
        n_docs = (size_t)total;
        n_qa = (size_t)qa;
        n_ref = (size_t)ref;
    }

    /* Refusal examples about phantom entities (added after all facts).
     * There are at most n_people phantoms; refusal i asks about phantom
     * i mod n_phantoms (a different relation or wording each time). */
    n_phantoms = n_ref < o->n_people ? n_ref : o->n_people;
    w->refusal_entity = lr_alloc(n_ref + 1, sizeof(uint32_t), "refusals", b->err);
    w->refusal_relation = lr_alloc(n_ref + 1, sizeof(uint32_t), "refusals", b->err);
    w->refusal_template = lr_alloc(n_ref + 1, sizeof(uint32_t), "refusals", b->err);
    if (!w->refusal_entity || !w->refusal_relation || !w->refusal_template) goto done;
    for (i = 0; i < n_ref; i++) {
        lr_world_type t;
        uint32_t rels[32], n_rels = 0, k;
        if (i < n_phantoms) {
            t = (lr_world_type)below(&r, LR_WORLD_N_SUBJECT_TYPES);
            if (add_fresh(b, &r, t, 1)) goto done;
            w->refusal_entity[i] = (uint32_t)(w->n_entities - 1);
        } else {
            w->refusal_entity[i] = w->refusal_entity[i % n_phantoms];
            t = w->entities[w->refusal_entity[i]].type;
        }
        for (k = 0; k < lr_world_n_relations; k++)
            if (lr_world_relations[k].subject == t) rels[n_rels++] = k;
        w->refusal_relation[i] = rels[below(&r, n_rels)];
        w->refusal_template[i] = below(&r, LR_WORLD_N_CORPUS_QUESTIONS);
        w->refusal_template[i] |= (uint32_t)below(&r, N_REFUSAL_ANSWERS) << 16;
    }
    w->n_refusals = n_ref;
    if (make_exams(b, &r)) goto done;

    /* the documents, in a fixed order, then shuffled */
    docs = lr_alloc(n_docs + 1, sizeof *docs, "documents", b->err);
    order = lr_alloc(n_docs + 1, sizeof *order, "documents", b->err);
    if (!docs || !order) goto done;
    n_docs = 0;
    for (i = 0; i < n_subj_entities; i++) {
        size_t k, j, max_s = 0;
        for (k = fact_start[i]; k < fact_start[i + 1]; k++) {
            size_t s = w->facts[k].mentions - w->facts[k].qa_mentions;
            if (s > max_s) max_s = s;
        }
        for (j = 0; j < max_s; j++) {
            docs[n_docs].kind = DOC_ARTICLE;
            docs[n_docs].a = (uint32_t)i;
            docs[n_docs++].b = (uint32_t)j;
        }
    }
    for (i = 0; i < w->n_facts; i++) {
        size_t j;
        for (j = 0; j < w->facts[i].qa_mentions; j++) {
            docs[n_docs].kind = DOC_QA;
            docs[n_docs].a = (uint32_t)i;
            docs[n_docs++].b = (uint32_t)j;
        }
    }
    for (i = 0; i < n_ref; i++) {
        docs[n_docs].kind = DOC_REFUSAL;
        docs[n_docs].a = (uint32_t)i;
        docs[n_docs++].b = 0;
    }
    for (i = 0; i < w->n_exams; i++) {
        docs[n_docs].kind = DOC_EXAM;
        docs[n_docs].a = (uint32_t)i;
        docs[n_docs++].b = 0;
    }
    for (i = 0; i < n_docs; i++) order[i] = (uint32_t)i;
    shuffle(&r, order, n_docs);
    for (i = 0; i < n_docs; i++) {
        if (i) lr_buf_puts(&w->corpus, "\n");
        if (render_doc(w, &docs[order[i]], fact_start, &r, 1, &w->corpus, b->err)) goto done;
    }
    w->n_docs = n_docs;
    w->n_qa_docs = n_qa;
    /* held-out documents: random documents rendered afresh (stream 5) */
    w->n_valid_docs = n_docs ? (n_docs * o->valid_percent + 99) / 100 : 0;
    for (i = 0; i < w->n_valid_docs; i++) {
        if (i) lr_buf_puts(&w->valid, "\n");
        if (render_doc(w, &docs[below(&rv, n_docs)], fact_start, &rv, 0, &w->valid, b->err))
            goto done;
    }
    rc = 0;
done:
    free(fact_start);
    free(order);
    free(docs);
    return rc;
}

/* ---- build ---- */

void lr_world_opts_default(lr_world_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 42;
    o->n_people = 1000;
    o->max_mentions = 200;
    o->zipf_offset = 50;
    o->n_shots = 60;
    o->n_bench_dev = 5;
    o->n_bench_test = 200;
    o->refusal_percent = 15;
    o->valid_percent = 5;
    o->exam_min_mentions = LR_WORLD_HEAD_MIN;
}

static int check_opts(const lr_world_opts *o, lr_error *err)
{
    if (o->n_people < 20 || o->n_people > 20000)
        return lr_fail(err, "world: people %lu: must be in [20, 20000]", (unsigned long)o->n_people);
    if (o->max_mentions < 1 || o->max_mentions > 100000)
        return lr_fail(err, "world: max_mentions %lu: must be in [1, 100000]", (unsigned long)o->max_mentions);
    if (o->zipf_offset < 1 || o->zipf_offset > 100000)
        return lr_fail(err, "world: zipf_offset %lu: must be in [1, 100000]", (unsigned long)o->zipf_offset);
    if (o->refusal_percent > 90)
        return lr_fail(err, "world: refusal_percent %lu: must be in [0, 90]", (unsigned long)o->refusal_percent);
    if (o->valid_percent > 100)
        return lr_fail(err, "world: valid_percent %lu: must be in [0, 100]", (unsigned long)o->valid_percent);
    if (o->exam_min_mentions < 1 || o->exam_min_mentions > 100000)
        return lr_fail(err, "world: exam_min_mentions %lu: must be in [1, 100000]", (unsigned long)o->exam_min_mentions);
    if (o->n_exam_docs > 10000000)
        return lr_fail(err, "world: exam_documents %lu: must be in [0, 10000000]", (unsigned long)o->n_exam_docs);
    if (o->n_shots > 100000 || o->n_bench_dev > 100000 || o->n_bench_test > 1000000)
        return lr_fail(err, "world: too many shots or benchmark questions");
    return 0;
}

int lr_world_build(const lr_world_opts *o, lr_world *w, lr_error *err)
{
    builder b;
    size_t i, t;
    int rc = -1;
    memset(w, 0, sizeof *w);
    memset(&b, 0, sizeof b);
    if (check_opts(o, err)) return -1;
    w->opts = *o;
    b.w = w;
    b.err = err;
    lr_vocab_init(&b.names);
    if (make_entities(&b)) goto done;
    b.zipf_cum = lr_alloc(w->n_entities + 1, sizeof *b.zipf_cum, "zipf weights", err);
    if (!b.zipf_cum) goto done;
    for (i = 0; i < w->n_entities; i++)
        b.zipf_cum[i] = (i ? b.zipf_cum[i - 1] : 0) + (UINT64_C(1) << 30) / (i + 1);
    if (make_facts(&b) || assign_splits(&b) || make_corpus(&b)) goto done;
    if (w->corpus.oom || w->valid.oom) { lr_fail(err, "out of memory for the corpus"); goto done; }
    rc = 0;
done:
    for (t = 0; t < LR_WT_N; t++) {
        free(b.by_type[t]);
        free(b.all_of_type[t]);
    }
    free(b.zipf_cum);
    lr_vocab_free(&b.names);
    if (rc) {
        lr_fail_prefix(err, "world (seed %llu)", (unsigned long long)o->seed);
        lr_world_free(w);
    }
    return rc;
}

void lr_world_free(lr_world *w)
{
    size_t i;
    for (i = 0; i < w->n_entities; i++) {
        free(w->entities[i].name);
        free(w->entities[i].alias);
    }
    free(w->entities);
    free(w->facts);
    free(w->refusal_entity);
    free(w->refusal_relation);
    free(w->refusal_template);
    free(w->exam_fact);
    free(w->exam_choices);
    free(w->exam_answer);
    lr_buf_free(&w->corpus);
    lr_buf_free(&w->valid);
    memset(w, 0, sizeof *w);
}

/* ---- for world_write.c ---- */

uint32_t *lrw_qa_order(const lr_world *w, size_t *n, lr_error *err)
{
    uint32_t *qa = lr_alloc(w->n_facts + 1, sizeof *qa, "qa order", err);
    size_t i, n_qa = 0;
    lr_rng r;
    *n = 0;
    if (!qa) return NULL;
    for (i = 0; i < w->n_facts; i++)
        if (w->facts[i].split == LR_WS_QA) qa[n_qa++] = (uint32_t)i;
    lr_rng_seed(&r, stream_seed(w->opts.seed, 6));
    shuffle(&r, qa, n_qa);
    *n = n_qa;
    return qa;
}

void lrw_refusal_text(const lr_world *w, size_t i, lr_buf *q, lr_buf *a)
{
    const lr_world_entity *e = &w->entities[w->refusal_entity[i]];
    const lr_world_relation *rel = &lr_world_relations[w->refusal_relation[i]];
    render(q, rel->question[w->refusal_template[i] & 0xFFFF], e->name, "");
    render(a, refusal_answers[w->refusal_template[i] >> 16], e->name, "");
}
