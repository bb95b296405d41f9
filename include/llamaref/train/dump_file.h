/* dump_file.h - `llamaref dump` as one call: a model's forward
 * intermediates (dump.h) or, with labels, its loss and gradients
 * (dump_grad.h) for one token sequence, written to a safetensors file
 * (metadata generator "llamaref dump", compute_type).  `llamaref verify
 * --model` runs the same call to make its golden file.
 * Depends on: model.h, adapter.h, lora.h, forward.h, dump.h, dump_grad.h,
 * safetensors.h. */
#ifndef LLAMAREF_DUMP_FILE_H
#define LLAMAREF_DUMP_FILE_H

#include "llamaref/core/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lr_dump_options {
    const char *model_path;   /* any format lr_model_load reads */
    const char *adapter;      /* PEFT adapter directory or NULL: merged into
                                 the weights for the forward dump; its
                                 gradients with labels */
    const int *ids;           /* [T] token ids */
    const int *labels;        /* [T] HF labels (-100 ignored) or NULL */
    int T;
    long pos0;                /* position of the first token (forward dump) */
    int all;                  /* every intermediate, else logits only */
    int f64;                  /* write F64 instead of F32 */
    int full;                 /* with labels, no adapter: full-parameter
                                 gradients (lr_dump_full_grads) */
} lr_dump_options;

/* Writes out (atomically).  Errors name the model, the adapter ("--adapter
 * DIR: ...") or the tensor. */
int lr_dump_file(const lr_dump_options *o, const char *out, lr_error *err);
/* `llamaref verify --model`'s golden: lr_dump_file (F64 in a DOUBLE=1
 * build, whatever o->f64 says) into a new file in $TMPDIR (else /tmp),
 * "llamaref-verify-golden.<pid>.safetensors", whose path goes to
 * path[cap] before the dump starts: the caller removes it, also after a
 * failure. */
int lr_dump_file_tmp(const lr_dump_options *o, char *path, size_t cap, lr_error *err);

#ifdef __cplusplus
}
#endif

#endif
