/* tokenizer_load.c - lr_tokenizer_load (tokenizer.h): which loader a path
 * needs.  A directory: its tokenizer.json, tokenizer.model, tokenizer.bin
 * or original/tokenizer.model, the first found; a GGUF file: the
 * tokenizer.ggml.* metadata (gguf_tokenizer.c); any other file: the format
 * its contents show (lr_tokenizer_load_buffer, tokenizer.c).  Kept apart so
 * that the tokenizer and the GGUF tokenizer reader do not call each other.
 * Depends on: tokenizer.c, gguf_tokenizer.c, common.c (paths, files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaref/formats/gguf.h"
#include "llamaref/tokenizer/tokenizer.h"

int lr_tokenizer_load(const char *path, lr_tokenizer *tok, lr_error *err)
{
    static const char *const names[] = {"tokenizer.json", "tokenizer.model", "tokenizer.bin",
                                        "original/tokenizer.model"};
    char *file = NULL, *data = NULL;
    size_t len, i;
    int rc;
    memset(tok, 0, sizeof *tok);
    if (lr_path_is_dir(path)) {
        for (i = 0; i < sizeof names / sizeof names[0]; i++) {
            FILE *f;
            file = lr_path_join(path, names[i], err);
            if (!file) return -1;
            f = fopen(file, "rb");
            if (f) {
                fclose(f);
                break;
            }
            free(file);
            file = NULL;
        }
        if (!file)
            return lr_fail(err, "%s: no tokenizer.json, tokenizer.model or tokenizer.bin in this directory", path);
    } else {
        if (lr_gguf_sniff(path)) return lr_tokenizer_load_gguf(path, tok, err);
        file = lr_strdup(path, err);
        if (!file) return -1;
    }
    if (lr_read_file(file, &data, &len, err)) {
        free(file);
        return -1;
    }
    rc = lr_tokenizer_load_buffer(data, len, file, tok, err);
    free(data);
    if (rc) {
        free(file);
        return -1;
    }
    tok->path = file;
    return 0;
}
