/* cli_args.c - the shared option vocabulary (aliases, strict value parsers,
 * token-id lists, "did you mean") and output-path preparation.  See cli.h
 * and docs/cli.md. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* isatty */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifndef _WIN32
#include <unistd.h>
#endif

#include "cli.h"
#include "llamaref/core/common.h"
#include "llamaref/core/par.h"
#include "llamaref/core/rng.h"
#include "llamaref/core/tokens.h"

const char *cli_cmd = "";

/* alias -> canonical spelling; deprecated: warn (old spellings kept for one
 * release) */
static const struct alias {
    const char *alias, *canon;
    int deprecated;
} aliases[] = {
    /* llama.cpp */
    {"-m", "--model", 0}, {"-p", "--prompt", 0}, {"-f", "--file", 0},
    {"-n", "--max-new-tokens", 0}, {"--n-predict", "--max-new-tokens", 0},
    {"--temp", "--temperature", 0}, {"-c", "--max-len", 0},
    {"--ctx-size", "--max-len", 0}, {"-s", "--seed", 0}, {"-t", "--threads", 0},
    /* Hugging Face TrainingArguments / PEFT LoraConfig */
    {"--learning-rate", "--lr", 0}, {"--lora-alpha", "--alpha", 0},
    {"--lora-r", "--r", 0}, {"--lora-dropout", "--dropout", 0},
    {"--num-train-epochs", "--epochs", 0},
    {"--per-device-train-batch-size", "--batch", 0},
    {"--gradient-accumulation-steps", "--grad-accum", 0},
    {"--warmup-steps", "--warmup", 0}, {"--lr-scheduler-type", "--schedule", 0},
    {"--logging-steps", "--log-every", 0}, {"--save-steps", "--save-every", 0},
    {"--eval-steps", "--eval-every", 0}, {"--use-rslora", "--rslora", 0},
    /* old llamaref spellings */
    {"--n-shots", "--num-shots", 1},
};

const char *cli_opt(const char *arg)
{
    size_t i;
    for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(arg, aliases[i].alias)) {
            if (aliases[i].deprecated)
                fprintf(stderr, "llamaref %s: warning: %s is deprecated, use %s\n",
                        cli_cmd, arg, aliases[i].canon);
            return aliases[i].canon;
        }
    return arg;
}

/* a value option given last, without its value */
static int no_value(const char *opt)
{
    fprintf(stderr, "llamaref %s: option %s needs a value\n", cli_cmd, opt);
    return -1;
}

int cli_int(const char *opt, const char *val, long lo, long hi, long *out)
{
    if (!val) return no_value(opt);
    if (lr_parse_long(val, lo, hi, out)) {
        fprintf(stderr, "llamaref %s: option %s: '%s' is not an integer in "
                "[%ld, %ld]\n", cli_cmd, opt, val, lo, hi);
        return -1;
    }
    return 0;
}

int cli_double_in(const char *opt, const char *val, double lo, int lo_open,
                  double hi, int hi_open, double *out)
{
    double v;
    if (!val) return no_value(opt);
    if (lr_parse_double(val, &v)) {
        fprintf(stderr, "llamaref %s: option %s: '%s' is not a finite number\n",
                cli_cmd, opt, val);
        return -1;
    }
    if ((lo_open ? !(v > lo) : !(v >= lo)) || (hi_open ? !(v < hi) : !(v <= hi))) {
        fprintf(stderr, "llamaref %s: option %s: %s is not in %c%g, %g%c\n",
                cli_cmd, opt, val, lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']');
        return -1;
    }
    *out = v;
    return 0;
}

/* --seed S (CLI_SEED): 0 .. 2^31-1, or -1 to draw one (printed on stderr;
 * *out holds the drawn seed, so whatever records the options records it) */
static int cli_seed(const char *opt, const char *val, long *out)
{
    lr_error err;
    if (val && !strcmp(val, "-1")) {
        /* a fresh seed: wall clock, processor time and a stack address,
         * mixed by one SplitMix64 step (rng.h) */
        lr_rng r;
        lr_rng_seed(&r, (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20) ^
                        (uint64_t)(size_t)&r);
        *out = (long)(lr_rng_next(&r) & 0x7fffffffu);
        /* under mpirun every rank parses the same options: rank 0's draw
         * is every rank's (par.h) */
        if (lr_par_bcast(out, sizeof *out, &err)) {
            fprintf(stderr, "llamaref %s: %s -1: %s\n", cli_cmd, opt, err.msg);
            return -1;
        }
        if (lr_par_rank() == 0)
            fprintf(stderr, "llamaref %s: %s -1: drew seed %ld\n", cli_cmd, opt, *out);
        return 0;
    }
    return cli_int(opt, val, 0, 0x7fffffffL, out);
}

/* a token-id list: lr_tokens_parse_ids (tokens.h) with the command
 * line's messages */
