/* test_gguf.c - the GGUF reader, writer, model and tokenizer loaders.
 *
 *  - vectors/gguf/<case>.gguf, written by gguf-py's GGUFWriter from the
 *    golden HF models (vectors/gen/gen_gguf.py), load to the very weights
 *    of the HF checkpoint (q/k rows back in HF layout, llama3 rope scaling
 *    recovered from rope_freqs) and reproduce the golden logits; the same
 *    file written big-endian and a version-2 header load identically;
 *  - llamaref's export of those models holds gguf-py's tensor bytes and
 *    reads back bit for bit;
 *  - vectors/gguf/world_tokenizer.gguf (gguf-py, merges derived from the
 *    ranks as transformers does) encodes like data/world/tokenizer.model,
 *    and Llama 3's tokenizer.model exported by llamaref encodes like the
 *    original (asset; skipped when absent); Llama 2's SentencePiece
 *    vocabulary as gguf-py writes it (the bytes checked against
 *    vectors/gguf/llama2_spm.json) encodes the corpus as sentencepiece;
 *  - hostile input: every truncation, huge counts and lengths, unknown
 *    types, offsets out of range / misaligned / overlapping, bad alignment,
 *    each refused with an error naming the field. */
#include "harness.h"
#include "vectors.h"

#include "llamaref/tokenizer/chat_template.h"
#include "llamaref/train/dataset.h"
#include "llamaref/model/forward.h"
#include "llamaref/formats/gguf.h"
#include "llamaref/model/model.h"
#include "llamaref/formats/quant.h"
#include "llamaref/tokenizer/tokenizer.h"

#ifdef LR_DOUBLE
#define REL_TOL 1e-9
#else
#define REL_TOL 5e-6
#endif

static int tensors_equal(const lr_tensor *a, const lr_tensor *b)
{
    size_t n = (size_t)lr_tensor_nelem(a), i;
    if (n != lr_tensor_nelem(b)) return 0;
    for (i = 0; i < n; i++)
        if (lr_tensor_get(a, i) != lr_tensor_get(b, i)) return 0;
    return 1;
}

static void same_model(const lr_model *h, const lr_model *g)
{
    const lr_config *a = &h->config, *b = &g->config;
    int l;
    CHECK_INT(a->hidden_size, b->hidden_size);
    CHECK_INT(a->intermediate_size, b->intermediate_size);
    CHECK_INT(a->num_hidden_layers, b->num_hidden_layers);
    CHECK_INT(a->num_attention_heads, b->num_attention_heads);
    CHECK_INT(a->num_key_value_heads, b->num_key_value_heads);
    CHECK_INT(a->head_dim, b->head_dim);
    CHECK_INT(a->vocab_size, b->vocab_size);
    CHECK_INT(a->max_position_embeddings, b->max_position_embeddings);
    CHECK_INT(a->tie_word_embeddings, b->tie_word_embeddings);
    CHECK(a->rms_norm_eps == b->rms_norm_eps);
    CHECK(a->rope_theta == b->rope_theta);
    CHECK_INT(a->rope_type, b->rope_type);
    if (a->rope_type == LR_ROPE_LLAMA3) {
        CHECK(a->rope_factor == b->rope_factor);
        CHECK(a->rope_low_freq_factor == b->rope_low_freq_factor);
        CHECK(a->rope_high_freq_factor == b->rope_high_freq_factor);
        CHECK_INT(a->rope_original_max_position_embeddings,
                  b->rope_original_max_position_embeddings);
    }
    CHECK(tensors_equal(&h->embed_tokens, &g->embed_tokens));
    CHECK(tensors_equal(&h->norm, &g->norm));
    CHECK(tensors_equal(&h->lm_head, &g->lm_head));
    for (l = 0; l < a->num_hidden_layers; l++) {
        const lr_layer_weights *x = &h->layers[l], *y = &g->layers[l];
        CHECK(tensors_equal(&x->input_layernorm, &y->input_layernorm));
        CHECK(tensors_equal(&x->q_proj, &y->q_proj));
        CHECK(tensors_equal(&x->k_proj, &y->k_proj));
        CHECK(tensors_equal(&x->v_proj, &y->v_proj));
        CHECK(tensors_equal(&x->o_proj, &y->o_proj));
        CHECK(tensors_equal(&x->post_attention_layernorm, &y->post_attention_layernorm));
        CHECK(tensors_equal(&x->gate_proj, &y->gate_proj));
        CHECK(tensors_equal(&x->up_proj, &y->up_proj));
        CHECK(tensors_equal(&x->down_proj, &y->down_proj));
    }
}

/* Logits of the GGUF model on the golden inputs, against the golden ones. */
static void golden_logits(const lr_model *m, const char *forward_case)
{
    char path[256];
    lr_st_file *f = NULL;
    lr_error err;
    lr_acts a;
    int64_t *raw = NULL;
    int *ids = NULL, *pos = NULL;
    unsigned char *mask = NULL;
    double *want = NULL;
    size_t n = 0, nw = 0, i;
    int B, T;
    memset(&a, 0, sizeof a);
    snprintf(path, sizeof path, "vectors/forward/%s/expected.safetensors", forward_case);
    CHECK_OK(lr_st_open(path, 0, &f, &err), &err);
    if (!f) return;
    {
        const lr_st_tensor *t = lr_st_find(f, "input_ids");
        const lr_st_tensor *tm = lr_st_find(f, "attention_mask");
        const lr_st_tensor *tp = lr_st_find(f, "position_ids");
        CHECK(t && tm && tp);
        if (!t || !tm || !tp) goto done;
        n = (size_t)t->nelem;
        B = t->ndim > 1 ? (int)t->shape[0] : 1;
        T = (int)t->shape[t->ndim - 1];
        raw = malloc(sizeof *raw * n);
        ids = malloc(sizeof *ids * n);
        pos = malloc(sizeof *pos * n);
        mask = malloc(n);
        CHECK_OK(lr_st_read_i64(f, t, raw, &err), &err);
        for (i = 0; i < n; i++) ids[i] = (int)raw[i];
        CHECK_OK(lr_st_read_i64(f, tp, raw, &err), &err);
        for (i = 0; i < n; i++) pos[i] = (int)raw[i];
        CHECK_OK(lr_st_read_i64(f, tm, raw, &err), &err);
        for (i = 0; i < n; i++) mask[i] = (unsigned char)(raw[i] != 0);
    }
    want = vec_read_f64(f, "logits", &nw);
    CHECK(want != NULL);
    if (!want) goto done;
    CHECK_OK(lr_acts_alloc(&a, &m->config, B, T, 0, &err), &err);
    CHECK_OK(lr_forward(m, &a, ids, pos, mask, B, T, &err), &err);
    {
        double mx = 0, md = 0;
        for (i = 0; i < nw; i++) {
            double d = fabs((double)a.logits[i] - want[i]);
            if (isinf(want[i])) continue;
            if (!(d <= md)) md = d;
            if (fabs(want[i]) > mx) mx = fabs(want[i]);
        }
        if (!(md / mx <= REL_TOL))
            fprintf(stderr, "  %s: logits rel err %.3g\n", forward_case, md / mx);
        CHECK(md / mx <= REL_TOL);
    }
done:
    lr_acts_free(&a);
    free(raw);
    free(ids);
    free(pos);
    free(mask);
    free(want);
    lr_st_close(f);
}

