/* cmd_experiment.c - `llamaref experiment knowledge`: the knowledge-
 * injection experiment of Pletenev et al. 2025 end to end
 * (docs/experiments.md, experiment 1; docs/experiment.md).
 *
 *   probe the base model once (probe.h)
 *   for every grid point (n unknown facts, k extra examples, seed;
 *   lr_exp_grid_run, experiment_run.h):
 *     build the mixture (mixture.h) -> LoRA training (lr_train_run,
 *     train_run.h, with the paper's settings) -> probe again with the
 *     adapter merged -> reliability, shift matrix, refusals, answer
 *     diversity of the point (lr_exp_point_scores, experiment_run.h),
 *     benchmark accuracy (mmlu.h + loglik.h) and held-out perplexity
 *     (loglik.h)
 *   DIR/summary.json, DIR/report.md and SVG charts (svg.h).
 *
 * Intermediate files live under DIR/runs/ (base/, n<N>_k<K>_<kind>_s<S>/)
 * so that every number can be traced to its mixture, adapter and probe. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_exp.h"
#include "llamaref/diversity.h"
#include "llamaref/experiment.h"
#include "llamaref/experiment_run.h"
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


static double wall(void) { return lr_clock_seconds(); }

static int make_dir(const char *path)
{
    if (lr_make_dir(path)) {
        fprintf(stderr, "llamaref experiment: cannot create directory %s\n", path);
        return -1;
    }
    return 0;
}

int exp_file_exists(const char *path)
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
    lr_exp_defaults d;
    lr_error err;
    if (lr_exp_defaults_read(path, &d, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        return -1;
    }
    if (d.has_lr && !given(o, "--lr")) o->lr = d.lr;
    if (d.has_epochs && !given(o, "--epochs")) o->epochs = d.epochs;
    if (d.has_r && !given(o, "--r")) o->r = d.r;
    if (d.has_alpha && !given(o, "--alpha")) o->alpha = d.alpha;
    if (d.has_batch && !given(o, "--batch")) o->batch = d.batch;
    if (d.has_dropout && !given(o, "--dropout")) o->dropout = d.dropout;
    if (d.has_bench_format && !given(o, "--bench-format")) o->bench_format = d.bench_format;
    snprintf(o->defaults_path, sizeof o->defaults_path, "%s", path);
    return 0;
}

static int resolve_world(exp_opts *o)
{
    char p[4200];
    if (!o->model || !lr_path_is_dir(o->model)) return 0;
    snprintf(p, sizeof p, "%s/qa.jsonl", o->model);
    if (!exp_file_exists(p)) return 0;
#define SETP(buf, fmt) snprintf(o->buf, sizeof o->buf, fmt, o->model)
    SETP(world_facts, "%s/qa.jsonl");
    SETP(world_shots, "%s/shots.jsonl");
    SETP(world_bench, "%s/benchmark");
    SETP(world_valid, "%s/valid.txt");
    snprintf(p, sizeof p, "%s/config.json", o->model);
    if (exp_file_exists(p)) SETP(world_model, "%s");
    else SETP(world_model, "%s/model.bin");
    SETP(world_tok, "%s");
#undef SETP
    if (!o->facts) o->facts = o->world_facts;
    if (!o->shots) o->shots = o->world_shots;
    if (!o->bench && lr_path_is_dir(o->world_bench)) o->bench = o->world_bench;
    if (!o->valid && exp_file_exists(o->world_valid)) o->valid = o->world_valid;
    if (!o->tokenizer) o->tokenizer = o->world_tok;
    /* a world model is pretrained on corpus.txt, whose QA documents are
     * "Question: q\nAnswer: a": the plain prompt, not the chat template */
    if (!o->template_arg) o->template_arg = "plain";
    o->is_world = 1;
    snprintf(p, sizeof p, "%s/experiment.json", o->model);
    if (exp_file_exists(p) && world_defaults(o, p)) return -1;
    o->model = o->world_model;
    if (!exp_file_exists(o->model) && !lr_path_is_dir(o->model)) {
        fprintf(stderr, "llamaref experiment: world directory has no model "
                "(config.json + model.safetensors, or model.bin)\n");
        return -1;
    }
    return 1;
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
    lr_exp_scores sc;
    lr_reliability rel;
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
    if (!(res = calloc(facts->n + 1, sizeof *res))) {
        fprintf(stderr, "llamaref experiment: out of memory\n");
        goto done;
    }
    snprintf(path, sizeof path, "%s/probe.jsonl", dir);
    if (exp_probe_model(&lm, facts, shots, po, res, path)) goto done;
    /* shift, answer statistics, reliability over the trained Unknown
     * facts (each counted once) */
    if (lr_exp_point_scores(before, res, facts, &mx, po->n_prompts, &sc, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        goto done;
    }
    r->shift = sc.shift;
    r->after = sc.after; /* freed with the run */
    rel = sc.rel;
    r->trained_facts = rel.found;
    r->reliability = lr_reliability_value(&rel, 0);
    r->hk_after = lr_reliability_hk(&rel, 0);
    r->reliability_all = lr_reliability_all(&rel, 0);
    if (exp_lm_scores(o, &lm, &r->bench_acc, &r->bench_n, &r->ppl)) goto done;
    r->seconds = wall() - t0;
    r->ok = 1;
    /* per-run metrics next to its files */
    b.len = 0;
    exp_json_run(&b, r, kind);
    lr_buf_puts(&b, "\n");
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    if (b.oom || cli_write("experiment", path, b.data, b.len)) goto done;
    fprintf(stderr, "  reliability %.4f, positive shift %.4f, negative shift %.4f, "
            "refusals %lu, benchmark %.4f, ppl %.3f (%.0f s)\n", r->reliability,
            r->shift.positive, r->shift.negative, (unsigned long)r->after.refusals,
            r->bench_acc, r->ppl, r->seconds);
    rc = 0;
done:
    exp_free_results(res, facts->n, po);
    cli_lm_free(&lm);
    lr_mixture_free(&mx);
    lr_buf_free(&b);
    return rc;
}

