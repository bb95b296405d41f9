/* world_write.c - writes a built world to its directory (docs/world.md):
 * world.json, entities.jsonl, facts.jsonl, qa.jsonl, corpus.txt,
 * valid.txt, refusals.jsonl, shots.jsonl and the benchmark CSVs, each
 * atomically.  Depends on world.h (the public view of a world), json.c
 * (string escaping) and common.c (atomic writes, directories). */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#endif
#include "llamaref/papers/knowledge/world.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/json.h"
#include "world_builder.h"

/* ---- files ---- */

uint64_t lr_world_fnv1a(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static void json_str(lr_buf *b, const char *s)
{
    lr_json_write_string(b, s, strlen(s));
}

static const char *split_name(lr_world_split s)
{
    static const char *const names[] = {"qa", "shot", "bench_dev", "bench_test"};
    return names[s];
}

static const char *bucket_name(uint32_t mentions)
{
    return mentions >= LR_WORLD_HEAD_MIN ? "head" : mentions > 0 ? "torso" : "tail";
}

static void write_aliases(lr_buf *b, const lr_world_entity *e)
{
    lr_buf_puts(b, "[");
    json_str(b, e->name);
    if (e->alias) {
        lr_buf_puts(b, ", ");
        json_str(b, e->alias);
    }
    lr_buf_puts(b, "]");
}

/* One fact as a JSONL record (the paper's QA format plus world fields). */
static void write_fact(const lr_world *w, size_t id, lr_buf *b)
{
    const lr_world_fact *f = &w->facts[id];
    const lr_world_entity *s = &w->entities[f->subject], *o = &w->entities[f->object];
    lr_buf q = {0};
    size_t t;
    lr_world_question(w, f, 0, &q);
    lr_buf_printf(b, "{\"id\": %lu, \"question\": ", (unsigned long)id);
    lr_json_write_string(b, q.data ? q.data : "", q.len);
    lr_buf_puts(b, ", \"answers\": ");
    write_aliases(b, o);
    lr_buf_puts(b, ", \"relation\": ");
    json_str(b, lr_world_relations[f->relation].name);
    lr_buf_puts(b, ", \"paraphrases\": [");
    for (t = 1; t < LR_WORLD_N_QUESTIONS; t++) {
        q.len = 0;
        lr_world_question(w, f, t, &q);
        if (t > 1) lr_buf_puts(b, ", ");
        lr_json_write_string(b, q.data, q.len);
    }
    lr_buf_puts(b, "], \"subject\": ");
    json_str(b, s->name);
    lr_buf_printf(b, ", \"subject_id\": %lu, \"subject_type\": \"%s\", \"object_id\": %lu, "
                  "\"object_type\": \"%s\", \"mentions\": %lu, \"qa_mentions\": %lu, "
                  "\"subject_rank\": %lu, \"bucket\": \"%s\", \"split\": \"%s\"}\n",
                  (unsigned long)f->subject, lr_world_type_name(s->type), (unsigned long)f->object,
                  lr_world_type_name(o->type), (unsigned long)f->mentions,
                  (unsigned long)f->qa_mentions, (unsigned long)s->rank, bucket_name(f->mentions),
                  split_name(f->split));
    lr_buf_free(&q);
}

/* A CSV field (RFC 4180: quoted when it holds a comma, quote or newline). */
static void csv_field(lr_buf *b, const char *s, size_t n)
{
    size_t i;
    int quote = 0;
    for (i = 0; i < n; i++) quote |= s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) { lr_buf_append(b, s, n); return; }
    lr_buf_puts(b, "\"");
    for (i = 0; i < n; i++) {
        if (s[i] == '"') lr_buf_puts(b, "\"");
        lr_buf_append(b, s + i, 1);
    }
    lr_buf_puts(b, "\"");
}

