/* cmd_info.c - `llamaref info --model PATH`: configuration, parameter
 * count, storage dtype and the memory a run needs. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "llamaref/model/model.h"

static void print_bytes(const char *label, double bytes)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double v = bytes;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    printf("%-34s %.2f %s (%.0f bytes)\n", label, v, unit[u], bytes);
}

static const char head[] = "usage: llamaref info -m, --model PATH\n";
static const char foot[] =
"Prints the config, the parameter count and the memory it takes.\n";

int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    lr_load_options opt = {1, 1}; /* map and keep dtype: info must be cheap */
    lr_model *m;
    lr_error err;
    const lr_config *c;
    int i, rc;
    double kv_token;
    const cli_optdef opts[] = {
        CLI_OPT("--model", CLI_STR, &path),
    };
    if ((rc = cli_parse_doc("info", argc, argv, 1, opts, 1, head, foot)) >= 0)
        return rc;
    if (!path) {
        fprintf(stderr, "llamaref info: --model PATH is required\n");
        return 2;
    }
    if (lr_model_load(path, &opt, &m, &err)) {
        fprintf(stderr, "llamaref info: %s\n", err.msg);
        return 1;
    }
    c = &m->config;
    printf("model                              %s (%s)\n", path, m->format);
    printf("hidden_size                        %d\n", c->hidden_size);
    printf("intermediate_size                  %d\n", c->intermediate_size);
    printf("num_hidden_layers                  %d\n", c->num_hidden_layers);
    printf("num_attention_heads                %d\n", c->num_attention_heads);
    printf("num_key_value_heads                %d\n", c->num_key_value_heads);
    printf("head_dim                           %d\n", c->head_dim);
    printf("vocab_size                         %d\n", c->vocab_size);
    printf("max_position_embeddings            %d\n", c->max_position_embeddings);
    printf("rms_norm_eps                       %g\n", c->rms_norm_eps);
    printf("rope_theta                         %g\n", c->rope_theta);
    if (c->rope_type == LR_ROPE_LLAMA3)
        printf("rope_scaling                       llama3 (factor %g, low_freq_factor %g, "
               "high_freq_factor %g, original_max_position_embeddings %d)\n",
               c->rope_factor, c->rope_low_freq_factor, c->rope_high_freq_factor,
               c->rope_original_max_position_embeddings);
    else
        printf("rope_scaling                       none\n");
    printf("tie_word_embeddings                %s\n", c->tie_word_embeddings ? "true" : "false");
    printf("bos_token_id                       %d\n", c->bos_token_id);
    printf("eos_token_id                      ");
    for (i = 0; i < c->n_eos; i++) printf(" %d", c->eos_token_ids[i]);
    printf("%s\n", c->n_eos ? "" : " none");
    printf("stored dtype                       %s\n", lr_dtype_name(m->stored_dtype));
    printf("compute type                       %s\n", LR_FLOAT_NAME);
    printf("parameters                         %llu\n",
           (unsigned long long)lr_config_param_count(c));
    print_bytes("weights as loaded (this info run)", (double)lr_model_weight_bytes(m));
    print_bytes("weights converted to compute type",
                (double)lr_config_param_count(c) * (double)sizeof(lr_float));
    kv_token = 2.0 * c->num_hidden_layers * c->num_key_value_heads * c->head_dim *
               (double)sizeof(lr_float);
    print_bytes("KV cache per token", kv_token);
    print_bytes("KV cache at max_position_embeddings", kv_token * c->max_position_embeddings);
    lr_model_free(m);
    return 0;
}
