/* cmd_eval.c - `llamaref eval mmlu|truthfulqa|ppl`: log-likelihood
 * benchmarks as lm-evaluation-harness defines them (mmlu.h, truthfulqa.h)
 * and perplexity, all scored through loglik.h (the trainer's loss).
 * Parses the options, runs the task (eval_run.h), writes its reports and
 * prints the summary line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/eval/eval_run.h"
#include "llamaref/eval/loglik.h"
#include "llamaref/eval/mmlu.h"
#include "llamaref/core/par.h"

static const char head[] =
"usage: llamaref eval mmlu       -m, --model PATH [--adapter DIR] --data DIR\n"
"                                [--num-shots 5] [--limit N] [--subjects a,b]\n"
"                                [--format letter|continuation]\n"
"       llamaref eval truthfulqa -m, --model PATH [--adapter DIR] --data FILE\n"
"                                [--limit N]\n"
"       llamaref eval ppl        -m, --model PATH [--adapter DIR] --data FILE\n"
"                                [--window W] [--stride S] [--verbose]\n"
"                     prints \"PPL = X +/- Y\" as llama.cpp's perplexity tool\n"
"                     (Y = X times the standard error of the mean token\n"
"                     NLL); --verbose: the running value after each window\n"
"common options:\n";
static const char foot[] = "Prompts and scoring: docs/evaluation.md.\n";

typedef struct eval_opts {
    cli_lm lm;
    lr_eval_options e;        /* what the library run needs */
    const char *out, *items, *requests;
    long max_len;
    int verbose;
} eval_opts;

/* --verbose: the running perplexity after each window, as llama.cpp's
 * perplexity tool prints its chunks ("[k]ppl") */
static void ppl_window(void *ctx, int k, double nll, long count)
{
    (void)ctx;
    if (count) fprintf(stderr, "[%d]%.4f\n", k + 1, exp(nll / (double)count));
}

static void subject_done(void *ctx, const char *subj, size_t n, double acc,
                         double acc_norm)
{
    (void)ctx;
    fprintf(stderr, "mmlu %-40s %4lu questions  acc %.4f  acc_norm %.4f\n", subj,
            (unsigned long)n, acc, acc_norm);
}

static void questions_done(void *ctx, size_t done, size_t total)
{
    (void)ctx;
    fprintf(stderr, "truthfulqa: %lu / %lu\n", (unsigned long)done, (unsigned long)total);
}

/* the task through the library, then its files and the summary line */
static int run_task(eval_opts *o, const char *task, lr_loglik *L)
{
    lr_eval_report r;
    lr_error err;
    const char *svg = lr_eval_chart_suffix(task);
    lr_buf sum = {0};
    int rc;
    o->e.chart_name = o->out ? lr_basename(cli_report_path(o->out, svg, 1)) : "";
    o->e.want_items = o->items != NULL;
    if (lr_eval_task(task, L, &o->lm.tok, &o->e, &r, &err)) {
        fprintf(stderr, "llamaref eval %s: %s\n", task, err.msg);
        lr_eval_report_free(&r);
        return -1;
    }
    if (lr_par_rank() != 0) { lr_eval_report_free(&r); return 0; } /* rank 0 writes */
    /* FILE.json, its chart and FILE.md, the --items file */
    if ((rc = lr_eval_report_write(task, &r, o->out, o->items, &err)) != 0)
        fprintf(stderr, "llamaref eval: %s\n", err.msg);
    if (rc == 0) lr_eval_summary(task, &o->e, &r, &sum);
    if (sum.len) fputs(sum.data, stdout);
    lr_buf_free(&sum);
    lr_eval_report_free(&r);
    return rc;
}

/* --requests: the requests of every question, no model loaded */
static int write_requests(const eval_opts *o, const char *task)
{
    lr_buf out = {0};
    lr_error err;
    int rc = lr_eval_requests(task, &o->e, &out, &err);
    if (rc) fprintf(stderr, "llamaref eval %s: %s\n", task, err.msg);
    else if (lr_par_rank() == 0) /* rank 0 has every line (eval_run.h) */
        rc = cli_write("eval", o->requests, out.data ? out.data : "", out.len);
    lr_buf_free(&out);
    return rc;
}

/* the deprecated --text FILE: --data FILE */
static int text_opt(const char *opt, const char *val, void *dst)
{
    (void)opt;
    fprintf(stderr, "llamaref eval: warning: --text is deprecated, use --data\n");
    *(const char **)dst = val;
    return 0;
}

static int format_opt(const char *opt, const char *val, void *dst)
{
    (void)opt;
    if (!lr_mmlu_format_parse(val, dst)) return 0;
    fprintf(stderr, "llamaref eval: --format '%s' (letter, continuation)\n", val);
    return -1;
}

/* --shots is a file of examples elsewhere (probe, detox); here the old
 * spelling of --num-shots N */