static void write_bench(const lr_world *w, lr_world_split split, lr_buf *b)
{
    size_t i, k;
    lr_buf_puts(b, "question,choice0,choice1,choice2,choice3,answer\n");
    for (i = 0; i < w->n_facts; i++) {
        const lr_world_fact *f = &w->facts[i];
        lr_buf q = {0};
        if (f->split != split) continue;
        lr_world_question(w, f, 0, &q);
        csv_field(b, q.data, q.len);
        for (k = 0; k < 4; k++) {
            const char *c = w->entities[f->choices[k]].name;
            lr_buf_puts(b, ",");
            csv_field(b, c, strlen(c));
        }
        lr_buf_printf(b, ",%lu\n", (unsigned long)f->answer);
        lr_buf_free(&q);
    }
}

/* world.json: options, counts and the most frequent answers per relation. */
static void write_summary(const lr_world *w, lr_buf *b)
{
    const lr_world_opts *o = &w->opts;
    size_t t, i, rel;
    size_t n_type[LR_WT_N] = {0}, n_phantom = 0;
    size_t n_split[4] = {0}, n_bucket[3] = {0}, n_qa_bucket[3] = {0};
    uint32_t *count = calloc(w->n_entities + 1, sizeof *count);
    for (i = 0; i < w->n_entities; i++) {
        if (w->entities[i].phantom) n_phantom++;
        else n_type[w->entities[i].type]++;
    }
    for (i = 0; i < w->n_facts; i++) {
        uint32_t m = w->facts[i].mentions;
        size_t k = m >= LR_WORLD_HEAD_MIN ? 0 : m > 0 ? 1 : 2;
        n_split[w->facts[i].split]++;
        n_bucket[k]++;
        if (w->facts[i].split == LR_WS_QA) n_qa_bucket[k]++;
    }
    lr_buf_printf(b, "{\n  \"format\": \"llamaref-world\",\n  \"version\": 1,\n"
                  "  \"seed\": %llu,\n  \"options\": {\"people\": %lu, \"max_mentions\": %lu, "
                  "\"zipf_offset\": %lu, \"shots\": %lu, \"bench_dev\": %lu, \"bench_test\": %lu, "
                  "\"refusal_percent\": %lu, \"valid_percent\": %lu, \"exam_documents\": %lu, \"exam_min_mentions\": %lu},\n"
                  "  \"head_min_mentions\": %d,\n  \"entities\": {",
                  (unsigned long long)o->seed, (unsigned long)o->n_people,
                  (unsigned long)o->max_mentions, (unsigned long)o->zipf_offset,
                  (unsigned long)o->n_shots, (unsigned long)o->n_bench_dev,
                  (unsigned long)o->n_bench_test, (unsigned long)o->refusal_percent,
                  (unsigned long)o->valid_percent, (unsigned long)o->n_exam_docs,
                  (unsigned long)o->exam_min_mentions, LR_WORLD_HEAD_MIN);
    for (t = 0; t < LR_WT_N; t++)
        lr_buf_printf(b, "%s\"%s\": %lu", t ? ", " : "", lr_world_type_name((lr_world_type)t),
                      (unsigned long)n_type[t]);
    lr_buf_printf(b, ", \"phantom\": %lu},\n  \"facts\": %lu,\n", (unsigned long)n_phantom,
                  (unsigned long)w->n_facts);
    lr_buf_printf(b, "  \"splits\": {\"qa\": %lu, \"shot\": %lu, \"bench_dev\": %lu, \"bench_test\": %lu},\n",
                  (unsigned long)n_split[0], (unsigned long)n_split[1], (unsigned long)n_split[2],
                  (unsigned long)n_split[3]);
    lr_buf_printf(b, "  \"buckets\": {\"head\": %lu, \"torso\": %lu, \"tail\": %lu},\n",
                  (unsigned long)n_bucket[0], (unsigned long)n_bucket[1], (unsigned long)n_bucket[2]);
    lr_buf_printf(b, "  \"qa_buckets\": {\"head\": %lu, \"torso\": %lu, \"tail\": %lu},\n",
                  (unsigned long)n_qa_bucket[0], (unsigned long)n_qa_bucket[1],
                  (unsigned long)n_qa_bucket[2]);
    lr_buf_printf(b, "  \"corpus\": {\"bytes\": %lu, \"documents\": %lu, \"qa_documents\": %lu, "
                  "\"refusal_documents\": %lu, \"exam_documents\": %lu},\n  \"valid\": {\"bytes\": %lu, \"documents\": %lu},\n",
                  (unsigned long)w->corpus.len, (unsigned long)w->n_docs,
                  (unsigned long)w->n_qa_docs, (unsigned long)w->n_refusals, (unsigned long)w->n_exams,
                  (unsigned long)w->valid.len, (unsigned long)w->n_valid_docs);
    /* per relation: facts, mentions, and the 3 most frequent answers */
    lr_buf_puts(b, "  \"relations\": [\n");
    for (rel = 0; rel < lr_world_n_relations; rel++) {
        size_t n = 0, top[3] = {0, 0, 0}, k;
        uint64_t mentions = 0;
        int have[3] = {0, 0, 0};
        for (i = 0; count && i < w->n_facts; i++)
            if (w->facts[i].relation == rel) count[w->facts[i].object] = 0;
        for (i = 0; i < w->n_facts; i++) {
            if (w->facts[i].relation != rel) continue;
            n++;
            mentions += w->facts[i].mentions;
            if (count) count[w->facts[i].object]++;
        }
        /* top 3 by count, ties by smaller entity id */
        for (i = 0; count && i < w->n_entities; i++) {
            if (!count[i]) continue;
            for (k = 0; k < 3; k++) {
                if (!have[k] || count[i] > count[top[k]]) {
                    size_t m;
                    for (m = 2; m > k; m--) { top[m] = top[m - 1]; have[m] = have[m - 1]; }
                    top[k] = i;
                    have[k] = 1;
                    break;
                }
            }
        }
        lr_buf_printf(b, "    {\"name\": \"%s\", \"subject_type\": \"%s\", \"object_type\": \"%s\", "
                      "\"facts\": %lu, \"mentions\": %llu, \"top_answers\": [",
                      lr_world_relations[rel].name, lr_world_type_name(lr_world_relations[rel].subject),
                      lr_world_type_name(lr_world_relations[rel].object), (unsigned long)n,
                      (unsigned long long)mentions);
        for (k = 0; k < 3 && have[k]; k++) {
            lr_buf_puts(b, k ? ", {\"answer\": " : "{\"answer\": ");
            json_str(b, w->entities[top[k]].name);
            lr_buf_printf(b, ", \"facts\": %lu}", (unsigned long)count[top[k]]);
        }
        for (i = 0; count && i < w->n_facts; i++)
            if (w->facts[i].relation == rel) count[w->facts[i].object] = 0;
        lr_buf_printf(b, "]}%s\n", rel + 1 < lr_world_n_relations ? "," : "");
    }
    lr_buf_puts(b, "  ]\n}\n");
    if (!count) b->oom = 1;
    free(count);
}

