/* config.h - the model hyper-parameters of a Llama (Hugging Face
 * config.json of LlamaForCausalLM), with HF's defaults and validation. */
#ifndef LLAMAREF_CONFIG_H
#define LLAMAREF_CONFIG_H

#include "llamaref/core/common.h"
#include "llamaref/core/json.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LR_MAX_EOS 8

typedef enum lr_rope_type {
    LR_ROPE_DEFAULT, /* rope_scaling null: inv_freq_i = theta^(-2i/d) */
    LR_ROPE_LLAMA3   /* rope_scaling {"rope_type": "llama3", ...} */
} lr_rope_type;

typedef struct lr_config {
    int hidden_size;
    int intermediate_size;
    int num_hidden_layers;
    int num_attention_heads;
    int num_key_value_heads; /* default: num_attention_heads */
    int head_dim;            /* default: hidden_size / num_attention_heads */
    int max_position_embeddings;
    int vocab_size;
    double rms_norm_eps;     /* default 1e-6 (HF LlamaConfig) */
    double rope_theta;       /* default 10000 */
    lr_rope_type rope_type;
    double rope_factor;
    double rope_low_freq_factor;
    double rope_high_freq_factor;
    int rope_original_max_position_embeddings;
    int tie_word_embeddings; /* default 0 (HF LlamaConfig) */
    int bos_token_id;        /* -1 when absent/null */
    int eos_token_ids[LR_MAX_EOS];
    int n_eos;
    char torch_dtype[16];    /* "float32", "bfloat16", ... ("" if absent) */
} lr_config;

/* Fills cfg from a parsed config.json object; source names it in errors. */
int lr_config_from_json(const lr_json *root, const char *source,
                        lr_config *cfg, lr_error *err);
int lr_config_load(const char *path, lr_config *cfg, lr_error *err);
/* Checks sizes are positive and consistent (heads divide hidden size when
 * head_dim is not given, kv heads divide heads, even head_dim for RoPE). */
int lr_config_validate(const lr_config *cfg, const char *source,
                       lr_error *err);
/* Appends a HF-style config.json for cfg (keys sorted, 2-space indent). */
int lr_config_to_json(const lr_config *cfg, lr_buf *out);

/* The ~100M-parameter Llama shape every benchmark uses (`llamaref bench`,
 * `make bench-train`): hidden 768, 12 layers, 12 heads / 4 KV heads of 64,
 * intermediate 2048, vocab 32000, tied, theta 500000, eps 1e-5. */
void lr_config_bench_100m(lr_config *cfg);

/* Parameter count of the model described (tied lm_head counted once). */
uint64_t lr_config_param_count(const lr_config *cfg);

#ifdef __cplusplus
}
#endif

#endif