static void check_model(const char *file, const char *forward_case)
{
    char gpath[256], hpath[256];
    lr_model *g = NULL, *h = NULL;
    lr_error err;
    snprintf(gpath, sizeof gpath, "vectors/gguf/%s", file);
    snprintf(hpath, sizeof hpath, "vectors/forward/%s", forward_case);
    CHECK_OK(lr_model_load(gpath, NULL, &g, &err), &err);
    CHECK_OK(lr_model_load_hf(hpath, NULL, &h, &err), &err);
    if (g && h) {
        CHECK_STR(g->format, "gguf");
        same_model(h, g);
        golden_logits(g, forward_case);
    }
    lr_model_free(g);
    lr_model_free(h);
}

static void test_gqa_tied(void) { check_model("gqa_tied.gguf", "gqa_tied"); }
static void test_llama3_rope_freqs(void) { check_model("llama3_rope.gguf", "llama3_rope"); }
static void test_mqa_head_dim(void) { check_model("mqa_headdim.gguf", "mqa_headdim"); }
static void test_bf16_tensors(void) { check_model("bf16_far.gguf", "bf16_far"); }
static void test_big_endian_file(void)
{
    lr_gguf *g = NULL;
    lr_error err;
    CHECK_OK(lr_gguf_open("vectors/gguf/gqa_tied.be.gguf", &g, &err), &err);
    if (g) CHECK(g->big_endian && g->version == 3);
    lr_gguf_free(g);
    check_model("gqa_tied.be.gguf", "gqa_tied");
}

/* ---- files in memory ---- */

static unsigned char *slurp(const char *path, size_t *n)
{
    char *d = NULL;
    lr_error err;
    if (lr_read_file(path, &d, n, &err)) return NULL;
    return (unsigned char *)d;
}

static int spill(const char *path, const unsigned char *d, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    if (n) fwrite(d, 1, n, f);
    return fclose(f);
}

static void test_version_2(void)
{
    size_t n;
    unsigned char *d = slurp("vectors/gguf/gqa_tied.gguf", &n);
    const char *p = h_tmp("gguf_v2.gguf");
    lr_model *m = NULL;
    lr_error err;
    CHECK(d != NULL);
    if (!d) return;
    CHECK_INT(lr_le32(d + 4), 3);
    lr_put_le32(d + 4, 2); /* version 2 is version 3 without big-endian files */
    CHECK(spill(p, d, n) == 0);
    CHECK_OK(lr_model_load(p, NULL, &m, &err), &err);
    lr_model_free(m);
    lr_put_le32(d + 4, 1);
    spill(p, d, n);
    CHECK_ERR(lr_model_load(p, NULL, &m, &err), &err, "version 1");
    lr_put_le32(d + 4, 4);
    spill(p, d, n);
    CHECK_ERR(lr_model_load(p, NULL, &m, &err), &err, "unsupported GGUF version 4");
    free(d);
}

/* ---- tokenizers ---- */

