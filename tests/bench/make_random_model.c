/* make_random_model.c - writes a randomly initialised Llama as an HF
 * checkpoint (config.json + safetensors) for the benchmarks, one tensor at
 * a time, so that a model larger than memory can be written:
 *
 *   --shape 100m (default): the ~100M-parameter shape of `llamaref bench`
 *     and `make bench-train` (hidden 768, intermediate 2048, 12 layers,
 *     12 heads / 4 kv heads, vocab 32000, tied embeddings);
 *   --shape llama3.1-8b: Llama-3.1-8B's shapes (hidden 4096, intermediate
 *     14336, 32 layers, 32 heads / 8 kv heads of 128, vocab 128256, untied,
 *     rope theta 500000 with llama3 scaling 8 / 1 / 4 / 8192, eps 1e-5) for
 *     `make bench-8b`.
 *
 * Values are lr_model_init_random's (seed 7 unless --seed), drawn in the
 * same order from the same stream: a matrix with `cols` columns is uniform
 * in (-1, 1) / sqrt(cols), a norm weight 1 +- 0.1.  So the default output
 * (100m, F32, one file) is byte for byte what lr_model_init_random +
 * lr_model_save_hf write, and the same on every machine.  --dtype bf16
 * rounds each float to nearest even (as lr_model_save_hf does).
 * --shard-mb N (N > 0) splits the tensors, in the model's order, into
 * model-0000i-of-0000n.safetensors files of at most N MB each (a larger
 * tensor gets a file of its own) plus model.safetensors.index.json, as
 * transformers does; the memory used is about one file's worth.
 * Not part of the library or of `make test`.
 *
 * usage: make_random_model [--shape 100m|llama3.1-8b] [--dtype f32|bf16]
 *                          [--shard-mb N] [--seed S] DIR   (DIR must exist) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/core/rng.h"
#include "llamaref/formats/config.h"
#include "llamaref/formats/safetensors.h"
#include "llamaref/model/model.h"

typedef struct tdesc {
    char name[96];
    int64_t rows, cols; /* cols 0: a norm weight (1-D) */
    int shard;          /* 0-based file index */
} tdesc;

static void config_llama31_8b(lr_config *c)
{
    memset(c, 0, sizeof *c);
    c->hidden_size = 4096;
    c->intermediate_size = 14336;
    c->num_hidden_layers = 32;
    c->num_attention_heads = 32;
    c->num_key_value_heads = 8;
    c->head_dim = 128;
    c->max_position_embeddings = 131072;
    c->vocab_size = 128256;
    c->rms_norm_eps = 1e-5;
    c->rope_theta = 500000;
    c->rope_type = LR_ROPE_LLAMA3;
    c->rope_factor = 8;
    c->rope_low_freq_factor = 1;
    c->rope_high_freq_factor = 4;
    c->rope_original_max_position_embeddings = 8192;
    c->tie_word_embeddings = 0;
    c->bos_token_id = 128000;
    c->eos_token_ids[0] = 128001;
    c->eos_token_ids[1] = 128008;
    c->eos_token_ids[2] = 128009;
    c->n_eos = 3;
}

static void add(tdesc *t, size_t *n, const char *name, int64_t rows, int64_t cols)
{
    snprintf(t[*n].name, sizeof t[*n].name, "%s", name);
    t[*n].rows = rows;
    t[*n].cols = cols;
    t[*n].shard = 0;
    (*n)++;
}

/* The tensors in the model's order (the order lr_model_init_random draws
 * them in; model.c for_each_weight). */
static size_t list_tensors(const lr_config *c, tdesc *t)
{
    int64_t H = c->hidden_size, I = c->intermediate_size;
    int64_t Q = (int64_t)c->num_attention_heads * c->head_dim;
    int64_t KV = (int64_t)c->num_key_value_heads * c->head_dim;
    size_t n = 0;
    char name[96];
    int l;
    add(t, &n, "model.embed_tokens.weight", c->vocab_size, H);
    for (l = 0; l < c->num_hidden_layers; l++) {
#define L(s, r, k) (sprintf(name, "model.layers.%d.%s.weight", l, s), add(t, &n, name, r, k))
        L("input_layernorm", H, 0);
        L("self_attn.q_proj", Q, H);
        L("self_attn.k_proj", KV, H);
        L("self_attn.v_proj", KV, H);
        L("self_attn.o_proj", H, Q);
        L("post_attention_layernorm", H, 0);
        L("mlp.gate_proj", I, H);
        L("mlp.up_proj", I, H);
        L("mlp.down_proj", H, I);
#undef L
    }
    add(t, &n, "model.norm.weight", H, 0);
    if (!c->tie_word_embeddings) add(t, &n, "lm_head.weight", c->vocab_size, H);
    return n;
}

