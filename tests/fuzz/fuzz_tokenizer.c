/* fuzz_tokenizer.c - libFuzzer target: the Llama 3 tokenizer on arbitrary
 * bytes must round-trip exactly (decode(encode(x)) == x, with and without
 * special-token parsing) and the streaming decoder must agree with decode.
 * Needs $LLAMAREF_ASSETS/llama3/tokenizer.model (default ../shared/assets). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/tokenizer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

static lr_tokenizer tok; /* loaded once: read-only afterwards */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *base = getenv("LLAMAREF_ASSETS");
    char path[4096];
    lr_error err;
    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "%s/llama3/tokenizer.model", base ? base : "../shared/assets");
    if (lr_tokenizer_load(path, &tok, &err)) {
        fprintf(stderr, "fuzz_tokenizer: %s\n", err.msg);
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    unsigned flags;
    for (flags = 0; flags <= LR_ENCODE_SPECIAL; flags += LR_ENCODE_SPECIAL) {
        lr_tokens ids = {0};
        lr_buf out = {0}, streamed = {0};
        lr_stream_decoder sd;
        lr_error err;
        size_t i;
        if (lr_tokenizer_encode(&tok, (const char *)data, n, flags, &ids, &err)) abort();
        if (lr_tokenizer_decode(&tok, ids.ids, ids.n, &out, &err)) abort();
        if (out.len != n || (n && memcmp(out.data, data, n))) abort();
        lr_stream_decoder_init(&sd, &tok);
        for (i = 0; i < ids.n; i++)
            if (lr_stream_decoder_push(&sd, ids.ids[i], &streamed, &err)) abort();
        if (lr_stream_decoder_flush(&sd, &streamed, &err)) abort();
        if (streamed.len != n || (n && memcmp(streamed.data, data, n))) abort();
        lr_tokens_free(&ids);
        lr_buf_free(&out);
        lr_buf_free(&streamed);
    }
    return 0;
}
