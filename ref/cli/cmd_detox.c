/* cmd_detox.c - `llamaref detox`: few-shot rewriting of toxic sentences
 * (detox.h), one or several sampled candidates per input, newlines
 * stripped, refusals flagged (refusal.h); JSONL usable by detox-score,
 * plus a JSON summary, a Markdown report and a chart.  Parses the options,
 * runs lr_detox_run (detox_run.h) and writes its files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/papers/detox/detox_run.h"
#include "llamaref/core/par.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref detox -m, --model PATH [--tokenizer PATH] [--adapter DIR]\n"
"                      --shots few_shot_pairs.json --lang de|fr|es|ru\n"
"                      --inputs FILE --out FILE.jsonl [options]\n");
    cli_help(f, "--model", NULL);
    cli_help(f, "--tokenizer", NULL);
    cli_help(f, "--adapter", NULL);
    cli_help(f, "--keep-dtype", NULL);
    cli_help(f, "--no-check-weights", NULL);
    cli_help(f, "--shots", NULL);
    cli_help(f, "--num-shots", "all of the language; the old spelling --n-shots\n"
                "                            still works, with a warning");
    cli_help(f, "--max-new-tokens", "512");
    cli_help(f, "--max-len", "2048");
    cli_help(f, "--temperature", "0.9");
    cli_help(f, "--top-k", "0");
    cli_help(f, "--top-p", "0.9");
    cli_help(f, "--min-p", "0");
    cli_help(f, "--seed", "42");
    fprintf(f,
"  --lang L                  the language of the shots and inputs (de, fr,\n"
"                            es, ru)\n"
"  --inputs FILE             one toxic sentence per line, or a TSV with a\n"
"                            header (column toxic_sentence, else the first;\n"
"                            a neutral_sentence column becomes the reference)\n"
"  --candidates N            rewrites per input (default 1)\n"
"  --limit N                 first N inputs only\n"
"  --template T              auto (default) | chat (Llama 3.1, or ChatML for\n"
"                            a ChatML GGUF) | plain\n"
"  --out FILE.jsonl          the rewrites (parent directories created first)\n"
"Each output line: {\"source\", \"output\", \"candidate\", \"refusal\",\n"
"[\"reference\"]} (the input format of llamaref detox-score); FILE.json,\n"
"FILE.md and FILE-detox.svg summarise.  Prompt: docs/evaluation.md.\n");
}

static void progress(void *ctx, size_t done, size_t total)
{
    (void)ctx;
    fprintf(stderr, "detox: %lu / %lu\n", (unsigned long)done, (unsigned long)total);
}

int cmd_detox(int argc, char **argv)
{
    cli_lm lm;
    const char *shots_path = NULL, *lang = NULL, *inputs = NULL, *out = NULL;
    const char *template_arg = NULL;
    long candidates = 1, n_shots = -1, top_k = 0, seed = 42, max_new = 512;
    long max_len = 2048, limit = -1;
    int max_len_given = 0;
    double temperature = 0.9, top_p = 0.9, min_p = 0;
    lr_prompt_style style;
    lr_detox_shots shots;
    lr_detox_input *rows = NULL;
    size_t n_rows = 0, r;
    lr_detox_run_options o;
    lr_detox_run_result res;
    lr_error err;
    int i, rc = 1;

    memset(&lm, 0, sizeof lm);
    memset(&shots, 0, sizeof shots);
    memset(&res, 0, sizeof res);
    for (i = 1; i < argc; i++) {
        const char *a = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        int k = cli_lm_option(&lm, argc, argv, &i);
        if (k < 0) return 2;
        if (k) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--shots") && v) { shots_path = v; i++; }
        else if (!strcmp(a, "--lang") && v) { lang = v; i++; }
        else if (!strcmp(a, "--inputs") && v) { inputs = v; i++; }
        else if (!strcmp(a, "--out") && v) { out = v; i++; }
        else if (!strcmp(a, "--template") && v) { if (cli_template_arg("detox", v)) return 2; template_arg = v; i++; }
        else if (!strcmp(a, "--candidates")) { if (cli_int(a, v, 1, 1000, &candidates)) return 2; i++; }
        else if (!strcmp(a, "--num-shots")) { if (cli_int(a, v, 0, 1000, &n_shots)) return 2; i++; }
        else if (!strcmp(a, "--top-k")) { if (cli_int(a, v, 0, 1 << 30, &top_k)) return 2; i++; }
        else if (!strcmp(a, "--seed")) { if (cli_seed(a, v, &seed)) return 2; i++; }
        else if (!strcmp(a, "--max-new-tokens")) { if (cli_int(a, v, 1, 1 << 20, &max_new)) return 2; i++; }
        else if (!strcmp(a, "--max-len")) { if (cli_int(a, v, 2, 1 << 24, &max_len)) return 2; max_len_given = 1; i++; }
        else if (!strcmp(a, "--limit")) { if (cli_int(a, v, 0, 0x7fffffffL, &limit)) return 2; i++; }
        else if (!strcmp(a, "--temperature")) { if (cli_double_in(a, v, 0, 0, 1e30, 0, &temperature)) return 2; i++; }
        else if (!strcmp(a, "--top-p")) { if (cli_double_in(a, v, 0, 1, 1, 0, &top_p)) return 2; i++; }
        else if (!strcmp(a, "--min-p")) { if (cli_double_in(a, v, 0, 0, 1, 0, &min_p)) return 2; i++; }
        else return cli_bad_option("detox", a, usage);
    }
    if (!lm.model_path || !shots_path || !lang || !inputs || !out) {
        fprintf(stderr, "llamaref detox: --model, --shots, --lang, --inputs and "
                "--out are required (see --help)\n");
        return 2;
    }
    if (cli_prepare_out("detox", out, 0)) return 1;
    if (lr_detox_shots_load(shots_path, lang, &shots, &err)) {
        fprintf(stderr, "llamaref detox: %s\n", err.msg);
        goto done;
    }
    if (lr_detox_inputs_read(inputs, &rows, &n_rows, &err)) {
        fprintf(stderr, "llamaref detox: %s\n", err.msg);
        goto done;
    }
    if (limit >= 0 && (size_t)limit < n_rows) {
        for (r = (size_t)limit; r < n_rows; r++) { free(rows[r].src); free(rows[r].ref); }
        n_rows = (size_t)limit;
    }
    if (n_shots < 0 || (size_t)n_shots > shots.n) n_shots = (long)shots.n;
    if (cli_lm_load(&lm, "detox") || cli_prompt_style("detox", template_arg, &lm, &style))
        goto done;
    if (cli_ctx_len("detox", lm.model, &max_len, max_len_given)) { rc = 2; goto done; }
    o.model_name = lm.model_path;
    o.inputs_name = inputs;
    o.lang = lang;
    o.shots = &shots;
    o.n_shots = n_shots;
    o.style = style;
    o.candidates = candidates;
    o.max_new = max_new;
    o.top_k = top_k;
    o.seed = seed;
    o.temperature = temperature;
    o.top_p = top_p;
    o.min_p = min_p;
    o.max_len = (int)max_len;
    o.out = out;
    o.progress = progress;
    o.progress_ctx = NULL;
    if (lr_detox_run(lm.model, &lm.tok, rows, n_rows, &o, &res, &err)) {
        fprintf(stderr, "llamaref detox: %s\n", err.msg);
        goto done;
    }
    if (lr_par_rank() != 0) { rc = 0; goto done; } /* rank 0 writes */
    if (cli_write("detox", out, res.jsonl.data ? res.jsonl.data : "", res.jsonl.len) ||
        cli_write("detox", cli_report_path(out, ".json", 0), res.json.data, res.json.len) ||
        cli_write("detox", cli_report_path(out, "-detox.svg", 1), res.svg.data,
                  res.svg.len) ||
        cli_write("detox", cli_report_path(out, ".md", 2), res.md.data, res.md.len))
        goto done;
    printf("detox: %lu inputs, %lu outputs, %lu refusals", (unsigned long)n_rows,
           (unsigned long)res.outputs, (unsigned long)res.refusals);
    if (res.have_refs) printf(", chrF %.4f", res.chrf_corpus);
    printf("\n");
    rc = 0;
done:
    lr_detox_inputs_free(rows, n_rows);
    lr_detox_shots_free(&shots);
    lr_detox_run_result_free(&res);
    cli_lm_free(&lm);
    return rc;
}
