/* dump_grad.h - the loss and gradient part of `llamaref dump --labels`
 * (docs/tensors.md), beside lr_dump_acts (dump.h): with HF labels, writes
 * logits [T, V] and loss [1]; with an adapter directory also the
 * backward's activation gradients and grad.<PEFT key> for every adapter
 * tensor (dropout off); lr_dump_full_grads the same for full-parameter
 * training: grad.<HF weight name> for every base weight.
 * Depends on: model.h, safetensors.h, train.h (the LoRA and full-parameter
 * forward/backward), full.h, adapter.h, loss.h. */
#ifndef LLAMAREF_DUMP_GRAD_H
#define LLAMAREF_DUMP_GRAD_H

#include "llamaref/model/model.h"
#include "llamaref/formats/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* adapter: a PEFT adapter directory, or NULL (loss only). */
int lr_dump_grads(lr_st_writer *w, const lr_model *m, const char *adapter,
                  const int *ids, const int *labels, int T, lr_dtype dtype,
                  lr_error *err);
/* The full-parameter backward (docs/tensors.md): logits, loss, the
 * activation gradients and grad.<HF name> [shape of the weight] for every
 * distinct weight of m, in model.safetensors order (a tied lm_head's
 * gradient is summed into grad.model.embed_tokens.weight, as torch's
 * shared parameter has it).  Binds m's weights (lr_full_bind): m must have
 * been loaded in the compute type (without keep_dtype) and is not usable
 * after this call except to be freed. */
int lr_dump_full_grads(lr_st_writer *w, lr_model *m, const int *ids,
                       const int *labels, int T, lr_dtype dtype, lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
