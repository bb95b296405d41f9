/* cmd_export_gguf.c - `llamaref export-gguf --model PATH --out F.gguf
 * [--type f32|f16|bf16|q8_0] [--tokenizer PATH | --no-tokenizer]`: a
 * model (any format llamaref loads) as a llama GGUF that llama.cpp loads,
 * with tokenizer.ggml.* metadata.  The library does the work
 * (gguf_model.c, gguf_tokenizer.c); see docs/gguf.md. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "llamaref/gguf.h"
#include "llamaref/model.h"
#include "llamaref/quant.h"
#include "llamaref/tokenizer.h"

int cmd_export_gguf(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *type_name = "f32", *tok_path = NULL;
    int no_tok = 0, i, type, rc = 1, have_tok = 0;
    lr_model *m = NULL;
    lr_tokenizer tok;
    lr_error err;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--type") && i + 1 < argc) type_name = argv[++i];
        else if (!strcmp(argv[i], "--tokenizer") && i + 1 < argc) tok_path = argv[++i];
        else if (!strcmp(argv[i], "--no-tokenizer")) no_tok = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: llamaref export-gguf --model PATH --out F.gguf [--type f32|f16|bf16|q8_0]\n"
                   "                            [--tokenizer PATH | --no-tokenizer]\n"
                   "  writes the model as a llama GGUF (matrices in --type, norms F32),\n"
                   "  with the tokenizer (default: the model's own) as tokenizer.ggml.*\n"
                   "  metadata; q/k rows in Meta's layout, llama3 scaling as rope_freqs.\n"
                   "  The file is written atomically.\n");
            return 0;
        } else return cli_unknown("export-gguf", argv[i]);
    }
    if (!model || !out) {
        fprintf(stderr, "llamaref export-gguf: --model PATH and --out F.gguf are required\n");
        return 2;
    }
    type = lr_ggml_type_from_name(type_name);
    if (type != LR_GGML_F32 && type != LR_GGML_F16 && type != LR_GGML_BF16 &&
        type != LR_GGML_Q8_0) {
        fprintf(stderr, "llamaref export-gguf: --type must be f32, f16, bf16 or q8_0 (got '%s')\n",
                type_name);
        return 2;
    }
    if (lr_model_load(model, NULL, &m, &err)) {
        fprintf(stderr, "llamaref export-gguf: %s\n", err.msg);
        return 1;
    }
    if (!no_tok) {
        if (lr_tokenizer_load(tok_path ? tok_path : model, &tok, &err)) {
            fprintf(stderr, "llamaref export-gguf: %s (--no-tokenizer writes weights only)\n",
                    err.msg);
            goto done;
        }
        have_tok = 1;
    }
    if (lr_model_save_gguf(m, have_tok ? &tok : NULL, out, (uint32_t)type, &err)) {
        fprintf(stderr, "llamaref export-gguf: %s\n", err.msg);
        goto done;
    }
    fprintf(stderr, "llamaref export-gguf: wrote %s (%s)\n", out, lr_ggml_type_name((uint32_t)type));
    rc = 0;
done:
    if (have_tok) lr_tokenizer_free(&tok);
    lr_model_free(m);
    return rc;
}
