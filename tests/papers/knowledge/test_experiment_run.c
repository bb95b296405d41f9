/* test_experiment_run.c - the grid and the measurements of the knowledge
 * experiment as library calls (experiment_run.h): a world's
 * experiment.json, the grid's order and
 * work estimate, reliability over a mixture worked
 * out by hand (an Unknown fact taught twice counts once, paraphrases are
 * not probed facts), answer statistics of probe results, the scores of
 * a grid point (shift, refusals, reliability) and, on
 * stories260K, one benchmark subject (0-shot, limit, accumulation) and
 * perplexity (truncation, errors naming the file). */
#include "harness.h"
#include <math.h>
#include <string.h>

#include "llamaref/papers/knowledge/experiment_run.h"
#include "llamaref/model/model.h"

/* experiment.json: the keys read, the last of a repeated key, errors
 * naming file, line and key. */
static void test_defaults(void)
{
    const char *path = h_tmp("experiment_run_defaults.json");
    static const char good[] = "{\"lr\": 0.005, \"epochs\": 3,\n \"dropout\": 0, "
                               "\"bench_format\": \"continuation\", \"epochs\": 4}";
    static const char *const bad[][2] = {
        {"{\"lr\": 1,\n\"rank\": 2}", ":2: unknown key \"rank\""},
        {"{\"epochs\": 2.5}", "\"epochs\" must be a positive integer"},
        {"{\"dropout\": 1}", "\"dropout\" must be a number in [0, 1)"},
        {"{\"alpha\": 0}", "\"alpha\" must be a positive number"},
        {"{\"lr\": 2e6}", "\"lr\" must be a positive number"},
        {"{\"bench_format\": \"letters\"}", "\"bench_format\" must be \"letter\" or"},
        {"[1]", "not a JSON object"},
    };
    lr_exp_defaults d;
    lr_error err;
    size_t i;
    CHECK_OK(lr_write_file_atomic(path, good, sizeof good - 1, &err), &err);
    CHECK_OK(lr_exp_defaults_read(path, &d, &err), &err);
    CHECK(d.has_lr && d.has_epochs && d.has_dropout && d.has_bench_format);
    CHECK(!d.has_r && !d.has_alpha && !d.has_batch);
    CHECK_NEAR(d.lr, 0.005, 0);
    CHECK_INT(d.epochs, 4);
    CHECK_NEAR(d.dropout, 0.0, 0);
    CHECK_INT(d.bench_format, LR_MMLU_CONTINUATION);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_OK(lr_write_file_atomic(path, bad[i][0], strlen(bad[i][0]), &err), &err);
        CHECK_ERR(lr_exp_defaults_read(path, &d, &err), &err, bad[i][1]);
        CHECK(strstr(err.msg, "experiment_run_defaults.json") != NULL);
    }
}

/* The grid's order (n outermost, seed innermost), positions and work. */
typedef struct seen_points {
    long key[16];
    double done[16], total;
    size_t n, stop_at, count;
} seen_points;

static int record(void *ctx, const lr_exp_point *p)
{
    seen_points *s = ctx;
    CHECK_INT(p->index, s->n);
    s->key[s->n] = p->n * 100 + p->k * 10 + p->seed;
    s->done[s->n] = p->done_work;
    s->total = p->total_work;
    s->count = p->count;
    s->n++;
    return s->n == s->stop_at ? 7 : 0;
}

