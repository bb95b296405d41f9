/* make_random_model.c - writes a randomly initialised Llama as an HF
 * checkpoint (config.json + model.safetensors, F32) for `make bench-train`:
 * the ~100M-parameter shape of `llamaref bench` (hidden 768, intermediate
 * 2048, 12 layers, 12 heads / 4 kv heads, vocab 32000, tied embeddings).
 * Weights from lr_model_init_random (seed 7), so the file is the same on
 * every machine.  Not part of the library or of `make test`.
 *
 * usage: make_random_model DIR   (DIR must exist) */
#include <stdio.h>

#include "llamaref/formats/config.h"
#include "llamaref/model/model.h"

int main(int argc, char **argv)
{
    lr_config c;
    lr_model *m = NULL;
    lr_error err;
    if (argc != 2) {
        fprintf(stderr, "usage: make_random_model DIR\n");
        return 2;
    }
    lr_config_bench_100m(&c);
    if (lr_model_init_random(&c, 7, &m, &err) ||
        lr_model_save_hf(m, argv[1], LR_F32, &err)) {
        fprintf(stderr, "make_random_model: %s\n", err.msg);
        lr_model_free(m);
        return 1;
    }
    printf("make_random_model: %s: %.1fM parameters (F32)\n", argv[1],
           lr_config_param_count(&c) * 1e-6);
    lr_model_free(m);
    return 0;
}
