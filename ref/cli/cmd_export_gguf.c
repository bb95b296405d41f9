/* cmd_export_gguf.c - `llamaref export-gguf --model PATH --out F.gguf
 * [--type f32|f16|bf16|q8_0] [--tokenizer PATH | --no-tokenizer]`: a
 * model (any format llamaref loads) as a llama GGUF that llama.cpp loads,
 * with tokenizer.ggml.* metadata.  The library does the work
 * (gguf_model.c, gguf_tokenizer.c); see docs/gguf.md. */
#include <stdio.h>

#include "cli.h"
#include "llamaref/formats/gguf.h"
#include "llamaref/formats/quant.h"

static const char head[] =
"usage: llamaref export-gguf -m, --model PATH --out F.gguf\n"
"                            [--type f32|f16|bf16|q8_0]\n"
"                            [--tokenizer PATH | --no-tokenizer]\n";
static const char foot[] =
"Writes the model as a llama GGUF with the tokenizer as tokenizer.ggml.*\n"
"metadata; q/k rows in Meta's layout, llama3 scaling as rope_freqs.\n";

int cmd_export_gguf(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *type_name = "f32", *tok_path = NULL;
    int no_tok = 0, rc;
    uint32_t type;
    lr_error err;
    const cli_optdef opts[] = {
        CLI_OPT("--model", CLI_STR, &model),
        CLI_OPT("--tokenizer", CLI_STR, &tok_path),
        CLI_H("--no-tokenizer", CLI_FLAG, &no_tok,
              "--no-tokenizer            write the weights only"),
        CLI_H("--out", CLI_STR, &out,
              "--out F.gguf              the GGUF file (written atomically; parent\n"
              "                            directories created first)"),
        CLI_H("--type", CLI_STR, &type_name,
              "--type T                  f32 (default), f16, bf16 or q8_0: the type of\n"
              "                            the matrices (norms stay F32)"),
    };
    if ((rc = cli_parse_doc("export-gguf", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                            head, foot)) >= 0)
        return rc;
    if (!model || !out) {
        fprintf(stderr, "llamaref export-gguf: --model PATH and --out F.gguf are "
                "required (see --help)\n");
        return 2;
    }
    if (tok_path && no_tok) {
        fprintf(stderr, "llamaref export-gguf: --tokenizer and --no-tokenizer exclude "
                "each other\n");
        return 2;
    }
    if (lr_gguf_export_type(type_name, &type)) {
        fprintf(stderr, "llamaref export-gguf: --type must be f32, f16, bf16 or q8_0 (got '%s')\n",
                type_name);
        return 2;
    }
    if (cli_prepare_out("export-gguf", out, 0)) return 1;
    if ((rc = lr_export_gguf(model, tok_path, no_tok, type, out, &err)) != 0) {
        fprintf(stderr, "llamaref export-gguf: %s%s\n", err.msg,
                rc == -2 ? " (--no-tokenizer writes weights only)" : "");
        return 1;
    }
    fprintf(stderr, "llamaref export-gguf: wrote %s (%s)\n", out, lr_ggml_type_name(type));
    return 0;
}
