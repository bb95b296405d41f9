/* cmd_probe.c - `llamaref probe`: the knowledge probe with SliCK
 * categories (probe.h), one JSONL record per fact plus a JSON summary, a
 * Markdown report and a category bar chart next to --out (lr_probe_save). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/core/par.h"
#include "llamaref/papers/knowledge/probe.h"

static const char head[] =
"usage: llamaref probe -m, --model PATH [--tokenizer PATH] [--adapter DIR]\n"
"                      --facts FILE [--facts FILE ...] --shots FILE\n"
"                      --out FILE.jsonl [options]\n";
static const char foot[] =
"Writes FILE.jsonl (one record per fact: question, answers, category,\n"
"greedy[], correct[], samples[], sample_correct[]), FILE.json (summary),\n"
"FILE.md and FILE-categories.svg.  Prompts: docs/evaluation.md.  SliCK\n"
"categories: Gekhman et al., \"Does Fine-Tuning LLMs on New Knowledge\n"
"Encourage Hallucinations?\", EMNLP 2024.\n";

void cli_probe_progress(long done, long total, void *ctx)
{
    const char *indent = ctx ? "  " : "";
    long every = ctx ? 500 : 100; /* a log file: a line per `every` prompts */
    if (cli_stderr_tty()) {
        fprintf(stderr, "\r%sprobe: %ld / %ld prompts", indent, done, total);
        if (done == total) fprintf(stderr, "\n");
    } else if (done == total || done % every == 0) {
        fprintf(stderr, "%sprobe: %ld / %ld prompts\n", indent, done, total);
    }
}

