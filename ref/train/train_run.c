/* train_run.c - a whole training run (train_run.h): metrics.jsonl,
 * held-out evaluation and the loop over lr_trainer_step with periodic
 * checkpoints.
 * Depends on: trainer.h, checkpoint.h, dataset.h, adapter.h, full.h,
 * tokenizer.h, model.h, par.h (under mpirun only rank 0 writes); sysconf
 * (POSIX, where present) for the memory check of --init. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* sysconf */
#endif
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h> /* sysconf */
#endif

#include "llamaref/train/adapter.h"
#include "llamaref/train/checkpoint.h"
#include "llamaref/train/dataset.h"
#include "llamaref/train/full.h"
#include "llamaref/core/par.h"
#include "llamaref/train/train_run.h"

/* metrics.jsonl of a resumed run: the lines after the checkpoint's step
 * (written before an interruption) are dropped, so the steps continue
 * without duplicates. */
static int trim_metrics(const char *path, long step, lr_error *err)
{
    char *data = NULL, *p, *nl;
    size_t len;
    lr_buf b = {0};
    FILE *f = fopen(path, "rb");
    int rc;
    if (!f) return 0; /* a new file */
    fclose(f);
    if (lr_read_file(path, &data, &len, err)) return -1;
    for (p = data; p < data + len; p = nl + 1) {
        const char *s = strstr(p, "\"step\": ");
        nl = memchr(p, '\n', (size_t)(data + len - p));
        if (!nl) nl = data + len;
        if (s && s < nl && atol(s + 8) > step) continue;
        lr_buf_append(&b, p, (size_t)(nl - p));
        lr_buf_puts(&b, "\n");
        if (nl == data + len) break;
    }
    rc = b.oom ? lr_fail(err, "out of memory") :
         lr_write_file_atomic(path, b.data ? b.data : "", b.len, err);
    free(data);
    lr_buf_free(&b);
    return rc;
}

/* Mean loss per counted token over the examples of ev (one at a time, no
 * dropout), with the adapters lo (NULL: the model's own weights). */
int lr_train_eval_loss(const lr_model *m, const lr_lora *lo, const lr_dataset *ev,
                     double *loss, lr_error *err)
{
    lr_train_ws ws;
    double nll_sum = 0;
    long n_sum = 0;
    size_t k;
    int rc = -1;
    memset(&ws, 0, sizeof ws);
    if (lr_train_ws_alloc(&ws, m, lo, 1, ev->max_len, 0, err)) return -1;
    for (k = 0; k < ev->n; k++) {
        double nll;
        long n;
        if (lr_lora_forward(&ws, m, lo, ev->ex[k].ids, ev->ex[k].labels, NULL,
                            1, ev->ex[k].len, 0.0, 0, &nll, &n, err))
            goto done;
        nll_sum += nll;
        n_sum += n;
    }
    *loss = n_sum ? nll_sum / (double)n_sum : NAN;
    rc = 0;
done:
    lr_train_ws_free(&ws);
    return rc;
}

/* train --init creates a model of the declared size (weights, gradients
 * and the two AdamW moments: 4 arrays of the parameter count): checked
 * against the machine's memory before anything is allocated, where the
 * host tells it (docs/formats.md, "Memory bounded by the input"). */
static int init_fits_memory(const lr_config *cfg, const char *path, lr_error *err)
{
    const double need = 4.0 * (double)lr_config_param_count(cfg) * (double)sizeof(lr_float);
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const double have = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
#else
    const double have = 0;
#endif
    if (need > (double)((size_t)-1))
        return lr_fail(err, "%s: the configuration declares %.0f parameters: more than "
                       "this machine can address", path, (double)lr_config_param_count(cfg));
    if (have > 0 && need > have)
        return lr_fail(err, "%s: the configuration declares %.0f parameters: %.1f GB for "
                       "weights, gradients and AdamW moments, more than this machine's "
                       "%.1f GB of memory", path, (double)lr_config_param_count(cfg),
                       need / 1e9, have / 1e9);
    return 0;
}

