/* test_eval.c - evaluation code against independent expectations
 * (vectors/gen/gen_eval.py): continuation log-likelihoods and perplexity vs
 * transformers' LlamaForCausalLM (float64, float32 casts patched), harness
 * prompt strings (MMLU, TruthfulQA), the CSV reader vs Python's csv module;
 * plus fact files, mixtures, probe and detox prompts and error messages
 * naming file and line. */
#include "harness.h"

#include "llamaref/core/csv.h"
#include "llamaref/papers/detox/detox.h"
#include "llamaref/papers/knowledge/facts.h"
#include "llamaref/core/json.h"
#include "llamaref/eval/loglik.h"
#include "llamaref/papers/knowledge/mixture.h"
#include "llamaref/eval/mmlu.h"
#include "llamaref/model/model.h"
#include "llamaref/papers/knowledge/probe.h"
#include "llamaref/eval/truthfulqa.h"

#define VEC "vectors/eval/eval_vectors.json"

#ifdef LR_DOUBLE
#define REL_TOL 1e-9
#else
#define REL_TOL 2e-5
#endif

static lr_json_doc *vec_doc;

static const lr_json *vec(const char *key)
{
    lr_error err;
    if (!vec_doc && lr_json_parse_file(VEC, &vec_doc, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    return lr_json_get(lr_json_root(vec_doc), key);
}

static int *ints(const lr_json *a, int *n)
{
    int *r = malloc((a->len ? a->len : 1) * sizeof *r);
    size_t i;
    for (i = 0; r && i < a->len; i++) r[i] = (int)a->items[i].integer;
    *n = (int)a->len;
    return r;
}

static void write_text(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(s, f);
    fclose(f);
}

static void test_loglik_vs_torch(void)
{
    const lr_json *v = vec("loglik"), *cases;
    lr_model *m = NULL;
    lr_loglik L, L2;
    lr_error err;
    size_t i;
    CHECK(v != NULL);
    if (!v) return;
    cases = lr_json_get(v, "cases");
    CHECK_OK(lr_model_load_hf("vectors/forward/gqa_tied", NULL, &m, &err), &err);
    if (!m) return;
    CHECK_OK(lr_loglik_init(&L, m, 256, &err), &err);
    CHECK_OK(lr_loglik_init(&L2, m, 256, &err), &err);
    for (i = 0; i < cases->len; i++) {
        const lr_json *c = &cases->items[i];
        int nc, nk, *ctx = ints(lr_json_get(c, "ctx"), &nc);
        int *cont = ints(lr_json_get(c, "cont"), &nk), g = -1, g2 = -1;
        double ll = 0, ll2 = 1, want = lr_json_get(c, "ll")->number;
        CHECK_OK(lr_loglik_score(&L, ctx, nc, cont, nk, &ll, &g, &err), &err);
        CHECK_NEAR(ll, want, REL_TOL * fabs(want) + 1e-9);
        CHECK_INT(g, lr_json_get(c, "is_greedy")->type == LR_JSON_TRUE);
        /* a fresh cache (no prefix reuse) gives the same value */
        L2.pc.dec.len = 0;
        CHECK_OK(lr_loglik_score(&L2, ctx, nc, cont, nk, &ll2, &g2, &err), &err);
        CHECK_NEAR(ll2, ll, 1e-12 * fabs(ll));
        free(ctx);
        free(cont);
    }
    CHECK(L.pc.n_reused > 0); /* cases 3 and 4 reuse case 2's context */
    lr_loglik_free(&L);
    lr_loglik_free(&L2);
    lr_model_free(m);
}

static void test_perplexity_vs_torch(void)
{
    const lr_json *v = vec("loglik"), *runs;
    lr_model *m = NULL;
    lr_loglik L;
    lr_error err;
    int n, *toks;
    size_t i;
    if (!v) { CHECK(v != NULL); return; }
    runs = lr_json_get(v, "ppl");
    toks = ints(lr_json_get(v, "ppl_tokens"), &n);
    CHECK_OK(lr_model_load_hf("vectors/forward/gqa_tied", NULL, &m, &err), &err);
    if (!m) { free(toks); return; }
    CHECK_OK(lr_loglik_init(&L, m, 256, &err), &err);
    for (i = 0; i < runs->len; i++) {
        const lr_json *r = &runs->items[i];
        double nll = 0, want = lr_json_get(r, "nll")->number;
        long count = 0;
        CHECK_OK(lr_perplexity(&L, toks, n, (int)lr_json_get(r, "window")->integer,
                               (int)lr_json_get(r, "stride")->integer, &nll,
                               &count, &err), &err);
        CHECK_INT(count, lr_json_get(r, "count")->integer);
        CHECK_NEAR(nll, want, REL_TOL * fabs(want));
    }
    {
        double nll;
        long count;
        CHECK_ERR(lr_perplexity(&L, toks, n, 10, 11, &nll, &count, &err), &err, "stride");
    }
    lr_loglik_free(&L);
    lr_model_free(m);
    free(toks);
}

static void test_mmlu_prompts(void)
{
    const lr_json *v = vec("mmlu"), *items, *ctxs, *preds;
    lr_mmlu_items dev, test;
    lr_error err;
    size_t i;
    char dev_path[512], test_path[512];
    if (!v) { CHECK(v != NULL); return; }
    items = lr_json_get(v, "items");
    ctxs = lr_json_get(v, "contexts");
    snprintf(dev_path, sizeof dev_path, "%s", h_tmp("eval_dev.csv"));
    snprintf(test_path, sizeof test_path, "%s", h_tmp("eval_test.csv"));
    write_text(dev_path, lr_json_get(items, "dev_csv")->str);
    write_text(test_path, lr_json_get(items, "test_csv")->str);
    CHECK_OK(lr_mmlu_read(dev_path, &dev, &err), &err);
    CHECK_OK(lr_mmlu_read(test_path, &test, &err), &err);
    CHECK_INT(dev.n, 3);
    CHECK_INT(dev.original_format, 0);
    CHECK_INT(test.n, 1);
    CHECK_INT(test.original_format, 1); /* header-less, letter answer */
    if (test.n == 1) CHECK_INT(test.items[0].answer, 2);
    CHECK(ctxs->len == 6);
    for (i = 0; i < ctxs->len && dev.n == 3 && test.n == 1; i++) {
        const lr_json *c = &ctxs->items[i];
        const char *subject = lr_json_get(c, "subject")->str;
        size_t shots = (size_t)lr_json_get(c, "shots")->integer;
        lr_mmlu_format f;
        lr_buf b = {0};
        CHECK_INT(lr_mmlu_format_parse(lr_json_get(c, "format")->str, &f), 0);
        CHECK_OK(lr_mmlu_prompt(f, subject, dev.items, shots, &test.items[0], &b,
                                &err), &err);
        CHECK_STR(b.data, lr_json_get(c, "context")->str);
        if (f == LR_MMLU_LETTER) { /* the letter task's own entry point */
            b.len = 0;
            CHECK_OK(lr_mmlu_context(subject, dev.items, shots, &test.items[0], &b,
                                     &err), &err);
            CHECK_STR(b.data, lr_json_get(c, "context")->str);
        }
        lr_buf_free(&b);
    }
    /* the choices each task scores, and acc / acc_norm as numpy picks them */
    preds = lr_json_get(v, "predictions");
    CHECK(preds->len == 8);
    for (i = 0; i < preds->len && test.n == 1; i++) {
        const lr_json *p = &preds->items[i], *lls = lr_json_get(p, "ll"),
                      *ch = lr_json_get(p, "choices");
        lr_mmlu_format f;
        double ll[4];
        long pred, pred_norm;
        int c;
        CHECK_INT(lr_mmlu_format_parse(lr_json_get(p, "format")->str, &f), 0);
        for (c = 0; c < 4; c++) {
            ll[c] = lls->items[c].number;
            CHECK_STR(lr_mmlu_choice(f, &test.items[0], c), ch->items[c].str);
        }
        lr_mmlu_predict(f, &test.items[0], ll, &pred, &pred_norm);
        CHECK_INT(pred, lr_json_get(p, "pred")->integer);
        CHECK_INT(pred_norm, lr_json_get(p, "pred_norm")->integer);
    }
    {
        lr_mmlu_format f = LR_MMLU_CONTINUATION;
        CHECK_INT(lr_mmlu_format_parse("Letter", &f), -1);
        CHECK_INT(f, LR_MMLU_CONTINUATION);
        CHECK_STR(lr_mmlu_format_name(LR_MMLU_LETTER), "letter");
        CHECK_STR(lr_mmlu_format_name(LR_MMLU_CONTINUATION), "continuation");
    }
    lr_mmlu_items_free(&dev);
    lr_mmlu_items_free(&test);
    /* malformed files name file and line */
    write_text(dev_path, "question,choice0,choice1,choice2,choice3,answer\nq,a,b,c,d,1\nq,a,b,c,d,4\n");
    CHECK_ERR(lr_mmlu_read(dev_path, &dev, &err), &err, "eval_dev.csv:3: answer '4'");
    write_text(dev_path, "q,a,b,c,d,A\nq,a,\"b\nb\",c,d\nq,a,b,c,d,E\n");
    CHECK_ERR(lr_mmlu_read(dev_path, &dev, &err), &err, "eval_dev.csv:2: 5 fields, expected 6");
    write_text(dev_path, "q,a,b,c,d,A\nq,a,b,c,d,E\n");
    CHECK_ERR(lr_mmlu_read(dev_path, &dev, &err), &err, "eval_dev.csv:2: answer 'E' is not one of A, B, C, D");
}

static void test_mmlu_shared_data(void)
{
    const char *p = h_data("mmlu/test/abstract_algebra_test.csv");
    size_t s, n_dev = 0, n_test = 0;
    lr_error err;
    if (!p) SKIP("../shared/data/mmlu missing (README.md: Getting the assets)");
    for (s = 0; s < LR_MMLU_N_SUBJECTS; s++) {
        char rel[256];
        lr_mmlu_items it;
        const char *path;
        snprintf(rel, sizeof rel, "mmlu/dev/%s_dev.csv", lr_mmlu_subjects[s]);
        path = h_data(rel);
        CHECK(path != NULL);
        if (path) { CHECK_OK(lr_mmlu_read(path, &it, &err), &err); n_dev += it.n; lr_mmlu_items_free(&it); }
        snprintf(rel, sizeof rel, "mmlu/test/%s_test.csv", lr_mmlu_subjects[s]);
        path = h_data(rel);
        CHECK(path != NULL);
        if (path) { CHECK_OK(lr_mmlu_read(path, &it, &err), &err); n_test += it.n; lr_mmlu_items_free(&it); }
    }
    CHECK_INT(n_dev, 285);    /* ../shared/README.md */
    CHECK_INT(n_test, 14042);
}

static void test_truthfulqa(void)
{
    const lr_json *v = vec("tqa");
    const char *p = h_data("truthfulqa/mc_task.json");
    lr_buf b = {0};
    lr_error err;
    lr_tqa t;
    if (!v) { CHECK(v != NULL); return; }
    CHECK_OK(lr_tqa_context(lr_json_get(v, "question")->str, &b, &err), &err);
    CHECK_STR(b.data, lr_json_get(v, "context")->str);
    lr_buf_free(&b);
    /* the Hugging Face layout and a bad label */
    write_text(h_tmp("tqa_hf.json"), "[{\"question\": \"Q?\", \"mc1_targets\": "
               "{\"choices\": [\"a\", \"b\"], \"labels\": [1, 0]}, \"mc2_targets\": "
               "{\"choices\": [\"a\", \"c\", \"b\"], \"labels\": [1, 1, 0]}}]");
    CHECK_OK(lr_tqa_load(h_tmp("tqa_hf.json"), &t, &err), &err);
    CHECK_INT(t.n, 1);
    if (t.n == 1) {
        CHECK_INT(t.items[0].mc2.n, 3);
        CHECK_STR(t.items[0].mc2.choices[1], "c");
        CHECK_INT(t.items[0].mc2.labels[2], 0);
    }
    lr_tqa_free(&t);
    write_text(h_tmp("tqa_bad.json"), "[\n{\"question\": \"Q?\", \"mc1_targets\": {\"a\": 1},\n"
               " \"mc2_targets\": {\"a\": 2}}]");
    CHECK_ERR(lr_tqa_load(h_tmp("tqa_bad.json"), &t, &err), &err, "tqa_bad.json:3: \"mc2_targets\" label 0");
    if (!p) SKIP("truthfulqa/mc_task.json missing (README.md: Getting the assets)");
    CHECK_OK(lr_tqa_load(p, &t, &err), &err);
    CHECK_INT(t.n, 817);
    if (t.n == 817) CHECK_INT(t.items[0].mc1.n, 4);
    lr_tqa_free(&t);
}

static void test_csv_vs_python(void)
{
    const lr_json *v = vec("csv");
    lr_error err;
    size_t i, r, f;
    if (!v) { CHECK(v != NULL); return; }
    for (i = 0; i < v->len; i++) {
        const lr_json *c = &v->items[i], *recs = lr_json_get(c, "records");
        const lr_json *t = lr_json_get(c, "text");
        lr_csv csv;
        CHECK_OK(lr_csv_parse(t->str, t->len, "case", &csv, &err), &err);
        CHECK_INT(csv.n_records, recs->len);
        for (r = 0; r < csv.n_records && r < recs->len; r++) {
            CHECK_INT(csv.records[r].n_fields, recs->items[r].len);
            for (f = 0; f < csv.records[r].n_fields && f < recs->items[r].len; f++)
                CHECK_STR(csv.records[r].fields[f], recs->items[r].items[f].str);
        }
        lr_csv_free(&csv);
    }
    {
        lr_csv csv;
        const char *t1 = "a,b\n\"open\nstill\n", *t2 = "a,\"b\"c\n", *t3 = "a\nb,c\"d\n";
        CHECK_ERR(lr_csv_parse(t1, strlen(t1), "f.csv", &csv, &err), &err, "f.csv:2: quoted field never closed");
        CHECK_ERR(lr_csv_parse(t2, strlen(t2), "f.csv", &csv, &err), &err, "f.csv:1: 'c' after the closing quote");
        CHECK_ERR(lr_csv_parse(t3, strlen(t3), "f.csv", &csv, &err), &err, "f.csv:2: '\"' inside an unquoted field");
    }
}

static void test_facts_files(void)
{
    const char *p = h_data("entityquestions/dev/P17.dev.json");
    lr_facts f;
    lr_error err;
    memset(&f, 0, sizeof f);
    write_text(h_tmp("facts.jsonl"), "{\"question\": \"A?\", \"answers\": [\"x\", \"y\"], \"category\": \"HK\"}\n\n"
               "{\"question\": \"B?\", \"answers\": \"z\", \"paraphrases\": [\"B2?\"]}\n");
    CHECK_OK(lr_facts_load(h_tmp("facts.jsonl"), &f, &err), &err);
    CHECK_INT(f.n, 2);
    if (f.n == 2) {
        CHECK_INT(f.items[0].n_answers, 2);
        CHECK_INT(f.items[0].category, LR_SLICK_HIGHLY_KNOWN);
        CHECK_INT(f.items[1].category, -1);
        CHECK_STR(f.items[1].answers[0], "z");
        CHECK_STR(f.items[1].paraphrases[0], "B2?");
        CHECK_INT(f.items[1].line, 3);
    }
    lr_facts_free(&f);
    write_text(h_tmp("facts_bad.jsonl"), "{\"question\": \"A?\", \"answers\": [\"x\"]}\n{\"question\": \"B?\", \"answers\": []}\n");
    CHECK_ERR(lr_facts_load(h_tmp("facts_bad.jsonl"), &f, &err), &err, "facts_bad.jsonl:2: \"answers\" is empty");
    lr_facts_free(&f);
    write_text(h_tmp("facts_bad2.json"), "[\n {\"question\": \"A?\", \"answers\": [\"x\"]},\n {\"answers\": [\"y\"]}\n]");
    CHECK_ERR(lr_facts_load(h_tmp("facts_bad2.json"), &f, &err), &err, "facts_bad2.json:3: \"question\" missing");
    lr_facts_free(&f);
    if (!p) SKIP("entityquestions missing (README.md: Getting the assets)");
    CHECK_OK(lr_facts_load(p, &f, &err), &err);
    CHECK_INT(f.n, 1000);
    if (f.n) {
        CHECK_STR(f.items[0].question, "Which country is Pulkal mandal located in?");
        CHECK_STR(f.items[0].answers[0], "India");
    }
    lr_facts_free(&f);
}

static void test_mixture_rules(void)
{
    lr_facts f;
    lr_mixture a, b, c;
    lr_error err;
    lr_buf t = {0};
    int i, same = 1;
    size_t k;
    memset(&f, 0, sizeof f);
    /* 6 Unknown (even i), 3 HighlyKnown, 1 MaybeKnown */
    for (i = 0; i < 10; i++)
        lr_buf_printf(&t, "{\"question\": \"q%d\", \"answers\": [\"a%d\"], \"category\": \"%s\", "
                      "\"paraphrases\": [\"p%d\"]}\n", i, i,
                      i % 2 == 0 && i < 12 ? "Unknown" : i < 7 ? "HighlyKnown" : i == 9 ? "MaybeKnown" : "Unknown", i);
    write_text(h_tmp("mix.jsonl"), t.data);
    lr_buf_free(&t);
    CHECK_OK(lr_facts_load(h_tmp("mix.jsonl"), &f, &err), &err);
    /* Unknown: q0 q2 q4 q6 q7 q8; HighlyKnown: q1 q3 q5 */
    CHECK_OK(lr_mixture_build(&f, 4, 2, LR_MIX_KNOWN, 5, &a, &err), &err);
    CHECK_OK(lr_mixture_build(&f, 4, 2, LR_MIX_KNOWN, 5, &b, &err), &err);
    CHECK_INT(a.n, 12);
    CHECK_INT(a.n_reused, 5); /* 8 known slots over 3 HighlyKnown facts */
    for (k = 0; k < a.n && k < b.n; k++) same &= a.ex[k].fact == b.ex[k].fact;
    CHECK(same);
    for (k = 0; k < a.n; k++) {
        CHECK_INT(a.ex[k].role, k % 3 ? 1 : 0);
        CHECK_INT(a.ex[k].fact->category,
                  k % 3 ? LR_SLICK_HIGHLY_KNOWN : LR_SLICK_UNKNOWN);
    }
    /* distinct unknown facts */
    for (k = 0; k < a.n; k += 3) {
        size_t j;
        for (j = k + 3; j < a.n; j += 3) CHECK(a.ex[k].fact != a.ex[j].fact);
    }
    CHECK_OK(lr_mixture_build(&f, 6, 1, LR_MIX_PARAPHRASE, 5, &c, &err), &err);
    CHECK_INT(c.n, 12);
    for (k = 0; k + 1 < c.n; k += 2) {
        CHECK(c.ex[k + 1].fact == c.ex[k].fact);
        CHECK_STR(c.ex[k + 1].question, c.ex[k].fact->paraphrases[0]);
    }
    lr_mixture_free(&a);
    lr_mixture_free(&b);
    lr_mixture_free(&c);
    /* a different seed picks a different order of unknown facts */
    CHECK_OK(lr_mixture_build(&f, 6, 0, LR_MIX_KNOWN, 5, &a, &err), &err);
    CHECK_OK(lr_mixture_build(&f, 6, 0, LR_MIX_KNOWN, 6, &b, &err), &err);
    same = 1;
    for (k = 0; k < a.n && k < b.n; k++) same &= a.ex[k].fact == b.ex[k].fact;
    CHECK(!same);
    lr_mixture_free(&a);
    lr_mixture_free(&b);
    CHECK_ERR(lr_mixture_build(&f, 7, 0, LR_MIX_KNOWN, 5, &a, &err), &err, "7 Unknown facts requested, only 6");
    lr_facts_free(&f);
}

static void test_probe_prompts(void)
{
    lr_facts shots;
    lr_probe_options o;
    lr_buf b = {0};
    lr_error err;
    memset(&shots, 0, sizeof shots);
    write_text(h_tmp("shots.jsonl"), "{\"question\": \"S1?\", \"answers\": [\"A1\", \"x\"]}\n"
               "{\"question\": \"S2?\", \"answers\": [\"A2\"]}\n{\"question\": \"S3?\", \"answers\": [\"A3\"]}\n");
    CHECK_OK(lr_facts_load(h_tmp("shots.jsonl"), &shots, &err), &err);
    lr_probe_options_default(&o);
    o.shots_per_prompt = 2;
    /* prompt 1 uses shots 2 and 0 (cyclic) */
    CHECK_OK(lr_probe_render(&o, &shots, 1, "Q?", &b, &err), &err);
    CHECK_STR(b.data,
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
        "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
        "Answer the following question.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nQuestion: S3?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nAnswer: A3<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nQuestion: S1?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nAnswer: A1<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nQuestion: Q?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n");
    b.len = 0;
    o.style = LR_PROMPT_PLAIN;
    CHECK_OK(lr_probe_render(&o, &shots, 0, "Q?", &b, &err), &err);
    CHECK_STR(b.data, "Answer the following question.\n\nQuestion: S1?\nAnswer: A1\n\n"
              "Question: S2?\nAnswer: A2\n\nQuestion: Q?\nAnswer:");
    /* ChatML (SmolLM2): the same messages; no default system message since
     * the prompt has its own */
    b.len = 0;
    o.style = LR_PROMPT_CHATML;
    CHECK_OK(lr_probe_render(&o, &shots, 1, "Q?", &b, &err), &err);
    CHECK_STR(b.data,
        "<|im_start|>system\nAnswer the following question.<|im_end|>\n"
        "<|im_start|>user\nQuestion: S3?<|im_end|>\n"
        "<|im_start|>assistant\nAnswer: A3<|im_end|>\n"
        "<|im_start|>user\nQuestion: S1?<|im_end|>\n"
        "<|im_start|>assistant\nAnswer: A1<|im_end|>\n"
        "<|im_start|>user\nQuestion: Q?<|im_end|>\n"
        "<|im_start|>assistant\n");
    lr_buf_free(&b);
    lr_facts_free(&shots);
}

static void test_detox_prompt(void)
{
    const char *p = h_data("synthdetoxm/few_shot_pairs.json");
    lr_detox_shots s;
    lr_buf b = {0};
    lr_error err;
    const char *raw = " a\r\nb\nc \xff";
    char *c = lr_detox_clean(raw, strlen(raw), &err);
    CHECK_STR(c, "a  b c \xEF\xBF\xBD");
    free(c);
    if (!p) SKIP("synthdetoxm missing (README.md: Getting the assets)");
    CHECK_OK(lr_detox_shots_load(p, "fr", &s, &err), &err);
    CHECK_INT(s.n, 9);
    lr_detox_shots_free(&s);
    CHECK_ERR(lr_detox_shots_load(p, "xx", &s, &err), &err, "no demonstrations for language 'xx'");
    CHECK_OK(lr_detox_shots_load(p, "de", &s, &err), &err);
    CHECK_INT(s.n, 10);
    if (s.n == 10) {
        lr_buf want = {0};
        CHECK_OK(lr_detox_render(LR_PROMPT_PLAIN, "de", &s, 1, "IN", &b, &err), &err);
        lr_buf_printf(&want, "Rewrite the following German text so that it is polite and "
                      "not toxic, keeping its meaning and its language. Reply with the "
                      "rewritten text only.\n\nToxic: %s\nNeutral: %s\n\nToxic: IN\nNeutral:",
                      s.toxic[0], s.neutral[0]);
        CHECK_STR(b.data, want.data);
        b.len = 0;
        want.len = 0;
        CHECK_OK(lr_detox_render(LR_PROMPT_CHATML, "de", &s, 1, "IN", &b, &err), &err);
        lr_buf_printf(&want, "<|im_start|>system\nRewrite the following German text so "
                      "that it is polite and not toxic, keeping its meaning and its "
                      "language. Reply with the rewritten text only.<|im_end|>\n"
                      "<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n%s<|im_end|>\n"
                      "<|im_start|>user\nIN<|im_end|>\n<|im_start|>assistant\n",
                      s.toxic[0], s.neutral[0]);
        CHECK_STR(b.data, want.data);
        lr_buf_free(&want);
    }
    lr_buf_free(&b);
    lr_detox_shots_free(&s);
}

/* lr_probe_report: the summary beside a probe's JSONL */
static void test_probe_report(void)
{
    lr_probe_options o;
    lr_probe_stats st;
    size_t counts[LR_SLICK_N] = {3, 1, 0, 6};
    lr_buf js = {0}, md = {0}, svg = {0};
    lr_error err;
    lr_probe_options_default(&o);
    memset(&st, 0, sizeof st);
    st.tokens_fed = 100;
    st.tokens_reused = 40;
    st.shot_overlaps = 2;
    CHECK_OK(lr_probe_report("m", 10, &o, counts, &st, "d/p.jsonl", &js, &md, &svg, &err),
             &err);
    CHECK(js.data && strstr(js.data, "\"categories\": {\"HighlyKnown\": 3, "
                                     "\"MaybeKnown\": 1, \"WeaklyKnown\": 0, "
                                     "\"Unknown\": 6}") != NULL);
    CHECK(js.data && strstr(js.data, "\"tokens_reused\": 40") != NULL);
    CHECK(md.data && strstr(md.data, "| Unknown | 6 | 0.6000 |") != NULL);
    CHECK(md.data && strstr(md.data, "![categories](p-categories.svg)") != NULL);
    CHECK(md.data && strstr(md.data, "Warning: 2 facts are also shot questions.") != NULL);
    CHECK(svg.data && strstr(svg.data, "<svg") != NULL);
    lr_buf_free(&js);
    lr_buf_free(&md);
    lr_buf_free(&svg);
}

/* lr_probe_summary_template: the template named by the summary beside a
 * probe's JSONL (mixture's auto template) */
static void test_probe_summary_template(void)
{
    const char *plain_json = "{\"template\": \"plain\", \"n_facts\": 1}";
    const char *chat_json = "{\"template\": \"chat\"}";
    lr_error err;
    int plain = -1;
    lr_make_dirs(h_tmp("probe_sum"));
    CHECK_OK(lr_write_file_atomic(h_tmp("probe_sum/a.json"), plain_json,
                                  strlen(plain_json), &err), &err);
    CHECK_OK(lr_write_file_atomic(h_tmp("probe_sum/b.json"), chat_json,
                                  strlen(chat_json), &err), &err);
    CHECK_INT(lr_probe_summary_template(h_tmp("probe_sum/a.jsonl"), &plain), 1);
    CHECK_INT(plain, 1);
    CHECK_INT(lr_probe_summary_template(h_tmp("probe_sum/b.jsonl"), &plain), 1);
    CHECK_INT(plain, 0);
    plain = -1;
    CHECK_INT(lr_probe_summary_template(h_tmp("probe_sum/none.jsonl"), &plain), 0);
    CHECK_INT(plain, 0);
}

int main(void)
{
    RUN(test_loglik_vs_torch);
    RUN(test_perplexity_vs_torch);
    RUN(test_mmlu_prompts);
    RUN(test_mmlu_shared_data);
    RUN(test_truthfulqa);
    RUN(test_csv_vs_python);
    RUN(test_facts_files);
    RUN(test_mixture_rules);
    RUN(test_probe_prompts);
    RUN(test_probe_summary_template);
    RUN(test_probe_report);
    RUN(test_detox_prompt);
    lr_json_free(vec_doc);
    return h_finish("test_eval");
}
