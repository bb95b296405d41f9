/* cmd_dump.c - `llamaref dump`: run the forward pass on given token ids and
 * write logits (and with --all every intermediate, docs/tensors.md) to a
 * safetensors file, for checking other backends against the reference
 * (lr_dump_file, dump_file.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_ids.h"
#include "llamaref/train/dump_file.h"

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

int cmd_dump(int argc, char **argv)
{
    const char *model_path = NULL, *ids_arg = NULL, *out = NULL;
    const char *adapter = NULL, *labels_arg = NULL; /* gradients: dump_grad.h */
    int *labels = NULL, nl = 0;
    int all = 0, f64 = 0, full = 0, *ids = NULL, T = 0, rc = 1;
    long pos0 = 0;
    lr_dump_options o;
    lr_error err;
    const cli_optdef opts[] = {
        CLI_OPT("--model", CLI_STR, &model_path),
        CLI_OPT("--ids", CLI_STR, &ids_arg),
        CLI_OPT("--out", CLI_STR, &out),
        CLI_OPT("--adapter", CLI_STR, &adapter),
        CLI_OPT("--labels", CLI_STR, &labels_arg),
        CLI_OPT("--all", CLI_FLAG, &all),
        CLI_OPT("--f64", CLI_FLAG, &f64),
        CLI_OPT("--full", CLI_FLAG, &full),
        CLI_NUM("--pos0", CLI_LONG, &pos0, 0, 1L << 30),
    };
    if ((rc = cli_parse("dump", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                        usage)) >= 0)
        return rc;
    rc = 1;
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
    o.model_path = model_path;
    o.adapter = adapter;
    o.ids = ids;
    o.labels = labels;
    o.T = T;
    o.pos0 = pos0;
    o.all = all;
    o.f64 = f64;
    o.full = full;
    if (lr_dump_file(&o, out, &err)) {
        fprintf(stderr, "llamaref dump: %s\n", err.msg);
        goto done;
    }
    rc = 0;
done:
    free(ids);
    free(labels);
    return rc;
}
