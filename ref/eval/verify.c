/* verify.c - golden dump vs candidate dump, tensor by tensor in computation
 * order; the first divergence (verify.h, docs/verify.md).  The walk: pairs
 * the golden's tensors with the candidate's (through a name map), checks
 * dtypes and shapes (a golden batch row, a batch dimension of one), and
 * compares each pair streaming (verify_compare.c): one golden/candidate
 * pair is in memory at a time, and only when it may fail.
 * Depends on: verify_internal.h (verify.h), verify_names.c,
 * verify_compare.c, verify_report.c, safetensors, common. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

/* Computation order (lr_verify_order), then the name. */
static int cmp_order(const char *a, const char *b)
{
    lr_verify_key ka = lr_verify_order(a), kb = lr_verify_order(b);
    if (ka.major != kb.major) return ka.major < kb.major ? -1 : 1;
    if (ka.minor != kb.minor) return ka.minor < kb.minor ? -1 : 1;
    return strcmp(a, b);
}

static int cmp_tensor_ptr(const void *a, const void *b)
{
    const lr_st_tensor *ta = *(const lr_st_tensor *const *)a;
    const lr_st_tensor *tb = *(const lr_st_tensor *const *)b;
    return cmp_order(ta->name, tb->name);
}
static int same_dims(int na, const int64_t *a, int nb, const int64_t *b)
{
    int d;
    if (na != nb) return 0;
    for (d = 0; d < na; d++)
        if (a[d] != b[d]) return 0;
    return 1;
}

/* Applies the map's transforms to golden data of shape (nd, s), in place
 * through tmp; updates s to the candidate layout. */
static void apply_transform(int tr, double *g, double *tmp, uint64_t n,
                            int nd, int64_t *s, int head_dim)
{
    uint64_t i;
    if ((tr & LR_VMAP_INTERLEAVE) && nd >= 1 && head_dim > 1 &&
        head_dim % 2 == 0 && s[nd - 1] % head_dim == 0) {
        uint64_t last = (uint64_t)s[nd - 1], hd = (uint64_t)head_dim,
                 half = hd / 2, row, h, k;
        for (row = 0; row < n; row += last)
            for (h = 0; h < last; h += hd)
                for (k = 0; k < half; k++) {
                    tmp[row + h + 2 * k] = g[row + h + k];
                    tmp[row + h + 2 * k + 1] = g[row + h + k + half];
                }
        for (i = 0; i < n; i++) g[i] = tmp[i];
    }
    if ((tr & LR_VMAP_TRANSPOSE) && nd >= 2) {
        uint64_t r = (uint64_t)s[nd - 2], q = (uint64_t)s[nd - 1], m = r * q,
                 b, a, e;
        int64_t x;
        for (b = 0; b + m <= n && m; b += m)
            for (a = 0; a < r; a++)
                for (e = 0; e < q; e++) tmp[b + e * r + a] = g[b + a * q + e];
        for (i = 0; i < n; i++) g[i] = tmp[i];
        x = s[nd - 2]; s[nd - 2] = s[nd - 1]; s[nd - 1] = x;
    }
}
static int push_name(char ***list, size_t *n, const char *name, lr_error *err)
{
    char **l = realloc(*list, (*n + 1) * sizeof **list);
    if (!l) return lr_fail(err, "out of memory listing tensors");
    *list = l;
    if (!(l[*n] = lr_strdup(name, err))) return -1;
    (*n)++;
    return 0;
}

