/* cmd_detox.c - `llamaref detox`: few-shot rewriting of toxic sentences
 * (detox.h), one or several sampled candidates per input, newlines
 * stripped, refusals flagged (refusal.h); JSONL usable by detox-score,
 * plus a JSON summary, a Markdown report and a chart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lm.h"
#include "llamaref/chrf.h"
#include "llamaref/detox.h"
#include "llamaref/json.h"
#include "llamaref/par.h"
#include "llamaref/prefix_cache.h"
#include "llamaref/refusal.h"
#include "llamaref/svg.h"

/* One input's figures (gathered to rank 0 under mpirun). */
typedef struct detox_row {
    lr_chrf_stats st;  /* its first candidate against the reference */
    double chrf;       /* that candidate's sentence chrF */
    size_t refusals, empty, out;
} detox_row;

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref detox -m, --model PATH [--tokenizer PATH] [--adapter DIR]\n"
"                      --shots few_shot_pairs.json --lang de|fr|es|ru\n"
"                      --inputs FILE --out FILE.jsonl [options]\n");
    cli_help(f, "--model", NULL);
    cli_help(f, "--tokenizer", NULL);
    cli_help(f, "--adapter", NULL);
    cli_help(f, "--keep-dtype", NULL);
    cli_help(f, "--no-check-weights", NULL);
    cli_help(f, "--shots", NULL);
    cli_help(f, "--num-shots", "all of the language; the old spelling --n-shots\n"
                "                            still works, with a warning");
    cli_help(f, "--max-new-tokens", "512");
    cli_help(f, "--max-len", "2048");
    cli_help(f, "--temperature", "0.9");
    cli_help(f, "--top-k", "0");
    cli_help(f, "--top-p", "0.9");
    cli_help(f, "--min-p", "0");
    cli_help(f, "--seed", "42");
    fprintf(f,
"  --lang L                  the language of the shots and inputs (de, fr,\n"
"                            es, ru)\n"
"  --inputs FILE             one toxic sentence per line, or a TSV with a\n"
"                            header (column toxic_sentence, else the first;\n"
"                            a neutral_sentence column becomes the reference)\n"
"  --candidates N            rewrites per input (default 1)\n"
"  --limit N                 first N inputs only\n"
"  --template T              auto (default) | chat (Llama 3.1, or ChatML for\n"
"                            a ChatML GGUF) | plain\n"
"  --out FILE.jsonl          the rewrites (parent directories created first)\n"
"Each output line: {\"source\", \"output\", \"candidate\", \"refusal\",\n"
"[\"reference\"]} (the input format of llamaref detox-score); FILE.json,\n"
"FILE.md and FILE-detox.svg summarise.  Prompt: docs/evaluation.md.\n");
}

typedef struct input_row { char *src, *ref; } input_row;

static void rows_free(input_row *r, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) { free(r[i].src); free(r[i].ref); }
    free(r);
}

/* Reads plain lines or a TSV with header. */
static int read_inputs(const char *path, input_row **out, size_t *n_out)
{
    char *data;
    size_t len, pos = 0, n = 0, cap = 0;
    long col_src = 0, col_ref = -1;
    int tsv, first = 1;
    unsigned long line = 0;
    input_row *rows = NULL;
    lr_error err;
    size_t pl = strlen(path);
    if (lr_read_file(path, &data, &len, &err)) {
        fprintf(stderr, "llamaref detox: %s\n", err.msg);
        return -1;
    }
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
            fprintf(stderr, "llamaref detox: %s:%lu: %d fields, the header "
                    "names column %ld\n", path, line, nf,
                    col_ref > col_src ? col_ref + 1 : col_src + 1);
            goto fail;
        }
        if (n == cap) {
            input_row *p;
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
    fprintf(stderr, "llamaref detox: out of memory\n");
fail:
    rows_free(rows, n);
    free(data);
    return -1;
}