/* Texts of vectors/tokenizer/llama3_cases.json. */
static lr_json_doc *cases_doc(const lr_json **arr)
{
    lr_json_doc *doc = NULL;
    lr_error err;
    if (lr_json_parse_file("vectors/tokenizer/llama3_cases.json", &doc, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return NULL;
    }
    *arr = lr_json_get(lr_json_root(doc), "cases");
    if (!*arr) *arr = lr_json_root(doc);
    return doc;
}

static size_t compare_tokenizers(const lr_tokenizer *a, const lr_tokenizer *b,
                                 const char *text, size_t len)
{
    lr_tokens x = {0}, y = {0};
    lr_error err;
    size_t bad = 0;
    if (lr_tokenizer_encode(a, text, len, LR_ENCODE_SPECIAL, &x, &err) ||
        lr_tokenizer_encode(b, text, len, LR_ENCODE_SPECIAL, &y, &err))
        bad = 1;
    else if (x.n != y.n || (x.n && memcmp(x.ids, y.ids, x.n * sizeof *x.ids)))
        bad = 1;
    if (bad) fprintf(stderr, "  differs on \"%.60s\"\n", text);
    lr_tokens_free(&x);
    lr_tokens_free(&y);
    return bad;
}

static size_t compare_on_corpus(const lr_tokenizer *a, const lr_tokenizer *b, size_t *count)
{
    const lr_json *arr = NULL;
    lr_json_doc *doc = cases_doc(&arr);
    size_t i, bad = 0;
    char *corpus = NULL;
    size_t clen = 0;
    lr_error err;
    *count = 0;
    for (i = 0; doc && arr && arr->type == LR_JSON_ARRAY && i < arr->len; i++) {
        const lr_json *c = &arr->items[i], *t = lr_json_get(c, "text");
        if (!t || t->type != LR_JSON_STRING) continue;
        bad += compare_tokenizers(a, b, t->str, t->len);
        (*count)++;
    }
    lr_json_free(doc);
    /* and the lines of the BPE corpus */
    if (lr_read_file("vectors/bpe/corpus.txt", &corpus, &clen, &err) == 0) {
        size_t s = 0, e;
        for (e = 0; e <= clen; e++)
            if (e == clen || corpus[e] == '\n') {
                bad += compare_tokenizers(a, b, corpus + s, e - s);
                (*count)++;
                s = e + 1;
            }
        bad += compare_tokenizers(a, b, corpus, clen);
    }
    free(corpus);
    return bad;
}

static void test_world_tokenizer_from_gguf_py(void)
{
    lr_tokenizer a, b;
    lr_error err;
    size_t count, bad;
    CHECK_OK(lr_tokenizer_load("data/world/tokenizer.model", &a, &err), &err);
    CHECK_OK(lr_tokenizer_load("vectors/gguf/world_tokenizer.gguf", &b, &err), &err);
    CHECK_INT(b.format, LR_TOK_GGUF);
    CHECK_INT(a.vocab_size, b.vocab_size);
    CHECK_INT(a.bos_id, b.bos_id);
    CHECK_INT(lr_tokenizer_special_id(&b, "<|eot_id|>"), lr_tokenizer_special_id(&a, "<|eot_id|>"));
    bad = compare_on_corpus(&a, &b, &count);
    CHECK(count > 100);
    CHECK_INT(bad, 0);
    lr_tokenizer_free(&a);
    lr_tokenizer_free(&b);
}

/* Issue 19 (allocation bounded by the input): the GPT-2 GGUF tokenizer
 * reserved a 1 MB token blob whatever the file's size; now the room is the
 * file's token strings (80 KB here), so under twice the file. */
static void test_gguf_tokenizer_reserves_by_file(void)
{
    lr_tokenizer t;
    lr_error err;
    FILE *f = fopen("vectors/gguf/world_tokenizer.gguf", "rb");
    long size;
    CHECK(f != NULL);
    if (!f) return;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fclose(f);
    if (lr_tokenizer_load_gguf("vectors/gguf/world_tokenizer.gguf", &t, &err)) {
        CHECK_OK(-1, &err);
        return;
    }
    CHECK(t.bpe.blob_cap <= 2 * (size_t)size);
    CHECK(t.bpe.blob_len <= t.bpe.blob_cap);
    lr_tokenizer_free(&t);
}

/* A tokenizer read from a GGUF (gguf-py's world tokenizer) and exported
 * again: its control tokens stay control tokens (special-token parsing,
 * BOS/EOS), so it encodes as the original. */
static void test_gguf_tokenizer_reexport(void)
{
    const char *out = h_tmp("world_tok_again.gguf");
    lr_tokenizer a, b;
    lr_config cfg;
    lr_gguf_writer *w;
    lr_error err;
    size_t count, bad;
    lr_tokens x = {0};
    CHECK_OK(lr_tokenizer_load("vectors/gguf/world_tokenizer.gguf", &a, &err), &err);
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab_size = (int)a.vocab_size;
    cfg.bos_token_id = a.bos_id;
    cfg.eos_token_ids[0] = a.eos_id;
    cfg.n_eos = 1;
    w = lr_gguf_writer_new(&err);
    CHECK_OK(lr_tokenizer_to_gguf(&a, &cfg, w, &err), &err);
    CHECK_OK(lr_gguf_writer_save(w, out, &err), &err);
    lr_gguf_writer_free(w);
    CHECK_OK(lr_tokenizer_load(out, &b, &err), &err);
    CHECK_INT(lr_tokenizer_special_id(&b, "<|eot_id|>"), lr_tokenizer_special_id(&a, "<|eot_id|>"));
    CHECK(lr_tokenizer_special_id(&b, "<|eot_id|>") >= 0);
    CHECK_OK(lr_tokenizer_encode(&b, "<|start_header_id|>user", 23, LR_ENCODE_SPECIAL, &x, &err),
             &err);
    CHECK(x.n >= 2 && x.ids[0] == lr_tokenizer_special_id(&a, "<|start_header_id|>"));
    lr_tokens_free(&x);
    bad = compare_on_corpus(&a, &b, &count);
    CHECK_INT(bad, 0);
    lr_tokenizer_free(&a);
    lr_tokenizer_free(&b);
}

/* A GGUF tokenizer whose merges are not every split of every token (a
 * trained BPE's list, as SmolLM2's): written back, it keeps its merges in
 * their order, add_bos_token = false and its chat template, so it encodes
 * as before ("bc" is a token that no merge makes). */
static void test_gguf_tokenizer_keeps_merges(void)
{
    static const char *const toks[] = {"a", "b", "c", "ab", "bc", "abc", "<|end|>"};
    static const char *const merges[] = {"a b", "ab c"};
    size_t tl[7], ml[2], i;
    int32_t types[7] = {1, 1, 1, 1, 1, 1, 3};
    const char *p = h_tmp("merges.gguf"), *q = h_tmp("merges_again.gguf");
    lr_gguf_writer *w;
    lr_tokenizer a, b;
    lr_config cfg;
    lr_gguf *g = NULL;
    lr_error err;
    lr_tokens x = {0}, y = {0};
    for (i = 0; i < 7; i++) tl[i] = strlen(toks[i]);
    for (i = 0; i < 2; i++) ml[i] = strlen(merges[i]);
    w = lr_gguf_writer_new(&err);
    CHECK_OK(lr_gguf_writer_str(w, "general.architecture", "llama", &err), &err);
    CHECK_OK(lr_gguf_writer_str(w, "tokenizer.ggml.model", "gpt2", &err), &err);
    CHECK_OK(lr_gguf_writer_str(w, "tokenizer.ggml.pre", "gpt-2", &err), &err);
    CHECK_OK(lr_gguf_writer_str_array(w, "tokenizer.ggml.tokens", toks, tl, 7, &err), &err);
    CHECK_OK(lr_gguf_writer_i32_array(w, "tokenizer.ggml.token_type", types, 7, &err), &err);
    CHECK_OK(lr_gguf_writer_str_array(w, "tokenizer.ggml.merges", merges, ml, 2, &err), &err);
    CHECK_OK(lr_gguf_writer_u32(w, "tokenizer.ggml.bos_token_id", 6, &err), &err);
    CHECK_OK(lr_gguf_writer_bool(w, "tokenizer.ggml.add_bos_token", 0, &err), &err);
    CHECK_OK(lr_gguf_writer_str(w, "tokenizer.chat_template", "{{ messages }}", &err), &err);
    CHECK_OK(lr_gguf_writer_save(w, p, &err), &err);
    lr_gguf_writer_free(w);
    CHECK_OK(lr_tokenizer_load(p, &a, &err), &err);
    CHECK_OK(lr_tokenizer_encode(&a, "abcbc", 5, 0, &x, &err), &err);
    CHECK(x.n == 3 && x.ids[0] == 5 && x.ids[1] == 1 && x.ids[2] == 2); /* abc, b, c */
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab_size = 7;
    cfg.bos_token_id = 6;
    w = lr_gguf_writer_new(&err);
    CHECK_OK(lr_tokenizer_to_gguf(&a, &cfg, w, &err), &err);
    CHECK_OK(lr_gguf_writer_save(w, q, &err), &err);
    lr_gguf_writer_free(w);
    CHECK_OK(lr_gguf_open(q, &g, &err), &err);
    if (g) {
        const lr_gguf_kv *m = lr_gguf_find_kv(g, "tokenizer.ggml.merges");
        const lr_gguf_kv *ab = lr_gguf_find_kv(g, "tokenizer.ggml.add_bos_token");
        CHECK(m && m->n == 2 && !strcmp(m->strs[0], "a b") && !strcmp(m->strs[1], "ab c"));
        CHECK(ab && ab->i == 0);
    }
    lr_gguf_free(g);
    CHECK_OK(lr_tokenizer_load(q, &b, &err), &err);
    CHECK_OK(lr_tokenizer_encode(&b, "abcbc", 5, 0, &y, &err), &err);
    CHECK(x.n == y.n && !memcmp(x.ids, y.ids, x.n * sizeof *x.ids));
    CHECK_INT(b.bos_id, -1);
    CHECK(b.chat_template && !strcmp(b.chat_template, "{{ messages }}"));
    lr_tokens_free(&x);
    lr_tokens_free(&y);
    lr_tokenizer_free(&a);
    lr_tokenizer_free(&b);
}

/* Llama 3's tokenizer exported into a GGUF by llamaref and read back. */
static void test_llama3_tokenizer_roundtrip(void)
{
    const char *src = h_asset("llama3/tokenizer.model");
    const char *out = h_tmp("llama3_tok.gguf");
    lr_tokenizer a, b;
    lr_config cfg;
    lr_gguf_writer *w;
    lr_error err;
    size_t count, bad;
    if (!src) SKIP("llama3/tokenizer.model not in $LLAMAREF_ASSETS (make llama3-tokenizer)");
    CHECK_OK(lr_tokenizer_load(src, &a, &err), &err);
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab_size = (int)a.vocab_size;
    cfg.bos_token_id = a.bos_id;
    cfg.eos_token_ids[0] = a.eos_id;
    cfg.n_eos = 1;
    w = lr_gguf_writer_new(&err);
    CHECK_OK(lr_tokenizer_to_gguf(&a, &cfg, w, &err), &err);
    CHECK_OK(lr_gguf_writer_save(w, out, &err), &err);
    lr_gguf_writer_free(w);
    CHECK_OK(lr_tokenizer_load(out, &b, &err), &err);
    bad = compare_on_corpus(&a, &b, &count);
    CHECK_INT(bad, 0);
    lr_tokenizer_free(&a);
    lr_tokenizer_free(&b);
}

/* SmolLM's pre-tokenizer: digits one by one, GPT-2's regex between them. */
static void test_pretokenizers(void)
{
    static const struct {
        int kind;
        const char *text;
        const char *pieces; /* '|' between pieces */
    } cases[] = {
        {LR_PRE_SMOLLM, "in 2024, it's", "in| |2|0|2|4|,| it|'s"},
        {LR_PRE_SMOLLM, "x  \n y", "x|  \n| y"},
        {LR_PRE_GPT2, "in 2024, IT'S", "in| 2024|,| IT|'|S"},
        {LR_PRE_GPT2, "a  b\n\nc ", "a| | b|\n|\n|c| "},
    };
    size_t k;
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *t = cases[k].text;
        size_t n = strlen(t), pos = 0;
        char got[128] = "";
        while (pos < n) {
            size_t e = cases[k].kind == LR_PRE_SMOLLM ? lr_pretokenize_smollm_next(t, n, pos)
                                                      : lr_pretokenize_gpt2_next(t, n, pos);
            if (pos) strcat(got, "|");
            strncat(got, t + pos, e - pos);
            pos = e;
        }
        if (strcmp(got, cases[k].pieces))
            fprintf(stderr, "  \"%s\": got \"%s\"\n", t, got);
        CHECK_STR(got, cases[k].pieces);
    }
}

