/* probe.c - the knowledge probe: few-shot prompts, greedy and sampled
 * answers through the prefix cache, alias judgement, SliCK category; see
 * probe.h.  Prompt variants are the outer loop so that every fact asked
 * with variant j reuses the cached few-shot block of j.
 * Depends on: generate (prompt and stop ids, answer text), prefix_cache
 * and sampler (decoding), chat_template, textnorm (alias judgement),
 * knowledge (SliCK categories), json; svg and report (the summary of
 * lr_probe_report, lr_probe_save, lr_probe_summary_template); par
 * (lr_probe_run_all). */
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/chat_template.h"
#include "llamaref/core/json.h"
#include "llamaref/core/par.h"
#include "llamaref/model/prefix_cache.h"
#include "llamaref/papers/knowledge/probe.h"
#include "llamaref/core/report.h"
#include "llamaref/model/sampler.h"
#include "llamaref/core/svg.h"
#include "llamaref/tokenizer/textnorm.h"

void lr_probe_options_default(lr_probe_options *o)
{
    memset(o, 0, sizeof *o);
    o->style = LR_PROMPT_CHAT;
    o->n_prompts = 10;
    o->shots_per_prompt = 4;
    o->n_samples = 0;
    o->temperature = 0.5;
    o->top_p = 1.0;
    o->seed = 42;
    o->max_new_tokens = 32;
    o->max_len = 2048;
}

static const lr_fact *shot_of(const lr_probe_options *o, const lr_facts *shots,
                              int prompt_index, int i)
{
    size_t k = ((size_t)prompt_index * (size_t)o->shots_per_prompt +
                (size_t)i) % shots->n;
    return &shots->items[k];
}

int lr_probe_render(const lr_probe_options *o, const lr_facts *shots,
                    int prompt_index, const char *question, lr_buf *out,
                    lr_error *err)
{
    const char *system = o->system ? o->system : LR_PROBE_SYSTEM;
    int i, k = o->shots_per_prompt;
    if (k > 0 && (!shots || shots->n == 0))
        return lr_fail(err, "probe: %d shots per prompt but no shots", k);
    if (o->style == LR_PROMPT_PLAIN) {
        lr_buf_printf(out, "%s\n\n", system);
        for (i = 0; i < k; i++) {
            const lr_fact *s = shot_of(o, shots, prompt_index, i);
            lr_buf_printf(out, "Question: %s\nAnswer: %s\n\n", s->question,
                          s->answers[0]);
        }
        lr_buf_printf(out, "Question: %s\nAnswer:", question);
        return out->oom ? lr_fail(err, "out of memory rendering a prompt") : 0;
    } else {
        /* system, k x (user, assistant), user */
        size_t n = 0, cap = 2 + 2 * (size_t)k;
        lr_chat_message *msg = lr_alloc(cap, sizeof *msg, "chat messages", err);
        lr_buf tmp = {0};
        size_t *off;
        int rc;
        if (!msg) return -1;
        off = lr_alloc(cap, sizeof *off, "chat messages", err);
        if (!off) { free(msg); return -1; }
        /* contents are built in one buffer; pointers are fixed up after */
        msg[n].role = "system";
        off[n] = tmp.len; lr_buf_puts(&tmp, system); msg[n].content_len = tmp.len - off[n]; n++;
        for (i = 0; i < k; i++) {
            const lr_fact *s = shot_of(o, shots, prompt_index, i);
            msg[n].role = "user";
            off[n] = tmp.len; lr_buf_printf(&tmp, "Question: %s", s->question);
            msg[n].content_len = tmp.len - off[n]; n++;
            msg[n].role = "assistant";
            off[n] = tmp.len; lr_buf_printf(&tmp, "Answer: %s", s->answers[0]);
            msg[n].content_len = tmp.len - off[n]; n++;
        }
        msg[n].role = "user";
        off[n] = tmp.len; lr_buf_printf(&tmp, "Question: %s", question);
        msg[n].content_len = tmp.len - off[n]; n++;
        if (tmp.oom) {
            rc = lr_fail(err, "out of memory rendering a prompt");
        } else {
            size_t j;
            for (j = 0; j < n; j++) msg[j].content = tmp.data + off[j];
            rc = o->style == LR_PROMPT_CHATML
                     ? lr_chat_render_chatml(msg, n, 1, NULL, out, err)
                     : lr_chat_render(LR_CHAT_LLAMA31, msg, n, 1, NULL, out, err);
        }
        lr_buf_free(&tmp);
        free(off);
        free(msg);
        return rc;
    }
}

