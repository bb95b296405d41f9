/* test_chrf.c - chrF / chrF++ against sacreBLEU 2.6.0 values (shared data,
 * README's Czech example) and against the golden vectors computed by
 * sacreBLEU 2.6.0 itself (vectors/gen/gen_chrf.py -> vectors/chrf/). */
#include "harness.h"

#include "llamaref/eval/chrf.h"
#include "llamaref/core/json.h"

#define VECTORS "vectors/chrf/chrf_vectors.json"

static lr_chrf_config cfg_for(int word_order)
{
    lr_chrf_config c;
    lr_chrf_config_default(&c);
    c.word_order = word_order;
    return c;
}

/* Splits buf (modified in place) into lines at '\n'; a final empty line
 * after the last '\n' is not a line.  Returns the number of lines. */
static size_t split_lines(char *buf, size_t len, char **lines, size_t max)
{
    size_t n = 0, i, start = 0;
    for (i = 0; i <= len; i++) {
        if (i == len && start == len) break;
        if (i == len || buf[i] == '\n') {
            buf[i] = 0;
            if (n < max) lines[n] = buf + start;
            n++;
            start = i + 1;
        }
    }
    return n;
}

/* Splits a line at its first tab: returns the second field or NULL. */
static char *split_tab(char *line)
{
    char *t = strchr(line, '\t');
    if (!t) return NULL;
    *t = 0;
    return t + 1;
}

static void test_hand_computed(void)
{
    lr_chrf_config c = cfg_for(0);
    lr_error err;
    double f = -1;
    /* identical texts: every order matches fully */
    CHECK_OK(lr_chrf_sentence(&c, "ab", "ab", &f, &err), &err);
    CHECK_NEAR(f, 100.0, 1e-12);
    /* "ab" vs "ba": unigrams 2/2 match, bigram 0/1: P = R = 1/2 -> F = 50 */
    CHECK_OK(lr_chrf_sentence(&c, "ab", "ba", &f, &err), &err);
    CHECK_NEAR(f, 50.0, 1e-12);
    /* white space is removed before character n-grams */
    CHECK_OK(lr_chrf_sentence(&c, "a b", "ab", &f, &err), &err);
    CHECK_NEAR(f, 100.0, 1e-12);
    /* "abc" vs "ab": P = (2/3 + 1/2)/2 = 7/12, R = 1 (orders 1, 2 only);
     * F = 5 P R / (4 P + R) */
    CHECK_OK(lr_chrf_sentence(&c, "abc", "ab", &f, &err), &err);
    CHECK_NEAR(f, 100.0 * 5 * (7.0 / 12) / (4 * (7.0 / 12) + 1), 1e-12);
    /* code points, not bytes: "é" (2 bytes) vs "e" share nothing */
    CHECK_OK(lr_chrf_sentence(&c, "\xC3\xA9", "e", &f, &err), &err);
    CHECK_NEAR(f, 0.0, 0);
    /* empty hypothesis or reference scores 0 */
    CHECK_OK(lr_chrf_sentence(&c, "", "abc", &f, &err), &err);
    CHECK_NEAR(f, 0.0, 0);
    CHECK_OK(lr_chrf_sentence(&c, "abc", "", &f, &err), &err);
    CHECK_NEAR(f, 0.0, 0);
}

static void test_word_tokenisation(void)
{
    /* chrF++ words: "hi," -> "hi" ",";  "(hi)" -> "(hi" ")";  "(hi" -> "(" "hi" */
    lr_chrf_config c = cfg_for(2);
    lr_chrf_stats s;
    lr_error err;
    const char *ref = "hi , (hi )";
    size_t rl = strlen(ref);
    const char *hyp = "hi, (hi)";
    CHECK_OK(lr_chrf_sentence_stats(&c, hyp, strlen(hyp), &ref, &rl, 1, &s,
                                    &err), &err);
    CHECK_INT(s.n_orders, 8);
    /* hyp words: hi , (hi )   ref words: hi , ( hi )  (sacreBLEU issue 124:
     * only one mark is split, from the end first) */
    CHECK_INT(s.hyp[6], 4);
    CHECK_INT(s.ref[6], 5);
    CHECK_INT(s.match[6], 3); /* hi , ) */
    CHECK_INT(s.hyp[7], 3);
    CHECK_INT(s.ref[7], 4);
    CHECK_INT(s.match[7], 1); /* "hi ," */
    /* a one-character word is never split; "..." loses one '.' */
    ref = ". ..";
    rl = strlen(ref);
    hyp = ". ...";
    CHECK_OK(lr_chrf_sentence_stats(&c, hyp, strlen(hyp), &ref, &rl, 1, &s,
                                    &err), &err);
    CHECK_INT(s.hyp[6], 3); /* "." ".." "." */
    CHECK_INT(s.ref[6], 3); /* "." "." "." */
    CHECK_INT(s.match[6], 2);
}

