/* llama2c.c - loads llama2.c checkpoints (Karpathy's run.c format) into the
 * same lr_model as Hugging Face checkpoints.
 *
 * Legacy v0: 7 little-endian int32 (dim, hidden_dim, n_layers, n_heads,
 *   n_kv_heads, vocab_size, seq_len; negative vocab_size = separate
 *   classifier), then float32 tensors: token_embedding [V,D], rms_att [L,D],
 *   wq [L,D,D], wk [L,KV,D], wv [L,KV,D], wo [L,D,D], rms_ffn [L,D],
 *   w1 [L,F,D], w2 [L,D,F], w3 [L,F,D], rms_final [D], freq_cis_real and
 *   freq_cis_imag [seq_len, head_size/2] (unused), wcls [V,D] if unshared.
 * v1 ("ak42"): uint32 magic 0x616b3432, int32 version 1, the 7 ints, a
 *   shared-classifier byte, zero padding to 256 bytes, then float32: rms_att
 *   [L,D], rms_ffn [L,D], rms_final [D], token_embedding, wq, wk, wv, wo,
 *   w1, w2, w3, and wcls [V,D] if unshared.
 * w1 = gate_proj, w2 = down_proj, w3 = up_proj.  wq/wk rows are in Meta's
 * interleaved RoPE layout and are permuted to HF's rotate_half layout (see
 * model.h).  run.c's constants: rms eps 1e-5, rope theta 10000, BOS 1, EOS 2.
 */
#if !defined(_WIN32)
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/model/model.h"

typedef struct reader {
    FILE *f;
    const char *path;
    uint64_t pos;
} reader;

/* Reads n little-endian float32 values into a new lr_float tensor. */
static int read_tensor(reader *r, lr_tensor *t, int64_t rows, int64_t cols,
                       const char *what, lr_error *err)
{
    size_t n = (size_t)rows * (size_t)(cols ? cols : 1), done = 0;
    unsigned char buf[4096];
    lr_float *d = lr_alloc(n, sizeof *d, what, err);
    if (!d) return -1;
    while (done < n) {
        size_t k = n - done < sizeof buf / 4 ? n - done : sizeof buf / 4, i;
        if (fread(buf, 4, k, r->f) != k) {
            free(d);
            return lr_fail(err, "%s: truncated while reading %s at byte offset %llu",
                           r->path, what, (unsigned long long)r->pos);
        }
        for (i = 0; i < k; i++) d[done + i] = (lr_float)lr_f32_from_bits(lr_le32(buf + 4 * i));
        done += k;
        r->pos += 4 * (uint64_t)k;
    }
    t->dtype = LR_FLOAT_DTYPE;
    t->ndim = cols ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->data = d;
    t->owned = 1;
    return 0;
}

static int skip_floats(reader *r, uint64_t n, const char *what, lr_error *err)
{
    if (fseeko(r->f, (off_t)(n * 4), SEEK_CUR) != 0)
        return lr_fail(err, "%s: cannot skip %s", r->path, what);
    r->pos += n * 4;
    return 0;
}

/* Per-layer tensors of one kind, stored back to back for all layers. */
static int read_layers(reader *r, lr_model *m, size_t offset, int64_t rows,
                       int64_t cols, const char *what, lr_error *err)
{
    int l;
    for (l = 0; l < m->config.num_hidden_layers; l++) {
        lr_tensor *t = (lr_tensor *)((char *)&m->layers[l] + offset);
        char name[96];
        sprintf(name, "%s (layer %d)", what, l);
        if (read_tensor(r, t, rows, cols, name, err)) return -1;
    }
    return 0;
}

/* Meta interleaved (2i, 2i+1) -> HF rotate_half (i, i + d/2), per head. */
static int permute_rope_rows(lr_tensor *t, int n_heads, int head_dim, lr_error *err)
{
    size_t cols = (size_t)t->shape[1], half = (size_t)head_dim / 2, h, i;
    lr_float *src = t->data;
    lr_float *dst = lr_alloc((size_t)t->shape[0] * cols, sizeof *dst, "rope permutation", err);
    if (!dst) return -1;
    for (h = 0; h < (size_t)n_heads; h++)
        for (i = 0; i < half; i++) {
            size_t base = h * (size_t)head_dim;
            memcpy(dst + (base + i) * cols, src + (base + 2 * i) * cols, cols * sizeof *dst);
            memcpy(dst + (base + half + i) * cols, src + (base + 2 * i + 1) * cols,
                   cols * sizeof *dst);
        }
    free(src);
    t->data = dst;
    return 0;
}

