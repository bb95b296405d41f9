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

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref experiment knowledge -m, --model PATH [--tokenizer PATH]\n"
"           --facts FILE --shots FILE [--benchmark DIR] [--valid FILE]\n"
"           [--unknown 1,10,50,100,500] [--extra 0,1,10] [--kind known|paraphrase]\n"
"           [--seeds 42,1337,10824] [--quick] --out DIR [options]\n");
    cli_help(f, "--model", NULL);
    fprintf(f,
"                            or a world directory (docs/world.md) holding\n"
"                            qa.jsonl, shots.jsonl, benchmark/, valid.txt, the\n"
"                            tokenizer and the model: then --facts, --shots,\n"
"                            --benchmark, --valid default to it and\n"
"                            --template to plain\n");
    cli_help(f, "--tokenizer", NULL);
    fprintf(f,
"  --facts FILE              facts to probe and train on (probe.h format)\n");
    cli_help(f, "--shots", "of the probe prompts");
    fprintf(f,
"  --benchmark DIR           MMLU-layout multiple-choice CSVs\n"
"                            (DIR/test/*_test.csv, DIR/dev/*_dev.csv); accuracy\n"
"                            before and after training\n"
"  --valid FILE              held-out text; perplexity before and after\n"
"  --unknown LIST            numbers of Unknown facts trained\n"
"                            (default 1,10,50,100,500)\n"
"  --extra LIST              extra examples per unknown fact (default 0,1,10)\n"
"  --kind KIND               known (HighlyKnown facts, default) or paraphrase\n"
"  --seeds LIST              seeds of mixture selection and training\n"
"                            (default 42,1337,10824)\n"
"  --quick                   small grid: --unknown 1,10,50 --extra 0,1\n"
"                            --seeds 42 --limit 200 --prompts 4\n"
"                            --max-new-tokens 16 --bench-limit 50\n"
"                            --ppl-tokens 4096 (explicit options still win)\n"
"  --out DIR                 output directory (created)\n"
"probe:\n"
"  --prompts N               prompt variants per fact (default 10)\n"
"  --shots-per-prompt K      shots per prompt (default 4)\n");
    cli_help(f, "--max-new-tokens", "32: the answer's length");
    fprintf(f,
"  --limit N                 probe the first N facts (default all)\n"
"  --template T              auto (default) | chat | plain\n"
"train (defaults: the paper's settings; a world directory's experiment.json\n"
"may set others for lr, epochs, r, alpha, batch, dropout; options win):\n"
"  --r N                     LoRA rank (default 1)\n"
"  --alpha A                 LoRA alpha, > 0 (default 2)\n");
    cli_help(f, "--rslora", "on, the paper's");
    fprintf(f,
"  --dropout P               LoRA dropout, 0 <= P <= 1 (default 0.1)\n"
"  --targets LIST            LoRA modules (default gate_proj,up_proj,down_proj)\n"
"  --lr LR                   learning rate, > 0 (default 1e-3)\n"
"  --schedule S              linear (default), cosine or constant\n"
"  --epochs N                (default 10)\n"
"  --batch N                 (default 8)\n"
"  --max-grad-norm X         gradient clipping, >= 0 (default 1.0; 0: off)\n"
"  --weight-decay W          AdamW weight decay, >= 0 (default 0)\n"
"eval:\n"
"  --bench-shots N           benchmark few-shot examples (default 5)\n"
"  --bench-limit N           benchmark questions per subject (default all)\n"
"  --bench-format F          letter (lm-evaluation-harness mmlu, the paper's;\n"
"                            default) or continuation (mmlu_continuation);\n"
"                            experiment.json may set bench_format\n"
"  --ppl-tokens N            tokens of --valid scored (default all)\n"
"  --no-bos                  do not prepend BOS\n"
"Writes DIR/summary.json, DIR/report.md, DIR/*.svg and DIR/runs/.\n");
}


/* "1,10,50" -> values (each in [lo, hi]; lr_exp_parse_list). */
static int parse_list(const char *opt, const char *val, long lo, long hi,
                      long *out, int *n)
{
    lr_error err;
    if (!lr_exp_parse_list(opt, val, lo, hi, out, n, &err)) return 0;
    fprintf(stderr, "llamaref experiment: %s\n", err.msg);
    return -1;
}

/* The run's progress: lines on stderr, the probe's as train's (on a
 * terminal one line rewritten in place, in a log file a line per 500
 * prompts), each training's summary on stdout. */
typedef struct exp_print {
    int tty;                  /* stderr is a terminal */
    int train_tty;            /* cli_train_hooks' */
} exp_print;

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    fputs(line, stderr);
}

static void probe_progress(long done, long total, void *ctx)
{
    const exp_print *p = ctx;
    if (p->tty) {
        fprintf(stderr, "\r  probe: %ld / %ld prompts", done, total);
        if (done == total) fprintf(stderr, "\n");
    } else if (done == total || done % 500 == 0) { /* a log file */
        fprintf(stderr, "  probe: %ld / %ld prompts\n", done, total);
    }
}