static void test_invalid_utf8(void)
{
    lr_chrf_config c = cfg_for(0);
    lr_error err;
    double f;
    CHECK_ERR(lr_chrf_sentence(&c, "ok \xC3(", "ok", &f, &err), &err,
              "hypothesis: ill-formed UTF-8 at byte 3");
    CHECK_ERR(lr_chrf_sentence(&c, "ok", "\xED\xA0\x80", &f, &err), &err,
              "reference 1: ill-formed UTF-8 at byte 0"); /* surrogate */
    CHECK_ERR(lr_chrf_sentence(&c, "\xC0\xAF", "x", &f, &err), &err,
              "ill-formed UTF-8"); /* overlong */
    c.char_order = 0;
    CHECK_ERR(lr_chrf_sentence(&c, "a", "a", &f, &err), &err, "char order");
}

static void test_sacrebleu_english(void)
{
    const char *tsv = h_data("chrf/en_sentence_chrf.tsv");
    const char *pairs = h_data("multiparadetox/en.tsv");
    char *tbuf = NULL, *pbuf = NULL, *tl[64], *pl[512];
    size_t tlen, plen, nt, np, i;
    lr_error err;
    lr_chrf_config c0 = cfg_for(0), c2 = cfg_for(2);
    if (!tsv || !pairs) SKIP("shared chrf/en_sentence_chrf.tsv or en.tsv missing (README.md: Getting the assets)");
    CHECK_OK(lr_read_file(tsv, &tbuf, &tlen, &err), &err);
    CHECK_OK(lr_read_file(pairs, &pbuf, &plen, &err), &err);
    if (!tbuf || !pbuf) goto done;
    nt = split_lines(tbuf, tlen, tl, 64);
    np = split_lines(pbuf, plen, pl, 512);
    CHECK_INT(nt, 26);
    CHECK_INT(np, 401);
    if (nt != 26 || np != 401) goto done;
    for (i = 1; i < nt; i++) {
        char *f1 = split_tab(tl[i]), *f2 = f1 ? split_tab(f1) : NULL;
        char *f3 = f2 ? split_tab(f2) : NULL; /* lang idx chrF chrF++ */
        long idx;
        double want0, want2, got0 = -1, got2 = -1;
        char *hyp, *ref;
        CHECK(f3 != NULL);
        if (!f3) continue;
        idx = strtol(f1, NULL, 10);
        want0 = strtod(f2, NULL);
        want2 = strtod(f3, NULL);
        CHECK(idx >= 0 && idx < 400);
        hyp = pl[idx + 1];
        ref = strchr(hyp, '\t');
        CHECK(ref != NULL);
        if (!ref) continue;
        /* lines are split in place only once: copy the pair */
        {
            char h[4096], r[4096];
            size_t hl = (size_t)(ref - hyp);
            if (hl >= sizeof h || strlen(ref + 1) >= sizeof r) {
                CHECK(0);
                continue;
            }
            memcpy(h, hyp, hl);
            h[hl] = 0;
            strcpy(r, ref + 1);
            CHECK_OK(lr_chrf_sentence(&c0, h, r, &got0, &err), &err);
            CHECK_OK(lr_chrf_sentence(&c2, h, r, &got2, &err), &err);
        }
        /* sacreBLEU values are printed with 6 decimals */
        CHECK_NEAR(got0, want0, 1e-6);
        CHECK_NEAR(got2, want2, 1e-6);
    }
done:
    free(tbuf);
    free(pbuf);
}

static void test_sacrebleu_czech(void)
{
    /* ../shared/README.md: sacreBLEU 2.6.0 sentence chrF = 39.14081690 */
    lr_chrf_config c = cfg_for(0);
    lr_error err;
    double f = -1;
    CHECK_OK(lr_chrf_sentence(&c,
        "Co n\xC3\xA1s nejv\xC3\xAD" "c tr\xC3\xA1p\xC3\xAD, proto\xC5\xBE" "e "
        "l\xC3\xA9ka\xC5\x99i si vyb\xC3\xADraj\xC3\xAD, kdo bude \xC5\xBE\xC3\xADt "
        "a kdo zem\xC5\x99" "e.",
        "Nejv\xC3\xAD" "ce smutn\xC3\xAD jsme z toho, \xC5\xBE" "e mus\xC3\xADme "
        "rozhodovat o tom, kdo bude \xC5\xBE\xC3\xADt a kdo zem\xC5\x99" "e.",
        &f, &err), &err);
    CHECK_NEAR(f, 39.14081690, 1e-6);
}

