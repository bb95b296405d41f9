/* model.c - the in-memory Llama model: tensor access, loading from Hugging
 * Face safetensors (single or sharded, stdio or mmap, keeping BF16/F16 or
 * converting to lr_float), random initialisation and saving in HF format.
 * The llama2.c loader is llama2c.c, the GGUF loader gguf_model.c, and
 * lr_model_load, which picks one of the three by the path, model_load.c:
 * those depend on this file, not the other way round. */
#include "llamaref/model/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/rng.h"

/* ---- tensors ---- */

uint64_t lr_tensor_nelem(const lr_tensor *t)
{
    uint64_t n = 1;
    int i;
    for (i = 0; i < t->ndim; i++) n *= (uint64_t)t->shape[i];
    return n;
}

lr_float lr_tensor_get(const lr_tensor *t, size_t i)
{
    switch (t->dtype) {
    case LR_F32: return (lr_float)((const float *)t->data)[i];
    case LR_F64: return (lr_float)((const double *)t->data)[i];
    case LR_BF16: return (lr_float)lr_bf16_to_f32(((const uint16_t *)t->data)[i]);
    case LR_F16: return (lr_float)lr_f16_to_f32(((const uint16_t *)t->data)[i]);
    default: return 0;
    }
}

void lr_tensor_get_range(const lr_tensor *t, size_t start, size_t n, lr_float *out)
{
    size_t i;
    if (t->dtype == LR_FLOAT_DTYPE) {
        memcpy(out, (const lr_float *)t->data + start, n * sizeof *out);
        return;
    }
    for (i = 0; i < n; i++) out[i] = lr_tensor_get(t, start + i);
}

static void tensor_free(lr_tensor *t)
{
    if (t->owned) free(t->data);
    t->data = NULL;
    t->owned = 0;
}

/* Visits every distinct weight tensor with its HF name. */
typedef int (*tensor_visit)(lr_tensor *t, const char *name, int64_t rows,
                            int64_t cols, void *ctx);

static int for_each_weight(lr_model *m, tensor_visit fn, void *ctx)
{
    const lr_config *c = &m->config;
    int64_t H = c->hidden_size, I = c->intermediate_size;
    int64_t Q = (int64_t)c->num_attention_heads * c->head_dim;
    int64_t KV = (int64_t)c->num_key_value_heads * c->head_dim;
    char name[128];
    int l;
    if (fn(&m->embed_tokens, "model.embed_tokens.weight", c->vocab_size, H, ctx)) return -1;
    for (l = 0; l < c->num_hidden_layers; l++) {
        lr_layer_weights *w = &m->layers[l];
        struct {
            lr_tensor *t;
            const char *suffix;
            int64_t rows, cols;
        } list[9];
        int k;
        list[0].t = &w->input_layernorm; list[0].suffix = "input_layernorm"; list[0].rows = H; list[0].cols = 0;
        list[1].t = &w->q_proj; list[1].suffix = "self_attn.q_proj"; list[1].rows = Q; list[1].cols = H;
        list[2].t = &w->k_proj; list[2].suffix = "self_attn.k_proj"; list[2].rows = KV; list[2].cols = H;
        list[3].t = &w->v_proj; list[3].suffix = "self_attn.v_proj"; list[3].rows = KV; list[3].cols = H;
        list[4].t = &w->o_proj; list[4].suffix = "self_attn.o_proj"; list[4].rows = H; list[4].cols = Q;
        list[5].t = &w->post_attention_layernorm; list[5].suffix = "post_attention_layernorm"; list[5].rows = H; list[5].cols = 0;
        list[6].t = &w->gate_proj; list[6].suffix = "mlp.gate_proj"; list[6].rows = I; list[6].cols = H;
        list[7].t = &w->up_proj; list[7].suffix = "mlp.up_proj"; list[7].rows = I; list[7].cols = H;
        list[8].t = &w->down_proj; list[8].suffix = "mlp.down_proj"; list[8].rows = H; list[8].cols = I;
        for (k = 0; k < 9; k++) {
            sprintf(name, "model.layers.%d.%s.weight", l, list[k].suffix);
            if (fn(list[k].t, name, list[k].rows, list[k].cols, ctx)) return -1;
        }
    }
    if (fn(&m->norm, "model.norm.weight", H, 0, ctx)) return -1;
    if (!c->tie_word_embeddings &&
        fn(&m->lm_head, "lm_head.weight", c->vocab_size, H, ctx))
        return -1;
    return 0;
}

