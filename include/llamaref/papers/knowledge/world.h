/* world.h - a deterministic synthetic world of fictional facts: the
 * controlled stand-in for DBpedia / EntityQuestions in the knowledge
 * experiment (docs/EXPERIMENTS.md pipeline 1; file format in docs/world.md).
 *
 * Entities (people, cities, countries, companies, books, bands, and value
 * lists such as occupations and genres) get pronounceable syllable names,
 * unique across the world.  Facts are (subject, relation, object) over the
 * 14 relations of lr_world_relations.  Each subject entity has a popularity
 * rank r (a random permutation); a fact is mentioned in the pretraining
 * corpus
 *     m = floor(max_mentions * r0^2 * j / (4 (r + r0)^2)),  j in {3, 4, 5}
 * times (Zipf-like with exponent 2, r0 = zipf_offset, j a per-fact jitter),
 * so facts of popular entities are mentioned many times, others a few times
 * and most never.  Objects are drawn with Zipf weights 1/(k+1) over the
 * candidates in popularity order, so a few answers (a big city, a common
 * occupation, a prolific author) are deliberately over-represented.
 *
 * Every decision uses integer arithmetic and the SplitMix64 generator
 * (rng.h), so a seed gives byte-identical output on every platform.
 */
#ifndef LLAMAREF_WORLD_H
#define LLAMAREF_WORLD_H

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bucket thresholds on a fact's corpus mentions m (written as "bucket"). */
#define LR_WORLD_HEAD_MIN 10 /* head: m >= 10; torso: 1 <= m < 10; tail: 0 */

typedef enum lr_world_type {
    LR_WT_PERSON, LR_WT_CITY, LR_WT_COUNTRY, LR_WT_COMPANY, LR_WT_BOOK,
    LR_WT_BAND, /* subject types above, value types below */
    LR_WT_OCCUPATION, LR_WT_INDUSTRY, LR_WT_BOOK_GENRE, LR_WT_MUSIC_GENRE,
    LR_WT_LANGUAGE,
    LR_WT_N
} lr_world_type;

#define LR_WORLD_MAX_DOCS 20000000 /* corpus documents (about 1 GB of text) */
#define LR_WORLD_N_SUBJECT_TYPES 6
#define LR_WORLD_N_TEMPLATES 4          /* corpus sentence templates per relation */
#define LR_WORLD_N_QUESTIONS 11         /* question templates: the probe + 10 paraphrases */
#define LR_WORLD_N_CORPUS_QUESTIONS 4   /* the first 4 also word the corpus's QA documents */

typedef struct lr_world_relation {
    const char *name;            /* "birthplace" */
    lr_world_type subject, object;
    /* corpus sentences; {S} subject, {O} object, {aO} "a"/"an" + object */
    const char *sentence[LR_WORLD_N_TEMPLATES];
    /* question[0] is the probe question, the others its paraphrases
     * (paraphrases 1-3 also occur in the corpus, 4-10 never) */
    const char *question[LR_WORLD_N_QUESTIONS];
} lr_world_relation;

extern const lr_world_relation lr_world_relations[];
extern const size_t lr_world_n_relations;
/* The name of an entity type (a static string; "?" when out of range). */
const char *lr_world_type_name(lr_world_type t);

typedef struct lr_world_opts {
    uint64_t seed;
    uint32_t n_people;        /* other counts follow (docs/world.md); default 1000 */
    uint32_t max_mentions;    /* m of the most popular subject (j = 4); default 200 */
    uint32_t zipf_offset;     /* r0; default 50 */
    uint32_t n_shots;         /* held-out few-shot facts; default 60 */
    uint32_t n_bench_dev;     /* multiple-choice dev questions; default 5 */
    uint32_t n_bench_test;    /* multiple-choice test questions; default 200 */
    uint32_t refusal_percent; /* refusals among the corpus's QA documents; default 15 */
    uint32_t valid_percent;   /* held-out documents, % of the corpus's; default 5 */
    uint32_t n_exam_docs;     /* multiple-choice practice documents; default 0 */
    uint32_t exam_min_mentions; /* their facts have m >= this; default 10 (head) */
} lr_world_opts;