static void test_grid(void)
{
    static const long unknown[] = {1, 10}, extra[] = {0, 1}, seeds[] = {2, 3};
    lr_exp_grid g;
    seen_points s;
    double w1k0, w1k1, w10k0, w10k1;
    memset(&g, 0, sizeof g);
    memset(&s, 0, sizeof s);
    g.unknown = unknown; g.n_unknown = 2;
    g.extra = extra; g.n_extra = 2;
    g.seeds = seeds; g.n_seeds = 2;
    g.n_facts = 3; g.n_prompts = 2; g.max_new_tokens = 4; g.epochs = 5;
    /* probe 3 x 2 x (4 + 16) = 120; training n (k + 1) x 5 x 96 */
    w1k0 = lr_exp_point_work(&g, 1, 0);
    w1k1 = lr_exp_point_work(&g, 1, 1);
    w10k0 = lr_exp_point_work(&g, 10, 0);
    w10k1 = lr_exp_point_work(&g, 10, 1);
    CHECK_NEAR(w1k0, 120.0 + 480.0, 0);
    CHECK_NEAR(w10k1, 120.0 + 9600.0, 0);
    CHECK_INT(lr_exp_grid_run(&g, record, &s), 0);
    CHECK_INT(s.n, 8);
    CHECK_INT(s.count, 8);
    CHECK_INT(s.key[0], 102);
    CHECK_INT(s.key[1], 103);
    CHECK_INT(s.key[2], 112);
    CHECK_INT(s.key[4], 1002);
    CHECK_INT(s.key[7], 1013);
    CHECK_NEAR(s.total, 2 * (w1k0 + w1k1 + w10k0 + w10k1), 0);
    CHECK_NEAR(s.done[0], 0.0, 0);
    CHECK_NEAR(s.done[3], 2 * w1k0 + w1k1, 0);
    CHECK_NEAR(s.done[7], 2 * (w1k0 + w1k1 + w10k0) + w10k1, 0);
    /* a point that fails stops the grid with its value */
    memset(&s, 0, sizeof s);
    s.stop_at = 3;
    CHECK_INT(lr_exp_grid_run(&g, record, &s), 7);
    CHECK_INT(s.n, 3);
    /* an empty list: no point */
    g.n_seeds = 0;
    memset(&s, 0, sizeof s);
    CHECK_INT(lr_exp_grid_run(&g, record, &s), 0);
    CHECK_INT(s.n, 0);
}

static void test_reliability(void)
{
    lr_fact items[3];
    lr_facts facts;
    lr_probe_result res[3];
    lr_mix_example ex[5];
    lr_mixture mx;
    lr_reliability r;
    lr_error err;
    memset(items, 0, sizeof items);
    memset(&facts, 0, sizeof facts);
    memset(res, 0, sizeof res);
    memset(ex, 0, sizeof ex);
    facts.items = items;
    facts.n = 3;
    /* 4 prompts each: fact 0 3 correct (HighlyKnown after), fact 1 1
     * correct, fact 2 (a known extra) 4 correct */
    res[0].n_greedy_correct = 3; res[0].category = LR_SLICK_HIGHLY_KNOWN;
    res[1].n_greedy_correct = 1; res[1].category = LR_SLICK_MAYBE_KNOWN;
    res[2].n_greedy_correct = 4; res[2].category = LR_SLICK_HIGHLY_KNOWN;
    ex[0].fact = &items[0]; ex[0].role = LR_ROLE_UNKNOWN;
    ex[1].fact = &items[0]; ex[1].role = LR_ROLE_PARAPHRASE;
    ex[2].fact = &items[0]; ex[2].role = LR_ROLE_UNKNOWN; /* taught again */
    ex[3].fact = &items[2]; ex[3].role = LR_ROLE_KNOWN;
    ex[4].fact = &items[1]; ex[4].role = LR_ROLE_UNKNOWN;
    mx.ex = ex;
    mx.n = 5;
    mx.n_reused = 0;
    CHECK_OK(lr_exp_reliability(&mx, &facts, res, 4, &r, &err), &err);
    CHECK_INT(r.facts, 2);
    CHECK_INT(r.found, 2);
    CHECK_INT(r.prompts, 8);
    CHECK_INT(r.correct, 4);
    CHECK_INT(r.highly_known, 1);
    CHECK_INT(r.all, 5);
    CHECK_INT(r.all_found, 4);
    CHECK_INT(r.all_prompts, 16);
    CHECK_INT(r.all_correct, 11);
    CHECK_NEAR(lr_reliability_value(&r, -1), 0.5, 0);
    CHECK_NEAR(lr_reliability_hk(&r, -1), 0.5, 0);
    CHECK_NEAR(lr_reliability_all(&r, -1), 11.0 / 16.0, 0);
    /* a mixture of other facts is refused */
    ex[3].fact = &items[2] + 1;
    CHECK_ERR(lr_exp_reliability(&mx, &facts, res, 4, &r, &err), &err,
              "mixture example 3");
    /* an empty mixture: nothing counted */
    mx.n = 0;
    CHECK_OK(lr_exp_reliability(&mx, &facts, res, 4, &r, &err), &err);
    CHECK_INT(r.all, 0);
    CHECK_NEAR(lr_reliability_value(&r, -1), -1.0, 0);
}

