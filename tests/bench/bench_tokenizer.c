/* bench_tokenizer.c - throughput of the Llama 3 tokenizer (make
 * bench-tokenizer).  Usage: bench_tokenizer TOKENIZER CORPUS...
 * Each corpus is encoded line by line (plain text, no special parsing), as
 * many passes as fit in about a second; prints MB/s (1 MB = 1e6 bytes).
 * Also times loading the vocabulary and one 1 MB run of letters (a single
 * pre-tokenizer piece: the heap BPE path).  A benchmark, never a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/tokenizer/tokenizer.h"

int main(int argc, char **argv)
{
    lr_tokenizer tok;
    lr_error err;
    lr_tokens ids = {0};
    double t0, t;
    int a;
    if (argc < 3) {
        fprintf(stderr, "usage: bench_tokenizer TOKENIZER CORPUS...\n");
        return 2;
    }
    t0 = lr_clock_seconds();
    if (lr_tokenizer_load(argv[1], &tok, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("llamaref: load %s: %.1f ms\n", argv[1], 1e3 * (lr_clock_seconds() - t0));
    for (a = 2; a < argc; a++) {
        char *data;
        size_t len, passes = 0, bytes = 0, n_tokens = 0;
        if (lr_read_file(argv[a], &data, &len, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        t0 = lr_clock_seconds();
        do {
            size_t pos = 0;
            n_tokens = 0;
            while (pos < len) {
                char *nl = memchr(data + pos, '\n', len - pos);
                size_t end = nl ? (size_t)(nl - data) + 1 : len;
                ids.n = 0;
                if (lr_tokenizer_encode(&tok, data + pos, end - pos, 0, &ids, &err)) {
                    fprintf(stderr, "%s\n", err.msg);
                    return 1;
                }
                n_tokens += ids.n;
                pos = end;
            }
            bytes += len;
            passes++;
            t = lr_clock_seconds() - t0;
        } while (t < 1.0);
        printf("llamaref: %s: %.2f MB, %zu tokens, %zu passes: %.1f MB/s\n", argv[a], len / 1e6,
               n_tokens, passes, bytes / 1e6 / t);
        free(data);
    }
    {
        size_t n = 1 << 20, i;
        char *s = malloc(n);
        unsigned r = 1;
        if (!s) return 1;
        for (i = 0; i < n; i++) {
            r = r * 1103515245u + 12345u;
            s[i] = (char)('a' + (r >> 16) % 26);
        }
        ids.n = 0;
        t0 = lr_clock_seconds();
        if (lr_tokenizer_encode(&tok, s, n, 0, &ids, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        printf("llamaref: one 1 MB piece of random letters: %zu tokens in %.3f s\n", ids.n,
               lr_clock_seconds() - t0);
        free(s);
    }
    lr_tokens_free(&ids);
    lr_tokenizer_free(&tok);
    return 0;
}
