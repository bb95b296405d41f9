/* config.c - reads, validates and writes Hugging Face LlamaConfig
 * (config.json).  Optional keys take LlamaConfig's defaults; the five size
 * keys are required because a default 7B shape is never what a file without
 * them means. */
#include "llamaref/formats/config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int get_opt_int(const lr_json *root, const char *key, const char *src,
                       int lo, int *out, int *present, lr_error *err)
{
    const lr_json *v = lr_json_get(root, key);
    if (present) *present = 0;
    if (!v || v->type == LR_JSON_NULL) return 0;
    if (v->type != LR_JSON_NUMBER || !v->is_integer)
        return lr_fail(err, "%s:%d:%d: \"%s\" must be an integer, got %s", src, v->line,
                       v->col, key, lr_json_type_name(v->type));
    if (v->integer < lo || v->integer > 0x7fffffff)
        return lr_fail(err, "%s:%d:%d: \"%s\" = %lld is out of range (must be >= %d)",
                       src, v->line, v->col, key, (long long)v->integer, lo);
    *out = (int)v->integer;
    if (present) *present = 1;
    return 0;
}

static int get_req_int(const lr_json *root, const char *key, const char *src,
                       int *out, lr_error *err)
{
    int present;
    if (get_opt_int(root, key, src, 1, out, &present, err)) return -1;
    if (!present) return lr_fail(err, "%s: missing required key \"%s\"", src, key);
    return 0;
}

static int get_opt_num(const lr_json *root, const char *key, const char *src,
                       double *out, int *present, lr_error *err)
{
    const lr_json *v = lr_json_get(root, key);
    if (present) *present = 0;
    if (!v || v->type == LR_JSON_NULL) return 0;
    if (v->type != LR_JSON_NUMBER)
        return lr_fail(err, "%s:%d:%d: \"%s\" must be a number, got %s", src, v->line,
                       v->col, key, lr_json_type_name(v->type));
    *out = v->number;
    if (present) *present = 1;
    return 0;
}

static int get_opt_bool(const lr_json *root, const char *key, const char *src,
                        int *out, lr_error *err)
{
    const lr_json *v = lr_json_get(root, key);
    if (!v || v->type == LR_JSON_NULL) return 0;
    if (v->type != LR_JSON_TRUE && v->type != LR_JSON_FALSE)
        return lr_fail(err, "%s:%d:%d: \"%s\" must be true or false", src, v->line,
                       v->col, key);
    *out = v->type == LR_JSON_TRUE;
    return 0;
}

static int parse_rope_scaling(const lr_json *rs, const char *src, lr_config *c,
                              lr_error *err)
{
    const lr_json *type;
    int present;
    char where[512];
    if (!rs || rs->type == LR_JSON_NULL) return 0;
    if (rs->type != LR_JSON_OBJECT)
        return lr_fail(err, "%s:%d:%d: \"rope_scaling\" must be null or an object", src,
                       rs->line, rs->col);
    type = lr_json_get(rs, "rope_type");
    if (!type) type = lr_json_get(rs, "type"); /* older transformers */
    if (!type || type->type != LR_JSON_STRING)
        return lr_fail(err, "%s:%d:%d: rope_scaling has no \"rope_type\" string", src,
                       rs->line, rs->col);
    if (!strcmp(type->str, "default")) return 0;
    if (strcmp(type->str, "llama3"))
        return lr_fail(err, "%s:%d:%d: unsupported rope_scaling type \"%s\" (llamaref "
                       "supports null, \"default\" and \"llama3\")", src, type->line,
                       type->col, type->str);
    c->rope_type = LR_ROPE_LLAMA3;
    snprintf(where, sizeof where, "%s (rope_scaling)", src);
    if (get_opt_num(rs, "factor", where, &c->rope_factor, &present, err)) return -1;
    if (!present) return lr_fail(err, "%s: missing \"factor\"", where);
    if (get_opt_num(rs, "low_freq_factor", where, &c->rope_low_freq_factor, &present, err))
        return -1;
    if (!present) return lr_fail(err, "%s: missing \"low_freq_factor\"", where);
    if (get_opt_num(rs, "high_freq_factor", where, &c->rope_high_freq_factor, &present, err))
        return -1;
    if (!present) return lr_fail(err, "%s: missing \"high_freq_factor\"", where);
    if (get_opt_int(rs, "original_max_position_embeddings", where, 1,
                    &c->rope_original_max_position_embeddings, &present, err))
        return -1;
    if (!present) return lr_fail(err, "%s: missing \"original_max_position_embeddings\"", where);
    return 0;
}

