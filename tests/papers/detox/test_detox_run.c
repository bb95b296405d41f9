/* test_detox_run.c - detox_run.h called directly on the committed world
 * model (data/world): the input readers (plain lines, TSV with the
 * reference column, a short row named by line), one sampling stream per
 * (input, candidate) (the first candidate is the same whether one or two
 * are drawn; two candidates differ), chrF of the first candidate
 * recomputed with chrf.h, the JSONL and the summary; loading a run's
 * data (--limit, every shot) and writing its four files. */
#include "harness.h"

#include "llamaref/eval/chrf.h"
#include "llamaref/papers/detox/detox_run.h"
#include "llamaref/eval/lm.h"

static void put(const char *name, const char *text)
{
    lr_error err;
    CHECK_OK(lr_write_file_atomic(h_tmp(name), text, strlen(text), &err), &err);
}

/* the "output" value of the JSON line at s (up to ", \"candidate\"") */
static size_t output_of(const char *s, const char **start)
{
    const char *p = s ? strstr(s, "\"output\": ") : NULL, *e;
    if (!p) { *start = ""; return 0; }
    *start = p + 10;
    e = strstr(*start, ", \"candidate\"");
    return e ? (size_t)(e - *start) : 0;
}

static void test_inputs(void)
{
    lr_detox_input *in = NULL;
    size_t n = 0;
    lr_error err;
    put("dx_in.tsv", "id\ttoxic_sentence\tneutral_sentence\n1\tDu Idiot\tDu\n\n2\tMist\tSchade\n");
    CHECK_OK(lr_detox_inputs_read(h_tmp("dx_in.tsv"), &in, &n, &err), &err);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(in[1].src, "Mist");
        CHECK_STR(in[1].ref, "Schade");
    }
    lr_detox_inputs_free(in, n);
    put("dx_in.txt", "a b\r\n\nc\tx\n");
    CHECK_OK(lr_detox_inputs_read(h_tmp("dx_in.txt"), &in, &n, &err), &err);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(in[0].src, "a b");
        CHECK_STR(in[1].src, "c\tx");
        CHECK(in[0].ref == NULL);
    }
    lr_detox_inputs_free(in, n);
    put("dx_bad.tsv", "toxic_sentence\tneutral_sentence\nx\ty\nz\n");
    CHECK_ERR(lr_detox_inputs_read(h_tmp("dx_bad.tsv"), &in, &n, &err), &err,
              "dx_bad.tsv:3: 1 fields, the header names column 2");
}

/* lr_detox_load: shots and inputs, --limit, every shot for n_shots -1;
 * lr_detox_run_write: the four files beside the JSONL */
static void test_load_write(void)
{
    lr_detox_shots shots;
    lr_detox_input *rows = NULL;
    size_t n = 0;
    lr_detox_run_options o;
    lr_detox_run_result r;
    lr_error err;
    char *text = NULL;
    size_t len = 0;
    memset(&shots, 0, sizeof shots);
    memset(&r, 0, sizeof r);
    lr_detox_run_options_default(&o);
    CHECK_INT(o.candidates, 1);
    CHECK_INT(o.n_shots, -1);
    CHECK_INT(o.max_new, 512);
    o.lang = "de";
    put("dxl_shots.json", "{\"de\": {\"toxic\": [\"a\", \"b\"], \"neutral\": [\"c\", \"d\"]}}");
    put("dxl_in.txt", "x\ny\nz\n");
    CHECK_OK(lr_detox_load(h_tmp("dxl_shots.json"), h_tmp("dxl_in.txt"), 2, &o, &shots,
                           &rows, &n, &err), &err);
    CHECK_INT(n, 2);
    CHECK_INT(o.n_shots, 2);
    CHECK(o.shots == &shots);
    if (n == 2) CHECK_STR(rows[1].src, "y");
    lr_detox_inputs_free(rows, n);
    lr_detox_shots_free(&shots);
    CHECK_ERR(lr_detox_load(h_tmp("dxl_shots.json"), h_tmp("dxl_missing.txt"), -1, &o,
                            &shots, &rows, &n, &err), &err, "dxl_missing.txt");
    CHECK(rows == NULL && n == 0 && shots.doc == NULL);
    lr_buf_puts(&r.jsonl, "{}\n");
    lr_buf_puts(&r.json, "{\"j\": 1}\n");
    lr_buf_puts(&r.svg, "<svg/>\n");
    lr_buf_puts(&r.md, "# m\n");
    CHECK_OK(lr_detox_run_write(&r, h_tmp("dxl_out.jsonl"), &err), &err);
    CHECK_OK(lr_read_file(h_tmp("dxl_out-detox.svg"), &text, &len, &err), &err);
    CHECK_STR(text ? text : "", "<svg/>\n");
    free(text);
    CHECK_OK(lr_read_file(h_tmp("dxl_out.md"), &text, &len, &err), &err);
    CHECK_STR(text ? text : "", "# m\n");
    free(text);
    lr_detox_run_result_free(&r);
}

