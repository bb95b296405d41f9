/* experiment_knowledge.c - the knowledge experiment end to end
 * (experiment_knowledge.h): a world directory's defaults, the base probe,
 * the grid of mixture -> training -> probe -> scores, benchmark and
 * perplexity, then the report (experiment_report.c).  Progress goes to the
 * caller's hooks; nothing is printed.  Under mpirun every rank walks the
 * grid together and each step is sharded (par.h): training data-parallel
 * (lr_train_run), the probes, benchmark and perplexity over their items;
 * rank 0 alone writes the files and calls the hooks, the other ranks
 * wait at a barrier before reading what it wrote (train.jsonl, the
 * adapter), so the files are those of one process.
 * Depends on: experiment_knowledge.h, experiment_report.h,
 * experiment_run.h, lm.h, probe.h, mixture.h, mmlu.h, loglik.h,
 * train_run.h, par.h. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/papers/knowledge/experiment_knowledge.h"
#include "llamaref/papers/knowledge/experiment_run.h"
#include "llamaref/eval/lm.h"
#include "llamaref/eval/loglik.h"
#include "llamaref/core/par.h"
#include "llamaref/core/report.h"

static double wall(void) { return lr_clock_seconds(); }

/* a progress line through the hooks */
static void say(const lr_exp_hooks *h, const char *fmt, ...)
{
    char line[9000];
    va_list ap;
    if (!h || !h->log) return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    h->log(h->ctx, line);
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fclose(f);
    return 1;
}

/* rank 0 writes (one process: the process) */
static int make_dir(const char *path, lr_error *err)
{
    if (lr_par_rank() != 0) return 0;
    if (lr_make_dir(path)) return lr_fail(err, "cannot create directory %s", path);
    return 0;
}

static int write_out(const char *path, const lr_buf *b, lr_error *err)
{
    if (b->oom) return lr_fail(err, "out of memory");
    if (lr_par_rank() != 0) return 0;
    return lr_write_file_atomic(path, b->data ? b->data : "", b->len, err);
}

static double ratio(size_t a, size_t b) { return b ? (double)a / (double)b : 0.0; }

void lr_exp_options_default(lr_exp_options *o)
{
    static const long unknown[] = {1, 10, 50, 100, 500}, extra[] = {0, 1, 10},
                      seeds[] = {42, 1337, 10824};
    lr_train_options t;
    memset(o, 0, sizeof *o);
    o->kind = LR_MIX_KNOWN;
    o->prompts = 10; o->shots_per_prompt = 4; o->max_new_tokens = 32; o->limit = -1;
    lr_exp_paper_train(&t);
    o->r = t.r; o->alpha = t.alpha; o->rslora = t.rslora; o->dropout = t.dropout;
    o->lr = t.lr; o->epochs = t.epochs; o->batch = t.batch;
    o->max_norm = t.max_norm; o->wd = t.wd;
    o->targets = t.targets; o->schedule = t.schedule;
    o->bench_shots = 5; o->bench_limit = -1; o->ppl_tokens = 0; o->bos = 1;
    memcpy(o->unknown, unknown, sizeof unknown);
    o->n_unknown = 5;
    memcpy(o->extra, extra, sizeof extra);
    o->n_extra = 3;
    memcpy(o->seeds, seeds, sizeof seeds);
    o->n_seeds = 3;
}

int lr_exp_options_check(const lr_exp_options *o, lr_error *err)
{
    if (!o->model || !o->facts || !o->shots || !o->out)
        return lr_fail(err, "--model, --facts, --shots and --out are required (a "
                       "world directory as --model supplies --facts and --shots; "
                       "see --help)");
    if (strcmp(o->schedule, "linear") && strcmp(o->schedule, "cosine") &&
        strcmp(o->schedule, "constant"))
        return lr_fail(err, "--schedule must be linear, cosine or constant");
    return 0;
}

int lr_exp_parse_list(const char *opt, const char *val, long lo, long hi,
                      long *out, int *n, lr_error *err)
{
    const char *p = val;
    *n = 0;
    if (!val || !*val) return lr_fail(err, "%s needs a comma-separated list", opt);
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < lo || v > hi || (*end && *end != ',') || *n == LR_EXP_MAX_LIST)
            return lr_fail(err, "%s: '%s' is not a list of at most %d integers in "
                           "[%ld, %ld]", opt, val, LR_EXP_MAX_LIST, lo, hi);
        out[(*n)++] = v;
        p = *end ? end + 1 : end;
    }
    return 0;
}