/* Positions of the golden's row (position_ids), else 0 .. T-1. */
static long golden_max_pos(lr_st_file *gf, int row, lr_error *err)
{
    const lr_st_tensor *p = lr_st_find(gf, "position_ids");
    const lr_st_tensor *e = lr_st_find(gf, "logits");
    long mx = 0;
    if (!e) e = lr_st_find(gf, "embed");
    if (p && !lr_dtype_is_float(p->dtype) && p->nelem > 0 && p->nelem < (1u << 26)) {
        int64_t *v = lr_alloc((size_t)p->nelem, sizeof *v, "position_ids", err);
        uint64_t i, per = p->ndim >= 2 ? (uint64_t)p->shape[p->ndim - 1] : p->nelem,
                    b0 = p->ndim >= 2 && (uint64_t)row * per < p->nelem ? (uint64_t)row * per : 0;
        if (!v || lr_st_read_i64(gf, p, v, err)) { free(v); return -1; }
        for (i = b0; i < b0 + per && i < p->nelem; i++)
            if (v[i] > mx) mx = (long)v[i];
        free(v);
        return mx;
    }
    if (e && e->ndim >= 2) mx = (long)e->shape[e->ndim - 2] - 1;
    return mx;
}

static void golden_heads(lr_st_file *gf, lr_verify_report *r)
{
    const lr_st_tensor *s = lr_st_find(gf, "layers.0.attn_scores");
    const lr_st_tensor *q = lr_st_find(gf, "layers.0.q");
    if (!s) s = lr_st_find(gf, "layers.0.attn_probs");
    if (s && s->ndim >= 3 && q && q->ndim >= 1 && s->shape[s->ndim - 3] > 0) {
        r->n_heads = (int)s->shape[s->ndim - 3];
        if (q->shape[q->ndim - 1] % r->n_heads == 0)
            r->head_dim = (int)(q->shape[q->ndim - 1] / r->n_heads);
    }
}

/* Compares integer tensors present on both sides (the inputs): they must
 * be the same, else the dumps are not of the same computation. */
static int check_inputs(lr_st_file *gf, lr_st_file *cf, const lr_st_tensor *gt,
                        const lr_st_tensor *ct, int row, lr_error *err)
{
    int64_t *a = NULL, *b = NULL;
    uint64_t i, off = 0, n = ct->nelem;
    int rc = 0;
    if (lr_dtype_is_float(ct->dtype))
        return lr_fail(err, "%s: tensor '%s' is %s, the golden %s has it as %s",
                       lr_st_path(cf), ct->name, lr_dtype_name(ct->dtype),
                       lr_st_path(gf), lr_dtype_name(gt->dtype));
    if (gt->nelem > (1u << 26) || n > gt->nelem) return 0;
    if (n < gt->nelem && gt->ndim >= 2) off = (uint64_t)row * n;
    if (off + n > gt->nelem) return 0;
    a = lr_alloc((size_t)gt->nelem + 1, sizeof *a, "golden inputs", err);
    b = a ? lr_alloc((size_t)n + 1, sizeof *b, "candidate inputs", err) : NULL;
    if (!b || lr_st_read_i64(gf, gt, a, err) || lr_st_read_i64(cf, ct, b, err)) {
        free(a); free(b);
        return -1;
    }
    for (i = 0; i < n; i++)
        if (a[off + i] != b[i]) {
            rc = lr_fail(err, "%s: '%s' differs from the golden %s's at element "
                         "%llu (%lld vs %lld): the dumps are not of the same inputs",
                         lr_st_path(cf), ct->name, lr_st_path(gf),
                         (unsigned long long)i, (long long)b[i], (long long)a[off + i]);
            break;
        }
    free(a); free(b);
    return rc;
}

/* gs = row `row` of golden tensor gt's batch (its leading dimension), per
 * elements a row: the slice compared when the candidate has one sequence. */
static int golden_row(lr_st_file *gf, const lr_st_tensor *gt, int row,
                      uint64_t per, lr_st_tensor *gs, lr_error *err)
{
    if (row >= gt->shape[0])
        return lr_fail(err, "--row %d: golden tensor '%s' in %s has a batch of %lld",
                       row, gt->name, lr_st_path(gf), (long long)gt->shape[0]);
    gs->nelem = per;
    gs->nbytes = per * lr_dtype_size(gt->dtype);
    gs->offset = gt->offset + (uint64_t)row * gs->nbytes;
    gs->ndim = gt->ndim - 1;
    memmove(gs->shape, gt->shape + 1, sizeof gs->shape[0] * (LR_MAX_DIMS - 1));
    return 0;
}

