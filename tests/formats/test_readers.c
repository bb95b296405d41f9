/* test_readers.c - hostile inputs to the readers (issue 19): each of the
 * inputs a fuzzing campaign found must give a clean error, quickly and in
 * little memory (the tests/fuzz/ targets replay the same bytes under
 * ASan/UBSan: tests/fuzz/regress/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "llamaref/train/adapter.h"
#include "llamaref/train/dataset.h"
#include "llamaref/papers/knowledge/facts.h"
#include "llamaref/model/model.h"
#include "llamaref/tokenizer/tokenizer.h"

static const char *write_tmp(const char *name, const void *data, size_t n)
{
    const char *p = h_tmp(name);
    FILE *f;
    lr_make_dirs(h_tmp("")); /* tests/run.sh makes it; a direct run may not */
    f = fopen(p, "wb");
    if (!f) return NULL;
    if (fwrite(data, 1, n, f) != n) { fclose(f); return NULL; }
    if (fclose(f)) return NULL;
    return p;
}

/* A JSONL fact file whose second line is a lone "{": the error path once
 * freed the fields of a fact slot nothing had initialised. */
static void test_facts_bad_second_line(void)
{
    static const char data[] = "{\"question\":\"q\",\"answers\":[\"a\"]}\n{\n";
    const char *p = write_tmp("readers_facts.jsonl", data, sizeof data - 1);
    char want[4200];
    lr_facts f;
    lr_error err;
    CHECK_INT(sizeof data - 1, 35);
    CHECK(p != NULL);
    if (!p) return;
    memset(&f, 0, sizeof f);
    snprintf(want, sizeof want, "%s:2", p);
    CHECK_ERR(lr_facts_load(p, &f, &err), &err, want);
    CHECK_INT(f.n, 1); /* the first fact stays, the set is still freeable */
    lr_facts_free(&f);
    /* an array file whose second fact is bad: the fact being filled is freed */
    {
        static const char arr[] = "[{\"question\":\"q\",\"answers\":[\"a\"]},\n"
                                  " {\"question\":\"r\",\"answers\":[\"b\"],\"category\":7}]";
        p = write_tmp("readers_facts.json", arr, sizeof arr - 1);
        memset(&f, 0, sizeof f);
        CHECK_ERR(lr_facts_load(p, &f, &err), &err, "category");
        lr_facts_free(&f);
    }
}

/* Several fact files into one set, in order, cut to a limit; a missing
 * file fails naming it. */
static void test_facts_load_all(void)
{
    static const char a[] = "{\"question\":\"q1\",\"answers\":[\"a\"]}\n"
                            "{\"question\":\"q2\",\"answers\":[\"b\"]}\n";
    static const char b[] = "[{\"question\":\"q3\",\"answers\":[\"c\"]}]";
    const char *paths[3];
    lr_facts f;
    lr_error err;
    paths[0] = write_tmp("readers_all_a.jsonl", a, sizeof a - 1);
    paths[1] = write_tmp("readers_all_b.json", b, sizeof b - 1);
    paths[2] = h_tmp("readers_all_missing.jsonl");
    CHECK(paths[0] != NULL && paths[1] != NULL);
    if (!paths[0] || !paths[1]) return;
    memset(&f, 0, sizeof f);
    CHECK_OK(lr_facts_load_all(paths, 2, -1, &f, &err), &err);
    CHECK_INT(f.n, 3);
    if (f.n == 3) CHECK_STR(f.items[2].question, "q3");
    lr_facts_free(&f);
    CHECK_OK(lr_facts_load_all(paths, 2, 2, &f, &err), &err);
    CHECK_INT(f.n, 2);
    if (f.n == 2) CHECK_STR(f.items[1].question, "q2");
    lr_facts_free(&f);
    CHECK_ERR(lr_facts_load_all(paths, 3, -1, &f, &err), &err, "readers_all_missing");
    lr_facts_free(&f);
}

/* A llama2.c v0 header whose vocabulary size is INT32_MIN: negating it
 * (the v0 sign marks an unshared classifier) overflowed. */
static void test_llama2c_int_min_vocab(void)
{
    unsigned char h[28];
    const char *p;
    lr_model *m = NULL;
    lr_error err;
    memset(h, 0, sizeof h);
    h[23] = 0x80; /* sixth int32 (vocab): 00 00 00 80 */
    p = write_tmp("readers_int_min.bin", h, sizeof h);
    CHECK(p != NULL);
    if (!p) return;
    CHECK_ERR(lr_model_load_llama2c(p, &m, &err), &err, "implausible llama2.c header");
    CHECK(m == NULL);
}

/* The 307-byte tokenizer.json of the issue: vocabulary {"a":0} and an added
 * token with id 2^31-1 once sized an 8 GB table before the byte check. */
static const char tok_307[] =
    "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, "
    "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": "
    "\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|"
    "\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|"
    "\\\\s+(?!\\\\S)|\\\\s+\"}}, \"added_tokens\": [{\"id\": 2147483647, "
    "\"content\": \"x\"}]}";

