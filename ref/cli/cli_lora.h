/* cli_lora.h - the LoRA part of `llamaref dump` (cmd_train.c): with
 * labels, writes logits [T, V], loss [1] and, with an adapter directory,
 * grad.<PEFT key> for every adapter tensor (dropout off). */
#ifndef LLAMAREF_CLI_LORA_H
#define LLAMAREF_CLI_LORA_H

#include "llamaref/model.h"
#include "llamaref/safetensors.h"

int cli_dump_lora(lr_st_writer *w, const lr_model *m, const char *adapter,
                  const int *ids, const int *labels, int T, lr_dtype dtype,
                  lr_error *err);

#endif
