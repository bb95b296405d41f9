/* chrf.c - chrF / chrF++ (Popovic 2015, 2017) with sacreBLEU 2.x semantics.
 *
 * A text is decoded to code points once; character n-grams are taken from
 * the code points with white space removed, word n-grams from word ids (the
 * words of the hypothesis and its references are numbered jointly, so equal
 * words get equal ids).  N-gram counting sorts the n-gram start positions of
 * each side and walks both sorted lists together: matches are
 * sum over distinct n-grams of min(count_hyp, count_ref).  Exact integer
 * counts; the score follows sacreBLEU's floating-point expression order.
 * Depends on common.h (errors, allocation), unicode.h (UTF-8 decoding)
 * and textnorm.h (Python's str.isspace).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/eval/chrf.h"
#include "llamaref/tokenizer/textnorm.h"
#include "llamaref/tokenizer/unicode.h"

void lr_chrf_config_default(lr_chrf_config *cfg)
{
    cfg->char_order = 6;
    cfg->word_order = 0;
    cfg->beta = 2;
    cfg->eps_smoothing = 0;
}

int lr_chrf_config_check(const lr_chrf_config *cfg, lr_error *err)
{
    if (cfg->char_order < 1 || cfg->char_order > LR_CHRF_MAX_CHAR_ORDER)
        return lr_fail(err, "chrF: char order %d not in [1, %d]",
                       cfg->char_order, LR_CHRF_MAX_CHAR_ORDER);
    if (cfg->word_order < 0 || cfg->word_order > LR_CHRF_MAX_WORD_ORDER)
        return lr_fail(err, "chrF: word order %d not in [0, %d]",
                       cfg->word_order, LR_CHRF_MAX_WORD_ORDER);
    if (cfg->beta < 0 || cfg->beta > 1000)
        return lr_fail(err, "chrF: beta %d not in [0, 1000]", cfg->beta);
    return 0;
}

void lr_chrf_stats_init(lr_chrf_stats *s, const lr_chrf_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->n_orders = cfg->char_order + cfg->word_order;
}

void lr_chrf_stats_add(lr_chrf_stats *acc, const lr_chrf_stats *s)
{
    int i;
    for (i = 0; i < acc->n_orders && i < s->n_orders; i++) {
        acc->hyp[i] += s->hyp[i];
        acc->ref[i] += s->ref[i];
        acc->match[i] += s->match[i];
    }
}

/* Python's str.isspace(), defined once in textnorm.c. */
int lr_chrf_is_space(uint32_t cp)
{
    return lr_text_is_space(cp);
}

/* Python's string.punctuation: the 32 ASCII graphic non-alphanumerics. */
static int is_ascii_punct(uint32_t cp)
{
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) ||
           (cp >= 0x5B && cp <= 0x60) || (cp >= 0x7B && cp <= 0x7E);
}

/* One text decoded for chrF. */
typedef struct chrf_text {
    uint32_t *cps;     /* all code points, n_cps of them */
    size_t n_cps;
    uint32_t *chars;   /* code points without white space */
    size_t n_chars;
    size_t *tok_start; /* tokens: spans of cps */
    size_t *tok_len;
    uint32_t *tok_id;  /* joint word ids (filled by number_words) */
    size_t n_toks;
} chrf_text;

static void text_free(chrf_text *t)
{
    free(t->cps);
    free(t->chars);
    free(t->tok_start);
    free(t->tok_len);
    free(t->tok_id);
    memset(t, 0, sizeof *t);
}

static void add_token(chrf_text *t, size_t start, size_t len)
{
    t->tok_start[t->n_toks] = start;
    t->tok_len[t->n_toks] = len;
    t->n_toks++;
}

/* Decodes s[0..len) and splits it into chrF++ words.  what names the text
 * in error messages. */
