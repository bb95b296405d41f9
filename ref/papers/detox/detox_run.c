/* detox_run.c - few-shot detoxification runs (detox_run.h): the inputs,
 * the sampled rewrites with their refusal flags and chrF, and the JSONL /
 * JSON / Markdown / SVG outputs in memory.  Prints nothing.  Under mpirun
 * the inputs are sharded over the ranks and gathered in input order
 * (par.h), so rank 0's outputs are those of one process.
 * Depends on: par.h, detox.h, generate.h, prefix_cache.h, sampler.h, rng.h,
 * chrf.h, refusal.h, svg.h, json.h, report.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/eval/chrf.h"
#include "llamaref/papers/detox/detox_run.h"
#include "llamaref/core/json.h"
#include "llamaref/core/par.h"
#include "llamaref/model/prefix_cache.h"
#include "llamaref/papers/knowledge/refusal.h"
#include "llamaref/core/report.h"
#include "llamaref/core/rng.h"
#include "llamaref/model/sampler.h"
#include "llamaref/core/svg.h"
#include "llamaref/core/tokens.h"

void lr_detox_inputs_free(lr_detox_input *r, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) { free(r[i].src); free(r[i].ref); }
    free(r);
}

int lr_detox_inputs_read(const char *path, lr_detox_input **out, size_t *n_out,
                         lr_error *err)
{
    char *data;
    size_t len, pos = 0, n = 0, cap = 0;
    long col_src = 0, col_ref = -1;
    int tsv, first = 1;
    unsigned long line = 0;
    lr_detox_input *rows = NULL;
    size_t pl = strlen(path);
    if (lr_read_file(path, &data, &len, err)) return -1;
    tsv = pl > 4 && !strcmp(path + pl - 4, ".tsv");
    while (pos < len) {
        size_t end = pos, e;
        char *fields[64];
        int nf = 0;
        while (end < len && data[end] != '\n') end++;
        e = end;
        if (e > pos && data[e - 1] == '\r') e--;
        line++;
        data[e] = 0;
        if (tsv) {
            char *p = data + pos;
            fields[nf++] = p;
            while ((p = strchr(p, '\t')) != NULL && nf < 64) { *p++ = 0; fields[nf++] = p; }
        } else {
            fields[nf++] = data + pos;
        }
        pos = end + 1;
        if (tsv && first) {
            int k;
            first = 0;
            for (k = 0; k < nf; k++) {
                if (!strcmp(fields[k], "toxic_sentence")) col_src = k;
                if (!strcmp(fields[k], "neutral_sentence")) col_ref = k;
            }
            continue;
        }
        if (!*fields[0] && nf == 1) continue; /* blank line */
        if (col_src >= nf || (col_ref >= 0 && col_ref >= nf)) {
            lr_fail(err, "%s:%lu: %d fields, the header names column %ld", path,
                    line, nf, col_ref > col_src ? col_ref + 1 : col_src + 1);
            goto fail;
        }
        if (n == cap) {
            lr_detox_input *p;
            cap = cap ? 2 * cap : 64;
            p = realloc(rows, cap * sizeof *p);
            if (!p) goto oom;
            rows = p;
        }
        rows[n].src = lr_strdup(fields[col_src], NULL);
        rows[n].ref = col_ref >= 0 ? lr_strdup(fields[col_ref], NULL) : NULL;
        n++;
        if (!rows[n - 1].src || (col_ref >= 0 && !rows[n - 1].ref)) goto oom;
    }
    free(data);
    *out = rows;
    *n_out = n;
    return 0;
oom:
    lr_fail(err, "out of memory");
fail:
    lr_detox_inputs_free(rows, n);
    free(data);
    return -1;
}

void lr_detox_run_options_default(lr_detox_run_options *o)
{
    memset(o, 0, sizeof *o);
    o->candidates = 1;
    o->n_shots = -1;
    o->seed = 42;
    o->max_new = 512;
    o->temperature = 0.9;
    o->top_p = 0.9;
}

