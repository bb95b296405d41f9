/* test_eval_run.c - the evaluation runs of eval_run.h called directly on
 * the committed world model (data/world): every figure of a report is
 * recomputed here from the lower-level calls (lr_mmlu_score, lr_mc1 /
 * lr_mc2 over lr_loglik_score, lr_perplexity) and the harness's stderr
 * formulas written out by hand; the requests against lr_mmlu_prompt; the
 * report helpers of report.h; errors naming the file. */
#include <math.h>

#include "harness.h"

#include "llamaref/eval/eval_run.h"
#include "llamaref/core/json.h"
#include "llamaref/eval/mcscore.h"
#include "llamaref/model/model.h"
#include "llamaref/core/report.h"
#include "llamaref/core/tokens.h"
#include "llamaref/eval/truthfulqa.h"

#define WORLD "data/world"

static lr_model *model;
static lr_tokenizer tok;

static int world(void)
{
    lr_error err;
    if (model) return 1;
    memset(&tok, 0, sizeof tok);
    CHECK_OK(lr_model_load(WORLD, NULL, &model, &err), &err);
    CHECK_OK(lr_tokenizer_load(WORLD, &tok, &err), &err);
    return model != NULL;
}

static double json_num(const lr_buf *b, const char *key)
{
    lr_json_doc *doc = NULL;
    lr_error err;
    const lr_json *v;
    double r = NAN;
    if (lr_json_parse(b->data, b->len, "report", &doc, &err)) return NAN;
    v = lr_json_get(lr_json_root(doc), key);
    if (v && v->type == LR_JSON_NUMBER) r = v->number;
    lr_json_free(doc);
    return r;
}

static size_t lines(const lr_buf *b)
{
    size_t i, n = 0;
    for (i = 0; i < b->len; i++) n += b->data[i] == '\n';
    return n;
}

static void test_report_helpers(void)
{
    char p[64];
    lr_buf b = {0};
    CHECK_STR(lr_basename("a/b/c.json"), "c.json");
    CHECK_STR(lr_basename("c.json"), "c.json");
    lr_report_path(p, sizeof p, "out.d/eval.json", "-mc.svg");
    CHECK_STR(p, "out.d/eval-mc.svg");
    lr_report_path(p, sizeof p, "out.d/eval", ".md");
    CHECK_STR(p, "out.d/eval.md");
    lr_report_path(p, 8, "abcdefghij.json", ".md");
    CHECK_STR(p, "abcdefg");
    lr_md_escape(&b, "a|b\nc");
    CHECK(b.len == 6 && !memcmp(b.data, "a\\|b c", 6));
    lr_buf_free(&b);
}

/* the world benchmark (one subject, "world"), letters scored: a tiny
 * model answers some right, some wrong (a standard error above 0) */