static int text_init(chrf_text *t, const char *s, size_t len, int words,
                     const char *what, lr_error *err)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t pos = 0, n = 0, i;
    memset(t, 0, sizeof *t);
    /* at most one code point per byte; +1 keeps allocations non-empty */
    t->cps = lr_alloc(len + 1, sizeof *t->cps, "chrF code points", err);
    t->chars = lr_alloc(len + 1, sizeof *t->chars, "chrF characters", err);
    if (!t->cps || !t->chars) goto fail;
    while (pos < len) {
        uint32_t cp;
        int k = lr_utf8_decode(u + pos, len - pos, &cp);
        if (k == 0) {
            lr_fail(err, "%s: ill-formed UTF-8 at byte %lu (0x%02X)", what,
                    (unsigned long)pos, u[pos]);
            goto fail;
        }
        t->cps[n++] = cp;
        if (!lr_chrf_is_space(cp)) t->chars[t->n_chars++] = cp;
        pos += (size_t)k;
    }
    t->n_cps = n;
    if (!words) return 0;
    /* a word of L code points gives at most 2 tokens and L >= 2 then */
    t->tok_start = lr_alloc(n + 1, sizeof *t->tok_start, "chrF tokens", err);
    t->tok_len = lr_alloc(n + 1, sizeof *t->tok_len, "chrF tokens", err);
    t->tok_id = lr_alloc(n + 1, sizeof *t->tok_id, "chrF tokens", err);
    if (!t->tok_start || !t->tok_len || !t->tok_id) goto fail;
    i = 0;
    while (i < n) {
        size_t b, e;
        while (i < n && lr_chrf_is_space(t->cps[i])) i++;
        if (i == n) break;
        b = i;
        while (i < n && !lr_chrf_is_space(t->cps[i])) i++;
        e = i;
        if (e - b > 1 && is_ascii_punct(t->cps[e - 1])) {
            add_token(t, b, e - 1 - b);
            add_token(t, e - 1, 1);
        } else if (e - b > 1 && is_ascii_punct(t->cps[b])) {
            add_token(t, b, 1);
            add_token(t, b + 1, e - b - 1);
        } else {
            add_token(t, b, e - b);
        }
    }
    return 0;
fail:
    text_free(t);
    return -1;
}

/* A word occurrence for joint numbering. */
typedef struct word_ref {
    const uint32_t *p;
    size_t len;
    uint32_t *id;
} word_ref;

