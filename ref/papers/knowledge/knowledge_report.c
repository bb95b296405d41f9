/* knowledge_report.c - the comparison of two probe outputs behind
 * `llamaref knowledge-report` (knowledge_report.h): probe files indexed
 * by question, transitions, reliability, answer statistics, and the
 * JSON / Markdown / SVG reports in memory and their files.  Prints
 * nothing.
 * Depends on: knowledge.h, experiment.h, facts.h, svg.h, json.h, report.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/papers/knowledge/facts.h"
#include "llamaref/core/json.h"
#include "llamaref/papers/knowledge/knowledge_report.h"
#include "llamaref/core/report.h"
#include "llamaref/core/svg.h"

/* num / den with 4 decimals, or "n/a" when den is 0 (nothing measured) */
static void fraction(char *buf, unsigned long num, unsigned long den)
{
    if (den) sprintf(buf, "%.4f", (double)num / (double)den);
    else strcpy(buf, "n/a");
}

/* Per probe file: greedy answers and correctness of each record. */
typedef struct probe_set {
    lr_facts f;
    const char ***greedy;    /* [n][n_prompts] */
    size_t *n_greedy;
    size_t *n_correct;
    struct qidx { const char *q; size_t i; } *order; /* sorted by question */
} probe_set;

static int cmp_q(const void *a, const void *b)
{
    return strcmp(((const struct qidx *)a)->q, ((const struct qidx *)b)->q);
}

static void probe_set_free(probe_set *p)
{
    size_t i;
    if (p->greedy)
        for (i = 0; i < p->f.n; i++) free((void *)p->greedy[i]);
    free(p->greedy);
    free(p->n_greedy);
    free(p->n_correct);
    free(p->order);
    lr_facts_free(&p->f);
}

static int probe_set_load(probe_set *p, const char *path, lr_error *err)
{
    size_t i;
    memset(p, 0, sizeof *p);
    if (lr_facts_load(path, &p->f, err)) return -1;
    p->greedy = calloc(p->f.n + 1, sizeof *p->greedy);
    p->n_greedy = calloc(p->f.n + 1, sizeof *p->n_greedy);
    p->n_correct = calloc(p->f.n + 1, sizeof *p->n_correct);
    p->order = calloc(p->f.n + 1, sizeof *p->order);
    if (!p->greedy || !p->n_greedy || !p->n_correct || !p->order)
        return lr_fail(err, "out of memory");
    for (i = 0; i < p->f.n; i++) {
        const lr_fact *f = &p->f.items[i];
        const lr_json *c = lr_json_get(f->record, "correct");
        size_t j;
        if (f->category < 0)
            return lr_fail(err, "%s:%lu: no \"category\" (not a probe output)",
                           path, f->line);
        if (lr_record_strings(f->record, "greedy", path, &p->greedy[i],
                              &p->n_greedy[i], err))
            return -1;
        if (!c || c->type != LR_JSON_ARRAY || c->len != p->n_greedy[i])
            return lr_fail(err, "%s:%lu: \"correct\" missing or not one 0/1 "
                           "per greedy answer", path, f->line);
        for (j = 0; j < c->len; j++) {
            if (c->items[j].type != LR_JSON_NUMBER ||
                (c->items[j].number != 0 && c->items[j].number != 1))
                return lr_fail(err, "%s:%lu: \"correct\"[%lu] is not 0 or 1",
                               path, f->line, (unsigned long)j);
            p->n_correct[i] += c->items[j].number == 1;
        }
        p->order[i].q = f->question;
        p->order[i].i = i;
    }
    qsort(p->order, p->f.n, sizeof *p->order, cmp_q);
    for (i = 1; i < p->f.n; i++)
        if (!strcmp(p->order[i].q, p->order[i - 1].q)) {
            unsigned long l1 = p->f.items[p->order[i].i].line;
            unsigned long l0 = p->f.items[p->order[i - 1].i].line;
            return lr_fail(err, "%s:%lu: question repeated (also at line %lu)",
                           path, l1 > l0 ? l1 : l0, l1 > l0 ? l0 : l1);
        }
    return 0;
}

/* Index of the record with this question, or -1. */
static long probe_find(const probe_set *p, const char *q)
{
    size_t lo = 0, hi = p->f.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(p->order[mid].q, q);
        if (!c) return (long)p->order[mid].i;
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return -1;
}

/* Refusals and diversity of one probe's greedy answers (experiment.h). */
static int side_compute(const probe_set *p, lr_answer_stats *s, lr_error *err)
{
    return lr_answer_stats_compute((const char *const *const *)p->greedy,
                                   p->n_greedy, p->f.n, s, err);
}