/* ---- hostile input ---- */

/* A small valid file: 3 metadata entries (a string, the alignment, an
 * array of strings) and two tensors (F32 [32] at 0, Q8_0 [32, 2] at 128).
 * Offsets of the fields are returned for the mutation tests. */
typedef struct crafted {
    lr_buf b;
    size_t off_nkv, off_ntensors, off_arr_count, off_str_len, off_align_val, off_vtype;
    size_t off_t0_ndims, off_t0_type, off_t0_offset, off_t1_offset, off_t1_ne0;
} crafted;

static void put32(lr_buf *b, uint32_t v) { unsigned char x[4]; lr_put_le32(x, v); lr_buf_append(b, x, 4); }
static void put64(lr_buf *b, uint64_t v) { unsigned char x[8]; lr_put_le64(x, v); lr_buf_append(b, x, 8); }
static void putstr(lr_buf *b, const char *s) { put64(b, strlen(s)); lr_buf_append(b, s, strlen(s)); }

static void craft(crafted *c)
{
    lr_buf *b = &c->b;
    unsigned char zero[256];
    memset(c, 0, sizeof *c);
    memset(zero, 0, sizeof zero);
    lr_buf_append(b, "GGUF", 4);
    put32(b, 3);
    c->off_ntensors = b->len;
    put64(b, 2);
    c->off_nkv = b->len;
    put64(b, 3);
    putstr(b, "general.architecture");
    c->off_vtype = b->len;
    put32(b, LR_GGUF_STRING);
    c->off_str_len = b->len;
    putstr(b, "llama");
    putstr(b, "general.alignment");
    put32(b, LR_GGUF_UINT32);
    c->off_align_val = b->len;
    put32(b, 32);
    putstr(b, "test.names");
    put32(b, LR_GGUF_ARRAY);
    put32(b, LR_GGUF_STRING);
    c->off_arr_count = b->len;
    put64(b, 2);
    putstr(b, "first");
    putstr(b, "second");
    putstr(b, "x");
    c->off_t0_ndims = b->len;
    put32(b, 1);
    put64(b, 32);
    c->off_t0_type = b->len;
    put32(b, LR_GGML_F32);
    c->off_t0_offset = b->len;
    put64(b, 0);
    putstr(b, "y");
    put32(b, 2);
    c->off_t1_ne0 = b->len;
    put64(b, 32);
    put64(b, 2);
    put32(b, LR_GGML_Q8_0);
    c->off_t1_offset = b->len;
    put64(b, 128);
    lr_buf_append(b, zero, (32 - b->len % 32) % 32);
    lr_buf_append(b, zero, 128);     /* x: 32 floats */
    lr_buf_append(b, zero, 2 * 34); /* y: 2 blocks */
}

/* Opens the bytes as a file; returns 0 on success (and closes it). */
static int try_open(const unsigned char *d, size_t n, lr_error *err)
{
    const char *p = h_tmp("hostile.gguf");
    lr_gguf *g = NULL;
    if (spill(p, d, n)) return lr_fail(err, "cannot write %s", p);
    if (lr_gguf_open(p, &g, err)) return -1;
    lr_gguf_free(g);
    return 0;
}

