/* cmd_info.c - `llamaref info --model PATH`: configuration, parameter
 * count, storage dtype and the memory a run needs (lr_model_describe,
 * model.h). */
#include <stdio.h>

#include "cli.h"
#include "llamaref/model/model.h"

static const char head[] = "usage: llamaref info -m, --model PATH\n";
static const char foot[] =
"Prints the config, the parameter count and the memory it takes.\n";

int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    lr_load_options opt = {1, 1}; /* map and keep dtype: info must be cheap */
    lr_model *m;
    lr_error err;
    lr_buf b = {0};
    int rc;
    const cli_optdef opts[] = {
        CLI_OPT("--model", CLI_STR, &path),
    };
    if ((rc = cli_parse_doc("info", argc, argv, 1, opts, 1, head, foot)) >= 0)
        return rc;
    if (!path) {
        fprintf(stderr, "llamaref info: --model PATH is required\n");
        return 2;
    }
    if (lr_model_load(path, &opt, &m, &err)) {
        fprintf(stderr, "llamaref info: %s\n", err.msg);
        return 1;
    }
    rc = lr_model_describe(m, path, &b);
    if (rc) fprintf(stderr, "llamaref info: out of memory\n");
    else fwrite(b.data, 1, b.len, stdout);
    lr_buf_free(&b);
    lr_model_free(m);
    return rc ? 1 : 0;
}
