/* cmd_mixture.c - `llamaref mixture`: the paper's training mixtures from a
 * probed fact file (mixture.h), written as JSONL training examples. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/papers/knowledge/mixture.h"
#include "llamaref/papers/knowledge/probe.h"

static const char head[] =
"usage: llamaref mixture --facts PROBED.jsonl --unknown N [--extra K]\n"
"                        [--kind known|paraphrase] [--seed S] --out FILE.jsonl\n";
static const char foot[] =
"Each output line also has \"question\", \"answers\", \"role\" (unknown |\n"
"known | paraphrase) and \"group\".\n"
"Selection rules: docs/evaluation.md.\n";

static int kind_opt(const char *opt, const char *val, void *dst)
{
    (void)opt;
    if (!lr_mix_kind_parse(val, dst)) return 0;
    fprintf(stderr, "llamaref mixture: --kind must be known or paraphrase\n");
    return -1;
}

int cmd_mixture(int argc, char **argv)
{
    cli_paths fl;
    const char *out = NULL, *system = LR_PROBE_SYSTEM, *template_arg = "auto";
    int rc = 1, plain;
    long n_unknown = -1, k = 0, seed = 42;
    lr_mix_kind kind = LR_MIX_KNOWN;
    lr_facts facts;
    lr_mixture mx;
    lr_error err;
    lr_buf b = {0};
    size_t roles[LR_ROLE_COUNT] = {0};
    const cli_optdef opts[] = {
        {"--facts", CLI_FN, &fl, 0, 0, NULL, cli_paths_opt,
         "--facts FILE              facts with a \"category\" (the output of llamaref\n"
         "                            probe; paraphrases from a \"paraphrases\" array);\n"
         "                            repeatable"},
        CLI_HN("--unknown", CLI_LONG, &n_unknown, 0, 100000000L,
               "--unknown N               number of Unknown facts"),
        CLI_HN("--extra", CLI_LONG, &k, 0, 100000L,
               "--extra K                 extra examples per unknown fact (default 0)"),
        {"--kind", CLI_FN, &kind, 0, 0, NULL, kind_opt,
         "--kind KIND               known (HighlyKnown facts, default) or paraphrase"},
        CLI_H("--seed", CLI_SEED, &seed, "42; it selects the facts"),
        CLI_H("--system", CLI_STR, &system,
              "--system TEXT             system message of the training prompt (default\n"
              "                            \"" LR_PROBE_SYSTEM "\")"),
        {"--template", CLI_FN, &template_arg, 0, 0, NULL, cli_template_opt,
         "--template T              auto (default): the template the probe used\n"
         "                            (\"template\" in the summary FILE.json next to the\n"
         "                            first --facts), else chat; the choice is printed\n"
         "                            on stderr.  chat: \"messages\" [system, user\n"
         "                            \"Question: q\", assistant \"Answer: a\"]; plain:\n"
         "                            \"prompt\" \"{system}\\n\\nQuestion: q\\nAnswer:\" and\n"
         "                            \"completion\" \" a\" (the zero-shot form of llamaref\n"
         "                            probe's prompts, for llamaref train)"},
        CLI_H("--out", CLI_STR, &out,
              "--out FILE.jsonl          the training examples (parent directories\n"
              "                            created first)"),
    };

    memset(&facts, 0, sizeof facts);
    memset(&mx, 0, sizeof mx);
    fl.n = 0;
    if ((rc = cli_parse_doc("mixture", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                            head, foot)) >= 0)
        return rc;
    rc = 1;
    if (!fl.n || n_unknown < 0 || !out) {
        fprintf(stderr, "llamaref mixture: --facts, --unknown and --out are "
                "required (see --help)\n");
        return 2;
    }
    /* plain 1 or 0 (chat); auto: the probe's template, from its summary */
    plain = !strcmp(template_arg, "plain");
    if (!strcmp(template_arg, "auto")) {
        int found = lr_probe_summary_template(fl.p[0], &plain);
        fprintf(stderr, "llamaref mixture: template %s (auto: %s)\n",
                plain ? "plain" : "chat", found ? "the probe's, from its summary"
                                                : "no probe summary next to --facts");
    }
    if (cli_prepare_out("mixture", out, 0)) return 1;
    if (lr_facts_load_all(fl.p, (size_t)fl.n, -1, &facts, &err)) {
        fprintf(stderr, "llamaref mixture: %s\n", err.msg);
        goto done;
    }
    if (lr_mixture_build(&facts, (size_t)n_unknown, (size_t)k, kind,
                         (uint64_t)seed, &mx, &err)) {
        fprintf(stderr, "llamaref mixture: %s\n", err.msg);
        goto done;
    }
    lr_mixture_write_jsonl(&b, &mx, system, plain, roles);
    if (b.oom) { fprintf(stderr, "llamaref mixture: out of memory\n"); goto done; }
    if (cli_write("mixture", out, b.data ? b.data : "", b.len)) goto done;
    printf("mixture: %lu examples: %lu unknown, %lu known, %lu paraphrases "
           "(%lu known extras reused)\n", (unsigned long)mx.n,
           (unsigned long)roles[LR_ROLE_UNKNOWN], (unsigned long)roles[LR_ROLE_KNOWN],
           (unsigned long)roles[LR_ROLE_PARAPHRASE], (unsigned long)mx.n_reused);
    rc = 0;
done:
    lr_buf_free(&b);
    lr_mixture_free(&mx);
    lr_facts_free(&facts);
    return rc;
}