int lr_config_from_json(const lr_json *root, const char *src, lr_config *c,
                        lr_error *err)
{
    const lr_json *v;
    int present;
    memset(c, 0, sizeof *c);
    if (root->type != LR_JSON_OBJECT) return lr_fail(err, "%s: not a JSON object", src);
    v = lr_json_get(root, "model_type");
    if (v && (v->type != LR_JSON_STRING || strcmp(v->str, "llama")))
        return lr_fail(err, "%s: model_type is %s%s%s, only \"llama\" is supported", src,
                       v->type == LR_JSON_STRING ? "\"" : "",
                       v->type == LR_JSON_STRING ? v->str : lr_json_type_name(v->type),
                       v->type == LR_JSON_STRING ? "\"" : "");
    v = lr_json_get(root, "hidden_act");
    if (v && (v->type != LR_JSON_STRING || strcmp(v->str, "silu")))
        return lr_fail(err, "%s: hidden_act must be \"silu\"", src);
    {
        int bias = 0;
        if (get_opt_bool(root, "attention_bias", src, &bias, err)) return -1;
        if (bias) return lr_fail(err, "%s: attention_bias true is not supported", src);
        if (get_opt_bool(root, "mlp_bias", src, &bias, err)) return -1;
        if (bias) return lr_fail(err, "%s: mlp_bias true is not supported", src);
    }
    if (get_req_int(root, "hidden_size", src, &c->hidden_size, err) ||
        get_req_int(root, "intermediate_size", src, &c->intermediate_size, err) ||
        get_req_int(root, "num_hidden_layers", src, &c->num_hidden_layers, err) ||
        get_req_int(root, "num_attention_heads", src, &c->num_attention_heads, err) ||
        get_req_int(root, "vocab_size", src, &c->vocab_size, err))
        return -1;
    c->num_key_value_heads = c->num_attention_heads;
    if (get_opt_int(root, "num_key_value_heads", src, 1, &c->num_key_value_heads, NULL, err))
        return -1;
    c->head_dim = 0;
    if (get_opt_int(root, "head_dim", src, 1, &c->head_dim, &present, err)) return -1;
    if (!present) {
        if (c->hidden_size % c->num_attention_heads)
            return lr_fail(err, "%s: hidden_size %d is not divisible by num_attention_heads "
                           "%d and no head_dim is given", src, c->hidden_size,
                           c->num_attention_heads);
        c->head_dim = c->hidden_size / c->num_attention_heads;
    }
    c->max_position_embeddings = 2048;
    if (get_opt_int(root, "max_position_embeddings", src, 1, &c->max_position_embeddings,
                    NULL, err))
        return -1;
    c->rms_norm_eps = 1e-6;
    if (get_opt_num(root, "rms_norm_eps", src, &c->rms_norm_eps, NULL, err)) return -1;
    c->rope_theta = 10000.0;
    if (get_opt_num(root, "rope_theta", src, &c->rope_theta, NULL, err)) return -1;
    c->rope_type = LR_ROPE_DEFAULT;
    if (parse_rope_scaling(lr_json_get(root, "rope_scaling"), src, c, err)) return -1;
    c->tie_word_embeddings = 0;
    if (get_opt_bool(root, "tie_word_embeddings", src, &c->tie_word_embeddings, err))
        return -1;
    c->bos_token_id = -1;
    if (get_opt_int(root, "bos_token_id", src, 0, &c->bos_token_id, NULL, err)) return -1;
    v = lr_json_get(root, "eos_token_id");
    c->n_eos = 0;
    if (v && v->type == LR_JSON_ARRAY) {
        size_t i;
        if (v->len > LR_MAX_EOS)
            return lr_fail(err, "%s:%d:%d: eos_token_id has %lu entries (at most %d)", src,
                           v->line, v->col, (unsigned long)v->len, LR_MAX_EOS);
        for (i = 0; i < v->len; i++) {
            const lr_json *e = &v->items[i];
            if (e->type != LR_JSON_NUMBER || !e->is_integer || e->integer < 0 ||
                e->integer > 0x7fffffff)
                return lr_fail(err, "%s:%d:%d: eos_token_id[%lu] must be a non-negative "
                               "integer", src, e->line, e->col, (unsigned long)i);
            c->eos_token_ids[c->n_eos++] = (int)e->integer;
        }
    } else {
        int id = -1;
        if (get_opt_int(root, "eos_token_id", src, 0, &id, &present, err)) return -1;
        if (present) c->eos_token_ids[c->n_eos++] = id;
    }
    v = lr_json_get(root, "torch_dtype");
    if (!v || v->type == LR_JSON_NULL) v = lr_json_get(root, "dtype");
    if (v && v->type == LR_JSON_STRING) {
        strncpy(c->torch_dtype, v->str, sizeof c->torch_dtype - 1);
        c->torch_dtype[sizeof c->torch_dtype - 1] = 0;
    }
    return lr_config_validate(c, src, err);
}

