/* cmd_train.c - `llamaref train` (LoRA fine-tuning with PEFT + torch
 * semantics, or full-parameter training with --full) and `llamaref merge`
 * (adapter folded into a HF checkpoint): options parsed and --help
 * printed from the library's table (train_options.h, each option's help
 * there) and checked by lr_train_options_check, --resume resolved and
 * checked (checkpoint.h), the run by lr_train_run; this file prints its
 * progress.  docs/training.md: options, checkpoint layout, RNG streams. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "llamaref/train/adapter.h"
#include "llamaref/train/checkpoint.h"
#include "llamaref/formats/gguf.h"
#include "llamaref/core/par.h"
#include "llamaref/formats/safetensors.h"
#include "llamaref/train/train_run.h"

static const char train_head[] =
"usage: llamaref train -m, --model PATH --data FILE.jsonl --out DIR [options]\n";
static const char train_foot[] =
"Writes DIR/adapter_config.json, DIR/adapter_model.safetensors (PEFT),\n"
"DIR/optimizer.safetensors (resume state; records the options) and\n"
"DIR/metrics.jsonl; with --full DIR/config.json and DIR/model.safetensors\n"
"(F32; F64 in DOUBLE=1 builds) instead of the adapter.  DIR and its parents\n"
"are created before any work.\n";

/* --help's order of the options of lr_train_opt_table (which keeps the
 * order a checkpoint records them in). */
static const char *const help_order[] = {
    "--model", "--tokenizer", "--data", "--out", "--rslora", "--no-rslora",
    "--seed", "--targets", "--layers", "--r", "--alpha", "--dropout", "--lr",
    "--schedule", "--warmup", "--warmup-ratio", "--epochs", "--batch",
    "--grad-accum", "--weight-decay", "--max-grad-norm", "--loss-on",
    "--truncate", "--max-len", "--recompute", "--eval-data", "--eval-every",
    "--log-every", "--save-every", "--resume", "--max-steps", "--full", "--init",
};
#define N_HELP (sizeof help_order / sizeof help_order[0])

/* The progress of a run on stderr: on a terminal one line rewritten in
 * place; in a log file one line per update. */
static void on_start(void *ctx, const lr_train_start *s)
{
    (void)ctx;
    fprintf(stderr, "train: %lu examples, %ld micro-batches/epoch, %ld steps, %lu ",
            (unsigned long)s->n_examples, s->nb, s->total, (unsigned long)s->n_params);
    if (s->full)
        fprintf(stderr, "parameters (full)");
    else
        fprintf(stderr, "LoRA parameters (r %d, scale %g)", s->r, s->scale);
    fprintf(stderr, "%s\n", s->resumed ? ", resumed" : "");
}

static void on_step(void *ctx, const lr_train_progress *p)
{
    const int tty = *(const int *)ctx;
    const double tps = p->elapsed > 0 ? p->tok_total / p->elapsed : 0.0;
    if (!p->do_log) return; /* under 10 tok/s: 2 significant digits (0.23) */
    fprintf(stderr, "%sstep %ld/%ld  loss %.4f  lr %.3g  %.*f tok/s  ETA %.0fs",
            tty ? "\r" : "", p->step, p->total, p->loss, p->lr,
            tps >= 10 ? 0 : tps >= 1 ? 1 : tps >= 0.1 ? 2 : 3, tps,
            p->elapsed / (p->done_steps + 1) * (double)(p->total - p->step));
    if (p->do_eval) fprintf(stderr, "  eval_loss %.4f", p->eval_loss);
    fprintf(stderr, tty && !p->do_eval ? "   " : "\n");
}

void cli_train_hooks(lr_train_hooks *h, int *tty)
{
    *tty = cli_stderr_tty();
    h->start = on_start;
    h->step = on_step;
    h->clock = cli_now;
    h->ctx = tty;
}

void cli_train_done(const lr_train_options *a, const lr_train_result *res, int tty)
{
    if (tty) fprintf(stderr, "\n");
    printf("train: step %ld/%ld, loss %.4f", res->step, res->total, res->last_loss);
    if (a->eval_data) printf(", eval_loss %.4f", res->eval_loss);
    printf("; saved to %s\n", a->out);
}

static void on_conflict(void *ctx, const char *name, const char *mine,
                        const char *rec)
{
    fprintf(stderr, "llamaref train: --resume %s: %s %s contradicts the "
            "checkpoint's %s\n", (const char *)ctx, name, mine, rec);
}

/* The options of argv into a (defaults first) with cli_parse_doc over the
 * library's table (in help_order), --resume resolved and its recorded
 * options applied (*ckpt keeps their strings).  Returns -1 to go on, else
 * the exit status. */