static int cmp_cps(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t i, n = na < nb ? na : nb;
    for (i = 0; i < n; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return na < nb ? -1 : na > nb ? 1 : 0;
}

static int cmp_word_ref(const void *pa, const void *pb)
{
    const word_ref *a = pa, *b = pb;
    return cmp_cps(a->p, a->len, b->p, b->len);
}

/* Gives equal words of all texts equal ids 0, 1, 2, ... */
static int number_words(chrf_text *texts, size_t n_texts, lr_error *err)
{
    size_t total = 0, i, j, k = 0;
    word_ref *w;
    uint32_t id = 0;
    for (i = 0; i < n_texts; i++) total += texts[i].n_toks;
    if (total == 0) return 0;
    w = lr_alloc(total, sizeof *w, "chrF word list", err);
    if (!w) return -1;
    for (i = 0; i < n_texts; i++)
        for (j = 0; j < texts[i].n_toks; j++) {
            w[k].p = texts[i].cps + texts[i].tok_start[j];
            w[k].len = texts[i].tok_len[j];
            w[k].id = &texts[i].tok_id[j];
            k++;
        }
    qsort(w, total, sizeof *w, cmp_word_ref);
    for (k = 0; k < total; k++) {
        if (k > 0 && cmp_word_ref(&w[k - 1], &w[k]) != 0) id++;
        *w[k].id = id;
    }
    free(w);
    return 0;
}

/* An n-gram: n consecutive symbols starting at p. */
typedef struct ngram {
    const uint32_t *p;
    size_t n;
} ngram;

static int cmp_ngram(const void *pa, const void *pb)
{
    const ngram *a = pa, *b = pb;
    return cmp_cps(a->p, a->n, b->p, b->n);
}

/* Sorted n-grams of order n of seq[0..len); *count = len - n + 1 or 0. */
static ngram *sorted_ngrams(const uint32_t *seq, size_t len, size_t n,
                            size_t *count, lr_error *err)
{
    size_t c = len >= n ? len - n + 1 : 0, i;
    ngram *g = lr_alloc(c + 1, sizeof *g, "chrF n-grams", err);
    *count = c;
    if (!g) return NULL;
    for (i = 0; i < c; i++) {
        g[i].p = seq + i;
        g[i].n = n;
    }
    qsort(g, c, sizeof *g, cmp_ngram);
    return g;
}

/* Counts of one order: sum over distinct n-grams of min(hyp, ref). */
static int order_stats(const uint32_t *h, size_t nh, const uint32_t *r,
                       size_t nr, size_t n, int64_t *hyp, int64_t *ref,
                       int64_t *match, lr_error *err)
{
    size_t ch, cr, i = 0, j = 0;
    int64_t m = 0;
    ngram *gh = sorted_ngrams(h, nh, n, &ch, err), *gr;
    if (!gh) return -1;
    gr = sorted_ngrams(r, nr, n, &cr, err);
    if (!gr) {
        free(gh);
        return -1;
    }
    while (i < ch && j < cr) {
        int c = cmp_ngram(&gh[i], &gr[j]);
        if (c < 0) {
            i++;
        } else if (c > 0) {
            j++;
        } else {
            size_t i0 = i, j0 = j;
            while (i < ch && cmp_ngram(&gh[i0], &gh[i]) == 0) i++;
            while (j < cr && cmp_ngram(&gr[j0], &gr[j]) == 0) j++;
            m += (int64_t)((i - i0) < (j - j0) ? (i - i0) : (j - j0));
        }
    }
    free(gh);
    free(gr);
    /* sacreBLEU: hypothesis n-grams count only where the reference has some */
    *hyp = cr > 0 ? (int64_t)ch : 0;
    *ref = (int64_t)cr;
    *match = m;
    return 0;
}

static int pair_stats(const lr_chrf_config *cfg, const chrf_text *h,
                      const chrf_text *r, lr_chrf_stats *s, lr_error *err)
{
    int i, k = 0;
    lr_chrf_stats_init(s, cfg);
    for (i = 1; i <= cfg->char_order; i++, k++)
        if (order_stats(h->chars, h->n_chars, r->chars, r->n_chars,
                        (size_t)i, &s->hyp[k], &s->ref[k], &s->match[k], err))
            return -1;
    for (i = 1; i <= cfg->word_order; i++, k++)
        if (order_stats(h->tok_id, h->n_toks, r->tok_id, r->n_toks,
                        (size_t)i, &s->hyp[k], &s->ref[k], &s->match[k], err))
            return -1;
    return 0;
}

int lr_chrf_sentence_stats(const lr_chrf_config *cfg, const char *hyp,
                           size_t hyp_len, const char *const *refs,
                           const size_t *ref_lens, size_t n_refs,
                           lr_chrf_stats *out, lr_error *err)
{
    chrf_text *t;
    size_t i;
    int rc = -1, words = cfg->word_order > 0;
    double best_f = -1.0;
    if (lr_chrf_config_check(cfg, err)) return -1;
    if (n_refs == 0) return lr_fail(err, "chrF: no reference given");
    t = lr_zalloc(n_refs + 1, sizeof *t, "chrF texts", err);
    if (!t) return -1;
    if (text_init(&t[0], hyp, hyp_len, words, "hypothesis", err)) goto done;
    for (i = 0; i < n_refs; i++) {
        char what[64];
        sprintf(what, "reference %lu", (unsigned long)i + 1);
        if (text_init(&t[i + 1], refs[i], ref_lens[i], words, what, err))
            goto done;
    }
    if (words && number_words(t, n_refs + 1, err)) goto done;
    for (i = 0; i < n_refs; i++) {
        lr_chrf_stats s;
        double f;
        if (pair_stats(cfg, &t[0], &t[i + 1], &s, err)) goto done;
        f = lr_chrf_score(cfg, &s);
        if (f > best_f) { /* strictly better: the first reference wins ties */
            best_f = f;
            *out = s;
        }
    }
    rc = 0;
done:
    for (i = 0; i <= n_refs; i++) text_free(&t[i]);
    free(t);
    return rc;
}

/* sacreBLEU 2.x CHRF._compute_f_score, same operations in the same order
 * (so the result is bit-identical to Python's double arithmetic). */
double lr_chrf_score(const lr_chrf_config *cfg, const lr_chrf_stats *s)
{
    const double eps = 1e-16;
    double factor = (double)cfg->beta * (double)cfg->beta;
    double avg_prec = 0.0, avg_rec = 0.0, total = 0.0, score;
    int i, effective = 0;
    for (i = 0; i < s->n_orders; i++) {
        double n_hyp = (double)s->hyp[i], n_ref = (double)s->ref[i];
        double n_match = (double)s->match[i];
        double prec = s->hyp[i] > 0 ? n_match / n_hyp : eps;
        double rec = s->ref[i] > 0 ? n_match / n_ref : eps;
        double denom = factor * prec + rec;
        total += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
        if (s->hyp[i] > 0 && s->ref[i] > 0) {
            avg_prec += prec;
            avg_rec += rec;
            effective++;
        }
    }
    if (cfg->eps_smoothing)
        return s->n_orders > 0 ? 100 * total / s->n_orders : 0.0;
    if (effective == 0) return 0.0;
    avg_prec /= effective;
    avg_rec /= effective;
    if (avg_prec + avg_rec == 0) return 0.0;
    score = (1 + factor) * avg_prec * avg_rec;
    score /= factor * avg_prec + avg_rec;
    return 100 * score;
}

int lr_chrf_sentence(const lr_chrf_config *cfg, const char *hyp,
                     const char *ref, double *score, lr_error *err)
{
    lr_chrf_stats s;
    size_t ref_len = strlen(ref);
    if (lr_chrf_sentence_stats(cfg, hyp, strlen(hyp), &ref, &ref_len, 1, &s,
                               err))
        return -1;
    *score = lr_chrf_score(cfg, &s);
    return 0;
}

/* ---- files of sentences (`llamaref chrf`) ---- */

void lr_lines_free(lr_lines *f)
{
    free(f->data);
    free(f->line);
    free(f->line_len);
}

int lr_lines_read(const char *path, lr_lines *f, lr_error *err)
{
    size_t i, start = 0, n = 0;
    memset(f, 0, sizeof *f);
    if (lr_read_file(path, &f->data, &f->len, err)) return -1;
    for (i = 0; i < f->len; i++) n += f->data[i] == '\n';
    n += f->len > 0 && f->data[f->len - 1] != '\n';
    f->line = lr_alloc(n + 1, sizeof *f->line, "line index", err);
    f->line_len = lr_alloc(n + 1, sizeof *f->line_len, "line index", err);
    if (!f->line || !f->line_len) return -1;
    for (i = 0; i <= f->len; i++) {
        if (i == f->len && start == f->len) break;
        if (i == f->len || f->data[i] == '\n') {
            const unsigned char *u = (const unsigned char *)f->data + start;
            size_t k = 0;
            uint32_t cp;
            while (k < i - start) {
                int m = lr_utf8_decode(u + k, i - start - k, &cp);
                if (m == 0)
                    return lr_fail(err, "%s:%lu: ill-formed UTF-8 at byte %lu "
                                   "of the line", path,
                                   (unsigned long)f->n + 1, (unsigned long)k);
                k += (size_t)m;
            }
            f->line[f->n] = f->data + start;
            f->line_len[f->n] = i - start;
            f->n++;
            start = i + 1;
        }
    }
    return 0;
}

int lr_chrf_files(const lr_chrf_config *cfg, const char *hyp_path,
                  const char *const *ref_paths, size_t n_refs, double **sentence,
                  size_t *n, lr_chrf_stats *total, lr_error *err)
{
    lr_lines hyp, refs[LR_CHRF_MAX_REFS];
    size_t i, j;
    int rc = -1;
    memset(&hyp, 0, sizeof hyp);
    memset(refs, 0, sizeof refs);
    if (sentence) *sentence = NULL;
    *n = 0;
    if (n_refs < 1 || n_refs > LR_CHRF_MAX_REFS)
        return lr_fail(err, "%lu reference files (1 to %d)", (unsigned long)n_refs,
                       LR_CHRF_MAX_REFS);
    if (lr_lines_read(hyp_path, &hyp, err)) goto done;
    for (j = 0; j < n_refs; j++) {
        if (lr_lines_read(ref_paths[j], &refs[j], err)) goto done;
        if (refs[j].n != hyp.n) {
            lr_fail(err, "%s has %lu lines but %s has %lu", hyp_path,
                    (unsigned long)hyp.n, ref_paths[j], (unsigned long)refs[j].n);
            goto done;
        }
    }
    if (sentence && !(*sentence = lr_alloc(hyp.n + 1, sizeof **sentence,
                                           "sentence scores", err)))
        goto done;
    lr_chrf_stats_init(total, cfg);
    for (i = 0; i < hyp.n; i++) {
        const char *rp[LR_CHRF_MAX_REFS];
        size_t rl[LR_CHRF_MAX_REFS];
        lr_chrf_stats s;
        for (j = 0; j < n_refs; j++) {
            rp[j] = refs[j].line[i];
            rl[j] = refs[j].line_len[i];
        }
        if (lr_chrf_sentence_stats(cfg, hyp.line[i], hyp.line_len[i], rp, rl, n_refs,
                                   &s, err)) {
            lr_fail_prefix(err, "%s:%lu", hyp_path, (unsigned long)i + 1);
            goto done;
        }
        if (sentence) (*sentence)[i] = lr_chrf_score(cfg, &s);
        lr_chrf_stats_add(total, &s);
    }
    *n = hyp.n;
    rc = 0;
done:
    if (rc && sentence) {
        free(*sentence);
        *sentence = NULL;
    }
    lr_lines_free(&hyp);
    for (j = 0; j < n_refs; j++) lr_lines_free(&refs[j]);
    return rc;
}
