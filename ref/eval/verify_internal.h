/* verify_internal.h - what the four files of `llamaref verify` share and
 * the public header (include/llamaref/eval/verify.h) does not say: the lrv_
 * functions are internal to the library (ref/exports.map exports only
 * lr_*) and may change without notice.
 *   verify_names.c    name maps (hf, llama.cpp, user JSON), computation order
 *   verify_compare.c  default tolerances; reading tensors as float64 in
 *                     pieces; the one-pass comparison and the full measure
 *   verify_report.c   the first divergence's diagnosis; the JSON report
 *   verify.c          the walk: pairs tensors, checks shapes, calls the rest
 * Depends on: verify.h (safetensors.h, json.h, common.h). */
#ifndef LLAMAREF_VERIFY_INTERNAL_H
#define LLAMAREF_VERIFY_INTERNAL_H

#include "llamaref/eval/verify.h"

/* lr_verify_order majors: the backward (activation gradients) starts here */
#define LRV_ORD_BACKWARD 2000000

#define LRV_READ_CHUNK (1u << 20) /* bytes per read of one file */
#define LRV_QUICK_CHUNK 131072    /* elements (1 MB of doubles); a row of logits fits */

/* verify_names.c */
/* The entry of map m (may be NULL) for golden name golden (the last one
 * added wins), or NULL. */
const lr_verify_map_entry *lrv_map_find(const lr_verify_map *m,
                                        const char *golden);
/* "layers.N.rest" -> N and *rest; -1 when name is not of that form. */
long lrv_parse_layer(const char *name, const char **rest);

/* verify_compare.c */
/* Reads floating tensor t whole as float64 into dst through buf
 * (LRV_READ_CHUNK bytes). */
int lrv_read_f64(lr_st_file *f, const lr_st_tensor *t, double *dst,
                 unsigned char *buf, lr_error *err);
/* One streaming pass over golden slice gs and candidate ct (raw: 2 *
 * LRV_READ_CHUNK bytes, gb and cb: LRV_QUICK_CHUNK doubles each).  0: every
 * element finite and within t's tolerance, t's figures filled; 1: some
 * element may not be (read both whole and lrv_measure them); -1: a read
 * error. */
int lrv_quick_pass(lr_st_file *gf, const lr_st_tensor *gs, lr_st_file *cf,
                   const lr_st_tensor *ct, unsigned char *raw, double *gb,
                   double *cb, lr_verify_tensor *t, lr_error *err);
/* Every figure of t (tolerances already in t) from whole tensors g and c
 * (golden name, the golden's head_dim or 0), with the failure patterns
 * (scale, transposed, rotary interleave, positions, heads). */
void lrv_measure(lr_verify_tensor *t, const double *g, const double *c,
                 const char *name, int head_dim);

/* verify_report.c */
/* "[d0, d1, ...]" into buf. */
int lrv_shape_str(char *buf, size_t cap, int nd, const int64_t *s);
/* Fills r->diagnosis for the first divergence r->t[r->first]. */
void lrv_diagnose(lr_verify_report *r);

#endif
