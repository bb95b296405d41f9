/* cli_ids.c - parsing token-id lists ("1 2 3" or "1,2,3";
 * lr_tokens_parse_list, tokens.h) with the command line's messages. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_ids.h"
#include "llamaref/core/tokens.h"

int cli_ids(const char *opt, const char *val, int **ids, int *n)
{
    lr_tokens t = {0};
    lr_error err;
    size_t at, i;
    *ids = NULL;
    *n = 0;
    if (!val) {
        fprintf(stderr, "llamaref %s: option %s needs a value\n", cli_cmd, opt);
        return -1;
    }
    if (lr_tokens_parse_list(val, &t, &at, &err)) {
        if (at != (size_t)-1)
            fprintf(stderr, "llamaref %s: option %s: '%s' is not a list of "
                    "integers (at byte %d)\n", cli_cmd, opt, val, (int)at);
        else
            fprintf(stderr, "llamaref %s: option %s: %s\n", cli_cmd, opt, err.msg);
    } else if (!t.n) {
        fprintf(stderr, "llamaref %s: option %s: empty id list\n", cli_cmd, opt);
    } else if ((*ids = malloc(sizeof **ids * t.n)) != NULL) {
        for (i = 0; i < t.n; i++) (*ids)[i] = t.ids[i];
        *n = (int)t.n;
    }
    lr_tokens_free(&t);
    return *ids ? 0 : -1;
}
