/* cmd_mixture.c - `llamaref mixture`: the paper's training mixtures from a
 * probed fact file (mixture.h), written as JSONL training examples. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/core/json.h"
#include "llamaref/papers/knowledge/mixture.h"
#include "llamaref/papers/knowledge/probe.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref mixture --facts PROBED.jsonl --unknown N [--extra K]\n"
"                        [--kind known|paraphrase] [--seed S] --out FILE.jsonl\n"
"  --facts FILE              facts with a \"category\" (the output of llamaref\n"
"                            probe; paraphrases from a \"paraphrases\" array);\n"
"                            repeatable\n"
"  --unknown N               number of Unknown facts\n"
"  --extra K                 extra examples per unknown fact (default 0)\n"
"  --kind KIND               known (HighlyKnown facts, default) or paraphrase\n");
    cli_help(f, "--seed", "42; it selects the facts");
    fprintf(f,
"  --system TEXT             system message of the training prompt (default\n"
"                            \"%s\")\n"
"  --template T              auto (default): the template the probe used\n"
"                            (\"template\" in the summary FILE.json next to the\n"
"                            first --facts), else chat; the choice is printed\n"
"                            on stderr.  chat: \"messages\" [system, user\n"
"                            \"Question: q\", assistant \"Answer: a\"]; plain:\n"
"                            \"prompt\" \"{system}\\n\\nQuestion: q\\nAnswer:\" and\n"
"                            \"completion\" \" a\" (the zero-shot form of llamaref\n"
"                            probe's prompts, for llamaref train)\n"
"  --out FILE.jsonl          the training examples (parent directories\n"
"                            created first)\n"
"Each output line also has \"question\", \"answers\", \"role\" (unknown |\n"
"known | paraphrase) and \"group\".\n"
"Selection rules: docs/evaluation.md.\n", LR_PROBE_SYSTEM);
}

int cmd_mixture(int argc, char **argv)
{
    const char *paths[64], *out = NULL, *system = LR_PROBE_SYSTEM;
    int n_paths = 0, i, rc = 1, plain = -1;
    long n_unknown = -1, k = 0, seed = 42;
    lr_mix_kind kind = LR_MIX_KNOWN;
    lr_facts facts;
    lr_mixture mx;
    lr_error err;
    lr_buf b = {0};
    size_t roles[LR_ROLE_COUNT] = {0};

    memset(&facts, 0, sizeof facts);
    memset(&mx, 0, sizeof mx);
    for (i = 1; i < argc; i++) {
        const char *a = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--facts") && v) {
            if (n_paths == 64) { fprintf(stderr, "llamaref mixture: too many --facts (64 at most)\n"); return 2; }
            paths[n_paths++] = v; i++;
        }
        else if (!strcmp(a, "--out") && v) { out = v; i++; }
        else if (!strcmp(a, "--system") && v) { system = v; i++; }
        else if (!strcmp(a, "--template") && v) {
            if (!strcmp(v, "plain")) plain = 1;
            else if (!strcmp(v, "chat")) plain = 0;
            else if (!strcmp(v, "auto")) plain = -1;
            else { fprintf(stderr, "llamaref mixture: --template must be auto, chat or plain\n"); return 2; }
            i++;
        }
        else if (!strcmp(a, "--kind") && v) {
            if (!strcmp(v, "known")) kind = LR_MIX_KNOWN;
            else if (!strcmp(v, "paraphrase")) kind = LR_MIX_PARAPHRASE;
            else { fprintf(stderr, "llamaref mixture: --kind must be known or paraphrase\n"); return 2; }
            i++;
        }
        else if (!strcmp(a, "--unknown")) { if (cli_int(a, v, 0, 100000000L, &n_unknown)) return 2; i++; }
        else if (!strcmp(a, "--extra")) { if (cli_int(a, v, 0, 100000L, &k)) return 2; i++; }
        else if (!strcmp(a, "--seed")) { if (cli_seed(a, v, &seed)) return 2; i++; }
        else return cli_bad_option("mixture", a, usage);
    }
    if (!n_paths || n_unknown < 0 || !out) {
        fprintf(stderr, "llamaref mixture: --facts, --unknown and --out are "
                "required (see --help)\n");
        return 2;
    }
    if (plain < 0) { /* the probe's template, from its summary */
        const char *sum = cli_report_path(paths[0], ".json", 0);
        lr_json_doc *doc = NULL;
        const lr_json *t = NULL;
        if (lr_json_parse_file(sum, &doc, &err) == 0)
            t = lr_json_get(lr_json_root(doc), "template");
        plain = t && t->type == LR_JSON_STRING && !strcmp(t->str, "plain");
        fprintf(stderr, "llamaref mixture: template %s (auto: %s)\n",
                plain ? "plain" : "chat",
                t && t->type == LR_JSON_STRING ? "the probe's, from its summary"
                                                : "no probe summary next to --facts");
        if (doc) lr_json_free(doc);
    }
    if (cli_prepare_out("mixture", out, 0)) return 1;
    for (i = 0; i < n_paths; i++)
        if (lr_facts_load(paths[i], &facts, &err)) {
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