int lr_detox_load(const char *shots_path, const char *inputs, long limit,
                  lr_detox_run_options *o, lr_detox_shots *shots,
                  lr_detox_input **rows, size_t *n_rows, lr_error *err)
{
    size_t r;
    *rows = NULL;
    *n_rows = 0;
    if (lr_detox_shots_load(shots_path, o->lang, shots, err)) return -1;
    if (lr_detox_inputs_read(inputs, rows, n_rows, err)) {
        lr_detox_shots_free(shots);
        return -1;
    }
    if (limit >= 0 && (size_t)limit < *n_rows) {
        for (r = (size_t)limit; r < *n_rows; r++) {
            free((*rows)[r].src);
            free((*rows)[r].ref);
        }
        *n_rows = (size_t)limit;
    }
    if (o->n_shots < 0 || (size_t)o->n_shots > shots->n) o->n_shots = (long)shots->n;
    o->shots = shots;
    o->inputs_name = inputs;
    return 0;
}

int lr_detox_run_write(const lr_detox_run_result *r, const char *out, lr_error *err)
{
    char path[4096];
    if (lr_write_file_atomic(out, r->jsonl.data ? r->jsonl.data : "", r->jsonl.len, err))
        return -1;
    lr_report_path(path, sizeof path, out, ".json");
    if (lr_write_file_atomic(path, r->json.data, r->json.len, err)) return -1;
    lr_report_path(path, sizeof path, out, "-detox.svg");
    if (lr_write_file_atomic(path, r->svg.data, r->svg.len, err)) return -1;
    lr_report_path(path, sizeof path, out, ".md");
    return lr_write_file_atomic(path, r->md.data, r->md.len, err);
}

void lr_detox_run_result_free(lr_detox_run_result *r)
{
    if (!r) return;
    lr_buf_free(&r->jsonl);
    lr_buf_free(&r->json);
    lr_buf_free(&r->md);
    lr_buf_free(&r->svg);
    memset(r, 0, sizeof *r);
}

/* what one input contributes to the summary, gathered from its rank */
typedef struct detox_info {
    size_t refusals, empty, out;
    lr_chrf_stats st;           /* of its first candidate (have_refs) */
    double chrf;
} detox_info;

