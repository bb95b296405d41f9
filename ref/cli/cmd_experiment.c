/* cmd_experiment.c - `llamaref experiment knowledge`: the knowledge-
 * injection experiment of Pletenev et al. 2025 end to end
 * (docs/experiments.md, experiment 1; docs/experiment.md).
 *
 *   probe the base model once (probe.h)
 *   for every grid point (n unknown facts, k extra examples, seed):
 *     build the mixture (mixture.h) -> LoRA training (`llamaref train`,
 *     run in-process with the paper's settings) -> probe again with the
 *     adapter merged -> reliability, shift matrix (knowledge.h), refusals
 *     (refusal.h), answer diversity (diversity.h), benchmark accuracy
 *     (mmlu.h + loglik.h) and held-out perplexity (loglik.h)
 *   DIR/summary.json, DIR/report.md and SVG charts (svg.h).
 *
 * Intermediate files live under DIR/runs/ (base/, n<N>_k<K>_<kind>_s<S>/)
 * so that every number can be traced to its mixture, adapter and probe. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/diversity.h"
#include "llamaref/experiment.h"
#include "llamaref/json.h"
#include "llamaref/knowledge.h"
#include "llamaref/loglik.h"
#include "llamaref/mcscore.h"
#include "llamaref/mixture.h"
#include "llamaref/mmlu.h"
#include "llamaref/probe.h"
#include "llamaref/refusal.h"
#include "llamaref/svg.h"
#include "llamaref/train_run.h"

#define MAX_LIST 32
#define N_TOP 5

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref experiment knowledge --model PATH [--tokenizer PATH]\n"
"           --facts FILE --shots FILE [--benchmark DIR] [--valid FILE]\n"
"           [--unknown 1,10,50,100,500] [--extra 0,1,10] [--kind known|paraphrase]\n"
"           [--seeds 42,1337,10824] [--quick] --out DIR [options]\n"
"  --model PATH       HF directory or llama2.c .bin; or a world directory\n"
"                     (docs/world.md) holding qa.jsonl, shots.jsonl,\n"
"                     benchmark/, valid.txt, the tokenizer and the model\n"
"                     (config.json + model.safetensors, or model.bin): then\n"
"                     --facts, --shots, --benchmark, --valid default to it\n"
"                     and --template to plain\n"
"  --facts FILE       facts to probe and train on (probe.h format)\n"
"  --shots FILE       few-shot examples of the probe prompts\n"
"  --benchmark DIR    MMLU-layout multiple-choice CSVs (DIR/test/*_test.csv,\n"
"                     DIR/dev/*_dev.csv); accuracy before and after training\n"
"  --valid FILE       held-out text; perplexity before and after training\n"
"  --unknown LIST     numbers of Unknown facts trained (default 1,10,50,100,500)\n"
"  --extra LIST       extra examples per unknown fact (default 0,1,10)\n"
"  --kind KIND        known (HighlyKnown facts, default) or paraphrase\n"
"  --seeds LIST       seeds of mixture selection and training\n"
"                     (default 42,1337,10824)\n"
"  --quick            small grid: --unknown 1,10,50 --extra 0,1 --seeds 42\n"
"                     --limit 200 --prompts 4 --max-new-tokens 16\n"
"                     --bench-limit 50 --ppl-tokens 4096 (explicit options\n"
"                     still win)\n"
"  --out DIR          output directory (created)\n"
"probe: --prompts N (10) --shots-per-prompt K (4) --max-new-tokens N (32)\n"
"       --limit N (all facts) --template auto|chat|plain\n"
"train (paper settings): --r 1 --alpha 2 --rslora (default on; --no-rslora)\n"
"       --dropout 0.1 --targets gate_proj,up_proj,down_proj --lr 1e-3\n"
"       --schedule linear --epochs 10 --batch 8 --max-grad-norm 1.0\n"
"       --weight-decay 0; a world directory's experiment.json may set other\n"
"       defaults for lr, epochs, r, alpha, batch, dropout (options win)\n"
"eval:  --bench-shots 5 --bench-limit N (per subject) --ppl-tokens N\n"
"       --bench-format letter|continuation (lm-evaluation-harness mmlu or\n"
"       mmlu_continuation; default letter, as the paper; experiment.json\n"
"       may set bench_format)\n"
"       --no-bos\n"
"Writes DIR/summary.json, DIR/report.md, DIR/*.svg and DIR/runs/.\n");
}

typedef struct exp_opts {
    const char *model, *tokenizer, *facts, *shots, *bench, *valid, *out;
    const char *template_arg, *targets, *schedule;
    long unknown[MAX_LIST], extra[MAX_LIST], seeds[MAX_LIST];
    int n_unknown, n_extra, n_seeds;
    lr_mix_kind kind;
    long prompts, shots_per_prompt, max_new_tokens, limit;
    long r, epochs, batch, bench_shots, bench_limit, ppl_tokens;
    double alpha, dropout, lr, max_norm, wd;
    int rslora, bos, quick;
    lr_mmlu_format bench_format;
    long bench_shots_used;    /* fewest shots any subject gets (bench_check) */
    char world_model[4096], world_tok[4096];
    char world_facts[4096], world_shots[4096], world_bench[4096], world_valid[4096];
    const char *given[64]; /* the options given on the command line */
    int n_given;
    char defaults_path[4200]; /* the world's experiment.json, "" if none */
    int is_world;             /* --model is a world directory */
} exp_opts;

typedef lr_answer_stats side_stats;

typedef struct run_result {
    long n, k, seed;
    int ok;                    /* 0: skipped (reason) */
    char reason[1100], name[128];
    size_t examples, reused, trained_facts;
    double reliability, hk_after, reliability_all;
    lr_shift shift;
    side_stats after;
    double bench_acc, ppl;
    size_t bench_n;
    double seconds;
} run_result;

static double wall(void) { return (double)time(NULL); }

static int make_dir(const char *path)
{
    if (lr_path_is_dir(path)) return 0;
    if (mkdir(path, 0777)) {
        fprintf(stderr, "llamaref experiment: cannot create directory %s\n", path);
        return -1;
    }
    return 0;
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fclose(f);
    return 1;
}

/* "1,10,50" -> values (each in [lo, hi]). */
static int parse_list(const char *opt, const char *val, long lo, long hi,
                      long *out, int *n)
{
    const char *p = val;
    *n = 0;
    if (!val || !*val) {
        fprintf(stderr, "llamaref experiment: %s needs a comma-separated list\n", opt);
        return -1;
    }
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < lo || v > hi || (*end && *end != ',') || *n == MAX_LIST) {
            fprintf(stderr, "llamaref experiment: %s: '%s' is not a list of at "
                    "most %d integers in [%ld, %ld]\n", opt, val, MAX_LIST, lo, hi);
            return -1;
        }
        out[(*n)++] = v;
        p = *end ? end + 1 : end;
    }
    return 0;
}

static void progress(long done, long total, void *ctx)
{
    (void)ctx;
    if (cli_stderr_tty()) {
        fprintf(stderr, "\r  probe: %ld / %ld prompts", done, total);
        if (done == total) fprintf(stderr, "\n");
    } else if (done == total || done % 500 == 0) { /* a log file */
        fprintf(stderr, "  probe: %ld / %ld prompts\n", done, total);
    }
}

/* A world directory (docs/world.md): qa.jsonl + shots.jsonl inside. */
static int given(const exp_opts *o, const char *opt)
{
    int i;
    for (i = 0; i < o->n_given; i++)
        if (!strcmp(o->given[i], opt)) return 1;
    return 0;
}

/* A world directory may hold experiment.json: defaults for its model,
 * {"lr": x, "epochs": n, "r": n, "alpha": x, "batch": n, "dropout": x,
 * "bench_format": "letter" | "continuation"} (any subset; dropout in
 * [0, 1), the other numbers positive), kept next to the model
 * (data/world/experiment.json).  A tiny model needs other LoRA settings
 * than the paper's 8B one, and a benchmark scored on answer texts rather
 * than letters; options given on the command line still win, and the
 * report names the file. */