void lr_probe_result_free(lr_probe_result *r, const lr_probe_options *o)
{
    int i;
    if (!r) return;
    if (r->greedy)
        for (i = 0; i < o->n_prompts; i++) free(r->greedy[i]);
    if (r->samples)
        for (i = 0; i < o->n_prompts * o->n_samples; i++) free(r->samples[i]);
    free(r->greedy);
    free(r->correct);
    free(r->samples);
    free(r->sample_correct);
    memset(r, 0, sizeof *r);
}

/* What the facts of one run share: the decoders and scratch. */
typedef struct probe_state {
    const lr_tokenizer *tok;
    const lr_facts *facts, *shots;
    const lr_probe_options *o;
    lr_prefix_cache pc;
    lr_sampler greedy, smp;
    lr_tokens gen;
    lr_buf text;
    int stops[16], n_stops;
} probe_state;

/* Fact i with prompt variant j: its greedy answer and samples into r, or,
 * r NULL, only through the cache (the cache then holds what it holds after
 * that fact, as when it is probed). */
static int probe_fact(probe_state *S, size_t i, int j, lr_probe_result *r,
                      lr_error *err)
{
    const lr_probe_options *o = S->o;
    const lr_fact *f = &S->facts->items[i];
    int *ids = NULL, n_ids = 0, c, s;
    char *ans = NULL;
    S->text.len = 0;
    if (lr_probe_render(o, S->shots, j, f->question, &S->text, err) ||
        lr_prompt_tokens(S->tok, o->style, S->text.data, S->text.len, &ids,
                         &n_ids, err))
        goto fail;
    if (lr_prefix_cache_generate(&S->pc, ids, n_ids, &S->greedy,
                                 o->max_new_tokens, S->stops, S->n_stops,
                                 &S->gen, err))
        goto fail;
    if (r) {
        r->greedy[j] = lr_answer_text(S->tok, o->style, S->gen.ids, S->gen.n,
                                      err);
        if (!r->greedy[j]) goto fail;
        c = lr_alias_match(r->greedy[j], f->answers, f->n_answers, err);
        if (c < 0) goto fail;
        r->correct[j] = (unsigned char)c;
        r->n_greedy_correct += (size_t)c;
    }
    for (s = 0; s < o->n_samples; s++) {
        size_t idx = (size_t)j * (size_t)o->n_samples + (size_t)s;
        /* one stream per (fact, prompt, sample): reproducible alone */
        lr_rng_seed(&S->smp.rng, lr_seed_of(LR_STREAM_PROBE, o->seed, i,
                                            (uint64_t)j, (uint64_t)s));
        if (lr_prefix_cache_generate(&S->pc, ids, n_ids, &S->smp,
                                     o->max_new_tokens, S->stops, S->n_stops,
                                     &S->gen, err))
            goto fail;
        if (!r) continue;
        ans = lr_answer_text(S->tok, o->style, S->gen.ids, S->gen.n, err);
        if (!ans) goto fail;
        r->samples[idx] = ans;
        c = lr_alias_match(ans, f->answers, f->n_answers, err);
        if (c < 0) goto fail;
        r->sample_correct[idx] = (unsigned char)c;
        r->n_sample_correct += (size_t)c;
    }
    free(ids);
    return 0;
fail:
    free(ids);
    return lr_fail_prefix(err, "%s:%lu: fact \"%.60s\"",
                          S->facts->path ? S->facts->path : "facts", f->line,
                          f->question);
}

int lr_probe_run(const lr_model *m, const lr_tokenizer *tok,
                 const lr_facts *facts, const lr_facts *shots,
                 const lr_probe_options *o, lr_probe_result *results,
                 lr_probe_stats *stats,
                 void (*progress)(long done, long total, void *ctx),
                 void *progress_ctx, lr_error *err)
{
    return lr_probe_run_range(m, tok, facts, shots, o, 0, facts->n, results,
                              stats, progress, progress_ctx, err);
}

