/* cmd_dump.c - `llamaref dump`: run the forward pass on given token ids and
 * write logits (and with --all every intermediate, docs/tensors.md) to a
 * safetensors file, for checking other backends against the reference
 * (lr_dump_file, dump_file.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "llamaref/train/dump_file.h"

static const char head[] =
"usage: llamaref dump -m, --model PATH --ids \"i0 i1 ...\" --out FILE.safetensors\n"
"                     [--all] [--pos0 P] [--f64] [--adapter DIR] [--labels L]\n"
"                     [--full]\n";

int cmd_dump(int argc, char **argv)
{
    const char *ids_arg = NULL, *out = NULL;
    const char *labels_arg = NULL; /* gradients: dump_grad.h */
    int *ids = NULL, *labels = NULL, T = 0, nl = 0, rc = 1;
    lr_dump_options o; /* the options go straight into it */
    lr_error err;
    const cli_optdef opts[] = { /* in --help's order */
        CLI_OPT("--model", CLI_STR, &o.model_path),
        CLI_H("--adapter", CLI_STR, &o.adapter,
              "--adapter DIR             PEFT LoRA adapter (adapter_config.json +\n"
              "                            adapter_model.safetensors): W + s B A\n"
              "                            (without --labels; the tensors below are the\n"
              "                            adapted model's)"),
        CLI_H("--ids", CLI_STR, &ids_arg,
              "--ids \"i0 i1 ...\"         the token ids of the sequence"),
        CLI_H("--out", CLI_STR, &out,
              "--out FILE.safetensors    the tensors (parent directories created first)"),
        CLI_H("--all", CLI_FLAG, &o.all,
              "--all                     every intermediate tensor (names in\n"
              "                            docs/tensors.md), else only logits [T, vocab]"),
        CLI_HN("--pos0", CLI_LONG, &o.pos0, 0, 1L << 30,
               "--pos0 P                  position of the first token (default 0)"),
        CLI_H("--f64", CLI_FLAG, &o.f64,
              "--f64                     write F64 instead of F32 (useful with a DOUBLE=1\n"
              "                            build)"),
        CLI_H("--labels", CLI_STR, &labels_arg,
              "--labels \"l0 l1 ...\"      HF labels (logits[t] vs labels[t+1], -100\n"
              "                            ignored): also writes loss [1]; with --adapter\n"
              "                            DIR (PEFT LoRA branch x W^T + s (x A^T) B^T,\n"
              "                            dropout off) grad.<adapter key> for every\n"
              "                            adapter tensor (--all and --pos0 do not apply)"),
        CLI_H("--full", CLI_FLAG, &o.full,
              "--full                    with --labels (no --adapter): the full-parameter\n"
              "                            backward, grad.<HF weight name> for every weight\n"
              "                            and the activation gradients (docs/tensors.md)"),
    };
    memset(&o, 0, sizeof o);
    if ((rc = cli_parse_doc("dump", argc, argv, 1, opts, sizeof opts / sizeof opts[0],
                            head, "")) >= 0)
        return rc;
    rc = 1;
    if (!o.model_path || !ids_arg || !out) {
        fprintf(stderr, "llamaref dump: --model, --ids and --out are required "
                "(see --help)\n");
        return 2;
    }
    if (o.full && (!labels_arg || o.adapter)) {
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
    o.ids = ids;
    o.labels = labels;
    o.T = T;
    if (lr_dump_file(&o, out, &err)) fprintf(stderr, "llamaref dump: %s\n", err.msg);
    else rc = 0;
    free(ids);
    free(labels);
    return rc;
}