int cmd_probe(int argc, char **argv)
{
    cli_lm lm;
    cli_paths fl;
    const char *shots_path = NULL, *out = NULL, *template_arg = NULL;
    int rc = 1, max_len_given = 0;
    long seed, limit = -1, max_len;
    lr_probe_options o;
    lr_facts facts, shots;
    lr_probe_result *res = NULL;
    lr_probe_stats st;
    lr_error err;
    size_t k, counts[LR_SLICK_N] = {0};
    const cli_optdef opts[] = { /* in --help's order */
        CLI_LM_OPTS(lm),
        CLI_OPT("--shots", CLI_STR, &shots_path),
        CLI_HN("--max-new-tokens", CLI_INT, &o.max_new_tokens, 1, 1 << 20,
               "32: the answer's length"),
        {"--max-len", CLI_INT, &o.max_len, 1, 1 << 24, &max_len_given, NULL, "2048"},
        CLI_HN("--temperature", CLI_DBL, &o.temperature, 0, 1e30, "0.5, for the samples"),
        CLI_HN("--top-k", CLI_INT, &o.top_k, 0, 1 << 30, "0"),
        CLI_HN("--top-p", CLI_DBL_GT, &o.top_p, 0, 1, "1"),
        CLI_HN("--min-p", CLI_DBL, &o.min_p, 0, 1, "0"),
        CLI_H("--seed", CLI_SEED, &seed, "42"),
        {"--facts", CLI_FN, &fl, 0, 0, NULL, cli_paths_opt,
         "--facts FILE              facts: EntityQuestions JSON array or JSONL of\n"
         "                            {\"question\", \"answers\": [aliases]} (repeatable);\n"
         "                            --shots has the same format (first alias used)"},
        CLI_HN("--prompts", CLI_INT, &o.n_prompts, 1, 1000,
               "--prompts N               N_ex prompt variants per fact (default 10)"),
        CLI_HN("--shots-per-prompt", CLI_INT, &o.shots_per_prompt, 0, 1000,
               "--shots-per-prompt K      shots per prompt (default 4)"),
        CLI_HN("--samples", CLI_INT, &o.n_samples, 0, 10000,
               "--samples S               sampled answers per prompt (default 0: greedy)"),
        CLI_HN("--limit", CLI_LONG, &limit, 0, 0x7fffffffL,
               "--limit N                 probe only the first N facts"),
        {"--template", CLI_FN, &template_arg, 0, 0, NULL, cli_template_opt,
         "--template T              auto (default: plain for a world model or a\n"
         "                            config with \"llamaref_template\": \"plain\", else\n"
         "                            chatml when the tokenizer's GGUF chat template\n"
         "                            is ChatML, chat when it has <|eot_id|>) | chat\n"
         "                            (Llama 3.1, or ChatML) | plain; the choice goes\n"
         "                            to stderr"},
        CLI_H("--system", CLI_STR, &o.system,
              "--system TEXT             system message (default \"" LR_PROBE_SYSTEM "\")"),
        CLI_H("--out", CLI_STR, &out,
              "--out FILE.jsonl          its directory is created and checked first"),
    };

    memset(&lm, 0, sizeof lm);
    memset(&facts, 0, sizeof facts);
    memset(&shots, 0, sizeof shots);
    fl.n = 0;
    lr_probe_options_default(&o);
    seed = (long)o.seed;
    if ((rc = cli_parse_doc("probe", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                            head, foot)) >= 0)
        return rc;
    rc = 1;
    o.seed = (uint64_t)seed;
    if (!lm.model_path || !fl.n || !out || (o.shots_per_prompt > 0 && !shots_path)) {
        fprintf(stderr, "llamaref probe: --model, --facts, --shots and --out "
                "are required (see --help)\n");
        return 2;
    }
    if (cli_prepare_out("probe", out, 0)) return 1;
    if (lr_facts_load_all(fl.p, (size_t)fl.n, limit, &facts, &err) ||
        (shots_path && lr_facts_load(shots_path, &shots, &err))) {
        fprintf(stderr, "llamaref probe: %s\n", err.msg);
        goto done;
    }
    if (shots_path && !shots.n) {
        fprintf(stderr, "llamaref probe: %s has no shots\n", shots_path);
        goto done;
    }
    if (cli_lm_load(&lm, "probe")) goto done;
    max_len = o.max_len;
    if (cli_ctx_len("probe", lm.model, &max_len, max_len_given)) { rc = 2; goto done; }
    o.max_len = (int)max_len;
    if (cli_prompt_style("probe", template_arg, &lm, &o.style)) goto done;
    res = calloc(facts.n ? facts.n : 1, sizeof *res);
    if (!res) { fprintf(stderr, "llamaref probe: out of memory\n"); goto done; }
    /* under mpirun each rank probes its shard of the facts and rank 0
     * writes everything (par.h); one process: the shard is all of them */
    if (lr_probe_run_all(lm.model, &lm.tok, &facts, shots_path ? &shots : NULL, &o,
                         res, &st, lr_par_rank() == 0 ? cli_probe_progress : NULL, NULL, &err)) {
        fprintf(stderr, "%sllamaref probe: %s\n", cli_stderr_tty() ? "\n" : "", err.msg);
        goto done;
    }
    if (lr_par_rank() != 0) { rc = 0; goto done; } /* rank 0 writes */
    if (lr_probe_save(lm.model_path, &facts, res, &o, &st, out, counts, &err)) {
        fprintf(stderr, "llamaref probe: %s\n", err.msg);
        goto done;
    }
    printf("probe: %lu facts: HighlyKnown %lu, MaybeKnown %lu, WeaklyKnown %lu, "
           "Unknown %lu\n", (unsigned long)facts.n,
           (unsigned long)counts[0], (unsigned long)counts[1],
           (unsigned long)counts[2], (unsigned long)counts[3]);
    rc = 0;
done:
    if (res)
        for (k = 0; k < facts.n; k++) lr_probe_result_free(&res[k], &o);
    free(res);
    lr_facts_free(&facts);
    lr_facts_free(&shots);
    cli_lm_free(&lm);
    return rc;
}
