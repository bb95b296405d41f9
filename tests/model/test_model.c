/* test_model.c - model loading: stories260K (llama2.c v0) with its RoPE row
 * permutation checked against the raw file, a random HF-format model saved
 * by our writer and loaded back bit-identically (F32, BF16, mmap, sharded),
 * the llama2.c v1 format, and broken checkpoints. */
#include "harness.h"
#include "llamaref/model/model.h"

static void write_text(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(s, f);
    fclose(f);
}

static lr_config small_config(void)
{
    lr_config c;
    memset(&c, 0, sizeof c);
    c.hidden_size = 32;
    c.intermediate_size = 48;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 12; /* != hidden/heads */
    c.vocab_size = 40;
    c.max_position_embeddings = 128;
    c.rms_norm_eps = 1e-5;
    c.rope_theta = 500000;
    c.rope_type = LR_ROPE_LLAMA3;
    c.rope_factor = 8;
    c.rope_low_freq_factor = 1;
    c.rope_high_freq_factor = 4;
    c.rope_original_max_position_embeddings = 32;
    c.bos_token_id = 1;
    c.eos_token_ids[0] = 2;
    c.eos_token_ids[1] = 3;
    c.n_eos = 2;
    return c;
}

/* Bit-identical tensors; with as_f32, a's values rounded to float first
 * (b went through a float32 file). */
static int as_f32;

static int same_tensor(const lr_tensor *a, const lr_tensor *b)
{
    uint64_t i, n = lr_tensor_nelem(a);
    if (a->ndim != b->ndim || a->shape[0] != b->shape[0] || a->shape[1] != b->shape[1]) return 0;
    for (i = 0; i < n; i++) {
        lr_float x = lr_tensor_get(a, (size_t)i), y = lr_tensor_get(b, (size_t)i);
        if (as_f32) x = (lr_float)(float)x;
        if (memcmp(&x, &y, sizeof x) != 0) return 0;
    }
    return 1;
}

static int same_weights_f32(const lr_model *a, const lr_model *b, int f32)
{
    int l, ok;
    as_f32 = f32;
    ok = same_tensor(&a->embed_tokens, &b->embed_tokens) &&
                same_tensor(&a->norm, &b->norm) && same_tensor(&a->lm_head, &b->lm_head);
    for (l = 0; l < a->config.num_hidden_layers; l++) {
        const lr_layer_weights *x = &a->layers[l], *y = &b->layers[l];
        ok = ok && same_tensor(&x->input_layernorm, &y->input_layernorm) &&
             same_tensor(&x->q_proj, &y->q_proj) && same_tensor(&x->k_proj, &y->k_proj) &&
             same_tensor(&x->v_proj, &y->v_proj) && same_tensor(&x->o_proj, &y->o_proj) &&
             same_tensor(&x->post_attention_layernorm, &y->post_attention_layernorm) &&
             same_tensor(&x->gate_proj, &y->gate_proj) && same_tensor(&x->up_proj, &y->up_proj) &&
             same_tensor(&x->down_proj, &y->down_proj);
    }
    return ok;
}

static int same_weights(const lr_model *a, const lr_model *b)
{
    return same_weights_f32(a, b, 0);
}

