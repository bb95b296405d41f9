/* lora.h - LoRA adapters with PEFT semantics on a Llama's linear layers.
 *
 * For a target linear y = x W^T (W [out, in], frozen):
 *     y = x W^T + s * (dropout(x) A^T) B^T,   A [r, in], B [out, r]
 * with s = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora.
 * Dropout (probability p, inverted scaling 1/(1-p)) acts on the LoRA
 * branch's input only.  PEFT init: A ~ U(-1/sqrt(in), 1/sqrt(in))
 * (kaiming_uniform_(a=sqrt(5))), B = 0, drawn from the portable RNG
 * (docs/rng.md).  Merge: W' = W + s * B A.
 *
 * Storage (llm.c style): every A and B lives in one flat lr_float array,
 * layer by layer, targets in the order q, k, v, o, gate, up, down, A before
 * B.  A gradient or an optimizer moment is another array with the same
 * layout, so the optimizer and serialisation see one vector.
 * Depends on: forward (the projection order), model, config, common. */
#ifndef LLAMAREF_LORA_H
#define LLAMAREF_LORA_H

#include "llamaref/core/common.h"
#include "llamaref/formats/config.h"
#include "llamaref/model/forward.h"
#include "llamaref/model/model.h"
#include "llamaref/core/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The adaptable targets are the layer's projections (forward.h). */
enum {
    LR_LORA_Q = LR_PROJ_Q, LR_LORA_K = LR_PROJ_K, LR_LORA_V = LR_PROJ_V,
    LR_LORA_O = LR_PROJ_O, LR_LORA_GATE = LR_PROJ_GATE,
    LR_LORA_UP = LR_PROJ_UP, LR_LORA_DOWN = LR_PROJ_DOWN,
    LR_LORA_NTARGETS = LR_NPROJ
};

/* "q_proj", ..., "down_proj", and their module path in the model
 * ("self_attn.q_proj", "mlp.gate_proj", ...). */
const char *lr_lora_target_name(int t);
const char *lr_lora_target_path(int t);
/* Index of a target name ("up_proj"), or -1. */
int lr_lora_target_from_name(const char *name);

typedef struct lr_lora_config {
    int r;
    double alpha;
    int use_rslora;
    double dropout;
    unsigned targets;      /* bit t set: target t is adapted */
    unsigned char *layers; /* [n_layers]: 1 = adapted; NULL = every layer */
    int n_layers;
} lr_lora_config;

/* One adapted linear: offsets (in lr_floats) of A and B in the flat array;
 * in/out are the linear's sizes.  a_off < 0 when the layer/target is not
 * adapted. */
typedef struct lr_lora_slot {
    long a_off, b_off;
    int in, out;
} lr_lora_slot;

typedef struct lr_lora {
    lr_lora_config cfg;    /* cfg.layers owned (copied) */
    double scale;          /* s */
    lr_lora_slot *slots;   /* [n_layers * LR_LORA_NTARGETS] */
    size_t n_params;       /* total lr_floats */
    lr_float *params;      /* [n_params] */
} lr_lora;

/* Parses "q_proj,v_proj" (or "all") into a target bitmask. */
int lr_lora_parse_targets(const char *list, unsigned *out, lr_error *err);

/* lr_lora_alloc without the parameter array (params NULL, n_params set):
 * a reader checks the file against the layout before allocating. */
int lr_lora_layout(lr_lora *lo, const lr_config *mc, const lr_lora_config *cfg,
                   lr_error *err);

/* Lays out adapters for model config mc; params zeroed.  Fails on r < 1,
 * an empty target set or a dropout outside [0, 1). */
int lr_lora_alloc(lr_lora *lo, const lr_config *mc, const lr_lora_config *cfg,
                  lr_error *err);
/* Frees slots, params and cfg.layers and zeroes *lo (lo not NULL; a zeroed
 * lo is fine). */
void lr_lora_free(lr_lora *lo);
/* The slot of (layer, target), or NULL when not adapted. */
const lr_lora_slot *lr_lora_slot_get(const lr_lora *lo, int layer, int t);
/* PEFT init from seed (docs/rng.md, stream "LoRA init"): every A drawn as
 * above, every B set to 0, overwriting lo->params. */
void lr_lora_init(lr_lora *lo, uint64_t seed);

/* s = alpha / r, or alpha / sqrt(r) with use_rslora. */
double lr_lora_scale(const lr_lora_config *cfg);

/* The seeds of LoRA init, dropout and shuffling: lr_stream_seed and the
 * LR_STREAM_* kinds of rng.h (docs/rng.md). */