static void json_side(lr_buf *b, const char *name, const lr_answer_stats *s,
                      size_t top)
{
    lr_buf_printf(b, "  \"%s\": {", name);
    lr_answer_stats_write_json(b, s, top, "\n    ");
    lr_buf_puts(b, "}");
}

/* the file name of a chart beside the report */
static const char *chart_name(const char *out, const char *suffix, char *buf)
{
    lr_report_path(buf, 4096, out, suffix);
    return lr_basename(buf);
}

void lr_knowledge_report_free(lr_knowledge_report *r)
{
    if (!r) return;
    lr_answer_stats_free(&r->before_stats);
    lr_answer_stats_free(&r->after_stats);
    lr_buf_free(&r->json);
    lr_buf_free(&r->md);
    lr_buf_free(&r->svg_transitions);
    lr_buf_free(&r->svg_refusals);
    lr_buf_free(&r->svg_answers);
    memset(r, 0, sizeof *r);
}

int lr_knowledge_report_write(const lr_knowledge_report *r, const char *out,
                              lr_error *err)
{
    static const char *const suffix[4] = {"-transitions.svg", "-refusals.svg",
                                          "-answers.svg", ".md"};
    const lr_buf *part[4];
    char path[4096];
    int k;
    part[0] = &r->svg_transitions;
    part[1] = &r->svg_refusals;
    part[2] = &r->svg_answers;
    part[3] = &r->md;
    if (lr_write_file_atomic(out, r->json.data, r->json.len, err)) return -1;
    for (k = 0; k < 4; k++) {
        if (k == 2 && !r->svg_answers.len) continue; /* no answer after training */
        lr_report_path(path, sizeof path, out, suffix[k]);
        if (lr_write_file_atomic(path, part[k]->data, part[k]->len, err)) return -1;
    }
    return 0;
}

