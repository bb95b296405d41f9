/* cmd_probe.c - `llamaref probe`: the knowledge probe with SliCK
 * categories (probe.h), one JSONL record per fact plus a JSON summary, a
 * Markdown report and a category bar chart next to --out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/core/json.h"
#include "llamaref/core/par.h"
#include "llamaref/papers/knowledge/probe.h"
#include "llamaref/core/svg.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref probe -m, --model PATH [--tokenizer PATH] [--adapter DIR]\n"
"                      --facts FILE [--facts FILE ...] --shots FILE\n"
"                      --out FILE.jsonl [options]\n");
    cli_help(f, "--model", NULL);
    cli_help(f, "--tokenizer", NULL);
    cli_help(f, "--adapter", NULL);
    cli_help(f, "--keep-dtype", NULL);
    cli_help(f, "--no-check-weights", NULL);
    cli_help(f, "--shots", NULL);
    cli_help(f, "--max-new-tokens", "32: the answer's length");
    cli_help(f, "--max-len", "2048");
    cli_help(f, "--temperature", "0.5, for the samples");
    cli_help(f, "--top-k", "0");
    cli_help(f, "--top-p", "1");
    cli_help(f, "--min-p", "0");
    cli_help(f, "--seed", "42");
    fprintf(f,
"  --facts FILE              facts: EntityQuestions JSON array or JSONL of\n"
"                            {\"question\", \"answers\": [aliases]} (repeatable);\n"
"                            --shots has the same format (first alias used)\n"
"  --prompts N               N_ex prompt variants per fact (default 10)\n"
"  --shots-per-prompt K      shots per prompt (default 4)\n"
"  --samples S               sampled answers per prompt (default 0: greedy)\n"
"  --limit N                 probe only the first N facts\n"
"  --template T              auto (default: plain for a world model or a\n"
"                            config with \"llamaref_template\": \"plain\", else\n"
"                            chatml when the tokenizer's GGUF chat template\n"
"                            is ChatML, chat when it has <|eot_id|>) | chat\n"
"                            (Llama 3.1, or ChatML) | plain; the choice goes\n"
"                            to stderr\n"
"  --system TEXT             system message (default \"%s\")\n"
"  --out FILE.jsonl          its directory is created and checked first\n"
"Writes FILE.jsonl (one record per fact: question, answers, category,\n"
"greedy[], correct[], samples[], sample_correct[]), FILE.json (summary),\n"
"FILE.md and FILE-categories.svg.  Prompts: docs/evaluation.md.  SliCK\n"
"categories: Gekhman et al., \"Does Fine-Tuning LLMs on New Knowledge\n"
"Encourage Hallucinations?\", EMNLP 2024.\n",
            LR_PROBE_SYSTEM);
}

/* One rank's share of a probe's figures (gathered to rank 0). */
typedef struct probe_part {
    lr_probe_stats st;
    size_t counts[LR_SLICK_N];
} probe_part;

static void progress(long done, long total, void *ctx)
{
    (void)ctx;
    if (cli_stderr_tty()) {
        fprintf(stderr, "\rprobe: %ld / %ld prompts", done, total);
        if (done == total) fprintf(stderr, "\n");
    } else if (done == total || done % 100 == 0) { /* a log file: a line per 100 */
        fprintf(stderr, "probe: %ld / %ld prompts\n", done, total);
    }
}