static int write_one(const char *dir, const char *name, lr_buf *b, size_t *total, lr_error *err)
{
    char *path;
    int rc;
    if (b->oom) return lr_fail(err, "out of memory rendering %s", name);
    path = lr_path_join(dir, name, err);
    if (!path) return -1;
    rc = lr_write_file_atomic(path, b->data ? b->data : "", b->len, err);
    free(path);
    if (total) *total += b->len;
    return rc;
}

static int ensure_dir(const char *dir, lr_error *err)
{
    if (lr_path_is_dir(dir)) return 0;
    if (lr_make_dir(dir))
        return lr_fail(err, "cannot create directory %s: %s", dir, strerror(errno));
    return 0;
}

int lr_world_write(const lr_world *w, const char *dir, size_t *total_bytes, lr_error *err)
{
    lr_buf b = {0};
    size_t i, total = 0;
    int rc = -1;
    char *sub = NULL;
    if (ensure_dir(dir, err)) return -1;
    /* entities.jsonl */
    for (i = 0; i < w->n_entities; i++) {
        const lr_world_entity *e = &w->entities[i];
        lr_buf_printf(&b, "{\"id\": %lu, \"type\": \"%s\", \"name\": ", (unsigned long)i,
                      lr_world_type_name(e->type));
        json_str(&b, e->name);
        lr_buf_puts(&b, ", \"aliases\": ");
        write_aliases(&b, e);
        if (e->rank == UINT32_MAX) lr_buf_puts(&b, ", \"rank\": null");
        else lr_buf_printf(&b, ", \"rank\": %lu", (unsigned long)e->rank);
        lr_buf_printf(&b, ", \"mentions\": %lu, \"phantom\": %s}\n", (unsigned long)e->mentions,
                      e->phantom ? "true" : "false");
    }
    if (write_one(dir, "entities.jsonl", &b, &total, err)) goto done;
    /* facts.jsonl, qa.jsonl, shots.jsonl */
    b.len = 0;
    for (i = 0; i < w->n_facts; i++) write_fact(w, i, &b);
    if (write_one(dir, "facts.jsonl", &b, &total, err)) goto done;
    b.len = 0;
    { /* qa.jsonl in a random order (stream 6), so that its first N lines
       * (`probe --limit N`) are a uniform sample of the pool */
        size_t n_qa = 0;
        uint32_t *qa = lrw_qa_order(w, &n_qa, err);
        if (!qa) goto done;
        for (i = 0; i < n_qa; i++) write_fact(w, qa[i], &b);
        free(qa);
    }
    if (write_one(dir, "qa.jsonl", &b, &total, err)) goto done;
    b.len = 0;
    for (i = 0; i < w->n_facts; i++) if (w->facts[i].split == LR_WS_SHOT) write_fact(w, i, &b);
    if (write_one(dir, "shots.jsonl", &b, &total, err)) goto done;
    /* refusals.jsonl */
    b.len = 0;
    for (i = 0; i < w->n_refusals; i++) {
        const lr_world_entity *e = &w->entities[w->refusal_entity[i]];
        const lr_world_relation *rel = &lr_world_relations[w->refusal_relation[i]];
        lr_buf q = {0}, a = {0};
        lrw_refusal_text(w, i, &q, &a);
        lr_buf_puts(&b, "{\"question\": ");
        lr_json_write_string(&b, q.data, q.len);
        lr_buf_puts(&b, ", \"answer\": ");
        lr_json_write_string(&b, a.data, a.len);
        lr_buf_puts(&b, ", \"relation\": ");
        json_str(&b, rel->name);
        lr_buf_puts(&b, ", \"subject\": ");
        json_str(&b, e->name);
        lr_buf_printf(&b, ", \"subject_id\": %lu, \"subject_type\": \"%s\"}\n",
                      (unsigned long)w->refusal_entity[i], lr_world_type_name(e->type));
        if (q.oom || a.oom) b.oom = 1;
        lr_buf_free(&q);
        lr_buf_free(&a);
    }
    if (write_one(dir, "refusals.jsonl", &b, &total, err)) goto done;
    /* benchmark/{dev,test}/world_{dev,test}.csv (the MMLU layout) */
    sub = lr_path_join(dir, "benchmark", err);
    if (!sub || ensure_dir(sub, err)) goto done;
    free(sub);
    sub = lr_path_join(dir, "benchmark/dev", err);
    if (!sub || ensure_dir(sub, err)) goto done;
    free(sub);
    sub = lr_path_join(dir, "benchmark/test", err);
    if (!sub || ensure_dir(sub, err)) goto done;
    b.len = 0;
    write_bench(w, LR_WS_BENCH_DEV, &b);
    if (write_one(dir, "benchmark/dev/world_dev.csv", &b, &total, err)) goto done;
    b.len = 0;
    write_bench(w, LR_WS_BENCH_TEST, &b);
    if (write_one(dir, "benchmark/test/world_test.csv", &b, &total, err)) goto done;
    /* the texts and the summary */
    if (write_one(dir, "corpus.txt", (lr_buf *)&w->corpus, &total, err) ||
        write_one(dir, "valid.txt", (lr_buf *)&w->valid, &total, err))
        goto done;
    b.len = 0;
    write_summary(w, &b);
    if (write_one(dir, "world.json", &b, &total, err)) goto done;
    if (total_bytes) *total_bytes = total;
    rc = 0;
done:
    free(sub);
    lr_buf_free(&b);
    return rc;
}