static void test_stories260k(void)
{
    const char *path = h_asset("stories260K/stories260K.bin");
    lr_model *m;
    lr_error err;
    FILE *f;
    float raw[64 * 16];
    unsigned char buf[4 * 64 * 16];
    int i, j, ok = 1;
    if (!path) SKIP("stories260K/stories260K.bin not found under $LLAMAREF_ASSETS (README.md: Getting the assets)");
    if (lr_model_load(path, NULL, &m, &err)) {
        CHECK_OK(-1, &err);
        return;
    }
    CHECK_INT(m->config.hidden_size, 64);
    CHECK_INT(m->config.intermediate_size, 172);
    CHECK_INT(m->config.num_hidden_layers, 5);
    CHECK_INT(m->config.num_attention_heads, 8);
    CHECK_INT(m->config.num_key_value_heads, 4);
    CHECK_INT(m->config.vocab_size, 512);
    CHECK_INT(m->config.max_position_embeddings, 512);
    CHECK_INT(m->config.tie_word_embeddings, 1);
    CHECK(m->lm_head.data == m->embed_tokens.data);
    CHECK_STR(m->format, "llama2c");
    { /* `llamaref info`: KV per token 2 L kv_heads head_dim = 2*5*4*8 values */
        lr_buf b = {0};
        char kv[128];
        snprintf(kv, sizeof kv, "KV cache per token                 %.2f KiB (%.0f bytes)\n",
                 320.0 * sizeof(lr_float) / 1024, 320.0 * sizeof(lr_float));
        CHECK_INT(lr_model_describe(m, "s.bin", &b), 0);
        CHECK(b.data && strstr(b.data, "model                              s.bin (llama2c)\n"));
        CHECK(b.data && strstr(b.data, "\nnum_key_value_heads                4\n"));
        CHECK(b.data && strstr(b.data, "\nrope_scaling                       none\n"));
        CHECK(b.data && strstr(b.data, kv));
        lr_buf_free(&b);
    }
    /* wq of layer 0 starts after the header, embeddings and rms_att: its
     * first head's first 16 Meta rows must land on HF rows 2i -> i and
     * 2i+1 -> i + 4 (head_dim 8) */
    f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) {
        lr_model_free(m);
        return;
    }
    fseek(f, 28 + 4L * (512 * 64 + 5 * 64), SEEK_SET);
    CHECK(fread(buf, 4, 64 * 8, f) == 64 * 8);
    fclose(f);
    for (i = 0; i < 64 * 8; i++) raw[i] = lr_f32_from_bits(lr_le32(buf + 4 * i));
    for (i = 0; i < 4; i++)
        for (j = 0; j < 64; j++) {
            if (lr_tensor_get(&m->layers[0].q_proj, (size_t)(i * 64 + j)) != raw[(2 * i) * 64 + j]) ok = 0;
            if (lr_tensor_get(&m->layers[0].q_proj, (size_t)((i + 4) * 64 + j)) !=
                raw[(2 * i + 1) * 64 + j])
                ok = 0;
        }
    CHECK(ok);
    lr_model_free(m);
}

static void test_random_round_trip(void)
{
    lr_config c = small_config();
    lr_model *m, *back;
    lr_error err;
    const char *dir = h_tmp("model_rt");
    lr_load_options mm = {1, 0}, keep = {0, 1};
    lr_make_dirs(dir);
    CHECK_OK(lr_model_init_random(&c, 42, &m, &err), &err);
    if (!m) return;
    CHECK_OK(lr_model_save_hf(m, dir, LR_FLOAT_DTYPE, &err), &err);
    CHECK_OK(lr_model_load(dir, NULL, &back, &err), &err);
    if (back) {
        CHECK(memcmp(&back->config.hidden_size, &m->config.hidden_size,
                     offsetof(lr_config, torch_dtype)) == 0);
        CHECK(same_weights(m, back));
        CHECK(m->lm_head.data != m->embed_tokens.data); /* untied */
        lr_model_free(back);
    }
    CHECK_OK(lr_model_load(dir, &mm, &back, &err), &err); /* mmap path */
    if (back) {
        CHECK(same_weights(m, back));
        lr_model_free(back);
    }
    /* BF16 storage: loaded values are the BF16 roundings, bits kept with
     * keep_dtype, and a BF16 re-save is byte-identical */
    CHECK_OK(lr_model_save_hf(m, dir, LR_BF16, &err), &err);
    CHECK_OK(lr_model_load(dir, &keep, &back, &err), &err);
    if (back) {
        size_t i, n = (size_t)lr_tensor_nelem(&m->layers[1].down_proj);
        int ok = back->layers[1].down_proj.dtype == LR_BF16 && back->stored_dtype == LR_BF16;
        for (i = 0; i < n; i++)
            if (lr_tensor_get(&back->layers[1].down_proj, i) !=
                (lr_float)lr_bf16_to_f32(lr_f32_to_bf16((float)lr_tensor_get(&m->layers[1].down_proj, i))))
                ok = 0;
        CHECK(ok);
        {
            char a[4200], *da, *db;
            size_t la, lb;
            lr_model *again;
            sprintf(a, "%s/model.safetensors", dir);
            CHECK_OK(lr_read_file(a, &da, &la, &err), &err);
            CHECK_OK(lr_model_save_hf(back, dir, LR_BF16, &err), &err);
            CHECK_OK(lr_read_file(a, &db, &lb, &err), &err);
            CHECK(la == lb && memcmp(da, db, la) == 0);
            free(da);
            free(db);
            CHECK_OK(lr_model_load(dir, NULL, &again, &err), &err); /* BF16 -> lr_float */
            if (again) {
                CHECK(again->layers[0].q_proj.dtype == LR_FLOAT_DTYPE);
                CHECK(same_weights(again, back));
                lr_model_free(again);
            }
        }
        lr_model_free(back);
    }
    lr_model_free(m);
}

