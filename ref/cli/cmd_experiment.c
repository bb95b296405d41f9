/* cmd_experiment.c - `llamaref experiment knowledge`: the knowledge-
 * injection experiment of Pletenev et al. 2025 end to end
 * (docs/experiments.md, experiment 1; docs/experiment.md).  Parses the
 * options into lr_exp_options and runs lr_exp_knowledge
 * (experiment_knowledge.h), printing its progress on stderr, each
 * training's summary line and the closing line on stdout. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/core/par.h"
#include "llamaref/papers/knowledge/experiment_knowledge.h"
#include "llamaref/train/train_run.h"

static const char head[] =
"usage: llamaref experiment knowledge -m, --model PATH [--tokenizer PATH]\n"
"           --facts FILE --shots FILE [--benchmark DIR] [--valid FILE]\n"
"           [--unknown 1,10,50,100,500] [--extra 0,1,10] [--kind known|paraphrase]\n"
"           [--seeds 42,1337,10824] [--quick] --out DIR [options]\n";
static const char foot[] =
"Writes DIR/summary.json, DIR/report.md, DIR/*.svg and DIR/runs/.\n";

/* --unknown, --extra, --seeds, --kind, --bench-format: dst is the
 * lr_exp_options (lr_exp_value_option knows their values) */
static int value_opt(const char *opt, const char *val, void *dst)
{
    lr_error err;
    if (!lr_exp_value_option(dst, opt, val, &err)) return 0;
    fprintf(stderr, "llamaref experiment: %s\n", err.msg);
    return -1;
}

/* The run's progress: lines on stderr, the probe's as probe's indented
 * (cli_probe_progress), each training's summary on stdout; ctx is the
 * train's tty flag (cli_train_hooks'). */
static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    fputs(line, stderr);
}

static void trained(void *ctx, const lr_train_options *t, const lr_train_result *r)
{
    cli_train_done(t, r, *(const int *)ctx);
}