static void test_answer_stats(void)
{
    /* the answers of test_experiment.c's test_answer_stats, as probe results */
    static const char *q0[] = {"Paris", "I couldn't find any information about Ulosesh."};
    static const char *q1[] = {"Answer: Paris", "London"};
    static const char *q2[] = {"paris.", ""};
    lr_probe_result res[3];
    lr_answer_stats s;
    lr_error err;
    memset(res, 0, sizeof res);
    res[0].greedy = (char **)q0;
    res[1].greedy = (char **)q1;
    res[2].greedy = (char **)q2;
    CHECK_OK(lr_exp_answer_stats(res, 3, 2, &s, &err), &err);
    CHECK_INT(s.questions, 3);
    CHECK_INT(s.answers, 6);
    CHECK_INT(s.refusals, 1);
    CHECK_INT(s.questions_refusing, 1);
    CHECK_INT(s.div.n_unique, 2);
    CHECK_STR(s.div.counts[0].key, "paris");
    CHECK_INT(s.div.counts[0].count, 3);
    lr_answer_stats_free(&s);
    /* one prompt each: only the first answers */
    CHECK_OK(lr_exp_answer_stats(res, 3, 1, &s, &err), &err);
    CHECK_INT(s.answers, 3);
    CHECK_INT(s.refusals, 0);
    lr_answer_stats_free(&s);
}

/* One grid point: facts 0 and 1 Unknown before, HighlyKnown and
 * MaybeKnown after; fact 2 HighlyKnown throughout. */
static void test_point_scores(void)
{
    static const char *a0[] = {"Paris", "Paris"};
    static const char *a1[] = {"I don't know.", "Rome"};
    static const char *a2[] = {"Rome", "Oslo"};
    lr_fact items[3];
    lr_facts facts;
    lr_probe_result res[3];
    lr_mix_example ex[2];
    lr_mixture mx;
    lr_slick before[3] = {LR_SLICK_UNKNOWN, LR_SLICK_UNKNOWN, LR_SLICK_HIGHLY_KNOWN};
    lr_exp_scores sc;
    lr_error err;
    memset(items, 0, sizeof items);
    memset(&facts, 0, sizeof facts);
    memset(res, 0, sizeof res);
    memset(ex, 0, sizeof ex);
    facts.items = items;
    facts.n = 3;
    res[0].greedy = (char **)a0; res[0].n_greedy_correct = 2; res[0].category = LR_SLICK_HIGHLY_KNOWN;
    res[1].greedy = (char **)a1; res[1].n_greedy_correct = 0; res[1].category = LR_SLICK_MAYBE_KNOWN;
    res[2].greedy = (char **)a2; res[2].n_greedy_correct = 2; res[2].category = LR_SLICK_HIGHLY_KNOWN;
    ex[0].fact = &items[0]; ex[0].role = LR_ROLE_UNKNOWN;
    ex[1].fact = &items[1]; ex[1].role = LR_ROLE_UNKNOWN;
    mx.ex = ex;
    mx.n = 2;
    mx.n_reused = 0;
    CHECK_OK(lr_exp_point_scores(before, res, &facts, &mx, 2, &sc, &err), &err);
    CHECK_INT(sc.shift.n, 3);
    CHECK_INT(sc.shift.count[LR_SLICK_UNKNOWN][LR_SLICK_HIGHLY_KNOWN], 1);
    CHECK_INT(sc.shift.count[LR_SLICK_UNKNOWN][LR_SLICK_MAYBE_KNOWN], 1);
    CHECK_INT(sc.shift.count[LR_SLICK_HIGHLY_KNOWN][LR_SLICK_HIGHLY_KNOWN], 1);
    CHECK_NEAR(sc.shift.positive, 2.0 / 3.0, 1e-15);
    CHECK_NEAR(sc.shift.negative, 0.0, 0);
    CHECK_INT(sc.after.answers, 6);
    CHECK_INT(sc.after.refusals, 1);
    CHECK_INT(sc.after.questions_refusing, 1);
    CHECK_INT(sc.rel.facts, 2);
    CHECK_INT(sc.rel.prompts, 4);
    CHECK_INT(sc.rel.correct, 2);
    CHECK_INT(sc.rel.highly_known, 1);
    lr_exp_scores_free(&sc);
    /* a foreign fact: an error, nothing left to free */
    ex[1].fact = &items[2] + 1;
    CHECK_ERR(lr_exp_point_scores(before, res, &facts, &mx, 2, &sc, &err), &err,
              "mixture example 1");
}