int cmd_probe(int argc, char **argv)
{
    cli_lm lm;
    const char *facts_paths[64], *shots_path = NULL, *out = NULL;
    const char *template_arg = NULL;
    int n_facts_paths = 0, i, rc = 1, max_len_given = 0;
    long v, limit = -1, max_len;
    lr_probe_options o;
    lr_facts facts, shots;
    lr_probe_result *res = NULL;
    lr_probe_stats st;
    lr_error err;
    lr_buf b = {0}, md = {0}, svg = {0};
    size_t k, counts[LR_SLICK_N] = {0};

    memset(&lm, 0, sizeof lm);
    memset(&facts, 0, sizeof facts);
    memset(&shots, 0, sizeof shots);
    lr_probe_options_default(&o);
    for (i = 1; i < argc; i++) {
        const char *a = cli_opt(argv[i]), *val = i + 1 < argc ? argv[i + 1] : NULL;
        int r = cli_lm_option(&lm, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--facts") && val) {
            if (n_facts_paths == 64) { fprintf(stderr, "llamaref probe: too many --facts\n"); return 2; }
            facts_paths[n_facts_paths++] = val; i++;
        }
        else if (!strcmp(a, "--shots") && val) { shots_path = val; i++; }
        else if (!strcmp(a, "--out") && val) { out = val; i++; }
        else if (!strcmp(a, "--template") && val) { if (cli_template_arg("probe", val)) return 2; template_arg = val; i++; }
        else if (!strcmp(a, "--system") && val) { o.system = val; i++; }
        else if (!strcmp(a, "--prompts")) { if (cli_int(a, val, 1, 1000, &v)) return 2; o.n_prompts = (int)v; i++; }
        else if (!strcmp(a, "--shots-per-prompt")) { if (cli_int(a, val, 0, 1000, &v)) return 2; o.shots_per_prompt = (int)v; i++; }
        else if (!strcmp(a, "--samples")) { if (cli_int(a, val, 0, 10000, &v)) return 2; o.n_samples = (int)v; i++; }
        else if (!strcmp(a, "--max-new-tokens")) { if (cli_int(a, val, 1, 1 << 20, &v)) return 2; o.max_new_tokens = (int)v; i++; }
        else if (!strcmp(a, "--max-len")) { if (cli_int(a, val, 1, 1 << 24, &v)) return 2; o.max_len = (int)v; max_len_given = 1; i++; }
        else if (!strcmp(a, "--limit")) { if (cli_int(a, val, 0, 0x7fffffffL, &limit)) return 2; i++; }
        else if (!strcmp(a, "--top-k")) { if (cli_int(a, val, 0, 1 << 30, &v)) return 2; o.top_k = (int)v; i++; }
        else if (!strcmp(a, "--seed")) { if (cli_seed(a, val, &v)) return 2; o.seed = (uint64_t)v; i++; }
        else if (!strcmp(a, "--temperature")) { if (cli_double_in(a, val, 0, 0, 1e30, 0, &o.temperature)) return 2; i++; }
        else if (!strcmp(a, "--top-p")) { if (cli_double_in(a, val, 0, 1, 1, 0, &o.top_p)) return 2; i++; }
        else if (!strcmp(a, "--min-p")) { if (cli_double_in(a, val, 0, 0, 1, 0, &o.min_p)) return 2; i++; }
        else return cli_bad_option("probe", a, usage);
    }
    if (!lm.model_path || !n_facts_paths || !out || (o.shots_per_prompt > 0 && !shots_path)) {
        fprintf(stderr, "llamaref probe: --model, --facts, --shots and --out "
                "are required (see --help)\n");
        return 2;
    }
    if (cli_prepare_out("probe", out, 0)) return 1;
    for (i = 0; i < n_facts_paths; i++)
        if (lr_facts_load(facts_paths[i], &facts, &err)) {
            fprintf(stderr, "llamaref probe: %s\n", err.msg);
            goto done;
        }
    if (shots_path && lr_facts_load(shots_path, &shots, &err)) {
        fprintf(stderr, "llamaref probe: %s\n", err.msg);
        goto done;
    }
    if (shots_path && !shots.n) {
        fprintf(stderr, "llamaref probe: %s has no shots\n", shots_path);
        goto done;
    }
    if (limit >= 0) lr_facts_truncate(&facts, (size_t)limit);
    if (cli_lm_load(&lm, "probe")) goto done;
    max_len = o.max_len;
    if (cli_ctx_len("probe", lm.model, &max_len, max_len_given)) { rc = 2; goto done; }
    o.max_len = (int)max_len;
    if (cli_prompt_style("probe", template_arg, &lm, &o.style)) goto done;
    res = calloc(facts.n ? facts.n : 1, sizeof *res);
    if (!res) { fprintf(stderr, "llamaref probe: out of memory\n"); goto done; }
    /* under mpirun each rank probes its shard of the facts and rank 0
     * writes everything (par.h); one process: the shard is all of them */
    {
        long i0, i1;
        lr_facts mine = facts;
        char *all = NULL, *parts = NULL;
        size_t all_n = 0, parts_n = 0, t;
        probe_part part;
        lr_par_shard((long)facts.n, &i0, &i1);
        if (lr_probe_run_range(lm.model, &lm.tok, &facts,
                               shots_path ? &shots : NULL, &o, (size_t)i0,
                               (size_t)i1, res, &st,
                               lr_par_rank() == 0 ? progress : NULL, NULL, &err)) {
            fprintf(stderr, "%sllamaref probe: %s\n", cli_stderr_tty() ? "\n" : "", err.msg);
            goto done;
        }
        /* the shard's JSONL records, counts and statistics; rank 0 gets
         * every rank's in rank order = fact order */
        mine.items += i0;
        mine.n = (size_t)(i1 - i0);
        memset(&part, 0, sizeof part);
        lr_probe_write_jsonl(&b, &mine, res + i0, &o, part.counts);
        part.st = st;
        if (b.oom) { fprintf(stderr, "llamaref probe: out of memory\n"); goto done; }
        if (lr_par_gather_bytes(b.data ? b.data : "", b.len, &all, &all_n, &err) ||
            lr_par_gather_bytes(&part, sizeof part, &parts, &parts_n, &err)) {
            free(all);
            fprintf(stderr, "llamaref probe: %s\n", err.msg);
            goto done;
        }
        if (lr_par_rank() != 0) { rc = 0; goto done; } /* rank 0 writes */
        memset(&st, 0, sizeof st);
        for (t = 0; t + sizeof part <= parts_n; t += sizeof part) {
            memcpy(&part, parts + t, sizeof part);
            st.prompts += part.st.prompts;
            st.tokens_fed += part.st.tokens_fed;
            st.tokens_reused += part.st.tokens_reused;
            st.shot_overlaps += part.st.shot_overlaps;
            for (k = 0; k < LR_SLICK_N; k++) counts[k] += part.counts[k];
        }
        free(parts);
        b.len = 0;
        lr_buf_append(&b, all, all_n);
        free(all);
    }
    if (b.oom || cli_write("probe", out, b.data ? b.data : "", b.len)) goto done;
    /* summary JSON, chart, Markdown */
    b.len = 0;
    if (lr_probe_report(lm.model_path, facts.n, &o, counts, &st, out, &b, &md, &svg,
                        &err)) {
        fprintf(stderr, "llamaref probe: %s\n", err.msg);
        goto done;
    }
    if (cli_write("probe", cli_report_path(out, ".json", 0), b.data, b.len) ||
        cli_write("probe", cli_report_path(out, "-categories.svg", 1), svg.data,
                  svg.len) ||
        cli_write("probe", cli_report_path(out, ".md", 2), md.data, md.len))
        goto done;
    printf("probe: %lu facts: HighlyKnown %lu, MaybeKnown %lu, WeaklyKnown %lu, "
           "Unknown %lu\n", (unsigned long)facts.n,
           (unsigned long)counts[0], (unsigned long)counts[1],
           (unsigned long)counts[2], (unsigned long)counts[3]);
    rc = 0;
done:
    if (res)
        for (k = 0; k < facts.n; k++) lr_probe_result_free(&res[k], &o);
    free(res);
    lr_buf_free(&b);
    lr_buf_free(&md);
    lr_buf_free(&svg);
    lr_facts_free(&facts);
    lr_facts_free(&shots);
    cli_lm_free(&lm);
    return rc;
}
