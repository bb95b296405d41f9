/* fuzz_bpe_train.c - libFuzzer target: a `llamaref bpe-train` corpus
 * (lr_bpe_train to 300 tokens); the trained vocabulary is written as
 * tiktoken, loaded back as a tokenizer and must encode the corpus
 * losslessly. */
#include "fuzz_util.h"
#include "llamaref/bpe_train.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    char *text = fz_copy(data, n, 0);
    lr_bpe_train_opts o;
    lr_bpe_trained t;
    lr_error err;
    if (!text) return 0;
    memset(&o, 0, sizeof o);
    o.vocab_size = 300;
    o.max_token_bytes = n & 1 ? 4 : 0;
    if (lr_bpe_train(text, n, &o, &t, &err) == 0) {
        lr_buf b = {0};
        lr_tokenizer tok;
        if (lr_bpe_write_tiktoken(&t.vocab, &b, &err)) abort();
        if (lr_tokenizer_load_buffer(b.data, b.len, "trained", &tok, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            abort();
        }
        {
            lr_tokens ids = {0};
            lr_buf out = {0};
            if (lr_tokenizer_encode(&tok, text, n, 0, &ids, &err) ||
                lr_tokenizer_decode(&tok, ids.ids, ids.n, &out, &err) ||
                out.len != n || (n && memcmp(out.data, text, n)))
                abort();
            lr_tokens_free(&ids);
            lr_buf_free(&out);
        }
        lr_tokenizer_free(&tok);
        lr_buf_free(&b);
        lr_bpe_trained_free(&t);
    }
    free(text);
    return 0;
}
