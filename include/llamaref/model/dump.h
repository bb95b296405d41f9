/* dump.h - writing the forward pass's intermediates under the names of
 * docs/tensors.md, the contract other backends dump against.
 *
 * For one sequence of T tokens (D hidden, QD = heads * head_dim,
 * KVD = kv_heads * head_dim, I intermediate, H heads, V vocab):
 *   embed [T, D]
 *   layers.N.attn_norm [T, D]   layers.N.q [T, QD]   layers.N.k [T, KVD]
 *   layers.N.v [T, KVD]         layers.N.q_rope [T, QD]
 *   layers.N.k_rope [T, KVD]    layers.N.attn_scores [H, T, T]
 *   layers.N.attn_probs [H, T, T]                    layers.N.attn_out [T, QD]
 *   layers.N.o_proj [T, D]      layers.N.h [T, D]    layers.N.mlp_norm [T, D]
 *   layers.N.gate [T, I]        layers.N.up [T, I]   layers.N.act [T, I]
 *   layers.N.mlp_out [T, D]     layers.N.out [T, D]
 *   final_norm [T, D]           logits [T, V]
 */
#ifndef LLAMAREF_DUMP_H
#define LLAMAREF_DUMP_H

#include "llamaref/model/forward.h"
#include "llamaref/formats/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Adds sequence b of the batch last run through lr_forward(a, ..., B, T)
 * to w, encoded as dtype (LR_F32 or LR_F64): only logits, or with `all`
 * every tensor above (a must then have LR_ACTS_PER_LAYER | LR_ACTS_ATTN). */
int lr_dump_acts(lr_st_writer *w, const lr_acts *a, int b, int T, int all,
                 lr_dtype dtype, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