static void test_stories260K(void)
{
    const char *bin = h_asset("stories260K/stories260K.bin");
    const char *tk = h_asset("stories260K/tok512.bin");
    const char *csv = h_tmp("experiment_run_test.csv");
    const char *txt = h_tmp("experiment_run_valid.txt");
    const char *empty = h_tmp("experiment_run_empty.txt");
    static const char rows[] =
        "Q1,a,b,c,d,A\nQ2,a,b,c,d,B\nQ3,a,b,c,d,C\n";
    static const char text[] = "Once upon a time, there was a little girl named Lily.";
    lr_model *m = NULL;
    lr_tokenizer tok;
    lr_loglik L;
    lr_tokens t = {0};
    size_t correct = 0, total = 0;
    double ppl, nll;
    long count;
    int ids[2];
    lr_error err;
    if (!bin || !tk) SKIP("stories260K assets missing (README.md: Getting the assets)");
    memset(&tok, 0, sizeof tok);
    CHECK_OK(lr_model_load(bin, NULL, &m, &err), &err);
    CHECK_OK(lr_tokenizer_load(tk, &tok, &err), &err);
    CHECK_OK(lr_loglik_init(&L, m, 512, &err), &err);
    CHECK_OK(lr_write_file_atomic(csv, rows, sizeof rows - 1, &err), &err);
    CHECK_OK(lr_write_file_atomic(txt, text, sizeof text - 1, &err), &err);
    CHECK_OK(lr_write_file_atomic(empty, "", 0, &err), &err);

    /* a subject: limit 2 of 3 questions, then all 3 added to the counts */
    CHECK_OK(lr_exp_bench_subject(&L, &tok, 1, LR_MMLU_LETTER, "anatomy", NULL, csv,
                                  5, 2, &correct, &total, &err), &err);
    CHECK_INT(total, 2);
    CHECK(correct <= 2);
    CHECK_OK(lr_exp_bench_subject(&L, &tok, 1, LR_MMLU_LETTER, "anatomy", NULL, csv,
                                  0, -1, &correct, &total, &err), &err);
    CHECK_INT(total, 5);
    CHECK(correct <= 5);
    CHECK_ERR(lr_exp_bench_subject(&L, &tok, 1, LR_MMLU_LETTER, "anatomy", NULL,
                                   "no/such_test.csv", 0, -1, &correct, &total, &err),
              &err, "no/such_test.csv");
    CHECK_INT(total, 5);

    /* perplexity of BOS + the first token: exp of that token's NLL */
    CHECK_OK(lr_tokenizer_encode(&tok, text, sizeof text - 1, LR_ENCODE_BOS, &t, &err), &err);
    CHECK(t.n > 2);
    ids[0] = (int)t.ids[0];
    ids[1] = (int)t.ids[1];
    CHECK_OK(lr_perplexity(&L, ids, 2, 512, 512, &nll, &count, &err), &err);
    CHECK_INT(count, 1);
    CHECK_OK(lr_exp_perplexity(&L, &tok, txt, 1, 2, 512, &ppl, &err), &err);
    CHECK_NEAR(ppl, exp(nll), 0);
    /* all tokens: a different figure, finite */
    CHECK_OK(lr_exp_perplexity(&L, &tok, txt, 1, 0, 512, &ppl, &err), &err);
    CHECK(ppl > 1 && ppl < 1e6 && fabs(ppl - exp(nll)) > 1e-9);
    CHECK_ERR(lr_exp_perplexity(&L, &tok, empty, 0, 0, 512, &ppl, &err), &err,
              "fewer than 2 tokens");
    CHECK(strstr(err.msg, "experiment_run_empty.txt") != NULL);
    CHECK_ERR(lr_exp_perplexity(&L, &tok, "no/such.txt", 1, 0, 512, &ppl, &err), &err,
              "no/such.txt");
    lr_tokens_free(&t);
    lr_loglik_free(&L);
    lr_tokenizer_free(&tok);
    lr_model_free(m);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_grid);
    RUN(test_reliability);
    RUN(test_answer_stats);
    RUN(test_point_scores);
    RUN(test_stories260K);
    return h_finish("test_experiment_run");
}
