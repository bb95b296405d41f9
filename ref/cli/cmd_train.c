/* cmd_train.c - `llamaref train` (LoRA fine-tuning with PEFT + torch
 * semantics, or full-parameter training with --full) and `llamaref merge`
 * (adapter folded into a HF checkpoint): options parsed with the library's
 * table (train_run.h), --resume resolved and checked (checkpoint.h), the
 * run by lr_train_run; this file prints its progress.
 * docs/training.md describes options, checkpoint layout and RNG streams. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llamaref/train/adapter.h"
#include "llamaref/train/checkpoint.h"
#include "llamaref/formats/gguf.h"
#include "llamaref/core/par.h"
#include "llamaref/formats/safetensors.h"
#include "llamaref/train/train_run.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref train -m, --model PATH --data FILE.jsonl --out DIR [options]\n");
    cli_help(f, "--model", NULL);
    cli_help(f, "--tokenizer", NULL);
    cli_help(f, "--data", NULL);
    fprintf(f, "                            JSONL training examples (formats:\n"
               "                            docs/training.md; the world's qa.jsonl\n"
               "                            trains on each first alias)\n"
               "  --out DIR                 the adapter, checkpoints and metrics (DIR and\n"
               "                            its parents are created before any work)\n");
    cli_help(f, "--rslora", "off (llamaref experiment: on, the paper's)");
    cli_help(f, "--seed", "42");
    fprintf(f,
"  --targets LIST            LoRA modules (default gate_proj,up_proj,down_proj;\n"
"                            'all')\n"
"  --layers LIST             layers_to_transform, e.g. 0,1 (default: all)\n"
"  --r N                     LoRA rank (default 1; HF: --lora-r)\n"
"  --alpha A                 LoRA alpha, > 0 (default 2; HF: --lora-alpha)\n"
"  --dropout P               LoRA dropout, 0 <= P <= 1 (default 0.1; HF:\n"
"                            --lora-dropout)\n"
"  --lr LR                   learning rate, > 0 (default 1e-3; HF:\n"
"                            --learning-rate)\n"
"  --schedule S              constant, linear (default) or cosine (HF:\n"
"                            --lr-scheduler-type)\n"
"  --warmup N                warmup steps (default 0; HF: --warmup-steps)\n"
"  --warmup-ratio X          warmup as a share of all steps, 0 <= X <= 1,\n"
"                            rounded up as HF does\n"
"  --epochs N                (default 10; HF: --num-train-epochs)\n"
"  --batch N                 examples per micro-batch (default 8; HF:\n"
"                            --per-device-train-batch-size)\n"
"  --grad-accum N            micro-batches per step (default 1; HF:\n"
"                            --gradient-accumulation-steps)\n"
"  --weight-decay W          AdamW weight decay, >= 0 (default 0)\n"
"  --max-grad-norm X         gradient clipping, >= 0 (default 1.0; 0: off)\n"
"  --loss-on L               all (default) or completion\n"
"  --truncate                cut examples longer than --max-len (default:\n"
"                            refused)\n");
    cli_help(f, "--max-len", "2048: the longest example in tokens");
    fprintf(f,
"  --recompute               recompute each layer in backward (memory independent\n"
"                            of the number of layers; same results)\n"
"  --eval-data FILE          held-out examples: their mean loss is printed and\n"
"                            written to metrics.jsonl (\"eval_loss\") every\n"
"  --eval-every N            N steps (default: at the end only)\n"
"  --log-every N             a progress line every N steps (default 1); on a\n"
"                            terminal one line is rewritten in place\n"
"  --save-every N            checkpoint DIR/checkpoint-<step> every N steps\n"
"  --resume PATH             continue from a checkpoint-<step> directory, or from\n"
"                            the latest complete checkpoint of a run DIR\n"
"                            (bit-identical); the options the checkpoint records\n"
"                            are reused, and one given that contradicts it is an\n"
"                            error; metrics.jsonl continues after its step\n"
"  --max-steps N             stop after N optimizer steps (the schedule still\n"
"                            spans every epoch)\n"
"  --full                    train every base weight instead of LoRA adapters\n"
"                            (LoRA options ignored; weight decay skips the norms)\n"
"  --init CONFIG.json        with --full and instead of --model: pretrain from\n"
"                            HF-style random weights (N(0, 0.02), norms 1; --seed)\n"
"                            for this config; needs --tokenizer\n"
"Writes DIR/adapter_config.json, DIR/adapter_model.safetensors (PEFT),\n"
"DIR/optimizer.safetensors (resume state; records the options) and\n"
"DIR/metrics.jsonl; with --full DIR/config.json and DIR/model.safetensors\n"
"(F32; F64 in DOUBLE=1 builds) instead of the adapter.  DIR and its parents\n"
"are created before any work.\n");
}

/* The progress of a run on stderr: on a terminal one line rewritten in
 * place; in a log file one line per update. */
