/* detox_score.c - best-candidate selection and FL / chrF / STA / SIM / J
 * of `llamaref detox-score` (detox_score.h): the TSV / JSONL readers, FL
 * per candidate, the choice per source and the means.  Prints nothing.
 * Depends on: chrf.h, refusal.h, json.h, common.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/papers/detox/detox_score.h"
#include "llamaref/core/json.h"
#include "llamaref/papers/knowledge/refusal.h"

#define MAX_REFS 8

typedef struct cand {
    char *source, *output;
    char *refs[MAX_REFS];
    size_t n_refs;
    double sta, sim; /* -1 when not given */
    double fl, score;
    lr_chrf_stats stats;
    int refusal;
    unsigned long line;
} cand;

typedef struct cand_list {
    cand *c;
    size_t n, cap;
} cand_list;

static void cands_free(cand_list *l)
{
    size_t i, j;
    for (i = 0; i < l->n; i++) {
        free(l->c[i].source);
        free(l->c[i].output);
        for (j = 0; j < l->c[i].n_refs; j++) free(l->c[i].refs[j]);
    }
    free(l->c);
}

static cand *cands_push(cand_list *l, lr_error *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        cand *c = realloc(l->c, cap * sizeof *c);
        if (!c) {
            lr_fail(err, "out of memory reading candidates");
            return NULL;
        }
        l->c = c;
        l->cap = cap;
    }
    memset(&l->c[l->n], 0, sizeof l->c[l->n]);
    l->c[l->n].sta = l->c[l->n].sim = -1;
    return &l->c[l->n++];
}

/* Parses a score in [0, 1]. */
static int parse_unit(const char *s, const char *path, unsigned long line,
                      const char *col, double *out, lr_error *err)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 0 && v <= 1))
        return lr_fail(err, "%s:%lu: %s '%s' is not a number in [0, 1]",
                       path, line, col, s);
    *out = v;
    return 0;
}

/* Splits a TSV line in place into at most max fields; returns the count. */
static size_t split_fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        char *t = strchr(p, '\t');
        if (n < max) f[n] = p;
        n++;
        if (!t) break;
        *t = 0;
        p = t + 1;
    }
    return n;
}

#define MAX_COLS 64

static int read_tsv(char *data, const char *path, const char *sta_col,
                    const char *sim_col, cand_list *l, lr_error *err)
{
    char *line = data, *next, *head[MAX_COLS], *f[MAX_COLS];
    long src = -1, out = -1, ref = -1, sta = -1, sim = -1;
    size_t n_cols, i;
    unsigned long ln = 1;
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    n_cols = split_fields(line, head, MAX_COLS);
    if (n_cols > MAX_COLS)
        return lr_fail(err, "%s:1: more than %d columns", path, MAX_COLS);
    for (i = 0; i < n_cols; i++) {
        size_t len = strlen(head[i]);
        if (len && head[i][len - 1] == '\r') head[i][len - 1] = 0;
        if (!strcmp(head[i], "source")) src = (long)i;
        else if (!strcmp(head[i], "output")) out = (long)i;
        else if (!strcmp(head[i], "reference")) ref = (long)i;
        if (sta_col && !strcmp(head[i], sta_col)) sta = (long)i;
        if (sim_col && !strcmp(head[i], sim_col)) sim = (long)i;
    }
    if (out < 0) return lr_fail(err, "%s:1: header has no 'output' column", path);
    if (sta_col && sta < 0)
        return lr_fail(err, "%s:1: header has no STA column '%s'", path, sta_col);
    if (sim_col && sim < 0)
        return lr_fail(err, "%s:1: header has no SIM column '%s'", path, sim_col);
    while (next && *next) {
        cand *c;
        size_t n, len;
        line = next;
        ln++;
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        len = strlen(line);
        if (len && line[len - 1] == '\r') line[--len] = 0;
        n = split_fields(line, f, MAX_COLS);
        if (n != n_cols)
            return lr_fail(err, "%s:%lu: %lu fields, the header has %lu", path,
                           ln, (unsigned long)n, (unsigned long)n_cols);
        if (!(c = cands_push(l, err))) return -1;
        c->line = ln;
        c->output = lr_strdup(f[out], err);
        c->source = lr_strdup(src >= 0 ? f[src] : "", err);
        if (!c->output || !c->source) return -1;
        if (src < 0) { /* every row its own source: make sources distinct */
            free(c->source);
            c->source = NULL;
        }
        if (ref >= 0) {
            if (!(c->refs[0] = lr_strdup(f[ref], err))) return -1;
            c->n_refs = 1;
        }
        if (sta >= 0 && parse_unit(f[sta], path, ln, sta_col, &c->sta, err)) return -1;
        if (sim >= 0 && parse_unit(f[sim], path, ln, sim_col, &c->sim, err)) return -1;
    }
    return 0;
}

static int json_unit(const lr_json *o, const char *key, const char *where,
                     double *out, lr_error *err)
{
    const lr_json *v = lr_json_get(o, key);
    if (!v) return lr_fail(err, "%s: no \"%s\"", where, key);
    if (v->type != LR_JSON_NUMBER || !(v->number >= 0 && v->number <= 1))
        return lr_fail(err, "%s: \"%s\" is not a number in [0, 1]", where, key);
    *out = v->number;
    return 0;
}