static size_t tensor_bytes(const tdesc *t, size_t esize)
{
    return (size_t)t->rows * (size_t)(t->cols ? t->cols : 1) * esize;
}

/* Draws one tensor's values (lr_model_init_random's formulas) and encodes
 * them as dtype into out (little-endian). */
static void draw(const tdesc *t, lr_rng *rng, lr_dtype dtype, unsigned char *out)
{
    size_t n = (size_t)t->rows * (size_t)(t->cols ? t->cols : 1), i;
    double scale = t->cols ? 1.0 / sqrt((double)t->cols) : 0;
    for (i = 0; i < n; i++) {
        lr_float v = t->cols ? (lr_float)((2.0 * lr_rng_double(rng) - 1.0) * scale)
                             : (lr_float)(1.0 + 0.2 * lr_rng_double(rng) - 0.1);
        float f = (float)v;
        if (dtype == LR_BF16) {
            lr_put_le16(out + 2 * i, lr_f32_to_bf16(f));
        } else {
            uint32_t b;
            memcpy(&b, &f, 4);
            lr_put_le32(out + 4 * i, b);
        }
    }
}

static int write_index(const char *dir, const tdesc *t, size_t n, int n_shards,
                       size_t total, lr_error *err)
{
    lr_buf b = {0};
    char *p;
    size_t i;
    int rc;
    lr_buf_printf(&b, "{\n  \"metadata\": {\n    \"total_size\": %llu\n  },\n"
                  "  \"weight_map\": {", (unsigned long long)total);
    for (i = 0; i < n; i++)
        lr_buf_printf(&b, "%s\n    \"%s\": \"model-%05d-of-%05d.safetensors\"",
                      i ? "," : "", t[i].name, t[i].shard + 1, n_shards);
    lr_buf_puts(&b, "\n  }\n}\n");
    if (b.oom) {
        lr_buf_free(&b);
        return lr_fail(err, "%s: out of memory writing the index", dir);
    }
    p = lr_path_join(dir, "model.safetensors.index.json", err);
    rc = p ? lr_write_file_atomic(p, b.data, b.len, err) : -1;
    free(p);
    lr_buf_free(&b);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: make_random_model [--shape 100m|llama3.1-8b] [--dtype f32|bf16] "
                    "[--shard-mb N] [--seed S] DIR\n");
    return 2;
}

