/* test_config.c - config.json of LlamaForCausalLM: real Llama 3.1 8B and
 * 3.2 1B configs, HF defaults, and every inconsistency as a clear error. */
#include "harness.h"
#include "llamaref/formats/config.h"

static int parse_cfg(const char *text, lr_config *c, lr_error *err)
{
    lr_json_doc *d;
    int rc;
    if (lr_json_parse(text, strlen(text), "config.json", &d, err)) return -1;
    rc = lr_config_from_json(lr_json_root(d), "config.json", c, err);
    lr_json_free(d);
    return rc;
}

/* meta-llama/Llama-3.1-8B-Instruct config.json as published */
static const char *llama31_8b =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"attention_bias\": false,"
    " \"attention_dropout\": 0.0, \"bos_token_id\": 128000,"
    " \"eos_token_id\": [128001, 128008, 128009], \"hidden_act\": \"silu\","
    " \"hidden_size\": 4096, \"initializer_range\": 0.02, \"intermediate_size\": 14336,"
    " \"max_position_embeddings\": 131072, \"mlp_bias\": false, \"model_type\": \"llama\","
    " \"num_attention_heads\": 32, \"num_hidden_layers\": 32, \"num_key_value_heads\": 8,"
    " \"pretraining_tp\": 1, \"rms_norm_eps\": 1e-05, \"rope_scaling\": {\"factor\": 8.0,"
    " \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
    " \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"},"
    " \"rope_theta\": 500000.0, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\","
    " \"transformers_version\": \"4.43.0.dev0\", \"use_cache\": true, \"vocab_size\": 128256}";

static void test_llama31_8b(void)
{
    lr_config c;
    lr_error err;
    CHECK_OK(parse_cfg(llama31_8b, &c, &err), &err);
    CHECK_INT(c.hidden_size, 4096);
    CHECK_INT(c.intermediate_size, 14336);
    CHECK_INT(c.num_hidden_layers, 32);
    CHECK_INT(c.num_attention_heads, 32);
    CHECK_INT(c.num_key_value_heads, 8);
    CHECK_INT(c.head_dim, 128);
    CHECK_INT(c.vocab_size, 128256);
    CHECK_INT(c.max_position_embeddings, 131072);
    CHECK(c.rms_norm_eps == 1e-5);
    CHECK(c.rope_theta == 500000.0);
    CHECK_INT(c.rope_type, LR_ROPE_LLAMA3);
    CHECK(c.rope_factor == 8.0 && c.rope_low_freq_factor == 1.0 && c.rope_high_freq_factor == 4.0);
    CHECK_INT(c.rope_original_max_position_embeddings, 8192);
    CHECK_INT(c.tie_word_embeddings, 0);
    CHECK_INT(c.bos_token_id, 128000);
    CHECK_INT(c.n_eos, 3);
    CHECK_INT(c.eos_token_ids[2], 128009);
    CHECK_STR(c.torch_dtype, "bfloat16");
    /* 8,030,261,248 parameters is the published size of Llama 3.1 8B */
    CHECK_INT(lr_config_param_count(&c), 8030261248LL);
}

static void test_defaults_and_round_trip(void)
{
    lr_config c, d;
    lr_error err;
    lr_buf b = {0};
    CHECK_OK(parse_cfg("{\"hidden_size\": 64, \"intermediate_size\": 172, "
                       "\"num_hidden_layers\": 2, \"num_attention_heads\": 8, "
                       "\"vocab_size\": 512, \"eos_token_id\": 2, \"tie_word_embeddings\": true}",
                       &c, &err), &err);
    CHECK_INT(c.num_key_value_heads, 8); /* defaults to heads */
    CHECK_INT(c.head_dim, 8);            /* hidden / heads */
    CHECK(c.rms_norm_eps == 1e-6);       /* LlamaConfig defaults */
    CHECK(c.rope_theta == 10000.0);
    CHECK_INT(c.max_position_embeddings, 2048);
    CHECK_INT(c.rope_type, LR_ROPE_DEFAULT);
    CHECK_INT(c.bos_token_id, -1);
    CHECK_INT(c.n_eos, 1);
    CHECK_INT(lr_config_param_count(&c), 512 * 64 + 2 * (2 * 64 + 4 * 64 * 64 + 3 * 64 * 172) + 64);
    CHECK_OK(parse_cfg(llama31_8b, &c, &err), &err);
    CHECK_OK(lr_config_to_json(&c, &b), &err);
    CHECK_OK(parse_cfg(b.data, &d, &err), &err);
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    CHECK(strstr(b.data, "\"rms_norm_eps\": 1e-05") != NULL);
    lr_buf_free(&b);
}

