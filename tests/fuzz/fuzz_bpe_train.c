/* fuzz_bpe_train.c - libFuzzer target: a `llamaref bpe-train` corpus
 * (lr_bpe_train to 300 tokens); the trained vocabulary is written as
 * tiktoken, loaded back as a tokenizer and must encode the corpus
 * losslessly.  Training itself must succeed on any text, with at most
 * 300 tokens, none longer than max_token_bytes.
 *
 * Cost bound: only the first FZ_BPE_MAX_BYTES bytes of an input are the
 * corpus (the campaign runs this target with -max_len=1024).  Each
 * execution trains, writes, reloads (256 bytes + the merges + 256 special
 * tokens) and round-trips; under ASan and libFuzzer that is about 0.8 ms
 * of CPU for a few bytes, 1.5 ms for a few hundred and 6 to 13 ms at 4 KB,
 * too slow for a million executions.  1024 bytes still reach every
 * branch of the trainer: the pair table starts at 1024 slots and doubles
 * past 512 pairs (a 1 KB word of mixed-case letters has more distinct
 * adjacent pairs than that), the piece table doubles past 512 distinct
 * pieces (513 pieces of one or two bytes such as "!a?b"), 44 merges are
 * enough for a run of 129 equal letters to make a 128-byte token and so
 * reach the max_token_bytes refusal, and the other paths (no pair left
 * before the vocabulary is full, a merge whose bytes already are a token,
 * stale heap entries) need a few bytes.  Inputs of odd length use
 * max_token_bytes 4, even ones the default (128).
 *
 * ASan's quarantine of freed memory is 32 MB here instead of 256 MB: an
 * execution frees well under 1 MB, so a use after free within one
 * execution is still caught, and the allocator reuses pages instead of
 * faulting in fresh ones (about 20 % of the time at 256 MB). */
#include "fuzz_util.h"
#include "llamaref/tokenizer/bpe_train.h"

#define FZ_BPE_MAX_BYTES 1024

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=32";
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    char *text;
    lr_bpe_train_opts o;
    lr_bpe_trained t;
    lr_error err;
    memset(&o, 0, sizeof o);
    o.vocab_size = 300;
    if (n > FZ_BPE_MAX_BYTES) n = FZ_BPE_MAX_BYTES;
    o.max_token_bytes = n & 1 ? 4 : 0;
    text = fz_copy(data, n, 0);
    if (!text) return 0;
    /* any text trains (only a broken trainer or running out of memory
     * fails, and libFuzzer's malloc limit reports the latter itself) */
    if (lr_bpe_train(text, n, &o, &t, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    {
        lr_buf b = {0};
        lr_tokenizer tok;
        size_t id, len, max = o.max_token_bytes ? o.max_token_bytes : LR_BPE_TRAIN_MAX_TOKEN_BYTES;
        /* at most vocab_size tokens, none longer than max_token_bytes */
        if (t.vocab.n > o.vocab_size) abort();
        for (id = 0; id < t.vocab.n; id++) {
            lr_vocab_bytes(&t.vocab, id, &len);
            if (len > max) abort();
        }
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