static void check_stats(const lr_chrf_stats *s, const lr_json *want)
{
    int i;
    CHECK(want && want->type == LR_JSON_ARRAY);
    if (!want || want->type != LR_JSON_ARRAY) return;
    CHECK_INT(want->len, 3 * s->n_orders);
    if (want->len != (size_t)(3 * s->n_orders)) return;
    for (i = 0; i < s->n_orders; i++) {
        CHECK_INT(s->hyp[i], want->items[3 * i].integer);
        CHECK_INT(s->ref[i], want->items[3 * i + 1].integer);
        CHECK_INT(s->match[i], want->items[3 * i + 2].integer);
    }
}

static void test_vectors_cases(void)
{
    lr_json_doc *doc = NULL;
    lr_error err;
    const lr_json *cases;
    size_t i, j, n_checked = 0;
    CHECK_OK(lr_json_parse_file(VECTORS, &doc, &err), &err);
    if (!doc) return;
    cases = lr_json_get(lr_json_root(doc), "cases");
    CHECK(cases && cases->type == LR_JSON_ARRAY && cases->len >= 20);
    for (i = 0; cases && i < cases->len; i++) {
        const lr_json *c = &cases->items[i];
        const lr_json *hyp = lr_json_get(c, "hyp"), *refs = lr_json_get(c, "refs");
        const char *rp[8];
        size_t rl[8];
        int wo;
        if (!hyp || !refs || refs->len > 8 || refs->len == 0) {
            CHECK(0);
            continue;
        }
        for (j = 0; j < refs->len; j++) {
            rp[j] = refs->items[j].str;
            rl[j] = refs->items[j].len;
        }
        for (wo = 0; wo <= 2; wo += 2) {
            lr_chrf_config cfg = cfg_for(wo);
            lr_chrf_stats s;
            double want;
            const char *key = wo ? "chrfpp" : "chrf";
            const char *skey = wo ? "chrfpp_stats" : "chrf_stats";
            CHECK_OK(lr_json_get_number(c, key, VECTORS, &want, &err), &err);
            if (lr_chrf_sentence_stats(&cfg, hyp->str, hyp->len, rp, rl,
                                       refs->len, &s, &err)) {
                fprintf(stderr, "case %s: %s\n", lr_json_get(c, "name")->str,
                        err.msg);
                CHECK(0);
                continue;
            }
            check_stats(&s, lr_json_get(c, skey));
            CHECK_NEAR(lr_chrf_score(&cfg, &s), want, 1e-9);
            n_checked++;
        }
    }
    CHECK(n_checked >= 40);
    lr_json_free(doc);
}

/* Corpus chrF / chrF++ over a MultiParaDetox language file. */
static void check_corpus(const lr_json *c)
{
    const lr_json *rel = lr_json_get(c, "data");
    const char *path = rel ? h_data(rel->str) : NULL;
    char *buf = NULL, **lines = NULL;
    size_t len, n, i;
    lr_error err;
    int wo;
    if (!path) {
        fprintf(stderr, "%s: skipped: %s missing\n", h_cur_name,
                rel ? rel->str : "?");
        h_cur_skipped = 1;
        return;
    }
    if (lr_read_file(path, &buf, &len, &err)) {
        CHECK(0);
        return;
    }
    lines = malloc((len + 2) * sizeof *lines);
    if (!lines) {
        free(buf);
        CHECK(0);
        return;
    }
    n = split_lines(buf, len, lines, len + 2);
    CHECK_INT(n - 1, lr_json_get(c, "n")->integer);
    for (i = 1; i < n; i++) CHECK(split_tab(lines[i]) != NULL);
    for (wo = 0; wo <= 2; wo += 2) {
        lr_chrf_config cfg = cfg_for(wo);
        lr_chrf_stats tot, s;
        double want;
        const lr_json *sent = lr_json_get(c, wo ? "chrfpp_sentence_first50"
                                                : "chrf_sentence_first50");
        lr_chrf_stats_init(&tot, &cfg);
        for (i = 1; i < n; i++) {
            const char *ref = lines[i] + strlen(lines[i]) + 1;
            size_t rl = strlen(ref);
            if (lr_chrf_sentence_stats(&cfg, lines[i], strlen(lines[i]), &ref,
                                       &rl, 1, &s, &err)) {
                fprintf(stderr, "%s line %lu: %s\n", path, (unsigned long)i + 1,
                        err.msg);
                CHECK(0);
                continue;
            }
            if (sent && i - 1 < sent->len)
                CHECK_NEAR(lr_chrf_score(&cfg, &s), sent->items[i - 1].number,
                           1e-9);
            lr_chrf_stats_add(&tot, &s);
        }
        check_stats(&tot, lr_json_get(c, wo ? "chrfpp_stats" : "chrf_stats"));
        CHECK_OK(lr_json_get_number(c, wo ? "chrfpp" : "chrf", VECTORS, &want,
                                    &err), &err);
        CHECK_NEAR(lr_chrf_score(&cfg, &tot), want, 1e-9);
    }
    free(lines);
    free(buf);
}