int lr_probe_run_range(const lr_model *m, const lr_tokenizer *tok,
                       const lr_facts *facts, const lr_facts *shots,
                       const lr_probe_options *o, size_t first, size_t last,
                       lr_probe_result *results, lr_probe_stats *stats,
                       void (*progress)(long done, long total, void *ctx),
                       void *progress_ctx, lr_error *err)
{
    probe_state S;
    int j, rc = -1;
    size_t i, k;
    long done = 0, total = (long)(last - first) * o->n_prompts;

    memset(stats, 0, sizeof *stats);
    memset(&S, 0, sizeof S);
    S.tok = tok; S.facts = facts; S.shots = shots; S.o = o;
    if (first > last || last > facts->n)
        return lr_fail(err, "probe: facts %lu..%lu outside 0..%lu",
                       (unsigned long)first, (unsigned long)last,
                       (unsigned long)facts->n);
    memset(results + first, 0, (last - first) * sizeof *results);
    if (o->n_prompts < 1) return lr_fail(err, "probe: --prompts must be >= 1");
    if (o->n_samples < 0 || o->max_new_tokens < 1)
        return lr_fail(err, "probe: bad --samples / --max-new-tokens");
    S.n_stops = lr_generation_stops(m, tok, S.stops);
    if (lr_prefix_cache_init(&S.pc, m, o->max_len, err) ||
        lr_sampler_init(&S.greedy, m->config.vocab_size, 0, 0, 1, 0, 0, err) ||
        lr_sampler_init(&S.smp, m->config.vocab_size, o->temperature, o->top_k,
                        o->top_p, o->min_p, o->seed, err))
        goto done;
    for (i = first; i < last; i++) {
        lr_probe_result *r = &results[i];
        r->greedy = lr_zalloc((size_t)o->n_prompts, sizeof *r->greedy, "answers", err);
        r->correct = lr_zalloc((size_t)o->n_prompts, 1, "answers", err);
        if (!r->greedy || !r->correct) goto done;
        if (o->n_samples) {
            size_t ns = (size_t)o->n_prompts * (size_t)o->n_samples;
            r->samples = lr_zalloc(ns, sizeof *r->samples, "samples", err);
            r->sample_correct = lr_zalloc(ns, 1, "samples", err);
            if (!r->samples || !r->sample_correct) goto done;
        }
        if (shots)
            for (k = 0; k < shots->n; k++)
                if (!strcmp(shots->items[k].question, facts->items[i].question)) {
                    stats->shot_overlaps++;
                    break;
                }
    }
    for (j = 0; j < o->n_prompts && first < last; j++) {
        /* a range puts the cache where the whole run has it before fact
         * `first` of variant j: through the fact probed just before it
         * (first - 1 with this variant, or the last fact with the previous
         * one, unless this range just probed it), not counted, so the
         * cache statistics of the ranges add up to the whole run's */
        if (first > 0 || (j > 0 && last < facts->n)) {
            const long fed = S.pc.n_fed, reused = S.pc.n_reused;
            if (probe_fact(&S, first > 0 ? first - 1 : facts->n - 1,
                           first > 0 ? j : j - 1, NULL, err))
                goto done;
            S.pc.n_fed = fed; S.pc.n_reused = reused;
        }
        for (i = first; i < last; i++) {
            if (probe_fact(&S, i, j, &results[i], err)) goto done;
            stats->prompts++;
            done++;
        }
        if (progress) progress(done, total, progress_ctx);
    }
    for (i = first; i < last; i++)
        if (lr_slick_category(results[i].correct, (size_t)o->n_prompts,
                              results[i].n_sample_correct,
                              &results[i].category, err))
            goto done;
    rc = 0;
done:
    stats->tokens_reused = S.pc.n_reused;
    stats->tokens_fed = S.pc.n_fed;
    lr_tokens_free(&S.gen);
    lr_buf_free(&S.text);
    lr_sampler_free(&S.greedy);
    lr_sampler_free(&S.smp);
    lr_prefix_cache_free(&S.pc);
    if (rc)
        for (i = first; i < last; i++) lr_probe_result_free(&results[i], o);
    return rc;
}

/* lr_probe_run_all's messages: per rank its statistics, then per fact of
 * its shard the category, the counts, the flags and the answers (each a
 * size_t length and its bytes), in the machine's own layout (the ranks
 * run one binary). */
static void pack_str(lr_buf *b, const char *s)
{
    size_t n = strlen(s);
    lr_buf_append(b, &n, sizeof n);
    lr_buf_append(b, s, n);
}

