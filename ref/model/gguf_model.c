/* gguf_model.c - a Llama model to and from GGUF (architecture "llama", as
 * llama.cpp's convert_hf_to_gguf.py writes it).  Depends on gguf.c,
 * quant.c, model.c and config.c.
 *
 * Names: token_embd, blk.N.{attn_norm, attn_q, attn_k, attn_v, attn_output,
 * ffn_norm, ffn_gate, ffn_up, ffn_down}, output_norm, output (absent when
 * the embeddings are tied), rope_freqs (Llama 3.1 scaling), all ".weight".
 * GGUF stores q and k rows in Meta's interleaved RoPE layout (pairs 2i,
 * 2i+1 of each head); llamaref uses HF's rotate_half layout (pairs i,
 * i + d/2), so those rows are permuted on load and back on save:
 * HF row h*d + half*d/2 + i = GGUF row h*d + 2i + half.
 * Llama 3.1 rope scaling has no metadata keys in GGUF: llama.cpp stores the
 * per-frequency divisors as the tensor rope_freqs; the loader finds the
 * llama3 parameters (factor, low/high frequency factors, original context)
 * that reproduce every divisor to float32 and refuses a file where none do. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/formats/gguf.h"
#include "llamaref/model/model.h"
#include "llamaref/formats/quant.h"
#include "llamaref/tokenizer/tokenizer.h"

/* The shortest decimal that reads back as the same float32 (what Python's
 * repr of an np.float32 prints): GGUF stores rms_norm_eps = 1e-5 as a
 * float32, and HF's config holds the double 1e-5. */
static double shortest_f32(double v)
{
    char buf[64];
    int p;
    for (p = 1; p <= 9; p++) {
        double x;
        snprintf(buf, sizeof buf, "%.*g", p, v);
        x = strtod(buf, NULL);
        if ((float)x == (float)v) return x;
    }
    return v;
}

static int meta_int(const lr_gguf *g, const char *key, int required, int lo, int *out,
                    lr_error *err)
{
    int64_t v;
    int rc = lr_gguf_get_int(g, key, &v, err);
    if (rc < 0) return -1;
    if (rc == 1) {
        if (required) return lr_fail(err, "%s: missing metadata \"%s\"", g->path, key);
        return 0;
    }
    if (v < lo || v > 0x7fffffff)
        return lr_fail(err, "%s: metadata \"%s\" = %lld is out of range", g->path, key,
                       (long long)v);
    *out = (int)v;
    return 0;
}

/* The divisor of inverse frequency i under llama3 scaling, as llama.cpp's
 * converter computes it for rope_freqs (in double, stored as float32). */
static double llama3_divisor(const lr_config *c, int i)
{
    double L = (double)c->rope_original_max_position_embeddings;
    double lo = c->rope_low_freq_factor, hi = c->rope_high_freq_factor;
    double f = 1.0 / pow(c->rope_theta, (double)(2 * i) / (double)c->head_dim);
    double w = 6.283185307179586476925286766559 / f, s;
    if (w < L / hi) return 1;
    if (w > L / lo) return c->rope_factor;
    s = (L / w - lo) / (hi - lo);
    return 1 / ((1 - s) / c->rope_factor + s);
}

/* llama3 parameters reproducing rope_freqs (float32 divisors). */
static int match_llama3(lr_config *c, const float *fac, int n)
{
    static const double lows[] = {1, 2, 4}, highs[] = {1, 2, 4, 8};
    int k, a, b, i;
    lr_config t = *c;
    t.rope_type = LR_ROPE_LLAMA3;
    t.rope_factor = shortest_f32(fac[n - 1]);
    for (k = 6; k <= 20; k++)
        for (a = 0; a < 3; a++)
            for (b = 0; b < 4; b++) {
                int ok = highs[b] > lows[a];
                t.rope_original_max_position_embeddings = 1 << k;
                t.rope_low_freq_factor = lows[a];
                t.rope_high_freq_factor = highs[b];
                for (i = 0; ok && i < n; i++)
                    if ((float)llama3_divisor(&t, i) != fac[i]) ok = 0;
                if (ok) {
                    *c = t;
                    return 0;
                }
            }
    return -1;
}

