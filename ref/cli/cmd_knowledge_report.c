/* cmd_knowledge_report.c - `llamaref knowledge-report`: compares two probe
 * outputs (before / after training): reliability on the trained facts, the
 * SliCK transition matrix with positive / negative shift, refusals and
 * answer diversity.  Definitions in docs/metrics.md and
 * docs/evaluation.md.  Writes FILE.json, FILE.md and SVG charts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/diversity.h"
#include "llamaref/experiment.h"
#include "llamaref/facts.h"
#include "llamaref/json.h"
#include "llamaref/knowledge.h"
#include "llamaref/refusal.h"
#include "llamaref/svg.h"

/* num / den with 4 decimals, or "n/a" when den is 0 (nothing measured) */
static void fraction(char *buf, unsigned long num, unsigned long den)
{
    if (den) sprintf(buf, "%.4f", (double)num / (double)den);
    else strcpy(buf, "n/a");
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref knowledge-report --before PROBE.jsonl --after PROBE.jsonl\n"
"                                 [--trained TRAIN.jsonl] --out FILE.json\n"
"  --before PROBE.jsonl      llamaref probe's output before training\n"
"  --after PROBE.jsonl       the same facts probed after training (matched by\n"
"                            question text)\n"
"  --trained FILE            the training examples (llamaref mixture output or\n"
"                            any fact file); reliability is measured on its\n"
"                            records with role \"unknown\" (or without a role)\n"
"  --top N                   over-represented answers listed (default 10)\n"
"  --out FILE.json           the report (parent directories created first)\n"
"Writes FILE.json, FILE.md, FILE-transitions.svg, FILE-refusals.svg and\n"
"FILE-answers.svg.\n");
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