static void test_vectors_corpora(void)
{
    lr_json_doc *doc = NULL;
    lr_error err;
    const lr_json *cs;
    size_t i;
    CHECK_OK(lr_json_parse_file(VECTORS, &doc, &err), &err);
    if (!doc) return;
    cs = lr_json_get(lr_json_root(doc), "corpora");
    CHECK(cs && cs->type == LR_JSON_ARRAY && cs->len == 4);
    for (i = 0; cs && i < cs->len; i++) check_corpus(&cs->items[i]);
    lr_json_free(doc);
}

static void test_eps_smoothing(void)
{
    /* chrF++.py-style: mean of per-order F, eps for empty orders */
    lr_chrf_config c = cfg_for(0);
    lr_chrf_stats s;
    int i;
    double want = 0;
    c.eps_smoothing = 1;
    lr_chrf_stats_init(&s, &c);
    s.hyp[0] = 4; s.ref[0] = 5; s.match[0] = 3; /* P 3/4, R 3/5 */
    s.hyp[1] = 3; s.ref[1] = 4; s.match[1] = 0; /* P = R = 0 -> eps */
    want += 5 * (3.0 / 4) * (3.0 / 5) / (4 * (3.0 / 4) + 3.0 / 5);
    want += 1e-16;
    for (i = 2; i < 6; i++) want += 5 * 1e-16 * 1e-16 / (4 * 1e-16 + 1e-16);
    CHECK_NEAR(lr_chrf_score(&c, &s), 100 * want / 6, 1e-12);
}

/* lr_chrf_files: line files; each sentence's score as lr_chrf_sentence
 * gives it, the corpus statistics as their sum, the best of two
 * references; errors name file and line */
static void test_files(void)
{
    static const char hyp[] = "the cat sat\r\nA b.\n", ref1[] = "the cat sat\nX y.\n",
                      ref2[] = "a dog\nA b.", bad[] = "ok\nnot \xff here\n";
    const char *refs[2];
    double *sc = NULL, want;
    size_t n = 0;
    lr_chrf_config cfg;
    lr_chrf_stats total;
    lr_error err;
    lr_write_file_atomic(h_tmp("chrf_h.txt"), hyp, sizeof hyp - 1, &err);
    lr_write_file_atomic(h_tmp("chrf_r1.txt"), ref1, sizeof ref1 - 1, &err);
    lr_write_file_atomic(h_tmp("chrf_r2.txt"), ref2, sizeof ref2 - 1, &err);
    lr_write_file_atomic(h_tmp("chrf_bad.txt"), bad, sizeof bad - 1, &err);
    lr_chrf_config_default(&cfg);
    refs[0] = h_tmp("chrf_r1.txt");
    refs[1] = h_tmp("chrf_r2.txt");
    CHECK_OK(lr_chrf_files(&cfg, h_tmp("chrf_h.txt"), refs, 2, &sc, &n, &total, &err),
             &err);
    CHECK_INT(n, 2);
    if (sc && n == 2) {
        CHECK_NEAR(sc[0], 100, 1e-9);
        CHECK_NEAR(sc[1], 100, 1e-9); /* "A b." matches the second reference */
        CHECK_NEAR(lr_chrf_score(&cfg, &total), 100, 1e-9);
    }
    free(sc);
    CHECK_OK(lr_chrf_files(&cfg, h_tmp("chrf_h.txt"), refs, 1, NULL, &n, &total, &err),
             &err);
    CHECK_OK(lr_chrf_sentence(&cfg, "A b.", "X y.", &want, &err), &err);
    CHECK(lr_chrf_score(&cfg, &total) < 100 && want < 100);
    refs[0] = h_tmp("chrf_bad.txt");
    CHECK_ERR(lr_chrf_files(&cfg, h_tmp("chrf_h.txt"), refs, 1, NULL, &n, &total, &err),
              &err, "chrf_bad.txt:2: ill-formed UTF-8 at byte 4");
    refs[0] = h_tmp("chrf_r2.txt");
    lr_write_file_atomic(h_tmp("chrf_r3.txt"), "one\n", 4, &err);
    refs[1] = h_tmp("chrf_r3.txt");
    CHECK_ERR(lr_chrf_files(&cfg, h_tmp("chrf_h.txt"), refs, 2, NULL, &n, &total, &err),
              &err, "has 2 lines but");
}

int main(void)
{
    RUN(test_hand_computed);
    RUN(test_word_tokenisation);
    RUN(test_invalid_utf8);
    RUN(test_sacrebleu_english);
    RUN(test_sacrebleu_czech);
    RUN(test_vectors_cases);
    RUN(test_vectors_corpora);
    RUN(test_eps_smoothing);
    RUN(test_files);
    return h_finish("test_chrf");
}