int lr_exp_value_option(lr_exp_options *o, const char *opt, const char *val,
                        lr_error *err)
{
    if (!strcmp(opt, "--unknown"))
        return lr_exp_parse_list(opt, val, 1, 100000000L, o->unknown, &o->n_unknown, err);
    if (!strcmp(opt, "--extra"))
        return lr_exp_parse_list(opt, val, 0, 100000L, o->extra, &o->n_extra, err);
    if (!strcmp(opt, "--seeds"))
        return lr_exp_parse_list(opt, val, 0, 0x7fffffffL, o->seeds, &o->n_seeds, err);
    if (!strcmp(opt, "--kind"))
        return lr_mix_kind_parse(val, &o->kind)
               ? lr_fail(err, "--kind must be known or paraphrase") : 0;
    if (!strcmp(opt, "--bench-format"))
        return lr_mmlu_format_parse(val, &o->bench_format)
               ? lr_fail(err, "--bench-format must be letter or continuation") : 0;
    return lr_fail(err, "%s is not an option with a named or listed value", opt);
}

static int given(const lr_exp_options *o, const char *opt)
{
    int i;
    for (i = 0; i < o->n_given; i++)
        if (!strcmp(o->given[i], opt)) return 1;
    return 0;
}

void lr_exp_options_quick(lr_exp_options *o)
{
    static const long unknown[] = {1, 10, 50}, extra[] = {0, 1}, seeds[] = {42};
    if (!given(o, "--unknown")) {
        memcpy(o->unknown, unknown, sizeof unknown);
        o->n_unknown = 3;
    }
    if (!given(o, "--extra")) {
        memcpy(o->extra, extra, sizeof extra);
        o->n_extra = 2;
    }
    if (!given(o, "--seeds")) {
        memcpy(o->seeds, seeds, sizeof seeds);
        o->n_seeds = 1;
    }
    if (!given(o, "--limit")) o->limit = 200;
    if (!given(o, "--prompts")) o->prompts = 4;
    if (!given(o, "--max-new-tokens")) o->max_new_tokens = 16;
    if (!given(o, "--bench-limit")) o->bench_limit = 50;
    if (!given(o, "--ppl-tokens")) o->ppl_tokens = 4096;
}

/* A tiny model needs other LoRA settings than the paper's 8B one, and a
 * benchmark scored on answer texts rather than letters: a world keeps
 * them next to its model (data/world/experiment.json); options given on
 * the command line still win, and the report names the file. */
int lr_exp_world_defaults(lr_exp_options *o, const char *path, lr_error *err)
{
    lr_exp_defaults d;
    if (lr_exp_defaults_read(path, &d, err)) return -1;
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

int lr_exp_resolve_world(lr_exp_options *o, lr_error *err)
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
    if (file_exists(p) && lr_exp_world_defaults(o, p, err)) return -1;
    o->model = o->world_model;
    if (!file_exists(o->model) && !lr_path_is_dir(o->model))
        return lr_fail(err, "world directory has no model (config.json + "
                       "model.safetensors, or model.bin)");
    return 1;
}

int lr_exp_bench_check(lr_exp_options *o, lr_error *err)
{
    char **subj = NULL, path[4200];
    int ns = lr_mmlu_list_subjects(o->bench, &subj, err), s, rc = 0;
    if (ns < 0) return -1;
    if (ns == 0) rc = lr_fail(err, "--benchmark %s: no test/*_test.csv", o->bench);
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
            if (lr_mmlu_read(path, &it, err)) rc = -1;
            else if (k && (long)it.n < o->bench_shots_used)
                o->bench_shots_used = (long)it.n; /* bench_eval takes them all */
            lr_mmlu_items_free(&it);
        }
        free(subj[s]);
    }
    free(subj);
    return rc;
}

/* Benchmark accuracy (lm-evaluation-harness MMLU, docs/evaluation.md) over
 * every subject of o->bench, size-weighted (lr_exp_bench_subject). */