static void pack_results(lr_buf *b, const lr_probe_result *res, size_t first,
                         size_t last, const lr_probe_options *o)
{
    const size_t np = (size_t)o->n_prompts, ns = np * (size_t)o->n_samples;
    size_t i, j;
    for (i = first; i < last; i++) {
        const lr_probe_result *r = &res[i];
        int cat = (int)r->category;
        lr_buf_append(b, &cat, sizeof cat);
        lr_buf_append(b, &r->n_greedy_correct, sizeof r->n_greedy_correct);
        lr_buf_append(b, &r->n_sample_correct, sizeof r->n_sample_correct);
        lr_buf_append(b, r->correct, np);
        for (j = 0; j < np; j++) pack_str(b, r->greedy[j]);
        if (ns) lr_buf_append(b, r->sample_correct, ns);
        for (j = 0; j < ns; j++) pack_str(b, r->samples[j]);
    }
}

typedef struct unpacker {
    const char *p;
    size_t len, off;
} unpacker;

static int take(unpacker *u, void *dst, size_t n)
{
    if (n > u->len - u->off) return -1;
    memcpy(dst, u->p + u->off, n);
    u->off += n;
    return 0;
}

static char *take_str(unpacker *u)
{
    size_t n;
    char *s;
    if (take(u, &n, sizeof n) || n > u->len - u->off || !(s = malloc(n + 1)))
        return NULL;
    memcpy(s, u->p + u->off, n);
    s[n] = 0;
    u->off += n;
    return s;
}

static int unpack_result(unpacker *u, lr_probe_result *r, const lr_probe_options *o,
                         lr_error *err)
{
    const size_t np = (size_t)o->n_prompts, ns = np * (size_t)o->n_samples;
    size_t j;
    int cat;
    memset(r, 0, sizeof *r);
    r->greedy = lr_zalloc(np, sizeof *r->greedy, "answers", err);
    r->correct = lr_zalloc(np, 1, "answers", err);
    if (!r->greedy || !r->correct) return -1;
    if (ns) {
        r->samples = lr_zalloc(ns, sizeof *r->samples, "samples", err);
        r->sample_correct = lr_zalloc(ns, 1, "samples", err);
        if (!r->samples || !r->sample_correct) return -1;
    }
    if (take(u, &cat, sizeof cat) ||
        take(u, &r->n_greedy_correct, sizeof r->n_greedy_correct) ||
        take(u, &r->n_sample_correct, sizeof r->n_sample_correct) ||
        take(u, r->correct, np))
        goto bad;
    r->category = (lr_slick)cat;
    for (j = 0; j < np; j++)
        if (!(r->greedy[j] = take_str(u))) goto bad;
    if (ns && take(u, r->sample_correct, ns)) goto bad;
    for (j = 0; j < ns; j++)
        if (!(r->samples[j] = take_str(u))) goto bad;
    return 0;
bad:
    return lr_fail(err, "probe: a rank's results are truncated (or out of memory)");
}

int lr_probe_run_all(const lr_model *m, const lr_tokenizer *tok,
                     const lr_facts *facts, const lr_facts *shots,
                     const lr_probe_options *o, lr_probe_result *results,
                     lr_probe_stats *stats,
                     void (*progress)(long done, long total, void *ctx),
                     void *progress_ctx, lr_error *err)
{
    long i0, i1;
    lr_buf mine = {0};
    char *all = NULL;
    size_t all_n = 0, i;
    unsigned long long n64;
    unpacker u;
    int r, rc = -1;
    if (lr_par_size() == 1)
        return lr_probe_run(m, tok, facts, shots, o, results, stats, progress,
                            progress_ctx, err);
    memset(results, 0, facts->n * sizeof *results);
    lr_par_shard((long)facts->n, &i0, &i1);
    if (lr_probe_run_range(m, tok, facts, shots, o, (size_t)i0, (size_t)i1, results,
                           stats, progress, progress_ctx, err))
        return -1;
    /* every rank's results to rank 0, then rank 0's concatenation (rank
     * order = fact order) to every rank */
    lr_buf_append(&mine, stats, sizeof *stats);
    pack_results(&mine, results, (size_t)i0, (size_t)i1, o);
    if (mine.oom) { lr_fail(err, "out of memory"); goto done; }
    if (lr_par_gather_bytes(mine.data, mine.len, &all, &all_n, err)) goto done;
    n64 = all_n;
    if (lr_par_bcast(&n64, sizeof n64, err)) goto done;
    if (lr_par_rank() != 0) {
        all_n = (size_t)n64;
        if (!(all = malloc(all_n ? all_n : 1))) {
            lr_fail(err, "out of memory (%llu bytes of probe results)", n64);
            goto done;
        }
    }
    if (lr_par_bcast(all, all_n, err)) goto done;
    for (i = (size_t)i0; i < (size_t)i1; i++) lr_probe_result_free(&results[i], o);
    memset(stats, 0, sizeof *stats);
    u.p = all; u.len = all_n; u.off = 0;
    for (r = 0; r < lr_par_size(); r++) {
        lr_probe_stats st;
        if (take(&u, &st, sizeof st)) {
            lr_fail(err, "probe: rank %d's results are truncated", r);
            goto done;
        }
        stats->prompts += st.prompts;
        stats->tokens_reused += st.tokens_reused;
        stats->tokens_fed += st.tokens_fed;
        stats->shot_overlaps += st.shot_overlaps;
        lr_par_shard_of((long)facts->n, r, &i0, &i1);
        for (i = (size_t)i0; i < (size_t)i1; i++)
            if (unpack_result(&u, &results[i], o, err)) goto done;
    }
    rc = 0;
done:
    if (rc)
        for (i = 0; i < facts->n; i++) lr_probe_result_free(&results[i], o);
    lr_buf_free(&mine);
    free(all);
    return rc;
}

