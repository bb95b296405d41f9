/* test_experiment_knowledge.c - the knowledge experiment as library calls
 * (experiment_knowledge.h, experiment_report.h): a world directory
 * resolved with its experiment.json and explicit options winning; the
 * benchmark check naming a bad file; the report's aggregation over seeds
 * (mean and sample sd written out by hand) and per-run JSON; and a tiny
 * grid on the committed world model (data/world) whose summary.json
 * agrees with each run's metrics.json and the progress hooks. */
#include <math.h>

#include "harness.h"

#include "llamaref/train/adapter.h"
#include "llamaref/papers/knowledge/experiment_knowledge.h"
#include "llamaref/papers/knowledge/experiment_run.h"
#include "llamaref/core/json.h"
#include "llamaref/eval/lm.h"

#define WORLD "data/world"

static const lr_json *num(const lr_json_doc *d, const char *a, const char *b)
{
    const lr_json *v = lr_json_get(lr_json_root(d), a);
    return v && b ? lr_json_get(v, b) : v;
}

static void test_options_and_world(void)
{
    lr_exp_options o;
    lr_train_options paper;
    lr_exp_defaults d;
    lr_error err;
    lr_exp_options_default(&o);
    lr_exp_paper_train(&paper);
    CHECK_INT(o.n_unknown, 5);
    CHECK_INT(o.unknown[4], 500);
    CHECK_INT(o.seeds[2], 10824);
    CHECK_INT(o.r, paper.r);
    CHECK(o.rslora == 1 && o.bos == 1 && o.limit == -1);
    /* not a world directory: nothing changes */
    o.model = "vectors";
    CHECK_INT(lr_exp_resolve_world(&o, &err), 0);
    CHECK_STR(o.model, "vectors");
    /* the world: its files, plain template, experiment.json but --epochs */
    o.model = WORLD;
    o.given[o.n_given++] = "--epochs";
    o.epochs = 3;
    CHECK_INT(lr_exp_resolve_world(&o, &err), 1);
    CHECK_OK(lr_exp_defaults_read(WORLD "/experiment.json", &d, &err), &err);
    CHECK_STR(o.facts, WORLD "/qa.jsonl");
    CHECK_STR(o.shots, WORLD "/shots.jsonl");
    CHECK_STR(o.bench, WORLD "/benchmark");
    CHECK_STR(o.valid, WORLD "/valid.txt");
    CHECK_STR(o.template_arg, "plain");
    CHECK_STR(o.model, WORLD); /* config.json inside: the directory */
    CHECK_STR(o.defaults_path, WORLD "/experiment.json");
    CHECK(o.is_world);
    CHECK_INT(o.epochs, 3);
    if (d.has_lr) CHECK_NEAR(o.lr, d.lr, 0);
    if (d.has_batch) CHECK_INT(o.batch, d.batch);
    /* the benchmark check: shots limited by the dev file; a bad test file */
    o.bench_shots = 50;
    o.bench_shots_used = 50;
    CHECK_OK(lr_exp_bench_check(&o, &err), &err);
    CHECK_INT(o.bench_shots_used, 5); /* world_dev.csv: 5 questions */
    lr_make_dirs(h_tmp("xk_bench/test"));
    CHECK_OK(lr_write_file_atomic(h_tmp("xk_bench/test/s_test.csv"), "q,a,b\n", 6, &err),
             &err);
    o.bench = h_tmp("xk_bench");
    CHECK_ERR(lr_exp_bench_check(&o, &err), &err, "s_test.csv");
    o.bench = h_tmp("xk_nothing");
    CHECK_ERR(lr_exp_bench_check(&o, &err), &err, "xk_nothing/test");
}