static void test_tied_and_sharded(void)
{
    lr_config c = small_config();
    lr_model *m, *back;
    lr_error err;
    char dir[4096], p[4300];
    c.tie_word_embeddings = 1;
    c.num_key_value_heads = 1; /* MQA */
    strcpy(dir, h_tmp("model_tied"));
    lr_make_dirs(dir);
    CHECK_OK(lr_model_init_random(&c, 7, &m, &err), &err);
    if (!m) return;
    CHECK(m->lm_head.data == m->embed_tokens.data);
    CHECK_OK(lr_model_save_hf(m, dir, LR_FLOAT_DTYPE, &err), &err);
    /* split the single file into an index + the same file under a shard name */
    sprintf(p, "%s/model.safetensors", dir);
    {
        char q[4300];
        sprintf(q, "%s/model-00001-of-00001.safetensors", dir);
        CHECK(rename(p, q) == 0);
    }
    {
        lr_buf idx = {0};
        int l;
        const char *names[] = {"input_layernorm", "self_attn.q_proj", "self_attn.k_proj",
                               "self_attn.v_proj", "self_attn.o_proj", "post_attention_layernorm",
                               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
        size_t k;
        lr_buf_puts(&idx, "{\"metadata\": {}, \"weight_map\": {\"model.embed_tokens.weight\": "
                          "\"model-00001-of-00001.safetensors\", \"model.norm.weight\": "
                          "\"model-00001-of-00001.safetensors\"");
        for (l = 0; l < c.num_hidden_layers; l++)
            for (k = 0; k < 9; k++)
                lr_buf_printf(&idx, ", \"model.layers.%d.%s.weight\": "
                                    "\"model-00001-of-00001.safetensors\"", l, names[k]);
        lr_buf_puts(&idx, "}}");
        sprintf(p, "%s/model.safetensors.index.json", dir);
        write_text(p, idx.data);
        lr_buf_free(&idx);
    }
    CHECK_OK(lr_model_load(dir, NULL, &back, &err), &err);
    if (back) {
        CHECK(back->config.tie_word_embeddings == 1);
        CHECK(back->lm_head.data == back->embed_tokens.data);
        CHECK(same_weights(m, back));
        lr_model_free(back);
    }
    lr_model_free(m);
}

static void test_broken_checkpoints(void)
{
    lr_config c = small_config();
    lr_model *m, *back = NULL;
    lr_error err;
    char dir[4096], p[4300];
    lr_buf cfg = {0};
    strcpy(dir, h_tmp("model_bad"));
    lr_make_dirs(dir);
    CHECK_OK(lr_model_init_random(&c, 3, &m, &err), &err);
    if (!m) return;
    CHECK_OK(lr_model_save_hf(m, dir, LR_F32, &err), &err);
    sprintf(p, "%s/config.json", dir);
    /* config says 3 layers: layer 2 is missing */
    c.num_hidden_layers = 3;
    lr_config_to_json(&c, &cfg);
    write_text(p, cfg.data);
    CHECK_ERR(lr_model_load(dir, NULL, &back, &err), &err,
              "missing tensor 'model.layers.2.input_layernorm.weight'");
    /* config says 1 layer: layer 1 is unexpected */
    c.num_hidden_layers = 1;
    cfg.len = 0;
    lr_config_to_json(&c, &cfg);
    write_text(p, cfg.data);
    CHECK_ERR(lr_model_load(dir, NULL, &back, &err), &err, "unexpected tensor 'model.layers.1.");
    /* wider intermediate size: shapes disagree */
    c.num_hidden_layers = 2;
    c.intermediate_size = 50;
    cfg.len = 0;
    lr_config_to_json(&c, &cfg);
    write_text(p, cfg.data);
    CHECK_ERR(lr_model_load(dir, NULL, &back, &err), &err,
              "'model.layers.0.mlp.gate_proj.weight' has shape [48, 32], config.json implies [50, 32]");
    /* a rope type llamaref does not implement */
    write_text(p, "{\"hidden_size\": 32, \"intermediate_size\": 48, \"num_hidden_layers\": 2,"
                  " \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"head_dim\": 12,"
                  " \"vocab_size\": 40, \"rope_scaling\": {\"rope_type\": \"yarn\"}}");
    CHECK_ERR(lr_model_load(dir, NULL, &back, &err), &err, "unsupported rope_scaling type \"yarn\"");
    CHECK_ERR(lr_model_load(h_tmp("no-such-dir.bin"), NULL, &back, &err), &err, "cannot open");
    CHECK(back == NULL);
    lr_buf_free(&cfg);
    lr_model_free(m);
}

/* Writes a model in llama2.c format: v0 (legacy) or v1 ("ak42"), with
 * q/k rows permuted back to Meta's interleaved layout. */
static void put_tensor(FILE *f, const lr_tensor *t, int interleave_heads, int head_dim)
{
    size_t rows = (size_t)t->shape[0], cols = t->ndim == 2 ? (size_t)t->shape[1] : 1, r, k;
    for (r = 0; r < rows; r++) {
        size_t src = r;
        if (interleave_heads) { /* Meta row h*d + 2i (+1) comes from HF i (+ d/2) */
            size_t h = r / (size_t)head_dim, w = r % (size_t)head_dim;
            src = h * (size_t)head_dim + (w % 2 ? (size_t)head_dim / 2 : 0) + w / 2;
        }
        for (k = 0; k < cols; k++) {
            unsigned char b[4];
            lr_put_le32(b, lr_f32_to_bits((float)lr_tensor_get(t, src * cols + k)));
            fwrite(b, 1, 4, f);
        }
    }
}

static void test_llama2c_v1_and_truncation(void)
{
    lr_config c = small_config();
    lr_model *m, *back;
    lr_error err;
    const char *p = h_tmp("v1.bin");
    FILE *f;
    unsigned char hdr[256];
    int l, i, vals[7];
    c.head_dim = 8; /* llama2.c has head_dim = dim / heads */
    c.rope_type = LR_ROPE_DEFAULT;
    c.rope_theta = 10000;
    c.rms_norm_eps = 1e-5;
    CHECK_OK(lr_model_init_random(&c, 11, &m, &err), &err);
    if (!m) return;
    f = fopen(p, "wb");
    if (!f) return;
    memset(hdr, 0, sizeof hdr);
    lr_put_le32(hdr, 0x616b3432u);
    lr_put_le32(hdr + 4, 1);
    vals[0] = 32; vals[1] = 48; vals[2] = 2; vals[3] = 4; vals[4] = 2; vals[5] = 40; vals[6] = 128;
    for (i = 0; i < 7; i++) lr_put_le32(hdr + 8 + 4 * i, (uint32_t)vals[i]);
    hdr[36] = 0; /* separate classifier */
    fwrite(hdr, 1, 256, f);
    for (l = 0; l < 2; l++) put_tensor(f, &m->layers[l].input_layernorm, 0, 0);
    for (l = 0; l < 2; l++) put_tensor(f, &m->layers[l].post_attention_layernorm, 0, 0);
    put_tensor(f, &m->norm, 0, 0);
    put_tensor(f, &m->embed_tokens, 0, 0);
    for (l = 0; l < 2; l++) put_tensor(f, &m->layers[l].q_proj, 1, 8);
    for (l = 0; l < 2; l++) put_tensor(f, &m->layers[l].k_proj, 1, 8);
    for (l = 0; l < 2; l++) put_tensor(f, &m->layers[l].v_proj, 0, 0);
    for (l = 0; l < 2; l++) put_tensor(f, &m->layers[l].o_proj, 0, 0);
    for (l = 0; l < 2; l++) put_tensor(f, &m->layers[l].gate_proj, 0, 0);
    for (l = 0; l < 2; l++) put_tensor(f, &m->layers[l].down_proj, 0, 0);
    for (l = 0; l < 2; l++) put_tensor(f, &m->layers[l].up_proj, 0, 0);
    put_tensor(f, &m->lm_head, 0, 0);
    fclose(f);
    CHECK_OK(lr_model_load(p, NULL, &back, &err), &err);
    if (back) {
        CHECK(same_weights_f32(m, back, 1)); /* includes the inverse RoPE permutation */
        CHECK_INT(back->config.tie_word_embeddings, 0);
        lr_model_free(back);
    }
    /* truncate by one float: the size check names both sizes */
    {
        char *data;
        size_t len;
        lr_read_file(p, &data, &len, &err);
        f = fopen(p, "wb");
        fwrite(data, 1, len - 4, f);
        fclose(f);
        free(data);
    }
    CHECK_ERR(lr_model_load(p, NULL, &back, &err), &err, "implies");
    /* a garbage header */
    f = fopen(p, "wb");
    memset(hdr, 0xff, 28);
    fwrite(hdr, 1, 28, f);
    fclose(f);
    CHECK_ERR(lr_model_load(p, NULL, &back, &err), &err, "implausible llama2.c header");
    lr_model_free(m);
}

int main(void)
{
    RUN(test_stories260k);
    RUN(test_random_round_trip);
    RUN(test_tied_and_sharded);
    RUN(test_broken_checkpoints);
    RUN(test_llama2c_v1_and_truncation);
    return h_finish("model");
}