static void json_strings(lr_buf *b, const char *const *s, size_t n)
{
    size_t i;
    lr_buf_puts(b, "[");
    for (i = 0; i < n; i++) {
        if (i) lr_buf_puts(b, ", ");
        lr_json_write_string(b, s[i], strlen(s[i]));
    }
    lr_buf_puts(b, "]");
}

static void json_flags(lr_buf *b, const unsigned char *f, size_t n)
{
    size_t i;
    lr_buf_puts(b, "[");
    for (i = 0; i < n; i++) lr_buf_printf(b, "%s%d", i ? ", " : "", f[i]);
    lr_buf_puts(b, "]");
}

void lr_probe_write_jsonl(lr_buf *b, const lr_facts *facts,
                          const lr_probe_result *results,
                          const lr_probe_options *o, size_t *counts)
{
    size_t k;
    for (k = 0; k < facts->n; k++) {
        const lr_fact *f = &facts->items[k];
        const lr_probe_result *r = &results[k];
        if (counts) counts[r->category]++;
        lr_buf_puts(b, "{\"question\": ");
        lr_json_write_string(b, f->question, strlen(f->question));
        lr_buf_puts(b, ", \"answers\": ");
        json_strings(b, f->answers, f->n_answers);
        if (f->n_paraphrases) {
            lr_buf_puts(b, ", \"paraphrases\": ");
            json_strings(b, f->paraphrases, f->n_paraphrases);
        }
        lr_buf_printf(b, ", \"category\": \"%s\", \"n_correct\": %lu, "
                      "\"n_prompts\": %d, \"greedy\": ",
                      lr_slick_name(r->category),
                      (unsigned long)r->n_greedy_correct, o->n_prompts);
        json_strings(b, (const char *const *)r->greedy, (size_t)o->n_prompts);
        lr_buf_puts(b, ", \"correct\": ");
        json_flags(b, r->correct, (size_t)o->n_prompts);
        if (o->n_samples) {
            size_t ns = (size_t)o->n_prompts * (size_t)o->n_samples;
            lr_buf_printf(b, ", \"n_sample_correct\": %lu, \"samples\": ",
                          (unsigned long)r->n_sample_correct);
            json_strings(b, (const char *const *)r->samples, ns);
            lr_buf_puts(b, ", \"sample_correct\": ");
            json_flags(b, r->sample_correct, ns);
        }
        lr_buf_puts(b, "}\n");
    }
}