int cmd_detox(int argc, char **argv)
{
    cli_lm lm;
    const char *shots_path = NULL, *lang = NULL, *inputs = NULL, *out = NULL;
    const char *template_arg = NULL;
    long candidates = 1, n_shots = -1, top_k = 0, seed = 42, max_new = 512;
    long max_len = 2048, limit = -1;
    int max_len_given = 0;
    double temperature = 0.9, top_p = 0.9, min_p = 0;
    lr_prompt_style style;
    lr_detox_shots shots;
    input_row *rows = NULL;
    size_t n_rows = 0, r, n_refusals = 0, n_out = 0, n_empty = 0;
    lr_prefix_cache pc;
    lr_sampler smp;
    lr_tokens gen = {0};
    lr_buf b = {0}, prompt = {0}, md = {0}, js = {0}, svg = {0};
    lr_error err;
    lr_chrf_config ccfg;
    lr_chrf_stats corpus;
    double sum_chrf = 0;
    detox_row *info = NULL; /* [n_rows] */
    long r0, r1;
    int stops[16], n_stops, i, rc = 1, have_refs = 0;

    memset(&lm, 0, sizeof lm);
    memset(&shots, 0, sizeof shots);
    memset(&pc, 0, sizeof pc);
    memset(&smp, 0, sizeof smp);
    for (i = 1; i < argc; i++) {
        const char *a = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        int k = cli_lm_option(&lm, argc, argv, &i);
        if (k < 0) return 2;
        if (k) continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--shots") && v) { shots_path = v; i++; }
        else if (!strcmp(a, "--lang") && v) { lang = v; i++; }
        else if (!strcmp(a, "--inputs") && v) { inputs = v; i++; }
        else if (!strcmp(a, "--out") && v) { out = v; i++; }
        else if (!strcmp(a, "--template") && v) { if (cli_template_arg("detox", v)) return 2; template_arg = v; i++; }
        else if (!strcmp(a, "--candidates")) { if (cli_int(a, v, 1, 1000, &candidates)) return 2; i++; }
        else if (!strcmp(a, "--num-shots")) { if (cli_int(a, v, 0, 1000, &n_shots)) return 2; i++; }
        else if (!strcmp(a, "--top-k")) { if (cli_int(a, v, 0, 1 << 30, &top_k)) return 2; i++; }
        else if (!strcmp(a, "--seed")) { if (cli_seed(a, v, &seed)) return 2; i++; }
        else if (!strcmp(a, "--max-new-tokens")) { if (cli_int(a, v, 1, 1 << 20, &max_new)) return 2; i++; }
        else if (!strcmp(a, "--max-len")) { if (cli_int(a, v, 2, 1 << 24, &max_len)) return 2; max_len_given = 1; i++; }
        else if (!strcmp(a, "--limit")) { if (cli_int(a, v, 0, 0x7fffffffL, &limit)) return 2; i++; }
        else if (!strcmp(a, "--temperature")) { if (cli_double_in(a, v, 0, 0, 1e30, 0, &temperature)) return 2; i++; }
        else if (!strcmp(a, "--top-p")) { if (cli_double_in(a, v, 0, 1, 1, 0, &top_p)) return 2; i++; }
        else if (!strcmp(a, "--min-p")) { if (cli_double_in(a, v, 0, 0, 1, 0, &min_p)) return 2; i++; }
        else return cli_bad_option("detox", a, usage);
    }
    if (!lm.model_path || !shots_path || !lang || !inputs || !out) {
        fprintf(stderr, "llamaref detox: --model, --shots, --lang, --inputs and "
                "--out are required (see --help)\n");
        return 2;
    }
    if (cli_prepare_out("detox", out, 0)) return 1;
    if (lr_detox_shots_load(shots_path, lang, &shots, &err)) {
        fprintf(stderr, "llamaref detox: %s\n", err.msg);
        goto done;
    }
    if (read_inputs(inputs, &rows, &n_rows)) goto done;
    if (limit >= 0 && (size_t)limit < n_rows) {
        for (r = (size_t)limit; r < n_rows; r++) { free(rows[r].src); free(rows[r].ref); }
        n_rows = (size_t)limit;
    }
    have_refs = n_rows && rows[0].ref;
    if (n_shots < 0 || (size_t)n_shots > shots.n) n_shots = (long)shots.n;
    if (cli_lm_load(&lm, "detox") || cli_prompt_style("detox", template_arg, &lm, &style))
        goto done;
    if (cli_ctx_len("detox", lm.model, &max_len, max_len_given)) { rc = 2; goto done; }
    n_stops = lr_generation_stops(lm.model, &lm.tok, stops);
    if (lr_prefix_cache_init(&pc, lm.model, (int)max_len, &err) ||
        lr_sampler_init(&smp, lm.model->config.vocab_size, temperature, (int)top_k,
                        top_p, min_p, (uint64_t)seed, &err)) {
        fprintf(stderr, "llamaref detox: %s\n", err.msg);
        goto done;
    }
    lr_chrf_config_default(&ccfg);
    lr_chrf_stats_init(&corpus, &ccfg);
    /* under mpirun each rank rewrites its shard of the inputs; rank 0
     * gathers the records and the per-input figures and sums them in input
     * order (par.h); one process: the shard is all of them */
    if (!(info = calloc(n_rows ? n_rows : 1, sizeof *info))) {
        fprintf(stderr, "llamaref detox: out of memory\n");
        goto done;
    }
    lr_par_shard((long)n_rows, &r0, &r1);
    for (r = (size_t)r0; r < (size_t)r1; r++) {
        int *ids = NULL, n_ids = 0;
        long c;
        prompt.len = 0;
        if (lr_detox_render(style, lang, &shots, (size_t)n_shots, rows[r].src,
                            &prompt, &err) ||
            lr_prompt_tokens(&lm.tok, style, prompt.data, prompt.len, &ids,
                             &n_ids, &err)) {
            fprintf(stderr, "llamaref detox: %s: input %lu: %s\n", inputs,
                    (unsigned long)r + 1, err.msg);
            free(ids);
            goto done;
        }
        for (c = 0; c < candidates; c++) {
            char *ans, *clean;
            int refusal;
            /* one stream per (input, candidate): reproducible on its own */
            lr_rng_seed(&smp.rng, lr_seed_of(LR_STREAM_DETOX, (uint64_t)seed, (uint64_t)r,
                                             (uint64_t)c, 0));
            if (lr_prefix_cache_generate(&pc, ids, n_ids, &smp, (int)max_new,
                                         stops, n_stops, &gen, &err) ||
                !(ans = lr_answer_text(&lm.tok, style, gen.ids, gen.n, &err))) {
                fprintf(stderr, "llamaref detox: %s: input %lu: %s\n", inputs,
                        (unsigned long)r + 1, err.msg);
                free(ids);
                goto done;
            }
            clean = lr_detox_clean(ans, strlen(ans), &err);
            free(ans);
            if (!clean || (refusal = lr_is_refusal(clean, &err)) < 0) {
                fprintf(stderr, "llamaref detox: %s\n", err.msg);
                free(clean);
                free(ids);
                goto done;
            }
            info[r].refusals += (size_t)refusal;
            info[r].empty += !*clean;
            info[r].out++;
            if (have_refs && c == 0) {
                lr_chrf_stats st;
                const char *refs[1];
                size_t rl[1];
                refs[0] = rows[r].ref;
                rl[0] = strlen(rows[r].ref);
                if (lr_chrf_sentence_stats(&ccfg, clean, strlen(clean), refs, rl,
                                           1, &st, &err)) {
                    fprintf(stderr, "llamaref detox: %s: input %lu: %s\n",
                            inputs, (unsigned long)r + 1, err.msg);
                    free(clean);
                    free(ids);
                    goto done;
                }
                info[r].st = st;
                info[r].chrf = lr_chrf_score(&ccfg, &st);
            }
            lr_buf_puts(&b, "{\"source\": ");
            lr_json_write_string(&b, rows[r].src, strlen(rows[r].src));
            lr_buf_puts(&b, ", \"output\": ");
            lr_json_write_string(&b, clean, strlen(clean));
            lr_buf_printf(&b, ", \"candidate\": %ld, \"refusal\": %s", c,
                          refusal ? "true" : "false");
            if (rows[r].ref) {
                lr_buf_puts(&b, ", \"reference\": ");
                lr_json_write_string(&b, rows[r].ref, strlen(rows[r].ref));
            }
            lr_buf_puts(&b, "}\n");
            free(clean);
        }
        free(ids);
        if (lr_par_rank() == 0 && (r + 1) % 10 == 0)
            fprintf(stderr, "detox: %lu / %lu\n", (unsigned long)r + 1,
                    (unsigned long)(r1 - r0));
    }
    if (b.oom) { fprintf(stderr, "llamaref detox: out of memory\n"); goto done; }
    {
        char *all = NULL;
        size_t all_n = 0;
        if (lr_par_gather(info, (long)n_rows, sizeof *info, &err) ||
            lr_par_gather_bytes(b.data ? b.data : "", b.len, &all, &all_n, &err)) {
            fprintf(stderr, "llamaref detox: %s\n", err.msg);
            goto done;
        }
        b.len = 0;
        lr_buf_append(&b, all, all_n);
        free(all);
    }
    if (lr_par_rank() != 0) { rc = 0; goto done; } /* rank 0 writes */
    for (r = 0; r < n_rows; r++) {
        n_refusals += info[r].refusals;
        n_empty += info[r].empty;
        n_out += info[r].out;
        if (have_refs && info[r].st.n_orders) { /* its first candidate scored */
            lr_chrf_stats_add(&corpus, &info[r].st);
            sum_chrf += info[r].chrf;
        }
    }
    if (b.oom || cli_write("detox", out, b.data ? b.data : "", b.len)) goto done;
    lr_buf_printf(&js, "{\n  \"command\": \"detox\",\n  \"model\": ");
    lr_json_write_string(&js, lm.model_path, strlen(lm.model_path));
    lr_buf_printf(&js, ",\n  \"lang\": \"%s\",\n  \"template\": \"%s\",\n  \"shots\": %ld,\n"
                  "  \"inputs\": %lu,\n  \"candidates\": %ld,\n  \"outputs\": %lu,\n"
                  "  \"refusals\": %lu,\n  \"empty\": %lu,\n  \"temperature\": ",
                  lang, cli_style_name(style), n_shots,
                  (unsigned long)n_rows, candidates, (unsigned long)n_out,
                  (unsigned long)n_refusals, (unsigned long)n_empty);
    lr_json_write_number(&js, temperature);
    lr_buf_puts(&js, ",\n  \"top_p\": ");
    lr_json_write_number(&js, top_p);
    lr_buf_printf(&js, ",\n  \"top_k\": %ld,\n  \"min_p\": ", top_k);
    lr_json_write_number(&js, min_p);
    lr_buf_printf(&js, ",\n  \"seed\": %ld", seed);
    if (have_refs) {
        lr_buf_puts(&js, ",\n  \"chrf_corpus_first_candidate\": ");
        lr_json_write_number(&js, lr_chrf_score(&ccfg, &corpus));
        lr_buf_puts(&js, ",\n  \"chrf_mean_first_candidate\": ");
        lr_json_write_number(&js, n_rows ? sum_chrf / (double)n_rows : 0);
    }
    lr_buf_puts(&js, "\n}\n");
    lr_buf_printf(&md, "# Few-shot detoxification (%s)\n\nModel `%s`, %s template, "
                  "%ld demonstrations, %lu inputs x %ld candidates, temperature "
                  "%g, top-p %g, top-k %ld, min-p %g, seed %ld.\n\n| | value |\n"
                  "|---|---:|\n| outputs | %lu |\n| refusals | %lu |\n| empty | %lu |\n",
                  lang, lm.model_path, cli_style_name(style),
                  n_shots, (unsigned long)n_rows, candidates, temperature, top_p,
                  top_k, min_p, seed, (unsigned long)n_out,
                  (unsigned long)n_refusals, (unsigned long)n_empty);
    {
        const char *labels[3];
        double vals[3];
        size_t nb = 0;
        labels[nb] = "refusal rate";
        vals[nb++] = n_out ? (double)n_refusals / (double)n_out : 0;
        if (have_refs) {
            double cc = lr_chrf_score(&ccfg, &corpus);
            lr_buf_printf(&md, "| chrF vs reference (corpus, first candidate) | %.4f |\n"
                          "| chrF vs reference (mean sentence) | %.4f |\n", cc,
                          n_rows ? sum_chrf / (double)n_rows : 0.0);
            labels[nb] = "chrF/100 (corpus)";
            vals[nb++] = cc / 100;
            labels[nb] = "FL (mean chrF/100)";
            vals[nb++] = n_rows ? sum_chrf / (double)n_rows / 100 : 0;
        }
        if (lr_svg_bar_chart(&svg, "Few-shot detoxification", "fraction",
                             labels, vals, nb, 1.0, &err)) {
            fprintf(stderr, "llamaref detox: %s\n", err.msg);
            goto done;
        }
    }
    lr_buf_printf(&md, "\n![summary](%s)\n\nScore with `llamaref detox-score "
                  "--pairs %s` (add STA/SIM columns for J).\n",
                  cli_basename(cli_report_path(out, "-detox.svg", 1)), cli_basename(out));
    if (js.oom || md.oom || svg.oom ||
        cli_write("detox", cli_report_path(out, ".json", 0), js.data, js.len) ||
        cli_write("detox", cli_report_path(out, "-detox.svg", 1), svg.data, svg.len) ||
        cli_write("detox", cli_report_path(out, ".md", 2), md.data, md.len))
        goto done;
    printf("detox: %lu inputs, %lu outputs, %lu refusals", (unsigned long)n_rows,
           (unsigned long)n_out, (unsigned long)n_refusals);
    if (have_refs) printf(", chrF %.4f", lr_chrf_score(&ccfg, &corpus));
    printf("\n");
    rc = 0;
done:
    free(info);
    rows_free(rows, n_rows);
    lr_detox_shots_free(&shots);
    lr_tokens_free(&gen);
    lr_sampler_free(&smp);
    lr_prefix_cache_free(&pc);
    lr_buf_free(&b);
    lr_buf_free(&prompt);
    lr_buf_free(&md);
    lr_buf_free(&js);
    lr_buf_free(&svg);
    cli_lm_free(&lm);
    return rc;
}
