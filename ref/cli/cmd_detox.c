/* cmd_detox.c - `llamaref detox`: few-shot rewriting of toxic sentences
 * (detox.h), one or several sampled candidates per input, newlines
 * stripped, refusals flagged (refusal.h); JSONL usable by detox-score,
 * plus a JSON summary, a Markdown report and a chart.  Parses the options,
 * runs lr_detox_run (detox_run.h) and writes its files. */
#include <stdio.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/papers/detox/detox_run.h"
#include "llamaref/core/par.h"

static const char head[] =
"usage: llamaref detox -m, --model PATH [--tokenizer PATH] [--adapter DIR]\n"
"                      --shots few_shot_pairs.json --lang de|fr|es|ru\n"
"                      --inputs FILE --out FILE.jsonl [options]\n";
static const char foot[] =
"Each output line: {\"source\", \"output\", \"candidate\", \"refusal\",\n"
"[\"reference\"]} (the input format of llamaref detox-score); FILE.json,\n"
"FILE.md and FILE-detox.svg summarise.  Prompt: docs/evaluation.md.\n";

static void progress(void *ctx, size_t done, size_t total)
{
    (void)ctx;
    fprintf(stderr, "detox: %lu / %lu\n", (unsigned long)done, (unsigned long)total);
}

int cmd_detox(int argc, char **argv)
{
    cli_lm lm = {0};
    const char *shots_path = NULL, *inputs = NULL, *template_arg = NULL;
    long max_len = 2048, limit = -1;
    int max_len_given = 0, rc;
    lr_detox_shots shots = {0};
    lr_detox_input *rows = NULL;
    size_t n_rows = 0;
    lr_detox_run_options o;
    lr_detox_run_result res = {0};
    lr_error err;
    const cli_optdef opts[] = { /* in --help's order */
        CLI_LM_OPTS(lm),
        CLI_OPT("--shots", CLI_STR, &shots_path),
        CLI_HN("--num-shots", CLI_LONG, &o.n_shots, 0, 1000,
               "all of the language; the old spelling --n-shots\n"
               "                            still works, with a warning"),
        CLI_HN("--max-new-tokens", CLI_LONG, &o.max_new, 1, 1 << 20, "512"),
        {"--max-len", CLI_LONG, &max_len, 2, 1 << 24, &max_len_given, NULL, "2048"},
        CLI_HN("--temperature", CLI_DBL, &o.temperature, 0, 1e30, "0.9"),
        CLI_HN("--top-k", CLI_LONG, &o.top_k, 0, 1 << 30, "0"),
        CLI_HN("--top-p", CLI_DBL_GT, &o.top_p, 0, 1, "0.9"),
        CLI_HN("--min-p", CLI_DBL, &o.min_p, 0, 1, "0"),
        CLI_H("--seed", CLI_SEED, &o.seed, "42"),
        CLI_H("--lang", CLI_STR, &o.lang,
              "--lang L                  the language of the shots and inputs (de, fr,\n"
              "                            es, ru)"),
        CLI_H("--inputs", CLI_STR, &inputs,
              "--inputs FILE             one toxic sentence per line, or a TSV with a\n"
              "                            header (column toxic_sentence, else the first;\n"
              "                            a neutral_sentence column becomes the reference)"),
        CLI_HN("--candidates", CLI_LONG, &o.candidates, 1, 1000,
               "--candidates N            rewrites per input (default 1)"),
        CLI_HN("--limit", CLI_LONG, &limit, 0, 0x7fffffffL,
               "--limit N                 first N inputs only"),
        {"--template", CLI_FN, &template_arg, 0, 0, NULL, cli_template_opt,
         "--template T              auto (default) | chat (Llama 3.1, or ChatML for\n"
         "                            a ChatML GGUF) | plain"},
        CLI_H("--out", CLI_STR, &o.out,
              "--out FILE.jsonl          the rewrites (parent directories created first)"),
    };

    lr_detox_run_options_default(&o); /* the defaults of --help */
    if ((rc = cli_parse_doc("detox", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                            head, foot)) >= 0)
        return rc;
    rc = 1;
    if (!lm.model_path || !shots_path || !o.lang || !inputs || !o.out) {
        fprintf(stderr, "llamaref detox: --model, --shots, --lang, --inputs and "
                "--out are required (see --help)\n");
        return 2;
    }
    if (cli_prepare_out("detox", o.out, 0)) return 1;
    if (lr_detox_load(shots_path, inputs, limit, &o, &shots, &rows, &n_rows, &err))
        goto fail;
    if (cli_lm_load(&lm, "detox") || cli_prompt_style("detox", template_arg, &lm, &o.style))
        goto done;
    if (cli_ctx_len("detox", lm.model, &max_len, max_len_given)) { rc = 2; goto done; }
    o.model_name = lm.model_path;
    o.max_len = (int)max_len;
    o.progress = progress;
    if (lr_detox_run(lm.model, &lm.tok, rows, n_rows, &o, &res, &err)) goto fail;
    if (lr_par_rank() != 0) { rc = 0; goto done; } /* rank 0 writes */
    if (lr_detox_run_write(&res, o.out, &err)) goto fail;
    printf("detox: %lu inputs, %lu outputs, %lu refusals", (unsigned long)n_rows,
           (unsigned long)res.outputs, (unsigned long)res.refusals);
    if (res.have_refs) printf(", chrF %.4f", res.chrf_corpus);
    printf("\n");
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "llamaref detox: %s\n", err.msg);
done:
    lr_detox_inputs_free(rows, n_rows);
    lr_detox_shots_free(&shots);
    lr_detox_run_result_free(&res);
    cli_lm_free(&lm);
    return rc;
}