int lr_knowledge_report_build(const lr_knowledge_report_options *o,
                              lr_knowledge_report *r, lr_error *err)
{
    probe_set before, after;
    lr_facts trained;
    lr_slick *cb = NULL, *ca = NULL;
    lr_shift sh;
    lr_answer_stats sb, sa;
    size_t k, rr, c, n_matched = 0, n_missing = 0;
    lr_reliability *rel = &r->rel;
    char path_t[4096], path_r[4096], path_a[4096];
    int rc = -1;
    static const char *const short_names[LR_SLICK_N] = {"HK", "MK", "WK", "UK"};

    memset(r, 0, sizeof *r);
    memset(&before, 0, sizeof before);
    memset(&after, 0, sizeof after);
    memset(&trained, 0, sizeof trained);
    memset(&sb, 0, sizeof sb);
    memset(&sa, 0, sizeof sa);
    if (probe_set_load(&before, o->before, err) ||
        probe_set_load(&after, o->after, err) ||
        (o->trained && lr_facts_load(o->trained, &trained, err)))
        goto done;
    /* transitions over the facts present in both */
    cb = calloc(before.f.n + 1, sizeof *cb);
    ca = calloc(before.f.n + 1, sizeof *ca);
    if (!cb || !ca) { lr_fail(err, "out of memory"); goto done; }
    for (k = 0; k < before.f.n; k++) {
        long j = probe_find(&after, before.f.items[k].question);
        if (j < 0) { n_missing++; continue; }
        cb[n_matched] = (lr_slick)before.f.items[k].category;
        ca[n_matched++] = (lr_slick)after.f.items[j].category;
    }
    if (lr_shift_matrix(cb, ca, n_matched, &sh, err)) goto done;
    /* reliability */
    for (k = 0; k < trained.n; k++) {
        const lr_json *role = lr_json_get(trained.items[k].record, "role");
        int is_unknown = !role || (role->type == LR_JSON_STRING &&
                                   !strcmp(role->str, "unknown"));
        long j = probe_find(&after, trained.items[k].question);
        lr_reliability_add(rel, is_unknown, j >= 0, j >= 0 ? after.n_greedy[j] : 0,
                           j >= 0 ? after.n_correct[j] : 0,
                           j >= 0 && after.f.items[j].category == LR_SLICK_HIGHLY_KNOWN);
    }
    if (side_compute(&before, &sb, err) || side_compute(&after, &sa, err)) goto done;
    /* JSON */
    lr_buf_puts(&r->json, "{\n  \"command\": \"knowledge-report\",\n  \"before\": ");
    lr_json_write_string(&r->json, o->before, strlen(o->before));
    lr_buf_puts(&r->json, ",\n  \"after\": ");
    lr_json_write_string(&r->json, o->after, strlen(o->after));
    lr_buf_printf(&r->json, ",\n  \"facts_matched\": %lu,\n  \"facts_missing_after\": %lu,\n",
                  (unsigned long)n_matched, (unsigned long)n_missing);
    if (o->trained) {
        lr_buf_printf(&r->json, "  \"trained\": {\"unknown_facts\": %lu, \"found\": %lu, "
                      "\"prompts\": %lu, \"correct\": %lu, \"reliability\": ",
                      (unsigned long)rel->facts, (unsigned long)rel->found,
                      (unsigned long)rel->prompts, (unsigned long)rel->correct);
        /* no trained fact: not a reliability of 0 but none (null) */
        if (rel->prompts)
            lr_json_write_number(&r->json, (double)rel->correct / (double)rel->prompts);
        else lr_buf_puts(&r->json, "null");
        lr_buf_puts(&r->json, ", \"highly_known_after\": ");
        if (rel->found)
            lr_json_write_number(&r->json, (double)rel->highly_known / (double)rel->found);
        else lr_buf_puts(&r->json, "null");
        lr_buf_printf(&r->json, ", \"all_examples\": %lu, \"all_found\": %lu, "
                      "\"reliability_all\": ", (unsigned long)rel->all,
                      (unsigned long)rel->all_found);
        if (rel->all_prompts)
            lr_json_write_number(&r->json, (double)rel->all_correct / (double)rel->all_prompts);
        else
            lr_buf_puts(&r->json, "null");
        lr_buf_puts(&r->json, "},\n");
    }
    lr_buf_puts(&r->json, "  \"categories\": [\"HighlyKnown\", \"MaybeKnown\", "
                "\"WeaklyKnown\", \"Unknown\"],\n  \"transition_counts\": [");
    for (rr = 0; rr < LR_SLICK_N; rr++) {
        lr_buf_puts(&r->json, rr ? ", [" : "[");
        for (c = 0; c < LR_SLICK_N; c++)
            lr_buf_printf(&r->json, "%s%lu", c ? ", " : "", (unsigned long)sh.count[rr][c]);
        lr_buf_puts(&r->json, "]");
    }
    lr_buf_puts(&r->json, "],\n  \"positive_shift\": ");
    lr_json_write_number(&r->json, sh.positive);
    lr_buf_puts(&r->json, ",\n  \"negative_shift\": ");
    lr_json_write_number(&r->json, sh.negative);
    lr_buf_puts(&r->json, ",\n");
    json_side(&r->json, "before_answers", &sb, o->top);
    lr_buf_puts(&r->json, ",\n");
    json_side(&r->json, "after_answers", &sa, o->top);
    lr_buf_puts(&r->json, "\n}\n");
    /* charts */
    {
        const char *labels[LR_SLICK_N * LR_SLICK_N], *rl[LR_SLICK_N], *cl[LR_SLICK_N];
        char cells[LR_SLICK_N * LR_SLICK_N][48];
        double vals[LR_SLICK_N * LR_SLICK_N];
        for (rr = 0; rr < LR_SLICK_N; rr++) {
            rl[rr] = lr_slick_name((lr_slick)rr);
            cl[rr] = short_names[rr];
            for (c = 0; c < LR_SLICK_N; c++) {
                vals[rr * LR_SLICK_N + c] = sh.fraction[rr][c];
                snprintf(cells[rr * LR_SLICK_N + c], 48, "%lu (%.3f)",
                         (unsigned long)sh.count[rr][c], sh.fraction[rr][c]);
                labels[rr * LR_SLICK_N + c] = cells[rr * LR_SLICK_N + c];
            }
        }
        if (lr_svg_heatmap(&r->svg_transitions, "SliCK category transitions", "before training",
                           "after training", rl, cl, vals, labels, LR_SLICK_N,
                           LR_SLICK_N, err))
            goto done;
    }
    {
        const char *labels[4] = {"answers before", "answers after",
                                 "questions before", "questions after"};
        double vals[4];
        vals[0] = sb.answers ? (double)sb.refusals / (double)sb.answers : 0;
        vals[1] = sa.answers ? (double)sa.refusals / (double)sa.answers : 0;
        vals[2] = before.f.n ? (double)sb.questions_refusing / (double)before.f.n : 0;
        vals[3] = after.f.n ? (double)sa.questions_refusing / (double)after.f.n : 0;
        if (lr_svg_bar_chart(&r->svg_refusals, "Refusal rate", "fraction", labels, vals,
                             4, 1.0, err))
            goto done;
    }
    {
        size_t n = sa.div.n_unique < 20 ? sa.div.n_unique : 20;
        const char *labels[20];
        double vals[20];
        for (k = 0; k < n; k++) {
            labels[k] = sa.div.counts[k].key;
            vals[k] = (double)sa.div.counts[k].count;
        }
        if (n && lr_svg_bar_chart(&r->svg_answers, "Most frequent answers after "
                                  "training", "answers", labels, vals, n, 0, err))
            goto done;
    }
    /* Markdown */
    lr_buf_printf(&r->md, "# Knowledge report\n\nBefore `%s`, after `%s`: %lu facts "
                  "matched by question (%lu missing after).\n\n",
                  o->before, o->after, (unsigned long)n_matched,
                  (unsigned long)n_missing);
    if (o->trained) {
        char rel_txt[32], hk[32], rel_all[32];
        fraction(rel_txt, rel->correct, rel->prompts);
        fraction(hk, rel->highly_known, rel->found);
        fraction(rel_all, rel->all_correct, rel->all_prompts);
        lr_buf_printf(&r->md, "## Reliability\n\n%lu trained unknown facts (%lu found "
                      "in the after probe): **reliability %s** (%lu of %lu "
                      "prompts correct), %s HighlyKnown after.  Over all %lu "
                      "trained examples (%lu found): %s.\n\n",
                      (unsigned long)rel->facts, (unsigned long)rel->found, rel_txt,
                      (unsigned long)rel->correct, (unsigned long)rel->prompts, hk,
                      (unsigned long)rel->all, (unsigned long)rel->all_found, rel_all);
    }
    lr_buf_puts(&r->md, "## Category transitions\n\n| before \\ after | HK | MK | WK | UK |\n"
                "|---|---:|---:|---:|---:|\n");
    for (rr = 0; rr < LR_SLICK_N; rr++) {
        lr_buf_printf(&r->md, "| %s |", lr_slick_name((lr_slick)rr));
        for (c = 0; c < LR_SLICK_N; c++)
            lr_buf_printf(&r->md, " %lu |", (unsigned long)sh.count[rr][c]);
        lr_buf_puts(&r->md, "\n");
    }
    lr_buf_printf(&r->md, "\nPositive shift (UK→HK, UK→MK, MK→HK) **%.4f**; negative "
                  "shift (HK→UK, HK→MK, MK→UK) **%.4f**.\n\n![transitions](%s)\n\n",
                  sh.positive, sh.negative,
                  chart_name(o->out, "-transitions.svg", path_t));
    lr_buf_printf(&r->md, "## Refusals and answer diversity\n\n| | before | after |\n"
                  "|---|---:|---:|\n| answers | %lu | %lu |\n| refusals | %lu | %lu |\n"
                  "| questions with a refusal | %lu | %lu |\n| unique answers | %lu | %lu |\n"
                  "| mean frequency | %.4f | %.4f |\n| std of frequencies | %.4f | %.4f |\n"
                  "| over-represented (> mean + 3 std) | %lu | %lu |\n\n",
                  (unsigned long)sb.answers, (unsigned long)sa.answers,
                  (unsigned long)sb.refusals, (unsigned long)sa.refusals,
                  (unsigned long)sb.questions_refusing, (unsigned long)sa.questions_refusing,
                  (unsigned long)sb.div.n_unique, (unsigned long)sa.div.n_unique,
                  sb.div.mean_freq, sa.div.mean_freq, sb.div.std_freq, sa.div.std_freq,
                  (unsigned long)sb.div.n_over, (unsigned long)sa.div.n_over);
    lr_buf_printf(&r->md, "![refusals](%s)\n\n",
                  chart_name(o->out, "-refusals.svg", path_r));
    if (sa.div.n_unique) {
        lr_buf_puts(&r->md, "Most frequent answers after training:\n\n| answer | count |\n|---|---:|\n");
        for (k = 0; k < sa.div.n_unique && k < o->top; k++) {
            lr_buf_puts(&r->md, "| ");
            lr_md_escape(&r->md, sa.div.counts[k].key);
            lr_buf_printf(&r->md, " | %lu |\n", (unsigned long)sa.div.counts[k].count);
        }
        lr_buf_printf(&r->md, "\n![answers](%s)\n",
                      chart_name(o->out, "-answers.svg", path_a));
    }
    fraction(r->reliability, rel->correct, rel->prompts);
    r->matched = n_matched;
    r->missing = n_missing;
    r->shift = sh;
    r->before_stats = sb;
    r->after_stats = sa;
    memset(&sb, 0, sizeof sb);
    memset(&sa, 0, sizeof sa);
    rc = r->json.oom || r->md.oom || r->svg_transitions.oom || r->svg_refusals.oom ||
         r->svg_answers.oom ? lr_fail(err, "out of memory") : 0;
done:
    free(cb);
    free(ca);
    lr_answer_stats_free(&sb);
    lr_answer_stats_free(&sa);
    lr_facts_free(&trained);
    probe_set_free(&before);
    probe_set_free(&after);
    return rc;
}