static void test_crafted_file_is_valid(void)
{
    crafted c;
    lr_error err;
    const char *p = h_tmp("crafted.gguf");
    lr_gguf *g = NULL;
    craft(&c);
    CHECK(spill(p, (unsigned char *)c.b.data, c.b.len) == 0);
    CHECK_OK(lr_gguf_open(p, &g, &err), &err);
    if (g) {
        const lr_gguf_kv *kv = lr_gguf_find_kv(g, "test.names");
        const lr_gguf_tensor *y = lr_gguf_find_tensor(g, "y");
        const char *arch = NULL;
        CHECK(kv && kv->n == 2 && !strcmp(kv->strs[1], "second"));
        CHECK(y && y->nbytes == 68 && y->ne[1] == 2 && y->offset == g->data_offset + 128);
        CHECK_INT(lr_gguf_get_str(g, "general.architecture", &arch, &err), 0);
        CHECK_STR(arch, "llama");
        CHECK_INT(lr_gguf_get_int(g, "general.architecture", NULL, &err), -1);
        CHECK(strstr(err.msg, "expected an integer") != NULL);
    }
    lr_gguf_free(g);
    lr_buf_free(&c.b);
}

/* Every proper prefix of the file is refused with an error, never a crash
 * (the data section included: tensors would lie past the end). */
static void test_truncation_at_every_byte(void)
{
    crafted c;
    lr_error err;
    size_t n, refused = 0;
    craft(&c);
    for (n = 0; n < c.b.len; n++) {
        err.msg[0] = 0;
        if (try_open((unsigned char *)c.b.data, n, &err) != 0 && err.msg[0]) refused++;
        else fprintf(stderr, "  prefix of %lu bytes accepted\n", (unsigned long)n);
    }
    CHECK_INT(refused, c.b.len);
    CHECK_OK(try_open((unsigned char *)c.b.data, c.b.len, &err), &err);
    lr_buf_free(&c.b);
    /* the real files: every prefix within the header, and a sample after */
    {
        static const char *files[] = {"vectors/gguf/gqa_tied.gguf",
                                      "vectors/gguf/gqa_tied.be.gguf"};
        size_t f;
        for (f = 0; f < 2; f++) {
            size_t len, bad = 0;
            unsigned char *d = slurp(files[f], &len);
            lr_gguf *g = NULL;
            CHECK_OK(lr_gguf_open(files[f], &g, &err), &err);
            if (!d || !g) { free(d); lr_gguf_free(g); continue; }
            for (n = 0; n < len; n += n < g->data_offset + 64 ? 1 : 9973)
                if (try_open(d, n, &err) == 0) bad++;
            CHECK_INT(bad, 0);
            lr_gguf_free(g);
            free(d);
        }
    }
}

/* One field changed at a time; the error names it. */
static void test_hostile_fields(void)
{
    static const struct {
        const char *what;
        int field; /* 0 nkv 1 ntensors 2 arr_count 3 str_len 4 align 5 vtype 6 ndims
                      7 ggml type 8 t0 offset 9 t1 offset 10 t1 ne0 */
        uint64_t value;
        int width;
        const char *needle;
    } cases[] = {
        {"huge metadata count", 0, (uint64_t)1 << 60, 8, "metadata count"},
        {"huge tensor count", 1, (uint64_t)1 << 62, 8, "tensor count"},
        {"huge array count", 2, (uint64_t)1 << 40, 8, "array of 1099511627776 string"},
        {"string past the end", 3, 1000000, 8, "past the end"},
        {"alignment not a power of two", 4, 48, 4, "general.alignment"},
        {"alignment zero", 4, 0, 4, "general.alignment"},
        {"unknown value type", 5, 77, 4, "unknown value type 77"},
        {"five dimensions", 6, 5, 4, "5 dimensions"},
        {"unknown ggml type", 7, 99, 4, "unknown ggml type 99"},
        {"misaligned offset", 8, 8, 8, "not a multiple of the alignment"},
        {"offset out of range", 9, (uint64_t)1 << 40, 8, "outside"},
        {"overlapping tensors", 9, 96, 8, "overlap"},
        {"row not whole blocks", 10, 33, 8, "block size"},
        {"element count overflow", 10, (uint64_t)1 << 62, 8, "overflows"},
    };
    size_t k;
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        crafted c;
        lr_error err;
        size_t at;
        unsigned char *d;
        craft(&c);
        d = (unsigned char *)c.b.data;
        switch (cases[k].field) {
        case 0: at = c.off_nkv; break;
        case 1: at = c.off_ntensors; break;
        case 2: at = c.off_arr_count; break;
        case 3: at = c.off_str_len; break;
        case 4: at = c.off_align_val; break;
        case 5: at = c.off_vtype; break;
        case 6: at = c.off_t0_ndims; break;
        case 7: at = c.off_t0_type; break;
        case 8: at = c.off_t0_offset; break;
        case 9: at = c.off_t1_offset; break;
        default: at = c.off_t1_ne0; break;
        }
        if (cases[k].width == 8) lr_put_le64(d + at, cases[k].value);
        else lr_put_le32(d + at, (uint32_t)cases[k].value);
        err.msg[0] = 0;
        if (try_open(d, c.b.len, &err) == 0 || !strstr(err.msg, cases[k].needle)) {
            fprintf(stderr, "  %s: \"%s\" (expected an error mentioning \"%s\")\n",
                    cases[k].what, err.msg, cases[k].needle);
            CHECK(0);
        }
        lr_buf_free(&c.b);
    }
    {   /* a duplicated tensor name */
        crafted c;
        lr_error err;
        craft(&c);
        c.b.data[c.off_t1_ne0 - 4 - 1] = 'x'; /* tensor "y" renamed "x" */
        CHECK_ERR(try_open((unsigned char *)c.b.data, c.b.len, &err), &err,
                  "duplicate tensor name \"x\"");
        lr_buf_free(&c.b);
    }
    {   /* not GGUF at all */
        lr_error err;
        CHECK_ERR(try_open((const unsigned char *)"GGUX\3\0\0\0", 8, &err), &err, "magic");
    }
}