int lr_detox_run(const lr_model *m, const lr_tokenizer *tok,
                 const lr_detox_input *in, size_t n_rows,
                 const lr_detox_run_options *o, lr_detox_run_result *out,
                 lr_error *err)
{
    size_t r, all_n = 0;
    long r0, r1;
    char *all = NULL;
    detox_info *info = NULL;
    lr_prefix_cache pc;
    lr_sampler smp;
    lr_tokens gen = {0};
    lr_buf prompt = {0};
    lr_chrf_config ccfg;
    lr_chrf_stats corpus;
    double sum_chrf = 0;
    char chart[4096];
    int stops[16], n_stops, rc = -1;

    memset(out, 0, sizeof *out);
    memset(&pc, 0, sizeof pc);
    memset(&smp, 0, sizeof smp);
    lr_report_path(chart, sizeof chart, o->out, "-detox.svg");
    out->have_refs = n_rows && in[0].ref;
    n_stops = lr_generation_stops(m, tok, stops);
    if (lr_prefix_cache_init(&pc, m, o->max_len, err) ||
        lr_sampler_init(&smp, m->config.vocab_size, o->temperature, (int)o->top_k,
                        o->top_p, o->min_p, (uint64_t)o->seed, err))
        goto done;
    lr_chrf_config_default(&ccfg);
    lr_chrf_stats_init(&corpus, &ccfg);
    /* under mpirun each rank rewrites its shard of the inputs; rank 0
     * gathers the records and the per-input figures and sums them in input
     * order (par.h); one process: the shard is all of them */
    if (!(info = calloc(n_rows ? n_rows : 1, sizeof *info))) {
        lr_fail(err, "out of memory");
        goto done;
    }
    lr_par_shard((long)n_rows, &r0, &r1);
    for (r = (size_t)r0; r < (size_t)r1; r++) {
        int *ids = NULL, n_ids = 0;
        long c;
        prompt.len = 0;
        if (lr_detox_render(o->style, o->lang, o->shots, (size_t)o->n_shots, in[r].src,
                            &prompt, err) ||
            lr_prompt_tokens(tok, o->style, prompt.data, prompt.len, &ids,
                             &n_ids, err)) {
            lr_fail_prefix(err, "%s: input %lu", o->inputs_name, (unsigned long)r + 1);
            free(ids);
            goto done;
        }
        for (c = 0; c < o->candidates; c++) {
            char *ans, *clean;
            int refusal;
            /* one stream per (input, candidate): reproducible on its own */
            lr_rng_seed(&smp.rng, lr_seed_of(LR_STREAM_DETOX, (uint64_t)o->seed,
                                             (uint64_t)r, (uint64_t)c, 0));
            if (lr_prefix_cache_generate(&pc, ids, n_ids, &smp, (int)o->max_new,
                                         stops, n_stops, &gen, err) ||
                !(ans = lr_answer_text(tok, o->style, gen.ids, gen.n, err))) {
                lr_fail_prefix(err, "%s: input %lu", o->inputs_name,
                               (unsigned long)r + 1);
                free(ids);
                goto done;
            }
            clean = lr_detox_clean(ans, strlen(ans), err);
            free(ans);
            if (!clean || (refusal = lr_is_refusal(clean, err)) < 0) {
                free(clean);
                free(ids);
                goto done;
            }
            info[r].refusals += (size_t)refusal;
            info[r].empty += !*clean;
            info[r].out++;
            if (out->have_refs && c == 0) {
                lr_chrf_stats st;
                const char *refs[1];
                size_t rl[1];
                refs[0] = in[r].ref;
                rl[0] = strlen(in[r].ref);
                if (lr_chrf_sentence_stats(&ccfg, clean, strlen(clean), refs, rl,
                                           1, &st, err)) {
                    lr_fail_prefix(err, "%s: input %lu", o->inputs_name,
                                   (unsigned long)r + 1);
                    free(clean);
                    free(ids);
                    goto done;
                }
                info[r].st = st;
                info[r].chrf = lr_chrf_score(&ccfg, &st);
            }
            lr_buf_puts(&out->jsonl, "{\"source\": ");
            lr_json_write_string(&out->jsonl, in[r].src, strlen(in[r].src));
            lr_buf_puts(&out->jsonl, ", \"output\": ");
            lr_json_write_string(&out->jsonl, clean, strlen(clean));
            lr_buf_printf(&out->jsonl, ", \"candidate\": %ld, \"refusal\": %s", c,
                          refusal ? "true" : "false");
            if (in[r].ref) {
                lr_buf_puts(&out->jsonl, ", \"reference\": ");
                lr_json_write_string(&out->jsonl, in[r].ref, strlen(in[r].ref));
            }
            lr_buf_puts(&out->jsonl, "}\n");
            free(clean);
        }
        free(ids);
        /* rank 0's progress through its shard (all inputs in one process) */
        if ((r - (size_t)r0 + 1) % 10 == 0 && o->progress && lr_par_rank() == 0)
            o->progress(o->progress_ctx, r - (size_t)r0 + 1, (size_t)(r1 - r0));
    }
    if (out->jsonl.oom) { lr_fail(err, "out of memory"); goto done; }
    if (lr_par_gather(info, (long)n_rows, sizeof *info, err) ||
        lr_par_gather_bytes(out->jsonl.data ? out->jsonl.data : "", out->jsonl.len,
                            &all, &all_n, err))
        goto done;
    out->jsonl.len = 0;
    if (lr_par_rank() != 0) { rc = 0; goto done; } /* rank 0 reports */
    lr_buf_append(&out->jsonl, all, all_n);
    for (r = 0; r < n_rows; r++) {
        out->refusals += info[r].refusals;
        out->empty += info[r].empty;
        out->outputs += info[r].out;
        if (out->have_refs && info[r].st.n_orders) { /* its first candidate scored */
            lr_chrf_stats_add(&corpus, &info[r].st);
            sum_chrf += info[r].chrf;
        }
    }
    lr_buf_printf(&out->json, "{\n  \"command\": \"detox\",\n  \"model\": ");
    lr_json_write_string(&out->json, o->model_name, strlen(o->model_name));
    lr_buf_printf(&out->json, ",\n  \"lang\": \"%s\",\n  \"template\": \"%s\",\n"
                  "  \"shots\": %ld,\n  \"inputs\": %lu,\n  \"candidates\": %ld,\n  \"outputs\": %lu,\n"
                  "  \"refusals\": %lu,\n  \"empty\": %lu,\n  \"temperature\": ",
                  o->lang, lr_prompt_style_name(o->style), o->n_shots,
                  (unsigned long)n_rows, o->candidates, (unsigned long)out->outputs,
                  (unsigned long)out->refusals, (unsigned long)out->empty);
    lr_json_write_number(&out->json, o->temperature);
    lr_buf_puts(&out->json, ",\n  \"top_p\": ");
    lr_json_write_number(&out->json, o->top_p);
    lr_buf_printf(&out->json, ",\n  \"top_k\": %ld,\n  \"min_p\": ", o->top_k);
    lr_json_write_number(&out->json, o->min_p);
    lr_buf_printf(&out->json, ",\n  \"seed\": %ld", o->seed);
    if (out->have_refs) {
        lr_buf_puts(&out->json, ",\n  \"chrf_corpus_first_candidate\": ");
        lr_json_write_number(&out->json, lr_chrf_score(&ccfg, &corpus));
        lr_buf_puts(&out->json, ",\n  \"chrf_mean_first_candidate\": ");
        lr_json_write_number(&out->json, n_rows ? sum_chrf / (double)n_rows : 0);
    }
    lr_buf_puts(&out->json, "\n}\n");
    lr_buf_printf(&out->md, "# Few-shot detoxification (%s)\n\nModel `%s`, %s template, "
                  "%ld demonstrations, %lu inputs x %ld candidates, temperature "
                  "%g, top-p %g, top-k %ld, min-p %g, seed %ld.\n\n| | value |\n"
                  "|---|---:|\n| outputs | %lu |\n| refusals | %lu |\n| empty | %lu |\n",
                  o->lang, o->model_name, lr_prompt_style_name(o->style),
                  o->n_shots, (unsigned long)n_rows, o->candidates, o->temperature,
                  o->top_p, o->top_k, o->min_p, o->seed, (unsigned long)out->outputs,
                  (unsigned long)out->refusals, (unsigned long)out->empty);
    {
        const char *labels[3];
        double vals[3];
        size_t nb = 0;
        labels[nb] = "refusal rate";
        vals[nb++] = out->outputs ? (double)out->refusals / (double)out->outputs : 0;
        if (out->have_refs) {
            double cc = lr_chrf_score(&ccfg, &corpus);
            lr_buf_printf(&out->md, "| chrF vs reference (corpus, first candidate) | "
                          "%.4f |\n| chrF vs reference (mean sentence) | %.4f |\n", cc,
                          n_rows ? sum_chrf / (double)n_rows : 0.0);
            labels[nb] = "chrF/100 (corpus)";
            vals[nb++] = cc / 100;
            labels[nb] = "FL (mean chrF/100)";
            vals[nb++] = n_rows ? sum_chrf / (double)n_rows / 100 : 0;
        }
        if (lr_svg_bar_chart(&out->svg, "Few-shot detoxification", "fraction",
                             labels, vals, nb, 1.0, err))
            goto done;
    }
    lr_buf_printf(&out->md, "\n![summary](%s)\n\nScore with `llamaref detox-score "
                  "--pairs %s` (add STA/SIM columns for J).\n",
                  lr_basename(chart), lr_basename(o->out));
    out->chrf_corpus = lr_chrf_score(&ccfg, &corpus);
    rc = out->jsonl.oom || out->json.oom || out->md.oom || out->svg.oom
             ? lr_fail(err, "out of memory") : 0;
done:
    free(info);
    free(all);
    lr_tokens_free(&gen);
    lr_sampler_free(&smp);
    lr_prefix_cache_free(&pc);
    lr_buf_free(&prompt);
    return rc;
}