/* the grid lists: values in range, at most LR_EXP_MAX_LIST of them */
static void test_parse_list(void)
{
    long v[LR_EXP_MAX_LIST];
    char many[200] = "";
    lr_error err;
    int n = -1, k;
    CHECK_OK(lr_exp_parse_list("--unknown", "1,10,50", 1, 100, v, &n, &err), &err);
    CHECK(n == 3 && v[0] == 1 && v[1] == 10 && v[2] == 50);
    CHECK_ERR(lr_exp_parse_list("--extra", "", 0, 10, v, &n, &err), &err,
              "--extra needs a comma-separated list");
    CHECK_ERR(lr_exp_parse_list("--extra", "1,11", 0, 10, v, &n, &err), &err,
              "--extra: '1,11' is not a list of at most 32 integers in [0, 10]");
    CHECK(lr_exp_parse_list("--seeds", "1,,2", 0, 10, v, &n, &err) != 0);
    CHECK(lr_exp_parse_list("--seeds", "1x", 0, 10, v, &n, &err) != 0);
    for (k = 0; k <= LR_EXP_MAX_LIST; k++) strcat(many, k ? ",1" : "1");
    CHECK(lr_exp_parse_list("--seeds", many, 0, 10, v, &n, &err) != 0);
    many[strlen(many) - 2] = 0; /* one fewer: LR_EXP_MAX_LIST values */
    CHECK_OK(lr_exp_parse_list("--seeds", many, 0, 10, v, &n, &err), &err);
    CHECK_INT(n, LR_EXP_MAX_LIST);
}

/* the options with a named or listed value, each into its field */
static void test_value_option(void)
{
    lr_exp_options o;
    lr_error err;
    lr_exp_options_default(&o);
    CHECK_OK(lr_exp_value_option(&o, "--unknown", "5,100000000", &err), &err);
    CHECK(o.n_unknown == 2 && o.unknown[0] == 5 && o.unknown[1] == 100000000L);
    CHECK_ERR(lr_exp_value_option(&o, "--unknown", "0", &err), &err,
              "--unknown: '0' is not a list of at most 32 integers in [1, 100000000]");
    CHECK_OK(lr_exp_value_option(&o, "--extra", "0,100000", &err), &err);
    CHECK(o.n_extra == 2 && o.extra[0] == 0 && o.extra[1] == 100000);
    CHECK(lr_exp_value_option(&o, "--extra", "100001", &err) != 0);
    CHECK_OK(lr_exp_value_option(&o, "--seeds", "2147483647", &err), &err);
    CHECK(o.n_seeds == 1 && o.seeds[0] == 2147483647L);
    CHECK(lr_exp_value_option(&o, "--seeds", "-1", &err) != 0);
    CHECK_OK(lr_exp_value_option(&o, "--kind", "paraphrase", &err), &err);
    CHECK(o.kind == LR_MIX_PARAPHRASE);
    CHECK_ERR(lr_exp_value_option(&o, "--kind", "x", &err), &err,
              "--kind must be known or paraphrase");
    CHECK_OK(lr_exp_value_option(&o, "--bench-format", "continuation", &err), &err);
    CHECK(o.bench_format == LR_MMLU_CONTINUATION);
    CHECK_ERR(lr_exp_value_option(&o, "--bench-format", "x", &err), &err,
              "--bench-format must be letter or continuation");
    CHECK(lr_exp_value_option(&o, "--lr", "1", &err) != 0);
}

/* what a run needs: the four paths and a known schedule; --kind's names */
static void test_options_check(void)
{
    lr_exp_options o;
    lr_mix_kind kind = LR_MIX_KNOWN;
    lr_error err;
    lr_exp_options_default(&o);
    CHECK_ERR(lr_exp_options_check(&o, &err), &err, "--model, --facts, --shots and --out are required");
    o.model = "m";
    o.facts = "f";
    o.shots = "s";
    o.out = "o";
    CHECK_OK(lr_exp_options_check(&o, &err), &err);
    o.schedule = "cosine";
    CHECK_OK(lr_exp_options_check(&o, &err), &err);
    o.schedule = "step";
    CHECK_ERR(lr_exp_options_check(&o, &err), &err, "--schedule must be linear, cosine or constant");
    CHECK(lr_mix_kind_parse("paraphrase", &kind) == 0 && kind == LR_MIX_PARAPHRASE);
    CHECK(lr_mix_kind_parse("known", &kind) == 0 && kind == LR_MIX_KNOWN);
    CHECK(lr_mix_kind_parse("Known", &kind) != 0 && kind == LR_MIX_KNOWN);
}