static void test_run(void)
{
    lr_lm lm;
    lr_detox_shots shots;
    lr_detox_input in[2];
    lr_detox_run_options o;
    lr_detox_run_result r1, r2;
    lr_error err;
    const char *nl;
    memset(&lm, 0, sizeof lm);
    lm.model_path = "data/world";
    CHECK_OK(lr_lm_load(&lm, &err), &err);
    put("dx_shots.json", "{\"de\": {\"toxic\": [\"Du Depp\"], \"neutral\": [\"Du\"]}}");
    CHECK_OK(lr_detox_shots_load(h_tmp("dx_shots.json"), "de", &shots, &err), &err);
    if (!lm.model || !shots.n) return;
    in[0].src = "Du Idiot";
    in[0].ref = "Du";
    in[1].src = "So ein Mist";
    in[1].ref = "Schade";
    memset(&o, 0, sizeof o);
    o.model_name = "data/world";
    o.inputs_name = "in";
    o.lang = "de";
    o.shots = &shots;
    o.n_shots = 1;
    o.style = LR_PROMPT_PLAIN;
    o.candidates = 2;
    o.max_new = 10;
    o.seed = 5;
    o.temperature = 1.0;
    o.top_p = 1.0;
    o.max_len = 256;
    o.out = "x/dx.jsonl";
    CHECK_OK(lr_detox_run(lm.model, &lm.tok, in, 2, &o, &r2, &err), &err);
    CHECK_INT(r2.outputs, 4);
    CHECK(r2.have_refs);
    o.candidates = 1;
    CHECK_OK(lr_detox_run(lm.model, &lm.tok, in, 2, &o, &r1, &err), &err);
    CHECK_INT(r1.outputs, 2);
    /* line 1 of the one-candidate run = line 1 of the two-candidate run
     * (input 1, candidate 0); its line 2 = line 3 there (input 2) */
    nl = r1.jsonl.data ? strchr(r1.jsonl.data, '\n') : NULL;
    CHECK(nl && r2.jsonl.data && !strncmp(r1.jsonl.data, r2.jsonl.data,
                                          (size_t)(nl - r1.jsonl.data)));
    {
        const char *a = r2.jsonl.data, *b = a ? strchr(a, '\n') + 1 : NULL;
        const char *c = b ? strchr(b, '\n') + 1 : NULL;
        /* the two candidates of input 1 were drawn from different streams */
        const char *oa, *ob;
        size_t la = output_of(a, &oa), lb = output_of(b, &ob);
        CHECK(la > 0 && lb > 0 && (la != lb || memcmp(oa, ob, la) != 0));
        CHECK(c && nl && !strncmp(c, nl + 1, strlen(nl + 1)));
    }
    CHECK(strstr(r2.md.data, "(dx-detox.svg)") != NULL);
    CHECK(strstr(r2.json.data, "\"chrf_corpus_first_candidate\"") != NULL);
    CHECK_NEAR(r1.chrf_corpus, r2.chrf_corpus, 0);
    lr_detox_run_result_free(&r1);
    lr_detox_run_result_free(&r2);
    lr_detox_shots_free(&shots);
    lr_lm_free(&lm);
}

int main(void)
{
    RUN(test_inputs);
    RUN(test_load_write);
    RUN(test_run);
    return h_finish("test_detox_run");
}
