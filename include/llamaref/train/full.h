/* full.h - full-parameter training: every base weight of a model as one
 * flat trainable vector, its gradient layout and the AdamW decay mask.
 *
 * lr_full_bind copies every distinct weight tensor (embed_tokens; per layer
 * input_layernorm, q, k, v, o, post_attention_layernorm, gate, up, down;
 * norm; lm_head unless tied) into one lr_float array, in that order (the
 * order of model.safetensors' HF names), and points the model's tensors at
 * it.  A gradient or an optimizer moment is another array of the same
 * layout.  The weights must already be in the compute type (F32, or F64 in
 * DOUBLE builds): load without keep_dtype.  A tied lm_head aliases
 * embed_tokens, so its gradient lands in (is summed into) the embedding's.
 *
 * Weight decay (HF Trainer get_decay_parameter_names): every weight except
 * the RMSNorm weights decays; Llama has no biases, so embed_tokens and
 * lm_head decay like the projections. */
#ifndef LLAMAREF_FULL_H
#define LLAMAREF_FULL_H

#include "llamaref/core/common.h"
#include "llamaref/model/model.h"
#include "llamaref/core/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_FULL_NAME_MAX 96

typedef struct lr_full_entry {
    lr_tensor *t;                 /* the model's tensor */
    char name[LR_FULL_NAME_MAX];  /* HF name */
    size_t off, n;                /* where it lives in the flat vector */
    int is_norm;                  /* 1-D RMSNorm weight: no decay */
} lr_full_entry;

typedef struct lr_full {
    int n_entries;
    lr_full_entry *entries;
    size_t n_params;
    lr_float *params;             /* [n_params], the model's weights */
    unsigned char *decay;         /* [n_params]: 1 = weight decay applies */
} lr_full;

/* Makes every weight of m trainable (see above).  m keeps pointing into
 * f->params until lr_full_free; free the model first or together. */
int lr_full_bind(lr_full *f, lr_model *m, lr_error *err);
/* Frees the flat vector, entries and decay mask and zeroes *f (f not
 * NULL); m's tensors then dangle, so free the model first or together. */
void lr_full_free(lr_full *f);
/* Offset of tensor t (one of m's weights) in the flat vector; tied lm_head
 * resolves to embed_tokens.  (size_t)-1 when t is not trainable. */
size_t lr_full_offset(const lr_full *f, const lr_tensor *t);
/* HF LlamaPreTrainedModel._init_weights on the bound weights (for
 * pretraining from scratch): every matrix (embeddings, projections,
 * lm_head) ~ N(0, std^2) (HF: std = initializer_range, 0.02), RMSNorm
 * weights 1.  Tensor k of f's order draws from the stream
 * lr_stream_seed(seed, LR_STREAM_FULL_INIT, k, 0) (docs/rng.md), element
 * by element: z = sqrt(-2 ln(1 - u1)) cos(2 pi u2) from two
 * lr_rng_double draws. */
void lr_full_init_normal(lr_full *f, uint64_t seed, double std);
/* The entry named name (HF), or NULL. */
const lr_full_entry *lr_full_find(const lr_full *f, const char *name);

#ifdef __cplusplus
}
#endif

#endif
