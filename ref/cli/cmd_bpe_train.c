/* cmd_bpe_train.c - `llamaref bpe-train`: trains a byte-level BPE
 * vocabulary on a text file and writes it as a Llama 3 tiktoken file
 * (tokenizer.model), which `tokenize`, `generate` and the chat templates
 * load with the Llama 3 special tokens after the learned tokens.
 * Algorithm and tie-break: include/llamaref/tokenizer/bpe_train.h. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "llamaref/tokenizer/bpe_train.h"

#define STRING_OF(x) #x
#define NUMBER_TEXT(x) STRING_OF(x) /* a macro's value as a string */

static const char head[] =
"usage: llamaref bpe-train --corpus FILE --vocab-size N --out FILE\n"
"                          [--max-token-bytes N] [--quiet]\n";
static const char foot[] =
"Byte-level BPE on the pieces of the Llama 3 pre-tokenizer: 256 single\n"
"bytes, then merges of the most frequent adjacent pair (ties: smallest\n"
"left id, then smallest right id) until N tokens.  The tokenizer adds\n"
"the 256 Llama 3 special tokens at ids N..N+255.\n";

int cmd_bpe_train(int argc, char **argv)
{
    const char *corpus = NULL, *out_path = NULL;
    lr_bpe_train_opts opts;
    lr_bpe_trained tr;
    lr_error err;
    size_t len;
    long vocab = 0, max_bytes = 0;
    int quiet = 0, rc;
    double seconds;
    const cli_optdef table[] = { /* in --help's order */
        CLI_H("--corpus", CLI_STR, &corpus, "--corpus FILE             the training text"),
        CLI_HN("--vocab-size", CLI_LONG, &vocab, 256, 1L << 24,
               "--vocab-size N            learned tokens (>= 256: the single bytes)"),
        CLI_H("--out", CLI_STR, &out_path,
              "--out FILE                the tiktoken file (\"base64(bytes) rank\" per\n"
              "                            line; parent directories created first)"),
        CLI_HN("--max-token-bytes", CLI_LONG, &max_bytes, 2, 1000,
               "--max-token-bytes N       longest token (default "
               NUMBER_TEXT(LR_BPE_TRAIN_MAX_TOKEN_BYTES) ")"),
        CLI_H("--quiet", CLI_FLAG, &quiet, "--quiet                   no summary on stderr"),
    };
    memset(&opts, 0, sizeof opts);
    if ((rc = cli_parse_doc("bpe-train", argc, argv, 1, table,
                            sizeof table / sizeof table[0], head, foot)) >= 0)
        return rc;
    opts.vocab_size = (size_t)vocab;
    opts.max_token_bytes = (size_t)max_bytes;
    if (!corpus || !out_path || opts.vocab_size == 0) {
        fprintf(stderr, "llamaref bpe-train: --corpus, --vocab-size and --out are "
                "required (see --help)\n");
        return 2;
    }
    if (cli_prepare_out("bpe-train", out_path, 0)) return 1;
    if (lr_bpe_train_file(corpus, out_path, &opts, &tr, &len, &seconds, &err)) {
        fprintf(stderr, "llamaref bpe-train: %s\n", err.msg);
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "bpe-train: %s: %lu bytes, %lu pieces (%lu distinct); "
                "%lu merges -> %lu tokens (+256 special) in %.2f s -> %s\n",
                corpus, (unsigned long)len, (unsigned long)tr.n_pieces,
                (unsigned long)tr.n_words, (unsigned long)tr.n_merges,
                (unsigned long)tr.vocab.n, seconds, out_path);
    if (tr.vocab.n < opts.vocab_size)
        fprintf(stderr, "llamaref bpe-train: warning: the corpus ran out of pairs at %lu tokens "
                "(asked for %lu)\n", (unsigned long)tr.vocab.n,
                (unsigned long)opts.vocab_size);
    lr_bpe_trained_free(&tr);
    return 0;
}
