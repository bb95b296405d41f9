/* fuzz_gguf.c - libFuzzer target: arbitrary bytes as a GGUF file, opened,
 * every metadata getter and every (small) tensor read, then loaded as a
 * model and as a tokenizer, and the tokenizer written back as metadata.  The file is written in the scratch directory
 * of fuzz_util.h (/dev/shm). */
#include "fuzz_util.h"
#include "llamaref/formats/gguf.h"
#include "llamaref/model/model.h"
#include "llamaref/formats/quant.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
    const char *path = fz_write("fuzz.gguf", data, n);
    lr_gguf *g;
    lr_error err;
    size_t i;
    if (!path) return 0;
    if (lr_gguf_open(path, &g, &err) == 0) {
        for (i = 0; i < g->n_kv; i++) {
            int64_t iv;
            double dv;
            const char *s;
            if (lr_gguf_find_kv(g, g->kv[i].key) != &g->kv[i]) abort(); /* keys unique */
            lr_gguf_get_int(g, g->kv[i].key, &iv, &err);
            lr_gguf_get_float(g, g->kv[i].key, &dv, &err);
            lr_gguf_get_str(g, g->kv[i].key, &s, &err);
        }
        for (i = 0; i < g->n_tensors; i++) {
            const lr_gguf_tensor *t = &g->tensors[i];
            lr_float *buf;
            if (t->offset + t->nbytes > g->file_size) abort(); /* validated */
            if (t->nelem > (1u << 16)) continue;
            buf = malloc(sizeof *buf * (size_t)(t->nelem ? t->nelem : 1));
            if (buf) lr_gguf_read_tensor(g, t, buf, &err);
            free(buf);
        }
        lr_gguf_free(g);
    }
    {
        lr_model *m = NULL;
        lr_tokenizer tok;
        if (lr_model_load_gguf(path, &m, &err) == 0) lr_model_free(m);
        if (lr_tokenizer_load_gguf(path, &tok, &err) == 0) {
            lr_tokens ids = {0};
            lr_gguf_writer *w = lr_gguf_writer_new(&err);
            lr_config cfg;
            lr_tokenizer_encode(&tok, "Hello 123 world", 15, LR_ENCODE_SPECIAL, &ids, &err);
            lr_tokens_free(&ids);
            /* and written back as tokenizer.ggml.* (export-gguf, merge) */
            memset(&cfg, 0, sizeof cfg);
            cfg.vocab_size = (int)tok.vocab_size;
            cfg.bos_token_id = tok.bos_id;
            if (w) lr_tokenizer_to_gguf(&tok, &cfg, w, &err);
            lr_gguf_writer_free(w);
            lr_tokenizer_free(&tok);
        }
    }
    return 0;
}
