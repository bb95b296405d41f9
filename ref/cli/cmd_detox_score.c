/* cmd_detox_score.c - `llamaref detox-score`: FL (chrF / 100 against
 * references), J = mean(STA * SIM * FL) from external per-sentence STA/SIM
 * scores, and best-candidate selection among several candidates per source.
 *
 * Input (docs/metrics.md, "detox-score"): a TSV file with a header line, or
 * a JSONL file (detected by a first non-blank character '{'), one candidate
 * per row/line with the fields
 *   source     the toxic input (optional: without it every row is its own
 *              source); rows with an equal source are candidates for it
 *   output     the candidate rewrite (required)
 *   reference  human reference (optional; JSONL may give an array of
 *              references); FL needs it
 *   <STA>, <SIM>  numbers in [0, 1], the columns named by --sta / --sim
 * Selection score of a candidate = product of the factors present (STA,
 * SIM, FL); a refusal (refusal.h) scores -1; the first highest wins.
 * Reported over the selected candidates: mean FL, corpus chrF, mean STA,
 * mean SIM and J = mean(STA * SIM * FL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llamaref/chrf.h"
#include "llamaref/json.h"
#include "llamaref/refusal.h"

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

static void usage(FILE *out)
{
    fprintf(out,
        "usage: llamaref detox-score --pairs FILE [--sta COLUMN] [--sim COLUMN]\n"
        "                            [--word-order N] [--out FILE.jsonl]\n"
        "  --pairs FILE              TSV with a header, or JSONL; fields source\n"
        "                            (optional), output, reference (optional) and\n"
        "                            the STA / SIM columns\n"
        "  --sta COLUMN              the column of style-transfer accuracy\n"
        "  --sim COLUMN              the column of content similarity\n"
        "  --word-order N            chrF word n-gram order of FL (default 0)\n"
        "  --out FILE.jsonl          the chosen candidate of each source with its\n"
        "                            scores (parent directories created first)\n"
        "Rows with the same source are candidates; the best one (highest\n"
        "STA*SIM*FL of the factors present, refusals last) is scored.  FL is\n"
        "sentence chrF/100 (sacreBLEU CHRF()); J = mean(STA*SIM*FL).\n");
}

int cmd_detox_score(int argc, char **argv)
{
    const char *path = NULL, *sta_col = NULL, *sim_col = NULL, *out_path = NULL;
    cand_list l = {NULL, 0, 0};
    lr_chrf_config cfg;
    lr_chrf_stats corpus;
    lr_error err;
    lr_buf ob = {NULL, 0, 0, 0};
    char *data = NULL;
    size_t len, i, j, n_src = 0, n_refusal = 0, n_with_ref = 0, n_groups = 0;
    cand **order = NULL;
    group *groups = NULL;
    double sum_fl = 0, sum_sta = 0, sum_sim = 0, sum_j = 0;
    int rc = 1, have_ref = -1;
    long v;
    lr_chrf_config_default(&cfg);
    for (i = 1; i < (size_t)argc; i++) {
        const char *a = cli_opt(argv[i]), *val = i + 1 < (size_t)argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--pairs") && val) {
            path = argv[++i];
        } else if (!strcmp(a, "--sta") && val) {
            sta_col = argv[++i];
        } else if (!strcmp(a, "--sim") && val) {
            sim_col = argv[++i];
        } else if (!strcmp(a, "--out") && val) {
            out_path = argv[++i];
        } else if (!strcmp(a, "--word-order")) {
            if (cli_int(a, val, 0, LR_CHRF_MAX_WORD_ORDER, &v)) return 2;
            cfg.word_order = (int)v;
            i++;
        } else {
            return cli_bad_option("detox-score", a, usage);
        }
    }
    if (!path) {
        fprintf(stderr, "llamaref detox-score: --pairs FILE is required (see --help)\n");
        return 2;
    }
    if (out_path && cli_prepare_out("detox-score", out_path, 0)) return 1;
    if (lr_read_file(path, &data, &len, &err)) goto fail;
    for (i = 0; i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' ||
                            data[i] == '\t'); i++)
        ;
    if (i < len && data[i] == '{') {
        if (read_jsonl(data, path, sta_col, sim_col, &l, &err)) goto fail;
    } else if (read_tsv(data, path, sta_col, sim_col, &l, &err)) {
        goto fail;
    }
    if (l.n == 0) {
        lr_fail(&err, "%s: no candidates", path);
        goto fail;
    }
    /* per candidate: FL, refusal flag, selection score */
    for (i = 0; i < l.n; i++) {
        cand *c = &l.c[i];
        int r;
        if ((have_ref >= 0) && (have_ref != (c->n_refs > 0))) {
            lr_fail(&err, "%s:%lu: every candidate needs a reference, or none",
                    path, c->line);
            goto fail;
        }
        have_ref = c->n_refs > 0;
        c->score = 1;
        if (c->n_refs) {
            size_t rl[MAX_REFS];
            for (j = 0; j < c->n_refs; j++) rl[j] = strlen(c->refs[j]);
            if (lr_chrf_sentence_stats(&cfg, c->output, strlen(c->output),
                                       (const char *const *)c->refs, rl,
                                       c->n_refs, &c->stats, &err)) {
                lr_fail_prefix(&err, "%s:%lu", path, c->line);
                goto fail;
            }
            c->fl = lr_chrf_score(&cfg, &c->stats) / 100;
            c->score *= c->fl;
        }
        if (sta_col) c->score *= c->sta;
        if (sim_col) c->score *= c->sim;
        r = lr_is_refusal(c->output, &err);
        if (r < 0) goto fail;
        c->refusal = r;
        n_refusal += (size_t)r;
        if (r) c->score = -1;
    }
    /* best candidate per source (sources in order of first appearance):
     * sort candidates by (source, input position), pick per run */
    order = lr_alloc(l.n, sizeof *order, "candidate order", &err);
    groups = lr_alloc(l.n, sizeof *groups, "source groups", &err);
    if (!order || !groups) goto fail;
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
    lr_chrf_stats_init(&corpus, &cfg);
    for (i = 0; i < n_groups; i++) {
        size_t n_c = groups[i].n;
        const cand *best_c = groups[i].best;
        n_src++;
        {
            const cand *b = best_c;
            double jv = (sta_col ? b->sta : 1) * (sim_col ? b->sim : 1) * b->fl;
            if (b->n_refs) {
                lr_chrf_stats_add(&corpus, &b->stats);
                n_with_ref++;
            }
            sum_fl += b->fl;
            sum_sta += b->sta;
            sum_sim += b->sim;
            sum_j += jv;
            if (out_path) {
                lr_buf_puts(&ob, "{\"source\": ");
                lr_json_write_string(&ob, b->source ? b->source : "",
                                     b->source ? strlen(b->source) : 0);
                lr_buf_puts(&ob, ", \"output\": ");
                lr_json_write_string(&ob, b->output, strlen(b->output));
                lr_buf_printf(&ob, ", \"line\": %lu, \"candidates\": %lu, "
                                   "\"refusal\": %s, \"score\": ",
                              b->line, (unsigned long)n_c,
                              b->refusal ? "true" : "false");
                lr_json_write_number(&ob, b->score);
                if (b->n_refs) {
                    lr_buf_puts(&ob, ", \"fl\": ");
                    lr_json_write_number(&ob, b->fl);
                }
                if (sta_col) {
                    lr_buf_puts(&ob, ", \"sta\": ");
                    lr_json_write_number(&ob, b->sta);
                }
                if (sim_col) {
                    lr_buf_puts(&ob, ", \"sim\": ");
                    lr_json_write_number(&ob, b->sim);
                }
                if (b->n_refs && sta_col && sim_col) {
                    lr_buf_puts(&ob, ", \"j\": ");
                    lr_json_write_number(&ob, jv);
                }
                lr_buf_puts(&ob, "}\n");
            }
        }
    }
    printf("sources %lu  candidates %lu  refusals %lu\n", (unsigned long)n_src,
           (unsigned long)l.n, (unsigned long)n_refusal);
    if (have_ref) {
        printf("FL (mean sentence chrF/100) %.6f\n", sum_fl / n_src);
        printf("chrF%s (corpus) %.6f\n", cfg.word_order ? "++" : "",
               lr_chrf_score(&cfg, &corpus));
    }
    if (sta_col) printf("STA (mean) %.6f\n", sum_sta / n_src);
    if (sim_col) printf("SIM (mean) %.6f\n", sum_sim / n_src);
    if (have_ref && sta_col && sim_col)
        printf("J (mean STA*SIM*FL) %.6f\n", sum_j / n_src);
    if (out_path) {
        if (ob.oom) {
            lr_fail(&err, "out of memory writing %s", out_path);
            goto fail;
        }
        if (lr_write_file_atomic(out_path, ob.data ? ob.data : "", ob.len, &err))
            goto fail;
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "llamaref detox-score: %s\n", err.msg);
done:
    lr_buf_free(&ob);
    free(order);
    free(groups);
    cands_free(&l);
    free(data);
    return rc;
}