static void test_mmlu(void)
{
    lr_eval_options o;
    lr_eval_report r;
    lr_loglik L;
    lr_mmlu_items dev, test;
    lr_buf ctx = {0};
    lr_error err;
    size_t q, n = 7, correct = 0;
    double mu, se;
    if (!world()) return;
    lr_eval_options_default(&o);
    o.model_name = WORLD;
    o.data = WORLD "/benchmark";
    o.shots = 2;
    o.limit = (long)n;
    o.format = LR_MMLU_LETTER;
    o.want_items = 1;
    o.chart_name = "x-subjects.svg";
    CHECK_OK(lr_loglik_init(&L, model, 512, &err), &err);
    CHECK_OK(lr_eval_mmlu(&L, &tok, &o, &r, &err), &err);
    CHECK_INT(r.questions, n);
    CHECK_INT(r.subjects, 1);
    CHECK_INT(lines(&r.items), n);
    CHECK(r.bos_added == (tok.bos_id >= 0));
    /* the accuracy from the question scorer itself */
    CHECK_OK(lr_mmlu_read(WORLD "/benchmark/test/world_test.csv", &test, &err), &err);
    CHECK_OK(lr_mmlu_read(WORLD "/benchmark/dev/world_dev.csv", &dev, &err), &err);
    for (q = 0; q < n && q < test.n; q++) {
        double ll[4];
        long pred, pred_norm;
        CHECK_OK(lr_mmlu_score(&L, &tok, 1, LR_MMLU_LETTER, "world", dev.items, 2,
                               &test.items[q], &ctx, ll, &pred, &pred_norm, &err), &err);
        correct += pred == test.items[q].answer;
    }
    CHECK_NEAR(r.acc, (double)correct / (double)n, 0);
    CHECK(r.acc > 0 && r.acc < 1);
    CHECK_NEAR(json_num(&r.json, "acc"), r.acc, 0);
    CHECK_NEAR(json_num(&r.json, "acc,none"), r.acc, 0);
    /* one subject: the pooled standard error is the subject's, the
     * harness's sample standard error of 0/1 values */
    mu = r.acc;
    se = sqrt((correct - n * mu * mu) / (double)(n - 1) / (double)n);
    CHECK_NEAR(json_num(&r.json, "acc_stderr,none"), se, 1e-12);
    CHECK(strstr(r.md.data, "| world | 7 |") != NULL);
    CHECK(strstr(r.md.data, "(x-subjects.svg)") != NULL);
    CHECK(r.svg.len > 0 && strstr(r.svg.data, "<svg") != NULL);
    lr_eval_report_free(&r);

    /* a subject filter that selects nothing; a directory without test/ */
    o.subjects = "anatomy";
    CHECK_ERR(lr_eval_mmlu(&L, &tok, &o, &r, &err), &err, "no test files");
    lr_eval_report_free(&r);
    o.subjects = NULL;
    o.data = "no/such/dir";
    CHECK_ERR(lr_eval_mmlu(&L, &tok, &o, &r, &err), &err, "no/such/dir/test");
    lr_eval_report_free(&r);
    /* more shots than dev questions */
    o.data = WORLD "/benchmark";
    o.shots = 50;
    CHECK_ERR(lr_eval_mmlu(&L, &tok, &o, &r, &err), &err, "world_dev.csv has");
    lr_eval_report_free(&r);

    lr_mmlu_items_free(&dev);
    lr_mmlu_items_free(&test);
    lr_buf_free(&ctx);
    lr_loglik_free(&L);
}

static void test_requests(void)
{
    lr_eval_options o;
    lr_buf out = {0}, ctx = {0};
    lr_mmlu_items test;
    lr_json_doc *doc = NULL;
    lr_error err;
    char *nl;
    lr_eval_options_default(&o);
    o.data = WORLD "/benchmark";
    o.shots = 0;
    o.limit = 3;
    CHECK_OK(lr_eval_requests_mmlu(&o, &out, &err), &err);
    CHECK_INT(lines(&out), 3);
    CHECK_OK(lr_mmlu_read(WORLD "/benchmark/test/world_test.csv", &test, &err), &err);
    CHECK_OK(lr_mmlu_prompt(LR_MMLU_LETTER, "world", NULL, 0, &test.items[0], &ctx,
                            &err), &err);
    nl = out.data ? strchr(out.data, '\n') : NULL;
    CHECK(nl != NULL);
    if (nl) {
        const lr_json *root;
        CHECK_OK(lr_json_parse(out.data, (size_t)(nl - out.data), "requests", &doc, &err), &err);
        root = doc ? lr_json_root(doc) : NULL;
        if (root) {
            lr_buf_puts(&ctx, "");
            CHECK_STR(lr_json_get(root, "context")->str, ctx.data);
            CHECK_STR(lr_json_get(root, "continuations")->items[1].str, " B");
            CHECK_INT(lr_json_get(root, "gold")->integer, test.items[0].answer);
        }
        lr_json_free(doc);
    }
    lr_mmlu_items_free(&test);
    lr_buf_free(&out);
    lr_buf_free(&ctx);
}