int cmd_knowledge_report(int argc, char **argv)
{
    const char *before_path = NULL, *after_path = NULL, *trained_path = NULL;
    const char *out = NULL;
    long top = 10;
    int i, rc = 1;
    probe_set before, after;
    lr_facts trained;
    lr_slick *cb = NULL, *ca = NULL;
    lr_shift sh;
    lr_answer_stats sb, sa;
    lr_error err;
    lr_buf b = {0}, md = {0}, svg = {0};
    size_t k, r, c, n_matched = 0, n_missing = 0;
    lr_reliability rl;
    static const char *const short_names[LR_SLICK_N] = {"HK", "MK", "WK", "UK"};

    memset(&before, 0, sizeof before);
    memset(&after, 0, sizeof after);
    memset(&trained, 0, sizeof trained);
    memset(&sb, 0, sizeof sb);
    memset(&sa, 0, sizeof sa);
    memset(&rl, 0, sizeof rl);
    for (i = 1; i < argc; i++) {
        const char *a = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--before") && v) { before_path = v; i++; }
        else if (!strcmp(a, "--after") && v) { after_path = v; i++; }
        else if (!strcmp(a, "--trained") && v) { trained_path = v; i++; }
        else if (!strcmp(a, "--out") && v) { out = v; i++; }
        else if (!strcmp(a, "--top")) { if (cli_int(a, v, 0, 100000, &top)) return 2; i++; }
        else return cli_bad_option("knowledge-report", a, usage);
    }
    if (!before_path || !after_path || !out) {
        fprintf(stderr, "llamaref knowledge-report: --before, --after and "
                "--out are required (see --help)\n");
        return 2;
    }
    if (cli_prepare_out("knowledge-report", out, 0)) return 1;
    if (probe_set_load(&before, before_path, &err) ||
        probe_set_load(&after, after_path, &err) ||
        (trained_path && lr_facts_load(trained_path, &trained, &err))) {
        fprintf(stderr, "llamaref knowledge-report: %s\n", err.msg);
        goto done;
    }
    /* transitions over the facts present in both */
    cb = calloc(before.f.n + 1, sizeof *cb);
    ca = calloc(before.f.n + 1, sizeof *ca);
    if (!cb || !ca) { fprintf(stderr, "llamaref knowledge-report: out of memory\n"); goto done; }
    for (k = 0; k < before.f.n; k++) {
        long j = probe_find(&after, before.f.items[k].question);
        if (j < 0) { n_missing++; continue; }
        cb[n_matched] = (lr_slick)before.f.items[k].category;
        ca[n_matched++] = (lr_slick)after.f.items[j].category;
    }
    if (lr_shift_matrix(cb, ca, n_matched, &sh, &err)) {
        fprintf(stderr, "llamaref knowledge-report: %s\n", err.msg);
        goto done;
    }
    /* reliability */
    for (k = 0; k < trained.n; k++) {
        const lr_json *role = lr_json_get(trained.items[k].record, "role");
        int is_unknown = !role || (role->type == LR_JSON_STRING &&
                                   !strcmp(role->str, "unknown"));
        long j = probe_find(&after, trained.items[k].question);
        lr_reliability_add(&rl, is_unknown, j >= 0, j >= 0 ? after.n_greedy[j] : 0,
                           j >= 0 ? after.n_correct[j] : 0,
                           j >= 0 && after.f.items[j].category == LR_SLICK_HIGHLY_KNOWN);
    }
    if (side_compute(&before, &sb, &err) || side_compute(&after, &sa, &err)) {
        fprintf(stderr, "llamaref knowledge-report: %s\n", err.msg);
        goto done;
    }
    /* JSON */
    lr_buf_puts(&b, "{\n  \"command\": \"knowledge-report\",\n  \"before\": ");
    lr_json_write_string(&b, before_path, strlen(before_path));
    lr_buf_puts(&b, ",\n  \"after\": ");
    lr_json_write_string(&b, after_path, strlen(after_path));
    lr_buf_printf(&b, ",\n  \"facts_matched\": %lu,\n  \"facts_missing_after\": %lu,\n",
                  (unsigned long)n_matched, (unsigned long)n_missing);
    if (trained_path) {
        lr_buf_printf(&b, "  \"trained\": {\"unknown_facts\": %lu, \"found\": %lu, "
                      "\"prompts\": %lu, \"correct\": %lu, \"reliability\": ",
                      (unsigned long)rl.facts, (unsigned long)rl.found,
                      (unsigned long)rl.prompts, (unsigned long)rl.correct);
        /* no trained fact: not a reliability of 0 but none (null) */
        if (rl.prompts) lr_json_write_number(&b, (double)rl.correct / (double)rl.prompts);
        else lr_buf_puts(&b, "null");
        lr_buf_puts(&b, ", \"highly_known_after\": ");
        if (rl.found) lr_json_write_number(&b, (double)rl.highly_known / (double)rl.found);
        else lr_buf_puts(&b, "null");
        lr_buf_printf(&b, ", \"all_examples\": %lu, \"all_found\": %lu, "
                      "\"reliability_all\": ", (unsigned long)rl.all,
                      (unsigned long)rl.all_found);
        if (rl.all_prompts)
            lr_json_write_number(&b, (double)rl.all_correct / (double)rl.all_prompts);
        else
            lr_buf_puts(&b, "null");
        lr_buf_puts(&b, "},\n");
    }
    lr_buf_puts(&b, "  \"categories\": [\"HighlyKnown\", \"MaybeKnown\", "
                "\"WeaklyKnown\", \"Unknown\"],\n  \"transition_counts\": [");
    for (r = 0; r < LR_SLICK_N; r++) {
        lr_buf_puts(&b, r ? ", [" : "[");
        for (c = 0; c < LR_SLICK_N; c++)
            lr_buf_printf(&b, "%s%lu", c ? ", " : "", (unsigned long)sh.count[r][c]);
        lr_buf_puts(&b, "]");
    }
    lr_buf_puts(&b, "],\n  \"positive_shift\": ");
    lr_json_write_number(&b, sh.positive);
    lr_buf_puts(&b, ",\n  \"negative_shift\": ");
    lr_json_write_number(&b, sh.negative);
    lr_buf_puts(&b, ",\n");
    json_side(&b, "before_answers", &sb, (size_t)top);
    lr_buf_puts(&b, ",\n");
    json_side(&b, "after_answers", &sa, (size_t)top);
    lr_buf_puts(&b, "\n}\n");
    if (b.oom || cli_write("knowledge-report", out, b.data, b.len)) goto done;
    /* charts */
    {
        const char *labels[LR_SLICK_N * LR_SLICK_N], *rl[LR_SLICK_N], *cl[LR_SLICK_N];
        char cells[LR_SLICK_N * LR_SLICK_N][48];
        double vals[LR_SLICK_N * LR_SLICK_N];
        for (r = 0; r < LR_SLICK_N; r++) {
            rl[r] = lr_slick_name((lr_slick)r);
            cl[r] = short_names[r];
            for (c = 0; c < LR_SLICK_N; c++) {
                vals[r * LR_SLICK_N + c] = sh.fraction[r][c];
                snprintf(cells[r * LR_SLICK_N + c], 48, "%lu (%.3f)",
                         (unsigned long)sh.count[r][c], sh.fraction[r][c]);
                labels[r * LR_SLICK_N + c] = cells[r * LR_SLICK_N + c];
            }
        }
        if (lr_svg_heatmap(&svg, "SliCK category transitions", "before training",
                           "after training", rl, cl, vals, labels, LR_SLICK_N,
                           LR_SLICK_N, &err))
            goto chart_fail;
        if (cli_write("knowledge-report", cli_report_path(out, "-transitions.svg", 1),
                      svg.data, svg.len))
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
        svg.len = 0;
        if (lr_svg_bar_chart(&svg, "Refusal rate", "fraction", labels, vals, 4,
                             1.0, &err))
            goto chart_fail;
        if (cli_write("knowledge-report", cli_report_path(out, "-refusals.svg", 2),
                      svg.data, svg.len))
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
        svg.len = 0;
        if (n) {
            if (lr_svg_bar_chart(&svg, "Most frequent answers after training",
                                 "answers", labels, vals, n, 0, &err))
                goto chart_fail;
            if (cli_write("knowledge-report", cli_report_path(out, "-answers.svg", 3),
                          svg.data, svg.len))
                goto done;
        }
    }
    /* Markdown */
    lr_buf_printf(&md, "# Knowledge report\n\nBefore `%s`, after `%s`: %lu facts "
                  "matched by question (%lu missing after).\n\n",
                  before_path, after_path, (unsigned long)n_matched,
                  (unsigned long)n_missing);
    if (trained_path) {
        char rel[32], hk[32], rel_all[32];
        fraction(rel, rl.correct, rl.prompts);
        fraction(hk, rl.highly_known, rl.found);
        fraction(rel_all, rl.all_correct, rl.all_prompts);
        lr_buf_printf(&md, "## Reliability\n\n%lu trained unknown facts (%lu found "
                      "in the after probe): **reliability %s** (%lu of %lu "
                      "prompts correct), %s HighlyKnown after.  Over all %lu "
                      "trained examples (%lu found): %s.\n\n",
                      (unsigned long)rl.facts, (unsigned long)rl.found, rel,
                      (unsigned long)rl.correct, (unsigned long)rl.prompts, hk,
                      (unsigned long)rl.all, (unsigned long)rl.all_found, rel_all);
    }
    lr_buf_puts(&md, "## Category transitions\n\n| before \\ after | HK | MK | WK | UK |\n"
                "|---|---:|---:|---:|---:|\n");
    for (r = 0; r < LR_SLICK_N; r++) {
        lr_buf_printf(&md, "| %s |", lr_slick_name((lr_slick)r));
        for (c = 0; c < LR_SLICK_N; c++)
            lr_buf_printf(&md, " %lu |", (unsigned long)sh.count[r][c]);
        lr_buf_puts(&md, "\n");
    }
    lr_buf_printf(&md, "\nPositive shift (UK→HK, UK→MK, MK→HK) **%.4f**; negative "
                  "shift (HK→UK, HK→MK, MK→UK) **%.4f**.\n\n![transitions](%s)\n\n",
                  sh.positive, sh.negative,
                  lr_basename(cli_report_path(out, "-transitions.svg", 1)));
    lr_buf_printf(&md, "## Refusals and answer diversity\n\n| | before | after |\n"
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
    lr_buf_printf(&md, "![refusals](%s)\n\n",
                  lr_basename(cli_report_path(out, "-refusals.svg", 2)));
    if (sa.div.n_unique) {
        lr_buf_puts(&md, "Most frequent answers after training:\n\n| answer | count |\n|---|---:|\n");
        for (k = 0; k < sa.div.n_unique && k < (size_t)top; k++) {
            lr_buf_puts(&md, "| ");
            lr_md_escape(&md, sa.div.counts[k].key);
            lr_buf_printf(&md, " | %lu |\n", (unsigned long)sa.div.counts[k].count);
        }
        lr_buf_printf(&md, "\n![answers](%s)\n",
                      lr_basename(cli_report_path(out, "-answers.svg", 3)));
    }
    if (md.oom || cli_write("knowledge-report", cli_report_path(out, ".md", 4),
                            md.data, md.len))
        goto done;
    printf("knowledge-report: %lu facts; positive shift %.4f, negative shift %.4f",
           (unsigned long)n_matched, sh.positive, sh.negative);
    if (trained_path) {
        char rel[32];
        fraction(rel, rl.correct, rl.prompts);
        printf("; reliability %s (%lu trained facts)", rel, (unsigned long)rl.found);
    }
    printf("; refusals %lu -> %lu\n", (unsigned long)sb.refusals,
           (unsigned long)sa.refusals);
    rc = 0;
    goto done;
chart_fail:
    fprintf(stderr, "llamaref knowledge-report: %s\n", err.msg);
done:
    free(cb);
    free(ca);
    lr_answer_stats_free(&sb);
    lr_answer_stats_free(&sa);
    lr_buf_free(&b);
    lr_buf_free(&md);
    lr_buf_free(&svg);
    lr_facts_free(&trained);
    probe_set_free(&before);
    probe_set_free(&after);
    return rc;
}