static void trained(void *ctx, const lr_train_options *t, const lr_train_result *r)
{
    cli_train_done(t, r, ((const exp_print *)ctx)->train_tty);
}

static int run_knowledge(lr_exp_options *o)
{
    exp_print pr;
    lr_train_hooks th;
    lr_exp_hooks h;
    lr_exp_outcome res;
    lr_error err;
    pr.tty = cli_stderr_tty();
    cli_train_hooks(&th, &pr.train_tty);
    h.log = log_line;
    h.probe_progress = probe_progress;
    h.train = &th;
    h.trained = trained;
    h.ctx = &pr;
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
    int i;
    if (argc < 2) {
        fprintf(stderr, "llamaref experiment: an experiment is required: knowledge "
                "(see --help)\n");
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) { usage(stdout); return 0; }
    if (strcmp(argv[1], "knowledge")) {
        fprintf(stderr, "llamaref experiment: unknown experiment '%s' (knowledge)\n", argv[1]);
        return 2;
    }
    lr_exp_options_default(&o); /* the paper's settings */
    for (i = 2; i < argc; i++) {
        const char *s = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (o.n_given < (int)(sizeof o.given / sizeof o.given[0])) o.given[o.n_given++] = s;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) { usage(stdout); return 0; }
/* STR: cli_int on a missing value only prints "option X needs a value" */
#define STR(name, field) else if (!strcmp(s, name)) { if (!v) bad = cli_int(s, v, 0, 0, NULL); else { o.field = v; i++; } }
#define INT(name, field, lo, hi) else if (!strcmp(s, name)) { bad = cli_int(s, v, lo, hi, &o.field); i++; }
/* the ranges of train's (train_run.c): lo < v (lo_open) or lo <= v; the dropout <= 1 */
#define DBL(name, field, lo, lo_open) else if (!strcmp(s, name)) { \
        bad = cli_double_in(s, v, lo, lo_open, !strcmp(name, "--dropout") ? 1 : 1e30, 0, &o.field); i++; }
        STR("--model", model) STR("--tokenizer", tokenizer) STR("--facts", facts)
        STR("--shots", shots) STR("--benchmark", bench) STR("--valid", valid)
        STR("--out", out) STR("--targets", targets)
        STR("--schedule", schedule)
        INT("--shots-per-prompt", shots_per_prompt, 0, 1000)
        INT("--r", r, 1, 1 << 20) INT("--epochs", epochs, 1, 1 << 20)
        INT("--batch", batch, 1, 1 << 20) INT("--bench-shots", bench_shots, 0, 100)
        DBL("--alpha", alpha, 0, 1) DBL("--dropout", dropout, 0, 0) DBL("--lr", lr, 0, 1)
        DBL("--max-grad-norm", max_norm, 0, 0) DBL("--weight-decay", wd, 0, 0)
        else if (!strcmp(s, "--prompts")) { bad = cli_int(s, v, 1, 1000, &o.prompts); i++; }
        else if (!strcmp(s, "--max-new-tokens")) { bad = cli_int(s, v, 1, 1 << 20, &o.max_new_tokens); i++; }
        else if (!strcmp(s, "--limit")) { bad = cli_int(s, v, 1, 0x7fffffffL, &o.limit); i++; }
        else if (!strcmp(s, "--bench-limit")) { bad = cli_int(s, v, 1, 0x7fffffffL, &o.bench_limit); i++; }
        else if (!strcmp(s, "--ppl-tokens")) { bad = cli_int(s, v, 2, 0x7fffffffL, &o.ppl_tokens); i++; }
        else if (!strcmp(s, "--unknown")) { bad = parse_list(s, v, 1, 100000000L, o.unknown, &o.n_unknown); i++; }
        else if (!strcmp(s, "--extra")) { bad = parse_list(s, v, 0, 100000L, o.extra, &o.n_extra); i++; }
        else if (!strcmp(s, "--seeds")) { bad = parse_list(s, v, 0, 0x7fffffffL, o.seeds, &o.n_seeds); i++; }
        else if (!strcmp(s, "--template") && v) {
            if (cli_template_arg("experiment", v)) return 2;
            o.template_arg = v;
            i++;
        }
        else if (!strcmp(s, "--kind") && v) {
            if (lr_mix_kind_parse(v, &o.kind)) {
                fprintf(stderr, "llamaref experiment: --kind must be known or paraphrase\n");
                return 2;
            }
            i++;
        }
        else if (!strcmp(s, "--bench-format") && v) {
            if (lr_mmlu_format_parse(v, &o.bench_format)) {
                fprintf(stderr, "llamaref experiment: --bench-format must be letter or "
                        "continuation\n");
                return 2;
            }
            i++;
        }
        else if (!strcmp(s, "--rslora")) o.rslora = 1;
        else if (!strcmp(s, "--no-rslora")) o.rslora = 0;
        else if (!strcmp(s, "--no-bos")) o.bos = 0;
        else if (!strcmp(s, "--quick")) o.quick = 1;
        else return cli_bad_option("experiment", s, usage);
#undef STR
#undef INT
#undef DBL
        if (bad) return 2; /* the message is printed */
    }
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