static void test_head_dim_given(void)
{
    lr_config c;
    lr_error err;
    /* heads do not divide hidden size: fine when head_dim is explicit */
    CHECK_OK(parse_cfg("{\"hidden_size\": 60, \"intermediate_size\": 100, \"num_hidden_layers\": 1,"
                       " \"num_attention_heads\": 8, \"num_key_value_heads\": 2, \"head_dim\": 16,"
                       " \"vocab_size\": 50}", &c, &err), &err);
    CHECK_INT(c.head_dim, 16);
}

static void test_bad_configs(void)
{
    lr_config c;
    lr_error err;
#define BASE "\"intermediate_size\": 100, \"num_hidden_layers\": 1, \"vocab_size\": 50"
    CHECK_ERR(parse_cfg("{\"hidden_size\": 60, \"num_attention_heads\": 8, " BASE "}", &c, &err),
              &err, "not divisible by num_attention_heads 8 and no head_dim");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 64, \"num_attention_heads\": 8, "
                        "\"num_key_value_heads\": 3, " BASE "}", &c, &err),
              &err, "num_key_value_heads 3 does not divide num_attention_heads 8");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 0, \"num_attention_heads\": 8, " BASE "}", &c, &err),
              &err, "\"hidden_size\" = 0 is out of range");
    CHECK_ERR(parse_cfg("{\"hidden_size\": -64, \"num_attention_heads\": 8, " BASE "}", &c, &err),
              &err, "out of range");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 64.5, \"num_attention_heads\": 8, " BASE "}", &c, &err),
              &err, "must be an integer");
    CHECK_ERR(parse_cfg("{\"num_attention_heads\": 8, " BASE "}", &c, &err),
              &err, "missing required key \"hidden_size\"");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 64, \"num_attention_heads\": 8, \"head_dim\": 7, "
                        BASE "}", &c, &err), &err, "head_dim 7 is odd");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 64, \"num_attention_heads\": 8, \"rms_norm_eps\": 0, "
                        BASE "}", &c, &err), &err, "rms_norm_eps");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 64, \"num_attention_heads\": 8, \"rms_norm_eps\": \"x\", "
                        BASE "}", &c, &err), &err, "must be a number");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 64, \"num_attention_heads\": 8, "
                        "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 2.0}, "
                        BASE "}", &c, &err), &err, "unsupported rope_scaling type \"linear\"");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 64, \"num_attention_heads\": 8, "
                        "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}, "
                        BASE "}", &c, &err), &err, "missing \"low_freq_factor\"");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 64, \"num_attention_heads\": 8, "
                        "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, "
                        "\"low_freq_factor\": 4, \"high_freq_factor\": 1, "
                        "\"original_max_position_embeddings\": 8192}, "
                        BASE "}", &c, &err), &err, "low_freq_factor < high_freq_factor");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 64, \"num_attention_heads\": 8, \"model_type\": "
                        "\"mistral\", " BASE "}", &c, &err), &err, "only \"llama\"");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 64, \"num_attention_heads\": 8, \"attention_bias\": "
                        "true, " BASE "}", &c, &err), &err, "attention_bias");
    CHECK_ERR(parse_cfg("{\"hidden_size\": 64, \"num_attention_heads\": 8, \"eos_token_id\": "
                        "[1, \"x\"], " BASE "}", &c, &err), &err, "eos_token_id[1]");
    CHECK_ERR(parse_cfg("[1]", &c, &err), &err, "not a JSON object");
#undef BASE
}

int main(void)
{
    RUN(test_llama31_8b);
    RUN(test_defaults_and_round_trip);
    RUN(test_head_dim_given);
    RUN(test_bad_configs);
    return h_finish("config");
}
