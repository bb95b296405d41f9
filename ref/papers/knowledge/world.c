/* world.c - the synthetic fact world (see world.h; files in docs/world.md).
 * Depends on rng.h (SplitMix64), world_names.c (step 1's names),
 * world_relations.c (the templates), world_corpus.c (step 4) and
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
#include "llamaref/papers/knowledge/world.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/json.h"
#include "llamaref/core/rng.h"
#include "llamaref/tokenizer/vocab.h"
#include "world_builder.h"


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


#define COUNT(a) (sizeof (a) / sizeof (a)[0])

/* ---- small helpers ---- */

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
        if (lrw_add_entity(b, LR_WT_OCCUPATION, occupations[i], NULL, 0)) return -1;
    for (i = 0; i < COUNT(writer_occupations); i++)
        if (lrw_add_entity(b, LR_WT_OCCUPATION, writer_occupations[i], NULL, 0)) return -1;
    for (i = 0; i < COUNT(industries); i++)
        if (lrw_add_entity(b, LR_WT_INDUSTRY, industries[i], NULL, 0)) return -1;
    for (i = 0; i < COUNT(book_genres); i++)
        if (lrw_add_entity(b, LR_WT_BOOK_GENRE, book_genres[i], NULL, 0)) return -1;
    for (i = 0; i < COUNT(music_genres); i++)
        if (lrw_add_entity(b, LR_WT_MUSIC_GENRE, music_genres[i], NULL, 0)) return -1;
    for (i = 0; i < n_languages; i++) if (lrw_add_fresh(b, &r, LR_WT_LANGUAGE, 0)) return -1;
    for (i = 0; i < n_countries; i++) if (lrw_add_fresh(b, &r, LR_WT_COUNTRY, 0)) return -1;
    for (i = 0; i < n_cities; i++) if (lrw_add_fresh(b, &r, LR_WT_CITY, 0)) return -1;
    for (i = 0; i < n_people; i++) if (lrw_add_fresh(b, &r, LR_WT_PERSON, 0)) return -1;
    for (i = 0; i < n_companies; i++) if (lrw_add_fresh(b, &r, LR_WT_COMPANY, 0)) return -1;
    for (i = 0; i < n_books; i++) if (lrw_add_fresh(b, &r, LR_WT_BOOK, 0)) return -1;
    for (i = 0; i < n_bands; i++) if (lrw_add_fresh(b, &r, LR_WT_BAND, 0)) return -1;
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

/* in the order lr_world_build checks them */
#define F(x) offsetof(lr_world_opts, x)
static const lr_world_opt world_opts[] = {
    {"--people", "people", F(n_people), 20, 20000,
     "--people N                people (default %lu)"},
    {"--max-mentions", "max_mentions", F(max_mentions), 1, 100000,
     "--max-mentions N          mentions of the most popular subject's facts\n"
     "                            (default %lu)"},
    {"--zipf-offset", "zipf_offset", F(zipf_offset), 1, 100000,
     "--zipf-offset N           r0 below (default %lu)"},
    {"--refusal-percent", "refusal_percent", F(refusal_percent), 0, 90,
     "--refusal-percent P       refusal examples as a share (%%) of the\n"
     "                            corpus's QA documents (default %lu)"},
    {"--valid-percent", "valid_percent", F(valid_percent), 0, 100,
     "--valid-percent P         %% of documents held out in valid.txt\n"
     "                            (default %lu)"},
    {"--exam-min-mentions", "exam_min_mentions", F(exam_min_mentions), 1, 100000,
     "--exam-min-mentions M     ... with at least M mentions (default %lu)"},
    {"--exam-documents", "exam_documents", F(n_exam_docs), 0, 10000000,
     "--exam-documents N        multiple-choice practice questions in the\n"
     "                            benchmark's layout about facts outside it\n"
     "                            (default %lu)"},
    {"--num-shots", NULL, F(n_shots), 0, 100000,
     "--num-shots N             few-shot examples (a count)\n"
     "                            (default %lu facts set aside for the probe's\n"
     "                            prompts; the old spelling --shots N still\n"
     "                            works, with a warning)"},
    {"--bench-dev", NULL, F(n_bench_dev), 0, 100000,
     "--bench-dev N             benchmark dev questions (default %lu)"},
    {"--bench-test", NULL, F(n_bench_test), 0, 1000000,
     "--bench-test N            benchmark test questions (default %lu)"},
};
#undef F
#define N_WORLD_OPTS (sizeof world_opts / sizeof world_opts[0])

const lr_world_opt *lr_world_opt_find(const char *name)
{
    size_t k;
    for (k = 0; k < N_WORLD_OPTS; k++)
        if (!strcmp(name, world_opts[k].name)) return &world_opts[k];
    return NULL;
}

static int check_opts(const lr_world_opts *o, lr_error *err)
{
    size_t k;
    for (k = 0; k < N_WORLD_OPTS; k++) {
        const lr_world_opt *t = &world_opts[k];
        unsigned long v = *(const uint32_t *)(const void *)((const char *)o + t->off);
        if (v >= t->lo && v <= t->hi) continue;
        if (!t->key) return lr_fail(err, "world: too many shots or benchmark questions");
        return lr_fail(err, "world: %s %lu: must be in [%lu, %lu]", t->key, v, t->lo, t->hi);
    }
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
    if (make_facts(&b) || assign_splits(&b) || lrw_make_corpus(&b)) goto done;
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

int lr_world_shortfalls(const lr_world_opts *o, const lr_world *w, lr_buf *out)
{
    size_t n_split[4] = {0, 0, 0, 0}, k;
    int n = 0;
    for (k = 0; k < w->n_facts; k++) n_split[w->facts[k].split]++;
    if (n_split[LR_WS_SHOT] < o->n_shots || n_split[LR_WS_BENCH_DEV] < o->n_bench_dev ||
        n_split[LR_WS_BENCH_TEST] < o->n_bench_test) {
        lr_buf_printf(out, "only %lu head facts for shots and benchmark: %lu shots, "
                      "%lu dev and %lu test questions (asked for %lu, %lu, %lu)\n",
                      (unsigned long)(n_split[LR_WS_SHOT] + n_split[LR_WS_BENCH_DEV] +
                                      n_split[LR_WS_BENCH_TEST]),
                      (unsigned long)n_split[LR_WS_SHOT],
                      (unsigned long)n_split[LR_WS_BENCH_DEV],
                      (unsigned long)n_split[LR_WS_BENCH_TEST], (unsigned long)o->n_shots,
                      (unsigned long)o->n_bench_dev, (unsigned long)o->n_bench_test);
        n++;
    }
    if (n_split[LR_WS_QA] * 2 < w->n_facts) {
        lr_buf_printf(out, "shots and benchmark took %lu of %lu facts; the QA pool keeps "
                      "%lu (more --people or fewer --shots / --bench-test)\n",
                      (unsigned long)(w->n_facts - n_split[LR_WS_QA]),
                      (unsigned long)w->n_facts, (unsigned long)n_split[LR_WS_QA]);
        n++;
    }
    return n;
}