static void tie_lm_head(lr_model *m)
{
    if (m->config.tie_word_embeddings) {
        m->lm_head = m->embed_tokens;
        m->lm_head.owned = 0;
    }
}

static int free_one(lr_tensor *t, const char *name, int64_t r, int64_t c, void *ctx)
{
    (void)name; (void)r; (void)c; (void)ctx;
    tensor_free(t);
    return 0;
}

void lr_model_free(lr_model *m)
{
    if (!m) return;
    if (m->layers) for_each_weight(m, free_one, NULL);
    free(m->layers);
    free(m->path);
    lr_st_set_close(m->storage);
    free(m);
}

lr_model *lr_model_alloc(const lr_config *cfg, const char *path, const char *format,
                         lr_error *err)
{
    lr_model *m = calloc(1, sizeof *m);
    if (!m) {
        lr_fail(err, "out of memory");
        return NULL;
    }
    m->config = *cfg;
    m->layers = lr_zalloc((size_t)cfg->num_hidden_layers, sizeof *m->layers, "layers", err);
    m->path = lr_strdup(path ? path : "", err);
    if (!m->layers || !m->path) {
        lr_model_free(m);
        return NULL;
    }
    strncpy(m->format, format, sizeof m->format - 1);
    return m;
}

/* ---- HF loading ---- */

typedef struct load_ctx {
    lr_model *m;
    const lr_load_options *opt;
    const char *dir;
    int aliased;
    lr_error *err;
} load_ctx;

static int ptr_aligned(const void *p, size_t a)
{
    return ((uintptr_t)p % a) == 0;
}

static int load_one(lr_tensor *t, const char *name, int64_t rows, int64_t cols, void *vctx)
{
    load_ctx *ctx = vctx;
    lr_st_file *file;
    const lr_st_tensor *st = lr_st_set_find(ctx->m->storage, name, &file);
    int ndim = cols ? 2 : 1;
    const void *mapped;
    if (!st) return lr_fail(ctx->err, "%s: missing tensor '%s'", ctx->dir, name);
    if (!lr_dtype_is_float(st->dtype))
        return lr_fail(ctx->err, "%s: tensor '%s' has dtype %s; weights must be F32, F16, "
                       "BF16 or F64", lr_st_path(file), name, lr_dtype_name(st->dtype));
    if (st->ndim != ndim || st->shape[0] != rows || (ndim == 2 && st->shape[1] != cols)) {
        char got[128] = "", *p = got;
        int i;
        for (i = 0; i < st->ndim && i < 4; i++)
            p += sprintf(p, "%s%lld", i ? ", " : "", (long long)st->shape[i]);
        if (ndim == 2)
            return lr_fail(ctx->err, "%s: tensor '%s' has shape [%s], config.json implies "
                           "[%lld, %lld]", lr_st_path(file), name, got, (long long)rows,
                           (long long)cols);
        return lr_fail(ctx->err, "%s: tensor '%s' has shape [%s], config.json implies [%lld]",
                       lr_st_path(file), name, got, (long long)rows);
    }
    t->ndim = ndim;
    t->shape[0] = rows;
    t->shape[1] = cols;
    mapped = lr_st_mapped(file, st);
    if ((st->dtype == LR_BF16 || st->dtype == LR_F16) && ctx->opt && ctx->opt->keep_dtype) {
        t->dtype = st->dtype;
    } else {
        t->dtype = LR_FLOAT_DTYPE;
    }
    if (mapped && t->dtype == st->dtype && lr_host_is_little_endian() &&
        ptr_aligned(mapped, lr_dtype_size(st->dtype))) {
        t->data = (void *)mapped; /* zero copy: file bytes are host values */
        t->owned = 0;
        ctx->aliased = 1;
        return 0;
    }
    t->data = lr_alloc((size_t)st->nelem, lr_dtype_size(t->dtype), name, ctx->err);
    if (!t->data) return -1;
    t->owned = 1;
    if (t->dtype == st->dtype) return lr_st_read_native(file, st, t->data, ctx->err);
    return lr_st_read_lr(file, st, (lr_float *)t->data, ctx->err);
}