/* two seeds of one grid point, one skipped point: the report's cells */
static void test_report(void)
{
    lr_exp_options o;
    lr_probe_options po;
    lr_exp_run runs[3];
    lr_exp_base eb;
    lr_answer_stats base;
    size_t cats[LR_SLICK_N] = {4, 3, 2, 1};
    lr_json_doc *doc = NULL;
    lr_error err;
    char *md = NULL;
    size_t len;
    double sd = sqrt(((0.5 - 0.6) * (0.5 - 0.6) + (0.7 - 0.6) * (0.7 - 0.6)) / 1);
    char want[64];
    lr_exp_options_default(&o);
    o.model = "m";
    o.facts = "f.jsonl";
    o.out = h_tmp("xk_report");
    o.unknown[0] = 1;
    o.n_unknown = 1;
    o.extra[0] = 0;
    o.extra[1] = 1;
    o.n_extra = 2;
    o.seeds[0] = 1;
    o.seeds[1] = 2;
    o.n_seeds = 2;
    lr_make_dirs(o.out);
    lr_probe_options_default(&po);
    memset(runs, 0, sizeof runs);
    memset(&base, 0, sizeof base);
    runs[0].n = runs[1].n = runs[2].n = 1;
    runs[2].k = 1;
    runs[0].seed = 1;
    runs[1].seed = 2;
    runs[0].ok = runs[1].ok = 1;
    runs[0].reliability = 0.5;
    runs[1].reliability = 0.7;
    runs[0].bench_acc = runs[1].bench_acc = NAN;
    runs[0].ppl = runs[1].ppl = NAN;
    strcpy(runs[0].name, "n1_k0_known_s1");
    strcpy(runs[1].name, "n1_k0_known_s2");
    strcpy(runs[2].reason, "too few facts");
    memset(&eb, 0, sizeof eb);
    eb.n_facts = 10;
    eb.cats = cats;
    eb.stats = &base;
    eb.bench_acc = eb.ppl = NAN;
    CHECK_OK(lr_exp_write_report(&o, &po, &eb, runs, 3, 1.5, &err), &err);
    CHECK_OK(lr_json_parse_file(h_tmp("xk_report/summary.json"), &doc, &err), &err);
    if (doc) {
        const lr_json *r = lr_json_get(lr_json_root(doc), "runs");
        CHECK(r && r->len == 3);
        if (r && r->len == 3) {
            CHECK_NEAR(lr_json_get(&r->items[1], "reliability")->number, 0.7, 0);
            CHECK_STR(lr_json_get(&r->items[2], "status")->str, "skipped");
            CHECK_STR(lr_json_get(&r->items[2], "reason")->str, "too few facts");
        }
        CHECK_INT(num(doc, "base", "categories")->type, LR_JSON_OBJECT);
        CHECK_NEAR(num(doc, "seconds", NULL)->number, 1.5, 0);
        lr_json_free(doc);
    }
    CHECK_OK(lr_read_file(h_tmp("xk_report/report.md"), &md, &len, &err), &err);
    /* reliability row: mean 0.600 ± sample sd over the two seeds; k 1 not run */
    snprintf(want, sizeof want, "| 1 | 0.600 ± %.3f | – |", sd);
    CHECK(md && strstr(md, want) != NULL);
    CHECK(md && strstr(md, "| n 1, k 1, seed 0 | skipped: too few facts |") != NULL);
    free(md);
}

typedef struct seen {
    int lines, steps, trained, probe_done;
} seen;

static void on_log(void *ctx, const char *line)
{
    seen *s = ctx;
    s->lines++;
    if (!strncmp(line, "experiment: step ", 17)) s->steps++;
}

static void on_probe(long done, long total, void *ctx)
{
    if (done == total) ((seen *)ctx)->probe_done++;
}

static void on_trained(void *ctx, const lr_train_options *t, const lr_train_result *r)
{
    (void)t;
    if (r->step == r->total) ((seen *)ctx)->trained++;
}