int lr_config_from_gguf(const lr_gguf *g, lr_config *c, lr_error *err)
{
    const char *arch = NULL;
    const lr_gguf_tensor *t;
    double v;
    int64_t id;
    int rc;
    memset(c, 0, sizeof *c);
    rc = lr_gguf_get_str(g, "general.architecture", &arch, err);
    if (rc < 0) return -1;
    if (rc == 1) return lr_fail(err, "%s: missing metadata \"general.architecture\"", g->path);
    if (strcmp(arch, "llama"))
        return lr_fail(err, "%s: general.architecture is \"%.60s\"; only \"llama\" is supported",
                       g->path, arch);
    if (meta_int(g, "llama.embedding_length", 1, 1, &c->hidden_size, err) ||
        meta_int(g, "llama.feed_forward_length", 1, 1, &c->intermediate_size, err) ||
        meta_int(g, "llama.block_count", 1, 1, &c->num_hidden_layers, err) ||
        meta_int(g, "llama.attention.head_count", 1, 1, &c->num_attention_heads, err))
        return -1;
    c->num_key_value_heads = c->num_attention_heads;
    if (meta_int(g, "llama.attention.head_count_kv", 0, 1, &c->num_key_value_heads, err))
        return -1;
    c->head_dim = 0;
    if (meta_int(g, "llama.attention.key_length", 0, 1, &c->head_dim, err)) return -1;
    if (!c->head_dim) {
        if (c->hidden_size % c->num_attention_heads)
            return lr_fail(err, "%s: embedding_length %d is not divisible by head_count %d "
                           "and there is no llama.attention.key_length", g->path,
                           c->hidden_size, c->num_attention_heads);
        c->head_dim = c->hidden_size / c->num_attention_heads;
    }
    c->max_position_embeddings = 2048;
    if (meta_int(g, "llama.context_length", 0, 1, &c->max_position_embeddings, err)) return -1;
    c->rms_norm_eps = 1e-5; /* llama.cpp's default for llama */
    rc = lr_gguf_get_float(g, "llama.attention.layer_norm_rms_epsilon", &v, err);
    if (rc < 0) return -1;
    if (rc == 0) c->rms_norm_eps = shortest_f32(v);
    c->rope_theta = 10000.0;
    rc = lr_gguf_get_float(g, "llama.rope.freq_base", &v, err);
    if (rc < 0) return -1;
    if (rc == 0) c->rope_theta = shortest_f32(v);
    t = lr_gguf_find_tensor(g, "token_embd.weight");
    if (!t) return lr_fail(err, "%s: missing tensor \"token_embd.weight\"", g->path);
    if (t->ne[1] < 1 || t->ne[1] > 0x7fffffff)
        return lr_fail(err, "%s: token_embd.weight has %llu rows", g->path,
                       (unsigned long long)t->ne[1]);
    c->vocab_size = (int)t->ne[1];
    c->tie_word_embeddings = lr_gguf_find_tensor(g, "output.weight") == NULL;
    c->bos_token_id = -1;
    rc = lr_gguf_get_int(g, "tokenizer.ggml.bos_token_id", &id, err);
    if (rc < 0) return -1;
    if (rc == 0 && id >= 0 && id < c->vocab_size) c->bos_token_id = (int)id;
    rc = lr_gguf_get_int(g, "tokenizer.ggml.eos_token_id", &id, err);
    if (rc < 0) return -1;
    if (rc == 0 && id >= 0 && id < c->vocab_size) c->eos_token_ids[c->n_eos++] = (int)id;
    rc = lr_gguf_get_int(g, "tokenizer.ggml.eot_token_id", &id, err);
    if (rc < 0) return -1;
    if (rc == 0 && id >= 0 && id < c->vocab_size && (!c->n_eos || c->eos_token_ids[0] != id))
        c->eos_token_ids[c->n_eos++] = (int)id;
    strcpy(c->torch_dtype, "float32");
    if (lr_config_validate(c, g->path, err)) return -1;
    t = lr_gguf_find_tensor(g, "rope_freqs.weight");
    if (t) {
        float fac[1024];
        lr_float tmp[1024];
        int i, n = c->head_dim / 2, ones = 1;
        if (t->nelem != (uint64_t)n || n > 1024)
            return lr_fail(err, "%s: rope_freqs.weight has %llu elements, head_dim / 2 = %d",
                           g->path, (unsigned long long)t->nelem, n);
        if (lr_gguf_read_tensor(g, t, tmp, err)) return -1;
        for (i = 0; i < n; i++) {
            fac[i] = (float)tmp[i];
            if (fac[i] != 1.0f) ones = 0;
        }
        if (!ones && match_llama3(c, fac, n))
            return lr_fail(err, "%s: rope_freqs.weight is not Llama 3 rope scaling for any "
                           "original context 2^6..2^20, low/high frequency factors 1/2/4/8 "
                           "(other per-frequency scalings are not supported)", g->path);
    }
    return 0;
}