/* Tensors HF checkpoints may carry that the model does not use. */
static int ignorable(const char *name)
{
    size_t n = strlen(name);
    const char *suffix = "rotary_emb.inv_freq";
    size_t k = strlen(suffix);
    return n >= k && !strcmp(name + n - k, suffix);
}

static int is_expected(lr_tensor *t, const char *name, int64_t r, int64_t c, void *ctx)
{
    (void)t; (void)r; (void)c;
    return strcmp(name, (const char *)ctx) == 0 ? -1 : 0; /* -1 stops: found */
}

int lr_model_load_hf(const char *dir, const lr_load_options *opt, lr_model **out,
                     lr_error *err)
{
    lr_config cfg;
    lr_model *m;
    load_ctx ctx;
    char *cfg_path;
    size_t i;
    *out = NULL;
    cfg_path = lr_path_join(dir, "config.json", err);
    if (!cfg_path) return -1;
    if (lr_config_load(cfg_path, &cfg, err)) {
        free(cfg_path);
        return -1;
    }
    free(cfg_path);
    m = lr_model_alloc(&cfg, dir, "hf", err);
    if (!m) return -1;
    if (lr_st_set_open(dir, opt && opt->use_mmap ? LR_ST_MMAP : 0, &m->storage, err)) {
        lr_model_free(m);
        return -1;
    }
    /* no tensor may be left unexplained */
    for (i = 0; i < lr_st_set_count(m->storage); i++) {
        lr_st_file *file;
        const lr_st_tensor *t = lr_st_set_at(m->storage, i, &file);
        if (ignorable(t->name)) continue;
        if (cfg.tie_word_embeddings && !strcmp(t->name, "lm_head.weight")) continue;
        if (for_each_weight(m, is_expected, (void *)t->name) == 0) {
            lr_fail(err, "%s: unexpected tensor '%s' (not part of a LlamaForCausalLM with "
                    "this config.json)", lr_st_path(file), t->name);
            lr_model_free(m);
            return -1;
        }
    }
    ctx.m = m;
    ctx.opt = opt;
    ctx.dir = dir;
    ctx.aliased = 0;
    ctx.err = err;
    if (for_each_weight(m, load_one, &ctx)) {
        lr_model_free(m);
        return -1;
    }
    {
        lr_st_file *file;
        const lr_st_tensor *e = lr_st_set_find(m->storage, "model.embed_tokens.weight", &file);
        m->stored_dtype = e->dtype;
    }
    tie_lm_head(m);
    if (!ctx.aliased) { /* nothing points into the files any more */
        lr_st_set_close(m->storage);
        m->storage = NULL;
    }
    *out = m;
    return 0;
}

/* ---- random models ---- */

typedef struct rand_ctx {
    lr_rng rng;
    lr_error *err;
} rand_ctx;

static int rand_one(lr_tensor *t, const char *name, int64_t rows, int64_t cols, void *vctx)
{
    rand_ctx *ctx = vctx;
    size_t n = (size_t)rows * (size_t)(cols ? cols : 1), i;
    lr_float *d;
    t->dtype = LR_FLOAT_DTYPE;
    t->ndim = cols ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    d = lr_alloc(n, sizeof *d, name, ctx->err);
    if (!d) return -1;
    t->data = d;
    t->owned = 1;
    if (cols) {
        double scale = 1.0 / sqrt((double)cols);
        for (i = 0; i < n; i++)
            d[i] = (lr_float)((2.0 * lr_rng_double(&ctx->rng) - 1.0) * scale);
    } else {
        for (i = 0; i < n; i++)
            d[i] = (lr_float)(1.0 + 0.2 * lr_rng_double(&ctx->rng) - 0.1);
    }
    return 0;
}