static int run_knowledge(lr_exp_options *o)
{
    int tty;
    lr_train_hooks th;
    lr_exp_hooks h;
    lr_exp_outcome res;
    lr_error err;
    cli_train_hooks(&th, &tty);
    h.log = log_line;
    h.probe_progress = cli_probe_progress;
    h.train = &th;
    h.trained = trained;
    h.ctx = &tty; /* not NULL: cli_probe_progress indents */
    if (lr_exp_knowledge(o, &h, &res, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        return 1;
    }
    if (lr_par_rank() == 0) /* rank 0 reports */
        printf("experiment: %lu runs (%lu skipped); report %s/report.md, summary "
               "%s/summary.json\n", (unsigned long)res.n_runs,
               (unsigned long)res.skipped, o->out, o->out);
    return 0;
}

int cmd_experiment(int argc, char **argv)
{
    lr_exp_options o;
    lr_error err;
    int rc;
    size_t k, n;
    /* in --help's order; the ranges of train's (train_run.c); a group's
     * heading ends the help of the option before it */
    cli_optdef opts[] = {
        CLI_H("--model", CLI_STR, &o.model,
              "-m, --model PATH          HF model directory, GGUF file (.gguf) or\n"
              "                            llama2.c checkpoint (.bin)\n"
              "                            or a world directory (docs/world.md) holding\n"
              "                            qa.jsonl, shots.jsonl, benchmark/, valid.txt, the\n"
              "                            tokenizer and the model: then --facts, --shots,\n"
              "                            --benchmark, --valid default to it and\n"
              "                            --template to plain"),
        CLI_OPT("--tokenizer", CLI_STR, &o.tokenizer),
        CLI_H("--facts", CLI_STR, &o.facts,
              "--facts FILE              facts to probe and train on (probe.h format)"),
        CLI_H("--shots", CLI_STR, &o.shots, "of the probe prompts"),
        CLI_H("--benchmark", CLI_STR, &o.bench,
              "--benchmark DIR           MMLU-layout multiple-choice CSVs\n"
              "                            (DIR/test/*_test.csv, DIR/dev/*_dev.csv); accuracy\n"
              "                            before and after training"),
        CLI_H("--valid", CLI_STR, &o.valid,
              "--valid FILE              held-out text; perplexity before and after"),
        {"--unknown", CLI_FN, &o, 0, 0, NULL, value_opt,
         "--unknown LIST            numbers of Unknown facts trained\n"
         "                            (default 1,10,50,100,500)"},
        {"--extra", CLI_FN, &o, 0, 0, NULL, value_opt,
         "--extra LIST              extra examples per unknown fact (default 0,1,10)"},
        {"--kind", CLI_FN, &o, 0, 0, NULL, value_opt,
         "--kind KIND               known (HighlyKnown facts, default) or paraphrase"},
        {"--seeds", CLI_FN, &o, 0, 0, NULL, value_opt,
         "--seeds LIST              seeds of mixture selection and training\n"
         "                            (default 42,1337,10824)"},
        CLI_H("--quick", CLI_FLAG, &o.quick,
              "--quick                   small grid: --unknown 1,10,50 --extra 0,1\n"
              "                            --seeds 42 --limit 200 --prompts 4\n"
              "                            --max-new-tokens 16 --bench-limit 50\n"
              "                            --ppl-tokens 4096 (explicit options still win)"),
        CLI_H("--out", CLI_STR, &o.out,
              "--out DIR                 output directory (created)\n"
              "probe:"),
        CLI_HN("--prompts", CLI_LONG, &o.prompts, 1, 1000,
               "--prompts N               prompt variants per fact (default 10)"),
        CLI_HN("--shots-per-prompt", CLI_LONG, &o.shots_per_prompt, 0, 1000,
               "--shots-per-prompt K      shots per prompt (default 4)"),
        CLI_HN("--max-new-tokens", CLI_LONG, &o.max_new_tokens, 1, 1 << 20,
               "32: the answer's length"),
        CLI_HN("--limit", CLI_LONG, &o.limit, 1, 0x7fffffffL,
               "--limit N                 probe the first N facts (default all)"),
        {"--template", CLI_FN, &o.template_arg, 0, 0, NULL, cli_template_opt,
         "--template T              auto (default) | chat | plain\n"
         "train (defaults: the paper's settings; a world directory's experiment.json\n"
         "may set others for lr, epochs, r, alpha, batch, dropout; options win):"},
        CLI_HN("--r", CLI_LONG, &o.r, 1, 1 << 20,
               "--r N                     LoRA rank (default 1)"),
        {"--alpha", CLI_DBL_GT, &o.alpha, 0, 1e30, NULL, NULL,
         "--alpha A                 LoRA alpha, > 0 (default 2)"},
        CLI_H("--rslora", CLI_FLAG, &o.rslora, "on, the paper's"),
        CLI_H("--no-rslora", CLI_UNFLAG, &o.rslora, ""),
        CLI_HN("--dropout", CLI_DBL, &o.dropout, 0, 1,
               "--dropout P               LoRA dropout, 0 <= P <= 1 (default 0.1)"),
        CLI_H("--targets", CLI_STR, &o.targets,
              "--targets LIST            LoRA modules (default gate_proj,up_proj,down_proj)"),
        CLI_HN("--lr", CLI_DBL_GT, &o.lr, 0, 1e30,
               "--lr LR                   learning rate, > 0 (default 1e-3)"),
        CLI_H("--schedule", CLI_STR, &o.schedule,
              "--schedule S              linear (default), cosine or constant"),
        CLI_HN("--epochs", CLI_LONG, &o.epochs, 1, 1 << 20,
               "--epochs N                (default 10)"),
        CLI_HN("--batch", CLI_LONG, &o.batch, 1, 1 << 20,
               "--batch N                 (default 8)"),
        CLI_HN("--max-grad-norm", CLI_DBL, &o.max_norm, 0, 1e30,
               "--max-grad-norm X         gradient clipping, >= 0 (default 1.0; 0: off)"),
        CLI_HN("--weight-decay", CLI_DBL, &o.wd, 0, 1e30,
               "--weight-decay W          AdamW weight decay, >= 0 (default 0)\n"
               "eval:"),
        CLI_HN("--bench-shots", CLI_LONG, &o.bench_shots, 0, 100,
               "--bench-shots N           benchmark few-shot examples (default 5)"),
        CLI_HN("--bench-limit", CLI_LONG, &o.bench_limit, 1, 0x7fffffffL,
               "--bench-limit N           benchmark questions per subject (default all)"),
        {"--bench-format", CLI_FN, &o, 0, 0, NULL, value_opt,
         "--bench-format F          letter (lm-evaluation-harness mmlu, the paper's;\n"
         "                            default) or continuation (mmlu_continuation);\n"
         "                            experiment.json may set bench_format"},
        CLI_HN("--ppl-tokens", CLI_LONG, &o.ppl_tokens, 2, 0x7fffffffL,
               "--ppl-tokens N            tokens of --valid scored (default all)"),
        CLI_H("--no-bos", CLI_UNFLAG, &o.bos,
              "--no-bos                  do not prepend BOS"),
    };
    int seen[sizeof opts / sizeof opts[0]] = {0};
    n = sizeof opts / sizeof opts[0];
    if (argc < 2) {
        fprintf(stderr, "llamaref experiment: an experiment is required: knowledge "
                "(see --help)\n");
        return 2;
    }
    if (strcmp(argv[1], "-h") && strcmp(argv[1], "--help") && strcmp(argv[1], "knowledge")) {
        fprintf(stderr, "llamaref experiment: unknown experiment '%s' (knowledge)\n", argv[1]);
        return 2;
    }
    lr_exp_options_default(&o); /* the paper's settings */
    for (k = 0; k < n; k++) opts[k].given = &seen[k];
    /* argv[1] "-h": cli_parse_doc prints --help */
    if ((rc = cli_parse_doc("experiment", argc, argv, strcmp(argv[1], "knowledge") ? 1 : 2,
                            opts, n, head, foot)) >= 0)
        return rc;
    for (k = 0; k < n; k++) /* what a world's experiment.json does not override */
        if (seen[k]) o.given[o.n_given++] = opts[k].name;
    if (o.quick) lr_exp_options_quick(&o);
    if (lr_exp_resolve_world(&o, &err) < 0) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        return 1;
    }
    if (lr_exp_options_check(&o, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        return 2;
    }
    return run_knowledge(&o);
}