/* Visits every weight with its GGUF name and HF shape (rows, cols). */
typedef int (*gguf_visit)(lr_tensor *t, const char *name, int64_t rows, int64_t cols,
                          int rope_heads, void *ctx);

static int for_each_gguf_weight(lr_model *m, gguf_visit fn, void *ctx)
{
    const lr_config *c = &m->config;
    int64_t H = c->hidden_size, I = c->intermediate_size;
    int64_t Q = (int64_t)c->num_attention_heads * c->head_dim;
    int64_t KV = (int64_t)c->num_key_value_heads * c->head_dim;
    char name[96];
    int l;
    if (fn(&m->embed_tokens, "token_embd.weight", c->vocab_size, H, 0, ctx)) return -1;
    for (l = 0; l < c->num_hidden_layers; l++) {
        lr_layer_weights *w = &m->layers[l];
#define VISIT(field, suffix, rows, cols, heads)                                      \
        sprintf(name, "blk.%d." suffix ".weight", l);                                 \
        if (fn(&w->field, name, rows, cols, heads, ctx)) return -1;
        VISIT(input_layernorm, "attn_norm", H, 0, 0)
        VISIT(q_proj, "attn_q", Q, H, c->num_attention_heads)
        VISIT(k_proj, "attn_k", KV, H, c->num_key_value_heads)
        VISIT(v_proj, "attn_v", KV, H, 0)
        VISIT(o_proj, "attn_output", H, Q, 0)
        VISIT(post_attention_layernorm, "ffn_norm", H, 0, 0)
        VISIT(gate_proj, "ffn_gate", I, H, 0)
        VISIT(up_proj, "ffn_up", I, H, 0)
        VISIT(down_proj, "ffn_down", H, I, 0)
#undef VISIT
    }
    if (fn(&m->norm, "output_norm.weight", H, 0, 0, ctx)) return -1;
    if (!c->tie_word_embeddings && fn(&m->lm_head, "output.weight", c->vocab_size, H, 0, ctx))
        return -1;
    return 0;
}

/* Reorders the rows of each head between the Meta layout (to_hf: GGUF to
 * HF) and back. */
static int permute_heads(lr_float *w, int heads, int d, int64_t cols, int to_hf,
                         lr_error *err)
{
    size_t n = (size_t)d * (size_t)cols;
    lr_float *tmp = lr_alloc(n, sizeof *tmp, "q/k row permutation", err);
    int h, i, half;
    if (!tmp) return -1;
    for (h = 0; h < heads; h++) {
        lr_float *base = w + (size_t)h * n;
        memcpy(tmp, base, n * sizeof *tmp);
        for (half = 0; half < 2; half++)
            for (i = 0; i < d / 2; i++) {
                size_t hf = (size_t)(half * d / 2 + i), meta = (size_t)(2 * i + half);
                size_t dst = to_hf ? hf : meta, src = to_hf ? meta : hf;
                memcpy(base + dst * (size_t)cols, tmp + src * (size_t)cols,
                       (size_t)cols * sizeof *tmp);
            }
    }
    free(tmp);
    return 0;
}

typedef struct gload {
    const lr_gguf *g;
    lr_model *m;
    lr_error *err;
} gload;

