/* verify.h - comparing another implementation's tensor dump with golden
 * truth, tensor by tensor in computation order, and naming the first
 * divergence (docs/verify.md).
 *
 * Both files are safetensors dumps under the names of docs/tensors.md (or
 * names a map translates).  Every floating tensor present in both is read
 * as float64, one pair at a time (memory is bounded by the largest pair),
 * in computation order: embed, layers.N.{attn_norm ... out}, final_norm,
 * logits, loss, the activation gradients dlogits ... dembed, grad.* in
 * backward order, then optimizer state (param.*, exp_avg.*, exp_avg_sq.*);
 * other names follow in name order.
 *
 * Element test: |c - g| <= atol  or  |c - g| <= rtol * max|golden|; a
 * non-finite candidate value fails unless the golden holds the same
 * infinity (a golden -inf, a masked attention score, also accepts any
 * candidate value <= -1e30: HF adds finfo.min instead of -inf).
 * Per tensor: max |c - g|, that over max|g| (max_rel), NMSE (llama.cpp
 * test-backend-ops' nmse(a, b) = sum (a - b)^2 / sum a^2 with a = golden),
 * cosine similarity, the count of non-finite candidate values; for logits
 * also top-1 agreement per position and max |delta log-softmax|.
 */
#ifndef LLAMAREF_VERIFY_H
#define LLAMAREF_VERIFY_H

#include "llamaref/formats/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Layout transforms a map can ask for, applied to the golden tensor to
 * bring it into the candidate's layout. */
#define LR_VMAP_TRANSPOSE 1  /* candidate holds the last two dims swapped */
#define LR_VMAP_INTERLEAVE 2 /* q/k columns in Meta's rotary layout: per
                                head, pair (i, i + hd/2) at (2i, 2i+1) */