static int bench_eval(const lr_exp_options *o, const lr_lm *lm, lr_loglik *L,
                      double *acc, size_t *n_out, lr_error *err)
{
    char **subj = NULL, dev_path[4200], test_path[4200];
    size_t total = 0, correct = 0;
    int ns = lr_mmlu_list_subjects(o->bench, &subj, err), s, rc = -1;
    if (ns < 0) return -1;
    for (s = 0; s < ns; s++) {
        int dev;
        snprintf(dev_path, sizeof dev_path, "%s/dev/%s_dev.csv", o->bench, subj[s]);
        snprintf(test_path, sizeof test_path, "%s/test/%s_test.csv", o->bench, subj[s]);
        dev = o->bench_shots > 0 && file_exists(dev_path);
        if (lr_exp_bench_subject(L, &lm->tok, o->bos, o->bench_format, subj[s],
                                 dev ? dev_path : NULL, test_path, o->bench_shots,
                                 o->bench_limit, &correct, &total, err))
            goto done;
    }
    *acc = ratio(correct, total);
    *n_out = total;
    rc = 0;
done:
    for (s = 0; s < ns; s++) free(subj[s]);
    free(subj);
    return rc;
}

/* Benchmark and perplexity of the first ppl_tokens tokens of --valid (BOS
 * + text) of a loaded model (NaN when not requested). */
static int lm_scores(const lr_exp_options *o, const lr_lm *lm, const lr_exp_hooks *h,
                     double *acc, size_t *n_bench, double *ppl, lr_error *err)
{
    lr_loglik L;
    int window = lm->model->config.max_position_embeddings, rc = 0;
    if (window <= 1 || window > 2048) window = 2048;
    *acc = NAN;
    *ppl = NAN;
    *n_bench = 0;
    if (!o->bench && !o->valid) return 0;
    if (lr_loglik_init(&L, lm->model, 4096, err)) return -1;
    if (o->bench) {
        say(h, "  benchmark %s\n", o->bench);
        rc = bench_eval(o, lm, &L, acc, n_bench, err);
    }
    if (!rc && o->valid) {
        say(h, "  perplexity %s\n", o->valid);
        rc = lr_exp_perplexity(&L, &lm->tok, o->valid, o->bos, o->ppl_tokens, window,
                               ppl, err);
    }
    lr_loglik_free(&L);
    return rc;
}

