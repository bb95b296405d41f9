/* cmd_dump.c - `llamaref dump`: run the forward pass on given token ids and
 * write logits (and with --all every intermediate, docs/tensors.md) to a
 * safetensors file, for checking other backends against the reference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_ids.h"
#include "llamaref/dump_grad.h"
#include "llamaref/adapter.h"
#include "llamaref/dump.h"
#include "llamaref/forward.h"
#include "llamaref/lora.h"
#include "llamaref/model.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: llamaref dump -m, --model PATH --ids \"i0 i1 ...\" --out FILE.safetensors\n"
"                     [--all] [--pos0 P] [--f64] [--adapter DIR] [--labels L]\n"
"                     [--full]\n");
    cli_help(f, "--model", NULL);
    cli_help(f, "--adapter", NULL);
    fprintf(f,
"                            (without --labels; the tensors below are the\n"
"                            adapted model's)\n"
"  --ids \"i0 i1 ...\"         the token ids of the sequence\n"
"  --out FILE.safetensors    the tensors (parent directories created first)\n"
"  --all                     every intermediate tensor (names in\n"
"                            docs/tensors.md), else only logits [T, vocab]\n"
"  --pos0 P                  position of the first token (default 0)\n"
"  --f64                     write F64 instead of F32 (useful with a DOUBLE=1\n"
"                            build)\n"
"  --labels \"l0 l1 ...\"      HF labels (logits[t] vs labels[t+1], -100\n"
"                            ignored): also writes loss [1]; with --adapter\n"
"                            DIR (PEFT LoRA branch x W^T + s (x A^T) B^T,\n"
"                            dropout off) grad.<adapter key> for every\n"
"                            adapter tensor (--all and --pos0 do not apply)\n"
"  --full                    with --labels (no --adapter): the full-parameter\n"
"                            backward, grad.<HF weight name> for every weight\n"
"                            and the activation gradients (docs/tensors.md)\n");
}

/* W' = W + s B A in this process's copy of the weights. */
static int merge_adapter(lr_model *m, const char *dir, lr_error *err)
{
    lr_lora lo;
    int r;
    memset(&lo, 0, sizeof lo);
    r = lr_adapter_load(dir, &m->config, &lo, err) ||
        lr_lora_merge(m, &lo, err);
    lr_lora_free(&lo);
    return r ? lr_fail_prefix(err, "--adapter %s", dir) : 0;
}

int cmd_dump(int argc, char **argv)
{
    const char *model_path = NULL, *ids_arg = NULL, *out = NULL;
    const char *adapter = NULL, *labels_arg = NULL; /* gradients: dump_grad.h */
    int *labels = NULL, nl = 0;
    int all = 0, f64 = 0, full = 0, *ids = NULL, *pos = NULL, T = 0, i, rc = 1;
    long pos0 = 0;
    lr_model *m = NULL;
    lr_acts a;
    lr_st_writer *w = NULL;
    lr_error err;
    memset(&a, 0, sizeof a);
    for (i = 1; i < argc; i++) {
        const char *s = cli_opt(argv[i]), *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(s, "--model") && v) { model_path = v; i++; }
        else if (!strcmp(s, "--ids") && v) { ids_arg = v; i++; }
        else if (!strcmp(s, "--out") && v) { out = v; i++; }
        else if (!strcmp(s, "--adapter") && v) { adapter = v; i++; }
        else if (!strcmp(s, "--labels") && v) { labels_arg = v; i++; }
        else if (!strcmp(s, "--all")) all = 1;
        else if (!strcmp(s, "--f64")) f64 = 1;
        else if (!strcmp(s, "--full")) full = 1;
        else if (!strcmp(s, "--pos0")) { if (cli_int(s, v, 0, 1L << 30, &pos0)) return 2; i++; }
        else return cli_bad_option("dump", s, usage);
    }
    if (!model_path || !ids_arg || !out) {
        fprintf(stderr, "llamaref dump: --model, --ids and --out are required "
                "(see --help)\n");
        return 2;
    }
    if (full && (!labels_arg || adapter)) {
        fprintf(stderr, "llamaref dump: --full needs --labels and no --adapter "
                "(see --help)\n");
        return 2;
    }
    if (cli_ids("--ids", ids_arg, &ids, &T)) return 2;
    if (cli_prepare_out("dump", out, 0)) { free(ids); return 1; }
    if (labels_arg && (cli_ids("--labels", labels_arg, &labels, &nl) || nl != T)) {
        if (labels) fprintf(stderr, "llamaref dump: --labels has %d values, --ids %d\n", nl, T);
        free(ids); free(labels);
        return 2;
    }
    pos = malloc(sizeof *pos * (size_t)T);
    if (!pos) goto done;
    for (i = 0; i < T; i++) pos[i] = (int)pos0 + i;
    if (lr_model_load(model_path, NULL, &m, &err) ||
        (adapter && !labels && merge_adapter(m, adapter, &err)) ||
        (labels ? !(w = lr_st_writer_new(&err)) ||
                      (full ? lr_dump_full_grads(w, m, ids, labels, T,
                                                 f64 ? LR_F64 : LR_F32, &err)
                            : lr_dump_grads(w, m, adapter, ids, labels, T,
                                            f64 ? LR_F64 : LR_F32, &err))
                : lr_acts_alloc(&a, &m->config, 1, T,
                      all ? LR_ACTS_PER_LAYER | LR_ACTS_ATTN : 0, &err) ||
        lr_forward(m, &a, ids, pos, NULL, 1, T, &err) ||
        !(w = lr_st_writer_new(&err)) ||
        lr_dump_acts(w, &a, 0, T, all, f64 ? LR_F64 : LR_F32, &err)) ||
        lr_st_writer_meta(w, "generator", "llamaref dump", &err) ||
        lr_st_writer_meta(w, "compute_type", LR_FLOAT_NAME, &err) ||
        lr_st_writer_save(w, out, &err)) {
        fprintf(stderr, "llamaref dump: %s\n", err.msg);
        goto done;
    }
    rc = 0;
done:
    if (w) lr_st_writer_free(w);
    lr_acts_free(&a);
    lr_model_free(m);
    free(ids);
    free(labels);
    free(pos);
    return rc;
}
