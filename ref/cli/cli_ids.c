/* cli_ids.c - parsing token-id lists ("1 2 3" or "1,2,3"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_ids.h"

int cli_ids(const char *opt, const char *val, int **ids, int *n)
{
    const char *p = val;
    int cap = 16, count = 0;
    int *out;
    *ids = NULL;
    *n = 0;
    if (!val) {
        fprintf(stderr, "llamaref %s: option %s needs a value\n", cli_cmd, opt);
        return -1;
    }
    out = malloc(sizeof *out * (size_t)cap);
    if (!out) return -1;
    for (;;) {
        char *end;
        long v;
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        errno = 0;
        v = strtol(p, &end, 10);
        if (end == p || errno || v < -2147483647L - 1 || v > 2147483647L ||
            (*end && *end != ' ' && *end != ',' && *end != '\t' && *end != '\n')) {
            fprintf(stderr, "llamaref %s: option %s: '%s' is not a list of "
                    "integers (at byte %d)\n", cli_cmd, opt, val, (int)(p - val));
            free(out);
            return -1;
        }
        if (count == cap) {
            int *grown = realloc(out, sizeof *out * (size_t)cap * 2);
            if (!grown) { free(out); return -1; }
            out = grown;
            cap *= 2;
        }
        out[count++] = (int)v;
        p = end;
    }
    if (!count) {
        fprintf(stderr, "llamaref %s: option %s: empty id list\n", cli_cmd, opt);
        free(out);
        return -1;
    }
    *ids = out;
    *n = count;
    return 0;
}
