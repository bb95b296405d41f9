/* experiment_report.c - the report of the knowledge experiment
 * (experiment_report.h, docs/experiment.md): per-run metrics.json,
 * aggregation over seeds (mean / sd, experiment.h), DIR/summary.json,
 * DIR/report.md and the SVG charts; only writes what the run
 * (experiment_knowledge.c) computed.  Prints nothing.
 * Depends on: experiment_report.h, experiment.h (answer-statistics JSON,
 * mean / sd), experiment_run.h (the paper's training options), svg.h,
 * json.h, report.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/papers/knowledge/experiment_report.h"
#include "llamaref/papers/knowledge/experiment_run.h"
#include "llamaref/core/json.h"
#include "llamaref/papers/knowledge/refusal.h"
#include "llamaref/core/report.h"
#include "llamaref/core/svg.h"
#include "llamaref/train/train_run.h"

static double ratio(size_t a, size_t b) { return b ? (double)a / (double)b : 0.0; }

/* The world popularity buckets (docs/world.md): a fact's "bucket" field
 * head / torso / tail, or -1 when the fact has none (not a world fact). */
const char *const lr_exp_bucket_names[3] = {"head", "torso", "tail"};

int lr_exp_fact_bucket(const lr_fact *f)
{
    const lr_json *v = f->record ? lr_json_get(f->record, "bucket") : NULL;
    int i;
    if (!v || v->type != LR_JSON_STRING) return -1;
    for (i = 0; i < 3; i++)
        if (!strcmp(v->str, lr_exp_bucket_names[i])) return i;
    return -1;
}

static void json_side(lr_buf *b, const lr_answer_stats *s)
{
    lr_answer_stats_write_json(b, s, LR_EXP_N_TOP, " ");
}

static void md_top(lr_buf *md, const lr_diversity *d)
{
    size_t i;
    for (i = 0; i < d->n_unique && i < LR_EXP_N_TOP; i++) {
        lr_buf_puts(md, i ? "; " : " ");
        lr_md_escape(md, d->counts[i].key);
        lr_buf_printf(md, " (%lu)", (unsigned long)d->counts[i].count);
    }
    lr_buf_puts(md, " |\n");
}

void lr_exp_json_run(lr_buf *b, const lr_exp_run *r, const char *kind)
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

/* ---- aggregation over seeds and the report ---- */

typedef double (*metric_fn)(const lr_exp_run *r);
static double m_rel(const lr_exp_run *r) { return r->reliability; }
static double m_hk(const lr_exp_run *r) { return r->hk_after; }
static double m_pos(const lr_exp_run *r) { return r->shift.positive; }
static double m_neg(const lr_exp_run *r) { return r->shift.negative; }
static double m_bench(const lr_exp_run *r) { return r->bench_acc; }
static double m_ppl(const lr_exp_run *r) { return r->ppl; }
static double m_refusal(const lr_exp_run *r) { return ratio(r->after.refusals, r->after.answers); }
static double m_qrefusal(const lr_exp_run *r) { return ratio(r->after.questions_refusing, r->after.questions); }
static double m_unique(const lr_exp_run *r) { return (double)r->after.div.n_unique; }
static double m_mean(const lr_exp_run *r) { return r->after.div.mean_freq; }
static double m_std(const lr_exp_run *r) { return r->after.div.std_freq; }
static double m_over(const lr_exp_run *r) { return (double)r->after.div.n_over; }

/* Mean and sample std over the seeds of grid point (n, k); NaN when no
 * run succeeded.  Returns the number of runs. */
static int agg(const lr_exp_run *runs, size_t n_runs, long n, long k,
               metric_fn f, double *mean, double *sd)
{
    double v[LR_EXP_MAX_LIST];
    size_t i, c = 0;
    for (i = 0; i < n_runs; i++)
        if (runs[i].ok && runs[i].n == n && runs[i].k == k && c < LR_EXP_MAX_LIST)
            v[c++] = f(&runs[i]);
    lr_mean_std(v, c, mean, sd);
    return (int)c;
}

