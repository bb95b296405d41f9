/* adapter.h - PEFT LoRA adapter directories: adapter_config.json +
 * adapter_model.safetensors, read and written with PEFT's exact keys
 * (base_model.model.model.layers.{i}.self_attn.{q,k,v,o}_proj.lora_{A,B}.weight,
 * base_model.model.model.layers.{i}.mlp.{gate,up,down}_proj.lora_{A,B}.weight)
 * and config fields, so PEFT loads what llamaref writes and vice versa;
 * and a base model with its adapter merged, saved. */
#ifndef LLAMAREF_ADAPTER_H
#define LLAMAREF_ADAPTER_H

#include "llamaref/train/lora.h"

#ifdef __cplusplus
extern "C" {
#endif

/* PEFT key of (layer, target, 'A' or 'B') into buf. */
void lr_adapter_key(char *buf, size_t size, int layer, int target, char ab);

/* Reads dir/adapter_config.json into cfg (cfg->layers malloc'ed, or NULL
 * for all layers; n_layers layers in the model).  target_modules is a list
 * of q_proj ... down_proj (layers_to_transform: null, an int or a list) or
 * "all-linear".  Options PEFT writes as false/null/{}/[] by default must
 * be so: use_dora, lora_bias, use_qalora, fan_in_fan_out, modules_to_save,
 * layer_replication, target_parameters, trainable_token_indices,
 * rank_pattern, alpha_pattern; bias must be "none".  A config whose
 * modules only the saved tensors can tell (a regex target_modules, other
 * names in the list, exclude_modules) is an error here; lr_adapter_load
 * reads those. */
int lr_adapter_read_config(const char *dir, int n_layers, lr_lora_config *cfg,
                           lr_error *err);

/* Loads an adapter for model config mc: every tensor the config implies
 * must be present with its shape; other tensors are errors (named).  When
 * the config's target_modules is a regular expression (PEFT: re.fullmatch
 * against "model.layers.3.mlp.up_proj"), lists names other than the seven
 * projections, or has exclude_modules, the adapted modules are those whose
 * lora_A/lora_B PEFT saved (every listed target in every listed layer). */
int lr_adapter_load(const char *dir, const lr_config *mc, lr_lora *lo,
                    lr_error *err);

/* Writes dir/adapter_config.json and dir/adapter_model.safetensors (F32,
 * metadata {"format": "pt"}), each atomically.  dir must exist. */
int lr_adapter_save(const char *dir, const lr_lora *lo, const char *base_model,
                    lr_error *err);

/* `llamaref merge`: the model at model_path (lr_model_load) with the
 * adapter's W + s B A merged into every adapted linear.  out ending in
 * ".gguf": a llama GGUF (lr_model_save_gguf) in the base's dtype if
 * BF16/F16, else F32, holding the base's tokenizer (lr_tokenizer_load of
 * model_path; an error when it has none) as tokenizer.ggml.* metadata.
 * Otherwise an HF checkpoint in the directory out (which must exist) in
 * the base's dtype if BF16/F16, else LR_FLOAT_DTYPE (F64 in a DOUBLE
 * build, so the merge loses nothing), with the base's tokenizer files
 * (tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 * tokenizer.model, generation_config.json) copied when they exist; a GGUF
 * base has none, its tokenizer stays in the .gguf. */
int lr_adapter_merge_save(const char *model_path, const char *adapter_dir,
                          const char *out, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