int lr_config_load(const char *path, lr_config *cfg, lr_error *err)
{
    lr_json_doc *doc;
    int rc;
    if (lr_json_parse_file(path, &doc, err)) return -1;
    rc = lr_config_from_json(lr_json_root(doc), path, cfg, err);
    lr_json_free(doc);
    return rc;
}

int lr_config_validate(const lr_config *c, const char *src, lr_error *err)
{
    if (c->hidden_size <= 0 || c->intermediate_size <= 0 || c->num_hidden_layers <= 0 ||
        c->num_attention_heads <= 0 || c->num_key_value_heads <= 0 || c->head_dim <= 0 ||
        c->vocab_size <= 0 || c->max_position_embeddings <= 0)
        return lr_fail(err, "%s: sizes must be positive (hidden %d, intermediate %d, "
                       "layers %d, heads %d, kv heads %d, head_dim %d, vocab %d, "
                       "max positions %d)", src, c->hidden_size, c->intermediate_size,
                       c->num_hidden_layers, c->num_attention_heads,
                       c->num_key_value_heads, c->head_dim, c->vocab_size,
                       c->max_position_embeddings);
    if (c->num_attention_heads % c->num_key_value_heads)
        return lr_fail(err, "%s: num_key_value_heads %d does not divide "
                       "num_attention_heads %d", src, c->num_key_value_heads,
                       c->num_attention_heads);
    if (c->head_dim % 2)
        return lr_fail(err, "%s: head_dim %d is odd; RoPE needs an even head_dim", src,
                       c->head_dim);
    if ((double)c->num_attention_heads * c->head_dim > 1e9 ||
        (double)c->vocab_size * c->hidden_size > 1e11 ||
        (double)c->intermediate_size * c->hidden_size > 1e11)
        return lr_fail(err, "%s: sizes are implausibly large", src);
    if (!(c->rms_norm_eps > 0) || !(c->rms_norm_eps < 1))
        return lr_fail(err, "%s: rms_norm_eps %g must be in (0, 1)", src, c->rms_norm_eps);
    if (!(c->rope_theta > 1) || c->rope_theta > 1e12)
        return lr_fail(err, "%s: rope_theta %g must be in (1, 1e12]", src, c->rope_theta);
    if (c->rope_type == LR_ROPE_LLAMA3) {
        if (!(c->rope_factor >= 1) || !(c->rope_low_freq_factor > 0) ||
            !(c->rope_high_freq_factor > c->rope_low_freq_factor) ||
            c->rope_original_max_position_embeddings <= 0)
            return lr_fail(err, "%s: llama3 rope_scaling needs factor >= 1, "
                           "0 < low_freq_factor < high_freq_factor and "
                           "original_max_position_embeddings > 0 (got %g, %g, %g, %d)",
                           src, c->rope_factor, c->rope_low_freq_factor,
                           c->rope_high_freq_factor,
                           c->rope_original_max_position_embeddings);
    }
    return 0;
}

static void key(lr_buf *b, const char *k, int *first)
{
    lr_buf_puts(b, *first ? "\n  " : ",\n  ");
    *first = 0;
    lr_json_write_string(b, k, strlen(k));
    lr_buf_puts(b, ": ");
}