static void test_tokenizer_huge_added_id(void)
{
    lr_tokenizer tok;
    lr_error err;
    lr_buf b = {0};
    char hexbyte[16];
    int i, n = 0;
    CHECK_INT(sizeof tok_307 - 1, 307);
    CHECK_ERR(lr_tokenizer_load_buffer(tok_307, sizeof tok_307 - 1, "t307",
                                       &tok, &err), &err, "vocabulary lacks single bytes");
    /* the same id with all 256 bytes in the vocabulary: refused by the
     * bound (ids past the vocabulary <= file bytes + 256), not allocated */
    lr_buf_puts(&b, "{\"model\": {\"type\": \"BPE\", \"merges\": [], \"vocab\": {");
    for (i = 0; i < 256; i++) {
        /* GPT-2 byte-to-unicode: printable bytes as themselves, others
         * U+0100 + n, written as \u escapes */
        int printable = (i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) ||
                        (i >= 0xAE && i <= 0xFF);
        int cp = printable ? i : 256 + n++;
        snprintf(hexbyte, sizeof hexbyte, "%04x", cp);
        lr_buf_printf(&b, "%s\"\\u%s\": %d", i ? ", " : "", hexbyte, i);
    }
    lr_buf_puts(&b, "}}, \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": "
                    "\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|"
                    "\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|"
                    "\\\\s+(?!\\\\S)|\\\\s+\"}}, \"added_tokens\": [");
    {
        size_t head = b.len;
        lr_buf_puts(&b, "{\"id\": 2147483647, \"content\": \"x\"}]}");
        CHECK_ERR(lr_tokenizer_load_buffer(b.data, b.len, "t256", &tok, &err),
                  &err, "more than a");
        /* a near id loads (holes allowed within the bound) */
        b.len = head;
        lr_buf_puts(&b, "{\"id\": 300, \"content\": \"x\"}]}");
        if (lr_tokenizer_load_buffer(b.data, b.len, "t256", &tok, &err) == 0) {
            CHECK_INT(tok.vocab_size, 301);
            lr_tokenizer_free(&tok);
        } else {
            CHECK(!"a special token just past the vocabulary loads");
            fprintf(stderr, "  %s\n", err.msg);
        }
    }
    lr_buf_free(&b);
}

/* The 77-byte adapter_config.json (r = 2^20, all-linear) with an empty
 * safetensors: the tensors are checked before the parameters are
 * allocated (here they would be terabytes). */
static void test_adapter_huge_rank_no_tensors(void)
{
    static const char cfg[] = "{\"peft_type\":\"LORA\",\"r\":1048576,"
                              "\"lora_alpha\":1,\"target_modules\":\"all-linear\"}";
    static const unsigned char st[10] = {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    const char *dir = h_tmp("readers_adapter");
    char path[4200];
    lr_config c;
    lr_lora lo;
    lr_error err;
    CHECK_INT(sizeof cfg - 1, 77);
    lr_make_dir(dir);
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    CHECK(write_tmp("readers_adapter/adapter_config.json", cfg, sizeof cfg - 1) != NULL);
    CHECK(write_tmp("readers_adapter/adapter_model.safetensors", st, sizeof st) != NULL);
    memset(&c, 0, sizeof c);
    c.hidden_size = 4096; c.intermediate_size = 14336; c.num_hidden_layers = 32;
    c.num_attention_heads = 32; c.num_key_value_heads = 8; c.head_dim = 128;
    c.vocab_size = 128256; c.max_position_embeddings = 8192;
    /* a 64-bit host finds the tensors missing; a 32-bit host cannot even
     * address that many parameters and says so first: either way a clean
     * error before any allocation */
    CHECK_ERR(lr_adapter_load(dir, &c, &lo, &err), &err,
              sizeof(size_t) >= 8 ? "missing tensor" : "too many parameters");
    CHECK(lo.params == NULL);
}

/* vocab_size 0 leaves ids unchecked against a vocabulary, but an id must
 * still fit the int32 it is stored in. */
static void test_dataset_id_past_int32(void)
{
    static const char d1[] = "{\"input_ids\": [1, 2147483648]}\n";
    static const char d2[] = "{\"input_ids\": [1, 2], \"labels\": [1, 2147483648]}\n";
    static const char d3[] = "{\"input_ids\": [1, 2147483647]}\n";
    lr_dataset_opts o;
    lr_dataset ds;
    lr_error err;
    const char *p;
    memset(&o, 0, sizeof o);
    o.loss_on = LR_LOSS_ALL;
    p = write_tmp("readers_ds1.jsonl", d1, sizeof d1 - 1);
    CHECK_ERR(lr_dataset_load(p, NULL, &o, &ds, &err), &err, "readers_ds1.jsonl:1");
    p = write_tmp("readers_ds2.jsonl", d2, sizeof d2 - 1);
    CHECK_ERR(lr_dataset_load(p, NULL, &o, &ds, &err), &err, "not a token id");
    p = write_tmp("readers_ds3.jsonl", d3, sizeof d3 - 1);
    CHECK_OK(lr_dataset_load(p, NULL, &o, &ds, &err), &err);
    if (ds.n == 1) {
        CHECK_INT(ds.ex[0].ids[1], 2147483647);
        lr_dataset_free(&ds);
    }
}

int main(void)
{
    RUN(test_facts_bad_second_line);
    RUN(test_facts_load_all);
    RUN(test_llama2c_int_min_vocab);
    RUN(test_tokenizer_huge_added_id);
    RUN(test_adapter_huge_rank_no_tensors);
    RUN(test_dataset_id_past_int32);
    return h_finish("test_readers");
}
