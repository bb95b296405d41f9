/* trainer.c - HF Trainer's optimizer step: micro-batches, gradient
 * accumulation with HF's token normalisation, clipping, schedule, AdamW;
 * see trainer.h.
 * Depends on: train (the step's forward and backward), loss, lora, full,
 * adamw, dataset, par (data-parallel ranks: sharding, gradient fold). */
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/loss.h"
#include "llamaref/core/par.h"
#include "llamaref/train/trainer.h"

/* LoRA: how many examples of equal length one forward and backward may
 * take together (lr_lora_forward_each; the same bits as one at a time):
 * at most GROUP_ROWS tokens and a workspace of at most GROUP_BYTES.  On
 * the 100M model the frozen products of 128 rows ran 6-8% below those of
 * 256 or more (bench_kernels); its LoRA step with groups of 256 rows ran
 * as fast as with 512 in less memory (docs/performance.md). */
#define GROUP_ROWS 256
#define GROUP_BYTES (1024.0 * 1024 * 1024)

/* The group size for this run: 1 for full-parameter training */
static int group_size(const lr_model *m, const lr_lora *lo, long batch,
                      int max_len, int recompute)
{
    int g = 1;
    if (!lo) return 1;
    while (g < batch && (long)(g + 1) * max_len <= GROUP_ROWS &&
           lr_train_ws_bytes(&m->config, lo->cfg.r, g + 1, max_len,
                             recompute) <= GROUP_BYTES)
        g++;
    return g;
}

int lr_trainer_init(lr_trainer *t, lr_model *m, lr_lora *lo, lr_full *full,
                    const lr_dataset *ds, lr_adamw *opt,
                    const lr_trainer_opts *o, lr_error *err)
{
    size_t n_units;
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
    /* one example at a time, or (LoRA) a group of examples of the same
     * length: the workspace holds group rows of the longest */
    t->group = group_size(m, lo, o->batch, ds->max_len, o->recompute);
    if (lr_train_ws_alloc(&t->ws, m, lo, t->group, ds->max_len,
                          o->recompute, err))
        return -1;
    /* units: a group's (rank 0 folds them after each group), or, on the
     * other ranks of an MPI job, one per example of a shard: at most
     * ceil(batch / N) for a micro-batch of any size up to batch */
    n_units = lr_par_rank() == 0 ? (size_t)t->group
              : (size_t)((o->batch + lr_par_size() - 1) / lr_par_size());
    t->perm = malloc(sizeof *t->perm * ds->n);
    t->nll = malloc(sizeof *t->nll * (size_t)o->batch);
    t->grad = malloc(sizeof *t->grad * t->n_params);
    t->g_ids = malloc(sizeof *t->g_ids * (size_t)t->group * ds->max_len);
    t->g_labels = malloc(sizeof *t->g_labels * (size_t)t->group * ds->max_len);
    t->g_seeds = malloc(sizeof *t->g_seeds * (size_t)t->group);
    t->g_counted = malloc(sizeof *t->g_counted * (size_t)t->group);
    t->unit = lr_alloc(n_units * t->n_params, sizeof *t->unit,
                       "trainer gradient units", err);
    if (!t->perm || !t->nll || !t->grad || !t->unit || !t->g_ids ||
        !t->g_labels || !t->g_seeds || !t->g_counted) {
        int had = t->unit == NULL;
        lr_trainer_free(t);
        return had ? -1 : lr_fail(err, "out of memory (trainer buffers)");
    }
    return 0;
}

void lr_trainer_free(lr_trainer *t)
{
    if (!t) return;
    lr_train_ws_free(&t->ws);
    free(t->perm);
    free(t->nll);
    free(t->unit);
    free(t->grad);
    free(t->g_ids);
    free(t->g_labels);
    free(t->g_seeds);
    free(t->g_counted);
    memset(t, 0, sizeof *t);
}

/* One example's unit (trainer.h): zero unit, then the forward and backward
 * of the example alone (B = 1, its own length, no padding), scaled by
 * 1/n_total; its dropout stream is keyed by (epoch, pos), pos its place in
 * the epoch's permutation.  With acc (full-parameter training on rank 0),
 * the unit is also folded into acc: lr_full_backward_fold, the same bits
 * without most of unit. */
static int example_unit(lr_trainer *t, long epoch, size_t pos,
                        lr_float *unit, lr_float *acc, double scale,
                        double *nll, lr_error *err)
{
    const lr_example *e = &t->ds->ex[t->perm[pos]];
    long n;
    if (!acc) lr_zero_grad(unit, t->n_params);
    if (t->full) {
        if (lr_full_forward(&t->ws, t->m, e->ids, e->labels, NULL, 1, e->len,
                            nll, &n, err))
            return -1;
        return acc ? lr_full_backward_fold(&t->ws, t->m, t->full, unit, acc,
                                           scale, err)
                   : lr_full_backward(&t->ws, t->m, t->full, unit, scale, err);
    }
    return lr_lora_forward(&t->ws, t->m, t->lo, e->ids, e->labels, NULL, 1,
                           e->len, t->lo->cfg.dropout,
                           lr_trainer_dropout_seed(t->o.seed, epoch, pos),
                           nll, &n, err) ||
           lr_lora_backward(&t->ws, t->m, t->lo, unit, scale, err)
               ? -1 : 0;
}

/* The units of the g examples at places pos .. pos + g - 1 (all of one
 * length) in one forward and backward: unit + k n_params for the k-th,
 * bit for bit example_unit's (lr_lora_forward_each); acc: g is 1 */
