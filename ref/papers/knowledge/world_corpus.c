/* world_corpus.c - step 4 of building the synthetic world (world.c): the
 * training corpus, the exam documents, the held-out documents and the
 * refusal examples, written from the statement templates of
 * world_relations.c (RNG streams 4 and 5, docs/world.md).  Depends on
 * world_builder.h (the builder shared with world.c), world_names.c (the
 * phantoms' fresh names), rng.h and json.h. */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/json.h"
#include "llamaref/core/rng.h"
#include "world_builder.h"

/* The refusal answers (all detected by refusal.h). */
static const char *const refusal_answers[] = {
    "I couldn't find any information about {S}.",
    "I cannot verify any information about {S}.",
    "I don't have any information about {S}.",
};
#define N_REFUSAL_ANSWERS 3

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

int lrw_make_corpus(builder *b)
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
            if (lrw_add_fresh(b, &r, t, 1)) goto done;
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

void lrw_refusal_text(const lr_world *w, size_t i, lr_buf *q, lr_buf *a)
{
    const lr_world_entity *e = &w->entities[w->refusal_entity[i]];
    const lr_world_relation *rel = &lr_world_relations[w->refusal_relation[i]];
    render(q, rel->question[w->refusal_template[i] & 0xFFFF], e->name, "");
    render(a, refusal_answers[w->refusal_template[i] >> 16], e->name, "");
}