int lr_model_init_random(const lr_config *cfg, uint64_t seed, lr_model **out,
                         lr_error *err)
{
    lr_model *m;
    rand_ctx ctx;
    *out = NULL;
    if (lr_config_validate(cfg, "random model config", err)) return -1;
    m = lr_model_alloc(cfg, "", "memory", err);
    if (!m) return -1;
    lr_rng_seed(&ctx.rng, lr_seed_of(LR_STREAM_RANDOM_MODEL, seed, 0, 0, 0));
    ctx.err = err;
    if (for_each_weight(m, rand_one, &ctx)) {
        lr_model_free(m);
        return -1;
    }
    m->stored_dtype = LR_FLOAT_DTYPE;
    tie_lm_head(m);
    *out = m;
    return 0;
}

/* ---- saving ---- */

typedef struct save_ctx {
    lr_st_writer *w;
    lr_dtype dtype;
    lr_error *err;
} save_ctx;

static int save_one(lr_tensor *t, const char *name, int64_t rows, int64_t cols, void *vctx)
{
    save_ctx *ctx = vctx;
    size_t n = (size_t)lr_tensor_nelem(t), i;
    int64_t shape[2];
    double *tmp;
    int rc;
    shape[0] = rows;
    shape[1] = cols;
    if ((t->dtype == LR_BF16 || t->dtype == LR_F16) && t->dtype == ctx->dtype) {
        /* keep the exact bit patterns */
        unsigned char *b = lr_alloc(n, 2, name, ctx->err);
        if (!b) return -1;
        for (i = 0; i < n; i++) lr_put_le16(b + 2 * i, ((const uint16_t *)t->data)[i]);
        rc = lr_st_writer_add_raw(ctx->w, name, ctx->dtype, cols ? 2 : 1, shape, b, 2 * n,
                                  ctx->err);
        free(b);
        return rc;
    }
    tmp = lr_alloc(n, sizeof *tmp, name, ctx->err);
    if (!tmp) return -1;
    for (i = 0; i < n; i++) tmp[i] = (double)lr_tensor_get(t, i);
    rc = lr_st_writer_add_f64(ctx->w, name, ctx->dtype, cols ? 2 : 1, shape, tmp, ctx->err);
    free(tmp);
    return rc;
}

int lr_model_save_hf(const lr_model *m, const char *dir, lr_dtype dtype, lr_error *err)
{
    save_ctx ctx;
    lr_config cfg = m->config;
    lr_buf json = {0};
    char *p;
    int rc;
    if (!lr_dtype_is_float(dtype))
        return lr_fail(err, "%s: cannot save weights as %s", dir, lr_dtype_name(dtype));
    if (!lr_path_is_dir(dir)) return lr_fail(err, "%s: not a directory", dir);
    ctx.w = lr_st_writer_new(err);
    if (!ctx.w) return -1;
    ctx.dtype = dtype;
    ctx.err = err;
    if (for_each_weight((lr_model *)m, save_one, &ctx) ||
        lr_st_writer_meta(ctx.w, "format", "pt", err)) {
        lr_st_writer_free(ctx.w);
        return -1;
    }
    p = lr_path_join(dir, "model.safetensors", err);
    rc = p ? lr_st_writer_save(ctx.w, p, err) : -1;
    free(p);
    lr_st_writer_free(ctx.w);
    if (rc) return -1;
    strcpy(cfg.torch_dtype, dtype == LR_BF16 ? "bfloat16" : dtype == LR_F16 ? "float16"
                            : dtype == LR_F64 ? "float64" : "float32");
    if (lr_config_to_json(&cfg, &json)) {
        lr_buf_free(&json);
        return lr_fail(err, "%s: out of memory writing config.json", dir);
    }
    p = lr_path_join(dir, "config.json", err);
    rc = p ? lr_write_file_atomic(p, json.data, json.len, err) : -1;
    free(p);
    lr_buf_free(&json);
    return rc;
}