int lr_train_run(const lr_train_options *a, const lr_train_hooks *h,
                 lr_train_result *res, lr_error *err)
{
    lr_model *m = NULL;
    lr_tokenizer tok;
    int have_tok = 0, rc = -1;
    lr_dataset ds, ev;
    lr_dataset_opts dopt;
    lr_lora lo;
    lr_lora_config lc;
    lr_full full;
    lr_adamw opt;
    lr_trainer tr;
    lr_trainer_opts to;
    lr_load_options lopt;
    unsigned char *layers = NULL;
    size_t n_params;
    FILE *metrics = NULL;
    long step = 0, done_steps = 0, start_step;
    double tok_total = 0, last_loss = NAN, ev_loss = NAN;
    double t0;
    char *mpath = NULL;
    /* under mpirun every rank trains (trainer.h) and only rank 0 writes
     * the metrics and checkpoints and reports progress */
    const int writer = lr_par_rank() == 0;
    if (!writer) h = NULL;
    memset(&ds, 0, sizeof ds); memset(&lo, 0, sizeof lo);
    memset(&ev, 0, sizeof ev);
    memset(&opt, 0, sizeof opt); memset(&tr, 0, sizeof tr);
    memset(&lopt, 0, sizeof lopt); memset(&full, 0, sizeof full);
    memset(&to, 0, sizeof to);
    /* LoRA: BF16 checkpoints stay BF16 (frozen base); full training needs
     * every weight in the compute type (lr_full_bind checks).  Resuming
     * full training reloads the weights from the checkpoint. */
    lopt.keep_dtype = !a->full;
    if (lr_sched_from_name(a->schedule, &to.sched, err) ||
        (a->resume && lr_checkpoint_check_mode(a->resume, a->full, err)))
        goto fail;
    if (a->init && !a->resume) { /* pretraining from scratch */
        lr_config cfg;
        if (lr_config_load(a->init, &cfg, err) ||
            lr_config_validate(&cfg, a->init, err) ||
            init_fits_memory(&cfg, a->init, err) ||
            lr_model_init_random(&cfg, (uint64_t)a->seed, &m, err))
            goto fail;
    } else if (lr_model_load(a->full && a->resume ? a->resume : a->model,
                             &lopt, &m, err)) {
        goto fail;
    }
    if (lr_tokenizer_load(a->tokenizer ? a->tokenizer : a->model, &tok, err) == 0)
        have_tok = 1;
    else if (a->tokenizer)
        goto fail;
    memset(&dopt, 0, sizeof dopt);
    dopt.loss_on = strcmp(a->loss_on, "completion") ? LR_LOSS_ALL : LR_LOSS_COMPLETION;
    dopt.max_len = (int)a->max_len;
    dopt.truncate = a->truncate;
    dopt.vocab_size = m->config.vocab_size;
    if (lr_dataset_load(a->data, have_tok ? &tok : NULL, &dopt, &ds, err) ||
        (a->eval_data &&
         lr_dataset_load(a->eval_data, have_tok ? &tok : NULL, &dopt, &ev, err)))
        goto fail;
    /* LoRA: from flags, or the checkpoint's adapter_config.json */
    if (a->full) {
        if (lr_full_bind(&full, m, err)) goto fail;
        if (a->init && !a->resume)
            lr_full_init_normal(&full, (uint64_t)a->seed, 0.02);
    } else if (a->resume) {
        if (lr_adapter_load(a->resume, &m->config, &lo, err)) goto fail;
    } else {
        memset(&lc, 0, sizeof lc);
        lc.r = (int)a->r; lc.alpha = a->alpha; lc.use_rslora = a->rslora;
        lc.dropout = a->dropout;
        if (lr_lora_parse_targets(a->targets, &lc.targets, err)) goto fail;
        if (a->layers) {
            const char *p = a->layers;
            layers = calloc((size_t)m->config.num_hidden_layers, 1);
            if (!layers) goto oom;
            while (*p) {
                char *end;
                long l = strtol(p, &end, 10);
                if (end == p || l < 0 || l >= m->config.num_hidden_layers) {
                    lr_fail(err, "--layers: '%s' is not a list of layer "
                            "indices below %d", a->layers,
                            m->config.num_hidden_layers);
                    goto fail;
                }
                layers[l] = 1;
                p = *end == ',' ? end + 1 : end;
            }
            lc.layers = layers;
            lc.n_layers = m->config.num_hidden_layers;
        }
        if (lr_lora_alloc(&lo, &m->config, &lc, err)) goto fail;
        lr_lora_init(&lo, (uint64_t)a->seed);
    }
    n_params = a->full ? full.n_params : lo.n_params;
    if (lr_adamw_init(&opt, n_params, a->wd, err)) goto fail;
    if (a->full) opt.decay_mask = full.decay; /* not the RMSNorm weights */
    if (a->resume &&
        lr_checkpoint_load(a->resume, &lo, a->full ? &full : NULL, &opt, &step, err))
        goto fail;
    to.batch = a->batch; to.accum = a->accum; to.epochs = a->epochs;
    to.lr = a->lr; to.warmup = a->warmup; to.max_norm = a->max_norm;
    to.seed = (uint64_t)a->seed; to.recompute = a->recompute;
    if (lr_trainer_init(&tr, m, a->full ? NULL : &lo, a->full ? &full : NULL,
                        &ds, &opt, &to, err))
        goto fail;
    if (a->warmup_ratio > 0) /* HF: ceil(ratio * total steps) */
        tr.o.warmup = (long)ceil(a->warmup_ratio * (double)tr.total);
    if (step > tr.total) {
        lr_fail(err, "--resume %s: the checkpoint is at step %ld, beyond "
                "the end of this schedule (%ld steps: %ld epochs of %ld)",
                a->resume, step, tr.total, a->epochs, tr.spe);
        goto fail;
    }
    if (!(mpath = lr_path_join(a->out, "metrics.jsonl", err))) goto fail;
    if (writer) {
        if (a->resume && trim_metrics(mpath, step, err)) goto fail;
        metrics = fopen(mpath, a->resume ? "a" : "w");
        if (!metrics) { lr_fail(err, "cannot write %s", mpath); goto fail; }
    }
    if (h && h->start) {
        lr_train_start si;
        memset(&si, 0, sizeof si);
        si.n_examples = ds.n;
        si.n_params = n_params;
        si.nb = tr.nb;
        si.total = tr.total;
        si.full = a->full;
        si.r = a->full ? 0 : lo.cfg.r;
        si.scale = a->full ? 0 : lo.scale;
        si.resumed = a->resume != NULL;
        h->start(h->ctx, &si);
    }
    t0 = h && h->clock ? h->clock() : 0;
    start_step = step;
    for (; step < tr.total && (a->max_steps <= 0 || done_steps < a->max_steps);
         step++, done_steps++) {
        lr_step_stats st;
        double el;
        const int last = step + 1 == tr.total ||
                         (a->max_steps > 0 && done_steps + 1 == a->max_steps);
        int do_eval;
        if (lr_trainer_step(&tr, step, &st, err)) goto fail;
        el = h && h->clock ? h->clock() - t0 : 0;
        tok_total += (double)st.tokens;
        last_loss = st.loss;
        do_eval = a->eval_data && (last || (a->eval_every > 0 &&
                                            (step + 1) % a->eval_every == 0));
        if (do_eval &&
            lr_train_eval_loss(m, a->full ? NULL : &lo, &ev, &ev_loss, err))
            goto fail;
        if (metrics) {
            fprintf(metrics, "{\"step\": %ld, \"epoch\": %ld, \"loss\": %.9g, "
                    "\"lr\": %.9g, \"grad_norm\": %.9g, \"tokens\": %ld",
                    step + 1, st.epoch, st.loss, st.lr, st.grad_norm, st.tokens);
            if (do_eval) fprintf(metrics, ", \"eval_loss\": %.9g", ev_loss);
            fprintf(metrics, "}\n");
            fflush(metrics);
        }
        if (h && h->step) {
            lr_train_progress pr;
            pr.step = step + 1;
            pr.total = tr.total;
            pr.done_steps = done_steps;
            pr.loss = st.loss;
            pr.lr = st.lr;
            pr.elapsed = el;
            pr.tok_total = tok_total;
            pr.last = last;
            pr.do_eval = do_eval;
            pr.do_log = last || (step + 1 - start_step) % a->log_every == 0 || do_eval;
            pr.eval_loss = ev_loss;
            h->step(h->ctx, &pr);
        }
        if (writer && a->save_every > 0 && (step + 1) % a->save_every == 0 &&
            lr_checkpoint_save(a, &lo, a->full ? &full : NULL, m, &opt, step + 1,
                            err))
            goto fail;
    }
    if (writer && lr_checkpoint_save_state(a->out, &lo, a->full ? &full : NULL, m, &opt, step, a,
                   err))
        goto fail;
    res->step = step;
    res->total = tr.total;
    res->last_loss = last_loss;
    res->eval_loss = ev_loss;
    rc = 0;
    goto end;
oom:
    lr_fail(err, "out of memory");
fail:
end:
    if (metrics) fclose(metrics);
    free(mpath); free(layers);
    lr_trainer_free(&tr);
    lr_adamw_free(&opt);
    lr_lora_free(&lo);
    lr_dataset_free(&ds);
    lr_dataset_free(&ev);
    if (have_tok) lr_tokenizer_free(&tok);
    lr_model_free(m);
    lr_full_free(&full);
    return rc;
}