int lr_probe_report(const char *model_name, size_t n_facts,
                    const lr_probe_options *o, const size_t *counts,
                    const lr_probe_stats *st, const char *out, lr_buf *json,
                    lr_buf *md, lr_buf *svg, lr_error *err)
{
    char chart[4096];
    size_t k;
    lr_report_path(chart, sizeof chart, out, "-categories.svg");
    /* summary JSON */
    lr_buf_puts(json, "{\n  \"command\": \"probe\",\n  \"model\": ");
    lr_json_write_string(json, model_name, strlen(model_name));
    lr_buf_printf(json, ",\n  \"template\": \"%s\",\n  \"n_facts\": %lu,\n"
                  "  \"n_prompts\": %d,\n  \"shots_per_prompt\": %d,\n"
                  "  \"n_samples\": %d,\n  \"temperature\": ",
                  lr_prompt_style_name(o->style),
                  (unsigned long)n_facts, o->n_prompts, o->shots_per_prompt,
                  o->n_samples);
    lr_json_write_number(json, o->temperature);
    lr_buf_printf(json, ",\n  \"seed\": %lu,\n  \"max_new_tokens\": %d,\n"
                  "  \"categories\": {", (unsigned long)o->seed, o->max_new_tokens);
    for (k = 0; k < LR_SLICK_N; k++)
        lr_buf_printf(json, "%s\"%s\": %lu", k ? ", " : "",
                      lr_slick_name((lr_slick)k), (unsigned long)counts[k]);
    lr_buf_printf(json, "},\n  \"shot_overlaps\": %ld,\n  \"tokens_fed\": %ld,\n"
                  "  \"tokens_reused\": %ld\n}\n", st->shot_overlaps,
                  st->tokens_fed, st->tokens_reused);
    /* chart + Markdown */
    {
        const char *labels[LR_SLICK_N];
        double vals[LR_SLICK_N];
        for (k = 0; k < LR_SLICK_N; k++) {
            labels[k] = lr_slick_name((lr_slick)k);
            vals[k] = (double)counts[k];
        }
        if (lr_svg_bar_chart(svg, "Facts per SliCK category", "facts",
                             labels, vals, LR_SLICK_N, 0, err))
            return -1;
    }
    lr_buf_printf(md, "# Knowledge probe\n\nModel `%s`, %lu facts, %d prompts "
                  "x %d shots (%s template), %d samples per prompt%s, up to %d "
                  "new tokens.\n\n| category | facts | fraction |\n|---|---:|---:|\n",
                  model_name, (unsigned long)n_facts, o->n_prompts,
                  o->shots_per_prompt, lr_prompt_style_name(o->style),
                  o->n_samples, o->n_samples ? "" : " (greedy only)",
                  o->max_new_tokens);
    for (k = 0; k < LR_SLICK_N; k++)
        lr_buf_printf(md, "| %s | %lu | %.4f |\n", lr_slick_name((lr_slick)k),
                      (unsigned long)counts[k],
                      n_facts ? (double)counts[k] / (double)n_facts : 0.0);
    lr_buf_printf(md, "\n![categories](%s)\n\nPrompt tokens served from the "
                  "prefix cache: %ld; tokens run through the model: %ld.\n",
                  lr_basename(chart),
                  st->tokens_reused, st->tokens_fed);
    if (st->shot_overlaps)
        lr_buf_printf(md, "\nWarning: %ld facts are also shot questions.\n",
                      st->shot_overlaps);
    return json->oom || md->oom || svg->oom ? lr_fail(err, "out of memory") : 0;
}

int lr_probe_save(const char *model_name, const lr_facts *facts,
                  const lr_probe_result *results, const lr_probe_options *o,
                  const lr_probe_stats *st, const char *out, size_t *counts,
                  lr_error *err)
{
    lr_buf b = {0}, md = {0}, svg = {0};
    char path[4096];
    int rc = -1;
    lr_probe_write_jsonl(&b, facts, results, o, counts);
    if (b.oom) {
        lr_buf_free(&b);
        return lr_fail(err, "out of memory");
    }
    if (lr_write_file_atomic(out, b.data ? b.data : "", b.len, err)) goto done;
    b.len = 0;
    if (lr_probe_report(model_name, facts->n, o, counts, st, out, &b, &md, &svg, err))
        goto done;
    lr_report_path(path, sizeof path, out, ".json");
    if (lr_write_file_atomic(path, b.data, b.len, err)) goto done;
    lr_report_path(path, sizeof path, out, "-categories.svg");
    if (lr_write_file_atomic(path, svg.data, svg.len, err)) goto done;
    lr_report_path(path, sizeof path, out, ".md");
    rc = lr_write_file_atomic(path, md.data, md.len, err);
done:
    lr_buf_free(&b);
    lr_buf_free(&md);
    lr_buf_free(&svg);
    return rc;
}

int lr_probe_summary_template(const char *out, int *plain)
{
    char path[4096];
    lr_json_doc *doc = NULL;
    const lr_json *t = NULL;
    lr_error err;
    int found;
    lr_report_path(path, sizeof path, out, ".json");
    if (lr_json_parse_file(path, &doc, &err) == 0)
        t = lr_json_get(lr_json_root(doc), "template");
    found = t && t->type == LR_JSON_STRING;
    *plain = found && !strcmp(t->str, "plain");
    if (doc) lr_json_free(doc);
    return found;
}
