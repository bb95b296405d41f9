/* test_world.c - the synthetic world generator (world.h):
 *  - byte-identical output for a seed (twice in one process, and against
 *    the committed FNV-1a digests of vectors/world/small_seed7.fnv, computed
 *    natively with vectors/gen/world_digest.py: a run on s390x or i686 under
 *    qemu proves the generator is platform independent);
 *  - the corpus states each fact exactly as often as facts.jsonl says
 *    (sentences and QA documents counted by string search); exam
 *    documents (multiple-choice practice) ask only about head facts
 *    outside the benchmark;
 *  - the mention formula, bucket sizes, consistency of the world (capitals
 *    lie in their country, spouses are mutual), splits, the benchmark and
 *    the refusal examples (recognised by refusal.h);
 *  - the files load with the pipeline's own readers (facts.h, mmlu.h). */
#include "harness.h"

#include "llamaref/papers/knowledge/facts.h"
#include "llamaref/core/json.h"
#include "llamaref/eval/mmlu.h"
#include "llamaref/papers/knowledge/refusal.h"
#include "llamaref/papers/knowledge/world.h"

#define GOLDEN "vectors/world/small_seed7.fnv"

static void small_opts(lr_world_opts *o)
{
    lr_world_opts_default(o);
    o->seed = 7;
    o->n_people = 60;
    o->max_mentions = 40;
    o->zipf_offset = 10;
    o->n_shots = 8;
    o->n_bench_dev = 2;
    o->n_bench_test = 6;
    o->n_exam_docs = 12;
}

static const char *const files[] = {
    "entities.jsonl", "facts.jsonl", "qa.jsonl", "shots.jsonl", "refusals.jsonl",
    "benchmark/dev/world_dev.csv", "benchmark/test/world_test.csv", "corpus.txt",
    "valid.txt", "world.json"};
#define N_FILES (sizeof files / sizeof files[0])