static int load_one(lr_tensor *t, const char *name, int64_t rows, int64_t cols,
                    int rope_heads, void *vctx)
{
    gload *ctx = vctx;
    const lr_gguf_tensor *gt = lr_gguf_find_tensor(ctx->g, name);
    int ndim = cols ? 2 : 1;
    if (!gt) return lr_fail(ctx->err, "%s: missing tensor \"%s\"", ctx->g->path, name);
    if (gt->n_dims != ndim || (ndim == 2 && (gt->ne[0] != (uint64_t)cols ||
                                             gt->ne[1] != (uint64_t)rows)) ||
        (ndim == 1 && gt->ne[0] != (uint64_t)rows))
        return lr_fail(ctx->err, "%s: tensor \"%s\" has ne [%llu, %llu] (%d dims), the metadata "
                       "implies [%lld, %lld]", ctx->g->path, name,
                       (unsigned long long)gt->ne[0], (unsigned long long)gt->ne[1],
                       gt->n_dims, (long long)(cols ? cols : rows), (long long)(cols ? rows : 1));
    t->dtype = LR_FLOAT_DTYPE;
    t->ndim = ndim;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->data = lr_alloc((size_t)gt->nelem, sizeof(lr_float), name, ctx->err);
    if (!t->data) return -1;
    t->owned = 1;
    if (lr_gguf_read_tensor(ctx->g, gt, (lr_float *)t->data, ctx->err)) return -1;
    if (rope_heads &&
        permute_heads((lr_float *)t->data, rope_heads, ctx->m->config.head_dim, cols, 1,
                      ctx->err))
        return -1;
    return 0;
}

static int is_named(lr_tensor *t, const char *name, int64_t r, int64_t c, int h, void *ctx)
{
    (void)t; (void)r; (void)c; (void)h;
    return strcmp(name, (const char *)ctx) == 0 ? -1 : 0;
}

static lr_dtype dtype_of_ggml(uint32_t type)
{
    switch (type) {
    case LR_GGML_F16: return LR_F16;
    case LR_GGML_BF16: return LR_BF16;
    default: return LR_F32;
    }
}

int lr_model_load_gguf(const char *path, lr_model **out, lr_error *err)
{
    lr_gguf *g;
    lr_config cfg;
    lr_model *m;
    gload ctx;
    size_t i;
    *out = NULL;
    if (lr_gguf_open(path, &g, err)) return -1;
    if (lr_config_from_gguf(g, &cfg, err)) {
        lr_gguf_free(g);
        return -1;
    }
    /* every layer has 9 tensors: a block_count the file cannot back is
     * refused before the layer table is allocated */
    if ((uint64_t)cfg.num_hidden_layers * 9 + 2 > (uint64_t)g->n_tensors) {
        lr_fail(err, "%s: llama.block_count is %d but the file holds only %lu tensors", path,
                cfg.num_hidden_layers, (unsigned long)g->n_tensors);
        lr_gguf_free(g);
        return -1;
    }
    m = lr_model_alloc(&cfg, path, "gguf", err);
    if (!m) {
        lr_gguf_free(g);
        return -1;
    }
    for (i = 0; i < g->n_tensors; i++) {
        const char *n = g->tensors[i].name;
        if (!strcmp(n, "rope_freqs.weight")) continue;
        if (for_each_gguf_weight(m, is_named, (void *)n) == 0) {
            lr_fail(err, "%s: unexpected tensor \"%s\" (not part of a llama model with this "
                    "metadata)", path, n);
            goto fail;
        }
    }
    ctx.g = g;
    ctx.m = m;
    ctx.err = err;
    if (for_each_gguf_weight(m, load_one, &ctx)) goto fail;
    m->stored_dtype = dtype_of_ggml(lr_gguf_find_tensor(g, "token_embd.weight")->type);
    if (cfg.tie_word_embeddings) {
        m->lm_head = m->embed_tokens;
        m->lm_head.owned = 0;
    }
    lr_gguf_free(g);
    *out = m;
    return 0;
fail:
    lr_gguf_free(g);
    lr_model_free(m);
    return -1;
}

/* ---- saving ---- */

typedef struct gsave {
    lr_gguf_writer *w;
    const lr_model *m;
    uint32_t type;
    lr_error *err;
} gsave;

static int save_one(lr_tensor *t, const char *name, int64_t rows, int64_t cols,
                    int rope_heads, void *vctx)
{
    gsave *ctx = vctx;
    size_t n = (size_t)lr_tensor_nelem(t), i;
    lr_float *v = lr_alloc(n, sizeof *v, name, ctx->err);
    float *f = lr_alloc(n, sizeof *f, name, ctx->err);
    uint64_t ne[2];
    uint32_t type = ctx->type;
    int rc = -1;
    if (!v || !f) goto done;
    for (i = 0; i < n; i++) v[i] = lr_tensor_get(t, i);
    if (rope_heads && permute_heads(v, rope_heads, ctx->m->config.head_dim, cols, 0, ctx->err))
        goto done;
    for (i = 0; i < n; i++) f[i] = (float)v[i];
    ne[0] = (uint64_t)(cols ? cols : rows);
    ne[1] = (uint64_t)rows;
    /* as llama.cpp's converter: norms (1-D) stay F32, and a row that is not
     * whole blocks falls back to F16 */
    if (!cols) type = LR_GGML_F32;
    else if (type == LR_GGML_Q8_0 && ne[0] % 32) type = LR_GGML_F16;
    rc = lr_gguf_writer_tensor(ctx->w, name, type, cols ? 2 : 1, ne, f, ctx->err);
done:
    free(v);
    free(f);
    return rc;
}

