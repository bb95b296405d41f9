/* model_load.c - lr_model_load: a model from a path, whatever its format:
 * a Hugging Face directory (model.c), a GGUF file (gguf_model.c) or a
 * llama2.c checkpoint (llama2c.c), told apart by the path and the file's
 * first bytes.  Depends on those three loaders; none of them depends on it,
 * so model.c and llama2c.c no longer call each other.  And
 * lr_export_gguf (gguf.h), which loads through it and writes with
 * gguf_model.c. */
#include <stdio.h>
#include <string.h>

#include "llamaref/formats/gguf.h"
#include "llamaref/model/model.h"
#include "llamaref/tokenizer/tokenizer.h"

int lr_model_load(const char *path, const lr_load_options *opt, lr_model **out,
                  lr_error *err)
{
    size_t n = strlen(path);
    if (lr_path_is_dir(path)) return lr_model_load_hf(path, opt, out, err);
    if (n >= 4 && !strcmp(path + n - 4, ".bin")) return lr_model_load_llama2c(path, out, err);
    if ((n >= 5 && !strcmp(path + n - 5, ".gguf")) || lr_gguf_sniff(path))
        return lr_model_load_gguf(path, out, err);
    {
        /* a file that is not .bin: sniff for the llama2.c v1 magic or a header */
        FILE *f = fopen(path, "rb");
        unsigned char b[4];
        if (!f) return lr_fail(err, "%s: cannot open", path);
        if (fread(b, 1, 4, f) != 4) {
            fclose(f);
            return lr_fail(err, "%s: too short to be a model", path);
        }
        fclose(f);
        if (lr_le32(b) == 0x616b3432u) return lr_model_load_llama2c(path, out, err);
        return lr_fail(err, "%s: not a model directory (config.json + safetensors), a GGUF "
                       "file or a llama2.c .bin checkpoint", path);
    }
}

int lr_export_gguf(const char *model_path, const char *tok_path, int no_tokenizer,
                   uint32_t type, const char *out, lr_error *err)
{
    lr_model *m = NULL;
    lr_tokenizer tok;
    int rc = -1, have_tok = 0;
    if (lr_model_load(model_path, NULL, &m, err)) return -1;
    if (!no_tokenizer) {
        if (lr_tokenizer_load(tok_path ? tok_path : model_path, &tok, err)) {
            rc = -2;
            goto done;
        }
        have_tok = 1;
    }
    rc = lr_model_save_gguf(m, have_tok ? &tok : NULL, out, type, err) ? -1 : 0;
done:
    if (have_tok) lr_tokenizer_free(&tok);
    lr_model_free(m);
    return rc;
}