#define LR_VMAP_RESHAPE 4    /* same elements in the same order, other
                                dims (llama.cpp's [T, H, hd] for [T, H*hd]) */

typedef struct lr_verify_map_entry {
    char *golden, *candidate;
    int transform;   /* LR_VMAP_* bits */
} lr_verify_map_entry;

typedef struct lr_verify_map {
    lr_verify_map_entry *e;
    size_t n;
    char *source;    /* where it came from, for messages */
} lr_verify_map;

/* A user map: a JSON object {"golden name": "candidate name", ...} or
 * {"golden name": {"name": "candidate name", "transpose": true,
 *  "interleave": true, "reshape": true}, ...}.  Golden names not in the map are looked up
 * under their own name. */
int lr_verify_map_load(const char *path, lr_verify_map *m, lr_error *err);
/* A built-in map, "hf" (the names vectors/gen/hf_dump.py writes: Hugging
 * Face module paths) or "llama.cpp" (graph tensor names as an eval
 * callback sees them, docs/verify.md), for every golden name of
 * docs/tensors.md whose candidate tensor exists in cand. */
int lr_verify_map_builtin(const char *which, lr_st_file *golden,
                          lr_st_file *cand, lr_verify_map *m, lr_error *err);
/* Adds one entry (copies the strings). */
int lr_verify_map_add(lr_verify_map *m, const char *golden,
                      const char *candidate, int transform, lr_error *err);
void lr_verify_map_free(lr_verify_map *m);

typedef struct lr_verify_opts {
    int compute;     /* LR_F64/F32/F16/BF16; -1: each candidate tensor's dtype */
    double rtol;     /* < 0: the default for the compute type and tensor */
    double atol;     /* < 0: the default (0) */
    int row;         /* golden batch row compared with a one-sequence candidate */
    int golden_compute; /* -1: the golden is float64 truth; else the type it
                           was computed in, whose default rtol is added */
    const lr_verify_map *map; /* NULL: identical names */
    const char *builtin_map;  /* NULL, "hf" or "llama.cpp"; map's entries
                                 take precedence */
} lr_verify_opts;

/* The defaults: every field 0 / NULL except compute, rtol, atol and
 * golden_compute, which are -1 (chosen per tensor as documented above). */
void lr_verify_opts_init(lr_verify_opts *o);
/* A compute type by its name ("f32", "bf16", "f16" or "f64", `verify
 * --compute`) to *out: 0, or -1 for another name (*out untouched). */
int lr_verify_compute_from_name(const char *name, int *out);
/* `verify --names`: "hf" or "llama.cpp" sets o->builtin_map; any other
 * value is a JSON map file, loaded into map (lr_verify_map_load) and set
 * as o->map. */
int lr_verify_names(const char *names, lr_verify_opts *o, lr_verify_map *map,
                    lr_error *err);

/* Default rtol for a tensor computed in `compute` (docs/verify.md gives
 * the derivation): a * u(compute) + b * u(accumulation) + the RoPE angle
 * term 2 * max_pos * u(angle) for tensors after the first RoPE. */
double lr_verify_default_rtol(lr_dtype compute, const char *name,
                              long max_pos);

/* Computation-order key of a dump name (smaller = earlier). */
typedef struct lr_verify_key { int64_t major; int minor; } lr_verify_key;
lr_verify_key lr_verify_order(const char *name);

typedef struct lr_verify_tensor {
    char *name;                 /* golden name */
    char *cand_name;
    int ndim;                   /* candidate shape */
    int64_t shape[LR_MAX_DIMS];
    lr_dtype gdtype, cdtype, compute;
    uint64_t nelem;
    double max_abs, max_rel, nmse, cosine, gmax;
    double rtol, atol;
    uint64_t non_finite;        /* candidate NaN/Inf not matching the golden */
    uint64_t n_bad;             /* elements beyond tolerance */
    int64_t worst[LR_MAX_DIMS]; /* worst element, candidate's own index */
    int ok;
    /* logits only (is_logits): */
    int is_logits;
    long top1_agree, top1_rows;
    double max_dlogsoftmax;
    /* patterns among the elements beyond tolerance (for the diagnosis) */
    long pos_first, pos_last;   /* token positions, -1 when none / n.a. */
    long pos_bad;               /* positions with a bad element */
    long n_pos;
    int head_one;               /* the only bad head, -1: none or several */
    int n_heads_bad, n_heads;
    double scale;               /* least-squares c ~ s g */
    int scale_fits;             /* c - s g within tolerance, s != 1 */
    int transposed;             /* c ~ g with the last two dims swapped */
    int interleaved;            /* c ~ g in Meta's rotary column layout */
} lr_verify_tensor;

typedef struct lr_verify_report {
    lr_verify_tensor *t;        /* compared tensors, computation order */
    size_t n;
    char **only_golden, **only_candidate;
    size_t n_only_golden, n_only_candidate;
    long first;                 /* index in t of the first divergence, -1 */
    char diagnosis[768];
    int pass;
    long max_pos;
    int n_heads, head_dim;      /* from the golden header, 0 unknown */
} lr_verify_report;

/* Compares the two files.  Returns 0 with the report filled (r->pass says
 * whether everything is within tolerance), -1 with err naming the file and
 * tensor when the input is unusable (unreadable, not safetensors, shapes
 * or dtypes no map explains, NaN in the golden, a map naming missing
 * tensors, nothing in common). */
int lr_verify_files(const char *golden, const char *candidate,
                    const lr_verify_opts *o, lr_verify_report *r,
                    lr_error *err);
/* The same on opened files. */
int lr_verify(lr_st_file *golden, lr_st_file *candidate,
              const lr_verify_opts *o, lr_verify_report *r, lr_error *err);
void lr_verify_report_free(lr_verify_report *r);

/* The report as `llamaref verify` prints it: a table of every compared
 * tensor (shape, max_abs, max_rel, rtol, nmse, cosine, non-finite count,
 * ok / BAD / FIRST DIVERGENCE; top-1 agreement under the logits), the
 * tensors only in one file, then "PASS: N tensors within tolerance" or
 * "FIRST DIVERGENCE: <diagnosis>".  Appended to out; -1 out of memory. */
int lr_verify_report_text(const lr_verify_report *r, lr_buf *out);

/* The JSON report: {"pass", "first_divergence": {...} | null,
 * "tensors": [...], "only_golden", "only_candidate"}. */
int lr_verify_report_json(const lr_verify_report *r, lr_buf *out);
/* The JSON report written to path atomically (`verify --json`); errors:
 * "out of memory" or the file's. */
int lr_verify_report_save_json(const lr_verify_report *r, const char *path,
                               lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