static int world_defaults(exp_opts *o, const char *path)
{
    static const char *const keys[] = {"lr", "epochs", "r", "alpha", "batch", "dropout",
                                       "bench_format"};
    lr_json_doc *doc = NULL;
    const lr_json *root;
    lr_error err;
    size_t i, k;
    int rc = -1;
    if (lr_json_parse_file(path, &doc, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        return -1;
    }
    root = lr_json_root(doc);
    if (root->type != LR_JSON_OBJECT) {
        fprintf(stderr, "llamaref experiment: %s: not a JSON object\n", path);
        goto done;
    }
    for (i = 0; i < root->len; i++) {
        const lr_json *v = &root->items[i];
        const char *key = root->keys[i];
        char opt[32];
        for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (!strcmp(key, keys[k])) break;
        if (k == sizeof keys / sizeof keys[0]) {
            fprintf(stderr, "llamaref experiment: %s:%d: unknown key \"%s\" (lr, epochs, "
                    "r, alpha, batch, dropout, bench_format)\n", path, v->line, key);
            goto done;
        }
        snprintf(opt, sizeof opt, "--%s", k == 6 ? "bench-format" : key);
        if (k == 6) {
            lr_mmlu_format f;
            if (v->type != LR_JSON_STRING || lr_mmlu_format_parse(v->str, &f)) {
                fprintf(stderr, "llamaref experiment: %s:%d: \"bench_format\" must be "
                        "\"letter\" or \"continuation\"\n", path, v->line);
                goto done;
            }
            if (!given(o, opt)) o->bench_format = f;
            continue;
        }
        if (v->type != LR_JSON_NUMBER || v->number > 1e6 ||
            (k == 5 ? !(v->number >= 0 && v->number < 1) : !(v->number > 0)) ||
            (k == 1 || k == 2 || k == 4 ? !v->is_integer : 0)) {
            fprintf(stderr, "llamaref experiment: %s:%d: \"%s\" must be %s\n",
                    path, v->line, key, k == 1 || k == 2 || k == 4 ? "a positive integer" :
                    k == 5 ? "a number in [0, 1)" : "a positive number");
            goto done;
        }
        if (given(o, opt)) continue;
        switch (k) {
        case 0: o->lr = v->number; break;
        case 1: o->epochs = (long)v->integer; break;
        case 2: o->r = (long)v->integer; break;
        case 3: o->alpha = v->number; break;
        case 4: o->batch = (long)v->integer; break;
        default: o->dropout = v->number; break;
        }
    }
    snprintf(o->defaults_path, sizeof o->defaults_path, "%s", path);
    rc = 0;
done:
    lr_json_free(doc);
    return rc;
}

static int resolve_world(exp_opts *o)
{
    char p[4200];
    if (!o->model || !lr_path_is_dir(o->model)) return 0;
    snprintf(p, sizeof p, "%s/qa.jsonl", o->model);
    if (!file_exists(p)) return 0;
#define SETP(buf, fmt) snprintf(o->buf, sizeof o->buf, fmt, o->model)
    SETP(world_facts, "%s/qa.jsonl");
    SETP(world_shots, "%s/shots.jsonl");
    SETP(world_bench, "%s/benchmark");
    SETP(world_valid, "%s/valid.txt");
    snprintf(p, sizeof p, "%s/config.json", o->model);
    if (file_exists(p)) SETP(world_model, "%s");
    else SETP(world_model, "%s/model.bin");
    SETP(world_tok, "%s");
#undef SETP
    if (!o->facts) o->facts = o->world_facts;
    if (!o->shots) o->shots = o->world_shots;
    if (!o->bench && lr_path_is_dir(o->world_bench)) o->bench = o->world_bench;
    if (!o->valid && file_exists(o->world_valid)) o->valid = o->world_valid;
    if (!o->tokenizer) o->tokenizer = o->world_tok;
    /* a world model is pretrained on corpus.txt, whose QA documents are
     * "Question: q\nAnswer: a": the plain prompt, not the chat template */
    if (!o->template_arg) o->template_arg = "plain";
    o->is_world = 1;
    snprintf(p, sizeof p, "%s/experiment.json", o->model);
    if (file_exists(p) && world_defaults(o, p)) return -1;
    o->model = o->world_model;
    if (!file_exists(o->model) && !lr_path_is_dir(o->model)) {
        fprintf(stderr, "llamaref experiment: world directory has no model "
                "(config.json + model.safetensors, or model.bin)\n");
        return -1;
    }
    return 1;
}

/* Refusals and diversity of the greedy answers of a probe (experiment.h). */
static int side_compute(const lr_probe_result *res, size_t n, int n_prompts,
                        side_stats *s, lr_error *err)
{
    const char *const **ans = malloc((n + 1) * sizeof *ans);
    size_t *na = malloc((n + 1) * sizeof *na), i;
    int rc;
    if (!ans || !na) {
        free((void *)ans);
        free(na);
        memset(s, 0, sizeof *s);
        return lr_fail(err, "out of memory");
    }
    for (i = 0; i < n; i++) {
        ans[i] = (const char *const *)res[i].greedy;
        na[i] = (size_t)n_prompts;
    }
    rc = lr_answer_stats_compute(ans, na, n, s, err);
    free((void *)ans);
    free(na);
    return rc;
}

static double ratio(size_t a, size_t b) { return b ? (double)a / (double)b : 0.0; }

/* The world popularity buckets (docs/world.md): a fact's "bucket" field
 * head / torso / tail, or -1 when the fact has none (not a world fact). */
static const char *const bucket_names[3] = {"head", "torso", "tail"};

static int fact_bucket(const lr_fact *f)
{
    const lr_json *v = f->record ? lr_json_get(f->record, "bucket") : NULL;
    int i;
    if (!v || v->type != LR_JSON_STRING) return -1;
    for (i = 0; i < 3; i++)
        if (!strcmp(v->str, bucket_names[i])) return i;
    return -1;
}

static void json_side(lr_buf *b, const side_stats *s)
{
    lr_answer_stats_write_json(b, s, N_TOP, " ");
}

static void md_top(lr_buf *md, const lr_diversity *d)
{
    size_t i;
    for (i = 0; i < d->n_unique && i < N_TOP; i++) {
        lr_buf_puts(md, i ? "; " : " ");
        cli_md_escape(md, d->counts[i].key);
        lr_buf_printf(md, " (%lu)", (unsigned long)d->counts[i].count);
    }
    lr_buf_puts(md, " |\n");
}

/* Benchmark accuracy (lm-evaluation-harness MMLU, docs/evaluation.md) over
 * every subject of dir, size-weighted. */
static int bench_eval(const exp_opts *o, const cli_lm *lm, lr_loglik *L,
                      double *acc, size_t *n_out)
{
    char **subj = NULL, dev_path[4200], test_path[4200];
    int ns = cli_mmlu_subjects("experiment", o->bench, &subj), s, rc = -1;
    size_t total = 0, correct = 0;
    lr_buf ctx = {0};
    lr_error err;
    if (ns < 0) return -1;
    for (s = 0; s < ns; s++) {
        lr_mmlu_items dev, test;
        size_t q, n, shots;
        memset(&dev, 0, sizeof dev);
        memset(&test, 0, sizeof test);
        snprintf(dev_path, sizeof dev_path, "%s/dev/%s_dev.csv", o->bench, subj[s]);
        snprintf(test_path, sizeof test_path, "%s/test/%s_test.csv", o->bench, subj[s]);
        if (lr_mmlu_read(test_path, &test, &err) ||
            (o->bench_shots > 0 && file_exists(dev_path) &&
             lr_mmlu_read(dev_path, &dev, &err))) {
            fprintf(stderr, "llamaref experiment: %s\n", err.msg);
            lr_mmlu_items_free(&test);
            goto done;
        }
        shots = (size_t)o->bench_shots < dev.n ? (size_t)o->bench_shots : dev.n;
        n = o->bench_limit >= 0 && (size_t)o->bench_limit < test.n
                ? (size_t)o->bench_limit : test.n;
        for (q = 0; q < n; q++) {
            double ll[4];
            long pred, pred_norm;
            if (lr_mmlu_score(L, &lm->tok, o->bos, o->bench_format, subj[s],
                              dev.items, shots, &test.items[q], &ctx, ll, &pred,
                              &pred_norm, &err))
                goto item_fail;
            correct += pred == test.items[q].answer;
            total++;
            continue;
        item_fail:
            fprintf(stderr, "llamaref experiment: %s:%lu: %s\n", test_path,
                    test.items[q].line, err.msg);
            lr_mmlu_items_free(&test);
            lr_mmlu_items_free(&dev);
            goto done;
        }
        lr_mmlu_items_free(&test);
        lr_mmlu_items_free(&dev);
    }
    *acc = ratio(correct, total);
    *n_out = total;
    rc = 0;
done:
    for (s = 0; s < ns; s++) free(subj[s]);
    free(subj);
    lr_buf_free(&ctx);
    return rc;
}

/* Reads every benchmark file once before anything runs, so that a
 * malformed CSV (named with its line) stops the experiment at once. */
static int bench_check(exp_opts *o)
{
    char **subj = NULL, path[4200];
    int ns = cli_mmlu_subjects("experiment", o->bench, &subj), s, rc = 0;
    lr_error err;
    if (ns < 0) return -1;
    if (ns == 0) {
        fprintf(stderr, "llamaref experiment: --benchmark %s: no test/*_test.csv\n", o->bench);
        rc = -1;
    }
    for (s = 0; s < ns; s++) {
        int k;
        for (k = 0; k < 2 && !rc; k++) {
            lr_mmlu_items it;
            memset(&it, 0, sizeof it);
            snprintf(path, sizeof path, k ? "%s/dev/%s_dev.csv" : "%s/test/%s_test.csv",
                     o->bench, subj[s]);
            if (k && !file_exists(path)) {
                o->bench_shots_used = 0; /* no dev file: 0-shot */
                continue;
            }
            if (lr_mmlu_read(path, &it, &err)) {
                fprintf(stderr, "llamaref experiment: %s\n", err.msg);
                rc = -1;
            } else if (k && (long)it.n < o->bench_shots_used) {
                o->bench_shots_used = (long)it.n; /* bench_eval takes them all */
            }
            lr_mmlu_items_free(&it);
        }
        free(subj[s]);
    }
    free(subj);
    return rc;
}

/* Perplexity of the first ppl_tokens tokens of --valid (BOS + text). */
static int ppl_eval(const exp_opts *o, const cli_lm *lm, lr_loglik *L, int window,
                    double *ppl)
{
    char *text = NULL;
    size_t len, i, n;
    lr_tokens t = {0};
    int *ids = NULL, rc = -1;
    double nll;
    long count;
    lr_error err;
    if (lr_read_file(o->valid, &text, &len, &err) ||
        lr_tokenizer_encode(&lm->tok, text, len, o->bos ? LR_ENCODE_BOS : 0, &t, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        goto done;
    }
    n = o->ppl_tokens > 0 && (size_t)o->ppl_tokens < t.n ? (size_t)o->ppl_tokens : t.n;
    if (n < 2) {
        fprintf(stderr, "llamaref experiment: %s: fewer than 2 tokens\n", o->valid);
        goto done;
    }
    if (!(ids = malloc(n * sizeof *ids))) goto done;
    for (i = 0; i < n; i++) ids[i] = (int)t.ids[i];
    if (lr_perplexity(L, ids, (int)n, window, window, &nll, &count, &err)) {
        fprintf(stderr, "llamaref experiment: %s: %s\n", o->valid, err.msg);
        goto done;
    }
    *ppl = exp(nll / (double)count);
    rc = 0;
done:
    free(text);
    free(ids);
    lr_tokens_free(&t);
    return rc;
}

/* Benchmark and perplexity of a loaded model (NaN when not requested). */
static int lm_scores(const exp_opts *o, const cli_lm *lm, double *acc,
                     size_t *n_bench, double *ppl)
{
    lr_loglik L;
    lr_error err;
    int window = lm->model->config.max_position_embeddings, rc = 0;
    if (window <= 1 || window > 2048) window = 2048;
    *acc = NAN;
    *ppl = NAN;
    *n_bench = 0;
    if (!o->bench && !o->valid) return 0;
    if (lr_loglik_init(&L, lm->model, 4096, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        return -1;
    }
    if (o->bench) {
        fprintf(stderr, "  benchmark %s\n", o->bench);
        rc = bench_eval(o, lm, &L, acc, n_bench);
    }
    if (!rc && o->valid) {
        fprintf(stderr, "  perplexity %s\n", o->valid);
        rc = ppl_eval(o, lm, &L, window, ppl);
    }
    lr_loglik_free(&L);
    return rc;
}

static int probe_model(cli_lm *lm, const lr_facts *facts,
                       const lr_facts *shots, const lr_probe_options *po,
                       lr_probe_result *res, const char *out_path)
{
    lr_probe_stats st;
    lr_error err;
    lr_buf b = {0};
    int rc;
    if (lr_probe_run(lm->model, &lm->tok, facts, shots, po, res, &st, progress,
                     NULL, &err)) {
        fprintf(stderr, "\nllamaref experiment: probe: %s\n", err.msg);
        return -1;
    }
    lr_probe_write_jsonl(&b, facts, res, po, NULL);
    rc = b.oom ? (fprintf(stderr, "llamaref experiment: out of memory\n"), -1)
               : cli_write("experiment", out_path, b.data ? b.data : "", b.len);
    lr_buf_free(&b);
    return rc;
}

static void free_results(lr_probe_result *res, size_t n, const lr_probe_options *po)
{
    size_t i;
    if (!res) return;
    for (i = 0; i < n; i++) lr_probe_result_free(&res[i], po);
    free(res);
}

/* The paper's training options: the library's defaults (train_run.h)
 * with rsLoRA on. */
static void paper_train(lr_train_options *t)
{
    lr_train_options_default(t);
    t->rslora = 1;
}

/* The training run on the mixture with the experiment's training options
 * (lr_train_run, as `llamaref train` runs it); its progress goes to
 * stderr. */
static int train_adapter(const exp_opts *o, const char *data, const char *out,
                         long seed)
{
    lr_train_options t;
    lr_train_options_default(&t);
    t.model = o->model; t.tokenizer = o->tokenizer;
    t.data = data; t.out = out;
    t.targets = o->targets; t.r = o->r; t.alpha = o->alpha;
    t.dropout = o->dropout; t.lr = o->lr; t.schedule = o->schedule;
    t.epochs = o->epochs; t.batch = o->batch; t.seed = seed;
    t.max_norm = o->max_norm; t.wd = o->wd; t.rslora = o->rslora;
    t.log_every = 10; /* a log file: a line per 10 steps */
    if (cli_prepare_out("train", out, 1)) return -1;
    return cli_train(&t) ? -1 : 0;
}

static void json_run(lr_buf *b, const run_result *r, const char *kind)
{
    size_t i, j;
    lr_buf_printf(b, "{\"n_unknown\": %ld, \"extra\": %ld, \"kind\": \"%s\", "
                  "\"seed\": %ld, \"dir\": \"runs/%s\", \"status\": \"%s\"",
                  r->n, r->k, kind, r->seed, r->name, r->ok ? "ok" : "skipped");
    if (!r->ok) {
        lr_buf_puts(b, ", \"reason\": ");
        lr_json_write_string(b, r->reason, strlen(r->reason));
        lr_buf_puts(b, "}");
        return;
    }
    lr_buf_printf(b, ", \"examples\": %lu, \"known_extras_reused\": %lu, "
                  "\"trained_facts\": %lu,\n     \"reliability\": ",
                  (unsigned long)r->examples, (unsigned long)r->reused,
                  (unsigned long)r->trained_facts);
    lr_json_write_number(b, r->reliability);
    lr_buf_puts(b, ", \"highly_known_after\": ");
    lr_json_write_number(b, r->hk_after);
    lr_buf_puts(b, ", \"reliability_all\": ");
    lr_json_write_number(b, r->reliability_all);
    lr_buf_puts(b, ",\n     \"transition_counts\": [");
    for (i = 0; i < LR_SLICK_N; i++) {
        lr_buf_puts(b, i ? ", [" : "[");
        for (j = 0; j < LR_SLICK_N; j++)
            lr_buf_printf(b, "%s%lu", j ? ", " : "", (unsigned long)r->shift.count[i][j]);
        lr_buf_puts(b, "]");
    }
    lr_buf_puts(b, "], \"positive_shift\": ");
    lr_json_write_number(b, r->shift.positive);
    lr_buf_puts(b, ", \"negative_shift\": ");
    lr_json_write_number(b, r->shift.negative);
    lr_buf_puts(b, ",\n     \"after\": {");
    json_side(b, &r->after);
    lr_buf_puts(b, "},\n     \"benchmark_acc\": ");
    lr_json_write_number(b, r->bench_acc);
    lr_buf_printf(b, ", \"benchmark_questions\": %lu, \"ppl\": ",
                  (unsigned long)r->bench_n);
    lr_json_write_number(b, r->ppl);
    lr_buf_puts(b, ", \"seconds\": ");
    lr_json_write_number(b, r->seconds);
    lr_buf_puts(b, "}");
}

/* One grid point: mixture -> train -> probe -> scores. */
static int run_point(const exp_opts *o, lr_facts *facts, const lr_facts *shots,
                     const lr_probe_options *po, const lr_slick *before,
                     const char *runs_dir, run_result *r)
{
    char dir[4300], path[4400], adapter[4400];
    lr_mixture mx;
    lr_error err;
    lr_buf b = {0};
    cli_lm lm;
    lr_probe_result *res = NULL;
    lr_slick *after = NULL;
    size_t e, i;
    lr_reliability rel;
    unsigned char *seen = NULL;
    int rc = -1;
    double t0 = wall();
    const char *kind = o->kind == LR_MIX_KNOWN ? "known" : "paraphrase";

    memset(&mx, 0, sizeof mx);
    memset(&lm, 0, sizeof lm);
    snprintf(r->name, sizeof r->name, "n%ld_k%ld_%s_s%ld", r->n, r->k, kind, r->seed);
    snprintf(dir, sizeof dir, "%s/%s", runs_dir, r->name);
    fprintf(stderr, "  mixture: %ld unknown facts + %ld %s each, seed %ld\n",
            r->n, r->k, kind, r->seed);
    if (lr_mixture_build(facts, (size_t)r->n, (size_t)r->k, o->kind,
                         (uint64_t)r->seed, &mx, &err)) {
        /* too few Unknown / HighlyKnown facts or no paraphrases: the grid
         * point cannot be built from this model's categories */
        snprintf(r->reason, sizeof r->reason, "%s", err.msg);
        fprintf(stderr, "  skipped: %s\n", err.msg);
        r->ok = 0;
        return 0;
    }
    if (make_dir(dir)) goto done;
    snprintf(path, sizeof path, "%s/train.jsonl", dir);
    lr_mixture_write_jsonl(&b, &mx, LR_PROBE_SYSTEM, po->style == LR_PROMPT_PLAIN, NULL);
    if (b.oom || cli_write("experiment", path, b.data, b.len)) goto done;
    r->examples = mx.n;
    r->reused = mx.n_reused;
    snprintf(adapter, sizeof adapter, "%s/adapter", dir);
    fprintf(stderr, "  train: %lu examples -> %s\n", (unsigned long)mx.n, adapter);
    if (make_dir(adapter) || train_adapter(o, path, adapter, r->seed)) goto done;
    lm.model_path = o->model;
    lm.tok_path = o->tokenizer;
    lm.adapter_path = adapter;
    fprintf(stderr, "  probe with the adapter: %lu facts x %d prompts\n",
            (unsigned long)facts->n, po->n_prompts);
    if (cli_lm_load(&lm, "experiment")) goto done;
    res = calloc(facts->n + 1, sizeof *res);
    after = calloc(facts->n + 1, sizeof *after);
    seen = calloc(facts->n + 1, 1);
    if (!res || !after || !seen) { fprintf(stderr, "llamaref experiment: out of memory\n"); goto done; }
    snprintf(path, sizeof path, "%s/probe.jsonl", dir);
    if (probe_model(&lm, facts, shots, po, res, path)) goto done;
    for (i = 0; i < facts->n; i++) after[i] = res[i].category;
    if (lr_shift_matrix(before, after, facts->n, &r->shift, &err) ||
        side_compute(res, facts->n, po->n_prompts, &r->after, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        goto done;
    }
    /* reliability over the trained Unknown facts (each counted once) */
    memset(&rel, 0, sizeof rel);
    for (e = 0; e < mx.n; e++) {
        size_t f = (size_t)(mx.ex[e].fact - facts->items);
        /* role 0 / 1: the example's own question is a probed fact */
        int unknown = mx.ex[e].role == 0 && !seen[f];
        if (unknown) seen[f] = 1;
        lr_reliability_add(&rel, unknown, mx.ex[e].role == 0 || mx.ex[e].role == 1,
                           (size_t)po->n_prompts, res[f].n_greedy_correct,
                           res[f].category == LR_SLICK_HIGHLY_KNOWN);
    }
    r->trained_facts = rel.found;
    r->reliability = lr_reliability_value(&rel, 0);
    r->hk_after = lr_reliability_hk(&rel, 0);
    r->reliability_all = lr_reliability_all(&rel, 0);
    if (lm_scores(o, &lm, &r->bench_acc, &r->bench_n, &r->ppl)) goto done;
    r->seconds = wall() - t0;
    r->ok = 1;
    /* per-run metrics next to its files */
    b.len = 0;
    json_run(&b, r, kind);
    lr_buf_puts(&b, "\n");
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    if (b.oom || cli_write("experiment", path, b.data, b.len)) goto done;
    fprintf(stderr, "  reliability %.4f, positive shift %.4f, negative shift %.4f, "
            "refusals %lu, benchmark %.4f, ppl %.3f (%.0f s)\n", r->reliability,
            r->shift.positive, r->shift.negative, (unsigned long)r->after.refusals,
            r->bench_acc, r->ppl, r->seconds);
    rc = 0;
done:
    free_results(res, facts->n, po);
    free(after);
    free(seen);
    cli_lm_free(&lm);
    lr_mixture_free(&mx);
    lr_buf_free(&b);
    return rc;
}

/* ---- aggregation over seeds and the report ---- */

typedef double (*metric_fn)(const run_result *r);
static double m_rel(const run_result *r) { return r->reliability; }
static double m_hk(const run_result *r) { return r->hk_after; }
static double m_pos(const run_result *r) { return r->shift.positive; }
static double m_neg(const run_result *r) { return r->shift.negative; }
static double m_bench(const run_result *r) { return r->bench_acc; }
static double m_ppl(const run_result *r) { return r->ppl; }
static double m_refusal(const run_result *r) { return ratio(r->after.refusals, r->after.answers); }
static double m_qrefusal(const run_result *r) { return ratio(r->after.questions_refusing, r->after.questions); }
static double m_unique(const run_result *r) { return (double)r->after.div.n_unique; }
static double m_mean(const run_result *r) { return r->after.div.mean_freq; }
static double m_std(const run_result *r) { return r->after.div.std_freq; }
static double m_over(const run_result *r) { return (double)r->after.div.n_over; }

/* Mean and sample std over the seeds of grid point (n, k); NaN when no
 * run succeeded.  Returns the number of runs. */
static int agg(const run_result *runs, size_t n_runs, long n, long k,
               metric_fn f, double *mean, double *sd)
{
    double v[MAX_LIST];
    size_t i, c = 0;
    for (i = 0; i < n_runs; i++)
        if (runs[i].ok && runs[i].n == n && runs[i].k == k && c < MAX_LIST)
            v[c++] = f(&runs[i]);
    lr_mean_std(v, c, mean, sd);
    return (int)c;
}

static void md_cell(lr_buf *md, const run_result *runs, size_t n_runs, long n,
                    long k, metric_fn f, const char *fmt)
{
    double m, sd;
    int c = agg(runs, n_runs, n, k, f, &m, &sd);
    if (!c || m != m) { lr_buf_puts(md, " – |"); return; }
    lr_buf_puts(md, " ");
    lr_buf_printf(md, fmt, m);
    if (c > 1) { lr_buf_puts(md, " ± "); lr_buf_printf(md, fmt, sd); }
    lr_buf_puts(md, " |");
}

/* A table: rows n unknown, columns k extra (cf. the paper's tables). */
static void md_grid(lr_buf *md, const exp_opts *o, const run_result *runs,
                    size_t n_runs, metric_fn f, const char *fmt)
{
    int i, j;
    const char *kind = o->kind == LR_MIX_KNOWN ? "HK" : "paraphrases";
    lr_buf_puts(md, "| unknown facts |");
    for (j = 0; j < o->n_extra; j++)
        if (o->extra[j]) lr_buf_printf(md, " +%ld %s |", o->extra[j], kind);
        else lr_buf_puts(md, " no extra |");
    lr_buf_puts(md, "\n|---:|");
    for (j = 0; j < o->n_extra; j++) lr_buf_puts(md, "---:|");
    lr_buf_puts(md, "\n");
    for (i = 0; i < o->n_unknown; i++) {
        lr_buf_printf(md, "| %ld |", o->unknown[i]);
        for (j = 0; j < o->n_extra; j++)
            md_cell(md, runs, n_runs, o->unknown[i], o->extra[j], f, fmt);
        lr_buf_puts(md, "\n");
    }
    lr_buf_puts(md, "\n");
}

/* Line chart of a metric vs n unknown, one series per k (plus an optional
 * constant baseline series); y from y_min (< 0: fitted) to y_max. */
static int chart(const exp_opts *o, const run_result *runs, size_t n_runs,
                 metric_fn f, const char *title, const char *y_label,
                 const char *base_label, double base, double y_min,
                 double y_max, const char *file)
{
    double xs[MAX_LIST], ys[(MAX_LIST + 1) * MAX_LIST];
    char names[MAX_LIST + 1][64];
    const char *series[MAX_LIST + 1];
    int i, j, ns = 0, log_x = 1, any = 0;
    lr_buf svg = {0};
    lr_error err;
    char path[4300];
    for (i = 0; i < o->n_unknown; i++) {
        xs[i] = (double)o->unknown[i];
        if (xs[i] <= 0) log_x = 0;
    }
    for (j = 0; j < o->n_extra; j++) {
        if (o->extra[j])
            snprintf(names[ns], sizeof names[ns], "+%ld %s", o->extra[j],
                     o->kind == LR_MIX_KNOWN ? "HighlyKnown" : "paraphrases");
        else
            snprintf(names[ns], sizeof names[ns], "no extra");
        series[ns] = names[ns];
        for (i = 0; i < o->n_unknown; i++) {
            double sd;
            if (!agg(runs, n_runs, o->unknown[i], o->extra[j], f,
                     &ys[ns * o->n_unknown + i], &sd))
                ys[ns * o->n_unknown + i] = NAN;
            else any = 1;
        }
        ns++;
    }
    if (!any) return 0; /* nothing ran: no chart */
    if (base_label && base == base) {
        snprintf(names[ns], sizeof names[ns], "%s", base_label);
        series[ns] = names[ns];
        for (i = 0; i < o->n_unknown; i++) ys[ns * o->n_unknown + i] = base;
        ns++;
    }
    if (y_min < 0) {
        /* a fraction that stays high: start the axis at the tenth below
         * the lowest point (at least 0.05 under it) so that a drop of a
         * few points is visible; from 0 when anything is under 0.5 */
        double lo = 1;
        for (i = 0; i < ns * o->n_unknown; i++)
            if (ys[i] == ys[i] && ys[i] < lo) lo = ys[i];
        y_min = lo < 0.5 ? 0 : floor((lo - 0.05) * 10) / 10;
    }
    if (lr_svg_line_chart(&svg, title, log_x ? "unknown facts trained (n, log scale)"
                                             : "unknown facts trained (n)", y_label,
                          series, (size_t)ns, xs, ys, (size_t)o->n_unknown,
                          log_x, y_min, y_max, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        lr_buf_free(&svg);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", o->out, file);
    i = svg.oom ? -1 : cli_write("experiment", path, svg.data, svg.len);
    lr_buf_free(&svg);
    return i ? -1 : 1;
}

/* "How this run differs from the paper": every setting that is not the
 * paper's (EXPERIMENTS.md, pipeline 1), stated in the report itself. */
static void md_differences(lr_buf *md, const exp_opts *o,
                           const lr_probe_options *po, size_t n_facts,
                           size_t n_runs, const run_result *runs)
{
    size_t i, skipped = 0;
    lr_train_options paper;
    for (i = 0; i < n_runs; i++) skipped += !runs[i].ok;
    lr_buf_puts(md, "\n## How this run differs from the paper\n\n"
                "- The paper probes Llama-3.1-8B-Instruct on 21,036 DBpedia "
                "questions; this run probes `");
    cli_md_escape(md, o->model);
    lr_buf_printf(md, "` on %lu facts", (unsigned long)n_facts);
    if (o->limit >= 0)
        lr_buf_printf(md, " (the first %ld of the file%s)", o->limit,
                      o->is_world ? ", whose order is random: a uniform sample" : "");
    lr_buf_puts(md, ".  Absolute numbers depend on the model; the trends are "
                "what compares.\n");
    if (o->is_world)
        lr_buf_puts(md, "- The facts belong to a synthetic world (docs/world.md) that "
                    "the model learnt in pretraining from the world's corpus, so "
                    "whether a fact is known follows how often the corpus states "
                    "it (head / torso / tail), as popularity does for DBpedia "
                    "entities.  A model of a few million parameters or less holds "
                    "far fewer new facts than an 8B one: expect reliability to "
                    "fall at tens of facts where the paper's falls at thousands.\n");
    if (o->defaults_path[0]) {
        lr_buf_puts(md, "- The training settings not given on the command line come "
                    "from `");
        cli_md_escape(md, o->defaults_path);
        lr_buf_puts(md, "`, chosen for this model (the paper's lr and epochs hardly "
                    "move a rank-1 adapter of a model this small).\n");
    }
    if (po->n_prompts != 10 || po->shots_per_prompt != 4 || po->max_new_tokens != 32)
        lr_buf_printf(md, "- Probe: %d prompts x %d shots, up to %d new tokens "
                      "(paper: 10 x 4, 32).\n", po->n_prompts,
                      po->shots_per_prompt, po->max_new_tokens);
    lr_buf_puts(md, "- Greedy answers only, as in the paper, so WeaklyKnown "
                "stays empty.\n");
    paper_train(&paper);
    if (o->r != paper.r || o->alpha != paper.alpha || o->rslora != paper.rslora ||
        o->dropout != paper.dropout || strcmp(o->targets, paper.targets) ||
        o->lr != paper.lr || strcmp(o->schedule, paper.schedule) ||
        o->epochs != paper.epochs || o->batch != paper.batch)
        lr_buf_printf(md, "- Training: r %ld, alpha %g, %s, dropout %g, targets "
                      "%s, lr %g, %s, %ld epochs, batch %ld (paper: r 1, alpha 2, "
                      "rsLoRA, dropout 0.1, gate/up/down_proj, lr 1e-3, linear, "
                      "10 epochs, batch 8 in the code / 16 in the paper).\n",
                      o->r, o->alpha, o->rslora ? "rsLoRA" : "no rsLoRA",
                      o->dropout, o->targets, o->lr, o->schedule, o->epochs,
                      o->batch);
    if (o->n_seeds < 3)
        lr_buf_printf(md, "- %d seed%s (paper: 3).\n", o->n_seeds,
                      o->n_seeds == 1 ? "" : "s");
    lr_buf_puts(md, o->bench
                ? "- The benchmark is the MMLU-layout set given with --benchmark "
                  "(for a world: questions about its frequently mentioned facts), "
                  "not MMLU; TruthfulQA is not part of the grid.\n"
                : "- No benchmark was given (--benchmark), and TruthfulQA is not "
                  "part of the grid.\n");
    if (o->bench && o->bench_format == LR_MMLU_CONTINUATION)
        lr_buf_puts(md, "- The benchmark scores the text of each choice "
                    "(lm-evaluation-harness `mmlu_continuation`), not the answer "
                    "letter as the paper's MMLU does: a model of a few million "
                    "parameters or less barely learns to pick a letter for an "
                    "answer it knows, so letter accuracy would measure that "
                    "skill rather than its knowledge (docs/experiment.md).\n");
    if (skipped)
        lr_buf_printf(md, "- %lu grid point%s could not be built from this model's "
                      "categories (below).\n", (unsigned long)skipped,
                      skipped == 1 ? "" : "s");
}

static int write_report(const exp_opts *o, const lr_probe_options *po,
                        size_t n_facts, const size_t *cats,
                        const size_t (*by_bucket)[LR_SLICK_N],
                        const side_stats *base, double base_acc,
                        size_t base_bench_n, double base_ppl,
                        const run_result *runs, size_t n_runs, double seconds)
{
    lr_buf b = {0}, md = {0};
    char path[4300];
    size_t i;
    int c_rel, c_neg, c_bench, c_ref, rc = -1;
    const char *kind = o->kind == LR_MIX_KNOWN ? "known" : "paraphrase";

    /* summary.json */
    lr_buf_puts(&b, "{\n  \"command\": \"experiment knowledge\",\n  \"model\": ");
    lr_json_write_string(&b, o->model, strlen(o->model));
    lr_buf_puts(&b, ",\n  \"facts\": ");
    lr_json_write_string(&b, o->facts, strlen(o->facts));
    lr_buf_puts(&b, ",\n  \"train_defaults\": ");
    if (o->defaults_path[0])
        lr_json_write_string(&b, o->defaults_path, strlen(o->defaults_path));
    else
        lr_buf_puts(&b, "null");
    lr_buf_printf(&b, ",\n  \"n_facts\": %lu,\n  \"kind\": \"%s\",\n"
                  "  \"probe\": {\"template\": \"%s\", \"prompts\": %d, "
                  "\"shots_per_prompt\": %d, \"max_new_tokens\": %d},\n"
                  "  \"train\": {\"r\": %ld, \"alpha\": ",
                  (unsigned long)n_facts, kind,
                  po->style == LR_PROMPT_CHAT ? "chat" : "plain", po->n_prompts,
                  po->shots_per_prompt, po->max_new_tokens, o->r);
    lr_json_write_number(&b, o->alpha);
    lr_buf_printf(&b, ", \"rslora\": %s, \"dropout\": ", o->rslora ? "true" : "false");
    lr_json_write_number(&b, o->dropout);
    lr_buf_puts(&b, ", \"targets\": ");
    lr_json_write_string(&b, o->targets, strlen(o->targets));
    lr_buf_puts(&b, ", \"lr\": ");
    lr_json_write_number(&b, o->lr);
    lr_buf_printf(&b, ", \"schedule\": \"%s\", \"epochs\": %ld, \"batch\": %ld},\n"
                  "  \"benchmark\": {\"format\": \"%s\", \"shots\": %ld, "
                  "\"shots_requested\": %ld},\n"
                  "  \"base\": {\"categories\": {", o->schedule, o->epochs, o->batch,
                  lr_mmlu_format_name(o->bench_format), o->bench_shots_used,
                  o->bench_shots);
    for (i = 0; i < LR_SLICK_N; i++)
        lr_buf_printf(&b, "%s\"%s\": %lu", i ? ", " : "", lr_slick_name((lr_slick)i),
                      (unsigned long)cats[i]);
    lr_buf_puts(&b, "}, ");
    if (by_bucket) {
        size_t j;
        lr_buf_puts(&b, "\"categories_by_bucket\": {");
        for (j = 0; j < 3; j++) {
            lr_buf_printf(&b, "%s\"%s\": {", j ? ", " : "", bucket_names[j]);
            for (i = 0; i < LR_SLICK_N; i++)
                lr_buf_printf(&b, "%s\"%s\": %lu", i ? ", " : "",
                              lr_slick_name((lr_slick)i), (unsigned long)by_bucket[j][i]);
            lr_buf_puts(&b, "}");
        }
        lr_buf_puts(&b, "},\n           ");
    }
    json_side(&b, base);
    lr_buf_puts(&b, ",\n           \"benchmark_acc\": ");
    lr_json_write_number(&b, base_acc);
    lr_buf_printf(&b, ", \"benchmark_questions\": %lu, \"ppl\": ",
                  (unsigned long)base_bench_n);
    lr_json_write_number(&b, base_ppl);
    lr_buf_puts(&b, ", \"probe\": \"runs/base/probe.jsonl\"},\n  \"runs\": [\n");
    for (i = 0; i < n_runs; i++) {
        lr_buf_puts(&b, "    ");
        json_run(&b, &runs[i], kind);
        lr_buf_puts(&b, i + 1 < n_runs ? ",\n" : "\n");
    }
    lr_buf_puts(&b, "  ],\n  \"seconds\": ");
    lr_json_write_number(&b, seconds);
    lr_buf_puts(&b, "\n}\n");
    snprintf(path, sizeof path, "%s/summary.json", o->out);
    if (b.oom || cli_write("experiment", path, b.data, b.len)) goto done;

    /* charts */
    c_rel = chart(o, runs, n_runs, m_rel, "Reliability vs number of unknown facts",
                  "reliability", NULL, NAN, 0, 1, "reliability.svg");
    /* negative shift <= (HighlyKnown + MaybeKnown before) / facts */
    c_neg = chart(o, runs, n_runs, m_neg, "Negative shift vs number of unknown facts",
                  "negative shift (fraction of facts)",
                  "known before (max)", ratio(cats[0] + cats[1], n_facts),
                  0, 0, "negative-shift.svg");
    c_bench = o->bench ? chart(o, runs, n_runs, m_bench,
                               "Benchmark accuracy vs number of unknown facts",
                               "accuracy", "base model", base_acc, 0, 1,
                               "benchmark.svg") : 0;
    c_ref = chart(o, runs, n_runs, m_refusal,
                  "Refusal rate before (flat line) and after training",
                  "refusals / answers", "base model (before)",
                  ratio(base->refusals, base->answers), 0, 0, "refusals.svg");
    if (c_rel < 0 || c_neg < 0 || c_bench < 0 || c_ref < 0) goto done;

    /* report.md */
    lr_buf_printf(&md, "# Knowledge injection with LoRA: how many new facts fit?\n\n"
                  "Reproduces the experiment of \"How Much Knowledge Can You Pack "
                  "into a LoRA Adapter without Harming LLM?\" (Pletenev et al., "
                  "Findings of NAACL 2025), whose settings are the defaults: LoRA "
                  "r 1, alpha 2, rsLoRA.\n\n"
                  "Model `%s`; facts `%s` (%lu probed, %d prompts x %d shots, %s "
                  "template, greedy, up to %d new tokens).  Extra examples: %s.  "
                  "LoRA r %ld, alpha %g%s, dropout %g, targets %s; lr %g, %s "
                  "decay, %ld epochs, batch %ld.  Seeds:",
                  o->model, o->facts, (unsigned long)n_facts, po->n_prompts,
                  po->shots_per_prompt, po->style == LR_PROMPT_CHAT ? "chat" : "plain",
                  po->max_new_tokens,
                  o->kind == LR_MIX_KNOWN ? "HighlyKnown facts" : "paraphrases",
                  o->r, o->alpha, o->rslora ? " (rsLoRA)" : "", o->dropout,
                  o->targets, o->lr, o->schedule, o->epochs, o->batch);
    for (i = 0; i < (size_t)o->n_seeds; i++) lr_buf_printf(&md, " %ld", o->seeds[i]);
    lr_buf_printf(&md, ".  Cells are mean ± sample std over the seeds that ran; "
                  "– = not run (too few facts of a category).  Total time %.0f s.\n\n",
                  seconds);
    lr_buf_puts(&md, "## Base model\n\n| HighlyKnown | MaybeKnown | WeaklyKnown | "
                "Unknown | refusals / answers | questions with a refusal | "
                "unique answers | benchmark acc | perplexity |\n"
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    lr_buf_printf(&md, "| %lu | %lu | %lu | %lu | %.4f | %.4f | %lu | ",
                  (unsigned long)cats[0], (unsigned long)cats[1],
                  (unsigned long)cats[2], (unsigned long)cats[3],
                  ratio(base->refusals, base->answers),
                  ratio(base->questions_refusing, base->questions),
                  (unsigned long)base->div.n_unique);
    if (base_acc == base_acc) lr_buf_printf(&md, "%.4f (%lu q.) | ", base_acc, (unsigned long)base_bench_n);
    else lr_buf_puts(&md, "– | ");
    if (base_ppl == base_ppl) lr_buf_printf(&md, "%.3f |\n\n", base_ppl);
    else lr_buf_puts(&md, "– |\n\n");
    if (by_bucket) {
        size_t j;
        lr_buf_puts(&md, "Base model by the world's popularity bucket (corpus "
                    "mentions m of the fact: head m >= 10, torso 1-9, tail 0; "
                    "docs/world.md):\n\n| bucket | HighlyKnown | MaybeKnown | "
                    "WeaklyKnown | Unknown |\n|---|---:|---:|---:|---:|\n");
        for (j = 0; j < 3; j++)
            lr_buf_printf(&md, "| %s | %lu | %lu | %lu | %lu |\n", bucket_names[j],
                          (unsigned long)by_bucket[j][0], (unsigned long)by_bucket[j][1],
                          (unsigned long)by_bucket[j][2], (unsigned long)by_bucket[j][3]);
        lr_buf_puts(&md, "\n");
    }

    lr_buf_printf(&md, "## Reliability (cf. paper Table 2)\n\nFraction of the %d "
                  "few-shot prompts answered correctly, over the trained Unknown "
                  "facts.\n\n", po->n_prompts);
    md_grid(&md, o, runs, n_runs, m_rel, "%.3f");
    lr_buf_puts(&md, "Fraction of the trained Unknown facts that became HighlyKnown:\n\n");
    md_grid(&md, o, runs, n_runs, m_hk, "%.3f");
    if (c_rel > 0) lr_buf_puts(&md, "![reliability](reliability.svg)\n\n");

    lr_buf_puts(&md, "## Knowledge shifts (cf. paper Table 3)\n\nOver all probed "
                "facts: positive = UK→HK + UK→MK + MK→HK, negative = HK→UK + "
                "HK→MK + MK→UK (fractions of all facts).\n\nPositive shift:\n\n");
    md_grid(&md, o, runs, n_runs, m_pos, "%.4f");
    lr_buf_puts(&md, "Negative shift:\n\n");
    md_grid(&md, o, runs, n_runs, m_neg, "%.4f");
    if (c_neg > 0) lr_buf_puts(&md, "![negative shift](negative-shift.svg)\n\n");

    if (o->bench || o->valid) {
        lr_buf_puts(&md, "## Benchmark and held-out perplexity (cf. paper Table 4)\n\n");
        if (o->bench) {
            lr_buf_printf(&md, "Accuracy on `%s` (MMLU layout, %ld-shot, %s); "
                          "base model %.4f.\n\n", o->bench, o->bench_shots_used,
                          o->bench_format == LR_MMLU_LETTER
                              ? "log-likelihood of \" A\"..\" D\" after the listed "
                                "choices, lm-evaluation-harness `mmlu`"
                              : "log-likelihood of each choice's text after "
                                "\"Question: …\\nAnswer:\", lm-evaluation-harness "
                                "`mmlu_continuation`",
                          base_acc);
            md_grid(&md, o, runs, n_runs, m_bench, "%.4f");
            if (c_bench > 0) lr_buf_puts(&md, "![benchmark](benchmark.svg)\n\n");
        }
        if (o->valid) {
            lr_buf_printf(&md, "Perplexity of `%s`; base model %.3f.\n\n",
                          o->valid, base_ppl);
            md_grid(&md, o, runs, n_runs, m_ppl, "%.3f");
        }
    }

    lr_buf_printf(&md, "## Refusals\n\nBase model: %lu of %lu answers are refusals "
                  "(%.4f); %lu of %lu questions get at least one.  After training, "
                  "refusals / answers:\n\n", (unsigned long)base->refusals,
                  (unsigned long)base->answers, ratio(base->refusals, base->answers),
                  (unsigned long)base->questions_refusing,
                  (unsigned long)base->questions);
    md_grid(&md, o, runs, n_runs, m_refusal, "%.4f");
    lr_buf_puts(&md, "Questions with at least one refusal after training:\n\n");
    md_grid(&md, o, runs, n_runs, m_qrefusal, "%.4f");
    if (c_ref > 0) lr_buf_puts(&md, "![refusals](refusals.svg)\n\n");

    lr_buf_printf(&md, "## Answer diversity (cf. paper Table 7)\n\nOver all "
                  "questions x prompts, refusals excluded.  Base model: %lu unique "
                  "answers, mean frequency %.3f, std %.3f, %lu over-represented "
                  "(> mean + 3 std).\n\nUnique answers:\n\n",
                  (unsigned long)base->div.n_unique, base->div.mean_freq,
                  base->div.std_freq, (unsigned long)base->div.n_over);
    md_grid(&md, o, runs, n_runs, m_unique, "%g"); /* counts: 65, not 65.0 */
    lr_buf_puts(&md, "Mean frequency of an answer:\n\n");
    md_grid(&md, o, runs, n_runs, m_mean, "%.3f");
    lr_buf_puts(&md, "Standard deviation of the frequencies:\n\n");
    md_grid(&md, o, runs, n_runs, m_std, "%.3f");
    lr_buf_puts(&md, "Over-represented answers:\n\n");
    md_grid(&md, o, runs, n_runs, m_over, "%g");
    lr_buf_puts(&md, "Most frequent answers per run:\n\n| run | top answers (count) |\n|---|---|\n");
    lr_buf_puts(&md, "| base |");
    md_top(&md, &base->div);
    for (i = 0; i < n_runs; i++) {
        if (!runs[i].ok) continue;
        lr_buf_printf(&md, "| %s |", runs[i].name);
        md_top(&md, &runs[i].after.div);
    }
    md_differences(&md, o, po, n_facts, n_runs, runs);
    lr_buf_puts(&md, "\n## Runs\n\n| run | status | examples | time (s) |\n|---|---|---:|---:|\n");
    for (i = 0; i < n_runs; i++) {
        if (runs[i].ok)
            lr_buf_printf(&md, "| runs/%s | ok | %lu | %.0f |\n", runs[i].name,
                          (unsigned long)runs[i].examples, runs[i].seconds);
        else
        {
            lr_buf_printf(&md, "| n %ld, k %ld, seed %ld | skipped: ",
                          runs[i].n, runs[i].k, runs[i].seed);
            cli_md_escape(&md, runs[i].reason);
            lr_buf_puts(&md, " | | |\n");
        }
    }
    lr_buf_puts(&md, "\nEach run directory holds `train.jsonl` (the mixture), "
                "`adapter/` (PEFT adapter and training metrics), `probe.jsonl` "
                "and `metrics.json`; the base probe is `runs/base/probe.jsonl`.\n");
    snprintf(path, sizeof path, "%s/report.md", o->out);
    if (md.oom || cli_write("experiment", path, md.data, md.len)) goto done;
    rc = 0;
done:
    lr_buf_free(&b);
    lr_buf_free(&md);
    return rc;
}

/* Relative cost of a grid point, for the ETA (a skipped point still
 * counts: the estimate errs on the long side). */
static double point_work(const exp_opts *o, const lr_probe_options *po,
                         size_t n_facts, long n, long k)
{
    double probe = (double)n_facts * po->n_prompts * (po->max_new_tokens + 16);
    double train = (double)n * (double)(k + 1) * (double)o->epochs * 3.0 * 32.0;
    return probe + train;
}

static int run_knowledge(exp_opts *o)
{
    lr_facts facts, shots;
    lr_probe_options po;
    lr_probe_result *res0 = NULL;
    lr_slick *before = NULL;
    side_stats base;
    run_result *runs = NULL;
    cli_lm lm;
    lr_error err;
    char runs_dir[4200], path[4300];
    size_t i, n_runs = 0, n_total, cats[LR_SLICK_N] = {0};
    size_t by_bucket[3][LR_SLICK_N] = {{0}};
    int have_buckets = 0;
    double base_acc = NAN, base_ppl = NAN, t0 = wall(), t_grid = 0;
    double total_work = 0, done_work = 0;
    size_t base_bench_n = 0;
    int rc = 1, a, b, c, step = 0;

    memset(&facts, 0, sizeof facts);
    memset(&shots, 0, sizeof shots);
    memset(&base, 0, sizeof base);
    memset(&lm, 0, sizeof lm);
    lr_probe_options_default(&po);
    po.n_prompts = (int)o->prompts;
    po.shots_per_prompt = (int)o->shots_per_prompt;
    po.max_new_tokens = (int)o->max_new_tokens;
    if (lr_facts_load(o->facts, &facts, &err) || lr_facts_load(o->shots, &shots, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        goto done;
    }
    if (!shots.n) { fprintf(stderr, "llamaref experiment: %s has no shots\n", o->shots); goto done; }
    if (o->limit >= 0) lr_facts_truncate(&facts, (size_t)o->limit);
    if (!facts.n) { fprintf(stderr, "llamaref experiment: %s has no facts\n", o->facts); goto done; }
    if (o->valid && !file_exists(o->valid)) {
        fprintf(stderr, "llamaref experiment: --valid %s: cannot open\n", o->valid);
        goto done;
    }
    o->bench_shots_used = o->bench_shots;
    if (o->bench && bench_check(o)) goto done;
    if (o->bench && o->bench_shots_used < o->bench_shots)
        fprintf(stderr, "experiment: benchmark %ld-shot: a dev file of %s has fewer "
                "than the %ld shots asked for\n", o->bench_shots_used, o->bench,
                o->bench_shots);
    if (make_dir(o->out)) goto done;
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", o->out);
    if (make_dir(runs_dir)) goto done;
    snprintf(path, sizeof path, "%s/base", runs_dir);
    if (make_dir(path)) goto done;
    n_total = (size_t)o->n_unknown * (size_t)o->n_extra * (size_t)o->n_seeds;
    runs = calloc(n_total + 1, sizeof *runs);
    res0 = calloc(facts.n, sizeof *res0);
    before = calloc(facts.n, sizeof *before);
    if (!runs || !res0 || !before) { fprintf(stderr, "llamaref experiment: out of memory\n"); goto done; }

    /* step 1: the base model */
    fprintf(stderr, "experiment: step 1/%lu: probing the base model (%lu facts x "
            "%d prompts)\n", (unsigned long)(n_total + 1), (unsigned long)facts.n,
            po.n_prompts);
    lm.model_path = o->model;
    lm.tok_path = o->tokenizer;
    if (cli_lm_load(&lm, "experiment")) goto done;
    if (cli_prompt_style("experiment", o->template_arg, &lm, &po.style)) goto done;
    snprintf(path, sizeof path, "%s/base/probe.jsonl", runs_dir);
    if (probe_model(&lm, &facts, &shots, &po, res0, path)) goto done;
    for (i = 0; i < facts.n; i++) {
        before[i] = res0[i].category;
        facts.items[i].category = (int)res0[i].category; /* for the mixtures */
        cats[res0[i].category]++;
        if ((a = fact_bucket(&facts.items[i])) >= 0) {
            by_bucket[a][res0[i].category]++;
            have_buckets = 1;
        }
    }
    if (side_compute(res0, facts.n, po.n_prompts, &base, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        goto done;
    }
    if (lm_scores(o, &lm, &base_acc, &base_bench_n, &base_ppl)) goto done;
    cli_lm_free(&lm);
    t_grid = wall();
    fprintf(stderr, "  base: HighlyKnown %lu, MaybeKnown %lu, Unknown %lu; "
            "refusals %lu / %lu; benchmark %.4f; ppl %.3f (%.0f s)\n",
            (unsigned long)cats[0], (unsigned long)cats[1], (unsigned long)cats[3],
            (unsigned long)base.refusals, (unsigned long)base.answers, base_acc,
            base_ppl, wall() - t0);
    if (have_buckets)
        for (a = 0; a < 3; a++)
            fprintf(stderr, "  base, %s facts: HighlyKnown %lu, MaybeKnown %lu, "
                    "WeaklyKnown %lu, Unknown %lu\n", bucket_names[a],
                    (unsigned long)by_bucket[a][0], (unsigned long)by_bucket[a][1],
                    (unsigned long)by_bucket[a][2], (unsigned long)by_bucket[a][3]);

    /* steps 2..: the grid.  The ETA weighs each grid point by its work:
     * the probe (facts x prompts x (new tokens + 16 prompt rows)) plus
     * training (n (k + 1) examples x epochs x about 3 forward passes of
     * 32 tokens), and scales the time the finished points took. */
    for (a = 0; a < o->n_unknown; a++)
        for (b = 0; b < o->n_extra; b++)
            total_work += (double)o->n_seeds * point_work(o, &po, facts.n,
                                                          o->unknown[a], o->extra[b]);
    for (a = 0; a < o->n_unknown; a++)
        for (b = 0; b < o->n_extra; b++)
            for (c = 0; c < o->n_seeds; c++) {
                run_result *r = &runs[n_runs++];
                double el = wall() - t0;
                step++;
                fprintf(stderr, "experiment: step %d/%lu: n %ld unknown, k %ld, seed "
                        "%ld (elapsed %.0f s", step + 1, (unsigned long)(n_total + 1),
                        o->unknown[a], o->extra[b], o->seeds[c], el);
                if (done_work > 0)
                    fprintf(stderr, ", ETA %.0f s", (wall() - t_grid) / done_work *
                                                        (total_work - done_work));
                fprintf(stderr, ")\n");
                r->n = o->unknown[a];
                r->k = o->extra[b];
                r->seed = o->seeds[c];
                if (run_point(o, &facts, &shots, &po, before, runs_dir, r)) goto done;
                done_work += point_work(o, &po, facts.n, r->n, r->k);
            }
    if (write_report(o, &po, facts.n, cats,
                     have_buckets ? (const size_t (*)[LR_SLICK_N])by_bucket : NULL, &base, base_acc, base_bench_n,
                     base_ppl, runs, n_runs, wall() - t0))
        goto done;
    fprintf(stderr, "experiment: done in %.0f s\n", wall() - t0);
    {
        size_t skipped = 0;
        for (i = 0; i < n_runs; i++) skipped += !runs[i].ok;
        printf("experiment: %lu runs (%lu skipped); report %s/report.md, summary "
               "%s/summary.json\n", (unsigned long)n_runs, (unsigned long)skipped,
               o->out, o->out);
    }
    rc = 0;
done:
    if (runs)
        for (i = 0; i < n_runs; i++) lr_answer_stats_free(&runs[i].after);
    free(runs);
    free_results(res0, facts.n, &po);
    free(before);
    lr_answer_stats_free(&base);
    cli_lm_free(&lm);
    lr_facts_free(&facts);
    lr_facts_free(&shots);
    return rc;
}

int cmd_experiment(int argc, char **argv)
{
    exp_opts o;
    lr_train_options t;
    int i, set_unknown = 0, set_extra = 0, set_seeds = 0, set_limit = 0;
    int set_prompts = 0, set_mnt = 0, set_bl = 0, set_ppl = 0;
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "knowledge")) {
        fprintf(stderr, "llamaref experiment: unknown experiment '%s' (knowledge)\n", argv[1]);
        return 2;
    }
    memset(&o, 0, sizeof o);
    o.kind = LR_MIX_KNOWN;
    o.prompts = 10; o.shots_per_prompt = 4; o.max_new_tokens = 32; o.limit = -1;
    paper_train(&t);
    o.r = t.r; o.alpha = t.alpha; o.rslora = t.rslora; o.dropout = t.dropout;
    o.lr = t.lr; o.epochs = t.epochs; o.batch = t.batch;
    o.max_norm = t.max_norm; o.wd = t.wd;
    o.targets = t.targets; o.schedule = t.schedule;
    o.bench_shots = 5; o.bench_limit = -1; o.ppl_tokens = 0; o.bos = 1;
    parse_list("--unknown", "1,10,50,100,500", 1, 100000000L, o.unknown, &o.n_unknown);
    parse_list("--extra", "0,1,10", 0, 100000L, o.extra, &o.n_extra);
    parse_list("--seeds", "42,1337,10824", 0, 0x7fffffffL, o.seeds, &o.n_seeds);
    for (i = 2; i < argc; i++) {
        const char *s = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (o.n_given < (int)(sizeof o.given / sizeof o.given[0])) o.given[o.n_given++] = s;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) { usage(stdout); return 0; }
#define STR(name, field) else if (!strcmp(s, name)) { if (!v) bad = 1; else { o.field = v; i++; } }
#define INT(name, field, lo, hi) else if (!strcmp(s, name)) { bad = cli_int(s, v, lo, hi, &o.field); i++; }
#define DBL(name, field) else if (!strcmp(s, name)) { bad = cli_double(s, v, &o.field); i++; }
        STR("--model", model) STR("--tokenizer", tokenizer) STR("--facts", facts)
        STR("--shots", shots) STR("--benchmark", bench) STR("--valid", valid)
        STR("--out", out) STR("--template", template_arg) STR("--targets", targets)
        STR("--schedule", schedule)
        INT("--shots-per-prompt", shots_per_prompt, 0, 1000)
        INT("--r", r, 1, 1 << 20) INT("--epochs", epochs, 1, 1 << 20)
        INT("--batch", batch, 1, 1 << 20) INT("--bench-shots", bench_shots, 0, 100)
        DBL("--alpha", alpha) DBL("--dropout", dropout) DBL("--lr", lr)
        DBL("--max-grad-norm", max_norm) DBL("--weight-decay", wd)
        else if (!strcmp(s, "--prompts")) { bad = cli_int(s, v, 1, 1000, &o.prompts); i++; set_prompts = 1; }
        else if (!strcmp(s, "--max-new-tokens")) { bad = cli_int(s, v, 1, 1 << 20, &o.max_new_tokens); i++; set_mnt = 1; }
        else if (!strcmp(s, "--limit")) { bad = cli_int(s, v, 1, 0x7fffffffL, &o.limit); i++; set_limit = 1; }
        else if (!strcmp(s, "--bench-limit")) { bad = cli_int(s, v, 1, 0x7fffffffL, &o.bench_limit); i++; set_bl = 1; }
        else if (!strcmp(s, "--ppl-tokens")) { bad = cli_int(s, v, 2, 0x7fffffffL, &o.ppl_tokens); i++; set_ppl = 1; }
        else if (!strcmp(s, "--unknown")) { bad = parse_list(s, v, 1, 100000000L, o.unknown, &o.n_unknown); i++; set_unknown = 1; }
        else if (!strcmp(s, "--extra")) { bad = parse_list(s, v, 0, 100000L, o.extra, &o.n_extra); i++; set_extra = 1; }
        else if (!strcmp(s, "--seeds")) { bad = parse_list(s, v, 0, 0x7fffffffL, o.seeds, &o.n_seeds); i++; set_seeds = 1; }
        else if (!strcmp(s, "--kind") && v) {
            if (!strcmp(v, "known")) o.kind = LR_MIX_KNOWN;
            else if (!strcmp(v, "paraphrase")) o.kind = LR_MIX_PARAPHRASE;
            else { fprintf(stderr, "llamaref experiment: --kind must be known or paraphrase\n"); return 2; }
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
        if (bad) {
            if (!v) fprintf(stderr, "llamaref experiment: %s needs a value\n", s);
            return 2;
        }
    }
    if (o.quick) {
        if (!set_unknown) parse_list("--unknown", "1,10,50", 1, 100000000L, o.unknown, &o.n_unknown);
        if (!set_extra) parse_list("--extra", "0,1", 0, 100000L, o.extra, &o.n_extra);
        if (!set_seeds) parse_list("--seeds", "42", 0, 0x7fffffffL, o.seeds, &o.n_seeds);
        if (!set_limit) o.limit = 200;
        if (!set_prompts) o.prompts = 4;
        if (!set_mnt) o.max_new_tokens = 16;
        if (!set_bl) o.bench_limit = 50;
        if (!set_ppl) o.ppl_tokens = 4096;
    }
    if (resolve_world(&o) < 0) return 1;
    if (!o.model || !o.facts || !o.shots || !o.out) {
        fprintf(stderr, "llamaref experiment: --model, --facts, --shots and --out "
                "are required (a world directory as --model supplies --facts and "
                "--shots; see --help)\n");
        return 2;
    }
    if (strcmp(o.schedule, "linear") && strcmp(o.schedule, "cosine") &&
        strcmp(o.schedule, "constant")) {
        fprintf(stderr, "llamaref experiment: --schedule must be linear, cosine or constant\n");
        return 2;
    }
    return run_knowledge(&o);
}
