/* fuzz_adapter.c - libFuzzer target: a PEFT LoRA adapter directory, the
 * input split at a "\n====\n" line into adapter_config.json and
 * adapter_model.safetensors, loaded for a small fixed model (hidden 8,
 * 2 layers); a loaded adapter is saved and loaded again. */
#include "fuzz_util.h"
#include "llamaref/train/adapter.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    const unsigned char *part[2];
    size_t len[2];
    const char *dir;
    lr_config c;
    lr_lora lo, lo2;
    lr_error err;
    if (fz_split(data, n, 2, part, len) != 2) return 0;
    dir = fz_path("");
    if (!fz_write("adapter_config.json", part[0], len[0]) ||
        !fz_write("adapter_model.safetensors", part[1], len[1]))
        return 0;
    memset(&c, 0, sizeof c);
    c.hidden_size = 8; c.intermediate_size = 16; c.num_hidden_layers = 2;
    c.num_attention_heads = 2; c.num_key_value_heads = 1; c.head_dim = 4;
    c.vocab_size = 32; c.max_position_embeddings = 16;
    if (lr_adapter_load(dir, &c, &lo, &err) == 0) {
        const char *out = fz_path("saved");
        lr_make_dir(out);
        (void)fz_path("saved/adapter_config.json"); /* removed at exit */
        (void)fz_path("saved/adapter_model.safetensors");
        if (lr_adapter_save(out, &lo, "fuzz", &err)) abort();
        if (lr_adapter_load(out, &c, &lo2, &err)) abort();
        if (lo2.n_params != lo.n_params) abort();
        lr_lora_free(&lo2);
        lr_lora_free(&lo);
    }
    return 0;
}
