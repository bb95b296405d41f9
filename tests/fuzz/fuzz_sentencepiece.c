/* fuzz_sentencepiece.c - libFuzzer target: llama2.c's tokenizer.bin (the
 * SentencePiece vocabulary export) through lr_sp_load_buffer, then an
 * encode/decode of a fixed text and of the input's tail. */
#include "fuzz_util.h"
#include "llamaref/tokenizer/sentencepiece.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    static const char text[] = "Hello world, \xc3\xa9t\xc3\xa9 \xe2\x82\xac 123\n";
    unsigned char *copy = (unsigned char *)fz_copy(data, n, 0);
    lr_sp sp;
    lr_error err;
    if (!copy) return 0;
    if (lr_sp_load_buffer(copy, n, "fuzz", &sp, &err) == 0) {
        lr_tokens t = {0};
        lr_buf b = {0};
        size_t i;
        int at = 1;
        if (lr_sp_encode(&sp, text, sizeof text - 1, &t, &err) == 0)
            for (i = 0; i < t.n; i++) (void)lr_sp_decode_token(&sp, t.ids[i], &at, &b, &err);
        t.n = 0;
        if (lr_sp_encode(&sp, (const char *)copy + n / 2, n - n / 2, &t, &err) == 0)
            for (i = 0; i < t.n; i++) (void)lr_sp_decode_token(&sp, t.ids[i], &at, &b, &err);
        for (i = 0; i < 8; i++) (void)lr_sp_decode_token(&sp, (int32_t)(i * 977) - 3, &at, &b, &err);
        free(t.ids);
        lr_buf_free(&b);
        lr_sp_free(&sp);
    }
    free(copy);
    return 0;
}