static void on_start(void *ctx, const lr_train_start *s)
{
    (void)ctx;
    if (s->full)
        fprintf(stderr, "train: %lu examples, %ld micro-batches/epoch, %ld "
                "steps, %lu parameters (full)%s\n", (unsigned long)s->n_examples,
                s->nb, s->total, (unsigned long)s->n_params,
                s->resumed ? ", resumed" : "");
    else
        fprintf(stderr, "train: %lu examples, %ld micro-batches/epoch, %ld "
                "steps, %lu LoRA parameters (r %d, scale %g)%s\n",
                (unsigned long)s->n_examples, s->nb, s->total,
                (unsigned long)s->n_params, s->r, s->scale,
                s->resumed ? ", resumed" : "");
}

static void on_step(void *ctx, const lr_train_progress *p)
{
    const int tty = *(const int *)ctx;
    if (!p->do_log) return;
    fprintf(stderr, "%sstep %ld/%ld  loss %.4f  lr %.3g  %.0f tok/s  ETA %.0fs",
            tty ? "\r" : "", p->step, p->total, p->loss, p->lr,
            p->elapsed > 0 ? p->tok_total / p->elapsed : 0.0,
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

int cli_train(const lr_train_options *a)
{
    lr_train_hooks h;
    lr_train_result res;
    lr_error err;
    int tty;
    cli_train_hooks(&h, &tty);
    if (lr_train_run(a, &h, &res, &err)) {
        fprintf(stderr, "%sllamaref train: %s\n", tty ? "\n" : "", err.msg);
        return 1;
    }
    if (lr_par_rank() != 0) return 0; /* rank 0 reports */
    cli_train_done(a, &res, tty);
    return 0;
}

static void on_conflict(void *ctx, const char *name, const char *mine,
                        const char *rec)
{
    fprintf(stderr, "llamaref train: --resume %s: %s %s contradicts the "
            "checkpoint's %s\n", (const char *)ctx, name, mine, rec);
}

/* The options of argv into a (defaults first), --resume resolved and its
 * recorded options applied (*ckpt keeps their strings).  Returns -1 to go
 * on, else the exit status. */
static int train_parse(int argc, char **argv, lr_train_options *a,
                       unsigned char *given, lr_st_file **ckpt)
{
    size_t n_opts, k;
    const lr_train_opt *opts = lr_train_opt_table(&n_opts);
    lr_error err;
    int i, rc, latest;
    lr_train_options_default(a);
    for (i = 1; i < argc; i++) {
        const char *s = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        const lr_train_opt *o = NULL;
        char *base = (char *)a;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) { usage(stdout); return 0; }
        for (k = 0; k < n_opts; k++)
            if (!strcmp(s, opts[k].name)) { o = &opts[k]; break; }
        if (!o) return cli_bad_option("train", s, usage);
        given[k] = 1;
        switch (o->type) {
        case LR_OPT_FLAG: *(int *)(void *)(base + o->off) = 1; continue;
        case LR_OPT_NOFLAG: *(int *)(void *)(base + o->off) = 0; continue;
        case LR_OPT_STR:
            if (!v) return cli_bad_option("train", s, usage);
            *(const char **)(void *)(base + o->off) = v;
            break;
        case LR_OPT_INT:
            if (cli_int(s, v, (long)o->lo, (long)o->hi, (long *)(void *)(base + o->off)))
                return 2;
            break;
        case LR_OPT_SEED:
            if (cli_seed(s, v, (long *)(void *)(base + o->off))) return 2;
            break;
        default:
            if (cli_double_in(s, v, o->lo, o->lo_open, o->hi, 0,
                              (double *)(void *)(base + o->off)))
                return 2;
        }
        i++;
    }
    if (a->init && (!a->full || !a->tokenizer || a->model)) {
        fprintf(stderr, "llamaref train: --init needs --full and --tokenizer, "
                "and replaces --model\n");
        return 2;
    }
    if (a->warmup && a->warmup_ratio > 0) {
        fprintf(stderr, "llamaref train: --warmup and --warmup-ratio exclude "
                "each other\n");
        return 2;
    }
    if (a->eval_every && !a->eval_data) {
        fprintf(stderr, "llamaref train: --eval-every needs --eval-data\n");
        return 2;
    }
    if ((!a->model && !a->init) || (!a->data && !a->resume) || !a->out) {
        fprintf(stderr, "llamaref train: --model, --data and --out are required (see --help)\n");
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
    if (!a->data) {
        fprintf(stderr, "llamaref train: --data is required (the checkpoint does "
                "not record it)\n");
        return 2;
    }
    if (strcmp(a->loss_on, "all") && strcmp(a->loss_on, "completion")) {
        fprintf(stderr, "llamaref train: --loss-on is 'all' or 'completion'\n");
        return 2;
    }
    return -1;
}

int cmd_train(int argc, char **argv)
{
    lr_train_options a;
    size_t n_opts;
    unsigned char *given;
    lr_st_file *ckpt = NULL; /* holds the recorded option strings */
    int rc;
    (void)lr_train_opt_table(&n_opts);
    if (!(given = calloc(n_opts, 1))) {
        fprintf(stderr, "llamaref train: out of memory\n");
        return 1;
    }
    rc = train_parse(argc, argv, &a, given, &ckpt);
    free(given);
    if (rc < 0) /* the output directory before any work */
        rc = cli_prepare_out("train", a.out, 1) ? 1 : cli_train(&a);
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