int main(int argc, char **argv)
{
    lr_config c;
    lr_error err;
    lr_rng rng;
    lr_dtype dtype = LR_F32;
    const char *dir = NULL, *shape = "100m";
    long long shard_mb = 0;
    unsigned long long seed = 7;
    tdesc *t;
    size_t n, i, esize, total = 0, cur = 0;
    int n_shards = 1, a;
    lr_buf json = {0};
    char *p;
    for (a = 1; a < argc; a++) {
        char *end;
        if (!strcmp(argv[a], "--shape") && a + 1 < argc) {
            shape = argv[++a];
        } else if (!strcmp(argv[a], "--dtype") && a + 1 < argc) {
            a++;
            if (!strcmp(argv[a], "f32")) dtype = LR_F32;
            else if (!strcmp(argv[a], "bf16")) dtype = LR_BF16;
            else {
                fprintf(stderr, "make_random_model: --dtype: '%s' is not f32 or bf16\n", argv[a]);
                return 2;
            }
        } else if (!strcmp(argv[a], "--shard-mb") && a + 1 < argc) {
            shard_mb = strtoll(argv[++a], &end, 10);
            if (*end || end == argv[a] || shard_mb < 0) {
                fprintf(stderr, "make_random_model: --shard-mb: '%s' is not a number of MB\n",
                        argv[a]);
                return 2;
            }
        } else if (!strcmp(argv[a], "--seed") && a + 1 < argc) {
            seed = strtoull(argv[++a], &end, 10);
            if (*end || end == argv[a]) {
                fprintf(stderr, "make_random_model: --seed: '%s' is not a number\n", argv[a]);
                return 2;
            }
        } else if (argv[a][0] == '-' || dir) {
            return usage();
        } else {
            dir = argv[a];
        }
    }
    if (!dir) return usage();
    if (!strcmp(shape, "100m")) lr_config_bench_100m(&c);
    else if (!strcmp(shape, "llama3.1-8b")) config_llama31_8b(&c);
    else {
        fprintf(stderr, "make_random_model: --shape: '%s' is not 100m or llama3.1-8b\n", shape);
        return 2;
    }
    if (!lr_path_is_dir(dir)) {
        fprintf(stderr, "make_random_model: %s: not a directory\n", dir);
        return 1;
    }
    if (lr_config_validate(&c, shape, &err)) {
        fprintf(stderr, "make_random_model: %s\n", err.msg);
        return 1;
    }
    esize = lr_dtype_size(dtype);
    t = malloc(((size_t)c.num_hidden_layers * 9 + 3) * sizeof *t);
    if (!t) {
        fprintf(stderr, "make_random_model: out of memory\n");
        return 1;
    }
    n = list_tensors(&c, t);
    /* the plan of files: greedy, in the model's order */
    for (i = 0; i < n; i++) {
        size_t b = tensor_bytes(&t[i], esize);
        if (shard_mb > 0 && cur > 0 && cur + b > (size_t)shard_mb * 1000000) {
            n_shards++;
            cur = 0;
        }
        t[i].shard = n_shards - 1;
        cur += b;
        total += b;
    }
    if (shard_mb == 0) n_shards = 1;
    lr_rng_seed(&rng, lr_seed_of(LR_STREAM_RANDOM_MODEL, seed, 0, 0, 0));
    for (i = 0; i < n;) {
        int s = t[i].shard;
        char fname[64];
        lr_st_writer *w = lr_st_writer_new(&err);
        if (!w) goto fail;
        for (; i < n && t[i].shard == s; i++) {
            size_t b = tensor_bytes(&t[i], esize);
            int64_t sh[2];
            unsigned char *buf = lr_alloc(b, 1, t[i].name, &err);
            int rc;
            if (!buf) { lr_st_writer_free(w); goto fail; }
            draw(&t[i], &rng, dtype, buf);
            sh[0] = t[i].rows;
            sh[1] = t[i].cols;
            rc = lr_st_writer_add_raw(w, t[i].name, dtype, t[i].cols ? 2 : 1, sh, buf, b, &err);
            free(buf);
            if (rc) { lr_st_writer_free(w); goto fail; }
        }
        if (n_shards == 1) snprintf(fname, sizeof fname, "model.safetensors");
        else snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", s + 1, n_shards);
        p = lr_path_join(dir, fname, &err);
        if (!p || lr_st_writer_meta(w, "format", "pt", &err) ||
            lr_st_writer_save(w, p, &err)) {
            free(p);
            lr_st_writer_free(w);
            goto fail;
        }
        free(p);
        lr_st_writer_free(w);
        if (n_shards > 1) {
            fprintf(stderr, "make_random_model: %s/%s\n", dir, fname);
        }
    }
    if (n_shards > 1 && write_index(dir, t, n, n_shards, total, &err)) goto fail;
    strcpy(c.torch_dtype, dtype == LR_BF16 ? "bfloat16" : "float32");
    if (lr_config_to_json(&c, &json)) {
        lr_fail(&err, "%s: out of memory writing config.json", dir);
        goto fail;
    }
    p = lr_path_join(dir, "config.json", &err);
    if (!p || lr_write_file_atomic(p, json.data, json.len, &err)) {
        free(p);
        goto fail;
    }
    free(p);
    lr_buf_free(&json);
    printf("make_random_model: %s: %.1fM parameters (%s, %d file%s, %.2f GB)\n", dir,
           lr_config_param_count(&c) * 1e-6, lr_dtype_name(dtype), n_shards,
           n_shards > 1 ? "s" : "", total * 1e-9);
    free(t);
    return 0;
fail:
    lr_buf_free(&json);
    fprintf(stderr, "make_random_model: %s\n", err.msg);
    free(t);
    return 1;
}