/* Every field of *o set to the default its comment gives. */
void lr_world_opts_default(lr_world_opts *o);

/* The counts of lr_world_opts as `llamaref world` options ("--people"):
 * the field (a uint32_t at off) and its range [lo, hi], which
 * lr_world_build checks too (key: the field's name in its message; NULL
 * for the shots and benchmark counts, reported together). */
typedef struct lr_world_opt {
    const char *name, *key;
    size_t off;
    unsigned long lo, hi;
    const char *help; /* its --help line(s): a printf format whose one %lu
                         is the default */
} lr_world_opt;

/* The entry of option name, or NULL when it is not one of them. */
const lr_world_opt *lr_world_opt_find(const char *name);

typedef struct lr_world_entity {
    lr_world_type type;
    char *name;
    char *alias;       /* second answer alias or NULL (companies: the base name) */
    uint32_t rank;     /* popularity rank among subjects; UINT32_MAX otherwise */
    uint32_t mentions; /* corpus documents naming it (subject or object) */
    int phantom;       /* never has facts; used only in refusal examples */
} lr_world_entity;

typedef enum lr_world_split {
    LR_WS_QA = 0,        /* the probe / training pool (qa.jsonl) */
    LR_WS_SHOT = 1,      /* held-out few-shot examples (shots.jsonl) */
    LR_WS_BENCH_DEV = 2, /* multiple-choice benchmark, dev */
    LR_WS_BENCH_TEST = 3 /* multiple-choice benchmark, test */
} lr_world_split;

typedef struct lr_world_fact {
    uint32_t relation, subject, object;
    uint32_t mentions;    /* corpus documents stating it (m) */
    uint32_t qa_mentions; /* of which "Question: ...\nAnswer: ..." documents */
    lr_world_split split;
    uint32_t choices[4];  /* benchmark facts: entity ids of the 4 choices */
    uint32_t answer;      /* benchmark facts: index of the object in choices */
} lr_world_fact;

typedef struct lr_world {
    lr_world_opts opts;
    lr_world_entity *entities;
    size_t n_entities;
    lr_world_fact *facts;
    size_t n_facts;
    uint32_t *refusal_entity;   /* per refusal example: phantom entity id */
    uint32_t *refusal_relation; /*   relation asked about */
    uint32_t *refusal_template; /*   question template, refusal phrasing (hi 16 bits) */
    size_t n_refusals;
    /* per exam document (a multiple-choice question in the benchmark's
     * layout about a QA-pool or shot fact with at least exam_min_mentions
     * mentions): the fact, the 4 choices (entity ids, 4 per document) and
     * the index of the right one */
    uint32_t *exam_fact, *exam_choices, *exam_answer;
    size_t n_exams;
    lr_buf corpus;              /* corpus.txt */
    lr_buf valid;               /* valid.txt */
    size_t n_docs, n_qa_docs, n_valid_docs;
} lr_world;

/* Builds the whole world, corpus text included.  Fails on options out of
 * range (naming the option) or out of memory. */
int lr_world_build(const lr_world_opts *o, lr_world *w, lr_error *err);
void lr_world_free(lr_world *w);
/* What a built world fell short of, one line of text each (appended to
 * out): fewer head facts for shots and benchmark than o asked for, and
 * shots and benchmark taking more than half the facts from the QA pool.
 * Returns the number of lines (0: nothing to say). */
int lr_world_shortfalls(const lr_world_opts *o, const lr_world *w, lr_buf *out);

/* Renders a fact's question (template t < LR_WORLD_N_QUESTIONS) into out. */
int lr_world_question(const lr_world *w, const lr_world_fact *f, size_t t, lr_buf *out);

/* Writes every file of docs/world.md into dir (created if missing), each
 * atomically.  *total_bytes (optional) receives the bytes written. */
int lr_world_write(const lr_world *w, const char *dir, size_t *total_bytes,
                   lr_error *err);

/* FNV-1a 64 of a byte string: the digest of the golden-output test. */
uint64_t lr_world_fnv1a(const void *data, size_t n);

#ifdef __cplusplus
}
#endif

#endif