/* ---- one adapted linear (n rows), usable without a model ----
 * Arrays are caller-owned, row-major: x, xd [n, in]; A [r, in]; B [out, r];
 * xa [n, r]; y, dy [n, out]; s the scale (lr_lora_scale).  Forward adds the
 * LoRA branch to y (y holds x W^T from lr_matmul first, or 0 for the branch
 * alone) and writes xa, which the backward needs.  Backward adds to dA, dB
 * and dx (NULL: not wanted) and uses dxa [n, r] as written scratch; with
 * p > 0 it draws the dropout mask again from the forward's seed (or reads
 * it as bits: lr_lora_linear_backward_keep below).  Nothing
 * fails or allocates.
 * Forward: xd = dropout(x) (xd == x when p == 0, no copy needed);
 * xa = xd A^T [n, r]; y += s * xa B^T.  Dropout keeps element e (row-major
 * over [n, in]) when u_e >= p, u_e the e-th lr_rng_double of `seed`, and
 * scales it by (lr_float)(1/(1-p)).  xd: [n, in] buffer or NULL when p == 0.
 * Backward (dy [n, out]):
 *   dB += s dy^T xa,  dxa = s dy B,  dA += dxa^T xd,
 *   dx += (dxa A) * dropout mask and scale (when dx != NULL). */
void lr_lora_dropout(lr_float *xd, const lr_float *x, int n, int in,
                     double p, uint64_t seed);
void lr_lora_linear_forward(lr_float *y, lr_float *xa, const lr_float *xd,
                            const lr_float *A, const lr_float *B, double s,
                            int n, int in, int out, int r);
void lr_lora_linear_backward(lr_float *dx, lr_float *dA, lr_float *dB,
                             lr_float *dxa, const lr_float *dy,
                             const lr_float *xd, const lr_float *xa,
                             const lr_float *A, const lr_float *B, double s,
                             int n, int in, int out, int r, double p,
                             uint64_t seed);
/* The definitions of the two above: plain C loops whose order (forward:
 * xa[t][j] sums i ascending, y[t][o] += s * (sum over j ascending);
 * backward: dB and dA add row t's terms for t ascending, dxa[t][j] sums o
 * ascending, dx's sum runs over j ascending) every version keeps, so the
 * vector kernels behind lr_lora_linear_forward / _backward give these
 * functions' bits (tests/train/test_lora.c). */
void lr_lora_linear_forward_ref(lr_float *y, lr_float *xa, const lr_float *xd,
                                const lr_float *A, const lr_float *B, double s,
                                int n, int in, int out, int r);
void lr_lora_linear_backward_ref(lr_float *dx, lr_float *dA, lr_float *dB,
                                 lr_float *dxa, const lr_float *dy,
                                 const lr_float *xd, const lr_float *xa,
                                 const lr_float *A, const lr_float *B,
                                 double s, int n, int in, int out, int r,
                                 double p, uint64_t seed);

/* The dropout's masks drawn once and applied again (the trainer draws in
 * the forward and reuses the mask twice in the backward).  A mask is
 * bits: element e of [n, in] (row-major) is bit e % 8 of keep[e / 8], 1
 * when kept; keep holds (n in + 7) / 8 bytes.
 * lr_lora_dropout_keep: the mask of lr_lora_dropout(xd, x, n, in, p, seed)
 * (the same draws; the bits past n in are 0).
 * lr_lora_dropout_apply: xd = kept ? x * (lr_float)(1/(1-p)) : 0, so keep
 * then apply gives lr_lora_dropout's bits.
 * lr_lora_linear_backward_keep: lr_lora_linear_backward with dx's masks
 * read from keep instead of drawn from a seed (keep may be NULL when p is
 * 0): the same bits when keep is the mask of that seed. */
void lr_lora_dropout_keep(unsigned char *keep, int n, int in, double p,
                          uint64_t seed);
void lr_lora_dropout_apply(lr_float *xd, const lr_float *x,
                           const unsigned char *keep, int n, int in, double p);
void lr_lora_linear_backward_keep(lr_float *dx, lr_float *dA, lr_float *dB,
                                  lr_float *dxa, const lr_float *dy,
                                  const lr_float *xd, const lr_float *xa,
                                  const lr_float *A, const lr_float *B,
                                  double s, int n, int in, int out, int r,
                                  double p, const unsigned char *keep);

/* W' = W + s B A for every adapted linear, in place; weights not stored as
 * lr_float are converted to lr_float first (so nothing rounds to BF16). */
int lr_lora_merge(lr_model *m, const lr_lora *lo, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