/* two questions written here; MC1 / MC2 recomputed from the scorer */
static void test_truthfulqa(void)
{
    static const char js[] =
        "[{\"question\": \"Where was Shiandro Kolia born?\", \"mc1_targets\": "
        "{\"Melliasmere\": 1, \"Rerktrivale\": 0, \"Kamkainford\": 0}, "
        "\"mc2_targets\": {\"Melliasmere\": 1, \"in Melliasmere\": 1, \"Rerktrivale\": 0}},\n"
        " {\"question\": \"What is the occupation of Ceshia Kroskrairksur?\", "
        "\"mc1_targets\": {\"painter\": 1, \"chemist\": 0}, "
        "\"mc2_targets\": {\"painter\": 1, \"chemist\": 0, \"engineer\": 0}}]";
    const char *path = h_tmp("eval_run_tqa.json");
    lr_eval_options o;
    lr_eval_report r;
    lr_loglik L;
    lr_tqa t;
    lr_buf ctx = {0};
    lr_error err;
    double sum1 = 0, sum2 = 0;
    size_t q, c;
    if (!world()) return;
    CHECK_OK(lr_write_file_atomic(path, js, sizeof js - 1, &err), &err);
    CHECK_OK(lr_loglik_init(&L, model, 512, &err), &err);
    lr_eval_options_default(&o);
    o.model_name = WORLD;
    o.data = path;
    o.want_items = 1;
    CHECK_OK(lr_eval_truthfulqa(&L, &tok, &o, &r, &err), &err);
    CHECK_INT(r.questions, 2);
    CHECK_INT(lines(&r.items), 2);
    CHECK_OK(lr_tqa_load(path, &t, &err), &err);
    for (q = 0; q < t.n; q++) {
        const lr_tqa_targets *ts[2];
        double ll[2][4], m[2];
        int k;
        ts[0] = &t.items[q].mc1;
        ts[1] = &t.items[q].mc2;
        ctx.len = 0;
        CHECK_OK(lr_tqa_context(t.items[q].question, &ctx, &err), &err);
        for (k = 0; k < 2; k++)
            for (c = 0; c < ts[k]->n; c++) {
                int *ci, *co, nci, nco;
                char cont[64];
                snprintf(cont, sizeof cont, " %s", ts[k]->choices[c]);
                CHECK_OK(lr_loglik_encode_pair(&tok, ctx.data, cont, 1, &ci, &nci, &co,
                                               &nco, &err), &err);
                CHECK_OK(lr_loglik_score(&L, ci, nci, co, nco, &ll[k][c], NULL, &err),
                         &err);
                free(ci);
                free(co);
            }
        CHECK_OK(lr_mc1(ll[0], ts[0]->n, 0, &m[0], &err), &err);
        CHECK_OK(lr_mc2(ll[1], ts[1]->labels, ts[1]->n, &m[1], &err), &err);
        sum1 += m[0];
        sum2 += m[1];
    }
    CHECK_NEAR(r.mc1, sum1 / 2, 1e-15);
    CHECK_NEAR(r.mc2, sum2 / 2, 1e-15);
    CHECK_NEAR(json_num(&r.json, "mc2"), r.mc2, 0);
    lr_eval_report_free(&r);
    lr_tqa_free(&t);
    o.data = "no/such.json";
    CHECK_ERR(lr_eval_truthfulqa(&L, &tok, &o, &r, &err), &err, "no/such.json");
    lr_eval_report_free(&r);
    lr_buf_free(&ctx);
    lr_loglik_free(&L);
}

/* windows of 16 tokens, stride 8, over the first lines of valid.txt */
static void test_ppl(void)
{
    const char *path = h_tmp("eval_run_valid.txt");
    static const char text[] =
        "Question: Where was Shiandro Kolia born?\nAnswer: Melliasmere\n"
        "Question: What is the occupation of Ceshia Kroskrairksur?\nAnswer: painter\n";
    lr_eval_options o;
    lr_eval_report r;
    lr_loglik L;
    lr_tokens t = {0};
    lr_error err;
    int *ids;
    size_t i;
    double nll = 0, mean, var;
    long count = 0;
    if (!world()) return;
    CHECK_OK(lr_write_file_atomic(path, text, sizeof text - 1, &err), &err);
    CHECK_OK(lr_loglik_init(&L, model, 16, &err), &err);
    lr_eval_options_default(&o);
    o.model_name = WORLD;
    o.data = path;
    o.window = 16;
    o.stride = 0; /* the window */
    CHECK_OK(lr_eval_ppl(&L, &tok, &o, &r, &err), &err);
    CHECK_INT(r.stride, 16);
    lr_eval_report_free(&r);
    o.stride = 8;
    CHECK_OK(lr_eval_ppl(&L, &tok, &o, &r, &err), &err);
    CHECK_OK(lr_tokenizer_encode(&tok, text, sizeof text - 1, LR_ENCODE_BOS, &t, &err),
             &err);
    ids = malloc(t.n * sizeof *ids);
    for (i = 0; ids && i < t.n; i++) ids[i] = (int)t.ids[i];
    CHECK_OK(lr_perplexity(&L, ids, (int)t.n, 16, 8, &nll, &count, &err), &err);
    CHECK_INT(r.tokens, t.n);
    CHECK_INT(r.scored, count);
    CHECK_INT(r.window, 16);
    CHECK_INT(r.stride, 8);
    CHECK_NEAR(r.nll, nll, 0);
    CHECK_NEAR(r.ppl, exp(nll / (double)count), 0);
    mean = nll / (double)count;
    var = L.ppl_nll2 / (double)count - mean * mean;
    CHECK_NEAR(r.ppl_stderr, exp(mean) * sqrt(var / (double)(count - 1)), 1e-12);
    CHECK_NEAR(json_num(&r.json, "ppl"), r.ppl, 0);
    CHECK_NEAR(json_num(&r.json, "scored"), (double)count, 0);
    lr_eval_report_free(&r);
    o.data = "no/such.txt";
    CHECK_ERR(lr_eval_ppl(&L, &tok, &o, &r, &err), &err, "no/such.txt");
    lr_eval_report_free(&r);
    free(ids);
    lr_tokens_free(&t);
    lr_loglik_free(&L);
}