static void md_cell(lr_buf *md, const lr_exp_run *runs, size_t n_runs, long n,
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
static void md_grid(lr_buf *md, const lr_exp_options *o, const lr_exp_run *runs,
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
static int chart(const lr_exp_options *o, const lr_exp_run *runs, size_t n_runs,
                 metric_fn f, const char *title, const char *y_label,
                 const char *base_label, double base, double y_min,
                 double y_max, const char *file, lr_error *err)
{
    double xs[LR_EXP_MAX_LIST], ys[(LR_EXP_MAX_LIST + 1) * LR_EXP_MAX_LIST];
    char names[LR_EXP_MAX_LIST + 1][64];
    const char *series[LR_EXP_MAX_LIST + 1];
    int i, j, ns = 0, log_x = 1, any = 0;
    lr_buf svg = {0};
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
                          log_x, y_min, y_max, err)) {
        lr_buf_free(&svg);
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", o->out, file);
    i = svg.oom ? lr_fail(err, "out of memory")
                : lr_write_file_atomic(path, svg.data, svg.len, err);
    lr_buf_free(&svg);
    return i ? -1 : 1;
}

/* "How this run differs from the paper": every setting that is not the
 * paper's (EXPERIMENTS.md, pipeline 1), stated in the report itself. */
static void md_differences(lr_buf *md, const lr_exp_options *o,
                           const lr_probe_options *po, size_t n_facts,
                           size_t n_runs, const lr_exp_run *runs)
{
    size_t i, skipped = 0;
    lr_train_options paper;
    for (i = 0; i < n_runs; i++) skipped += !runs[i].ok;
    lr_buf_puts(md, "\n## How this run differs from the paper\n\n"
                "- The paper probes Llama-3.1-8B-Instruct on 21,036 DBpedia "
                "questions; this run probes `");
    lr_md_escape(md, o->model);
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
        lr_md_escape(md, o->defaults_path);
        lr_buf_puts(md, "`, chosen for this model (the paper's lr and epochs hardly "
                    "move a rank-1 adapter of a model this small).\n");
    }
    if (po->n_prompts != 10 || po->shots_per_prompt != 4 || po->max_new_tokens != 32)
        lr_buf_printf(md, "- Probe: %d prompts x %d shots, up to %d new tokens "
                      "(paper: 10 x 4, 32).\n", po->n_prompts,
                      po->shots_per_prompt, po->max_new_tokens);
    lr_buf_puts(md, "- Greedy answers only, as in the paper, so WeaklyKnown "
                "stays empty.\n");
    lr_exp_paper_train(&paper);
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

/* the file written whole and atomically, or an error */
static int write_buf(const lr_buf *b, const char *path, lr_error *err)
{
    if (b->oom) return lr_fail(err, "out of memory");
    return lr_write_file_atomic(path, b->data, b->len, err);
}

int lr_exp_write_report(const lr_exp_options *o, const lr_probe_options *po,
                        const lr_exp_base *eb, const lr_exp_run *runs,
                        size_t n_runs, double seconds, lr_error *err)
{
    size_t n_facts = eb->n_facts, base_bench_n = eb->bench_n;
    const size_t *cats = eb->cats;
    const size_t (*by_bucket)[LR_SLICK_N] = eb->by_bucket;
    const lr_answer_stats *base = eb->stats;
    double base_acc = eb->bench_acc, base_ppl = eb->ppl;
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
                  lr_prompt_style_name(po->style), po->n_prompts,
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
            lr_buf_printf(&b, "%s\"%s\": {", j ? ", " : "", lr_exp_bucket_names[j]);
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
        lr_exp_json_run(&b, &runs[i], kind);
        lr_buf_puts(&b, i + 1 < n_runs ? ",\n" : "\n");
    }
    lr_buf_puts(&b, "  ],\n  \"seconds\": ");
    lr_json_write_number(&b, seconds);
    lr_buf_puts(&b, "\n}\n");
    snprintf(path, sizeof path, "%s/summary.json", o->out);
    if (write_buf(&b, path, err)) goto done;

    /* charts */
    c_rel = chart(o, runs, n_runs, m_rel, "Reliability vs number of unknown facts",
                  "reliability", NULL, NAN, 0, 1, "reliability.svg", err);
    /* negative shift <= (HighlyKnown + MaybeKnown before) / facts */
    c_neg = chart(o, runs, n_runs, m_neg, "Negative shift vs number of unknown facts",
                  "negative shift (fraction of facts)",
                  "known before (max)", ratio(cats[0] + cats[1], n_facts),
                  0, 0, "negative-shift.svg", err);
    c_bench = o->bench ? chart(o, runs, n_runs, m_bench,
                               "Benchmark accuracy vs number of unknown facts",
                               "accuracy", "base model", base_acc, 0, 1,
                               "benchmark.svg", err) : 0;
    c_ref = chart(o, runs, n_runs, m_refusal,
                  "Refusal rate before (flat line) and after training",
                  "refusals / answers", "base model (before)",
                  ratio(base->refusals, base->answers), 0, 0, "refusals.svg", err);
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
                  po->shots_per_prompt, lr_prompt_style_name(po->style),
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
            lr_buf_printf(&md, "| %s | %lu | %lu | %lu | %lu |\n", lr_exp_bucket_names[j],
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
            lr_md_escape(&md, runs[i].reason);
            lr_buf_puts(&md, " | | |\n");
        }
    }
    lr_buf_puts(&md, "\nEach run directory holds `train.jsonl` (the mixture), "
                "`adapter/` (PEFT adapter and training metrics), `probe.jsonl` "
                "and `metrics.json`; the base probe is `runs/base/probe.jsonl`.\n");
    snprintf(path, sizeof path, "%s/report.md", o->out);
    if (write_buf(&md, path, err)) goto done;
    rc = 0;
done:
    lr_buf_free(&b);
    lr_buf_free(&md);
    return rc;
}
