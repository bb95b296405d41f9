/* llamaref.h - the public API of llamaref: includes every public header.
 *
 * Each header in include/llamaref/ documents one concept and is the only
 * thing its users need; this umbrella includes all of them, so that
 *     #include <llamaref.h>
 * (with `pkg-config --cflags llamaref`) gives the whole API, in C99 or C++.
 * tests/headers.test.sh checks that every header of include/llamaref/ is
 * listed here and that this file compiles alone as C99 and as C++;
 * docs/library.md is the overview. */
#ifndef LLAMAREF_H
#define LLAMAREF_H

#include "llamaref/adamw.h"
#include "llamaref/adapter.h"
#include "llamaref/attention.h"
#include "llamaref/bpe.h"
#include "llamaref/bpe_train.h"
#include "llamaref/chat_template.h"
#include "llamaref/checkpoint.h"
#include "llamaref/chrf.h"
#include "llamaref/common.h"
#include "llamaref/config.h"
#include "llamaref/csv.h"
#include "llamaref/dataset.h"
#include "llamaref/detox.h"
#include "llamaref/diversity.h"
#include "llamaref/dtype.h"
#include "llamaref/dump.h"
#include "llamaref/dump_grad.h"
#include "llamaref/experiment.h"
#include "llamaref/experiment_run.h"
#include "llamaref/facts.h"
#include "llamaref/forward.h"
#include "llamaref/generate.h"
#include "llamaref/gguf.h"
#include "llamaref/full.h"
#include "llamaref/json.h"
#include "llamaref/knowledge.h"
#include "llamaref/loglik.h"
#include "llamaref/lora.h"
#include "llamaref/loss.h"
#include "llamaref/matmul.h"
#include "llamaref/mcscore.h"
#include "llamaref/mixture.h"
#include "llamaref/mlp.h"
#include "llamaref/mmlu.h"
#include "llamaref/model.h"
#include "llamaref/par.h"
#include "llamaref/prefix_cache.h"
#include "llamaref/pretokenize.h"
#include "llamaref/probe.h"
#include "llamaref/quant.h"
#include "llamaref/refusal.h"
#include "llamaref/rmsnorm.h"
#include "llamaref/rng.h"
#include "llamaref/rope.h"
#include "llamaref/safetensors.h"
#include "llamaref/sampler.h"
#include "llamaref/sentencepiece.h"
#include "llamaref/svg.h"
#include "llamaref/textnorm.h"
#include "llamaref/tokenizer.h"
#include "llamaref/tokens.h"
#include "llamaref/train.h"
#include "llamaref/train_run.h"
#include "llamaref/trainer.h"
#include "llamaref/truthfulqa.h"
#include "llamaref/unicode.h"
#include "llamaref/verify.h"
#include "llamaref/version.h"
#include "llamaref/vocab.h"
#include "llamaref/world.h"

#endif