/* Models with inconsistent metadata are refused before any weight is read. */
static void test_model_metadata_errors(void)
{
    lr_gguf_writer *w;
    lr_error err;
    lr_model *m = NULL;
    const char *p = h_tmp("bad_model.gguf");
    float x[64];
    uint64_t ne[2] = {32, 2};
    memset(x, 0, sizeof x);
    w = lr_gguf_writer_new(&err);
    lr_gguf_writer_str(w, "general.architecture", "mistral", &err);
    lr_gguf_writer_save(w, p, &err);
    lr_gguf_writer_free(w);
    CHECK_ERR(lr_model_load(p, NULL, &m, &err), &err, "only \"llama\"");
    w = lr_gguf_writer_new(&err);
    lr_gguf_writer_str(w, "general.architecture", "llama", &err);
    lr_gguf_writer_u32(w, "llama.embedding_length", 32, &err);
    lr_gguf_writer_u32(w, "llama.feed_forward_length", 64, &err);
    lr_gguf_writer_u32(w, "llama.block_count", 1, &err);
    lr_gguf_writer_str(w, "llama.attention.head_count", "four", &err);
    lr_gguf_writer_tensor(w, "token_embd.weight", LR_GGML_F32, 2, ne, x, &err);
    lr_gguf_writer_save(w, p, &err);
    lr_gguf_writer_free(w);
    CHECK_ERR(lr_model_load(p, NULL, &m, &err), &err,
              "\"llama.attention.head_count\" is a string, expected an integer");
    /* a block count the tensors cannot back: no layer table is allocated */
    w = lr_gguf_writer_new(&err);
    lr_gguf_writer_str(w, "general.architecture", "llama", &err);
    lr_gguf_writer_u32(w, "llama.embedding_length", 32, &err);
    lr_gguf_writer_u32(w, "llama.feed_forward_length", 64, &err);
    lr_gguf_writer_u32(w, "llama.block_count", 2000000000u, &err);
    lr_gguf_writer_u32(w, "llama.attention.head_count", 4, &err);
    lr_gguf_writer_tensor(w, "token_embd.weight", LR_GGML_F32, 2, ne, x, &err);
    lr_gguf_writer_save(w, p, &err);
    lr_gguf_writer_free(w);
    CHECK_ERR(lr_model_load(p, NULL, &m, &err), &err, "block_count is 2000000000");
    lr_model_free(m);
}

/* A model exported as GGUF by llamaref reads back to the same weights
 * (F32) and to the same quantised values (Q8_0). */
static void test_export_roundtrip(void)
{
    lr_model *h = NULL, *g = NULL;
    lr_error err;
    const char *p = h_tmp("export.gguf");
    CHECK_OK(lr_model_load_hf("vectors/forward/llama3_rope", NULL, &h, &err), &err);
    if (!h) return;
    CHECK_OK(lr_model_save_gguf(h, NULL, p, LR_GGML_F32, &err), &err);
    CHECK_OK(lr_model_load(p, NULL, &g, &err), &err);
    if (g) same_model(h, g);
    lr_model_free(g);
    g = NULL;
    CHECK_OK(lr_model_save_gguf(h, NULL, p, LR_GGML_Q8_0, &err), &err);
    CHECK_OK(lr_model_load(p, NULL, &g, &err), &err);
    if (g) {
        /* Q8_0 keeps each weight within half a step, d / 2 <= max|x| / 254 */
        size_t n = (size_t)lr_tensor_nelem(&h->layers[0].q_proj), i;
        double worst = 0, amax = 0;
        for (i = 0; i < n; i++) {
            double a = (double)lr_tensor_get(&h->layers[0].q_proj, i);
            double b = (double)lr_tensor_get(&g->layers[0].q_proj, i);
            if (fabs(a - b) > worst) worst = fabs(a - b);
            if (fabs(a) > amax) amax = fabs(a);
        }
        CHECK(worst > 0 && worst <= amax / 127 * 0.55);
        CHECK(tensors_equal(&h->norm, &g->norm)); /* norms stay F32 */
    }
    lr_model_free(g);
    g = NULL;
    {   /* `llamaref export-gguf` as one call: the same model back; a
         * tokenizer that does not load is -2 */
        uint32_t t = 0;
        CHECK_INT(lr_gguf_export_type("BF16", &t), 0);
        CHECK_INT((int)t, LR_GGML_BF16);
        CHECK_INT(lr_gguf_export_type("q4_0", &t), -1);
        CHECK_INT(lr_export_gguf("vectors/forward/llama3_rope", NULL, 1, LR_GGML_F32, p,
                                 &err), 0);
        CHECK_OK(lr_model_load(p, NULL, &g, &err), &err);
        if (g) same_model(h, g);
        CHECK_INT(lr_export_gguf("vectors/forward/llama3_rope", "/nonexistent/tok.json", 0,
                                 LR_GGML_F32, p, &err), -2);
    }
    lr_model_free(g);
    lr_model_free(h);
}

/* llamaref's export of each golden HF model holds, tensor for tensor, the
 * bytes gguf-py's GGUFWriter wrote in vectors/gguf (q/k rows in Meta's
 * layout as convert_hf_to_gguf permutes them, rope_freqs, no output when
 * tied), and reads back to the HF weights bit for bit (F32; BF16 for the
 * bf16 model, whose norms export-gguf keeps F32). */
static void test_export_equals_gguf_py(void)
{
    static const struct {
        const char *hf, *gguf;
        uint32_t type;
    } cases[] = {{"gqa_tied", "gqa_tied.gguf", LR_GGML_F32},
                 {"llama3_rope", "llama3_rope.gguf", LR_GGML_F32},
                 {"mqa_headdim", "mqa_headdim.gguf", LR_GGML_F32},
                 {"bf16_far", "bf16_far.gguf", LR_GGML_BF16}};
    size_t k;
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char hpath[256], gpath[256];
        const char *p = h_tmp("export_layout.gguf");
        lr_model *h = NULL, *back = NULL;
        lr_gguf *ours = NULL, *theirs = NULL;
        unsigned char *a = NULL, *b = NULL;
        size_t na = 0, nb = 0, i, same = 0, compared = 0;
        lr_error err;
        snprintf(hpath, sizeof hpath, "vectors/forward/%s", cases[k].hf);
        snprintf(gpath, sizeof gpath, "vectors/gguf/%s", cases[k].gguf);
        CHECK_OK(lr_model_load_hf(hpath, NULL, &h, &err), &err);
        if (!h) continue;
        CHECK_OK(lr_model_save_gguf(h, NULL, p, cases[k].type, &err), &err);
        CHECK_OK(lr_gguf_open(p, &ours, &err), &err);
        CHECK_OK(lr_gguf_open(gpath, &theirs, &err), &err);
        a = slurp(p, &na);
        b = slurp(gpath, &nb);
        if (ours && theirs && a && b) {
            CHECK_INT(ours->n_tensors, theirs->n_tensors);
            for (i = 0; i < theirs->n_tensors; i++) {
                const lr_gguf_tensor *t = &theirs->tensors[i];
                const lr_gguf_tensor *o = lr_gguf_find_tensor(ours, t->name);
                if (!o) {
                    fprintf(stderr, "  %s: export has no %s\n", cases[k].hf, t->name);
                    CHECK(0);
                    continue;
                }
                if (o->type != t->type) continue; /* bf16_far's norms: F32 here */
                compared++;
                if (o->n_dims == t->n_dims && !memcmp(o->ne, t->ne, sizeof o->ne) &&
                    o->nbytes == t->nbytes && !memcmp(a + o->offset, b + t->offset, o->nbytes))
                    same++;
                else
                    fprintf(stderr, "  %s: %s differs from gguf-py's\n", cases[k].hf, t->name);
            }
            CHECK(compared >= 8);
            CHECK_INT(same, compared);
        }
        CHECK_OK(lr_model_load(p, NULL, &back, &err), &err);
        if (back) same_model(h, back);
        free(a);
        free(b);
        lr_gguf_free(ours);
        lr_gguf_free(theirs);
        lr_model_free(back);
        lr_model_free(h);
    }
}