static int count_bytes(lr_tensor *t, const char *name, int64_t r, int64_t c, void *ctx)
{
    (void)name; (void)r; (void)c;
    *(uint64_t *)ctx += lr_tensor_nelem(t) * lr_dtype_size(t->dtype);
    return 0;
}

uint64_t lr_model_weight_bytes(const lr_model *m)
{
    uint64_t total = 0;
    for_each_weight((lr_model *)m, count_bytes, &total);
    return total;
}

/* ---- description (`llamaref info`) ---- */

/* "label  2.00 MiB (2097152 bytes)": the largest unit that leaves v >= 1 */
static void describe_bytes(lr_buf *b, const char *label, double bytes)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double v = bytes;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    lr_buf_printf(b, "%-34s %.2f %s (%.0f bytes)\n", label, v, unit[u], bytes);
}

int lr_model_describe(const lr_model *m, const char *path, lr_buf *b)
{
    const lr_config *c = &m->config;
    double kv_token; /* K and V of every layer: 2 L kv_heads head_dim */
    int i;
    lr_buf_printf(b, "model                              %s (%s)\n", path, m->format);
    lr_buf_printf(b, "hidden_size                        %d\n", c->hidden_size);
    lr_buf_printf(b, "intermediate_size                  %d\n", c->intermediate_size);
    lr_buf_printf(b, "num_hidden_layers                  %d\n", c->num_hidden_layers);
    lr_buf_printf(b, "num_attention_heads                %d\n", c->num_attention_heads);
    lr_buf_printf(b, "num_key_value_heads                %d\n", c->num_key_value_heads);
    lr_buf_printf(b, "head_dim                           %d\n", c->head_dim);
    lr_buf_printf(b, "vocab_size                         %d\n", c->vocab_size);
    lr_buf_printf(b, "max_position_embeddings            %d\n", c->max_position_embeddings);
    lr_buf_printf(b, "rms_norm_eps                       %g\n", c->rms_norm_eps);
    lr_buf_printf(b, "rope_theta                         %g\n", c->rope_theta);
    if (c->rope_type == LR_ROPE_LLAMA3)
        lr_buf_printf(b, "rope_scaling                       llama3 (factor %g, "
                      "low_freq_factor %g, high_freq_factor %g, "
                      "original_max_position_embeddings %d)\n", c->rope_factor,
                      c->rope_low_freq_factor, c->rope_high_freq_factor,
                      c->rope_original_max_position_embeddings);
    else
        lr_buf_printf(b, "rope_scaling                       none\n");
    lr_buf_printf(b, "tie_word_embeddings                %s\n",
                  c->tie_word_embeddings ? "true" : "false");
    lr_buf_printf(b, "bos_token_id                       %d\n", c->bos_token_id);
    lr_buf_printf(b, "eos_token_id                      ");
    for (i = 0; i < c->n_eos; i++) lr_buf_printf(b, " %d", c->eos_token_ids[i]);
    lr_buf_printf(b, "%s\n", c->n_eos ? "" : " none");
    lr_buf_printf(b, "stored dtype                       %s\n", lr_dtype_name(m->stored_dtype));
    lr_buf_printf(b, "compute type                       %s\n", LR_FLOAT_NAME);
    lr_buf_printf(b, "parameters                         %llu\n",
                  (unsigned long long)lr_config_param_count(c));
    describe_bytes(b, "weights as loaded (this info run)", (double)lr_model_weight_bytes(m));
    describe_bytes(b, "weights converted to compute type",
                   (double)lr_config_param_count(c) * (double)sizeof(lr_float));
    kv_token = 2.0 * c->num_hidden_layers * c->num_key_value_heads * c->head_dim *
               (double)sizeof(lr_float);
    describe_bytes(b, "KV cache per token", kv_token);
    describe_bytes(b, "KV cache at max_position_embeddings",
                   kv_token * c->max_position_embeddings);
    return b->oom ? -1 : 0;
}
