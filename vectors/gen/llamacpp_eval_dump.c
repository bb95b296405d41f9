/* llamacpp_eval_dump.c - a maintainer tool (docs/verify.md, "A real
 * llama.cpp dump"): runs llama.cpp's forward on token ids through its C
 * API with an eval callback (llama_context_params.cb_eval) and writes the
 * F32 graph tensors that `verify --names llama.cpp` maps (embd,
 * attn_norm-N, Qcur-N, Kcur-N, Vcur-N, kq_soft_max-N, kqv_out-N,
 * attn_out-N, ffn_inp-N, ffn_norm-N, ffn_gate-N, ffn_up-N, ffn_swiglu-N,
 * ffn_out-N, l_out-N, result_norm, result_output; with ALL=1 in the
 * environment every F32 tensor the callback sees), under their graph names
 * ("Qcur-0", the second "Qcur-0" as "Qcur-0#2", "result_output"), in
 * row-major order (ggml's ne[0] is the last dimension), to a safetensors
 * file for `llamaref verify --names llama.cpp`.
 *
 * It is built against the llama.cpp headers of the release that
 * node-llama-cpp@3.22.1 ships as a git bundle and linked with that
 * package's prebuilt shared libraries (node-llama-cpp's own JavaScript API
 * has no eval callback).  Settings: flash attention off, F32 K/V cache,
 * one ubatch of all T tokens, n_ctx = T, logits for every position, one
 * thread.  The safetensors file is written with libllamaref's writer.
 *   llamacpp_eval_dump BINS_DIR MODEL.gguf "i0 i1 ..." OUT.safetensors */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml-backend.h"
#include "ggml.h"
#include "llama.h"
#include "llamaref/formats/safetensors.h"

#define MAX_SEEN 4096

static const char *const mapped[] = {
    "embd", "attn_norm-", "Qcur-", "Kcur-", "Vcur-", "kq_soft_max-",
    "kqv_out-", "attn_out-", "ffn_inp-", "ffn_norm-", "ffn_gate-", "ffn_up-",
    "ffn_swiglu-", "ffn_out-", "l_out-", "result_norm", "result_output"};

/* "embd", "result_norm", ... exactly; "Qcur-" and the like with digits */
static int is_mapped(const char *name)
{
    size_t i, n;
    const char *p;
    if (getenv("ALL")) return 1;
    for (i = 0; i < sizeof mapped / sizeof mapped[0]; i++) {
        n = strlen(mapped[i]);
        if (strncmp(name, mapped[i], n)) continue;
        if (mapped[i][n - 1] != '-') return name[n] == 0;
        for (p = name + n; *p >= '0' && *p <= '9'; p++) {}
        if (p > name + n && *p == 0) return 1;
    }
    return 0;
}

typedef struct dump_ctx {
    lr_st_writer *w;
    char *seen[MAX_SEEN];
    int n_seen, failed;
    lr_error err;
} dump_ctx;

static bool eval_cb(struct ggml_tensor *t, bool ask, void *user)
{
    dump_ctx *d = user;
    char name[GGML_MAX_NAME + 16];
    int64_t shape[GGML_MAX_DIMS];
    float *buf;
    int nd = GGML_MAX_DIMS, i, k, twice = 0;
    if (ask) return t->type == GGML_TYPE_F32 && t->name[0];
    if (t->type != GGML_TYPE_F32 || !t->name[0]) return true;
    if (!ggml_is_contiguous(t)) {
        fprintf(stderr, "llamacpp_eval_dump: %s is not contiguous, left out\n", t->name);
        return true;
    }
    for (i = 0; i < d->n_seen; i++)
        if (!strcmp(d->seen[i], t->name)) twice++;
    if (d->n_seen < MAX_SEEN) {
        d->seen[d->n_seen] = malloc(strlen(t->name) + 1);
        if (d->seen[d->n_seen]) strcpy(d->seen[d->n_seen++], t->name);
    }
    if (!is_mapped(t->name)) return true;
    if (twice) snprintf(name, sizeof name, "%s#%d", t->name, twice + 1);
    else snprintf(name, sizeof name, "%s", t->name);
    while (nd > 1 && t->ne[nd - 1] == 1) nd--;
    for (k = 0; k < nd; k++) shape[k] = t->ne[nd - 1 - k];
    buf = malloc(ggml_nbytes(t));
    if (!buf) { d->failed = 1; return false; }
    ggml_backend_tensor_get(t, buf, 0, ggml_nbytes(t));
    if (lr_st_writer_add_f32(d->w, name, LR_F32, nd, shape, buf, &d->err)) {
        d->failed = 1;
        free(buf);
        return false;
    }
    free(buf);
    return true;
}

int main(int argc, char **argv)
{
    struct llama_model_params mp;
    struct llama_context_params cp;
    struct llama_model *model;
    struct llama_context *ctx;
    struct llama_batch batch;
    dump_ctx d;
    int ids[4096], T = 0, i;
    char *s, *end;
    if (argc != 5) {
        fprintf(stderr, "usage: llamacpp_eval_dump BINS_DIR MODEL.gguf \"i0 i1 ...\" OUT.safetensors\n");
        return 2;
    }
    for (s = argv[3]; T < 4096; s = end) {
        long v = strtol(s, &end, 10);
        if (end == s) break;
        ids[T++] = (int)v;
    }
    if (T == 0) { fprintf(stderr, "llamacpp_eval_dump: no ids\n"); return 2; }
    memset(&d, 0, sizeof d);
    if (!(d.w = lr_st_writer_new(&d.err))) return 1;
    ggml_backend_load_all_from_path(argv[1]);
    llama_backend_init();
    mp = llama_model_default_params();
    if (!(model = llama_model_load_from_file(argv[2], mp))) {
        fprintf(stderr, "llamacpp_eval_dump: cannot load %s\n", argv[2]);
        return 1;
    }
    cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)T;
    cp.n_batch = (uint32_t)T;
    cp.n_ubatch = (uint32_t)T;
    cp.n_seq_max = 1;
    cp.n_threads = cp.n_threads_batch = 1;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = GGML_TYPE_F32;
    cp.type_v = GGML_TYPE_F32;
    cp.cb_eval = eval_cb;
    cp.cb_eval_user_data = &d;
    if (!(ctx = llama_init_from_model(model, cp))) {
        fprintf(stderr, "llamacpp_eval_dump: cannot create a context\n");
        return 1;
    }
    batch = llama_batch_init(T, 0, 1);
    for (i = 0; i < T; i++) {
        batch.token[i] = ids[i];
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = T;
    if (llama_decode(ctx, batch) || d.failed) {
        fprintf(stderr, "llamacpp_eval_dump: decode failed%s%s\n",
                d.failed ? ": " : "", d.failed ? d.err.msg : "");
        return 1;
    }
    if (lr_st_writer_meta(d.w, "generator", "vectors/gen/llamacpp_eval_dump.c (llama.cpp eval callback)", &d.err) ||
        lr_st_writer_save(d.w, argv[4], &d.err)) {
        fprintf(stderr, "llamacpp_eval_dump: %s\n", d.err.msg);
        return 1;
    }
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    lr_st_writer_free(d.w);
    for (i = 0; i < d.n_seen; i++) free(d.seen[i]);
    return 0;
}
