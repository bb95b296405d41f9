/* dump_grad.h - the loss and gradient part of `llamaref dump --labels`
 * (docs/tensors.md), beside lr_dump_acts (dump.h): with HF labels, writes
 * logits [T, V] and loss [1]; with an adapter directory also the
 * backward's activation gradients and grad.<PEFT key> for every adapter
 * tensor (dropout off).
 * Depends on: model.h, safetensors.h, train.h (the LoRA forward/backward),
 * adapter.h, loss.h. */
#ifndef LLAMAREF_DUMP_GRAD_H
#define LLAMAREF_DUMP_GRAD_H

#include "llamaref/model.h"
#include "llamaref/safetensors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* adapter: a PEFT adapter directory, or NULL (loss only). */
int lr_dump_grads(lr_st_writer *w, const lr_model *m, const char *adapter,
                  const int *ids, const int *labels, int T, lr_dtype dtype,
                  lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
