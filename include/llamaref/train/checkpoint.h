/* checkpoint.h - the training state on disk (docs/training.md):
 *   DIR/optimizer.safetensors  AdamW moments exp_avg / exp_avg_sq, "step",
 *       "mode" (lora | full), "compute_type", the options a resume must
 *       agree with (lr_train_opt_table's recorded ones) and, for LoRA, the
 *       adapter parameters "params"; for full training "params_digest"
 *       of the model saved beside it (model.safetensors, written first);
 *   DIR/adapter_config.json + adapter_model.safetensors (LoRA, PEFT).
 * DIR/checkpoint-<step> is written as one unit: into
 * checkpoint-<step>.partial, then renamed.
 * Depends on: train_options.h (the options), lora.h, safetensors.h,
 * adamw.h, full.h. */
#ifndef LLAMAREF_CHECKPOINT_H
#define LLAMAREF_CHECKPOINT_H

#include "llamaref/train/adamw.h"
#include "llamaref/train/full.h"
#include "llamaref/train/lora.h"
#include "llamaref/formats/safetensors.h"
#include "llamaref/train/train_options.h"

#ifdef __cplusplus
extern "C" {
#endif

/* FNV-1a 64 over the parameters as IEEE binary64 little-endian bytes, as
 * 16 hex digits (independent of the host's byte order). */
void lr_params_digest(const lr_float *p, size_t n, char hex[17]);

/* The state in dir (which must exist).  f != NULL: full training (the
 * model is the parameters), else the LoRA adapters lo.  a: the options
 * recorded (a->model names the base in adapter_config.json). */
int lr_checkpoint_save_state(const char *dir, const lr_lora *lo,
                             const lr_full *f, const lr_model *model,
                             const lr_adamw *o, long step,
                             const lr_train_options *a, lr_error *err);

/* a->out/checkpoint-<step>, atomically (an existing one is replaced). */
int lr_checkpoint_save(const lr_train_options *a, const lr_lora *lo,
                       const lr_full *f, const lr_model *model,
                       const lr_adamw *o, long step, lr_error *err);

/* The checkpoint in dir was written by LoRA (full = 0) or full-parameter
 * (full = 1) training: else an error naming both. */
int lr_checkpoint_check_mode(const char *dir, int full, lr_error *err);

/* The state of dir into lo (LoRA) and o; *step its step.  full != NULL:
 * the parameters were loaded with the model from dir, and must match the
 * recorded params_digest. */
int lr_checkpoint_load(const char *dir, lr_lora *lo, const lr_full *full,
                       lr_adamw *o, long *step, lr_error *err);

/* a->resume, a checkpoint or a run directory, resolved to a checkpoint
 * (a->resume then points to a->resume_buf); *latest = 1 when the latest
 * complete checkpoint-<step> of a run directory was taken. */
int lr_checkpoint_resolve(lr_train_options *a, int *latest, lr_error *err);

/* The options recorded in the checkpoint a->resume applied to a, except
 * those given again (given[k] for entry k of lr_train_opt_table): one of
 * those that differs is reported through conflict.  Returns the number of
 * conflicts, -1 on an error (err), -2 when out of memory; *keep holds the
 * recorded strings a now points to (lr_st_close it after use). */
int lr_checkpoint_resume_options(lr_train_options *a, const unsigned char *given,
                                 void (*conflict)(void *ctx, const char *name,
                                                  const char *mine,
                                                  const char *rec),
                                 void *ctx, lr_st_file **keep, lr_error *err);

#ifdef __cplusplus
}
#endif
#endif
