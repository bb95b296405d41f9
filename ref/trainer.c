/* trainer.c - HF Trainer's optimizer step: micro-batches, gradient
 * accumulation with HF's token normalisation, clipping, schedule, AdamW;
 * see trainer.h.
 * Depends on: train (the step's forward and backward), loss, lora, full,
 * adamw, dataset. */
#include <stdlib.h>
#include <string.h>

#include "llamaref/loss.h"
#include "llamaref/trainer.h"

int lr_trainer_init(lr_trainer *t, lr_model *m, lr_lora *lo, lr_full *full,
                    const lr_dataset *ds, lr_adamw *opt,
                    const lr_trainer_opts *o, lr_error *err)
{
    size_t bt;
    memset(t, 0, sizeof *t);
    if ((lo == NULL) == (full == NULL))
        return lr_fail(err, "trainer: give LoRA adapters or full-parameter "
                       "training, not %s", lo ? "both" : "neither");
    if (o->batch < 1 || o->accum < 1 || o->epochs < 1 || ds->n == 0)
        return lr_fail(err, "trainer: batch, grad_accum, epochs and the "
                       "dataset must not be empty");
    t->o = *o;
    t->m = m;
    t->lo = lo;
    t->full = full;
    t->ds = ds;
    t->opt = opt;
    t->params = full ? full->params : lo->params;
    t->n_params = full ? full->n_params : lo->n_params;
    t->nb = (long)((ds->n + (size_t)o->batch - 1) / (size_t)o->batch);
    t->spe = (t->nb + o->accum - 1) / o->accum;
    t->total = t->spe * o->epochs;
    t->perm_epoch = -1;
    if (lr_train_ws_alloc(&t->ws, m, lo, (int)o->batch, ds->max_len,
                          o->recompute, err))
        return -1;
    bt = (size_t)o->batch * (size_t)ds->max_len;
    t->perm = malloc(sizeof *t->perm * ds->n);
    t->tokens = malloc(sizeof *t->tokens * bt);
    t->labels = malloc(sizeof *t->labels * bt);
    t->mask = malloc(bt);
    t->grad = malloc(sizeof *t->grad * t->n_params);
    if (!t->perm || !t->tokens || !t->labels || !t->mask || !t->grad) {
        lr_trainer_free(t);
        return lr_fail(err, "out of memory (trainer buffers)");
    }
    t->pad = m->config.n_eos > 0 ? m->config.eos_token_ids[0] : 0;
    if (t->pad < 0 || t->pad >= m->config.vocab_size) t->pad = 0;
    return 0;
}

void lr_trainer_free(lr_trainer *t)
{
    if (!t) return;
    lr_train_ws_free(&t->ws);
    free(t->perm);
    free(t->tokens);
    free(t->labels);
    free(t->mask);
    free(t->grad);
    memset(t, 0, sizeof *t);
}

int lr_trainer_step(lr_trainer *t, long step, lr_step_stats *st,
                    lr_error *err)
{
    const lr_trainer_opts *o = &t->o;
    const lr_dataset *ds = t->ds;
    const long epoch = step / t->spe, s = step % t->spe;
    const long mb0 = s * o->accum;
    const long mb1 = mb0 + o->accum < t->nb ? mb0 + o->accum : t->nb;
    long mb, n_total = 0, ntok = 0;
    double nll_total = 0, gnorm, lr;
    if (step < 0 || step >= t->total)
        return lr_fail(err, "trainer: step %ld outside 0..%ld", step,
                       t->total - 1);
    if (epoch != t->perm_epoch) {
        lr_dataset_shuffle(t->perm, ds->n, o->seed, epoch);
        t->perm_epoch = epoch;
    }
    /* HF normalisation: counted tokens of the whole accumulated batch */
    for (mb = mb0; mb < mb1; mb++) {
        size_t i0 = (size_t)mb * o->batch, i;
        for (i = i0; i < i0 + (size_t)o->batch && i < ds->n; i++) {
            const lr_example *e = &ds->ex[t->perm[i]];
            int k;
            for (k = 1; k < e->len; k++)
                n_total += e->labels[k] != LR_IGNORE_INDEX;
        }
    }
    memset(t->grad, 0, sizeof *t->grad * t->n_params);
    for (mb = mb0; mb < mb1; mb++) {
        size_t i0 = (size_t)mb * o->batch;
        int B = (int)(ds->n - i0 < (size_t)o->batch ? ds->n - i0 : (size_t)o->batch);
        int T = lr_dataset_collate(ds, t->perm + i0, B, t->pad, t->tokens,
                                   t->labels, t->mask);
        double nll;
        long n;
        uint64_t dseed = lr_stream_seed(o->seed, LR_STREAM_DROPOUT,
                                        (uint64_t)(epoch * t->nb + mb), 0);
        if (t->full) {
            if (lr_full_forward(&t->ws, t->m, t->tokens, t->labels, t->mask,
                                B, T, &nll, &n, err) ||
                lr_full_backward(&t->ws, t->m, t->full, t->grad,
                                 1.0 / (double)n_total, err))
                return -1;
        } else if (lr_lora_forward(&t->ws, t->m, t->lo, t->tokens, t->labels,
                                   t->mask, B, T, t->lo->cfg.dropout, dseed,
                                   &nll, &n, err) ||
                   lr_lora_backward(&t->ws, t->m, t->lo, t->grad,
                                    1.0 / (double)n_total, err)) {
            return -1;
        }
        nll_total += nll;
        ntok += (long)B * T;
    }
    gnorm = lr_clip_grad_norm(t->grad, t->n_params, o->max_norm);
    if (!(gnorm == gnorm) || !(nll_total == nll_total))
        return lr_fail(err, "step %ld: the loss or gradient is NaN", step + 1);
    lr = lr_schedule_lr(o->sched, step, t->total, o->warmup, o->lr);
    lr_adamw_step(t->opt, t->params, t->grad, lr);
    st->epoch = epoch;
    st->loss = nll_total / n_total;
    st->lr = lr;
    st->grad_norm = gnorm;
    st->tokens = ntok;
    return 0;
}