/* FNV-1a 64 of a file's bytes, or 0 when it cannot be read. */
static uint64_t file_fnv64(const char *path, size_t *n)
{
    unsigned char *d = slurp(path, n);
    uint64_t h = 0xCBF29CE484222325ull;
    size_t i;
    if (!d) return 0;
    for (i = 0; i < *n; i++) h = (h ^ d[i]) * 0x100000001B3ull;
    free(d);
    return h;
}

/* A SentencePiece ("llama") tokenizer written by gguf-py: gen_gguf.py
 * (part 3) writes Llama 2's tokenizer.model as llama.cpp's converter lays
 * it out (pieces with U+2581, scores, token types, special ids) with
 * GGUFWriter, and commits the file's size and FNV-1a 64 and the ids the
 * sentencepiece library gives the tokenizer corpus
 * (vectors/gguf/llama2_spm.json).  Here lr_tokenizer_to_gguf (export-gguf)
 * writes llama2.c's tokenizer.bin (the same vocabulary; asset, skipped
 * when absent), and the bytes must be gguf-py's file; read back, it
 * encodes the corpus as sentencepiece does and as tokenizer.bin does. */
static void test_llama_spm_tokenizer(void)
{
    const char *tp = h_asset("llama2/tokenizer.bin");
    const char *out = h_tmp("spm.gguf");
    lr_tokenizer a, b;
    lr_gguf_writer *w;
    lr_json_doc *doc = NULL;
    const lr_json *root, *ids, *want_n, *want_h;
    lr_config cfg;
    lr_error err;
    char hex[17];
    size_t i, fsize = 0, count = 0, bad = 0, bad_a = 0;
    if (!tp) SKIP("llama2/tokenizer.bin not in $LLAMAREF_ASSETS");
    CHECK_OK(lr_json_parse_file("vectors/gguf/llama2_spm.json", &doc, &err), &err);
    if (!doc) return;
    CHECK_OK(lr_tokenizer_load(tp, &a, &err), &err);
    /* what export-gguf writes, after the key GGUFWriter puts first */
    memset(&cfg, 0, sizeof cfg);
    cfg.vocab_size = (int)a.vocab_size;
    cfg.bos_token_id = 1;
    w = lr_gguf_writer_new(&err);
    CHECK_OK(lr_gguf_writer_str(w, "general.architecture", "llama", &err), &err);
    CHECK_OK(lr_tokenizer_to_gguf(&a, &cfg, w, &err), &err);
    CHECK_OK(lr_gguf_writer_save(w, out, &err), &err);
    lr_gguf_writer_free(w);
    root = lr_json_root(doc);
    want_n = lr_json_get(root, "file_bytes");
    want_h = lr_json_get(root, "file_fnv1a64");
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)file_fnv64(out, &fsize));
    CHECK(want_n && want_h && want_h->type == LR_JSON_STRING);
    if (want_n && want_h) {
        CHECK_INT(fsize, (size_t)want_n->number);
        CHECK_STR(hex, want_h->str); /* byte for byte the file gguf-py wrote */
    }
    CHECK_OK(lr_tokenizer_load(out, &b, &err), &err);
    CHECK_INT(b.format, LR_TOK_LLAMA2C);
    CHECK_INT(b.vocab_size, a.vocab_size);
    CHECK_INT(b.bos_id, 1);
    CHECK_INT(b.eos_id, 2);
    /* the corpus, as gen_gguf.py lists it */
    ids = lr_json_get(root, "ids");
    CHECK(ids && ids->type == LR_JSON_ARRAY);
    if (ids) {
        const lr_json *arr = NULL;
        lr_json_doc *cd = cases_doc(&arr);
        char *corpus = NULL;
        size_t clen = 0, k = 0, s0 = 0, e;
        const char **texts = calloc(ids->len + 1, sizeof *texts);
        size_t *tlens = calloc(ids->len + 1, sizeof *tlens);
        for (i = 0; cd && arr && i < arr->len && k < ids->len; i++) {
            const lr_json *t = lr_json_get(&arr->items[i], "text");
            if (!t || t->type != LR_JSON_STRING) continue;
            texts[k] = t->str;
            tlens[k++] = t->len;
        }
        CHECK_OK(lr_read_file("vectors/bpe/corpus.txt", &corpus, &clen, &err), &err);
        for (e = 0; corpus && e <= clen && k < ids->len; e++)
            if (e == clen || corpus[e] == '\n') {
                texts[k] = corpus + s0;
                tlens[k++] = e - s0;
                s0 = e + 1;
            }
        CHECK_INT(k, ids->len);
        for (i = 0; i < k; i++) {
            const lr_json *want = &ids->items[i];
            lr_tokens x = {0};
            size_t j;
            int same;
            count++;
            bad_a += compare_tokenizers(&a, &b, texts[i], tlens[i]);
            if (lr_tokenizer_encode(&b, texts[i], tlens[i], 0, &x, &err)) {
                bad++;
                continue;
            }
            same = x.n == want->len;
            for (j = 0; same && j < x.n; j++) same = x.ids[j] == (int32_t)want->items[j].number;
            if (!same && bad++ < 5) {
                fprintf(stderr, "  text %lu \"%.40s\": %lu ids, sentencepiece %lu:",
                        (unsigned long)i, texts[i], (unsigned long)x.n, (unsigned long)want->len);
                for (j = 0; j < x.n && j < 8; j++) fprintf(stderr, " %d", (int)x.ids[j]);
                fprintf(stderr, " | want");
                for (j = 0; j < want->len && j < 8; j++)
                    fprintf(stderr, " %d", (int)want->items[j].number);
                fprintf(stderr, "\n");
            }
            lr_tokens_free(&x);
        }
        if (bad) fprintf(stderr, "  %lu of %lu texts differ from sentencepiece\n",
                         (unsigned long)bad, (unsigned long)count);
        free(texts);
        free(tlens);
        free(corpus);
        lr_json_free(cd);
    }
    CHECK(count > 900);
    CHECK_INT(bad, 0);
    CHECK_INT(bad_a, 0);
    lr_json_free(doc);
    lr_tokenizer_free(&a);
    lr_tokenizer_free(&b);
}

/* ChatML as Jinja2 renders SmolLM2's tokenizer.chat_template
 * (vectors/tokenizer/chatml_cases.json, vectors/gen/gen_chatml_cases.py). */
