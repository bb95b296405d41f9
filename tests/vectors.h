/* vectors.h - reading golden vectors (vectors/..., safetensors) in the C
 * tests: expected tensors as double, token ids as int, string metadata,
 * and the error measure the tests bound.  Include after harness.h. */
#ifndef LLAMAREF_TESTS_VECTORS_H
#define LLAMAREF_TESTS_VECTORS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "llamaref/core/json.h"
#include "llamaref/formats/safetensors.h"

/* max |a - b| / max |b| (max |b| = 0: the absolute error); NaN in a
 * makes it NaN, so a bound check fails. */
H_UNUSED static double vec_rel_err(const lr_float *a, const double *b, size_t n)
{
    double mx = 0, md = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= md)) md = d; /* NaN propagates */
        if (fabs(b[i]) > mx) mx = fabs(b[i]);
    }
    return md / (mx > 0 ? mx : 1);
}

/* max |x| over n values; NaN propagates.  Written as a compare rather
 * than an fmax() reduction: GCC 12 for aarch64 crashes (internal compiler
 * error in vect_transform_reduction) vectorising fmax(double, (double)float)
 * reductions, and fmax would also skip a NaN. */
H_UNUSED static double vec_max_abs(const lr_float *x, size_t n)
{
    double mx = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double v = fabs((double)x[i]);
        if (!(v <= mx)) mx = v;
    }
    return mx;
}

/* vec_rel_err for two computed tensors: max |a - b| / max |b|. */
H_UNUSED static double vec_rel_err_ff(const lr_float *a, const lr_float *b, size_t n)
{
    double mx = vec_max_abs(b, n), md = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= md)) md = d;
    }
    return md / (mx > 0 ? mx : 1);
}

/* Tensor name of f as double (malloc'ed), *n (optional) its element
 * count; NULL when absent or unreadable (said on stderr). */
H_UNUSED static double *vec_read_f64(lr_st_file *f, const char *name, size_t *n)
{
    const lr_st_tensor *t = lr_st_find(f, name);
    double *d;
    lr_error err;
    if (!t) return NULL;
    d = malloc(sizeof *d * (size_t)(t->nelem ? t->nelem : 1));
    if (!d || lr_st_read_f64(f, t, d, &err)) {
        fprintf(stderr, "%s: %s\n", name, d ? err.msg : "out of memory");
        free(d);
        return NULL;
    }
    if (n) *n = (size_t)t->nelem;
    return d;
}

/* Integer tensor name of f as int (malloc'ed); *rows and *cols
 * (optional) its first two dimensions.  NULL when absent or unreadable. */
H_UNUSED static int *vec_read_ints(lr_st_file *f, const char *name, int *rows,
                                   int *cols)
{
    const lr_st_tensor *t = lr_st_find(f, name);
    int64_t *v;
    int *o;
    size_t i;
    lr_error err;
    if (!t) return NULL;
    v = malloc(sizeof *v * (size_t)(t->nelem ? t->nelem : 1));
    o = malloc(sizeof *o * (size_t)(t->nelem ? t->nelem : 1));
    if (!v || !o || lr_st_read_i64(f, t, v, &err)) {
        fprintf(stderr, "%s: %s\n", name, v && o ? err.msg : "out of memory");
        free(v);
        free(o);
        return NULL;
    }
    for (i = 0; i < t->nelem; i++) o[i] = (int)v[i];
    free(v);
    if (rows) *rows = t->ndim > 0 ? (int)t->shape[0] : 1;
    if (cols) *cols = t->ndim > 1 ? (int)t->shape[1] : 1;
    return o;
}

/* String metadata key of f, "" when absent. */
H_UNUSED static const char *vec_meta(lr_st_file *f, const char *key)
{
    const lr_json *v = lr_json_get(lr_st_metadata(f), key);
    return v && v->type == LR_JSON_STRING ? v->str : "";
}

#endif