static int shots_opt(const char *opt, const char *val, void *dst)
{
    if (cli_int(opt, val, 0, 1000, dst)) return -1;
    fprintf(stderr, "llamaref eval: warning: --shots N is deprecated, "
            "use --num-shots N (--shots names a file of examples)\n");
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o;
    lr_loglik L;
    lr_error err;
    const char *task;
    int rc = 1, format_given = 0, max_len_given = 0;
    const cli_optdef opts[] = { /* in --help's order; a section title ends a line */
        CLI_LM_OPTS(o.lm),
        CLI_OPT("--data", CLI_STR, &o.e.data),
        CLI_HN("--num-shots", CLI_LONG, &o.e.shots, 0, 1000,
               "5 (MMLU); the old spelling --shots N still works,\n"
               "                            with a warning"),
        {"--shots", CLI_FN, &o.e.shots, 0, 0, NULL, shots_opt, ""},
        {"--max-len", CLI_LONG, &o.max_len, 2, 1 << 24, &max_len_given, NULL,
         "2048, lm-evaluation-harness's"},
        CLI_H("--no-bos", CLI_UNFLAG, &o.e.bos,
              "--no-bos                  do not prepend BOS (default: prepend, as HF\n"
              "                            Llama tokenizers do)"),
        CLI_H("--out", CLI_STR, &o.out,
              "--out FILE.json           summary (with lm-evaluation-harness 0.4's\n"
              "                            \"acc,none\" / \"acc_stderr,none\"); also FILE.md\n"
              "                            and FILE-*.svg; checked before any work"),
        CLI_H("--items", CLI_STR, &o.items,
              "--items FILE.jsonl        per-question log-likelihoods (mmlu, truthfulqa)"),
        CLI_H("--requests", CLI_STR, &o.requests,
              "--requests FILE.jsonl     mmlu, truthfulqa: write the requests instead (one\n"
              "                            line per question: context and the continuations\n"
              "                            scored, as lm-evaluation-harness builds them); no\n"
              "                            model is loaded\n"
              "mmlu, truthfulqa:"),
        CLI_HN("--limit", CLI_LONG, &o.e.limit, 0, 0x7fffffffL,
               "--limit N                 the first N questions (of each subject in mmlu)\n"
               "mmlu:"),
        CLI_H("--subjects", CLI_STR, &o.e.subjects,
              "--subjects a,b            these subjects only (default: every *_test.csv)"),
        {"--format", CLI_FN, &o.e.format, 0, 0, &format_given, format_opt,
         "--format F                letter (lm-evaluation-harness mmlu, default) or\n"
         "                            continuation (mmlu_continuation)\n"
         "ppl (--data is a text file; the old spelling --text still works, with a\n"
         "warning):"},
        {"--text", CLI_FN, &o.e.data, 0, 0, NULL, text_opt, ""},
        CLI_HN("--window", CLI_LONG, &o.e.window, 2, 1 << 24,
               "--window W                tokens per window (default the model's\n"
               "                            max_position_embeddings, at most 2048)"),
        CLI_HN("--stride", CLI_LONG, &o.e.stride, 1, 1 << 24,
               "--stride S                start of one window to the next (default W)"),
        CLI_H("--verbose", CLI_FLAG, &o.verbose,
              "--verbose                 the running value after each window on stderr"),
    };
    memset(&o, 0, sizeof o);
    memset(&L, 0, sizeof L);
    lr_eval_options_default(&o.e);
    o.max_len = 2048; /* lm-evaluation-harness's default max_length */
    if (argc < 2) {
        fprintf(stderr, "llamaref eval: a task is required: mmlu, truthfulqa or ppl "
                "(see --help)\n");
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
        return cli_parse_doc("eval", 2, argv, 1, opts, sizeof opts / sizeof opts[0], head, foot);
    task = argv[1];
    if (strcmp(task, "mmlu") && strcmp(task, "truthfulqa") && strcmp(task, "ppl")) {
        fprintf(stderr, "llamaref eval: unknown task '%s' (mmlu, truthfulqa, ppl)\n", task);
        return 2;
    }
    if ((rc = cli_parse_doc("eval", argc, argv, 2, opts, sizeof opts / sizeof opts[0],
                            head, foot)) >= 0)
        return rc;
    rc = 1;
    if (format_given && strcmp(task, "mmlu")) {
        fprintf(stderr, "llamaref eval %s: --format is an option of eval mmlu\n", task);
        return 2;
    }
    if (!o.e.data || (!o.lm.model_path && !o.requests)) {
        fprintf(stderr, "llamaref eval %s: --model and --data are required (see --help)\n", task);
        return 2;
    }
    if (o.requests) {
        if (!strcmp(task, "ppl")) {
            fprintf(stderr, "llamaref eval ppl: --requests is an option of eval mmlu "
                    "and eval truthfulqa\n");
            return 2;
        }
        if (cli_prepare_out("eval", o.requests, 0)) return 1;
        return write_requests(&o, task) ? 1 : 0;
    }
    if ((o.out && cli_prepare_out("eval", o.out, 0)) ||
        (o.items && cli_prepare_out("eval", o.items, 0)))
        return 1;
    if (cli_lm_load(&o.lm, "eval")) goto done;
    if (max_len_given && cli_ctx_len("eval", o.lm.model, &o.max_len, 1)) { rc = 2; goto done; }
    lr_eval_context(&o.e, task, o.lm.model->config.max_position_embeddings, &o.max_len);
    if (lr_loglik_init(&L, o.lm.model, (int)o.max_len, &err)) {
        fprintf(stderr, "llamaref eval: %s\n", err.msg);
        goto done;
    }
    if (o.verbose) L.ppl_window = ppl_window;
    o.e.model_name = o.lm.model_path;
    o.e.subject_done = subject_done;
    o.e.questions_done = questions_done;
    rc = run_task(&o, task, &L) ? 1 : 0;
    if (rc == 0 && lr_par_size() == 1)
        fprintf(stderr, "eval: %ld tokens through the model, %ld served from the "
                "prefix cache\n", L.pc.n_fed, L.pc.n_reused);
done:
    lr_loglik_free(&L);
    cli_lm_free(&o.lm);
    return rc;
}