int cli_ids(const char *opt, const char *val, int **ids, int *n)
{
    lr_error err;
    size_t at;
    *ids = NULL;
    *n = 0;
    if (!val) return no_value(opt);
    if (!lr_tokens_parse_ids(val, ids, n, &at, &err)) return 0;
    if (at != (size_t)-1)
        fprintf(stderr, "llamaref %s: option %s: '%s' is not a list of "
                "integers (at byte %d)\n", cli_cmd, opt, val, (int)at);
    else
        fprintf(stderr, "llamaref %s: option %s: %s\n", cli_cmd, opt, err.msg);
    return -1;
}

/* A command's --help: its usage function, or its head, its options' help
 * lines in table order and its foot (cli_parse_doc). */
typedef struct cli_doc {
    void (*usage)(FILE *);
    const cli_optdef *opts;
    size_t n;
    const char *head, *foot;
} cli_doc;

static void print_doc(FILE *f, const cli_doc *d)
{
    size_t k;
    if (d->usage) { d->usage(f); return; }
    fputs(d->head, f);
    for (k = 0; k < d->n; k++) {
        const char *h = d->opts[k].help;
        if (h && !*h) continue; /* a spelling documented on another line */
        if (h && h[0] == '-') fprintf(f, "  %s\n", h);
        else cli_help(f, d->opts[k].name, h); /* a shared option: h its default */
    }
    fputs(d->foot, f);
}

/* The usage text as a string (malloc'ed; NULL when it cannot be captured). */
static char *usage_text(const cli_doc *d)
{
    FILE *f;
    lr_buf b = {0};
    lr_error err;
    if ((!d->usage && !d->opts) || !(f = tmpfile())) return NULL;
    print_doc(f, d);
    if (fflush(f) || fseek(f, 0, SEEK_SET) || lr_read_stream(f, "usage", &b, &err) ||
        lr_buf_append(&b, "", 0))
        lr_buf_free(&b);
    fclose(f);
    return b.data;
}

#define LETTERS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* Next option token ("--name" or "-x": after a space, '[', '(', '|', a
 * newline or ',', a letter, then letters, digits and '-') in text at or
 * after *p; copies it into tok (NUL-terminated) and returns 1, or 0 at the
 * end. */
static int next_option(const char **p, char *tok, size_t cap)
{
    const char *s = *p;
    for (; *s; s++) {
        size_t n = 0;
        const char *q;
        if (*s != '-' || (s > *p && !strchr(" [(|\n,", s[-1]))) continue;
        q = s + (s[1] == '-' ? 2 : 1);
        if (!strspn(q, LETTERS)) continue;
        q += strspn(q, LETTERS "0123456789-");
        if (s[1] != '-' && q - s != 2) continue; /* "-x" only, not "-1e3" */
        n = (size_t)(q - s);
        if (n >= cap) n = cap - 1;
        memcpy(tok, s, n);
        tok[n] = 0;
        *p = q;
        return 1;
    }
    *p = s;
    return 0;
}

static int bad_option(const char *cmd, const char *arg, const cli_doc *doc)
{
    char *text = usage_text(doc), tok[64], best[64] = "";
    const char *p;
    size_t i, d, best_d = (size_t)-1;
    if (text) {
        for (p = text; next_option(&p, tok, sizeof tok);) {
            if (!strcmp(tok, arg)) {
                /* the command knows it: it fell through for want of a value */
                fprintf(stderr, "llamaref %s: option %s needs a value (see "
                        "--help)\n", cmd, arg);
                free(text);
                return 2;
            }
            if (tok[1] == '-' && (d = lr_edit_distance(arg, tok)) < best_d) {
                best_d = d;
                strcpy(best, tok);
            }
            /* the aliases of this option are spellings it accepts too */
            for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
                if (!aliases[i].deprecated && !strcmp(tok, aliases[i].canon) &&
                    aliases[i].alias[1] == '-' &&
                    (d = lr_edit_distance(arg, aliases[i].alias)) < best_d) {
                    best_d = d;
                    strcpy(best, aliases[i].alias);
                }
        }
        free(text);
    } else {
        for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
            if ((d = lr_edit_distance(arg, aliases[i].canon)) < best_d) {
                best_d = d;
                strcpy(best, aliases[i].canon);
            }
    }
    if (arg[0] == '-' && best[0] && best_d <= (strlen(arg) > 9 ? 3u : 2u))
        fprintf(stderr, "llamaref %s: unknown option '%s'; did you mean %s? "
                "(see --help)\n", cmd, arg, best);
    else
        fprintf(stderr, "llamaref %s: unknown %s '%s' (see --help)\n", cmd,
                arg[0] == '-' ? "option" : "argument", arg);
    return 2;
}

int cli_bad_option(const char *cmd, const char *arg, void (*usage)(FILE *))
{
    cli_doc d = {usage, NULL, 0, NULL, NULL};
    return bad_option(cmd, arg, &d);
}