static int read_jsonl(char *data, const char *path, const char *sta_col,
                      const char *sim_col, cand_list *l, lr_error *err)
{
    char *line = data, *next;
    unsigned long ln = 0;
    while (line && *line) {
        char where[512];
        lr_json_doc *doc = NULL;
        const lr_json *o, *v;
        cand *c;
        size_t len, k;
        int rc = -1;
        ln++;
        next = strchr(line, '\n');
        len = next ? (size_t)(next - line) : strlen(line);
        snprintf(where, sizeof where, "%s:%lu", path, ln);
        for (k = 0; k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'); k++)
            ;
        if (k == len) { /* blank line */
            line = next ? next + 1 : NULL;
            continue;
        }
        if (lr_json_parse(line, len, where, &doc, err)) return -1;
        o = lr_json_root(doc);
        if (o->type != LR_JSON_OBJECT) {
            lr_fail(err, "%s: not a JSON object", where);
            goto done;
        }
        if (!(c = cands_push(l, err))) goto done;
        c->line = ln;
        v = lr_json_get(o, "output");
        if (!v || v->type != LR_JSON_STRING) {
            lr_fail(err, "%s: \"output\" missing or not a string", where);
            goto done;
        }
        if (!(c->output = lr_strndup(v->str, v->len, err))) goto done;
        v = lr_json_get(o, "source");
        if (v && v->type != LR_JSON_STRING) {
            lr_fail(err, "%s: \"source\" is not a string", where);
            goto done;
        }
        if (v && !(c->source = lr_strndup(v->str, v->len, err))) goto done;
        v = lr_json_get(o, "reference");
        if (v && v->type == LR_JSON_STRING) {
            if (!(c->refs[0] = lr_strndup(v->str, v->len, err))) goto done;
            c->n_refs = 1;
        } else if (v && v->type == LR_JSON_ARRAY && v->len >= 1 && v->len <= MAX_REFS) {
            for (k = 0; k < v->len; k++) {
                if (v->items[k].type != LR_JSON_STRING) {
                    lr_fail(err, "%s: reference %lu is not a string", where,
                            (unsigned long)k + 1);
                    goto done;
                }
                if (!(c->refs[k] = lr_strndup(v->items[k].str, v->items[k].len, err)))
                    goto done;
                c->n_refs = k + 1;
            }
        } else if (v) {
            lr_fail(err, "%s: \"reference\" must be a string or 1..%d strings",
                    where, MAX_REFS);
            goto done;
        }
        if (sta_col && json_unit(o, sta_col, where, &c->sta, err)) goto done;
        if (sim_col && json_unit(o, sim_col, where, &c->sim, err)) goto done;
        rc = 0;
    done:
        lr_json_free(doc);
        if (rc) return -1;
        line = next ? next + 1 : NULL;
    }
    return 0;
}

static int same_source(const cand *a, const cand *b)
{
    return a->source && b->source && !strcmp(a->source, b->source);
}

/* Candidates sorted by source, then input order (the array is in input
 * order, so pointer order is input order); no source sorts last. */
static int cmp_cand(const void *pa, const void *pb)
{
    const cand *a = *(const cand *const *)pa, *b = *(const cand *const *)pb;
    int c;
    if (a->source && b->source) {
        c = strcmp(a->source, b->source);
        if (c) return c;
    } else if (a->source || b->source) {
        return a->source ? -1 : 1;
    }
    return a->line < b->line ? -1 : a->line > b->line;
}

typedef struct group {
    const cand *first, *best;
    size_t n;
} group;

static int cmp_group(const void *pa, const void *pb)
{
    const group *a = pa, *b = pb;
    return a->first->line < b->first->line ? -1 : a->first->line > b->first->line;
}

void lr_detox_score_result_free(lr_detox_score_result *r)
{
    if (!r) return;
    lr_buf_free(&r->selected);
    memset(r, 0, sizeof *r);
}

int lr_detox_score_text(char *text, size_t len, const char *name,
                        const lr_detox_score_options *o,
                        lr_detox_score_result *out, lr_error *err)
{
    cand_list l = {NULL, 0, 0};
    lr_chrf_stats corpus;
    size_t i, j, n_src, n_with_ref = 0, n_groups = 0;
    cand **order = NULL;
    group *groups = NULL;
    double sum_fl = 0, sum_sta = 0, sum_sim = 0, sum_j = 0;
    int rc = -1, have_ref = -1;
    memset(out, 0, sizeof *out);
    for (i = 0; i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' ||
                            text[i] == '\t'); i++)
        ;
    if (i < len && text[i] == '{') {
        if (read_jsonl(text, name, o->sta_col, o->sim_col, &l, err)) goto done;
    } else if (read_tsv(text, name, o->sta_col, o->sim_col, &l, err)) {
        goto done;
    }
    if (l.n == 0) {
        lr_fail(err, "%s: no candidates", name);
        goto done;
    }
    /* per candidate: FL, refusal flag, selection score */
    for (i = 0; i < l.n; i++) {
        cand *c = &l.c[i];
        int r;
        if ((have_ref >= 0) && (have_ref != (c->n_refs > 0))) {
            lr_fail(err, "%s:%lu: every candidate needs a reference, or none",
                    name, c->line);
            goto done;
        }
        have_ref = c->n_refs > 0;
        c->score = 1;
        if (c->n_refs) {
            size_t rl[MAX_REFS];
            for (j = 0; j < c->n_refs; j++) rl[j] = strlen(c->refs[j]);
            if (lr_chrf_sentence_stats(&o->chrf, c->output, strlen(c->output),
                                       (const char *const *)c->refs, rl,
                                       c->n_refs, &c->stats, err)) {
                lr_fail_prefix(err, "%s:%lu", name, c->line);
                goto done;
            }
            c->fl = lr_chrf_score(&o->chrf, &c->stats) / 100;
            c->score *= c->fl;
        }
        if (o->sta_col) c->score *= c->sta;
        if (o->sim_col) c->score *= c->sim;
        r = lr_is_refusal(c->output, err);
        if (r < 0) goto done;
        c->refusal = r;
        out->refusals += (size_t)r;
        if (r) c->score = -1;
    }
    /* best candidate per source (sources in order of first appearance):
     * sort candidates by (source, input position), pick per run */
    order = lr_alloc(l.n, sizeof *order, "candidate order", err);
    groups = lr_alloc(l.n, sizeof *groups, "source groups", err);
    if (!order || !groups) goto done;
    for (i = 0; i < l.n; i++) order[i] = &l.c[i];
    qsort(order, l.n, sizeof *order, cmp_cand);
    for (i = 0; i < l.n; i = j) {
        size_t best = i;
        for (j = i + 1; j < l.n && same_source(order[j], order[i]); j++)
            if (order[j]->score > order[best]->score) best = j;
        groups[n_groups].first = order[i];
        groups[n_groups].best = order[best];
        groups[n_groups].n = j - i;
        n_groups++;
    }
    qsort(groups, n_groups, sizeof *groups, cmp_group);
    lr_chrf_stats_init(&corpus, &o->chrf);
    for (i = 0; i < n_groups; i++) {
        size_t n_c = groups[i].n;
        const cand *best_c = groups[i].best;
        {
            const cand *b = best_c;
            double jv = (o->sta_col ? b->sta : 1) * (o->sim_col ? b->sim : 1) * b->fl;
            if (b->n_refs) {
                lr_chrf_stats_add(&corpus, &b->stats);
                n_with_ref++;
            }
            sum_fl += b->fl;
            sum_sta += b->sta;
            sum_sim += b->sim;
            sum_j += jv;
            if (o->want_selected) {
                lr_buf_puts(&out->selected, "{\"source\": ");
                lr_json_write_string(&out->selected, b->source ? b->source : "",
                                     b->source ? strlen(b->source) : 0);
                lr_buf_puts(&out->selected, ", \"output\": ");
                lr_json_write_string(&out->selected, b->output, strlen(b->output));
                lr_buf_printf(&out->selected, ", \"line\": %lu, \"candidates\": %lu, "
                                   "\"refusal\": %s, \"score\": ",
                              b->line, (unsigned long)n_c,
                              b->refusal ? "true" : "false");
                lr_json_write_number(&out->selected, b->score);
                if (b->n_refs) {
                    lr_buf_puts(&out->selected, ", \"fl\": ");
                    lr_json_write_number(&out->selected, b->fl);
                }
                if (o->sta_col) {
                    lr_buf_puts(&out->selected, ", \"sta\": ");
                    lr_json_write_number(&out->selected, b->sta);
                }
                if (o->sim_col) {
                    lr_buf_puts(&out->selected, ", \"sim\": ");
                    lr_json_write_number(&out->selected, b->sim);
                }
                if (b->n_refs && o->sta_col && o->sim_col) {
                    lr_buf_puts(&out->selected, ", \"j\": ");
                    lr_json_write_number(&out->selected, jv);
                }
                lr_buf_puts(&out->selected, "}\n");
            }
        }
    }
    n_src = n_groups;
    out->sources = n_src;
    out->candidates = l.n;
    out->have_ref = have_ref;
    out->fl = sum_fl / n_src;
    out->chrf = lr_chrf_score(&o->chrf, &corpus);
    out->sta = sum_sta / n_src;
    out->sim = sum_sim / n_src;
    out->j = sum_j / n_src;
    rc = out->selected.oom ? lr_fail(err, "out of memory") : 0;
done:
    free(order);
    free(groups);
    cands_free(&l);
    return rc;
}

int lr_detox_score_file(const char *path, const lr_detox_score_options *o,
                        lr_detox_score_result *out, lr_error *err)
{
    char *data = NULL;
    size_t len;
    int rc;
    memset(out, 0, sizeof *out);
    if (lr_read_file(path, &data, &len, err)) return -1;
    rc = lr_detox_score_text(data, len, path, o, out, err);
    free(data);
    return rc;
}