#define LAYER_OFF(field) offsetof(lr_layer_weights, field)

int lr_model_load_llama2c(const char *path, lr_model **out, lr_error *err)
{
    reader r;
    unsigned char hdr[256];
    int32_t h[7];
    int version = 0, shared, i;
    lr_config c;
    lr_model *m = NULL;
    uint64_t expect, fsize, D, F, V, L, KV;
    *out = NULL;
    r.f = fopen(path, "rb");
    r.path = path;
    r.pos = 0;
    if (!r.f) return lr_fail(err, "%s: cannot open: %s", path, strerror(errno));
    fseeko(r.f, 0, SEEK_END);
    fsize = (uint64_t)ftello(r.f);
    fseeko(r.f, 0, SEEK_SET);
    if (fsize < 28 || fread(hdr, 1, 28, r.f) != 28) {
        fclose(r.f);
        return lr_fail(err, "%s: too short for a llama2.c header", path);
    }
    if (lr_le32(hdr) == 0x616b3432u) {
        if (fsize < 256 || fread(hdr + 28, 1, 228, r.f) != 228) {
            fclose(r.f);
            return lr_fail(err, "%s: truncated llama2.c v1 header", path);
        }
        version = (int)lr_le32(hdr + 4);
        if (version != 1) {
            fclose(r.f);
            return lr_fail(err, "%s: llama2.c checkpoint version %d is not supported "
                           "(only legacy v0 and float32 v1)", path, version);
        }
        for (i = 0; i < 7; i++) h[i] = (int32_t)lr_le32(hdr + 8 + 4 * i);
        shared = hdr[36];
        r.pos = 256;
    } else {
        for (i = 0; i < 7; i++) h[i] = (int32_t)lr_le32(hdr + 4 * i);
        shared = h[5] > 0;
        /* INT32_MIN has no positive counterpart: left negative, refused below */
        if (h[5] < 0 && h[5] != INT32_MIN) h[5] = -h[5];
        r.pos = 28;
    }
    memset(&c, 0, sizeof c);
    c.hidden_size = h[0];
    c.intermediate_size = h[1];
    c.num_hidden_layers = h[2];
    c.num_attention_heads = h[3];
    c.num_key_value_heads = h[4];
    c.vocab_size = h[5];
    c.max_position_embeddings = h[6];
    if (h[0] <= 0 || h[1] <= 0 || h[2] <= 0 || h[3] <= 0 || h[4] <= 0 || h[5] <= 0 ||
        h[6] <= 0 || h[0] % h[3] || h[0] > 65536 || h[1] > 1048576 || h[2] > 4096 ||
        h[6] > (1 << 24)) {
        fclose(r.f);
        return lr_fail(err, "%s: implausible llama2.c header (dim %d, hidden_dim %d, "
                       "n_layers %d, n_heads %d, n_kv_heads %d, vocab %d, seq_len %d)",
                       path, h[0], h[1], h[2], h[3], h[4], h[5], h[6]);
    }
    c.head_dim = h[0] / h[3];
    c.rms_norm_eps = 1e-5;
    c.rope_theta = 10000.0;
    c.rope_type = LR_ROPE_DEFAULT;
    c.tie_word_embeddings = shared != 0;
    c.bos_token_id = 1;
    c.eos_token_ids[0] = 2;
    c.n_eos = 1;
    strcpy(c.torch_dtype, "float32");
    if (lr_config_validate(&c, path, err)) {
        fclose(r.f);
        return -1;
    }
    D = (uint64_t)c.hidden_size;
    F = (uint64_t)c.intermediate_size;
    V = (uint64_t)c.vocab_size;
    L = (uint64_t)c.num_hidden_layers;
    KV = (uint64_t)c.num_key_value_heads * (uint64_t)c.head_dim;
    expect = V * D + L * (2 * D + 2 * D * D + 2 * KV * D + 3 * D * F) + D +
             (shared ? 0 : V * D);
    if (version == 0) expect += (uint64_t)c.max_position_embeddings * (uint64_t)c.head_dim;
    expect = expect * 4 + r.pos;
    if (fsize != expect) {
        fclose(r.f);
        return lr_fail(err, "%s: file is %llu bytes but the header (dim %d, %d layers, "
                       "vocab %d%s) implies %llu bytes", path, (unsigned long long)fsize,
                       c.hidden_size, c.num_hidden_layers, c.vocab_size,
                       shared ? ", shared classifier" : "", (unsigned long long)expect);
    }
    m = lr_model_alloc(&c, path, "llama2c", err);
    if (!m) goto fail;
    m->stored_dtype = LR_F32;
    {
        int64_t d = (int64_t)D, f = (int64_t)F, v = (int64_t)V, kv = (int64_t)KV;
        if (version == 0) {
            if (read_tensor(&r, &m->embed_tokens, v, d, "token_embedding_table", err) ||
                read_layers(&r, m, LAYER_OFF(input_layernorm), d, 0, "rms_att_weight", err) ||
                read_layers(&r, m, LAYER_OFF(q_proj), d, d, "wq", err) ||
                read_layers(&r, m, LAYER_OFF(k_proj), kv, d, "wk", err) ||
                read_layers(&r, m, LAYER_OFF(v_proj), kv, d, "wv", err) ||
                read_layers(&r, m, LAYER_OFF(o_proj), d, d, "wo", err) ||
                read_layers(&r, m, LAYER_OFF(post_attention_layernorm), d, 0,
                            "rms_ffn_weight", err) ||
                read_layers(&r, m, LAYER_OFF(gate_proj), f, d, "w1", err) ||
                read_layers(&r, m, LAYER_OFF(down_proj), d, f, "w2", err) ||
                read_layers(&r, m, LAYER_OFF(up_proj), f, d, "w3", err) ||
                read_tensor(&r, &m->norm, d, 0, "rms_final_weight", err) ||
                skip_floats(&r, (uint64_t)c.max_position_embeddings * (uint64_t)c.head_dim,
                            "freq_cis tables", err))
                goto fail;
        } else {
            if (read_layers(&r, m, LAYER_OFF(input_layernorm), d, 0, "attention_norm", err) ||
                read_layers(&r, m, LAYER_OFF(post_attention_layernorm), d, 0, "ffn_norm",
                            err) ||
                read_tensor(&r, &m->norm, d, 0, "norm", err) ||
                read_tensor(&r, &m->embed_tokens, v, d, "tok_embeddings", err) ||
                read_layers(&r, m, LAYER_OFF(q_proj), d, d, "wq", err) ||
                read_layers(&r, m, LAYER_OFF(k_proj), kv, d, "wk", err) ||
                read_layers(&r, m, LAYER_OFF(v_proj), kv, d, "wv", err) ||
                read_layers(&r, m, LAYER_OFF(o_proj), d, d, "wo", err) ||
                read_layers(&r, m, LAYER_OFF(gate_proj), f, d, "w1", err) ||
                read_layers(&r, m, LAYER_OFF(down_proj), d, f, "w2", err) ||
                read_layers(&r, m, LAYER_OFF(up_proj), f, d, "w3", err))
                goto fail;
        }
        if (shared) {
            m->lm_head = m->embed_tokens;
            m->lm_head.owned = 0;
        } else if (read_tensor(&r, &m->lm_head, v, d, "wcls", err)) {
            goto fail;
        }
    }
    for (i = 0; i < c.num_hidden_layers; i++)
        if (permute_rope_rows(&m->layers[i].q_proj, c.num_attention_heads, c.head_dim, err) ||
            permute_rope_rows(&m->layers[i].k_proj, c.num_key_value_heads, c.head_dim, err))
            goto fail;
    fclose(r.f);
    *out = m;
    return 0;
fail:
    fclose(r.f);
    lr_model_free(m);
    return -1;
}