/* 1 unknown fact, no extras and 1 extra, one seed, 2 epochs */
static void test_world_grid(void)
{
    lr_exp_options o;
    lr_exp_hooks h;
    lr_exp_outcome res;
    lr_json_doc *sum = NULL, *met = NULL;
    lr_error err;
    seen s;
    lr_exp_options_default(&o);
    o.model = WORLD;
    o.out = h_tmp("xk_grid");
    o.given[o.n_given++] = "--epochs";
    o.epochs = 2;
    o.n_unknown = 1;
    o.unknown[0] = 1;
    o.n_extra = 2;
    o.extra[0] = 0;
    o.extra[1] = 1;
    o.n_seeds = 1;
    o.seeds[0] = 42;
    o.limit = 30;
    o.prompts = 2;
    o.max_new_tokens = 8;
    o.bench_limit = 5;
    o.ppl_tokens = 200;
    CHECK_INT(lr_exp_resolve_world(&o, &err), 1);
    memset(&s, 0, sizeof s);
    memset(&h, 0, sizeof h);
    h.log = on_log;
    h.probe_progress = on_probe;
    h.trained = on_trained;
    h.ctx = &s;
    CHECK_OK(lr_exp_knowledge(&o, &h, &res, &err), &err);
    CHECK_INT(res.n_runs, 2);
    CHECK_INT(res.skipped, 0);
    CHECK_INT(s.steps, 3);          /* base + 2 points */
    CHECK_INT(s.trained, 2);
    CHECK_INT(s.probe_done, 3);
    CHECK_INT(o.bench_shots_used, 5);
    CHECK_OK(lr_json_parse_file(h_tmp("xk_grid/summary.json"), &sum, &err), &err);
    CHECK_OK(lr_json_parse_file(h_tmp("xk_grid/runs/n1_k1_known_s42/metrics.json"),
                                &met, &err), &err);
    if (sum && met) {
        const lr_json *r = lr_json_get(lr_json_root(sum), "runs");
        CHECK(r && r->len == 2);
        if (r && r->len == 2) {
            CHECK_NEAR(lr_json_get(&r->items[1], "reliability")->number,
                       num(met, "reliability", NULL)->number, 0);
            CHECK_INT(lr_json_get(&r->items[1], "examples")->integer, 2);
            CHECK_INT(lr_json_get(&r->items[1], "benchmark_questions")->integer, 5);
        }
        CHECK_INT(num(sum, "train", "epochs")->integer, 2);
        CHECK_INT(num(sum, "n_facts", NULL)->integer, 30);
    }
    lr_json_free(sum);
    lr_json_free(met);
    /* one of the run's adapters merged and saved (lr_adapter_merge_save):
     * the same weights as merging it on load, the tokenizer copied */
    {
        const char *ad = h_tmp("xk_grid/runs/n1_k1_known_s42/adapter");
        lr_lm a, b;
        lr_tensor *ta, *tb;
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        lr_make_dirs(h_tmp("xk_merged"));
        CHECK_OK(lr_adapter_merge_save(WORLD, ad, h_tmp("xk_merged"), &err), &err);
        a.model_path = WORLD;
        a.adapter_path = ad;
        b.model_path = h_tmp("xk_merged");
        CHECK_OK(lr_lm_load(&a, &err), &err);
        CHECK_OK(lr_lm_load(&b, &err), &err);
        if (a.model && b.model) {
            ta = &a.model->layers[0].down_proj;
            tb = &b.model->layers[0].down_proj;
            CHECK(lr_tensor_nelem(ta) == lr_tensor_nelem(tb));
            CHECK(lr_tensor_get(ta, 5) == lr_tensor_get(tb, 5));
            CHECK(lr_tensor_get(ta, 5) != lr_tensor_get(&a.model->layers[0].up_proj, 5));
        }
        CHECK(b.have_tok); /* tokenizer.model copied */
        lr_lm_free(&a);
        lr_lm_free(&b);
        CHECK_ERR(lr_adapter_merge_save(WORLD, "no/adapter", h_tmp("xk_merged"), &err),
                  &err, "no/adapter");
    }
    /* facts without shots */
    o.shots = WORLD "/config.json";
    CHECK(lr_exp_knowledge(&o, &h, &res, &err) != 0);
}

int main(void)
{
    RUN(test_options_and_world);
    RUN(test_parse_list);
    RUN(test_value_option);
    RUN(test_options_check);
    RUN(test_report);
    RUN(test_world_grid);
    return h_finish("test_experiment_knowledge");
}