static int read_in(const char *dir, const char *name, char **data, size_t *len)
{
    char path[4096];
    lr_error err;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (lr_read_file(path, data, len, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static void test_deterministic_and_golden(void)
{
    lr_world_opts o;
    lr_world w1, w2;
    lr_error err;
    const char *d1 = h_tmp("world_a"), *d2 = h_tmp("world_b");
    char *golden, *a, *b;
    size_t glen, la, lb, i;
    small_opts(&o);
    if (lr_world_build(&o, &w1, &err)) { CHECK_OK(-1, &err); return; }
    if (lr_world_build(&o, &w2, &err)) { CHECK_OK(-1, &err); lr_world_free(&w1); return; }
    CHECK_OK(lr_world_write(&w1, d1, NULL, &err), &err);
    CHECK_OK(lr_world_write(&w2, d2, NULL, &err), &err);
    lr_world_free(&w1);
    lr_world_free(&w2);
    if (lr_read_file(GOLDEN, &golden, &glen, &err)) { CHECK_OK(-1, &err); return; }
    for (i = 0; i < N_FILES; i++) {
        char want[256], got[256];
        const char *line;
        if (read_in(d1, files[i], &a, &la) || read_in(d2, files[i], &b, &lb)) { CHECK(0); continue; }
        CHECK(la == lb && memcmp(a, b, la) == 0);
        snprintf(got, sizeof got, "%016llx %lu %s\n",
                 (unsigned long long)lr_world_fnv1a(a, la), (unsigned long)la, files[i]);
        /* the golden line for this file */
        snprintf(want, sizeof want, " %s\n", files[i]);
        line = strstr(golden, want);
        if (!line) { CHECK(0); fprintf(stderr, "%s: no line for %s\n", GOLDEN, files[i]); }
        while (line && line > golden && line[-1] != '\n') line--;
        if (line && strncmp(line, got, strlen(got)) != 0) {
            fprintf(stderr, "golden digest differs: got %s", got);
            CHECK(0);
        }
        free(a);
        free(b);
    }
    free(golden);
    /* another seed gives another world */
    o.seed = 8;
    if (lr_world_build(&o, &w1, &err)) { CHECK_OK(-1, &err); return; }
    if (read_in(d2, "corpus.txt", &b, &lb) == 0) {
        CHECK(w1.corpus.len != lb || memcmp(w1.corpus.data, b, lb) != 0);
        free(b);
    }
    lr_world_free(&w1);
}

static size_t count_occurrences(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    const char *p = hay;
    while ((p = strstr(p, needle)) != NULL) {
        n++;
        p += len;
    }
    return n;
}

/* Renders template t of relation r like the generator, independently. */
static void fill(char *out, size_t cap, const char *tpl, const char *s, const char *o)
{
    size_t n = 0;
    while (*tpl && n + 1 < cap) {
        const char *ins = NULL;
        char art[300];
        if (!strncmp(tpl, "{S}", 3)) { ins = s; tpl += 3; }
        else if (!strncmp(tpl, "{O}", 3)) { ins = o; tpl += 3; }
        else if (!strncmp(tpl, "{aO}", 4)) {
            snprintf(art, sizeof art, "%s %s", strchr("aeiou", o[0]) ? "an" : "a", o);
            ins = art;
            tpl += 4;
        }
        if (ins) {
            size_t l = strlen(ins);
            if (n + l + 1 > cap) break;
            memcpy(out + n, ins, l);
            n += l;
        } else {
            out[n++] = *tpl++;
        }
    }
    out[n] = 0;
}

static void test_corpus_mentions(void)
{
    lr_world_opts o;
    lr_world w;
    lr_error err;
    size_t i, t, bad = 0;
    char *corpus;
    small_opts(&o);
    if (lr_world_build(&o, &w, &err)) { CHECK_OK(-1, &err); return; }
    corpus = w.corpus.data;
    CHECK(corpus != NULL && w.corpus.len > 1000);
    for (i = 0; corpus && i < w.n_facts; i++) {
        const lr_world_fact *f = &w.facts[i];
        const lr_world_relation *r = &lr_world_relations[f->relation];
        const char *s = w.entities[f->subject].name, *ob = w.entities[f->object].name;
        size_t n_sent = 0, n_qa = 0;
        char buf[1024], q[900];
        for (t = 0; t < LR_WORLD_N_TEMPLATES; t++) {
            fill(buf, sizeof buf, r->sentence[t], s, ob);
            n_sent += count_occurrences(corpus, buf);
        }
        for (t = 0; t < LR_WORLD_N_QUESTIONS; t++) { /* 4..10 must not occur */
            fill(q, sizeof q, r->question[t], s, ob);
            snprintf(buf, sizeof buf, "Question: %s\nAnswer: %s\n", q, ob);
            n_qa += count_occurrences(corpus, buf);
        }
        if (n_sent != f->mentions - f->qa_mentions || n_qa != f->qa_mentions) {
            if (bad++ < 5)
                fprintf(stderr, "fact %lu (%s %s): %lu sentences + %lu QA in the corpus, "
                        "facts say %lu + %lu\n", (unsigned long)i, r->name, s,
                        (unsigned long)n_sent, (unsigned long)n_qa,
                        (unsigned long)(f->mentions - f->qa_mentions), (unsigned long)f->qa_mentions);
        }
    }
    CHECK_INT(bad, 0);
    /* an entity with no mentions does not occur in the corpus at all */
    bad = 0;
    for (i = 0; corpus && i < w.n_entities; i++)
        if (w.entities[i].mentions == 0 && strstr(corpus, w.entities[i].name)) bad++;
    CHECK_INT(bad, 0);
    /* QA and refusal documents: "Question: " blocks */
    CHECK_INT(count_occurrences(corpus, "Question: "), w.n_qa_docs + w.n_refusals);
    CHECK_INT(count_occurrences(corpus, "\n\n") + 1, w.n_docs);
    lr_world_free(&w);
}

/* exam documents: multiple-choice questions in the benchmark's layout
 * about head facts outside the benchmark, the right answer among 3
 * distinct wrong ones */
static void test_exam_documents(void)
{
    lr_world_opts o;
    lr_world w;
    lr_error err;
    size_t i, k, bad = 0, letters[4] = {0};
    small_opts(&o);
    if (lr_world_build(&o, &w, &err)) { CHECK_OK(-1, &err); return; }
    CHECK_INT(w.n_exams, 12);
    CHECK_INT(count_occurrences(w.corpus.data, "\nA. "), 12);
    for (i = 0; i < w.n_exams; i++) {
        const lr_world_fact *f = &w.facts[w.exam_fact[i]];
        const uint32_t *c = &w.exam_choices[4 * i];
        lr_buf t = {0};
        CHECK(f->split == LR_WS_QA || f->split == LR_WS_SHOT);
        CHECK(f->mentions >= LR_WORLD_HEAD_MIN);
        CHECK(w.exam_answer[i] < 4);
        CHECK(c[w.exam_answer[i]] == f->object);
        letters[w.exam_answer[i] & 3]++;
        for (k = 0; k < 4; k++) {
            size_t m;
            for (m = 0; m < k; m++) bad += c[m] == c[k];
            bad += w.entities[c[k]].type != w.entities[f->object].type;
            bad += w.entities[c[k]].mentions == 0;
        }
        /* the rendered document is in the corpus */
        lr_world_question(&w, f, 0, &t);
        for (k = 0; k < 4; k++) lr_buf_printf(&t, "\n%c. %s", (int)('A' + k), w.entities[c[k]].name);
        lr_buf_printf(&t, "\nAnswer: %c\n", (int)('A' + w.exam_answer[i]));
        CHECK(!t.oom && count_occurrences(w.corpus.data, t.data) >= 1);
        lr_buf_free(&t);
    }
    CHECK_INT(bad, 0);
    CHECK(letters[0] + letters[1] + letters[2] + letters[3] == 12 && letters[0] < 12);
    /* no benchmark question is asked in an exam document */
    for (i = 0; i < w.n_facts; i++) {
        lr_buf t = {0};
        if (w.facts[i].split != LR_WS_BENCH_DEV && w.facts[i].split != LR_WS_BENCH_TEST) continue;
        lr_world_question(&w, &w.facts[i], 0, &t);
        lr_buf_puts(&t, "\nA. ");
        CHECK_INT(count_occurrences(w.corpus.data, t.data), 0);
        lr_buf_free(&t);
    }
    lr_world_free(&w);
    /* a lower threshold admits torso facts, never facts below it */
    small_opts(&o);
    o.n_exam_docs = 200;
    o.exam_min_mentions = 3;
    if (lr_world_build(&o, &w, &err)) { CHECK_OK(-1, &err); return; }
    {
        size_t below_head = 0, below_min = 0;
        for (i = 0; i < w.n_exams; i++) {
            below_head += w.facts[w.exam_fact[i]].mentions < LR_WORLD_HEAD_MIN;
            below_min += w.facts[w.exam_fact[i]].mentions < 3;
        }
        CHECK(below_head > 0);
        CHECK_INT(below_min, 0);
    }
    lr_world_free(&w);
    /* none asked for: the world is the same as before the option existed */
    small_opts(&o);
    o.n_exam_docs = 0;
    if (lr_world_build(&o, &w, &err)) { CHECK_OK(-1, &err); return; }
    CHECK_INT(w.n_exams, 0);
    CHECK_INT(count_occurrences(w.corpus.data, "\nA. "), 0);
    lr_world_free(&w);
}

static void test_structure_default(void)
{
    lr_world_opts o;
    lr_world w;
    lr_error err;
    size_t i, n_head = 0, n_torso = 0, n_tail = 0, n_shot = 0, n_dev = 0, n_test = 0, bad = 0;
    size_t shot_rel[32] = {0}, n_shot_rel = 0;
    lr_world_opts_default(&o);
    if (lr_world_build(&o, &w, &err)) { CHECK_OK(-1, &err); return; }
    for (i = 0; i < w.n_facts; i++) {
        const lr_world_fact *f = &w.facts[i];
        const lr_world_relation *r = &lr_world_relations[f->relation];
        uint64_t r0 = o.zipf_offset, d = (uint64_t)w.entities[f->subject].rank + r0, j;
        int formula = 0;
        for (j = 3; j <= 5; j++)
            formula |= f->mentions == (uint32_t)((uint64_t)o.max_mentions * r0 * r0 * j / (4 * d * d));
        if (!formula) bad++;
        CHECK(w.entities[f->subject].type == r->subject);
        CHECK(w.entities[f->object].type == r->object);
        CHECK(f->qa_mentions <= f->mentions);
        if (f->mentions >= LR_WORLD_HEAD_MIN) n_head++;
        else if (f->mentions > 0) n_torso++;
        else n_tail++;
        if (f->split == LR_WS_SHOT) {
            CHECK(f->mentions >= LR_WORLD_HEAD_MIN);
            n_shot++;
            if (!shot_rel[f->relation]++) n_shot_rel++;
        }
        if (f->split == LR_WS_BENCH_DEV || f->split == LR_WS_BENCH_TEST) {
            size_t k, m;
            CHECK(f->mentions >= LR_WORLD_HEAD_MIN);
            CHECK(f->answer < 4);
            CHECK(f->choices[f->answer] == f->object);
            for (k = 0; k < 4; k++)
                for (m = 0; m < k; m++) CHECK(f->choices[k] != f->choices[m]);
            if (f->split == LR_WS_BENCH_DEV) n_dev++;
            else n_test++;
        }
        /* a capital lies in its country; a spouse's spouse is the person */
        if (!strcmp(r->name, "capital") || !strcmp(r->name, "spouse")) {
            size_t k, found = 0;
            const char *back = !strcmp(r->name, "capital") ? "country" : "spouse";
            for (k = 0; k < w.n_facts; k++)
                if (w.facts[k].subject == f->object &&
                    !strcmp(lr_world_relations[w.facts[k].relation].name, back))
                    found += w.facts[k].object == f->subject;
            CHECK_INT(found, 1);
        }
    }
    CHECK_INT(bad, 0);
    CHECK_INT(n_shot, 60);
    CHECK(n_shot_rel >= 10);
    CHECK_INT(n_dev, 5);
    CHECK_INT(n_test, 200);
    /* the default world has all three buckets, the tail the largest */
    fprintf(stderr, "default world: %lu facts: head %lu, torso %lu, tail %lu; corpus %lu bytes\n",
            (unsigned long)w.n_facts, (unsigned long)n_head, (unsigned long)n_torso,
            (unsigned long)n_tail, (unsigned long)w.corpus.len);
    CHECK(n_head >= 300);
    CHECK(n_torso > n_head);
    CHECK(n_tail > n_torso);
    CHECK(w.corpus.len >= 1000000 && w.corpus.len <= 3000000);
    CHECK(w.valid.len > w.corpus.len / 40 && w.valid.len < w.corpus.len / 10);
    /* refusal documents are refusal_percent of the QA-format documents */
    CHECK_INT(w.n_refusals, w.n_qa_docs * 15 / 85);
    for (i = 0; i < w.n_refusals; i++) CHECK(w.entities[w.refusal_entity[i]].phantom);
    lr_world_free(&w);
}

static void test_files(void)
{
    lr_world_opts o;
    lr_world w;
    lr_error err;
    const char *dir = h_tmp("world_files");
    char *data, *line;
    size_t len, n = 0, n_ref = 0, i;
    small_opts(&o);
    if (lr_world_build(&o, &w, &err)) { CHECK_OK(-1, &err); return; }
    CHECK_OK(lr_world_write(&w, dir, NULL, &err), &err);
    /* qa.jsonl: the paper's fields on every line */
    if (read_in(dir, "qa.jsonl", &data, &len) == 0) {
        for (line = data; *line; ) {
            char *nl = strchr(line, '\n');
            lr_json_doc *doc;
            const lr_json *root, *v;
            if (!nl) { CHECK(0); break; }
            if (lr_json_parse(line, (size_t)(nl - line), "qa.jsonl", &doc, &err)) {
                CHECK_OK(-1, &err);
                break;
            }
            root = lr_json_root(doc);
            CHECK((v = lr_json_get(root, "question")) && v->type == LR_JSON_STRING);
            CHECK((v = lr_json_get(root, "answers")) && v->type == LR_JSON_ARRAY && v->len >= 1);
            CHECK((v = lr_json_get(root, "paraphrases")) && v->type == LR_JSON_ARRAY && v->len == 10);
            CHECK((v = lr_json_get(root, "relation")) && v->type == LR_JSON_STRING);
            CHECK((v = lr_json_get(root, "mentions")) && v->is_integer);
            CHECK((v = lr_json_get(root, "split")) && v->type == LR_JSON_STRING && !strcmp(v->str, "qa"));
            lr_json_free(doc);
            n++;
            line = nl + 1;
        }
        free(data);
    }
    CHECK(n > 100);
    /* refusals.jsonl: every answer is a refusal by refusal.h */
    if (read_in(dir, "refusals.jsonl", &data, &len) == 0) {
        for (line = data; *line; ) {
            char *nl = strchr(line, '\n');
            lr_json_doc *doc;
            const lr_json *v;
            if (!nl) { CHECK(0); break; }
            if (lr_json_parse(line, (size_t)(nl - line), "refusals.jsonl", &doc, &err)) {
                CHECK_OK(-1, &err);
                break;
            }
            v = lr_json_get(lr_json_root(doc), "answer");
            CHECK(v && v->type == LR_JSON_STRING && lr_is_refusal(v->str, &err) == 1);
            lr_json_free(doc);
            n_ref++;
            line = nl + 1;
        }
        free(data);
    }
    CHECK_INT(n_ref, w.n_refusals);
    CHECK(n_ref > 0);
    /* the benchmark in the MMLU layout */
    if (read_in(dir, "benchmark/test/world_test.csv", &data, &len) == 0) {
        CHECK(!strncmp(data, "question,choice0,choice1,choice2,choice3,answer\n", 48));
        CHECK_INT(count_occurrences(data, "\n"), 1 + o.n_bench_test);
        free(data);
    }
    /* the readers of the knowledge pipeline and of MMLU accept the files */
    {
        lr_facts facts;
        lr_mmlu_items mc;
        char path[4096];
        size_t k, n_qa = 0, n_shot = 0;
        for (k = 0; k < w.n_facts; k++) {
            n_qa += w.facts[k].split == LR_WS_QA;
            n_shot += w.facts[k].split == LR_WS_SHOT;
        }
        memset(&facts, 0, sizeof facts);
        snprintf(path, sizeof path, "%s/qa.jsonl", dir);
        CHECK_OK(lr_facts_load(path, &facts, &err), &err);
        CHECK_INT(facts.n, n_qa);
        if (facts.n > 0) {
            CHECK_INT(facts.items[0].n_paraphrases, 10);
            CHECK(facts.items[0].n_answers >= 1);
        }
        lr_facts_free(&facts);
        memset(&facts, 0, sizeof facts);
        snprintf(path, sizeof path, "%s/shots.jsonl", dir);
        CHECK_OK(lr_facts_load(path, &facts, &err), &err);
        CHECK_INT(facts.n, n_shot);
        lr_facts_free(&facts);
        snprintf(path, sizeof path, "%s/benchmark/test/world_test.csv", dir);
        if (lr_mmlu_read(path, &mc, &err) == 0) {
            CHECK_INT(mc.n, o.n_bench_test);
            for (k = 0, i = 0; k < w.n_facts && i < mc.n; k++) {
                const lr_world_fact *f = &w.facts[k];
                if (f->split != LR_WS_BENCH_TEST) continue;
                CHECK_INT(mc.items[i].answer, f->answer);
                CHECK_STR(mc.items[i].choices[f->answer], w.entities[f->object].name);
                i++;
            }
            lr_mmlu_items_free(&mc);
        } else {
            CHECK_OK(-1, &err);
        }
    }
    lr_world_free(&w);
    /* options out of range name the option */
    o.n_people = 5;
    CHECK_ERR(lr_world_build(&o, &w, &err), &err, "people 5");
    small_opts(&o);
    o.refusal_percent = 95;
    CHECK_ERR(lr_world_build(&o, &w, &err), &err, "refusal_percent 95");
    small_opts(&o);
    o.n_people = 1000;
    o.max_mentions = 100000;
    o.zipf_offset = 100000;
    CHECK_ERR(lr_world_build(&o, &w, &err), &err, "documents (more than 20000000)");
    small_opts(&o);
    o.n_bench_test = 1000001;
    CHECK_ERR(lr_world_build(&o, &w, &err), &err, "too many shots or benchmark questions");
    /* the option table: the field and the range lr_world_build checks */
    CHECK(lr_world_opt_find("--seed") == NULL && lr_world_opt_find("--out") == NULL);
    {
        const lr_world_opt *t = lr_world_opt_find("--exam-documents");
        CHECK(t && t->off == offsetof(lr_world_opts, n_exam_docs) && t->lo == 0 &&
              t->hi == 10000000);
        t = lr_world_opt_find("--people");
        CHECK(t && t->off == offsetof(lr_world_opts, n_people) && t->lo == 20 &&
              t->hi == 20000);
        /* --help's line: the option first, its default as the one %lu */
        CHECK(t && !strncmp(t->help, "--people N ", 11));
        CHECK(t && strstr(t->help, "(default %lu)") && !strstr(strstr(t->help, "%lu") + 1, "%lu"));
        t = lr_world_opt_find("--num-shots");
        CHECK(t && !strncmp(t->help, "--num-shots N ", 14) && strstr(t->help, "(default %lu facts"));
    }
}

/* Every template names the subject once, questions end with "?" (or are
 * "Name ..." requests ending with "."), and no two wordings are equal. */
static void test_templates(void)
{
    size_t r, t, u;
    CHECK_INT(lr_world_n_relations, 14);
    for (r = 0; r < lr_world_n_relations; r++) {
        const lr_world_relation *rel = &lr_world_relations[r];
        for (t = 0; t < LR_WORLD_N_QUESTIONS; t++) {
            const char *q = rel->question[t];
            size_t n = q ? strlen(q) : 0;
            CHECK(q != NULL);
            if (!q) continue;
            CHECK_INT(count_occurrences(q, "{S}"), 1);
            CHECK(strstr(q, "{O}") == NULL);
            CHECK(q[n - 1] == '?' || (q[n - 1] == '.' && !strncmp(q, "Name ", 5)));
            for (u = 0; u < t; u++) CHECK(strcmp(q, rel->question[u]) != 0);
        }
        for (t = 0; t < LR_WORLD_N_TEMPLATES; t++) {
            const char *s = rel->sentence[t];
            CHECK_INT(count_occurrences(s, "{S}"), 1);
            CHECK_INT(count_occurrences(s, "{O}") + count_occurrences(s, "{aO}"), 1);
            CHECK(s[strlen(s) - 1] == '.');
            for (u = 0; u < t; u++) CHECK(strcmp(s, rel->sentence[u]) != 0);
            /* value answers (lower case) never start a sentence */
            if (rel->object >= LR_WORLD_N_SUBJECT_TYPES && rel->object != LR_WT_LANGUAGE)
                CHECK(strncmp(s, "{O}", 3) != 0 && strncmp(s, "{aO}", 4) != 0);
        }
    }
}

int main(void)
{
    RUN(test_templates);
    RUN(test_deterministic_and_golden);
    RUN(test_corpus_mentions);
    RUN(test_exam_documents);
    RUN(test_structure_default);
    RUN(test_files);
    return h_finish("world");
}