int lr_model_save_gguf(const lr_model *m, const lr_tokenizer *tok, const char *path,
                       uint32_t type, lr_error *err)
{
    const lr_config *c = &m->config;
    lr_gguf_writer *w = lr_gguf_writer_new(err);
    gsave ctx;
    int rc = -1;
    if (!w) return -1;
    if (lr_gguf_writer_str(w, "general.architecture", "llama", err) ||
        lr_gguf_writer_u32(w, "general.alignment", 32, err) ||
        lr_gguf_writer_str(w, "general.name", "llamaref export", err) ||
        lr_gguf_writer_u32(w, "general.file_type",
                           type == LR_GGML_F32 ? 0 : type == LR_GGML_F16 ? 1
                           : type == LR_GGML_BF16 ? 32 : 7, err) ||
        lr_gguf_writer_u32(w, "llama.block_count", (uint32_t)c->num_hidden_layers, err) ||
        lr_gguf_writer_u32(w, "llama.context_length", (uint32_t)c->max_position_embeddings,
                           err) ||
        lr_gguf_writer_u32(w, "llama.embedding_length", (uint32_t)c->hidden_size, err) ||
        lr_gguf_writer_u32(w, "llama.feed_forward_length", (uint32_t)c->intermediate_size,
                           err) ||
        lr_gguf_writer_u32(w, "llama.attention.head_count", (uint32_t)c->num_attention_heads,
                           err) ||
        lr_gguf_writer_u32(w, "llama.attention.head_count_kv",
                           (uint32_t)c->num_key_value_heads, err) ||
        lr_gguf_writer_u32(w, "llama.attention.key_length", (uint32_t)c->head_dim, err) ||
        lr_gguf_writer_u32(w, "llama.attention.value_length", (uint32_t)c->head_dim, err) ||
        lr_gguf_writer_u32(w, "llama.rope.dimension_count", (uint32_t)c->head_dim, err) ||
        lr_gguf_writer_f32(w, "llama.rope.freq_base", (float)c->rope_theta, err) ||
        lr_gguf_writer_f32(w, "llama.attention.layer_norm_rms_epsilon", (float)c->rms_norm_eps,
                           err) ||
        lr_gguf_writer_u32(w, "llama.vocab_size", (uint32_t)c->vocab_size, err))
        goto done;
    if (tok && lr_tokenizer_to_gguf(tok, c, w, err)) goto done;
    if (c->rope_type == LR_ROPE_LLAMA3) {
        /* the divisors llama.cpp applies to each inverse frequency */
        float fac[1024];
        uint64_t ne = (uint64_t)(c->head_dim / 2);
        int i;
        if (c->head_dim / 2 > 1024) {
            lr_fail(err, "%s: head_dim %d too large", path, c->head_dim);
            goto done;
        }
        for (i = 0; i < c->head_dim / 2; i++) fac[i] = (float)llama3_divisor(c, i);
        if (lr_gguf_writer_tensor(w, "rope_freqs.weight", LR_GGML_F32, 1, &ne, fac, err))
            goto done;
    }
    ctx.w = w;
    ctx.m = m;
    ctx.type = type;
    ctx.err = err;
    if (for_each_gguf_weight((lr_model *)m, save_one, &ctx)) goto done;
    rc = lr_gguf_writer_save(w, path, err);
done:
    lr_gguf_writer_free(w);
    return rc;
}

int lr_gguf_export_type(const char *name, uint32_t *type)
{
    int t = lr_ggml_type_from_name(name);
    if (t != LR_GGML_F32 && t != LR_GGML_F16 && t != LR_GGML_BF16 && t != LR_GGML_Q8_0)
        return -1;
    *type = (uint32_t)t;
    return 0;
}