/* The probe of every fact, written to out_path (probe.jsonl). */
static int probe_model(const lr_lm *lm, const lr_facts *facts, const lr_facts *shots,
                       const lr_probe_options *po, lr_probe_result *res,
                       const char *out_path, const lr_exp_hooks *h, lr_error *err)
{
    lr_probe_stats st;
    lr_buf b = {0};
    int rc;
    if (lr_probe_run_all(lm->model, &lm->tok, facts, shots, po, res, &st,
                     h ? h->probe_progress : NULL, h ? h->ctx : NULL, err))
        return lr_fail_prefix(err, "probe");
    if (lr_par_rank() == 0) lr_probe_write_jsonl(&b, facts, res, po, NULL);
    rc = write_out(out_path, &b, err);
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

/* The training run on the mixture with the experiment's training options
 * (lr_train_run, as `llamaref train` runs it). */
static int train_adapter(const lr_exp_options *o, const char *data, const char *out,
                         long seed, const lr_exp_hooks *h, lr_error *err)
{
    lr_train_options t;
    lr_train_result res;
    lr_train_options_default(&t);
    t.model = o->model; t.tokenizer = o->tokenizer;
    t.data = data; t.out = out;
    t.targets = o->targets; t.r = o->r; t.alpha = o->alpha;
    t.dropout = o->dropout; t.lr = o->lr; t.schedule = o->schedule;
    t.epochs = o->epochs; t.batch = o->batch; t.seed = seed;
    t.max_norm = o->max_norm; t.wd = o->wd; t.rslora = o->rslora;
    t.log_every = 10; /* a log file: a line per 10 steps */
    if (lr_train_run(&t, h ? h->train : NULL, &res, err)) return -1;
    if (h && h->trained) h->trained(h->ctx, &t, &res);
    /* the other ranks load the adapter rank 0 has written */
    return lr_par_barrier(err);
}

/* What every grid point shares. */
typedef struct grid_ctx {
    const lr_exp_options *o;
    lr_facts *facts;
    const lr_facts *shots;
    const lr_probe_options *po;
    const lr_slick *before;
    const char *runs_dir;
    lr_exp_run *runs;
    size_t *n_runs;           /* the runs begun, the failed one included */
    double t0, t_grid;
    const lr_exp_hooks *h;
    lr_error *err;
} grid_ctx;

/* One grid point: mixture -> train -> probe -> scores. */
static int run_point(const grid_ctx *g, lr_exp_run *r)
{
    const lr_exp_options *o = g->o;
    const lr_probe_options *po = g->po;
    const lr_exp_hooks *h = g->h;
    lr_facts *facts = g->facts;
    lr_error *err = g->err;
    char dir[4300], path[4400], adapter[4400];
    lr_mixture mx;
    lr_buf b = {0};
    lr_lm lm;
    lr_probe_result *res = NULL;
    lr_exp_scores sc;
    lr_reliability rel;
    int rc = -1;
    double t0 = wall();
    const char *kind = o->kind == LR_MIX_KNOWN ? "known" : "paraphrase";

    memset(&mx, 0, sizeof mx);
    memset(&lm, 0, sizeof lm);
    snprintf(r->name, sizeof r->name, "n%ld_k%ld_%s_s%ld", r->n, r->k, kind, r->seed);
    snprintf(dir, sizeof dir, "%s/%s", g->runs_dir, r->name);
    say(h, "  mixture: %ld unknown facts + %ld %s each, seed %ld\n", r->n, r->k, kind,
        r->seed);
    if (lr_mixture_build(facts, (size_t)r->n, (size_t)r->k, o->kind,
                         (uint64_t)r->seed, &mx, err)) {
        /* too few Unknown / HighlyKnown facts or no paraphrases: the grid
         * point cannot be built from this model's categories */
        snprintf(r->reason, sizeof r->reason, "%s", err->msg);
        say(h, "  skipped: %s\n", err->msg);
        r->ok = 0;
        return 0;
    }
    if (make_dir(dir, err)) goto done;
    snprintf(path, sizeof path, "%s/train.jsonl", dir);
    lr_mixture_write_jsonl(&b, &mx, LR_PROBE_SYSTEM, po->style == LR_PROMPT_PLAIN, NULL);
    /* the other ranks train on the file rank 0 has written */
    if (write_out(path, &b, err) || lr_par_barrier(err)) goto done;
    r->examples = mx.n;
    r->reused = mx.n_reused;
    snprintf(adapter, sizeof adapter, "%s/adapter", dir);
    say(h, "  train: %lu examples -> %s\n", (unsigned long)mx.n, adapter);
    if (make_dir(adapter, err) || train_adapter(o, path, adapter, r->seed, h, err))
        goto done;
    lm.model_path = o->model;
    lm.tok_path = o->tokenizer;
    lm.adapter_path = adapter;
    say(h, "  probe with the adapter: %lu facts x %d prompts\n",
        (unsigned long)facts->n, po->n_prompts);
    if (lr_lm_load(&lm, err)) goto done;
    if (!(res = calloc(facts->n + 1, sizeof *res))) {
        lr_fail(err, "out of memory");
        goto done;
    }
    snprintf(path, sizeof path, "%s/probe.jsonl", dir);
    if (probe_model(&lm, facts, g->shots, po, res, path, h, err)) goto done;
    /* shift, answer statistics, reliability over the trained Unknown
     * facts (each counted once) */
    if (lr_exp_point_scores(g->before, res, facts, &mx, po->n_prompts, &sc, err))
        goto done;
    r->shift = sc.shift;
    r->after = sc.after; /* freed with the run */
    rel = sc.rel;
    r->trained_facts = rel.found;
    r->reliability = lr_reliability_value(&rel, 0);
    r->hk_after = lr_reliability_hk(&rel, 0);
    r->reliability_all = lr_reliability_all(&rel, 0);
    if (lm_scores(o, &lm, h, &r->bench_acc, &r->bench_n, &r->ppl, err)) goto done;
    r->seconds = wall() - t0;
    r->ok = 1;
    /* per-run metrics next to its files */
    b.len = 0;
    lr_exp_json_run(&b, r, kind);
    lr_buf_puts(&b, "\n");
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    if (write_out(path, &b, err)) goto done;
    say(h, "  reliability %.4f, positive shift %.4f, negative shift %.4f, "
        "refusals %lu, benchmark %.4f, ppl %.3f (%.0f s)\n", r->reliability,
        r->shift.positive, r->shift.negative, (unsigned long)r->after.refusals,
        r->bench_acc, r->ppl, r->seconds);
    rc = 0;
done:
    free_results(res, facts->n, po);
    lr_lm_free(&lm);
    lr_mixture_free(&mx);
    lr_buf_free(&b);
    return rc;
}

/* The grid (lr_exp_grid_run): a progress line with the ETA, then the
 * point into the next lr_exp_run. */
static int grid_point(void *ctx, const lr_exp_point *p)
{
    grid_ctx *g = ctx;
    lr_exp_run *r = &g->runs[(*g->n_runs)++];
    double el = wall() - g->t0;
    char eta[64] = "";
    /* the time the finished points took, scaled by their share of the work */
    if (p->done_work > 0)
        snprintf(eta, sizeof eta, ", ETA %.0f s", (wall() - g->t_grid) / p->done_work *
                                                      (p->total_work - p->done_work));
    say(g->h, "experiment: step %lu/%lu: n %ld unknown, k %ld, seed %ld (elapsed "
        "%.0f s%s)\n", (unsigned long)(p->index + 2), (unsigned long)(p->count + 1),
        p->n, p->k, p->seed, el, eta);
    r->n = p->n;
    r->k = p->k;
    r->seed = p->seed;
    return run_point(g, r) ? -1 : 0;
}

int lr_exp_knowledge(lr_exp_options *o, const lr_exp_hooks *h, lr_exp_outcome *out,
                     lr_error *err)
{
    lr_facts facts, shots;
    lr_probe_options po;
    lr_probe_result *res0 = NULL;
    lr_slick *before = NULL;
    lr_answer_stats base;
    lr_exp_run *runs = NULL;
    lr_lm lm;
    char runs_dir[4200], path[4300];
    size_t i, n_runs = 0, n_total, cats[LR_SLICK_N] = {0};
    size_t by_bucket[3][LR_SLICK_N] = {{0}};
    int have_buckets = 0;
    double base_acc = NAN, base_ppl = NAN, t0 = wall(), t_grid = 0;
    size_t base_bench_n = 0;
    lr_exp_grid grid;
    lr_exp_base eb;
    grid_ctx gc;
    int rc = -1, a;
    const char *why;

    memset(out, 0, sizeof *out);
    if (lr_par_rank() != 0) h = NULL; /* rank 0 reports */
    memset(&facts, 0, sizeof facts);
    memset(&shots, 0, sizeof shots);
    memset(&base, 0, sizeof base);
    memset(&lm, 0, sizeof lm);
    lr_probe_options_default(&po);
    po.n_prompts = (int)o->prompts;
    po.shots_per_prompt = (int)o->shots_per_prompt;
    po.max_new_tokens = (int)o->max_new_tokens;
    if (lr_facts_load(o->facts, &facts, err) || lr_facts_load(o->shots, &shots, err))
        goto done;
    if (!shots.n) { lr_fail(err, "%s has no shots", o->shots); goto done; }
    if (o->limit >= 0) lr_facts_truncate(&facts, (size_t)o->limit);
    if (!facts.n) { lr_fail(err, "%s has no facts", o->facts); goto done; }
    if (o->valid && !file_exists(o->valid)) {
        lr_fail(err, "--valid %s: cannot open", o->valid);
        goto done;
    }
    o->bench_shots_used = o->bench_shots;
    if (o->bench && lr_exp_bench_check(o, err)) goto done;
    if (o->bench && o->bench_shots_used < o->bench_shots)
        say(h, "experiment: warning: benchmark %ld-shot: a dev file of %s has "
            "fewer than the %ld shots asked for\n", o->bench_shots_used, o->bench,
            o->bench_shots);
    if (make_dir(o->out, err)) goto done;
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", o->out);
    if (make_dir(runs_dir, err)) goto done;
    snprintf(path, sizeof path, "%s/base", runs_dir);
    if (make_dir(path, err)) goto done;
    n_total = (size_t)o->n_unknown * (size_t)o->n_extra * (size_t)o->n_seeds;
    runs = calloc(n_total + 1, sizeof *runs);
    res0 = calloc(facts.n, sizeof *res0);
    before = calloc(facts.n, sizeof *before);
    if (!runs || !res0 || !before) { lr_fail(err, "out of memory"); goto done; }

    /* step 1: the base model */
    say(h, "experiment: step 1/%lu: probing the base model (%lu facts x %d prompts)\n",
        (unsigned long)(n_total + 1), (unsigned long)facts.n, po.n_prompts);
    lm.model_path = o->model;
    lm.tok_path = o->tokenizer;
    if (lr_lm_load(&lm, err)) goto done;
    if (lr_lm_prompt_style(&lm, o->template_arg, &po.style, &why, err)) goto done;
    if (why)
        say(h, "experiment: template %s (auto: %s; --template chat|plain "
            "chooses)\n", lr_prompt_style_name(po.style), why);
    else
        say(h, "experiment: template %s (--template)\n", o->template_arg);
    snprintf(path, sizeof path, "%s/base/probe.jsonl", runs_dir);
    if (probe_model(&lm, &facts, &shots, &po, res0, path, h, err)) goto done;
    for (i = 0; i < facts.n; i++) {
        before[i] = res0[i].category;
        facts.items[i].category = (int)res0[i].category; /* for the mixtures */
        cats[res0[i].category]++;
        if ((a = lr_exp_fact_bucket(&facts.items[i])) >= 0) {
            by_bucket[a][res0[i].category]++;
            have_buckets = 1;
        }
    }
    if (lr_exp_answer_stats(res0, facts.n, po.n_prompts, &base, err)) goto done;
    if (lm_scores(o, &lm, h, &base_acc, &base_bench_n, &base_ppl, err)) goto done;
    lr_lm_free(&lm);
    t_grid = wall();
    say(h, "  base: HighlyKnown %lu, MaybeKnown %lu, Unknown %lu; refusals %lu / %lu; "
        "benchmark %.4f; ppl %.3f (%.0f s)\n", (unsigned long)cats[0],
        (unsigned long)cats[1], (unsigned long)cats[3], (unsigned long)base.refusals,
        (unsigned long)base.answers, base_acc, base_ppl, wall() - t0);
    if (have_buckets)
        for (a = 0; a < 3; a++)
            say(h, "  base, %s facts: HighlyKnown %lu, MaybeKnown %lu, WeaklyKnown %lu, "
                "Unknown %lu\n", lr_exp_bucket_names[a], (unsigned long)by_bucket[a][0],
                (unsigned long)by_bucket[a][1], (unsigned long)by_bucket[a][2],
                (unsigned long)by_bucket[a][3]);

    /* steps 2..: the grid */
    grid.unknown = o->unknown; grid.n_unknown = o->n_unknown;
    grid.extra = o->extra; grid.n_extra = o->n_extra;
    grid.seeds = o->seeds; grid.n_seeds = o->n_seeds;
    grid.n_facts = facts.n;
    grid.n_prompts = po.n_prompts;
    grid.max_new_tokens = po.max_new_tokens;
    grid.epochs = o->epochs;
    gc.o = o; gc.facts = &facts; gc.shots = &shots; gc.po = &po; gc.before = before;
    gc.runs_dir = runs_dir; gc.runs = runs; gc.n_runs = &n_runs; gc.t0 = t0;
    gc.t_grid = t_grid; gc.h = h; gc.err = err;
    if (lr_exp_grid_run(&grid, grid_point, &gc)) goto done;
    eb.n_facts = facts.n;
    eb.cats = cats;
    eb.by_bucket = have_buckets ? (const size_t (*)[LR_SLICK_N])by_bucket : NULL;
    eb.stats = &base;
    eb.bench_acc = base_acc;
    eb.bench_n = base_bench_n;
    eb.ppl = base_ppl;
    if (lr_par_rank() == 0 &&
        lr_exp_write_report(o, &po, &eb, runs, n_runs, wall() - t0, err))
        goto done;
    say(h, "experiment: done in %.0f s\n", wall() - t0);
    out->n_runs = n_runs;
    for (i = 0; i < n_runs; i++) out->skipped += !runs[i].ok;
    rc = 0;
done:
    if (runs)
        for (i = 0; i < n_runs; i++) lr_answer_stats_free(&runs[i].after);
    free(runs);
    free_results(res0, facts.n, &po);
    free(before);
    lr_answer_stats_free(&base);
    lr_lm_free(&lm);
    lr_facts_free(&facts);
    lr_facts_free(&shots);
    return rc;
}