int lr_config_to_json(const lr_config *c, lr_buf *b)
{
    int first = 1, i;
    /* keys in sorted order, as transformers writes them */
    lr_buf_puts(b, "{");
    key(b, "architectures", &first);
    lr_buf_puts(b, "[\n    \"LlamaForCausalLM\"\n  ]");
    key(b, "attention_bias", &first);
    lr_buf_puts(b, "false");
    key(b, "attention_dropout", &first);
    lr_buf_puts(b, "0.0");
    key(b, "bos_token_id", &first);
    if (c->bos_token_id >= 0) lr_buf_printf(b, "%d", c->bos_token_id);
    else lr_buf_puts(b, "null");
    key(b, "eos_token_id", &first);
    if (c->n_eos == 0) lr_buf_puts(b, "null");
    else if (c->n_eos == 1) lr_buf_printf(b, "%d", c->eos_token_ids[0]);
    else {
        lr_buf_puts(b, "[");
        for (i = 0; i < c->n_eos; i++)
            lr_buf_printf(b, "%s\n    %d", i ? "," : "", c->eos_token_ids[i]);
        lr_buf_puts(b, "\n  ]");
    }
    key(b, "head_dim", &first);
    lr_buf_printf(b, "%d", c->head_dim);
    key(b, "hidden_act", &first);
    lr_buf_puts(b, "\"silu\"");
    key(b, "hidden_size", &first);
    lr_buf_printf(b, "%d", c->hidden_size);
    key(b, "initializer_range", &first);
    lr_buf_puts(b, "0.02");
    key(b, "intermediate_size", &first);
    lr_buf_printf(b, "%d", c->intermediate_size);
    key(b, "max_position_embeddings", &first);
    lr_buf_printf(b, "%d", c->max_position_embeddings);
    key(b, "mlp_bias", &first);
    lr_buf_puts(b, "false");
    key(b, "model_type", &first);
    lr_buf_puts(b, "\"llama\"");
    key(b, "num_attention_heads", &first);
    lr_buf_printf(b, "%d", c->num_attention_heads);
    key(b, "num_hidden_layers", &first);
    lr_buf_printf(b, "%d", c->num_hidden_layers);
    key(b, "num_key_value_heads", &first);
    lr_buf_printf(b, "%d", c->num_key_value_heads);
    key(b, "pretraining_tp", &first);
    lr_buf_puts(b, "1");
    key(b, "rms_norm_eps", &first);
    lr_json_write_number(b, c->rms_norm_eps);
    key(b, "rope_scaling", &first);
    if (c->rope_type == LR_ROPE_LLAMA3) {
        lr_buf_puts(b, "{\n    \"factor\": ");
        lr_json_write_number(b, c->rope_factor);
        lr_buf_puts(b, ",\n    \"high_freq_factor\": ");
        lr_json_write_number(b, c->rope_high_freq_factor);
        lr_buf_puts(b, ",\n    \"low_freq_factor\": ");
        lr_json_write_number(b, c->rope_low_freq_factor);
        lr_buf_printf(b, ",\n    \"original_max_position_embeddings\": %d",
                      c->rope_original_max_position_embeddings);
        lr_buf_puts(b, ",\n    \"rope_type\": \"llama3\"\n  }");
    } else {
        lr_buf_puts(b, "null");
    }
    key(b, "rope_theta", &first);
    lr_json_write_number(b, c->rope_theta);
    key(b, "tie_word_embeddings", &first);
    lr_buf_puts(b, c->tie_word_embeddings ? "true" : "false");
    key(b, "torch_dtype", &first);
    lr_json_write_string(b, c->torch_dtype[0] ? c->torch_dtype : "float32",
                         strlen(c->torch_dtype[0] ? c->torch_dtype : "float32"));
    key(b, "use_cache", &first);
    lr_buf_puts(b, "true");
    key(b, "vocab_size", &first);
    lr_buf_printf(b, "%d", c->vocab_size);
    lr_buf_puts(b, "\n}\n");
    return b->oom ? -1 : 0;
}

uint64_t lr_config_param_count(const lr_config *c)
{
    uint64_t H = (uint64_t)c->hidden_size, I = (uint64_t)c->intermediate_size;
    uint64_t q = (uint64_t)c->num_attention_heads * (uint64_t)c->head_dim;
    uint64_t kv = (uint64_t)c->num_key_value_heads * (uint64_t)c->head_dim;
    uint64_t V = (uint64_t)c->vocab_size;
    uint64_t layer = 2 * H + q * H + 2 * kv * H + H * q + 3 * H * I;
    return V * H + (uint64_t)c->num_hidden_layers * layer + H +
           (c->tie_word_embeddings ? 0 : V * H);
}

void lr_config_bench_100m(lr_config *c)
{
    memset(c, 0, sizeof *c);
    c->hidden_size = 768;
    c->intermediate_size = 2048;
    c->num_hidden_layers = 12;
    c->num_attention_heads = 12;
    c->num_key_value_heads = 4;
    c->head_dim = 64;
    c->max_position_embeddings = 2048;
    c->vocab_size = 32000;
    c->rms_norm_eps = 1e-5;
    c->rope_theta = 500000;
    c->rope_type = LR_ROPE_DEFAULT;
    c->tie_word_embeddings = 1;
    c->bos_token_id = 1;
    c->eos_token_ids[0] = 2;
    c->n_eos = 1;
}