static int group_units(lr_trainer *t, long epoch, size_t pos, int g,
                       lr_float *unit, lr_float *acc, double scale,
                       double *nll, lr_error *err)
{
    const int T = t->ds->ex[t->perm[pos]].len;
    int k;
    if (g == 1)
        return example_unit(t, epoch, pos, unit, acc, scale, nll, err);
    for (k = 0; k < g; k++) {
        const lr_example *e = &t->ds->ex[t->perm[pos + (size_t)k]];
        memcpy(t->g_ids + (size_t)k * T, e->ids, sizeof *e->ids * T);
        memcpy(t->g_labels + (size_t)k * T, e->labels, sizeof *e->labels * T);
        t->g_seeds[k] = lr_trainer_dropout_seed(t->o.seed, epoch,
                                                pos + (size_t)k);
    }
    lr_zero_grad(unit, (size_t)g * t->n_params);
    return lr_lora_forward_each(&t->ws, t->m, t->lo, t->g_ids, t->g_labels,
                                g, T, t->lo->cfg.dropout, t->g_seeds, nll,
                                t->g_counted, err) ||
           lr_lora_backward_each(&t->ws, t->m, t->lo, unit, t->n_params,
                                 scale, err)
               ? -1 : 0;
}

uint64_t lr_trainer_dropout_seed(uint64_t seed, long epoch, size_t pos)
{
    return lr_stream_seed(seed, LR_STREAM_DROPOUT, (uint64_t)epoch,
                          (uint64_t)pos);
}

/* below this many elements the fold stays on one thread */
#define FOLD_PAR_MIN 65536L

void lr_trainer_fold(lr_float *acc, const lr_float *unit, size_t n)
{
    /* one addition per element: threads over elements keep every
     * element's sequence of additions (the fold order is across units) */
    const long nl = (long)n;
    long j;
#ifdef LR_OMP
#pragma omp parallel for schedule(static) if (nl >= FOLD_PAR_MIN)
#endif
    for (j = 0; j < nl; j++) acc[j] += unit[j];
}

int lr_trainer_step(lr_trainer *t, long step, lr_step_stats *st,
                    lr_error *err)
{
    const lr_trainer_opts *o = &t->o;
    const lr_dataset *ds = t->ds;
    const long epoch = step / t->spe, s = step % t->spe;
    const long mb0 = s * o->accum;
    const long mb1 = mb0 + o->accum < t->nb ? mb0 + o->accum : t->nb;
    const int rank = lr_par_rank(), size = lr_par_size();
    const int fused = rank == 0 && t->full; /* lr_full_backward_fold */
    long mb, n_total = 0, ntok = 0;
    double nll_total = 0, gnorm, lr, scale;
    if (step < 0 || step >= t->total)
        return lr_fail(err, "trainer: step %ld outside 0..%ld", step,
                       t->total - 1);
    if (epoch != t->perm_epoch) {
        lr_dataset_shuffle(t->perm, ds->n, o->seed, epoch);
        t->perm_epoch = epoch;
    }
    /* HF normalisation: counted tokens of the whole accumulated batch;
     * tokens: B * T of each micro-batch collated as HF pads it */
    for (mb = mb0; mb < mb1; mb++) {
        size_t i0 = (size_t)mb * o->batch, i;
        int T = 0;
        for (i = i0; i < i0 + (size_t)o->batch && i < ds->n; i++) {
            const lr_example *e = &ds->ex[t->perm[i]];
            int k;
            for (k = 1; k < e->len; k++)
                n_total += e->labels[k] != LR_IGNORE_INDEX;
            if (e->len > T) T = e->len;
        }
        ntok += (long)(i - i0) * T;
    }
    scale = 1.0 / (double)n_total;
    lr_zero_grad(t->grad, t->n_params);
    for (mb = mb0; mb < mb1; mb++) {
        const size_t i0 = (size_t)mb * o->batch;
        const int B = (int)(ds->n - i0 < (size_t)o->batch ? ds->n - i0
                                                          : (size_t)o->batch);
        long b0, b1, b;
        int g;
        /* this rank's examples [b0, b1) of the micro-batch (all of them in
         * one process); rank 0 folds its units as they come, the others
         * keep theirs for lr_par_fold */
        lr_par_shard(B, &b0, &b1);
        /* full-parameter units on rank 0 are folded during the backward
         * (most of a 100M model's unit never written) */
        for (b = b0; b < b1; b += g) {
            lr_float *unit = rank == 0 ? t->unit
                             : t->unit + (size_t)(b - b0) * t->n_params;
            /* the next examples of b's length, up to a group */
            const int len = ds->ex[t->perm[i0 + (size_t)b]].len;
            int k;
            g = 1;
            while (g < t->group && b + g < b1 &&
                   ds->ex[t->perm[i0 + (size_t)(b + g)]].len == len)
                g++;
            if (group_units(t, epoch, i0 + (size_t)b, g, unit,
                            fused ? t->grad : NULL, scale, &t->nll[b], err))
                return -1;
            if (rank == 0 && !fused)
                for (k = 0; k < g; k++)
                    lr_trainer_fold(t->grad, unit + (size_t)k * t->n_params,
                                    t->n_params);
        }
        if (size > 1) {
            if (lr_par_fold(t->grad, t->n_params, t->unit, B, err) ||
                lr_par_gather(t->nll, B, sizeof *t->nll, err))
                return -1;
        }
        for (b = 0; b < B; b++) nll_total += t->nll[b];
    }
    if (size > 1 && (lr_par_bcast(t->grad, sizeof *t->grad * t->n_params, err) ||
                     lr_par_bcast(&nll_total, sizeof nll_total, err)))
        return -1;
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
