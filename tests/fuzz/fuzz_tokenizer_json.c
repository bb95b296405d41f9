/* fuzz_tokenizer_json.c - libFuzzer target: a Hugging Face tokenizer.json (byte-level BPE, Llama 3 split, added tokens)
 * through lr_tokenizer_load_buffer; a tokenizer that loads must encode and
 * decode text (the input's own bytes included) and refuse bad ids cleanly. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    static const char text[] = "Hello world<|eot_id|> \xc3\xa9t\xc3\xa9 123\n\n  x";
    char *copy = fz_copy(data, n, 0);
    lr_tokenizer tok;
    lr_error err;
    unsigned flags;
    if (!copy) return 0;
    if (lr_tokenizer_load_buffer(copy, n, "fuzz", &tok, &err) == 0) {
        for (flags = 0; flags <= LR_ENCODE_SPECIAL; flags += LR_ENCODE_SPECIAL) {
            lr_tokens ids = {0};
            lr_buf out = {0};
            int32_t bad[3];
            if (lr_tokenizer_encode(&tok, text, sizeof text - 1, flags, &ids, &err) == 0 &&
                lr_tokenizer_decode(&tok, ids.ids, ids.n, &out, &err) == 0 && !flags &&
                tok.format != LR_TOK_LLAMA2C &&
                (out.len != sizeof text - 1 || memcmp(out.data, text, out.len)))
                abort(); /* byte-level BPE is lossless */
            ids.n = 0;
            (void)lr_tokenizer_encode(&tok, copy + n / 2, n - n / 2, flags, &ids, &err);
            (void)lr_tokenizer_decode(&tok, ids.ids, ids.n, &out, &err);
            bad[0] = -1; bad[1] = (int32_t)tok.vocab_size; bad[2] = 0x7fffffff;
            (void)lr_tokenizer_decode(&tok, bad, 3, &out, &err);
            lr_tokens_free(&ids);
            lr_buf_free(&out);
        }
        lr_tokenizer_free(&tok);
    }
    free(copy);
    return 0;
}
