/* fuzz_optimizer.c - libFuzzer target: optimizer.safetensors as read when
 * `llamaref train --resume` continues a LoRA run (lr_checkpoint_load of
 * checkpoint.h; the adapter is r = 2 on a small fixed model). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/train/adamw.h"
#include "llamaref/train/checkpoint.h"
#include "llamaref/train/lora.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    static lr_lora lo;
    static lr_adamw o;
    static int ready;
    lr_error err;
    long step = 0;
    if (!ready) {
        lr_config c;
        lr_lora_config lc;
        memset(&c, 0, sizeof c);
        c.hidden_size = 8; c.intermediate_size = 16; c.num_hidden_layers = 1;
        c.num_attention_heads = 2; c.num_key_value_heads = 1; c.head_dim = 4;
        c.vocab_size = 32; c.max_position_embeddings = 16;
        memset(&lc, 0, sizeof lc);
        lc.r = 2; lc.alpha = 4; lc.targets = 1u << LR_LORA_Q;
        if (lr_lora_alloc(&lo, &c, &lc, &err) ||
            lr_adamw_init(&o, lo.n_params, 0, &err)) {
            fprintf(stderr, "fuzz_optimizer: %s\n", err.msg);
            abort();
        }
        ready = 1;
    }
    if (!fz_write("optimizer.safetensors", data, n)) return 0;
    if (lr_checkpoint_load(fz_path(""), &lo, NULL, &o, &step, &err) == 0 && (step < 0 || o.step != step))
        abort(); /* the step comes from the file: it must have been checked */
    return 0;
}