int lr_verify(lr_st_file *gf, lr_st_file *cf, const lr_verify_opts *o,
              lr_verify_report *r, lr_error *err)
{
    size_t ng = lr_st_count(gf), nc = lr_st_count(cf), i, j;
    const lr_st_tensor **order = NULL;
    unsigned char *hit = NULL;
    double *g = NULL, *c = NULL, *tmp = NULL;
    unsigned char *rbuf = NULL;
    double *qbuf = NULL;
    size_t cap = 0;
    lr_verify_map bm;
    lr_verify_opts def;
    if (!o) { lr_verify_opts_init(&def); o = &def; }
    memset(r, 0, sizeof *r);
    memset(&bm, 0, sizeof bm);
    r->first = -1;
    if (o->row < 0) return lr_fail(err, "row %d: must be >= 0", o->row);
    golden_heads(gf, r);
    if ((r->max_pos = golden_max_pos(gf, o->row, err)) < 0) return -1;
    order = lr_alloc(ng + 1, sizeof *order, "tensor order", err);
    hit = lr_zalloc(nc + 1, 1, "candidate flags", err);
    r->t = lr_zalloc(ng + 1, sizeof *r->t, "report", err);
    rbuf = lr_alloc(2 * LRV_READ_CHUNK, 1, "read buffer", err);
    qbuf = lr_alloc(2 * LRV_QUICK_CHUNK, sizeof *qbuf, "read buffer", err);
    if (!order || !hit || !r->t || !rbuf || !qbuf) goto fail;
    for (i = 0; i < ng; i++) order[i] = lr_st_at(gf, i);
    qsort(order, ng, sizeof *order, cmp_tensor_ptr);
    if (o->builtin_map &&
        lr_verify_map_builtin(o->builtin_map, gf, cf, &bm, err))
        goto fail;
    if (o->map) /* every map entry must name tensors that exist */
        for (i = 0; i < o->map->n; i++) {
            const lr_verify_map_entry *e = &o->map->e[i];
            if (!lr_st_find(gf, e->golden)) {
                lr_fail(err, "%s: the map names golden tensor '%s', which %s "
                        "does not have", o->map->source ? o->map->source : "name map",
                        e->golden, lr_st_path(gf));
                goto fail;
            }
            if (!lr_st_find(cf, e->candidate)) {
                lr_fail(err, "%s: the map names candidate tensor '%s' (for '%s'), "
                        "which %s does not have", o->map->source ? o->map->source
                        : "name map", e->candidate, e->golden, lr_st_path(cf));
                goto fail;
            }
        }
    for (i = 0; i < ng; i++) {
        const lr_st_tensor *gt = order[i], *ct;
        const lr_verify_map_entry *me = lrv_map_find(o->map, gt->name)
                                        ? lrv_map_find(o->map, gt->name)
                                        : lrv_map_find(&bm, gt->name);
        const char *cname = me ? me->candidate : gt->name;
        lr_st_tensor gs = *gt; /* the golden slice compared */
        int64_t gshape[LR_MAX_DIMS];
        int gnd, tr = me ? me->transform : 0, d, k;
        lr_verify_tensor *t;
        char s1[160], s2[160];
        ct = lr_st_find(cf, cname);
        if (!ct) {
            if (push_name(&r->only_golden, &r->n_only_golden, gt->name, err)) goto fail;
            continue;
        }
        for (j = 0; j < nc; j++)
            if (lr_st_at(cf, j) == ct) hit[j] = 1;
        if (!lr_dtype_is_float(gt->dtype)) {
            if (check_inputs(gf, cf, gt, ct, o->row, err)) goto fail;
            continue;
        }
        if (!lr_dtype_is_float(ct->dtype)) {
            lr_fail(err, "%s: tensor '%s' has dtype %s; the golden '%s' is %s",
                    lr_st_path(cf), ct->name, lr_dtype_name(ct->dtype), gt->name,
                    lr_dtype_name(gt->dtype));
            goto fail;
        }
        /* shapes: golden (after the map's transpose) equal to the
         * candidate's, or one of them with a leading batch dimension */
        gnd = gt->ndim;
        memcpy(gshape, gt->shape, sizeof gshape);
        if ((tr & LR_VMAP_TRANSPOSE) && gnd >= 2) {
            int64_t x = gshape[gnd - 1];
            gshape[gnd - 1] = gshape[gnd - 2]; gshape[gnd - 2] = x;
        }
        if ((tr & LR_VMAP_RESHAPE) && ct->nelem == gt->nelem) {
            /* the same elements in the same order */
        } else if ((tr & LR_VMAP_RESHAPE) && gt->ndim >= 2 && gt->shape[0] > 0 &&
                   gt->nelem / (uint64_t)gt->shape[0] == ct->nelem) {
            uint64_t per = ct->nelem;
            if (golden_row(gf, gt, o->row, per, &gs, err)) goto fail;
        } else if (same_dims(gnd, gshape, ct->ndim, ct->shape)) {
            /* compare everything */
        } else if ((gnd == ct->ndim + 1 && same_dims(ct->ndim, gshape + 1,
                                                     ct->ndim, ct->shape)) ||
                   (gnd == ct->ndim && gnd >= 2 && ct->shape[0] == 1 &&
                    same_dims(gnd - 1, gshape + 1, gnd - 1, ct->shape + 1))) {
            /* one row of the golden's batch (the candidate with or without
             * its own batch dimension of one) */
            uint64_t per = gt->shape[0] ? gt->nelem / (uint64_t)gt->shape[0] : 0;
            if (golden_row(gf, gt, o->row, per, &gs, err)) goto fail;
        } else if (ct->ndim == gnd + 1 && ct->shape[0] == 1 &&
                   same_dims(gnd, gshape, gnd, ct->shape + 1)) {
            /* candidate has a batch of one */
        } else {
            lrv_shape_str(s1, sizeof s1, gt->ndim, gt->shape);
            lrv_shape_str(s2, sizeof s2, ct->ndim, ct->shape);
            lr_fail(err, "shape mismatch: golden '%s' in %s is %s, candidate '%s' "
                    "in %s is %s%s", gt->name, lr_st_path(gf), s1, ct->name,
                    lr_st_path(cf), s2, tr ? " (after the map's transpose)" : "");
            goto fail;
        }
        if (gs.nelem != ct->nelem) {
            lr_fail(err, "internal: element counts of '%s' differ", gt->name);
            goto fail;
        }
        t = &r->t[r->n++];
        if (!(t->name = lr_strdup(gt->name, err)) ||
            !(t->cand_name = lr_strdup(ct->name, err)))
            goto fail;
        t->ndim = ct->ndim;
        for (d = 0; d < ct->ndim; d++) t->shape[d] = ct->shape[d];
        t->gdtype = gt->dtype;
        t->cdtype = ct->dtype;
        t->compute = o->compute >= 0 ? (lr_dtype)o->compute : ct->dtype;
        t->nelem = ct->nelem;
        t->rtol = o->rtol >= 0 ? o->rtol
                               : lr_verify_default_rtol(t->compute, gt->name, r->max_pos);
        if (o->rtol < 0 && o->golden_compute >= 0)
            t->rtol += lr_verify_default_rtol((lr_dtype)o->golden_compute,
                                              gt->name, r->max_pos);
        t->atol = o->atol >= 0 ? o->atol : 0;
        t->is_logits = !strcmp(gt->name, "logits");
        /* the common case in one streaming pass; a tensor that may fail,
         * logits and mapped layouts are read whole and measured */
        k = tr || (t->is_logits && (t->ndim < 1 || t->shape[t->ndim - 1] > LRV_QUICK_CHUNK)) ? 1
          : lrv_quick_pass(gf, &gs, cf, ct, rbuf, qbuf, qbuf + LRV_QUICK_CHUNK, t, err);
        if (k < 0) goto fail;
        if (k) {
            if (ct->nelem > cap || !g) {
                free(g); free(c); free(tmp);
                g = c = tmp = NULL;
                cap = (size_t)ct->nelem;
                if (ct->nelem > (uint64_t)((size_t)-1 / sizeof(double))) {
                    lr_fail(err, "%s: tensor '%s' does not fit in memory", lr_st_path(cf), ct->name);
                    goto fail;
                }
                g = lr_alloc(cap + 1, sizeof *g, gt->name, err);
                c = g ? lr_alloc(cap + 1, sizeof *c, ct->name, err) : NULL;
                if (!c) goto fail;
            }
            if (tr && !tmp && !(tmp = lr_alloc(cap + 1, sizeof *tmp, "map transform", err)))
                goto fail;
            if (lrv_read_f64(gf, &gs, g, rbuf, err)) goto fail;
            for (j = 0; j < (size_t)gs.nelem; j++)
                if (g[j] != g[j]) {
                    lr_fail(err, "%s: golden tensor '%s' holds NaN (element %llu): "
                            "not usable as truth", lr_st_path(gf), gt->name,
                            (unsigned long long)j);
                    goto fail;
                }
            if (tr) {
                int64_t s[LR_MAX_DIMS];
                memcpy(s, gs.shape, sizeof s);
                apply_transform(tr, g, tmp, gs.nelem, gs.ndim, s, r->head_dim);
            }
            if (lrv_read_f64(cf, ct, c, rbuf, err)) goto fail;
            lrv_measure(t, g, c, gt->name, r->head_dim);
        }
        if (!t->ok && r->first < 0) r->first = (long)(r->n - 1);
    }
    for (j = 0; j < nc; j++)
        if (!hit[j] && push_name(&r->only_candidate, &r->n_only_candidate,
                                 lr_st_at(cf, j)->name, err))
            goto fail;
    if (r->n == 0) {
        lr_fail(err, "%s and %s have no floating tensor in common (names: "
                "docs/tensors.md; a name map: --names)", lr_st_path(gf), lr_st_path(cf));
        goto fail;
    }
    r->pass = r->first < 0;
    if (!r->pass) lrv_diagnose(r);
    free(order); free(hit); free(g); free(c); free(tmp); free(rbuf); free(qbuf);
    lr_verify_map_free(&bm);
    return 0;
fail:
    free(order); free(hit); free(g); free(c); free(tmp); free(rbuf); free(qbuf);
    lr_verify_map_free(&bm);
    lr_verify_report_free(r);
    return -1;
}