static void test_chatml_matches_jinja(void)
{
    lr_json_doc *doc = NULL;
    lr_error err;
    const lr_json *root, *cases, *tmpl;
    lr_chat_template kind = LR_CHAT_LLAMA31;
    char *dsys = NULL;
    size_t i, k;
    CHECK_OK(lr_json_parse_file("vectors/tokenizer/chatml_cases.json", &doc, &err), &err);
    if (!doc) return;
    root = lr_json_root(doc);
    tmpl = lr_json_get(root, "template");
    cases = lr_json_get(root, "cases");
    CHECK(tmpl && cases && cases->len >= 8);
    if (!tmpl || !cases) goto done;
    CHECK_OK(lr_chat_template_detect(tmpl->str, &kind, &dsys, &err), &err);
    CHECK_INT(kind, LR_CHAT_CHATML);
    CHECK_STR(dsys, "You are a helpful AI assistant named SmolLM, trained by Hugging Face");
    for (i = 0; i < cases->len; i++) {
        const lr_json *c = &cases->items[i];
        const lr_json *msgs = lr_json_get(c, "messages"), *want = lr_json_get(c, "rendered");
        const lr_json *gen = lr_json_get(c, "add_generation_prompt");
        lr_chat_message m[8];
        lr_buf out = {0};
        for (k = 0; k < msgs->len && k < 8; k++) {
            m[k].role = lr_json_get(&msgs->items[k], "role")->str;
            m[k].content = lr_json_get(&msgs->items[k], "content")->str;
            m[k].content_len = lr_json_get(&msgs->items[k], "content")->len;
        }
        CHECK_OK(lr_chat_render_chatml(m, k, gen->type == LR_JSON_TRUE, dsys, &out, &err), &err);
        CHECK(out.len == want->len && (!out.len || !memcmp(out.data, want->str, out.len)));
        lr_buf_free(&out);
    }
done:
    free(dsys);
    dsys = NULL;
    CHECK_ERR(lr_chat_template_detect("{{ messages }}", &kind, &dsys, &err), &err, "unrecognised");
    free(dsys);
    lr_json_free(doc);
}

/* Training data ("messages") for a tokenizer whose chat template is ChatML
 * (SmolLM2's GGUF) is rendered in ChatML, with the template's default
 * system message, and the completion-only labels cover the assistant turn
 * (its content and <|im_end|>\n); without the template, Llama 3.1. */
static void test_chatml_training_data(void)
{
    lr_json_doc *doc = NULL;
    lr_tokenizer tok;
    lr_dataset ds;
    lr_dataset_opts o;
    lr_error err;
    lr_buf b = {0};
    lr_tokens full = {0}, pre = {0};
    lr_chat_message m[2] = {{"user", "Question: Q?", 12}, {"assistant", "Answer: A", 9}};
    const lr_json *tmpl;
    const char *p = h_tmp("chatml_train.jsonl");
    FILE *f = fopen(p, "wb");
    size_t n, k;
    int ok;
    CHECK(f != NULL);
    if (!f) return;
    fputs("{\"messages\": [{\"role\": \"user\", \"content\": \"Question: Q?\"}, "
          "{\"role\": \"assistant\", \"content\": \"Answer: A\"}]}\n", f);
    fclose(f);
    CHECK_OK(lr_json_parse_file("vectors/tokenizer/chatml_cases.json", &doc, &err), &err);
    if (!doc) return;
    tmpl = lr_json_get(lr_json_root(doc), "template");
    CHECK_OK(lr_tokenizer_load("data/world/tokenizer.model", &tok, &err), &err);
    tok.chat_template = malloc(tmpl->len + 1);
    memcpy(tok.chat_template, tmpl->str, tmpl->len + 1);
    memset(&o, 0, sizeof o);
    o.loss_on = LR_LOSS_COMPLETION;
    CHECK_OK(lr_dataset_load(p, &tok, &o, &ds, &err), &err);
    CHECK_OK(lr_chat_render_chatml(m, 2, 0, "You are a helpful AI assistant named SmolLM, "
                                   "trained by Hugging Face", &b, &err), &err);
    CHECK(strstr(b.data, "<|im_start|>system\nYou are a helpful") == b.data);
    CHECK_OK(lr_tokenizer_encode(&tok, b.data, b.len, LR_ENCODE_SPECIAL, &full, &err), &err);
    b.len = 0;
    CHECK_OK(lr_chat_render_chatml(m, 1, 1, "You are a helpful AI assistant named SmolLM, "
                                   "trained by Hugging Face", &b, &err), &err);
    CHECK_OK(lr_tokenizer_encode(&tok, b.data, b.len, LR_ENCODE_SPECIAL, &pre, &err), &err);
    CHECK_INT(ds.n, 1);
    if (ds.n == 1) {
        n = (size_t)ds.ex[0].len;
        CHECK_INT(n, full.n);
        ok = n == full.n && pre.n < n;
        for (k = 0; ok && k < n; k++)
            ok = ds.ex[0].ids[k] == full.ids[k] &&
                 ds.ex[0].labels[k] == (k < pre.n ? -100 : full.ids[k]);
        CHECK(ok);
    }
    lr_dataset_free(&ds);
    /* no template: Llama 3.1, so different ids */
    free(tok.chat_template);
    tok.chat_template = NULL;
    CHECK_OK(lr_dataset_load(p, &tok, &o, &ds, &err), &err);
    CHECK(ds.n == 1 && ((size_t)ds.ex[0].len != full.n ||
                        memcmp(ds.ex[0].ids, full.ids, full.n * sizeof *full.ids)));
    lr_dataset_free(&ds);
    free(full.ids);
    free(pre.ids);
    lr_buf_free(&b);
    lr_tokenizer_free(&tok);
    lr_json_free(doc);
}

int main(void)
{
    RUN(test_chatml_training_data);
    RUN(test_gqa_tied);
    RUN(test_llama3_rope_freqs);
    RUN(test_mqa_head_dim);
    RUN(test_bf16_tensors);
    RUN(test_big_endian_file);
    RUN(test_version_2);
    RUN(test_pretokenizers);
    RUN(test_world_tokenizer_from_gguf_py);
    RUN(test_gguf_tokenizer_reserves_by_file);
    RUN(test_llama3_tokenizer_roundtrip);
    RUN(test_gguf_tokenizer_reexport);
    RUN(test_gguf_tokenizer_keeps_merges);
    RUN(test_crafted_file_is_valid);
    RUN(test_truncation_at_every_byte);
    RUN(test_hostile_fields);
    RUN(test_model_metadata_errors);
    RUN(test_export_roundtrip);
    RUN(test_export_equals_gguf_py);
    RUN(test_chatml_matches_jinja);
    RUN(test_llama_spm_tokenizer);
    return h_finish("test_gguf");
}