/* The grid (lr_exp_grid_run): a progress line with the ETA, then the
 * point into the next run_result. */
typedef struct grid_ctx {
    const exp_opts *o;
    lr_facts *facts;
    const lr_facts *shots;
    const lr_probe_options *po;
    const lr_slick *before;
    const char *runs_dir;
    run_result *runs;
    size_t *n_runs;           /* the runs begun, the failed one included */
    double t0, t_grid;
} grid_ctx;

static int grid_point(void *ctx, const lr_exp_point *p)
{
    grid_ctx *g = ctx;
    run_result *r = &g->runs[(*g->n_runs)++];
    double el = wall() - g->t0;
    fprintf(stderr, "experiment: step %lu/%lu: n %ld unknown, k %ld, seed "
            "%ld (elapsed %.0f s", (unsigned long)(p->index + 2),
            (unsigned long)(p->count + 1), p->n, p->k, p->seed, el);
    /* the time the finished points took, scaled by their share of the work */
    if (p->done_work > 0)
        fprintf(stderr, ", ETA %.0f s", (wall() - g->t_grid) / p->done_work *
                                            (p->total_work - p->done_work));
    fprintf(stderr, ")\n");
    r->n = p->n;
    r->k = p->k;
    r->seed = p->seed;
    return run_point(g->o, g->facts, g->shots, g->po, g->before, g->runs_dir, r) ? -1 : 0;
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
    size_t base_bench_n = 0;
    lr_exp_grid grid;
    grid_ctx gc;
    int rc = 1, a;

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
    if (o->valid && !exp_file_exists(o->valid)) {
        fprintf(stderr, "llamaref experiment: --valid %s: cannot open\n", o->valid);
        goto done;
    }
    o->bench_shots_used = o->bench_shots;
    if (o->bench && exp_bench_check(o)) goto done;
    if (o->bench && o->bench_shots_used < o->bench_shots)
        fprintf(stderr, "llamaref experiment: warning: benchmark %ld-shot: a dev file of %s has fewer "
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
    if (exp_probe_model(&lm, &facts, &shots, &po, res0, path)) goto done;
    for (i = 0; i < facts.n; i++) {
        before[i] = res0[i].category;
        facts.items[i].category = (int)res0[i].category; /* for the mixtures */
        cats[res0[i].category]++;
        if ((a = exp_fact_bucket(&facts.items[i])) >= 0) {
            by_bucket[a][res0[i].category]++;
            have_buckets = 1;
        }
    }
    if (lr_exp_answer_stats(res0, facts.n, po.n_prompts, &base, &err)) {
        fprintf(stderr, "llamaref experiment: %s\n", err.msg);
        goto done;
    }
    if (exp_lm_scores(o, &lm, &base_acc, &base_bench_n, &base_ppl)) goto done;
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
                    "WeaklyKnown %lu, Unknown %lu\n", exp_bucket_names[a],
                    (unsigned long)by_bucket[a][0], (unsigned long)by_bucket[a][1],
                    (unsigned long)by_bucket[a][2], (unsigned long)by_bucket[a][3]);

    /* steps 2..: the grid */
    grid.unknown = o->unknown; grid.n_unknown = o->n_unknown;
    grid.extra = o->extra; grid.n_extra = o->n_extra;
    grid.seeds = o->seeds; grid.n_seeds = o->n_seeds;
    grid.n_facts = facts.n;
    grid.n_prompts = po.n_prompts;
    grid.max_new_tokens = po.max_new_tokens;
    grid.epochs = o->epochs;
    gc.o = o; gc.facts = &facts; gc.shots = &shots; gc.po = &po; gc.before = before;
    gc.runs_dir = runs_dir; gc.runs = runs; gc.n_runs = &n_runs; gc.t0 = t0; gc.t_grid = t_grid;
    if (lr_exp_grid_run(&grid, grid_point, &gc)) goto done;
    if (exp_write_report(o, &po, facts.n, cats,
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
    exp_free_results(res0, facts.n, &po);
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
    memset(&o, 0, sizeof o);
    o.kind = LR_MIX_KNOWN;
    o.prompts = 10; o.shots_per_prompt = 4; o.max_new_tokens = 32; o.limit = -1;
    exp_paper_train(&t);
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
        else if (!strcmp(s, "--prompts")) { bad = cli_int(s, v, 1, 1000, &o.prompts); i++; set_prompts = 1; }
        else if (!strcmp(s, "--max-new-tokens")) { bad = cli_int(s, v, 1, 1 << 20, &o.max_new_tokens); i++; set_mnt = 1; }
        else if (!strcmp(s, "--limit")) { bad = cli_int(s, v, 1, 0x7fffffffL, &o.limit); i++; set_limit = 1; }
        else if (!strcmp(s, "--bench-limit")) { bad = cli_int(s, v, 1, 0x7fffffffL, &o.bench_limit); i++; set_bl = 1; }
        else if (!strcmp(s, "--ppl-tokens")) { bad = cli_int(s, v, 2, 0x7fffffffL, &o.ppl_tokens); i++; set_ppl = 1; }
        else if (!strcmp(s, "--unknown")) { bad = parse_list(s, v, 1, 100000000L, o.unknown, &o.n_unknown); i++; set_unknown = 1; }
        else if (!strcmp(s, "--extra")) { bad = parse_list(s, v, 0, 100000L, o.extra, &o.n_extra); i++; set_extra = 1; }
        else if (!strcmp(s, "--seeds")) { bad = parse_list(s, v, 0, 0x7fffffffL, o.seeds, &o.n_seeds); i++; set_seeds = 1; }
        else if (!strcmp(s, "--template") && v) {
            if (cli_template_arg("experiment", v)) return 2;
            o.template_arg = v;
            i++;
        }
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
        if (bad) return 2; /* the message is printed */
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