int lr_verify_files(const char *golden, const char *candidate,
                    const lr_verify_opts *o, lr_verify_report *r,
                    lr_error *err)
{
    lr_st_file *gf = NULL, *cf = NULL;
    int rc;
    memset(r, 0, sizeof *r);
    r->first = -1;
    /* stdio, not LR_ST_MMAP: no faster here, and the mapped pages would
     * count in the RSS (docs/verify.md, "Streaming"); lr_verify decodes
     * in place from files the caller opened mapped */
    if (lr_st_open(golden, 0, &gf, err)) return lr_fail_prefix(err, "golden");
    if (lr_st_open(candidate, 0, &cf, err)) {
        lr_st_close(gf);
        return lr_fail_prefix(err, "candidate");
    }
    rc = lr_verify(gf, cf, o, r, err);
    lr_st_close(gf);
    lr_st_close(cf);
    return rc;
}
void lr_verify_report_free(lr_verify_report *r)
{
    size_t i;
    if (!r) return;
    for (i = 0; i < r->n; i++) { free(r->t[i].name); free(r->t[i].cand_name); }
    free(r->t);
    for (i = 0; i < r->n_only_golden; i++) free(r->only_golden[i]);
    for (i = 0; i < r->n_only_candidate; i++) free(r->only_candidate[i]);
    free(r->only_golden);
    free(r->only_candidate);
    memset(r, 0, sizeof *r);
    r->first = -1;
}