static int train_parse(int argc, char **argv, lr_train_options *a, lr_st_file **ckpt)
{
    /* LR_OPT_STR, _INT, _DBL, _FLAG, _NOFLAG, _SEED as cli_parse's kinds */
    static const int kind[] = {CLI_STR, CLI_LONG, CLI_DBL, CLI_FLAG, CLI_UNFLAG, CLI_SEED};
    size_t n_opts, k, j;
    const lr_train_opt *t = lr_train_opt_table(&n_opts);
    cli_optdef opts[N_HELP];
    size_t at[N_HELP];   /* help_order[j] is t[at[j]] */
    int seen[N_HELP] = {0};
    unsigned char given[N_HELP] = {0}; /* given[k]: t[k] was given */
    lr_error err;
    int rc, latest;
    lr_train_options_default(a);
    for (j = 0; j < N_HELP; j++) {
        for (k = 0; k < n_opts && strcmp(t[k].name, help_order[j]); k++)
            ;
        if (k == n_opts || n_opts != N_HELP) { /* a defect: help_order lists each once */
            fprintf(stderr, "llamaref train: %s: help_order and the option table "
                    "differ\n", help_order[j]);
            return 1;
        }
        at[j] = k;
        opts[j].name = t[k].name;
        opts[j].kind = t[k].type == LR_OPT_DBL && t[k].lo_open ? CLI_DBL_GT : kind[t[k].type];
        opts[j].dst = (char *)a + t[k].off;
        opts[j].lo = t[k].lo;
        opts[j].hi = t[k].hi;
        opts[j].given = &seen[j];
        opts[j].fn = NULL;
        opts[j].help = t[k].help;
    }
    if ((rc = cli_parse_doc("train", argc, argv, 1, opts, N_HELP, train_head,
                            train_foot)) >= 0)
        return rc;
    for (j = 0; j < N_HELP; j++) given[at[j]] = (unsigned char)seen[j];
    if (lr_train_options_check(a, 0, &err)) {
        fprintf(stderr, "llamaref train: %s\n", err.msg);
        return 2;
    }
    if (a->resume) {
        if (lr_checkpoint_resolve(a, &latest, &err)) {
            fprintf(stderr, "llamaref train: %s\n", err.msg);
            return 1;
        }
        if (latest)
            fprintf(stderr, "llamaref train: resuming from %s (the latest "
                    "complete checkpoint)\n", a->resume);
        rc = lr_checkpoint_resume_options(a, given, on_conflict,
                                          (void *)a->resume, ckpt, &err);
        if (rc == -2) { fprintf(stderr, "llamaref train: out of memory\n"); return 1; }
        if (rc == -1) { fprintf(stderr, "llamaref train: --resume: %s\n", err.msg); return 1; }
        if (rc > 0) {
            fprintf(stderr, "llamaref train: drop the contradicting option%s (the "
                    "checkpoint's values are used) or start a new run\n",
                    rc > 1 ? "s" : "");
            return 2;
        }
    }
    if (lr_train_options_check(a, 1, &err)) {
        fprintf(stderr, "llamaref train: %s\n", err.msg);
        return 2;
    }
    return -1;
}

int cmd_train(int argc, char **argv)
{
    lr_train_options a;
    lr_st_file *ckpt = NULL; /* holds the recorded option strings */
    lr_train_hooks h;
    lr_train_result res;
    lr_error err;
    int tty, rc = train_parse(argc, argv, &a, &ckpt);
    if (rc < 0 && cli_prepare_out("train", a.out, 1)) /* before any work */
        rc = 1;
    if (rc < 0) { /* the run: its progress on stderr, rank 0's summary on stdout */
        cli_train_hooks(&h, &tty);
        rc = lr_train_run(&a, &h, &res, &err) ? 1 : 0;
        if (rc)
            fprintf(stderr, "%sllamaref train: %s\n", tty ? "\n" : "", err.msg);
        else if (lr_par_rank() == 0)
            cli_train_done(&a, &res, tty);
    }
    if (ckpt) lr_st_close(ckpt);
    return rc;
}

static const char merge_head[] =
"usage: llamaref merge -m, --model PATH --adapter DIR --out DIR\n";
static const char merge_foot[] =
"Writes W + s B A for every adapted linear: the base's dtype if\n"
"BF16/F16, else F32 (F64 in a DOUBLE=1 build, so the merge loses\n"
"nothing; F32 in a GGUF), and copies the base's tokenizer files\n"
"(tokenizer.json, tokenizer_config.json, special_tokens_map.json,\n"
"tokenizer.model, generation_config.json) that exist; a GGUF out\n"
"holds the base's tokenizer as tokenizer.ggml.* metadata.\n";

int cmd_merge(int argc, char **argv)
{
    const char *model = NULL, *adapter = NULL, *out = NULL;
    lr_error err;
    size_t n;
    int rc, to_gguf;
    const cli_optdef opts[] = {
        CLI_OPT("--model", CLI_STR, &model), CLI_OPT("--adapter", CLI_STR, &adapter),
        CLI_H("--out", CLI_STR, &out,
              "--out DIR | F.gguf        the merged HF checkpoint (DIR and its parents\n"
              "                            are created first), or a llama GGUF when the\n"
              "                            name ends in .gguf"),
    };
    if ((rc = cli_parse_doc("merge", argc, argv, 1, opts, 3, merge_head, merge_foot)) >= 0)
        return rc;
    if (!model || !adapter || !out) {
        fprintf(stderr, "llamaref merge: --model, --adapter and --out are required "
                "(see --help)\n");
        return 2;
    }
    n = strlen(out);
    to_gguf = n >= 5 && !strcmp(out + n - 5, ".gguf");
    if (cli_prepare_out("merge", out, !to_gguf)) return 1;
    if (lr_adapter_merge_save(model, adapter, out, &err)) {
        fprintf(stderr, "llamaref merge: %s\n", err.msg);
        return 1;
    }
    if (!to_gguf && lr_gguf_sniff(model))
        fprintf(stderr, "llamaref merge: the tokenizer stays in %s (pass --tokenizer %s "
                "with %s, or merge into a .gguf)\n", model, model, out);
    printf("merge: saved to %s\n", out);
    return 0;
}