static int parse(const char *cmd, int argc, char **argv, int first,
                 const cli_optdef *opts, size_t n, const cli_doc *doc)
{
    int i, bad;
    size_t k;
    for (i = first; i < argc; i++) {
        const char *s = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        const cli_optdef *o = NULL;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) { print_doc(stdout, doc); return 0; }
        for (k = 0; k < n && !o; k++)
            if (!strcmp(s, opts[k].name)) o = &opts[k];
        if (!o) return bad_option(cmd, s, doc);
        if (o->given) *o->given = 1;
        if (o->kind == CLI_FLAG || o->kind == CLI_UNFLAG) {
            *(int *)o->dst = o->kind == CLI_FLAG;
            continue;
        }
        if (!v && (o->kind == CLI_STR || o->kind == CLI_FN))
            return bad_option(cmd, s, doc);
        switch (o->kind) {
        case CLI_STR: *(const char **)o->dst = v; bad = 0; break;
        case CLI_FN: bad = o->fn(s, v, o->dst); break;
        case CLI_LONG: bad = cli_int(s, v, (long)o->lo, (long)o->hi, (long *)o->dst); break;
        case CLI_SEED: bad = cli_seed(s, v, (long *)o->dst); break;
        case CLI_INT: {
            long l;
            if (!(bad = cli_int(s, v, (long)o->lo, (long)o->hi, &l))) *(int *)o->dst = (int)l;
            break;
        }
        default:
            bad = cli_double_in(s, v, o->lo, o->kind == CLI_DBL_GT, o->hi, 0, (double *)o->dst);
        }
        if (bad) return 2;
        i++;
    }
    return -1;
}

int cli_parse_doc(const char *cmd, int argc, char **argv, int first,
                  const cli_optdef *opts, size_t n, const char *head, const char *foot)
{
    cli_doc d = {NULL, opts, n, head, foot};
    return parse(cmd, argc, argv, first, opts, n, &d);
}

int cli_prepare_out(const char *cmd, const char *path, int is_dir)
{
    lr_error err;
    if (lr_prepare_output(path, is_dir, &err)) {
        fprintf(stderr, "llamaref %s: %s\n", cmd, err.msg);
        return -1;
    }
    return 0;
}

static const struct shared_help {
    const char *opt, *text;
} shared_help[] = {
    {"--model", "-m, --model PATH          HF model directory, GGUF file (.gguf) or\n"
                "                            llama2.c checkpoint (.bin)"},
    {"--tokenizer", "--tokenizer PATH          tokenizer file or directory (default: the\n"
                    "                            model's directory or GGUF; needed for\n"
                    "                            llama2.c)"},
    {"--adapter", "--adapter DIR             PEFT LoRA adapter (adapter_config.json +\n"
                  "                            adapter_model.safetensors): W + s B A"},
    {"--keep-dtype", "--keep-dtype              keep BF16/F16 weights as stored (half the memory)"},
    {"--no-check-weights", "--no-check-weights        skip the NaN/Inf scan of the weights on load"},
    {"--prompt", "-p, --prompt TEXT         the prompt"},
    {"--file", "-f, --file FILE           the prompt (or text) from a file"},
    {"--max-new-tokens", "-n, --max-new-tokens N    new tokens at most"},
    {"--max-len", "-c, --max-len N           tokens in one sequence at most (at most the\n"
                  "                            model's max_position_embeddings)"},
    {"--temperature", "--temp, --temperature T   sampling temperature, finite, >= 0 (0: greedy)"},
    {"--top-k", "--top-k K                 keep the K most likely tokens (0: off)"},
    {"--top-p", "--top-p P                 nucleus sampling, 0 < P <= 1 (1: off)"},
    {"--min-p", "--min-p M                 drop tokens below M * p_max, 0 <= M <= 1 (0: off)"},
    {"--seed", "-s, --seed S              random seed, 0 .. 2^31-1; -1 draws one (printed\n"
               "                            and recorded)"},
    {"--shots", "--shots FILE              few-shot examples (a file)"},
    {"--num-shots", "--num-shots N             few-shot examples (a count)"},
    {"--data", "--data PATH               the data set"},
    {"--rslora", "--rslora | --no-rslora    rank-stabilised LoRA scale alpha / sqrt(r)\n"
                 "                            instead of alpha / r"},
};

void cli_help(FILE *f, const char *opt, const char *def)
{
    size_t i;
    for (i = 0; i < sizeof shared_help / sizeof shared_help[0]; i++)
        if (!strcmp(opt, shared_help[i].opt)) {
            fprintf(f, "  %s", shared_help[i].text);
            if (def) fprintf(f, "\n                            (default %s)", def);
            fputc('\n', f);
            return;
        }
}

int cli_stderr_tty(void)
{
#ifdef _WIN32
    return 0;
#else
    return isatty(2);
#endif
}