/* `llamaref eval`'s context: the window and the lr_loglik's max_len */
static void test_context_and_summary(void)
{
    lr_eval_options o;
    lr_eval_report r;
    lr_buf b = {0};
    lr_error err;
    long max_len = 2048;
    lr_eval_options_default(&o);
    lr_eval_context(&o, "ppl", 512, &max_len); /* window: the model's 512 */
    CHECK_INT(o.window, 512);
    CHECK_INT(max_len, 512);
    o.window = 0;
    max_len = 1024;
    lr_eval_context(&o, "mmlu", 1, &max_len); /* no context given: 2048, cut */
    CHECK_INT(o.window, 1024);
    CHECK_INT(max_len, 1024);
    o.window = 0;
    max_len = 2048;
    lr_eval_context(&o, "mmlu", 8192, &max_len);
    CHECK_INT(o.window, 2048);
    memset(&r, 0, sizeof r);
    r.scored = 4;
    r.nll = 2;
    r.ppl = 1.5;
    r.ppl_stderr = 0.25;
    lr_eval_summary("ppl", &o, &r, &b);
    CHECK_STR(b.data, "ppl: 4 tokens scored, nll/token 0.500000, perplexity 1.5000\n"
                      "PPL = 1.5000 +/- 0.25000\n");
    lr_buf_free(&b);
    CHECK_ERR(lr_eval_task("hellaswag", NULL, NULL, &o, &r, &err), &err, "unknown task");
    CHECK_ERR(lr_eval_requests("ppl", &o, &b, &err), &err, "no requests for task 'ppl'");
    /* the files of a run: FILE.json, FILE-subjects.svg, FILE.md, the items */
    r.json.data = "{}";
    r.json.len = 2;
    r.svg.data = "<svg/>";
    r.svg.len = 6;
    r.md.data = "# m";
    r.md.len = 3;
    CHECK_STR(lr_eval_chart_suffix("truthfulqa"), "-mc.svg");
    CHECK_OK(lr_eval_report_write("mmlu", &r, h_tmp("report_write.json"),
                                  h_tmp("report_write.jsonl"), &err), &err);
    {
        char *d = NULL;
        size_t n = 0;
        CHECK_OK(lr_read_file(h_tmp("report_write-subjects.svg"), &d, &n, &err), &err);
        CHECK(d && n == 6 && !strcmp(d, "<svg/>"));
        free(d);
        d = NULL;
        CHECK_OK(lr_read_file(h_tmp("report_write.md"), &d, &n, &err), &err);
        CHECK(d && n == 3);
        free(d);
        d = NULL;
        CHECK_OK(lr_read_file(h_tmp("report_write.jsonl"), &d, &n, &err), &err); /* empty */
        CHECK(n == 0);
        free(d);
    }
    CHECK_ERR(lr_eval_report_write("ppl", &r, "/nonexistent/dir/r.json", NULL, &err), &err,
              "/nonexistent/dir/r.json");
}

int main(void)
{
    RUN(test_context_and_summary);
    RUN(test_report_helpers);
    RUN(test_mmlu);
    RUN(test_requests);
    RUN(test_truthfulqa);
    RUN(test_ppl);
    lr_model_free(model);
    lr_tokenizer_free(&tok);
    return h_finish("test_eval_run");
}
