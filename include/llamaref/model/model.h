/* model.h - the in-memory Llama model: configuration plus weights, loaded
 * from a Hugging Face directory (config.json + safetensors, sharded or not)
 * or from a llama2.c checkpoint (legacy v0 or v1 "ak42").
 *
 * One internal convention for everything: Hugging Face names, row-major
 * W[out][in] weights, RoPE in the rotate_half layout (pairs i, i + d/2).
 * llama2.c's wq/wk rows (Meta's interleaved pairs 2i, 2i+1) are permuted on
 * load: HF row h*d + i = Meta row h*d + 2i and HF row h*d + d/2 + i =
 * Meta row h*d + 2i + 1, for i < d/2 (the permutation of HF's
 * convert_llama_weights_to_hf.py). */
#ifndef LLAMAREF_MODEL_H
#define LLAMAREF_MODEL_H

#include "llamaref/core/common.h"
#include "llamaref/formats/config.h"
#include "llamaref/formats/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A weight tensor in host byte order.  dtype is LR_F32 or LR_F64 (data is
 * float[] / double[]) or LR_BF16 / LR_F16 (data is uint16_t[] bit
 * patterns).  Loading converts to lr_float unless told to keep the stored
 * type (for big models, where BF16 halves the memory). */
typedef struct lr_tensor {
    lr_dtype dtype;
    int ndim;
    int64_t shape[2];
    void *data;
    int owned; /* data was malloc'ed by the model (else: mapping / alias) */
} lr_tensor;

/* Element (i) of a tensor converted to lr_float. */
lr_float lr_tensor_get(const lr_tensor *t, size_t i);
/* Converts n elements starting at element `start` to lr_float. */
void lr_tensor_get_range(const lr_tensor *t, size_t start, size_t n,
                         lr_float *out);
/* Number of elements: the product of shape[0 .. ndim-1]. */
uint64_t lr_tensor_nelem(const lr_tensor *t);

typedef struct lr_layer_weights {
    lr_tensor input_layernorm;          /* [hidden] */
    lr_tensor q_proj;                   /* [heads*head_dim, hidden] */
    lr_tensor k_proj;                   /* [kv_heads*head_dim, hidden] */
    lr_tensor v_proj;                   /* [kv_heads*head_dim, hidden] */
    lr_tensor o_proj;                   /* [hidden, heads*head_dim] */
    lr_tensor post_attention_layernorm; /* [hidden] */
    lr_tensor gate_proj;                /* [intermediate, hidden] */
    lr_tensor up_proj;                  /* [intermediate, hidden] */
    lr_tensor down_proj;                /* [hidden, intermediate] */
} lr_layer_weights;

typedef struct lr_model {
    lr_config config;
    lr_tensor embed_tokens;   /* [vocab, hidden] */
    lr_layer_weights *layers; /* num_hidden_layers of them */
    lr_tensor norm;           /* [hidden] */
    lr_tensor lm_head;        /* [vocab, hidden]; aliases embed_tokens if tied */
    char *path;               /* what it was loaded from */
    char format[16];          /* "hf", "gguf", "llama2c" or "memory" */
    lr_dtype stored_dtype;    /* dtype of the weights in the checkpoint */
    lr_st_set *storage;       /* kept open while weights point into a mapping */
} lr_model;

typedef struct lr_load_options {
    int use_mmap;   /* map safetensors files (POSIX) instead of reading */
    int keep_dtype; /* keep BF16/F16 weights as stored (else to lr_float) */
} lr_load_options;

/* Loads a model from a HF directory (config.json + model.safetensors or
 * model.safetensors.index.json), a GGUF file (gguf.h: every tensor
 * dequantised to lr_float) or a llama2.c .bin checkpoint.  Missing,
 * unknown or mis-shaped tensors are errors naming the tensor.  opt may be
 * NULL (read into memory, convert to lr_float).  On success *out is the
 * caller's, released with lr_model_free.  lr_forward and the decoders
 * take the model const, so several of them may share one. */
int lr_model_load(const char *path, const lr_load_options *opt,
                  lr_model **out, lr_error *err);
/* The loaders lr_model_load chooses from (same contract): a HF directory;
 * a llama2.c checkpoint (weights always converted to lr_float). */
int lr_model_load_hf(const char *dir, const lr_load_options *opt,
                     lr_model **out, lr_error *err);
int lr_model_load_llama2c(const char *path, lr_model **out, lr_error *err);
/* Frees the weights m owns, closes its mapped files and frees m
 * (NULL-safe). */
void lr_model_free(lr_model *m);
/* An empty model (no weights yet) for cfg; loaders fill the tensors. */
lr_model *lr_model_alloc(const lr_config *cfg, const char *path,
                         const char *format, lr_error *err);

/* A model with every weight in lr_float, drawn from the portable RNG:
 * matrices uniform in [-scale, scale) with scale = 1/sqrt(in), norm weights
 * 1 + uniform(-0.1, 0.1) (so that they are exercised).  For tests/benches. */
int lr_model_init_random(const lr_config *cfg, uint64_t seed,
                         lr_model **out, lr_error *err);

/* Writes dir/config.json and dir/model.safetensors (weights encoded as
 * dtype: LR_F32, LR_F64, LR_BF16 or LR_F16), HF names, atomically. */
int lr_model_save_hf(const lr_model *m, const char *dir, lr_dtype dtype,
                     lr_error *err);

/* Bytes of weight memory the loaded model occupies (aliases counted once). */
uint64_t lr_model_weight_bytes(const lr_model *m);

/* What `llamaref info` prints, appended to b: path and format, the config
 * (one "name  value" line each), the stored dtype and compute type, the
 * parameter count, the weight memory as loaded and in the compute type,
 * and the KV cache per token and at max_position_embeddings.  0, or -1
 * when out of memory. */
int lr_model_describe(const lr_model *m, const char *path, lr_buf *b);

#ifdef __cplusplus
}
#endif

#endif
